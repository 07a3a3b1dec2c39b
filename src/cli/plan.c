/* The plan of a run (plan.h): names of every output, and the checks that keep a run from
 * touching a file it must not. */
#include "cli/plan.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/msg.h"

/* ---- names ---- */

static char *join_path(const char *dir, const char *name)
{
	size_t dl = strlen(dir), n = dl + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", dir, (dl && dir[dl - 1] == '/') ? "" : "/", name);
	return p;
}

static char *str_cat(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", a, b, c);
	return p;
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Capture extensions recognised by -d, outermost compression first. */
static size_t capture_suffix_len(const char *name)
{
	static const char *const comp[] = { ".gz", ".zst", ".zstd", "" };
	static const char *const ext[] = { ".pcap", ".pcapng", ".cap" };
	size_t n = strlen(name);
	for (size_t c = 0; c < sizeof comp / sizeof comp[0]; c++) {
		size_t cl = strlen(comp[c]);
		if (n < cl || strcasecmp(name + n - cl, comp[c]) != 0)
			continue;
		for (size_t e = 0; e < sizeof ext / sizeof ext[0]; e++) {
			size_t el = strlen(ext[e]);
			if (n > cl + el && strncasecmp(name + n - cl - el, ext[e], el) == 0)
				return cl + el;
		}
	}
	return 0;
}

/* Last component of path without its capture or output extension. */
static char *stem_of(const char *path)
{
	const char *base = base_of(path);
	size_t n = strlen(base);
	size_t cut = capture_suffix_len(base);
	if (!cut) {
		const char *dot = strrchr(base, '.');
		if (dot && dot != base)
			cut = (size_t)(base + n - dot);
	}
	return strndup(base, n - cut);
}

/* Reports go beside the output, named after it; when the output is written in place
 * (standard output, a device, a FIFO) they go to the current directory named after the
 * input. --report-dir overrides the directory. */
static char *report_base_for(const struct nfm_cli *cli, const char *output, const char *input)
{
	bool direct = nfm_out_is_direct(output);
	const char *named = direct ? input : output;
	if (strcmp(named, "-") == 0)
		named = "stdin";
	char *stem = stem_of(named);
	/* A long output name still gets its reports: the stem is shortened (at a character
	 * boundary) so that STEM_report.json fits in a file name. */
	size_t room = NAME_MAX - strlen("_report.json");
	if (stem && strlen(stem) > room) {
		while (room && ((unsigned char)stem[room] & 0xC0) == 0x80)
			room--;
		stem[room] = '\0';
	}
	char *name = stem ? str_cat(stem, "_report", "") : NULL;
	free(stem);
	if (!name || (!cli->report_dir && (direct || !strchr(output, '/'))))
		return name; /* the current directory */
	char *dir = cli->report_dir ? strdup(cli->report_dir) : nfm_path_dir(output);
	char *base = dir ? join_path(dir, name) : NULL;
	free(dir);
	free(name);
	return base;
}

/* ---- identities ---- */

/* What a path names: the device and inode of the file, or of its nearest existing
 * directory plus the rest of the path (normalised) when it does not exist yet. Two
 * spellings of one file, however written, get equal identities. */
struct path_id {
	dev_t dev;
	ino_t ino;
	char *rest;
};

static int id_of(const char *path, struct path_id *id)
{
	id->rest = NULL;
	char *p = strdup(path);
	size_t cap = strlen(path) + 2, nparts = 0;
	const char **parts = malloc(cap * sizeof *parts); /* components past p, last first */
	char *keep = strdup(path);                         /* storage for the components */
	if (!p || !parts || !keep)
		goto fail;
	struct stat st;
	for (;;) {
		size_t n = strlen(p);
		while (n > 1 && p[n - 1] == '/')
			p[--n] = '\0';
		if (stat(p, &st) == 0)
			break;
		if ((errno != ENOENT && errno != ENOTDIR) || strcmp(p, ".") == 0 ||
		    strcmp(p, "/") == 0)
			goto fail;
		char *slash = strrchr(p, '/');
		const char *comp = slash ? slash + 1 : p;
		parts[nparts++] = keep + (comp - p);
		keep[(comp - p) + strlen(comp)] = '\0';
		if (!slash) {
			p[0] = '.';
			p[1] = '\0';
		} else if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	/* Join the components first to last, dropping "." and resolving "..". */
	char *rest = calloc(1, strlen(path) + 1);
	if (!rest)
		goto fail;
	size_t len = 0;
	for (size_t i = nparts; i-- > 0;) {
		const char *c = parts[i];
		if (!*c || strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0 && len) {
			char *cut = strrchr(rest, '/');
			len = cut ? (size_t)(cut - rest) : 0;
			rest[len] = '\0';
			continue;
		}
		if (len)
			rest[len++] = '/';
		memcpy(rest + len, c, strlen(c) + 1);
		len += strlen(c);
	}
	id->rest = rest;
	free(p);
	free(parts);
	free(keep);
	return 0;
fail:
	free(p);
	free(parts);
	free(keep);
	return -1;
}

/* The regular file behind a descriptor (standard input or output), if any. */
static bool id_of_fd(int fd, struct path_id *id)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->rest = strdup("");
	return id->rest != NULL;
}

struct claim {
	struct path_id id;
	char *what;         /* for messages: "the input a.pcap", "the output x.csv", ... */
};

/* Everything the run reads or writes, found by identity through a hash index. */
struct claims {
	struct claim *v;
	size_t n, cap;
	uint32_t *slot;     /* index + 1, 0 = empty */
	size_t nslots;
};

static uint64_t id_hash(const struct path_id *id)
{
	uint64_t h = (uint64_t)id->dev * 0x9e3779b97f4a7c15ULL ^ (uint64_t)id->ino * 0xc2b2ae3d27d4eb4fULL;
	for (const unsigned char *s = (const unsigned char *)id->rest; *s; s++)
		h = (h ^ *s) * 0x100000001b3ULL;
	return h ^ (h >> 31);
}

static bool id_equal(const struct path_id *a, const struct path_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && strcmp(a->rest, b->rest) == 0;
}

static const struct claim *claims_find(const struct claims *c, const struct path_id *id)
{
	if (!c->nslots)
		return NULL;
	for (size_t i = id_hash(id) & (c->nslots - 1);; i = (i + 1) & (c->nslots - 1)) {
		if (!c->slot[i])
			return NULL;
		const struct claim *e = &c->v[c->slot[i] - 1];
		if (id_equal(&e->id, id))
			return e;
	}
}

static int claims_grow(struct claims *c)
{
	size_t nslots = c->nslots ? c->nslots * 2 : 64;
	uint32_t *slot = calloc(nslots, sizeof *slot);
	if (!slot)
		return -1;
	free(c->slot);
	c->slot = slot;
	c->nslots = nslots;
	for (size_t k = 0; k < c->n; k++) {
		size_t i = id_hash(&c->v[k].id) & (nslots - 1);
		while (slot[i])
			i = (i + 1) & (nslots - 1);
		slot[i] = (uint32_t)(k + 1);
	}
	return 0;
}

/* Takes ownership of id->rest (also on failure). */
static int claims_add(struct claims *c, struct path_id *id, const char *what, const char *path)
{
	if ((c->n + 1) * 2 > c->nslots && claims_grow(c) != 0)
		goto fail;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct claim *v = realloc(c->v, cap * sizeof *v);
		if (!v)
			goto fail;
		c->v = v;
		c->cap = cap;
	}
	char *desc = str_cat(what, " ", path);
	if (!desc)
		goto fail;
	c->v[c->n] = (struct claim){ .id = *id, .what = desc };
	size_t i = id_hash(id) & (c->nslots - 1);
	while (c->slot[i])
		i = (i + 1) & (c->nslots - 1);
	c->slot[i] = (uint32_t)(++c->n);
	id->rest = NULL;
	return 0;
fail:
	free(id->rest);
	id->rest = NULL;
	return -1;
}

static void claims_free(struct claims *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].id.rest);
		free(c->v[i].what);
	}
	free(c->v);
	free(c->slot);
}

/* ---- checks ---- */

enum check { CHECK_OK = 0, CHECK_TAKEN, CHECK_REFUSED, CHECK_FAILED };

static int oom(void)
{
	nfm_msg("out of memory");
	return NFM_EXIT_ERROR;
}

/* Whether path may be written by this run; claims it unless dry (a -d candidate name
 * is tried first). Messages are printed only when print is set. */
static enum check check_output(struct claims *c, const char *path, bool print, bool dry)
{
	size_t blen = strlen(base_of(path));
	if (blen > NAME_MAX) {
		if (print)
			nfm_msg("%s: file name too long (%zu bytes; the limit is %d)", path, blen,
				NAME_MAX);
		return CHECK_REFUSED;
	}
	struct nfm_error err;
	nfm_error_clear(&err);
	int rc = nfm_out_check(path, &err);
	if (rc) {
		if (print)
			nfm_msg("%s", err.msg);
		return rc == NFM_ERR_INVALID ? CHECK_TAKEN : CHECK_FAILED;
	}
	struct path_id id;
	int fd = strcmp(path, "-") == 0 ? STDOUT_FILENO : -1;
	if (strcmp(path, "/dev/stdout") == 0)
		fd = STDOUT_FILENO;
	if (fd >= 0) {
		if (!id_of_fd(fd, &id))
			return CHECK_OK; /* a pipe or terminal: nothing else can be it */
	} else if (id_of(path, &id) != 0) {
		if (print)
			nfm_msg("%s: %s", path, strerror(errno));
		return CHECK_FAILED;
	}
	const struct claim *other = claims_find(c, &id);
	if (other || dry) {
		if (other && print)
			nfm_msg("%s: is %s; refusing to write over it", path, other->what);
		free(id.rest);
		return other ? CHECK_TAKEN : CHECK_OK;
	}
	if (claims_add(c, &id, "also the output", path) != 0) {
		oom();
		return CHECK_FAILED;
	}
	return CHECK_OK;
}

static enum check claim_output(struct claims *c, const char *path, bool print)
{
	return check_output(c, path, print, false);
}

static int exit_of(enum check ck)
{
	return ck == CHECK_FAILED ? NFM_EXIT_ERROR : NFM_EXIT_USAGE;
}

/* The flows file (or every split file) and both reports of one job. */
static int claim_job_outputs(struct claims *c, const struct nfm_cli *cli, const struct nfm_job *job)
{
	enum check ck = CHECK_OK;
	if (cli->slice_files) {
		/* a directory, claimed by plan_one_job */
	} else if (cli->split) {
		for (int k = 0; k < NFM_SPLIT_N && ck == CHECK_OK; k++) {
			char *p = nfm_split_path(job->output, k, job->fmt);
			if (!p)
				return oom();
			ck = claim_output(c, p, true);
			free(p);
		}
	} else {
		ck = claim_output(c, job->output, true);
	}
	for (int r = 0; r < 2 && ck == CHECK_OK && job->report_base; r++) {
		char *p = str_cat(job->report_base, r ? ".json" : ".txt", "");
		if (!p)
			return oom();
		ck = claim_output(c, p, true);
		free(p);
	}
	return ck == CHECK_OK ? 0 : exit_of(ck);
}

static int claim_input(struct claims *c, const char *path)
{
	struct path_id id;
	if (strcmp(path, "-") == 0) {
		if (!id_of_fd(STDIN_FILENO, &id))
			return 0;
		return claims_add(c, &id, "the input", "(standard input)") ? oom() : 0;
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return 0; /* reported when it is opened */
	id = (struct path_id){ .dev = st.st_dev, .ino = st.st_ino, .rest = strdup("") };
	if (!id.rest || claims_add(c, &id, "the input", path) != 0)
		return oom();
	return 0;
}

/* A directory the run creates when missing: it must not be a file, nor the name of an
 * output. */
static int claim_dir(struct claims *c, struct nfm_plan *plan, const char *dir, const char *opt)
{
	if (!*dir) {
		nfm_msg("%s: empty directory name", opt);
		return NFM_EXIT_USAGE;
	}
	struct stat st;
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		nfm_msg("%s %s: not a directory", opt, dir);
		return NFM_EXIT_USAGE;
	}
	struct path_id id;
	if (id_of(dir, &id) != 0) {
		nfm_msg("%s: %s", dir, strerror(errno));
		return NFM_EXIT_ERROR;
	}
	const struct claim *other = claims_find(c, &id);
	if (other) {
		nfm_msg("%s %s: is %s", opt, dir, other->what);
		free(id.rest);
		return NFM_EXIT_USAGE;
	}
	if (claims_add(c, &id, "the directory", dir) != 0)
		return oom();
	plan->dirs[plan->ndirs++] = dir;
	return 0;
}

/* ---- jobs ---- */

static const struct nfm_exporter_ops *format_for(const struct nfm_cli *cli, const char *path)
{
	if (cli->have_format)
		return cli->format;
	const struct nfm_exporter_ops *f = path ? nfm_exporter_for_path(path) : NULL;
	return f ? f : nfm_exporter_find("csv");
}

static struct nfm_job *add_job(struct nfm_plan *plan, size_t ninputs)
{
	struct nfm_job *v = realloc(plan->jobs, (plan->njobs + 1) * sizeof *v);
	if (!v)
		return NULL;
	plan->jobs = v;
	struct nfm_job *j = &v[plan->njobs];
	memset(j, 0, sizeof *j);
	j->inputs = calloc(ninputs ? ninputs : 1, sizeof *j->inputs);
	if (!j->inputs)
		return NULL;
	plan->njobs++;
	return j;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends s to a growing array of strings (takes s; frees it on failure). */
static int push_str(char ***v, size_t *n, char *s)
{
	char **u = s ? realloc(*v, (*n + 1) * sizeof *u) : NULL;
	if (!u) {
		free(s);
		return -1;
	}
	u[(*n)++] = s;
	*v = u;
	return 0;
}

/* The captures of -d DIR in name order; entries with a capture's name that cannot be
 * read (a dangling symbolic link, a directory, a FIFO) are listed as unreadable. */
static int list_captures(const char *dir, struct nfm_plan *plan, char ***out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	DIR *d = opendir(dir);
	if (!d) {
		nfm_msg("%s: %s", dir, strerror(errno));
		return NFM_EXIT_ERROR;
	}
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !capture_suffix_len(e->d_name))
			continue;
		char *full = join_path(dir, e->d_name);
		if (!full) {
			rc = oom();
			break;
		}
		struct stat st, lst;
		const char *why = NULL;
		if (stat(full, &st) != 0)
			why = lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode) ? "dangling symbolic link"
									   : strerror(errno);
		else if (S_ISDIR(st.st_mode))
			why = "is a directory";
		else if (!S_ISREG(st.st_mode))
			why = "not a regular file";
		if (!why) {
			if (push_str(out, n_out, full) != 0)
				rc = oom();
			continue;
		}
		if (push_str(&plan->unreadable, &plan->nunreadable, str_cat(full, ": cannot read: ", why)) != 0)
			rc = oom();
		free(full);
	}
	closedir(d);
	if (*n_out > 1)
		qsort(*out, *n_out, sizeof **out, cmp_str);
	return rc;
}

/* The three files a -d capture writes under NAME, tried (dry) or claimed. */
static enum check check_names(struct claims *c, char *const names[3], bool print, bool dry)
{
	enum check ck = CHECK_OK;
	for (int i = 0; i < 3 && ck == CHECK_OK; i++)
		if (names[i])
			ck = check_output(c, names[i], print, dry);
	return ck;
}

/* -d without --merge: capture i writes OUTDIR/NAME.EXT and REPORTDIR/NAME_report.*.
 * NAME is the capture's stem; when that is taken (another capture's output, an input, a
 * file that must not be replaced), the full file name, then STEM_2, STEM_3, ... */
static int plan_batch_job(struct claims *c, const struct nfm_cli *cli, struct nfm_plan *plan,
			  const char *outdir, const char *input)
{
	struct nfm_job *job = add_job(plan, 1);
	if (!job || !(job->inputs[0] = strdup(input)))
		return oom();
	job->ninputs = 1;
	job->fmt = format_for(cli, NULL);
	const char *rdir = cli->report_dir ? cli->report_dir : outdir;
	const char *ext = nfm_exporter_ext(job->fmt);
	char *stem = stem_of(input);
	char *first = NULL;
	int rc = stem ? NFM_EXIT_USAGE : oom();
	for (unsigned k = 0; stem && k < 1000; k++) {
		char num[16];
		snprintf(num, sizeof num, "_%u", k);
		char *name = k == 0 ? strdup(stem) : k == 1 ? strdup(base_of(input))
					     : str_cat(stem, num, "");
		char *file = name ? str_cat(name, ".", ext) : NULL;
		char *rname = name ? str_cat(name, "_report", "") : NULL;
		char *f[3] = { file ? join_path(outdir, file) : NULL, NULL, NULL };
		char *rbase = rname && !cli->no_report ? join_path(rdir, rname) : NULL;
		if (rbase) {
			f[1] = str_cat(rbase, ".txt", "");
			f[2] = str_cat(rbase, ".json", "");
		}
		free(name);
		free(rname);
		if (!first && file)
			first = strdup(file);
		free(file);
		enum check ck = CHECK_FAILED;
		if (!f[0] || !first || (!cli->no_report && (!f[1] || !f[2]))) {
			rc = oom();
		} else {
			ck = check_names(c, f, false, true);
			if (ck == CHECK_OK)
				ck = check_names(c, f, true, false);
			else if (ck != CHECK_TAKEN)
				check_names(c, f, true, true); /* say why: too long, unreadable */
			if (ck == CHECK_OK) {
				job->output = f[0];
				job->report_base = rbase;
				f[0] = rbase = NULL;
				if (k && !cli->quiet)
					nfm_msg("note: %s -> %s (%s is taken)", input, job->output, first);
			}
			rc = ck == CHECK_TAKEN ? NFM_EXIT_USAGE : ck == CHECK_OK ? 0 : exit_of(ck);
		}
		free(f[0]);
		free(f[1]);
		free(f[2]);
		free(rbase);
		if (ck != CHECK_TAKEN)
			break;
	}
	if (rc == NFM_EXIT_USAGE && !job->output)
		nfm_msg("%s: no free output name", input);
	free(stem);
	free(first);
	return rc;
}

/* One job for the whole run: a single capture, or every capture of -d --merge. */
static int plan_one_job(struct claims *c, const struct nfm_cli *cli, struct nfm_plan *plan,
			char **inputs, size_t n, const char *output)
{
	struct nfm_job *job = add_job(plan, n);
	if (!job)
		return oom();
	for (size_t i = 0; i < n; i++)
		if (!(job->inputs[job->ninputs++] = strdup(inputs[i])))
			return oom();
	job->fmt = format_for(cli, output);
	job->output = strdup(output);
	if (!job->output)
		return oom();
	if (cli->split) { /* "flows.csv" and "flows" both give flows_tcp.csv, ... */
		char *dot = strrchr(job->output, '.');
		if (dot && dot > strrchr(job->output, '/') && nfm_exporter_for_path(job->output))
			*dot = '\0';
	}
	if (cli->slice_files) { /* "slices/" gives slices_report.txt beside the directory */
		size_t len = strlen(job->output);
		while (len > 1 && job->output[len - 1] == '/')
			job->output[--len] = '\0';
		int rc = claim_dir(c, plan, job->output, "output directory");
		if (rc)
			return rc;
	}
	if (!cli->no_report) {
		job->report_base = report_base_for(cli, job->output,
						   cli->directory ? "merged" : inputs[0]);
		if (!job->report_base)
			return oom();
	}
	return claim_job_outputs(c, cli, job);
}

int nfm_plan_make(const struct nfm_cli *cli, struct nfm_plan *plan)
{
	memset(plan, 0, sizeof *plan);
	plan->slice_files = cli->slice_files;
	struct claims c = { 0 };
	char **files = NULL;
	size_t n = 0;
	int rc = 0;
	if (cli->directory) {
		rc = list_captures(cli->directory, plan, &files, &n);
		plan->ncaptures = n + plan->nunreadable;
		if (rc == 0 && plan->ncaptures == 0) {
			nfm_msg("%s: no capture files (*.pcap, *.pcapng, *.cap)", cli->directory);
			rc = NFM_EXIT_ERROR;
		}
	} else {
		plan->ncaptures = 1;
		files = malloc(sizeof *files);
		if (!files || !(files[0] = strdup(cli->input)))
			rc = oom();
		else
			n = 1;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = claim_input(&c, files[i]);
	const char *outdir = cli->directory ? (cli->output_dir ? cli->output_dir : cli->directory)
					    : NULL;
	if (rc == 0 && outdir && !(cli->merge && cli->output))
		rc = claim_dir(&c, plan, outdir, cli->output_dir ? "-c" : "-d");
	if (rc == 0 && cli->report_dir && !cli->no_report)
		rc = claim_dir(&c, plan, cli->report_dir, "--report-dir");
	if (rc == 0 && !cli->directory) {
		rc = plan_one_job(&c, cli, plan, files, n, cli->output);
	} else if (rc == 0 && cli->merge) {
		char name[64];
		snprintf(name, sizeof name, "merged_flows.%s", nfm_exporter_ext(format_for(cli, NULL)));
		char *out = cli->output ? strdup(cli->output) : join_path(outdir, name);
		rc = out ? plan_one_job(&c, cli, plan, files, n, out) : oom();
		free(out);
	} else {
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = plan_batch_job(&c, cli, plan, outdir, files[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	claims_free(&c);
	if (rc)
		nfm_plan_free(plan);
	return rc;
}

int nfm_plan_prepare(const struct nfm_plan *plan, struct nfm_outreg *reg)
{
	struct nfm_error err;
	nfm_error_clear(&err);
	for (size_t i = 0; i < plan->ndirs; i++) {
		if (nfm_outreg_mkdirs(reg, plan->dirs[i], &err) != 0) {
			nfm_msg("%s", err.msg);
			return NFM_EXIT_ERROR;
		}
	}
	/* Every directory an output goes to accepts new files (checked once per directory
	 * in a row, so many captures into one directory probe it once). */
	char *last = NULL;
	int rc = 0;
	for (size_t j = 0; j < plan->njobs && rc == 0; j++) {
		const struct nfm_job *job = &plan->jobs[j];
		char *in_dir = plan->slice_files ? join_path(job->output, "nfcapd") : NULL;
		const char *paths[2] = { in_dir ? in_dir : job->output, job->report_base };
		if (plan->slice_files && !in_dir) {
			rc = oom();
			break;
		}
		for (int k = 0; k < 2 && rc == 0; k++) {
			if (!paths[k] || nfm_out_is_direct(paths[k]))
				continue;
			char *dir = nfm_path_dir(paths[k]);
			if (!dir) {
				rc = oom();
				break;
			}
			if (last && strcmp(last, dir) == 0) {
				free(dir);
				continue;
			}
			free(last);
			last = dir;
			if (nfm_outreg_probe(reg, paths[k], &err) != 0) {
				nfm_msg("%s", err.msg);
				rc = NFM_EXIT_ERROR;
			}
		}
		free(in_dir);
	}
	free(last);
	return rc;
}

void nfm_plan_free(struct nfm_plan *plan)
{
	for (size_t j = 0; j < plan->njobs; j++) {
		struct nfm_job *job = &plan->jobs[j];
		for (size_t i = 0; i < job->ninputs; i++)
			free(job->inputs[i]);
		free(job->inputs);
		free(job->output);
		free(job->report_base);
	}
	free(plan->jobs);
	for (size_t i = 0; i < plan->nunreadable; i++)
		free(plan->unreadable[i]);
	free(plan->unreadable);
	memset(plan, 0, sizeof *plan);
}
