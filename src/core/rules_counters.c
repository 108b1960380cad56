/* Which base counters a policy metric reads (rules.h). Appeals and
 * exemptions turn "exclude from late_shipment_rate" into a counter mask;
 * evidence lists the events behind the same counters. */
#include <string.h>

#include "grading/rules.h"

static grading_err_t metric_mask(const grading_rules_t *r, size_t m, uint8_t *seen, uint64_t *mask);

static void expr_mask(const grading_rules_t *r, const grading_expr_t *e, uint8_t *seen, uint64_t *mask)
{
    if (!e) return;
    size_t n = 0;
    const grading_expr_ref_t *refs = grading_expr_names(e, &n);
    for (size_t i = 0; i < n; i++) {
        size_t idx = GRADING_SYM_INDEX(refs[i].id);
        switch (GRADING_SYM_KIND(refs[i].id)) {
        case GRADING_SYM_COUNTER:
            if (idx < GRADING_C_COUNT) *mask |= UINT64_C(1) << idx;
            break;
        case GRADING_SYM_METRIC:
            if (idx < r->nmetrics) (void)metric_mask(r, idx, seen, mask);
            break;
        default:   /* custom counters are not in the mask */
            break;
        }
    }
}

/* seen: metrics already walked (cycles are load errors; this only bounds) */
static grading_err_t metric_mask(const grading_rules_t *r, size_t m, uint8_t *seen, uint64_t *mask)
{
    if (seen[m]) return GRADING_OK;
    seen[m] = 1;
    const grading_metric_def_t *d = &r->metrics[m];
    expr_mask(r, d->value, seen, mask);
    expr_mask(r, d->numerator, seen, mask);
    expr_mask(r, d->denominator, seen, mask);
    expr_mask(r, d->volume, seen, mask);
    return GRADING_OK;
}

grading_err_t grading_rules_metric_counters(const grading_rules_t *r, const char *metric, uint64_t *mask)
{
    if (!r || !metric || !mask) return GRADING_EINVAL;
    for (size_t i = 0; i < r->nmetrics; i++) {
        if (strcmp(r->metrics[i].name, metric) != 0) continue;
        uint8_t seen[GRADING_RULES_MAX_METRICS] = {0};
        *mask = 0;
        return metric_mask(r, i, seen, mask);
    }
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (strcmp(metric, grading_counter_name((grading_counter_t)c)) == 0) {
            *mask = UINT64_C(1) << c;
            return GRADING_OK;
        }
    return GRADING_ENOTFOUND;
}
