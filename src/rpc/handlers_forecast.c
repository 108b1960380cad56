/* GetGradeForecast: decode, run the forecast (forecast.h) in the thread's
 * read transaction, encode. Transport only: the levels, the change and
 * its cause, the thresholds and their sentences come from the grade layer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "grading/forecast.h"
#include "server_internal.h"

#define MESSAGE_LEN 256

/* Everything one programme's reply points at. */
typedef struct {
    Grading__V1__ProgramForecast pf;
    Grading__V1__ForecastChange change;
    Grading__V1__ForecastDay days[GRADING_FORECAST_MAX_DAYS];
    Grading__V1__ForecastDay *day_ptrs[GRADING_FORECAST_MAX_DAYS];
    char dates[GRADING_FORECAST_MAX_DAYS][11];
    Grading__V1__ForecastThreshold th[GRADING_FORECAST_MAX_KINDS];
    Grading__V1__ForecastThreshold *th_ptrs[GRADING_FORECAST_MAX_KINDS];
    char th_text[GRADING_FORECAST_MAX_KINDS][MESSAGE_LEN];
    char change_date[11], message[MESSAGE_LEN];
} program_reply_t;

static void fill_change(const grading_rules_t *r, size_t p, const grading_forecast_t *f, program_reply_t *o)
{
    const grading_forecast_change_t *c = &f->programs[p].change;
    grading_forecast_change_text(r, p, f, o->message, sizeof o->message);
    o->pf.message = o->message;
    if (!c->found) return;
    Grading__V1__ForecastChange *pc = &o->change;
    grading__v1__forecast_change__init(pc);
    grading_forecast_date(c->day, o->change_date);
    pc->date = o->change_date;
    pc->from_level = c->from_level;
    pc->level = c->level;
    pc->label = (char *)grading_rules_label(&r->programs[p], c->level);
    pc->message = o->message;
    if (c->metric >= 0) {
        const grading_metric_def_t *m = &r->metrics[c->metric];
        pc->metric = (char *)m->name;
        pc->window = (char *)(m->window >= 0 ? r->windows[m->window].name : "");
        pc->metric_before = c->before.value;
        pc->metric_after = c->after.value;
        pc->before_available = c->before.available;
        pc->after_available = c->after.available;
        pc->events_leaving = c->before.numerator - c->after.numerator;
    }
    o->pf.change = pc;
}

static void fill_program(const grading_rules_t *r, size_t p, const grading_forecast_t *f, program_reply_t *o)
{
    const grading_program_def_t *pd = &r->programs[p];
    const grading_forecast_program_t *fp = &f->programs[p];
    grading__v1__program_forecast__init(&o->pf);
    o->pf.program = (char *)pd->name;
    o->pf.level = fp->today_level;
    o->pf.label = (char *)grading_rules_label(pd, fp->today_level);
    for (uint32_t i = 0; i < f->days; i++) {
        grading__v1__forecast_day__init(&o->days[i]);
        grading_forecast_date(f->today + 1 + (int32_t)i, o->dates[i]);
        o->days[i].date = o->dates[i];
        o->days[i].level = fp->levels[i];
        o->days[i].label = (char *)grading_rules_label(pd, fp->levels[i]);
        o->day_ptrs[i] = &o->days[i];
    }
    o->pf.n_days = f->days;
    o->pf.days = o->day_ptrs;
    fill_change(r, p, f, o);
    size_t nkinds;
    const grading_forecast_kind_t *kinds = grading_forecast_kinds(&nkinds);
    for (size_t i = 0; i < fp->nthresholds; i++) {
        const grading_forecast_threshold_t *t = &fp->thresholds[i];
        Grading__V1__ForecastThreshold *pt = &o->th[i];
        grading__v1__forecast_threshold__init(pt);
        pt->event_kind = (char *)kinds[t->kind].name;
        pt->better = kinds[t->kind].good;
        pt->events = t->events;
        pt->level = t->level;
        pt->label = (char *)grading_rules_label(pd, t->level);
        grading_forecast_threshold_text(r, p, t, o->th_text[i], sizeof o->th_text[i]);
        pt->message = o->th_text[i];
        o->th_ptrs[i] = pt;
    }
    o->pf.n_thresholds = fp->nthresholds;
    o->pf.thresholds = o->th_ptrs;
}

void rpc_handle_get_grade_forecast(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__GetGradeForecastRequest *req = (const void *)msg;
    grading_error_t e = {0};
    const grading_marketplace_t *mp;
    int64_t as_of;
    grading_forecast_t *f = NULL;
    program_reply_t *pr = NULL;
    Grading__V1__ProgramForecast **pfs = NULL;
    if (!rpc_query_target(s, req->marketplace, req->seller_id, req->as_of, &mp, &as_of, &e)) goto fail;
    const grading_rules_t *r = mp->rules;
    f = malloc(sizeof *f);
    pr = calloc(r->nprograms ? r->nprograms : 1, sizeof *pr);
    pfs = calloc(r->nprograms ? r->nprograms : 1, sizeof *pfs);
    if (!f || !pr || !pfs) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    if (grading_forecast_read(rpc_thread_reader(s), mp, req->seller_id, as_of, req->days, f, &e)) goto fail;
    for (size_t p = 0; p < r->nprograms; p++) {
        fill_program(r, p, f, &pr[p]);
        pfs[p] = &pr[p].pf;
    }
    Grading__V1__GradeForecast resp = GRADING__V1__GRADE_FORECAST__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    rpc_timestamp_set(&ts, as_of);
    resp.marketplace = (char *)mp->name;
    resp.seller_id = req->seller_id;
    resp.policy_version = (char *)grading_policy_version(s->policy);
    resp.as_of = &ts;
    resp.days = f->days;
    resp.n_programs = r->nprograms;
    resp.programs = pfs;
    resp.max_events = GRADING_FORECAST_MAX_EVENTS;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    goto done;
fail:
    rpc_reply_error(s, &e);
done:
    free(pfs);
    free(pr);
    free(f);
}
