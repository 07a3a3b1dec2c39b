/* Error codes and error context shared by every module of the core library.
 * The library never prints or exits: it returns a code and fills a struct nfm_error. */
#ifndef NFM_UTIL_ERR_H
#define NFM_UTIL_ERR_H

#include <stdarg.h>
#include <stdint.h>

enum nfm_err {
	NFM_OK = 0,
	NFM_ERR_NOMEM = -1,       /* allocation failed */
	NFM_ERR_IO = -2,          /* read/write/open failed (errno in the message) */
	NFM_ERR_FORMAT = -3,      /* input is not a capture we can read */
	NFM_ERR_TRUNCATED = -4,   /* capture ends inside a record or block */
	NFM_ERR_UNSUPPORTED = -5, /* valid but unsupported (version, link type, ...) */
	NFM_ERR_INVALID = -6,     /* invalid argument or configuration */
	NFM_ERR_CORRUPT = -7,     /* a record or block is inconsistent (bad length, ...) */
	NFM_ERR_LIMIT = -8,       /* a configured limit was hit */
	NFM_ERR_INTERRUPTED = -9, /* stopped by a signal */
};

/* Context travelling with an error: a one-line message and, when known, the byte
 * offset in the input where the problem was found. */
struct nfm_error {
	int code;
	int has_offset;
	uint64_t offset;
	char msg[512];
};

const char *nfm_strerror(int code);

/* Sets code and a printf-style message; returns code so callers can
 * `return nfm_error_set(err, NFM_ERR_IO, "...")`. err may be NULL. */
int nfm_error_set(struct nfm_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, and records the byte offset. */
int nfm_error_set_at(struct nfm_error *err, int code, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void nfm_error_clear(struct nfm_error *err);

#endif
