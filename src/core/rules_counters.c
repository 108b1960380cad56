/* Which base counters (and custom counters, and windows) a metric reads,
 * through the other metrics it names (rules.h). */
#include <string.h>

#include "grading/rules.h"

_Static_assert(GRADING_C_COUNT <= 64, "a counter mask is a uint64_t");

/* Marks what one expression names; metrics not yet seen go on the stack. */
static void note_names(const grading_expr_t *ex, grading_metric_reads_t *out, bool *seen, size_t *stack,
                       size_t *top)
{
    if (!ex) return;
    size_t n = 0;
    const grading_expr_ref_t *refs = grading_expr_names(ex, &n);
    for (size_t i = 0; i < n; i++) {
        size_t idx = GRADING_SYM_INDEX(refs[i].id);
        switch (GRADING_SYM_KIND(refs[i].id)) {
        case GRADING_SYM_COUNTER:
            out->counters |= UINT64_C(1) << idx;
            break;
        case GRADING_SYM_CUSTOM:
            if (idx < GRADING_RULES_MAX_METRICS) out->custom[idx] = true;
            break;
        case GRADING_SYM_METRIC:
            if (idx < GRADING_RULES_MAX_METRICS && !seen[idx]) {
                seen[idx] = true;
                stack[(*top)++] = idx;
            }
            break;
        default: break;
        }
    }
}

grading_err_t grading_rules_metric_reads(const grading_rules_t *r, const char *metric, grading_metric_reads_t *out)
{
    memset(out, 0, sizeof *out);
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (strcmp(metric, grading_counter_name((grading_counter_t)c)) == 0) {
            out->counters = UINT64_C(1) << c;
            return GRADING_OK;
        }
    /* each metric is pushed once, so the stack never holds more than all */
    bool seen[GRADING_RULES_MAX_METRICS] = {0};
    size_t stack[GRADING_RULES_MAX_METRICS], top = 0;
    for (size_t i = 0; i < r->nmetrics; i++)
        if (strcmp(r->metrics[i].name, metric) == 0) {
            seen[i] = true;
            stack[top++] = i;
            break;
        }
    if (top == 0) return GRADING_ENOTFOUND;
    while (top > 0) {
        const grading_metric_def_t *m = &r->metrics[stack[--top]];
        if (m->window >= 0) out->windows |= UINT32_C(1) << m->window;
        note_names(m->value, out, seen, stack, &top);
        note_names(m->numerator, out, seen, stack, &top);
        note_names(m->denominator, out, seen, stack, &top);
        note_names(m->volume, out, seen, stack, &top);
    }
    return GRADING_OK;
}

grading_err_t grading_rules_metric_counters(const grading_rules_t *r, const char *metric, uint64_t *mask)
{
    grading_metric_reads_t reads;
    grading_err_t err = grading_rules_metric_reads(r, metric, &reads);
    *mask = err ? 0 : reads.counters;
    return err;
}
