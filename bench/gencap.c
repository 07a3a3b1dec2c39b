/* nfm-gencap: the project's deterministic capture generator.
 *
 * Writes a classic pcap (Ethernet) of realistic, interleaved traffic through the project's
 * pcap writer: TCP connections (handshake, bulk or interactive data, FIN/RST teardown or
 * left open), DNS query/response pairs, mDNS queries, ICMP/ICMPv6 echo, NTP and syslog,
 * over IPv4 or IPv6, some with an 802.1Q tag. The same seed always gives the same file:
 * one local PRNG (splitmix64), no global mutable state, no wall clock.
 *
 * Flows are kept in a fixed table of --concurrent slots; each packet comes from a random
 * slot, so flows overlap in time; a finished flow's slot is refilled at once. The global
 * clock advances by small random gaps (never backwards). Generation stops at exactly
 * --packets packets, cutting whatever is still open. No per-packet allocation. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/pcap_writer.h"
#include "util/err.h"

#define LINKTYPE_ETHERNET 1
#define SNAPLEN 65535u
#define ETH_MIN 60u
#define POOL_SIZE 65536u
#define POOL_SLACK 2048u
#define MAX_FRAME 1600u
#define MAX_CONCURRENT 10000000u

/* ---------------------------------------------------------------- PRNG (splitmix64) */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0), multiply-shift: no modulo bias worth caring about. */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi], inclusive. */
static uint32_t rng_range(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

/* True with probability pct/1000. */
static int rng_permille(struct rng *r, uint32_t pm)
{
	return rng_below(r, 1000) < pm;
}

/* Roughly log-uniform in [lo, hi] (lo >= 1): a random octave, then uniform inside it. */
static uint32_t rng_logu(struct rng *r, uint32_t lo, uint32_t hi)
{
	uint32_t octaves = 0;
	for (uint64_t v = lo; v * 2 <= hi; v *= 2)
		octaves++;
	for (;;) {
		uint32_t base = lo << rng_below(r, octaves + 1);
		uint32_t v = base + rng_below(r, base);
		if (v <= hi)
			return v;
	}
}

/* ---------------------------------------------------------------- byte helpers */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Ones'-complement sum of n bytes as big-endian 16-bit words, not folded. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	while (n >= 4) {
		sum += ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		sum += ((uint32_t)p[0] << 8) | p[1];
		p += 2;
		n -= 2;
	}
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ---------------------------------------------------------------- options */

enum mix { MIX_DEFAULT, MIX_SHORT };

struct opts {
	uint64_t packets;
	uint64_t seed;
	uint32_t concurrent;
	enum mix mix;
	uint32_t ipv6_pct;
	uint32_t vlan_pct;
	uint64_t start;
	int nanosecond;
	const char *output;
};

/* ---------------------------------------------------------------- flows */

enum kind { K_TCP, K_DNS, K_MDNS, K_ICMP, K_NTP, K_SYSLOG };

enum tcp_plan {
	TP_SYN_ONLY,  /* SYN, nothing back (scan / filtered) */
	TP_REFUSED,   /* SYN, RST/ACK from the server */
	TP_HALF_SCAN, /* SYN, SYN/ACK, RST from the client */
	TP_FULL,      /* handshake, data, teardown */
};

enum tcp_phase { PH_SYN, PH_SYNACK, PH_ACK3, PH_DATA, PH_FIN1, PH_FIN2, PH_FIN3, PH_RST };

enum teardown { TD_FIN, TD_RST, TD_OPEN };

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

struct flow {
	uint8_t kind;
	uint8_t v6;
	uint8_t started;
	uint8_t done;
	uint16_t vlan;       /* 0: untagged */
	uint16_t cport, sport;
	uint8_t caddr[16], saddr[16]; /* IPv4 in the first 4 bytes */
	uint8_t cmac[6], smac[6];
	uint16_t ipid[2];
	uint32_t flowlabel[2];
	uint64_t aux;        /* per-flow seed for regenerated content (DNS names, ...) */
	uint32_t count;      /* packets emitted */
	uint32_t budget;     /* kind-specific packet count */
	/* TCP */
	uint8_t plan, phase, teardown, fin_by, rst_by, bulk, bulk_snd, unacked, istep, req_sent;
	uint16_t win[2];
	uint16_t mss_seg;
	uint32_t seq[2];     /* next sequence number each side sends */
	uint32_t data_left;
	/* ICMP / NTP */
	uint16_t icmp_id, icmp_seq;
	uint64_t last_ts;    /* time of the last request (echoed in replies) */
	uint8_t pending;     /* a request waits for its reply */
};

struct gen {
	struct rng rng;
	struct opts o;
	uint64_t now;        /* ns */
	uint64_t flows_started;
	struct flow *flows;
	uint8_t pkt[MAX_FRAME];
	uint8_t pool[POOL_SIZE + POOL_SLACK];  /* random bytes for binary payloads */
	uint8_t text[POOL_SIZE + POOL_SLACK];  /* printable text for text payloads */
};

static const uint8_t mdns_mac4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t mdns_mac6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0xfb };
static const uint8_t mdns_addr6[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb };

static void mac_from_addr(uint8_t mac[6], const uint8_t *addr, size_t n, uint8_t tag)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	mac[0] = 0x06; /* locally administered, unicast */
	mac[1] = tag;
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* Heavy-tailed packet budget: most flows short, a few long. */
static uint32_t draw_budget(struct rng *r, enum mix mix)
{
	if (mix == MIX_SHORT && rng_permille(r, 800)) {
		uint32_t x = rng_below(r, 100);
		return x < 60 ? 1 : x < 85 ? 2 : 3;
	}
	uint32_t x = rng_below(r, 1000);
	if (mix == MIX_SHORT && x >= 700) /* short mix: no elephants */
		return rng_logu(r, 21, 100);
	if (x < 50)
		return rng_range(r, 1, 3);
	if (x < 700)
		return rng_range(r, 4, 20);
	if (x < 980)
		return rng_logu(r, 21, 200);
	return rng_logu(r, 201, 3000);
}

static void pick_client(struct rng *r, struct flow *f)
{
	if (f->v6) {
		static const uint8_t pfx[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c };
		memcpy(f->caddr, pfx, 6);
		uint32_t subnet = rng_permille(r, 600) ? rng_below(r, 64) : rng_below(r, 65536);
		put16(f->caddr + 6, subnet);
		uint64_t iid = rng_permille(r, 600) ? 0x1000 + rng_below(r, 4096) : rng_next(r);
		for (int i = 0; i < 8; i++)
			f->caddr[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
	} else {
		f->caddr[0] = 10;
		if (rng_permille(r, 600)) { /* a busy site: 10.0.0.0/20 */
			f->caddr[1] = 0;
			f->caddr[2] = (uint8_t)rng_below(r, 16);
		} else {
			f->caddr[1] = (uint8_t)rng_below(r, 256);
			f->caddr[2] = (uint8_t)rng_below(r, 256);
		}
		f->caddr[3] = (uint8_t)rng_range(r, 1, 254);
	}
	f->cport = (uint16_t)rng_range(r, 32768, 60999);
}

/* host: 1..254; net: 0..2 selects one of the three documentation /24s. */
static void set_server(struct flow *f, uint32_t net, uint32_t host)
{
	if (f->v6) {
		static const uint8_t pfx[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05 };
		memset(f->saddr, 0, 16);
		memcpy(f->saddr, pfx, 6);
		f->saddr[7] = (uint8_t)net;
		put16(f->saddr + 14, host);
	} else {
		static const uint8_t nets[3][3] = { { 192, 0, 2 }, { 198, 51, 100 }, { 203, 0, 113 } };
		memcpy(f->saddr, nets[net], 3);
		f->saddr[3] = (uint8_t)host;
	}
}

static void pick_server(struct rng *r, struct flow *f)
{
	uint32_t host = rng_permille(r, 500) ? rng_range(r, 1, 16) : rng_range(r, 1, 254);
	set_server(f, rng_below(r, 3), host);
}

static void flow_init(struct gen *g, struct flow *f)
{
	struct rng *r = &g->rng;
	memset(f, 0, sizeof *f);
	f->v6 = rng_below(r, 100) < g->o.ipv6_pct;
	if (rng_below(r, 100) < g->o.vlan_pct)
		f->vlan = (uint16_t)rng_range(r, 10, 4000);
	uint32_t budget = draw_budget(r, g->o.mix);
	uint32_t k = rng_below(r, 1000);
	f->kind = k < 600 ? K_TCP : k < 830 ? K_DNS : k < 850 ? K_MDNS : k < 900 ? K_ICMP
		: k < 960 ? K_NTP : K_SYSLOG;
	pick_client(r, f);
	f->ipid[0] = (uint16_t)rng_next(r);
	f->ipid[1] = (uint16_t)rng_next(r);
	f->flowlabel[0] = (uint32_t)rng_next(r) & 0xfffff;
	f->flowlabel[1] = (uint32_t)rng_next(r) & 0xfffff;
	f->aux = rng_next(r);

	switch (f->kind) {
	case K_TCP: {
		static const uint16_t ports[6] = { 443, 80, 22, 25, 8080, 3306 };
		static const uint16_t weight[6] = { 450, 200, 80, 50, 100, 120 };
		uint32_t w = rng_below(r, 1000), i = 0;
		while (i < 5 && w >= weight[i]) {
			w -= weight[i];
			i++;
		}
		f->sport = ports[i];
		pick_server(r, f);
		f->seq[0] = (uint32_t)rng_next(r);
		f->seq[1] = (uint32_t)rng_next(r);
		f->win[0] = (uint16_t)rng_range(r, 400, 3000);
		f->win[1] = (uint16_t)rng_range(r, 400, 3000);
		f->mss_seg = f->v6 ? 1428 : 1448;
		f->phase = PH_SYN;
		if (budget == 1) {
			f->plan = TP_SYN_ONLY;
		} else if (budget == 2) {
			f->plan = TP_REFUSED;
		} else if (budget == 3 && rng_permille(r, 500)) {
			f->plan = TP_HALF_SCAN;
		} else {
			f->plan = TP_FULL;
			uint32_t t = rng_below(r, 1000);
			f->teardown = t < 800 ? TD_FIN : t < 920 ? TD_RST : TD_OPEN;
			uint32_t rest = budget - 3;
			if (f->teardown == TD_FIN && rest < 3)
				f->teardown = rest >= 1 && rng_permille(r, 500) ? TD_RST : TD_OPEN;
			if (f->teardown == TD_RST && rest < 1)
				f->teardown = TD_OPEN;
			f->data_left = rest - (f->teardown == TD_FIN ? 3 : f->teardown == TD_RST ? 1 : 0);
			f->fin_by = rng_permille(r, 300);
			f->rst_by = rng_permille(r, 500);
			f->bulk = f->data_left >= 12 && rng_permille(r, 750);
			f->bulk_snd = !rng_permille(r, 150); /* mostly downloads */
			f->req_sent = !f->bulk_snd;          /* uploads start with data */
		}
		break;
	}
	case K_DNS: {
		static const uint8_t resolvers[4] = { 53, 54, 10, 11 };
		f->sport = 53;
		uint32_t net = rng_below(r, 2); /* separate statements: a fixed draw order */
		set_server(f, net, resolvers[rng_below(r, 4)]);
		if (g->o.mix == MIX_SHORT)
			f->budget = budget == 1 ? 1 : 2;
		else
			f->budget = rng_permille(r, 50) ? 1 : 2;
		break;
	}
	case K_MDNS:
		f->cport = 5353;
		f->sport = 5353;
		if (f->v6) {
			memcpy(f->saddr, mdns_addr6, 16);
			memcpy(f->smac, mdns_mac6, 6);
		} else {
			f->saddr[0] = 224;
			f->saddr[1] = 0;
			f->saddr[2] = 0;
			f->saddr[3] = 251;
			memcpy(f->smac, mdns_mac4, 6);
		}
		f->budget = budget < 3 ? budget : 3;
		break;
	case K_ICMP:
		pick_server(r, f);
		f->icmp_id = (uint16_t)rng_next(r);
		f->icmp_seq = 1;
		f->budget = budget < 200 ? budget : 200;
		if (g->o.mix != MIX_SHORT && f->budget > 1 && (f->budget & 1) && rng_permille(r, 700))
			f->budget++; /* mostly answered; odd budgets leave the last one unanswered */
		break;
	case K_NTP:
		f->sport = 123;
		set_server(f, 2, rng_range(r, 120, 127));
		f->budget = budget < 16 ? budget : 16;
		if (g->o.mix != MIX_SHORT && (f->budget & 1) && rng_permille(r, 800))
			f->budget++;
		break;
	case K_SYSLOG:
		f->sport = 514;
		set_server(f, 1, rng_range(r, 200, 203));
		f->budget = budget < 50 ? budget : 50;
		break;
	}
	size_t alen = f->v6 ? 16 : 4;
	mac_from_addr(f->cmac, f->caddr, alen, 0x00);
	if (f->kind != K_MDNS)
		mac_from_addr(f->smac, f->saddr, alen, 0x01);
}

/* ---------------------------------------------------------------- packet assembly */

/* Writes Ethernet (+802.1Q) and IP headers for direction dir (0: client->server).
 * Returns the offset of the L4 header; *l3 receives the IP header offset. */
static size_t put_l2l3(struct flow *f, int dir, uint8_t proto, uint8_t ttl, uint8_t *p,
		       size_t *l3)
{
	memcpy(p, dir ? f->cmac : f->smac, 6);
	memcpy(p + 6, dir ? f->smac : f->cmac, 6);
	size_t off = 12;
	if (f->vlan) {
		put16(p + 12, 0x8100);
		put16(p + 14, f->vlan);
		off = 16;
	}
	put16(p + off, f->v6 ? 0x86dd : 0x0800);
	off += 2;
	*l3 = off;
	uint8_t *ip = p + off;
	const uint8_t *src = dir ? f->saddr : f->caddr;
	const uint8_t *dst = dir ? f->caddr : f->saddr;
	if (f->v6) {
		put32(ip, 0x60000000u | f->flowlabel[dir]);
		put16(ip + 4, 0); /* payload length: later */
		ip[6] = proto;
		ip[7] = ttl;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
		return off + 40;
	}
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, 0); /* total length: later */
	put16(ip + 4, f->ipid[dir]++);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = ttl;
	ip[9] = proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	return off + 20;
}

/* Fills lengths and checksums, pads to the Ethernet minimum; returns the frame length.
 * csum_off: offset of the checksum inside the L4 header. */
static uint32_t finish(struct flow *f, uint8_t *p, size_t l3, size_t l4, size_t l4len,
		       uint8_t proto, size_t csum_off)
{
	uint8_t *ip = p + l3;
	uint64_t sum = 0;
	if (f->v6) {
		put16(ip + 4, (uint32_t)l4len);
		sum = csum_add(sum, ip + 8, 32);
	} else {
		put16(ip + 2, (uint32_t)(20 + l4len));
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		if (proto != 1)
			sum = csum_add(sum, ip + 12, 8);
	}
	if (!(proto == 1 && !f->v6)) /* ICMPv4 has no pseudo-header */
		sum += (uint64_t)proto + l4len;
	sum = csum_add(sum, p + l4, l4len);
	uint16_t c = csum_fold(sum);
	if (proto == 17 && c == 0)
		c = 0xffff;
	put16(p + l4 + csum_off, c);
	size_t len = l4 + l4len;
	if (len < ETH_MIN) {
		memset(p + len, 0, ETH_MIN - len);
		len = ETH_MIN;
	}
	return (uint32_t)len;
}

static const uint8_t *pool_bytes(struct gen *g, const uint8_t *pool)
{
	return pool + rng_below(&g->rng, POOL_SIZE);
}

/* ---------------------------------------------------------------- TCP */

static uint32_t tcp_pkt(struct gen *g, struct flow *f, int dir, uint8_t flags, size_t plen)
{
	uint8_t *p = g->pkt;
	size_t l3;
	size_t l4 = put_l2l3(f, dir, 6, 64, p, &l3);
	uint8_t *t = p + l4;
	int syn = (flags & TH_SYN) != 0;
	size_t hl = syn ? 32 : 20;
	put16(t, dir ? f->sport : f->cport);
	put16(t + 2, dir ? f->cport : f->sport);
	put32(t + 4, f->seq[dir]);
	put32(t + 8, (flags & TH_ACK) ? f->seq[!dir] : 0);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	uint32_t win = syn ? (dir ? 65160u : 64240u) : f->win[dir];
	if ((flags & TH_RST) && !(flags & TH_ACK))
		win = 0;
	put16(t + 14, win);
	put16(t + 16, 0);
	put16(t + 18, 0);
	if (syn) {
		static const uint8_t opt[12] = { 2, 4, 0, 0, 1, 3, 3, 7, 1, 1, 4, 2 };
		memcpy(t + 20, opt, sizeof opt);
		put16(t + 22, f->v6 ? 1440 : 1460);
	}
	if (plen) {
		int text = f->sport == 25 || f->sport == 80 || f->sport == 8080;
		memcpy(t + hl, pool_bytes(g, text ? g->text : g->pool), plen);
		if (f->sport == 443) { /* one TLS application-data record per segment */
			t[hl] = 0x17;
			t[hl + 1] = 3;
			t[hl + 2] = 3;
			put16(t + hl + 3, (uint32_t)(plen - 5));
		}
	}
	f->seq[dir] += (uint32_t)plen + ((flags & (TH_SYN | TH_FIN)) ? 1u : 0u);
	return finish(f, p, l3, l4, hl + plen, 6, 16);
}

/* Smallest payload that still parses as the port's protocol (TLS record, SSH packet). */
static uint32_t tcp_min_payload(const struct flow *f)
{
	return f->sport == 22 ? 36 : f->sport == 443 ? 32 : 1;
}

static uint32_t tcp_data(struct gen *g, struct flow *f)
{
	uint32_t lo = tcp_min_payload(f);
	struct rng *r = &g->rng;
	int last = f->data_left == 1;
	f->data_left--;
	if (f->bulk) {
		int snd = f->bulk_snd;
		if (!f->req_sent) {
			f->req_sent = 1;
			return tcp_pkt(g, f, 0, TH_PSH | TH_ACK, rng_range(r, 80, 600));
		}
		if (f->unacked >= 2) {
			f->unacked = 0;
			return tcp_pkt(g, f, !snd, TH_ACK, 0);
		}
		f->unacked++;
		if (last)
			return tcp_pkt(g, f, snd, TH_PSH | TH_ACK, rng_range(r, lo, f->mss_seg));
		return tcp_pkt(g, f, snd, TH_ACK, f->mss_seg);
	}
	/* interactive: request, response, (pure ACK), ... */
	switch (f->istep) {
	case 0:
		f->istep = 1;
		return tcp_pkt(g, f, 0, TH_PSH | TH_ACK,
			       f->sport == 22 ? rng_range(r, 36, 100) : rng_range(r, lo < 20 ? 20 : lo, 400));
	case 1:
		f->istep = rng_permille(r, 500) ? 2 : 0;
		return tcp_pkt(g, f, 1, TH_PSH | TH_ACK, rng_range(r, lo < 20 ? 20 : lo, 1400));
	default:
		f->istep = 0;
		return tcp_pkt(g, f, 0, TH_ACK, 0);
	}
}

static uint32_t tcp_next(struct gen *g, struct flow *f)
{
	switch (f->phase) {
	case PH_SYN:
		if (f->plan == TP_SYN_ONLY)
			f->done = 1;
		f->phase = PH_SYNACK;
		return tcp_pkt(g, f, 0, TH_SYN, 0);
	case PH_SYNACK:
		if (f->plan == TP_REFUSED) {
			f->done = 1;
			f->seq[1] = 0;
			return tcp_pkt(g, f, 1, TH_RST | TH_ACK, 0);
		}
		f->phase = PH_ACK3;
		return tcp_pkt(g, f, 1, TH_SYN | TH_ACK, 0);
	case PH_ACK3:
		if (f->plan == TP_HALF_SCAN) {
			f->done = 1;
			return tcp_pkt(g, f, 0, TH_RST, 0);
		}
		f->phase = f->data_left ? PH_DATA : f->teardown == TD_FIN ? PH_FIN1 : PH_RST;
		if (!f->data_left && f->teardown == TD_OPEN)
			f->done = 1;
		return tcp_pkt(g, f, 0, TH_ACK, 0);
	case PH_DATA: {
		uint32_t len = tcp_data(g, f);
		if (!f->data_left) {
			f->phase = f->teardown == TD_FIN ? PH_FIN1 : PH_RST;
			if (f->teardown == TD_OPEN)
				f->done = 1;
		}
		return len;
	}
	case PH_FIN1:
		f->phase = PH_FIN2;
		return tcp_pkt(g, f, f->fin_by, TH_FIN | TH_ACK, 0);
	case PH_FIN2:
		f->phase = PH_FIN3;
		return tcp_pkt(g, f, !f->fin_by, TH_FIN | TH_ACK, 0);
	case PH_FIN3:
		f->done = 1;
		return tcp_pkt(g, f, f->fin_by, TH_ACK, 0);
	default:
		f->done = 1;
		return tcp_pkt(g, f, f->rst_by, TH_RST | TH_ACK, 0);
	}
}

/* ---------------------------------------------------------------- UDP payloads */

static uint32_t udp_pkt(struct gen *g, struct flow *f, int dir, uint8_t ttl, const uint8_t *pl,
			size_t plen)
{
	uint8_t *p = g->pkt;
	size_t l3;
	size_t l4 = put_l2l3(f, dir, 17, ttl, p, &l3);
	uint8_t *u = p + l4;
	put16(u, dir ? f->sport : f->cport);
	put16(u + 2, dir ? f->cport : f->sport);
	put16(u + 4, (uint32_t)(8 + plen));
	put16(u + 6, 0);
	if (pl)
		memcpy(u + 8, pl, plen);
	return finish(f, p, l3, l4, 8 + plen, 17, 6);
}

/* Encoded DNS name of exactly `target` bytes (label lengths + labels + root). */
static size_t dns_name(struct rng *r, uint8_t *p, size_t target, const char *suffix)
{
	size_t slen = strlen(suffix);
	size_t rem = target - 2 - slen; /* bytes for the leading labels, >= 2 */
	size_t o = 0;
	while (rem > 0) {
		size_t len = rem <= 24 ? rem - 1 : rng_range(r, 3, (uint32_t)(rem - 3 < 20 ? rem - 3 : 20));
		p[o++] = (uint8_t)len;
		for (size_t i = 0; i < len; i++) {
			uint32_t c = rng_below(r, i ? 36 : 26);
			p[o++] = (uint8_t)(c < 26 ? 'a' + c : '0' + (c - 26));
		}
		rem -= len + 1;
	}
	p[o++] = (uint8_t)slen;
	memcpy(p + o, suffix, slen);
	o += slen;
	p[o++] = 0;
	return o;
}

/* Query (response = 0) or its response, regenerated from the flow's seed. */
static uint32_t dns_pkt(struct gen *g, struct flow *f, int response)
{
	static const char *const tlds[5] = { "com", "net", "org", "io", "arpa" };
	struct rng r = { f->aux };
	uint8_t msg[320];
	int mdns = f->kind == K_MDNS;
	size_t qlen = rng_range(&r, 30, 60);
	uint16_t id = mdns ? 0 : (uint16_t)rng_next(&r);
	uint16_t qtype = rng_permille(&r, 700) ? 1 : 28;
	put16(msg, id);
	put16(msg + 2, response ? 0x8180 : mdns ? 0x0000 : 0x0100);
	put16(msg + 4, 1);
	put16(msg + 6, 0);
	put16(msg + 8, 0);
	put16(msg + 10, 0);
	size_t o = 12;
	o += dns_name(&r, msg + o, qlen - 16, mdns ? "local" : tlds[rng_below(&r, 4)]);
	put16(msg + o, qtype);
	put16(msg + o + 2, 1);
	o += 4;
	if (!response)
		return udp_pkt(g, f, 0, mdns ? 255 : 64, msg, o);
	size_t asz = qtype == 1 ? 16 : 28;
	uint32_t nmin = o >= 60 ? 1 : (uint32_t)((60 - o + asz - 1) / asz);
	uint32_t nmax = (uint32_t)((300 - o) / asz);
	if (nmin < 1)
		nmin = 1;
	if (nmax > 8)
		nmax = 8;
	if (nmin > nmax)
		nmin = nmax;
	uint32_t n = rng_range(&r, nmin, nmax);
	put16(msg + 6, n);
	uint32_t ttl = rng_range(&r, 30, 86400);
	for (uint32_t i = 0; i < n; i++) {
		put16(msg + o, 0xc00c);
		put16(msg + o + 2, qtype);
		put16(msg + o + 4, 1);
		put32(msg + o + 6, ttl);
		put16(msg + o + 10, (uint32_t)(asz - 12));
		uint64_t a = rng_next(&r);
		if (qtype == 1) {
			put32(msg + o + 12, (uint32_t)(0xc6336400u | (a & 0xff))); /* 198.51.100.x */
		} else {
			static const uint8_t pfx[8] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0a, 0, 0 };
			memcpy(msg + o + 12, pfx, 8);
			for (int b = 0; b < 8; b++)
				msg[o + 20 + b] = (uint8_t)(a >> (8 * b));
		}
		o += asz;
	}
	return udp_pkt(g, f, 1, 64, msg, o);
}

#define NTP_UNIX_OFFSET 2208988800ull

static uint64_t ntp_ts(uint64_t ns)
{
	uint64_t sec = ns / 1000000000u + NTP_UNIX_OFFSET;
	uint64_t frac = ((ns % 1000000000u) << 32) / 1000000000u;
	return (sec << 32) | frac;
}

static void put_ntp64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t ntp_pkt(struct gen *g, struct flow *f)
{
	uint8_t m[48];
	memset(m, 0, sizeof m);
	if (!f->pending) {
		f->pending = 1;
		f->last_ts = g->now;
		m[0] = 0x23; /* LI 0, VN 4, mode 3 (client) */
		m[2] = 6;
		m[3] = 0xe9;
		put_ntp64(m + 40, ntp_ts(g->now));
		return udp_pkt(g, f, 0, 64, m, sizeof m);
	}
	f->pending = 0;
	uint64_t rx = g->now > 20000 ? g->now - 20000 : g->now;
	if (rx < f->last_ts)
		rx = f->last_ts;
	m[0] = 0x24; /* mode 4 (server) */
	m[1] = 2;
	m[2] = 6;
	m[3] = 0xe8;
	put32(m + 4, 0x00000120u + (uint32_t)(f->aux & 0xff));
	put32(m + 8, 0x00000400u + (uint32_t)((f->aux >> 8) & 0xfff));
	memcpy(m + 12, f->saddr, 4); /* reference id of an upstream (looks like an address) */
	m[12] = 198;
	put_ntp64(m + 16, ntp_ts(f->last_ts > 64000000000ull ? f->last_ts - 64000000000ull : 0));
	put_ntp64(m + 24, ntp_ts(f->last_ts));
	put_ntp64(m + 32, ntp_ts(rx));
	put_ntp64(m + 40, ntp_ts(g->now));
	return udp_pkt(g, f, 1, 64, m, sizeof m);
}

static uint32_t syslog_pkt(struct gen *g, struct flow *f)
{
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	static const char *const apps[4] = { "sshd", "kernel", "cron", "nginx" };
	char m[420];
	time_t t = (time_t)(g->now / 1000000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	uint32_t pri = 8 * rng_range(&g->rng, 1, 23);
	pri += rng_range(&g->rng, 2, 7);
	int n = snprintf(m, sizeof m, "<%u>%s %2d %02d:%02d:%02d host%u %s[%u]: ", pri,
			 mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)f->caddr[3], apps[f->aux & 3], (unsigned)((f->aux >> 8) & 0x7fff) + 100);
	size_t len = rng_range(&g->rng, 100, 400);
	if (n < 0 || (size_t)n >= len)
		n = 0;
	memcpy(m + n, pool_bytes(g, g->text), len - (size_t)n);
	return udp_pkt(g, f, 0, 64, (const uint8_t *)m, len);
}

/* ---------------------------------------------------------------- ICMP echo */

static uint32_t icmp_pkt(struct gen *g, struct flow *f)
{
	uint8_t *p = g->pkt;
	int reply = f->pending;
	int dir = reply;
	uint8_t proto = f->v6 ? 58 : 1;
	size_t l3;
	size_t l4 = put_l2l3(f, dir, proto, 64, p, &l3);
	uint8_t *c = p + l4;
	if (!reply)
		f->last_ts = g->now;
	c[0] = f->v6 ? (reply ? 129 : 128) : (reply ? 0 : 8);
	c[1] = 0;
	put16(c + 2, 0);
	put16(c + 4, f->icmp_id);
	put16(c + 6, f->icmp_seq);
	/* Linux ping payload: struct timeval then 0x10, 0x11, ... */
	put64le(c + 8, f->last_ts / 1000000000u);
	put64le(c + 16, (f->last_ts % 1000000000u) / 1000u);
	for (int i = 0; i < 40; i++)
		c[24 + i] = (uint8_t)(0x10 + i);
	if (reply) {
		f->pending = 0;
		f->icmp_seq++;
	} else {
		f->pending = f->count + 1 < f->budget;
		if (!f->pending)
			f->icmp_seq++;
	}
	return finish(f, p, l3, l4, 64, proto, 2);
}

/* ---------------------------------------------------------------- driver */

static uint32_t flow_next(struct gen *g, struct flow *f)
{
	uint32_t len;
	switch (f->kind) {
	case K_TCP:
		len = tcp_next(g, f);
		break;
	case K_DNS:
		len = dns_pkt(g, f, f->count == 1);
		break;
	case K_MDNS:
		len = dns_pkt(g, f, 0);
		break;
	case K_ICMP:
		len = icmp_pkt(g, f);
		break;
	case K_NTP:
		len = ntp_pkt(g, f);
		break;
	default:
		len = syslog_pkt(g, f);
		break;
	}
	f->count++;
	if (f->kind != K_TCP && f->count >= f->budget)
		f->done = 1;
	return len;
}

static uint64_t next_gap(struct rng *r)
{
	uint32_t x = rng_below(r, 1000);
	if (x < 900)
		return rng_below(r, 30000);
	if (x < 995)
		return rng_range(r, 30000, 300000);
	return rng_range(r, 1000000, 10000000);
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: nfm-gencap [options] OUTPUT.pcap   (\"-\" writes to standard output)\n"
		"Writes a deterministic, realistic classic pcap (Ethernet) for tests and benchmarks.\n"
		"  --packets N        packets to write (default 100000)\n"
		"  --seed S           PRNG seed; the same seed gives the same file (default 1)\n"
		"  --concurrent C     flows open at once (default 1000)\n"
		"  --mix default|short  short: most flows 1-3 packets (default: default)\n"
		"  --ipv6 PCT         percent of flows over IPv6 (default 10)\n"
		"  --vlan PCT         percent of flows with an 802.1Q tag (default 5)\n"
		"  --start SECONDS    Unix time of the first packet (default 1700000000)\n"
		"  --nanosecond       nanosecond-resolution pcap (default microsecond)\n"
		"  -h, --help         this help\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Returns 0 to run, 1 when help was printed, -1 on a usage error (message printed). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .packets = 100000, .seed = 1, .concurrent = 1000, .mix = MIX_DEFAULT,
			    .ipv6_pct = 10, .vlan_pct = 5, .start = 1700000000 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "--nanosecond") == 0) {
			o->nanosecond = 1;
			continue;
		}
		if (strcmp(a, "-") == 0 || a[0] != '-') {
			if (o->output) {
				fprintf(stderr, "nfm-gencap: more than one output: %s\n", a);
				return -1;
			}
			o->output = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			if (i + 2 != argc || o->output) {
				fprintf(stderr, "nfm-gencap: expected one output after --\n");
				return -1;
			}
			o->output = argv[++i];
			continue;
		}
		static const char *const names[7] = { "--packets", "--seed", "--concurrent", "--mix",
						      "--ipv6", "--vlan", "--start" };
		int which = -1;
		const char *val = NULL;
		for (int k = 0; k < 7; k++) {
			size_t n = strlen(names[k]);
			if (strncmp(a, names[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
				which = k;
				val = a[n] == '=' ? a + n + 1 : (i + 1 < argc ? argv[++i] : NULL);
				break;
			}
		}
		if (which < 0) {
			fprintf(stderr, "nfm-gencap: unknown option: %s\n", a);
			return -1;
		}
		uint64_t v = 0;
		int bad = 0;
		switch (which) {
		case 0:
			bad = parse_u64(val, UINT64_MAX, &o->packets);
			break;
		case 1:
			bad = parse_u64(val, UINT64_MAX, &o->seed);
			break;
		case 2:
			bad = parse_u64(val, MAX_CONCURRENT, &v) || v == 0;
			o->concurrent = (uint32_t)v;
			break;
		case 3:
			if (val && strcmp(val, "default") == 0)
				o->mix = MIX_DEFAULT;
			else if (val && strcmp(val, "short") == 0)
				o->mix = MIX_SHORT;
			else
				bad = 1;
			break;
		case 4:
		case 5:
			bad = parse_u64(val, 100, &v);
			if (which == 4)
				o->ipv6_pct = (uint32_t)v;
			else
				o->vlan_pct = (uint32_t)v;
			break;
		default:
			bad = parse_u64(val, 0xffffffffu, &o->start);
			break;
		}
		if (bad) {
			fprintf(stderr, "nfm-gencap: bad value for %s: %s\n", names[which],
				val ? val : "(missing)");
			return -1;
		}
	}
	if (!o->output) {
		fprintf(stderr, "nfm-gencap: missing OUTPUT.pcap\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int pr = parse_args(argc, argv, &o);
	if (pr > 0)
		return 0;
	if (pr < 0) {
		usage(stderr);
		return 2;
	}
	struct gen *g = malloc(sizeof *g);
	struct flow *flows = g ? calloc(o.concurrent, sizeof *flows) : NULL;
	if (!g || !flows) {
		fprintf(stderr, "nfm-gencap: out of memory\n");
		free(g);
		return 1;
	}
	memset(g, 0, sizeof *g);
	g->o = o;
	g->flows = flows;
	g->rng.s = o.seed;
	rng_next(&g->rng); /* decorrelate small seeds a little */
	g->now = o.start * 1000000000ull;
	for (size_t i = 0; i < sizeof g->pool; i += 8) {
		uint64_t v = rng_next(&g->rng);
		memcpy(g->pool + i, &v, 8);
	}
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz     ABCDEFGHIJ0123456789.,:=/-";
	for (size_t i = 0; i < sizeof g->text; i++)
		g->text[i] = (uint8_t)alphabet[rng_below(&g->rng, sizeof alphabet - 1)];
	for (uint32_t i = 0; i < o.concurrent; i++)
		flow_init(g, &g->flows[i]);

	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_pcap_writer *w;
	if (nfm_pcap_writer_open(&w, o.output, LINKTYPE_ETHERNET, SNAPLEN, o.nanosecond, &err)) {
		fprintf(stderr, "nfm-gencap: %s\n", err.msg);
		free(g->flows);
		free(g);
		return 1;
	}
	int rc = 0;
	uint64_t n;
	for (n = 0; n < o.packets; n++) {
		uint64_t gap = next_gap(&g->rng);
		g->now += o.nanosecond ? gap : gap - gap % 1000u;
		struct flow *f = &g->flows[rng_below(&g->rng, o.concurrent)];
		if (!f->started) {
			f->started = 1;
			g->flows_started++;
		}
		uint32_t len = flow_next(g, f);
		if (nfm_pcap_writer_write(w, g->now, g->pkt, len, len, &err)) {
			rc = 1;
			break;
		}
		if (f->done)
			flow_init(g, f);
	}
	if (nfm_pcap_writer_close(w, rc ? NULL : &err))
		rc = 1;
	if (rc) {
		fprintf(stderr, "nfm-gencap: %s\n", err.msg);
		if (strcmp(o.output, "-") != 0)
			unlink(o.output);
	} else {
		fprintf(stderr, "wrote %" PRIu64 " packets, %" PRIu64 " flows to %s\n", n,
			g->flows_started, o.output);
	}
	free(g->flows);
	free(g);
	return rc;
}
