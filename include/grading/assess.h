/* A seller's assessment from the store: the days of every window the
 * marketplace's rules use, read with one range scan, then evaluated
 * (rules.h). Used by the query handlers (as of any time), by the ingest
 * writer to derive the stored hot-path answer in the same transaction as
 * the events, and by the background refresh after a policy reload. */
#ifndef GRADING_ASSESS_H
#define GRADING_ASSESS_H

#include <stdint.h>

#include "grading/err.h"
#include "grading/policy.h"
#include "grading/rules.h"
#include "grading/store.h"

/* The current run of a stage with `lasts` whose condition holds as of
 * as_of (src/grade/assess_lasts.c): the run is the consecutive local days
 * up to as_of's on which the condition held (an earlier day judged as of
 * its last millisecond). */
typedef struct {
    bool known;                    /* the stage lasts N days and its condition holds now */
    bool lapsed;                   /* held on each of the N days before today: it has lapsed */
    int32_t since;                 /* !lapsed: the run's first day */
    int32_t until;                 /* !lapsed: since + N, the day it lapses */
} grading_stage_run_t;

/* Window sums and the assessment of one seller, heap-allocated (they are
 * large): grading_assess_new / grading_assess_free. */
typedef struct {
    int32_t today;                 /* as_of's local day */
    int64_t as_of_ms;
    grading_day_counters_t sums[GRADING_RULES_MAX_WINDOWS];
    grading_history_t hist;                  /* from closed periods */
    grading_order_facts_t facts;             /* from the orders (per-order rules) */
    grading_product_rate_t rates[GRADING_MAX_ORDER_ALERTS];
    bool has_published[GRADING_RULES_MAX_PROGRAMS];
    grading_published_t published[GRADING_RULES_MAX_PROGRAMS];
    char published_period[GRADING_RULES_MAX_PROGRAMS][GRADING_STORE_PERIOD_MAX];
    grading_assessment_t a;
    grading_stage_run_t runs[GRADING_RULES_MAX_LADDERS][GRADING_RULES_MAX_STAGES];
    /* Optional (NULL: the store): where the per-order facts read the
     * seller's days [first, last] for review points. The forecast serves
     * them from the rows it holds in memory. */
    grading_err_t (*days)(void *ctx, int32_t first, int32_t last, grading_store_day_cb cb, void *cb_ctx);
    void *days_ctx;
} grading_assess_t;

grading_assess_t *grading_assess_new(void);
void grading_assess_free(grading_assess_t *x);

/* Reads the seller's closed periods as of as_of into x->hist and
 * x->published (grading_assess_seller does this first). */
grading_err_t grading_assess_history(grading_txn_t *txn, const grading_marketplace_t *mp,
                                     const char *seller, int64_t as_of_ms, grading_assess_t *x);

/* Reads and evaluates, stage runs included (stages with `lasts`). Errors:
 * the store's; GRADING_EINVAL from the rules (*e says which). */
grading_err_t grading_assess_seller(grading_txn_t *txn, const grading_marketplace_t *mp,
                                    const char *seller, int64_t as_of_ms, grading_assess_t *x,
                                    grading_error_t *e);

/* Reads and evaluates as of as_of_ms without stage runs: every stage
 * whose condition holds applies (what assess_lasts.c judges the earlier
 * days with). */
grading_err_t grading_assess_once(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                  int64_t as_of_ms, grading_assess_t *x, grading_error_t *e);

/* After grading_assess_once: for each stage with `lasts` whose condition
 * holds, its run (x->runs), found by assessing the seller as of the end of
 * each of up to N earlier days (only then; one scratch assessment is
 * allocated for it); stages that lapsed go into x->hist.lapsed and the
 * rules are evaluated again. Errors: the store's, GRADING_ENOMEM. */
grading_err_t grading_assess_lasts(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                   grading_assess_t *x, grading_error_t *e);

/* When the stored answer must be derived again without a new event: the
 * next deadline stage of an open order, or the day a stage lapses
 * (Unix ms; 0: never). */
int64_t grading_assess_next_due_ms(const grading_marketplace_t *mp, const grading_assess_t *x);
/* The rest of grading_assess_seller once x->today, x->as_of_ms and
 * x->sums are set (the forecast sums its days in memory): the closed
 * periods, the orders, the evaluation. Errors: as grading_assess_seller. */
grading_err_t grading_assess_finish(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                    grading_assess_t *x, grading_error_t *e);

/* The assessment x (grading_assess_seller's) with what appeals and
 * exemptions excluded counted again (the excluded days added to its
 * windows): the raw values GetSellerMetrics shows beside the adjusted.
 * *out is NULL when nothing is excluded in the rules' span (x's values are
 * the raw ones), else a new assessment the caller frees with
 * grading_assess_free. Errors: as grading_assess_seller. */
grading_err_t grading_assess_raw_new(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                     const grading_assess_t *x, grading_assess_t **out, grading_error_t *e);

/* Assesses as of now_ms and stores the hot-path record (boost, suspension)
 * with the policy's version, in the write transaction txn. */
grading_err_t grading_assess_derive(grading_txn_t *txn, const grading_policy_t *p,
                                    const char *mp_name, const char *seller, int64_t now_ms);

/* grading_assess_derive as a batch's derive callback (ingest.h):
 * ctx is the policy. */
grading_err_t grading_assess_derive_cb(void *ctx, grading_txn_t *txn, const char *mp_name,
                                       const char *seller, int64_t now_ms);

#endif
