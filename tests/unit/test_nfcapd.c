/* nfcapd files written by the low-level writer (export/nfcapd_file.h) through output
 * sets: known records, random ones over many blocks, empty files, LZ4, the refusals.
 * Each file is read back byte by byte and by nfdump (nfcapd_check.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export/nfcapd_file.h"
#include "nfcapd_check.h"
#include "nfm_frame.h"
#include "nfm_test.h"


/* ---- records ---- */

static void addr4(uint8_t *a, uint32_t v)
{
	memset(a, 0, 16);
	wr32(a, v);
}

static void addr6(uint8_t *a, const char *text)
{
	memset(a, 0, 16);
	(void)!inet_pton(AF_INET6, text, a);
}

/* An IPv4 TCP flow with ToS, an IPv6 UDP one, an ICMP echo, an IPv4 flow through an
 * IPv4 tunnel and one through an IPv6 tunnel. */
static size_t known_records(struct nfm_nf_record *r)
{
	memset(r, 0, 5 * sizeof *r);
	r[0] = (struct nfm_nf_record){ .first_ms = 1491516383915, .last_ms = 1491516399576,
				       .packets = 18, .bytes = 13521, .l3 = NFM_L3_IPV4,
				       .proto = 6, .tcp_flags = 0x1a, .tos = 0x28,
				       .src_port = 61541, .dst_port = 80 };
	addr4(r[0].src, IP4(10, 0, 0, 1));
	addr4(r[0].dst, IP4(81, 218, 72, 15));
	r[1] = (struct nfm_nf_record){ .first_ms = 1147551795526, .last_ms = 1147551797111,
				       .packets = 5000000000ULL, .bytes = 0x123456789abULL,
				       .l3 = NFM_L3_IPV6, .proto = 17, .src_port = 5353,
				       .dst_port = 53 };
	addr6(r[1].src, "2001:618:400::5199:cc70");
	addr6(r[1].dst, "ff02::fb");
	r[2] = (struct nfm_nf_record){ .first_ms = 1277840495135, .last_ms = 1277840495135,
				       .packets = 1, .bytes = 100, .l3 = NFM_L3_IPV4, .proto = 1,
				       .icmp_type = 3, .icmp_code = 13, .dst_port = 3 << 8 | 13 };
	addr4(r[2].src, IP4(192, 168, 1, 1));
	addr4(r[2].dst, IP4(255, 255, 255, 255));
	r[3] = (struct nfm_nf_record){ .first_ms = 1600000000001, .last_ms = 1600000000999,
				       .packets = 3, .bytes = 180, .l3 = NFM_L3_IPV4, .proto = 17,
				       .src_port = 1, .dst_port = 65535, .tun_l3 = NFM_L3_IPV4,
				       .tun_proto = 4 };
	addr4(r[3].src, IP4(10, 10, 10, 1));
	addr4(r[3].dst, IP4(192, 168, 0, 1));
	addr4(r[3].tun_src, IP4(172, 16, 0, 1));
	addr4(r[3].tun_dst, IP4(172, 16, 0, 2));
	r[4] = r[3];
	r[4].proto = 47;
	r[4].src_port = r[4].dst_port = 0;
	r[4].tun_l3 = NFM_L3_IPV6;
	r[4].tun_proto = 41;
	addr6(r[4].tun_src, "344a:ba94:152a:ac34::2a");
	addr6(r[4].tun_dst, "22e0:1685:eda7:38cc:58bd:f3f1:aa3f:22d8");
	return 5;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* n varied records: both address families, tunnels or not, every protocol class. */
static struct nfm_nf_record *random_records(size_t n, uint64_t seed)
{
	static const uint8_t protos[] = { 6, 17, 1, 58, 47, 132 };
	struct nfm_nf_record *r = calloc(n, sizeof *r);
	for (size_t i = 0; r && i < n; i++) {
		uint64_t x = rnd(&seed);
		r[i].first_ms = 1400000000000ULL + rnd(&seed) % 400000000000ULL;
		r[i].last_ms = r[i].first_ms + rnd(&seed) % 86400000u;
		r[i].packets = 1 + rnd(&seed) % (x & 1 ? 10 : 1ULL << 40);
		r[i].bytes = r[i].packets * (20 + rnd(&seed) % 1480);
		r[i].l3 = x & 2 ? NFM_L3_IPV6 : NFM_L3_IPV4;
		r[i].proto = protos[(x >> 8) % sizeof protos];
		r[i].tos = (uint8_t)(x >> 16);
		if (r[i].proto == 1 || r[i].proto == 58) {
			r[i].icmp_type = (uint8_t)(x >> 24);
			r[i].icmp_code = (uint8_t)(x >> 32);
			r[i].dst_port = (uint16_t)(r[i].icmp_type << 8 | r[i].icmp_code);
		} else {
			r[i].src_port = (uint16_t)(x >> 24);
			r[i].dst_port = (uint16_t)(x >> 40);
			r[i].tcp_flags = r[i].proto == 6 ? (uint8_t)(x >> 56) : 0;
		}
		uint64_t a = rnd(&seed), b = rnd(&seed);
		memcpy(r[i].src, &a, 8);
		memcpy(r[i].src + 8, &b, 8);
		memcpy(r[i].dst, &b, 8);
		memcpy(r[i].dst + 8, &a, 8);
		if ((x >> 4) % 5 == 0) {
			r[i].tun_l3 = x & 0x20 ? NFM_L3_IPV6 : NFM_L3_IPV4;
			r[i].tun_proto = x & 0x40 ? 47 : 4;
			memcpy(r[i].tun_src, &b, 8);
			memcpy(r[i].tun_dst + 8, &a, 8);
		}
	}
	return r;
}

/* Writes recs to path through an output set (one or two records per call, as rows).
 * With counts: completes the file before closing it and fills counts then (final). */
static int write_file(const char *path, const struct nfm_nf_record *recs, size_t n,
		      const struct nfm_nfcapd_opts *o, struct nfm_export_counts *counts,
		      struct nfm_error *err)
{
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_nfcapd_file *f;
	int rc = nfm_nfcapd_file_open(&f, set, path, o, err);
	if (rc) {
		nfm_outset_free(set);
		return rc;
	}
	uint8_t row[2 * NFM_NFCAPD_RECORD_MAX];
	for (size_t i = 0; rc == 0 && i < n;) {
		size_t len = nfm_nfcapd_encode(&recs[i++], row);
		if (i % 3 == 0 && i < n)
			len += nfm_nfcapd_encode(&recs[i++], row + len);
		rc = nfm_nfcapd_file_add(f, row, len, err);
	}
	if (rc == 0 && counts) {
		rc = nfm_nfcapd_file_complete(f, err);
		nfm_nfcapd_file_counts(f, counts);
		/* complete: nothing more goes in */
		size_t len = nfm_nfcapd_encode(&(struct nfm_nf_record){ .l3 = NFM_L3_IPV4 }, row);
		struct nfm_error e2;
		if (rc == 0 && (nfm_nfcapd_file_complete(f, err) != 0 ||
				nfm_nfcapd_file_add(f, row, 0, err) != 0 ||
				nfm_nfcapd_file_add(f, row, len, &e2) != NFM_ERR_INVALID))
			rc = nfm_error_set(err, NFM_ERR_INVALID, "%s: added to after complete", path);
	}
	if (rc == 0)
		rc = nfm_nfcapd_file_close(f, err);
	else
		nfm_nfcapd_file_abort(f);
	if (rc == 0)
		rc = nfm_outset_commit(set, err);
	nfm_outset_free(set);
	return rc;
}

/* ---- the writer ---- */

NFM_TEST(record_bytes)
{
	struct nfm_nf_record r[5];
	size_t n = known_records(r);
	static const size_t sizes[5] = { 76, 100, 76, 92, 120 }; /* nfpcapd's: 76, 100, 120 */
	uint8_t b[5 * NFM_NFCAPD_RECORD_MAX];
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = nfm_nfcapd_encode(&r[i], b + at), o = at;
		CHECK_EQ_U(len, sizes[i]);
		CHECK(record_matches(b, sizeof b, &o, &r[i]));
		at += len;
	}
	const uint16_t one = 1;
	if (*(const uint8_t *)&one != 1) {
		printf("skip: not a little-endian host: literal bytes not compared\n");
		return;
	}
	/* spelled out: 2001:618:400:: and ::5199:cc70 as two little-endian halves, and the
	 * ICMP type 3 code 13 as the destination port 0x030d */
	static const uint8_t v6[16] = { 0, 0, 0, 4, 0x18, 6, 1, 0x20,
					0x70, 0xcc, 0x99, 0x51, 0, 0, 0, 0 };
	CHECK(memcmp(b + 76 + 64 + 4, v6, 16) == 0);
	CHECK(b[176 + 16 + 42] == 0x0d && b[176 + 16 + 43] == 0x03);
	static const uint8_t v4hdr[16] = { 0x0b, 0, 76, 0, 2, 0, 0x11, 1, 0, 0, 0, 0x41,
					   1, 0, 52, 0 };
	CHECK(memcmp(b, v4hdr, 16) == 0);
}

NFM_TEST(known_records_plain_and_lz4)
{
	char dir[512], path[600];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	struct nfm_nf_record r[5];
	size_t n = known_records(r);
	bool nfdump = have_nfdump("known records");
	for (int lz4 = 0; lz4 <= 1; lz4++) {
		const char *ident = lz4 ? "test ident" : "none";
		struct nfm_nfcapd_opts o = { .ident = lz4 ? ident : NULL, .lz4 = lz4 };
		snprintf(path, sizeof path, "%s/nfcapd.known%s", dir, lz4 ? "-lz4" : "");
		struct nfm_error err;
		nfm_error_clear(&err);
		struct nfm_export_counts c = { 0 };
		CHECK(write_file(path, r, n, &o, lz4 ? &c : NULL, &err) == 0);
		struct parsed p;
		CHECK(check_file(path, r, n, lz4, ident, NFM_NFCAPD_BLOCK_DEFAULT, &p));
		CHECK_EQ_U(p.blocks, 1);
		struct stat sb;
		CHECK(stat(path, &sb) == 0);
		if (!lz4) /* header, one block of the records, the appendix with "none" */
			CHECK_EQ_U(sb.st_size, 40 + 12 + 464 + 12 + 9 + 148);
		else /* the counts after complete: the whole file */
			CHECK(c.records == n && c.messages == 1 && c.bytes == (uint64_t)sb.st_size);
		if (nfdump)
			CHECK(nfdump_agrees(path, r, n, ident, p.blocks));
	}
	rm_tree(dir);
}

NFM_TEST(empty_file)
{
	char dir[512], path[600];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	bool nfdump = have_nfdump("empty files");
	for (int lz4 = 0; lz4 <= 1; lz4++) {
		struct nfm_nfcapd_opts o = { .lz4 = lz4 };
		snprintf(path, sizeof path, "%s/nfcapd.empty%s", dir, lz4 ? "-lz4" : "");
		struct nfm_error err;
		nfm_error_clear(&err);
		struct nfm_export_counts c = { 0 };
		CHECK(write_file(path, NULL, 0, &o, &c, &err) == 0);
		CHECK(c.records == 0 && c.messages == 0);
		struct parsed p;
		CHECK(check_file(path, NULL, 0, lz4, "none", NFM_NFCAPD_BLOCK_DEFAULT, &p));
		CHECK(p.blocks == 0 && p.num_blocks == 0 && p.appendix_at == 40 && p.created == 0);
		struct stat sb;
		if (!lz4) /* as nfpcapd's empty slices: 209 bytes */
			CHECK(stat(path, &sb) == 0 && sb.st_size == 209);
		if (nfdump)
			CHECK(nfdump_agrees(path, NULL, 0, "none", 0));
	}
	rm_tree(dir);
}

NFM_TEST(many_records_many_blocks)
{
	char dir[512], path[600];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	bool nfdump = have_nfdump("many records");
	/* 1 MiB blocks (three of them), then LZ4 blocks of 4 KiB */
	static const struct { size_t n; bool lz4; uint32_t block; size_t min_blocks; } runs[] = {
		{ 30000, false, 0, 3 }, { 3000, true, 4096, 60 }, { 3000, false, 256, 1000 },
	};
	for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
		struct nfm_nf_record *r = random_records(runs[k].n, 0x9e3779b97f4a7c15ULL + k);
		CHECK(r != NULL);
		if (!r)
			continue;
		struct nfm_nfcapd_opts o = { .lz4 = runs[k].lz4, .block_bytes = runs[k].block };
		snprintf(path, sizeof path, "%s/nfcapd.many%zu", dir, k);
		struct nfm_error err;
		nfm_error_clear(&err);
		struct nfm_export_counts c = { 0 };
		CHECK(write_file(path, r, runs[k].n, &o, k == 1 ? &c : NULL, &err) == 0);
		struct parsed p;
		CHECK(check_file(path, r, runs[k].n, runs[k].lz4, "none",
				 runs[k].block ? runs[k].block : NFM_NFCAPD_BLOCK_DEFAULT, &p));
		CHECK(p.blocks >= runs[k].min_blocks);
		struct stat sb;
		if (k == 1)
			CHECK(stat(path, &sb) == 0 && c.records == runs[k].n &&
			      c.messages == p.blocks && c.bytes == (uint64_t)sb.st_size);
		if (nfdump)
			CHECK(nfdump_agrees(path, r, runs[k].n, "none", p.blocks));
		free(r);
	}
	rm_tree(dir);
}

NFM_TEST(refusals_and_abort)
{
	char dir[512], path[600];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	snprintf(path, sizeof path, "%s/nfcapd.x", dir);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_nfcapd_file *f = NULL;
	struct nfm_error err;
	char ident[NFM_NFCAPD_IDENT_MAX + 2];
	memset(ident, 'i', sizeof ident - 1);
	ident[sizeof ident - 1] = '\0';
	struct nfm_nfcapd_opts o = { .ident = ident };
	CHECK(nfm_nfcapd_file_open(&f, set, path, &o, &err) == NFM_ERR_INVALID && !f);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "ident"));
	o = (struct nfm_nfcapd_opts){ .block_bytes = NFM_NFCAPD_BLOCK_MIN - 1 };
	CHECK(nfm_nfcapd_file_open(&f, set, path, &o, &err) == NFM_ERR_INVALID && !f);
	o = (struct nfm_nfcapd_opts){ .block_bytes = NFM_NFCAPD_BLOCK_MAX + 1 };
	CHECK(nfm_nfcapd_file_open(&f, set, path, &o, &err) == NFM_ERR_INVALID && !f);
	CHECK(nfm_nfcapd_file_open(&f, set, "/dev/null", NULL, &err) == NFM_ERR_INVALID && !f);
	CHECK(strstr(err.msg, "/dev/null") && strstr(err.msg, "regular file"));
	char missing[700];
	snprintf(missing, sizeof missing, "%s/no/nfcapd.x", dir);
	CHECK(nfm_nfcapd_file_open(&f, set, missing, NULL, &err) == NFM_ERR_IO && !f);
	CHECK(strstr(err.msg, missing) != NULL);
	nfm_outset_free(set);

	/* not a record; then the file is dropped: nothing is left */
	set = nfm_outset_new(NULL, NULL);
	CHECK(nfm_nfcapd_file_open(&f, set, path, NULL, &err) == 0);
	struct nfm_nf_record r[5];
	known_records(r);
	uint8_t b[NFM_NFCAPD_RECORD_MAX];
	size_t len = nfm_nfcapd_encode(&r[0], b);
	CHECK(nfm_nfcapd_file_add(f, b, len, &err) == 0);
	CHECK(nfm_nfcapd_file_add(f, b, len - 1, &err) == NFM_ERR_INVALID);
	CHECK(strstr(err.msg, path) != NULL);
	b[0] = 7;
	CHECK(nfm_nfcapd_file_add(f, b, len, &err) == NFM_ERR_INVALID);
	struct nfm_export_counts c;
	nfm_nfcapd_file_counts(f, &c);
	CHECK(c.records == 1 && c.messages == 0 && c.bytes == 40);
	nfm_nfcapd_file_abort(f);
	nfm_outset_free(set);
	CHECK_EQ_U(count_entries(dir), 0);

	/* the longest ident nfdump reads */
	ident[NFM_NFCAPD_IDENT_MAX] = '\0';
	o = (struct nfm_nfcapd_opts){ .ident = ident };
	CHECK(write_file(path, r, 1, &o, NULL, &err) == 0);
	struct parsed p;
	CHECK(check_file(path, r, 1, false, ident, NFM_NFCAPD_BLOCK_DEFAULT, &p));
	if (have_nfdump("the longest ident"))
		CHECK(nfdump_agrees(path, r, 1, ident, 1));
	rm_tree(dir);
}

NFM_TEST_MAIN_BEGIN()
	setenv("TZ", "UTC", 1);
	RUN(record_bytes);
	RUN(known_records_plain_and_lz4);
	RUN(empty_file);
	RUN(many_records_many_blocks);
	RUN(refusals_and_abort);
NFM_TEST_MAIN_END()
