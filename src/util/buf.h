/* A growable byte buffer: rows are built in it without an allocation per row (it only
 * grows, to the longest run of rows it has held). */
#ifndef NFM_UTIL_BUF_H
#define NFM_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct nfm_buf {
	uint8_t *p;
	size_t len, cap;
};

/* Room for n more bytes at p + len; NULL when memory is exhausted. */
static inline uint8_t *nfm_buf_room(struct nfm_buf *b, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2)
				return NULL;
			cap *= 2;
		}
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			return NULL;
		b->p = q;
		b->cap = cap;
	}
	return b->p + b->len;
}

static inline int nfm_buf_put(struct nfm_buf *b, const void *data, size_t n)
{
	uint8_t *d = nfm_buf_room(b, n);
	if (!d)
		return -1;
	memcpy(d, data, n);
	b->len += n;
	return 0;
}

static inline void nfm_buf_free(struct nfm_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Empties b, and gives its memory back when a burst grew it past keep bytes. */
static inline void nfm_buf_reset(struct nfm_buf *b, size_t keep)
{
	b->len = 0;
	if (b->cap > keep)
		nfm_buf_free(b);
}

#endif
