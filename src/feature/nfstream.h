/* NFStream's flow features: the nfstream feature module (identity in NFStream's
 * conventions, per-direction times and counts, the 48 statistics), the early-packet
 * module of --splt N, and the `nfstream` profile that writes them under NFStream's
 * names and in its order. Semantics and the differences from NFStream: docs/profiles.md. */
#ifndef NFM_FEATURE_NFSTREAM_H
#define NFM_FEATURE_NFSTREAM_H

#include <stddef.h>

#include "feature/profile.h"
#include "flow/module.h"
#include "util/err.h"

extern const struct nfm_module nfm_mod_nfstream;
extern const struct nfm_profile nfm_profile_nfstream;

/* --splt N keeps the first N packets of each flow. N is at most 255: the count fits one
 * byte of the state, and the state (12 bytes and a bit a packet) stays near 3 KiB a flow, whereas
 * the flow table's memory budget (--chunk-size) is counted in flows of a few hundred
 * bytes; NFStream itself warns above 255. */
#define NFM_SPLT_MAX 255u

/* Bytes of per-flow state the early-packet module keeps for n packets. */
size_t nfm_splt_state_size(unsigned n);
/* Describes the early-packet module for n packets (1 <= n <= NFM_SPLT_MAX) in *m, which
 * the caller owns and keeps while the module is in a layout. NFM_ERR_INVALID otherwise. */
int nfm_mod_splt_init(struct nfm_module *m, unsigned n, struct nfm_error *err);

#endif
