/* --quick-preview: an aligned text table of a fixed, readable subset of the columns.
 * One header line, one rule of dashes, one line per record; widths fit the longest
 * cell, columns are two spaces apart, numbers right-aligned, text left-aligned, and no
 * line ends in a space. Two passes over the records (widths, then lines): no allocation. */
#include "export/exporter_impl.h"

#include <string.h>

static const char *const preview_names[] = {
	"src_ip", "src_port", "dst_ip", "dst_port", "protocol",
	"total_packets", "total_bytes", "duration_seconds", "connection_state",
};
#define NCOLS (sizeof preview_names / sizeof preview_names[0])

static bool numeric(const struct nfm_field *f)
{
	return f->type == NFM_V_U64 || f->type == NFM_V_F64;
}

/* Appends cell text to line at *pos, padded to width (not padded when left-aligned). */
static void put_cell(char *line, size_t cap, size_t *pos, const char *text, size_t width,
		     bool right)
{
	size_t len = strlen(text);
	size_t pad = width > len ? width - len : 0;
	if (*pos + pad + len + 1 > cap)
		return; /* cannot happen: cap covers every column at its widest */
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

static int emit(FILE *out, char *line, size_t pos)
{
	while (pos > 0 && line[pos - 1] == ' ')
		pos--;
	line[pos++] = '\n';
	return fwrite(line, 1, pos, out) == pos ? 0 : -1;
}

int nfm_preview_print(FILE *out, const struct nfm_flow_record *const *recs, size_t n)
{
	const struct nfm_field *f[NCOLS];
	size_t width[NCOLS];
	struct nfm_value v;
	char cell[sizeof v.buf + 64];
	/* Every cell fits in `cell`, so a line fits in NCOLS cells plus separators. */
	char line[NCOLS * (sizeof cell + 2) + 2];

	for (size_t c = 0; c < NCOLS; c++) {
		f[c] = nfm_field_find(preview_names[c]);
		if (!f[c])
			return -1;
		width[c] = strlen(f[c]->name);
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < NCOLS; c++) {
			f[c]->get(recs[i], &v);
			size_t len = nfm_value_format(&v, f[c]->precision, cell, sizeof cell);
			if (len > width[c])
				width[c] = len;
		}
	}

	int rc = 0;
	size_t pos = 0;
	for (size_t c = 0; c < NCOLS; c++) {
		if (c)
			put_cell(line, sizeof line, &pos, "", 2, false);
		put_cell(line, sizeof line, &pos, f[c]->name, width[c], numeric(f[c]));
	}
	rc |= emit(out, line, pos);

	size_t total = 0;
	for (size_t c = 0; c < NCOLS; c++)
		total += width[c] + (c ? 2 : 0);
	memset(line, '-', total);
	rc |= emit(out, line, total);

	for (size_t i = 0; i < n; i++) {
		pos = 0;
		for (size_t c = 0; c < NCOLS; c++) {
			f[c]->get(recs[i], &v);
			nfm_value_format(&v, f[c]->precision, cell, sizeof cell);
			if (c)
				put_cell(line, sizeof line, &pos, "", 2, false);
			put_cell(line, sizeof line, &pos, cell, width[c], numeric(f[c]));
		}
		rc |= emit(out, line, pos);
	}
	if (ferror(out))
		rc = -1;
	return rc ? -1 : 0;
}
