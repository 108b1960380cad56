/* End-to-end retention (issue 18) on the real gradingd with a test clock:
 * a live event older than the dedup horizon is refused naming its field,
 * the same event in a backfill is accepted once (twice in the backfill:
 * once), a replay inside the horizon is a duplicate, `gradectl backfill`
 * loads a file with progress, a query older than retention is
 * FAILED_PRECONDITION naming the oldest kept day, kill -9 during pruning
 * loses nothing that is kept, and with an authz file only a caller marked
 * backfill: true may backfill. Every wait is bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "calls.h"
#include "events.h"
#include "grading/store.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define CLOCK "2027-03-01T00:00:00Z"
#define DAY_MS INT64_C(86400000)

static const char *const flags[] = {"--test-clock", CLOCK, "--dedup-horizon", "35d", "--prune-interval", "1h",
                                    "--retention-margin", "0", NULL};

/* RFC 3339 of CLOCK minus days (and plus hours), UTC. */
static const char *days_before(int days, int hours, char *buf, size_t cap)
{
    int64_t ms = e2e_time_ms(CLOCK) - days * DAY_MS + hours * INT64_C(3600000);
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* RecordEvents with a backfill_id (NULL: live). No asserts. */
static grpc_status_code record(grading_client_t *c, const e2e_batch_t *b, const char *backfill_id, e2e_reply_t *reply)
{
    Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    req.n_events = b->n;
    req.events = b->ev;
    if (backfill_id) req.backfill_id = (char *)backfill_id;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    memset(reply, 0, sizeof *reply);
    grading_err_t err = grading_client_call(c, SVC "RecordEvents", &req.base,
                                            &grading__v1__record_events_response__descriptor, E2E_RECORD_TIMEOUT_MS,
                                            &resp, &res);
    reply->completed = err == GRADING_OK;
    reply->status = err ? GRPC_STATUS_UNKNOWN : res.status;
    snprintf(reply->details, sizeof reply->details, "%s", res.details ? res.details : "");
    if (resp) {
        const Grading__V1__RecordEventsResponse *r = (const void *)resp;
        reply->accepted = r->accepted;
        reply->duplicates = r->duplicates;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    grading_call_result_destroy(&res);
    return reply->status;
}

static void record_ok(grading_client_t *c, const e2e_batch_t *b, const char *backfill_id, uint32_t acc, uint32_t dup)
{
    e2e_reply_t r;
    if (record(c, b, backfill_id, &r) != GRPC_STATUS_OK)
        fail_msg("RecordEvents (backfill %s): %s: %s", backfill_id ? backfill_id : "none", grading_status_name(r.status),
                 r.details);
    if (r.accepted != acc || r.duplicates != dup)
        fail_msg("expected accepted %u duplicates %u, got %u %u", acc, dup, r.accepted, r.duplicates);
}

static double orders_365d(grading_client_t *c, const char *seller)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, NULL, seller, NULL);
    double v = e2e_metric(m, "orders", "365d");
    e2e_metrics_free(m);
    return v;
}

static void test_stale_live_event_refused_backfill_accepted_once(void **state)
{
    e2e_server_t *s = e2e_server_start_new(flags);
    *state = s;
    char when[40];
    e2e_batch_t b;
    e2e_reply_t r;

    /* 36 days back: past the 35-day horizon */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bf-1", NULL, "seller-a", days_before(36, 0, when, sizeof when), "o1", 1000, "KRW", 2);
    assert_int_equal(record(s->client, &b, NULL, &r), GRPC_STATUS_OUT_OF_RANGE);
    e2e_assert_contains(r.details, "events[0].occurred_at");
    e2e_assert_contains(r.details, "dedup horizon of 35 days");
    assert_true(orders_365d(s->client, "seller-a") == 0);   /* nothing was stored */

    /* the same event in a backfill: accepted once, then a duplicate */
    record_ok(s->client, &b, "onboarding-2027", 1, 0);
    record_ok(s->client, &b, "onboarding-2027", 0, 1);
    /* still refused live */
    assert_int_equal(record(s->client, &b, NULL, &r), GRPC_STATUS_OUT_OF_RANGE);
    e2e_batch_destroy(&b);

    /* an id twice in one backfill counts once */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bf-2", NULL, "seller-a", days_before(200, 0, when, sizeof when), "o2", 1000, "KRW", 2);
    e2e_add_paid(&b, "bf-2", NULL, "seller-a", days_before(200, 0, when, sizeof when), "o2", 1000, "KRW", 2);
    record_ok(s->client, &b, "onboarding-2027", 1, 1);
    e2e_batch_destroy(&b);
    assert_true(orders_365d(s->client, "seller-a") == 2);

    /* a live event inside the horizon, replayed: a duplicate */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "live-1", NULL, "seller-a", days_before(34, 0, when, sizeof when), "o3", 1000, "KRW", 2);
    record_ok(s->client, &b, NULL, 1, 0);
    record_ok(s->client, &b, NULL, 0, 1);
    e2e_batch_destroy(&b);
    assert_true(orders_365d(s->client, "seller-a") == 3);

    /* a backfill_id longer than an id is refused, naming it */
    char longid[200];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bf-3", NULL, "seller-a", days_before(100, 0, when, sizeof when), "o4", 1000, "KRW", 2);
    assert_int_equal(record(s->client, &b, longid, &r), GRPC_STATUS_INVALID_ARGUMENT);
    e2e_assert_contains(r.details, "backfill_id");
    e2e_batch_destroy(&b);

    /* the start-up pass found nothing old: nothing is refused */
    Grading__V1__SellerMetrics *m = NULL;
    char details[512];
    assert_int_equal(e2e_metrics_try(s->client, NULL, "seller-a", days_before(700, 0, when, sizeof when), &m, details,
                                     sizeof details),
                     GRPC_STATUS_OK);
    e2e_metrics_free(m);
}

static void test_gradectl_backfill_loads_a_file_with_progress(void **state)
{
    e2e_server_t *s = e2e_server_start_new(flags);
    *state = s;
    char text[4096] = "", when[40], line[256], path[E2E_PATH_MAX];
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line,
                 "{\"event_id\": \"file-%d\", \"seller_id\": \"seller-f\", \"occurred_at\": \"%s\", "
                 "\"order_paid\": {\"order_id\": \"f%d\", \"product_id\": \"p1\", \"amount\": 100, \"currency\": \"KRW\"}}\n",
                 i, days_before(300 - i, 0, when, sizeof when), i);
        strcat(text, line);
    }
    e2e_write_file(s->dir, "history.jsonl", text, path);
    e2e_run_t r;
    /* record refuses the stale history and sends nothing more */
    e2e_gradectl(s, &r, "record", path, NULL);
    assert_int_not_equal(r.code, 0);
    e2e_assert_contains(r.err, "occurred_at");
    e2e_run_destroy(&r);
    e2e_gradectl(s, &r, "--json", "backfill", "--id", "history-1", path, NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl backfill: exit %d\n%s", r.code, r.err);
    e2e_assert_contains(r.out, "\"accepted\": 5");
    e2e_assert_contains(r.err, "backfill: 5/5 events (100%)");
    e2e_run_destroy(&r);
    e2e_gradectl(s, &r, "--json", "backfill", "--id", "history-1", path, NULL);
    assert_int_equal(r.code, 0);
    e2e_assert_contains(r.out, "\"duplicates\": 5");
    e2e_run_destroy(&r);
    assert_true(orders_365d(s->client, "seller-f") == 5);
}

/* Waits (bounded) until the server's log holds nth finished passes. */
static void wait_pass(const e2e_server_t *s, int nth)
{
    int64_t deadline = e2e_now_ms() + 60000;
    do {
        char *log = e2e_server_log(s);
        int n = 0;
        for (const char *p = log; (p = strstr(p, "retention pass done")); p++) n++;
        free(log);
        if (n >= nth) return;
        e2e_sleep_ms(50);
    } while (e2e_now_ms() < deadline);
    e2e_server_dump_log(s);
    fail_msg("no retention pass %d within 60 s", nth);
}

static void test_query_older_than_retention_is_failed_precondition(void **state)
{
    /* a day older than retention, loaded with the pruner off */
    static const char *const quiet[] = {"--test-clock", CLOCK, "--prune-interval", "0", NULL};
    e2e_server_t *first = e2e_server_start_new(quiet);
    *state = first;   /* its directory holds the data: freed by the teardown */
    char when[40];
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "old-1", NULL, "seller-q", days_before(366, 0, when, sizeof when), "o1", 1000, "KRW", 2);
    e2e_add_paid(&b, "kept-1", NULL, "seller-q", days_before(364, 0, when, sizeof when), "o2", 1000, "KRW", 2);
    record_ok(first->client, &b, "old", 2, 0);
    e2e_batch_destroy(&b);
    e2e_server_stop_ok(first);

    /* the pruner's first pass deletes it and records the bound */
    e2e_server_t *s = e2e_server_new(flags);
    snprintf(s->data_dir, sizeof s->data_dir, "%s", first->data_dir);
    e2e_server_start(s);
    wait_pass(s, 1);
    Grading__V1__SellerMetrics *m = NULL;
    char details[512], as_of[40];
    /* testmart keeps 365 days (the metrics API's window; margin 0) */
    grpc_status_code st = e2e_metrics_try(s->client, NULL, "seller-q", days_before(400, 0, as_of, sizeof as_of), &m,
                                          details, sizeof details);
    assert_int_equal(st, GRPC_STATUS_FAILED_PRECONDITION);
    e2e_assert_contains(details, "as_of");
    e2e_assert_contains(details, "keeps days from 2026-03-02");
    /* as of now: answered, and the day kept still counts */
    assert_int_equal(e2e_metrics_try(s->client, NULL, "seller-q", NULL, &m, details, sizeof details), GRPC_STATUS_OK);
    e2e_metrics_free(m);
    assert_true(orders_365d(s->client, "seller-q") == 1);
    /* closing a month whose windows reach before the oldest kept day */
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    req.period = "2026-01";
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(s->client, SVC "ClosePeriod", &req.base,
                                         &grading__v1__close_period_response__descriptor, E2E_CALL_TIMEOUT_MS, &resp,
                                         &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_FAILED_PRECONDITION);
    e2e_assert_contains(res.details, "keeps days from 2026-03-02");
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
    /* /metrics: the oldest kept day (2026-03-02 in Seoul) and what went */
    assert_true(e2e_scrape(s, "grading_retention_oldest_day_seconds{marketplace=\"testmart\"}") ==
                (double)(e2e_time_ms("2026-03-01T15:00:00Z") / 1000));
    assert_true(e2e_scrape(s, "grading_pruned_records_total{kind=\"days\"}") == 1);
    assert_true(e2e_scrape(s, "grading_pruned_records_total{kind=\"event_ids\"}") == 0);   /* stored just now */
    assert_true(e2e_scrape(s, "grading_lmdb_db_used_bytes{db=\"daily\"}") > 0);
    assert_true(e2e_scrape(s, "grading_lmdb_pages_in_use_bytes") > 0);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* Many sellers with a year of history: the older half goes in pages. */
static void load_history(e2e_server_t *s, int sellers, int days)
{
    char when[40], id[64], seller[32], order[32];
    for (int k = 0; k < sellers; k++) {
        e2e_batch_t b;
        e2e_batch_init(&b);
        snprintf(seller, sizeof seller, "seller-%03d", k);
        for (int d = 0; d < days; d++) {
            snprintf(id, sizeof id, "h-%d-%d", k, d);
            snprintf(order, sizeof order, "o-%d", d);
            /* one order a day from 600 days back to today */
            e2e_add_paid(&b, id, NULL, seller, days_before(600 - d * 600 / days, 1, when, sizeof when), order, 100,
                         "KRW", 2);
        }
        record_ok(s->client, &b, "history", (uint32_t)days, 0);
        e2e_batch_destroy(&b);
    }
}

static grading_err_t count_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    (void)day, (void)d;
    ++*(int *)ctx;
    return GRADING_OK;
}

static void test_kill_9_during_pruning_loses_nothing_kept(void **state)
{
    /* no pruner while loading: the kept figures are taken first */
    static const char *const quiet[] = {"--test-clock", CLOCK, "--dedup-horizon", "35d", "--prune-interval", "0",
                                        "--retention-margin", "0", NULL};
    e2e_server_t *s = e2e_server_start_new(quiet);
    *state = s;
    enum { SELLERS = 40, DAYS = 300 };
    load_history(s, SELLERS, DAYS);
    double before[SELLERS];
    char seller[32];
    for (int k = 0; k < SELLERS; k++) {
        snprintf(seller, sizeof seller, "seller-%03d", k);
        before[k] = orders_365d(s->client, seller);
        assert_true(before[k] > 0 && before[k] < DAYS);   /* part of the history is older than a year */
    }
    e2e_server_stop_ok(s);

    /* start with the pruner, kill -9 as soon as it serves (mid-pass or
     * before it), three times; then let a pass finish */
    e2e_server_t *p = e2e_server_new(flags);
    snprintf(p->data_dir, sizeof p->data_dir, "%s", s->data_dir);
    for (int i = 0; i < 3; i++) {
        e2e_server_start(p);
        e2e_server_kill(p);
    }
    e2e_server_start(p);
    wait_pass(p, 1);
    for (int k = 0; k < SELLERS; k++) {
        snprintf(seller, sizeof seller, "seller-%03d", k);
        double after = orders_365d(p->client, seller);
        if (after != before[k]) fail_msg("%s: 365d orders %g before, %g after pruning", seller, before[k], after);
    }
    e2e_server_stop_ok(p);

    /* in the store itself: nothing older than a year is left, everything
     * newer is (one day record per order, 300 orders over 600 days) */
    grading_store_options_t o = {.dir = p->data_dir};
    grading_store_t *st;
    grading_store_reader_t *rd;
    grading_txn_t *txn;
    grading_error_t e = {0};
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_OK);
    assert_int_equal(grading_store_reader_new(st, &rd), GRADING_OK);
    assert_int_equal(grading_store_read_begin(rd, &txn), GRADING_OK);
    int32_t today = (int32_t)((e2e_time_ms(CLOCK) + 9 * INT64_C(3600000)) / DAY_MS);   /* Seoul */
    int32_t oldest = today - 364;
    for (int k = 0; k < SELLERS; k++) {
        snprintf(seller, sizeof seller, "seller-%03d", k);
        int old = 0, kept = 0;
        assert_int_equal(grading_store_days_foreach(txn, "testmart", seller, INT32_MIN, oldest - 1, count_day, &old),
                         GRADING_OK);
        assert_int_equal(grading_store_days_foreach(txn, "testmart", seller, oldest, INT32_MAX, count_day, &kept),
                         GRADING_OK);
        if (old != 0 || kept != (int)before[k]) fail_msg("%s: %d old day records left, %d kept (%g orders)", seller, old, kept, before[k]);
    }
    grading_store_read_end(rd);
    grading_store_reader_free(rd);
    grading_store_close(st);
    e2e_server_free(p);
}

/* With an authz file, only a caller marked backfill: true may send a
 * backfill_id; a refused batch stores nothing. */
static void test_backfill_needs_the_authz_flag(void **state)
{
    e2e_server_t *s = e2e_server_new(NULL);
    *state = s;
    char path[E2E_PATH_MAX];
    e2e_write_file(s->dir, "authz.yaml",
                   "callers:\n"
                   "  onboarding:\n"
                   "    match: {cn: onboarding}\n"
                   "    allow: [\"grading.v1.GradingService/RecordEvents\", \"grading.v1.GradingService/GetSellerMetrics\"]\n"
                   "    backfill: true\n"
                   "  feed:\n"
                   "    match: {cn: feed}\n"
                   "    allow: [\"grading.v1.GradingService/RecordEvents\"]\n",
                   path);
    static char authz_flag[E2E_PATH_MAX];
    snprintf(authz_flag, sizeof authz_flag, "%s", path);
    const char *extra[] = {"--test-clock", CLOCK, "--dedup-horizon", "35d", "--authz", authz_flag,
                           "--trust-proxy-identity", NULL};
    for (size_t i = 0; extra[i]; i++) s->extra[i] = extra[i];
    e2e_server_start(s);
    /* identities as the loopback edge proxy sends them */
    grading_client_options_t onboarding = {.headers = (const char *[]){"x-grading-client-cn", "onboarding", NULL}},
                             feed = {.headers = (const char *[]){"x-grading-client-cn", "feed", NULL}};
    grading_client_t *on = e2e_client_with(s->addr, &onboarding), *fd = e2e_client_with(s->addr, &feed);
    char when[40];
    e2e_batch_t b;
    e2e_reply_t r;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "auth-1", NULL, "seller-z", days_before(100, 0, when, sizeof when), "o1", 1000, "KRW", 2);
    assert_int_equal(record(fd, &b, "history", &r), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(r.details, "caller feed may not send RecordEvents with a backfill_id");
    assert_int_equal(record(fd, &b, NULL, &r), GRPC_STATUS_OUT_OF_RANGE);   /* and not live either */
    assert_true(orders_365d(on, "seller-z") == 0);                           /* nothing was stored */
    record_ok(on, &b, "history", 1, 0);
    assert_true(orders_365d(on, "seller-z") == 1);
    e2e_batch_destroy(&b);
    /* live events inside the horizon need no flag */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "auth-2", NULL, "seller-z", days_before(1, 0, when, sizeof when), "o2", 1000, "KRW", 2);
    record_ok(fd, &b, NULL, 1, 0);
    e2e_batch_destroy(&b);
    grading_client_free(on);
    grading_client_free(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_stale_live_event_refused_backfill_accepted_once, e2e_teardown_server),
        cmocka_unit_test_teardown(test_gradectl_backfill_loads_a_file_with_progress, e2e_teardown_server),
        cmocka_unit_test_teardown(test_query_older_than_retention_is_failed_precondition, e2e_teardown_server),
        cmocka_unit_test_teardown(test_kill_9_during_pruning_loses_nothing_kept, e2e_teardown_server),
        cmocka_unit_test_teardown(test_backfill_needs_the_authz_flag, e2e_teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
