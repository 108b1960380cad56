/* RecordEvents in Kafka mode (issue 11): the judged batch goes to the
 * topic; the call answers when the brokers acknowledged it (and, with
 * wait_applied, this replica applied it). Transport only: the producing is
 * src/kafka's. */
#include "server_internal.h"

bool rpc_kafka_failed(call_slot_t *s, grading_kafka_result_t result, const char *why)
{
    if (result == GRADING_KAFKA_LOGGED) return false;
    rpc_reply(s,
              result == GRADING_KAFKA_NOT_APPLIED     ? GRPC_STATUS_DEADLINE_EXCEEDED
              : result == GRADING_KAFKA_DEAD_LETTERED ? GRPC_STATUS_FAILED_PRECONDITION
                                                      : GRPC_STATUS_UNAVAILABLE,
              why, NULL);
    return true;
}

void rpc_kafka_refused(call_slot_t *s, grading_err_t err, const char *why)
{
    rpc_reply(s, err == GRADING_EFULL || err == GRADING_ENOMEM ? GRPC_STATUS_RESOURCE_EXHAUSTED : GRPC_STATUS_UNAVAILABLE,
              why, NULL);
}

/* On a Kafka thread, once per call. */
static void kafka_done(void *ctx, grading_kafka_result_t result, const char *why, uint32_t logged)
{
    call_slot_t *s = ctx;
    if (result == GRADING_KAFKA_UNAVAILABLE || result == GRADING_KAFKA_SHUTDOWN) rpc_count_events(s, GRADING_ESHUTDOWN);
    if (rpc_kafka_failed(s, result, why)) return;
    Grading__V1__RecordEventsResponse resp = GRADING__V1__RECORD_EVENTS_RESPONSE__INIT;
    resp.logged = logged;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
}

void rpc_record_to_kafka(call_slot_t *s, const Grading__V1__RecordEventsRequest *req)
{
    char why[300];
    grading_err_t err = grading_kafka_produce(rpc_kafka(s), req, req->wait_applied, kafka_done, s, why, sizeof why);
    if (!err) return;
    rpc_count_events(s, err);
    rpc_kafka_refused(s, err, why);
}
