/* One nfcapd file, as nfdump 1.7 writes and reads it: file layout version 2 holding data
 * blocks of V3 flow records, then an appendix block with the ident string and the stat
 * record (the totals `nfdump -I` prints). Integers are in host byte order, as nfdump
 * writes them (its magic number tells readers the byte order).
 *
 *   header (40 B) | data block x NumBlocks | appendix block at offAppendix
 *   data block = NumRecords, size, type 3, flags 0 (12 B) + records, or + their LZ4 form
 *
 * A V3 record is written as nfpcapd 1.7.1 writes a flow: a 12-byte header (engine type
 * 17, engine id 1, exporter id 0, flags 0, NetFlow version 0x41), the generic flow
 * element (times, counters, ports, protocol, TCP flags, ToS), the IPv4 or IPv6 address
 * element, and the IPv4 or IPv6 tunnel element when the flow came through a tunnel.
 *
 * The file is created in an output set. The header is provisional until close, which
 * writes the last block and the appendix and then rewrites the header (block count,
 * appendix offset): the output must be a regular file, so devices, pipes and standard
 * output are refused at open. The header's creation time is the end of the file's data
 * (the stat record's last-seen second; 0 for a file without records) rather than the wall
 * clock, so that the same input gives the same bytes. */
#ifndef NFM_EXPORT_NFCAPD_FILE_H
#define NFM_EXPORT_NFCAPD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/exporter.h"
#include "feature/netflow.h"
#include "util/err.h"
#include "util/outset.h"

/* The largest V3 record we write: header, generic flow, IPv6 addresses, IPv6 tunnel. */
#define NFM_NFCAPD_RECORD_MAX (12 + 52 + 36 + 44)

/* nfdump reads an ident of at most this many bytes (its record must stay under 128). */
#define NFM_NFCAPD_IDENT_MAX 122

/* Data blocks: records are added until the next one would pass block_bytes (nfpcapd
 * flushes at 1 MiB); nfdump refuses blocks over 5 MiB. */
#define NFM_NFCAPD_BLOCK_DEFAULT (1u << 20)
#define NFM_NFCAPD_BLOCK_MIN 256u
#define NFM_NFCAPD_BLOCK_MAX (4u << 20)

struct nfm_nfcapd_opts {
	const char *ident;      /* the file's ident; NULL or "": "none", as nfpcapd writes */
	bool lz4;               /* LZ4-compressed blocks (nfpcapd -y) */
	uint32_t block_bytes;   /* 0: NFM_NFCAPD_BLOCK_DEFAULT; else MIN..MAX */
};

/* Encodes r as one V3 record at dst, which has room for NFM_NFCAPD_RECORD_MAX bytes;
 * returns the record's size. The record's "received" time is nfm_nf_received_ms(r). */
size_t nfm_nfcapd_encode(const struct nfm_nf_record *r, uint8_t *dst);

struct nfm_nfcapd_file;

/* Creates path in set and writes the provisional header. opts may be NULL (defaults). */
int nfm_nfcapd_file_open(struct nfm_nfcapd_file **out, struct nfm_outset *set,
			 const char *path, const struct nfm_nfcapd_opts *opts,
			 struct nfm_error *err);
/* Adds records made by nfm_nfcapd_encode, back to back (len 0 is fine); full blocks
 * are written as they fill. */
int nfm_nfcapd_file_add(struct nfm_nfcapd_file *f, const uint8_t *recs, size_t len,
			struct nfm_error *err);
/* Writes the last block, the appendix and the final header: the content is complete and
 * the counts final; records can no longer be added. Once only (later calls do nothing). */
int nfm_nfcapd_file_complete(struct nfm_nfcapd_file *f, struct nfm_error *err);
/* Completes the content if that was not done, finishes the file in its set
 * (nfm_outfile_finish) and frees f, whatever the result. */
int nfm_nfcapd_file_close(struct nfm_nfcapd_file *f, struct nfm_error *err);
/* Discards the file from its set and frees f. NULL is fine. */
void nfm_nfcapd_file_abort(struct nfm_nfcapd_file *f);
/* Records added, data blocks written and bytes written so far. */
void nfm_nfcapd_file_counts(const struct nfm_nfcapd_file *f, struct nfm_export_counts *c);

#endif
