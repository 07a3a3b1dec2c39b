/* The analysis report's aggregation. Everything is accumulated into fixed-size state
 * allocated once in nfm_report_new; the only growth is the list of inputs (one entry per
 * capture read).
 *
 * Definitions used below (also stated in the report itself where they matter):
 *  - Packet accounting sums the counters of every input; "difference" is
 *    packets read - accounted sum (negative when packets were counted twice).
 *  - Peak active flows over several inputs is the largest peak of any input (inputs are
 *    metered one after the other).
 *  - Top talkers rank addresses by bytes *sent*: a flow's forward bytes are credited to its
 *    source address, its backward bytes to its destination address. ARP addresses count
 *    as IPv4 addresses. The ranking uses a weighted Space-Saving summary of
 *    NFM_REPORT_TALKERS entries: exact while the distinct sending addresses fit; after
 *    that a count may overestimate by at most the entry's "max error".
 *  - Top flows rank by total bytes (both directions); equal totals keep the earlier flow.
 *  - Distributions use log2 buckets (only non-empty buckets are listed): bucket 0 holds the value 0 (rate: below 1 B/s),
 *    bucket k >= 1 holds [2^(k-1), 2^k). Percentiles are interpolated inside the bucket and
 *    clamped to the observed min/max, so they are approximate. Flow rate is total bytes
 *    divided by duration; flows of duration 0 (a single packet, or equal timestamps) have
 *    no rate and are only counted as skipped. No value printed is ever inf or NaN.
 *
 * The renderers (report_text.c, report_json.c) read this state through the views of
 * report_int.h; the packet accounting is walked from NFM_COUNTERS in accounting.c, and
 * the Space-Saving summary is talkers.c.
 */
#include "report/report.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "feature/fields.h"
#include "report/report_int.h"
#include "report/talkers.h"
#include "util/outset.h"

#define NFM_PROTO_SLOTS NFM_REPORT_PROTOS
#define NFM_PROTO_ARP_SLOT 256u

struct input {
	char *name, *format, *status;
	struct nfm_counters c;
	struct nfm_source_stats s;
};

struct top_flow {
	uint8_t l3, ip_proto, has_vlan, end_reason, conn_state;
	uint16_t vlan_id, src_port, dst_port;
	uint8_t src[16], dst[16];
	uint64_t packets, bytes, first_ns, last_ns;
	uint64_t ord;         /* order of arrival in the report: earlier wins ties */
};

struct hist {
	uint64_t bucket[NFM_HIST_BUCKETS];
	uint64_t n;
	double sum, min, max;
};

enum { H_DURATION, H_SIZE, H_PACKETS, H_RATE, H_COUNT };

struct proto_stat {
	uint64_t flows, packets, bytes;
	uint8_t l3;           /* l3 of the first flow seen, for nfm_proto_name */
};

struct nfm_report {
	struct input *inputs;
	size_t n_inputs, cap_inputs;
	uint64_t inputs_dropped;      /* inputs not listed because memory ran out */
	struct nfm_counters total;
	struct nfm_source_stats stotal;

	uint64_t flows;               /* flows passed to nfm_report_add_flow */
	struct proto_stat proto[NFM_PROTO_SLOTS];
	uint64_t tcp_state[NFM_CONN_STATE_COUNT + 1]; /* last slot: out-of-range values */

	struct nfm_talkers talkers;

	/* Min-heap of the NFM_REPORT_TOP largest flows. */
	struct top_flow top[NFM_REPORT_TOP];
	size_t n_top;

	struct hist hist[H_COUNT];
	uint64_t rate_skipped;        /* flows of duration 0 */

	double elapsed;               /* < 0: not set */
	struct nfm_report_memory memory;
	bool have_memory;
	struct nfm_rep_output outputs[NFM_REPORT_OUTPUTS];
	size_t n_outputs;
};

/* ---------------------------------------------------------------- small helpers */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static double fin(double v)
{
	return isfinite(v) ? v : 0.0;
}

static void stats_add(struct nfm_source_stats *t, const struct nfm_source_stats *s)
{
	t->records = sat_add(t->records, s->records);
	t->caplen_fixed = sat_add(t->caplen_fixed, s->caplen_fixed);
	t->ts_fixed = sat_add(t->ts_fixed, s->ts_fixed);
	t->blocks_skipped = sat_add(t->blocks_skipped, s->blocks_skipped);
	t->bad_interface = sat_add(t->bad_interface, s->bad_interface);
}

uint64_t nfm_rep_span_ns(const struct nfm_counters *c)
{
	return (c->first_ts_ns && c->last_ts_ns > c->first_ts_ns) ? c->last_ts_ns - c->first_ts_ns
								   : 0;
}

const char *nfm_rep_reason_name(unsigned r, char *buf, size_t cap)
{
	const char *n = nfm_end_reason_name(r);
	if (n && *n)
		return n;
	snprintf(buf, cap, "reason-%u", r);
	return buf;
}

const char *nfm_rep_state_name(unsigned s, char *buf, size_t cap)
{
	const char *n = s < NFM_CONN_STATE_COUNT ? nfm_conn_state_name(s) : NULL;
	if (n && *n)
		return n;
	snprintf(buf, cap, s == NFM_CONN_NONE ? "none" : "state-%u", s);
	return buf;
}

static const char *proto_slot_name(const struct nfm_report *rep, unsigned slot, char *buf,
				   size_t cap)
{
	const char *n = slot == NFM_PROTO_ARP_SLOT
				? nfm_proto_name(NFM_L3_ARP, 0, buf, cap)
				: nfm_proto_name(rep->proto[slot].l3, (uint8_t)slot, buf, cap);
	if (n && *n)
		return n;
	snprintf(buf, cap, "%u", slot == NFM_PROTO_ARP_SLOT ? 0u : slot);
	return buf;
}

static void addr_text(uint8_t l3, const uint8_t addr[16], char out[NFM_REPORT_ADDR_LEN])
{
	const char *a = nfm_addr_format(l3, addr, out, NFM_REPORT_ADDR_LEN);
	if (!a)
		memcpy(out, "?", 2);
}

/* ---------------------------------------------------------------- lifecycle, inputs */

struct nfm_report *nfm_report_new(void)
{
	struct nfm_report *rep = calloc(1, sizeof *rep);
	if (!rep)
		return NULL;
	rep->elapsed = -1.0;
	return rep;
}

void nfm_report_free(struct nfm_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n_inputs; i++) {
		free(rep->inputs[i].name);
		free(rep->inputs[i].format);
		free(rep->inputs[i].status);
	}
	free(rep->inputs);
	free(rep);
}

void nfm_report_add_input(struct nfm_report *rep, const char *name, const char *format,
			  const struct nfm_counters *c, const struct nfm_source_stats *s,
			  const char *status_msg)
{
	static const struct nfm_counters zc;
	static const struct nfm_source_stats zs;
	if (!rep)
		return;
	if (!c)
		c = &zc;
	if (!s)
		s = &zs;
	/* The totals never depend on memory: the accounting stays right even if the
	 * per-input entry cannot be stored. */
	nfm_counters_add_input(&rep->total, c);
	stats_add(&rep->stotal, s);

	if (rep->n_inputs == rep->cap_inputs) {
		size_t ncap = rep->cap_inputs ? rep->cap_inputs * 2 : 4;
		struct input *ni = realloc(rep->inputs, ncap * sizeof *ni);
		if (!ni) {
			rep->inputs_dropped++;
			return;
		}
		rep->inputs = ni;
		rep->cap_inputs = ncap;
	}
	struct input *in = &rep->inputs[rep->n_inputs];
	in->name = strdup(name ? name : "");
	in->format = strdup(format ? format : "");
	in->status = strdup(status_msg ? status_msg : "");
	if (!in->name || !in->format || !in->status) {
		free(in->name);
		free(in->format);
		free(in->status);
		rep->inputs_dropped++;
		return;
	}
	in->c = *c;
	in->s = *s;
	rep->n_inputs++;
}

void nfm_report_set_elapsed(struct nfm_report *rep, double seconds)
{
	if (rep)
		rep->elapsed = (isfinite(seconds) && seconds >= 0) ? seconds : -1.0;
}

void nfm_report_set_memory(struct nfm_report *rep, const struct nfm_report_memory *m)
{
	if (!rep || !m)
		return;
	rep->memory = *m;
	rep->memory.profile[sizeof rep->memory.profile - 1] = '\0';
	rep->have_memory = true;
}

void nfm_report_add_output(struct nfm_report *rep, const char *format, const char *dest,
			   uint64_t records, uint64_t messages, uint64_t bytes,
			   uint64_t templates, uint64_t dropped, uint64_t slices)
{
	if (!rep || rep->n_outputs == NFM_REPORT_OUTPUTS)
		return;
	struct nfm_rep_output *o = &rep->outputs[rep->n_outputs++];
	snprintf(o->format, sizeof o->format, "%s", format ? format : "");
	snprintf(o->dest, sizeof o->dest, "%s", dest ? dest : "");
	o->records = records;
	o->messages = messages;
	o->bytes = bytes;
	o->templates = templates;
	o->dropped = dropped;
	o->slices = slices;
}

size_t nfm_rep_n_outputs(const struct nfm_report *rep)
{
	return rep->n_outputs;
}

const struct nfm_rep_output *nfm_rep_output(const struct nfm_report *rep, size_t i)
{
	return i < rep->n_outputs ? &rep->outputs[i] : NULL;
}

/* ---------------------------------------------------------------- top flows */

/* "a ranks below b": fewer bytes, or equal bytes and arrived later. */
static bool flow_below(const struct top_flow *a, const struct top_flow *b)
{
	if (a->bytes != b->bytes)
		return a->bytes < b->bytes;
	return a->ord > b->ord;
}

static void top_sift_down(struct top_flow *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && flow_below(&h[l], &h[m]))
			m = l;
		if (r < n && flow_below(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		struct top_flow t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void top_add(struct nfm_report *rep, const struct top_flow *f)
{
	struct top_flow *h = rep->top;
	if (rep->n_top < NFM_REPORT_TOP) {
		size_t i = rep->n_top++;
		h[i] = *f;
		while (i > 0) {
			size_t p = (i - 1) / 2;
			if (!flow_below(&h[i], &h[p]))
				break;
			struct top_flow t = h[i];
			h[i] = h[p];
			h[p] = t;
			i = p;
		}
		return;
	}
	if (!flow_below(&h[0], f))
		return;
	h[0] = *f;
	top_sift_down(h, rep->n_top, 0);
}

/* The kept flows, best first. */
static size_t top_sorted(const struct nfm_report *rep, struct top_flow out[NFM_REPORT_TOP])
{
	size_t n = rep->n_top;
	memcpy(out, rep->top, n * sizeof *out);
	for (size_t i = 1; i < n; i++) {
		struct top_flow t = out[i];
		size_t j = i;
		while (j > 0 && flow_below(&out[j - 1], &t)) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = t;
	}
	return n;
}

/* ---------------------------------------------------------------- histograms */

static unsigned bucket_of(uint64_t v)
{
	unsigned k = 0;
	while (v) {
		v >>= 1;
		k++;
	}
	return k; /* 0 for 0; k such that 2^(k-1) <= v < 2^k */
}

static double bucket_lo(unsigned k)
{
	return k == 0 ? 0.0 : ldexp(1.0, (int)k - 1);
}

static double bucket_hi(unsigned k)
{
	return ldexp(1.0, (int)k);
}

static void hist_add(struct hist *h, double v, uint64_t iv)
{
	v = fin(v);
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (h->n == 0 || v > h->max)
		h->max = v;
	h->n++;
	h->sum += v;
	h->bucket[bucket_of(iv)]++;
}

static double hist_mean(const struct hist *h)
{
	return h->n ? fin(h->sum / (double)h->n) : 0.0;
}

/* Approximate p-quantile (0 < p <= 1) from the buckets. */
static double hist_pct(const struct hist *h, double p)
{
	if (h->n == 0)
		return 0.0;
	double rank = ceil(p * (double)h->n);
	if (rank < 1)
		rank = 1;
	double cum = 0;
	for (unsigned k = 0; k < NFM_HIST_BUCKETS; k++) {
		double c = (double)h->bucket[k];
		if (c == 0)
			continue;
		if (cum + c >= rank) {
			double lo = bucket_lo(k), hi = bucket_hi(k);
			double v = lo + (hi - lo) * ((rank - cum) / c);
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return fin(v);
		}
		cum += c;
	}
	return fin(h->max);
}

/* ---------------------------------------------------------------- flows */

void nfm_report_add_flow(struct nfm_report *rep, const struct nfm_flow_record *rec)
{
	if (!rep || !rec)
		return;
	rep->flows++;
	uint64_t pkts = sat_add(rec->pkts[0], rec->pkts[1]);
	uint64_t bytes = sat_add(rec->bytes[0], rec->bytes[1]);
	uint64_t dur = rec->last_ns > rec->first_ns ? rec->last_ns - rec->first_ns : 0;

	unsigned ps = rec->l3 == NFM_L3_ARP ? NFM_PROTO_ARP_SLOT : rec->ip_proto;
	struct proto_stat *p = &rep->proto[ps];
	if (p->flows == 0)
		p->l3 = rec->l3;
	p->flows++;
	p->packets = sat_add(p->packets, pkts);
	p->bytes = sat_add(p->bytes, bytes);

	if (rec->l3 != NFM_L3_ARP && rec->ip_proto == NFM_IPPROTO_TCP) {
		unsigned st = rec->conn_state < NFM_CONN_STATE_COUNT ? rec->conn_state
								     : NFM_CONN_STATE_COUNT;
		rep->tcp_state[st]++;
	}

	nfm_talkers_add(&rep->talkers, rec->l3, rec->src, rec->bytes[NFM_FWD]);
	nfm_talkers_add(&rep->talkers, rec->l3, rec->dst, rec->bytes[NFM_BWD]);

	struct top_flow f;
	memset(&f, 0, sizeof f);
	f.l3 = rec->l3;
	f.ip_proto = rec->ip_proto;
	f.has_vlan = rec->has_vlan;
	f.vlan_id = rec->vlan_id;
	f.end_reason = rec->end_reason;
	f.conn_state = rec->conn_state;
	f.src_port = rec->src_port;
	f.dst_port = rec->dst_port;
	memcpy(f.src, rec->src, 16);
	memcpy(f.dst, rec->dst, 16);
	f.packets = pkts;
	f.bytes = bytes;
	f.first_ns = rec->first_ns;
	f.last_ns = rec->last_ns;
	f.ord = rep->flows;
	top_add(rep, &f);

	hist_add(&rep->hist[H_DURATION], (double)dur, dur);
	hist_add(&rep->hist[H_SIZE], (double)bytes, bytes);
	hist_add(&rep->hist[H_PACKETS], (double)pkts, pkts);
	if (dur > 0) {
		double rate = (double)bytes / ((double)dur / 1e9);
		uint64_t irate = rate >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)rate;
		hist_add(&rep->hist[H_RATE], rate, irate);
	} else {
		rep->rate_skipped++;
	}
}

/* ---------------------------------------------------------------- views for the renderers */

const struct nfm_counters *nfm_rep_total(const struct nfm_report *rep)
{
	return &rep->total;
}

const struct nfm_source_stats *nfm_rep_source_total(const struct nfm_report *rep)
{
	return &rep->stotal;
}

uint64_t nfm_rep_flows(const struct nfm_report *rep)
{
	return rep->flows;
}

double nfm_rep_elapsed(const struct nfm_report *rep)
{
	return rep->elapsed;
}

const struct nfm_report_memory *nfm_rep_memory(const struct nfm_report *rep)
{
	return rep->have_memory ? &rep->memory : NULL;
}

size_t nfm_rep_n_inputs(const struct nfm_report *rep)
{
	return rep->n_inputs;
}

void nfm_rep_input(const struct nfm_report *rep, size_t i, struct nfm_rep_input *out)
{
	const struct input *in = &rep->inputs[i];
	out->name = in->name;
	out->format = in->format;
	out->status = in->status;
	out->c = &in->c;
	out->s = &in->s;
}

uint64_t nfm_rep_inputs_dropped(const struct nfm_report *rep)
{
	return rep->inputs_dropped;
}

/* Protocol slots with flows, by flows descending (then slot order). */
static size_t proto_order(const struct nfm_report *rep, uint16_t out[NFM_PROTO_SLOTS])
{
	size_t n = 0;
	for (unsigned s = 0; s < NFM_PROTO_SLOTS; s++) {
		if (!rep->proto[s].flows)
			continue;
		size_t j = n++;
		while (j > 0 && rep->proto[out[j - 1]].flows < rep->proto[s].flows) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = (uint16_t)s;
	}
	return n;
}

size_t nfm_rep_protocols(const struct nfm_report *rep, struct nfm_rep_proto *out)
{
	uint16_t ord[NFM_PROTO_SLOTS];
	size_t n = proto_order(rep, ord);
	for (size_t i = 0; i < n; i++) {
		const struct proto_stat *p = &rep->proto[ord[i]];
		struct nfm_rep_proto *o = &out[i];
		o->name = proto_slot_name(rep, ord[i], o->buf, sizeof o->buf);
		o->is_arp = ord[i] == NFM_PROTO_ARP_SLOT;
		o->ip_proto = o->is_arp ? 0 : (uint8_t)ord[i];
		o->flows = p->flows;
		o->packets = p->packets;
		o->bytes = p->bytes;
	}
	return n;
}

uint64_t nfm_rep_tcp_state(const struct nfm_report *rep, unsigned s)
{
	return s <= NFM_CONN_STATE_COUNT ? rep->tcp_state[s] : 0;
}

void nfm_rep_top_talkers(const struct nfm_report *rep, struct nfm_rep_talkers *out)
{
	unsigned idx[NFM_REPORT_TOP];
	out->exact = !rep->talkers.approx;
	out->distinct = rep->talkers.n;
	out->n = nfm_talkers_top(&rep->talkers, idx);
	for (size_t i = 0; i < out->n; i++) {
		const struct nfm_talker *t = &rep->talkers.e[idx[i]];
		addr_text(t->l3, t->addr, out->top[i].addr);
		out->top[i].bytes = t->bytes;
		out->top[i].max_error = t->err;
	}
}

size_t nfm_rep_top_flows(const struct nfm_report *rep, struct nfm_rep_flow *out)
{
	struct top_flow t[NFM_REPORT_TOP];
	size_t n = top_sorted(rep, t);
	for (size_t i = 0; i < n; i++) {
		const struct top_flow *f = &t[i];
		struct nfm_rep_flow *o = &out[i];
		unsigned slot = f->l3 == NFM_L3_ARP ? NFM_PROTO_ARP_SLOT : f->ip_proto;
		o->l3 = f->l3;
		o->has_vlan = f->has_vlan;
		o->vlan_id = f->vlan_id;
		o->src_port = f->src_port;
		o->dst_port = f->dst_port;
		o->end_reason = f->end_reason;
		addr_text(f->l3, f->src, o->src);
		addr_text(f->l3, f->dst, o->dst);
		o->protocol = proto_slot_name(rep, slot, o->pbuf, sizeof o->pbuf);
		o->packets = f->packets;
		o->bytes = f->bytes;
		o->first_ns = f->first_ns;
		o->duration_ns = f->last_ns > f->first_ns ? f->last_ns - f->first_ns : 0;
	}
	return n;
}

void nfm_rep_hist(const struct nfm_report *rep, enum nfm_rep_dist d, struct nfm_rep_hist *out)
{
	static const unsigned which[NFM_REP_DIST_COUNT] = {
		[NFM_REP_DURATION] = H_DURATION, [NFM_REP_SIZE] = H_SIZE,
		[NFM_REP_PACKETS] = H_PACKETS, [NFM_REP_RATE] = H_RATE,
	};
	const struct hist *h = &rep->hist[which[d]];
	memset(out, 0, sizeof *out);
	out->n = h->n;
	if (h->n) {
		out->min = h->min;
		out->max = h->max;
		out->mean = hist_mean(h);
		out->p50 = hist_pct(h, 0.50);
		out->p90 = hist_pct(h, 0.90);
		out->p99 = hist_pct(h, 0.99);
	}
	for (unsigned k = 0; k < NFM_HIST_BUCKETS; k++) {
		if (h->bucket[k] > out->peak)
			out->peak = h->bucket[k];
		if (!h->bucket[k])
			continue;
		struct nfm_rep_bucket *b = &out->bucket[out->n_buckets++];
		b->k = k;
		b->lo = bucket_lo(k);
		b->hi = bucket_hi(k);
		b->count = h->bucket[k];
	}
}

uint64_t nfm_rep_rate_skipped(const struct nfm_report *rep)
{
	return rep->rate_skipped;
}

/* ---------------------------------------------------------------- save */

int nfm_report_save(const struct nfm_report *rep, struct nfm_outset *set, const char *base,
		    struct nfm_error *err)
{
	if (!rep || !base || !*base)
		return nfm_error_set(err, NFM_ERR_INVALID, "report: no output name");
	size_t n = strlen(base) + 8;
	char *txt = malloc(n), *json = malloc(n);
	int rc = 0;
	if (!txt || !json) {
		rc = nfm_error_set(err, NFM_ERR_NOMEM, "%s.txt: out of memory", base);
		goto out;
	}
	snprintf(txt, n, "%s.txt", base);
	snprintf(json, n, "%s.json", base);
	struct nfm_outfile *ft, *fj;
	rc = nfm_outset_create(set, txt, NFM_OUT_STREAM, &ft, err);
	if (!rc)
		rc = nfm_outset_create(set, json, NFM_OUT_STREAM, &fj, err);
	if (rc)
		goto out;
	/* Write errors are caught by finish (ferror / fflush), which names the file. */
	nfm_report_write_text(rep, ft->fp);
	nfm_report_write_json(rep, fj->fp);
	rc = nfm_outfile_finish(ft, err);
	if (!rc)
		rc = nfm_outfile_finish(fj, err);
out:
	free(txt);
	free(json);
	return rc;
}
