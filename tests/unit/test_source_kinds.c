/* The capture sources as a registry: the built-in "stream" kind opened by name reads
 * what nfm_source_open_mem reads; a kind the product does not know ("scripted", in
 * nfm_script_source.h) is added to a registry at run time and opened by name, and its
 * idle ticks come through nfm_source_next; unknown and duplicate kinds are refused; every
 * file format in the table is recognised by its magic, and by no other format's probe. */
#include <stdlib.h>
#include <string.h>

#include "nfm_script_source.h"
#include "nfm_test.h"

#define NS 1000000000ULL

static void st32le(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A classic pcap (microseconds, Ethernet) with two 60-byte packets; its length. */
static size_t tiny_pcap(uint8_t *b)
{
	memset(b, 0, 24 + 2 * (16 + 60));
	st32le(b, 0xa1b2c3d4u);
	b[4] = 2;
	b[6] = 4;
	st32le(b + 16, 65535);
	st32le(b + 20, 1);
	size_t at = 24;
	for (uint32_t i = 0; i < 2; i++) {
		st32le(b + at, 1700000000u + i);
		st32le(b + at + 4, 250000u * i);
		st32le(b + at + 8, 60);
		st32le(b + at + 12, 60);
		script_udp_frame(b + at + 16, 0x0a000001u, 0xc0000201u + i, 1000, 53);
		at += 16 + 60;
	}
	return at;
}

NFM_TEST(stream_kind_by_name)
{
	uint8_t b[200];
	size_t len = tiny_pcap(b);
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_source *x, *y;
	struct nfm_stream_opts o = { NFM_SOURCE_MEMORY, b, len };
	CHECK_EQ_U(nfm_source_open_kind(&x, NULL, "stream", "tiny", &o, &err), 0);
	CHECK_EQ_U(nfm_source_open_mem(&y, b, len, "tiny", &err), 0);
	if (!x || !y)
		return;
	CHECK_STR(nfm_source_kind_name(x), "stream");
	CHECK_STR(nfm_source_format_name(x), "pcap");
	CHECK_EQ_U(nfm_source_format(x), NFM_CAPFMT_PCAP);
	CHECK_EQ_U(nfm_source_linktype(x), 1);
	CHECK_EQ_U(nfm_source_file_size(x), len);
	struct nfm_raw_packet p, q;
	int a, c;
	unsigned n = 0;
	do {
		a = nfm_source_next(x, &p, &err);
		c = nfm_source_next(y, &q, &err);
		CHECK_EQ_U(a, c);
		if (a == 1 && c == 1) {
			n++;
			CHECK_EQ_U(p.ts_ns, q.ts_ns);
			CHECK_EQ_U(p.offset, q.offset);
			CHECK(p.cap_len == 60 && memcmp(p.data, q.data, 60) == 0);
		}
	} while (a == 1 && c == 1);
	CHECK_EQ_U(n, 2);
	CHECK_EQ_U(a, 0);
	CHECK_EQ_U(nfm_source_bytes_read(x), len);
	nfm_source_close(x);
	nfm_source_close(y);

	/* The same errors as nfm_source_open, through the kind. */
	CHECK(nfm_source_open_kind(&x, NULL, "stream", NULL, NULL, &err) == NFM_ERR_INVALID);
	CHECK_STR(err.msg, "no input file given");
	CHECK(x == NULL);
	uint8_t junk[8] = "snoop";
	o.data = junk;
	o.len = sizeof junk;
	CHECK(nfm_source_open_kind(&x, NULL, "stream", NULL, &o, &err) == NFM_ERR_FORMAT);
	CHECK_STR(err.msg, "(memory): not a pcap or pcapng capture (Solaris snoop format)");
}

NFM_TEST(unknown_and_duplicate_kinds)
{
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_source *s = NULL;
	CHECK(nfm_source_open_kind(&s, NULL, "scripted", "x", NULL, &err) == NFM_ERR_INVALID);
	CHECK_STR(err.msg, "unknown source kind \"scripted\"");
	CHECK(s == NULL);
	struct nfm_source_registry *reg = nfm_source_registry_new();
	CHECK(reg != NULL);
	if (!reg)
		return;
	CHECK(nfm_source_open_kind(&s, reg, "scripted", "x", NULL, &err) == NFM_ERR_INVALID);
	CHECK_EQ_U(nfm_source_registry_add(reg, script_kind(), &err), 0);
	CHECK(nfm_source_registry_add(reg, script_kind(), &err) == NFM_ERR_INVALID);
	CHECK_STR(err.msg, "source kind \"scripted\" is already registered");
	CHECK(nfm_source_registry_add(reg, &nfm_source_kind_stream, &err) == NFM_ERR_INVALID);
	struct nfm_source_ops no_open = { .name = "x", .next = script_next };
	CHECK(nfm_source_registry_add(reg, &no_open, &err) == NFM_ERR_INVALID);
	/* The kind's own errors come through. */
	CHECK(nfm_source_open_kind(&s, reg, "scripted", "x", NULL, &err) == NFM_ERR_INVALID);
	CHECK_STR(err.msg, "x: no script");
	/* The built-in kinds stay reachable through a registry. */
	uint8_t b[200];
	struct nfm_stream_opts o = { NFM_SOURCE_MEMORY, b, tiny_pcap(b) };
	CHECK_EQ_U(nfm_source_open_kind(&s, reg, "stream", NULL, &o, &err), 0);
	nfm_source_close(s);
	nfm_source_registry_free(reg);
	nfm_source_registry_free(NULL);
}

NFM_TEST(scripted_kind_yields_packets_and_idle_ticks)
{
	uint8_t f[60];
	script_udp_frame(f, 0x0a000001u, 0xc0000201u, 1000, 53);
	const struct script_step steps[] = {
		{ 5 * NS, 0, f, 60 }, { 6 * NS, 1, NULL, 0 }, { 7 * NS, 0, f, 60 },
		{ 9 * NS, 1, NULL, 0 },
	};
	struct script sc = { steps, 4, 1 };
	struct nfm_source_registry *reg = script_registry();
	CHECK(reg != NULL);
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_source *s;
	CHECK_EQ_U(nfm_source_open_kind(&s, reg, "scripted", "live0", &sc, &err), 0);
	nfm_source_registry_free(reg);
	if (!s)
		return;
	CHECK_STR(nfm_source_kind_name(s), "scripted");
	CHECK_STR(nfm_source_format_name(s), "scripted");
	CHECK_EQ_U(nfm_source_format(s), NFM_CAPFMT_NONE);
	CHECK_EQ_U(nfm_source_compression(s), NFM_COMP_NONE);
	CHECK_EQ_U(nfm_source_file_size(s), 0);
	CHECK_EQ_U(nfm_source_bytes_read(s), 0);
	CHECK_EQ_U(nfm_source_linktype(s), 1);
	const int want[] = { 1, NFM_SOURCE_IDLE, 1, NFM_SOURCE_IDLE, 0, 0 };
	const uint64_t ts[] = { 5 * NS, 6 * NS, 7 * NS, 9 * NS };
	for (unsigned i = 0; i < 6; i++) {
		struct nfm_raw_packet p;
		int rc = nfm_source_next(s, &p, &err);
		CHECK_EQ_U(rc, want[i]);
		if (rc > 0)
			CHECK_EQ_U(p.ts_ns, ts[i]);
		if (rc == 1)
			CHECK(p.data == f && p.cap_len == 60);
	}
	CHECK_EQ_U(nfm_source_stats(s)->records, 2); /* ticks are not records */
	nfm_source_close(s);
}

/* Every format of the table: a unique name, a magic its probe accepts and no other
 * probe does, and the magic alone is claimed by that format (its own error about a
 * short header, not "not a pcap or pcapng capture"). */
NFM_TEST(formats_table)
{
	size_t n = 0;
	while (nfm_format_at(n))
		n++;
	CHECK(n >= 2);
	int seen_pcap = 0, seen_pcapng = 0;
	for (size_t i = 0; i < n; i++) {
		const struct nfm_format_ops *f = nfm_format_at(i);
		CHECK(f->name && f->probe && f->open && f->next && f->magic);
		CHECK(f->magic_len >= 1 && f->magic_len <= NFM_FORMAT_PROBE_LEN);
		seen_pcap += f == &nfm_format_pcap;
		seen_pcapng += f == &nfm_format_pcapng;
		for (size_t j = 0; j < n; j++) {
			const struct nfm_format_ops *g = nfm_format_at(j);
			CHECK_EQ_U(g->probe(f->magic, f->magic_len), i == j);
			if (i != j)
				CHECK(strcmp(f->name, g->name) != 0);
		}
		struct nfm_source *s;
		struct nfm_error err;
		nfm_error_clear(&err);
		int rc = nfm_source_open_mem(&s, f->magic, f->magic_len, "m", &err);
		CHECK(rc != 0 && rc != NFM_ERR_FORMAT);
		if (rc == 0)
			nfm_source_close(s);
	}
	CHECK_EQ_U(seen_pcap, 1);
	CHECK_EQ_U(seen_pcapng, 1);
}

NFM_TEST_MAIN_BEGIN()
	RUN(stream_kind_by_name);
	RUN(unknown_and_duplicate_kinds);
	RUN(scripted_kind_yields_packets_and_idle_ticks);
	RUN(formats_table);
NFM_TEST_MAIN_END()
