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
} grading_assess_t;

grading_assess_t *grading_assess_new(void);
void grading_assess_free(grading_assess_t *x);

/* Reads the seller's closed periods as of as_of into x->hist and
 * x->published (grading_assess_seller does this first). */
grading_err_t grading_assess_history(grading_txn_t *txn, const grading_marketplace_t *mp,
                                     const char *seller, int64_t as_of_ms, grading_assess_t *x);

/* Reads and evaluates. Errors: the store's; GRADING_EINVAL from the rules
 * (*e says which). */
grading_err_t grading_assess_seller(grading_txn_t *txn, const grading_marketplace_t *mp,
                                    const char *seller, int64_t as_of_ms, grading_assess_t *x,
                                    grading_error_t *e);

/* The assessment x (grading_assess_seller's) with what appeals and
 * exemptions excluded counted again (the excluded days added to its
 * windows): the raw values GetSellerMetrics shows beside the adjusted.
 * *raw is the caller's. Errors: as grading_assess_seller. */
grading_err_t grading_assess_raw(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                 const grading_assess_t *x, grading_assess_t *raw, grading_error_t *e);

/* Assesses as of now_ms and stores the hot-path record (boost, suspension)
 * with the policy's version, in the write transaction txn. */
grading_err_t grading_assess_derive(grading_txn_t *txn, const grading_policy_t *p,
                                    const char *mp_name, const char *seller, int64_t now_ms);

/* grading_assess_derive as a batch's derive callback (ingest.h):
 * ctx is the policy. */
grading_err_t grading_assess_derive_cb(void *ctx, grading_txn_t *txn, const char *mp_name,
                                       const char *seller, int64_t now_ms);

#endif
