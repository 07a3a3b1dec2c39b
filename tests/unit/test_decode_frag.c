/* Decoder: a TCP header split over IPv4 and IPv6 fragments (one rule for both), and
 * truncation at every length of such fragments. */
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "nfm_frame.h"
#include "nfm_test.h"

/* A TCP SYN with one option word (24-byte header, as in tcpdump's frag-ppp-ip-tcp-syn.pcap)
 * and pay payload bytes, cut to the IP fragment holding segment bytes [off, off + len),
 * behind a PPP header: IPv4, or IPv6 with a fragment header. Returns the TCP offset. */
static size_t tcp_frag(struct frame *f, int v6, size_t off, size_t len, int more, size_t pay)
{
	struct frame seg = { .n = 0 };
	tcp(&seg, 12345, 8080, NFM_TCP_SYN, 1, pay);
	unsigned fo = (unsigned)(off / 8);
	f->n = 0;
	put16(f, 0xff03);
	put16(f, v6 ? 0x0057 : 0x0021);
	if (v6) {
		ipv6(f, 44, 8 + len, 1, 2);
		put8(f, 6); put8(f, 0); put16(f, fo << 3 | (more ? 1u : 0u)); put32(f, 0x77);
	} else {
		ipv4(f, 6, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), len, 0, (more ? 0x2000u : 0) | fo);
	}
	memcpy(f->b + f->n, seg.b + off, len);
	f->n += len;
	return f->n - len;
}

/* The TCP header split over fragments, IPv4 and IPv6 alike: ports and sequence number
 * from the first fragment (8 bytes are enough), flags, acknowledgement and header length
 * from whichever fragment holds them, payload only beyond the header. */
NFM_TEST(tcp_header_split_over_fragments)
{
	for (int v6 = 0; v6 < 2; v6++) {
		struct frame f;
		struct nfm_packet p;
		tcp_frag(&f, v6, 0, 8, 1, 10);
		CHECK_EQ_U(dec(&f, 9, &p), NFM_DECODE_OK);
		CHECK((p.flags & (NFM_PKT_FRAG_FIRST | NFM_PKT_HAS_PORTS)) ==
		      (NFM_PKT_FRAG_FIRST | NFM_PKT_HAS_PORTS));
		CHECK_EQ_U(p.sport, 12345);
		CHECK_EQ_U(p.dport, 8080);
		CHECK_EQ_U(p.tcp_seq, 1000);
		CHECK_EQ_U(p.tcp_flags, 0);
		CHECK_EQ_U(p.tcp_hlen, 0);
		CHECK_EQ_U(p.l4_payload_len, 0);

		tcp_frag(&f, v6, 8, 16 + 10, 0, 10); /* rest of the header and the payload */
		CHECK_EQ_U(dec(&f, 9, &p), NFM_DECODE_OK);
		CHECK(!(p.flags & (NFM_PKT_FRAG_FIRST | NFM_PKT_HAS_PORTS)));
		CHECK_EQ_U(p.frag_offset, 1);
		CHECK_EQ_U(p.ip_proto, 6);
		CHECK_EQ_U(p.tcp_flags, NFM_TCP_SYN);
		CHECK_EQ_U(p.tcp_ack, 2000);
		CHECK_EQ_U(p.tcp_hlen, 24);
		CHECK_EQ_U(p.l4_payload_len, 10);

		tcp_frag(&f, v6, 0, 16, 1, 10); /* flags in the first; the header goes on */
		CHECK_EQ_U(dec(&f, 9, &p), NFM_DECODE_OK);
		CHECK_EQ_U(p.tcp_flags, NFM_TCP_SYN);
		CHECK_EQ_U(p.tcp_hlen, 24);
		CHECK_EQ_U(p.sport, 12345);
		CHECK_EQ_U(p.l4_payload_len, 0);

		/* At offset 16 the decoder assumes the 20-byte minimum (the meter corrects it
		 * with the length the first fragment reported). */
		tcp_frag(&f, v6, 16, 8 + 10, 0, 10);
		CHECK_EQ_U(dec(&f, 9, &p), NFM_DECODE_OK);
		CHECK_EQ_U(p.tcp_flags, 0);
		CHECK_EQ_U(p.tcp_hlen, 0);
		CHECK_EQ_U(p.l4_payload_len, 14);

		tcp_frag(&f, v6, 64, 40, 0, 80); /* past any TCP header: all payload */
		CHECK_EQ_U(dec(&f, 9, &p), NFM_DECODE_OK);
		CHECK_EQ_U(p.l4_payload_len, 40);

		tcp_frag(&f, v6, 0, 4, 1, 0); /* a first fragment without the sequence number */
		CHECK_EQ_U(dec(&f, 9, &p), NFM_DECODE_MALFORMED);
		size_t at = tcp_frag(&f, v6, 8, 16, 0, 0);
		f.b[at + 4] = 0x40; /* data offset 4 */
		CHECK_EQ_U(dec(&f, 9, &p), NFM_DECODE_MALFORMED);
	}
}

/* Every prefix of those fragments: truncated exactly while a byte up to the TCP flags
 * that the fragment holds is missing, otherwise the same counts as the whole frame. */
NFM_TEST(tcp_fragment_every_prefix)
{
	static const size_t cases[][4] = { /* off, len, more, need */
		{ 0, 8, 1, 8 }, { 8, 26, 0, 6 }, { 0, 16, 1, 14 }, { 16, 18, 0, 0 },
	};
	for (int v6 = 0; v6 < 2; v6++)
		for (size_t c = 0; c < 4; c++) {
			struct frame f;
			struct nfm_packet whole, p;
			size_t at = tcp_frag(&f, v6, cases[c][0], cases[c][1], (int)cases[c][2], 10);
			CHECK_EQ_U(dec(&f, 9, &whole), NFM_DECODE_OK);
			for (size_t cut = 0; cut <= f.n; cut++) {
				uint8_t *copy = malloc(cut ? cut : 1);
				memcpy(copy, f.b, cut);
				memset(&p, 0, sizeof p);
				p.wire_len = (uint32_t)f.n;
				p.cap_len = (uint32_t)cut;
				enum nfm_decode_status st = nfm_decode(copy, 9, NULL, &p);
				if (cut < at + cases[c][3]) {
					CHECK_EQ_U(st, NFM_DECODE_TRUNCATED);
				} else {
					CHECK_EQ_U(st, NFM_DECODE_OK);
					CHECK_EQ_U(p.l4_payload_len, whole.l4_payload_len);
					CHECK_EQ_U(p.tcp_flags, whole.tcp_flags);
					CHECK_EQ_U(p.sport, whole.sport);
				}
				free(copy);
			}
		}
}

NFM_TEST_MAIN_BEGIN()
	RUN(tcp_header_split_over_fragments);
	RUN(tcp_fragment_every_prefix);
NFM_TEST_MAIN_END()
