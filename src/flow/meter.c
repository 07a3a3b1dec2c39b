/* The flow meter: key building, direction, expiry and TCP state (docs/flows.md). */
#include "flow/meter.h"

#include <stdlib.h>
#include <string.h>

#include "flow/table.h"
#include "util/err.h"

#define NS_PER_S 1000000000ULL

/* Expiry lists. Each is ordered by the time its check uses, because entries are only
 * ever appended with the current (clamped, never decreasing) packet time. */
enum { LIST_LRU = 0, LIST_AGE = 1, LIST_FIN = 2, LIST_COUNT = 3 };

/* tcp_progress bits */
enum {
	TCP_SYN = 1u << 0,      /* SYN without ACK seen */
	TCP_SYNACK = 1u << 1,   /* SYN+ACK seen */
	TCP_HS_DONE = 1u << 2,  /* initiator acknowledged the SYN+ACK */
	TCP_FIN_F = 1u << 3,    /* FIN from the initiator */
	TCP_FIN_B = 1u << 4,    /* FIN from the responder */
	TCP_FINACK_F = 1u << 5, /* initiator's FIN acknowledged */
	TCP_FINACK_B = 1u << 6, /* responder's FIN acknowledged */
};

/* Non-first fragments carry no ports: they borrow them from the first fragment of their
 * datagram through this small, fixed-size, direct-mapped table. Fragments that arrive
 * before the first one wait in the entry (a few per datagram) and are counted in the
 * flow when it arrives; those whose first fragment never comes (within 30 s, or before
 * the slot is needed by another datagram) are counted as unmatched. A TCP fragment that
 * holds header options also takes the header length from the table (tcp_frag_fix). */
#define FRAG_SLOTS 4096u
#define FRAG_TTL_NS (30ULL * NS_PER_S)
#define FRAG_PENDING_MAX 16u

struct frag_pending {
	uint64_t ts;
	uint32_t wire_len, payload;
	uint16_t flags, frag_offset;
	uint8_t tcp_flags, tcp_hlen;
};

struct frag_entry {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t l3, proto, used, have_first;
	uint16_t sport, dport;
	uint8_t npend;
	uint8_t tcp_hlen;       /* TCP header length a fragment of the datagram reported, or 0 */
	uint64_t ts;
	struct frag_pending pend[FRAG_PENDING_MAX];
};

struct list {
	uint32_t head, tail;
};

struct nfm_meter {
	struct nfm_meter_config cfg;
	nfm_flow_sink sink;
	void *sink_ctx;
	struct nfm_flow_table *table;
	struct list lists[LIST_COUNT];
	struct frag_entry *frags;
	uint64_t now;
	int have_now;
	int stop_rc;
	uint64_t seq;
	uint64_t window_peak; /* most flows held since nfm_meter_take_window_peak */
	struct nfm_counters c;
};

static int expire_due(struct nfm_meter *m);

void nfm_meter_config_default(struct nfm_meter_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->idle_timeout_ns = 60 * NS_PER_S;
	cfg->active_timeout_ns = 1800 * NS_PER_S;
	cfg->tcp_linger_ns = 2 * NS_PER_S;
	cfg->protocols = NFM_PROTO_ALL;
	cfg->decode.tunnels = true;
	cfg->decode.max_tunnel_depth = 4;
}

struct nfm_meter *nfm_meter_new(const struct nfm_meter_config *cfg, nfm_flow_sink sink,
				void *sink_ctx)
{
	struct nfm_meter *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (!m->cfg.protocols)
		m->cfg.protocols = NFM_PROTO_ALL;
	m->sink = sink;
	m->sink_ctx = sink_ctx;
	m->table = nfm_flow_table_new(0x6e666d2d666c6f77ULL);
	m->frags = calloc(FRAG_SLOTS, sizeof *m->frags);
	if (!m->table || !m->frags) {
		nfm_meter_free(m);
		return NULL;
	}
	for (int l = 0; l < LIST_COUNT; l++)
		m->lists[l].head = m->lists[l].tail = NFM_FLOW_NONE;
	return m;
}

void nfm_meter_free(struct nfm_meter *m)
{
	if (!m)
		return;
	nfm_flow_table_free(m->table);
	free(m->frags);
	free(m);
}

const struct nfm_counters *nfm_meter_counters(const struct nfm_meter *m) { return &m->c; }
uint64_t nfm_meter_active_flows(const struct nfm_meter *m) { return nfm_flow_table_count(m->table); }

uint64_t nfm_meter_take_window_peak(struct nfm_meter *m)
{
	uint64_t peak = m->window_peak;
	m->window_peak = nfm_flow_table_count(m->table);
	return peak;
}

int nfm_meter_done(const struct nfm_meter *m)
{
	return m->cfg.max_flows && m->c.flows_created >= m->cfg.max_flows &&
	       nfm_flow_table_count(m->table) == 0;
}

/* ---- intrusive lists over flow indices ---- */

static void list_append(struct nfm_meter *m, int l, struct nfm_flow *f, uint32_t idx)
{
	struct list *L = &m->lists[l];
	f->link_prev[l] = L->tail;
	f->link_next[l] = NFM_FLOW_NONE;
	if (L->tail != NFM_FLOW_NONE)
		nfm_flow_table_at(m->table, L->tail)->link_next[l] = idx;
	else
		L->head = idx;
	L->tail = idx;
}

static void list_unlink(struct nfm_meter *m, int l, struct nfm_flow *f)
{
	struct list *L = &m->lists[l];
	if (f->link_prev[l] != NFM_FLOW_NONE)
		nfm_flow_table_at(m->table, f->link_prev[l])->link_next[l] = f->link_next[l];
	else
		L->head = f->link_next[l];
	if (f->link_next[l] != NFM_FLOW_NONE)
		nfm_flow_table_at(m->table, f->link_next[l])->link_prev[l] = f->link_prev[l];
	else
		L->tail = f->link_prev[l];
}

/* ---- expiry ---- */

static uint8_t tcp_final_state(const struct nfm_flow_record *r)
{
	unsigned p = r->tcp_progress;
	if (r->rst_count)
		return (p & TCP_SYN) && !(p & (TCP_SYNACK | TCP_HS_DONE)) ? NFM_CONN_REJECTED
									: NFM_CONN_RESET;
	if ((p & TCP_FIN_F) && (p & TCP_FIN_B))
		return NFM_CONN_CLOSED;
	if (p & (TCP_FIN_F | TCP_FIN_B))
		return NFM_CONN_HALF_CLOSED;
	if (p & TCP_HS_DONE)
		return NFM_CONN_ESTABLISHED;
	if (p & TCP_SYNACK)
		return NFM_CONN_HALF_OPEN;
	if (p & TCP_SYN)
		return NFM_CONN_ATTEMPTED;
	return NFM_CONN_MID_STREAM;
}

/* Writes the flow and frees its slot. A finished TCP flow keeps its close/reset reason. */
static int expire(struct nfm_meter *m, struct nfm_flow *f, enum nfm_end_reason reason)
{
	list_unlink(m, LIST_LRU, f);
	list_unlink(m, LIST_AGE, f);
	if (f->finished)
		list_unlink(m, LIST_FIN, f);
	else
		f->rec.end_reason = (uint8_t)reason;
	if (f->rec.l3 != NFM_L3_ARP && f->rec.ip_proto == NFM_IPPROTO_TCP)
		f->rec.conn_state = tcp_final_state(&f->rec);
	m->c.flows_written++;
	m->c.flows_by_reason[f->rec.end_reason]++;
	int rc = 0;
	if (!m->stop_rc && m->sink)
		rc = m->sink(m->sink_ctx, &f->rec);
	nfm_flow_table_remove(m->table, f);
	if (rc && !m->stop_rc)
		m->stop_rc = rc;
	return m->stop_rc;
}

static struct nfm_flow *head_of(struct nfm_meter *m, int l)
{
	uint32_t h = m->lists[l].head;
	return h == NFM_FLOW_NONE ? NULL : nfm_flow_table_at(m->table, h);
}

/* The idle list is kept in order of last packet (a packet moves its flow to the tail),
 * so idle expiry is exact: a flow is written at the first moment the clock passes its
 * last packet plus the idle timeout, whatever else is in the table. An earlier lazy
 * variant re-checked entries only once per idle period and so could report a flow that
 * had been idle for almost twice the timeout as still open at the end of the input. */
static int expire_due(struct nfm_meter *m)
{
	struct nfm_flow *f;
	uint64_t idle = m->cfg.idle_timeout_ns, active = m->cfg.active_timeout_ns;
	uint64_t linger = m->cfg.tcp_linger_ns;
	if (idle && linger > idle)
		linger = idle;
	while (idle && (f = head_of(m, LIST_LRU)) && m->now - f->lru_time > idle)
		if (expire(m, f, NFM_END_IDLE))
			return m->stop_rc;
	while (active && (f = head_of(m, LIST_AGE)) && m->now - f->born_time > active)
		if (expire(m, f, NFM_END_ACTIVE))
			return m->stop_rc;
	while ((f = head_of(m, LIST_FIN)) && m->now - f->close_time > linger)
		if (expire(m, f, NFM_END_TCP_CLOSE))
			return m->stop_rc;
	return 0;
}

/* The entry idle for the longest (for the memory cap). */
static struct nfm_flow *oldest_idle(struct nfm_meter *m)
{
	return head_of(m, LIST_LRU);
}

static int advance_time(struct nfm_meter *m, uint64_t ts)
{
	if (!m->have_now) {
		m->have_now = 1;
		m->now = ts;
		m->c.first_ts_ns = m->c.last_ts_ns = ts;
	} else if (ts > m->now) {
		m->now = ts;
		m->c.last_ts_ns = ts;
	} else if (ts < m->now) {
		m->c.ts_backwards++;
		if (ts < m->c.first_ts_ns)
			m->c.first_ts_ns = ts;
	}
	return expire_due(m);
}

/* ---- packets ---- */

static uint32_t frag_slot(const struct nfm_packet *p)
{
	uint64_t h = p->frag_id * 0x9e3779b97f4a7c15ULL;
	uint64_t a, b;
	memcpy(&a, p->src, 8);
	memcpy(&b, p->dst + 8, 8);
	h ^= (a ^ (b << 1) ^ ((uint64_t)p->ip_proto << 56) ^ p->src[15] ^ p->dst[3]) *
	     0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 29;
	return (uint32_t)(h % FRAG_SLOTS);
}

static int frag_match(const struct frag_entry *e, const struct nfm_packet *p)
{
	return e->used && e->id == p->frag_id && e->proto == p->ip_proto && e->l3 == p->l3 &&
	       memcmp(e->src, p->src, 16) == 0 && memcmp(e->dst, p->dst, 16) == 0;
}

static unsigned proto_class(const struct nfm_packet *p, uint16_t sport, uint16_t dport)
{
	unsigned cls;
	if (p->l3 == NFM_L3_ARP)
		return NFM_PROTO_ARP;
	switch (p->ip_proto) {
	case NFM_IPPROTO_TCP: cls = NFM_PROTO_TCP; break;
	case NFM_IPPROTO_UDP: cls = NFM_PROTO_UDP; break;
	case NFM_IPPROTO_ICMP:
	case NFM_IPPROTO_ICMPV6: return NFM_PROTO_ICMP;
	default: return NFM_PROTO_OTHER;
	}
	if (sport == 53 || dport == 53 || sport == 5353 || dport == 5353 || sport == 5355 ||
	    dport == 5355)
		cls |= NFM_PROTO_DNS;
	return cls;
}

static void tcp_update(struct nfm_flow *f, const struct nfm_packet *p, int dir)
{
	struct nfm_flow_record *r = &f->rec;
	uint8_t fl = p->tcp_flags;
	r->tcp_flags |= fl;
	r->syn_count += (fl & NFM_TCP_SYN) != 0;
	r->fin_count += (fl & NFM_TCP_FIN) != 0;
	r->rst_count += (fl & NFM_TCP_RST) != 0;
	r->ack_count += (fl & NFM_TCP_ACK) != 0;

	unsigned prog = r->tcp_progress;
	if ((fl & (NFM_TCP_SYN | NFM_TCP_ACK)) == NFM_TCP_SYN)
		prog |= TCP_SYN;
	else if ((fl & (NFM_TCP_SYN | NFM_TCP_ACK)) == (NFM_TCP_SYN | NFM_TCP_ACK))
		prog |= TCP_SYNACK;
	else if ((fl & NFM_TCP_ACK) && dir == NFM_FWD && (prog & TCP_SYNACK))
		prog |= TCP_HS_DONE;
	if (fl & NFM_TCP_FIN) {
		prog |= dir == NFM_FWD ? TCP_FIN_F : TCP_FIN_B;
		/* The FIN occupies one sequence number after the segment's data. */
		r->fin_seq[dir] = p->tcp_seq + p->l4_payload_len + ((fl & NFM_TCP_SYN) ? 2u : 1u);
	}
	if (fl & NFM_TCP_ACK) {
		int other = !dir;
		unsigned other_fin = other == NFM_FWD ? TCP_FIN_F : TCP_FIN_B;
		if ((prog & other_fin) && (int32_t)(p->tcp_ack - r->fin_seq[other]) >= 0)
			prog |= other == NFM_FWD ? TCP_FINACK_F : TCP_FINACK_B;
	}
	r->tcp_progress = (uint8_t)prog;

	if (f->finished)
		return;
	if (fl & NFM_TCP_RST) {
		f->finished = 1;
		r->end_reason = NFM_END_TCP_RESET;
	} else if ((prog & (TCP_FIN_F | TCP_FIN_B | TCP_FINACK_F | TCP_FINACK_B)) ==
		   (TCP_FIN_F | TCP_FIN_B | TCP_FINACK_F | TCP_FINACK_B)) {
		f->finished = 1;
		r->end_reason = NFM_END_TCP_CLOSE;
	}
}

static void flow_init(struct nfm_meter *m, struct nfm_flow *f, const struct nfm_packet *p,
		      int src_is_a, uint16_t sport, uint16_t dport)
{
	struct nfm_flow_record *r = &f->rec;
	/* Forward is the initiator: the sender of the first packet, except that a first
	 * packet carrying SYN+ACK comes from the responder. */
	int initiator_is_src = !(p->l3 != NFM_L3_ARP && p->ip_proto == NFM_IPPROTO_TCP &&
				 (p->tcp_flags & (NFM_TCP_SYN | NFM_TCP_ACK)) ==
					 (NFM_TCP_SYN | NFM_TCP_ACK));
	f->fwd_is_a = (uint8_t)(initiator_is_src ? src_is_a : !src_is_a);
	r->l3 = p->l3;
	r->ip_proto = p->ip_proto;
	r->has_vlan = (p->flags & NFM_PKT_VLAN) != 0;
	r->vlan_id = r->has_vlan ? p->vlan_id : 0;
	if (initiator_is_src) {
		memcpy(r->src, p->src, 16);
		memcpy(r->dst, p->dst, 16);
		r->src_port = sport;
		r->dst_port = dport;
	} else {
		memcpy(r->src, p->dst, 16);
		memcpy(r->dst, p->src, 16);
		r->src_port = dport;
		r->dst_port = sport;
	}
	r->tunnel_type = p->tunnel_type;
	r->tunnel_l3 = p->tunnel_l3;
	if (p->tunnel_type) {
		memcpy(r->tunnel_src, p->tunnel_src, 16);
		memcpy(r->tunnel_dst, p->tunnel_dst, 16);
		r->tunnel_id = p->tunnel_id;
	}
	r->first_ns = r->last_ns = p->ts_ns;
	r->seq = p->pkt_index ? p->pkt_index : ++m->seq;
	f->lru_time = f->born_time = m->now;
	uint32_t idx = nfm_flow_table_index_of(m->table, f);
	list_append(m, LIST_LRU, f, idx);
	list_append(m, LIST_AGE, f, idx);
	m->c.flows_created++;
	uint64_t active = nfm_flow_table_count(m->table);
	/* window_peak <= peak_active_flows: one compare while neither grows */
	if (active > m->window_peak) {
		m->window_peak = active;
		if (active > m->c.peak_active_flows)
			m->c.peak_active_flows = active;
	}
}

/* Ports of a packet for the flow key: transport ports, the ICMP echo identifier in both,
 * or ICMP type and code. */
static void packet_ports(const struct nfm_packet *p, uint16_t *sport, uint16_t *dport)
{
	*sport = *dport = 0;
	if (p->flags & NFM_PKT_HAS_PORTS) {
		*sport = p->sport;
		*dport = p->dport;
	} else if (p->l3 != NFM_L3_ARP &&
		   (p->ip_proto == NFM_IPPROTO_ICMP || p->ip_proto == NFM_IPPROTO_ICMPV6)) {
		/* Echo request and reply share a flow keyed by the identifier; other ICMP
		 * messages key on type and code. */
		if (p->flags & NFM_PKT_ICMP_ECHO) {
			*sport = *dport = p->icmp_id;
		} else {
			*sport = p->icmp_type;
			*dport = p->icmp_code;
		}
	}
}

/* A packet's key, computed ahead of its turn so its table slot can be prefetched. */
struct prepared {
	struct nfm_flow_key key;
	uint64_t hash;
	int src_is_a;
	int valid;
};

static void packet_key(const struct nfm_meter *m, const struct nfm_packet *p, uint16_t sport,
		       uint16_t dport, struct prepared *out)
{
	struct nfm_flow_key *k = &out->key;
	memset(k, 0, sizeof *k);
	int c = memcmp(p->src, p->dst, 16);
	int src_is_a = c < 0 || (c == 0 && sport <= dport);
	if (src_is_a) {
		memcpy(k->a, p->src, 16);
		memcpy(k->b, p->dst, 16);
		k->port_a = sport;
		k->port_b = dport;
	} else {
		memcpy(k->a, p->dst, 16);
		memcpy(k->b, p->src, 16);
		k->port_a = dport;
		k->port_b = sport;
	}
	k->l3 = p->l3;
	k->proto = p->ip_proto;
	if (p->flags & NFM_PKT_VLAN) {
		k->has_vlan = 1;
		k->vlan = p->vlan_id;
	}
	out->src_is_a = src_is_a;
	out->hash = nfm_flow_key_hash(m->table, k);
	out->valid = 1;
}

/* Frees a fragment entry; fragments still waiting for their first are unmatched. */
static void frag_drop(struct nfm_meter *m, struct frag_entry *e)
{
	if (e->used && !e->have_first)
		m->c.fragments_unmatched += e->npend;
	e->used = 0;
	e->npend = 0;
}

static void frag_claim(struct frag_entry *e, const struct nfm_packet *p, uint64_t now)
{
	memcpy(e->src, p->src, 16);
	memcpy(e->dst, p->dst, 16);
	e->id = p->frag_id;
	e->l3 = p->l3;
	e->proto = p->ip_proto;
	e->used = 1;
	e->have_first = 0;
	e->npend = 0;
	e->tcp_hlen = 0;
	e->ts = now;
}

/* A TCP fragment at byte offset 16 to 56 may hold TCP options. Its decoder, which sees one
 * fragment, assumed the 20-byte minimum header; with the header length that another
 * fragment of the datagram reported (hlen), the option bytes from max(offset, 20) to
 * hlen are not payload either. Returns p, or q holding the corrected copy. */
static const struct nfm_packet *tcp_frag_fix(const struct nfm_packet *p, unsigned hlen,
					     struct nfm_packet *q)
{
	unsigned off = p->frag_offset * 8u, from = off > 20 ? off : 20;
	if (off < 16 || hlen <= from)
		return p;
	*q = *p;
	q->l4_payload_len = p->l4_payload_len > hlen - from ? p->l4_payload_len - (hlen - from) : 0;
	return q;
}

static int meter_decoded(struct nfm_meter *m, const struct nfm_packet *p,
			 const struct prepared *pre, int replayed);

/* Meters the fragments that arrived before the first one (p), now that its ports are
 * known; they were already counted as packets read. */
static int frag_replay(struct nfm_meter *m, const struct nfm_packet *first,
		       const struct frag_pending *pend, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct nfm_packet q = *first;
		q.ts_ns = pend[i].ts;
		q.wire_len = pend[i].wire_len;
		q.l4_payload_len = pend[i].payload;
		q.flags = pend[i].flags;
		q.frag_offset = pend[i].frag_offset;
		q.tcp_flags = pend[i].tcp_flags;
		q.tcp_hlen = pend[i].tcp_hlen;
		int rc = meter_decoded(m, &q, NULL, 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* replayed: p is a fragment that waited for its first fragment (frag_replay); it was
 * counted as a fragment when it arrived and takes the ports the first one left. */
static int meter_decoded(struct nfm_meter *m, const struct nfm_packet *p,
			 const struct prepared *pre, int replayed)
{
	uint16_t sport, dport;
	int is_tcp = p->l3 != NFM_L3_ARP && p->ip_proto == NFM_IPPROTO_TCP;
	packet_ports(p, &sport, &dport);
	struct frag_pending waiting[FRAG_PENDING_MAX];
	unsigned nwaiting = 0;
	struct nfm_packet fixed;

	if (p->flags & NFM_PKT_FRAGMENT) {
		struct frag_entry *e = &m->frags[frag_slot(p)];
		int same = frag_match(e, p) && m->now - e->ts <= FRAG_TTL_NS;
		if (p->flags & NFM_PKT_FRAG_FIRST) {
			m->c.fragments++;
			if (same && !e->have_first) { /* later fragments came first */
				nwaiting = e->npend;
				memcpy(waiting, e->pend, nwaiting * sizeof *waiting);
				e->npend = 0;
			} else {
				frag_drop(m, e);
			}
			frag_claim(e, p, m->now);
			e->have_first = 1;
			e->sport = sport;
			e->dport = dport;
			e->tcp_hlen = p->tcp_hlen;
			for (unsigned i = 0; i < nwaiting && !e->tcp_hlen; i++)
				e->tcp_hlen = waiting[i].tcp_hlen;
		} else if (replayed) {
			sport = e->sport;
			dport = e->dport;
			if (is_tcp)
				p = tcp_frag_fix(p, e->tcp_hlen, &fixed);
		} else {
			m->c.fragments++;
			if (same && e->have_first) {
				sport = e->sport;
				dport = e->dport;
				if (is_tcp) {
					if (!e->tcp_hlen)
						e->tcp_hlen = p->tcp_hlen;
					p = tcp_frag_fix(p, e->tcp_hlen, &fixed);
				}
			} else {
				if (!same) {
					frag_drop(m, e);
					frag_claim(e, p, m->now);
				}
				if (e->npend < FRAG_PENDING_MAX) {
					struct frag_pending *w = &e->pend[e->npend++];
					w->ts = p->ts_ns;
					w->wire_len = p->wire_len;
					w->payload = p->l4_payload_len;
					w->flags = p->flags;
					w->frag_offset = p->frag_offset;
					w->tcp_flags = p->tcp_flags;
					w->tcp_hlen = p->tcp_hlen;
				} else {
					m->c.fragments_unmatched++;
				}
				return 0;
			}
		}
	}

	if (!(proto_class(p, sport, dport) & m->cfg.protocols)) {
		m->c.filtered++;
		return nwaiting ? frag_replay(m, p, waiting, nwaiting) : 0;
	}

	struct prepared local;
	if (!pre || !pre->valid) {
		packet_key(m, p, sport, dport, &local);
		pre = &local;
	}
	const struct nfm_flow_key *kp = &pre->key;
	uint64_t hash = pre->hash;
	int src_is_a = pre->src_is_a;
	struct nfm_flow *f = nfm_flow_table_find(m->table, kp, hash);

	/* Expiry of this very flow is checked exactly here, so the lazy list scans can
	 * never let a late packet join a flow that had already timed out. */
	if (f && !f->finished &&
	    ((m->cfg.idle_timeout_ns && m->now - f->lru_time > m->cfg.idle_timeout_ns) ||
	     (m->cfg.active_timeout_ns && m->now - f->born_time > m->cfg.active_timeout_ns))) {
		int reason = m->cfg.idle_timeout_ns && m->now - f->lru_time > m->cfg.idle_timeout_ns
				     ? NFM_END_IDLE : NFM_END_ACTIVE;
		if (expire(m, f, reason))
			return m->stop_rc;
		f = NULL;
	}
	if (f && is_tcp && (p->tcp_flags & (NFM_TCP_SYN | NFM_TCP_ACK)) == NFM_TCP_SYN) {
		/* A fresh SYN after the connection finished, or after it was established,
		 * is a new connection on a reused 5-tuple. */
		if (f->finished) {
			if (expire(m, f, NFM_END_TCP_CLOSE))
				return m->stop_rc;
			f = NULL;
		} else if (f->rec.tcp_progress & TCP_HS_DONE) {
			if (expire(m, f, NFM_END_TCP_REUSE))
				return m->stop_rc;
			f = NULL;
		}
	}

	if (!f) {
		if (m->cfg.max_flows && m->c.flows_created >= m->cfg.max_flows) {
			m->c.over_max_flows++;
			return nwaiting ? frag_replay(m, p, waiting, nwaiting) : 0;
		}
		if (m->cfg.max_active_flows &&
		    nfm_flow_table_count(m->table) >= m->cfg.max_active_flows) {
			struct nfm_flow *victim = oldest_idle(m);
			if (victim && expire(m, victim, NFM_END_EVICTED))
				return m->stop_rc;
		}
		f = nfm_flow_table_add(m->table, kp, hash);
		if (!f)
			return m->stop_rc = NFM_ERR_NOMEM;
		flow_init(m, f, p, src_is_a, sport, dport);
	} else {
		f->lru_time = m->now;
		if (f->link_next[LIST_LRU] != NFM_FLOW_NONE) { /* not already the newest */
			list_unlink(m, LIST_LRU, f);
			list_append(m, LIST_LRU, f, f->self);
		}
	}

	struct nfm_flow_record *r = &f->rec;
	int dir = src_is_a == f->fwd_is_a ? NFM_FWD : NFM_BWD;
	uint64_t total = r->pkts[0] + r->pkts[1];
	if (total == 0) {
		r->min_len = r->max_len = p->wire_len;
	} else {
		uint64_t gap = p->ts_ns > r->last_ns ? p->ts_ns - r->last_ns : 0;
		r->iat_sum_ns += gap;
		if (total == 1 || gap < r->iat_min_ns)
			r->iat_min_ns = gap;
		if (gap > r->iat_max_ns)
			r->iat_max_ns = gap;
		if (p->wire_len < r->min_len)
			r->min_len = p->wire_len;
		if (p->wire_len > r->max_len)
			r->max_len = p->wire_len;
		if (p->ts_ns > r->last_ns)
			r->last_ns = p->ts_ns;
		if (p->ts_ns < r->first_ns)
			r->first_ns = p->ts_ns;
	}
	r->pkts[dir]++;
	r->bytes[dir] += p->wire_len;
	r->payload[dir] += p->l4_payload_len;
	m->c.flow_packets++;

	if (is_tcp) {
		int was_finished = f->finished;
		tcp_update(f, p, dir);
		if (f->finished && !was_finished) {
			f->close_time = m->now;
			list_append(m, LIST_FIN, f, nfm_flow_table_index_of(m->table, f));
		}
	}
	return nwaiting ? frag_replay(m, p, waiting, nwaiting) : 0;
}

static int meter_packet(struct nfm_meter *m, const struct nfm_packet *p, const struct prepared *pre)
{
	if (m->stop_rc)
		return m->stop_rc;
	m->c.packets++;
	m->c.wire_bytes += p->wire_len;
	m->c.decode_status[NFM_DECODE_OK]++;
	if (p->flags & NFM_PKT_L4_TRUNC)
		m->c.l4_truncated++;
	if (p->flags & NFM_PKT_TUNNEL_OPAQUE) { /* rare; a test of the flags loaded above */
		m->c.tunnel_opaque++;
		nfm_opaque_add(m->c.opaque, nfm_opaque_kind(p), 1);
	}
	if (advance_time(m, p->ts_ns))
		return m->stop_rc;
	/* A shard of the input follows the input's clock, not only its own packets, so a
	 * late packet finds the same flow state whatever the number of workers. */
	if (p->clock_ns > m->now && nfm_meter_tick(m, p->clock_ns))
		return m->stop_rc;
	return meter_decoded(m, p, pre, 0);
}

int nfm_meter_packet(struct nfm_meter *m, const struct nfm_packet *p)
{
	return meter_packet(m, p, NULL);
}

/* Keys are computed PF_AHEAD packets in advance: the index slot is prefetched then, the
 * entry it points to half-way, and the entry's idle-list neighbours a quarter of the way,
 * so the cache misses of a lookup and of the list move overlap with earlier work. Fragments without ports are keyed at their turn (their ports
 * come from the fragment table). */
#define PF_AHEAD 8u
#define PF_RING 16u

static void prepare(struct nfm_meter *m, const struct nfm_packet *p, struct prepared *out)
{
	out->valid = 0;
	if ((p->flags & NFM_PKT_FRAGMENT) && !(p->flags & NFM_PKT_FRAG_FIRST))
		return;
	uint16_t sport, dport;
	packet_ports(p, &sport, &dport);
	packet_key(m, p, sport, dport, out);
	nfm_flow_table_prefetch_slot(m->table, out->hash);
}

int nfm_meter_packets(struct nfm_meter *m, const struct nfm_packet *pk, size_t n)
{
	struct prepared ring[PF_RING];
	for (size_t i = 0; i < n && i < PF_AHEAD; i++)
		prepare(m, &pk[i], &ring[i % PF_RING]);
	for (size_t i = 0; i < n; i++) {
		if (i + PF_AHEAD < n)
			prepare(m, &pk[i + PF_AHEAD], &ring[(i + PF_AHEAD) % PF_RING]);
		if (i + PF_AHEAD / 2 < n && ring[(i + PF_AHEAD / 2) % PF_RING].valid)
			nfm_flow_table_prefetch_entry(m->table, ring[(i + PF_AHEAD / 2) % PF_RING].hash);
		if (i + PF_AHEAD / 4 < n && ring[(i + PF_AHEAD / 4) % PF_RING].valid)
			nfm_flow_table_prefetch_links(m->table, ring[(i + PF_AHEAD / 4) % PF_RING].hash,
						      LIST_LRU);
		int rc = meter_packet(m, &pk[i], &ring[i % PF_RING]);
		if (rc)
			return rc;
	}
	return 0;
}

int nfm_meter_frame(struct nfm_meter *m, const uint8_t *data, uint32_t cap_len,
		    uint32_t wire_len, uint64_t ts_ns, int linktype)
{
	if (m->stop_rc)
		return m->stop_rc;
	struct nfm_packet p;
	p.ts_ns = ts_ns;
	p.wire_len = wire_len;
	p.cap_len = cap_len;
	p.pkt_index = 0;
	p.clock_ns = 0;
	enum nfm_decode_status st = nfm_decode(data, linktype, &m->cfg.decode, &p);
	if (st == NFM_DECODE_OK)
		return nfm_meter_packet(m, &p);
	m->c.packets++;
	m->c.wire_bytes += wire_len;
	if ((unsigned)st < NFM_DECODE_STATUS_COUNT)
		m->c.decode_status[st]++;
	if (st == NFM_DECODE_NONIP && p.nonip_kind < NFM_NONIP_KIND_COUNT)
		m->c.nonip[p.nonip_kind]++;
	return advance_time(m, ts_ns);
}

void nfm_meter_flush_fragments(struct nfm_meter *m)
{
	for (unsigned i = 0; i < FRAG_SLOTS; i++)
		frag_drop(m, &m->frags[i]);
}

int nfm_meter_finish(struct nfm_meter *m)
{
	struct nfm_flow *f;
	nfm_meter_flush_fragments(m);
	while ((f = head_of(m, LIST_AGE)))
		if (expire(m, f, NFM_END_EOF))
			break;
	return m->stop_rc;
}

int nfm_meter_tick(struct nfm_meter *m, uint64_t now_ns)
{
	if (m->stop_rc)
		return m->stop_rc;
	if (!m->have_now) {
		m->have_now = 1;
		m->now = now_ns;
	} else if (now_ns > m->now) {
		m->now = now_ns;
	}
	return expire_due(m);
}

const struct nfm_flow_record *nfm_meter_oldest(const struct nfm_meter *m)
{
	uint32_t h = m->lists[LIST_AGE].head;
	return h == NFM_FLOW_NONE ? NULL : &nfm_flow_table_at(m->table, h)->rec;
}

int nfm_meter_expire_oldest(struct nfm_meter *m)
{
	struct nfm_flow *f = head_of(m, LIST_AGE);
	return f ? expire(m, f, NFM_END_EOF) : 0;
}
