/* End-to-end: ClosePeriod in Kafka mode (issue 11, close markers) with the
 * mock cluster (3 brokers, 4 partitions) and two gradingd replicas.
 *
 * - a ClosePeriod through one replica while events of the period keep
 *   arriving through the other: both publish identical GetGradeHistory,
 *   a second ClosePeriod is already_closed on both, markers are not
 *   dead-lettered;
 * - a replica killed -9 after the markers were written (before it reached
 *   them), and one killed -9 once it reached a marker (holding partitions,
 *   closing or done), restarted, finish the close identically;
 * - markers in only some partitions: those partitions are held, the hold
 *   survives a kill -9, and their later events stay out of the close;
 * - dry_run evaluates locally and writes no marker; a bad period is
 *   refused naming the field and writes no marker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "calls.h"
#include "events.h"
#include "kafka.h"
#include "testsrv.h"

#define TOPIC "grading-close-e2e"
#define CATCH_UP_MS 60000
#define SVC "/grading.v1.GradingService/"
#define SELLERS 20

typedef struct {
    e2e_kafka_t kafka;
    char brokers[600];
    const char *flags[12];
    e2e_server_t *a, *b;
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    memset(&fx, 0, sizeof fx);
    e2e_kafka_start(&fx.kafka, 3, 4, TOPIC);
    snprintf(fx.brokers, sizeof fx.brokers, "%s", fx.kafka.bootstrap);
    const char *flags[] = {"--kafka-brokers", fx.brokers, "--kafka-topic", TOPIC, "--ready-max-lag", "0", NULL};
    memcpy(fx.flags, flags, sizeof flags);
    fx.a = e2e_server_start_new(fx.flags);
    fx.b = e2e_server_start_new(fx.flags);
    assert_true(e2e_admin_wait(fx.a, "/readyz", 200, "ready", CATCH_UP_MS));
    assert_true(e2e_admin_wait(fx.b, "/readyz", 200, "ready", CATCH_UP_MS));
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

/* ClosePeriod of kind through c; *status and details copied; the reply or NULL. */
static Grading__V1__ClosePeriodResponse *close_kind(grading_client_t *c, Grading__V1__PeriodKind kind,
                                                    const char *period, bool dry, grpc_status_code *status,
                                                    char *details, size_t len)
{
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.marketplace = "testmart";
    req.kind = kind;
    req.period = (char *)period;
    req.dry_run = dry;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "ClosePeriod", &req.base,
                                         &grading__v1__close_period_response__descriptor, 200000, &out, &res),
                     GRADING_OK);
    *status = res.status;
    snprintf(details, len, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    return (Grading__V1__ClosePeriodResponse *)out;
}

static Grading__V1__ClosePeriodResponse *close_month(grading_client_t *c, const char *period, bool dry,
                                                     grpc_status_code *status, char *details, size_t len)
{
    return close_kind(c, GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, period, dry, status, details, len);
}

static Grading__V1__ClosePeriodResponse *close_kind_ok(grading_client_t *c, Grading__V1__PeriodKind kind,
                                                       const char *period, bool dry)
{
    grpc_status_code st;
    char details[400];
    Grading__V1__ClosePeriodResponse *r = close_kind(c, kind, period, dry, &st, details, sizeof details);
    if (st != GRPC_STATUS_OK) fail_msg("ClosePeriod %s: status %d %s", period, (int)st, details);
    assert_non_null(r);
    return r;
}

static Grading__V1__ClosePeriodResponse *close_month_ok(grading_client_t *c, const char *period, bool dry)
{
    return close_kind_ok(c, GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, period, dry);
}

static Grading__V1__GradeHistory *history_of(grading_client_t *c, Grading__V1__PeriodKind kind, const char *seller)
{
    Grading__V1__GetGradeHistoryRequest h = GRADING__V1__GET_GRADE_HISTORY_REQUEST__INIT;
    h.marketplace = "testmart";
    h.seller_id = (char *)seller;
    h.kind = kind;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetGradeHistory", &h.base, &grading__v1__grade_history__descriptor,
                                         10000, &out, &res),
                     GRADING_OK);
    if (res.status != GRPC_STATUS_OK) fail_msg("GetGradeHistory %s: %s", seller, res.details);
    grading_call_result_destroy(&res);
    return (Grading__V1__GradeHistory *)out;
}

static Grading__V1__GradeHistory *history(grading_client_t *c, const char *seller)
{
    return history_of(c, GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, seller);
}

static bool has_period(const Grading__V1__GradeHistory *h, const char *period)
{
    for (size_t i = 0; i < h->n_grades; i++)
        if (strcmp(h->grades[i]->period, period) == 0) return true;
    return false;
}

/* Waits (bounded) until seller's history through s holds period. */
static void wait_closed_kind(e2e_server_t *s, Grading__V1__PeriodKind kind, const char *seller, const char *period)
{
    int64_t deadline = e2e_now_ms() + CATCH_UP_MS;
    for (;;) {
        Grading__V1__GradeHistory *h = history_of(s->client, kind, seller);
        bool ok = has_period(h, period);
        protobuf_c_message_free_unpacked(&h->base, NULL);
        if (ok) return;
        if (e2e_now_ms() > deadline) fail_msg("%s: period %s not closed through %s", seller, period, s->addr);
        e2e_sleep_ms(50);
    }
}

static void wait_closed(e2e_server_t *s, const char *seller, const char *period)
{
    wait_closed_kind(s, GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, seller, period);
}

/* Every seller's history of kind is the same through a and b; returns how
 * many grades of period they hold. */
static size_t assert_same_history_kind(fx_t *fx, Grading__V1__PeriodKind kind, const char *prefix, int n,
                                       const char *period)
{
    size_t in_period = 0;
    char seller[64];
    for (int i = 0; i < n; i++) {
        snprintf(seller, sizeof seller, "%s-%d", prefix, i);
        Grading__V1__GradeHistory *ha = history_of(fx->a->client, kind, seller),
                                  *hb = history_of(fx->b->client, kind, seller);
        assert_int_equal(ha->n_grades, hb->n_grades);
        for (size_t g = 0; g < ha->n_grades; g++) {
            const Grading__V1__PeriodGrade *x = ha->grades[g], *y = hb->grades[g];
            assert_string_equal(x->period, y->period);
            assert_string_equal(x->program, y->program);
            if (x->grade->level != y->grade->level || x->grade->score != y->grade->score)
                fail_msg("%s %s: level %d score %g through a, level %d score %g through b", seller, x->period,
                         x->grade->level, x->grade->score, y->grade->level, y->grade->score);
            if (strcmp(x->period, period) == 0) in_period++;
        }
        protobuf_c_message_free_unpacked(&ha->base, NULL);
        protobuf_c_message_free_unpacked(&hb->base, NULL);
    }
    return in_period;
}

/* Records n orders of each seller prefix-0..count-1 dated when through
 * fx->a with wait_applied, then waits (bounded) until fx->b shows them:
 * both replicas hold them before the test goes on. */
static void seed(fx_t *fx, const char *prefix, int count, int n, const char *when)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    char id[160], seller[64], order[160];
    for (int i = 0; i < count; i++)
        for (int j = 0; j < n; j++) {
            snprintf(seller, sizeof seller, "%s-%d", prefix, i);
            snprintf(id, sizeof id, "seed-%s-%s-%d", when, seller, j);
            snprintf(order, sizeof order, "o-%s-%s-%d", when, seller, j);
            e2e_add_paid(&b, id, "testmart", seller, when, order, 1000, "KRW", 2);
        }
    Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    req.n_events = b.n;
    req.events = b.ev;
    req.wait_applied = true;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(fx->a->client, SVC "RecordEvents", &req.base,
                                         &grading__v1__record_events_response__descriptor, E2E_RECORD_TIMEOUT_MS,
                                         &resp, &res),
                     GRADING_OK);
    if (res.status != GRPC_STATUS_OK) fail_msg("RecordEvents: %s", res.details);
    assert_int_equal(((const Grading__V1__RecordEventsResponse *)resp)->logged, b.n);
    protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
    e2e_batch_destroy(&b);
    /* b applies asynchronously: its metrics at the end of when's month */
    int64_t deadline = e2e_now_ms() + CATCH_UP_MS;
    for (int i = 0; i < count; i++) {
        snprintf(seller, sizeof seller, "%s-%d", prefix, i);
        for (;;) {
            Grading__V1__SellerMetrics *ma = e2e_metrics(fx->a->client, "testmart", seller, NULL);
            Grading__V1__SellerMetrics *mb = NULL;
            char details[200];
            bool same = e2e_metrics_try(fx->b->client, "testmart", seller, NULL, &mb, details, sizeof details) ==
                            GRPC_STATUS_OK &&
                        e2e_metric(ma, "orders", "90d") == e2e_metric(mb, "orders", "90d");
            e2e_metrics_free(ma);
            if (mb) e2e_metrics_free(mb);
            if (same) break;
            if (e2e_now_ms() > deadline) fail_msg("%s: b did not catch up with a", seller);
            e2e_sleep_ms(50);
        }
    }
}

static size_t assert_same_history(fx_t *fx, const char *prefix, int n, const char *period)
{
    return assert_same_history_kind(fx, GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, prefix, n, period);
}

static double orders_of(e2e_server_t *s, const char *seller, const char *as_of)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", seller, as_of);
    double v = e2e_metric(m, "orders", "30d");
    e2e_metrics_free(m);
    return v;
}

/* Waits (bounded) until both replicas applied everything. */
static void wait_both_caught_up(const fx_t *fx)
{
    assert_true(e2e_kafka_wait_applied(fx->a, 0, 0, CATCH_UP_MS));
    assert_true(e2e_kafka_wait_applied(fx->b, 0, 0, CATCH_UP_MS));
}

/* ---- events keep arriving during the close ---- */

typedef struct {
    const e2e_server_t *s;
    atomic_bool stop;
    atomic_int sent;
} feeder_t;

/* One more October order per call, round robin over the sellers: each
 * takes a seller from 9 orders (Silver) to 10+ (Gold), so a replica that
 * applied one past its marker before closing would publish another grade. */
static void *feeder_main(void *arg)
{
    feeder_t *f = arg;
    grading_client_t *c = e2e_client_new(f->s);
    for (int i = 0; i < 400 && !atomic_load(&f->stop); i++) {
        e2e_batch_t b;
        e2e_batch_init(&b);
        char id[160], seller[64], order[160];
        snprintf(seller, sizeof seller, "kc-%d", i % SELLERS);
        snprintf(id, sizeof id, "late-%d", i);
        snprintf(order, sizeof order, "late-o-%d", i);
        e2e_add_paid(&b, id, "testmart", seller, "2026-10-06T01:00:00Z", order, 1000, "KRW", 2);
        e2e_reply_t reply = {0};
        if (e2e_record(c, b.ev, b.n, 10000, &reply) == GRPC_STATUS_OK) atomic_fetch_add(&f->sent, 1);
        e2e_batch_destroy(&b);
    }
    grading_client_free(c);
    return NULL;
}

static void test_close_while_events_arrive_same_history_everywhere(void **state)
{
    fx_t *fx = *state;
    seed(fx, "kc", SELLERS, 9, "2026-10-05T01:00:00Z");
    double dead_a = e2e_scrape(fx->a, "grading_kafka_messages_dead_lettered_total");
    double dead_b = e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total");
    assert_true(dead_a == 0 && dead_b == 0);

    feeder_t f = {.s = fx->b};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feeder_main, &f), 0);
    int64_t deadline = e2e_now_ms() + CATCH_UP_MS;
    while (atomic_load(&f.sent) < 5 && e2e_now_ms() < deadline) e2e_sleep_ms(20);
    assert_true(atomic_load(&f.sent) >= 5);

    Grading__V1__ClosePeriodResponse *r = close_month_ok(fx->a->client, "2026-10", false);
    assert_false(r->already_closed);
    assert_int_equal(r->sellers_evaluated, SELLERS);
    uint32_t sum = 0;
    for (size_t i = 0; i < r->n_distribution; i++) sum += r->distribution[i]->sellers;
    assert_int_equal(sum, SELLERS);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    int sent_at_close = atomic_load(&f.sent);
    deadline = e2e_now_ms() + CATCH_UP_MS;   /* events go on arriving after the call too */
    while (atomic_load(&f.sent) < sent_at_close + 5 && e2e_now_ms() < deadline) e2e_sleep_ms(20);
    atomic_store(&f.stop, true);
    pthread_join(t, NULL);

    for (int i = 0; i < SELLERS; i++) {
        char seller[64];
        snprintf(seller, sizeof seller, "kc-%d", i);
        wait_closed(fx->b, seller, "2026-10");
    }
    assert_int_equal(assert_same_history(fx, "kc", SELLERS, "2026-10"), SELLERS);

    /* every late event applied on both, after the close or before it alike:
     * the same counts on both (bounded wait: b applies asynchronously) */
    wait_both_caught_up(fx);
    int64_t same_by = e2e_now_ms() + CATCH_UP_MS;
    for (int i = 0; i < SELLERS; i++) {
        char seller[64];
        snprintf(seller, sizeof seller, "kc-%d", i);
        double oa, ob;
        while ((oa = orders_of(fx->a, seller, "2026-10-31T00:00:00Z")) !=
                   (ob = orders_of(fx->b, seller, "2026-10-31T00:00:00Z")) &&
               e2e_now_ms() < same_by)
            e2e_sleep_ms(50);
        if (oa != ob) fail_msg("%s: %g orders through a, %g through b", seller, oa, ob);
        assert_true(oa >= 9);
    }
    /* a second ClosePeriod, through either replica */
    r = close_month_ok(fx->a->client, "2026-10", false);
    assert_true(r->already_closed);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    r = close_month_ok(fx->b->client, "2026-10", false);
    assert_true(r->already_closed);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* the 4 markers were applied, none dead-lettered */
    assert_true(e2e_scrape(fx->a, "grading_kafka_messages_dead_lettered_total") == 0);
    assert_true(e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total") == 0);
}

/* ---- dry run and bad input write no marker ---- */

static void test_dry_run_and_bad_period_write_no_marker(void **state)
{
    fx_t *fx = *state;
    seed(fx, "kd", 3, 12, "2026-09-25T01:00:00Z");
    wait_both_caught_up(fx);
    double applied_b = e2e_scrape(fx->b, "grading_kafka_messages_applied_total");

    Grading__V1__ClosePeriodResponse *r = close_month_ok(fx->a->client, "2026-09", true);
    assert_false(r->already_closed);
    assert_int_equal(r->sellers_evaluated, 3);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    grpc_status_code st;
    char details[400];
    r = close_month(fx->a->client, "2026-13", false, &st, details, sizeof details);
    assert_int_equal(st, GRPC_STATUS_INVALID_ARGUMENT);
    e2e_assert_contains(details, "period");
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);
    r = close_month(fx->a->client, "2099-01", false, &st, details, sizeof details);
    assert_int_equal(st, GRPC_STATUS_FAILED_PRECONDITION);
    e2e_assert_contains(details, "has not ended");
    if (r) protobuf_c_message_free_unpacked(&r->base, NULL);

    /* markers are produced before the call answers: had any been, b would
     * have applied them by the time its lag is 0 again */
    wait_both_caught_up(fx);
    assert_true(e2e_scrape(fx->b, "grading_kafka_messages_applied_total") == applied_b);
    Grading__V1__GradeHistory *h = history(fx->b->client, "kd-0");
    assert_false(has_period(h, "2026-09"));
    protobuf_c_message_free_unpacked(&h->base, NULL);
    h = history(fx->a->client, "kd-0");
    assert_false(has_period(h, "2026-09"));
    protobuf_c_message_free_unpacked(&h->base, NULL);
}

/* ---- kill -9 after the markers were written ---- */

static void test_replica_killed_after_markers_restarts_and_closes_identically(void **state)
{
    fx_t *fx = *state;
    seed(fx, "kk", 10, 9, "2026-11-05T01:00:00Z");
    seed(fx, "kg", 10, 11, "2026-11-05T01:00:00Z");
    e2e_server_kill(fx->b);   /* down before it reaches any marker */
    Grading__V1__ClosePeriodResponse *r = close_month_ok(fx->a->client, "2026-11", false);
    assert_false(r->already_closed);
    /* every seller seen by November's end: kc (October), kd (September), kk, kg */
    assert_int_equal(r->sellers_evaluated, SELLERS + 3 + 20);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* more November events after the markers: they belong after the close */
    e2e_batch_t late;
    e2e_batch_init(&late);
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 3; j++) {
            char id[160], seller[64], order[160];
            snprintf(seller, sizeof seller, "kk-%d", i);
            snprintf(id, sizeof id, "late-%s-%d", seller, j);
            snprintf(order, sizeof order, "late-o-%s-%d", seller, j);
            e2e_add_paid(&late, id, "testmart", seller, "2026-11-06T01:00:00Z", order, 1000, "KRW", 2);
        }
    e2e_reply_t reply = {0};
    assert_int_equal(e2e_record(fx->a->client, late.ev, late.n, E2E_RECORD_TIMEOUT_MS, &reply), GRPC_STATUS_OK);
    e2e_batch_destroy(&late);
    e2e_server_restart(fx->b);
    for (int i = 0; i < 10; i++) {
        char seller[64];
        snprintf(seller, sizeof seller, "kk-%d", i);
        wait_closed(fx->b, seller, "2026-11");
    }
    assert_int_equal(assert_same_history(fx, "kk", 10, "2026-11"), 10);
    assert_int_equal(assert_same_history(fx, "kg", 10, "2026-11"), 10);
    /* kk had 9 November orders at the markers: Silver on both, whatever
     * came after; kg had 11: Gold */
    Grading__V1__GradeHistory *h = history(fx->b->client, "kk-0");
    for (size_t g = 0; g < h->n_grades; g++)
        if (strcmp(h->grades[g]->period, "2026-11") == 0) assert_int_equal(h->grades[g]->grade->level, 2);
    protobuf_c_message_free_unpacked(&h->base, NULL);
    h = history(fx->b->client, "kg-0");
    for (size_t g = 0; g < h->n_grades; g++)
        if (strcmp(h->grades[g]->period, "2026-11") == 0) assert_int_equal(h->grades[g]->grade->level, 1);
    protobuf_c_message_free_unpacked(&h->base, NULL);
    assert_true(e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total") == 0);
    r = close_month_ok(fx->b->client, "2026-11", false);
    assert_true(r->already_closed);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- kill -9 once it has reached a marker: holding, closing or done ---- */

static void test_replica_killed_after_reaching_a_marker_restarts_and_closes_identically(void **state)
{
    fx_t *fx = *state;
    const Grading__V1__PeriodKind q = GRADING__V1__PERIOD_KIND__PERIOD_KIND_QUARTER;
    enum { N = 400 };   /* sellers: a close of a few pages */
    seed(fx, "kq", N, 2, "2026-09-26T01:00:00Z");
    Grading__V1__ClosePeriodResponse *r = close_kind_ok(fx->a->client, q, "2026-Q3", false);
    assert_false(r->already_closed);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* b has sealed at least one partition: it holds the others' events, or
     * runs the close, or has finished; every state must converge */
    assert_true(e2e_log_wait(fx->b, "sealed for testmart 2026-Q3", CATCH_UP_MS));
    e2e_server_kill(fx->b);
    e2e_server_restart(fx->b);
    char seller[64];
    for (int i = 0; i < N; i += 50) {
        snprintf(seller, sizeof seller, "kq-%d", i);
        wait_closed_kind(fx->b, q, seller, "2026-Q3");
    }
    snprintf(seller, sizeof seller, "kq-%d", N - 1);
    wait_closed_kind(fx->b, q, seller, "2026-Q3");
    assert_int_equal(assert_same_history_kind(fx, q, "kq", N, "2026-Q3"), N);
    r = close_kind_ok(fx->b->client, q, "2026-Q3", false);
    assert_true(r->already_closed);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* the restarted replica applies new events again (no partition left held) */
    seed(fx, "kr", 4, 1, "2026-11-20T01:00:00Z");
    assert_true(e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total") == 0);
}

/* ---- the hold survives a kill -9 ---- */

static void record_orders(fx_t *fx, const char *prefix, int count, int n, const char *when, const char *tag)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    char id[160], seller[64], order[160];
    for (int i = 0; i < count; i++)
        for (int j = 0; j < n; j++) {
            snprintf(seller, sizeof seller, "%s-%d", prefix, i);
            snprintf(id, sizeof id, "%s-%s-%d", tag, seller, j);
            snprintf(order, sizeof order, "%s-o-%s-%d", tag, seller, j);
            e2e_add_paid(&b, id, "testmart", seller, when, order, 1000, "KRW", 2);
        }
    e2e_reply_t reply = {0};
    assert_int_equal(e2e_record(fx->a->client, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &reply), GRPC_STATUS_OK);
    e2e_batch_destroy(&b);
}

static void test_held_partitions_survive_kill9_and_their_late_events_stay_out(void **state)
{
    fx_t *fx = *state;
    enum { N = 8 };
    seed(fx, "kh", N, 9, "2026-09-27T01:00:00Z");   /* 9 orders: Silver */
    /* a hand-made marker for September in partitions 0..2 only: both
     * replicas seal and hold them, and wait for partition 3's */
    static const char marker[] = "v1\ntestmart\n1\n2026-09\n1796000000000";
    for (int32_t p = 0; p < 3; p++)
        e2e_kafka_produce_to(&fx->kafka, TOPIC, p, "grading-close-marker", "v1", marker, sizeof marker - 1);
    for (int32_t p = 0; p < 3; p++) {
        char needle[80];
        snprintf(needle, sizeof needle, "partition %d sealed for testmart 2026-09", (int)p);
        assert_true(e2e_log_wait(fx->a, needle, CATCH_UP_MS));
        assert_true(e2e_log_wait(fx->b, needle, CATCH_UP_MS));
    }
    /* 3 more September orders each: those in partitions 0..2 come after
     * their partition's marker and must stay out of the close */
    record_orders(fx, "kh", N, 3, "2026-09-28T01:00:00Z", "held");
    e2e_server_kill(fx->b);   /* holding 0..2: the hold must come back from LMDB */
    e2e_server_restart(fx->b);
    assert_true(e2e_log_wait(fx->b, "consuming 4 partitions", CATCH_UP_MS));
    e2e_kafka_produce_to(&fx->kafka, TOPIC, 3, "grading-close-marker", "v1", marker, sizeof marker - 1);
    char seller[64];
    for (int i = 0; i < N; i++) {
        snprintf(seller, sizeof seller, "kh-%d", i);
        wait_closed(fx->a, seller, "2026-09");
        wait_closed(fx->b, seller, "2026-09");
    }
    assert_int_equal(assert_same_history(fx, "kh", N, "2026-09"), N);
    /* some sellers' late orders were held out (Silver), the others' (in
     * partition 3, before its marker) counted (Gold) */
    int silver = 0, gold = 0;
    for (int i = 0; i < N; i++) {
        snprintf(seller, sizeof seller, "kh-%d", i);
        Grading__V1__GradeHistory *h = history(fx->b->client, seller);
        for (size_t g = 0; g < h->n_grades; g++)
            if (strcmp(h->grades[g]->period, "2026-09") == 0) {
                if (h->grades[g]->grade->level == 2) silver++;
                if (h->grades[g]->grade->level == 1) gold++;
            }
        protobuf_c_message_free_unpacked(&h->base, NULL);
    }
    assert_int_equal(silver + gold, N);
    assert_true(silver > 0);
    /* after the close every late order is applied on both */
    for (int i = 0; i < N; i++) {
        snprintf(seller, sizeof seller, "kh-%d", i);
        int64_t deadline = e2e_now_ms() + CATCH_UP_MS;
        while ((orders_of(fx->a, seller, "2026-09-30T00:00:00Z") != 12 ||
                orders_of(fx->b, seller, "2026-09-30T00:00:00Z") != 12) &&
               e2e_now_ms() < deadline)
            e2e_sleep_ms(50);
        assert_true(orders_of(fx->a, seller, "2026-09-30T00:00:00Z") == 12);
        assert_true(orders_of(fx->b, seller, "2026-09-30T00:00:00Z") == 12);
    }
    assert_true(e2e_scrape(fx->a, "grading_kafka_messages_dead_lettered_total") == 0);
    assert_true(e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_while_events_arrive_same_history_everywhere),
        cmocka_unit_test(test_dry_run_and_bad_period_write_no_marker),
        cmocka_unit_test(test_replica_killed_after_markers_restarts_and_closes_identically),
        cmocka_unit_test(test_replica_killed_after_reaching_a_marker_restarts_and_closes_identically),
        cmocka_unit_test(test_held_partitions_survive_kill9_and_their_late_events_stay_out),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
