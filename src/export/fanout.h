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
/* Adds an output. split: path is the base of the per-protocol names. max_rows: see
 * struct nfm_export_dest. cols must outlive the fanout. */
int nfm_fanout_add(struct nfm_fanout *fo, const struct nfm_exporter_ops *ops, const char *path,
		   const struct nfm_columns *cols, bool split, uint64_t max_rows,
		   struct nfm_error *err);
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
