/* Top talkers: a weighted Space-Saving summary of NFM_REPORT_TALKERS addresses, by
 * bytes sent. Exact while the distinct addresses fit; after that an address that comes
 * in takes the place of the one with the smallest count, starting from that count, so
 * a count may overestimate by at most its entry's err. Fixed size, no allocation. */
#ifndef NFM_REPORT_TALKERS_H
#define NFM_REPORT_TALKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report_int.h"

#define NFM_REPORT_TALKER_SLOTS 4096u /* hash slots: power of two, load <= 1/4 */

struct nfm_talker {
	uint8_t l3;           /* NFM_L3_IPV4 or NFM_L3_IPV6 */
	uint8_t addr[16];
	uint64_t bytes;       /* Space-Saving count (an overestimate by at most err) */
	uint64_t err;
};

/* Zeroed memory is an empty summary. */
struct nfm_talkers {
	struct nfm_talker e[NFM_REPORT_TALKERS];
	uint16_t heap[NFM_REPORT_TALKERS];      /* min-heap of entry indices by bytes */
	uint16_t heap_pos[NFM_REPORT_TALKERS];
	uint16_t slot[NFM_REPORT_TALKER_SLOTS]; /* hash index: entry index + 1; 0 = empty */
	size_t n;
	bool approx;                            /* an address has been pushed out */
};

/* Credits w bytes to the address (ARP addresses count as IPv4). */
void nfm_talkers_add(struct nfm_talkers *ts, uint8_t l3, const uint8_t addr[16], uint64_t w);
/* Indices of the top entries, best first (more bytes, then address order); returns how
 * many. */
size_t nfm_talkers_top(const struct nfm_talkers *ts, unsigned out[NFM_REPORT_TOP]);

#endif
