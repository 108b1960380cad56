/* End-to-end: how gradingd starts and stops.
 *
 * - bad flags, an unusable data directory, a bad policy: exit code 2, a
 *   message on stderr naming what is wrong, no port file (never served);
 * - SIGTERM while threads keep calling RecordEvents: every call either
 *   answered OK (and its events are there after a restart) or failed as
 *   UNAVAILABLE/CANCELLED (and none of its events are there); calls in
 *   flight at the signal complete; the process exits 0;
 * - with --drain-ms, health answers NOT_SERVING during the drain while
 *   calls are still served;
 * - SIGINT stops cleanly too.
 * The tests run as root in CI, so "no permission" cases cannot be made:
 * an unusable data dir is a path under a regular file, or a regular file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "load.h"
#include "testsrv.h"

#define FLAG_RUN_TIMEOUT_MS 10000

static int setup_unstarted(void **state)
{
    *state = e2e_server_new(NULL);
    return 0;
}

/* Runs gradingd with the given flags after the usual ones (a port file, a
 * data dir and the test policy unless overridden: getopt takes the last
 * value of a flag given twice). */
static void run_gradingd(e2e_server_t *s, e2e_run_t *r, const char *const *flags)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_env("GRADINGD");
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--port-file";
    argv[n++] = s->port_file;
    argv[n++] = "--data-dir";
    argv[n++] = s->data_dir;
    argv[n++] = "--policy";
    argv[n++] = e2e_env("GRADING_POLICY");
    argv[n++] = "--admin-listen";
    argv[n++] = "127.0.0.1:0";
    for (size_t i = 0; flags[i]; i++) argv[n++] = flags[i];
    argv[n] = NULL;
    e2e_run(s->dir, argv, FLAG_RUN_TIMEOUT_MS, r);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Exit code 2, nothing on stdout, exactly one line on stderr that starts
 * with "gradingd: " and contains each of needles; never served. */
static void assert_usage_exit(e2e_server_t *s, const e2e_run_t *r, const char *const *needles)
{
    if (!r->exited) fail_msg("gradingd died of signal %d; stderr:\n%s", r->signal, r->err);
    if (r->code != 2) fail_msg("expected exit code 2, got %d; stderr:\n%s", r->code, r->err);
    if (e2e_count_lines(r->err) != 1)
        fail_msg("expected a one-line message on stderr, got %zu lines:\n%s", e2e_count_lines(r->err), r->err);
    assert_int_equal(strncmp(r->err, "gradingd: ", 10), 0);
    assert_string_equal(r->out, "");
    for (size_t i = 0; needles[i]; i++) e2e_assert_contains(r->err, needles[i]);
    if (exists(s->port_file)) fail_msg("a failed start wrote the port file %s", s->port_file);
}

static void test_bad_flags_exit_2(void **state)
{
    e2e_server_t *s = *state;
    e2e_run_t r;

    run_gradingd(s, &r, (const char *[]){"--bogus", NULL});
    assert_usage_exit(s, &r, (const char *[]){"--bogus", NULL});
    e2e_run_destroy(&r);

    run_gradingd(s, &r, (const char *[]){"--threads", "0", NULL});
    assert_usage_exit(s, &r, (const char *[]){"--threads", "\"0\"", NULL});
    e2e_run_destroy(&r);

    run_gradingd(s, &r, (const char *[]){"--map-size", "lots", NULL});
    assert_usage_exit(s, &r, (const char *[]){"--map-size", "lots", NULL});
    e2e_run_destroy(&r);

    run_gradingd(s, &r, (const char *[]){"--drain-ms", "-1", NULL});
    assert_usage_exit(s, &r, (const char *[]){"--drain-ms", NULL});
    e2e_run_destroy(&r);

    run_gradingd(s, &r, (const char *[]){"stray", NULL});
    assert_usage_exit(s, &r, (const char *[]){"stray", NULL});
    e2e_run_destroy(&r);

    run_gradingd(s, &r, (const char *[]){"--listen", NULL});
    assert_usage_exit(s, &r, (const char *[]){"--listen", NULL});
    e2e_run_destroy(&r);
}

static void test_help_exit_0(void **state)
{
    e2e_server_t *s = *state;
    e2e_run_t r;
    const char *argv[] = {e2e_env("GRADINGD"), "--help", NULL};
    e2e_run(s->dir, argv, FLAG_RUN_TIMEOUT_MS, &r);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    e2e_assert_contains(r.out, "--listen");
    e2e_assert_contains(r.out, "--data-dir");
    e2e_assert_contains(r.out, "--policy");
    e2e_assert_contains(r.out, "--threads");
    e2e_run_destroy(&r);
}

static void test_unusable_data_dir_exit_2(void **state)
{
    e2e_server_t *s = *state;
    char file[E2E_PATH_MAX], under[E2E_PATH_MAX + 8];
    e2e_write_file(s->dir, "plain-file", "not a directory\n", file);
    e2e_run_t r;

    /* a path under a regular file */
    snprintf(under, sizeof under, "%s/data", file);
    run_gradingd(s, &r, (const char *[]){"--data-dir", under, NULL});
    assert_usage_exit(s, &r, (const char *[]){under, NULL});
    e2e_run_destroy(&r);

    /* a regular file itself */
    run_gradingd(s, &r, (const char *[]){"--data-dir", file, NULL});
    assert_usage_exit(s, &r, (const char *[]){file, NULL});
    e2e_run_destroy(&r);

    /* the file was not touched */
    e2e_run_t cat;
    const char *argv[] = {"/bin/cat", file, NULL};
    e2e_run(s->dir, argv, FLAG_RUN_TIMEOUT_MS, &cat);
    assert_string_equal(cat.out, "not a directory\n");
    e2e_run_destroy(&cat);
}

/* A policy the loader rejects: exit 2, every stderr line from gradingd,
 * the file and the position of the fault named, never served. (The loader
 * reports every fault it finds, one per line after a header line, so this
 * is not required to be a single line.) */
static void check_bad_policy(e2e_server_t *s, const char *name, const char *text, const char *const *needles)
{
    char path[E2E_PATH_MAX];
    e2e_run_t r;
    if (text) e2e_write_file(s->dir, name, text, path);
    else snprintf(path, sizeof path, "%s/%s", s->dir, name);
    run_gradingd(s, &r, (const char *[]){"--policy", path, NULL});
    if (!r.exited || r.code != 2)
        fail_msg("policy %s: expected exit code 2, got %s %d; stderr:\n%s", name, r.exited ? "exit" : "signal",
                 r.exited ? r.code : r.signal, r.err);
    assert_string_equal(r.out, "");
    assert_true(e2e_count_lines(r.err) >= 1);
    for (const char *line = r.err; *line;) {
        if (strncmp(line, "gradingd: ", 10) != 0) fail_msg("a stderr line not from gradingd:\n%s", r.err);
        const char *nl = strchr(line, '\n');
        if (!nl) break;
        line = nl + 1;
    }
    e2e_assert_contains(r.err, path);
    for (size_t i = 0; needles[i]; i++) e2e_assert_contains(r.err, needles[i]);
    if (exists(s->port_file)) fail_msg("a failed start wrote the port file %s", s->port_file);
    e2e_run_destroy(&r);
}

static void test_invalid_policy_exit_2(void **state)
{
    e2e_server_t *s = *state;
    check_bad_policy(s, "syntax.yaml", "version: 1\nmarketplaces: [\n", (const char *[]){"syntax.yaml:", NULL});
    check_bad_policy(s, "zone.yaml",
                     "version: 1\n"
                     "default_marketplace: testmart\n"
                     "marketplaces:\n"
                     "  testmart:\n"
                     "    time_zone: Mars/Olympus\n"
                     "    currency: KRW\n",
                     (const char *[]){"zone.yaml:5:", "Mars/Olympus", NULL});
    check_bad_policy(s, "default.yaml",
                     "version: 1\n"
                     "default_marketplace: nomart\n"
                     "marketplaces:\n"
                     "  testmart:\n"
                     "    time_zone: Asia/Seoul\n"
                     "    currency: KRW\n",
                     (const char *[]){"default.yaml:2:", "nomart", NULL});
    check_bad_policy(s, "missing.yaml", NULL, (const char *[]){"missing.yaml", NULL});
}

/* ---- stopping with calls in flight ---- */

/* After a restart: each load call's fate matches what its caller saw. */
static void check_load_outcome(e2e_server_t *s, e2e_load_t *l, int64_t sigterm_ms, size_t *ok_in_flight,
                               size_t *ok_after_signal)
{
    const int events = e2e_load_batch_events(l);
    size_t ok = 0, failed = 0;
    *ok_in_flight = *ok_after_signal = 0;
    for (size_t i = 0; i < e2e_load_ncalls(l); i++) {
        const e2e_load_call_t *c = e2e_load_call(l, i);
        Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", c->seller, E2E_LOAD_AS_OF);
        double orders = e2e_metric(m, "orders", "30d");
        double gmv = e2e_metric(m, "gmv", "30d");
        e2e_metrics_free(m);
        if (c->completed && c->status == GRPC_STATUS_OK) {
            ok++;
            if (c->accepted != (uint32_t)events || c->duplicates != 0)
                fail_msg("%s: reply accepted %u duplicates %u, expected %d and 0", c->seller, c->accepted,
                         c->duplicates, events);
            if (orders != events || gmv != (double)events * E2E_LOAD_AMOUNT)
                fail_msg("%s: answered OK around SIGTERM, but after restart orders %g gmv %g (expected %d, %d)",
                         c->seller, orders, gmv, events, events * E2E_LOAD_AMOUNT);
            if (c->start_ms < sigterm_ms && c->end_ms > sigterm_ms) (*ok_in_flight)++;
            if (c->start_ms > sigterm_ms) (*ok_after_signal)++;
        } else {
            failed++;
            if (!c->completed || (c->status != GRPC_STATUS_UNAVAILABLE && c->status != GRPC_STATUS_CANCELLED))
                fail_msg("%s: a call around SIGTERM failed as %s (%s), expected OK, UNAVAILABLE or CANCELLED",
                         c->seller, c->completed ? grading_status_name(c->status) : "not completed", c->details);
            if (orders != 0)
                fail_msg("%s: the call failed as %s (%s), yet %g of its %d orders are stored", c->seller,
                         grading_status_name(c->status), c->details, orders, events);
        }
    }
    print_message("SIGTERM under load: %zu calls OK (%zu in flight at the signal, %zu started after it), "
                  "%zu failed\n",
                  ok, *ok_in_flight, *ok_after_signal, failed);
}

static void test_sigterm_with_calls_in_flight(void **state)
{
    e2e_server_t *s = *state;
    e2e_load_t *l = e2e_load_start(s, "term", 6, 500, 400);
    if (!e2e_load_wait_ok(l, 12, 30000)) {
        e2e_load_stop(l);
        fail_msg("the load threads got fewer than 12 batches through in 30 s");
    }
    int64_t sigterm_ms = e2e_now_ms();
    e2e_server_signal(s, SIGTERM);
    int st = e2e_server_wait(s, E2E_STOP_TIMEOUT_MS);
    int64_t stop_ms = e2e_now_ms() - sigterm_ms;
    e2e_load_join(l);   /* after the exit every call fails fast: the threads stop */
    bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!clean) e2e_server_dump_log(s);
    else print_message("gradingd exited 0, %lld ms after SIGTERM\n", (long long)stop_ms);

    /* what the callers were told holds after a restart, even if the stop
     * was not clean (checked first: it tells whether a crash lost data) */
    e2e_server_restart(s);
    size_t in_flight = 0, after = 0;
    check_load_outcome(s, l, sigterm_ms, &in_flight, &after);
    e2e_load_free(l);
    if (!clean)
        fail_msg("gradingd under load: after SIGTERM expected exit code 0, got %s %d",
                 WIFSIGNALED(st) ? "signal" : "exit code", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    /* the threads were calling back to back: calls were in flight at the
     * signal, and those complete rather than being dropped */
    if (in_flight == 0) fail_msg("no call in flight at SIGTERM completed OK");
}

static void test_sigterm_drain_not_serving_then_exit_0(void **state)
{
    e2e_server_t *s = e2e_server_new((const char *[]){"--drain-ms", "1500", NULL});
    *state = s;   /* the teardown frees it */
    e2e_server_start(s);
    e2e_load_t *l = e2e_load_start(s, "drain", 3, 300, 3000);
    if (!e2e_load_wait_ok(l, 6, 30000)) {
        e2e_load_stop(l);
        fail_msg("the load threads got fewer than 6 batches through in 30 s");
    }
    int64_t sigterm_ms = e2e_now_ms();
    e2e_server_signal(s, SIGTERM);

    /* health turns NOT_SERVING at once, and calls are still served */
    int health = -1;
    for (int i = 0; i < 100 && health != E2E_NOT_SERVING; i++) {
        health = e2e_health(s->client, 1000);
        if (health != E2E_NOT_SERVING) e2e_sleep_ms(10);
    }
    int64_t seen_ms = e2e_now_ms() - sigterm_ms;
    if (health != E2E_NOT_SERVING) fail_msg("health never said NOT_SERVING during the drain (last %d)", health);
    if (seen_ms >= 1500) fail_msg("health said NOT_SERVING only %lld ms after SIGTERM", (long long)seen_ms);
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "drain-main-1", "testmart", "drain-main", "2026-10-05T01:00:00Z", "o1", 4200, "KRW", 2);
    e2e_record_ok(s->client, b.ev, b.n, 1, 0);

    int st = e2e_server_wait(s, E2E_STOP_TIMEOUT_MS);
    e2e_load_join(l);
    bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!clean) e2e_server_dump_log(s);

    e2e_server_restart(s);
    size_t in_flight = 0, after = 0;
    check_load_outcome(s, l, sigterm_ms, &in_flight, &after);
    e2e_load_free(l);
    e2e_batch_destroy(&b);
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", "drain-main", E2E_LOAD_AS_OF);
    double orders = e2e_metric(m, "orders", "30d"), gmv = e2e_metric(m, "gmv", "30d");
    e2e_metrics_free(m);
    if (orders != 1 || gmv != 4200)
        fail_msg("the call answered OK during the drain: after restart orders %g gmv %g, expected 1 and 4200",
                 orders, gmv);
    if (!clean)
        fail_msg("gradingd with --drain-ms: after SIGTERM expected exit code 0, got %s %d",
                 WIFSIGNALED(st) ? "signal" : "exit code", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    if (after == 0) fail_msg("no load call started during the drain was served");
}

static void test_sigint_stops_cleanly(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "int-1", "testmart", "int-seller", "2026-10-05T01:00:00Z", "o1", 300, "KRW", 2);
    e2e_record_ok(s->client, b.ev, b.n, 1, 0);
    e2e_server_signal(s, SIGINT);
    int st = e2e_server_wait(s, E2E_STOP_TIMEOUT_MS);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        e2e_server_dump_log(s);
        fail_msg("after SIGINT expected exit code 0, got status 0x%x", st);
    }
    e2e_server_restart(s);
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", "int-seller", E2E_LOAD_AS_OF);
    e2e_assert_windows(m, "orders", 1, 1, 1, 1);
    e2e_metrics_free(m);
    e2e_record_ok(s->client, b.ev, b.n, 0, 1);
    e2e_batch_destroy(&b);
}

static void test_idle_client_does_not_hold_the_stop(void **state)
{
    e2e_server_t *s = *state;
    /* the main client is connected and idle */
    assert_int_equal(e2e_health(s->client, 2000), E2E_SERVING);
    int64_t t0 = e2e_now_ms();
    e2e_server_stop_ok(s);
    int64_t took = e2e_now_ms() - t0;
    /* well inside the default 10 s grace */
    if (took > 5000) fail_msg("stopping with one idle client took %lld ms", (long long)took);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_flags_exit_2, setup_unstarted, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_help_exit_0, setup_unstarted, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_unusable_data_dir_exit_2, setup_unstarted, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_invalid_policy_exit_2, setup_unstarted, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_sigterm_with_calls_in_flight, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_teardown(test_sigterm_drain_not_serving_then_exit_0, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_sigint_stops_cleanly, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_idle_client_does_not_hold_the_stop, e2e_setup_server,
                                        e2e_teardown_server),
    };
    return cmocka_run_group_tests_name("e2e lifecycle", tests, NULL, NULL);
}
