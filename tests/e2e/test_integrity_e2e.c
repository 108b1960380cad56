/* End-to-end: input integrity (issue 9). Every bad input is refused with
 * its field named and nothing of its batch stored; an id repeated with
 * other content is a conflict; lifecycle events of an order whose payment
 * was not seen wait for it and count exactly once.
 *
 * Strings a protobuf-c client cannot send (an embedded NUL, invalid UTF-8)
 * travel as "unknown fields" carrying the field's own number: on the wire
 * they are that field, so the server sees exactly the bytes an attacker
 * would send.
 *
 * The server runs on a test clock (2026-11-01T00:00:00Z) so the future-skew
 * checks do not depend on the wall clock; every metrics query names as_of. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define AS_OF "2026-10-31T12:00:00Z"
#define SELLER_FAULT GRADING__V1__FAULT__FAULT_SELLER
#define OUT_OF_STOCK GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK

static const char *const clock_flags[] = {"--test-clock", "2026-11-01T00:00:00Z", NULL};

static int setup_clocked(void **state)
{
    *state = e2e_server_start_new(clock_flags);
    return 0;
}

/* ---- raw strings ---- */

/* Up to 4 raw fields per message; the test's events are few. */
typedef struct {
    ProtobufCMessageUnknownField f[4];
    uint8_t bytes[4][64];
} raw_fields_t;

/* Puts bytes[0..n) on the wire as string field `number` of m (whose own
 * field must be left empty, or it would be sent twice). */
static void set_raw_string(ProtobufCMessage *m, raw_fields_t *raw, uint32_t number, const void *bytes, size_t n)
{
    assert_true(m->n_unknown_fields < 4 && n < sizeof raw->bytes[0] && n < 128);
    size_t k = m->n_unknown_fields;
    /* protobuf-c packs an unknown field's data verbatim after its tag:
     * the length prefix is part of it */
    raw->bytes[k][0] = (uint8_t)n;
    memcpy(raw->bytes[k] + 1, bytes, n);
    raw->f[k] = (ProtobufCMessageUnknownField){
        .tag = number, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, .len = n + 1, .data = raw->bytes[k]};
    m->unknown_fields = raw->f;
    m->n_unknown_fields = k + 1;
}

/* ---- helpers ---- */

typedef struct {
    grpc_status_code status;
    char details[512];
    uint32_t accepted, duplicates, conflicts;
    uint32_t idx[16];
    size_t nidx;
} reply_t;

static void record(grading_client_t *c, const e2e_batch_t *b, reply_t *r)
{
    Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    req.n_events = b->n;
    req.events = b->ev;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    memset(r, 0, sizeof *r);
    assert_int_equal(grading_client_call(c, SVC "RecordEvents", &req.base,
                                         &grading__v1__record_events_response__descriptor,
                                         E2E_RECORD_TIMEOUT_MS, &resp, &res),
                     GRADING_OK);
    r->status = res.status;
    snprintf(r->details, sizeof r->details, "%s", res.details ? res.details : "");
    if (resp) {
        const Grading__V1__RecordEventsResponse *x = (const void *)resp;
        r->accepted = x->accepted;
        r->duplicates = x->duplicates;
        r->conflicts = x->conflicts;
        assert_int_equal(x->n_conflict_indexes, x->conflicts);
        for (size_t i = 0; i < x->n_conflict_indexes && i < 16; i++) r->idx[r->nidx++] = x->conflict_indexes[i];
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    grading_call_result_destroy(&res);
}

/* Sends b and asserts the refusal: status and a details text holding the
 * field and the reason. */
static void expect_refused(grading_client_t *c, const e2e_batch_t *b, grpc_status_code want,
                           const char *field, const char *why)
{
    reply_t r;
    record(c, b, &r);
    if (r.status != want)
        fail_msg("expected %s naming %s, got %s: %s", grading_status_name(want), field,
                 grading_status_name(r.status), r.details);
    e2e_assert_contains(r.details, field);
    e2e_assert_contains(r.details, why);
}

/* The first event of every bad batch: a good one for the watched seller,
 * so "nothing of the batch stored" is visible in its metrics. */
static void add_good(e2e_batch_t *b, int k)
{
    char id[32], order[32];
    snprintf(id, sizeof id, "good-%d", k);
    snprintf(order, sizeof order, "good-o%d", k);
    e2e_add_paid(b, id, NULL, "watched", "2026-10-20T01:00:00Z", order, 1000, "KRW", 2);
}

/* ---- every bad input: refused, named, nothing stored ---- */

static void test_every_bad_input_is_refused_naming_its_field_and_stores_nothing(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    e2e_batch_t b;
    raw_fields_t raw[2];

    /* the watched seller's state before */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "base-1", NULL, "watched", "2026-10-10T01:00:00Z", "base-o1", 5000, "KRW", 2);
    e2e_record_ok(c, b.ev, b.n, 1, 0);
    e2e_batch_destroy(&b);
    Grading__V1__SellerMetrics *before = e2e_metrics(c, NULL, "watched", AS_OF);
    Grading__V1__SellerMetrics *a_before = e2e_metrics(c, NULL, "a", AS_OF);
    int k = 0;

    /* seller_id "a\0x": not seller "a" */
    e2e_batch_init(&b);
    memset(raw, 0, sizeof raw);
    add_good(&b, k++);
    Grading__V1__SellerEvent *ev = e2e_add_paid(&b, "nul-seller", NULL, "", "2026-10-20T02:00:00Z", "o1", 1, "KRW", 2);
    set_raw_string(&ev->base, &raw[0], 3, "a\0x", 3);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].seller_id", "contains a NUL byte");
    e2e_batch_destroy(&b);

    /* event_id "e\0b" */
    e2e_batch_init(&b);
    memset(raw, 0, sizeof raw);
    add_good(&b, k++);
    ev = e2e_add_paid(&b, "", NULL, "a", "2026-10-20T02:00:00Z", "o1", 1, "KRW", 2);
    set_raw_string(&ev->base, &raw[0], 1, "e\0b", 3);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].event_id", "contains a NUL byte");
    e2e_batch_destroy(&b);

    /* marketplace "testmart\0junk": not testmart */
    e2e_batch_init(&b);
    memset(raw, 0, sizeof raw);
    add_good(&b, k++);
    ev = e2e_add_paid(&b, "nul-mp", "", "a", "2026-10-20T02:00:00Z", "o1", 1, "KRW", 2);
    set_raw_string(&ev->base, &raw[0], 2, "testmart\0junk", 13);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].marketplace", "contains a NUL byte");
    e2e_batch_destroy(&b);

    /* a NUL inside a kind's field */
    e2e_batch_init(&b);
    memset(raw, 0, sizeof raw);
    add_good(&b, k++);
    ev = e2e_add_paid(&b, "nul-order", NULL, "a", "2026-10-20T02:00:00Z", "", 1, "KRW", 2);
    set_raw_string(&ev->order_paid->base, &raw[1], 1, "o\0", 2);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].order_paid.order_id", "contains a NUL byte");
    e2e_batch_destroy(&b);

    /* invalid UTF-8 in seller_id */
    e2e_batch_init(&b);
    memset(raw, 0, sizeof raw);
    add_good(&b, k++);
    ev = e2e_add_paid(&b, "utf8-seller", NULL, "", "2026-10-20T02:00:00Z", "o1", 1, "KRW", 2);
    set_raw_string(&ev->base, &raw[0], 3, "a\xff\xfe", 3);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].seller_id", "is not valid UTF-8");
    e2e_batch_destroy(&b);

    /* an overlong encoding of '/' is not UTF-8 either */
    e2e_batch_init(&b);
    memset(raw, 0, sizeof raw);
    add_good(&b, k++);
    ev = e2e_add_custom(&b, "utf8-name", NULL, "a", "2026-10-20T02:00:00Z", "", 1);
    set_raw_string(&ev->custom->base, &raw[1], 1, "\xc0\xaf", 2);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].custom.name", "is not valid UTF-8");
    e2e_batch_destroy(&b);

    /* valid UTF-8, but ids are printable ASCII */
    e2e_batch_init(&b);
    add_good(&b, k++);
    e2e_add_paid(&b, "hangul-seller", NULL, "\xec\x85\x80\xeb\x9f\xac", "2026-10-20T02:00:00Z", "o1", 1, "KRW", 2);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].seller_id", "printable ASCII");
    e2e_batch_destroy(&b);

    /* a control character */
    e2e_batch_init(&b);
    add_good(&b, k++);
    e2e_add_paid(&b, "tab-seller", NULL, "a\tb", "2026-10-20T02:00:00Z", "o1", 1, "KRW", 2);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].seller_id", "control characters");
    e2e_batch_destroy(&b);

    /* 10,000 order_paid of 1e15 in one call: the day's GMV would overflow */
    e2e_batch_init(&b);
    add_good(&b, k++);
    for (int i = 1; i < 10000; i++) {
        char id[32], order[32];
        snprintf(id, sizeof id, "big-%d", i);
        snprintf(order, sizeof order, "big-o%d", i);
        e2e_add_paid(&b, id, NULL, "a", "2026-10-20T02:00:00Z", order, INT64_C(1000000000000000), "KRW", 2);
    }
    expect_refused(c, &b, GRPC_STATUS_OUT_OF_RANGE, "events[10].order_paid.amount", "gmv");
    e2e_batch_destroy(&b);

    /* USD on a KRW marketplace, for an order and for revenue */
    e2e_batch_init(&b);
    add_good(&b, k++);
    e2e_add_paid(&b, "usd-paid", NULL, "a", "2026-10-20T02:00:00Z", "o1", 100, "USD", 2);
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].order_paid.currency", "\"KRW\"");
    e2e_batch_destroy(&b);
    e2e_batch_init(&b);
    add_good(&b, k++);
    e2e_add_revenue(&b, "usd-rev", NULL, "a", "2026-10-20T02:00:00Z", 100, "USD");
    expect_refused(c, &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].platform_revenue.currency", "\"KRW\"");
    e2e_batch_destroy(&b);

    /* an event dated years ahead, and one 2 h ahead (the default skew is 1 h) */
    e2e_batch_init(&b);
    add_good(&b, k++);
    e2e_add_paid(&b, "future-years", NULL, "a", "2029-01-01T00:00:00Z", "o1", 100, "KRW", 2);
    expect_refused(c, &b, GRPC_STATUS_OUT_OF_RANGE, "events[1].occurred_at", "ahead of the server's clock");
    e2e_batch_destroy(&b);
    e2e_batch_init(&b);
    add_good(&b, k++);
    e2e_add_paid(&b, "future-2h", NULL, "a", "2026-11-01T02:00:00Z", "o1", 100, "KRW", 2);
    expect_refused(c, &b, GRPC_STATUS_OUT_OF_RANGE, "events[1].occurred_at", "at most 3600 s");
    e2e_batch_destroy(&b);

    /* a query naming a seller with a NUL */
    Grading__V1__GetSellerMetricsRequest q = GRADING__V1__GET_SELLER_METRICS_REQUEST__INIT;
    memset(raw, 0, sizeof raw);
    set_raw_string(&q.base, &raw[0], 2, "watched\0x", 9);
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetSellerMetrics", &q.base, &grading__v1__seller_metrics__descriptor,
                                         E2E_METRICS_TIMEOUT_MS, &resp, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_INVALID_ARGUMENT);
    assert_null(resp);
    e2e_assert_contains(res.details, "seller_id: contains a NUL byte");
    grading_call_result_destroy(&res);

    /* nothing of any refused batch was stored: not the good first events,
     * not seller "a" */
    Grading__V1__SellerMetrics *after = e2e_metrics(c, NULL, "watched", AS_OF);
    Grading__V1__SellerMetrics *a_after = e2e_metrics(c, NULL, "a", AS_OF);
    e2e_metrics_assert_same(before, after);
    e2e_metrics_assert_same(a_before, a_after);
    assert_true(e2e_metric(after, "orders", "30d") == 1);
    assert_true(e2e_metric(a_after, "orders", "365d") == 0);

    /* and the same good events alone are accepted: they were refused only
     * for their batch's bad event */
    e2e_batch_init(&b);
    for (int i = 0; i < k; i++) add_good(&b, i);
    e2e_record_ok(c, b.ev, b.n, (uint32_t)k, 0);
    e2e_batch_destroy(&b);
    Grading__V1__SellerMetrics *good = e2e_metrics(c, NULL, "watched", AS_OF);
    assert_true(e2e_metric(good, "orders", "30d") == 1 + k);
    e2e_metrics_free(good);
    e2e_metrics_free(before);
    e2e_metrics_free(after);
    e2e_metrics_free(a_before);
    e2e_metrics_free(a_after);
}

/* An empty currency is the marketplace's; a currency that is the
 * marketplace's is accepted; both are the same content. */
static void test_empty_currency_means_the_marketplaces(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "cur-1", NULL, "cur", "2026-10-20T01:00:00Z", "o1", 700, "", 2);
    e2e_add_paid(&b, "cur-2", "nymart", "cur", "2026-10-20T01:00:00Z", "o2", 300, "USD", 2);
    e2e_add_revenue(&b, "cur-3", NULL, "cur", "2026-10-20T01:00:00Z", 50, "");
    e2e_record_ok(s->client, b.ev, b.n, 3, 0);
    e2e_batch_destroy(&b);
    /* the same event with the currency spelled out is a retry, not a conflict */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "cur-1", NULL, "cur", "2026-10-20T01:00:00Z", "o1", 700, "KRW", 2);
    reply_t r;
    record(s->client, &b, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(r.duplicates, 1);
    assert_int_equal(r.conflicts, 0);
    e2e_batch_destroy(&b);
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, NULL, "cur", AS_OF);
    assert_true(e2e_metric(m, "gmv", "30d") == 700);
    assert_true(e2e_metric(m, "platform_revenue", "30d") == 50);
    e2e_metrics_free(m);
}

/* ---- conflicts vs duplicates ---- */

static void test_an_id_again_with_other_content_is_a_conflict_not_a_duplicate(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    e2e_batch_t b;
    reply_t r;

    e2e_batch_init(&b);
    e2e_add_paid(&b, "cf-1", NULL, "cf", "2026-10-20T01:00:00Z", "o1", 100, "KRW", 2);
    e2e_record_ok(c, b.ev, b.n, 1, 0);
    /* the same again: a duplicate */
    record(c, &b, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(r.accepted, 0);
    assert_int_equal(r.duplicates, 1);
    assert_int_equal(r.conflicts, 0);
    e2e_batch_destroy(&b);

    /* a new event, the id with another amount, the id as it was */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "cf-2", NULL, "cf", "2026-10-20T01:00:00Z", "o2", 10, "KRW", 2);
    e2e_add_paid(&b, "cf-1", NULL, "cf", "2026-10-20T01:00:00Z", "o1", 999, "KRW", 2);
    e2e_add_paid(&b, "cf-1", NULL, "cf", "2026-10-20T01:00:00Z", "o1", 100, "KRW", 2);
    record(c, &b, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(r.duplicates, 1);
    assert_int_equal(r.conflicts, 1);
    assert_int_equal(r.nidx, 1);
    assert_int_equal(r.idx[0], 1);
    e2e_batch_destroy(&b);

    /* ids are global: the same id in another marketplace is a conflict too */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "cf-1", "nymart", "cf", "2026-10-20T01:00:00Z", "o1", 100, "USD", 2);
    /* and an id first seen in this batch, then again with other content */
    e2e_add_cancelled(&b, "cf-3", NULL, "cf", "2026-10-21T01:00:00Z", "o2", SELLER_FAULT, OUT_OF_STOCK);
    e2e_add_cancelled(&b, "cf-3", NULL, "cf", "2026-10-21T01:00:00Z", "o1", SELLER_FAULT, OUT_OF_STOCK);
    record(c, &b, &r);
    assert_int_equal(r.status, GRPC_STATUS_OK);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(r.duplicates, 0);
    assert_int_equal(r.conflicts, 2);
    assert_int_equal(r.nidx, 2);
    assert_int_equal(r.idx[0], 0);
    assert_int_equal(r.idx[1], 2);
    e2e_batch_destroy(&b);

    /* nothing of a conflict was applied: gmv 110, one cancel (o2) */
    Grading__V1__SellerMetrics *m = e2e_metrics(c, NULL, "cf", AS_OF);
    assert_true(e2e_metric(m, "gmv", "30d") == 110);
    assert_true(e2e_metric(m, "orders", "30d") == 2);
    assert_true(e2e_metric(m, "cancels", "30d") == 1);
    e2e_metrics_free(m);
    Grading__V1__SellerMetrics *ny = e2e_metrics(c, "nymart", "cf", AS_OF);
    assert_true(e2e_metric(ny, "orders", "365d") == 0);
    e2e_metrics_free(ny);
}

/* gradectl record shows conflicts in its table and JSON, and names each
 * conflicting line on stderr. */
static void test_gradectl_record_reports_conflicts_by_line(void **state)
{
    e2e_server_t *s = *state;
    char first[E2E_PATH_MAX], again[E2E_PATH_MAX];
    e2e_write_file(s->dir, "first.jsonl",
                   "{\"event_id\": \"g-1\", \"seller_id\": \"gc\", \"occurred_at\": \"2026-10-20T01:00:00Z\", "
                   "\"order_paid\": {\"order_id\": \"o1\", \"product_id\": \"p\", \"amount\": 100}}\n"
                   "{\"event_id\": \"g-2\", \"seller_id\": \"gc\", \"occurred_at\": \"2026-10-20T02:00:00Z\", "
                   "\"order_shipped\": {\"order_id\": \"o1\"}}\n",
                   first);
    e2e_write_file(s->dir, "again.jsonl",
                   "# the first line is a retry, the second reuses an id\n"
                   "{\"event_id\": \"g-1\", \"seller_id\": \"gc\", \"occurred_at\": \"2026-10-20T01:00:00Z\", "
                   "\"order_paid\": {\"order_id\": \"o1\", \"product_id\": \"p\", \"amount\": 100}}\n"
                   "{\"event_id\": \"g-2\", \"seller_id\": \"gc\", \"occurred_at\": \"2026-10-20T02:00:00Z\", "
                   "\"order_cancelled\": {\"order_id\": \"o1\", \"fault\": \"FAULT_SELLER\", \"reason\": \"CANCEL_REASON_OTHER\"}}\n",
                   again);
    e2e_run_t r;
    e2e_gradectl(s, &r, "record", first, NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    e2e_assert_contains(r.out, "conflicts");
    e2e_run_destroy(&r);

    e2e_gradectl(s, &r, "record", again, NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    char want[E2E_PATH_MAX + 64];
    snprintf(want, sizeof want, "%s:3: event_id \"g-2\" conflicts", again);
    e2e_assert_contains(r.err, want);
    e2e_run_destroy(&r);

    e2e_gradectl(s, &r, "--json", "record", again, NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 0);
    e2e_assert_contains(r.out, "\"conflicts\": 1");
    e2e_assert_contains(r.out, "\"duplicates\": 1");
    e2e_assert_contains(r.out, "\"accepted\": 0");
    e2e_run_destroy(&r);

    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, NULL, "gc", AS_OF);
    assert_true(e2e_metric(m, "cancels", "30d") == 0);
    assert_true(e2e_metric(m, "shipped", "30d") == 1);
    e2e_metrics_free(m);
}

/* ---- orphans ---- */

/* A cancellation and a review of an order whose payment was not seen count
 * in no rate; its payment brings them in, once. */
static void test_an_orphan_cancellation_then_its_payment_counts_exactly_once(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    e2e_batch_t b;

    e2e_batch_init(&b);
    e2e_add_cancelled(&b, "or-cancel", NULL, "or", "2026-10-20T05:00:00Z", "o7", SELLER_FAULT, OUT_OF_STOCK);
    e2e_add_review(&b, "or-review", NULL, "or", "2026-10-21T05:00:00Z", "o7", 1,
                   GRADING__V1__RECOMMENDATION__RECOMMENDATION_NOT_RECOMMENDED);
    e2e_record_ok(c, b.ev, b.n, 2, 0);
    e2e_batch_destroy(&b);
    Grading__V1__SellerMetrics *m = e2e_metrics(c, NULL, "or", AS_OF);
    assert_true(e2e_metric(m, "reviews", "30d") == 0);
    assert_true(e2e_metric(m, "cancels", "30d") == 0);
    assert_true(e2e_metric(m, "cancels_seller_fault", "30d") == 0);
    assert_true(e2e_metric(m, "orders", "30d") == 0);
    assert_true(e2e_metric(m, "orphans_pending", "30d") == 1);
    assert_int_equal(m->pending_orphans, 1);
    assert_int_equal(m->dropped_orphans, 0);
    e2e_metrics_free(m);

    /* the payment arrives (dated before the cancellation, as it was) */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "or-paid", NULL, "or", "2026-10-20T01:00:00Z", "o7", 5000, "KRW", 2);
    e2e_record_ok(c, b.ev, b.n, 1, 0);
    e2e_batch_destroy(&b);
    /* and both are retried */
    e2e_batch_init(&b);
    e2e_add_cancelled(&b, "or-cancel", NULL, "or", "2026-10-20T05:00:00Z", "o7", SELLER_FAULT, OUT_OF_STOCK);
    e2e_add_paid(&b, "or-paid", NULL, "or", "2026-10-20T01:00:00Z", "o7", 5000, "KRW", 2);
    e2e_add_review(&b, "or-review", NULL, "or", "2026-10-21T05:00:00Z", "o7", 1,
                   GRADING__V1__RECOMMENDATION__RECOMMENDATION_NOT_RECOMMENDED);
    e2e_record_ok(c, b.ev, b.n, 0, 3);
    e2e_batch_destroy(&b);

    m = e2e_metrics(c, NULL, "or", AS_OF);
    assert_true(e2e_metric(m, "orders", "30d") == 1);
    assert_true(e2e_metric(m, "reviews", "30d") == 1);
    assert_true(e2e_metric(m, "rating_sum", "30d") == 1);
    assert_true(e2e_metric(m, "cancels", "30d") == 1);
    assert_true(e2e_metric(m, "cancels_seller_fault", "30d") == 1);
    assert_true(e2e_metric(m, "orphans_pending", "30d") == 0);
    assert_int_equal(m->pending_orphans, 0);
    double rate;
    assert_true(e2e_metric_find(m, "cancel_rate", "30d", &rate));
    assert_true(rate <= 1.0);
    e2e_metrics_free(m);
}

/* The case: 40 clean orders, then 100 seller-fault cancellations
 * of orders never paid. Before: a cancel rate of 250 %. */
static void test_cancellations_of_unpaid_orders_never_push_the_rate_past_100_percent(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    e2e_batch_t b;
    e2e_batch_init(&b);
    for (int i = 0; i < 40; i++) {
        char id[32], order[32];
        snprintf(id, sizeof id, "clean-%d", i);
        snprintf(order, sizeof order, "clean-o%d", i);
        e2e_add_paid(&b, id, NULL, "clean", "2026-10-20T01:00:00Z", order, 1000, "KRW", 2);
    }
    for (int i = 0; i < 100; i++) {
        char id[32], order[32];
        snprintf(id, sizeof id, "forged-%d", i);
        snprintf(order, sizeof order, "never-paid-%d", i);
        e2e_add_cancelled(&b, id, NULL, "clean", "2026-10-21T01:00:00Z", order, SELLER_FAULT, OUT_OF_STOCK);
    }
    e2e_record_ok(c, b.ev, b.n, 140, 0);
    e2e_batch_destroy(&b);
    Grading__V1__SellerMetrics *m = e2e_metrics(c, NULL, "clean", AS_OF);
    assert_true(e2e_metric(m, "orders", "30d") == 40);
    assert_true(e2e_metric(m, "cancels_seller_fault", "30d") == 0);
    double rate;
    assert_true(e2e_metric_find(m, "cancel_rate", "30d", &rate));
    assert_true(rate == 0);
    assert_int_equal(m->pending_orphans, 100);
    e2e_metrics_free(m);
}

/* ---- --orphan-max-age: the sweep drops expired orphans ---- */

static const char *const orphan_flags[] = {"--test-clock", "2026-11-01T00:00:00Z", "--orphan-max-age", "1d",
                                           "--sweep-ms", "50", NULL};

static int setup_orphan_age(void **state)
{
    *state = e2e_server_start_new(orphan_flags);
    return 0;
}

static void test_orphans_older_than_the_bound_are_dropped_and_counted(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    const char *as_of = "2026-11-01T01:00:00Z";   /* the drop's day is in every window */
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_cancelled(&b, "age-old", NULL, "age", "2026-10-20T05:00:00Z", "old-o", SELLER_FAULT, OUT_OF_STOCK);
    e2e_add_returned(&b, "age-new", NULL, "age", "2026-10-31T12:00:00Z", "new-o", SELLER_FAULT);
    e2e_record_ok(c, b.ev, b.n, 2, 0);
    e2e_batch_destroy(&b);

    /* the sweep runs every 50 ms: wait (bounded) until it dropped the old one */
    Grading__V1__SellerMetrics *m = NULL;
    int64_t deadline = e2e_now_ms() + 20000;
    for (;;) {
        m = e2e_metrics(c, NULL, "age", as_of);
        if (m->dropped_orphans >= 1 || e2e_now_ms() > deadline) break;
        e2e_metrics_free(m);
        e2e_sleep_ms(20);
    }
    if (m->dropped_orphans != 1) {
        e2e_server_dump_log(s);
        fail_msg("the old orphan was not dropped within 20 s (dropped %u, pending %u)", m->dropped_orphans,
                 m->pending_orphans);
    }
    assert_int_equal(m->pending_orphans, 1);   /* 12 h old: still held */
    assert_true(e2e_metric(m, "orphans_dropped", "30d") == 1);
    assert_true(e2e_metric(m, "cancels", "365d") == 0);
    assert_true(e2e_metric(m, "returns", "365d") == 0);
    e2e_metrics_free(m);

    /* the late payments: the dropped order counts without its cancellation,
     * the held one with its return */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "age-old-paid", NULL, "age", "2026-10-20T01:00:00Z", "old-o", 1000, "KRW", 2);
    e2e_add_paid(&b, "age-new-paid", NULL, "age", "2026-10-31T01:00:00Z", "new-o", 1000, "KRW", 2);
    e2e_record_ok(c, b.ev, b.n, 2, 0);
    e2e_batch_destroy(&b);
    m = e2e_metrics(c, NULL, "age", as_of);
    assert_true(e2e_metric(m, "orders", "30d") == 2);
    assert_true(e2e_metric(m, "cancels", "30d") == 0);
    assert_true(e2e_metric(m, "returns", "30d") == 1);
    assert_int_equal(m->pending_orphans, 0);
    assert_int_equal(m->dropped_orphans, 1);
    e2e_metrics_free(m);
}

/* ---- --max-future-skew ---- */

static const char *const skew_flags[] = {"--test-clock", "2026-11-01T00:00:00Z", "--max-future-skew", "10m", NULL};

static int setup_skew(void **state)
{
    *state = e2e_server_start_new(skew_flags);
    return 0;
}

static void test_max_future_skew_flag_sets_the_bound(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "sk-1", NULL, "sk", "2026-11-01T00:30:00Z", "o1", 100, "KRW", 2);
    expect_refused(s->client, &b, GRPC_STATUS_OUT_OF_RANGE, "events[0].occurred_at", "at most 600 s");
    e2e_batch_destroy(&b);
    /* 5 minutes ahead is within 10 (the test clock moved by seconds only) */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "sk-2", NULL, "sk", "2026-11-01T00:05:00Z", "o2", 100, "KRW", 2);
    e2e_record_ok(s->client, b.ev, b.n, 1, 0);
    e2e_batch_destroy(&b);
}

static void test_bad_skew_and_orphan_age_flags_are_usage_errors(void **state)
{
    (void)state;
    const char *dir = "/tmp";
    const char *bad[][3] = {{"--max-future-skew", "1x", "--max-future-skew must be a duration"},
                            {"--max-future-skew", "0s", "--max-future-skew must be a duration"},
                            {"--orphan-max-age", "-3d", "--orphan-max-age must be a duration"},
                            {"--orphan-max-age", "366d", "at most 365d"},
                            {"--max-future-skew", "3651d", "at most 3650d"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {e2e_env("GRADINGD"), "--policy", e2e_env("GRADING_POLICY"), bad[i][0], bad[i][1], NULL};
        e2e_run_t r;
        e2e_run(dir, argv, E2E_RUN_TIMEOUT_MS, &r);
        assert_true(r.exited);
        assert_int_equal(r.code, 2);
        e2e_assert_contains(r.err, bad[i][2]);
        e2e_run_destroy(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_bad_input_is_refused_naming_its_field_and_stores_nothing,
                                        setup_clocked, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_empty_currency_means_the_marketplaces, setup_clocked,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_an_id_again_with_other_content_is_a_conflict_not_a_duplicate,
                                        setup_clocked, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_gradectl_record_reports_conflicts_by_line, setup_clocked,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_an_orphan_cancellation_then_its_payment_counts_exactly_once,
                                        setup_clocked, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_cancellations_of_unpaid_orders_never_push_the_rate_past_100_percent,
                                        setup_clocked, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_max_future_skew_flag_sets_the_bound, setup_skew, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_orphans_older_than_the_bound_are_dropped_and_counted, setup_orphan_age,
                                        e2e_teardown_server),
        cmocka_unit_test(test_bad_skew_and_orphan_age_flags_are_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
