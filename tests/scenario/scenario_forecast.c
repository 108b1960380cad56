/* Checking a `forecast:` expectation (scenario.h): the grade layer's
 * forecast as of the case's as_of (grading_forecast_read, what
 * GetGradeForecast answers), then the prediction itself: the seller
 * assessed at the end of the predicted day shows the new level, at the
 * end of the day before it does not, the clock advanced as a later
 * GetGrade would see it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/forecast.h"
#include "scenario.h"

typedef struct {
    char *msg;
    size_t len, cap;
    bool ok, after;
} out_t;

static void differ(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(out_t *o, const char *fmt, ...)
{
    if (o->len < o->cap && (!o->ok || o->after))
        o->len += (size_t)snprintf(o->msg + o->len, o->cap - o->len, "; ");
    if (o->len < o->cap) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->msg + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n > 0) o->len += (size_t)n;
        if (o->len > o->cap) o->len = o->cap;
    }
    o->ok = false;
}

/* The seller's level of programme p as of the last millisecond of day. */
static bool level_at_end(grading_store_t *st, const scn_case_t *c, size_t p, int32_t day, int32_t *level,
                         out_t *o)
{
    grading_store_reader_t *rd = NULL;
    grading_txn_t *txn = NULL;
    grading_assess_t *x = grading_assess_new();
    grading_error_t e;
    grading_err_t err = x ? grading_store_reader_new(st, &rd) : GRADING_ENOMEM;
    if (!err) err = grading_store_read_begin(rd, &txn);
    if (!err) err = grading_assess_seller(txn, c->mp, c->seller, grading_tz_day_start_ms(&c->mp->tz, day + 1) - 1, x, &e);
    if (!err) *level = x->a.grades[p].level;
    else differ(o, "forecast: cannot assess as of a later day: %s", grading_err_name(err));
    if (txn) grading_store_read_end(rd);
    grading_store_reader_free(rd);
    grading_assess_free(x);
    return !err;
}

static void check_change(grading_store_t *st, const scn_case_t *c, const scn_expect_t *x, const grading_forecast_t *f,
                         out_t *o)
{
    const grading_rules_t *r = c->mp->rules;
    const scn_forecast_t *want = &x->forecast;
    const char *pname = r->programs[x->index].name;
    const grading_forecast_change_t *got = &f->programs[x->index].change;
    char wd[11] = "none", gd[11] = "none";
    if (want->changes) grading_forecast_date(want->day, wd);
    if (got->found) grading_forecast_date(got->day, gd);
    if (want->changes != got->found || (got->found && want->day != got->day)) {
        differ(o, "forecast %s date (expected %s, got %s)", pname, wd, gd);
        return;
    }
    if (!got->found) return;
    if (want->has_level && want->level != got->level)
        differ(o, "forecast %s level (expected %d, got %d)", pname, (int)want->level, (int)got->level);
    const char *cause = got->metric >= 0 ? r->metrics[got->metric].name : "none";
    if (want->has_cause && strcmp(want->cause, cause) != 0)
        differ(o, "forecast %s cause (expected %s, got %s)", pname, want->cause, cause);
    char text[512];
    grading_forecast_change_text(r, x->index, f, text, sizeof text);
    if (want->says[0] && !strstr(text, want->says))
        differ(o, "forecast %s says \"%s\", not \"%s\"", pname, text, want->says);
    /* the clock advanced: the change day shows it, the day before does not */
    int32_t on = 0, before = 0;
    if (!level_at_end(st, c, x->index, got->day, &on, o) || !level_at_end(st, c, x->index, got->day - 1, &before, o))
        return;
    if (on != got->level) differ(o, "forecast %s: GetGrade on %s gives level %d, not the predicted %d", pname, gd, (int)on, (int)got->level);
    if (before == got->level)
        differ(o, "forecast %s: the day before %s already gives the predicted level %d", pname, gd, (int)before);
}

static void check_thresholds(const scn_case_t *c, const scn_expect_t *x, const grading_forecast_t *f, out_t *o)
{
    size_t nkinds;
    const grading_forecast_kind_t *kinds = grading_forecast_kinds(&nkinds);
    const grading_forecast_program_t *fp = &f->programs[x->index];
    for (size_t i = 0; i < x->forecast.nthresholds; i++) {
        size_t k = x->forecast.thresholds[i].kind;
        uint32_t want = x->forecast.thresholds[i].events, got = 0;
        for (size_t j = 0; j < fp->nthresholds; j++)
            if (fp->thresholds[j].kind == k) got = fp->thresholds[j].events;
        if (want != got)
            differ(o, "forecast %s threshold %s (expected %u, got %u; 0 = none)", c->mp->rules->programs[x->index].name,
                   kinds[k].name, want, got);
    }
}

bool scn_forecast_check(grading_store_t *st, const scn_case_t *c, const scn_expect_t *x, char *msg, size_t msglen,
                        bool after)
{
    out_t o = {msg, 0, msglen, true, after};
    if (msglen) msg[0] = '\0';
    grading_forecast_t *f = malloc(sizeof *f);
    grading_store_reader_t *rd = NULL;
    grading_error_t e = {0};
    grading_err_t err = f ? grading_store_reader_new(st, &rd) : GRADING_ENOMEM;
    if (!err) err = grading_forecast_read(rd, c->mp, c->seller, c->as_of_ms, x->forecast.days, f, &e);
    if (err) {
        char why[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 4];
        grading_error_format(&e, why, sizeof why);
        differ(&o, "forecast failed: %s: %s", grading_err_name(err), why);
    } else {
        check_change(st, c, x, f, &o);
        check_thresholds(c, x, f, &o);
    }
    grading_store_reader_free(rd);
    free(f);
    return o.ok;
}
