/* The cic module's columns: accessors over the state of mod_cic.c (feature/cic.h) and
 * the engine's record, and their table. Every value is finite and never negative
 * (ICMP type and code excepted, -1 when absent): a statistic of an empty set is 0, a
 * standard deviation of fewer than two values is 0, a rate over a duration of 0 is 0.
 * Means, variances and rates are computed in long double from exact integer moments. */
#include <math.h>
#include <string.h>

#include "decode/decode.h"
#include "feature/cic.h"
#include "util/fmt.h"

#define STATE(st) const struct nfm_cic_state *s = (st)

/* The long double statistics as a decimal column (one beyond double's range is 0, as
 * any value that is not finite). */
static void v_f64(struct nfm_value *v, long double f)
{
	nfm_value_f64(v, (double)f);
}

static long double ratio(long double a, long double b)
{
	return b > 0 ? a / b : 0;
}

/* Sample variance of n values of sum `sum` and sum of squares `sq`; 0 for n < 2:
 * (n * sq - sum^2) / (n * (n - 1)), exact in 128 bits where it fits. */
static long double variance(uint64_t n, nfm_cic_u128 sum, nfm_cic_u128 sq)
{
	if (n < 2)
		return 0;
	nfm_cic_u128 a, b;
	if (!__builtin_mul_overflow(sq, (nfm_cic_u128)n, &a) && !__builtin_mul_overflow(sum, sum, &b))
		return a > b ? (long double)(a - b) / ((long double)n * (long double)(n - 1)) : 0;
	long double m = (long double)sum / (long double)n;
	long double var = ((long double)sq - m * (long double)sum) / (long double)(n - 1);
	return var > 0 ? var : 0;
}

static long double stdev(uint64_t n, nfm_cic_u128 sum, nfm_cic_u128 sq)
{
	return sqrtl(variance(n, sum, sq));
}

static uint64_t duration_us(const struct nfm_cic_state *s)
{
	return s->last - s->first;
}

/* x per second over the flow's duration (0 when the duration is 0). */
static long double per_second(const struct nfm_cic_state *s, uint64_t x)
{
	return ratio((long double)x * 1000000.0L, (long double)duration_us(s));
}

static uint64_t npkts(const struct nfm_flow_record *r)
{
	return r->pkts[0] + r->pkts[1];
}

/* ---- identity ---- */

static void get_flow_id(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)st;
	char *d = v->buf; /* at most 2 * 45 + 2 * 5 + 3 + 4 bytes */
	size_t n = 0;
	for (int side = 0; side < 2; side++) {
		char a[48];
		nfm_addr_format(r->l3, side ? r->dst : r->src, a, sizeof a);
		size_t len = strlen(a);
		memcpy(d + n, a, len);
		n += len;
		d[n++] = '-';
	}
	n += nfm_fmt_u64(d + n, nfm_record_has_ports(r) ? r->src_port : 0);
	d[n++] = '-';
	n += nfm_fmt_u64(d + n, nfm_record_has_ports(r) ? r->dst_port : 0);
	d[n++] = '-';
	n += nfm_fmt_u64(d + n, r->l3 == NFM_L3_ARP ? 0 : r->ip_proto);
	d[n] = '\0';
	v->type = NFM_V_STR;
	v->s = d;
}

static void get_timestamp(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)r;
	STATE(st);
	v->type = NFM_V_TIME;
	v->u = s->first * 1000;
}

static void get_duration(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)r;
	STATE(st);
	nfm_value_u64(v, duration_us(s));
}

static void get_label(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)r;
	(void)st;
	v->type = NFM_V_STR;
	v->s = "NeedManualLabel";
}

/* ---- payload lengths ---- */

/* Which statistic of a series an accessor returns. */
enum stat_kind { K_MAX, K_MIN, K_MEAN, K_STD, K_VAR, K_TOTAL };

static void len_stat(const struct nfm_flow_record *r, const struct nfm_cic_state *s, int d,
		     enum stat_kind k, struct nfm_value *v)
{
	uint64_t n = r->pkts[d], sum = r->payload[d];
	const struct nfm_cic_lens *l = &s->d[d].len;
	switch (k) {
	case K_MAX: nfm_value_u64(v, n ? l->max : 0); break;
	case K_MIN: nfm_value_u64(v, n ? l->min : 0); break;
	case K_MEAN: v_f64(v, ratio((long double)sum, (long double)n)); break;
	default: v_f64(v, stdev(n, sum, nfm_cic_sq_get(&l->sq))); break;
	}
}

static void all_len_stat(const struct nfm_flow_record *r, const struct nfm_cic_state *s,
			 enum stat_kind k, struct nfm_value *v)
{
	uint64_t n = npkts(r), sum = r->payload[0] + r->payload[1];
	nfm_cic_u128 sq = nfm_cic_sq_get(&s->d[0].len.sq) + nfm_cic_sq_get(&s->d[1].len.sq);
	uint32_t mn = UINT32_MAX, mx = 0;
	for (int d = 0; d < 2; d++)
		if (r->pkts[d]) {
			if (s->d[d].len.min < mn)
				mn = s->d[d].len.min;
			if (s->d[d].len.max > mx)
				mx = s->d[d].len.max;
		}
	switch (k) {
	case K_MAX: nfm_value_u64(v, mx); break;
	case K_MIN: nfm_value_u64(v, n ? mn : 0); break;
	case K_MEAN: v_f64(v, ratio((long double)sum, (long double)n)); break;
	case K_VAR: v_f64(v, variance(n, sum, sq)); break;
	default: v_f64(v, stdev(n, sum, sq)); break;
	}
}

/* ---- gaps ---- */

/* Statistics of the gaps of the flow (d < 0) or of direction d. */
static void iat_stat(const struct nfm_flow_record *r, const struct nfm_cic_state *s, int d,
		     enum stat_kind k, struct nfm_value *v)
{
	uint64_t n = d < 0 ? npkts(r) : r->pkts[d];
	n = n ? n - 1 : 0; /* gaps */
	uint64_t sum = 0;
	const struct nfm_cic_series *g = d < 0 ? &s->iat : &s->d[d].iat;
	if (n)
		sum = d < 0 ? s->last - s->first : s->d[d].last - s->d[d].first;
	switch (k) {
	case K_TOTAL: nfm_value_u64(v, sum); break;
	case K_MAX: nfm_value_u64(v, n ? g->max : 0); break;
	case K_MIN: nfm_value_u64(v, n ? g->min : 0); break;
	case K_MEAN: v_f64(v, ratio((long double)sum, (long double)n)); break;
	default: v_f64(v, stdev(n, sum, nfm_cic_sq_get(&g->sq))); break;
	}
}

/* ---- active and idle periods ---- */

static void period_stat(const struct nfm_cic_stat *p, enum stat_kind k, struct nfm_value *v)
{
	switch (k) {
	case K_MAX: nfm_value_u64(v, p->n ? p->s.max : 0); break;
	case K_MIN: nfm_value_u64(v, p->n ? p->s.min : 0); break;
	case K_MEAN: v_f64(v, ratio((long double)p->sum, (long double)p->n)); break;
	default: v_f64(v, stdev(p->n, p->sum, nfm_cic_sq_get(&p->s.sq))); break;
	}
}

/* ---- accessor boilerplate ---- */

#define GET(name) static void name(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)

#define LEN(name, d, k) GET(name) { len_stat(r, st, d, k, v); }
LEN(get_fwd_len_max, NFM_FWD, K_MAX)
LEN(get_fwd_len_min, NFM_FWD, K_MIN)
LEN(get_fwd_len_mean, NFM_FWD, K_MEAN)
LEN(get_fwd_len_std, NFM_FWD, K_STD)
LEN(get_bwd_len_max, NFM_BWD, K_MAX)
LEN(get_bwd_len_min, NFM_BWD, K_MIN)
LEN(get_bwd_len_mean, NFM_BWD, K_MEAN)
LEN(get_bwd_len_std, NFM_BWD, K_STD)

#define ALL(name, k) GET(name) { all_len_stat(r, st, k, v); }
ALL(get_len_min, K_MIN)
ALL(get_len_max, K_MAX)
ALL(get_len_mean, K_MEAN)
ALL(get_len_std, K_STD)
ALL(get_len_var, K_VAR)

#define IAT(name, d, k) GET(name) { iat_stat(r, st, d, k, v); }
IAT(get_iat_mean, -1, K_MEAN)
IAT(get_iat_std, -1, K_STD)
IAT(get_iat_max, -1, K_MAX)
IAT(get_iat_min, -1, K_MIN)
IAT(get_fwd_iat_total, NFM_FWD, K_TOTAL)
IAT(get_fwd_iat_mean, NFM_FWD, K_MEAN)
IAT(get_fwd_iat_std, NFM_FWD, K_STD)
IAT(get_fwd_iat_max, NFM_FWD, K_MAX)
IAT(get_fwd_iat_min, NFM_FWD, K_MIN)
IAT(get_bwd_iat_total, NFM_BWD, K_TOTAL)
IAT(get_bwd_iat_mean, NFM_BWD, K_MEAN)
IAT(get_bwd_iat_std, NFM_BWD, K_STD)
IAT(get_bwd_iat_max, NFM_BWD, K_MAX)
IAT(get_bwd_iat_min, NFM_BWD, K_MIN)

#define PERIOD(name, which, k) GET(name) { (void)r; STATE(st); period_stat(&s->which, k, v); }
PERIOD(get_active_mean, active, K_MEAN)
PERIOD(get_active_std, active, K_STD)
PERIOD(get_active_max, active, K_MAX)
PERIOD(get_active_min, active, K_MIN)
PERIOD(get_idle_mean, idle, K_MEAN)
PERIOD(get_idle_std, idle, K_STD)
PERIOD(get_idle_max, idle, K_MAX)
PERIOD(get_idle_min, idle, K_MIN)

/* A per-direction integer of the state. */
#define DIR_U(name, dir, expr) GET(name) { (void)r; STATE(st); const struct nfm_cic_dir *dd = &s->d[dir]; nfm_value_u64(v, (expr)); }
DIR_U(get_fwd_psh, NFM_FWD, dd->psh)
DIR_U(get_bwd_psh, NFM_BWD, dd->psh)
DIR_U(get_fwd_urg, NFM_FWD, dd->urg)
DIR_U(get_bwd_urg, NFM_BWD, dd->urg)
DIR_U(get_fwd_rst, NFM_FWD, dd->rst)
DIR_U(get_bwd_rst, NFM_BWD, dd->rst)
DIR_U(get_fwd_hdr, NFM_FWD, dd->hdr)
DIR_U(get_bwd_hdr, NFM_BWD, dd->hdr)
DIR_U(get_fwd_hdr_min, NFM_FWD, dd->hdr_min)
DIR_U(get_bwd_hdr_min, NFM_BWD, dd->hdr_min)
DIR_U(get_fwd_win, NFM_FWD, dd->win)
DIR_U(get_bwd_win, NFM_BWD, dd->win)
DIR_U(get_fwd_data, NFM_FWD, dd->data_pkts)
DIR_U(get_bwd_data, NFM_BWD, dd->data_pkts)

/* Flow-wide flag counts the engine does not keep. */
#define FLOW_U(name, expr) GET(name) { (void)r; STATE(st); nfm_value_u64(v, (expr)); }
FLOW_U(get_psh, (uint64_t)s->d[0].psh + s->d[1].psh)
FLOW_U(get_urg, (uint64_t)s->d[0].urg + s->d[1].urg)
FLOW_U(get_cwr, s->cwr)
FLOW_U(get_ece, s->ece)

/* Rates over the flow's duration. */
#define RATE(name, x) GET(name) { STATE(st); v_f64(v, per_second(s, (x))); }
RATE(get_flow_bytes_s, r->payload[0] + r->payload[1])
RATE(get_flow_pkts_s, npkts(r))
RATE(get_fwd_pkts_s, r->pkts[NFM_FWD])
RATE(get_bwd_pkts_s, r->pkts[NFM_BWD])

GET(get_down_up)
{
	(void)st;
	v_f64(v, ratio((long double)r->pkts[NFM_BWD], (long double)r->pkts[NFM_FWD]));
}

/* Bulks of direction d: average bytes, packets per bulk, bytes per second in bulks. */
#define BULK(name, dir, expr) GET(name) { (void)r; STATE(st); const struct nfm_cic_bulk *b = &s->d[dir].bulk; v_f64(v, (expr)); }
BULK(get_fwd_bulk_bytes, NFM_FWD, ratio((long double)b->bytes, b->bulks))
BULK(get_fwd_bulk_pkts, NFM_FWD, ratio((long double)b->pkts, b->bulks))
BULK(get_fwd_bulk_rate, NFM_FWD, ratio((long double)b->bytes * 1000000.0L, (long double)b->dur))
BULK(get_bwd_bulk_bytes, NFM_BWD, ratio((long double)b->bytes, b->bulks))
BULK(get_bwd_bulk_pkts, NFM_BWD, ratio((long double)b->pkts, b->bulks))
BULK(get_bwd_bulk_rate, NFM_BWD, ratio((long double)b->bytes * 1000000.0L, (long double)b->dur))

/* Subflows: one more than the gaps over 1 s. */
#define SUBFLOW(name, x) GET(name) { STATE(st); v_f64(v, (long double)(x) / ((long double)s->subflow_gaps + 1)); }
SUBFLOW(get_sub_fwd_pkts, r->pkts[NFM_FWD])
SUBFLOW(get_sub_fwd_bytes, r->payload[NFM_FWD])
SUBFLOW(get_sub_bwd_pkts, r->pkts[NFM_BWD])
SUBFLOW(get_sub_bwd_bytes, r->payload[NFM_BWD])

/* ICMP type and code of the flow's first ICMP header; -1 when it has none. */
GET(get_icmp_type)
{
	(void)r;
	STATE(st);
	v_f64(v, (s->bits & NFM_CIC_ICMP) ? (long double)s->icmp_type : -1.0L);
}

GET(get_icmp_code)
{
	(void)r;
	STATE(st);
	v_f64(v, (s->bits & NFM_CIC_ICMP) ? (long double)s->icmp_code : -1.0L);
}

/* ---- the table ---- */

#define U NFM_V_U64
#define F NFM_V_F64
#define PL "Packet length here is the transport payload (IP length minus IP and transport headers), not the frame length"
#define GAPS "Gaps are in µs between consecutive packets in capture order, a packet older than the newest before it counting 0"

const struct nfm_field nfm_cic_fields[] = {
	{ "cic_flow_id", NFM_V_STR, 0, 0, "", "`SrcIP-DstIP-SrcPort-DstPort-Protocol` in forward (initiator first) order, with the port and protocol numbers of `cic_src_port`, `cic_dst_port` and `cic_protocol`.", get_flow_id },
	{ "cic_src_port", U, 0, 0, "", "Initiator's TCP, UDP or SCTP port; 0 for every other protocol (ICMP included).", nfm_get_peer_src_port },
	{ "cic_dst_port", U, 0, 0, "", "Responder's TCP, UDP or SCTP port; 0 for every other protocol.", nfm_get_peer_dst_port },
	{ "cic_protocol", U, 0, 0, "", "IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 132 SCTP, ...); 0 for ARP.", nfm_get_peer_protocol },
	{ "cic_timestamp", NFM_V_TIME, 0, 0, "UTC", "Time of the flow's first packet, to the microsecond.", get_timestamp },
	{ "cic_flow_duration", U, 0, 0, "µs", "Newest packet time of the flow minus its first packet's time; 0 for one packet.", get_duration },
	{ "cic_fwd_pkt_len_max", U, 0, 0, "bytes", "Largest payload of a forward packet; 0 without forward packets. " PL ".", get_fwd_len_max },
	{ "cic_fwd_pkt_len_min", U, 0, 0, "bytes", "Smallest payload of a forward packet; 0 without forward packets.", get_fwd_len_min },
	{ "cic_fwd_pkt_len_mean", F, 3, 0, "bytes", "Mean payload of the forward packets; 0 without forward packets.", get_fwd_len_mean },
	{ "cic_fwd_pkt_len_std", F, 3, 0, "bytes", "Sample standard deviation of the forward packets' payloads; 0 below 2 packets.", get_fwd_len_std },
	{ "cic_bwd_pkt_len_max", U, 0, 0, "bytes", "Largest payload of a backward packet; 0 without backward packets.", get_bwd_len_max },
	{ "cic_bwd_pkt_len_min", U, 0, 0, "bytes", "Smallest payload of a backward packet; 0 without backward packets.", get_bwd_len_min },
	{ "cic_bwd_pkt_len_mean", F, 3, 0, "bytes", "Mean payload of the backward packets; 0 without backward packets.", get_bwd_len_mean },
	{ "cic_bwd_pkt_len_std", F, 3, 0, "bytes", "Sample standard deviation of the backward packets' payloads; 0 below 2 packets.", get_bwd_len_std },
	{ "cic_flow_bytes_per_s", F, 3, 0, "bytes/s", "Payload bytes of the flow (both directions) per second of `cic_flow_duration`; 0 when the duration is 0.", get_flow_bytes_s },
	{ "cic_flow_pkts_per_s", F, 3, 0, "packets/s", "Packets of the flow per second of `cic_flow_duration`; 0 when the duration is 0.", get_flow_pkts_s },
	{ "cic_flow_iat_mean", F, 3, 0, "µs", "Mean gap between consecutive packets of the flow (both directions): duration / (packets - 1); 0 for one packet. " GAPS ".", get_iat_mean },
	{ "cic_flow_iat_std", F, 3, 0, "µs", "Sample standard deviation of those gaps; 0 below 2 gaps.", get_iat_std },
	{ "cic_flow_iat_max", U, 0, 0, "µs", "Largest gap between consecutive packets of the flow; 0 for one packet.", get_iat_max },
	{ "cic_flow_iat_min", U, 0, 0, "µs", "Smallest gap between consecutive packets of the flow; 0 for one packet.", get_iat_min },
	{ "cic_fwd_iat_total", U, 0, 0, "µs", "Sum of the gaps between consecutive forward packets (newest minus first forward packet time); 0 below 2 forward packets.", get_fwd_iat_total },
	{ "cic_fwd_iat_mean", F, 3, 0, "µs", "Mean gap between consecutive forward packets; 0 below 2 forward packets.", get_fwd_iat_mean },
	{ "cic_fwd_iat_std", F, 3, 0, "µs", "Sample standard deviation of the forward gaps; 0 below 3 forward packets.", get_fwd_iat_std },
	{ "cic_fwd_iat_max", U, 0, 0, "µs", "Largest forward gap; 0 below 2 forward packets.", get_fwd_iat_max },
	{ "cic_fwd_iat_min", U, 0, 0, "µs", "Smallest forward gap; 0 below 2 forward packets.", get_fwd_iat_min },
	{ "cic_bwd_iat_total", U, 0, 0, "µs", "Sum of the gaps between consecutive backward packets; 0 below 2 backward packets.", get_bwd_iat_total },
	{ "cic_bwd_iat_mean", F, 3, 0, "µs", "Mean gap between consecutive backward packets; 0 below 2 backward packets.", get_bwd_iat_mean },
	{ "cic_bwd_iat_std", F, 3, 0, "µs", "Sample standard deviation of the backward gaps; 0 below 3 backward packets.", get_bwd_iat_std },
	{ "cic_bwd_iat_max", U, 0, 0, "µs", "Largest backward gap; 0 below 2 backward packets.", get_bwd_iat_max },
	{ "cic_bwd_iat_min", U, 0, 0, "µs", "Smallest backward gap; 0 below 2 backward packets.", get_bwd_iat_min },
	{ "cic_fwd_psh_flags", U, 0, 0, "packets", "Forward TCP packets with PSH set.", get_fwd_psh },
	{ "cic_bwd_psh_flags", U, 0, 0, "packets", "Backward TCP packets with PSH set.", get_bwd_psh },
	{ "cic_fwd_urg_flags", U, 0, 0, "packets", "Forward TCP packets with URG set.", get_fwd_urg },
	{ "cic_bwd_urg_flags", U, 0, 0, "packets", "Backward TCP packets with URG set.", get_bwd_urg },
	{ "cic_fwd_hdr_len", U, 0, 0, "bytes", "Sum of the transport headers of the forward packets: TCP data offset x 4 (options included), 8 for UDP and ICMP, 12 for SCTP, 0 for other protocols and for fragments after the first; no IP header.", get_fwd_hdr },
	{ "cic_bwd_hdr_len", U, 0, 0, "bytes", "Sum of the transport headers of the backward packets (as `cic_fwd_hdr_len`).", get_bwd_hdr },
	{ "cic_fwd_pkts_per_s", F, 3, 0, "packets/s", "Forward packets per second of `cic_flow_duration` (the flow's, not the forward span); 0 when the duration is 0.", get_fwd_pkts_s },
	{ "cic_bwd_pkts_per_s", F, 3, 0, "packets/s", "Backward packets per second of `cic_flow_duration`; 0 when the duration is 0.", get_bwd_pkts_s },
	{ "cic_pkt_len_min", U, 0, 0, "bytes", "Smallest payload of a packet of the flow (either direction).", get_len_min },
	{ "cic_pkt_len_max", U, 0, 0, "bytes", "Largest payload of a packet of the flow.", get_len_max },
	{ "cic_pkt_len_mean", F, 3, 0, "bytes", "Mean payload of the flow's packets, each counted once.", get_len_mean },
	{ "cic_pkt_len_std", F, 3, 0, "bytes", "Sample standard deviation of the flow's payloads; 0 for one packet.", get_len_std },
	{ "cic_pkt_len_var", F, 3, 0, "bytes²", "Sample variance of the flow's payloads; 0 for one packet.", get_len_var },
	{ "cic_psh_count", U, 0, 0, "packets", "TCP packets with PSH set (both directions).", get_psh },
	{ "cic_urg_count", U, 0, 0, "packets", "TCP packets with URG set (both directions).", get_urg },
	{ "cic_cwr_count", U, 0, 0, "packets", "TCP packets with CWR set (both directions); CIC-IDS2017 calls the column CWE.", get_cwr },
	{ "cic_ece_count", U, 0, 0, "packets", "TCP packets with ECE set (both directions).", get_ece },
	{ "cic_down_up_ratio", F, 4, 0, "", "Backward packets / forward packets, as a real number; 0 without forward packets.", get_down_up },
	{ "cic_avg_pkt_size", F, 3, 0, "bytes", "Mean payload of the flow's packets (the same value as `cic_pkt_len_mean`).", get_len_mean },
	{ "cic_fwd_seg_size_avg", F, 3, 0, "bytes", "Mean payload of the forward packets (the same value as `cic_fwd_pkt_len_mean`).", get_fwd_len_mean },
	{ "cic_bwd_seg_size_avg", F, 3, 0, "bytes", "Mean payload of the backward packets (the same value as `cic_bwd_pkt_len_mean`).", get_bwd_len_mean },
	{ "cic_fwd_bulk_bytes_avg", F, 3, 0, "bytes", "Payload bytes per forward bulk; 0 without one. A bulk is a run of at least 4 payload packets of one direction, each within 1 s of the previous, with no payload from the other side in between (on the flow's clock).", get_fwd_bulk_bytes },
	{ "cic_fwd_bulk_pkts_avg", F, 3, 0, "packets", "Packets per forward bulk; 0 without one.", get_fwd_bulk_pkts },
	{ "cic_fwd_bulk_rate", F, 3, 0, "bytes/s", "Payload bytes of the forward bulks per second of their durations (first to last packet of each); 0 when that is 0.", get_fwd_bulk_rate },
	{ "cic_bwd_bulk_bytes_avg", F, 3, 0, "bytes", "Payload bytes per backward bulk; 0 without one.", get_bwd_bulk_bytes },
	{ "cic_bwd_bulk_pkts_avg", F, 3, 0, "packets", "Packets per backward bulk; 0 without one.", get_bwd_bulk_pkts },
	{ "cic_bwd_bulk_rate", F, 3, 0, "bytes/s", "Payload bytes of the backward bulks per second of their durations; 0 when that is 0.", get_bwd_bulk_rate },
	{ "cic_subflow_fwd_pkts", F, 3, 0, "packets", "Forward packets / subflows. The subflows are 1 + the gaps over 1 s between consecutive packets of the flow.", get_sub_fwd_pkts },
	{ "cic_subflow_fwd_bytes", F, 3, 0, "bytes", "Forward payload bytes / subflows.", get_sub_fwd_bytes },
	{ "cic_subflow_bwd_pkts", F, 3, 0, "packets", "Backward packets / subflows.", get_sub_bwd_pkts },
	{ "cic_subflow_bwd_bytes", F, 3, 0, "bytes", "Backward payload bytes / subflows.", get_sub_bwd_bytes },
	{ "cic_init_win_fwd", U, 0, 0, "bytes", "TCP window field (raw, not scaled) of the first forward TCP packet; 0 when there is none.", get_fwd_win },
	{ "cic_init_win_bwd", U, 0, 0, "bytes", "TCP window field (raw) of the first backward TCP packet; 0 when there is none.", get_bwd_win },
	{ "cic_fwd_act_data_pkts", U, 0, 0, "packets", "Forward packets with at least 1 byte of payload.", get_fwd_data },
	{ "cic_fwd_hdr_len_min", U, 0, 0, "bytes", "Smallest transport header of a forward packet (as `cic_fwd_hdr_len`); 0 without forward packets.", get_fwd_hdr_min },
	{ "cic_active_mean", F, 3, 0, "µs", "Mean active period. The flow is active until a gap over 5 s; such a gap is an idle period and ends the active period before it (recorded when longer than 0). The period running when the flow ends is not recorded; 0 without any.", get_active_mean },
	{ "cic_active_std", F, 3, 0, "µs", "Sample standard deviation of the active periods; 0 below 2.", get_active_std },
	{ "cic_active_max", U, 0, 0, "µs", "Longest active period; 0 without any.", get_active_max },
	{ "cic_active_min", U, 0, 0, "µs", "Shortest active period; 0 without any.", get_active_min },
	{ "cic_idle_mean", F, 3, 0, "µs", "Mean idle period (gap over 5 s); 0 without any.", get_idle_mean },
	{ "cic_idle_std", F, 3, 0, "µs", "Sample standard deviation of the idle periods; 0 below 2.", get_idle_std },
	{ "cic_idle_max", U, 0, 0, "µs", "Longest idle period; 0 without any.", get_idle_max },
	{ "cic_idle_min", U, 0, 0, "µs", "Shortest idle period; 0 without any.", get_idle_min },
	{ "cic_label", NFM_V_STR, 0, 0, "", "`NeedManualLabel`, CICFlowMeter's value for a flow nobody has labelled yet.", get_label },
	{ "cic_fwd_rst_flags", U, 0, 0, "packets", "Forward TCP packets with RST set.", get_fwd_rst },
	{ "cic_bwd_rst_flags", U, 0, 0, "packets", "Backward TCP packets with RST set.", get_bwd_rst },
	{ "cic_bwd_act_data_pkts", U, 0, 0, "packets", "Backward packets with at least 1 byte of payload.", get_bwd_data },
	{ "cic_bwd_hdr_len_min", U, 0, 0, "bytes", "Smallest transport header of a backward packet; 0 without backward packets.", get_bwd_hdr_min },
	{ "cic_icmp_code", F, 0, 0, "", "Code of the flow's first ICMP or ICMPv6 header; -1 when the flow has none.", get_icmp_code },
	{ "cic_icmp_type", F, 0, 0, "", "Type of the flow's first ICMP or ICMPv6 header; -1 when the flow has none.", get_icmp_type },
};

_Static_assert(sizeof nfm_cic_fields / sizeof nfm_cic_fields[0] == NFM_CIC_NFIELDS,
	       "NFM_CIC_NFIELDS is the length of the table");
