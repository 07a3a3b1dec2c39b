/* CSV (RFC 4180 with LF line ends): header row of column names, one row per flow.
 * A cell is quoted when it holds a comma, a double quote, CR or LF (quotes doubled).
 * Text cells that a spreadsheet would read as a formula (= + - @ TAB CR first) get an
 * apostrophe prefix; numbers are never altered. No allocation per row. */
#include "export/exporter_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


/* Rows are built in out[] and handed to stdio with one fwrite per row (or more for a
 * row longer than out[]), so errors, stdout and abort behave as with per-cell writes. */
#define CSV_OUT_CAP (64 * 1024)
#define CSV_NUM_ROOM 512 /* enough for any non-text cell (a printf'd double is < 330) */

struct csv_state {
	FILE *fp;
	const char *path;
	const struct nfm_columns *cols;
	struct nfm_value v;
	char *fix;                /* a text cell repaired to UTF-8, grown on demand */
	size_t fix_cap;
	size_t len;               /* bytes pending in out */
	char out[CSV_OUT_CAP];
};

/* s itself when it is well-formed UTF-8; otherwise a copy in which every byte that is
 * not part of a well-formed sequence stands for its Latin-1 code point (as in the XLSX
 * and JSON outputs), so the file always decodes as UTF-8 (a file name from -d --merge
 * may hold any bytes). */
static const char *utf8_text(struct csv_state *st, const char *s, size_t n)
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
	if (2 * n + 1 > st->fix_cap) {
		char *f = realloc(st->fix, 2 * n + 1);
		if (!f)
			return s;
		st->fix = f;
		st->fix_cap = 2 * n + 1;
	}
	size_t o = 0;
	for (i = 0; i < n;) {
		size_t len = u[i] < 0x80 ? 1 : nfm_utf8_seq_len(u + i, n - i);
		if (len) {
			memcpy(st->fix + o, s + i, len);
			o += len;
			i += len;
		} else {
			st->fix[o++] = (char)(0xC0 | (u[i] >> 6));
			st->fix[o++] = (char)(0x80 | (u[i] & 0x3F));
			i++;
		}
	}
	st->fix[o] = '\0';
	return st->fix;
}

/* The slow path for a text cell too long for out[] (written straight to fp). */
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

static void flush_out(struct csv_state *st)
{
	if (st->len)
		fwrite(st->out, 1, st->len, st->fp);
	st->len = 0;
}

/* Makes room for n more bytes in out; false when n can never fit. */
static bool room(struct csv_state *st, size_t n)
{
	if (n > CSV_OUT_CAP - st->len)
		flush_out(st);
	return n <= CSV_OUT_CAP;
}

/* Appends a text cell with the same quoting and prefix rules as put_text. */
static void add_text(struct csv_state *st, const char *s)
{
	static const unsigned char special[256] = { [','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1 };
	size_t n = 0;
	unsigned quote = 0, high = 0;
	for (; s[n]; n++) {
		quote |= special[(unsigned char)s[n]];
		high |= (unsigned char)s[n];
	}
	if (high & 0x80) {
		s = utf8_text(st, s, n);
		n = strlen(s);
	}
	bool prefix = nfm_formula_risky(s);
	size_t worst = quote ? 2 * n + 3 : n + 1;
	if (!room(st, worst)) {
		put_text(st->fp, s);
		return;
	}
	char *d = st->out + st->len;
	if (!quote) {
		if (prefix)
			*d++ = '\'';
		memcpy(d, s, n);
		st->len += n + prefix;
		return;
	}
	char *start = d;
	*d++ = '"';
	if (prefix)
		*d++ = '\'';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			*d++ = '"';
		*d++ = s[i];
	}
	*d++ = '"';
	st->len += (size_t)(d - start);
}

static void add_char(struct csv_state *st, char c)
{
	room(st, 1);
	st->out[st->len++] = c;
}

static int csv_open(void **state, struct nfm_outfile *out, const struct nfm_columns *cols,
		    struct nfm_error *err)
{
	struct csv_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", out->path);
	st->fp = out->fp;
	st->path = out->path;
	st->cols = cols;
	for (size_t i = 0; i < cols->n; i++) {
		if (i)
			add_char(st, ',');
		add_text(st, cols->f[i]->name);
	}
	add_char(st, '\n');
	flush_out(st);
	*state = st;
	return 0;
}

static int csv_write(void *state, const struct nfm_flow_record *rec, struct nfm_error *err)
{
	struct csv_state *st = state;
	FILE *fp = st->fp;
	for (size_t i = 0; i < st->cols->n; i++) {
		const struct nfm_field *f = st->cols->f[i];
		if (i)
			add_char(st, ',');
		f->get(rec, &st->v);
		if (st->v.type == NFM_V_NULL)
			continue;
		if (st->v.type == NFM_V_STR) {
			add_text(st, st->v.s ? st->v.s : "");
		} else {
			room(st, CSV_NUM_ROOM);
			st->len += nfm_value_format(&st->v, f->precision, st->out + st->len,
						    CSV_NUM_ROOM);
		}
	}
	add_char(st, '\n');
	flush_out(st);
	if (ferror(fp))
		return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", st->path,
				     strerror(errno ? errno : EIO));
	return 0;
}

static void csv_free(struct csv_state *st)
{
	if (st)
		free(st->fix);
	free(st);
}

static int csv_close(void *state, struct nfm_error *err)
{
	(void)err; /* rows are flushed as written; the output set checks the rest */
	csv_free(state);
	return 0;
}

static void csv_abort(void *state)
{
	csv_free(state);
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
