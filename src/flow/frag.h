/* Fragments without ports: non-first fragments carry no transport header, so they
 * borrow the ports of the first fragment of their datagram through a small, fixed-size,
 * direct-mapped table. Fragments that arrive before the first one wait in its entry (a
 * few per datagram) and are metered when it arrives; those whose first fragment never
 * comes (within 30 s of packet time, or before the slot is needed by another datagram)
 * are counted as unmatched. A TCP fragment that holds header options takes the header
 * length another fragment of the datagram reported (docs/flows.md). */
#ifndef NFM_FLOW_FRAG_H
#define NFM_FLOW_FRAG_H

#include <stdint.h>

#include "decode/decode.h"
#include "flow/meter.h"

#define NFM_FRAG_SLOTS 4096u
#define NFM_FRAG_TTL_NS (30ULL * 1000000000ULL)
#define NFM_FRAG_PENDING_MAX 16u

/* A fragment that waits for its datagram's first fragment. */
struct nfm_frag_pending {
	uint64_t ts;
	uint32_t wire_len, payload;
	uint16_t flags, frag_offset;
	uint8_t tcp_flags, tcp_hlen;
};

struct nfm_frag_waiting {
	unsigned n;
	struct nfm_frag_pending pend[NFM_FRAG_PENDING_MAX];
};

struct nfm_frag_table;

struct nfm_frag_table *nfm_frag_new(void);
void nfm_frag_free(struct nfm_frag_table *t);

enum nfm_frag_verdict {
	NFM_FRAG_METER = 0, /* meter *pp with the ports given */
	NFM_FRAG_HELD,      /* kept (or counted unmatched): nothing more to do now */
};

/* Resolves fragment *pp at time now: a first fragment records its ports (and hands back
 * in waiting the fragments that came before it, to be metered after it); a later one
 * takes the ports recorded (replayed: it is one of those waiting fragments), or waits.
 * *pp may be replaced by fixed (payload corrected for TCP options). Counts fragments and
 * unmatched ones in c. */
enum nfm_frag_verdict nfm_frag_resolve(struct nfm_frag_table *t, const struct nfm_packet **pp,
				       struct nfm_packet *fixed, uint16_t *sport, uint16_t *dport,
				       int replayed, uint64_t now, struct nfm_counters *c,
				       struct nfm_frag_waiting *waiting);
/* The packet to meter for waiting fragment w of the datagram whose first fragment is
 * first. */
void nfm_frag_replay_packet(const struct nfm_packet *first, const struct nfm_frag_pending *w,
			    struct nfm_packet *q);
/* End of input: fragments still waiting for their first fragment are unmatched. */
void nfm_frag_flush(struct nfm_frag_table *t, struct nfm_counters *c);

#endif
