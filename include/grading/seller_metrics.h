/* What GetSellerMetrics answers, read from the store in one read
 * transaction: the base counters over fixed windows and the policy's
 * assessment (metrics, service points) as of a time. No gRPC. */
#ifndef GRADING_SELLER_METRICS_H
#define GRADING_SELLER_METRICS_H

#include <stdint.h>

#include "grading/assess.h"
#include "grading/err.h"
#include "grading/policy.h"
#include "grading/store.h"

/* The base counters' windows (30d, 90d, 365d, month), all ending with
 * as_of's local day. */
#define GRADING_SELLER_METRICS_WINDOWS 4
extern const grading_window_t grading_seller_metrics_windows[GRADING_SELLER_METRICS_WINDOWS];

typedef struct {
    int64_t as_of_ms;
    grading_day_counters_t sums[GRADING_SELLER_METRICS_WINDOWS];   /* by window */
    grading_day_counters_t xsums[GRADING_SELLER_METRICS_WINDOWS];  /* excluded (raw = sums + xsums) */
    grading_assess_t *x;             /* the policy's assessment as of as_of_ms */
    grading_assess_t *raw;           /* the same with nothing excluded (appeals, exemptions);
                                        NULL when nothing is: x's values are the raw ones */
    uint32_t excluded_records;       /* the seller's orders and inquiries with an exclusion */
    uint32_t pending_orphans;        /* unpaid orders holding events (365 days) */
    uint32_t dropped_orphans;
} grading_seller_metrics_t;

/* Reads seller's counters and assessment in marketplace mp as of as_of_ms
 * through rd; *out is the caller's, freed with grading_seller_metrics_free.
 * Errors: GRADING_ENOMEM; the store's (e->field "seller_id" when the
 * seller's counters could not be read); GRADING_EINVAL from the rules. */
grading_err_t grading_seller_metrics_new(grading_store_reader_t *rd, const grading_marketplace_t *mp,
                                         const char *seller, int64_t as_of_ms, grading_seller_metrics_t **out,
                                         grading_error_t *e);
void grading_seller_metrics_free(grading_seller_metrics_t *m);

#endif
