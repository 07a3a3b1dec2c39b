/* libFuzzer target for the capture readers: opens the input as a capture held in memory
 * (pcap, pcapng, gzip or zstd compressed) and reads every packet, touching every lent
 * byte so AddressSanitizer sees any read past a record. Some inputs that are not
 * compressed are also read after gzip and after zstd compression: the packets and the
 * final result must be the same (the decompressing stream refills at other places).
 * Every input is also read as a file of one of the registered formats (the formats
 * table of src/capture/stream_source.c, through nfm_format_at): its first byte picks
 * which, and that format's magic replaces it. So every format in the table is fuzzed,
 * one added later too, without waiting for the fuzzer to find its magic.
 * Build: make build-fuzz/fuzz_source (clang -fsanitize=fuzzer,address,undefined). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "capture/source.h"
#include "capture/source_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	int rc;
	uint64_t n, hash, err_off;
};

static int known_code(int rc)
{
	return rc == 0 || rc == NFM_ERR_NOMEM || rc == NFM_ERR_FORMAT || rc == NFM_ERR_TRUNCATED ||
	       rc == NFM_ERR_UNSUPPORTED || rc == NFM_ERR_CORRUPT || rc == NFM_ERR_LIMIT;
}

static void run(const uint8_t *data, size_t size, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	struct nfm_source *s;
	struct nfm_error err;
	nfm_error_clear(&err);
	o->rc = nfm_source_open_mem(&s, data, size, "fuzz", &err);
	if (o->rc) {
		if (!known_code(o->rc) || !err.msg[0])
			abort();
		o->err_off = err.has_offset ? err.offset : UINT64_MAX;
		return;
	}
	struct nfm_raw_packet pkt;
	int rc;
	while ((rc = nfm_source_next(s, &pkt, &err)) > 0) {
		o->n++;
		uint64_t h = pkt.ts_ns ^ pkt.offset ^ ((uint64_t)pkt.wire_len << 32) ^ pkt.interface_id;
		for (uint32_t i = 0; i < pkt.cap_len; i++)
			h = (h ^ pkt.data[i]) * 1099511628211u;
		o->hash = o->hash * 31 + h;
		if (pkt.wire_len < pkt.cap_len || pkt.linktype < 0 || pkt.linktype > 0xffff)
			abort();
	}
	o->rc = rc;
	o->err_off = rc && err.has_offset ? err.offset : UINT64_MAX;
	if (!known_code(rc) || (rc < 0 && !err.msg[0]))
		abort();
	if (nfm_source_stats(s)->records != o->n)
		abort();
	/* Reading past the end or an error repeats the same result. */
	if (nfm_source_next(s, &pkt, &err) != rc)
		abort();
	nfm_source_close(s);
}

static uint8_t *gzip(const uint8_t *in, size_t n, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t bound = deflateBound(&z, (uLong)n) + 32;
	uint8_t *out = malloc(bound);
	if (out) {
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)bound;
		if (deflate(&z, Z_FINISH) != Z_STREAM_END)
			abort();
		*out_len = bound - z.avail_out;
	}
	deflateEnd(&z);
	return out;
}

static void same(const struct outcome *a, const struct outcome *b)
{
	/* The compressed copy is complete, so nothing may differ, not even error offsets. */
	if (a->rc != b->rc || a->n != b->n || a->hash != b->hash || a->err_off != b->err_off)
		abort();
}

/* The input after its first byte, behind the magic of the format that byte picks. */
static void run_as_format(const uint8_t *data, size_t size)
{
	size_t n = 0;
	while (nfm_format_at(n))
		n++;
	if (size == 0 || n == 0)
		return;
	const struct nfm_format_ops *f = nfm_format_at(data[0] % n);
	uint8_t *buf = malloc(f->magic_len + size - 1);
	if (!buf)
		return;
	memcpy(buf, f->magic, f->magic_len);
	memcpy(buf + f->magic_len, data + 1, size - 1);
	size_t len = f->magic_len + size - 1;
	/* The magic is the format's whatever follows it (the probe sees at most
	 * NFM_FORMAT_PROBE_LEN bytes). */
	if (!f->probe(buf, len < NFM_FORMAT_PROBE_LEN ? len : NFM_FORMAT_PROBE_LEN))
		abort();
	struct outcome o;
	run(buf, len, &o);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome plain, packed;
	run(data, size, &plain);
	run_as_format(data, size);
	int compressed = (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) ||
			 (size >= 4 && data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f &&
			  data[3] == 0xfd);
	/* Compressing costs ~1 ms (mostly zlib/zstd set-up): do it for about one input in
	 * eight, chosen by a hash of the bytes so that mutations move inputs in and out. */
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	if (compressed || size > (1u << 20) || (h >> 29) != 0)
		return 0;

	size_t n = 0;
	uint8_t *gz = gzip(data, size, &n);
	if (gz) {
		run(gz, n, &packed);
		same(&plain, &packed);
		free(gz);
	}
	size_t bound = ZSTD_compressBound(size);
	uint8_t *zs = malloc(bound);
	if (zs) {
		size_t r = ZSTD_compress(zs, bound, data, size, 1);
		if (ZSTD_isError(r))
			abort();
		run(zs, r, &packed);
		same(&plain, &packed);
		free(zs);
	}
	return 0;
}
