/* The Space-Saving summary behind the report's top talkers (see talkers.h). */
#include "report/talkers.h"

#include <string.h>

#include "decode/decode.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static size_t talker_hash(uint8_t l3, const uint8_t addr[16])
{
	uint64_t a, b;
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ l3) * 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (size_t)(h & (NFM_REPORT_TALKER_SLOTS - 1));
}

/* Slot holding the key, or the empty slot where it would go. */
static size_t talker_find(const struct nfm_talkers *ts, uint8_t l3, const uint8_t addr[16])
{
	size_t i = talker_hash(l3, addr);
	for (;;) {
		unsigned e = ts->slot[i];
		if (!e)
			return i;
		const struct nfm_talker *t = &ts->e[e - 1];
		if (t->l3 == l3 && memcmp(t->addr, addr, 16) == 0)
			return i;
		i = (i + 1) & (NFM_REPORT_TALKER_SLOTS - 1);
	}
}

/* Linear probing deletion by backward shift (no tombstones). */
static void talker_unhash(struct nfm_talkers *ts, size_t i)
{
	const size_t mask = NFM_REPORT_TALKER_SLOTS - 1;
	ts->slot[i] = 0;
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		unsigned e = ts->slot[j];
		if (!e)
			return;
		const struct nfm_talker *t = &ts->e[e - 1];
		size_t home = talker_hash(t->l3, t->addr);
		/* Move e into the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			ts->slot[i] = (uint16_t)e;
			ts->slot[j] = 0;
			i = j;
		}
	}
}

static bool talker_less(const struct nfm_talkers *ts, unsigned a, unsigned b)
{
	return ts->e[a].bytes < ts->e[b].bytes;
}

static void heap_swap(struct nfm_talkers *ts, size_t i, size_t j)
{
	uint16_t t = ts->heap[i];
	ts->heap[i] = ts->heap[j];
	ts->heap[j] = t;
	ts->heap_pos[ts->heap[i]] = (uint16_t)i;
	ts->heap_pos[ts->heap[j]] = (uint16_t)j;
}

static void talker_sift_down(struct nfm_talkers *ts, size_t i)
{
	size_t n = ts->n;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && talker_less(ts, ts->heap[l], ts->heap[m]))
			m = l;
		if (r < n && talker_less(ts, ts->heap[r], ts->heap[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(ts, i, m);
		i = m;
	}
}

static void talker_sift_up(struct nfm_talkers *ts, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!talker_less(ts, ts->heap[i], ts->heap[p]))
			return;
		heap_swap(ts, i, p);
		i = p;
	}
}

void nfm_talkers_add(struct nfm_talkers *ts, uint8_t l3, const uint8_t addr_in[16], uint64_t w)
{
	if (w == 0)
		return;
	uint8_t addr[16];
	memcpy(addr, addr_in, 16);
	if (l3 == NFM_L3_ARP) { /* ARP carries IPv4 addresses: same host as its IPv4 traffic */
		l3 = NFM_L3_IPV4;
		memset(addr + 4, 0, 12);
	}
	size_t s = talker_find(ts, l3, addr);
	unsigned e = ts->slot[s];
	if (e) {
		struct nfm_talker *t = &ts->e[e - 1];
		t->bytes = sat_add(t->bytes, w);
		talker_sift_down(ts, ts->heap_pos[e - 1]);
		return;
	}
	if (ts->n < NFM_REPORT_TALKERS) {
		unsigned idx = (unsigned)ts->n++;
		struct nfm_talker *t = &ts->e[idx];
		t->l3 = l3;
		memcpy(t->addr, addr, 16);
		t->bytes = w;
		t->err = 0;
		ts->slot[s] = (uint16_t)(idx + 1);
		ts->heap[idx] = (uint16_t)idx;
		ts->heap_pos[idx] = (uint16_t)idx;
		talker_sift_up(ts, idx);
		return;
	}
	/* Full: the address with the smallest count gives its place (Space-Saving). */
	unsigned idx = ts->heap[0];
	struct nfm_talker *t = &ts->e[idx];
	talker_unhash(ts, talker_find(ts, t->l3, t->addr));
	uint64_t floor_count = t->bytes;
	t->l3 = l3;
	memcpy(t->addr, addr, 16);
	t->bytes = sat_add(floor_count, w);
	t->err = floor_count;
	ts->slot[talker_find(ts, l3, addr)] = (uint16_t)(idx + 1);
	talker_sift_down(ts, 0);
	ts->approx = true;
}

/* Ranking order: more bytes first, then address order for stable output. */
static bool talker_before(const struct nfm_talker *a, const struct nfm_talker *b)
{
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	if (a->l3 != b->l3)
		return a->l3 < b->l3;
	return memcmp(a->addr, b->addr, 16) < 0;
}

/* Indices of the top entries, best first; returns how many. */
size_t nfm_talkers_top(const struct nfm_talkers *ts, unsigned out[NFM_REPORT_TOP])
{
	size_t n = 0;
	for (unsigned i = 0; i < ts->n; i++) {
		const struct nfm_talker *t = &ts->e[i];
		size_t pos = n;
		while (pos > 0 && talker_before(t, &ts->e[out[pos - 1]]))
			pos--;
		if (pos >= NFM_REPORT_TOP)
			continue;
		size_t last = n < NFM_REPORT_TOP ? n : NFM_REPORT_TOP - 1;
		for (size_t k = last; k > pos; k--)
			out[k] = out[k - 1];
		out[pos] = i;
		if (n < NFM_REPORT_TOP)
			n++;
	}
	return n;
}
