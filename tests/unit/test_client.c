/* The blocking client without a server: a closed port fails fast with
 * UNAVAILABLE, a peer that never answers ends at the deadline, clients
 * come and go freely, and every status code has its name. Loopback only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "grading/client.h"
#include "grpc/health/v1/health.pb-c.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A loopback socket bound to a free port; listening or not. */
static int loopback_socket(int listening, char *addr, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    if (listening) assert_int_equal(listen(fd, 4), 0);
    snprintf(addr, len, "127.0.0.1:%d", ntohs(sa.sin_port));
    return fd;
}

static grading_err_t health_call(grading_client_t *c, int64_t timeout_ms, ProtobufCMessage **resp,
                                 grading_call_result_t *res)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    return grading_client_call(c, "/grpc.health.v1.Health/Check", &req.base,
                               &grpc__health__v1__health_check_response__descriptor, timeout_ms, resp, res);
}

static void test_closed_port_is_unavailable_before_the_deadline(void **state)
{
    (void)state;
    char addr[64];
    /* Bound but not listening: connections to it are refused. */
    int fd = loopback_socket(0, addr, sizeof addr);
    grading_client_t *c = NULL;
    assert_int_equal(grading_client_new(addr, &c), GRADING_OK);

    ProtobufCMessage *resp = (ProtobufCMessage *)0x1;
    grading_call_result_t res = {0};
    int64_t t0 = now_ms();
    assert_int_equal(health_call(c, 5000, &resp, &res), GRADING_OK);
    int64_t took = now_ms() - t0;
    assert_int_equal(res.status, GRPC_STATUS_UNAVAILABLE);
    assert_null(resp);
    assert_non_null(res.details);
    assert_true(took < 4000);   /* a refusal, not the 5 s deadline */
    grading_call_result_destroy(&res);
    assert_null(res.details);

    /* The same client can call again and gets the same answer. */
    assert_int_equal(health_call(c, 5000, &resp, &res), GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_UNAVAILABLE);
    grading_call_result_destroy(&res);
    grading_client_free(c);
    close(fd);
}

static void test_silent_peer_ends_at_the_deadline(void **state)
{
    (void)state;
    char addr[64];
    /* Listening, so TCP connects, but nobody ever speaks HTTP/2. */
    int fd = loopback_socket(1, addr, sizeof addr);
    grading_client_t *c = NULL;
    assert_int_equal(grading_client_new(addr, &c), GRADING_OK);
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    int64_t t0 = now_ms();
    assert_int_equal(health_call(c, 300, &resp, &res), GRADING_OK);
    int64_t took = now_ms() - t0;
    assert_int_equal(res.status, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_null(resp);
    assert_true(took >= 250);
    assert_true(took < 10000);
    grading_call_result_destroy(&res);
    grading_client_free(c);
    close(fd);
}

static void test_clients_can_be_made_and_freed_in_any_order(void **state)
{
    (void)state;
    char addr[64];
    int fd = loopback_socket(0, addr, sizeof addr);
    grading_client_t *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(grading_client_new(addr, &a), GRADING_OK);
    assert_int_equal(grading_client_new(addr, &b), GRADING_OK);
    grading_client_free(a);   /* b still works after a's grpc reference is gone */
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(health_call(b, 2000, &resp, &res), GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_UNAVAILABLE);
    grading_call_result_destroy(&res);
    assert_int_equal(grading_client_new(addr, &c), GRADING_OK);
    grading_client_free(b);
    grading_client_free(c);
    grading_client_free(NULL);
    close(fd);
}

static void test_every_status_code_has_its_name(void **state)
{
    (void)state;
    static const struct {
        grpc_status_code code;
        const char *name;
    } names[] = {
        {GRPC_STATUS_OK, "OK"},
        {GRPC_STATUS_CANCELLED, "CANCELLED"},
        {GRPC_STATUS_UNKNOWN, "UNKNOWN"},
        {GRPC_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
        {GRPC_STATUS_DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
        {GRPC_STATUS_NOT_FOUND, "NOT_FOUND"},
        {GRPC_STATUS_ALREADY_EXISTS, "ALREADY_EXISTS"},
        {GRPC_STATUS_PERMISSION_DENIED, "PERMISSION_DENIED"},
        {GRPC_STATUS_RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"},
        {GRPC_STATUS_FAILED_PRECONDITION, "FAILED_PRECONDITION"},
        {GRPC_STATUS_ABORTED, "ABORTED"},
        {GRPC_STATUS_OUT_OF_RANGE, "OUT_OF_RANGE"},
        {GRPC_STATUS_UNIMPLEMENTED, "UNIMPLEMENTED"},
        {GRPC_STATUS_INTERNAL, "INTERNAL"},
        {GRPC_STATUS_UNAVAILABLE, "UNAVAILABLE"},
        {GRPC_STATUS_DATA_LOSS, "DATA_LOSS"},
        {GRPC_STATUS_UNAUTHENTICATED, "UNAUTHENTICATED"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_string_equal(grading_status_name(names[i].code), names[i].name);
    assert_string_equal(grading_status_name((grpc_status_code)99), "UNKNOWN_STATUS");
    grading_call_result_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_port_is_unavailable_before_the_deadline),
        cmocka_unit_test(test_silent_peer_ends_at_the_deadline),
        cmocka_unit_test(test_clients_can_be_made_and_freed_in_any_order),
        cmocka_unit_test(test_every_status_code_has_its_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
