/* What-if: every seller of a marketplace evaluated as of a time under the
 * current policy and under a candidate, inside read transactions (one per
 * page of sellers), writing nothing. The answer: per programme the
 * transition matrix (old level -> new level: seller counts), the sellers
 * whose boost, suspension or ad-credit grants change (counts and the first
 * ids), and the total ad credit and mean boost before and after. Used by
 * EvaluatePolicy; a domain operation like a close (no gRPC). */
#ifndef GRADING_WHATIF_H
#define GRADING_WHATIF_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/event.h"
#include "grading/policy.h"
#include "grading/rules.h"
#include "grading/store.h"

#define GRADING_WHATIF_MAX_IDS 1000      /* first ids kept per kind of change */
#define GRADING_WHATIF_PAGE 1000         /* sellers per read transaction */

typedef struct {
    char program[64];
    bool in_current;                     /* false: the candidate adds it (from level 0) */
    uint32_t nlevels;                    /* the levels of both, sorted, 0 first when added */
    int32_t levels[2 * GRADING_RULES_MAX_LEVELS + 1];
    /* counts[i][j]: sellers at levels[i] under the current policy and at
     * levels[j] under the candidate */
    uint64_t counts[2 * GRADING_RULES_MAX_LEVELS + 1][2 * GRADING_RULES_MAX_LEVELS + 1];
} grading_whatif_matrix_t;

typedef struct {
    uint64_t count;
    uint32_t nids;                       /* at most the asked N */
    char (*ids)[GRADING_MAX_ID_LEN + 1]; /* owned by the result */
} grading_whatif_set_t;

typedef struct {
    uint64_t sellers;
    uint32_t nprograms;
    grading_whatif_matrix_t programs[GRADING_RULES_MAX_PROGRAMS];
    grading_whatif_set_t boost, suspension, ad_credit;
    int64_t ad_credit_before, ad_credit_after;   /* sums of granted amounts, minor units */
    double mean_boost_before, mean_boost_after;
} grading_whatif_result_t;

/* Runs the what-if of marketplace mp_name: cur and cand are the current
 * and candidate policies; the candidate must have the marketplace. Keeps
 * the first max_ids ids of each kind of change (sellers in key order).
 * stop (may be NULL) is asked between pages; true gives up with
 * GRADING_ESHUTDOWN. The result is the caller's: grading_whatif_result_destroy.
 * Errors: GRADING_ENOTFOUND (the marketplace is missing from either
 * policy; *e names "marketplace"), GRADING_EINVAL (max_ids too large), the
 * store's, GRADING_ENOMEM. */
grading_err_t grading_whatif_run(grading_store_t *st, const grading_policy_t *cur, const grading_policy_t *cand,
                                 const char *mp_name, int64_t as_of_ms, uint32_t max_ids, bool (*stop)(void *ctx),
                                 void *stop_ctx, grading_whatif_result_t *out, grading_error_t *e);

void grading_whatif_result_destroy(grading_whatif_result_t *r);

#endif
