/* The field table: every output column, its type, unit, description and accessor.
 * Exporters, the preview, --list-columns and docs/columns.md all follow this table.
 * Accessors are pure: they read the const record and fill a caller-owned value, so the
 * table holds no mutable state. Every double is finite: all divisions are guarded. */
#include "feature/fields.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "flow/module.h"
#include "util/fmt.h"

#define NFM_UNUSED __attribute__((unused)) /* accessors of engine fields get no state */

/* ---- small value setters ---- */

static void v_null(struct nfm_value *v)
{
	v->type = NFM_V_NULL;
	v->s = NULL;
}

static void v_bool(struct nfm_value *v, bool b)
{
	v->type = NFM_V_BOOL;
	v->b = b;
}

static void v_time(struct nfm_value *v, uint64_t ns)
{
	v->type = NFM_V_TIME;
	v->u = ns;
}

/* A string value; an empty (or NULL) string is a NULL value. */
static void v_str(struct nfm_value *v, const char *s)
{
	if (!s || !*s) {
		v_null(v);
		return;
	}
	v->type = NFM_V_STR;
	v->s = s;
}

/* ---- helpers over the record ---- */

static bool is_tcp(const struct nfm_flow_record *r)
{
	return r->l3 != NFM_L3_ARP && r->ip_proto == NFM_IPPROTO_TCP;
}

static uint64_t total_pkts(const struct nfm_flow_record *r)
{
	return r->pkts[0] + r->pkts[1];
}

static uint64_t total_bytes(const struct nfm_flow_record *r)
{
	return r->bytes[0] + r->bytes[1];
}

static uint64_t duration_ns(const struct nfm_flow_record *r)
{
	return r->last_ns > r->first_ns ? r->last_ns - r->first_ns : 0;
}

static double duration_s(const struct nfm_flow_record *r)
{
	return (double)duration_ns(r) / 1e9;
}

static double safe_div(double a, double b)
{
	if (!(b > 0.0))
		return 0.0;
	double q = a / b;
	return isfinite(q) ? q : 0.0;
}

/* ---- text (the writers are in util/fmt.h) ---- */

/* Address text at d (room for 46 bytes); returns the length, 0 for an unknown l3. */
size_t nfm_addr_put(char *d, uint8_t l3, const uint8_t addr[16])
{
	if (l3 == NFM_L3_IPV6)
		return nfm_fmt_ipv6(d, addr);
	if (l3 == NFM_L3_IPV4 || l3 == NFM_L3_ARP)
		return nfm_fmt_ipv4(d, addr);
	return 0;
}

/* ---- public name helpers ---- */

const char *nfm_proto_name(uint8_t l3, uint8_t ip_proto, char *buf, size_t cap)
{
	if (l3 == NFM_L3_ARP)
		return "ARP";
	switch (ip_proto) {
	case NFM_IPPROTO_TCP: return "TCP";
	case NFM_IPPROTO_UDP: return "UDP";
	case NFM_IPPROTO_ICMP: return "ICMP";
	case NFM_IPPROTO_ICMPV6: return "ICMPv6";
	case NFM_IPPROTO_SCTP: return "SCTP";
	default:
		if (!buf || cap == 0)
			return "";
		char tmp[4];
		nfm_fmt_store(buf, cap, tmp, nfm_fmt_u64(tmp, ip_proto));
		return buf;
	}
}

const char *nfm_conn_state_name(unsigned state)
{
	static const char *const names[NFM_CONN_STATE_COUNT] = {
		[NFM_CONN_NONE] = "",
		[NFM_CONN_ATTEMPTED] = "attempted",
		[NFM_CONN_REJECTED] = "rejected",
		[NFM_CONN_HALF_OPEN] = "half_open",
		[NFM_CONN_ESTABLISHED] = "established",
		[NFM_CONN_HALF_CLOSED] = "half_closed",
		[NFM_CONN_CLOSED] = "closed",
		[NFM_CONN_RESET] = "reset",
		[NFM_CONN_MID_STREAM] = "mid_stream",
	};
	return state < NFM_CONN_STATE_COUNT ? names[state] : "";
}

const char *nfm_end_reason_name(unsigned reason)
{
	static const char *const names[NFM_END_REASON_COUNT] = {
		[NFM_END_IDLE] = "idle",
		[NFM_END_ACTIVE] = "active",
		[NFM_END_TCP_CLOSE] = "tcp_close",
		[NFM_END_TCP_RESET] = "tcp_reset",
		[NFM_END_TCP_REUSE] = "tcp_reuse",
		[NFM_END_EVICTED] = "evicted",
		[NFM_END_EOF] = "eof",
		[NFM_END_SLICE] = "slice",
	};
	return reason < NFM_END_REASON_COUNT ? names[reason] : "";
}

const char *nfm_addr_format(uint8_t l3, const uint8_t addr[16], char *buf, size_t cap)
{
	if (!buf || cap == 0)
		return "";
	if (cap >= 48) { /* room for any address: in place */
		buf[nfm_addr_put(buf, l3, addr)] = '\0';
		return buf;
	}
	char tmp[48];
	size_t n = nfm_addr_put(tmp, l3, addr);
	if (n >= cap)
		n = 0; /* too small: "" (as inet_ntop fails) */
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

/* ---- accessors ---- */

size_t nfm_flow_id_put(const struct nfm_flow_record *r, char *d, size_t addr_at[2],
		       size_t addr_len[2])
{
	char pb[8];
	const char *proto = nfm_proto_name(r->l3, r->ip_proto, pb, sizeof pb);
	size_t n = 0;
	for (int side = 0; side < 2; side++) {
		if (side) {
			memcpy(d + n, " <-> ", 5);
			n += 5;
		}
		bool bracket = r->l3 == NFM_L3_IPV6;
		if (bracket)
			d[n++] = '[';
		size_t len = nfm_addr_put(d + n, r->l3, side ? r->dst : r->src);
		if (addr_at) {
			addr_at[side] = n;
			addr_len[side] = len;
		}
		n += len;
		if (r->l3 == NFM_L3_ARP) /* no ports */
			continue;
		if (bracket)
			d[n++] = ']';
		d[n++] = ':';
		n += nfm_fmt_u64(d + n, side ? r->dst_port : r->src_port);
	}
	d[n++] = ' ';
	size_t pl = strlen(proto);
	memcpy(d + n, proto, pl);
	n += pl;
	if (r->has_vlan) {
		memcpy(d + n, " vlan=", 6);
		n += 6;
		n += nfm_fmt_u64(d + n, r->vlan_id);
	}
	return n;
}

static void get_flow_id(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v->buf[nfm_flow_id_put(r, v->buf, NULL, NULL)] = '\0';
	v_str(v, v->buf);
}

static void v_addr(struct nfm_value *v, uint8_t l3, const uint8_t addr[16])
{
	if (l3 != NFM_L3_IPV4 && l3 != NFM_L3_IPV6 && l3 != NFM_L3_ARP) {
		v_null(v);
		return;
	}
	v->type = NFM_V_ADDR;
	v->l3 = l3;
	memcpy(v->addr, addr, 16);
}

static void get_src_ip(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v_addr(v, r->l3, r->src);
}

static void get_dst_ip(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v_addr(v, r->l3, r->dst);
}

static void get_src_port(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	if (r->l3 == NFM_L3_ARP)
		v_null(v);
	else
		nfm_value_u64(v, r->src_port);
}

static void get_dst_port(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	if (r->l3 == NFM_L3_ARP)
		v_null(v);
	else
		nfm_value_u64(v, r->dst_port);
}

static void get_protocol(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v->type = NFM_V_PROTO;
	v->l3 = r->l3;
	v->u = r->ip_proto;
}

bool nfm_record_has_ports(const struct nfm_flow_record *r)
{
	return r->l3 != NFM_L3_ARP && (r->ip_proto == NFM_IPPROTO_TCP || r->ip_proto == NFM_IPPROTO_UDP ||
				       r->ip_proto == NFM_IPPROTO_SCTP);
}

void nfm_get_peer_src_port(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, nfm_record_has_ports(r) ? r->src_port : 0);
}

void nfm_get_peer_dst_port(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, nfm_record_has_ports(r) ? r->dst_port : 0);
}

void nfm_get_peer_protocol(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->l3 == NFM_L3_ARP ? 0 : r->ip_proto);
}

static void get_start_time(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v_time(v, r->first_ns);
}

static void get_end_time(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v_time(v, r->last_ns);
}

static void get_duration(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_f64(v, duration_s(r));
}

static void get_total_packets(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, total_pkts(r));
}

static void get_fwd_packets(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->pkts[NFM_FWD]);
}

static void get_bwd_packets(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->pkts[NFM_BWD]);
}

static void get_is_bidir(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v_bool(v, r->pkts[NFM_BWD] > 0);
}

static void get_fb_ratio(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	if (r->pkts[NFM_BWD] == 0)
		v_null(v);
	else
		nfm_value_f64(v, safe_div((double)r->pkts[NFM_FWD], (double)r->pkts[NFM_BWD]));
}

static void get_total_bytes(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, total_bytes(r));
}

static void get_fwd_bytes(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->bytes[NFM_FWD]);
}

static void get_bwd_bytes(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->bytes[NFM_BWD]);
}

static void get_total_payload(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->payload[0] + r->payload[1]);
}

static void get_fwd_payload(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->payload[NFM_FWD]);
}

static void get_bwd_payload(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->payload[NFM_BWD]);
}

static void get_pps(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_f64(v, safe_div((double)total_pkts(r), duration_s(r)));
}

static void get_bps(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_f64(v, safe_div((double)total_bytes(r), duration_s(r)));
}

static void get_min_size(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, total_pkts(r) ? r->min_len : 0);
}

static void get_max_size(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, total_pkts(r) ? r->max_len : 0);
}

static void get_avg_size(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_f64(v, safe_div((double)total_bytes(r), (double)total_pkts(r)));
}

static void get_avg_iat(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	uint64_t n = total_pkts(r);
	nfm_value_f64(v, n < 2 ? 0.0 : safe_div((double)r->iat_sum_ns, (double)(n - 1)) / 1e6);
}

static void get_min_iat(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_f64(v, total_pkts(r) < 2 ? 0.0 : (double)r->iat_min_ns / 1e6);
}

static void get_max_iat(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_f64(v, total_pkts(r) < 2 ? 0.0 : (double)r->iat_max_ns / 1e6);
}

static void get_tcp_flags(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	if (!is_tcp(r) || r->tcp_flags == 0) {
		v_null(v);
		return;
	}
	v->type = NFM_V_TCPFLAGS;
	v->u = r->tcp_flags;
}

size_t nfm_tcp_flags_put(char *d, unsigned flags)
{
	static const char names[8][4] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	size_t n = 0;
	for (unsigned i = 0; i < 8; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (n)
			d[n++] = '|';
		memcpy(d + n, names[i], 3);
		n += 3;
	}
	return n;
}

static void get_syn(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, is_tcp(r) ? r->syn_count : 0);
}

static void get_fin(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, is_tcp(r) ? r->fin_count : 0);
}

static void get_rst(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, is_tcp(r) ? r->rst_count : 0);
}

static void get_ack(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, is_tcp(r) ? r->ack_count : 0);
}

static void get_conn_state(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	if (!is_tcp(r))
		v_null(v);
	else
		v_str(v, nfm_conn_state_name(r->conn_state));
}

static void get_source_file(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v_str(v, r->source_file);
}

static void get_ip_version(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	nfm_value_u64(v, r->l3 == NFM_L3_IPV4 ? 4 : r->l3 == NFM_L3_IPV6 ? 6 : 0);
}

static void get_vlan_id(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	if (r->has_vlan)
		nfm_value_u64(v, r->vlan_id);
	else
		v_null(v);
}

static void get_end_reason(const struct nfm_flow_record *r, const void *state NFM_UNUSED, struct nfm_value *v)
{
	v_str(v, nfm_end_reason_name(r->end_reason));
}

/* ---- the table ---- */

#define B NFM_SET_BASE
#define M NFM_SET_MERGE
#define X NFM_SET_EXT
#define S NFM_V_STR
#define U NFM_V_U64
#define F NFM_V_F64
#define BO NFM_V_BOOL
#define T NFM_V_TIME
#define A NFM_V_ADDR
#define P NFM_V_PROTO
#define TF NFM_V_TCPFLAGS

static const struct nfm_field fields[] = {
	{ "flow_id", S, 0, B, "", "`SRC:SPORT <-> DST:DPORT PROTO`, e.g. `10.0.0.1:51000 <-> 10.0.0.2:443 TCP`; IPv6 addresses in brackets (`[2001:db8::1]:443 <-> [2001:db8::2]:80 TCP`); ` vlan=ID` appended when the flow is VLAN-tagged; ARP has no ports: `SRC <-> DST ARP`.", get_flow_id },
	{ "src_ip", A, 0, B, "", "Initiator address: IPv4 dotted quad, IPv6 in RFC 5952 form; for ARP the sender protocol (IPv4) address.", get_src_ip },
	{ "dst_ip", A, 0, B, "", "Responder address; for ARP the target protocol (IPv4) address.", get_dst_ip },
	{ "src_port", U, 0, B, "", "Initiator's TCP/UDP/SCTP port. ICMP/ICMPv6 echo: the echo identifier. Other ICMP: the message type. Other IP protocols: 0. Empty for ARP.", get_src_port },
	{ "dst_port", U, 0, B, "", "Responder's TCP/UDP/SCTP port. ICMP/ICMPv6 echo: the echo identifier. Other ICMP: the message code. Other IP protocols: 0. Empty for ARP.", get_dst_port },
	{ "protocol", P, 0, B, "", "`TCP`, `UDP`, `ICMP`, `ICMPv6`, `SCTP`, `ARP`, or the IP protocol number in decimal for any other protocol (e.g. `47` for GRE).", get_protocol },
	{ "start_time", T, 0, B, "UTC", "Capture timestamp of the first packet of the flow.", get_start_time },
	{ "end_time", T, 0, B, "UTC", "Capture timestamp of the last packet of the flow.", get_end_time },
	{ "duration_seconds", F, 6, B, "s", "`end_time - start_time`; 0 for a one-packet flow.", get_duration },
	{ "total_packets", U, 0, B, "packets", "`forward_packets + backward_packets`.", get_total_packets },
	{ "forward_packets", U, 0, B, "packets", "Packets sent by the initiator.", get_fwd_packets },
	{ "backward_packets", U, 0, B, "packets", "Packets sent by the responder.", get_bwd_packets },
	{ "is_bidirectional", BO, 0, B, "", "True when `backward_packets > 0`.", get_is_bidir },
	{ "forward_backward_ratio", F, 4, B, "", "`forward_packets / backward_packets`; empty when `backward_packets` is 0.", get_fb_ratio },
	{ "total_bytes", U, 0, B, "bytes", "`forward_bytes + backward_bytes` (on-wire frame lengths).", get_total_bytes },
	{ "forward_bytes", U, 0, B, "bytes", "On-wire bytes of the frames sent by the initiator.", get_fwd_bytes },
	{ "backward_bytes", U, 0, B, "bytes", "On-wire bytes of the frames sent by the responder.", get_bwd_bytes },
	{ "total_payload_bytes", U, 0, B, "bytes", "`forward_payload_bytes + backward_payload_bytes`.", get_total_payload },
	{ "forward_payload_bytes", U, 0, B, "bytes", "Transport payload sent by the initiator: IP length minus IP headers minus the transport header (see flows.md); 0 for ARP.", get_fwd_payload },
	{ "backward_payload_bytes", U, 0, B, "bytes", "Transport payload sent by the responder; 0 for ARP.", get_bwd_payload },
	{ "packets_per_second", F, 3, B, "packets/s", "`total_packets / duration_seconds`; 0 when the duration is 0.", get_pps },
	{ "bytes_per_second", F, 3, B, "bytes/s", "`total_bytes / duration_seconds`; 0 when the duration is 0.", get_bps },
	{ "min_packet_size", U, 0, B, "bytes", "Smallest on-wire frame length in the flow (either direction).", get_min_size },
	{ "max_packet_size", U, 0, B, "bytes", "Largest on-wire frame length in the flow (either direction).", get_max_size },
	{ "avg_packet_size", F, 3, B, "bytes", "`total_bytes / total_packets`.", get_avg_size },
	{ "avg_inter_arrival_ms", F, 3, B, "ms", "Mean gap between consecutive packets of the flow (both directions together): sum of gaps / (`total_packets` - 1); 0 for a one-packet flow.", get_avg_iat },
	{ "min_inter_arrival_ms", F, 3, B, "ms", "Smallest gap between consecutive packets; 0 for a one-packet flow.", get_min_iat },
	{ "max_inter_arrival_ms", F, 3, B, "ms", "Largest gap between consecutive packets; 0 for a one-packet flow.", get_max_iat },
	{ "tcp_flags", TF, 0, B, "", "The TCP flags seen in any packet of the flow, joined with `|` in the order `FIN|SYN|RST|PSH|ACK|URG|ECE|CWR` (e.g. `FIN|SYN|ACK`); empty when no flag was seen and for every protocol other than TCP.", get_tcp_flags },
	{ "syn_count", U, 0, B, "packets", "TCP packets with SYN set (both directions); 0 for other protocols.", get_syn },
	{ "fin_count", U, 0, B, "packets", "TCP packets with FIN set; 0 for other protocols.", get_fin },
	{ "rst_count", U, 0, B, "packets", "TCP packets with RST set; 0 for other protocols.", get_rst },
	{ "ack_count", U, 0, B, "packets", "TCP packets with ACK set; 0 for other protocols.", get_ack },
	{ "connection_state", S, 0, B, "", "TCP connection state over the whole flow: `attempted`, `rejected`, `half_open`, `established`, `half_closed`, `closed`, `reset` or `mid_stream` (rules in flows.md); empty for other protocols.", get_conn_state },
	{ "source_file", S, 0, M, "", "Name of the input capture the flow came from.", get_source_file },
	{ "ip_version", U, 0, X, "", "4 or 6; 0 for ARP.", get_ip_version },
	{ "vlan_id", U, 0, X, "", "Outermost 802.1Q/802.1ad VLAN id; empty when the flow is not tagged.", get_vlan_id },
	{ "end_reason", S, 0, X, "", "Why the flow was written: `idle`, `active`, `tcp_close`, `tcp_reset`, `tcp_reuse`, `evicted` or `eof` (end of input); see flows.md.", get_end_reason },
};

#undef B
#undef M
#undef X
#undef S
#undef U
#undef F
#undef BO
#undef T
#undef A
#undef P
#undef TF

const struct nfm_field *nfm_fields(size_t *count)
{
	if (count)
		*count = sizeof fields / sizeof fields[0];
	return fields;
}

const struct nfm_field *nfm_field_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

int nfm_columns_add(struct nfm_columns *cols, const struct nfm_field *f, size_t off)
{
	return nfm_columns_add_named(cols, f, off, NULL);
}

int nfm_columns_add_named(struct nfm_columns *cols, const struct nfm_field *f, size_t off,
			  const char *name)
{
	if (cols->n == cols->cap) {
		size_t cap = cols->cap ? cols->cap * 2 : 64;
		const struct nfm_field **nf = realloc(cols->f, cap * sizeof *nf);
		if (!nf)
			return NFM_ERR_NOMEM;
		cols->f = nf;
		size_t *no = realloc(cols->off, cap * sizeof *no);
		if (!no)
			return NFM_ERR_NOMEM;
		cols->off = no;
		const char **nn = realloc(cols->name, cap * sizeof *nn);
		if (!nn)
			return NFM_ERR_NOMEM;
		cols->name = nn;
		cols->cap = cap;
	}
	cols->f[cols->n] = f;
	cols->name[cols->n] = name;
	cols->off[cols->n++] = off;
	return 0;
}

void nfm_columns_free(struct nfm_columns *cols)
{
	free(cols->f);
	free(cols->off);
	free(cols->name);
	memset(cols, 0, sizeof *cols);
}

int nfm_columns_select(struct nfm_columns *cols, unsigned mask, const struct nfm_layout *layout)
{
	cols->n = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if ((fields[i].set & mask) && nfm_columns_add(cols, &fields[i], SIZE_MAX))
			return NFM_ERR_NOMEM;
	for (size_t m = 0; layout && m < layout->n; m++) {
		const struct nfm_module *mod = layout->mod[m];
		for (size_t i = 0; i < mod->nfields; i++)
			if ((mod->fields[i].set & mask) &&
			    nfm_columns_add(cols, &mod->fields[i], layout->off[m]))
				return NFM_ERR_NOMEM;
	}
	return 0;
}

const struct nfm_field *nfm_field_lookup(const char *name, size_t n, const struct nfm_layout *layout,
					 size_t *off)
{
	*off = SIZE_MAX;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strlen(fields[i].name) == n && strncmp(fields[i].name, name, n) == 0)
			return &fields[i];
	for (size_t m = 0; layout && m < layout->n; m++) {
		const struct nfm_module *mod = layout->mod[m];
		for (size_t i = 0; i < mod->nfields; i++)
			if (strlen(mod->fields[i].name) == n &&
			    strncmp(mod->fields[i].name, name, n) == 0) {
				*off = layout->off[m];
				return &mod->fields[i];
			}
	}
	return NULL;
}

int nfm_columns_parse(struct nfm_columns *cols, const char *list, const struct nfm_layout *layout,
		      struct nfm_error *err)
{
	cols->n = 0;
	for (const char *p = list;;) {
		size_t n = strcspn(p, ",");
		size_t off;
		const struct nfm_field *f = nfm_field_lookup(p, n, layout, &off);
		if (!f) {
			nfm_columns_free(cols);
			return nfm_error_set(err, NFM_ERR_INVALID, "unknown column '%.*s'", (int)n, p);
		}
		if (nfm_columns_add(cols, f, off)) {
			nfm_columns_free(cols);
			return nfm_error_set(err, NFM_ERR_NOMEM, "out of memory");
		}
		if (!p[n])
			break;
		p += n + 1;
	}
	return 0;
}
