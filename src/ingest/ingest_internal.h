/* What tests may ask the writer beyond ingest.h. */
#ifndef GRADING_INGEST_INTERNAL_H
#define GRADING_INGEST_INTERNAL_H

#include <stdbool.h>

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

#endif
