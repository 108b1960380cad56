/* Orphans: unpaid orders that hold lifecycle events (order.h).
 *
 * While an order's payment has not been seen, its stages count in no rate
 * (counters.h: one orphans_pending on the day of its first held event) and
 * the `orphans` index keeps it by that time. When the payment arrives the
 * index entry goes and every stage counts at once. An orphan older than the
 * bound (--orphan-max-age) is dropped by the sweep: its record goes, its
 * pending count becomes one orphans_dropped on the day of the drop. Events
 * of a dropped order stay known by id, so their retries are duplicates. */
#include "grading/ingest.h"

#include "grading/counters.h"

grading_err_t grading_ingest_orphan_index(grading_txn_t *txn, const char *mp, const char *seller,
                                          const char *order_id, const grading_order_t *before,
                                          const grading_order_t *after)
{
    bool was = grading_order_is_orphan(before), is = grading_order_is_orphan(after);
    int64_t old_since = was ? grading_order_first_lifecycle_ms(before) : 0;
    int64_t new_since = is ? grading_order_first_lifecycle_ms(after) : 0;
    grading_err_t err = GRADING_OK;
    if (was && old_since != new_since) err = grading_store_orphan_del(txn, old_since, mp, seller, order_id);
    if (!err && is && old_since != new_since) err = grading_store_orphan_put(txn, new_since, mp, seller, order_id);
    return err;
}

static grading_err_t apply_to_day(grading_txn_t *txn, const char *mp, const char *seller, const grading_contrib_t *k)
{
    grading_day_counters_t d;
    bool found;
    grading_err_t err = grading_store_day_get(txn, mp, seller, k->day, &d, &found);
    if (!err) err = grading_day_counters_apply(&d, k);
    if (!err) err = grading_store_day_put(txn, mp, seller, k->day, &d);
    return err;
}

grading_err_t grading_ingest_drop_orphan(grading_txn_t *txn, const grading_orphan_t *x, const grading_tz_t *tz,
                                         int64_t now_ms, bool *dropped)
{
    grading_order_t o;
    bool found;
    *dropped = false;
    grading_err_t err = grading_store_order_get(txn, x->mp, x->seller, x->order_id, &o, &found);
    if (err) return err;
    /* a stale entry (paid since, or an earlier event moved it) only goes */
    if (found && grading_order_is_orphan(&o) && grading_order_first_lifecycle_ms(&o) == x->since_ms) {
        grading_contrib_t ks[GRADING_MAX_CONTRIBS];
        size_t nk = 0;
        if (grading_order_contribs(&o, tz, -1, ks, GRADING_MAX_CONTRIBS - 1, &nk)) return GRADING_EINVAL;
        ks[nk++] = (grading_contrib_t){.day = grading_tz_day(tz, now_ms), .counter = GRADING_C_ORPHANS_DROPPED,
                                       .delta = 1};
        for (size_t i = 0; i < nk; i++)
            if ((err = apply_to_day(txn, x->mp, x->seller, &ks[i]))) return err;
        if ((err = grading_store_order_del(txn, x->mp, x->seller, x->order_id))) return err;
        *dropped = true;
    }
    return grading_store_orphan_del(txn, x->since_ms, x->mp, x->seller, x->order_id);
}
