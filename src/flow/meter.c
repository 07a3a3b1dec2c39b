/* The flow meter: key building, direction, expiry, and the per-flow counters; the
 * fragment table (frag.c), TCP connection tracking (tcp_state.c) and the feature-module
 * hooks (module.h) are the other parts of a packet's way (docs/flows.md). */
#include "flow/meter.h"

#include <stdlib.h>
#include <string.h>

#include "flow/frag.h"
#include "flow/key.h"
#include "flow/table.h"
#include "flow/tcp_state.h"
#include "util/err.h"

#define NS_PER_S 1000000000ULL

/* Expiry lists. Each is ordered by the time its check uses, because entries are only
 * ever appended with the current (clamped, never decreasing) packet time. */
enum { LIST_LRU = 0, LIST_AGE = 1, LIST_FIN = 2, LIST_COUNT = 3 };
/* The continuation marks (NFM_FLOW_CONTINUED), oldest first: a list of its own through
 * the links of LIST_AGE, which a mark is not on. */
#define LIST_MARK LIST_COUNT

struct list {
	uint32_t head, tail;
};

struct nfm_meter {
	struct nfm_meter_config cfg;
	struct nfm_layout layout;   /* feature modules (cfg.layout copied; n = 0 when none) */
	nfm_flow_sink sink;
	void *sink_ctx;
	struct nfm_flow_table *table;
	struct list lists[LIST_COUNT + 1]; /* the expiry lists, then LIST_MARK */
	uint32_t warmed[LIST_COUNT];  /* the list heads whose expiry was last prefetched */
	uint64_t marks;             /* entries that are continuation marks, not flows */
	int ended;                  /* the end of input is being written (drain_oldest) */
	uint64_t drained;           /* entries written by drain_oldest (still in the table) */
	uint32_t ahead;             /* drain_oldest's prefetch, ahead_by places down */
	unsigned ahead_by;
	struct nfm_frag_table *frags;
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

size_t nfm_meter_flow_bytes(const struct nfm_layout *layout)
{
	size_t bytes = nfm_flow_table_flow_bytes(layout ? layout->size : 0);
	for (size_t i = 0; layout && i < layout->n; i++)
		bytes += layout->mod[i]->heap_bytes;
	return bytes;
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
	if (cfg->layout)
		m->layout = *cfg->layout;
	m->cfg.layout = &m->layout;
	m->sink = sink;
	m->sink_ctx = sink_ctx;
	m->table = nfm_flow_table_new(0x6e666d2d666c6f77ULL, m->layout.size);
	m->frags = nfm_frag_new();
	if (!m->table || !m->frags) {
		nfm_meter_free(m);
		return NULL;
	}
	for (int l = 0; l <= LIST_MARK; l++)
		m->lists[l].head = m->lists[l].tail = NFM_FLOW_NONE;
	for (int l = 0; l < LIST_COUNT; l++)
		m->warmed[l] = NFM_FLOW_NONE;
	m->ahead = NFM_FLOW_NONE;
	return m;
}

void nfm_meter_free(struct nfm_meter *m)
{
	if (!m)
		return;
	if (m->table && m->layout.n) /* flows never written still release their state */
		while (m->lists[LIST_AGE].head != NFM_FLOW_NONE) {
			struct nfm_flow *f = nfm_flow_table_at(m->table, m->lists[LIST_AGE].head);
			m->lists[LIST_AGE].head = f->link_next[LIST_AGE];
			for (size_t i = 0; i < m->layout.n; i++)
				if (m->layout.mod[i]->release)
					m->layout.mod[i]->release(nfm_flow_modules(f) + m->layout.off[i]);
		}
	nfm_flow_table_free(m->table);
	nfm_frag_free(m->frags);
	free(m);
}

const struct nfm_counters *nfm_meter_counters(const struct nfm_meter *m) { return &m->c; }
/* Flows held: the table's entries but the continuation marks. */
static uint64_t flows_held(const struct nfm_meter *m)
{
	return nfm_flow_table_count(m->table) - m->marks - m->drained;
}

uint64_t nfm_meter_active_flows(const struct nfm_meter *m) { return flows_held(m); }

uint64_t nfm_meter_take_window_peak(struct nfm_meter *m)
{
	uint64_t peak = m->window_peak;
	m->window_peak = flows_held(m);
	return peak;
}

int nfm_meter_done(const struct nfm_meter *m)
{
	return m->cfg.max_flows && m->c.flows_created >= m->cfg.max_flows &&
	       flows_held(m) == 0;
}

/* ---- intrusive lists over flow indices ---- */

/* l is a list; its links are those of l, or LIST_AGE's for LIST_MARK. */
static void list_append(struct nfm_meter *m, int list, struct nfm_flow *f, uint32_t idx)
{
	struct list *L = &m->lists[list];
	int l = list == LIST_MARK ? LIST_AGE : list;
	f->link_prev[l] = L->tail;
	f->link_next[l] = NFM_FLOW_NONE;
	if (L->tail != NFM_FLOW_NONE)
		nfm_flow_table_at(m->table, L->tail)->link_next[l] = idx;
	else
		L->head = idx;
	L->tail = idx;
}

static void list_unlink(struct nfm_meter *m, int list, struct nfm_flow *f)
{
	struct list *L = &m->lists[list];
	int l = list == LIST_MARK ? LIST_AGE : list;
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

/* ---- continuation marks (engine note E1 of docs/flows.md) ----
 * A flow that its active timeout ends is cut, not over: the next flow of its key
 * continues it and keeps its initiator. Its entry stays as a mark (NFM_FLOW_CONTINUED)
 * until that next packet, or until the idle timeout would have ended the flow (it keeps
 * its place on the idle list), or until the table needs room under the flow cap (marks
 * go first, oldest first). Nothing of this runs per packet: a mark is made when a flow
 * ends and read when a flow starts. */

/* Whether the entry of f, ended for reason, becomes a mark. A TCP flow that closed keeps
 * its close reason and continues nothing. */
static int continues(const struct nfm_flow *f, enum nfm_end_reason reason)
{
	return reason == NFM_END_ACTIVE && f->finished == NFM_FLOW_OPEN;
}

static void drop_mark(struct nfm_meter *m, struct nfm_flow *f)
{
	list_unlink(m, LIST_LRU, f);
	list_unlink(m, LIST_MARK, f);
	m->marks--;
	nfm_flow_table_remove(m->table, f);
}

/* The orientation the next flow of mark f's key takes from it (fwd_is_a), or -1 when
 * packet p starts a new connection (a TCP SYN without ACK) or comes after the mark's
 * deadline; drops the mark. */
static int take_mark(struct nfm_meter *m, struct nfm_flow *f, const struct nfm_packet *p, int is_tcp)
{
	int fresh = (is_tcp && (p->tcp_flags & (NFM_TCP_SYN | NFM_TCP_ACK)) == NFM_TCP_SYN) ||
		    m->now > f->born_time;
	int fwd_is_a = fresh ? -1 : f->fwd_is_a;
	drop_mark(m, f);
	return fwd_is_a;
}

/* Writes flow f, ended for reason (a finished TCP flow keeps its close/reset reason):
 * counters, its record to the sink, the modules' finish and release hooks. Returns the
 * sink's value. */
static int write_flow(struct nfm_meter *m, struct nfm_flow *f, enum nfm_end_reason reason)
{
	if (!f->finished)
		f->end_reason = (uint8_t)reason;
	if (f->key.l3 != NFM_L3_ARP && f->key.proto == NFM_IPPROTO_TCP)
		f->conn_state = nfm_tcp_final_state(f);
	m->c.flows_written++;
	m->c.flows_by_reason[f->end_reason]++;
	int rc = 0;
	if (!m->stop_rc && (m->sink || m->layout.n)) {
		struct nfm_flow_record rec;
		nfm_flow_record_of(f, &rec);
		rec.modules = m->layout.n ? nfm_flow_modules(f) : NULL;
		for (size_t i = 0; i < m->layout.n; i++)
			if (m->layout.mod[i]->finish)
				m->layout.mod[i]->finish(nfm_flow_modules(f) + m->layout.off[i], &rec,
							 f->end_reason);
		if (m->sink)
			rc = m->sink(m->sink_ctx, &rec);
	}
	for (size_t i = 0; i < m->layout.n; i++)
		if (m->layout.mod[i]->release)
			m->layout.mod[i]->release(nfm_flow_modules(f) + m->layout.off[i]);
	return rc;
}

/* Writes the flow and frees its slot (or makes it a mark). A finished TCP flow keeps its
 * close/reset reason. A mark is dropped without a record. */
static int expire(struct nfm_meter *m, struct nfm_flow *f, enum nfm_end_reason reason)
{
	if (f->finished == NFM_FLOW_CONTINUED) {
		drop_mark(m, f);
		return m->stop_rc;
	}
	int mark = continues(f, reason);
	if (!mark) /* a mark keeps its place on the idle list */
		list_unlink(m, LIST_LRU, f);
	list_unlink(m, LIST_AGE, f);
	if (f->finished)
		list_unlink(m, LIST_FIN, f);
	int rc = write_flow(m, f, reason);
	if (mark) {
		/* A mark's born_time is its deadline: the idle timeout after the flow's last
		 * packet, or without one (cic) the active timeout after it, so that marks of
		 * conversations that are over do not pile up. */
		uint64_t span = m->cfg.idle_timeout_ns ? m->cfg.idle_timeout_ns
						       : m->cfg.active_timeout_ns;
		f->born_time = f->lru_time > UINT64_MAX - span ? UINT64_MAX : f->lru_time + span;
		f->finished = NFM_FLOW_CONTINUED;
		list_append(m, LIST_MARK, f, f->self);
		m->marks++;
	} else {
		nfm_flow_table_remove(m->table, f);
	}
	if (rc && !m->stop_rc)
		m->stop_rc = rc;
	return m->stop_rc;
}

static struct nfm_flow *head_of(struct nfm_meter *m, int l)
{
	uint32_t h = m->lists[l].head;
	return h == NFM_FLOW_NONE ? NULL : nfm_flow_table_at(m->table, h);
}

/* Prefetches what expiring the head of list l will touch (its index slot and its
 * neighbours on the lists it is on), once per head: a head is due long after it became
 * the head, so these misses, the bulk of an expiry, overlap with other packets. */
static void warm_head(struct nfm_meter *m, int l)
{
	uint32_t h = m->lists[l].head;
	if (h == m->warmed[l] || h == NFM_FLOW_NONE)
		return;
	m->warmed[l] = h;
	const struct nfm_flow *f = nfm_flow_table_at(m->table, h);
	nfm_flow_table_prefetch_unlink(m->table, f, f->finished == NFM_FLOW_CLOSED ? 3 : 2);
}

/* Why a flow that is due by time ends: the timeout it reached first, idle when both at
 * once. Both may have passed by the time the clock is looked at, which depends on the
 * packets a worker sees; the timeout reached first does not, so neither does the
 * reason. (active < age at the last packet + idle, without overflow.) */
static enum nfm_end_reason timeout_reason(const struct nfm_meter *m, const struct nfm_flow *f)
{
	uint64_t idle = m->cfg.idle_timeout_ns, active = m->cfg.active_timeout_ns;
	if (!active || m->now - f->born_time <= active)
		return NFM_END_IDLE;
	if (!idle || m->now - f->lru_time <= idle)
		return NFM_END_ACTIVE;
	uint64_t age = f->lru_time - f->born_time;
	int active_first = active > idle ? age > active - idle : (active < idle || age > 0);
	return active_first ? NFM_END_ACTIVE : NFM_END_IDLE;
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
	while (idle && (f = head_of(m, LIST_LRU)) && m->now - f->lru_time > idle) {
		if (f->finished == NFM_FLOW_CONTINUED) /* a mark: its deadline, not a flow's */
			drop_mark(m, f);
		else if (expire(m, f, timeout_reason(m, f)))
			return m->stop_rc;
	}
	while (active && (f = head_of(m, LIST_AGE)) && m->now - f->born_time > active)
		if (expire(m, f, NFM_END_ACTIVE))
			return m->stop_rc;
	while ((f = head_of(m, LIST_FIN)) && m->now - f->close_time > linger)
		if (expire(m, f, NFM_END_TCP_CLOSE))
			return m->stop_rc;
	while ((f = head_of(m, LIST_MARK)) && m->now > f->born_time)
		drop_mark(m, f);
	if (idle)
		warm_head(m, LIST_LRU);
	if (active)
		warm_head(m, LIST_AGE);
	warm_head(m, LIST_FIN);
	return 0;
}

/* The entry idle for the longest (for the memory cap). */
static struct nfm_flow *oldest_idle(struct nfm_meter *m)
{
	return head_of(m, LIST_LRU);
}

/* ts: a frame's time; clock: the input's clock when the frame reached this shard (0:
 * none), which a shard follows so that a late packet finds the same flow state whatever
 * the number of workers. One expiry scan for both. */
static int advance_time(struct nfm_meter *m, uint64_t ts, uint64_t clock)
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
	if (clock > m->now)
		m->now = clock;
	return expire_due(m);
}

/* ---- packets ---- */

/* fwd_is_a: the orientation of the flow this one continues (a mark), or -1. */
static void flow_init(struct nfm_meter *m, struct nfm_flow *f, const struct nfm_packet *p,
		      int src_is_a, int fwd_is_a)
{
	/* Forward is the initiator: the sender of the first packet, except that a first
	 * packet carrying SYN+ACK comes from the responder; a flow that continues one cut
	 * by the active timeout keeps that flow's initiator. */
	int initiator_is_src = !(p->l3 != NFM_L3_ARP && p->ip_proto == NFM_IPPROTO_TCP &&
				 (p->tcp_flags & (NFM_TCP_SYN | NFM_TCP_ACK)) ==
					 (NFM_TCP_SYN | NFM_TCP_ACK));
	if (fwd_is_a >= 0)
		f->fwd_is_a = (uint8_t)fwd_is_a;
	else
		f->fwd_is_a = (uint8_t)(initiator_is_src ? src_is_a : !src_is_a);
	f->st.first_ns = f->st.last_ns = p->ts_ns;
	f->cold.seq = p->pkt_index ? p->pkt_index : ++m->seq;
	f->lru_time = f->born_time = m->now;
	uint32_t idx = nfm_flow_table_index_of(m->table, f);
	list_append(m, LIST_LRU, f, idx);
	list_append(m, LIST_AGE, f, idx);
	m->c.flows_created++;
	uint64_t active = flows_held(m);
	/* window_peak <= peak_active_flows: one compare while neither grows */
	if (active > m->window_peak) {
		m->window_peak = active;
		if (active > m->c.peak_active_flows)
			m->c.peak_active_flows = active;
	}
}

/* The feature modules' view of packet p of flow f (its index-th). */
static void modules_packet(struct nfm_meter *m, struct nfm_flow *f, const struct nfm_packet *p,
			   int dir, uint64_t index, const uint8_t *payload)
{
	struct nfm_module_packet mp = { .pkt = p, .dir = dir, .index = index };
	if (payload && m->layout.payload_bytes) {
		uint32_t n = nfm_pkt_payload_have(p);
		if (n > m->layout.payload_bytes)
			n = m->layout.payload_bytes;
		mp.payload = n ? payload : NULL;
		mp.payload_len = n;
	}
	uint8_t *base = nfm_flow_modules(f);
	for (size_t i = 0; i < m->layout.n; i++) {
		const struct nfm_module *mod = m->layout.mod[i];
		if (mod->packet) {
			struct nfm_module_packet q = mp;
			q.mod = mod;
			if (q.payload_len > mod->payload_bytes)
				q.payload_len = mod->payload_bytes;
			if (!q.payload_len)
				q.payload = NULL;
			mod->packet(base + m->layout.off[i], &q);
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
	out->src_is_a = nfm_flow_key_of(p, sport, dport, &out->key);
	out->hash = nfm_flow_key_hash(m->table, &out->key);
	out->valid = 1;
}

static int meter_decoded(struct nfm_meter *m, const struct nfm_packet *p,
			 const struct prepared *pre, int replayed, const uint8_t *payload);

/* Meters the fragments that arrived before the first one (first), now that its ports are
 * known; they were already counted as packets read. */
static int frag_replay(struct nfm_meter *m, const struct nfm_packet *first,
		       const struct nfm_frag_waiting *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		struct nfm_packet q;
		nfm_frag_replay_packet(first, &w->pend[i], &q);
		int rc = meter_decoded(m, &q, NULL, 1, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* replayed: p is a fragment that waited for its first fragment (frag_replay); it was
 * counted as a fragment when it arrived and takes the ports the first one left.
 * payload: p's leading payload bytes for the modules that asked (else NULL). */
static int meter_decoded(struct nfm_meter *m, const struct nfm_packet *p,
			 const struct prepared *pre, int replayed, const uint8_t *payload)
{
	uint16_t sport, dport;
	int is_tcp = p->l3 != NFM_L3_ARP && p->ip_proto == NFM_IPPROTO_TCP;
	nfm_packet_ports(p, &sport, &dport);
	struct nfm_frag_waiting waiting;
	waiting.n = 0;
	struct nfm_packet fixed;

	if ((p->flags & NFM_PKT_FRAGMENT) &&
	    nfm_frag_resolve(m->frags, &p, &fixed, &sport, &dport, replayed, m->now, &m->c,
			     &waiting) == NFM_FRAG_HELD)
		return 0;

	if (!(nfm_proto_class(p, sport, dport) & m->cfg.protocols)) {
		m->c.filtered++;
		return waiting.n ? frag_replay(m, p, &waiting) : 0;
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
	 * never let a late packet join a flow that had already timed out. A mark (the
	 * test of finished is the one an open flow takes anyway) gives the new flow its
	 * orientation. */
	int fwd_is_a = -1;
	if (f && f->finished) {
		if (f->finished == NFM_FLOW_CONTINUED) {
			fwd_is_a = take_mark(m, f, p, is_tcp);
			f = NULL;
		}
	} else if (f &&
		   ((m->cfg.idle_timeout_ns && m->now - f->lru_time > m->cfg.idle_timeout_ns) ||
		    (m->cfg.active_timeout_ns && m->now - f->born_time > m->cfg.active_timeout_ns))) {
		enum nfm_end_reason reason = timeout_reason(m, f);
		int mark = continues(f, reason);
		if (expire(m, f, reason))
			return m->stop_rc;
		if (mark) /* past its deadline (an idle gap too) the next flow decides afresh */
			fwd_is_a = take_mark(m, f, p, is_tcp);
		f = NULL;
	}
	if (f && is_tcp && (p->tcp_flags & (NFM_TCP_SYN | NFM_TCP_ACK)) == NFM_TCP_SYN) {
		/* A fresh SYN after the connection finished, or after it was established,
		 * is a new connection on a reused 5-tuple. */
		if (f->finished) {
			if (expire(m, f, NFM_END_TCP_CLOSE))
				return m->stop_rc;
			f = NULL;
		} else if (f->tcp_progress & NFM_TCP_P_HS_DONE) {
			if (expire(m, f, NFM_END_TCP_REUSE))
				return m->stop_rc;
			f = NULL;
		}
	}

	if (!f) {
		if (m->cfg.max_flows && m->c.flows_created >= m->cfg.max_flows) {
			m->c.over_max_flows++;
			return waiting.n ? frag_replay(m, p, &waiting) : 0;
		}
		if (m->cfg.max_active_flows &&
		    nfm_flow_table_count(m->table) >= m->cfg.max_active_flows) {
			/* Room under the cap: a mark first (the oldest), else the flow idle the
			 * longest, so marks never make a flow be evicted. */
			if (m->marks)
				drop_mark(m, nfm_flow_table_at(m->table, m->lists[LIST_MARK].head));
			else if (oldest_idle(m) && expire(m, oldest_idle(m), NFM_END_EVICTED))
				return m->stop_rc;
		}
		f = nfm_flow_table_add(m->table, kp, hash);
		if (!f)
			return m->stop_rc = NFM_ERR_NOMEM;
		flow_init(m, f, p, src_is_a, fwd_is_a);
	} else {
		f->lru_time = m->now;
		if (f->link_next[LIST_LRU] != NFM_FLOW_NONE) { /* not already the newest */
			list_unlink(m, LIST_LRU, f);
			list_append(m, LIST_LRU, f, f->self);
		}
	}

	struct nfm_flow_stats *r = &f->st;
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
		nfm_tcp_update(f, p, dir);
		if (f->finished && !was_finished) {
			f->close_time = m->now;
			list_append(m, LIST_FIN, f, nfm_flow_table_index_of(m->table, f));
		}
	}
	if (m->layout.n)
		modules_packet(m, f, p, dir, total, payload);
	return waiting.n ? frag_replay(m, p, &waiting) : 0;
}

static int meter_packet(struct nfm_meter *m, const struct nfm_packet *p, const struct prepared *pre,
			const uint8_t *payload)
{
	if (m->stop_rc)
		return m->stop_rc;
	if (m->ended) /* nothing can be looked up after drain_oldest */
		return m->stop_rc = NFM_ERR_INVALID;
	m->c.packets++;
	m->c.wire_bytes += p->wire_len;
	m->c.decode_status[NFM_DECODE_OK]++;
	if (p->flags & NFM_PKT_L4_TRUNC)
		m->c.l4_truncated++;
	if (p->flags & NFM_PKT_TUNNEL_OPAQUE) { /* rare; a test of the flags loaded above */
		m->c.tunnel_opaque++;
		nfm_opaque_add(m->c.opaque, nfm_opaque_kind(p), 1);
	}
	if (advance_time(m, p->ts_ns, p->clock_ns))
		return m->stop_rc;
	return meter_decoded(m, p, pre, 0, payload);
}

int nfm_meter_packet(struct nfm_meter *m, const struct nfm_packet *p)
{
	return meter_packet(m, p, NULL, NULL);
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
	nfm_packet_ports(p, &sport, &dport);
	packet_key(m, p, sport, dport, out);
	nfm_flow_table_prefetch_slot(m->table, out->hash);
}

int nfm_meter_packets(struct nfm_meter *m, const struct nfm_packet *pk, size_t n,
		      const uint8_t *payloads)
{
	size_t stride = m->layout.payload_bytes;
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
		int rc = meter_packet(m, &pk[i], &ring[i % PF_RING],
				      payloads ? payloads + i * stride : NULL);
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
	if (m->ended)
		return m->stop_rc = NFM_ERR_INVALID;
	struct nfm_packet p;
	p.ts_ns = ts_ns;
	p.wire_len = wire_len;
	p.cap_len = cap_len;
	p.pkt_index = 0;
	p.clock_ns = 0;
	enum nfm_decode_status st = nfm_decode(data, linktype, &m->cfg.decode, &p);
	if (st == NFM_DECODE_OK)
		return meter_packet(m, &p, NULL, nfm_pkt_payload_have(&p) ? data + p.payload_off : NULL);
	m->c.packets++;
	m->c.wire_bytes += wire_len;
	if ((unsigned)st < NFM_DECODE_STATUS_COUNT)
		m->c.decode_status[st]++;
	if (st == NFM_DECODE_NONIP && p.nonip_kind < NFM_NONIP_KIND_COUNT)
		m->c.nonip[p.nonip_kind]++;
	return advance_time(m, ts_ns, 0);
}

void nfm_meter_flush_fragments(struct nfm_meter *m)
{
	nfm_frag_flush(m->frags, &m->c);
}

/* The end of input: every flow is written in creation order and nothing is looked up
 * again, so an entry only leaves the creation list; the index, the other lists and the
 * free list stay as they are (the table goes as a whole), which spares their cache
 * misses on many open flows, and the entries a few places down the list are fetched
 * ahead. From the first call on, the meter takes no packet and no tick. */
#define DRAIN_AHEAD 8u
static int drain_oldest(struct nfm_meter *m)
{
	struct nfm_flow *f = head_of(m, LIST_AGE);
	if (!f)
		return m->stop_rc;
	m->ended = 1;
	uint32_t next = f->link_next[LIST_AGE];
	m->lists[LIST_AGE].head = next;
	if (next == NFM_FLOW_NONE)
		m->lists[LIST_AGE].tail = NFM_FLOW_NONE;
	else
		nfm_flow_table_at(m->table, next)->link_prev[LIST_AGE] = NFM_FLOW_NONE;
	if (m->ahead == NFM_FLOW_NONE || m->ahead == f->self || m->ahead_by == 0) {
		m->ahead = next;
		m->ahead_by = 0;
	} else {
		m->ahead_by--;
	}
	while (m->ahead != NFM_FLOW_NONE && m->ahead_by < DRAIN_AHEAD) {
		uint32_t a = nfm_flow_table_at(m->table, m->ahead)->link_next[LIST_AGE];
		if (a == NFM_FLOW_NONE)
			break;
		m->ahead = a;
		m->ahead_by++;
		nfm_flow_table_prefetch_unlink(m->table, nfm_flow_table_at(m->table, a), 0);
	}
	m->drained++;
	int rc = write_flow(m, f, NFM_END_EOF);
	if (rc && !m->stop_rc)
		m->stop_rc = rc;
	return m->stop_rc;
}

int nfm_meter_finish(struct nfm_meter *m)
{
	nfm_meter_flush_fragments(m);
	while (head_of(m, LIST_AGE))
		if (drain_oldest(m))
			break;
	return m->stop_rc;
}

int nfm_meter_cut(struct nfm_meter *m)
{
	struct nfm_flow *f;
	if (m->ended)
		return m->stop_rc;
	while ((f = head_of(m, LIST_AGE)))
		if (expire(m, f, NFM_END_SLICE))
			break;
	return m->stop_rc;
}

int nfm_meter_tick(struct nfm_meter *m, uint64_t now_ns)
{
	if (m->stop_rc || m->ended)
		return m->stop_rc;
	if (!m->have_now) {
		m->have_now = 1;
		m->now = now_ns;
	} else if (now_ns > m->now) {
		m->now = now_ns;
	}
	return expire_due(m);
}

int nfm_meter_oldest_seq(const struct nfm_meter *m, uint64_t *seq)
{
	uint32_t h = m->lists[LIST_AGE].head;
	if (h == NFM_FLOW_NONE)
		return 0;
	*seq = nfm_flow_table_at(m->table, h)->cold.seq;
	return 1;
}

int nfm_meter_expire_oldest(struct nfm_meter *m)
{
	return drain_oldest(m);
}
