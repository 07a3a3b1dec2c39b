/* Capture sources: opening, format sniffing and dispatch to the pcap/pcapng readers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/source_int.h"

static struct nfm_source *source_new(const char *name)
{
	struct nfm_source *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	size_t n = strlen(name) + 1;
	s->name = malloc(n);
	if (!s->name) {
		free(s);
		return NULL;
	}
	memcpy(s->name, name, n);
	s->first_linktype = -1;
	s->linktype = -1;
	s->st.fd = -1;
	return s;
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

/* The stream is set up; decide the format from the first four decoded bytes. */
static int open_format(struct nfm_source *s, struct nfm_error *err)
{
	struct nfm_stream *st = &s->st;
	int rc = nfm_stream_fill(st, 8, err);
	if (rc < 0)
		return rc;
	size_t have = nfm_stream_avail(st);
	if (have < 8 && (rc = nfm_stream_check_end(st, 0, err)) != 0)
		return rc; /* a compressed stream cut short */
	if (have == 0)
		return nfm_error_set(err, NFM_ERR_FORMAT, "%s: empty file", s->name);
	if (have >= 4) {
		uint32_t m = nfm_ld32(st->pos, 0);
		switch (m) {
		case 0x0a0d0d0au:
			s->fmt = NFM_CAPFMT_PCAPNG;
			return nfm_pcapng_open(s, err);
		case 0xa1b2c3d4u: case 0xd4c3b2a1u:
		case 0xa1b23c4du: case 0x4d3cb2a1u:
		case 0xa1b2cd34u: case 0x34cdb2a1u:
			s->fmt = NFM_CAPFMT_PCAP;
			return nfm_pcap_open(s, err);
		default:
			break;
		}
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

int nfm_source_open(struct nfm_source **out, const char *path, struct nfm_error *err)
{
	return nfm_source_open_flags(out, path, 0, err);
}

int nfm_source_open_flags(struct nfm_source **out, const char *path, unsigned flags,
			  struct nfm_error *err)
{
	*out = NULL;
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
	struct nfm_source *s = source_new(name);
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

int nfm_source_open_mem(struct nfm_source **out, const uint8_t *data, size_t len,
			const char *name, struct nfm_error *err)
{
	*out = NULL;
	if (!name)
		name = "(memory)";
	struct nfm_source *s = source_new(name);
	if (!s)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", name);
	return finish_open(s, nfm_stream_init_mem(&s->st, data, len, s->name, err), out, err);
}

int nfm_source_next(struct nfm_source *src, struct nfm_raw_packet *pkt, struct nfm_error *err)
{
	if (src->fmt == NFM_CAPFMT_PCAP)
		return nfm_pcap_next(src, pkt, err);
	return nfm_pcapng_next(src, pkt, err);
}

enum nfm_capture_format nfm_source_format(const struct nfm_source *src)
{
	return src->fmt;
}

enum nfm_compression nfm_source_compression(const struct nfm_source *src)
{
	return src->st.comp;
}

int nfm_source_linktype(const struct nfm_source *src)
{
	return src->first_linktype;
}

uint64_t nfm_source_bytes_read(const struct nfm_source *src)
{
	return nfm_stream_bytes_read(&src->st);
}

uint64_t nfm_source_file_size(const struct nfm_source *src)
{
	return src->st.file_size;
}

const struct nfm_source_stats *nfm_source_stats(const struct nfm_source *src)
{
	return &src->stats;
}

void nfm_source_close(struct nfm_source *src)
{
	if (!src)
		return;
	nfm_stream_fini(&src->st);
	free(src->ifs);
	free(src->name);
	free(src);
}
