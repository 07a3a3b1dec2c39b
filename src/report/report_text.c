/* The report as text: fixed-width columns meant for a terminal or a pager. Reads the
 * aggregation through the views of report_int.h only. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "decode/decode.h"
#include "feature/fields.h"
#include "report/report.h"
#include "report/report_int.h"
#include "util/fmt.h"
#include "util/text.h"

static double fin(double v)
{
	return isfinite(v) ? v : 0.0;
}

/* Human duration: "0 s", "750 ns", "12.5 us", "3.25 ms", "1.500 s", "2 h 03 min 04 s". */
static void fmt_dur(double ns, char *buf, size_t cap)
{
	ns = fin(ns);
	if (ns <= 0)
		snprintf(buf, cap, "0 s");
	else if (ns < 1e3)
		snprintf(buf, cap, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, cap, "%.3g us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, cap, "%.3g ms", ns / 1e6);
	else if (ns < 3600e9)
		snprintf(buf, cap, "%.3f s", ns / 1e9);
	else {
		double s = floor(ns / 1e9);
		double h = floor(s / 3600);
		s -= h * 3600;
		double mi = floor(s / 60);
		s -= mi * 60;
		snprintf(buf, cap, "%.0f h %02.0f min %02.0f s", h, mi, s);
	}
}

/* Human size in decimal units: "512 B", "1.23 kB", "4.56 MB". */
static void fmt_bytes(double b, char *buf, size_t cap)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB" };
	b = fin(b);
	unsigned u = 0;
	while (b >= 1000 && u < 7) {
		b /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%.0f B", b);
	else
		snprintf(buf, cap, "%.3g %s", b, unit[u]);
}

static const char *safe_name(const char *s, const char *fallback)
{
	return (s && *s) ? s : fallback;
}

/* Writes s with control characters and backslashes escaped, so that a name can never
 * break the line structure of the text report. */
static void text_escaped(FILE *fp, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '\\')
			fputs("\\\\", fp);
		else if (*p == '\n')
			fputs("\\n", fp);
		else if (*p == '\r')
			fputs("\\r", fp);
		else if (*p == '\t')
			fputs("\\t", fp);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
}

static void heading(FILE *fp, const char *title)
{
	fprintf(fp, "\n%s\n", title);
	for (size_t i = strlen(title); i > 0; i--)
		fputc('-', fp);
	fputc('\n', fp);
}

#define LABEL_W 34

static void line_u64(FILE *fp, const char *label, uint64_t v)
{
	fprintf(fp, "%-*s %15llu\n", LABEL_W, label, (unsigned long long)v);
}

static void line_str(FILE *fp, const char *label, const char *v)
{
	fprintf(fp, "%-*s %s\n", LABEL_W, label, v);
}

/* first packet, last packet and duration of c */
static void text_span(FILE *fp, const struct nfm_counters *c, bool dashes)
{
	char tb[NFM_FMT_TIME_LEN + 1], b[64];
	if (c->first_ts_ns) {
		nfm_fmt_time_str(tb, c->first_ts_ns);
		fprintf(fp, "  %-*s %s\n", LABEL_W - 2, "first packet", tb);
		nfm_fmt_time_str(tb, c->last_ts_ns);
		fprintf(fp, "  %-*s %s\n", LABEL_W - 2, "last packet", tb);
	} else if (dashes) {
		fprintf(fp, "  %-*s -\n  %-*s -\n", LABEL_W - 2, "first packet", LABEL_W - 2,
			"last packet");
	}
	uint64_t sp = nfm_rep_span_ns(c);
	fmt_dur((double)sp, b, sizeof b);
	fprintf(fp, "  %-*s %.6f s (%s)\n", LABEL_W - 2, "duration", (double)sp / 1e9, b);
}

static void text_inputs(const struct nfm_report *rep, FILE *fp)
{
	char b[64];
	size_t n_in = nfm_rep_n_inputs(rep);
	uint64_t dropped = nfm_rep_inputs_dropped(rep);
	heading(fp, "Inputs");
	if (n_in == 0 && !dropped)
		fprintf(fp, "(none)\n");
	for (size_t i = 0; i < n_in; i++) {
		struct nfm_rep_input in;
		nfm_rep_input(rep, i, &in);
		fprintf(fp, "input %zu: ", i + 1);
		text_escaped(fp, in.name);
		fputc('\n', fp);
		fprintf(fp, "  %-*s ", LABEL_W - 2, "format");
		text_escaped(fp, safe_name(in.format, "unknown"));
		fputc('\n', fp);
		fprintf(fp, "  %-*s ", LABEL_W - 2, "status");
		text_escaped(fp, safe_name(in.status, "ok"));
		fputc('\n', fp);
		fprintf(fp, "  %-*s %llu\n", LABEL_W - 2, "packets read",
			(unsigned long long)in.c->packets);
		fmt_bytes((double)in.c->wire_bytes, b, sizeof b);
		fprintf(fp, "  %-*s %llu (%s)\n", LABEL_W - 2, "wire bytes",
			(unsigned long long)in.c->wire_bytes, b);
		text_span(fp, in.c, true);
	}
	if (dropped)
		fprintf(fp, "(%llu more inputs not listed: out of memory; they are in the totals)\n",
			(unsigned long long)dropped);
	if (n_in + dropped > 1) {
		fprintf(fp, "all inputs:\n");
		text_span(fp, nfm_rep_total(rep), false);
	}
}

static void text_accounting(const struct nfm_report *rep, FILE *fp)
{
	const struct nfm_source_stats *st = nfm_rep_source_total(rep);
	struct nfm_rep_row rows[NFM_REPORT_ROWS];
	size_t n = nfm_rep_accounting(nfm_rep_total(rep), rows);
	char lb[96], b[64];
	heading(fp, "Packet accounting");
	for (size_t i = 0; i < n; i++) {
		const struct nfm_rep_row *r = &rows[i];
		if (r->detail)
			continue;
		switch (r->kind) {
		case NFM_ROW_COUNT:
			snprintf(lb, sizeof lb, "%*s%s", (int)(2 * r->depth), "", r->label);
			if (r->bytes) {
				fmt_bytes((double)r->value, b, sizeof b);
				fprintf(fp, "%-*s %15llu (%s)\n", LABEL_W, lb,
					(unsigned long long)r->value, b);
			} else {
				line_u64(fp, lb, r->value);
			}
			break;
		case NFM_ROW_SUM:
			line_u64(fp, r->label, r->value);
			if (r->ok)
				fprintf(fp, "accounted: yes\n");
			else
				fprintf(fp, "accounted: no (difference %s)\n", r->buf);
			break;
		case NFM_ROW_BREAK:
			fprintf(fp, "\n");
			break;
		case NFM_ROW_NOTE:
			fprintf(fp, "%s\n", r->label);
			break;
		default: /* groups: the text shows kinds by their indentation */
			break;
		}
	}

	heading(fp, "Source anomalies");
	line_u64(fp, "caplen fixed", st->caplen_fixed);
	line_u64(fp, "timestamp fraction fixed", st->ts_fixed);
	line_u64(fp, "pcapng blocks skipped", st->blocks_skipped);
	line_u64(fp, "undefined pcapng interface", st->bad_interface);
}

static void text_flows(const struct nfm_report *rep, FILE *fp)
{
	const struct nfm_counters *c = nfm_rep_total(rep);
	char nb[64], lb[96];
	heading(fp, "Flows");
	line_u64(fp, "flows created", c->flows_created);
	line_u64(fp, "flows written", c->flows_written);
	line_u64(fp, "flows analysed in this report", nfm_rep_flows(rep));
	line_u64(fp, "peak active flows", c->peak_active_flows);
	fprintf(fp, "by end reason:\n");
	for (unsigned r = 0; r < NFM_END_REASON_COUNT; r++) {
		snprintf(lb, sizeof lb, "  %s", nfm_rep_reason_name(r, nb, sizeof nb));
		line_u64(fp, lb, c->flows_by_reason[r]);
	}

	heading(fp, "Flows by protocol");
	struct nfm_rep_proto pr[NFM_REPORT_PROTOS];
	size_t n = nfm_rep_protocols(rep, pr);
	if (n == 0) {
		fprintf(fp, "(no flows)\n");
	} else {
		fprintf(fp, "%-12s %15s %20s %24s\n", "protocol", "flows", "packets", "bytes");
		for (size_t i = 0; i < n; i++)
			fprintf(fp, "%-12s %15llu %20llu %24llu\n", pr[i].name,
				(unsigned long long)pr[i].flows, (unsigned long long)pr[i].packets,
				(unsigned long long)pr[i].bytes);
	}

	heading(fp, "TCP connection states");
	uint64_t tcp = 0;
	for (unsigned s = 0; s <= NFM_CONN_STATE_COUNT; s++)
		tcp += nfm_rep_tcp_state(rep, s);
	if (tcp == 0) {
		fprintf(fp, "(no TCP flows)\n");
	} else {
		for (unsigned s = 0; s <= NFM_CONN_STATE_COUNT; s++) {
			uint64_t v = nfm_rep_tcp_state(rep, s);
			if ((s == NFM_CONN_NONE || s == NFM_CONN_STATE_COUNT) && !v)
				continue;
			line_u64(fp, nfm_rep_state_name(s, nb, sizeof nb), v);
		}
	}
}

static void text_talkers(const struct nfm_report *rep, FILE *fp)
{
	char b[64];
	struct nfm_rep_talkers tk;
	nfm_rep_top_talkers(rep, &tk);
	heading(fp, "Top talkers (bytes sent)");
	fprintf(fp, "A flow's forward bytes count for its source address, its backward bytes for\n"
		    "its destination address.\n");
	if (!tk.exact)
		fprintf(fp, "approximate: more than %u distinct addresses sent traffic; counts may be\n"
			    "overestimated by at most the max error shown (Space-Saving summary)\n",
			NFM_REPORT_TALKERS);
	else
		fprintf(fp, "exact (%zu distinct sending addresses)\n", tk.distinct);
	if (tk.n == 0) {
		fprintf(fp, "(none)\n");
		return;
	}
	if (!tk.exact)
		fprintf(fp, "%4s %24s %12s %24s  %s\n", "rank", "bytes", "", "max error", "address");
	else
		fprintf(fp, "%4s %24s %12s  %s\n", "rank", "bytes", "", "address");
	for (size_t i = 0; i < tk.n; i++) {
		const struct nfm_rep_talker *t = &tk.top[i];
		fmt_bytes((double)t->bytes, b, sizeof b);
		fprintf(fp, "%4zu %24llu %12s ", i + 1, (unsigned long long)t->bytes, b);
		if (!tk.exact)
			fprintf(fp, "%24llu ", (unsigned long long)t->max_error);
		fprintf(fp, " %s\n", t->addr);
	}
}

/* "10.0.0.1:443 -> 10.0.0.2:5000 TCP" ([v6]:port; no ports for ARP). */
static void flow_text(const struct nfm_rep_flow *f, char *buf, size_t cap)
{
	size_t len;
	if (f->l3 == NFM_L3_ARP) {
		len = (size_t)snprintf(buf, cap, "%s -> %s %s", f->src, f->dst, f->protocol);
	} else {
		bool v6 = f->l3 == NFM_L3_IPV6;
		len = (size_t)snprintf(buf, cap, "%s%s%s:%u -> %s%s%s:%u %s", v6 ? "[" : "", f->src,
				       v6 ? "]" : "", f->src_port, v6 ? "[" : "", f->dst, v6 ? "]" : "",
				       f->dst_port, f->protocol);
	}
	if (f->has_vlan && len < cap)
		snprintf(buf + len, cap - len, " vlan %u", f->vlan_id);
}

static void text_top_flows(const struct nfm_report *rep, FILE *fp)
{
	char fb[256], db[64];
	heading(fp, "Top flows (total bytes)");
	struct nfm_rep_flow t[NFM_REPORT_TOP];
	size_t n = nfm_rep_top_flows(rep, t);
	if (n == 0) {
		fprintf(fp, "(none)\n");
		return;
	}
	fprintf(fp, "%4s %20s %15s %16s  %s\n", "rank", "bytes", "packets", "duration", "flow");
	for (size_t i = 0; i < n; i++) {
		fmt_dur((double)t[i].duration_ns, db, sizeof db);
		flow_text(&t[i], fb, sizeof fb);
		fprintf(fp, "%4zu %20llu %15llu %16s  %s\n", i + 1, (unsigned long long)t[i].bytes,
			(unsigned long long)t[i].packets, db, fb);
	}
}

enum unit_kind { U_NS, U_BYTES, U_COUNT, U_RATE };

static void fmt_value(enum unit_kind u, double v, char *buf, size_t cap)
{
	v = fin(v);
	switch (u) {
	case U_NS:
		fmt_dur(v, buf, cap);
		break;
	case U_BYTES:
		fmt_bytes(v, buf, cap);
		break;
	case U_RATE: {
		char b[48];
		fmt_bytes(v, b, sizeof b);
		size_t n = strlen(b);
		if (n + 3 <= cap) {
			memcpy(buf, b, n);
			memcpy(buf + n, "/s", 3);
		} else if (cap) {
			buf[0] = '\0';
		}
		break;
	}
	default:
		if (v >= 1e15)
			snprintf(buf, cap, "%.3g", v);
		else
			snprintf(buf, cap, "%.*f", v == floor(v) ? 0 : 1, v);
		break;
	}
}

static void text_hist(FILE *fp, const char *title, const struct nfm_report *rep,
		      enum nfm_rep_dist d, enum unit_kind u)
{
	char a[48], b[48], c[48];
	struct nfm_rep_hist h;
	nfm_rep_hist(rep, d, &h);
	fprintf(fp, "\n%s: %llu flows\n", title, (unsigned long long)h.n);
	if (h.n == 0)
		return;
	fmt_value(u, h.min, a, sizeof a);
	fmt_value(u, h.mean, b, sizeof b);
	fmt_value(u, h.max, c, sizeof c);
	fprintf(fp, "  min %s, mean %s, max %s\n", a, b, c);
	fmt_value(u, h.p50, a, sizeof a);
	fmt_value(u, h.p90, b, sizeof b);
	fmt_value(u, h.p99, c, sizeof c);
	fprintf(fp, "  p50 ~%s, p90 ~%s, p99 ~%s (approximate, from the buckets)\n", a, b, c);
	for (size_t i = 0; i < h.n_buckets; i++) {
		const struct nfm_rep_bucket *bk = &h.bucket[i];
		char range[112];
		if (bk->k == 0) {
			if (u == U_RATE)
				snprintf(range, sizeof range, "< 1 B/s");
			else {
				fmt_value(u, 0, a, sizeof a);
				snprintf(range, sizeof range, "%s", a);
			}
		} else {
			fmt_value(u, bk->lo, a, sizeof a);
			fmt_value(u, bk->hi, b, sizeof b);
			snprintf(range, sizeof range, "[%s, %s)", a, b);
		}
		double pct = 100.0 * (double)bk->count / (double)h.n;
		int bar = h.peak ? (int)(30.0 * (double)bk->count / (double)h.peak + 0.5) : 0;
		if (bk->count && bar == 0)
			bar = 1;
		fprintf(fp, "  %-30s %12llu %6.1f%% ", range, (unsigned long long)bk->count, fin(pct));
		for (int k = 0; k < bar; k++)
			fputc('#', fp);
		fputc('\n', fp);
	}
}

static void text_dists(const struct nfm_report *rep, FILE *fp)
{
	heading(fp, "Distributions");
	fprintf(fp, "log2 buckets [lo, hi); empty buckets are not shown\n");
	text_hist(fp, "flow duration", rep, NFM_REP_DURATION, U_NS);
	text_hist(fp, "flow size (bytes, both directions)", rep, NFM_REP_SIZE, U_BYTES);
	text_hist(fp, "packets per flow", rep, NFM_REP_PACKETS, U_COUNT);
	text_hist(fp, "flow rate (bytes/s over the flow's duration)", rep, NFM_REP_RATE, U_RATE);
	fprintf(fp, "  flows without a rate (duration 0): %llu\n",
		(unsigned long long)nfm_rep_rate_skipped(rep));
}

static void text_processing(const struct nfm_report *rep, FILE *fp)
{
	double el = nfm_rep_elapsed(rep);
	heading(fp, "Processing");
	if (el < 0) {
		line_str(fp, "elapsed", "not measured");
		return;
	}
	fprintf(fp, "%-*s %.3f s\n", LABEL_W, "elapsed", el);
	if (el > 0) {
		fprintf(fp, "%-*s %.0f\n", LABEL_W, "packets/s",
			fin((double)nfm_rep_total(rep)->packets / el));
		fprintf(fp, "%-*s %.0f\n", LABEL_W, "flows/s", fin((double)nfm_rep_flows(rep) / el));
	} else {
		line_str(fp, "packets/s", "n/a (elapsed time 0)");
	}
}

static void text_memory(const struct nfm_report *rep, FILE *fp)
{
	const struct nfm_report_memory *m = nfm_rep_memory(rep);
	if (!m)
		return;
	heading(fp, "Memory");
	char b[160], name[80];
	nfm_escape_line(m->profile, name, sizeof name);
	snprintf(b, sizeof b, "%s%s", name, m->columns_given ? " (columns of --columns)" : "");
	line_str(fp, "profile", b);
	line_u64(fp, "bytes per active flow", m->bytes_per_flow);
	if (!m->cap) {
		line_str(fp, "active-flow cap", "none");
		return;
	}
	line_u64(fp, "active-flow cap", m->cap);
	if (m->run_cap != m->cap)
		fprintf(fp, "  (this capture's share of the run's cap %llu)\n", (unsigned long long)m->run_cap);
	if (m->chunk_mib)
		fprintf(fp, "  (--chunk-size %llu MiB / %llu bytes per active flow)\n",
			(unsigned long long)m->chunk_mib, (unsigned long long)m->bytes_per_flow);
	else
		fprintf(fp, "  (--max-active-flows)\n");
}

static void text_outputs(const struct nfm_report *rep, FILE *fp)
{
	size_t n = nfm_rep_n_outputs(rep);
	if (!n)
		return;
	heading(fp, "Outputs");
	for (size_t i = 0; i < n; i++) {
		const struct nfm_rep_output *o = nfm_rep_output(rep, i);
		char dest[600];
		nfm_escape_line(o->dest, dest, sizeof dest);
		fprintf(fp, "%s %s: %llu records", o->format, dest, (unsigned long long)o->records);
		if (o->slices)
			fprintf(fp, " in %llu time slice%s", (unsigned long long)o->slices,
				o->slices == 1 ? "" : "s");
		if (o->messages)
			fprintf(fp, ", %llu messages", (unsigned long long)o->messages);
		if (o->bytes)
			fprintf(fp, ", %llu bytes", (unsigned long long)o->bytes);
		if (o->templates)
			fprintf(fp, ", %llu templates", (unsigned long long)o->templates);
		if (o->dropped || o->messages)
			fprintf(fp, ", %llu records not sent", (unsigned long long)o->dropped);
		fputc('\n', fp);
	}
}

int nfm_report_write_text(const struct nfm_report *rep, FILE *fp)
{
	if (!rep || !fp)
		return NFM_ERR_INVALID;
	fprintf(fp, "NexusFlowMeter analysis report\n");
	fprintf(fp, "==============================\n");
	text_inputs(rep, fp);
	text_accounting(rep, fp);
	text_flows(rep, fp);
	text_talkers(rep, fp);
	text_top_flows(rep, fp);
	text_dists(rep, fp);
	text_memory(rep, fp);
	text_outputs(rep, fp);
	text_processing(rep, fp);
	return ferror(fp) ? NFM_ERR_IO : 0;
}

