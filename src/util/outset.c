/* Output sets: see outset.h for the promise. The mechanics:
 * - a regular output is an O_TMPFILE in its destination directory (no name at all until
 *   commit), or a hidden ".NAME.XXXXXX" where the file system has no O_TMPFILE;
 * - commit links a new name in with linkat (fails rather than replace a file that
 *   appeared) or, when the name exists, gives the new file a hidden name and swaps the
 *   two with renameat2(RENAME_EXCHANGE), which leaves the previous file under the hidden
 *   name until the whole set is in place: undoing is swapping back;
 * - every hidden name is created and removed under the registry's lock, which the signal
 *   thread takes before removing them all. */
#include "util/outset.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define OUT_BUFFER (1u << 20) /* stdio buffer of a stream output: few write calls */

struct nfm_outreg {
	pthread_mutex_t mu;
	char **dirs;        /* created by the run, in creation order */
	size_t ndirs, cap;
	struct nfm_outset *sets;
	size_t committed;
	bool dead;
};

enum placed { PLACED_NONE = 0, PLACED_CREATED, PLACED_EXCHANGED, PLACED_REPLACED };

struct outfile {
	struct nfm_outfile pub;
	struct nfm_outset *set;
	char *path;
	char *tmp_name;     /* hidden name in the directory, when one exists */
	int fd;             /* the new file (-1 for special files and stdout) */
	bool unnamed;       /* fd is an O_TMPFILE */
	bool is_stdout;
	bool finished;
	bool closed;
	bool discarded;     /* dropped from the set: never put in place */
	enum placed placed;
	char proc_path[40]; /* /proc/self/fd/N */
};

struct nfm_outset {
	struct nfm_outreg *reg;
	struct outfile **files;
	size_t n, cap;
	bool done;          /* committed or aborted */
	char *label;
	struct nfm_outset *next, *prev;
};

static void reg_lock(struct nfm_outreg *reg)
{
	if (reg)
		pthread_mutex_lock(&reg->mu);
}

static void reg_unlock(struct nfm_outreg *reg)
{
	if (reg)
		pthread_mutex_unlock(&reg->mu);
}

/* ---- registry ---- */

struct nfm_outreg *nfm_outreg_new(void)
{
	struct nfm_outreg *reg = calloc(1, sizeof *reg);
	if (reg)
		pthread_mutex_init(&reg->mu, NULL);
	return reg;
}

void nfm_outreg_close(struct nfm_outreg *reg)
{
	if (!reg)
		return;
	pthread_mutex_lock(&reg->mu); /* never released: the process exits next */
	reg->dead = true;
	for (size_t i = reg->ndirs; i-- > 0;)
		(void)rmdir(reg->dirs[i]);
}

void nfm_outreg_free(struct nfm_outreg *reg)
{
	if (!reg)
		return;
	for (size_t i = reg->ndirs; i-- > 0;) {
		(void)rmdir(reg->dirs[i]); /* fails, as it should, unless empty */
		free(reg->dirs[i]);
	}
	free(reg->dirs);
	pthread_mutex_destroy(&reg->mu);
	free(reg);
}

size_t nfm_outreg_abandon(struct nfm_outreg *reg, char *pending, size_t cap)
{
	if (cap)
		pending[0] = '\0';
	if (!reg)
		return 0;
	pthread_mutex_lock(&reg->mu); /* kept: nothing may be named or committed any more */
	reg->dead = true;
	size_t len = 0;
	for (struct nfm_outset *s = reg->sets; s; s = s->next) {
		for (size_t i = 0; i < s->n; i++)
			if (s->files[i]->tmp_name)
				(void)unlink(s->files[i]->tmp_name);
		if (!s->done && s->label && len < cap) {
			int w = snprintf(pending + len, cap - len, "%s%s", len ? ", " : "", s->label);
			len = w > 0 ? len + (size_t)w : len;
		}
	}
	for (size_t i = reg->ndirs; i-- > 0;)
		(void)rmdir(reg->dirs[i]);
	return reg->committed;
}

static int remember_dir(struct nfm_outreg *reg, const char *dir)
{
	if (!reg)
		return 0;
	if (reg->ndirs == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 8;
		char **d = realloc(reg->dirs, cap * sizeof *d);
		if (!d)
			return -1;
		reg->dirs = d;
		reg->cap = cap;
	}
	char *copy = strdup(dir);
	if (!copy)
		return -1;
	reg->dirs[reg->ndirs++] = copy;
	return 0;
}

/* mkdir of one component; remembers it when this call created it. */
static int make_one_dir(struct nfm_outreg *reg, const char *p)
{
	if (mkdir(p, 0777) == 0)
		return remember_dir(reg, p) == 0 ? 0 : -1;
	return errno == EEXIST ? 0 : -1;
}

int nfm_outreg_mkdirs(struct nfm_outreg *reg, const char *dir, struct nfm_error *err)
{
	if (!*dir)
		return nfm_error_set(err, NFM_ERR_INVALID, "empty directory name");
	char *p = strdup(dir);
	if (!p)
		return nfm_error_set(err, NFM_ERR_NOMEM, "out of memory");
	reg_lock(reg);
	int rc = 0;
	if (reg && reg->dead) {
		rc = -1;
		errno = EINTR;
	}
	for (char *s = p + 1; rc == 0 && *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		rc = make_one_dir(reg, p);
		*s = '/';
	}
	if (rc == 0)
		rc = make_one_dir(reg, p);
	int e = errno;
	reg_unlock(reg);
	free(p);
	struct stat st;
	if (rc == 0 && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		rc = -1;
		e = ENOTDIR;
	}
	if (rc)
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot create directory: %s", dir,
				     strerror(e));
	return 0;
}

/* ---- names ---- */

char *nfm_path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* A fresh ".BASE.XXXXXX" beside path that fits in NAME_MAX (BASE shortened when
 * needed). Nothing is created. */
static char *hidden_name(const char *path)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
	const char *base = path + dirlen;
	size_t blen = strlen(base);
	if (blen > NAME_MAX - 8)
		blen = NAME_MAX - 8;
	size_t cap = dirlen + blen + 16;
	char *name = malloc(cap);
	if (!name)
		return NULL;
	unsigned char rnd[6];
	if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		uint64_t x = (uint64_t)t.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid() ^
			     (uint64_t)(uintptr_t)name;
		for (size_t i = 0; i < sizeof rnd; i++, x >>= 8)
			rnd[i] = (unsigned char)x;
	}
	char suffix[7];
	for (size_t i = 0; i < 6; i++)
		suffix[i] = digits[rnd[i] % (sizeof digits - 1)];
	suffix[6] = '\0';
	snprintf(name, cap, "%.*s.%.*s.%s", (int)dirlen, path, (int)blen, base, suffix);
	return name;
}

/* Creates a hidden file beside path (fallback without O_TMPFILE). Caller holds the lock. */
static int create_hidden(const char *path, char **name_out)
{
	for (int tries = 0; tries < 100; tries++) {
		char *name = hidden_name(path);
		if (!name) {
			errno = ENOMEM;
			return -1;
		}
		int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0) {
			*name_out = name;
			return fd;
		}
		free(name);
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Gives an unnamed file a hidden name (commit of a replacement). Caller holds the lock. */
static int link_hidden(struct outfile *f)
{
	for (int tries = 0; tries < 100; tries++) {
		char *name = hidden_name(f->path);
		if (!name) {
			errno = ENOMEM;
			return -1;
		}
		if (linkat(AT_FDCWD, f->proc_path, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0) {
			f->tmp_name = name;
			return 0;
		}
		free(name);
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

static bool no_tmpfile(int e)
{
	return e == EOPNOTSUPP || e == EISDIR || e == EINVAL || e == ENOSYS;
}

int nfm_outreg_probe(struct nfm_outreg *reg, const char *path, struct nfm_error *err)
{
	char *dir = nfm_path_dir(path);
	if (!dir)
		return nfm_error_set(err, NFM_ERR_NOMEM, "out of memory");
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	int e = errno;
	if (fd < 0 && no_tmpfile(e)) {
		char *name = NULL;
		reg_lock(reg);
		fd = create_hidden(path, &name);
		e = errno;
		if (fd >= 0)
			(void)unlink(name);
		reg_unlock(reg);
		free(name);
	}
	if (fd >= 0)
		close(fd);
	int rc = 0;
	if (fd < 0)
		rc = nfm_error_set(err, NFM_ERR_IO, "%s: cannot create files in %s: %s", path, dir,
				   strerror(e));
	free(dir);
	return rc;
}

/* ---- sets ---- */

struct nfm_outset *nfm_outset_new(struct nfm_outreg *reg, const char *label)
{
	struct nfm_outset *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (label && !(s->label = strdup(label))) {
		free(s);
		return NULL;
	}
	s->reg = reg;
	reg_lock(reg);
	if (reg) {
		s->next = reg->sets;
		if (reg->sets)
			reg->sets->prev = s;
		reg->sets = s;
	}
	reg_unlock(reg);
	return s;
}

size_t nfm_outset_count(const struct nfm_outset *set)
{
	return set ? set->n : 0;
}

/* /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: a descriptor the process already
 * has. Returns it, or -1. */
static int fd_alias(const char *path)
{
	if (strcmp(path, "/dev/stdout") == 0)
		return STDOUT_FILENO;
	if (strcmp(path, "/dev/stderr") == 0)
		return STDERR_FILENO;
	const char *num = NULL;
	if (strncmp(path, "/dev/fd/", 8) == 0)
		num = path + 8;
	else if (strncmp(path, "/proc/self/fd/", 14) == 0)
		num = path + 14;
	if (!num || !*num || strlen(num) > 6 || strspn(num, "0123456789") != strlen(num))
		return -1;
	return (int)strtol(num, NULL, 10);
}

bool nfm_out_is_direct(const char *path)
{
	struct stat st;
	if (strcmp(path, "-") == 0 || fd_alias(path) >= 0)
		return true;
	return lstat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ||
					 S_ISFIFO(st.st_mode));
}

int nfm_out_check(const char *path, struct nfm_error *err)
{
	struct stat st;
	if (!*path)
		return nfm_error_set(err, NFM_ERR_INVALID, "empty output file name");
	if (nfm_out_is_direct(path))
		return 0;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return nfm_error_set(err, NFM_ERR_IO, "%s: %s", path, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: is a symbolic link; give the path of the file it points to", path);
	if (S_ISDIR(st.st_mode))
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: is a directory", path);
	if (!S_ISREG(st.st_mode))
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: is a socket or other special file that cannot be written", path);
	if (st.st_nlink > 1)
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: has %lu hard links; replacing it would separate them", path,
				     (unsigned long)st.st_nlink);
	return 0;
}

static int open_direct(struct outfile *f, const char *path, enum nfm_out_kind kind,
		       struct nfm_error *err)
{
	f->pub.direct = true;
	f->pub.write_path = f->path;
	if (kind == NFM_OUT_BY_NAME) /* the library opens it */
		return 0;
	int fd;
	int alias = fd_alias(path);
	if (alias >= 0)
		fd = fcntl(alias, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot open for writing: %s", path,
				     strerror(errno));
	f->pub.fp = fdopen(fd, "w");
	if (!f->pub.fp) {
		int e = errno;
		close(fd);
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot open for writing: %s", path,
				     strerror(e));
	}
	return 0;
}

static int open_hidden(struct nfm_outset *set, struct outfile *f, struct nfm_error *err)
{
	char *dir = nfm_path_dir(f->path);
	if (!dir)
		return nfm_error_set(err, NFM_ERR_NOMEM, "out of memory");
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
	int e = errno;
	free(dir);
	if (fd >= 0) {
		snprintf(f->proc_path, sizeof f->proc_path, "/proc/self/fd/%d", fd);
		if (access(f->proc_path, F_OK) == 0) {
			f->unnamed = true;
		} else { /* no /proc: an unnamed file could never be linked in */
			close(fd);
			fd = -1;
			e = EOPNOTSUPP;
		}
	}
	if (fd < 0 && no_tmpfile(e)) {
		reg_lock(set->reg);
		if (set->reg && set->reg->dead) {
			fd = -1;
			e = EINTR;
		} else {
			fd = create_hidden(f->path, &f->tmp_name);
			e = errno;
		}
		reg_unlock(set->reg);
		if (fd >= 0)
			snprintf(f->proc_path, sizeof f->proc_path, "/proc/self/fd/%d", fd);
	}
	if (fd < 0)
		return nfm_error_set(err, e == ENOMEM ? NFM_ERR_NOMEM : NFM_ERR_IO,
				     "%s: cannot create output: %s", f->path, strerror(e));
	f->fd = fd;
	return 0;
}

int nfm_outset_create(struct nfm_outset *set, const char *path, enum nfm_out_kind kind,
		      struct nfm_outfile **out, struct nfm_error *err)
{
	*out = NULL;
	if (!path || !*path)
		return nfm_error_set(err, NFM_ERR_INVALID, "empty output file name");
	if (set->done)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: output set already closed", path);
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 8;
		struct outfile **v = realloc(set->files, cap * sizeof *v);
		if (!v)
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
		set->files = v;
		set->cap = cap;
	}
	struct outfile *f = calloc(1, sizeof *f);
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	}
	f->fd = -1;
	f->set = set;
	f->pub.path = f->path;
	int rc = 0;
	if (strcmp(path, "-") == 0) {
		if (kind != NFM_OUT_STREAM)
			rc = nfm_error_set(err, NFM_ERR_INVALID, "this format cannot be written to standard output: give a file name");
		f->is_stdout = true;
		f->pub.direct = true;
		f->pub.fp = stdout;
	} else if (nfm_out_is_direct(path)) {
		rc = open_direct(f, path, kind, err);
	} else {
		rc = nfm_out_check(path, err);
		if (rc == 0)
			rc = open_hidden(set, f, err);
		if (rc == 0 && !f->pub.direct && kind == NFM_OUT_STREAM) {
			f->pub.fp = fdopen(f->fd, "w");
			if (!f->pub.fp)
				rc = nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
			else
				setvbuf(f->pub.fp, NULL, _IOFBF, OUT_BUFFER);
		} else if (rc == 0 && !f->pub.direct) {
			f->pub.write_path = access(f->proc_path, F_OK) == 0 ? f->proc_path : f->tmp_name;
		}
	}
	set->files[set->n++] = f; /* even when failed: abort cleans it */
	if (rc)
		return rc;
	*out = &f->pub;
	return 0;
}

static struct outfile *impl_of(struct nfm_outfile *pub)
{
	return (struct outfile *)((char *)pub - offsetof(struct outfile, pub));
}

int nfm_outfile_finish(struct nfm_outfile *pub, struct nfm_error *err)
{
	struct outfile *f = impl_of(pub);
	if (f->finished)
		return 0;
	if (pub->fp) {
		errno = 0;
		int bad = fflush(pub->fp) != 0;
		int e = errno;
		if (ferror(pub->fp) && !bad) {
			bad = 1;
			e = EIO;
		}
		if (bad)
			return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", f->path,
					     strerror(e ? e : EIO));
	}
	f->finished = true;
	return 0;
}

/* Closes the descriptors of a file (not stdout). */
static void close_file(struct outfile *f)
{
	if (f->closed)
		return;
	f->closed = true;
	if (f->pub.fp && !f->is_stdout)
		fclose(f->pub.fp); /* also closes f->fd for stream files */
	else if (f->fd >= 0)
		close(f->fd);
	f->pub.fp = NULL;
	f->fd = -1;
}

/* Closes a file not put in place and removes its hidden name. Caller holds the lock. */
static void drop_file(struct outfile *f)
{
	if (f->is_stdout && f->pub.fp)
		fflush(stdout);
	close_file(f);
	if (f->tmp_name) {
		(void)unlink(f->tmp_name);
		free(f->tmp_name);
		f->tmp_name = NULL;
	}
}

void nfm_outfile_discard(struct nfm_outfile *pub)
{
	if (!pub)
		return;
	struct outfile *f = impl_of(pub);
	struct nfm_outset *set = f->set;
	reg_lock(set->reg);
	drop_file(f);
	f->discarded = true;
	f->finished = true;
	reg_unlock(set->reg);
}

/* Closes a finished regular file, keeping it for the commit under a hidden name. Caller
 * holds the lock. */
static int park_file(struct outfile *f, struct nfm_error *err)
{
	if (!f->finished || f->closed || f->discarded || f->is_stdout || f->pub.direct || f->fd < 0)
		return 0;
	if (f->unnamed) {
		if (link_hidden(f) != 0)
			return nfm_error_set(err, NFM_ERR_IO, "%s: cannot keep the output: %s",
					     f->path, strerror(errno));
		f->unnamed = false;
	}
	/* place() syncs a replacement before the old file goes; a closed file is synced
	 * now, when it will replace one. */
	struct stat st;
	if (lstat(f->path, &st) == 0 && fsync(f->fd) != 0)
		return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", f->path,
				     strerror(errno));
	close_file(f);
	return 0;
}

int nfm_outset_park(struct nfm_outset *set, struct nfm_error *err)
{
	int rc = 0;
	reg_lock(set->reg);
	for (size_t i = 0; i < set->n && rc == 0; i++)
		rc = park_file(set->files[i], err);
	reg_unlock(set->reg);
	return rc;
}

int nfm_outset_mkdirs(struct nfm_outset *set, const char *dir, struct nfm_error *err)
{
	return nfm_outreg_mkdirs(set->reg, dir, err);
}

/* Puts one finished regular file in place. Caller holds the lock. */
static int place(struct outfile *f, struct nfm_error *err)
{
	struct stat st;
	bool exists = false;
	if (lstat(f->path, &st) == 0) {
		if (!S_ISREG(st.st_mode) || st.st_nlink > 1)
			return nfm_error_set(err, NFM_ERR_IO,
					     "%s: changed during the run (no longer a plain file); not replaced",
					     f->path);
		exists = true;
	} else if (errno != ENOENT) {
		return nfm_error_set(err, NFM_ERR_IO, "%s: %s", f->path, strerror(errno));
	}
	if (f->unnamed && !exists) {
		if (linkat(AT_FDCWD, f->proc_path, AT_FDCWD, f->path, AT_SYMLINK_FOLLOW) == 0) {
			f->placed = PLACED_CREATED;
			return 0;
		}
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot put the output in place: %s",
				     f->path, strerror(errno));
	}
	if (exists && f->fd >= 0 && fsync(f->fd) != 0) /* the new data is safe before the old goes */
		return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", f->path,
				     strerror(errno));
	if (f->unnamed && link_hidden(f) != 0)
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot put the output in place: %s",
				     f->path, strerror(errno));
	int flags = exists ? RENAME_EXCHANGE : RENAME_NOREPLACE;
	if (renameat2(AT_FDCWD, f->tmp_name, AT_FDCWD, f->path, (unsigned)flags) == 0) {
		if (exists) {
			f->placed = PLACED_EXCHANGED; /* the previous file is under tmp_name now */
		} else {
			f->placed = PLACED_CREATED;
			free(f->tmp_name);
			f->tmp_name = NULL;
		}
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot put the output in place: %s",
				     f->path, strerror(errno));
	/* A file system without renameat2 flags: a plain rename, which cannot be undone. */
	if (rename(f->tmp_name, f->path) != 0)
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot put the output in place: %s",
				     f->path, strerror(errno));
	f->placed = exists ? PLACED_REPLACED : PLACED_CREATED;
	free(f->tmp_name);
	f->tmp_name = NULL;
	return 0;
}

static void unplace(struct outfile *f)
{
	switch (f->placed) {
	case PLACED_CREATED:
		(void)unlink(f->path);
		break;
	case PLACED_EXCHANGED:
		(void)renameat2(AT_FDCWD, f->tmp_name, AT_FDCWD, f->path, RENAME_EXCHANGE);
		break;
	default:
		break;
	}
	f->placed = PLACED_NONE;
}

/* Drops every file of the set that is not in place. Caller holds the lock. */
static void discard_locked(struct nfm_outset *set)
{
	for (size_t i = 0; i < set->n; i++)
		drop_file(set->files[i]);
	set->done = true;
}

int nfm_outset_commit(struct nfm_outset *set, struct nfm_error *err)
{
	if (set->done)
		return nfm_error_set(err, NFM_ERR_INVALID, "output set already closed");
	for (size_t i = 0; i < set->n; i++)
		if (!set->files[i]->finished)
			return nfm_error_set(err, NFM_ERR_INVALID, "%s: not finished",
					     set->files[i]->path);
	reg_lock(set->reg);
	if (set->reg && set->reg->dead) {
		reg_unlock(set->reg);
		return nfm_error_set(err, NFM_ERR_INTERRUPTED, "interrupted");
	}
	int rc = 0;
	size_t i;
	for (i = 0; i < set->n && rc == 0; i++)
		if (!set->files[i]->pub.direct && !set->files[i]->discarded)
			rc = place(set->files[i], err);
	if (rc) {
		while (i-- > 0)
			unplace(set->files[i]);
	} else {
		for (i = 0; i < set->n; i++) {
			struct outfile *f = set->files[i];
			if (f->placed == PLACED_EXCHANGED) { /* tmp_name holds the previous file */
				(void)unlink(f->tmp_name);
				free(f->tmp_name);
				f->tmp_name = NULL;
			}
		}
	}
	discard_locked(set); /* closes; removes hidden names left (none on success) */
	if (rc == 0 && set->reg)
		set->reg->committed++;
	reg_unlock(set->reg);
	return rc;
}

void nfm_outset_abort(struct nfm_outset *set)
{
	if (!set || set->done)
		return;
	reg_lock(set->reg);
	discard_locked(set);
	reg_unlock(set->reg);
}

void nfm_outset_free(struct nfm_outset *set)
{
	if (!set)
		return;
	nfm_outset_abort(set);
	reg_lock(set->reg);
	if (set->reg) {
		if (set->prev)
			set->prev->next = set->next;
		else
			set->reg->sets = set->next;
		if (set->next)
			set->next->prev = set->prev;
	}
	reg_unlock(set->reg);
	for (size_t i = 0; i < set->n; i++) {
		free(set->files[i]->path);
		free(set->files[i]);
	}
	free(set->files);
	free(set->label);
	free(set);
}

int nfm_outfile_write(struct nfm_outfile *f, const void *p, size_t n, struct nfm_error *err)
{
	errno = 0;
	if (n && fwrite(p, 1, n, f->fp) != n)
		return nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", f->path,
				     strerror(errno ? errno : EIO));
	return 0;
}
