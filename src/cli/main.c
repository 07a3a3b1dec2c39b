/* nexusflowmeter: command-line front end of the flow meter library.
 *
 * A run: parse the options, plan every input and output and check them against each
 * other (plan.c), create the directories, then convert. Terminating signals are blocked
 * in every thread and taken by one signal thread, which removes every temporary name
 * and created directory of the run (util/outset.h), says what was and was not written,
 * and exits with 130: whatever the moment, nothing half-written is left. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/convert.h"
#include "cli/listing.h"
#include "cli/msg.h"
#include "cli/options.h"
#include "cli/plan.h"

#ifndef NFM_VERSION
#define NFM_VERSION "1.0.0"
#endif

/* What the threads of one run share. Owned by main. */
struct run {
	const struct nfm_cli *cli;
	struct nfm_plan plan;
	struct nfm_outreg *reg;
	atomic_int stop;        /* the signal number once one arrived */
	sigset_t signals;       /* the terminating signals the signal thread takes */
	bool progress;
	pthread_mutex_t mu;     /* guards next and status (-d) */
	size_t next;
	int *status;            /* enum nfm_input_status of each job */
	unsigned flow_workers;  /* flow-worker threads per capture */
};

/* Every signal whose default action ends the process, except those that report a
 * fault in the program itself (SIGSEGV, SIGBUS, ...), SIGPIPE (ignored: a closed
 * output is a write error) and SIGXFSZ (ignored: an output over the file-size limit is
 * a write error). */
static void terminating_signals(sigset_t *set)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM,
				    SIGVTALRM, SIGPROF, SIGXCPU, SIGIO, SIGPWR, SIGSTKFLT };
	sigemptyset(set);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(set, sigs[i]);
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		sigaddset(set, s);
}

static void *signal_main(void *arg)
{
	struct run *r = arg;
	int sig = 0;
	while (sigwait(&r->signals, &sig) != 0)
		;
	atomic_store(&r->stop, sig);
	char pending[1024];
	size_t written = nfm_outreg_abandon(r->reg, pending, sizeof pending);
	if (r->progress)
		(void)!write(STDERR_FILENO, "\r\033[K", 4);
	const char *name = sigabbrev_np(sig);
	size_t n = r->plan.njobs;
	if (written == 0)
		nfm_msg("interrupted by SIG%s; no output was written", name ? name : "?");
	else if (written >= n)
		nfm_msg("interrupted by SIG%s after every output was written", name ? name : "?");
	else
		nfm_msg("interrupted by SIG%s: the outputs of %zu of %zu captures were written "
			"before it, nothing else%s%s", name ? name : "?", written, n,
			*pending ? "; discarded: " : "", pending);
	_exit(NFM_EXIT_INTERRUPTED);
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

static bool keeps(enum nfm_input_status st)
{
	return st == NFM_INPUT_OK || st == NFM_INPUT_DAMAGED;
}

static int run_single(struct run *r)
{
	const struct nfm_cli *cli = r->cli;
	const struct nfm_job *job = &r->plan.jobs[0];
	struct nfm_outputs *o = nfm_outputs_open(cli, job, r->reg, false);
	if (!o)
		return NFM_EXIT_ERROR;
	enum nfm_input_status st = nfm_convert_input(o, cli, job->inputs[0], job->inputs[0],
						     &r->stop, r->progress, cli->workers);
	if (nfm_outputs_close(o, keeps(st)) != 0)
		return NFM_EXIT_ERROR;
	return exit_for(st);
}

static int run_merge(struct run *r)
{
	const struct nfm_cli *cli = r->cli;
	const struct nfm_job *job = &r->plan.jobs[0];
	size_t n = job->ninputs, failed = r->plan.nunreadable, damaged = 0;
	struct nfm_outputs *o = nfm_outputs_open(cli, job, r->reg, true);
	if (!o)
		return NFM_EXIT_ERROR;
	bool stopped = false;
	for (size_t i = 0; i < n && !stopped; i++) {
		const char *base = strrchr(job->inputs[i], '/');
		enum nfm_input_status st =
			nfm_convert_input(o, cli, job->inputs[i], base ? base + 1 : job->inputs[i],
					  &r->stop, r->progress, cli->workers);
		if (st == NFM_INPUT_FAILED)
			failed++;
		else if (st == NFM_INPUT_DAMAGED)
			damaged++;
		else if (st != NFM_INPUT_OK)
			stopped = true;
	}
	size_t total = r->plan.ncaptures;
	if (stopped || failed == total) {
		nfm_outputs_close(o, false);
		return NFM_EXIT_ERROR;
	}
	if (nfm_outputs_close(o, true) != 0)
		return NFM_EXIT_ERROR;
	return failed || damaged ? NFM_EXIT_PARTIAL : NFM_EXIT_OK;
}

static void *batch_worker(void *arg)
{
	struct run *r = arg;
	const struct nfm_cli *cli = r->cli;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		size_t i = r->next < r->plan.njobs && !atomic_load(&r->stop) ? r->next++
									     : r->plan.njobs;
		pthread_mutex_unlock(&r->mu);
		if (i >= r->plan.njobs)
			break;
		const struct nfm_job *job = &r->plan.jobs[i];
		struct nfm_outputs *o = nfm_outputs_open(cli, job, r->reg, false);
		enum nfm_input_status st = NFM_INPUT_OUTPUT_FAILED;
		if (o) {
			st = nfm_convert_input(o, cli, job->inputs[0], job->inputs[0], &r->stop, false,
					       r->flow_workers);
			if (nfm_outputs_close(o, keeps(st)) != 0 && keeps(st))
				st = NFM_INPUT_OUTPUT_FAILED;
		}
		pthread_mutex_lock(&r->mu);
		r->status[i] = (int)st;
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

static int run_batch(struct run *r)
{
	const struct nfm_cli *cli = r->cli;
	size_t n = r->plan.njobs;
	r->status = calloc(n ? n : 1, sizeof *r->status);
	if (!r->status) {
		nfm_msg("out of memory");
		return NFM_EXIT_ERROR;
	}
	/* --max-workers threads in all: several captures at once, each with its share of
	 * flow workers. */
	unsigned total = cli->workers ? cli->workers : 1;
	unsigned threads = total < n ? total : (unsigned)n;
	if (threads == 0)
		threads = 1;
	r->flow_workers = total / threads ? total / threads : 1;
	/* Captures converted at once share the active-flow cap, so the flows held stay
	 * within it (each capture's quota at least one per flow worker). */
	struct nfm_cli shared = *cli;
	uint64_t cap = cli->meter.max_active_flows;
	if (cap) {
		shared.meter.max_active_flows = cap / threads;
		if (shared.meter.max_active_flows < r->flow_workers)
			shared.meter.max_active_flows = r->flow_workers;
	}
	r->cli = &shared;
	pthread_t tids[256];
	unsigned started = 0;
	for (unsigned w = 1; w < threads; w++)
		if (pthread_create(&tids[started], NULL, batch_worker, r) == 0)
			started++;
	batch_worker(r);
	for (unsigned w = 0; w < started; w++)
		pthread_join(tids[w], NULL);
	size_t failed = r->plan.nunreadable, damaged = 0;
	for (size_t i = 0; i < n; i++) {
		if (r->status[i] == NFM_INPUT_DAMAGED)
			damaged++;
		else if (r->status[i] != NFM_INPUT_OK)
			failed++;
	}
	r->cli = cli;
	size_t captures = r->plan.ncaptures;
	if (!cli->quiet)
		nfm_msg("%zu captures: %zu converted, %zu damaged, %zu failed", captures,
			captures - failed - damaged, damaged, failed);
	if (failed == captures)
		return NFM_EXIT_ERROR;
	return failed || damaged ? NFM_EXIT_PARTIAL : NFM_EXIT_OK;
}

/* The flow cap of the run: --max-active-flows, or the --chunk-size budget divided by the
 * bytes one active flow of this run takes (its profile's or --columns' modules, and
 * those of its outputs). */
static int set_flow_cap(struct nfm_cli *cli, const struct nfm_plan *plan)
{
	cli->flow_bytes = nfm_outputs_flow_bytes(cli, plan->njobs ? plan->jobs[0].fmt : cli->format);
	if (!cli->flow_bytes) {
		nfm_msg("out of memory");
		return NFM_EXIT_ERROR;
	}
	if (!cli->meter.max_active_flows) {
		uint64_t cap = cli->chunk_mb * 1024 * 1024 / cli->flow_bytes;
		cli->meter.max_active_flows = cap ? cap : 1;
		cli->cap_from_chunk = true;
	}
	cli->run_cap = cli->meter.max_active_flows;
	if (cli->verbose)
		nfm_msg("version %s: profile %s%s, flow timeout %.9g s, active timeout %.9g s, "
			"%zu bytes per active flow, max active flows %llu%s%s",
			NFM_VERSION, cli->profile->name, cli->columns ? " (--columns)" : "",
			(double)cli->meter.idle_timeout_ns / 1e9,
			(double)cli->meter.active_timeout_ns / 1e9, cli->flow_bytes,
			(unsigned long long)cli->meter.max_active_flows,
			cli->cap_from_chunk ? " (--chunk-size / bytes per flow)" : "",
			cli->stream ? " (streaming is always on)" : "");
	return 0;
}

static int run(struct run *r, struct nfm_cli *cli)
{
	int rc = nfm_plan_make(cli, &r->plan);
	if (rc)
		return rc;
	rc = set_flow_cap(cli, &r->plan);
	if (rc)
		return rc;
	for (size_t i = 0; i < r->plan.nunreadable; i++)
		nfm_msg("%s", r->plan.unreadable[i]);
	rc = nfm_plan_prepare(&r->plan, r->reg);
	if (rc)
		return rc;
	if (cli->directory && cli->merge)
		return run_merge(r);
	if (cli->directory)
		return run_batch(r);
	return run_single(r);
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
	if (cli.list_profiles || cli.list_columns) {
		rc = cli.list_profiles ? nfm_cli_list_profiles(stdout) : nfm_cli_list_columns(&cli, stdout);
		if (fflush(stdout) != 0)
			rc = NFM_EXIT_ERROR;
		return rc;
	}
	if (getenv("NFM_LIST_OPTIONS")) { /* used by the man-page test */
		nfm_cli_list_options(stdout);
		return NFM_EXIT_OK;
	}
	struct run r = { .cli = &cli };
	r.progress = !cli.progress_forced_off && !cli.quiet && isatty(STDERR_FILENO) &&
		     (!cli.directory || cli.merge);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	/* Blocked before any thread exists, so every thread inherits the mask and only the
	 * signal thread ever takes these signals. */
	terminating_signals(&r.signals);
	pthread_sigmask(SIG_BLOCK, &r.signals, NULL);
	pthread_mutex_init(&r.mu, NULL);
	r.reg = nfm_outreg_new();
	pthread_t sig_tid;
	if (!r.reg || pthread_create(&sig_tid, NULL, signal_main, &r) != 0) {
		nfm_msg("cannot start: out of memory");
		return NFM_EXIT_ERROR;
	}
	rc = run(&r, &cli);
	/* From here a signal finds nothing to do: closing takes the registry for good (or
	 * waits while the signal thread has it, and never returns), and removes the
	 * directories a failed run created. The registry goes with the process. */
	nfm_outreg_close(r.reg);
	nfm_plan_free(&r.plan);
	free(r.status);
	exit(rc);
}
