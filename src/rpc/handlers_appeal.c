/* ExcludeEvents / RestoreEvents: transport only. The request becomes a
 * grading_appeal_req_t, the work (checks, the write through the single
 * writer, re-derive, audit) is src/grade/appeal.c's, on the close worker
 * so no completion-queue thread waits on the writer. In Kafka mode the
 * appeal is judged here (appeal_check.h, nothing written), then goes
 * through the topic and every replica applies it (src/kafka/command.c);
 * the call answers once this replica applied it. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "appeal_pb.h"
#include "grading/appeal_check.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

static void appeal_run(call_slot_t *s);

void rpc_handle_appeal(call_slot_t *s, const ProtobufCMessage *msg)
{
    (void)msg;
    s->worker_run = appeal_run;
    rpc_close_worker_submit(rpc_close_worker(s), s);
}

/* Names of mask's counters, pointing into the counter name table. */
static size_t mask_names(uint64_t mask, char **out)
{
    size_t n = 0;
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (mask & GRADING_C_BIT(c)) out[n++] = (char *)grading_counter_name((grading_counter_t)c);
    return n;
}

/* Answers with res (ExcludeEventsResponse or, restore, RestoreEventsResponse). */
static void reply_result(call_slot_t *s, bool restore, const grading_appeal_result_t *res)
{
    /* names: the request's counters, then each record's before and after */
    size_t per = (size_t)GRADING_C_COUNT;
    Grading__V1__AppealedRecord *recs = calloc(res->n ? res->n : 1, sizeof *recs);
    Grading__V1__AppealedRecord **ptrs = calloc(res->n ? res->n : 1, sizeof *ptrs);
    char **names = calloc(per * (1 + 2 * res->n), sizeof *names);
    char **periods = calloc(res->nreopened ? res->nreopened : 1, sizeof *periods);
    if (!recs || !ptrs || !names || !periods) {
        grading_error_t e = {0};
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        rpc_reply_error(s, &e);
        goto done;
    }
    Grading__V1__ExcludeEventsResponse resp = GRADING__V1__EXCLUDE_EVENTS_RESPONSE__INIT;
    resp.counters = names;
    resp.n_counters = mask_names(res->mask, names);
    for (size_t i = 0; i < res->n; i++) {
        const grading_appeal_item_t *it = &res->items[i];
        Grading__V1__AppealedRecord *r = &recs[i];
        grading__v1__appealed_record__init(r);
        r->id = (char *)it->id;
        r->inquiry = it->inquiry;
        r->excluded_before = names + per * (1 + 2 * i);
        r->n_excluded_before = mask_names(it->before, r->excluded_before);
        r->excluded_after = names + per * (2 + 2 * i);
        r->n_excluded_after = mask_names(it->after, r->excluded_after);
        r->changed = it->changed;
        r->appeals = it->appeals;
        ptrs[i] = r;
    }
    resp.records = ptrs;
    resp.n_records = res->n;
    resp.changed = res->changed;
    for (size_t i = 0; i < res->nreopened; i++) periods[i] = res->reopened[i].period;
    resp.reopened_periods = periods;
    resp.n_reopened_periods = res->nreopened;
    if (restore) {   /* the same fields under Restore's descriptor */
        Grading__V1__RestoreEventsResponse rr = GRADING__V1__RESTORE_EVENTS_RESPONSE__INIT;
        rr.records = resp.records, rr.n_records = resp.n_records;
        rr.counters = resp.counters, rr.n_counters = resp.n_counters;
        rr.changed = resp.changed;
        rr.reopened_periods = resp.reopened_periods, rr.n_reopened_periods = resp.n_reopened_periods;
        rpc_reply(s, GRPC_STATUS_OK, NULL, &rr.base);
    } else {
        rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    }
done:
    free(recs);
    free(ptrs);
    free(names);
    free(periods);
}

/* A Kafka-mode appeal waiting for the brokers and this replica. */
typedef struct {
    call_slot_t *s;
    bool restore;
    grading_appeal_result_t res;   /* as judged before producing */
} kafka_appeal_t;

/* On a Kafka thread, once. */
static void kafka_appeal_done(void *ctx, grading_kafka_result_t result, const char *why, uint32_t logged)
{
    (void)logged;
    kafka_appeal_t *a = ctx;
    if (!rpc_kafka_failed(a->s, result, why)) reply_result(a->s, a->restore, &a->res);
    grading_appeal_result_free(&a->res);
    free(a);
}

static void appeal_to_kafka(call_slot_t *s, const grading_appeal_req_t *ar, grading_error_t *e)
{
    kafka_appeal_t *a = calloc(1, sizeof *a);
    if (!a) {
        grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        return;
    }
    a->s = s;
    a->restore = ar->restore;
    if (grading_appeal_check(rpc_ingest(s), s->policy, ar, &a->res, e)) {
        free(a);
        return;
    }
    char why[300];
    grading_err_t err = grading_kafka_produce_command(
        rpc_kafka(s), ar->restore ? GRADING_KAFKA_CMD_RESTORE : GRADING_KAFKA_CMD_EXCLUDE, ar->seller, s->request,
        s->caller, kafka_appeal_done, a, why, sizeof why);
    if (!err) return;
    grading_appeal_result_free(&a->res);
    free(a);
    rpc_kafka_refused(s, err, why);
}

static void appeal_run(call_slot_t *s)
{
    bool restore = s->request->descriptor == &grading__v1__restore_events_request__descriptor;
    grading_error_t e = {0};
    grading_appeal_result_t res = {0};
    grading_appeal_req_t ar;
    rpc_appeal_req_from_pb((const void *)s->request, restore, s->caller, &ar);
    if (rpc_kafka(s)) {
        appeal_to_kafka(s, &ar, &e);
        if (e.code) rpc_reply_error(s, &e);
        return;
    }
    if (grading_appeal_run(rpc_ingest(s), s->policy, &ar, &res, &e)) {
        rpc_reply_error(s, &e);
        return;
    }
    reply_result(s, restore, &res);
    grading_appeal_result_free(&res);
}
