/* The cic feature module: accumulation (feature/cic.h). One call per packet of a flow,
 * no allocation, no floating point: counts, sums, minima, maxima and 128-bit sums of
 * squares, plus the small state machines of active/idle periods, bulks and subflows.
 * The columns are computed from this state when the flow is written (cic_fields.c). */
#include "feature/cic.h"

#include "decode/decode.h"

/* The transport header this packet carries: TCP data offset x 4 (0 when a first
 * fragment ends before the data-offset byte), 8 for UDP, ICMP and ICMPv6, 12 for SCTP;
 * 0 for other protocols, ARP and fragments after the first. */
static uint32_t header_len(const struct nfm_packet *p)
{
	if (p->l3 == NFM_L3_ARP)
		return 0;
	if ((p->flags & NFM_PKT_FRAGMENT) && !(p->flags & NFM_PKT_FRAG_FIRST))
		return 0;
	switch (p->ip_proto) {
	case NFM_IPPROTO_TCP: return p->tcp_hlen;
	case NFM_IPPROTO_UDP:
	case NFM_IPPROTO_ICMP:
	case NFM_IPPROTO_ICMPV6: return 8;
	case NFM_IPPROTO_SCTP: return 12;
	default: return 0;
	}
}

/* A gap into a series whose minimum starts at UINT64_MAX. */
static inline void series_add(struct nfm_cic_series *s, uint64_t x)
{
	nfm_cic_sq_add(&s->sq, x);
	if (x < s->min)
		s->min = x;
	if (x > s->max)
		s->max = x;
}

static inline void stat_add(struct nfm_cic_stat *s, uint64_t x)
{
	if (s->n == 0)
		s->s.min = x;
	s->n++;
	s->sum += x;
	series_add(&s->s, x);
}

/* Active and idle periods, on the flow's clamped clock c: a gap longer than the
 * activity timeout ends the current active period (recorded when it lasted more than
 * 0 µs) and is an idle period. The period running when the flow ends is not recorded
 * (as in CICFlowMeter). */
static inline void active_idle(struct nfm_cic_state *s, uint64_t c)
{
	if (c - s->act_end > NFM_CIC_ACTIVITY_US) {
		if (s->act_end > s->act_start)
			stat_add(&s->active, s->act_end - s->act_start);
		stat_add(&s->idle, c - s->act_end);
		s->act_start = s->act_end = c;
	} else {
		s->act_end = c;
	}
}

/* Bulk transfer of direction d (Engelen's corrected CICFlowMeter algorithm): a bulk is
 * at least 4 consecutive payload packets of one direction, each within 1 s of the
 * previous one, with no payload packet of the other direction in between. */
static inline void bulk(struct nfm_cic_state *s, int d, uint64_t c, uint32_t pl)
{
	struct nfm_cic_bulk *b = &s->d[d].bulk;
	const struct nfm_cic_bulk *o = &s->d[!d].bulk;
	unsigned open = NFM_CIC_BULK_OPEN << d;
	/* The other side sent payload after the candidate began: the candidate is over. */
	if ((s->bits & open) && (s->bits & (NFM_CIC_BULK_LAST << !d)) && o->last > b->start)
		s->bits &= (uint16_t)~open;
	if (pl == 0)
		return;
	if (!(s->bits & open) || c - b->last > NFM_CIC_BULK_GAP_US) {
		s->bits |= (uint16_t)(open | NFM_CIC_BULK_LAST << d);
		b->start = b->last = c;
		b->cnt = 1;
		b->size = pl;
		return;
	}
	b->cnt++;
	b->size += pl;
	if (b->cnt == NFM_CIC_BULK_PKTS) {
		b->bulks++;
		b->pkts += NFM_CIC_BULK_PKTS;
		b->bytes += b->size;
		b->dur += c - b->start;
	} else if (b->cnt > NFM_CIC_BULK_PKTS) {
		b->pkts++;
		b->bytes += pl;
		b->dur += c - b->last;
	}
	b->last = c;
}

static void cic_packet(void *state, const struct nfm_module_packet *mp)
{
	struct nfm_cic_state *s = state;
	const struct nfm_packet *p = mp->pkt;
	const int d = mp->dir;
	struct nfm_cic_dir *dd = &s->d[d];
	const uint64_t t = p->ts_ns / 1000;
	const uint32_t pl = p->l4_payload_len;
	const uint32_t hl = header_len(p);
	const int ip = p->l3 != NFM_L3_ARP;
	const int l4_header = !(p->flags & NFM_PKT_FRAGMENT) || (p->flags & NFM_PKT_FRAG_FIRST);
	uint64_t c; /* the flow's clock: the newest packet time so far */

	if (mp->index == 0) {
		s->first = s->last = t;
		s->act_start = s->act_end = t;
		s->iat.min = UINT64_MAX;
		c = t;
	} else {
		c = t > s->last ? t : s->last;
		uint64_t gap = c - s->last;
		series_add(&s->iat, gap);
		if (gap > NFM_CIC_SUBFLOW_US)
			s->subflow_gaps++;
		s->last = c;
		active_idle(s, c);
	}

	const unsigned seen = NFM_CIC_SEEN_FWD << d;
	if (!(s->bits & seen)) {
		s->bits |= (uint16_t)seen;
		dd->first = dd->last = t;
		dd->iat.min = UINT64_MAX;
		dd->len.min = dd->len.max = pl;
		dd->hdr_min = (uint16_t)hl;
	} else {
		uint64_t cd = t > dd->last ? t : dd->last;
		series_add(&dd->iat, cd - dd->last);
		dd->last = cd;
		if (pl < dd->len.min)
			dd->len.min = pl;
		if (pl > dd->len.max)
			dd->len.max = pl;
		if (hl < dd->hdr_min)
			dd->hdr_min = (uint16_t)hl;
	}
	nfm_cic_sq_add(&dd->len.sq, pl);
	dd->hdr += hl;
	dd->data_pkts += pl > 0;

	if (ip && p->ip_proto == NFM_IPPROTO_TCP) {
		uint8_t fl = p->tcp_flags;
		dd->psh += (fl & NFM_TCP_PSH) != 0;
		dd->urg += (fl & NFM_TCP_URG) != 0;
		dd->rst += (fl & NFM_TCP_RST) != 0;
		s->cwr += (fl & NFM_TCP_CWR) != 0;
		s->ece += (fl & NFM_TCP_ECE) != 0;
		const unsigned win = NFM_CIC_WIN_FWD << d;
		if (!(s->bits & win) && l4_header) {
			s->bits |= (uint16_t)win;
			dd->win = p->tcp_window;
		}
	} else if (ip && (p->ip_proto == NFM_IPPROTO_ICMP || p->ip_proto == NFM_IPPROTO_ICMPV6) &&
		   l4_header && !(s->bits & NFM_CIC_ICMP)) {
		s->bits |= NFM_CIC_ICMP;
		s->icmp_type = p->icmp_type;
		s->icmp_code = p->icmp_code;
	}
	bulk(s, d, c, pl);
}

const struct nfm_module nfm_mod_cic = {
	.name = "cic",
	.desc = "CICFlowMeter's flow features, its bugs fixed",
	.state_size = sizeof(struct nfm_cic_state),
	.state_align = 8,
	.packet = cic_packet,
	.fields = nfm_cic_fields,
	.nfields = NFM_CIC_NFIELDS,
};
