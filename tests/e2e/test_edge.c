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
 * 3. The per-source connection limit: connections of one address beyond
 *    it are closed, another address's are served.
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

/* The flood is a number of streams, so it is the same flood on a busy
 * machine, only slower; FLOOD_SECONDS bounds it. */
#define FLOOD_STREAMS 100000
#define FLOOD_STREAMS_ARG "100000"
#define FLOOD_SECONDS "60"
#define FLOOD_TIMEOUT_MS 90000
#define HEALTH_PACE_MS 20
#define RSS_LIMIT_KB (64 * 1024)
#define P99_LIMIT_MS 50
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
    /* At nice 10: a real attacker does not run on the server's CPUs; on
     * one shared machine it would take them from gradingd, HAProxy and the
     * health client alike (on an idle machine it changes nothing). */
    const char *args[] = {"flood",     "--target",        f->edge.addr, "--source", "127.0.0.2",
                          "--streams", FLOOD_STREAMS_ARG, "--seconds",  FLOOD_SECONDS,
                          "--connections", "4", "--nice", "10", NULL};
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
    printf("# flood through the edge: %.*s\n", (int)strcspn(out, "\n"), out);
    printf("# gradingd RssAnon: %lld kB before, %lld kB max, %lld kB after; haproxy max %lld kB\n",
           (long long)rss_before, (long long)rss_max, (long long)rss_after, (long long)edge_rss_max);
    printf("# health through the edge: %zu checks, %zu failed, p50 %lld ms, p99 %lld ms, max %lld ms\n", n, failed,
           (long long)p50, (long long)p99, (long long)lat[n - 1]);
    json_decref(rep);
    free(out);
    free(lat);
    grading_client_free(c);

    if (streams < FLOOD_STREAMS)
        fail_msg("the flood sent only %lld of %d streams in %s s", (long long)streams, FLOOD_STREAMS, FLOOD_SECONDS);
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

static json_t *conns_report(fixture_t *f, pid_t pid, const char *out_path)
{
    (void)f;
    char *out = e2e_h2client_wait(pid, out_path, E2E_RUN_TIMEOUT_MS);
    json_t *rep = parse_report(out);
    printf("# %.*s\n", (int)strcspn(out, "\n"), out);
    free(out);
    return rep;
}

static void connection_limit_closes_one_sources_extra_connections(void **state)
{
    fixture_t *f = *state;
    const char *env[] = {"GRADING_EDGE_SRC_CONN_MAX=3", NULL};
    e2e_edge_start(&f->edge, f->srv, env);

    /* Both at once: 127.0.0.3 opens 6 and holds them while calling on
     * each, 127.0.0.4 opens 3. */
    char out3[E2E_PATH_MAX], out4[E2E_PATH_MAX];
    snprintf(out3, sizeof out3, "%s/conns3.out", f->srv->dir);
    snprintf(out4, sizeof out4, "%s/conns4.out", f->srv->dir);
    const char *a3[] = {"conns", "--target", f->edge.addr, "--source", "127.0.0.3", "--count", "6", NULL};
    const char *a4[] = {"conns", "--target", f->edge.addr, "--source", "127.0.0.4", "--count", "3", NULL};
    pid_t p3 = e2e_h2client_spawn(a3, out3), p4 = e2e_h2client_spawn(a4, out4);
    json_t *r3 = conns_report(f, p3, out3), *r4 = conns_report(f, p4, out4);
    assert_int_equal(report_int(r3, "served"), 3);
    assert_int_equal(report_int(r3, "failed"), 3);
    assert_int_equal(report_int(r4, "served"), 3);
    assert_int_equal(report_int(r4, "failed"), 0);
    json_decref(r3);
    json_decref(r4);
}

/* Under AddressSanitizer, freed memory sits in a quarantine (256 MB by
 * default) and counts in RssAnon, so the flood would measure ASan rather
 * than gradingd: the server child gets a small quarantine, and memory that
 * grpc really keeps still shows. */
static void limit_asan_quarantine(void)
{
#ifdef __SANITIZE_ADDRESS__
    const char *cur = getenv("ASAN_OPTIONS");
    char opts[512];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=4", cur ? cur : "", cur && *cur ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
#endif
}

int main(void)
{
    char why[E2E_PATH_MAX + 128];
    limit_asan_quarantine();
    if (!e2e_edge_available(why, sizeof why)) {
        printf("SKIP: %s\n", why);
        return SKIP_CODE;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rapid_reset_through_edge_spares_gradingd, setup, teardown),
        cmocka_unit_test_setup_teardown(rate_limit_refuses_one_source_serves_another, setup, teardown),
        cmocka_unit_test_setup_teardown(connection_limit_closes_one_sources_extra_connections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
