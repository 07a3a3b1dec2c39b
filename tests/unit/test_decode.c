/* Decoder, layer by layer: link types, VLAN/MPLS/PPPoE, IPv4 options and fragments,
 * IPv6 extension headers, TCP/UDP/SCTP/ICMP/ICMPv6, ARP, tunnels and the tunnel payloads
 * we do not follow, truncation at every length, malformed headers and non-IP frames.
 * Frames are built byte by byte (nfm_frame.h); TCP headers split over fragments are in
 * test_decode_frag.c. */
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "nfm_frame.h"
#include "nfm_test.h"

NFM_TEST(ethernet_ipv4_tcp_with_padding)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x0800);
	ipv4(&f, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 20, 0, 0x4000);
	tcp(&f, 40000, 80, 0x12, 0, 0);
	putn(&f, 0, 6); /* Ethernet padding to 60 bytes: never payload */
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.l3, NFM_L3_IPV4);
	CHECK_EQ_U(p.ip_proto, 6);
	CHECK_EQ_U(p.sport, 40000);
	CHECK_EQ_U(p.dport, 80);
	CHECK_EQ_U(p.tcp_flags, NFM_TCP_SYN | NFM_TCP_ACK);
	CHECK_EQ_U(p.tcp_seq, 1000);
	CHECK_EQ_U(p.tcp_ack, 2000);
	CHECK_EQ_U(p.ip_len, 40);
	CHECK_EQ_U(p.l4_payload_len, 0);
	CHECK_EQ_U(p.wire_len, 60);
	CHECK_EQ_U(p.ts_ns, 7);
	CHECK(p.flags & NFM_PKT_HAS_PORTS);
	CHECK(!(p.flags & (NFM_PKT_VLAN | NFM_PKT_FRAGMENT | NFM_PKT_L4_TRUNC)));
	CHECK(p.src[0] == 10 && p.src[3] == 1 && p.src[4] == 0 && p.dst[3] == 2);
	CHECK_EQ_U(p.tunnel_type, NFM_TUNNEL_NONE);
}

NFM_TEST(ipv4_options_and_tcp_options)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x0800);
	ipv4(&f, 6, 1, 2, 32 + 100, 2, 0);
	tcp(&f, 1, 2, 0x18, 3, 100);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.ip_len, 28 + 32 + 100);
	CHECK_EQ_U(p.l4_payload_len, 100);
	CHECK_EQ_U(p.tcp_hlen, 32);
	CHECK_EQ_U(p.tcp_window, 65535);
	CHECK_EQ_U(p.tcp_flags, NFM_TCP_PSH | NFM_TCP_ACK);
}

NFM_TEST(vlan_qinq_outer_id)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x88a8);
	put16(&f, 100); put16(&f, 0x8100);
	put16(&f, 0x2000 | 200); put16(&f, 0x0800);
	ipv4(&f, 17, 1, 2, 8 + 10, 0, 0);
	udp(&f, 5000, 53, 10);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_VLAN);
	CHECK_EQ_U(p.vlan_id, 100);
	CHECK_EQ_U(p.dport, 53);
	CHECK_EQ_U(p.l4_payload_len, 10);
}

NFM_TEST(mpls_stack_to_ipv4)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x8847);
	put32(&f, 16u << 12 | 64);          /* label 16, not bottom */
	put32(&f, 17u << 12 | 0x100 | 64);  /* label 17, bottom of stack */
	ipv4(&f, 17, 1, 2, 8 + 4, 0, 0);
	udp(&f, 1, 2, 4);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.ip_proto, 17);
	CHECK_EQ_U(p.l4_payload_len, 4);
}

NFM_TEST(pppoe_session_to_ipv6)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x8864);
	put8(&f, 0x11); put8(&f, 0); put16(&f, 0x0001); put16(&f, 2 + 40 + 8 + 3);
	put16(&f, 0x0057);
	ipv6(&f, 17, 8 + 3, 1, 2);
	udp(&f, 1000, 2000, 3);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.l3, NFM_L3_IPV6);
	CHECK_EQ_U(p.sport, 1000);
	CHECK_EQ_U(p.l4_payload_len, 3);
	CHECK_EQ_U(p.src[15], 1);
	CHECK_EQ_U(p.dst[0], 0x20);
}

NFM_TEST(ipv6_extension_chain)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x86dd);
	ipv6(&f, 0, 8 + 16 + 20 + 5, 1, 2);
	put8(&f, 60); put8(&f, 0); putn(&f, 0, 6);        /* hop-by-hop, 8 bytes */
	put8(&f, 6); put8(&f, 1); putn(&f, 0, 14);        /* destination options, 16 bytes */
	tcp(&f, 443, 50000, 0x11, 0, 5);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.ip_proto, 6);
	CHECK_EQ_U(p.sport, 443);
	CHECK_EQ_U(p.l4_payload_len, 5);
	CHECK_EQ_U(p.ip_len, 40 + 8 + 16 + 20 + 5);
}

NFM_TEST(ipv6_fragments)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x86dd);
	ipv6(&f, 44, 8 + 8 + 24, 1, 2);
	put8(&f, 17); put8(&f, 0); put16(&f, 0 << 3 | 1); put32(&f, 0xabcdef);
	udp(&f, 7, 9, 24);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_FRAGMENT);
	CHECK(p.flags & NFM_PKT_FRAG_FIRST);
	CHECK(p.flags & NFM_PKT_HAS_PORTS);
	CHECK_EQ_U(p.frag_id, 0xabcdef);
	CHECK_EQ_U(p.dport, 9);

	struct frame g = { .n = 0 };
	eth(&g, 0x86dd);
	ipv6(&g, 44, 8 + 100, 1, 2);
	put8(&g, 17); put8(&g, 0); put16(&g, 4u << 3); put32(&g, 0xabcdef);
	putn(&g, 'z', 100);
	CHECK_EQ_U(dec(&g, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_FRAGMENT);
	CHECK(!(p.flags & (NFM_PKT_FRAG_FIRST | NFM_PKT_HAS_PORTS)));
	CHECK_EQ_U(p.ip_proto, 17);
	CHECK_EQ_U(p.frag_offset, 4);
	CHECK_EQ_U(p.l4_payload_len, 100);
}

NFM_TEST(ipv4_fragments)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x0800);
	ipv4(&f, 17, 1, 2, 200, 0, 185); /* offset 185*8, last fragment */
	putn(&f, 'q', 200);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_FRAGMENT);
	CHECK(!(p.flags & NFM_PKT_HAS_PORTS));
	CHECK_EQ_U(p.frag_id, 0x1234);
	CHECK_EQ_U(p.frag_offset, 185);
	CHECK_EQ_U(p.l4_payload_len, 200);

	struct frame g = { .n = 0 };
	eth(&g, 0x0800);
	ipv4(&g, 17, 1, 2, 8 + 1472, 0, 0x2000); /* MF, offset 0 */
	udp(&g, 11, 22, 1472);
	CHECK_EQ_U(dec(&g, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_FRAG_FIRST);
	CHECK_EQ_U(p.sport, 11);
	CHECK_EQ_U(p.l4_payload_len, 1472);
}

NFM_TEST(icmp_echo_and_error)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x0800);
	ipv4(&f, 1, 1, 2, 8 + 56, 0, 0);
	put8(&f, 8); put8(&f, 0); put16(&f, 0); put16(&f, 0x4242); put16(&f, 1);
	putn(&f, 0, 56);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_ICMP_ECHO);
	CHECK_EQ_U(p.icmp_id, 0x4242);
	CHECK_EQ_U(p.icmp_type, 8);
	CHECK_EQ_U(p.l4_payload_len, 56);

	struct frame g = { .n = 0 };
	eth(&g, 0x0800);
	ipv4(&g, 1, 3, 1, 8 + 28, 0, 0);
	put8(&g, 3); put8(&g, 3); put16(&g, 0); put32(&g, 0);
	ipv4(&g, 17, 1, 3, 8, 0, 0);
	udp(&g, 5, 6, 0);
	CHECK_EQ_U(dec(&g, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_ICMP_ERROR);
	CHECK_EQ_U(p.ip_proto, 1);       /* the ICMP message, not the quoted UDP */
	CHECK_EQ_U(p.icmp_type, 3);
	CHECK_EQ_U(p.icmp_code, 3);
	CHECK_EQ_U(p.src[3], 3);
}

NFM_TEST(icmpv6_echo)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x86dd);
	ipv6(&f, 58, 8 + 4, 1, 2);
	put8(&f, 129); put8(&f, 0); put16(&f, 0); put16(&f, 77); put16(&f, 3);
	putn(&f, 0, 4);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.ip_proto, 58);
	CHECK(p.flags & NFM_PKT_ICMP_ECHO);
	CHECK_EQ_U(p.icmp_id, 77);
	CHECK_EQ_U(p.l4_payload_len, 4);
}

NFM_TEST(sctp_ports)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x0800);
	ipv4(&f, 132, 1, 2, 12 + 16, 0, 0);
	put16(&f, 2905); put16(&f, 2906); put32(&f, 1); put32(&f, 0);
	putn(&f, 0, 16);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.sport, 2905);
	CHECK_EQ_U(p.dport, 2906);
	CHECK_EQ_U(p.l4_payload_len, 16);
}

NFM_TEST(arp_request)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x0806);
	put16(&f, 1); put16(&f, 0x0800); put8(&f, 6); put8(&f, 4); put16(&f, 1);
	putn(&f, 0xaa, 6); put32(&f, IP4(192, 168, 1, 1));
	putn(&f, 0, 6); put32(&f, IP4(192, 168, 1, 2));
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.l3, NFM_L3_ARP);
	CHECK_EQ_U(p.arp_op, 1);
	CHECK(p.src[0] == 192 && p.src[3] == 1 && p.dst[3] == 2);
	CHECK_EQ_U(p.ip_proto, 0);
}

/* The same UDP/IPv4 packet behind every supported link header. */
NFM_TEST(link_types)
{
	struct frame ip = { .n = 0 };
	ipv4(&ip, 17, 1, 2, 8 + 2, 0, 0);
	udp(&ip, 100, 200, 2);
	struct {
		int link;
		uint8_t hdr[24];
		size_t hlen;
	} cases[] = {
		{ 0, { 2, 0, 0, 0 }, 4 },                 /* NULL, little-endian AF_INET */
		{ 0, { 0, 0, 0, 2 }, 4 },                 /* NULL, big-endian */
		{ 108, { 0, 0, 0, 2 }, 4 },               /* LOOP */
		{ 101, { 0 }, 0 },                        /* RAW */
		{ 12, { 0 }, 0 },
		{ 228, { 0 }, 0 },                        /* IPV4 */
		{ 9, { 0xff, 0x03, 0x00, 0x21 }, 4 },     /* PPP with address/control */
		{ 9, { 0x21 }, 1 },                       /* PPP, compressed protocol */
		{ 50, { 0xff, 0x03, 0x00, 0x21 }, 4 },
		{ 104, { 0x0f, 0x00, 0x08, 0x00 }, 4 },   /* Cisco HDLC */
		{ 113, { 0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00 }, 16 },  /* SLL */
		{ 276, { 0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0 }, 20 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct frame f = { .n = 0 };
		memcpy(f.b, cases[i].hdr, cases[i].hlen);
		f.n = cases[i].hlen;
		memcpy(f.b + f.n, ip.b, ip.n);
		f.n += ip.n;
		struct nfm_packet p;
		enum nfm_decode_status st = dec(&f, cases[i].link, &p);
		if (st != NFM_DECODE_OK || p.sport != 100 || p.l4_payload_len != 2)
			fprintf(stderr, "link case %zu (type %d): status %d\n", i, cases[i].link, st);
		CHECK_EQ_U(st, NFM_DECODE_OK);
		CHECK_EQ_U(p.sport, 100);
		CHECK_EQ_U(p.l4_payload_len, 2);
		CHECK(nfm_decode_link_supported(cases[i].link));
	}
	struct nfm_packet p;
	CHECK_EQ_U(dec(&ip, 147, &p), NFM_DECODE_UNSUPPORTED);
	CHECK(!nfm_decode_link_supported(147));
}

NFM_TEST(ipv6_on_null_families)
{
	unsigned fams[] = { 10, 24, 28, 30 };
	for (size_t i = 0; i < 4; i++) {
		struct frame f = { .n = 0 };
		put8(&f, fams[i]); putn(&f, 0, 3);
		ipv6(&f, 17, 8, 1, 2);
		udp(&f, 1, 2, 0);
		struct nfm_packet p;
		CHECK_EQ_U(dec(&f, 0, &p), NFM_DECODE_OK);
		CHECK_EQ_U(p.l3, NFM_L3_IPV6);
	}
}

NFM_TEST(non_ip_kinds)
{
	struct nfm_packet p;
	struct frame f = { .n = 0 };
	eth(&f, 0x88cc); putn(&f, 0, 46);
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_NONIP);
	CHECK_EQ_U(p.nonip_kind, NFM_NONIP_LLDP);

	f.n = 0;
	eth(&f, 38); put8(&f, 0x42); put8(&f, 0x42); put8(&f, 0x03); putn(&f, 0, 35); /* STP */
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_NONIP);
	CHECK_EQ_U(p.nonip_kind, NFM_NONIP_LLC);

	f.n = 0; /* SNAP carrying IPv4 is IP */
	eth(&f, 8 + 28); put8(&f, 0xaa); put8(&f, 0xaa); put8(&f, 3); putn(&f, 0, 3); put16(&f, 0x0800);
	ipv4(&f, 17, 1, 2, 8, 0, 0); udp(&f, 1, 2, 0);
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);

	f.n = 0;
	eth(&f, 0x8863); putn(&f, 0, 46);
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_NONIP);
	CHECK_EQ_U(p.nonip_kind, NFM_NONIP_PPPOE_DISCOVERY);

	f.n = 0;
	eth(&f, 0x88b5); putn(&f, 0, 46);
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_NONIP);
	CHECK_EQ_U(p.nonip_kind, NFM_NONIP_ETHERTYPE);
	CHECK_EQ_U(p.ethertype, 0x88b5);

	f.n = 0; /* LCP inside PPPoE */
	eth(&f, 0x8864); put8(&f, 0x11); put8(&f, 0); put16(&f, 1); put16(&f, 6); put16(&f, 0xc021); putn(&f, 0, 4);
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_NONIP);
	CHECK_EQ_U(p.nonip_kind, NFM_NONIP_PPP_CONTROL);

	f.n = 0; /* ARP for something other than IPv4 */
	eth(&f, 0x0806); put16(&f, 1); put16(&f, 0x86dd); put8(&f, 6); put8(&f, 16); put16(&f, 1); putn(&f, 0, 44);
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_NONIP);
	CHECK_EQ_U(p.nonip_kind, NFM_NONIP_ARP_OTHER);

	f.n = 0; /* raw link with a version nibble that is neither 4 nor 6 */
	put8(&f, 0x50); putn(&f, 0, 30);
	CHECK_EQ_U(dec(&f, 101, &p), NFM_DECODE_NONIP);
	CHECK_EQ_U(p.nonip_kind, NFM_NONIP_IP_OTHER);
	for (int k = 0; k < NFM_NONIP_KIND_COUNT; k++)
		CHECK(strlen(nfm_nonip_name((enum nfm_nonip_kind)k)) > 0);
}

NFM_TEST(malformed_headers)
{
	struct nfm_packet p;
	struct frame f = { .n = 0 };
	eth(&f, 0x0800);
	size_t at = ipv4(&f, 6, 1, 2, 20, 0, 0);
	tcp(&f, 1, 2, 2, 0, 0);
	f.b[at] = 0x44; /* IHL 4 */
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_MALFORMED);
	f.b[at] = 0x55; /* version 5 */
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_MALFORMED);
	f.b[at] = 0x45;
	f.b[at + 20 + 12] = 0x30; /* TCP data offset 3 */
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_MALFORMED);
	f.b[at + 20 + 12] = 0xf0; /* data offset 60 > segment */
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_MALFORMED);
	f.b[at + 20 + 12] = 0x50;
	set16(&f, at + 2, 10); /* total length below the header */
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_MALFORMED);
	set16(&f, at + 2, 0); /* 0: segmentation offload, length from the frame */
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.ip_len, 40);
}

NFM_TEST(snaplen_truncation)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x0800);
	ipv4(&f, 6, 1, 2, 20 + 1000, 0, 0);
	tcp(&f, 1234, 80, 0x10, 0, 1000);
	struct nfm_packet p;
	/* cut at 96 bytes: headers whole, payload cut; counts stay exact */
	memset(&p, 0, sizeof p);
	p.wire_len = (uint32_t)f.n;
	p.cap_len = 96;
	CHECK_EQ_U(nfm_decode(f.b, 1, NULL, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.l4_payload_len, 1000);
	CHECK_EQ_U(p.wire_len, f.n);
	CHECK(p.flags & NFM_PKT_L4_TRUNC);
	/* cut inside the IP header */
	p.wire_len = (uint32_t)f.n;
	p.cap_len = 30;
	CHECK_EQ_U(nfm_decode(f.b, 1, NULL, &p), NFM_DECODE_TRUNCATED);
}

static size_t gre_frame(struct frame *f)
{
	f->n = 0;
	eth(f, 0x0800);
	ipv4(f, 47, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 8 + 20 + 20 + 7, 0, 0);
	put16(f, 0x2000); put16(f, 0x0800); put32(f, 99); /* GRE with key 99 */
	ipv4(f, 6, IP4(10, 1, 1, 1), IP4(10, 2, 2, 2), 20 + 7, 0, 0);
	tcp(f, 5555, 22, 0x18, 0, 7);
	return f->n;
}

NFM_TEST(gre_tunnel_inner_flow)
{
	struct frame f;
	gre_frame(&f);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.ip_proto, 6);
	CHECK_EQ_U(p.sport, 5555);
	CHECK_EQ_U(p.dport, 22);
	CHECK_EQ_U(p.src[1], 1);
	CHECK_EQ_U(p.l4_payload_len, 7);
	CHECK_EQ_U(p.tunnel_type, NFM_TUNNEL_GRE);
	CHECK_EQ_U(p.tunnel_id, 99);
	CHECK_EQ_U(p.tunnel_l3, NFM_L3_IPV4);
	CHECK(p.tunnel_src[0] == 172 && p.tunnel_dst[3] == 2);
	CHECK_EQ_U(p.tunnel_depth, 1);

	struct nfm_decode_options no = { .tunnels = false, .max_tunnel_depth = 4 };
	memset(&p, 0, sizeof p);
	p.wire_len = p.cap_len = (uint32_t)f.n;
	CHECK_EQ_U(nfm_decode(f.b, 1, &no, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.ip_proto, 47);
	CHECK_EQ_U(p.tunnel_type, NFM_TUNNEL_NONE);
	CHECK_EQ_U(p.src[0], 172);
	CHECK_EQ_U(p.l4_payload_len, 8 + 20 + 20 + 7);
}

NFM_TEST(vxlan_and_ipip)
{
	struct frame f = { .n = 0 };
	eth(&f, 0x0800);
	ipv4(&f, 17, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 8 + 8 + 14 + 20 + 8 + 3, 0, 0);
	udp(&f, 50000, 4789, 0);
	set16(&f, f.n - 4, 8 + 8 + 14 + 20 + 8 + 3);
	put8(&f, 0x08); putn(&f, 0, 3); put32(&f, 4242u << 8);
	eth(&f, 0x8100 - 0x8100 + 0x0800);
	ipv4(&f, 17, IP4(10, 0, 0, 5), IP4(10, 0, 0, 6), 8 + 3, 0, 0);
	udp(&f, 1111, 2222, 3);
	struct nfm_packet p;
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.tunnel_type, NFM_TUNNEL_VXLAN);
	CHECK_EQ_U(p.tunnel_id, 4242);
	CHECK_EQ_U(p.sport, 1111);
	CHECK_EQ_U(p.l4_payload_len, 3);
	CHECK_EQ_U(p.wire_len, f.n);

	/* IPv6 in IPv4 (6in4) */
	struct frame g = { .n = 0 };
	eth(&g, 0x0800);
	ipv4(&g, 41, 1, 2, 40 + 8, 0, 0);
	ipv6(&g, 17, 8, 3, 4);
	udp(&g, 9, 10, 0);
	CHECK_EQ_U(dec(&g, 1, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.l3, NFM_L3_IPV6);
	CHECK_EQ_U(p.tunnel_type, NFM_TUNNEL_IPIP);
	CHECK_EQ_U(p.sport, 9);

	/* Nesting is bounded: six IPv4-in-IPv4 layers, depth limit 4 */
	struct frame h = { .n = 0 };
	size_t inner = 8;
	for (int i = 0; i < 6; i++)
		ipv4(&h, 4, 1, 2, inner + 20 * (size_t)(5 - i) + 20, 0, 0);
	ipv4(&h, 17, 1, 2, 8, 0, 0);
	udp(&h, 1, 2, 0);
	CHECK_EQ_U(dec(&h, 101, &p), NFM_DECODE_OK);
	CHECK_EQ_U(p.tunnel_depth, 4);
	CHECK_EQ_U(p.ip_proto, 4);
}

/* GRE (version 0 unless ver1) between 172.16.0.1 and .2 carrying protocol proto and the
 * len bytes that the caller appends. */
static void gre_hdr(struct frame *f, unsigned proto, size_t len)
{
	f->n = 0;
	eth(f, 0x0800);
	ipv4(f, 47, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 4 + len, 0, 0);
	put16(f, 0);
	put16(f, proto);
}

static void check_opaque(struct nfm_test_state *nfm_t_, const struct frame *f, const char *kind)
{
	struct nfm_packet p;
	char nb[64];
	CHECK_EQ_U(dec(f, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_TUNNEL_OPAQUE);
	CHECK_STR(nfm_opaque_name(nfm_opaque_kind(&p), nb, sizeof nb), kind);
	CHECK_EQ_U(p.tunnel_type, NFM_TUNNEL_NONE); /* metered as the outer packet */
	CHECK_EQ_U(p.src[0], 172);
	CHECK_EQ_U(p.l4_payload_len, f->n - 14 - 20 - (p.ip_proto == 17 ? 8 : 0));
	for (size_t cut = 0; cut <= f->n; cut++) { /* no prefix reads out of bounds */
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, f->b, cut);
		memset(&p, 0, sizeof p);
		p.wire_len = (uint32_t)f->n;
		p.cap_len = (uint32_t)cut;
		CHECK(nfm_decode(copy, 1, NULL, &p) < NFM_DECODE_STATUS_COUNT);
		free(copy);
	}
}

/* A tunnel payload we do not follow keeps the packet as the outer one and names its kind
 * (tunnel type and the payload's EtherType, PPP protocol or LLC) for the report. */
NFM_TEST(tunnel_payload_not_followed)
{
	struct frame f;
	gre_hdr(&f, 0x8200, 24); /* Aruba: 802.11 frames over GRE */
	putn(&f, 0x88, 24);
	check_opaque(nfm_t_, &f, "gre 0x8200");

	gre_hdr(&f, 0x6558, 14 + 46); /* bridged Ethernet carrying LLDP, then STP */
	eth(&f, 0x88cc);
	putn(&f, 0, 46);
	check_opaque(nfm_t_, &f, "gre 0x88cc");
	gre_hdr(&f, 0x6558, 14 + 38);
	eth(&f, 38);
	put8(&f, 0x42); put8(&f, 0x42); put8(&f, 0x03); putn(&f, 0, 35);
	check_opaque(nfm_t_, &f, "gre llc");

	f.n = 0; /* PPTP (GRE version 1) carrying LCP */
	eth(&f, 0x0800);
	ipv4(&f, 47, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 12 + 8, 0, 0);
	put16(&f, 0x3001); put16(&f, 0x880b); put16(&f, 8); put16(&f, 5); put32(&f, 1);
	put16(&f, 0xff03); put16(&f, 0xc021); put32(&f, 0x01010004);
	check_opaque(nfm_t_, &f, "gre ppp 0xc021");

	f.n = 0; /* VXLAN carrying ARP */
	eth(&f, 0x0800);
	ipv4(&f, 17, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 8 + 8 + 14 + 28, 0, 0);
	udp(&f, 50000, 4789, 0);
	set16(&f, f.n - 4, 8 + 8 + 14 + 28);
	put8(&f, 0x08); putn(&f, 0, 3); put32(&f, 7u << 8);
	eth(&f, 0x0806);
	put16(&f, 1); put16(&f, 0x0800); put8(&f, 6); put8(&f, 4); put16(&f, 1); putn(&f, 0, 20);
	check_opaque(nfm_t_, &f, "vxlan 0x0806");

	f.n = 0; /* Geneve with a protocol type we do not decode */
	eth(&f, 0x0800);
	ipv4(&f, 17, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 8 + 8 + 10, 0, 0);
	udp(&f, 50000, 6081, 0);
	set16(&f, f.n - 4, 8 + 8 + 10);
	put16(&f, 0); put16(&f, 0x894f); put32(&f, 0); putn(&f, 0, 10);
	check_opaque(nfm_t_, &f, "geneve 0x894f");

	/* Nested: GRE -> IPv4 -> GRE 0x8909: the inner packet is metered, and its tunnel
	 * payload named; the outermost tunnel is still recorded. */
	struct nfm_packet p;
	char nb[64];
	f.n = 0;
	eth(&f, 0x0800);
	ipv4(&f, 47, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 4 + 20 + 4 + 8, 0, 0);
	put16(&f, 0); put16(&f, 0x0800);
	ipv4(&f, 47, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 4 + 8, 0, 0);
	put16(&f, 0); put16(&f, 0x8909); putn(&f, 0, 8);
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK(p.flags & NFM_PKT_TUNNEL_OPAQUE);
	CHECK_STR(nfm_opaque_name(nfm_opaque_kind(&p), nb, sizeof nb), "gre 0x8909");
	CHECK_EQ_U(p.tunnel_type, NFM_TUNNEL_GRE);
	CHECK_EQ_U(p.src[0], 10);
	CHECK_EQ_U(p.ip_proto, 47);

	/* Not a kind: a tunnel we follow, tunnels off, a payload cut short. */
	gre_frame(&f);
	CHECK_EQ_U(dec(&f, 1, &p), NFM_DECODE_OK);
	CHECK(!(p.flags & NFM_PKT_TUNNEL_OPAQUE));
	gre_hdr(&f, 0x8200, 24);
	putn(&f, 0x88, 24);
	struct nfm_decode_options no = { .tunnels = false, .max_tunnel_depth = 4 };
	memset(&p, 0, sizeof p);
	p.wire_len = p.cap_len = (uint32_t)f.n;
	CHECK_EQ_U(nfm_decode(f.b, 1, &no, &p), NFM_DECODE_OK);
	CHECK(!(p.flags & NFM_PKT_TUNNEL_OPAQUE));
	gre_hdr(&f, 0x6558, 14 + 46);
	eth(&f, 0x88cc);
	putn(&f, 0, 46);
	memset(&p, 0, sizeof p);
	p.wire_len = (uint32_t)f.n;
	p.cap_len = 14 + 20 + 4 + 10; /* inner Ethernet header cut */
	CHECK_EQ_U(nfm_decode(f.b, 1, NULL, &p), NFM_DECODE_OK);
	CHECK(!(p.flags & NFM_PKT_TUNNEL_OPAQUE));
}

/* Every prefix of every test frame decodes without reading out of bounds (ASan), and the
 * wire length stays the frame's. */
NFM_TEST(every_prefix_is_safe)
{
	struct frame f;
	gre_frame(&f);
	for (size_t cut = 0; cut <= f.n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, f.b, cut);
		for (int link = 0; link < 300; link++) {
			struct nfm_packet p;
			memset(&p, 0, sizeof p);
			p.wire_len = (uint32_t)f.n;
			p.cap_len = (uint32_t)cut;
			enum nfm_decode_status st = nfm_decode(copy, link, NULL, &p);
			CHECK(st < NFM_DECODE_STATUS_COUNT);
			CHECK_EQ_U(p.wire_len, f.n);
		}
		free(copy);
	}
}

/* Random bytes under every link type: no crash, status in range (ASan/UBSan watch). */
NFM_TEST(random_frames)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	uint8_t buf[256];
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(s % sizeof buf);
		for (size_t k = 0; k < n; k++) {
			s ^= s << 13; s ^= s >> 7; s ^= s << 17;
			buf[k] = (uint8_t)s;
		}
		if (n > 14 && (i & 1)) { buf[12] = 0x08; buf[13] = 0x00; buf[14] = 0x45; }
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		static const int links[] = { 0, 1, 9, 12, 101, 104, 108, 113, 228, 229, 276, 51 };
		struct nfm_packet p;
		memset(&p, 0, sizeof p);
		p.wire_len = p.cap_len = (uint32_t)n;
		CHECK(nfm_decode(copy, links[i % 12], NULL, &p) < NFM_DECODE_STATUS_COUNT);
		free(copy);
	}
}

NFM_TEST_MAIN_BEGIN()
	RUN(ethernet_ipv4_tcp_with_padding);
	RUN(ipv4_options_and_tcp_options);
	RUN(vlan_qinq_outer_id);
	RUN(mpls_stack_to_ipv4);
	RUN(pppoe_session_to_ipv6);
	RUN(ipv6_extension_chain);
	RUN(ipv6_fragments);
	RUN(ipv4_fragments);
	RUN(icmp_echo_and_error);
	RUN(icmpv6_echo);
	RUN(sctp_ports);
	RUN(arp_request);
	RUN(link_types);
	RUN(ipv6_on_null_families);
	RUN(non_ip_kinds);
	RUN(malformed_headers);
	RUN(snaplen_truncation);
	RUN(gre_tunnel_inner_flow);
	RUN(vxlan_and_ipip);
	RUN(tunnel_payload_not_followed);
	RUN(every_prefix_is_safe);
	RUN(random_frames);
NFM_TEST_MAIN_END()
