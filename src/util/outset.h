/* The output files of one conversion, put in place together or not at all.
 *
 * A regular output is written where nobody sees it: an unnamed file (O_TMPFILE) in its
 * destination directory or, where the file system cannot make one, a hidden temporary
 * name there. When every output of the set is complete, nfm_outset_commit puts them all
 * in place: a name that did not exist is linked in (never replacing a file that appeared
 * meanwhile); a regular file that existed is exchanged with the new one in one atomic
 * step; if any step fails, the steps already taken are undone, so the previous files are
 * back and no new name is left. nfm_outset_abort discards everything.
 *
 * A special file (character device, FIFO, terminal) cannot be replaced without breaking
 * whoever uses it: it is opened and written directly as the run goes, and what was
 * written cannot be taken back. Standard output ("-") is the same.
 *
 * Every hidden name and every directory the run creates is listed in an nfm_outreg
 * shared by all the sets of a process, so that a thread handling a terminating signal
 * can remove them (nfm_outreg_abandon) and exit: nothing is left behind whatever moment
 * the signal comes. The registry is optional (NULL) for callers that need no cleanup.
 * Thread-safe across sets; one set is used by one thread at a time. */
#ifndef NFM_UTIL_OUTSET_H
#define NFM_UTIL_OUTSET_H

#include <stdbool.h>
#include <stdio.h>

#include "util/err.h"

struct nfm_outreg;
struct nfm_outset;

enum nfm_out_kind {
	NFM_OUT_STREAM = 0, /* written through outfile->fp */
	NFM_OUT_BY_NAME,    /* written by a library that opens outfile->write_path itself */
};

struct nfm_outfile {
	FILE *fp;                /* NFM_OUT_STREAM: write here (large buffer) */
	const char *write_path;  /* NFM_OUT_BY_NAME: the name to open (e.g. /proc/self/fd/N) */
	const char *path;        /* the final name, as given */
	bool direct;             /* a special file or standard output, written in place */
};

/* Writes n bytes to f's stream; a failure is one line naming the file. */
int nfm_outfile_write(struct nfm_outfile *f, const void *p, size_t n, struct nfm_error *err);

struct nfm_outreg *nfm_outreg_new(void);
/* Removes the directories the run created and left empty, then frees. NULL is fine. */
void nfm_outreg_free(struct nfm_outreg *reg);
/* The end of a process's run: removes the directories the run created and left empty,
 * and keeps the registry locked until the process exits, so that a signal thread
 * arriving late finds nothing to do (or, if it came first, this waits for its exit). */
void nfm_outreg_close(struct nfm_outreg *reg);
/* For the signal path: waits for a commit in progress to complete, then removes every
 * hidden temporary name and every directory the run created that is empty, and keeps
 * the registry locked so that nothing can be named or committed any more: the caller
 * exits next (_exit). Files still unnamed vanish with the process. Returns how many
 * sets were committed; pending receives the labels of the sets that were discarded,
 * comma-separated (cut to cap). */
size_t nfm_outreg_abandon(struct nfm_outreg *reg, char *pending, size_t cap);
/* Creates dir and its missing parents; the ones created are listed for removal when
 * they stay empty. An existing non-directory is an error (ENOTDIR). */
int nfm_outreg_mkdirs(struct nfm_outreg *reg, const char *dir, struct nfm_error *err);

/* Checks that the file path can be created in its directory (missing directory,
 * read-only file system, permissions, a full inode table) by creating and discarding
 * one there; no name is left. The error names path. reg may be NULL. */
int nfm_outreg_probe(struct nfm_outreg *reg, const char *path, struct nfm_error *err);

/* True for the names written in place: "-", /dev/stdout, /dev/stderr, /dev/fd/N,
 * /proc/self/fd/N, and existing character devices, block devices and FIFOs. */
bool nfm_out_is_direct(const char *path);
/* Whether path may be an output: it does not exist, or is a regular file with one link,
 * or is written in place (above). A symbolic link (other than the descriptor names
 * above), a directory, a socket or a file with other hard links is refused
 * (NFM_ERR_INVALID, the message says why). */
int nfm_out_check(const char *path, struct nfm_error *err);

/* label names the set in nfm_outreg_abandon's list (e.g. the capture); copied. */
struct nfm_outset *nfm_outset_new(struct nfm_outreg *reg, const char *label);
/* The directory part of path ("." when none, "/" for the root); caller frees. */
char *nfm_path_dir(const char *path);
/* Opens path for writing in the set. "-" is standard output (STREAM only). The file
 * belongs to the set: it stays valid until commit, abort or free. */
int nfm_outset_create(struct nfm_outset *set, const char *path, enum nfm_out_kind kind,
		      struct nfm_outfile **out, struct nfm_error *err);
/* Completes one file: flushes and checks every write. Every file must be finished (or
 * the set aborted) before commit; a failed finish makes the whole set fail. */
int nfm_outfile_finish(struct nfm_outfile *f, struct nfm_error *err);
/* Drops one file from the set: it will not be put in place (a written special file or
 * standard output keeps what it got). */
void nfm_outfile_discard(struct nfm_outfile *f);
/* Closes the set's finished regular files, each kept under a hidden name until the
 * commit (removed like every hidden name on abort or signal): a set of many files (one
 * per time slice) holds no descriptor per file. A file that will replace an existing
 * one is synced first. */
int nfm_outset_park(struct nfm_outset *set, struct nfm_error *err);
/* nfm_outreg_mkdirs with the set's registry: directories the set's files need. */
int nfm_outset_mkdirs(struct nfm_outset *set, const char *dir, struct nfm_error *err);
/* Puts every file of the set in place at once (see above). On failure nothing of the set
 * is left (previous files restored), the error names the file. Files are closed. */
int nfm_outset_commit(struct nfm_outset *set, struct nfm_error *err);
/* Discards every file not yet committed. Idempotent. */
void nfm_outset_abort(struct nfm_outset *set);
/* Aborts what is not committed, then frees. NULL is fine. */
void nfm_outset_free(struct nfm_outset *set);
size_t nfm_outset_count(const struct nfm_outset *set);

#endif
