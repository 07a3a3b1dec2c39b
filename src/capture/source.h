/* Capture sources: where packets come from. Each source is of a *kind*; the built-in
 * kind "stream" reads a capture file as a byte stream: classic pcap (both byte orders,
 * micro/nanosecond) and pcapng (any number of sections and interfaces, per-interface link
 * type and timestamp resolution, both byte orders), from a file, standard input ("-"), or
 * a gzip/zstd-compressed stream (detected by magic bytes, not by name). The packet bytes
 * lent by nfm_source_next stay valid until the next call; the source owns them. A
 * regular uncompressed file is read through mmap (no copy, no read(2)); if another
 * process truncates it while it is being read, the reader may be killed by SIGBUS (see
 * src/capture/stream.c).
 *
 * Other kinds (a live capture, say) are opened by name with nfm_source_open_kind; how to
 * add a kind, or a file format to the "stream" kind, is in src/capture/source_int.h. */
#ifndef NFM_CAPTURE_SOURCE_H
#define NFM_CAPTURE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct nfm_source;

struct nfm_raw_packet {
	uint64_t ts_ns;        /* nanoseconds since the Unix epoch (UTC) */
	uint32_t cap_len;      /* bytes in data */
	uint32_t wire_len;     /* original length (>= cap_len; fixed up if a record lies) */
	int linktype;          /* LINKTYPE_ value of the packet's interface */
	uint32_t interface_id; /* pcapng interface index (0 for classic pcap) */
	uint64_t offset;       /* byte offset of the record in the (decompressed) stream */
	const uint8_t *data;   /* cap_len bytes, valid until the next nfm_source_next */
};

/* NFM_CAPFMT_NONE: a source of a kind without file formats. */
enum nfm_capture_format { NFM_CAPFMT_NONE = 0, NFM_CAPFMT_PCAP = 1, NFM_CAPFMT_PCAPNG = 2 };
enum nfm_compression { NFM_COMP_NONE = 0, NFM_COMP_GZIP = 1, NFM_COMP_ZSTD = 2 };

/* Anomalies that do not stop reading; counted for the report. */
struct nfm_source_stats {
	uint64_t records;            /* packet records returned */
	uint64_t caplen_fixed;       /* records whose caplen exceeded origlen or snaplen */
	uint64_t ts_fixed;           /* sub-second field out of range, normalised */
	uint64_t blocks_skipped;     /* pcapng blocks skipped (NRB, ISB, custom, unknown) */
	uint64_t bad_interface;      /* pcapng packets naming an undefined interface */
};

/* A capture file (the "stream" kind); path "-" reads standard input. Returns 0 or a negative enum nfm_err with err filled
 * ("FILE: not a pcap or pcapng capture", "FILE: No such file or directory", ...). */
int nfm_source_open(struct nfm_source **out, const char *path, struct nfm_error *err);
/* Reads a capture held in memory (compressed or not): for fuzzing and tests. name is
 * used in messages (NULL: "(memory)"); the caller keeps data alive until close. */
int nfm_source_open_mem(struct nfm_source **out, const uint8_t *data, size_t len,
			const char *name, struct nfm_error *err);

/* Source kinds by name. A registry holds the built-in kinds and those a program adds
 * at run time (struct nfm_source_ops, src/capture/source_int.h); it is the caller's
 * object, used from one thread at a time. The ops added must outlive it. */
struct nfm_source_ops;
struct nfm_source_registry;
struct nfm_source_registry *nfm_source_registry_new(void); /* NULL: out of memory */
void nfm_source_registry_free(struct nfm_source_registry *reg); /* NULL is fine */
/* 0; NFM_ERR_INVALID when the kind lacks a name, open or next, or one of that name is
 * there already; NFM_ERR_NOMEM. */
int nfm_source_registry_add(struct nfm_source_registry *reg, const struct nfm_source_ops *kind,
			    struct nfm_error *err);
/* Opens target with the kind named kind, looked up in reg (NULL: the built-in kinds
 * only). target and opts mean what that kind says (the "stream" kind: a path, "-" for
 * standard input; opts NULL). Returns 0 or a negative enum nfm_err with err filled;
 * NFM_ERR_INVALID for an unknown kind. */
int nfm_source_open_kind(struct nfm_source **out, const struct nfm_source_registry *reg,
			 const char *kind, const char *target, const void *opts,
			 struct nfm_error *err);

/* nfm_source_next: no packet yet; the source's clock is now pkt->ts_ns (no other field
 * is meaningful). A live source returns it when its read timeout fires, so that the
 * caller can let time pass (nfm_pipeline_advance); the "stream" kind never does. */
#define NFM_SOURCE_IDLE 2

/* 1: a packet was returned; NFM_SOURCE_IDLE: no packet yet (see above); 0: clean end of
 * input; < 0: error. NFM_ERR_TRUNCATED means the input ends inside a record (err->offset
 * is where the incomplete record starts); the packets returned before stay valid
 * results. */
int nfm_source_next(struct nfm_source *src, struct nfm_raw_packet *pkt, struct nfm_error *err);

const char *nfm_source_kind_name(const struct nfm_source *src); /* "stream", ... */
/* The file format: its id, and its name ("pcap", "pcapng"; a kind without file formats:
 * the kind's name). */
enum nfm_capture_format nfm_source_format(const struct nfm_source *src);
const char *nfm_source_format_name(const struct nfm_source *src);
enum nfm_compression nfm_source_compression(const struct nfm_source *src);
/* Link type of the first interface (classic pcap: the file's). -1 before any interface. */
int nfm_source_linktype(const struct nfm_source *src);
/* Bytes consumed from the underlying file so far (compressed bytes when compressed) and
 * the file's size (0 when unknown: pipes, stdin, kinds other than "stream"). For
 * progress display. */
uint64_t nfm_source_bytes_read(const struct nfm_source *src);
uint64_t nfm_source_file_size(const struct nfm_source *src);
const struct nfm_source_stats *nfm_source_stats(const struct nfm_source *src);
void nfm_source_close(struct nfm_source *src); /* NULL is fine */

#endif
