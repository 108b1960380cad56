/* ClosePeriod: one close at a time (a lock), the work in close.c. The
 * handler thread waits for the pages the writer commits; readers and the
 * other handler threads go on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/close.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

void rpc_handle_close_period(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__ClosePeriodRequest *req = (const void *)msg;
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
    pthread_mutex_lock(rpc_close_lock(s));
    grading_err_t err = grading_close_period(rpc_store(s), rpc_ingest(s), s->policy, mp, kind,
                                             req->period, req->dry_run, rpc_now_ms(s), 0, res, &e);
    pthread_mutex_unlock(rpc_close_lock(s));
    if (err) goto fail;

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
