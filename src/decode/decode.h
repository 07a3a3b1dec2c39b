/* Packet decoder: bytes + link type -> one fixed struct nfm_packet and a status.
 * Pure: no allocation, no global state, no output. All byte access goes through rd.h.
 * Owns nothing; the packet bytes are only read during the call. */
#ifndef NFM_DECODE_DECODE_H
#define NFM_DECODE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types are the LINKTYPE_ values of the pcap/pcapng file formats
 * (https://www.tcpdump.org/linktypes.html). Aliases that appear in the wild
 * (DLT_RAW 12 and 14, DLT_LOOP 108) are accepted too. */
enum nfm_linktype {
	NFM_LINK_NULL = 0,
	NFM_LINK_ETHERNET = 1,
	NFM_LINK_PPP = 9,
	NFM_LINK_RAW_BSD12 = 12,
	NFM_LINK_RAW_BSD14 = 14,
	NFM_LINK_PPP_HDLC = 50,
	NFM_LINK_PPP_ETHER = 51,
	NFM_LINK_RAW = 101,
	NFM_LINK_C_HDLC = 104,
	NFM_LINK_LOOP = 108,
	NFM_LINK_LINUX_SLL = 113,
	NFM_LINK_IPV4 = 228,
	NFM_LINK_IPV6 = 229,
	NFM_LINK_NFLOG = 239,
	NFM_LINK_LINUX_SLL2 = 276,
};

enum nfm_decode_status {
	NFM_DECODE_OK = 0,        /* IP or ARP packet: fields below are valid */
	NFM_DECODE_NONIP,         /* well-formed frame that carries no IP/ARP: see nonip_kind */
	NFM_DECODE_TRUNCATED,     /* captured bytes end before the headers we need (snaplen) */
	NFM_DECODE_MALFORMED,     /* a header is inconsistent (bad version, length, ...) */
	NFM_DECODE_UNSUPPORTED,   /* link type we do not decode */
	NFM_DECODE_STATUS_COUNT
};

/* What a NONIP frame carried. Names for reports: nfm_nonip_name(). */
enum nfm_nonip_kind {
	NFM_NONIP_NONE = 0,
	NFM_NONIP_ETHERTYPE,      /* an EtherType we do not meter (see packet.ethertype) */
	NFM_NONIP_LLC,            /* 802.3 length + LLC/SNAP frame (STP, CDP, ...) */
	NFM_NONIP_LLDP,
	NFM_NONIP_EAPOL,
	NFM_NONIP_LOOPBACK,       /* Ethernet configuration testing protocol 0x9000 */
	NFM_NONIP_PPPOE_DISCOVERY,
	NFM_NONIP_PPP_CONTROL,    /* LCP, IPCP, PAP, CHAP, ... */
	NFM_NONIP_ARP_OTHER,      /* ARP/RARP that is not Ethernet/IPv4 */
	NFM_NONIP_MPLS_OTHER,     /* MPLS stack whose payload is not IP */
	NFM_NONIP_SLL_OTHER,      /* Linux cooked frame with a protocol we do not meter */
	NFM_NONIP_NULL_OTHER,     /* BSD loopback family that is not IPv4/IPv6 */
	NFM_NONIP_HDLC_OTHER,     /* Cisco HDLC keepalive and other control frames */
	NFM_NONIP_IP_OTHER,       /* IP version nibble that is neither 4 nor 6 on raw links */
	NFM_NONIP_KIND_COUNT
};

enum nfm_l3 {
	NFM_L3_NONE = 0,
	NFM_L3_ARP = 1,
	NFM_L3_IPV4 = 4,
	NFM_L3_IPV6 = 6,
};

/* IP protocol numbers the flow layer looks at. */
enum {
	NFM_IPPROTO_ICMP = 1,
	NFM_IPPROTO_TCP = 6,
	NFM_IPPROTO_UDP = 17,
	NFM_IPPROTO_ICMPV6 = 58,
	NFM_IPPROTO_SCTP = 132,
};

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
enum {
	NFM_TCP_FIN = 0x01,
	NFM_TCP_SYN = 0x02,
	NFM_TCP_RST = 0x04,
	NFM_TCP_PSH = 0x08,
	NFM_TCP_ACK = 0x10,
	NFM_TCP_URG = 0x20,
	NFM_TCP_ECE = 0x40,
	NFM_TCP_CWR = 0x80,
};

/* packet.flags */
enum {
	NFM_PKT_VLAN = 1u << 0,        /* vlan_id is valid (outermost 802.1Q/802.1ad tag) */
	NFM_PKT_FRAGMENT = 1u << 1,    /* IPv4 or IPv6 fragment (MF set or offset != 0) */
	NFM_PKT_FRAG_FIRST = 1u << 2,  /* fragment with offset 0: carries the L4 header */
	NFM_PKT_HAS_PORTS = 1u << 3,   /* sport/dport were read from an L4 header */
	NFM_PKT_ICMP_ECHO = 1u << 4,   /* ICMP/ICMPv6 echo-like message: icmp_id valid */
	NFM_PKT_L4_TRUNC = 1u << 5,    /* snaplen cut inside the L4 payload (counts still exact) */
	NFM_PKT_ICMP_ERROR = 1u << 6,  /* ICMP error carrying an embedded IP header */
	NFM_PKT_TUNNEL_OPAQUE = 1u << 7, /* a tunnel whose payload we do not follow: the packet
					  * is the outer one; opaque_tunnel/opaque_proto say what */
	NFM_PKT_OPAQUE_PPP = 1u << 8,  /* with TUNNEL_OPAQUE: opaque_proto is a PPP protocol */
	NFM_PKT_OPAQUE_LLC = 1u << 9,  /* with TUNNEL_OPAQUE: an 802.3/LLC frame (opaque_proto 0) */
};

/* Tunnel kinds (filled by tunnel decoders; NONE when the packet was not tunnelled). */
enum nfm_tunnel_type {
	NFM_TUNNEL_NONE = 0,
	NFM_TUNNEL_GRE,
	NFM_TUNNEL_IPIP,
	NFM_TUNNEL_VXLAN,
	NFM_TUNNEL_GENEVE,
	NFM_TUNNEL_GTPU,
	NFM_TUNNEL_TEREDO,
	NFM_TUNNEL_L2TP,
	NFM_TUNNEL_ERSPAN,
	NFM_TUNNEL_MPLS_UDP,
	NFM_TUNNEL_TYPE_COUNT
};

struct nfm_packet {
	/* From the capture layer (set by the caller before nfm_decode). */
	uint64_t ts_ns;          /* nanoseconds since the Unix epoch, UTC */
	uint32_t wire_len;       /* original frame length on the wire */
	uint32_t cap_len;        /* bytes captured */
	uint64_t pkt_index;      /* position of the frame in the input, from 1 (0: unknown);
				  * orders flows by their first packet across workers */
	uint64_t clock_ns;       /* newest timestamp of the input so far, when a caller
				  * dealing packets to several meters knows it (else 0) */

	/* Decoded (valid when status is OK; ethertype/nonip_kind also for NONIP). */
	uint8_t l3;              /* enum nfm_l3 */
	uint8_t ip_proto;        /* IP protocol of the transport header (0 for ARP) */
	uint8_t tcp_flags;       /* NFM_TCP_* bits, TCP only */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t ttl;             /* IPv4 TTL / IPv6 hop limit */
	uint16_t flags;          /* NFM_PKT_* */
	uint16_t vlan_id;        /* outermost VLAN id when NFM_PKT_VLAN */
	uint16_t sport, dport;   /* TCP/UDP/SCTP ports when NFM_PKT_HAS_PORTS */
	uint16_t icmp_id;        /* echo identifier when NFM_PKT_ICMP_ECHO */
	uint16_t ethertype;      /* last EtherType / protocol seen at layer 2 */
	union {
		uint16_t nonip_kind;  /* enum nfm_nonip_kind when status is NONIP */
		uint16_t payload_off; /* status OK: where the transport payload starts in the
				       * frame (UINT16_MAX: further; 0 with no payload) */
	};
	uint8_t src[16];         /* IPv4: first 4 bytes, rest zero. ARP: sender IPv4 address */
	uint8_t dst[16];         /* IPv4: first 4 bytes, rest zero. ARP: target IPv4 address */
	uint32_t ip_len;         /* IP datagram length from the IP header(s) (0 for ARP) */
	uint32_t l4_payload_len; /* transport payload: IP length - IP headers - L4 header */
	uint32_t frag_id;        /* IPv4 identification / IPv6 fragment identification */
	uint16_t frag_offset;    /* fragment offset in bytes / 8 */
	union {
		uint8_t arp_op;  /* ARP: opcode (1 request, 2 reply) */
		uint8_t tos;     /* IP: IPv4 type of service / IPv6 traffic class */
	};
	uint8_t tunnel_depth;    /* number of tunnel layers decoded */
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_window;

	/* Outermost tunnel, when tunnel_type != NONE. */
	uint8_t tunnel_type;     /* enum nfm_tunnel_type */
	uint8_t tunnel_l3;       /* NFM_L3_IPV4 / NFM_L3_IPV6 of the outer header */
	uint8_t tunnel_src[16], tunnel_dst[16];
	uint32_t tunnel_id;      /* GRE key, VNI, TEID, ... */

	/* With NFM_PKT_TUNNEL_OPAQUE: opaque_tunnel is the tunnel whose payload was not
	 * followed, opaque_proto the payload's protocol: an EtherType (the GRE or Geneve
	 * protocol type, or the EtherType of a bridged Ethernet frame), or a PPP protocol
	 * with NFM_PKT_OPAQUE_PPP. */
	uint8_t opaque_tunnel;   /* enum nfm_tunnel_type */
	uint8_t tcp_hlen;        /* TCP header length in bytes (data offset x 4): of every
				  * TCP segment, and of a TCP fragment only when it holds
				  * the data-offset byte (else 0) */
	uint16_t opaque_proto;
};

struct nfm_decode_options {
	bool tunnels;            /* decode into tunnels (default true); false keys on outer header */
	uint8_t max_tunnel_depth;/* bound on nested tunnels (default 4) */
};

/* Decodes one frame. pkt->ts_ns, wire_len, cap_len and pkt_index must be set by the
 * caller; every other field is overwritten. data holds cap_len bytes. opts may be NULL (defaults). */
enum nfm_decode_status nfm_decode(const uint8_t *data, int linktype,
				  const struct nfm_decode_options *opts, struct nfm_packet *pkt);

/* True for link types nfm_decode understands. */
bool nfm_decode_link_supported(int linktype);

const char *nfm_nonip_name(enum nfm_nonip_kind kind);
const char *nfm_decode_status_name(enum nfm_decode_status st);
const char *nfm_tunnel_name(enum nfm_tunnel_type t);

/* The kind of a tunnel payload not followed (NFM_PKT_TUNNEL_OPAQUE) as one number that
 * orders by tunnel type, then namespace (EtherType, PPP, LLC), then protocol. Never 0. */
static inline uint32_t nfm_opaque_kind(const struct nfm_packet *p)
{
	uint32_t ns = (p->flags & NFM_PKT_OPAQUE_PPP) ? 1u : (p->flags & NFM_PKT_OPAQUE_LLC) ? 2u : 0u;
	return (uint32_t)p->opaque_tunnel << 18 | ns << 16 | p->opaque_proto;
}

/* A kind as text ("gre 0x8200", "gre ppp 0xc021", "vxlan llc"); returns buf. */
const char *nfm_opaque_name(uint32_t kind, char *buf, size_t cap);

/* Bytes of the transport payload that lie in the captured frame from payload_off: none
 * when the payload starts beyond what payload_off can say (UINT16_MAX) or beyond the
 * capture. */
static inline uint32_t nfm_pkt_payload_have(const struct nfm_packet *p)
{
	uint32_t off = p->payload_off;
	uint32_t have = off != UINT16_MAX && off < p->cap_len ? p->cap_len - off : 0;
	return have < p->l4_payload_len ? have : p->l4_payload_len;
}

#endif
