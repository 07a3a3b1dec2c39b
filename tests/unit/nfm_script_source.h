/* A source kind for tests, "scripted": it yields the packets and idle ticks
 * (NFM_SOURCE_IDLE) of an array, as a live source would, and is added to a registry at
 * run time (nfm_source_registry_add), since the product does not know it: proof that the
 * registry takes kinds from outside. Header-only, so each test program uses what it
 * needs. Open with script_open_source() or nfm_source_open_kind(..., "scripted", name,
 * &script, ...); the script (not copied) must outlive the source. */
#ifndef NFM_SCRIPT_SOURCE_H
#define NFM_SCRIPT_SOURCE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/source_int.h"

struct script_step {
	uint64_t ts_ns;
	int idle;            /* 1: NFM_SOURCE_IDLE at ts_ns; 0: the frame below */
	const uint8_t *data;
	uint32_t len;
};

struct script {
	const struct script_step *steps;
	size_t n;
	int linktype;        /* of every frame */
};

struct script_state {
	struct script sc;
	size_t at;
};

static inline const struct nfm_source_ops *script_kind(void);

static inline int script_open(struct nfm_source **out, const char *target, const void *opts,
			      struct nfm_error *err)
{
	const struct script *sc = opts;
	const char *name = target ? target : "(script)";
	*out = NULL;
	if (!sc)
		return nfm_error_set(err, NFM_ERR_INVALID, "%s: no script", name);
	struct nfm_source *s = nfm_source_new(script_kind(), name);
	if (!s)
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", name);
	struct script_state *st = calloc(1, sizeof *st);
	if (!st) {
		nfm_source_close(s);
		return nfm_error_set(err, NFM_ERR_NOMEM, "%s: out of memory", name);
	}
	st->sc = *sc;
	s->kind_state = st;
	s->first_linktype = sc->linktype;
	*out = s;
	return 0;
}

static inline int script_next(struct nfm_source *s, struct nfm_raw_packet *pkt,
			      struct nfm_error *err)
{
	(void)err;
	struct script_state *st = s->kind_state;
	if (st->at == st->sc.n)
		return 0;
	const struct script_step *k = &st->sc.steps[st->at++];
	memset(pkt, 0, sizeof *pkt);
	pkt->ts_ns = k->ts_ns;
	if (k->idle)
		return NFM_SOURCE_IDLE;
	pkt->data = k->data;
	pkt->cap_len = pkt->wire_len = k->len;
	pkt->linktype = st->sc.linktype;
	pkt->offset = st->at - 1;
	s->stats.records++;
	return 1;
}

static inline void script_close(struct nfm_source *s)
{
	free(s->kind_state);
}

static inline const struct nfm_source_ops *script_kind(void)
{
	static const struct nfm_source_ops kind = {
		.name = "scripted",
		.open = script_open,
		.next = script_next,
		.close = script_close,
	};
	return &kind;
}

/* A registry with the built-in kinds and "scripted"; NULL on failure. */
static inline struct nfm_source_registry *script_registry(void)
{
	struct nfm_source_registry *reg = nfm_source_registry_new();
	if (reg && nfm_source_registry_add(reg, script_kind(), NULL) != 0) {
		nfm_source_registry_free(reg);
		return NULL;
	}
	return reg;
}

/* Ethernet + IPv4 + UDP frame (60 bytes) from src:sp to dst:dp. */
static inline uint32_t script_udp_frame(uint8_t f[60], uint32_t src, uint32_t dst, uint16_t sp,
					uint16_t dp)
{
	memset(f, 0, 60);
	f[12] = 0x08;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[3] = 28 + 4;
	ip[8] = 64;
	ip[9] = 17;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	uint8_t *u = ip + 20;
	u[0] = (uint8_t)(sp >> 8);
	u[1] = (uint8_t)sp;
	u[2] = (uint8_t)(dp >> 8);
	u[3] = (uint8_t)dp;
	u[5] = 12;
	return 60;
}

#endif
