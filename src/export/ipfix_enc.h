/* The message encoder of the IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) exporters: fixed
 * templates, data records, messages within an MTU. Pure functions on buffers (no
 * sockets, no clock), so export/ipfix.c only adds the sending and the pacing.
 *
 * Two halves, as the exporters work:
 *  - worker side, nfm_ipfix_entry / nfm_ipfix_entry_biflow: one NetFlow record becomes
 *    an entry, a kind byte (its template) followed by the data record as IPFIX sends it;
 *  - writer side, struct nfm_ipfix_enc: entries are packed into messages. A message
 *    starts with the template set when templates are due (the first message, then every
 *    template_every-th: RFC 7011 section 8.4 asks a UDP exporter to resend them), holds
 *    data sets of the templates its records use, and never exceeds the MTU.
 *
 * Templates (data records in network byte order, in this field order):
 *   256 IPv4 / 257 IPv6, unidirectional:
 *     flowStart/EndMilliseconds 152/153 (8+8), octetDeltaCount 1 (8),
 *     packetDeltaCount 2 (8), source/destinationIPv4Address 8/12 (4+4) or
 *     source/destinationIPv6Address 27/28 (16+16), icmpTypeCodeIPv4 32 or
 *     icmpTypeCodeIPv6 139 (2), source/destinationTransportPort 7/11 (2+2),
 *     protocolIdentifier 4 (1), tcpControlBits 6 (1), ipClassOfService 5 (1)
 *   258 IPv4 / 259 IPv6, RFC 5103 biflows (IPFIX only): the same, then
 *     biflowDirection 239 (1, initiator) and the reverse octetDeltaCount and
 *     packetDeltaCount (enterprise 29305, 8+8).
 * The biflow carries no reverse times, flags or ToS: nfcapd 1.7.1 maps only the reverse
 * counters and reads any other reverse element as its forward one, overwriting it.
 * ICMP records carry the type and code in icmpTypeCode and, as nfdump stores them, in
 * the destination port (type * 256 + code; source port 0); other records carry 0 in
 * icmpTypeCode, which precedes the ports so that a collector writing both into one port
 * field keeps the port.
 *
 * NetFlow v9 uses the same records with these differences: template FlowSet id 0; times
 * are FIRST_SWITCHED 22 / LAST_SWITCHED 21 (4+4), milliseconds of sysUptime; ICMP type
 * and code are ICMP_TYPE 32 for IPv6 as well (nfcapd reads no other v9 element for
 * ICMPv6); FlowSets are padded to 4 bytes; the header counts the records of the packet.
 *
 * Times. The message header's export time is the meter's time of the message: the latest
 * flow end among its records, rounded up to the second (so a replayed capture exports as
 * the meter would have live, and no record ends after its message). NetFlow v9 needs a
 * boot time: sysUptime = export time - boot. The encoder boots an hour before the first
 * record's start (flows still open then began at most an active timeout earlier) and
 * reboots, between messages, when a record would fall outside the 32-bit milliseconds
 * of sysUptime (a record ending before the boot, or 49.7 days after it). A record that
 * began before the boot has a FIRST_SWITCHED above its LAST_SWITCHED, which collectors
 * (nfcapd among them) read as a wrap of sysUptime.
 *
 * Sequence numbers (per observation domain): IPFIX counts the data records sent before
 * the message; NetFlow v9 counts the messages (export packets) sent before it. */
#ifndef NFM_EXPORT_IPFIX_ENC_H
#define NFM_EXPORT_IPFIX_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feature/netflow.h"

#define NFM_IPFIX_VERSION 10
#define NFM_NETFLOW9_VERSION 9
#define NFM_IPFIX_PEN_REVERSE 29305u   /* RFC 5103 reverse information elements */
#define NFM_IPFIX_MTU_DEFAULT 1400     /* bytes of a message (the UDP payload) */
#define NFM_IPFIX_MTU_MAX 65507        /* the largest UDP payload over IPv4 */
#define NFM_IPFIX_TEMPLATE_EVERY 16    /* templates lead every 16th message */
#define NFM_IPFIX_BOOT_LEAD_MS 3600000u/* NetFlow v9: boot this long before the first start */

/* Templates, in entries (the kind byte) and on the wire (id NFM_IPFIX_TEMPLATE_ID +
 * kind). */
enum nfm_ipfix_kind {
	NFM_IPFIX_UNI4 = 0,
	NFM_IPFIX_UNI6,
	NFM_IPFIX_BI4,
	NFM_IPFIX_BI6,
	NFM_IPFIX_KINDS
};
#define NFM_IPFIX_TEMPLATE_ID 256

/* The longest entry (kind byte and an IPv6 biflow record). */
#define NFM_IPFIX_ENTRY_MAX 91

/* ---- worker side ---- */

/* Writes r as an entry at out (room for NFM_IPFIX_ENTRY_MAX bytes); returns its length,
 * 0 when r is neither IPv4 nor IPv6. */
size_t nfm_ipfix_entry(const struct nfm_nf_record *r, uint8_t *out);
/* The same for a biflow (templates 258/259). */
size_t nfm_ipfix_entry_biflow(const struct nfm_nf_biflow *b, uint8_t *out);
/* Length of the entry starting at p with avail bytes, or 0 when it is not a whole
 * entry. */
size_t nfm_ipfix_entry_len(const uint8_t *p, size_t avail);

/* ---- writer side ---- */

struct nfm_ipfix_enc {
	uint8_t version;           /* NFM_IPFIX_VERSION or NFM_NETFLOW9_VERSION */
	bool biflow;               /* the templates sent: biflow (258/259) or 256/257 */
	uint32_t domain;           /* observation domain / source id */
	size_t mtu;
	unsigned template_every;   /* templates lead every template_every-th message */
	uint8_t *buf;              /* mtu bytes: the message under way */
	size_t len;                /* its length so far; 0: no message under way */
	size_t set_at;             /* its open data set's header (0: none) */
	int set_kind;
	uint32_t msg_records;      /* data records in it */
	uint32_t msg_templates;    /* template records in it */
	uint64_t msg_end_ms;       /* the latest flow end in it */
	uint64_t boot_ms;          /* NetFlow v9: what sysUptime counts from */
	bool booted;
	uint32_t sequence;         /* the next message's sequence number */
	uint64_t messages;         /* messages taken so far */
};

/* A completed message. */
struct nfm_ipfix_msg {
	const uint8_t *p;          /* in the encoder's buffer, valid until the next add */
	size_t len;
	uint32_t records, templates;
};

/* The smallest MTU holding a message with the templates and one record. */
size_t nfm_ipfix_min_mtu(uint8_t version, bool biflow);
/* Sets e up; mtu 0 is NFM_IPFIX_MTU_DEFAULT. Returns 0, NFM_ERR_INVALID (version, or
 * mtu out of [nfm_ipfix_min_mtu, NFM_IPFIX_MTU_MAX]) or NFM_ERR_NOMEM. */
int nfm_ipfix_enc_init(struct nfm_ipfix_enc *e, uint8_t version, bool biflow, uint32_t domain,
		       size_t mtu);
void nfm_ipfix_enc_free(struct nfm_ipfix_enc *e);

/* Adds the entry at entry (made by nfm_ipfix_entry*, of this encoder's templates).
 * Returns 0 when added; 1 when it does not fit the message under way (take the message,
 * then add again; an empty message always takes it); -1 when the entry is not one of
 * this encoder's templates. */
int nfm_ipfix_add(struct nfm_ipfix_enc *e, const uint8_t *entry);
/* True when a message is under way. */
static inline bool nfm_ipfix_pending(const struct nfm_ipfix_enc *e) { return e->len != 0; }
/* Completes the message under way into m (header, set lengths, padding) and counts it
 * as sent for the sequence numbers; false when no message is under way. */
bool nfm_ipfix_take(struct nfm_ipfix_enc *e, struct nfm_ipfix_msg *m);

#endif
