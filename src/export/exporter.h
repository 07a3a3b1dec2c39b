/* Exporters: one file per output format, each registering itself in the table of
 * exporter.c (one line). An exporter works in two halves so that formatting runs in the
 * flow workers and only ordering and writing in the writer thread:
 *   encode  turns one flow record into bytes (its row); it is called by several worker
 *           threads at once and reads only what open set up;
 *   write   takes the rows, in order, on the writer thread, and writes them out (adding
 *           whatever framing the format needs: separators, sheet rows, blocks, headers);
 * plus open (on a destination: a file of an output set, standard output, later a
 * directory with a naming rule or a network address), tick (time-driven work: rotation,
 * template refresh), close (complete the output) and abort (drop it).
 *
 * Files are written through an output set (util/outset.h): they are put in place with
 * the rest of the set by nfm_outset_commit after a successful close, or discarded with
 * the set. Path "-" is standard output (formats that allow it). */
#ifndef NFM_EXPORT_EXPORTER_H
#define NFM_EXPORT_EXPORTER_H

#include <stdbool.h>
#include <stdio.h>

#include "feature/fields.h"
#include "flow/record.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/outset.h"

struct nfm_exporter_ops;
struct nfm_layout;
struct nfm_netflow_opts;

/* Where an exporter writes. */
struct nfm_export_dest {
	const char *path;          /* a file, "-" (standard output), /dev/stderr, ...; valid
				    * during open only: an exporter that names its output later
				    * uses its output file's path or a copy */
	struct nfm_outset *set;    /* files are created in it */
	uint64_t max_rows;         /* 0: all; else the exporter keeps the first max_rows */
	bool encode_only;          /* no file: the exporter only encodes rows (for outputs
				    * opened once per time slice, whose instances come and go
				    * while workers encode); formats that can be sliced obey */
	const struct nfm_layout *layout;        /* the run's feature modules (NULL: none) */
	const struct nfm_netflow_opts *netflow; /* options of the NetFlow formats (NULL:
						 * defaults) */
};

/* By name or alias ("csv", "json", "jsonl"/"ndjson", "xlsx"/"excel", "preview"),
 * case-insensitive; NULL when none. */
const struct nfm_exporter_ops *nfm_exporter_find(const char *name);
/* From the path's extension (.csv .json .jsonl .ndjson .xlsx, case-insensitive); NULL
 * when the extension names no exporter. */
const struct nfm_exporter_ops *nfm_exporter_for_path(const char *path);
const char *nfm_exporter_name(const struct nfm_exporter_ops *ops);
const char *nfm_exporter_ext(const struct nfm_exporter_ops *ops);
bool nfm_exporter_allows_stdout(const struct nfm_exporter_ops *ops);
/* True for the formats -of accepts (not the preview, not network exporters). */
bool nfm_exporter_listed(const struct nfm_exporter_ops *ops);
/* The exporters that write files of flows (for --help and the docs), in table order. */
const struct nfm_exporter_ops *nfm_exporter_at(size_t i);

struct nfm_exporter;

/* What an exporter has written or sent (the report prints it for network exporters). */
struct nfm_export_counts {
	uint64_t records;          /* NetFlow / IPFIX data records */
	uint64_t messages;         /* datagrams (network) or blocks (files) */
	uint64_t bytes;            /* bytes sent or written */
	uint64_t templates;        /* template records sent */
	uint64_t dropped;          /* records that could not be sent (send errors) */
	char warning[320];         /* the first send problem, one line naming the
				    * destination; "" when none */
};

/* Opens dest. cols must outlive the exporter; an exporter with fixed columns (the
 * preview) ignores them. */
int nfm_exporter_open(struct nfm_exporter **out, const struct nfm_exporter_ops *ops,
		      const struct nfm_export_dest *dest, const struct nfm_columns *cols,
		      struct nfm_error *err);
/* Worker side: appends rec's row to row. Thread-safe against other encodes and against
 * write/tick on the writer side. */
int nfm_exporter_encode(const struct nfm_exporter *ex, const struct nfm_flow_record *rec,
			struct nfm_buf *row);
/* Writer side: one row made by nfm_exporter_encode (of this exporter or of one opened
 * with the same ops and columns). */
int nfm_exporter_write_row(struct nfm_exporter *ex, const uint8_t *row, size_t len,
			   struct nfm_error *err);
/* Both halves at once, for single-threaded callers. */
int nfm_exporter_write(struct nfm_exporter *ex, const struct nfm_flow_record *rec,
		       struct nfm_error *err);
/* Time-driven work up to now_ns (packet time). */
int nfm_exporter_tick(struct nfm_exporter *ex, uint64_t now_ns, struct nfm_error *err);
/* Writes or sends what is pending (counts are final after it). */
int nfm_exporter_flush(struct nfm_exporter *ex, struct nfm_error *err);
/* Completes the output (ready for the set's commit); frees ex whatever the result. */
int nfm_exporter_close(struct nfm_exporter *ex, struct nfm_error *err);
/* Stops writing and frees ex (the set discards the file). NULL is fine. */
void nfm_exporter_abort(struct nfm_exporter *ex);
uint64_t nfm_exporter_rows(const struct nfm_exporter *ex);
/* A slice begins, for formats that hold all slices in one output (nfdump-dict);
 * returns 0 and does nothing for the others. */
int nfm_exporter_slice(struct nfm_exporter *ex, const char *name, struct nfm_error *err);
/* True when ops holds every slice in one output (it takes nfm_exporter_slice). */
bool nfm_exporter_takes_slices(const struct nfm_exporter_ops *ops);
/* Fills c (zeros when the exporter keeps no counts). */
void nfm_exporter_counts(const struct nfm_exporter *ex, struct nfm_export_counts *c);
/* True when ops writes NetFlow records (the netflow module must be in the layout). */
bool nfm_exporter_is_netflow(const struct nfm_exporter_ops *ops);
/* True for formats written as time slices (nfcapd, nfdump-dict). */
bool nfm_exporter_is_sliced(const struct nfm_exporter_ops *ops);
/* The network exporter serving url's scheme ("ipfix://host:port"), or NULL. */
const struct nfm_exporter_ops *nfm_exporter_for_url(const char *url);

#endif
