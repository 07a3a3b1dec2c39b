/* Byte stream under the capture readers (private to src/capture/).
 * Lends pointers into a window of the input so that a record is parsed in place and
 * never copied. The window is [pos, end). Parsers read it directly and advance pos; when
 * fewer bytes than a record needs are left they call nfm_stream_fill(). There are two
 * kinds of window:
 *
 * - Memory: an uncompressed capture held in memory, either the caller's block
 *   (nfm_stream_init_mem) or a regular file mapped whole with mmap (nfm_stream_init_fd
 *   with map set). The window is a slice of the block that nfm_stream_fill() simply
 *   extends: no copy, no read(2). The slice is kept short on purpose (a few KiB for the
 *   caller's memory, a few MiB for a mapping) so that records cross window ends just as
 *   they do in the buffered case: tests and the fuzzer then exercise the refill logic
 *   on the zero-copy path, and a mapping gets a cheap place to re-check the file size
 *   and release pages already read (see stream.c).
 * - Buffered: a pipe, standard input, a file that cannot or should not be mapped, or a
 *   gzip/zstd stream (detected by magic bytes). The window is one large owned buffer;
 *   nfm_stream_fill() moves the tail to its front, grows it if the record is bigger than
 *   it, and reads or decodes more. The window always holds decompressed bytes, and every
 *   offset is an offset in the decompressed stream.
 *
 * Either way the results (packets, offsets, errors) are the same; pointers into the
 * window are valid until the next nfm_stream_fill(). */
#ifndef NFM_CAPTURE_STREAM_H
#define NFM_CAPTURE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "capture/source.h"
#include "util/err.h"

/* Largest record or block a reader accepts; bigger claims are NFM_ERR_CORRUPT. */
#define NFM_STREAM_MAX_RECORD ((size_t)64 << 20)
/* Most a reader ever asks nfm_stream_fill() for: a maximal record plus its header. */
#define NFM_STREAM_MAX_NEED (NFM_STREAM_MAX_RECORD + 64)

struct nfm_stream {
	const uint8_t *pos; /* next unread byte */
	const uint8_t *end; /* one past the last byte in the window */
	const uint8_t *win; /* start of the window (buf, or the caller's memory) */
	uint64_t base;      /* stream offset of win[0] */

	uint8_t *buf; /* owned window buffer; NULL for a memory window */
	size_t cap;
	int eof; /* no more bytes will arrive */

	enum nfm_compression comp;
	int truncated;     /* the compressed stream ended inside a frame or member */
	int dec_err;       /* deferred decompression error code (0: none) */
	char dec_msg[160]; /* its detail */
	uint64_t dec_off;  /* and its stream offset */

	/* Raw input: a file descriptor or a memory block (the caller's, or a mapping). */
	int fd; /* -1 for the caller's memory; kept open under a mapping */
	int owns_fd;
	const uint8_t *mem;
	size_t mem_len; /* bytes of mem that may be read (a mapping shrinks it if the file does) */
	size_t step;    /* memory window: how far past pos nfm_stream_fill() extends end */
	size_t pf;      /* memory window: offset in mem of the next byte to prefetch */

	/* mmap'ed file (memory window over mem == map); NULL when not mapped */
	void *map;
	size_t map_len;
	const uint8_t *dropped; /* pages of the mapping before this were released */
	size_t populated;       /* bytes of the mapping whose page tables were filled */
	size_t page;            /* page size */
	uint64_t raw_read;  /* bytes consumed from the fd (or the memory block) */
	uint64_t file_size; /* 0 when unknown */

	/* Compressed input buffer (fd input) or the memory block (memory input). */
	uint8_t *in;
	const uint8_t *in_p;
	size_t in_len; /* valid bytes from in_p */
	size_t in_cap;
	int in_eof;

	void *zs;  /* z_stream * (gzip) */
	void *zds; /* ZSTD_DStream * (zstd) */
	int gz_done; /* the gzip stream ended and no further member follows */
	size_t zstd_last; /* last ZSTD_decompressStream hint: 0 = frame complete */

	const char *name; /* for messages; owned by the source */
};

/* Both take ownership of nothing but fd (when owns_fd) and set up decompression after
 * sniffing the first bytes. On error the stream is finalised already. With map set, a
 * regular, non-empty, uncompressed file is mmap'ed and read as a memory window (the
 * read(2) path is the fall-back when mapping fails); fd must then be at offset 0. */
int nfm_stream_init_fd(struct nfm_stream *s, int fd, int owns_fd, int map, const char *name,
		       struct nfm_error *err);
int nfm_stream_init_mem(struct nfm_stream *s, const uint8_t *data, size_t len, const char *name,
			struct nfm_error *err);
void nfm_stream_fini(struct nfm_stream *s);

/* Makes at least need bytes (<= NFM_STREAM_MAX_NEED) available from pos. Returns 0 when
 * they are, 1 when the input ended first (the window then holds everything that was
 * left), or a negative nfm_err (read or decompression error, err filled). A memory window
 * never fails. */
int nfm_stream_fill(struct nfm_stream *s, size_t need, struct nfm_error *err);

/* After a clean end of input at a record boundary: 0, or NFM_ERR_TRUNCATED when the
 * compressed stream itself was cut short (err filled; packets is for the message). */
int nfm_stream_check_end(struct nfm_stream *s, uint64_t packets, struct nfm_error *err);

static inline size_t nfm_stream_avail(const struct nfm_stream *s)
{
	return (size_t)(s->end - s->pos);
}

/* Stream offset of a pointer into the window. */
static inline uint64_t nfm_stream_off(const struct nfm_stream *s, const uint8_t *p)
{
	return s->base + (uint64_t)(p - s->win);
}

uint64_t nfm_stream_bytes_read(const struct nfm_stream *s);

/* How far ahead of pos a memory window is prefetched into the CPU cache. */
#define NFM_STREAM_PREFETCH ((size_t)16 << 10)

/* Parsers call this after moving pos past a record. A memory window (a mapped file
 * above all) would otherwise be parsed at memory latency: a record header every few
 * hundred bytes, at irregular strides the hardware prefetcher does not follow across
 * pages, costs a cache miss each (measured: 10M records of a 5.7 GB file took 1.3 s of
 * CPU unprefetched, 0.5 s prefetched). The buffered path gets the bytes into the cache
 * by copying them, so it skips this. */
static inline void nfm_stream_prefetch(struct nfm_stream *s)
{
#if defined(__GNUC__) || defined(__clang__)
	if (s->buf)
		return;
	size_t at = (size_t)(s->pos - s->mem), lim = (size_t)(s->end - s->mem);
	if (lim - at > NFM_STREAM_PREFETCH)
		lim = at + NFM_STREAM_PREFETCH;
	size_t q = s->pf > at ? s->pf : at;
	for (; q < lim; q += 64)
		__builtin_prefetch(s->mem + q);
	s->pf = q;
#else
	(void)s;
#endif
}

#endif
