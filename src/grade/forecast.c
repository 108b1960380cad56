/* The forecast (forecast.h): the seller's day rows read once, for the
 * widest window as of as_of's day (windows only move forward, so that
 * covers every later day too), then each day of the span summed from them
 * in memory and evaluated by the assessment's own tail
 * (grading_assess_finish: closed periods, orders, rules). */
#include "grading/forecast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/prune.h"


typedef struct {
    int32_t day;
    grading_day_counters_t c;
} row_t;

typedef struct {
    row_t *rows;
    size_t n, cap;
} rows_t;

static grading_err_t keep_row(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    rows_t *rs = ctx;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 64;
        row_t *grown = realloc(rs->rows, cap * sizeof *grown);
        if (!grown) return GRADING_ENOMEM;
        rs->rows = grown;
        rs->cap = cap;
    }
    rs->rows[rs->n].day = day;
    rs->rows[rs->n++].c = *d;
    return GRADING_OK;
}

/* The rows in [first, last] to cb, for the per-order facts (assess.h). */
static grading_err_t rows_foreach(void *ctx, int32_t first, int32_t last, grading_store_day_cb cb, void *cb_ctx)
{
    const rows_t *rs = ctx;
    for (size_t i = 0; i < rs->n; i++) {
        if (rs->rows[i].day < first || rs->rows[i].day > last) continue;
        grading_err_t err = cb(cb_ctx, rs->rows[i].day, &rs->rows[i].c);
        if (err) return err;
    }
    return GRADING_OK;
}

/* x assessed as of as_of_ms (local day `day`) from the rows in memory. */
static grading_err_t assess_day(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                const rows_t *rs, int32_t day, int64_t as_of_ms, grading_assess_t *x,
                                grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    x->as_of_ms = as_of_ms;
    x->today = day;
    x->days = rows_foreach;
    x->days_ctx = (void *)rs;
    for (size_t w = 0; w < r->nwindows; w++) grading_day_counters_init(&x->sums[w]);
    int32_t first, last;
    grading_rules_span(r, day, &first, &last);
    for (size_t i = 0; i < rs->n; i++) {
        if (rs->rows[i].day < first) continue;   /* read for the year's review points only */
        grading_err_t err = grading_rules_add_day(r, day, rs->rows[i].day, &rs->rows[i].c, x->sums);
        if (err) return grading_error_set(e, err, "seller_id", "cannot sum the seller's counters");
    }
    return grading_assess_finish(txn, mp, seller, x, e);
}

/* The metric whose change alone, from the day before (prev) to the day
 * (cur), moves programme p from its level before to the new one; -1 when
 * none does alone (a score reading per-order facts, several at once). */
static int cause_metric(const grading_rules_t *r, size_t p, const grading_assessment_t *prev,
                        const grading_assessment_t *cur, const grading_history_t *hist,
                        grading_assessment_t *scratch)
{
    int moved = -1;
    /* windowed metrics first (they name the counters that moved), the
     * metrics derived from them recomputed; then the derived ones alone */
    for (int pass = 0; pass < 2; pass++)
        for (size_t m = 0; m < r->nmetrics; m++) {
            const grading_metric_val_t *a = &prev->metrics[m], *b = &cur->metrics[m];
            if ((r->metrics[m].window >= 0) != (pass == 0)) continue;
            if (a->available == b->available && a->value == b->value) continue;
            int32_t lv;
            if (grading_rules_level_with(r, p, prev, hist, m, b, true, scratch, &lv)) continue;
            if (lv == cur->grades[p].level) return (int)m;
            if (moved < 0 && lv != prev->grades[p].level) moved = (int)m;
        }
    return moved;
}

/* Day `day` (index i of the levels; -1: the rest of as_of's day, not
 * stored) against the one before. */
static void note_changes(const grading_rules_t *r, int32_t day, int i, const grading_assessment_t *prev,
                         const grading_assess_t *x, grading_assessment_t *scratch, grading_forecast_t *f)
{
    for (size_t p = 0; p < r->nprograms; p++) {
        grading_forecast_program_t *fp = &f->programs[p];
        if (i >= 0) fp->levels[i] = x->a.grades[p].level;
        if (fp->change.found || x->a.grades[p].level == prev->grades[p].level) continue;
        grading_forecast_change_t *c = &fp->change;
        c->found = true;
        c->day = day;
        c->from_level = prev->grades[p].level;
        c->level = x->a.grades[p].level;
        c->metric = cause_metric(r, p, prev, &x->a, &x->hist, scratch);
        if (c->metric >= 0) {
            c->before = prev->metrics[c->metric];
            c->after = x->a.metrics[c->metric];
        }
    }
}

/* Evaluates as_of's day and the `days` after it, in txn. */
static grading_err_t forecast_txn(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                  grading_forecast_t *f, grading_assess_t *x, grading_assessment_t *work,
                                  grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    grading_assessment_t *prev = &work[0], *scratch = &work[1];
    grading_seller_state_t st;
    bool found;
    grading_err_t err = grading_retention_check(txn, mp, f->as_of_ms, e);
    if (err) return err;
    if ((err = grading_store_seller_get(txn, mp->name, seller, &st, &found)))
        return grading_error_set(e, err, "seller_id", "cannot read the seller");
    if (!found) return grading_error_set(e, GRADING_ENOTFOUND, "seller_id", "no seller \"%s\" in %s", seller, mp->name);
    rows_t rs = {0};
    int32_t first, last;
    grading_rules_span(r, f->today, &first, &last);
    if (r->points.enabled) {
        /* the review points read the year's days too (assess_orders) */
        grading_order_facts_t *facts = &x->facts;
        grading_order_facts_init(facts, f->today);
        if (facts->year_first < first) first = facts->year_first;
    }
    if ((r->nwindows || r->points.enabled) &&
        (err = grading_store_days_foreach(txn, mp->name, seller, first, f->today, keep_row, &rs))) {
        grading_error_set(e, err, "seller_id", "cannot read the seller's counters");
        goto done;
    }
    if ((err = assess_day(txn, mp, seller, &rs, f->today, f->as_of_ms, x, e))) goto done;
    for (size_t p = 0; p < r->nprograms; p++) f->programs[p].today_level = x->a.grades[p].level;
    /* today's thresholds while x->hist still points at today's order facts */
    if ((err = grading_forecast_thresholds(r, x->sums, &x->hist, f->today, &x->a, GRADING_FORECAST_MAX_EVENTS,
                                           f->programs, e)))
        goto done;
    /* i = -1: the end of as_of's own day (a clock may run out later today) */
    for (int i = -1; i < (int)f->days; i++) {
        int32_t day = f->today + 1 + i;
        memcpy(prev, &x->a, sizeof *prev);
        /* the day's last millisecond: what it has reached by its end */
        int64_t end = grading_tz_day_start_ms(&mp->tz, day + 1) - 1;
        if ((err = assess_day(txn, mp, seller, &rs, day, end, x, e))) goto done;
        note_changes(r, day, i, prev, x, scratch, f);
    }
done:
    free(rs.rows);
    return err;
}

grading_err_t grading_forecast_read(grading_store_reader_t *rd, const grading_marketplace_t *mp, const char *seller,
                                    int64_t as_of_ms, uint32_t days, grading_forecast_t *out, grading_error_t *e)
{
    if (days > GRADING_FORECAST_MAX_DAYS)
        return grading_error_set(e, GRADING_EINVAL, "days", "at most %d, got %u", GRADING_FORECAST_MAX_DAYS, days);
    memset(out, 0, sizeof *out);
    out->as_of_ms = as_of_ms;
    out->today = grading_tz_day(&mp->tz, as_of_ms);
    out->days = days ? days : GRADING_FORECAST_DEFAULT_DAYS;
    out->nprograms = mp->rules->nprograms;
    grading_assess_t *x = grading_assess_new();
    grading_assessment_t *work = malloc(2 * sizeof *work);
    grading_err_t err;
    if (!x || !work) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto done;
    }
    grading_txn_t *txn;
    if ((err = grading_store_read_begin(rd, &txn))) {
        grading_error_set(e, err, "", "cannot read the store");
        goto done;
    }
    err = forecast_txn(txn, mp, seller, out, x, work, e);
    grading_store_read_end(rd);
done:
    free(work);
    grading_assess_free(x);
    return err;
}

/* ---- the sentences ---- */

void grading_forecast_date(int32_t day, char out[11])
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    /* the forecast's days are within 2000..2101 (as_of is checked) */
    if (y < 0 || y > 9999) y = 0;
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%04d-%02u-%02u", (int)y, m, d);
    memcpy(out, tmp, 10);
    out[10] = 0;
}

static void level_name(const grading_program_def_t *pd, int32_t level, char *buf, size_t len)
{
    const char *label = grading_rules_label(pd, level);
    if (label[0]) snprintf(buf, len, "%s (level %d)", label, (int)level);
    else snprintf(buf, len, "level %d", (int)level);
}

/* "3.20%" for a rate, "4.25" otherwise, "not enough data". */
static void metric_value(const grading_metric_def_t *m, const grading_metric_val_t *v, char *buf, size_t len)
{
    if (!v->available) snprintf(buf, len, "not enough data");
    else if (m->numerator) snprintf(buf, len, "%.2f%%", v->value * 100);
    else snprintf(buf, len, "%.2f", v->value);
}

void grading_forecast_change_text(const grading_rules_t *r, size_t p, const grading_forecast_t *f, char *buf,
                                  size_t len)
{
    const grading_program_def_t *pd = &r->programs[p];
    const grading_forecast_change_t *c = &f->programs[p].change;
    char to[96], date[11];
    if (!c->found) {
        level_name(pd, f->programs[p].today_level, to, sizeof to);
        snprintf(buf, len, "holds at %s for the next %u days if no new events arrive", to, f->days);
        return;
    }
    level_name(pd, c->level, to, sizeof to);
    grading_forecast_date(c->day, date);
    const char *way = c->level < c->from_level ? "back to " : "down to ";
    if (c->metric < 0) {
        snprintf(buf, len, "%s%s on %s, as the seller's orders reach their deadlines", way, to, date);
        return;
    }
    const grading_metric_def_t *m = &r->metrics[c->metric];
    char before[32], after[32];
    metric_value(m, &c->before, before, sizeof before);
    metric_value(m, &c->after, after, sizeof after);
    double moved = c->before.numerator - c->after.numerator;
    const char *window = m->window >= 0 ? r->windows[m->window].name : "";
    int n = snprintf(buf, len, "%s%s on %s, when %s goes from %s to %s", way, to, date, m->name, before, after);
    if (n < 0 || (size_t)n >= len) return;
    if (moved > 0 && window[0])
        snprintf(buf + n, len - (size_t)n, ": %.0f of its counted events leave the %s window", moved, window);
    else if (moved < 0 && window[0])
        snprintf(buf + n, len - (size_t)n, ": %.0f more events count in the %s window", -moved, window);
    else if (c->before.denominator != c->after.denominator && window[0])
        snprintf(buf + n, len - (size_t)n, ": %.0f events of its base leave the %s window",
                 c->before.denominator - c->after.denominator, window);
}

void grading_forecast_threshold_text(const grading_rules_t *r, size_t p, const grading_forecast_threshold_t *t,
                                     char *buf, size_t len)
{
    size_t n;
    const grading_forecast_kind_t *k = &grading_forecast_kinds(&n)[t->kind];
    char to[96];
    level_name(&r->programs[p], t->level, to, sizeof to);
    snprintf(buf, len, "%u more %s today -> %s", t->events, t->events == 1 ? k->singular : k->plural, to);
}
