/* ARP: flows are keyed on the sender and target protocol addresses, so only ARP for
 * IPv4 is metered; other hardware/protocol pairs are counted as non-IP. */
#include <string.h>

#include "decode/decode_int.h"

enum nfm_decode_status nfm_decode_arp(struct nfm_dctx *d, struct nfm_rd *r)
{
	struct nfm_packet *p = d->pkt;
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;
	if (!nfm_rd_be16(r, &htype) || !nfm_rd_be16(r, &ptype) || !nfm_rd_u8(r, &hlen) ||
	    !nfm_rd_u8(r, &plen) || !nfm_rd_be16(r, &op))
		return NFM_DECODE_TRUNCATED;
	if (ptype != NFM_ETH_IPV4 || plen != 4) {
		p->nonip_kind = NFM_NONIP_ARP_OTHER;
		return NFM_DECODE_NONIP;
	}
	uint8_t spa[4], tpa[4];
	if (!nfm_rd_skip(r, hlen) || !nfm_rd_bytes(r, spa, 4) || !nfm_rd_skip(r, hlen) ||
	    !nfm_rd_bytes(r, tpa, 4))
		return NFM_DECODE_TRUNCATED;
	p->l3 = NFM_L3_ARP;
	p->ip_proto = 0;
	p->arp_op = op > 255 ? 255 : (uint8_t)op;
	memset(p->src, 0, sizeof p->src);
	memset(p->dst, 0, sizeof p->dst);
	memcpy(p->src, spa, 4);
	memcpy(p->dst, tpa, 4);
	p->ip_len = 0;
	p->l4_payload_len = 0;
	return NFM_DECODE_OK;
}
