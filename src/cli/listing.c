#include "cli/listing.h"

#include <string.h>

#include "cli/msg.h"
#include "feature/nfstream.h"
#include "feature/profiles.h"

/* A timeout as --list-profiles shows it: "60 s", "0.5 s" or "off". */
static const char *timeout_text(uint64_t ns, char *buf, size_t cap)
{
	if (!ns)
		return "off";
	snprintf(buf, cap, "%.9g s", (double)ns / 1e9);
	return buf;
}

int nfm_cli_list_profiles(FILE *fp)
{
	fprintf(fp, "%-12s %7s %10s %10s %10s  %s\n", "profile", "columns", "bytes/flow", "idle",
		"active", "description");
	const struct nfm_profile *p;
	for (size_t i = 0; (p = nfm_profile_at(i)); i++) {
		size_t ncols, bytes;
		struct nfm_error err;
		nfm_error_clear(&err);
		if (nfm_profile_size(p, &ncols, &bytes, &err)) {
			nfm_msg("%s", err.msg);
			return 1;
		}
		char ib[32], ab[32];
		fprintf(fp, "%-12s %7zu %10zu %10s %10s  %s\n", p->name, ncols, bytes,
			timeout_text(p->idle_timeout_ns, ib, sizeof ib),
			timeout_text(p->active_timeout_ns, ab, sizeof ab), p->desc);
	}
	return 0;
}

int nfm_cli_list_columns(const struct nfm_cli *cli, FILE *fp)
{
	struct nfm_module splt;
	const struct nfm_module *more[1] = { &splt };
	struct nfm_profile_spec spec = { .profile = cli->profile, .columns = cli->columns,
					 .more = more, .nmore = cli->splt ? 1 : 0 };
	struct nfm_layout layout;
	struct nfm_columns cols = { 0 };
	struct nfm_error err;
	nfm_error_clear(&err);
	if ((cli->splt && nfm_mod_splt_init(&splt, cli->splt, &err)) ||
	    nfm_profile_build(&spec, &layout, &cols, &err)) {
		nfm_msg("%s", err.msg);
		return 1;
	}
	for (size_t i = 0; i < cols.n; i++) {
		const struct nfm_field *f = cols.f[i];
		const char *name = nfm_column_name(&cols, i);
		fprintf(fp, "%-24s  %-10s  %s", name, f->unit && *f->unit ? f->unit : "-", f->desc);
		if (strcmp(name, f->name) != 0)
			fprintf(fp, " [field %s]", f->name);
		fputc('\n', fp);
	}
	nfm_columns_free(&cols);
	return 0;
}
