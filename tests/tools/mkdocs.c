/* make docs: rewrites the generated part of each document given, the lines between
 * "<!-- NAME:begin -->" and "<!-- NAME:end -->", where NAME is columns (docs/columns.md:
 * the field table) or profiles (docs/profiles.md: the profile registry). Everything
 * outside the markers is kept as it is. Usage: mkdocs FILE... (each written in place
 * only when complete; exit 1 on error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature/columns_doc.h"
#include "util/outset.h"

static const struct part {
	const char *begin, *end;
	int (*write)(FILE *fp);
} parts[] = {
	{ "<!-- columns:begin -->\n", "<!-- columns:end -->", nfm_columns_doc },
	{ "<!-- profiles:begin -->\n", "<!-- profiles:end -->", nfm_profiles_doc },
};

static int regenerate(const char *path)
{
	FILE *in = fopen(path, "r");
	char *doc = NULL;
	size_t len = 0;
	if (in) {
		doc = malloc(1 << 20);
		len = doc ? fread(doc, 1, (1 << 20) - 1, in) : 0;
		fclose(in);
	}
	if (!doc) {
		fprintf(stderr, "mkdocs: %s: cannot read\n", path);
		return 1;
	}
	doc[len] = '\0';
	const struct part *pt = NULL;
	char *b = NULL, *e = NULL;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0] && !pt; i++) {
		b = strstr(doc, parts[i].begin);
		e = strstr(doc, parts[i].end);
		if (b || e)
			pt = &parts[i];
	}
	if (!pt || !b || !e || e < b) {
		fprintf(stderr, "mkdocs: %s: no columns:begin/end or profiles:begin/end markers\n", path);
		free(doc);
		return 1;
	}
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_outfile *f = NULL;
	int rc = set ? nfm_outset_create(set, path, NFM_OUT_STREAM, &f, &err) : -1;
	if (rc == 0) {
		fwrite(doc, 1, (size_t)(b - doc) + strlen(pt->begin), f->fp);
		if (pt->write(f->fp) != 0) {
			nfm_error_set(&err, NFM_ERR_INVALID, "%s: the generated part cannot be written", path);
			rc = -1;
			nfm_outfile_discard(f);
		}
	}
	if (rc == 0) {
		fputs(e, f->fp);
		rc = nfm_outfile_finish(f, &err);
	}
	if (rc == 0)
		rc = nfm_outset_commit(set, &err);
	if (rc)
		fprintf(stderr, "mkdocs: %s\n", err.msg[0] ? err.msg : "out of memory");
	nfm_outset_free(set);
	free(doc);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mkdocs docs/columns.md docs/profiles.md\n");
		return 2;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= regenerate(argv[i]);
	return rc;
}
