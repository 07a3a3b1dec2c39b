/* CSV (RFC 4180 with LF line ends): header row of column names, one row per flow.
 * A cell is quoted when it holds a comma, a double quote, CR or LF (quotes doubled).
 * Text cells that a spreadsheet would read as a formula (= + - @ TAB CR first) get an
 * apostrophe prefix; numbers are never altered; bytes that are not well-formed UTF-8
 * stand for their Latin-1 code points, so the file always decodes as UTF-8. A row is
 * built in the worker that ended the flow; the writer copies it to the file. */
#include "export/exporter_impl.h"

#include "export/csv_base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct csv_state {
	FILE *fp;
	struct nfm_outfile *out;
	const struct nfm_columns *cols;
	bool base;  /* the default columns: rows in one pass (csv_base.c) */
};

/* s itself when it is well-formed UTF-8; otherwise a copy in fix (grown as needed) in
 * which every byte that is not part of a well-formed sequence stands for its Latin-1
 * code point (as in the XLSX and JSON outputs). NULL when memory is exhausted. */
static const char *utf8_text(const char *s, size_t n, struct nfm_buf *fix)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t len = u[i] < 0x80 ? 1 : nfm_utf8_seq_len(u + i, n - i);
		if (!len)
			break;
		i += len;
	}
	if (i == n)
		return s;
	fix->len = 0;
	uint8_t *d = nfm_buf_room(fix, 2 * n + 1);
	if (!d)
		return NULL;
	size_t o = 0;
	for (i = 0; i < n;) {
		size_t len = u[i] < 0x80 ? 1 : nfm_utf8_seq_len(u + i, n - i);
		if (len) {
			memcpy(d + o, s + i, len);
			o += len;
			i += len;
		} else {
			d[o++] = (uint8_t)(0xC0 | (u[i] >> 6));
			d[o++] = (uint8_t)(0x80 | (u[i] & 0x3F));
			i++;
		}
	}
	d[o] = '\0';
	return (const char *)d;
}

/* Whether any byte of w equals c (exact: the borrow trick has no false positives when
 * only presence is asked). */
static uint64_t has_byte(uint64_t w, unsigned char c)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t x = w ^ (ones * c);
	return (x - ones) & ~x & (ones << 7);
}

/* *quote: s[0, n) holds a byte that makes the cell quoted; *high: one that is not ASCII.
 * Eight bytes at a time: most cells are addresses and names with neither. */
static void text_scan(const char *s, size_t n, unsigned *quote, unsigned *high)
{
	uint64_t q = 0, h = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h |= w;
		q |= has_byte(w, ',') | has_byte(w, '"') | has_byte(w, '\r') | has_byte(w, '\n');
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		h |= c;
		q |= c == ',' || c == '"' || c == '\r' || c == '\n';
	}
	*quote = q != 0;
	*high = (h & 0x8080808080808080ULL) != 0 ? 0x80 : 0;
}

/* Appends a text cell with the quoting and prefix rules above. */
static int add_text(struct nfm_buf *row, const char *s)
{
	size_t n = strlen(s);
	unsigned quote = 0, high = 0;
	text_scan(s, n, &quote, &high);
	struct nfm_buf fix = { 0 };
	if (high & 0x80) {
		s = utf8_text(s, n, &fix);
		if (!s)
			return -1;
		n = strlen(s);
	}
	bool prefix = nfm_formula_risky(s);
	char *d = (char *)nfm_buf_room(row, quote ? 2 * n + 3 : n + 1);
	if (!d) {
		nfm_buf_free(&fix);
		return -1;
	}
	char *start = d;
	if (quote)
		*d++ = '"';
	if (prefix)
		*d++ = '\'';
	if (!quote) {
		memcpy(d, s, n);
		d += n;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '"')
				*d++ = '"';
			*d++ = s[i];
		}
		*d++ = '"';
	}
	row->len += (size_t)(d - start);
	nfm_buf_free(&fix);
	return 0;
}

static int add_char(struct nfm_buf *row, char c)
{
	return nfm_buf_put(row, &c, 1);
}

/* Room for the rest of a row from column i on when every cell is plain: a separator
 * and a value each, and the line end. */
static size_t plain_room(const struct nfm_columns *cols, size_t i)
{
	return (cols->n - i) * (NFM_VALUE_ROOM + 1) + 1;
}

static int csv_encode(const void *state, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct csv_state *st = state;
	const struct nfm_columns *cols = st->cols;
	struct nfm_value v;
	/* Plain cells are written in place with one room check per row; the length lives
	 * in a local until a text or list cell needs the buffer itself. */
	char *d = (char *)nfm_buf_room(row, plain_room(cols, 0));
	if (!d)
		return -1;
	if (st->base) {
		row->len += nfm_csv_base_row(rec, d);
		return 0;
	}
	d -= row->len;
	size_t len = row->len;
	for (size_t i = 0; i < cols->n; i++) {
		if (i)
			d[len++] = ',';
		nfm_column_get(cols, i, rec, &v);
		if (nfm_value_is_plain(v.type)) {
			len += nfm_value_put(&v, cols->f[i]->precision, d + len);
			continue;
		}
		if (v.type == NFM_V_NULL)
			continue;
		row->len = len;
		if (v.type == NFM_V_STR) {
			if (add_text(row, v.s ? v.s : ""))
				return -1;
		} else { /* NFM_V_LIST, "[1, 2]": quoted for its commas, nothing to escape */
			char *q = (char *)nfm_buf_room(row, NFM_LIST_TEXT_MAX + 3);
			if (!q)
				return -1;
			q[0] = '"';
			size_t n = 1 + nfm_value_format(&v, 0, q + 1, NFM_LIST_TEXT_MAX + 1);
			q[n++] = '"';
			row->len += n;
		}
		d = (char *)nfm_buf_room(row, plain_room(cols, i + 1));
		if (!d)
			return -1;
		d -= row->len;
		len = row->len;
	}
	d[len++] = '\n';
	row->len = len;
	return 0;
}

static int csv_write(void *state, const uint8_t *row, size_t len, struct nfm_error *err)
{
	struct csv_state *st = state;
	return nfm_outfile_write(st->out, row, len, err);
}

static int csv_open(void **state, const struct nfm_export_dest *dest,
		    const struct nfm_columns *cols, struct nfm_error *err)
{
	struct csv_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
	int rc = nfm_outset_create(dest->set, dest->path, NFM_OUT_STREAM, &st->out, err);
	if (rc) {
		free(st);
		return rc;
	}
	st->fp = st->out->fp;
	st->cols = cols;
	st->base = nfm_csv_base_matches(cols);
	struct nfm_buf head = { 0 };
	for (size_t i = 0; i < cols->n && rc == 0; i++)
		rc = (i && add_char(&head, ',')) || add_text(&head, nfm_column_name(cols, i));
	if (rc == 0)
		rc = add_char(&head, '\n');
	if (rc == 0)
		rc = csv_write(st, head.p, head.len, err);
	else
		rc = nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
	nfm_buf_free(&head);
	if (rc) {
		nfm_outfile_discard(st->out);
		free(st);
		return rc;
	}
	*state = st;
	return 0;
}

static int csv_close(void *state, struct nfm_error *err)
{
	struct csv_state *st = state;
	int rc = nfm_outfile_finish(st->out, err);
	free(st);
	return rc;
}

static void csv_abort(void *state)
{
	struct csv_state *st = state;
	if (st)
		nfm_outfile_discard(st->out);
	free(st);
}

const struct nfm_exporter_ops nfm_exporter_csv = {
	.name = "csv",
	.ext = "csv",
	.allows_stdout = true,
	.listed = true,
	.open = csv_open,
	.encode = csv_encode,
	.write = csv_write,
	.close = csv_close,
	.abort = csv_abort,
};
