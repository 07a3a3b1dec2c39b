/* What a packet contributes to its flow's key before any table is consulted: the ports
 * (or ICMP identifier, type and code), the protocol class that --protocols selects on,
 * and the normalised key itself. Inline: every packet takes these on its way in. */
#ifndef NFM_FLOW_KEY_H
#define NFM_FLOW_KEY_H

#include <stdint.h>
#include <string.h>

#include "decode/decode.h"
#include "flow/meter.h"
#include "flow/table.h"

/* The class of a packet (NFM_PROTO_*) for --protocols. */
static inline unsigned nfm_proto_class(const struct nfm_packet *p, uint16_t sport, uint16_t dport)
{
	unsigned cls;
	if (p->l3 == NFM_L3_ARP)
		return NFM_PROTO_ARP;
	switch (p->ip_proto) {
	case NFM_IPPROTO_TCP: cls = NFM_PROTO_TCP; break;
	case NFM_IPPROTO_UDP: cls = NFM_PROTO_UDP; break;
	case NFM_IPPROTO_ICMP:
	case NFM_IPPROTO_ICMPV6: return NFM_PROTO_ICMP;
	default: return NFM_PROTO_OTHER;
	}
	if (sport == 53 || dport == 53 || sport == 5353 || dport == 5353 || sport == 5355 ||
	    dport == 5355)
		cls |= NFM_PROTO_DNS;
	return cls;
}

/* Ports of a packet for the flow key: transport ports, the ICMP echo identifier in both,
 * or ICMP type and code. */
static inline void nfm_packet_ports(const struct nfm_packet *p, uint16_t *sport, uint16_t *dport)
{
	*sport = *dport = 0;
	if (p->flags & NFM_PKT_HAS_PORTS) {
		*sport = p->sport;
		*dport = p->dport;
	} else if (p->l3 != NFM_L3_ARP &&
		   (p->ip_proto == NFM_IPPROTO_ICMP || p->ip_proto == NFM_IPPROTO_ICMPV6)) {
		/* Echo request and reply share a flow keyed by the identifier; other ICMP
		 * messages key on type and code. */
		if (p->flags & NFM_PKT_ICMP_ECHO) {
			*sport = *dport = p->icmp_id;
		} else {
			*sport = p->icmp_type;
			*dport = p->icmp_code;
		}
	}
}

/* The normalised key of a packet with ports sport, dport (endpoint a is the lower
 * address, then the lower port); returns whether the packet's source is endpoint a. */
static inline int nfm_flow_key_of(const struct nfm_packet *p, uint16_t sport, uint16_t dport,
				  struct nfm_flow_key *k)
{
	memset(k, 0, sizeof *k);
	int c = memcmp(p->src, p->dst, 16);
	int src_is_a = c < 0 || (c == 0 && sport <= dport);
	if (src_is_a) {
		memcpy(k->a, p->src, 16);
		memcpy(k->b, p->dst, 16);
		k->port_a = sport;
		k->port_b = dport;
	} else {
		memcpy(k->a, p->dst, 16);
		memcpy(k->b, p->src, 16);
		k->port_a = dport;
		k->port_b = sport;
	}
	k->l3 = p->l3;
	k->proto = p->ip_proto;
	if (p->flags & NFM_PKT_VLAN) {
		k->has_vlan = 1;
		k->vlan = p->vlan_id;
	}
	return src_is_a;
}

#endif
