/* The "stream" source kind: a capture read as a byte stream (stream.c: a file, mapped or
 * read, standard input, memory, gzip or zstd) and parsed by the file format whose magic
 * it starts with. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/source_int.h"

/* The file formats, one line each (see source_int.h for adding one). */
static const struct nfm_format_ops *const formats[] = {
	&nfm_format_pcapng,
	&nfm_format_pcap,
};
#define NFORMATS (sizeof formats / sizeof formats[0])

const struct nfm_format_ops *nfm_format_at(size_t i)
{
	return i < NFORMATS ? formats[i] : NULL;
}

int nfm_source_truncated(struct nfm_source *s, uint64_t off, struct nfm_error *err)
{
	return nfm_error_set_at(err, NFM_ERR_TRUNCATED, off,
				"%s: truncated capture: record at byte %llu is incomplete (%llu packets read)",
				s->name, (unsigned long long)off, (unsigned long long)s->stats.records);
}

int nfm_source_refill(struct nfm_source *s, size_t need, struct nfm_error *err)
{
	struct nfm_stream *st = &s->st;
	uint64_t off = nfm_stream_off(st, st->pos);
	int rc = nfm_stream_fill(st, need, err);
	if (rc <= 0)
		return rc;
	if (nfm_stream_avail(st) == 0)
		return 1;
	return nfm_source_truncated(s, off, err);
}

/* The stream is set up; pick the format by the first decoded bytes. */
static int open_format(struct nfm_source *s, struct nfm_error *err)
{
	struct nfm_stream *st = &s->st;
	int rc = nfm_stream_fill(st, NFM_FORMAT_PROBE_LEN, err);
	if (rc < 0)
		return rc;
	size_t have = nfm_stream_avail(st);
	if (have < NFM_FORMAT_PROBE_LEN && (rc = nfm_stream_check_end(st, 0, err)) != 0)
		return rc; /* a compressed stream cut short */
	if (have == 0)
		return nfm_error_set(err, NFM_ERR_FORMAT, "%s: empty file", s->name);
	size_t look = have < NFM_FORMAT_PROBE_LEN ? have : NFM_FORMAT_PROBE_LEN;
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i]->probe(st->pos, look)) {
			s->format = formats[i];
			rc = formats[i]->open(s, err);
			if (rc == 0)
				s->next = formats[i]->next; /* one call per packet from now on */
			return rc;
		}
	if (have >= 8 && memcmp(st->pos, "snoop\0\0\0", 8) == 0)
		return nfm_error_set(err, NFM_ERR_FORMAT,
				     "%s: not a pcap or pcapng capture (Solaris snoop format)", s->name);
	return nfm_error_set(err, NFM_ERR_FORMAT, "%s: not a pcap or pcapng capture", s->name);
}

/* After the stream is set up (rc its result): parse the file header, hand the source
 * out, or close it. */
static int finish_open(struct nfm_source *s, int rc, struct nfm_source **out,
		       struct nfm_error *err)
{
	if (rc == 0)
		rc = open_format(s, err);
	if (rc) {
		nfm_source_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int open_mem(struct nfm_source **out, const uint8_t *data, size_t len, const char *name,
		    struct nfm_error *err)
{
	if (!name)
		name = "(memory)";
	struct nfm_source *s = nfm_source_new(&nfm_source_kind_stream, name);
	if (!s)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", name);
	return finish_open(s, nfm_stream_init_mem(&s->st, data, len, s->name, err), out, err);
}

static int open_path(struct nfm_source **out, const char *path, unsigned flags,
		     struct nfm_error *err)
{
	if (!path)
		return nfm_error_set(err, NFM_ERR_INVALID, "no input file given");
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "(stdin)" : path;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nfm_error_set(err, NFM_ERR_IO, "%s: %s", name, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if (!is_stdin)
			close(fd);
		return nfm_error_set(err, NFM_ERR_IO, "%s: %s", name, strerror(EISDIR));
	}
	struct nfm_source *s = nfm_source_new(&nfm_source_kind_stream, name);
	if (!s) {
		if (!is_stdin)
			close(fd);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", name);
	}
	/* Standard input is never mapped, even when it is a regular file: its offset need
	 * not be 0 and the bytes before it are not ours. */
	int map = !is_stdin && !(flags & NFM_SOURCE_NO_MMAP);
	return finish_open(s, nfm_stream_init_fd(&s->st, fd, !is_stdin, map, s->name, err), out,
			   err);
}

static int stream_open(struct nfm_source **out, const char *target, const void *opts,
		       struct nfm_error *err)
{
	const struct nfm_stream_opts *o = opts;
	*out = NULL;
	if (o && (o->flags & NFM_SOURCE_MEMORY))
		return open_mem(out, o->data, o->len, target, err);
	return open_path(out, target, o ? o->flags : 0, err);
}

/* Only until open has chosen the format's reader (which it always does on success). */
static int stream_next(struct nfm_source *s, struct nfm_raw_packet *pkt, struct nfm_error *err)
{
	if (!s->format)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: no capture format", s->name);
	return s->format->next(s, pkt, err);
}

static void stream_close(struct nfm_source *s)
{
	if (s->format && s->format->close)
		s->format->close(s);
	nfm_stream_fini(&s->st);
}

static uint64_t stream_bytes_read(const struct nfm_source *s)
{
	return nfm_stream_bytes_read(&s->st);
}

const struct nfm_source_ops nfm_source_kind_stream = {
	.name = "stream",
	.open = stream_open,
	.next = stream_next,
	.close = stream_close,
	.bytes_read = stream_bytes_read,
};

int nfm_source_open(struct nfm_source **out, const char *path, struct nfm_error *err)
{
	*out = NULL;
	return open_path(out, path, 0, err);
}

int nfm_source_open_flags(struct nfm_source **out, const char *path, unsigned flags,
			  struct nfm_error *err)
{
	*out = NULL;
	return open_path(out, path, flags & ~NFM_SOURCE_MEMORY, err);
}

int nfm_source_open_mem(struct nfm_source **out, const uint8_t *data, size_t len,
			const char *name, struct nfm_error *err)
{
	*out = NULL;
	return open_mem(out, data, len, name, err);
}
