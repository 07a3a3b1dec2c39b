/* The values of options: one parser per kind (the syntax is in --help, the man page and
 * README). */
#include "cli/values.h"

#include <stdio.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* N: decimal digits only, from lo to hi. */
int nfm_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!is_digit(*s))
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* SECONDS: digits with an optional fraction ("60", "0.25"), from lo to hi seconds,
 * converted exactly to nanoseconds rounded to the nearest (half up). A value that is not
 * zero but rounds to 0 ns is refused rather than taken as 0 (which means off). */
int nfm_parse_seconds(const char *s, uint64_t lo, uint64_t hi, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0;
	unsigned frac_digits = 0, round_up = 0;
	int nonzero = 0, over = 0;
	if (!is_digit(*s))
		return NFM_SECONDS_BAD;
	for (; is_digit(*s); s++) {
		nonzero |= *s != '0';
		if (whole > hi)
			over = 1;
		else
			whole = whole * 10 + (unsigned)(*s - '0');
	}
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return NFM_SECONDS_BAD;
		for (; is_digit(*s); s++) {
			nonzero |= *s != '0';
			if (frac_digits < 9)
				frac = frac * 10 + (unsigned)(*s - '0');
			else if (frac_digits == 9)
				round_up = *s >= '5';
			if (frac_digits < 10)
				frac_digits++;
		}
	}
	if (*s)
		return NFM_SECONDS_BAD;
	for (unsigned i = frac_digits; i < 9; i++)
		frac *= 10;
	if (over || whole > hi)
		return NFM_SECONDS_BAD;
	uint64_t v = whole * 1000000000u + frac + round_up;
	if (v > hi * 1000000000u || v < lo * 1000000000u)
		return NFM_SECONDS_BAD;
	if (v == 0 && nonzero)
		return NFM_SECONDS_BELOW_NS;
	*ns = v;
	return NFM_SECONDS_OK;
}

/* val as it can be shown on one line: control bytes as \xNN, at most ~120 bytes. */
const char *nfm_printable(const char *val, char *buf, size_t size)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)val; *p && n + 8 < size; p++) {
		if (n > 120) {
			n += (size_t)snprintf(buf + n, size - n, "...");
			break;
		}
		if (*p < 0x20 || *p == 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", *p);
		else
			buf[n++] = (char)*p;
	}
	buf[n] = '\0';
	return buf;
}
