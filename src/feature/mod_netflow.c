/* The netflow feature module: what a NetFlow record needs per direction and the engine
 * does not keep (feature/netflow.h), and the split of a flow into NetFlow records. */
#include "feature/netflow.h"

#include <string.h>

#include "decode/decode.h"

struct nf_dir {
	uint64_t first_ns, last_ns;
	uint64_t ip_bytes;
};

struct nf_state {
	struct nf_dir d[2];
	uint8_t tcp_flags[2];
	uint8_t tos[2];
	uint8_t icmp_type[2], icmp_code[2];
	uint8_t seen[2];         /* bit 0: a packet; bit 1: an ICMP header */
	uint8_t tun_type, tun_l3;
	uint8_t tun_src[16], tun_dst[16];
};

static void netflow_packet(void *state, const struct nfm_module_packet *mp)
{
	struct nf_state *s = state;
	const struct nfm_packet *p = mp->pkt;
	int d = mp->dir;
	struct nf_dir *dir = &s->d[d];
	if (!(s->seen[d] & 1)) {
		s->seen[d] |= 1;
		dir->first_ns = dir->last_ns = p->ts_ns;
		s->tos[d] = p->tos;
	} else {
		/* Timestamps may go backwards in a capture: keep the span. */
		if (p->ts_ns < dir->first_ns)
			dir->first_ns = p->ts_ns;
		if (p->ts_ns > dir->last_ns)
			dir->last_ns = p->ts_ns;
	}
	dir->ip_bytes += p->ip_len;
	s->tcp_flags[d] |= p->tcp_flags;
	bool l4_header = !(p->flags & NFM_PKT_FRAGMENT) || (p->flags & NFM_PKT_FRAG_FIRST);
	if ((p->ip_proto == NFM_IPPROTO_ICMP || p->ip_proto == NFM_IPPROTO_ICMPV6) && l4_header &&
	    !(s->seen[d] & 2)) {
		s->seen[d] |= 2;
		s->icmp_type[d] = p->icmp_type;
		s->icmp_code[d] = p->icmp_code;
	}
	if (mp->index == 0 && p->tunnel_type) {
		/* Kept as the initiator's packets travel: the first packet comes from the
		 * responder when it is a SYN+ACK or when the flow continues one that the
		 * active timeout cut. */
		s->tun_type = p->tunnel_type;
		s->tun_l3 = p->tunnel_l3;
		memcpy(s->tun_src, d == NFM_FWD ? p->tunnel_src : p->tunnel_dst, 16);
		memcpy(s->tun_dst, d == NFM_FWD ? p->tunnel_dst : p->tunnel_src, 16);
	}
}

/* The IP protocol number of the outer header of a tunnel (nfdump's "tun proto"). */
static uint8_t tunnel_proto(uint8_t type)
{
	switch (type) {
	case NFM_TUNNEL_GRE:
	case NFM_TUNNEL_ERSPAN:
		return 47;
	case NFM_TUNNEL_IPIP:
		return 4; /* as nfpcapd writes it for 4in4, 6in4, 4in6 and 6in6 alike */
	default: /* VXLAN, Geneve, GTP-U, Teredo, L2TP, MPLS over UDP */
		return 17;
	}
}

static void fill(struct nfm_nf_record *o, const struct nfm_flow_record *rec,
		 const struct nf_state *s, int d)
{
	memset(o, 0, sizeof *o);
	o->first_ms = s->d[d].first_ns / 1000000u;
	o->last_ms = s->d[d].last_ns / 1000000u;
	o->packets = rec->pkts[d];
	o->bytes = s->d[d].ip_bytes;
	o->l3 = rec->l3;
	o->proto = rec->ip_proto;
	o->tos = s->tos[d];
	o->end_reason = rec->end_reason;
	const uint8_t *a = d == NFM_FWD ? rec->src : rec->dst;
	const uint8_t *b = d == NFM_FWD ? rec->dst : rec->src;
	memcpy(o->src, a, 16);
	memcpy(o->dst, b, 16);
	if (rec->ip_proto == NFM_IPPROTO_ICMP || rec->ip_proto == NFM_IPPROTO_ICMPV6) {
		o->icmp_type = s->icmp_type[d];
		o->icmp_code = s->icmp_code[d];
		o->src_port = 0;
		o->dst_port = (uint16_t)(o->icmp_type << 8 | o->icmp_code);
	} else {
		o->tcp_flags = rec->ip_proto == NFM_IPPROTO_TCP ? s->tcp_flags[d] : 0;
		o->src_port = d == NFM_FWD ? rec->src_port : rec->dst_port;
		o->dst_port = d == NFM_FWD ? rec->dst_port : rec->src_port;
	}
	if (s->tun_type) {
		o->tun_l3 = s->tun_l3;
		o->tun_proto = tunnel_proto(s->tun_type);
		/* The tunnel's outer addresses as the initiator's packets travel (from the
		 * flow's first packet); the backward record's tunnel runs the other way. */
		memcpy(o->tun_src, d == NFM_FWD ? s->tun_src : s->tun_dst, 16);
		memcpy(o->tun_dst, d == NFM_FWD ? s->tun_dst : s->tun_src, 16);
	}
}

static bool is_ip(const struct nfm_flow_record *rec)
{
	return rec->l3 == NFM_L3_IPV4 || rec->l3 == NFM_L3_IPV6;
}

int nfm_netflow_split(const struct nfm_flow_record *rec, const void *state,
		      struct nfm_nf_record out[2])
{
	const struct nf_state *s = state;
	if (!s || !is_ip(rec))
		return 0;
	int n = 0;
	for (int d = 0; d < 2; d++)
		if ((s->seen[d] & 1) && rec->pkts[d])
			fill(&out[n++], rec, s, d);
	return n;
}

bool nfm_netflow_biflow(const struct nfm_flow_record *rec, const void *state,
			struct nfm_nf_biflow *out)
{
	const struct nf_state *s = state;
	if (!s || !is_ip(rec))
		return false;
	memset(out, 0, sizeof *out);
	if (!((s->seen[NFM_FWD] & 1) && rec->pkts[NFM_FWD])) {
		/* The responder's packets alone (a flow that continues one the active timeout
		 * cut): one direction, sent as such rather than with an empty forward one. */
		fill(&out->fwd, rec, s, NFM_BWD);
		return true;
	}
	fill(&out->fwd, rec, s, NFM_FWD);
	if ((s->seen[NFM_BWD] & 1) && rec->pkts[NFM_BWD]) {
		out->rev_packets = rec->pkts[NFM_BWD];
		out->rev_bytes = s->d[NFM_BWD].ip_bytes;
		out->rev_first_ms = s->d[NFM_BWD].first_ns / 1000000u;
		out->rev_last_ms = s->d[NFM_BWD].last_ns / 1000000u;
		out->rev_tcp_flags = rec->ip_proto == NFM_IPPROTO_TCP ? s->tcp_flags[NFM_BWD] : 0;
		out->rev_tos = s->tos[NFM_BWD];
	}
	return true;
}

const struct nfm_module nfm_mod_netflow = {
	.name = "netflow",
	.desc = "per-direction times, IP bytes, TCP flags, ToS and ICMP type of NetFlow records",
	.state_size = sizeof(struct nf_state),
	.state_align = 8,
	.packet = netflow_packet,
};
