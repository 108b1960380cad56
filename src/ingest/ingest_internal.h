/* What tests may ask the writer beyond ingest.h. */
#ifndef GRADING_INGEST_INTERNAL_H
#define GRADING_INGEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/ingest.h"

/* True once grading_ingest_stop() began: a submit now fails at once with
 * GRADING_ESHUTDOWN. Lets a test order itself after stop without sleeping. */
bool grading_ingest_stopping(grading_ingest_t *in);

/* ---- deriving once per group commit (group_derive.c) ---- */

/* A seller an accepted event touched, with the derive its batch asked for. */
typedef struct {
    grading_err_t (*derive)(void *ctx, grading_txn_t *txn, const char *mp, const char *seller, int64_t now_ms);
    void *ctx;
    const char *mp, *seller;   /* borrowed from the batch, alive until its done_cb */
} grading_ingest_ref_t;

/* The writer's, reused from group to group. */
typedef struct {
    grading_ingest_ref_t *refs;
    size_t n, cap;
} grading_ingest_refset_t;

/* Room for `more` refs beyond n. Errors: GRADING_ENOMEM. */
grading_err_t grading_ingest_refset_reserve(grading_ingest_refset_t *s, size_t more);
/* Adds one (room reserved). */
void grading_ingest_refset_add(grading_ingest_refset_t *s, const grading_ingest_batch_t *b, const char *mp,
                               const char *seller);
/* Derives each distinct (derive, ctx, marketplace, seller) once in txn at
 * now; sorts the set. Returns the first derive error. */
grading_err_t grading_ingest_refset_derive(grading_ingest_refset_t *s, grading_txn_t *txn, int64_t now);
void grading_ingest_refset_free(grading_ingest_refset_t *s);

/* grading_ingest_apply without the derivation: each accepted event's seller
 * goes to *later instead (room for b->n reserved), for the group to derive
 * once (b->apply and b->audit still run, in txn). */
grading_err_t grading_ingest_apply_deferred(grading_txn_t *txn, const grading_ingest_batch_t *b, int64_t stored_ms,
                                            grading_ingest_refset_t *later, uint32_t *accepted,
                                            uint32_t *duplicates);

/* ---- answering committed groups (syncer.c) ---- */

/* One batch's fate in its group. */
typedef struct {
    grading_err_t err;
    uint32_t accepted, duplicates;
} grading_ingest_result_t;

/* Calls every done callback of a group, in order: res[i] for the i-th
 * batch, or all (when not OK) for every one. */
void grading_ingest_finish_group(grading_ingest_batch_t *group, const grading_ingest_result_t *res,
                                 grading_err_t all);

typedef struct grading_syncer grading_syncer_t;

/* Starts the syncer's thread. Errors: GRADING_ENOMEM, GRADING_EIO. */
grading_err_t grading_syncer_start(grading_store_t *st, grading_syncer_t **out);
/* The writer took a group (busy) or waits for one (idle). */
void grading_syncer_writer_busy(grading_syncer_t *s, bool busy);
/* A group committed with grading_txn_commit_unsynced (ci from it): the
 * syncer answers it once it is on disk. Copies res (count entries). */
void grading_syncer_hand_over(grading_syncer_t *s, grading_ingest_batch_t *group,
                              const grading_ingest_result_t *res, size_t count,
                              const grading_commit_info_t *ci);
/* A synced commit returned: every transaction up to txnid is on disk. */
void grading_syncer_synced(grading_syncer_t *s, uint64_t txnid);
/* Answers every group handed over, then stops and frees s. */
void grading_syncer_stop(grading_syncer_t *s);

#endif
