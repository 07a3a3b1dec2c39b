/* nexusflowmeter: command-line front end of the flow meter library. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/convert.h"
#include "cli/options.h"
#include "feature/fields.h"

#ifndef NFM_VERSION
#define NFM_VERSION "1.0.0"
#endif

/* The only mutable global: set by the SIGINT/SIGTERM handler, polled by conversions. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (!p)
		return NULL;
	size_t dl = strlen(dir);
	snprintf(p, n, "%s%s%s", dir, (dl && dir[dl - 1] == '/') ? "" : "/", name);
	return p;
}

/* Directory part of path ("." when none); caller frees. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Capture extensions recognised by -d, outermost compression first. */
static size_t capture_suffix_len(const char *name)
{
	static const char *const comp[] = { ".gz", ".zst", ".zstd", "" };
	static const char *const ext[] = { ".pcap", ".pcapng", ".cap" };
	size_t n = strlen(name);
	for (size_t c = 0; c < sizeof comp / sizeof comp[0]; c++) {
		size_t cl = strlen(comp[c]);
		if (n < cl || strcasecmp(name + n - cl, comp[c]) != 0)
			continue;
		for (size_t e = 0; e < sizeof ext / sizeof ext[0]; e++) {
			size_t el = strlen(ext[e]);
			if (n > cl + el && strncasecmp(name + n - cl - el, ext[e], el) == 0)
				return cl + el;
		}
	}
	return 0;
}

/* Stem of path's last component without its capture or output extension. */
static char *stem_of(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	size_t cut = capture_suffix_len(base);
	if (!cut) {
		const char *dot = strrchr(base, '.');
		if (dot && dot != base)
			cut = (size_t)(base + n - dot);
	}
	return strndup(base, n - cut);
}

static char *report_base_for(const struct nfm_cli *cli, const char *output, const char *input)
{
	if (cli->no_report)
		return NULL;
	const char *named = strcmp(output, "-") == 0 ? input : output;
	if (strcmp(named, "-") == 0)
		named = "stdin";
	char *stem = stem_of(named);
	char *dir = cli->report_dir ? strdup(cli->report_dir)
		    : strcmp(output, "-") == 0 ? strdup(".") : dir_of(output);
	char *name = NULL, *base = NULL;
	if (stem && dir) {
		size_t n = strlen(stem) + 8;
		name = malloc(n);
		if (name) {
			snprintf(name, n, "%s_report", stem);
			base = join_path(dir, name);
		}
	}
	free(stem);
	free(dir);
	free(name);
	return base;
}

static int ensure_dir(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
	free(p);
	if (rc == 0) {
		struct stat st;
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
	}
	return rc;
}

static int exit_for(enum nfm_input_status st)
{
	switch (st) {
	case NFM_INPUT_OK: return NFM_EXIT_OK;
	case NFM_INPUT_DAMAGED: return NFM_EXIT_PARTIAL;
	case NFM_INPUT_INTERRUPTED: return NFM_EXIT_INTERRUPTED;
	default: return NFM_EXIT_ERROR;
	}
}

static int run_single(const struct nfm_cli *cli, bool progress)
{
	if (cli->report_dir && !cli->no_report && ensure_dir(cli->report_dir) != 0) {
		fprintf(stderr, "nexusflowmeter: %s: cannot create report directory: %s\n",
			cli->report_dir, strerror(errno));
		return NFM_EXIT_ERROR;
	}
	/* Refuse before creating anything when the input cannot be opened. */
	if (strcmp(cli->input, "-") != 0 && access(cli->input, R_OK) != 0) {
		fprintf(stderr, "nexusflowmeter: %s: %s\n", cli->input, strerror(errno));
		return NFM_EXIT_ERROR;
	}
	char *rbase = report_base_for(cli, cli->output, cli->input);
	if (!cli->no_report && !rbase) {
		fprintf(stderr, "nexusflowmeter: out of memory\n");
		return NFM_EXIT_ERROR;
	}
	struct nfm_outputs *o = nfm_outputs_open(cli, cli->output, rbase, false);
	free(rbase);
	if (!o)
		return NFM_EXIT_ERROR;
	enum nfm_input_status st =
		nfm_convert_input(o, cli, cli->input, cli->input, &stop_requested, progress,
				  cli->workers);
	bool commit = st == NFM_INPUT_OK || st == NFM_INPUT_DAMAGED;
	if (st == NFM_INPUT_INTERRUPTED)
		fprintf(stderr, "nexusflowmeter: interrupted; no output was written\n");
	if (nfm_outputs_close(o, commit) != 0)
		return NFM_EXIT_ERROR;
	return exit_for(st);
}

struct batch {
	const struct nfm_cli *cli;
	char **files;       /* full paths */
	char **outputs;     /* per-file output paths (separate mode) */
	int *status;
	size_t n, next;
	pthread_mutex_t lock;
	unsigned flow_workers; /* flow-worker threads per capture */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_captures(const char *dir, char ***out, size_t *n_out)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "nexusflowmeter: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !capture_suffix_len(e->d_name))
			continue;
		char *full = join_path(dir, e->d_name);
		struct stat st;
		if (!full || stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(full);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				free(full);
				break;
			}
			v = nv;
		}
		v[n++] = full;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, cmp_str);
	*out = v;
	*n_out = n;
	return 0;
}

static void *batch_worker(void *arg)
{
	struct batch *b = arg;
	for (;;) {
		pthread_mutex_lock(&b->lock);
		size_t i = b->next < b->n && !stop_requested ? b->next++ : b->n;
		pthread_mutex_unlock(&b->lock);
		if (i >= b->n)
			break;
		const struct nfm_cli *cli = b->cli;
		char *rbase = report_base_for(cli, b->outputs[i], b->files[i]);
		struct nfm_outputs *o = nfm_outputs_open(cli, b->outputs[i], rbase, false);
		free(rbase);
		if (!o) {
			b->status[i] = NFM_INPUT_OUTPUT_FAILED;
			continue;
		}
		enum nfm_input_status st =
			nfm_convert_input(o, cli, b->files[i], b->files[i], &stop_requested, false,
					  b->flow_workers);
		bool commit = st == NFM_INPUT_OK || st == NFM_INPUT_DAMAGED;
		if (nfm_outputs_close(o, commit) != 0 && commit)
			st = NFM_INPUT_OUTPUT_FAILED;
		b->status[i] = (int)st;
	}
	return NULL;
}

static int run_batch(const struct nfm_cli *cli, bool progress)
{
	const char *outdir = cli->output_dir ? cli->output_dir : cli->directory;
	char **files = NULL;
	size_t n = 0;
	if (list_captures(cli->directory, &files, &n) != 0)
		return NFM_EXIT_ERROR;
	if (n == 0) {
		fprintf(stderr, "nexusflowmeter: %s: no capture files (*.pcap, *.pcapng, *.cap)\n",
			cli->directory);
		free(files);
		return NFM_EXIT_ERROR;
	}
	if (ensure_dir(outdir) != 0 ||
	    (cli->report_dir && !cli->no_report && ensure_dir(cli->report_dir) != 0)) {
		fprintf(stderr, "nexusflowmeter: %s: cannot create directory: %s\n",
			ensure_dir(outdir) != 0 ? outdir : cli->report_dir, strerror(errno));
		for (size_t i = 0; i < n; i++)
			free(files[i]);
		free(files);
		return NFM_EXIT_ERROR;
	}
	enum nfm_format fmt = cli->have_format ? cli->format : NFM_FMT_CSV;
	int exit_code = NFM_EXIT_OK;
	size_t failed = 0, damaged = 0;

	if (cli->merge) {
		char *out = NULL;
		if (cli->output) {
			out = strdup(cli->output);
		} else {
			char name[64];
			snprintf(name, sizeof name, "merged_flows.%s", nfm_format_ext(fmt));
			out = join_path(outdir, name);
		}
		char *rbase = out ? report_base_for(cli, out, "merged") : NULL;
		struct nfm_outputs *o = out ? nfm_outputs_open(cli, out, rbase, true) : NULL;
		free(rbase);
		free(out);
		if (!o) {
			exit_code = NFM_EXIT_ERROR;
		} else {
			bool interrupted = false;
			for (size_t i = 0; i < n && !interrupted; i++) {
				const char *base = strrchr(files[i], '/');
				enum nfm_input_status st = nfm_convert_input(
					o, cli, files[i], base ? base + 1 : files[i], &stop_requested, progress,
					cli->workers);
				if (st == NFM_INPUT_FAILED)
					failed++;
				else if (st == NFM_INPUT_DAMAGED)
					damaged++;
				else if (st == NFM_INPUT_INTERRUPTED || st == NFM_INPUT_OUTPUT_FAILED)
					interrupted = true;
			}
			if (interrupted) {
				nfm_outputs_close(o, false);
				exit_code = stop_requested ? NFM_EXIT_INTERRUPTED : NFM_EXIT_ERROR;
				if (stop_requested)
					fprintf(stderr, "nexusflowmeter: interrupted; no output was written\n");
			} else if (nfm_outputs_close(o, failed < n) != 0 || failed == n) {
				exit_code = NFM_EXIT_ERROR;
			} else if (failed || damaged) {
				exit_code = NFM_EXIT_PARTIAL;
			}
		}
	} else {
		struct batch b = { .cli = cli, .files = files, .n = n };
		b.outputs = calloc(n, sizeof *b.outputs);
		b.status = calloc(n, sizeof *b.status);
		pthread_mutex_init(&b.lock, NULL);
		if (!b.outputs || !b.status) {
			fprintf(stderr, "nexusflowmeter: out of memory\n");
			exit_code = NFM_EXIT_ERROR;
		} else {
			for (size_t i = 0; i < n; i++) {
				char *stem = stem_of(files[i]);
				char name[512];
				snprintf(name, sizeof name, "%s.%s", stem ? stem : "out", nfm_format_ext(fmt));
				/* Two captures with one stem (a.pcap, a.pcapng): keep both outputs. */
				for (size_t j = 0; j < i; j++) {
					char *other = stem_of(files[j]);
					if (other && stem && strcmp(other, stem) == 0) {
						const char *base = strrchr(files[i], '/');
						snprintf(name, sizeof name, "%s.%s", base ? base + 1 : files[i],
							 nfm_format_ext(fmt));
					}
					free(other);
				}
				free(stem);
				b.outputs[i] = join_path(outdir, name);
			}
			/* --max-workers threads in all: several captures at once, each with its
			 * share of flow workers. */
			unsigned workers = cli->workers ? cli->workers : 1;
			if (workers > n)
				workers = (unsigned)n;
			b.flow_workers = (cli->workers ? cli->workers : 1) / workers;
			if (b.flow_workers == 0)
				b.flow_workers = 1;
			pthread_t tids[256];
			unsigned started = 0;
			for (unsigned w = 1; w < workers; w++)
				if (pthread_create(&tids[started], NULL, batch_worker, &b) == 0)
					started++;
			batch_worker(&b);
			for (unsigned w = 0; w < started; w++)
				pthread_join(tids[w], NULL);
			for (size_t i = 0; i < n; i++) {
				if (b.status[i] == NFM_INPUT_DAMAGED)
					damaged++;
				else if (b.status[i] != NFM_INPUT_OK)
					failed++;
			}
			if (stop_requested)
				exit_code = NFM_EXIT_INTERRUPTED;
			else if (failed == n)
				exit_code = NFM_EXIT_ERROR;
			else if (failed || damaged)
				exit_code = NFM_EXIT_PARTIAL;
			if (!cli->quiet)
				fprintf(stderr, "nexusflowmeter: %zu captures: %zu converted, %zu damaged, %zu failed\n",
					n, n - failed - damaged, damaged, failed);
		}
		for (size_t i = 0; b.outputs && i < n; i++)
			free(b.outputs[i]);
		free(b.outputs);
		free(b.status);
		pthread_mutex_destroy(&b.lock);
	}
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return exit_code;
}

static void list_columns(FILE *fp)
{
	size_t n;
	const struct nfm_field *f = nfm_fields(&n);
	for (size_t i = 0; i < n; i++) {
		const char *set = (f[i].set & NFM_SET_BASE) ? "" : (f[i].set & NFM_SET_MERGE) ? " [--merge]" : " [--extended]";
		fprintf(fp, "%-24s %-10s %s%s\n", f[i].name, f[i].unit && *f[i].unit ? f[i].unit : "-",
			f[i].desc, set);
	}
}

int main(int argc, char **argv)
{
	struct nfm_cli cli;
	int rc = nfm_cli_parse(argc, argv, &cli, stderr);
	if (rc)
		return rc;
	if (cli.help) {
		nfm_cli_help(stdout);
		return fflush(stdout) == 0 ? NFM_EXIT_OK : NFM_EXIT_ERROR;
	}
	if (cli.version) {
		printf("nexusflowmeter %s\n", NFM_VERSION);
		return NFM_EXIT_OK;
	}
	if (cli.list_columns) {
		list_columns(stdout);
		return NFM_EXIT_OK;
	}
	if (getenv("NFM_LIST_OPTIONS")) { /* used by the man-page test */
		nfm_cli_list_options(stdout);
		return NFM_EXIT_OK;
	}
	/* --chunk-size is a memory budget for active flows unless a flow cap is given. */
	if (!cli.meter.max_active_flows)
		cli.meter.max_active_flows = cli.chunk_mb * 1024 * 1024 / 512;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	bool progress = !cli.progress_forced_off && !cli.quiet && isatty(STDERR_FILENO);
	if (cli.verbose) {
		fprintf(stderr, "nexusflowmeter %s: flow timeout %.3f s, active timeout %.3f s, "
				"max active flows %llu%s\n",
			NFM_VERSION, (double)cli.meter.idle_timeout_ns / 1e9,
			(double)cli.meter.active_timeout_ns / 1e9,
			(unsigned long long)cli.meter.max_active_flows,
			cli.stream ? " (streaming is always on)" : "");
	}
	if (cli.directory)
		return run_batch(&cli, progress && cli.merge);
	return run_single(&cli, progress);
}
