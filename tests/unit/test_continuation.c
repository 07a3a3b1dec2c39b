/* A flow that its active timeout cuts is continued by the next flow of its key, which
 * keeps its initiator even when its first packet comes from the responder (engine note
 * E1, docs/flows.md); a fresh SYN, an idle gap or the flow cap make the next flow decide
 * afresh, and the memory of the cut never causes an eviction nor counts as a flow. */
#include <stdlib.h>
#include <string.h>

#include "flow/meter.h"
#include "nfm_test.h"

#define S(x) ((uint64_t)(x) * 1000000000ULL)
#define MS(x) ((uint64_t)(x) * 1000000ULL)
#define MAXREC 32

struct collected {
	struct nfm_flow_record r[MAXREC];
	size_t n;
};

static int collect(void *ctx, const struct nfm_flow_record *rec)
{
	struct collected *c = ctx;
	if (c->n < MAXREC)
		c->r[c->n++] = *rec;
	return 0;
}

/* A packet between the client 10.0.0.2:40000 and the server 10.0.0.1:80 (TCP or UDP),
 * or of another conversation (other != 0: 10.9.9.other:5000 -> 10.0.0.1:53 UDP). */
static struct nfm_packet pkt(uint64_t ts, int proto, int from_client, uint8_t flags, int other)
{
	struct nfm_packet p;
	memset(&p, 0, sizeof p);
	p.ts_ns = ts;
	p.wire_len = p.cap_len = 100;
	p.ip_len = 86;
	p.l3 = NFM_L3_IPV4;
	p.ip_proto = (uint8_t)proto;
	p.flags = NFM_PKT_HAS_PORTS;
	uint8_t client[4] = { 10, 0, 0, 2 }, server[4] = { 10, 0, 0, 1 };
	if (other) {
		client[1] = client[2] = 9;
		client[3] = (uint8_t)other;
	}
	uint16_t cport = other ? 5000 : 40000, sport = other ? 53 : 80;
	memcpy(p.src, from_client ? client : server, 4);
	memcpy(p.dst, from_client ? server : client, 4);
	p.sport = from_client ? cport : sport;
	p.dport = from_client ? sport : cport;
	p.tcp_flags = flags;
	p.l4_payload_len = 20;
	return p;
}

static void short_active(struct nfm_meter_config *cfg)
{
	cfg->active_timeout_ns = S(30);
	cfg->idle_timeout_ns = S(60);
}

static void no_idle(struct nfm_meter_config *cfg)
{
	cfg->active_timeout_ns = S(30);
	cfg->idle_timeout_ns = 0;
}

static void capped(struct nfm_meter_config *cfg)
{
	short_active(cfg);
	cfg->max_active_flows = 1;
}

static struct nfm_meter *meter(struct collected *c, void (*tweak)(struct nfm_meter_config *))
{
	struct nfm_meter_config cfg;
	nfm_meter_config_default(&cfg);
	tweak(&cfg);
	memset(c, 0, sizeof *c);
	return nfm_meter_new(&cfg, collect, c);
}

static void feed(struct nfm_meter *m, const struct nfm_packet *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nfm_meter_packet(m, &p[i]);
}

#define A 0x10 /* ACK */

/* A TCP connection of 70 s cut twice by the 30 s active timeout, each later piece
 * starting with a server packet: every piece is written from the client's side. */
NFM_TEST(long_tcp_connection_keeps_its_initiator)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, short_active);
	const int T = NFM_IPPROTO_TCP;
	struct nfm_packet p[] = {
		pkt(0, T, 1, 0x02, 0), pkt(MS(1), T, 0, 0x12, 0), pkt(MS(2), T, 1, A, 0),
		pkt(S(10), T, 1, A, 0), pkt(S(20), T, 0, A, 0),
		pkt(S(31), T, 0, A, 0), /* 31 s after the first: piece 2, from the server */
		pkt(S(32), T, 1, A, 0), pkt(S(45), T, 0, A, 0),
		pkt(S(62), T, 0, A, 0), /* 31 s after piece 2's first: piece 3, from the server */
		pkt(S(70), T, 1, A, 0),
	};
	feed(m, p, sizeof p / sizeof p[0]);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 3);
	static const unsigned fwd[] = { 3, 1, 1 }, bwd[] = { 2, 2, 1 };
	for (size_t i = 0; i < c.n && i < 3; i++) {
		CHECK_EQ_U(c.r[i].src_port, 40000);
		CHECK_EQ_U(c.r[i].dst_port, 80);
		CHECK(c.r[i].src[3] == 2 && c.r[i].dst[3] == 1);
		CHECK_EQ_U(c.r[i].pkts[NFM_FWD], fwd[i]);
		CHECK_EQ_U(c.r[i].pkts[NFM_BWD], bwd[i]);
		CHECK_EQ_U(c.r[i].end_reason, i < 2 ? NFM_END_ACTIVE : NFM_END_EOF);
	}
	CHECK_EQ_U(c.r[1].first_ns, S(31));
	CHECK_EQ_U(nfm_meter_counters(m)->flows_created, 3);
	CHECK_EQ_U(nfm_meter_counters(m)->peak_active_flows, 1);
	nfm_meter_free(m);
}

/* The same for UDP, and for a piece of the responder's packets alone. */
NFM_TEST(udp_and_one_sided_pieces)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, short_active);
	const int U = NFM_IPPROTO_UDP;
	struct nfm_packet p[] = {
		pkt(0, U, 1, 0, 0), pkt(S(1), U, 0, 0, 0), pkt(S(29), U, 1, 0, 0),
		pkt(S(40), U, 0, 0, 0), pkt(S(50), U, 0, 0, 0), /* piece 2: the server only */
	};
	feed(m, p, sizeof p / sizeof p[0]);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 2);
	CHECK_EQ_U(c.r[0].src_port, 40000);
	CHECK_EQ_U(c.r[1].src_port, 40000);
	CHECK_EQ_U(c.r[1].pkts[NFM_FWD], 0);
	CHECK_EQ_U(c.r[1].pkts[NFM_BWD], 2);
	nfm_meter_free(m);
}

/* After the cut, a SYN without ACK is a new connection: its sender initiates. A gap
 * longer than the idle timeout also ends what the cut continued. */
NFM_TEST(fresh_syn_or_idle_gap_decide_afresh)
{
	struct collected c;
	const int T = NFM_IPPROTO_TCP, U = NFM_IPPROTO_UDP;
	struct nfm_meter *m = meter(&c, short_active);
	struct nfm_packet syn[] = {
		pkt(0, T, 1, A, 0), pkt(S(20), T, 0, A, 0),
		pkt(S(31), T, 0, 0x02, 0), /* a SYN from the server's side */
		pkt(S(32), T, 1, 0x12, 0),
	};
	feed(m, syn, sizeof syn / sizeof syn[0]);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 2);
	CHECK_EQ_U(c.r[0].src_port, 40000);
	CHECK_EQ_U(c.r[1].src_port, 80);
	nfm_meter_free(m);

	/* the cut happens at 40 s (another conversation moves the clock); the flow's last
	 * packet was at 25 s; the server speaks at 84 s (59 s later: continued) or at 86 s
	 * (61 s later: over the idle timeout, a new flow) */
	for (int late = 0; late < 2; late++) {
		m = meter(&c, short_active);
		struct nfm_packet gap[] = {
			pkt(0, U, 1, 0, 0), pkt(S(25), U, 0, 0, 0),
			pkt(S(40), U, 1, 0, 7),
			pkt(S(late ? 86 : 84), U, 0, 0, 0),
		};
		feed(m, gap, 3);
		CHECK_EQ_U(nfm_meter_active_flows(m), 1); /* the memory of the cut is no flow */
		feed(m, gap + 3, 1); /* (which also cuts the other conversation, 44 s old) */
		CHECK_EQ_U(nfm_meter_active_flows(m), 1);
		nfm_meter_finish(m);
		CHECK_EQ_U(c.n, 3);
		CHECK_EQ_U(c.r[0].src_port, 40000);
		CHECK_EQ_U(c.r[0].end_reason, NFM_END_ACTIVE);
		const struct nfm_flow_record *next = c.r[1].src[1] == 9 ? &c.r[2] : &c.r[1];
		CHECK_EQ_U(next->src_port, (late ? 80 : 40000));
		nfm_meter_free(m);
	}
}

/* Without an idle timeout (the cic profiles) the memory of a cut lasts an active timeout
 * after the flow's last packet (20 s + 30 s): a packet of the key until then continues
 * the flow, a later one starts afresh, whether it finds the memory (49 s, 51 s) or the
 * clock had already passed it (the other conversation at 51 s, then the key at 52 s). */
NFM_TEST(without_idle_timeout_the_memory_lasts_an_active_timeout)
{
	struct collected c;
	const int U = NFM_IPPROTO_UDP;
	for (int late = 0; late < 3; late++) {
		struct nfm_meter *m = meter(&c, no_idle);
		struct nfm_packet p[] = {
			pkt(0, U, 1, 0, 0), pkt(S(20), U, 0, 0, 0),
			pkt(S(40), U, 1, 0, 7), /* moves the clock: the cut */
			pkt(late == 2 ? S(51) : S(40), U, 1, 0, 7),
			pkt(S(late == 0 ? 49 : late == 1 ? 51 : 52), U, 0, 0, 0),
		};
		feed(m, p, sizeof p / sizeof p[0]);
		nfm_meter_finish(m);
		CHECK_EQ_U(c.n, 3);
		CHECK_EQ_U(c.r[0].src_port, 40000);
		const struct nfm_flow_record *next = NULL;
		for (size_t i = 1; i < c.n; i++)
			if (c.r[i].src[1] != 9 && c.r[i].dst[1] != 9)
				next = &c.r[i];
		CHECK(next != NULL);
		if (next)
			CHECK_EQ_U(next->src_port, (late ? 80 : 40000));
		nfm_meter_free(m);
	}
}

/* Under the flow cap the memory of a cut gives way first: no flow is evicted for it,
 * and the flows held never pass the cap. */
NFM_TEST(cap_drops_the_memory_not_a_flow)
{
	struct collected c;
	const int U = NFM_IPPROTO_UDP;
	struct nfm_meter *m = meter(&c, capped);
	struct nfm_packet p[] = {
		pkt(0, U, 1, 0, 0), pkt(S(25), U, 0, 0, 0),
		pkt(S(40), U, 1, 0, 7), /* cuts the first (active); room for this one */
		pkt(S(45), U, 0, 0, 0), /* the first's key again: the memory is gone */
	};
	feed(m, p, sizeof p / sizeof p[0]);
	const struct nfm_counters *k = nfm_meter_counters(m);
	CHECK_EQ_U(k->flows_by_reason[NFM_END_EVICTED], 1); /* the conversation of 40 s */
	CHECK_EQ_U(k->peak_active_flows, 1);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 3);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_ACTIVE);
	CHECK_EQ_U(c.r[0].src_port, 40000);
	CHECK_EQ_U(c.r[1].end_reason, NFM_END_EVICTED);
	CHECK_EQ_U(c.r[1].src[1], 9);
	CHECK_EQ_U(c.r[2].src_port, 80); /* decided afresh */
	nfm_meter_free(m);
}

NFM_TEST_MAIN_BEGIN()
	RUN(long_tcp_connection_keeps_its_initiator);
	RUN(udp_and_one_sided_pieces);
	RUN(fresh_syn_or_idle_gap_decide_afresh);
	RUN(without_idle_timeout_the_memory_lasts_an_active_timeout);
	RUN(cap_drops_the_memory_not_a_flow);
NFM_TEST_MAIN_END()
