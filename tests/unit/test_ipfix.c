/* The IPFIX / NetFlow v9 encoder and exporter: records are encoded into messages and
 * read back by the test collector (ipfix_collector.h: templates learnt from the
 * messages, lengths and set ids checked, data records decoded through the templates,
 * NetFlow v9 times computed from sysUptime as nfcapd does), then compared with what
 * went in. Also the MTU bound, sequence numbers, the template schedule, the v9 boot
 * time, and the exporters themselves over loopback UDP (flows run through the meter with
 * the netflow module, a closed port, bad destinations). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decode/decode.h"
#include "export/exporter.h"
#include "export/ipfix_enc.h"
#include "feature/fields.h"
#include "feature/netflow.h"
#include "flow/meter.h"
#include "flow/module.h"
#include "ipfix_collector.h"
#include "nfm_frame.h"
#include "nfm_test.h"

/* ---- records to send ---- */

static struct nfm_nf_record nf4(uint8_t proto, uint32_t src, uint16_t sp, uint32_t dst,
				uint16_t dp, uint64_t first_ms)
{
	struct nfm_nf_record r;
	memset(&r, 0, sizeof r);
	r.l3 = NFM_L3_IPV4;
	r.proto = proto;
	uint32_t s = htonl(src), d = htonl(dst);
	memcpy(r.src, &s, 4);
	memcpy(r.dst, &d, 4);
	r.src_port = sp;
	r.dst_port = dp;
	r.first_ms = first_ms;
	r.last_ms = first_ms + 2345;
	r.packets = 7;
	r.bytes = 5000000000ULL + proto; /* more than 32 bits */
	r.tos = 0xb8;
	r.tcp_flags = proto == 6 ? 0x1b : 0;
	return r;
}

static struct nfm_nf_record nf6(uint8_t proto, uint8_t last_src, uint16_t sp, uint16_t dp,
				uint64_t first_ms)
{
	struct nfm_nf_record r = nf4(proto, 0, sp, 0, dp, first_ms);
	r.l3 = NFM_L3_IPV6;
	static const uint8_t base[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	memcpy(r.src, base, 16);
	memcpy(r.dst, base, 16);
	r.src[15] = last_src;
	r.dst[15] = 0xfe;
	r.dst[5] = 0x77;
	return r;
}

static void make_icmp(struct nfm_nf_record *r, uint8_t type, uint8_t code)
{
	r->icmp_type = type;
	r->icmp_code = code;
	r->src_port = 0;
	r->dst_port = (uint16_t)(type << 8 | code);
	r->tcp_flags = 0;
}

/* A mixed set: IPv4 TCP, UDP, ICMP echo; IPv6 TCP, UDP, ICMPv6 echo; an SCTP record. */
static size_t sample(struct nfm_nf_record *r, uint64_t t0)
{
	size_t n = 0;
	r[n++] = nf4(6, IP4(127, 0, 0, 1), 40000, IP4(127, 0, 0, 2), 443, t0);
	r[n++] = nf4(17, IP4(127, 0, 0, 3), 5353, IP4(127, 0, 0, 4), 53, t0 + 10);
	r[n] = nf4(1, IP4(127, 0, 0, 5), 0, IP4(127, 0, 0, 6), 0, t0 + 20);
	make_icmp(&r[n++], 8, 0);
	r[n++] = nf6(6, 1, 50000, 80, t0 + 30);
	r[n++] = nf6(17, 2, 1234, 4321, t0 + 40);
	r[n] = nf6(58, 3, 0, 0, t0 + 50);
	make_icmp(&r[n++], 128, 0);
	r[n++] = nf4(132, IP4(127, 0, 0, 7), 0, IP4(127, 0, 0, 8), 0, t0 + 60);
	return n;
}

/* Whether a decoded record says what r said. */
static bool same(const struct trec *d, const struct nfm_nf_record *r)
{
	size_t al = r->l3 == NFM_L3_IPV6 ? 16 : 4;
	bool icmp = r->proto == 1 || r->proto == 58;
	return d->first_ms == r->first_ms && d->last_ms == r->last_ms && d->bytes == r->bytes &&
	       d->packets == r->packets && d->l3 == r->l3 && d->proto == r->proto &&
	       d->tcp_flags == r->tcp_flags && d->tos == r->tos && d->src_port == r->src_port &&
	       d->dst_port == r->dst_port &&
	       d->icmp == (icmp ? (r->icmp_type << 8 | r->icmp_code) : 0) &&
	       memcmp(d->src, r->src, al) == 0 && memcmp(d->dst, r->dst, al) == 0;
}

/* Adds every record (entries through nfm_ipfix_add, taking full messages) and reads the
 * messages back into c; checks the MTU and the sequence numbers on the way. Returns the
 * number of messages. */
struct run_opts {
	uint8_t version;
	bool biflow;
	size_t mtu;
};

static size_t run(const struct run_opts *o, const struct nfm_nf_record *r, size_t n,
		  struct tcollector *c, unsigned *with_templates, int *failures)
{
	struct nfm_ipfix_enc e;
	memset(c, 0, sizeof *c);
	c->version = o->version;
	if (nfm_ipfix_enc_init(&e, o->version, o->biflow, 42, o->mtu)) {
		(*failures)++;
		return 0;
	}
	size_t msgs = 0, mtu = o->mtu ? o->mtu : NFM_IPFIX_MTU_DEFAULT;
	uint64_t records_before = 0;
	*with_templates = 0;
	struct nfm_ipfix_msg m;
	for (size_t i = 0; i <= n; i++) {
		uint8_t entry[NFM_IPFIX_ENTRY_MAX];
		size_t len = 0;
		if (i < n) {
			if (o->biflow) {
				struct nfm_nf_biflow b = { .fwd = r[i], .rev_packets = i,
							   .rev_bytes = 1000 * i };
				len = nfm_ipfix_entry_biflow(&b, entry);
			} else {
				len = nfm_ipfix_entry(&r[i], entry);
			}
			if (len != nfm_ipfix_entry_len(entry, len) || len > NFM_IPFIX_ENTRY_MAX)
				(*failures)++;
		}
		int rc = i < n ? nfm_ipfix_add(&e, entry) : 1;
		if (rc == 0)
			continue;
		if (rc != 1 || !nfm_ipfix_take(&e, &m)) {
			if (i < n || rc != 1)
				(*failures)++;
			break;
		}
		msgs++;
		if (m.len > mtu) {
			fprintf(stderr, "message of %zu bytes, MTU %zu\n", m.len, mtu);
			(*failures)++;
		}
		unsigned got = collect(c, m.p, m.len);
		if (got != m.records || c->msg_templates != m.templates || c->domain != 42)
			(*failures)++;
		/* IPFIX: data records before the message; v9: messages before it. */
		if (c->seq != (o->version == 10 ? records_before : msgs - 1))
			(*failures)++;
		records_before += got;
		if (c->msg_templates)
			(*with_templates)++;
		if ((c->msg_templates != 0) != ((msgs - 1) % NFM_IPFIX_TEMPLATE_EVERY == 0))
			(*failures)++;
		if (i < n && nfm_ipfix_add(&e, entry) != 0)
			(*failures)++;
	}
	if (nfm_ipfix_take(&e, &m))
		(*failures)++; /* nothing may be left */
	nfm_ipfix_enc_free(&e);
	return msgs;
}

static const struct tfield ipfix_uni4[] = {
	{ 152, 8, 0 }, { 153, 8, 0 }, { 1, 8, 0 }, { 2, 8, 0 }, { 8, 4, 0 }, { 12, 4, 0 },
	{ 32, 2, 0 }, { 7, 2, 0 }, { 11, 2, 0 }, { 4, 1, 0 }, { 6, 1, 0 }, { 5, 1, 0 },
};
static const struct tfield v9_uni6[] = {
	{ 22, 4, 0 }, { 21, 4, 0 }, { 1, 8, 0 }, { 2, 8, 0 }, { 27, 16, 0 }, { 28, 16, 0 },
	{ 32, 2, 0 }, { 7, 2, 0 }, { 11, 2, 0 }, { 4, 1, 0 }, { 6, 1, 0 }, { 5, 1, 0 },
};

static bool template_is(const struct ttemplate *t, const struct tfield *f, size_t n)
{
	if (!t || t->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t->f[i].id != f[i].id || t->f[i].len != f[i].len || t->f[i].pen != f[i].pen)
			return false;
	return true;
}

/* ---- tests of the encoder ---- */

NFM_TEST(ipfix_records_round_trip)
{
	struct nfm_nf_record r[8];
	size_t n = sample(r, 1700000000123ULL);
	struct tcollector c;
	unsigned tm;
	int fails = 0;
	struct run_opts o = { .version = 10 };
	CHECK_EQ_U(run(&o, r, n, &c, &tm, &fails), 1);
	CHECK_EQ_U(fails, 0);
	CHECK_EQ_U(c.errors, 0);
	CHECK_EQ_U(c.nt, 2);
	CHECK(template_is(find_template(&c, 256), ipfix_uni4, 12));
	struct ttemplate *t6 = find_template(&c, 257);
	CHECK(t6 && t6->n == 12 && t6->f[4].id == 27 && t6->f[4].len == 16 &&
	      t6->f[6].id == 139 && t6->rec_len == 73);
	CHECK_EQ_U(c.nrec, n);
	for (size_t i = 0; i < n && i < c.nrec; i++) {
		CHECK(same(&c.rec[i], &r[i]));
		CHECK_EQ_U(c.rec[i].tid, r[i].l3 == NFM_L3_IPV6 ? 257 : 256);
	}
	/* ICMP: type and code in icmpTypeCode and in the destination port. */
	CHECK_EQ_U(c.rec[2].icmp, 0x0800);
	CHECK_EQ_U(c.rec[2].dst_port, 0x0800);
	CHECK_EQ_U(c.rec[5].icmp, 128 << 8);
	CHECK_EQ_U(c.rec[0].bytes, 5000000006ULL);
	/* Export time: the latest end (the SCTP record's), rounded up to the second. */
	CHECK_EQ_U(c.export_s, (1700000000123ULL + 60 + 2345 + 999) / 1000);
	free(c.rec);
}

NFM_TEST(netflow9_records_round_trip)
{
	struct nfm_nf_record r[8];
	size_t n = sample(r, 1491516383915ULL);
	struct tcollector c;
	unsigned tm;
	int fails = 0;
	struct run_opts o = { .version = 9 };
	CHECK_EQ_U(run(&o, r, n, &c, &tm, &fails), 1);
	CHECK_EQ_U(fails, 0);
	CHECK_EQ_U(c.errors, 0);
	CHECK(template_is(find_template(&c, 257), v9_uni6, 12));
	struct ttemplate *t4 = find_template(&c, 256);
	CHECK(t4 && t4->rec_len == 41 && t4->f[0].id == 22 && t4->f[1].id == 21);
	CHECK_EQ_U(c.count, n + 2);
	CHECK_EQ_U(c.nrec, n);
	for (size_t i = 0; i < n && i < c.nrec; i++)
		CHECK(same(&c.rec[i], &r[i]));
	/* The boot is an hour before the first start, on a second. */
	CHECK_EQ_U((uint64_t)c.export_s * 1000 - c.uptime, 1491516383000ULL - 3600000);
	free(c.rec);
}

NFM_TEST(ipfix_biflow_records)
{
	struct nfm_nf_record r[8];
	size_t n = sample(r, 1700000000000ULL);
	struct tcollector c;
	unsigned tm;
	int fails = 0;
	struct run_opts o = { .version = 10, .biflow = true };
	CHECK_EQ_U(run(&o, r, n, &c, &tm, &fails), 1);
	CHECK_EQ_U(fails, 0);
	CHECK_EQ_U(c.errors, 0);
	CHECK_EQ_U(c.nt, 2);
	struct ttemplate *t = find_template(&c, 258);
	CHECK(t && t->n == 15 && t->rec_len == 66 && t->f[12].id == 239 &&
	      t->f[13].id == 1 && t->f[13].pen == NFM_IPFIX_PEN_REVERSE &&
	      t->f[14].id == 2 && t->f[14].pen == NFM_IPFIX_PEN_REVERSE);
	CHECK(find_template(&c, 259) && find_template(&c, 259)->rec_len == 90);
	CHECK(!find_template(&c, 256));
	CHECK_EQ_U(c.nrec, n);
	for (size_t i = 0; i < n && i < c.nrec; i++) {
		CHECK(same(&c.rec[i], &r[i]));
		CHECK_EQ_U(c.rec[i].rev_packets, i);
		CHECK_EQ_U(c.rec[i].rev_bytes, 1000 * i);
		CHECK_EQ_U(c.rec[i].biflow_dir, 1);
		CHECK_EQ_U(c.rec[i].tid, r[i].l3 == NFM_L3_IPV6 ? 259 : 258);
	}
	/* An entry of another template is refused. */
	struct nfm_ipfix_enc e;
	uint8_t entry[NFM_IPFIX_ENTRY_MAX];
	CHECK(nfm_ipfix_enc_init(&e, 10, true, 0, 0) == 0);
	CHECK(nfm_ipfix_entry(&r[0], entry) == 50);
	CHECK(nfm_ipfix_add(&e, entry) == -1);
	nfm_ipfix_enc_free(&e);
	free(c.rec);
}

/* Many records, several MTUs: every message within the MTU, every record back in order,
 * sequence numbers and the template schedule (run checks them per message). */
NFM_TEST(messages_within_mtu)
{
	enum { N = 5000 };
	struct nfm_nf_record *r = malloc(N * sizeof *r);
	CHECK(r != NULL);
	if (!r)
		return;
	for (size_t i = 0; i < N; i++) {
		uint64_t t = 1600000000000ULL + i * 7;
		r[i] = i % 3 == 2 ? nf6(17, (uint8_t)i, (uint16_t)i, 53, t)
				  : nf4(6, IP4(127, 0, 0, 1), (uint16_t)(1024 + i), IP4(127, 1, 0, 1),
					80, t);
	}
	const size_t mtus[] = { 0, 576, 1500, 9000, NFM_IPFIX_MTU_MAX };
	for (int v = 0; v < 3; v++) {
		struct run_opts o = { .version = v == 1 ? 9 : 10, .biflow = v == 2 };
		for (size_t k = 0; k < sizeof mtus / sizeof mtus[0]; k++) {
			o.mtu = mtus[k];
			struct tcollector c;
			unsigned tm;
			int fails = 0;
			size_t msgs = run(&o, r, N, &c, &tm, &fails);
			CHECK_EQ_U(fails, 0);
			CHECK_EQ_U(c.errors, 0);
			CHECK_EQ_U(c.nrec, N);
			size_t ok = 0;
			for (size_t i = 0; i < N && i < c.nrec; i++)
				ok += same(&c.rec[i], &r[i]);
			CHECK_EQ_U(ok, N);
			CHECK_EQ_U(tm, (msgs + NFM_IPFIX_TEMPLATE_EVERY - 1) / NFM_IPFIX_TEMPLATE_EVERY);
			/* Messages are filled: at most one record's room is left unused. */
			size_t m = o.mtu ? o.mtu : NFM_IPFIX_MTU_DEFAULT;
			if (m == NFM_IPFIX_MTU_DEFAULT)
				CHECK(msgs > 1 && msgs < N * (o.biflow ? 90u : 73u) / (m - 200) + 2);
			free(c.rec);
		}
	}
	free(r);
}

NFM_TEST(mtu_limits)
{
	struct nfm_ipfix_enc e;
	for (int v = 0; v < 3; v++) {
		uint8_t ver = v == 1 ? 9 : 10;
		bool bi = v == 2;
		size_t min = nfm_ipfix_min_mtu(ver, bi);
		CHECK(min > 100 && min < 300);
		CHECK(nfm_ipfix_enc_init(&e, ver, bi, 0, min - 1) == NFM_ERR_INVALID);
		CHECK(nfm_ipfix_enc_init(&e, ver, bi, 0, NFM_IPFIX_MTU_MAX + 1) == NFM_ERR_INVALID);
		/* At the smallest MTU each message still holds the templates and a record. */
		struct nfm_nf_record r[8];
		size_t n = sample(r, 1600000000000ULL);
		struct tcollector c;
		unsigned tm;
		int fails = 0;
		struct run_opts o = { .version = ver, .biflow = bi, .mtu = min };
		CHECK(run(&o, r, n, &c, &tm, &fails) >= 2);
		CHECK_EQ_U(fails, 0);
		CHECK_EQ_U(c.errors, 0);
		CHECK_EQ_U(c.nrec, n);
		free(c.rec);
	}
	CHECK(nfm_ipfix_enc_init(&e, 9, true, 0, 0) == NFM_ERR_INVALID); /* no v9 biflow */
	CHECK(nfm_ipfix_enc_init(&e, 5, false, 0, 0) == NFM_ERR_INVALID);
}

/* NetFlow v9 times: a capture longer than sysUptime's 49.7 days reboots the exporter
 * between messages; a flow that began before the boot wraps; a flow ending before the
 * boot reboots; a flow of almost 2^32 ms has its boot placed so that neither sysUptime
 * nor its LAST_SWITCHED wraps. Every time still reads back exactly. */
NFM_TEST(netflow9_boot_time)
{
	const uint64_t day = 86400000ULL;
	struct nfm_nf_record r[6];
	uint64_t t0 = 1500000000000ULL;
	r[0] = nf4(17, IP4(127, 0, 0, 1), 1, IP4(127, 0, 0, 2), 2, t0);
	r[1] = r[0];                                   /* began 2 h before r[0]: before the boot */
	r[1].first_ms = t0 - 2 * 3600000;
	r[2] = r[0];                                   /* 60 days later */
	r[2].first_ms = t0 + 60 * day;
	r[2].last_ms = r[2].first_ms + 5;
	r[3] = r[0];                                   /* ends 2^32 - 1 ms after t0's boot */
	r[3].last_ms = t0 - 3600000 + 0xffffffffULL;
	r[4] = r[0];                                   /* before r[2]'s boot; fits r[3]'s */
	r[4].first_ms = r[4].last_ms = t0 + 1000;
	r[5] = r[0];                                   /* a flow of 30 days; fits r[3]'s */
	r[5].last_ms = t0 + 30 * day;
	struct tcollector c;
	unsigned tm;
	int fails = 0;
	struct run_opts o = { .version = 9 };
	size_t msgs = run(&o, r, 6, &c, &tm, &fails);
	CHECK_EQ_U(fails, 0);
	CHECK_EQ_U(c.errors, 0);
	CHECK_EQ_U(c.nrec, 6);
	for (size_t i = 0; i < 6 && i < c.nrec; i++)
		CHECK(same(&c.rec[i], &r[i]));
	CHECK_EQ_U(msgs, 3);
	/* The last message: sysUptime at its largest, not wrapped. */
	CHECK_EQ_U(c.uptime, 0xffffffffULL);
	free(c.rec);
}

/* ---- the exporters over loopback ---- */

/* A UDP socket on 127.0.0.1 with a free port. */
static int listener(unsigned *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int big = 4 << 20;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(fd, (struct sockaddr *)&a, &al)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	*port = ntohs(a.sin_port);
	return fd;
}

struct sink {
	struct nfm_exporter *ex;
	size_t nf_off;
	struct nfm_nf_record want[4096];
	size_t nwant;
	struct nfm_error err;
	int rc;
};

static int to_exporter(void *ctx, const struct nfm_flow_record *rec)
{
	struct sink *s = ctx;
	struct nfm_nf_record r[2];
	int n = nfm_netflow_split(rec, nfm_netflow_state(rec, s->nf_off), r);
	for (int i = 0; i < n && s->nwant < 4096; i++)
		s->want[s->nwant++] = r[i];
	int rc = nfm_exporter_write(s->ex, rec, &s->err);
	if (rc)
		s->rc = rc;
	return rc;
}

/* Frames: per i, a UDP request and reply between 127.0.0.1:(20000+i) and 127.0.0.2:53,
 * every 10th an IPv6 one, every 7th an ICMP echo, every 5th a TCP SYN with ToS 0x10. */
static size_t frame_i(struct frame *f, unsigned i, int reply)
{
	f->n = 0;
	uint32_t a = IP4(127, 0, 0, 1), b = IP4(127, 0, 0, 2);
	if (i % 10 == 9) {
		eth(f, 0x86dd);
		ipv6(f, 17, 8 + 20, reply ? 2 : 1, reply ? 1 : 2);
		udp(f, reply ? 53 : 20000 + i, reply ? 20000 + i : 53, 20);
	} else if (i % 7 == 6) {
		eth(f, 0x0800);
		ipv4(f, 1, reply ? b : a, reply ? a : b, 8 + 32, 0, 0);
		put8(f, reply ? 0 : 8); put8(f, 0); put16(f, 0); put16(f, i); put16(f, 1);
		putn(f, 'p', 32);
	} else if (i % 5 == 4) {
		eth(f, 0x0800);
		size_t h = ipv4(f, 6, reply ? b : a, reply ? a : b, 20, 0, 0);
		f->b[h + 1] = 0x10;
		tcp(f, reply ? 80 : 20000 + i, reply ? 20000 + i : 80, reply ? 0x12 : 0x02, 0, 0);
	} else {
		eth(f, 0x0800);
		ipv4(f, 17, reply ? b : a, reply ? a : b, 8 + 10 + i % 50, 0, 0);
		udp(f, reply ? 53 : 20000 + i, reply ? 20000 + i : 53, 10 + i % 50);
	}
	return f->n;
}

/* Runs nflows conversations through a meter with the netflow module into the exporter
 * at url; returns 0 and leaves the records it sent in s->want. */
static int export_run(const char *url, const struct nfm_netflow_opts *o, unsigned nflows,
		      struct sink *s, struct nfm_export_counts *counts, struct nfm_error *err)
{
	const struct nfm_module *mods[] = { &nfm_mod_netflow };
	static struct nfm_layout lay;
	if (nfm_layout_build(&lay, mods, 1, err))
		return -1;
	struct nfm_columns cols = { 0 };
	if (nfm_columns_parse(&cols, "src_ip", &lay, err))
		return -1;
	memset(s, 0, sizeof *s);
	s->nf_off = nfm_layout_offset(&lay, &nfm_mod_netflow);
	const struct nfm_exporter_ops *ops = nfm_exporter_for_url(url);
	struct nfm_export_dest dest = { .path = url, .layout = &lay, .netflow = o };
	int rc = nfm_exporter_open(&s->ex, ops, &dest, &cols, err);
	if (rc) {
		nfm_columns_free(&cols);
		return rc;
	}
	struct nfm_meter_config mc;
	nfm_meter_config_default(&mc);
	mc.layout = &lay;
	struct nfm_meter *m = nfm_meter_new(&mc, to_exporter, s);
	struct frame f;
	uint64_t t = 1700000000000000000ULL;
	for (unsigned i = 0; m && i < nflows && !rc; i++)
		for (int reply = 0; reply < 2 && !rc; reply++) {
			frame_i(&f, i, reply);
			t += 1000000 + 12345;
			rc = nfm_meter_frame(m, f.b, (uint32_t)f.n, (uint32_t)f.n, t,
					     NFM_LINK_ETHERNET);
		}
	if (!m || rc || nfm_meter_finish(m) || s->rc) {
		nfm_meter_free(m);
		nfm_exporter_abort(s->ex);
		nfm_columns_free(&cols);
		return -1;
	}
	nfm_meter_free(m);
	rc = nfm_exporter_flush(s->ex, err); /* the last message: counts are final */
	nfm_exporter_counts(s->ex, counts);
	if (rc)
		nfm_exporter_abort(s->ex);
	else
		rc = nfm_exporter_close(s->ex, err);
	nfm_columns_free(&cols);
	return rc;
}

static void receive_all(int fd, struct tcollector *c, size_t *msgs)
{
	static uint8_t buf[65536];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
		collect(c, buf, (size_t)n);
		(*msgs)++;
	}
}

NFM_TEST(exporters_over_loopback)
{
	for (int v = 0; v < 3; v++) {
		unsigned port;
		int fd = listener(&port);
		CHECK(fd >= 0);
		if (fd < 0)
			return;
		char url[64];
		snprintf(url, sizeof url, "%s://127.0.0.1:%u", v == 1 ? "netflow9" : "ipfix", port);
		struct nfm_netflow_opts o = { .export_rate = 1000000, .biflow = v == 2,
					      .domain_id = 7, .export_mtu = 1000 };
		static struct sink s;
		struct nfm_export_counts k;
		struct nfm_error err;
		nfm_error_clear(&err);
		int rc = export_run(url, &o, 600, &s, &k, &err);
		CHECK_EQ_U(rc, 0);
		if (rc)
			fprintf(stderr, "%s\n", err.msg);
		struct tcollector c;
		memset(&c, 0, sizeof c);
		c.version = v == 1 ? 9 : 10;
		size_t msgs = 0;
		receive_all(fd, &c, &msgs);
		close(fd);
		CHECK_EQ_U(c.errors, 0);
		CHECK_EQ_U(c.domain, 7);
		CHECK(s.nwant > 600);
		CHECK_EQ_U(msgs, k.messages);
		CHECK_EQ_U(k.records, c.nrec);
		CHECK_EQ_U(k.templates, 2 * ((msgs + 15) / 16));
		CHECK_EQ_U(k.dropped, 0);
		CHECK_STR(k.warning, "");
		if (v < 2) {
			CHECK_EQ_U(c.nrec, s.nwant);
			size_t ok = 0;
			for (size_t i = 0; i < s.nwant && i < c.nrec; i++)
				ok += same(&c.rec[i], &s.want[i]);
			CHECK_EQ_U(ok, s.nwant);
		} else {
			CHECK_EQ_U(c.nrec, 600); /* one biflow per flow */
			uint64_t fwd = 0, rev = 0;
			for (size_t i = 0; i < c.nrec; i++) {
				fwd += c.rec[i].packets;
				rev += c.rec[i].rev_packets;
			}
			CHECK_EQ_U(fwd + rev, 1200);
			CHECK(rev > 0);
		}
		free(c.rec);
	}
}

/* A message waits for more records at most a second of meter time (tick), then goes. */
NFM_TEST(tick_sends_a_waiting_message)
{
	unsigned port;
	int fd = listener(&port);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	const struct nfm_module *mods[] = { &nfm_mod_netflow };
	struct nfm_layout lay;
	struct nfm_columns cols = { 0 };
	struct nfm_error err;
	CHECK(nfm_layout_build(&lay, mods, 1, &err) == 0);
	CHECK(nfm_columns_parse(&cols, "src_ip", &lay, &err) == 0);
	char url[64];
	snprintf(url, sizeof url, "netflow9://127.0.0.1:%u", port);
	struct nfm_netflow_opts o = { .export_rate = 1000000 };
	struct nfm_export_dest dest = { .path = url, .layout = &lay, .netflow = &o };
	struct nfm_exporter *ex = NULL;
	CHECK(nfm_exporter_open(&ex, nfm_exporter_for_url(url), &dest, &cols, &err) == 0);
	if (ex) {
		struct nfm_nf_record r = nf4(17, IP4(127, 0, 0, 1), 1, IP4(127, 0, 0, 2), 2,
					     1700000000000ULL);
		uint8_t entry[NFM_IPFIX_ENTRY_MAX];
		size_t len = nfm_ipfix_entry(&r, entry);
		CHECK(nfm_exporter_write_row(ex, entry, len, &err) == 0);
		const uint64_t end_ns = r.last_ms * 1000000ULL;
		uint8_t buf[2048];
		CHECK(nfm_exporter_tick(ex, end_ns + 999000000ULL, &err) == 0);
		CHECK(recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0); /* still waiting */
		CHECK(nfm_exporter_tick(ex, end_ns + 1000000000ULL, &err) == 0);
		struct tcollector c;
		memset(&c, 0, sizeof c);
		c.version = 9;
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		CHECK(n > 0);
		if (n > 0)
			CHECK_EQ_U(collect(&c, buf, (size_t)n), 1);
		CHECK(c.nrec == 1 && same(&c.rec[0], &r));
		CHECK(nfm_exporter_close(ex, &err) == 0);
		CHECK(recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0); /* nothing was left */
		free(c.rec);
	}
	nfm_columns_free(&cols);
	close(fd);
}

NFM_TEST(closed_port_and_bad_destinations)
{
	unsigned port;
	int fd = listener(&port);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd); /* nothing listens there now */
	char url[64];
	snprintf(url, sizeof url, "ipfix://127.0.0.1:%u", port);
	struct nfm_netflow_opts o = { .export_rate = 1000000, .export_mtu = 300 };
	static struct sink s;
	struct nfm_export_counts k;
	struct nfm_error err;
	CHECK_EQ_U(export_run(url, &o, 400, &s, &k, &err), 0);
	CHECK(k.dropped > 0);
	CHECK(k.records + k.dropped > 0);
	CHECK(strstr(k.warning, url) != NULL);
	CHECK(strstr(k.warning, "refused") != NULL);

	static const char *const bad_urls[] = {
		"ipfix://127.0.0.1", "ipfix://127.0.0.1:", "ipfix://127.0.0.1:0",
		"ipfix://127.0.0.1:65536", "ipfix://127.0.0.1:12a", "ipfix://::1:4739",
		"ipfix://[::1]4739", "ipfix://:4739", "ipfix://no-such-host.invalid:4739",
	};
	for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
		nfm_error_clear(&err);
		CHECK(export_run(bad_urls[i], &o, 1, &s, &k, &err) != 0);
		CHECK(strncmp(err.msg, bad_urls[i], strlen(bad_urls[i])) == 0);
		CHECK(strchr(err.msg, '\n') == NULL);
	}
	struct nfm_netflow_opts bi = { .biflow = true };
	CHECK(export_run("netflow9://127.0.0.1:9", &bi, 1, &s, &k, &err) == NFM_ERR_INVALID);
	CHECK(strstr(err.msg, "biflow") != NULL);
	struct nfm_netflow_opts small = { .export_mtu = 100 };
	CHECK(export_run("ipfix://127.0.0.1:9", &small, 1, &s, &k, &err) == NFM_ERR_INVALID);
	CHECK(strstr(err.msg, "--export-mtu") != NULL);
	/* An IPv6 literal in brackets opens (a UDP socket needs no listener). */
	CHECK_EQ_U(export_run("ipfix://[::1]:9", &o, 0, &s, &k, &err), 0);
	CHECK(nfm_exporter_for_url("netflow9://x:1") != NULL);
	CHECK(nfm_exporter_for_url("sflow://x:1") == NULL);
}

NFM_TEST_MAIN_BEGIN()
	RUN(ipfix_records_round_trip);
	RUN(netflow9_records_round_trip);
	RUN(ipfix_biflow_records);
	RUN(messages_within_mtu);
	RUN(mtu_limits);
	RUN(netflow9_boot_time);
	RUN(exporters_over_loopback);
	RUN(tick_sends_a_waiting_message);
	RUN(closed_port_and_bad_destinations);
NFM_TEST_MAIN_END()
