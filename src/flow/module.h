/* Per-flow feature modules: the seam through which features are added to the flow
 * engine without touching it (after Suricata's flow storage and nfdump's extensions).
 *
 * A module declares the size and alignment of the state it keeps per flow, hooks the
 * engine calls (a packet of the flow, the end of the flow, the release of its state) and
 * the output fields it adds (struct nfm_field, feature/fields.h, whose accessor receives
 * the module's state). A set of modules, fixed when a run starts, gives the layout
 * (nfm_layout_build): every module's state lives at a fixed offset in every flow entry,
 * after the engine's own hot and cold parts, so a hook reaches its state with one
 * addition and no pointer per module. With no module the entry and the per-packet path
 * are exactly those of the engine alone (the hook loop is skipped by one test).
 *
 * Adding a module: one file (src/feature/mod_NAME.c, or anywhere: the tests define one)
 * that defines a const struct nfm_module, plus one line in a profile's module list. A
 * module whose state depends on a setting is described at run time instead (a function
 * fills a struct nfm_module owned by the caller, with param), e.g. mod_splt.c. The
 * state is zeroed when the flow starts. Hooks run on the flow's worker thread, one flow
 * at a time; they must not allocate per packet (release exists for modules that keep
 * something outside the entry, allocated once per flow). */
#ifndef NFM_FLOW_MODULE_H
#define NFM_FLOW_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "flow/record.h"
#include "util/err.h"

struct nfm_field;

/* What a module sees of one packet of its flow. */
struct nfm_module_packet {
	const struct nfm_packet *pkt;  /* decoded fields: ts_ns, wire_len, ip_len,
					* l4_payload_len, flags, tcp_flags/seq/ack/window, ... */
	int dir;                       /* NFM_FWD (from the initiator) or NFM_BWD */
	uint64_t index;                /* 0 for the flow's first packet, then 1, 2, ... */
	const uint8_t *payload;        /* the first transport payload bytes when the module
					* asked for them (payload_bytes), else NULL */
	uint32_t payload_len;          /* bytes at payload: at most payload_bytes, fewer when
					* the packet has fewer or the snaplen cut them */
	const struct nfm_module *mod;  /* the module called (its param) */
};

struct nfm_module {
	const char *name;
	const char *desc;
	size_t state_size;             /* bytes of per-flow state (0: none) */
	size_t state_align;            /* a power of two, at most 8 */
	uint32_t payload_bytes;        /* leading payload bytes wanted per packet (0: none) */
	size_t heap_bytes;             /* the most a flow's state holds outside the entry
					* (allocated by the hooks, freed by release), counted
					* in the memory budget (--chunk-size); 0: nothing */
	/* Every packet of the flow, after the engine has counted it. */
	void (*packet)(void *state, const struct nfm_module_packet *p);
	/* The flow ends (why: enum nfm_end_reason), before its fields are read. rec holds
	 * the engine's fields of the flow. Optional. */
	void (*finish)(void *state, const struct nfm_flow_record *rec, unsigned why);
	/* After the flow was written (or discarded): free what the state holds. Optional. */
	void (*release)(void *state);
	const struct nfm_field *fields; /* the columns this module adds, in order */
	size_t nfields;
	/* A setting of a module described at run time (e.g. how many packets it keeps),
	 * which its packet hook reads as p->mod->param; the state depends on it. */
	uint64_t param;
};

#define NFM_MAX_MODULES 32

/* Where each module's state lives in a flow entry. */
struct nfm_layout {
	size_t n;
	const struct nfm_module *mod[NFM_MAX_MODULES];
	size_t off[NFM_MAX_MODULES];   /* from the start of the module area */
	size_t size;                   /* bytes of the module area (a multiple of 8) */
	uint32_t payload_bytes;        /* the most any module asked for */
};

/* Lays out mods in order. A module listed twice, a bad alignment or more than
 * NFM_MAX_MODULES modules is an error. n = 0 gives the empty layout. */
int nfm_layout_build(struct nfm_layout *l, const struct nfm_module *const *mods, size_t n,
		     struct nfm_error *err);
/* Offset of m's state in the module area, or SIZE_MAX when m is not in the layout. */
size_t nfm_layout_offset(const struct nfm_layout *l, const struct nfm_module *m);

#endif
