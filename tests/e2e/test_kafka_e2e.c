/* End-to-end: Kafka replicas (issue 11) with librdkafka's mock cluster
 * (tests/kafka/kafka_mock_cluster: 3 brokers, 4 partitions) and two real
 * gradingd replicas, each with its own store.
 *
 * - events recorded through one replica are visible through every replica;
 *   with wait_applied the writer reads its own write at once;
 * - a message that is not a RecordEventsRequest, and one that fails
 *   validation, land in the dead-letter topic with their reason, and the
 *   partition moves on (a good message after them on the same key applies);
 * - kill -9 of a replica under load, restart: it catches up with no event
 *   lost or counted twice (every seller's metrics compared across replicas);
 * - brokers down: RecordEvents answers UNAVAILABLE while reads keep serving,
 *   and recording works again once they are back;
 * - ClosePeriod (close markers): test_kafka_close_e2e.c;
 * - bad Kafka flags exit 2 naming the flag; unreachable brokers: reads
 *   serve, /readyz says not caught up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "calls.h"
#include "events.h"
#include "kafka.h"
#include "load.h"
#include "testsrv.h"

#define TOPIC "grading-e2e"
#define WHEN "2026-10-05T01:00:00Z"
#define AS_OF "2026-10-20T00:00:00Z"
#define CATCH_UP_MS 60000
#define SVC "/grading.v1.GradingService/"

typedef struct {
    e2e_kafka_t kafka;
    char brokers[600];
    const char *flags[12];
    e2e_server_t *a, *b;
    double dead_before;   /* dead letters per replica before the DLQ test */
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    memset(&fx, 0, sizeof fx);
    e2e_kafka_start(&fx.kafka, 3, 4, TOPIC);
    snprintf(fx.brokers, sizeof fx.brokers, "%s", fx.kafka.bootstrap);
    const char *flags[] = {"--kafka-brokers", fx.brokers, "--kafka-topic", TOPIC,
                           /* brokers down: UNAVAILABLE after 3 s, not 10 */
                           "--kafka-config", "message.timeout.ms=3000", "--ready-max-lag", "0", NULL};
    memcpy(fx.flags, flags, sizeof flags);
    fx.a = e2e_server_start_new(fx.flags);
    fx.b = e2e_server_start_new(fx.flags);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    int rc = 0;
    if (fx->a && e2e_teardown_server((void **)&fx->a)) rc = -1;
    if (fx->b && e2e_teardown_server((void **)&fx->b)) rc = -1;
    e2e_kafka_stop(&fx->kafka);
    return rc;
}

/* Orders of seller in every window, read through s; fails the test unless
 * they are want. */
static void assert_orders(e2e_server_t *s, const char *seller, double want)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", seller, AS_OF);
    e2e_assert_windows(m, "orders", want, want, want, want);
    e2e_metrics_free(m);
}

/* Waits until seller has want orders through s (replication is
 * asynchronous); fails the test with what it saw last. */
static void wait_orders(e2e_server_t *s, const char *seller, double want)
{
    e2e_kafka_wait_orders(s, seller, AS_OF, want, CATCH_UP_MS);
}

static void add_orders(e2e_batch_t *b, const char *seller, int n, const char *tag)
{
    char id[96], order[64];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%s-%s-%d", tag, seller, i);
        snprintf(order, sizeof order, "%s-o%d", tag, i);
        e2e_add_paid(b, id, "testmart", seller, WHEN, order, 1000, "KRW", 2);
    }
}

static void test_recorded_through_one_is_visible_through_every_replica(void **state)
{
    fx_t *fx = *state;
    /* both replicas become ready once connected and caught up */
    assert_true(e2e_admin_wait(fx->a, "/readyz", 200, "ready", CATCH_UP_MS));
    assert_true(e2e_admin_wait(fx->b, "/readyz", 200, "ready", CATCH_UP_MS));

    e2e_batch_t b;
    e2e_batch_init(&b);
    add_orders(&b, "vis-1", 3, "a");
    add_orders(&b, "vis-2", 5, "a");
    add_orders(&b, "vis-3", 1, "a");
    e2e_reply_t r;
    assert_int_equal(e2e_record(fx->a->client, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r), GRPC_STATUS_OK);
    /* through the log: nothing is applied by the call itself */
    assert_int_equal(r.accepted, 0);
    const char *sellers[] = {"vis-1", "vis-2", "vis-3"};
    const double want[] = {3, 5, 1};
    for (int i = 0; i < 3; i++) {
        wait_orders(fx->a, sellers[i], want[i]);
        wait_orders(fx->b, sellers[i], want[i]);
        Grading__V1__SellerMetrics *ma = e2e_metrics(fx->a->client, "testmart", sellers[i], AS_OF);
        Grading__V1__SellerMetrics *mb = e2e_metrics(fx->b->client, "testmart", sellers[i], AS_OF);
        e2e_metrics_assert_same(ma, mb);
        e2e_metrics_free(ma);
        e2e_metrics_free(mb);
    }
    /* sending the same batch again through the other replica: duplicates
     * everywhere, counters unchanged */
    assert_int_equal(e2e_record(fx->b->client, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r), GRPC_STATUS_OK);
    assert_true(e2e_kafka_wait_applied(fx->a, 6, 0, CATCH_UP_MS));
    assert_true(e2e_kafka_wait_applied(fx->b, 6, 0, CATCH_UP_MS));
    for (int i = 0; i < 3; i++) {
        assert_orders(fx->a, sellers[i], want[i]);
        assert_orders(fx->b, sellers[i], want[i]);
    }
    e2e_batch_destroy(&b);

    /* wait_applied: the writer reads its own write at once, no polling */
    e2e_batch_t w;
    e2e_batch_init(&w);
    add_orders(&w, "ryw-1", 4, "w");
    uint32_t logged = 0;
    assert_int_equal(e2e_kafka_record_applied(fx->b->client, &w, &logged), GRPC_STATUS_OK);
    assert_int_equal(logged, 4);
    assert_orders(fx->b, "ryw-1", 4);
    wait_orders(fx->a, "ryw-1", 4);
    e2e_batch_destroy(&w);
}

/* A seller's 5,000 events in one call: several messages (at most 1,000
 * events each, under message.max.bytes), all logged and applied in order. */
static void test_a_large_batch_of_one_seller_is_split_and_applied_whole(void **state)
{
    fx_t *fx = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    add_orders(&b, "big-1", 5000, "big");
    assert_true(e2e_kafka_wait_applied(fx->a, 0, 0, CATCH_UP_MS));   /* nothing else in flight */
    double before = e2e_scrape(fx->a, "grading_kafka_messages_applied_total");
    uint32_t logged = 0;
    assert_int_equal(e2e_kafka_record_applied(fx->a->client, &b, &logged), GRPC_STATUS_OK);
    assert_int_equal(logged, 5000);
    assert_true(e2e_scrape(fx->a, "grading_kafka_messages_applied_total") == before + 5);   /* 5 x 1,000 */
    assert_orders(fx->a, "big-1", 5000);
    wait_orders(fx->b, "big-1", 5000);
    e2e_batch_destroy(&b);
}

static void test_malformed_messages_are_dead_lettered_and_the_partition_moves_on(void **state)
{
    fx_t *fx = *state;
    double dead_a = e2e_scrape(fx->a, "grading_kafka_messages_dead_lettered_total");
    double dead_b = e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total");
    assert_true(dead_a >= 0 && dead_b >= 0);

    /* one key, so one partition: garbage, then an invalid request, then a good one */
    static const char garbage[] = "\xff\xff\xff this is not protobuf";
    e2e_kafka_produce_raw(&fx->kafka, TOPIC, "dlq-seller", garbage, sizeof garbage - 1);

    e2e_batch_t bad;
    e2e_batch_init(&bad);
    e2e_add_paid(&bad, "dlq-bad-1", "testmart", "", WHEN, "o1", 1000, "KRW", 2);   /* no seller_id */
    Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    req.n_events = bad.n;
    req.events = bad.ev;
    uint8_t buf[4096];
    size_t len = grading__v1__record_events_request__pack(&req, buf);
    assert_true(len < sizeof buf);
    e2e_kafka_produce_raw(&fx->kafka, TOPIC, "dlq-seller", buf, len);
    e2e_batch_destroy(&bad);

    e2e_batch_t good;
    e2e_batch_init(&good);
    add_orders(&good, "dlq-seller", 2, "good");
    req.n_events = good.n;
    req.events = good.ev;
    len = grading__v1__record_events_request__pack(&req, buf);
    assert_true(len < sizeof buf);
    e2e_kafka_produce_raw(&fx->kafka, TOPIC, "dlq-seller", buf, len);
    e2e_batch_destroy(&good);

    wait_orders(fx->a, "dlq-seller", 2);
    wait_orders(fx->b, "dlq-seller", 2);
    assert_true(e2e_scrape(fx->a, "grading_kafka_messages_dead_lettered_total") == dead_a + 2);
    assert_true(e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total") == dead_b + 2);

    /* each replica dead-letters what it could not apply: 2 letters each */
    char reasons[8][256];
    size_t n = e2e_kafka_read_reasons(&fx->kafka, TOPIC ".dlq", 4, reasons, CATCH_UP_MS);
    assert_int_equal(n, 4);
    int not_protobuf = 0, no_seller = 0;
    for (size_t i = 0; i < n; i++) {
        if (strstr(reasons[i], "not a RecordEventsRequest")) not_protobuf++;
        else if (strstr(reasons[i], "events[0].seller_id")) no_seller++;
        else fail_msg("unexpected dead-letter reason \"%s\"", reasons[i]);
    }
    assert_int_equal(not_protobuf, 2);
    assert_int_equal(no_seller, 2);
}

static void test_kill9_replica_under_load_catches_up_exactly_once(void **state)
{
    fx_t *fx = *state;
    enum { THREADS = 3, EVENTS = 200, MAX_BATCHES = 30 };
    e2e_load_t *l = e2e_load_start(fx->a, "k9", THREADS, EVENTS, MAX_BATCHES);
    assert_true(e2e_load_wait_ok(l, 6, CATCH_UP_MS));
    e2e_server_kill(fx->b);   /* mid-stream, while it applies */
    assert_true(e2e_load_wait_ok(l, 20, CATCH_UP_MS));
    e2e_server_restart(fx->b);
    e2e_load_join(l);

    /* the replica the load went through, then the killed one, caught up */
    int64_t deadline = e2e_now_ms() + CATCH_UP_MS;
    double applied_a = -1, prev = -2;
    while (e2e_now_ms() < deadline && applied_a != prev) {   /* stable: nothing left in flight */
        prev = applied_a;
        assert_true(e2e_kafka_wait_applied(fx->a, 0, 0, CATCH_UP_MS));
        e2e_sleep_ms(200);
        applied_a = e2e_scrape(fx->a, "grading_kafka_messages_applied_total");
    }
    assert_true(e2e_kafka_wait_applied(fx->b, 0, 0, CATCH_UP_MS));

    size_t ncalls = e2e_load_ncalls(l), ok = 0;
    deadline = e2e_now_ms() + CATCH_UP_MS;
    for (size_t i = 0; i < ncalls; i++) {
        const e2e_load_call_t *c = e2e_load_call(l, i);
        Grading__V1__SellerMetrics *ma = e2e_metrics(fx->a->client, "testmart", c->seller, E2E_LOAD_AS_OF);
        double orders = e2e_metric(ma, "orders", "30d");
        /* the restarted replica converges (a lag of 0 is judged from the
         * high watermarks it last saw); counted twice would never do */
        Grading__V1__SellerMetrics *mb = NULL;
        for (;;) {
            mb = e2e_metrics(fx->b->client, "testmart", c->seller, E2E_LOAD_AS_OF);
            if (e2e_metric(mb, "orders", "30d") == orders || e2e_now_ms() > deadline) break;
            e2e_metrics_free(mb);
            e2e_sleep_ms(50);
        }
        if (c->completed && c->status == GRPC_STATUS_OK) {
            ok++;
            if (orders != EVENTS) fail_msg("%s: acknowledged but %g orders, expected %d", c->seller, orders, EVENTS);
        } else if (orders != 0 && orders != EVENTS) {
            fail_msg("%s: %g orders: a batch applied in part", c->seller, orders);
        }
        e2e_metrics_assert_same(ma, mb);   /* no event lost or counted twice on the restarted one */
        e2e_metrics_free(ma);
        e2e_metrics_free(mb);
    }
    assert_true(ok >= 20);
    e2e_load_free(l);
}

static void test_brokers_down_record_unavailable_reads_serve(void **state)
{
    fx_t *fx = *state;
    e2e_kafka_brokers_down(&fx->kafka);
    e2e_batch_t b;
    e2e_batch_init(&b);
    add_orders(&b, "down-1", 2, "d");
    e2e_reply_t r;
    assert_int_equal(e2e_record(fx->a->client, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r), GRPC_STATUS_UNAVAILABLE);
    e2e_assert_contains(r.details, "did not acknowledge");
    /* reads keep serving from the local store */
    assert_orders(fx->a, "vis-2", 5);
    assert_orders(fx->b, "vis-2", 5);

    e2e_kafka_brokers_up(&fx->kafka);
    /* the same batch again: once the brokers answer, it is logged (a retry
     * of a batch whose fate was unknown is safe: events dedupe) */
    grpc_status_code st = GRPC_STATUS_UNAVAILABLE;
    int64_t deadline = e2e_now_ms() + CATCH_UP_MS;
    while (st != GRPC_STATUS_OK && e2e_now_ms() < deadline)
        st = e2e_record(fx->a->client, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r);
    assert_int_equal(st, GRPC_STATUS_OK);
    wait_orders(fx->a, "down-1", 2);
    wait_orders(fx->b, "down-1", 2);
    e2e_batch_destroy(&b);
}

/* ---- flags (no cluster needed) ---- */

/* gradingd with flags on a fresh data dir, run to its exit. */
static void run_gradingd(e2e_server_t *s, e2e_run_t *r, const char *const *flags)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_env("GRADINGD");
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--data-dir";
    argv[n++] = s->data_dir;
    argv[n++] = "--policy";
    argv[n++] = e2e_env("GRADING_POLICY");
    for (size_t i = 0; flags[i]; i++) argv[n++] = flags[i];
    argv[n] = NULL;
    e2e_run(s->dir, argv, E2E_RUN_TIMEOUT_MS, r);
}

static void assert_refused(e2e_server_t *s, const char *const *flags, const char *needle)
{
    e2e_run_t r;
    run_gradingd(s, &r, flags);
    if (!r.exited || r.code != 2) fail_msg("expected exit code 2, got %d; stderr:\n%s", r.code, r.err);
    assert_int_equal(e2e_count_lines(r.err), 1);
    e2e_assert_contains(r.err, needle);
    e2e_run_destroy(&r);
}

static void test_bad_kafka_flags_exit_2_naming_the_flag(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    assert_refused(s, (const char *[]){"--kafka-topic", "t", NULL}, "need --kafka-brokers");
    assert_refused(s, (const char *[]){"--kafka-brokers", "127.0.0.1:1", NULL}, "--kafka-brokers needs --kafka-topic");
    assert_refused(s, (const char *[]){"--kafka-brokers", "127.0.0.1:1", "--kafka-topic", "t", "--kafka-config", "nokey", NULL},
                   "--kafka-config nokey: must be KEY=VALUE");
    assert_refused(s,
                   (const char *[]){"--kafka-brokers", "127.0.0.1:1", "--kafka-topic", "t", "--kafka-config",
                                    "no.such.property=1", NULL},
                   "no.such.property");
    assert_refused(s, (const char *[]){"--ready-max-lag", "-1", NULL}, "--ready-max-lag must be");
    e2e_server_free(s);
}

/* Brokers unreachable from the start: reads serve, readiness says why. */
static void test_unreachable_brokers_serve_reads_and_are_not_ready(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_start_new(
        (const char *[]){"--kafka-brokers", "127.0.0.1:1", "--kafka-topic", "t", NULL});
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", "nobody", AS_OF);
    e2e_assert_windows(m, "orders", 0, 0, 0, 0);
    e2e_metrics_free(m);
    assert_true(e2e_admin_wait(s, "/readyz", 503, "kafka: not caught up", E2E_CALL_TIMEOUT_MS));
    assert_int_equal(e2e_teardown_server((void **)&s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_through_one_is_visible_through_every_replica),
        cmocka_unit_test(test_a_large_batch_of_one_seller_is_split_and_applied_whole),
        cmocka_unit_test(test_malformed_messages_are_dead_lettered_and_the_partition_moves_on),
        cmocka_unit_test(test_kill9_replica_under_load_catches_up_exactly_once),
        cmocka_unit_test(test_brokers_down_record_unavailable_reads_serve),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(test_bad_kafka_flags_exit_2_naming_the_flag),
        cmocka_unit_test(test_unreachable_brokers_serve_reads_and_are_not_ready),
    };
    int failed = cmocka_run_group_tests_name("kafka flags", alone, NULL, NULL);
    return failed + cmocka_run_group_tests_name("kafka replicas", tests, setup, teardown);
}
