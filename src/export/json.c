/* JSON (one array of objects) and JSON Lines (one object per line). Keys are the column
 * names, made unique as pandas reads a CSV header (a second "X" is "X.1", a third
 * "X.2": CIC-IDS2017 writes one name twice, and a JSON object cannot); numbers are JSON numbers, NULL is null, booleans true/false, times and text are
 * strings. Strings are escaped per RFC 8259; a byte that is not part of well-formed UTF-8
 * is written as \u00XX (its Latin-1 code point), so the output is always valid UTF-8
 * and the byte value stays recoverable. An object is built in the worker that ended the
 * flow; the writer adds the separators of the array. */
#include "export/exporter_impl.h"
#include "util/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define JSON_NUM_ROOM 512 /* enough for any number or time (a printf'd double is < 330) */

struct json_state {
	FILE *fp;
	struct nfm_outfile *out;
	const struct nfm_columns *cols;
	bool lines;               /* JSON Lines */
	uint64_t rows;            /* writer side */
	char *keys;               /* per column: [","] "escaped name" ":" back to back */
	size_t *key_off;          /* cols->n + 1 offsets into keys */
};

/* str as a JSON string (quotes included) at d, which has room for
 * NFM_JSON_ESCAPED_MAX(strlen(str)) bytes; returns the length. */
static size_t enc_string(char *d, const char *str)
{
	return nfm_json_escape(d, str, strlen(str), NFM_JSON_BAD_LATIN1);
}

static int add_bytes(struct nfm_buf *row, const char *p, size_t n)
{
	return nfm_buf_put(row, p, n);
}

static int add_string(struct nfm_buf *row, const char *s)
{
	char *d = (char *)nfm_buf_room(row, NFM_JSON_ESCAPED_MAX(strlen(s)));
	if (!d)
		return -1;
	row->len += enc_string(d, s);
	return 0;
}

static int json_encode(const void *state, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct json_state *st = state;
	struct nfm_value v;
	int rc = add_bytes(row, "{", 1);
	for (size_t i = 0; i < st->cols->n && rc == 0; i++) {
		const struct nfm_field *f = st->cols->f[i];
		rc = add_bytes(row, st->keys + st->key_off[i], st->key_off[i + 1] - st->key_off[i]);
		if (rc)
			break;
		nfm_column_get(st->cols, i, rec, &v);
		char *d;
		switch (v.type) {
		case NFM_V_NULL:
			rc = add_bytes(row, "null", 4);
			break;
		case NFM_V_BOOL:
			rc = v.b ? add_bytes(row, "true", 4) : add_bytes(row, "false", 5);
			break;
		case NFM_V_STR:
			rc = add_string(row, v.s ? v.s : "");
			break;
		case NFM_V_TIME: /* digits, letters and punctuation only: nothing to escape */
		case NFM_V_ADDR:
		case NFM_V_PROTO:
		case NFM_V_TCPFLAGS:
			if (!(d = (char *)nfm_buf_room(row, JSON_NUM_ROOM)))
				return -1;
			d[0] = '"';
			size_t n = 1 + nfm_value_format(&v, f->precision, d + 1, JSON_NUM_ROOM - 2);
			d[n++] = '"';
			row->len += n;
			break;
		case NFM_V_LIST: /* [1, 2]: already a JSON array */
			if (!(d = (char *)nfm_buf_room(row, NFM_LIST_TEXT_MAX + 1)))
				return -1;
			row->len += nfm_value_format(&v, 0, d, NFM_LIST_TEXT_MAX + 1);
			break;
		case NFM_V_U64:
		case NFM_V_I64:
		case NFM_V_F64:
		default:
			if (!(d = (char *)nfm_buf_room(row, JSON_NUM_ROOM)))
				return -1;
			row->len += nfm_value_format(&v, f->precision, d, JSON_NUM_ROOM);
			break;
		}
	}
	if (rc == 0)
		rc = st->lines ? add_bytes(row, "}\n", 2) : add_bytes(row, "}", 1);
	return rc;
}

static int put(struct json_state *st, const void *p, size_t n, struct nfm_error *err)
{
	return nfm_outfile_write(st->out, p, n, err);
}

static int json_write(void *state, const uint8_t *row, size_t len, struct nfm_error *err)
{
	struct json_state *st = state;
	int rc = 0;
	if (!st->lines)
		rc = put(st, st->rows ? ",\n" : "[\n", 2, err);
	if (rc == 0)
		rc = put(st, row, len, err);
	if (rc == 0)
		st->rows++;
	return rc;
}

static void json_free(struct json_state *st)
{
	if (!st)
		return;
	free(st->keys);
	free(st->key_off);
	free(st);
}

/* The key of every column: its name, or when an earlier column has it, NAME.K with the
 * first K that makes it unique (pandas' rule for duplicated CSV names: "X", "X", "X.1"
 * become "X", "X.1", "X.1.1"). keys[i] is the column's name or owned[i]; NULL on
 * allocation failure. Free with free_keys. */
static const char **unique_keys(const struct nfm_columns *cols, char ***owned)
{
	size_t n = cols->n ? cols->n : 1;
	const char **keys = calloc(n, sizeof *keys);
	size_t *count = calloc(n, sizeof *count); /* suffixes of keys[i] handed out, plus 1 */
	*owned = calloc(n, sizeof **owned);
	bool ok = keys && count && *owned;
	for (size_t i = 0; ok && i < cols->n; i++) {
		const char *key = nfm_column_name(cols, i);
		char *mine = NULL;
		for (;;) {
			size_t j = 0;
			while (j < i && strcmp(keys[j], key) != 0)
				j++;
			if (j == i)
				break;
			/* taken by column j: the next suffix of that name */
			size_t len = strlen(key) + 24;
			char *next = malloc(len);
			if (!next) {
				ok = false;
				break;
			}
			snprintf(next, len, "%s.%zu", key, count[j]++);
			free(mine);
			key = mine = next;
		}
		keys[i] = key;
		(*owned)[i] = mine;
		count[i] = 1;
	}
	free(count);
	if (!ok) {
		for (size_t i = 0; *owned && i < cols->n; i++)
			free((*owned)[i]);
		free(*owned);
		*owned = NULL;
		free(keys);
		return NULL;
	}
	return keys;
}

static void free_keys(const char **keys, char **owned, size_t n)
{
	for (size_t i = 0; owned && i < n; i++)
		free(owned[i]);
	free(owned);
	free(keys);
}

static int json_open_common(void **state, const struct nfm_export_dest *dest,
			    const struct nfm_columns *cols, bool lines, struct nfm_error *err)
{
	struct json_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
	char **owned = NULL;
	const char **names = unique_keys(cols, &owned);
	size_t need = 0;
	for (size_t i = 0; names && i < cols->n; i++)
		need += 6 * strlen(names[i]) + 4;
	st->keys = malloc(need ? need : 1);
	st->key_off = malloc((cols->n + 1) * sizeof *st->key_off);
	if (!names || !st->keys || !st->key_off) {
		free_keys(names, owned, cols->n);
		json_free(st);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
	}
	size_t o = 0;
	for (size_t i = 0; i < cols->n; i++) {
		st->key_off[i] = o;
		if (i)
			st->keys[o++] = ',';
		o += nfm_json_escape(st->keys + o, names[i], strlen(names[i]), NFM_JSON_BAD_LATIN1);
		st->keys[o++] = ':';
	}
	st->key_off[cols->n] = o;
	free_keys(names, owned, cols->n);
	int rc = nfm_outset_create(dest->set, dest->path, NFM_OUT_STREAM, &st->out, err);
	if (rc) {
		json_free(st);
		return rc;
	}
	st->fp = st->out->fp;
	st->cols = cols;
	st->lines = lines;
	*state = st;
	return 0;
}

static int json_open(void **state, const struct nfm_export_dest *dest,
		     const struct nfm_columns *cols, struct nfm_error *err)
{
	return json_open_common(state, dest, cols, false, err);
}

static int jsonl_open(void **state, const struct nfm_export_dest *dest,
		      const struct nfm_columns *cols, struct nfm_error *err)
{
	return json_open_common(state, dest, cols, true, err);
}

static int json_close(void *state, struct nfm_error *err)
{
	struct json_state *st = state;
	int rc = 0;
	if (!st->lines)
		rc = st->rows ? put(st, "\n]\n", 3, err) : put(st, "[]\n", 3, err);
	if (rc == 0)
		rc = nfm_outfile_finish(st->out, err);
	json_free(st);
	return rc;
}

static void json_abort(void *state)
{
	struct json_state *st = state;
	if (st)
		nfm_outfile_discard(st->out);
	json_free(st);
}

static const char *const jsonl_aliases[] = { "ndjson", NULL };

const struct nfm_exporter_ops nfm_exporter_json = {
	.name = "json",
	.ext = "json",
	.allows_stdout = true,
	.listed = true,
	.open = json_open,
	.encode = json_encode,
	.write = json_write,
	.close = json_close,
	.abort = json_abort,
};

const struct nfm_exporter_ops nfm_exporter_jsonl = {
	.name = "jsonl",
	.aliases = jsonl_aliases,
	.ext = "jsonl",
	.allows_stdout = true,
	.listed = true,
	.open = jsonl_open,
	.encode = json_encode,
	.write = json_write,
	.close = json_close,
	.abort = json_abort,
};
