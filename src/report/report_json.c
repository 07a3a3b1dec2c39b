/* The report as JSON (report_version 1): the same content as the text report, as
 * numbers and strings for programs. Reads the aggregation through the views of
 * report_int.h only. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "decode/decode.h"
#include "feature/fields.h"
#include "report/report.h"
#include "report/report_int.h"

#define JW_MAX_DEPTH 16

struct jw {
	FILE *fp;
	int depth;
	bool first[JW_MAX_DEPTH];
};

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/* A JSON string: quotes, backslash and control characters escaped; bytes that are not
 * valid UTF-8 become U+FFFD so the file always parses. */
static void json_string(FILE *fp, const char *s)
{
	fputc('"', fp);
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', fp);
			fputc((int)c, fp);
			p++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': fputs("\\n", fp); break;
			case '\r': fputs("\\r", fp); break;
			case '\t': fputs("\\t", fp); break;
			case '\b': fputs("\\b", fp); break;
			case '\f': fputs("\\f", fp); break;
			default: fprintf(fp, "\\u%04x", c); break;
			}
			p++;
		} else if (c < 0x80) {
			fputc((int)c, fp);
			p++;
		} else {
			size_t n = utf8_len(p); /* stops at the NUL: continuation checks fail there */
			if (n == 0) {
				fputs("\\ufffd", fp);
				p++;
			} else {
				fwrite(p, 1, n, fp);
				p += n;
			}
		}
	}
	fputc('"', fp);
}

static void jw_indent(struct jw *w)
{
	fputc('\n', w->fp);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->fp);
}

/* Separator, indentation and key (NULL inside arrays). */
static void jw_key(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first[w->depth])
			fputc(',', w->fp);
		w->first[w->depth] = false;
		jw_indent(w);
	}
	if (key) {
		json_string(w->fp, key);
		fputs(": ", w->fp);
	}
}

static void jw_open(struct jw *w, const char *key, char bracket)
{
	jw_key(w, key);
	fputc(bracket, w->fp);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, char bracket)
{
	bool empty = w->first[w->depth];
	if (w->depth > 0)
		w->depth--;
	if (!empty)
		jw_indent(w);
	fputc(bracket, w->fp);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->fp, "%llu", (unsigned long long)v);
}

static void jw_f64(struct jw *w, const char *key, double v, int prec)
{
	jw_key(w, key);
	if (isfinite(v))
		fprintf(w->fp, "%.*f", prec, v);
	else
		fputs("null", w->fp);
}

static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	json_string(w->fp, s);
}

static void jw_bool(struct jw *w, const char *key, bool b)
{
	jw_key(w, key);
	fputs(b ? "true" : "false", w->fp);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->fp);
}

static void jw_raw(struct jw *w, const char *key, const char *text)
{
	jw_key(w, key);
	fputs(text, w->fp);
}

static void jw_time(struct jw *w, const char *key, uint64_t ns)
{
	char tb[64];
	if (!ns) {
		jw_null(w, key);
		return;
	}
	nfm_rep_time(ns, tb, sizeof tb);
	jw_str(w, key, tb);
}

static void json_span(struct jw *w, const struct nfm_counters *c)
{
	jw_time(w, "first_packet", c->first_ts_ns);
	jw_time(w, "last_packet", c->last_ts_ns);
	jw_f64(w, "duration_s", (double)nfm_rep_span_ns(c) / 1e9, 9);
}

static void json_accounting(struct jw *w, const char *key, const struct nfm_counters *c)
{
	char nb[64];
	jw_open(w, key, '{');
	jw_u64(w, "read", c->packets);
	jw_u64(w, "wire_bytes", c->wire_bytes);
	jw_u64(w, "in_flows", c->flow_packets);
	jw_u64(w, "nonip", nfm_rep_nonip_total(c));
	jw_open(w, "nonip_by_kind", '{');
	for (unsigned k = 0; k < NFM_NONIP_KIND_COUNT; k++)
		if (c->nonip[k])
			jw_u64(w, nfm_rep_nonip_name(k, nb, sizeof nb), c->nonip[k]);
	jw_close(w, '}');
	jw_u64(w, "truncated", c->decode_status[NFM_DECODE_TRUNCATED]);
	jw_u64(w, "malformed", c->decode_status[NFM_DECODE_MALFORMED]);
	jw_u64(w, "unsupported_link", c->decode_status[NFM_DECODE_UNSUPPORTED]);
	jw_u64(w, "filtered", c->filtered);
	jw_u64(w, "over_max_flows", c->over_max_flows);
	jw_u64(w, "fragments_unmatched", c->fragments_unmatched);
	uint64_t sum = nfm_rep_accounted_sum(c);
	jw_u64(w, "accounted_sum", sum);
	jw_bool(w, "accounted", sum == c->packets);
	nfm_rep_difference(c, nb, sizeof nb);
	jw_raw(w, "difference", nb);
	jw_u64(w, "fragments", c->fragments);
	jw_u64(w, "l4_truncated", c->l4_truncated);
	jw_u64(w, "ts_backwards", c->ts_backwards);
	jw_u64(w, "tunnel_not_followed", c->tunnel_opaque);
	jw_open(w, "tunnel_not_followed_by_kind", '{');
	for (unsigned k = 0; k < NFM_OPAQUE_KINDS && c->opaque[k].kind; k++)
		jw_u64(w, nfm_opaque_name(c->opaque[k].kind, nb, sizeof nb), c->opaque[k].packets);
	uint64_t other = nfm_rep_opaque_other(c);
	if (other)
		jw_u64(w, "other", other);
	jw_close(w, '}');
	jw_open(w, "decode_status", '{');
	for (unsigned k = 0; k < NFM_DECODE_STATUS_COUNT; k++)
		jw_u64(w, nfm_rep_status_name(k, nb, sizeof nb), c->decode_status[k]);
	jw_close(w, '}');
	jw_close(w, '}');
}

static void json_anomalies(struct jw *w, const struct nfm_source_stats *s)
{
	jw_open(w, "source_anomalies", '{');
	jw_u64(w, "caplen_fixed", s->caplen_fixed);
	jw_u64(w, "ts_fixed", s->ts_fixed);
	jw_u64(w, "blocks_skipped", s->blocks_skipped);
	jw_u64(w, "bad_interface", s->bad_interface);
	jw_close(w, '}');
}

static void json_hist(struct jw *w, const char *key, const struct nfm_report *rep,
		      enum nfm_rep_dist d, const char *unit, double scale, int prec)
{
	struct nfm_rep_hist h;
	nfm_rep_hist(rep, d, &h);
	jw_open(w, key, '{');
	jw_str(w, "unit", unit);
	jw_u64(w, "count", h.n);
	if (h.n) {
		jw_f64(w, "min", h.min * scale, prec);
		jw_f64(w, "max", h.max * scale, prec);
		jw_f64(w, "mean", h.mean * scale, prec < 3 ? 3 : prec);
		jw_f64(w, "p50", h.p50 * scale, prec);
		jw_f64(w, "p90", h.p90 * scale, prec);
		jw_f64(w, "p99", h.p99 * scale, prec);
	} else {
		jw_null(w, "min");
		jw_null(w, "max");
		jw_null(w, "mean");
		jw_null(w, "p50");
		jw_null(w, "p90");
		jw_null(w, "p99");
	}
	jw_open(w, "buckets", '[');
	for (size_t i = 0; i < h.n_buckets; i++) {
		jw_open(w, NULL, '{');
		jw_f64(w, "lo", h.bucket[i].lo * scale, prec);
		jw_f64(w, "hi", h.bucket[i].hi * scale, prec);
		jw_u64(w, "count", h.bucket[i].count);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

static void json_inputs(struct jw *w, const struct nfm_report *rep)
{
	jw_open(w, "inputs", '[');
	for (size_t i = 0; i < nfm_rep_n_inputs(rep); i++) {
		struct nfm_rep_input in;
		nfm_rep_input(rep, i, &in);
		jw_open(w, NULL, '{');
		jw_str(w, "name", in.name);
		jw_str(w, "format", in.format);
		jw_str(w, "status", *in.status ? in.status : "ok");
		jw_bool(w, "clean", *in.status == '\0');
		jw_u64(w, "packets", in.c->packets);
		jw_u64(w, "wire_bytes", in.c->wire_bytes);
		json_span(w, in.c);
		json_accounting(w, "accounting", in.c);
		json_anomalies(w, in.s);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_u64(w, "inputs_not_listed", nfm_rep_inputs_dropped(rep));
}

static void json_flows(struct jw *w, const struct nfm_report *rep)
{
	const struct nfm_counters *c = nfm_rep_total(rep);
	char nb[64];
	jw_open(w, "flows", '{');
	jw_u64(w, "created", c->flows_created);
	jw_u64(w, "written", c->flows_written);
	jw_u64(w, "analysed", nfm_rep_flows(rep));
	jw_u64(w, "peak_active", c->peak_active_flows);
	jw_open(w, "by_end_reason", '{');
	for (unsigned r = 0; r < NFM_END_REASON_COUNT; r++)
		jw_u64(w, nfm_rep_reason_name(r, nb, sizeof nb), c->flows_by_reason[r]);
	jw_close(w, '}');
	jw_open(w, "by_protocol", '[');
	struct nfm_rep_proto pr[NFM_REPORT_PROTOS];
	size_t np = nfm_rep_protocols(rep, pr);
	for (size_t i = 0; i < np; i++) {
		jw_open(w, NULL, '{');
		jw_str(w, "protocol", pr[i].name);
		if (pr[i].is_arp)
			jw_null(w, "ip_proto");
		else
			jw_u64(w, "ip_proto", pr[i].ip_proto);
		jw_u64(w, "flows", pr[i].flows);
		jw_u64(w, "packets", pr[i].packets);
		jw_u64(w, "bytes", pr[i].bytes);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "tcp_states", '{');
	for (unsigned s = 0; s <= NFM_CONN_STATE_COUNT; s++) {
		uint64_t v = nfm_rep_tcp_state(rep, s);
		if ((s == NFM_CONN_NONE || s == NFM_CONN_STATE_COUNT) && !v)
			continue;
		jw_u64(w, nfm_rep_state_name(s, nb, sizeof nb), v);
	}
	jw_close(w, '}');
	jw_close(w, '}');
}

static void json_top(struct jw *w, const struct nfm_report *rep)
{
	char nb[64];
	struct nfm_rep_talkers tk;
	nfm_rep_top_talkers(rep, &tk);
	jw_open(w, "top_talkers", '{');
	jw_str(w, "metric", "bytes_sent");
	jw_u64(w, "capacity", NFM_REPORT_TALKERS);
	jw_bool(w, "exact", tk.exact);
	jw_u64(w, "distinct_tracked", tk.distinct);
	jw_open(w, "entries", '[');
	for (size_t i = 0; i < tk.n; i++) {
		jw_open(w, NULL, '{');
		jw_str(w, "address", tk.top[i].addr);
		jw_u64(w, "bytes", tk.top[i].bytes);
		jw_u64(w, "max_error", tk.top[i].max_error);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');

	jw_open(w, "top_flows", '[');
	struct nfm_rep_flow tf[NFM_REPORT_TOP];
	size_t nf = nfm_rep_top_flows(rep, tf);
	for (size_t i = 0; i < nf; i++) {
		const struct nfm_rep_flow *f = &tf[i];
		jw_open(w, NULL, '{');
		jw_str(w, "src", f->src);
		jw_u64(w, "src_port", f->src_port);
		jw_str(w, "dst", f->dst);
		jw_u64(w, "dst_port", f->dst_port);
		jw_str(w, "protocol", f->protocol);
		if (f->has_vlan)
			jw_u64(w, "vlan", f->vlan_id);
		else
			jw_null(w, "vlan");
		jw_u64(w, "packets", f->packets);
		jw_u64(w, "bytes", f->bytes);
		jw_time(w, "first_packet", f->first_ns);
		jw_f64(w, "duration_s", (double)f->duration_ns / 1e9, 9);
		jw_str(w, "end_reason", nfm_rep_reason_name(f->end_reason, nb, sizeof nb));
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void json_processing(struct jw *w, const struct nfm_report *rep)
{
	double el = nfm_rep_elapsed(rep);
	jw_open(w, "processing", '{');
	if (el >= 0) {
		jw_f64(w, "elapsed_s", el, 6);
		if (el > 0) {
			jw_f64(w, "packets_per_s", (double)nfm_rep_total(rep)->packets / el, 1);
			jw_f64(w, "flows_per_s", (double)nfm_rep_flows(rep) / el, 1);
		} else {
			jw_null(w, "packets_per_s");
			jw_null(w, "flows_per_s");
		}
	} else {
		jw_null(w, "elapsed_s");
		jw_null(w, "packets_per_s");
		jw_null(w, "flows_per_s");
	}
	jw_close(w, '}');
}

int nfm_report_write_json(const struct nfm_report *rep, FILE *fp)
{
	if (!rep || !fp)
		return NFM_ERR_INVALID;
	struct jw w = { .fp = fp, .depth = 0 };

	jw_open(&w, NULL, '{');
	jw_str(&w, "generator", "nexusflowmeter");
	jw_u64(&w, "report_version", 1);
	json_inputs(&w, rep);
	jw_open(&w, "capture", '{');
	json_span(&w, nfm_rep_total(rep));
	jw_close(&w, '}');
	json_accounting(&w, "packets", nfm_rep_total(rep));
	json_anomalies(&w, nfm_rep_source_total(rep));
	json_flows(&w, rep);
	json_top(&w, rep);
	jw_open(&w, "distributions", '{');
	json_hist(&w, "duration", rep, NFM_REP_DURATION, "s", 1e-9, 9);
	json_hist(&w, "size", rep, NFM_REP_SIZE, "bytes", 1.0, 0);
	json_hist(&w, "packets", rep, NFM_REP_PACKETS, "packets", 1.0, 0);
	json_hist(&w, "rate", rep, NFM_REP_RATE, "bytes/s", 1.0, 3);
	jw_u64(&w, "rate_skipped_zero_duration", nfm_rep_rate_skipped(rep));
	jw_close(&w, '}');
	json_processing(&w, rep);
	jw_close(&w, '}');
	fputc('\n', fp);
	return ferror(fp) ? NFM_ERR_IO : 0;
}
