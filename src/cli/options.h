/* Command-line options: one table drives parsing, --help and the man-page check. */
#ifndef NFM_CLI_OPTIONS_H
#define NFM_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "export/exporter.h"
#include "export/slice.h"
#include "feature/netflow.h"
#include "feature/profile.h"
#include "flow/meter.h"

/* Exit codes (docs/nexusflowmeter.1, README). */
enum {
	NFM_EXIT_OK = 0,
	NFM_EXIT_ERROR = 1,      /* an input could not be read or an output not written */
	NFM_EXIT_USAGE = 2,      /* bad command line */
	NFM_EXIT_PARTIAL = 3,    /* outputs written, but an input was damaged (truncated or
				  * corrupt part-way) or, in batch mode, some inputs failed */
	NFM_EXIT_INTERRUPTED = 130,
};

#define NFM_CLI_MAX_EXPORTS 4

struct nfm_cli {
	const char *input;        /* positional pcap_file ("-" = stdin) */
	const char *output;       /* positional output_file ("-" = stdout) */
	const char *directory;    /* -d */
	const char *output_dir;   /* -c */
	const char *report_dir;   /* --report-dir */
	bool merge, split, stream, verbose, quiet, no_report, list_columns, list_profiles;
	bool help, version, progress_forced_off;
	const struct nfm_profile *profile; /* --profile (--extended); never NULL after parsing */
	const char *columns;      /* --columns LIST, or NULL: the profile's */
	unsigned splt;            /* --splt N: early-packet columns of N packets (0: none) */
	bool have_idle, have_active; /* --flow-timeout / --active-timeout given (else the
				      * profile's timeouts) */
	bool have_format;
	const struct nfm_exporter_ops *format; /* -of, when have_format */
	uint64_t preview;         /* --quick-preview N (0 = off) */
	uint64_t chunk_mb;        /* --chunk-size: memory budget for active flows */
	/* Set once the run is planned (cli/main.c): the bytes one active flow of the run
	 * holds, the run's active-flow cap (meter.max_active_flows, which captures converted
	 * at once share), and whether --chunk-size set it. */
	size_t flow_bytes;
	uint64_t run_cap;
	bool cap_from_chunk;
	unsigned workers;         /* --max-workers */
	struct nfm_meter_config meter;
	/* The NetFlow side */
	struct nfm_slice_spec slices; /* --slice (slice_ns 0: none), --slice-subdirs,
				       * --localtime */
	bool slice_files;         /* the output is a directory of one file per slice */
	struct nfm_netflow_opts netflow; /* --sort-by, --lz4, --ident, --export-... */
	const char *exports[NFM_CLI_MAX_EXPORTS]; /* --export URL, in order */
	size_t nexports;
	bool export_opts;         /* an --export-* option was given */
};

/* Parses argv. Returns 0, or NFM_EXIT_USAGE after printing one error line and a hint to
 * err. */
int nfm_cli_parse(int argc, char **argv, struct nfm_cli *cli, FILE *err);
void nfm_cli_usage(FILE *fp);  /* the short usage line */
void nfm_cli_help(FILE *fp);   /* full --help from the option table */
/* Every long option name, NULL-terminated (for the man-page test). */
void nfm_cli_list_options(FILE *fp);

#endif
