/* JSON (one array of objects) and JSON Lines (one object per line). Keys are the column
 * names; numbers are JSON numbers, NULL is null, booleans true/false, times and text are
 * strings. Strings are escaped per RFC 8259; a byte that is not part of well-formed UTF-8
 * is written as \u00XX (its Latin-1 code point), so the output is always valid UTF-8
 * and the byte value stays recoverable. */
#include "export/exporter_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/atomic_file.h"

struct json_state {
	struct nfm_afile af;
	const struct nfm_columns *cols;
	bool lines;               /* JSON Lines */
	uint64_t rows;
	struct nfm_value v;
	char buf[256];
};

static const char hex[] = "0123456789abcdef";

static void put_u00(FILE *fp, unsigned char c)
{
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
	fwrite(e, 1, sizeof e, fp);
}

static void put_string(FILE *fp, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	size_t run = 0; /* start of the pending run of bytes copied verbatim */
	size_t i = 0;
	putc('"', fp);
	while (i < n) {
		unsigned char c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t len = nfm_utf8_seq_len(s + i, n - i);
			if (len) {
				i += len;
				continue;
			}
		}
		fwrite(s + run, 1, i - run, fp);
		switch (c) {
		case '"': fputs("\\\"", fp); break;
		case '\\': fputs("\\\\", fp); break;
		case '\n': fputs("\\n", fp); break;
		case '\r': fputs("\\r", fp); break;
		case '\t': fputs("\\t", fp); break;
		case '\b': fputs("\\b", fp); break;
		case '\f': fputs("\\f", fp); break;
		default: put_u00(fp, c); break; /* other control chars, invalid UTF-8 bytes */
		}
		i++;
		run = i;
	}
	fwrite(s + run, 1, n - run, fp);
	putc('"', fp);
}

static int json_open_common(void **state, const char *final_path, const struct nfm_columns *cols,
			    bool lines, struct nfm_error *err)
{
	struct json_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", final_path);
	int rc = nfm_afile_open(&st->af, final_path, err);
	if (rc) {
		free(st);
		return rc;
	}
	st->cols = cols;
	st->lines = lines;
	*state = st;
	return 0;
}

static int json_open(void **state, const char *final_path, const struct nfm_columns *cols,
		     struct nfm_error *err)
{
	return json_open_common(state, final_path, cols, false, err);
}

static int jsonl_open(void **state, const char *final_path, const struct nfm_columns *cols,
		      struct nfm_error *err)
{
	return json_open_common(state, final_path, cols, true, err);
}

static int json_write(void *state, const struct nfm_flow_record *rec, struct nfm_error *err)
{
	struct json_state *st = state;
	FILE *fp = st->af.fp;
	if (!st->lines)
		fputs(st->rows ? ",\n" : "[\n", fp);
	putc('{', fp);
	for (size_t i = 0; i < st->cols->n; i++) {
		const struct nfm_field *f = st->cols->f[i];
		if (i)
			putc(',', fp);
		put_string(fp, f->name);
		putc(':', fp);
		f->get(rec, &st->v);
		switch (st->v.type) {
		case NFM_V_NULL:
			fputs("null", fp);
			break;
		case NFM_V_BOOL:
			fputs(st->v.b ? "true" : "false", fp);
			break;
		case NFM_V_STR:
			put_string(fp, st->v.s ? st->v.s : "");
			break;
		case NFM_V_TIME:
			nfm_value_format(&st->v, f->precision, st->buf, sizeof st->buf);
			put_string(fp, st->buf);
			break;
		case NFM_V_U64:
		case NFM_V_F64:
		default:
			fwrite(st->buf, 1, nfm_value_format(&st->v, f->precision, st->buf, sizeof st->buf), fp);
			break;
		}
	}
	putc('}', fp);
	if (st->lines)
		putc('\n', fp);
	if (ferror(fp))
		return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", st->af.final_path,
				     strerror(errno ? errno : EIO));
	st->rows++;
	return 0;
}

static int json_close(void *state, struct nfm_error *err)
{
	struct json_state *st = state;
	if (!st->lines)
		fputs(st->rows ? "\n]\n" : "[]\n", st->af.fp);
	int rc = nfm_afile_commit(&st->af, err);
	free(st);
	return rc;
}

static void json_abort(void *state)
{
	struct json_state *st = state;
	if (!st)
		return;
	nfm_afile_abort(&st->af);
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
