/* Output sets (src/util/outset.c): nothing visible before the commit, all files in place
 * after it, previous files restored when a commit fails part-way, special files written
 * in place, links and directories refused. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfm_test.h"
#include "util/outset.h"

static void tmpdir(char *out, size_t cap)
{
	snprintf(out, cap, "/tmp/nfm_test_outset_XXXXXX");
	if (!mkdtemp(out))
		out[0] = '\0';
}

/* Entries of dir (hidden ones included). */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
}

static bool has(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *fp = fopen(path, "r");
	if (!fp)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return strcmp(buf, text) == 0;
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* Creates path in set and writes text into it. */
static struct nfm_outfile *write_file(struct nfm_outset *set, const char *path, const char *text)
{
	struct nfm_outfile *f = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	if (nfm_outset_create(set, path, NFM_OUT_STREAM, &f, &err) != 0) {
		fprintf(stderr, "create %s: %s\n", path, err.msg);
		return NULL;
	}
	fputs(text, f->fp);
	return f;
}

NFM_TEST(test_commit_together)
{
	char dir[64], a[128], b[128];
	tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	snprintf(a, sizeof a, "%s/a.txt", dir);
	snprintf(b, sizeof b, "%s/b.txt", dir);
	put(a, "old a");
	struct nfm_outset *set = nfm_outset_new(NULL, "test");
	struct nfm_outfile *fa = write_file(set, a, "new a");
	struct nfm_outfile *fb = write_file(set, b, "new b");
	CHECK(fa && fb);
	struct nfm_error err;
	nfm_error_clear(&err);
	CHECK(fa && nfm_outfile_finish(fa, &err) == 0);
	CHECK(fb && nfm_outfile_finish(fb, &err) == 0);
	CHECK(has(a, "old a")); /* nothing visible before the commit */
	CHECK_EQ_U(entries(dir), 1);
	CHECK_EQ_U(nfm_outset_commit(set, &err), 0);
	CHECK(has(a, "new a"));
	CHECK(has(b, "new b"));
	CHECK_EQ_U(entries(dir), 2); /* the previous a.txt is gone, nothing hidden left */
	nfm_outset_free(set);
	rm_rf(dir);
}

NFM_TEST(test_failed_commit_restores)
{
	char dir[64], a[128], b[128], c[128];
	tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	snprintf(a, sizeof a, "%s/a.txt", dir);
	snprintf(b, sizeof b, "%s/b.txt", dir);
	snprintf(c, sizeof c, "%s/c.txt", dir);
	put(a, "old a");
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_outfile *f[3] = { write_file(set, a, "new a"), write_file(set, b, "new b"),
				     write_file(set, c, "new c") };
	struct nfm_error err;
	nfm_error_clear(&err);
	for (int i = 0; i < 3; i++)
		CHECK(f[i] && nfm_outfile_finish(f[i], &err) == 0);
	/* c.txt becomes a directory while the run goes on: its commit step fails after a
	 * and b are in place, and both must be undone. */
	CHECK(mkdir(c, 0700) == 0);
	CHECK(nfm_outset_commit(set, &err) != 0);
	CHECK(strstr(err.msg, "c.txt") != NULL);
	CHECK(has(a, "old a"));
	struct stat st;
	CHECK(stat(b, &st) != 0 && errno == ENOENT);
	CHECK_EQ_U(entries(dir), 2); /* a.txt and the directory c.txt */
	nfm_outset_free(set);
	rm_rf(dir);
}

NFM_TEST(test_abort_and_finish_errors)
{
	char dir[64], a[128];
	tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	snprintf(a, sizeof a, "%s/a.txt", dir);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_outfile *fa = write_file(set, a, "data");
	CHECK(fa != NULL);
	struct nfm_error err;
	nfm_error_clear(&err);
	/* a file not finished cannot be committed */
	CHECK(nfm_outset_commit(set, &err) == NFM_ERR_INVALID);
	nfm_outset_abort(set);
	nfm_outset_abort(set); /* idempotent */
	CHECK_EQ_U(entries(dir), 0);
	nfm_outset_free(set);
	nfm_outset_free(NULL);

	/* a missing directory: an error naming the file */
	set = nfm_outset_new(NULL, NULL);
	struct nfm_outfile *f = NULL;
	CHECK(nfm_outset_create(set, "no/such/dir/x.csv", NFM_OUT_STREAM, &f, &err) != 0);
	CHECK(f == NULL && strstr(err.msg, "no/such/dir/x.csv") != NULL);
	CHECK(nfm_outset_create(set, "", NFM_OUT_STREAM, &f, &err) == NFM_ERR_INVALID);
	nfm_outset_free(set);
	rm_rf(dir);
}

NFM_TEST(test_refused_and_special)
{
	char dir[64], p[128], q[128];
	tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	struct nfm_error err;
	nfm_error_clear(&err);
	snprintf(p, sizeof p, "%s/target", dir);
	put(p, "x");
	snprintf(q, sizeof q, "%s/link", dir);
	CHECK(symlink("target", q) == 0);
	CHECK(nfm_out_check(q, &err) == NFM_ERR_INVALID && strstr(err.msg, "symbolic link"));
	snprintf(q, sizeof q, "%s/hard", dir);
	CHECK(link(p, q) == 0);
	CHECK(nfm_out_check(q, &err) == NFM_ERR_INVALID && strstr(err.msg, "hard links"));
	CHECK(nfm_out_check(dir, &err) == NFM_ERR_INVALID && strstr(err.msg, "directory"));
	snprintf(q, sizeof q, "%s/new", dir);
	CHECK(nfm_out_check(q, &err) == 0);
	CHECK(nfm_out_is_direct("-") && nfm_out_is_direct("/dev/stdout") &&
	      nfm_out_is_direct("/dev/fd/1") && nfm_out_is_direct("/dev/null"));
	CHECK(!nfm_out_is_direct(q) && !nfm_out_is_direct(p) && !nfm_out_is_direct("/dev/fd/x"));

	/* A device is written in place and stays a device. */
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_outfile *f = write_file(set, "/dev/null", "discarded");
	CHECK(f && f->direct);
	CHECK(f && nfm_outfile_finish(f, &err) == 0);
	CHECK(nfm_outset_commit(set, &err) == 0);
	nfm_outset_free(set);
	struct stat st;
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	rm_rf(dir);
}

NFM_TEST(test_registry_dirs)
{
	char dir[64], sub[160];
	tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	snprintf(sub, sizeof sub, "%s/x/y/z", dir);
	struct nfm_outreg *reg = nfm_outreg_new();
	struct nfm_error err;
	nfm_error_clear(&err);
	CHECK(nfm_outreg_mkdirs(reg, sub, &err) == 0);
	struct stat st;
	CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));
	char probe[200];
	snprintf(probe, sizeof probe, "%s/out.csv", sub);
	CHECK(nfm_outreg_probe(reg, probe, &err) == 0);
	CHECK_EQ_U(entries(sub), 0);
	/* A file where a directory must go. */
	snprintf(probe, sizeof probe, "%s/file", dir);
	put(probe, "x");
	char below[240];
	snprintf(below, sizeof below, "%s/d", probe);
	CHECK(nfm_outreg_mkdirs(reg, below, &err) != 0);
	nfm_outreg_free(reg); /* the created directories are empty: removed */
	snprintf(sub, sizeof sub, "%s/x", dir);
	CHECK(stat(sub, &st) != 0);
	rm_rf(dir);
}

NFM_TEST_MAIN_BEGIN()
	RUN(test_commit_together);
	RUN(test_failed_commit_restores);
	RUN(test_abort_and_finish_errors);
	RUN(test_refused_and_special);
	RUN(test_registry_dirs);
NFM_TEST_MAIN_END()
