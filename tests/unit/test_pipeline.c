/* The worker pipeline: the same records in the same order for any worker count (with
 * idle expiry firing mid-input and timestamps that go backwards), a sink error stops it
 * and is returned, --max-flows stops reading early, counters add up (also the
 * by-kind list of tunnel payloads not followed), the flow cap is exact for any worker
 * count and the peak reported is an honest bound. */
#include <stdlib.h>
#include <string.h>

#include "flow/pipeline.h"
#include "nfm_frame.h"
#include "nfm_test.h"

#define NS 1000000000ULL

struct rec_list {
	struct nfm_flow_record *r;
	size_t n, cap;
	size_t fail_after; /* 0: never */
};

static int collect(void *ctx, const struct nfm_flow_record *rec)
{
	struct rec_list *l = ctx;
	if (l->fail_after && l->n >= l->fail_after)
		return NFM_ERR_IO;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->r = realloc(l->r, l->cap * sizeof *l->r);
	}
	l->r[l->n++] = *rec;
	return 0;
}

/* Ethernet (zero addresses) + IPv4 + UDP frame from src to dst with ports and 4 zero
 * payload bytes, padded to 60 bytes. */
static size_t udp_frame(uint8_t *out, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp)
{
	static const uint8_t no_macs[12];
	struct frame f = { .n = 0 };
	eth_hdr(&f, no_macs, 0, 0, 0x0800);
	ipv4_hdr(&f, 17, src, dst, 8 + 4, 0, 0, 0);
	udp_hdr(&f, sp, dp, 8 + 4);
	pad_to(&f, 60);
	memcpy(out, f.b, f.n);
	return f.n;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* 60,000 packets over ~3,000 conversations, 2 minutes of capture time with a few
 * timestamps going back; idle timeout 5 s so flows end all along the input. */
static int run(unsigned workers, struct rec_list *out, struct nfm_counters *cnt, uint64_t max_flows,
	       uint64_t max_active)
{
	struct nfm_pipeline_config pc = { 0 };
	nfm_meter_config_default(&pc.meter);
	pc.meter.idle_timeout_ns = 5 * NS;
	pc.meter.max_flows = max_flows;
	pc.meter.max_active_flows = max_active;
	pc.workers = workers;
	struct nfm_pipeline *pl = nfm_pipeline_new(&pc, collect, out);
	if (!pl)
		return -100;
	uint64_t s = 42, ts = 1700000000ULL * NS;
	uint8_t buf[64];
	int rc = 0;
	for (int i = 0; i < 60000 && !rc; i++) {
		uint64_t r = next_rand(&s);
		uint32_t conv = (uint32_t)(r % 3000);
		int back = (r >> 20) % 2;
		uint32_t a = 0x0a000000u | conv, b = 0xc0000200u | (conv % 7);
		struct nfm_raw_packet raw;
		memset(&raw, 0, sizeof raw);
		raw.data = buf;
		uint16_t port = (uint16_t)(1024 + conv);
		raw.cap_len = raw.wire_len = (uint32_t)(back ? udp_frame(buf, b, a, 53, port)
							  : udp_frame(buf, a, b, port, 53));
		raw.linktype = 1;
		ts += (r >> 32) % (4 * NS / 1000); /* up to 4 ms apart */
		raw.ts_ns = (r >> 40) % 97 == 0 ? ts - NS / 10 : ts;
		rc = nfm_pipeline_frame(pl, &raw);
		if (!rc && max_flows && nfm_pipeline_done(pl))
			break;
	}
	int frc = nfm_pipeline_finish(pl, 1);
	if (!rc)
		rc = frc;
	nfm_pipeline_counters(pl, cnt);
	nfm_pipeline_free(pl);
	return rc;
}

static int same_records(const struct rec_list *x, const struct rec_list *y)
{
	if (x->n != y->n)
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (memcmp(&x->r[i], &y->r[i], sizeof x->r[i]) != 0)
			return 0;
	return 1;
}

NFM_TEST(identical_for_any_worker_count)
{
	struct rec_list ref = { 0 };
	struct nfm_counters c1;
	CHECK_EQ_U(run(1, &ref, &c1, 0, 0), 0);
	CHECK(ref.n > 3000); /* idle expiry split conversations */
	CHECK_EQ_U(c1.packets, 60000);
	CHECK_EQ_U(c1.flow_packets, 60000);
	CHECK_EQ_U(c1.flows_written, ref.n);
	CHECK(c1.ts_backwards > 0);
	for (unsigned w = 2; w <= 4; w++) {
		struct rec_list l = { 0 };
		struct nfm_counters c;
		CHECK_EQ_U(run(w, &l, &c, 0, 0), 0);
		CHECK(same_records(&ref, &l));
		CHECK_EQ_U(c.packets, c1.packets);
		CHECK_EQ_U(c.flows_written, c1.flows_written);
		CHECK_EQ_U(c.ts_backwards, c1.ts_backwards);
		free(l.r);
	}
	free(ref.r);
}

/* GRE frames with protocol types we do not follow, 40 kinds between 50 address pairs
 * (so every worker sees some): counted by kind the same for any worker count, the 16
 * lowest kinds listed with exact counts, the rest only in the total. */
static void run_gre(unsigned workers, struct nfm_counters *cnt)
{
	struct nfm_pipeline_config pc = { 0 };
	nfm_meter_config_default(&pc.meter);
	pc.workers = workers;
	struct rec_list out = { 0 };
	struct nfm_pipeline *pl = nfm_pipeline_new(&pc, collect, &out);
	uint8_t buf[64];
	for (unsigned i = 0; pl && i < 4000; i++) {
		udp_frame(buf, 0x0a000000u | (i % 50), 0xc0000201u, 0, 0);
		buf[14 + 9] = 47;
		buf[14 + 20] = buf[14 + 21] = 0; /* GRE version 0, protocol 0x9000 + kind */
		buf[14 + 22] = 0x90;
		buf[14 + 23] = (uint8_t)(i * 7 % 40);
		struct nfm_raw_packet raw = { .data = buf, .cap_len = 60, .wire_len = 60,
					      .linktype = 1, .ts_ns = 1700000000ULL * NS + i };
		nfm_pipeline_frame(pl, &raw);
	}
	if (pl) {
		nfm_pipeline_finish(pl, 1);
		nfm_pipeline_counters(pl, cnt);
		nfm_pipeline_free(pl);
	}
	free(out.r);
}

NFM_TEST(tunnel_kinds_add_up_across_workers)
{
	for (unsigned w = 1; w <= 4; w++) {
		struct nfm_counters c;
		memset(&c, 0, sizeof c);
		run_gre(w, &c);
		CHECK_EQ_U(c.flow_packets, 4000);
		CHECK_EQ_U(c.tunnel_opaque, 4000);
		uint64_t listed = 0;
		for (unsigned k = 0; k < NFM_OPAQUE_KINDS; k++) {
			/* kind k: GRE, EtherType namespace, protocol 0x9000 + k; 100 packets */
			CHECK_EQ_U(c.opaque[k].kind, (uint32_t)NFM_TUNNEL_GRE << 18 | (0x9000u + k));
			CHECK_EQ_U(c.opaque[k].packets, 100);
			listed += c.opaque[k].packets;
		}
		CHECK_EQ_U(listed, 1600);
	}
}

NFM_TEST(sink_error_stops_and_is_returned)
{
	for (unsigned w = 1; w <= 3; w++) {
		struct rec_list l = { .fail_after = 100 };
		struct nfm_counters c;
		CHECK(run(w, &l, &c, 0, 0) == NFM_ERR_IO);
		CHECK_EQ_U(l.n, 100);
		free(l.r);
	}
}

NFM_TEST(max_flows_stops_early)
{
	struct rec_list l = { 0 };
	struct nfm_counters c;
	CHECK_EQ_U(run(3, &l, &c, 50, 0), 0); /* --max-flows uses one worker */
	CHECK_EQ_U(l.n, 50);
	CHECK(c.packets < 60000);
	free(l.r);
}

/* --max-active-flows is a hard cap whatever the worker count: the workers' quotas add up
 * to exactly the cap (so every shard filling up reaches it), a cap below the worker count
 * uses that many workers (so the records equal those of a run with cap workers), and the
 * peak reported never exceeds the cap. */
NFM_TEST(flow_cap_is_exact_for_any_worker_count)
{
	for (uint64_t cap = 1; cap <= 12; cap++) {
		struct rec_list at_cap = { 0 };
		for (unsigned w = 1; w <= 8; w++) {
			struct rec_list l = { 0 };
			struct nfm_counters c;
			CHECK_EQ_U(run(w, &l, &c, 0, cap), 0);
			if (c.peak_active_flows != cap)
				fprintf(stderr, "  cap %llu, %u workers: peak %llu\n",
					(unsigned long long)cap, w, (unsigned long long)c.peak_active_flows);
			CHECK(c.peak_active_flows <= cap);
			CHECK_EQ_U(c.peak_active_flows, cap);
			CHECK(c.flows_by_reason[NFM_END_EVICTED] > 0);
			CHECK_EQ_U(c.flows_written, c.flows_created);
			CHECK_EQ_U(c.flow_packets, 60000);
			if (w == cap) {
				at_cap = l;
				continue;
			}
			if (w > cap)
				CHECK(same_records(&at_cap, &l));
			free(l.r);
		}
		free(at_cap.r);
	}
}

/* Without a cap, the peak reported with several workers is at least the true peak (the
 * one-worker peak: shards hold every flow one worker holds, and some a little longer)
 * and at most that plus the flows one batch of 4096 frames can create. */
NFM_TEST(peak_is_an_honest_bound)
{
	struct rec_list ref = { 0 };
	struct nfm_counters c1;
	CHECK_EQ_U(run(1, &ref, &c1, 0, 0), 0);
	CHECK(c1.peak_active_flows > 100);
	for (unsigned w = 2; w <= 8; w++) {
		struct rec_list l = { 0 };
		struct nfm_counters c;
		CHECK_EQ_U(run(w, &l, &c, 0, 0), 0);
		CHECK(c.peak_active_flows >= c1.peak_active_flows);
		CHECK(c.peak_active_flows <= c1.peak_active_flows + 4096);
		CHECK(same_records(&ref, &l));
		free(l.r);
	}
	free(ref.r);
}

NFM_TEST_MAIN_BEGIN()
	RUN(identical_for_any_worker_count);
	RUN(tunnel_kinds_add_up_across_workers);
	RUN(sink_error_stops_and_is_returned);
	RUN(max_flows_stops_early);
	RUN(flow_cap_is_exact_for_any_worker_count);
	RUN(peak_is_an_honest_bound);
NFM_TEST_MAIN_END()
