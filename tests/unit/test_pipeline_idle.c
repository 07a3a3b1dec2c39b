/* Time passing without packets: a source's NFM_SOURCE_IDLE fed to nfm_pipeline_advance,
 * read from a scripted source kind added to the registry at run time (the product's
 * conversion loop does the same). An idle tick writes the flows due by then at once
 * instead of at the end of the input; the records are the same for any worker count with
 * idle ticks anywhere; a tick older than the newest packet moves no clock back. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/pipeline.h"
#include "nfm_script_source.h"
#include "nfm_test.h"

#define NS 1000000000ULL
#define T0 (1700000000ULL * NS)
#define MS (NS / 1000)

/* The records written, as the writer thread hands them over. */
struct sink_log {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct nfm_flow_record *r;
	size_t n, cap;
	size_t fail_at; /* 0: never; else the sink fails on that record (1-based) */
};

static void log_init(struct sink_log *l)
{
	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
}

static void log_fini(struct sink_log *l)
{
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l->r);
}

static int log_sink(void *ctx, const struct nfm_flow_record *rec)
{
	struct sink_log *l = ctx;
	int rc = 0;
	pthread_mutex_lock(&l->mu);
	if (l->fail_at && l->n + 1 == l->fail_at) {
		rc = NFM_ERR_IO;
	} else if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct nfm_flow_record *r = realloc(l->r, cap * sizeof *r);
		if (!r)
			rc = NFM_ERR_NOMEM;
		else {
			l->r = r;
			l->cap = cap;
		}
	}
	if (!rc)
		l->r[l->n++] = *rec;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* Waits until at least n records were written, up to ms milliseconds; the count. */
static size_t log_wait(struct sink_log *l, size_t n, long ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	while (l->n < n && pthread_cond_timedwait(&l->cv, &l->mu, &dl) == 0)
		;
	size_t got = l->n;
	pthread_mutex_unlock(&l->mu);
	return got;
}

static struct nfm_pipeline *new_pipeline(unsigned workers, struct sink_log *l)
{
	struct nfm_pipeline_config pc = { 0 };
	nfm_meter_config_default(&pc.meter);
	pc.meter.idle_timeout_ns = 5 * NS;
	pc.workers = workers;
	return nfm_pipeline_new(&pc, log_sink, l);
}

/* Opens the script through the registry, as a program would open a kind it added. */
static struct nfm_source *open_script(const struct script_step *steps, size_t n)
{
	struct nfm_source_registry *reg = script_registry();
	struct script sc = { steps, n, 1 };
	struct nfm_source *src = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	if (reg && nfm_source_open_kind(&src, reg, "scripted", "script", &sc, &err) != 0)
		src = NULL;
	nfm_source_registry_free(reg); /* the source does not need it */
	return src;
}

/* The conversion loop: frames to the pipeline, idle ticks as time passing. */
static int drive(struct nfm_source *src, struct nfm_pipeline *pl)
{
	struct nfm_raw_packet pkt;
	struct nfm_error err;
	nfm_error_clear(&err);
	for (;;) {
		int rc = nfm_source_next(src, &pkt, &err);
		if (rc <= 0)
			return rc;
		rc = rc == NFM_SOURCE_IDLE ? nfm_pipeline_advance(pl, pkt.ts_ns)
					   : nfm_pipeline_frame(pl, &pkt);
		if (rc)
			return rc;
	}
}

static struct script_step pkt_step(uint64_t ts, const uint8_t *f)
{
	struct script_step s = { ts, 0, f, 60 };
	return s;
}

static struct script_step idle_step(uint64_t ts)
{
	struct script_step s = { ts, 1, NULL, 0 };
	return s;
}

/* (a) Flow A (two packets) and flow B; then the source says only that 6.5 s have
 * passed. A, idle for 5.5 s with a 5 s timeout, is written at once, as idle; B (4.5 s)
 * is not. Without the tick A stays open until the end of the input. */
NFM_TEST(idle_tick_writes_due_flows)
{
	uint8_t fa[60], fb[60];
	script_udp_frame(fa, 0x0a000001u, 0xc0000201u, 1000, 53);
	script_udp_frame(fb, 0x0a000002u, 0xc0000202u, 1001, 53);
	struct script_step steps[] = {
		pkt_step(T0, fa), pkt_step(T0 + NS, fa), pkt_step(T0 + 2 * NS, fb),
		idle_step(T0 + 6500 * MS),
	};
	for (unsigned w = 1; w <= 4; w++) {
		for (int with_tick = 1; with_tick >= 0; with_tick--) {
			struct sink_log l;
			log_init(&l);
			struct nfm_pipeline *pl = new_pipeline(w, &l);
			struct nfm_source *src = open_script(steps, with_tick ? 4 : 3);
			CHECK(pl && src);
			if (!pl || !src)
				return;
			CHECK_EQ_U(drive(src, pl), 0);
			if (with_tick) {
				/* Written by the writer thread before the input ends. */
				CHECK_EQ_U(log_wait(&l, 1, 10000), 1);
				CHECK_EQ_U(log_wait(&l, 2, 100), 1); /* and B is not */
				if (l.n >= 1) {
					CHECK_EQ_U(l.r[0].end_reason, NFM_END_IDLE);
					CHECK_EQ_U(l.r[0].pkts[0] + l.r[0].pkts[1], 2);
				}
			} else {
				CHECK_EQ_U(log_wait(&l, 1, 100), 0);
			}
			CHECK_EQ_U(nfm_pipeline_finish(pl, 1), 0);
			CHECK_EQ_U(l.n, 2);
			if (l.n == 2) {
				CHECK_EQ_U(l.r[0].seq, 1); /* A */
				CHECK_EQ_U(l.r[0].end_reason, with_tick ? NFM_END_IDLE : NFM_END_EOF);
				CHECK_EQ_U(l.r[1].end_reason, NFM_END_EOF);
			}
			nfm_pipeline_free(pl);
			nfm_source_close(src);
			log_fini(&l);
		}
	}
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* 60,000 packets over ~3,000 conversations (as in test_pipeline.c), with timestamps that
 * sometimes go back, and an idle tick after about one packet in 150: between 2 s behind
 * and 8 s ahead of the last packet, so some ticks are older than the newest packet and
 * some are followed by packets older than themselves. */
struct workload {
	struct script_step *steps;
	uint8_t (*frames)[60];
	size_t n;
};

static int make_workload(struct workload *wl, int ticks)
{
	size_t max = 60000 + 60000 / 50;
	wl->steps = calloc(max, sizeof *wl->steps);
	wl->frames = calloc(60000, sizeof *wl->frames);
	wl->n = 0;
	if (!wl->steps || !wl->frames)
		return -1;
	uint64_t s = 42, t = 1700000000ULL * NS;
	for (size_t i = 0; i < 60000; i++) {
		uint64_t r = next_rand(&s);
		uint32_t conv = (uint32_t)(r % 3000);
		uint32_t a = 0x0a000000u | conv, b = 0xc0000200u | (conv % 7);
		if ((r >> 20) % 2)
			script_udp_frame(wl->frames[i], b, a, 53, (uint16_t)(1024 + conv));
		else
			script_udp_frame(wl->frames[i], a, b, (uint16_t)(1024 + conv), 53);
		t += (r >> 32) % (4 * MS);
		uint64_t ts = (r >> 40) % 97 == 0 ? t - NS / 10 : t;
		wl->steps[wl->n++] = pkt_step(ts, wl->frames[i]);
		uint64_t q = next_rand(&s);
		if (ticks && q % 150 == 0 && wl->n < max)
			wl->steps[wl->n++] = idle_step(t - 2 * NS + (q >> 16) % (10 * NS));
	}
	return 0;
}

static int run_workload(const struct workload *wl, unsigned workers, struct sink_log *l,
			struct nfm_counters *c)
{
	struct nfm_pipeline *pl = new_pipeline(workers, l);
	struct nfm_source *src = open_script(wl->steps, wl->n);
	int rc = -100;
	if (pl && src) {
		rc = drive(src, pl);
		int frc = nfm_pipeline_finish(pl, 1);
		if (!rc)
			rc = frc;
		nfm_pipeline_counters(pl, c);
	}
	nfm_pipeline_free(pl);
	nfm_source_close(src);
	return rc;
}

static int same_records(const struct sink_log *x, const struct sink_log *y)
{
	if (x->n != y->n)
		return 0;
	for (size_t i = 0; i < x->n; i++)
		if (memcmp(&x->r[i], &y->r[i], sizeof x->r[i]) != 0)
			return 0;
	return 1;
}

/* (b) The same records in the same order for 1 to 4 workers with idle ticks
 * interleaved; and the ticks did change when flows ended. */
NFM_TEST(identical_for_any_worker_count_with_idle_ticks)
{
	struct workload wl, plain;
	CHECK_EQ_U(make_workload(&wl, 1), 0);
	CHECK_EQ_U(make_workload(&plain, 0), 0);
	CHECK(wl.n > plain.n + 300);
	struct sink_log ref, none;
	log_init(&ref);
	log_init(&none);
	struct nfm_counters c1, c0;
	CHECK_EQ_U(run_workload(&wl, 1, &ref, &c1), 0);
	CHECK_EQ_U(run_workload(&plain, 1, &none, &c0), 0);
	CHECK(ref.n > 3000);
	CHECK_EQ_U(c1.packets, 60000);
	CHECK_EQ_U(c1.flow_packets, 60000);
	CHECK_EQ_U(c1.flows_written, ref.n);
	CHECK(c1.ts_backwards > 0);
	/* Ticks ahead of later packets ended flows those packets would have continued;
	 * the capture's own time span and order are those of the packets alone. */
	CHECK(!same_records(&ref, &none));
	CHECK_EQ_U(c1.first_ts_ns, c0.first_ts_ns);
	CHECK_EQ_U(c1.last_ts_ns, c0.last_ts_ns);
	CHECK_EQ_U(c1.ts_backwards, c0.ts_backwards);
	for (unsigned w = 2; w <= 4; w++) {
		struct sink_log l;
		log_init(&l);
		struct nfm_counters c;
		CHECK_EQ_U(run_workload(&wl, w, &l, &c), 0);
		CHECK(same_records(&ref, &l));
		CHECK_EQ_U(c.packets, c1.packets);
		CHECK_EQ_U(c.flows_written, c1.flows_written);
		CHECK_EQ_U(c.ts_backwards, c1.ts_backwards);
		CHECK_EQ_U(c.first_ts_ns, c1.first_ts_ns);
		CHECK_EQ_U(c.last_ts_ns, c1.last_ts_ns);
		log_fini(&l);
	}
	log_fini(&ref);
	log_fini(&none);
	free(wl.steps);
	free(wl.frames);
	free(plain.steps);
	free(plain.frames);
}

/* (c) Eight flows last seen at 60 s and one packet at 100 s; then a tick saying 50 s.
 * The workers' clocks go to 100 s, the newest packet (so every shard writes the eight
 * flows, due at 65 s, even those that never saw the packet at 100 s), not back to 50 s;
 * the flow of 100 s is not due. A packet at 70 s afterwards is still older than the
 * newest, and the capture's time span stays 60..100 s. */
NFM_TEST(idle_tick_older_than_newest_moves_no_clock_back)
{
	uint8_t f[10][60];
	struct script_step steps[12];
	size_t n = 0;
	for (uint32_t i = 0; i < 8; i++) {
		script_udp_frame(f[i], 0x0a000010u + i * 77, 0xc0000201u + i, (uint16_t)(2000 + i), 53);
		steps[n++] = pkt_step(T0 + 60 * NS, f[i]);
	}
	script_udp_frame(f[8], 0x0a0000f0u, 0xc00002f0u, 3000, 53);
	script_udp_frame(f[9], 0x0a0000f1u, 0xc00002f1u, 3001, 53);
	steps[n++] = pkt_step(T0 + 100 * NS, f[8]);
	steps[n++] = idle_step(T0 + 50 * NS);
	steps[n++] = pkt_step(T0 + 70 * NS, f[9]);
	struct sink_log logs[4];
	for (unsigned w = 1; w <= 4; w++) {
		struct sink_log *l = &logs[w - 1];
		log_init(l);
		struct nfm_pipeline *pl = new_pipeline(w, l);
		struct nfm_source *src = open_script(steps, n);
		CHECK(pl && src);
		if (!pl || !src)
			return;
		CHECK_EQ_U(drive(src, pl), 0);
		CHECK_EQ_U(log_wait(l, 8, 10000), 8);
		for (size_t i = 0; i < 8 && i < l->n; i++) {
			CHECK_EQ_U(l->r[i].end_reason, NFM_END_IDLE);
			CHECK_EQ_U(l->r[i].seq, i + 1);
		}
		CHECK_EQ_U(nfm_pipeline_finish(pl, 1), 0);
		CHECK_EQ_U(l->n, 10);
		for (size_t i = 8; i < l->n; i++)
			CHECK_EQ_U(l->r[i].end_reason, NFM_END_EOF);
		struct nfm_counters c;
		nfm_pipeline_counters(pl, &c);
		CHECK_EQ_U(c.packets, 10);
		CHECK_EQ_U(c.ts_backwards, 1);
		CHECK_EQ_U(c.first_ts_ns, T0 + 60 * NS);
		CHECK_EQ_U(c.last_ts_ns, T0 + 100 * NS);
		CHECK(same_records(&logs[0], l));
		nfm_pipeline_free(pl);
		nfm_source_close(src);
	}
	for (unsigned w = 0; w < 4; w++)
		log_fini(&logs[w]);
}

/* Ticks before the first packet, repeated ticks, and ticks that go back change nothing
 * when no packet is older than them: the records are those of the packets alone. */
NFM_TEST(idle_ticks_that_change_nothing)
{
	uint8_t fa[60], fb[60];
	script_udp_frame(fa, 0x0a000001u, 0xc0000201u, 1000, 53);
	script_udp_frame(fb, 0x0a000002u, 0xc0000202u, 1001, 53);
	struct script_step ticks[] = {
		idle_step(T0 - 3 * NS), idle_step(T0 - 3 * NS), idle_step(T0 - 4 * NS),
		pkt_step(T0, fa), idle_step(T0), idle_step(T0), pkt_step(T0 + NS, fb),
		idle_step(T0 + 2 * NS), idle_step(T0 + NS), pkt_step(T0 + 3 * NS, fa),
		idle_step(T0 + 3 * NS),
	};
	struct script_step plain[] = {
		pkt_step(T0, fa), pkt_step(T0 + NS, fb), pkt_step(T0 + 3 * NS, fa),
	};
	for (unsigned w = 1; w <= 3; w++) {
		struct sink_log a, b;
		log_init(&a);
		log_init(&b);
		struct workload x = { ticks, NULL, sizeof ticks / sizeof ticks[0] };
		struct workload y = { plain, NULL, sizeof plain / sizeof plain[0] };
		struct nfm_counters ca, cb;
		CHECK_EQ_U(run_workload(&x, w, &a, &ca), 0);
		CHECK_EQ_U(run_workload(&y, w, &b, &cb), 0);
		CHECK_EQ_U(a.n, 2);
		CHECK(same_records(&a, &b));
		CHECK_EQ_U(ca.first_ts_ns, T0);
		CHECK_EQ_U(ca.last_ts_ns, T0 + 3 * NS);
		CHECK_EQ_U(ca.ts_backwards, 0);
		log_fini(&a);
		log_fini(&b);
	}
}

/* A sink error during a batch handed on by a tick stops the pipeline: later ticks and
 * finish return it. */
NFM_TEST(sink_error_after_a_tick_is_returned)
{
	uint8_t fa[60];
	script_udp_frame(fa, 0x0a000001u, 0xc0000201u, 1000, 53);
	for (unsigned w = 1; w <= 3; w++) {
		struct sink_log l;
		log_init(&l);
		l.fail_at = 1;
		struct nfm_pipeline *pl = new_pipeline(w, &l);
		CHECK(pl != NULL);
		if (!pl)
			return;
		struct nfm_raw_packet raw = { .data = fa, .cap_len = 60, .wire_len = 60,
					      .linktype = 1, .ts_ns = T0 };
		CHECK_EQ_U(nfm_pipeline_frame(pl, &raw), 0);
		CHECK_EQ_U(nfm_pipeline_advance(pl, T0 + 10 * NS), 0);
		int rc = 0;
		for (int i = 0; i < 10000 && !rc; i++) {
			rc = nfm_pipeline_advance(pl, T0 + 10 * NS); /* changes nothing */
			if (!rc) {
				struct timespec ms = { 0, 1000000L };
				nanosleep(&ms, NULL);
			}
		}
		CHECK(rc == NFM_ERR_IO);
		CHECK(nfm_pipeline_finish(pl, 1) == NFM_ERR_IO);
		CHECK_EQ_U(l.n, 0);
		nfm_pipeline_free(pl);
		log_fini(&l);
	}
}

NFM_TEST_MAIN_BEGIN()
	RUN(idle_tick_writes_due_flows);
	RUN(identical_for_any_worker_count_with_idle_ticks);
	RUN(idle_tick_older_than_newest_moves_no_clock_back);
	RUN(idle_ticks_that_change_nothing);
	RUN(sink_error_after_a_tick_is_returned);
NFM_TEST_MAIN_END()
