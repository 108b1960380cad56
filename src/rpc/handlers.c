/* One handler per RPC, and the method table.
 *
 * Handlers decode nothing themselves (the server hands them the message),
 * judge requests with core's validation, read through the thread's store
 * reader, and answer once with rpc_reply(). RecordEvents hands its batch
 * to the ingest writer and answers from the writer's callback, after the
 * commit is on disk. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "grading/prune.h"
#include "grading/assess.h"
#include "grading/counters.h"
#include "grading/record.h"
#include "grading/seller_metrics.h"
#include "grading/text.h"
#include "grpc/health/v1/health.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "server_internal.h"

void rpc_reply_error(call_slot_t *s, const grading_error_t *e)
{
    char msg[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 4];
    grading_error_format(e, msg, sizeof msg);
    rpc_reply(s, rpc_status_of(e->code), msg, NULL);
}

/* The marketplace named in a request ("" = the default), or a NOT_FOUND. */
bool rpc_seller_id_ok(const char *id, const char *field, grading_error_t *e)
{
    const char *why = grading_id_problem(id, id ? strlen(id) : 0, GRADING_MAX_ID_LEN, NULL);
    if (!why) return true;
    grading_error_set(e, GRADING_EINVAL, field, "%s (ids are 1..%d bytes of printable ASCII, 0x21..0x7E)",
                      why, GRADING_MAX_ID_LEN);
    return false;
}

const grading_marketplace_t *rpc_resolve_marketplace(call_slot_t *s, const char *name,
                                                     const char *field, grading_error_t *e)
{
    const grading_marketplace_t *mp = grading_policy_marketplace(s->policy, name);
    if (!mp)
        grading_error_set(e, GRADING_ENOTFOUND, field, "unknown marketplace \"%s\"",
                          name ? name : "");
    return mp;
}

/* ---- RecordEvents ---- */

static void record_done(grading_ingest_batch_t *b, grading_err_t err, uint32_t accepted,
                        uint32_t duplicates)
{
    call_slot_t *s = b->data;
    rpc_count_events(s, err);
    if (err && b->report && b->report->error.code) {   /* refused on its data: the field is named */
        rpc_reply_error(s, &b->report->error);
        return;
    }
    if (err) {
        const char *why = err == GRADING_EFULL      ? "the store is full; nothing of this batch was stored"
                          : err == GRADING_ESHUTDOWN ? "server is shutting down; nothing of this batch was stored"
                                                     : "storage error; nothing of this batch was stored";
        rpc_reply(s, rpc_status_of(err), why, NULL);
        return;
    }
    Grading__V1__RecordEventsResponse resp = GRADING__V1__RECORD_EVENTS_RESPONSE__INIT;
    resp.accepted = accepted;
    resp.duplicates = duplicates;
    resp.conflicts = s->record.report.nconflicts;
    resp.n_conflict_indexes = s->record.report.nconflicts;
    resp.conflict_indexes = s->record.report.conflict_indexes;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
}

bool rpc_backfill_requested(const call_slot_t *s)
{
    const ProtobufCMessage *m = s->request;
    if (!m || m->descriptor != &grading__v1__record_events_request__descriptor) return false;
    return ((const Grading__V1__RecordEventsRequest *)(const void *)m)->backfill_id[0] != '\0';
}

static void handle_record_events(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__RecordEventsRequest *req = (const void *)msg;
    grading_error_t e = {0};
    record_state_t *r = &s->record;
    uint32_t n = (uint32_t)req->n_events;

    if (req->n_events > GRADING_MAX_EVENTS_PER_CALL) {
        grading_error_set(&e, GRADING_EFULL, "events", "at most %d events per call, got %zu",
                          GRADING_MAX_EVENTS_PER_CALL, req->n_events);
        goto fail;
    }
    if (strlen(req->backfill_id) > GRADING_MAX_ID_LEN) {
        grading_error_set(&e, GRADING_EINVAL, "backfill_id", "at most %d bytes, got %zu", GRADING_MAX_ID_LEN,
                          strlen(req->backfill_id));
        goto fail;
    }
    r->events = calloc(n ? n : 1, sizeof *r->events);
    r->marketplaces = calloc(n ? n : 1, sizeof *r->marketplaces);
    r->zones = calloc(n ? n : 1, sizeof *r->zones);
    r->report.conflict_indexes = calloc(n ? n : 1, sizeof *r->report.conflict_indexes);
    if (!r->events || !r->marketplaces || !r->zones || !r->report.conflict_indexes) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) rpc_event_from_pb(req->events[i], &r->events[i]);
    if (grading_record_check(s->policy, r->events, n, rpc_now_ms(s), rpc_max_future_skew_ms(s),
                             req->backfill_id[0] ? 0 : rpc_dedup_horizon_ms(s), r->marketplaces, r->zones, &e))
        goto fail;
    if (rpc_kafka(s)) {   /* Kafka mode: the topic is the source of truth */
        rpc_record_to_kafka(s, req);
        return;
    }
    r->batch = (grading_ingest_batch_t){
        .events = r->events,
        .marketplaces = r->marketplaces,
        .zones = r->zones,
        .n = n,
        .done_cb = record_done,
        .data = s,
        .audit = rpc_audit_record,
        .audit_ctx = s,
        .report = &r->report,
    };
    r->batch.duplicate_out = r->duplicate = calloc(n ? n : 1, sizeof *r->duplicate);
    grading_record_submit(rpc_ingest(s), s->policy, &r->batch);
    return;
fail:
    rpc_count_events(s, e.code);
    rpc_reply_error(s, &e);
}

/* ---- GetSellerMetrics ---- */

static const char *const point_names[GRADING_PT_COUNT] = {
    "points.dispatch", "points.delivery", "points.auto_completed", "points.seller_fault_claim",
    "points.non_receipt", "points.strongly_recommend", "points.not_recommended", "points.delay",
};

#define NWINDOWS GRADING_SELLER_METRICS_WINDOWS

typedef struct {
    Grading__V1__MetricValue *values;
    Grading__V1__MetricValue **ptrs;
    char (*names)[GRADING_MAX_CUSTOM_NAME_LEN + 8];
    size_t n, cap;
} metric_list_t;

/* A counter-like value; raw: the same with nothing excluded (issue 15). */
static void metric_add_raw(metric_list_t *l, const char *name, const char *window, double value, double raw)
{
    if (l->n >= l->cap) return;
    Grading__V1__MetricValue *v = &l->values[l->n];
    grading__v1__metric_value__init(v);
    v->name = (char *)name;
    v->window = (char *)window;
    v->value = value;
    v->numerator = value;
    v->sufficient = true;
    v->raw_value = v->raw_numerator = raw;
    v->raw_sufficient = true;
    l->ptrs[l->n++] = v;
}

static void metric_add(metric_list_t *l, const char *name, const char *window, double value)
{
    metric_add_raw(l, name, window, value, value);
}

static void handle_get_seller_metrics(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__GetSellerMetricsRequest *req = (const void *)msg;
    grading_error_t e = {0};
    grading_seller_metrics_t *sm = NULL;
    metric_list_t l = {0};

    if (!rpc_seller_id_ok(req->seller_id, "seller_id", &e)) goto fail;
    const grading_marketplace_t *mp = rpc_resolve_marketplace(s, req->marketplace, "marketplace", &e);
    if (!mp) goto fail;
    int64_t as_of = req->as_of ? rpc_timestamp_ms(req->as_of) : rpc_now_ms(s);
    if (as_of < GRADING_MIN_TIME_MS || as_of >= GRADING_MAX_TIME_MS) {
        grading_error_set(&e, GRADING_EINVAL, "as_of", "must be between 2000-01-01 and 2100-01-01 UTC");
        goto fail;
    }
    if (grading_seller_metrics_new(rpc_thread_reader(s), mp, req->seller_id, as_of, &sm, &e)) goto fail;
    const grading_day_counters_t *sums = sm->sums;
    const grading_assess_t *x = sm->x;

    const grading_rules_t *rules = mp->rules;
    size_t ncustom = 0;
    for (size_t w = 0; w < NWINDOWS; w++) ncustom += sums[w].ncustom;
    l.cap = NWINDOWS * GRADING_C_COUNT + ncustom + rules->nmetrics + 3 * (GRADING_PT_COUNT + 1) + 1;
    l.values = calloc(l.cap, sizeof *l.values);
    l.ptrs = calloc(l.cap, sizeof *l.ptrs);
    l.names = calloc(ncustom ? ncustom : 1, sizeof *l.names);
    if (!l.values || !l.ptrs || !l.names) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    for (int c = 0; c < GRADING_C_COUNT; c++)
        for (size_t w = 0; w < NWINDOWS; w++) {
            double raw = (double)sums[w].c[c] + (double)sm->xsums[w].c[c];
            /* the 26 cells only where non-zero: most sellers have none, and
             * listing them all made every reply 70% longer */
            if (c >= GRADING_C_CELLS_ADDED && !sums[w].c[c] && !raw) continue;
            metric_add_raw(&l, grading_counter_name((grading_counter_t)c), grading_seller_metrics_windows[w].name,
                           (double)sums[w].c[c], raw);
        }
    size_t k = 0;
    for (size_t w = 0; w < NWINDOWS; w++)
        for (uint32_t i = 0; i < sums[w].ncustom; i++, k++) {
            snprintf(l.names[k], sizeof l.names[k], "custom:%s", sums[w].custom[i].name);
            metric_add(&l, l.names[k], grading_seller_metrics_windows[w].name, sums[w].custom[i].value);
        }

    for (size_t m = 0; m < rules->nmetrics && l.n < l.cap; m++) {
        const grading_metric_def_t *md = &rules->metrics[m];
        const grading_metric_val_t *mv = &x->a.metrics[m];
        Grading__V1__MetricValue *v = &l.values[l.n];
        grading__v1__metric_value__init(v);
        v->name = (char *)md->name;
        v->window = md->window >= 0 ? (char *)rules->windows[md->window].name : "derived";
        v->value = mv->value;
        v->numerator = mv->numerator;
        v->denominator = mv->denominator;
        v->sufficient = mv->available;
        const grading_metric_val_t *rv = &(sm->raw ? sm->raw : sm->x)->a.metrics[m];
        v->raw_value = rv->value;
        v->raw_numerator = rv->numerator;
        v->raw_denominator = rv->denominator;
        v->raw_sufficient = rv->available;
        l.ptrs[l.n++] = v;
    }

    /* service points: each rule's share and the total, this month, last
     * month and the 12 months */
    const grading_order_facts_t *f = x->hist.orders;
    if (f && rules->points.enabled) {
        static const char *const wins[3] = {"month", "prev_month", "12 months"};
        for (int w = 0; w < 3; w++) {
            const double *by = w == 0 ? f->month : w == 1 ? f->prev_month : f->year;
            for (int k = 0; k < GRADING_PT_COUNT; k++) {
                metric_add(&l, point_names[k], wins[w], by[k]);
            }
            metric_add(&l, "points", wins[w], f->value[GRADING_OF_POINTS_MONTH + w]);
        }
        /* what a status judged on completed months reads (published once closed) */
        metric_add(&l, "points", "last_month", grading_history_last_month_points(&x->hist));
    }

    Grading__V1__SellerMetrics resp = GRADING__V1__SELLER_METRICS__INIT;
    Google__Protobuf__Timestamp ts;
    rpc_timestamp_set(&ts, as_of);
    resp.marketplace = (char *)mp->name;
    resp.seller_id = req->seller_id;
    resp.as_of = &ts;
    resp.policy_version = (char *)grading_policy_version(s->policy);
    resp.n_metrics = l.n;
    resp.metrics = l.ptrs;
    resp.pending_orphans = sm->pending_orphans;
    resp.dropped_orphans = sm->dropped_orphans;
    resp.excluded_records = sm->excluded_records;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    goto done;
fail:
    rpc_reply_error(s, &e);
done:
    free(l.values);
    free(l.ptrs);
    free(l.names);
    grading_seller_metrics_free(sm);
}

/* ---- Health ---- */

static void handle_health_check(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grpc__Health__V1__HealthCheckRequest *req = (const void *)msg;
    if (req->service && req->service[0] && strcmp(req->service, "grading.v1.GradingService") != 0) {
        rpc_reply(s, GRPC_STATUS_NOT_FOUND, "unknown service", NULL);
        return;
    }
    Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = rpc_shutting_down(s) ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                                       : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
}

#define SVC "/grading.v1.GradingService/"

const rpc_method_t grading_rpc_methods[] = {
    {SVC "RecordEvents", &grading__v1__record_events_request__descriptor, handle_record_events, 32},
    {SVC "GetSellerMetrics", &grading__v1__get_seller_metrics_request__descriptor,
     handle_get_seller_metrics, 4},
    {SVC "GetGrade", &grading__v1__get_grade_request__descriptor, rpc_handle_get_grade, 4},
    {SVC "GetPenaltyState", &grading__v1__get_penalty_state_request__descriptor,
     rpc_handle_get_penalty_state, 4},
    {SVC "GetRankingBoosts", &grading__v1__get_ranking_boosts_request__descriptor,
     rpc_handle_get_ranking_boosts, 16},
    {SVC "GetAdCreditEligibility", &grading__v1__get_ad_credit_eligibility_request__descriptor,
     rpc_handle_get_ad_credit_eligibility, 4},
    {SVC "GetSettlementTerms", &grading__v1__get_settlement_terms_request__descriptor,
     rpc_handle_get_settlement_terms, 4},
    {SVC "ClosePeriod", &grading__v1__close_period_request__descriptor, rpc_handle_close_period, 1},
    {SVC "GetGradeHistory", &grading__v1__get_grade_history_request__descriptor,
     rpc_handle_get_grade_history, 2},
    {SVC "ListAudit", &grading__v1__list_audit_request__descriptor, rpc_handle_list_audit, 1},
    {"/grpc.health.v1.Health/Check", &grpc__health__v1__health_check_request__descriptor,
     handle_health_check, 2},
    {"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
     &grpc__reflection__v1__server_reflection_request__descriptor, rpc_handle_reflection, 1},
    {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
     &grpc__reflection__v1__server_reflection_request__descriptor, rpc_handle_reflection, 1},
    {SVC "WatchGradeChanges", &grading__v1__watch_grade_changes_request__descriptor,
     rpc_handle_watch_grade_changes, 4},
    {SVC "EvaluatePolicy", &grading__v1__evaluate_policy_request__descriptor, rpc_handle_evaluate_policy, 1},
    {SVC "ListMetricEvents", &grading__v1__list_metric_events_request__descriptor,
     rpc_handle_list_metric_events, 2},
    {SVC "GetGradeForecast", &grading__v1__get_grade_forecast_request__descriptor,
     rpc_handle_get_grade_forecast, 2},
    {SVC "ExcludeEvents", &grading__v1__exclude_events_request__descriptor, rpc_handle_appeal, 1},
    {SVC "RestoreEvents", &grading__v1__restore_events_request__descriptor, rpc_handle_appeal, 1},
    {SVC "DeclareExemption", &grading__v1__declare_exemption_request__descriptor, rpc_handle_exemption, 1},
    {SVC "RevokeExemption", &grading__v1__revoke_exemption_request__descriptor, rpc_handle_exemption, 1},
    {SVC "ListExemptions", &grading__v1__list_exemptions_request__descriptor, rpc_handle_exemption, 1},
};
const int grading_rpc_method_count = sizeof grading_rpc_methods / sizeof grading_rpc_methods[0];
