/* pcapng reader: the file format nfm_format_pcapng of the "stream" source kind.
 * A file is a sequence of blocks: type (32 bits), total length (32 bits), body, the total
 * length again. A Section Header Block starts each section and its byte-order magic sets
 * the byte order of every block up to the next SHB; Interface Description Blocks define
 * the section's interfaces (link type, snaplen, timestamp units) in order, and packet
 * blocks name their interface by index. Every length is checked against the block before
 * it is used; options are walked only where we need them (SHB for validation, IDB). */
#include <stdlib.h>
#include <string.h>

#include "capture/source_int.h"

#define BT_SHB 0x0a0d0d0au /* reads the same in both byte orders */
#define BT_IDB 0x00000001u
#define BT_PB 0x00000002u /* obsolete Packet Block */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1a2b3c4du

#define OPT_ENDOFOPT 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

__extension__ typedef unsigned __int128 nfm_u128;
__extension__ typedef __int128 nfm_i128;

static int corrupt(struct nfm_source *s, uint64_t off, const char *what, uint32_t v,
		   struct nfm_error *err)
{
	return nfm_error_set_at(err, NFM_ERR_CORRUPT, off,
				"%s: corrupt capture: %s (%u) in block at byte %llu (%llu packets read)",
				s->name, what, v, (unsigned long long)off,
				(unsigned long long)s->stats.records);
}

/* Option walker over [p, end): code (16 bits), length (16 bits), value padded to 32 bits.
 * Returns 1 with an option, 0 at the end (or opt_endofopt), -1 when an option header or
 * value does not fit in what is left of the block. */
struct opt_it {
	const uint8_t *p, *end;
	int be;
};

static int opt_next(struct opt_it *it, uint32_t *code, const uint8_t **val, uint32_t *len)
{
	size_t left = (size_t)(it->end - it->p);
	if (left == 0)
		return 0;
	if (left < 4)
		return -1;
	*code = nfm_ld16(it->p, it->be);
	*len = nfm_ld16(it->p + 2, it->be);
	if (*code == OPT_ENDOFOPT)
		return 0;
	left -= 4;
	if (*len > left)
		return -1;
	*val = it->p + 4;
	size_t padded = ((size_t)*len + 3) & ~(size_t)3;
	if (padded > left)
		padded = left; /* tolerate a missing final pad */
	it->p += 4 + padded;
	return 1;
}

/* Timestamp in interface units -> ns since the epoch, saturating at 0 and 2^64-1. */
static inline uint64_t to_ns(struct nfm_source *s, const struct nfm_iface *ifc, uint64_t t)
{
	nfm_u128 v;
	switch (ifc->ts_mode) {
	case NFM_TS_MUL: v = (nfm_u128)t * ifc->k; break;
	case NFM_TS_DIV: v = t / ifc->k; break;
	case NFM_TS_SHIFT: v = ((nfm_u128)t * 1000000000u) >> ifc->k; break;
	default: v = 0; break;
	}
	if (ifc->has_offset) {
		nfm_i128 r = (nfm_i128)v + (nfm_i128)ifc->offset_s * 1000000000;
		if (r < 0) {
			s->stats.ts_fixed++;
			return 0;
		}
		v = (nfm_u128)r;
	}
	if (v > UINT64_MAX) {
		s->stats.ts_fixed++;
		return UINT64_MAX;
	}
	return (uint64_t)v;
}

/* Section Header Block at st->pos (at least 12 bytes are in the window). Resets the
 * byte order and the interface table. */
static int shb(struct nfm_source *s, int first, struct nfm_error *err)
{
	struct nfm_stream *st = &s->st;
	const uint8_t *p = st->pos;
	uint64_t off = nfm_stream_off(st, p);
	uint32_t bom = nfm_ld32(p + 8, 0);
	int be;
	if (bom == BYTE_ORDER_MAGIC)
		be = 0;
	else if (bom == 0x4d3c2b1au)
		be = 1;
	else if (first)
		return nfm_error_set(err, NFM_ERR_FORMAT, "%s: not a pcap or pcapng capture",
				     s->name);
	else
		return corrupt(s, off, "bad byte-order magic in section header", bom, err);
	uint32_t tlen = nfm_ld32(p + 4, be);
	if (tlen < 28 || (tlen & 3) || tlen > NFM_STREAM_MAX_RECORD)
		return corrupt(s, off, "bad section header block length", tlen, err);
	if (tlen > nfm_stream_avail(st)) {
		int rc = nfm_source_refill(s, tlen, err);
		if (rc)
			return rc;
		p = st->pos;
	}
	if (nfm_ld32(p + tlen - 4, be) != tlen)
		return corrupt(s, off, "block length does not match its trailing copy", tlen, err);
	uint32_t vmaj = nfm_ld16(p + 12, be), vmin = nfm_ld16(p + 14, be);
	if (vmaj != 1)
		return nfm_error_set_at(err, NFM_ERR_UNSUPPORTED, off,
					"%s: unsupported pcapng version %u.%u", s->name, vmaj, vmin);
	/* The section length (p + 16, 64 bits) may be -1 (unknown); it is not needed. */
	struct opt_it it = { p + 24, p + tlen - 4, be };
	uint32_t code, len = 0;
	const uint8_t *val;
	int r;
	while ((r = opt_next(&it, &code, &val, &len)) > 0)
		;
	if (r < 0)
		return corrupt(s, nfm_stream_off(st, it.p), "option runs past the end of its block",
			       len, err);
	s->be = be;
	s->n_ifs = 0;
	s->last_ts = 0;
	st->pos = p + tlen;
	return 0;
}

static void set_tsresol(struct nfm_iface *ifc, uint8_t v)
{
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
		10000000000000ull, 100000000000000ull, 1000000000000000ull,
		10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
		10000000000000000000ull,
	};
	uint32_t n = v & 0x7fu;
	if (v & 0x80u) {
		ifc->ts_mode = NFM_TS_SHIFT; /* units of 2^-n s; n <= 127 < 128 bits */
		ifc->k = n;
	} else if (n <= 9) {
		ifc->ts_mode = NFM_TS_MUL;
		ifc->k = pow10[9 - n];
	} else if (n - 9 <= 19) {
		ifc->ts_mode = NFM_TS_DIV;
		ifc->k = pow10[n - 9];
	} else {
		ifc->ts_mode = NFM_TS_ZERO; /* 10^-29 s and finer: every count is < 1 ns */
		ifc->k = 0;
	}
}

static int idb(struct nfm_source *s, const uint8_t *p, uint32_t tlen, uint64_t off,
	       struct nfm_error *err)
{
	if (tlen < 20)
		return corrupt(s, off, "interface description block too short", tlen, err);
	int be = s->be;
	struct nfm_iface ifc;
	memset(&ifc, 0, sizeof ifc);
	ifc.linktype = (int)nfm_ld16(p + 8, be);
	ifc.snaplen = nfm_ld32(p + 12, be);
	set_tsresol(&ifc, 6); /* default: microseconds */
	struct opt_it it = { p + 16, p + tlen - 4, be };
	uint32_t code, len = 0;
	const uint8_t *val;
	int r;
	while ((r = opt_next(&it, &code, &val, &len)) > 0) {
		if (code == OPT_IF_TSRESOL && len >= 1) {
			set_tsresol(&ifc, val[0]);
		} else if (code == OPT_IF_TSOFFSET && len == 8) {
			uint32_t a = nfm_ld32(val, be), b = nfm_ld32(val + 4, be);
			uint64_t u = be ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
			int64_t o;
			memcpy(&o, &u, sizeof o); /* two's complement reinterpretation */
			ifc.offset_s = o;
			ifc.has_offset = o != 0;
		}
	}
	if (r < 0)
		return corrupt(s, nfm_stream_off(&s->st, it.p),
			       "option runs past the end of its block", len, err);
	if (s->n_ifs == s->cap_ifs) {
		if (s->cap_ifs >= NFM_PCAPNG_MAX_INTERFACES)
			return nfm_error_set_at(err, NFM_ERR_LIMIT, off,
						"%s: more than %u interfaces in one section (block at byte %llu)",
						s->name, NFM_PCAPNG_MAX_INTERFACES,
						(unsigned long long)off);
		uint32_t ncap = s->cap_ifs ? s->cap_ifs * 2 : 8;
		struct nfm_iface *n = realloc(s->ifs, (size_t)ncap * sizeof *n);
		if (!n)
			return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", s->name);
		s->ifs = n;
		s->cap_ifs = ncap;
	}
	s->ifs[s->n_ifs++] = ifc;
	if (s->first_linktype < 0)
		s->first_linktype = ifc.linktype;
	return 0;
}

/* Fills pkt from a packet whose caplen/origlen were read from the block; returns 1, or
 * 0 when the interface is not defined (the packet is skipped). */
static int emit(struct nfm_source *s, const uint8_t *p, uint64_t off, uint32_t ifid,
		uint32_t caplen, uint32_t origlen, uint64_t ts, int timed,
		struct nfm_raw_packet *pkt)
{
	if (ifid >= s->n_ifs) {
		s->stats.bad_interface++;
		return 0;
	}
	const struct nfm_iface *ifc = &s->ifs[ifid];
	if (timed) {
		ts = to_ns(s, ifc, ts);
		s->last_ts = ts;
	}
	if (caplen > origlen || (caplen > ifc->snaplen && ifc->snaplen)) {
		if (caplen > origlen)
			origlen = caplen;
		s->stats.caplen_fixed++;
	}
	pkt->ts_ns = ts;
	pkt->cap_len = caplen;
	pkt->wire_len = origlen;
	pkt->linktype = ifc->linktype;
	pkt->interface_id = ifid;
	pkt->offset = off;
	pkt->data = p;
	s->stats.records++;
	return 1;
}

/* One block; prime: only Interface Description Blocks that are complete and valid are
 * consumed (used by open to learn the first link type); anything else stops it. */
static int next_block(struct nfm_source *s, struct nfm_raw_packet *pkt, int prime,
		      struct nfm_error *err)
{
	struct nfm_stream *st = &s->st;
	for (;;) {
		const uint8_t *p = st->pos;
		if ((size_t)(st->end - p) < 12) {
			int rc = nfm_source_refill(s, 12, err);
			if (rc == 1)
				return prime ? 0 : nfm_stream_check_end(st, s->stats.records, err);
			if (rc)
				return rc;
			p = st->pos;
		}
		int be = s->be;
		uint32_t type = nfm_ld32(p, be);
		if (type == BT_SHB) {
			if (prime)
				return 0;
			int rc = shb(s, 0, err);
			if (rc)
				return rc;
			continue;
		}
		uint32_t tlen = nfm_ld32(p + 4, be);
		uint64_t off = nfm_stream_off(st, p);
		if (tlen < 12 || (tlen & 3) || tlen > NFM_STREAM_MAX_RECORD)
			return corrupt(s, off, "bad block length", tlen, err);
		if (tlen > (size_t)(st->end - p)) {
			int rc = nfm_source_refill(s, tlen, err);
			if (rc)
				return rc;
			p = st->pos;
		}
		if (nfm_ld32(p + tlen - 4, be) != tlen)
			return corrupt(s, off, "block length does not match its trailing copy", tlen,
				       err);
		if (prime && type != BT_IDB)
			return 0;
		int got = 0;
		switch (type) {
		case BT_EPB:
		case BT_PB: {
			/* EPB: interface (32), ts high, ts low, caplen, origlen, data, options.
			 * PB: interface (16), drops (16), then the same. */
			if (tlen < 32)
				return corrupt(s, off, "packet block too short", tlen, err);
			uint32_t caplen = nfm_ld32(p + 20, be), origlen = nfm_ld32(p + 24, be);
			if (caplen > tlen - 32)
				return corrupt(s, off, "packet data runs past the end of its block",
					       caplen, err);
			uint32_t ifid = type == BT_EPB ? nfm_ld32(p + 8, be) : nfm_ld16(p + 8, be);
			uint64_t t = (uint64_t)nfm_ld32(p + 12, be) << 32 | nfm_ld32(p + 16, be);
			got = emit(s, p + 28, off, ifid, caplen, origlen, t, 1, pkt);
			break;
		}
		case BT_SPB: {
			/* Simple Packet Block: origlen, data; always interface 0. It has no
			 * timestamp: it gets the timestamp of the last packet with one in this
			 * section (0 before any), so times stay monotonic for the flow meter. */
			if (tlen < 16)
				return corrupt(s, off, "simple packet block too short", tlen, err);
			uint32_t origlen = nfm_ld32(p + 8, be);
			uint32_t caplen = tlen - 16;
			if (origlen < caplen)
				caplen = origlen;
			if (s->n_ifs && s->ifs[0].snaplen && s->ifs[0].snaplen < caplen)
				caplen = s->ifs[0].snaplen;
			got = emit(s, p + 12, off, 0, caplen, origlen, s->last_ts, 0, pkt);
			break;
		}
		case BT_IDB: {
			int rc = idb(s, p, tlen, off, err);
			if (rc)
				return rc;
			break;
		}
		default:
			/* NRB, ISB, DSB, custom blocks, anything unknown. */
			s->stats.blocks_skipped++;
			break;
		}
		st->pos = p + tlen;
		nfm_stream_prefetch(st);
		if (got)
			return 1;
	}
}

static int pcapng_next(struct nfm_source *s, struct nfm_raw_packet *pkt, struct nfm_error *err)
{
	return next_block(s, pkt, 0, err);
}

static int pcapng_probe(const uint8_t *p, size_t have)
{
	return have >= 4 && nfm_ld32(p, 0) == BT_SHB;
}

static int pcapng_open(struct nfm_source *s, struct nfm_error *err)
{
	int rc = nfm_stream_fill(&s->st, 12, err);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return nfm_error_set_at(err, NFM_ERR_TRUNCATED, 0,
					"%s: truncated capture: the pcapng section header is incomplete",
					s->name);
	rc = shb(s, 1, err);
	if (rc)
		return rc;
	/* Read the interfaces that follow so the first link type is known. Errors are left
	 * for nfm_source_next to report (the position has not moved past them). */
	struct nfm_error ignored;
	nfm_error_clear(&ignored);
	(void)next_block(s, NULL, 1, &ignored);
	return 0;
}

static void pcapng_close(struct nfm_source *s)
{
	free(s->ifs);
	s->ifs = NULL;
	s->n_ifs = s->cap_ifs = 0;
}

/* The Section Header Block's type, which reads the same in both byte orders. */
static const uint8_t pcapng_magic[4] = { 0x0a, 0x0d, 0x0d, 0x0a };

const struct nfm_format_ops nfm_format_pcapng = {
	.name = "pcapng",
	.id = NFM_CAPFMT_PCAPNG,
	.magic = pcapng_magic,
	.magic_len = sizeof pcapng_magic,
	.probe = pcapng_probe,
	.open = pcapng_open,
	.next = pcapng_next,
	.close = pcapng_close,
};
