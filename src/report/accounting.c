/* The report's packet accounting as rows (report_int.h), walked from the table of
 * NFM_COUNTERS: a counter added there shows in every renderer. What the table does not
 * say, how the kinds of an array are named, is here. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"
#include "feature/fields.h"
#include "report/report_int.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Decode results that are places packets land in: the others land in other counters
 * (ok: flows, filtered, ...; non-IP: nonip[]). JSON keys of those places. */
static const char *landed_status_key(unsigned k)
{
	switch (k) {
	case NFM_DECODE_TRUNCATED: return "truncated";
	case NFM_DECODE_MALFORMED: return "malformed";
	case NFM_DECODE_UNSUPPORTED: return "unsupported_link";
	default: return NULL;
	}
}

/* Name of kind k of an array counter, never empty. */
static const char *kind_name(const struct nfm_counter_info *ci, unsigned k, char *buf,
			     size_t cap)
{
	const char *n = NULL, *fallback = "kind-%u";
	switch (ci->offset) {
	case offsetof(struct nfm_counters, nonip):
		n = nfm_nonip_name((enum nfm_nonip_kind)k);
		break;
	case offsetof(struct nfm_counters, decode_status):
		n = nfm_decode_status_name((enum nfm_decode_status)k);
		fallback = "status-%u";
		break;
	case offsetof(struct nfm_counters, flows_by_reason):
		return nfm_rep_reason_name(k, buf, cap);
	default:
		break;
	}
	if (n && *n)
		return n;
	snprintf(buf, cap, fallback, k);
	return buf;
}

uint64_t nfm_rep_accounted_sum(const struct nfm_counters *c)
{
	size_t n;
	const struct nfm_counter_info *info = nfm_counters_info(&n);
	uint64_t t = 0;
	for (size_t i = 0; i < n; i++) {
		const struct nfm_counter_info *ci = &info[i];
		if (ci->role != NFM_CR_LANDED && ci->role != NFM_CR_LANDED_STATUS)
			continue;
		const uint64_t *v = nfm_counter_values(c, ci);
		for (unsigned k = 0; k < ci->dim; k++)
			if (ci->role == NFM_CR_LANDED || landed_status_key(k))
				t = sat_add(t, v[k]);
	}
	return t;
}

struct rows {
	struct nfm_rep_row *r;
	size_t n;
	struct nfm_rep_row spare; /* written when r is full: never, NFM_REPORT_ROWS is above
				   * the most rows there can be */
};

static struct nfm_rep_row *add(struct rows *a, enum nfm_rep_row_kind kind, unsigned depth,
			       const char *label, const char *key, uint64_t value)
{
	struct nfm_rep_row *r = a->n < NFM_REPORT_ROWS ? &a->r[a->n++] : &a->spare;
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->depth = depth;
	r->label = label;
	r->key = key;
	r->value = value;
	return r;
}

/* A group of the kinds of a counter, named after it. */
static void group(struct rows *a, const struct nfm_counter_info *ci, const char *suffix)
{
	struct nfm_rep_row *g = add(a, NFM_ROW_GROUP, 0, NULL, NULL, 0);
	snprintf(g->buf, sizeof g->buf, "%s%s", ci->key, suffix);
	g->key = g->buf;
}

static void landed(struct rows *a, const struct nfm_counters *c, const struct nfm_counter_info *ci)
{
	const uint64_t *v = nfm_counter_values(c, ci);
	if (ci->role == NFM_CR_LANDED_STATUS) {
		for (unsigned k = 0; k < ci->dim; k++) {
			if (!landed_status_key(k))
				continue;
			struct nfm_rep_row *r = add(a, NFM_ROW_COUNT, 1, NULL, landed_status_key(k), v[k]);
			r->label = kind_name(ci, k, r->buf, sizeof r->buf);
		}
		return;
	}
	uint64_t total = 0;
	for (unsigned k = 0; k < ci->dim; k++)
		total = sat_add(total, v[k]);
	add(a, NFM_ROW_COUNT, 1, ci->label, ci->key, total)->bytes = ci->unit == NFM_CU_BYTES;
	if (ci->add != NFM_CA_SUMS)
		return;
	group(a, ci, "_by_kind");
	for (unsigned k = 0; k < ci->dim; k++) {
		if (!v[k])
			continue;
		struct nfm_rep_row *r = add(a, NFM_ROW_COUNT, 2, NULL, NULL, v[k]);
		r->label = r->key = kind_name(ci, k, r->buf, sizeof r->buf);
	}
	add(a, NFM_ROW_END, 0, NULL, NULL, 0);
}

/* A bounded by-kind list (the tunnel payloads not followed) of total, the row before. */
static void noted_kinds(struct rows *a, const struct nfm_counters *c,
			const struct nfm_counter_info *ci, uint64_t total)
{
	const struct nfm_opaque_count *list =
		(const void *)((const char *)c + ci->offset);
	uint64_t listed = 0;
	add(a, NFM_ROW_GROUP, 0, NULL, ci->key, 0);
	for (unsigned k = 0; k < ci->dim && list[k].kind; k++) {
		struct nfm_rep_row *r = add(a, NFM_ROW_COUNT, 1, NULL, NULL, list[k].packets);
		r->label = r->key = nfm_opaque_name(list[k].kind, r->buf, sizeof r->buf);
	}
	for (unsigned k = 0; k < ci->dim; k++)
		listed = sat_add(listed, list[k].packets);
	if (total > listed)
		add(a, NFM_ROW_COUNT, 1, "other kinds", "other", total - listed);
	add(a, NFM_ROW_END, 0, NULL, NULL, 0);
	if (total)
		add(a, NFM_ROW_NOTE, 0,
		    "(these packets are metered as their outer packet, and counted above)", NULL, 0);
}

static void sum(struct rows *a, const struct nfm_counters *c)
{
	uint64_t s = nfm_rep_accounted_sum(c);
	struct nfm_rep_row *r = add(a, NFM_ROW_SUM, 0, "accounted sum", "accounted_sum", s);
	r->ok = s == c->packets;
	if (c->packets >= s)
		snprintf(r->buf, sizeof r->buf, "%llu", (unsigned long long)(c->packets - s));
	else
		snprintf(r->buf, sizeof r->buf, "-%llu", (unsigned long long)(s - c->packets));
	add(a, NFM_ROW_BREAK, 0, NULL, NULL, 0);
}

size_t nfm_rep_accounting(const struct nfm_counters *c, struct nfm_rep_row *rows)
{
	struct rows a = { .r = rows, .n = 0 };
	size_t n;
	const struct nfm_counter_info *info = nfm_counters_info(&n);
	const struct nfm_counter_info *status = NULL;
	bool summed = false;
	uint64_t before = 0; /* value of the NOTED row before */
	for (size_t i = 0; i < n; i++) {
		const struct nfm_counter_info *ci = &info[i];
		const uint64_t *v = nfm_counter_values(c, ci);
		switch (ci->role) {
		case NFM_CR_READ:
			add(&a, NFM_ROW_COUNT, 0, ci->label, ci->key, v[0])->bytes =
				ci->unit == NFM_CU_BYTES;
			break;
		case NFM_CR_LANDED_STATUS:
			status = ci;
			/* fall through */
		case NFM_CR_LANDED:
			landed(&a, c, ci);
			break;
		case NFM_CR_NOTED:
			if (!summed)
				sum(&a, c);
			summed = true;
			if (ci->add == NFM_CA_KINDS) {
				noted_kinds(&a, c, ci, before);
				break;
			}
			before = v[0];
			add(&a, NFM_ROW_COUNT, 0, ci->label, ci->key, v[0]);
			break;
		default: /* FLOWS, SPAN: sections of their own */
			break;
		}
	}
	if (!summed)
		sum(&a, c);
	if (status) { /* every decode result, for machines */
		const uint64_t *v = nfm_counter_values(c, status);
		size_t from = a.n;
		group(&a, status, "");
		for (unsigned k = 0; k < status->dim; k++) {
			struct nfm_rep_row *r = add(&a, NFM_ROW_COUNT, 1, NULL, NULL, v[k]);
			r->label = r->key = kind_name(status, k, r->buf, sizeof r->buf);
		}
		add(&a, NFM_ROW_END, 0, NULL, NULL, 0);
		for (size_t i = from; i < a.n; i++)
			rows[i].detail = true;
	}
	return a.n;
}
