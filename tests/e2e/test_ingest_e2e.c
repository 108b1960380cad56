/* End-to-end: RecordEvents and GetSellerMetrics against the real gradingd.
 *
 * Each test gets its own server on a fresh data dir (setup) and checks in
 * its teardown that SIGTERM stops it with exit code 0. Times are fixed
 * RFC 3339 texts and every metrics query names its as_of, so nothing
 * depends on the wall clock. Policy: tests/e2e/policy.yaml (testmart in
 * Asia/Seoul is the default marketplace, nymart in America/New_York). */
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

#define SELLER_FAULT GRADING__V1__FAULT__FAULT_SELLER
#define BUYER_FAULT GRADING__V1__FAULT__FAULT_BUYER

/* ---- record -> metrics: every base counter ---- */

/* Five orders, three inquiries, reviews, satisfaction, revenue and a custom
 * counter for one seller, all in October 2026 (Seoul). Marketplace unset:
 * the policy's default (testmart). */
static void add_rich_seller(e2e_batch_t *b, const char *seller)
{
    const char *mp = NULL;
    /* o1: shipped the next day (promise 2 days: on time), tracked, delivered */
    e2e_add_paid(b, "r-o1-paid", mp, seller, "2026-10-05T01:00:00Z", "o1", 15000, "KRW", 2);
    e2e_add_shipped(b, "r-o1-ship", mp, seller, "2026-10-06T02:00:00Z", "o1", true);
    e2e_add_delivered(b, "r-o1-dlv", mp, seller, "2026-10-08T03:00:00Z", "o1", false);
    /* o2: promise 1 day, shipped 3 days later (late), untracked, auto-completed */
    e2e_add_paid(b, "r-o2-paid", mp, seller, "2026-10-06T01:00:00Z", "o2", 20000, "KRW", 1);
    e2e_add_shipped(b, "r-o2-ship", mp, seller, "2026-10-09T01:00:00Z", "o2", false);
    e2e_add_delivered(b, "r-o2-dlv", mp, seller, "2026-10-12T01:00:00Z", "o2", true);
    /* o3: cancelled by the seller, out of stock */
    e2e_add_paid(b, "r-o3-paid", mp, seller, "2026-10-07T01:00:00Z", "o3", 5000, "KRW", 3);
    e2e_add_cancelled(b, "r-o3-cancel", mp, seller, "2026-10-07T05:00:00Z", "o3", SELLER_FAULT,
                      GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
    /* o4: delivered, returned by the seller's fault */
    e2e_add_paid(b, "r-o4-paid", mp, seller, "2026-10-07T02:00:00Z", "o4", 7000, "KRW", 3);
    e2e_add_delivered(b, "r-o4-dlv", mp, seller, "2026-10-10T01:00:00Z", "o4", false);
    e2e_add_returned(b, "r-o4-ret", mp, seller, "2026-10-12T01:00:00Z", "o4", SELLER_FAULT);
    /* o5: exchanged by the buyer's fault, non-receipt reported */
    e2e_add_paid(b, "r-o5-paid", mp, seller, "2026-10-08T01:00:00Z", "o5", 9000, "KRW", 3);
    e2e_add_exchanged(b, "r-o5-exch", mp, seller, "2026-10-13T01:00:00Z", "o5", BUYER_FAULT);
    e2e_add_non_receipt(b, "r-o5-nr", mp, seller, "2026-10-14T01:00:00Z", "o5");
    /* inquiries: answered in 10 h, answered in 48 h, never answered */
    e2e_add_inquiry_received(b, "r-q1-recv", mp, seller, "2026-10-05T00:00:00Z", "q1");
    e2e_add_inquiry_answered(b, "r-q1-ans", mp, seller, "2026-10-05T10:00:00Z", "q1");
    e2e_add_inquiry_received(b, "r-q2-recv", mp, seller, "2026-10-06T00:00:00Z", "q2");
    e2e_add_inquiry_answered(b, "r-q2-ans", mp, seller, "2026-10-08T00:00:00Z", "q2");
    e2e_add_inquiry_received(b, "r-q3-recv", mp, seller, "2026-10-07T00:00:00Z", "q3");
    /* reviews 5 + 3 + 4, one of each recommendation */
    e2e_add_review(b, "r-rv1", mp, seller, "2026-10-09T00:00:00Z", "o1", 5,
                   GRADING__V1__RECOMMENDATION__RECOMMENDATION_STRONGLY_RECOMMEND);
    e2e_add_review(b, "r-rv2", mp, seller, "2026-10-13T00:00:00Z", "o2", 3,
                   GRADING__V1__RECOMMENDATION__RECOMMENDATION_NOT_RECOMMENDED);
    e2e_add_review(b, "r-rv4", mp, seller, "2026-10-11T00:00:00Z", "o4", 4, GRADING__V1__RECOMMENDATION__RECOMMENDATION_RECOMMEND);
    e2e_add_satisfaction(b, "r-ds1", mp, seller, "2026-10-09T00:00:00Z", "o1", 90);
    e2e_add_satisfaction(b, "r-ds2", mp, seller, "2026-10-13T00:00:00Z", "o2", 40);
    e2e_add_revenue(b, "r-rev1", mp, seller, "2026-10-05T02:00:00Z", 1500, "KRW");
    e2e_add_revenue(b, "r-rev2", mp, seller, "2026-10-10T02:00:00Z", 500, "KRW");
    e2e_add_custom(b, "r-c1", mp, seller, "2026-10-05T03:00:00Z", "live_streams", 2.5);
    e2e_add_custom(b, "r-c2", mp, seller, "2026-10-15T03:00:00Z", "live_streams", 1.5);
}

/* The rich seller's counters, all events inside every window (w = 1) or
 * none (w = 0). */
static void assert_rich_counters(const Grading__V1__SellerMetrics *m, const char *window, double w)
{
    static const struct {
        const char *name;
        double value;
    } want[] = {
        {"orders", 5},
        {"gmv", 56000},
        {"shipped", 2},
        {"shipped_on_time", 1},
        {"shipped_tracking_valid", 1},
        {"delivered", 3},
        {"auto_completed", 1},
        {"cancels", 1},
        {"cancels_seller_fault", 1},
        {"cancels_buyer_fault", 0},
        {"cancels_platform_fault", 0},
        {"cancels_out_of_stock", 1},
        {"cancels_shipping_delay", 0},
        {"cancels_buyer_request", 0},
        {"cancels_other", 0},
        {"returns", 1},
        {"returns_seller_fault", 1},
        {"exchanges", 1},
        {"exchanges_seller_fault", 0},
        {"non_receipts", 1},
        {"inquiries", 3},
        {"inquiries_answered", 2},
        {"inquiries_answered_24h", 1},
        {"reviews", 3},
        {"rating_sum", 12},
        {"strongly_recommend", 1},
        {"recommend", 1},
        {"not_recommended", 1},
        {"delivery_satisfaction_sum", 130},
        {"delivery_satisfaction_count", 2},
        {"platform_revenue", 2000},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        double got = e2e_metric(m, want[i].name, window);
        if (got != want[i].value * w)
            fail_msg("seller %s: %s/%s expected %g, got %g", m->seller_id, want[i].name,
                     window, want[i].value * w, got);
    }
    double custom = 0;
    bool found = e2e_metric_find(m, "custom:live_streams", window, &custom);
    if (w == 0) {
        assert_true(!found || custom == 0);
    } else {
        if (!found) fail_msg("no custom:live_streams in window %s", window);
        assert_true(custom == 4.0);
    }
}

static void test_record_then_metrics_every_counter(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    add_rich_seller(&b, "rich-1");
    e2e_record_ok(s->client, b.ev, b.n, (uint32_t)b.n, 0);

    /* as of 2026-10-20 every event is in every window */
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", "rich-1", "2026-10-20T00:00:00Z");
    assert_string_equal(m->seller_id, "rich-1");
    assert_string_equal(m->marketplace, "testmart");
    assert_non_null(m->as_of);
    assert_int_equal(m->as_of->seconds, e2e_time_ms("2026-10-20T00:00:00Z") / 1000);
    const char *windows[] = {"30d", "90d", "365d", "month"};
    for (size_t w = 0; w < 4; w++) assert_rich_counters(m, windows[w], 1);

    /* the empty marketplace is the default one: same seller, same numbers */
    Grading__V1__SellerMetrics *d = e2e_metrics(s->client, "", "rich-1", "2026-10-20T00:00:00Z");
    assert_string_equal(d->marketplace, "testmart");
    e2e_metrics_assert_same(m, d);
    e2e_metrics_free(d);

    /* the same seller id in another marketplace is another seller */
    Grading__V1__SellerMetrics *ny = e2e_metrics(s->client, "nymart", "rich-1", "2026-10-20T00:00:00Z");
    e2e_assert_windows(ny, "orders", 0, 0, 0, 0);
    e2e_metrics_free(ny);

    /* as of 2026-11-25 (Seoul): the last 30 days (from Oct 27) and November
     * hold nothing; 90 and 365 days hold everything */
    Grading__V1__SellerMetrics *later = e2e_metrics(s->client, "testmart", "rich-1", "2026-11-25T00:00:00Z");
    assert_rich_counters(later, "30d", 0);
    assert_rich_counters(later, "month", 0);
    assert_rich_counters(later, "90d", 1);
    assert_rich_counters(later, "365d", 1);
    e2e_metrics_free(later);

    /* a seller nobody wrote about: zeros, not an error */
    Grading__V1__SellerMetrics *none = e2e_metrics(s->client, "testmart", "nobody", "2026-10-20T00:00:00Z");
    e2e_assert_windows(none, "orders", 0, 0, 0, 0);
    e2e_assert_windows(none, "gmv", 0, 0, 0, 0);
    e2e_metrics_free(none);

    e2e_metrics_free(m);
    e2e_batch_destroy(&b);
}

/* ---- local days: the marketplace's time zone decides the calendar month ---- */

static void test_seoul_midnight_boundary(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    /* 2026-10-01 00:30 in Seoul, but still September in UTC */
    e2e_add_paid(&b, "kr-after", "testmart", "seoul-1", "2026-09-30T15:30:00Z", "a", 1000, "KRW", 3);
    /* 2026-09-30 23:30 in Seoul */
    e2e_add_paid(&b, "kr-before", "testmart", "seoul-1", "2026-09-30T14:30:00Z", "b", 2000, "KRW", 3);
    e2e_record_ok(s->client, b.ev, b.n, 2, 0);

    /* as of mid-October: October holds only the 00:30 order */
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", "seoul-1", "2026-10-15T03:00:00Z");
    e2e_assert_windows(m, "orders", 2, 2, 2, 1);
    e2e_assert_windows(m, "gmv", 3000, 3000, 3000, 1000);
    e2e_metrics_free(m);

    /* as of 23:50 on Sep 30 in Seoul: the month is September, and the
     * order of Oct 1 (local) is not yet in any window */
    m = e2e_metrics(s->client, "testmart", "seoul-1", "2026-09-30T14:50:00Z");
    e2e_assert_windows(m, "orders", 1, 1, 1, 1);
    e2e_assert_windows(m, "gmv", 2000, 2000, 2000, 2000);
    e2e_metrics_free(m);
    e2e_batch_destroy(&b);
}

static void test_new_york_day_boundary(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    /* 22:00 on Sep 30 in New York (EDT, UTC-4) */
    e2e_add_paid(&b, "ny-a", "nymart", "ny-1", "2026-10-01T02:00:00Z", "a", 1000, "USD", 3);
    /* 01:00 on Oct 1 in New York */
    e2e_add_paid(&b, "ny-b", "nymart", "ny-1", "2026-10-01T05:00:00Z", "b", 2000, "USD", 3);
    /* the same instants in Seoul are both Oct 1 */
    e2e_add_paid(&b, "kr-a", "testmart", "kr-2", "2026-10-01T02:00:00Z", "a", 1000, "KRW", 3);
    e2e_add_paid(&b, "kr-b", "testmart", "kr-2", "2026-10-01T05:00:00Z", "b", 2000, "KRW", 3);
    e2e_record_ok(s->client, b.ev, b.n, 4, 0);

    Grading__V1__SellerMetrics *ny = e2e_metrics(s->client, "nymart", "ny-1", "2026-10-15T12:00:00Z");
    assert_string_equal(ny->marketplace, "nymart");
    e2e_assert_windows(ny, "orders", 2, 2, 2, 1);
    e2e_assert_windows(ny, "gmv", 3000, 3000, 3000, 2000);
    Grading__V1__SellerMetrics *kr = e2e_metrics(s->client, "testmart", "kr-2", "2026-10-15T12:00:00Z");
    e2e_assert_windows(kr, "orders", 2, 2, 2, 2);
    e2e_assert_windows(kr, "gmv", 3000, 3000, 3000, 3000);
    e2e_metrics_free(ny);
    e2e_metrics_free(kr);
    e2e_batch_destroy(&b);
}

/* ---- idempotency ---- */

static void test_same_batch_twice_all_duplicates(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    add_rich_seller(&b, "dup-1");
    e2e_record_ok(s->client, b.ev, b.n, (uint32_t)b.n, 0);
    Grading__V1__SellerMetrics *before = e2e_metrics(s->client, "testmart", "dup-1", "2026-10-20T00:00:00Z");
    assert_rich_counters(before, "30d", 1);

    e2e_record_ok(s->client, b.ev, b.n, 0, (uint32_t)b.n);
    Grading__V1__SellerMetrics *after = e2e_metrics(s->client, "testmart", "dup-1", "2026-10-20T00:00:00Z");
    e2e_metrics_assert_same(before, after);
    assert_rich_counters(after, "30d", 1);

    /* old and new mixed: only the new one counts */
    e2e_batch_t mix;
    e2e_batch_init(&mix);
    e2e_add_paid(&mix, "r-o1-paid", NULL, "dup-1", "2026-10-05T01:00:00Z", "o1", 15000, "KRW", 2);
    e2e_add_paid(&mix, "dup-new-o6", NULL, "dup-1", "2026-10-09T01:00:00Z", "o6", 1000, "KRW", 2);
    e2e_add_review(&mix, "r-rv1", NULL, "dup-1", "2026-10-09T00:00:00Z", "o1", 5,
                   GRADING__V1__RECOMMENDATION__RECOMMENDATION_STRONGLY_RECOMMEND);
    e2e_record_ok(s->client, mix.ev, mix.n, 1, 2);
    Grading__V1__SellerMetrics *mixed = e2e_metrics(s->client, "testmart", "dup-1", "2026-10-20T00:00:00Z");
    e2e_assert_windows(mixed, "orders", 6, 6, 6, 6);
    e2e_assert_windows(mixed, "gmv", 57000, 57000, 57000, 57000);
    e2e_assert_windows(mixed, "reviews", 3, 3, 3, 3);

    /* one event_id twice in one batch: stored once */
    e2e_batch_t twice;
    e2e_batch_init(&twice);
    e2e_add_paid(&twice, "dup-twice", NULL, "dup-2", "2026-10-09T01:00:00Z", "o1", 700, "KRW", 2);
    e2e_add_paid(&twice, "dup-twice", NULL, "dup-2", "2026-10-09T01:00:00Z", "o1", 700, "KRW", 2);
    e2e_record_ok(s->client, twice.ev, twice.n, 1, 1);
    Grading__V1__SellerMetrics *t = e2e_metrics(s->client, "testmart", "dup-2", "2026-10-20T00:00:00Z");
    e2e_assert_windows(t, "orders", 1, 1, 1, 1);
    e2e_assert_windows(t, "gmv", 700, 700, 700, 700);

    e2e_metrics_free(t);
    e2e_metrics_free(mixed);
    e2e_metrics_free(before);
    e2e_metrics_free(after);
    e2e_batch_destroy(&twice);
    e2e_batch_destroy(&mix);
    e2e_batch_destroy(&b);
}

/* ---- a bad event fails the whole batch ---- */

/* Sends [good paid, bad, good paid] for seller; expects code and a message
 * naming field; then checks nothing was stored and that the two good events
 * alone are accepted as new. */
static void check_bad_middle_event(e2e_server_t *s, const char *seller, e2e_batch_t *b, grpc_status_code code,
                                   const char *field)
{
    assert_int_equal(b->n, 3);
    e2e_reply_t r;
    e2e_record(s->client, b->ev, b->n, E2E_RECORD_TIMEOUT_MS, &r);
    assert_true(r.completed);
    if (r.status != code)
        fail_msg("batch with a bad events[1] (%s): expected %s, got %s: %s", field, grading_status_name(code),
                 grading_status_name(r.status), r.details);
    e2e_assert_contains(r.details, "events[1]");
    e2e_assert_contains(r.details, field);

    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", seller, "2026-10-20T00:00:00Z");
    e2e_assert_windows(m, "orders", 0, 0, 0, 0);
    e2e_assert_windows(m, "gmv", 0, 0, 0, 0);
    e2e_assert_windows(m, "reviews", 0, 0, 0, 0);
    e2e_metrics_free(m);

    Grading__V1__SellerEvent *good[2] = {b->ev[0], b->ev[2]};
    e2e_record_ok(s->client, good, 2, 2, 0);
    m = e2e_metrics(s->client, "testmart", seller, "2026-10-20T00:00:00Z");
    e2e_assert_windows(m, "orders", 2, 2, 2, 2);
    e2e_assert_windows(m, "gmv", 3000, 3000, 3000, 3000);
    e2e_assert_windows(m, "reviews", 0, 0, 0, 0);
    e2e_metrics_free(m);
}

static void test_bad_rating_fails_whole_batch(void **state)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bad1-e0", "testmart", "bad-1", "2026-10-05T01:00:00Z", "o1", 1000, "KRW", 2);
    e2e_add_review(&b, "bad1-e1", "testmart", "bad-1", "2026-10-06T01:00:00Z", "o1", 6,
                   GRADING__V1__RECOMMENDATION__RECOMMENDATION_RECOMMEND);
    e2e_add_paid(&b, "bad1-e2", "testmart", "bad-1", "2026-10-07T01:00:00Z", "o2", 2000, "KRW", 2);
    check_bad_middle_event(*state, "bad-1", &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].buyer_review.rating");
    e2e_batch_destroy(&b);
}

static void test_missing_seller_fails_whole_batch(void **state)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bad2-e0", "testmart", "bad-2", "2026-10-05T01:00:00Z", "o1", 1000, "KRW", 2);
    e2e_add_paid(&b, "bad2-e1", "testmart", NULL, "2026-10-06T01:00:00Z", "o9", 500, "KRW", 2);
    e2e_add_paid(&b, "bad2-e2", "testmart", "bad-2", "2026-10-07T01:00:00Z", "o2", 2000, "KRW", 2);
    check_bad_middle_event(*state, "bad-2", &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].seller_id");
    e2e_batch_destroy(&b);
}

static void test_negative_amount_fails_whole_batch(void **state)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bad3-e0", "testmart", "bad-3", "2026-10-05T01:00:00Z", "o1", 1000, "KRW", 2);
    e2e_add_paid(&b, "bad3-e1", "testmart", "bad-3", "2026-10-06T01:00:00Z", "o3", -5, "KRW", 2);
    e2e_add_paid(&b, "bad3-e2", "testmart", "bad-3", "2026-10-07T01:00:00Z", "o2", 2000, "KRW", 2);
    check_bad_middle_event(*state, "bad-3", &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].order_paid.amount");
    e2e_batch_destroy(&b);
}

static void test_missing_occurred_at_fails_whole_batch(void **state)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bad4-e0", "testmart", "bad-4", "2026-10-05T01:00:00Z", "o1", 1000, "KRW", 2);
    e2e_add_paid(&b, "bad4-e1", "testmart", "bad-4", NULL, "o3", 10, "KRW", 2);
    e2e_add_paid(&b, "bad4-e2", "testmart", "bad-4", "2026-10-07T01:00:00Z", "o2", 2000, "KRW", 2);
    check_bad_middle_event(*state, "bad-4", &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].occurred_at");
    e2e_batch_destroy(&b);
}

static void test_unknown_marketplace_fails_whole_batch(void **state)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bad5-e0", "testmart", "bad-5", "2026-10-05T01:00:00Z", "o1", 1000, "KRW", 2);
    e2e_add_paid(&b, "bad5-e1", "nosuchmart", "bad-5", "2026-10-06T01:00:00Z", "o3", 10, "KRW", 2);
    e2e_add_paid(&b, "bad5-e2", "testmart", "bad-5", "2026-10-07T01:00:00Z", "o2", 2000, "KRW", 2);
    /* API.md: an unknown marketplace is NOT_FOUND */
    check_bad_middle_event(*state, "bad-5", &b, GRPC_STATUS_NOT_FOUND, "events[1].marketplace");
    e2e_batch_destroy(&b);
}

static void test_event_without_kind_fails_whole_batch(void **state)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "bad6-e0", "testmart", "bad-6", "2026-10-05T01:00:00Z", "o1", 1000, "KRW", 2);
    e2e_add_event(&b, "bad6-e1", "testmart", "bad-6", "2026-10-06T01:00:00Z");
    e2e_add_paid(&b, "bad6-e2", "testmart", "bad-6", "2026-10-07T01:00:00Z", "o2", 2000, "KRW", 2);
    check_bad_middle_event(*state, "bad-6", &b, GRPC_STATUS_INVALID_ARGUMENT, "events[1].kind");
    e2e_batch_destroy(&b);
}

static void test_empty_batch_is_invalid(void **state)
{
    e2e_server_t *s = *state;
    e2e_reply_t r;
    e2e_record(s->client, NULL, 0, E2E_RECORD_TIMEOUT_MS, &r);
    assert_true(r.completed);
    if (r.status != GRPC_STATUS_INVALID_ARGUMENT)
        fail_msg("empty RecordEvents: expected INVALID_ARGUMENT, got %s: %s", grading_status_name(r.status),
                 r.details);
    e2e_assert_contains(r.details, "events");
}

/* ---- size limits ---- */

static void add_many_paid(e2e_batch_t *b, const char *seller, size_t n)
{
    char id[64], order[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%s-e%zu", seller, i);
        snprintf(order, sizeof order, "o%zu", i);
        e2e_add_paid(b, id, "testmart", seller, "2026-10-05T01:00:00Z", order, 100, "KRW", 3);
    }
}

static void test_10001_events_rejected_10000_accepted(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    add_many_paid(&b, "big-1", 10001);

    e2e_reply_t r;
    e2e_record(s->client, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r);
    assert_true(r.completed);
    /* handlers.c: more than GRADING_MAX_EVENTS_PER_CALL is RESOURCE_EXHAUSTED
     * (API.md: "batch too large") naming the events field and the count */
    if (r.status != GRPC_STATUS_RESOURCE_EXHAUSTED)
        fail_msg("10,001 events: expected RESOURCE_EXHAUSTED, got %s: %s", grading_status_name(r.status), r.details);
    e2e_assert_contains(r.details, "events");
    e2e_assert_contains(r.details, "10000");
    e2e_assert_contains(r.details, "10001");
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", "big-1", "2026-10-20T00:00:00Z");
    e2e_assert_windows(m, "orders", 0, 0, 0, 0);
    e2e_metrics_free(m);

    /* exactly the limit is fine, and all of it counts */
    e2e_record_ok(s->client, b.ev, 10000, 10000, 0);
    m = e2e_metrics(s->client, "testmart", "big-1", "2026-10-20T00:00:00Z");
    e2e_assert_windows(m, "orders", 10000, 10000, 10000, 10000);
    e2e_assert_windows(m, "gmv", 1000000, 1000000, 1000000, 1000000);
    e2e_metrics_free(m);
    e2e_batch_destroy(&b);
}

static void test_oversized_request_rejected(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    /* one event id of 17 MiB: past the server's 16 MiB request limit */
    size_t len = 17u * 1024 * 1024;
    char *huge = malloc(len + 1);
    assert_non_null(huge);
    memset(huge, 'x', len);
    huge[len] = '\0';
    e2e_add_paid(&b, huge, "testmart", "huge-1", "2026-10-05T01:00:00Z", "o1", 100, "KRW", 3);
    free(huge);

    e2e_reply_t r;
    e2e_record(s->client, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r);
    assert_true(r.completed);
    if (r.status != GRPC_STATUS_RESOURCE_EXHAUSTED)
        fail_msg("a 17 MiB request: expected RESOURCE_EXHAUSTED, got %s: %s", grading_status_name(r.status),
                 r.details);
    assert_true(strlen(r.details) > 0);
    /* the server is still fine */
    assert_int_equal(e2e_health(s->client, 2000), E2E_SERVING);
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", "huge-1", "2026-10-20T00:00:00Z");
    e2e_assert_windows(m, "orders", 0, 0, 0, 0);
    e2e_metrics_free(m);
    e2e_batch_destroy(&b);
}

/* ---- arrival order does not matter ---- */

/* One seller's story in chronological order. */
static void add_story(e2e_batch_t *b, const char *seller)
{
    char id[96];
#define ID(x) (snprintf(id, sizeof id, "%s-%s", seller, x), id)
    e2e_add_paid(b, ID("o1-paid"), "testmart", seller, "2026-10-02T01:00:00Z", "o1", 10000, "KRW", 2);
    e2e_add_paid(b, ID("o2-paid"), "testmart", seller, "2026-10-02T03:00:00Z", "o2", 5000, "KRW", 3);
    e2e_add_cancelled(b, ID("o2-cancel"), "testmart", seller, "2026-10-02T05:00:00Z", "o2", BUYER_FAULT,
                      GRADING__V1__CANCEL_REASON__CANCEL_REASON_BUYER_REQUEST);
    e2e_add_shipped(b, ID("o1-ship"), "testmart", seller, "2026-10-03T01:00:00Z", "o1", true);
    e2e_add_paid(b, ID("o3-paid"), "testmart", seller, "2026-10-03T01:00:00Z", "o3", 8000, "KRW", 1);
    e2e_add_inquiry_received(b, ID("q1-recv"), "testmart", seller, "2026-10-03T00:00:00Z", "q1");
    e2e_add_inquiry_answered(b, ID("q1-ans"), "testmart", seller, "2026-10-03T20:00:00Z", "q1");
    e2e_add_delivered(b, ID("o1-dlv"), "testmart", seller, "2026-10-05T01:00:00Z", "o1", false);
    e2e_add_shipped(b, ID("o3-ship"), "testmart", seller, "2026-10-06T01:00:00Z", "o3", false);
    e2e_add_returned(b, ID("o1-ret"), "testmart", seller, "2026-10-07T01:00:00Z", "o1", BUYER_FAULT);
    e2e_add_delivered(b, ID("o3-dlv"), "testmart", seller, "2026-10-08T01:00:00Z", "o3", true);
    e2e_add_non_receipt(b, ID("o3-nr"), "testmart", seller, "2026-10-09T01:00:00Z", "o3");
#undef ID
}

static void assert_story(const Grading__V1__SellerMetrics *m)
{
    e2e_assert_windows(m, "orders", 3, 3, 3, 3);
    e2e_assert_windows(m, "gmv", 23000, 23000, 23000, 23000);
    e2e_assert_windows(m, "shipped", 2, 2, 2, 2);
    e2e_assert_windows(m, "shipped_on_time", 1, 1, 1, 1);
    e2e_assert_windows(m, "shipped_tracking_valid", 1, 1, 1, 1);
    e2e_assert_windows(m, "delivered", 2, 2, 2, 2);
    e2e_assert_windows(m, "auto_completed", 1, 1, 1, 1);
    e2e_assert_windows(m, "cancels", 1, 1, 1, 1);
    e2e_assert_windows(m, "cancels_buyer_fault", 1, 1, 1, 1);
    e2e_assert_windows(m, "cancels_buyer_request", 1, 1, 1, 1);
    e2e_assert_windows(m, "returns", 1, 1, 1, 1);
    e2e_assert_windows(m, "returns_seller_fault", 0, 0, 0, 0);
    e2e_assert_windows(m, "non_receipts", 1, 1, 1, 1);
    e2e_assert_windows(m, "inquiries", 1, 1, 1, 1);
    e2e_assert_windows(m, "inquiries_answered", 1, 1, 1, 1);
    e2e_assert_windows(m, "inquiries_answered_24h", 1, 1, 1, 1);
}

static void test_out_of_order_arrival_same_metrics(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t in, rev, one;
    e2e_batch_init(&in);
    e2e_batch_init(&rev);
    e2e_batch_init(&one);
    add_story(&in, "ooo-inorder");
    add_story(&rev, "ooo-reversed");
    add_story(&one, "ooo-onebatch");

    /* in order, one call per event */
    for (size_t i = 0; i < in.n; i++) e2e_record_ok(s->client, &in.ev[i], 1, 1, 0);
    /* newest first, one call per event: delivered before shipped before
     * paid, answered before received */
    for (size_t i = rev.n; i-- > 0;) e2e_record_ok(s->client, &rev.ev[i], 1, 1, 0);
    /* newest first, all in one batch */
    Grading__V1__SellerEvent **backwards = calloc(one.n, sizeof *backwards);
    assert_non_null(backwards);
    for (size_t i = 0; i < one.n; i++) backwards[i] = one.ev[one.n - 1 - i];
    e2e_record_ok(s->client, backwards, one.n, (uint32_t)one.n, 0);
    free(backwards);

    const char *as_of = "2026-10-20T00:00:00Z";
    Grading__V1__SellerMetrics *a = e2e_metrics(s->client, "testmart", "ooo-inorder", as_of);
    Grading__V1__SellerMetrics *b = e2e_metrics(s->client, "testmart", "ooo-reversed", as_of);
    Grading__V1__SellerMetrics *c = e2e_metrics(s->client, "testmart", "ooo-onebatch", as_of);
    assert_story(a);
    e2e_metrics_assert_same(a, b);
    e2e_metrics_assert_same(a, c);
    e2e_metrics_free(a);
    e2e_metrics_free(b);
    e2e_metrics_free(c);
    e2e_batch_destroy(&in);
    e2e_batch_destroy(&rev);
    e2e_batch_destroy(&one);
}

/* ---- GetSellerMetrics' own errors ---- */

static void test_metrics_errors(void **state)
{
    e2e_server_t *s = *state;
    Grading__V1__SellerMetrics *m = NULL;
    char details[512];
    grpc_status_code st = e2e_metrics_try(s->client, "nosuchmart", "x", "2026-10-20T00:00:00Z", &m, details,
                                          sizeof details);
    if (st != GRPC_STATUS_NOT_FOUND)
        fail_msg("unknown marketplace: expected NOT_FOUND, got %s: %s", grading_status_name(st), details);
    e2e_assert_contains(details, "nosuchmart");
    assert_null(m);

    st = e2e_metrics_try(s->client, "testmart", "", "2026-10-20T00:00:00Z", &m, details, sizeof details);
    if (st != GRPC_STATUS_INVALID_ARGUMENT)
        fail_msg("empty seller_id: expected INVALID_ARGUMENT, got %s: %s", grading_status_name(st), details);
    e2e_assert_contains(details, "seller_id");
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_then_metrics_every_counter, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_seoul_midnight_boundary, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_new_york_day_boundary, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_same_batch_twice_all_duplicates, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_bad_rating_fails_whole_batch, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_missing_seller_fails_whole_batch, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_negative_amount_fails_whole_batch, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_missing_occurred_at_fails_whole_batch, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_unknown_marketplace_fails_whole_batch, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_event_without_kind_fails_whole_batch, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_empty_batch_is_invalid, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_10001_events_rejected_10000_accepted, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_oversized_request_rejected, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_out_of_order_arrival_same_metrics, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_metrics_errors, e2e_setup_server, e2e_teardown_server),
    };
    return cmocka_run_group_tests_name("e2e ingest", tests, NULL, NULL);
}
