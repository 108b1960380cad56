/* Stages that last N days (`lasts: Nd`, assess.h: grading_assess_lasts).
 *
 * Stateless and re-derivable: nothing is stored about when a stage was
 * reached. A stage's run is the consecutive local days up to as_of's on
 * which its condition held (an earlier day judged as of its last
 * millisecond, as a query with that as_of would); the stage applies on the
 * run's first N days, days since .. since+N-1, and lapses on day since+N
 * while the condition still holds (the next lower true stage, if any,
 * applies; the points or rates that caused it stay). When the condition
 * stops, the run ends; when it holds again a new run starts.
 *
 * Finding the run means assessing the seller as of up to N earlier days,
 * with the same assess machinery, and only for a seller whose lasting
 * stage's condition holds now; the walk stops at the first day it did not
 * hold. Penalty conditions cannot read stages (rules.h), so an earlier
 * day's conditions need no runs of their own. */
#include <string.h>

#include "grading/assess.h"

/* The stages of ladder l that last N days and hold now, as bits. */
static uint8_t lasting_held(const grading_rules_t *r, const grading_assess_t *x, size_t l, int32_t *walk)
{
    const grading_ladder_def_t *ld = &r->ladders[l];
    uint8_t bits = 0;
    for (size_t k = 0; k < ld->nstages; k++) {
        if (!ld->stages[k].lasts_days || !(x->a.ladders[l].held & (1u << k))) continue;
        bits |= (uint8_t)(1u << k);
        if (ld->stages[k].lasts_days > *walk) *walk = ld->stages[k].lasts_days;
    }
    return bits;
}

grading_err_t grading_assess_lasts(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                   grading_assess_t *x, grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    uint8_t pending[GRADING_RULES_MAX_LADDERS] = {0};
    int32_t walk = 0;
    bool any_pending = false, any_lapsed = false;
    memset(x->runs, 0, sizeof x->runs);
    for (size_t l = 0; l < r->nladders; l++) {
        pending[l] = lasting_held(r, x, l, &walk);
        for (size_t k = 0; k < r->ladders[l].nstages; k++) x->runs[l][k].known = pending[l] & (1u << k);
        any_pending |= pending[l] != 0;
    }
    if (!any_pending) return GRADING_OK;
    grading_assess_t *day = grading_assess_new();
    if (!day) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    grading_err_t err = GRADING_OK;
    for (int32_t j = 1; j <= walk && any_pending; j++) {
        int32_t d = x->today - j;
        int64_t end_of_day = grading_tz_day_start_ms(&mp->tz, d + 1) - 1;
        if ((err = grading_assess_once(txn, mp, seller, end_of_day, day, e))) goto fail;
        any_pending = false;
        for (size_t l = 0; l < r->nladders; l++) {
            for (size_t k = 0; k < r->ladders[l].nstages; k++) {
                uint8_t bit = (uint8_t)(1u << k);
                if (!(pending[l] & bit)) continue;
                grading_stage_run_t *run = &x->runs[l][k];
                int32_t n = r->ladders[l].stages[k].lasts_days;
                if (!(day->a.ladders[l].held & bit)) {
                    run->since = d + 1;   /* the run began the day after */
                    run->until = run->since + n;
                    pending[l] &= (uint8_t)~bit;
                } else if (j == n) {
                    run->lapsed = true;   /* held on all N days before today */
                    x->hist.lapsed[l] |= bit;
                    any_lapsed = true;
                    pending[l] &= (uint8_t)~bit;
                }
            }
            any_pending |= pending[l] != 0;
        }
    }
    /* the lapsed stages do not apply: the lower true one does, and the
     * benefits read what applies */
    if (any_lapsed) err = grading_rules_assess_with(r, x->sums, &x->hist, &x->a, e);
fail:
    grading_assess_free(day);
    return err;
}

int64_t grading_assess_next_due_ms(const grading_marketplace_t *mp, const grading_assess_t *x)
{
    const grading_rules_t *r = mp->rules;
    int64_t due = x->hist.orders ? x->facts.next_due_ms : 0;
    for (size_t l = 0; l < r->nladders; l++)
        for (size_t k = 0; k < r->ladders[l].nstages; k++) {
            const grading_stage_run_t *run = &x->runs[l][k];
            if (!run->known || run->lapsed) continue;
            int64_t t = grading_tz_day_start_ms(&mp->tz, run->until);
            if (due == 0 || t < due) due = t;
        }
    return due;
}
