/* IPFIX / NetFlow v9 messages of fixed templates (export/ipfix_enc.h). */
#include "export/ipfix_enc.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "util/err.h"

/* Offsets in a data record as IPFIX sends it (the body of an entry). */
enum {
	OFF_FIRST = 0,
	OFF_LAST = 8,
	OFF_BYTES = 16,
	OFF_PACKETS = 24,
	OFF_ADDRS = 32,
	TAIL_LEN = 9,              /* icmpTypeCode, ports, protocol, flags, ToS */
	BIFLOW_EXTRA = 17,         /* biflowDirection, reverse octets, reverse packets */
	V9_TIME_SAVING = 8,        /* v9 sends the two times in 4 bytes each, not 8 */
	IPFIX_HEADER_LEN = 16,
	V9_HEADER_LEN = 20,
	SET_HEADER_LEN = 4,
	IPFIX_TEMPLATE_SET_ID = 2,
	V9_TEMPLATE_SET_ID = 0,
};

struct ie {
	uint16_t id, len;
	bool reverse;              /* an RFC 5103 reverse element (enterprise 29305) */
};

#define UNI_FIELDS(src, dst, alen, icmp) \
	{ 152, 8, false }, { 153, 8, false }, { 1, 8, false }, { 2, 8, false }, \
	{ src, alen, false }, { dst, alen, false }, { icmp, 2, false }, { 7, 2, false }, \
	{ 11, 2, false }, { 4, 1, false }, { 6, 1, false }, { 5, 1, false }
#define BI_FIELDS { 239, 1, false }, { 1, 8, true }, { 2, 8, true }

static const struct ie uni4[] = { UNI_FIELDS(8, 12, 4, 32) };
static const struct ie uni6[] = { UNI_FIELDS(27, 28, 16, 139) };
static const struct ie bi4[] = { UNI_FIELDS(8, 12, 4, 32), BI_FIELDS };
static const struct ie bi6[] = { UNI_FIELDS(27, 28, 16, 139), BI_FIELDS };

static const struct {
	const struct ie *f;
	size_t n;
} templates[NFM_IPFIX_KINDS] = {
	[NFM_IPFIX_UNI4] = { uni4, sizeof uni4 / sizeof uni4[0] },
	[NFM_IPFIX_UNI6] = { uni6, sizeof uni6 / sizeof uni6[0] },
	[NFM_IPFIX_BI4] = { bi4, sizeof bi4 / sizeof bi4[0] },
	[NFM_IPFIX_BI6] = { bi6, sizeof bi6 / sizeof bi6[0] },
};

static const size_t body_len[NFM_IPFIX_KINDS] = {
	[NFM_IPFIX_UNI4] = OFF_ADDRS + 8 + TAIL_LEN,
	[NFM_IPFIX_UNI6] = OFF_ADDRS + 32 + TAIL_LEN,
	[NFM_IPFIX_BI4] = OFF_ADDRS + 8 + TAIL_LEN + BIFLOW_EXTRA,
	[NFM_IPFIX_BI6] = OFF_ADDRS + 32 + TAIL_LEN + BIFLOW_EXTRA,
};

/* The element of template field i as version sends it. */
static struct ie field(uint8_t version, int kind, size_t i)
{
	struct ie f = templates[kind].f[i];
	if (version == NFM_NETFLOW9_VERSION) {
		if (f.id == 152)
			f = (struct ie){ 22, 4, false };      /* FIRST_SWITCHED */
		else if (f.id == 153)
			f = (struct ie){ 21, 4, false };      /* LAST_SWITCHED */
		else if (f.id == 139)
			f.id = 32;                            /* ICMP_TYPE */
	}
	return f;
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)(v >> 32));
	wr32(p + 4, (uint32_t)v);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- worker side ---- */

static size_t put_record(const struct nfm_nf_record *r, uint8_t *b, bool *v6)
{
	*v6 = r->l3 == NFM_L3_IPV6;
	if (r->l3 != NFM_L3_IPV4 && !*v6)
		return 0;
	wr64(b + OFF_FIRST, r->first_ms);
	wr64(b + OFF_LAST, r->last_ms);
	wr64(b + OFF_BYTES, r->bytes);
	wr64(b + OFF_PACKETS, r->packets);
	size_t alen = *v6 ? 16 : 4;
	memcpy(b + OFF_ADDRS, r->src, alen);
	memcpy(b + OFF_ADDRS + alen, r->dst, alen);
	uint8_t *t = b + OFF_ADDRS + 2 * alen;
	bool icmp = r->proto == NFM_IPPROTO_ICMP || r->proto == NFM_IPPROTO_ICMPV6;
	wr16(t, icmp ? (uint32_t)r->icmp_type << 8 | r->icmp_code : 0);
	wr16(t + 2, r->src_port);
	wr16(t + 4, r->dst_port);
	t[6] = r->proto;
	t[7] = r->tcp_flags;
	t[8] = r->tos;
	return OFF_ADDRS + 2 * alen + TAIL_LEN;
}

size_t nfm_ipfix_entry(const struct nfm_nf_record *r, uint8_t *out)
{
	bool v6;
	size_t n = put_record(r, out + 1, &v6);
	if (!n)
		return 0;
	out[0] = v6 ? NFM_IPFIX_UNI6 : NFM_IPFIX_UNI4;
	return 1 + n;
}

size_t nfm_ipfix_entry_biflow(const struct nfm_nf_biflow *b, uint8_t *out)
{
	bool v6;
	size_t n = put_record(&b->fwd, out + 1, &v6);
	if (!n)
		return 0;
	uint8_t *x = out + 1 + n;
	x[0] = 1;                  /* biflowDirection: the source is the initiator */
	wr64(x + 1, b->rev_bytes);
	wr64(x + 9, b->rev_packets);
	out[0] = v6 ? NFM_IPFIX_BI6 : NFM_IPFIX_BI4;
	return 1 + n + BIFLOW_EXTRA;
}

size_t nfm_ipfix_entry_len(const uint8_t *p, size_t avail)
{
	if (avail < 1 || p[0] >= NFM_IPFIX_KINDS || avail < 1 + body_len[p[0]])
		return 0;
	return 1 + body_len[p[0]];
}

/* ---- writer side ---- */

static bool is_v9(const struct nfm_ipfix_enc *e)
{
	return e->version == NFM_NETFLOW9_VERSION;
}

static size_t header_len(uint8_t version)
{
	return version == NFM_NETFLOW9_VERSION ? V9_HEADER_LEN : IPFIX_HEADER_LEN;
}

/* The kinds of the templates an encoder sends. */
static int first_kind(bool biflow) { return biflow ? NFM_IPFIX_BI4 : NFM_IPFIX_UNI4; }

static size_t wire_len(uint8_t version, int kind)
{
	return body_len[kind] - (version == NFM_NETFLOW9_VERSION ? V9_TIME_SAVING : 0);
}

static size_t template_len(uint8_t version, int kind)
{
	size_t n = 4;
	for (size_t i = 0; i < templates[kind].n; i++)
		n += field(version, kind, i).reverse ? 8 : 4;
	return n;
}

static size_t pad4(const struct nfm_ipfix_enc *e, size_t n)
{
	return is_v9(e) ? (n + 3) & ~(size_t)3 : n;
}

size_t nfm_ipfix_min_mtu(uint8_t version, bool biflow)
{
	int k = first_kind(biflow);
	size_t n = header_len(version) + SET_HEADER_LEN + template_len(version, k) +
		   template_len(version, k + 1) + SET_HEADER_LEN + wire_len(version, k + 1);
	return (n + 3) & ~(size_t)3;
}

int nfm_ipfix_enc_init(struct nfm_ipfix_enc *e, uint8_t version, bool biflow, uint32_t domain,
		       size_t mtu)
{
	memset(e, 0, sizeof *e);
	if (version != NFM_IPFIX_VERSION && version != NFM_NETFLOW9_VERSION)
		return NFM_ERR_INVALID;
	if (biflow && version != NFM_IPFIX_VERSION)
		return NFM_ERR_INVALID;
	if (!mtu)
		mtu = NFM_IPFIX_MTU_DEFAULT;
	if (mtu < nfm_ipfix_min_mtu(version, biflow) || mtu > NFM_IPFIX_MTU_MAX)
		return NFM_ERR_INVALID;
	e->buf = malloc(mtu);
	if (!e->buf)
		return NFM_ERR_NOMEM;
	e->version = version;
	e->biflow = biflow;
	e->domain = domain;
	e->mtu = mtu;
	e->template_every = NFM_IPFIX_TEMPLATE_EVERY;
	e->set_kind = -1;
	return 0;
}

void nfm_ipfix_enc_free(struct nfm_ipfix_enc *e)
{
	free(e->buf);
	e->buf = NULL;
}

static uint64_t ceil_seconds_ms(uint64_t ms)
{
	return (ms + 999) / 1000 * 1000;
}

/* NetFlow v9: whether a record ending at last fits a message whose records end by
 * msg_end, with the current boot time. */
static bool v9_fits(const struct nfm_ipfix_enc *e, uint64_t last, uint64_t msg_end)
{
	uint64_t t = ceil_seconds_ms(msg_end > last ? msg_end : last);
	return e->booted && last >= e->boot_ms && t - e->boot_ms <= UINT32_MAX;
}

/* NetFlow v9: a boot time for a message starting with a record of first .. last. */
static void v9_boot(struct nfm_ipfix_enc *e, uint64_t first, uint64_t last)
{
	uint64_t boot = first > NFM_IPFIX_BOOT_LEAD_MS ? first - NFM_IPFIX_BOOT_LEAD_MS : 0;
	boot -= boot % 1000;
	uint64_t t = ceil_seconds_ms(last);
	if (t - boot > UINT32_MAX)
		boot = t - UINT32_MAX;
	e->boot_ms = boot;
	e->booted = true;
}

static void close_set(struct nfm_ipfix_enc *e)
{
	if (!e->set_at)
		return;
	size_t n = pad4(e, e->len - e->set_at);
	memset(e->buf + e->len, 0, e->set_at + n - e->len);
	e->len = e->set_at + n;
	wr16(e->buf + e->set_at + 2, (uint32_t)n);
	e->set_at = 0;
	e->set_kind = -1;
}

static void put_templates(struct nfm_ipfix_enc *e)
{
	size_t at = e->len;
	uint8_t *p = e->buf + at + SET_HEADER_LEN;
	int k0 = first_kind(e->biflow);
	for (int k = k0; k < k0 + 2; k++) {
		wr16(p, (uint32_t)(NFM_IPFIX_TEMPLATE_ID + k));
		wr16(p + 2, (uint32_t)templates[k].n);
		p += 4;
		for (size_t i = 0; i < templates[k].n; i++) {
			struct ie f = field(e->version, k, i);
			wr16(p, f.reverse ? 0x8000u | f.id : f.id);
			wr16(p + 2, f.len);
			p += 4;
			if (f.reverse) {
				wr32(p, NFM_IPFIX_PEN_REVERSE);
				p += 4;
			}
		}
		e->msg_templates++;
	}
	size_t n = (size_t)(p - (e->buf + at));
	wr16(e->buf + at, is_v9(e) ? V9_TEMPLATE_SET_ID : IPFIX_TEMPLATE_SET_ID);
	wr16(e->buf + at + 2, (uint32_t)n);
	e->len = at + n;   /* a multiple of 4: every field takes 4 or 8 bytes */
}

/* The message's length once a record of kind is added (sets closed and padded). */
static size_t length_with(const struct nfm_ipfix_enc *e, int kind)
{
	size_t w = wire_len(e->version, kind);
	if (e->set_at && e->set_kind == kind)
		return e->set_at + pad4(e, e->len - e->set_at + w);
	size_t base = e->set_at ? e->set_at + pad4(e, e->len - e->set_at) : e->len;
	return base + pad4(e, SET_HEADER_LEN + w);
}

int nfm_ipfix_add(struct nfm_ipfix_enc *e, const uint8_t *entry)
{
	int kind = entry[0];
	int k0 = first_kind(e->biflow);
	if (kind != k0 && kind != k0 + 1)
		return -1;
	const uint8_t *body = entry + 1;
	uint64_t first = rd64(body + OFF_FIRST), last = rd64(body + OFF_LAST);
	if (first > last)
		first = last;
	if (e->len) {
		if (is_v9(e) && !v9_fits(e, last, e->msg_end_ms))
			return 1;
		if (length_with(e, kind) > e->mtu)
			return 1;
	} else {
		if (is_v9(e) && !v9_fits(e, last, 0))
			v9_boot(e, first, last);
		e->len = header_len(e->version);
		e->msg_records = e->msg_templates = 0;
		e->msg_end_ms = 0;
		e->set_at = 0;
		e->set_kind = -1;
		if (e->messages % e->template_every == 0)
			put_templates(e);
	}
	if (e->set_kind != kind) {
		close_set(e);
		e->set_at = e->len;
		e->set_kind = kind;
		wr16(e->buf + e->len, (uint32_t)(NFM_IPFIX_TEMPLATE_ID + kind));
		e->len += SET_HEADER_LEN;
	}
	uint8_t *d = e->buf + e->len;
	if (is_v9(e)) {
		if (last - first > UINT32_MAX)
			first = last - UINT32_MAX;
		/* Modulo 2^32: a flow that began before the boot wraps (see the header). */
		wr32(d, (uint32_t)(first - e->boot_ms));
		wr32(d + 4, (uint32_t)(last - e->boot_ms));
		memcpy(d + 8, body + OFF_BYTES, body_len[kind] - OFF_BYTES);
	} else {
		memcpy(d, body, body_len[kind]);
	}
	e->len += wire_len(e->version, kind);
	e->msg_records++;
	if (last > e->msg_end_ms)
		e->msg_end_ms = last;
	return 0;
}

bool nfm_ipfix_take(struct nfm_ipfix_enc *e, struct nfm_ipfix_msg *m)
{
	if (!e->len)
		return false;
	close_set(e);
	uint8_t *h = e->buf;
	uint64_t t = ceil_seconds_ms(e->msg_end_ms);
	if (is_v9(e)) {
		wr16(h, NFM_NETFLOW9_VERSION);
		wr16(h + 2, e->msg_records + e->msg_templates);
		wr32(h + 4, (uint32_t)(t - e->boot_ms));
		wr32(h + 8, (uint32_t)(t / 1000));
		wr32(h + 12, e->sequence);
		wr32(h + 16, e->domain);
		e->sequence++;
	} else {
		wr16(h, NFM_IPFIX_VERSION);
		wr16(h + 2, (uint32_t)e->len);
		wr32(h + 4, (uint32_t)(t / 1000));
		wr32(h + 8, e->sequence);
		wr32(h + 12, e->domain);
		e->sequence += e->msg_records;
	}
	m->p = e->buf;
	m->len = e->len;
	m->records = e->msg_records;
	m->templates = e->msg_templates;
	e->messages++;
	e->len = 0;
	return true;
}
