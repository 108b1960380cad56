/* One seller's part of a close (close.h): what ClosePeriod publishes and
 * what an appeal with appeals.reopen_closed publishes again. */
#include "grading/close.h"

#include <stdio.h>

#include "grading/changes.h"

grading_err_t grading_close_seller_rec(grading_txn_t *txn, const grading_marketplace_t *mp,
                                       grading_period_kind_t kind, const char *seller, int64_t as_of_ms,
                                       grading_assess_t *x, grading_period_rec_t *rec, grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    /* grades and points only: no stage runs */
    grading_err_t err = grading_assess_once(txn, mp, seller, as_of_ms, x, e);
    if (err) return err;
    rec->n = (uint32_t)r->nprograms;
    /* a month's service points, frozen with it (points.last_month) */
    rec->has_points = kind == GRADING_PERIOD_MONTH && x->hist.orders != NULL && r->points.enabled;
    rec->points = rec->has_points ? x->facts.value[GRADING_OF_POINTS_MONTH] : 0;
    for (size_t q = 0; q < r->nprograms; q++) {
        rec->p[q].level = x->a.grades[q].level;
        rec->p[q].has_score = x->a.grades[q].has_score;
        rec->p[q].new_seller = x->a.grades[q].new_seller;
        rec->p[q].score = x->a.grades[q].score;
    }
    return GRADING_OK;
}

grading_err_t grading_close_note_published(grading_txn_t *txn, const grading_policy_t *p, const char *mp,
                                           grading_period_kind_t kind, const char *period, const char *seller,
                                           const grading_period_rec_t *rec, int64_t now_ms)
{
    grading_change_t ch = {.time_ms = now_ms, .kinds = GRADING_CHANGE_PUBLISHED, .period_kind = (int)kind};
    ch.nlevels = rec->n < GRADING_STORE_MAX_PROGRAMS ? rec->n : GRADING_STORE_MAX_PROGRAMS;
    for (uint32_t q = 0; q < ch.nlevels; q++) ch.levels[q] = rec->p[q].level;
    snprintf(ch.mp, sizeof ch.mp, "%s", mp);
    snprintf(ch.seller, sizeof ch.seller, "%s", seller);
    snprintf(ch.period, sizeof ch.period, "%s", period);
    /* the boost and suspension of a published change are the stored ones */
    grading_seller_state_t st;
    bool found;
    grading_err_t err = grading_store_seller_get(txn, mp, seller, &st, &found);
    if (err) return err;
    if (found) {
        ch.boost = st.boost;
        ch.suspended = st.suspended;
    } else {   /* never derived: what an unknown seller gets */
        const grading_marketplace_t *m = grading_policy_marketplace(p, mp);
        ch.boost = m ? m->rules->neutral_boost : 1.0;
    }
    return grading_store_change_append(txn, &ch);
}
