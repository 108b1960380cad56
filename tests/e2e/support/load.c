/* Steady RecordEvents load from worker threads.
 *
 * Design: each thread owns its client (a grading client must not be shared
 * by overlapping calls) and a preallocated array of call records, so
 * nothing is shared between threads but the stop flag and the OK counter
 * (atomics). The main thread reads the records only after joining. */
#include "load.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_CALL_TIMEOUT_MS 30000
#define LOAD_MAX_THREADS 32

typedef struct {
    e2e_load_t *l;
    int index;
    pthread_t thread;
    bool started;
    e2e_load_call_t *calls;   /* max_batches */
    int ncalls;
} worker_t;

struct e2e_load {
    char prefix[32];
    char addr[64];
    int nthreads, batch_events, max_batches;
    worker_t workers[LOAD_MAX_THREADS];
    atomic_bool stop;
    atomic_int ok;
    atomic_int running;
    bool joined;
    /* flattened view after join */
    const e2e_load_call_t **all;
    size_t nall;
};

void e2e_load_build_batch(const e2e_load_t *l, int thread, int batch, e2e_batch_t *out)
{
    char seller[64], id[96], order[32];
    snprintf(seller, sizeof seller, "%s-t%d-b%d", l->prefix, thread, batch);
    for (int e = 0; e < l->batch_events; e++) {
        snprintf(id, sizeof id, "%s-e%d", seller, e);
        snprintf(order, sizeof order, "o%d", e);
        e2e_add_paid(out, id, "testmart", seller, E2E_LOAD_PAID_AT, order, E2E_LOAD_AMOUNT, "KRW", 3);
    }
}

int e2e_load_batch_events(const e2e_load_t *l)
{
    return l->batch_events;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    e2e_load_t *l = w->l;
    grading_client_t *c = NULL;
    if (grading_client_new(l->addr, &c)) goto done;
    for (int b = 0; b < l->max_batches && !atomic_load(&l->stop); b++) {
        e2e_batch_t batch;
        e2e_batch_init(&batch);
        e2e_load_build_batch(l, w->index, b, &batch);
        e2e_load_call_t *rec = &w->calls[w->ncalls];
        rec->thread = w->index;
        rec->batch = b;
        snprintf(rec->seller, sizeof rec->seller, "%s-t%d-b%d", l->prefix, w->index, b);
        e2e_reply_t r;
        rec->start_ms = e2e_now_ms();
        e2e_record(c, batch.ev, batch.n, LOAD_CALL_TIMEOUT_MS, &r);
        rec->end_ms = e2e_now_ms();
        rec->completed = r.completed;
        rec->status = r.status;
        snprintf(rec->details, sizeof rec->details, "%.199s", r.details);
        rec->accepted = r.accepted;
        rec->duplicates = r.duplicates;
        w->ncalls++;
        e2e_batch_destroy(&batch);
        if (!r.completed || r.status != GRPC_STATUS_OK) break;
        atomic_fetch_add(&l->ok, 1);
    }
done:
    grading_client_free(c);
    atomic_fetch_sub(&l->running, 1);
    return NULL;
}

e2e_load_t *e2e_load_start(const e2e_server_t *s, const char *prefix, int threads, int batch_events,
                           int max_batches)
{
    if (threads < 1 || threads > LOAD_MAX_THREADS || batch_events < 1 || max_batches < 1)
        fail_msg("e2e_load_start: bad arguments");
    e2e_load_t *l = calloc(1, sizeof *l);
    if (!l) abort();   /* out of memory */
    snprintf(l->prefix, sizeof l->prefix, "%s", prefix);
    snprintf(l->addr, sizeof l->addr, "%s", s->addr);
    l->nthreads = threads;
    l->batch_events = batch_events;
    l->max_batches = max_batches;
    atomic_init(&l->stop, false);
    atomic_init(&l->ok, 0);
    atomic_init(&l->running, threads);
    for (int t = 0; t < threads; t++) {
        worker_t *w = &l->workers[t];
        w->l = l;
        w->index = t;
        w->calls = calloc((size_t)max_batches, sizeof *w->calls);
        if (!w->calls) abort();   /* out of memory */
    }
    for (int t = 0; t < threads; t++) {
        worker_t *w = &l->workers[t];
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            atomic_store(&l->stop, true);
            atomic_fetch_sub(&l->running, threads - t);
            e2e_load_join(l);
            fail_msg("cannot start load thread %d", t);
        }
        w->started = true;
    }
    return l;
}

int e2e_load_ok_count(e2e_load_t *l)
{
    return atomic_load(&l->ok);
}

bool e2e_load_wait_ok(e2e_load_t *l, int min_ok, int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;
    while (e2e_now_ms() < deadline) {
        if (atomic_load(&l->ok) >= min_ok) return true;
        if (atomic_load(&l->running) == 0) return false;
        e2e_sleep_ms(5);
    }
    return atomic_load(&l->ok) >= min_ok;
}

void e2e_load_join(e2e_load_t *l)
{
    if (l->joined) return;
    for (int t = 0; t < l->nthreads; t++)
        if (l->workers[t].started) pthread_join(l->workers[t].thread, NULL);
    l->joined = true;
    size_t n = 0;
    for (int t = 0; t < l->nthreads; t++) n += (size_t)l->workers[t].ncalls;
    l->all = calloc(n ? n : 1, sizeof *l->all);
    if (!l->all) abort();   /* out of memory */
    for (int t = 0; t < l->nthreads; t++)
        for (int i = 0; i < l->workers[t].ncalls; i++) l->all[l->nall++] = &l->workers[t].calls[i];
}

void e2e_load_stop(e2e_load_t *l)
{
    atomic_store(&l->stop, true);
    e2e_load_join(l);
}

size_t e2e_load_ncalls(const e2e_load_t *l)
{
    return l->nall;
}

const e2e_load_call_t *e2e_load_call(const e2e_load_t *l, size_t i)
{
    return i < l->nall ? l->all[i] : NULL;
}

void e2e_load_free(e2e_load_t *l)
{
    if (!l) return;
    e2e_load_stop(l);
    for (int t = 0; t < l->nthreads; t++) free(l->workers[t].calls);
    free(l->all);
    free(l);
}
