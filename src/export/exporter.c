/* Format names and the dispatch over the per-format exporters (csv.c, json.c, xlsx.c). */
#include "export/exporter_impl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct nfm_exporter_ops *const ops_table[NFM_FMT_COUNT] = {
	[NFM_FMT_CSV] = &nfm_exporter_csv,
	[NFM_FMT_JSON] = &nfm_exporter_json,
	[NFM_FMT_JSONL] = &nfm_exporter_jsonl,
	[NFM_FMT_XLSX] = &nfm_exporter_xlsx,
};

static const struct {
	const char *name;
	enum nfm_format fmt;
} format_names[] = {
	{ "csv", NFM_FMT_CSV },
	{ "json", NFM_FMT_JSON },
	{ "jsonl", NFM_FMT_JSONL },
	{ "ndjson", NFM_FMT_JSONL },
	{ "xlsx", NFM_FMT_XLSX },
	{ "excel", NFM_FMT_XLSX },
};

struct nfm_exporter {
	const struct nfm_exporter_ops *ops;
	void *state;
	struct nfm_outfile *out;
	uint64_t rows;
};

int nfm_format_from_name(const char *name, enum nfm_format *out)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
		if (strcasecmp(name, format_names[i].name) == 0) {
			if (out)
				*out = format_names[i].fmt;
			return 0;
		}
	}
	return -1;
}

int nfm_format_from_path(const char *path, enum nfm_format *out)
{
	if (!path)
		return -1;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base)
		return -1;
	const char *ext = dot + 1;
	/* "excel" names a format, not an extension. */
	if (strcasecmp(ext, "excel") == 0)
		return -1;
	return nfm_format_from_name(ext, out);
}

const char *nfm_format_name(enum nfm_format fmt)
{
	return (unsigned)fmt < NFM_FMT_COUNT ? ops_table[fmt]->name : "unknown";
}

const char *nfm_format_ext(enum nfm_format fmt)
{
	return (unsigned)fmt < NFM_FMT_COUNT ? ops_table[fmt]->ext : "";
}

int nfm_exporter_open(struct nfm_exporter **out, enum nfm_format fmt, struct nfm_outset *set,
		      const char *path, const struct nfm_columns *cols, struct nfm_error *err)
{
	*out = NULL;
	if ((unsigned)fmt >= NFM_FMT_COUNT)
		return nfm_error_set(err, NFM_ERR_INVALID, "unknown output format %d", (int)fmt);
	if (!path || !*path)
		return nfm_error_set(err, NFM_ERR_INVALID, "no output file name");
	if (!cols || cols->n == 0)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: no output columns", path);
	const struct nfm_exporter_ops *ops = ops_table[fmt];
	if (!ops->allows_stdout && strcmp(path, "-") == 0)
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s output cannot be written to standard output: give a file name",
				     ops->name);
	struct nfm_exporter *ex = calloc(1, sizeof *ex);
	if (!ex)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	ex->ops = ops;
	int rc = nfm_outset_create(set, path, ops->by_name ? NFM_OUT_BY_NAME : NFM_OUT_STREAM,
				   &ex->out, err);
	if (rc == 0)
		rc = ops->open(&ex->state, ex->out, cols, err);
	if (rc) {
		free(ex);
		return rc;
	}
	*out = ex;
	return 0;
}

int nfm_exporter_write(struct nfm_exporter *ex, const struct nfm_flow_record *rec,
		       struct nfm_error *err)
{
	int rc = ex->ops->write(ex->state, rec, err);
	if (rc == 0)
		ex->rows++;
	return rc;
}

int nfm_exporter_close(struct nfm_exporter *ex, struct nfm_error *err)
{
	if (!ex)
		return 0;
	int rc = ex->ops->close(ex->state, err);
	if (rc == 0)
		rc = nfm_outfile_finish(ex->out, err);
	free(ex);
	return rc;
}

void nfm_exporter_abort(struct nfm_exporter *ex)
{
	if (!ex)
		return;
	ex->ops->abort(ex->state);
	free(ex);
}

uint64_t nfm_exporter_rows(const struct nfm_exporter *ex)
{
	return ex ? ex->rows : 0;
}

bool nfm_formula_risky(const char *s)
{
	return s && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
		     s[0] == '\r');
}
