/* Entry point of the decoder and the link layers that are not Ethernet: BSD NULL/LOOP,
 * Linux cooked (SLL, SLL2), PPP, Cisco HDLC and raw IP. */
#include <stdio.h>
#include <string.h>

#include "decode/decode_int.h"

static enum nfm_decode_status decode_chdlc(struct nfm_dctx *d, struct nfm_rd *r);
static enum nfm_decode_status decode_nflog(struct nfm_dctx *d, struct nfm_rd *r);

/* BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 differs by OS
 * (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS, 10 Linux). */
static enum nfm_decode_status decode_null(struct nfm_dctx *d, struct nfm_rd *r, int big_endian_only)
{
	uint8_t b[4];
	if (!nfm_rd_peek_u8(r, 0, &b[0]) || !nfm_rd_peek_u8(r, 1, &b[1]))
		return NFM_DECODE_TRUNCATED;
	/* Some BSD loopback captures carry Cisco HDLC or PPP framing under DLT_NULL, as
	 * tcpdump and Wireshark also recognise. */
	if ((b[0] == 0x0f || b[0] == 0x8f) && b[1] == 0x00)
		return decode_chdlc(d, r);
	if (b[0] == 0xff && b[1] == 0x03)
		return nfm_decode_ppp(d, r);
	if (!nfm_rd_bytes(r, b, 4))
		return NFM_DECODE_TRUNCATED;
	uint32_t fam;
	/* DLT_NULL stores the family in the capturing host's byte order: the family is a
	 * small number, so whichever end is nonzero tells the order. */
	if (big_endian_only || (b[0] == 0 && b[1] == 0))
		fam = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	else
		fam = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
	switch (fam) {
	case 2:
		d->pkt->ethertype = NFM_ETH_IPV4;
		return nfm_decode_ipv4(d, r);
	case 10: case 24: case 28: case 30:
		d->pkt->ethertype = NFM_ETH_IPV6;
		return nfm_decode_ipv6(d, r);
	default:
		d->pkt->nonip_kind = NFM_NONIP_NULL_OTHER;
		return NFM_DECODE_NONIP;
	}
}

/* Linux cooked capture protocol field: an EtherType, or one of a few small values that
 * name a non-Ethernet framing (802.3 raw, 802.2 LLC, CAN, ...). */
static enum nfm_decode_status decode_sll_proto(struct nfm_dctx *d, struct nfm_rd *r,
					       uint16_t arphrd, uint16_t proto)
{
	if (arphrd == 824 /* ARPHRD_NETLINK */ || proto < 0x0600) {
		d->pkt->ethertype = proto;
		d->pkt->nonip_kind = NFM_NONIP_SLL_OTHER;
		return NFM_DECODE_NONIP;
	}
	return nfm_decode_ethertype(d, r, proto);
}

static enum nfm_decode_status decode_sll(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint16_t pkttype, arphrd, alen, proto;
	if (!nfm_rd_be16(r, &pkttype) || !nfm_rd_be16(r, &arphrd) || !nfm_rd_be16(r, &alen) ||
	    !nfm_rd_skip(r, 8) || !nfm_rd_be16(r, &proto))
		return NFM_DECODE_TRUNCATED;
	return decode_sll_proto(d, r, arphrd, proto);
}

static enum nfm_decode_status decode_sll2(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint16_t proto, arphrd;
	if (!nfm_rd_be16(r, &proto) || !nfm_rd_skip(r, 2 + 4) || !nfm_rd_be16(r, &arphrd) ||
	    !nfm_rd_skip(r, 1 + 1 + 8))
		return NFM_DECODE_TRUNCATED;
	return decode_sll_proto(d, r, arphrd, proto);
}

/* Cisco HDLC: address, control, then an EtherType (0x8035 is SLARP keepalive). */
static enum nfm_decode_status decode_chdlc(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint16_t proto;
	if (!nfm_rd_skip(r, 2) || !nfm_rd_be16(r, &proto))
		return NFM_DECODE_TRUNCATED;
	d->pkt->ethertype = proto;
	if (proto == NFM_ETH_IPV4)
		return nfm_decode_ipv4(d, r);
	if (proto == NFM_ETH_IPV6)
		return nfm_decode_ipv6(d, r);
	if (proto == NFM_ETH_MPLS || proto == NFM_ETH_MPLS_MC)
		return nfm_decode_ethertype(d, r, proto);
	d->pkt->nonip_kind = NFM_NONIP_HDLC_OTHER;
	return NFM_DECODE_NONIP;
}

/* Linux NFLOG (239): family, version, resource id, then TLVs whose length and type are in
 * the capturing host's byte order (little-endian in practice; big-endian is detected by
 * a length that only makes sense swapped). TLV 9 holds the packet from the IP header. */
static enum nfm_decode_status decode_nflog(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint8_t fam, ver;
	if (!nfm_rd_u8(r, &fam) || !nfm_rd_u8(r, &ver) || !nfm_rd_skip(r, 2))
		return NFM_DECODE_TRUNCATED;
	for (;;) {
		uint16_t len, type;
		if (!nfm_rd_le16(r, &len) || !nfm_rd_le16(r, &type))
			return NFM_DECODE_TRUNCATED;
		if (len < 4)
			return NFM_DECODE_MALFORMED;
		if ((type & 0x7fff) == 9) {
			struct nfm_rd payload;
			if (!nfm_rd_sub(r, len - 4u, &payload)) /* cut by the snaplen */
				payload = *r;
			if (fam == 2)
				return nfm_decode_ipv4(d, &payload);
			if (fam == 10)
				return nfm_decode_ipv6(d, &payload);
			d->pkt->nonip_kind = NFM_NONIP_NULL_OTHER;
			return NFM_DECODE_NONIP;
		}
		if (!nfm_rd_skip(r, ((size_t)len + 3) / 4 * 4 - 4))
			return NFM_DECODE_TRUNCATED;
	}
}

/* LINKTYPE_PPP_ETHER: the frame begins with a PPPoE header. */
static enum nfm_decode_status decode_pppoe_link(struct nfm_dctx *d, struct nfm_rd *r)
{
	return nfm_decode_ethertype(d, r, NFM_ETH_PPPOE_SESS);
}

static enum nfm_decode_status decode_raw(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint8_t v;
	if (!nfm_rd_peek_u8(r, 0, &v))
		return NFM_DECODE_TRUNCATED;
	if (v >> 4 != 4 && v >> 4 != 6) {
		d->pkt->nonip_kind = NFM_NONIP_IP_OTHER;
		return NFM_DECODE_NONIP;
	}
	return nfm_decode_ip(d, r);
}

enum nfm_decode_status nfm_decode_ip(struct nfm_dctx *d, struct nfm_rd *r)
{
	uint8_t v;
	if (!nfm_rd_peek_u8(r, 0, &v))
		return NFM_DECODE_TRUNCATED;
	if (v >> 4 == 4)
		return nfm_decode_ipv4(d, r);
	if (v >> 4 == 6)
		return nfm_decode_ipv6(d, r);
	return NFM_DECODE_MALFORMED;
}

bool nfm_decode_link_supported(int linktype)
{
	switch (linktype) {
	case NFM_LINK_NULL: case NFM_LINK_ETHERNET: case NFM_LINK_PPP: case NFM_LINK_RAW_BSD12:
	case NFM_LINK_RAW_BSD14: case NFM_LINK_PPP_HDLC: case NFM_LINK_PPP_ETHER:
	case NFM_LINK_RAW: case NFM_LINK_C_HDLC: case NFM_LINK_LOOP: case NFM_LINK_LINUX_SLL:
	case NFM_LINK_IPV4: case NFM_LINK_IPV6: case NFM_LINK_LINUX_SLL2: case NFM_LINK_NFLOG:
		return true;
	default:
		return false;
	}
}

enum nfm_decode_status nfm_decode(const uint8_t *data, int linktype,
				  const struct nfm_decode_options *opts, struct nfm_packet *pkt)
{
	static const struct nfm_decode_options defaults = { .tunnels = true, .max_tunnel_depth = 4 };
	uint64_t ts = pkt->ts_ns;
	uint32_t wire = pkt->wire_len, cap = pkt->cap_len;
	uint64_t index = pkt->pkt_index, clock = pkt->clock_ns;
	memset(pkt, 0, sizeof *pkt);
	pkt->ts_ns = ts;
	pkt->pkt_index = index;
	pkt->clock_ns = clock;
	pkt->wire_len = wire < cap ? cap : wire;
	pkt->cap_len = cap;

	struct nfm_dctx d = { data, pkt, opts ? opts : &defaults };
	struct nfm_rd r = nfm_rd_make(data, cap);
	switch (linktype) {
	case NFM_LINK_ETHERNET: return nfm_decode_ethernet(&d, &r);
	case NFM_LINK_NULL: return decode_null(&d, &r, 0);
	case NFM_LINK_LOOP: return decode_null(&d, &r, 1);
	case NFM_LINK_LINUX_SLL: return decode_sll(&d, &r);
	case NFM_LINK_LINUX_SLL2: return decode_sll2(&d, &r);
	case NFM_LINK_PPP: case NFM_LINK_PPP_HDLC: return nfm_decode_ppp(&d, &r);
	case NFM_LINK_PPP_ETHER: return decode_pppoe_link(&d, &r);
	case NFM_LINK_C_HDLC: return decode_chdlc(&d, &r);
	case NFM_LINK_RAW: case NFM_LINK_RAW_BSD12: case NFM_LINK_RAW_BSD14:
		return decode_raw(&d, &r);
	case NFM_LINK_IPV4: return nfm_decode_ipv4(&d, &r);
	case NFM_LINK_IPV6: return nfm_decode_ipv6(&d, &r);
	case NFM_LINK_NFLOG: return decode_nflog(&d, &r);
	default: return NFM_DECODE_UNSUPPORTED;
	}
}

const char *nfm_nonip_name(enum nfm_nonip_kind kind)
{
	static const char *const names[NFM_NONIP_KIND_COUNT] = {
		[NFM_NONIP_NONE] = "none",
		[NFM_NONIP_ETHERTYPE] = "other EtherType",
		[NFM_NONIP_LLC] = "802.3 LLC (STP, CDP, ...)",
		[NFM_NONIP_LLDP] = "LLDP",
		[NFM_NONIP_EAPOL] = "EAPOL",
		[NFM_NONIP_LOOPBACK] = "Ethernet loopback",
		[NFM_NONIP_PPPOE_DISCOVERY] = "PPPoE discovery",
		[NFM_NONIP_PPP_CONTROL] = "PPP control (LCP, IPCP, ...)",
		[NFM_NONIP_ARP_OTHER] = "ARP/RARP not Ethernet/IPv4",
		[NFM_NONIP_MPLS_OTHER] = "MPLS non-IP payload",
		[NFM_NONIP_SLL_OTHER] = "Linux cooked non-IP",
		[NFM_NONIP_NULL_OTHER] = "loopback non-IP family",
		[NFM_NONIP_HDLC_OTHER] = "Cisco HDLC control",
		[NFM_NONIP_IP_OTHER] = "raw link, not IPv4/IPv6",
	};
	return (unsigned)kind < NFM_NONIP_KIND_COUNT ? names[kind] : "?";
}

const char *nfm_decode_status_name(enum nfm_decode_status st)
{
	static const char *const names[NFM_DECODE_STATUS_COUNT] = {
		[NFM_DECODE_OK] = "ok",
		[NFM_DECODE_NONIP] = "non-IP",
		[NFM_DECODE_TRUNCATED] = "truncated",
		[NFM_DECODE_MALFORMED] = "malformed",
		[NFM_DECODE_UNSUPPORTED] = "unsupported link type",
	};
	return (unsigned)st < NFM_DECODE_STATUS_COUNT ? names[st] : "?";
}

const char *nfm_tunnel_name(enum nfm_tunnel_type t)
{
	static const char *const names[NFM_TUNNEL_TYPE_COUNT] = {
		[NFM_TUNNEL_NONE] = "",
		[NFM_TUNNEL_GRE] = "gre",
		[NFM_TUNNEL_IPIP] = "ipip",
		[NFM_TUNNEL_VXLAN] = "vxlan",
		[NFM_TUNNEL_GENEVE] = "geneve",
		[NFM_TUNNEL_GTPU] = "gtp-u",
		[NFM_TUNNEL_TEREDO] = "teredo",
		[NFM_TUNNEL_L2TP] = "l2tp",
		[NFM_TUNNEL_ERSPAN] = "erspan",
		[NFM_TUNNEL_MPLS_UDP] = "mpls-udp",
	};
	return (unsigned)t < NFM_TUNNEL_TYPE_COUNT ? names[t] : "?";
}

const char *nfm_opaque_name(uint32_t kind, char *buf, size_t cap)
{
	const char *t = nfm_tunnel_name((enum nfm_tunnel_type)(kind >> 18));
	switch (kind >> 16 & 3) {
	case 1: snprintf(buf, cap, "%s ppp 0x%04x", t, (unsigned)(kind & 0xffff)); break;
	case 2: snprintf(buf, cap, "%s llc", t); break;
	default: snprintf(buf, cap, "%s 0x%04x", t, (unsigned)(kind & 0xffff)); break;
	}
	return buf;
}
