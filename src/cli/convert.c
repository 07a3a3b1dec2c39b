#include "cli/convert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/source.h"
#include "cli/msg.h"
#include "export/exporter.h"
#include "export/fanout.h"
#include "feature/fields.h"
#include "feature/netflow.h"
#include "feature/nfstream.h"
#include "feature/profiles.h"
#include "flow/meter.h"
#include "flow/pipeline.h"

struct nfm_outputs {
	const struct nfm_cli *cli;
	const struct nfm_job *job;
	struct nfm_layout layout; /* the feature modules the columns need */
	struct nfm_module splt;   /* the early-packet module of --splt N */
	struct nfm_columns cols;
	struct nfm_outset *set;
	struct nfm_fanout *fanout;
	struct nfm_report *report;
	uint64_t evicted;         /* flows written early by the active-flow cap */
	uint64_t packets;
	uint64_t gaps_warned;     /* empty slices skipped, already reported */
	struct nfm_error err;     /* the first error of the writer side */
	struct timespec t0;
};

static double elapsed_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Worker side: every output's bytes for the flow. */
static int encode_row(void *ctx, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct nfm_outputs *o = ctx;
	return nfm_fanout_encode(o->fanout, rec, row);
}

/* Writer side: a time slice begins. */
static int begin_slice(void *ctx, uint64_t start_ns)
{
	struct nfm_outputs *o = ctx;
	return nfm_fanout_slice(o->fanout, start_ns, &o->err);
}

/* Writer side: time-driven work of the outputs. */
static int tick_outputs(void *ctx, uint64_t now_ns)
{
	struct nfm_outputs *o = ctx;
	return nfm_fanout_tick(o->fanout, now_ns, &o->err);
}

/* Writer side: the report sees the flow, the outputs get their bytes. */
static int emit_row(void *ctx, const uint8_t *row, size_t len)
{
	struct nfm_outputs *o = ctx;
	struct nfm_flow_record rec;
	bool have;
	int rc = nfm_fanout_write(o->fanout, row, len, &rec, &have, &o->err);
	if (rc == 0 && have && o->report)
		nfm_report_add_flow(o->report, &rec);
	return rc;
}

/* The layout and columns of a run of cli writing fmt: the profile's or --columns', the
 * early-packet columns of --splt (its module described in *splt, which the layout then
 * points to), and the NetFlow module when NetFlow records are written or sent. */
static int build_columns(const struct nfm_cli *cli, const struct nfm_exporter_ops *fmt,
			 bool with_source_column, struct nfm_module *splt,
			 struct nfm_layout *layout, struct nfm_columns *cols, struct nfm_error *err)
{
	const struct nfm_module *extra[1];
	size_t nextra = 0;
	if (nfm_exporter_is_netflow(fmt) || cli->nexports)
		extra[nextra++] = &nfm_mod_netflow;
	const struct nfm_module *more[1] = { splt };
	struct nfm_profile_spec ps = { .profile = cli->profile, .columns = cli->columns,
				       .source_file = with_source_column,
				       .extra = extra, .nextra = nextra,
				       .more = more, .nmore = cli->splt ? 1 : 0 };
	if (cli->splt && nfm_mod_splt_init(splt, cli->splt, err))
		return NFM_ERR_INVALID;
	return nfm_profile_build(&ps, layout, cols, err);
}

size_t nfm_outputs_flow_bytes(const struct nfm_cli *cli, const struct nfm_exporter_ops *fmt)
{
	struct nfm_module splt;
	struct nfm_layout layout;
	struct nfm_columns cols = { 0 };
	struct nfm_error err;
	size_t bytes = 0;
	if (build_columns(cli, fmt, false, &splt, &layout, &cols, &err) == 0)
		bytes = nfm_meter_flow_bytes(&layout);
	nfm_columns_free(&cols);
	return bytes;
}

struct nfm_outputs *nfm_outputs_open(const struct nfm_cli *cli, const struct nfm_job *job,
				     struct nfm_outreg *reg, bool with_source_column)
{
	struct nfm_outputs *o = calloc(1, sizeof *o);
	if (!o) {
		nfm_msg("out of memory");
		return NULL;
	}
	o->cli = cli;
	o->job = job;
	clock_gettime(CLOCK_MONOTONIC, &o->t0);
	if (build_columns(cli, job->fmt, with_source_column, &o->splt, &o->layout, &o->cols,
			  &o->err)) {
		nfm_msg("%s", o->err.msg);
		free(o);
		return NULL;
	}
	o->set = nfm_outset_new(reg, job->ninputs == 1 ? job->inputs[0] : NULL);
	if (o->set)
		o->fanout = nfm_fanout_new(o->set, job->report_base != NULL);
	if (job->report_base)
		o->report = nfm_report_new();
	if (o->report) {
		struct nfm_report_memory mem = { .columns_given = cli->columns != NULL,
						 .bytes_per_flow = nfm_meter_flow_bytes(&o->layout),
						 .cap = cli->meter.max_active_flows,
						 .run_cap = cli->run_cap,
						 .chunk_mib = cli->cap_from_chunk ? cli->chunk_mb : 0 };
		snprintf(mem.profile, sizeof mem.profile, "%s", cli->profile->name);
		nfm_report_set_memory(o->report, &mem);
	}
	if (!o->fanout || (job->report_base && !o->report)) {
		nfm_msg("out of memory");
		nfm_outputs_close(o, false);
		return NULL;
	}
	struct nfm_fanout_spec spec = { .ops = job->fmt, .path = job->output, .cols = &o->cols,
					.split = cli->split, .layout = &o->layout,
					.netflow = &cli->netflow,
					.slices = cli->slices.slice_ns ? &cli->slices : NULL };
	int rc = nfm_fanout_add(o->fanout, &spec, &o->err);
	/* The preview table goes to standard output, or standard error when the flows do. */
	if (rc == 0 && cli->preview) {
		struct nfm_fanout_spec pv = { .ops = nfm_exporter_find("preview"),
					      .path = strcmp(job->output, "-") == 0 ? "/dev/stderr" : "-",
					      .cols = &o->cols, .max_rows = cli->preview };
		rc = nfm_fanout_add(o->fanout, &pv, &o->err);
	}
	/* Network exporters send the NetFlow records beside the outputs. */
	for (size_t i = 0; i < cli->nexports && rc == 0; i++) {
		struct nfm_fanout_spec ex = { .ops = nfm_exporter_for_url(cli->exports[i]),
					      .path = cli->exports[i], .cols = &o->cols,
					      .layout = &o->layout, .netflow = &cli->netflow };
		rc = nfm_fanout_add(o->fanout, &ex, &o->err);
	}
	if (rc) {
		nfm_msg("%s", o->err.msg);
		nfm_outputs_close(o, false);
		return NULL;
	}
	return o;
}

/* ---- progress bar (stderr, only when it is a terminal) ---- */

struct progress {
	bool on;
	uint64_t total;
	struct timespec t0;
	double last;
};

static void progress_draw(struct progress *pg, const struct nfm_source *src, uint64_t packets,
			  bool final)
{
	double t = elapsed_since(&pg->t0);
	if (!final && t - pg->last < 0.2)
		return;
	pg->last = t;
	uint64_t done = nfm_source_bytes_read(src);
	double rate = t > 0 ? (double)packets / t : 0;
	char eta[32] = "";
	double frac = pg->total ? (double)done / (double)pg->total : 0;
	if (frac > 1)
		frac = 1;
	if (pg->total && frac > 0.01 && !final) {
		double left = t / frac - t;
		snprintf(eta, sizeof eta, " ETA %d:%02d", (int)(left / 60), (int)left % 60);
	}
	int width = 24, fill = (int)(frac * width);
	char bar[32];
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	if (pg->total)
		fprintf(stderr, "\r[%s] %3d%% %7.1f/%.1f MB %6.2f Mpkt/s%s   ", bar, (int)(frac * 100),
			(double)done / 1e6, (double)pg->total / 1e6, rate / 1e6, eta);
	else
		fprintf(stderr, "\r%7.1f MB %llu packets %6.2f Mpkt/s   ", (double)done / 1e6,
			(unsigned long long)packets, rate / 1e6);
	if (final)
		fputs("\r\033[K", stderr);
}

enum nfm_input_status nfm_convert_input(struct nfm_outputs *o, const struct nfm_cli *cli,
					const char *path, const char *display,
					const atomic_int *stop, bool progress, unsigned workers)
{
	struct nfm_source *src = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	if (nfm_source_open(&src, path, &err) != 0) {
		if (atomic_load(stop))
			return NFM_INPUT_INTERRUPTED;
		nfm_msg("%s", err.msg);
		if (o->report)
			nfm_report_add_input(o->report, display, "", &(struct nfm_counters){ 0 },
					     &(struct nfm_source_stats){ 0 }, err.msg);
		return NFM_INPUT_FAILED;
	}
	struct nfm_pipeline_config pc = { .meter = cli->meter, .workers = workers,
					  .encode = encode_row, .emit = emit_row, .ctx = o,
					  .slice_ns = cli->slices.slice_ns, .slice = begin_slice,
					  .tick = tick_outputs };
	pc.meter.layout = &o->layout;
	struct nfm_pipeline *pl = nfm_pipeline_new(&pc, NULL, NULL);
	if (!pl) {
		nfm_source_close(src);
		nfm_msg("%s: out of memory", display);
		return NFM_INPUT_FAILED;
	}
	nfm_fanout_set_source(o->fanout, (cli->merge && cli->directory) ? display : NULL);
	struct progress pg = { .on = progress, .total = nfm_source_file_size(src) };
	clock_gettime(CLOCK_MONOTONIC, &pg.t0);
	enum nfm_input_status status = NFM_INPUT_OK;
	char status_msg[600] = "";
	struct nfm_raw_packet pkt;
	uint64_t n = 0;
	int rc;
	for (;;) {
		rc = nfm_source_next(src, &pkt, &err);
		if (rc != 1) {
			if (rc != NFM_SOURCE_IDLE)
				break; /* end of input or error */
			/* No packet yet (a live source): let time pass. */
			if (nfm_pipeline_advance(pl, pkt.ts_ns) ||
			    atomic_load_explicit(stop, memory_order_relaxed))
				break;
			continue;
		}
		if (nfm_pipeline_frame(pl, &pkt))
			break;
		if ((++n & 1023) == 0) {
			if (atomic_load_explicit(stop, memory_order_relaxed))
				break;
			if (pg.on && (n & 65535) == 0)
				progress_draw(&pg, src, n, false);
			if (nfm_pipeline_done(pl))
				break;
		}
	}
	if (pg.on)
		progress_draw(&pg, src, n, true);
	if (atomic_load(stop)) {
		status = NFM_INPUT_INTERRUPTED;
	} else if (o->err.code) {
		status = NFM_INPUT_OUTPUT_FAILED;
	} else if (rc < 0) {
		/* Damage after the header: keep what was read, warn with the offset. */
		status = NFM_INPUT_DAMAGED;
		snprintf(status_msg, sizeof status_msg, "%s", err.msg);
		nfm_msg("warning: %s; flows up to there are kept", err.msg);
	}
	int keep = status == NFM_INPUT_OK || status == NFM_INPUT_DAMAGED;
	if (nfm_pipeline_finish(pl, keep) && keep)
		status = NFM_INPUT_OUTPUT_FAILED;
	if (status == NFM_INPUT_OUTPUT_FAILED && !o->err.code)
		nfm_error_set(&o->err, NFM_ERR_NOMEM, "%s: out of memory", display);
	struct nfm_counters counters;
	nfm_pipeline_counters(pl, &counters);
	const struct nfm_counters *mcnt = &counters;
	if (status == NFM_INPUT_OUTPUT_FAILED)
		nfm_msg("%s", o->err.msg);
	uint64_t gaps = nfm_fanout_gaps_skipped(o->fanout);
	if (gaps > o->gaps_warned) {
		nfm_msg("warning: %s: %llu empty time slices not written (gaps of more than %u slices between packets)",
			display, (unsigned long long)(gaps - o->gaps_warned), NFM_SLICE_GAP_MAX);
		o->gaps_warned = gaps;
	}
	o->packets += mcnt->packets;
	o->evicted += mcnt->flows_by_reason[NFM_END_EVICTED];
	if (o->report) {
		const char *fmt = nfm_source_format_name(src);
		const char *comp = nfm_source_compression(src) == NFM_COMP_GZIP ? "+gzip"
				   : nfm_source_compression(src) == NFM_COMP_ZSTD ? "+zstd" : "";
		char fmtbuf[32];
		snprintf(fmtbuf, sizeof fmtbuf, "%s%s", fmt, comp);
		nfm_report_add_input(o->report, display, fmtbuf, mcnt, nfm_source_stats(src), status_msg);
	}
	if (cli->verbose)
		nfm_msg("%s: %llu packets, %llu flows, peak %llu active flows, %llu evicted", display,
			(unsigned long long)mcnt->packets, (unsigned long long)mcnt->flows_written,
			(unsigned long long)mcnt->peak_active_flows,
			(unsigned long long)mcnt->flows_by_reason[NFM_END_EVICTED]);
	nfm_pipeline_free(pl);
	nfm_source_close(src);
	return status;
}

/* Completes every file of the set and puts them in place together. */
static int commit_all(struct nfm_outputs *o, struct nfm_error *err)
{
	int rc = nfm_fanout_close(o->fanout, err);
	/* What the NetFlow outputs and exports wrote or sent; an export's first send
	 * problem (records not sent) as one warning. */
	for (size_t i = 0; rc == 0 && i < nfm_fanout_outputs(o->fanout); i++) {
		const struct nfm_exporter_ops *ops = nfm_fanout_ops(o->fanout, i);
		if (!nfm_exporter_is_netflow(ops))
			continue;
		struct nfm_export_counts c;
		nfm_fanout_counts(o->fanout, i, &c);
		if (c.warning[0])
			nfm_msg("warning: %s", c.warning);
		if (o->report)
			nfm_report_add_output(o->report, nfm_exporter_name(ops),
					      nfm_fanout_path(o->fanout, i), c.records, c.messages,
					      c.bytes, c.templates, c.dropped,
					      nfm_fanout_sliced(o->fanout, i) ? nfm_fanout_slices(o->fanout) : 0);
	}
	if (rc == 0 && o->report) {
		nfm_report_set_elapsed(o->report, elapsed_since(&o->t0));
		rc = nfm_report_save(o->report, o->set, o->job->report_base, err);
	}
	if (rc == 0)
		rc = nfm_outset_commit(o->set, err);
	return rc;
}

int nfm_outputs_close(struct nfm_outputs *o, bool commit)
{
	if (!o)
		return 0;
	int rc = 0;
	const struct nfm_cli *cli = o->cli;
	uint64_t flows = nfm_fanout_rows(o->fanout);
	if (commit) {
		struct nfm_error err;
		nfm_error_clear(&err);
		rc = commit_all(o, &err);
		if (rc)
			nfm_msg("%s", err.msg);
	}
	nfm_fanout_free(o->fanout);
	nfm_outset_free(o->set); /* discards whatever was not committed */
	if (commit && rc == 0 && !cli->quiet) {
		double secs = elapsed_since(&o->t0); /* the whole run, packaging included */
		double rate = secs > 0 ? (double)o->packets / secs : 0;
		/* Which flows the cap writes early depends on the worker count. */
		char ev[128] = "";
		if (o->evicted)
			snprintf(ev, sizeof ev, "; %llu evicted by the active-flow cap (records depend on --max-workers)",
				 (unsigned long long)o->evicted);
		nfm_msg("%llu packets, %llu flows -> %s%s in %.2f s (%.2f M packets/s)%s",
			(unsigned long long)o->packets, (unsigned long long)flows, o->job->output,
			cli->split ? "_<protocol>.*" : "", secs, rate / 1e6, ev);
	}
	nfm_report_free(o->report);
	nfm_columns_free(&o->cols);
	free(o);
	return commit ? rc : 0;
}
