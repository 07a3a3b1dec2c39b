/* Capture sources: the kinds table and registries, and what every kind shares (the
 * reader call, the accessors, closing). The "stream" kind, with its file formats, is in
 * stream_source.c. */
#include <stdlib.h>
#include <string.h>

#include "capture/source_int.h"

/* The source kinds built in, one line each (see source_int.h for adding one). */
static const struct nfm_source_ops *const kinds[] = {
	&nfm_source_kind_stream,
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

struct nfm_source_registry {
	const struct nfm_source_ops **added; /* kinds added at run time */
	size_t n, cap;
};

struct nfm_source *nfm_source_new(const struct nfm_source_ops *kind, const char *name)
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
	s->kind = kind;
	s->next = kind->next;
	s->first_linktype = -1;
	s->st.fd = -1;
	return s;
}

struct nfm_source_registry *nfm_source_registry_new(void)
{
	return calloc(1, sizeof(struct nfm_source_registry));
}

void nfm_source_registry_free(struct nfm_source_registry *reg)
{
	if (!reg)
		return;
	free(reg->added);
	free(reg);
}

static const struct nfm_source_ops *find_kind(const struct nfm_source_registry *reg,
					      const char *name)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	for (size_t i = 0; reg && i < reg->n; i++)
		if (strcmp(reg->added[i]->name, name) == 0)
			return reg->added[i];
	return NULL;
}

int nfm_source_registry_add(struct nfm_source_registry *reg, const struct nfm_source_ops *kind,
			    struct nfm_error *err)
{
	if (!reg || !kind || !kind->name || !kind->open || !kind->next)
		return nfm_error_set(err, NFM_ERR_INVALID, "source kind without a name, open or next");
	if (find_kind(reg, kind->name))
		return nfm_error_set(err, NFM_ERR_INVALID, "source kind \"%s\" is already registered",
				     kind->name);
	if (reg->n == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 4;
		const struct nfm_source_ops **a = realloc(reg->added, cap * sizeof *a);
		if (!a)
			return nfm_error_set(err, NFM_ERR_NOMEM, "out of memory");
		reg->added = a;
		reg->cap = cap;
	}
	reg->added[reg->n++] = kind;
	return 0;
}

int nfm_source_open_kind(struct nfm_source **out, const struct nfm_source_registry *reg,
			 const char *kind, const char *target, const void *opts,
			 struct nfm_error *err)
{
	*out = NULL;
	const struct nfm_source_ops *k = kind ? find_kind(reg, kind) : NULL;
	if (!k)
		return nfm_error_set(err, NFM_ERR_INVALID, "unknown source kind \"%s\"",
				     kind ? kind : "");
	return k->open(out, target, opts, err);
}

/* The hottest call of the program: one indirect call to the reader that open chose
 * (for a classic pcap, the pcap reader itself). */
int nfm_source_next(struct nfm_source *src, struct nfm_raw_packet *pkt, struct nfm_error *err)
{
	return src->next(src, pkt, err);
}

const char *nfm_source_kind_name(const struct nfm_source *src)
{
	return src->kind->name;
}

enum nfm_capture_format nfm_source_format(const struct nfm_source *src)
{
	return src->format ? src->format->id : NFM_CAPFMT_NONE;
}

const char *nfm_source_format_name(const struct nfm_source *src)
{
	return src->format ? src->format->name : src->kind->name;
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
	return src->kind->bytes_read ? src->kind->bytes_read(src) : 0;
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
	if (src->kind->close)
		src->kind->close(src);
	free(src->name);
	free(src);
}
