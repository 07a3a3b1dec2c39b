/* A streaming ZIP writer: entries are added one after another (begin, write bytes, end),
 * each raw-deflated by zlib straight into the output as its bytes come; finishing writes
 * the central directory and the end records. The output is written strictly in order,
 * never sought nor read back, so a pipe or a device works as well as a file; memory is
 * constant apart from one small record per entry kept for the central directory.
 *
 * Layout, chosen for the readers office files meet (Excel, LibreOffice, zip tools):
 * - each entry: a local header with general-purpose bit 3 set (CRC-32 and sizes zero,
 *   given after the data), version needed 4.5 and no extra field; the deflated data; a
 *   data descriptor with signature, CRC-32 and 64-bit sizes. A streamed entry's size is
 *   unknown when its header goes out, so the descriptor always has the ZIP64 form;
 *   version 4.5 in the local header is what tells readers so (LibreOffice reads the
 *   descriptor by it, and Excel asks to repair an entry larger than 4 GiB without it);
 * - central directory records carry a ZIP64 extra field with whichever of the sizes and
 *   the local header's offset reach the 32-bit limit (version needed 4.5 then, else 2.0);
 * - the ZIP64 end of central directory record and its locator are written only when the
 *   entry count, the directory's size or its offset do not fit the classic end record
 *   (Excel and LibreOffice refuse archives that have them without need).
 * Every entry carries the fixed DOS time 1980-01-01 00:00: equal content, equal bytes.
 * Errors name the archive; after the first one every call returns it again. */
#ifndef NFM_UTIL_ZIP_WRITER_H
#define NFM_UTIL_ZIP_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct nfm_zip;

struct nfm_zip_options {
	int level;           /* zlib compression level 1-9; 0: zlib's default (6) */
	/* A size or offset at or above this is written in the ZIP64 form (0: 0xFFFFFFFF,
	 * the format's limit). Tests lower it to check the ZIP64 records on small archives. */
	uint64_t zip64_from;
};

/* Starts an archive written to fp from its current position (taken as offset 0).
 * name is the archive's name for messages (not copied: it must outlive z). opt may be
 * NULL (defaults above). */
int nfm_zip_open(struct nfm_zip **out, FILE *fp, const char *name,
		 const struct nfm_zip_options *opt, struct nfm_error *err);
/* Starts the next entry (the previous one must be ended). */
int nfm_zip_begin(struct nfm_zip *z, const char *entry_name, struct nfm_error *err);
int nfm_zip_write(struct nfm_zip *z, const void *data, size_t len, struct nfm_error *err);
int nfm_zip_end(struct nfm_zip *z, struct nfm_error *err);
/* Writes the central directory and the end records. The archive is complete once fp
 * is flushed without error (the caller owns fp). */
int nfm_zip_finish(struct nfm_zip *z, struct nfm_error *err);
/* Frees z (finished or not; an unfinished archive is left as it is). NULL is fine. */
void nfm_zip_free(struct nfm_zip *z);
/* Bytes handed to fp so far. */
uint64_t nfm_zip_offset(const struct nfm_zip *z);

#endif
