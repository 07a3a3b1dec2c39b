/* CSV (RFC 4180 with LF line ends): header row of column names, one row per flow.
 * A cell is quoted when it holds a comma, a double quote, CR or LF (quotes doubled).
 * Text cells that a spreadsheet would read as a formula (= + - @ TAB CR first) get an
 * apostrophe prefix; numbers are never altered. No allocation per row. */
#include "export/exporter_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/atomic_file.h"

struct csv_state {
	struct nfm_afile af;
	const struct nfm_columns *cols;
	struct nfm_value v;
	char buf[256];
};

static void put_text(FILE *fp, const char *s)
{
	bool prefix = nfm_formula_risky(s);
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		putc('"', fp);
	if (prefix)
		putc('\'', fp);
	if (!quote) {
		fputs(s, fp);
		return;
	}
	for (const char *p = s;;) {
		const char *q = strchr(p, '"');
		if (!q) {
			fputs(p, fp);
			break;
		}
		fwrite(p, 1, (size_t)(q - p) + 1, fp); /* up to and including the quote */
		putc('"', fp);
		p = q + 1;
	}
	putc('"', fp);
}

static int csv_open(void **state, const char *final_path, const struct nfm_columns *cols,
		    struct nfm_error *err)
{
	struct csv_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", final_path);
	int rc = nfm_afile_open(&st->af, final_path, err);
	if (rc) {
		free(st);
		return rc;
	}
	st->cols = cols;
	FILE *fp = st->af.fp;
	for (size_t i = 0; i < cols->n; i++) {
		if (i)
			putc(',', fp);
		put_text(fp, cols->f[i]->name);
	}
	putc('\n', fp);
	*state = st;
	return 0;
}

static int csv_write(void *state, const struct nfm_flow_record *rec, struct nfm_error *err)
{
	struct csv_state *st = state;
	FILE *fp = st->af.fp;
	for (size_t i = 0; i < st->cols->n; i++) {
		const struct nfm_field *f = st->cols->f[i];
		if (i)
			putc(',', fp);
		f->get(rec, &st->v);
		if (st->v.type == NFM_V_NULL)
			continue;
		if (st->v.type == NFM_V_STR) {
			put_text(fp, st->v.s ? st->v.s : "");
		} else {
			size_t n = nfm_value_format(&st->v, f->precision, st->buf, sizeof st->buf);
			fwrite(st->buf, 1, n, fp);
		}
	}
	if (putc('\n', fp) == EOF || ferror(fp))
		return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", st->af.final_path,
				     strerror(errno ? errno : EIO));
	return 0;
}

static int csv_close(void *state, struct nfm_error *err)
{
	struct csv_state *st = state;
	int rc = nfm_afile_commit(&st->af, err);
	free(st);
	return rc;
}

static void csv_abort(void *state)
{
	struct csv_state *st = state;
	if (!st)
		return;
	nfm_afile_abort(&st->af);
	free(st);
}

const struct nfm_exporter_ops nfm_exporter_csv = {
	.fmt = NFM_FMT_CSV,
	.name = "csv",
	.ext = "csv",
	.allows_stdout = true,
	.open = csv_open,
	.write = csv_write,
	.close = csv_close,
	.abort = csv_abort,
};
