/* XLSX: an Office Open XML workbook streamed through the project's ZIP writer
 * (util/zip_writer.h). Rows are formatted into a buffer and deflated straight into the
 * output as they come; closing adds only the small parts that list the sheets and the
 * ZIP central directory. No temporary file, nothing printed, constant memory, and the
 * output is written strictly in order (a FIFO or a device works).
 *
 * Content: sheet "flows", then "flows_2", "flows_3", ... each with the header row (bold)
 * and up to 1,048,575 data rows (Excel's 1,048,576 rows per sheet). Numbers are numbers
 * (doubles as the text formats print them, rounded to the field's precision), times are
 * Excel date-times (days since 1899-12-30, UTC) shown as yyyy-mm-dd hh:mm:ss.000,
 * booleans are booleans, NULL and the empty string are blank (omitted) cells. Text is
 * an inline string, never a formula: text a spreadsheet user could mistake for a formula
 * gets the same apostrophe prefix as CSV; characters XML 1.0 does not allow become a
 * space; bytes that are not well-formed UTF-8 become their Latin-1 characters; a literal
 * "_xHHHH_" is escaped so that Excel does not decode it; text is cut at Excel's 32,767
 * characters per cell. */
#include "export/exporter_impl.h"

#include <stdlib.h>
#include <string.h>

#include "util/fmt.h"
#include "util/zip_writer.h"

/* zlib level 1. Measured on 220,079 flows (34 columns, a 264 MB sheet), whole
 * conversion: level 1 3.5 s and 46.0 MB, level 3 4.2 s and 41.6 MB, level 6 11.7 s and
 * 35.1 MB; CSV of the same takes 1.2 s. Deflate is most of the time at any level. */
#define XLSX_LEVEL 1
#define XLSX_OUT_CAP (64 * 1024)
#define XLSX_CELL_ROOM 640    /* any non-text cell with its markup (a printf'd double < 330) */
#define XLSX_TEXT_ROOM 8      /* the most one input character becomes ("_x005F_") */
#define XLSX_ROWS 1048576u    /* rows per sheet, header included */
#define XLSX_MAX_CHARS 32767u /* characters per cell (UTF-16 units) */

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define NS_MAIN "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define NS_REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define NS_PKG_REL "http://schemas.openxmlformats.org/package/2006/relationships"
#define CT_SHEET "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

struct xlsx_state {
	struct nfm_zip *zip;
	struct nfm_outfile *out;
	const struct nfm_columns *cols;
	char (*ref)[4];           /* column letters: "A" .. "XFD" (set up by open) */
	struct nfm_buf header;    /* the header row's cells (set up by open) */
	unsigned sheets;          /* sheets started */
	uint32_t row;             /* number of the next row of the current sheet */
	int rc;                   /* first failure, message in err */
	struct nfm_error err;
	size_t len;               /* bytes pending in out */
	char outbuf[XLSX_OUT_CAP];
};

/* Encoded cells hold this byte where the row number goes (a row's number is known only
 * when it is written); text never holds it (control characters become spaces). */
#define ROW_MARK '\x01'

/* ---- the output buffer ---- */

static void flush_out(struct xlsx_state *st)
{
	if (st->len && !st->rc)
		st->rc = nfm_zip_write(st->zip, st->outbuf, st->len, &st->err);
	st->len = 0;
}

static void add(struct xlsx_state *st, const char *s, size_t n)
{
	while (n) {
		if (st->len == XLSX_OUT_CAP)
			flush_out(st);
		size_t k = XLSX_OUT_CAP - st->len < n ? XLSX_OUT_CAP - st->len : n;
		memcpy(st->outbuf + st->len, s, k);
		st->len += k;
		s += k;
		n -= k;
	}
}

#define ADD(st, lit) add((st), lit, sizeof lit - 1)

/* ---- text ---- */

static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>' && c != '_';
}

/* U+FFFE or U+FFFF at u (3 bytes): written as a space. */
static bool nonchar(const unsigned char *u)
{
	return u[0] == 0xEF && u[1] == 0xBF && u[2] >= 0xBE;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Writes the character at u[*i] that plain() refused (room for XLSX_TEXT_ROOM bytes at
 * d); advances *i past it and returns the bytes written. */
static size_t put_special(char *d, const unsigned char *u, size_t n, size_t *i)
{
	unsigned c = u[*i];
	if (c >= 0x80) {
		size_t len = nfm_utf8_seq_len(u + *i, n - *i);
		if (len == 0) { /* not UTF-8: the byte's Latin-1 character */
			d[0] = (char)(0xC0 | (c >> 6));
			d[1] = (char)(0x80 | (c & 0x3F));
			*i += 1;
			return 2;
		}
		*i += len;
		if (len == 3 && nonchar(u + *i - 3)) {
			d[0] = ' '; /* U+FFFE, U+FFFF: not XML 1.0 characters */
			return 1;
		}
		memcpy(d, u + *i - len, len);
		return len;
	}
	*i += 1;
	switch (c) {
	case '&': memcpy(d, "&amp;", 5); return 5;
	case '<': memcpy(d, "&lt;", 4); return 4;
	case '>': memcpy(d, "&gt;", 4); return 4;
	case '\r': memcpy(d, "&#13;", 5); return 5; /* a raw CR would be read as LF */
	case '\t':
	case '\n': d[0] = (char)c; return 1;
	case '_':
		/* Excel reads "_xHHHH_" as the character U+HHHH; "_x005F_" is its escape for
		 * the underscore, which keeps the text as it is. */
		if (n - *i >= 6 && u[*i] == 'x' && is_hex(u[*i + 1]) && is_hex(u[*i + 2]) &&
		    is_hex(u[*i + 3]) && is_hex(u[*i + 4]) && u[*i + 5] == '_') {
			memcpy(d, "_x005F_", 7);
			return 7;
		}
		d[0] = '_';
		return 1;
	default: d[0] = ' '; return 1; /* other control characters: not allowed in XML 1.0 */
	}
}

/* The bytes of u[0..n) that fit Excel's characters per cell after `used` characters. */
static size_t excel_cut(const unsigned char *u, size_t n, size_t used)
{
	size_t i = 0;
	while (i < n) {
		size_t len = u[i] < 0x80 ? 1 : nfm_utf8_seq_len(u + i, n - i);
		size_t w = len == 4 ? 2 : 1; /* beyond U+FFFF: a UTF-16 surrogate pair */
		if (used + w > XLSX_MAX_CHARS)
			break;
		used += w;
		i += len ? len : 1;
	}
	return i;
}

/* Text content at the end of b (room for it reserved by the caller). */
static void add_text(struct nfm_buf *b, const unsigned char *u, size_t n)
{
	char *d = (char *)b->p + b->len;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && plain(u[j]))
			j++;
		memcpy(d, u + i, j - i);
		d += j - i;
		i = j;
		if (i < n)
			d += put_special(d, u, n, &i);
	}
	b->len = (size_t)((uint8_t *)d - b->p);
}

/* ---- cells and rows ---- */

/* Starts a cell at the end of b: `<c r="B\x01"` (ROW_MARK stands for the row number),
 * with room for XLSX_CELL_ROOM bytes; NULL when memory is exhausted. */
static char *cell(struct nfm_buf *b, const char *ref)
{
	char *d = (char *)nfm_buf_room(b, XLSX_CELL_ROOM);
	if (!d)
		return NULL;
	memcpy(d, "<c r=\"", 6);
	d += 6;
	for (const char *r = ref; *r; r++)
		*d++ = *r;
	*d++ = ROW_MARK;
	*d++ = '"';
	return d;
}

static void cell_done(struct nfm_buf *b, char *d)
{
	b->len = (size_t)((uint8_t *)d - b->p);
}

static int text_cell(struct nfm_buf *b, const char *ref, const char *s, bool bold)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	bool prefix = nfm_formula_risky(s);
	if (n + prefix > XLSX_MAX_CHARS)
		n = excel_cut(u, n, prefix);
	/* Leading or trailing white space is kept only when marked so. */
	bool keep = n && ((!prefix && (u[0] <= ' ' || (n >= 3 && nonchar(u)))) ||
			  u[n - 1] <= ' ' || (n >= 3 && nonchar(u + n - 3)));
	char *d = cell(b, ref);
	if (!d)
		return -1;
	static const char head_bold[] = " s=\"1\" t=\"inlineStr\"><is><t";
	static const char head[] = " t=\"inlineStr\"><is><t";
	static const char preserve[] = " xml:space=\"preserve\"";
	if (bold) {
		memcpy(d, head_bold, sizeof head_bold - 1);
		d += sizeof head_bold - 1;
	} else {
		memcpy(d, head, sizeof head - 1);
		d += sizeof head - 1;
	}
	if (keep) {
		memcpy(d, preserve, sizeof preserve - 1);
		d += sizeof preserve - 1;
	}
	*d++ = '>';
	if (prefix)
		*d++ = '\'';
	cell_done(b, d);
	if (!nfm_buf_room(b, n * XLSX_TEXT_ROOM + 16))
		return -1;
	add_text(b, u, n);
	return nfm_buf_put(b, "</t></is></c>", 13);
}

/* Excel date-time: days since 1899-12-30 (UTC) = 25569 + microseconds / 86400e6, to
 * 12 decimals (finer than a double's step at these magnitudes), trailing zeros dropped.
 * Integer arithmetic: exact, and no printf per cell. */
static size_t put_days(char *d, uint64_t ns)
{
	const uint64_t day = 86400000000u; /* microseconds */
	uint64_t us = ns / 1000u;          /* what the text formats show */
	uint64_t days = 25569u + us / day;
	uint64_t a = us % day * 1000000u;  /* < 2^57 */
	uint64_t hi = a / day;             /* first 6 decimals */
	uint64_t lo = (a % day * 1000000u + day / 2) / day; /* next 6, rounded */
	if (lo == 1000000u) {
		lo = 0;
		if (++hi == 1000000u) {
			hi = 0;
			days++;
		}
	}
	size_t n = nfm_fmt_u64(d, days);
	uint64_t frac = hi * 1000000u + lo;
	if (frac) {
		char digits[12];
		for (int k = 11; k >= 0; k--, frac /= 10)
			digits[k] = (char)('0' + frac % 10);
		size_t keep = 12;
		while (digits[keep - 1] == '0')
			keep--;
		d[n++] = '.';
		memcpy(d + n, digits, keep);
		n += keep;
	}
	return n;
}

/* A number cell: `<c r="B7"[ s="2"]><v>...</v></c>`, or t="b" for a boolean. */
static int value_cell(struct nfm_buf *b, const char *ref, const struct nfm_value *v,
		      const struct nfm_field *f)
{
	char *d = cell(b, ref);
	if (!d)
		return -1;
	switch (v->type) {
	case NFM_V_TIME:
		memcpy(d, " s=\"2\"><v>", 10);
		d += 10;
		d += put_days(d, v->u);
		break;
	case NFM_V_BOOL:
		memcpy(d, " t=\"b\"><v>", 10);
		d += 10;
		*d++ = v->b ? '1' : '0';
		break;
	default: { /* NFM_V_U64, NFM_V_I64, NFM_V_F64: the digits the text formats print */
		memcpy(d, "><v>", 4);
		d += 4;
		size_t n = nfm_value_format(v, f->precision, d, XLSX_CELL_ROOM - 64);
		if (n > 24) {
			/* Only a double beyond 2^63 / 10^precision: its 17 significant digits. */
			n = (size_t)snprintf(d, XLSX_CELL_ROOM - 64, "%.17g", strtod(d, NULL));
		}
		d += n;
		break;
	}
	}
	memcpy(d, "</v></c>", 8);
	cell_done(b, d + 8);
	return 0;
}

/* A row: `<row r="N">`, the cells with N for ROW_MARK, `</row>`. */
static void put_row(struct xlsx_state *st, const uint8_t *cells, size_t len)
{
	char num[12];
	size_t nl = nfm_fmt_u64(num, st->row);
	ADD(st, "<row r=\"");
	add(st, num, nl);
	ADD(st, "\">");
	const char *p = (const char *)cells, *end = p + len;
	while (p < end) {
		const char *m = memchr(p, ROW_MARK, (size_t)(end - p));
		size_t k = m ? (size_t)(m - p) : (size_t)(end - p);
		add(st, p, k);
		if (!m)
			break;
		add(st, num, nl);
		p = m + 1;
	}
	ADD(st, "</row>");
	st->row++;
}

/* ---- parts ---- */

static void begin_part(struct xlsx_state *st, const char *name)
{
	flush_out(st);
	if (!st->rc)
		st->rc = nfm_zip_begin(st->zip, name, &st->err);
}

static void end_part(struct xlsx_state *st)
{
	flush_out(st);
	if (!st->rc)
		st->rc = nfm_zip_end(st->zip, &st->err);
}

static void add_str(struct xlsx_state *st, const char *s)
{
	add(st, s, strlen(s));
}

static void add_num(struct xlsx_state *st, unsigned n)
{
	char buf[12];
	add(st, buf, nfm_fmt_u64(buf, n));
}

static void begin_sheet(struct xlsx_state *st)
{
	char name[48];
	snprintf(name, sizeof name, "xl/worksheets/sheet%u.xml", ++st->sheets);
	begin_part(st, name);
	ADD(st, XML_DECL "<worksheet xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\">"
		"<sheetViews><sheetView ");
	if (st->sheets == 1)
		ADD(st, "tabSelected=\"1\" ");
	ADD(st, "workbookViewId=\"0\"/></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/>"
		"<sheetData>");
	st->row = 1;
	put_row(st, st->header.p, st->header.len);
}

static void end_sheet(struct xlsx_state *st)
{
	ADD(st, "</sheetData></worksheet>");
	end_part(st);
}

/* Styles: 0 default, 1 bold (header), 2 date-time. No theme: fonts are named. */
static const char styles_xml[] =
	XML_DECL "<styleSheet xmlns=\"" NS_MAIN "\">"
	"<numFmts count=\"1\"><numFmt numFmtId=\"164\" formatCode=\"yyyy-mm-dd hh:mm:ss.000\"/>"
	"</numFmts><fonts count=\"2\">"
	"<font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>"
	"<font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>"
	"<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>"
	"<fill><patternFill patternType=\"gray125\"/></fill></fills>"
	"<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"
	"<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/>"
	"</cellStyleXfs><cellXfs count=\"3\">"
	"<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"
	"<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>"
	"<xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" "
	"applyNumberFormat=\"1\"/></cellXfs>"
	"<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/>"
	"</cellStyles></styleSheet>";

static const char root_rels_xml[] =
	XML_DECL "<Relationships xmlns=\"" NS_PKG_REL "\">"
	"<Relationship Id=\"rId1\" Type=\"" NS_REL "/officeDocument\" Target=\"xl/workbook.xml\"/>"
	"</Relationships>";

static void fixed_part(struct xlsx_state *st, const char *name, const char *xml)
{
	begin_part(st, name);
	add_str(st, xml);
	end_part(st);
}

/* The parts that list the sheets, written when their number is known. */
static void workbook_parts(struct xlsx_state *st)
{
	begin_part(st, "xl/workbook.xml");
	ADD(st, XML_DECL "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\">"
		"<bookViews><workbookView activeTab=\"0\"/></bookViews><sheets>");
	for (unsigned i = 1; i <= st->sheets; i++) {
		ADD(st, "<sheet name=\"flows");
		if (i > 1) {
			ADD(st, "_");
			add_num(st, i);
		}
		ADD(st, "\" sheetId=\"");
		add_num(st, i);
		ADD(st, "\" r:id=\"rId");
		add_num(st, i);
		ADD(st, "\"/>");
	}
	ADD(st, "</sheets></workbook>");
	end_part(st);

	begin_part(st, "xl/_rels/workbook.xml.rels");
	ADD(st, XML_DECL "<Relationships xmlns=\"" NS_PKG_REL "\">");
	for (unsigned i = 1; i <= st->sheets; i++) {
		ADD(st, "<Relationship Id=\"rId");
		add_num(st, i);
		ADD(st, "\" Type=\"" NS_REL "/worksheet\" Target=\"worksheets/sheet");
		add_num(st, i);
		ADD(st, ".xml\"/>");
	}
	ADD(st, "<Relationship Id=\"rId");
	add_num(st, st->sheets + 1);
	ADD(st, "\" Type=\"" NS_REL "/styles\" Target=\"styles.xml\"/></Relationships>");
	end_part(st);

	begin_part(st, "[Content_Types].xml");
	ADD(st, XML_DECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
		"<Default Extension=\"rels\" "
		"ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
		"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
		"<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/"
		"vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
		"<Override PartName=\"/xl/styles.xml\" ContentType=\"application/"
		"vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>");
	for (unsigned i = 1; i <= st->sheets; i++) {
		ADD(st, "<Override PartName=\"/xl/worksheets/sheet");
		add_num(st, i);
		ADD(st, ".xml\" ContentType=\"" CT_SHEET "\"/>");
	}
	ADD(st, "</Types>");
	end_part(st);
}

/* ---- the exporter ---- */

static void free_state(struct xlsx_state *st)
{
	nfm_zip_free(st->zip);
	nfm_buf_free(&st->header);
	free(st->ref);
	free(st);
}

static int failure(struct xlsx_state *st, struct nfm_error *err)
{
	if (err)
		*err = st->err;
	return st->rc;
}

/* Worker side: the flow's cells (NULL and empty text are blank: no cell). */
static int xlsx_encode(const void *state, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct xlsx_state *st = state;
	struct nfm_value v;
	for (size_t i = 0; i < st->cols->n; i++) {
		const struct nfm_field *f = st->cols->f[i];
		nfm_column_get(st->cols, i, rec, &v);
		int rc = 0;
		if (v.type == NFM_V_NULL)
			continue;
		if (v.type == NFM_V_STR) {
			if (v.s && *v.s)
				rc = text_cell(row, st->ref[i], v.s, false);
		} else if (v.type == NFM_V_ADDR || v.type == NFM_V_PROTO || v.type == NFM_V_TCPFLAGS) {
			char text[64];
			nfm_value_format(&v, f->precision, text, sizeof text);
			rc = text_cell(row, st->ref[i], text, false);
		} else if (v.type == NFM_V_LIST) { /* a text cell, as the CSV shows it */
			char text[NFM_LIST_TEXT_MAX + 1];
			nfm_value_format(&v, 0, text, sizeof text);
			rc = text_cell(row, st->ref[i], text, false);
		} else {
			rc = value_cell(row, st->ref[i], &v, f);
		}
		if (rc)
			return -1;
	}
	return 0;
}

static int xlsx_write(void *state, const uint8_t *row, size_t len, struct nfm_error *err)
{
	struct xlsx_state *st = state;
	if (st->row > XLSX_ROWS) {
		end_sheet(st);
		begin_sheet(st);
	}
	put_row(st, row, len);
	return st->rc ? failure(st, err) : 0;
}

static int xlsx_open(void **state, const struct nfm_export_dest *dest,
		     const struct nfm_columns *cols, struct nfm_error *err)
{
	struct xlsx_state *st = calloc(1, sizeof *st);
	if (!st || !(st->ref = calloc(cols->n ? cols->n : 1, sizeof *st->ref))) {
		free(st);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
	}
	st->cols = cols;
	int rc = 0;
	for (size_t i = 0; i < cols->n && rc == 0; i++) {
		char *r = st->ref[i];
		size_t c = i;
		char tmp[4];
		size_t k = 0;
		do { /* bijective base 26: A..Z, AA..ZZ, AAA..XFD */
			tmp[k++] = (char)('A' + c % 26);
			c = c / 26;
		} while (c-- && k < 3);
		while (k)
			*r++ = tmp[--k];
		*r = '\0';
		rc = text_cell(&st->header, st->ref[i], nfm_column_name(cols, i), true);
	}
	if (rc) {
		free_state(st);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
	}
	rc = nfm_outset_create(dest->set, dest->path, NFM_OUT_STREAM, &st->out, err);
	if (rc) {
		free_state(st);
		return rc;
	}
	struct nfm_zip_options opt = { .level = XLSX_LEVEL };
	rc = nfm_zip_open(&st->zip, st->out->fp, st->out->path, &opt, err);
	if (rc) {
		nfm_outfile_discard(st->out);
		free_state(st);
		return rc;
	}
	/* A package part first and an xl/ part next: what file(1) and other MIME sniffers
	 * read to tell a workbook from any ZIP. The parts that list the sheets come last. */
	fixed_part(st, "_rels/.rels", root_rels_xml);
	fixed_part(st, "xl/styles.xml", styles_xml);
	begin_sheet(st);
	flush_out(st);
	if (st->rc) {
		rc = failure(st, err);
		nfm_outfile_discard(st->out);
		free_state(st);
		return rc;
	}
	*state = st;
	return 0;
}

static int xlsx_close(void *state, struct nfm_error *err)
{
	struct xlsx_state *st = state;
	end_sheet(st);
	workbook_parts(st);
	if (!st->rc)
		st->rc = nfm_zip_finish(st->zip, &st->err);
	int rc = st->rc ? failure(st, err) : nfm_outfile_finish(st->out, err);
	free_state(st);
	return rc;
}

static void xlsx_abort(void *state)
{
	struct xlsx_state *st = state;
	if (!st)
		return;
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
	.open = xlsx_open,
	.encode = xlsx_encode,
	.write = xlsx_write,
	.close = xlsx_close,
	.abort = xlsx_abort,
};
