#include "util/text.h"

#include <stdio.h>

size_t nfm_utf8_seq_len(const unsigned char *p, size_t avail)
{
	if (avail == 0)
		return 0;
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* no overlongs */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* nothing past U+10FFFF */
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

size_t nfm_escape_line(const char *s, char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0, o = 0;
	while (u[n])
		n++;
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		char esc[5];
		const char *piece = esc;
		size_t len;
		unsigned c = u[i];
		size_t seq = c < 0x80 ? 1 : nfm_utf8_seq_len(u + i, n - i);
		if (c == '\n' || c == '\r' || c == '\t') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			len = 2;
			i++;
		} else if (c < 0x20 || c == 0x7f || seq == 0) {
			snprintf(esc, sizeof esc, "\\x%02x", c);
			len = 4;
			i++;
		} else {
			piece = (const char *)u + i;
			len = seq;
			i += seq;
		}
		if (len > cap - 1 - o)
			break;
		for (size_t k = 0; k < len; k++)
			out[o++] = piece[k];
	}
	out[o] = '\0';
	return o;
}
