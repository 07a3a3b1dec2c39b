/* Writes hand-crafted hostile captures for tests/regress/run.sh: records and blocks that
 * lie about their lengths, impossible timestamps, unknown link types, broken pcapng
 * structure, files cut short, compressed streams cut short, deep tunnels, fragment floods.
 *
 * Usage: mkhostile OUTDIR         writes the files and OUTDIR/MANIFEST, one line per file:
 *                                 NAME <TAB> EXIT <TAB> OFFSET <TAB> what it is
 *                                 EXIT is the documented exit status of converting it
 *                                 (0 clean, 1 not a capture / unreadable, 3 damaged
 *                                 part-way); OFFSET is the byte offset the warning must
 *                                 name for EXIT 3, "-" otherwise.
 *        mkhostile --syns N FILE  a classic pcap of N one-packet TCP SYN flows, each from
 *                                 a distinct source address (1 us apart): for the
 *                                 flow-table limit tests.
 * Everything is built byte by byte here; no global mutable state. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "nfm_frame.h"

#define T0 1700000000u /* 2023-11-14T22:13:20Z */

/* ---- growable byte buffer ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
	int oom;
};

static void b_need(struct buf *b, size_t k)
{
	if (b->oom || b->n + k <= b->cap)
		return;
	size_t ncap = b->cap ? b->cap : 4096;
	while (ncap < b->n + k)
		ncap *= 2;
	uint8_t *np = realloc(b->p, ncap);
	if (!np) {
		b->oom = 1;
		return;
	}
	b->p = np;
	b->cap = ncap;
}

static void b_bytes(struct buf *b, const void *d, size_t k)
{
	b_need(b, k);
	if (b->oom)
		return;
	memcpy(b->p + b->n, d, k);
	b->n += k;
}

static void b_zero(struct buf *b, size_t k)
{
	b_need(b, k);
	if (b->oom)
		return;
	memset(b->p + b->n, 0, k);
	b->n += k;
}

static void b_u8(struct buf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;
	b_bytes(b, &x, 1);
}

static void b_le16(struct buf *b, unsigned v)
{
	b_u8(b, v & 0xff);
	b_u8(b, (v >> 8) & 0xff);
}

static void b_le32(struct buf *b, uint32_t v)
{
	b_le16(b, v & 0xffff);
	b_le16(b, v >> 16);
}

static void b_be16(struct buf *b, unsigned v)
{
	b_u8(b, (v >> 8) & 0xff);
	b_u8(b, v & 0xff);
}

static void b_be32(struct buf *b, uint32_t v)
{
	b_be16(b, v >> 16);
	b_be16(b, v & 0xffff);
}

static void b_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* ---- frames ---- */

/* Ethernet/IPv4/UDP with paylen payload bytes ('a' to 'z' over and over) into out;
 * returns the frame length. */
static size_t udp_frame(uint8_t *out, uint32_t src, uint32_t dst, unsigned sport, unsigned dport,
			unsigned paylen)
{
	struct frame f = { .n = 0 };
	eth_hdr(&f, capture_macs(), 0, 0, 0x0800);
	ipv4_hdr(&f, 17, src, dst, 8 + paylen, 0, 0, 1);
	udp_hdr(&f, sport, dport, 8 + paylen);
	for (unsigned i = 0; i < paylen; i++)
		put8(&f, 'a' + i % 26);
	memcpy(out, f.b, f.n);
	return f.n;
}

/* Ethernet/IPv4/TCP SYN into out; returns the frame length. */
static size_t syn_frame(uint8_t *out, uint32_t src, uint32_t dst, unsigned sport, unsigned dport)
{
	struct frame f = { .n = 0 };
	eth_hdr(&f, capture_macs(), 0, 0, 0x0800);
	ipv4_hdr(&f, 6, src, dst, 20, 0, 0x4000, 1);
	tcp_hdr(&f, sport, dport, 1000, 0, 0x02 /* SYN */, 0);
	memcpy(out, f.b, f.n);
	return f.n;
}

/* ---- classic pcap ---- */

static void pcap_hdr(struct buf *b, uint32_t magic, unsigned vmaj, unsigned vmin, uint32_t snaplen,
		     uint32_t linktype)
{
	b_le32(b, magic);
	b_le16(b, vmaj);
	b_le16(b, vmin);
	b_le32(b, 0);
	b_le32(b, 0);
	b_le32(b, snaplen);
	b_le32(b, linktype);
}

/* A record header claiming caplen/origlen, followed by datalen bytes of d. */
static void pcap_rec(struct buf *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t origlen,
		     const uint8_t *d, size_t datalen)
{
	b_le32(b, sec);
	b_le32(b, frac);
	b_le32(b, caplen);
	b_le32(b, origlen);
	b_bytes(b, d, datalen);
}

static void pcap_good(struct buf *b, uint32_t sec, uint32_t usec, const uint8_t *f, size_t n)
{
	pcap_rec(b, sec, usec, (uint32_t)n, (uint32_t)n, f, n);
}

/* ---- pcapng (little-endian sections unless noted) ---- */

static void ng_shb(struct buf *b, uint32_t bom)
{
	b_le32(b, 0x0a0d0d0a);
	b_le32(b, 28);
	b_le32(b, bom);
	b_le16(b, 1);
	b_le16(b, 0);
	b_le32(b, 0xffffffff); /* section length: unknown */
	b_le32(b, 0xffffffff);
	b_le32(b, 28);
}

static void ng_shb_be(struct buf *b)
{
	b_be32(b, 0x0a0d0d0a);
	b_be32(b, 28);
	b_be32(b, 0x1a2b3c4d);
	b_be16(b, 1);
	b_be16(b, 0);
	b_be32(b, 0xffffffff);
	b_be32(b, 0xffffffff);
	b_be32(b, 28);
}

static void ng_idb(struct buf *b, unsigned linktype, uint32_t snaplen)
{
	b_le32(b, 1);
	b_le32(b, 20);
	b_le16(b, linktype);
	b_le16(b, 0);
	b_le32(b, snaplen);
	b_le32(b, 20);
}

static void ng_idb_be(struct buf *b, unsigned linktype)
{
	b_be32(b, 1);
	b_be32(b, 20);
	b_be16(b, linktype);
	b_be16(b, 0);
	b_be32(b, 0);
	b_be32(b, 20);
}

/* IDB with an if_tsresol option and an optional if_tsoffset. */
static void ng_idb_ts(struct buf *b, unsigned tsresol, int with_offset, int64_t offset)
{
	uint32_t len = 20 + 8 + (with_offset ? 12 : 0) + 4;
	b_le32(b, 1);
	b_le32(b, len);
	b_le16(b, 1);
	b_le16(b, 0);
	b_le32(b, 0);
	b_le16(b, 9); /* if_tsresol */
	b_le16(b, 1);
	b_u8(b, tsresol);
	b_zero(b, 3);
	if (with_offset) {
		uint64_t u;
		memcpy(&u, &offset, sizeof u);
		b_le16(b, 14); /* if_tsoffset */
		b_le16(b, 8);
		b_le32(b, (uint32_t)u);
		b_le32(b, (uint32_t)(u >> 32));
	}
	b_le32(b, 0); /* opt_endofopt */
	b_le32(b, len);
}

static void ng_epb(struct buf *b, uint32_t ifid, uint64_t ts, const uint8_t *f, size_t n)
{
	size_t pad = (4 - n % 4) % 4;
	uint32_t len = (uint32_t)(32 + n + pad);
	b_le32(b, 6);
	b_le32(b, len);
	b_le32(b, ifid);
	b_le32(b, (uint32_t)(ts >> 32));
	b_le32(b, (uint32_t)ts);
	b_le32(b, (uint32_t)n);
	b_le32(b, (uint32_t)n);
	b_bytes(b, f, n);
	b_zero(b, pad);
	b_le32(b, len);
}

static void ng_epb_be(struct buf *b, uint64_t ts, const uint8_t *f, size_t n)
{
	size_t pad = (4 - n % 4) % 4;
	uint32_t len = (uint32_t)(32 + n + pad);
	b_be32(b, 6);
	b_be32(b, len);
	b_be32(b, 0);
	b_be32(b, (uint32_t)(ts >> 32));
	b_be32(b, (uint32_t)ts);
	b_be32(b, (uint32_t)n);
	b_be32(b, (uint32_t)n);
	b_bytes(b, f, n);
	b_zero(b, pad);
	b_be32(b, len);
}

static void ng_spb(struct buf *b, const uint8_t *f, size_t n)
{
	size_t pad = (4 - n % 4) % 4;
	uint32_t len = (uint32_t)(16 + n + pad);
	b_le32(b, 3);
	b_le32(b, len);
	b_le32(b, (uint32_t)n);
	b_bytes(b, f, n);
	b_zero(b, pad);
	b_le32(b, len);
}

/* ---- output ---- */

struct out {
	const char *dir;
	FILE *manifest;
	int failed;
};

/* Writes OUTDIR/NAME and its MANIFEST line. checks: space-separated KEY=VALUE pairs the
 * conversion report must show for this input ("-": none); KEY is a dotted path into the
 * input's entry of NAME_report.json ("source_anomalies.caplen_fixed"), or "rows" for the
 * number of CSV rows written. */
static void emit_c(struct out *o, const char *name, struct buf *b, int exit_code,
		   long long offset, const char *checks, const char *what)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", o->dir, name);
	FILE *fp = b->oom ? NULL : fopen(path, "wb");
	if (!fp || (b->n && fwrite(b->p, 1, b->n, fp) != b->n) || fclose(fp) != 0) {
		fprintf(stderr, "mkhostile: %s: %s\n", path, b->oom ? "out of memory" : strerror(errno));
		o->failed = 1;
	}
	char off[32] = "-";
	if (offset >= 0)
		snprintf(off, sizeof off, "%lld", offset);
	fprintf(o->manifest, "%s\t%d\t%s\t%s\t%s\n", name, exit_code, off, checks, what);
	b_free(b);
}

static void emit(struct out *o, const char *name, struct buf *b, int exit_code, long long offset,
		 const char *what)
{
	emit_c(o, name, b, exit_code, offset, "-", what);
}

static void gzip_of(struct buf *out, const struct buf *in)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		out->oom = 1;
		return;
	}
	size_t bound = deflateBound(&z, (uLong)in->n) + 64;
	b_need(out, bound);
	if (!out->oom) {
		z.next_in = in->p;
		z.avail_in = (uInt)in->n;
		z.next_out = out->p + out->n;
		z.avail_out = (uInt)bound;
		if (deflate(&z, Z_FINISH) != Z_STREAM_END)
			out->oom = 1;
		else
			out->n += bound - z.avail_out;
	}
	deflateEnd(&z);
}

static void zstd_of(struct buf *out, const struct buf *in)
{
	size_t bound = ZSTD_compressBound(in->n);
	b_need(out, bound);
	if (out->oom)
		return;
	size_t r = ZSTD_compress(out->p + out->n, bound, in->p, in->n, 3);
	if (ZSTD_isError(r))
		out->oom = 1;
	else
		out->n += r;
}

/* A clean little capture of n UDP packets (for compression cases). */
static void clean_capture(struct buf *b, unsigned n)
{
	uint8_t f[2048];
	pcap_hdr(b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	for (unsigned i = 0; i < n; i++) {
		size_t fl = udp_frame(f, 0x0a000001, 0x0a000002 + i % 7, 40000 + i % 13, 53, 200 + i % 300);
		pcap_good(b, T0 + i / 10, (i % 10) * 1000, f, fl);
	}
}

static int write_all(const char *dir)
{
	char mpath[4096];
	snprintf(mpath, sizeof mpath, "%s/MANIFEST", dir);
	struct out o = { dir, fopen(mpath, "w"), 0 };
	if (!o.manifest) {
		fprintf(stderr, "mkhostile: %s: %s\n", mpath, strerror(errno));
		return 1;
	}
	uint8_t f[2048], g[2048];
	size_t fl = udp_frame(f, 0x0a000001, 0x0a000002, 40000, 53, 60);
	size_t gl = udp_frame(g, 0x0a000002, 0x0a000001, 53, 40000, 120);
	struct buf b = { 0 };
	const size_t good_end = 24 + 16 + fl; /* offset of the record after one good one */

	/* ---- classic pcap: lengths ---- */
	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_good(&b, T0, 0, f, fl);
	pcap_rec(&b, T0, 1, 0xffffffffu, 0xffffffffu, g, gl);
	emit_c(&o, "pcap_caplen_ffffffff.pcap", &b, 3, (long long)good_end, "packets=1 rows=1",
	     "second record claims caplen 0xFFFFFFFF");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_good(&b, T0, 0, f, fl);
	pcap_rec(&b, T0, 1, (64u << 20) + 1, (64u << 20) + 1, g, gl);
	emit(&o, "pcap_caplen_64m_plus_1.pcap", &b, 3, (long long)good_end,
	     "record claims 64 MiB + 1 bytes (just over the record cap)");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_good(&b, T0, 0, f, fl);
	pcap_rec(&b, T0, 1, 5000, 5000, g, gl);
	emit(&o, "pcap_caplen_past_eof.pcap", &b, 3, (long long)good_end,
	     "last record claims 5000 bytes, the file has fewer");

	{
		/* big-endian file: write the same good record, then a huge one, big-endian */
		uint8_t h[16];
		wr32(h, T0);
		wr32(h + 4, 0);
		wr32(h + 8, (uint32_t)fl);
		wr32(h + 12, (uint32_t)fl);
		b_be32(&b, 0xa1b2c3d4u);
		b_be16(&b, 2);
		b_be16(&b, 4);
		b_be32(&b, 0);
		b_be32(&b, 0);
		b_be32(&b, 65535);
		b_be32(&b, 1);
		b_bytes(&b, h, 16);
		b_bytes(&b, f, fl);
		wr32(h + 8, 0xfffffff0u);
		wr32(h + 12, 0xfffffff0u);
		b_bytes(&b, h, 16);
		b_bytes(&b, g, gl);
	}
	emit(&o, "pcap_be_caplen_huge.pcap", &b, 3, (long long)good_end,
	     "big-endian file, second record claims caplen 0xFFFFFFF0");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 0, 1);
	pcap_good(&b, T0, 0, f, fl);
	pcap_good(&b, T0, 10, g, gl);
	emit_c(&o, "pcap_snaplen_zero.pcap", &b, 0, -1, "source_anomalies.caplen_fixed=0 rows=1",
	       "snaplen 0 in the file header");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 0xffffffffu, 1);
	pcap_good(&b, T0, 0, f, fl);
	pcap_good(&b, T0, 10, g, gl);
	emit_c(&o, "pcap_snaplen_absurd.pcap", &b, 0, -1, "source_anomalies.caplen_fixed=0 rows=1",
	       "snaplen 0xFFFFFFFF in the file header");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 40, 1);
	pcap_good(&b, T0, 0, f, fl);
	pcap_good(&b, T0, 10, g, gl);
	emit_c(&o, "pcap_caplen_gt_snaplen.pcap", &b, 0, -1,
	       "source_anomalies.caplen_fixed=2 accounting.in_flows=2",
	       "snaplen 40, records of 102 and 162 bytes");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_rec(&b, T0, 0, (uint32_t)fl, 20, f, fl);
	pcap_rec(&b, T0, 10, (uint32_t)gl, 0, g, gl);
	emit_c(&o, "pcap_caplen_gt_origlen.pcap", &b, 0, -1,
	       "source_anomalies.caplen_fixed=2 wire_bytes=264",
	       "caplen > origlen (origlen 20 and 0)");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_rec(&b, T0, 0, 0, 60, f, 0);
	pcap_rec(&b, T0, 1, 0, 0, f, 0);
	pcap_good(&b, T0, 2, f, fl);
	emit_c(&o, "pcap_caplen_zero.pcap", &b, 0, -1,
	       "accounting.truncated=2 accounting.in_flows=1",
	       "records with caplen 0 (and origlen 0)");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 1, 65535, 1);
	pcap_rec(&b, T0, 0, (uint32_t)fl + 100, (uint32_t)fl, f, fl); /* v2.1: origlen first */
	emit_c(&o, "pcap_v21_swapped_lengths.pcap", &b, 0, -1, "packets=1 wire_bytes=202",
	     "version 2.1 (caplen and origlen swapped in the record header)");

	/* ---- classic pcap: timestamps ---- */
	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_good(&b, T0 + 100, 0, f, fl);
	pcap_good(&b, T0 + 50, 0, g, gl);
	pcap_good(&b, T0, 0, f, fl);
	pcap_good(&b, 0, 0, g, gl);
	pcap_good(&b, T0 + 200, 0, f, fl);
	emit_c(&o, "pcap_ts_backwards.pcap", &b, 0, -1, "accounting.ts_backwards=3 packets=5",
	       "timestamps going backwards, down to 1970");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_good(&b, T0, 999999, f, fl);
	pcap_good(&b, T0, 1000000, g, gl);
	pcap_good(&b, T0, 0xffffffffu, f, fl);
	emit_c(&o, "pcap_usec_overflow.pcap", &b, 0, -1, "source_anomalies.ts_fixed=2 packets=3",
	       "microsecond field 1000000 and 0xFFFFFFFF");

	pcap_hdr(&b, 0xa1b23c4du, 2, 4, 65535, 1);
	pcap_good(&b, T0, 1000000000u, f, fl);
	pcap_good(&b, 0xffffffffu, 0xffffffffu, g, gl);
	emit_c(&o, "pcap_nsec_overflow.pcap", &b, 0, -1, "source_anomalies.ts_fixed=2 packets=2",
	     "nanosecond file: fraction 10^9 and 0xFFFFFFFF, seconds 0xFFFFFFFF");

	/* ---- classic pcap: link types and structure ---- */
	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 147);
	pcap_good(&b, T0, 0, f, fl);
	pcap_good(&b, T0, 10, g, gl);
	emit_c(&o, "pcap_linktype_147.pcap", &b, 0, -1, "accounting.unsupported_link=2 rows=0",
	       "unknown link type 147 (USER0)");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 0xffff);
	pcap_good(&b, T0, 0, f, fl);
	emit_c(&o, "pcap_linktype_65535.pcap", &b, 0, -1, "accounting.unsupported_link=1 rows=0",
	       "link type 65535");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	emit_c(&o, "pcap_header_only.pcap", &b, 0, -1, "packets=0 rows=0",
	       "a file header and nothing else");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	pcap_good(&b, T0, 0, f, 8);
	b.n = 24 + 8;
	emit(&o, "pcap_cut_in_first_record_header.pcap", &b, 3, 24,
	     "file ends 8 bytes into the first record header");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	b.n = 20;
	emit(&o, "pcap_cut_in_file_header.pcap", &b, 1, -1, "20 bytes of a 24-byte file header");

	emit(&o, "empty.pcap", &b, 1, -1, "an empty file");

	pcap_hdr(&b, 0xa1b2c3d4u, 3, 0, 65535, 1);
	pcap_good(&b, T0, 0, f, fl);
	emit(&o, "pcap_version_3.pcap", &b, 1, -1, "pcap version 3.0");

	b_bytes(&b, "not a capture, just text\n", 25);
	emit(&o, "text.pcap", &b, 1, -1, "a text file named .pcap");

	pcap_hdr(&b, 0xa1b2cd34u, 2, 4, 65535, 1);
	b_le32(&b, T0);
	b_le32(&b, 0);
	b_le32(&b, (uint32_t)fl);
	b_le32(&b, (uint32_t)fl);
	b_le32(&b, 1); /* interface index; the file ends in the 24-byte header */
	emit(&o, "pcap_modified_cut_header.pcap", &b, 3, 24,
	     "Kuznetzov format: file ends 20 bytes into a 24-byte record header");

	/* ---- classic pcap: hostile traffic ---- */
	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	{
		/* 12 nested IPv4-in-IPv4 headers around UDP (tunnel depth cap is 4). */
		struct frame t = { .n = 0 };
		eth_hdr(&t, capture_macs(), 0, 0, 0x0800);
		unsigned depth = 12, pay = 40;
		for (unsigned i = 0; i < depth; i++) /* the innermost carries UDP */
			ipv4_hdr(&t, i + 1 < depth ? 4 : 17, 0x0a100000 + i, 0x0a200000 + i,
				 20 * (depth - i - 1) + 8 + pay, 0, 0, i);
		udp_hdr(&t, 1111, 2222, 8 + pay);
		putn(&t, 'x', pay);
		for (unsigned i = 0; i < 3; i++)
			pcap_good(&b, T0, i, t.b, t.n);
	}
	emit_c(&o, "pcap_deep_tunnels.pcap", &b, 0, -1, "accounting.in_flows=3 rows=1",
	       "IPv4 in IPv4 nested 12 deep");

	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	{
		/* 10000 first fragments with distinct ids (more than the 4096 fragment slots),
		 * then their second fragments in the same order. */
		for (unsigned pass = 0; pass < 2; pass++) {
			for (unsigned i = 0; i < 10000; i++) {
				struct frame t = { .n = 0 };
				eth_hdr(&t, capture_macs(), 0, 0, 0x0800);
				if (pass == 0) {
					ipv4_hdr(&t, 17, 0x0a000001, 0x0a000002, 16, 0, 0x2000, i);
					udp_hdr(&t, 5000, 6000, 8 + 16);
					putn(&t, 'f', 8);
				} else {
					ipv4_hdr(&t, 17, 0x0a000001, 0x0a000002, 8, 0, 2, i);
					putn(&t, 's', 8);
				}
				pcap_good(&b, T0 + pass, i, t.b, t.n);
			}
		}
	}
	emit_c(&o, "pcap_fragment_flood.pcap", &b, 0, -1,
	       "accounting.fragments=20000 packets=20000",
	     "10000 fragmented datagrams in flight (fragment table has 4096 slots)");

	/* ---- pcapng ---- */
	const size_t ng_pre = 28 + 20; /* SHB + IDB */
	const size_t epb_f = 32 + fl + (4 - fl % 4) % 4;

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	b_le32(&b, 0x0bad);
	b_le32(&b, 30);
	b_zero(&b, 22);
	emit(&o, "ng_block_len_not_mult4.pcapng", &b, 3, (long long)(ng_pre + epb_f),
	     "block length 30 (not a multiple of 4)");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	b_le32(&b, 6);
	b_le32(&b, 8);
	b_zero(&b, 24);
	emit(&o, "ng_block_len_lt_12.pcapng", &b, 3, (long long)(ng_pre + epb_f),
	     "block length 8 (smaller than 12)");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	b_le32(&b, 6);
	b_le32(&b, 4096);
	b_zero(&b, 64);
	emit(&o, "ng_block_len_past_eof.pcapng", &b, 3, (long long)(ng_pre + epb_f),
	     "block length 4096, larger than the rest of the file");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	b_le32(&b, 6);
	b_le32(&b, 0xfffffffcu);
	b_zero(&b, 64);
	emit(&o, "ng_block_len_huge.pcapng", &b, 3, (long long)(ng_pre + epb_f),
	     "block length 0xFFFFFFFC");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000 + 5, g, gl);
	b.p[b.n - 4] ^= 0x40; /* trailing length of the second EPB */
	emit(&o, "ng_trailing_len_mismatch.pcapng", &b, 3, (long long)(ng_pre + epb_f),
	     "trailing block length differs from the leading one");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	ng_epb(&b, 7, (uint64_t)T0 * 1000000 + 5, g, gl);
	ng_epb(&b, 0xffffffffu, (uint64_t)T0 * 1000000 + 6, g, gl);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000 + 7, g, gl);
	emit_c(&o, "ng_epb_undefined_interface.pcapng", &b, 0, -1,
	       "source_anomalies.bad_interface=2 packets=2",
	     "EPBs naming interfaces 7 and 0xFFFFFFFF; only interface 0 is defined");

	ng_shb(&b, 0x1a2b3c4d);
	ng_spb(&b, f, fl);
	ng_idb(&b, 1, 0);
	ng_spb(&b, g, gl);
	emit_c(&o, "ng_spb_before_idb.pcapng", &b, 0, -1,
	       "source_anomalies.bad_interface=1 packets=1",
	     "simple packet block before any interface is defined");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	{
		size_t at = b.n;
		ng_epb(&b, 0, (uint64_t)T0 * 1000000 + 5, g, gl);
		b.p[at + 20] = 0xff; /* caplen low byte: now past the end of the block */
		b.p[at + 21] = 0x10;
	}
	emit(&o, "ng_epb_caplen_past_block.pcapng", &b, 3, (long long)(ng_pre + epb_f),
	     "EPB caplen larger than its block");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	b_le32(&b, 6);
	b_le32(&b, 28);
	b_zero(&b, 16);
	b_le32(&b, 28);
	emit(&o, "ng_epb_too_short.pcapng", &b, 3, (long long)(ng_pre + epb_f),
	     "EPB of 28 bytes (shorter than its fixed fields)");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	b_le32(&b, 1);
	b_le32(&b, 28);
	b_le16(&b, 1);
	b_le16(&b, 0);
	b_le32(&b, 0);
	b_le16(&b, 9);
	b_le16(&b, 200); /* option value runs past the block */
	b_le32(&b, 0);
	b_le32(&b, 28);
	emit(&o, "ng_idb_option_overrun.pcapng", &b, 3, (long long)(ng_pre + epb_f + 16),
	     "IDB option length 200 in a 28-byte block");

	ng_shb(&b, 0x4d3c2b1bu);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	emit(&o, "ng_bad_bom_first.pcapng", &b, 1, -1, "first section header: bad byte-order magic");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	ng_shb(&b, 0x11223344u);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, g, gl);
	emit(&o, "ng_bad_bom_second.pcapng", &b, 3, (long long)(ng_pre + epb_f),
	     "second section header: bad byte-order magic");

	ng_shb(&b, 0x1a2b3c4d);
	b.p[4] = 12; /* SHB total length 12 (< 28) */
	b.n = 12;
	emit(&o, "ng_shb_too_short.pcapng", &b, 1, -1, "section header block of 12 bytes");

	ng_shb(&b, 0x1a2b3c4d);
	emit_c(&o, "ng_shb_only.pcapng", &b, 0, -1, "packets=0 rows=0",
	       "a section header and nothing else");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	emit_c(&o, "ng_header_only.pcapng", &b, 0, -1, "packets=0 rows=0",
	       "a section header and an interface, no packets");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	b_le32(&b, 6);
	b_le32(&b, 64);
	emit(&o, "ng_cut_in_first_block_header.pcapng", &b, 3, (long long)ng_pre,
	     "file ends 8 bytes into the first packet block");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb(&b, 1, 0);
	ng_epb(&b, 0, (uint64_t)T0 * 1000000, f, fl);
	ng_shb_be(&b);
	ng_idb_be(&b, 1);
	ng_epb_be(&b, (uint64_t)T0 * 1000000 + 9, g, gl);
	emit_c(&o, "ng_byte_order_switch.pcapng", &b, 0, -1, "packets=2 rows=1",
	     "little-endian section, then a big-endian section");

	ng_shb(&b, 0x1a2b3c4d);
	ng_idb_ts(&b, 0x7f, 0, 0);                 /* 10^-127 s */
	ng_idb_ts(&b, 0xff, 0, 0);                 /* 2^-127 s */
	ng_idb_ts(&b, 0x00, 1, INT64_MIN);         /* seconds, offset -2^63 s */
	ng_idb_ts(&b, 0x00, 1, INT64_MAX);         /* seconds, offset 2^63-1 s */
	ng_idb_ts(&b, 0x80, 0, 0);                 /* 2^0 s */
	for (uint32_t i = 0; i < 5; i++) {
		ng_epb(&b, i, UINT64_MAX, f, fl);
		ng_epb(&b, i, 0, g, gl);
	}
	emit_c(&o, "ng_ts_extremes.pcapng", &b, 0, -1, "packets=10",
	     "if_tsresol 10^-127 / 2^-127 / 1 s, if_tsoffset -2^63 and 2^63-1, timestamps 0 and 2^64-1");

	ng_shb(&b, 0x1a2b3c4d);
	for (uint32_t i = 0; i < 65537; i++)
		ng_idb(&b, 1, 0);
	emit_c(&o, "ng_too_many_interfaces.pcapng", &b, 3, (long long)(28 + 65536 * 20),
	       "packets=0 rows=0",
	     "65537 interfaces in one section (cap 65536)");

	/* ---- compressed ---- */
	{
		struct buf clean = { 0 }, z = { 0 };
		clean_capture(&clean, 400);
		gzip_of(&z, &clean);
		if (!z.oom)
			z.n /= 2;
		emit(&o, "gz_cut.pcap.gz", &z, 3, -1, "gzip stream cut in half");
		gzip_of(&z, &clean);
		if (!z.oom)
			z.p[z.n / 2] ^= 0x55;
		emit(&o, "gz_corrupt.pcap.gz", &z, 3, -1, "gzip stream with a flipped byte in the middle");
		zstd_of(&z, &clean);
		if (!z.oom)
			z.n /= 2;
		emit(&o, "zst_cut_early.pcap.zst", &z, 1, -1,
		     "zstd stream cut before its first block is complete: nothing decodes");
		b_free(&clean);
		clean_capture(&clean, 4000); /* several 128 KiB zstd blocks */
		zstd_of(&z, &clean);
		if (!z.oom)
			z.n = z.n * 3 / 4;
		emit(&o, "zst_cut.pcap.zst", &z, 3, -1, "zstd stream cut after three quarters");
		b_free(&clean);
	}

	if (fclose(o.manifest) != 0)
		o.failed = 1;
	return o.failed;
}

static int write_syns(unsigned long n, const char *path)
{
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		fprintf(stderr, "mkhostile: %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct buf b = { 0 };
	pcap_hdr(&b, 0xa1b2c3d4u, 2, 4, 65535, 1);
	uint8_t f[128];
	int bad = 0;
	for (unsigned long i = 0; i < n && !bad; i++) {
		/* sources 10.0.0.0 upwards, one destination; 1 us apart */
		size_t fl = syn_frame(f, 0x0a000000u + (uint32_t)i, 0xc0a80001u,
				      1024 + (unsigned)(i % 60000), 80);
		pcap_good(&b, T0 + (uint32_t)(i / 1000000), (uint32_t)(i % 1000000), f, fl);
		if (b.n > (1u << 20) || i + 1 == n) {
			if (b.oom || fwrite(b.p, 1, b.n, fp) != b.n)
				bad = 1;
			b.n = 0;
		}
	}
	if (n == 0 && fwrite(b.p, 1, b.n, fp) != b.n)
		bad = 1;
	b_free(&b);
	if (fclose(fp) != 0 || bad) {
		fprintf(stderr, "mkhostile: %s: write failed\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--syns") == 0) {
		char *end;
		unsigned long n = strtoul(argv[2], &end, 10);
		if (*end || n > 0xffffffu) {
			fprintf(stderr, "mkhostile: --syns: 0 to 16777215 flows\n");
			return 2;
		}
		return write_syns(n, argv[3]);
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mkhostile OUTDIR | mkhostile --syns N FILE\n");
		return 2;
	}
	return write_all(argv[1]);
}
