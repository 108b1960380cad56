/* Evaluating compiled rules for one seller: metrics -> scores -> grades ->
 * penalties -> benefits, and the advice search.
 *
 * Metrics and scores are evaluated lazily, each at most once, through the
 * expression lookup callback, so declaration order does not matter (the
 * loader has refused cycles, which bounds the recursion by the number of
 * metrics plus scores). Nothing here allocates. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "grading/rules.h"

typedef struct {
    const grading_rules_t *r;
    const grading_day_counters_t *sums;
    const grading_history_t *hist;
    grading_assessment_t *a;
    bool metric_done[GRADING_RULES_MAX_METRICS];
    bool score_done[GRADING_RULES_MAX_SCORES];
    int window;          /* the window counters are read from */
    size_t program;      /* whose `score` is `score` */
    grading_error_t *e;
} eval_t;

static grading_err_t lookup(void *vctx, uint32_t id, grading_expr_value_t *out);

static grading_err_t eval_num(eval_t *x, const grading_expr_t *ex, grading_expr_value_t *v)
{
    return grading_expr_eval(ex, lookup, x, v, x->e);
}

static grading_err_t eval_truth(eval_t *x, const grading_expr_t *ex, grading_expr_truth_t *t)
{
    return grading_expr_eval_condition(ex, lookup, x, t, x->e);
}

static grading_err_t eval_metric(eval_t *x, size_t i)
{
    const grading_metric_def_t *m = &x->r->metrics[i];
    grading_metric_val_t *mv = &x->a->metrics[i];
    grading_err_t err = GRADING_OK;
    int saved = x->window;
    x->window = m->window;
    memset(mv, 0, sizeof *mv);
    grading_expr_value_t v, den, vol;
    if (m->value) {
        if ((err = eval_num(x, m->value, &v))) goto out;
        mv->available = v.available;
        mv->value = mv->numerator = v.available ? v.number : 0;
        mv->denominator = 1;
    } else {
        if ((err = eval_num(x, m->numerator, &v)) || (err = eval_num(x, m->denominator, &den)))
            goto out;
        mv->numerator = v.available ? v.number : 0;
        mv->denominator = den.available ? den.number : 0;
        mv->available = v.available && den.available && den.number != 0;
        mv->value = mv->available ? v.number / den.number : 0;
    }
    if (m->volume) {
        if ((err = eval_num(x, m->volume, &vol))) goto out;
        if (!vol.available || vol.number < m->min_volume) mv->available = false;
    }
    if (!isfinite(mv->value)) mv->available = false;
out:
    x->window = saved;
    x->metric_done[i] = true;
    return err;
}

static grading_err_t eval_score(eval_t *x, size_t i)
{
    const grading_score_def_t *s = &x->r->scores[i];
    grading_expr_value_t *out = &x->a->scores[i];
    *out = grading_expr_unavailable(s->type);
    x->score_done[i] = true;
    for (size_t b = 0; b < s->nbands; b++) {
        grading_expr_truth_t t = GRADING_EXPR_TRUE;
        if (s->bands[b].when) {
            grading_err_t err = eval_truth(x, s->bands[b].when, &t);
            if (err) return err;
        }
        if (t == GRADING_EXPR_TRUE) {
            *out = s->bands[b].value;
            return GRADING_OK;
        }
        if (t == GRADING_EXPR_UNKNOWN) break;
    }
    if (s->has_insufficient) *out = s->insufficient;
    return GRADING_OK;
}

static grading_err_t lookup(void *vctx, uint32_t id, grading_expr_value_t *out)
{
    eval_t *x = vctx;
    size_t i = GRADING_SYM_INDEX(id);
    const grading_assessment_t *a = x->a;
    grading_err_t err;
    switch (GRADING_SYM_KIND(id)) {
    case GRADING_SYM_COUNTER:
        *out = grading_expr_number((double)x->sums[x->window].c[i]);
        return GRADING_OK;
    case GRADING_SYM_CUSTOM:
        *out = grading_expr_number(grading_day_counters_custom(&x->sums[x->window], x->r->custom[i]));
        return GRADING_OK;
    case GRADING_SYM_METRIC:
        if (!x->metric_done[i] && (err = eval_metric(x, i))) return err;
        *out = a->metrics[i].available ? grading_expr_number(a->metrics[i].value)
                                       : grading_expr_unavailable(GRADING_EXPR_NUMBER);
        return GRADING_OK;
    case GRADING_SYM_SCORE:
        if (!x->score_done[i] && (err = eval_score(x, i))) return err;
        *out = a->scores[i];
        return GRADING_OK;
    case GRADING_SYM_SELF_SCORE:
        i = x->program;
        /* fallthrough */
    case GRADING_SYM_PROG_SCORE:
        *out = a->grades[i].has_score ? grading_expr_number(a->grades[i].score)
                                      : grading_expr_unavailable(GRADING_EXPR_NUMBER);
        return GRADING_OK;
    case GRADING_SYM_PROG_LEVEL:
        *out = grading_expr_number(a->grades[i].level);
        return GRADING_OK;
    case GRADING_SYM_STAGE:
        *out = grading_expr_number(a->ladders[i].stage);
        return GRADING_OK;
    case GRADING_SYM_PUBLISHED:
        *out = x->hist && x->hist->published[i] > 0 ? grading_expr_number(x->hist->published[i])
                                                    : grading_expr_unavailable(GRADING_EXPR_NUMBER);
        return GRADING_OK;
    case GRADING_SYM_HISTORY:
        *out = x->hist && x->hist->has[i] ? grading_expr_number(x->hist->value[i])
               : x->r->history[i].kind == GRADING_HISTORY_STRIKES ? grading_expr_number(0)
                                                                  : grading_expr_unavailable(GRADING_EXPR_NUMBER);
        return GRADING_OK;
    case GRADING_SYM_ORDERS:
        /* a closed month's points are what its close published: events
         * that arrive later do not rewrite a completed month */
        if (i == GRADING_OF_POINTS_LAST_MONTH && x->hist) {
            *out = grading_expr_number(grading_history_last_month_points(x->hist));
            return GRADING_OK;
        }
        *out = x->hist && x->hist->orders ? grading_expr_number(x->hist->orders->value[i])
                                          : grading_expr_number(0);
        return GRADING_OK;
    case GRADING_SYM_SUSPENDED: *out = grading_expr_bool(a->suspended); return GRADING_OK;
    case GRADING_SYM_HELD: *out = grading_expr_bool(a->withdrawals_held); return GRADING_OK;
    }
    return grading_error_set(x->e, GRADING_EINVAL, "", "unknown symbol id %u", (unsigned)id);
}

static void add_reason(grading_grade_t *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_reason(grading_grade_t *g, const char *fmt, ...)
{
    if (g->nreasons >= GRADING_RULES_MAX_REASONS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->reasons[g->nreasons++], GRADING_RULES_REASON_LEN, fmt, ap);
    va_end(ap);
}

const char *grading_rules_label(const grading_program_def_t *p, int32_t level)
{
    for (size_t i = 0; i < p->nlevels; i++)
        if (p->levels[i] == level) return p->labels[i];
    return "";
}

static grading_err_t eval_program(eval_t *x, size_t pi)
{
    const grading_program_def_t *p = &x->r->programs[pi];
    grading_grade_t *g = &x->a->grades[pi];
    grading_err_t err;
    memset(g, 0, sizeof *g);
    x->program = pi;
    if (p->score) {
        grading_expr_value_t v;
        if ((err = eval_num(x, p->score, &v))) return err;
        g->has_score = v.available;
        g->score = v.available ? v.number : 0;
    }
    g->level = p->otherwise;
    bool decided = false;
    for (size_t k = 0; k < p->nrules && !decided; k++) {
        grading_expr_truth_t t;
        if ((err = eval_truth(x, p->rules[k].when, &t))) return err;
        if (t == GRADING_EXPR_TRUE) {
            g->level = p->rules[k].level;
            add_reason(g, "level %d: %s", p->rules[k].level, p->rules[k].text);
            decided = true;
        } else if (t == GRADING_EXPR_UNKNOWN) {
            g->level = p->new_seller;
            g->new_seller = true;
            add_reason(g, "not enough data to judge level %d (%s): new-seller level %d",
                       p->rules[k].level, p->rules[k].text, p->new_seller);
            decided = true;
        }
    }
    if (!decided) add_reason(g, "no level rule met: level %d", p->otherwise);
    for (size_t k = 0; k < p->ncaps; k++) {
        if (g->level >= p->caps[k].best) continue;
        grading_expr_truth_t t;
        if ((err = eval_truth(x, p->caps[k].unless, &t))) return err;
        if (t != GRADING_EXPR_TRUE) {
            g->level = p->caps[k].best;
            add_reason(g, "capped at level %d: not (%s)", p->caps[k].best, p->caps[k].text);
        }
    }
    for (size_t k = 0; k < p->noverrides; k++) {
        grading_expr_truth_t t;
        if ((err = eval_truth(x, p->overrides[k].when, &t))) return err;
        if (t == GRADING_EXPR_TRUE) {
            g->level = p->overrides[k].level;
            add_reason(g, "override to level %d: %s", p->overrides[k].level, p->overrides[k].text);
            break;
        }
    }
    g->label = grading_rules_label(p, g->level);
    return GRADING_OK;
}

static grading_err_t eval_ladders(eval_t *x)
{
    const grading_rules_t *r = x->r;
    grading_assessment_t *a = x->a;
    for (size_t l = 0; l < r->nladders; l++) {
        const grading_ladder_def_t *ld = &r->ladders[l];
        a->ladders[l].stage = 0;
        a->ladders[l].def = NULL;
        a->ladders[l].held = 0;
        /* every condition, for the stage runs of stages that last N days */
        for (size_t k = 0; k < ld->nstages; k++) {
            grading_expr_truth_t t;
            grading_err_t err = eval_truth(x, ld->stages[k].when, &t);
            if (err) return err;
            if (t == GRADING_EXPR_TRUE) a->ladders[l].held |= (uint8_t)(1u << k);
        }
        uint8_t lapsed = x->hist ? x->hist->lapsed[l] : 0;
        for (size_t k = ld->nstages; k-- > 0;) {
            /* the highest true stage that has not lapsed applies */
            if (!(a->ladders[l].held & ~lapsed & (1u << k))) continue;
            a->ladders[l].stage = ld->stages[k].stage;
            a->ladders[l].def = &ld->stages[k];
            for (size_t q = 0; q < ld->stages[k].nrestrictions; q++) {
                grading_restriction_kind_t kind = ld->stages[k].restrictions[q].kind;
                if (kind == GRADING_R_SALES_SUSPENDED || kind == GRADING_R_CONTRACT_TERMINATION)
                    a->suspended = true;
                if (kind == GRADING_R_WITHDRAWALS_HELD) a->withdrawals_held = true;
            }
            break;
        }
    }
    return GRADING_OK;
}

static grading_err_t eval_benefits(eval_t *x)
{
    const grading_rules_t *r = x->r;
    grading_assessment_t *a = x->a;
    grading_err_t err;
    grading_expr_value_t v;
    a->boost = r->neutral_boost;
    if (r->boost) {
        if ((err = eval_num(x, r->boost, &v))) return err;
        if (v.available) a->boost = v.number < 0 ? 0 : v.number;
    }
    if (a->suspended) a->boost = 0;
    for (size_t i = 0; i < r->ngrants; i++) {
        grading_expr_truth_t t;
        if ((err = eval_truth(x, r->grants[i].when, &t))) return err;
        a->granted[i] = t == GRADING_EXPR_TRUE && !a->suspended;
    }
    a->tier = -1;
    for (size_t i = 0; i < r->ntiers && a->tier < 0; i++) {
        grading_expr_truth_t t = GRADING_EXPR_TRUE;
        if (r->tiers[i].when && (err = eval_truth(x, r->tiers[i].when, &t))) return err;
        if (t == GRADING_EXPR_TRUE) a->tier = (int)i;
    }
    a->convertible_points = 0;
    if (r->convertible_points) {
        if ((err = eval_num(x, r->convertible_points, &v))) return err;
        if (v.available && v.number > 0) a->convertible_points = v.number;
    }
    return GRADING_OK;
}

grading_err_t grading_rules_assess(const grading_rules_t *r, const grading_day_counters_t *sums,
                                   grading_assessment_t *out, grading_error_t *e)
{
    return grading_rules_assess_with(r, sums, NULL, out, e);
}

grading_err_t grading_rules_assess_with(const grading_rules_t *r, const grading_day_counters_t *sums,
                                        const grading_history_t *hist, grading_assessment_t *out,
                                        grading_error_t *e)
{
    eval_t x = {.r = r, .sums = sums, .hist = hist, .a = out, .window = -1, .e = e};
    grading_err_t err;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < r->nmetrics; i++)
        if (!x.metric_done[i] && (err = eval_metric(&x, i))) return err;
    for (size_t i = 0; i < r->nscores; i++)
        if (!x.score_done[i] && (err = eval_score(&x, i))) return err;
    for (size_t i = 0; i < r->nprograms; i++)
        if ((err = eval_program(&x, i))) return err;
    if ((err = eval_ladders(&x))) return err;
    return eval_benefits(&x);
}

/* ---- advice ---- */

grading_err_t grading_rules_level_with(const grading_rules_t *r, size_t p, const grading_assessment_t *base,
                                       const grading_history_t *hist, size_t m, const grading_metric_val_t *mv,
                                       bool rederive, grading_assessment_t *scratch, int32_t *level)
{
    eval_t x = {.r = r, .hist = hist, .a = scratch, .window = -1};
    grading_error_t e;
    x.e = &e;
    memcpy(scratch->metrics, base->metrics, sizeof scratch->metrics);
    memcpy(scratch->grades, base->grades, sizeof scratch->grades);
    /* a metric without a window reads only other metrics: recomputed
     * from them when asked (no counters are needed) */
    for (size_t i = 0; i < r->nmetrics; i++) x.metric_done[i] = i == m || !rederive || r->metrics[i].window >= 0;
    scratch->metrics[m] = *mv;
    grading_err_t err = eval_program(&x, p);
    *level = scratch->grades[p].level;
    return err;
}

/* The level of programme p when metric m is `value` (available). */
static int32_t level_with(const grading_rules_t *r, size_t p, const grading_assessment_t *base,
                          grading_assessment_t *scratch, size_t m, double value, bool *ok)
{
    grading_metric_val_t mv = base->metrics[m];
    mv.available = true;
    mv.value = value;
    int32_t level;
    *ok = grading_rules_level_with(r, p, base, NULL, m, &mv, false, scratch, &level) == GRADING_OK;
    return level;
}

size_t grading_rules_advise(const grading_rules_t *r, size_t p, const grading_assessment_t *a,
                            grading_advice_t *out, size_t cap)
{
    static _Thread_local grading_assessment_t scratch;
    const grading_program_def_t *pd = &r->programs[p];
    int32_t now = a->grades[p].level;
    size_t n = 0;
    if (pd->nlevels == 0 || now <= pd->levels[0]) return 0;
    for (size_t m = 0; m < r->nmetrics && n < cap; m++) {
        const grading_metric_def_t *md = &r->metrics[m];
        if (!a->metrics[m].available) continue;
        double cur = a->metrics[m].value;
        bool found = false;
        double best = 0;
        int32_t reaches = now;
        for (int dir = -1; dir <= 1; dir += 2) {
            if (md->better && dir != md->better) continue;
            double bound = dir > 0 ? md->hi : md->lo;
            if (dir > 0 ? bound <= cur : bound >= cur) continue;
            bool ok;
            int32_t lv = level_with(r, p, a, &scratch, m, bound, &ok);
            if (!ok || lv >= now) continue;
            /* bisect for the value closest to cur that still improves */
            double good = bound, bad = cur;
            for (int it = 0; it < 100; it++) {
                double mid = bad + (good - bad) / 2;
                if (mid == bad || mid == good) break;
                int32_t l = level_with(r, p, a, &scratch, m, mid, &ok);
                if (ok && l < now) good = mid;
                else bad = mid;
            }
            int32_t l = level_with(r, p, a, &scratch, m, good, &ok);
            if (!found || fabs(good - cur) < fabs(best - cur)) {
                found = true;
                best = good;
                reaches = l;
            }
        }
        if (!found) continue;
        out[n].metric = m;
        out[n].current = cur;
        out[n].target = best;
        out[n].reaches = reaches;
        n++;
    }
    return n;
}
