/* Fan-out of rows to the outputs of one conversion (fanout.h).
 * A row: [split index: 1 byte][the record, when kept][per output: length (4 bytes),
 * bytes]. A split output opens its seven files at once (so its encoder is ready before
 * the first flow) and drops, at close, those that got no flow. */
#include "export/fanout.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

#define MAX_OUTPUTS 8

const char *const nfm_split_names[NFM_SPLIT_N] = { "tcp", "udp", "icmp", "icmpv6", "arp",
						     "sctp", "other" };

int nfm_split_index(const struct nfm_flow_record *r)
{
	if (r->l3 == NFM_L3_ARP)
		return NFM_SPLIT_ARP;
	switch (r->ip_proto) {
	case NFM_IPPROTO_TCP: return NFM_SPLIT_TCP;
	case NFM_IPPROTO_UDP: return NFM_SPLIT_UDP;
	case NFM_IPPROTO_ICMP: return NFM_SPLIT_ICMP;
	case NFM_IPPROTO_ICMPV6: return NFM_SPLIT_ICMPV6;
	case NFM_IPPROTO_SCTP: return NFM_SPLIT_SCTP;
	default: return NFM_SPLIT_OTHER;
	}
}

char *nfm_split_path(const char *base, int k, const struct nfm_exporter_ops *ops)
{
	size_t n = strlen(base) + 32;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s_%s.%s", base, nfm_split_names[k], nfm_exporter_ext(ops));
	return p;
}

struct output {
	struct nfm_fanout_spec spec;
	struct nfm_exporter *ex[NFM_SPLIT_N]; /* [0] alone unless split; with slices as
					       * files, [0] only encodes */
	bool slice_files;                     /* one file per slice */
	struct nfm_exporter *cur;             /* the current slice's file */
	struct nfm_export_counts closed;      /* counts of the slice files closed */
};

struct nfm_fanout {
	struct nfm_outset *set;
	bool keep_record;
	const char *source;
	struct output out[MAX_OUTPUTS];
	size_t n;
	uint64_t rows;
	/* time slices */
	const struct nfm_slice_spec *slices; /* of the sliced outputs (one --slice) */
	bool have_slice;
	uint64_t slice_start, nslices, gaps_skipped;
	char subdir[256];                    /* the last subdirectory made */
};

struct nfm_fanout *nfm_fanout_new(struct nfm_outset *set, bool keep_record)
{
	struct nfm_fanout *fo = calloc(1, sizeof *fo);
	if (fo) {
		fo->set = set;
		fo->keep_record = keep_record;
	}
	return fo;
}

int nfm_fanout_add(struct nfm_fanout *fo, const struct nfm_fanout_spec *spec,
		   struct nfm_error *err)
{
	if (fo->n == MAX_OUTPUTS)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: more than %d outputs", spec->path,
				     MAX_OUTPUTS);
	struct output *o = &fo->out[fo->n];
	memset(o, 0, sizeof *o);
	o->spec = *spec;
	o->slice_files = spec->slices && !nfm_exporter_takes_slices(spec->ops);
	if (spec->slices)
		fo->slices = spec->slices;
	int rc = 0;
	for (int k = 0; k < (spec->split ? NFM_SPLIT_N : 1) && rc == 0; k++) {
		char *name = spec->split ? nfm_split_path(spec->path, k, spec->ops) : NULL;
		struct nfm_export_dest dest = { .path = spec->split ? name : spec->path,
						.set = fo->set, .max_rows = spec->max_rows,
						.encode_only = o->slice_files,
						.layout = spec->layout, .netflow = spec->netflow };
		if (spec->split && !name)
			rc = nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", spec->path);
		else
			rc = nfm_exporter_open(&o->ex[k], spec->ops, &dest, spec->cols, err);
		free(name);
	}
	if (rc) {
		for (int k = 0; k < NFM_SPLIT_N; k++)
			nfm_exporter_abort(o->ex[k]);
		memset(o, 0, sizeof *o);
		return rc;
	}
	fo->n++;
	return 0;
}

void nfm_fanout_set_source(struct nfm_fanout *fo, const char *name)
{
	fo->source = name;
}

int nfm_fanout_encode(const struct nfm_fanout *fo, const struct nfm_flow_record *rec,
		      struct nfm_buf *row)
{
	struct nfm_flow_record tmp;
	if (fo->source) {
		tmp = *rec;
		tmp.source_file = fo->source;
		rec = &tmp;
	}
	uint8_t split = (uint8_t)nfm_split_index(rec);
	if (nfm_buf_put(row, &split, 1))
		return NFM_ERR_NOMEM;
	if (fo->keep_record && nfm_buf_put(row, rec, sizeof *rec))
		return NFM_ERR_NOMEM;
	for (size_t i = 0; i < fo->n; i++) {
		size_t at = row->len;
		uint32_t len = 0;
		if (nfm_buf_put(row, &len, sizeof len))
			return NFM_ERR_NOMEM;
		if (nfm_exporter_encode(fo->out[i].ex[0], rec, row))
			return NFM_ERR_NOMEM;
		len = (uint32_t)(row->len - at - sizeof len);
		memcpy(row->p + at, &len, sizeof len);
	}
	return 0;
}

int nfm_fanout_write(struct nfm_fanout *fo, const uint8_t *row, size_t len,
		     struct nfm_flow_record *rec, bool *have_rec, struct nfm_error *err)
{
	size_t at = 1;
	if (len < 1)
		return nfm_error_set(err, NFM_ERR_INVALID, "bad row");
	int split = row[0] < NFM_SPLIT_N ? row[0] : NFM_SPLIT_OTHER;
	*have_rec = false;
	if (fo->keep_record) {
		if (len - at < sizeof *rec)
			return nfm_error_set(err, NFM_ERR_INVALID, "bad row");
		memcpy(rec, row + at, sizeof *rec);
		rec->modules = NULL; /* the flow's entry is gone */
		at += sizeof *rec;
		*have_rec = true;
	}
	for (size_t i = 0; i < fo->n; i++) {
		uint32_t n;
		if (len - at < sizeof n)
			return nfm_error_set(err, NFM_ERR_INVALID, "bad row");
		memcpy(&n, row + at, sizeof n);
		at += sizeof n;
		if (len - at < n)
			return nfm_error_set(err, NFM_ERR_INVALID, "bad row");
		struct output *o = &fo->out[i];
		struct nfm_exporter *ex = o->slice_files ? o->cur : o->ex[o->spec.split ? split : 0];
		if (!ex)
			return nfm_error_set(err, NFM_ERR_INVALID, "%s: a row before any slice",
					     o->spec.path);
		int rc = nfm_exporter_write_row(ex, row + at, n, err);
		if (rc)
			return rc;
		at += n;
	}
	fo->rows++;
	return 0;
}

int nfm_fanout_tick(struct nfm_fanout *fo, uint64_t now_ns, struct nfm_error *err)
{
	for (size_t i = 0; i < fo->n; i++) {
		struct output *o = &fo->out[i];
		if (o->slice_files) {
			int rc = nfm_exporter_tick(o->cur, now_ns, err);
			if (rc)
				return rc;
			continue;
		}
		for (int k = 0; k < NFM_SPLIT_N; k++) {
			int rc = nfm_exporter_tick(o->ex[k], now_ns, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static void add_counts(struct nfm_export_counts *sum, const struct nfm_export_counts *c)
{
	sum->records += c->records;
	sum->messages += c->messages;
	sum->bytes += c->bytes;
	sum->templates += c->templates;
	sum->dropped += c->dropped;
	if (!sum->warning[0])
		memcpy(sum->warning, c->warning, sizeof sum->warning);
}

/* Closes the current slice's files. */
static int end_slice(struct nfm_fanout *fo, struct nfm_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < fo->n; i++) {
		struct output *o = &fo->out[i];
		if (!o->cur)
			continue;
		struct nfm_export_counts c;
		if (rc == 0)
			rc = nfm_exporter_flush(o->cur, err);
		nfm_exporter_counts(o->cur, &c);
		add_counts(&o->closed, &c);
		if (rc == 0)
			rc = nfm_exporter_close(o->cur, err);
		else
			nfm_exporter_abort(o->cur);
		o->cur = NULL;
	}
	/* Slice files wait for the commit without holding a descriptor each. */
	if (rc == 0 && fo->nslices % 64 == 0)
		rc = nfm_outset_park(fo->set, err);
	return rc;
}

/* Opens the slice starting at start: a file per sliced output, or a new part of the
 * outputs that hold every slice. */
static int begin_slice(struct nfm_fanout *fo, uint64_t start, struct nfm_error *err)
{
	char name[64], sub[256];
	if (nfm_slice_name(fo->slices, start, name, sizeof name) == 0 ||
	    nfm_slice_subdir(fo->slices, start, sub, sizeof sub) == SIZE_MAX)
		return nfm_error_set(err, NFM_ERR_INVALID, "time slice at %llu s: no name for it",
				     (unsigned long long)(start / 1000000000u));
	fo->slice_start = start;
	fo->have_slice = true;
	fo->nslices++;
	for (size_t i = 0; i < fo->n; i++) {
		struct output *o = &fo->out[i];
		int rc;
		if (!o->spec.slices)
			continue;
		if (!o->slice_files) {
			rc = nfm_exporter_slice(o->ex[0], name, err);
			if (rc)
				return rc;
			continue;
		}
		const char *ext = nfm_exporter_is_sliced(o->spec.ops) ? "" : nfm_exporter_ext(o->spec.ops);
		size_t len = strlen(o->spec.path) + strlen(sub) + strlen(name) + strlen(ext) + 4;
		char *path = malloc(len);
		char *dir = malloc(len);
		if (!path || !dir) {
			free(path);
			free(dir);
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", o->spec.path);
		}
		snprintf(dir, len, "%s%s%s", o->spec.path, *sub ? "/" : "", sub);
		snprintf(path, len, "%s/%s%s%s", dir, name, *ext ? "." : "", ext);
		rc = 0;
		if (*sub && strcmp(sub, fo->subdir) != 0) {
			rc = nfm_outset_mkdirs(fo->set, dir, err);
			if (rc == 0)
				snprintf(fo->subdir, sizeof fo->subdir, "%s", sub);
		}
		struct nfm_export_dest dest = { .path = path, .set = fo->set,
						.max_rows = o->spec.max_rows,
						.layout = o->spec.layout, .netflow = o->spec.netflow };
		if (rc == 0)
			rc = nfm_exporter_open(&o->cur, o->spec.ops, &dest, o->spec.cols, err);
		free(path);
		free(dir);
		if (rc)
			return rc;
	}
	return 0;
}

int nfm_fanout_slice(struct nfm_fanout *fo, uint64_t start_ns, struct nfm_error *err)
{
	if (!fo->slices)
		return 0;
	if (!fo->have_slice)
		return begin_slice(fo, start_ns, err);
	uint64_t len = fo->slices->slice_ns;
	if (start_ns <= fo->slice_start)
		return 0;
	uint64_t empty = (start_ns - fo->slice_start) / len - 1;
	if (empty > NFM_SLICE_GAP_MAX) {
		fo->gaps_skipped += empty;
		empty = 0;
	}
	uint64_t t = fo->slice_start;
	for (uint64_t k = 0; k < empty; k++) {
		t += len;
		int rc = end_slice(fo, err);
		if (rc == 0)
			rc = begin_slice(fo, t, err);
		if (rc)
			return rc;
	}
	int rc = end_slice(fo, err);
	return rc ? rc : begin_slice(fo, start_ns, err);
}

uint64_t nfm_fanout_gaps_skipped(const struct nfm_fanout *fo)
{
	return fo ? fo->gaps_skipped : 0;
}

uint64_t nfm_fanout_slices(const struct nfm_fanout *fo)
{
	return fo ? fo->nslices : 0;
}

void nfm_fanout_counts(const struct nfm_fanout *fo, size_t i, struct nfm_export_counts *c)
{
	memset(c, 0, sizeof *c);
	if (!fo || i >= fo->n)
		return;
	const struct output *o = &fo->out[i];
	*c = o->closed;
	struct nfm_export_counts open;
	if (o->cur) {
		nfm_exporter_counts(o->cur, &open);
		add_counts(c, &open);
	}
	if (!o->slice_files)
		for (int k = 0; k < NFM_SPLIT_N; k++)
			if (o->ex[k]) {
				nfm_exporter_counts(o->ex[k], &open);
				add_counts(c, &open);
			}
}

size_t nfm_fanout_outputs(const struct nfm_fanout *fo)
{
	return fo ? fo->n : 0;
}

const struct nfm_exporter_ops *nfm_fanout_ops(const struct nfm_fanout *fo, size_t i)
{
	return fo && i < fo->n ? fo->out[i].spec.ops : NULL;
}

const char *nfm_fanout_path(const struct nfm_fanout *fo, size_t i)
{
	return fo && i < fo->n ? fo->out[i].spec.path : NULL;
}

bool nfm_fanout_sliced(const struct nfm_fanout *fo, size_t i)
{
	return fo && i < fo->n && fo->out[i].spec.slices;
}

int nfm_fanout_close(struct nfm_fanout *fo, struct nfm_error *err)
{
	int rc = fo->have_slice ? end_slice(fo, err) : 0;
	for (size_t i = 0; i < fo->n; i++) {
		struct output *o = &fo->out[i];
		for (int k = 0; k < NFM_SPLIT_N; k++) {
			if (!o->ex[k])
				continue;
			/* A split file that got no flow is not written at all; the encoder of
			 * slice files has no file. */
			if (rc || o->slice_files || (o->spec.split && nfm_exporter_rows(o->ex[k]) == 0)) {
				nfm_exporter_abort(o->ex[k]); /* drops its file */
			} else {
				struct nfm_export_counts c;
				rc = nfm_exporter_flush(o->ex[k], err);
				nfm_exporter_counts(o->ex[k], &c);
				add_counts(&o->closed, &c);
				if (rc == 0)
					rc = nfm_exporter_close(o->ex[k], err);
				else
					nfm_exporter_abort(o->ex[k]);
			}
			o->ex[k] = NULL;
		}
	}
	return rc;
}

void nfm_fanout_free(struct nfm_fanout *fo)
{
	if (!fo)
		return;
	for (size_t i = 0; i < fo->n; i++) {
		for (int k = 0; k < NFM_SPLIT_N; k++)
			nfm_exporter_abort(fo->out[i].ex[k]);
		nfm_exporter_abort(fo->out[i].cur);
	}
	free(fo);
}

uint64_t nfm_fanout_rows(const struct nfm_fanout *fo)
{
	return fo ? fo->rows : 0;
}
