/* Frame builders for the tests and the capture-writing tools: frames are written byte by
 * byte, big-endian, into a fixed buffer (checksums are zero: nothing verifies them).
 * Header-only (static inline), so each program uses what it needs. */
#ifndef NFM_FRAME_H
#define NFM_FRAME_H

#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

struct frame {
	uint8_t b[4096];
	size_t n;
};

/* Big-endian stores at p, for bytes built outside a struct frame. */
static inline void wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

/* Appending to f. */
static inline void put8(struct frame *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static inline void put16(struct frame *f, unsigned v) { put8(f, v >> 8); put8(f, v); }
static inline void put32(struct frame *f, uint32_t v) { put16(f, v >> 16); put16(f, v & 0xffff); }
static inline void putn(struct frame *f, unsigned v, size_t n) { while (n--) put8(f, v); }
static inline void put_bytes(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}
static inline void set16(struct frame *f, size_t at, unsigned v) { wr16(f->b + at, v); }

/* Zero bytes up to len (the Ethernet minimum frame is 60 without the FCS). */
static inline void pad_to(struct frame *f, size_t len)
{
	if (f->n < len)
		putn(f, 0, len - f->n);
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* MAC addresses (destination, source) of the golden and hostile captures. */
static inline const uint8_t *capture_macs(void)
{
	static const uint8_t macs[12] = { 0, 0x11, 0x22, 0x33, 0x44, 0x55,
					  0, 0x66, 0x77, 0x88, 0x99, 0xaa };
	return macs;
}

/* Ethernet II: macs (destination then source, 12 bytes), up to two VLAN tags (0: none;
 * with two, the outer one is 802.1ad) and the EtherType. */
static inline void eth_hdr(struct frame *f, const uint8_t macs[12], unsigned vlan_outer,
			   unsigned vlan_inner, unsigned type)
{
	put_bytes(f, macs, 12);
	if (vlan_outer) {
		put16(f, vlan_inner ? 0x88a8 : 0x8100);
		put16(f, vlan_outer);
	}
	if (vlan_inner) {
		put16(f, 0x8100);
		put16(f, vlan_inner);
	}
	put16(f, type);
}

/* Ethernet II from 04:04:04:04:04:04 to 02:02:02:02:02:02. */
static inline void eth(struct frame *f, unsigned type)
{
	putn(f, 0x02, 6);
	putn(f, 0x04, 6);
	put16(f, type);
}

/* IPv4 header with total length 20 + opt_words*4 + l4len, TTL 64. Returns the header
 * offset. */
static inline size_t ipv4_hdr(struct frame *f, unsigned proto, uint32_t src, uint32_t dst,
			      size_t l4len, unsigned opt_words, unsigned frag, unsigned id)
{
	size_t at = f->n;
	put8(f, 0x40 | (5 + opt_words));
	put8(f, 0);
	put16(f, (unsigned)(20 + opt_words * 4 + l4len));
	put16(f, id);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	for (unsigned i = 0; i < opt_words; i++)
		put32(f, 0x01010101); /* NOPs */
	return at;
}

/* The same with identification 0x1234. */
static inline size_t ipv4(struct frame *f, unsigned proto, uint32_t src, uint32_t dst,
			  size_t l4len, unsigned opt_words, unsigned frag)
{
	return ipv4_hdr(f, proto, src, dst, l4len, opt_words, frag, 0x1234);
}

/* IPv6 header from 2001:db8::<last_src> to 2001:db8::<last_dst>, hop limit 64. */
static inline void ipv6(struct frame *f, unsigned nh, size_t plen, uint8_t last_src,
			uint8_t last_dst)
{
	put32(f, 0x60000000);
	put16(f, (unsigned)plen);
	put8(f, nh);
	put8(f, 64);
	put16(f, 0x2001); put16(f, 0x0db8); putn(f, 0, 11); put8(f, last_src);
	put16(f, 0x2001); put16(f, 0x0db8); putn(f, 0, 11); put8(f, last_dst);
}

/* TCP header (window 65535) with opt_words NOP words of options. */
static inline void tcp_hdr(struct frame *f, unsigned sp, unsigned dp, uint32_t seq, uint32_t ack,
			   unsigned flags, unsigned opt_words)
{
	put16(f, sp);
	put16(f, dp);
	put32(f, seq);
	put32(f, ack);
	put8(f, (5 + opt_words) << 4);
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);
	for (unsigned i = 0; i < opt_words; i++)
		put32(f, 0x01010101);
}

/* TCP segment (seq 1000, ack 2000) with payload bytes of 'x'. */
static inline void tcp(struct frame *f, unsigned sp, unsigned dp, unsigned flags,
		       unsigned opt_words, size_t payload)
{
	tcp_hdr(f, sp, dp, 1000, 2000, flags, opt_words);
	putn(f, 'x', payload);
}

/* UDP header whose length field is len. */
static inline void udp_hdr(struct frame *f, unsigned sp, unsigned dp, unsigned len)
{
	put16(f, sp);
	put16(f, dp);
	put16(f, len);
	put16(f, 0);
}

/* UDP datagram with payload bytes of 'u'. */
static inline void udp(struct frame *f, unsigned sp, unsigned dp, size_t payload)
{
	udp_hdr(f, sp, dp, (unsigned)(8 + payload));
	putn(f, 'u', payload);
}

/* Decodes f as a frame of link type link into p (for the decoder tests). */
static inline enum nfm_decode_status dec(const struct frame *f, int link,
					 struct nfm_packet *p)
{
	memset(p, 0xa5, sizeof *p); /* the decoder must overwrite everything it reports */
	p->ts_ns = 7;
	p->wire_len = p->cap_len = (uint32_t)f->n;
	return nfm_decode(f->b, link, NULL, p);
}

#endif
