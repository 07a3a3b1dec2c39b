/* The cic feature module: the per-flow accumulators behind the CICFlowMeter columns
 * (profiles cic, cic2018, cic-v4, cic-fixed; docs/profiles.md). mod_cic.c updates the
 * state for every packet of a flow; cic_fields.c turns it into columns. Only this pair of
 * files reads the state.
 *
 * Conventions (the rule is "fix CICFlowMeter's bugs, keep its misnomers"):
 *  - times are microseconds, floor(ts_ns / 1000), as CICFlowMeter sees them;
 *  - a packet's gap is max(0, t - T) with T the running maximum of the earlier packets'
 *    times (of the flow, or of its direction for the per-direction gaps), so a capture
 *    whose timestamps go back never gives a negative time; the sequential features
 *    (active/idle, bulk, subflows) run on the flow's clamped clock max(t, T);
 *  - "packet length" is the transport payload from the IP lengths, "header length" the
 *    transport header (TCP data offset, 8 for UDP and ICMP, 12 for SCTP);
 *  - statistics are exact: integer counts, sums, minima and maxima, and sums of squares
 *    in 128 bits, so that no result depends on packet order, worker count or rounding
 *    during accumulation. Sample (n - 1) standard deviations, 0 below two values.
 * The engine's record provides what it already counts (packets, payload bytes and SYN,
 * FIN, RST, ACK counts per flow); the state holds the rest. */
#ifndef NFM_FEATURE_CIC_H
#define NFM_FEATURE_CIC_H

#include <stddef.h>
#include <stdint.h>

#include "feature/fields.h"
#include "flow/module.h"

__extension__ typedef unsigned __int128 nfm_cic_u128;

#define NFM_CIC_ACTIVITY_US 5000000u /* gap that ends an active period (CIC default 5 s) */
#define NFM_CIC_SUBFLOW_US 1000000u  /* gap that starts a new subflow (1 s) */
#define NFM_CIC_BULK_GAP_US 1000000u /* gap that restarts a bulk candidate (1 s) */
#define NFM_CIC_BULK_PKTS 4u         /* payload packets that make a bulk */

/* A sum of squares in 128 bits kept as two words: the module state is 8-byte aligned. */
struct nfm_cic_sq {
	uint64_t lo, hi;
};

static inline nfm_cic_u128 nfm_cic_sq_get(const struct nfm_cic_sq *s)
{
	return (nfm_cic_u128)s->hi << 64 | s->lo;
}

static inline void nfm_cic_sq_add(struct nfm_cic_sq *s, uint64_t x)
{
	nfm_cic_u128 v = nfm_cic_sq_get(s) + (nfm_cic_u128)x * x;
	s->lo = (uint64_t)v;
	s->hi = (uint64_t)(v >> 64);
}

/* Minimum, maximum and sum of squares of a series whose count and sum are known
 * elsewhere (the engine's counters, or a span of times). */
struct nfm_cic_series {
	struct nfm_cic_sq sq;
	uint64_t min, max;
};

/* The same for payload lengths, which fit 32 bits. */
struct nfm_cic_lens {
	struct nfm_cic_sq sq;
	uint32_t min, max;
};

/* A series with its own count and sum (active and idle periods). */
struct nfm_cic_stat {
	struct nfm_cic_series s;
	uint64_t sum;
	uint64_t n;
};

/* The bulk state of one direction (docs/profiles.md, "Algorithms"). */
struct nfm_cic_bulk {
	uint64_t start, last;   /* the candidate's first packet; the last payload packet */
	uint64_t size;          /* payload of the candidate so far */
	uint64_t bytes, dur;    /* totals over the bulks of the flow */
	uint32_t cnt;           /* payload packets in the candidate */
	uint32_t bulks, pkts;   /* bulks of the flow, payload packets in them */
	uint32_t pad;
};

/* One direction's own numbers. */
struct nfm_cic_dir {
	struct nfm_cic_lens len;     /* transport payload per packet (n, sum: the record) */
	struct nfm_cic_series iat;   /* gaps between the direction's packets */
	uint64_t first, last;        /* µs: first packet's time; running maximum T */
	uint64_t hdr;                /* sum of transport header lengths */
	struct nfm_cic_bulk bulk;
	uint32_t psh, urg, rst;      /* TCP packets with the flag */
	uint32_t data_pkts;          /* packets with payload >= 1 byte */
	uint16_t hdr_min;            /* smallest transport header */
	uint16_t win;                /* TCP window of the first TCP packet */
};

enum {
	NFM_CIC_SEEN_FWD = 1u << 0,   /* a packet of the direction was seen (<< dir) */
	NFM_CIC_WIN_FWD = 1u << 2,    /* the direction's initial window is set (<< dir) */
	NFM_CIC_BULK_OPEN = 1u << 4,  /* the direction has a bulk candidate (<< dir) */
	NFM_CIC_BULK_LAST = 1u << 6,  /* the direction's bulk `last` is set (<< dir) */
	NFM_CIC_ICMP = 1u << 8,       /* icmp_type / icmp_code are set */
};

struct nfm_cic_state {
	struct nfm_cic_dir d[2];      /* [NFM_FWD], [NFM_BWD] */
	struct nfm_cic_series iat;    /* gaps between the flow's packets */
	uint64_t first, last;         /* µs: the first packet's time; running maximum T */
	uint64_t act_start, act_end;  /* µs: the current active period */
	struct nfm_cic_stat active, idle;
	uint32_t subflow_gaps;        /* gaps > 1 s between the flow's packets */
	uint32_t cwr, ece;            /* TCP packets with CWR / ECE (either direction) */
	uint16_t bits;                /* NFM_CIC_* */
	uint8_t icmp_type, icmp_code; /* of the first ICMP/ICMPv6 packet */
};

extern const struct nfm_module nfm_mod_cic;

/* The module's columns (cic_fields.c), in the CIC-IDS2017 order of the columns they
 * feed; the profiles (profile_cic.c) pick and rename them. */
#define NFM_CIC_NFIELDS 80 /* checked against the table in cic_fields.c */
extern const struct nfm_field nfm_cic_fields[];

#endif
