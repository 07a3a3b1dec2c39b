/* Layer 2 inside a frame: Ethernet II and 802.3/LLC/SNAP, 802.1Q/802.1ad tags at any
 * depth, MPLS label stacks, PPPoE sessions and PPP. Written as a loop over
 * encapsulations rather than recursion, so a frame of 4,000 stacked tags costs a loop,
 * not a deep stack. */
#include "decode/decode_int.h"

enum nfm_decode_status nfm_decode_ethernet(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint16_t type;
	if (!nfm_rd_skip(r, 12) || !nfm_rd_be16(r, &type))
		return NFM_DECODE_TRUNCATED;
	return nfm_decode_ethertype(d, r, type);
}

/* 802.2 LLC after an 802.3 length field. SNAP (AA AA 03) carries an EtherType; anything
 * else (STP, CDP, NetBIOS, IPX ...) is counted as LLC. */
static enum nfm_decode_status decode_llc(struct nfm_dctx *d, struct nfm_rd *r, uint16_t *type)
{
	uint8_t dsap, ssap, ctl;
	if (!nfm_rd_u8(r, &dsap) || !nfm_rd_u8(r, &ssap) || !nfm_rd_u8(r, &ctl))
		return NFM_DECODE_TRUNCATED;
	if (dsap == 0xaa && ssap == 0xaa && ctl == 0x03) {
		if (!nfm_rd_skip(r, 3) || !nfm_rd_be16(r, type))
			return NFM_DECODE_TRUNCATED;
		return NFM_DECODE_OK;
	}
	d->pkt->nonip_kind = NFM_NONIP_LLC;
	return NFM_DECODE_NONIP;
}

/* MPLS: labels until bottom of stack, then the payload is guessed as MPLS itself has no
 * payload type: IPv4/IPv6 by the version nibble; a first nibble of 0 is a pseudowire
 * control word followed by an Ethernet frame. */
static enum nfm_decode_status decode_mpls(struct nfm_dctx *d, struct nfm_rd *r)
{
	for (;;) {
		uint32_t lse;
		if (!nfm_rd_be32(r, &lse))
			return NFM_DECODE_TRUNCATED;
		if (lse & 0x100)
			break;
	}
	uint8_t v;
	if (!nfm_rd_peek_u8(r, 0, &v))
		return NFM_DECODE_TRUNCATED;
	switch (v >> 4) {
	case 4:
		d->pkt->ethertype = NFM_ETH_IPV4;
		return nfm_decode_ipv4(d, r);
	case 6:
		d->pkt->ethertype = NFM_ETH_IPV6;
		return nfm_decode_ipv6(d, r);
	case 0:
		if (!nfm_rd_skip(r, 4))
			return NFM_DECODE_TRUNCATED;
		return nfm_decode_ethernet(d, r);
	default:
		d->pkt->nonip_kind = NFM_NONIP_MPLS_OTHER;
		return NFM_DECODE_NONIP;
	}
}

enum nfm_decode_status nfm_decode_ethertype(struct nfm_dctx *d, struct nfm_rd *r, uint16_t type)
{
	struct nfm_packet *p = d->pkt;
	for (;;) {
		p->ethertype = type;
		if (type <= 1500) { /* 802.3 length field: LLC follows */
			enum nfm_decode_status st = decode_llc(d, r, &type);
			if (st != NFM_DECODE_OK)
				return st;
			continue;
		}
		switch (type) {
		case NFM_ETH_IPV4:
			return nfm_decode_ipv4(d, r);
		case NFM_ETH_IPV6:
			return nfm_decode_ipv6(d, r);
		case NFM_ETH_ARP:
			return nfm_decode_arp(d, r);
		case NFM_ETH_VLAN: case NFM_ETH_QINQ: case NFM_ETH_QINQ_OLD: {
			uint16_t tci;
			if (!nfm_rd_be16(r, &tci) || !nfm_rd_be16(r, &type))
				return NFM_DECODE_TRUNCATED;
			if (!(p->flags & NFM_PKT_VLAN)) {
				p->flags |= NFM_PKT_VLAN;
				p->vlan_id = tci & 0x0fff;
			}
			continue;
		}
		case NFM_ETH_MPLS: case NFM_ETH_MPLS_MC:
			return decode_mpls(d, r);
		case NFM_ETH_ARISTA: {
			/* subtype, version (0x10: 64-bit timestamp, 0x20: 48-bit), timestamp,
			 * then the EtherType of what follows. */
			uint16_t sub, ver;
			if (!nfm_rd_be16(r, &sub) || !nfm_rd_be16(r, &ver))
				return NFM_DECODE_TRUNCATED;
			size_t tslen = (ver & 0xff) == 0x10 ? 8 : (ver & 0xff) == 0x20 ? 6 : 0;
			if (sub != 1 || !tslen) {
				p->nonip_kind = NFM_NONIP_ETHERTYPE;
				return NFM_DECODE_NONIP;
			}
			if (!nfm_rd_skip(r, tslen) || !nfm_rd_be16(r, &type))
				return NFM_DECODE_TRUNCATED;
			continue;
		}
		case NFM_ETH_PPPOE_SESS: {
			uint8_t vt, code;
			uint16_t len, proto;
			if (!nfm_rd_u8(r, &vt) || !nfm_rd_u8(r, &code) || !nfm_rd_skip(r, 2) ||
			    !nfm_rd_be16(r, &len))
				return NFM_DECODE_TRUNCATED;
			if (vt != 0x11 || code != 0)
				return NFM_DECODE_MALFORMED;
			/* The PPPoE length covers the PPP protocol field and payload. */
			nfm_rd_limit(r, len);
			if (!nfm_rd_be16(r, &proto))
				return NFM_DECODE_TRUNCATED;
			return nfm_decode_ppp_proto(d, r, proto);
		}
		case NFM_ETH_PPPOE_DISC:
			p->nonip_kind = NFM_NONIP_PPPOE_DISCOVERY;
			return NFM_DECODE_NONIP;
		case NFM_ETH_LLDP:
			p->nonip_kind = NFM_NONIP_LLDP;
			return NFM_DECODE_NONIP;
		case NFM_ETH_EAPOL:
			p->nonip_kind = NFM_NONIP_EAPOL;
			return NFM_DECODE_NONIP;
		case NFM_ETH_LOOPBACK:
			p->nonip_kind = NFM_NONIP_LOOPBACK;
			return NFM_DECODE_NONIP;
		case NFM_ETH_RARP:
			p->nonip_kind = NFM_NONIP_ARP_OTHER;
			return NFM_DECODE_NONIP;
		default:
			p->nonip_kind = NFM_NONIP_ETHERTYPE;
			return NFM_DECODE_NONIP;
		}
	}
}

enum nfm_decode_status nfm_decode_ppp_proto(struct nfm_dctx *d, struct nfm_rd *r, uint16_t proto)
{
	switch (proto) {
	case 0x0021:
		d->pkt->ethertype = NFM_ETH_IPV4;
		return nfm_decode_ipv4(d, r);
	case 0x0057:
		d->pkt->ethertype = NFM_ETH_IPV6;
		return nfm_decode_ipv6(d, r);
	case 0x0281: case 0x0283:
		d->pkt->ethertype = NFM_ETH_MPLS;
		return decode_mpls(d, r);
	default:
		d->pkt->nonip_kind = NFM_NONIP_PPP_CONTROL;
		return NFM_DECODE_NONIP;
	}
}

/* PPP as captured: optional FF 03 address/control, then a protocol field of one byte
 * when its low bit is set (protocol field compression), otherwise two. */
bool nfm_ppp_header(struct nfm_rd *r, uint16_t *proto)
{
	uint8_t b0, b1;
	if (!nfm_rd_peek_u8(r, 0, &b0))
		return false;
	if (b0 == 0xff) {
		if (!nfm_rd_peek_u8(r, 1, &b1))
			return false;
		if (b1 == 0x03)
			nfm_rd_skip(r, 2);
	}
	if (!nfm_rd_u8(r, &b0))
		return false;
	*proto = b0;
	if (!(b0 & 1)) {
		if (!nfm_rd_u8(r, &b1))
			return false;
		*proto = (uint16_t)(b0 << 8 | b1);
	}
	return true;
}

enum nfm_decode_status nfm_decode_ppp(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint16_t proto;
	if (!nfm_ppp_header(r, &proto))
		return NFM_DECODE_TRUNCATED;
	return nfm_decode_ppp_proto(d, r, proto);
}
