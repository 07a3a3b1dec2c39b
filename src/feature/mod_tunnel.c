/* The tunnel columns (--extended): the outermost tunnel of a flow's first packet. A
 * feature module, so the flow entry carries these 40 bytes only when they are output. */
#include <string.h>

#include "feature/fields.h"
#include "feature/modules.h"

struct tunnel_state {
	uint32_t id;             /* GRE key, VNI, TEID, ... */
	uint8_t type, l3;        /* enum nfm_tunnel_type; NFM_L3_IPV4/IPV6 of the outer header */
	uint8_t src[16], dst[16];
};

static void tunnel_packet(void *state, const struct nfm_module_packet *p)
{
	if (p->index != 0 || !p->pkt->tunnel_type)
		return;
	struct tunnel_state *t = state;
	t->type = p->pkt->tunnel_type;
	t->l3 = p->pkt->tunnel_l3;
	t->id = p->pkt->tunnel_id;
	/* As the initiator's packets travel: the first packet comes from the responder when
	 * it is a SYN+ACK or when the flow continues one that the active timeout cut. */
	int fwd = p->dir == NFM_FWD;
	memcpy(t->src, fwd ? p->pkt->tunnel_src : p->pkt->tunnel_dst, 16);
	memcpy(t->dst, fwd ? p->pkt->tunnel_dst : p->pkt->tunnel_src, 16);
}

static void get_type(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	const struct tunnel_state *t = state;
	v->type = t->type ? NFM_V_STR : NFM_V_NULL;
	v->s = t->type ? nfm_tunnel_name((enum nfm_tunnel_type)t->type) : NULL;
}

static void tunnel_addr(const struct tunnel_state *t, const uint8_t *a, struct nfm_value *v)
{
	if (!t->type) {
		v->type = NFM_V_NULL;
		return;
	}
	v->type = NFM_V_ADDR;
	v->l3 = t->l3;
	memcpy(v->addr, a, 16);
}

static void get_src(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	const struct tunnel_state *t = state;
	tunnel_addr(t, t->src, v);
}

static void get_dst(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	const struct tunnel_state *t = state;
	tunnel_addr(t, t->dst, v);
}

static void get_id(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	const struct tunnel_state *t = state;
	v->type = t->type ? NFM_V_U64 : NFM_V_NULL;
	v->u = t->id;
}

static const struct nfm_field tunnel_fields[] = {
	{ "tunnel_type", NFM_V_STR, 0, NFM_SET_EXT, "", "Kind of the outermost tunnel the flow was carried in, as named by the decoder (GRE, VXLAN, Geneve, GTP-U, ...); empty when not tunnelled.", get_type },
	{ "tunnel_src", NFM_V_ADDR, 0, NFM_SET_EXT, "", "Outer source address of the outermost tunnel, as the initiator's packets travel (from the flow's first packet); empty when not tunnelled.", get_src },
	{ "tunnel_dst", NFM_V_ADDR, 0, NFM_SET_EXT, "", "Outer destination address of the outermost tunnel, as the initiator's packets travel; empty when not tunnelled.", get_dst },
	{ "tunnel_id", NFM_V_U64, 0, NFM_SET_EXT, "", "Tunnel identifier (GRE key, VXLAN/Geneve VNI, GTP-U TEID, ...); empty when not tunnelled.", get_id },
};

const struct nfm_module nfm_mod_tunnel = {
	.name = "tunnel",
	.desc = "the outermost tunnel of the flow's first packet (--extended)",
	.state_size = sizeof(struct tunnel_state),
	.state_align = 4,
	.packet = tunnel_packet,
	.fields = tunnel_fields,
	.nfields = sizeof tunnel_fields / sizeof tunnel_fields[0],
};
