/* Operations on the real gradingd (issue 10): /metrics shows the families
 * with live values after real calls (accepted, duplicate and rejected
 * events per marketplace, handled calls per code); every failed call is
 * logged with method, code, duration and message, and a traceparent's
 * trace id; successful calls only with --access-log; JSON logs; the
 * effective configuration at start-up; /readyz turns 503 while draining
 * and /healthz stays 200. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "events.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define TRACEPARENT "00-" TRACE_ID "-00f067aa0ba902b7-01"
#define GRADE_SERIES(code)                                                                                   \
    "grpc_server_handled_total{grpc_type=\"unary\",grpc_service=\"grading.v1.GradingService\","             \
    "grpc_method=\"GetGrade\",grpc_code=\"" code "\"}"

/* GetGrade of seller (empty: an INVALID_ARGUMENT) on c; returns the status. */
static grpc_status_code get_grade(grading_client_t *c, const char *seller)
{
    Grading__V1__GetGradeRequest g = GRADING__V1__GET_GRADE_REQUEST__INIT;
    g.seller_id = (char *)seller;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetGrade", &g.base, &grading__v1__grade_report__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res),
                     GRADING_OK);
    grpc_status_code st = res.status;
    if (out) protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
    return st;
}

static void test_metrics_and_failed_call_logs(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;

    /* events: 3 accepted, then the same 3 as duplicates, then a batch
     * refused whole (an event without a seller): 2 rejected */
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "ops-1", "testmart", "ops-seller", "2026-10-05T01:00:00Z", "o1", 15000, "KRW", 2);
    e2e_add_paid(&b, "ops-2", "testmart", "ops-seller", "2026-10-06T01:00:00Z", "o2", 15000, "KRW", 2);
    e2e_add_paid(&b, "ops-3", "nymart", "ops-seller", "2026-10-06T01:00:00Z", "o3", 15000, "USD", 2);
    e2e_record_ok(c, b.ev, b.n, 3, 0);
    e2e_record_ok(c, b.ev, b.n, 0, 3);
    e2e_batch_destroy(&b);
    /* ops-1 again with another amount: a conflict, neither accepted nor a duplicate */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "ops-1", "testmart", "ops-seller", "2026-10-05T01:00:00Z", "o1", 16000, "KRW", 2);
    e2e_record_ok(c, b.ev, b.n, 0, 0);
    e2e_batch_destroy(&b);
    e2e_batch_init(&b);
    e2e_add_paid(&b, "ops-4", "testmart", "ops-seller", "2026-10-05T01:00:00Z", "o4", 15000, "KRW", 2);
    e2e_add_paid(&b, "ops-5", "testmart", NULL, "2026-10-05T01:00:00Z", "o5", 15000, "KRW", 2);
    e2e_reply_t rep;
    assert_int_equal(e2e_record(c, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &rep), GRPC_STATUS_INVALID_ARGUMENT);
    e2e_batch_destroy(&b);

    /* calls: one good, one bad without a trace, one bad with one */
    assert_int_equal(get_grade(c, "ops-seller"), GRPC_STATUS_OK);
    assert_int_equal(get_grade(c, ""), GRPC_STATUS_INVALID_ARGUMENT);
    grading_client_t *traced = e2e_client_new(s);
    assert_non_null(traced);
    assert_int_equal(grading_client_add_metadata(traced, "traceparent", TRACEPARENT), GRADING_OK);
    assert_int_equal(get_grade(traced, ""), GRPC_STATUS_INVALID_ARGUMENT);
    grading_client_free(traced);

    char *m = NULL;
    assert_int_equal(e2e_admin_get(s, "/metrics", &m), 200);
    assert_true(e2e_series(m, "grading_events_total{marketplace=\"testmart\",result=\"accepted\"}") == 2);
    assert_true(e2e_series(m, "grading_events_total{marketplace=\"nymart\",result=\"accepted\"}") == 1);
    assert_true(e2e_series(m, "grading_events_total{marketplace=\"testmart\",result=\"duplicate\"}") == 2);
    assert_true(e2e_series(m, "grading_events_total{marketplace=\"nymart\",result=\"duplicate\"}") == 1);
    assert_true(e2e_series(m, "grading_events_total{marketplace=\"testmart\",result=\"rejected\"}") == 2);
    assert_true(e2e_series(m, "grading_events_total{marketplace=\"testmart\",result=\"conflict\"}") == 1);
    assert_true(e2e_series(m, "grading_events_total{marketplace=\"nymart\",result=\"conflict\"}") == 0);
    /* a marketplace of the policy with no events yet shows its zeros */
    assert_true(e2e_series(m, "grading_events_total{marketplace=\"jpmart\",result=\"accepted\"}") == 0);
    assert_true(e2e_series(m, GRADE_SERIES("OK")) == 1);
    assert_true(e2e_series(m, GRADE_SERIES("InvalidArgument")) == 2);
    assert_true(e2e_series(m, "grpc_server_started_total{grpc_type=\"unary\",grpc_service=\"grading.v1."
                              "GradingService\",grpc_method=\"RecordEvents\"}") == 4);
    /* three commits with events (the refused batch never reached the writer) */
    assert_true(e2e_series(m, "grading_ingest_batch_events_count") == 3);
    assert_true(e2e_series(m, "grading_ingest_batch_events_sum") == 7);
    assert_true(e2e_series(m, "grading_ingest_commit_seconds_count") >= 2);
    assert_true(e2e_series(m, "grading_lmdb_used_bytes") > 0);
    assert_true(e2e_series(m, "grading_lmdb_map_bytes") >= e2e_series(m, "grading_lmdb_used_bytes"));
    assert_true(e2e_series(m, "grading_lmdb_readers") >= 1);
    assert_true(e2e_series(m, "grading_ingest_queue_depth") == 0);
    assert_true(e2e_series(m, "grading_close_in_progress") == 0);
    assert_true(e2e_series(m, "grading_policy_reloads_total{result=\"ok\"}") == 0);
    assert_true(e2e_series(m, "process_resident_memory_bytes") > 1e6);
    e2e_assert_contains(m, "grading_policy_info{marketplace=\"testmart\",version=\"");
    free(m);

    /* the log: both failures with what an operator needs; the traced one
     * carries the trace id; the good call is not logged (no access log) */
    char *log = e2e_server_log(s);
    e2e_assert_contains(log, "effective configuration listen=127.0.0.1:0 ");
    e2e_assert_contains(log, " WARN call failed method=/grading.v1.GradingService/GetGrade code=INVALID_ARGUMENT "
                             "duration_ms=");
    e2e_assert_contains(log, "message=\"seller_id: is required");
    e2e_assert_contains(log, "trace_id=" TRACE_ID "\n");
    e2e_assert_contains(log, " WARN call failed method=/grading.v1.GradingService/RecordEvents code=INVALID_ARGUMENT");
    size_t traced_lines = 0;
    for (const char *p = log; (p = strstr(p, TRACE_ID)); p++) traced_lines++;
    assert_int_equal(traced_lines, 1);   /* only the traced call's line */
    assert_null(strstr(log, " INFO call method="));
    free(log);
}

static int setup_json(void **state)
{
    *state = e2e_server_start_new((const char *[]){"--log-format", "json", "--access-log", "--drain-ms", "5000", NULL});
    return 0;
}

static void test_json_access_log_and_drain(void **state)
{
    e2e_server_t *s = *state;
    assert_int_equal(get_grade(s->client, "ops-json"), GRPC_STATUS_OK);
    assert_true(e2e_log_wait(s, "\"level\":\"info\",\"msg\":\"call\",\"method\":\"/grading.v1.GradingService/GetGrade\","
                                "\"code\":\"OK\",\"duration_ms\":", E2E_CALL_TIMEOUT_MS));
    char *log = e2e_server_log(s);
    /* every line is one JSON object */
    for (const char *line = log; *line;) {
        if (line[0] != '{') fail_msg("a log line that is not JSON:\n%s", log);
        const char *nl = strchr(line, '\n');
        if (!nl) break;
        if (nl[-1] != '}') fail_msg("a log line that is not JSON:\n%s", log);
        line = nl + 1;
    }
    e2e_assert_contains(log, "\"msg\":\"effective configuration\"");
    free(log);

    assert_true(e2e_admin_wait(s, "/readyz", 200, "ready", E2E_CALL_TIMEOUT_MS));
    e2e_server_signal(s, SIGTERM);
    /* draining: not ready, still alive, and still serving calls */
    if (!e2e_admin_wait(s, "/readyz", 503, "draining", 4000)) fail_msg("/readyz did not say draining");
    char *body = NULL;
    assert_int_equal(e2e_admin_get(s, "/healthz", &body), 200);
    free(body);
    assert_int_equal(get_grade(s->client, "ops-json"), GRPC_STATUS_OK);
    int status = e2e_server_wait(s, E2E_STOP_TIMEOUT_MS);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Bad operations flags: exit 2 with one line naming the flag, before
 * anything starts. */
static void test_bad_operations_flags(void **state)
{
    e2e_server_t *s = *state;
    const char *cases[][3] = {
        {"--admin-listen", "localhost:9464", "--admin-listen must be HOST:PORT"},
        {"--admin-listen", "127.0.0.1:70000", "--admin-listen must be HOST:PORT"},
        {"--log-format", "xml", "--log-format must be text or json"},
        {"--log-level", "verbose", "--log-level must be debug, info, warn or error"},
        {"--access-log-sample", "1.5", "--access-log-sample must be a number from 0 to 1"},
        {"--liveness-timeout-ms", "5", "--liveness-timeout-ms must be 100..3600000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {e2e_env("GRADINGD"), "--policy", e2e_env("GRADING_POLICY"), "--data-dir",
                              s->data_dir, "--listen", "127.0.0.1:0", cases[i][0], cases[i][1], NULL};
        e2e_run_t r;
        e2e_run(s->dir, argv, E2E_RUN_TIMEOUT_MS, &r);
        if (!r.exited || r.code != 2 || e2e_count_lines(r.err) != 1)
            fail_msg("%s %s: expected exit 2 and one line, got %d:\n%s", cases[i][0], cases[i][1], r.code, r.err);
        e2e_assert_contains(r.err, cases[i][2]);
        e2e_run_destroy(&r);
    }
    /* the admin port taken: a clear error, exit 2, not a half-started server */
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%d", s->admin_port);
    const char *argv[] = {e2e_env("GRADINGD"), "--policy", e2e_env("GRADING_POLICY"), "--data-dir", s->dir,
                          "--listen", "127.0.0.1:0", "--admin-listen", busy, NULL};
    e2e_run_t r;
    e2e_run(s->dir, argv, E2E_RUN_TIMEOUT_MS, &r);
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_assert_contains(r.err, "admin-listen: cannot listen on");
    e2e_run_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_and_failed_call_logs, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_json_access_log_and_drain, setup_json, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_bad_operations_flags, e2e_setup_server, e2e_teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
