/* The netflow module and the split of flows into NetFlow records (feature/netflow.h):
 * per direction packets, IP bytes, first/last ms (truncated), TCP flags, ToS of the first
 * packet, ICMP type/code as nfdump stores them, no record for ARP, biflow reverse
 * counters; the same records through the pipeline with 1-3 workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature/netflow.h"
#include "flow/meter.h"
#include "flow/module.h"
#include "flow/pipeline.h"
#include "nfm_frame.h"
#include "nfm_test.h"

#define T0 1700000000000000000ULL

struct got {
	size_t off;
	struct nfm_nf_record r[32];
	size_t n;
	struct nfm_nf_biflow bi[16];
	size_t nbi;
	unsigned arp_flows;
};

static int collect(void *ctx, const struct nfm_flow_record *rec)
{
	struct got *g = ctx;
	const void *st = nfm_netflow_state(rec, g->off);
	struct nfm_nf_record two[2];
	int k = nfm_netflow_split(rec, st, two);
	for (int i = 0; i < k && g->n < 32; i++)
		g->r[g->n++] = two[i];
	if (g->nbi < 16 && nfm_netflow_biflow(rec, st, &g->bi[g->nbi]))
		g->nbi++;
	if (rec->l3 == NFM_L3_ARP)
		g->arp_flows++;
	return 0;
}

/* The frames: a TCP exchange (client ToS 0x20, server 0x48), ICMP echo request and reply,
 * a one-way IPv6 UDP datagram pair, and an ARP request. Times in ns after T0. */
struct timed {
	struct frame f;
	uint64_t t;
};

static size_t traffic(struct timed *v)
{
	size_t n = 0;
	uint32_t c = IP4(10, 0, 0, 1), s = IP4(10, 0, 0, 2);
	struct frame *f;
	/* TCP: SYN, SYN-ACK, ACK+PSH with 100 bytes, FIN-ACK both ways, ACK */
	struct { int back; unsigned flags; size_t pay; uint64_t t; } tcp_pk[] = {
		{ 0, 0x02, 0, 1500000 }, { 1, 0x12, 0, 2999999 }, { 0, 0x18, 100, 4000001 },
		{ 0, 0x11, 0, 5000000 }, { 1, 0x11, 0, 6000000 }, { 0, 0x10, 0, 7000000 },
	};
	for (size_t i = 0; i < sizeof tcp_pk / sizeof tcp_pk[0]; i++) {
		f = &v[n].f;
		f->n = 0;
		eth(f, 0x0800);
		int b = tcp_pk[i].back;
		size_t ip = ipv4(f, 6, b ? s : c, b ? c : s, 20 + tcp_pk[i].pay, 0, 0);
		f->b[ip + 1] = b ? 0x48 : 0x20; /* ToS */
		tcp_hdr(f, b ? 80 : 40000, b ? 40000 : 80, 1000, 2000, tcp_pk[i].flags, 0);
		putn(f, 'x', tcp_pk[i].pay);
		v[n++].t = tcp_pk[i].t;
	}
	/* ICMP echo request (8/0) and reply (0/0), 56 bytes of data */
	for (int b = 0; b < 2; b++) {
		f = &v[n].f;
		f->n = 0;
		eth(f, 0x0800);
		ipv4(f, 1, b ? s : c, b ? c : s, 8 + 56, 0, 0);
		put8(f, b ? 0 : 8); put8(f, 0); put16(f, 0); put16(f, 0x77); put16(f, 1);
		putn(f, 0, 56);
		v[n++].t = 8000000 + (uint64_t)b * 1000;
	}
	/* IPv6 UDP, two datagrams one way */
	for (int i = 0; i < 2; i++) {
		f = &v[n].f;
		f->n = 0;
		eth(f, 0x86dd);
		ipv6(f, 17, 8 + 10, 1, 2);
		udp_hdr(f, 5000, 6000, 18);
		putn(f, 'u', 10);
		v[n++].t = 9000000 + (uint64_t)i * 1000000;
	}
	/* ARP request */
	f = &v[n].f;
	f->n = 0;
	eth(f, 0x0806);
	put16(f, 1); put16(f, 0x0800); put8(f, 6); put8(f, 4); put16(f, 1);
	putn(f, 4, 6); put32(f, c); putn(f, 0, 6); put32(f, s);
	v[n++].t = 12000000;
	return n;
}

static const struct nfm_nf_record *find(const struct got *g, uint8_t proto, uint16_t sp)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->r[i].proto == proto && g->r[i].src_port == sp)
			return &g->r[i];
	return NULL;
}

static void check_records(struct nfm_test_state *nfm_t_, const struct got *g)
{
	CHECK_EQ_U(g->n, 5);            /* TCP x2, ICMP x2, IPv6 UDP x1 */
	CHECK_EQ_U(g->arp_flows, 1);    /* metered, but no NetFlow record */
	const struct nfm_nf_record *cl = find(g, 6, 40000), *sv = find(g, 6, 80);
	CHECK(cl && sv);
	if (!cl || !sv)
		return;
	CHECK_EQ_U(cl->packets, 4);
	CHECK_EQ_U(cl->bytes, 40 + 40 + 140 + 40); /* IP total lengths */
	CHECK_EQ_U(cl->tcp_flags, 0x02 | 0x18 | 0x11 | 0x10);
	CHECK_EQ_U(cl->tos, 0x20);
	CHECK_EQ_U(cl->dst_port, 80);
	CHECK_EQ_U(cl->first_ms, T0 / 1000000 + 1); /* 1.5 ms truncated */
	CHECK_EQ_U(cl->last_ms, T0 / 1000000 + 7);
	CHECK_EQ_U(sv->packets, 2);
	CHECK_EQ_U(sv->bytes, 80);
	CHECK_EQ_U(sv->tcp_flags, 0x12 | 0x11);
	CHECK_EQ_U(sv->tos, 0x48);
	CHECK_EQ_U(sv->first_ms, T0 / 1000000 + 2); /* 2.999999 ms truncated */
	CHECK_EQ_U(sv->dst_port, 40000);
	CHECK_EQ_U(sv->src[3], 2);
	CHECK_EQ_U(sv->dst[3], 1);
	CHECK_EQ_U(cl->end_reason, NFM_END_TCP_CLOSE);
	const struct nfm_nf_record *req = NULL, *rep = NULL;
	for (size_t i = 0; i < g->n; i++)
		if (g->r[i].proto == 1)
			*(g->r[i].dst_port == 8 * 256 ? &req : &rep) = &g->r[i];
	CHECK(req && rep);
	if (req && rep) {
		CHECK_EQ_U(req->src_port, 0);
		CHECK_EQ_U(req->icmp_type, 8);
		CHECK_EQ_U(req->bytes, 84);
		CHECK_EQ_U(rep->dst_port, 0);
		CHECK_EQ_U(rep->icmp_type, 0);
		CHECK_EQ_U(rep->src[3], 2);
		CHECK_EQ_U(req->tcp_flags, 0);
	}
	const struct nfm_nf_record *u6 = find(g, 17, 5000);
	CHECK(u6 != NULL);
	if (u6) {
		CHECK_EQ_U(u6->l3, NFM_L3_IPV6);
		CHECK_EQ_U(u6->packets, 2);
		CHECK_EQ_U(u6->bytes, 2 * (40 + 18)); /* payload length + 40 */
		CHECK_EQ_U(u6->last_ms - u6->first_ms, 1);
		CHECK_EQ_U(u6->src[15], 1);
		CHECK_EQ_U(u6->tun_l3, 0);
	}
	/* biflows: one per IP flow, reverse counters from the responder */
	CHECK_EQ_U(g->nbi, 3);
	for (size_t i = 0; i < g->nbi; i++) {
		const struct nfm_nf_biflow *b = &g->bi[i];
		if (b->fwd.proto == 6) {
			CHECK_EQ_U(b->fwd.packets, 4);
			CHECK_EQ_U(b->rev_packets, 2);
			CHECK_EQ_U(b->rev_bytes, 80);
			CHECK_EQ_U(b->rev_tcp_flags, 0x12 | 0x11);
		} else if (b->fwd.proto == 17) {
			CHECK_EQ_U(b->rev_packets, 0);
			CHECK_EQ_U(b->rev_first_ms, 0);
		}
	}
}

static int by_key(const void *x, const void *y)
{
	const struct nfm_nf_record *a = x, *b = y;
	return memcmp(a, b, sizeof *a);
}

struct setup {
	struct timed v[32];
	size_t n;
	struct nfm_layout lay;
	struct nfm_meter_config mc;
	size_t off;
};

static void setup(struct setup *s)
{
	s->n = traffic(s->v);
	const struct nfm_module *mods[] = { &nfm_mod_netflow };
	struct nfm_error err;
	nfm_error_clear(&err);
	nfm_layout_build(&s->lay, mods, 1, &err);
	nfm_meter_config_default(&s->mc);
	s->mc.layout = &s->lay;
	s->off = nfm_layout_offset(&s->lay, &nfm_mod_netflow);
}

NFM_TEST(split_one_meter)
{
	static struct setup s;
	setup(&s);
	CHECK(s.off != SIZE_MAX);
	struct got g = { .off = s.off };
	struct nfm_meter *m = nfm_meter_new(&s.mc, collect, &g);
	CHECK(m != NULL);
	for (size_t i = 0; m && i < s.n; i++)
		CHECK_EQ_U(nfm_meter_frame(m, s.v[i].f.b, (uint32_t)s.v[i].f.n, (uint32_t)s.v[i].f.n,
					   T0 + s.v[i].t, NFM_LINK_ETHERNET), 0);
	CHECK_EQ_U(nfm_meter_finish(m), 0);
	nfm_meter_free(m);
	check_records(nfm_t_, &g);

	/* A record without the module's state has no NetFlow record. */
	struct nfm_flow_record bare = { .l3 = NFM_L3_IPV4, .ip_proto = 6 };
	struct nfm_nf_record two[2];
	CHECK_EQ_U(nfm_netflow_split(&bare, nfm_netflow_state(&bare, s.off), two), 0);
}

/* Pipeline: the worker encodes the records, the writer collects them. */
static int enc(void *ctx, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct got *g = ctx;
	struct nfm_nf_record two[2];
	int k = nfm_netflow_split(rec, nfm_netflow_state(rec, g->off), two);
	uint8_t arp = rec->l3 == NFM_L3_ARP;
	if (nfm_buf_put(row, &arp, 1))
		return -1;
	return k ? nfm_buf_put(row, two, (size_t)k * sizeof two[0]) : 0;
}

static int emit(void *ctx, const uint8_t *row, size_t len)
{
	struct got *g = ctx;
	g->arp_flows += row[0];
	for (size_t at = 1; at + sizeof g->r[0] <= len && g->n < 32; at += sizeof g->r[0])
		memcpy(&g->r[g->n++], row + at, sizeof g->r[0]);
	return 0;
}

NFM_TEST(split_pipeline)
{
	static struct setup s;
	setup(&s);
	struct got ref = { .off = s.off };
	struct nfm_meter *m = nfm_meter_new(&s.mc, collect, &ref);
	for (size_t i = 0; m && i < s.n; i++)
		nfm_meter_frame(m, s.v[i].f.b, (uint32_t)s.v[i].f.n, (uint32_t)s.v[i].f.n,
				T0 + s.v[i].t, NFM_LINK_ETHERNET);
	nfm_meter_finish(m);
	nfm_meter_free(m);
	qsort(ref.r, ref.n, sizeof ref.r[0], by_key);
	for (unsigned w = 1; w <= 3; w++) {
		struct got g = { .off = s.off };
		struct nfm_pipeline_config pc = { .meter = s.mc, .workers = w, .encode = enc,
						  .emit = emit, .ctx = &g };
		struct nfm_pipeline *pl = nfm_pipeline_new(&pc, NULL, NULL);
		CHECK(pl != NULL);
		for (size_t i = 0; pl && i < s.n; i++) {
			struct nfm_raw_packet raw = { .data = s.v[i].f.b, .cap_len = (uint32_t)s.v[i].f.n,
						      .wire_len = (uint32_t)s.v[i].f.n,
						      .ts_ns = T0 + s.v[i].t,
						      .linktype = NFM_LINK_ETHERNET };
			CHECK_EQ_U(nfm_pipeline_frame(pl, &raw), 0);
		}
		CHECK_EQ_U(pl ? nfm_pipeline_finish(pl, 1) : 1, 0);
		nfm_pipeline_free(pl);
		CHECK_EQ_U(g.n, ref.n);
		CHECK_EQ_U(g.arp_flows, 1);
		qsort(g.r, g.n, sizeof g.r[0], by_key);
		CHECK(memcmp(g.r, ref.r, ref.n * sizeof ref.r[0]) == 0);
	}
}

NFM_TEST_MAIN_BEGIN()
	RUN(split_one_meter);
	RUN(split_pipeline);
NFM_TEST_MAIN_END()
