/* Reads every capture of the shared corpus ($NFM_SHARED/pcaps, listed in MANIFEST.tsv) and
 * compares the number of packets with tshark's count in the manifest. Each file is one
 * test. Every file is read four ways: from its path (mapped), from its path with read(2),
 * from memory, and gzip-compressed in memory; all must agree. Damaged files must end in a clean error or EOF. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "capture/source.h"
#include "capture/source_int.h"
#include "nfm_test.h"

/* Files whose packet count or result legitimately differs from a clean read with tshark's
 * frame count. */
struct expect {
	const char *file;
	long long packets; /* -1: the manifest's count */
	int rc;            /* result of open, or of the last nfm_source_next */
	const char *why;
};

static const struct expect expected[] = {
	/* tshark 4.0 shows non-packet blocks (NRB, ISB, custom, ...) as frames of their own;
	 * capinfos counts only packets, as we do (capinfos_packets column). */
	{ "pcapng/test102_all_blocks.pcapng", 5, 0, "tshark counts non-packet blocks" },
	{ "pcapng/test202_multi_shb_mixed_endian.pcapng", 8, 0, "tshark counts non-packet blocks" },
	/* Solaris snoop is a different format that Wireshark reads; we read pcap and pcapng. */
	{ "corrupt/solaris.snoop", 0, NFM_ERR_FORMAT, "not pcap/pcapng" },
	/* Damaged files: the packets before the damage, then a clean error. */
	{ "corrupt/fuzz-2021-10-13.pcap", -1, NFM_ERR_TRUNCATED, "cut inside the second record" },
	{ "corrupt/derived_three_http_streams_cut_mid_record.pcap", -1, NFM_ERR_TRUNCATED, "cut" },
	{ "corrupt/derived_three_http_streams_cut_in_record_header.pcap", -1, NFM_ERR_TRUNCATED,
	  "cut" },
	{ "corrupt/derived_ipv6_cut_mid_block.pcapng", -1, NFM_ERR_TRUNCATED, "cut" },
	/* The SHB's declared length does not match its trailing copy (its option also runs
	 * past the block): corrupt from the first block. */
	{ "corrupt/shb-option-too-long.pcapng", -1, NFM_ERR_CORRUPT, "bad section header" },
	{ "corrupt/pcapng-invalid-vers-1.pcapng", -1, NFM_ERR_UNSUPPORTED, "pcapng version 0.1" },
	{ "corrupt/pcap-invalid-version-1.pcap", -1, NFM_ERR_UNSUPPORTED, "pcap version 1.4" },
	/* Reserved linktype bits set: Wireshark refuses it; we read the low 16 bits (the file
	 * has a header only, so both give 0 packets). */
	{ "corrupt/linktype-reserved-field-not-zero.pcap", -1, 0, "reserved bits ignored" },
};

struct result {
	int rc; /* open error, or the last next result */
	uint64_t n;
	uint64_t ts_sum; /* to compare the three reads */
	char msg[512];
};

static void drain(struct nfm_source *s, struct result *r)
{
	struct nfm_raw_packet pkt;
	struct nfm_error err;
	nfm_error_clear(&err);
	while ((r->rc = nfm_source_next(s, &pkt, &err)) > 0) {
		r->n++;
		r->ts_sum += pkt.ts_ns ^ pkt.cap_len ^ ((uint64_t)pkt.wire_len << 32) ^ pkt.offset;
	}
	snprintf(r->msg, sizeof r->msg, "%s", r->rc ? err.msg : "");
	nfm_source_close(s);
}

static void read_path(const char *path, unsigned flags, struct result *r)
{
	memset(r, 0, sizeof *r);
	struct nfm_source *s;
	struct nfm_error err;
	nfm_error_clear(&err);
	r->rc = nfm_source_open_flags(&s, path, flags, &err);
	if (r->rc) {
		snprintf(r->msg, sizeof r->msg, "%s", err.msg);
		return;
	}
	drain(s, r);
}

static void read_mem(const uint8_t *d, size_t n, struct result *r)
{
	memset(r, 0, sizeof *r);
	struct nfm_source *s;
	struct nfm_error err;
	nfm_error_clear(&err);
	r->rc = nfm_source_open_mem(&s, d, n, "mem", &err);
	if (r->rc) {
		snprintf(r->msg, sizeof r->msg, "%s", err.msg);
		return;
	}
	drain(s, r);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	uint8_t *d = malloc(cap);
	size_t r;
	while (d && (r = fread(d + n, 1, cap - n, fp)) > 0) {
		n += r;
		if (n == cap) {
			uint8_t *nd = realloc(d, cap * 2);
			if (!nd) {
				free(d);
				d = NULL;
				break;
			}
			d = nd;
			cap *= 2;
		}
	}
	if (fclose(fp) != 0) {
		free(d);
		return NULL;
	}
	*len = n;
	return d;
}

static uint8_t *gzip_mem(const uint8_t *in, size_t n, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t bound = deflateBound(&z, (uLong)n) + 64;
	uint8_t *out = malloc(bound);
	if (out) {
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)bound;
		if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
			free(out);
			out = NULL;
		}
		*out_len = bound - z.avail_out;
	}
	deflateEnd(&z);
	return out;
}

static int clean_code(int rc)
{
	return rc == 0 || rc == NFM_ERR_TRUNCATED || rc == NFM_ERR_CORRUPT ||
	       rc == NFM_ERR_FORMAT || rc == NFM_ERR_UNSUPPORTED;
}

/* One manifest row. */
static void check_file(struct nfm_test_state *nfm_t_, const char *root, const char *file,
		       long long manifest_packets, int damaged)
{
	const struct expect *ex = NULL;
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
		if (strcmp(expected[i].file, file) == 0)
			ex = &expected[i];
	long long want = ex && ex->packets >= 0 ? ex->packets : manifest_packets;

	char path[4096];
	snprintf(path, sizeof path, "%s/%s", root, file);
	struct result r;
	read_path(path, 0, &r);
	if (want >= 0 && (long long)r.n != want) {
		printf("mismatch %s: read %llu packets, manifest %lld%s (%s)\n", file,
		       (unsigned long long)r.n, manifest_packets, ex ? " (allow-listed count differs)" : "",
		       r.msg);
		nfm_t_->cur_failed++;
	}
	if (ex) {
		if (r.rc != ex->rc) {
			printf("mismatch %s: result %d, expected %d (%s)\n", file, r.rc, ex->rc, r.msg);
			nfm_t_->cur_failed++;
		}
	} else if (damaged || strncmp(file, "corrupt/", 8) == 0) {
		CHECK(clean_code(r.rc));
	} else if (r.rc != 0) {
		printf("mismatch %s: %s\n", file, r.msg);
		nfm_t_->cur_failed++;
	}

	/* The same file through read(), the same bytes from memory, and gzip-compressed,
	 * must give the same packets (and the file the same messages). */
	struct result m;
	read_path(path, NFM_SOURCE_NO_MMAP, &m);
	CHECK_EQ_U(m.rc, r.rc);
	CHECK_EQ_U(m.n, r.n);
	CHECK_EQ_U(m.ts_sum, r.ts_sum);
	CHECK_STR(m.msg, r.msg);
	size_t len = 0, gz_len = 0;
	uint8_t *d = slurp(path, &len);
	CHECK(d != NULL);
	if (!d)
		return;
	read_mem(d, len, &m);
	CHECK_EQ_U(m.rc, r.rc);
	CHECK_EQ_U(m.n, r.n);
	CHECK_EQ_U(m.ts_sum, r.ts_sum);
	uint8_t *gz = gzip_mem(d, len, &gz_len);
	CHECK(gz != NULL);
	if (gz) {
		read_mem(gz, gz_len, &m);
		CHECK_EQ_U(m.rc, r.rc);
		CHECK_EQ_U(m.n, r.n);
		CHECK_EQ_U(m.ts_sum, r.ts_sum);
		free(gz);
	}
	free(d);
}

/* Splits a tab-separated line in place. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	while (n < max) {
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	char *nl = strpbrk(f[n - 1], "\r\n");
	if (nl)
		*nl = '\0';
	return n;
}

static int column(char **f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i], name) == 0)
			return (int)i;
	return -1;
}

NFM_TEST_MAIN_BEGIN()
	const char *shared = getenv("NFM_SHARED");
	char root[2048], manifest[2100];
	snprintf(root, sizeof root, "%s/pcaps", shared && *shared ? shared : "../shared");
	snprintf(manifest, sizeof manifest, "%s/MANIFEST.tsv", root);
	FILE *fp = fopen(manifest, "r");
	if (!fp) {
		printf("skipped: no capture corpus at %s (set NFM_SHARED)\n", root);
	} else {
		char *line = NULL;
		size_t cap = 0;
		char *f[64];
		int c_file = -1, c_packets = -1, c_notes = -1;
		if (getline(&line, &cap, fp) > 0) {
			size_t n = split_tabs(line, f, 64);
			c_file = column(f, n, "file");
			c_packets = column(f, n, "packets");
			c_notes = column(f, n, "notes");
		}
		if (c_file < 0 || c_packets < 0) {
			printf("FAIL: %s has no file/packets columns\n", manifest);
			st.failed++;
		}
		while (c_file >= 0 && c_packets >= 0 && getline(&line, &cap, fp) > 0) {
			size_t n = split_tabs(line, f, 64);
			if (n <= (size_t)c_file || !*f[c_file])
				continue;
			long long packets = -1;
			if (n > (size_t)c_packets && *f[c_packets]) {
				char *end;
				packets = strtoll(f[c_packets], &end, 10);
				if (*end)
					packets = -1;
			}
			const char *notes = c_notes >= 0 && n > (size_t)c_notes ? f[c_notes] : "";
			int damaged = strstr(notes, "cut short") || strstr(notes, "damaged");
			st.cur = f[c_file];
			st.cur_failed = 0;
			check_file(&st, root, f[c_file], packets, damaged);
			if (st.cur_failed)
				st.failed++;
			else
				st.passed++;
		}
		free(line);
		if (fclose(fp) != 0) {
			printf("FAIL: error reading %s\n", manifest);
			st.failed++;
		}
	}
NFM_TEST_MAIN_END()
