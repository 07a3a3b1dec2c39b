/* nfcapd files: the bytes of records, blocks, header and appendix as this test reads them
 * (its own offsets, from nfdump 1.7.1's nffileV2.h / nfxV3.h / nfdump.h), and the files
 * read back by nfdump itself when /usr/bin/nfdump is installed: `nfdump -r -o json`
 * must print every record exactly as the test expects it, `nfdump -I` the totals and
 * `nfdump -v` the block and record counts. Files are written through output sets, by
 * the low-level writer and by the exporter driven by the meter and the pipeline. */
#include <arpa/inet.h>
#include <dirent.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export/exporter.h"
#include "export/nfcapd_file.h"
#include "feature/netflow.h"
#include "flow/meter.h"
#include "flow/module.h"
#include "flow/pipeline.h"
#include "nfm_frame.h"
#include "nfm_test.h"

#define NFDUMP "/usr/bin/nfdump"

/* ---- files and directories ---- */

static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			char *nb = realloc(buf, cap ? cap * 2 : 65536);
			if (!nb)
				break;
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	fclose(fp);
	*len = n;
	return buf;
}

static void make_tmpdir(char *out, size_t cap)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, cap, "%s/nfm_nfcapd_XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(out))
		out[0] = '\0';
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	char p[1024];
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	closedir(d);
	rmdir(dir);
}

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

/* Writes recs to path through an output set (one or two records per call, as rows). */
static int write_file(const char *path, const struct nfm_nf_record *recs, size_t n,
		      const struct nfm_nfcapd_opts *o, struct nfm_error *err)
{
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_nfcapd_file *f;
	int rc = nfm_nfcapd_file_open(&f, set, path, o, err);
	uint8_t row[2 * NFM_NFCAPD_RECORD_MAX];
	for (size_t i = 0; rc == 0 && i < n;) {
		size_t len = nfm_nfcapd_encode(&recs[i++], row);
		if (i % 3 == 0 && i < n)
			len += nfm_nfcapd_encode(&recs[i++], row + len);
		rc = nfm_nfcapd_file_add(f, row, len, err);
		if (rc)
			nfm_nfcapd_file_abort(f);
	}
	if (rc == 0)
		rc = nfm_nfcapd_file_close(f, err);
	if (rc == 0)
		rc = nfm_outset_commit(set, err);
	nfm_outset_free(set);
	return rc;
}

/* ---- reading a file back, byte by byte ---- */

static uint16_t g16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t g32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t g64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t be32(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

struct parsed {
	uint8_t compression;
	uint64_t created, appendix_at;
	uint32_t num_blocks, appendix_blocks;
	size_t blocks;               /* data blocks found before the appendix */
	uint32_t block_records[4096];
	uint8_t *records;            /* all data records, uncompressed */
	size_t records_len, nrecords;
	char ident[128];
	uint64_t stat[18];
	bool ok;                     /* every structural check passed */
};

/* One block at *at: its records, uncompressed, appended to p->records. */
static bool read_block(const uint8_t *f, size_t len, size_t *at, struct parsed *p,
		       uint32_t *nrec, uint8_t **body, uint32_t *body_len)
{
	if (*at + 12 > len)
		return false;
	*nrec = g32(f + *at);
	uint32_t size = g32(f + *at + 4);
	if (g16(f + *at + 8) != 3 || g16(f + *at + 10) != 0 || *at + 12 + size > len ||
	    size == 0 || *nrec == 0)
		return false;
	const uint8_t *in = f + *at + 12;
	*at += 12 + size;
	uint8_t *out = malloc(5u << 20);
	if (!out)
		return false;
	if (p->compression == 3) {
		int n = LZ4_decompress_safe((const char *)in, (char *)out, (int)size, 5 << 20);
		if (n <= 0) {
			free(out);
			return false;
		}
		*body_len = (uint32_t)n;
	} else {
		memcpy(out, in, size);
		*body_len = size;
	}
	*body = out;
	return true;
}

static void parse(const uint8_t *f, size_t len, struct parsed *p)
{
	memset(p, 0, sizeof *p);
	if (len < 40 || g16(f) != 0xA50C || g16(f + 2) != 2 || g32(f + 4) != 0x01070100 ||
	    f[17] != 0 || g32(f + 20) != 0 || g32(f + 32) != 0)
		return;
	p->created = g64(f + 8);
	p->compression = f[16];
	p->appendix_blocks = g16(f + 18);
	p->appendix_at = g64(f + 24);
	p->num_blocks = g32(f + 36);
	size_t at = 40, cap = 0;
	while (at < p->appendix_at && p->blocks < 4096) {
		uint32_t nrec, blen;
		uint8_t *body;
		if (!read_block(f, len, &at, p, &nrec, &body, &blen))
			return;
		p->block_records[p->blocks++] = nrec;
		if (p->records_len + blen > cap) {
			cap = (p->records_len + blen) * 2;
			uint8_t *nr = realloc(p->records, cap);
			if (!nr) {
				free(body);
				return;
			}
			p->records = nr;
		}
		memcpy(p->records + p->records_len, body, blen);
		/* every record of the block: V3, sizes adding up to the block */
		size_t o = 0;
		for (uint32_t i = 0; i < nrec; i++) {
			if (o + 4 > blen || g16(body + o) != 11 || g16(body + o + 2) < 12) {
				free(body);
				return;
			}
			o += g16(body + o + 2);
		}
		free(body);
		if (o != blen)
			return;
		p->records_len += blen;
		p->nrecords += nrec;
	}
	uint32_t nrec, blen;
	uint8_t *body;
	if (at != p->appendix_at || p->appendix_blocks != 1 ||
	    !read_block(f, len, &at, p, &nrec, &body, &blen))
		return;
	size_t id_len = blen > 4 ? g16(body + 2) : 0;
	bool ok = nrec == 2 && at == len && id_len > 5 && id_len < 128 && g16(body) == 0x8001 &&
		  body[id_len - 1] == '\0' && blen == id_len + 4 + 144 &&
		  g16(body + id_len) == 0x8002 && g16(body + id_len + 2) == 148;
	if (ok) {
		memcpy(p->ident, body + 4, id_len - 4);
		memcpy(p->stat, body + id_len + 4, sizeof p->stat);
	}
	free(body);
	p->ok = ok;
}

/* The record at *at, field by field against r; advances *at. */
static bool record_matches(const uint8_t *b, size_t *at, const struct nfm_nf_record *r)
{
	const uint8_t *p = b + *at;
	bool v6 = r->l3 == NFM_L3_IPV6, tun = r->tun_l3 != 0, tv6 = r->tun_l3 == NFM_L3_IPV6;
	size_t size = 12 + 52 + (v6 ? 36 : 12) + (tun ? (tv6 ? 44 : 16) : 0);
	uint8_t a[16];
	bool ok = g16(p) == 11 && g16(p + 2) == size && g16(p + 4) == 2 + tun && p[6] == 17 &&
		  p[7] == 1 && g16(p + 8) == 0 && p[10] == 0 && p[11] == 0x41;
	const uint8_t *g = p + 12;
	ok = ok && g16(g) == 1 && g16(g + 2) == 52 && g64(g + 4) == r->first_ms &&
	     g64(g + 12) == r->last_ms && g64(g + 20) == r->last_ms &&
	     g64(g + 28) == r->packets && g64(g + 36) == r->bytes &&
	     g16(g + 44) == r->src_port && g16(g + 46) == r->dst_port && g[48] == r->proto &&
	     g[49] == r->tcp_flags && g[50] == 0 && g[51] == r->tos;
	const uint8_t *e = g + 52;
	if (v6) {
		for (int i = 0; i < 4; i++) { /* each 64-bit half as a host-order integer */
			uint64_t half = g64(e + 4 + 8 * i);
			for (int k = 0; k < 8; k++)
				a[k] = (uint8_t)(half >> (56 - 8 * k));
			ok = ok && memcmp(a, (i < 2 ? r->src : r->dst) + 8 * (i & 1), 8) == 0;
		}
		ok = ok && g16(e) == 3 && g16(e + 2) == 36;
		e += 36;
	} else {
		ok = ok && g16(e) == 2 && g16(e + 2) == 12 && g32(e + 4) == be32(r->src) &&
		     g32(e + 8) == be32(r->dst);
		e += 12;
	}
	if (tun && tv6) {
		for (int i = 0; i < 4; i++) {
			uint64_t half = g64(e + 4 + 8 * i);
			for (int k = 0; k < 8; k++)
				a[k] = (uint8_t)(half >> (56 - 8 * k));
			ok = ok && memcmp(a, (i < 2 ? r->tun_src : r->tun_dst) + 8 * (i & 1), 8) == 0;
		}
		ok = ok && g16(e) == 32 && g16(e + 2) == 44 && g32(e + 36) == r->tun_proto &&
		     g32(e + 40) == 0;
	} else if (tun) {
		ok = ok && g16(e) == 31 && g16(e + 2) == 16 && g32(e + 4) == be32(r->tun_src) &&
		     g32(e + 8) == be32(r->tun_dst) && g32(e + 12) == r->tun_proto;
	}
	*at += size;
	return ok;
}

/* The stat record nfpcapd would write for recs. */
static void expected_stat(const struct nfm_nf_record *r, size_t n, uint64_t s[18])
{
	memset(s, 0, 18 * sizeof *s);
	for (size_t i = 0; i < n; i++) {
		int k = r[i].proto == 6 ? 0 : r[i].proto == 17 ? 1 : r[i].proto == 1 ? 2 : 3;
		s[0]++, s[1] += r[i].bytes, s[2] += r[i].packets;
		s[3 + k]++, s[7 + k] += r[i].bytes, s[11 + k] += r[i].packets;
		if (i == 0 || r[i].first_ms < s[15])
			s[15] = r[i].first_ms;
		if (r[i].last_ms > s[16])
			s[16] = r[i].last_ms;
	}
}

/* Checks the file at path against recs: structure, every record, header, appendix. */
static bool check_file(const char *path, const struct nfm_nf_record *recs, size_t n, bool lz4,
		       const char *ident, uint32_t block_limit, struct parsed *p)
{
	size_t len = 0;
	uint8_t *f = (uint8_t *)read_all(path, &len);
	parse(f ? f : (const uint8_t *)"", f ? len : 0, p);
	uint64_t want[18];
	expected_stat(recs, n, want);
	bool ok = p->ok && p->compression == (lz4 ? 3 : 0) && p->num_blocks == p->blocks &&
		  p->nrecords == n && strcmp(p->ident, ident) == 0 &&
		  memcmp(p->stat, want, sizeof want) == 0 && p->created == want[16] / 1000;
	size_t at = 0, bi = 0, in_block = 0, block_bytes = 0;
	for (size_t i = 0; ok && i < n; i++) {
		size_t before = at;
		ok = record_matches(p->records, &at, &recs[i]);
		/* blocks are filled up to the limit: a block ends only where the next record
		 * would not fit */
		if (in_block == p->block_records[bi]) {
			ok = ok && block_bytes + (at - before) > block_limit;
			bi++, in_block = 0, block_bytes = 0;
		}
		in_block++;
		block_bytes += at - before;
		ok = ok && block_bytes <= block_limit;
	}
	ok = ok && at == p->records_len && (n ? bi + 1 == p->blocks : p->blocks == 0);
	free(f);
	free(p->records);
	p->records = NULL;
	return ok;
}

/* ---- what nfdump prints ---- */

static bool have_nfdump(const char *what)
{
	if (access(NFDUMP, X_OK) == 0)
		return true;
	printf("skip: %s not installed: %s not read back by nfdump\n", NFDUMP, what);
	return false;
}

/* Runs nfdump with args on path (TZ=UTC); its standard output, or NULL when it did not
 * exit 0. */
static char *run_nfdump(const char *args, const char *path)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "TZ=UTC %s %s '%s' 2>/dev/null", NFDUMP, args, path);
	FILE *fp = popen(cmd, "r");
	if (!fp)
		return NULL;
	size_t cap = 1 << 16, n = 0, got;
	char *out = malloc(cap + 1);
	while (out && (got = fread(out + n, 1, cap - n, fp)) > 0) {
		n += got;
		if (n == cap) {
			char *no = realloc(out, 2 * cap + 1);
			if (!no)
				break;
			out = no;
			cap *= 2;
		}
	}
	int st = pclose(fp);
	if (!out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "nfdump %s %s: failed (status %d)\n", args, path, st);
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}

static void put_time(FILE *o, const char *key, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char b[64];
	gmtime_r(&t, &tm);
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(o, "\t\"%s\" : \"%s.%03u\",\n", key, b, (unsigned)(ms % 1000));
}

static void put_addrs(FILE *o, const char *fmt, uint8_t l3, const uint8_t *s, const uint8_t *d)
{
	char a[64], b[64];
	int af = l3 == NFM_L3_IPV6 ? AF_INET6 : AF_INET;
	inet_ntop(af, s, a, sizeof a);
	inet_ntop(af, d, b, sizeof b);
	fprintf(o, fmt, l3 == NFM_L3_IPV6 ? '6' : '4', a, l3 == NFM_L3_IPV6 ? '6' : '4', b);
}

/* `nfdump -o json` of recs, as nfdump 1.7.1 prints it (UTC). */
static char *expected_json(const struct nfm_nf_record *r, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	if (n == 0)
		fputs("[\nNo matching flows\n]\n", o);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n{\n" : "[\n{\n", o);
		fputs("\t\"type\" : \"FLOW\",\n\t\"sampled\" : 0,\n\t\"export_sysid\" : 0,\n", o);
		put_time(o, "first", r[i].first_ms);
		put_time(o, "last", r[i].last_ms);
		put_time(o, "received", r[i].last_ms);
		fprintf(o, "\t\"in_packets\" : %llu,\n\t\"in_bytes\" : %llu,\n\t\"proto\" : %u,\n",
			(unsigned long long)r[i].packets, (unsigned long long)r[i].bytes, r[i].proto);
		if (r[i].proto == 1 || r[i].proto == 58) {
			fprintf(o, "\t\"icmp_type\" : %u,\n\t\"icmp_code\" : %u,\n", r[i].icmp_type,
				r[i].icmp_code);
		} else {
			char fl[9];
			for (int k = 0; k < 8; k++)
				fl[k] = r[i].tcp_flags & (0x80 >> k) ? "CEUAPRSF"[k] : '.';
			fl[8] = '\0';
			fprintf(o, "\t\"tcp_flags\" : \"%s\",\n\t\"src_port\" : %u,\n\t\"dst_port\" : %u,\n",
				fl, r[i].src_port, r[i].dst_port);
		}
		fprintf(o, "\t\"src_tos\" : %u,\n", r[i].tos);
		put_addrs(o, "\t\"src%c_addr\" : \"%s\",\n\t\"dst%c_addr\" : \"%s\",\n", r[i].l3,
			  r[i].src, r[i].dst);
		if (r[i].tun_l3) {
			fprintf(o, "\t\"tun proto\" : %u,\n", r[i].tun_proto);
			put_addrs(o, "\t\"src%c_tun_ip\" : \"%s\",\n\t\"dst%c_tun_ip\" : \"%s\",\n",
				  r[i].tun_l3, r[i].tun_src, r[i].tun_dst);
		}
		fputs("\t\"label\" : \"<none>\"\n}", o);
	}
	if (n)
		fputs("]\n", o);
	fclose(o);
	return text;
}

/* `nfdump -I`: the stat record as nfdump prints it. */
static char *expected_info(const uint64_t s[18], const char *ident)
{
	static const char *const names[15] = {
		"Flows", "Bytes", "Packets", "Flows_tcp", "Flows_udp", "Flows_icmp",
		"Flows_other", "Bytes_tcp", "Bytes_udp", "Bytes_icmp", "Bytes_other",
		"Packets_tcp", "Packets_udp", "Packets_icmp", "Packets_other" };
	static const int order[15] = { 0, 3, 4, 5, 6, 2, 11, 12, 13, 14, 1, 7, 8, 9, 10 };
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	fprintf(o, "Ident: %s\n", ident);
	for (int i = 0; i < 15; i++)
		fprintf(o, "%s: %llu\n", names[order[i]], (unsigned long long)s[order[i]]);
	fprintf(o, "First: %llu\nLast: %llu\nmsec_first: %llu\nmsec_last: %llu\n"
		"Sequence failures: 0\n", (unsigned long long)(s[15] / 1000),
		(unsigned long long)(s[16] / 1000), (unsigned long long)(s[15] % 1000),
		(unsigned long long)(s[16] % 1000));
	fclose(o);
	return text;
}

/* nfdump reads path back as recs: every JSON record, the totals, the blocks. */
static bool nfdump_agrees(const char *path, const struct nfm_nf_record *recs, size_t n,
			  const char *ident, size_t blocks)
{
	char *json = run_nfdump("-o json -r", path), *want = expected_json(recs, n);
	bool ok = json && want && strcmp(json, want) == 0;
	if (json && want && !ok) {
		size_t i = 0;
		while (json[i] && json[i] == want[i])
			i++;
		size_t from = i > 200 ? i - 200 : 0;
		fprintf(stderr, "nfdump -o json differs at byte %zu:\n--- nfdump:\n%.300s\n--- expected:\n%.300s\n",
			i, json + from, want + from);
	}
	free(json);
	free(want);
	uint64_t s[18];
	expected_stat(recs, n, s);
	char *info = run_nfdump("-I -r", path);
	want = expected_info(s, ident);
	if (!info || strcmp(info, want) != 0) {
		fprintf(stderr, "nfdump -I:\n%s--- expected:\n%s", info ? info : "(failed)\n", want);
		ok = false;
	}
	free(info);
	free(want);
	char *verify = run_nfdump("-v", path), line[128];
	snprintf(line, sizeof line, "Type 3 blocks : %zu\nRecords       : %zu\n", blocks + 1, n + 2);
	if (!verify || !strstr(verify, line)) {
		fprintf(stderr, "nfdump -v: no \"%s\" in:\n%s", line, verify ? verify : "(failed)\n");
		ok = false;
	}
	free(verify);
	return ok;
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
		CHECK(record_matches(b, &o, &r[i]));
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
		CHECK(write_file(path, r, n, &o, &err) == 0);
		struct parsed p;
		CHECK(check_file(path, r, n, lz4, ident, NFM_NFCAPD_BLOCK_DEFAULT, &p));
		CHECK_EQ_U(p.blocks, 1);
		struct stat sb;
		if (!lz4) /* header, one block of the records, the appendix with "none" */
			CHECK(stat(path, &sb) == 0 && sb.st_size == 40 + 12 + 464 + 12 + 9 + 148);
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
		CHECK(write_file(path, NULL, 0, &o, &err) == 0);
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
		CHECK(write_file(path, r, runs[k].n, &o, &err) == 0);
		struct parsed p;
		CHECK(check_file(path, r, runs[k].n, runs[k].lz4, "none",
				 runs[k].block ? runs[k].block : NFM_NFCAPD_BLOCK_DEFAULT, &p));
		CHECK(p.blocks >= runs[k].min_blocks);
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
	CHECK(write_file(path, r, 1, &o, &err) == 0);
	struct parsed p;
	CHECK(check_file(path, r, 1, false, ident, NFM_NFCAPD_BLOCK_DEFAULT, &p));
	if (have_nfdump("the longest ident"))
		CHECK(nfdump_agrees(path, r, 1, ident, 1));
	rm_tree(dir);
}

/* ---- the exporter, fed by the meter and the pipeline ---- */

#define NFRAMES 12

/* TCP/IPv4 with ToS 0x28 (three packets one way, two back), UDP/IPv6 both ways, an ICMP
 * echo and its reply, UDP in IPv4-in-IPv4 and in IPv4-in-IPv6, and an ARP request (no
 * NetFlow record). */
static size_t traffic(struct frame *fr)
{
	size_t n = 0;
	for (int i = 0; i < 5; i++) {
		struct frame *f = &fr[n++];
		int back = i == 1 || i == 3;
		eth(f, 0x0800);
		size_t ip = ipv4(f, 6, back ? IP4(10, 0, 0, 2) : IP4(10, 0, 0, 1),
				 back ? IP4(10, 0, 0, 1) : IP4(10, 0, 0, 2), 20 + (size_t)(i * 10), 0, 0);
		f->b[ip + 1] = 0x28;
		tcp(f, back ? 80 : 40000, back ? 40000 : 80, i == 0 ? 0x02 : back && i == 1 ? 0x12 : 0x18,
		    0, (size_t)(i * 10));
	}
	for (int i = 0; i < 2; i++) {
		struct frame *f = &fr[n++];
		eth(f, 0x86dd);
		ipv6(f, 17, 8 + 20, i ? 4 : 3, i ? 3 : 4);
		udp(f, i ? 53 : 5353, i ? 5353 : 53, 20);
	}
	for (int i = 0; i < 2; i++) {
		struct frame *f = &fr[n++];
		eth(f, 0x0800);
		ipv4(f, 1, i ? IP4(192, 168, 1, 2) : IP4(192, 168, 1, 1),
		     i ? IP4(192, 168, 1, 1) : IP4(192, 168, 1, 2), 8 + 4, 0, 0);
		put8(f, i ? 0 : 8); put8(f, 0); put16(f, 0); put16(f, 77); put16(f, 1);
		put32(f, 0x61626364);
	}
	struct frame *f = &fr[n++];
	eth(f, 0x0800);
	ipv4(f, 4, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2), 20 + 8 + 3, 0, 0);
	ipv4(f, 17, IP4(10, 10, 10, 1), IP4(192, 168, 0, 1), 8 + 3, 0, 0);
	udp(f, 1, 65535, 3);
	f = &fr[n++];
	eth(f, 0x86dd);
	ipv6(f, 4, 20 + 8 + 3, 7, 8);
	ipv4(f, 17, IP4(10, 10, 10, 9), IP4(192, 168, 0, 9), 8 + 3, 0, 0);
	udp(f, 2, 3, 3);
	f = &fr[n++];
	eth(f, 0x0806);
	put16(f, 1); put16(f, 0x0800); put8(f, 6); put8(f, 4); put16(f, 1);
	putn(f, 0xaa, 6); put32(f, IP4(192, 168, 1, 1));
	putn(f, 0, 6); put32(f, IP4(192, 168, 1, 2));
	return n;
}

#define T0 1700000000123456789ULL

struct sink_ctx {
	struct nfm_exporter *ex;
	size_t off;
	struct nfm_nf_record want[16];
	size_t nwant;
	struct nfm_error err;
};

static int to_file(void *ctx, const struct nfm_flow_record *rec)
{
	struct sink_ctx *s = ctx;
	struct nfm_nf_record nf[2];
	int k = nfm_netflow_split(rec, nfm_netflow_state(rec, s->off), nf);
	for (int i = 0; i < k && s->nwant < 16; i++)
		s->want[s->nwant++] = nf[i];
	return nfm_exporter_write(s->ex, rec, &s->err);
}

static int enc(void *ctx, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct sink_ctx *s = ctx;
	return nfm_exporter_encode(s->ex, rec, row);
}

static int emit(void *ctx, const uint8_t *row, size_t len)
{
	struct sink_ctx *s = ctx;
	return nfm_exporter_write_row(s->ex, row, len, &s->err);
}

/* Converts the traffic into path with the nfcapd exporter: through one meter (workers
 * 0) or the pipeline. Returns 0 on success; s->want gets the records (meter only). */
static int convert(const char *path, unsigned workers, const struct nfm_layout *lay,
		   const struct nfm_netflow_opts *nopt, struct sink_ctx *s,
		   struct nfm_export_counts *counts)
{
	static struct frame fr[NFRAMES];
	memset(fr, 0, sizeof fr);
	size_t n = traffic(fr);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_columns cols = { 0 };
	struct nfm_error err;
	int rc = nfm_columns_parse(&cols, "src_ip", lay, &err);
	struct nfm_export_dest dest = { .path = path, .set = set, .layout = lay, .netflow = nopt };
	memset(s, 0, sizeof *s);
	s->off = nfm_layout_offset(lay, &nfm_mod_netflow);
	if (rc == 0)
		rc = nfm_exporter_open(&s->ex, nfm_exporter_find("nfcapd"), &dest, &cols, &err);
	struct nfm_meter_config mc;
	nfm_meter_config_default(&mc);
	mc.layout = lay;
	if (rc == 0 && workers == 0) {
		struct nfm_meter *m = nfm_meter_new(&mc, to_file, s);
		for (size_t i = 0; m && i < n && !rc; i++)
			rc = nfm_meter_frame(m, fr[i].b, (uint32_t)fr[i].n, (uint32_t)fr[i].n,
					     T0 + i * 1000000, NFM_LINK_ETHERNET);
		rc = rc || !m || nfm_meter_finish(m);
		nfm_meter_free(m);
	} else if (rc == 0) {
		struct nfm_pipeline_config pc = { .meter = mc, .workers = workers, .encode = enc,
						  .emit = emit, .ctx = s };
		struct nfm_pipeline *pl = nfm_pipeline_new(&pc, NULL, NULL);
		for (size_t i = 0; pl && i < n && !rc; i++) {
			struct nfm_raw_packet raw = { .data = fr[i].b, .cap_len = (uint32_t)fr[i].n,
						      .wire_len = (uint32_t)fr[i].n,
						      .ts_ns = T0 + i * 1000000,
						      .linktype = NFM_LINK_ETHERNET };
			rc = nfm_pipeline_frame(pl, &raw);
		}
		rc = rc || !pl || nfm_pipeline_finish(pl, 1);
		nfm_pipeline_free(pl);
	}
	if (s->ex)
		nfm_exporter_counts(s->ex, counts);
	if (rc == 0)
		rc = nfm_exporter_close(s->ex, &err) || nfm_outset_commit(set, &err);
	else
		nfm_exporter_abort(s->ex);
	if (rc)
		fprintf(stderr, "convert %s: %s %s\n", path, err.msg, s->err.msg);
	nfm_outset_free(set);
	nfm_columns_free(&cols);
	return rc;
}

NFM_TEST(exporter_through_meter_and_pipeline)
{
	const struct nfm_module *mods[] = { &nfm_mod_netflow };
	struct nfm_layout lay;
	struct nfm_error err;
	CHECK(nfm_layout_build(&lay, mods, 1, &err) == 0);
	const struct nfm_exporter_ops *ops = nfm_exporter_find("nfcapd");
	CHECK(ops && nfm_exporter_is_netflow(ops) && nfm_exporter_is_sliced(ops) &&
	      !nfm_exporter_allows_stdout(ops) && strcmp(nfm_exporter_ext(ops), "nfcapd") == 0);
	if (!ops)
		return;
	char dir[512], path[600];
	make_tmpdir(dir, sizeof dir);
	CHECK(dir[0]);
	bool nfdump = have_nfdump("the exporter's file");
	static struct sink_ctx s;
	struct nfm_export_counts c;
	struct nfm_netflow_opts nopt = { .ident = "meter" };

	/* one meter: the records in the order the sink got them */
	snprintf(path, sizeof path, "%s/nfcapd.meter", dir);
	CHECK(convert(path, 0, &lay, &nopt, &s, &c) == 0);
	CHECK_EQ_U(s.nwant, 8); /* TCP 2, UDP 2, ICMP 2, the tunnelled ones 1 + 1; no ARP */
	CHECK(c.records == 8 && c.messages == 0 && c.bytes == 40); /* before close */
	struct parsed p;
	CHECK(check_file(path, s.want, s.nwant, false, "meter", NFM_NFCAPD_BLOCK_DEFAULT, &p));
	if (nfdump)
		CHECK(nfdump_agrees(path, s.want, s.nwant, "meter", 1));
	/* what the records say, as the frames were built */
	unsigned seen = 0;
	for (size_t i = 0; i < s.nwant; i++) {
		const struct nfm_nf_record *r = &s.want[i];
		if (r->proto == 6 && r->src_port == 40000)
			seen |= 1u * (r->packets == 3 && r->bytes == 40 * 3 + 60 && r->tos == 0x28 &&
				      r->tcp_flags == 0x1a && r->first_ms == T0 / 1000000);
		if (r->proto == 1 && r->dst_port == 8 << 8)
			seen |= 2u * (r->bytes == 32 && r->packets == 1);
		if (r->tun_l3 == NFM_L3_IPV4)
			seen |= 4u * (r->tun_proto == 4 && be32(r->tun_src) == IP4(172, 16, 0, 1) &&
				      be32(r->src) == IP4(10, 10, 10, 1));
		if (r->tun_l3 == NFM_L3_IPV6)
			seen |= 8u * (r->tun_proto == 4 && r->tun_dst[15] == 8 && r->l3 == NFM_L3_IPV4);
	}
	CHECK_EQ_U(seen, 15);

	/* the pipeline: the same records (in first-packet order), the same bytes for any
	 * number of workers; LZ4 */
	char *ref = NULL;
	size_t ref_len = 0;
	nopt = (struct nfm_netflow_opts){ .lz4 = true };
	for (unsigned w = 1; w <= 3; w += 2) {
		snprintf(path, sizeof path, "%s/nfcapd.pipeline%u", dir, w);
		static struct sink_ctx ps;
		CHECK(convert(path, w, &lay, &nopt, &ps, &c) == 0);
		CHECK(c.records == 8);
		size_t len = 0;
		char *bytes = read_all(path, &len);
		struct parsed q;
		parse((const uint8_t *)bytes, bytes ? len : 0, &q);
		CHECK(q.ok && q.nrecords == 8 && q.compression == 3 && strcmp(q.ident, "none") == 0);
		size_t matched = 0;
		for (size_t i = 0; q.ok && i < s.nwant; i++) {
			size_t at = 0, hits = 0;
			while (at + 4 <= q.records_len) {
				size_t next = at + g16(q.records + at + 2), o = at;
				hits += record_matches(q.records, &o, &s.want[i]) && o == next;
				at = next;
			}
			matched += hits == 1;
		}
		CHECK_EQ_U(matched, 8);
		free(q.records);
		if (!ref) {
			ref = bytes;
			ref_len = len;
		} else {
			CHECK(bytes && len == ref_len && memcmp(bytes, ref, len) == 0);
			free(bytes);
		}
	}
	free(ref);

	/* without the netflow module there is nothing to write */
	struct nfm_layout none;
	CHECK(nfm_layout_build(&none, NULL, 0, &err) == 0);
	snprintf(path, sizeof path, "%s/nfcapd.none", dir);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_columns cols = { 0 };
	CHECK(nfm_columns_parse(&cols, "src_ip", &none, &err) == 0);
	struct nfm_exporter *ex = NULL;
	struct nfm_export_dest dest = { .path = path, .set = set, .layout = &none };
	CHECK(nfm_exporter_open(&ex, ops, &dest, &cols, &err) == NFM_ERR_INVALID && !ex);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "netflow"));
	nfm_columns_free(&cols);
	nfm_outset_free(set);
	rm_tree(dir);
}

NFM_TEST_MAIN_BEGIN()
	setenv("TZ", "UTC", 1);
	RUN(record_bytes);
	RUN(known_records_plain_and_lz4);
	RUN(empty_file);
	RUN(many_records_many_blocks);
	RUN(refusals_and_abort);
	RUN(exporter_through_meter_and_pipeline);
NFM_TEST_MAIN_END()
