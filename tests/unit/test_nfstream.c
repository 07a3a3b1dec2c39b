/* The nfstream module, the early-packet module (--splt N) and the nfstream profile's
 * columns: a TCP connection worked out by hand (times that go back, ms flooring, both
 * directions, flags, TCP close), flows whose first packet is a SYN+ACK, a single packet,
 * ICMPv6 echo; the same rows for any number of workers; size statistics independent of
 * the packet order; the exact moments against a direct computation; the list and signed
 * values in CSV and JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/exporter.h"
#include "feature/fields.h"
#include "feature/moments.h"
#include "feature/nfstream.h"
#include "flow/meter.h"
#include "flow/pipeline.h"
#include "nfm_frame.h"
#include "nfm_test.h"
#include "pycheck.h"

#define T0 1700000000000000000ULL /* ns; 1700000000000 ms */

/* ---- traffic ---- */

enum kind { K_TCP4, K_UDP4, K_ICMP6 };

struct spec {
	uint64_t at_ns;     /* from T0 */
	int from_b;         /* sent by host B */
	enum kind kind;
	unsigned flags;     /* TCP flags */
	size_t payload;
	unsigned host;      /* selects the address pair (one per flow) */
};

static size_t build(struct frame *f, const struct spec *s)
{
	f->n = 0;
	uint32_t a = IP4(10, 0, s->host, 1), b = IP4(10, 0, s->host, 2);
	switch (s->kind) {
	case K_TCP4: /* VLAN 7 */
		eth_hdr(f, capture_macs(), 7, 0, 0x0800);
		ipv4(f, 6, s->from_b ? b : a, s->from_b ? a : b, 20 + s->payload, 0, 0);
		tcp(f, s->from_b ? 80 : 40000 + s->host, s->from_b ? 40000 + s->host : 80, s->flags,
		    0, s->payload);
		break;
	case K_UDP4:
		eth(f, 0x0800);
		ipv4(f, 17, s->from_b ? b : a, s->from_b ? a : b, 8 + s->payload, 0, 0);
		udp(f, s->from_b ? 53 : 5000, s->from_b ? 5000 : 53, s->payload);
		break;
	case K_ICMP6:
		eth(f, 0x86dd);
		ipv6(f, 58, 8 + s->payload, (uint8_t)(s->from_b ? 2 : 1), (uint8_t)(s->from_b ? 1 : 2));
		put8(f, s->from_b ? 129 : 128);
		put8(f, 0);
		put16(f, 0);
		put16(f, 0x4242); /* identifier */
		put16(f, 1);
		putn(f, 'i', s->payload);
		break;
	}
	return f->n;
}

/* Flow 1 (host 1): a TCP connection, with one packet older than the one before it. */
static const struct spec conn[] = {
	{ 400000, 0, K_TCP4, NFM_TCP_SYN, 0, 1 },                 /* ms 0 */
	{ 1600000, 1, K_TCP4, NFM_TCP_SYN | NFM_TCP_ACK, 0, 1 },  /* ms 1 */
	{ 2000000, 0, K_TCP4, NFM_TCP_ACK, 0, 1 },                /* ms 2 */
	{ 10999999, 0, K_TCP4, NFM_TCP_PSH | NFM_TCP_ACK, 100, 1 },/* ms 10 */
	{ 9500000, 1, K_TCP4, NFM_TCP_ACK, 0, 1 },                /* ms 9: back in time */
	{ 25000000, 1, K_TCP4, NFM_TCP_PSH | NFM_TCP_ACK, 300, 1 },/* ms 25 */
	{ 30200000, 0, K_TCP4, NFM_TCP_FIN | NFM_TCP_ACK, 0, 1 }, /* ms 30 */
	{ 31000000, 1, K_TCP4, NFM_TCP_FIN | NFM_TCP_ACK, 0, 1 }, /* ms 31 */
	{ 31900000, 0, K_TCP4, NFM_TCP_ACK, 0, 1 },               /* ms 31 */
};

/* Flows 2-4: the capture starts after the SYN (host 2); one UDP datagram (host 3, at
 * 1 s); an ICMPv6 echo and its reply. */
static const struct spec others[] = {
	{ 50000000, 1, K_TCP4, NFM_TCP_SYN | NFM_TCP_ACK, 0, 2 },
	{ 50100000, 0, K_TCP4, NFM_TCP_ACK, 10, 2 },
	{ 1000000000, 0, K_UDP4, 0, 20, 3 },
	{ 1000000001, 0, K_ICMP6, 0, 16, 4 },
	{ 1003000000, 1, K_ICMP6, 0, 16, 4 },
};

/* ---- running the profile ---- */

struct run {
	struct nfm_module splt;
	struct nfm_layout lay;
	struct nfm_columns cols;
};

/* The profile's columns, then the early-packet lists when splt > 0. */
static int setup(struct run *r, unsigned splt)
{
	struct nfm_error err;
	const struct nfm_module *mods[NFM_MAX_MODULES];
	size_t n = 0;
	for (size_t i = 0; i < nfm_profile_nfstream.nmodules; i++)
		mods[n++] = nfm_profile_nfstream.modules[i];
	if (splt) {
		if (nfm_mod_splt_init(&r->splt, splt, &err))
			return -1;
		mods[n++] = &r->splt;
	}
	memset(&r->cols, 0, sizeof r->cols);
	if (nfm_layout_build(&r->lay, mods, n, &err))
		return -1;
	for (size_t i = 0; i < nfm_profile_nfstream.ncolumns; i++) {
		const struct nfm_profile_column *c = &nfm_profile_nfstream.columns[i];
		size_t off;
		const struct nfm_field *f = nfm_field_lookup(c->field, strlen(c->field), &r->lay, &off);
		if (!f || nfm_columns_add_named(&r->cols, f, off, c->header)) {
			fprintf(stderr, "no field %s\n", c->field);
			return -1;
		}
	}
	if (splt)
		for (size_t i = 0; i < r->splt.nfields; i++)
			if (nfm_columns_add(&r->cols, &r->splt.fields[i],
					    nfm_layout_offset(&r->lay, &r->splt)))
				return -1;
	return 0;
}

struct sink {
	struct nfm_exporter *ex;
	struct nfm_error err;
};

static int to_ex(void *ctx, const struct nfm_flow_record *rec)
{
	struct sink *s = ctx;
	return nfm_exporter_write(s->ex, rec, &s->err);
}

static int enc(void *ctx, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct sink *s = ctx;
	return nfm_exporter_encode(s->ex, rec, row);
}

static int emit(void *ctx, const uint8_t *row, size_t len)
{
	struct sink *s = ctx;
	return nfm_exporter_write_row(s->ex, row, len, &s->err);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = calloc(1, 1 << 16);
	if (fp && text)
		(void)!fread(text, 1, (1 << 16) - 1, fp);
	if (fp)
		fclose(fp);
	return text;
}

/* Converts the packets (in this order) with the profile into format ("csv", "json",
 * "xlsx"): through one meter (workers 0) or the pipeline. Returns the output (caller
 * frees); with keep, the file stays there (its name in keep, 48 bytes). */
static char *convert_keep(const struct spec *sp, size_t n, unsigned workers, unsigned splt,
			  const char *format, char *keep)
{
	struct run r;
	if (setup(&r, splt))
		return NULL;
	char tmp[] = "/tmp/nfm_test_nfstream_XXXXXX", path[48];
	int fd = mkstemp(tmp);
	if (fd < 0)
		return NULL;
	close(fd);
	unlink(tmp);
	snprintf(path, sizeof path, "%s.%s", tmp, format);
	if (keep)
		snprintf(keep, 48, "%s", path);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct sink s = { 0 };
	nfm_error_clear(&s.err);
	struct nfm_export_dest dest = { .path = path, .set = set, .layout = &r.lay };
	char *text = NULL;
	if (!set || nfm_exporter_open(&s.ex, nfm_exporter_find(format), &dest, &r.cols, &s.err))
		goto out;
	struct nfm_meter_config mc;
	nfm_meter_config_default(&mc);
	mc.layout = &r.lay;
	mc.idle_timeout_ns = 120 * 1000000000ULL;
	mc.active_timeout_ns = 1800 * 1000000000ULL;
	int rc = 0;
	struct frame f;
	if (workers == 0) {
		struct nfm_meter *m = nfm_meter_new(&mc, to_ex, &s);
		for (size_t i = 0; m && i < n && !rc; i++) {
			size_t len = build(&f, &sp[i]);
			rc = nfm_meter_frame(m, f.b, (uint32_t)len, (uint32_t)len, T0 + sp[i].at_ns,
					     NFM_LINK_ETHERNET);
		}
		rc = rc || !m || nfm_meter_finish(m);
		nfm_meter_free(m);
	} else {
		struct nfm_pipeline_config pc = { .meter = mc, .workers = workers, .encode = enc,
						  .emit = emit, .ctx = &s };
		struct nfm_pipeline *pl = nfm_pipeline_new(&pc, NULL, NULL);
		for (size_t i = 0; pl && i < n && !rc; i++) {
			size_t len = build(&f, &sp[i]);
			struct nfm_raw_packet raw = { .data = f.b, .cap_len = (uint32_t)len,
						      .wire_len = (uint32_t)len,
						      .ts_ns = T0 + sp[i].at_ns,
						      .linktype = NFM_LINK_ETHERNET };
			rc = nfm_pipeline_frame(pl, &raw);
		}
		rc = rc || !pl || nfm_pipeline_finish(pl, 1);
		nfm_pipeline_free(pl);
	}
	if (rc) {
		nfm_exporter_abort(s.ex);
		goto out;
	}
	if (nfm_exporter_close(s.ex, &s.err) || nfm_outset_commit(set, &s.err))
		goto out;
	text = slurp(path);
out:
	nfm_outset_free(set);
	if (!keep)
		unlink(path);
	nfm_columns_free(&r.cols);
	return text;
}

static char *convert(const struct spec *sp, size_t n, unsigned workers, unsigned splt,
		     const char *format)
{
	return convert_keep(sp, n, workers, splt, format, NULL);
}

/* The CSV row whose src_ip,src_port begin as key (after id and expiration_id). */
static const char *row_of(const char *text, const char *key)
{
	for (const char *p = strchr(text, '\n'); p; p = strchr(p + 1, '\n')) {
		const char *c = strchr(p + 1, ',');
		c = c ? strchr(c + 1, ',') : NULL;
		if (c && strncmp(c + 1, key, strlen(key)) == 0)
			return p + 1;
	}
	return NULL;
}

static int line_is(const char *line, const char *want)
{
	size_t n = strlen(want);
	if (line && strncmp(line, want, n) == 0 && line[n] == '\n')
		return 1;
	fprintf(stderr, "row:  %.*s\nwant: %s\n", line ? (int)strcspn(line, "\n") : 6,
		line ? line : "(none)", want);
	return 0;
}

static size_t nconn(void) { return sizeof conn / sizeof conn[0]; }

static struct spec all[sizeof conn / sizeof conn[0] + sizeof others / sizeof others[0]];

static size_t all_specs(void)
{
	memcpy(all, conn, sizeof conn);
	memcpy(all + nconn(), others, sizeof others);
	return sizeof all / sizeof all[0];
}

NFM_TEST(header_is_nfstreams)
{
	char *text = convert(conn, nconn(), 0, 3, "csv");
	CHECK(text != NULL);
	if (!text)
		return;
	const char *want =
		"id,expiration_id,src_ip,src_port,dst_ip,dst_port,protocol,ip_version,vlan_id,tunnel_id,"
		"bidirectional_first_seen_ms,bidirectional_last_seen_ms,bidirectional_duration_ms,"
		"bidirectional_packets,bidirectional_bytes,src2dst_first_seen_ms,src2dst_last_seen_ms,"
		"src2dst_duration_ms,src2dst_packets,src2dst_bytes,dst2src_first_seen_ms,"
		"dst2src_last_seen_ms,dst2src_duration_ms,dst2src_packets,dst2src_bytes,"
		"bidirectional_min_ps,bidirectional_mean_ps,bidirectional_stddev_ps,bidirectional_max_ps,"
		"src2dst_min_ps,src2dst_mean_ps,src2dst_stddev_ps,src2dst_max_ps,"
		"dst2src_min_ps,dst2src_mean_ps,dst2src_stddev_ps,dst2src_max_ps,"
		"bidirectional_min_piat_ms,bidirectional_mean_piat_ms,bidirectional_stddev_piat_ms,"
		"bidirectional_max_piat_ms,src2dst_min_piat_ms,src2dst_mean_piat_ms,"
		"src2dst_stddev_piat_ms,src2dst_max_piat_ms,dst2src_min_piat_ms,dst2src_mean_piat_ms,"
		"dst2src_stddev_piat_ms,dst2src_max_piat_ms,"
		"bidirectional_syn_packets,bidirectional_cwr_packets,bidirectional_ece_packets,"
		"bidirectional_urg_packets,bidirectional_ack_packets,bidirectional_psh_packets,"
		"bidirectional_rst_packets,bidirectional_fin_packets,"
		"src2dst_syn_packets,src2dst_cwr_packets,src2dst_ece_packets,src2dst_urg_packets,"
		"src2dst_ack_packets,src2dst_psh_packets,src2dst_rst_packets,src2dst_fin_packets,"
		"dst2src_syn_packets,dst2src_cwr_packets,dst2src_ece_packets,dst2src_urg_packets,"
		"dst2src_ack_packets,dst2src_psh_packets,dst2src_rst_packets,dst2src_fin_packets,"
		"splt_direction,splt_ps,splt_piat_ms";
	CHECK(line_is(text, want));
	CHECK_EQ_U(nfm_profile_nfstream.ncolumns, 73);
	CHECK_EQ_U(nfm_profile_nfstream.idle_timeout_ns, 120000000000ULL);
	CHECK_EQ_U(nfm_profile_nfstream.active_timeout_ns, 1800000000000ULL);
	free(text);
}

/* Every value of flow 1, worked out by hand (see the comments of conn[]): sizes 58 bytes
 * plus payload; forward ms 0 2 10 30 31, backward 1 9 25 31; the flow's gaps against its
 * newest time 1 1 8 0 15 5 1 0. */
NFM_TEST(connection_by_hand)
{
	char *text = convert(conn, nconn(), 0, 4, "csv");
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(line_is(row_of(text, "10.0.1.1,"),
		      "0,-1,10.0.1.1,40001,10.0.1.2,80,6,4,7,0,"
		      "1700000000000,1700000000031,31,9,922,"
		      "1700000000000,1700000000031,31,5,390,"
		      "1700000000001,1700000000031,30,4,532,"
		      "58,102.444444,101.379376,358,"
		      "58,78.000000,44.721360,158,"
		      "58,133.000000,150.000000,358,"
		      "0,3.875000,5.303301,15,"
		      "1,7.750000,8.732125,20,"
		      "6,10.000000,5.291503,16,"
		      "2,0,0,0,8,2,0,2,"
		      "1,0,0,0,4,1,0,1,"
		      "1,0,0,0,4,1,0,1,"
		      "\"[0, 1, 0, 0]\",\"[58, 58, 58, 158]\",\"[0, 1, 1, 8]\""));
	free(text);
}

NFM_TEST(other_flows_by_hand)
{
	char *text = convert(others, sizeof others / sizeof others[0], 1, 3, "csv");
	CHECK(text != NULL);
	if (!text)
		return;
	/* The first packet is the SYN+ACK: its receiver initiated; the flow's first packet is
	 * dst2src, so the early-packet directions start with 1. End of input: 0. */
	CHECK(line_is(row_of(text, "10.0.2.1,"),
		      "0,0,10.0.2.1,40002,10.0.2.2,80,6,4,7,0,"
		      "1700000000050,1700000000050,0,2,126,"
		      "1700000000050,1700000000050,0,1,68,"
		      "1700000000050,1700000000050,0,1,58,"
		      "58,63.000000,7.071068,68,68,68.000000,0.000000,68,58,58.000000,0.000000,58,"
		      "0,0.000000,0.000000,0,0,0.000000,0.000000,0,0,0.000000,0.000000,0,"
		      "1,0,0,0,2,0,0,0,0,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0,"
		      "\"[1, 0, -1]\",\"[58, 68, -1]\",\"[0, 0, -1]\""));
	/* One datagram: every statistic of one packet, dst2src empty. id: its frame (from 0). */
	CHECK(line_is(row_of(text, "10.0.3.1,"),
		      "2,0,10.0.3.1,5000,10.0.3.2,53,17,4,0,0,"
		      "1700000001000,1700000001000,0,1,62,"
		      "1700000001000,1700000001000,0,1,62,"
		      "0,0,0,0,0,"
		      "62,62.000000,0.000000,62,62,62.000000,0.000000,62,0,0.000000,0.000000,0,"
		      "0,0.000000,0.000000,0,0,0.000000,0.000000,0,0,0.000000,0.000000,0,"
		      "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
		      "\"[0, -1, -1]\",\"[62, -1, -1]\",\"[0, -1, -1]\""));
	/* ICMPv6 echo: ports 0 (the flow is still keyed on the identifier). */
	CHECK(line_is(row_of(text, "2001:db8::1,"),
		      "3,0,2001:db8::1,0,2001:db8::2,0,58,6,0,0,"
		      "1700000001000,1700000001003,3,2,156,"
		      "1700000001000,1700000001000,0,1,78,"
		      "1700000001003,1700000001003,0,1,78,"
		      "78,78.000000,0.000000,78,78,78.000000,0.000000,78,78,78.000000,0.000000,78,"
		      "3,3.000000,0.000000,3,0,0.000000,0.000000,0,0,0.000000,0.000000,0,"
		      "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
		      "\"[0, 1, -1]\",\"[78, 78, -1]\",\"[0, 3, -1]\""));
	free(text);
}

NFM_TEST(same_rows_for_any_worker_count)
{
	size_t n = all_specs();
	char *ref = convert(all, n, 1, 8, "csv");
	CHECK(ref != NULL);
	for (unsigned w = 2; ref && w <= 4; w++) {
		char *text = convert(all, n, w, 8, "csv");
		CHECK(text != NULL && strcmp(ref, text) == 0);
		free(text);
	}
	free(ref);
}

/* The size statistics (sums of sizes and squares, extremes) do not depend on the order of
 * the packets; the gaps do. */
NFM_TEST(size_statistics_do_not_depend_on_order)
{
	struct spec a[6], b[6];
	static const int dirs[6] = { 0, 0, 1, 0, 1, 1 };
	for (unsigned i = 0; i < 6; i++)
		a[i] = (struct spec){ 1000000ULL * i * i, dirs[i], K_UDP4, 0, 13 * i * i + 1, 5 };
	memcpy(b, a, sizeof a);
	/* the same first packet and times, the others' sizes and directions reversed: each
	 * direction has the same sizes at other times */
	for (unsigned i = 1; i < 6; i++)
		b[i].payload = a[6 - i].payload, b[i].from_b = a[6 - i].from_b;
	char *ta = convert(a, 6, 0, 0, "csv"), *tb = convert(b, 6, 0, 0, "csv");
	CHECK(ta && tb);
	if (ta && tb) {
		const char *ra = row_of(ta, "10.0.5.1,"), *rb = row_of(tb, "10.0.5.1,");
		CHECK(ra && rb);
		/* columns 26-37: the _ps groups (1-based 26..37 after 25 commas) */
		for (int pass = 0; ra && rb && pass < 2; pass++) {
			const char *p[2] = { ra, rb };
			size_t off[2], len[2];
			for (int k = 0; k < 2; k++) {
				const char *q = p[k];
				for (int c = 0; c < 25; c++)
					q = strchr(q, ',') + 1;
				off[k] = (size_t)(q - p[k]);
				const char *e = q;
				for (int c = 0; c < 12; c++)
					e = strchr(e, ',') + 1;
				len[k] = (size_t)(e - q);
			}
			CHECK(len[0] == len[1] && memcmp(ra + off[0], rb + off[1], len[0]) == 0);
		}
		CHECK(strcmp(ra, rb) != 0); /* while the gaps differ */
	}
	free(ta);
	free(tb);
}

NFM_TEST(json_has_arrays_and_signed_values)
{
	char *text = convert(conn, nconn(), 0, 2, "json");
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(strstr(text, "\"expiration_id\":-1,") != NULL);
	CHECK(strstr(text, "\"splt_direction\":[0, 1],\"splt_ps\":[58, 58],\"splt_piat_ms\":[0, 1]}") != NULL);
	free(text);
}

static void put_hex(FILE *fp, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%02x", (unsigned char)s[i]);
}

/* The expectation of xlsx_check.py cells from CSV text: row r of the CSV is row r of the
 * sheet; quoted cells and addresses are text, the rest numbers. */
static int expect_from_csv(FILE *fp, const char *csv)
{
	unsigned row = 1;
	for (const char *p = csv; *p; row++) {
		unsigned col = 1;
		for (;; col++) {
			size_t n;
			int quoted = *p == '"';
			if (quoted) {
				n = strcspn(p + 1, "\"");
				fprintf(fp, "%u %u str ", row, col);
				put_hex(fp, p + 1, n);
				p += n + 2;
			} else {
				n = strcspn(p, ",\n");
				size_t dots = 0;
				for (size_t i = 0; i < n; i++)
					dots += p[i] == '.' || p[i] == ':';
				const char *kind = row == 1 || dots > 1 ? "str" : dots || *p == '-' ? "f64" : "u64";
				fprintf(fp, "%u %u %s ", row, col, kind);
				put_hex(fp, p, n);
				p += n;
			}
			fputc('\n', fp);
			if (*p != ',')
				break;
			p++;
		}
		if (*p != '\n')
			return 0;
		p++;
	}
	return row > 2;
}

/* XLSX: the cells of the CSV, the signed value a number, a list the text the CSV shows. */
NFM_TEST(xlsx_cells)
{
	char path[48];
	char *bin = convert_keep(conn, nconn(), 0, 2, "xlsx", path);
	char *csv = convert(conn, nconn(), 0, 2, "csv");
	CHECK(bin != NULL && csv != NULL);
	const char *py = nfm_python(true);
	if (!py) {
		printf("skip: no python3 with openpyxl (python3-openpyxl): cells not read back\n");
	} else if (csv) {
		char expect[64];
		snprintf(expect, sizeof expect, "%s.expect", path);
		FILE *fp = fopen(expect, "w");
		CHECK(fp != NULL);
		if (fp) {
			CHECK(expect_from_csv(fp, csv));
			fclose(fp);
			CHECK(nfm_pycheck(py, "cells", path, expect));
		}
		unlink(expect);
	}
	free(bin);
	free(csv);
	unlink(path);
}

NFM_TEST(splt_bounds_and_state)
{
	struct nfm_module m;
	struct nfm_error err;
	CHECK(nfm_mod_splt_init(&m, 0, &err) == NFM_ERR_INVALID);
	CHECK(nfm_mod_splt_init(&m, NFM_SPLT_MAX + 1, &err) == NFM_ERR_INVALID);
	CHECK(nfm_mod_splt_init(&m, 1, &err) == 0 && m.state_size == nfm_splt_state_size(1));
	CHECK(nfm_mod_splt_init(&m, NFM_SPLT_MAX, &err) == 0 && m.param == NFM_SPLT_MAX);
	/* header 10 bytes, a direction bit, 4 bytes of size and 8 of gap a packet, aligned */
	CHECK_EQ_U(nfm_splt_state_size(8), 112);
	CHECK_EQ_U(nfm_splt_state_size(255), 3104);
	CHECK(nfm_mod_nfstream.state_size <= 320);
	/* N = 255 with a flow of 300 packets: the first 255 kept, none past them */
	struct spec many[300];
	for (unsigned i = 0; i < 300; i++)
		many[i] = (struct spec){ 1000000ULL * i, 0, K_UDP4, 0, i % 7, 6 };
	char *text = convert(many, 300, 0, NFM_SPLT_MAX, "csv");
	CHECK(text != NULL);
	if (text) {
		const char *r = row_of(text, "10.0.6.1,");
		CHECK(r && strstr(r, ", 46, 47, 48, 42, 43, 44]\",\"[0, 1, 1, 1,") != NULL);
		CHECK(r && strstr(r, "-1") == NULL);
	}
	free(text);
}

/* ---- exact moments ---- */

static double direct_std(const uint64_t *x, size_t n)
{
	if (n < 2)
		return 0;
	long double m = 0, s = 0;
	for (size_t i = 0; i < n; i++)
		m += x[i];
	m /= n;
	for (size_t i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	return (double)sqrtl(s / (n - 1));
}

NFM_TEST(moments_exact)
{
	uint64_t x[200];
	unsigned seed = 12345;
	for (int round = 0; round < 50; round++) {
		size_t n = 1 + (size_t)(round * 4 % 200);
		uint64_t sum = 0;
		struct nfm_sumsq sq = { 0, 0 };
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			x[i] = round % 2 ? seed % 1600 : (uint64_t)seed * 65537u;
			sum += x[i];
			nfm_sumsq_add(&sq, x[i]);
		}
		double a = nfm_moment_sample_std(n, sum, nfm_sumsq_get(&sq)), b = direct_std(x, n);
		CHECK(fabs(a - b) <= 1e-9 * (b > 1 ? b : 1));
		CHECK(nfm_moment_mean(sum, n) == (double)((long double)sum / n));
	}
	/* identical samples: exactly 0, never a tiny negative variance */
	CHECK(nfm_moment_sample_std(3, 3 * 1500, (nfm_u128)3 * 1500 * 1500) == 0.0);
	CHECK(nfm_moment_sample_std(1, 7, 49) == 0.0 && nfm_moment_mean(0, 0) == 0.0);
	/* 2^41 samples, half 2^23 and half 0: mean 2^22, sample std 2^22 * sqrt(n / (n - 1)) */
	uint64_t n = 1ULL << 41, sum = 1ULL << 63;
	CHECK(fabs(nfm_moment_sample_std(n, sum, (nfm_u128)1 << 86) - 4194304.0) < 1e-3);
	/* n * sumsq beyond 128 bits (the samples 2^64 - 1 and 0): the long double path,
	 * std (2^64 - 1) / sqrt(2) */
	double s = nfm_moment_sample_std(2, UINT64_MAX, (nfm_u128)UINT64_MAX * UINT64_MAX);
	CHECK(fabs(s / ((double)UINT64_MAX / sqrt(2.0)) - 1) < 1e-12);
}

/* ---- signed and list values ---- */

static int64_t at_sq(const void *base, size_t i)
{
	(void)base;
	return i == 1 ? INT64_MIN : (int64_t)(i * i) - 1;
}

NFM_TEST(signed_and_list_text)
{
	struct nfm_value v;
	char buf[NFM_LIST_TEXT_MAX + 1];
	memset(&v, 0, sizeof v);
	v.type = NFM_V_I64;
	v.i = -1;
	CHECK(nfm_value_format(&v, 0, buf, sizeof buf) == 2 && strcmp(buf, "-1") == 0);
	v.i = INT64_MIN;
	nfm_value_format(&v, 0, buf, sizeof buf);
	CHECK_STR(buf, "-9223372036854775808");
	v.type = NFM_V_LIST;
	v.list.at = at_sq;
	v.list.n = 4;
	nfm_value_format(&v, 0, buf, sizeof buf);
	CHECK_STR(buf, "[-1, -9223372036854775808, 3, 8]");
	CHECK(nfm_value_format(&v, 0, buf, 6) == 5 && strcmp(buf, "[-1, ") == 0); /* cut */
	v.list.n = 0;
	nfm_value_format(&v, 0, buf, sizeof buf);
	CHECK_STR(buf, "[]");
	v.list.n = NFM_LIST_MAX; /* the longest list fits its room */
	CHECK(nfm_value_format(&v, 0, buf, sizeof buf) < NFM_LIST_TEXT_MAX);
	CHECK(!nfm_value_is_plain(NFM_V_LIST) && nfm_value_is_plain(NFM_V_I64));
}

NFM_TEST_MAIN_BEGIN()
	RUN(header_is_nfstreams);
	RUN(connection_by_hand);
	RUN(other_flows_by_hand);
	RUN(same_rows_for_any_worker_count);
	RUN(size_statistics_do_not_depend_on_order);
	RUN(json_has_arrays_and_signed_values);
	RUN(xlsx_cells);
	RUN(splt_bounds_and_state);
	RUN(moments_exact);
	RUN(signed_and_list_text);
NFM_TEST_MAIN_END()
