/* Parsers of option values (cli/options.c) and the one-line form of a value in errors. */
#ifndef NFM_CLI_VALUES_H
#define NFM_CLI_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* N: decimal digits only, from lo to hi. Returns 0 with *out, or -1. */
int nfm_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

enum { NFM_SECONDS_OK, NFM_SECONDS_BAD, NFM_SECONDS_BELOW_NS };
/* SECONDS: digits with an optional fraction ("60", "0.25"), from lo to hi seconds,
 * converted exactly to nanoseconds rounded to the nearest (half up). A value that is not
 * zero but rounds to 0 ns is refused (NFM_SECONDS_BELOW_NS) rather than taken as 0
 * (which means off). Returns NFM_SECONDS_OK with *ns. */
int nfm_parse_seconds(const char *s, uint64_t lo, uint64_t hi, uint64_t *ns);

/* val as it can be shown on one line: control bytes as \xNN, at most ~120 bytes. */
const char *nfm_printable(const char *val, char *buf, size_t size);

#endif
