/* ClosePeriod: one close at a time (a lock), the work in close.c. The
 * handler thread waits for the pages the writer commits; readers and the
 * other handler threads go on. */
#include <stdio.h>
#include "grading/metrics.h"
#include "convert.h"
#include <stdlib.h>
#include <string.h>

#include "grading/close.h"
#include "grading/kafka.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

/* On a completion-queue thread: queue the call for the close worker. */
void rpc_handle_close_period(call_slot_t *s, const ProtobufCMessage *msg)
{
    (void)msg;
    rpc_close_worker_submit(rpc_close_worker(s), s);
}

static bool stopping(void *ctx)
{
    return rpc_shutting_down(ctx);
}

/* On the close worker. */
void rpc_close_run(call_slot_t *s)
{
    const Grading__V1__ClosePeriodRequest *req = (const void *)s->request;
    grading_error_t e = {0};
    grading_close_result_t *res = calloc(1, sizeof *res);
    Grading__V1__GradeCount *counts = NULL;
    Grading__V1__GradeCount **ptrs = NULL;
    if (!res) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    const grading_marketplace_t *mp = rpc_resolve_marketplace(s, req->marketplace, "marketplace", &e);
    if (!mp) goto fail;
    grading_period_kind_t kind = (grading_period_kind_t)req->kind;
    if (kind < GRADING_PERIOD_MONTH || kind > GRADING_PERIOD_YEAR) {
        grading_error_set(&e, GRADING_EINVAL, "kind", "must be MONTH, QUARTER or YEAR");
        goto fail;
    }
    bool timed_out = false;
    grading_err_t err;
    /* Kafka mode: close markers in every partition; each replica's consumer
     * closes at them (a dry run evaluates here, writing nothing) */
    if (rpc_kafka(s) && !req->dry_run) {
        err = grading_kafka_close_period(rpc_kafka(s), mp, kind, req->period, rpc_now_ms(s),
                                         GRADING_KAFKA_CLOSE_WAIT_MS, res, &timed_out, &e);
        if (timed_out) {
            char why[GRADING_ERROR_MSG_MAX + 16];
            snprintf(why, sizeof why, "period: %s", e.message);
            rpc_reply(s, GRPC_STATUS_DEADLINE_EXCEEDED, why, NULL);
            goto done;
        }
        if (err) goto fail;
        goto reply;
    }
    pthread_mutex_lock(rpc_close_lock(s));
    err = grading_close_period_as(rpc_store(s), rpc_ingest(s), s->policy, mp, kind,
                                                req->period, req->dry_run, rpc_now_ms(s), 0, stopping, s,
                                                s->caller, res, &e);
    pthread_mutex_unlock(rpc_close_lock(s));
    if (err) goto fail;
reply:   /* Kafka mode: the consumer tells the app (grading_kafka_on_closed) */
    if (!req->dry_run && !res->already_closed && !rpc_kafka(s)) rpc_published(s, mp->name);

    /* the distribution: every level of every programme, in policy order */
    const grading_rules_t *r = mp->rules;
    size_t n = 0;
    for (uint32_t p = 0; p < res->state.nprograms; p++) n += res->state.nlevels[p];
    counts = calloc(n ? n : 1, sizeof *counts);
    ptrs = calloc(n ? n : 1, sizeof *ptrs);
    if (!counts || !ptrs) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    size_t k = 0;
    for (uint32_t p = 0; p < res->state.nprograms; p++)
        for (uint32_t l = 0; l < res->state.nlevels[p]; l++, k++) {
            grading__v1__grade_count__init(&counts[k]);
            /* a close made under an older policy may name programmes the
             * current one lacks: show them by number */
            counts[k].program = p < r->nprograms ? (char *)r->programs[p].name : "";
            counts[k].level = res->state.levels[p][l];
            counts[k].label = p < r->nprograms && l < r->programs[p].nlevels
                                  ? (char *)r->programs[p].labels[l]
                                  : "";
            counts[k].sellers = res->state.counts[p][l];
            ptrs[k] = &counts[k];
        }
    Grading__V1__ClosePeriodResponse resp = GRADING__V1__CLOSE_PERIOD_RESPONSE__INIT;
    resp.sellers_evaluated = res->state.evaluated;
    if (!res->already_closed) grading_metrics_close_sellers(res->state.evaluated);
    resp.already_closed = res->already_closed;
    resp.n_distribution = n;
    resp.distribution = ptrs;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    goto done;
fail:
    rpc_reply_error(s, &e);
done:
    free(counts);
    free(ptrs);
    free(res);
}

/* ---- GetGradeHistory ---- */

#define HISTORY_DEFAULT 12
#define HISTORY_MAX 120

void rpc_handle_get_grade_history(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__GetGradeHistoryRequest *req = (const void *)msg;
    grading_error_t e = {0};
    Grading__V1__PeriodGrade *pgs = NULL, **ptrs = NULL;
    Grading__V1__Grade *grades = NULL;
    char(*names)[GRADING_STORE_PERIOD_MAX] = NULL;
    bool reading = false;
    if (!rpc_seller_id_ok(req->seller_id, "seller_id", &e)) goto fail;
    const grading_marketplace_t *mp = rpc_resolve_marketplace(s, req->marketplace, "marketplace", &e);
    if (!mp) goto fail;
    int kind = req->kind ? (int)req->kind : GRADING_PERIOD_MONTH;
    if (kind < GRADING_PERIOD_MONTH || kind > GRADING_PERIOD_YEAR) {
        grading_error_set(&e, GRADING_EINVAL, "kind", "must be MONTH, QUARTER or YEAR");
        goto fail;
    }
    uint32_t want = req->periods ? req->periods : HISTORY_DEFAULT;
    if (want > HISTORY_MAX) {
        grading_error_set(&e, GRADING_EINVAL, "periods", "at most %d, got %u", HISTORY_MAX, want);
        goto fail;
    }
    int64_t as_of = req->as_of ? rpc_timestamp_ms(req->as_of) : rpc_now_ms(s);
    const grading_rules_t *r = mp->rules;
    size_t cap = (size_t)want * (r->nprograms ? r->nprograms : 1);
    pgs = calloc(cap, sizeof *pgs);
    ptrs = calloc(cap, sizeof *ptrs);
    grades = calloc(cap, sizeof *grades);
    names = calloc(want, sizeof *names);
    if (!pgs || !ptrs || !grades || !names) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    grading_txn_t *txn;
    grading_err_t err = grading_store_read_begin(rpc_thread_reader(s), &txn);
    if (err) {
        grading_error_set(&e, err, "", "cannot read the store");
        goto fail;
    }
    reading = true;
    /* the periods, newest first, from the last closed one before as_of's */
    char cur[GRADING_PERIOD_NAME_MAX], upto[GRADING_PERIOD_NAME_MAX], latest[GRADING_STORE_PERIOD_MAX];
    int32_t first, last;
    bool found;
    grading_period_of((grading_period_kind_t)kind, grading_tz_day(&mp->tz, as_of), cur, &first, &last);
    grading_period_of((grading_period_kind_t)kind, first - 1, upto, &first, &last);
    if ((err = grading_store_close_latest(txn, mp->name, kind, upto, latest, &found))) {
        grading_error_set(&e, err, "", "cannot read the closed periods");
        goto fail;
    }
    uint32_t nnames = 0;
    if (found && grading_period_parse((grading_period_kind_t)kind, latest, "", &first, &last, &e) == GRADING_OK) {
        for (; nnames < want; nnames++) {
            grading_period_of((grading_period_kind_t)kind, last, names[nnames], &first, &last);
            last = first - 1;
        }
    }
    size_t n = 0;
    for (uint32_t i = nnames; i-- > 0;) {   /* oldest first */
        grading_period_rec_t rec;
        bool have;
        if ((err = grading_store_period_get(txn, mp->name, kind, names[i], req->seller_id, &rec, &have))) {
            grading_error_set(&e, err, "", "cannot read period %s", names[i]);
            goto fail;
        }
        for (uint32_t p = 0; have && p < rec.n && p < r->nprograms; p++, n++) {
            grading__v1__period_grade__init(&pgs[n]);
            grading__v1__grade__init(&grades[n]);
            grades[n].level = rec.p[p].level;
            grades[n].score = rec.p[p].has_score ? rec.p[p].score : 0;
            grades[n].period = names[i];
            grades[n].label = (char *)grading_rules_label(&r->programs[p], rec.p[p].level);
            pgs[n].period = names[i];
            pgs[n].program = (char *)r->programs[p].name;
            pgs[n].grade = &grades[n];
            ptrs[n] = &pgs[n];
        }
    }
    grading_store_read_end(rpc_thread_reader(s));
    reading = false;
    Grading__V1__GradeHistory resp = GRADING__V1__GRADE_HISTORY__INIT;
    resp.marketplace = (char *)mp->name;
    resp.seller_id = req->seller_id;
    resp.n_grades = n;
    resp.grades = ptrs;
    resp.policy_version = (char *)grading_policy_version(s->policy);
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    goto done;
fail:
    if (reading) grading_store_read_end(rpc_thread_reader(s));
    rpc_reply_error(s, &e);
done:
    free(pgs);
    free(ptrs);
    free(grades);
    free(names);
}
