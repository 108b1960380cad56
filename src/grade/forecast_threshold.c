/* The nearest thresholds ahead (forecast.h): how many more events of a
 * kind, today, move each programme's level. Pure: window sums in, levels
 * out; the store is not read. */
#include <stdlib.h>
#include <string.h>

#include "grading/forecast.h"

/* Each kind as the counters one such order, inquiry or review adds on its
 * day (counters.c: an order's counters all land on today when it is paid,
 * shipped or cancelled today). */
static const grading_forecast_kind_t kinds[] = {
    {"late_shipment", "late shipment", "late shipments", false, 3,
     {{GRADING_C_ORDERS, 1}, {GRADING_C_SHIPPED, 1}, {GRADING_C_SHIPPED_TRACKING_VALID, 1}}},
    {"seller_cancel", "seller-fault cancellation", "seller-fault cancellations", false, 4,
     {{GRADING_C_ORDERS, 1}, {GRADING_C_CANCELS, 1}, {GRADING_C_CANCELS_SELLER_FAULT, 1},
      {GRADING_C_CANCELS_OUT_OF_STOCK, 1}}},
    {"seller_return", "seller-fault return", "seller-fault returns", false, 2,
     {{GRADING_C_RETURNS, 1}, {GRADING_C_RETURNS_SELLER_FAULT, 1}}},
    {"seller_exchange", "seller-fault exchange", "seller-fault exchanges", false, 2,
     {{GRADING_C_EXCHANGES, 1}, {GRADING_C_EXCHANGES_SELLER_FAULT, 1}}},
    {"non_receipt", "non-receipt report", "non-receipt reports", false, 1, {{GRADING_C_NON_RECEIPTS, 1}}},
    {"unanswered_inquiry", "unanswered inquiry", "unanswered inquiries", false, 1, {{GRADING_C_INQUIRIES, 1}}},
    {"late_answer", "inquiry answered after 24 h", "inquiries answered after 24 h", false, 2,
     {{GRADING_C_INQUIRIES, 1}, {GRADING_C_INQUIRIES_ANSWERED, 1}}},
    {"low_rating", "1-star not-recommended review", "1-star not-recommended reviews", false, 3,
     {{GRADING_C_REVIEWS, 1}, {GRADING_C_RATING_SUM, 1}, {GRADING_C_NOT_RECOMMENDED, 1}}},
    {"on_time_shipment", "on-time shipped order", "on-time shipped orders", true, 4,
     {{GRADING_C_ORDERS, 1}, {GRADING_C_SHIPPED, 1}, {GRADING_C_SHIPPED_ON_TIME, 1},
      {GRADING_C_SHIPPED_TRACKING_VALID, 1}}},
    {"answered_inquiry", "inquiry answered within 24 h", "inquiries answered within 24 h", true, 3,
     {{GRADING_C_INQUIRIES, 1}, {GRADING_C_INQUIRIES_ANSWERED, 1}, {GRADING_C_INQUIRIES_ANSWERED_24H, 1}}},
    {"high_rating", "5-star strongly-recommended review", "5-star strongly-recommended reviews", true, 3,
     {{GRADING_C_REVIEWS, 1}, {GRADING_C_RATING_SUM, 5}, {GRADING_C_STRONGLY_RECOMMEND, 1}}},
};
_Static_assert(sizeof kinds / sizeof kinds[0] <= GRADING_FORECAST_MAX_KINDS, "too many forecast kinds");

const grading_forecast_kind_t *grading_forecast_kinds(size_t *n)
{
    *n = sizeof kinds / sizeof kinds[0];
    return kinds;
}

/* The counters any metric of r reads. */
static uint64_t metrics_mask(const grading_rules_t *r)
{
    uint64_t all = 0;
    for (size_t m = 0; m < r->nmetrics; m++) {
        uint64_t mask;
        if (grading_rules_metric_counters(r, r->metrics[m].name, &mask) == GRADING_OK) all |= mask;
    }
    return all;
}

static uint64_t kind_mask(const grading_forecast_kind_t *k)
{
    uint64_t mask = 0;
    for (size_t i = 0; i < k->ndeltas; i++) mask |= UINT64_C(1) << k->deltas[i].counter;
    return mask;
}

/* Scratch of one search, on the heap (window sums and assessments are large). */
typedef struct {
    grading_day_counters_t sums[GRADING_RULES_MAX_WINDOWS];
    grading_day_counters_t extra;
    grading_assessment_t a;
} search_t;

/* Searches one kind for every programme still open in want[]. */
static grading_err_t search_kind(const grading_rules_t *r, const grading_day_counters_t *sums,
                                 const grading_history_t *hist, int32_t today, const grading_assessment_t *now,
                                 uint32_t bound, size_t ki, search_t *s, grading_forecast_program_t *programs,
                                 grading_error_t *e)
{
    const grading_forecast_kind_t *k = &kinds[ki];
    bool open[GRADING_RULES_MAX_PROGRAMS];
    size_t left = r->nprograms;
    for (size_t p = 0; p < r->nprograms; p++) open[p] = true;
    for (uint32_t n = 1; n <= bound && left; n++) {
        memcpy(s->sums, sums, r->nwindows * sizeof s->sums[0]);
        grading_day_counters_init(&s->extra);
        for (size_t i = 0; i < k->ndeltas; i++) s->extra.c[k->deltas[i].counter] = k->deltas[i].delta * (int64_t)n;
        grading_err_t err = grading_rules_add_day(r, today, today, &s->extra, s->sums);
        if (!err) err = grading_rules_assess_with(r, s->sums, hist, &s->a, e);
        if (err) return err;
        for (size_t p = 0; p < r->nprograms; p++) {
            int32_t was = now->grades[p].level, lv = s->a.grades[p].level;
            if (!open[p] || !(k->good ? lv < was : lv > was)) continue;
            open[p] = false;
            left--;
            grading_forecast_program_t *fp = &programs[p];
            if (fp->nthresholds < GRADING_FORECAST_MAX_KINDS)
                fp->thresholds[fp->nthresholds++] = (grading_forecast_threshold_t){ki, n, lv};
        }
    }
    return GRADING_OK;
}

grading_err_t grading_forecast_thresholds(const grading_rules_t *r, const grading_day_counters_t *sums,
                                          const grading_history_t *hist, int32_t today,
                                          const grading_assessment_t *now, uint32_t bound,
                                          grading_forecast_program_t *programs, grading_error_t *e)
{
    for (size_t p = 0; p < r->nprograms; p++) programs[p].nthresholds = 0;
    search_t *s = malloc(sizeof *s);
    if (!s) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    uint64_t read = metrics_mask(r);
    grading_err_t err = GRADING_OK;
    for (size_t ki = 0; ki < sizeof kinds / sizeof kinds[0] && !err; ki++)
        if (kind_mask(&kinds[ki]) & read)
            err = search_kind(r, sums, hist, today, now, bound, ki, s, programs, e);
    free(s);
    return err;
}
