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
#include "util/fmt.h"
#include "util/json.h"

static void jw_time(struct nfm_jw *w, const char *key, uint64_t ns)
{
	char tb[NFM_FMT_TIME_LEN + 1];
	if (!ns) {
		nfm_jw_null(w, key);
		return;
	}
	nfm_fmt_time_str(tb, ns);
	nfm_jw_str(w, key, tb);
}

static void json_span(struct nfm_jw *w, const struct nfm_counters *c)
{
	jw_time(w, "first_packet", c->first_ts_ns);
	jw_time(w, "last_packet", c->last_ts_ns);
	nfm_jw_f64(w, "duration_s", (double)nfm_rep_span_ns(c) / 1e9, 9);
}

static void json_accounting(struct nfm_jw *w, const char *key, const struct nfm_counters *c)
{
	struct nfm_rep_row rows[NFM_REPORT_ROWS];
	size_t n = nfm_rep_accounting(c, rows);
	nfm_jw_open(w, key, '{');
	for (size_t i = 0; i < n; i++) {
		const struct nfm_rep_row *r = &rows[i];
		switch (r->kind) {
		case NFM_ROW_COUNT:
			nfm_jw_u64(w, r->key, r->value);
			break;
		case NFM_ROW_GROUP:
			nfm_jw_open(w, r->key, '{');
			break;
		case NFM_ROW_END:
			nfm_jw_close(w, '}');
			break;
		case NFM_ROW_SUM:
			nfm_jw_u64(w, r->key, r->value);
			nfm_jw_bool(w, "accounted", r->ok);
			nfm_jw_raw(w, "difference", r->buf);
			break;
		default: /* breaks and notes are for the text */
			break;
		}
	}
	nfm_jw_close(w, '}');
}

static void json_anomalies(struct nfm_jw *w, const struct nfm_source_stats *s)
{
	nfm_jw_open(w, "source_anomalies", '{');
	nfm_jw_u64(w, "caplen_fixed", s->caplen_fixed);
	nfm_jw_u64(w, "ts_fixed", s->ts_fixed);
	nfm_jw_u64(w, "blocks_skipped", s->blocks_skipped);
	nfm_jw_u64(w, "bad_interface", s->bad_interface);
	nfm_jw_close(w, '}');
}

static void json_hist(struct nfm_jw *w, const char *key, const struct nfm_report *rep,
		      enum nfm_rep_dist d, const char *unit, double scale, int prec)
{
	struct nfm_rep_hist h;
	nfm_rep_hist(rep, d, &h);
	nfm_jw_open(w, key, '{');
	nfm_jw_str(w, "unit", unit);
	nfm_jw_u64(w, "count", h.n);
	if (h.n) {
		nfm_jw_f64(w, "min", h.min * scale, prec);
		nfm_jw_f64(w, "max", h.max * scale, prec);
		nfm_jw_f64(w, "mean", h.mean * scale, prec < 3 ? 3 : prec);
		nfm_jw_f64(w, "p50", h.p50 * scale, prec);
		nfm_jw_f64(w, "p90", h.p90 * scale, prec);
		nfm_jw_f64(w, "p99", h.p99 * scale, prec);
	} else {
		nfm_jw_null(w, "min");
		nfm_jw_null(w, "max");
		nfm_jw_null(w, "mean");
		nfm_jw_null(w, "p50");
		nfm_jw_null(w, "p90");
		nfm_jw_null(w, "p99");
	}
	nfm_jw_open(w, "buckets", '[');
	for (size_t i = 0; i < h.n_buckets; i++) {
		nfm_jw_open(w, NULL, '{');
		nfm_jw_f64(w, "lo", h.bucket[i].lo * scale, prec);
		nfm_jw_f64(w, "hi", h.bucket[i].hi * scale, prec);
		nfm_jw_u64(w, "count", h.bucket[i].count);
		nfm_jw_close(w, '}');
	}
	nfm_jw_close(w, ']');
	nfm_jw_close(w, '}');
}

static void json_inputs(struct nfm_jw *w, const struct nfm_report *rep)
{
	nfm_jw_open(w, "inputs", '[');
	for (size_t i = 0; i < nfm_rep_n_inputs(rep); i++) {
		struct nfm_rep_input in;
		nfm_rep_input(rep, i, &in);
		nfm_jw_open(w, NULL, '{');
		nfm_jw_str(w, "name", in.name);
		nfm_jw_str(w, "format", in.format);
		nfm_jw_str(w, "status", *in.status ? in.status : "ok");
		nfm_jw_bool(w, "clean", *in.status == '\0');
		nfm_jw_u64(w, "packets", in.c->packets);
		nfm_jw_u64(w, "wire_bytes", in.c->wire_bytes);
		json_span(w, in.c);
		json_accounting(w, "accounting", in.c);
		json_anomalies(w, in.s);
		nfm_jw_close(w, '}');
	}
	nfm_jw_close(w, ']');
	nfm_jw_u64(w, "inputs_not_listed", nfm_rep_inputs_dropped(rep));
}

static void json_flows(struct nfm_jw *w, const struct nfm_report *rep)
{
	const struct nfm_counters *c = nfm_rep_total(rep);
	char nb[64];
	nfm_jw_open(w, "flows", '{');
	nfm_jw_u64(w, "created", c->flows_created);
	nfm_jw_u64(w, "written", c->flows_written);
	nfm_jw_u64(w, "analysed", nfm_rep_flows(rep));
	nfm_jw_u64(w, "peak_active", c->peak_active_flows);
	nfm_jw_open(w, "by_end_reason", '{');
	for (unsigned r = 0; r < NFM_END_REASON_COUNT; r++)
		nfm_jw_u64(w, nfm_rep_reason_name(r, nb, sizeof nb), c->flows_by_reason[r]);
	nfm_jw_close(w, '}');
	nfm_jw_open(w, "by_protocol", '[');
	struct nfm_rep_proto pr[NFM_REPORT_PROTOS];
	size_t np = nfm_rep_protocols(rep, pr);
	for (size_t i = 0; i < np; i++) {
		nfm_jw_open(w, NULL, '{');
		nfm_jw_str(w, "protocol", pr[i].name);
		if (pr[i].is_arp)
			nfm_jw_null(w, "ip_proto");
		else
			nfm_jw_u64(w, "ip_proto", pr[i].ip_proto);
		nfm_jw_u64(w, "flows", pr[i].flows);
		nfm_jw_u64(w, "packets", pr[i].packets);
		nfm_jw_u64(w, "bytes", pr[i].bytes);
		nfm_jw_close(w, '}');
	}
	nfm_jw_close(w, ']');
	nfm_jw_open(w, "tcp_states", '{');
	for (unsigned s = 0; s <= NFM_CONN_STATE_COUNT; s++) {
		uint64_t v = nfm_rep_tcp_state(rep, s);
		if ((s == NFM_CONN_NONE || s == NFM_CONN_STATE_COUNT) && !v)
			continue;
		nfm_jw_u64(w, nfm_rep_state_name(s, nb, sizeof nb), v);
	}
	nfm_jw_close(w, '}');
	nfm_jw_close(w, '}');
}

static void json_top(struct nfm_jw *w, const struct nfm_report *rep)
{
	char nb[64];
	struct nfm_rep_talkers tk;
	nfm_rep_top_talkers(rep, &tk);
	nfm_jw_open(w, "top_talkers", '{');
	nfm_jw_str(w, "metric", "bytes_sent");
	nfm_jw_u64(w, "capacity", NFM_REPORT_TALKERS);
	nfm_jw_bool(w, "exact", tk.exact);
	nfm_jw_u64(w, "distinct_tracked", tk.distinct);
	nfm_jw_open(w, "entries", '[');
	for (size_t i = 0; i < tk.n; i++) {
		nfm_jw_open(w, NULL, '{');
		nfm_jw_str(w, "address", tk.top[i].addr);
		nfm_jw_u64(w, "bytes", tk.top[i].bytes);
		nfm_jw_u64(w, "max_error", tk.top[i].max_error);
		nfm_jw_close(w, '}');
	}
	nfm_jw_close(w, ']');
	nfm_jw_close(w, '}');

	nfm_jw_open(w, "top_flows", '[');
	struct nfm_rep_flow tf[NFM_REPORT_TOP];
	size_t nf = nfm_rep_top_flows(rep, tf);
	for (size_t i = 0; i < nf; i++) {
		const struct nfm_rep_flow *f = &tf[i];
		nfm_jw_open(w, NULL, '{');
		nfm_jw_str(w, "src", f->src);
		nfm_jw_u64(w, "src_port", f->src_port);
		nfm_jw_str(w, "dst", f->dst);
		nfm_jw_u64(w, "dst_port", f->dst_port);
		nfm_jw_str(w, "protocol", f->protocol);
		if (f->has_vlan)
			nfm_jw_u64(w, "vlan", f->vlan_id);
		else
			nfm_jw_null(w, "vlan");
		nfm_jw_u64(w, "packets", f->packets);
		nfm_jw_u64(w, "bytes", f->bytes);
		jw_time(w, "first_packet", f->first_ns);
		nfm_jw_f64(w, "duration_s", (double)f->duration_ns / 1e9, 9);
		nfm_jw_str(w, "end_reason", nfm_rep_reason_name(f->end_reason, nb, sizeof nb));
		nfm_jw_close(w, '}');
	}
	nfm_jw_close(w, ']');
}

static void json_processing(struct nfm_jw *w, const struct nfm_report *rep)
{
	double el = nfm_rep_elapsed(rep);
	nfm_jw_open(w, "processing", '{');
	if (el >= 0) {
		nfm_jw_f64(w, "elapsed_s", el, 6);
		if (el > 0) {
			nfm_jw_f64(w, "packets_per_s", (double)nfm_rep_total(rep)->packets / el, 1);
			nfm_jw_f64(w, "flows_per_s", (double)nfm_rep_flows(rep) / el, 1);
		} else {
			nfm_jw_null(w, "packets_per_s");
			nfm_jw_null(w, "flows_per_s");
		}
	} else {
		nfm_jw_null(w, "elapsed_s");
		nfm_jw_null(w, "packets_per_s");
		nfm_jw_null(w, "flows_per_s");
	}
	nfm_jw_close(w, '}');
}

static void json_memory(struct nfm_jw *w, const struct nfm_report *rep)
{
	const struct nfm_report_memory *m = nfm_rep_memory(rep);
	if (!m) {
		nfm_jw_null(w, "memory");
		return;
	}
	nfm_jw_open(w, "memory", '{');
	nfm_jw_str(w, "profile", m->profile);
	nfm_jw_bool(w, "columns_given", m->columns_given);
	nfm_jw_u64(w, "bytes_per_flow", m->bytes_per_flow);
	if (m->cap) {
		nfm_jw_u64(w, "active_flow_cap", m->cap);
		nfm_jw_u64(w, "run_active_flow_cap", m->run_cap);
	} else {
		nfm_jw_null(w, "active_flow_cap");
		nfm_jw_null(w, "run_active_flow_cap");
	}
	nfm_jw_str(w, "cap_from", !m->cap ? "none" : m->chunk_mib ? "chunk-size" : "max-active-flows");
	if (m->chunk_mib)
		nfm_jw_u64(w, "chunk_size_mib", m->chunk_mib);
	else
		nfm_jw_null(w, "chunk_size_mib");
	nfm_jw_close(w, '}');
}

static void json_outputs(struct nfm_jw *w, const struct nfm_report *rep)
{
	nfm_jw_open(w, "outputs", '[');
	for (size_t i = 0; i < nfm_rep_n_outputs(rep); i++) {
		const struct nfm_rep_output *o = nfm_rep_output(rep, i);
		nfm_jw_open(w, NULL, '{');
		nfm_jw_str(w, "format", o->format);
		nfm_jw_str(w, "destination", o->dest);
		nfm_jw_u64(w, "records", o->records);
		nfm_jw_u64(w, "slices", o->slices);
		nfm_jw_u64(w, "messages", o->messages);
		nfm_jw_u64(w, "bytes", o->bytes);
		nfm_jw_u64(w, "templates", o->templates);
		nfm_jw_u64(w, "records_not_sent", o->dropped);
		nfm_jw_close(w, '}');
	}
	nfm_jw_close(w, ']');
}

int nfm_report_write_json(const struct nfm_report *rep, FILE *fp)
{
	if (!rep || !fp)
		return NFM_ERR_INVALID;
	struct nfm_jw w;
	nfm_jw_init(&w, fp);

	nfm_jw_open(&w, NULL, '{');
	nfm_jw_str(&w, "generator", "nexusflowmeter");
	nfm_jw_u64(&w, "report_version", 1);
	json_inputs(&w, rep);
	nfm_jw_open(&w, "capture", '{');
	json_span(&w, nfm_rep_total(rep));
	nfm_jw_close(&w, '}');
	json_accounting(&w, "packets", nfm_rep_total(rep));
	json_anomalies(&w, nfm_rep_source_total(rep));
	json_flows(&w, rep);
	json_top(&w, rep);
	nfm_jw_open(&w, "distributions", '{');
	json_hist(&w, "duration", rep, NFM_REP_DURATION, "s", 1e-9, 9);
	json_hist(&w, "size", rep, NFM_REP_SIZE, "bytes", 1.0, 0);
	json_hist(&w, "packets", rep, NFM_REP_PACKETS, "packets", 1.0, 0);
	json_hist(&w, "rate", rep, NFM_REP_RATE, "bytes/s", 1.0, 3);
	nfm_jw_u64(&w, "rate_skipped_zero_duration", nfm_rep_rate_skipped(rep));
	nfm_jw_close(&w, '}');
	json_memory(&w, rep);
	json_outputs(&w, rep);
	json_processing(&w, rep);
	nfm_jw_close(&w, '}');
	fputc('\n', fp);
	return ferror(fp) ? NFM_ERR_IO : 0;
}
