/* GetSellerMetrics' reading (seller_metrics.h). */
#include "grading/prune.h"
#include "grading/seller_metrics.h"

#include <stdlib.h>

const grading_window_t grading_seller_metrics_windows[GRADING_SELLER_METRICS_WINDOWS] = {
    {GRADING_WIN_DAYS, 30, "30d"}, {GRADING_WIN_DAYS, 90, "90d"},
    {GRADING_WIN_DAYS, 365, "365d"}, {GRADING_WIN_MONTH, 0, "month"}};
#define NWINDOWS GRADING_SELLER_METRICS_WINDOWS
#define ORPHAN_WINDOW 2   /* "365d": longer than any orphan is held */

static uint32_t orphan_count(int64_t v)
{
    return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* One scan over the longest window, each day added to every window that
 * holds it (every window ends with as_of's day). */
typedef struct {
    grading_day_counters_t *sums;
    int32_t from[NWINDOWS];
} window_sums_t;

static grading_err_t add_to_windows(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    window_sums_t *w = ctx;
    for (size_t i = 0; i < NWINDOWS; i++) {
        if (day < w->from[i]) continue;
        grading_err_t err = grading_day_counters_add(&w->sums[i], d);
        if (err) return err;
    }
    return GRADING_OK;
}

grading_err_t grading_seller_metrics_new(grading_store_reader_t *rd, const grading_marketplace_t *mp,
                                         const char *seller, int64_t as_of_ms, grading_seller_metrics_t **out,
                                         grading_error_t *e)
{
    bool reading = false;
    grading_err_t err;
    grading_seller_metrics_t *m = calloc(1, sizeof *m);
    if (!m || !(m->x = grading_assess_new())) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    m->as_of_ms = as_of_ms;
    int32_t today = grading_tz_day(&mp->tz, as_of_ms);
    grading_txn_t *txn = NULL;
    if ((err = grading_store_read_begin(rd, &txn))) {
        grading_error_set(e, err, "", "cannot read the store");
        goto fail;
    }
    reading = true;
    if ((err = grading_retention_check(txn, mp, as_of_ms, e))) goto fail;
    window_sums_t ws = {.sums = m->sums};
    int32_t earliest = today, last;
    for (size_t w = 0; w < NWINDOWS; w++) {
        grading_day_counters_init(&m->sums[w]);
        grading_window_range(&grading_seller_metrics_windows[w], today, &ws.from[w], &last);
        if (ws.from[w] < earliest) earliest = ws.from[w];
    }
    if ((err = grading_store_days_foreach(txn, mp->name, seller, earliest, today, add_to_windows, &ws))) {
        grading_error_set(e, err, "seller_id", "cannot read the seller's counters");
        goto fail;
    }
    for (size_t w = 0; w < NWINDOWS; w++) grading_day_counters_init(&m->xsums[w]);
    ws.sums = m->xsums;
    if ((err = grading_store_xdays_foreach(txn, mp->name, seller, earliest, today, add_to_windows, &ws))) {
        grading_error_set(e, err, "seller_id", "cannot read the seller's excluded counters");
        goto fail;
    }
    /* the policy's metrics, in the same read transaction; no stage runs
     * (they read earlier days, and metrics do not depend on them) */
    if ((err = grading_assess_once(txn, mp, seller, as_of_ms, m->x, e))) goto fail;
    if ((err = grading_assess_raw_new(txn, mp, seller, m->x, &m->raw, e))) goto fail;
    if ((err = grading_store_excluded_records(txn, mp->name, seller, &m->excluded_records))) {
        grading_error_set(e, err, "seller_id", "cannot read the seller's orders");
        goto fail;
    }
    grading_store_read_end(rd);
    m->pending_orphans = orphan_count(m->sums[ORPHAN_WINDOW].c[GRADING_C_ORPHANS_PENDING]);
    m->dropped_orphans = orphan_count(m->sums[ORPHAN_WINDOW].c[GRADING_C_ORPHANS_DROPPED]);
    *out = m;
    return GRADING_OK;
fail:
    if (reading) grading_store_read_end(rd);
    grading_seller_metrics_free(m);
    return err;
}

void grading_seller_metrics_free(grading_seller_metrics_t *m)
{
    if (!m) return;
    grading_assess_free(m->x);
    grading_assess_free(m->raw);
    free(m);
}
