#include "cli/options.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/values.h"
#include "feature/nfstream.h"
#include "feature/profiles.h"
#include "util/text.h"

enum opt_id {
	O_DIRECTORY, O_OUTPUT_DIR, O_MERGE, O_PROTOCOLS, O_MAX_FLOWS, O_FORMAT, O_PREVIEW,
	O_SPLIT, O_STREAM, O_CHUNK, O_FLOW_TIMEOUT, O_ACTIVE_TIMEOUT, O_MAX_WORKERS,
	O_MAX_ACTIVE, O_REPORT_DIR, O_NO_REPORT, O_EXTENDED, O_NO_TUNNELS, O_LIST_COLUMNS, O_NO_PROGRESS,
	O_PROFILE, O_LIST_PROFILES, O_COLUMNS, O_SPLT,
	O_QUIET, O_VERBOSE, O_HELP, O_VERSION,
	O_SLICE, O_SLICE_SUBDIRS, O_LOCALTIME, O_SORT_BY, O_LZ4, O_IDENT,
	O_EXPORT, O_EXPORT_RATE, O_EXPORT_MTU, O_EXPORT_BIFLOW, O_EXPORT_DOMAIN,
};

/* What an option's value is; each kind has one parser and one error message. */
enum opt_kind {
	K_FLAG,    /* no value */
	K_NAME,    /* a file or directory name: anything but empty */
	K_UINT,    /* N: decimal digits only, from lo to hi */
	K_SECONDS, /* SECONDS: digits with an optional fraction, from lo to hi seconds */
	K_LIST,    /* LIST: comma-separated names (the option's name table) */
	K_FORMAT,  /* one output format name */
};

struct opt {
	enum opt_id id;
	const char *lng;     /* without the leading dashes */
	const char *shrt;    /* e.g. "-d", "-of"; NULL if none */
	const char *arg;     /* metavariable, NULL for flags */
	const char *help;
	const char *example; /* NULL if the flag needs none */
	enum opt_kind kind;
	uint64_t lo, hi;     /* accepted range of K_UINT and K_SECONDS (seconds) */
};

#define MAX_SECONDS 1000000000u /* about 31.7 years */

static const struct opt options[] = {
	{ O_DIRECTORY, "directory", "-d", "DIR",
	  "Convert every capture in DIR (*.pcap, *.pcapng, *.cap, case-insensitive, optionally .gz/.zst compressed; not recursive), in name order.",
	  "nexusflowmeter -d ./pcaps/ -c ./out/",
	  .kind = K_NAME },
	{ O_OUTPUT_DIR, "output-dir", "-c", "DIR",
	  "Directory for the outputs of -d (created if missing; default: DIR of -d). Each capture NAME.pcap becomes NAME.csv (or .json/.jsonl/.xlsx).",
	  "nexusflowmeter -d ./pcaps/ -c ./out/ --output-format json",
	  .kind = K_NAME },
	{ O_MERGE, "merge", NULL, NULL,
	  "With -d: write all flows into one file (OUTPUT_DIR/merged_flows.EXT, or the output_file given) with an extra source_file column. Flows are never merged across captures.",
	  "nexusflowmeter -d ./pcaps/ -c ./out/ --merge",
	  .kind = K_FLAG },
	{ O_PROTOCOLS, "protocols", NULL, "LIST",
	  "Protocols to keep, as a LIST: tcp, udp, icmp (ICMP and ICMPv6), icmpv6 (the same as icmp), arp, dns (TCP/UDP port 53, 5353 mDNS, 5355 LLMNR), other (any other IP protocol), all. Default: all.",
	  "nexusflowmeter capture.pcap tcp_flows.csv --protocols tcp,dns",
	  .kind = K_LIST },
	{ O_MAX_FLOWS, "max-flows", NULL, "N",
	  "Meter only the first N flows of each capture (by first packet); packets of later flows are counted in the report. Reading stops early once those N flows are complete.",
	  "nexusflowmeter capture.pcap flows.csv --max-flows 1000",
	  .kind = K_UINT, .lo = 1, .hi = UINT64_MAX },
	{ O_FORMAT, "output-format", "-of", "FMT",
	  "Output format, case-insensitive: csv, json, jsonl (or ndjson) or xlsx (or excel) for flow records; nfdump (the JSON array 'nfdump -o json' prints), nfdump-dict (one JSON object of every time slice's nfdump array, keyed by nfcapd file name: what python-netflow returns) or nfcapd (a directory of nfcapd files, one per time slice, for nfdump -R) for NetFlow records, one per direction (docs/netflow.md). Default: from the output file's extension, else csv.",
	  "nexusflowmeter capture.pcap flows.json -of json",
	  .kind = K_FORMAT },
	{ O_PREVIEW, "quick-preview", NULL, "N",
	  "Print the first N flows as an aligned table on standard output (standard error when the output is standard output), then finish the conversion. Never prompts.",
	  "nexusflowmeter capture.pcap flows.csv --quick-preview 5",
	  .kind = K_UINT, .lo = 1, .hi = 100000 },
	{ O_SPLIT, "split-by-protocol", NULL, NULL,
	  "Write one file per protocol that has flows: OUTPUT_tcp.EXT, OUTPUT_udp.EXT, OUTPUT_icmp.EXT, OUTPUT_icmpv6.EXT, OUTPUT_arp.EXT, OUTPUT_sctp.EXT, OUTPUT_other.EXT. Needs a file name: not with output_file -.",
	  "nexusflowmeter capture.pcap flows --split-by-protocol",
	  .kind = K_FLAG },
	{ O_STREAM, "stream", NULL, NULL,
	  "Accepted for compatibility. Streaming is always on: packets are read once, and flows are written as they expire, so memory depends on active flows, not on file size.",
	  "nexusflowmeter capture.pcap flows.csv --stream",
	  .kind = K_FLAG },
	{ O_CHUNK, "chunk-size", NULL, "MB",
	  "Memory budget for active flow state, in MiB (default 1024): the cap of --max-active-flows is this budget divided by the bytes one active flow of the run takes (its flow-table entry with the state of the profile's feature modules and its share of the index: 272 for nexus; --list-profiles shows each profile's; the report states the figure and the cap). When the cap is reached the flow idle for the longest in its worker's shard is written early (end_reason evicted) and counted in the report.",
	  "nexusflowmeter capture.pcap flows.csv --chunk-size 512",
	  .kind = K_UINT, .lo = 1, .hi = 4194304 },
	{ O_FLOW_TIMEOUT, "flow-timeout", NULL, "SECONDS",
	  "Idle timeout: a flow with no packet for longer than this is written and a later packet starts a new flow (default: the profile's, 60 for nexus; 0 disables).",
	  "nexusflowmeter capture.pcap flows.csv --flow-timeout 120",
	  .kind = K_SECONDS, .lo = 0, .hi = MAX_SECONDS },
	{ O_ACTIVE_TIMEOUT, "active-timeout", NULL, "SECONDS",
	  "Active timeout: a flow open longer than this is written and continues as a new flow with the same initiator (default: the profile's, 1800 for nexus; 0 disables).",
	  "nexusflowmeter capture.pcap flows.csv --active-timeout 300",
	  .kind = K_SECONDS, .lo = 0, .hi = MAX_SECONDS },
	{ O_MAX_WORKERS, "max-workers", NULL, "N",
	  "Worker threads that meter flows, each owning a shard of the flows (default: the number of CPU cores). The records written are identical for any N as long as no flow is evicted (the summary line and the report's end reasons say whether any was); with evictions they depend on N, so use --max-workers 1 for reproducible records under a cap. With -d, up to N captures are converted at once, sharing the N workers.",
	  "nexusflowmeter capture.pcap flows.csv --max-workers 2",
	  .kind = K_UINT, .lo = 1, .hi = 256 },
	{ O_MAX_ACTIVE, "max-active-flows", NULL, "N",
	  "Hard cap on flows held at once by a conversion (default: derived from --chunk-size). It is shared out exactly among the workers, and a cap below --max-workers uses as many workers as the cap; a full worker writes the flow idle for the longest in its shard early (end_reason evicted).",
	  "nexusflowmeter capture.pcap flows.csv --max-active-flows 100000",
	  .kind = K_UINT, .lo = 1, .hi = UINT64_MAX },
	{ O_SLICE, "slice", NULL, "SECONDS",
	  "Cut packet time into slices of SECONDS (whole seconds, aligned on the epoch like nfpcapd -t; default 300 with -of nfcapd and nfdump-dict): a flow still open at a slice's end is written there and continues as a new record, so every packet is in exactly one slice. -of nfcapd and nfdump write one file per slice into the directory output_file, named nfcapd.YYYYMMDDhhmm (nfcapd.YYYYMMDDhhmmss under a minute; nfdump adds .json), empty slices within the capture included; nfdump-dict keys its object by those names.",
	  "nexusflowmeter capture.pcap slices/ -of nfcapd --slice 60",
	  .kind = K_UINT, .lo = 1, .hi = 31622400 },
	{ O_SLICE_SUBDIRS, "slice-subdirs", NULL, "N",
	  "Put slice files in subdirectories by time, like nfcapd -S N: 1 %Y/%m/%d, 2 %Y/%m/%d/%H, 3 %Y/%W/%u, 4 %Y/%W/%u/%H, 5 %Y/%j, 6 %Y/%j/%H, 7 %Y-%m-%d, 8 %Y-%m-%d/%H; 0 none (default).",
	  "nexusflowmeter capture.pcap slices/ -of nfcapd --slice-subdirs 1",
	  .kind = K_UINT, .lo = 0, .hi = 8 },
	{ O_LOCALTIME, "localtime", NULL, NULL,
	  "Slice names and nfdump JSON times in the local time zone (TZ), as nfpcapd and nfdump print them, instead of UTC.",
	  "TZ=Europe/Paris nexusflowmeter capture.pcap flows.json -of nfdump --localtime",
	  .kind = K_FLAG },
	{ O_SORT_BY, "sort-by", NULL, "KEY",
	  "Order of the records of each nfdump / nfdump-dict array: bytes or packets (largest first, like nfdump -O bytes), first (earliest first), or none (the order flows end; default). Sorting holds one output's (one slice's) records in memory.",
	  "nexusflowmeter capture.pcap flows.json -of nfdump-dict --sort-by bytes",
	  .kind = K_NAME },
	{ O_LZ4, "lz4", NULL, NULL,
	  "Compress the blocks of nfcapd files with LZ4 (nfpcapd -y); nfdump reads them as they are.",
	  "nexusflowmeter capture.pcap slices/ -of nfcapd --lz4",
	  .kind = K_FLAG },
	{ O_IDENT, "ident", NULL, "NAME",
	  "Ident string stored in nfcapd files (nfpcapd -I; shown by nfdump -I).",
	  "nexusflowmeter capture.pcap slices/ -of nfcapd --ident lab1",
	  .kind = K_NAME },
	{ O_EXPORT, "export", NULL, "URL",
	  "Also send the NetFlow records over UDP while the capture is metered: ipfix://HOST:PORT (IPFIX, RFC 7011) or netflow9://HOST:PORT (NetFlow v9); HOST is a name, an IPv4 address or [IPv6]. Up to 4 times. What was sent is in the report.",
	  "nexusflowmeter capture.pcap flows.json -of nfdump --export ipfix://127.0.0.1:4739",
	  .kind = K_NAME },
	{ O_EXPORT_RATE, "export-rate", NULL, "N",
	  "Send at most N records per second (default: a rate a collector on the same machine takes without loss; docs/netflow.md).",
	  "nexusflowmeter capture.pcap flows.csv --export ipfix://127.0.0.1:4739 --export-rate 20000",
	  .kind = K_UINT, .lo = 1, .hi = 1000000000 },
	{ O_EXPORT_MTU, "export-mtu", NULL, "BYTES",
	  "Largest export datagram payload (default 1400, within the path MTU of Ethernet and most tunnels).",
	  "nexusflowmeter capture.pcap flows.csv --export ipfix://127.0.0.1:4739 --export-mtu 8900",
	  .kind = K_UINT, .lo = 256, .hi = 65000 },
	{ O_EXPORT_BIFLOW, "export-biflow", NULL, NULL,
	  "IPFIX: send one record per flow with the responder's packets and bytes as RFC 5103 reverse elements (nfcapd shows them as out_packets / out_bytes), instead of one record per direction.",
	  "nexusflowmeter capture.pcap flows.csv --export ipfix://127.0.0.1:4739 --export-biflow",
	  .kind = K_FLAG },
	{ O_EXPORT_DOMAIN, "export-domain", NULL, "N",
	  "IPFIX observation domain id / NetFlow v9 source id of the export (default 0).",
	  "nexusflowmeter capture.pcap flows.csv --export ipfix://127.0.0.1:4739 --export-domain 7",
	  .kind = K_UINT, .lo = 0, .hi = 4294967295u },
	{ O_REPORT_DIR, "report-dir", NULL, "DIR",
	  "Directory for the analysis reports NAME_report.txt and NAME_report.json (default: beside the output).",
	  "nexusflowmeter capture.pcap flows.csv --report-dir ./reports/",
	  .kind = K_NAME },
	{ O_NO_REPORT, "no-report", NULL, NULL, "Do not write the analysis reports.",
	  "nexusflowmeter capture.pcap flows.csv --no-report",
	  .kind = K_FLAG },
	{ O_PROFILE, "profile", NULL, "NAME",
	  "The columns, feature modules and default timeouts of a flow meter whose output you want: nexus (the 34 columns of the original tool; the default), extended (nexus and 7 more columns; --extended) and the profiles of other flow meters (--list-profiles lists them all; docs/profiles.md defines every column). The profile's idle and active timeouts apply unless --flow-timeout or --active-timeout is given.",
	  "nexusflowmeter capture.pcap flows.csv --profile extended",
	  .kind = K_NAME },
	{ O_LIST_PROFILES, "list-profiles", NULL, NULL,
	  "Print every profile (name, number of columns, bytes each active flow holds, default idle and active timeouts, description), then exit.",
	  "nexusflowmeter --list-profiles",
	  .kind = K_FLAG },
	{ O_COLUMNS, "columns", NULL, "LIST",
	  "Write these columns, in this order, instead of the profile's: exact names separated by commas, each a field name (nexusflowmeter --list-columns --profile NAME shows the fields) or the name a profile writes a column under (docs/profiles.md); each column is written under the name given, and the feature modules it needs are added. The profile (--profile) still sets the default timeouts and is searched first for column names.",
	  "nexusflowmeter capture.pcap flows.csv --columns src_ip,dst_ip,total_bytes,tunnel_type",
	  .kind = K_NAME },
	{ O_SPLT, "splt", NULL, "N",
	  "Early packets, as NFStream's splt analysis: add the columns splt_direction, splt_ps and splt_piat_ms, each a list of N values for the flow's first N packets (direction 0 from the initiator or 1, on-wire size, gap in ms from the packet before; -1 past the flow's last packet), after the other columns. N is 1 to 255; each active flow holds about 12 bytes more per packet kept.",
	  "nexusflowmeter capture.pcap flows.csv --profile nfstream --splt 8",
	  .kind = K_UINT, .lo = 1, .hi = NFM_SPLT_MAX },
	{ O_EXTENDED, "extended", NULL, NULL,
	  "The same as --profile extended: the 34 standard columns, then ip_version, vlan_id, end_reason, tunnel_type, tunnel_src, tunnel_dst and tunnel_id.",
	  "nexusflowmeter capture.pcap flows.csv --extended",
	  .kind = K_FLAG },
	{ O_NO_TUNNELS, "no-tunnels", NULL, NULL,
	  "Do not look inside tunnels (GRE, ERSPAN, IP-in-IP, VXLAN, Geneve, GTP-U, Teredo, L2TP, MPLS-in-UDP): key tunnelled packets on their outermost IP header instead of the innermost.",
	  "nexusflowmeter capture.pcap flows.csv --no-tunnels",
	  .kind = K_FLAG },
	{ O_LIST_COLUMNS, "list-columns", NULL, NULL,
	  "Print the columns of the profile (--profile, default nexus) or of --columns, in order: the name written, its unit and meaning, and the field it reads when the name differs; then exit.",
	  "nexusflowmeter --list-columns --profile extended",
	  .kind = K_FLAG },
	{ O_NO_PROGRESS, "no-progress", NULL, NULL,
	  "Never draw the progress bar (it is drawn only when standard error is a terminal).",
	  NULL,
	  .kind = K_FLAG },
	{ O_QUIET, "quiet", "-q", NULL, "Print only warnings and errors (no summary line).", NULL,
	  .kind = K_FLAG },
	{ O_VERBOSE, "verbose", "-v", NULL,
	  "Print the settings, per-capture details and the report summary on standard error.",
	  "nexusflowmeter capture.pcap flows.csv --verbose",
	  .kind = K_FLAG },
	{ O_HELP, "help", "-h", NULL, "Show this help and exit.", NULL,
	  .kind = K_FLAG },
	{ O_VERSION, "version", "-V", NULL, "Show the version and exit.", NULL,
	  .kind = K_FLAG },
};

#define N_OPTIONS (sizeof options / sizeof options[0])

void nfm_cli_usage(FILE *fp)
{
	fputs("usage: nexusflowmeter [options] pcap_file output_file\n"
	      "       nexusflowmeter [options] -d DIR [-c OUTPUT_DIR] [--merge]\n"
	      "Try 'nexusflowmeter --help' for more information.\n",
	      fp);
}

/* Prints text wrapped at ~76 columns with an 8-column indent. */
static void wrap(FILE *fp, const char *s)
{
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
		char text[640];
		if (o->kind == K_UINT || o->kind == K_SECONDS)
			snprintf(text, sizeof text, "%s %s: %llu to %llu.", o->help, o->arg,
				 (unsigned long long)o->lo, (unsigned long long)o->hi);
		else
			snprintf(text, sizeof text, "%s", o->help);
		wrap(fp, text);
		if (o->example)
			fprintf(fp, "        e.g. %s\n", o->example);
	}
	fputs("\nvalues:\n"
	      "  N        a whole number (also MB): decimal digits only, no sign, spaces,\n"
	      "           0x or exponent; within the range given for the option.\n"
	      "  SECONDS  digits with an optional fraction (60, 2.5, 0.001): no sign, spaces,\n"
	      "           0x or exponent; 0 to 1000000000, kept to the nanosecond (rounded to\n"
	      "           the nearest); a value that is not 0 but rounds to 0 ns is an error,\n"
	      "           since 0 disables the timeout.\n"
	      "  LIST     names separated by commas, case-insensitive (tcp,DNS): no spaces and\n"
	      "           no empty name ('tcp,' ',tcp' and 'tcp,,udp' are errors); the\n"
	      "           column names of --columns are exact (case and spaces matter).\n"
	      "  FMT      one name, case-insensitive.\n"
	      "  DIR, pcap_file, output_file: any name but an empty one.\n"
	      "  A bad value is a usage error (exit 2) naming the option, the value and what\n"
	      "  is accepted.\n",
	      fp);
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

/* Prints one error line and the short usage; returns NFM_EXIT_USAGE. */
__attribute__((format(printf, 2, 3)))
static int bad(FILE *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nexusflowmeter: ", err);
	vfprintf(err, fmt, ap);
	fputc('\n', err);
	va_end(ap);
	nfm_cli_usage(err);
	return NFM_EXIT_USAGE;
}

struct name_bits {
	const char *name;
	unsigned bits;
};

static const struct name_bits protocol_names[] = {
	{ "tcp", NFM_PROTO_TCP }, { "udp", NFM_PROTO_UDP }, { "icmp", NFM_PROTO_ICMP },
	{ "icmpv6", NFM_PROTO_ICMP }, { "arp", NFM_PROTO_ARP }, { "dns", NFM_PROTO_DNS },
	{ "other", NFM_PROTO_OTHER }, { "all", NFM_PROTO_ALL },
};

/* LIST: names separated by single commas, case-insensitive, no empty name anywhere.
 * Returns 0 with the OR of the names' bits, or -1 with the reason in why. */
static int parse_list(const char *s, const struct name_bits *names, size_t n_names,
		      unsigned *out, char *why, size_t why_size)
{
	unsigned m = 0;
	for (const char *p = s;; p++) {
		size_t n = strcspn(p, ",");
		if (n == 0) {
			snprintf(why, why_size, "empty name%s",
				 p == s ? (*p ? " before the first comma" : "") :
				 *p ? " between commas" : " after the last comma");
			return -1;
		}
		size_t k;
		for (k = 0; k < n_names; k++)
			if (strlen(names[k].name) == n && strncasecmp(p, names[k].name, n) == 0)
				break;
		if (k == n_names) {
			char name[72], shown[160];
			snprintf(name, sizeof name, "%.*s", (int)(n > 64 ? 64 : n), p);
			snprintf(why, why_size, "unknown name '%s'", nfm_printable(name, shown, sizeof shown));
			return -1;
		}
		m |= names[k].bits;
		p += n;
		if (!*p)
			break;
	}
	*out = m;
	return 0;
}

/* An option's value was refused: one line naming the option, the value and what the
 * option accepts. */
static int bad_value(FILE *err, const struct opt *o, const char *name, const char *val,
		     const char *why)
{
	char expect[384], shown[160];
	switch (o->kind) {
	case K_UINT:
		snprintf(expect, sizeof expect, "a whole number from %llu to %llu (decimal digits only)",
			 (unsigned long long)o->lo, (unsigned long long)o->hi);
		break;
	case K_SECONDS:
		snprintf(expect, sizeof expect,
			 "0 (off) or seconds from 0.000000001 to %llu (digits with an optional fraction, such as 60 or 0.5)",
			 (unsigned long long)o->hi);
		break;
	case K_LIST: {
		size_t n = (size_t)snprintf(expect, sizeof expect, "a comma-separated list of");
		for (size_t k = 0; k < sizeof protocol_names / sizeof protocol_names[0]; k++)
			n += (size_t)snprintf(expect + n, sizeof expect - n, "%s %s", k ? "," : "",
					      protocol_names[k].name);
		snprintf(expect + n, sizeof expect - n, " (case-insensitive; no spaces, no empty name)");
		break;
	}
	case K_FORMAT:
		snprintf(expect, sizeof expect,
			 "csv, json, jsonl (or ndjson), xlsx (or excel), nfdump, nfdump-dict or nfcapd, case-insensitive");
		break;
	default:
		if (o->id == O_SORT_BY) {
			snprintf(expect, sizeof expect, "bytes, packets, first or none");
			break;
		}
		if (o->id == O_EXPORT) {
			snprintf(expect, sizeof expect,
				 "ipfix://HOST:PORT or netflow9://HOST:PORT");
			break;
		}
		snprintf(expect, sizeof expect, "%s",
			 o->id == O_IDENT ? "a name (not empty)" :
			 o->id == O_PROFILE ? "a profile name (--list-profiles)" :
			 o->id == O_COLUMNS ? "column names separated by commas" : "a directory name");
		break;
	}
	return bad(err, "%s: invalid value '%s'%s%s%s: expected %s", name,
		   nfm_printable(val, shown, sizeof shown), why ? " (" : "", why ? why : "", why ? ")" : "",
		   expect);
}

static int apply(struct nfm_cli *cli, const struct opt *o, const char *name, const char *val,
		 FILE *err)
{
	uint64_t u = 0;
	char why[256];
	switch (o->kind) {
	case K_FLAG:
		break;
	case K_NAME:
		if (!*val)
			return bad_value(err, o, name, val, NULL);
		break;
	case K_UINT:
		if (nfm_parse_uint(val, o->lo, o->hi, &u))
			return bad_value(err, o, name, val, NULL);
		break;
	case K_SECONDS:
		switch (nfm_parse_seconds(val, o->lo, o->hi, &u)) {
		case NFM_SECONDS_OK: break;
		case NFM_SECONDS_BELOW_NS:
			return bad_value(err, o, name, val, "not 0, but rounds to 0 ns");
		default:
			return bad_value(err, o, name, val, NULL);
		}
		break;
	case K_LIST:
		break; /* parsed below with the option's names (--protocols is the one list) */
	case K_FORMAT:
		cli->format = nfm_exporter_find(val);
		if (!nfm_exporter_listed(cli->format))
			return bad_value(err, o, name, val, NULL);
		break;
	}
	switch (o->id) {
	case O_DIRECTORY: cli->directory = val; break;
	case O_OUTPUT_DIR: cli->output_dir = val; break;
	case O_REPORT_DIR: cli->report_dir = val; break;
	case O_MERGE: cli->merge = true; break;
	case O_SPLIT: cli->split = true; break;
	case O_STREAM: cli->stream = true; break;
	case O_NO_REPORT: cli->no_report = true; break;
	case O_EXTENDED:
	case O_PROFILE: {
		const struct nfm_profile *p = nfm_profile_find(o->id == O_EXTENDED ? "extended" : val);
		if (!p) {
			char names[256], shown[160];
			size_t n = 0;
			const struct nfm_profile *q;
			for (size_t k = 0; (q = nfm_profile_at(k)) && n < sizeof names; k++)
				n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", k ? ", " : "", q->name);
			return bad(err, "%s: unknown profile '%s': expected one of %s (--list-profiles)",
				   name, nfm_printable(val, shown, sizeof shown), names);
		}
		if (cli->profile && cli->profile != p)
			return bad(err, "%s: a profile was already chosen (%s; --extended is --profile extended): give one",
				   name, cli->profile->name);
		cli->profile = p;
		break;
	}
	case O_LIST_PROFILES: cli->list_profiles = true; break;
	case O_COLUMNS: cli->columns = val; break;
	case O_SPLT: cli->splt = (unsigned)u; break;
	case O_NO_TUNNELS: cli->meter.decode.tunnels = false; break;
	case O_LIST_COLUMNS: cli->list_columns = true; break;
	case O_NO_PROGRESS: cli->progress_forced_off = true; break;
	case O_QUIET: cli->quiet = true; break;
	case O_VERBOSE: cli->verbose = true; break;
	case O_HELP: cli->help = true; break;
	case O_VERSION: cli->version = true; break;
	case O_PROTOCOLS:
		if (parse_list(val, protocol_names, sizeof protocol_names / sizeof protocol_names[0],
			       &cli->meter.protocols, why, sizeof why))
			return bad_value(err, o, name, val, why);
		break;
	case O_MAX_FLOWS: cli->meter.max_flows = u; break;
	case O_MAX_ACTIVE: cli->meter.max_active_flows = u; break;
	case O_PREVIEW: cli->preview = u; break;
	case O_CHUNK: cli->chunk_mb = u; break;
	case O_MAX_WORKERS: cli->workers = (unsigned)u; break;
	case O_FLOW_TIMEOUT: cli->meter.idle_timeout_ns = u; cli->have_idle = true; break;
	case O_ACTIVE_TIMEOUT: cli->meter.active_timeout_ns = u; cli->have_active = true; break;
	case O_FORMAT: cli->have_format = true; break;
	case O_SLICE: cli->slices.slice_ns = u * 1000000000u; break;
	case O_SLICE_SUBDIRS: cli->slices.subdirs = (unsigned)u; break;
	case O_LOCALTIME: cli->slices.localtime = cli->netflow.localtime = true; break;
	case O_SORT_BY:
		if (strcasecmp(val, "bytes") == 0)
			cli->netflow.sort = NFM_NF_SORT_BYTES;
		else if (strcasecmp(val, "packets") == 0)
			cli->netflow.sort = NFM_NF_SORT_PACKETS;
		else if (strcasecmp(val, "first") == 0)
			cli->netflow.sort = NFM_NF_SORT_FIRST;
		else if (strcasecmp(val, "none") == 0)
			cli->netflow.sort = NFM_NF_SORT_NONE;
		else
			return bad_value(err, o, name, val, NULL);
		break;
	case O_LZ4: cli->netflow.lz4 = true; break;
	case O_IDENT: cli->netflow.ident = val; break;
	case O_EXPORT:
		if (!nfm_exporter_for_url(val))
			return bad_value(err, o, name, val, NULL);
		if (cli->nexports == NFM_CLI_MAX_EXPORTS)
			return bad(err, "%s: at most %d exports", name, NFM_CLI_MAX_EXPORTS);
		cli->exports[cli->nexports++] = val;
		break;
	case O_EXPORT_RATE: cli->netflow.export_rate = u; cli->export_opts = true; break;
	case O_EXPORT_MTU: cli->netflow.export_mtu = (uint32_t)u; cli->export_opts = true; break;
	case O_EXPORT_BIFLOW: cli->netflow.biflow = true; cli->export_opts = true; break;
	case O_EXPORT_DOMAIN: cli->netflow.domain_id = (uint32_t)u; cli->export_opts = true; break;
	}
	return 0;
}

/* The options of the NetFlow side against the format and each other. */
static int check_netflow(struct nfm_cli *cli, FILE *err)
{
	const struct nfm_exporter_ops *fmt = cli->have_format ? cli->format : NULL;
	const char *fname = nfm_exporter_name(fmt);
	bool nf = nfm_exporter_is_netflow(fmt);
	bool nfdump = nf && strncmp(fname, "nfdump", 6) == 0;
	bool nfcapd = nf && strcmp(fname, "nfcapd") == 0;
	if (cli->slices.slice_ns && !nf)
		return bad(err, "--slice works with -of nfdump, nfdump-dict and nfcapd");
	if (nfm_exporter_is_sliced(fmt) && !cli->slices.slice_ns)
		cli->slices.slice_ns = 300 * 1000000000ull;
	cli->slice_files = cli->slices.slice_ns && !nfm_exporter_takes_slices(fmt);
	if (cli->slices.subdirs && !cli->slice_files)
		return bad(err, "--slice-subdirs needs slice files: -of nfcapd, or -of nfdump with --slice");
	if (cli->slices.localtime && !nf)
		return bad(err, "--localtime works with -of nfdump, nfdump-dict and nfcapd");
	if (cli->netflow.sort && !nfdump)
		return bad(err, "--sort-by works with -of nfdump and nfdump-dict");
	if ((cli->netflow.lz4 || cli->netflow.ident) && !nfcapd)
		return bad(err, "--lz4 and --ident work with -of nfcapd");
	if (cli->export_opts && !cli->nexports)
		return bad(err, "--export-rate, --export-mtu, --export-biflow and --export-domain need --export");
	if (cli->slices.slice_ns && cli->merge)
		return bad(err, "--merge does not work with time slices: the captures' times would interleave");
	if (cli->slices.slice_ns && cli->split)
		return bad(err, "--split-by-protocol does not work with time slices");
	if (cli->slice_files) {
		if (cli->directory)
			return bad(err, "-of %s with time slices writes a directory per capture: give one capture and a directory, not -d", fname);
		if (cli->output && strcmp(cli->output, "-") == 0)
			return bad(err, "-of %s with time slices writes files into a directory: give a directory name, not -", fname);
	}
	return 0;
}

/* The profile (the default when none was given), its timeouts where none was given,
 * and the names of --columns. */
static int check_profile(struct nfm_cli *cli, FILE *err)
{
	if (!cli->profile)
		cli->profile = nfm_profile_default();
	if (!cli->have_idle)
		cli->meter.idle_timeout_ns = cli->profile->idle_timeout_ns;
	if (!cli->have_active)
		cli->meter.active_timeout_ns = cli->profile->active_timeout_ns;
	if (!cli->columns)
		return 0;
	struct nfm_profile_spec spec = { .profile = cli->profile, .columns = cli->columns };
	struct nfm_layout layout;
	struct nfm_columns cols = { 0 };
	struct nfm_error e;
	nfm_error_clear(&e);
	int rc = nfm_profile_build(&spec, &layout, &cols, &e);
	nfm_columns_free(&cols);
	if (rc == 0)
		return 0;
	if (rc == NFM_ERR_NOMEM)
		return bad(err, "out of memory");
	char shown[600];
	nfm_escape_line(e.msg, shown, sizeof shown);
	return bad(err, "--columns: %s%s", shown,
		   strncmp(e.msg, "unknown", 7) == 0
			   ? ": known names are the fields (nexusflowmeter --list-columns --profile NAME) and the column names of every profile (docs/profiles.md)"
			   : "");
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
				return bad(err, "unknown option '%s'", a);
			if (eq) {
				if (!o->arg)
					return bad(err, "option '--%s' takes no value", o->lng);
				val = eq + 1;
			}
		} else if (!only_positional && a[0] == '-' && a[1]) {
			o = find_short(a);
			if (!o)
				return bad(err, "unknown option '%s'", a);
		}
		if (!o) {
			if (npos == 2)
				return bad(err, "unexpected argument '%s'", a);
			positional[npos++] = a;
			continue;
		}
		if (o->arg && !val) {
			if (i + 1 >= argc)
				return bad(err, "option '%s' needs a value (%s)", a, o->arg);
			val = argv[++i];
		}
		/* errors name the option as typed, without an =VALUE */
		char name[64];
		snprintf(name, sizeof name, "%s%s", a[1] == '-' ? "--" : "", a[1] == '-' ? o->lng : a);
		int rc = apply(cli, o, name, val, err);
		if (rc)
			return rc;
	}
	int rc = check_profile(cli, err);
	if (rc)
		return rc;
	if (cli->help || cli->version || cli->list_columns || cli->list_profiles)
		return 0;
	cli->input = positional[0];
	cli->output = positional[1];
	if (cli->directory) {
		if (cli->input && !cli->merge)
			return bad(err, "with -d, give no pcap_file ('%s')", cli->input);
		if (cli->input && cli->merge) {
			/* -d DIR --merge OUT: the single positional names the merged output */
			if (cli->output)
				return bad(err, "with -d --merge, give at most one output file");
			cli->output = cli->input;
			cli->input = NULL;
		}
		if (cli->split)
			return bad(err, "--split-by-protocol works on a single capture, not with -d");
		if (cli->preview)
			return bad(err, "--quick-preview works on a single capture, not with -d");
	} else {
		if (!cli->input)
			return bad(err, "missing pcap_file (or -d DIR)");
		if (!cli->output)
			return bad(err, "missing output_file for '%s'", cli->input);
		if (cli->merge)
			return bad(err, "--merge needs -d DIR");
		if (cli->output_dir)
			return bad(err, "-c/--output-dir needs -d DIR; give output_file instead");
		/* the per-protocol files are named after output_file */
		if (cli->split && strcmp(cli->output, "-") == 0)
			return bad(err, "--split-by-protocol: output_file '-' (standard output) cannot be split into files; give a base name such as flows");
	}
	rc = check_netflow(cli, err);
	if (rc)
		return rc;
	/* An empty name would surface later as an I/O error (exit 1) or a file named after
	 * nothing; it is a mistake on the command line. */
	if (cli->input && !*cli->input)
		return bad(err, "invalid pcap_file '': expected a capture file name, or - for standard input");
	if (cli->output && !*cli->output)
		return bad(err, "invalid output_file '': expected a file name, or - for standard output");
	return 0;
}
