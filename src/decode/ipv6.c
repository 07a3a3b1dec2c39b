/* IPv6: fixed header, then the extension-header chain (hop-by-hop, routing, fragment,
 * destination options, AH, mobility, HIP, shim6) up to the transport header. */
#include <string.h>

#include "decode/decode_int.h"

/* The Jumbo Payload option (RFC 2675) in a hop-by-hop header: the real payload length
 * when the fixed header says 0. Returns 0 when absent. */
static uint32_t jumbo_length(struct nfm_rd r)
{
	uint8_t nh, hlen;
	if (!nfm_rd_u8(&r, &nh) || !nfm_rd_u8(&r, &hlen))
		return 0;
	struct nfm_rd opts;
	if (!nfm_rd_sub(&r, (size_t)hlen * 8 + 6, &opts))
		return 0;
	while (nfm_rd_left(&opts) > 0) {
		uint8_t type, olen;
		if (!nfm_rd_u8(&opts, &type))
			return 0;
		if (type == 0) /* Pad1 */
			continue;
		if (!nfm_rd_u8(&opts, &olen))
			return 0;
		if (type == 0xc2 && olen == 4) {
			uint32_t v;
			return nfm_rd_be32(&opts, &v) ? v : 0;
		}
		if (!nfm_rd_skip(&opts, olen))
			return 0;
	}
	return 0;
}

enum nfm_decode_status nfm_decode_ipv6(struct nfm_dctx *d, struct nfm_rd *r)
{
	struct nfm_packet *p = d->pkt;
	const uint8_t *hdr = r->p;
	uint32_t vtf;
	uint16_t plen;
	uint8_t nh, hlim, src[16], dst[16];
	if (!nfm_rd_be32(r, &vtf))
		return NFM_DECODE_TRUNCATED;
	if (vtf >> 28 != 6)
		return NFM_DECODE_MALFORMED;
	if (!nfm_rd_be16(r, &plen) || !nfm_rd_u8(r, &nh) || !nfm_rd_u8(r, &hlim) ||
	    !nfm_rd_bytes(r, src, 16) || !nfm_rd_bytes(r, dst, 16))
		return NFM_DECODE_TRUNCATED;

	uint32_t wire = nfm_wire_left(d, hdr);
	if (wire < 40)
		return NFM_DECODE_MALFORMED;
	uint32_t len = plen;
	if (len == 0 && nh == 0)
		len = jumbo_length(*r);
	if (len == 0 && nh != 59) /* offload or jumbogram without the option */
		len = wire - 40;
	if (len > wire - 40)
		len = wire - 40;
	nfm_rd_limit(r, len);

	p->flags &= NFM_PKT_VLAN;
	p->l3 = NFM_L3_IPV6;
	memcpy(p->src, src, 16);
	memcpy(p->dst, dst, 16);
	p->ttl = hlim;
	p->tos = (uint8_t)(vtf >> 20);
	p->ip_len = 40 + len;
	p->sport = p->dport = p->icmp_id = 0;
	p->tcp_flags = p->icmp_type = p->icmp_code = 0;

	uint32_t ext = 0; /* bytes of extension headers */
	for (;;) {
		uint8_t next, hl;
		uint32_t size;
		switch (nh) {
		case 0: case 43: case 60: case 135: case 139: case 140:
		case 51:
			if (!nfm_rd_peek_u8(r, 0, &next) || !nfm_rd_peek_u8(r, 1, &hl))
				return ext + 2 > len ? NFM_DECODE_MALFORMED : NFM_DECODE_TRUNCATED;
			size = nh == 51 ? ((uint32_t)hl + 2) * 4 : ((uint32_t)hl + 1) * 8;
			if (ext + size > len)
				return NFM_DECODE_MALFORMED;
			if (!nfm_rd_skip(r, size))
				return NFM_DECODE_TRUNCATED;
			ext += size;
			nh = next;
			continue;
		case 44: {
			uint8_t res;
			uint16_t offm;
			uint32_t id;
			if (ext + 8 > len)
				return NFM_DECODE_MALFORMED;
			if (!nfm_rd_u8(r, &next) || !nfm_rd_u8(r, &res) || !nfm_rd_be16(r, &offm) ||
			    !nfm_rd_be32(r, &id))
				return NFM_DECODE_TRUNCATED;
			ext += 8;
			nh = next;
			uint16_t off = offm >> 3;
			if (off || (offm & 1)) {
				p->flags |= NFM_PKT_FRAGMENT;
				p->frag_id = id;
				p->frag_offset = off;
				if (off && nh == NFM_IPPROTO_TCP) /* may hold the rest of the header */
					return nfm_decode_tcp_fragment(d, r, (uint32_t)off * 8, len - ext);
				if (off) {
					p->ip_proto = nh;
					p->l4_payload_len = len - ext;
					nfm_note_payload(d, r);
					return NFM_DECODE_OK;
				}
				p->flags |= NFM_PKT_FRAG_FIRST;
			}
			continue;
		}
		default:
			break;
		}
		break;
	}
	p->ip_proto = nh;
	if (nh == 59) { /* no next header */
		p->l4_payload_len = 0;
		return NFM_DECODE_OK;
	}
	return nfm_decode_transport(d, r, nh, len - ext);
}
