/* The metering pipeline (see pipeline.h): reader (the caller) -> workers -> writer.
 * A ring of batch slots carries frames forward; synchronisation is per batch (one mutex
 * and three condition variables), never per packet. Nothing is allocated per packet:
 * slot arrays are sized once, record buffers only grow. */
#include "flow/pipeline.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define BATCH 4096u /* frames per batch: fixed, so results do not depend on workers */
#define SLOTS 8u

enum slot_state { SLOT_FREE = 0, SLOT_FILLED, SLOT_DONE };

struct recbuf {
	struct nfm_flow_record *rec;
	size_t n, cap;
};

struct slot {
	uint64_t batch_no;
	enum slot_state state;
	unsigned pending;      /* workers still processing */
	int eof;               /* last batch of the input */
	int have_tick;
	uint64_t tick;         /* newest timestamp among the batch's frames */
	uint32_t frames;
	struct nfm_packet *pk[NFM_PIPELINE_MAX_WORKERS];
	uint32_t npk[NFM_PIPELINE_MAX_WORKERS];
	struct recbuf out[NFM_PIPELINE_MAX_WORKERS];
	uint64_t peak[NFM_PIPELINE_MAX_WORKERS]; /* most flows each worker held in the batch */
};

struct worker {
	struct nfm_pipeline *pl;
	unsigned id;
	struct nfm_meter *meter;
	struct slot *cur;      /* slot being processed: where the sink puts records */
	int direct;            /* end of input: the writer drives the meter, records go out */
	pthread_t tid;
	int started;
};

struct nfm_pipeline {
	struct nfm_pipeline_config cfg;
	unsigned nw;
	nfm_flow_sink sink;
	void *sink_ctx;
	struct slot slots[SLOTS];
	struct worker w[NFM_PIPELINE_MAX_WORKERS];
	pthread_t writer;
	int writer_started;

	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_write, cv_free;
	int stop_rc;           /* first error (sink, memory): guarded by mu */
	int done;              /* max_flows reached and written (single worker) */

	/* reader side (caller thread only) */
	struct slot *fill;
	uint64_t next_batch;
	uint64_t frames;
	int have_ts;
	uint64_t newest;          /* newest frame timestamp */
	int have_clock;
	uint64_t clock;           /* newest batch time published: where workers will be */
	struct nfm_counters rc;   /* frames that never reach a worker, and global time */
	int finished;

	/* writer side */
	const struct nfm_flow_record **order;
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

/* Worker sink: keep the record in the slot's buffer (or, at the end of the input, pass
 * it straight to the user's sink from the writer thread). */
static int worker_sink(void *ctx, const struct nfm_flow_record *rec)
{
	struct worker *w = ctx;
	if (w->direct)
		return w->pl->sink(w->pl->sink_ctx, rec);
	struct recbuf *b = &w->cur->out[w->id];
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct nfm_flow_record *r = realloc(b->rec, cap * sizeof *r);
		if (!r)
			return NFM_ERR_NOMEM;
		b->rec = r;
		b->cap = cap;
	}
	b->rec[b->n++] = *rec;
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct nfm_pipeline *pl = w->pl;
	for (uint64_t b = 0;; b++) {
		struct slot *s = &pl->slots[b % SLOTS];
		pthread_mutex_lock(&pl->mu);
		while (!(s->state == SLOT_FILLED && s->batch_no == b))
			pthread_cond_wait(&pl->cv_work, &pl->mu);
		int stopped = pl->stop_rc != 0;
		pthread_mutex_unlock(&pl->mu);

		w->cur = s;
		int rc = 0;
		if (!stopped) {
			rc = nfm_meter_packets(w->meter, s->pk[w->id], s->npk[w->id]);
			if (!rc && s->have_tick)
				rc = nfm_meter_tick(w->meter, s->tick);
			if (!rc && pl->nw == 1 && nfm_meter_done(w->meter)) {
				pthread_mutex_lock(&pl->mu);
				pl->done = 1;
				pthread_mutex_unlock(&pl->mu);
			}
		}
		s->peak[w->id] = nfm_meter_take_window_peak(w->meter);
		pthread_mutex_lock(&pl->mu);
		if (rc && !pl->stop_rc)
			pl->stop_rc = rc;
		if (--s->pending == 0) {
			s->state = SLOT_DONE;
			pthread_cond_signal(&pl->cv_write);
		}
		int eof = s->eof;
		pthread_mutex_unlock(&pl->mu);
		if (eof)
			return NULL;
	}
}

static int by_seq(const void *a, const void *b)
{
	const struct nfm_flow_record *x = *(const struct nfm_flow_record *const *)a;
	const struct nfm_flow_record *y = *(const struct nfm_flow_record *const *)b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Writes the flows that ended in one batch, in the order of their first packet. */
static int write_batch(struct nfm_pipeline *pl, struct slot *s)
{
	size_t total = 0;
	for (unsigned w = 0; w < pl->nw; w++)
		total += s->out[w].n;
	if (total == 0)
		return 0;
	if (total > pl->order_cap) {
		size_t cap = total * 2;
		const struct nfm_flow_record **o = realloc(pl->order, cap * sizeof *o);
		if (!o)
			return NFM_ERR_NOMEM;
		pl->order = o;
		pl->order_cap = cap;
	}
	size_t k = 0;
	for (unsigned w = 0; w < pl->nw; w++)
		for (size_t i = 0; i < s->out[w].n; i++)
			pl->order[k++] = &s->out[w].rec[i];
	if (pl->nw > 1 || total > 1)
		qsort(pl->order, total, sizeof *pl->order, by_seq);
	for (size_t i = 0; i < total; i++) {
		int rc = pl->sink(pl->sink_ctx, pl->order[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* End of input: the open flows of all workers, merged by first packet. Each meter
 * yields its own in creation order, so a k-way merge of the heads suffices. */
static int write_open_flows(struct nfm_pipeline *pl)
{
	for (unsigned w = 0; w < pl->nw; w++)
		pl->w[w].direct = 1;
	for (;;) {
		unsigned best = pl->nw;
		uint64_t best_seq = UINT64_MAX;
		for (unsigned w = 0; w < pl->nw; w++) {
			const struct nfm_flow_record *r = nfm_meter_oldest(pl->w[w].meter);
			if (r && r->seq < best_seq) {
				best_seq = r->seq;
				best = w;
			}
		}
		if (best == pl->nw)
			return 0;
		int rc = nfm_meter_expire_oldest(pl->w[best].meter);
		if (rc)
			return rc;
	}
}

static void *writer_main(void *arg)
{
	struct nfm_pipeline *pl = arg;
	for (uint64_t b = 0;; b++) {
		struct slot *s = &pl->slots[b % SLOTS];
		pthread_mutex_lock(&pl->mu);
		while (!(s->state == SLOT_DONE && s->batch_no == b))
			pthread_cond_wait(&pl->cv_write, &pl->mu);
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

		int rc = 0;
		if (!stopped)
			rc = write_batch(pl, s);
		/* Workers have all left this slot, and at the end of input their loops. */
		if (!rc && !stopped && s->eof && pl->finished == 2)
			rc = write_open_flows(pl);
		for (unsigned w = 0; w < pl->nw; w++)
			s->out[w].n = 0;
		if (s->eof)
			for (unsigned w = 0; w < pl->nw; w++)
				nfm_meter_flush_fragments(pl->w[w].meter);

		pthread_mutex_lock(&pl->mu);
		if (rc && !pl->stop_rc)
			pl->stop_rc = rc;
		int eof = s->eof;
		s->state = SLOT_FREE;
		pthread_cond_broadcast(&pl->cv_free);
		pthread_mutex_unlock(&pl->mu);
		if (eof)
			return NULL;
	}
}

static void free_slots(struct nfm_pipeline *pl)
{
	for (unsigned i = 0; i < SLOTS; i++)
		for (unsigned w = 0; w < NFM_PIPELINE_MAX_WORKERS; w++) {
			free(pl->slots[i].pk[w]);
			free(pl->slots[i].out[w].rec);
		}
}

void nfm_pipeline_free(struct nfm_pipeline *pl)
{
	if (!pl)
		return;
	if (!pl->finished)
		nfm_pipeline_finish(pl, 0);
	for (unsigned w = 0; w < pl->nw; w++)
		nfm_meter_free(pl->w[w].meter);
	free_slots(pl);
	free(pl->order);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->cv_work);
	pthread_cond_destroy(&pl->cv_write);
	pthread_cond_destroy(&pl->cv_free);
	free(pl);
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
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->cv_work, NULL);
	pthread_cond_init(&pl->cv_write, NULL);
	pthread_cond_init(&pl->cv_free, NULL);

	for (unsigned i = 0; i < SLOTS; i++) {
		pl->slots[i].batch_no = UINT64_MAX;
		for (unsigned w = 0; w < pl->nw; w++) {
			pl->slots[i].pk[w] = malloc(BATCH * sizeof(struct nfm_packet));
			if (!pl->slots[i].pk[w])
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
	if (!ok)
		goto fail_threads;
	return pl;

fail_threads:
	/* Threads that did start wait for a batch: give them an end-of-input batch. */
	pl->stop_rc = NFM_ERR_NOMEM;
	nfm_pipeline_finish(pl, 0);
	nfm_pipeline_free(pl);
	return NULL;
fail:
	for (unsigned w = 0; w < pl->nw; w++)
		nfm_meter_free(pl->w[w].meter);
	free_slots(pl);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->cv_work);
	pthread_cond_destroy(&pl->cv_write);
	pthread_cond_destroy(&pl->cv_free);
	free(pl);
	return NULL;
}

/* Waits for the next slot to be free and makes it the one being filled. */
static void take_slot(struct nfm_pipeline *pl)
{
	struct slot *s = &pl->slots[pl->next_batch % SLOTS];
	pthread_mutex_lock(&pl->mu);
	while (s->state != SLOT_FREE)
		pthread_cond_wait(&pl->cv_free, &pl->mu);
	pthread_mutex_unlock(&pl->mu);
	s->batch_no = pl->next_batch;
	s->eof = 0;
	s->have_tick = 0;
	s->tick = 0;
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
	s->state = started ? SLOT_FILLED : SLOT_DONE;
	pthread_cond_broadcast(started ? &pl->cv_work : &pl->cv_write);
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

int nfm_pipeline_frame(struct nfm_pipeline *pl, const struct nfm_raw_packet *raw)
{
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
		if (pl->nw == 1) {
			s->npk[0]++;
		} else {
			unsigned w = shard_of(pk, pl->nw);
			s->pk[w][s->npk[w]++] = *pk;
		}
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
	/* finished == 2 tells the writer to write the open flows at the end-of-input batch */
	pl->finished = write_open ? 2 : 1;
	if (!pl->fill)
		take_slot(pl);
	publish(pl, 1);
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
