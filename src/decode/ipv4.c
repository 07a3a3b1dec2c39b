/* IPv4: header with options, total length (0 means TSO: take the frame's length),
 * fragments. The reader is narrowed to the datagram so Ethernet padding never counts. */
#include <string.h>

#include "decode/decode_int.h"

enum nfm_decode_status nfm_decode_ipv4(struct nfm_dctx *d, struct nfm_rd *r)
{
	struct nfm_packet *p = d->pkt;
	const uint8_t *hdr = r->p;
	uint8_t vihl, tos, ttl, proto;
	uint16_t tot, id, frag, csum;
	uint8_t src[4], dst[4];
	if (!nfm_rd_u8(r, &vihl))
		return NFM_DECODE_TRUNCATED;
	if (vihl >> 4 != 4)
		return NFM_DECODE_MALFORMED;
	uint32_t ihl = (uint32_t)(vihl & 15) * 4;
	if (ihl < 20)
		return NFM_DECODE_MALFORMED;
	/* Bytes missing from the header: cut by the snaplen (truncated), or not there on
	 * the wire either (malformed). */
	enum nfm_decode_status short_hdr = nfm_wire_left(d, hdr) >= ihl ? NFM_DECODE_TRUNCATED
									 : NFM_DECODE_MALFORMED;
	if (!nfm_rd_u8(r, &tos) || !nfm_rd_be16(r, &tot) || !nfm_rd_be16(r, &id) ||
	    !nfm_rd_be16(r, &frag) || !nfm_rd_u8(r, &ttl) || !nfm_rd_u8(r, &proto) ||
	    !nfm_rd_be16(r, &csum) || !nfm_rd_bytes(r, src, 4) || !nfm_rd_bytes(r, dst, 4) ||
	    !nfm_rd_skip(r, ihl - 20))
		return short_hdr;

	uint32_t wire = nfm_wire_left(d, hdr);
	uint32_t len = tot;
	if (len == 0) /* segmentation offload on the capturing host */
		len = wire;
	if (len < ihl)
		return NFM_DECODE_MALFORMED;
	if (len > wire) /* claims more than the frame carried: trust the frame */
		len = wire;
	nfm_rd_limit(r, len - ihl);

	/* A tunnel decoder may call this for an inner header: start the IP-level fields
	 * afresh, keeping what the link layer and outer tunnel recorded. */
	p->flags &= NFM_PKT_VLAN;
	p->l3 = NFM_L3_IPV4;
	memset(p->src, 0, sizeof p->src);
	memset(p->dst, 0, sizeof p->dst);
	memcpy(p->src, src, 4);
	memcpy(p->dst, dst, 4);
	p->ttl = ttl;
	p->tos = tos;
	p->ip_proto = proto;
	p->ip_len = len;
	p->sport = p->dport = p->icmp_id = 0;
	p->tcp_flags = p->icmp_type = p->icmp_code = 0;

	uint16_t off = frag & 0x1fff;
	if ((frag & 0x2000) || off) {
		p->flags |= NFM_PKT_FRAGMENT;
		p->frag_id = id;
		p->frag_offset = off;
		if (off && proto == NFM_IPPROTO_TCP) /* may hold the rest of the TCP header */
			return nfm_decode_tcp_fragment(d, r, (uint32_t)off * 8, len - ihl);
		if (off) { /* no transport header here: the whole IP payload is payload */
			p->l4_payload_len = len - ihl;
			nfm_note_payload(d, r);
			return NFM_DECODE_OK;
		}
		p->flags |= NFM_PKT_FRAG_FIRST;
	}
	return nfm_decode_transport(d, r, proto, len - ihl);
}
