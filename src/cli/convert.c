#include "cli/convert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/source.h"
#include "export/exporter.h"
#include "feature/fields.h"
#include "flow/meter.h"
#include "flow/pipeline.h"

/* Per-protocol files of --split-by-protocol. */
enum { SPLIT_TCP, SPLIT_UDP, SPLIT_ICMP, SPLIT_ICMPV6, SPLIT_ARP, SPLIT_SCTP, SPLIT_OTHER, SPLIT_N };
static const char *const split_names[SPLIT_N] = { "tcp", "udp", "icmp", "icmpv6", "arp", "sctp", "other" };

struct nfm_outputs {
	const struct nfm_cli *cli;
	enum nfm_format fmt;
	struct nfm_columns cols;
	char *path;               /* output path or split base */
	char *report_base;
	struct nfm_exporter *main;
	struct nfm_exporter *split[SPLIT_N];
	struct nfm_report *report;
	struct nfm_flow_record *preview;
	size_t preview_n;
	const char *source_file;  /* current input for the source_file column */
	uint64_t flows;
	uint64_t evicted;         /* flows written early by the active-flow cap */
	uint64_t packets;
	int failed;
	struct nfm_error err;
	struct timespec t0;
};

static double elapsed_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static int split_index(const struct nfm_flow_record *r)
{
	if (r->l3 == 1 /* NFM_L3_ARP */)
		return SPLIT_ARP;
	switch (r->ip_proto) {
	case NFM_IPPROTO_TCP: return SPLIT_TCP;
	case NFM_IPPROTO_UDP: return SPLIT_UDP;
	case NFM_IPPROTO_ICMP: return SPLIT_ICMP;
	case NFM_IPPROTO_ICMPV6: return SPLIT_ICMPV6;
	case NFM_IPPROTO_SCTP: return SPLIT_SCTP;
	default: return SPLIT_OTHER;
	}
}

static int sink(void *ctx, const struct nfm_flow_record *rec)
{
	struct nfm_outputs *o = ctx;
	struct nfm_flow_record tmp;
	if (o->source_file) {
		tmp = *rec;
		tmp.source_file = o->source_file;
		rec = &tmp;
	}
	o->flows++;
	if (o->preview_n < o->cli->preview)
		o->preview[o->preview_n++] = *rec;
	if (o->report)
		nfm_report_add_flow(o->report, rec);
	struct nfm_exporter *ex = o->main;
	if (o->cli->split) {
		int k = split_index(rec);
		if (!o->split[k]) {
			size_t cap = strlen(o->path) + 32;
			char *name = malloc(cap);
			if (!name)
				return nfm_error_set(&o->err, NFM_ERR_NOMEM, "out of memory");
			snprintf(name, cap, "%s_%s.%s", o->path, split_names[k], nfm_format_ext(o->fmt));
			int rc = nfm_exporter_open(&o->split[k], o->fmt, name, &o->cols, &o->err);
			free(name);
			if (rc)
				return rc;
		}
		ex = o->split[k];
	}
	return nfm_exporter_write(ex, rec, &o->err);
}

struct nfm_outputs *nfm_outputs_open(const struct nfm_cli *cli, const char *path,
				     const char *report_base, bool with_source_column)
{
	struct nfm_outputs *o = calloc(1, sizeof *o);
	if (!o) {
		fprintf(stderr, "nexusflowmeter: out of memory\n");
		return NULL;
	}
	o->cli = cli;
	clock_gettime(CLOCK_MONOTONIC, &o->t0);
	if (cli->have_format)
		o->fmt = cli->format;
	else if (nfm_format_from_path(path, &o->fmt) != 0)
		o->fmt = NFM_FMT_CSV;
	unsigned mask = NFM_SET_BASE;
	if (with_source_column)
		mask |= NFM_SET_MERGE;
	if (cli->extended)
		mask |= NFM_SET_EXT;
	nfm_columns_select(&o->cols, mask);
	if (cli->split) {
		/* "flows.csv" and "flows" both give flows_tcp.csv, ... */
		o->path = dup_str(path);
		enum nfm_format f;
		char *dot = o->path ? strrchr(o->path, '.') : NULL;
		char *slash = o->path ? strrchr(o->path, '/') : NULL;
		if (dot && (!slash || dot > slash) && nfm_format_from_path(o->path, &f) == 0)
			*dot = '\0';
	} else {
		o->path = dup_str(path);
	}
	if (report_base)
		o->report_base = dup_str(report_base);
	if (cli->preview)
		o->preview = calloc(cli->preview, sizeof *o->preview);
	if (!o->path || (report_base && !o->report_base) || (cli->preview && !o->preview)) {
		fprintf(stderr, "nexusflowmeter: out of memory\n");
		nfm_outputs_close(o, false);
		return NULL;
	}
	if (report_base) {
		o->report = nfm_report_new();
		if (!o->report) {
			fprintf(stderr, "nexusflowmeter: out of memory\n");
			nfm_outputs_close(o, false);
			return NULL;
		}
	}
	if (!cli->split && nfm_exporter_open(&o->main, o->fmt, o->path, &o->cols, &o->err) != 0) {
		fprintf(stderr, "nexusflowmeter: %s\n", o->err.msg);
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
					volatile sig_atomic_t *stop, bool progress, unsigned workers)
{
	struct nfm_source *src = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	if (nfm_source_open(&src, path, &err) != 0) {
		if (*stop)
			return NFM_INPUT_INTERRUPTED;
		fprintf(stderr, "nexusflowmeter: %s\n", err.msg);
		if (o->report)
			nfm_report_add_input(o->report, display, "", &(struct nfm_counters){ 0 },
					     &(struct nfm_source_stats){ 0 }, err.msg);
		return NFM_INPUT_FAILED;
	}
	struct nfm_pipeline_config pc = { .meter = cli->meter, .workers = workers };
	struct nfm_pipeline *pl = nfm_pipeline_new(&pc, sink, o);
	if (!pl) {
		nfm_source_close(src);
		fprintf(stderr, "nexusflowmeter: %s: out of memory\n", display);
		return NFM_INPUT_FAILED;
	}
	o->source_file = (cli->merge && cli->directory) ? display : NULL;
	struct progress pg = { .on = progress, .total = nfm_source_file_size(src) };
	clock_gettime(CLOCK_MONOTONIC, &pg.t0);
	enum nfm_input_status status = NFM_INPUT_OK;
	char status_msg[600] = "";
	struct nfm_raw_packet pkt;
	uint64_t n = 0;
	int rc;
	for (;;) {
		rc = nfm_source_next(src, &pkt, &err);
		if (rc <= 0)
			break;
		if (nfm_pipeline_frame(pl, &pkt))
			break;
		if ((++n & 1023) == 0) {
			if (*stop)
				break;
			if (pg.on && (n & 65535) == 0)
				progress_draw(&pg, src, n, false);
			if (nfm_pipeline_done(pl))
				break;
		}
	}
	if (pg.on)
		progress_draw(&pg, src, n, true);
	if (*stop) {
		status = NFM_INPUT_INTERRUPTED;
	} else if (o->err.code) {
		status = NFM_INPUT_OUTPUT_FAILED;
	} else if (rc < 0) {
		/* Damage after the header: keep what was read, warn with the offset. */
		status = NFM_INPUT_DAMAGED;
		snprintf(status_msg, sizeof status_msg, "%s", err.msg);
		fprintf(stderr, "nexusflowmeter: warning: %s; flows up to there were written\n", err.msg);
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
		fprintf(stderr, "nexusflowmeter: %s\n", o->err.msg);
	o->packets += mcnt->packets;
	o->evicted += mcnt->flows_by_reason[NFM_END_EVICTED];
	if (o->report) {
		const char *fmt = nfm_source_format(src) == NFM_CAPFMT_PCAPNG ? "pcapng" : "pcap";
		const char *comp = nfm_source_compression(src) == NFM_COMP_GZIP ? "+gzip"
				   : nfm_source_compression(src) == NFM_COMP_ZSTD ? "+zstd" : "";
		char fmtbuf[32];
		snprintf(fmtbuf, sizeof fmtbuf, "%s%s", fmt, comp);
		nfm_report_add_input(o->report, display, fmtbuf, mcnt, nfm_source_stats(src), status_msg);
	}
	if (cli->verbose)
		fprintf(stderr, "nexusflowmeter: %s: %llu packets, %llu flows written, peak %llu active flows, %llu evicted\n",
			display, (unsigned long long)mcnt->packets,
			(unsigned long long)mcnt->flows_written,
			(unsigned long long)mcnt->peak_active_flows,
			(unsigned long long)mcnt->flows_by_reason[NFM_END_EVICTED]);
	nfm_pipeline_free(pl);
	nfm_source_close(src);
	return status;
}

int nfm_outputs_close(struct nfm_outputs *o, bool commit)
{
	if (!o)
		return 0;
	int rc = 0;
	struct nfm_error err;
	nfm_error_clear(&err);
	const struct nfm_cli *cli = o->cli;
	double secs = elapsed_since(&o->t0);
	if (commit) {
		if (o->main && nfm_exporter_close(o->main, &err) != 0) {
			fprintf(stderr, "nexusflowmeter: %s\n", err.msg);
			rc = -1;
		}
		o->main = NULL;
		for (int k = 0; k < SPLIT_N; k++) {
			if (o->split[k] && nfm_exporter_close(o->split[k], &err) != 0) {
				fprintf(stderr, "nexusflowmeter: %s\n", err.msg);
				rc = -1;
			}
			o->split[k] = NULL;
		}
		if (rc == 0 && o->report) {
			nfm_report_set_elapsed(o->report, secs);
			if (nfm_report_save(o->report, o->report_base, &err) != 0) {
				fprintf(stderr, "nexusflowmeter: %s\n", err.msg);
				rc = -1;
			} else if (cli->verbose) {
				nfm_report_write_text(o->report, stderr);
			}
		}
		if (rc == 0 && cli->preview) {
			FILE *pf = (o->path && strcmp(o->path, "-") == 0) ? stderr : stdout;
			const struct nfm_flow_record **all = calloc(o->preview_n ? o->preview_n : 1, sizeof *all);
			if (all) {
				for (size_t i = 0; i < o->preview_n; i++)
					all[i] = &o->preview[i];
				nfm_preview_print(pf, all, o->preview_n);
				free(all);
			}
			fflush(pf);
		}
		if (rc == 0 && !cli->quiet) {
			double rate = secs > 0 ? (double)o->packets / secs : 0;
			fprintf(stderr, "nexusflowmeter: %llu packets, %llu flows -> %s%s in %.2f s (%.2f M packets/s)",
				(unsigned long long)o->packets, (unsigned long long)o->flows, o->path,
				cli->split ? "_<protocol>.*" : "", secs, rate / 1e6);
			/* Which flows the cap writes early depends on the worker count. */
			if (o->evicted)
				fprintf(stderr, "; %llu evicted by the active-flow cap (records depend on --max-workers)",
					(unsigned long long)o->evicted);
			fputc('\n', stderr);
		}
	} else {
		nfm_exporter_abort(o->main);
		for (int k = 0; k < SPLIT_N; k++)
			nfm_exporter_abort(o->split[k]);
	}
	nfm_report_free(o->report);
	free(o->preview);
	free(o->path);
	free(o->report_base);
	free(o);
	return rc;
}
