/* Output files that appear only when complete: written under a temporary name in the
 * destination directory (same file system), renamed into place on commit, removed on
 * abort. Path "-" means standard output (commit flushes it; abort does nothing). */
#ifndef NFM_UTIL_ATOMIC_FILE_H
#define NFM_UTIL_ATOMIC_FILE_H

#include <stdio.h>

#include "util/err.h"

struct nfm_afile {
	FILE *fp;            /* write here */
	char *final_path;    /* owned */
	char *tmp_path;      /* owned; NULL for stdout */
	int is_stdout;
};

int nfm_afile_open(struct nfm_afile *af, const char *path, struct nfm_error *err);
/* Creates only the temporary name (fp is NULL): for libraries that open the file
 * themselves (libxlsxwriter). */
int nfm_afile_reserve(struct nfm_afile *af, const char *path, const char *suffix,
		      struct nfm_error *err);
/* Flushes, checks every write, closes, renames. Frees the names whatever the result. */
int nfm_afile_commit(struct nfm_afile *af, struct nfm_error *err);
void nfm_afile_abort(struct nfm_afile *af);

#endif
