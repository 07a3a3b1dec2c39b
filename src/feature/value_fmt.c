/* Text of typed values (feature/fields.h): what every text exporter writes for a cell.
 * nfm_value_put is the fast path for values that need no escaping, written in place
 * with the room guaranteed by the caller; nfm_value_format is the general form, bounded
 * and terminated like snprintf. */
#include "feature/fields.h"

#include <stdio.h>
#include <string.h>

#include "util/fmt.h"

/* A signed integer at d; returns the length (1-20). */
static size_t put_i64(char *d, int64_t i)
{
	if (i >= 0)
		return nfm_fmt_u64(d, (uint64_t)i);
	d[0] = '-';
	return 1 + nfm_fmt_u64(d + 1, (uint64_t)0 - (uint64_t)i);
}

/* A list as [a, b, c] at d (room for NFM_LIST_TEXT_MAX bytes); returns the length. */
static size_t put_list(char *d, const struct nfm_value_list *l)
{
	size_t n = 0, count = l->n < NFM_LIST_MAX ? l->n : NFM_LIST_MAX;
	d[n++] = '[';
	for (size_t k = 0; k < count; k++) {
		if (k) {
			d[n++] = ',';
			d[n++] = ' ';
		}
		n += put_i64(d + n, l->at(l->base, k));
	}
	d[n++] = ']';
	return n;
}

/* A double with precision decimals through printf, for what the exact path cannot do
 * (|f| * 10^precision >= 2^63); d has NFM_VALUE_ROOM bytes. */
__attribute__((noinline)) static size_t put_f64_slow(char *d, double f, int precision)
{
	char buf[NFM_VALUE_ROOM];
	int r = snprintf(buf, sizeof buf, "%.*f", precision, f);
	if (r <= 0)
		return 0;
	size_t n = (size_t)r < sizeof buf ? (size_t)r : sizeof buf - 1;
	/* "-0.000" (a tiny negative rounded to zero) prints as "0.000". */
	if (buf[0] == '-' && strspn(buf + 1, "0.") == n - 1) {
		memcpy(d, buf + 1, n - 1);
		return n - 1;
	}
	memcpy(d, buf, n);
	return n;
}

size_t nfm_f64_put(char *d, double f, int precision)
{
	if (!isfinite(f))
		f = 0.0;
	if (precision < 0)
		precision = 0;
	if (precision > 17)
		precision = 17;
	if (f == 0.0) { /* most rates and gaps of short flows; -0.0 prints as 0 too */
		memcpy(d, "0.00000000000000000", 19);
		return precision ? 2 + (size_t)precision : 1;
	}
	size_t n = nfm_fmt_fixed(d, f, precision);
	return n ? n : put_f64_slow(d, f, precision);
}

size_t nfm_value_put(const struct nfm_value *v, int precision, char *d)
{
	switch (v->type) {
	case NFM_V_U64:
		return nfm_fmt_u64(d, v->u);
	case NFM_V_I64:
		return put_i64(d, v->i);
	case NFM_V_F64:
		return nfm_f64_put(d, v->f, precision);
	case NFM_V_BOOL:
		if (v->b) {
			memcpy(d, "True", 4);
			return 4;
		}
		memcpy(d, "False", 5);
		return 5;
	case NFM_V_TIME:
		return nfm_fmt_time(d, v->u);
	case NFM_V_ADDR:
		return nfm_addr_put(d, v->l3, v->addr);
	case NFM_V_PROTO: {
		char pb[8];
		const char *name = nfm_proto_name(v->l3, (uint8_t)v->u, pb, sizeof pb);
		size_t n = strlen(name);
		memcpy(d, name, n);
		return n;
	}
	case NFM_V_TCPFLAGS:
		return nfm_tcp_flags_put(d, (unsigned)v->u);
	default: /* not plain: nothing */
		return 0;
	}
}

size_t nfm_value_format(const struct nfm_value *v, int precision, char *buf, size_t cap)
{
	if (!buf || cap == 0)
		return 0;
	switch (v->type) {
	case NFM_V_STR: {
		const char *s = v->s ? v->s : "";
		return nfm_fmt_store(buf, cap, s, strlen(s));
	}
	case NFM_V_LIST: {
		if (cap > NFM_LIST_TEXT_MAX) {
			size_t n = put_list(buf, &v->list);
			buf[n] = '\0';
			return n;
		}
		char t[NFM_LIST_TEXT_MAX]; /* truncated like snprintf */
		return nfm_fmt_store(buf, cap, t, put_list(t, &v->list));
	}
	case NFM_V_NULL:
		buf[0] = '\0';
		return 0;
	default:
		break;
	}
	if (cap > NFM_VALUE_ROOM) { /* in place */
		size_t n = nfm_value_put(v, precision, buf);
		buf[n] = '\0';
		return n;
	}
	char tmp[NFM_VALUE_ROOM]; /* truncated like snprintf */
	return nfm_fmt_store(buf, cap, tmp, nfm_value_put(v, precision, tmp));
}
