#include "cli/options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum opt_id {
	O_DIRECTORY, O_OUTPUT_DIR, O_MERGE, O_PROTOCOLS, O_MAX_FLOWS, O_FORMAT, O_PREVIEW,
	O_SPLIT, O_STREAM, O_CHUNK, O_FLOW_TIMEOUT, O_ACTIVE_TIMEOUT, O_MAX_WORKERS,
	O_MAX_ACTIVE, O_REPORT_DIR, O_NO_REPORT, O_EXTENDED, O_NO_TUNNELS, O_LIST_COLUMNS, O_NO_PROGRESS,
	O_QUIET, O_VERBOSE, O_HELP, O_VERSION,
};

struct opt {
	enum opt_id id;
	const char *lng;     /* without the leading dashes */
	const char *shrt;    /* e.g. "-d", "-of"; NULL if none */
	const char *arg;     /* metavariable, NULL for flags */
	const char *help;
	const char *example; /* NULL if the flag needs none */
};

static const struct opt options[] = {
	{ O_DIRECTORY, "directory", "-d", "DIR",
	  "Convert every capture in DIR (*.pcap, *.pcapng, *.cap, case-insensitive, optionally .gz/.zst compressed; not recursive), in name order.",
	  "nexusflowmeter -d ./pcaps/ -c ./out/" },
	{ O_OUTPUT_DIR, "output-dir", "-c", "DIR",
	  "Directory for the outputs of -d (created if missing; default: DIR of -d). Each capture NAME.pcap becomes NAME.csv (or .json/.jsonl/.xlsx).",
	  "nexusflowmeter -d ./pcaps/ -c ./out/ --output-format json" },
	{ O_MERGE, "merge", NULL, NULL,
	  "With -d: write all flows into one file (OUTPUT_DIR/merged_flows.EXT, or the output_file given) with an extra source_file column. Flows are never merged across captures.",
	  "nexusflowmeter -d ./pcaps/ -c ./out/ --merge" },
	{ O_PROTOCOLS, "protocols", NULL, "LIST",
	  "Comma-separated protocols to keep: tcp, udp, icmp (ICMP and ICMPv6), arp, dns (TCP/UDP port 53, 5353 mDNS, 5355 LLMNR), other (any other IP protocol), all. Default: all.",
	  "nexusflowmeter capture.pcap tcp_flows.csv --protocols tcp,dns" },
	{ O_MAX_FLOWS, "max-flows", NULL, "N",
	  "Meter only the first N flows of each capture (by first packet); packets of later flows are counted in the report. Reading stops early once those N flows are complete.",
	  "nexusflowmeter capture.pcap flows.csv --max-flows 1000" },
	{ O_FORMAT, "output-format", "-of", "FMT",
	  "Output format: csv, json, jsonl or xlsx. Default: from the output file's extension, else csv.",
	  "nexusflowmeter capture.pcap flows.json -of json" },
	{ O_PREVIEW, "quick-preview", NULL, "N",
	  "Print the first N flows as an aligned table on standard output (standard error when the output is standard output), then finish the conversion. Never prompts.",
	  "nexusflowmeter capture.pcap flows.csv --quick-preview 5" },
	{ O_SPLIT, "split-by-protocol", NULL, NULL,
	  "Write one file per protocol that has flows: OUTPUT_tcp.EXT, OUTPUT_udp.EXT, OUTPUT_icmp.EXT, OUTPUT_icmpv6.EXT, OUTPUT_arp.EXT, OUTPUT_sctp.EXT, OUTPUT_other.EXT.",
	  "nexusflowmeter capture.pcap flows --split-by-protocol" },
	{ O_STREAM, "stream", NULL, NULL,
	  "Accepted for compatibility. Streaming is always on: packets are read once, and flows are written as they expire, so memory depends on active flows, not on file size.",
	  "nexusflowmeter capture.pcap flows.csv --stream" },
	{ O_CHUNK, "chunk-size", NULL, "MB",
	  "Memory budget for active flow state, in MiB (default 1024). When it is reached the flow idle for the longest is written early (end_reason evicted) and counted in the report.",
	  "nexusflowmeter capture.pcap flows.csv --chunk-size 512" },
	{ O_FLOW_TIMEOUT, "flow-timeout", NULL, "SECONDS",
	  "Idle timeout: a flow with no packet for longer than this is written and a later packet starts a new flow (default 60; 0 disables; fractions allowed).",
	  "nexusflowmeter capture.pcap flows.csv --flow-timeout 120" },
	{ O_ACTIVE_TIMEOUT, "active-timeout", NULL, "SECONDS",
	  "Active timeout: a flow open longer than this is written and continues as a new flow (default 1800; 0 disables).",
	  "nexusflowmeter capture.pcap flows.csv --active-timeout 300" },
	{ O_MAX_WORKERS, "max-workers", NULL, "N",
	  "Worker threads that meter flows, each owning a shard of the flows (default: the number of CPU cores). The records written are the same for any N. With -d, up to N captures are converted at once, sharing the N workers.",
	  "nexusflowmeter capture.pcap flows.csv --max-workers 2" },
	{ O_MAX_ACTIVE, "max-active-flows", NULL, "N",
	  "Hard cap on flows held at once (default: derived from --chunk-size); beyond it the flow idle for the longest is written early.",
	  "nexusflowmeter capture.pcap flows.csv --max-active-flows 100000" },
	{ O_REPORT_DIR, "report-dir", NULL, "DIR",
	  "Directory for the analysis reports NAME_report.txt and NAME_report.json (default: beside the output).",
	  "nexusflowmeter capture.pcap flows.csv --report-dir ./reports/" },
	{ O_NO_REPORT, "no-report", NULL, NULL, "Do not write the analysis reports.",
	  "nexusflowmeter capture.pcap flows.csv --no-report" },
	{ O_EXTENDED, "extended", NULL, NULL,
	  "Add the extended columns (ip_version, vlan_id, end_reason, tunnel_type, tunnel_src, tunnel_dst, tunnel_id) after the 34 standard ones.",
	  "nexusflowmeter capture.pcap flows.csv --extended" },
	{ O_NO_TUNNELS, "no-tunnels", NULL, NULL,
	  "Do not look inside tunnels (GRE, ERSPAN, IP-in-IP, VXLAN, Geneve, GTP-U, Teredo, L2TP, MPLS-in-UDP): key tunnelled packets on their outermost IP header instead of the innermost.",
	  "nexusflowmeter capture.pcap flows.csv --no-tunnels" },
	{ O_LIST_COLUMNS, "list-columns", NULL, NULL,
	  "Print every output column with its unit and meaning, then exit.",
	  "nexusflowmeter --list-columns" },
	{ O_NO_PROGRESS, "no-progress", NULL, NULL,
	  "Never draw the progress bar (it is drawn only when standard error is a terminal).",
	  NULL },
	{ O_QUIET, "quiet", "-q", NULL, "Print only warnings and errors (no summary line).", NULL },
	{ O_VERBOSE, "verbose", "-v", NULL,
	  "Print the settings, per-capture details and the report summary on standard error.",
	  "nexusflowmeter capture.pcap flows.csv --verbose" },
	{ O_HELP, "help", "-h", NULL, "Show this help and exit.", NULL },
	{ O_VERSION, "version", "-V", NULL, "Show the version and exit.", NULL },
};

#define N_OPTIONS (sizeof options / sizeof options[0])

void nfm_cli_usage(FILE *fp)
{
	fputs("usage: nexusflowmeter [options] pcap_file output_file\n"
	      "       nexusflowmeter [options] -d DIR [-c OUTPUT_DIR] [--merge]\n"
	      "Try 'nexusflowmeter --help' for more information.\n",
	      fp);
}

void nfm_cli_help(FILE *fp)
{
	fputs("usage: nexusflowmeter [options] pcap_file output_file\n"
	      "       nexusflowmeter [options] -d DIR [-c OUTPUT_DIR] [--merge]\n\n"
	      "Convert packet captures (pcap, pcapng; plain, gzip or zstd; '-' for standard\n"
	      "input) into bidirectional flow records with 34 statistics per flow, written as\n"
	      "CSV, JSON, JSON Lines or Excel, plus an analysis report.\n\n"
	      "positional arguments:\n"
	      "  pcap_file               capture to convert ('-' reads standard input)\n"
	      "  output_file             output file ('-' writes CSV/JSON to standard output)\n\n"
	      "options:\n",
	      fp);
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct opt *o = &options[i];
		char head[64];
		if (o->shrt)
			snprintf(head, sizeof head, "%s, --%s%s%s", o->shrt, o->lng, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(head, sizeof head, "--%s%s%s", o->lng, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		fprintf(fp, "  %s\n", head);
		/* wrap the help text at ~76 columns, indented */
		const char *s = o->help;
		while (*s) {
			size_t n = strlen(s);
			if (n > 68) {
				n = 68;
				while (n > 0 && s[n] != ' ')
					n--;
				if (n == 0)
					n = 68;
			}
			fprintf(fp, "        %.*s\n", (int)n, s);
			s += n;
			while (*s == ' ')
				s++;
		}
		if (o->example)
			fprintf(fp, "        e.g. %s\n", o->example);
	}
	fputs("\nexit status: 0 success; 1 an input could not be read or an output not written;\n"
	      "2 bad command line; 3 outputs written but an input was damaged (flows up to the\n"
	      "damage are kept) or some inputs of -d failed; 130 interrupted.\n"
	      "Columns: 'nexusflowmeter --list-columns'; manual: 'man nexusflowmeter'.\n",
	      fp);
}

void nfm_cli_list_options(FILE *fp)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		fprintf(fp, "--%s\n", options[i].lng);
}

static const struct opt *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].lng) == len && strncmp(options[i].lng, name, len) == 0)
			return &options[i];
	return NULL;
}

static const struct opt *find_short(const char *s)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (options[i].shrt && strcmp(options[i].shrt, s) == 0)
			return &options[i];
	return NULL;
}

static int bad(FILE *err, const char *fmt, const char *a, const char *b)
{
	fputs("nexusflowmeter: ", err);
	fprintf(err, fmt, a, b);
	fputc('\n', err);
	nfm_cli_usage(err);
	return NFM_EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, uint64_t *ns)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -1;
	*ns = (uint64_t)llround(v * 1e9);
	return 0;
}

static int parse_protocols(const char *s, unsigned *mask)
{
	unsigned m = 0;
	const char *p = s;
	while (*p) {
		size_t n = strcspn(p, ",");
		struct {
			const char *name;
			unsigned bits;
		} names[] = {
			{ "tcp", NFM_PROTO_TCP }, { "udp", NFM_PROTO_UDP }, { "icmp", NFM_PROTO_ICMP },
			{ "icmpv6", NFM_PROTO_ICMP }, { "arp", NFM_PROTO_ARP }, { "dns", NFM_PROTO_DNS },
			{ "other", NFM_PROTO_OTHER }, { "all", NFM_PROTO_ALL },
		};
		size_t k;
		for (k = 0; k < sizeof names / sizeof names[0]; k++)
			if (strlen(names[k].name) == n && strncasecmp(p, names[k].name, n) == 0)
				break;
		if (n == 0 || k == sizeof names / sizeof names[0])
			return -1;
		m |= names[k].bits;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!m)
		return -1;
	*mask = m;
	return 0;
}

static int apply(struct nfm_cli *cli, const struct opt *o, const char *shown, const char *val,
		 FILE *err)
{
	uint64_t u;
	switch (o->id) {
	case O_DIRECTORY: cli->directory = val; break;
	case O_OUTPUT_DIR: cli->output_dir = val; break;
	case O_REPORT_DIR: cli->report_dir = val; break;
	case O_MERGE: cli->merge = true; break;
	case O_SPLIT: cli->split = true; break;
	case O_STREAM: cli->stream = true; break;
	case O_NO_REPORT: cli->no_report = true; break;
	case O_EXTENDED: cli->extended = true; break;
	case O_NO_TUNNELS: cli->meter.decode.tunnels = false; break;
	case O_LIST_COLUMNS: cli->list_columns = true; break;
	case O_NO_PROGRESS: cli->progress_forced_off = true; break;
	case O_QUIET: cli->quiet = true; break;
	case O_VERBOSE: cli->verbose = true; break;
	case O_HELP: cli->help = true; break;
	case O_VERSION: cli->version = true; break;
	case O_PROTOCOLS:
		if (parse_protocols(val, &cli->meter.protocols))
			return bad(err, "%s: invalid protocol list '%s' (use tcp,udp,icmp,arp,dns,other,all)", shown, val);
		break;
	case O_MAX_FLOWS:
		if (parse_u64(val, &u) || u == 0)
			return bad(err, "%s: expected a positive integer, got '%s'", shown, val);
		cli->meter.max_flows = u;
		break;
	case O_MAX_ACTIVE:
		if (parse_u64(val, &u) || u == 0)
			return bad(err, "%s: expected a positive integer, got '%s'", shown, val);
		cli->meter.max_active_flows = u;
		break;
	case O_PREVIEW:
		if (parse_u64(val, &u) || u == 0 || u > 100000)
			return bad(err, "%s: expected an integer from 1 to 100000, got '%s'", shown, val);
		cli->preview = u;
		break;
	case O_CHUNK:
		if (parse_u64(val, &u) || u == 0 || u > (1u << 22))
			return bad(err, "%s: expected a size in MiB from 1 to 4194304, got '%s'", shown, val);
		cli->chunk_mb = u;
		break;
	case O_MAX_WORKERS:
		if (parse_u64(val, &u) || u == 0 || u > 256)
			return bad(err, "%s: expected an integer from 1 to 256, got '%s'", shown, val);
		cli->workers = (unsigned)u;
		break;
	case O_FLOW_TIMEOUT:
		if (parse_seconds(val, &cli->meter.idle_timeout_ns))
			return bad(err, "%s: expected a number of seconds >= 0, got '%s'", shown, val);
		break;
	case O_ACTIVE_TIMEOUT:
		if (parse_seconds(val, &cli->meter.active_timeout_ns))
			return bad(err, "%s: expected a number of seconds >= 0, got '%s'", shown, val);
		break;
	case O_FORMAT:
		if (nfm_format_from_name(val, &cli->format))
			return bad(err, "%s: unknown format '%s' (use csv, json, jsonl or xlsx)", shown, val);
		cli->have_format = true;
		break;
	}
	return 0;
}

int nfm_cli_parse(int argc, char **argv, struct nfm_cli *cli, FILE *err)
{
	memset(cli, 0, sizeof *cli);
	nfm_meter_config_default(&cli->meter);
	cli->chunk_mb = 1024;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	cli->workers = cores > 0 ? (unsigned)cores : 1;
	const char *positional[2] = { NULL, NULL };
	int npos = 0;
	int only_positional = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt *o = NULL;
		const char *val = NULL;
		if (!only_positional && strcmp(a, "--") == 0) {
			only_positional = 1;
			continue;
		}
		if (!only_positional && a[0] == '-' && a[1] == '-' && a[2]) {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			o = find_long(name, len);
			if (!o)
				return bad(err, "unknown option '%s'%s", a, "");
			if (eq) {
				if (!o->arg)
					return bad(err, "option '--%s' takes no value%s", o->lng, "");
				val = eq + 1;
			}
		} else if (!only_positional && a[0] == '-' && a[1]) {
			o = find_short(a);
			if (!o)
				return bad(err, "unknown option '%s'%s", a, "");
		}
		if (!o) {
			if (npos == 2)
				return bad(err, "unexpected argument '%s'%s", a, "");
			positional[npos++] = a;
			continue;
		}
		if (o->arg && !val) {
			if (i + 1 >= argc)
				return bad(err, "option '%s' needs a value (%s)", a, o->arg);
			val = argv[++i];
		}
		int rc = apply(cli, o, a, val, err);
		if (rc)
			return rc;
	}
	if (cli->help || cli->version || cli->list_columns)
		return 0;
	cli->input = positional[0];
	cli->output = positional[1];
	if (cli->directory) {
		if (cli->input && !cli->merge)
			return bad(err, "with -d, give no pcap_file ('%s')%s", cli->input, "");
		if (cli->input && cli->merge) {
			/* -d DIR --merge OUT: the single positional names the merged output */
			if (cli->output)
				return bad(err, "with -d --merge, give at most one output file%s%s", "", "");
			cli->output = cli->input;
			cli->input = NULL;
		}
		if (cli->split)
			return bad(err, "--split-by-protocol works on a single capture, not with -d%s%s", "", "");
		if (cli->preview)
			return bad(err, "--quick-preview works on a single capture, not with -d%s%s", "", "");
	} else {
		if (!cli->input)
			return bad(err, "missing pcap_file (or -d DIR)%s%s", "", "");
		if (!cli->output)
			return bad(err, "missing output_file for '%s'%s", cli->input, "");
		if (cli->merge)
			return bad(err, "--merge needs -d DIR%s%s", "", "");
		if (cli->output_dir)
			return bad(err, "-c/--output-dir needs -d DIR; give output_file instead%s%s", "", "");
	}
	return 0;
}
