#include "capture/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#define BUF_FD ((size_t)4 << 20)  /* window buffer for files and pipes */
/* First window for compressed memory input (tests, fuzzing): small, so that records often
 * straddle its end and the refill and growth paths are exercised; it grows as needed. */
#define BUF_MEM ((size_t)4 << 10)

static const char *comp_name(enum nfm_compression c)
{
	return c == NFM_COMP_GZIP ? "gzip" : "zstd";
}

/* read(2) that retries EINTR. *got is 0 at end of file. */
static int read_fd(struct nfm_stream *s, uint8_t *dst, size_t room, size_t *got,
		   struct nfm_error *err)
{
	for (;;) {
		ssize_t r = read(s->fd, dst, room);
		if (r >= 0) {
			*got = (size_t)r;
			s->raw_read += (uint64_t)r;
			return 0;
		}
		if (errno != EINTR)
			return nfm_error_set(err, NFM_ERR_IO, "%s: read error: %s", s->name,
					     strerror(errno));
	}
}

/* Tops up the compressed input buffer. Memory input is all there from the start. */
static int in_refill(struct nfm_stream *s, struct nfm_error *err)
{
	if (s->in_eof)
		return 0;
	if (s->fd < 0) {
		s->in_eof = 1;
		return 0;
	}
	if (s->in_len && s->in_p != s->in)
		memmove(s->in, s->in_p, s->in_len);
	s->in_p = s->in;
	size_t got;
	int rc = read_fd(s, s->in + s->in_len, s->in_cap - s->in_len, &got, err);
	if (rc)
		return rc;
	if (got == 0)
		s->in_eof = 1;
	s->in_len += got;
	return 0;
}

/* Remembers a decompression error; it is reported once the bytes decoded before it have
 * been consumed. */
static void defer_error(struct nfm_stream *s, uint64_t off, const char *detail)
{
	s->dec_err = NFM_ERR_CORRUPT;
	s->dec_off = off;
	snprintf(s->dec_msg, sizeof s->dec_msg, "%s", detail);
}

static int dec_error(struct nfm_stream *s, struct nfm_error *err)
{
	return nfm_error_set_at(err, s->dec_err, s->dec_off, "%s: corrupt %s data at byte %llu: %s",
				s->name, comp_name(s->comp), (unsigned long long)s->dec_off,
				s->dec_msg);
}

/* After a gzip member: another member follows only if the next bytes are a gzip magic;
 * anything else is trailing garbage and ignored, as gzip(1) does. */
static int gz_next_member(struct nfm_stream *s, struct nfm_error *err)
{
	while (s->in_len < 2 && !s->in_eof) {
		int rc = in_refill(s, err);
		if (rc)
			return rc;
	}
	if (s->in_len >= 2 && s->in_p[0] == 0x1f && s->in_p[1] == 0x8b)
		inflateReset(s->zs);
	else
		s->gz_done = 1;
	return 0;
}

static int produce_gzip(struct nfm_stream *s, uint8_t *dst, size_t room, uint64_t dst_off,
			size_t *produced, struct nfm_error *err)
{
	z_stream *z = s->zs;
	*produced = 0;
	if (room > UINT32_MAX)
		room = UINT32_MAX;
	for (;;) {
		if (s->gz_done)
			return 0;
		if (s->in_len == 0 && !s->in_eof) {
			int rc = in_refill(s, err);
			if (rc)
				return rc;
			continue;
		}
		size_t in_chunk = s->in_len > UINT32_MAX ? UINT32_MAX : s->in_len;
		z->next_in = (Bytef *)(uintptr_t)s->in_p;
		z->avail_in = (uInt)in_chunk;
		z->next_out = dst;
		z->avail_out = (uInt)room;
		int ret = inflate(z, Z_NO_FLUSH);
		size_t used = in_chunk - z->avail_in;
		s->in_p += used;
		s->in_len -= used;
		size_t out = room - z->avail_out;
		if (ret == Z_STREAM_END) {
			int rc = gz_next_member(s, err);
			if (rc)
				return rc;
		} else if ((ret == Z_OK || ret == Z_BUF_ERROR) && (used || out || s->in_len == 0)) {
			if (out == 0 && s->in_len == 0 && s->in_eof) {
				s->truncated = 1; /* input ended inside a member */
				s->gz_done = 1;
				return 0;
			}
		} else {
			/* A decoding error, or no progress with input and room (cannot loop). */
			defer_error(s, dst_off + out, z->msg ? z->msg : "inflate failed");
			s->gz_done = 1;
			if (out) {
				*produced = out;
				return 0;
			}
			return dec_error(s, err);
		}
		if (out) {
			*produced = out;
			return 0;
		}
	}
}

static int produce_zstd(struct nfm_stream *s, uint8_t *dst, size_t room, uint64_t dst_off,
			size_t *produced, struct nfm_error *err)
{
	*produced = 0;
	for (;;) {
		if (s->in_len == 0 && !s->in_eof) {
			int rc = in_refill(s, err);
			if (rc)
				return rc;
			continue;
		}
		/* Called with no input left too: the decoder may still hold output. */
		ZSTD_inBuffer ib = { s->in_p, s->in_len, 0 };
		ZSTD_outBuffer ob = { dst, room, 0 };
		size_t r = ZSTD_decompressStream(s->zds, &ob, &ib);
		s->in_p += ib.pos;
		s->in_len -= ib.pos;
		int stuck = !ZSTD_isError(r) && ib.pos == 0 && ob.pos == 0 && s->in_len;
		if (ZSTD_isError(r) || stuck) {
			defer_error(s, dst_off + ob.pos,
				    stuck ? "decoder made no progress" : ZSTD_getErrorName(r));
			s->in_len = 0;
			s->in_eof = 1;
			s->zstd_last = 0;
			if (ob.pos) {
				*produced = ob.pos;
				return 0;
			}
			return dec_error(s, err);
		}
		/* r == 0: a frame just ended. A call that neither consumed nor produced bytes
		 * (no input left) says nothing about the frame state, so keep the last one. */
		if (r == 0 || ib.pos || ob.pos)
			s->zstd_last = r;
		if (ob.pos) {
			*produced = ob.pos;
			return 0;
		}
		if (s->in_len == 0 && s->in_eof) {
			if (s->zstd_last != 0)
				s->truncated = 1; /* input ended inside a frame */
			return 0;
		}
	}
}

/* Decodes or reads up to room bytes into dst; *produced is 0 at the end of input. */
static int produce(struct nfm_stream *s, uint8_t *dst, size_t room, uint64_t dst_off,
		   size_t *produced, struct nfm_error *err)
{
	*produced = 0;
	if (s->dec_err)
		return dec_error(s, err);
	switch (s->comp) {
	case NFM_COMP_GZIP:
		return produce_gzip(s, dst, room, dst_off, produced, err);
	case NFM_COMP_ZSTD:
		return produce_zstd(s, dst, room, dst_off, produced, err);
	case NFM_COMP_NONE:
		break;
	}
	if (s->fd < 0)
		return 0;
	return read_fd(s, dst, room, produced, err);
}

int nfm_stream_fill(struct nfm_stream *s, size_t need, struct nfm_error *err)
{
	size_t have = (size_t)(s->end - s->pos);
	if (have >= need)
		return 0;
	if (s->eof)
		return 1;
	if (need > NFM_STREAM_MAX_NEED)
		return nfm_error_set_at(err, NFM_ERR_CORRUPT, nfm_stream_off(s, s->pos),
					"%s: record at byte %llu is too large", s->name,
					(unsigned long long)nfm_stream_off(s, s->pos));
	/* Move the unread tail to the front, then make room for the whole record. */
	if (s->pos != s->buf) {
		if (have)
			memmove(s->buf, s->pos, have);
		s->base += (uint64_t)(s->pos - s->win);
	}
	s->win = s->pos = s->buf;
	s->end = s->buf + have;
	if (need > s->cap) {
		size_t ncap = s->cap;
		while (ncap < need)
			ncap *= 2;
		if (ncap > NFM_STREAM_MAX_NEED)
			ncap = NFM_STREAM_MAX_NEED;
		uint8_t *nb = realloc(s->buf, ncap);
		if (!nb)
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory for a %zu-byte record",
					     s->name, need);
		s->buf = nb;
		s->cap = ncap;
		s->win = s->pos = nb;
		s->end = nb + have;
	}
	while (have < need) {
		size_t got;
		int rc = produce(s, s->buf + have, s->cap - have, s->base + have, &got, err);
		if (rc)
			return rc;
		if (got == 0) {
			s->eof = 1;
			break;
		}
		have += got;
		s->end = s->buf + have;
	}
	return have >= need ? 0 : 1;
}

int nfm_stream_check_end(struct nfm_stream *s, uint64_t packets, struct nfm_error *err)
{
	if (!s->truncated)
		return 0;
	uint64_t off = nfm_stream_off(s, s->end);
	return nfm_error_set_at(err, NFM_ERR_TRUNCATED, off,
				"%s: truncated capture: %s stream ends early at byte %llu (%llu packets read)",
				s->name, comp_name(s->comp), (unsigned long long)off,
				(unsigned long long)packets);
}

uint64_t nfm_stream_bytes_read(const struct nfm_stream *s)
{
	if (s->fd >= 0)
		return s->raw_read;
	if (s->comp != NFM_COMP_NONE)
		return (uint64_t)(s->in_p - s->mem);
	return (uint64_t)(s->pos - s->mem);
}

void nfm_stream_fini(struct nfm_stream *s)
{
	if (s->zs) {
		inflateEnd(s->zs);
		free(s->zs);
	}
	if (s->zds)
		ZSTD_freeDStream(s->zds);
	free(s->buf);
	free(s->in);
	if (s->owns_fd && s->fd >= 0)
		close(s->fd);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

/* Looks at the first bytes of the window; on a gzip or zstd magic the bytes seen so far
 * become compressed input and the window restarts empty over the decoded stream. */
static int sniff(struct nfm_stream *s, size_t win_cap, struct nfm_error *err)
{
	size_t have = nfm_stream_avail(s);
	const uint8_t *p = s->pos;
	if (have >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		s->comp = NFM_COMP_GZIP;
	else if (have >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		s->comp = NFM_COMP_ZSTD;
	else
		return 0;

	if (s->fd >= 0) {
		/* The sniffed bytes are the start of the compressed input. */
		s->in = s->buf;
		s->in_cap = s->cap;
		s->in_p = s->buf;
		s->in_len = have;
		s->in_eof = s->eof;
		s->buf = NULL;
	} else {
		s->in_p = s->mem;
		s->in_len = s->mem_len;
		s->in_eof = 1;
	}
	s->eof = 0;
	s->buf = malloc(win_cap);
	if (!s->buf)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", s->name);
	s->cap = win_cap;
	s->win = s->pos = s->end = s->buf;
	s->base = 0;

	if (s->comp == NFM_COMP_GZIP) {
		z_stream *z = calloc(1, sizeof *z);
		if (!z)
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", s->name);
		s->zs = z;
		/* 16 + MAX_WBITS: gzip wrapper only. */
		if (inflateInit2(z, 16 + MAX_WBITS) != Z_OK) {
			free(z);
			s->zs = NULL;
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: cannot start gzip decoder",
					     s->name);
		}
	} else {
		s->zds = ZSTD_createDStream();
		if (!s->zds || ZSTD_isError(ZSTD_initDStream(s->zds)))
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: cannot start zstd decoder",
					     s->name);
	}
	return 0;
}

int nfm_stream_init_fd(struct nfm_stream *s, int fd, int owns_fd, const char *name,
		       struct nfm_error *err)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->owns_fd = owns_fd;
	s->name = name;
	struct stat sb;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
		s->file_size = (uint64_t)sb.st_size;
	s->buf = malloc(BUF_FD);
	if (!s->buf) {
		nfm_stream_fini(s);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", name);
	}
	s->cap = BUF_FD;
	s->win = s->pos = s->end = s->buf;
	int rc = nfm_stream_fill(s, 4, err);
	if (rc < 0 || (rc = sniff(s, BUF_FD, err)) < 0) {
		nfm_stream_fini(s);
		return rc;
	}
	return 0;
}

int nfm_stream_init_mem(struct nfm_stream *s, const uint8_t *data, size_t len, const char *name,
			struct nfm_error *err)
{
	static const uint8_t empty[1] = { 0 };
	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->name = name;
	s->mem = data ? data : empty;
	s->mem_len = data ? len : 0;
	s->file_size = s->mem_len;
	s->win = s->pos = s->mem;
	s->end = s->mem + s->mem_len;
	s->eof = 1;
	int rc = sniff(s, BUF_MEM, err);
	if (rc) {
		nfm_stream_fini(s);
		return rc;
	}
	return 0;
}
