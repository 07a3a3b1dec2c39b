/* What the report's renderers (text, JSON, ...) read from the aggregation in report.c.
 * struct nfm_report stays private to report.c: a renderer sees only the ordered views
 * below (inputs, protocols by flows, top talkers and top flows best first, histograms
 * with their percentiles computed, the packet accounting as rows), so a new renderer is
 * one new file that reads them. */
#ifndef NFM_REPORT_REPORT_INT_H
#define NFM_REPORT_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

#define NFM_REPORT_TALKERS 1024u /* Space-Saving capacity (distinct addresses) */
#define NFM_REPORT_TOP 10u       /* rows of the top-talker and top-flow lists */
#define NFM_REPORT_PROTOS 257u   /* IP protocol 0..255, plus ARP */
#define NFM_HIST_BUCKETS 65u     /* 0, then [2^(k-1), 2^k) for k = 1..64 */
#define NFM_REPORT_ADDR_LEN 64u  /* room for any address text */
#define NFM_REPORT_NAME_LEN 64u  /* room for any name below */

/* ---- scalars ---- */

/* Counters and source anomalies summed over every input (the per-input entries may be
 * fewer: see nfm_rep_inputs_dropped). */
const struct nfm_counters *nfm_rep_total(const struct nfm_report *rep);
const struct nfm_source_stats *nfm_rep_source_total(const struct nfm_report *rep);
/* Flows passed to nfm_report_add_flow. */
uint64_t nfm_rep_flows(const struct nfm_report *rep);
/* Seconds of processing; < 0 when not measured. */
double nfm_rep_elapsed(const struct nfm_report *rep);
/* The memory settings of the conversion; NULL when not given. */
const struct nfm_report_memory *nfm_rep_memory(const struct nfm_report *rep);

/* ---- outputs that keep counts, in the order they were added ---- */

struct nfm_rep_output {
	char format[NFM_REPORT_NAME_LEN];
	char dest[512];
	uint64_t records, messages, bytes, templates, dropped, slices;
};

size_t nfm_rep_n_outputs(const struct nfm_report *rep);
const struct nfm_rep_output *nfm_rep_output(const struct nfm_report *rep, size_t i);

/* ---- inputs, in the order they were added ---- */

struct nfm_rep_input {
	const char *name, *format;
	const char *status;      /* "" for a clean read */
	const struct nfm_counters *c;
	const struct nfm_source_stats *s;
};

size_t nfm_rep_n_inputs(const struct nfm_report *rep);
void nfm_rep_input(const struct nfm_report *rep, size_t i, struct nfm_rep_input *out);
/* Inputs not listed because memory ran out (they are in the totals). */
uint64_t nfm_rep_inputs_dropped(const struct nfm_report *rep);

/* ---- flows by protocol, by flows descending (then protocol number, ARP last) ---- */

struct nfm_rep_proto {
	const char *name;        /* points into buf or to a static string */
	bool is_arp;             /* ARP: no IP protocol number */
	uint8_t ip_proto;
	uint64_t flows, packets, bytes;
	char buf[NFM_REPORT_NAME_LEN];
};

/* Fills out (room for NFM_REPORT_PROTOS) and returns how many protocols had flows. */
size_t nfm_rep_protocols(const struct nfm_report *rep, struct nfm_rep_proto *out);

/* ---- TCP connection states ---- */

/* Flows of TCP in state s (0 .. NFM_CONN_STATE_COUNT; the last counts out-of-range
 * states). */
uint64_t nfm_rep_tcp_state(const struct nfm_report *rep, unsigned s);

/* ---- top talkers (bytes sent), best first ---- */

struct nfm_rep_talker {
	char addr[NFM_REPORT_ADDR_LEN];
	uint64_t bytes;
	uint64_t max_error;      /* the count may overestimate by this much */
};

struct nfm_rep_talkers {
	bool exact;              /* every distinct sending address fitted */
	size_t distinct;         /* addresses tracked (at most NFM_REPORT_TALKERS) */
	size_t n;                /* rows in top */
	struct nfm_rep_talker top[NFM_REPORT_TOP];
};

void nfm_rep_top_talkers(const struct nfm_report *rep, struct nfm_rep_talkers *out);

/* ---- top flows (total bytes), best first ---- */

struct nfm_rep_flow {
	uint8_t l3;              /* NFM_L3_* */
	bool has_vlan;
	uint16_t vlan_id, src_port, dst_port;
	uint8_t end_reason;
	char src[NFM_REPORT_ADDR_LEN], dst[NFM_REPORT_ADDR_LEN];
	const char *protocol;    /* points into pbuf or to a static string */
	char pbuf[NFM_REPORT_NAME_LEN];
	uint64_t packets, bytes, first_ns, duration_ns;
};

/* Fills out (room for NFM_REPORT_TOP) and returns how many. */
size_t nfm_rep_top_flows(const struct nfm_report *rep, struct nfm_rep_flow *out);

/* ---- distributions ---- */

enum nfm_rep_dist { NFM_REP_DURATION, NFM_REP_SIZE, NFM_REP_PACKETS, NFM_REP_RATE,
		    NFM_REP_DIST_COUNT };

struct nfm_rep_bucket {
	unsigned k;              /* 0 holds the value 0 (rate: below 1); k >= 1: [lo, hi) */
	double lo, hi;
	uint64_t count;
};

struct nfm_rep_hist {
	uint64_t n;              /* values; the fields below are 0 when n is 0 */
	double min, max, mean;
	double p50, p90, p99;    /* approximate, interpolated inside the buckets */
	uint64_t peak;           /* the largest bucket count */
	size_t n_buckets;        /* non-empty buckets, ascending */
	struct nfm_rep_bucket bucket[NFM_HIST_BUCKETS];
};

void nfm_rep_hist(const struct nfm_report *rep, enum nfm_rep_dist d, struct nfm_rep_hist *out);
/* Flows of duration 0, which have no rate. */
uint64_t nfm_rep_rate_skipped(const struct nfm_report *rep);

/* ---- the packet accounting of a set of counters, as rows in order ---- */

/* The rows follow NFM_COUNTERS (flow/meter.h): what was read, each place a packet read
 * lands in (with its kinds), their sum against the packets read, then the packets also
 * counted elsewhere. A renderer writes each kind of row its way. */
enum nfm_rep_row_kind {
	NFM_ROW_COUNT,   /* label / key: value */
	NFM_ROW_GROUP,   /* the rows up to the matching NFM_ROW_END are kinds of the row
			  * before (JSON: an object under key) */
	NFM_ROW_END,
	NFM_ROW_SUM,     /* the accounted sum (value): accounted when ok, else diff says by
			  * how much packets read exceed it ("-3": counted twice) */
	NFM_ROW_BREAK,   /* between the places packets land and the packets noted */
	NFM_ROW_NOTE,    /* a sentence for the reader (label) */
};

struct nfm_rep_row {
	enum nfm_rep_row_kind kind;
	unsigned depth;          /* nesting: 0 top level, 1 a place packets land or a kind, 2 a
				  * kind of those */
	bool bytes;              /* the value is bytes */
	bool detail;             /* every value of an array: for machines (JSON), not the text */
	bool ok;                 /* NFM_ROW_SUM: the sum equals the packets read */
	const char *label, *key; /* key may point into buf */
	uint64_t value;
	char buf[NFM_REPORT_NAME_LEN];
};

#define NFM_REPORT_ROWS 96u

/* Fills rows (room for NFM_REPORT_ROWS) and returns how many. */
size_t nfm_rep_accounting(const struct nfm_counters *c, struct nfm_rep_row *rows);
/* The sum of the places a packet read can land in; equal to c->packets when every
 * packet is accounted for. */
uint64_t nfm_rep_accounted_sum(const struct nfm_counters *c);
/* first_ts_ns .. last_ts_ns, 0 without packets. */
uint64_t nfm_rep_span_ns(const struct nfm_counters *c);

/* ---- names, never empty (a fallback names an unknown value by number) ---- */

const char *nfm_rep_reason_name(unsigned r, char *buf, size_t cap);
const char *nfm_rep_state_name(unsigned s, char *buf, size_t cap);

#endif
