/* Capture readers: classic pcap (both byte orders, us/ns, modified format, fix-ups),
 * pcapng (sections of either byte order, interfaces, timestamp units, EPB/SPB/PB, skipped
 * blocks, bad lengths, options), truncation offsets, gzip/zstd streams, memory input,
 * standard input, and every prefix of small images. Files go to a mkdtemp directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "capture/pcap_writer.h"
#include "capture/source.h"
#include "capture/source_int.h"
#include "nfm_test.h"

#define SEC 1000000000ULL
#define T0 (1700000000ULL * SEC) /* 2023-11-14T22:13:20Z */

/* ---- growable byte buffer with explicit byte order ---- */

struct bb {
	uint8_t *d;
	size_t n, cap;
	int be;
};

static void bb_put(struct bb *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		while (nc < b->n + n)
			nc *= 2;
		uint8_t *nd = realloc(b->d, nc);
		if (!nd) {
			fprintf(stderr, "out of memory\n");
			exit(2);
		}
		b->d = nd;
		b->cap = nc;
	}
	if (n)
		memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void u8(struct bb *b, unsigned v)
{
	uint8_t c = (uint8_t)v;
	bb_put(b, &c, 1);
}

static void u16(struct bb *b, unsigned v)
{
	uint8_t c[2];
	if (b->be) {
		c[0] = (uint8_t)(v >> 8);
		c[1] = (uint8_t)v;
	} else {
		c[0] = (uint8_t)v;
		c[1] = (uint8_t)(v >> 8);
	}
	bb_put(b, c, 2);
}

static void u32(struct bb *b, uint32_t v)
{
	if (b->be) {
		u16(b, v >> 16);
		u16(b, v & 0xffff);
	} else {
		u16(b, v & 0xffff);
		u16(b, v >> 16);
	}
}

static void set32(struct bb *b, size_t at, uint32_t v)
{
	uint8_t *p = b->d + at;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(b->be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static void bb_free(struct bb *b)
{
	free(b->d);
	memset(b, 0, sizeof *b);
}

/* Deterministic packet bytes. */
static void payload(struct bb *b, uint32_t n, unsigned seed)
{
	for (uint32_t i = 0; i < n; i++)
		u8(b, (seed * 31u + i * 7u) & 0xff);
}

static uint32_t sum_bytes(const uint8_t *p, uint32_t n)
{
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t sum_payload(uint32_t n, unsigned seed)
{
	struct bb b = { 0 };
	payload(&b, n, seed);
	uint32_t h = sum_bytes(b.d, n);
	bb_free(&b);
	return h;
}

/* ---- classic pcap images ---- */

static void pcap_hdr(struct bb *b, uint32_t magic, unsigned vmaj, unsigned vmin,
		     uint32_t snaplen, uint32_t linktype)
{
	u32(b, magic);
	u16(b, vmaj);
	u16(b, vmin);
	u32(b, 0);
	u32(b, 0);
	u32(b, snaplen);
	u32(b, linktype);
}

static void pcap_rec(struct bb *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t origlen,
		     unsigned seed)
{
	u32(b, sec);
	u32(b, frac);
	u32(b, caplen);
	u32(b, origlen);
	payload(b, caplen, seed);
}

/* ---- pcapng images ---- */

static size_t blk_begin(struct bb *b, uint32_t type)
{
	size_t at = b->n;
	u32(b, type);
	u32(b, 0);
	return at;
}

static void blk_end(struct bb *b, size_t at)
{
	while ((b->n - at) % 4)
		u8(b, 0);
	uint32_t len = (uint32_t)(b->n - at + 4);
	u32(b, len);
	set32(b, at + 4, len);
}

static void ng_shb(struct bb *b, int be, unsigned vmaj)
{
	b->be = be;
	size_t at = blk_begin(b, 0x0a0d0d0a);
	u32(b, 0x1a2b3c4d);
	u16(b, vmaj);
	u16(b, 0);
	u32(b, 0xffffffff); /* section length -1 */
	u32(b, 0xffffffff);
	blk_end(b, at);
}

/* tsresol < 0: no option; tsoffset != 0: if_tsoffset option. */
static void ng_idb(struct bb *b, unsigned linktype, uint32_t snaplen, int tsresol,
		   int64_t tsoffset)
{
	size_t at = blk_begin(b, 1);
	u16(b, linktype);
	u16(b, 0);
	u32(b, snaplen);
	if (tsresol >= 0) {
		u16(b, 9);
		u16(b, 1);
		u8(b, (unsigned)tsresol);
		u8(b, 0);
		u16(b, 0);
	}
	if (tsoffset) {
		uint64_t v = (uint64_t)tsoffset;
		u16(b, 14);
		u16(b, 8);
		if (b->be) {
			u32(b, (uint32_t)(v >> 32));
			u32(b, (uint32_t)v);
		} else {
			u32(b, (uint32_t)v);
			u32(b, (uint32_t)(v >> 32));
		}
	}
	if (tsresol >= 0 || tsoffset) {
		u16(b, 0);
		u16(b, 0);
	}
	blk_end(b, at);
}

static void ng_epb(struct bb *b, uint32_t ifid, uint64_t ts, uint32_t caplen, uint32_t origlen,
		   unsigned seed)
{
	size_t at = blk_begin(b, 6);
	u32(b, ifid);
	u32(b, (uint32_t)(ts >> 32));
	u32(b, (uint32_t)ts);
	u32(b, caplen);
	u32(b, origlen);
	payload(b, caplen, seed);
	blk_end(b, at);
}

static void ng_opb(struct bb *b, unsigned ifid, uint64_t ts, uint32_t caplen, uint32_t origlen,
		   unsigned seed)
{
	size_t at = blk_begin(b, 2);
	u16(b, ifid);
	u16(b, 0);
	u32(b, (uint32_t)(ts >> 32));
	u32(b, (uint32_t)ts);
	u32(b, caplen);
	u32(b, origlen);
	payload(b, caplen, seed);
	blk_end(b, at);
}

static void ng_spb(struct bb *b, uint32_t origlen, uint32_t stored, unsigned seed)
{
	size_t at = blk_begin(b, 3);
	u32(b, origlen);
	payload(b, stored, seed);
	blk_end(b, at);
}

static void ng_raw_block(struct bb *b, uint32_t type, uint32_t body_len)
{
	size_t at = blk_begin(b, type);
	payload(b, body_len, 99);
	blk_end(b, at);
}

/* ---- reading ---- */

#define MAXP 16

struct got {
	int open_rc, rc;
	uint64_t n;
	struct nfm_raw_packet p[MAXP];
	uint32_t sum[MAXP];
	struct nfm_error err;
	struct nfm_source_stats st;
	int linktype, fmt, comp;
	uint64_t bytes_read, file_size;
};

static void drain(struct nfm_source *s, struct got *g)
{
	struct nfm_raw_packet pkt;
	while ((g->rc = nfm_source_next(s, &pkt, &g->err)) > 0) {
		if (g->n < MAXP) {
			g->sum[g->n] = sum_bytes(pkt.data, pkt.cap_len);
			g->p[g->n] = pkt;
			g->p[g->n].data = NULL;
		}
		g->n++;
	}
	g->st = *nfm_source_stats(s);
	g->linktype = nfm_source_linktype(s);
	g->fmt = nfm_source_format(s);
	g->comp = nfm_source_compression(s);
	g->bytes_read = nfm_source_bytes_read(s);
	g->file_size = nfm_source_file_size(s);
	nfm_source_close(s);
}

static void read_path_flags(const char *path, unsigned flags, struct got *g)
{
	memset(g, 0, sizeof *g);
	struct nfm_source *s;
	g->open_rc = nfm_source_open_flags(&s, path, flags, &g->err);
	if (g->open_rc == 0)
		drain(s, g);
}

/* Message of a failed read without the leading input name. */
static const char *msg_tail(const struct got *g, const char *name)
{
	size_t n = strlen(name);
	return strncmp(g->err.msg, name, n) == 0 ? g->err.msg + n : "(message without the name)";
}

/* A capture read two ways (memory, mapped file, read() on the file) must give the same
 * packets, stats, errors and offsets; only the name in messages differs. bytes_read
 * is the same at a clean end of uncompressed input (during reading, and after an error,
 * the read() path has read ahead of the parsing position). */
static void same_got(struct nfm_test_state *nfm_t_, const char *how, const struct got *a,
		     const char *a_name, const struct got *b, const char *b_name)
{
	unsigned bad = 0;
	bad |= (a->open_rc != b->open_rc || a->rc != b->rc || a->n != b->n) << 0;
	for (uint64_t i = 0; i < a->n && i < b->n && i < MAXP; i++) {
		const struct nfm_raw_packet *x = &a->p[i], *y = &b->p[i];
		bad |= (x->ts_ns != y->ts_ns || x->cap_len != y->cap_len ||
			x->wire_len != y->wire_len || x->linktype != y->linktype ||
			x->interface_id != y->interface_id || x->offset != y->offset ||
			a->sum[i] != b->sum[i]) << 1;
	}
	if (a->open_rc || a->rc)
		bad |= (a->err.code != b->err.code || a->err.has_offset != b->err.has_offset ||
			a->err.offset != b->err.offset ||
			strcmp(msg_tail(a, a_name), msg_tail(b, b_name)) != 0) << 2;
	if (a->open_rc == 0)
		bad |= (memcmp(&a->st, &b->st, sizeof a->st) != 0 || a->linktype != b->linktype ||
			a->fmt != b->fmt || a->comp != b->comp || a->file_size != b->file_size ||
			(a->rc == 0 && a->comp == NFM_COMP_NONE && a->bytes_read != b->bytes_read))
		       << 3;
	if (bad)
		fprintf(stderr, "  %s differ (0x%x): rc %d/%d %d/%d, %llu/%llu packets, \"%s\" / \"%s\"\n",
			how, bad, a->open_rc, b->open_rc, a->rc, b->rc, (unsigned long long)a->n,
			(unsigned long long)b->n, a->err.msg, b->err.msg);
	CHECK_EQ_U(bad, 0);
}

/* Reads a file through the mapped path (the result in g) and through the forced read()
 * path, and compares. Standard input is read once (it has no mapped path). */
static void read_path(struct nfm_test_state *nfm_t_, const char *path, struct got *g)
{
	read_path_flags(path, 0, g);
	if (strcmp(path, "-") == 0)
		return;
	struct got *r = malloc(sizeof *r);
	CHECK(r != NULL);
	if (!r)
		return;
	read_path_flags(path, NFM_SOURCE_NO_MMAP, r);
	same_got(nfm_t_, "mapped/read()", g, path, r, path);
	free(r);
}

/* Reads an image from memory (the result in g), then as a file both ways: all three must
 * agree. */
static void read_mem(struct nfm_test_state *nfm_t_, const uint8_t *d, size_t n, struct got *g)
{
	memset(g, 0, sizeof *g);
	struct nfm_source *s;
	g->open_rc = nfm_source_open_mem(&s, d, n, "img", &g->err);
	if (g->open_rc == 0)
		drain(s, g);

	const char *tmpdir = getenv("TMPDIR");
	char path[300];
	snprintf(path, sizeof path, "%s/nfm_img_XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, d + done, n - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	CHECK_EQ_U(done, n);
	CHECK(close(fd) == 0);
	struct got *f = malloc(sizeof *f);
	CHECK(f != NULL);
	if (f) {
		read_path(nfm_t_, path, f);
		same_got(nfm_t_, "memory/file", g, "img", f, path);
		free(f);
	}
	unlink(path);
}

/* ---- temp files ---- */

struct tmp {
	char dir[256];
	char path[64][300];
	int n;
};

static void tmp_init(struct tmp *t)
{
	memset(t, 0, sizeof *t);
	const char *tmpdir = getenv("TMPDIR");
	snprintf(t->dir, sizeof t->dir, "%s/nfm_capture_XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(t->dir)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		exit(2);
	}
}

static void tmp_cleanup(struct tmp *t)
{
	for (int i = 0; i < t->n; i++)
		unlink(t->path[i]);
	rmdir(t->dir);
}

static const char *tmp_name(struct tmp *t, const char *name)
{
	char buf[sizeof t->path[0]];
	if (t->n >= (int)(sizeof t->path / sizeof t->path[0]))
		exit(2);
	snprintf(buf, sizeof buf, "%s/%s", t->dir, name);
	memcpy(t->path[t->n], buf, sizeof buf);
	return t->path[t->n++];
}

static const char *tmp_file(struct tmp *t, const char *name, const void *d, size_t n)
{
	const char *path = tmp_name(t, name);
	FILE *fp = fopen(path, "wb");
	if (!fp || (n && fwrite(d, 1, n, fp) != n) || fclose(fp) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
	return path;
}

/* ---- compression helpers ---- */

static void gz_append(struct bb *out, const uint8_t *in, size_t n)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(2);
	size_t bound = deflateBound(&z, (uLong)n) + 64;
	uint8_t *tmp = malloc(bound);
	if (!tmp)
		exit(2);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = tmp;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		exit(2);
	bb_put(out, tmp, bound - z.avail_out);
	deflateEnd(&z);
	free(tmp);
}

static void zstd_append(struct bb *out, const uint8_t *in, size_t n)
{
	size_t bound = ZSTD_compressBound(n);
	uint8_t *tmp = malloc(bound);
	if (!tmp)
		exit(2);
	size_t r = ZSTD_compress(tmp, bound, in, n, 3);
	if (ZSTD_isError(r))
		exit(2);
	bb_put(out, tmp, r);
	free(tmp);
}

/* ---- shared fixtures ---- */

/* Three Ethernet records, little-endian microsecond pcap, written by hand:
 * offsets 24, 24+16+60=100, 100+16+1514=1630; file length 1630+16+42=1688. */
static void small_pcap(struct bb *b)
{
	pcap_hdr(b, 0xa1b2c3d4, 2, 4, 65535, 1);
	pcap_rec(b, 1700000000, 1, 60, 60, 1);
	pcap_rec(b, 1700000001, 999999, 1514, 1514, 2);
	pcap_rec(b, 1700000002, 500000, 42, 60, 3);
}

/* A pcapng image with two interfaces of different link types and units, every kind of
 * packet block and some blocks to skip. Block offsets are noted for the tests. */
static void small_pcapng(struct bb *b)
{
	ng_shb(b, 0, 1);                                      /* 0..28 */
	ng_idb(b, 1, 0, 9, 0);                                /* 28..60: Ethernet, 10^-9 s */
	ng_idb(b, 0, 128, 0x80 | 10, 0);                      /* 60..92: NULL, 2^-10 s */
	ng_epb(b, 0, T0 + 123456789, 60, 60, 1);              /* 92..184 */
	ng_raw_block(b, 4, 8);                                /* NRB 184..204 */
	ng_epb(b, 1, (1700000000ULL << 10) | 512, 40, 40, 2); /* 204..276 */
	ng_spb(b, 50, 52, 3);                                 /* 276..344 */
	ng_raw_block(b, 0x12345678, 4);                       /* unknown 344..360 */
	ng_opb(b, 0, T0 + 5, 30, 100, 4);                     /* 360..424 */
	ng_raw_block(b, 5, 20);                               /* ISB 424..456 */
	ng_epb(b, 7, T0, 10, 10, 5);                          /* no interface 7: 456..500 */
}

/* ---- tests: classic pcap ---- */

NFM_TEST(pcap_writer_micro)
{
	struct tmp t;
	tmp_init(&t);
	const char *path = tmp_name(&t, "w_us.pcap");
	struct nfm_pcap_writer *w;
	struct nfm_error err;
	CHECK_EQ_U(nfm_pcap_writer_open(&w, path, 1, 65535, 0, &err), 0);
	struct bb d = { 0 };
	payload(&d, 100, 9);
	CHECK_EQ_U(nfm_pcap_writer_write(w, T0 + 1234567, d.d, 100, 100, &err), 0);
	CHECK_EQ_U(nfm_pcap_writer_write(w, T0 + 2 * SEC + 999999999, d.d, 64, 1500, &err), 0);
	CHECK_EQ_U(nfm_pcap_writer_close(w, &err), 0);
	struct got g;
	read_path(nfm_t_, path, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 2);
	CHECK_EQ_U(g.fmt, NFM_CAPFMT_PCAP);
	CHECK_EQ_U(g.comp, NFM_COMP_NONE);
	CHECK_EQ_U(g.linktype, 1);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 1234000); /* microsecond file */
	CHECK_EQ_U(g.p[0].cap_len, 100);
	CHECK_EQ_U(g.p[0].wire_len, 100);
	CHECK_EQ_U(g.p[0].offset, 24);
	CHECK_EQ_U(g.p[0].linktype, 1);
	CHECK_EQ_U(g.sum[0], sum_bytes(d.d, 100));
	CHECK_EQ_U(g.p[1].ts_ns, T0 + 2 * SEC + 999999000);
	CHECK_EQ_U(g.p[1].cap_len, 64);
	CHECK_EQ_U(g.p[1].wire_len, 1500);
	CHECK_EQ_U(g.p[1].offset, 24 + 16 + 100);
	CHECK_EQ_U(g.sum[1], sum_bytes(d.d, 64));
	CHECK_EQ_U(g.file_size, 24 + 16 + 100 + 16 + 64);
	CHECK_EQ_U(g.bytes_read, 24 + 16 + 100 + 16 + 64);
	CHECK_EQ_U(g.st.records, 2);
	CHECK_EQ_U(g.st.caplen_fixed, 0);
	bb_free(&d);
	tmp_cleanup(&t);
}

NFM_TEST(pcap_writer_nano)
{
	struct tmp t;
	tmp_init(&t);
	const char *path = tmp_name(&t, "w_ns.pcap");
	struct nfm_pcap_writer *w;
	struct nfm_error err;
	CHECK_EQ_U(nfm_pcap_writer_open(&w, path, 113, 262144, 1, &err), 0);
	struct bb d = { 0 };
	payload(&d, 80, 4);
	CHECK_EQ_U(nfm_pcap_writer_write(w, T0 + 123456789, d.d, 80, 80, &err), 0);
	CHECK_EQ_U(nfm_pcap_writer_close(w, &err), 0);
	struct got g;
	read_path(nfm_t_, path, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.linktype, 113);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 123456789);
	CHECK_EQ_U(g.p[0].linktype, 113);
	CHECK_EQ_U(g.sum[0], sum_bytes(d.d, 80));
	bb_free(&d);
	tmp_cleanup(&t);
}

NFM_TEST(pcap_byte_orders_and_variants)
{
	/* big-endian microseconds */
	struct bb b = { 0 };
	b.be = 1;
	pcap_hdr(&b, 0xa1b2c3d4, 2, 4, 65535, 101);
	pcap_rec(&b, 1700000000, 250000, 20, 20, 7);
	struct got g;
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.linktype, 101);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 250000000);
	CHECK_EQ_U(g.p[0].cap_len, 20);
	CHECK_EQ_U(g.sum[0], sum_payload(20, 7));
	bb_free(&b);

	/* big-endian nanoseconds */
	b.be = 1;
	pcap_hdr(&b, 0xa1b23c4d, 2, 4, 65535, 1);
	pcap_rec(&b, 1700000000, 7, 14, 14, 1);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 7);
	bb_free(&b);

	/* little-endian nanoseconds */
	pcap_hdr(&b, 0xa1b23c4d, 2, 4, 65535, 1);
	pcap_rec(&b, 1700000000, 999999999, 14, 14, 1);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 999999999);
	CHECK_EQ_U(g.st.ts_fixed, 0);
	bb_free(&b);

	/* modified (Kuznetzov) format: 8 extra bytes per record header */
	b.be = 1;
	pcap_hdr(&b, 0xa1b2cd34, 2, 4, 65535, 1);
	u32(&b, 1700000000);
	u32(&b, 3);
	u32(&b, 10);
	u32(&b, 10);
	u32(&b, 2); /* ifindex */
	u16(&b, 0x0800);
	u8(&b, 0);
	u8(&b, 0);
	payload(&b, 10, 5);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 3000);
	CHECK_EQ_U(g.p[0].cap_len, 10);
	CHECK_EQ_U(g.sum[0], sum_payload(10, 5));
	bb_free(&b);
}

NFM_TEST(pcap_fixups)
{
	struct bb b = { 0 };
	pcap_hdr(&b, 0xa1b2c3d4, 2, 4, 64, 1);
	pcap_rec(&b, 1700000000, 2500000, 30, 20, 1); /* usec overflow, caplen > origlen */
	pcap_rec(&b, 1700000000, 0, 100, 1000, 2);    /* caplen > snaplen */
	pcap_rec(&b, 1700000000, 5, 64, 64, 3);       /* fine */
	struct got g;
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 3);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 2 * SEC + 500000000);
	CHECK_EQ_U(g.p[0].cap_len, 30);
	CHECK_EQ_U(g.p[0].wire_len, 30);
	CHECK_EQ_U(g.p[1].cap_len, 100);
	CHECK_EQ_U(g.p[1].wire_len, 1000);
	CHECK_EQ_U(g.sum[1], sum_payload(100, 2));
	CHECK_EQ_U(g.p[2].ts_ns, T0 + 5000);
	CHECK_EQ_U(g.st.caplen_fixed, 2);
	CHECK_EQ_U(g.st.ts_fixed, 1);
	bb_free(&b);

	/* nanosecond fraction overflow */
	pcap_hdr(&b, 0xa1b23c4d, 2, 4, 0, 1);
	pcap_rec(&b, 1700000000, 4000000001u, 4, 4, 1);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 4 * SEC + 1);
	CHECK_EQ_U(g.st.ts_fixed, 1);
	CHECK_EQ_U(g.st.caplen_fixed, 0); /* snaplen 0: not limited */
	bb_free(&b);
}

NFM_TEST(pcap_old_versions_swap_lengths)
{
	/* Before 2.3 the record header stored origlen before caplen. */
	struct bb b = { 0 };
	pcap_hdr(&b, 0xa1b2c3d4, 2, 2, 65535, 1);
	u32(&b, 1700000000);
	u32(&b, 0);
	u32(&b, 500); /* origlen */
	u32(&b, 12);  /* caplen */
	payload(&b, 12, 1);
	struct got g;
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.p[0].cap_len, 12);
	CHECK_EQ_U(g.p[0].wire_len, 500);
	bb_free(&b);

	/* 2.3: swapped only when caplen > origlen as stored */
	pcap_hdr(&b, 0xa1b2c3d4, 2, 3, 65535, 1);
	u32(&b, 1700000000);
	u32(&b, 0);
	u32(&b, 500);
	u32(&b, 12);
	payload(&b, 12, 1);
	pcap_rec(&b, 1700000000, 0, 8, 90, 2);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 2);
	CHECK_EQ_U(g.p[0].cap_len, 12);
	CHECK_EQ_U(g.p[0].wire_len, 500);
	CHECK_EQ_U(g.p[1].cap_len, 8);
	CHECK_EQ_U(g.p[1].wire_len, 90);
	bb_free(&b);
}

NFM_TEST(pcap_header_cases)
{
	struct bb b = { 0 };
	struct got g;
	/* header only: a valid capture with no packets */
	pcap_hdr(&b, 0xa1b2c3d4, 2, 4, 65535, 1);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 0);
	CHECK_EQ_U(g.linktype, 1);
	bb_free(&b);

	/* reserved and FCS bits in the linktype field: the low 16 bits are the type */
	pcap_hdr(&b, 0xa1b2c3d4, 2, 4, 65535, 0x40300071u);
	pcap_rec(&b, 1, 0, 4, 4, 1);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.linktype, 0x71);
	CHECK_EQ_U(g.p[0].linktype, 0x71);
	bb_free(&b);

	/* major version 1 */
	pcap_hdr(&b, 0xa1b2c3d4, 1, 4, 65535, 1);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_UNSUPPORTED);
	CHECK_STR(g.err.msg, "img: unsupported pcap version 1.4");
	bb_free(&b);

	/* header cut short */
	pcap_hdr(&b, 0xd4c3b2a1, 2, 4, 65535, 1);
	read_mem(nfm_t_, b.d, 20, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_TRUNCATED);
	CHECK_EQ_U(g.err.offset, 0);
	bb_free(&b);
}

NFM_TEST(open_errors)
{
	struct tmp t;
	tmp_init(&t);
	struct got g;
	const char *missing = tmp_name(&t, "missing.pcap");
	char want[400];
	read_path(nfm_t_, missing, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_IO);
	snprintf(want, sizeof want, "%s: No such file or directory", missing);
	CHECK_STR(g.err.msg, want);

	const char *empty = tmp_file(&t, "empty.pcap", "", 0);
	read_path(nfm_t_, empty, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_FORMAT);
	snprintf(want, sizeof want, "%s: empty file", empty);
	CHECK_STR(g.err.msg, want);

	const char *text = tmp_file(&t, "notes.txt", "hello, world\n", 13);
	read_path(nfm_t_, text, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_FORMAT);
	snprintf(want, sizeof want, "%s: not a pcap or pcapng capture", text);
	CHECK_STR(g.err.msg, want);

	static const uint8_t snoop[24] = { 's', 'n', 'o', 'o', 'p', 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4 };
	read_mem(nfm_t_, snoop, sizeof snoop, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_FORMAT);

	read_mem(nfm_t_, (const uint8_t *)"\xd4\xc3", 2, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_FORMAT);

	read_path(nfm_t_, t.dir, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_IO);
	tmp_cleanup(&t);
}

NFM_TEST(pcap_truncation_offsets)
{
	struct tmp t;
	tmp_init(&t);
	struct bb b = { 0 };
	small_pcap(&b);
	CHECK_EQ_U(b.n, 1688);
	struct got g;
	/* inside the third record's header */
	const char *p1 = tmp_file(&t, "cut_hdr.pcap", b.d, 1630 + 9);
	read_path(nfm_t_, p1, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.rc, NFM_ERR_TRUNCATED);
	CHECK_EQ_U(g.n, 2);
	CHECK_EQ_U(g.err.has_offset, 1);
	CHECK_EQ_U(g.err.offset, 1630);
	char want[400];
	snprintf(want, sizeof want,
		 "%s: truncated capture: record at byte 1630 is incomplete (2 packets read)", p1);
	CHECK_STR(g.err.msg, want);

	/* inside the second record's data */
	const char *p2 = tmp_file(&t, "cut_data.pcap", b.d, 100 + 16 + 1000);
	read_path(nfm_t_, p2, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_TRUNCATED);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.err.offset, 100);
	snprintf(want, sizeof want,
		 "%s: truncated capture: record at byte 100 is incomplete (1 packets read)", p2);
	CHECK_STR(g.err.msg, want);

	/* exactly at a record boundary: clean end */
	read_mem(nfm_t_, b.d, 1630, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 2);
	bb_free(&b);
	tmp_cleanup(&t);
}

NFM_TEST(pcap_oversized_record)
{
	struct bb b = { 0 };
	pcap_hdr(&b, 0xa1b2c3d4, 2, 4, 65535, 1);
	pcap_rec(&b, 1, 0, 8, 8, 1);
	u32(&b, 2);
	u32(&b, 0);
	u32(&b, (64u << 20) + 1);
	u32(&b, 100);
	payload(&b, 100, 1);
	struct got g;
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.err.offset, 24 + 16 + 8);
	bb_free(&b);
}

/* Records bigger than the 4 MiB window and many records straddling its end. */
NFM_TEST(pcap_large_file_through_fd)
{
	struct tmp t;
	tmp_init(&t);
	const char *path = tmp_name(&t, "large.pcap");
	struct nfm_pcap_writer *w;
	struct nfm_error err;
	CHECK_EQ_U(nfm_pcap_writer_open(&w, path, 1, 0, 1, &err), 0);
	struct bb d = { 0 };
	payload(&d, 6u << 20, 3);
	uint64_t total = 24, n = 0;
	uint32_t want_sum = 0;
	for (uint32_t i = 0; i < 6000; i++) {
		uint32_t len = (i * 1237u) % 1600u + 1;
		if (i == 3000)
			len = (5u << 20) + 3; /* bigger than the initial window */
		CHECK_EQ_U(nfm_pcap_writer_write(w, T0 + i, d.d + (i % 97), len, len, &err), 0);
		want_sum += sum_bytes(d.d + (i % 97), len) ^ i;
		total += 16 + len;
		n++;
	}
	CHECK_EQ_U(nfm_pcap_writer_close(w, &err), 0);

	/* mapped, then with read() */
	struct nfm_source *s;
	struct nfm_raw_packet pkt;
	uint64_t got = 0;
	uint32_t sum = 0;
	int rc;
	for (unsigned flags = 0; flags <= NFM_SOURCE_NO_MMAP; flags += NFM_SOURCE_NO_MMAP) {
		CHECK_EQ_U(nfm_source_open_flags(&s, path, flags, &err), 0);
		uint64_t off = 24, bad = 0, progress_bad = 0;
		got = 0;
		sum = 0;
		while ((rc = nfm_source_next(s, &pkt, &err)) > 0) {
			sum += sum_bytes(pkt.data, pkt.cap_len) ^ (uint32_t)got;
			if (pkt.offset != off || pkt.ts_ns != T0 + got)
				bad++;
			off += 16 + pkt.cap_len;
			/* the mapped path reports its parsing position; read() is ahead */
			uint64_t br = nfm_source_bytes_read(s);
			if (flags ? br < off : br != off)
				progress_bad++;
			got++;
		}
		CHECK_EQ_U(rc, 0);
		CHECK_EQ_U(got, n);
		CHECK_EQ_U(bad, 0);
		CHECK_EQ_U(progress_bad, 0);
		CHECK_EQ_U(sum, want_sum);
		CHECK_EQ_U(nfm_source_bytes_read(s), total);
		CHECK_EQ_U(nfm_source_file_size(s), total);
		nfm_source_close(s);
	}

	/* the same through gzip */
	FILE *fp = fopen(path, "rb");
	struct bb raw = { 0 }, gz = { 0 };
	uint8_t chunk[65536];
	size_t r;
	while (fp && (r = fread(chunk, 1, sizeof chunk, fp)) > 0)
		bb_put(&raw, chunk, r);
	CHECK(fp != NULL && fclose(fp) == 0);
	CHECK_EQ_U(raw.n, total);
	gz_append(&gz, raw.d, raw.n);
	const char *gzp = tmp_file(&t, "large.pcap.gz", gz.d, gz.n);
	CHECK_EQ_U(nfm_source_open(&s, gzp, &err), 0);
	got = 0;
	sum = 0;
	while ((rc = nfm_source_next(s, &pkt, &err)) > 0) {
		sum += sum_bytes(pkt.data, pkt.cap_len) ^ (uint32_t)got;
		got++;
	}
	CHECK_EQ_U(rc, 0);
	CHECK_EQ_U(got, n);
	CHECK_EQ_U(sum, want_sum);
	CHECK_EQ_U(nfm_source_compression(s), NFM_COMP_GZIP);
	CHECK_EQ_U(nfm_source_bytes_read(s), gz.n);
	nfm_source_close(s);
	bb_free(&raw);
	bb_free(&gz);
	bb_free(&d);
	tmp_cleanup(&t);
}

/* ---- tests: pcapng ---- */

NFM_TEST(pcapng_interfaces_and_blocks)
{
	struct tmp t;
	tmp_init(&t);
	struct bb b = { 0 };
	small_pcapng(&b);
	CHECK_EQ_U(b.n, 500);
	const char *path = tmp_file(&t, "small.pcapng", b.d, b.n);
	struct got g;
	read_path(nfm_t_, path, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.fmt, NFM_CAPFMT_PCAPNG);
	CHECK_EQ_U(g.linktype, 1);
	CHECK_EQ_U(g.n, 4);
	/* EPB on interface 0, 10^-9 s units */
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 123456789);
	CHECK_EQ_U(g.p[0].linktype, 1);
	CHECK_EQ_U(g.p[0].interface_id, 0);
	CHECK_EQ_U(g.p[0].cap_len, 60);
	CHECK_EQ_U(g.p[0].offset, 92);
	CHECK_EQ_U(g.sum[0], sum_payload(60, 1));
	/* EPB on interface 1, 2^-10 s units: 512/1024 s */
	CHECK_EQ_U(g.p[1].ts_ns, T0 + 500000000);
	CHECK_EQ_U(g.p[1].linktype, 0);
	CHECK_EQ_U(g.p[1].interface_id, 1);
	CHECK_EQ_U(g.p[1].offset, 204);
	CHECK_EQ_U(g.sum[1], sum_payload(40, 2));
	/* SPB: interface 0, caplen min(origlen 50, 52 stored), last timestamp */
	CHECK_EQ_U(g.p[2].ts_ns, T0 + 500000000);
	CHECK_EQ_U(g.p[2].cap_len, 50);
	CHECK_EQ_U(g.p[2].wire_len, 50);
	CHECK_EQ_U(g.p[2].linktype, 1);
	CHECK_EQ_U(g.p[2].offset, 276);
	CHECK_EQ_U(g.sum[2], sum_payload(50, 3));
	/* obsolete Packet Block */
	CHECK_EQ_U(g.p[3].ts_ns, T0 + 5);
	CHECK_EQ_U(g.p[3].cap_len, 30);
	CHECK_EQ_U(g.p[3].wire_len, 100);
	CHECK_EQ_U(g.p[3].offset, 360);
	CHECK_EQ_U(g.sum[3], sum_payload(30, 4));
	CHECK_EQ_U(g.st.blocks_skipped, 3);
	CHECK_EQ_U(g.st.bad_interface, 1);
	CHECK_EQ_U(g.st.records, 4);
	CHECK_EQ_U(g.bytes_read, 500);
	bb_free(&b);
	tmp_cleanup(&t);
}

NFM_TEST(pcapng_timestamp_units)
{
	struct bb b = { 0 };
	ng_shb(&b, 0, 1);
	ng_idb(&b, 1, 0, -1, 0);          /* default microseconds */
	ng_idb(&b, 1, 0, 3, 0);           /* milliseconds */
	ng_idb(&b, 1, 0, 12, 0);          /* picoseconds */
	ng_idb(&b, 1, 0, 0x80 | 30, 0);   /* 2^-30 s */
	ng_idb(&b, 1, 0, 6, -100);        /* if_tsoffset -100 s */
	ng_idb(&b, 1, 0, 0, 0);           /* seconds: overflows 64-bit ns */
	ng_idb(&b, 1, 0, 100, 0);         /* 10^-100 s */
	ng_epb(&b, 0, 1700000000123456ULL, 4, 4, 1);
	ng_epb(&b, 1, 1700000000123ULL, 4, 4, 1);
	ng_epb(&b, 2, 1700000000123456789ULL, 4, 4, 1);
	ng_epb(&b, 3, (1700000000ULL << 30) | (1u << 29), 4, 4, 1);
	ng_epb(&b, 4, 1700000100000001ULL, 4, 4, 1);
	ng_epb(&b, 5, UINT64_MAX, 4, 4, 1);
	ng_epb(&b, 6, UINT64_MAX, 4, 4, 1);
	struct got g;
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 7);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 123456000);
	CHECK_EQ_U(g.p[1].ts_ns, T0 + 123000000);
	CHECK_EQ_U(g.p[2].ts_ns, 1700000000123456ULL); /* picoseconds / 1000 */
	CHECK_EQ_U(g.p[3].ts_ns, T0 + 500000000);
	CHECK_EQ_U(g.p[4].ts_ns, T0 + 1000);
	CHECK_EQ_U(g.p[5].ts_ns, UINT64_MAX);
	CHECK_EQ_U(g.p[6].ts_ns, 0);
	CHECK_EQ_U(g.st.ts_fixed, 1);
	bb_free(&b);
}

NFM_TEST(pcapng_sections_and_byte_orders)
{
	struct bb b = { 0 };
	ng_shb(&b, 1, 1);             /* big-endian section */
	ng_idb(&b, 1, 0, 9, 0);
	ng_idb(&b, 0, 0, 9, 0);
	ng_epb(&b, 1, T0 + 1, 20, 20, 1);
	ng_spb(&b, 8, 8, 2);          /* last ts of this section */
	size_t second = b.n;
	ng_shb(&b, 0, 1);             /* little-endian section: interfaces reset */
	ng_idb(&b, 101, 0, 6, 0);
	ng_spb(&b, 12, 12, 3);        /* no timestamp yet in this section: 0 */
	ng_epb(&b, 1, 1, 20, 20, 4);  /* interface 1 is not defined here */
	ng_epb(&b, 0, 1700000000000001ULL, 20, 20, 5);
	struct got g;
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.linktype, 1);
	CHECK_EQ_U(g.n, 4);
	CHECK_EQ_U(g.p[0].ts_ns, T0 + 1);
	CHECK_EQ_U(g.p[0].linktype, 0);
	CHECK_EQ_U(g.p[0].interface_id, 1);
	CHECK_EQ_U(g.sum[0], sum_payload(20, 1));
	CHECK_EQ_U(g.p[1].ts_ns, T0 + 1);
	CHECK_EQ_U(g.p[1].linktype, 1);
	CHECK_EQ_U(g.p[1].cap_len, 8);
	CHECK_EQ_U(g.p[2].ts_ns, 0);
	CHECK_EQ_U(g.p[2].linktype, 101);
	CHECK_EQ_U(g.p[2].offset, second + 28 + 32);
	CHECK_EQ_U(g.p[3].ts_ns, T0 + 1000);
	CHECK_EQ_U(g.p[3].linktype, 101);
	CHECK_EQ_U(g.sum[3], sum_payload(20, 5));
	CHECK_EQ_U(g.st.bad_interface, 1);
	bb_free(&b);

	/* SPB with no interface at all; snaplen limits an SPB */
	ng_shb(&b, 0, 1);
	ng_spb(&b, 8, 8, 1);
	ng_idb(&b, 1, 16, -1, 0);
	ng_spb(&b, 40, 40, 2);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.p[0].cap_len, 16);
	CHECK_EQ_U(g.p[0].wire_len, 40);
	CHECK_EQ_U(g.st.bad_interface, 1);
	bb_free(&b);
}

NFM_TEST(pcapng_many_interfaces)
{
	struct bb b = { 0 };
	ng_shb(&b, 0, 1);
	for (unsigned i = 0; i < 300; i++)
		ng_idb(&b, i, 0, -1, 0);
	ng_epb(&b, 299, 5, 4, 4, 1);
	ng_epb(&b, 300, 5, 4, 4, 1);
	struct got g;
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.p[0].linktype, 299);
	CHECK_EQ_U(g.p[0].interface_id, 299);
	CHECK_EQ_U(g.linktype, 0);
	CHECK_EQ_U(g.st.bad_interface, 1);
	bb_free(&b);

	/* the interface table has a cap: 65536 per section */
	ng_shb(&b, 0, 1);
	for (unsigned i = 0; i < 65536; i++)
		ng_idb(&b, 1, 0, -1, 0);
	ng_epb(&b, 65535, 5, 4, 4, 1);
	size_t over = b.n;
	ng_idb(&b, 1, 0, -1, 0);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.rc, NFM_ERR_LIMIT);
	CHECK_EQ_U(g.err.offset, over);
	bb_free(&b);
}

NFM_TEST(pcapng_bad_lengths)
{
	struct bb b = { 0 };
	struct got g;
	/* block length not a multiple of 4 */
	ng_shb(&b, 0, 1);
	ng_idb(&b, 1, 0, -1, 0);
	ng_epb(&b, 0, 1, 4, 4, 1);
	size_t bad = b.n;
	ng_epb(&b, 0, 1, 4, 4, 1);
	set32(&b, bad + 4, 38);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.err.offset, bad);
	/* length below 12 */
	set32(&b, bad + 4, 8);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.err.offset, bad);
	/* trailing copy differs */
	set32(&b, bad + 4, 36);
	set32(&b, b.n - 4, 40);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.err.offset, bad);
	/* caplen larger than the block */
	set32(&b, b.n - 4, 36);
	set32(&b, bad + 20, 5);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.err.offset, bad);
	/* block claiming more than 64 MiB */
	set32(&b, bad + 20, 4);
	set32(&b, bad + 4, (64u << 20) + 4);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.err.offset, bad);
	/* block longer than the rest of the file: truncated */
	set32(&b, bad + 4, 4000);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_TRUNCATED);
	CHECK_EQ_U(g.err.offset, bad);
	CHECK_EQ_U(g.n, 1);
	/* EPB too short for its fixed fields */
	bb_free(&b);
	ng_shb(&b, 0, 1);
	ng_idb(&b, 1, 0, -1, 0);
	bad = b.n;
	ng_raw_block(&b, 6, 12);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.err.offset, bad);
	bb_free(&b);
}

NFM_TEST(pcapng_options_and_headers)
{
	struct bb b = { 0 };
	struct got g;
	/* IDB option whose length runs past the block */
	ng_shb(&b, 0, 1);
	size_t idb_at = b.n;
	ng_idb(&b, 1, 0, 9, 0);
	ng_epb(&b, 0, 1, 4, 4, 1);
	b.d[idb_at + 18] = 0x40; /* if_tsresol length 1 -> 64 */
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.err.offset, idb_at + 16);
	CHECK(g.linktype == -1);
	CHECK_EQ_U(g.n, 0);
	bb_free(&b);

	/* SHB option too long: open fails cleanly */
	size_t at = blk_begin(&b, 0x0a0d0d0a);
	u32(&b, 0x1a2b3c4d);
	u16(&b, 1);
	u16(&b, 0);
	u32(&b, 0xffffffff);
	u32(&b, 0xffffffff);
	u16(&b, 4);
	u16(&b, 0x3030);
	u32(&b, 0);
	blk_end(&b, at);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_CORRUPT);
	CHECK_EQ_U(g.err.offset, 24);
	bb_free(&b);

	/* pcapng 2.0 */
	ng_shb(&b, 1, 2);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_UNSUPPORTED);
	CHECK_STR(g.err.msg, "img: unsupported pcapng version 2.0");
	bb_free(&b);

	/* bad byte-order magic in the first section: not a capture */
	ng_shb(&b, 0, 1);
	b.d[8] = 0x11;
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_FORMAT);
	bb_free(&b);

	/* SHB + IDB, no packets */
	ng_shb(&b, 0, 1);
	ng_idb(&b, 113, 0, -1, 0);
	read_mem(nfm_t_, b.d, b.n, &g);
	CHECK_EQ_U(g.open_rc, 0);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 0);
	CHECK_EQ_U(g.linktype, 113);
	bb_free(&b);
}

NFM_TEST(pcapng_truncation_offsets)
{
	struct tmp t;
	tmp_init(&t);
	struct bb b = { 0 };
	small_pcapng(&b);
	struct got g;
	/* inside the header of the SPB at 276 (two packets before it) */
	const char *p1 = tmp_file(&t, "ng_cut_hdr.pcapng", b.d, 276 + 6);
	read_path(nfm_t_, p1, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_TRUNCATED);
	CHECK_EQ_U(g.n, 2);
	CHECK_EQ_U(g.err.offset, 276);
	char want[400];
	snprintf(want, sizeof want,
		 "%s: truncated capture: record at byte 276 is incomplete (2 packets read)", p1);
	CHECK_STR(g.err.msg, want);
	/* inside the data of the EPB at 204 */
	read_mem(nfm_t_, b.d, 204 + 40, &g);
	CHECK_EQ_U(g.rc, NFM_ERR_TRUNCATED);
	CHECK_EQ_U(g.n, 1);
	CHECK_EQ_U(g.err.offset, 204);
	/* at the end of the NRB: clean */
	read_mem(nfm_t_, b.d, 204, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.n, 1);
	bb_free(&b);
	tmp_cleanup(&t);
}

/* ---- compression, memory, stdin ---- */

static void expect_small_pcap(struct nfm_test_state *nfm_t_, const struct got *g, int comp)
{
	CHECK_EQ_U(g->open_rc, 0);
	CHECK_EQ_U(g->rc, 0);
	if (g->rc)
		fprintf(stderr, "  %s\n", g->err.msg);
	CHECK_EQ_U(g->comp, comp);
	CHECK_EQ_U(g->n, 3);
	CHECK_EQ_U(g->p[0].ts_ns, T0 + 1000);
	CHECK_EQ_U(g->p[1].ts_ns, T0 + SEC + 999999000);
	CHECK_EQ_U(g->p[1].offset, 100);
	CHECK_EQ_U(g->p[1].cap_len, 1514);
	CHECK_EQ_U(g->sum[1], sum_payload(1514, 2));
	CHECK_EQ_U(g->p[2].offset, 1630);
	CHECK_EQ_U(g->p[2].cap_len, 42);
	CHECK_EQ_U(g->p[2].wire_len, 60);
}

NFM_TEST(compressed_streams)
{
	struct tmp t;
	tmp_init(&t);
	struct bb img = { 0 }, ng = { 0 }, gz = { 0 }, gz2 = { 0 }, zs = { 0 }, zs2 = { 0 };
	small_pcap(&img);
	small_pcapng(&ng);
	struct got g;

	gz_append(&gz, img.d, img.n);
	read_path(nfm_t_, tmp_file(&t, "small.pcap.gz", gz.d, gz.n), &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_GZIP);
	CHECK_EQ_U(g.bytes_read, gz.n);
	CHECK_EQ_U(g.file_size, gz.n);
	read_mem(nfm_t_, gz.d, gz.n, &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_GZIP);

	/* two gzip members, split inside a record */
	gz_append(&gz2, img.d, 700);
	gz_append(&gz2, img.d + 700, img.n - 700);
	read_path(nfm_t_, tmp_file(&t, "two_members.pcap.gz", gz2.d, gz2.n), &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_GZIP);

	zstd_append(&zs, img.d, img.n);
	read_path(nfm_t_, tmp_file(&t, "small.pcap.zst", zs.d, zs.n), &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_ZSTD);
	CHECK_EQ_U(g.bytes_read, zs.n);
	read_mem(nfm_t_, zs.d, zs.n, &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_ZSTD);

	/* two zstd frames */
	zstd_append(&zs2, img.d, 10);
	zstd_append(&zs2, img.d + 10, img.n - 10);
	read_mem(nfm_t_, zs2.d, zs2.n, &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_ZSTD);

	/* pcapng inside gzip */
	bb_free(&gz);
	gz_append(&gz, ng.d, ng.n);
	read_mem(nfm_t_, gz.d, gz.n, &g);
	CHECK_EQ_U(g.rc, 0);
	CHECK_EQ_U(g.fmt, NFM_CAPFMT_PCAPNG);
	CHECK_EQ_U(g.n, 4);
	CHECK_EQ_U(g.p[3].offset, 360);

	/* a compressed stream cut short at a record boundary inside the stream */
	bb_free(&gz);
	gz_append(&gz, img.d, img.n);
	read_mem(nfm_t_, gz.d, gz.n - 8, &g); /* the gzip trailer is missing */
	CHECK_EQ_U(g.rc, NFM_ERR_TRUNCATED);
	CHECK_EQ_U(g.n, 3);
	read_mem(nfm_t_, zs.d, zs.n - 3, &g); /* one block: nothing decodes */
	CHECK_EQ_U(g.open_rc, NFM_ERR_TRUNCATED);
	CHECK_STR(g.err.msg, "img: truncated capture: zstd stream ends early at byte 0 (0 packets read)");

	/* corrupt deflate data after the header */
	bb_free(&gz2);
	bb_put(&gz2, gz.d, gz.n);
	for (size_t i = 12; i < gz2.n - 8; i++)
		gz2.d[i] ^= 0x5a;
	read_mem(nfm_t_, gz2.d, gz2.n, &g);
	CHECK(g.open_rc == NFM_ERR_CORRUPT || g.open_rc == NFM_ERR_FORMAT ||
	      g.rc == NFM_ERR_CORRUPT || g.rc == NFM_ERR_TRUNCATED);

	/* gzip of an empty file */
	bb_free(&gz);
	gz_append(&gz, img.d, 0);
	read_mem(nfm_t_, gz.d, gz.n, &g);
	CHECK_EQ_U(g.open_rc, NFM_ERR_FORMAT);
	CHECK_STR(g.err.msg, "img: empty file");

	/* trailing garbage after the last gzip member is ignored */
	bb_free(&gz);
	gz_append(&gz, img.d, img.n);
	bb_put(&gz, "\0\0\0\0", 4);
	read_mem(nfm_t_, gz.d, gz.n, &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_GZIP);

	bb_free(&img);
	bb_free(&ng);
	bb_free(&gz);
	bb_free(&gz2);
	bb_free(&zs);
	bb_free(&zs2);
	tmp_cleanup(&t);
}

NFM_TEST(memory_source)
{
	struct bb img = { 0 };
	small_pcap(&img);
	struct nfm_source *s;
	struct nfm_error err;
	CHECK_EQ_U(nfm_source_open_mem(&s, img.d, img.n, NULL, &err), 0);
	CHECK_EQ_U(nfm_source_file_size(s), img.n);
	CHECK_EQ_U(nfm_source_bytes_read(s), 24);
	struct nfm_raw_packet pkt;
	CHECK_EQ_U(nfm_source_next(s, &pkt, &err), 1);
	CHECK(pkt.data == img.d + 24 + 16); /* lent in place, not copied */
	CHECK_EQ_U(nfm_source_bytes_read(s), 100);
	nfm_source_close(s);
	CHECK_EQ_U(nfm_source_open_mem(&s, img.d, 0, NULL, &err), NFM_ERR_FORMAT);
	CHECK_STR(err.msg, "(memory): empty file");
	CHECK_EQ_U(nfm_source_open_mem(&s, NULL, 0, "x", &err), NFM_ERR_FORMAT);
	nfm_source_close(NULL);
	bb_free(&img);
}

/* A regular file is mapped (packets lent from the mapping, progress at the parsing
 * position); NFM_SOURCE_NO_MMAP, compressed files and standard input use read(). */
NFM_TEST(mapped_and_read_paths)
{
	struct tmp t;
	tmp_init(&t);
	struct bb img = { 0 }, gz = { 0 };
	small_pcap(&img);
	const char *path = tmp_file(&t, "paths.pcap", img.d, img.n);
	struct nfm_source *s;
	struct nfm_error err;
	struct nfm_raw_packet pkt;
	CHECK_EQ_U(nfm_source_open(&s, path, &err), 0);
	CHECK_EQ_U(nfm_source_bytes_read(s), 24);
	CHECK_EQ_U(nfm_source_next(s, &pkt, &err), 1);
	CHECK_EQ_U(nfm_source_bytes_read(s), 100);
	CHECK_EQ_U(nfm_source_file_size(s), img.n);
	CHECK_EQ_U(sum_bytes(pkt.data, pkt.cap_len), sum_payload(60, 1));
	nfm_source_close(s);

	CHECK_EQ_U(nfm_source_open_flags(&s, path, NFM_SOURCE_NO_MMAP, &err), 0);
	CHECK_EQ_U(nfm_source_next(s, &pkt, &err), 1);
	CHECK_EQ_U(nfm_source_bytes_read(s), img.n); /* read() took the whole small file */
	CHECK_EQ_U(sum_bytes(pkt.data, pkt.cap_len), sum_payload(60, 1));
	nfm_source_close(s);

	/* a compressed regular file is not mapped, and nothing was read before sniffing */
	gz_append(&gz, img.d, img.n);
	struct got g;
	read_path(nfm_t_, tmp_file(&t, "paths.pcap.gz", gz.d, gz.n), &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_GZIP);
	CHECK_EQ_U(g.bytes_read, gz.n);
	bb_free(&img);
	bb_free(&gz);
	tmp_cleanup(&t);
}

/* The file shrinks while it is mapped: the window re-checks the size when it slides, so
 * a truncation beyond the current window reads as a truncated capture, exactly like a
 * file that was that short from the start (and not SIGBUS). */
NFM_TEST(mapped_file_shrinks)
{
	struct tmp t;
	tmp_init(&t);
	struct bb img = { 0 };
	pcap_hdr(&img, 0xa1b2c3d4, 2, 4, 0, 1);
	uint32_t i = 0;
	while (img.n < (24u << 20)) {
		pcap_rec(&img, 1700000000 + i, 0, 1000 + i % 500, 1500, i & 0xff);
		i++;
	}
	const size_t cut = (13u << 20) + 7; /* beyond the first window, inside a record */
	const char *path = tmp_file(&t, "shrink.pcap", img.d, img.n);
	const char *ref = tmp_file(&t, "short.pcap", img.d, cut);
	struct got want;
	read_path(nfm_t_, ref, &want);
	CHECK_EQ_U(want.rc, NFM_ERR_TRUNCATED);

	struct nfm_source *s;
	struct nfm_error err;
	struct nfm_raw_packet pkt;
	CHECK_EQ_U(nfm_source_open(&s, path, &err), 0);
	CHECK_EQ_U(nfm_source_next(s, &pkt, &err), 1);
	CHECK(truncate(path, (off_t)cut) == 0);
	uint64_t n = 1;
	int rc;
	while ((rc = nfm_source_next(s, &pkt, &err)) > 0)
		n++;
	CHECK_EQ_U(rc, NFM_ERR_TRUNCATED);
	CHECK_EQ_U(n, want.n);
	CHECK_EQ_U(err.offset, want.err.offset);
	nfm_source_close(s);
	bb_free(&img);
	tmp_cleanup(&t);
}

NFM_TEST(standard_input)
{
	struct tmp t;
	tmp_init(&t);
	struct bb img = { 0 };
	small_pcap(&img);
	const char *full = tmp_file(&t, "stdin.pcap", img.d, img.n);
	const char *cut = tmp_file(&t, "stdin_cut.pcap", img.d, 1000);
	int saved = dup(STDIN_FILENO);
	CHECK(saved >= 0);
	struct got g;

	int fd = open(full, O_RDONLY);
	CHECK(fd >= 0 && dup2(fd, STDIN_FILENO) == STDIN_FILENO);
	close(fd);
	read_path(nfm_t_, "-", &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_NONE);

	fd = open(cut, O_RDONLY);
	CHECK(fd >= 0 && dup2(fd, STDIN_FILENO) == STDIN_FILENO);
	close(fd);
	read_path(nfm_t_, "-", &g);
	CHECK_EQ_U(g.rc, NFM_ERR_TRUNCATED);
	CHECK_STR(g.err.msg, "(stdin): truncated capture: record at byte 100 is incomplete (1 packets read)");

	/* a pipe: no size known */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	CHECK(write(pfd[1], img.d, img.n) == (ssize_t)img.n);
	close(pfd[1]);
	CHECK(dup2(pfd[0], STDIN_FILENO) == STDIN_FILENO);
	close(pfd[0]);
	read_path(nfm_t_, "-", &g);
	expect_small_pcap(nfm_t_, &g, NFM_COMP_NONE);
	CHECK_EQ_U(g.file_size, 0);
	CHECK_EQ_U(g.bytes_read, img.n);

	CHECK(dup2(saved, STDIN_FILENO) == STDIN_FILENO);
	close(saved);
	bb_free(&img);
	tmp_cleanup(&t);
}

/* Every prefix of an image reads without crashing and gives OK, TRUNCATED or FORMAT; a
 * prefix ending at a block boundary is a clean end with the packets before it. */
static void prefixes(struct nfm_test_state *nfm_t_, const struct bb *img, const size_t *bounds,
		     const uint64_t *counts, size_t nbounds)
{
	uint64_t bad = 0;
	for (size_t len = 0; len <= img->n; len++) {
		struct got g;
		read_mem(nfm_t_, img->d, len, &g);
		int rc = g.open_rc ? g.open_rc : g.rc;
		if (rc != 0 && rc != NFM_ERR_TRUNCATED && rc != NFM_ERR_FORMAT) {
			fprintf(stderr, "prefix %zu: %d %s\n", len, rc, g.err.msg);
			bad++;
		}
		for (size_t i = 0; i < nbounds; i++)
			if (len == bounds[i] && (rc != 0 || g.n != counts[i])) {
				fprintf(stderr, "prefix %zu: rc %d, %llu packets\n", len, rc,
					(unsigned long long)g.n);
				bad++;
			}
	}
	CHECK_EQ_U(bad, 0);
}

NFM_TEST(prefix_loop)
{
	struct bb img = { 0 };
	small_pcap(&img);
	static const size_t pcap_bounds[] = { 24, 100, 1630, 1688 };
	static const uint64_t pcap_counts[] = { 0, 1, 2, 3 };
	prefixes(nfm_t_, &img, pcap_bounds, pcap_counts, 4);
	bb_free(&img);
	small_pcapng(&img);
	static const size_t ng_bounds[] = { 28, 92, 204, 344, 424, 500 };
	static const uint64_t ng_counts[] = { 0, 0, 1, 3, 4, 4 };
	prefixes(nfm_t_, &img, ng_bounds, ng_counts, 6);
	bb_free(&img);
}

NFM_TEST_MAIN_BEGIN()
	RUN(pcap_writer_micro);
	RUN(pcap_writer_nano);
	RUN(pcap_byte_orders_and_variants);
	RUN(pcap_fixups);
	RUN(pcap_old_versions_swap_lengths);
	RUN(pcap_header_cases);
	RUN(open_errors);
	RUN(pcap_truncation_offsets);
	RUN(pcap_oversized_record);
	RUN(pcap_large_file_through_fd);
	RUN(mapped_and_read_paths);
	RUN(mapped_file_shrinks);
	RUN(pcapng_interfaces_and_blocks);
	RUN(pcapng_timestamp_units);
	RUN(pcapng_sections_and_byte_orders);
	RUN(pcapng_many_interfaces);
	RUN(pcapng_bad_lengths);
	RUN(pcapng_options_and_headers);
	RUN(pcapng_truncation_offsets);
	RUN(compressed_streams);
	RUN(memory_source);
	RUN(standard_input);
	RUN(prefix_loop);
NFM_TEST_MAIN_END()
