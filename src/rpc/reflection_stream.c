/* The reflection call: a bidirectional stream on grpc C core, run by the
 * completion-queue thread that took it. The server decoded the first
 * request like any call's; each answer goes out in one batch with the read
 * of the next request, and the batch's completion (on_event) answers that
 * one, until the client half-closes (status OK) or the call breaks. The
 * last batch sends the status with the slot's usual end, so the server
 * frees the call and requests the next one as for a unary call. */
#include <stdlib.h>
#include <string.h>

#include "grading/pb.h"
#include "observe_internal.h"
#include "reflection_internal.h"
#include "server_internal.h"

/* A reflection request is a name or two. */
#define REFLECTION_MAX_REQUEST_BYTES (64 * 1024)

typedef struct {
    grpc_byte_buffer *send;   /* the answer in flight */
    grpc_byte_buffer *recv;   /* the next request, once read */
    grpc_op ops[3];
    bool md_sent;
} stream_t;

static void stream_finish(call_slot_t *s, grpc_status_code code, const char *message)
{
    stream_t *st = s->stream;
    bool md_sent = st && st->md_sent;
    if (st) {
        if (st->send) grpc_byte_buffer_destroy(st->send);
        if (st->recv) grpc_byte_buffer_destroy(st->recv);
        free(st);
    }
    s->stream = NULL;
    s->on_event = NULL;   /* the status batch ends the call the usual way */
    rpc_observe_end(s, code, message);
    grpc_op *op = s->ops;
    memset(s->ops, 0, sizeof s->ops);
    if (!md_sent) {
        op->op = GRPC_OP_SEND_INITIAL_METADATA;
        op++;
    }
    rpc_send_status(s, op, code, message);
}

/* Sends the answer to req and reads the next request, in one batch. */
static void answer_and_read(call_slot_t *s, const Grpc__Reflection__V1__ServerReflectionRequest *req)
{
    stream_t *st = s->stream;
    rpc_reflection_answer_t a;
    rpc_reflection_answer(req, &a);
    st->send = grading_pb_to_buffer(&a.resp.base);
    rpc_reflection_answer_destroy(&a);
    if (!st->send) {
        stream_finish(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory encoding the answer");
        return;
    }
    grpc_op *op = st->ops;
    memset(st->ops, 0, sizeof st->ops);
    if (!st->md_sent) {
        op->op = GRPC_OP_SEND_INITIAL_METADATA;
        op++;
    }
    op->op = GRPC_OP_SEND_MESSAGE;
    op->data.send_message.send_message = st->send;
    op++;
    op->op = GRPC_OP_RECV_MESSAGE;
    op->data.recv_message.recv_message = &st->recv;
    op++;
    st->md_sent = true;
    if (grpc_call_start_batch(s->call, st->ops, (size_t)(op - st->ops), s, NULL) != GRPC_CALL_OK)
        stream_finish(s, GRPC_STATUS_INTERNAL, "cannot start the stream's next batch");
}

static void on_event(call_slot_t *s, int ok)
{
    stream_t *st = s->stream;
    grpc_byte_buffer_destroy(st->send);
    st->send = NULL;
    if (!ok) {   /* the client went away or the server is stopping */
        stream_finish(s, GRPC_STATUS_CANCELLED, "the stream broke");
        return;
    }
    if (!st->recv) {   /* the client half-closed: done */
        stream_finish(s, GRPC_STATUS_OK, NULL);
        return;
    }
    ProtobufCMessage *req = NULL;
    grading_err_t err = grading_pb_from_buffer(st->recv, &grpc__reflection__v1__server_reflection_request__descriptor,
                                               REFLECTION_MAX_REQUEST_BYTES, &req);
    grpc_byte_buffer_destroy(st->recv);
    st->recv = NULL;
    if (err) {
        stream_finish(s, rpc_status_of(err), "request is not a valid ServerReflectionRequest");
        return;
    }
    answer_and_read(s, (const Grpc__Reflection__V1__ServerReflectionRequest *)req);
    protobuf_c_message_free_unpacked(req, NULL);
}

void rpc_handle_reflection(call_slot_t *s, const ProtobufCMessage *msg)
{
    stream_t *st = calloc(1, sizeof *st);
    if (!st) {
        rpc_reply(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        return;
    }
    s->stream = st;
    s->on_event = on_event;
    s->state = SLOT_SENDING;   /* past the request: completions go to on_event */
    answer_and_read(s, (const Grpc__Reflection__V1__ServerReflectionRequest *)msg);
}
