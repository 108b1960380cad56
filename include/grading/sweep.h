/* The deadline sweep: the sellers whose open orders reached a new stage by
 * now (the store's `due` index) are re-derived through the ingest writer,
 * a page at a time, each moved to its next due time; only they are read.
 * gradingd runs it on a timer (src/app); the sweep benchmark runs the
 * same function. */
#ifndef GRADING_SWEEP_H
#define GRADING_SWEEP_H

#include <stdint.h>

#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

#define GRADING_SWEEP_PAGE 512

/* Page buffers, kept by the caller between sweeps (they are large). */
typedef struct {
    grading_due_t due[GRADING_SWEEP_PAGE];
    const char *sellers[GRADING_SWEEP_PAGE], *mps[GRADING_SWEEP_PAGE];
} grading_sweep_buf_t;

/* Sweeps until nothing is due by now_ms(clock_ctx) (read again for each
 * page). *swept gets the sellers re-derived, *pages the write batches.
 * Errors: the store's and the writer's (the sweep stops there; what was
 * committed stays). */
grading_err_t grading_sweep_due(grading_store_reader_t *rd, grading_ingest_t *in, const grading_policy_t *p,
                                int64_t (*now_ms)(void *), void *clock_ctx, grading_sweep_buf_t *buf,
                                uint64_t *swept, uint32_t *pages);

/* ---- the orphan sweep (src/rpc/sweep_orphans.c) ---- */

typedef struct {
    grading_orphan_t o[GRADING_SWEEP_PAGE];
    const char *sellers[GRADING_SWEEP_PAGE], *mps[GRADING_SWEEP_PAGE];
} grading_orphan_buf_t;

/* Drops every unpaid order whose first held lifecycle event is more than
 * max_age_ms older than now_ms(clock_ctx) (ingest.h:
 * grading_ingest_drop_orphan), a page at a time through the writer, and
 * re-derives the sellers. *dropped gets how many orders were dropped.
 * Errors: the store's and the writer's (what was committed stays). */
grading_err_t grading_sweep_orphans(grading_store_reader_t *rd, grading_ingest_t *in, const grading_policy_t *p,
                                    int64_t (*now_ms)(void *), void *clock_ctx, int64_t max_age_ms,
                                    grading_orphan_buf_t *buf, uint64_t *dropped);

#endif
