/* The single writer. Any thread submits a batch of validated events; one
 * writer thread takes every batch waiting, applies each in a nested
 * transaction of one write transaction (a failing batch leaves no trace,
 * the others go on), commits once (fsync), and only then calls each batch's
 * done callback. Readers never wait on it. */
#ifndef GRADING_INGEST_H
#define GRADING_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/event.h"
#include "grading/store.h"
#include "grading/tz.h"

/* Bounds one group commit (LMDB's dirty-page limit, reply latency). */
#define GRADING_INGEST_MAX_GROUP_EVENTS 20000

typedef struct grading_ingest grading_ingest_t;
typedef struct grading_ingest_batch grading_ingest_batch_t;

/* What applying a batch found beyond its counts; caller-owned, optional. */
typedef struct {
    uint32_t *conflict_indexes;   /* room for n, or NULL: the events whose id
                                     was stored with other content, in order */
    uint32_t nconflicts;          /* set by the writer: accepted + duplicates +
                                     nconflicts == n */
    grading_error_t error;        /* set when the batch failed on its data:
                                     the field and why (GRADING_ERANGE: a
                                     counter would leave its range) */
} grading_ingest_report_t;

/* Called on the writer thread once the batch's fate is on disk: err is OK
 * (accepted + duplicates == n) or the reason nothing of it was stored
 * (GRADING_EFULL, GRADING_EIO, GRADING_ESHUTDOWN, ...). Must not block. */
typedef void (*grading_ingest_done_cb)(grading_ingest_batch_t *b, grading_err_t err,
                                       uint32_t accepted, uint32_t duplicates);

/* Caller-owned; events, marketplaces and zones must stay valid until done_cb. */
struct grading_ingest_batch {
    const grading_event_t *events;
    const char *const *marketplaces;   /* resolved name for events[i] */
    const grading_tz_t *const *zones;  /* marketplace's zone for events[i] */
    uint32_t n;
    /* Optional: called inside the batch's transaction after its events are
     * applied, once per distinct (marketplace, seller) with an accepted
     * event and once per extra_sellers[i] (then from extra_marketplaces[i]),
     * to store what is derived from the counters. An error fails the batch. */
    grading_err_t (*derive)(void *ctx, grading_txn_t *txn, const char *mp, const char *seller,
                            int64_t now_ms);
    void *derive_ctx;
    const char *const *extra_sellers;
    const char *const *extra_marketplaces;
    uint32_t nextra;
    /* Optional: called last inside the batch's transaction (a close
     * period's page, say). An error fails the batch. */
    grading_err_t (*apply)(void *ctx, grading_txn_t *txn, int64_t now_ms);
    void *apply_ctx;
    /* Optional: called after apply with the batch's counts (its audit
     * entry goes in the same transaction). An error fails the batch. */
    grading_err_t (*audit)(void *ctx, grading_txn_t *txn, int64_t now_ms, uint32_t accepted,
                           uint32_t duplicates);
    void *audit_ctx;
    grading_ingest_done_cb done_cb;
    void *data;                        /* for the caller */
    grading_ingest_report_t *report;   /* optional; valid until done_cb */
    /* Optional, n entries: set to whether events[i] was a duplicate
     * (meaningful once done_cb got OK); for per-marketplace counts. */
    bool *duplicate_out;
    grading_ingest_batch_t *next_;     /* private: the queue */
};

/* Starts the writer thread. now_ms gives the "stored at" time of events.
 * Errors: GRADING_ENOMEM, GRADING_EIO (thread creation). */
grading_err_t grading_ingest_start(grading_store_t *st, int64_t (*now_ms)(void *), void *clock_ctx,
                                   grading_ingest_t **out);

/* Queues b. Never blocks on the disk. After grading_ingest_stop() began,
 * b->done_cb runs at once with GRADING_ESHUTDOWN. */
void grading_ingest_submit(grading_ingest_t *in, grading_ingest_batch_t *b);

/* Queues b and waits until its fate is on disk; returns it (as done_cb
 * would get it; accepted/duplicates may be NULL). Sets b's done_cb and
 * data. Must not be called on the writer thread (from a callback). */
grading_err_t grading_ingest_run(grading_ingest_t *in, grading_ingest_batch_t *b, uint32_t *accepted,
                                 uint32_t *duplicates);

/* Batches queued and not yet taken by the writer (for /metrics). */
uint64_t grading_ingest_queue_depth(grading_ingest_t *in);

/* Finishes every queued batch, stops the thread and frees in. */
void grading_ingest_stop(grading_ingest_t *in);

/* Applies one batch inside txn (what the writer does for each batch):
 * dedupes by event_id (the same content: a duplicate; other content: a
 * conflict, in b->report), merges timelines, updates daily counters.
 * Exposed for tests and tools. Errors: as the store's. */
grading_err_t grading_ingest_apply(grading_txn_t *txn, const grading_ingest_batch_t *b,
                                   int64_t stored_ms, uint32_t *accepted, uint32_t *duplicates);

/* Applies one record's change (grading_order_change_split's halves: ks to
 * the seller's days, xs to the excluded days) inside txn, as applying an
 * event does; for appeals and exemptions, which change a record's mask.
 * ks and xs are netted in place. Errors: the store's; GRADING_ERANGE. */
grading_err_t grading_ingest_record_change(grading_txn_t *txn, const char *mp, const char *seller,
                                           grading_contrib_t *ks, size_t nk, grading_contrib_t *xs, size_t nx);

/* ---- orphans (unpaid orders holding lifecycle events; src/ingest/orphans.c) ---- */

/* Keeps the orphans index in step with an order record's change from
 * before to after (both as stored). Errors: the store's. */
grading_err_t grading_ingest_orphan_index(grading_txn_t *txn, const char *mp, const char *seller,
                                          const char *order_id, const grading_order_t *before,
                                          const grading_order_t *after);

/* Drops the orphan x names if the order is still that orphan: its record
 * goes, orphans_pending -1 on its day, orphans_dropped +1 on now_ms's day
 * (tz: its marketplace's zone); *dropped says whether it was. The index
 * entry goes either way. Errors: the store's; GRADING_ERANGE. */
grading_err_t grading_ingest_drop_orphan(grading_txn_t *txn, const grading_orphan_t *x, const grading_tz_t *tz,
                                         int64_t now_ms, bool *dropped);

#endif
