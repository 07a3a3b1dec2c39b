/* libFuzzer target for the whole pipeline: the input is a capture held in memory (pcap,
 * pcapng, gzip or zstd compressed). Every packet is read, copied into an exactly sized
 * heap buffer (so AddressSanitizer sees a read one byte past the captured bytes), metered,
 * and every flow record the meter writes is formatted as one CSV row in memory through the
 * field table, as the exporters do. No files are touched.
 *
 * The meter configuration is chosen from a hash of the input (so corpus files stay plain
 * captures): default settings most of the time, sometimes a tiny flow cap (eviction),
 * --max-flows, a protocol filter, short timeouts or tunnels off.
 *
 * Invariants checked (abort() on violation):
 *  - packet accounting (src/flow/meter.h): packets == frames fed == records read, and
 *    packets == flow_packets + nonip + truncated + malformed + unsupported + filtered +
 *    over_max_flows + fragments_unmatched; decode_status[NONIP] == sum of nonip[];
 *  - flows: one sink call per flow written; after finish no flow is active, every flow
 *    created was written, flows by end reason sum to flows written, the packets of all
 *    records sum to flow_packets; the flow cap and --max-flows are respected;
 *  - records: at least one packet, first_ns <= last_ns, min_len <= max_len, valid enums;
 *  - formatting: each value has its declared type or is NULL; every double is finite text
 *    (no "inf"/"nan"); integers are decimal digits; times are ISO 8601 with a Z; the CSV
 *    row parses back into exactly one cell per column.
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/source.h"
#include "feature/fields.h"
#include "feature/modules.h"
#include "flow/meter.h"
#include "flow/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A source_file value with everything a CSV or spreadsheet could trip over. */
static const char hostile_name[] = "=cmd|' /C calc'!A0,\"q\"\nx.pcap";

struct ctx {
	struct nfm_columns cols;
	uint64_t flows;       /* sink calls */
	uint64_t rec_packets; /* sum of the records' packets */
	uint64_t max_active;  /* configured cap (0: none) */
	const struct nfm_meter *meter;
	char *row;            /* CSV row buffer */
	size_t row_cap;
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static int row_put(struct ctx *c, size_t *len, char ch)
{
	if (*len + 1 >= c->row_cap) {
		size_t ncap = c->row_cap ? c->row_cap * 2 : 1024;
		char *n = realloc(c->row, ncap);
		if (!n)
			return -1;
		c->row = n;
		c->row_cap = ncap;
	}
	c->row[(*len)++] = ch;
	return 0;
}

/* RFC 4180 cell: quoted when it holds a comma, quote, CR or LF. */
static int row_cell(struct ctx *c, size_t *len, const char *s, size_t n)
{
	int quote = strcspn(s, ",\"\r\n") < n;
	if (quote && row_put(c, len, '"'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' && row_put(c, len, '"'))
			return -1;
		if (row_put(c, len, s[i]))
			return -1;
	}
	if (quote && row_put(c, len, '"'))
		return -1;
	return 0;
}

/* Counts the cells of one CSV row (the whole buffer is one row, LF allowed in quotes). */
static size_t csv_cells(const char *s, size_t n)
{
	size_t cells = 1;
	int inq = 0;
	for (size_t i = 0; i < n; i++) {
		if (inq) {
			if (s[i] == '"') {
				if (i + 1 < n && s[i + 1] == '"')
					i++;
				else
					inq = 0;
			}
		} else if (s[i] == '"') {
			inq = 1;
		} else if (s[i] == ',') {
			cells++;
		} else if (s[i] == '\n' || s[i] == '\r') {
			abort(); /* an unquoted line break would split the row */
		}
	}
	check(!inq);
	return cells;
}

static int has_ci(const char *s, const char *needle)
{
	size_t nl = strlen(needle);
	for (; *s; s++) {
		size_t i = 0;
		while (i < nl && s[i] && (s[i] | 0x20) == needle[i])
			i++;
		if (i == nl)
			return 1;
	}
	return 0;
}

static void check_cell(const struct nfm_field *f, const struct nfm_value *v, const char *txt,
		       size_t len)
{
	check(strlen(txt) == len);
	check(v->type == NFM_V_NULL || v->type == f->type);
	switch (v->type) {
	case NFM_V_NULL:
		check(len == 0);
		break;
	case NFM_V_F64: {
		check(len > 0 && !has_ci(txt, "inf") && !has_ci(txt, "nan"));
		char *end;
		double d = strtod(txt, &end);
		check(*end == '\0' && isfinite(d));
		check(txt[0] != '-' || strspn(txt + 1, "0.") != len - 1); /* no "-0.000" */
		break;
	}
	case NFM_V_U64:
		check(len > 0 && strspn(txt, "0123456789") == len);
		break;
	case NFM_V_BOOL:
		check(strcmp(txt, "True") == 0 || strcmp(txt, "False") == 0);
		break;
	case NFM_V_TIME:
		/* 2024-01-31T23:59:59.123456Z, or empty when the year does not fit */
		check(len == 0 || (len >= 27 && txt[len - 1] == 'Z' && strchr(txt, 'T')));
		break;
	case NFM_V_STR:
		check(v->s != NULL);
		break;
	case NFM_V_ADDR: /* an address is never empty and never needs quoting */
		check(len >= 2 && strspn(txt, "0123456789abcdef.:") == len);
		break;
	case NFM_V_PROTO:
	case NFM_V_TCPFLAGS:
		check(len > 0 && strspn(txt, "ABCDEFGHIJKLMNOPQRSTUVWXYZv0123456789|") == len);
		break;
	default:
		abort();
	}
}

static int sink(void *vctx, const struct nfm_flow_record *rec)
{
	struct ctx *c = vctx;
	c->flows++;
	uint64_t pk = rec->pkts[0] + rec->pkts[1];
	check(pk >= 1);
	c->rec_packets += pk;
	check(rec->first_ns <= rec->last_ns);
	check(rec->min_len <= rec->max_len);
	check(rec->end_reason < NFM_END_REASON_COUNT);
	check(rec->conn_state < NFM_CONN_STATE_COUNT);
	check(rec->bytes[0] + rec->bytes[1] >= (uint64_t)rec->min_len * pk);
	check(rec->bytes[0] + rec->bytes[1] <= (uint64_t)rec->max_len * pk);
	check(rec->iat_min_ns <= rec->iat_max_ns || pk == 1);
	if (c->max_active)
		check(nfm_meter_active_flows(c->meter) <= c->max_active);

	struct nfm_flow_record r = *rec;
	r.source_file = hostile_name;
	size_t len = 0;
	for (size_t i = 0; i < c->cols.n; i++) {
		const struct nfm_field *f = c->cols.f[i];
		struct nfm_value v;
		memset(&v, 0, sizeof v);
		nfm_column_get(&c->cols, i, &r, &v);
		char txt[512];
		size_t n = nfm_value_format(&v, f->precision, txt, sizeof txt);
		check(n < sizeof txt);
		check_cell(f, &v, txt, n);
		if ((i && row_put(c, &len, ',')) || row_cell(c, &len, txt, n))
			return 1;
	}
	check(csv_cells(c->row, len) == c->cols.n);
	return 0;
}

static uint32_t fnv(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

static void configure(struct nfm_meter_config *mc, uint32_t h)
{
	nfm_meter_config_default(mc);
	switch (h & 7) {
	case 0: mc->max_active_flows = 1 + (h >> 3 & 7); break;       /* eviction */
	case 1: mc->max_flows = 1 + (h >> 3 & 3); break;              /* --max-flows */
	case 2: mc->protocols = 1u + (h >> 3 & 0x1f); break;          /* --protocols */
	case 3: mc->idle_timeout_ns = 1000000u; mc->active_timeout_ns = 3000000u;
		mc->tcp_linger_ns = 500000u; break;                   /* short timeouts */
	case 4: mc->decode.tunnels = false; break;                    /* --no-tunnels */
	case 5: mc->idle_timeout_ns = 0; mc->active_timeout_ns = 0; break;
	default: break;                                               /* defaults */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfm_source *src;
	struct nfm_error err;
	nfm_error_clear(&err);
	if (nfm_source_open_mem(&src, data, size, "fuzz", &err) != 0) {
		check(err.msg[0] != '\0');
		return 0;
	}
	struct ctx c;
	memset(&c, 0, sizeof c);
	/* Every column, the tunnel module's included, so module hooks run too. */
	struct nfm_layout layout;
	const struct nfm_module *mod = &nfm_mod_tunnel;
	check(nfm_layout_build(&layout, &mod, 1, &err) == 0);
	check(nfm_columns_select(&c.cols, NFM_SET_BASE | NFM_SET_MERGE | NFM_SET_EXT, &layout) == 0);
	size_t nfields;
	nfm_fields(&nfields);
	check(c.cols.n == nfields + mod->nfields);

	struct nfm_meter_config mc;
	configure(&mc, fnv(data, size));
	mc.layout = &layout;
	c.max_active = mc.max_active_flows;
	struct nfm_meter *m = nfm_meter_new(&mc, sink, &c);
	if (!m) {
		nfm_columns_free(&c.cols);
		nfm_source_close(src);
		return 0;
	}
	c.meter = m;

	struct nfm_raw_packet pkt;
	uint64_t fed = 0;
	int rc, stopped = 0;
	while ((rc = nfm_source_next(src, &pkt, &err)) > 0) {
		check(pkt.cap_len <= pkt.wire_len);
		uint8_t *copy = malloc(pkt.cap_len ? pkt.cap_len : 1);
		if (!copy)
			break;
		if (pkt.cap_len)
			memcpy(copy, pkt.data, pkt.cap_len);
		fed++;
		int mr = nfm_meter_frame(m, copy, pkt.cap_len, pkt.wire_len, pkt.ts_ns, pkt.linktype);
		free(copy);
		if (mr) {
			stopped = 1;
			break;
		}
		if (nfm_meter_done(m))
			break;
	}
	if (rc < 0)
		check(err.msg[0] != '\0');
	if (!stopped && nfm_meter_finish(m) != 0)
		stopped = 1;

	const struct nfm_counters *k = nfm_meter_counters(m);
	check(k->packets == fed);
	check(nfm_source_stats(src)->records >= fed);
	uint64_t nonip = 0;
	for (int i = 0; i < NFM_NONIP_KIND_COUNT; i++)
		nonip += k->nonip[i];
	check(nonip == k->decode_status[NFM_DECODE_NONIP]);
	uint64_t sum = k->flow_packets + nonip + k->decode_status[NFM_DECODE_TRUNCATED] +
		       k->decode_status[NFM_DECODE_MALFORMED] +
		       k->decode_status[NFM_DECODE_UNSUPPORTED] + k->filtered +
		       k->over_max_flows + k->fragments_unmatched;
	check(sum == k->packets);
	check(k->decode_status[NFM_DECODE_OK] ==
	      k->flow_packets + k->filtered + k->over_max_flows + k->fragments_unmatched);
	check(k->ts_backwards <= k->packets);
	check(k->first_ts_ns <= k->last_ts_ns);
	uint64_t by_reason = 0;
	for (int i = 0; i < NFM_END_REASON_COUNT; i++)
		by_reason += k->flows_by_reason[i];
	check(by_reason == k->flows_written);
	if (!stopped) {
		check(c.flows == k->flows_written);
		check(nfm_meter_active_flows(m) == 0);
		check(k->flows_written == k->flows_created);
		check(c.rec_packets == k->flow_packets);
	}
	if (mc.max_active_flows)
		check(k->peak_active_flows <= mc.max_active_flows);
	if (mc.max_flows)
		check(k->flows_created <= mc.max_flows);

	nfm_meter_free(m);
	nfm_columns_free(&c.cols);
	nfm_source_close(src);
	free(c.row);
	return 0;
}
