/* Reading nfcapd files back in the tests: the bytes of records, blocks, header and
 * appendix as the tests read them (their own offsets, from nfdump 1.7.1's nffileV2.h /
 * nfxV3.h / nfdump.h), and the files read by nfdump itself when /usr/bin/nfdump is
 * installed: `nfdump -r -o json` must print every record exactly as expected,
 * `nfdump -I` the totals and `nfdump -v` the block and record counts. Header-only
 * (static inline), like the other test helpers. */
#ifndef NFM_NFCAPD_CHECK_H
#define NFM_NFCAPD_CHECK_H

#include <arpa/inet.h>
#include <dirent.h>
#include <lz4.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"
#include "feature/netflow.h"

#define NFDUMP "/usr/bin/nfdump"


/* ---- files and directories ---- */

static inline char *read_all(const char *path, size_t *len)
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

static inline void make_tmpdir(char *out, size_t cap)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, cap, "%s/nfm_nfcapd_XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(out))
		out[0] = '\0';
}

static inline int count_entries(const char *dir)
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

static inline void rm_tree(const char *dir)
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

/* ---- reading a file back, byte by byte ---- */

static inline uint16_t g16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t g32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t g64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t be32(const uint8_t *a)
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
static inline bool read_block(const uint8_t *f, size_t len, size_t *at, struct parsed *p,
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

static inline void parse(const uint8_t *f, size_t len, struct parsed *p)
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

/* The record at *at of the len bytes at b, field by field against r; advances *at by
 * the size r's record has. */
static inline bool record_matches(const uint8_t *b, size_t len, size_t *at,
				  const struct nfm_nf_record *r)
{
	const uint8_t *p = b + *at;
	bool v6 = r->l3 == NFM_L3_IPV6, tun = r->tun_l3 != 0, tv6 = r->tun_l3 == NFM_L3_IPV6;
	size_t size = 12 + 52 + (v6 ? 36 : 12) + (tun ? (tv6 ? 44 : 16) : 0);
	if (*at + size > len)
		return false;
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
static inline void expected_stat(const struct nfm_nf_record *r, size_t n, uint64_t s[18])
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
static inline bool check_file(const char *path, const struct nfm_nf_record *recs, size_t n,
			      bool lz4, const char *ident, uint32_t block_limit, struct parsed *p)
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
		ok = record_matches(p->records, p->records_len, &at, &recs[i]);
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

static inline bool have_nfdump(const char *what)
{
	if (access(NFDUMP, X_OK) == 0)
		return true;
	printf("skip: %s not installed: %s not read back by nfdump\n", NFDUMP, what);
	return false;
}

/* Runs nfdump with args on path (TZ=UTC); its standard output, or NULL when it did not
 * exit 0. */
static inline char *run_nfdump(const char *args, const char *path)
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

static inline void put_time(FILE *o, const char *key, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char b[64];
	gmtime_r(&t, &tm);
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(o, "\t\"%s\" : \"%s.%03u\",\n", key, b, (unsigned)(ms % 1000));
}

static inline void put_addrs(FILE *o, const char *fmt, uint8_t l3, const uint8_t *s,
			     const uint8_t *d)
{
	char a[64], b[64];
	int af = l3 == NFM_L3_IPV6 ? AF_INET6 : AF_INET;
	inet_ntop(af, s, a, sizeof a);
	inet_ntop(af, d, b, sizeof b);
	fprintf(o, fmt, l3 == NFM_L3_IPV6 ? '6' : '4', a, l3 == NFM_L3_IPV6 ? '6' : '4', b);
}

/* `nfdump -o json` of recs, as nfdump 1.7.1 prints it (UTC). */
static inline char *expected_json(const struct nfm_nf_record *r, size_t n)
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
static inline char *expected_info(const uint64_t s[18], const char *ident)
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
static inline bool nfdump_agrees(const char *path, const struct nfm_nf_record *recs, size_t n,
			  const char *ident, size_t blocks)
{
	char *json = run_nfdump("-o json -r", path), *want = expected_json(recs, n);
	bool ok = json && want && strcmp(json, want) == 0;
	if (json && want && !ok) {
		size_t i = 0;
		while (json[i] && json[i] == want[i])
			i++;
		size_t from = i > 200 ? i - 200 : 0;
		fprintf(stderr, "nfdump -o json differs at byte %zu:\n--- nfdump:\n%.300s\n"
			"--- expected:\n%.300s\n", i, json + from, want + from);
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

#endif
