/* The metering pipeline (see pipeline.h): reader (the caller) -> workers -> writer.
 * A ring of batch slots carries frames forward; synchronisation is per batch and per
 * chunk of rows (one mutex and one condition variable), never per packet. Nothing is
 * allocated per packet: slot arrays are sized once, buffers grow (and give a burst back).
 *
 * A slot goes FREE -> FILLED (reader: frames dealt to workers) -> METERED (workers: the
 * flows that ended in the batch copied out, with their modules' state) -> DONE (rows
 * encoded) -> FREE (writer: rows ordered by first packet and handed on). Encoding is cut
 * into chunks of rows that any thread with nothing else to do takes: a worker waiting
 * for frames, the reader waiting for a free slot, any of them at the end of the input;
 * so formatting, the heaviest part for outputs of many short flows, is spread over the
 * threads that would otherwise wait, and the writer only orders and writes. At the end
 * of the input, "drain" batches make every worker write its open flows of a range of
 * first packets, range after range, so that they too are encoded in parallel. */
#include "flow/pipeline.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define BATCH 4096u /* frames per batch: fixed, so results do not depend on workers */
#define SLOTS 8u
#define DRAIN_SPAN BATCH /* first packets per drain batch: at most as many rows as a batch */
#define CHUNK 64u         /* rows encoded per claim */
/* Past these sizes, what a burst of ended flows (a slice's cut) grew is given back. */
#define KEEP_RECS_BYTES (4u << 20)
#define KEEP_CHUNKS 64u

enum slot_state { SLOT_FREE = 0, SLOT_FILLED, SLOT_METERED, SLOT_DONE };

/* The flows one worker ended during one batch: records (with their modules' state right
 * after each) at a fixed stride. */
struct ended {
	struct nfm_buf recs;
	size_t n;
};

struct rowref {
	uint64_t seq;
	size_t off, len;
};

/* The rows of up to CHUNK ended flows, encoded by one thread. */
struct chunk {
	struct nfm_buf bytes;
	struct rowref ref[CHUNK];
	unsigned n;
};

struct slot {
	uint64_t batch_no;
	enum slot_state state;
	unsigned pending;      /* workers still metering */
	int eof;               /* last batch: workers and writer leave after it */
	int drain;             /* end of input: write the open flows first seen before drain_below */
	uint64_t drain_below;
	int have_tick;
	uint64_t tick;         /* newest timestamp among the batch's frames */
	int cut;               /* a time slice begins: write every open flow, then announce */
	uint64_t slice_start;
	uint32_t frames;
	struct nfm_packet *pk[NFM_PIPELINE_MAX_WORKERS];
	uint32_t npk[NFM_PIPELINE_MAX_WORKERS];
	uint8_t *payload[NFM_PIPELINE_MAX_WORKERS]; /* payload_bytes per packet, or NULL */
	struct ended out[NFM_PIPELINE_MAX_WORKERS];
	uint64_t peak[NFM_PIPELINE_MAX_WORKERS]; /* most flows each worker held in the batch */
	/* encoding (guarded by mu, chunks owned by their claimer while encoded) */
	size_t first[NFM_PIPELINE_MAX_WORKERS + 1]; /* index of each worker's first flow */
	unsigned nchunks, next_chunk, chunks_done;
	struct chunk *chunks;
	unsigned chunk_cap;
};

struct worker {
	struct nfm_pipeline *pl;
	unsigned id;
	struct nfm_meter *meter;
	struct slot *cur;      /* slot being metered: where ended flows go */
	int drained;           /* end of input reached: fragments flushed */
	pthread_t tid;
	int started;
};

struct ordered {
	uint64_t seq;
	const uint8_t *row;
	size_t len;
};

struct nfm_pipeline {
	struct nfm_pipeline_config cfg;
	unsigned nw;
	uint32_t payload_bytes;
	size_t mod_bytes;      /* modules' state per flow */
	size_t stride;         /* bytes per ended flow in struct ended */
	nfm_flow_sink sink;    /* records handed over as such (no encode given) */
	void *sink_ctx;
	struct slot slots[SLOTS];
	struct worker w[NFM_PIPELINE_MAX_WORKERS];
	pthread_t writer;
	int writer_started;

	pthread_mutex_t mu;
	pthread_cond_t cv;     /* any slot changed state, or the writer left */
	int stop_rc;           /* first error (sink, memory): guarded by mu */
	int done;              /* max_flows reached and written (single worker) */
	int writer_left;

	/* reader side (caller thread only) */
	struct slot *fill;
	uint64_t next_batch;
	uint64_t frames;
	int have_ts;
	uint64_t newest;          /* newest frame timestamp */
	int have_clock;
	uint64_t clock;           /* newest batch time published: where workers will be */
	int have_slice;
	uint64_t slice_start;     /* the current time slice (cfg.slice_ns) */
	struct nfm_counters rc;   /* frames that never reach a worker, and global time */
	int finished;

	/* writer side */
	struct ordered *order;
	size_t order_cap;
	uint64_t peak;         /* highest sum of the workers' peaks over one batch */
};

static int get_stop(struct nfm_pipeline *pl)
{
	pthread_mutex_lock(&pl->mu);
	int rc = pl->stop_rc;
	pthread_mutex_unlock(&pl->mu);
	return rc;
}

/* With mu held. */
static void set_stop(struct nfm_pipeline *pl, int rc)
{
	if (rc && !pl->stop_rc) {
		pl->stop_rc = rc;
		pthread_cond_broadcast(&pl->cv);
	}
}

/* Worker sink: the flow's record and its modules' state, copied into the batch's slot
 * (the entry is reused once this returns); it is encoded later by whoever is free. */
static int worker_sink(void *ctx, const struct nfm_flow_record *rec)
{
	struct worker *w = ctx;
	struct nfm_pipeline *pl = w->pl;
	struct ended *e = &w->cur->out[w->id];
	uint8_t *d = nfm_buf_room(&e->recs, pl->stride);
	if (!d)
		return NFM_ERR_NOMEM;
	memcpy(d, rec, sizeof *rec);
	if (pl->mod_bytes && rec->modules)
		memcpy(d + sizeof *rec, rec->modules, pl->mod_bytes);
	e->recs.len += pl->stride;
	e->n++;
	return 0;
}

/* With a plain sink (no encode): the row is the record itself. */
static int record_encode(void *ctx, const struct nfm_flow_record *rec, struct nfm_buf *row)
{
	(void)ctx;
	return nfm_buf_put(row, rec, sizeof *rec) ? NFM_ERR_NOMEM : 0;
}

static int record_emit(void *ctx, const uint8_t *row, size_t len)
{
	struct nfm_pipeline *pl = ctx;
	struct nfm_flow_record rec;
	if (len != sizeof rec)
		return NFM_ERR_INVALID;
	memcpy(&rec, row, sizeof rec);
	rec.modules = NULL; /* the flow's entry is gone */
	return pl->sink(pl->sink_ctx, &rec);
}

/* ---- encoding, by whoever is free ---- */

/* With mu held, the last worker done with s: the slot's flows are ready to be encoded. */
static void slot_metered(struct nfm_pipeline *pl, struct slot *s)
{
	size_t total = 0;
	for (unsigned w = 0; w < pl->nw; w++) {
		s->first[w] = total;
		total += s->out[w].n;
	}
	s->first[pl->nw] = total;
	s->nchunks = (unsigned)((total + CHUNK - 1) / CHUNK);
	s->next_chunk = s->chunks_done = 0;
	if (s->nchunks > s->chunk_cap) {
		struct chunk *c = realloc(s->chunks, s->nchunks * sizeof *c);
		if (!c) {
			set_stop(pl, NFM_ERR_NOMEM);
			s->nchunks = 0;
		} else {
			memset(c + s->chunk_cap, 0, (s->nchunks - s->chunk_cap) * sizeof *c);
			s->chunks = c;
			s->chunk_cap = s->nchunks;
		}
	}
	s->state = s->nchunks ? SLOT_METERED : SLOT_DONE;
	pthread_cond_broadcast(&pl->cv);
}

static int encode_chunk(struct nfm_pipeline *pl, struct slot *s, unsigned c)
{
	struct chunk *ch = &s->chunks[c];
	ch->bytes.len = 0;
	ch->n = 0;
	size_t from = (size_t)c * CHUNK, to = from + CHUNK;
	if (to > s->first[pl->nw])
		to = s->first[pl->nw];
	unsigned w = 0;
	for (size_t i = from; i < to; i++) {
		while (i >= s->first[w + 1])
			w++;
		uint8_t *p = s->out[w].recs.p + (i - s->first[w]) * pl->stride;
		struct nfm_flow_record rec;
		memcpy(&rec, p, sizeof rec);
		rec.modules = pl->mod_bytes ? p + sizeof rec : NULL;
		size_t before = ch->bytes.len;
		int rc = pl->cfg.encode(pl->cfg.ctx, &rec, &ch->bytes);
		if (rc)
			return rc;
		ch->ref[ch->n++] = (struct rowref){ rec.seq, before, ch->bytes.len - before };
	}
	return 0;
}

/* With mu held: encodes one chunk of the oldest batch that has one left (mu is released
 * meanwhile). Returns 0 when there was none. */
static int help_encode(struct nfm_pipeline *pl)
{
	struct slot *best = NULL;
	for (unsigned i = 0; i < SLOTS; i++) {
		struct slot *s = &pl->slots[i];
		if (s->state == SLOT_METERED && s->next_chunk < s->nchunks &&
		    (!best || s->batch_no < best->batch_no))
			best = s;
	}
	if (!best)
		return 0;
	unsigned c = best->next_chunk++;
	int rc = 0;
	if (!pl->stop_rc) {
		pthread_mutex_unlock(&pl->mu);
		rc = encode_chunk(pl, best, c);
		pthread_mutex_lock(&pl->mu);
	}
	set_stop(pl, rc);
	if (++best->chunks_done == best->nchunks) {
		best->state = SLOT_DONE;
		pthread_cond_broadcast(&pl->cv);
	}
	return 1;
}

/* With mu held: waits for cond(pl, arg), encoding meanwhile. */
static void wait_helping(struct nfm_pipeline *pl, int (*cond)(struct nfm_pipeline *, void *),
			 void *arg)
{
	while (!cond(pl, arg))
		if (!help_encode(pl))
			pthread_cond_wait(&pl->cv, &pl->mu);
}

static int slot_free(struct nfm_pipeline *pl, void *arg)
{
	(void)pl;
	return ((const struct slot *)arg)->state == SLOT_FREE;
}

static int writer_gone(struct nfm_pipeline *pl, void *arg)
{
	(void)arg;
	return pl->writer_left;
}

/* ---- threads ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct nfm_pipeline *pl = w->pl;
	for (uint64_t b = 0;; b++) {
		struct slot *s = &pl->slots[b % SLOTS];
		pthread_mutex_lock(&pl->mu);
		while (!(s->state == SLOT_FILLED && s->batch_no == b))
			if (!help_encode(pl))
				pthread_cond_wait(&pl->cv, &pl->mu);
		int stopped = pl->stop_rc != 0;
		pthread_mutex_unlock(&pl->mu);

		w->cur = s;
		int rc = 0;
		if (!stopped && s->cut) {
			rc = nfm_meter_cut(w->meter);
		} else if (!stopped && s->drain) {
			if (!w->drained) {
				nfm_meter_flush_fragments(w->meter);
				w->drained = 1;
			}
			uint64_t seq;
			while (!rc && nfm_meter_oldest_seq(w->meter, &seq) && seq < s->drain_below)
				rc = nfm_meter_expire_oldest(w->meter);
		} else if (!stopped) {
			rc = nfm_meter_packets(w->meter, s->pk[w->id], s->npk[w->id], s->payload[w->id]);
			if (!rc && s->have_tick)
				rc = nfm_meter_tick(w->meter, s->tick);
		}
		s->peak[w->id] = nfm_meter_take_window_peak(w->meter);
		pthread_mutex_lock(&pl->mu);
		if (!rc && !stopped && pl->nw == 1 && nfm_meter_done(w->meter))
			pl->done = 1;
		set_stop(pl, rc);
		if (--s->pending == 0)
			slot_metered(pl, s);
		int eof = s->eof;
		if (eof) /* help with what is left, then leave */
			wait_helping(pl, writer_gone, NULL);
		pthread_mutex_unlock(&pl->mu);
		if (eof)
			return NULL;
	}
}

static int by_seq(const void *a, const void *b)
{
	uint64_t x = ((const struct ordered *)a)->seq, y = ((const struct ordered *)b)->seq;
	return x < y ? -1 : x > y;
}

/* Hands on the rows of one batch, in the order of their flows' first packets. */
static int write_batch(struct nfm_pipeline *pl, struct slot *s)
{
	size_t total = s->first[pl->nw];
	if (total == 0)
		return 0;
	if (total > pl->order_cap) {
		size_t cap = total * 2;
		struct ordered *o = realloc(pl->order, cap * sizeof *o);
		if (!o)
			return NFM_ERR_NOMEM;
		pl->order = o;
		pl->order_cap = cap;
	}
	size_t k = 0;
	int sorted = 1;
	for (unsigned c = 0; c < s->nchunks; c++) {
		const struct chunk *ch = &s->chunks[c];
		for (unsigned i = 0; i < ch->n; i++, k++) {
			pl->order[k] = (struct ordered){ ch->ref[i].seq, ch->bytes.p + ch->ref[i].off,
							 ch->ref[i].len };
			if (k && pl->order[k].seq < pl->order[k - 1].seq)
				sorted = 0;
		}
	}
	if (!sorted)
		qsort(pl->order, k, sizeof *pl->order, by_seq);
	for (size_t i = 0; i < k; i++) {
		int rc = pl->cfg.emit(pl->cfg.ctx, pl->order[i].row, pl->order[i].len);
		if (rc)
			return rc;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct nfm_pipeline *pl = arg;
	for (uint64_t b = 0;; b++) {
		struct slot *s = &pl->slots[b % SLOTS];
		pthread_mutex_lock(&pl->mu);
		while (!(s->state == SLOT_DONE && s->batch_no == b))
			pthread_cond_wait(&pl->cv, &pl->mu);
		int stopped = pl->stop_rc != 0;
		pthread_mutex_unlock(&pl->mu);

		/* Flows held at once: at every point of this batch, each worker held at most
		 * its peak in the batch, so their sum bounds the whole's peak from above; it
		 * exceeds it by at most the flows created in the batch, since every worker
		 * started the batch holding the flows it held at a common point of the input
		 * (the end of the previous batch). */
		uint64_t held = 0;
		for (unsigned w = 0; w < pl->nw; w++)
			held += s->peak[w];
		if (held > pl->peak)
			pl->peak = held;

		int rc = stopped ? 0 : write_batch(pl, s);
		if (rc == 0 && !stopped && s->cut && pl->cfg.slice)
			rc = pl->cfg.slice(pl->cfg.ctx, s->slice_start);
		if (rc == 0 && !stopped && s->have_tick && pl->cfg.tick)
			rc = pl->cfg.tick(pl->cfg.ctx, s->tick);
		for (unsigned w = 0; w < pl->nw; w++) {
			s->out[w].n = 0;
			nfm_buf_reset(&s->out[w].recs, KEEP_RECS_BYTES);
		}
		for (; s->chunk_cap > KEEP_CHUNKS; s->chunk_cap--) /* slot_metered regrows */
			nfm_buf_free(&s->chunks[s->chunk_cap - 1].bytes);

		pthread_mutex_lock(&pl->mu);
		set_stop(pl, rc);
		int eof = s->eof;
		s->state = SLOT_FREE;
		if (eof)
			pl->writer_left = 1;
		pthread_cond_broadcast(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
		if (eof)
			return NULL;
	}
}

static void free_slots(struct nfm_pipeline *pl)
{
	for (unsigned i = 0; i < SLOTS; i++) {
		struct slot *s = &pl->slots[i];
		for (unsigned w = 0; w < NFM_PIPELINE_MAX_WORKERS; w++) {
			free(s->pk[w]);
			free(s->payload[w]);
			nfm_buf_free(&s->out[w].recs);
		}
		for (unsigned c = 0; c < s->chunk_cap; c++)
			nfm_buf_free(&s->chunks[c].bytes);
		free(s->chunks);
	}
}

static void destroy(struct nfm_pipeline *pl)
{
	for (unsigned w = 0; w < pl->nw; w++)
		nfm_meter_free(pl->w[w].meter);
	free_slots(pl);
	free(pl->order);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->cv);
	free(pl);
}

void nfm_pipeline_free(struct nfm_pipeline *pl)
{
	if (!pl)
		return;
	if (!pl->finished)
		nfm_pipeline_finish(pl, 0);
	destroy(pl);
}

struct nfm_pipeline *nfm_pipeline_new(const struct nfm_pipeline_config *cfg, nfm_flow_sink sink,
				      void *sink_ctx)
{
	struct nfm_pipeline *pl = calloc(1, sizeof *pl);
	if (!pl)
		return NULL;
	pl->cfg = *cfg;
	pl->nw = cfg->workers ? cfg->workers : 1;
	if (pl->nw > NFM_PIPELINE_MAX_WORKERS)
		pl->nw = NFM_PIPELINE_MAX_WORKERS;
	if (cfg->meter.max_flows) /* a global first-N rule needs one flow table */
		pl->nw = 1;
	/* The flow cap is shared out exactly (quotas add up to it), at least one flow per
	 * worker: so no more workers than the cap. */
	uint64_t cap = cfg->meter.max_active_flows;
	if (cap && pl->nw > cap)
		pl->nw = (unsigned)cap;
	pl->sink = sink;
	pl->sink_ctx = sink_ctx;
	if (!pl->cfg.encode || !pl->cfg.emit) {
		pl->cfg.encode = record_encode;
		pl->cfg.emit = record_emit;
		pl->cfg.ctx = pl;
	}
	const struct nfm_layout *lay = cfg->meter.layout;
	pl->payload_bytes = lay ? lay->payload_bytes : 0;
	pl->mod_bytes = lay ? lay->size : 0;
	pl->stride = (sizeof(struct nfm_flow_record) + pl->mod_bytes + 7) & ~(size_t)7;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->cv, NULL);

	for (unsigned i = 0; i < SLOTS; i++) {
		pl->slots[i].batch_no = UINT64_MAX;
		for (unsigned w = 0; w < pl->nw; w++) {
			pl->slots[i].pk[w] = malloc(BATCH * sizeof(struct nfm_packet));
			if (!pl->slots[i].pk[w])
				goto fail;
			if (pl->payload_bytes &&
			    !(pl->slots[i].payload[w] = malloc((size_t)BATCH * pl->payload_bytes)))
				goto fail;
		}
	}
	for (unsigned w = 0; w < pl->nw; w++) {
		struct nfm_meter_config mc = cfg->meter;
		if (cap)
			mc.max_active_flows = cap / pl->nw + (w < cap % pl->nw);
		pl->w[w].pl = pl;
		pl->w[w].id = w;
		pl->w[w].meter = nfm_meter_new(&mc, worker_sink, &pl->w[w]);
		if (!pl->w[w].meter)
			goto fail;
	}
	/* The threads never take SIGINT/SIGTERM: the caller's thread, which may be blocked
	 * reading a pipe, must be the one the signal interrupts. */
	sigset_t block, saved;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	int ok = 1;
	for (unsigned w = 0; w < pl->nw && ok; w++) {
		if (pthread_create(&pl->w[w].tid, NULL, worker_main, &pl->w[w]) != 0)
			ok = 0;
		else
			pl->w[w].started = 1;
	}
	if (ok && pthread_create(&pl->writer, NULL, writer_main, pl) != 0)
		ok = 0;
	else if (ok)
		pl->writer_started = 1;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (!ok) {
		/* Threads that did start wait for a batch: give them an end-of-input batch. */
		pl->stop_rc = NFM_ERR_NOMEM;
		nfm_pipeline_finish(pl, 0);
		destroy(pl);
		return NULL;
	}
	return pl;
fail:
	destroy(pl);
	return NULL;
}

/* Waits for the next slot to be free (encoding meanwhile) and makes it the one being
 * filled. */
static void take_slot(struct nfm_pipeline *pl)
{
	struct slot *s = &pl->slots[pl->next_batch % SLOTS];
	pthread_mutex_lock(&pl->mu);
	wait_helping(pl, slot_free, s);
	pthread_mutex_unlock(&pl->mu);
	s->batch_no = pl->next_batch;
	s->eof = 0;
	s->drain = 0;
	s->have_tick = 0;
	s->tick = 0;
	s->cut = 0;
	s->frames = 0;
	for (unsigned w = 0; w < pl->nw; w++)
		s->npk[w] = 0;
	pl->fill = s;
}

static void publish(struct nfm_pipeline *pl, int eof)
{
	struct slot *s = pl->fill;
	s->eof = eof;
	if (s->have_tick && (!pl->have_clock || s->tick > pl->clock)) {
		pl->have_clock = 1;
		pl->clock = s->tick;
	}
	unsigned started = 0;
	for (unsigned w = 0; w < pl->nw; w++)
		started += (unsigned)pl->w[w].started;
	pthread_mutex_lock(&pl->mu);
	s->pending = started;
	if (started) {
		s->state = SLOT_FILLED;
		pthread_cond_broadcast(&pl->cv);
	} else {
		for (unsigned w = 0; w < pl->nw; w++)
			s->out[w].n = 0;
		slot_metered(pl, s);
	}
	pthread_mutex_unlock(&pl->mu);
	pl->next_batch++;
	pl->fill = NULL;
}

/* Shard of a packet: a hash of the two addresses that is the same in both directions
 * (sum of per-address mixes) and ignores ports, so fragments without ports follow the
 * first fragment of their datagram. */
static unsigned shard_of(const struct nfm_packet *p, unsigned nw)
{
	if (nw == 1)
		return 0;
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, p->src, 8);
	memcpy(&a1, p->src + 8, 8);
	memcpy(&b0, p->dst, 8);
	memcpy(&b1, p->dst + 8, 8);
	uint64_t ha = (a0 ^ (a1 * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
	uint64_t hb = (b0 ^ (b1 * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
	uint64_t h = (ha ^ (ha >> 29)) + (hb ^ (hb >> 29));
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (unsigned)(((h >> 32) * nw) >> 32);
}

/* The first payload bytes of a decoded packet, for the feature modules that asked. */
static void copy_payload(const struct nfm_pipeline *pl, uint8_t *dst, const struct nfm_packet *pk,
			 const uint8_t *data)
{
	uint32_t n = nfm_pkt_payload_have(pk);
	if (n > pl->payload_bytes)
		n = pl->payload_bytes;
	if (n)
		memcpy(dst, data + pk->payload_off, n);
}

/* A time slice begins at start: the batch being filled is handed on, then one batch that
 * only cuts (every open flow written, then the slice announced to the writer). */
static void begin_slice(struct nfm_pipeline *pl, uint64_t start)
{
	if (pl->fill && pl->fill->frames)
		publish(pl, 0);
	if (!pl->fill)
		take_slot(pl);
	pl->fill->cut = 1;
	pl->fill->slice_start = start;
	pl->have_slice = 1;
	pl->slice_start = start;
	publish(pl, 0);
}

/* Begins the slice of time t when t is past the current one (or none began yet). */
static int enter_slice(struct nfm_pipeline *pl, uint64_t t)
{
	uint64_t start = t - t % pl->cfg.slice_ns;
	if (pl->have_slice && start <= pl->slice_start)
		return 0;
	int rc = get_stop(pl);
	if (rc)
		return rc;
	begin_slice(pl, start);
	return 0;
}

int nfm_pipeline_frame(struct nfm_pipeline *pl, const struct nfm_raw_packet *raw)
{
	if (pl->cfg.slice_ns && (!pl->have_ts || raw->ts_ns > pl->newest)) {
		int rc = enter_slice(pl, raw->ts_ns);
		if (rc)
			return rc;
	}
	if (!pl->fill) {
		int rc = get_stop(pl);
		if (rc)
			return rc;
		take_slot(pl);
	}
	struct slot *s = pl->fill;
	uint64_t ts = raw->ts_ns;
	pl->frames++;
	if (!pl->have_ts) {
		pl->have_ts = 1;
		pl->newest = ts;
		pl->rc.first_ts_ns = pl->rc.last_ts_ns = ts;
	} else if (ts > pl->newest) {
		pl->newest = ts;
		pl->rc.last_ts_ns = ts;
	} else if (ts < pl->newest) {
		pl->rc.ts_backwards++;
		if (ts < pl->rc.first_ts_ns)
			pl->rc.first_ts_ns = ts;
	}
	if (!s->have_tick || ts > s->tick) {
		s->have_tick = 1;
		s->tick = ts;
	}

	/* With one worker, decode straight into its array; otherwise decode aside and copy
	 * the packet to the worker that owns its flow. */
	struct nfm_packet tmp;
	struct nfm_packet *pk = pl->nw == 1 ? &s->pk[0][s->npk[0]] : &tmp;
	pk->ts_ns = ts;
	pk->wire_len = raw->wire_len;
	pk->cap_len = raw->cap_len;
	pk->pkt_index = pl->frames;
	pk->clock_ns = pl->newest;
	enum nfm_decode_status st = nfm_decode(raw->data, raw->linktype, &pl->cfg.meter.decode, pk);
	if (st == NFM_DECODE_OK) {
		unsigned w = 0;
		if (pl->nw > 1) {
			w = shard_of(pk, pl->nw);
			s->pk[w][s->npk[w]] = *pk;
		}
		if (pl->payload_bytes) /* the packet's bytes are lent only for this call */
			copy_payload(pl, s->payload[w] + (size_t)s->npk[w] * pl->payload_bytes, pk,
				     raw->data);
		s->npk[w]++;
	} else {
		pl->rc.packets++;
		pl->rc.wire_bytes += pk->wire_len;
		if ((unsigned)st < NFM_DECODE_STATUS_COUNT)
			pl->rc.decode_status[st]++;
		if (st == NFM_DECODE_NONIP && pk->nonip_kind < NFM_NONIP_KIND_COUNT)
			pl->rc.nonip[pk->nonip_kind]++;
	}
	if (++s->frames == BATCH)
		publish(pl, 0);
	return 0;
}

int nfm_pipeline_advance(struct nfm_pipeline *pl, uint64_t now_ns)
{
	int rc = get_stop(pl);
	if (rc)
		return rc;
	uint64_t t = now_ns;
	if (pl->have_ts && pl->newest > t)
		t = pl->newest;
	/* Time alone closes a slice once a frame opened the first one. */
	if (pl->cfg.slice_ns && pl->have_slice && (rc = enter_slice(pl, t)) != 0)
		return rc;
	/* With no frame pending, the batches already handed on take every worker to
	 * pl->clock (workers never go back): nothing to do unless time moves on. */
	int pending = pl->fill && pl->fill->frames;
	if (!pending && pl->have_clock && t <= pl->clock)
		return 0;
	if (!pl->fill)
		take_slot(pl);
	struct slot *s = pl->fill;
	s->have_tick = 1;
	s->tick = t;
	publish(pl, 0);
	return 0;
}

int nfm_pipeline_done(struct nfm_pipeline *pl)
{
	pthread_mutex_lock(&pl->mu);
	int d = pl->done;
	pthread_mutex_unlock(&pl->mu);
	return d;
}

int nfm_pipeline_finish(struct nfm_pipeline *pl, int write_open)
{
	if (pl->finished)
		return get_stop(pl);
	pl->finished = 1;
	if (!pl->fill)
		take_slot(pl);
	if (write_open && !get_stop(pl)) {
		/* The last frames, then the open flows range by range of first packets (rows
		 * at most DRAIN_SPAN per batch), the last range open-ended. */
		publish(pl, 0);
		for (uint64_t below = DRAIN_SPAN + 1;; below += DRAIN_SPAN) {
			int last = below > pl->frames;
			take_slot(pl);
			pl->fill->drain = 1;
			pl->fill->drain_below = last ? UINT64_MAX : below;
			publish(pl, last);
			if (last)
				break;
		}
	} else {
		publish(pl, 1);
	}
	if (pl->writer_started) { /* help encode what is left */
		pthread_mutex_lock(&pl->mu);
		wait_helping(pl, writer_gone, NULL);
		pthread_mutex_unlock(&pl->mu);
	}
	for (unsigned w = 0; w < pl->nw; w++)
		if (pl->w[w].started) {
			pthread_join(pl->w[w].tid, NULL);
			pl->w[w].started = 0;
		}
	if (pl->writer_started) {
		pthread_join(pl->writer, NULL);
		pl->writer_started = 0;
	}
	return get_stop(pl);
}

void nfm_pipeline_counters(const struct nfm_pipeline *pl, struct nfm_counters *out)
{
	*out = pl->rc;
	for (unsigned w = 0; w < pl->nw; w++)
		if (pl->w[w].meter)
			nfm_counters_add(out, nfm_meter_counters(pl->w[w].meter));
	out->peak_active_flows = pl->peak; /* tighter than the shards' sum */
	/* Time is global: the reader saw every frame in order. */
	out->first_ts_ns = pl->rc.first_ts_ns;
	out->last_ts_ns = pl->rc.last_ts_ns;
	out->ts_backwards = pl->rc.ts_backwards;
}
