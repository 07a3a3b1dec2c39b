/* The column reference of docs/columns.md, written from the field table and the known
 * modules' fields (make docs regenerates it; a test fails when it is stale). */
#include "feature/columns_doc.h"

#include <string.h>

#include "feature/fields.h"
#include "feature/modules.h"

static const char *type_name(const struct nfm_field *f, char *buf, size_t cap)
{
	switch (f->type) {
	case NFM_V_STR: return "text";
	case NFM_V_U64: return "integer";
	case NFM_V_F64: snprintf(buf, cap, "decimal (%d)", f->precision); return buf;
	case NFM_V_BOOL: return "boolean";
	case NFM_V_TIME: return "time";
	case NFM_V_ADDR: return "address";
	case NFM_V_PROTO: return "protocol";
	case NFM_V_TCPFLAGS: return "flags";
	case NFM_V_I64: return "integer";
	case NFM_V_LIST: return "list of integers";
	default: return "";
	}
}

/* Text in a Markdown table cell: "|" escaped. */
static void cell(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', fp);
		fputc(*s, fp);
	}
}

static void rows(FILE *fp, const struct nfm_field *f, size_t n)
{
	char tb[32];
	for (size_t i = 0; i < n; i++) {
		const char *unit = f[i].unit ? f[i].unit : "";
		fprintf(fp, "| `%s` | %s | %s%s| ", f[i].name, type_name(&f[i], tb, sizeof tb), unit,
			*unit ? " " : "");
		if (!(f[i].set & NFM_SET_BASE))
			fputs((f[i].set & NFM_SET_MERGE) ? "`--merge` only: " : "`--extended`: ", fp);
		cell(fp, f[i].desc);
		fputs(" |\n", fp);
	}
}

int nfm_columns_doc(FILE *fp)
{
	fputs("| name | type | unit | meaning |\n|---|---|---|---|\n", fp);
	size_t n;
	const struct nfm_field *f = nfm_fields(&n);
	rows(fp, f, n);
	const struct nfm_module *m;
	for (size_t i = 0; (m = nfm_module_at(i)); i++)
		rows(fp, m->fields, m->nfields);
	return ferror(fp) ? -1 : 0;
}
