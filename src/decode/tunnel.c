/* Tunnels: IP-in-IP (4in4, 6in4, 4in6, 6in6), GRE (with key, sequence, PPTP's enhanced
 * GRE, transparent Ethernet bridging, ERSPAN I/II/III), and the UDP encapsulations VXLAN,
 * Geneve, GTP-U, Teredo, L2TPv2 and MPLS-in-UDP. A tunnelled packet belongs to the flow
 * of its innermost IP header; the outermost tunnel is recorded in the packet. When the
 * inner packet cannot be decoded, the packet is restored and metered as the outer one;
 * when the payload is well formed but not IP (an unknown protocol type, a non-IP inner
 * frame), its kind is left in the packet (NFM_PKT_TUNNEL_OPAQUE) for the report. */
#include <string.h>

#include "decode/decode_int.h"

enum inner_kind { INNER_IP, INNER_ETHERNET, INNER_PPP, INNER_MPLS };

/* A tunnel payload we do not follow: notes its kind in the (outer) packet, which the
 * caller meters. Returns UNSUPPORTED, the status for "not followed". */
static enum nfm_decode_status opaque(struct nfm_packet *p, enum nfm_tunnel_type type,
				     uint16_t proto, uint16_t ns_flag)
{
	p->flags |= NFM_PKT_TUNNEL_OPAQUE | ns_flag;
	p->opaque_tunnel = (uint8_t)type;
	p->opaque_proto = proto;
	return NFM_DECODE_UNSUPPORTED;
}

/* Decodes the inner packet; on failure puts the outer packet back. */
static enum nfm_decode_status enter(struct nfm_dctx *d, struct nfm_rd *r, enum nfm_tunnel_type type,
				    uint32_t id, enum inner_kind kind)
{
	struct nfm_packet *p = d->pkt;
	struct nfm_packet saved = *p;
	struct nfm_rd start = *r;
	if (p->tunnel_type == NFM_TUNNEL_NONE) {
		p->tunnel_type = (uint8_t)type;
		p->tunnel_l3 = p->l3;
		memcpy(p->tunnel_src, p->src, 16);
		memcpy(p->tunnel_dst, p->dst, 16);
		p->tunnel_id = id;
	}
	p->tunnel_depth++;
	enum nfm_decode_status st;
	switch (kind) {
	case INNER_IP: st = nfm_decode_ip(d, r); break;
	case INNER_ETHERNET: st = nfm_decode_ethernet(d, r); break;
	case INNER_PPP: st = nfm_decode_ppp(d, r); break;
	default: st = nfm_decode_ethertype(d, r, NFM_ETH_MPLS); break;
	}
	if (st != NFM_DECODE_OK || p->l3 == NFM_L3_ARP) {
		/* ARP inside a tunnel has no IP flow of its own worth splitting out */
		uint16_t inner = p->ethertype;
		int llc = st == NFM_DECODE_NONIP && p->nonip_kind == NFM_NONIP_LLC;
		*p = saved;
		if (st != NFM_DECODE_OK && st != NFM_DECODE_NONIP)
			return st; /* cut short or malformed: not a kind of payload */
		if (kind == INNER_PPP)
			(void)nfm_ppp_header(&start, &inner); /* read before: cannot fail */
		opaque(p, type, llc ? 0 : inner,
		       kind == INNER_PPP ? NFM_PKT_OPAQUE_PPP : llc ? NFM_PKT_OPAQUE_LLC : 0);
		return NFM_DECODE_NONIP;
	}
	return NFM_DECODE_OK;
}

enum nfm_decode_status nfm_tunnel_ip(struct nfm_dctx *d, struct nfm_rd *r, uint8_t proto)
{
	uint8_t v;
	if (!nfm_rd_peek_u8(r, 0, &v))
		return NFM_DECODE_TRUNCATED;
	if ((proto == 4 && v >> 4 != 4) || (proto == 41 && v >> 4 != 6))
		return NFM_DECODE_MALFORMED;
	return enter(d, r, NFM_TUNNEL_IPIP, 0, INNER_IP);
}

/* ERSPAN type II header (8 bytes) or type III (12, plus 8 of platform subheader). */
static enum nfm_decode_status erspan(struct nfm_dctx *d, struct nfm_rd *r, int type3)
{
	uint16_t ver_vlan, sess;
	if (!nfm_rd_be16(r, &ver_vlan) || !nfm_rd_be16(r, &sess))
		return NFM_DECODE_TRUNCATED;
	uint32_t id = sess & 0x03ff;
	if (!type3) {
		if (!nfm_rd_skip(r, 4))
			return NFM_DECODE_TRUNCATED;
	} else {
		uint8_t b[8];
		if (!nfm_rd_bytes(r, b, 8))
			return NFM_DECODE_TRUNCATED;
		if ((b[7] & 1) && !nfm_rd_skip(r, 8)) /* O bit: optional subheader */
			return NFM_DECODE_TRUNCATED;
	}
	return enter(d, r, NFM_TUNNEL_ERSPAN, id, INNER_ETHERNET);
}

enum nfm_decode_status nfm_tunnel_gre(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint16_t fv, proto;
	if (!nfm_rd_be16(r, &fv) || !nfm_rd_be16(r, &proto))
		return NFM_DECODE_TRUNCATED;
	unsigned ver = fv & 7;
	uint32_t key = 0;
	if (ver == 0) {
		if (fv & 0x4000) /* source routing (RFC 1701): obsolete, not followed */
			return opaque(d->pkt, NFM_TUNNEL_GRE, proto, 0);
		if ((fv & 0x8000) && !nfm_rd_skip(r, 4))
			return NFM_DECODE_TRUNCATED;
		if ((fv & 0x2000) && !nfm_rd_be32(r, &key))
			return NFM_DECODE_TRUNCATED;
		if ((fv & 0x1000) && !nfm_rd_skip(r, 4))
			return NFM_DECODE_TRUNCATED;
		switch (proto) {
		case NFM_ETH_IPV4: case NFM_ETH_IPV6:
			return enter(d, r, NFM_TUNNEL_GRE, key, INNER_IP);
		case NFM_ETH_TEB:
			return enter(d, r, NFM_TUNNEL_GRE, key, INNER_ETHERNET);
		case NFM_ETH_MPLS: case NFM_ETH_MPLS_MC:
			return enter(d, r, NFM_TUNNEL_GRE, key, INNER_MPLS);
		case NFM_ETH_ERSPAN2:
			/* Type I has no sequence number and no ERSPAN header. */
			if (!(fv & 0x1000))
				return enter(d, r, NFM_TUNNEL_ERSPAN, 0, INNER_ETHERNET);
			return erspan(d, r, 0);
		case NFM_ETH_ERSPAN3:
			return erspan(d, r, 1);
		default: /* e.g. Aruba 0x8200 (802.11), Cisco MetaData 0x8909, keepalive 0 */
			return opaque(d->pkt, NFM_TUNNEL_GRE, proto, 0);
		}
	}
	if (ver == 1 && proto == NFM_ETH_PPP && (fv & 0x2000)) { /* PPTP (RFC 2637) */
		uint16_t plen, call;
		if (!nfm_rd_be16(r, &plen) || !nfm_rd_be16(r, &call))
			return NFM_DECODE_TRUNCATED;
		if ((fv & 0x1000) && !nfm_rd_skip(r, 4))
			return NFM_DECODE_TRUNCATED;
		if ((fv & 0x0080) && !nfm_rd_skip(r, 4))
			return NFM_DECODE_TRUNCATED;
		if (plen == 0) /* acknowledgement only */
			return NFM_DECODE_UNSUPPORTED;
		nfm_rd_limit(r, plen);
		return enter(d, r, NFM_TUNNEL_GRE, call, INNER_PPP);
	}
	return opaque(d->pkt, NFM_TUNNEL_GRE, proto, 0); /* another GRE version */
}

static enum nfm_decode_status vxlan(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint8_t flags;
	uint32_t vni;
	if (!nfm_rd_u8(r, &flags) || !nfm_rd_skip(r, 3) || !nfm_rd_be32(r, &vni))
		return NFM_DECODE_TRUNCATED;
	if (!(flags & 0x08))
		return NFM_DECODE_MALFORMED;
	return enter(d, r, NFM_TUNNEL_VXLAN, vni >> 8, INNER_ETHERNET);
}

static enum nfm_decode_status geneve(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint8_t vo, fl;
	uint16_t proto;
	uint32_t vni;
	if (!nfm_rd_u8(r, &vo) || !nfm_rd_u8(r, &fl) || !nfm_rd_be16(r, &proto) ||
	    !nfm_rd_be32(r, &vni))
		return NFM_DECODE_TRUNCATED;
	if (vo >> 6 != 0)
		return NFM_DECODE_MALFORMED;
	if (!nfm_rd_skip(r, (size_t)(vo & 0x3f) * 4))
		return NFM_DECODE_TRUNCATED;
	if (proto == NFM_ETH_TEB)
		return enter(d, r, NFM_TUNNEL_GENEVE, vni >> 8, INNER_ETHERNET);
	if (proto == NFM_ETH_IPV4 || proto == NFM_ETH_IPV6)
		return enter(d, r, NFM_TUNNEL_GENEVE, vni >> 8, INNER_IP);
	return opaque(d->pkt, NFM_TUNNEL_GENEVE, proto, 0);
}

static enum nfm_decode_status gtpu(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint8_t flags, type;
	uint16_t len;
	uint32_t teid;
	if (!nfm_rd_u8(r, &flags) || !nfm_rd_u8(r, &type) || !nfm_rd_be16(r, &len) ||
	    !nfm_rd_be32(r, &teid))
		return NFM_DECODE_TRUNCATED;
	if (flags >> 5 != 1 || !(flags & 0x10) || type != 0xff) /* GTPv1, G-PDU only */
		return NFM_DECODE_UNSUPPORTED;
	if (flags & 0x07) {
		uint8_t next;
		if (!nfm_rd_skip(r, 3) || !nfm_rd_u8(r, &next))
			return NFM_DECODE_TRUNCATED;
		while ((flags & 0x04) && next != 0) { /* extension headers, 4-byte units */
			uint8_t units;
			if (!nfm_rd_u8(r, &units))
				return NFM_DECODE_TRUNCATED;
			if (units == 0)
				return NFM_DECODE_MALFORMED;
			if (!nfm_rd_skip(r, (size_t)units * 4 - 2) || !nfm_rd_u8(r, &next))
				return NFM_DECODE_TRUNCATED;
		}
	}
	return enter(d, r, NFM_TUNNEL_GTPU, teid, INNER_IP);
}

/* Teredo (RFC 4380): optional authentication and origin-indication headers, then IPv6. */
static enum nfm_decode_status teredo(struct nfm_dctx *d, struct nfm_rd *r)
{
	for (int i = 0; i < 2; i++) {
		uint16_t ind;
		if (!nfm_rd_peek_be16(r, 0, &ind))
			return NFM_DECODE_TRUNCATED;
		if (ind == 0x0001) {
			uint8_t idlen, aulen;
			if (!nfm_rd_skip(r, 2) || !nfm_rd_u8(r, &idlen) || !nfm_rd_u8(r, &aulen) ||
			    !nfm_rd_skip(r, (size_t)idlen + aulen + 8 + 1))
				return NFM_DECODE_TRUNCATED;
		} else if (ind == 0x0000) {
			if (!nfm_rd_skip(r, 8))
				return NFM_DECODE_TRUNCATED;
		}
	}
	uint8_t v;
	uint16_t plen;
	if (!nfm_rd_peek_u8(r, 0, &v) || !nfm_rd_peek_be16(r, 4, &plen))
		return NFM_DECODE_TRUNCATED;
	/* Port 3544 alone is weak evidence: insist on an IPv6 header whose length fits. */
	if (v >> 4 != 6 || (size_t)plen + 40 != nfm_wire_left(d, r->p))
		return NFM_DECODE_MALFORMED;
	return enter(d, r, NFM_TUNNEL_TEREDO, 0, INNER_IP);
}

static enum nfm_decode_status l2tp(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint16_t fv, tid, sid;
	if (!nfm_rd_be16(r, &fv))
		return NFM_DECODE_TRUNCATED;
	if ((fv & 0x000f) != 2 || (fv & 0x8000)) /* L2TPv2 data messages only */
		return NFM_DECODE_UNSUPPORTED;
	if ((fv & 0x4000) && !nfm_rd_skip(r, 2))
		return NFM_DECODE_TRUNCATED;
	if (!nfm_rd_be16(r, &tid) || !nfm_rd_be16(r, &sid))
		return NFM_DECODE_TRUNCATED;
	if ((fv & 0x0800) && !nfm_rd_skip(r, 4))
		return NFM_DECODE_TRUNCATED;
	if (fv & 0x0200) {
		uint16_t off;
		if (!nfm_rd_be16(r, &off) || !nfm_rd_skip(r, off))
			return NFM_DECODE_TRUNCATED;
	}
	return enter(d, r, NFM_TUNNEL_L2TP, (uint32_t)tid << 16 | sid, INNER_PPP);
}

enum nfm_decode_status nfm_tunnel_udp(struct nfm_dctx *d, struct nfm_rd *r, uint16_t sport,
				      uint16_t dport)
{
	if (dport == 4789 || dport == 8472)
		return vxlan(d, r);
	if (dport == 6081)
		return geneve(d, r);
	if (dport == 2152 || (sport == 2152 && dport != 2123))
		return gtpu(d, r);
	if (dport == 6635)
		return enter(d, r, NFM_TUNNEL_MPLS_UDP, 0, INNER_MPLS);
	if (sport == 1701 || dport == 1701)
		return l2tp(d, r);
	if (sport == 3544 || dport == 3544)
		return teredo(d, r);
	return NFM_DECODE_UNSUPPORTED;
}
