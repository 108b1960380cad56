/* ExcludeEvents / RestoreEvents: transport only. The request becomes a
 * grading_appeal_req_t, the work (checks, the write through the single
 * writer, re-derive, audit) is src/grade/appeal.c's, on the close worker
 * so no completion-queue thread waits on the writer. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grading/appeal.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

static void appeal_run(call_slot_t *s);

void rpc_handle_appeal(call_slot_t *s, const ProtobufCMessage *msg)
{
    (void)msg;
    s->worker_run = appeal_run;
    rpc_close_worker_submit(rpc_close_worker(s), s);
}

/* The two requests have the same fields; Restore's is read through
 * Exclude's layout only after checking the generated structs agree. */
_Static_assert(offsetof(Grading__V1__ExcludeEventsRequest, note) ==
                   offsetof(Grading__V1__RestoreEventsRequest, note) &&
               sizeof(Grading__V1__ExcludeEventsRequest) == sizeof(Grading__V1__RestoreEventsRequest),
               "ExcludeEventsRequest and RestoreEventsRequest must keep the same fields");

/* Names of mask's counters, pointing into the counter name table. */
static size_t mask_names(uint64_t mask, char **out)
{
    size_t n = 0;
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (mask & GRADING_C_BIT(c)) out[n++] = (char *)grading_counter_name((grading_counter_t)c);
    return n;
}

static void appeal_run(call_slot_t *s)
{
    bool restore = s->request->descriptor == &grading__v1__restore_events_request__descriptor;
    const Grading__V1__ExcludeEventsRequest *req = (const void *)s->request;
    grading_error_t e = {0};
    grading_appeal_result_t res = {0};
    Grading__V1__AppealedRecord *recs = NULL, **ptrs = NULL;
    char **names = NULL, **periods = NULL;
    if (rpc_kafka(s)) {
        rpc_reply(s, GRPC_STATUS_FAILED_PRECONDITION,
                  "appeals are not supported in Kafka mode (the log is the writer): run them on a replica-less server",
                  NULL);
        return;
    }
    grading_appeal_req_t ar = {.restore = restore,
                               .marketplace = req->marketplace,
                               .seller = req->seller_id,
                               .order_ids = (const char *const *)req->order_ids,
                               .norders = req->n_order_ids,
                               .inquiry_ids = (const char *const *)req->inquiry_ids,
                               .ninquiries = req->n_inquiry_ids,
                               .event_ids = (const char *const *)req->event_ids,
                               .nevents = req->n_event_ids,
                               .metrics = (const char *const *)req->metrics,
                               .nmetrics = req->n_metrics,
                               .reason = req->reason,
                               .note = req->note,
                               .caller = s->caller};
    if (grading_appeal_run(rpc_ingest(s), s->policy, &ar, &res, &e)) goto fail;
    /* names: the request's counters, then each record's before and after */
    size_t per = (size_t)GRADING_C_COUNT;
    recs = calloc(res.n ? res.n : 1, sizeof *recs);
    ptrs = calloc(res.n ? res.n : 1, sizeof *ptrs);
    names = calloc(per * (1 + 2 * res.n), sizeof *names);
    periods = calloc(res.nreopened ? res.nreopened : 1, sizeof *periods);
    if (!recs || !ptrs || !names || !periods) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    Grading__V1__ExcludeEventsResponse resp = GRADING__V1__EXCLUDE_EVENTS_RESPONSE__INIT;
    resp.counters = names;
    resp.n_counters = mask_names(res.mask, names);
    for (size_t i = 0; i < res.n; i++) {
        const grading_appeal_item_t *it = &res.items[i];
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
    resp.n_records = res.n;
    resp.changed = res.changed;
    for (size_t i = 0; i < res.nreopened; i++) periods[i] = res.reopened[i].period;
    resp.reopened_periods = periods;
    resp.n_reopened_periods = res.nreopened;
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
    goto done;
fail:
    rpc_reply_error(s, &e);
done:
    free(recs);
    free(ptrs);
    free(names);
    free(periods);
    grading_appeal_result_free(&res);
}
