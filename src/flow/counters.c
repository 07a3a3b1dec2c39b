/* Meter counters: adding up the counters of several meters (worker shards, inputs) and
 * the bounded by-kind list of tunnel payloads not followed. */
#include <string.h>

#include "flow/meter.h"

void nfm_counters_add(struct nfm_counters *dst, const struct nfm_counters *src)
{
	dst->packets += src->packets;
	dst->wire_bytes += src->wire_bytes;
	for (int i = 0; i < NFM_DECODE_STATUS_COUNT; i++)
		dst->decode_status[i] += src->decode_status[i];
	for (int i = 0; i < NFM_NONIP_KIND_COUNT; i++)
		dst->nonip[i] += src->nonip[i];
	dst->flow_packets += src->flow_packets;
	dst->filtered += src->filtered;
	dst->over_max_flows += src->over_max_flows;
	dst->fragments_unmatched += src->fragments_unmatched;
	dst->fragments += src->fragments;
	dst->l4_truncated += src->l4_truncated;
	dst->ts_backwards += src->ts_backwards;
	dst->flows_created += src->flows_created;
	dst->flows_written += src->flows_written;
	for (int i = 0; i < NFM_END_REASON_COUNT; i++)
		dst->flows_by_reason[i] += src->flows_by_reason[i];
	dst->peak_active_flows += src->peak_active_flows;
	if (src->packets && (!dst->first_ts_ns || src->first_ts_ns < dst->first_ts_ns))
		dst->first_ts_ns = src->first_ts_ns;
	if (src->last_ts_ns > dst->last_ts_ns)
		dst->last_ts_ns = src->last_ts_ns;
	dst->tunnel_opaque += src->tunnel_opaque;
	for (unsigned i = 0; i < NFM_OPAQUE_KINDS && src->opaque[i].kind; i++)
		nfm_opaque_add(dst->opaque, src->opaque[i].kind, src->opaque[i].packets);
}

/* The list is sorted by kind, unused slots (kind 0) last. When it is full, a lower kind
 * pushes the highest out; a kind pushed out never comes back (the lower kinds that pushed
 * it out stay), so every kind the list holds has had all its packets counted, and lists
 * added up hold the same kinds and counts as one list that saw every packet. */
void nfm_opaque_add(struct nfm_opaque_count list[NFM_OPAQUE_KINDS], uint32_t kind, uint64_t n)
{
	unsigned i = 0;
	while (i < NFM_OPAQUE_KINDS && list[i].kind && list[i].kind < kind)
		i++;
	if (i == NFM_OPAQUE_KINDS || kind == 0)
		return;
	if (list[i].kind == kind) {
		list[i].packets = list[i].packets > UINT64_MAX - n ? UINT64_MAX : list[i].packets + n;
		return;
	}
	memmove(&list[i + 1], &list[i], (NFM_OPAQUE_KINDS - 1 - i) * sizeof *list);
	list[i].kind = kind;
	list[i].packets = n;
}
