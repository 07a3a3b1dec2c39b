/* nfcapd files (-of nfcapd): the NetFlow records of each flow (feature/netflow.h) as
 * nfpcapd stores them, readable by nfdump -r. The worker turns a flow into its 0-2 V3
 * records (the row); the writer adds them to the file's blocks (nfcapd_file.h). One
 * exporter writes one file: time slices open one exporter per slice, and one more that
 * only encodes (dest->encode_only, no file). */
#include "export/exporter_impl.h"
#include "export/nfcapd_file.h"

#include <stdlib.h>
#include <string.h>

struct nfcapd_state {
	size_t netflow_off;          /* the netflow module's state in a record's modules */
	struct nfm_nfcapd_file *file;
	char *encoder_of;            /* encode only: the output it encodes for (messages) */
};

static int nfcapd_open(void **state, const struct nfm_export_dest *dest,
		       const struct nfm_columns *cols, struct nfm_error *err)
{
	(void)cols; /* the records are fixed */
	size_t off = dest->layout ? nfm_layout_offset(dest->layout, &nfm_mod_netflow) : SIZE_MAX;
	if (off == SIZE_MAX)
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: nfcapd output needs the netflow module in the run", dest->path);
	struct nfcapd_state *st = calloc(1, sizeof *st);
	if (!st)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
	st->netflow_off = off;
	if (dest->encode_only) {
		if (!(st->encoder_of = strdup(dest->path))) {
			free(st);
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
		}
		*state = st;
		return 0;
	}
	const struct nfm_netflow_opts *nf = dest->netflow;
	struct nfm_nfcapd_opts o = { .ident = nf ? nf->ident : NULL, .lz4 = nf && nf->lz4 };
	int rc = nfm_nfcapd_file_open(&st->file, dest->set, dest->path, &o, err);
	if (rc) {
		free(st);
		return rc;
	}
	*state = st;
	return 0;
}

static int nfcapd_encode(const void *state, const struct nfm_flow_record *rec,
			 struct nfm_buf *row)
{
	const struct nfcapd_state *st = state;
	struct nfm_nf_record nf[2];
	int n = nfm_netflow_split(rec, nfm_netflow_state(rec, st->netflow_off), nf);
	for (int i = 0; i < n; i++) {
		uint8_t *d = nfm_buf_room(row, NFM_NFCAPD_RECORD_MAX);
		if (!d)
			return -1;
		row->len += nfm_nfcapd_encode(&nf[i], d);
	}
	return 0;
}

static int nfcapd_write(void *state, const uint8_t *row, size_t len, struct nfm_error *err)
{
	struct nfcapd_state *st = state;
	if (!st->file)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: a row for the encoder, which has no file",
				     st->encoder_of);
	return nfm_nfcapd_file_add(st->file, row, len, err);
}

/* The content complete (last block, appendix, header), so that the counts are final. */
static int nfcapd_flush(void *state, struct nfm_error *err)
{
	struct nfcapd_state *st = state;
	return st->file ? nfm_nfcapd_file_complete(st->file, err) : 0;
}

static int nfcapd_close(void *state, struct nfm_error *err)
{
	struct nfcapd_state *st = state;
	int rc = st->file ? nfm_nfcapd_file_close(st->file, err) : 0;
	free(st->encoder_of);
	free(st);
	return rc;
}

static void nfcapd_abort(void *state)
{
	struct nfcapd_state *st = state;
	if (!st)
		return;
	nfm_nfcapd_file_abort(st->file);
	free(st->encoder_of);
	free(st);
}

static void nfcapd_counts(const void *state, struct nfm_export_counts *c)
{
	const struct nfcapd_state *st = state;
	if (st->file)
		nfm_nfcapd_file_counts(st->file, c);
}

const struct nfm_exporter_ops nfm_exporter_nfcapd = {
	.name = "nfcapd",
	.ext = "nfcapd",
	.allows_stdout = false,
	.listed = true,
	.netflow = true,
	.sliced = true,
	.open = nfcapd_open,
	.encode = nfcapd_encode,
	.write = nfcapd_write,
	.flush = nfcapd_flush,
	.close = nfcapd_close,
	.abort = nfcapd_abort,
	.counts = nfcapd_counts,
};
