#include "capture/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#define BUF_FD ((size_t)4 << 20)  /* window buffer for files and pipes */
/* First window for compressed memory input (tests, fuzzing): small, so that records often
 * straddle its end and the refill and growth paths are exercised; it grows as needed.
 * Also the step of the window over uncompressed caller memory, for the same reason. */
#define BUF_MEM ((size_t)4 << 10)

/* Memory-mapped files.
 *
 * A regular uncompressed file is mapped whole (MAP_PRIVATE, PROT_READ) rather than
 * through a sliding series of smaller mappings: on a 64-bit system the address space is
 * no constraint even for captures of hundreds of GiB (a mapping reserves addresses, not
 * memory), and one mapping means no record ever straddles two mappings, so nothing is
 * ever copied or remapped and every record is lent in place. Memory use stays bounded
 * all the same: the window slides over the mapping MAP_STEP bytes at a time and, as it
 * slides, the pages already read (more than MAP_DROP behind the position) are released
 * with MADV_DONTNEED, so the resident set does not grow to the size of the file; the
 * pages remain in the page cache, which is the kernel's business exactly as with read().
 * Releasing cannot break a lent pointer: a private, never-written file mapping simply
 * faults the same bytes back in. MADV_SEQUENTIAL asks for aggressive read-ahead.
 * Where addresses are scarce (32-bit), files above MAP_MAX_32 take the read() path.
 *
 * Limitation: if another process truncates the file while it is mapped, touching a page
 * past the new end raises SIGBUS. Each slide of the window re-checks the size with
 * fstat() and stops at the new end (reported as a truncated capture, as read() would
 * see it), which covers a truncation that happens between slides; one racing with the
 * parsing of the current window (at most MAP_STEP bytes) is not caught, since a SIGBUS
 * handler would need process-wide state. Reading a file that is being truncated is
 * unusual; callers that must survive it can use the read() path (NFM_SOURCE_NO_MMAP).
 * Likewise bytes appended after the file was opened are not read (the read() path may
 * or may not see them, depending on timing). */
#define MAP_STEP ((size_t)4 << 20)
#define MAP_DROP ((size_t)2 << 20)
#define MAP_MAX_32 ((uint64_t)1 << 30)

static const char *comp_name(enum nfm_compression c)
{
	return c == NFM_COMP_GZIP ? "gzip" : "zstd";
}

/* read(2). *got is 0 at end of file. A read interrupted by a signal is reported as
 * NFM_ERR_INTERRUPTED rather than retried: the only signals the program catches are
 * SIGINT and SIGTERM, and a read stalled on a pipe must not delay them. */
static int read_fd(struct nfm_stream *s, uint8_t *dst, size_t room, size_t *got,
		   struct nfm_error *err)
{
	ssize_t r = read(s->fd, dst, room);
	if (r >= 0) {
		*got = (size_t)r;
		s->raw_read += (uint64_t)r;
		return 0;
	}
	if (errno == EINTR)
		return nfm_error_set(err, NFM_ERR_INTERRUPTED, "%s: read interrupted", s->name);
	return nfm_error_set(err, NFM_ERR_IO, "%s: read error: %s", s->name, strerror(errno));
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
	size_t got = 0;
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

/* Mapping: the file may have shrunk since it was mapped; never expose bytes past its
 * current end (touching them would raise SIGBUS). */
static void map_recheck(struct nfm_stream *s)
{
	struct stat sb;
	if (fstat(s->fd, &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size >= s->mem_len)
		return;
	size_t at = (size_t)(s->pos - s->mem);
	s->mem_len = (size_t)sb.st_size > at ? (size_t)sb.st_size : at;
}

/* Mapping, after the window moved: release the pages before the position (see
 * MAP_DROP) and fill the page tables of the new part of the window in one call, so that
 * it is not faulted in 64 KiB at a time and nfm_stream_prefetch() is not dropped on a
 * missing page-table entry. Both are hints: errors (an old kernel without
 * MADV_POPULATE_READ, EFAULT past a new end of file) change nothing. */
static void map_advise(struct nfm_stream *s)
{
	uint8_t *base = s->map;
	size_t cut = (size_t)(s->pos - base) & ~(s->page - 1);
	size_t done = (size_t)(s->dropped - base);
	if (cut - done >= MAP_DROP) {
		(void)madvise(base + done, cut - done, MADV_DONTNEED);
		s->dropped = base + cut;
	}
#ifdef MADV_POPULATE_READ
	size_t from = s->populated > cut ? s->populated : cut;
	size_t to = (size_t)(s->end - base);
	if (to > from) {
		(void)madvise(base + from, to - from, MADV_POPULATE_READ);
		s->populated = (to + s->page - 1) & ~(s->page - 1);
	}
#endif
}

/* Memory window: extend end over the block; nothing is copied and nothing can fail. */
static int mem_slide(struct nfm_stream *s, size_t need)
{
	if (s->map)
		map_recheck(s);
	const uint8_t *lim = s->mem + s->mem_len;
	size_t left = (size_t)(lim - s->pos);
	if (left < need) {
		s->end = lim; /* (lim may now be below end: the file shrank) */
		s->eof = 1;
		return 1;
	}
	size_t step = need > s->step ? need : s->step;
	s->end = s->pos + (step < left ? step : left);
	s->eof = s->end == lim;
	if (s->map)
		map_advise(s);
	return 0;
}

int nfm_stream_fill(struct nfm_stream *s, size_t need, struct nfm_error *err)
{
	size_t have = (size_t)(s->end - s->pos);
	if (have >= need)
		return 0;
	if (!s->buf)
		return mem_slide(s, need);
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
	if (!s->mem)
		return s->raw_read;
	if (s->comp != NFM_COMP_NONE)
		return (uint64_t)(s->in_p - s->mem);
	return (uint64_t)(s->pos - s->mem); /* a mapping too: the parsing position */
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
	if (s->map)
		munmap(s->map, s->map_len);
	if (s->owns_fd && s->fd >= 0)
		close(s->fd);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

static enum nfm_compression detect_comp(const uint8_t *p, size_t have)
{
	if (have >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return NFM_COMP_GZIP;
	if (have >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return NFM_COMP_ZSTD;
	return NFM_COMP_NONE;
}

/* Looks at the first bytes of the window; on a gzip or zstd magic the bytes seen so far
 * become compressed input and the window restarts empty over the decoded stream. */
static int sniff(struct nfm_stream *s, size_t win_cap, struct nfm_error *err)
{
	s->comp = detect_comp(s->pos, nfm_stream_avail(s));
	if (s->comp == NFM_COMP_NONE)
		return 0;
	size_t have = nfm_stream_avail(s);

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

/* Sets up a memory window over [data, data + len) at its start. */
static void mem_window(struct nfm_stream *s, const uint8_t *data, size_t len, size_t step)
{
	s->mem = data;
	s->mem_len = len;
	s->step = step;
	s->pf = 0;
	s->win = s->pos = s->end = data;
	s->base = 0;
	(void)mem_slide(s, 0);
}

/* Maps a regular uncompressed file (see MAP_STEP). 1: the stream is a memory window over
 * the mapping; 0: not mapped (compressed, too big for the address space, mmap refused),
 * use read(). */
static int try_map(struct nfm_stream *s)
{
	if (s->file_size == 0 || s->file_size > SIZE_MAX ||
	    (sizeof(void *) < 8 && s->file_size > MAP_MAX_32))
		return 0;
	/* Compressed input keeps the buffered path (the decoder copies anyway). pread()
	 * leaves the file offset at 0 for that path. */
	uint8_t magic[4];
	ssize_t got = pread(s->fd, magic, sizeof magic, 0);
	if (got < 0 || detect_comp(magic, (size_t)got) != NFM_COMP_NONE)
		return 0;
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0 || (page & (page - 1)))
		return 0;
	size_t len = (size_t)s->file_size;
	void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (m == MAP_FAILED)
		return 0;
	(void)madvise(m, len, MADV_SEQUENTIAL);
	s->map = m;
	s->map_len = len;
	s->page = (size_t)page;
	s->dropped = m;
	mem_window(s, m, len, MAP_STEP); /* re-checks the size before touching a byte */
	return 1;
}

int nfm_stream_init_fd(struct nfm_stream *s, int fd, int owns_fd, int map, const char *name,
		       struct nfm_error *err)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->owns_fd = owns_fd;
	s->name = name;
	struct stat sb;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
		s->file_size = (uint64_t)sb.st_size;
	if (map && try_map(s))
		return 0;
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
	s->file_size = data ? len : 0;
	mem_window(s, data ? data : empty, data ? len : 0, BUF_MEM);
	int rc = sniff(s, BUF_MEM, err);
	if (rc) {
		nfm_stream_fini(s);
		return rc;
	}
	return 0;
}
