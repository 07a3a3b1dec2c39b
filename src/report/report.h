/* The analysis report written beside each output: packet accounting, flows by protocol
 * and connection state, top talkers and top flows, duration/size/rate distributions,
 * as text and as JSON. Memory is bounded: top lists and histograms have fixed size
 * (top talkers use a bounded Space-Saving summary, exact while distinct addresses fit). */
#ifndef NFM_REPORT_REPORT_H
#define NFM_REPORT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "capture/source.h"
#include "flow/meter.h"
#include "flow/record.h"
#include "util/err.h"
#include "util/outset.h"

struct nfm_report;

struct nfm_report *nfm_report_new(void);
void nfm_report_free(struct nfm_report *rep);

/* An input that contributed to the report (several with --merge). status_msg is "" for a
 * clean read, or the warning/error text (e.g. truncation with offset). */
void nfm_report_add_input(struct nfm_report *rep, const char *name, const char *format,
			  const struct nfm_counters *c, const struct nfm_source_stats *s,
			  const char *status_msg);
/* Every written flow passes here (after the --protocols / --max-flows selection). */
void nfm_report_add_flow(struct nfm_report *rep, const struct nfm_flow_record *rec);
void nfm_report_set_elapsed(struct nfm_report *rep, double seconds);
/* What the conversion's active flows may take: the profile (its name; columns_given
 * when --columns chose the columns), the bytes one active flow holds
 * (nfm_meter_flow_bytes), the conversion's active-flow cap (0: none), the run's cap when
 * captures converted at once share it, and the --chunk-size budget the cap came from
 * (0: --max-active-flows set it). */
struct nfm_report_memory {
	char profile[64];
	bool columns_given;
	uint64_t bytes_per_flow;
	uint64_t cap, run_cap;
	uint64_t chunk_mib;
};
void nfm_report_set_memory(struct nfm_report *rep, const struct nfm_report_memory *m);
/* What one output of the conversion wrote or sent (NetFlow formats, time slices, network
 * exports): format name, destination (a path or a URL), the exporter's counts and the
 * number of time slices (0: not sliced). The report lists up to NFM_REPORT_OUTPUTS. */
#define NFM_REPORT_OUTPUTS 8
void nfm_report_add_output(struct nfm_report *rep, const char *format, const char *dest,
			   uint64_t records, uint64_t messages, uint64_t bytes,
			   uint64_t templates, uint64_t dropped, uint64_t slices);

int nfm_report_write_text(const struct nfm_report *rep, FILE *fp);
int nfm_report_write_json(const struct nfm_report *rep, FILE *fp);
/* Writes <base>.txt and <base>.json as files of set (put in place by its commit). */
int nfm_report_save(const struct nfm_report *rep, struct nfm_outset *set, const char *base,
		    struct nfm_error *err);

#endif
