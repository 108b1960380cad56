/* Server streaming on the blocking client (client.h).
 *
 * Three batches: the request (metadata, message, half-close) with the
 * reply's initial metadata (which comes with the first message); the status, started at once and plucked when
 * the server ends the call; one message read at a time. A read that times
 * out stays in flight and the next wait plucks it. */
#include <grpc/support/time.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "grading/pb.h"

struct grading_client_stream {
    grading_client_t *c;
    grpc_call *call;
    grpc_metadata_array initial_md, trailing_md;
    grpc_status_code status;
    grpc_slice details;
    grpc_byte_buffer *msg;
    bool reading;       /* a read batch is in flight */
    bool ended;         /* the status was plucked */
    int send_tag, status_tag, read_tag;   /* their addresses are the tags */
};

static gpr_timespec after_ms(int64_t ms)
{
    if (ms <= 0) return gpr_inf_future(GPR_CLOCK_REALTIME);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

grading_err_t grading_client_stream_open(grading_client_t *c, const char *method, const ProtobufCMessage *req,
                                         grading_client_stream_t **out)
{
    *out = NULL;
    grading_client_stream_t *s = calloc(1, sizeof *s);
    if (!s) return GRADING_ENOMEM;
    s->c = c;
    s->details = grpc_empty_slice();
    grpc_metadata_array_init(&s->initial_md);
    grpc_metadata_array_init(&s->trailing_md);
    grpc_byte_buffer *req_bb = grading_pb_to_buffer(req);
    grading_err_t err = GRADING_ENOMEM;
    if (!req_bb) goto fail;
    err = GRADING_EIO;
    s->call = client_create_call(c, method, gpr_inf_future(GPR_CLOCK_REALTIME));
    if (!s->call) goto fail;
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.metadata = (grpc_metadata *)client_metadata(c, &ops[0].data.send_initial_metadata.count);
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = req_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;   /* messages are delivered only after it */
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->initial_md;
    if (grpc_call_start_batch(s->call, ops, 4, &s->send_tag, NULL) != GRPC_CALL_OK) goto fail;
    grpc_completion_queue_pluck(client_cq(c), &s->send_tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &s->trailing_md;
    ops[0].data.recv_status_on_client.status = &s->status;
    ops[0].data.recv_status_on_client.status_details = &s->details;
    if (grpc_call_start_batch(s->call, ops, 1, &s->status_tag, NULL) != GRPC_CALL_OK) goto fail;
    grpc_byte_buffer_destroy(req_bb);
    *out = s;
    return GRADING_OK;
fail:
    if (req_bb) grpc_byte_buffer_destroy(req_bb);
    if (s->call) {
        grpc_call_cancel(s->call, NULL);
        grpc_call_unref(s->call);
    }
    grpc_metadata_array_destroy(&s->initial_md);
    grpc_metadata_array_destroy(&s->trailing_md);
    free(s);
    return err;
}

static grading_err_t end_result(grading_client_stream_t *s, grading_call_result_t *res)
{
    if (!s->ended) {
        grpc_completion_queue_pluck(client_cq(s->c), &s->status_tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        s->ended = true;
    }
    res->status = s->status;
    res->details = client_dup_slice(s->details);
    return res->details ? GRADING_OK : GRADING_ENOMEM;
}

grading_err_t grading_client_stream_next(grading_client_stream_t *s, const ProtobufCMessageDescriptor *desc,
                                         int64_t timeout_ms, ProtobufCMessage **out_msg, bool *timed_out,
                                         grading_call_result_t *res)
{
    *out_msg = NULL;
    *timed_out = false;
    res->status = GRPC_STATUS_OK;
    res->details = NULL;
    if (s->ended) return end_result(s, res);
    if (!s->reading) {
        grpc_op op;
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &s->msg;
        if (grpc_call_start_batch(s->call, &op, 1, &s->read_tag, NULL) != GRPC_CALL_OK) return end_result(s, res);
        s->reading = true;
    }
    grpc_event ev = grpc_completion_queue_pluck(client_cq(s->c), &s->read_tag, after_ms(timeout_ms), NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        *timed_out = true;
        return GRADING_OK;
    }
    s->reading = false;
    if (!s->msg) return end_result(s, res);   /* the call ended */
    grading_err_t err = grading_pb_from_buffer(s->msg, desc, SIZE_MAX, out_msg);
    grpc_byte_buffer_destroy(s->msg);
    s->msg = NULL;
    return err == GRADING_ENOMEM ? err : err ? GRADING_EINVAL : GRADING_OK;
}

void grading_client_stream_free(grading_client_stream_t *s)
{
    if (!s) return;
    grpc_completion_queue *cq = client_cq(s->c);
    if (!s->ended) grpc_call_cancel(s->call, NULL);
    if (s->reading) grpc_completion_queue_pluck(cq, &s->read_tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (s->msg) grpc_byte_buffer_destroy(s->msg);
    if (!s->ended) grpc_completion_queue_pluck(cq, &s->status_tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_call_unref(s->call);
    grpc_metadata_array_destroy(&s->initial_md);
    grpc_metadata_array_destroy(&s->trailing_md);
    grpc_slice_unref(s->details);
    free(s);
}
