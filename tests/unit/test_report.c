/* Analysis report: accounting line, protocol counts, top talkers / flows, distributions,
 * JSON validity and escaping, atomic save. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode/decode.h"
#include "nfm_test.h"
#include "report/report.h"

#define S(x) ((uint64_t)(x) * 1000000000ULL)
#define T0 S(1700000000) /* 2023-11-14T22:13:20Z */

/* ------------------------------------------------------------------ helpers */

static char *render(const struct nfm_report *rep, int json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp)
		return NULL;
	int rc = json ? nfm_report_write_json(rep, fp) : nfm_report_write_text(rep, fp);
	fclose(fp);
	if (rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int have_python(void)
{
	return system("python3 -c 'pass' >/dev/null 2>&1") == 0;
}

/* Runs a python expression over the parsed JSON (variable d); 1 if it holds, 0 if not,
 * -1 when python3 is missing. */
static int json_check(const struct nfm_report *rep, const char *expr)
{
	if (!have_python())
		return -1;
	char jpath[] = "/tmp/nfm_test_report_XXXXXX.json";
	char ppath[] = "/tmp/nfm_test_report_XXXXXX.py";
	int jfd = mkstemps(jpath, 5), pfd = mkstemps(ppath, 3);
	FILE *jf = jfd >= 0 ? fdopen(jfd, "w") : NULL;
	FILE *pf = pfd >= 0 ? fdopen(pfd, "w") : NULL;
	int ok = 0;
	if (jf && pf) {
		nfm_report_write_json(rep, jf);
		fprintf(pf, "import json, sys\n"
			    "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
			    "sys.exit(0 if (%s) else 1)\n", expr);
	}
	if (jf)
		fclose(jf);
	else if (jfd >= 0)
		close(jfd);
	if (pf)
		fclose(pf);
	else if (pfd >= 0)
		close(pfd);
	if (jf && pf) {
		char cmd[256];
		snprintf(cmd, sizeof cmd, "python3 %s %s", ppath, jpath);
		ok = system(cmd) == 0;
	}
	if (jfd >= 0)
		unlink(jpath);
	if (pfd >= 0)
		unlink(ppath);
	return ok;
}

#define CHECK_JSON(rep, expr) \
	do { \
		int r_ = json_check((rep), (expr)); \
		if (r_ < 0) { \
			fprintf(stderr, "note: python3 missing, JSON check skipped\n"); \
		} else if (r_ != 1) { \
			fprintf(stderr, "FAIL %s: %s:%d: JSON check: %s\n", nfm_t_->cur, __FILE__, \
				__LINE__, (expr)); \
			nfm_t_->cur_failed++; \
		} \
	} while (0)

static struct nfm_flow_record flow(uint8_t l3, uint8_t proto, uint32_t src, uint16_t sp,
				   uint32_t dst, uint16_t dp, uint64_t fwd_bytes,
				   uint64_t bwd_bytes, uint64_t pkts, uint64_t dur_ns)
{
	struct nfm_flow_record r;
	memset(&r, 0, sizeof r);
	r.l3 = l3;
	r.ip_proto = proto;
	for (int i = 0; i < 4; i++) {
		r.src[i] = (uint8_t)(src >> (24 - 8 * i));
		r.dst[i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	r.src_port = sp;
	r.dst_port = dp;
	r.bytes[0] = fwd_bytes;
	r.bytes[1] = bwd_bytes;
	r.pkts[0] = pkts - pkts / 2;
	r.pkts[1] = pkts / 2;
	r.first_ns = T0;
	r.last_ns = T0 + dur_ns;
	r.end_reason = NFM_END_IDLE;
	return r;
}

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* Balanced counters: 100 packets in every category combination that sums exactly. */
static struct nfm_counters balanced(void)
{
	struct nfm_counters c;
	memset(&c, 0, sizeof c);
	c.flow_packets = 70;
	c.nonip[NFM_NONIP_LLDP] = 5;
	c.nonip[NFM_NONIP_LLC] = 3;
	c.decode_status[NFM_DECODE_NONIP] = 8;
	c.decode_status[NFM_DECODE_OK] = 80;
	c.decode_status[NFM_DECODE_TRUNCATED] = 4;
	c.decode_status[NFM_DECODE_MALFORMED] = 2;
	c.decode_status[NFM_DECODE_UNSUPPORTED] = 1;
	c.filtered = 6;
	c.over_max_flows = 3;
	c.fragments_unmatched = 1;
	c.packets = 70 + 8 + 4 + 2 + 1 + 6 + 3 + 1;
	c.wire_bytes = 12345;
	c.fragments = 9;
	c.l4_truncated = 7;
	c.ts_backwards = 2;
	c.flows_created = 5;
	c.flows_written = 5;
	c.flows_by_reason[NFM_END_IDLE] = 3;
	c.flows_by_reason[NFM_END_EOF] = 2;
	c.peak_active_flows = 4;
	c.first_ts_ns = T0;
	c.last_ts_ns = T0 + S(10);
	return c;
}

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ tests */

NFM_TEST(test_accounted_yes)
{
	struct nfm_report *rep = nfm_report_new();
	CHECK(rep != NULL);
	struct nfm_counters c = balanced();
	struct nfm_source_stats s = { .records = 100, .caplen_fixed = 1, .ts_fixed = 2,
				      .blocks_skipped = 3, .bad_interface = 4 };
	nfm_report_add_input(rep, "a.pcap", "pcap", &c, &s, "");
	char *t = render(rep, 0);
	CHECK(t != NULL);
	if (t) {
		CHECK(has_line(t, "accounted: yes"));
		CHECK(!strstr(t, "accounted: no"));
		CHECK(strstr(t, "LLDP") != NULL);
		CHECK(strstr(t, "2023-11-14T22:13:20.000000Z") != NULL);
		CHECK(strstr(t, "2023-11-14T22:13:30.000000Z") != NULL);
		CHECK(strstr(t, "10.000000 s") != NULL);
	}
	free(t);
	CHECK_JSON(rep, "d['packets']['accounted'] is True and d['packets']['difference'] == 0"
			" and d['packets']['read'] == 95 and d['packets']['nonip'] == 8"
			" and d['source_anomalies']['bad_interface'] == 4"
			" and d['inputs'][0]['accounting']['accounted'] is True"
			" and d['inputs'][0]['first_packet'] == '2023-11-14T22:13:20.000000Z'"
			" and d['inputs'][0]['status'] == 'ok'");
	nfm_report_free(rep);
}

NFM_TEST(test_accounted_no)
{
	struct nfm_report *rep = nfm_report_new();
	struct nfm_counters c = balanced();
	c.packets += 3; /* three packets landed nowhere */
	nfm_report_add_input(rep, "a.pcap", "pcap", &c, &(struct nfm_source_stats){ 0 }, "");
	char *t = render(rep, 0);
	CHECK(t && has_line(t, "accounted: no (difference 3)"));
	CHECK(t && !has_line(t, "accounted: yes"));
	free(t);
	CHECK_JSON(rep, "d['packets']['accounted'] is False and d['packets']['difference'] == 3");
	nfm_report_free(rep);

	/* Counted twice: negative difference. */
	rep = nfm_report_new();
	c = balanced();
	c.packets -= 2;
	nfm_report_add_input(rep, "b.pcap", "pcap", &c, NULL, "");
	t = render(rep, 0);
	CHECK(t && has_line(t, "accounted: no (difference -2)"));
	free(t);
	CHECK_JSON(rep, "d['packets']['accounted'] is False and d['packets']['difference'] == -2");
	nfm_report_free(rep);
}

NFM_TEST(test_inputs_summed)
{
	struct nfm_report *rep = nfm_report_new();
	struct nfm_counters c1 = balanced(), c2 = balanced();
	c2.first_ts_ns = T0 - S(5);
	c2.last_ts_ns = T0 + S(3);
	c2.peak_active_flows = 9;
	nfm_report_add_input(rep, "one.pcap", "pcap", &c1, NULL, "");
	nfm_report_add_input(rep, "two.pcapng", "pcapng+gzip", &c2, NULL,
			     "two.pcapng: capture is truncated at offset 4096");
	/* A failed open: zero counters, empty format. */
	nfm_report_add_input(rep, "missing.pcap", "", &(struct nfm_counters){ 0 },
			     &(struct nfm_source_stats){ 0 }, "missing.pcap: No such file or directory");
	char *t = render(rep, 0);
	CHECK(t && has_line(t, "accounted: yes"));
	char line[128];
	snprintf(line, sizeof line, "%-34s %15llu", "packets read", 190ULL);
	CHECK(t && has_line(t, line));
	CHECK(t && strstr(t, "capture is truncated at offset 4096"));
	CHECK(t && strstr(t, "15.000000 s")); /* all inputs: T0-5 .. T0+10 */
	free(t);
	CHECK_JSON(rep, "len(d['inputs']) == 3 and d['packets']['read'] == 190"
			" and d['flows']['peak_active'] == 9 and d['flows']['created'] == 10"
			" and d['inputs'][1]['clean'] is False and d['inputs'][2]['format'] == ''"
			" and d['capture']['duration_s'] == 15.0");
	nfm_report_free(rep);
}

/* Tunnel payloads not followed, by kind: listed under the packet accounting (text) and
 * in the JSON accounting, summed over inputs; kinds beyond the 16 lowest are "other". */
NFM_TEST(test_tunnel_payload_kinds)
{
	struct nfm_report *rep = nfm_report_new();
	struct nfm_counters c1 = balanced(), c2 = balanced();
	const uint32_t gre = (uint32_t)NFM_TUNNEL_GRE << 18, vxlan = (uint32_t)NFM_TUNNEL_VXLAN << 18;
	c1.tunnel_opaque = 7;
	nfm_opaque_add(c1.opaque, gre | 0x8200, 5);            /* Aruba 802.11 over GRE */
	nfm_opaque_add(c1.opaque, gre | 1u << 16 | 0xc021, 2); /* PPTP LCP */
	c2.tunnel_opaque = 3 + 16 + 4;
	nfm_opaque_add(c2.opaque, gre | 0x8200, 3);
	for (uint32_t k = 0; k < 16; k++)
		nfm_opaque_add(c2.opaque, vxlan | k, 1);
	nfm_opaque_add(c2.opaque, (uint32_t)NFM_TUNNEL_ERSPAN << 18 | 0x0806, 4);
	nfm_report_add_input(rep, "a.pcap", "pcap", &c1, NULL, "");
	nfm_report_add_input(rep, "b.pcap", "pcap", &c2, NULL, "");
	char *t = render(rep, 0);
	char line[128];
	snprintf(line, sizeof line, "%-34s %15llu", "tunnel payload not followed", 30ULL);
	CHECK(t && has_line(t, line));
	snprintf(line, sizeof line, "%-34s %15llu", "  gre 0x8200", 8ULL);
	CHECK(t && has_line(t, line));
	snprintf(line, sizeof line, "%-34s %15llu", "  gre ppp 0xc021", 2ULL);
	CHECK(t && has_line(t, line));
	snprintf(line, sizeof line, "%-34s %15llu", "  vxlan 0x000d", 1ULL);
	CHECK(t && has_line(t, line));
	/* 16 kinds are listed: vxlan 0x000e, 0x000f and erspan 0x0806 are "other" */
	CHECK(t && !strstr(t, "vxlan 0x000e") && !strstr(t, "erspan"));
	snprintf(line, sizeof line, "%-34s %15llu", "  other kinds", 6ULL);
	CHECK(t && has_line(t, line));
	CHECK(t && has_line(t, "accounted: yes")); /* not part of the accounting sum */
	free(t);
	CHECK_JSON(rep, "d['packets']['tunnel_not_followed'] == 30"
			" and len(d['packets']['tunnel_not_followed_by_kind']) == 17"
			" and d['packets']['tunnel_not_followed_by_kind']['gre 0x8200'] == 8"
			" and d['packets']['tunnel_not_followed_by_kind']['other'] == 6"
			" and d['inputs'][0]['accounting']['tunnel_not_followed_by_kind']"
			" == {'gre 0x8200': 5, 'gre ppp 0xc021': 2}");
	nfm_report_free(rep);

	rep = nfm_report_new(); /* nothing of the kind: a zero line, no kinds */
	struct nfm_counters c0 = balanced();
	nfm_report_add_input(rep, "c.pcap", "pcap", &c0, NULL, "");
	t = render(rep, 0);
	snprintf(line, sizeof line, "%-34s %15llu", "tunnel payload not followed", 0ULL);
	CHECK(t && has_line(t, line));
	CHECK(t && !strstr(t, "other kinds"));
	free(t);
	CHECK_JSON(rep, "d['packets']['tunnel_not_followed_by_kind'] == {}");
	nfm_report_free(rep);
}

NFM_TEST(test_protocol_counts)
{
	struct nfm_report *rep = nfm_report_new();
	struct nfm_flow_record r;
	for (int i = 0; i < 3; i++) {
		r = flow(NFM_L3_IPV4, NFM_IPPROTO_TCP, IP(10, 0, 0, 1), (uint16_t)(1000 + i),
			 IP(10, 0, 0, 2), 80, 100, 50, 4, S(1));
		r.conn_state = i == 2 ? NFM_CONN_RESET : NFM_CONN_CLOSED;
		nfm_report_add_flow(rep, &r);
	}
	for (int i = 0; i < 2; i++) {
		r = flow(NFM_L3_IPV4, NFM_IPPROTO_UDP, IP(10, 0, 0, 1), 53, IP(10, 0, 0, 3),
			 (uint16_t)(2000 + i), 10, 0, 1, 0);
		nfm_report_add_flow(rep, &r);
	}
	r = flow(NFM_L3_ARP, 0, IP(10, 0, 0, 1), 0, IP(10, 0, 0, 9), 0, 60, 60, 2, 1000);
	nfm_report_add_flow(rep, &r);
	r = flow(NFM_L3_IPV4, NFM_IPPROTO_ICMP, IP(10, 0, 0, 1), 7, IP(10, 0, 0, 9), 7, 84, 84, 2, 1000);
	nfm_report_add_flow(rep, &r);
	r = flow(NFM_L3_IPV4, 47, IP(10, 0, 0, 1), 0, IP(10, 0, 0, 9), 0, 500, 0, 1, 0);
	nfm_report_add_flow(rep, &r);

	char *t = render(rep, 0);
	char line[160];
	snprintf(line, sizeof line, "%-12s %15llu %20llu %24llu", "TCP", 3ULL, 12ULL, 450ULL);
	CHECK(t && has_line(t, line));
	snprintf(line, sizeof line, "%-12s %15llu %20llu %24llu", "UDP", 2ULL, 2ULL, 20ULL);
	CHECK(t && has_line(t, line));
	snprintf(line, sizeof line, "%-12s %15llu %20llu %24llu", "ARP", 1ULL, 2ULL, 120ULL);
	CHECK(t && has_line(t, line));
	snprintf(line, sizeof line, "%-12s %15llu %20llu %24llu", "ICMP", 1ULL, 2ULL, 168ULL);
	CHECK(t && has_line(t, line));
	snprintf(line, sizeof line, "%-12s %15llu %20llu %24llu", "47", 1ULL, 1ULL, 500ULL);
	CHECK(t && has_line(t, line));
	/* TCP first (most flows). */
	CHECK(t && strstr(t, "TCP   ") < strstr(t, "UDP   "));
	snprintf(line, sizeof line, "%-34s %15llu", "closed", 2ULL);
	CHECK(t && has_line(t, line));
	snprintf(line, sizeof line, "%-34s %15llu", "reset", 1ULL);
	CHECK(t && has_line(t, line));
	free(t);
	CHECK_JSON(rep, "[p['protocol'] for p in d['flows']['by_protocol']] == "
			"['TCP','UDP','ICMP','47','ARP']"
			" and d['flows']['by_protocol'][0]['bytes'] == 450"
			" and d['flows']['tcp_states']['closed'] == 2"
			" and d['flows']['tcp_states']['reset'] == 1"
			" and d['flows']['analysed'] == 8");
	nfm_report_free(rep);
}

NFM_TEST(test_top_talkers)
{
	struct nfm_report *rep = nfm_report_new();
	/* 10.0.0.2 sends 5000 (backward of flow 1) + 1000; 10.0.0.1 sends 3000; 10.0.0.3 700. */
	struct nfm_flow_record r = flow(NFM_L3_IPV4, NFM_IPPROTO_TCP, IP(10, 0, 0, 1), 1,
					IP(10, 0, 0, 2), 80, 3000, 5000, 10, S(2));
	nfm_report_add_flow(rep, &r);
	r = flow(NFM_L3_IPV4, NFM_IPPROTO_UDP, IP(10, 0, 0, 2), 5, IP(10, 0, 0, 3), 6, 1000, 700, 2, S(1));
	nfm_report_add_flow(rep, &r);
	char *t = render(rep, 0);
	CHECK(t && strstr(t, "exact (3 distinct sending addresses)"));
	const char *sec = t ? strstr(t, "Top talkers") : NULL;
	CHECK(sec != NULL);
	if (sec) {
		const char *a2 = strstr(sec, " 10.0.0.2\n"), *a1 = strstr(sec, " 10.0.0.1\n"),
			   *a3 = strstr(sec, " 10.0.0.3\n");
		CHECK(a1 && a2 && a3 && a2 < a1 && a1 < a3);
	}
	free(t);
	CHECK_JSON(rep, "[(e['address'], e['bytes']) for e in d['top_talkers']['entries']] == "
			"[('10.0.0.2',6000),('10.0.0.1',3000),('10.0.0.3',700)]"
			" and d['top_talkers']['exact'] is True");
	nfm_report_free(rep);
}

NFM_TEST(test_top_talkers_approximate)
{
	struct nfm_report *rep = nfm_report_new();
	/* Heavy hitters first, then many small distinct senders that overflow the summary,
	 * with the heavy ones sending again in between. */
	for (int round = 0; round < 3; round++) {
		for (uint32_t h = 1; h <= 12; h++) {
			struct nfm_flow_record r = flow(NFM_L3_IPV4, NFM_IPPROTO_TCP, IP(192, 168, 0, h),
							1, IP(8, 8, 8, 8), 443, 1000000u * h, 0, 5, S(1));
			nfm_report_add_flow(rep, &r);
		}
		for (uint32_t i = 0; i < 3000; i++) {
			struct nfm_flow_record r = flow(NFM_L3_IPV4, NFM_IPPROTO_UDP,
							IP(10, (round + 1) & 0xff, i >> 8, i & 0xff), 1,
							IP(8, 8, 4, 4), 53, 100, 0, 1, 0);
			nfm_report_add_flow(rep, &r);
		}
	}
	char *t = render(rep, 0);
	CHECK(t && strstr(t, "approximate:"));
	const char *sec = t ? strstr(t, "Top talkers") : NULL;
	if (sec) {
		const char *prev = sec;
		for (uint32_t h = 12; h >= 3; h--) {
			char a[32];
			snprintf(a, sizeof a, " 192.168.0.%u\n", h);
			const char *p = strstr(sec, a);
			CHECK(p != NULL && p > prev);
			if (p)
				prev = p;
		}
	}
	free(t);
	CHECK_JSON(rep, "d['top_talkers']['exact'] is False"
			" and d['top_talkers']['distinct_tracked'] == 1024"
			" and d['top_talkers']['entries'][0]['address'] == '192.168.0.12'"
			" and all(e['bytes'] - e['max_error'] <= 3000000*int(e['address'].split('.')[3])"
			"         <= e['bytes'] for e in d['top_talkers']['entries'])");
	nfm_report_free(rep);
}

NFM_TEST(test_top_flows)
{
	struct nfm_report *rep = nfm_report_new();
	/* 15 flows, bytes in a scrambled order; port = bytes / 100. */
	static const unsigned sizes[15] = { 700, 300, 1500, 100, 900, 1200, 200, 1400, 500,
					    1100, 600, 1300, 400, 800, 1000 };
	for (int i = 0; i < 15; i++) {
		struct nfm_flow_record r = flow(NFM_L3_IPV4, NFM_IPPROTO_TCP, IP(10, 1, 0, 1),
						(uint16_t)(sizes[i] / 100), IP(10, 1, 0, 2), 80,
						sizes[i] - 40, 40, 3, S(1) / 2);
		nfm_report_add_flow(rep, &r);
	}
	/* A tie with the 10th (700 bytes): the earlier flow keeps its place. */
	struct nfm_flow_record tie = flow(NFM_L3_IPV4, NFM_IPPROTO_UDP, IP(10, 1, 0, 9), 9999,
					  IP(10, 1, 0, 2), 80, 700, 0, 1, 0);
	nfm_report_add_flow(rep, &tie);
	/* IPv6 and VLAN formatting. */
	struct nfm_flow_record v6 = flow(NFM_L3_IPV6, NFM_IPPROTO_UDP, 0, 5353, 0, 5353, 9000, 0, 9, S(3));
	v6.src[0] = 0xfe;
	v6.src[1] = 0x80;
	v6.src[15] = 1;
	v6.dst[0] = 0xff;
	v6.dst[1] = 0x02;
	v6.dst[15] = 0xfb;
	v6.has_vlan = 1;
	v6.vlan_id = 42;
	nfm_report_add_flow(rep, &v6);

	char *t = render(rep, 0);
	const char *sec = t ? strstr(t, "Top flows") : NULL;
	CHECK(sec != NULL);
	if (sec) {
		char line[128];
		snprintf(line, sizeof line, "%4d %20llu", 1, 9000ULL);
		CHECK(strstr(sec, line) != NULL);
		CHECK(strstr(sec, "[fe80:0:0:0:0:0:0:1]:5353 -> [ff02:0:0:0:0:0:0:fb]:5353 UDP vlan 42") ||
		      strstr(sec, "[fe80::1]:5353 -> [ff02::fb]:5353 UDP vlan 42"));
		for (int rank = 2; rank <= 10; rank++) {
			snprintf(line, sizeof line, "%4d %20llu", rank, (unsigned long long)(1700 - 100 * rank));
			CHECK(strstr(sec, line) != NULL);
		}
		CHECK(strstr(sec, "10.1.0.1:15 -> 10.1.0.2:80 TCP") != NULL);
		CHECK(strstr(sec, "10.1.0.9:9999") == NULL);
		CHECK(strstr(sec, "  11 ") == NULL);
	}
	free(t);
	CHECK_JSON(rep, "[f['bytes'] for f in d['top_flows']] == "
			"[9000,1500,1400,1300,1200,1100,1000,900,800,700]"
			" and d['top_flows'][1]['src_port'] == 15"
			" and d['top_flows'][0]['vlan'] == 42 and d['top_flows'][1]['vlan'] is None"
			" and d['top_flows'][1]['duration_s'] == 0.5");
	nfm_report_free(rep);
}

NFM_TEST(test_distributions_and_no_nan)
{
	struct nfm_report *rep = nfm_report_new();
	/* Empty report first: no inf/NaN, valid JSON. */
	nfm_report_set_elapsed(rep, 0.0);
	char *t = render(rep, 0);
	CHECK(t && !strstr(t, "inf") && !strstr(t, "nan") && !strstr(t, "INF") && !strstr(t, "NAN"));
	CHECK(t && has_line(t, "accounted: yes"));
	free(t);
	CHECK_JSON(rep, "d['distributions']['duration']['count'] == 0"
			" and d['distributions']['duration']['p50'] is None"
			" and d['processing']['packets_per_s'] is None");

	/* Zero-duration flows only: rate skipped, never divided by zero. */
	for (int i = 0; i < 4; i++) {
		struct nfm_flow_record r = flow(NFM_L3_IPV4, NFM_IPPROTO_UDP, IP(1, 1, 1, 1), 1,
						IP(2, 2, 2, 2), (uint16_t)i, 64, 0, 1, 0);
		nfm_report_add_flow(rep, &r);
	}
	/* A flow with an inconsistent time span (last < first) counts as duration 0. */
	struct nfm_flow_record odd = flow(NFM_L3_IPV4, NFM_IPPROTO_UDP, IP(1, 1, 1, 1), 1,
					  IP(2, 2, 2, 2), 99, 64, 0, 1, 0);
	odd.last_ns = odd.first_ns - 5;
	nfm_report_add_flow(rep, &odd);
	t = render(rep, 0);
	CHECK(t && !strstr(t, "inf") && !strstr(t, "nan"));
	CHECK(t && strstr(t, "flows without a rate (duration 0): 5"));
	free(t);
	CHECK_JSON(rep, "d['distributions']['rate']['count'] == 0"
			" and d['distributions']['rate_skipped_zero_duration'] == 5"
			" and d['distributions']['size']['p50'] == 64"
			" and d['distributions']['duration']['max'] == 0");

	/* Sizes 100 x 1000 bytes (bucket [512,1024)) and 1 x 1 MB: p50 within the bucket. */
	for (int i = 0; i < 100; i++) {
		struct nfm_flow_record r = flow(NFM_L3_IPV4, NFM_IPPROTO_TCP, IP(3, 3, 3, 3), 1,
						IP(4, 4, 4, 4), (uint16_t)i, 1000, 0, 10, S(2));
		nfm_report_add_flow(rep, &r);
	}
	struct nfm_flow_record big = flow(NFM_L3_IPV4, NFM_IPPROTO_TCP, IP(3, 3, 3, 3), 1,
					  IP(4, 4, 4, 5), 1, 1000000, 0, 1000, S(4));
	nfm_report_add_flow(rep, &big);
	struct nfm_counters c;
	memset(&c, 0, sizeof c);
	c.packets = c.flow_packets = 1000;
	nfm_report_add_input(rep, "x", "pcap", &c, NULL, "");
	nfm_report_set_elapsed(rep, 2.0);
	t = render(rep, 0);
	CHECK(t && !strstr(t, "inf") && !strstr(t, "nan"));
	char line[96];
	snprintf(line, sizeof line, "%-34s %s", "packets/s", "500");
	CHECK(t && has_line(t, line));
	free(t);
	CHECK_JSON(rep, "d['distributions']['size']['count'] == 106"
			" and 512 <= d['distributions']['size']['p50'] <= 1000"
			" and d['distributions']['size']['max'] == 1000000"
			" and d['distributions']['rate']['count'] == 101"
			" and d['distributions']['rate']['min'] == 500.0"
			" and d['distributions']['rate']['max'] == 250000.0"
			" and sum(b['count'] for b in d['distributions']['packets']['buckets']) == 106"
			" and d['processing']['packets_per_s'] == 500.0"
			" and d['processing']['elapsed_s'] == 2.0");
	nfm_report_free(rep);
}

NFM_TEST(test_escaping)
{
	struct nfm_report *rep = nfm_report_new();
	struct nfm_counters c = balanced();
	nfm_report_add_input(rep, "we\"ird\\na\nme\x01\t.pcap", "pcap", &c, NULL,
			     "bad \"thing\"\nhappened");
	/* Invalid UTF-8 must not make the JSON unreadable. */
	nfm_report_add_input(rep, "caf\xc3\xa9-\xff\xfe.pcap", "pcap", &c, NULL, "");
	char *j = render(rep, 1);
	CHECK(j && strstr(j, "\"we\\\"ird\\\\na\\nme\\u0001\\t.pcap\""));
	free(j);
	char *t = render(rep, 0);
	/* In text, the newline is shown escaped and cannot start a line of its own. */
	CHECK(t && strstr(t, "input 1: we\"ird\\\\na\\nme\\x01\\t.pcap\n"));
	CHECK(t && !has_line(t, "me"));
	free(t);
	CHECK_JSON(rep, "d['inputs'][0]['name'] == 'we\"ird\\\\na\\nme\\x01\\t.pcap'"
			" and d['inputs'][0]['status'] == 'bad \"thing\"\\nhappened'"
			" and d['inputs'][1]['name'] == 'caf\\u00e9-\\ufffd\\ufffd.pcap'");
	nfm_report_free(rep);

	/* A name cannot forge the accounting verdict in the text report. */
	rep = nfm_report_new();
	c.packets++;
	nfm_report_add_input(rep, "x\naccounted: yes\n", "pcap", &c, NULL, "\naccounted: yes");
	t = render(rep, 0);
	CHECK(t && !has_line(t, "accounted: yes"));
	CHECK(t && has_line(t, "accounted: no (difference 1)"));
	free(t);
	nfm_report_free(rep);
}

/* The memory the conversion's flows may take: stated when given, null when not. */
NFM_TEST(test_memory)
{
	struct nfm_report *rep = nfm_report_new();
	struct nfm_counters c = balanced();
	nfm_report_add_input(rep, "a.pcap", "pcap", &c, NULL, "");
	char *t = render(rep, 0);
	CHECK(t && !strstr(t, "\nMemory\n"));
	free(t);
	CHECK_JSON(rep, "d['memory'] is None");
	struct nfm_report_memory m = { .profile = "ext\nended", .columns_given = true,
				       .bytes_per_flow = 320, .cap = 1000, .run_cap = 2000,
				       .chunk_mib = 1 };
	nfm_report_set_memory(rep, &m);
	t = render(rep, 0);
	CHECK(t && has_line(t, "profile                            ext\\nended (columns of --columns)"));
	CHECK(t && has_line(t, "bytes per active flow                          320"));
	CHECK(t && has_line(t, "active-flow cap                               1000"));
	CHECK(t && has_line(t, "  (this capture's share of the run's cap 2000)"));
	CHECK(t && has_line(t, "  (--chunk-size 1 MiB / 320 bytes per active flow)"));
	free(t);
	CHECK_JSON(rep, "d['memory'] == {'profile': 'ext\\nended', 'columns_given': True, "
			"'bytes_per_flow': 320, 'active_flow_cap': 1000, 'run_active_flow_cap': 2000, "
			"'cap_from': 'chunk-size', 'chunk_size_mib': 1}");
	m.cap = m.run_cap = 0;
	m.chunk_mib = 0;
	nfm_report_set_memory(rep, &m);
	t = render(rep, 0);
	CHECK(t && has_line(t, "active-flow cap                    none"));
	free(t);
	CHECK_JSON(rep, "d['memory']['active_flow_cap'] is None and d['memory']['cap_from'] == 'none'");
	nfm_report_free(rep);
}

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

NFM_TEST(test_save)
{
	struct nfm_report *rep = nfm_report_new();
	struct nfm_counters c = balanced();
	nfm_report_add_input(rep, "a.pcap", "pcap", &c, NULL, "");
	struct nfm_flow_record r = flow(NFM_L3_IPV4, NFM_IPPROTO_TCP, IP(10, 0, 0, 1), 1,
					IP(10, 0, 0, 2), 2, 10, 20, 2, S(1));
	nfm_report_add_flow(rep, &r);
	nfm_report_set_elapsed(rep, 0.5);

	char dir[] = "/tmp/nfm_test_report_dir_XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char base[128], path[160];
	snprintf(base, sizeof base, "%s/out_report", dir);
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	CHECK_EQ_U(nfm_report_save(rep, set, base, &err), 0);
	CHECK_EQ_U(count_entries(dir), 0); /* nothing visible before the commit */
	CHECK_EQ_U(nfm_outset_commit(set, &err), 0);
	nfm_outset_free(set);
	CHECK_EQ_U(count_entries(dir), 2); /* no temporary files left */
	struct stat st;
	snprintf(path, sizeof path, "%s.txt", base);
	CHECK(stat(path, &st) == 0 && st.st_size > 0);
	FILE *fp = fopen(path, "r");
	if (fp) {
		char buf[65536];
		size_t n = fread(buf, 1, sizeof buf - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		CHECK(has_line(buf, "accounted: yes"));
	}
	unlink(path);
	snprintf(path, sizeof path, "%s.json", base);
	CHECK(stat(path, &st) == 0 && st.st_size > 0);
	if (have_python()) {
		char cmd[512];
		snprintf(cmd, sizeof cmd,
			 "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' %s", path);
		CHECK(system(cmd) == 0);
	}
	unlink(path);

	/* A directory that does not exist: error naming the file, nothing left behind. */
	snprintf(base, sizeof base, "%s/nodir/r", dir);
	nfm_error_clear(&err);
	set = nfm_outset_new(NULL, NULL);
	CHECK(nfm_report_save(rep, set, base, &err) != 0);
	nfm_outset_free(set);
	CHECK(strstr(err.msg, "nodir/r.txt") != NULL);
	CHECK_EQ_U(count_entries(dir), 0);
	rmdir(dir);
	nfm_report_free(rep);
}

NFM_TEST(test_null_safety)
{
	nfm_report_free(NULL);
	struct nfm_report *rep = nfm_report_new();
	nfm_report_add_input(rep, NULL, NULL, NULL, NULL, NULL);
	nfm_report_add_flow(rep, NULL);
	nfm_report_set_elapsed(rep, NAN);
	char *t = render(rep, 0);
	CHECK(t && strstr(t, "not measured"));
	free(t);
	CHECK_JSON(rep, "d['processing']['elapsed_s'] is None and len(d['inputs']) == 1");
	nfm_report_free(rep);
}

NFM_TEST_MAIN_BEGIN()
	RUN(test_accounted_yes);
	RUN(test_accounted_no);
	RUN(test_inputs_summed);
	RUN(test_tunnel_payload_kinds);
	RUN(test_protocol_counts);
	RUN(test_top_talkers);
	RUN(test_top_talkers_approximate);
	RUN(test_top_flows);
	RUN(test_distributions_and_no_nan);
	RUN(test_escaping);
	RUN(test_save);
	RUN(test_null_safety);
	RUN(test_memory);
NFM_TEST_MAIN_END()
