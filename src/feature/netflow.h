/* NetFlow records: what nfpcapd meters, taken from our flows. The engine meters each
 * conversation once, in both directions; the netflow feature module (mod_netflow.c)
 * keeps, per direction, what a NetFlow record needs and the engine does not: the first
 * and last packet times, the bytes as IP total lengths (IPv4 total length, IPv6 payload
 * length + 40, as nfpcapd counts), the OR of the TCP flags, the ToS / traffic class and
 * the ICMP type and code of the direction's first packet, and the outermost tunnel.
 * nfm_netflow_split turns one ended flow into its NetFlow records: one per direction
 * that saw packets (key: IP version, protocol, addresses, ports; for ICMP src_port 0 and
 * dst_port type * 256 + code, as nfdump stores them). ARP and other non-IP flows have
 * no NetFlow record.
 *
 * The exporters of this family (nfdump JSON, nfcapd files, IPFIX / NetFlow v9) read the
 * records from the module state through nfm_netflow_split / nfm_netflow_biflow; they
 * find the state with nfm_netflow_state (the module's offset in the run's layout). */
#ifndef NFM_FEATURE_NETFLOW_H
#define NFM_FEATURE_NETFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/module.h"
#include "flow/record.h"

extern const struct nfm_module nfm_mod_netflow;

/* One unidirectional NetFlow record. Addresses: IPv4 in the first 4 bytes. */
struct nfm_nf_record {
	uint64_t first_ms, last_ms;  /* capture time of the first / last packet, ms since the
				      * epoch, truncated (as nfpcapd) */
	uint64_t packets;
	uint64_t bytes;              /* sum of IP total lengths */
	uint8_t l3;                  /* NFM_L3_IPV4 or NFM_L3_IPV6 */
	uint8_t proto;               /* IP protocol */
	uint8_t tcp_flags;           /* OR of the direction's TCP flags (0: not TCP) */
	uint8_t tos;                 /* ToS / traffic class of the first packet */
	uint16_t src_port, dst_port; /* ICMP / ICMPv6: 0 and type * 256 + code */
	uint8_t icmp_type, icmp_code;/* ICMP / ICMPv6 only (else 0) */
	uint8_t end_reason;          /* enum nfm_end_reason of the flow */
	uint8_t tun_l3;              /* outermost tunnel's outer IP version, 0: none */
	uint8_t tun_proto;           /* its outer IP protocol (4, 41, 47, 17 ...) */
	uint8_t src[16], dst[16];
	uint8_t tun_src[16], tun_dst[16];
};

/* One flow as a biflow (RFC 5103): the forward direction in fwd, the backward packets,
 * bytes and TCP flags in rev_* (all 0 when the responder sent nothing; when the
 * initiator sent nothing, which only a flow that continues one cut by the active timeout
 * can show, fwd holds the responder's direction and rev_* are 0). */
struct nfm_nf_biflow {
	struct nfm_nf_record fwd;
	uint64_t rev_packets, rev_bytes;
	uint64_t rev_first_ms, rev_last_ms; /* 0 when the responder sent nothing */
	uint8_t rev_tcp_flags, rev_tos;
};

/* The netflow module's state in a record's module area, or NULL (the module is not in
 * the layout, or the record carries no module state). off: nfm_layout_offset of
 * nfm_mod_netflow. */
static inline const void *nfm_netflow_state(const struct nfm_flow_record *rec, size_t off)
{
	return (rec->modules && off != SIZE_MAX) ? rec->modules + off : NULL;
}

/* The NetFlow records of one ended flow, forward direction first: 0 (not IP, or no
 * state), 1 or 2. */
int nfm_netflow_split(const struct nfm_flow_record *rec, const void *state,
		      struct nfm_nf_record out[2]);

/* The flow as one biflow; false when it has no NetFlow record (not IP, no state). */
bool nfm_netflow_biflow(const struct nfm_flow_record *rec, const void *state,
			struct nfm_nf_biflow *out);

/* The "received" time of a record: nfpcapd writes the wall clock of the flush, which
 * no two runs share; we write the record's last packet time (a live meter receives the
 * record then at the earliest), so outputs are reproducible. nfdump JSON and nfcapd
 * files agree on it. */
static inline uint64_t nfm_nf_received_ms(const struct nfm_nf_record *r)
{
	return r->last_ms;
}

/* Options of the NetFlow exporters, set from the command line. */
enum nfm_nf_sort { NFM_NF_SORT_NONE = 0, NFM_NF_SORT_BYTES, NFM_NF_SORT_PACKETS,
		   NFM_NF_SORT_FIRST };

struct nfm_netflow_opts {
	bool localtime;              /* nfdump JSON: local time (as nfdump prints), not UTC */
	enum nfm_nf_sort sort;       /* nfdump JSON: order of the records of one output */
	bool lz4;                    /* nfcapd: LZ4-compressed blocks */
	const char *ident;           /* nfcapd: the file's ident string (NULL: "none") */
	bool biflow;                 /* IPFIX: one record per flow, RFC 5103 reverse counters */
	uint64_t export_rate;        /* --export: records per second at most (0: default) */
	uint32_t export_mtu;         /* --export: largest datagram payload (0: default) */
	uint32_t domain_id;          /* IPFIX observation domain / NetFlow v9 source id */
};

#endif
