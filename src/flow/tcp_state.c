#include "flow/tcp_state.h"

#include "flow/record.h"

void nfm_tcp_update(struct nfm_flow *f, const struct nfm_packet *p, int dir)
{
	struct nfm_flow_stats *r = &f->st;
	uint8_t fl = p->tcp_flags;
	f->tcp_flags |= fl;
	r->syn_count += (fl & NFM_TCP_SYN) != 0;
	r->fin_count += (fl & NFM_TCP_FIN) != 0;
	r->rst_count += (fl & NFM_TCP_RST) != 0;
	r->ack_count += (fl & NFM_TCP_ACK) != 0;

	unsigned prog = f->tcp_progress;
	if ((fl & (NFM_TCP_SYN | NFM_TCP_ACK)) == NFM_TCP_SYN)
		prog |= NFM_TCP_P_SYN;
	else if ((fl & (NFM_TCP_SYN | NFM_TCP_ACK)) == (NFM_TCP_SYN | NFM_TCP_ACK))
		prog |= NFM_TCP_P_SYNACK;
	else if ((fl & NFM_TCP_ACK) && dir == NFM_FWD && (prog & NFM_TCP_P_SYNACK))
		prog |= NFM_TCP_P_HS_DONE;
	if (fl & NFM_TCP_FIN) {
		prog |= dir == NFM_FWD ? NFM_TCP_P_FIN_F : NFM_TCP_P_FIN_B;
		/* The FIN occupies one sequence number after the segment's data. */
		r->fin_seq[dir] = p->tcp_seq + p->l4_payload_len + ((fl & NFM_TCP_SYN) ? 2u : 1u);
	}
	if (fl & NFM_TCP_ACK) {
		int other = !dir;
		unsigned other_fin = other == NFM_FWD ? NFM_TCP_P_FIN_F : NFM_TCP_P_FIN_B;
		if ((prog & other_fin) && (int32_t)(p->tcp_ack - r->fin_seq[other]) >= 0)
			prog |= other == NFM_FWD ? NFM_TCP_P_FINACK_F : NFM_TCP_P_FINACK_B;
	}
	f->tcp_progress = (uint8_t)prog;

	if (f->finished)
		return;
	const unsigned closed = NFM_TCP_P_FIN_F | NFM_TCP_P_FIN_B | NFM_TCP_P_FINACK_F |
				NFM_TCP_P_FINACK_B;
	if (fl & NFM_TCP_RST) {
		f->finished = NFM_FLOW_CLOSED;
		f->end_reason = NFM_END_TCP_RESET;
	} else if ((prog & closed) == closed) {
		f->finished = NFM_FLOW_CLOSED;
		f->end_reason = NFM_END_TCP_CLOSE;
	}
}

uint8_t nfm_tcp_final_state(const struct nfm_flow *f)
{
	unsigned p = f->tcp_progress;
	if (f->st.rst_count)
		return (p & NFM_TCP_P_SYN) && !(p & (NFM_TCP_P_SYNACK | NFM_TCP_P_HS_DONE))
			       ? NFM_CONN_REJECTED : NFM_CONN_RESET;
	if ((p & NFM_TCP_P_FIN_F) && (p & NFM_TCP_P_FIN_B))
		return NFM_CONN_CLOSED;
	if (p & (NFM_TCP_P_FIN_F | NFM_TCP_P_FIN_B))
		return NFM_CONN_HALF_CLOSED;
	if (p & NFM_TCP_P_HS_DONE)
		return NFM_CONN_ESTABLISHED;
	if (p & NFM_TCP_P_SYNACK)
		return NFM_CONN_HALF_OPEN;
	if (p & NFM_TCP_P_SYN)
		return NFM_CONN_ATTEMPTED;
	return NFM_CONN_MID_STREAM;
}
