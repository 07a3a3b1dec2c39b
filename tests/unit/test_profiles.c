/* The profile registry and what a run builds from a profile (feature/profiles.h): the
 * program's profiles give exactly the columns the field sets gave before profiles
 * existed; a profile of column names renames fields and may repeat a name; --columns
 * picks fields and profile names across modules and adds the modules they need; JSON
 * keys of repeated names follow pandas. Profiles and modules defined here show that a
 * profile is data only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/exporter.h"
#include "feature/columns_doc.h"
#include "feature/fields.h"
#include "feature/modules.h"
#include "feature/netflow.h"
#include "feature/profiles.h"
#include "flow/meter.h"
#include "flow/table.h"
#include "nfm_test.h"

/* ---- a module and a profile of the test's own ---- */

struct probe_state {
	uint64_t packets;
};

static void probe_packet(void *state, const struct nfm_module_packet *p)
{
	(void)p;
	((struct probe_state *)state)->packets++;
}

static void get_probe(const struct nfm_flow_record *r, const void *state, struct nfm_value *v)
{
	(void)r;
	v->type = NFM_V_U64;
	v->u = ((const struct probe_state *)state)->packets * 10;
}

static const struct nfm_field probe_fields[] = {
	{ "probe_tens", NFM_V_U64, 0, NFM_SET_EXT, "", "Ten times the packets the module saw.", get_probe },
};

static const struct nfm_module probe_module = {
	.name = "probe",
	.desc = "a module of the test",
	.state_size = sizeof(struct probe_state),
	.state_align = 8,
	.heap_bytes = 1000,
	.packet = probe_packet,
	.fields = probe_fields,
	.nfields = 1,
};

static const struct nfm_module *const test_modules[] = { &probe_module };

/* Names of another meter: a field written twice under one name (as CIC-IDS2017 writes
 * "Fwd Header Length"), a field under its own name (header NULL), a module's field. */
static const struct nfm_profile_column test_columns[] = {
	{ "src_ip", "Source IP" },
	{ "total_packets", "Packets" },
	{ "probe_tens", "Tens" },
	{ "forward_bytes", "Bytes" },
	{ "dst_port", NULL },
	{ "backward_bytes", "Bytes" },
	{ "forward_bytes", "Bytes.1" },
};

static const struct nfm_profile test_profile = {
	.name = "test",
	.desc = "a profile of the test",
	NFM_PROFILE_MODULES(test_modules),
	NFM_PROFILE_COLUMNS(test_columns),
	.idle_timeout_ns = 5000000000ull,
};

static const struct nfm_profile_column bad_columns[] = { { "src_ip", "A" }, { "no_such_field", "B" } };
static const struct nfm_profile bad_profile = { .name = "bad", NFM_PROFILE_COLUMNS(bad_columns) };

/* Column i reads the field named field and is written as name. */
static int column_is(const struct nfm_columns *c, size_t i, const char *field, const char *name)
{
	return i < c->n && strcmp(c->f[i]->name, field) == 0 && strcmp(nfm_column_name(c, i), name) == 0;
}

static int same_columns(const struct nfm_columns *a, const struct nfm_columns *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->f[i] != b->f[i] || a->off[i] != b->off[i] ||
		    strcmp(nfm_column_name(a, i), nfm_column_name(b, i)) != 0)
			return 0;
	return 1;
}

NFM_TEST(registry)
{
	CHECK(nfm_profile_default() == nfm_profile_find("nexus"));
	CHECK(nfm_profile_at(0) == nfm_profile_default());
	CHECK(nfm_profile_find("extended") != NULL);
	CHECK(nfm_profile_find("Nexus") == NULL && nfm_profile_find("") == NULL &&
	      nfm_profile_find(NULL) == NULL);
	/* every profile: a unique name, a description, columns that resolve */
	const struct nfm_profile *p;
	size_t n = 0;
	for (size_t i = 0; (p = nfm_profile_at(i)); i++, n++) {
		CHECK(p->name && *p->name && p->desc && *p->desc && p->timeouts_doc);
		CHECK(nfm_profile_find(p->name) == p);
		size_t ncols = 0, bytes = 0;
		struct nfm_error err;
		nfm_error_clear(&err);
		CHECK(nfm_profile_size(p, &ncols, &bytes, &err) == 0);
		if (err.msg[0])
			fprintf(stderr, "profile %s: %s\n", p->name, err.msg);
		CHECK(ncols > 0 && bytes >= NFM_FLOW_CORE_SIZE);
	}
	CHECK(n >= 2 && nfm_profile_at(n) == NULL);
}

/* nexus and extended write exactly what the field sets wrote, with and without
 * --merge's source_file, and with the NetFlow module added. */
NFM_TEST(program_profiles_keep_their_columns)
{
	struct nfm_error err;
	const struct nfm_module *nf[] = { &nfm_mod_netflow };
	for (int merge = 0; merge < 2; merge++)
		for (int netflow = 0; netflow < 2; netflow++) {
			struct nfm_profile_spec spec = { .source_file = merge, .extra = nf,
							 .nextra = (size_t)netflow };
			struct nfm_layout lay, want_lay;
			struct nfm_columns cols = { 0 }, want = { 0 };
			/* nexus (the default) */
			CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == 0);
			const struct nfm_module *m0[] = { &nfm_mod_netflow };
			CHECK(nfm_layout_build(&want_lay, m0, (size_t)netflow, &err) == 0);
			CHECK(nfm_columns_select(&want, NFM_SET_BASE | (merge ? NFM_SET_MERGE : 0), &want_lay) == 0);
			CHECK(same_columns(&cols, &want));
			CHECK_EQ_U(cols.n, 34u + (unsigned)merge);
			CHECK_EQ_U(lay.n, (unsigned)netflow);
			/* extended */
			spec.profile = nfm_profile_find("extended");
			CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == 0);
			const struct nfm_module *m1[] = { &nfm_mod_tunnel, &nfm_mod_netflow };
			CHECK(nfm_layout_build(&want_lay, m1, 1 + (size_t)netflow, &err) == 0);
			CHECK(nfm_columns_select(&want, NFM_SET_BASE | NFM_SET_EXT | (merge ? NFM_SET_MERGE : 0),
						 &want_lay) == 0);
			CHECK(same_columns(&cols, &want));
			CHECK_EQ_U(cols.n, 41u + (unsigned)merge);
			CHECK(lay.n == want_lay.n && lay.size == want_lay.size);
			if (merge)
				CHECK(column_is(&cols, 34, "source_file", "source_file"));
			nfm_columns_free(&cols);
			nfm_columns_free(&want);
		}
}

NFM_TEST(profile_of_names)
{
	struct nfm_error err;
	struct nfm_layout lay;
	struct nfm_columns cols = { 0 };
	struct nfm_profile_spec spec = { .profile = &test_profile, .source_file = true };
	CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == 0);
	CHECK_EQ_U(cols.n, 8);
	CHECK(column_is(&cols, 0, "src_ip", "Source IP"));
	CHECK(column_is(&cols, 1, "total_packets", "Packets"));
	CHECK(column_is(&cols, 2, "probe_tens", "Tens"));
	CHECK(column_is(&cols, 3, "forward_bytes", "Bytes"));
	CHECK(column_is(&cols, 4, "dst_port", "dst_port"));
	CHECK(column_is(&cols, 5, "backward_bytes", "Bytes"));
	CHECK(column_is(&cols, 6, "forward_bytes", "Bytes.1"));
	CHECK(column_is(&cols, 7, "source_file", "source_file")); /* --merge: last */
	CHECK(lay.n == 1 && lay.mod[0] == &probe_module);
	CHECK(cols.off[2] == nfm_layout_offset(&lay, &probe_module) && cols.off[0] == SIZE_MAX);
	/* source_file already listed: not twice */
	spec.columns = "source_file,Tens";
	CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == 0);
	CHECK(cols.n == 2 && column_is(&cols, 0, "source_file", "source_file"));
	/* a profile naming a field that is not there */
	spec = (struct nfm_profile_spec){ .profile = &bad_profile };
	nfm_error_clear(&err);
	CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == NFM_ERR_INVALID);
	CHECK(strstr(err.msg, "bad") && strstr(err.msg, "'no_such_field'"));
	CHECK(cols.n == 0 && cols.f == NULL);
	nfm_columns_free(&cols);
}

/* --columns: fields of the engine and of any module, and names of the chosen profile
 * and of the program's profiles; the modules come with the columns that need them. */
NFM_TEST(columns_across_modules)
{
	struct nfm_error err;
	struct nfm_layout lay;
	struct nfm_columns cols = { 0 };
	const struct nfm_module *nf[] = { &nfm_mod_netflow, &nfm_mod_tunnel };
	struct nfm_profile_spec spec = { .columns = "tunnel_id,src_ip,tunnel_type,end_reason" };
	CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == 0);
	CHECK(cols.n == 4 && column_is(&cols, 0, "tunnel_id", "tunnel_id") &&
	      column_is(&cols, 3, "end_reason", "end_reason"));
	CHECK(lay.n == 1 && lay.mod[0] == &nfm_mod_tunnel);
	CHECK(cols.off[0] == 0 && cols.off[1] == SIZE_MAX);
	/* extra modules after the columns', each once */
	spec.extra = nf;
	spec.nextra = 2;
	CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == 0);
	CHECK(lay.n == 2 && lay.mod[0] == &nfm_mod_tunnel && lay.mod[1] == &nfm_mod_netflow);
	CHECK(cols.off[0] == nfm_layout_offset(&lay, &nfm_mod_tunnel));
	/* the engine's columns only: no module, whatever the profile's */
	spec = (struct nfm_profile_spec){ .profile = nfm_profile_find("extended"),
					  .columns = "total_bytes,src_ip" };
	CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == 0);
	CHECK(lay.n == 0 && lay.size == 0 && cols.n == 2);
	/* a profile's names, written as given; a field name stays the field's name; a
	 * name repeated is a column repeated */
	spec = (struct nfm_profile_spec){ .profile = &test_profile,
					  .columns = "Bytes,Tens,forward_bytes,Bytes.1,Bytes,dst_port" };
	CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == 0);
	CHECK(cols.n == 6);
	CHECK(column_is(&cols, 0, "forward_bytes", "Bytes")); /* the first with that name */
	CHECK(column_is(&cols, 1, "probe_tens", "Tens"));
	CHECK(column_is(&cols, 2, "forward_bytes", "forward_bytes"));
	CHECK(column_is(&cols, 3, "forward_bytes", "Bytes.1"));
	CHECK(column_is(&cols, 4, "forward_bytes", "Bytes"));
	CHECK(lay.n == 1 && lay.mod[0] == &probe_module);
	/* a profile's names are found only where a profile has them */
	spec.profile = NULL;
	nfm_error_clear(&err);
	CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == NFM_ERR_INVALID);
	CHECK(strstr(err.msg, "unknown column 'Bytes'") != NULL);
	/* empty names and unknown names */
	static const char *const bad_lists[] = { "", ",src_ip", "src_ip,", "src_ip,,dst_ip",
						 "src_ip, dst_ip", "SRC_IP", "src_ip,nope" };
	static const char *const why[] = { "empty column name", "before the first comma",
					   "after the last comma", "between commas",
					   "unknown column ' dst_ip'", "unknown column 'SRC_IP'",
					   "unknown column 'nope'" };
	for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++) {
		spec.columns = bad_lists[i];
		nfm_error_clear(&err);
		CHECK(nfm_profile_build(&spec, &lay, &cols, &err) == NFM_ERR_INVALID);
		if (!strstr(err.msg, why[i]))
			fprintf(stderr, "FAIL columns_across_modules: '%s' gave '%s'\n", bad_lists[i], err.msg);
		CHECK(strstr(err.msg, why[i]) != NULL);
	}
	nfm_columns_free(&cols);
}

/* Bytes per flow: the entry, the index share, the modules' states and heap. */
NFM_TEST(flow_bytes)
{
	struct nfm_layout lay;
	struct nfm_error err;
	size_t none = nfm_meter_flow_bytes(NULL);
	CHECK_EQ_U(none, NFM_FLOW_CORE_SIZE + 32);
	CHECK(nfm_layout_build(&lay, NULL, 0, &err) == 0);
	CHECK_EQ_U(nfm_meter_flow_bytes(&lay), none);
	const struct nfm_module *m[] = { &nfm_mod_tunnel, &probe_module };
	CHECK(nfm_layout_build(&lay, m, 1, &err) == 0);
	CHECK_EQ_U(nfm_meter_flow_bytes(&lay), none + lay.size);
	CHECK(nfm_layout_build(&lay, m, 2, &err) == 0);
	CHECK_EQ_U(nfm_meter_flow_bytes(&lay), none + lay.size + 1000);
	CHECK(lay.size >= nfm_mod_tunnel.state_size + sizeof(struct probe_state));
	size_t ncols, bytes;
	CHECK(nfm_profile_size(&test_profile, &ncols, &bytes, &err) == 0);
	CHECK(ncols == 7 && bytes == none + 8 + 1000);
}

/* ---- JSON keys of repeated names ---- */

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = calloc(1, 1 << 16);
	if (fp && buf)
		(void)!fread(buf, 1, (1 << 16) - 1, fp);
	if (fp)
		fclose(fp);
	return buf;
}

/* Writes one record with cols as fmt; returns the file's text. */
static char *write_one(const char *fmt, const struct nfm_columns *cols)
{
	char path[] = "/tmp/nfm_test_profiles_XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	close(fd);
	unlink(path);
	struct nfm_flow_record rec;
	memset(&rec, 0, sizeof rec);
	rec.l3 = NFM_L3_IPV4;
	rec.ip_proto = NFM_IPPROTO_UDP;
	rec.src[0] = 10, rec.src[3] = 1;
	rec.dst[0] = 10, rec.dst[3] = 2;
	rec.src_port = 1000;
	rec.dst_port = 53;
	rec.pkts[0] = 3;
	rec.pkts[1] = 2;
	rec.bytes[0] = 300;
	rec.bytes[1] = 200;
	struct nfm_error err;
	nfm_error_clear(&err);
	struct nfm_outset *set = nfm_outset_new(NULL, NULL);
	struct nfm_exporter *ex = NULL;
	struct nfm_export_dest dest = { .path = path, .set = set };
	char *text = NULL;
	if (set && nfm_exporter_open(&ex, nfm_exporter_find(fmt), &dest, cols, &err) == 0) {
		if (nfm_exporter_write(ex, &rec, &err) == 0 && nfm_exporter_close(ex, &err) == 0 &&
		    nfm_outset_commit(set, &err) == 0)
			text = slurp(path);
		else
			fprintf(stderr, "%s: %s\n", fmt, err.msg);
	}
	nfm_outset_free(set);
	unlink(path);
	return text;
}

NFM_TEST(json_keys_of_repeated_names)
{
	struct nfm_columns cols = { 0 };
	const struct nfm_field *fb = nfm_field_find("forward_bytes"), *bb = nfm_field_find("backward_bytes");
	const struct nfm_field *sp = nfm_field_find("src_port");
	/* "X", "X", "X.1", "X", "Y": pandas reads that header as X, X.1, X.1.1, X.2, Y */
	CHECK(nfm_columns_add_named(&cols, fb, SIZE_MAX, "X") == 0);
	CHECK(nfm_columns_add_named(&cols, bb, SIZE_MAX, "X") == 0);
	CHECK(nfm_columns_add_named(&cols, sp, SIZE_MAX, "X.1") == 0);
	CHECK(nfm_columns_add_named(&cols, bb, SIZE_MAX, "X") == 0);
	CHECK(nfm_columns_add_named(&cols, fb, SIZE_MAX, "Y") == 0);
	char *csv = write_one("csv", &cols);
	CHECK(csv && strncmp(csv, "X,X,X.1,X,Y\n300,200,1000,200,300\n", 33) == 0);
	static const char *const fmts[] = { "json", "jsonl" };
	for (size_t i = 0; i < 2; i++) {
		char *js = write_one(fmts[i], &cols);
		CHECK(js && strstr(js, "{\"X\":300,\"X.1\":200,\"X.1.1\":1000,\"X.2\":200,\"Y\":300}"));
		if (js && !strstr(js, "\"X.2\""))
			fprintf(stderr, "%s: %s\n", fmts[i], js);
		free(js);
	}
	free(csv);
	/* names that are all different are written as they are */
	nfm_columns_free(&cols);
	CHECK(nfm_columns_add_named(&cols, fb, SIZE_MAX, "a.1") == 0);
	CHECK(nfm_columns_add_named(&cols, bb, SIZE_MAX, "a") == 0);
	char *js = write_one("jsonl", &cols);
	CHECK(js && strcmp(js, "{\"a.1\":300,\"a\":200}\n") == 0);
	free(js);
	nfm_columns_free(&cols);
}

/* docs/profiles.md holds exactly what the registry generates (make docs), and keeps
 * its hand-written parts around the markers. */
NFM_TEST(profiles_doc_is_current)
{
	char *doc = calloc(1, 1 << 20);
	FILE *in = fopen("docs/profiles.md", "r");
	CHECK(in != NULL); /* tests run from the project root */
	if (in) {
		(void)!fread(doc, 1, (1 << 20) - 1, in);
		fclose(in);
	}
	static const char begin[] = "<!-- profiles:begin -->\n";
	const char *b = strstr(doc, begin), *e = strstr(doc, "<!-- profiles:end -->");
	CHECK(b && e && b < e);
	CHECK(strstr(doc, "\n# Notes\n") > e); /* the hand-written part after the markers */
	char *gen = NULL;
	size_t glen = 0;
	FILE *fp = open_memstream(&gen, &glen);
	CHECK(fp && nfm_profiles_doc(fp) == 0);
	if (fp)
		fclose(fp);
	if (b && e && b < e && gen) {
		b += strlen(begin);
		int same = (size_t)(e - b) == glen && memcmp(b, gen, glen) == 0;
		if (!same)
			fprintf(stderr, "docs/profiles.md is stale: run make docs\n");
		CHECK(same);
	}
	/* every profile has its section, every column its row */
	const struct nfm_profile *p;
	for (size_t i = 0; gen && (p = nfm_profile_at(i)); i++) {
		char head[96];
		snprintf(head, sizeof head, "\n## %s\n", p->name);
		CHECK(strstr(gen, head) != NULL);
	}
	CHECK(gen && strstr(gen, "| 41 | `tunnel_id` | `tunnel_id` |") != NULL);
	free(gen);
	free(doc);
}

NFM_TEST_MAIN_BEGIN()
	RUN(registry);
	RUN(program_profiles_keep_their_columns);
	RUN(profile_of_names);
	RUN(columns_across_modules);
	RUN(flow_bytes);
	RUN(json_keys_of_repeated_names);
	RUN(profiles_doc_is_current);
NFM_TEST_MAIN_END()
