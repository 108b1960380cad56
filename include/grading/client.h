/* A blocking gRPC client over grpc C core, for gradectl, the benchmark and
 * the end-to-end tests. One client per thread: calls on one client must not
 * overlap. Plaintext, or TLS/mTLS and call headers with
 * grading_client_new_opts. */
#ifndef GRADING_CLIENT_H
#define GRADING_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "grading/err.h"

typedef struct grading_client grading_client_t;

/* Result of one call. details is owned by the result: free it with
 * grading_call_result_destroy. */
typedef struct {
    grpc_status_code status;
    char *details;               /* status message, "" if none; malloc'd */
} grading_call_result_t;

/* Connects lazily to addr ("127.0.0.1:50051"). Errors: GRADING_ENOMEM. */
grading_err_t grading_client_new(const char *addr, grading_client_t **out);
void grading_client_free(grading_client_t *c);

#define GRADING_CLIENT_MAX_HEADERS 8

/* How to reach a server that asks more than plaintext. */
typedef struct {
    const char *tls_ca;            /* PEM file of the server's CA: TLS when set */
    const char *tls_cert;          /* client certificate and key (mTLS); both or neither */
    const char *tls_key;
    const char *tls_server_name;   /* the name to check in the server certificate (default: addr's host) */
    const char *bearer_token;      /* sent as "authorization: Bearer TOKEN" */
    /* further headers on every call: key, value, key, value, ..., NULL */
    const char *const *headers;
} grading_client_options_t;

/* Like grading_client_new with TLS and headers. Errors: GRADING_EIO (a
 * file cannot be read; *e names its flag), GRADING_EINVAL, GRADING_ENOMEM. */
grading_err_t grading_client_new_opts(const char *addr, const grading_client_options_t *o,
                                      grading_client_t **out, grading_error_t *e);

/* Unary call of `method` ("/grading.v1.GradingService/GetSellerMetrics").
 * On status OK, *out_resp holds the decoded reply (the caller frees it with
 * protobuf_c_message_free_unpacked); otherwise *out_resp is NULL.
 * Returns GRADING_OK when the call completed (whatever its status; read
 * res->status), GRADING_EIO when it could not be made, GRADING_EINVAL when
 * the reply does not decode. timeout_ms <= 0 means 30 s. */
grading_err_t grading_client_call(grading_client_t *c, const char *method,
                                  const ProtobufCMessage *req,
                                  const ProtobufCMessageDescriptor *resp_desc, int64_t timeout_ms,
                                  ProtobufCMessage **out_resp, grading_call_result_t *res);

void grading_call_result_destroy(grading_call_result_t *res);

/* Sends key: value (copied) with every later call of c, e.g. a W3C
 * "traceparent". At most 4; GRADING_EFULL beyond. */
grading_err_t grading_client_add_metadata(grading_client_t *c, const char *key, const char *value);

/* grading_status_name: status_name.h (in the wire library). */
#include "grading/status_name.h"

/* ---- server streaming (client_stream.c) ----
 * One request, then messages until the server ends the call. While a
 * stream is open its client makes no other call. */
typedef struct grading_client_stream grading_client_stream_t;

/* Starts method with req. Errors: GRADING_ENOMEM, GRADING_EIO (the call
 * could not start). The stream is the caller's: grading_client_stream_free. */
grading_err_t grading_client_stream_open(grading_client_t *c, const char *method, const ProtobufCMessage *req,
                                         grading_client_stream_t **out);

/* Waits up to timeout_ms (<= 0: no limit) for the next message. On a
 * message: *out_msg (the caller frees it). When the call has ended:
 * *out_msg NULL and *res its status (destroy it). When the wait timed
 * out: *out_msg NULL, *timed_out true (call again to keep waiting).
 * Errors: GRADING_EINVAL (a message that does not decode), GRADING_ENOMEM. */
grading_err_t grading_client_stream_next(grading_client_stream_t *s, const ProtobufCMessageDescriptor *desc,
                                         int64_t timeout_ms, ProtobufCMessage **out_msg, bool *timed_out,
                                         grading_call_result_t *res);

/* Cancels the call if it is still going and frees the stream. */
void grading_client_stream_free(grading_client_stream_t *s);

#endif
