/* The cic feature module and the CICFlowMeter profiles: every column of hand-built flows
 * against values worked out by hand, the algorithms (active/idle periods, bulks,
 * subflows), the rules for empty statistics and for timestamps that go back, exactness
 * (the same numbers for any order of a flow's packet sizes and for any worker count),
 * identities between columns over random traffic, and the four header variants. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/exporter.h"
#include "feature/cic.h"
#include "feature/fields.h"
#include "feature/modules.h"
#include "feature/profiles.h"
#include "flow/meter.h"
#include "flow/pipeline.h"
#include "nfm_frame.h"
#include "nfm_test.h"

#define T0 1700000000000000000ull /* 2023-11-14T22:13:20Z, in ns */
#define US 1000ull
#define MAXCOL 96
#define MAXROWS 64

/* ---- running frames through one meter into rows of formatted cells ---- */

struct row {
	char cell[MAXCOL][72];
};

struct run {
	struct nfm_layout lay;
	struct nfm_columns cols;
	struct row rows[MAXROWS];
	size_t nrows;
};

static int collect(void *ctx, const struct nfm_flow_record *rec)
{
	struct run *r = ctx;
	if (r->nrows == MAXROWS)
		return 0;
	struct row *row = &r->rows[r->nrows++];
	for (size_t i = 0; i < r->cols.n && i < MAXCOL; i++) {
		struct nfm_value v;
		nfm_column_get(&r->cols, i, rec, &v);
		nfm_value_format(&v, r->cols.f[i]->precision, row->cell[i], sizeof row->cell[i]);
	}
	return 0;
}

/* The layout and columns of profile p, as a run builds them; 0 when every column
 * resolves. */
static int profile_columns(const struct nfm_profile *p, struct nfm_layout *lay,
			   struct nfm_columns *cols)
{
	struct nfm_error err;
	struct nfm_profile_spec spec = { .profile = p };
	return p ? nfm_profile_build(&spec, lay, cols, &err) : -1;
}

#define CIC nfm_profile_find("cic")

struct pkt {
	struct frame f;
	uint64_t ts;
};

static struct run *meter(const struct nfm_profile *prof, const struct pkt *pk, size_t n)
{
	struct run *r = calloc(1, sizeof *r);
	if (!r || profile_columns(prof, &r->lay, &r->cols)) {
		free(r);
		return NULL;
	}
	struct nfm_meter_config mc;
	nfm_meter_config_default(&mc);
	mc.idle_timeout_ns = prof->idle_timeout_ns;
	mc.active_timeout_ns = prof->active_timeout_ns;
	mc.layout = &r->lay;
	struct nfm_meter *m = nfm_meter_new(&mc, collect, r);
	int rc = !m;
	for (size_t i = 0; !rc && i < n; i++)
		rc = nfm_meter_frame(m, pk[i].f.b, (uint32_t)pk[i].f.n, (uint32_t)pk[i].f.n, pk[i].ts,
				     NFM_LINK_ETHERNET);
	rc = rc || nfm_meter_finish(m);
	nfm_meter_free(m);
	if (rc) {
		nfm_columns_free(&r->cols);
		free(r);
		return NULL;
	}
	return r;
}

static void run_free(struct run *r)
{
	if (r) {
		nfm_columns_free(&r->cols);
		free(r);
	}
}

/* The cell of row i under header name ("?" when there is no such column). */
static const char *cell(const struct run *r, size_t i, const char *name)
{
	for (size_t c = 0; c < r->cols.n; c++)
		if (strcmp(nfm_column_name(&r->cols, c), name) == 0)
			return r->rows[i].cell[c];
	return "?";
}

/* ---- frames ---- */

static void tcp_pkt(struct pkt *p, uint64_t us, uint32_t src, uint32_t dst, unsigned sp,
		    unsigned dp, unsigned flags, unsigned opt_words, size_t payload, unsigned win)
{
	struct frame *f = &p->f;
	f->n = 0;
	eth(f, 0x0800);
	ipv4(f, 6, src, dst, 20 + opt_words * 4 + payload, 0, 0);
	size_t at = f->n;
	tcp(f, sp, dp, flags, opt_words, payload);
	set16(f, at + 14, win);
	pad_to(f, 60); /* Ethernet padding: never payload */
	p->ts = T0 + us * US;
}

static void udp_pkt(struct pkt *p, uint64_t ns, uint32_t src, uint32_t dst, unsigned sp,
		    unsigned dp, size_t payload)
{
	struct frame *f = &p->f;
	f->n = 0;
	eth(f, 0x0800);
	ipv4(f, 17, src, dst, 8 + payload, 0, 0);
	udp(f, sp, dp, payload);
	pad_to(f, 60);
	p->ts = T0 + ns;
}

#define C IP4(10, 0, 0, 1)
#define S IP4(10, 0, 0, 2)

struct want {
	const char *col, *val;
};

static int check_row(struct nfm_test_state *nfm_t_, const struct run *r, size_t i,
		     const struct want *w, size_t n)
{
	int bad = 0;
	for (size_t k = 0; k < n; k++)
		if (strcmp(cell(r, i, w[k].col), w[k].val) != 0) {
			fprintf(stderr, "FAIL %s: row %zu column '%s': '%s', want '%s'\n", nfm_t_->cur,
				i, w[k].col, cell(r, i, w[k].col), w[k].val);
			nfm_t_->cur_failed++;
			bad++;
		}
	return bad;
}

/* ---- tests ---- */

/* A TCP connection of 9 packets (handshake with options, 100 bytes up, 300 down, FIN
 * both ways; times in µs below), every column worked out by hand: the values of the
 * table below. */
NFM_TEST(tcp_connection_by_hand)
{
	struct pkt pk[9];
	tcp_pkt(&pk[0], 0, C, S, 40000, 80, NFM_TCP_SYN, 1, 0, 65535);
	tcp_pkt(&pk[1], 1000, S, C, 80, 40000, NFM_TCP_SYN | NFM_TCP_ACK, 1, 0, 29200);
	tcp_pkt(&pk[2], 1500, C, S, 40000, 80, NFM_TCP_ACK, 0, 0, 502);
	tcp_pkt(&pk[3], 2000, C, S, 40000, 80, NFM_TCP_PSH | NFM_TCP_ACK, 0, 100, 502);
	tcp_pkt(&pk[4], 2600, S, C, 80, 40000, NFM_TCP_ACK, 0, 0, 235);
	tcp_pkt(&pk[5], 3000, S, C, 80, 40000, NFM_TCP_PSH | NFM_TCP_ACK, 0, 300, 235);
	tcp_pkt(&pk[6], 10000, C, S, 40000, 80, NFM_TCP_FIN | NFM_TCP_ACK, 0, 0, 502);
	tcp_pkt(&pk[7], 10500, S, C, 80, 40000, NFM_TCP_FIN | NFM_TCP_ACK, 0, 0, 235);
	tcp_pkt(&pk[8], 11000, C, S, 40000, 80, NFM_TCP_ACK, 0, 0, 502);
	pk[3].ts += 999; /* µs are floored per packet */
	struct run *r = meter(CIC, pk, 9);
	CHECK(r && r->nrows == 1);
	if (!r || r->nrows != 1) {
		run_free(r);
		return;
	}
	static const struct want w[] = {
		{ "Flow ID", "10.0.0.1-10.0.0.2-40000-80-6" }, { "Source IP", "10.0.0.1" },
		{ "Source Port", "40000" }, { "Destination IP", "10.0.0.2" },
		{ "Destination Port", "80" }, { "Protocol", "6" },
		{ "Timestamp", "2023-11-14T22:13:20.000000Z" }, { "Flow Duration", "11000" },
		{ "Total Fwd Packets", "5" }, { "Total Backward Packets", "4" },
		{ "Total Length of Fwd Packets", "100" }, { "Total Length of Bwd Packets", "300" },
		{ "Fwd Packet Length Max", "100" }, { "Fwd Packet Length Min", "0" },
		{ "Fwd Packet Length Mean", "20.000" }, { "Fwd Packet Length Std", "44.721" },
		{ "Bwd Packet Length Max", "300" }, { "Bwd Packet Length Min", "0" },
		{ "Bwd Packet Length Mean", "75.000" }, { "Bwd Packet Length Std", "150.000" },
		{ "Flow Bytes/s", "36363.636" }, { "Flow Packets/s", "818.182" },
		{ "Flow IAT Mean", "1375.000" }, { "Flow IAT Std", "2280.194" },
		{ "Flow IAT Max", "7000" }, { "Flow IAT Min", "400" },
		{ "Fwd IAT Total", "11000" }, { "Fwd IAT Mean", "2750.000" },
		{ "Fwd IAT Std", "3523.729" }, { "Fwd IAT Max", "8000" }, { "Fwd IAT Min", "500" },
		{ "Bwd IAT Total", "9500" }, { "Bwd IAT Mean", "3166.667" },
		{ "Bwd IAT Std", "3800.439" }, { "Bwd IAT Max", "7500" }, { "Bwd IAT Min", "400" },
		{ "Fwd PSH Flags", "1" }, { "Bwd PSH Flags", "1" }, { "Fwd URG Flags", "0" },
		{ "Bwd URG Flags", "0" }, { "Fwd Header Length", "104" },
		{ "Bwd Header Length", "84" }, { "Fwd Packets/s", "454.545" },
		{ "Bwd Packets/s", "363.636" }, { "Min Packet Length", "0" },
		{ "Max Packet Length", "300" }, { "Packet Length Mean", "44.444" },
		{ "Packet Length Std", "101.379" }, { "Packet Length Variance", "10277.778" },
		{ "FIN Flag Count", "2" }, { "SYN Flag Count", "2" }, { "RST Flag Count", "0" },
		{ "PSH Flag Count", "2" }, { "ACK Flag Count", "8" }, { "URG Flag Count", "0" },
		{ "CWE Flag Count", "0" }, { "ECE Flag Count", "0" }, { "Down/Up Ratio", "0.8000" },
		{ "Average Packet Size", "44.444" }, { "Avg Fwd Segment Size", "20.000" },
		{ "Avg Bwd Segment Size", "75.000" }, { "Fwd Avg Bytes/Bulk", "0.000" },
		{ "Fwd Avg Packets/Bulk", "0.000" }, { "Fwd Avg Bulk Rate", "0.000" },
		{ "Bwd Avg Bytes/Bulk", "0.000" }, { "Bwd Avg Packets/Bulk", "0.000" },
		{ "Bwd Avg Bulk Rate", "0.000" }, { "Subflow Fwd Packets", "5.000" },
		{ "Subflow Fwd Bytes", "100.000" }, { "Subflow Bwd Packets", "4.000" },
		{ "Subflow Bwd Bytes", "300.000" }, { "Init_Win_bytes_forward", "65535" },
		{ "Init_Win_bytes_backward", "29200" }, { "act_data_pkt_fwd", "1" },
		{ "min_seg_size_forward", "20" }, { "Active Mean", "0.000" },
		{ "Active Std", "0.000" }, { "Active Max", "0" }, { "Active Min", "0" },
		{ "Idle Mean", "0.000" }, { "Idle Std", "0.000" }, { "Idle Max", "0" },
		{ "Idle Min", "0" }, { "Label", "NeedManualLabel" },
	};
	CHECK_EQ_U(sizeof w / sizeof w[0], 84); /* every name once; Fwd Header Length twice */
	check_row(nfm_t_, r, 0, w, sizeof w / sizeof w[0]);
	CHECK_STR(r->rows[0].cell[61], "104"); /* the duplicate, column 62 */
	run_free(r);
}

/* One-packet flows (the reference row of the profile) and a lone SYN+ACK, whose sender
 * is the responder: everything is backward. */
NFM_TEST(one_packet_flows)
{
	struct pkt pk[2];
	udp_pkt(&pk[0], 0, C, S, 5353, 53, 33);
	tcp_pkt(&pk[1], 50, S, IP4(10, 0, 0, 3), 443, 50000, NFM_TCP_SYN | NFM_TCP_ACK, 2, 0, 1000);
	struct run *r = meter(CIC, pk, 2);
	CHECK(r && r->nrows == 2);
	if (!r || r->nrows != 2) {
		run_free(r);
		return;
	}
	static const struct want udp[] = {
		{ "Flow Duration", "0" }, { "Total Fwd Packets", "1" },
		{ "Total Backward Packets", "0" }, { "Fwd Packet Length Max", "33" },
		{ "Fwd Packet Length Min", "33" }, { "Fwd Packet Length Mean", "33.000" },
		{ "Fwd Packet Length Std", "0.000" }, { "Bwd Packet Length Max", "0" },
		{ "Flow Bytes/s", "0.000" }, { "Flow Packets/s", "0.000" },
		{ "Flow IAT Mean", "0.000" }, { "Flow IAT Min", "0" }, { "Fwd IAT Total", "0" },
		{ "Fwd Header Length", "8" }, { "Min Packet Length", "33" },
		{ "Packet Length Mean", "33.000" }, { "Packet Length Std", "0.000" },
		{ "Down/Up Ratio", "0.0000" }, { "Average Packet Size", "33.000" },
		{ "Subflow Fwd Packets", "1.000" }, { "Subflow Fwd Bytes", "33.000" },
		{ "Init_Win_bytes_forward", "0" }, { "Init_Win_bytes_backward", "0" },
		{ "act_data_pkt_fwd", "1" }, { "min_seg_size_forward", "8" }, { "Protocol", "17" },
		{ "Flow ID", "10.0.0.1-10.0.0.2-5353-53-17" },
	};
	check_row(nfm_t_, r, 0, udp, sizeof udp / sizeof udp[0]);
	static const struct want synack[] = {
		{ "Source IP", "10.0.0.3" }, { "Source Port", "50000" },
		{ "Total Fwd Packets", "0" }, { "Total Backward Packets", "1" },
		{ "Fwd Packet Length Max", "0" }, { "Fwd Packet Length Mean", "0.000" },
		{ "Bwd Header Length", "28" }, { "Fwd Header Length", "0" },
		{ "min_seg_size_forward", "0" }, { "Init_Win_bytes_forward", "0" },
		{ "Init_Win_bytes_backward", "1000" }, { "Down/Up Ratio", "0.0000" },
		{ "SYN Flag Count", "1" }, { "ACK Flag Count", "1" },
		{ "Subflow Bwd Packets", "1.000" },
	};
	check_row(nfm_t_, r, 1, synack, sizeof synack / sizeof synack[0]);
	run_free(r);
}

/* Active and idle periods (gaps over 5 s) and subflows (gaps over 1 s). */
NFM_TEST(active_idle_and_subflows)
{
	static const uint64_t ms[] = { 0, 500, 7000, 7200, 20000, 20000 };
	struct pkt pk[6];
	for (int i = 0; i < 6; i++)
		udp_pkt(&pk[i], ms[i] * 1000000ull, i & 1 ? S : C, i & 1 ? C : S, i & 1 ? 53 : 4000,
			i & 1 ? 4000 : 53, 10);
	struct run *r = meter(CIC, pk, 6);
	CHECK(r && r->nrows == 1);
	if (r && r->nrows == 1) {
		static const struct want w[] = {
			{ "Active Mean", "350000.000" }, { "Active Std", "212132.034" },
			{ "Active Max", "500000" }, { "Active Min", "200000" },
			{ "Idle Mean", "9650000.000" }, { "Idle Std", "4454772.721" },
			{ "Idle Max", "12800000" }, { "Idle Min", "6500000" },
			{ "Subflow Fwd Packets", "1.000" }, { "Subflow Fwd Bytes", "10.000" },
			{ "Subflow Bwd Packets", "1.000" }, { "Subflow Bwd Bytes", "10.000" },
			{ "Flow IAT Min", "0" }, { "Flow IAT Max", "12800000" },
		};
		check_row(nfm_t_, r, 0, w, sizeof w / sizeof w[0]);
	}
	run_free(r);
}

/* Bulks: 5 forward payload packets within 1 s make a bulk (counted from the 4th); a
 * backward payload packet ends the candidate that follows; a gap over 1 s restarts it. */
NFM_TEST(bulk_transfer)
{
	static const struct { uint64_t ms; int bwd; size_t len; } seq[] = {
		{ 0, 0, 100 }, { 100, 0, 200 }, { 100, 1, 0 }, { 200, 0, 300 }, { 300, 0, 400 },
		{ 400, 0, 500 }, { 500, 1, 50 }, { 600, 0, 10 }, { 700, 0, 10 }, { 800, 0, 10 },
		{ 2000, 0, 10 }, { 2100, 1, 60 }, { 2200, 1, 60 }, { 2300, 1, 60 }, { 2300, 1, 60 },
		{ 2400, 0, 0 }, { 2500, 1, 60 },
	};
	size_t n = sizeof seq / sizeof seq[0];
	struct pkt pk[sizeof seq / sizeof seq[0]];
	for (size_t i = 0; i < n; i++)
		udp_pkt(&pk[i], seq[i].ms * 1000000ull, seq[i].bwd ? S : C, seq[i].bwd ? C : S,
			seq[i].bwd ? 53 : 4000, seq[i].bwd ? 4000 : 53, seq[i].len);
	struct run *r = meter(CIC, pk, n);
	CHECK(r && r->nrows == 1);
	if (r && r->nrows == 1) {
		/* forward: one bulk of 5 packets, 1500 bytes over 0.4 s; backward: the 50-byte
		 * packet alone, then 60-byte packets at 2.1, 2.2, 2.3, 2.3 (a bulk from the 4th)
		 * and 2.5 (the empty forward packet in between does not end it): 5 packets,
		 * 300 bytes over 0.4 s. One gap over 1 s: 2 subflows. */
		static const struct want w[] = {
			{ "Fwd Avg Bytes/Bulk", "1500.000" }, { "Fwd Avg Packets/Bulk", "5.000" },
			{ "Fwd Avg Bulk Rate", "3750.000" }, { "Bwd Avg Bytes/Bulk", "300.000" },
			{ "Bwd Avg Packets/Bulk", "5.000" }, { "Bwd Avg Bulk Rate", "750.000" },
			{ "Subflow Fwd Packets", "5.000" }, { "Subflow Bwd Bytes", "175.000" },
		};
		check_row(nfm_t_, r, 0, w, sizeof w / sizeof w[0]);
	}
	run_free(r);
}

/* A capture whose timestamps go back: gaps of 0, the flow's clock never goes back, no
 * negative time anywhere. */
NFM_TEST(time_going_back)
{
	static const uint64_t us[] = { 0, 5000, 3000, 6000, 1000 };
	struct pkt pk[5];
	for (int i = 0; i < 5; i++)
		udp_pkt(&pk[i], us[i] * 1000, i == 2 ? S : C, i == 2 ? C : S, i == 2 ? 53 : 4000,
			i == 2 ? 4000 : 53, 1);
	struct run *r = meter(CIC, pk, 5);
	CHECK(r && r->nrows == 1);
	if (r && r->nrows == 1) {
		/* flow gaps 5000, 0, 1000, 0; forward times 0, 5000, 6000, 1000: gaps 5000,
		 * 1000, 0 */
		static const struct want w[] = {
			{ "Flow Duration", "6000" }, { "Flow IAT Mean", "1500.000" },
			{ "Flow IAT Min", "0" }, { "Flow IAT Max", "5000" }, { "Fwd IAT Total", "6000" },
			{ "Fwd IAT Min", "0" }, { "Fwd IAT Max", "5000" }, { "Fwd IAT Mean", "2000.000" },
			{ "Bwd IAT Total", "0" }, { "Timestamp", "2023-11-14T22:13:20.000000Z" },
		};
		check_row(nfm_t_, r, 0, w, sizeof w / sizeof w[0]);
		for (size_t c = 0; c < r->cols.n; c++)
			if (strcmp(nfm_column_name(&r->cols, c), "Flow ID") != 0 &&
			    strcmp(nfm_column_name(&r->cols, c), "Timestamp") != 0 &&
			    (r->rows[0].cell[c][0] == '-' || strstr(r->rows[0].cell[c], "nan") ||
			     strstr(r->rows[0].cell[c], "inf"))) {
				fprintf(stderr, "FAIL column %s: %s\n", nfm_column_name(&r->cols, c),
					r->rows[0].cell[c]);
				nfm_t_->cur_failed++;
			}
	}
	run_free(r);
}

/* The statistics are exact: any order of the same payload sizes gives the same digits,
 * even for sizes whose floating-point sums would depend on the order. */
NFM_TEST(order_does_not_change_statistics)
{
	enum { N = 40 };
	size_t len[N];
	for (int i = 0; i < N; i++)
		len[i] = (size_t)(i % 3 == 0 ? 1 : i % 3 == 1 ? 1400 : 9) + (size_t)i * 7;
	static const char *const cols[] = { "Fwd Packet Length Mean", "Fwd Packet Length Std",
					    "Packet Length Variance", "Packet Length Std",
					    "Fwd Packet Length Max", "Fwd Packet Length Min" };
	char ref[6][72] = { { 0 } };
	unsigned seed = 7;
	for (int round = 0; round < 6; round++) {
		struct pkt pk[N];
		for (int i = 0; i < N; i++)
			udp_pkt(&pk[i], (uint64_t)i * 1000, C, S, 4000, 53, len[i]);
		struct run *r = meter(CIC, pk, N);
		CHECK(r && r->nrows == 1);
		for (int c = 0; r && r->nrows == 1 && c < 6; c++) {
			if (round == 0)
				snprintf(ref[c], sizeof ref[c], "%s", cell(r, 0, cols[c]));
			else
				CHECK_STR(cell(r, 0, cols[c]), ref[c]);
		}
		run_free(r);
		for (int i = N - 1; i > 0; i--) { /* shuffle for the next round */
			seed = seed * 1103515245u + 12345u;
			int j = (int)((seed >> 16) % (unsigned)(i + 1));
			size_t t = len[i];
			len[i] = len[j];
			len[j] = t;
		}
	}
	CHECK_STR(ref[0], "594.775"); /* (14 x 1 + 13 x 1400 + 13 x 9 + 7 x 780) / 40 */
}

/* Identities that hold in every flow (docs/profiles.md), over random TCP and UDP
 * traffic with random gaps. */
NFM_TEST(identities_over_random_traffic)
{
	enum { N = 600 };
	static struct pkt pk[N];
	unsigned seed = 12345;
	uint64_t t = 0;
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned x = seed >> 8;
		unsigned flow = x % 12, back = (x >> 4) & 1;
		t += (x >> 5) % 3 == 0 ? (x >> 7) % 3000000 : (x >> 7) % 20000;
		size_t len = (x >> 9) % 4 == 0 ? 0 : (x >> 11) % 1400;
		uint32_t a = IP4(10, 1, 0, 1 + flow), b = IP4(10, 2, 0, 1);
		if (flow < 6)
			tcp_pkt(&pk[i], t, back ? b : a, back ? a : b, back ? 80 : 1000 + flow,
				back ? 1000 + flow : 80, NFM_TCP_ACK | ((x >> 13) & 1 ? NFM_TCP_PSH : 0),
				(x >> 14) % 3, len, 1000 + flow);
		else
			udp_pkt(&pk[i], t * 1000, back ? b : a, back ? a : b, back ? 53 : 2000 + flow,
				back ? 2000 + flow : 53, len);
	}
	struct run *r = meter(CIC, pk, N);
	CHECK(r && r->nrows >= 12);
	for (size_t i = 0; r && i < r->nrows; i++) {
		double n = atof(cell(r, i, "Total Fwd Packets")) + atof(cell(r, i, "Total Backward Packets"));
		double nf = atof(cell(r, i, "Total Fwd Packets"));
		double dur = atof(cell(r, i, "Flow Duration"));
		CHECK_STR(cell(r, i, "Packet Length Mean"), cell(r, i, "Average Packet Size"));
		CHECK_STR(cell(r, i, "Fwd Packet Length Mean"), cell(r, i, "Avg Fwd Segment Size"));
		CHECK_STR(cell(r, i, "Bwd Packet Length Mean"), cell(r, i, "Avg Bwd Segment Size"));
		CHECK_STR(r->rows[i].cell[40], r->rows[i].cell[61]); /* Fwd Header Length twice */
		CHECK(fabs(atof(cell(r, i, "Flow IAT Mean")) * (n - 1) - dur) <= 0.0005 * (n - 1) + 1e-9);
		if (nf >= 2)
			CHECK(fabs(atof(cell(r, i, "Fwd IAT Mean")) * (nf - 1) -
				   atof(cell(r, i, "Fwd IAT Total"))) <= 0.0005 * (nf - 1) + 1e-9);
		double sd = atof(cell(r, i, "Packet Length Std"));
		CHECK(fabs(sd * sd - atof(cell(r, i, "Packet Length Variance"))) <= 0.001 * (sd + 1));
		CHECK(atof(cell(r, i, "Flow IAT Min")) <= atof(cell(r, i, "Flow IAT Max")));
		CHECK(atof(cell(r, i, "Min Packet Length")) <= atof(cell(r, i, "Packet Length Mean")) + 1e-9);
		CHECK(atof(cell(r, i, "Packet Length Mean")) <= atof(cell(r, i, "Max Packet Length")) + 1e-9);
		if (atof(cell(r, i, "Idle Max")) == 0) /* no gap over 5 s: no active period */
			CHECK_STR(cell(r, i, "Active Max"), "0");
	}
	run_free(r);
}

/* ---- through the worker pipeline into CSV ---- */

struct piped {
	struct nfm_exporter *csv;
	struct nfm_error err;
};

static int enc(void *ctx, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct piped *p = ctx;
	return nfm_exporter_encode(p->csv, rec, row);
}

static int emit(void *ctx, const uint8_t *row, size_t len)
{
	struct piped *p = ctx;
	return nfm_exporter_write_row(p->csv, row, len, &p->err);
}

/* The capture of identities_over_random_traffic through the pipeline with `workers`
 * workers, as a CSV text (caller frees). */
static char *pipeline_csv(const char *path, unsigned workers, const struct pkt *pk, size_t n)
{
	struct nfm_layout lay;
	struct nfm_columns cols = { 0 };
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_exporter *csv = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_export_dest dest = { .path = path, .set = set };
	if (!set || profile_columns(CIC, &lay, &cols) ||
	    nfm_exporter_open(&csv, nfm_exporter_find("csv"), &dest, &cols, &err)) {
		nfm_columns_free(&cols);
		nfm_outset_free(set);
		return NULL;
	}
	struct piped p = { .csv = csv };
	struct nfm_pipeline_config pc = { .workers = workers, .encode = enc, .emit = emit, .ctx = &p };
	nfm_meter_config_default(&pc.meter);
	pc.meter.idle_timeout_ns = 0;
	pc.meter.active_timeout_ns = 120000000000ull;
	pc.meter.layout = &lay;
	struct nfm_pipeline *pl = nfm_pipeline_new(&pc, NULL, NULL);
	int rc = !pl;
	for (size_t i = 0; !rc && i < n; i++) {
		struct nfm_raw_packet raw = { .data = pk[i].f.b, .cap_len = (uint32_t)pk[i].f.n,
					      .wire_len = (uint32_t)pk[i].f.n, .ts_ns = pk[i].ts,
					      .linktype = NFM_LINK_ETHERNET };
		rc = nfm_pipeline_frame(pl, &raw);
	}
	rc = rc || nfm_pipeline_finish(pl, 1);
	nfm_pipeline_free(pl);
	char *text = NULL;
	if (!rc && !nfm_exporter_close(csv, &err) && !nfm_outset_commit(set, &err)) {
		FILE *fp = fopen(path, "r");
		text = calloc(1, 1 << 18);
		if (fp && text)
			(void)!fread(text, 1, (1 << 18) - 1, fp);
		if (fp)
			fclose(fp);
	} else if (rc) {
		nfm_exporter_abort(csv);
	}
	nfm_outset_free(set);
	nfm_columns_free(&cols);
	return text;
}

NFM_TEST(same_rows_for_any_worker_count)
{
	enum { N = 400 };
	static struct pkt pk[N];
	unsigned seed = 99;
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned x = seed >> 8, flow = x % 40, back = (x >> 6) & 1;
		uint32_t a = IP4(10, 3, flow, 1), b = IP4(10, 4, 0, flow % 7 + 1);
		tcp_pkt(&pk[i], (uint64_t)i * 700000 + (x >> 10) % 1000, back ? b : a, back ? a : b,
			back ? 443 : 3000 + flow, back ? 3000 + flow : 443,
			NFM_TCP_ACK | ((x >> 7) & 1 ? NFM_TCP_PSH : 0), 0, (x >> 12) % 1000, 100 + flow);
	}
	char path[] = "/tmp/nfm_test_cic_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	char *ref = NULL;
	for (unsigned w = 1; w <= 4; w++) {
		unlink(path);
		char *text = pipeline_csv(path, w, pk, N);
		CHECK(text && strncmp(text, "Flow ID,Source IP,Source Port,", 30) == 0);
		if (!text)
			continue;
		if (!ref)
			ref = text;
		else {
			CHECK(strcmp(ref, text) == 0);
			free(text);
		}
	}
	CHECK(ref && strstr(ref, "\n10.3.5.1-10.4.0.6-3005-443-6,10.3.5.1,3005,"));
	free(ref);
	unlink(path);
}

/* ---- the header variants ---- */

NFM_TEST(profiles_and_headers)
{
	/* The CIC-IDS2017 header as its CSVs have it (one leading space before most names). */
	static const char raw[] =
		"Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration, Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets, Fwd Packet Length Max, Fwd Packet Length Min, Fwd Packet Length Mean, Fwd Packet Length Std,Bwd Packet Length Max, Bwd Packet Length Min, Bwd Packet Length Mean, Bwd Packet Length Std,Flow Bytes/s, Flow Packets/s, Flow IAT Mean, Flow IAT Std, Flow IAT Max, Flow IAT Min,Fwd IAT Total, Fwd IAT Mean, Fwd IAT Std, Fwd IAT Max, Fwd IAT Min,Bwd IAT Total, Bwd IAT Mean, Bwd IAT Std, Bwd IAT Max, Bwd IAT Min,Fwd PSH Flags, Bwd PSH Flags, Fwd URG Flags, Bwd URG Flags, Fwd Header Length, Bwd Header Length,Fwd Packets/s, Bwd Packets/s, Min Packet Length, Max Packet Length, Packet Length Mean, Packet Length Std, Packet Length Variance,FIN Flag Count, SYN Flag Count, RST Flag Count, PSH Flag Count, ACK Flag Count, URG Flag Count, CWE Flag Count, ECE Flag Count, Down/Up Ratio, Average Packet Size, Avg Fwd Segment Size, Avg Bwd Segment Size, Fwd Header Length,Fwd Avg Bytes/Bulk, Fwd Avg Packets/Bulk, Fwd Avg Bulk Rate, Bwd Avg Bytes/Bulk, Bwd Avg Packets/Bulk,Bwd Avg Bulk Rate,Subflow Fwd Packets, Subflow Fwd Bytes, Subflow Bwd Packets, Subflow Bwd Bytes,Init_Win_bytes_forward, Init_Win_bytes_backward, act_data_pkt_fwd, min_seg_size_forward,Active Mean, Active Std, Active Max, Active Min,Idle Mean, Idle Std, Idle Max, Idle Min, Label";
	const struct nfm_profile *p = CIC;
	size_t i = 0;
	for (const char *s = raw; *s; i++) {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, ",");
		CHECK(i < p->ncolumns && strlen(p->columns[i].header) == n &&
		      strncmp(p->columns[i].header, s, n) == 0);
		s += n + (s[n] == ',');
	}
	CHECK_EQ_U(i, p->ncolumns);

	static const char *const names[] = { "cic", "cic2018", "cic-v4", "cic-fixed" };
	const struct nfm_profile *all[4];
	for (int k = 0; k < 4; k++)
		all[k] = nfm_profile_find(names[k]);
	static const size_t ncols[] = { 85, 80, 84, 90 };
	for (int k = 0; k < 4; k++) {
		struct nfm_layout lay;
		struct nfm_columns cols = { 0 };
		CHECK(all[k] != NULL);
		if (!all[k])
			return;
		CHECK_STR(all[k]->name, names[k]);
		CHECK_EQ_U(all[k]->ncolumns, ncols[k]);
		CHECK(profile_columns(all[k], &lay, &cols) == 0);
		CHECK_EQ_U(cols.n, ncols[k]);
		CHECK_EQ_U(all[k]->active_timeout_ns, 120000000000ull);
		CHECK_EQ_U(all[k]->idle_timeout_ns, 0);
		/* header names are unique but for cic's duplicated Fwd Header Length */
		unsigned dups = 0;
		for (size_t a = 0; a < cols.n; a++)
			for (size_t b = a + 1; b < cols.n; b++)
				dups += strcmp(nfm_column_name(&cols, a), nfm_column_name(&cols, b)) == 0;
		CHECK_EQ_U(dups, k == 0);
		nfm_columns_free(&cols);
	}
	/* cic2018 is cic without the four address columns and the duplicate, in order;
	 * cic-v4 is cic without the duplicate; the same fields in both. */
	const struct nfm_profile *c17 = all[0], *c18 = all[1];
	size_t j = 0;
	for (i = 0; i < c17->ncolumns; i++) {
		if (i < 4 || i == 61)
			continue;
		CHECK(j < c18->ncolumns && strcmp(c17->columns[i].field, c18->columns[j].field) == 0);
		j++;
	}
	CHECK_EQ_U(j, c18->ncolumns);
	CHECK_STR(c18->columns[0].header, "Dst Port");
	CHECK_STR(all[2]->columns[55].header, "CWR Flag Count");
	CHECK_STR(all[3]->columns[88].header, "ICMP Type");
}

/* The ICMP columns of cic-fixed: the first ICMP header's type and code, -1 without. */
NFM_TEST(icmp_type_and_code)
{
	struct pkt pk[2];
	struct frame *f = &pk[0].f;
	f->n = 0;
	eth(f, 0x0800);
	ipv4(f, 1, C, S, 8 + 4, 0, 0);
	put8(f, 3); put8(f, 1); put16(f, 0); put32(f, 0); put32(f, 0x01020304);
	pk[0].ts = T0;
	udp_pkt(&pk[1], 1000, C, S, 1, 2, 3);
	struct run *r = meter(nfm_profile_find("cic-fixed"), pk, 2);
	CHECK(r && r->nrows == 2);
	if (r && r->nrows == 2) {
		static const struct want icmp[] = { { "ICMP Type", "3" }, { "ICMP Code", "1" },
						   { "Src Port", "0" }, { "Dst Port", "0" },
						   { "Protocol", "1" }, { "Fwd Header Length", "8" },
						   { "Total Length of Fwd Packet", "4" } };
		check_row(nfm_t_, r, 0, icmp, sizeof icmp / sizeof icmp[0]);
		static const struct want udp[] = { { "ICMP Type", "-1" }, { "ICMP Code", "-1" },
						  { "Bwd Seg Size Min", "0" }, { "Fwd RST Flags", "0" } };
		check_row(nfm_t_, r, 1, udp, sizeof udp / sizeof udp[0]);
	}
	run_free(r);
}

NFM_TEST(state_size)
{
	/* The per-flow cost of the profiles, beside the engine's entry. */
	printf("cic module state: %zu bytes per flow\n", sizeof(struct nfm_cic_state));
	CHECK(sizeof(struct nfm_cic_state) <= 512);
	CHECK_EQ_U(nfm_mod_cic.nfields, NFM_CIC_NFIELDS);
	CHECK(nfm_module_find("cic") == &nfm_mod_cic); /* --columns finds its fields */
}

NFM_TEST_MAIN_BEGIN()
	RUN(tcp_connection_by_hand);
	RUN(one_packet_flows);
	RUN(active_idle_and_subflows);
	RUN(bulk_transfer);
	RUN(time_going_back);
	RUN(order_does_not_change_statistics);
	RUN(identities_over_random_traffic);
	RUN(same_rows_for_any_worker_count);
	RUN(profiles_and_headers);
	RUN(icmp_type_and_code);
	RUN(state_size);
NFM_TEST_MAIN_END()
