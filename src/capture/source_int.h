/* Internals shared by the capture readers (source.c, pcap.c, pcapng.c). */
#ifndef NFM_CAPTURE_SOURCE_INT_H
#define NFM_CAPTURE_SOURCE_INT_H

#include <stdint.h>

#include "capture/source.h"
#include "capture/stream.h"
#include "util/err.h"

/* Most interfaces one pcapng section may define (too_many_interfaces.pcapng has 95). */
#define NFM_PCAPNG_MAX_INTERFACES 65536u

/* How an interface's timestamp units become nanoseconds. */
enum nfm_ts_mode {
	NFM_TS_MUL = 0,   /* ns = t * k          (10^-n, n <= 9) */
	NFM_TS_DIV = 1,   /* ns = t / k          (10^-n, 9 < n <= 28) */
	NFM_TS_SHIFT = 2, /* ns = t * 10^9 >> k  (2^-n) */
	NFM_TS_ZERO = 3,  /* units so small that every 64-bit count is below 1 ns */
};

struct nfm_iface {
	int linktype;
	uint32_t snaplen;  /* 0: not limited */
	uint8_t ts_mode;   /* enum nfm_ts_mode */
	uint8_t has_offset;
	uint64_t k;
	int64_t offset_s;  /* if_tsoffset: seconds added to every timestamp */
};

struct nfm_source {
	struct nfm_stream st;
	enum nfm_capture_format fmt;
	int be; /* big-endian file (pcap) or section (pcapng) */
	int first_linktype;
	struct nfm_source_stats stats;
	char *name; /* for messages */

	/* classic pcap */
	uint32_t rec_hdr_len; /* 16, or 24 for the modified (Kuznetzov) format */
	uint32_t snaplen;     /* 0: not limited */
	uint32_t frac_max;    /* 10^6 or 10^9 */
	uint32_t frac_mul;    /* 1000 (microseconds) or 1 */
	int lens;             /* caplen/origlen order (old versions swap them) */
	int linktype;

	/* pcapng: the interfaces of the current section */
	struct nfm_iface *ifs;
	uint32_t n_ifs, cap_ifs;
	uint64_t last_ts; /* timestamp of the section's last timed packet (for SPBs) */
};

static inline uint32_t nfm_ld16(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static inline uint32_t nfm_ld32(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* nfm_source_open with options (tests and benchmarks; nfm_source_open passes 0). */
#define NFM_SOURCE_NO_MMAP 1u /* read a regular file with read(2), do not map it */
int nfm_source_open_flags(struct nfm_source **out, const char *path, unsigned flags,
			  struct nfm_error *err);

/* The window starts with a classic pcap magic / a pcapng SHB; parse the header.
 * Errors name the file; the source is closed by the caller. */
int nfm_pcap_open(struct nfm_source *s, struct nfm_error *err);
int nfm_pcap_next(struct nfm_source *s, struct nfm_raw_packet *pkt, struct nfm_error *err);
int nfm_pcapng_open(struct nfm_source *s, struct nfm_error *err);
int nfm_pcapng_next(struct nfm_source *s, struct nfm_raw_packet *pkt, struct nfm_error *err);

/* Makes need bytes available at the stream position (the start of a record). 0: they
 * are; 1: the input ended exactly there (clean end); < 0: error, NFM_ERR_TRUNCATED when
 * the input ends inside the record. */
int nfm_source_refill(struct nfm_source *s, size_t need, struct nfm_error *err);

/* "X: truncated capture: record at byte N is incomplete (K packets read)". */
int nfm_source_truncated(struct nfm_source *s, uint64_t off, struct nfm_error *err);

#endif
