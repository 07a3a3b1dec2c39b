/* Writes the small, deterministic captures that the golden end-to-end tests convert.
 * Usage: mkgolden OUTDIR. Each scenario is one file; the expected rows live in
 * tests/golden/expected/. Frames are built with the shared builders of
 * tests/lib/nfm_frame.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/pcap_writer.h"
#include "nfm_frame.h"

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL
#define T0 (1700000000ULL * SEC) /* 2023-11-14T22:13:20Z */

struct out {
	struct nfm_pcap_writer *w;
	int failed;
};

/* Ethernet header of these captures, with up to two VLAN tags (0 = none). */
static void eth_g(struct frame *f, unsigned ethertype, unsigned vlan_outer, unsigned vlan_inner)
{
	f->n = 0;
	eth_hdr(f, capture_macs(), vlan_outer, vlan_inner, ethertype);
}

/* TCP header (no options) with payload bytes of 'x'. */
static void tcp_seg(struct frame *f, unsigned sp, unsigned dp, uint32_t seq, uint32_t ack,
		    unsigned flags, size_t payload)
{
	tcp_hdr(f, sp, dp, seq, ack, flags, 0);
	putn(f, 'x', payload);
}

static void emit(struct out *w, uint64_t ts, struct frame *f, uint32_t snap)
{
	pad_to(f, 60); /* Ethernet minimum frame: padding beyond the IP datagram */
	size_t len = f->n;
	uint32_t cap = (uint32_t)(snap && len > snap ? snap : len);
	if (nfm_pcap_writer_write(w->w, ts, f->b, cap, (uint32_t)len, NULL))
		w->failed = 1;
}

#define C_IP 0x0a000001u /* 10.0.0.1 */
#define S_IP 0x0a000002u /* 10.0.0.2 */

static void tcp4(struct out *w, uint64_t ts, int from_client, unsigned cport, unsigned sport,
		 uint32_t seq, uint32_t ack, unsigned flags, size_t payload, unsigned vlan,
		 uint32_t snap)
{
	struct frame f;
	eth_g(&f, 0x0800, vlan, 0);
	uint32_t s = from_client ? C_IP : S_IP, d = from_client ? S_IP : C_IP;
	ipv4_hdr(&f, 6, s, d, 20 + payload, 0, 0x4000, 1);
	tcp_seg(&f, from_client ? cport : sport, from_client ? sport : cport, seq, ack, flags,
		payload);
	emit(w, ts, &f, snap);
}

/* One TCP segment of the conversation 192.168.1.1:CPORT <-> 192.168.1.2:22 inside a tunnel
 * between 172.16.0.1 and 172.16.0.2: kind 0 GRE (key 7), 1 VXLAN (VNI 42), 2 IPv4-in-IPv4. */
static void tunnelled_tcp(struct out *w, uint64_t ts, int kind, unsigned cport, int from_client,
			  unsigned flags, size_t payload)
{
	struct frame f;
	size_t inner = 20 + 20 + payload;
	uint32_t c = 0xc0a80101u, sv = 0xc0a80102u;
	uint32_t oc = 0xac100001u, os = 0xac100002u;
	eth_g(&f, 0x0800, 0, 0);
	if (kind == 0) {
		ipv4_hdr(&f, 47, from_client ? oc : os, from_client ? os : oc, 8 + inner, 0, 0, 5);
		put16(&f, 0x2000);
		put16(&f, 0x0800);
		put32(&f, 7);
	} else if (kind == 1) {
		ipv4_hdr(&f, 17, from_client ? oc : os, from_client ? os : oc, 8 + 8 + 14 + inner, 0, 0,
			 5);
		udp_hdr(&f, 49152, 4789, (unsigned)(8 + 8 + 14 + inner));
		put8(&f, 0x08);
		putn(&f, 0, 3);
		put32(&f, 42u << 8);
		putn(&f, 0x02, 12);
		put16(&f, 0x0800);
	} else {
		ipv4_hdr(&f, 4, from_client ? oc : os, from_client ? os : oc, inner, 0, 0, 5);
	}
	ipv4_hdr(&f, 6, from_client ? c : sv, from_client ? sv : c, 20 + payload, 0, 0x4000, 9);
	tcp_seg(&f, from_client ? cport : 22, from_client ? 22 : cport, 100, 200, flags, payload);
	emit(w, ts, &f, 0);
}

static void udp4(struct out *w, uint64_t ts, uint32_t src, unsigned sp, uint32_t dst, unsigned dp,
		 size_t payload, unsigned vlan_outer, unsigned vlan_inner)
{
	struct frame f;
	eth_g(&f, 0x0800, vlan_outer, vlan_inner);
	ipv4_hdr(&f, 17, src, dst, 8 + payload, 0, 0, 2);
	udp(&f, sp, dp, payload);
	emit(w, ts, &f, 0);
}

static void icmp_echo(struct out *w, uint64_t ts, uint32_t src, uint32_t dst, unsigned type,
		      unsigned id, unsigned seq)
{
	struct frame f;
	eth_g(&f, 0x0800, 0, 0);
	ipv4_hdr(&f, 1, src, dst, 8 + 56, 0, 0, 3);
	put8(&f, type);
	put8(&f, 0);
	put16(&f, 0);
	put16(&f, id);
	put16(&f, seq);
	putn(&f, 'i', 56);
	emit(w, ts, &f, 0);
}

static void arp(struct out *w, uint64_t ts, unsigned op, uint32_t spa, uint32_t tpa)
{
	struct frame f;
	eth_g(&f, 0x0806, 0, 0);
	put16(&f, 1);
	put16(&f, 0x0800);
	put8(&f, 6);
	put8(&f, 4);
	put16(&f, op);
	putn(&f, 0xaa, 6);
	put32(&f, spa);
	putn(&f, op == 1 ? 0 : 0xbb, 6);
	put32(&f, tpa);
	emit(w, ts, &f, 0);
}

/* Full handshake, request/response, FIN/FIN/ACK teardown: 8 packets. */
static void tcp_conversation(struct out *w, uint64_t t, unsigned cport, unsigned sport,
			     size_t req, size_t resp, unsigned vlan)
{
	tcp4(w, t, 1, cport, sport, 1000, 0, 0x02, 0, vlan, 0);
	tcp4(w, t + 10 * MS, 0, cport, sport, 5000, 1001, 0x12, 0, vlan, 0);
	tcp4(w, t + 20 * MS, 1, cport, sport, 1001, 5001, 0x10, 0, vlan, 0);
	tcp4(w, t + 30 * MS, 1, cport, sport, 1001, 5001, 0x18, req, vlan, 0);
	tcp4(w, t + 50 * MS, 0, cport, sport, 5001, (uint32_t)(1001 + req), 0x18, resp, vlan, 0);
	tcp4(w, t + 60 * MS, 1, cport, sport, (uint32_t)(1001 + req), (uint32_t)(5001 + resp), 0x11, 0, vlan, 0);
	tcp4(w, t + 70 * MS, 0, cport, sport, (uint32_t)(5001 + resp), (uint32_t)(1002 + req), 0x11, 0, vlan, 0);
	tcp4(w, t + 80 * MS, 1, cport, sport, (uint32_t)(1002 + req), (uint32_t)(5002 + resp), 0x10, 0, vlan, 0);
}

static int open_link(struct out *w, const char *dir, const char *name, int link, int nano,
		     uint32_t snap)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	w->failed = 0;
	struct nfm_error err;
	if (nfm_pcap_writer_open(&w->w, path, link, snap ? snap : 65535, nano, &err)) {
		fprintf(stderr, "mkgolden: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int open_out(struct out *w, const char *dir, const char *name, int nano, uint32_t snap)
{
	return open_link(w, dir, name, 1, nano, snap);
}

/* PPP (link type 9) + IPv4 fragment holding bytes [off, off + len) of seg (id 1). */
static void ppp_fragment(struct out *w, uint64_t ts, const uint8_t *seg, size_t seglen, size_t off,
			 size_t len)
{
	struct frame f = { .n = 0 };
	put8(&f, 0xff);
	put8(&f, 0x03);
	put16(&f, 0x0021);
	unsigned frag = (unsigned)(off / 8) | (off + len < seglen ? 0x2000u : 0);
	ipv4_hdr(&f, 6, 0x01010101, 0x02020202, len, 0, frag, 1);
	put_bytes(&f, seg + off, len);
	if (nfm_pcap_writer_write(w->w, ts, f.b, (uint32_t)f.n, (uint32_t)f.n, NULL))
		w->failed = 1;
}

static int close_out(struct out *w)
{
	struct nfm_error err;
	if (nfm_pcap_writer_close(w->w, &err) || w->failed) {
		fprintf(stderr, "mkgolden: write failed\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkgolden OUTDIR\n");
		return 2;
	}
	const char *dir = argv[1];
	struct out w;
	int bad = 0;

	/* basic: TCP, DNS over UDP, ICMP echo, ARP; Ethernet padding on short frames. */
	if (open_out(&w, dir, "basic.pcap", 0, 0))
		return 1;
	arp(&w, T0, 1, C_IP, S_IP);
	arp(&w, T0 + 1 * MS, 2, S_IP, C_IP);
	tcp_conversation(&w, T0 + 2 * MS, 40000, 80, 100, 1000, 0);
	udp4(&w, T0 + 200 * MS, C_IP, 53000, 0x0a000035, 53, 30, 0, 0);
	udp4(&w, T0 + 230 * MS, 0x0a000035, 53, C_IP, 53000, 90, 0, 0);
	icmp_echo(&w, T0 + 300 * MS, C_IP, S_IP, 8, 0x1234, 1);
	icmp_echo(&w, T0 + 301 * MS, S_IP, C_IP, 0, 0x1234, 1);
	icmp_echo(&w, T0 + 1300 * MS, C_IP, S_IP, 8, 0x1234, 2);
	icmp_echo(&w, T0 + 1301 * MS, S_IP, C_IP, 0, 0x1234, 2);
	bad |= close_out(&w);

	/* timeouts: a UDP conversation with a 100 s silence (idle timeout 60 s). */
	if (open_out(&w, dir, "timeouts.pcap", 0, 0))
		return 1;
	for (int i = 0; i < 3; i++)
		udp4(&w, T0 + (uint64_t)i * SEC, 0x0a010101, 5000, 0x0a010102, 6000, 100, 0, 0);
	udp4(&w, T0 + 102 * SEC, 0x0a010102, 6000, 0x0a010101, 5000, 200, 0, 0);
	udp4(&w, T0 + 103 * SEC, 0x0a010101, 5000, 0x0a010102, 6000, 100, 0, 0);
	bad |= close_out(&w);

	/* states: rejected, reset, mid-stream, SYN+ACK first, attempted, reuse after close. */
	if (open_out(&w, dir, "states.pcap", 0, 0))
		return 1;
	tcp4(&w, T0, 1, 41000, 81, 1, 0, 0x02, 0, 0, 0);
	tcp4(&w, T0 + 1 * MS, 0, 41000, 81, 0, 2, 0x14, 0, 0, 0);
	tcp4(&w, T0 + 10 * MS, 1, 41001, 82, 1, 0, 0x02, 0, 0, 0);
	tcp4(&w, T0 + 11 * MS, 0, 41001, 82, 9, 2, 0x12, 0, 0, 0);
	tcp4(&w, T0 + 12 * MS, 1, 41001, 82, 2, 10, 0x10, 0, 0, 0);
	tcp4(&w, T0 + 13 * MS, 1, 41001, 82, 2, 10, 0x04, 0, 0, 0);
	tcp4(&w, T0 + 20 * MS, 1, 41002, 83, 500, 900, 0x18, 40, 0, 0);
	tcp4(&w, T0 + 21 * MS, 0, 41002, 83, 900, 540, 0x10, 0, 0, 0);
	tcp4(&w, T0 + 30 * MS, 0, 41003, 84, 9, 2, 0x12, 0, 0, 0);
	tcp4(&w, T0 + 31 * MS, 1, 41003, 84, 2, 10, 0x10, 0, 0, 0);
	tcp4(&w, T0 + 40 * MS, 1, 41004, 85, 1, 0, 0x02, 0, 0, 0);
	tcp4(&w, T0 + 1040 * MS, 1, 41004, 85, 1, 0, 0x02, 0, 0, 0);
	tcp_conversation(&w, T0 + 2000 * MS, 41005, 86, 10, 20, 0);
	tcp_conversation(&w, T0 + 2100 * MS, 41005, 86, 30, 40, 0);
	bad |= close_out(&w);

	/* v6vlan: IPv6 TCP, one UDP 5-tuple on two VLANs, and QinQ (outer id keys). */
	if (open_out(&w, dir, "v6vlan.pcap", 0, 0))
		return 1;
	{
		struct frame f;
		uint32_t seqs[3][2] = { { 0x02, 0 }, { 0x12, 1 }, { 0x10, 0 } };
		for (int i = 0; i < 3; i++) {
			eth_g(&f, 0x86dd, 0, 0);
			int from_client = seqs[i][1] == 0;
			ipv6(&f, 6, 20 + (size_t)(i == 2 ? 500 : 0), from_client ? 1 : 2,
			     from_client ? 2 : 1);
			tcp_seg(&f, from_client ? 50000 : 443, from_client ? 443 : 50000, 7, 8, seqs[i][0],
				i == 2 ? 500 : 0);
			emit(&w, T0 + (uint64_t)i * MS, &f, 0);
		}
	}
	udp4(&w, T0 + 10 * MS, C_IP, 7000, S_IP, 7001, 10, 100, 0);
	udp4(&w, T0 + 11 * MS, C_IP, 7000, S_IP, 7001, 10, 200, 0);
	udp4(&w, T0 + 12 * MS, S_IP, 7001, C_IP, 7000, 10, 100, 0);
	udp4(&w, T0 + 13 * MS, C_IP, 7000, S_IP, 7001, 10, 300, 10);
	bad |= close_out(&w);

	/* snaplen: 96-byte snaplen; sizes and payload come from the wire and IP lengths. */
	if (open_out(&w, dir, "snaplen.pcap", 0, 96))
		return 1;
	tcp4(&w, T0, 1, 42000, 8080, 1, 0, 0x02, 0, 0, 96);
	tcp4(&w, T0 + 1 * MS, 0, 42000, 8080, 9, 2, 0x12, 0, 0, 96);
	tcp4(&w, T0 + 2 * MS, 0, 42000, 8080, 10, 2, 0x10, 1460, 0, 96);
	tcp4(&w, T0 + 3 * MS, 0, 42000, 8080, 1470, 2, 0x10, 1460, 0, 96);
	tcp4(&w, T0 + 4 * MS, 1, 42000, 8080, 2, 2930, 0x10, 0, 0, 96);
	bad |= close_out(&w);

	/* nano: nanosecond timestamps, and one packet that goes back in time. */
	if (open_out(&w, dir, "nano.pcap", 1, 0))
		return 1;
	udp4(&w, T0 + 123456789, C_IP, 9000, S_IP, 9001, 20, 0, 0);
	udp4(&w, T0 + 123457789, S_IP, 9001, C_IP, 9000, 20, 0, 0);
	udp4(&w, T0 + 123000000, C_IP, 9000, S_IP, 9001, 20, 0, 0);
	bad |= close_out(&w);

	/* frags: a 3000-byte UDP datagram in three fragments (ports from the first), and a
	 * fragment whose first fragment never arrives. */
	if (open_out(&w, dir, "frags.pcap", 0, 0))
		return 1;
	{
		struct frame f;
		eth_g(&f, 0x0800, 0, 0);
		ipv4_hdr(&f, 17, C_IP, S_IP, 1480, 0, 0x2000, 77);
		udp_hdr(&f, 1111, 2222, 3008);
		putn(&f, 'f', 1472);
		emit(&w, T0, &f, 0);
		eth_g(&f, 0x0800, 0, 0);
		ipv4_hdr(&f, 17, C_IP, S_IP, 1480, 0, 0x2000 | 185, 77);
		putn(&f, 'f', 1480);
		emit(&w, T0 + 1 * US, &f, 0);
		eth_g(&f, 0x0800, 0, 0);
		ipv4_hdr(&f, 17, C_IP, S_IP, 48, 0, 370, 77);
		putn(&f, 'f', 48);
		emit(&w, T0 + 2 * US, &f, 0);
		eth_g(&f, 0x0800, 0, 0);
		ipv4_hdr(&f, 17, C_IP, S_IP, 100, 0, 185, 78);
		putn(&f, 'f', 100);
		emit(&w, T0 + 3 * US, &f, 0);
	}
	bad |= close_out(&w);

	/* fragsyn: a TCP SYN over PPP whose 24-byte header (window scale option) is cut into
	 * three 8-byte IPv4 fragments, as in tcpdump's frag-ppp-ip-tcp-syn.pcap: ports in the
	 * first, flags in the second, options in the third. */
	if (open_link(&w, dir, "fragsyn.pcap", 9, 0, 0))
		return 1;
	{
		uint8_t seg[24] = { 0 };
		struct frame t = { .n = 0 };
		tcp_hdr(&t, 12345, 8080, 1, 0, 0x02, 0);
		memcpy(seg, t.b, 20);
		seg[12] = 0x60;
		wr16(seg + 14, 8192);
		seg[20] = 3; /* window scale 14 */
		seg[21] = 3;
		seg[22] = 14;
		for (size_t off = 0; off < sizeof seg; off += 8)
			ppp_fragment(&w, T0 + off * US, seg, sizeof seg, off, 8);
	}
	bad |= close_out(&w);

	/* tunnels: one TCP conversation inside each of GRE, VXLAN and IP-in-IP; each is a flow
	 * of the inner endpoints and ports, with the tunnel in the extended columns. */
	if (open_out(&w, dir, "tunnels.pcap", 0, 0))
		return 1;
	tunnelled_tcp(&w, T0, 0, 50000, 1, 0x02, 0);
	tunnelled_tcp(&w, T0 + 1 * MS, 0, 50000, 0, 0x12, 0);
	tunnelled_tcp(&w, T0 + 2 * MS, 0, 50000, 1, 0x10, 0);
	tunnelled_tcp(&w, T0 + 3 * MS, 0, 50000, 1, 0x18, 100);
	tunnelled_tcp(&w, T0 + 10 * MS, 1, 50001, 1, 0x18, 10);
	tunnelled_tcp(&w, T0 + 11 * MS, 1, 50001, 0, 0x10, 0);
	tunnelled_tcp(&w, T0 + 20 * MS, 2, 50002, 1, 0x18, 20);
	tunnelled_tcp(&w, T0 + 21 * MS, 2, 50002, 0, 0x18, 30);
	bad |= close_out(&w);

	/* active: a TCP connection of 70 s and a tunnelled one of 32 s, cut by a 30 s active
	 * timeout (--active-timeout 30), whose later pieces start with a server packet: every
	 * piece keeps the client as initiator, and the tunnel's outer addresses as the
	 * client's packets travel. */
	if (open_out(&w, dir, "active.pcap", 0, 0))
		return 1;
	tcp4(&w, T0, 1, 42000, 443, 1, 0, 0x02, 0, 0, 0);
	tcp4(&w, T0 + 1 * MS, 0, 42000, 443, 5000, 2, 0x12, 0, 0, 0);
	tcp4(&w, T0 + 2 * MS, 1, 42000, 443, 2, 5001, 0x10, 0, 0, 0);
	tunnelled_tcp(&w, T0 + 3 * MS, 0, 50010, 1, 0x02, 0);
	tunnelled_tcp(&w, T0 + 4 * MS, 0, 50010, 0, 0x12, 0);
	tcp4(&w, T0 + 10 * SEC, 1, 42000, 443, 2, 5001, 0x18, 100, 0, 0);
	tcp4(&w, T0 + 20 * SEC, 0, 42000, 443, 5001, 102, 0x18, 200, 0, 0);
	tcp4(&w, T0 + 31 * SEC, 0, 42000, 443, 5201, 102, 0x18, 300, 0, 0);
	tcp4(&w, T0 + 32 * SEC, 1, 42000, 443, 102, 5501, 0x10, 0, 0, 0);
	tunnelled_tcp(&w, T0 + 32 * SEC, 0, 50010, 0, 0x18, 40);
	tunnelled_tcp(&w, T0 + 33 * SEC, 0, 50010, 1, 0x10, 0);
	tcp4(&w, T0 + 45 * SEC, 0, 42000, 443, 5501, 102, 0x18, 50, 0, 0);
	tcp4(&w, T0 + 62 * SEC, 0, 42000, 443, 5551, 102, 0x18, 60, 0, 0);
	tcp4(&w, T0 + 70 * SEC, 1, 42000, 443, 102, 5611, 0x11, 0, 0, 0);
	bad |= close_out(&w);

	/* empty: a valid capture with no packets. */
	if (open_out(&w, dir, "empty.pcap", 0, 0))
		return 1;
	bad |= close_out(&w);

	/* truncated: basic.pcap cut in the middle of its last record. */
	{
		char src[1024], dst[1024];
		snprintf(src, sizeof src, "%s/basic.pcap", dir);
		snprintf(dst, sizeof dst, "%s/truncated.pcap", dir);
		FILE *in = fopen(src, "rb");
		FILE *out = fopen(dst, "wb");
		if (!in || !out)
			return 1;
		static uint8_t buf[1 << 16];
		size_t n = fread(buf, 1, sizeof buf, in);
		fclose(in);
		if (n < 40 || fwrite(buf, 1, n - 30, out) != n - 30)
			bad = 1;
		if (fclose(out) != 0)
			bad = 1;
	}
	return bad ? 1 : 0;
}
