/* The nfcapd exporter (-of nfcapd) fed by the meter and by the pipeline with the netflow
 * module: the file holds the flows' NetFlow records, byte for byte and as nfdump reads
 * them (nfcapd_check.h), the same for any number of workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export/exporter.h"
#include "export/nfcapd_file.h"
#include "feature/netflow.h"
#include "flow/meter.h"
#include "flow/module.h"
#include "flow/pipeline.h"
#include "nfcapd_check.h"
#include "nfm_frame.h"
#include "nfm_test.h"


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
	struct nfm_exporter *encoder; /* pipeline: rows encoded by an encoder without a
				       * file, written by ex (as time slices do) */
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
	return nfm_exporter_encode(s->encoder, rec, row);
}

static int emit(void *ctx, const uint8_t *row, size_t len)
{
	struct sink_ctx *s = ctx;
	return nfm_exporter_write_row(s->ex, row, len, &s->err);
}

/* Converts the traffic into path with the nfcapd exporter: through one meter (workers
 * 0) or the pipeline. Returns 0 on success; s->want gets the records (meter only); the
 * counts are read after a flush. */
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
		struct nfm_export_dest edest = dest;
		edest.encode_only = true;
		rc = nfm_exporter_open(&s->encoder, nfm_exporter_find("nfcapd"), &edest, &cols, &err);
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
		if (s->encoder && nfm_exporter_close(s->encoder, &err))
			rc = 1;
	}
	if (rc == 0) /* as the fan-out does: counts are final after a flush */
		rc = nfm_exporter_flush(s->ex, &err);
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
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && c.records == 8 && c.messages == 1 &&
	      c.bytes == (uint64_t)sb.st_size);
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

	/* the pipeline, rows made by an encoder without a file (as for time slices): the
	 * same records (in first-packet order), the same bytes for any number of workers;
	 * LZ4 */
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
				hits += record_matches(q.records, q.records_len, &o, &s.want[i]) &&
					o == next;
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

	CHECK_EQ_U(count_entries(dir), 3); /* the encoders made no file */

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
	/* an encoder has no file to write a row into */
	dest.layout = &lay;
	dest.encode_only = true;
	CHECK(nfm_exporter_open(&ex, ops, &dest, &cols, &err) == 0 && ex);
	if (ex) {
		uint8_t row[NFM_NFCAPD_RECORD_MAX];
		size_t len = nfm_nfcapd_encode(&s.want[0], row);
		CHECK(nfm_exporter_write_row(ex, row, len, &err) == NFM_ERR_INVALID);
		CHECK(strstr(err.msg, path) != NULL);
		nfm_exporter_abort(ex);
	}
	CHECK_EQ_U(count_entries(dir), 3);
	nfm_columns_free(&cols);
	nfm_outset_free(set);
	rm_tree(dir);
}

NFM_TEST_MAIN_BEGIN()
	setenv("TZ", "UTC", 1);
	RUN(exporter_through_meter_and_pipeline);
NFM_TEST_MAIN_END()
