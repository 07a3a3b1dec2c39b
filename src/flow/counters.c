/* Meter counters: adding up the counters of several meters (worker shards, inputs), the
 * table of NFM_COUNTERS, and the bounded by-kind list of tunnel payloads not followed. */
#include <stddef.h>
#include <string.h>

#include "flow/meter.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Shards of one input: plain sums (they cannot overflow before the input's own
 * counters do), peaks summed (shards hold disjoint flows, so the sum bounds the flows
 * held at once), the first time of a shard that saw a packet. */
#define SHARD_SUM(f, dim) dst->f += src->f;
#define SHARD_SUMS(f, dim)                                                                 \
	for (unsigned i = 0; i < (dim); i++)                                               \
		dst->f[i] += src->f[i];
#define SHARD_PEAK(f, dim) dst->f += src->f;
#define SHARD_FIRST(f, dim)                                                                \
	if (src->packets && (!dst->f || src->f < dst->f))                                  \
		dst->f = src->f;
#define SHARD_LAST(f, dim)                                                                 \
	if (src->f > dst->f)                                                               \
		dst->f = src->f;
#define SHARD_KINDS(f, dim)                                                                \
	for (unsigned i = 0; i < (dim) && src->f[i].kind; i++)                             \
		nfm_opaque_add(dst->f, src->f[i].kind, src->f[i].packets);
#define SHARD_ADD(name, add, dim, role, unit, key, label, desc) SHARD_##add(name, dim)

void nfm_counters_add(struct nfm_counters *dst, const struct nfm_counters *src)
{
	NFM_COUNTERS(SHARD_ADD)
}

/* Inputs read one after another: saturating sums, the largest peak, the earliest
 * first time that is not 0. */
#define INPUT_SUM(f, dim) dst->f = sat_add(dst->f, src->f);
#define INPUT_SUMS(f, dim)                                                                 \
	for (unsigned i = 0; i < (dim); i++)                                               \
		dst->f[i] = sat_add(dst->f[i], src->f[i]);
#define INPUT_PEAK(f, dim)                                                                 \
	if (src->f > dst->f)                                                               \
		dst->f = src->f;
#define INPUT_FIRST(f, dim)                                                                \
	if (src->f && (!dst->f || src->f < dst->f))                                        \
		dst->f = src->f;
#define INPUT_LAST(f, dim) SHARD_LAST(f, dim)
#define INPUT_KINDS(f, dim) SHARD_KINDS(f, dim)
#define INPUT_ADD(name, add, dim, role, unit, key, label, desc) INPUT_##add(name, dim)

void nfm_counters_add_input(struct nfm_counters *dst, const struct nfm_counters *src)
{
	NFM_COUNTERS(INPUT_ADD)
}

#define INFO(name_, add_, dim_, role_, unit_, key_, label_, desc_)                         \
	{ .name = #name_, .add = NFM_CA_##add_, .dim = (dim_), .role = NFM_CR_##role_,       \
	  .unit = NFM_CU_##unit_, .key = (key_), .label = (label_), .desc = (desc_),          \
	  .offset = offsetof(struct nfm_counters, name_) },

static const struct nfm_counter_info info[] = { NFM_COUNTERS(INFO) };

const struct nfm_counter_info *nfm_counters_info(size_t *count)
{
	if (count)
		*count = sizeof info / sizeof info[0];
	return info;
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
