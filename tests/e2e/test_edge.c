/* End-to-end: the edge (HAProxy with deploy/haproxy/haproxy.cfg) in front
 * of the real gradingd, both on loopback.
 *
 * 1. A rapid-reset flood (CVE-2023-44487: 4 connections opening and
 *    resetting streams as fast as they can, from 127.0.0.2) through the
 *    edge, while a well-behaved gRPC client (127.0.0.1) checks health
 *    through the edge: gradingd's RssAnon stays under 64 MB, every check
 *    answers SERVING, p99 under 50 ms. Straight at gradingd the same flood
 *    grows it by gigabytes (tests/edge/edge_bench.py shows it; not a test).
 * 2. The per-source request rate limit: a client above it is refused with
 *    RESOURCE_EXHAUSTED while a client from another address is served.
 *
 * Skips (exit 77) when haproxy or python3-h2 is missing; scripts/setup.sh
 * installs both. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge.h"
#include "testsrv.h"

#define FLOOD_SECONDS "10"
#define FLOOD_TIMEOUT_MS 30000
#define HEALTH_PACE_MS 20
#define RSS_LIMIT_KB (64 * 1024)
#define P99_LIMIT_MS 50
/* A flood that managed fewer streams than this did not test anything. */
#define FLOOD_MIN_STREAMS 20000
#define RATE_LIMIT 20
#define RATE_LIMIT_ENV "GRADING_EDGE_SRC_REQ_RATE=20"
#define SKIP_CODE 77

#define HEALTH_METHOD "/grpc.health.v1.Health/Check"

typedef struct {
    e2e_server_t *srv;
    e2e_edge_t edge;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    if (e2e_setup_server((void **)&f->srv) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    e2e_edge_stop(&f->edge);
    int rc = e2e_teardown_server((void **)&f->srv);
    free(f);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile of n sorted values. */
static int64_t percentile(const int64_t *sorted, size_t n, int p)
{
    size_t rank = (n * (size_t)p + 99) / 100;
    return sorted[rank ? rank - 1 : 0];
}

/* The last line of the h2client's output that is a JSON object. */
static json_t *parse_report(const char *out)
{
    const char *line = NULL;
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (*p == '{') line = p;
    if (!line) fail_msg("no JSON report in the h2client output:\n%s", out);
    json_error_t jerr;
    json_t *j = json_loadb(line, strcspn(line, "\n"), 0, &jerr);
    if (!j) fail_msg("bad JSON report (%s):\n%s", jerr.text, out);
    return j;
}

static json_int_t report_int(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v)) fail_msg("h2client report has no integer \"%s\"", key);
    return json_integer_value(v);
}

static void rapid_reset_through_edge_spares_gradingd(void **state)
{
    fixture_t *f = *state;
    e2e_edge_start(&f->edge, f->srv, NULL);   /* the shipped limits */
    grading_client_t *c = NULL;
    assert_int_equal(grading_client_new(f->edge.addr, &c), GRADING_OK);

    int64_t rss_before = e2e_rss_anon_kb(f->srv->pid);
    char out_path[E2E_PATH_MAX];
    snprintf(out_path, sizeof out_path, "%s/flood.out", f->srv->dir);
    const char *args[] = {"flood",     "--target",    f->edge.addr, "--source", "127.0.0.2",
                          "--seconds", FLOOD_SECONDS, "--connections", "4",       NULL};
    pid_t flood = e2e_h2client_spawn(args, out_path);

    /* Health checks, paced, for as long as the flood runs (bounded). */
    size_t cap = 4096, n = 0, failed = 0;
    int64_t *lat = malloc(cap * sizeof *lat);
    assert_non_null(lat);
    int64_t rss_max = rss_before, edge_rss_max = 0, deadline = e2e_now_ms() + FLOOD_TIMEOUT_MS;
    int last_bad = 0;
    while (e2e_now_ms() < deadline && n < cap) {
        int64_t t0 = e2e_now_ms();
        int h = e2e_health(c, 1000);
        lat[n++] = e2e_now_ms() - t0;
        if (h != E2E_SERVING) failed++, last_bad = h;
        int64_t rss = e2e_rss_anon_kb(f->srv->pid), erss = e2e_rss_anon_kb(f->edge.pid);
        if (rss > rss_max) rss_max = rss;
        if (erss > edge_rss_max) edge_rss_max = erss;
        if (e2e_child_exited(flood)) break;
        e2e_sleep_ms(HEALTH_PACE_MS);
    }
    char *out = e2e_h2client_wait(flood, out_path, deadline - e2e_now_ms() + 1000);
    json_t *rep = parse_report(out);
    json_int_t streams = report_int(rep, "streams");
    qsort(lat, n, sizeof *lat, cmp_i64);
    int64_t p50 = percentile(lat, n, 50), p99 = percentile(lat, n, 99);
    int64_t rss_after = e2e_rss_anon_kb(f->srv->pid);
    printf("# flood through the edge: %lld streams in %s s (%.*s)\n", (long long)streams, FLOOD_SECONDS,
           (int)strcspn(out, "\n"), out);
    printf("# gradingd RssAnon: %lld kB before, %lld kB max, %lld kB after; haproxy max %lld kB\n",
           (long long)rss_before, (long long)rss_max, (long long)rss_after, (long long)edge_rss_max);
    printf("# health through the edge: %zu checks, %zu failed, p50 %lld ms, p99 %lld ms, max %lld ms\n", n, failed,
           (long long)p50, (long long)p99, (long long)lat[n - 1]);
    json_decref(rep);
    free(out);
    free(lat);
    grading_client_free(c);

    if (streams < FLOOD_MIN_STREAMS)
        fail_msg("the flood opened only %lld streams (< %d): not a flood", (long long)streams, FLOOD_MIN_STREAMS);
    if (n < 100) fail_msg("only %zu health checks during the flood", n);
    if (failed) fail_msg("%zu of %zu health checks failed (last answer %d)", failed, n, last_bad);
    if (rss_max < 0 || rss_max >= RSS_LIMIT_KB)
        fail_msg("gradingd's RssAnon reached %lld kB (limit %d kB)", (long long)rss_max, RSS_LIMIT_KB);
    if (p99 >= P99_LIMIT_MS) fail_msg("health p99 %lld ms (limit %d ms)", (long long)p99, P99_LIMIT_MS);
    assert_true(e2e_server_running(f->srv, NULL));
}

/* One Health/Check through c; returns the gRPC status, *message (if not
 * NULL) a copy of its message. */
static int health_status(grading_client_t *c, char **message)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, HEALTH_METHOD, &req.base,
                                         &grpc__health__v1__health_check_response__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &resp, &res),
                     GRADING_OK);
    int status = (int)res.status;
    if (message) *message = strdup(res.details ? res.details : "");
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
    return status;
}

static void rate_limit_refuses_one_source_serves_another(void **state)
{
    fixture_t *f = *state;
    const char *env[] = {RATE_LIMIT_ENV, NULL};
    e2e_edge_start(&f->edge, f->srv, env);
    grading_client_t *c = NULL;
    assert_int_equal(grading_client_new(f->edge.addr, &c), GRADING_OK);

    /* 127.0.0.1 (this client; the start-up check counted too) calls twice
     * the limit: at most RATE_LIMIT pass, the rest are refused. */
    int ok = 0, refused = 0, other = 0;
    char *msg = NULL;
    for (int i = 0; i < 2 * RATE_LIMIT; i++) {
        char *m = NULL;
        int st = health_status(c, &m);
        if (st == GRPC_STATUS_OK) ok++;
        else if (st == GRPC_STATUS_RESOURCE_EXHAUSTED) refused++, free(msg), msg = m, m = NULL;
        else other++;
        free(m);
    }
    printf("# 127.0.0.1: %d served, %d refused (%s), %d other\n", ok, refused, msg ? msg : "", other);
    assert_int_equal(other, 0);
    assert_true(ok >= 1);
    assert_true(ok <= RATE_LIMIT);
    assert_int_equal(ok + refused, 2 * RATE_LIMIT);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "rate limit"));
    free(msg);

    /* Another address, meanwhile, is served every time... */
    char out_path[E2E_PATH_MAX];
    snprintf(out_path, sizeof out_path, "%s/health.out", f->srv->dir);
    const char *args[] = {"health", "--target", f->edge.addr, "--source", "127.0.0.2", "--count", "10", NULL};
    char *out = e2e_h2client_wait(e2e_h2client_spawn(args, out_path), out_path, E2E_RUN_TIMEOUT_MS);
    json_t *rep = parse_report(out);
    printf("# 127.0.0.2: %.*s\n", (int)strcspn(out, "\n"), out);
    assert_int_equal(report_int(rep, "calls"), 10);
    assert_int_equal(report_int(rep, "serving"), 10);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rep, "statuses"), "0")), 10);
    json_decref(rep);
    free(out);

    /* ...while the first is still refused. */
    assert_int_equal(health_status(c, NULL), GRPC_STATUS_RESOURCE_EXHAUSTED);
    grading_client_free(c);
}

int main(void)
{
    char why[E2E_PATH_MAX + 128];
    if (!e2e_edge_available(why, sizeof why)) {
        printf("SKIP: %s\n", why);
        return SKIP_CODE;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rapid_reset_through_edge_spares_gradingd, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_limit_refuses_one_source_serves_another, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
