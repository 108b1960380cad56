/* Reading a seller's windows from the store and evaluating the rules. */
#include "grading/assess.h"

#include <stdlib.h>
#include <string.h>

grading_assess_t *grading_assess_new(void)
{
    return calloc(1, sizeof(grading_assess_t));
}

void grading_assess_free(grading_assess_t *x)
{
    free(x);
}

typedef struct {
    const grading_rules_t *r;
    grading_assess_t *x;
} scan_t;

static grading_err_t add_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    scan_t *s = ctx;
    return grading_rules_add_day(s->r, s->x->today, day, d, s->x->sums);
}

grading_err_t grading_assess_seller(grading_txn_t *txn, const grading_marketplace_t *mp,
                                    const char *seller, int64_t as_of_ms, grading_assess_t *x,
                                    grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    x->as_of_ms = as_of_ms;
    x->today = grading_tz_day(&mp->tz, as_of_ms);
    for (size_t w = 0; w < r->nwindows; w++) grading_day_counters_init(&x->sums[w]);
    int32_t first, last;
    grading_rules_span(r, x->today, &first, &last);
    scan_t s = {r, x};
    grading_err_t err = r->nwindows
                            ? grading_store_days_foreach(txn, mp->name, seller, first, last, add_day, &s)
                            : GRADING_OK;
    if (err) return grading_error_set(e, err, "seller_id", "cannot read the seller's counters");
    return grading_rules_assess(r, x->sums, &x->a, e);
}

grading_err_t grading_assess_derive(grading_txn_t *txn, const grading_policy_t *p,
                                    const char *mp_name, const char *seller, int64_t now_ms)
{
    const grading_marketplace_t *mp = grading_policy_marketplace(p, mp_name);
    if (!mp) return GRADING_OK;   /* a marketplace the new policy dropped */
    grading_assess_t *x = grading_assess_new();
    if (!x) return GRADING_ENOMEM;
    grading_error_t e;
    grading_err_t err = grading_assess_seller(txn, mp, seller, now_ms, x, &e);
    if (!err) {
        grading_seller_state_t st = {.boost = x->a.boost,
                                     .suspended = x->a.suspended,
                                     .withdrawals_held = x->a.withdrawals_held,
                                     .computed_ms = now_ms};
        strncpy(st.policy_version, grading_policy_version(p), GRADING_SELLER_VERSION_LEN);
        err = grading_store_seller_put(txn, mp_name, seller, &st);
    }
    grading_assess_free(x);
    return err;
}
