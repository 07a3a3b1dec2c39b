/* The network exporters --export ipfix://HOST:PORT (IPFIX, RFC 7011) and
 * netflow9://HOST:PORT (NetFlow v9, RFC 3954): NetFlow records (feature/netflow.h) sent
 * over UDP to a collector such as nfcapd.
 *
 * encode (workers) turns a flow into its records' entries (export/ipfix_enc.h): one per
 * direction that saw packets, or one RFC 5103 biflow with --export-biflow (IPFIX only).
 * write (the writer) packs the entries into messages and sends each one when the next
 * record no longer fits, paced to at most --export-rate records per second: a token
 * bucket on the monotonic clock, the writer sleeping until the message's records are
 * due. A collector on the same machine reads one datagram at a time; sent faster than
 * it reads, its socket buffer overflows and records are lost without a trace on our
 * side, so the pacing is the only protection. The default, 50,000 records per second,
 * is a quarter of what nfcapd 1.7.1 took without loss on the 2-core test machine
 * (docs/netflow.md has the measurements).
 *
 * Send errors never stop the run: a datagram that cannot be sent (ENOBUFS / EAGAIN after
 * a few short retries, ECONNREFUSED when an earlier datagram met a closed port, an
 * unreachable network) counts its records as dropped, and the first error becomes the
 * exporter's one warning (nfm_export_counts.warning). */
#include "export/exporter_impl.h"
#include "export/ipfix_enc.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flow/module.h"

#define IPFIX_DEFAULT_RATE 50000u      /* records per second (see above) */
#define IPFIX_BURST_NS 5000000u        /* the bucket holds 5 ms of records */
#define IPFIX_SNDBUF (4u << 20)
#define IPFIX_SEND_RETRIES 5           /* ENOBUFS / EAGAIN: waits 1, 2, 4, 8, 16 ms */
#define IPFIX_FLUSH_MS 1000u           /* tick: a message waits at most 1 s of meter time */

struct ipfix_state {
	char *url;
	int fd;
	size_t nf_off;             /* the netflow module's state in a record */
	bool biflow;
	/* writer side */
	struct nfm_ipfix_enc enc;
	uint64_t clock_ms;         /* meter time: the latest flow end or tick */
	uint64_t msg_opened_ms;    /* meter time when the message under way got a record */
	uint64_t rate;             /* records per second */
	uint64_t due_ns;           /* monotonic time when the bucket is empty */
	struct nfm_export_counts counts;
};

/* ---- the destination ---- */

/* Splits SCHEME://HOST:PORT (HOST may be [IPv6]) into host and port. */
static int parse_url(const char *url, const char *scheme, char *host, size_t host_cap,
		     char *port, size_t port_cap, struct nfm_error *err)
{
	size_t sl = strlen(scheme);
	const char *p = url + sl + 3;
	if (strncasecmp(url, scheme, sl) != 0 || strncmp(url + sl, "://", 3) != 0)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: expected %s://HOST:PORT", url,
				     scheme);
	const char *host_end, *colon;
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (!host_end || host_end[1] != ':')
			return nfm_error_set(err, NFM_ERR_INVALID,
					     "%s: expected %s://[IPv6]:PORT", url, scheme);
		p++;
		colon = host_end + 1;
	} else {
		colon = strrchr(p, ':');
		host_end = colon;
		if (colon && memchr(p, ':', (size_t)(colon - p)))
			return nfm_error_set(err, NFM_ERR_INVALID,
					     "%s: an IPv6 address goes in brackets: %s://[ADDRESS]:PORT",
					     url, scheme);
	}
	if (!colon || host_end == p)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: expected %s://HOST:PORT", url,
				     scheme);
	size_t hl = (size_t)(host_end - p);
	const char *ps = colon + 1;
	size_t pl = strlen(ps);
	unsigned long v = 0;
	bool digits = pl > 0 && pl <= 5;
	for (size_t i = 0; digits && i < pl; i++) {
		digits = ps[i] >= '0' && ps[i] <= '9';
		v = v * 10 + (unsigned long)(ps[i] - '0');
	}
	if (!digits || v < 1 || v > 65535)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: bad port '%s' (1-65535)", url, ps);
	if (hl >= host_cap || pl >= port_cap)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: host name too long", url);
	memcpy(host, p, hl);
	host[hl] = '\0';
	memcpy(port, ps, pl + 1);
	return 0;
}

/* A UDP socket connected to url's address (the first that works of the host's). */
static int connect_udp(const char *url, const char *scheme, int *fd_out, struct nfm_error *err)
{
	char host[256], port[8];
	int rc = parse_url(url, scheme, host, sizeof host, port, sizeof port, err);
	if (rc)
		return rc;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int g = getaddrinfo(host, port, &hints, &res);
	if (g)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: cannot resolve '%s': %s", url,
				     host, g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
	int fd = -1, last_errno = 0;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			last_errno = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return nfm_error_set(err, NFM_ERR_IO, "%s: cannot open a UDP socket to it: %s",
				     url, strerror(last_errno ? last_errno : EADDRNOTAVAIL));
	/* Room for bursts of datagrams while the pacing lets them through; the kernel
	 * caps it at net.core.wmem_max, which is fine. */
	int sndbuf = IPFIX_SNDBUF;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	*fd_out = fd;
	return 0;
}

/* ---- sending ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Waits until n more records may go: the bucket fills at rate records per second and
 * holds IPFIX_BURST_NS worth. */
static void pace(struct ipfix_state *st, uint32_t n)
{
	uint64_t now = mono_ns();
	if (st->due_ns + IPFIX_BURST_NS < now)
		st->due_ns = now - IPFIX_BURST_NS;
	if (st->due_ns > now)
		sleep_until(st->due_ns);
	st->due_ns += (uint64_t)n * 1000000000u / st->rate;
}

static void warn_once(struct ipfix_state *st, int e)
{
	if (st->counts.warning[0])
		return;
	snprintf(st->counts.warning, sizeof st->counts.warning,
		 "%s: send failed: %s; the records not sent are counted in the report", st->url,
		 e == ECONNREFUSED ? "connection refused (nothing listens there?)" : strerror(e));
}

static void send_msg(struct ipfix_state *st, const struct nfm_ipfix_msg *m)
{
	pace(st, m->records);
	for (unsigned attempt = 0;; attempt++) {
		ssize_t n = send(st->fd, m->p, m->len, 0);
		if (n == (ssize_t)m->len) {
			st->counts.messages++;
			st->counts.bytes += m->len;
			st->counts.records += m->records;
			st->counts.templates += m->templates;
			return;
		}
		int e = n < 0 ? errno : EMSGSIZE;
		if (e == EINTR)
			continue;
		if ((e == ENOBUFS || e == EAGAIN || e == EWOULDBLOCK) &&
		    attempt < IPFIX_SEND_RETRIES) {
			sleep_until(mono_ns() + (1000000u << attempt));
			continue;
		}
		st->counts.dropped += m->records;
		warn_once(st, e);
		return;
	}
}

static void flush(struct ipfix_state *st)
{
	struct nfm_ipfix_msg m;
	if (nfm_ipfix_take(&st->enc, &m))
		send_msg(st, &m);
}

/* ---- the exporter ops ---- */

static void ipfix_free(struct ipfix_state *st)
{
	if (!st)
		return;
	if (st->fd >= 0)
		close(st->fd);
	nfm_ipfix_enc_free(&st->enc);
	free(st->url);
	free(st);
}

static int open_common(void **state, const struct nfm_export_dest *dest, const char *scheme,
		       uint8_t version, struct nfm_error *err)
{
	static const struct nfm_netflow_opts defaults = { 0 };
	const struct nfm_netflow_opts *o = dest->netflow ? dest->netflow : &defaults;
	const char *url = dest->path;
	if (o->biflow && version != NFM_IPFIX_VERSION)
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: --export-biflow needs IPFIX (NetFlow v9 has no reverse elements)",
				     url);
	size_t off = dest->layout ? nfm_layout_offset(dest->layout, &nfm_mod_netflow) : SIZE_MAX;
	if (off == SIZE_MAX)
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: the run does not meter NetFlow records (netflow module)", url);
	size_t min = nfm_ipfix_min_mtu(version, o->biflow);
	if (o->export_mtu && (o->export_mtu < min || o->export_mtu > NFM_IPFIX_MTU_MAX))
		return nfm_error_set(err, NFM_ERR_INVALID,
				     "%s: --export-mtu %u is out of range (%zu-%u bytes)", url,
				     o->export_mtu, min, NFM_IPFIX_MTU_MAX);
	struct ipfix_state *st = calloc(1, sizeof *st);
	if (!st || !(st->url = strdup(url))) {
		free(st);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", url);
	}
	st->fd = -1;
	st->nf_off = off;
	st->biflow = o->biflow;
	st->rate = o->export_rate ? o->export_rate : IPFIX_DEFAULT_RATE;
	int rc = nfm_ipfix_enc_init(&st->enc, version, o->biflow, o->domain_id, o->export_mtu);
	if (rc) {
		ipfix_free(st);
		return nfm_error_set(err, rc, "%s: out of memory", url);
	}
	rc = connect_udp(url, scheme, &st->fd, err);
	if (rc) {
		ipfix_free(st);
		return rc;
	}
	st->due_ns = mono_ns();
	*state = st;
	return 0;
}

static int ipfix_open(void **state, const struct nfm_export_dest *dest,
		      const struct nfm_columns *cols, struct nfm_error *err)
{
	(void)cols;
	return open_common(state, dest, "ipfix", NFM_IPFIX_VERSION, err);
}

static int netflow9_open(void **state, const struct nfm_export_dest *dest,
			 const struct nfm_columns *cols, struct nfm_error *err)
{
	(void)cols;
	return open_common(state, dest, "netflow9", NFM_NETFLOW9_VERSION, err);
}

static int ipfix_encode(const void *state, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	const struct ipfix_state *st = state;
	const void *nf = nfm_netflow_state(rec, st->nf_off);
	uint8_t *d = nfm_buf_room(row, 2 * NFM_IPFIX_ENTRY_MAX);
	if (!d)
		return -1;
	if (st->biflow) {
		struct nfm_nf_biflow b;
		if (nfm_netflow_biflow(rec, nf, &b))
			row->len += nfm_ipfix_entry_biflow(&b, d);
		return 0;
	}
	struct nfm_nf_record r[2];
	int n = nfm_netflow_split(rec, nf, r);
	for (int i = 0; i < n; i++) {
		size_t k = nfm_ipfix_entry(&r[i], d);
		d += k;
		row->len += k;
	}
	return 0;
}

static int ipfix_write(void *state, const uint8_t *row, size_t len, struct nfm_error *err)
{
	struct ipfix_state *st = state;
	for (size_t at = 0, n; at < len; at += n) {
		n = nfm_ipfix_entry_len(row + at, len - at);
		if (!n)
			return nfm_error_set(err, NFM_ERR_CORRUPT, "%s: a malformed row", st->url);
		bool was_pending = nfm_ipfix_pending(&st->enc);
		int rc = nfm_ipfix_add(&st->enc, row + at);
		if (rc == 1) {
			flush(st);
			was_pending = false;
			rc = nfm_ipfix_add(&st->enc, row + at);
		}
		if (rc != 0)
			return nfm_error_set(err, NFM_ERR_CORRUPT, "%s: a row of another template",
					     st->url);
		uint64_t last = st->enc.msg_end_ms;
		if (last > st->clock_ms)
			st->clock_ms = last;
		if (!was_pending)
			st->msg_opened_ms = st->clock_ms;
	}
	return 0;
}

static int ipfix_tick(void *state, uint64_t now_ns, struct nfm_error *err)
{
	(void)err;
	struct ipfix_state *st = state;
	uint64_t now_ms = now_ns / 1000000u;
	if (now_ms > st->clock_ms)
		st->clock_ms = now_ms;
	if (nfm_ipfix_pending(&st->enc) && st->clock_ms - st->msg_opened_ms >= IPFIX_FLUSH_MS)
		flush(st);
	return 0;
}

/* The last message goes before the counts are read (the report). */
static int ipfix_flush(void *state, struct nfm_error *err)
{
	(void)err;
	flush(state);
	return 0;
}

static int ipfix_close(void *state, struct nfm_error *err)
{
	(void)err;
	struct ipfix_state *st = state;
	flush(st);
	ipfix_free(st);
	return 0;
}

static void ipfix_abort(void *state)
{
	ipfix_free(state);
}

static void ipfix_counts(const void *state, struct nfm_export_counts *c)
{
	const struct ipfix_state *st = state;
	*c = st->counts;
}

const struct nfm_exporter_ops nfm_exporter_ipfix = {
	.name = "ipfix",
	.ext = "",
	.netflow = true,
	.scheme = "ipfix",
	.open = ipfix_open,
	.encode = ipfix_encode,
	.write = ipfix_write,
	.tick = ipfix_tick,
	.flush = ipfix_flush,
	.close = ipfix_close,
	.abort = ipfix_abort,
	.counts = ipfix_counts,
};

const struct nfm_exporter_ops nfm_exporter_netflow9 = {
	.name = "netflow9",
	.ext = "",
	.netflow = true,
	.scheme = "netflow9",
	.open = netflow9_open,
	.encode = ipfix_encode,
	.write = ipfix_write,
	.tick = ipfix_tick,
	.flush = ipfix_flush,
	.close = ipfix_close,
	.abort = ipfix_abort,
	.counts = ipfix_counts,
};
