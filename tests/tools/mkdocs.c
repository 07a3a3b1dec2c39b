/* make docs: rewrites the generated part of a document, the lines between
 * "<!-- columns:begin -->" and "<!-- columns:end -->" of docs/columns.md, from the field
 * table. Usage: mkdocs FILE (written in place only when complete; exit 1 on error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature/columns_doc.h"
#include "util/outset.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkdocs docs/columns.md\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	char *doc = NULL;
	size_t len = 0;
	if (in) {
		doc = malloc(1 << 20);
		len = doc ? fread(doc, 1, (1 << 20) - 1, in) : 0;
		fclose(in);
	}
	if (!doc) {
		fprintf(stderr, "mkdocs: %s: cannot read\n", argv[1]);
		return 1;
	}
	doc[len] = '\0';
	static const char begin[] = "<!-- columns:begin -->\n", end[] = "<!-- columns:end -->";
	char *b = strstr(doc, begin), *e = strstr(doc, end);
	if (!b || !e || e < b) {
		fprintf(stderr, "mkdocs: %s: no columns:begin/end markers\n", argv[1]);
		free(doc);
		return 1;
	}
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_outfile *f = NULL;
	int rc = set ? nfm_outset_create(set, argv[1], NFM_OUT_STREAM, &f, &err) : -1;
	if (rc == 0) {
		fwrite(doc, 1, (size_t)(b - doc) + strlen(begin), f->fp);
		nfm_columns_doc(f->fp);
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
