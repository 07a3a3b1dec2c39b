#include "flow/frag.h"

#include <stdlib.h>
#include <string.h>

struct frag_entry {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t l3, proto, used, have_first;
	uint16_t sport, dport;
	uint8_t npend;
	uint8_t tcp_hlen;       /* TCP header length a fragment of the datagram reported, or 0 */
	uint64_t ts;
	struct nfm_frag_pending pend[NFM_FRAG_PENDING_MAX];
};

struct nfm_frag_table {
	struct frag_entry e[NFM_FRAG_SLOTS];
};

struct nfm_frag_table *nfm_frag_new(void)
{
	return calloc(1, sizeof(struct nfm_frag_table));
}

void nfm_frag_free(struct nfm_frag_table *t)
{
	free(t);
}

static uint32_t frag_slot(const struct nfm_packet *p)
{
	uint64_t h = p->frag_id * 0x9e3779b97f4a7c15ULL;
	uint64_t a, b;
	memcpy(&a, p->src, 8);
	memcpy(&b, p->dst + 8, 8);
	h ^= (a ^ (b << 1) ^ ((uint64_t)p->ip_proto << 56) ^ p->src[15] ^ p->dst[3]) *
	     0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 29;
	return (uint32_t)(h % NFM_FRAG_SLOTS);
}

static int frag_match(const struct frag_entry *e, const struct nfm_packet *p)
{
	return e->used && e->id == p->frag_id && e->proto == p->ip_proto && e->l3 == p->l3 &&
	       memcmp(e->src, p->src, 16) == 0 && memcmp(e->dst, p->dst, 16) == 0;
}

/* Frees an entry; fragments still waiting for their first are unmatched. */
static void frag_drop(struct frag_entry *e, struct nfm_counters *c)
{
	if (e->used && !e->have_first)
		c->fragments_unmatched += e->npend;
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

enum nfm_frag_verdict nfm_frag_resolve(struct nfm_frag_table *t, const struct nfm_packet **pp,
				       struct nfm_packet *fixed, uint16_t *sport, uint16_t *dport,
				       int replayed, uint64_t now, struct nfm_counters *c,
				       struct nfm_frag_waiting *waiting)
{
	const struct nfm_packet *p = *pp;
	int is_tcp = p->l3 != NFM_L3_ARP && p->ip_proto == NFM_IPPROTO_TCP;
	struct frag_entry *e = &t->e[frag_slot(p)];
	int same = frag_match(e, p) && now - e->ts <= NFM_FRAG_TTL_NS;
	if (p->flags & NFM_PKT_FRAG_FIRST) {
		c->fragments++;
		if (same && !e->have_first) { /* later fragments came first */
			waiting->n = e->npend;
			memcpy(waiting->pend, e->pend, e->npend * sizeof *e->pend);
			e->npend = 0;
		} else {
			frag_drop(e, c);
		}
		frag_claim(e, p, now);
		e->have_first = 1;
		e->sport = *sport;
		e->dport = *dport;
		e->tcp_hlen = p->tcp_hlen;
		for (unsigned i = 0; i < waiting->n && !e->tcp_hlen; i++)
			e->tcp_hlen = waiting->pend[i].tcp_hlen;
		return NFM_FRAG_METER;
	}
	if (replayed) {
		*sport = e->sport;
		*dport = e->dport;
		if (is_tcp)
			*pp = tcp_frag_fix(p, e->tcp_hlen, fixed);
		return NFM_FRAG_METER;
	}
	c->fragments++;
	if (same && e->have_first) {
		*sport = e->sport;
		*dport = e->dport;
		if (is_tcp) {
			if (!e->tcp_hlen)
				e->tcp_hlen = p->tcp_hlen;
			*pp = tcp_frag_fix(p, e->tcp_hlen, fixed);
		}
		return NFM_FRAG_METER;
	}
	if (!same) {
		frag_drop(e, c);
		frag_claim(e, p, now);
	}
	if (e->npend < NFM_FRAG_PENDING_MAX) {
		struct nfm_frag_pending *w = &e->pend[e->npend++];
		w->ts = p->ts_ns;
		w->wire_len = p->wire_len;
		w->payload = p->l4_payload_len;
		w->flags = p->flags;
		w->frag_offset = p->frag_offset;
		w->tcp_flags = p->tcp_flags;
		w->tcp_hlen = p->tcp_hlen;
	} else {
		c->fragments_unmatched++;
	}
	return NFM_FRAG_HELD;
}

void nfm_frag_replay_packet(const struct nfm_packet *first, const struct nfm_frag_pending *w,
			    struct nfm_packet *q)
{
	*q = *first;
	q->ts_ns = w->ts;
	q->wire_len = w->wire_len;
	q->l4_payload_len = w->payload;
	q->flags = w->flags;
	q->frag_offset = w->frag_offset;
	q->tcp_flags = w->tcp_flags;
	q->tcp_hlen = w->tcp_hlen;
}

void nfm_frag_flush(struct nfm_frag_table *t, struct nfm_counters *c)
{
	for (unsigned i = 0; i < NFM_FRAG_SLOTS; i++)
		frag_drop(&t->e[i], c);
}
