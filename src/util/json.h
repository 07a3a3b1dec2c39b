/* JSON text: the one string escaper (RFC 8259) used by the JSON exporter and the JSON
 * report, and a small pretty-printing writer for documents written to a stream. */
#ifndef NFM_UTIL_JSON_H
#define NFM_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"

/* What a byte that is not part of well-formed UTF-8 becomes. Either way the output is
 * valid UTF-8. */
enum nfm_json_bad_byte {
	NFM_JSON_BAD_LATIN1,  /* \u00XX: its Latin-1 code point, so the byte is recoverable */
	NFM_JSON_BAD_REPLACE, /* \ufffd, the replacement character */
};

/* Room nfm_json_escape needs for n bytes of text (every byte may become 6). */
#define NFM_JSON_ESCAPED_MAX(n) (6 * (n) + 2)

/* Length of the prefix of s (n bytes) that a JSON string holds as it is: printable
 * ASCII other than '"' and '\\', and well-formed UTF-8 sequences. */
static inline size_t nfm_json_plain_len(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		size_t len = c >= 0x80 ? nfm_utf8_seq_len(s + i, n - i) : 0;
		if (!len)
			break;
		i += len;
	}
	return i;
}

/* The escape of a byte where nfm_json_plain_len stopped, at e (room for 6); returns its
 * length: \" \\ \n \r \t \b \f, else \u00XX (other control characters, and bad bytes
 * with NFM_JSON_BAD_LATIN1) or \ufffd (bad bytes with NFM_JSON_BAD_REPLACE). */
static inline size_t nfm_json_escape_byte(char *e, unsigned char c, enum nfm_json_bad_byte bad)
{
	static const char hex[] = "0123456789abcdef";
	e[0] = '\\';
	switch (c) {
	case '"': e[1] = '"'; return 2;
	case '\\': e[1] = '\\'; return 2;
	case '\n': e[1] = 'n'; return 2;
	case '\r': e[1] = 'r'; return 2;
	case '\t': e[1] = 't'; return 2;
	case '\b': e[1] = 'b'; return 2;
	case '\f': e[1] = 'f'; return 2;
	default:
		break;
	}
	if (c >= 0x80 && bad == NFM_JSON_BAD_REPLACE) {
		memcpy(e + 1, "ufffd", 5);
		return 6;
	}
	e[1] = 'u';
	e[2] = '0';
	e[3] = '0';
	e[4] = hex[c >> 4];
	e[5] = hex[c & 15];
	return 6;
}

/* s (n bytes) as a JSON string, quotes included, at d, which has room for
 * NFM_JSON_ESCAPED_MAX(n) bytes; returns the length (no terminator). */
static inline size_t nfm_json_escape(char *d, const char *str, size_t n,
				     enum nfm_json_bad_byte bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0, i = 0;
	d[o++] = '"';
	while (i < n) {
		size_t run = nfm_json_plain_len(s + i, n - i);
		memcpy(d + o, s + i, run);
		o += run;
		i += run;
		if (i < n)
			o += nfm_json_escape_byte(d + o, s[i++], bad);
	}
	d[o++] = '"';
	return o;
}

/* The same written to fp, for text of any length (NULL writes ""). */
void nfm_json_put_string(FILE *fp, const char *s, enum nfm_json_bad_byte bad);

/* A JSON document written to a stream as it goes, indented by two spaces per level:
 * nfm_jw_open / nfm_jw_close bracket objects and arrays; every value takes its key
 * (NULL inside arrays). Strings go through the escaper above with bad bytes replaced. */
#define NFM_JW_MAX_DEPTH 16

struct nfm_jw {
	FILE *fp;
	int depth;
	bool first[NFM_JW_MAX_DEPTH];
};

void nfm_jw_init(struct nfm_jw *w, FILE *fp);
void nfm_jw_open(struct nfm_jw *w, const char *key, char bracket);  /* '{' or '[' */
void nfm_jw_close(struct nfm_jw *w, char bracket);                  /* '}' or ']' */
void nfm_jw_u64(struct nfm_jw *w, const char *key, uint64_t v);
/* prec decimals; null when v is inf or NaN */
void nfm_jw_f64(struct nfm_jw *w, const char *key, double v, int prec);
void nfm_jw_str(struct nfm_jw *w, const char *key, const char *s);
void nfm_jw_bool(struct nfm_jw *w, const char *key, bool b);
void nfm_jw_null(struct nfm_jw *w, const char *key);
/* text written as it is: the caller makes sure it is a JSON value */
void nfm_jw_raw(struct nfm_jw *w, const char *key, const char *text);

#endif
