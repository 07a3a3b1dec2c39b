/* The bounds-checked reader: the only code that touches packet bytes.
 * Every fetch checks the remaining length in a form that cannot overflow, reads with an
 * explicit byte order and no alignment assumption, and returns false when the bytes are
 * not there (the reader is then left unchanged). */
#ifndef NFM_DECODE_RD_H
#define NFM_DECODE_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct nfm_rd {
	const uint8_t *p;   /* next unread byte */
	const uint8_t *end; /* one past the last readable byte */
};

static inline struct nfm_rd nfm_rd_make(const uint8_t *p, size_t len)
{
	struct nfm_rd r = { p, p + len };
	return r;
}

static inline size_t nfm_rd_left(const struct nfm_rd *r) { return (size_t)(r->end - r->p); }
static inline bool nfm_rd_need(const struct nfm_rd *r, size_t n) { return n <= (size_t)(r->end - r->p); }

static inline bool nfm_rd_skip(struct nfm_rd *r, size_t n)
{
	if (!nfm_rd_need(r, n))
		return false;
	r->p += n;
	return true;
}

static inline bool nfm_rd_u8(struct nfm_rd *r, uint8_t *v)
{
	if (!nfm_rd_need(r, 1))
		return false;
	*v = r->p[0];
	r->p += 1;
	return true;
}

static inline bool nfm_rd_be16(struct nfm_rd *r, uint16_t *v)
{
	if (!nfm_rd_need(r, 2))
		return false;
	*v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return true;
}

static inline bool nfm_rd_le16(struct nfm_rd *r, uint16_t *v)
{
	if (!nfm_rd_need(r, 2))
		return false;
	*v = (uint16_t)((unsigned)r->p[1] << 8 | r->p[0]);
	r->p += 2;
	return true;
}

static inline bool nfm_rd_be32(struct nfm_rd *r, uint32_t *v)
{
	if (!nfm_rd_need(r, 4))
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return true;
}

static inline bool nfm_rd_le32(struct nfm_rd *r, uint32_t *v)
{
	if (!nfm_rd_need(r, 4))
		return false;
	*v = (uint32_t)r->p[3] << 24 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[1] << 8 | r->p[0];
	r->p += 4;
	return true;
}

static inline bool nfm_rd_bytes(struct nfm_rd *r, void *dst, size_t n)
{
	if (!nfm_rd_need(r, n))
		return false;
	memcpy(dst, r->p, n);
	r->p += n;
	return true;
}

/* Peek without consuming: byte at offset off from the current position. */
static inline bool nfm_rd_peek_u8(const struct nfm_rd *r, size_t off, uint8_t *v)
{
	if (off >= nfm_rd_left(r))
		return false;
	*v = r->p[off];
	return true;
}

static inline bool nfm_rd_peek_be16(const struct nfm_rd *r, size_t off, uint16_t *v)
{
	if (off > nfm_rd_left(r) || 2 > nfm_rd_left(r) - off)
		return false;
	*v = (uint16_t)((unsigned)r->p[off] << 8 | r->p[off + 1]);
	return true;
}

/* A sub-reader over the next n bytes (consumed from r). */
static inline bool nfm_rd_sub(struct nfm_rd *r, size_t n, struct nfm_rd *sub)
{
	if (!nfm_rd_need(r, n))
		return false;
	sub->p = r->p;
	sub->end = r->p + n;
	r->p += n;
	return true;
}

/* Narrow the readable bytes to at most n (e.g. to the IP total length, so Ethernet
 * padding never counts); a shorter buffer (snaplen) stays as it is. */
static inline void nfm_rd_limit(struct nfm_rd *r, size_t n)
{
	if (n < nfm_rd_left(r))
		r->end = r->p + n;
}

#endif
