#include "flow/table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SHIFT 14
#define CHUNK_SIZE (1u << CHUNK_SHIFT)
#define INITIAL_SLOTS 1024u
#define MIGRATE_STEP 16u /* old slots moved per add while growing */
#define REF_EMPTY 0u
#define REF_TOMB UINT32_MAX /* only in an index being drained */

struct slot {
	uint32_t hlo; /* low 32 bits of the hash: home position and a cheap filter */
	uint32_t ref; /* entry index + 1; REF_EMPTY; REF_TOMB */
};

struct index {
	struct slot *slots;
	size_t mask;
	size_t used;
};

struct nfm_flow_table {
	uint64_t seed;
	struct index cur;
	struct index old;      /* being migrated into cur; slots NULL when not growing */
	size_t migrate_pos;
	uint8_t **chunks;      /* CHUNK_SIZE entries of entry_size bytes each */
	/* Chunks are cut back to back from segments of seg_bytes, so that mapping them in
	 * 2 MiB steps wastes nothing between them (seg_left bytes at seg_next remain). */
	uint8_t **segs;
	size_t nsegs, seg_bytes, seg_left;
	uint8_t *seg_next;
	size_t entry_size;
	size_t nchunks, chunk_cap;
	uint32_t next_unused;  /* entries [0, next_unused) have been handed out once */
	uint32_t free_head;    /* free entries, linked through link_next[0] */
	size_t count;
};


static uint64_t fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* 128-bit multiply folded to 64 bits: the mixing step of wyhash-style hashes. */
static uint64_t mum(uint64_t a, uint64_t b)
{
	__extension__ unsigned __int128 r = (unsigned __int128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Three independent multiplies over the six key words (they run in parallel, unlike a
 * chained hash), then a final mix. */
uint64_t nfm_flow_key_hash(const struct nfm_flow_table *t, const struct nfm_flow_key *k)
{
	_Static_assert(sizeof(struct nfm_flow_key) == 48, "key is six 64-bit words");
	uint64_t w[6];
	memcpy(w, k, sizeof w);
	uint64_t s = t->seed;
	uint64_t h = mum(w[0] ^ s ^ 0xa0761d6478bd642fULL, w[1] ^ 0xe7037ed1a0b428dbULL) ^
		     mum(w[2] ^ s ^ 0x8ebc6af09c88c6e3ULL, w[3] ^ 0x589965cc75374cc3ULL) ^
		     mum(w[4] ^ s ^ 0x1d8e4e27c47d124fULL, w[5] ^ 0xa0761d6478bd642fULL);
	return fmix64(h);
}

/* Memory for the index and the entry chunks: lookups land at random in many megabytes,
 * so with 4 KiB pages nearly every one also misses the TLB (and a prefetch waits for the
 * page walk). Regions of 2 MiB and more are mapped on their own, aligned to 2 MiB and
 * offered to the kernel for huge pages (advice only: without them nothing changes);
 * smaller ones come from malloc. Either way they start zeroed, and pages are only
 * touched as they are used. */
#define HUGE_BYTES ((size_t)2 << 20)

static size_t big_size(size_t bytes)
{
	return bytes < HUGE_BYTES ? bytes : (bytes + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1);
}

static void *big_alloc(size_t bytes)
{
	if (bytes < HUGE_BYTES)
		return calloc(1, bytes);
	size_t size = big_size(bytes);
	if (size > SIZE_MAX - HUGE_BYTES)
		return NULL;
	uint8_t *p = mmap(NULL, size + HUGE_BYTES, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uint8_t *a = (uint8_t *)(((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + size < p + size + HUGE_BYTES)
		munmap(a + size, (size_t)(p + size + HUGE_BYTES - (a + size)));
#ifdef MADV_HUGEPAGE
	madvise(a, size, MADV_HUGEPAGE);
#endif
	return a;
}

static void big_free(void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes < HUGE_BYTES)
		free(p);
	else
		munmap(p, big_size(bytes));
}

static int index_init(struct index *ix, size_t nslots)
{
	if (nslots > SIZE_MAX / sizeof *ix->slots)
		return -1;
	ix->slots = big_alloc(nslots * sizeof *ix->slots);
	if (!ix->slots)
		return -1;
	ix->mask = nslots - 1;
	ix->used = 0;
	return 0;
}

static void index_free(struct index *ix)
{
	if (ix->slots)
		big_free(ix->slots, (ix->mask + 1) * sizeof *ix->slots);
}

struct nfm_flow_table *nfm_flow_table_new(uint64_t seed, size_t module_bytes)
{
	_Static_assert(NFM_FLOW_CORE_SIZE % 8 == 0, "entries stay 8-byte aligned");
	struct nfm_flow_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->seed = seed;
	t->entry_size = NFM_FLOW_CORE_SIZE + ((module_bytes + 7) & ~(size_t)7);
	/* 16 chunks a segment: what the last huge page of a segment leaves unused is
	 * under 1/16 of a chunk's share of it. */
	t->seg_bytes = big_size(16 * (size_t)CHUNK_SIZE * t->entry_size);
	t->free_head = NFM_FLOW_NONE;
	if (index_init(&t->cur, INITIAL_SLOTS) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void nfm_flow_table_free(struct nfm_flow_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nsegs; i++)
		big_free(t->segs[i], t->seg_bytes);
	free(t->segs);
	free(t->chunks);
	index_free(&t->cur);
	index_free(&t->old);
	free(t);
}

struct nfm_flow *nfm_flow_table_at(const struct nfm_flow_table *t, uint32_t idx)
{
	return (struct nfm_flow *)(t->chunks[idx >> CHUNK_SHIFT] +
				   (size_t)(idx & (CHUNK_SIZE - 1)) * t->entry_size);
}

uint32_t nfm_flow_table_index_of(const struct nfm_flow_table *t, const struct nfm_flow *f)
{
	(void)t;
	return f->self;
}

static int key_eq(const struct nfm_flow_key *x, const struct nfm_flow_key *y)
{
	return memcmp(x, y, sizeof *x) == 0;
}

/* Position of the slot referring to entry ref in ix, or SIZE_MAX. */
static size_t index_find(const struct nfm_flow_table *t, const struct index *ix,
			 const struct nfm_flow_key *k, uint64_t hash, uint32_t *ref_out)
{
	uint32_t hlo = (uint32_t)hash;
	size_t pos = hlo & ix->mask;
	for (;;) {
		const struct slot *s = &ix->slots[pos];
		if (s->ref == REF_EMPTY)
			return SIZE_MAX;
		if (s->ref != REF_TOMB && s->hlo == hlo &&
		    key_eq(&nfm_flow_table_at(t, s->ref - 1)->key, k)) {
			*ref_out = s->ref;
			return pos;
		}
		pos = (pos + 1) & ix->mask;
	}
}

struct nfm_flow *nfm_flow_table_find(struct nfm_flow_table *t, const struct nfm_flow_key *k,
				     uint64_t hash)
{
	uint32_t ref;
	if (index_find(t, &t->cur, k, hash, &ref) != SIZE_MAX)
		return nfm_flow_table_at(t, ref - 1);
	if (t->old.slots && index_find(t, &t->old, k, hash, &ref) != SIZE_MAX)
		return nfm_flow_table_at(t, ref - 1);
	return NULL;
}

void nfm_flow_table_prefetch_slot(const struct nfm_flow_table *t, uint64_t hash)
{
	__builtin_prefetch(&t->cur.slots[(uint32_t)hash & t->cur.mask]);
}

void nfm_flow_table_prefetch_entry(const struct nfm_flow_table *t, uint64_t hash)
{
	/* Only the home slot (usually already in cache from the slot prefetch): the entry
	 * whose hash bits match is very likely the flow. */
	const struct slot *s = &t->cur.slots[(uint32_t)hash & t->cur.mask];
	if (s->hlo == (uint32_t)hash && s->ref != REF_EMPTY && s->ref != REF_TOMB) {
		/* The hot part: what the packet will read and write. */
		const char *e = (const char *)nfm_flow_table_at(t, s->ref - 1);
		for (size_t off = 0; off < offsetof(struct nfm_flow, cold); off += 64)
			__builtin_prefetch(e + off, 1);
		/* The feature modules' states, which the packet hooks will update (none
		 * without modules), up to 512 bytes: a larger state (--splt 255 keeps 3 KiB)
		 * is mostly history that a packet does not touch. */
		size_t end = t->entry_size < NFM_FLOW_CORE_SIZE + 512 ? t->entry_size
								       : NFM_FLOW_CORE_SIZE + 512;
		if (end > NFM_FLOW_CORE_SIZE) {
			for (size_t off = NFM_FLOW_CORE_SIZE; off < end; off += 64)
				__builtin_prefetch(e + off, 1);
			__builtin_prefetch(e + end - 1, 1);
		}
	}
}

void nfm_flow_table_prefetch_links(const struct nfm_flow_table *t, uint64_t hash, int list)
{
	const struct slot *s = &t->cur.slots[(uint32_t)hash & t->cur.mask];
	if (s->hlo != (uint32_t)hash || s->ref == REF_EMPTY || s->ref == REF_TOMB)
		return;
	const struct nfm_flow *f = nfm_flow_table_at(t, s->ref - 1);
	uint32_t prev = f->link_prev[list], next = f->link_next[list];
	if (prev != NFM_FLOW_NONE)
		__builtin_prefetch(&nfm_flow_table_at(t, prev)->link_next[list], 1);
	if (next != NFM_FLOW_NONE)
		__builtin_prefetch(&nfm_flow_table_at(t, next)->link_prev[list], 1);
}

void nfm_flow_table_prefetch_unlink(const struct nfm_flow_table *t, const struct nfm_flow *f,
				    int nlists)
{
	__builtin_prefetch(&t->cur.slots[f->hash & t->cur.mask], 1);
	for (size_t off = 0; off < NFM_FLOW_CORE_SIZE; off += 64) /* its record is copied */
		__builtin_prefetch((const char *)f + off);
	for (int l = 0; l < nlists; l++) {
		if (f->link_prev[l] != NFM_FLOW_NONE)
			__builtin_prefetch(&nfm_flow_table_at(t, f->link_prev[l])->link_next[l], 1);
		if (f->link_next[l] != NFM_FLOW_NONE)
			__builtin_prefetch(&nfm_flow_table_at(t, f->link_next[l])->link_prev[l], 1);
	}
}

static void index_put(struct index *ix, uint64_t hash, uint32_t ref)
{
	uint32_t hlo = (uint32_t)hash;
	size_t pos = hlo & ix->mask;
	while (ix->slots[pos].ref != REF_EMPTY)
		pos = (pos + 1) & ix->mask;
	ix->slots[pos].hlo = hlo;
	ix->slots[pos].ref = ref;
	ix->used++;
}

/* Moves up to MIGRATE_STEP slots of the old index into the current one. */
static void migrate_some(struct nfm_flow_table *t)
{
	size_t end = t->old.mask + 1;
	for (unsigned n = 0; n < MIGRATE_STEP && t->migrate_pos < end; n++, t->migrate_pos++) {
		struct slot *s = &t->old.slots[t->migrate_pos];
		if (s->ref != REF_EMPTY && s->ref != REF_TOMB) {
			const struct nfm_flow *f = nfm_flow_table_at(t, s->ref - 1);
			index_put(&t->cur, f->hash, s->ref);
			t->old.used--;
			/* A tombstone, not empty: later entries' probe runs pass through here. */
			s->ref = REF_TOMB;
		}
	}
	if (t->migrate_pos >= end || t->old.used == 0) {
		index_free(&t->old);
		t->old.slots = NULL;
		t->old.used = 0;
	}
}

static int maybe_grow(struct nfm_flow_table *t)
{
	if (t->old.slots) {
		migrate_some(t);
		return 0;
	}
	size_t nslots = t->cur.mask + 1;
	if ((t->cur.used + 1) * 4 <= nslots * 3)
		return 0;
	struct index bigger;
	if (index_init(&bigger, nslots * 2) != 0)
		return -1;
	t->old = t->cur;
	t->cur = bigger;
	t->migrate_pos = 0;
	migrate_some(t);
	return 0;
}

/* The next chunk, from the current segment or a new one (page aligned; pages are only
 * touched as entries are used). */
static uint8_t *chunk_alloc(struct nfm_flow_table *t)
{
	size_t bytes = (size_t)CHUNK_SIZE * t->entry_size;
	if (t->seg_left < bytes) {
		if (t->nsegs % 16 == 0) {
			uint8_t **s = realloc(t->segs, (t->nsegs + 16) * sizeof *s);
			if (!s)
				return NULL;
			t->segs = s;
		}
		uint8_t *seg = big_alloc(t->seg_bytes);
		if (!seg)
			return NULL;
		t->segs[t->nsegs++] = seg;
		t->seg_next = seg;
		t->seg_left = t->seg_bytes;
	}
	uint8_t *chunk = t->seg_next;
	t->seg_next += bytes;
	t->seg_left -= bytes;
	return chunk;
}

static struct nfm_flow *entry_alloc(struct nfm_flow_table *t, uint32_t *idx_out)
{
	uint32_t idx;
	if (t->free_head != NFM_FLOW_NONE) {
		idx = t->free_head;
		t->free_head = nfm_flow_table_at(t, idx)->link_next[0];
	} else {
		if (t->next_unused == NFM_FLOW_NONE - 1)
			return NULL;
		if ((t->next_unused >> CHUNK_SHIFT) >= t->nchunks) {
			if (t->nchunks == t->chunk_cap) {
				size_t cap = t->chunk_cap ? t->chunk_cap * 2 : 16;
				uint8_t **c = realloc(t->chunks, cap * sizeof *c);
				if (!c)
					return NULL;
				t->chunks = c;
				t->chunk_cap = cap;
			}
			uint8_t *chunk = chunk_alloc(t);
			if (!chunk)
				return NULL;
			t->chunks[t->nchunks++] = chunk;
		}
		idx = t->next_unused++;
	}
	*idx_out = idx;
	return nfm_flow_table_at(t, idx);
}

struct nfm_flow *nfm_flow_table_add(struct nfm_flow_table *t, const struct nfm_flow_key *k,
				    uint64_t hash)
{
	if (maybe_grow(t) != 0)
		return NULL;
	uint32_t idx;
	struct nfm_flow *f = entry_alloc(t, &idx);
	if (!f)
		return NULL;
	memset(f, 0, t->entry_size);
	f->key = *k;
	f->hash = hash;
	f->self = idx;
	index_put(&t->cur, hash, idx + 1);
	t->count++;
	return f;
}

/* Backward-shift deletion: keeps probe runs intact without tombstones. */
static void index_delete_at(struct index *ix, size_t i)
{
	size_t j = i;
	for (;;) {
		j = (j + 1) & ix->mask;
		struct slot sj = ix->slots[j];
		if (sj.ref == REF_EMPTY)
			break;
		size_t home = sj.hlo & ix->mask;
		/* Move sj back to i unless its home lies cyclically in (i, j]. */
		int home_in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
		if (!home_in_range) {
			ix->slots[i] = sj;
			i = j;
		}
	}
	ix->slots[i].ref = REF_EMPTY;
	ix->slots[i].hlo = 0;
	ix->used--;
}

void nfm_flow_table_remove(struct nfm_flow_table *t, struct nfm_flow *f)
{
	uint32_t ref;
	size_t pos = index_find(t, &t->cur, &f->key, f->hash, &ref);
	if (pos != SIZE_MAX) {
		index_delete_at(&t->cur, pos);
	} else if (t->old.slots) {
		pos = index_find(t, &t->old, &f->key, f->hash, &ref);
		if (pos != SIZE_MAX) {
			t->old.slots[pos].ref = REF_TOMB;
			t->old.used--;
		}
	}
	if (pos == SIZE_MAX)
		return; /* not in the table: nothing to free */
	uint32_t idx = ref - 1;
	f->link_next[0] = t->free_head;
	t->free_head = idx;
	t->count--;
}

size_t nfm_flow_table_count(const struct nfm_flow_table *t) { return t->count; }

size_t nfm_flow_table_flow_bytes(size_t module_bytes)
{
	/* The index doubles when it is 3/4 full, so right after growing it has 8/3 slots
	 * per entry, and the old index (4/3 slots per entry) lives until it is drained:
	 * 4 slots per entry at most. */
	return NFM_FLOW_CORE_SIZE + ((module_bytes + 7) & ~(size_t)7) + 4 * sizeof(struct slot);
}

size_t nfm_flow_table_memory(const struct nfm_flow_table *t)
{
	size_t bytes = sizeof *t + big_size((t->cur.mask + 1) * sizeof(struct slot));
	if (t->old.slots)
		bytes += big_size((t->old.mask + 1) * sizeof(struct slot));
	bytes += t->nchunks * (size_t)CHUNK_SIZE * t->entry_size;
	return bytes;
}

void nfm_flow_record_of(const struct nfm_flow *f, struct nfm_flow_record *r)
{
	const struct nfm_flow_key *k = &f->key;
	const struct nfm_flow_stats *st = &f->st;
	int a = f->fwd_is_a;
	/* Padding too: records compare as bytes in tests. In pieces of 64 bytes: gcc
	 * zeroes a larger block with rep stosq, whose start-up was half of this function's
	 * time on captures of many short flows. */
	_Static_assert(sizeof *r > 192 && sizeof *r <= 256, "four pieces");
	memset(r, 0, 64);
	memset((char *)r + 64, 0, 64);
	memset((char *)r + 128, 0, 64);
	memset((char *)r + 192, 0, sizeof *r - 192);
	r->l3 = k->l3;
	r->ip_proto = k->proto;
	r->has_vlan = k->has_vlan;
	r->end_reason = f->end_reason;
	r->vlan_id = k->vlan;
	r->src_port = a ? k->port_a : k->port_b;
	r->dst_port = a ? k->port_b : k->port_a;
	memcpy(r->src, a ? k->a : k->b, 16);
	memcpy(r->dst, a ? k->b : k->a, 16);
	r->first_ns = st->first_ns;
	r->last_ns = st->last_ns;
	for (int d = 0; d < 2; d++) {
		r->pkts[d] = st->pkts[d];
		r->bytes[d] = st->bytes[d];
		r->payload[d] = st->payload[d];
		r->fin_seq[d] = st->fin_seq[d];
	}
	r->min_len = st->min_len;
	r->max_len = st->max_len;
	r->iat_sum_ns = st->iat_sum_ns;
	r->iat_min_ns = st->iat_min_ns;
	r->iat_max_ns = st->iat_max_ns;
	r->tcp_flags = f->tcp_flags;
	r->conn_state = f->conn_state;
	r->tcp_progress = f->tcp_progress;
	r->syn_count = st->syn_count;
	r->fin_count = st->fin_count;
	r->rst_count = st->rst_count;
	r->ack_count = st->ack_count;
	r->seq = f->cold.seq;
}
