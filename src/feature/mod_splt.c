/* Early packets (--splt N), as NFStream's splt analysis: the direction, size and gap of
 * each of the first N packets of a flow, written as three lists of N integers, -1 where
 * the flow has fewer packets. Direction 0 is src2dst (from the initiator), 1 dst2src;
 * the size is the on-wire length; the gap is 0 for the first packet, then the packet's
 * ms time minus the newest ms time of the flow before it (0 for a packet older than
 * that, so never negative).
 *
 * The state depends on N, so the module is described at run time (nfm_mod_splt_init)
 * with N as its param: a header (the flow's newest ms time, N, the packets kept), a
 * bitmap of directions, N sizes (32 bits) and N gaps (64 bits: with the idle timeout off
 * a gap is not bounded). */
#include "feature/nfstream.h"

#include <stddef.h>
#include <string.h>

#include "feature/fields.h"

#define NS_PER_MS 1000000u

struct splt_head {
	uint64_t newest_ms;
	uint8_t cap;          /* N */
	uint8_t count;        /* packets kept (at most N) */
	uint8_t dirs[];       /* bit i: direction of packet i */
};

static size_t align_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

static size_t sizes_off(unsigned n)
{
	return align_up(offsetof(struct splt_head, dirs) + (n + 7) / 8, 4);
}

static size_t gaps_off(unsigned n)
{
	return align_up(sizes_off(n) + 4 * (size_t)n, 8);
}

size_t nfm_splt_state_size(unsigned n)
{
	return gaps_off(n) + 8 * (size_t)n;
}

static const uint32_t *sizes(const void *state, unsigned n)
{
	return (const uint32_t *)((const uint8_t *)state + sizes_off(n));
}

static const uint64_t *gaps(const void *state, unsigned n)
{
	return (const uint64_t *)((const uint8_t *)state + gaps_off(n));
}

static void splt_packet(void *state, const struct nfm_module_packet *p)
{
	struct splt_head *h = state;
	uint64_t ms = p->pkt->ts_ns / NS_PER_MS;
	if (p->index == 0) {
		h->cap = (uint8_t)p->mod->param;
		h->newest_ms = ms;
	}
	if (p->index >= h->cap)
		return;
	unsigned i = (unsigned)p->index;
	uint64_t gap = ms > h->newest_ms ? ms - h->newest_ms : 0;
	if (ms > h->newest_ms)
		h->newest_ms = ms;
	if (p->dir)
		h->dirs[i / 8] |= (uint8_t)(1u << (i % 8));
	uint8_t *b = state;
	((uint32_t *)(b + sizes_off(h->cap)))[i] = p->pkt->wire_len;
	((uint64_t *)(b + gaps_off(h->cap)))[i] = gap;
	h->count = (uint8_t)(i + 1);
}

/* ---- the lists ---- */

static int64_t dir_at(const void *base, size_t i)
{
	const struct splt_head *h = base;
	return i < h->count ? (h->dirs[i / 8] >> (i % 8)) & 1 : -1;
}

static int64_t size_at(const void *base, size_t i)
{
	const struct splt_head *h = base;
	return i < h->count ? (int64_t)sizes(base, h->cap)[i] : -1;
}

static int64_t gap_at(const void *base, size_t i)
{
	const struct splt_head *h = base;
	return i < h->count ? (int64_t)gaps(base, h->cap)[i] : -1;
}

static void list(const void *state, int64_t (*at)(const void *, size_t), struct nfm_value *v)
{
	const struct splt_head *h = state;
	v->type = NFM_V_LIST;
	v->list.base = state;
	v->list.n = h->cap;
	v->list.at = at;
}

static void get_dir(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	list(state, dir_at, v);
}

static void get_size(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	list(state, size_at, v);
}

static void get_gap(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	list(state, gap_at, v);
}

static const struct nfm_field splt_fields[] = {
	{ "splt_direction", NFM_V_LIST, 0, 0, "", "Directions of the flow's first N packets (--splt N): 0 src2dst (from the initiator), 1 dst2src; -1 past the flow's last packet.", get_dir },
	{ "splt_ps", NFM_V_LIST, 0, 0, "bytes", "On-wire lengths of the flow's first N packets; -1 past the flow's last packet.", get_size },
	{ "splt_piat_ms", NFM_V_LIST, 0, 0, "ms", "Gaps of the flow's first N packets: 0 for the first, then the packet's ms time minus the newest ms time of the flow before it (0 for an older packet); -1 past the flow's last packet.", get_gap },
};

int nfm_mod_splt_init(struct nfm_module *m, unsigned n, struct nfm_error *err)
{
	if (n < 1 || n > NFM_SPLT_MAX)
		return nfm_error_set(err, NFM_ERR_INVALID, "--splt: %u packets: from 1 to %u", n,
				     NFM_SPLT_MAX);
	memset(m, 0, sizeof *m);
	m->name = "splt";
	m->desc = "the direction, size and gap of the first N packets (--splt N)";
	m->state_size = nfm_splt_state_size(n);
	m->state_align = 8;
	m->packet = splt_packet;
	m->fields = splt_fields;
	m->nfields = sizeof splt_fields / sizeof splt_fields[0];
	m->param = n;
	return 0;
}
