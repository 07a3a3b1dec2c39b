/* NFStream's flow features (docs/profiles.md): the identity in NFStream's conventions,
 * first/last seen times, durations, packets and bytes per direction and for the flow,
 * and the 48 statistics of NFStream's statistical analysis: min/mean/stddev/max of the
 * packet sizes and of the packet inter-arrival times (piat), and the packets carrying
 * each TCP flag, for the flow (bidirectional), src2dst (from the initiator) and dst2src.
 *
 * Units and rules, as NFStream: times are milliseconds since the epoch, floor(ns / 10^6)
 * per packet; a packet's size is its on-wire length (NFStream's default accounting
 * mode); a piat is the difference of two such millisecond times; standard deviations
 * are sample ones (n - 1). Ours beyond NFStream: a packet older than the newest one seen
 * so far (in the flow, or the direction) has a gap of 0 and does not move the last-seen
 * time, so no time is ever negative; statistics come from exact integer sums (sizes and
 * the bytes of the record, 128-bit sums of squares), so they are the same whatever the
 * number of workers.
 *
 * The state holds what the record does not: per direction the first and newest time,
 * the size and piat extremes and sums of squares, and the flag counts; the bidirectional
 * piat sums. Sums of sizes are the record's bytes, packet counts its packets, and a sum
 * of gaps telescopes to newest - first, so none of them is kept. */
#include "feature/nfstream.h"

#include "decode/decode.h"
#include "feature/fields.h"
#include "feature/moments.h"

#define NS_PER_MS 1000000u

/* The TCP flags in NFStream's column order, as bit numbers of the flags byte (FIN 0 ...
 * CWR 7), which index the counts. */
static const uint8_t flag_bit[8] = { 1, 7, 6, 5, 4, 3, 2, 0 };

/* Gaps between consecutive packets of one sequence. */
struct piat {
	struct nfm_sumsq sq;
	uint64_t min, max;
};

struct dir {
	uint64_t first_ms, last_ms;   /* the first packet's time; the newest time */
	struct nfm_sumsq ps_sq;       /* sum of squared sizes */
	struct piat piat;
	uint32_t ps_min, ps_max;
	uint64_t flags[8];            /* packets with flag bit b set (FIN 0 ... CWR 7) */
};

enum {
	SEEN_FWD = 1u << 0,           /* a packet of direction d: SEEN_FWD << d */
	PIAT_FWD = 1u << 2,           /* a gap within direction d: PIAT_FWD << d */
};

struct nfs_state {
	struct dir d[2];              /* NFM_FWD (src2dst), NFM_BWD (dst2src) */
	struct piat bi;               /* gaps of the flow, both directions */
	uint8_t seen;                 /* SEEN_* | PIAT_* */
	uint8_t first_dir;            /* direction of the flow's first packet */
	uint8_t tunnel;               /* enum nfm_tunnel_type of the first packet */
};

static void piat_add(struct piat *p, uint64_t gap, int first)
{
	nfm_sumsq_add(&p->sq, gap);
	if (first || gap < p->min)
		p->min = gap;
	if (gap > p->max)
		p->max = gap;
}

static void nfs_packet(void *state, const struct nfm_module_packet *p)
{
	struct nfs_state *s = state;
	const struct nfm_packet *k = p->pkt;
	uint64_t ms = k->ts_ns / NS_PER_MS;
	uint32_t size = k->wire_len;
	int d = p->dir;
	struct dir *x = &s->d[d];

	if (p->index == 0) {
		s->first_dir = (uint8_t)d;
		s->tunnel = k->tunnel_type;
	} else {
		uint64_t newest = 0; /* the flow's newest time: the newer of its directions' */
		for (int i = 0; i < 2; i++)
			if ((s->seen & (SEEN_FWD << i)) && s->d[i].last_ms > newest)
				newest = s->d[i].last_ms;
		piat_add(&s->bi, ms > newest ? ms - newest : 0, p->index == 1);
	}
	if (!(s->seen & (SEEN_FWD << d))) {
		s->seen |= (uint8_t)(SEEN_FWD << d);
		x->first_ms = x->last_ms = ms;
		x->ps_min = x->ps_max = size;
	} else {
		piat_add(&x->piat, ms > x->last_ms ? ms - x->last_ms : 0,
			 !(s->seen & (PIAT_FWD << d)));
		s->seen |= (uint8_t)(PIAT_FWD << d);
		if (ms > x->last_ms)
			x->last_ms = ms;
		if (size < x->ps_min)
			x->ps_min = size;
		if (size > x->ps_max)
			x->ps_max = size;
	}
	nfm_sumsq_add(&x->ps_sq, size);
	unsigned fl = k->l3 != NFM_L3_ARP && k->ip_proto == NFM_IPPROTO_TCP ? k->tcp_flags : 0;
	for (; fl; fl &= fl - 1) /* one step per flag set */
		x->flags[__builtin_ctz(fl)]++;
}

/* ---- the flow's figures: direction 0, 1, or 2 for both ---- */

enum { BI = 2 };

static int seen(const struct nfs_state *s, int d)
{
	return d == BI ? (s->seen & (SEEN_FWD | (SEEN_FWD << 1))) != 0 : (s->seen & (SEEN_FWD << d)) != 0;
}

static uint64_t packets(const struct nfm_flow_record *r, int d)
{
	return d == BI ? r->pkts[0] + r->pkts[1] : r->pkts[d];
}

static uint64_t bytes(const struct nfm_flow_record *r, int d)
{
	return d == BI ? r->bytes[0] + r->bytes[1] : r->bytes[d];
}

static uint64_t first_ms(const struct nfs_state *s, int d)
{
	if (!seen(s, d))
		return 0;
	return s->d[d == BI ? s->first_dir : d].first_ms;
}

static uint64_t last_ms(const struct nfs_state *s, int d)
{
	if (d != BI)
		return seen(s, d) ? s->d[d].last_ms : 0;
	uint64_t a = last_ms(s, NFM_FWD), b = last_ms(s, NFM_BWD);
	return a > b ? a : b;
}

static uint64_t duration_ms(const struct nfs_state *s, int d)
{
	return seen(s, d) ? last_ms(s, d) - first_ms(s, d) : 0;
}

static uint64_t ps_min(const struct nfs_state *s, int d)
{
	if (d != BI)
		return seen(s, d) ? s->d[d].ps_min : 0;
	if (!seen(s, NFM_FWD) || !seen(s, NFM_BWD))
		return ps_min(s, seen(s, NFM_FWD) ? NFM_FWD : NFM_BWD);
	return s->d[0].ps_min < s->d[1].ps_min ? s->d[0].ps_min : s->d[1].ps_min;
}

static uint64_t ps_max(const struct nfs_state *s, int d)
{
	if (d != BI)
		return seen(s, d) ? s->d[d].ps_max : 0;
	uint64_t a = ps_max(s, NFM_FWD), b = ps_max(s, NFM_BWD);
	return a > b ? a : b;
}

static nfm_u128 ps_sq(const struct nfs_state *s, int d)
{
	if (d != BI)
		return nfm_sumsq_get(&s->d[d].ps_sq);
	return nfm_sumsq_get(&s->d[0].ps_sq) + nfm_sumsq_get(&s->d[1].ps_sq);
}

static const struct piat *piat_of(const struct nfs_state *s, int d)
{
	return d == BI ? &s->bi : &s->d[d].piat;
}

/* The gaps of d: one fewer than its packets; their sum telescopes to newest - first. */
static uint64_t piat_n(const struct nfm_flow_record *r, int d)
{
	uint64_t n = packets(r, d);
	return n ? n - 1 : 0;
}

/* ---- accessors ---- */

static void nfs_value(const struct nfm_flow_record *r, const struct nfs_state *s, int d,
		      int what, struct nfm_value *v)
{
	const struct piat *pi = piat_of(s, d);
	uint64_t gaps = piat_n(r, d);
	switch (what) {
	case 0: nfm_value_u64(v, first_ms(s, d)); break;
	case 1: nfm_value_u64(v, last_ms(s, d)); break;
	case 2: nfm_value_u64(v, duration_ms(s, d)); break;
	case 3: nfm_value_u64(v, packets(r, d)); break;
	case 4: nfm_value_u64(v, bytes(r, d)); break;
	case 5: nfm_value_u64(v, ps_min(s, d)); break;
	case 6: nfm_value_f64(v, nfm_moment_mean(bytes(r, d), packets(r, d))); break;
	case 7: nfm_value_f64(v, nfm_moment_sample_std(packets(r, d), bytes(r, d), ps_sq(s, d))); break;
	case 8: nfm_value_u64(v, ps_max(s, d)); break;
	case 9: nfm_value_u64(v, gaps ? pi->min : 0); break;
	case 10: nfm_value_f64(v, nfm_moment_mean(duration_ms(s, d), gaps)); break;
	case 11: nfm_value_f64(v, nfm_moment_sample_std(gaps, duration_ms(s, d), nfm_sumsq_get(&pi->sq))); break;
	case 12: nfm_value_u64(v, gaps ? pi->max : 0); break;
	default: { /* 13 + i: packets with the flag of NFStream's i-th flag column */
		int b = flag_bit[what - 13];
		nfm_value_u64(v, d == BI ? s->d[0].flags[b] + s->d[1].flags[b] : s->d[d].flags[b]);
		break;
	}
	}
}

/* One accessor per (direction, figure). */
#define ACC(dn, d, wn, w) \
	static void get_##dn##_##wn(const struct nfm_flow_record *r, const void *st, \
				    struct nfm_value *v) \
	{ \
		nfs_value(r, st, d, w, v); \
	}
#define ACC_DIR(dn, d) \
	ACC(dn, d, first, 0) ACC(dn, d, last, 1) ACC(dn, d, dur, 2) ACC(dn, d, pkts, 3) \
	ACC(dn, d, bytes, 4) ACC(dn, d, min_ps, 5) ACC(dn, d, mean_ps, 6) \
	ACC(dn, d, stddev_ps, 7) ACC(dn, d, max_ps, 8) ACC(dn, d, min_piat, 9) \
	ACC(dn, d, mean_piat, 10) ACC(dn, d, stddev_piat, 11) ACC(dn, d, max_piat, 12) \
	ACC(dn, d, syn, 13) ACC(dn, d, cwr, 14) ACC(dn, d, ece, 15) ACC(dn, d, urg, 16) \
	ACC(dn, d, ack, 17) ACC(dn, d, psh, 18) ACC(dn, d, rst, 19) ACC(dn, d, fin, 20)
ACC_DIR(bidirectional, BI)
ACC_DIR(src2dst, NFM_FWD)
ACC_DIR(dst2src, NFM_BWD)

static void get_id(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)st;
	nfm_value_u64(v, r->seq ? r->seq - 1 : 0);
}

/* 0 idle (also end of input and eviction), 1 active (also a time slice's end), -1 a TCP
 * end (close, reset, reuse: NFStream's "custom" expiration, which plugins set). */
static void get_expiration(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)st;
	v->type = NFM_V_I64;
	switch (r->end_reason) {
	case NFM_END_ACTIVE:
	case NFM_END_SLICE: v->i = 1; break;
	case NFM_END_TCP_CLOSE:
	case NFM_END_TCP_RESET:
	case NFM_END_TCP_REUSE: v->i = -1; break;
	default: v->i = 0; break;
	}
}

static void get_vlan(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)st;
	nfm_value_u64(v, r->has_vlan ? r->vlan_id : 0);
}

/* nDPI's tunnel numbers where it has the kind (1 GTP, 4 L2TP, 5 VXLAN), ours from 16. */
static void get_tunnel(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)r;
	static const uint8_t ids[NFM_TUNNEL_TYPE_COUNT] = {
		[NFM_TUNNEL_NONE] = 0, [NFM_TUNNEL_GTPU] = 1, [NFM_TUNNEL_L2TP] = 4,
		[NFM_TUNNEL_VXLAN] = 5, [NFM_TUNNEL_GRE] = 16, [NFM_TUNNEL_ERSPAN] = 17,
		[NFM_TUNNEL_IPIP] = 18, [NFM_TUNNEL_GENEVE] = 19, [NFM_TUNNEL_TEREDO] = 20,
		[NFM_TUNNEL_MPLS_UDP] = 21,
	};
	const struct nfs_state *s = st;
	nfm_value_u64(v, s->tunnel < NFM_TUNNEL_TYPE_COUNT ? ids[s->tunnel] : 0);
}

/* ---- the fields ---- */

#define U NFM_V_U64
#define F NFM_V_F64
#define T_BI "the flow (both directions)"
#define T_S2D "the src2dst direction (packets from the initiator)"
#define T_D2S "the dst2src direction (packets from the responder)"

#define FIELDS_TIMES(dn, txt) \
	{ #dn "_first_seen_ms", U, 0, 0, "ms", "Time of the first packet of " txt ", in ms since the epoch (each packet's time floored to the ms); 0 without packets.", get_##dn##_first }, \
	{ #dn "_last_seen_ms", U, 0, 0, "ms", "Time of the newest packet of " txt ", in ms since the epoch; a packet older than one before it does not move it; 0 without packets.", get_##dn##_last }, \
	{ #dn "_duration_ms", U, 0, 0, "ms", "Last minus first seen of " txt "; 0 with fewer than 2 packets.", get_##dn##_dur }, \
	{ #dn "_packets", U, 0, 0, "packets", "Packets of " txt ".", get_##dn##_pkts }, \
	{ #dn "_bytes", U, 0, 0, "bytes", "Sum of the on-wire frame lengths of " txt ".", get_##dn##_bytes }

#define FIELDS_PS(dn, txt) \
	{ #dn "_min_ps", U, 0, 0, "bytes", "Smallest on-wire frame length of " txt "; 0 without packets.", get_##dn##_min_ps }, \
	{ #dn "_mean_ps", F, 6, 0, "bytes", "Mean on-wire frame length of " txt "; 0 without packets.", get_##dn##_mean_ps }, \
	{ #dn "_stddev_ps", F, 6, 0, "bytes", "Sample standard deviation (n - 1) of the on-wire frame lengths of " txt "; 0 with fewer than 2 packets.", get_##dn##_stddev_ps }, \
	{ #dn "_max_ps", U, 0, 0, "bytes", "Largest on-wire frame length of " txt "; 0 without packets.", get_##dn##_max_ps }

#define FIELDS_PIAT(dn, txt) \
	{ #dn "_min_piat_ms", U, 0, 0, "ms", "Smallest gap between consecutive packets of " txt " (difference of their ms times; 0 for a packet older than the newest before it); 0 with fewer than 2 packets.", get_##dn##_min_piat }, \
	{ #dn "_mean_piat_ms", F, 6, 0, "ms", "Mean gap between consecutive packets of " txt " (its duration over packets - 1); 0 with fewer than 2 packets.", get_##dn##_mean_piat }, \
	{ #dn "_stddev_piat_ms", F, 6, 0, "ms", "Sample standard deviation (n - 1) of the gaps between consecutive packets of " txt "; 0 with fewer than 3 packets.", get_##dn##_stddev_piat }, \
	{ #dn "_max_piat_ms", U, 0, 0, "ms", "Largest gap between consecutive packets of " txt "; 0 with fewer than 2 packets.", get_##dn##_max_piat }

#define FIELD_FLAG(dn, txt, fl, FL) \
	{ #dn "_" #fl "_packets", U, 0, 0, "packets", "Packets of " txt " with the TCP " FL " flag set; 0 for other protocols.", get_##dn##_##fl }
#define FIELDS_FLAGS(dn, txt) \
	FIELD_FLAG(dn, txt, syn, "SYN"), FIELD_FLAG(dn, txt, cwr, "CWR"), \
	FIELD_FLAG(dn, txt, ece, "ECE"), FIELD_FLAG(dn, txt, urg, "URG"), \
	FIELD_FLAG(dn, txt, ack, "ACK"), FIELD_FLAG(dn, txt, psh, "PSH"), \
	FIELD_FLAG(dn, txt, rst, "RST"), FIELD_FLAG(dn, txt, fin, "FIN")

/* The names NFStream gives its columns, except where an engine field has the name:
 * those are nfstream_NAME here and the profile writes them as NAME. */
static const struct nfm_field nfs_fields[] = {
	{ "nfstream_id", U, 0, 0, "", "Identifies the flow within its input: the position (from 0) of the flow's first packet among the input's frames. Unique and increasing with the flow's start, but not consecutive (NFStream numbers the flows it writes 0, 1, 2, ...).", get_id },
	{ "expiration_id", NFM_V_I64, 0, 0, "", "Why the flow ended, in NFStream's numbers: 0 idle timeout (also the end of the input, and a flow written early at the memory cap), 1 active timeout (also the end of a --slice), -1 TCP close, reset or port reuse (NFStream's custom expiration, which its FIN/RST plugins set).", get_expiration },
	{ "nfstream_src_port", U, 0, 0, "", "Initiator's TCP, UDP or SCTP port; 0 for every other protocol, ICMP included (the flow is still keyed on ICMP identifiers, types and codes as in flows.md).", nfm_get_peer_src_port },
	{ "nfstream_dst_port", U, 0, 0, "", "Responder's TCP, UDP or SCTP port; 0 for every other protocol.", nfm_get_peer_dst_port },
	{ "nfstream_protocol", U, 0, 0, "", "IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...); 0 for ARP.", nfm_get_peer_protocol },
	{ "nfstream_vlan_id", U, 0, 0, "", "Outermost 802.1Q/802.1ad VLAN id; 0 when the flow is not tagged.", get_vlan },
	{ "nfstream_tunnel_id", U, 0, 0, "", "Outermost tunnel of the flow's first packet: 0 none; nDPI's numbers 1 GTP-U, 4 L2TP, 5 VXLAN; then ours: 16 GRE, 17 ERSPAN, 18 IP in IP, 19 Geneve, 20 Teredo, 21 MPLS in UDP.", get_tunnel },
	FIELDS_TIMES(bidirectional, T_BI),
	FIELDS_TIMES(src2dst, T_S2D),
	FIELDS_TIMES(dst2src, T_D2S),
	FIELDS_PS(bidirectional, T_BI),
	FIELDS_PS(src2dst, T_S2D),
	FIELDS_PS(dst2src, T_D2S),
	FIELDS_PIAT(bidirectional, T_BI),
	FIELDS_PIAT(src2dst, T_S2D),
	FIELDS_PIAT(dst2src, T_D2S),
	FIELDS_FLAGS(bidirectional, T_BI),
	FIELDS_FLAGS(src2dst, T_S2D),
	FIELDS_FLAGS(dst2src, T_D2S),
};

const struct nfm_module nfm_mod_nfstream = {
	.name = "nfstream",
	.desc = "NFStream's identity, times, counts and 48 statistics (--profile nfstream)",
	.state_size = sizeof(struct nfs_state),
	.state_align = 8,
	.packet = nfs_packet,
	.fields = nfs_fields,
	.nfields = sizeof nfs_fields / sizeof nfs_fields[0],
};
