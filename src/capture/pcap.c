/* Classic pcap reader: the file format nfm_format_pcap of the "stream" source kind.
 * File header (24 bytes): magic, version major/minor (16 bits each), thiszone, sigfigs,
 * snaplen, linktype. Record header (16 bytes): seconds, sub-second fraction, caplen,
 * origlen, then caplen bytes of packet. The byte order of every field is the one the
 * magic was written in. */
#include "capture/source_int.h"

/* How caplen and origlen are stored: libpcap swapped the two fields in version 2.3, so
 * older files have them the other way round, and some 2.3 files exist in both orders
 * (those are recognised by caplen > origlen, which makes no sense otherwise). */
enum { LENS_NORMAL = 0, LENS_SWAPPED = 1, LENS_MAYBE_SWAPPED = 2 };

static int pcap_probe(const uint8_t *p, size_t have)
{
	if (have < 4)
		return 0;
	switch (nfm_ld32(p, 0)) {
	case 0xa1b2c3d4u: case 0xd4c3b2a1u:
	case 0xa1b23c4du: case 0x4d3cb2a1u:
	case 0xa1b2cd34u: case 0x34cdb2a1u:
		return 1;
	default:
		return 0;
	}
}

static int pcap_open(struct nfm_source *s, struct nfm_error *err)
{
	struct nfm_stream *st = &s->st;
	int rc = nfm_stream_fill(st, 24, err);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return nfm_error_set_at(err, NFM_ERR_TRUNCATED, 0,
					"%s: truncated capture: the pcap file header is incomplete (%zu of 24 bytes)",
					s->name, nfm_stream_avail(st));
	const uint8_t *p = st->pos;
	uint32_t magic = nfm_ld32(p, 0);
	uint32_t frac_max = 1000000u, frac_mul = 1000u, hdr_len = 16;
	int be;
	switch (magic) {
	case 0xa1b2c3d4u: be = 0; break;
	case 0xd4c3b2a1u: be = 1; break;
	case 0xa1b23c4du: be = 0; frac_max = 1000000000u; frac_mul = 1; break;
	case 0x4d3cb2a1u: be = 1; frac_max = 1000000000u; frac_mul = 1; break;
	/* Alexey Kuznetzov's "modified" format: microseconds, and each record header
	 * carries 8 more bytes (interface index, protocol, packet type, padding). */
	case 0xa1b2cd34u: be = 0; hdr_len = 24; break;
	case 0x34cdb2a1u: be = 1; hdr_len = 24; break;
	default:
		return nfm_error_set(err, NFM_ERR_FORMAT, "%s: not a pcap or pcapng capture", s->name);
	}
	uint32_t vmaj = nfm_ld16(p + 4, be), vmin = nfm_ld16(p + 6, be);
	if (vmaj != 2)
		return nfm_error_set(err, NFM_ERR_UNSUPPORTED, "%s: unsupported pcap version %u.%u",
				     s->name, vmaj, vmin);
	s->be = be;
	s->frac_max = frac_max;
	s->frac_mul = frac_mul;
	s->rec_hdr_len = hdr_len;
	s->lens = vmin < 3 ? LENS_SWAPPED : vmin == 3 ? LENS_MAYBE_SWAPPED : LENS_NORMAL;
	s->snaplen = nfm_ld32(p + 16, be);
	/* The linktype field: the low 16 bits are the LINKTYPE_ value; the upper bits hold
	 * an optional FCS length (bits 26-31) and reserved bits (16-25). Both are ignored:
	 * packets are returned as stored, and a file with reserved bits set is read with
	 * the low 16 bits (Wireshark refuses such files; libpcap reads them the same way). */
	s->linktype = (int)(nfm_ld32(p + 20, be) & 0xffffu);
	s->first_linktype = s->linktype;
	st->pos += 24;
	return 0;
}

static int pcap_next(struct nfm_source *s, struct nfm_raw_packet *pkt, struct nfm_error *err)
{
	struct nfm_stream *st = &s->st;
	size_t hl = s->rec_hdr_len;
	if ((size_t)(st->end - st->pos) < hl) {
		int rc = nfm_source_refill(s, hl, err);
		if (rc == 1)
			return nfm_stream_check_end(st, s->stats.records, err);
		if (rc)
			return rc;
	}
	const uint8_t *p = st->pos;
	int be = s->be;
	uint32_t caplen = nfm_ld32(p + 8, be), origlen = nfm_ld32(p + 12, be);
	if (s->lens != LENS_NORMAL && (s->lens == LENS_SWAPPED || caplen > origlen)) {
		uint32_t t = caplen;
		caplen = origlen;
		origlen = t;
	}
	if (caplen > (size_t)(st->end - p) - hl) {
		uint64_t off = nfm_stream_off(st, p);
		if (caplen > NFM_STREAM_MAX_RECORD)
			return nfm_error_set_at(err, NFM_ERR_CORRUPT, off,
						"%s: corrupt capture: record at byte %llu claims %u bytes (%llu packets read)",
						s->name, (unsigned long long)off, caplen,
						(unsigned long long)s->stats.records);
		int rc = nfm_source_refill(s, hl + caplen, err);
		if (rc == 1)
			rc = nfm_source_truncated(s, off, err);
		if (rc)
			return rc;
		p = st->pos;
	}
	uint64_t sec = nfm_ld32(p, be);
	uint32_t frac = nfm_ld32(p + 4, be);
	if (frac >= s->frac_max) {
		/* Out-of-range fraction: carry whole seconds into the seconds field. */
		sec += frac / s->frac_max;
		frac %= s->frac_max;
		s->stats.ts_fixed++;
	}
	if (caplen > origlen || (caplen > s->snaplen && s->snaplen)) {
		/* A record that lies about its lengths: keep every captured byte (tshark
		 * does too) and make the wire length at least the captured length. */
		if (caplen > origlen)
			origlen = caplen;
		s->stats.caplen_fixed++;
	}
	pkt->ts_ns = sec * 1000000000u + (uint64_t)frac * s->frac_mul;
	pkt->cap_len = caplen;
	pkt->wire_len = origlen;
	pkt->linktype = s->linktype;
	pkt->interface_id = 0;
	pkt->offset = nfm_stream_off(st, p);
	pkt->data = p + hl;
	st->pos = p + hl + caplen;
	nfm_stream_prefetch(st);
	s->stats.records++;
	return 1;
}

/* The little-endian microsecond magic, as most files start. */
static const uint8_t pcap_magic[4] = { 0xd4, 0xc3, 0xb2, 0xa1 };

const struct nfm_format_ops nfm_format_pcap = {
	.name = "pcap",
	.id = NFM_CAPFMT_PCAP,
	.magic = pcap_magic,
	.magic_len = sizeof pcap_magic,
	.probe = pcap_probe,
	.open = pcap_open,
	.next = pcap_next,
};
