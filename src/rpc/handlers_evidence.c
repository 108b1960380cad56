/* ListMetricEvents (issue 15): decode, check the ids, read the evidence
 * (grading/evidence.h) in the thread's reader, encode. */
#include <string.h>

#include "convert.h"
#include "evidence_pb.h"
#include "grading/evidence.h"
#include "server_internal.h"

void rpc_handle_list_metric_events(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__ListMetricEventsRequest *req = (const void *)msg;
    grading_error_t e = {0};
    grading_evidence_t *ev = NULL;
    if (!rpc_seller_id_ok(req->seller_id, "seller_id", &e)) goto fail;
    const grading_marketplace_t *mp = rpc_resolve_marketplace(s, req->marketplace, "marketplace", &e);
    if (!mp) goto fail;
    if (!req->metric || !req->metric[0]) {
        grading_error_set(&e, GRADING_EINVAL, "metric", "required: a policy metric or a base counter");
        goto fail;
    }
    grading_evidence_query_t q = {.seller = req->seller_id, .metric = req->metric, .window = req->window,
                                  .page_size = req->page_size, .page_token = req->page_token};
    q.as_of_ms = req->as_of ? rpc_timestamp_ms(req->as_of) : rpc_now_ms(s);
    if (q.as_of_ms < GRADING_MIN_TIME_MS || q.as_of_ms >= GRADING_MAX_TIME_MS) {
        grading_error_set(&e, GRADING_EINVAL, "as_of", "must be between 2000-01-01 and 2100-01-01 UTC");
        goto fail;
    }
    if (grading_evidence_list(rpc_thread_reader(s), mp, &q, &ev, &e)) goto fail;
    rpc_evidence_pb_t pb;
    if (rpc_evidence_pb_build(&pb, ev, req->metric, q.as_of_ms)) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    pb.resp.marketplace = (char *)mp->name;
    pb.resp.seller_id = req->seller_id;
    pb.resp.policy_version = (char *)grading_policy_version(s->policy);
    rpc_reply(s, GRPC_STATUS_OK, NULL, &pb.resp.base);
    rpc_evidence_pb_free(&pb);
    grading_evidence_free(ev);
    return;
fail:
    rpc_reply_error(s, &e);
    grading_evidence_free(ev);
}
