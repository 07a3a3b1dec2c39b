/* Frame builders for the decoder tests: frames are written byte by byte, big-endian,
 * into a fixed buffer, and decoded with dec(). Header-only (static inline), so each test
 * program uses what it needs. */
#ifndef NFM_FRAME_H
#define NFM_FRAME_H

#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

struct frame {
	uint8_t b[2048];
	size_t n;
};

static inline void put8(struct frame *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static inline void put16(struct frame *f, unsigned v) { put8(f, v >> 8); put8(f, v); }
static inline void put32(struct frame *f, uint32_t v) { put16(f, v >> 16); put16(f, v & 0xffff); }
static inline void putn(struct frame *f, unsigned v, size_t n) { while (n--) put8(f, v); }
static inline void set16(struct frame *f, size_t at, unsigned v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static inline void eth(struct frame *f, unsigned type)
{
	putn(f, 0x02, 6);
	putn(f, 0x04, 6);
	put16(f, type);
}

/* IPv4 header with total length 20 + opt_words*4 + l4len. Returns the header offset. */
static inline size_t ipv4(struct frame *f, unsigned proto, uint32_t src, uint32_t dst,
			  size_t l4len, unsigned opt_words, unsigned frag)
{
	size_t at = f->n;
	put8(f, 0x40 | (5 + opt_words));
	put8(f, 0);
	put16(f, (unsigned)(20 + opt_words * 4 + l4len));
	put16(f, 0x1234);
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

static inline void tcp(struct frame *f, unsigned sp, unsigned dp, unsigned flags,
		       unsigned opt_words, size_t payload)
{
	put16(f, sp);
	put16(f, dp);
	put32(f, 1000);
	put32(f, 2000);
	put8(f, (5 + opt_words) << 4);
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);
	for (unsigned i = 0; i < opt_words; i++)
		put32(f, 0x01010101);
	putn(f, 'x', payload);
}

static inline void udp(struct frame *f, unsigned sp, unsigned dp, size_t payload)
{
	put16(f, sp);
	put16(f, dp);
	put16(f, (unsigned)(8 + payload));
	put16(f, 0);
	putn(f, 'u', payload);
}

static inline enum nfm_decode_status dec(const struct frame *f, int link,
					 struct nfm_packet *p)
{
	memset(p, 0xa5, sizeof *p); /* the decoder must overwrite everything it reports */
	p->ts_ns = 7;
	p->wire_len = p->cap_len = (uint32_t)f->n;
	return nfm_decode(f->b, link, NULL, p);
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#endif
