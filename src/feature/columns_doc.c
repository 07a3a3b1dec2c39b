/* The column reference of docs/columns.md, written from the field table and the known
 * modules' fields, and the profile reference of docs/profiles.md, written from the
 * profile registry (make docs regenerates both; tests fail when they are stale). */
#include "feature/columns_doc.h"

#include <stdbool.h>
#include <string.h>

#include "feature/fields.h"
#include "feature/modules.h"
#include "feature/profiles.h"
#include "flow/meter.h"

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

/* Whether profile p writes field f. */
static bool profile_writes(const struct nfm_profile *p, const struct nfm_field *f)
{
	struct nfm_profile_spec spec = { .profile = p };
	struct nfm_layout layout;
	struct nfm_columns cols = { 0 };
	bool found = false;
	if (nfm_profile_build(&spec, &layout, &cols, NULL) == 0)
		for (size_t i = 0; i < cols.n && !found; i++)
			found = cols.f[i] == f;
	nfm_columns_free(&cols);
	return found;
}

static void rows(FILE *fp, const struct nfm_field *f, size_t n)
{
	char tb[32];
	for (size_t i = 0; i < n; i++) {
		const char *unit = f[i].unit ? f[i].unit : "";
		fprintf(fp, "| `%s` | %s | %s%s| ", f[i].name, type_name(&f[i], tb, sizeof tb), unit,
			*unit ? " " : "");
		if (f[i].set & NFM_SET_MERGE) {
			fputs("`--merge` only: ", fp);
		} else if (f[i].set & NFM_SET_EXT) {
			fputs("`--extended`: ", fp);
		} else if (!(f[i].set & NFM_SET_BASE)) {
			/* a field of no set: the profiles that write it */
			const struct nfm_profile *p;
			size_t k = 0;
			for (size_t j = 0; (p = nfm_profile_at(j)); j++)
				if (profile_writes(p, &f[i]))
					fprintf(fp, "%s`%s`", k++ ? ", " : "profiles ", p->name);
			fputs(k ? ": " : "`--columns` only: ", fp);
		}
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

/* ---- docs/profiles.md ---- */

static void timeout(FILE *fp, uint64_t ns)
{
	if (ns)
		fprintf(fp, "%.9g s", (double)ns / 1e9);
	else
		fputs("off", fp);
}

static int profile_section(FILE *fp, const struct nfm_profile *p)
{
	struct nfm_profile_spec spec = { .profile = p };
	struct nfm_layout layout;
	struct nfm_columns cols = { 0 };
	int rc = nfm_profile_build(&spec, &layout, &cols, NULL);
	if (rc)
		return rc;
	fprintf(fp, "\n## %s\n\n", p->name);
	fputs("* what: ", fp);
	cell(fp, p->desc);
	fputs("\n* feature modules: ", fp);
	if (!layout.n)
		fputs("none (the engine's fields only)", fp);
	for (size_t i = 0; i < layout.n; i++) {
		fprintf(fp, "%s`%s` (", i ? "; " : "", layout.mod[i]->name);
		cell(fp, layout.mod[i]->desc);
		fputc(')', fp);
	}
	fputs("\n* default timeouts: idle ", fp);
	timeout(fp, p->idle_timeout_ns);
	fputs(", active ", fp);
	timeout(fp, p->active_timeout_ns);
	if (p->timeouts_doc) {
		fputs(" (", fp);
		cell(fp, p->timeouts_doc);
		fputc(')', fp);
	}
	fprintf(fp, "\n* bytes per active flow: %zu\n* columns: %zu\n\n", nfm_meter_flow_bytes(&layout),
		cols.n);
	fputs("| # | column | field | type | unit | definition |\n|---|---|---|---|---|---|\n", fp);
	char tb[32];
	for (size_t i = 0; i < cols.n; i++) {
		const struct nfm_field *f = cols.f[i];
		fprintf(fp, "| %zu | `", i + 1);
		cell(fp, nfm_column_name(&cols, i));
		fprintf(fp, "` | `%s` | %s | %s | ", f->name, type_name(f, tb, sizeof tb),
			f->unit ? f->unit : "");
		cell(fp, f->desc);
		fputs(" |\n", fp);
	}
	nfm_columns_free(&cols);
	return 0;
}

int nfm_profiles_doc(FILE *fp)
{
	const struct nfm_profile *p;
	fputs("| profile | columns | what |\n|---|---|---|\n", fp);
	for (size_t i = 0; (p = nfm_profile_at(i)); i++) {
		size_t ncols, bytes;
		if (nfm_profile_size(p, &ncols, &bytes, NULL))
			return -1;
		fprintf(fp, "| [%s](#%s) | %zu | ", p->name, p->name, ncols);
		cell(fp, p->desc);
		fputs(" |\n", fp);
	}
	for (size_t i = 0; (p = nfm_profile_at(i)); i++)
		if (profile_section(fp, p))
			return -1;
	return ferror(fp) ? -1 : 0;
}
