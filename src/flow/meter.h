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

/* Bytes one active flow takes at most with layout (NULL: no module): its flow-table
 * entry (the engine's part and the modules' states), its share of the table's index,
 * and what the modules may hold outside the entry (heap_bytes). The memory budget
 * (--chunk-size) divided by this gives the flow cap. */
size_t nfm_meter_flow_bytes(const struct nfm_layout *layout);

/* Packets of one kind of tunnel payload that was not followed (nfm_opaque_kind). */
#define NFM_OPAQUE_KINDS 16u
struct nfm_opaque_count {
	uint32_t kind;              /* 0: unused slot */
	uint64_t packets;
};

/* The counters, one row each, X(name, add, dim, role, unit, key, label, desc): this one
 * list makes struct nfm_counters, both ways of adding counters up (nfm_counters_add,
 * nfm_counters_add_input) and the table the report reads (nfm_counters_info). A new
 * counter is one row here plus the code that counts it.
 *  add:   how counters add up: SUM a count; SUMS dim counts, one per kind; PEAK the most
 *         at once; FIRST / LAST the earliest / latest packet time (0: none); KINDS the
 *         bounded by-kind list of tunnel payloads not followed (see nfm_opaque_add).
 *  role:  where the report shows it. Every packet read lands in exactly one LANDED
 *         counter (SUMS: in one of its kinds) or in one of the decode results other than
 *         ok and non-IP (LANDED_STATUS); READ counts what was read; NOTED packets are
 *         also counted where they landed (KINDS: by kind, of the NOTED row before);
 *         FLOWS and SPAN are shown by the report's flow and input sections.
 *  unit:  PACKETS, BYTES, FLOWS or NS.
 *  key, label: the report's JSON key and text label (NULL: the section names it). */
#define NFM_COUNTERS(X)                                                                      \
	X(packets, SUM, 1, READ, PACKETS, "read", "packets read", "frames read")             \
	X(wire_bytes, SUM, 1, READ, BYTES, "wire_bytes", "wire bytes",                       \
	  "sum of on-wire lengths of the frames read")                                       \
	X(flow_packets, SUM, 1, LANDED, PACKETS, "in_flows", "in flows",                     \
	  "packets counted in some flow")                                                    \
	X(nonip, SUMS, NFM_NONIP_KIND_COUNT, LANDED, PACKETS, "nonip", "non-IP",              \
	  "frames that carry no IP or ARP, by kind")                                         \
	X(decode_status, SUMS, NFM_DECODE_STATUS_COUNT, LANDED_STATUS, PACKETS,               \
	  "decode_status", NULL, "frames by decode result")                                  \
	X(filtered, SUM, 1, LANDED, PACKETS, "filtered", "filtered (--protocols)",            \
	  "IP/ARP packets excluded by --protocols")                                          \
	X(over_max_flows, SUM, 1, LANDED, PACKETS, "over_max_flows", "beyond --max-flows",    \
	  "packets of flows beyond --max-flows")                                             \
	X(fragments_unmatched, SUM, 1, LANDED, PACKETS, "fragments_unmatched",                \
	  "unmatched fragments", "non-first fragments whose flow was not found")             \
	X(fragments, SUM, 1, NOTED, PACKETS, "fragments", "fragments (all)",                  \
	  "fragments seen (all)")                                                            \
	X(l4_truncated, SUM, 1, NOTED, PACKETS, "l4_truncated", "payload cut by snaplen",     \
	  "packets whose payload was cut by the snaplen")                                    \
	X(ts_backwards, SUM, 1, NOTED, PACKETS, "ts_backwards", "timestamps going backwards", \
	  "packets older than the newest seen so far")                                       \
	X(tunnel_opaque, SUM, 1, NOTED, PACKETS, "tunnel_not_followed",                       \
	  "tunnel payload not followed",                                                     \
	  "decoded packets metered as their outer flow because a tunnel's payload was not "  \
	  "followed (NFM_PKT_TUNNEL_OPAQUE); they also count where they landed")             \
	X(opaque, KINDS, NFM_OPAQUE_KINDS, NOTED, PACKETS, "tunnel_not_followed_by_kind",     \
	  NULL,                                                                              \
	  "tunnel_opaque by kind: the NFM_OPAQUE_KINDS lowest kinds seen, ascending, each "  \
	  "count exact; packets of further kinds are only in the total")                     \
	X(flows_created, SUM, 1, FLOWS, FLOWS, NULL, NULL, "flows created")                   \
	X(flows_written, SUM, 1, FLOWS, FLOWS, NULL, NULL, "flows written")                   \
	X(flows_by_reason, SUMS, NFM_END_REASON_COUNT, FLOWS, FLOWS, NULL, NULL,              \
	  "flows written, by end reason")                                                    \
	X(peak_active_flows, PEAK, 1, FLOWS, FLOWS, NULL, NULL, "most flows held at once")    \
	X(first_ts_ns, FIRST, 1, SPAN, NS, NULL, NULL, "time of the first packet")            \
	X(last_ts_ns, LAST, 1, SPAN, NS, NULL, NULL, "time of the last packet")

#define NFM_COUNTER_FIELD_SUM(name, dim) uint64_t name;
#define NFM_COUNTER_FIELD_SUMS(name, dim) uint64_t name[dim];
#define NFM_COUNTER_FIELD_PEAK(name, dim) uint64_t name;
#define NFM_COUNTER_FIELD_FIRST(name, dim) uint64_t name;
#define NFM_COUNTER_FIELD_LAST(name, dim) uint64_t name;
#define NFM_COUNTER_FIELD_KINDS(name, dim) struct nfm_opaque_count name[dim];
#define NFM_COUNTER_FIELD(name, add, dim, role, unit, key, label, desc)                    \
	NFM_COUNTER_FIELD_##add(name, dim)

/* Counters for the report (see NFM_COUNTERS for each field). */
struct nfm_counters {
	NFM_COUNTERS(NFM_COUNTER_FIELD)
};

enum nfm_counter_add { NFM_CA_SUM, NFM_CA_SUMS, NFM_CA_PEAK, NFM_CA_FIRST, NFM_CA_LAST,
		       NFM_CA_KINDS };
enum nfm_counter_role { NFM_CR_READ, NFM_CR_LANDED, NFM_CR_LANDED_STATUS, NFM_CR_NOTED,
			NFM_CR_FLOWS, NFM_CR_SPAN };
enum nfm_counter_unit { NFM_CU_PACKETS, NFM_CU_BYTES, NFM_CU_FLOWS, NFM_CU_NS };

/* A row of NFM_COUNTERS, for code that walks the counters. */
struct nfm_counter_info {
	const char *name;
	enum nfm_counter_add add;
	unsigned dim;
	enum nfm_counter_role role;
	enum nfm_counter_unit unit;
	const char *key, *label, *desc;
	size_t offset;             /* of the field in struct nfm_counters */
};

/* total += c for inputs read one after another (the report): sums saturate, a peak is
 * the largest of any input, the first time is the earliest that is not 0. (Worker
 * shards of one input add up with nfm_counters_add, below.) */
void nfm_counters_add_input(struct nfm_counters *total, const struct nfm_counters *c);

/* The rows of NFM_COUNTERS, in order. */
const struct nfm_counter_info *nfm_counters_info(size_t *count);

/* The dim values of a counter that is not KINDS. */
static inline const uint64_t *nfm_counter_values(const struct nfm_counters *c,
						 const struct nfm_counter_info *ci)
{
	return (const uint64_t *)(const void *)((const char *)c + ci->offset);
}

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
/* The end of a time slice: writes every open flow (reason SLICE; a TCP flow already
 * closed keeps its reason) in creation order. Fragments waiting for their first
 * fragment stay. */
int nfm_meter_cut(struct nfm_meter *m);
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
