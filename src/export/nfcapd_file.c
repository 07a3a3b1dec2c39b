/* Writing one nfcapd file (nfcapd_file.h). Offsets and sizes below are those of
 * nfdump 1.7.1's structures (nffileV2.h, nfxV3.h, nfdump.h), which have no padding
 * except where noted. */
#include "export/nfcapd_file.h"

#include <errno.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

/* File header (fileHeaderV2_t). */
#define FILE_HEADER_SIZE 40
#define FILE_MAGIC 0xA50C
#define LAYOUT_VERSION 2
#define NFDUMP_VERSION 0x01070100u /* the nfdump release whose layout this is */
#define COMPRESSION_NONE 0
#define COMPRESSION_LZ4 3

/* Data block header (dataBlock_t). */
#define BLOCK_HEADER_SIZE 12
#define BLOCK_TYPE_3 3

/* Record types. */
#define RECORD_V3 11
#define RECORD_IDENT 0x8001
#define RECORD_STAT 0x8002

/* V3 record: header and elements (each element starts with type and length). */
#define V3_HEADER_SIZE 12
#define EX_GENERIC 1
#define EX_GENERIC_SIZE 52
#define EX_IPV4 2
#define EX_IPV4_SIZE 12
#define EX_IPV6 3
#define EX_IPV6_SIZE 36
#define EX_TUN_IPV4 31
#define EX_TUN_IPV4_SIZE 16
#define EX_TUN_IPV6 32
#define EX_TUN_IPV6_SIZE 44   /* 4 + 16 + 16 + 4, padded to a multiple of 8 */

/* What nfpcapd puts in every record header. */
#define ENGINE_TYPE 17
#define ENGINE_ID 1
#define NETFLOW_VERSION 0x41

/* Where the generic element's fields are, from the start of a record. */
#define GEN_AT (V3_HEADER_SIZE + 4)
#define GEN_FIRST (GEN_AT + 0)
#define GEN_LAST (GEN_AT + 8)
#define GEN_RECEIVED (GEN_AT + 16)
#define GEN_PACKETS (GEN_AT + 24)
#define GEN_BYTES (GEN_AT + 32)
#define GEN_SRC_PORT (GEN_AT + 40)
#define GEN_DST_PORT (GEN_AT + 42)
#define GEN_PROTO (GEN_AT + 44)
#define GEN_TCP_FLAGS (GEN_AT + 45)
#define GEN_FWD_STATUS (GEN_AT + 46)
#define GEN_SRC_TOS (GEN_AT + 47)

/* The stat record (stat_record_t): 18 counters. */
enum stat_field {
	ST_FLOWS, ST_BYTES, ST_PACKETS,
	ST_FLOWS_TCP, ST_FLOWS_UDP, ST_FLOWS_ICMP, ST_FLOWS_OTHER,
	ST_BYTES_TCP, ST_BYTES_UDP, ST_BYTES_ICMP, ST_BYTES_OTHER,
	ST_PACKETS_TCP, ST_PACKETS_UDP, ST_PACKETS_ICMP, ST_PACKETS_OTHER,
	ST_FIRST_SEEN, ST_LAST_SEEN, ST_SEQUENCE_FAILURES,
	ST_N
};

struct nfm_nfcapd_file {
	struct nfm_outfile *out;
	FILE *fp;
	bool lz4;
	char ident[NFM_NFCAPD_IDENT_MAX + 1];
	uint32_t block_limit;      /* bytes of records per block */
	uint8_t *block;            /* header room + records of the block being filled */
	uint32_t block_used;       /* bytes of records in it */
	uint32_t block_records;
	char *packed;              /* the LZ4 form of a block (lz4 only) */
	int packed_cap;
	uint64_t stat[ST_N];
	uint64_t records;          /* records added */
	uint64_t blocks;           /* data blocks written */
	uint64_t offset;           /* bytes written so far (the next block's offset) */
	bool complete;             /* appendix and final header written */
	bool failed;               /* ... or tried, and a write failed */
};

/* Host-order stores and loads at any alignment. */
static inline void st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void st64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Network-order address bytes as the host-order integers nfdump keeps. */
static uint32_t be32(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static uint64_t be64(const uint8_t *a)
{
	return (uint64_t)be32(a) << 32 | be32(a + 4);
}

static uint8_t *element(uint8_t *p, uint16_t type, uint16_t len)
{
	st16(p, type);
	st16(p + 2, len);
	return p + 4;
}

/* Source and destination addresses: IPv4 (EXipv4Flow / EXtunIPv4) or IPv6. */
static uint8_t *put_addrs(uint8_t *p, bool v6, const uint8_t *src, const uint8_t *dst)
{
	if (v6) {
		st64(p, be64(src));
		st64(p + 8, be64(src + 8));
		st64(p + 16, be64(dst));
		st64(p + 24, be64(dst + 8));
		return p + 32;
	}
	st32(p, be32(src));
	st32(p + 4, be32(dst));
	return p + 8;
}

size_t nfm_nfcapd_encode(const struct nfm_nf_record *r, uint8_t *dst)
{
	uint8_t *p = dst + V3_HEADER_SIZE;
	uint16_t elements = 2;

	p = element(p, EX_GENERIC, EX_GENERIC_SIZE);
	st64(p, r->first_ms);
	st64(p + 8, r->last_ms);
	st64(p + 16, nfm_nf_received_ms(r));
	st64(p + 24, r->packets);
	st64(p + 32, r->bytes);
	st16(p + 40, r->src_port);
	st16(p + 42, r->dst_port);   /* ICMP: type * 256 + code, already */
	p[44] = r->proto;
	p[45] = r->tcp_flags;
	p[46] = 0;                   /* forwarding status: none */
	p[47] = r->tos;
	p += EX_GENERIC_SIZE - 4;

	bool v6 = r->l3 == NFM_L3_IPV6;
	p = element(p, v6 ? EX_IPV6 : EX_IPV4, v6 ? EX_IPV6_SIZE : EX_IPV4_SIZE);
	p = put_addrs(p, v6, r->src, r->dst);

	if (r->tun_l3 == NFM_L3_IPV4 || r->tun_l3 == NFM_L3_IPV6) {
		bool tv6 = r->tun_l3 == NFM_L3_IPV6;
		p = element(p, tv6 ? EX_TUN_IPV6 : EX_TUN_IPV4,
			    tv6 ? EX_TUN_IPV6_SIZE : EX_TUN_IPV4_SIZE);
		p = put_addrs(p, tv6, r->tun_src, r->tun_dst);
		st32(p, r->tun_proto);
		p += 4;
		if (tv6) {
			st32(p, 0); /* padding */
			p += 4;
		}
		elements++;
	}

	size_t size = (size_t)(p - dst);
	st16(dst, RECORD_V3);
	st16(dst + 2, (uint16_t)size);
	st16(dst + 4, elements);
	dst[6] = ENGINE_TYPE;
	dst[7] = ENGINE_ID;
	st16(dst + 8, 0);            /* exporter id (export_sysid) */
	dst[10] = 0;                 /* flags: not an event, not sampled */
	dst[11] = NETFLOW_VERSION;
	return size;
}

static int put(struct nfm_nfcapd_file *f, const void *p, size_t n, struct nfm_error *err)
{
	int rc = nfm_outfile_write(f->out, p, n, err);
	if (rc)
		return rc;
	f->offset += n;
	return 0;
}

/* Writes the block in f->block (its records from offset BLOCK_HEADER_SIZE) and empties
 * it. Appendix blocks go through here too: nfdump reads them with the file's
 * compression. */
static int write_block(struct nfm_nfcapd_file *f, struct nfm_error *err)
{
	uint8_t *hdr = f->block;
	const void *body = f->block + BLOCK_HEADER_SIZE;
	uint32_t size = f->block_used;
	if (f->lz4) {
		int n = LZ4_compress_default(body, f->packed, (int)size, f->packed_cap);
		if (n <= 0)
			return nfm_error_set(err, NFM_ERR_IO, "%s: LZ4 compression of a block failed",
					     f->out->path);
		body = f->packed;
		size = (uint32_t)n;
	}
	st32(hdr, f->block_records);
	st32(hdr + 4, size);
	st16(hdr + 8, BLOCK_TYPE_3);
	st16(hdr + 10, 0);
	int rc = put(f, hdr, BLOCK_HEADER_SIZE, err);
	if (rc == 0)
		rc = put(f, body, size, err);
	f->block_used = 0;
	f->block_records = 0;
	return rc;
}

static void count(struct nfm_nfcapd_file *f, const uint8_t *rec)
{
	uint64_t first = ld64(rec + GEN_FIRST), last = ld64(rec + GEN_LAST);
	uint64_t packets = ld64(rec + GEN_PACKETS), bytes = ld64(rec + GEN_BYTES);
	int by_proto; /* nfpcapd's classes: ICMPv6 counts as other */
	switch (rec[GEN_PROTO]) {
	case NFM_IPPROTO_TCP: by_proto = 0; break;
	case NFM_IPPROTO_UDP: by_proto = 1; break;
	case NFM_IPPROTO_ICMP: by_proto = 2; break;
	default: by_proto = 3; break;
	}
	uint64_t *s = f->stat;
	s[ST_FLOWS]++;
	s[ST_BYTES] += bytes;
	s[ST_PACKETS] += packets;
	s[ST_FLOWS_TCP + by_proto]++;
	s[ST_BYTES_TCP + by_proto] += bytes;
	s[ST_PACKETS_TCP + by_proto] += packets;
	if (f->records == 0 || first < s[ST_FIRST_SEEN])
		s[ST_FIRST_SEEN] = first;
	if (last > s[ST_LAST_SEEN])
		s[ST_LAST_SEEN] = last;
	f->records++;
}

int nfm_nfcapd_file_add(struct nfm_nfcapd_file *f, const uint8_t *recs, size_t len,
			struct nfm_error *err)
{
	if (f->complete && len)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: records after the file was completed",
				     f->out->path);
	while (len) {
		uint16_t size = len >= 4 ? ld16(recs + 2) : 0;
		if (len < 4 || ld16(recs) != RECORD_V3 || size < GEN_AT + EX_GENERIC_SIZE - 4 ||
		    size > NFM_NFCAPD_RECORD_MAX || size > len || ld16(recs + V3_HEADER_SIZE) != EX_GENERIC)
			return nfm_error_set(err, NFM_ERR_INVALID, "%s: not an nfcapd flow record",
					     f->out->path);
		if (f->block_used + size > f->block_limit) {
			int rc = write_block(f, err);
			if (rc)
				return rc;
			f->blocks++;
		}
		memcpy(f->block + BLOCK_HEADER_SIZE + f->block_used, recs, size);
		f->block_used += size;
		f->block_records++;
		count(f, recs);
		recs += size;
		len -= size;
	}
	return 0;
}

static void file_free(struct nfm_nfcapd_file *f)
{
	if (!f)
		return;
	free(f->block);
	free(f->packed);
	free(f);
}

static void put_header(const struct nfm_nfcapd_file *f, uint8_t h[FILE_HEADER_SIZE],
		       uint64_t appendix_at)
{
	memset(h, 0, FILE_HEADER_SIZE);
	st16(h, FILE_MAGIC);
	st16(h + 2, LAYOUT_VERSION);
	st32(h + 4, NFDUMP_VERSION);
	st64(h + 8, f->stat[ST_LAST_SEEN] / 1000);       /* created (see nfcapd_file.h) */
	h[16] = f->lz4 ? COMPRESSION_LZ4 : COMPRESSION_NONE;
	h[17] = 0;                                       /* not encrypted */
	st16(h + 18, appendix_at ? 1 : 0);               /* appendix blocks */
	st64(h + 24, appendix_at);
	st32(h + 36, (uint32_t)f->blocks);               /* data blocks */
}

int nfm_nfcapd_file_open(struct nfm_nfcapd_file **out, struct nfm_outset *set,
			 const char *path, const struct nfm_nfcapd_opts *opts,
			 struct nfm_error *err)
{
	*out = NULL;
	struct nfm_nfcapd_opts o = opts ? *opts : (struct nfm_nfcapd_opts){ 0 };
	const char *ident = o.ident && *o.ident ? o.ident : "none";
	if (strlen(ident) > NFM_NFCAPD_IDENT_MAX)
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: ident is %zu bytes long; nfdump reads at most %d", path,
				     strlen(ident), NFM_NFCAPD_IDENT_MAX);
	uint32_t limit = o.block_bytes ? o.block_bytes : NFM_NFCAPD_BLOCK_DEFAULT;
	if (limit < NFM_NFCAPD_BLOCK_MIN || limit > NFM_NFCAPD_BLOCK_MAX)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: block size %u out of range %u-%u",
				     path, limit, NFM_NFCAPD_BLOCK_MIN, NFM_NFCAPD_BLOCK_MAX);
	if (nfm_out_is_direct(path))
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: an nfcapd file needs a regular file (its header is completed "
				     "at the end), not a device, pipe or standard output", path);
	struct nfm_nfcapd_file *f = calloc(1, sizeof *f);
	if (f) {
		f->block = malloc(BLOCK_HEADER_SIZE + (size_t)limit);
		if (o.lz4) {
			f->packed_cap = LZ4_compressBound((int)limit);
			f->packed = malloc((size_t)f->packed_cap);
		}
	}
	if (!f || !f->block || (o.lz4 && !f->packed)) {
		file_free(f);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
	}
	f->lz4 = o.lz4;
	f->block_limit = limit;
	memcpy(f->ident, ident, strlen(ident) + 1);
	int rc = nfm_outset_create(set, path, NFM_OUT_STREAM, &f->out, err);
	if (rc) {
		file_free(f);
		return rc;
	}
	f->fp = f->out->fp;
	uint8_t h[FILE_HEADER_SIZE];
	put_header(f, h, 0);
	rc = put(f, h, sizeof h, err);
	if (rc) {
		nfm_nfcapd_file_abort(f);
		return rc;
	}
	*out = f;
	return 0;
}

/* The appendix block: the ident record, then the stat record. */
static int write_appendix(struct nfm_nfcapd_file *f, struct nfm_error *err)
{
	uint8_t *p = f->block + BLOCK_HEADER_SIZE;
	size_t ident_len = strlen(f->ident) + 1;
	st16(p, RECORD_IDENT);
	st16(p + 2, (uint16_t)(4 + ident_len));
	memcpy(p + 4, f->ident, ident_len);
	p += 4 + ident_len;
	st16(p, RECORD_STAT);
	st16(p + 2, (uint16_t)(4 + sizeof f->stat));
	memcpy(p + 4, f->stat, sizeof f->stat);
	f->block_used = (uint32_t)(4 + ident_len + 4 + sizeof f->stat);
	f->block_records = 2;
	return write_block(f, err);
}

int nfm_nfcapd_file_complete(struct nfm_nfcapd_file *f, struct nfm_error *err)
{
	if (f->complete)
		return 0;
	f->complete = true; /* also on failure: the file is not finished, so never committed */
	int rc = 0;
	if (f->block_records) {
		rc = write_block(f, err);
		if (rc == 0)
			f->blocks++;
	}
	uint64_t appendix_at = f->offset;
	if (rc == 0)
		rc = write_appendix(f, err);
	if (rc == 0) {
		uint8_t h[FILE_HEADER_SIZE];
		put_header(f, h, appendix_at);
		errno = 0;
		if (fflush(f->fp) != 0 || fseek(f->fp, 0, SEEK_SET) != 0 ||
		    fwrite(h, 1, sizeof h, f->fp) != sizeof h)
			rc = nfm_error_set(err, NFM_ERR_IO, "%s: write failed: %s", f->out->path,
					   strerror(errno ? errno : EIO));
	}
	f->failed = rc != 0;
	return rc;
}

int nfm_nfcapd_file_close(struct nfm_nfcapd_file *f, struct nfm_error *err)
{
	int rc = nfm_nfcapd_file_complete(f, err);
	if (rc == 0 && f->failed)
		rc = nfm_error_set(err, NFM_ERR_IO, "%s: not completed (an earlier write failed)",
				   f->out->path);
	if (rc == 0) /* on failure the file stays unfinished: the set cannot commit */
		rc = nfm_outfile_finish(f->out, err);
	file_free(f);
	return rc;
}

void nfm_nfcapd_file_abort(struct nfm_nfcapd_file *f)
{
	if (!f)
		return;
	nfm_outfile_discard(f->out);
	file_free(f);
}

void nfm_nfcapd_file_counts(const struct nfm_nfcapd_file *f, struct nfm_export_counts *c)
{
	memset(c, 0, sizeof *c);
	c->records = f->records;
	c->messages = f->blocks;
	c->bytes = f->offset;
}
