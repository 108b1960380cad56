/* The metric shards and their merge, the Prometheus text, and the logger
 * (text and JSON lines, traceparent parsing). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grading/log.h"
#include "grading/metrics.h"

#define THREADS 4
#define PER_THREAD 10000

static void *count_events(void *arg)
{
    const char *mp = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        grading_metrics_events(mp, GRADING_EVENTS_ACCEPTED, 1);
        grading_metrics_call_handled(3, 0, 1000);
    }
    grading_metrics_events(mp, GRADING_EVENTS_DUPLICATE, 7);
    return NULL;
}

/* Counts made on threads that have exited are kept (folded on exit), and
 * merge with live ones: nothing lost, nothing doubled. */
static void test_counts_from_exited_threads_are_merged(void **state)
{
    (void)state;
    uint64_t acc0 = grading_metrics_events_total("unit-mp", GRADING_EVENTS_ACCEPTED);
    uint64_t ok0 = grading_metrics_handled_total(3, 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&t[i], NULL, count_events, "unit-mp"), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    grading_metrics_events("unit-mp", GRADING_EVENTS_ACCEPTED, 5);   /* this thread's live shard */
    assert_int_equal(grading_metrics_events_total("unit-mp", GRADING_EVENTS_ACCEPTED) - acc0,
                     (uint64_t)THREADS * PER_THREAD + 5);
    assert_int_equal(grading_metrics_events_total("unit-mp", GRADING_EVENTS_DUPLICATE), (uint64_t)THREADS * 7);
    assert_int_equal(grading_metrics_handled_total(3, 0) - ok0, (uint64_t)THREADS * PER_THREAD);
    /* another marketplace's label is its own */
    assert_int_equal(grading_metrics_events_total("unit-other", GRADING_EVENTS_ACCEPTED), 0);
}

static char *render(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    grading_metrics_write(f);
    grading_metrics_write_process(f);
    fclose(f);
    return buf;
}

/* The value of the first line starting with prefix, or -1. */
static double value_of(const char *text, const char *prefix)
{
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) return strtod(strchr(p, ' ') + 1, NULL);
        p = strchr(p, '\n');
        if (p) p++;
    }
    return -1;
}

static void test_text_format_histograms_are_cumulative(void **state)
{
    (void)state;
    grading_metrics_name_method(5, "/grading.v1.GradingService/GetRankingBoosts", false);
    grading_metrics_name_method(6, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", true);
    grading_metrics_call_started(5);
    grading_metrics_call_started(5);
    grading_metrics_call_handled(5, 0, 50 * 1000);           /* 50 us */
    grading_metrics_call_handled(5, 5, 2 * 1000 * 1000);     /* 2 ms, NOT_FOUND */
    grading_metrics_events("unit-render", GRADING_EVENTS_REJECTED, 3);
    grading_metrics_policy_reload(GRADING_RELOAD_INVALID);
    char *t = render();
    const char *m = "grpc_type=\"unary\",grpc_service=\"grading.v1.GradingService\",grpc_method=\"GetRankingBoosts\"";
    char key[400];
    snprintf(key, sizeof key, "grpc_server_started_total{%s} ", m);
    assert_true(value_of(t, key) == 2);
    snprintf(key, sizeof key, "grpc_server_handled_total{%s,grpc_code=\"NotFound\"} ", m);
    assert_true(value_of(t, key) == 1);
    snprintf(key, sizeof key, "grpc_server_handled_total{%s,grpc_code=\"OK\"} ", m);
    assert_true(value_of(t, key) == 1);
    snprintf(key, sizeof key, "grpc_server_handling_seconds_bucket{%s,le=\"0.0001\"} ", m);
    assert_true(value_of(t, key) == 1);   /* the 50 us call */
    snprintf(key, sizeof key, "grpc_server_handling_seconds_bucket{%s,le=\"0.001\"} ", m);
    assert_true(value_of(t, key) == 1);
    snprintf(key, sizeof key, "grpc_server_handling_seconds_bucket{%s,le=\"0.0025\"} ", m);
    assert_true(value_of(t, key) == 2);   /* cumulative: both */
    snprintf(key, sizeof key, "grpc_server_handling_seconds_bucket{%s,le=\"+Inf\"} ", m);
    assert_true(value_of(t, key) == 2);
    snprintf(key, sizeof key, "grpc_server_handling_seconds_count{%s} ", m);
    assert_true(value_of(t, key) == 2);
    assert_true(value_of(t, "grading_events_total{marketplace=\"unit-render\",result=\"rejected\"} ") == 3);
    assert_true(value_of(t, "grading_events_total{marketplace=\"unit-render\",result=\"accepted\"} ") == 0);
    assert_true(value_of(t, "grading_policy_reloads_total{result=\"invalid\"} ") >= 1);
    assert_true(value_of(t, "process_resident_memory_bytes ") > 0);
    assert_true(value_of(t, "process_open_fds ") > 0);
    assert_true(value_of(t, "process_start_time_seconds ") > 1.7e9);
    assert_non_null(strstr(t, "# TYPE grpc_server_handling_seconds histogram\n"));
    assert_non_null(strstr(t, "grpc_server_started_total{grpc_type=\"bidi_stream\",grpc_service=\"grpc.reflection.v1."
                              "ServerReflection\",grpc_method=\"ServerReflectionInfo\"} 0\n"));
    assert_non_null(strstr(t, "# TYPE grading_ingest_commit_seconds histogram\n"));
    free(t);
}

static void test_traceparent_parsing(void **state)
{
    (void)state;
    char id[GRADING_TRACE_ID_LEN + 1];
    const char *good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert_true(grading_log_traceparent(good, strlen(good), id));
    assert_string_equal(id, "4bf92f3577b34da6a3ce929d0e0e4736");
    const char *bad[] = {
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   /* zero span id */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   /* upper case */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   /* version ff */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", /* 00 is exactly 55 */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",    /* short */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(grading_log_traceparent(bad[i], strlen(bad[i]), id));
        assert_string_equal(id, "");
    }
}

/* What a memstream writes into: the caller's, so the stream never points
 * into a frame that has returned (GCC's -Wdangling-pointer at -O3 cannot
 * see that the stream is closed before log_with returns). */
typedef struct {
    char *buf;
    size_t len;
} captured_t;

/* The log lines emit writes in format fmt at level lv; the caller frees
 * cap->buf. */
static char *log_with(grading_log_format_t fmt, grading_log_level_t lv, void (*emit)(void), captured_t *cap)
{
    *cap = (captured_t){0};
    FILE *f = open_memstream(&cap->buf, &cap->len);
    assert_non_null(f);
    grading_log_configure(fmt, lv, f);
    emit();
    grading_log_configure(GRADING_LOG_TEXT, GRADING_LOG_INFO, NULL);
    fclose(f);
    return cap->buf;
}

static void emit_call(void)
{
    grading_log_ctx_t ctx = {.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"};
    grading_log_field_t f[] = {{"method", "/grading.v1.GradingService/GetGrade", 0},
                               {"code", "INVALID_ARGUMENT", 0},
                               {"duration_ms", NULL, 0.25},
                               {"message", "seller_id: is \"required\"\n", 0}};
    grading_log_fields(GRADING_LOG_WARN, &ctx, "call failed", f, 4);
    grading_log(GRADING_LOG_DEBUG, "hidden below info");
}

static void test_log_json_and_text(void **state)
{
    (void)state;
    captured_t cj, ct;
    char *j = log_with(GRADING_LOG_JSON, GRADING_LOG_INFO, emit_call, &cj);
    assert_non_null(strstr(j, "\"level\":\"warn\",\"msg\":\"call failed\",\"method\":\"/grading.v1.GradingService/GetGrade\""));
    assert_non_null(strstr(j, "\"duration_ms\":0.25"));
    assert_non_null(strstr(j, "\"message\":\"seller_id: is \\\"required\\\"\\u000a\""));
    assert_non_null(strstr(j, "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}\n"));
    assert_null(strstr(j, "hidden"));
    assert_int_equal(strchr(j, '\n') - j + 1, (long)strlen(j));   /* one line */
    free(j);

    char *t = log_with(GRADING_LOG_TEXT, GRADING_LOG_DEBUG, emit_call, &ct);
    assert_int_equal(strncmp(t, "gradingd: ", 10), 0);
    assert_non_null(strstr(t, " WARN call failed method=/grading.v1.GradingService/GetGrade code=INVALID_ARGUMENT "
                              "duration_ms=0.25 message=\"seller_id: is \\\"required\\\"\\u000a\" "
                              "trace_id=4bf92f3577b34da6a3ce929d0e0e4736\n"));
    assert_non_null(strstr(t, " DEBUG hidden below info\n"));   /* debug level shows it */
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_from_exited_threads_are_merged),
        cmocka_unit_test(test_text_format_histograms_are_cumulative),
        cmocka_unit_test(test_traceparent_parsing),
        cmocka_unit_test(test_log_json_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
