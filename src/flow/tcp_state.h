/* TCP connection tracking of one flow: flag counts, the handshake and teardown progress
 * (which FINs were sent and acknowledged), when a connection is finished (both FINs
 * acknowledged, or a RST), and the state written with the flow (docs/flows.md). */
#ifndef NFM_FLOW_TCP_STATE_H
#define NFM_FLOW_TCP_STATE_H

#include "decode/decode.h"
#include "flow/table.h"

/* tcp_progress bits */
enum {
	NFM_TCP_P_SYN = 1u << 0,      /* SYN without ACK seen */
	NFM_TCP_P_SYNACK = 1u << 1,   /* SYN+ACK seen */
	NFM_TCP_P_HS_DONE = 1u << 2,  /* initiator acknowledged the SYN+ACK */
	NFM_TCP_P_FIN_F = 1u << 3,    /* FIN from the initiator */
	NFM_TCP_P_FIN_B = 1u << 4,    /* FIN from the responder */
	NFM_TCP_P_FINACK_F = 1u << 5, /* initiator's FIN acknowledged */
	NFM_TCP_P_FINACK_B = 1u << 6, /* responder's FIN acknowledged */
};

/* Counts p's flags and advances the progress. Sets f->finished and f->end_reason when
 * this packet finishes the connection (a RST, or the last FIN acknowledged). */
void nfm_tcp_update(struct nfm_flow *f, const struct nfm_packet *p, int dir);
/* The connection state written with the flow (enum nfm_conn_state). */
uint8_t nfm_tcp_final_state(const struct nfm_flow *f);

#endif
