/* Flow table and meter: keys, direction, expiry, TCP states, limits, accounting. */
#include <stdlib.h>
#include <string.h>

#include "flow/meter.h"
#include "flow/table.h"
#include "nfm_frame.h"
#include "nfm_test.h"

#define S(x) ((uint64_t)(x) * 1000000000ULL)
#define MAXREC 64

struct collected {
	struct nfm_flow_record r[MAXREC];
	size_t n;
	uint64_t total; /* all records, including those past MAXREC */
};

static int collect(void *ctx, const struct nfm_flow_record *rec)
{
	struct collected *c = ctx;
	c->total++;
	if (c->n < MAXREC)
		c->r[c->n++] = *rec;
	return 0;
}

static struct nfm_packet v4(uint64_t ts, uint8_t proto, uint32_t src, uint16_t sp, uint32_t dst,
			    uint16_t dp, uint32_t wire, uint32_t payload)
{
	struct nfm_packet p;
	memset(&p, 0, sizeof p);
	p.ts_ns = ts;
	p.wire_len = p.cap_len = wire;
	p.l3 = NFM_L3_IPV4;
	p.ip_proto = proto;
	for (int i = 0; i < 4; i++) {
		p.src[i] = (uint8_t)(src >> (24 - 8 * i));
		p.dst[i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p.sport = sp;
	p.dport = dp;
	if (proto == NFM_IPPROTO_TCP || proto == NFM_IPPROTO_UDP)
		p.flags |= NFM_PKT_HAS_PORTS;
	p.l4_payload_len = payload;
	p.ip_len = wire - 14;
	return p;
}

static struct nfm_packet tcp_pkt(uint64_t ts, int from_client, uint8_t flags, uint32_t seq,
			     uint32_t ack, uint32_t payload)
{
	struct nfm_packet p = from_client
		? v4(ts, NFM_IPPROTO_TCP, 0x0a000002, 40000, 0x0a000001, 80, 54 + payload, payload)
		: v4(ts, NFM_IPPROTO_TCP, 0x0a000001, 80, 0x0a000002, 40000, 54 + payload, payload);
	p.tcp_flags = flags;
	p.tcp_seq = seq;
	p.tcp_ack = ack;
	return p;
}

static struct nfm_meter *meter(struct collected *c, void (*tweak)(struct nfm_meter_config *))
{
	struct nfm_meter_config cfg;
	nfm_meter_config_default(&cfg);
	if (tweak)
		tweak(&cfg);
	memset(c, 0, sizeof *c);
	return nfm_meter_new(&cfg, collect, c);
}

static int accounted(const struct nfm_counters *k)
{
	uint64_t sum = k->flow_packets + k->filtered + k->over_max_flows + k->fragments_unmatched +
		       k->decode_status[NFM_DECODE_TRUNCATED] + k->decode_status[NFM_DECODE_MALFORMED] +
		       k->decode_status[NFM_DECODE_UNSUPPORTED];
	for (int i = 0; i < NFM_NONIP_KIND_COUNT; i++)
		sum += k->nonip[i];
	return sum == k->packets;
}

NFM_TEST(table_insert_find_remove_through_growth)
{
	struct nfm_flow_table *t = nfm_flow_table_new(42, 0);
	CHECK(t != NULL);
	enum { N = 200000 };
	struct nfm_flow_key k;
	for (uint32_t i = 0; i < N; i++) {
		memset(&k, 0, sizeof k);
		memcpy(k.a, &i, 4);
		k.port_b = (uint16_t)i;
		k.proto = 6;
		uint64_t h = nfm_flow_key_hash(t, &k);
		CHECK(nfm_flow_table_find(t, &k, h) == NULL);
		struct nfm_flow *f = nfm_flow_table_add(t, &k, h);
		CHECK(f != NULL);
		f->cold.seq = i;
		/* a few earlier keys stay findable while the index migrates */
		if (i % 997 == 0 && i) {
			struct nfm_flow_key k2;
			memset(&k2, 0, sizeof k2);
			uint32_t j = i / 2;
			memcpy(k2.a, &j, 4);
			k2.port_b = (uint16_t)j;
			k2.proto = 6;
			struct nfm_flow *g = nfm_flow_table_find(t, &k2, nfm_flow_key_hash(t, &k2));
			CHECK(g && g->cold.seq == j);
		}
	}
	CHECK_EQ_U(nfm_flow_table_count(t), N);
	for (uint32_t i = 0; i < N; i += 2) {
		memset(&k, 0, sizeof k);
		memcpy(k.a, &i, 4);
		k.port_b = (uint16_t)i;
		k.proto = 6;
		struct nfm_flow *f = nfm_flow_table_find(t, &k, nfm_flow_key_hash(t, &k));
		CHECK(f && f->cold.seq == i);
		if (f)
			nfm_flow_table_remove(t, f);
	}
	CHECK_EQ_U(nfm_flow_table_count(t), N / 2);
	size_t found = 0;
	for (uint32_t i = 0; i < N; i++) {
		memset(&k, 0, sizeof k);
		memcpy(k.a, &i, 4);
		k.port_b = (uint16_t)i;
		k.proto = 6;
		struct nfm_flow *f = nfm_flow_table_find(t, &k, nfm_flow_key_hash(t, &k));
		if (f) {
			found++;
			CHECK(i % 2 == 1 && f->cold.seq == i);
		}
	}
	CHECK_EQ_U(found, N / 2);
	nfm_flow_table_free(t);
}

NFM_TEST(tcp_full_connection_closed)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet seq[] = {
		tcp_pkt(S(100), 1, NFM_TCP_SYN, 1000, 0, 0),
		tcp_pkt(S(100) + 1000000, 0, NFM_TCP_SYN | NFM_TCP_ACK, 5000, 1001, 0),
		tcp_pkt(S(100) + 2000000, 1, NFM_TCP_ACK, 1001, 5001, 0),
		tcp_pkt(S(100) + 3000000, 1, NFM_TCP_ACK | NFM_TCP_PSH, 1001, 5001, 100),
		tcp_pkt(S(100) + 4000000, 0, NFM_TCP_ACK | NFM_TCP_PSH, 5001, 1101, 300),
		tcp_pkt(S(100) + 5000000, 1, NFM_TCP_FIN | NFM_TCP_ACK, 1101, 5301, 0),
		tcp_pkt(S(100) + 6000000, 0, NFM_TCP_FIN | NFM_TCP_ACK, 5301, 1102, 0),
		tcp_pkt(S(100) + 7000000, 1, NFM_TCP_ACK, 1102, 5302, 0),
	};
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
		CHECK(nfm_meter_packet(m, &seq[i]) == 0);
	CHECK_EQ_U(c.n, 0); /* lingers for stray packets */
	struct nfm_packet later = v4(S(110), NFM_IPPROTO_UDP, 1, 1, 2, 2, 60, 10);
	nfm_meter_packet(m, &later);
	CHECK_EQ_U(c.n, 1);
	const struct nfm_flow_record *r = &c.r[0];
	CHECK_EQ_U(r->src[3], 2); /* client is the initiator */
	CHECK_EQ_U(r->src_port, 40000);
	CHECK_EQ_U(r->dst_port, 80);
	CHECK_EQ_U(r->pkts[NFM_FWD], 5);
	CHECK_EQ_U(r->pkts[NFM_BWD], 3);
	CHECK_EQ_U(r->bytes[NFM_FWD], 5 * 54 + 100);
	CHECK_EQ_U(r->bytes[NFM_BWD], 3 * 54 + 300);
	CHECK_EQ_U(r->payload[NFM_FWD], 100);
	CHECK_EQ_U(r->payload[NFM_BWD], 300);
	CHECK_EQ_U(r->syn_count, 2);
	CHECK_EQ_U(r->fin_count, 2);
	CHECK_EQ_U(r->ack_count, 7);
	CHECK_EQ_U(r->rst_count, 0);
	CHECK_EQ_U(r->conn_state, NFM_CONN_CLOSED);
	CHECK_EQ_U(r->end_reason, NFM_END_TCP_CLOSE);
	CHECK_EQ_U(r->last_ns - r->first_ns, 7000000);
	CHECK_EQ_U(r->iat_sum_ns, 7000000);
	CHECK_EQ_U(r->iat_min_ns, 1000000);
	CHECK_EQ_U(r->iat_max_ns, 1000000);
	CHECK_EQ_U(r->min_len, 54);
	CHECK_EQ_U(r->max_len, 354);
	CHECK(accounted(nfm_meter_counters(m)));
	nfm_meter_free(m);
}

NFM_TEST(synack_first_makes_receiver_initiator)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet a = tcp_pkt(S(1), 0, NFM_TCP_SYN | NFM_TCP_ACK, 5000, 1001, 0);
	struct nfm_packet b = tcp_pkt(S(1) + 10, 1, NFM_TCP_ACK, 1001, 5001, 0);
	nfm_meter_packet(m, &a);
	nfm_meter_packet(m, &b);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 1);
	CHECK_EQ_U(c.r[0].src_port, 40000);
	CHECK_EQ_U(c.r[0].pkts[NFM_FWD], 1);
	CHECK_EQ_U(c.r[0].pkts[NFM_BWD], 1);
	CHECK_EQ_U(c.r[0].conn_state, NFM_CONN_ESTABLISHED);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_EOF);
	nfm_meter_free(m);
}

/* The end of input writes every open flow in creation order, whatever the lists say,
 * and the meter then takes nothing more: a late packet or tick writes no flow twice. */
NFM_TEST(finish_writes_in_creation_order_then_refuses)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	enum { K = 40 };
	for (int i = 0; i < K; i++) { /* each answer touches an earlier flow again */
		struct nfm_packet a = tcp_pkt(S(1) + (uint64_t)i, 0, NFM_TCP_SYN, 1, 0, 0);
		a.sport = (uint16_t)(1000 + i);
		nfm_meter_packet(m, &a);
		struct nfm_packet b = tcp_pkt(S(1) + (uint64_t)i, 1, NFM_TCP_SYN | NFM_TCP_ACK, 1, 2, 0);
		b.dport = (uint16_t)(1000 + (i * 7) % (i + 1));
		nfm_meter_packet(m, &b);
	}
	uint64_t created = nfm_meter_counters(m)->flows_created;
	CHECK_EQ_U(nfm_meter_finish(m), 0);
	CHECK(created >= K && created <= MAXREC);
	CHECK_EQ_U(c.total, created);
	for (size_t i = 1; i < c.n; i++)
		CHECK(c.r[i - 1].seq < c.r[i].seq);
	CHECK_EQ_U(nfm_meter_active_flows(m), 0);
	struct nfm_packet late = tcp_pkt(S(9), 0, NFM_TCP_ACK, 1, 0, 0);
	CHECK(nfm_meter_packet(m, &late) != 0);
	CHECK_EQ_U(nfm_meter_tick(m, S(1000)), nfm_meter_packet(m, &late));
	CHECK_EQ_U(c.total, created);
	CHECK_EQ_U(nfm_meter_counters(m)->flows_written, created);
	nfm_meter_free(m);
}

NFM_TEST(tcp_states)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	/* rejected: SYN answered by RST */
	struct nfm_packet a = tcp_pkt(S(1), 1, NFM_TCP_SYN, 1, 0, 0);
	struct nfm_packet b = tcp_pkt(S(1) + 5, 0, NFM_TCP_RST | NFM_TCP_ACK, 0, 2, 0);
	nfm_meter_packet(m, &a);
	nfm_meter_packet(m, &b);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 1);
	CHECK_EQ_U(c.r[0].conn_state, NFM_CONN_REJECTED);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_TCP_RESET);
	nfm_meter_free(m);

	/* attempted, mid-stream, half-open, half-closed */
	m = meter(&c, NULL);
	a = tcp_pkt(S(1), 1, NFM_TCP_SYN, 1, 0, 0);
	nfm_meter_packet(m, &a);
	struct nfm_packet d = v4(S(2), NFM_IPPROTO_TCP, 7, 1000, 8, 2000, 60, 6);
	d.tcp_flags = NFM_TCP_ACK | NFM_TCP_PSH;
	nfm_meter_packet(m, &d);
	struct nfm_packet h1 = v4(S(3), NFM_IPPROTO_TCP, 9, 1000, 10, 2000, 54, 0);
	h1.tcp_flags = NFM_TCP_SYN;
	struct nfm_packet h2 = v4(S(3) + 1, NFM_IPPROTO_TCP, 10, 2000, 9, 1000, 54, 0);
	h2.tcp_flags = NFM_TCP_SYN | NFM_TCP_ACK;
	nfm_meter_packet(m, &h1);
	nfm_meter_packet(m, &h2);
	struct nfm_packet f1 = v4(S(4), NFM_IPPROTO_TCP, 11, 1000, 12, 2000, 54, 0);
	f1.tcp_flags = NFM_TCP_FIN | NFM_TCP_ACK;
	nfm_meter_packet(m, &f1);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 4);
	CHECK_EQ_U(c.r[0].conn_state, NFM_CONN_ATTEMPTED);
	CHECK_EQ_U(c.r[1].conn_state, NFM_CONN_MID_STREAM);
	CHECK_EQ_U(c.r[2].conn_state, NFM_CONN_HALF_OPEN);
	CHECK_EQ_U(c.r[3].conn_state, NFM_CONN_HALF_CLOSED);
	nfm_meter_free(m);
}

NFM_TEST(reset_after_established_and_stray_packets_join)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet p[] = {
		tcp_pkt(S(1), 1, NFM_TCP_SYN, 1, 0, 0),
		tcp_pkt(S(1) + 1, 0, NFM_TCP_SYN | NFM_TCP_ACK, 9, 2, 0),
		tcp_pkt(S(1) + 2, 1, NFM_TCP_ACK, 2, 10, 0),
		tcp_pkt(S(1) + 3, 0, NFM_TCP_RST, 10, 0, 0),
		tcp_pkt(S(1) + 4, 0, NFM_TCP_RST, 10, 0, 0), /* duplicate RST within the linger time */
	};
	for (size_t i = 0; i < 5; i++)
		nfm_meter_packet(m, &p[i]);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 1);
	CHECK_EQ_U(c.r[0].pkts[0] + c.r[0].pkts[1], 5);
	CHECK_EQ_U(c.r[0].rst_count, 2);
	CHECK_EQ_U(c.r[0].conn_state, NFM_CONN_RESET);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_TCP_RESET);
	nfm_meter_free(m);
}

NFM_TEST(new_syn_after_close_starts_new_flow)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet p[] = {
		tcp_pkt(S(1), 1, NFM_TCP_SYN, 1, 0, 0),
		tcp_pkt(S(1) + 1, 0, NFM_TCP_SYN | NFM_TCP_ACK, 9, 2, 0),
		tcp_pkt(S(1) + 2, 1, NFM_TCP_ACK, 2, 10, 0),
		tcp_pkt(S(1) + 3, 1, NFM_TCP_FIN | NFM_TCP_ACK, 2, 10, 0),
		tcp_pkt(S(1) + 4, 0, NFM_TCP_FIN | NFM_TCP_ACK, 10, 3, 0),
		tcp_pkt(S(1) + 5, 1, NFM_TCP_ACK, 3, 11, 0),
		tcp_pkt(S(1) + 6, 1, NFM_TCP_SYN, 7777, 0, 0),
	};
	for (size_t i = 0; i < 7; i++)
		nfm_meter_packet(m, &p[i]);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 2);
	CHECK_EQ_U(c.r[0].pkts[0] + c.r[0].pkts[1], 6);
	CHECK_EQ_U(c.r[0].conn_state, NFM_CONN_CLOSED);
	CHECK_EQ_U(c.r[1].pkts[0], 1);
	CHECK_EQ_U(c.r[1].conn_state, NFM_CONN_ATTEMPTED);
	nfm_meter_free(m);
}

static void short_active(struct nfm_meter_config *cfg) { cfg->active_timeout_ns = S(30); }

NFM_TEST(idle_and_active_timeouts)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet a = v4(S(0), NFM_IPPROTO_UDP, 1, 1000, 2, 53, 80, 38);
	struct nfm_packet b = v4(S(60), NFM_IPPROTO_UDP, 2, 53, 1, 1000, 80, 38);
	struct nfm_packet d = v4(S(121), NFM_IPPROTO_UDP, 1, 1000, 2, 53, 80, 38);
	nfm_meter_packet(m, &a);
	nfm_meter_packet(m, &b); /* exactly 60 s: same flow */
	nfm_meter_packet(m, &d); /* 61 s later: new flow */
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 2);
	CHECK_EQ_U(c.r[0].pkts[0], 1);
	CHECK_EQ_U(c.r[0].pkts[1], 1);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_IDLE);
	CHECK_EQ_U(c.r[1].end_reason, NFM_END_EOF);
	nfm_meter_free(m);

	m = meter(&c, short_active);
	for (int t = 0; t <= 100; t += 10) {
		struct nfm_packet q = v4(S(t), NFM_IPPROTO_UDP, 1, 1000, 2, 2000, 100, 58);
		nfm_meter_packet(m, &q);
	}
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 3);
	CHECK_EQ_U(c.r[0].pkts[0], 4);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_ACTIVE);
	CHECK_EQ_U(c.r[1].pkts[0], 4);
	CHECK_EQ_U(c.r[2].pkts[0], 3);
	nfm_meter_free(m);
}

static void short_both(struct nfm_meter_config *cfg)
{
	cfg->idle_timeout_ns = S(10);
	cfg->active_timeout_ns = S(30);
}

/* A flow whose idle and active timeouts have both passed when the clock is next looked
 * at ends by the one it reached first, whenever that look comes (with several workers it
 * comes at other packets), idle on a tie. */
NFM_TEST(both_timeouts_passed_the_first_one_is_the_reason)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, short_both);
	/* A: packets at 0..25 s: active at 30 s comes before idle at 35 s.
	 * B: packets at 0..15 s: idle at 25 s before active at 30 s.
	 * C: packets at 0..20 s: both at 30 s. The clock jumps to 100 s. */
	for (int t = 0; t <= 25; t += 5) {
		struct nfm_packet a = v4(S(t), NFM_IPPROTO_UDP, 1, 1000, 2, 53, 80, 38);
		nfm_meter_packet(m, &a);
		if (t <= 15) {
			struct nfm_packet b = v4(S(t), NFM_IPPROTO_UDP, 3, 1000, 4, 53, 80, 38);
			nfm_meter_packet(m, &b);
		}
		if (t <= 20) {
			struct nfm_packet d = v4(S(t), NFM_IPPROTO_UDP, 5, 1000, 6, 53, 80, 38);
			nfm_meter_packet(m, &d);
		}
	}
	struct nfm_packet late = v4(S(100), NFM_IPPROTO_UDP, 7, 1000, 8, 53, 80, 38);
	nfm_meter_packet(m, &late);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 4);
	for (size_t i = 0; i < c.n && i < 3; i++) {
		unsigned host = c.r[i].src[3];
		CHECK_EQ_U(c.r[i].end_reason, host == 1 ? NFM_END_ACTIVE : NFM_END_IDLE);
	}
	nfm_meter_free(m);

	/* A again, looked at by a packet of its own */
	m = meter(&c, short_both);
	for (int t = 0; t <= 25; t += 5) {
		struct nfm_packet a = v4(S(t), NFM_IPPROTO_UDP, 1, 1000, 2, 53, 80, 38);
		nfm_meter_packet(m, &a);
	}
	struct nfm_packet again = v4(S(100), NFM_IPPROTO_UDP, 1, 1000, 2, 53, 80, 38);
	nfm_meter_packet(m, &again);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 2);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_ACTIVE);
	CHECK_EQ_U(c.r[0].pkts[0], 6);
	nfm_meter_free(m);
}

NFM_TEST(icmp_echo_and_arp_keys)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet req = v4(S(1), NFM_IPPROTO_ICMP, 1, 0, 2, 0, 98, 56);
	req.icmp_type = 8;
	req.icmp_id = 77;
	req.flags |= NFM_PKT_ICMP_ECHO;
	struct nfm_packet rep = v4(S(1) + 100, NFM_IPPROTO_ICMP, 2, 0, 1, 0, 98, 56);
	rep.icmp_type = 0;
	rep.icmp_id = 77;
	rep.flags |= NFM_PKT_ICMP_ECHO;
	struct nfm_packet other = req;
	other.icmp_id = 78;
	struct nfm_packet unreach = v4(S(2), NFM_IPPROTO_ICMP, 3, 0, 1, 0, 70, 28);
	unreach.icmp_type = 3;
	unreach.icmp_code = 3;
	struct nfm_packet arq = v4(S(3), 0, 1, 0, 2, 0, 60, 0);
	arq.l3 = NFM_L3_ARP;
	struct nfm_packet arp = v4(S(3) + 1, 0, 2, 0, 1, 0, 60, 0);
	arp.l3 = NFM_L3_ARP;
	nfm_meter_packet(m, &req);
	nfm_meter_packet(m, &rep);
	nfm_meter_packet(m, &other);
	nfm_meter_packet(m, &unreach);
	nfm_meter_packet(m, &arq);
	nfm_meter_packet(m, &arp);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 4);
	CHECK_EQ_U(c.r[0].pkts[0], 1);
	CHECK_EQ_U(c.r[0].pkts[1], 1);
	CHECK_EQ_U(c.r[0].src_port, 77);
	CHECK_EQ_U(c.r[0].dst_port, 77);
	CHECK_EQ_U(c.r[1].src_port, 78);
	CHECK_EQ_U(c.r[2].src_port, 3);
	CHECK_EQ_U(c.r[2].dst_port, 3);
	CHECK_EQ_U(c.r[3].l3, NFM_L3_ARP);
	CHECK_EQ_U(c.r[3].pkts[0], 1);
	CHECK_EQ_U(c.r[3].pkts[1], 1);
	CHECK_EQ_U(c.r[3].conn_state, NFM_CONN_NONE);
	nfm_meter_free(m);
}

static void only_tcp_dns(struct nfm_meter_config *cfg) { cfg->protocols = NFM_PROTO_TCP | NFM_PROTO_DNS; }

NFM_TEST(protocol_filter)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, only_tcp_dns);
	struct nfm_packet u = v4(S(1), NFM_IPPROTO_UDP, 1, 1000, 2, 2000, 80, 38);
	struct nfm_packet dns = v4(S(1), NFM_IPPROTO_UDP, 1, 1000, 2, 53, 80, 38);
	struct nfm_packet t = tcp_pkt(S(1), 1, NFM_TCP_SYN, 1, 0, 0);
	nfm_meter_packet(m, &u);
	nfm_meter_packet(m, &dns);
	nfm_meter_packet(m, &t);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 2);
	CHECK_EQ_U(nfm_meter_counters(m)->filtered, 1);
	CHECK(accounted(nfm_meter_counters(m)));
	nfm_meter_free(m);
}

/* Idle expiry is exact: a flow that was touched after it was first listed is still
 * written as idle as soon as the clock passes its last packet plus the timeout. */
NFM_TEST(idle_expiry_exact_after_touch)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet a0 = v4(S(1000), NFM_IPPROTO_UDP, 1, 1111, 2, 2222, 80, 38);
	struct nfm_packet a1 = v4(S(1050), NFM_IPPROTO_UDP, 2, 2222, 1, 1111, 80, 38);
	struct nfm_packet b = v4(S(1061), NFM_IPPROTO_UDP, 3, 3333, 4, 4444, 80, 38);
	struct nfm_packet d = v4(S(1115), NFM_IPPROTO_UDP, 5, 5555, 6, 6666, 80, 38);
	nfm_meter_packet(m, &a0);
	nfm_meter_packet(m, &a1);
	nfm_meter_packet(m, &b);
	CHECK_EQ_U(c.n, 0);
	nfm_meter_packet(m, &d); /* 65 s after the flow's last packet */
	CHECK_EQ_U(c.n, 1);
	CHECK_EQ_U(c.r[0].src_port, 1111);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_IDLE);
	CHECK_EQ_U(c.r[0].pkts[0] + c.r[0].pkts[1], 2);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 3);
	nfm_meter_free(m);
}

/* Later fragments that arrive before the first one wait for it and count in its flow;
 * those whose first fragment never comes are unmatched, and every packet is accounted. */
NFM_TEST(fragments_before_their_first)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet later = v4(S(1), NFM_IPPROTO_UDP, 1, 0, 2, 0, 1514, 1480);
	later.flags = NFM_PKT_FRAGMENT;
	later.frag_id = 9;
	later.frag_offset = 185;
	struct nfm_packet last = later;
	last.ts_ns = S(1) + 10;
	last.wire_len = 82;
	last.l4_payload_len = 48;
	last.frag_offset = 370;
	struct nfm_packet first = v4(S(1) + 20, NFM_IPPROTO_UDP, 1, 1111, 2, 2222, 1514, 1472);
	first.flags |= NFM_PKT_FRAGMENT | NFM_PKT_FRAG_FIRST;
	first.frag_id = 9;
	struct nfm_packet orphan = later;
	orphan.frag_id = 10;
	nfm_meter_packet(m, &later);
	nfm_meter_packet(m, &last);
	nfm_meter_packet(m, &orphan);
	nfm_meter_packet(m, &first);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 1);
	CHECK_EQ_U(c.r[0].src_port, 1111);
	CHECK_EQ_U(c.r[0].pkts[0], 3);
	CHECK_EQ_U(c.r[0].bytes[0], 1514 + 82 + 1514);
	CHECK_EQ_U(c.r[0].payload[0], 1480 + 48 + 1472);
	CHECK_EQ_U(c.r[0].first_ns, S(1));
	CHECK_EQ_U(c.r[0].last_ns, S(1) + 20);
	const struct nfm_counters *k = nfm_meter_counters(m);
	CHECK_EQ_U(k->fragments, 4);
	CHECK_EQ_U(k->fragments_unmatched, 1);
	CHECK(accounted(k));
	nfm_meter_free(m);
}

/* PPP + IPv4 frame with bytes [off, off + len) of a TCP SYN 1.1.1.1:12345 -> 2.2.2.2:8080
 * whose header is 24 bytes (one option word) followed by pay payload bytes. */
static size_t ppp_tcp_fragment(uint8_t *b, size_t off, size_t len, size_t pay)
{
	struct frame seg = { .n = 0 }, f = { .n = 0 };
	tcp_hdr(&seg, 12345, 8080, 1, 0, NFM_TCP_SYN, 0);
	seg.b[12] = 0x60;
	put8(&seg, 3); /* window scale 14 */
	put8(&seg, 3);
	put8(&seg, 14);
	put8(&seg, 0);
	putn(&seg, 'p', pay);
	unsigned frag = (unsigned)(off / 8) | (off + len < 24 + pay ? 0x2000u : 0);
	put16(&f, 0xff03);
	put16(&f, 0x0021);
	ipv4_hdr(&f, 6, IP4(1, 1, 1, 1), IP4(2, 2, 2, 2), len, 0, frag, 7);
	put_bytes(&f, seg.b + off, len);
	memcpy(b, f.b, f.n);
	return f.n;
}

/* A TCP SYN whose header is split over IP fragments (8 + 8 + 8 bytes as in tcpdump's
 * frag-ppp-ip-tcp-syn.pcap, 8 + rest, 16 + rest), in order and last fragment first: one
 * flow with both ports, one SYN, payload only beyond the 24-byte header, no malformed
 * packet, no unmatched fragment. */
NFM_TEST(tcp_header_split_over_fragments)
{
	static const size_t splits[][3] = { /* inner cuts (0: none), payload */
		{ 8, 16, 0 }, { 8, 16, 10 }, { 8, 0, 10 }, { 16, 0, 10 }, { 16, 0, 0 },
	};
	for (size_t i = 0; i < sizeof splits / sizeof splits[0]; i++)
		for (int reversed = 0; reversed < 2; reversed++) {
			size_t bounds[4] = { 0 }, nb = 1, pay = splits[i][2];
			for (size_t k = 0; k < 2 && splits[i][k]; k++)
				bounds[nb++] = splits[i][k];
			bounds[nb++] = 24 + pay;
			struct collected c;
			struct nfm_meter *m = meter(&c, NULL);
			for (size_t k = 0; k + 1 < nb; k++) {
				size_t j = reversed ? nb - 2 - k : k;
				uint8_t b[128];
				size_t n = ppp_tcp_fragment(b, bounds[j], bounds[j + 1] - bounds[j], pay);
				nfm_meter_frame(m, b, (uint32_t)n, (uint32_t)n, S(1) + k, NFM_LINK_PPP);
			}
			nfm_meter_finish(m);
			const struct nfm_counters *k = nfm_meter_counters(m);
			CHECK_EQ_U(c.n, 1);
			CHECK_EQ_U(c.r[0].src_port, 12345);
			CHECK_EQ_U(c.r[0].dst_port, 8080);
			CHECK_EQ_U(c.r[0].syn_count, 1);
			CHECK_EQ_U(c.r[0].pkts[0], nb - 1);
			CHECK_EQ_U(c.r[0].payload[0], pay);
			CHECK_EQ_U(k->decode_status[NFM_DECODE_MALFORMED], 0);
			CHECK_EQ_U(k->fragments_unmatched, 0);
			CHECK_EQ_U(k->flow_packets, nb - 1);
			CHECK(accounted(k));
			if (c.n != 1 || c.r[0].payload[0] != pay)
				fprintf(stderr, "split %zu reversed %d\n", i, reversed);
			nfm_meter_free(m);
		}
}

static void max2(struct nfm_meter_config *cfg) { cfg->max_flows = 2; }
static void cap2(struct nfm_meter_config *cfg) { cfg->max_active_flows = 2; }

NFM_TEST(max_flows_and_active_cap)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, max2);
	for (uint32_t i = 0; i < 3; i++) {
		struct nfm_packet p = v4(S(1) + i, NFM_IPPROTO_UDP, 1, (uint16_t)(1000 + i), 2, 53, 80, 38);
		nfm_meter_packet(m, &p);
	}
	struct nfm_packet again = v4(S(2), NFM_IPPROTO_UDP, 2, 53, 1, 1000, 80, 38);
	nfm_meter_packet(m, &again);
	CHECK(!nfm_meter_done(m));
	struct nfm_packet late = v4(S(200), NFM_IPPROTO_UDP, 5, 5, 6, 6, 80, 38);
	nfm_meter_packet(m, &late); /* expires both; over the limit itself */
	CHECK(nfm_meter_done(m));
	nfm_meter_finish(m);
	CHECK_EQ_U(c.n, 2);
	/* both idle-expired by the late packet, longest idle first */
	CHECK_EQ_U(c.r[0].src_port, 1001);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_IDLE);
	CHECK_EQ_U(c.r[1].src_port, 1000);
	CHECK_EQ_U(c.r[1].pkts[1], 1);
	CHECK_EQ_U(c.r[1].end_reason, NFM_END_IDLE);
	CHECK_EQ_U(nfm_meter_counters(m)->over_max_flows, 2);
	CHECK(accounted(nfm_meter_counters(m)));
	nfm_meter_free(m);

	m = meter(&c, cap2);
	for (uint32_t i = 0; i < 3; i++) {
		struct nfm_packet p = v4(S(1) + i, NFM_IPPROTO_UDP, 1, (uint16_t)(1000 + i), 2, 53, 80, 38);
		nfm_meter_packet(m, &p);
	}
	CHECK_EQ_U(c.n, 1);
	CHECK_EQ_U(c.r[0].src_port, 1000);
	CHECK_EQ_U(c.r[0].end_reason, NFM_END_EVICTED);
	CHECK_EQ_U(nfm_meter_active_flows(m), 2);
	nfm_meter_finish(m);
	nfm_meter_free(m);
}

NFM_TEST(fragments_vlan_and_backwards_time)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	struct nfm_packet f1 = v4(S(5), NFM_IPPROTO_UDP, 1, 4000, 2, 5000, 1514, 1472);
	f1.flags |= NFM_PKT_FRAGMENT | NFM_PKT_FRAG_FIRST;
	f1.frag_id = 99;
	struct nfm_packet f2 = v4(S(5) + 10, NFM_IPPROTO_UDP, 1, 0, 2, 0, 600, 580);
	f2.flags = NFM_PKT_FRAGMENT;
	f2.frag_id = 99;
	f2.frag_offset = 185;
	struct nfm_packet orphan = f2;
	orphan.frag_id = 100;
	struct nfm_packet vl = v4(S(4), NFM_IPPROTO_UDP, 1, 4000, 2, 5000, 100, 54); /* older ts */
	vl.flags |= NFM_PKT_VLAN;
	vl.vlan_id = 10;
	nfm_meter_packet(m, &f1);
	nfm_meter_packet(m, &f2);
	nfm_meter_packet(m, &orphan);
	nfm_meter_packet(m, &vl);
	nfm_meter_finish(m);
	const struct nfm_counters *k = nfm_meter_counters(m);
	CHECK_EQ_U(c.n, 2);
	CHECK_EQ_U(c.r[0].pkts[0], 2);
	CHECK_EQ_U(c.r[0].bytes[0], 1514 + 600);
	CHECK_EQ_U(c.r[0].payload[0], 1472 + 580);
	CHECK_EQ_U(c.r[1].has_vlan, 1);
	CHECK_EQ_U(c.r[1].vlan_id, 10);
	CHECK_EQ_U(k->fragments, 3);
	CHECK_EQ_U(k->fragments_unmatched, 1);
	CHECK_EQ_U(k->ts_backwards, 1);
	CHECK(accounted(k));
	nfm_meter_free(m);
}

NFM_TEST(many_flows_memory_is_reused)
{
	struct collected c;
	struct nfm_meter *m = meter(&c, NULL);
	/* 100k one-packet flows in batches of 1000, 100 s apart: each batch idle-expires
	 * the one before, so at most 1000 flows are held at once. */
	for (uint32_t i = 0; i < 100000; i++) {
		struct nfm_packet p = v4(S(i / 1000) * 100, NFM_IPPROTO_UDP, i, 1, 0x7f000001, 2, 60, 10);
		nfm_meter_packet(m, &p);
	}
	CHECK_EQ_U(nfm_meter_counters(m)->peak_active_flows, 1000);
	CHECK_EQ_U(c.total, 99000);
	nfm_meter_finish(m);
	CHECK_EQ_U(c.total, 100000);
	nfm_meter_free(m);
}

NFM_TEST_MAIN_BEGIN()
RUN(table_insert_find_remove_through_growth);
RUN(tcp_full_connection_closed);
RUN(synack_first_makes_receiver_initiator);
RUN(finish_writes_in_creation_order_then_refuses);
RUN(tcp_states);
RUN(reset_after_established_and_stray_packets_join);
RUN(new_syn_after_close_starts_new_flow);
RUN(idle_and_active_timeouts);
RUN(both_timeouts_passed_the_first_one_is_the_reason);
RUN(icmp_echo_and_arp_keys);
RUN(protocol_filter);
RUN(max_flows_and_active_cap);
RUN(idle_expiry_exact_after_touch);
RUN(fragments_before_their_first);
RUN(tcp_header_split_over_fragments);
RUN(fragments_vlan_and_backwards_time);
RUN(many_flows_memory_is_reused);
NFM_TEST_MAIN_END()
