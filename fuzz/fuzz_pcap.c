/* libFuzzer target for the classic pcap reader alone, checked against a small reference
 * parser written here from the format description (src/capture/pcap.c header comment).
 *
 * An input that starts with a pcap magic is read as it is (so real captures work as
 * seeds); any other input becomes the record area of a capture whose 24-byte file header
 * is made from its first 8 bytes: byte 0 picks the magic (both byte orders, micro/nano,
 * the modified 24-byte-record format) and the minor version (2.1/2.2 store caplen and
 * origlen swapped, 2.3 may), bytes 1-4 the snaplen, bytes 5-6 the link type, byte 7 is
 * spare. The reader's packets, anomaly counters, final result and error offset must equal
 * the reference's exactly, and every packet must point inside the input at its record.
 * Build: make fuzz (clang -fsanitize=fuzzer,address,undefined). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORD ((uint64_t)64 << 20) /* NFM_STREAM_MAX_RECORD (src/capture/stream.h) */

static void check(int ok)
{
	if (!ok)
		abort();
}

static uint32_t ld16(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static uint32_t ld32(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void st32(uint8_t *p, uint32_t v, int be)
{
	for (int i = 0; i < 4; i++)
		p[be ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

static void st16(uint8_t *p, uint32_t v, int be)
{
	p[be ? 0 : 1] = (uint8_t)(v >> 8);
	p[be ? 1 : 0] = (uint8_t)v;
}

struct fmt {
	uint32_t magic;
	int be;
	uint32_t frac_max, frac_mul, hdr_len;
};

static const struct fmt fmts[] = {
	{ 0xa1b2c3d4u, 0, 1000000u, 1000u, 16 }, { 0xd4c3b2a1u, 1, 1000000u, 1000u, 16 },
	{ 0xa1b23c4du, 0, 1000000000u, 1u, 16 }, { 0x4d3cb2a1u, 1, 1000000000u, 1u, 16 },
	{ 0xa1b2cd34u, 0, 1000000u, 1000u, 24 }, { 0x34cdb2a1u, 1, 1000000u, 1000u, 24 },
};
#define NFMTS (sizeof fmts / sizeof fmts[0])

/* The expected reading of a whole file, packet by packet. */
struct ref {
	const uint8_t *buf;
	size_t len, pos;
	const struct fmt *f;
	int lens; /* 0 normal, 1 swapped, 2 swapped when caplen > origlen */
	uint32_t snaplen;
	int linktype;
	uint64_t caplen_fixed, ts_fixed, records;
};

/* 1: packet in *p; 0: clean end; < 0: error code with *err_off. */
static int ref_next(struct ref *r, struct nfm_raw_packet *p, uint64_t *err_off)
{
	size_t hl = r->f->hdr_len, left = r->len - r->pos;
	if (left == 0)
		return 0;
	*err_off = r->pos;
	if (left < hl)
		return NFM_ERR_TRUNCATED;
	const uint8_t *h = r->buf + r->pos;
	int be = r->f->be;
	uint32_t caplen = ld32(h + 8, be), origlen = ld32(h + 12, be);
	if (r->lens == 1 || (r->lens == 2 && caplen > origlen)) {
		uint32_t t = caplen;
		caplen = origlen;
		origlen = t;
	}
	if (caplen > left - hl)
		return caplen > MAX_RECORD ? NFM_ERR_CORRUPT : NFM_ERR_TRUNCATED;
	uint64_t sec = ld32(h, be);
	uint32_t frac = ld32(h + 4, be);
	if (frac >= r->f->frac_max) {
		sec += frac / r->f->frac_max;
		frac %= r->f->frac_max;
		r->ts_fixed++;
	}
	if (caplen > origlen || (r->snaplen && caplen > r->snaplen)) {
		if (caplen > origlen)
			origlen = caplen;
		r->caplen_fixed++;
	}
	p->ts_ns = sec * 1000000000u + (uint64_t)frac * r->f->frac_mul;
	p->cap_len = caplen;
	p->wire_len = origlen;
	p->linktype = r->linktype;
	p->offset = r->pos;
	p->data = h + hl;
	r->pos += hl + caplen;
	r->records++;
	return 1;
}

static void run(const uint8_t *buf, size_t len)
{
	/* Reference header parse. */
	struct ref r;
	memset(&r, 0, sizeof r);
	r.buf = buf;
	r.len = len;
	for (size_t i = 0; i < NFMTS && len >= 4; i++)
		if (ld32(buf, 0) == fmts[i].magic)
			r.f = &fmts[i];
	check(r.f != NULL);

	struct nfm_source *s;
	struct nfm_error err;
	nfm_error_clear(&err);
	int rc = nfm_source_open_mem(&s, buf, len, "fuzz", &err);
	if (len < 24) {
		check(rc == NFM_ERR_TRUNCATED && err.msg[0]);
		return;
	}
	int be = r.f->be;
	uint32_t vmaj = ld16(buf + 4, be), vmin = ld16(buf + 6, be);
	if (vmaj != 2) {
		check(rc == NFM_ERR_UNSUPPORTED && err.msg[0]);
		return;
	}
	check(rc == 0);
	r.lens = vmin < 3 ? 1 : vmin == 3 ? 2 : 0;
	r.snaplen = ld32(buf + 16, be);
	r.linktype = (int)(ld32(buf + 20, be) & 0xffffu);
	r.pos = 24;
	check(nfm_source_format(s) == NFM_CAPFMT_PCAP);
	check(nfm_source_linktype(s) == r.linktype);

	struct nfm_raw_packet got, want;
	uint64_t want_off = 0;
	int grc, wrc;
	for (;;) {
		grc = nfm_source_next(s, &got, &err);
		wrc = ref_next(&r, &want, &want_off);
		check(grc == wrc);
		if (grc <= 0)
			break;
		check(got.ts_ns == want.ts_ns && got.cap_len == want.cap_len &&
		      got.wire_len == want.wire_len && got.linktype == want.linktype &&
		      got.offset == want.offset && got.interface_id == 0);
		/* Uncompressed memory is read in place: the packet is the record's bytes. */
		check(got.data == want.data);
		check(got.data >= buf && got.data + got.cap_len <= buf + len);
		volatile uint8_t sink = 0;
		for (uint32_t i = 0; i < got.cap_len; i++)
			sink ^= got.data[i];
		(void)sink;
	}
	if (grc < 0)
		check(err.msg[0] && err.has_offset && err.offset == want_off);
	const struct nfm_source_stats *st = nfm_source_stats(s);
	check(st->records == r.records && st->caplen_fixed == r.caplen_fixed &&
	      st->ts_fixed == r.ts_fixed && st->blocks_skipped == 0 && st->bad_interface == 0);
	/* The end (or the error) is sticky. */
	check(nfm_source_next(s, &got, &err) == grc);
	nfm_source_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4) {
		for (size_t i = 0; i < NFMTS; i++) {
			if (ld32(data, 0) == fmts[i].magic) {
				run(data, size);
				return 0;
			}
		}
	}
	if (size < 8)
		return 0;
	/* Synthesised header + the rest of the input as records, in an exactly sized buffer. */
	size_t len = 24 + size - 8;
	uint8_t *buf = malloc(len);
	if (!buf)
		return 0;
	const struct fmt *f = &fmts[data[0] % NFMTS];
	static const uint32_t minors[4] = { 4, 3, 2, 1 };
	st32(buf, f->magic, f->be);
	st16(buf + 4, 2, f->be);
	st16(buf + 6, minors[(data[0] / NFMTS) & 3], f->be);
	memset(buf + 8, 0, 8);
	memcpy(buf + 16, data + 1, 4); /* snaplen, any byte order: any value */
	st32(buf + 20, ld16(data + 5, 0), f->be);
	memcpy(buf + 24, data + 8, size - 8);
	run(buf, len);
	free(buf);
	return 0;
}
