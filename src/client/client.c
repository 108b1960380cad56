/* A blocking unary gRPC client on grpc C core.
 *
 * One channel and one pluck completion queue per client. A call is one
 * batch holding all six client ops (send metadata, message and close;
 * receive metadata, message and status), and the caller's thread plucks
 * that batch's tag: grpc runs the exchange, we only wait. The call's
 * deadline bounds the wait, so the pluck itself needs none.
 *
 * grpc_init is reference counted: each client holds one reference, so
 * clients may come and go in any order, on any thread.
 *
 * The channel is plaintext, or TLS (mTLS with a client certificate) with
 * grading_client_new_opts, which may also add headers to every call (a
 * bearer token). Reconnect backoff is kept short so a
 * client that called before the server was up recovers within a second
 * of it starting, which is what scripts and tests that start a server
 * expect. */
#include "grading/client.h"

#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "client_tls.h"
#include "grading/pb.h"

#define CLIENT_DEFAULT_TIMEOUT_MS 30000
/* The largest reply we accept; the default 4 MiB is too tight for a
 * metrics reply of many custom counters. */
#define CLIENT_MAX_RECV_BYTES (64 * 1024 * 1024)
/* Backoff between connection attempts. (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS:
 * that one is the connect timeout, which must stay generous.) */
#define CLIENT_RECONNECT_MIN_MS 100
#define CLIENT_RECONNECT_MAX_MS 1000

#define CLIENT_MAX_METADATA 4

struct grading_client {
    grpc_channel *channel;
    grpc_completion_queue *cq;
    /* sent on every call: --token/headers, plus grading_client_add_metadata's */
    grpc_metadata md[GRADING_CLIENT_MAX_HEADERS + 1 + CLIENT_MAX_METADATA];
    size_t nmd;
};

grading_err_t grading_client_add_metadata(grading_client_t *c, const char *key, const char *value)
{
    if (c->nmd >= sizeof c->md / sizeof c->md[0]) return GRADING_EFULL;
    c->md[c->nmd].key = grpc_slice_from_copied_string(key);
    c->md[c->nmd].value = grpc_slice_from_copied_string(value);
    c->nmd++;
    return GRADING_OK;
}

/* client_stream.c's view of the client (client_internal.h). */
grpc_call *client_create_call(grading_client_t *c, const char *method, gpr_timespec deadline)
{
    return grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                    grpc_slice_from_static_string(method), NULL, deadline, NULL);
}
grpc_completion_queue *client_cq(grading_client_t *c) { return c->cq; }
const grpc_metadata *client_metadata(grading_client_t *c, size_t *n)
{
    *n = c->nmd;
    return c->nmd ? c->md : NULL;
}

grading_err_t grading_client_new(const char *addr, grading_client_t **out)
{
    grading_error_t e = {0};
    return grading_client_new_opts(addr, NULL, out, &e);
}

grading_err_t grading_client_new_opts(const char *addr, const grading_client_options_t *o,
                                      grading_client_t **out, grading_error_t *e)
{
    *out = NULL;
    grpc_channel_credentials *creds = NULL;
    grading_client_t *c = calloc(1, sizeof *c);
    if (!c) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    grpc_init();

    grpc_arg args[4] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = CLIENT_MAX_RECV_BYTES},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
         .value.integer = CLIENT_RECONNECT_MIN_MS},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
         .value.integer = CLIENT_RECONNECT_MAX_MS},
    };
    grpc_channel_args chargs = {.num_args = 3, .args = args};
    if (o && o->tls_server_name) {
        args[3] = (grpc_arg){.type = GRPC_ARG_STRING, .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                             .value.string = (char *)o->tls_server_name};
        chargs.num_args = 4;
    }
    if (o && (o->tls_ca || o->tls_cert || o->tls_key)) {
        if (grading_client_tls_credentials(o, &creds, e)) goto fail;
    } else if (!(creds = grpc_insecure_credentials_create())) {
        grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    if (o && grading_client_headers(o, c->md, &c->nmd, e)) goto fail;
    c->channel = grpc_channel_create(addr, creds, &chargs);
    c->cq = grpc_completion_queue_create_for_pluck(NULL);
    if (!c->channel || !c->cq) {
        grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    grpc_channel_credentials_release(creds);   /* the channel keeps its own reference */
    *out = c;
    return GRADING_OK;
fail:
    if (creds) grpc_channel_credentials_release(creds);
    if (c->channel) grpc_channel_destroy(c->channel);
    if (c->cq) grpc_completion_queue_destroy(c->cq);
    grading_client_headers_free(c->md, c->nmd);
    free(c);
    grpc_shutdown();
    return e->code ? e->code : GRADING_ENOMEM;
}

void grading_client_free(grading_client_t *c)
{
    if (!c) return;
    grpc_channel_destroy(c->channel);
    /* Every call's batch was plucked, so the only event left is the
     * shutdown itself; destroying before seeing it would be a misuse. */
    grpc_completion_queue_shutdown(c->cq);
    grpc_event ev;
    do {
        ev = grpc_completion_queue_pluck(c->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    } while (ev.type != GRPC_QUEUE_SHUTDOWN);
    grpc_completion_queue_destroy(c->cq);
    grading_client_headers_free(c->md, c->nmd);
    free(c);
    grpc_shutdown();
}

char *client_dup_slice(grpc_slice s)
{
    size_t n = GRPC_SLICE_LENGTH(s);
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, GRPC_SLICE_START_PTR(s), n);
    p[n] = '\0';
    return p;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

grading_err_t grading_client_call(grading_client_t *c, const char *method, const ProtobufCMessage *req,
                                  const ProtobufCMessageDescriptor *resp_desc, int64_t timeout_ms,
                                  ProtobufCMessage **out_resp, grading_call_result_t *res)
{
    grading_err_t err = GRADING_OK;
    grpc_call *call = NULL;
    grpc_byte_buffer *req_bb = NULL;
    grpc_byte_buffer *resp_bb = NULL;
    grpc_metadata_array initial_md, trailing_md;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    *out_resp = NULL;
    res->status = GRPC_STATUS_UNKNOWN;
    res->details = NULL;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);

    if (timeout_ms <= 0) timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));

    req_bb = grading_pb_to_buffer(req);
    if (!req_bb) {
        err = GRADING_ENOMEM;
        res->details = dup_str("cannot serialise the request");
        goto fail;
    }
    /* The method slice only needs to live through create_call. */
    call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                    grpc_slice_from_static_string(method), NULL, deadline, NULL);
    if (!call) {
        err = GRADING_EIO;
        res->details = dup_str("cannot create the call");
        goto fail;
    }

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = c->nmd;
    ops[0].data.send_initial_metadata.metadata = c->nmd ? c->md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = req_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &resp_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;

    void *tag = call;   /* any address unique to this call */
    grpc_call_error cerr = grpc_call_start_batch(call, ops, sizeof ops / sizeof ops[0], tag, NULL);
    if (cerr != GRPC_CALL_OK) {
        err = GRADING_EIO;
        res->details = dup_str("cannot start the call");
        goto fail;
    }
    grpc_event ev = grpc_completion_queue_pluck(c->cq, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE || !ev.success) {
        err = GRADING_EIO;
        res->details = dup_str("the call did not complete");
        goto fail;
    }

    res->status = status;
    res->details = client_dup_slice(details);
    if (!res->details) {
        err = GRADING_ENOMEM;
        goto fail;
    }
    if (status == GRPC_STATUS_OK) {
        err = grading_pb_from_buffer(resp_bb, resp_desc, SIZE_MAX, out_resp);
        if (err == GRADING_ENOMEM) goto fail;
        if (err) err = GRADING_EINVAL;   /* the reply is not a resp_desc message */
    }
fail:
    if (call) grpc_call_unref(call);
    if (req_bb) grpc_byte_buffer_destroy(req_bb);
    if (resp_bb) grpc_byte_buffer_destroy(resp_bb);
    grpc_metadata_array_destroy(&initial_md);
    grpc_metadata_array_destroy(&trailing_md);
    grpc_slice_unref(details);
    return err;
}

void grading_call_result_destroy(grading_call_result_t *res)
{
    if (!res) return;
    free(res->details);
    res->details = NULL;
}
