/* Internals of the capture sources: what a source kind or a file format implements.
 *
 * Two tables, one line per entry:
 *
 * - Source kinds (struct nfm_source_ops): where packets come from. Built in: "stream", a
 *   capture read as a byte stream from a file, standard input or memory
 *   (src/capture/stream_source.c). A live capture on an interface would be another.
 *   To add a kind: write src/capture/<kind>_source.c defining
 *   `const struct nfm_source_ops nfm_source_kind_<kind>` (its open allocates the source
 *   with nfm_source_new and keeps its own state in kind_state), declare it below and add
 *   one line to the kinds table in src/capture/source.c. Callers open it by name with
 *   nfm_source_open_kind(); a program can also add kinds of its own to a registry at run
 *   time (nfm_source_registry_add), as the tests do.
 * - File formats (struct nfm_format_ops): how the "stream" kind parses the decoded bytes,
 *   recognised by the magic at their start. Built in: classic pcap (src/capture/pcap.c)
 *   and pcapng (src/capture/pcapng.c). To add a format: write src/capture/<format>.c
 *   defining `const struct nfm_format_ops nfm_format_<format>` (probe, open, next, and
 *   close if it allocates; a new format keeps its state in format_state), declare it
 *   below and add one line to the formats table in src/capture/stream_source.c. The fuzz
 *   target fuzz/fuzz_source.c fuzzes every format of that table through its magic. Note
 *   that the message for an unrecognised input still says "not a pcap or pcapng capture",
 *   and that nfm_source_format() returns the format's id (enum nfm_capture_format in
 *   source.h): add a value there if callers need to tell the new format apart by id
 *   (nfm_source_format_name() needs nothing).
 *
 * The per-packet path: nfm_source_next() makes one call through src->next, which the
 * kind's open resolves once; the "stream" kind points it straight at its file format's
 * reader, so reading a classic pcap costs what a direct call to the pcap reader does. */
#ifndef NFM_CAPTURE_SOURCE_INT_H
#define NFM_CAPTURE_SOURCE_INT_H

#include <stdint.h>

#include "capture/source.h"
#include "capture/stream.h"
#include "util/err.h"

typedef int (*nfm_source_next_fn)(struct nfm_source *src, struct nfm_raw_packet *pkt,
				  struct nfm_error *err);

/* A source kind. */
struct nfm_source_ops {
	const char *name; /* unique: what nfm_source_open_kind() is given */
	/* Opens target (a path, an interface name: the kind decides what it means) with the
	 * kind's options opts (NULL: defaults; the kind defines their type). Allocates the
	 * source with nfm_source_new() and sets *out; on error closes what it allocated
	 * (nfm_source_close() once the source exists) and returns a negative enum nfm_err
	 * with err filled (messages name the input). */
	int (*open)(struct nfm_source **out, const char *target, const void *opts,
		    struct nfm_error *err);
	/* nfm_source_next()'s contract, NFM_SOURCE_IDLE included. nfm_source_new() makes it
	 * the source's reader; open may replace src->next with a more direct one. */
	nfm_source_next_fn next;
	/* Frees what open allocated (not the source itself); also called on a source whose
	 * open failed half-way. NULL: nothing to free. */
	void (*close)(struct nfm_source *src);
	/* Bytes consumed so far, for progress display. NULL: always 0. */
	uint64_t (*bytes_read)(const struct nfm_source *src);
};

/* A file format read over the byte stream by the "stream" kind. */
struct nfm_format_ops {
	const char *name;               /* "pcap", "pcapng": nfm_source_format_name() */
	enum nfm_capture_format id;     /* nfm_source_format() */
	const uint8_t *magic;           /* the first bytes of a file of this format (one */
	size_t magic_len;               /* variant), accepted by probe: for fuzzers, tests */
	/* 1 when the first bytes of the decoded stream are this format's magic. p holds
	 * have bytes: NFM_FORMAT_PROBE_LEN, or fewer when the input is that short. The
	 * magics of the formats in the table must not overlap (probing order is free). */
	int (*probe)(const uint8_t *p, size_t have);
	/* The window starts with the format's magic: parse the file header (errors name the
	 * file) and leave the position at the first record. The caller closes the source
	 * on error. */
	int (*open)(struct nfm_source *s, struct nfm_error *err);
	nfm_source_next_fn next; /* the source's reader once open succeeded */
	void (*close)(struct nfm_source *s); /* frees what open allocated; NULL: nothing */
};

/* Bytes of the stream a probe sees (at most). */
#define NFM_FORMAT_PROBE_LEN 8u

/* The kinds and formats built in (each in its own file, listed in the tables). */
extern const struct nfm_source_ops nfm_source_kind_stream;
extern const struct nfm_format_ops nfm_format_pcap;
extern const struct nfm_format_ops nfm_format_pcapng;

/* The formats table of the "stream" kind, in probing order; NULL past the end. */
const struct nfm_format_ops *nfm_format_at(size_t i);

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
	/* Every kind. */
	nfm_source_next_fn next;          /* the reader, resolved once by open */
	const struct nfm_source_ops *kind;
	void *kind_state;                 /* kinds other than "stream": theirs */
	int first_linktype;               /* -1 until known (nfm_source_linktype) */
	struct nfm_source_stats stats;    /* records counts the packets returned */
	char *name;                       /* for messages */

	/* The "stream" kind: the byte stream and its file format. */
	struct nfm_stream st;
	const struct nfm_format_ops *format;
	void *format_state;               /* a format's own state (not pcap or pcapng) */
	int be; /* big-endian file (pcap) or section (pcapng) */

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

/* For a kind's open: a new source of that kind named name (copied), all zero but
 * next (kind->next), first_linktype (-1) and the stream's fd (-1). NULL when out of
 * memory. */
struct nfm_source *nfm_source_new(const struct nfm_source_ops *kind, const char *name);

static inline uint32_t nfm_ld16(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static inline uint32_t nfm_ld32(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Options of the "stream" kind (nfm_source_open_kind(..., "stream", target, opts, ...)).
 * Without NFM_SOURCE_MEMORY target is a path ("-": standard input); with it the capture
 * is the len bytes at data (kept alive by the caller until close) and target its name
 * in messages (NULL: "(memory)"). NULL options: a path, default flags. */
#define NFM_SOURCE_NO_MMAP 1u /* read a regular file with read(2), do not map it */
#define NFM_SOURCE_MEMORY 2u
struct nfm_stream_opts {
	unsigned flags;
	const uint8_t *data;
	size_t len;
};

/* nfm_source_open with options (tests and benchmarks; nfm_source_open passes 0). */
int nfm_source_open_flags(struct nfm_source **out, const char *path, unsigned flags,
			  struct nfm_error *err);

/* For the formats: makes need bytes available at the stream position (the start of a
 * record). 0: they are; 1: the input ended exactly there (clean end); < 0: error,
 * NFM_ERR_TRUNCATED when the input ends inside the record. */
int nfm_source_refill(struct nfm_source *s, size_t need, struct nfm_error *err);

/* "X: truncated capture: record at byte N is incomplete (K packets read)". */
int nfm_source_truncated(struct nfm_source *s, uint64_t off, struct nfm_error *err);

#endif
