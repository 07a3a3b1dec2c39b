/* Byte stream under the capture readers (private to src/capture/).
 * Reads a file descriptor (or a caller's memory block) into one large buffer and lends
 * pointers into it, so a record is parsed in place and never copied. The stream may be
 * gzip or zstd compressed (detected by magic bytes); the window always holds the
 * decompressed bytes, and every offset is an offset in the decompressed stream.
 *
 * The window is [pos, end). Parsers read it directly and advance pos; when fewer bytes
 * than a record needs are left, nfm_stream_fill() moves the tail to the front of the
 * buffer, grows the buffer if the record is bigger than it, and reads more. Pointers into
 * the window are invalidated by nfm_stream_fill(). */
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

	uint8_t *buf; /* owned window buffer; NULL when reading uncompressed memory */
	size_t cap;
	int eof; /* no more bytes will arrive */

	enum nfm_compression comp;
	int truncated;     /* the compressed stream ended inside a frame or member */
	int dec_err;       /* deferred decompression error code (0: none) */
	char dec_msg[160]; /* its detail */
	uint64_t dec_off;  /* and its stream offset */

	/* Raw input: a file descriptor or a memory block. */
	int fd; /* -1 for memory */
	int owns_fd;
	const uint8_t *mem;
	size_t mem_len;
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
 * sniffing the first bytes. On error the stream is finalised already. */
int nfm_stream_init_fd(struct nfm_stream *s, int fd, int owns_fd, const char *name,
		       struct nfm_error *err);
int nfm_stream_init_mem(struct nfm_stream *s, const uint8_t *data, size_t len, const char *name,
			struct nfm_error *err);
void nfm_stream_fini(struct nfm_stream *s);

/* Makes at least need bytes (<= NFM_STREAM_MAX_NEED) available from pos. Returns 0 when
 * they are, 1 when the input ended first (the window then holds everything that was
 * left), or a negative nfm_err (read or decompression error, err filled). */
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

#endif
