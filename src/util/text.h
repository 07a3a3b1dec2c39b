/* Text helpers shared by the exporters and the command line: UTF-8 validation and the
 * escaping that keeps a message on one readable line whatever bytes a file name holds. */
#ifndef NFM_UTIL_TEXT_H
#define NFM_UTIL_TEXT_H

#include <stddef.h>

/* Length (1-4) of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0 when the byte at p does not start one. */
size_t nfm_utf8_seq_len(const unsigned char *p, size_t avail);

/* Copies s to out (always NUL-terminated, cut at cap - 1) with control characters
 * written as \n, \r, \t or \xNN and bytes that are not well-formed UTF-8 as \xNN, so
 * the result is one line of valid UTF-8. Returns the length written. */
size_t nfm_escape_line(const char *s, char *out, size_t cap);

#endif
