/* JSON (one array of objects) and JSON Lines (one object per line). Keys are the column
 * names; numbers are JSON numbers, NULL is null, booleans true/false, times and text are
 * strings. Strings are escaped per RFC 8259; a byte that is not part of well-formed UTF-8
 * is written as \u00XX (its Latin-1 code point), so the output is always valid UTF-8
 * and the byte value stays recoverable. */
#include "export/exporter_impl.h"
#include "util/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


/* Rows are built in out[] and handed to stdio with one fwrite per row (or more for a
 * row longer than out[]), so errors, stdout and abort behave as with per-cell writes. */
#define JSON_OUT_CAP (64 * 1024)
#define JSON_NUM_ROOM 512 /* enough for any number or time (a printf'd double is < 330) */

struct json_state {
	FILE *fp;
	const char *path;
	const struct nfm_columns *cols;
	bool lines;               /* JSON Lines */
	uint64_t rows;
	struct nfm_value v;
	char *keys;               /* per column: [","] "escaped name" ":" back to back */
	size_t key_off[NFM_MAX_COLUMNS + 1];
	size_t len;               /* bytes pending in out */
	char out[JSON_OUT_CAP];
};

static void flush_out(struct json_state *st)
{
	if (st->len)
		fwrite(st->out, 1, st->len, st->fp);
	st->len = 0;
}

/* Makes room for n more bytes in out; false when n can never fit. */
static bool room(struct json_state *st, size_t n)
{
	if (n > JSON_OUT_CAP - st->len)
		flush_out(st);
	return n <= JSON_OUT_CAP;
}

static void add_bytes(struct json_state *st, const char *p, size_t n)
{
	if (!room(st, n)) {
		fwrite(p, 1, n, st->fp);
		return;
	}
	memcpy(st->out + st->len, p, n);
	st->len += n;
}

static void add_string(struct json_state *st, const char *s)
{
	size_t n = strlen(s);
	if (n > (JSON_OUT_CAP - 2) / 6) {
		flush_out(st);
		nfm_json_put_string(st->fp, s, NFM_JSON_BAD_LATIN1);
		return;
	}
	room(st, NFM_JSON_ESCAPED_MAX(n));
	st->len += nfm_json_escape(st->out + st->len, s, n, NFM_JSON_BAD_LATIN1);
}

static int json_open_common(void **state, struct nfm_outfile *out, const struct nfm_columns *cols,
			    bool lines, struct nfm_error *err)
{
	struct json_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", out->path);
	size_t need = 0;
	for (size_t i = 0; i < cols->n; i++)
		need += 6 * strlen(cols->f[i]->name) + 4;
	st->keys = malloc(need ? need : 1);
	if (!st->keys) {
		free(st);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", out->path);
	}
	size_t o = 0;
	for (size_t i = 0; i < cols->n; i++) {
		st->key_off[i] = o;
		if (i)
			st->keys[o++] = ',';
		o += nfm_json_escape(st->keys + o, cols->f[i]->name, strlen(cols->f[i]->name),
				     NFM_JSON_BAD_LATIN1);
		st->keys[o++] = ':';
	}
	st->key_off[cols->n] = o;
	st->fp = out->fp;
	st->path = out->path;
	st->cols = cols;
	st->lines = lines;
	*state = st;
	return 0;
}

static int json_open(void **state, struct nfm_outfile *out, const struct nfm_columns *cols,
		     struct nfm_error *err)
{
	return json_open_common(state, out, cols, false, err);
}

static int jsonl_open(void **state, struct nfm_outfile *out, const struct nfm_columns *cols,
		      struct nfm_error *err)
{
	return json_open_common(state, out, cols, true, err);
}

static int json_write(void *state, const struct nfm_flow_record *rec, struct nfm_error *err)
{
	struct json_state *st = state;
	FILE *fp = st->fp;
	if (!st->lines) {
		if (st->rows)
			add_bytes(st, ",\n{", 3);
		else
			add_bytes(st, "[\n{", 3);
	} else {
		add_bytes(st, "{", 1);
	}
	for (size_t i = 0; i < st->cols->n; i++) {
		const struct nfm_field *f = st->cols->f[i];
		add_bytes(st, st->keys + st->key_off[i], st->key_off[i + 1] - st->key_off[i]);
		f->get(rec, &st->v);
		switch (st->v.type) {
		case NFM_V_NULL:
			add_bytes(st, "null", 4);
			break;
		case NFM_V_BOOL:
			if (st->v.b)
				add_bytes(st, "true", 4);
			else
				add_bytes(st, "false", 5);
			break;
		case NFM_V_STR:
			add_string(st, st->v.s ? st->v.s : "");
			break;
		case NFM_V_TIME: /* digits and punctuation only: nothing to escape */
			room(st, JSON_NUM_ROOM);
			st->out[st->len++] = '"';
			st->len += nfm_value_format(&st->v, f->precision, st->out + st->len,
						    JSON_NUM_ROOM - 2);
			st->out[st->len++] = '"';
			break;
		case NFM_V_U64:
		case NFM_V_F64:
		default:
			room(st, JSON_NUM_ROOM);
			st->len += nfm_value_format(&st->v, f->precision, st->out + st->len,
						    JSON_NUM_ROOM);
			break;
		}
	}
	if (st->lines)
		add_bytes(st, "}\n", 2);
	else
		add_bytes(st, "}", 1);
	flush_out(st);
	if (ferror(fp))
		return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", st->path,
				     strerror(errno ? errno : EIO));
	st->rows++;
	return 0;
}

static int json_close(void *state, struct nfm_error *err)
{
	struct json_state *st = state;
	(void)err; /* write errors are caught when the output set finishes the file */
	if (!st->lines)
		fputs(st->rows ? "\n]\n" : "[]\n", st->fp);
	free(st->keys);
	free(st);
	return 0;
}

static void json_abort(void *state)
{
	struct json_state *st = state;
	if (!st)
		return;
	free(st->keys);
	free(st);
}

const struct nfm_exporter_ops nfm_exporter_json = {
	.fmt = NFM_FMT_JSON,
	.name = "json",
	.ext = "json",
	.allows_stdout = true,
	.open = json_open,
	.write = json_write,
	.close = json_close,
	.abort = json_abort,
};

const struct nfm_exporter_ops nfm_exporter_jsonl = {
	.fmt = NFM_FMT_JSONL,
	.name = "jsonl",
	.ext = "jsonl",
	.allows_stdout = true,
	.open = jsonl_open,
	.write = json_write,
	.close = json_close,
	.abort = json_abort,
};
