/* Field table and exporters: column names and order, value formatting, CSV quoting and
 * formula safety, JSON/JSONL validity and escaping, XLSX, empty outputs, atomic files,
 * the preview table, format names, and the column reference in docs/columns.md. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <sys/socket.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/decode.h"
#include "export/csv_base.h"
#include "export/exporter.h"
#include "feature/columns_doc.h"
#include "feature/modules.h"
#include "feature/fields.h"
#include "nfm_test.h"
#include "pycheck.h"

#define NS(s) ((uint64_t)(s) * 1000000000ULL)

static const char *const base34[] = {
	"flow_id", "src_ip", "dst_ip", "src_port", "dst_port", "protocol", "start_time",
	"end_time", "duration_seconds", "total_packets", "forward_packets", "backward_packets",
	"is_bidirectional", "forward_backward_ratio", "total_bytes", "forward_bytes",
	"backward_bytes", "total_payload_bytes", "forward_payload_bytes",
	"backward_payload_bytes", "packets_per_second", "bytes_per_second", "min_packet_size",
	"max_packet_size", "avg_packet_size", "avg_inter_arrival_ms", "min_inter_arrival_ms",
	"max_inter_arrival_ms", "tcp_flags", "syn_count", "fin_count", "rst_count", "ack_count",
	"connection_state",
};

/* ---- helpers ---- */

static struct nfm_flow_record v4rec(uint8_t proto, uint32_t src, uint16_t sp, uint32_t dst,
				    uint16_t dp)
{
	struct nfm_flow_record r;
	memset(&r, 0, sizeof r);
	r.l3 = NFM_L3_IPV4;
	r.ip_proto = proto;
	for (int i = 0; i < 4; i++) {
		r.src[i] = (uint8_t)(src >> (24 - 8 * i));
		r.dst[i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	r.src_port = sp;
	r.dst_port = dp;
	r.first_ns = 1706745599123456789ULL; /* 2024-01-31T23:59:59.123456789Z */
	r.last_ns = r.first_ns + 1500000000ULL;
	r.pkts[0] = 3;
	r.pkts[1] = 2;
	r.bytes[0] = 300;
	r.bytes[1] = 200;
	r.payload[0] = 120;
	r.payload[1] = 80;
	r.min_len = 60;
	r.max_len = 140;
	r.iat_sum_ns = 1500000000ULL;
	r.iat_min_ns = 250000000ULL;
	r.iat_max_ns = 500000000ULL;
	r.end_reason = NFM_END_IDLE;
	r.seq = 1;
	return r;
}

/* The layout of the modules whose columns the tests read (the tunnel columns). */
static const struct nfm_layout *test_layout(void)
{
	static struct nfm_layout lay; /* test-only: built once, read-only afterwards */
	if (!lay.n) {
		const struct nfm_module *m = &nfm_mod_tunnel;
		nfm_layout_build(&lay, &m, 1, NULL);
	}
	return &lay;
}

/* The value of column `name` of r (engine or module column). */
static struct nfm_value fval(const struct nfm_flow_record *r, const char *name, int *prec)
{
	struct nfm_value v;
	memset(&v, 0, sizeof v);
	struct nfm_columns c = { 0 };
	struct nfm_error err;
	if (nfm_columns_parse(&c, name, test_layout(), &err) == 0) {
		nfm_column_get(&c, 0, r, &v);
		*prec = c.f[0]->precision;
	}
	nfm_columns_free(&c);
	return v;
}

/* Formats column `name` of r (NULL -> ""). */
static const char *fv(const struct nfm_flow_record *r, const char *name, char *buf, size_t cap)
{
	int prec = 0;
	struct nfm_value v = fval(r, name, &prec);
	nfm_value_format(&v, prec, buf, cap);
	return buf;
}

static enum nfm_value_type ftype(const struct nfm_flow_record *r, const char *name)
{
	int prec;
	return fval(r, name, &prec).type;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(fp);
	if (buf)
		buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void make_tmpdir(char *out, size_t cap)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, cap, "%s/nfm_export_XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(out))
		out[0] = '\0';
}

/* Number of directory entries other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[1024];
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static bool exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* Writes recs with fmt to dir/name; returns the file contents (caller frees). */
static char *export_to(const char *dir, const char *name, const char *fmt,
		       const struct nfm_columns *cols, const struct nfm_flow_record *recs, size_t n,
		       size_t *len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct nfm_exporter *ex;
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	if (!set || nfm_exporter_open(&ex, nfm_exporter_find(fmt), &(struct nfm_export_dest){ .path = path, .set = set }, cols, &err) != 0) {
		fprintf(stderr, "open %s: %s\n", path, err.msg);
		nfm_outset_free(set);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (nfm_exporter_write(ex, &recs[i], &err) != 0) {
			fprintf(stderr, "write %s: %s\n", path, err.msg);
			nfm_exporter_abort(ex);
			nfm_outset_free(set);
			return NULL;
		}
	}
	bool ok = nfm_exporter_rows(ex) == n;
	ok = ok && !exists(path); /* nothing under the final name before the commit */
	if (!ok) {
		nfm_exporter_abort(ex);
		nfm_outset_free(set);
		return NULL;
	}
	if (nfm_exporter_close(ex, &err) != 0 || exists(path) || nfm_outset_commit(set, &err) != 0) {
		fprintf(stderr, "close %s: %s\n", path, err.msg);
		nfm_outset_free(set);
		return NULL;
	}
	nfm_outset_free(set);
	return read_all(path, len);
}

/* ---- a minimal JSON syntax checker (RFC 8259) ---- */

static const char *js_value(const char *p, int depth);

static const char *js_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *js_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (;;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		if (c >= 0x80) { /* must be well-formed UTF-8 */
			int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
			if (!len || c > 0xF4)
				return NULL;
			for (int i = 1; i < len; i++)
				if (((unsigned char)p[i] & 0xC0) != 0x80)
					return NULL;
			p += len;
			continue;
		}
		p++;
	}
}

static const char *js_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p;
}

static const char *js_value(const char *p, int depth)
{
	if (depth > 16)
		return NULL;
	p = js_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';
		p = js_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = js_string(js_ws(p));
				if (!p)
					return NULL;
				p = js_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = js_value(p, depth + 1);
			if (!p)
				return NULL;
			p = js_ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			return *p == close ? p + 1 : NULL;
		}
	}
	if (*p == '"')
		return js_string(p);
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (strncmp(p, "null", 4) == 0)
		return p + 4;
	return js_number(p);
}

static bool json_valid(const char *doc)
{
	const char *p = doc ? js_value(doc, 0) : NULL;
	return p && *js_ws(p) == '\0';
}

/* ---- tests ---- */

NFM_TEST(test_base_names)
{
	struct nfm_columns cols = { 0 };
	nfm_columns_select(&cols, NFM_SET_BASE, NULL);
	CHECK_EQ_U(cols.n, 34);
	for (size_t i = 0; i < 34 && i < cols.n; i++)
		CHECK_STR(cols.f[i]->name, base34[i]);
	nfm_columns_free(&cols);

	nfm_columns_select(&cols, NFM_SET_BASE | NFM_SET_MERGE, NULL);
	CHECK_EQ_U(cols.n, 35);
	CHECK_STR(cols.f[34]->name, "source_file");
	nfm_columns_free(&cols);

	nfm_columns_select(&cols, NFM_SET_BASE | NFM_SET_EXT, test_layout());
	CHECK_EQ_U(cols.n, 41);
	const char *ext[] = { "ip_version", "vlan_id", "end_reason", "tunnel_type", "tunnel_src",
			      "tunnel_dst", "tunnel_id" };
	for (size_t i = 0; i < 7 && 34 + i < cols.n; i++)
		CHECK_STR(cols.f[34 + i]->name, ext[i]);
	CHECK(cols.off[33] == SIZE_MAX && cols.off[40] != SIZE_MAX); /* module columns last */
	nfm_columns_free(&cols);

	/* any selection, of any length; an unknown name is an error that names it */
	struct nfm_error err;
	CHECK(nfm_columns_parse(&cols, "dst_ip,src_ip,tunnel_id,dst_ip", test_layout(), &err) == 0);
	CHECK(cols.n == 4 && strcmp(cols.f[0]->name, "dst_ip") == 0 && cols.off[2] != SIZE_MAX);
	nfm_columns_free(&cols);
	CHECK(nfm_columns_parse(&cols, "src_ip,nope", test_layout(), &err) == NFM_ERR_INVALID);
	CHECK(strstr(err.msg, "'nope'") != NULL);
	CHECK(nfm_columns_parse(&cols, "tunnel_id", NULL, &err) == NFM_ERR_INVALID);
	for (int k = 0; k < 500; k++)
		CHECK(nfm_columns_add(&cols, nfm_field_find("total_bytes"), SIZE_MAX) == 0);
	CHECK_EQ_U(cols.n, 500);
	nfm_columns_free(&cols);

	size_t n;
	const struct nfm_field *f = nfm_fields(&n);
	CHECK_EQ_U(n, 38);
	for (size_t i = 0; i < n; i++) {
		CHECK(f[i].name && f[i].desc && *f[i].desc && f[i].unit && f[i].get);
		CHECK(nfm_field_find(f[i].name) == &f[i]); /* names unique */
	}
	CHECK(nfm_field_find("no_such_column") == NULL);
	nfm_columns_free(&cols);
}

NFM_TEST(test_values_basic)
{
	char b[256];
	struct nfm_flow_record r = v4rec(NFM_IPPROTO_TCP, 0x0a000001, 1234, 0x0a000002, 80);
	CHECK_STR(fv(&r, "flow_id", b, sizeof b), "10.0.0.1:1234 <-> 10.0.0.2:80 TCP");
	CHECK_STR(fv(&r, "src_ip", b, sizeof b), "10.0.0.1");
	CHECK_STR(fv(&r, "dst_port", b, sizeof b), "80");
	CHECK_STR(fv(&r, "protocol", b, sizeof b), "TCP");
	CHECK_STR(fv(&r, "start_time", b, sizeof b), "2024-01-31T23:59:59.123456Z");
	CHECK_STR(fv(&r, "end_time", b, sizeof b), "2024-02-01T00:00:00.623456Z");
	CHECK_STR(fv(&r, "duration_seconds", b, sizeof b), "1.500000");
	CHECK_STR(fv(&r, "total_packets", b, sizeof b), "5");
	CHECK_STR(fv(&r, "is_bidirectional", b, sizeof b), "True");
	CHECK_STR(fv(&r, "forward_backward_ratio", b, sizeof b), "1.5000");
	CHECK_STR(fv(&r, "total_bytes", b, sizeof b), "500");
	CHECK_STR(fv(&r, "total_payload_bytes", b, sizeof b), "200");
	CHECK_STR(fv(&r, "packets_per_second", b, sizeof b), "3.333");
	CHECK_STR(fv(&r, "bytes_per_second", b, sizeof b), "333.333");
	CHECK_STR(fv(&r, "min_packet_size", b, sizeof b), "60");
	CHECK_STR(fv(&r, "max_packet_size", b, sizeof b), "140");
	CHECK_STR(fv(&r, "avg_packet_size", b, sizeof b), "100.000");
	CHECK_STR(fv(&r, "avg_inter_arrival_ms", b, sizeof b), "375.000");
	CHECK_STR(fv(&r, "min_inter_arrival_ms", b, sizeof b), "250.000");
	CHECK_STR(fv(&r, "max_inter_arrival_ms", b, sizeof b), "500.000");
	CHECK_STR(fv(&r, "end_reason", b, sizeof b), "idle");
	CHECK_STR(fv(&r, "ip_version", b, sizeof b), "4");
	CHECK(ftype(&r, "vlan_id") == NFM_V_NULL);
	CHECK(ftype(&r, "tunnel_type") == NFM_V_NULL);
	CHECK(ftype(&r, "tunnel_src") == NFM_V_NULL);
	CHECK(ftype(&r, "tunnel_id") == NFM_V_NULL);
	CHECK(ftype(&r, "source_file") == NFM_V_NULL);
	CHECK(ftype(&r, "start_time") == NFM_V_TIME);
	CHECK(ftype(&r, "is_bidirectional") == NFM_V_BOOL);

	/* one-way, one packet, zero duration */
	r.pkts[1] = 0;
	r.pkts[0] = 1;
	r.bytes[1] = 0;
	r.last_ns = r.first_ns;
	r.iat_sum_ns = r.iat_min_ns = r.iat_max_ns = 0;
	CHECK(ftype(&r, "forward_backward_ratio") == NFM_V_NULL);
	CHECK_STR(fv(&r, "forward_backward_ratio", b, sizeof b), "");
	CHECK_STR(fv(&r, "is_bidirectional", b, sizeof b), "False");
	CHECK_STR(fv(&r, "duration_seconds", b, sizeof b), "0.000000");
	CHECK_STR(fv(&r, "packets_per_second", b, sizeof b), "0.000");
	CHECK_STR(fv(&r, "bytes_per_second", b, sizeof b), "0.000");
	CHECK_STR(fv(&r, "avg_inter_arrival_ms", b, sizeof b), "0.000");
	CHECK_STR(fv(&r, "min_inter_arrival_ms", b, sizeof b), "0.000");
	/* a sentinel in iat_min with one packet still gives 0 */
	r.iat_min_ns = UINT64_MAX;
	CHECK_STR(fv(&r, "min_inter_arrival_ms", b, sizeof b), "0.000");
	/* last before first never gives a negative duration */
	r.last_ns = r.first_ns - 1000;
	CHECK_STR(fv(&r, "duration_seconds", b, sizeof b), "0.000000");
	/* no packets at all: averages 0, not NaN */
	r.pkts[0] = 0;
	r.bytes[0] = 0;
	CHECK_STR(fv(&r, "avg_packet_size", b, sizeof b), "0.000");
	CHECK_STR(fv(&r, "min_packet_size", b, sizeof b), "0");
}

NFM_TEST(test_tcp_fields)
{
	char b[256];
	struct nfm_flow_record r = v4rec(NFM_IPPROTO_TCP, 0x0a000001, 1234, 0x0a000002, 80);
	CHECK(ftype(&r, "tcp_flags") == NFM_V_NULL); /* no flags */
	r.tcp_flags = NFM_TCP_CWR | NFM_TCP_ACK | NFM_TCP_SYN | NFM_TCP_FIN;
	CHECK_STR(fv(&r, "tcp_flags", b, sizeof b), "FIN|SYN|ACK|CWR");
	r.tcp_flags = 0xff;
	CHECK_STR(fv(&r, "tcp_flags", b, sizeof b), "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR");
	r.syn_count = 2;
	r.ack_count = 7;
	r.conn_state = NFM_CONN_HALF_CLOSED;
	CHECK_STR(fv(&r, "syn_count", b, sizeof b), "2");
	CHECK_STR(fv(&r, "ack_count", b, sizeof b), "7");
	CHECK_STR(fv(&r, "connection_state", b, sizeof b), "half_closed");

	/* not TCP: no flags, counts 0, empty state */
	r.ip_proto = NFM_IPPROTO_UDP;
	CHECK(ftype(&r, "tcp_flags") == NFM_V_NULL);
	CHECK_STR(fv(&r, "syn_count", b, sizeof b), "0");
	CHECK(ftype(&r, "syn_count") == NFM_V_U64);
	CHECK(ftype(&r, "connection_state") == NFM_V_NULL);

	const char *states[] = { "", "attempted", "rejected", "half_open", "established",
				 "half_closed", "closed", "reset", "mid_stream" };
	for (unsigned i = 0; i < NFM_CONN_STATE_COUNT; i++)
		CHECK_STR(nfm_conn_state_name(i), states[i]);
	CHECK_STR(nfm_conn_state_name(200), "");
	const char *reasons[] = { "idle", "active", "tcp_close", "tcp_reset", "tcp_reuse",
				  "evicted", "eof", "slice" };
	for (unsigned i = 0; i < NFM_END_REASON_COUNT; i++)
		CHECK_STR(nfm_end_reason_name(i), reasons[i]);
}

NFM_TEST(test_flow_id_variants)
{
	char b[256];
	struct nfm_flow_record r = v4rec(NFM_IPPROTO_UDP, 0xc0a80001, 5353, 0xe00000fb, 5353);
	r.has_vlan = 1;
	r.vlan_id = 42;
	CHECK_STR(fv(&r, "flow_id", b, sizeof b), "192.168.0.1:5353 <-> 224.0.0.251:5353 UDP vlan=42");
	CHECK_STR(fv(&r, "vlan_id", b, sizeof b), "42");

	struct nfm_flow_record s = v4rec(NFM_IPPROTO_TCP, 0, 443, 0, 80);
	s.l3 = NFM_L3_IPV6;
	memset(s.src, 0, 16);
	memset(s.dst, 0, 16);
	s.src[0] = 0x20, s.src[1] = 0x01, s.src[2] = 0x0d, s.src[3] = 0xb8, s.src[15] = 1;
	s.dst[0] = 0x20, s.dst[1] = 0x01, s.dst[2] = 0x0d, s.dst[3] = 0xb8, s.dst[15] = 2;
	CHECK_STR(fv(&s, "flow_id", b, sizeof b), "[2001:db8::1]:443 <-> [2001:db8::2]:80 TCP");
	CHECK_STR(fv(&s, "src_ip", b, sizeof b), "2001:db8::1");
	CHECK_STR(fv(&s, "ip_version", b, sizeof b), "6");

	struct nfm_flow_record a = v4rec(0, 0x0a000001, 0, 0x0a0000fe, 0);
	a.l3 = NFM_L3_ARP;
	CHECK_STR(fv(&a, "flow_id", b, sizeof b), "10.0.0.1 <-> 10.0.0.254 ARP");
	CHECK_STR(fv(&a, "protocol", b, sizeof b), "ARP");
	CHECK(ftype(&a, "src_port") == NFM_V_NULL);
	CHECK(ftype(&a, "dst_port") == NFM_V_NULL);
	CHECK_STR(fv(&a, "ip_version", b, sizeof b), "0");
	CHECK(ftype(&a, "connection_state") == NFM_V_NULL);

	struct nfm_flow_record g = v4rec(47, 0x0a000001, 0, 0x0a000002, 0);
	CHECK_STR(fv(&g, "protocol", b, sizeof b), "47");
	CHECK_STR(fv(&g, "flow_id", b, sizeof b), "10.0.0.1:0 <-> 10.0.0.2:0 47");

	struct nfm_flow_record ic = v4rec(NFM_IPPROTO_ICMP, 0x0a000001, 3, 0x0a000002, 1);
	CHECK_STR(fv(&ic, "flow_id", b, sizeof b), "10.0.0.1:3 <-> 10.0.0.2:1 ICMP");
	char pb[8];
	CHECK_STR(nfm_proto_name(NFM_L3_IPV6, NFM_IPPROTO_ICMPV6, pb, sizeof pb), "ICMPv6");
	CHECK_STR(nfm_proto_name(NFM_L3_IPV4, NFM_IPPROTO_SCTP, pb, sizeof pb), "SCTP");

	/* tunnel columns: the tunnel module's state, filled by its hook from a first packet */
	struct nfm_flow_record t = v4rec(NFM_IPPROTO_UDP, 0x0a000001, 1, 0x0a000002, 2);
	CHECK(ftype(&t, "tunnel_type") == NFM_V_NULL); /* no module state: NULL */
	uint8_t state[64] = { 0 };
	t.modules = state;
	CHECK(ftype(&t, "tunnel_type") == NFM_V_NULL); /* not tunnelled */
	struct nfm_packet pk;
	memset(&pk, 0, sizeof pk);
	pk.tunnel_type = NFM_TUNNEL_VXLAN;
	pk.tunnel_l3 = NFM_L3_IPV4;
	pk.tunnel_src[0] = 172, pk.tunnel_src[1] = 16, pk.tunnel_src[3] = 1;
	pk.tunnel_dst[0] = 172, pk.tunnel_dst[1] = 16, pk.tunnel_dst[3] = 2;
	pk.tunnel_id = 5000;
	nfm_mod_tunnel.packet(state + test_layout()->off[0],
			      &(struct nfm_module_packet){ .pkt = &pk, .index = 0 });
	CHECK(ftype(&t, "tunnel_type") == NFM_V_STR);
	CHECK_STR(fv(&t, "tunnel_type", b, sizeof b), "vxlan");
	CHECK_STR(fv(&t, "tunnel_src", b, sizeof b), "172.16.0.1");
	CHECK_STR(fv(&t, "tunnel_dst", b, sizeof b), "172.16.0.2");
	CHECK_STR(fv(&t, "tunnel_id", b, sizeof b), "5000");
}

NFM_TEST(test_value_format)
{
	char b[64];
	struct nfm_value v;
	memset(&v, 0, sizeof v);
	v.type = NFM_V_F64;
	v.f = -0.0001;
	nfm_value_format(&v, 3, b, sizeof b);
	CHECK_STR(b, "0.000");
	v.f = -1.25;
	nfm_value_format(&v, 2, b, sizeof b);
	CHECK_STR(b, "-1.25");
	v.type = NFM_V_NULL;
	CHECK_EQ_U(nfm_value_format(&v, 0, b, sizeof b), 0);
	CHECK_STR(b, "");
	v.type = NFM_V_TIME;
	v.u = 0;
	nfm_value_format(&v, 0, b, sizeof b);
	CHECK_STR(b, "1970-01-01T00:00:00.000000Z");
	v.u = 999; /* ns truncated, not rounded */
	nfm_value_format(&v, 0, b, sizeof b);
	CHECK_STR(b, "1970-01-01T00:00:00.000000Z");
	v.type = NFM_V_U64;
	v.u = UINT64_MAX;
	CHECK_EQ_U(nfm_value_format(&v, 0, b, sizeof b), 20);
	CHECK_STR(b, "18446744073709551615");
	CHECK_EQ_U(nfm_value_format(&v, 0, b, 5), 4); /* truncated like snprintf */
	CHECK_STR(b, "1844");
	v.type = NFM_V_BOOL;
	v.b = true;
	nfm_value_format(&v, 0, b, sizeof b);
	CHECK_STR(b, "True");
}

/* ---- the hand-written formatting against the C library ---- */

/* splitmix64: a small deterministic generator (state owned by the caller). */
static uint64_t rnd(uint64_t *st)
{
	uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A double in [0, 1) with 53 random bits. */
static double rnd01(uint64_t *st)
{
	return (double)(rnd(st) >> 11) * 0x1p-53;
}

/* What nfm_value_format must write for a double: printf "%.*f" (the exact binary value
 * rounded by glibc), with the minus sign dropped when only zeros follow. */
static void ref_f64(double f, int prec, char *buf, size_t cap)
{
	snprintf(buf, cap, "%.*f", prec, f);
	if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
}

/* Compares one double at one precision; prints the first few mismatches. */
static bool same_f64(double f, int prec, unsigned *shown)
{
	char want[400], got[400];
	if (!isfinite(f)) /* never a value (v_f64 maps it to 0) */
		return true;
	struct nfm_value v;
	memset(&v, 0, sizeof v);
	v.type = NFM_V_F64;
	v.f = f;
	size_t n = nfm_value_format(&v, prec, got, sizeof got);
	ref_f64(f, prec, want, sizeof want);
	if (n == strlen(want) && strcmp(got, want) == 0)
		return true;
	if ((*shown)++ < 10)
		fprintf(stderr, "  f64 %.17g (%a) prec %d: got \"%s\", want \"%s\"\n", f, f, prec,
			got, want);
	return false;
}

/* A random double of the kind the table produces (or a hard one), for precision prec. */
static double rnd_double(uint64_t *st, int prec)
{
	uint64_t r = rnd(st);
	double sign = (r & 1) ? -1.0 : 1.0;
	double scale = pow(10.0, prec);
	switch ((r >> 1) % 8) {
	case 0: { /* any magnitude from 1e-9 to 1e16 */
		double mag = pow(10.0, -9.0 + 25.0 * rnd01(st));
		return sign * mag * (1.0 + rnd01(st));
	}
	case 1: /* a decimal midpoint x.xxx5 at this precision (never exact in binary) */
		return sign * ((double)(rnd(st) % 100000000000ULL) + 0.5) / scale;
	case 2: /* its neighbours */
		return nextafter(((double)(rnd(st) % 1000000000ULL) + 0.5) / scale,
				 (r >> 8) & 1 ? INFINITY : 0.0);
	case 3: { /* an exact binary tie: k / 2^j, j small */
		int j = (int)(rnd(st) % 12);
		return sign * ldexp((double)(rnd(st) % 100000000ULL) * 2 + 1, -j) / scale * scale;
	}
	case 4: /* a ratio of counters, as in the table */
		return (double)(rnd(st) % 100000u) / (double)(1 + rnd(st) % 9999u);
	case 5: /* a rate: count / (ns / 1e9) */
		return (double)(rnd(st) % 10000000000ULL) /
		       ((double)(1 + rnd(st) % 100000000000ULL) / 1e9);
	case 6: { /* random 52-bit mantissa, binary exponent -64..66 (both sides of 2^63) */
		uint64_t b = (rnd(st) >> 12) | (uint64_t)(1023 - 64 + (int)(rnd(st) % 131)) << 52;
		double d;
		memcpy(&d, &b, sizeof d);
		return sign * d;
	}
	default: /* near the exact path's upper bound and around 1e15 */
		return sign * (1e15 + (rnd01(st) - 0.5) * 1e6) * pow(10.0, (double)(rnd(st) % 5) - 1.0);
	}
}

NFM_TEST(test_format_f64_vs_printf)
{
	unsigned shown = 0;
	unsigned long bad = 0;
	static const double edge[] = {
		0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.25, 0.125, 0.375, 0.0625, 0.0005, 0.0015,
		0.0025, 1.0005, 2.0005, 0.00005, 0.00015, 0.000005, 0.0000005, 1.2345, 1.23455,
		9.9995, 9.99995, 99.9995, 999.9995, 0.9999995, 1e-7, -1e-7, 5e-7, -5e-7, 4.9999999e-7,
		1e-300, DBL_MIN, DBL_TRUE_MIN, -DBL_TRUE_MIN, 1e15, -1e15, 999999999999999.9,
		1e15 + 0.5, 1e15 - 0.5, 123456789012345.6789, 9007199254740992.0,
		9007199254740993.0, 9007199254740991.0, 4503599627370495.5, 4503599627370496.5,
		9.2e18, 9.3e18, 9223372036854775808.0, 18446744073709551616.0, 1e19, 1e20, 1e300,
		-1e300, DBL_MAX, -DBL_MAX, 1.0 / 3.0, 2.0 / 3.0, 1e6 / 7.0, 1500.0, 361000.0,
		240.66666666666666, 0.002, 1.0, 10.0, 100.0, 0.1, 0.2, 0.3, 0.7, 1e-3, 1e-4, 1e-6,
	};
	for (int prec = 0; prec <= 17; prec++) {
		for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
			double e = edge[i];
			bad += !same_f64(e, prec, &shown);
			bad += !same_f64(-e, prec, &shown);
			bad += !same_f64(nextafter(e, INFINITY), prec, &shown);
			bad += !same_f64(nextafter(e, -INFINITY), prec, &shown);
		}
		/* every value of the form k.5 / 10^prec and k / 2^j close to zero */
		double scale = pow(10.0, prec);
		for (int k = 0; k < 2000; k++) {
			bad += !same_f64((k + 0.5) / scale, prec, &shown);
			bad += !same_f64(ldexp(k, -10), prec, &shown);
		}
		/* the exact path's limit: 2^63 / 10^prec, and 2^53 / 10^prec */
		for (int b = 53; b <= 64; b += 10) {
			double lim = ldexp(1.0, b) / scale;
			for (int d = -3; d <= 3; d++)
				bad += !same_f64(lim * (1.0 + d * 1e-9), prec, &shown);
		}
	}
	/* ~1 million pseudo-random values per precision the table uses (0..6) */
	uint64_t st = 0x5eed0f64u;
	for (int prec = 0; prec <= 6; prec++)
		for (int i = 0; i < 1000000; i++)
			bad += !same_f64(rnd_double(&st, prec), prec, &shown);
	/* a lighter sweep of the other precisions (7..9 exact path, 10..17 printf) */
	for (int prec = 7; prec <= 17; prec++)
		for (int i = 0; i < 20000; i++)
			bad += !same_f64(rnd_double(&st, prec), prec, &shown);
	/* out-of-range precisions are clamped to 0..17 */
	struct nfm_value v;
	memset(&v, 0, sizeof v);
	v.type = NFM_V_F64;
	v.f = 2.5;
	char b[64];
	nfm_value_format(&v, -3, b, sizeof b);
	CHECK_STR(b, "2");
	nfm_value_format(&v, 40, b, sizeof b);
	CHECK_STR(b, "2.50000000000000000");
	v.f = NAN; /* never produced, but written as 0 */
	nfm_value_format(&v, 3, b, sizeof b);
	CHECK_STR(b, "0.000");
	if (bad)
		fprintf(stderr, "  %lu double mismatches\n", bad);
	CHECK_EQ_U(bad, 0);
}

NFM_TEST(test_format_u64_vs_printf)
{
	unsigned long bad = 0;
	uint64_t st = 0x5eed0064u;
	struct nfm_value v;
	memset(&v, 0, sizeof v);
	v.type = NFM_V_U64;
	char got[32], want[32];
	for (long i = 0; i < 1000000 + 64 * 3; i++) {
		uint64_t u;
		if (i < 64 * 3) { /* 2^k - 1, 2^k, and 10^k-ish edges */
			u = (UINT64_C(1) << (i / 3)) + (uint64_t)(i % 3) - 1;
		} else {
			unsigned bits = (unsigned)(rnd(&st) % 65);
			u = bits ? rnd(&st) >> (64 - bits) : 0;
		}
		v.u = u;
		size_t n = nfm_value_format(&v, 0, got, sizeof got);
		snprintf(want, sizeof want, "%" PRIu64, u);
		if (n != strlen(want) || strcmp(got, want) != 0) {
			if (bad < 10)
				fprintf(stderr, "  u64 %s: got \"%s\"\n", want, got);
			bad++;
		}
	}
	uint64_t p10 = 1;
	for (int k = 0; k < 20; k++, p10 *= 10) {
		for (int d = -1; d <= 1; d++) {
			v.u = p10 + (uint64_t)d;
			nfm_value_format(&v, 0, got, sizeof got);
			snprintf(want, sizeof want, "%" PRIu64, v.u);
			bad += strcmp(got, want) != 0;
		}
	}
	v.u = UINT64_MAX;
	nfm_value_format(&v, 0, got, sizeof got);
	CHECK_STR(got, "18446744073709551615");
	v.u = 0;
	nfm_value_format(&v, 0, got, sizeof got);
	CHECK_STR(got, "0");
	CHECK_EQ_U(bad, 0);
}

/* What the time column must be: gmtime_r + printf, as before. */
static void ref_time(uint64_t ns, char *buf, size_t cap)
{
	time_t secs = (time_t)(ns / 1000000000u);
	unsigned usec = (unsigned)((ns % 1000000000u) / 1000u);
	struct tm tm;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, cap, "?");
		return;
	}
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

NFM_TEST(test_format_time_vs_gmtime)
{
	unsigned long bad = 0;
	struct nfm_value v;
	memset(&v, 0, sizeof v);
	v.type = NFM_V_TIME;
	char got[64], want[64];
	/* Named edges. A uint64_t of nanoseconds ends at 2554-07-21T23:34:33.709551615Z, so
	 * 9999-12-31 cannot occur; UINT64_MAX is the last representable time. */
	static const struct {
		uint64_t ns;
		const char *text;
	} named[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ 999, "1970-01-01T00:00:00.000000Z" },
		{ 1999, "1970-01-01T00:00:00.000001Z" },
		{ NS(86399) + 999999999, "1970-01-01T23:59:59.999999Z" },
		{ NS(951782400), "2000-02-29T00:00:00.000000Z" },
		{ NS(951868799) + 123456789, "2000-02-29T23:59:59.123456Z" },
		{ NS(951868800), "2000-03-01T00:00:00.000000Z" },
		{ NS(2147483647), "2038-01-19T03:14:07.000000Z" },
		{ NS(2147483648), "2038-01-19T03:14:08.000000Z" },
		{ NS(4107542399) + 999999999, "2100-02-28T23:59:59.999999Z" },
		{ NS(4107542400), "2100-03-01T00:00:00.000000Z" },
		{ 1706745599123456789ULL, "2024-01-31T23:59:59.123456Z" },
		{ UINT64_MAX, "2554-07-21T23:34:33.709551Z" },
	};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		v.u = named[i].ns;
		CHECK_EQ_U(nfm_value_format(&v, 0, got, sizeof got), 27);
		CHECK_STR(got, named[i].text);
		ref_time(named[i].ns, want, sizeof want);
		CHECK_STR(got, want);
	}
	/* every day boundary from 1970 to 2560 (each +-1 ns) */
	for (uint64_t day = 0; day < 214000; day++) {
		for (int d = -1; d <= 0; d++) {
			uint64_t ns = NS(day * 86400) + (uint64_t)(int64_t)d;
			if (day == 0 && d < 0)
				continue;
			if (ns / 1000000000u > UINT64_MAX / 1000000000u - 1)
				break;
			v.u = ns;
			nfm_value_format(&v, 0, got, sizeof got);
			ref_time(ns, want, sizeof want);
			bad += strcmp(got, want) != 0;
		}
	}
	/* 1 million pseudo-random times: half over the whole range, half in 1970..2100 */
	uint64_t st = 0x5eed7153u;
	for (int i = 0; i < 1000000; i++) {
		uint64_t ns = (i & 1) ? rnd(&st) : rnd(&st) % NS(4107542400u);
		v.u = ns;
		nfm_value_format(&v, 0, got, sizeof got);
		ref_time(ns, want, sizeof want);
		if (strcmp(got, want) != 0) {
			if (bad < 10)
				fprintf(stderr, "  time %" PRIu64 ": got %s, want %s\n", ns, got, want);
			bad++;
		}
	}
	CHECK_EQ_U(bad, 0);
}

NFM_TEST(test_format_addr_vs_inet_ntop)
{
	unsigned long bad = 0;
	uint64_t st = 0x5eedadd7u;
	char got[64], want[64];
	uint8_t a[16];
	for (int i = 0; i < 300000; i++) {
		uint64_t r1 = rnd(&st), r2 = rnd(&st), pat = rnd(&st);
		memcpy(a, &r1, 8);
		memcpy(a + 8, &r2, 8);
		if (i % 3) { /* zero some 16-bit groups (runs, single groups, mapped forms) */
			for (int g = 0; g < 8; g++)
				if ((pat >> g) & 1 && (pat >> 8) & 3)
					a[2 * g] = a[2 * g + 1] = 0;
			if (i % 7 == 0) { /* ::ffff:a.b.c.d or ::a.b.c.d */
				memset(a, 0, 10);
				a[10] = a[11] = (pat >> 12) & 1 ? 0xff : 0;
			}
			for (int g = 0; g < 8; g++) /* small groups: no leading zeros */
				if ((pat >> (16 + g)) & 1)
					a[2 * g] = 0;
		}
		nfm_addr_format(NFM_L3_IPV6, a, got, sizeof got);
		if (!inet_ntop(AF_INET6, a, want, sizeof want))
			want[0] = '\0';
		if (strcmp(got, want) != 0) {
			if (bad < 10)
				fprintf(stderr, "  ipv6: got %s, want %s\n", got, want);
			bad++;
		}
		if (i % 3 == 0)
			a[(pat >> 30) & 3] = (uint8_t)(pat >> 40) % 10; /* one-digit octets */
		nfm_addr_format(NFM_L3_IPV4, a, got, sizeof got);
		if (!inet_ntop(AF_INET, a, want, sizeof want))
			want[0] = '\0';
		if (strcmp(got, want) != 0) {
			if (bad < 10)
				fprintf(stderr, "  ipv4: got %s, want %s\n", got, want);
			bad++;
		}
	}
	/* every pattern of zero groups */
	for (unsigned mask = 0; mask < 256; mask++) {
		for (int g = 0; g < 8; g++) {
			a[2 * g] = (mask >> g) & 1 ? 0 : (uint8_t)(g * 16 + 1);
			a[2 * g + 1] = (mask >> g) & 1 ? 0 : (uint8_t)(g + 1);
		}
		nfm_addr_format(NFM_L3_IPV6, a, got, sizeof got);
		inet_ntop(AF_INET6, a, want, sizeof want);
		bad += strcmp(got, want) != 0;
	}
	memset(a, 0, 16);
	CHECK_STR(nfm_addr_format(NFM_L3_IPV6, a, got, sizeof got), "::");
	a[15] = 1;
	CHECK_STR(nfm_addr_format(NFM_L3_IPV6, a, got, sizeof got), "::1");
	a[10] = a[11] = 0xff;
	a[12] = 192;
	CHECK_STR(nfm_addr_format(NFM_L3_IPV6, a, got, sizeof got), "::ffff:192.0.0.1");
	CHECK_STR(nfm_addr_format(NFM_L3_IPV4, a, got, sizeof got), "0.0.0.0");
	CHECK_STR(nfm_addr_format(NFM_L3_IPV6, a, got, 10), ""); /* too small, as inet_ntop */
	CHECK_STR(nfm_addr_format(99, a, got, sizeof got), "");
	CHECK_EQ_U(bad, 0);
}

/* flow_id as the printf-based code wrote it. */
static void ref_flow_id(const struct nfm_flow_record *r, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "", b[INET6_ADDRSTRLEN] = "", pb[8];
	int af = r->l3 == NFM_L3_IPV6 ? AF_INET6 : AF_INET;
	inet_ntop(af, r->src, a, sizeof a);
	inet_ntop(af, r->dst, b, sizeof b);
	const char *proto = nfm_proto_name(r->l3, r->ip_proto, pb, sizeof pb);
	int n;
	if (r->l3 == NFM_L3_ARP) {
		n = snprintf(buf, cap, "%s <-> %s %s", a, b, proto);
	} else {
		const char *o = r->l3 == NFM_L3_IPV6 ? "[" : "";
		const char *c = r->l3 == NFM_L3_IPV6 ? "]" : "";
		n = snprintf(buf, cap, "%s%s%s:%u <-> %s%s%s:%u %s", o, a, c, (unsigned)r->src_port,
			     o, b, c, (unsigned)r->dst_port, proto);
	}
	if (r->has_vlan && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, " vlan=%u", (unsigned)r->vlan_id);
}

NFM_TEST(test_format_flow_id_and_truncation)
{
	unsigned long bad = 0;
	uint64_t st = 0x5eedf10du;
	char got[256], want[256];
	static const uint8_t l3s[] = { NFM_L3_IPV4, NFM_L3_IPV6, NFM_L3_ARP };
	for (int i = 0; i < 100000; i++) {
		struct nfm_flow_record r = v4rec(0, 0, 0, 0, 0);
		uint64_t x = rnd(&st), y = rnd(&st);
		r.l3 = l3s[x % 3];
		r.ip_proto = (uint8_t)(x >> 8);
		if (x & (1u << 16))
			r.ip_proto = (x & (1u << 17)) ? NFM_IPPROTO_TCP : NFM_IPPROTO_UDP;
		r.src_port = (uint16_t)(x >> 20);
		r.dst_port = (uint16_t)(x >> 36) >> ((x >> 52) & 15);
		r.has_vlan = (x >> 56) & 1;
		r.vlan_id = (uint16_t)(y & 0xfff);
		for (int k = 0; k < 16; k++) {
			r.src[k] = (y >> (k + 12)) & 1 ? 0 : (uint8_t)rnd(&st);
			r.dst[k] = (y >> (k + 28)) & 1 ? 0 : (uint8_t)rnd(&st);
		}
		fv(&r, "flow_id", got, sizeof got);
		ref_flow_id(&r, want, sizeof want);
		if (strcmp(got, want) != 0) {
			if (bad < 10)
				fprintf(stderr, "  flow_id: got %s, want %s\n", got, want);
			bad++;
		}
	}
	CHECK_EQ_U(bad, 0);

	/* every type truncates like snprintf and returns the stored length */
	struct nfm_value vals[6];
	memset(vals, 0, sizeof vals);
	vals[0].type = NFM_V_U64, vals[0].u = 1234567890123ULL;
	vals[1].type = NFM_V_F64, vals[1].f = -12345.678901;
	vals[2].type = NFM_V_TIME, vals[2].u = 1706745599123456789ULL;
	vals[3].type = NFM_V_BOOL, vals[3].b = false;
	vals[4].type = NFM_V_STR, vals[4].s = "some text";
	vals[5].type = NFM_V_F64, vals[5].f = 1e300; /* the printf path */
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		char full[400];
		size_t len = nfm_value_format(&vals[i], 3, full, sizeof full);
		CHECK_EQ_U(len, strlen(full));
		for (size_t cap = 1; cap <= len + 2; cap++) {
			char b[400];
			memset(b, 'x', sizeof b);
			size_t n = nfm_value_format(&vals[i], 3, b, cap);
			size_t want_n = len < cap ? len : cap - 1;
			CHECK_EQ_U(n, want_n);
			CHECK(b[n] == '\0' && memcmp(b, full, n) == 0);
		}
	}
	char pb[3];
	CHECK_STR(nfm_proto_name(NFM_L3_IPV4, 253, pb, sizeof pb), "25");
}

NFM_TEST(test_formats)
{
	const struct nfm_exporter_ops *csv = nfm_exporter_find("csv"), *json = nfm_exporter_find("json");
	const struct nfm_exporter_ops *jsonl = nfm_exporter_find("jsonl"), *xlsx = nfm_exporter_find("xlsx");
	CHECK(csv && json && jsonl && xlsx);
	CHECK(nfm_exporter_find("CSV") == csv);
	CHECK(nfm_exporter_find("NDJSON") == jsonl);
	CHECK(nfm_exporter_find("Excel") == xlsx);
	CHECK(nfm_exporter_find("parquet") == NULL);
	CHECK(nfm_exporter_for_path("out/flows.JSONL") == jsonl);
	CHECK(nfm_exporter_for_path("flows.ndjson") == jsonl);
	CHECK(nfm_exporter_for_path("a.b/flows.xlsx") == xlsx);
	CHECK(nfm_exporter_for_path("flows.csv") == csv);
	CHECK(nfm_exporter_for_path("flows.txt") == NULL);
	CHECK(nfm_exporter_for_path("flows.excel") == NULL);
	CHECK(nfm_exporter_for_path("dir.json/flows") == NULL);
	CHECK(nfm_exporter_for_path("flows") == NULL);
	CHECK_STR(nfm_exporter_ext(csv), "csv");
	CHECK_STR(nfm_exporter_ext(json), "json");
	CHECK_STR(nfm_exporter_ext(jsonl), "jsonl");
	CHECK_STR(nfm_exporter_ext(xlsx), "xlsx");
	CHECK_STR(nfm_exporter_name(xlsx), "xlsx");
	CHECK(nfm_exporter_at(0) == csv && nfm_exporter_at(3) == xlsx);
	/* then the NetFlow formats, chosen by name only (never by a file's extension) */
	const struct nfm_exporter_ops *nfd = nfm_exporter_find("nfdump");
	CHECK(nfd && nfm_exporter_is_netflow(nfd) && nfm_exporter_listed(nfd));
	CHECK(nfm_exporter_takes_slices(nfm_exporter_find("NFDUMP-DICT")));
	CHECK(!nfm_exporter_listed(nfm_exporter_find("preview")));
	for (size_t i = 4; nfm_exporter_at(i); i++)
		CHECK(nfm_exporter_is_netflow(nfm_exporter_at(i)));
}

/* The CSV fast paths: plain cells written in place (nfm_value_put, the same text as
 * nfm_value_format), zeros of every precision, every octet, and a text cell's quoting
 * decided eight bytes at a time for a special byte at every offset. */
NFM_TEST(test_csv_fast_paths)
{
	char put[NFM_VALUE_ROOM], fmt[NFM_VALUE_ROOM + 1];
	struct nfm_value v;
	memset(&v, 0, sizeof v);
	v.type = NFM_V_F64;
	for (int prec = 0; prec <= 17; prec++) {
		const double vals[] = { 0.0, -0.0, 1e-30, -1e-30, 0.5, 1e300 };
		for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
			v.f = vals[k];
			size_t n = nfm_value_put(&v, prec, put);
			char want[400];
			snprintf(want, sizeof want, "%.*f", prec, vals[k]);
			const char *w = want[0] == '-' && strspn(want + 1, "0.") == strlen(want + 1) ? want + 1 : want;
			CHECK_EQ_U(n, strlen(w));
			CHECK(n == strlen(w) && memcmp(put, w, n) == 0);
			CHECK_EQ_U(nfm_value_format(&v, prec, fmt, sizeof fmt), n);
			CHECK(memcmp(fmt, put, n) == 0);
		}
	}
	v.type = NFM_V_ADDR;
	v.l3 = NFM_L3_IPV4;
	for (unsigned o = 0; o < 256; o++)
		for (int pos = 0; pos < 4; pos++) {
			memset(v.addr, pos == 0 ? 7 : 255, 4);
			v.addr[pos] = (uint8_t)o;
			char want[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, v.addr, want, sizeof want);
			size_t n = nfm_value_put(&v, 0, put);
			CHECK(n == strlen(want) && memcmp(put, want, n) == 0);
		}
	v.type = NFM_V_U64;
	for (uint64_t u = 0; u < 1000; u++) {
		char want[24];
		snprintf(want, sizeof want, "%" PRIu64, u);
		v.u = u;
		size_t n = nfm_value_put(&v, 0, put);
		CHECK(n == strlen(want) && memcmp(put, want, n) == 0);
	}

	char dir[512];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	if (!dir[0])
		return;
	struct nfm_columns cols = { 0 };
	struct nfm_error err;
	nfm_error_clear(&err);
	CHECK_EQ_U(nfm_columns_parse(&cols, "src_port,source_file,dst_port", NULL, &err), 0);
	const char specials[] = { ',', '"', '\r', '\n', 'x' };
	char names[5 * 20][24];
	struct nfm_flow_record r[5 * 20];
	size_t nr = 0;
	for (size_t k = 0; k < sizeof specials; k++)
		for (size_t at = 0; at < 20; at++, nr++) {
			memset(names[nr], 'a', 20);
			names[nr][20] = '\0';
			names[nr][at] = specials[k];
			r[nr] = v4rec(NFM_IPPROTO_UDP, 0x0a000001, 53, 0x0a000002, 53);
			r[nr].source_file = names[nr];
		}
	size_t len;
	char *out = export_to(dir, "fast.csv", "csv", &cols, r, nr, &len);
	CHECK(out != NULL);
	if (out) {
		/* The expected file, cell by cell, by the rules of RFC 4180. */
		struct nfm_buf want = { 0 };
		nfm_buf_put(&want, "src_port,source_file,dst_port\n", 30);
		for (size_t i = 0; i < nr; i++) {
			const char *s = names[i];
			int quote = strpbrk(s, ",\"\r\n") != NULL;
			nfm_buf_put(&want, "53,", 3);
			if (quote)
				nfm_buf_put(&want, "\"", 1);
			if (s[0] == '\r') /* a formula's first byte: apostrophe */
				nfm_buf_put(&want, "'", 1);
			for (const char *p = s; *p; p++) {
				if (*p == '"')
					nfm_buf_put(&want, "\"", 1);
				nfm_buf_put(&want, p, 1);
			}
			if (quote)
				nfm_buf_put(&want, "\"", 1);
			nfm_buf_put(&want, ",53\n", 4);
		}
		CHECK_EQ_U(len, want.len);
		CHECK(len == want.len && memcmp(out, want.p, len) == 0);
		nfm_buf_free(&want);
		free(out);
	}
	nfm_columns_free(&cols);
	rm_tree(dir);
}

/* A value that is often small, sometimes zero, sometimes huge. */
static uint64_t rnd_count(uint64_t *st)
{
	uint64_t r = rnd(st);
	switch (r & 7) {
	case 0: return 0;
	case 1: return 1;
	case 2: return r >> 62;
	case 3: return r >> 3;                 /* up to 2^61 */
	default: return (r >> 8) % 100000;
	}
}

/* The default columns are written by the one-pass row writer (csv_base.c); the same
 * columns under their own names explicitly go through the generic encoder. Random
 * records of every address family, protocol, VLAN, count and time shape must come out
 * byte for byte the same from both. */
NFM_TEST(test_csv_base_row_vs_generic)
{
	char dir[512];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	if (!dir[0])
		return;
	struct nfm_columns fast = { 0 }, slow = { 0 };
	CHECK_EQ_U(nfm_columns_select(&fast, NFM_SET_BASE, NULL), 0);
	for (size_t i = 0; i < fast.n; i++)
		CHECK_EQ_U(nfm_columns_add_named(&slow, fast.f[i], SIZE_MAX, fast.f[i]->name), 0);
	CHECK(nfm_csv_base_matches(&fast));
	CHECK(!nfm_csv_base_matches(&slow));
	enum { N = 20000 };
	struct nfm_flow_record *r = calloc(N, sizeof *r);
	CHECK(r != NULL);
	if (!r)
		return;
	static const uint8_t l3s[] = { NFM_L3_IPV4, NFM_L3_IPV4, NFM_L3_IPV6, NFM_L3_ARP, NFM_L3_NONE };
	static const uint8_t protos[] = { NFM_IPPROTO_TCP, NFM_IPPROTO_TCP, NFM_IPPROTO_UDP,
					  NFM_IPPROTO_ICMP, NFM_IPPROTO_ICMPV6, NFM_IPPROTO_SCTP, 47, 0 };
	uint64_t st = 0xba5e0f1a;
	for (size_t i = 0; i < N; i++) {
		uint64_t x = rnd(&st), y = rnd(&st), z = rnd(&st);
		r[i].l3 = l3s[x % sizeof l3s];
		r[i].ip_proto = protos[(x >> 8) % sizeof protos];
		r[i].has_vlan = (x >> 16) % 5 == 0;
		r[i].vlan_id = (uint16_t)(y % 4096);
		r[i].src_port = (uint16_t)(y >> 16);
		r[i].dst_port = (y >> 40) & 1 ? 443 : (uint16_t)(y >> 32);
		memcpy(r[i].src, &y, 8);
		memcpy(r[i].src + 8, &z, 8);
		memcpy(r[i].dst, &z, 8);
		if ((x >> 20) & 1) /* runs of zero groups */
			memset(r[i].dst + 2, 0, (x >> 21) % 14);
		r[i].first_ns = 1700000000000000000ULL + rnd(&st) % 400000000000000000ULL;
		switch ((x >> 24) & 3) {
		case 0: r[i].last_ns = r[i].first_ns; break;
		case 1: r[i].last_ns = r[i].first_ns + rnd(&st) % 1000000000u; break; /* same second or next */
		case 2: r[i].last_ns = r[i].first_ns + rnd(&st) % 100000000000000ULL; break;
		default: r[i].last_ns = r[i].first_ns - rnd(&st) % 1000000u; break; /* backwards */
		}
		r[i].pkts[0] = rnd_count(&st);
		r[i].pkts[1] = rnd_count(&st);
		r[i].bytes[0] = rnd_count(&st);
		r[i].bytes[1] = rnd_count(&st);
		r[i].payload[0] = rnd_count(&st);
		r[i].payload[1] = rnd_count(&st);
		r[i].min_len = (uint32_t)rnd_count(&st);
		r[i].max_len = (uint32_t)rnd_count(&st);
		r[i].iat_sum_ns = rnd_count(&st);
		r[i].iat_min_ns = rnd_count(&st);
		r[i].iat_max_ns = rnd_count(&st);
		r[i].tcp_flags = (uint8_t)(z >> 8);
		r[i].conn_state = (uint8_t)((z >> 16) % (NFM_CONN_STATE_COUNT + 1));
		r[i].syn_count = (uint32_t)rnd_count(&st);
		r[i].fin_count = (uint32_t)rnd_count(&st);
		r[i].rst_count = (uint32_t)rnd_count(&st);
		r[i].ack_count = (uint32_t)rnd_count(&st);
		r[i].seq = i + 1;
	}
	size_t flen = 0, slen = 0;
	char *f = export_to(dir, "fast.csv", "csv", &fast, r, N, &flen);
	char *g = export_to(dir, "slow.csv", "csv", &slow, r, N, &slen);
	CHECK(f != NULL && g != NULL);
	if (f && g) {
		CHECK_EQ_U(flen, slen);
		size_t k = 0;
		while (k < flen && k < slen && f[k] == g[k])
			k++;
		if (k < flen || k < slen) {
			size_t line = k;
			while (line > 0 && f[line - 1] != '\n')
				line--;
			fprintf(stderr, "  first difference at byte %zu:\n  fast: %.300s\n  slow: %.300s\n", k,
				f + line, g + line);
		}
		CHECK(flen == slen && memcmp(f, g, flen) == 0);
	}
	free(f);
	free(g);
	free(r);
	nfm_columns_free(&fast);
	nfm_columns_free(&slow);
	rm_tree(dir);
}

NFM_TEST(test_csv)
{
	char dir[512];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	if (!dir[0])
		return;
	struct nfm_columns cols = { 0 };
	nfm_columns_select(&cols, NFM_SET_BASE | NFM_SET_MERGE, test_layout());
	struct nfm_flow_record r[3];
	r[0] = v4rec(NFM_IPPROTO_TCP, 0x0a000001, 1234, 0x0a000002, 80);
	r[0].source_file = "=cmd|' /C calc'!A0,\"x\"";
	r[1] = v4rec(NFM_IPPROTO_UDP, 0x0a000001, 53, 0x0a000002, 53);
	r[1].source_file = "-plain";
	r[2] = v4rec(NFM_IPPROTO_UDP, 0x0a000001, 53, 0x0a000002, 53);
	r[2].source_file = "two\nlines";
	size_t len;
	char *out = export_to(dir, "flows.csv", "csv", &cols, r, 3, &len);
	CHECK(out != NULL);
	if (out) {
		/* 1 header + 3 rows, one with an embedded newline */
		size_t nl = 0;
		for (size_t i = 0; i < len; i++)
			nl += out[i] == '\n';
		CHECK_EQ_U(nl, 5);
		CHECK(memchr(out, '\r', len) == NULL);
		char *l1 = out, *l2 = strchr(l1, '\n');
		CHECK(l2 != NULL);
		if (l2) {
			*l2++ = '\0';
			CHECK(strncmp(l1, "flow_id,src_ip,dst_ip,src_port", 30) == 0);
			CHECK(strlen(l1) > 16 && strcmp(l1 + strlen(l1) - 29, ",connection_state,source_file") == 0);
			char *l3 = strchr(l2, '\n');
			CHECK(l3 != NULL);
			if (l3) {
				*l3++ = '\0';
				CHECK(strncmp(l2, "10.0.0.1:1234 <-> 10.0.0.2:80 TCP,10.0.0.1,10.0.0.2,1234,80,TCP,"
					      "2024-01-31T23:59:59.123456Z,2024-02-01T00:00:00.623456Z,1.500000,5,3,2,True,1.5000,",
					      strlen("10.0.0.1:1234 <-> 10.0.0.2:80 TCP,10.0.0.1,10.0.0.2,1234,80,TCP,"
						     "2024-01-31T23:59:59.123456Z,2024-02-01T00:00:00.623456Z,1.500000,5,3,2,True,1.5000,")) == 0);
				const char *want = ",\"'=cmd|' /C calc'!A0,\"\"x\"\"\"";
				CHECK(strlen(l2) > strlen(want) &&
				      strcmp(l2 + strlen(l2) - strlen(want), want) == 0);
				/* TCP without flags or state: empty cells; then the counts */
				CHECK(strstr(l2, ",,0,0,0,0,,") != NULL);
				char *l4 = strchr(l3, '\n');
				CHECK(l4 != NULL);
				if (l4) {
					*l4++ = '\0';
					CHECK(strlen(l3) > 8 && strcmp(l3 + strlen(l3) - 8, ",'-plain") == 0);
					CHECK_STR(l4 + strlen(l4) - 13, ",\"two\nlines\"\n");
				}
			}
		}
	}
	free(out);
	CHECK_EQ_U(count_entries(dir), 1); /* no temporary left behind */

	/* empty: header only */
	nfm_columns_select(&cols, NFM_SET_BASE, test_layout());
	out = export_to(dir, "empty.csv", "csv", &cols, NULL, 0, &len);
	CHECK(out != NULL);
	if (out) {
		CHECK_EQ_U(len, strlen(out));
		CHECK(len > 0 && out[len - 1] == '\n' && strchr(out, '\n') == out + len - 1);
		CHECK(strncmp(out, "flow_id,src_ip,", 15) == 0);
	}
	free(out);
	nfm_columns_free(&cols);
	rm_tree(dir);
}

NFM_TEST(test_json)
{
	char dir[512];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	if (!dir[0])
		return;
	struct nfm_columns cols = { 0 };
	const char *names[] = { "flow_id", "src_port", "forward_backward_ratio", "is_bidirectional",
				"start_time", "source_file" };
	for (size_t i = 0; i < 6; i++)
		CHECK(nfm_columns_add(&cols, nfm_field_find(names[i]), SIZE_MAX) == 0);
	struct nfm_flow_record r[2];
	r[0] = v4rec(NFM_IPPROTO_TCP, 0x0a000001, 1234, 0x0a000002, 80);
	r[0].source_file = "a\"b\\c\n\t\x01\x7f/\xff\xc3\xa9\xe2\x82\xac\xed\xa0\x80\xf0\x9f\x98\x80\xc3";
	r[1] = v4rec(NFM_IPPROTO_UDP, 0x0a000001, 53, 0x0a000002, 53);
	r[1].pkts[1] = 0;
	size_t len;
	char *out = export_to(dir, "flows.json", "json", &cols, r, 2, &len);
	const char *o1 = "{\"flow_id\":\"10.0.0.1:1234 <-> 10.0.0.2:80 TCP\",\"src_port\":1234,"
			 "\"forward_backward_ratio\":1.5000,\"is_bidirectional\":true,"
			 "\"start_time\":\"2024-01-31T23:59:59.123456Z\","
			 "\"source_file\":\"a\\\"b\\\\c\\n\\t\\u0001\x7f/\\u00ff\xc3\xa9\xe2\x82\xac"
			 "\\u00ed\\u00a0\\u0080\xf0\x9f\x98\x80\\u00c3\"}";
	const char *o2 = "{\"flow_id\":\"10.0.0.1:53 <-> 10.0.0.2:53 UDP\",\"src_port\":53,"
			 "\"forward_backward_ratio\":null,\"is_bidirectional\":false,"
			 "\"start_time\":\"2024-01-31T23:59:59.123456Z\",\"source_file\":null}";
	char want[2048];
	snprintf(want, sizeof want, "[\n%s,\n%s\n]\n", o1, o2);
	CHECK(out != NULL);
	if (out) {
		CHECK_STR(out, want);
		CHECK(json_valid(out));
	}
	free(out);

	out = export_to(dir, "flows.jsonl", "jsonl", &cols, r, 2, &len);
	snprintf(want, sizeof want, "%s\n%s\n", o1, o2);
	CHECK(out != NULL);
	if (out) {
		CHECK_STR(out, want);
		char *nl = strchr(out, '\n');
		if (nl) {
			*nl = '\0';
			CHECK(json_valid(out));
			CHECK(json_valid(nl + 1));
		}
	}
	free(out);

	/* every column, many flow kinds: a valid document with 42 keys per object */
	nfm_columns_select(&cols, NFM_SET_BASE | NFM_SET_MERGE | NFM_SET_EXT, test_layout());
	struct nfm_flow_record k[3];
	k[0] = r[0];
	k[0].tcp_flags = 0x12;
	k[0].conn_state = NFM_CONN_MID_STREAM;
	k[1] = v4rec(0, 0x0a000001, 0, 0x0a000002, 0);
	k[1].l3 = NFM_L3_ARP;
	k[1].last_ns = k[1].first_ns;
	k[2] = v4rec(NFM_IPPROTO_UDP, 1, 2, 3, 4);
	k[2].has_vlan = 1;
	out = export_to(dir, "all.json", "json", &cols, k, 3, &len);
	CHECK(out != NULL);
	if (out) {
		CHECK(json_valid(out));
		CHECK(strstr(out, "inf") == NULL && strstr(out, "nan") == NULL);
		CHECK(strstr(out, "\"src_port\":null") != NULL); /* ARP */
	}
	free(out);

	/* empty outputs */
	out = export_to(dir, "empty.json", "json", &cols, NULL, 0, &len);
	CHECK(out != NULL);
	if (out) {
		CHECK_STR(out, "[]\n");
		CHECK(json_valid(out));
	}
	free(out);
	out = export_to(dir, "empty.jsonl", "jsonl", &cols, NULL, 0, &len);
	CHECK(out != NULL);
	if (out)
		CHECK_EQ_U(len, 0);
	free(out);
	CHECK_EQ_U(count_entries(dir), 5);
	nfm_columns_free(&cols);
	rm_tree(dir);
}

/* ---- XLSX: test columns with chosen values, picked by the record's seq ---- */

struct xl_val {
	enum nfm_value_type t;
	uint64_t u;
	double f;
};

#define XL_N 8
static const struct xl_val xl_u64[XL_N] = {
	{ NFM_V_U64, 0, 0 }, { NFM_V_U64, 1, 0 }, { NFM_V_U64, 9007199254740993ULL, 0 },
	{ NFM_V_U64, UINT64_MAX, 0 }, { NFM_V_NULL, 0, 0 }, { NFM_V_U64, 1000000, 0 },
	{ NFM_V_U64, 42, 0 }, { NFM_V_U64, 4294967296ULL, 0 },
};
static const struct xl_val xl_f64[XL_N] = {
	{ NFM_V_F64, 0, 0.0 }, { NFM_V_F64, 0, 1.5 }, { NFM_V_F64, 0, -2.25 },
	{ NFM_V_F64, 0, 123456.789012 }, { NFM_V_F64, 0, 1e-7 }, { NFM_V_F64, 0, 1e300 },
	{ NFM_V_NULL, 0, 0 }, { NFM_V_F64, 0, -1e-9 },
};
static const struct xl_val xl_bool[XL_N] = {
	{ NFM_V_BOOL, 1, 0 }, { NFM_V_BOOL, 0, 0 }, { NFM_V_NULL, 0, 0 }, { NFM_V_BOOL, 1, 0 },
	{ NFM_V_BOOL, 0, 0 }, { NFM_V_BOOL, 1, 0 }, { NFM_V_BOOL, 0, 0 }, { NFM_V_NULL, 0, 0 },
};
static const struct xl_val xl_time[XL_N] = {
	{ NFM_V_TIME, 0, 0 },                       /* 1970-01-01 */
	{ NFM_V_TIME, 1706745599123456789ULL, 0 },  /* 2024-01-31T23:59:59.123456 */
	{ NFM_V_TIME, 951782400000000000ULL, 0 },   /* 2000-02-29 */
	{ NFM_V_TIME, 4102444799999999999ULL, 0 },  /* 2099-12-31T23:59:59.999999 */
	{ NFM_V_TIME, 1706745599000500000ULL, 0 },  /* half a millisecond */
	{ NFM_V_NULL, 0, 0 },
	{ NFM_V_TIME, 1700000000000000000ULL, 0 },  /* whole seconds */
	{ NFM_V_TIME, 86399999999000ULL, 0 },       /* the last microsecond of a day */
};

static void xl_put(const struct xl_val *tab, const struct nfm_flow_record *r, struct nfm_value *v)
{
	const struct xl_val *x = &tab[(r->seq - 1) % XL_N];
	v->type = x->t;
	v->u = x->u;
	v->f = x->f;
	v->b = x->u != 0;
	v->s = NULL;
}

static void get_xl_u64(const struct nfm_flow_record *r, const void *st, struct nfm_value *v) { (void)st; xl_put(xl_u64, r, v); }
static void get_xl_f64(const struct nfm_flow_record *r, const void *st, struct nfm_value *v) { (void)st; xl_put(xl_f64, r, v); }
static void get_xl_bool(const struct nfm_flow_record *r, const void *st, struct nfm_value *v) { (void)st; xl_put(xl_bool, r, v); }
static void get_xl_time(const struct nfm_flow_record *r, const void *st, struct nfm_value *v) { (void)st; xl_put(xl_time, r, v); }

/* The record's source_file, NULL as a NULL cell. */
static void get_xl_str(const struct nfm_flow_record *r, const void *st, struct nfm_value *v)
{
	(void)st;
	v->type = r->source_file ? NFM_V_STR : NFM_V_NULL;
	v->s = r->source_file;
}

static const struct nfm_field xl_fields[] = {
	{ "t_str", NFM_V_STR, 0, 0, "", "test text", get_xl_str },
	{ "t_u64", NFM_V_U64, 0, 0, "", "test integer", get_xl_u64 },
	{ "t_f64", NFM_V_F64, 3, 0, "", "test double, 3 decimals", get_xl_f64 },
	{ "t_f64_6", NFM_V_F64, 6, 0, "", "test double, 6 decimals", get_xl_f64 },
	{ "t_bool", NFM_V_BOOL, 0, 0, "", "test boolean", get_xl_bool },
	{ "t_time", NFM_V_TIME, 0, 0, "", "test time", get_xl_time },
};

/* Texts for t_str (and source_file): formula-like, control characters, bytes that are
 * not UTF-8, XML specials, Excel's _xHHHH_ escapes, white space, non-characters. */
static const char *const xl_texts[] = {
	"plain text",
	"=HYPERLINK(\"http://x\")\x01\xff",
	"+1+2", "-3", "@SUM(A1)", "\tlead tab", "\rlead cr",
	"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e",
	"caf\xe9 \xff\xfe \xe2\x82 \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80",
	"a\x01" "b\x1f c\x7f\x0b",
	"<a href=\"x\">&amp;</a> 'q' ]]>",
	"_x0041_ _x00e9_ _x12G4_ __x0041__ _x004 _X0041_",
	"  padded  ",
	"line1\nline2\r\nline3\r",
	"\xef\xbf\xbe\xef\xbf\xbf end \xef\xbf\xbd",
	"\x01 starts with a control character",
	"",
	NULL,
};

static void hex_line(FILE *fp, size_t row, size_t col, const char *kind, const char *s, size_t n)
{
	fprintf(fp, "%zu %zu %s ", row, col, kind);
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%02x", (unsigned char)s[i]);
	fputc('\n', fp);
}

/* What every cell of the sheet must hold, for xlsx_check.py cells. */
static bool write_expect(const char *path, const struct nfm_columns *cols,
			 const struct nfm_flow_record *recs, size_t n)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return false;
	for (size_t c = 0; c < cols->n; c++)
		hex_line(fp, 1, c + 1, "str", cols->f[c]->name, strlen(cols->f[c]->name));
	struct nfm_value v;
	char buf[512];
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < cols->n; c++) {
			memset(&v, 0, sizeof v);
			nfm_column_get(cols, c, &recs[i], &v);
			switch (v.type) {
			case NFM_V_ADDR: /* typed values a text cell shows as their text */
			case NFM_V_PROTO:
			case NFM_V_TCPFLAGS:
				nfm_value_format(&v, 0, buf, sizeof buf);
				hex_line(fp, i + 2, c + 1, "str", buf, strlen(buf));
				break;
			case NFM_V_NULL:
				fprintf(fp, "%zu %zu null\n", i + 2, c + 1);
				break;
			case NFM_V_STR:
				hex_line(fp, i + 2, c + 1, "str", v.s ? v.s : "", v.s ? strlen(v.s) : 0);
				break;
			case NFM_V_BOOL:
				hex_line(fp, i + 2, c + 1, "bool", v.b ? "1" : "0", 1);
				break;
			case NFM_V_TIME:
				snprintf(buf, sizeof buf, "%" PRIu64, v.u);
				hex_line(fp, i + 2, c + 1, "time", buf, strlen(buf));
				break;
			default:
				nfm_value_format(&v, cols->f[c]->precision, buf, sizeof buf);
				hex_line(fp, i + 2, c + 1, v.type == NFM_V_U64 ? "u64" : "f64", buf,
					 strlen(buf));
				break;
			}
		}
	}
	return fclose(fp) == 0;
}

NFM_TEST(test_xlsx)
{
	char dir[512], path[1024], expect[1024];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	if (!dir[0])
		return;
	/* Every real column, then the test columns: 48 columns (two-letter references). */
	struct nfm_columns cols = { 0 };
	nfm_columns_select(&cols, NFM_SET_BASE | NFM_SET_MERGE | NFM_SET_EXT, test_layout());
	for (size_t i = 0; i < sizeof xl_fields / sizeof xl_fields[0]; i++)
		CHECK(nfm_columns_add(&cols, &xl_fields[i], SIZE_MAX) == 0);
	/* Long texts: 30,000 escaped characters span several output buffers; 40,000
	 * characters are cut at Excel's 32,767 UTF-16 units, where a 4-byte character
	 * counts as 2: it fits in the last two units, not in the last one. */
	size_t nt = sizeof xl_texts / sizeof xl_texts[0];
	char *longs[3] = { malloc(30001), malloc(40001), malloc(40001) };
	CHECK(longs[0] && longs[1] && longs[2]);
	if (!longs[0] || !longs[1] || !longs[2]) {
		for (int k = 0; k < 3; k++)
			free(longs[k]);
		rm_tree(dir);
		return;
	}
	for (size_t i = 0; i < 30000; i++)
		longs[0][i] = "&<>_x0041_\x01\xe9"[i % 12];
	longs[0][30000] = '\0';
	for (int k = 1; k < 3; k++) {
		memset(longs[k], 'a', 40000);
		memcpy(longs[k] + 32764 + k, "\xf0\x9d\x84\x9e", 4); /* units 32766-32767, 32767-32768 */
		longs[k][40000] = '\0';
	}
	struct nfm_flow_record r[sizeof xl_texts / sizeof xl_texts[0] + 3];
	size_t n = 0;
	for (size_t i = 0; i < nt + 3; i++, n++) {
		r[i] = v4rec(i % 3 ? NFM_IPPROTO_TCP : NFM_IPPROTO_UDP, 0x0a000001 + (uint32_t)i,
			     (uint16_t)(1000 + i), 0x0a000002, 80);
		if (i % 4 == 3)
			r[i].l3 = NFM_L3_ARP; /* NULL ports and more */
		r[i].tcp_flags = (uint8_t)(i * 7);
		r[i].seq = i + 1;
		r[i].source_file = i < nt ? xl_texts[i] : longs[i - nt];
	}
	size_t len;
	char *out = export_to(dir, "flows.xlsx", "xlsx", &cols, r, n, &len);
	CHECK(out != NULL);
	if (out)
		CHECK(len > 100 && out[0] == 'P' && out[1] == 'K');
	free(out);
	CHECK_EQ_U(count_entries(dir), 1);
	snprintf(path, sizeof path, "%s/flows.xlsx", dir);
	const char *py = nfm_python(false);
	CHECK(nfm_pycheck(py, "zip", path, NULL));
	CHECK(nfm_pycheck(py, "parts", path, "1"));
	CHECK(nfm_pycheck(py, "rows", path, "22"));
	const char *pyx = nfm_python(true);
	snprintf(expect, sizeof expect, "%s/expect.txt", dir);
	if (!pyx) {
		printf("skip: no python3 with openpyxl (python3-openpyxl): cell values not read back\n");
	} else {
		CHECK(write_expect(expect, &cols, r, n));
		CHECK(nfm_pycheck(pyx, "cells", path, expect));
		unlink(expect);
	}
	for (int k = 0; k < 3; k++)
		free(longs[k]);

	/* empty workbook: header only, still a valid file */
	out = export_to(dir, "empty.xlsx", "xlsx", &cols, NULL, 0, &len);
	CHECK(out != NULL && len > 2 && out[0] == 'P' && out[1] == 'K');
	free(out);
	snprintf(path, sizeof path, "%s/empty.xlsx", dir);
	CHECK(nfm_pycheck(py, "zip", path, NULL));
	CHECK(nfm_pycheck(py, "parts", path, "1"));
	CHECK(nfm_pycheck(py, "rows", path, "1"));

	/* same records, same bytes (no time stamps in the file) */
	char *a = export_to(dir, "a.xlsx", "xlsx", &cols, r, 3, &len);
	size_t len_b;
	char *b = export_to(dir, "b.xlsx", "xlsx", &cols, r, 3, &len_b);
	CHECK(a && b && len == len_b && memcmp(a, b, len) == 0);
	free(a);
	free(b);

	/* abort: nothing under the final name, no temporary left */
	struct nfm_exporter *ex = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	snprintf(path, sizeof path, "%s/aborted.xlsx", dir);
	CHECK(nfm_exporter_open(&ex, nfm_exporter_find("xlsx"), &(struct nfm_export_dest){ .path = path, .set = set }, &cols, &err) == 0);
	if (ex) {
		CHECK(nfm_exporter_write(ex, &r[0], &err) == 0);
		CHECK(!exists(path));
		nfm_exporter_abort(ex);
	}
	nfm_outset_free(set);
	CHECK(!exists(path));
	CHECK_EQ_U(count_entries(dir), 4);

	/* standard output is refused with a clear error */
	ex = NULL;
	set = nfm_outset_new(NULL, NULL);
	CHECK(nfm_exporter_open(&ex, nfm_exporter_find("xlsx"), &(struct nfm_export_dest){ .path = "-", .set = set }, &cols, &err) == NFM_ERR_INVALID);
	CHECK(ex == NULL);
	CHECK(strstr(err.msg, "standard output") != NULL);

	/* unwritable destination: an error naming the file */
	CHECK(nfm_exporter_open(&ex, nfm_exporter_find("xlsx"), &(struct nfm_export_dest){ .path = "no/such/dir/x.xlsx", .set = set }, &cols, &err) != 0);
	CHECK(strstr(err.msg, "no/such/dir/x.xlsx") != NULL);
	nfm_outset_free(set);

	/* a full device: the error names the file and says why */
	if (access("/dev/full", W_OK) == 0) {
		ex = NULL;
		set = nfm_outset_new(NULL, NULL);
		nfm_error_clear(&err);
		int rc = nfm_exporter_open(&ex, nfm_exporter_find("xlsx"), &(struct nfm_export_dest){ .path = "/dev/full", .set = set }, &cols, &err);
		for (int i = 0; rc == 0 && i < 200000; i++)
			rc = nfm_exporter_write(ex, &r[i % 4], &err);
		if (rc == 0)
			rc = nfm_exporter_close(ex, &err);
		else
			nfm_exporter_abort(ex);
		CHECK(rc == NFM_ERR_IO);
		CHECK(strstr(err.msg, "/dev/full: write failed: ") != NULL);
		nfm_outset_free(set);
	}
	nfm_columns_free(&cols);
	rm_tree(dir);
}

NFM_TEST(test_xlsx_sheet_rollover)
{
	char dir[512];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	if (!dir[0])
		return;
	/* One narrow column keeps this quick: 1,048,575 rows fill "flows", one more starts
	 * "flows_2". */
	struct nfm_columns cols = { 0 };
	CHECK(nfm_columns_add(&cols, nfm_field_find("total_packets"), SIZE_MAX) == 0);
	char path[1024];
	snprintf(path, sizeof path, "%s/big.xlsx", dir);
	struct nfm_exporter *ex = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	CHECK(nfm_exporter_open(&ex, nfm_exporter_find("xlsx"), &(struct nfm_export_dest){ .path = path, .set = set }, &cols, &err) == 0);
	if (!ex) {
		nfm_outset_free(set);
		rm_tree(dir);
		return;
	}
	struct nfm_flow_record r = v4rec(NFM_IPPROTO_UDP, 1, 2, 3, 4);
	int rc = 0;
	for (uint64_t i = 0; i < 1048576 && rc == 0; i++)
		rc = nfm_exporter_write(ex, &r, &err);
	CHECK(rc == 0);
	CHECK_EQ_U(nfm_exporter_rows(ex), 1048576);
	CHECK(nfm_exporter_close(ex, &err) == 0);
	CHECK(nfm_outset_commit(set, &err) == 0);
	nfm_outset_free(set);
	const char *py = nfm_python(false);
	CHECK(nfm_pycheck(py, "zip", path, NULL));
	CHECK(nfm_pycheck(py, "parts", path, "2"));
	/* header + 1,048,575 rows, then header + the one row left */
	CHECK(nfm_pycheck(py, "rows", path, "1048576 2"));
	nfm_columns_free(&cols);
	rm_tree(dir);
}

NFM_TEST(test_csv_stdout_and_errors)
{
	struct nfm_columns cols = { 0 };
	nfm_columns_select(&cols, NFM_SET_BASE, test_layout());
	struct nfm_exporter *ex = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	CHECK(nfm_exporter_open(&ex, nfm_exporter_find("csv"), &(struct nfm_export_dest){ .path = "no/such/dir/x.csv", .set = set }, &cols, &err) != 0);
	CHECK(ex == NULL);
	CHECK(strstr(err.msg, "no/such/dir/x.csv") != NULL);
	nfm_exporter_abort(NULL); /* NULL is fine */
	struct nfm_columns none = { .n = 0 };
	CHECK(nfm_exporter_open(&ex, nfm_exporter_find("csv"), &(struct nfm_export_dest){ .path = "x.csv", .set = set }, &none, &err) == NFM_ERR_INVALID);
	nfm_outset_free(set);
	nfm_columns_free(&cols);
}

NFM_TEST(test_preview)
{
	struct nfm_flow_record r[3];
	r[0] = v4rec(NFM_IPPROTO_TCP, 0x0a000001, 1234, 0x0a000002, 80);
	r[0].conn_state = NFM_CONN_ESTABLISHED;
	r[1] = v4rec(0, 0x0a000001, 0, 0x0a000002, 0);
	r[1].l3 = NFM_L3_ARP;
	r[2] = v4rec(NFM_IPPROTO_UDP, 0x0a000001, 53, 0x0a000002, 53);
	r[2].l3 = NFM_L3_IPV6;
	memset(r[2].src, 0, 16);
	r[2].src[0] = 0xfe, r[2].src[1] = 0x80, r[2].src[15] = 1;
	char dir[512];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	if (!dir[0])
		return;
	struct nfm_columns cols = { 0 };
	nfm_columns_select(&cols, NFM_SET_BASE, test_layout());
	size_t len = 0;
	char *buf = export_to(dir, "preview.txt", "preview", &cols, r, 3, &len);
	CHECK(buf != NULL);
	if (!buf) {
		rm_tree(dir);
		return;
	}
	int lines = 0;
	size_t width = 0;
	for (char *s = buf, *e; s && *s; s = e + 1) {
		e = strchr(s, '\n');
		if (!e)
			break;
		CHECK(e > s && e[-1] != ' '); /* non-empty, no trailing space */
		if (lines == 0) {
			CHECK(strncmp(s, "src_ip", 6) == 0);
			CHECK(strstr(s, "connection_state") != NULL);
			width = (size_t)(e - s);
		}
		if (lines == 1) {
			CHECK(strspn(s, "-") == (size_t)(e - s));
			CHECK(strspn(s, "-") == width); /* the header ends with a text column */
		}
		lines++;
	}
	CHECK_EQ_U(lines, 5);
	CHECK(strstr(buf, "fe80::1") != NULL);
	CHECK(strstr(buf, "established") != NULL);
	/* numbers right-aligned: "total_packets" header ends where "5" ends */
	char *h = strstr(buf, "total_packets");
	char *row = strchr(buf, '\n');
	row = row ? strchr(row + 1, '\n') : NULL;
	if (h && row) {
		size_t col_end = (size_t)(h - buf) + strlen("total_packets") - 1;
		CHECK(row[1 + col_end] == '5');
	}
	free(buf);

	/* no records: header and rule only */
	buf = export_to(dir, "empty.txt", "preview", &cols, NULL, 0, &len);
	CHECK(buf != NULL);
	if (buf) {
		int nl = 0;
		for (size_t i = 0; i < len; i++)
			nl += buf[i] == '\n';
		CHECK_EQ_U(nl, 2);
	}
	free(buf);
	nfm_columns_free(&cols);
	rm_tree(dir);
}

/* docs/columns.md holds exactly what the field table generates (make docs). */
NFM_TEST(test_columns_doc)
{
	size_t len;
	char *doc = read_all("docs/columns.md", &len);
	if (!doc) {
		printf("skip: docs/columns.md not found (run from the project root)\n");
		return;
	}
	static const char begin[] = "<!-- columns:begin -->\n";
	const char *b = strstr(doc, begin);
	const char *e = strstr(doc, "<!-- columns:end -->");
	CHECK(b && e && b < e);
	char *gen = NULL;
	size_t glen = 0;
	FILE *fp = open_memstream(&gen, &glen);
	CHECK(fp && nfm_columns_doc(fp) == 0);
	if (fp)
		fclose(fp);
	if (b && e && b < e && gen) {
		b += strlen(begin);
		bool same = (size_t)(e - b) == glen && memcmp(b, gen, glen) == 0;
		if (!same)
			fprintf(stderr, "docs/columns.md is stale: run make docs\n");
		CHECK(same);
	}
	free(gen);
	free(doc);
}

NFM_TEST_MAIN_BEGIN()
	RUN(test_base_names);
	RUN(test_values_basic);
	RUN(test_tcp_fields);
	RUN(test_flow_id_variants);
	RUN(test_value_format);
	RUN(test_format_f64_vs_printf);
	RUN(test_format_u64_vs_printf);
	RUN(test_format_time_vs_gmtime);
	RUN(test_format_addr_vs_inet_ntop);
	RUN(test_format_flow_id_and_truncation);
	RUN(test_formats);
	RUN(test_csv_fast_paths);
	RUN(test_csv_base_row_vs_generic);
	RUN(test_csv);
	RUN(test_json);
	RUN(test_xlsx);
	RUN(test_xlsx_sheet_rollover);
	RUN(test_csv_stdout_and_errors);
	RUN(test_preview);
	RUN(test_columns_doc);
NFM_TEST_MAIN_END()
