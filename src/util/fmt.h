/* Text of numbers, times and addresses without printf, for the output hot path (every
 * CSV cell goes through here): decimal integers, fixed-point doubles exactly as printf
 * writes them, ISO 8601 UTC times, IPv4 and IPv6 (RFC 5952) addresses. Every writer
 * puts its text at d without a terminator and returns its length; the callers say how
 * much room d has. They are static inline so that moving them here costs no call. */
#ifndef NFM_UTIL_FMT_H
#define NFM_UTIL_FMT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* "00" "01" ... "99": two decimal digits per entry. */
extern const char nfm_digit_pairs[201];

/* Writes u in decimal so that it ends just before end; returns where it starts. */
static inline char *nfm_fmt_u64_rev(uint64_t u, char *end)
{
	char *p = end;
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		p -= 2;
		memcpy(p, nfm_digit_pairs + 2 * r, 2);
	}
	if (u >= 10) {
		p -= 2;
		memcpy(p, nfm_digit_pairs + 2 * u, 2);
	} else {
		*--p = (char)('0' + u);
	}
	return p;
}

/* Number of decimal digits of u (1-20). */
static inline size_t nfm_fmt_digits10(uint64_t u)
{
	size_t n = 1;
	for (;;) {
		if (u < 10)
			return n;
		if (u < 100)
			return n + 1;
		if (u < 1000)
			return n + 2;
		if (u < 10000)
			return n + 3;
		u /= 10000;
		n += 4;
	}
}

/* Writes u in decimal at d (no terminator); returns the length (1-20). */
static inline size_t nfm_fmt_u64(char *d, uint64_t u)
{
	if (u < 10) { /* most counters of short flows */
		d[0] = (char)('0' + u);
		return 1;
	}
	if (u < 100) {
		memcpy(d, nfm_digit_pairs + 2 * u, 2);
		return 2;
	}
	size_t n = nfm_fmt_digits10(u);
	nfm_fmt_u64_rev(u, d + n);
	return n;
}

/* Two decimal digits of v (0-99). */
static inline void nfm_fmt_2(char *d, unsigned v)
{
	memcpy(d, nfm_digit_pairs + 2 * v, 2);
}

/* Copies n bytes of src to buf like snprintf would (truncated to cap - 1, terminated);
 * returns the length stored. cap > 0. */
static inline size_t nfm_fmt_store(char *buf, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, src, n);
	buf[n] = '\0';
	return n;
}

/* Each octet's decimal text, left-aligned in 3 bytes, and its length in the 4th. */
extern const char nfm_octet_text[256][4];

/* IPv4 dotted quad at d; returns the length (7-15). Each octet is copied as 3 bytes
 * from the table and the next write starts after its significant ones, so d needs 2
 * bytes of room past the address. */
static inline size_t nfm_fmt_ipv4(char *d, const uint8_t a[4])
{
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		const char *t = nfm_octet_text[a[i]];
		if (i)
			d[n++] = '.';
		memcpy(d + n, t, 3);
		n += (size_t)t[3];
	}
	return n;
}

/* IPv6 text at d exactly as glibc's inet_ntop writes it (RFC 5952: lower-case hex, no
 * leading zeros, the first longest run of two or more zero groups as "::"; ::a.b.c.d and
 * ::ffff:a.b.c.d for IPv4-compatible and IPv4-mapped addresses). Returns the length
 * (at most 45). */
static inline size_t nfm_fmt_ipv6(char *d, const uint8_t a[16])
{
	static const char hexd[] = "0123456789abcdef";
	unsigned w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	for (int i = 0; i < 8; i++) {
		if (w[i] == 0) {
			if (cur < 0) {
				cur = i;
				cur_len = 1;
			} else {
				cur_len++;
			}
		} else if (cur >= 0) {
			if (best < 0 || cur_len > best_len) {
				best = cur;
				best_len = cur_len;
			}
			cur = -1;
		}
	}
	if (cur >= 0 && (best < 0 || cur_len > best_len)) {
		best = cur;
		best_len = cur_len;
	}
	if (best >= 0 && best_len < 2)
		best = -1;
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				d[n++] = ':';
			continue;
		}
		if (i)
			d[n++] = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return n + nfm_fmt_ipv4(d + n, a + 12);
		unsigned x = w[i];
		if (x >= 0x1000)
			d[n++] = hexd[x >> 12];
		if (x >= 0x100)
			d[n++] = hexd[(x >> 8) & 15];
		if (x >= 0x10)
			d[n++] = hexd[(x >> 4) & 15];
		d[n++] = hexd[x & 15];
	}
	if (best >= 0 && best + best_len == 8)
		d[n++] = ':';
	return n;
}

/* ISO 8601 UTC with microseconds (nanoseconds truncated) at d: always 27 bytes, since
 * a uint64_t of nanoseconds ends in the year 2554. Days to civil date after
 * H. Hinnant's civil_from_days (proleptic Gregorian). */
#define NFM_FMT_TIME_LEN 27
static inline size_t nfm_fmt_time(char *d, uint64_t ns)
{
	uint64_t secs = ns / 1000000000u;
	unsigned usec = (unsigned)(ns % 1000000000u / 1000u);
	uint64_t days = secs / 86400u;
	unsigned sod = (unsigned)(secs % 86400u);
	uint64_t z = days + 719468u;            /* days since 0000-03-01 */
	uint64_t era = z / 146097u;
	unsigned doe = (unsigned)(z - era * 146097u);                          /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	unsigned day = doy - (153 * mp + 2) / 5 + 1;
	unsigned mon = mp < 10 ? mp + 3 : mp - 9;
	unsigned year = (unsigned)(era * 400u) + yoe + (mon <= 2);
	nfm_fmt_2(d, year / 100);
	nfm_fmt_2(d + 2, year % 100);
	d[4] = '-';
	nfm_fmt_2(d + 5, mon);
	d[7] = '-';
	nfm_fmt_2(d + 8, day);
	d[10] = 'T';
	nfm_fmt_2(d + 11, sod / 3600);
	d[13] = ':';
	nfm_fmt_2(d + 14, sod / 60 % 60);
	d[16] = ':';
	nfm_fmt_2(d + 17, sod % 60);
	d[19] = '.';
	nfm_fmt_2(d + 20, usec / 10000);
	nfm_fmt_2(d + 22, usec / 100 % 100);
	nfm_fmt_2(d + 24, usec % 100);
	d[26] = 'Z';
	return NFM_FMT_TIME_LEN;
}

/* Decimals the exact path handles; more go through snprintf. */
#define NFM_FMT_FIXED_MAX_PREC 9

/* *out = |x| * 10^prec rounded to an integer exactly as glibc's printf("%.*f") rounds in
 * the default rounding mode: from the exact binary value, to nearest, exact ties to even.
 * x = m * 2^e is multiplied out in 128-bit integer arithmetic (two 64-bit halves), so
 * there is no double rounding. Returns false (the caller falls back to snprintf) when
 * the result could reach 2^63. ax >= 0, finite; prec in [0, NFM_FMT_FIXED_MAX_PREC]. */
static inline bool nfm_fmt_scaled_round(double ax, int prec, uint64_t *out)
{
	static const uint64_t pow10[NFM_FMT_FIXED_MAX_PREC + 1] = {
		1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
		1000000000u,
	};
	/* ax < lim[p] guarantees ax * 10^p < 2^63 (9.2e18 < 2^63 = 9.223...e18). */
	static const double lim[NFM_FMT_FIXED_MAX_PREC + 1] = {
		9.2e18, 9.2e17, 9.2e16, 9.2e15, 9.2e14, 9.2e13, 9.2e12, 9.2e11, 9.2e10, 9.2e9,
	};
	if (!(ax < lim[prec]))
		return false;
	uint64_t bits;
	memcpy(&bits, &ax, sizeof bits);
	unsigned bexp = (unsigned)(bits >> 52) & 0x7ffu;
	uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
	int e;
	if (bexp == 0) {
		e = -1074; /* subnormal (or zero) */
	} else {
		m |= UINT64_C(1) << 52;
		e = (int)bexp - 1075;
	}
	uint64_t p10 = pow10[prec];
	if (m == 0) {
		*out = 0;
		return true;
	}
	if (e >= 0) { /* an integer: ax * 10^p < 2^63 */
		*out = (m << e) * p10;
		return true;
	}
	/* prod = m * 10^p < 2^53 * 2^30 = 2^83, as hi:lo. */
	uint64_t lo = (m & 0xffffffffu) * p10; /* < 2^62 */
	uint64_t mid = (m >> 32) * p10;        /* < 2^51 */
	uint64_t plo = lo + (mid << 32);
	uint64_t phi = (mid >> 32) + (plo < lo);
	unsigned k = (unsigned)-e; /* ax * 10^p = prod / 2^k */
	uint64_t q;
	int cmp; /* remainder against half: <0 below, 0 tie, >0 above */
	if (k >= 84) {
		/* prod < 2^83 <= 2^(k-1): below one half */
		q = 0;
		cmp = -1;
	} else if (k < 64) {
		q = (plo >> k) | (phi << (64 - k)); /* k >= 1 */
		uint64_t rem = plo & ((UINT64_C(1) << k) - 1);
		uint64_t half = UINT64_C(1) << (k - 1);
		cmp = rem < half ? -1 : rem > half;
	} else if (k == 64) {
		q = phi;
		uint64_t half = UINT64_C(1) << 63;
		cmp = plo < half ? -1 : plo > half;
	} else { /* 65..83 */
		unsigned s = k - 64;
		q = phi >> s;
		uint64_t rhi = phi & ((UINT64_C(1) << s) - 1);
		uint64_t hhi = UINT64_C(1) << (s - 1); /* half = hhi:0 */
		cmp = rhi < hhi ? -1 : rhi > hhi ? 1 : plo != 0;
	}
	if (cmp > 0 || (cmp == 0 && (q & 1)))
		q++;
	*out = q;
	return true;
}

/* q / 10^prec and q % 10^prec with constant divisors (prec in [1, NFM_FMT_FIXED_MAX_PREC]). */
static inline uint64_t nfm_fmt_split_pow10(uint64_t q, int prec, uint64_t *frac)
{
	/* One case per divisor so that each becomes a multiplication. */
	switch (prec) {
	case 1: *frac = q % 10u; return q / 10u;
	case 2: *frac = q % 100u; return q / 100u;
	case 3: *frac = q % 1000u; return q / 1000u;
	case 4: *frac = q % 10000u; return q / 10000u;
	case 5: *frac = q % 100000u; return q / 100000u;
	case 6: *frac = q % 1000000u; return q / 1000000u;
	case 7: *frac = q % 10000000u; return q / 10000000u;
	case 8: *frac = q % 100000000u; return q / 100000000u;
	default: *frac = q % 1000000000u; return q / 1000000000u;
	}
}

/* x with prec decimals at d (room for 32 bytes), the same text as snprintf "%.*f"
 * except that a result that is all zeros has no minus sign. Returns the length, or 0
 * when x is out of the exact path's range (the caller uses snprintf). */
static inline size_t nfm_fmt_fixed(char *d, double x, int prec)
{
	if (prec > NFM_FMT_FIXED_MAX_PREC)
		return 0;
	bool neg = signbit(x);
	uint64_t q;
	if (!nfm_fmt_scaled_round(neg ? -x : x, prec, &q))
		return 0;
	size_t n = 0;
	if (neg && q != 0)
		d[n++] = '-';
	if (prec == 0)
		return n + nfm_fmt_u64(d + n, q);
	uint64_t frac;
	uint64_t ip = nfm_fmt_split_pow10(q, prec, &frac);
	n += nfm_fmt_u64(d + n, ip);
	d[n++] = '.';
	char *p = d + n + (size_t)prec; /* frac: exactly prec digits, zero padded */
	int left = prec;
	for (; left >= 2; left -= 2) {
		p -= 2;
		nfm_fmt_2(p, (unsigned)(frac % 100));
		frac /= 100;
	}
	if (left)
		*--p = (char)('0' + frac);
	return n + (size_t)prec;
}

/* The time as a terminated string (buf: room for NFM_FMT_TIME_LEN + 1 bytes). */
static inline void nfm_fmt_time_str(char *buf, uint64_t ns)
{
	buf[nfm_fmt_time(buf, ns)] = '\0';
}

#endif
