/* The exporter table and the calls that dispatch to it. */
#include "export/exporter_impl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One line per exporter. */
static const struct nfm_exporter_ops *const exporters[] = {
	&nfm_exporter_csv,
	&nfm_exporter_json,
	&nfm_exporter_jsonl,
	&nfm_exporter_xlsx,
	&nfm_exporter_preview,
	&nfm_exporter_nfdump,
	&nfm_exporter_nfdump_dict,
	&nfm_exporter_ipfix,
	&nfm_exporter_netflow9,
	&nfm_exporter_nfcapd,
};

#define N_EXPORTERS (sizeof exporters / sizeof exporters[0])

struct nfm_exporter {
	const struct nfm_exporter_ops *ops;
	void *state;
	uint64_t rows;
	struct nfm_buf scratch;    /* for nfm_exporter_write */
};

const struct nfm_exporter_ops *nfm_exporter_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_EXPORTERS; i++) {
		const struct nfm_exporter_ops *o = exporters[i];
		if (strcasecmp(name, o->name) == 0)
			return o;
		for (const char *const *a = o->aliases; a && *a; a++)
			if (strcasecmp(name, *a) == 0)
				return o;
	}
	return NULL;
}

const struct nfm_exporter_ops *nfm_exporter_for_path(const char *path)
{
	if (!path)
		return NULL;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base)
		return NULL;
	const char *ext = dot + 1;
	for (size_t i = 0; i < N_EXPORTERS; i++) {
		const struct nfm_exporter_ops *o = exporters[i];
		if (!o->listed || o->netflow) /* NetFlow formats only by name (-of) */
			continue;
		if (strcasecmp(ext, o->ext) == 0)
			return o;
		/* An alias that is a file extension too ("ndjson"); "excel" names a format,
		 * not an extension. */
		for (const char *const *a = o->aliases; a && *a; a++)
			if (strcasecmp(ext, *a) == 0 && strcasecmp(*a, "excel") != 0)
				return o;
	}
	return NULL;
}

const char *nfm_exporter_name(const struct nfm_exporter_ops *ops) { return ops ? ops->name : "unknown"; }
const char *nfm_exporter_ext(const struct nfm_exporter_ops *ops) { return ops ? ops->ext : ""; }
bool nfm_exporter_allows_stdout(const struct nfm_exporter_ops *ops) { return ops && ops->allows_stdout; }
bool nfm_exporter_listed(const struct nfm_exporter_ops *ops) { return ops && ops->listed; }

const struct nfm_exporter_ops *nfm_exporter_at(size_t i)
{
	for (size_t k = 0; k < N_EXPORTERS; k++)
		if (exporters[k]->listed && i-- == 0)
			return exporters[k];
	return NULL;
}

int nfm_exporter_open(struct nfm_exporter **out, const struct nfm_exporter_ops *ops,
		      const struct nfm_export_dest *dest, const struct nfm_columns *cols,
		      struct nfm_error *err)
{
	*out = NULL;
	const char *path = dest ? dest->path : NULL;
	if (!ops)
		return nfm_error_set(err, NFM_ERR_INVALID, "no output format");
	if (!path || !*path)
		return nfm_error_set(err, NFM_ERR_INVALID, "no output file name");
	if (!cols || cols->n == 0)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: no output columns", path);
	if (!ops->allows_stdout && strcmp(path, "-") == 0)
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s output cannot be written to standard output: give a file name",
				     ops->name);
	struct nfm_exporter *ex = calloc(1, sizeof *ex);
	if (!ex)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	ex->ops = ops;
	int rc = ops->open(&ex->state, dest, cols, err);
	if (rc) {
		free(ex);
		return rc;
	}
	*out = ex;
	return 0;
}

int nfm_exporter_encode(const struct nfm_exporter *ex, const struct nfm_flow_record *rec,
			struct nfm_buf *row)
{
	return ex->ops->encode(ex->state, rec, row);
}

int nfm_exporter_write_row(struct nfm_exporter *ex, const uint8_t *row, size_t len,
			   struct nfm_error *err)
{
	int rc = ex->ops->write(ex->state, row, len, err);
	if (rc == 0)
		ex->rows++;
	return rc;
}

int nfm_exporter_write(struct nfm_exporter *ex, const struct nfm_flow_record *rec,
		       struct nfm_error *err)
{
	ex->scratch.len = 0;
	if (ex->ops->encode(ex->state, rec, &ex->scratch))
		return nfm_error_set(err, NFM_ERR_NOMEM, "out of memory");
	return nfm_exporter_write_row(ex, ex->scratch.p, ex->scratch.len, err);
}

int nfm_exporter_tick(struct nfm_exporter *ex, uint64_t now_ns, struct nfm_error *err)
{
	return ex && ex->ops->tick ? ex->ops->tick(ex->state, now_ns, err) : 0;
}

int nfm_exporter_close(struct nfm_exporter *ex, struct nfm_error *err)
{
	if (!ex)
		return 0;
	int rc = ex->ops->close(ex->state, err);
	nfm_buf_free(&ex->scratch);
	free(ex);
	return rc;
}

void nfm_exporter_abort(struct nfm_exporter *ex)
{
	if (!ex)
		return;
	ex->ops->abort(ex->state);
	nfm_buf_free(&ex->scratch);
	free(ex);
}

uint64_t nfm_exporter_rows(const struct nfm_exporter *ex)
{
	return ex ? ex->rows : 0;
}

int nfm_exporter_flush(struct nfm_exporter *ex, struct nfm_error *err)
{
	return ex && ex->ops->flush ? ex->ops->flush(ex->state, err) : 0;
}

int nfm_exporter_slice(struct nfm_exporter *ex, const char *name, struct nfm_error *err)
{
	return ex && ex->ops->slice ? ex->ops->slice(ex->state, name, err) : 0;
}

bool nfm_exporter_takes_slices(const struct nfm_exporter_ops *ops)
{
	return ops && ops->slice;
}

void nfm_exporter_counts(const struct nfm_exporter *ex, struct nfm_export_counts *c)
{
	memset(c, 0, sizeof *c);
	if (ex && ex->ops->counts)
		ex->ops->counts(ex->state, c);
}

bool nfm_exporter_is_netflow(const struct nfm_exporter_ops *ops) { return ops && ops->netflow; }
bool nfm_exporter_is_sliced(const struct nfm_exporter_ops *ops) { return ops && ops->sliced; }

const struct nfm_exporter_ops *nfm_exporter_for_url(const char *url)
{
	const char *sep = url ? strstr(url, "://") : NULL;
	if (!sep)
		return NULL;
	size_t n = (size_t)(sep - url);
	for (size_t i = 0; i < N_EXPORTERS; i++) {
		const char *sc = exporters[i]->scheme;
		if (sc && strlen(sc) == n && strncasecmp(url, sc, n) == 0)
			return exporters[i];
	}
	return NULL;
}

bool nfm_formula_risky(const char *s)
{
	return s && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
		     s[0] == '\r');
}
