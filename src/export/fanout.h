/* The outputs of one conversion, fed by the pipeline's two halves (flow/pipeline.h):
 * nfm_fanout_encode runs in the flow workers and makes one row holding every output's
 * bytes for a flow (each distinct format encoded once); nfm_fanout_write runs in the
 * writer thread and hands each output its bytes, in order, routing a split output
 * (--split-by-protocol) to the file of the flow's protocol, opened when its first flow
 * comes. The row can also carry the flow record itself, for consumers on the writer side
 * (the report). */
#ifndef NFM_EXPORT_FANOUT_H
#define NFM_EXPORT_FANOUT_H

#include <stdbool.h>

#include "export/exporter.h"
#include "export/slice.h"

/* The files of --split-by-protocol: BASE_<name>.EXT */
enum { NFM_SPLIT_TCP, NFM_SPLIT_UDP, NFM_SPLIT_ICMP, NFM_SPLIT_ICMPV6, NFM_SPLIT_ARP,
       NFM_SPLIT_SCTP, NFM_SPLIT_OTHER, NFM_SPLIT_N };
extern const char *const nfm_split_names[NFM_SPLIT_N];
int nfm_split_index(const struct nfm_flow_record *r);
/* "<base>_<name>.<ext>"; caller frees. */
char *nfm_split_path(const char *base, int k, const struct nfm_exporter_ops *ops);

struct nfm_fanout;

/* keep_record: rows also carry the record (nfm_fanout_write hands it back). */
struct nfm_fanout *nfm_fanout_new(struct nfm_outset *set, bool keep_record);
/* One output of a conversion. Everything pointed to must outlive the fanout. */
struct nfm_fanout_spec {
	const struct nfm_exporter_ops *ops;
	const char *path;          /* a file, "-", the base of the split names, the directory
				    * of the slices, or a URL (network exporters) */
	const struct nfm_columns *cols;
	bool split;                /* --split-by-protocol: path is the base of the names */
	uint64_t max_rows;         /* see struct nfm_export_dest */
	/* Time slices (nfm_fanout_slice): a format that holds every slice in one output
	 * (nfdump-dict) is told where each begins; any other gets one file per slice in the
	 * directory path, named after the slice (export/slice.h) plus ".EXT" for formats
	 * other than nfcapd. NULL: not sliced. */
	const struct nfm_slice_spec *slices;
	const struct nfm_layout *layout;
	const struct nfm_netflow_opts *netflow;
};

/* Adds an output. */
int nfm_fanout_add(struct nfm_fanout *fo, const struct nfm_fanout_spec *spec,
		   struct nfm_error *err);
/* Writer side: a time slice begins at start_ns (the rows written from now on are its
 * own). Slices skipped since the previous one get empty outputs, except across a gap of
 * more than NFM_SLICE_GAP_MAX slices (hostile or broken timestamps), which is skipped
 * and counted (nfm_fanout_gaps_skipped). */
int nfm_fanout_slice(struct nfm_fanout *fo, uint64_t start_ns, struct nfm_error *err);
#define NFM_SLICE_GAP_MAX 10000u
uint64_t nfm_fanout_gaps_skipped(const struct nfm_fanout *fo);
/* Slices begun (empty ones included). */
uint64_t nfm_fanout_slices(const struct nfm_fanout *fo);
/* The counts of the i-th output (nfm_exporter_counts; for sliced files, the sum), final
 * after nfm_fanout_close. */
void nfm_fanout_counts(const struct nfm_fanout *fo, size_t i, struct nfm_export_counts *c);
/* The outputs, in the order they were added: how many, and each one's format, path (or
 * URL) and whether it is sliced. */
size_t nfm_fanout_outputs(const struct nfm_fanout *fo);
const struct nfm_exporter_ops *nfm_fanout_ops(const struct nfm_fanout *fo, size_t i);
const char *nfm_fanout_path(const struct nfm_fanout *fo, size_t i);
bool nfm_fanout_sliced(const struct nfm_fanout *fo, size_t i);
/* The source_file column of the rows encoded from now on (-d --merge); NULL: none.
 * Change it only while no encode runs (between inputs). */
void nfm_fanout_set_source(struct nfm_fanout *fo, const char *name);
/* Worker side (thread-safe): appends rec's row. */
int nfm_fanout_encode(const struct nfm_fanout *fo, const struct nfm_flow_record *rec,
		      struct nfm_buf *row);
/* Writer side: writes one row; *rec receives the record it carries (keep_record) or
 * NULL. */
int nfm_fanout_write(struct nfm_fanout *fo, const uint8_t *row, size_t len,
		     struct nfm_flow_record *rec, bool *have_rec, struct nfm_error *err);
int nfm_fanout_tick(struct nfm_fanout *fo, uint64_t now_ns, struct nfm_error *err);
/* Completes every output (the set's commit puts them in place). */
int nfm_fanout_close(struct nfm_fanout *fo, struct nfm_error *err);
/* Frees; outputs not closed are dropped. NULL is fine. */
void nfm_fanout_free(struct nfm_fanout *fo);
/* Rows written (each flow once, whatever the number of outputs). */
uint64_t nfm_fanout_rows(const struct nfm_fanout *fo);

#endif
