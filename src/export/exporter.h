/* Exporters: one file per output format behind one small interface (open / write /
 * close / abort). Each writes one file of an output set (util/outset.h): the file is
 * put in place with the rest of the set by nfm_outset_commit after a successful
 * nfm_exporter_close, or discarded with the set. Path "-" writes to standard output
 * (not for xlsx). */
#ifndef NFM_EXPORT_EXPORTER_H
#define NFM_EXPORT_EXPORTER_H

#include <stdio.h>

#include "feature/fields.h"
#include "flow/record.h"
#include "util/err.h"
#include "util/outset.h"

enum nfm_format {
	NFM_FMT_CSV = 0,  /* RFC 4180, CRLF-free (LF line ends), header row */
	NFM_FMT_JSON,     /* one JSON array of objects */
	NFM_FMT_JSONL,    /* one JSON object per line */
	NFM_FMT_XLSX,     /* Excel workbook, numbers as numbers, new sheet past 1,048,575 rows */
	NFM_FMT_COUNT
};

/* "csv", "json", "jsonl" (also "ndjson"), "xlsx" (also "excel"), case-insensitive. */
int nfm_format_from_name(const char *name, enum nfm_format *out);
/* From the path's extension (.csv .json .jsonl .ndjson .xlsx, case-insensitive);
 * returns 0 and sets *out, or -1 when the extension names no format. */
int nfm_format_from_path(const char *path, enum nfm_format *out);
const char *nfm_format_name(enum nfm_format fmt);
const char *nfm_format_ext(enum nfm_format fmt); /* "csv", "json", "jsonl", "xlsx" */

struct nfm_exporter;

/* Creates path in set and starts writing it. cols must outlive the exporter. */
int nfm_exporter_open(struct nfm_exporter **out, enum nfm_format fmt, struct nfm_outset *set,
		      const char *path, const struct nfm_columns *cols, struct nfm_error *err);
int nfm_exporter_write(struct nfm_exporter *ex, const struct nfm_flow_record *rec,
		       struct nfm_error *err);
/* Completes the file (ready for the set's commit); frees ex whatever the result. */
int nfm_exporter_close(struct nfm_exporter *ex, struct nfm_error *err);
/* Stops writing and frees ex (the set discards the file). NULL is fine. */
void nfm_exporter_abort(struct nfm_exporter *ex);
uint64_t nfm_exporter_rows(const struct nfm_exporter *ex);

/* The aligned table printed by --quick-preview: header + rows for the given records.
 * Shows a fixed, readable subset of columns; widths fit the longest cell. */
int nfm_preview_print(FILE *out, const struct nfm_flow_record *const *recs, size_t n);

#endif
