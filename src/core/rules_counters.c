/* Which base counters a metric reads (rules.h): the names of its
 * expressions, followed through the metrics they name. */
#include <string.h>

#include "grading/rules.h"

_Static_assert(GRADING_C_COUNT <= 64, "counter masks are uint64_t");

static void expr_counters(const grading_rules_t *r, const grading_expr_t *ex, bool *seen, uint64_t *mask);

/* Metric i's counters into *mask; seen[] stops a metric read twice (the
 * loader refused cycles, so the depth is at most nmetrics). */
static void metric_counters(const grading_rules_t *r, size_t i, bool *seen, uint64_t *mask)
{
    if (seen[i]) return;
    seen[i] = true;
    const grading_metric_def_t *m = &r->metrics[i];
    expr_counters(r, m->value, seen, mask);
    expr_counters(r, m->numerator, seen, mask);
    expr_counters(r, m->denominator, seen, mask);
    expr_counters(r, m->volume, seen, mask);
}

static void expr_counters(const grading_rules_t *r, const grading_expr_t *ex, bool *seen, uint64_t *mask)
{
    if (!ex) return;
    size_t n = 0;
    const grading_expr_ref_t *refs = grading_expr_names(ex, &n);
    for (size_t k = 0; k < n; k++) {
        size_t idx = GRADING_SYM_INDEX(refs[k].id);
        switch (GRADING_SYM_KIND(refs[k].id)) {
        case GRADING_SYM_COUNTER:
            if (idx < GRADING_C_COUNT) *mask |= UINT64_C(1) << idx;
            break;
        case GRADING_SYM_METRIC:
            if (idx < r->nmetrics) metric_counters(r, idx, seen, mask);
            break;
        default:
            break;   /* custom counters and the rest are no base counter */
        }
    }
}

grading_err_t grading_rules_metric_counters(const grading_rules_t *r, const char *metric, uint64_t *mask)
{
    *mask = 0;
    for (size_t i = 0; i < r->nmetrics; i++)
        if (strcmp(r->metrics[i].name, metric) == 0) {
            bool seen[GRADING_RULES_MAX_METRICS] = {false};
            metric_counters(r, i, seen, mask);
            return GRADING_OK;
        }
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (strcmp(grading_counter_name((grading_counter_t)c), metric) == 0) {
            *mask = UINT64_C(1) << c;
            return GRADING_OK;
        }
    return GRADING_ENOTFOUND;
}
