/* A small IPFIX / NetFlow v9 collector for the tests: it learns templates from the
 * messages, checks lengths, set ids, padding and the v9 record count, and decodes data
 * records through the templates into struct trec (NetFlow v9 times computed from
 * sysUptime as nfcapd does: boot = unix_secs * 1000 - sysUptime, a FIRST_SWITCHED above
 * LAST_SWITCHED wrapped). Written from RFC 7011, RFC 5103 and RFC 3954, apart from the
 * encoder it checks. */
#ifndef NFM_IPFIX_COLLECTOR_H
#define NFM_IPFIX_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

struct tfield {
	uint16_t id, len;
	uint32_t pen;
};

struct ttemplate {
	uint16_t id, n;
	struct tfield f[24];
	size_t rec_len;
};

/* One data record as read: what the fields said, by meaning. */
struct trec {
	uint16_t tid;
	uint64_t first_ms, last_ms, bytes, packets, rev_bytes, rev_packets;
	uint8_t l3, proto, tcp_flags, tos, biflow_dir;
	uint16_t src_port, dst_port, icmp;
	uint8_t src[16], dst[16];
	unsigned fields;           /* how many fields the record had */
};

struct tcollector {
	unsigned version;
	struct ttemplate t[8];
	int nt;
	struct trec *rec;
	size_t nrec, cap;
	/* the last message's header */
	uint32_t seq, domain, export_s, uptime, count;
	unsigned msg_templates;    /* template records in the last message */
	int errors;                /* malformed messages */
};

static uint64_t rd(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static struct ttemplate *find_template(struct tcollector *c, unsigned id)
{
	for (int i = 0; i < c->nt; i++)
		if (c->t[i].id == id)
			return &c->t[i];
	return NULL;
}

static void bad(struct tcollector *c, const char *why)
{
	fprintf(stderr, "collector: %s\n", why);
	c->errors++;
}

static void read_templates(struct tcollector *c, const uint8_t *p, size_t n)
{
	while (n >= 4) {
		struct ttemplate t = { .id = (uint16_t)rd(p, 2), .n = (uint16_t)rd(p + 2, 2) };
		p += 4;
		n -= 4;
		if (t.n == 0 || t.n > 24)
			return bad(c, "template field count");
		for (unsigned i = 0; i < t.n; i++) {
			if (n < 4)
				return bad(c, "template cut");
			t.f[i].id = (uint16_t)rd(p, 2);
			t.f[i].len = (uint16_t)rd(p + 2, 2);
			p += 4;
			n -= 4;
			if (t.f[i].id & 0x8000) {
				if (c->version != 10 || n < 4)
					return bad(c, "enterprise element");
				t.f[i].id &= 0x7fff;
				t.f[i].pen = (uint32_t)rd(p, 4);
				p += 4;
				n -= 4;
			}
			t.rec_len += t.f[i].len;
		}
		struct ttemplate *old = find_template(c, t.id);
		if (!old && c->nt < 8)
			old = &c->t[c->nt++];
		if (old)
			*old = t;
	}
	if (n)
		bad(c, "template set has trailing bytes");
}

/* Decodes one data record; v9 times from sysUptime (boot = unix_secs * 1000 -
 * sysUptime; a FIRST_SWITCHED above LAST_SWITCHED wrapped), as nfcapd does. */
static void read_record(struct tcollector *c, const struct ttemplate *t, const uint8_t *p)
{
	struct trec r = { .tid = t->id, .fields = t->n };
	uint64_t first32 = 0, last32 = 0;
	for (unsigned i = 0; i < t->n; i++) {
		const struct tfield *f = &t->f[i];
		uint64_t v = f->len <= 8 ? rd(p, f->len) : 0;
		if (f->pen == 29305) {
			if (f->id == 1)
				r.rev_bytes = v;
			else if (f->id == 2)
				r.rev_packets = v;
			else
				bad(c, "unexpected reverse element");
		} else if (f->pen) {
			bad(c, "unexpected enterprise");
		} else {
			switch (f->id) {
			case 152: r.first_ms = v; break;
			case 153: r.last_ms = v; break;
			case 22: first32 = v; break;
			case 21: last32 = v; break;
			case 1: r.bytes = v; break;
			case 2: r.packets = v; break;
			case 4: r.proto = (uint8_t)v; break;
			case 5: r.tos = (uint8_t)v; break;
			case 6: r.tcp_flags = (uint8_t)v; break;
			case 7: r.src_port = (uint16_t)v; break;
			case 11: r.dst_port = (uint16_t)v; break;
			case 32: case 139: r.icmp = (uint16_t)v; break;
			case 239: r.biflow_dir = (uint8_t)v; break;
			case 8: case 12: case 27: case 28:
				memcpy(f->id == 8 || f->id == 27 ? r.src : r.dst, p, f->len);
				r.l3 = f->len == 16 ? NFM_L3_IPV6 : NFM_L3_IPV4;
				break;
			default: bad(c, "unexpected element");
			}
		}
		p += f->len;
	}
	if (c->version == 9) {
		uint64_t boot = (uint64_t)c->export_s * 1000 - c->uptime;
		r.first_ms = first32 > last32 ? boot - 0x100000000ULL + first32 : boot + first32;
		r.last_ms = boot + last32;
	}
	if (c->nrec == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		c->rec = realloc(c->rec, c->cap * sizeof *c->rec);
	}
	c->rec[c->nrec++] = r;
}

/* Reads one message; returns its data records. */
static unsigned collect(struct tcollector *c, const uint8_t *m, size_t len)
{
	size_t hl = c->version == 10 ? 16 : 20;
	if (len < hl || rd(m, 2) != c->version) {
		bad(c, "header");
		return 0;
	}
	if (c->version == 10) {
		if (rd(m + 2, 2) != len)
			bad(c, "message length");
		c->export_s = (uint32_t)rd(m + 4, 4);
		c->seq = (uint32_t)rd(m + 8, 4);
		c->domain = (uint32_t)rd(m + 12, 4);
	} else {
		c->count = (uint32_t)rd(m + 2, 2);
		c->uptime = (uint32_t)rd(m + 4, 4);
		c->export_s = (uint32_t)rd(m + 8, 4);
		c->seq = (uint32_t)rd(m + 12, 4);
		c->domain = (uint32_t)rd(m + 16, 4);
	}
	unsigned data = 0, tmpl = 0;
	size_t at = hl;
	while (at < len) {
		if (len - at < 4) {
			bad(c, "set header cut");
			break;
		}
		unsigned id = (unsigned)rd(m + at, 2), sl = (unsigned)rd(m + at + 2, 2);
		if (sl < 4 || sl > len - at) {
			bad(c, "set length");
			break;
		}
		if (c->version == 9 && sl % 4)
			bad(c, "v9 FlowSet not padded to 4 bytes");
		const uint8_t *p = m + at + 4;
		size_t n = sl - 4;
		if (id == (c->version == 10 ? 2u : 0u)) {
			read_templates(c, p, n);
			for (const uint8_t *q = p; q + 4 <= p + n; tmpl++) { /* count the records */
				unsigned nf = (unsigned)rd(q + 2, 2);
				q += 4;
				for (unsigned i = 0; i < nf; i++)
					q += (rd(q, 2) & 0x8000) ? 8 : 4;
			}
		} else if (id >= 256) {
			struct ttemplate *t = find_template(c, id);
			if (!t) {
				bad(c, "data before its template");
			} else {
				size_t k = 0;
				for (; n - k >= t->rec_len; k += t->rec_len, data++)
					read_record(c, t, p + k);
				if (c->version == 10 ? k != n : n - k >= 4)
					bad(c, "data set length is not whole records");
			}
		} else {
			bad(c, "unexpected set id");
		}
		at += sl;
	}
	c->msg_templates = tmpl;
	if (c->version == 9 && c->count != data + tmpl)
		bad(c, "v9 count is not the records of the packet");
	return data;
}

#endif
