/* RecordEvents in Kafka mode (issue 11): the judged batch goes to the
 * topic; the call answers when the brokers acknowledged it (and, with
 * wait_applied, this replica applied it). Transport only: the producing is
 * src/kafka's. */
#include "server_internal.h"

/* On a Kafka thread, once per call. */
static void kafka_done(void *ctx, grading_kafka_result_t result, const char *why, uint32_t logged)
{
    call_slot_t *s = ctx;
    switch (result) {
    case GRADING_KAFKA_LOGGED: {
        Grading__V1__RecordEventsResponse resp = GRADING__V1__RECORD_EVENTS_RESPONSE__INIT;
        resp.logged = logged;
        rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
        return;
    }
    case GRADING_KAFKA_NOT_APPLIED:
        rpc_reply(s, GRPC_STATUS_DEADLINE_EXCEEDED, why, NULL);
        return;
    case GRADING_KAFKA_UNAVAILABLE:
    case GRADING_KAFKA_SHUTDOWN:
        break;
    }
    rpc_count_events(s, GRADING_ESHUTDOWN);
    rpc_reply(s, GRPC_STATUS_UNAVAILABLE, why, NULL);
}

void rpc_record_to_kafka(call_slot_t *s, const Grading__V1__RecordEventsRequest *req)
{
    char why[300];
    grading_err_t err = grading_kafka_produce(rpc_kafka(s), req, req->wait_applied, kafka_done, s, why, sizeof why);
    if (!err) return;
    rpc_count_events(s, err);
    rpc_reply(s, err == GRADING_EFULL || err == GRADING_ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_UNAVAILABLE,
              why, NULL);
}
