/* The streaming ZIP writer: the exact record layout (local headers, data descriptors,
 * central directory, ZIP64 extra fields and end records, forced on a small archive by
 * lowering the writer's ZIP64 threshold), strictly sequential output, content read back
 * by zlib, Python's zipfile and unzip, determinism, and errors. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "nfm_test.h"
#include "pycheck.h"
#include "util/zip_writer.h"

struct zentry {
	const char *name;
	unsigned char *data;
	size_t len;
};

static uint32_t rd16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const unsigned char *p)
{
	return rd16(p) | rd16(p + 2) << 16;
}

static uint64_t rd64(const unsigned char *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Text, nothing, incompressible bytes, zeros (tiny when deflated), and 100 zeros: the
 * size the ZIP64 tests below take as the limit. */
#define NENT 5
static void make_entries(struct zentry *e)
{
	static const char text[] = "hello, zip\n";
	e[0] = (struct zentry){ "a.txt", malloc(sizeof text - 1), sizeof text - 1 };
	e[1] = (struct zentry){ "empty", malloc(1), 0 };
	e[2] = (struct zentry){ "dir/noise.bin", malloc(300000), 300000 };
	e[3] = (struct zentry){ "zeros", calloc(1, 5000), 5000 };
	e[4] = (struct zentry){ "edge", calloc(1, 100), 100 };
	if (e[0].data)
		memcpy(e[0].data, text, sizeof text - 1);
	uint32_t x = 12345;
	for (size_t i = 0; e[2].data && i < e[2].len; i++) {
		x = x * 1103515245u + 12345u;
		e[2].data[i] = (unsigned char)(x >> 24);
	}
}

static void free_entries(struct zentry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].data);
}

/* Writes the entries to path in uneven pieces; returns 0 or the first error. */
static int write_zip(const char *path, const struct zentry *e, size_t n, uint64_t zip64_from,
		     struct nfm_error *err)
{
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return -1;
	struct nfm_zip *z = NULL;
	struct nfm_zip_options opt = { .level = 1, .zip64_from = zip64_from };
	int rc = nfm_zip_open(&z, fp, path, &opt, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = nfm_zip_begin(z, e[i].name, err);
		for (size_t off = 0, step = 1; rc == 0 && off < e[i].len; off += step, step *= 3) {
			if (step > e[i].len - off)
				step = e[i].len - off;
			rc = nfm_zip_write(z, e[i].data + off, step, err);
		}
		if (rc == 0)
			rc = nfm_zip_end(z, err);
	}
	if (rc == 0)
		rc = nfm_zip_finish(z, err);
	if (rc == 0 && nfm_zip_offset(z) != (uint64_t)ftell(fp))
		rc = -2;
	nfm_zip_free(z);
	if (fclose(fp) != 0 && rc == 0)
		rc = -1;
	return rc;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	unsigned char *buf = NULL;
	if (fseek(fp, 0, SEEK_END) == 0) {
		long n = ftell(fp);
		if (n >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
		    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = n >= 0 ? (size_t)n : 0;
	}
	if (fclose(fp) != 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* Raw-inflates len bytes at p; true when they give exactly want. */
static bool inflates_to(const unsigned char *p, size_t len, const struct zentry *want)
{
	z_stream s;
	memset(&s, 0, sizeof s);
	if (inflateInit2(&s, -15) != Z_OK)
		return false;
	unsigned char *out = malloc(want->len + 1);
	s.next_in = (Bytef *)(uintptr_t)p;
	s.avail_in = (uInt)len;
	s.next_out = out;
	s.avail_out = (uInt)want->len + 1;
	int r = out ? inflate(&s, Z_FINISH) : Z_MEM_ERROR;
	bool ok = r == Z_STREAM_END && s.total_out == want->len && s.avail_in == 0 &&
		  memcmp(out, want->data, want->len) == 0;
	inflateEnd(&s);
	free(out);
	return ok;
}

/* Checks every record of the archive byte by byte against what the writer promises
 * (zip_writer.h), with ZIP64 fields exactly where a value reaches limit. */
static void check_layout(struct nfm_test_state *nfm_t_, const unsigned char *b, size_t len,
			 const struct zentry *e, size_t n, uint64_t limit)
{
	CHECK(len >= 22);
	if (len < 22)
		return;
	/* The end record closes the file (no comment). */
	const unsigned char *end = b + len - 22;
	CHECK_EQ_U(rd32(end), 0x06054b50);
	uint64_t count = rd16(end + 10), cd_size = rd32(end + 12), cd_off = rd32(end + 16);
	CHECK_EQ_U(rd16(end + 4), 0);
	CHECK_EQ_U(rd16(end + 8), rd16(end + 10));
	CHECK_EQ_U(rd16(end + 20), 0);
	const unsigned char *loc = end - 20;
	bool zip64_end = len >= 22 + 20 + 56 && rd32(loc) == 0x07064b50;
	/* With a few entries only the directory's offset or size can call for the ZIP64 end. */
	size_t data_end = 0;
	if (zip64_end) {
		CHECK_EQ_U(rd32(loc + 4), 0);
		CHECK_EQ_U(rd32(loc + 16), 1);
		uint64_t at = rd64(loc + 8);
		CHECK_EQ_U(at, len - 22 - 20 - 56); /* right before the locator */
		const unsigned char *e64 = b + (at < len ? at : 0);
		CHECK_EQ_U(rd32(e64), 0x06064b50);
		CHECK_EQ_U(rd64(e64 + 4), 44);
		CHECK_EQ_U(rd16(e64 + 12), 45);
		CHECK_EQ_U(rd32(e64 + 16), 0);
		CHECK_EQ_U(rd32(e64 + 20), 0);
		CHECK_EQ_U(rd64(e64 + 24), n);
		CHECK_EQ_U(rd64(e64 + 32), n);
		uint64_t size64 = rd64(e64 + 40), off64 = rd64(e64 + 48);
		CHECK_EQ_U(cd_size, size64 >= limit ? 0xFFFFFFFFu : size64);
		CHECK_EQ_U(cd_off, off64 >= limit ? 0xFFFFFFFFu : off64);
		CHECK_EQ_U(count, n);
		cd_size = size64;
		cd_off = off64;
		data_end = (size_t)at;
	} else {
		data_end = len - 22;
	}
	CHECK_EQ_U(zip64_end, cd_off >= limit || cd_size >= limit);
	CHECK_EQ_U(count, n);
	CHECK_EQ_U(cd_off + cd_size, data_end); /* the directory ends where the end records start */
	if (cd_off + cd_size != data_end || count != n)
		return;
	const unsigned char *c = b + cd_off;
	uint64_t next_local = 0; /* entries follow one another from offset 0 */
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ_U(rd32(c), 0x02014b50);
		unsigned nlen = rd16(c + 28), xlen = rd16(c + 30);
		CHECK(nlen == strlen(e[i].name) && memcmp(c + 46, e[i].name, nlen) == 0);
		CHECK_EQ_U(rd16(c + 4), 45);
		CHECK_EQ_U(rd16(c + 8), 0x0008);
		CHECK_EQ_U(rd16(c + 10), 8);
		CHECK_EQ_U(rd16(c + 12), 0);      /* 00:00:00 */
		CHECK_EQ_U(rd16(c + 14), 0x0021); /* 1980-01-01 */
		CHECK_EQ_U(rd32(c + 16), crc32(0, e[i].data, (uInt)e[i].len));
		CHECK_EQ_U(rd16(c + 32), 0);
		uint64_t csize = rd32(c + 20), usize = rd32(c + 24), off = rd32(c + 42);
		/* The ZIP64 extra field: usize, csize, offset, each only when its field is full. */
		const unsigned char *x = c + 46 + nlen, *xe = x + xlen;
		bool big_u = e[i].len >= limit;
		bool big_o = next_local >= limit;
		if (xlen) {
			CHECK_EQ_U(rd16(x), 0x0001);
			CHECK_EQ_U(rd16(x + 2), xlen - 4);
			x += 4;
		}
		if (usize == 0xFFFFFFFFu && x + 8 <= xe) {
			usize = rd64(x);
			x += 8;
		}
		bool big_c = csize == 0xFFFFFFFFu;
		if (big_c && x + 8 <= xe) {
			csize = rd64(x);
			x += 8;
		}
		if (off == 0xFFFFFFFFu && x + 8 <= xe) {
			off = rd64(x);
			x += 8;
		}
		CHECK(x == xe || xlen == 0);
		CHECK_EQ_U(big_c, csize >= limit);
		CHECK_EQ_U(rd32(c + 24) == 0xFFFFFFFFu, big_u);
		CHECK_EQ_U(rd32(c + 42) == 0xFFFFFFFFu, big_o);
		CHECK_EQ_U(xlen, (big_u || big_c || big_o) ? 4 + 8 * (big_u + big_c + big_o) : 0);
		CHECK_EQ_U(rd16(c + 6), xlen ? 45 : 20);
		CHECK_EQ_U(usize, e[i].len);
		CHECK_EQ_U(off, next_local);
		/* The local header, the data, the ZIP64 data descriptor. */
		const unsigned char *l = b + off;
		CHECK_EQ_U(rd32(l), 0x04034b50);
		CHECK_EQ_U(rd16(l + 4), 45);
		CHECK_EQ_U(rd16(l + 6), 0x0008);
		CHECK_EQ_U(rd16(l + 8), 8);
		CHECK_EQ_U(rd16(l + 10), 0);
		CHECK_EQ_U(rd16(l + 12), 0x0021);
		CHECK_EQ_U(rd32(l + 14), 0);
		CHECK_EQ_U(rd32(l + 18), 0);
		CHECK_EQ_U(rd32(l + 22), 0);
		CHECK_EQ_U(rd16(l + 26), nlen);
		CHECK_EQ_U(rd16(l + 28), 0);
		CHECK(memcmp(l + 30, e[i].name, nlen) == 0);
		const unsigned char *data = l + 30 + nlen;
		if ((size_t)(data - b) + csize + 24 > cd_off) {
			CHECK(!"entry runs into the central directory");
			return;
		}
		CHECK(inflates_to(data, (size_t)csize, &e[i]));
		const unsigned char *d = data + csize;
		CHECK_EQ_U(rd32(d), 0x08074b50);
		CHECK_EQ_U(rd32(d + 4), rd32(c + 16));
		CHECK_EQ_U(rd64(d + 8), csize);
		CHECK_EQ_U(rd64(d + 16), usize);
		next_local = (uint64_t)(d + 24 - b);
		c = xe;
	}
	CHECK_EQ_U(next_local, cd_off);
	CHECK((size_t)(c - b) == cd_off + cd_size);
}

static void make_dir(char *out, size_t cap)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, cap, "%s/nfm_zip_XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(out))
		out[0] = '\0';
}

/* xlsx_check.py zip with each entry's "name:size:crc32" of the original content. */
static bool py_zip_check(const char *py, const char *zip, const struct zentry *e, size_t n)
{
	char arg[1024] = "";
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(arg);
		snprintf(arg + used, sizeof arg - used, "'%s:%zu:%lu' ", e[i].name, e[i].len,
			 crc32(0, e[i].data, (uInt)e[i].len));
	}
	return nfm_pycheck(py, "zip", zip, arg);
}

NFM_TEST(test_zip_layout)
{
	char dir[512], path[1024];
	make_dir(dir, sizeof dir);
	CHECK(dir[0]);
	if (!dir[0])
		return;
	struct zentry e[NENT];
	make_entries(e);
	CHECK(e[0].data && e[1].data && e[2].data && e[3].data && e[4].data);
	const char *py = nfm_python(false);
	/* The format's own limit (no ZIP64 record at all), then ZIP64 forced from 100 bytes:
	 * "a.txt" and "empty" need none, "dir/noise.bin" needs all three fields, "zeros"
	 * (5000 bytes deflated to a few) and "edge" (exactly 100) their size and offset, the
	 * directory the ZIP64 end. */
	static const uint64_t limits[] = { 0, 100 };
	size_t lens[2] = { 0, 0 };
	for (size_t k = 0; k < 2; k++) {
		uint64_t limit = limits[k] ? limits[k] : 0xFFFFFFFFu;
		snprintf(path, sizeof path, "%s/t%zu.zip", dir, k);
		struct nfm_error err;
		nfm_error_clear(&err);
		int rc = write_zip(path, e, NENT, limits[k], &err);
		CHECK_EQ_U(rc, 0);
		if (rc)
			fprintf(stderr, "write_zip: %s\n", err.msg);
		size_t len = 0;
		unsigned char *b = read_file(path, &len);
		CHECK(b != NULL);
		if (b)
			check_layout(nfm_t_, b, len, e, NENT, limit);
		lens[k] = len;
		free(b);
		CHECK(py_zip_check(py, path, e, NENT));
	}
	/* ZIP64 adds 3 + 2 + 2 fields of 8 bytes with their three headers, the end record
	 * and its locator. */
	CHECK_EQ_U(lens[1] - lens[0], 7 * 8 + 3 * 4 + 56 + 20);

	/* Equal content, equal bytes. */
	snprintf(path, sizeof path, "%s/again.zip", dir);
	struct nfm_error err;
	CHECK_EQ_U(write_zip(path, e, NENT, 0, &err), 0);
	size_t l1 = 0, l2 = 0;
	unsigned char *b1 = read_file(path, &l1);
	snprintf(path, sizeof path, "%s/t0.zip", dir);
	unsigned char *b2 = read_file(path, &l2);
	CHECK(b1 && b2 && l1 == l2 && memcmp(b1, b2, l1) == 0);
	free(b1);
	free(b2);

	/* No entry at all: just the end record. */
	snprintf(path, sizeof path, "%s/none.zip", dir);
	CHECK_EQ_U(write_zip(path, e, 0, 0, &err), 0);
	size_t l0 = 0;
	unsigned char *b0 = read_file(path, &l0);
	CHECK(b0 && l0 == 22);
	if (b0)
		check_layout(nfm_t_, b0, l0, e, 0, 0xFFFFFFFFu);
	free(b0);
	snprintf(path, sizeof path, "%s/t0.zip", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/t1.zip", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/again.zip", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/none.zip", dir);
	unlink(path);
	CHECK(rmdir(dir) == 0);
	free_entries(e, NENT);
}

NFM_TEST(test_zip_errors)
{
	struct nfm_error err;
	nfm_error_clear(&err);
	/* Misuse is refused, and the refusal sticks. */
	FILE *fp = tmpfile();
	CHECK(fp != NULL);
	if (!fp)
		return;
	struct nfm_zip *z = NULL;
	CHECK(nfm_zip_open(&z, fp, "x.zip", NULL, &err) == 0);
	CHECK(nfm_zip_write(z, "a", 1, &err) == NFM_ERR_INVALID);
	CHECK(strstr(err.msg, "x.zip") != NULL);
	CHECK(nfm_zip_begin(z, "a", &err) == NFM_ERR_INVALID);
	nfm_zip_free(z);
	z = NULL;
	CHECK(nfm_zip_open(&z, fp, "x.zip", NULL, &err) == 0);
	CHECK(nfm_zip_begin(z, "a", &err) == 0);
	CHECK(nfm_zip_begin(z, "b", &err) == NFM_ERR_INVALID);
	nfm_zip_free(z); /* with an entry open: frees all the same */
	z = NULL;
	CHECK(nfm_zip_open(&z, fp, "x.zip", NULL, &err) == 0);
	CHECK(nfm_zip_begin(z, "", &err) == NFM_ERR_INVALID);
	nfm_zip_free(z);
	nfm_zip_free(NULL);
	CHECK(fclose(fp) == 0);

	/* A write error names the archive and why, and every later call repeats it. */
	fp = fopen("/dev/full", "w");
	if (!fp) {
		printf("note: no /dev/full, write errors not checked\n");
		return;
	}
	setvbuf(fp, NULL, _IONBF, 0);
	z = NULL;
	CHECK(nfm_zip_open(&z, fp, "full.zip", NULL, &err) == 0);
	CHECK(nfm_zip_begin(z, "a", &err) == NFM_ERR_IO);
	CHECK(strstr(err.msg, "full.zip: write failed: ") != NULL);
	CHECK(strstr(err.msg, strerror(ENOSPC)) != NULL);
	struct nfm_error again;
	nfm_error_clear(&again);
	CHECK(nfm_zip_write(z, "abc", 3, &again) == NFM_ERR_IO);
	CHECK_STR(again.msg, err.msg);
	nfm_error_clear(&again);
	CHECK(nfm_zip_end(z, &again) == NFM_ERR_IO);
	CHECK(nfm_zip_finish(z, &again) == NFM_ERR_IO);
	CHECK_STR(again.msg, err.msg);
	nfm_zip_free(z);
	CHECK(fclose(fp) == 0); /* unbuffered: nothing left to fail */
}

NFM_TEST_MAIN_BEGIN()
	RUN(test_zip_layout);
	RUN(test_zip_errors);
NFM_TEST_MAIN_END()
