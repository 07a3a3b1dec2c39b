/* nfdump JSON: the array `nfdump -o json` (1.7.1) prints for NetFlow records, byte for
 * byte: "[\n", objects joined by ",\n", each "{\n" then one "\t\"key\" : value,\n" line per
 * key and "\t\"label\" : \"<none>\"\n}", then "]\n". Keys in nfdump's order: type, sampled,
 * export_sysid, first, last, received, in_packets, in_bytes, proto, then tcp_flags,
 * src_port, dst_port (ICMP: icmp_type, icmp_code), src_tos, the address pair of the
 * family, the tunnel keys when the flow was tunnelled, label. Where nfdump differs, we
 * do not follow: an empty result is "[\n]\n" (valid JSON; nfdump prints "No matching
 * flows" inside the brackets), and times are UTC unless --localtime (nfdump prints
 * local time without a zone).
 *
 * nfdump-dict: every time slice in one JSON object, keyed by the slice's nfcapd file
 * name, each value the slice's nfdump array (the dictionary python-netflow builds from
 * nfpcapd and nfdump), empty slices included.
 *
 * Rows: the worker turns a flow into its NetFlow records' objects, each preceded by the
 * keys a sort needs; the writer adds separators, or holds an output's records to sort
 * them (--sort-by: memory grows with the records of one output, or one slice). */
#include "export/exporter_impl.h"
#include "feature/netflow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/decode.h"
#include "util/fmt.h"

struct rec_head {
	uint64_t bytes, packets, first_ms;
	uint32_t len;             /* bytes of the object's text that follow */
};

struct held {
	uint64_t key, order;
	size_t off;
	uint32_t len;
};

struct nfd_state {
	struct nfm_outfile *out;
	FILE *fp;
	const char *path;         /* for messages: the file's, or name_copy without a file */
	char *name_copy;
	size_t nf_off;            /* the netflow module's state in a record */
	bool localtime, dict;
	enum nfm_nf_sort sort;
	uint64_t in_array;        /* records written in the current array */
	uint64_t slices;          /* nfdump-dict: slices begun */
	uint64_t records;
	struct nfm_buf held_text; /* --sort-by: the current array's objects */
	struct held *held;
	size_t nheld, held_cap;
};

/* "YYYY-MM-DDThh:mm:ss.mmm" */
static size_t fmt_time(char *d, uint64_t ms, bool local)
{
	time_t t = (time_t)(ms / 1000u);
	struct tm tm;
	if (!(local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm)))
		memset(&tm, 0, sizeof tm);
	size_t n = strftime(d, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	return n + (size_t)snprintf(d + n, 8, ".%03u", (unsigned)(ms % 1000u));
}

static char *tcp_flags_text(char *d, uint8_t f)
{
	static const char names[] = "CEUAPRSF";
	for (int i = 0; i < 8; i++)
		d[i] = (f & (0x80u >> i)) ? names[i] : '.';
	d[8] = '\0';
	return d;
}

/* buf: room for an IPv6 text (at most 45 bytes). */
static const char *addr_text(uint8_t l3, const uint8_t *a, char *buf)
{
	buf[l3 == NFM_L3_IPV6 ? nfm_fmt_ipv6(buf, a) : nfm_fmt_ipv4(buf, a)] = '\0';
	return buf;
}

/* One record as nfdump prints it. Returns the length (< 1024). */
static size_t format_record(char *d, const struct nfm_nf_record *r, bool local)
{
	char first[40], last[40], recv[40], a[64], b[64], fl[9];
	fmt_time(first, r->first_ms, local);
	fmt_time(last, r->last_ms, local);
	fmt_time(recv, nfm_nf_received_ms(r), local);
	int n = snprintf(d, 1024,
			 "{\n\t\"type\" : \"FLOW\",\n\t\"sampled\" : 0,\n\t\"export_sysid\" : 0,\n"
			 "\t\"first\" : \"%s\",\n\t\"last\" : \"%s\",\n\t\"received\" : \"%s\",\n"
			 "\t\"in_packets\" : %llu,\n\t\"in_bytes\" : %llu,\n\t\"proto\" : %u,\n",
			 first, last, recv, (unsigned long long)r->packets,
			 (unsigned long long)r->bytes, r->proto);
	if (r->proto == NFM_IPPROTO_ICMP || r->proto == NFM_IPPROTO_ICMPV6)
		n += snprintf(d + n, 1024 - (size_t)n, "\t\"icmp_type\" : %u,\n\t\"icmp_code\" : %u,\n",
			      r->icmp_type, r->icmp_code);
	else
		n += snprintf(d + n, 1024 - (size_t)n,
			      "\t\"tcp_flags\" : \"%s\",\n\t\"src_port\" : %u,\n\t\"dst_port\" : %u,\n",
			      tcp_flags_text(fl, r->tcp_flags), r->src_port, r->dst_port);
	const char *fam = r->l3 == NFM_L3_IPV6 ? "6" : "4";
	n += snprintf(d + n, 1024 - (size_t)n,
		      "\t\"src_tos\" : %u,\n\t\"src%s_addr\" : \"%s\",\n\t\"dst%s_addr\" : \"%s\",\n",
		      r->tos, fam, addr_text(r->l3, r->src, a), fam,
		      addr_text(r->l3, r->dst, b));
	if (r->tun_l3) {
		const char *tf = r->tun_l3 == NFM_L3_IPV6 ? "6" : "4";
		n += snprintf(d + n, 1024 - (size_t)n,
			      "\t\"tun proto\" : %u,\n\t\"src%s_tun_ip\" : \"%s\",\n"
			      "\t\"dst%s_tun_ip\" : \"%s\",\n",
			      r->tun_proto, tf, addr_text(r->tun_l3, r->tun_src, a), tf,
			      addr_text(r->tun_l3, r->tun_dst, b));
	}
	n += snprintf(d + n, 1024 - (size_t)n, "\t\"label\" : \"<none>\"\n}");
	return (size_t)n;
}

static int nfd_encode(const void *state, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct nfd_state *st = state;
	struct nfm_nf_record nr[2];
	int n = nfm_netflow_split(rec, nfm_netflow_state(rec, st->nf_off), nr);
	for (int i = 0; i < n; i++) {
		uint8_t *d = nfm_buf_room(row, sizeof(struct rec_head) + 1024);
		if (!d)
			return -1;
		struct rec_head h = { nr[i].bytes, nr[i].packets, nr[i].first_ms, 0 };
		h.len = (uint32_t)format_record((char *)d + sizeof h, &nr[i], st->localtime);
		memcpy(d, &h, sizeof h);
		row->len += sizeof h + h.len;
	}
	return 0;
}

static int put(struct nfd_state *st, const void *p, size_t n, struct nfm_error *err)
{
	return nfm_outfile_write(st->out, p, n, err);
}

static int put_record(struct nfd_state *st, const void *text, size_t len, struct nfm_error *err)
{
	int rc = st->in_array ? put(st, ",\n", 2, err) : 0;
	if (rc == 0)
		rc = put(st, text, len, err);
	st->in_array++;
	st->records++;
	return rc;
}

static int by_key(const void *x, const void *y)
{
	const struct held *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Writes the held records of the current array in the asked order. */
static int flush_held(struct nfd_state *st, struct nfm_error *err)
{
	qsort(st->held, st->nheld, sizeof *st->held, by_key);
	int rc = 0;
	for (size_t i = 0; i < st->nheld && rc == 0; i++)
		rc = put_record(st, st->held_text.p + st->held[i].off, st->held[i].len, err);
	st->nheld = 0;
	st->held_text.len = 0;
	return rc;
}

static int hold(struct nfd_state *st, const struct rec_head *h, const uint8_t *text,
		struct nfm_error *err)
{
	if (st->nheld == st->held_cap) {
		size_t cap = st->held_cap ? st->held_cap * 2 : 1024;
		struct held *p = realloc(st->held, cap * sizeof *p);
		if (!p)
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", st->path);
		st->held = p;
		st->held_cap = cap;
	}
	struct held *e = &st->held[st->nheld];
	/* Ascending keys: largest first for bytes and packets, earliest first for first. */
	e->key = st->sort == NFM_NF_SORT_BYTES ? ~h->bytes
		 : st->sort == NFM_NF_SORT_PACKETS ? ~h->packets : h->first_ms;
	e->order = st->nheld;
	e->off = st->held_text.len;
	e->len = h->len;
	if (nfm_buf_put(&st->held_text, text, h->len))
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", st->path);
	st->nheld++;
	return 0;
}

static int nfd_write(void *state, const uint8_t *row, size_t len, struct nfm_error *err)
{
	struct nfd_state *st = state;
	size_t at = 0;
	while (at < len) {
		struct rec_head h;
		if (len - at < sizeof h)
			return nfm_error_set(err, NFM_ERR_INVALID, "%s: bad row", st->path);
		memcpy(&h, row + at, sizeof h);
		at += sizeof h;
		if (len - at < h.len)
			return nfm_error_set(err, NFM_ERR_INVALID, "%s: bad row", st->path);
		if (st->dict && st->slices == 0)
			return nfm_error_set(err, NFM_ERR_INVALID, "%s: a record before any slice",
					     st->path);
		int rc = st->sort ? hold(st, &h, row + at, err) : put_record(st, row + at, h.len, err);
		if (rc)
			return rc;
		at += h.len;
	}
	return 0;
}

/* Ends the current array (its held records first). */
static int end_array(struct nfd_state *st, struct nfm_error *err)
{
	int rc = st->sort ? flush_held(st, err) : 0;
	if (rc == 0)
		rc = put(st, "]", 1, err);
	st->in_array = 0;
	return rc;
}

static int dict_slice(void *state, const char *name, struct nfm_error *err)
{
	struct nfd_state *st = state;
	int rc = st->slices ? end_array(st, err) : 0;
	if (rc == 0)
		rc = put(st, st->slices ? ",\n\"" : "\"", st->slices ? 3 : 1, err);
	if (rc == 0)
		rc = put(st, name, strlen(name), err); /* digits, letters, '.', '/' */
	if (rc == 0)
		rc = put(st, "\" : [\n", 6, err);
	st->slices++;
	return rc;
}

static void nfd_free(struct nfd_state *st)
{
	if (!st)
		return;
	nfm_buf_free(&st->held_text);
	free(st->held);
	free(st->name_copy);
	free(st);
}

static int open_common(void **state, const struct nfm_export_dest *dest, bool dict,
		       struct nfm_error *err)
{
	size_t off = dest->layout ? nfm_layout_offset(dest->layout, &nfm_mod_netflow) : SIZE_MAX;
	if (off == SIZE_MAX)
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: nfdump output needs the netflow module in the run", dest->path);
	struct nfd_state *st = calloc(1, sizeof *st);
	if (!st || !(st->name_copy = strdup(dest->path))) {
		free(st);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", dest->path);
	}
	st->path = st->name_copy;
	st->dict = dict;
	st->nf_off = off;
	if (dest->netflow) {
		st->localtime = dest->netflow->localtime;
		st->sort = dest->netflow->sort;
	}
	if (!dest->encode_only) {
		int rc = nfm_outset_create(dest->set, dest->path, NFM_OUT_STREAM, &st->out, err);
		if (rc == 0) {
			st->fp = st->out->fp;
			st->path = st->out->path;
		}
		if (rc == 0)
			rc = put(st, dict ? "{\n" : "[\n", 2, err);
		if (rc) {
			if (st->out)
				nfm_outfile_discard(st->out);
			nfd_free(st);
			return rc;
		}
	}
	*state = st;
	return 0;
}

static int nfd_open(void **state, const struct nfm_export_dest *dest,
		    const struct nfm_columns *cols, struct nfm_error *err)
{
	(void)cols;
	return open_common(state, dest, false, err);
}

static int dict_open(void **state, const struct nfm_export_dest *dest,
		     const struct nfm_columns *cols, struct nfm_error *err)
{
	(void)cols;
	return open_common(state, dest, true, err);
}

static int nfd_close(void *state, struct nfm_error *err)
{
	struct nfd_state *st = state;
	int rc = 0;
	if (st->out) {
		if (!st->dict || st->slices)
			rc = end_array(st, err);
		if (rc == 0)
			rc = st->dict ? put(st, st->slices ? "\n}\n" : "}\n", st->slices ? 3 : 2, err)
				      : put(st, "\n", 1, err);
		if (rc == 0)
			rc = nfm_outfile_finish(st->out, err);
	}
	nfd_free(st);
	return rc;
}

static void nfd_abort(void *state)
{
	struct nfd_state *st = state;
	if (st && st->out)
		nfm_outfile_discard(st->out);
	nfd_free(st);
}

static void nfd_counts(const void *state, struct nfm_export_counts *c)
{
	const struct nfd_state *st = state;
	c->records = st->records;
}

const struct nfm_exporter_ops nfm_exporter_nfdump = {
	.name = "nfdump",
	.ext = "json",
	.allows_stdout = true,
	.listed = true,          /* .json files still mean -of json: it comes first */
	.netflow = true,
	.open = nfd_open,
	.encode = nfd_encode,
	.write = nfd_write,
	.close = nfd_close,
	.abort = nfd_abort,
	.counts = nfd_counts,
};

const struct nfm_exporter_ops nfm_exporter_nfdump_dict = {
	.name = "nfdump-dict",
	.ext = "json",
	.allows_stdout = true,
	.listed = true,
	.netflow = true,
	.sliced = true,
	.open = dict_open,
	.encode = nfd_encode,
	.write = nfd_write,
	.slice = dict_slice,
	.close = nfd_close,
	.abort = nfd_abort,
	.counts = nfd_counts,
};
