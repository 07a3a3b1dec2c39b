/* The flow meter: decoded packets in, expired flow records out (through a sink callback,
 * in expiry order). Memory is bounded by active flows: a flow is handed to the sink as
 * soon as it expires and its slot is reused. One meter per input; not thread-safe. */
#ifndef NFM_FLOW_METER_H
#define NFM_FLOW_METER_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "flow/module.h"
#include "flow/record.h"

/* Protocol selection (--protocols). */
enum {
	NFM_PROTO_TCP = 1u << 0,
	NFM_PROTO_UDP = 1u << 1,
	NFM_PROTO_ICMP = 1u << 2,  /* ICMP and ICMPv6 */
	NFM_PROTO_ARP = 1u << 3,
	NFM_PROTO_DNS = 1u << 4,   /* UDP or TCP with port 53, 5353 (mDNS) or 5355 (LLMNR) */
	NFM_PROTO_OTHER = 1u << 5, /* any other IP protocol (SCTP, GRE, ESP, ...) */
	NFM_PROTO_ALL = 0x3f,
};

struct nfm_meter_config {
	uint64_t idle_timeout_ns;   /* --flow-timeout; 0 disables */
	uint64_t active_timeout_ns; /* --active-timeout; 0 disables */
	uint64_t tcp_linger_ns;     /* how long a closed/reset connection takes stray packets */
	uint64_t max_flows;         /* 0: no limit; else flows beyond the first N are not metered */
	uint64_t max_active_flows;  /* 0: no limit; else the oldest-idle flow is evicted */
	unsigned protocols;         /* NFM_PROTO_* mask; 0 means all */
	struct nfm_decode_options decode;
	const struct nfm_layout *layout; /* feature modules (flow/module.h); NULL: none */
};

void nfm_meter_config_default(struct nfm_meter_config *cfg);

/* Packets of one kind of tunnel payload that was not followed (nfm_opaque_kind). */
#define NFM_OPAQUE_KINDS 16u
struct nfm_opaque_count {
	uint32_t kind;              /* 0: unused slot */
	uint64_t packets;
};

/* Counters for the report. Every packet read lands in exactly one of:
 * flow_packets, nonip[], decode_status[TRUNCATED|MALFORMED|UNSUPPORTED], filtered,
 * over_max_flows, fragments_unmatched. */
struct nfm_counters {
	uint64_t packets;           /* frames read */
	uint64_t wire_bytes;        /* sum of on-wire lengths of the frames read */
	uint64_t decode_status[NFM_DECODE_STATUS_COUNT];
	uint64_t nonip[NFM_NONIP_KIND_COUNT];
	uint64_t flow_packets;      /* packets counted in some flow */
	uint64_t filtered;          /* IP/ARP packets excluded by --protocols */
	uint64_t over_max_flows;    /* packets of flows beyond --max-flows */
	uint64_t fragments_unmatched; /* non-first fragments whose flow was not found */
	uint64_t fragments;         /* fragments seen (all) */
	uint64_t l4_truncated;      /* packets whose payload was cut by the snaplen */
	uint64_t ts_backwards;      /* packets older than the newest seen so far */
	uint64_t flows_created;
	uint64_t flows_written;
	uint64_t flows_by_reason[NFM_END_REASON_COUNT];
	uint64_t peak_active_flows;
	uint64_t first_ts_ns, last_ts_ns; /* capture time span (0 when no packet) */
	/* Decoded packets metered as their outer flow because a tunnel's payload was not
	 * followed (NFM_PKT_TUNNEL_OPAQUE); they also count where they landed (in flows,
	 * filtered, ...). By kind: the NFM_OPAQUE_KINDS lowest kinds seen, ascending, each
	 * count exact; packets of further kinds are only in the total. */
	uint64_t tunnel_opaque;
	struct nfm_opaque_count opaque[NFM_OPAQUE_KINDS];
};

/* Returns nonzero to stop the meter (e.g. a write error); the meter then stops calling. */
typedef int (*nfm_flow_sink)(void *ctx, const struct nfm_flow_record *rec);

struct nfm_meter;

/* cfg is copied. NULL on allocation failure. */
struct nfm_meter *nfm_meter_new(const struct nfm_meter_config *cfg, nfm_flow_sink sink,
				void *sink_ctx);
void nfm_meter_free(struct nfm_meter *m); /* does not flush; NULL is fine */

/* Decodes and meters one frame. Returns 0, or the sink's nonzero value. */
int nfm_meter_frame(struct nfm_meter *m, const uint8_t *data, uint32_t cap_len,
		    uint32_t wire_len, uint64_t ts_ns, int linktype);
/* Meters an already decoded packet (status OK). */
int nfm_meter_packet(struct nfm_meter *m, const struct nfm_packet *pkt);
/* The same for an array of packets, with the table lookups prefetched ahead. payloads:
 * NULL, or layout->payload_bytes bytes per packet holding the first bytes of its
 * transport payload (the modules that asked for them read them). */
int nfm_meter_packets(struct nfm_meter *m, const struct nfm_packet *pk, size_t n,
		      const uint8_t *payloads);
/* Writes every remaining flow (reason EOF) in creation order. */
int nfm_meter_finish(struct nfm_meter *m);
/* True when --max-flows is reached and every metered flow has been written: reading on
 * cannot change the output. */
int nfm_meter_done(const struct nfm_meter *m);
const struct nfm_counters *nfm_meter_counters(const struct nfm_meter *m);
/* Advances the meter's clock to now_ns (never backwards) and writes the flows that are
 * due, without a packet: lets a worker that saw no packet follow the global time. */
int nfm_meter_tick(struct nfm_meter *m, uint64_t now_ns);
/* The creation order (seq) of the open flow created first (returns 0 when none), and
 * writing that flow (reason end-of-input). nfm_meter_finish is these two in a loop; a
 * merge of several meters uses them to write the remaining flows of all in one
 * creation order. */
int nfm_meter_oldest_seq(const struct nfm_meter *m, uint64_t *seq);
/* Counts the fragments still waiting for their first fragment as unmatched (end of
 * input; nfm_meter_finish does it). */
void nfm_meter_flush_fragments(struct nfm_meter *m);
int nfm_meter_expire_oldest(struct nfm_meter *m);
/* dst += src. Peaks add up (shards hold disjoint flows): the sum bounds the flows held at
 * once from above; nfm_pipeline_counters replaces it with a tighter bound. */
void nfm_counters_add(struct nfm_counters *dst, const struct nfm_counters *src);
/* Adds n packets of kind to a by-kind list (saturating). The list keeps the lowest
 * NFM_OPAQUE_KINDS kinds, so what it holds, and each count, is the same whatever the
 * order of the packets and however they were split between lists that are added up. */
void nfm_opaque_add(struct nfm_opaque_count list[NFM_OPAQUE_KINDS], uint32_t kind, uint64_t n);
uint64_t nfm_meter_active_flows(const struct nfm_meter *m);
/* The most flows held at once since the previous call (since creation for the first);
 * the next window starts with the flows held now. Lets a pipeline add up its shards'
 * peaks over each batch instead of over the whole input. */
uint64_t nfm_meter_take_window_peak(struct nfm_meter *m);

#endif
