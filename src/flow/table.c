#include "flow/table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

static int index_init(struct index *ix, size_t nslots)
{
	ix->slots = calloc(nslots, sizeof *ix->slots);
	if (!ix->slots)
		return -1;
	ix->mask = nslots - 1;
	ix->used = 0;
	return 0;
}

struct nfm_flow_table *nfm_flow_table_new(uint64_t seed, size_t module_bytes)
{
	_Static_assert(NFM_FLOW_CORE_SIZE % 8 == 0, "entries stay 8-byte aligned");
	struct nfm_flow_table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->seed = seed;
	t->entry_size = NFM_FLOW_CORE_SIZE + ((module_bytes + 7) & ~(size_t)7);
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
	for (size_t i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->cur.slots);
	free(t->old.slots);
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
		free(t->old.slots);
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
			/* Cache-line aligned; pages are only touched as entries are used. */
			uint8_t *chunk = aligned_alloc(64, CHUNK_SIZE * t->entry_size);
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
	size_t bytes = sizeof *t + (t->cur.mask + 1) * sizeof(struct slot);
	if (t->old.slots)
		bytes += (t->old.mask + 1) * sizeof(struct slot);
	bytes += t->nchunks * CHUNK_SIZE * t->entry_size;
	return bytes;
}
