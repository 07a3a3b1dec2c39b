/* The analysis report. Everything is accumulated into fixed-size state allocated once in
 * nfm_report_new; the only growth is the list of inputs (one entry per capture read).
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
 */
#include "report/report.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "feature/fields.h"
#include "util/outset.h"

#define NFM_REPORT_TALKERS 1024u      /* Space-Saving capacity (distinct addresses) */
#define NFM_REPORT_TALKER_SLOTS 4096u /* hash slots: power of two, load <= 1/4 */
#define NFM_REPORT_TOP 10u            /* rows of the top-talker and top-flow lists */
#define NFM_PROTO_SLOTS 257u          /* IP protocol 0..255, plus ARP at 256 */
#define NFM_PROTO_ARP_SLOT 256u
#define NFM_HIST_BUCKETS 65u          /* 0, then [2^(k-1), 2^k) for k = 1..64 */

struct input {
	char *name, *format, *status;
	struct nfm_counters c;
	struct nfm_source_stats s;
};

struct talker {
	uint8_t l3;           /* NFM_L3_IPV4 or NFM_L3_IPV6 */
	uint8_t addr[16];
	uint64_t bytes;       /* Space-Saving count (an overestimate by at most err) */
	uint64_t err;
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

	/* Space-Saving: entries, a min-heap of entry indices by bytes, and a hash index. */
	struct talker talkers[NFM_REPORT_TALKERS];
	uint16_t heap[NFM_REPORT_TALKERS];
	uint16_t heap_pos[NFM_REPORT_TALKERS];
	uint16_t slot[NFM_REPORT_TALKER_SLOTS]; /* entry index + 1; 0 = empty */
	size_t n_talkers;
	bool talkers_approx;

	/* Min-heap of the NFM_REPORT_TOP largest flows. */
	struct top_flow top[NFM_REPORT_TOP];
	size_t n_top;

	struct hist hist[H_COUNT];
	uint64_t rate_skipped;        /* flows of duration 0 */

	double elapsed;               /* < 0: not set */
};

/* ---------------------------------------------------------------- small helpers */

static char *dup_str(const char *s)
{
	if (!s)
		s = "";
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static double fin(double v)
{
	return isfinite(v) ? v : 0.0;
}

static uint64_t nonip_total(const struct nfm_counters *c)
{
	uint64_t t = 0;
	for (unsigned k = 0; k < NFM_NONIP_KIND_COUNT; k++)
		t = sat_add(t, c->nonip[k]);
	return t;
}

static uint64_t accounted_sum(const struct nfm_counters *c)
{
	uint64_t t = c->flow_packets;
	t = sat_add(t, nonip_total(c));
	t = sat_add(t, c->decode_status[NFM_DECODE_TRUNCATED]);
	t = sat_add(t, c->decode_status[NFM_DECODE_MALFORMED]);
	t = sat_add(t, c->decode_status[NFM_DECODE_UNSUPPORTED]);
	t = sat_add(t, c->filtered);
	t = sat_add(t, c->over_max_flows);
	t = sat_add(t, c->fragments_unmatched);
	return t;
}

/* Difference packets read - accounted sum as sign + magnitude. */
static void difference(const struct nfm_counters *c, char *buf, size_t cap)
{
	uint64_t sum = accounted_sum(c);
	if (c->packets >= sum)
		snprintf(buf, cap, "%llu", (unsigned long long)(c->packets - sum));
	else
		snprintf(buf, cap, "-%llu", (unsigned long long)(sum - c->packets));
}

static void counters_add(struct nfm_counters *t, const struct nfm_counters *c)
{
	t->packets = sat_add(t->packets, c->packets);
	t->wire_bytes = sat_add(t->wire_bytes, c->wire_bytes);
	for (unsigned k = 0; k < NFM_DECODE_STATUS_COUNT; k++)
		t->decode_status[k] = sat_add(t->decode_status[k], c->decode_status[k]);
	for (unsigned k = 0; k < NFM_NONIP_KIND_COUNT; k++)
		t->nonip[k] = sat_add(t->nonip[k], c->nonip[k]);
	t->flow_packets = sat_add(t->flow_packets, c->flow_packets);
	t->filtered = sat_add(t->filtered, c->filtered);
	t->over_max_flows = sat_add(t->over_max_flows, c->over_max_flows);
	t->fragments_unmatched = sat_add(t->fragments_unmatched, c->fragments_unmatched);
	t->fragments = sat_add(t->fragments, c->fragments);
	t->l4_truncated = sat_add(t->l4_truncated, c->l4_truncated);
	t->ts_backwards = sat_add(t->ts_backwards, c->ts_backwards);
	t->flows_created = sat_add(t->flows_created, c->flows_created);
	t->flows_written = sat_add(t->flows_written, c->flows_written);
	for (unsigned k = 0; k < NFM_END_REASON_COUNT; k++)
		t->flows_by_reason[k] = sat_add(t->flows_by_reason[k], c->flows_by_reason[k]);
	if (c->peak_active_flows > t->peak_active_flows)
		t->peak_active_flows = c->peak_active_flows;
	if (c->first_ts_ns && (!t->first_ts_ns || c->first_ts_ns < t->first_ts_ns))
		t->first_ts_ns = c->first_ts_ns;
	if (c->last_ts_ns > t->last_ts_ns)
		t->last_ts_ns = c->last_ts_ns;
	t->tunnel_opaque = sat_add(t->tunnel_opaque, c->tunnel_opaque);
	for (unsigned k = 0; k < NFM_OPAQUE_KINDS && c->opaque[k].kind; k++)
		nfm_opaque_add(t->opaque, c->opaque[k].kind, c->opaque[k].packets);
}

/* Packets of tunnel payload kinds beyond the NFM_OPAQUE_KINDS listed. */
static uint64_t opaque_other(const struct nfm_counters *c)
{
	uint64_t listed = 0;
	for (unsigned k = 0; k < NFM_OPAQUE_KINDS; k++)
		listed = sat_add(listed, c->opaque[k].packets);
	return c->tunnel_opaque > listed ? c->tunnel_opaque - listed : 0;
}

static void stats_add(struct nfm_source_stats *t, const struct nfm_source_stats *s)
{
	t->records = sat_add(t->records, s->records);
	t->caplen_fixed = sat_add(t->caplen_fixed, s->caplen_fixed);
	t->ts_fixed = sat_add(t->ts_fixed, s->ts_fixed);
	t->blocks_skipped = sat_add(t->blocks_skipped, s->blocks_skipped);
	t->bad_interface = sat_add(t->bad_interface, s->bad_interface);
}

/* Nanoseconds since the epoch -> 2024-01-31T23:59:59.123456Z (proleptic Gregorian, UTC). */
static void fmt_time(uint64_t ns, char *buf, size_t cap)
{
	uint64_t secs = ns / 1000000000u;
	unsigned usec = (unsigned)((ns % 1000000000u) / 1000u);
	int64_t days = (int64_t)(secs / 86400u);
	unsigned sod = (unsigned)(secs % 86400u);
	/* civil_from_days (H. Hinnant) */
	int64_t z = days + 719468;
	int64_t era = z / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	snprintf(buf, cap, "%04lld-%02lld-%02lldT%02u:%02u:%02u.%06uZ", (long long)y, (long long)m,
		 (long long)d, sod / 3600u, sod / 60u % 60u, sod % 60u, usec);
}

static uint64_t span_ns(uint64_t first, uint64_t last)
{
	return (first && last > first) ? last - first : 0;
}

/* Human duration: "0 s", "750 ns", "12.5 us", "3.25 ms", "1.500 s", "2 h 03 min 04 s". */
static void fmt_dur(double ns, char *buf, size_t cap)
{
	ns = fin(ns);
	if (ns <= 0)
		snprintf(buf, cap, "0 s");
	else if (ns < 1e3)
		snprintf(buf, cap, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, cap, "%.3g us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, cap, "%.3g ms", ns / 1e6);
	else if (ns < 3600e9)
		snprintf(buf, cap, "%.3f s", ns / 1e9);
	else {
		double s = floor(ns / 1e9);
		double h = floor(s / 3600);
		s -= h * 3600;
		double mi = floor(s / 60);
		s -= mi * 60;
		snprintf(buf, cap, "%.0f h %02.0f min %02.0f s", h, mi, s);
	}
}

/* Human size in decimal units: "512 B", "1.23 kB", "4.56 MB". */
static void fmt_bytes(double b, char *buf, size_t cap)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB" };
	b = fin(b);
	unsigned u = 0;
	while (b >= 1000 && u < 7) {
		b /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%.0f B", b);
	else
		snprintf(buf, cap, "%.3g %s", b, unit[u]);
}

static const char *safe_name(const char *s, const char *fallback)
{
	return (s && *s) ? s : fallback;
}

static const char *reason_name(unsigned r, char *buf, size_t cap)
{
	const char *n = nfm_end_reason_name(r);
	if (n && *n)
		return n;
	snprintf(buf, cap, "reason-%u", r);
	return buf;
}

static const char *state_name(unsigned s, char *buf, size_t cap)
{
	const char *n = s < NFM_CONN_STATE_COUNT ? nfm_conn_state_name(s) : NULL;
	if (n && *n)
		return n;
	snprintf(buf, cap, s == NFM_CONN_NONE ? "none" : "state-%u", s);
	return buf;
}

static const char *nonip_name(unsigned k, char *buf, size_t cap)
{
	const char *n = nfm_nonip_name((enum nfm_nonip_kind)k);
	if (n && *n)
		return n;
	snprintf(buf, cap, "kind-%u", k);
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

static const char *addr_text(uint8_t l3, const uint8_t addr[16], char *buf, size_t cap)
{
	const char *a = nfm_addr_format(l3, addr, buf, cap);
	return a ? a : "?";
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
	counters_add(&rep->total, c);
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
	in->name = dup_str(name);
	in->format = dup_str(format);
	in->status = dup_str(status_msg);
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

/* ---------------------------------------------------------------- top talkers */

static size_t talker_hash(uint8_t l3, const uint8_t addr[16])
{
	uint64_t a, b;
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ l3) * 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (size_t)(h & (NFM_REPORT_TALKER_SLOTS - 1));
}

/* Slot holding the key, or the empty slot where it would go. */
static size_t talker_find(const struct nfm_report *rep, uint8_t l3, const uint8_t addr[16])
{
	size_t i = talker_hash(l3, addr);
	for (;;) {
		unsigned e = rep->slot[i];
		if (!e)
			return i;
		const struct talker *t = &rep->talkers[e - 1];
		if (t->l3 == l3 && memcmp(t->addr, addr, 16) == 0)
			return i;
		i = (i + 1) & (NFM_REPORT_TALKER_SLOTS - 1);
	}
}

/* Linear probing deletion by backward shift (no tombstones). */
static void talker_unhash(struct nfm_report *rep, size_t i)
{
	const size_t mask = NFM_REPORT_TALKER_SLOTS - 1;
	rep->slot[i] = 0;
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		unsigned e = rep->slot[j];
		if (!e)
			return;
		const struct talker *t = &rep->talkers[e - 1];
		size_t home = talker_hash(t->l3, t->addr);
		/* Move e into the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			rep->slot[i] = (uint16_t)e;
			rep->slot[j] = 0;
			i = j;
		}
	}
}

static bool talker_less(const struct nfm_report *rep, unsigned a, unsigned b)
{
	return rep->talkers[a].bytes < rep->talkers[b].bytes;
}

static void heap_swap(struct nfm_report *rep, size_t i, size_t j)
{
	uint16_t t = rep->heap[i];
	rep->heap[i] = rep->heap[j];
	rep->heap[j] = t;
	rep->heap_pos[rep->heap[i]] = (uint16_t)i;
	rep->heap_pos[rep->heap[j]] = (uint16_t)j;
}

static void talker_sift_down(struct nfm_report *rep, size_t i)
{
	size_t n = rep->n_talkers;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && talker_less(rep, rep->heap[l], rep->heap[m]))
			m = l;
		if (r < n && talker_less(rep, rep->heap[r], rep->heap[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(rep, i, m);
		i = m;
	}
}

static void talker_sift_up(struct nfm_report *rep, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!talker_less(rep, rep->heap[i], rep->heap[p]))
			return;
		heap_swap(rep, i, p);
		i = p;
	}
}

static void talker_add(struct nfm_report *rep, uint8_t l3, const uint8_t addr_in[16], uint64_t w)
{
	if (w == 0)
		return;
	uint8_t addr[16];
	memcpy(addr, addr_in, 16);
	if (l3 == NFM_L3_ARP) { /* ARP carries IPv4 addresses: same host as its IPv4 traffic */
		l3 = NFM_L3_IPV4;
		memset(addr + 4, 0, 12);
	}
	size_t s = talker_find(rep, l3, addr);
	unsigned e = rep->slot[s];
	if (e) {
		struct talker *t = &rep->talkers[e - 1];
		t->bytes = sat_add(t->bytes, w);
		talker_sift_down(rep, rep->heap_pos[e - 1]);
		return;
	}
	if (rep->n_talkers < NFM_REPORT_TALKERS) {
		unsigned idx = (unsigned)rep->n_talkers++;
		struct talker *t = &rep->talkers[idx];
		t->l3 = l3;
		memcpy(t->addr, addr, 16);
		t->bytes = w;
		t->err = 0;
		rep->slot[s] = (uint16_t)(idx + 1);
		rep->heap[idx] = (uint16_t)idx;
		rep->heap_pos[idx] = (uint16_t)idx;
		talker_sift_up(rep, idx);
		return;
	}
	/* Full: the address with the smallest count gives its place (Space-Saving). */
	unsigned idx = rep->heap[0];
	struct talker *t = &rep->talkers[idx];
	talker_unhash(rep, talker_find(rep, t->l3, t->addr));
	uint64_t floor_count = t->bytes;
	t->l3 = l3;
	memcpy(t->addr, addr, 16);
	t->bytes = sat_add(floor_count, w);
	t->err = floor_count;
	rep->slot[talker_find(rep, l3, addr)] = (uint16_t)(idx + 1);
	talker_sift_down(rep, 0);
	rep->talkers_approx = true;
}

/* Ranking order: more bytes first, then address order for stable output. */
static bool talker_before(const struct talker *a, const struct talker *b)
{
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	if (a->l3 != b->l3)
		return a->l3 < b->l3;
	return memcmp(a->addr, b->addr, 16) < 0;
}

/* Indices of the top entries, best first; returns how many. */
static size_t talker_top(const struct nfm_report *rep, unsigned out[NFM_REPORT_TOP])
{
	size_t n = 0;
	for (unsigned i = 0; i < rep->n_talkers; i++) {
		const struct talker *t = &rep->talkers[i];
		size_t pos = n;
		while (pos > 0 && talker_before(t, &rep->talkers[out[pos - 1]]))
			pos--;
		if (pos >= NFM_REPORT_TOP)
			continue;
		size_t last = n < NFM_REPORT_TOP ? n : NFM_REPORT_TOP - 1;
		for (size_t k = last; k > pos; k--)
			out[k] = out[k - 1];
		out[pos] = i;
		if (n < NFM_REPORT_TOP)
			n++;
	}
	return n;
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

	talker_add(rep, rec->l3, rec->src, rec->bytes[NFM_FWD]);
	talker_add(rep, rec->l3, rec->dst, rec->bytes[NFM_BWD]);

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

/* ---------------------------------------------------------------- text output */

/* Writes s with control characters and backslashes escaped, so that a name can never
 * break the line structure of the text report. */
static void text_escaped(FILE *fp, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '\\')
			fputs("\\\\", fp);
		else if (*p == '\n')
			fputs("\\n", fp);
		else if (*p == '\r')
			fputs("\\r", fp);
		else if (*p == '\t')
			fputs("\\t", fp);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
}

static void heading(FILE *fp, const char *title)
{
	fprintf(fp, "\n%s\n", title);
	for (size_t i = strlen(title); i > 0; i--)
		fputc('-', fp);
	fputc('\n', fp);
}

#define LABEL_W 34

static void line_u64(FILE *fp, const char *label, uint64_t v)
{
	fprintf(fp, "%-*s %15llu\n", LABEL_W, label, (unsigned long long)v);
}

static void line_str(FILE *fp, const char *label, const char *v)
{
	fprintf(fp, "%-*s %s\n", LABEL_W, label, v);
}

static void text_inputs(const struct nfm_report *rep, FILE *fp)
{
	char tb[64], b[64];
	heading(fp, "Inputs");
	if (rep->n_inputs == 0 && !rep->inputs_dropped)
		fprintf(fp, "(none)\n");
	for (size_t i = 0; i < rep->n_inputs; i++) {
		const struct input *in = &rep->inputs[i];
		fprintf(fp, "input %zu: ", i + 1);
		text_escaped(fp, in->name);
		fputc('\n', fp);
		fprintf(fp, "  %-*s ", LABEL_W - 2, "format");
		text_escaped(fp, safe_name(in->format, "unknown"));
		fputc('\n', fp);
		fprintf(fp, "  %-*s ", LABEL_W - 2, "status");
		text_escaped(fp, safe_name(in->status, "ok"));
		fputc('\n', fp);
		fprintf(fp, "  %-*s %llu\n", LABEL_W - 2, "packets read",
			(unsigned long long)in->c.packets);
		fmt_bytes((double)in->c.wire_bytes, b, sizeof b);
		fprintf(fp, "  %-*s %llu (%s)\n", LABEL_W - 2, "wire bytes",
			(unsigned long long)in->c.wire_bytes, b);
		if (in->c.first_ts_ns) {
			fmt_time(in->c.first_ts_ns, tb, sizeof tb);
			fprintf(fp, "  %-*s %s\n", LABEL_W - 2, "first packet", tb);
			fmt_time(in->c.last_ts_ns, tb, sizeof tb);
			fprintf(fp, "  %-*s %s\n", LABEL_W - 2, "last packet", tb);
		} else {
			fprintf(fp, "  %-*s -\n  %-*s -\n", LABEL_W - 2, "first packet", LABEL_W - 2,
				"last packet");
		}
		uint64_t sp = span_ns(in->c.first_ts_ns, in->c.last_ts_ns);
		fmt_dur((double)sp, b, sizeof b);
		fprintf(fp, "  %-*s %.6f s (%s)\n", LABEL_W - 2, "duration", (double)sp / 1e9, b);
	}
	if (rep->inputs_dropped)
		fprintf(fp, "(%llu more inputs not listed: out of memory; they are in the totals)\n",
			(unsigned long long)rep->inputs_dropped);
	if (rep->n_inputs + rep->inputs_dropped > 1) {
		fprintf(fp, "all inputs:\n");
		if (rep->total.first_ts_ns) {
			fmt_time(rep->total.first_ts_ns, tb, sizeof tb);
			fprintf(fp, "  %-*s %s\n", LABEL_W - 2, "first packet", tb);
			fmt_time(rep->total.last_ts_ns, tb, sizeof tb);
			fprintf(fp, "  %-*s %s\n", LABEL_W - 2, "last packet", tb);
		}
		uint64_t sp = span_ns(rep->total.first_ts_ns, rep->total.last_ts_ns);
		fmt_dur((double)sp, b, sizeof b);
		fprintf(fp, "  %-*s %.6f s (%s)\n", LABEL_W - 2, "duration", (double)sp / 1e9, b);
	}
}

static void text_accounting(const struct nfm_report *rep, FILE *fp)
{
	const struct nfm_counters *c = &rep->total;
	char nb[64], lb[96], b[64];
	heading(fp, "Packet accounting");
	line_u64(fp, "packets read", c->packets);
	fmt_bytes((double)c->wire_bytes, b, sizeof b);
	fprintf(fp, "%-*s %15llu (%s)\n", LABEL_W, "wire bytes", (unsigned long long)c->wire_bytes, b);
	line_u64(fp, "  in flows", c->flow_packets);
	line_u64(fp, "  non-IP", nonip_total(c));
	for (unsigned k = 0; k < NFM_NONIP_KIND_COUNT; k++) {
		if (!c->nonip[k])
			continue;
		snprintf(lb, sizeof lb, "    %s", nonip_name(k, nb, sizeof nb));
		line_u64(fp, lb, c->nonip[k]);
	}
	line_u64(fp, "  truncated", c->decode_status[NFM_DECODE_TRUNCATED]);
	line_u64(fp, "  malformed", c->decode_status[NFM_DECODE_MALFORMED]);
	line_u64(fp, "  unsupported link type", c->decode_status[NFM_DECODE_UNSUPPORTED]);
	line_u64(fp, "  filtered (--protocols)", c->filtered);
	line_u64(fp, "  beyond --max-flows", c->over_max_flows);
	line_u64(fp, "  unmatched fragments", c->fragments_unmatched);
	line_u64(fp, "accounted sum", accounted_sum(c));
	if (accounted_sum(c) == c->packets) {
		fprintf(fp, "accounted: yes\n");
	} else {
		difference(c, nb, sizeof nb);
		fprintf(fp, "accounted: no (difference %s)\n", nb);
	}
	fprintf(fp, "\n");
	line_u64(fp, "fragments (all)", c->fragments);
	line_u64(fp, "payload cut by snaplen", c->l4_truncated);
	line_u64(fp, "timestamps going backwards", c->ts_backwards);
	line_u64(fp, "tunnel payload not followed", c->tunnel_opaque);
	for (unsigned k = 0; k < NFM_OPAQUE_KINDS && c->opaque[k].kind; k++) {
		snprintf(lb, sizeof lb, "  %s", nfm_opaque_name(c->opaque[k].kind, nb, sizeof nb));
		line_u64(fp, lb, c->opaque[k].packets);
	}
	if (opaque_other(c))
		line_u64(fp, "  other kinds", opaque_other(c));
	if (c->tunnel_opaque)
		fprintf(fp, "(these packets are metered as their outer packet, and counted above)\n");

	heading(fp, "Source anomalies");
	line_u64(fp, "caplen fixed", rep->stotal.caplen_fixed);
	line_u64(fp, "timestamp fraction fixed", rep->stotal.ts_fixed);
	line_u64(fp, "pcapng blocks skipped", rep->stotal.blocks_skipped);
	line_u64(fp, "undefined pcapng interface", rep->stotal.bad_interface);
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

static void text_flows(const struct nfm_report *rep, FILE *fp)
{
	const struct nfm_counters *c = &rep->total;
	char nb[64], lb[96];
	heading(fp, "Flows");
	line_u64(fp, "flows created", c->flows_created);
	line_u64(fp, "flows written", c->flows_written);
	line_u64(fp, "flows analysed in this report", rep->flows);
	line_u64(fp, "peak active flows", c->peak_active_flows);
	fprintf(fp, "by end reason:\n");
	for (unsigned r = 0; r < NFM_END_REASON_COUNT; r++) {
		snprintf(lb, sizeof lb, "  %s", reason_name(r, nb, sizeof nb));
		line_u64(fp, lb, c->flows_by_reason[r]);
	}

	heading(fp, "Flows by protocol");
	uint16_t ord[NFM_PROTO_SLOTS];
	size_t n = proto_order(rep, ord);
	if (n == 0) {
		fprintf(fp, "(no flows)\n");
	} else {
		fprintf(fp, "%-12s %15s %20s %24s\n", "protocol", "flows", "packets", "bytes");
		for (size_t i = 0; i < n; i++) {
			const struct proto_stat *p = &rep->proto[ord[i]];
			fprintf(fp, "%-12s %15llu %20llu %24llu\n",
				proto_slot_name(rep, ord[i], nb, sizeof nb), (unsigned long long)p->flows,
				(unsigned long long)p->packets, (unsigned long long)p->bytes);
		}
	}

	heading(fp, "TCP connection states");
	uint64_t tcp = 0;
	for (unsigned s = 0; s <= NFM_CONN_STATE_COUNT; s++)
		tcp += rep->tcp_state[s];
	if (tcp == 0) {
		fprintf(fp, "(no TCP flows)\n");
	} else {
		for (unsigned s = 0; s <= NFM_CONN_STATE_COUNT; s++) {
			if ((s == NFM_CONN_NONE || s == NFM_CONN_STATE_COUNT) && !rep->tcp_state[s])
				continue;
			line_u64(fp, state_name(s, nb, sizeof nb), rep->tcp_state[s]);
		}
	}
}

static void text_talkers(const struct nfm_report *rep, FILE *fp)
{
	char ab[64], b[64];
	heading(fp, "Top talkers (bytes sent)");
	fprintf(fp, "A flow's forward bytes count for its source address, its backward bytes for\n"
		    "its destination address.\n");
	if (rep->talkers_approx)
		fprintf(fp, "approximate: more than %u distinct addresses sent traffic; counts may be\n"
			    "overestimated by at most the max error shown (Space-Saving summary)\n",
			NFM_REPORT_TALKERS);
	else
		fprintf(fp, "exact (%zu distinct sending addresses)\n", rep->n_talkers);
	unsigned idx[NFM_REPORT_TOP];
	size_t n = talker_top(rep, idx);
	if (n == 0) {
		fprintf(fp, "(none)\n");
		return;
	}
	if (rep->talkers_approx)
		fprintf(fp, "%4s %24s %12s %24s  %s\n", "rank", "bytes", "", "max error", "address");
	else
		fprintf(fp, "%4s %24s %12s  %s\n", "rank", "bytes", "", "address");
	for (size_t i = 0; i < n; i++) {
		const struct talker *t = &rep->talkers[idx[i]];
		fmt_bytes((double)t->bytes, b, sizeof b);
		fprintf(fp, "%4zu %24llu %12s ", i + 1, (unsigned long long)t->bytes, b);
		if (rep->talkers_approx)
			fprintf(fp, "%24llu ", (unsigned long long)t->err);
		fprintf(fp, " %s\n", addr_text(t->l3, t->addr, ab, sizeof ab));
	}
}

/* "10.0.0.1:443 -> 10.0.0.2:5000 TCP" ([v6]:port; no ports for ARP). */
static void flow_text(const struct nfm_report *rep, const struct top_flow *f, char *buf,
		      size_t cap)
{
	char sa[64], da[64], pb[32];
	const char *s = addr_text(f->l3, f->src, sa, sizeof sa);
	const char *d = addr_text(f->l3, f->dst, da, sizeof da);
	unsigned slot = f->l3 == NFM_L3_ARP ? NFM_PROTO_ARP_SLOT : f->ip_proto;
	const char *pn = proto_slot_name(rep, slot, pb, sizeof pb);
	size_t len;
	if (f->l3 == NFM_L3_ARP) {
		len = (size_t)snprintf(buf, cap, "%s -> %s %s", s, d, pn);
	} else {
		bool v6 = f->l3 == NFM_L3_IPV6;
		len = (size_t)snprintf(buf, cap, "%s%s%s:%u -> %s%s%s:%u %s", v6 ? "[" : "", s,
				       v6 ? "]" : "", f->src_port, v6 ? "[" : "", d, v6 ? "]" : "",
				       f->dst_port, pn);
	}
	if (f->has_vlan && len < cap)
		snprintf(buf + len, cap - len, " vlan %u", f->vlan_id);
}

static void text_top_flows(const struct nfm_report *rep, FILE *fp)
{
	char fb[256], db[64];
	heading(fp, "Top flows (total bytes)");
	struct top_flow t[NFM_REPORT_TOP];
	size_t n = top_sorted(rep, t);
	if (n == 0) {
		fprintf(fp, "(none)\n");
		return;
	}
	fprintf(fp, "%4s %20s %15s %16s  %s\n", "rank", "bytes", "packets", "duration", "flow");
	for (size_t i = 0; i < n; i++) {
		uint64_t d = t[i].last_ns > t[i].first_ns ? t[i].last_ns - t[i].first_ns : 0;
		fmt_dur((double)d, db, sizeof db);
		flow_text(rep, &t[i], fb, sizeof fb);
		fprintf(fp, "%4zu %20llu %15llu %16s  %s\n", i + 1, (unsigned long long)t[i].bytes,
			(unsigned long long)t[i].packets, db, fb);
	}
}

enum unit_kind { U_NS, U_BYTES, U_COUNT, U_RATE };

static void fmt_value(enum unit_kind u, double v, char *buf, size_t cap)
{
	v = fin(v);
	switch (u) {
	case U_NS:
		fmt_dur(v, buf, cap);
		break;
	case U_BYTES:
		fmt_bytes(v, buf, cap);
		break;
	case U_RATE: {
		char b[48];
		fmt_bytes(v, b, sizeof b);
		size_t n = strlen(b);
		if (n + 3 <= cap) {
			memcpy(buf, b, n);
			memcpy(buf + n, "/s", 3);
		} else if (cap) {
			buf[0] = '\0';
		}
		break;
	}
	default:
		if (v >= 1e15)
			snprintf(buf, cap, "%.3g", v);
		else
			snprintf(buf, cap, "%.*f", v == floor(v) ? 0 : 1, v);
		break;
	}
}

static void text_hist(FILE *fp, const char *title, const struct hist *h, enum unit_kind u)
{
	char a[48], b[48], c[48];
	fprintf(fp, "\n%s: %llu flows\n", title, (unsigned long long)h->n);
	if (h->n == 0)
		return;
	fmt_value(u, h->min, a, sizeof a);
	fmt_value(u, hist_mean(h), b, sizeof b);
	fmt_value(u, h->max, c, sizeof c);
	fprintf(fp, "  min %s, mean %s, max %s\n", a, b, c);
	fmt_value(u, hist_pct(h, 0.50), a, sizeof a);
	fmt_value(u, hist_pct(h, 0.90), b, sizeof b);
	fmt_value(u, hist_pct(h, 0.99), c, sizeof c);
	fprintf(fp, "  p50 ~%s, p90 ~%s, p99 ~%s (approximate, from the buckets)\n", a, b, c);
	uint64_t peak = 0;
	for (unsigned k = 0; k < NFM_HIST_BUCKETS; k++)
		if (h->bucket[k] > peak)
			peak = h->bucket[k];
	for (unsigned k = 0; k < NFM_HIST_BUCKETS; k++) {
		char range[112];
		if (!h->bucket[k])
			continue;
		if (k == 0) {
			if (u == U_RATE)
				snprintf(range, sizeof range, "< 1 B/s");
			else {
				fmt_value(u, 0, a, sizeof a);
				snprintf(range, sizeof range, "%s", a);
			}
		} else {
			fmt_value(u, bucket_lo(k), a, sizeof a);
			fmt_value(u, bucket_hi(k), b, sizeof b);
			snprintf(range, sizeof range, "[%s, %s)", a, b);
		}
		double pct = 100.0 * (double)h->bucket[k] / (double)h->n;
		int bar = peak ? (int)(30.0 * (double)h->bucket[k] / (double)peak + 0.5) : 0;
		if (h->bucket[k] && bar == 0)
			bar = 1;
		fprintf(fp, "  %-30s %12llu %6.1f%% ", range, (unsigned long long)h->bucket[k], fin(pct));
		for (int i = 0; i < bar; i++)
			fputc('#', fp);
		fputc('\n', fp);
	}
}

static void text_dists(const struct nfm_report *rep, FILE *fp)
{
	heading(fp, "Distributions");
	fprintf(fp, "log2 buckets [lo, hi); empty buckets are not shown\n");
	text_hist(fp, "flow duration", &rep->hist[H_DURATION], U_NS);
	text_hist(fp, "flow size (bytes, both directions)", &rep->hist[H_SIZE], U_BYTES);
	text_hist(fp, "packets per flow", &rep->hist[H_PACKETS], U_COUNT);
	text_hist(fp, "flow rate (bytes/s over the flow's duration)", &rep->hist[H_RATE], U_RATE);
	fprintf(fp, "  flows without a rate (duration 0): %llu\n",
		(unsigned long long)rep->rate_skipped);
}

static void text_processing(const struct nfm_report *rep, FILE *fp)
{
	heading(fp, "Processing");
	if (rep->elapsed < 0) {
		line_str(fp, "elapsed", "not measured");
		return;
	}
	fprintf(fp, "%-*s %.3f s\n", LABEL_W, "elapsed", rep->elapsed);
	if (rep->elapsed > 0) {
		fprintf(fp, "%-*s %.0f\n", LABEL_W, "packets/s",
			fin((double)rep->total.packets / rep->elapsed));
		fprintf(fp, "%-*s %.0f\n", LABEL_W, "flows/s", fin((double)rep->flows / rep->elapsed));
	} else {
		line_str(fp, "packets/s", "n/a (elapsed time 0)");
	}
}

int nfm_report_write_text(const struct nfm_report *rep, FILE *fp)
{
	if (!rep || !fp)
		return NFM_ERR_INVALID;
	fprintf(fp, "NexusFlowMeter analysis report\n");
	fprintf(fp, "==============================\n");
	text_inputs(rep, fp);
	text_accounting(rep, fp);
	text_flows(rep, fp);
	text_talkers(rep, fp);
	text_top_flows(rep, fp);
	text_dists(rep, fp);
	text_processing(rep, fp);
	return ferror(fp) ? NFM_ERR_IO : 0;
}

/* ---------------------------------------------------------------- JSON output */

#define JW_MAX_DEPTH 16

struct jw {
	FILE *fp;
	int depth;
	bool first[JW_MAX_DEPTH];
};

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/* A JSON string: quotes, backslash and control characters escaped; bytes that are not
 * valid UTF-8 become U+FFFD so the file always parses. */
static void json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', fp);
			fputc((int)c, fp);
			p++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': fputs("\\n", fp); break;
			case '\r': fputs("\\r", fp); break;
			case '\t': fputs("\\t", fp); break;
			case '\b': fputs("\\b", fp); break;
			case '\f': fputs("\\f", fp); break;
			default: fprintf(fp, "\\u%04x", c); break;
			}
			p++;
		} else if (c < 0x80) {
			fputc((int)c, fp);
			p++;
		} else {
			size_t n = utf8_len(p); /* stops at the NUL: continuation checks fail there */
			if (n == 0) {
				fputs("\\ufffd", fp);
				p++;
			} else {
				fwrite(p, 1, n, fp);
				p += n;
			}
		}
	}
	fputc('"', fp);
}

static void jw_indent(struct jw *w)
{
	fputc('\n', w->fp);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->fp);
}

/* Separator, indentation and key (NULL inside arrays). */
static void jw_key(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first[w->depth])
			fputc(',', w->fp);
		w->first[w->depth] = false;
		jw_indent(w);
	}
	if (key) {
		json_string(w->fp, key);
		fputs(": ", w->fp);
	}
}

static void jw_open(struct jw *w, const char *key, char bracket)
{
	jw_key(w, key);
	fputc(bracket, w->fp);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, char bracket)
{
	bool empty = w->first[w->depth];
	if (w->depth > 0)
		w->depth--;
	if (!empty)
		jw_indent(w);
	fputc(bracket, w->fp);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->fp, "%llu", (unsigned long long)v);
}

static void jw_f64(struct jw *w, const char *key, double v, int prec)
{
	jw_key(w, key);
	if (isfinite(v))
		fprintf(w->fp, "%.*f", prec, v);
	else
		fputs("null", w->fp);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	json_string(w->fp, s);
}

static void jw_bool(struct jw *w, const char *key, bool b)
{
	jw_key(w, key);
	fputs(b ? "true" : "false", w->fp);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->fp);
}

static void jw_raw(struct jw *w, const char *key, const char *text)
{
	jw_key(w, key);
	fputs(text, w->fp);
}

static void jw_time(struct jw *w, const char *key, uint64_t ns)
{
	char tb[64];
	if (!ns) {
		jw_null(w, key);
		return;
	}
	fmt_time(ns, tb, sizeof tb);
	jw_str(w, key, tb);
}

static void json_span(struct jw *w, const struct nfm_counters *c)
{
	jw_time(w, "first_packet", c->first_ts_ns);
	jw_time(w, "last_packet", c->last_ts_ns);
	jw_f64(w, "duration_s", (double)span_ns(c->first_ts_ns, c->last_ts_ns) / 1e9, 9);
}

static void json_accounting(struct jw *w, const char *key, const struct nfm_counters *c)
{
	char nb[64];
	jw_open(w, key, '{');
	jw_u64(w, "read", c->packets);
	jw_u64(w, "wire_bytes", c->wire_bytes);
	jw_u64(w, "in_flows", c->flow_packets);
	jw_u64(w, "nonip", nonip_total(c));
	jw_open(w, "nonip_by_kind", '{');
	for (unsigned k = 0; k < NFM_NONIP_KIND_COUNT; k++)
		if (c->nonip[k])
			jw_u64(w, nonip_name(k, nb, sizeof nb), c->nonip[k]);
	jw_close(w, '}');
	jw_u64(w, "truncated", c->decode_status[NFM_DECODE_TRUNCATED]);
	jw_u64(w, "malformed", c->decode_status[NFM_DECODE_MALFORMED]);
	jw_u64(w, "unsupported_link", c->decode_status[NFM_DECODE_UNSUPPORTED]);
	jw_u64(w, "filtered", c->filtered);
	jw_u64(w, "over_max_flows", c->over_max_flows);
	jw_u64(w, "fragments_unmatched", c->fragments_unmatched);
	jw_u64(w, "accounted_sum", accounted_sum(c));
	jw_bool(w, "accounted", accounted_sum(c) == c->packets);
	difference(c, nb, sizeof nb);
	jw_raw(w, "difference", nb);
	jw_u64(w, "fragments", c->fragments);
	jw_u64(w, "l4_truncated", c->l4_truncated);
	jw_u64(w, "ts_backwards", c->ts_backwards);
	jw_u64(w, "tunnel_not_followed", c->tunnel_opaque);
	jw_open(w, "tunnel_not_followed_by_kind", '{');
	for (unsigned k = 0; k < NFM_OPAQUE_KINDS && c->opaque[k].kind; k++)
		jw_u64(w, nfm_opaque_name(c->opaque[k].kind, nb, sizeof nb), c->opaque[k].packets);
	if (opaque_other(c))
		jw_u64(w, "other", opaque_other(c));
	jw_close(w, '}');
	jw_open(w, "decode_status", '{');
	for (unsigned k = 0; k < NFM_DECODE_STATUS_COUNT; k++) {
		const char *n = nfm_decode_status_name((enum nfm_decode_status)k);
		char fb[32];
		if (!n || !*n) {
			snprintf(fb, sizeof fb, "status-%u", k);
			n = fb;
		}
		jw_u64(w, n, c->decode_status[k]);
	}
	jw_close(w, '}');
	jw_close(w, '}');
}

static void json_anomalies(struct jw *w, const struct nfm_source_stats *s)
{
	jw_open(w, "source_anomalies", '{');
	jw_u64(w, "caplen_fixed", s->caplen_fixed);
	jw_u64(w, "ts_fixed", s->ts_fixed);
	jw_u64(w, "blocks_skipped", s->blocks_skipped);
	jw_u64(w, "bad_interface", s->bad_interface);
	jw_close(w, '}');
}

static void json_hist(struct jw *w, const char *key, const struct hist *h, const char *unit,
		      double scale, int prec)
{
	jw_open(w, key, '{');
	jw_str(w, "unit", unit);
	jw_u64(w, "count", h->n);
	if (h->n) {
		jw_f64(w, "min", h->min * scale, prec);
		jw_f64(w, "max", h->max * scale, prec);
		jw_f64(w, "mean", hist_mean(h) * scale, prec < 3 ? 3 : prec);
		jw_f64(w, "p50", hist_pct(h, 0.50) * scale, prec);
		jw_f64(w, "p90", hist_pct(h, 0.90) * scale, prec);
		jw_f64(w, "p99", hist_pct(h, 0.99) * scale, prec);
	} else {
		jw_null(w, "min");
		jw_null(w, "max");
		jw_null(w, "mean");
		jw_null(w, "p50");
		jw_null(w, "p90");
		jw_null(w, "p99");
	}
	jw_open(w, "buckets", '[');
	for (unsigned k = 0; k < NFM_HIST_BUCKETS; k++) {
		if (!h->bucket[k])
			continue;
		jw_open(w, NULL, '{');
		jw_f64(w, "lo", bucket_lo(k) * scale, prec);
		jw_f64(w, "hi", bucket_hi(k) * scale, prec);
		jw_u64(w, "count", h->bucket[k]);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

int nfm_report_write_json(const struct nfm_report *rep, FILE *fp)
{
	if (!rep || !fp)
		return NFM_ERR_INVALID;
	struct jw w = { .fp = fp, .depth = 0 };
	char nb[64], ab[64];
	const struct nfm_counters *c = &rep->total;

	jw_open(&w, NULL, '{');
	jw_str(&w, "generator", "nexusflowmeter");
	jw_u64(&w, "report_version", 1);

	jw_open(&w, "inputs", '[');
	for (size_t i = 0; i < rep->n_inputs; i++) {
		const struct input *in = &rep->inputs[i];
		jw_open(&w, NULL, '{');
		jw_str(&w, "name", in->name);
		jw_str(&w, "format", in->format);
		jw_str(&w, "status", *in->status ? in->status : "ok");
		jw_bool(&w, "clean", *in->status == '\0');
		jw_u64(&w, "packets", in->c.packets);
		jw_u64(&w, "wire_bytes", in->c.wire_bytes);
		json_span(&w, &in->c);
		json_accounting(&w, "accounting", &in->c);
		json_anomalies(&w, &in->s);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_u64(&w, "inputs_not_listed", rep->inputs_dropped);

	jw_open(&w, "capture", '{');
	json_span(&w, c);
	jw_close(&w, '}');

	json_accounting(&w, "packets", c);
	json_anomalies(&w, &rep->stotal);

	jw_open(&w, "flows", '{');
	jw_u64(&w, "created", c->flows_created);
	jw_u64(&w, "written", c->flows_written);
	jw_u64(&w, "analysed", rep->flows);
	jw_u64(&w, "peak_active", c->peak_active_flows);
	jw_open(&w, "by_end_reason", '{');
	for (unsigned r = 0; r < NFM_END_REASON_COUNT; r++)
		jw_u64(&w, reason_name(r, nb, sizeof nb), c->flows_by_reason[r]);
	jw_close(&w, '}');
	jw_open(&w, "by_protocol", '[');
	uint16_t ord[NFM_PROTO_SLOTS];
	size_t np = proto_order(rep, ord);
	for (size_t i = 0; i < np; i++) {
		const struct proto_stat *p = &rep->proto[ord[i]];
		jw_open(&w, NULL, '{');
		jw_str(&w, "protocol", proto_slot_name(rep, ord[i], nb, sizeof nb));
		if (ord[i] == NFM_PROTO_ARP_SLOT)
			jw_null(&w, "ip_proto");
		else
			jw_u64(&w, "ip_proto", ord[i]);
		jw_u64(&w, "flows", p->flows);
		jw_u64(&w, "packets", p->packets);
		jw_u64(&w, "bytes", p->bytes);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_open(&w, "tcp_states", '{');
	for (unsigned s = 0; s <= NFM_CONN_STATE_COUNT; s++) {
		if ((s == NFM_CONN_NONE || s == NFM_CONN_STATE_COUNT) && !rep->tcp_state[s])
			continue;
		jw_u64(&w, state_name(s, nb, sizeof nb), rep->tcp_state[s]);
	}
	jw_close(&w, '}');
	jw_close(&w, '}');

	jw_open(&w, "top_talkers", '{');
	jw_str(&w, "metric", "bytes_sent");
	jw_u64(&w, "capacity", NFM_REPORT_TALKERS);
	jw_bool(&w, "exact", !rep->talkers_approx);
	jw_u64(&w, "distinct_tracked", rep->n_talkers);
	jw_open(&w, "entries", '[');
	unsigned tidx[NFM_REPORT_TOP];
	size_t nt = talker_top(rep, tidx);
	for (size_t i = 0; i < nt; i++) {
		const struct talker *t = &rep->talkers[tidx[i]];
		jw_open(&w, NULL, '{');
		jw_str(&w, "address", addr_text(t->l3, t->addr, ab, sizeof ab));
		jw_u64(&w, "bytes", t->bytes);
		jw_u64(&w, "max_error", t->err);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');

	jw_open(&w, "top_flows", '[');
	struct top_flow tf[NFM_REPORT_TOP];
	size_t nf = top_sorted(rep, tf);
	for (size_t i = 0; i < nf; i++) {
		const struct top_flow *f = &tf[i];
		unsigned slot = f->l3 == NFM_L3_ARP ? NFM_PROTO_ARP_SLOT : f->ip_proto;
		jw_open(&w, NULL, '{');
		jw_str(&w, "src", addr_text(f->l3, f->src, ab, sizeof ab));
		jw_u64(&w, "src_port", f->src_port);
		jw_str(&w, "dst", addr_text(f->l3, f->dst, ab, sizeof ab));
		jw_u64(&w, "dst_port", f->dst_port);
		jw_str(&w, "protocol", proto_slot_name(rep, slot, nb, sizeof nb));
		if (f->has_vlan)
			jw_u64(&w, "vlan", f->vlan_id);
		else
			jw_null(&w, "vlan");
		jw_u64(&w, "packets", f->packets);
		jw_u64(&w, "bytes", f->bytes);
		jw_time(&w, "first_packet", f->first_ns);
		jw_f64(&w, "duration_s",
		       (double)(f->last_ns > f->first_ns ? f->last_ns - f->first_ns : 0) / 1e9, 9);
		jw_str(&w, "end_reason", reason_name(f->end_reason, nb, sizeof nb));
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_open(&w, "distributions", '{');
	json_hist(&w, "duration", &rep->hist[H_DURATION], "s", 1e-9, 9);
	json_hist(&w, "size", &rep->hist[H_SIZE], "bytes", 1.0, 0);
	json_hist(&w, "packets", &rep->hist[H_PACKETS], "packets", 1.0, 0);
	json_hist(&w, "rate", &rep->hist[H_RATE], "bytes/s", 1.0, 3);
	jw_u64(&w, "rate_skipped_zero_duration", rep->rate_skipped);
	jw_close(&w, '}');

	jw_open(&w, "processing", '{');
	if (rep->elapsed >= 0) {
		jw_f64(&w, "elapsed_s", rep->elapsed, 6);
		if (rep->elapsed > 0) {
			jw_f64(&w, "packets_per_s", (double)c->packets / rep->elapsed, 1);
			jw_f64(&w, "flows_per_s", (double)rep->flows / rep->elapsed, 1);
		} else {
			jw_null(&w, "packets_per_s");
			jw_null(&w, "flows_per_s");
		}
	} else {
		jw_null(&w, "elapsed_s");
		jw_null(&w, "packets_per_s");
		jw_null(&w, "flows_per_s");
	}
	jw_close(&w, '}');

	jw_close(&w, '}');
	fputc('\n', fp);
	return ferror(fp) ? NFM_ERR_IO : 0;
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
