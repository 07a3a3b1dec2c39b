#include "util/atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static void free_names(struct nfm_afile *af)
{
	free(af->final_path);
	free(af->tmp_path);
	af->final_path = af->tmp_path = NULL;
}

static mode_t current_umask(void)
{
	mode_t mask = 022;
	FILE *fp = fopen("/proc/self/status", "r");
	if (!fp)
		return mask;
	char line[128];
	while (fgets(line, sizeof line, fp)) {
		unsigned m;
		if (sscanf(line, "Umask: %o", &m) == 1) {
			mask = (mode_t)(m & 0777);
			break;
		}
	}
	fclose(fp);
	return mask;
}

/* Makes "<dir>/.<base>.<suffix>XXXXXX" beside path, creates it with mkstemps. */
static int make_tmp(struct nfm_afile *af, const char *path, const char *suffix, int *fd_out,
		    struct nfm_error *err)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
	const char *base = slash ? slash + 1 : path;
	size_t suflen = suffix ? strlen(suffix) : 0;
	size_t cap = strlen(path) + suflen + 16;
	char *tmp = malloc(cap);
	if (!tmp)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	snprintf(tmp, cap, "%.*s.%s.XXXXXX%s", (int)dirlen, path, base, suffix ? suffix : "");
	int fd = mkstemps(tmp, (int)suflen);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot create output: %s", path, strerror(e));
	}
	/* mkstemps creates the file 0600; give the output the mode a plain create would
	 * (0666 less the umask), read from /proc since umask(2) cannot be read without
	 * changing it for every thread. */
	(void)fchmod(fd, 0666 & ~current_umask());
	af->tmp_path = tmp;
	*fd_out = fd;
	return 0;
}

int nfm_afile_open(struct nfm_afile *af, const char *path, struct nfm_error *err)
{
	memset(af, 0, sizeof *af);
	af->final_path = dup_str(path);
	if (!af->final_path)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	if (strcmp(path, "-") == 0) {
		af->is_stdout = 1;
		af->fp = stdout;
		return 0;
	}
	int fd;
	int rc = make_tmp(af, path, NULL, &fd, err);
	if (rc) {
		free_names(af);
		return rc;
	}
	af->fp = fdopen(fd, "w");
	if (!af->fp) {
		int e = errno;
		close(fd);
		unlink(af->tmp_path);
		free_names(af);
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot open output: %s", path, strerror(e));
	}
	/* Large buffer: fewer write calls, and formatting stays in user space. */
	setvbuf(af->fp, NULL, _IOFBF, 1 << 20);
	return 0;
}

int nfm_afile_reserve(struct nfm_afile *af, const char *path, const char *suffix,
		      struct nfm_error *err)
{
	memset(af, 0, sizeof *af);
	af->final_path = dup_str(path);
	if (!af->final_path)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	int fd;
	int rc = make_tmp(af, path, suffix, &fd, err);
	if (rc) {
		free_names(af);
		return rc;
	}
	close(fd);
	return 0;
}

int nfm_afile_commit(struct nfm_afile *af, struct nfm_error *err)
{
	int rc = 0;
	if (af->fp) {
		int bad = ferror(af->fp);
		int e = bad ? EIO : 0;
		if (fflush(af->fp) != 0) {
			bad = 1;
			e = errno;
		}
		if (!af->is_stdout && fclose(af->fp) != 0 && !bad) {
			bad = 1;
			e = errno;
		}
		af->fp = NULL;
		if (bad) {
			rc = nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", af->final_path,
					   strerror(e ? e : EIO));
			if (af->tmp_path)
				unlink(af->tmp_path);
			free_names(af);
			return rc;
		}
	}
	if (af->tmp_path && rename(af->tmp_path, af->final_path) != 0) {
		int e = errno;
		rc = nfm_error_set(err, NFM_ERR_IO, "%s: cannot rename output into place: %s",
				   af->final_path, strerror(e));
		unlink(af->tmp_path);
	}
	free_names(af);
	return rc;
}

void nfm_afile_abort(struct nfm_afile *af)
{
	if (af->fp && !af->is_stdout)
		fclose(af->fp);
	else if (af->fp)
		fflush(af->fp);
	af->fp = NULL;
	if (af->tmp_path)
		unlink(af->tmp_path);
	free_names(af);
}
