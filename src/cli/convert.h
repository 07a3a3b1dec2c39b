/* One conversion job: captures in, one output set (a file, or one file per protocol),
 * optional preview and report. Used by single-file, batch and merge modes. */
#ifndef NFM_CLI_CONVERT_H
#define NFM_CLI_CONVERT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "cli/options.h"
#include "cli/plan.h"
#include "report/report.h"
#include "util/outset.h"

enum nfm_input_status {
	NFM_INPUT_OK = 0,
	NFM_INPUT_DAMAGED,     /* read up to a truncation/corruption; flows so far kept */
	NFM_INPUT_FAILED,      /* could not be read at all */
	NFM_INPUT_OUTPUT_FAILED,
	NFM_INPUT_INTERRUPTED,
};

struct nfm_outputs;

/* The bytes one active flow takes in a run of cli writing fmt (the modules of its
 * columns and of its outputs: nfm_meter_flow_bytes); 0 when the columns cannot be
 * built (parsing checked them). */
size_t nfm_outputs_flow_bytes(const struct nfm_cli *cli, const struct nfm_exporter_ops *fmt);

/* Opens the output set of a job (its flows file, or the split files as flows come, and
 * the reports at the end), registered in reg. Returns NULL after printing an error. */
struct nfm_outputs *nfm_outputs_open(const struct nfm_cli *cli, const struct nfm_job *job,
				     struct nfm_outreg *reg, bool with_source_column);
/* Converts one capture into the outputs with `workers` flow-worker threads (the records
 * are the same for any count unless the active-flow cap evicts flows). display is the
 * name used in messages and in the source_file column. stop is polled: nonzero ends
 * the conversion (interrupted). */
enum nfm_input_status nfm_convert_input(struct nfm_outputs *o, const struct nfm_cli *cli,
					const char *path, const char *display,
					const atomic_int *stop, bool progress, unsigned workers);
/* commit=true: completes every file and the reports and puts them all in place at once,
 * then prints the preview and the summary; on any failure nothing is put in place.
 * commit=false: discards everything. Returns 0 when committed. Frees o. */
int nfm_outputs_close(struct nfm_outputs *o, bool commit);

#endif
