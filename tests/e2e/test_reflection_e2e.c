/* gRPC server reflection on the real gradingd (issue 10), spoken the way
 * grpcurl does: one bidirectional stream, requests answered in order, on
 * grpc.reflection.v1 and v1alpha. `list` names our services; describing a
 * service, a method or a message returns its file (with its imports) as
 * parseable FileDescriptorProtos; unknown names are NOT_FOUND answers on a
 * stream that stays usable; half-closing ends the call with OK. */
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grading/pb.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "testsrv.h"

#define V1 "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
#define V1ALPHA "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"

typedef Grpc__Reflection__V1__ServerReflectionRequest req_t;
typedef Grpc__Reflection__V1__ServerReflectionResponse resp_t;

typedef struct {
    grpc_channel *ch;
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array md;
    int tag;
} stream_t;

static void run_batch(stream_t *st, grpc_op *ops, size_t n)
{
    assert_int_equal(grpc_call_start_batch(st->call, ops, n, &st->tag, NULL), GRPC_CALL_OK);
    gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(E2E_CALL_TIMEOUT_MS, GPR_TIMESPAN));
    grpc_event ev = grpc_completion_queue_pluck(st->cq, &st->tag, dl, NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    assert_true(ev.success);
}

static void stream_open(stream_t *st, const e2e_server_t *s, const char *method)
{
    memset(st, 0, sizeof *st);
    grpc_init();
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    st->ch = grpc_channel_create(s->addr, creds, NULL);
    grpc_channel_credentials_release(creds);
    st->cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(E2E_CALL_TIMEOUT_MS, GPR_TIMESPAN));
    st->call = grpc_channel_create_call(st->ch, NULL, GRPC_PROPAGATE_DEFAULTS, st->cq,
                                        grpc_slice_from_static_string(method), NULL, dl, NULL);
    assert_non_null(st->call);
    grpc_metadata_array_init(&st->md);
    grpc_op ops[1] = {{.op = GRPC_OP_SEND_INITIAL_METADATA}};
    run_batch(st, ops, 1);
}

/* Sends one request, reads one answer (caller frees it). */
static resp_t *ask(stream_t *st, req_t *req)
{
    grpc_byte_buffer *out = grading_pb_to_buffer(&req->base), *in = NULL;
    assert_non_null(out);
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = out;
    if (st->md.count == 0 && !st->md.metadata) {
        ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[n++].data.recv_initial_metadata.recv_initial_metadata = &st->md;
    }
    ops[n].op = GRPC_OP_RECV_MESSAGE;
    ops[n++].data.recv_message.recv_message = &in;
    run_batch(st, ops, n);
    grpc_byte_buffer_destroy(out);
    if (!in) fail_msg("the stream ended instead of answering");
    ProtobufCMessage *m = NULL;
    assert_int_equal(grading_pb_from_buffer(in, &grpc__reflection__v1__server_reflection_response__descriptor,
                                            1 << 24, &m), GRADING_OK);
    grpc_byte_buffer_destroy(in);
    return (resp_t *)m;
}

/* Half-closes and returns the call's status. */
static grpc_status_code stream_close(stream_t *st)
{
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_metadata_array trailing;
    grpc_metadata_array_init(&trailing);
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[1].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[1].data.recv_status_on_client.status = &status;
    ops[1].data.recv_status_on_client.status_details = &details;
    ops[1].data.recv_status_on_client.trailing_metadata = &trailing;
    run_batch(st, ops, 2);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&trailing);
    grpc_metadata_array_destroy(&st->md);
    grpc_call_unref(st->call);
    grpc_channel_destroy(st->ch);
    grpc_completion_queue_shutdown(st->cq);
    while (grpc_completion_queue_pluck(st->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(st->cq);
    grpc_shutdown();
    return status;
}

static bool lists(const resp_t *r, const char *name)
{
    if (r->message_response_case != GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE)
        return false;
    for (size_t i = 0; i < r->list_services_response->n_service; i++)
        if (strcmp(r->list_services_response->service[i]->name, name) == 0) return true;
    return false;
}

/* The files of a file answer, parsed; the first is the one asked for. */
static Google__Protobuf__FileDescriptorProto *file_at(const resp_t *r, size_t i)
{
    if (r->message_response_case != GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE)
        fail_msg("expected a file answer, got case %d", (int)r->message_response_case);
    assert_true(i < r->file_descriptor_response->n_file_descriptor_proto);
    ProtobufCBinaryData b = r->file_descriptor_response->file_descriptor_proto[i];
    Google__Protobuf__FileDescriptorProto *fd = google__protobuf__file_descriptor_proto__unpack(NULL, b.len, b.data);
    assert_non_null(fd);
    return fd;
}

static resp_t *ask_symbol(stream_t *st, const char *sym)
{
    req_t q = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    q.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    q.file_containing_symbol = (char *)sym;
    return ask(st, &q);
}

static void check_stream(const e2e_server_t *s, const char *method)
{
    stream_t st;
    stream_open(&st, s, method);

    req_t q = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    q.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    q.list_services = "*";
    resp_t *r = ask(&st, &q);
    assert_true(lists(r, "grading.v1.GradingService"));
    assert_true(lists(r, "grpc.health.v1.Health"));
    assert_true(lists(r, "grpc.reflection.v1.ServerReflection"));
    assert_true(lists(r, "grpc.reflection.v1alpha.ServerReflection"));
    assert_false(lists(r, "grading.v1.Nope"));
    assert_string_equal(r->original_request->list_services, "*");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* describe the service: its file first, then its imports */
    r = ask_symbol(&st, "grading.v1.GradingService");
    Google__Protobuf__FileDescriptorProto *fd = file_at(r, 0);
    assert_string_equal(fd->name, "grading/v1/grading.proto");
    assert_string_equal(fd->package, "grading.v1");
    bool has_boosts = false;
    for (size_t i = 0; i < fd->n_service; i++)
        for (size_t m = 0; m < fd->service[i]->n_method; m++)
            has_boosts |= strcmp(fd->service[i]->method[m]->name, "GetRankingBoosts") == 0;
    assert_true(has_boosts);
    protobuf_c_message_free_unpacked(&fd->base, NULL);
    bool has_timestamp = false;
    for (size_t i = 1; i < r->file_descriptor_response->n_file_descriptor_proto; i++) {
        Google__Protobuf__FileDescriptorProto *dep = file_at(r, i);
        has_timestamp |= strcmp(dep->name, "google/protobuf/timestamp.proto") == 0;
        protobuf_c_message_free_unpacked(&dep->base, NULL);
    }
    assert_true(has_timestamp);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* a method, a message, a file by name */
    const char *syms[] = {"grading.v1.GradingService.GetGrade", "grading.v1.GetGradeRequest",
                          "grpc.health.v1.HealthCheckResponse.ServingStatus"};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        r = ask_symbol(&st, syms[i]);
        fd = file_at(r, 0);
        protobuf_c_message_free_unpacked(&fd->base, NULL);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    q = (req_t)GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    q.message_request_case = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME;
    q.file_by_filename = "grpc/health/v1/health.proto";
    r = ask(&st, &q);
    fd = file_at(r, 0);
    assert_string_equal(fd->package, "grpc.health.v1");
    protobuf_c_message_free_unpacked(&fd->base, NULL);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* unknown names: NOT_FOUND answers, and the stream goes on */
    r = ask_symbol(&st, "grading.v1.NoSuchThing");
    assert_int_equal(r->message_response_case, GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE);
    assert_int_equal(r->error_response->error_code, GRPC_STATUS_NOT_FOUND);
    assert_non_null(strstr(r->error_response->error_message, "grading.v1.NoSuchThing"));
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = ask_symbol(&st, "grading.v1");   /* a package is not a symbol */
    assert_int_equal(r->message_response_case, GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    q = (req_t)GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;   /* asks nothing */
    r = ask(&st, &q);
    assert_int_equal(r->error_response->error_code, GRPC_STATUS_INVALID_ARGUMENT);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    assert_int_equal(stream_close(&st), GRPC_STATUS_OK);
}

static void test_reflection_v1(void **state) { check_stream(*state, V1); }
static void test_reflection_v1alpha(void **state) { check_stream(*state, V1ALPHA); }

/* A client that goes away mid-stream does not wedge the server: the next
 * call is served and the server stops cleanly (the teardown checks). */
static void test_abandoned_stream(void **state)
{
    e2e_server_t *s = *state;
    stream_t st;
    stream_open(&st, s, V1);
    grpc_call_cancel(st.call, NULL);
    grpc_metadata_array_destroy(&st.md);
    grpc_call_unref(st.call);
    grpc_channel_destroy(st.ch);
    grpc_completion_queue_shutdown(st.cq);
    while (grpc_completion_queue_pluck(st.cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(st.cq);
    grpc_shutdown();
    check_stream(s, V1);
    assert_int_equal(e2e_health(s->client, E2E_CALL_TIMEOUT_MS), E2E_SERVING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reflection_v1, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_reflection_v1alpha, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_abandoned_stream, e2e_setup_server, e2e_teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
