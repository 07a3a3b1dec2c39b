/* A flow record: everything the engine knows about one flow, as exporters, the report
 * and the field table read it (const) once the flow has ended. The flow table keeps the
 * same facts in another shape (hot counters beside the key, cold identity apart,
 * flow/table.h); the meter fills a record when the flow is written. Direction index 0 is
 * forward (initiator -> responder), 1 is backward. */
#ifndef NFM_FLOW_RECORD_H
#define NFM_FLOW_RECORD_H

#include <stdint.h>

enum nfm_dir { NFM_FWD = 0, NFM_BWD = 1 };

/* Why a flow was written. */
enum nfm_end_reason {
	NFM_END_IDLE = 0,      /* no packet for --flow-timeout */
	NFM_END_ACTIVE,        /* open longer than --active-timeout */
	NFM_END_TCP_CLOSE,     /* FIN in both directions and the last FIN acknowledged */
	NFM_END_TCP_RESET,     /* RST */
	NFM_END_TCP_REUSE,     /* a new SYN reused the key of a finished connection */
	NFM_END_EVICTED,       /* memory cap: oldest-idle flow written early */
	NFM_END_EOF,           /* still open at the end of the input */
	NFM_END_SLICE,         /* still open at the end of a time slice (--slice) */
	NFM_END_REASON_COUNT
};

/* TCP connection states (documented in docs/flows.md). NONE for other protocols. */
enum nfm_conn_state {
	NFM_CONN_NONE = 0,
	NFM_CONN_ATTEMPTED,    /* SYN seen, no answer */
	NFM_CONN_REJECTED,     /* SYN answered by RST */
	NFM_CONN_HALF_OPEN,    /* SYN and SYN-ACK seen, handshake not completed */
	NFM_CONN_ESTABLISHED,  /* handshake completed, no FIN or RST */
	NFM_CONN_HALF_CLOSED,  /* FIN in one direction only */
	NFM_CONN_CLOSED,       /* FIN in both directions */
	NFM_CONN_RESET,        /* RST after the connection was established or mid-stream */
	NFM_CONN_MID_STREAM,   /* no SYN seen: the capture started inside the connection */
	NFM_CONN_STATE_COUNT
};

struct nfm_flow_record {
	/* Identity, oriented forward: src is the initiator. */
	uint8_t l3;               /* enum nfm_l3 */
	uint8_t ip_proto;
	uint8_t has_vlan;
	uint8_t end_reason;       /* enum nfm_end_reason */
	uint16_t vlan_id;
	uint16_t src_port, dst_port; /* ICMP echo: identifier in both; other ICMP: type, code */
	uint8_t src[16], dst[16];

	uint64_t first_ns, last_ns;
	uint64_t pkts[2];
	uint64_t bytes[2];        /* on-wire frame lengths */
	uint64_t payload[2];      /* transport payload bytes from IP lengths */
	uint32_t min_len, max_len;/* on-wire frame lengths */
	uint64_t iat_sum_ns;      /* sum of gaps between consecutive packets (never negative) */
	uint64_t iat_min_ns, iat_max_ns;

	/* TCP */
	uint8_t tcp_flags;        /* OR of all flags seen */
	uint8_t conn_state;       /* enum nfm_conn_state */
	uint8_t tcp_progress;     /* engine-private handshake/teardown bits */
	uint8_t pad0;
	uint32_t syn_count, fin_count, rst_count, ack_count; /* packets with the flag set */
	uint32_t fin_seq[2];      /* engine-private: sequence number of each side's FIN */

	uint64_t seq;             /* creation order within the input, from 1 */
	const char *source_file;  /* input name, for --merge output; not owned */
	const uint8_t *modules;   /* the flow's feature-module states (flow/module.h), or NULL;
				   * valid only while the record is handed to a sink */
};

#endif
