/* The plan of a run, made before anything is read or created: every capture to read,
 * every file to write (flows, split files, reports) and every directory to create,
 * each output checked against every input and every other output of the run by device
 * and inode (by the nearest existing directory and the rest of the name when it does
 * not exist yet), whatever path spells it. Two outputs of -d that would share a name get
 * distinct names here (a note says which); anything else that would overwrite an input,
 * collide, or replace what must not be replaced refuses the run. */
#ifndef NFM_CLI_PLAN_H
#define NFM_CLI_PLAN_H

#include <stddef.h>

#include "cli/options.h"
#include "export/fanout.h"
#include "util/outset.h"

/* One conversion: its inputs (several with -d --merge) and its output set. */
struct nfm_job {
	char **inputs;
	size_t ninputs;
	char *output;       /* the flows file ("-" = stdout), the base of the split names, or
			     * the directory of slice files (cli->slice_files) */
	char *report_base;  /* reports: REPORT_BASE.txt and .json; NULL with --no-report */
	const struct nfm_exporter_ops *fmt;
};

struct nfm_plan {
	struct nfm_job *jobs;
	size_t njobs;
	size_t ncaptures;   /* captures found (with -d: also those that cannot be read) */
	char **unreadable;  /* -d entries that cannot be read: one message each */
	size_t nunreadable;
	const char *dirs[3];/* directories to create when missing: -c, --report-dir, the
			     * directory of slice files */
	size_t ndirs;
	bool slice_files;   /* job outputs are directories of slice files */
};

/* Builds and checks the plan. Returns 0, or the exit status after printing one line. */
int nfm_plan_make(const struct nfm_cli *cli, struct nfm_plan *plan);
/* Creates the plan's directories and checks that files can be created wherever an
 * output goes. Returns 0, or the exit status after printing one line. */
int nfm_plan_prepare(const struct nfm_plan *plan, struct nfm_outreg *reg);
void nfm_plan_free(struct nfm_plan *plan);

#endif
