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

/* What every packet of a flow updates. */
struct nfm_flow_stats {
	uint64_t first_ns, last_ns;
	uint64_t pkts[2];          /* [NFM_FWD], [NFM_BWD] */
	uint64_t bytes[2];         /* on-wire frame lengths */
	uint64_t payload[2];       /* transport payload bytes from IP lengths */
	uint64_t iat_sum_ns, iat_min_ns, iat_max_ns;
	uint32_t min_len, max_len;
	uint32_t syn_count, fin_count, rst_count, ack_count;
	uint32_t fin_seq[2];       /* sequence number of each side's FIN (flow/tcp_state.c) */
};

/* What is set once when a flow starts and read only when it is written (the tunnel
 * columns are a feature module: feature/mod_tunnel.c). */
struct nfm_flow_cold {
	uint64_t seq;              /* creation order (first packet's position in the input) */
};

/* What nfm_flow.finished says. */
enum nfm_flow_finished {
	NFM_FLOW_OPEN = 0,
	NFM_FLOW_CLOSED = 1,    /* TCP close or reset seen: on the linger list */
	/* Not a flow: the entry keeps the key and orientation (fwd_is_a) of a flow its
	 * active timeout ended, so that the next flow of the key, which continues it, keeps
	 * its initiator (flow/meter.c). No counters, no module state; born_time holds its
	 * deadline, and it stays on the idle list at the ended flow's place. */
	NFM_FLOW_CONTINUED = 2,
};

/* One tracked flow: the key, timers, list links and counters that packets touch come
 * first (the hot part, 232 bytes), then the cold part, then the
 * feature modules' states (flow/module.h) at the table's module offset. The flow's
 * identity (addresses, ports, protocol, VLAN) is the key itself: fwd_is_a says which
 * endpoint is the initiator. The list links are indices (NFM_FLOW_NONE terminates). */
struct nfm_flow {
	struct nfm_flow_key key;
	uint32_t hash;          /* low bits of the key's hash: the index uses no more */
	uint32_t self;          /* this entry's index */
	uint64_t lru_time;      /* clamped packet time of the last packet (idle expiry) */
	uint64_t born_time;     /* clamped packet time of the first packet (active expiry) */
	uint64_t close_time;    /* when the TCP connection finished (linger expiry) */
	uint32_t link_prev[3];  /* expiry lists, indexed by the meter's list ids */
	uint32_t link_next[3];  /* link_next[0] also chains free entries */
	uint8_t fwd_is_a;       /* forward (initiator) side is endpoint a */
	uint8_t finished;       /* enum nfm_flow_finished */
	uint8_t end_reason;     /* enum nfm_end_reason (set by a TCP close/reset, or at expiry) */
	uint8_t conn_state;     /* enum nfm_conn_state, set at expiry */
	uint8_t tcp_flags;      /* OR of all flags seen */
	uint8_t tcp_progress;   /* handshake/teardown bits (flow/tcp_state.c) */
	struct nfm_flow_stats st; /* (the TCP bytes above fill what would be its padding) */
	struct nfm_flow_cold cold;
};

/* Bytes of an entry before the module area (a multiple of 8; entries are packed rather
 * than cache-line aligned: memory is bounded by the flows held, and the hot part is
 * what a packet touches either way). */
#define NFM_FLOW_CORE_SIZE ((sizeof(struct nfm_flow) + 7) & ~(size_t)7)

struct nfm_flow_table;

/* seed varies hash placement; output never depends on it. Each entry has module_bytes
 * (rounded up to 8) after the engine's part, reached with nfm_flow_modules. */
struct nfm_flow_table *nfm_flow_table_new(uint64_t seed, size_t module_bytes);
void nfm_flow_table_free(struct nfm_flow_table *t);

uint64_t nfm_flow_key_hash(const struct nfm_flow_table *t, const struct nfm_flow_key *k);
struct nfm_flow *nfm_flow_table_find(struct nfm_flow_table *t, const struct nfm_flow_key *k,
				     uint64_t hash);
/* Adds a new entry for k (which must not be present); the entry (module area included)
 * is zeroed except key and hash. NULL when memory is exhausted. */
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

/* And for writing entry f, removing it and unlinking it from expiry lists 0 .. nlists-1:
 * the rest of its engine part, its slot in the index and its neighbours' links. */
void nfm_flow_table_prefetch_unlink(const struct nfm_flow_table *t, const struct nfm_flow *f,
				    int nlists);

struct nfm_flow *nfm_flow_table_at(const struct nfm_flow_table *t, uint32_t idx);
uint32_t nfm_flow_table_index_of(const struct nfm_flow_table *t, const struct nfm_flow *f);
size_t nfm_flow_table_count(const struct nfm_flow_table *t);

static inline uint8_t *nfm_flow_modules(struct nfm_flow *f)
{
	return (uint8_t *)f + NFM_FLOW_CORE_SIZE;
}
/* Bytes the table holds per flow at most, for entries with module_bytes of module
 * state: the entry, and its share of the index at the lowest load (just after the index
 * doubled, while the old index is still drained). */
size_t nfm_flow_table_flow_bytes(size_t module_bytes);
/* The record of a flow as exporters read it: identity from the key (fwd_is_a says which
 * endpoint is the initiator), counters and cold fields copied; no module state. */
void nfm_flow_record_of(const struct nfm_flow *f, struct nfm_flow_record *r);
/* Bytes held by the table (index + entry chunks). */
size_t nfm_flow_table_memory(const struct nfm_flow_table *t);

#endif
