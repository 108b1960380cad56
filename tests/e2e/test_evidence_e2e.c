/* End-to-end: ListMetricEvents (issue 15 §6) and `gradectl evidence`.
 *
 * One testmart seller (tests/e2e/policy.yaml: cancel_rate = seller-fault
 * cancellations of orders over 30 days) with 250 orders in the window, 30
 * of them cancelled by the seller, 5 paid before it, 7 inquiries and one
 * review. Read in pages of 40 over real gRPC, every order of the window
 * comes exactly once, in id order, and the per-counter split adds up with
 * nothing unlisted; the review, which keeps no record, is unlisted with a
 * note. Bad inputs are refused naming their field. gradectl evidence
 * --csv prints one RFC 4180 row per contribution, quoting an id with a
 * comma and a quote. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "grading/client.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define CLOCK "2026-11-02T00:00:00Z"
#define WHEN "2026-10-20T01:00:00Z"
#define BEFORE "2026-09-01T01:00:00Z"
#define SELLER "ev-seller"
#define ORDERS 250
#define CANCELLED 30
#define QUOTED_ID "o-999,\"q"   /* ids are printable ASCII: a comma and a quote too */

static void seed(grading_client_t *c)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    char id[64], oid[40];
    for (int i = 0; i < ORDERS; i++) {
        if (i == ORDERS - 1) snprintf(oid, sizeof oid, "%s", QUOTED_ID);
        else snprintf(oid, sizeof oid, "o-%03d", i);
        snprintf(id, sizeof id, "ev-%d-paid", i);
        e2e_add_paid(&b, id, NULL, SELLER, WHEN, oid, 1000, "KRW", 2);
        snprintf(id, sizeof id, "ev-%d-next", i);
        if (i % 8 == 0 && i / 8 < CANCELLED)
            e2e_add_cancelled(&b, id, NULL, SELLER, WHEN, oid, GRADING__V1__FAULT__FAULT_SELLER,
                              GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
        else
            e2e_add_shipped(&b, id, NULL, SELLER, WHEN, oid, true);
    }
    for (int i = 0; i < 5; i++) {   /* before the 30-day window */
        snprintf(oid, sizeof oid, "old-%d", i);
        snprintf(id, sizeof id, "ev-old-%d", i);
        e2e_add_paid(&b, id, NULL, SELLER, BEFORE, oid, 1000, "KRW", 2);
    }
    for (int i = 0; i < 7; i++) {
        snprintf(oid, sizeof oid, "q-%d", i);
        snprintf(id, sizeof id, "ev-q-%d", i);
        e2e_add_inquiry_received(&b, id, NULL, SELLER, WHEN, oid);
    }
    e2e_add_review(&b, "ev-review", NULL, SELLER, "2026-10-21T01:00:00Z", "o-001", 5,
                   GRADING__V1__RECOMMENDATION__RECOMMENDATION_RECOMMEND);
    e2e_record_ok(c, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
}

typedef struct {
    const char *marketplace, *seller, *metric, *window, *token;
    uint32_t page_size;
} ask_t;

/* One ListMetricEvents; the reply on OK (caller frees), NULL otherwise
 * with the details in details. */
static Grading__V1__ListMetricEventsResponse *list(grading_client_t *c, const ask_t *a, grpc_status_code want,
                                                   char *details, size_t dlen)
{
    Grading__V1__ListMetricEventsRequest req = GRADING__V1__LIST_METRIC_EVENTS_REQUEST__INIT;
    req.marketplace = (char *)(a->marketplace ? a->marketplace : "");
    req.seller_id = (char *)a->seller;
    req.metric = (char *)a->metric;
    req.window = (char *)(a->window ? a->window : "");
    req.page_size = a->page_size;
    req.page_token = (char *)(a->token ? a->token : "");
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "ListMetricEvents", &req.base,
                                         &grading__v1__list_metric_events_response__descriptor, 30000, &out, &res),
                     GRADING_OK);
    if (res.status != want) fail_msg("ListMetricEvents: %s %s", grading_status_name(res.status), res.details);
    if (details) snprintf(details, dlen, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    return (Grading__V1__ListMetricEventsResponse *)out;
}

static const Grading__V1__CounterEvidence *counter(const Grading__V1__ListMetricEventsResponse *r, const char *name)
{
    for (size_t i = 0; i < r->n_counters; i++)
        if (strcmp(r->counters[i]->counter, name) == 0) return r->counters[i];
    fail_msg("no counter %s in the split", name);
    return NULL;
}

static void test_pages_list_every_counted_order_once(void **state)
{
    e2e_server_t *s = *state;
    char prev[64] = "", *token = NULL;
    int64_t orders = 0, cancels = 0;
    int entries = 0, pages = 0, cancelled_seen = 0;
    for (; pages < 100; pages++) {   /* 7 pages are expected */
        ask_t a = {.seller = SELLER, .metric = "cancel_rate", .page_size = 40, .token = token};
        Grading__V1__ListMetricEventsResponse *r = list(s->client, &a, GRPC_STATUS_OK, NULL, 0);
        assert_string_equal(r->window, "30d");
        assert_string_equal(r->first_day, "2026-10-04");
        assert_string_equal(r->last_day, "2026-11-02");
        assert_non_null(r->value);
        assert_true(r->value->sufficient);
        assert_true(fabs(r->value->value - (double)CANCELLED / ORDERS) < 1e-12);
        for (size_t i = 0; i < r->n_events; i++) {
            const Grading__V1__MetricEvent *m = r->events[i];
            assert_int_equal(m->kind, GRADING__V1__EVIDENCE_KIND__EVIDENCE_KIND_ORDER);
            if (strcmp(m->id, prev) <= 0) fail_msg("%s after %s: repeated or out of order", m->id, prev);
            snprintf(prev, sizeof prev, "%s", m->id);
            assert_non_null(m->order);
            assert_non_null(m->order->paid);
            assert_int_equal(m->order->paid->seconds, e2e_time_ms(WHEN) / 1000);
            assert_true(m->n_contributions >= 1);
            for (size_t k = 0; k < m->n_contributions; k++) {
                const Grading__V1__CounterDelta *d = m->contributions[k];
                assert_string_equal(d->day, "2026-10-20");   /* 10:00 in Seoul */
                if (strcmp(d->counter, "orders") == 0) orders += d->delta;
                else if (strcmp(d->counter, "cancels_seller_fault") == 0) cancels += d->delta;
                else fail_msg("%s: counter %s, which cancel_rate does not read", m->id, d->counter);
            }
            if (m->order->cancelled) {
                cancelled_seen++;
                assert_int_equal(m->order->cancel_fault, GRADING__V1__FAULT__FAULT_SELLER);
                assert_int_equal(m->order->cancel_reason, GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
                assert_int_equal(m->n_contributions, 2);
            }
            entries++;
        }
        /* the split is the same on every page */
        assert_int_equal(r->n_counters, 2);
        const Grading__V1__CounterEvidence *o = counter(r, "orders"), *k = counter(r, "cancels_seller_fault");
        assert_int_equal(o->total, ORDERS);
        assert_int_equal(o->listed, ORDERS);
        assert_int_equal(o->unlisted, 0);
        assert_string_equal(o->note, "");
        assert_int_equal(k->total, CANCELLED);
        assert_int_equal(k->listed, CANCELLED);
        assert_int_equal(k->unlisted, 0);
        free(token);
        token = r->next_page_token[0] ? strdup(r->next_page_token) : NULL;
        if (token) assert_int_equal(r->n_events, 40);
        protobuf_c_message_free_unpacked(&r->base, NULL);
        if (!token) break;
    }
    assert_null(token);
    assert_int_equal(pages + 1, 7);
    assert_int_equal(entries, ORDERS);
    assert_int_equal(orders, ORDERS);
    assert_int_equal(cancels, CANCELLED);
    assert_int_equal(cancelled_seen, CANCELLED);
}

static void test_inquiries_and_unlisted_reviews(void **state)
{
    e2e_server_t *s = *state;
    ask_t a = {.seller = SELLER, .metric = "inquiries"};   /* a base counter: 30 days */
    Grading__V1__ListMetricEventsResponse *r = list(s->client, &a, GRPC_STATUS_OK, NULL, 0);
    assert_int_equal(r->n_events, 7);
    for (size_t i = 0; i < r->n_events; i++) {
        assert_int_equal(r->events[i]->kind, GRADING__V1__EVIDENCE_KIND__EVIDENCE_KIND_INQUIRY);
        assert_non_null(r->events[i]->inquiry);
        assert_non_null(r->events[i]->inquiry->received);
        assert_null(r->events[i]->inquiry->answered);
    }
    assert_string_equal(r->events[0]->id, "q-0");
    assert_int_equal(counter(r, "inquiries")->unlisted, 0);
    assert_true(r->value->value == 7);
    assert_string_equal(r->next_page_token, "");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* a review keeps no record: counted, not listed, and said so */
    a.metric = "reviews";
    a.window = "90d";
    r = list(s->client, &a, GRPC_STATUS_OK, NULL, 0);
    assert_int_equal(r->n_events, 0);
    assert_string_equal(r->window, "90d");
    const Grading__V1__CounterEvidence *c = counter(r, "reviews");
    assert_int_equal(c->total, 1);
    assert_int_equal(c->listed, 0);
    assert_int_equal(c->unlisted, 1);
    e2e_assert_contains(c->note, "reviews keep no per-event record");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* a longer window takes the orders paid before the 30 days */
    a.metric = "orders";
    a.window = "90d";
    a.page_size = 1000;
    r = list(s->client, &a, GRPC_STATUS_OK, NULL, 0);
    assert_int_equal(r->n_events, ORDERS + 5);
    assert_int_equal(counter(r, "orders")->total, ORDERS + 5);
    assert_int_equal(counter(r, "orders")->unlisted, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void expect_refused(grading_client_t *c, const ask_t *a, grpc_status_code want, const char *text)
{
    char details[512];
    Grading__V1__ListMetricEventsResponse *r = list(c, a, want, details, sizeof details);
    assert_null(r);
    e2e_assert_contains(details, text);
}

static void test_bad_inputs_name_their_field(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    expect_refused(c, &(ask_t){.seller = "nobody", .metric = "cancel_rate"}, GRPC_STATUS_NOT_FOUND, "seller_id: ");
    expect_refused(c, &(ask_t){.seller = SELLER, .metric = "cancel_ratio"}, GRPC_STATUS_INVALID_ARGUMENT,
                   "metric: no metric or base counter named \"cancel_ratio\"");
    expect_refused(c, &(ask_t){.seller = SELLER, .metric = ""}, GRPC_STATUS_INVALID_ARGUMENT, "metric: ");
    expect_refused(c, &(ask_t){.seller = SELLER, .metric = "cancel_rate", .window = "13x"},
                   GRPC_STATUS_INVALID_ARGUMENT, "window: \"13x\" is not a window");
    expect_refused(c, &(ask_t){.seller = SELLER, .metric = "cancel_rate", .window = "0d"},
                   GRPC_STATUS_INVALID_ARGUMENT, "window: ");
    expect_refused(c, &(ask_t){.seller = SELLER, .metric = "cancel_rate", .page_size = 1001},
                   GRPC_STATUS_INVALID_ARGUMENT, "page_size: at most 1000, got 1001");
    expect_refused(c, &(ask_t){.seller = SELLER, .metric = "cancel_rate", .token = "zz"},
                   GRPC_STATUS_INVALID_ARGUMENT, "page_token: ");
    expect_refused(c, &(ask_t){.seller = SELLER, .metric = "cancel_rate", .token = "7878"},   /* "xx" */
                   GRPC_STATUS_INVALID_ARGUMENT, "page_token: ");
    expect_refused(c, &(ask_t){.seller = "", .metric = "cancel_rate"}, GRPC_STATUS_INVALID_ARGUMENT, "seller_id: ");
    expect_refused(c, &(ask_t){.marketplace = "nomart", .seller = SELLER, .metric = "cancel_rate"},
                   GRPC_STATUS_NOT_FOUND, "marketplace: ");
}

/* Splits text into lines ending in CRLF; returns how many. */
static size_t crlf_lines(char *text, char **lines, size_t cap)
{
    size_t n = 0;
    for (char *p = text; *p && n < cap;) {
        char *end = strstr(p, "\r\n");
        if (!end) fail_msg("a CSV line without CRLF: %s", p);
        *end = 0;
        lines[n++] = p;
        p = end + 2;
    }
    return n;
}

static void test_gradectl_evidence_csv_and_table(void **state)
{
    e2e_server_t *s = *state;
    e2e_run_t r;
    e2e_gradectl(s, &r, "evidence", SELLER, "cancel_rate", "--csv", NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl evidence --csv: %d %s", r.code, r.err);
    static char *lines[1000];
    size_t n = crlf_lines(r.out, lines, 1000);
    assert_string_equal(lines[0], "kind,id,paid,shipped,delivered,cancelled,cancel_fault,cancel_reason,returned,"
                                  "exchanged,non_receipt,inquiry_received,inquiry_answered,counter,day,delta,excluded");
    /* every order once for `orders`, the cancelled ones again */
    assert_int_equal(n, 1 + ORDERS + CANCELLED);
    assert_string_equal(lines[1], "order,o-000,2026-10-20T01:00:00Z,,,2026-10-20T01:00:00Z,seller,out_of_stock,"
                                  ",,,,,orders,2026-10-20,1,false");
    assert_string_equal(lines[2], "order,o-000,2026-10-20T01:00:00Z,,,2026-10-20T01:00:00Z,seller,out_of_stock,"
                                  ",,,,,cancels_seller_fault,2026-10-20,1,false");
    assert_string_equal(lines[3], "order,o-001,2026-10-20T01:00:00Z,2026-10-20T01:00:00Z,,,,,,,,,,orders,2026-10-20,1,false");
    /* RFC 4180: the field with a comma and a quote is quoted, the quote doubled */
    assert_string_equal(lines[n - 1], "order,\"o-999,\"\"q\",2026-10-20T01:00:00Z,2026-10-20T01:00:00Z,,,,,,,,,,"
                                      "orders,2026-10-20,1,false");
    assert_string_equal(r.err, "");   /* nothing unlisted */
    e2e_run_destroy(&r);

    e2e_gradectl(s, &r, "evidence", SELLER, "reviews", "--window", "90d", "--csv", NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl evidence reviews --csv: %d %s", r.code, r.err);
    assert_int_equal(e2e_count_lines(r.out), 1);   /* the header only */
    e2e_assert_contains(r.err, "reviews: 1 of 1 not listed: reviews keep no per-event record");
    e2e_run_destroy(&r);

    e2e_gradectl(s, &r, "evidence", SELLER, "cancel_rate", NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl evidence: %d %s", r.code, r.err);
    e2e_assert_contains(r.out, "metric cancel_rate over 30d (2026-10-04 .. 2026-11-02): 0.12 (30 / 250)");
    e2e_assert_contains(r.out, "cancelled 2026-10-20T01:00:00Z (seller, out_of_stock)");
    e2e_assert_contains(r.out, "cancels_seller_fault 2026-10-20 +1");
    /* the split: counter, total, listed, unlisted */
    const char *row = strstr(r.out, "\ncancels_seller_fault ");
    assert_non_null(row);
    long long total = -1, listed = -1, unlisted = -1;
    assert_int_equal(sscanf(row, " cancels_seller_fault %lld %lld %lld", &total, &listed, &unlisted), 3);
    assert_int_equal(total, CANCELLED);
    assert_int_equal(listed, CANCELLED);
    assert_int_equal(unlisted, 0);
    e2e_run_destroy(&r);

    /* usage and server errors */
    e2e_gradectl(s, &r, "evidence", SELLER, NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_run_destroy(&r);
    e2e_gradectl(s, &r, "evidence", SELLER, "nope", "--csv", NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 1);
    e2e_assert_contains(r.err, "metric: no metric or base counter named \"nope\"");
    e2e_run_destroy(&r);
}

static int setup(void **state)
{
    e2e_server_t *s = e2e_server_start_new((const char *const[]){"--test-clock", CLOCK, NULL});
    seed(s->client);
    *state = s;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_list_every_counted_order_once),
        cmocka_unit_test(test_inquiries_and_unlisted_reviews),
        cmocka_unit_test(test_bad_inputs_name_their_field),
        cmocka_unit_test(test_gradectl_evidence_csv_and_table),
    };
    return cmocka_run_group_tests(tests, setup, e2e_teardown_server);
}
