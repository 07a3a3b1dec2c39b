/* Internal to the decoder: the per-call context and one entry point per protocol layer.
 * Each layer lives in its own file, reads bytes only through rd.h, and returns a
 * decode status. Nothing here allocates or keeps state between calls. */
#ifndef NFM_DECODE_DECODE_INT_H
#define NFM_DECODE_DECODE_INT_H

#include "decode/decode.h"
#include "decode/rd.h"

/* EtherTypes (also used as protocol numbers by SLL, GRE and Geneve). */
enum {
	NFM_ETH_IPV4 = 0x0800,
	NFM_ETH_ARP = 0x0806,
	NFM_ETH_TEB = 0x6558,       /* transparent Ethernet bridging (GRE, Geneve) */
	NFM_ETH_RARP = 0x8035,
	NFM_ETH_VLAN = 0x8100,
	NFM_ETH_IPV6 = 0x86dd,
	NFM_ETH_PPP = 0x880b,
	NFM_ETH_MPLS = 0x8847,
	NFM_ETH_MPLS_MC = 0x8848,
	NFM_ETH_PPPOE_DISC = 0x8863,
	NFM_ETH_PPPOE_SESS = 0x8864,
	NFM_ETH_EAPOL = 0x888e,
	NFM_ETH_QINQ = 0x88a8,
	NFM_ETH_ERSPAN2 = 0x88be,
	NFM_ETH_LLDP = 0x88cc,
	NFM_ETH_LOOPBACK = 0x9000,
	NFM_ETH_QINQ_OLD = 0x9100,
	NFM_ETH_ERSPAN3 = 0x22eb,
	NFM_ETH_ARISTA = 0xd28b,    /* Arista vendor header (timestamps) */
};

struct nfm_dctx {
	const uint8_t *start;                   /* first byte of the frame */
	struct nfm_packet *pkt;
	const struct nfm_decode_options *opt;
};

/* Bytes of the frame on the wire from position p on (the snaplen may have cut the
 * captured copy shorter). */
static inline uint32_t nfm_wire_left(const struct nfm_dctx *d, const uint8_t *p)
{
	uint32_t used = (uint32_t)(p - d->start);
	return d->pkt->wire_len > used ? d->pkt->wire_len - used : 0;
}

/* The transport payload starts at r: notes where (packet.payload_off) and whether the
 * snaplen cut it short (NFM_PKT_L4_TRUNC; the counts stay exact: they come from the IP
 * lengths, but a consumer of payload bytes must know). */
void nfm_note_payload(struct nfm_dctx *d, const struct nfm_rd *r);

/* A frame that begins with an Ethernet header (also inside VXLAN, GRE TEB, ...). */
enum nfm_decode_status nfm_decode_ethernet(struct nfm_dctx *d, struct nfm_rd *r);
/* Everything after an EtherType: VLAN tags, MPLS, PPPoE, LLC, then IP or ARP. */
enum nfm_decode_status nfm_decode_ethertype(struct nfm_dctx *d, struct nfm_rd *r, uint16_t type);
/* A PPP protocol number (after the PPP header): IP, or counted as PPP control. */
enum nfm_decode_status nfm_decode_ppp_proto(struct nfm_dctx *d, struct nfm_rd *r, uint16_t proto);
/* PPP frame with optional address/control bytes and a compressed protocol field. */
enum nfm_decode_status nfm_decode_ppp(struct nfm_dctx *d, struct nfm_rd *r);
/* Reads that PPP header up to the protocol field; false when the bytes end first. */
bool nfm_ppp_header(struct nfm_rd *r, uint16_t *proto);
/* The bytes start with an IP header; the version nibble chooses IPv4 or IPv6. */
enum nfm_decode_status nfm_decode_ip(struct nfm_dctx *d, struct nfm_rd *r);
enum nfm_decode_status nfm_decode_ipv4(struct nfm_dctx *d, struct nfm_rd *r);
enum nfm_decode_status nfm_decode_ipv6(struct nfm_dctx *d, struct nfm_rd *r);
enum nfm_decode_status nfm_decode_arp(struct nfm_dctx *d, struct nfm_rd *r);
/* Transport header of protocol proto; r is limited to the IP payload, ip_payload is its
 * length according to the IP header(s). */
enum nfm_decode_status nfm_decode_transport(struct nfm_dctx *d, struct nfm_rd *r, uint8_t proto,
					    uint32_t ip_payload);
/* TCP in a fragment that holds bytes [off, off + n) of the segment (first fragment: off
 * 0, called from nfm_decode_transport; later ones from the IP decoders). */
enum nfm_decode_status nfm_decode_tcp_fragment(struct nfm_dctx *d, struct nfm_rd *r, uint32_t off,
					       uint32_t n);
/* Tunnels. Each returns OK when it decoded an inner packet into d->pkt; any other status
 * means "not a tunnel we could follow" and the caller keeps the outer packet. */
enum nfm_decode_status nfm_tunnel_ip(struct nfm_dctx *d, struct nfm_rd *r, uint8_t proto);
enum nfm_decode_status nfm_tunnel_gre(struct nfm_dctx *d, struct nfm_rd *r);
enum nfm_decode_status nfm_tunnel_udp(struct nfm_dctx *d, struct nfm_rd *r, uint16_t sport,
				      uint16_t dport);

#endif
