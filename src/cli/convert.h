/* One conversion job: captures in, one output set (a file, or one file per protocol),
 * optional preview and report. Used by single-file, batch and merge modes. */
#ifndef NFM_CLI_CONVERT_H
#define NFM_CLI_CONVERT_H

#include <signal.h>
#include <stdbool.h>

#include "cli/options.h"
#include "report/report.h"

enum nfm_input_status {
	NFM_INPUT_OK = 0,
	NFM_INPUT_DAMAGED,     /* read up to a truncation/corruption; flows so far kept */
	NFM_INPUT_FAILED,      /* could not be read at all */
	NFM_INPUT_OUTPUT_FAILED,
	NFM_INPUT_INTERRUPTED,
};

struct nfm_outputs;

/* path: the output file ("-" for stdout); with split, the base of the per-protocol names.
 * report_base: NULL for no report. Returns NULL after printing an error. */
struct nfm_outputs *nfm_outputs_open(const struct nfm_cli *cli, const char *path,
				     const char *report_base, bool with_source_column);
/* Converts one capture into the outputs with `workers` flow-worker threads (the records
 * are the same for any count unless the active-flow cap evicts flows). display is the
 * name used in messages and in the source_file column. stop is polled to honour
 * SIGINT/SIGTERM. */
enum nfm_input_status nfm_convert_input(struct nfm_outputs *o, const struct nfm_cli *cli,
					const char *path, const char *display,
					volatile sig_atomic_t *stop, bool progress, unsigned workers);
/* Completes (commit=true) or discards the outputs; prints the preview and summary.
 * Returns 0 on success. Frees o. */
int nfm_outputs_close(struct nfm_outputs *o, bool commit);

#endif
