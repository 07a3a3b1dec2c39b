/* The worked example of a feature module: a module written here, in the test, that adds
 * one column through the seam alone (flow/module.h), with no edit anywhere else in the
 * program. It keeps, per flow, the first four payload bytes of the flow's first packet
 * that carries payload (so it asks the engine for payload bytes) and counts the packets
 * of each direction that carry payload; its column shows them as "hex/fwd/bwd". The test
 * runs it through the single meter and through the worker pipeline with 1 to 4 workers
 * into the CSV exporter, and checks the column of every flow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/exporter.h"
#include "feature/fields.h"
#include "flow/meter.h"
#include "flow/module.h"
#include "flow/pipeline.h"
#include "nfm_frame.h"
#include "nfm_test.h"

/* ---- the module: everything it takes is in this block ---- */

struct probe_state {
	uint8_t first[4];
	uint8_t nfirst;
	uint8_t seen;            /* a payload packet was seen */
	uint32_t payload_pkts[2];
	uint32_t finished;       /* set by the finish hook */
};

static void probe_packet(void *state, const struct nfm_module_packet *p)
{
	struct probe_state *s = state;
	if (!p->pkt->l4_payload_len)
		return;
	s->payload_pkts[p->dir]++;
	if (!s->seen && p->payload) {
		s->seen = 1;
		s->nfirst = (uint8_t)(p->payload_len < 4 ? p->payload_len : 4);
		memcpy(s->first, p->payload, s->nfirst);
	}
}

static void probe_finish(void *state, const struct nfm_flow_record *rec, unsigned why)
{
	(void)why;
	struct probe_state *s = state;
	s->finished = (uint32_t)(rec->pkts[0] + rec->pkts[1]);
}

static void get_probe(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	const struct probe_state *s = state;
	size_t n = 0;
	for (unsigned i = 0; i < s->nfirst; i++)
		n += (size_t)snprintf(v->buf + n, sizeof v->buf - n, "%02x", s->first[i]);
	snprintf(v->buf + n, sizeof v->buf - n, "/%u/%u/%u", s->payload_pkts[0],
		 s->payload_pkts[1], s->finished);
	v->type = NFM_V_STR;
	v->s = v->buf;
}

static const struct nfm_field probe_fields[] = {
	{ "payload_probe", NFM_V_STR, 0, NFM_SET_EXT, "",
	  "First 4 payload bytes (hex) / forward / backward payload packets / packets at the end",
	  get_probe },
};

static const struct nfm_module probe_module = {
	.name = "payload_probe",
	.desc = "an example module (tests/unit/test_module.c)",
	.state_size = sizeof(struct probe_state),
	.state_align = 4,
	.payload_bytes = 4,
	.packet = probe_packet,
	.finish = probe_finish,
	.fields = probe_fields,
	.nfields = 1,
};

/* ---- the traffic: 40 UDP conversations, each a request with payload "Qnnn..." and a
 * reply with payload "Rnnn...", plus an empty datagram; and a TCP handshake ---- */

#define NCONV 40

static size_t conv_frame(struct frame *f, unsigned c, int reply, size_t payload)
{
	f->n = 0;
	eth(f, 0x0800);
	uint32_t a = IP4(10, 1, 0, c + 1), b = IP4(10, 2, 0, 1);
	ipv4(f, 17, reply ? b : a, reply ? a : b, 8 + payload, 0, 0);
	udp_hdr(f, reply ? 53 : 40000 + c, reply ? 40000 + c : 53, (unsigned)(8 + payload));
	for (size_t i = 0; i < payload; i++)
		put8(f, i == 0 ? (reply ? 'R' : 'Q') : '0' + (unsigned)((c + i) % 10));
	return f->n;
}

/* The frames in order: request, empty datagram, reply, for each conversation in turn. */
static size_t traffic(struct frame *out, size_t cap)
{
	size_t n = 0;
	for (unsigned c = 0; c < NCONV && n + 3 <= cap; c++) {
		conv_frame(&out[n++], c, 0, 6);
		conv_frame(&out[n++], c, 0, 0);
		conv_frame(&out[n++], c, 1, 2);
	}
	return n;
}

/* What the column must read for conversation c. */
static void expected(unsigned c, char *buf, size_t cap)
{
	snprintf(buf, cap, "51%02x%02x%02x/1/1/3", '0' + (c + 1) % 10, '0' + (c + 2) % 10,
		 '0' + (c + 3) % 10);
}

/* ---- running it ---- */

struct out {
	struct nfm_exporter *csv;
	struct nfm_error err;
};

static int to_csv(void *ctx, const struct nfm_flow_record *rec)
{
	struct out *o = ctx;
	return nfm_exporter_write(o->csv, rec, &o->err);
}

struct piped {
	struct nfm_exporter *csv;
	struct nfm_error err;
};

static int enc(void *ctx, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct piped *p = ctx;
	return nfm_exporter_encode(p->csv, rec, row);
}

static int emit(void *ctx, const uint8_t *row, size_t len)
{
	struct piped *p = ctx;
	return nfm_exporter_write_row(p->csv, row, len, &p->err);
}

/* Converts the traffic with the module into CSV at path: through one meter (workers 0)
 * or the pipeline. Returns the file's text (caller frees). */
static char *convert(const char *path, unsigned workers, const struct nfm_layout *lay,
		     const struct nfm_columns *cols)
{
	static struct frame fr[3 * NCONV];
	size_t n = traffic(fr, 3 * NCONV);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_exporter *csv = NULL;
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_export_dest dest = { .path = path, .set = set };
	if (!set || nfm_exporter_open(&csv, nfm_exporter_find("csv"), &dest, cols, &err)) {
		nfm_outset_free(set);
		return NULL;
	}
	struct nfm_meter_config mc;
	nfm_meter_config_default(&mc);
	mc.layout = lay;
	int rc = 0;
	if (workers == 0) {
		struct out o = { .csv = csv };
		struct nfm_meter *m = nfm_meter_new(&mc, to_csv, &o);
		for (size_t i = 0; m && i < n && !rc; i++)
			rc = nfm_meter_frame(m, fr[i].b, (uint32_t)fr[i].n, (uint32_t)fr[i].n,
					     1700000000000000000ULL + i * 1000, NFM_LINK_ETHERNET);
		rc = rc || !m || nfm_meter_finish(m);
		nfm_meter_free(m);
	} else {
		struct piped p = { .csv = csv };
		struct nfm_pipeline_config pc = { .meter = mc, .workers = workers, .encode = enc,
						  .emit = emit, .ctx = &p };
		struct nfm_pipeline *pl = nfm_pipeline_new(&pc, NULL, NULL);
		for (size_t i = 0; pl && i < n && !rc; i++) {
			struct nfm_raw_packet raw = { .data = fr[i].b, .cap_len = (uint32_t)fr[i].n,
						      .wire_len = (uint32_t)fr[i].n,
						      .ts_ns = 1700000000000000000ULL + i * 1000,
						      .linktype = NFM_LINK_ETHERNET };
			rc = nfm_pipeline_frame(pl, &raw);
		}
		rc = rc || !pl || nfm_pipeline_finish(pl, 1);
		nfm_pipeline_free(pl);
	}
	if (rc || nfm_exporter_close(csv, &err) || nfm_outset_commit(set, &err)) {
		if (rc)
			nfm_exporter_abort(csv);
		nfm_outset_free(set);
		return NULL;
	}
	nfm_outset_free(set);
	FILE *fp = fopen(path, "r");
	char *text = calloc(1, 1 << 16);
	if (fp && text)
		(void)!fread(text, 1, (1 << 16) - 1, fp);
	if (fp)
		fclose(fp);
	return text;
}

NFM_TEST(example_module_adds_a_column)
{
	const struct nfm_module *mods[] = { &probe_module };
	struct nfm_layout lay;
	struct nfm_error err;
	CHECK(nfm_layout_build(&lay, mods, 1, &err) == 0);
	CHECK(lay.payload_bytes == 4 && lay.size >= sizeof(struct probe_state));
	struct nfm_columns cols = { 0 };
	CHECK(nfm_columns_parse(&cols, "src_ip,src_port,total_packets,payload_probe", &lay, &err) == 0);
	char path[] = "/tmp/nfm_test_module_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	char *ref = NULL;
	for (unsigned w = 0; w <= 4; w++) {
		unlink(path);
		char *text = convert(path, w, &lay, &cols);
		CHECK(text != NULL);
		if (!text)
			continue;
		CHECK(strncmp(text, "src_ip,src_port,total_packets,payload_probe\n", 44) == 0);
		unsigned rows = 0;
		for (unsigned c = 0; c < NCONV; c++) {
			char want[96], exp[32];
			expected(c, exp, sizeof exp);
			snprintf(want, sizeof want, "\n10.1.0.%u,%u,3,%s\n", c + 1, 40000 + c, exp);
			if (strstr(text, want))
				rows++;
			else
				fprintf(stderr, "workers %u: no row %s", w, want + 1);
		}
		CHECK_EQ_U(rows, NCONV);
		if (!ref)
			ref = text; /* the single meter's output */
		else {
			CHECK(strcmp(ref, text) == 0); /* the same for any worker count */
			free(text);
		}
	}
	free(ref);
	unlink(path);
	nfm_columns_free(&cols);
}

NFM_TEST(layout_rules)
{
	struct nfm_layout lay;
	struct nfm_error err;
	const struct nfm_module *twice[] = { &probe_module, &probe_module };
	CHECK(nfm_layout_build(&lay, twice, 2, &err) == NFM_ERR_INVALID);
	struct nfm_module wide = probe_module;
	wide.state_align = 16;
	const struct nfm_module *w[] = { &wide };
	CHECK(nfm_layout_build(&lay, w, 1, &err) == NFM_ERR_INVALID);
	CHECK(nfm_layout_build(&lay, NULL, 0, &err) == 0 && lay.size == 0 && lay.n == 0);
}

NFM_TEST_MAIN_BEGIN()
	RUN(example_module_adds_a_column);
	RUN(layout_rules);
NFM_TEST_MAIN_END()
