/* The CSV row of the default columns (the 34 base columns, in table order, under their
 * own names) in one pass: what most runs write, and on captures of many short flows the
 * bulk of the work. Each cell is what the field's accessor and the generic encoder
 * (csv.c) make of it, computed straight from the record: no per-cell dispatch, each
 * address formatted once for flow_id and its own column, one date for both times when
 * they share their second. tests/unit/test_export.c compares the two encoders on random
 * records; a change of the field table that this file does not know turns it off
 * (nfm_csv_base_matches), never makes it write other bytes. */
#include "export/csv_base.h"

#include <string.h>

#include "decode/decode.h"
#include "util/fmt.h"

/* The default columns as this writer knows them: name and decimals. */
static const struct {
	const char *name;
	int precision;
} base[] = {
	{ "flow_id", 0 }, { "src_ip", 0 }, { "dst_ip", 0 }, { "src_port", 0 },
	{ "dst_port", 0 }, { "protocol", 0 }, { "start_time", 0 }, { "end_time", 0 },
	{ "duration_seconds", 6 }, { "total_packets", 0 }, { "forward_packets", 0 },
	{ "backward_packets", 0 }, { "is_bidirectional", 0 }, { "forward_backward_ratio", 4 },
	{ "total_bytes", 0 }, { "forward_bytes", 0 }, { "backward_bytes", 0 },
	{ "total_payload_bytes", 0 }, { "forward_payload_bytes", 0 },
	{ "backward_payload_bytes", 0 }, { "packets_per_second", 3 }, { "bytes_per_second", 3 },
	{ "min_packet_size", 0 }, { "max_packet_size", 0 }, { "avg_packet_size", 3 },
	{ "avg_inter_arrival_ms", 3 }, { "min_inter_arrival_ms", 3 },
	{ "max_inter_arrival_ms", 3 }, { "tcp_flags", 0 }, { "syn_count", 0 },
	{ "fin_count", 0 }, { "rst_count", 0 }, { "ack_count", 0 }, { "connection_state", 0 },
};
#define BASE_N (sizeof base / sizeof base[0])

bool nfm_csv_base_matches(const struct nfm_columns *cols)
{
	size_t n;
	const struct nfm_field *table = nfm_fields(&n);
	if (cols->n != BASE_N)
		return false;
	for (size_t i = 0; i < BASE_N; i++) {
		const struct nfm_field *f = cols->f[i];
		if (cols->off[i] != SIZE_MAX || cols->name[i] || i >= n || f != &table[i] ||
		    !(f->set & NFM_SET_BASE) || strcmp(f->name, base[i].name) != 0 ||
		    f->precision != base[i].precision)
			return false;
	}
	return true;
}

/* The same arithmetic as the accessors of feature/fields.c. */
static double safe_div(double a, double b)
{
	if (!(b > 0.0))
		return 0.0;
	double q = a / b;
	return isfinite(q) ? q : 0.0;
}

static size_t put_u64_cell(char *d, uint64_t u)
{
	d[0] = ',';
	return 1 + nfm_fmt_u64(d + 1, u);
}

static size_t put_f64_cell(char *d, double f, int precision)
{
	d[0] = ',';
	return 1 + nfm_f64_put(d + 1, f, precision);
}

size_t nfm_csv_base_row(const struct nfm_flow_record *r, char *d)
{
	bool arp = r->l3 == NFM_L3_ARP;
	bool has_addr = arp || r->l3 == NFM_L3_IPV6 || r->l3 == NFM_L3_IPV4;
	bool tcp = !arp && r->ip_proto == NFM_IPPROTO_TCP;
	char pb[8];
	const char *proto = nfm_proto_name(r->l3, r->ip_proto, pb, sizeof pb);
	size_t proto_len = strlen(proto);

	/* flow_id (never quoted: addresses, ports and names), remembering where each
	 * address's text is */
	size_t at[2], len[2];
	size_t n = nfm_flow_id_put(r, d, at, len);

	/* src_ip, dst_ip (empty for a record without addresses), ports (empty for ARP),
	 * protocol */
	for (int side = 0; side < 2; side++) {
		d[n++] = ',';
		if (has_addr) {
			memmove(d + n, d + at[side], len[side]);
			n += len[side];
		}
	}
	if (arp) {
		d[n++] = ',';
		d[n++] = ',';
	} else {
		n += put_u64_cell(d + n, r->src_port);
		n += put_u64_cell(d + n, r->dst_port);
	}
	d[n++] = ',';
	memcpy(d + n, proto, proto_len);
	n += proto_len;

	/* start_time, end_time: the end shares the date and time of day when it falls in
	 * the same second */
	d[n++] = ',';
	size_t start = n;
	n += nfm_fmt_time(d + n, r->first_ns);
	d[n++] = ',';
	if (r->first_ns / 1000000000u == r->last_ns / 1000000000u) {
		memcpy(d + n, d + start, NFM_FMT_TIME_LEN);
		unsigned usec = (unsigned)(r->last_ns % 1000000000u / 1000u);
		nfm_fmt_2(d + n + 20, usec / 10000);
		nfm_fmt_2(d + n + 22, usec / 100 % 100);
		nfm_fmt_2(d + n + 24, usec % 100);
		n += NFM_FMT_TIME_LEN;
	} else {
		n += nfm_fmt_time(d + n, r->last_ns);
	}

	uint64_t pkts = r->pkts[0] + r->pkts[1], bytes = r->bytes[0] + r->bytes[1];
	uint64_t dur_ns = r->last_ns > r->first_ns ? r->last_ns - r->first_ns : 0;
	double dur = (double)dur_ns / 1e9;
	n += put_f64_cell(d + n, dur, 6);
	n += put_u64_cell(d + n, pkts);
	n += put_u64_cell(d + n, r->pkts[NFM_FWD]);
	n += put_u64_cell(d + n, r->pkts[NFM_BWD]);
	if (r->pkts[NFM_BWD] > 0) {
		memcpy(d + n, ",True,", 6);
		n += 6;
		n += nfm_f64_put(d + n, safe_div((double)r->pkts[NFM_FWD], (double)r->pkts[NFM_BWD]), 4);
	} else {
		memcpy(d + n, ",False,", 7);
		n += 7;
	}
	n += put_u64_cell(d + n, bytes);
	n += put_u64_cell(d + n, r->bytes[NFM_FWD]);
	n += put_u64_cell(d + n, r->bytes[NFM_BWD]);
	n += put_u64_cell(d + n, r->payload[0] + r->payload[1]);
	n += put_u64_cell(d + n, r->payload[NFM_FWD]);
	n += put_u64_cell(d + n, r->payload[NFM_BWD]);
	n += put_f64_cell(d + n, safe_div((double)pkts, dur), 3);
	n += put_f64_cell(d + n, safe_div((double)bytes, dur), 3);
	n += put_u64_cell(d + n, pkts ? r->min_len : 0);
	n += put_u64_cell(d + n, pkts ? r->max_len : 0);
	n += put_f64_cell(d + n, safe_div((double)bytes, (double)pkts), 3);
	n += put_f64_cell(d + n, pkts < 2 ? 0.0 : safe_div((double)r->iat_sum_ns, (double)(pkts - 1)) / 1e6, 3);
	n += put_f64_cell(d + n, pkts < 2 ? 0.0 : (double)r->iat_min_ns / 1e6, 3);
	n += put_f64_cell(d + n, pkts < 2 ? 0.0 : (double)r->iat_max_ns / 1e6, 3);

	/* TCP: flags (empty when none), the four flag counts (0 for other protocols), the
	 * connection state (empty for other protocols and for none) */
	d[n++] = ',';
	if (tcp && r->tcp_flags)
		n += nfm_tcp_flags_put(d + n, r->tcp_flags);
	n += put_u64_cell(d + n, tcp ? r->syn_count : 0);
	n += put_u64_cell(d + n, tcp ? r->fin_count : 0);
	n += put_u64_cell(d + n, tcp ? r->rst_count : 0);
	n += put_u64_cell(d + n, tcp ? r->ack_count : 0);
	d[n++] = ',';
	if (tcp) {
		const char *state = nfm_conn_state_name(r->conn_state);
		size_t sl = strlen(state);
		memcpy(d + n, state, sl);
		n += sl;
	}
	d[n++] = '\n';
	return n;
}
