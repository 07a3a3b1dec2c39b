/* Transport headers: TCP, UDP, SCTP, ICMP, ICMPv6 (ports or echo identifier, flags,
 * payload length from the IP lengths), and the hand-off to tunnel decoders for
 * IP-in-IP, GRE and the UDP encapsulations. */
#include "decode/decode_int.h"

void nfm_note_payload(struct nfm_dctx *d, const struct nfm_rd *r)
{
	struct nfm_packet *p = d->pkt;
	if (nfm_rd_left(r) < p->l4_payload_len)
		p->flags |= NFM_PKT_L4_TRUNC;
	size_t off = (size_t)(r->p - d->start);
	p->payload_off = off < UINT16_MAX ? (uint16_t)off : UINT16_MAX;
}

static bool may_tunnel(const struct nfm_dctx *d)
{
	return d->opt->tunnels && !(d->pkt->flags & NFM_PKT_FRAGMENT) &&
	       d->pkt->tunnel_depth < d->opt->max_tunnel_depth;
}

static enum nfm_decode_status decode_tcp(struct nfm_dctx *d, struct nfm_rd *r, uint32_t ip_payload)
{
	struct nfm_packet *p = d->pkt;
	uint16_t sp, dp, win = 0;
	uint32_t seq, ack;
	uint8_t off, fl;
	if (!nfm_rd_be16(r, &sp) || !nfm_rd_be16(r, &dp) || !nfm_rd_be32(r, &seq) ||
	    !nfm_rd_be32(r, &ack) || !nfm_rd_u8(r, &off) || !nfm_rd_u8(r, &fl))
		return ip_payload < 14 ? NFM_DECODE_MALFORMED : NFM_DECODE_TRUNCATED;
	uint32_t hlen = (uint32_t)(off >> 4) * 4;
	if (hlen < 20 || hlen > ip_payload)
		return NFM_DECODE_MALFORMED;
	(void)nfm_rd_be16(r, &win); /* window: best effort under a tiny snaplen */
	p->sport = sp;
	p->dport = dp;
	p->tcp_seq = seq;
	p->tcp_ack = ack;
	p->tcp_flags = fl;
	p->tcp_window = win;
	p->tcp_hlen = (uint8_t)hlen;
	p->flags |= NFM_PKT_HAS_PORTS;
	p->l4_payload_len = ip_payload - hlen;
	/* 16 header bytes read so far; options may be cut by the snaplen. */
	if (!nfm_rd_skip(r, hlen - 16))
		r->p = r->end;
	nfm_note_payload(d, r);
	return NFM_DECODE_OK;
}

/* TCP in an IP fragment, for IPv4 and IPv6 alike (docs/flows.md, "Fragments"). The
 * fragment holds bytes [off, off + n) of the TCP segment; off is a multiple of 8, so only
 * the first fragment (off 0) and the one at off 8 can hold header fields, and each field
 * is read from whichever of the two holds it: ports and sequence number (bytes 0-7) from
 * the first, which must hold at least those 8 bytes (the smallest fragment IP allows);
 * acknowledgement, data offset, flags and window (bytes 8-15) from either. The payload is
 * the fragment's bytes beyond the TCP header. The header length comes from the
 * data-offset byte when this fragment holds it (and is reported in tcp_hlen); otherwise
 * the 20-byte minimum is assumed, which the meter corrects for a later fragment with the
 * length a sibling fragment reported. A fragment at off >= 60 is all payload. */
enum nfm_decode_status nfm_decode_tcp_fragment(struct nfm_dctx *d, struct nfm_rd *r, uint32_t off,
					       uint32_t n)
{
	struct nfm_packet *p = d->pkt;
	p->ip_proto = NFM_IPPROTO_TCP;
	if (off == 0 && n < 8)
		return NFM_DECODE_MALFORMED;
	uint8_t h[16]; /* header bytes [off, have) at their offsets in the header */
	uint32_t have = off;
	if (off < 16) {
		uint32_t end = n < 16 - off ? off + n : 16;
		size_t got = nfm_rd_left(r) < end - off ? nfm_rd_left(r) : end - off;
		(void)nfm_rd_bytes(r, h + off, got); /* got <= left: cannot fail */
		have = off + (uint32_t)got;
		/* Bytes up to the flags are needed; the window is best effort, as in decode_tcp. */
		uint32_t need = end < 14 ? end : 14;
		if (have < need)
			return NFM_DECODE_TRUNCATED;
	}
	uint32_t hlen = 20;
	if (off <= 12 && have > 12) {
		hlen = (uint32_t)(h[12] >> 4) * 4;
		if (hlen < 20)
			return NFM_DECODE_MALFORMED;
		p->tcp_hlen = (uint8_t)hlen;
	}
	if (off == 0) {
		p->sport = (uint16_t)(h[0] << 8 | h[1]);
		p->dport = (uint16_t)(h[2] << 8 | h[3]);
		p->tcp_seq = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
		p->flags |= NFM_PKT_HAS_PORTS;
	}
	if (off <= 8 && have >= 12)
		p->tcp_ack = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
	if (off <= 13 && have > 13)
		p->tcp_flags = h[13];
	if (off <= 14 && have >= 16)
		p->tcp_window = (uint16_t)(h[14] << 8 | h[15]);
	uint32_t in_hdr = hlen <= off ? 0 : hlen - off < n ? hlen - off : n;
	p->l4_payload_len = n - in_hdr;
	/* the rest of the header in this fragment (options may be cut by the snaplen) */
	if (!nfm_rd_skip(r, in_hdr - (have - off)))
		r->p = r->end;
	nfm_note_payload(d, r);
	return NFM_DECODE_OK;
}

static bool is_icmp_echo(uint8_t l3, uint8_t type)
{
	if (l3 == NFM_L3_IPV6)
		return type == 128 || type == 129 || type == 160 || type == 161;
	return type == 8 || type == 0 || type == 42 || type == 43;
}

static bool is_icmp_error(uint8_t proto, uint8_t type)
{
	if (proto == NFM_IPPROTO_ICMPV6)
		return type >= 1 && type <= 4;
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static enum nfm_decode_status decode_icmp(struct nfm_dctx *d, struct nfm_rd *r, uint8_t proto,
					  uint32_t ip_payload)
{
	struct nfm_packet *p = d->pkt;
	uint8_t type, code;
	if (ip_payload < 4)
		return NFM_DECODE_MALFORMED;
	if (!nfm_rd_u8(r, &type) || !nfm_rd_u8(r, &code))
		return NFM_DECODE_TRUNCATED;
	p->icmp_type = type;
	p->icmp_code = code;
	if (is_icmp_echo(proto == NFM_IPPROTO_ICMPV6 ? NFM_L3_IPV6 : NFM_L3_IPV4, type)) {
		uint16_t id;
		if (ip_payload < 8)
			return NFM_DECODE_MALFORMED;
		if (!nfm_rd_skip(r, 2) || !nfm_rd_be16(r, &id))
			return NFM_DECODE_TRUNCATED;
		p->icmp_id = id;
		p->flags |= NFM_PKT_ICMP_ECHO;
		nfm_rd_skip(r, 2);
	} else {
		if (is_icmp_error(proto, type))
			p->flags |= NFM_PKT_ICMP_ERROR;
		if (!nfm_rd_skip(r, 6))
			r->p = r->end;
	}
	p->l4_payload_len = ip_payload >= 8 ? ip_payload - 8 : 0;
	nfm_note_payload(d, r);
	return NFM_DECODE_OK;
}

enum nfm_decode_status nfm_decode_transport(struct nfm_dctx *d, struct nfm_rd *r, uint8_t proto,
					    uint32_t ip_payload)
{
	struct nfm_packet *p = d->pkt;
	p->ip_proto = proto;
	switch (proto) {
	case NFM_IPPROTO_TCP:
		if (p->flags & NFM_PKT_FRAGMENT) /* first fragment: may hold part of the header */
			return nfm_decode_tcp_fragment(d, r, 0, ip_payload);
		return decode_tcp(d, r, ip_payload);
	case NFM_IPPROTO_UDP: {
		uint16_t sp, dp, ulen, csum;
		if (ip_payload < 8)
			return NFM_DECODE_MALFORMED;
		if (!nfm_rd_be16(r, &sp) || !nfm_rd_be16(r, &dp) || !nfm_rd_be16(r, &ulen) ||
		    !nfm_rd_be16(r, &csum))
			return NFM_DECODE_TRUNCATED;
		if (may_tunnel(d)) {
			struct nfm_rd inner = *r;
			if (nfm_tunnel_udp(d, &inner, sp, dp) == NFM_DECODE_OK)
				return NFM_DECODE_OK;
		}
		p->sport = sp;
		p->dport = dp;
		p->flags |= NFM_PKT_HAS_PORTS;
		p->l4_payload_len = ip_payload - 8;
		nfm_note_payload(d, r);
		return NFM_DECODE_OK;
	}
	case NFM_IPPROTO_SCTP: {
		uint16_t sp, dp;
		if (ip_payload < 12)
			return NFM_DECODE_MALFORMED;
		if (!nfm_rd_be16(r, &sp) || !nfm_rd_be16(r, &dp))
			return NFM_DECODE_TRUNCATED;
		p->sport = sp;
		p->dport = dp;
		p->flags |= NFM_PKT_HAS_PORTS;
		p->l4_payload_len = ip_payload - 12;
		if (!nfm_rd_skip(r, 8))
			r->p = r->end;
		nfm_note_payload(d, r);
		return NFM_DECODE_OK;
	}
	case NFM_IPPROTO_ICMP:
	case NFM_IPPROTO_ICMPV6:
		return decode_icmp(d, r, proto, ip_payload);
	case 4:  /* IPv4 in IP */
	case 41: /* IPv6 in IP */
	case 47: /* GRE */
		if (may_tunnel(d)) {
			struct nfm_rd inner = *r;
			enum nfm_decode_status st = proto == 47 ? nfm_tunnel_gre(d, &inner)
								: nfm_tunnel_ip(d, &inner, proto);
			if (st == NFM_DECODE_OK)
				return NFM_DECODE_OK;
		}
		/* not followed: metered as the outer protocol */
		p->l4_payload_len = ip_payload;
		nfm_note_payload(d, r);
		return NFM_DECODE_OK;
	default:
		p->l4_payload_len = ip_payload;
		nfm_note_payload(d, r);
		return NFM_DECODE_OK;
	}
}
