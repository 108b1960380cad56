/* What-if (whatif.h): pages of GRADING_WHATIF_PAGE sellers, each page in
 * one read transaction of the caller's own reader (so map growth and the
 * writer never wait on a long snapshot), every seller assessed under both
 * policies. A domain operation like close.c, beside it until the grade
 * layer exists. */
#include "grading/whatif.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"

#define BOOST_EPSILON 1e-9   /* boosts are computed, not typed: tell a change from rounding */

/* Index of level in m (added in order when absent). */
static int level_index(grading_whatif_matrix_t *m, int32_t level)
{
    for (uint32_t i = 0; i < m->nlevels; i++)
        if (m->levels[i] == level) return (int)i;
    if (m->nlevels >= sizeof m->levels / sizeof m->levels[0]) return -1;
    m->levels[m->nlevels] = level;
    return (int)m->nlevels++;
}

/* Sorts m's levels ascending, moving the counts with them. */
static void matrix_sort(grading_whatif_matrix_t *m)
{
    uint32_t n = m->nlevels, order[2 * GRADING_RULES_MAX_LEVELS + 1];
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && m->levels[order[j]] < m->levels[order[j - 1]]; j--) {
            uint32_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    grading_whatif_matrix_t *c = malloc(sizeof *c);
    if (!c) return;   /* unsorted but right */
    *c = *m;
    for (uint32_t i = 0; i < n; i++) {
        m->levels[i] = c->levels[order[i]];
        for (uint32_t j = 0; j < n; j++) m->counts[i][j] = c->counts[order[i]][order[j]];
    }
    free(c);
}

static void note_id(grading_whatif_set_t *s, const char *id, uint32_t max_ids)
{
    if (s->nids < max_ids) snprintf(s->ids[s->nids++], sizeof s->ids[0], "%s", id);
    s->count++;
}

static int64_t granted_total(const grading_rules_t *r, const grading_assessment_t *a)
{
    int64_t sum = 0;
    for (size_t g = 0; g < r->ngrants; g++)
        if (a->granted[g]) sum += r->grants[g].amount;
    return sum;
}

/* Whether the granted programmes (by name) differ. */
static bool grants_differ(const grading_rules_t *r1, const grading_assessment_t *a1, const grading_rules_t *r2,
                          const grading_assessment_t *a2)
{
    for (int side = 0; side < 2; side++) {
        const grading_rules_t *ra = side ? r2 : r1, *rb = side ? r1 : r2;
        const grading_assessment_t *aa = side ? a2 : a1, *ab = side ? a1 : a2;
        for (size_t g = 0; g < ra->ngrants; g++) {
            if (!aa->granted[g]) continue;
            bool found = false;
            for (size_t h = 0; h < rb->ngrants && !found; h++)
                found = ab->granted[h] && strcmp(ra->grants[g].program, rb->grants[h].program) == 0 &&
                        ra->grants[g].amount == rb->grants[h].amount;
            if (!found) return true;
        }
    }
    return false;
}

static grading_err_t alloc_set(grading_whatif_set_t *s, uint32_t max_ids)
{
    s->ids = calloc(max_ids ? max_ids : 1, sizeof *s->ids);
    return s->ids ? GRADING_OK : GRADING_ENOMEM;
}

void grading_whatif_result_destroy(grading_whatif_result_t *r)
{
    if (!r) return;
    free(r->boost.ids);
    free(r->suspension.ids);
    free(r->ad_credit.ids);
    memset(r, 0, sizeof *r);
}

/* One seller under both policies, into the result. */
static grading_err_t one_seller(grading_txn_t *txn, const grading_marketplace_t *m1, const grading_marketplace_t *m2,
                                const char *seller, int64_t as_of_ms, uint32_t max_ids, const int *prog_of,
                                grading_assess_t *x1, grading_assess_t *x2, double *boost_sum1, double *boost_sum2,
                                grading_whatif_result_t *out, grading_error_t *e)
{
    grading_err_t err = grading_assess_seller(txn, m1, seller, as_of_ms, x1, e);
    if (!err) err = grading_assess_seller(txn, m2, seller, as_of_ms, x2, e);
    if (err) return err;
    const grading_assessment_t *a1 = &x1->a, *a2 = &x2->a;
    for (uint32_t p = 0; p < out->nprograms; p++) {
        grading_whatif_matrix_t *mx = &out->programs[p];
        int32_t from = prog_of[p] >= 0 ? a1->grades[prog_of[p]].level : 0;
        int i = level_index(mx, from), j = level_index(mx, a2->grades[p].level);
        if (i >= 0 && j >= 0) mx->counts[i][j]++;
    }
    if (fabs(a1->boost - a2->boost) > BOOST_EPSILON) note_id(&out->boost, seller, max_ids);
    if (a1->suspended != a2->suspended) note_id(&out->suspension, seller, max_ids);
    if (grants_differ(m1->rules, a1, m2->rules, a2)) note_id(&out->ad_credit, seller, max_ids);
    out->ad_credit_before += granted_total(m1->rules, a1);
    out->ad_credit_after += granted_total(m2->rules, a2);
    *boost_sum1 += a1->boost;
    *boost_sum2 += a2->boost;
    out->sellers++;
    return GRADING_OK;
}

grading_err_t grading_whatif_run(grading_store_t *st, const grading_policy_t *cur, const grading_policy_t *cand,
                                 const char *mp_name, int64_t as_of_ms, uint32_t max_ids, bool (*stop)(void *ctx),
                                 void *stop_ctx, grading_whatif_result_t *out, grading_error_t *e)
{
    memset(out, 0, sizeof *out);
    const grading_marketplace_t *m1 = grading_policy_marketplace(cur, mp_name);
    const grading_marketplace_t *m2 = grading_policy_marketplace(cand, mp_name);
    if (!m1) return grading_error_set(e, GRADING_ENOTFOUND, "marketplace", "unknown marketplace \"%s\"", mp_name);
    if (!m2 || strcmp(m1->name, m2->name) != 0)
        return grading_error_set(e, GRADING_ENOTFOUND, "marketplace", "the candidate policy has no marketplace \"%s\"",
                                 m1->name);
    if (max_ids > GRADING_WHATIF_MAX_IDS)
        return grading_error_set(e, GRADING_EINVAL, "sample_ids", "at most %d, got %u", GRADING_WHATIF_MAX_IDS,
                                 max_ids);
    grading_err_t err = GRADING_ENOMEM;
    grading_store_reader_t *reader = NULL;
    grading_assess_t *x1 = grading_assess_new(), *x2 = grading_assess_new();
    char(*ids)[GRADING_MAX_ID_LEN + 1] = calloc(GRADING_WHATIF_PAGE, sizeof *ids);
    char after[GRADING_MAX_ID_LEN + 1] = "";
    if (!x1 || !x2 || !ids || alloc_set(&out->boost, max_ids) || alloc_set(&out->suspension, max_ids) ||
        alloc_set(&out->ad_credit, max_ids)) {
        grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    /* the candidate's programmes, each matched by name to the current one */
    int prog_of[GRADING_RULES_MAX_PROGRAMS];
    out->nprograms = (uint32_t)m2->rules->nprograms;
    for (uint32_t p = 0; p < out->nprograms; p++) {
        const char *name = m2->rules->programs[p].name;
        snprintf(out->programs[p].program, sizeof out->programs[p].program, "%s", name);
        prog_of[p] = -1;
        for (size_t q = 0; q < m1->rules->nprograms; q++)
            if (strcmp(m1->rules->programs[q].name, name) == 0) prog_of[p] = (int)q;
        out->programs[p].in_current = prog_of[p] >= 0;
    }
    if ((err = grading_store_reader_new(st, &reader))) {
        grading_error_set(e, err, "", "cannot open a store reader");
        goto fail;
    }
    double sum1 = 0, sum2 = 0;
    for (;;) {
        if (stop && stop(stop_ctx)) {
            err = grading_error_set(e, GRADING_ESHUTDOWN, "", "server is shutting down");
            goto fail;
        }
        grading_txn_t *txn;
        size_t n = 0;
        if ((err = grading_store_read_begin(reader, &txn))) {
            grading_error_set(e, err, "", "cannot read the store");
            goto fail;
        }
        err = grading_store_sellers_page(txn, m1->name, after, ids, GRADING_WHATIF_PAGE, &n);
        for (size_t i = 0; !err && i < n; i++)
            err = one_seller(txn, m1, m2, ids[i], as_of_ms, max_ids, prog_of, x1, x2, &sum1, &sum2, out, e);
        grading_store_read_end(reader);
        if (err) {
            if (!e->code) grading_error_set(e, err, "", "cannot read the sellers");
            goto fail;
        }
        if (n) snprintf(after, sizeof after, "%s", ids[n - 1]);
        if (n < GRADING_WHATIF_PAGE) break;
    }
    for (uint32_t p = 0; p < out->nprograms; p++) matrix_sort(&out->programs[p]);
    out->mean_boost_before = out->sellers ? sum1 / (double)out->sellers : 0;
    out->mean_boost_after = out->sellers ? sum2 / (double)out->sellers : 0;
    err = GRADING_OK;
    goto done;
fail:
    grading_whatif_result_destroy(out);
done:
    if (reader) grading_store_reader_free(reader);
    grading_assess_free(x1);
    grading_assess_free(x2);
    free(ids);
    return err;
}
