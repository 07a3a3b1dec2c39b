/* Streaming ZIP writer: see zip_writer.h for the layout and why. */
#include "util/zip_writer.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define ZIP_CHUNK (64 * 1024)   /* deflate output handed to stdio at a time */
#define ZIP_MAX32 0xFFFFFFFFu
#define ZIP_MAX16 0xFFFFu
#define ZIP_V20 20              /* version needed: deflate */
#define ZIP_V45 45              /* version needed: ZIP64 */
#define ZIP_FLAGS 0x0008u       /* bit 3: CRC and sizes in the data descriptor */
#define ZIP_DEFLATE 8
#define ZIP_DOS_TIME 0u         /* 00:00:00 */
#define ZIP_DOS_DATE 0x0021u    /* 1980-01-01 */

#define SIG_LOCAL 0x04034b50u
#define SIG_DESCRIPTOR 0x08074b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define SIG_END 0x06054b50u

struct zip_entry {
	char *name;
	uint32_t crc;
	uint64_t csize, usize, offset;
};

struct nfm_zip {
	FILE *fp;
	const char *name;
	uint64_t limit;          /* values >= limit take the ZIP64 form */
	uint64_t pos;            /* bytes handed to fp */
	z_stream zs;
	bool zs_ready;
	bool in_entry;
	int failed;              /* first error code, 0 while all is well */
	struct nfm_error fail;   /* and its message, repeated by later calls */
	struct zip_entry cur;
	struct zip_entry *entries;
	size_t n, cap;
	unsigned char out[ZIP_CHUNK];
};

static unsigned char *le16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	return p + 2;
}

static unsigned char *le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}

static unsigned char *le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 8;
}

/* Records the first failure and returns it (also to err). */
static int fail(struct nfm_zip *z, struct nfm_error *err, int code, const char *what,
		const char *detail)
{
	if (!z->failed) {
		z->failed = code;
		nfm_error_set(&z->fail, code, "%s: %s%s%s", z->name, what, detail ? ": " : "",
			      detail ? detail : "");
	}
	if (err)
		*err = z->fail;
	return z->failed;
}

static int failed(struct nfm_zip *z, struct nfm_error *err)
{
	if (err)
		*err = z->fail;
	return z->failed;
}

static int put(struct nfm_zip *z, const void *p, size_t len, struct nfm_error *err)
{
	if (len == 0)
		return 0;
	errno = 0;
	if (fwrite(p, 1, len, z->fp) != len) {
		int e = errno ? errno : EIO;
		return fail(z, err, NFM_ERR_IO, "write failed", strerror(e));
	}
	z->pos += len;
	return 0;
}

/* Runs deflate over what zs holds and writes its output; flush is Z_NO_FLUSH or Z_FINISH. */
static int pump(struct nfm_zip *z, int flush, struct nfm_error *err)
{
	int r;
	do {
		z->zs.next_out = z->out;
		z->zs.avail_out = ZIP_CHUNK;
		r = deflate(&z->zs, flush);
		if (r == Z_STREAM_ERROR)
			return fail(z, err, NFM_ERR_IO, "compression failed", NULL);
		size_t have = ZIP_CHUNK - z->zs.avail_out;
		z->cur.csize += have;
		if (put(z, z->out, have, err))
			return z->failed;
	} while (z->zs.avail_out == 0);
	if (flush == Z_FINISH && r != Z_STREAM_END)
		return fail(z, err, NFM_ERR_IO, "compression failed", NULL);
	return 0;
}

int nfm_zip_open(struct nfm_zip **out, FILE *fp, const char *name,
		 const struct nfm_zip_options *opt, struct nfm_error *err)
{
	*out = NULL;
	struct nfm_zip *z = calloc(1, sizeof *z);
	if (!z)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", name);
	z->fp = fp;
	z->name = name;
	int level = opt && opt->level ? opt->level : Z_DEFAULT_COMPRESSION;
	z->limit = opt && opt->zip64_from ? opt->zip64_from : ZIP_MAX32;
	if (z->limit > ZIP_MAX32)
		z->limit = ZIP_MAX32;
	/* Raw deflate (no zlib header), 32 KiB window, zlib's default memory level. */
	int r = deflateInit2(&z->zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	if (r != Z_OK) {
		free(z);
		return nfm_error_set(err, r == Z_MEM_ERROR ? NFM_ERR_NOMEM : NFM_ERR_INVALID,
				     "%s: cannot start compression%s", name,
				     r == Z_MEM_ERROR ? ": out of memory" : "");
	}
	z->zs_ready = true;
	*out = z;
	return 0;
}

int nfm_zip_begin(struct nfm_zip *z, const char *entry_name, struct nfm_error *err)
{
	if (z->failed)
		return failed(z, err);
	size_t nlen = strlen(entry_name);
	if (z->in_entry || nlen == 0 || nlen > ZIP_MAX16)
		return fail(z, err, NFM_ERR_INVALID, "invalid ZIP entry", entry_name);
	if (z->n == z->cap) {
		size_t cap = z->cap ? 2 * z->cap : 16;
		struct zip_entry *e = realloc(z->entries, cap * sizeof *e);
		if (!e)
			return fail(z, err, NFM_ERR_NOMEM, "out of memory", NULL);
		z->entries = e;
		z->cap = cap;
	}
	char *copy = malloc(nlen + 1);
	if (!copy)
		return fail(z, err, NFM_ERR_NOMEM, "out of memory", NULL);
	memcpy(copy, entry_name, nlen + 1);
	z->cur = (struct zip_entry){ .name = copy, .crc = (uint32_t)crc32(0L, Z_NULL, 0),
				     .offset = z->pos };
	z->in_entry = true; /* cur.name is freed with z from here on */
	if (deflateReset(&z->zs) != Z_OK)
		return fail(z, err, NFM_ERR_IO, "compression failed", NULL);
	unsigned char h[30], *p = h;
	p = le32(p, SIG_LOCAL);
	p = le16(p, ZIP_V45);
	p = le16(p, ZIP_FLAGS);
	p = le16(p, ZIP_DEFLATE);
	p = le16(p, ZIP_DOS_TIME);
	p = le16(p, ZIP_DOS_DATE);
	p = le32(p, 0); /* CRC-32, compressed and uncompressed sizes: in the descriptor */
	p = le32(p, 0);
	p = le32(p, 0);
	p = le16(p, (unsigned)nlen);
	le16(p, 0); /* no extra field */
	if (put(z, h, sizeof h, err) || put(z, entry_name, nlen, err))
		return z->failed;
	return 0;
}

int nfm_zip_write(struct nfm_zip *z, const void *data, size_t len, struct nfm_error *err)
{
	if (z->failed)
		return failed(z, err);
	if (!z->in_entry)
		return fail(z, err, NFM_ERR_INVALID, "ZIP data outside an entry", NULL);
	const unsigned char *p = data;
	while (len > 0) {
		uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
		z->cur.crc = (uint32_t)crc32(z->cur.crc, p, chunk);
		z->cur.usize += chunk;
		z->zs.next_in = (Bytef *)(uintptr_t)p; /* zlib does not write through next_in */
		z->zs.avail_in = chunk;
		if (pump(z, Z_NO_FLUSH, err))
			return z->failed;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int nfm_zip_end(struct nfm_zip *z, struct nfm_error *err)
{
	if (z->failed)
		return failed(z, err);
	if (!z->in_entry)
		return fail(z, err, NFM_ERR_INVALID, "no ZIP entry to end", NULL);
	z->zs.next_in = Z_NULL;
	z->zs.avail_in = 0;
	if (pump(z, Z_FINISH, err))
		return z->failed;
	unsigned char d[24], *p = d;
	p = le32(p, SIG_DESCRIPTOR);
	p = le32(p, z->cur.crc);
	p = le64(p, z->cur.csize);
	le64(p, z->cur.usize);
	if (put(z, d, sizeof d, err))
		return z->failed;
	z->entries[z->n++] = z->cur;
	z->cur.name = NULL;
	z->in_entry = false;
	return 0;
}

/* One central directory record. */
static int put_central(struct nfm_zip *z, const struct zip_entry *e, struct nfm_error *err)
{
	unsigned char x[4 + 3 * 8], *q = x + 4;
	bool big_u = e->usize >= z->limit, big_c = e->csize >= z->limit,
	     big_o = e->offset >= z->limit;
	if (big_u)
		q = le64(q, e->usize);
	if (big_c)
		q = le64(q, e->csize);
	if (big_o)
		q = le64(q, e->offset);
	size_t xlen = q > x + 4 ? (size_t)(q - x) : 0;
	le16(x, 0x0001); /* ZIP64 extended information */
	le16(x + 2, (unsigned)(xlen ? xlen - 4 : 0));
	size_t nlen = strlen(e->name);
	unsigned char h[46], *p = h;
	p = le32(p, SIG_CENTRAL);
	p = le16(p, ZIP_V45); /* made by: MS-DOS attributes, spec 4.5 */
	p = le16(p, xlen ? ZIP_V45 : ZIP_V20);
	p = le16(p, ZIP_FLAGS);
	p = le16(p, ZIP_DEFLATE);
	p = le16(p, ZIP_DOS_TIME);
	p = le16(p, ZIP_DOS_DATE);
	p = le32(p, e->crc);
	p = le32(p, big_c ? ZIP_MAX32 : (uint32_t)e->csize);
	p = le32(p, big_u ? ZIP_MAX32 : (uint32_t)e->usize);
	p = le16(p, (unsigned)nlen);
	p = le16(p, (unsigned)xlen);
	p = le16(p, 0); /* comment */
	p = le16(p, 0); /* disk */
	p = le16(p, 0); /* internal attributes */
	p = le32(p, 0); /* external attributes */
	le32(p, big_o ? ZIP_MAX32 : (uint32_t)e->offset);
	if (put(z, h, sizeof h, err) || put(z, e->name, nlen, err) || put(z, x, xlen, err))
		return z->failed;
	return 0;
}

int nfm_zip_finish(struct nfm_zip *z, struct nfm_error *err)
{
	if (z->failed)
		return failed(z, err);
	if (z->in_entry)
		return fail(z, err, NFM_ERR_INVALID, "ZIP entry not ended", z->cur.name);
	uint64_t cd_offset = z->pos;
	for (size_t i = 0; i < z->n; i++)
		if (put_central(z, &z->entries[i], err))
			return z->failed;
	uint64_t cd_size = z->pos - cd_offset;
	uint64_t count = z->n;
	bool big_n = count >= ZIP_MAX16, big_s = cd_size >= z->limit, big_o = cd_offset >= z->limit;
	if (big_n || big_s || big_o) {
		uint64_t end64 = z->pos;
		unsigned char r[56 + 20], *p = r;
		p = le32(p, SIG_END64);
		p = le64(p, 44); /* size of the rest of this record */
		p = le16(p, ZIP_V45);
		p = le16(p, ZIP_V45);
		p = le32(p, 0); /* this disk */
		p = le32(p, 0); /* disk of the central directory */
		p = le64(p, count);
		p = le64(p, count);
		p = le64(p, cd_size);
		p = le64(p, cd_offset);
		p = le32(p, SIG_LOCATOR64);
		p = le32(p, 0); /* disk of the ZIP64 end record */
		p = le64(p, end64);
		le32(p, 1); /* disks in all */
		if (put(z, r, sizeof r, err))
			return z->failed;
	}
	unsigned char e[22], *p = e;
	p = le32(p, SIG_END);
	p = le16(p, 0);
	p = le16(p, 0);
	p = le16(p, big_n ? ZIP_MAX16 : (unsigned)count);
	p = le16(p, big_n ? ZIP_MAX16 : (unsigned)count);
	p = le32(p, big_s ? ZIP_MAX32 : (uint32_t)cd_size);
	p = le32(p, big_o ? ZIP_MAX32 : (uint32_t)cd_offset);
	le16(p, 0); /* comment */
	return put(z, e, sizeof e, err);
}

void nfm_zip_free(struct nfm_zip *z)
{
	if (!z)
		return;
	if (z->zs_ready)
		deflateEnd(&z->zs);
	for (size_t i = 0; i < z->n; i++)
		free(z->entries[i].name);
	free(z->entries);
	free(z->cur.name);
	free(z);
}

uint64_t nfm_zip_offset(const struct nfm_zip *z)
{
	return z ? z->pos : 0;
}
