/* The metering pipeline: the caller's thread reads and decodes frames and deals them to
 * worker threads, each owning a shard of the flows (chosen by a symmetric hash of the
 * two addresses, so both directions and every fragment of a datagram meet in one shard);
 * a writer thread hands the finished flows to the sink, off the packet path.
 *
 * Output identity: frames travel in batches of a fixed number of frames (a batch ends
 * early only where the caller lets time pass, nfm_pipeline_advance, which depends on the
 * input alone); every worker advances its clock to the batch's newest timestamp at the
 * end of each batch, so a flow ends in the same batch whatever the number of workers. The writer emits the flows that
 * ended in one batch in the order of their first packet, and the flows still open at
 * the end of the input in the order of their first packet. The records written are
 * therefore the same, in the same order, for any worker count as long as no flow is
 * evicted. max_active_flows is shared out among the workers (quotas adding up to exactly
 * the cap, so no more workers than the cap) and a full worker evicts the flow idle for
 * the longest in its own shard: with evictions the records depend on the worker count
 * (docs/flows.md). */
#ifndef NFM_FLOW_PIPELINE_H
#define NFM_FLOW_PIPELINE_H

#include <stdint.h>

#include "capture/source.h"
#include "flow/meter.h"
#include "util/buf.h"
#include "util/buf.h"

#define NFM_PIPELINE_MAX_WORKERS 64

/* Called in a worker thread when a flow ends: appends the flow's row to row (any bytes
 * the caller's emit understands; rec->modules is valid during the call). Called by
 * several workers at once: ctx must be read-only here. Nonzero stops the pipeline. */
typedef int (*nfm_row_encode)(void *ctx, const struct nfm_flow_record *rec, struct nfm_buf *row);
/* Called in the writer thread for each row, one at a time, in the order described above.
 * Nonzero stops the pipeline. */
typedef int (*nfm_row_emit)(void *ctx, const uint8_t *row, size_t len);

/* Called in the writer thread, in the order of the rows, when a time slice begins
 * (cfg.slice_ns): every row handed on before belongs to earlier slices, every row after
 * to this one (until the next call). start_ns is the slice's start, a multiple of
 * slice_ns. Nonzero stops the pipeline. */
typedef int (*nfm_slice_begin)(void *ctx, uint64_t start_ns);

struct nfm_pipeline_config {
	struct nfm_meter_config meter; /* max_active_flows is shared out among the workers */
	unsigned workers;              /* 1..NFM_PIPELINE_MAX_WORKERS (0 means 1); at most
					* max_active_flows, and 1 with max_flows */
	nfm_row_encode encode;         /* NULL: rows are the records, handed to the sink */
	nfm_row_emit emit;
	void *ctx;                     /* for encode, emit and slice */
	/* Time slices: with slice_ns > 0, packet time is cut into slots of slice_ns
	 * (aligned on the epoch). When a frame's time enters a later slot, every open flow
	 * is written (reason SLICE) before that frame is metered, so each flow lies in one
	 * slot and the rows of a slot come together, announced by slice(). A frame whose
	 * time goes back counts in the current slot. Works with encode/emit only. */
	uint64_t slice_ns;
	nfm_slice_begin slice;
};

struct nfm_pipeline;

/* With cfg->encode NULL, sink is called from the writer thread, one record at a time
 * (rec->modules is NULL there); otherwise sink is unused and may be NULL. */
/* With cfg->encode NULL, sink is called from the writer thread, one record at a time
 * (rec->modules is NULL there); otherwise sink is unused and may be NULL. */
struct nfm_pipeline *nfm_pipeline_new(const struct nfm_pipeline_config *cfg, nfm_flow_sink sink,
				      void *sink_ctx);
/* Decodes and queues one frame (its bytes are not kept). Returns 0, or the nonzero
 * value with which the sink or an allocation stopped the pipeline. */
int nfm_pipeline_frame(struct nfm_pipeline *pl, const struct nfm_raw_packet *raw);
/* Lets time pass without a frame: the input's clock is now now_ns (a live source's
 * NFM_SOURCE_IDLE). The batch being filled is handed on at once, however few frames it
 * holds (none too), with its time set to the newest of now_ns and every timestamp seen
 * so far, so every worker moves its clock there (never back) and the flows due by then
 * are written without waiting for more frames. That batch is one like any other (its
 * flows are written in the order of their first packet), so the records still do not
 * depend on the worker count; a capture read to its end without such calls gives the
 * same output as before. A call that cannot change anything (no frame since the last
 * batch, and a time not after the one that batch reached) returns at once. The capture
 * time span and ts_backwards of the counters count frames only. Returns 0, or the
 * nonzero value with which the sink or an allocation stopped the pipeline. */
int nfm_pipeline_advance(struct nfm_pipeline *pl, uint64_t now_ns);
/* True when max_flows is reached and all those flows are written (single worker). */
int nfm_pipeline_done(struct nfm_pipeline *pl);
/* Drains the queues, writes the flows still open when write_open is true, and stops the
 * threads. Returns 0 or the error that stopped the pipeline. Call once. */
int nfm_pipeline_finish(struct nfm_pipeline *pl, int write_open);
/* Counters of the whole input (after finish). peak_active_flows is exact with one
 * worker; with several it is the highest sum over a batch of each worker's peak in the
 * batch: at least the true peak, at most that plus the flows created in one batch, and
 * never above max_active_flows. */
void nfm_pipeline_counters(const struct nfm_pipeline *pl, struct nfm_counters *out);
void nfm_pipeline_free(struct nfm_pipeline *pl); /* after finish; NULL is fine */

#endif
