/* XLSX through libxlsxwriter in constant-memory mode (rows stream to temporary files in
 * the destination directory). The workbook is written under a temporary name beside
 * the output and renamed by close; abort removes it. Numbers are numbers, times are
 * Excel date-times (UTC), booleans are booleans, NULL is a blank cell. A sheet holds
 * the header plus 1,048,575 rows; further rows continue on "flows_2", "flows_3", ...
 * with the header repeated. Text is written as text (never a formula); text a
 * spreadsheet user could mistake for a formula gets the same apostrophe prefix as CSV,
 * and bytes that are not well-formed UTF-8 are mapped to their Latin-1 code points. */
#include "export/exporter_impl.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>
#include <xlsxwriter.h>

struct xlsx_state {
	const char *path;         /* final name, for messages */
	struct nfm_outfile *out;
	char *tmpdir;
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *bold;
	lxw_format *time_fmt;
	const struct nfm_columns *cols;
	lxw_row_t row;            /* next row of the current sheet */
	unsigned sheet_no;
	struct nfm_value v;
	char num[256];
	char *text;               /* sanitised string cell, grown on demand */
	size_t text_cap;
};

static int lxw_fail(struct xlsx_state *st, lxw_error e, const char *what, struct nfm_error *err)
{
	return nfm_error_set(err, e == LXW_ERROR_MEMORY_MALLOC_FAILED ? NFM_ERR_NOMEM : NFM_ERR_IO,
			     "%s: cannot %s: %s", st->path, what, lxw_strerror(e));
}

static void free_state(struct xlsx_state *st)
{
	free(st->tmpdir);
	free(st->text);
	free(st);
}

/* Returns the text to store for s: s itself when it is safe, else a repaired copy. */
static const char *cell_text(struct xlsx_state *st, const char *s, struct nfm_error *err, int *rc)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	bool prefix = nfm_formula_risky(s);
	bool clean = true;
	for (size_t i = 0; i < n && clean;) {
		if (u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r') {
			clean = false;
		} else if (u[i] < 0x80) {
			i++;
		} else {
			size_t len = nfm_utf8_seq_len(u + i, n - i);
			if (!len)
				clean = false;
			i += len;
		}
	}
	if (clean && !prefix)
		return s;
	size_t need = 2 * n + 2;
	if (need > st->text_cap) {
		char *t = realloc(st->text, need);
		if (!t) {
			*rc = nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", st->path);
			return NULL;
		}
		st->text = t;
		st->text_cap = need;
	}
	size_t o = 0;
	if (prefix)
		st->text[o++] = '\'';
	for (size_t i = 0; i < n;) {
		unsigned c = u[i];
		size_t len = c < 0x80 ? 1 : nfm_utf8_seq_len(u + i, n - i);
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			st->text[o++] = ' '; /* not allowed in XML 1.0 */
			i++;
		} else if (len) {
			memcpy(st->text + o, u + i, len);
			o += len;
			i += len;
		} else {
			st->text[o++] = (char)(0xC0 | (c >> 6));
			st->text[o++] = (char)(0x80 | (c & 0x3F));
			i++;
		}
	}
	st->text[o] = '\0';
	return st->text;
}

static int add_sheet(struct xlsx_state *st, struct nfm_error *err)
{
	char name[32];
	st->sheet_no++;
	if (st->sheet_no == 1)
		snprintf(name, sizeof name, "flows");
	else
		snprintf(name, sizeof name, "flows_%u", st->sheet_no);
	st->ws = workbook_add_worksheet(st->wb, name);
	if (!st->ws)
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot add worksheet %s", st->path,
				     name);
	for (size_t i = 0; i < st->cols->n; i++) {
		lxw_error e = worksheet_write_string(st->ws, 0, (lxw_col_t)i, st->cols->f[i]->name,
						     st->bold);
		if (e != LXW_NO_ERROR)
			return lxw_fail(st, e, "write the header", err);
	}
	st->row = 1;
	return 0;
}

static int xlsx_open(void **state, const struct nfm_export_dest *dest,
		     const struct nfm_columns *cols, struct nfm_error *err)
{
	const char *final_path = dest->path;
	struct xlsx_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", final_path);
	int rc = nfm_outset_create(dest->set, dest->path, NFM_OUT_BY_NAME, &st->out, err);
	if (rc) {
		free(st);
		return rc;
	}
	struct nfm_outfile *out = st->out;
	st->cols = cols;
	st->path = final_path;
	const char *slash = strrchr(final_path, '/');
	size_t dirlen = slash ? (size_t)(slash - final_path) : 0;
	if (slash && dirlen == 0)
		dirlen = 1; /* "/name.xlsx" */
	st->tmpdir = malloc(dirlen + 2);
	if (!st->tmpdir) {
		free_state(st);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", final_path);
	}
	if (slash) {
		memcpy(st->tmpdir, final_path, dirlen);
		st->tmpdir[dirlen] = '\0';
	} else {
		strcpy(st->tmpdir, ".");
	}
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE, .tmpdir = st->tmpdir };
	st->wb = workbook_new_opt(out->write_path, &opt);
	if (!st->wb) {
		rc = nfm_error_set(err, NFM_ERR_IO, "%s: cannot create workbook", final_path);
		goto fail;
	}
	st->bold = workbook_add_format(st->wb);
	st->time_fmt = workbook_add_format(st->wb);
	if (!st->bold || !st->time_fmt) {
		rc = nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", final_path);
		goto fail;
	}
	format_set_bold(st->bold);
	format_set_num_format(st->time_fmt, "yyyy-mm-dd hh:mm:ss.000");
	rc = add_sheet(st, err);
	if (rc)
		goto fail;
	*state = st;
	return 0;
fail:
	if (st->wb)
		lxw_workbook_free(st->wb);
	nfm_outfile_discard(st->out);
	free_state(st);
	return rc;
}

/* Until the streaming writer: the row is the record itself. */
static int xlsx_encode(const void *state, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	(void)state;
	return nfm_buf_put(row, rec, sizeof *rec);
}

static int xlsx_put(void *state, const struct nfm_flow_record *rec, struct nfm_error *err);

static int xlsx_write(void *state, const uint8_t *row, size_t len, struct nfm_error *err)
{
	struct nfm_flow_record rec;
	if (len != sizeof rec)
		return nfm_error_set(err, NFM_ERR_INVALID, "xlsx: bad row");
	memcpy(&rec, row, sizeof rec);
	rec.modules = NULL;
	return xlsx_put(state, &rec, err);
}

static int xlsx_put(void *state, const struct nfm_flow_record *rec, struct nfm_error *err)
{
	struct xlsx_state *st = state;
	if (st->row >= LXW_ROW_MAX) {
		int rc = add_sheet(st, err);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < st->cols->n; i++) {
		const struct nfm_field *f = st->cols->f[i];
		lxw_col_t col = (lxw_col_t)i;
		lxw_error e = LXW_NO_ERROR;
		f->get(rec, &st->v);
		switch (st->v.type) {
		case NFM_V_NULL:
			break;
		case NFM_V_STR: {
			int rc = 0;
			const char *t = cell_text(st, st->v.s ? st->v.s : "", err, &rc);
			if (!t)
				return rc;
			e = worksheet_write_string(st->ws, st->row, col, t, NULL);
			break;
		}
		case NFM_V_U64:
			e = worksheet_write_number(st->ws, st->row, col, (double)st->v.u, NULL);
			break;
		case NFM_V_F64:
			/* The value the text formats show, rounded to the field's precision. */
			nfm_value_format(&st->v, f->precision, st->num, sizeof st->num);
			e = worksheet_write_number(st->ws, st->row, col, strtod(st->num, NULL), NULL);
			break;
		case NFM_V_BOOL:
			e = worksheet_write_boolean(st->ws, st->row, col, st->v.b ? 1 : 0, NULL);
			break;
		case NFM_V_TIME: {
			/* Excel serial date: days since 1899-12-30, UTC; millisecond display. */
			double days = 25569.0 + (double)(st->v.u / 1000u) / 86400e6;
			e = worksheet_write_number(st->ws, st->row, col, days, st->time_fmt);
			break;
		}
		}
		if (e != LXW_NO_ERROR)
			return lxw_fail(st, e, "write a cell", err);
	}
	st->row++;
	return 0;
}

/* libxlsxwriter reports failures on stderr by itself ("[ERROR] ... packager.c ...",
 * naming the temporary file) on top of the error code it returns; our one-line message
 * says it better. Its standard error goes to /dev/null while it writes the workbook.
 * Called from the main thread after the metering threads have stopped. */
static lxw_error close_quietly(lxw_workbook *wb)
{
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	lxw_error e = workbook_close(wb);
	if (saved >= 0 && null >= 0) {
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
	}
	if (null >= 0)
		close(null);
	if (saved >= 0)
		close(saved);
	return e;
}

static int xlsx_close(void *state, struct nfm_error *err)
{
	struct xlsx_state *st = state;
	lxw_error e = close_quietly(st->wb); /* frees the workbook whatever the result */
	st->wb = NULL;
	int rc = e != LXW_NO_ERROR ? lxw_fail(st, e, "write the workbook", err)
				   : nfm_outfile_finish(st->out, err);
	free_state(st);
	return rc;
}

static void xlsx_abort(void *state)
{
	struct xlsx_state *st = state;
	if (!st)
		return;
	if (st->wb)
		lxw_workbook_free(st->wb);
	nfm_outfile_discard(st->out);
	free_state(st);
}

static const char *const xlsx_aliases[] = { "excel", NULL };

const struct nfm_exporter_ops nfm_exporter_xlsx = {
	.name = "xlsx",
	.aliases = xlsx_aliases,
	.ext = "xlsx",
	.allows_stdout = false,
	.listed = true,
	.by_name = true,
	.open = xlsx_open,
	.encode = xlsx_encode,
	.write = xlsx_write,
	.close = xlsx_close,
	.abort = xlsx_abort,
};
