/* The stream side of util/json.h: strings of any length, and the document writer. */
#include "util/json.h"

#include <math.h>

void nfm_json_put_string(FILE *fp, const char *str, enum nfm_json_bad_byte bad)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0;
	putc('"', fp);
	while (i < n) {
		size_t run = nfm_json_plain_len(s + i, n - i);
		fwrite(s + i, 1, run, fp);
		i += run;
		if (i < n) {
			char e[6];
			fwrite(e, 1, nfm_json_escape_byte(e, s[i++], bad), fp);
		}
	}
	putc('"', fp);
}

void nfm_jw_init(struct nfm_jw *w, FILE *fp)
{
	memset(w, 0, sizeof *w);
	w->fp = fp;
}

static void jw_indent(struct nfm_jw *w)
{
	fputc('\n', w->fp);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->fp);
}

/* Separator, indentation and key (NULL inside arrays). */
static void jw_key(struct nfm_jw *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first[w->depth])
			fputc(',', w->fp);
		w->first[w->depth] = false;
		jw_indent(w);
	}
	if (key) {
		nfm_json_put_string(w->fp, key, NFM_JSON_BAD_REPLACE);
		fputs(": ", w->fp);
	}
}

void nfm_jw_open(struct nfm_jw *w, const char *key, char bracket)
{
	jw_key(w, key);
	fputc(bracket, w->fp);
	if (w->depth + 1 < NFM_JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

void nfm_jw_close(struct nfm_jw *w, char bracket)
{
	bool empty = w->first[w->depth];
	if (w->depth > 0)
		w->depth--;
	if (!empty)
		jw_indent(w);
	fputc(bracket, w->fp);
}

void nfm_jw_u64(struct nfm_jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->fp, "%llu", (unsigned long long)v);
}

void nfm_jw_f64(struct nfm_jw *w, const char *key, double v, int prec)
{
	jw_key(w, key);
	if (isfinite(v))
		fprintf(w->fp, "%.*f", prec, v);
	else
		fputs("null", w->fp);
}

void nfm_jw_str(struct nfm_jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	nfm_json_put_string(w->fp, s, NFM_JSON_BAD_REPLACE);
}

void nfm_jw_bool(struct nfm_jw *w, const char *key, bool b)
{
	jw_key(w, key);
	fputs(b ? "true" : "false", w->fp);
}

void nfm_jw_null(struct nfm_jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->fp);
}

void nfm_jw_raw(struct nfm_jw *w, const char *key, const char *text)
{
	jw_key(w, key);
	fputs(text, w->fp);
}
