/* Flow table: a pool of flow entries plus an open-addressing index over their keys.
 * - Keys are normalised (lower endpoint first) so both directions of a conversation find
 *   the same entry in one probe; the caller keeps the direction bit.
 * - Linear probing, load <= 0.75, no tombstones in steady state (backward-shift delete).
 * - Growth never rehashes all at once: a bigger index is allocated and the old one is
 *   migrated a few slots per operation (lookups consult both until it is drained).
 * - Entries live in fixed-size chunks that never move, so an entry's address is stable
 *   until it is removed; freed entries are reused through a free list.
 * Owns all its memory. Not thread-safe. */
#ifndef NFM_FLOW_TABLE_H
#define NFM_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "flow/record.h"

/* Normalised flow key: endpoint a is the lower (address, port) pair. Fixed size and fully
 * zero-initialised so it can be hashed and compared as bytes. */
struct nfm_flow_key {
	uint8_t a[16];
	uint8_t b[16];
	uint16_t port_a, port_b;
	uint16_t vlan;
	uint8_t l3;
	uint8_t proto;
	uint8_t has_vlan;
	uint8_t pad[7];
};

#define NFM_FLOW_NONE UINT32_MAX

/* One tracked flow. The list links are indices (NFM_FLOW_NONE terminates). */
struct nfm_flow {
	struct nfm_flow_key key;
	uint64_t hash;
	uint64_t lru_time;      /* clamped packet time of the last packet (idle expiry) */
	uint64_t born_time;     /* clamped packet time of the first packet (active expiry) */
	uint64_t close_time;    /* when the TCP connection finished (linger expiry) */
	uint32_t link_prev[3];  /* expiry lists, indexed by the meter's list ids */
	uint32_t link_next[3];  /* link_next[0] also chains free entries */
	uint8_t fwd_is_a;       /* forward (initiator) side is endpoint a */
	uint8_t finished;       /* TCP close or reset seen: on the linger list */
	uint8_t pad[2];
	uint32_t self;          /* this entry's index */
	struct nfm_flow_record rec;
};

struct nfm_flow_table;

/* seed varies hash placement; output never depends on it. */
struct nfm_flow_table *nfm_flow_table_new(uint64_t seed);
void nfm_flow_table_free(struct nfm_flow_table *t);

uint64_t nfm_flow_key_hash(const struct nfm_flow_table *t, const struct nfm_flow_key *k);
struct nfm_flow *nfm_flow_table_find(struct nfm_flow_table *t, const struct nfm_flow_key *k,
				     uint64_t hash);
/* Adds a new entry for k (which must not be present); the entry is zeroed except key and
 * hash. NULL when memory is exhausted. */
struct nfm_flow *nfm_flow_table_add(struct nfm_flow_table *t, const struct nfm_flow_key *k,
				    uint64_t hash);
void nfm_flow_table_remove(struct nfm_flow_table *t, struct nfm_flow *f);
/* Cache hints for a lookup that will come soon: the index slot of hash, then (once the
 * slot is in cache) the entry it most likely refers to. Never change the table. */
void nfm_flow_table_prefetch_slot(const struct nfm_flow_table *t, uint64_t hash);
void nfm_flow_table_prefetch_entry(const struct nfm_flow_table *t, uint64_t hash);
/* And (once the entry is in cache) its neighbours on expiry list `list`, which moving
 * the entry to the tail of that list will write. */
void nfm_flow_table_prefetch_links(const struct nfm_flow_table *t, uint64_t hash, int list);

struct nfm_flow *nfm_flow_table_at(const struct nfm_flow_table *t, uint32_t idx);
uint32_t nfm_flow_table_index_of(const struct nfm_flow_table *t, const struct nfm_flow *f);
size_t nfm_flow_table_count(const struct nfm_flow_table *t);
/* Bytes held by the table (index + entry chunks). */
size_t nfm_flow_table_memory(const struct nfm_flow_table *t);

#endif
