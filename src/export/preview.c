/* --quick-preview: an aligned text table of a fixed, readable subset of the columns,
 * printed when the output is complete. One header line, one rule of dashes, one line per
 * record; widths fit the longest cell, columns are two spaces apart, numbers
 * right-aligned, text left-aligned, and no line ends in a space. A row is the cells'
 * text, each ended by a NUL; the first max_rows rows are kept. */
#include "export/exporter_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const preview_names[] = {
	"src_ip", "src_port", "dst_ip", "dst_port", "protocol",
	"total_packets", "total_bytes", "duration_seconds", "connection_state",
};
#define NCOLS (sizeof preview_names / sizeof preview_names[0])

struct preview_state {
	FILE *fp;
	struct nfm_outfile *out;
	const struct nfm_field *f[NCOLS];
	struct nfm_columns cols;  /* the same fields, for nfm_column_get */
	uint64_t max_rows, n;
	struct nfm_buf rows;        /* the kept rows, back to back */
};

static bool numeric(const struct nfm_field *f)
{
	return f->type == NFM_V_U64 || f->type == NFM_V_F64;
}

static int preview_encode(const void *state, const struct nfm_flow_record *rec,
			  struct nfm_buf *row)
{
	const struct preview_state *st = state;
	struct nfm_value v;
	for (size_t c = 0; c < NCOLS; c++) {
		nfm_column_get(&st->cols, c, rec, &v);
		char *d = (char *)nfm_buf_room(row, sizeof v.buf + 64);
		if (!d)
			return -1;
		row->len += nfm_value_format(&v, st->f[c]->precision, d, sizeof v.buf + 64) + 1;
	}
	return 0;
}

static int preview_write(void *state, const uint8_t *row, size_t len, struct nfm_error *err)
{
	struct preview_state *st = state;
	if (st->n >= st->max_rows)
		return 0;
	if (nfm_buf_put(&st->rows, row, len))
		return nfm_error_set(err, NFM_ERR_NOMEM, "preview: out of memory");
	st->n++;
	return 0;
}

/* Appends cell text to line at *pos, padded to width (not padded when left-aligned). */
static void put_cell(char *line, size_t *pos, const char *text, size_t width, bool right)
{
	size_t len = strlen(text);
	size_t pad = width > len ? width - len : 0;
	if (right) {
		memset(line + *pos, ' ', pad);
		*pos += pad;
	}
	memcpy(line + *pos, text, len);
	*pos += len;
	if (!right) {
		memset(line + *pos, ' ', pad);
		*pos += pad;
	}
}

static void emit(FILE *out, char *line, size_t pos)
{
	while (pos > 0 && line[pos - 1] == ' ')
		pos--;
	line[pos++] = '\n';
	fwrite(line, 1, pos, out);
}

/* The cells of every kept row, in order. */
static const char *next_cell(const char *p)
{
	return p + strlen(p) + 1;
}

static int preview_close(void *state, struct nfm_error *err)
{
	struct preview_state *st = state;
	size_t width[NCOLS];
	for (size_t c = 0; c < NCOLS; c++)
		width[c] = strlen(st->f[c]->name);
	const char *p = (const char *)st->rows.p;
	for (uint64_t i = 0; i < st->n; i++)
		for (size_t c = 0; c < NCOLS; c++, p = next_cell(p))
			if (strlen(p) > width[c])
				width[c] = strlen(p);
	size_t total = 0;
	for (size_t c = 0; c < NCOLS; c++)
		total += width[c] + 2;
	char *line = malloc(total + 2);
	int rc = 0;
	if (!line) {
		rc = nfm_error_set(err, NFM_ERR_NOMEM, "preview: out of memory");
	} else {
		size_t pos = 0;
		for (size_t c = 0; c < NCOLS; c++) {
			if (c)
				put_cell(line, &pos, "", 2, false);
			put_cell(line, &pos, st->f[c]->name, width[c], numeric(st->f[c]));
		}
		emit(st->fp, line, pos);
		memset(line, '-', total - 2);
		emit(st->fp, line, total - 2);
		p = (const char *)st->rows.p;
		for (uint64_t i = 0; i < st->n; i++) {
			pos = 0;
			for (size_t c = 0; c < NCOLS; c++, p = next_cell(p)) {
				if (c)
					put_cell(line, &pos, "", 2, false);
				put_cell(line, &pos, p, width[c], numeric(st->f[c]));
			}
			emit(st->fp, line, pos);
		}
		rc = nfm_outfile_finish(st->out, err);
	}
	free(line);
	nfm_buf_free(&st->rows);
	nfm_columns_free(&st->cols);
	free(st);
	return rc;
}

static void preview_abort(void *state)
{
	struct preview_state *st = state;
	if (st) {
		nfm_outfile_discard(st->out);
		nfm_buf_free(&st->rows);
		nfm_columns_free(&st->cols);
	}
	free(st);
}

static int preview_open(void **state, const struct nfm_export_dest *dest,
			const struct nfm_columns *cols, struct nfm_error *err)
{
	(void)cols; /* fixed columns */
	struct preview_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "preview: out of memory");
	for (size_t c = 0; c < NCOLS; c++)
		if (!(st->f[c] = nfm_field_find(preview_names[c])) ||
		    nfm_columns_add(&st->cols, st->f[c], SIZE_MAX)) {
			nfm_columns_free(&st->cols);
			free(st);
			return nfm_error_set(err, NFM_ERR_INVALID, "preview: no column %s",
					     preview_names[c]);
		}
	int rc = nfm_outset_create(dest->set, dest->path, NFM_OUT_STREAM, &st->out, err);
	if (rc) {
		nfm_columns_free(&st->cols);
		free(st);
		return rc;
	}
	st->fp = st->out->fp;
	st->max_rows = dest->max_rows ? dest->max_rows : UINT64_MAX;
	*state = st;
	return 0;
}

const struct nfm_exporter_ops nfm_exporter_preview = {
	.name = "preview",
	.ext = "txt",
	.allows_stdout = true,
	.open = preview_open,
	.encode = preview_encode,
	.write = preview_write,
	.close = preview_close,
	.abort = preview_abort,
};
