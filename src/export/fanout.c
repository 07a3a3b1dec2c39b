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
	bool split;
	struct nfm_exporter *ex[NFM_SPLIT_N]; /* [0] alone unless split */
	struct nfm_outfile *file[NFM_SPLIT_N];
};

struct nfm_fanout {
	struct nfm_outset *set;
	bool keep_record;
	const char *source;
	struct output out[MAX_OUTPUTS];
	size_t n;
	uint64_t rows;
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

int nfm_fanout_add(struct nfm_fanout *fo, const struct nfm_exporter_ops *ops, const char *path,
		   const struct nfm_columns *cols, bool split, uint64_t max_rows,
		   struct nfm_error *err)
{
	if (fo->n == MAX_OUTPUTS)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: more than %d outputs", path,
				     MAX_OUTPUTS);
	struct output *o = &fo->out[fo->n];
	memset(o, 0, sizeof *o);
	o->split = split;
	int rc = 0;
	for (int k = 0; k < (split ? NFM_SPLIT_N : 1) && rc == 0; k++) {
		char *name = split ? nfm_split_path(path, k, ops) : NULL;
		struct nfm_export_dest dest = { .path = split ? name : path, .set = fo->set,
						.max_rows = max_rows };
		if (split && !name)
			rc = nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", path);
		else
			rc = nfm_exporter_open(&o->ex[k], ops, &dest, cols, err);
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
		int rc = nfm_exporter_write_row(o->ex[o->split ? split : 0], row + at, n, err);
		if (rc)
			return rc;
		at += n;
	}
	fo->rows++;
	return 0;
}

int nfm_fanout_tick(struct nfm_fanout *fo, uint64_t now_ns, struct nfm_error *err)
{
	for (size_t i = 0; i < fo->n; i++)
		for (int k = 0; k < NFM_SPLIT_N; k++) {
			int rc = nfm_exporter_tick(fo->out[i].ex[k], now_ns, err);
			if (rc)
				return rc;
		}
	return 0;
}

int nfm_fanout_close(struct nfm_fanout *fo, struct nfm_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < fo->n; i++) {
		struct output *o = &fo->out[i];
		for (int k = 0; k < NFM_SPLIT_N; k++) {
			if (!o->ex[k])
				continue;
			/* A split file that got no flow is not written at all. */
			if (rc || (o->split && nfm_exporter_rows(o->ex[k]) == 0)) {
				nfm_exporter_abort(o->ex[k]); /* drops its file */
			} else {
				rc = nfm_exporter_close(o->ex[k], err);
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
	for (size_t i = 0; i < fo->n; i++)
		for (int k = 0; k < NFM_SPLIT_N; k++)
			nfm_exporter_abort(fo->out[i].ex[k]);
	free(fo);
}

uint64_t nfm_fanout_rows(const struct nfm_fanout *fo)
{
	return fo ? fo->rows : 0;
}
