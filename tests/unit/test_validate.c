/* Every validation rule of RecordEvents, on both sides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "grading/event.h"

#define T0 INT64_C(1759626000000) /* 2025-10-05T01:00:00Z */

static grading_event_t base(grading_event_kind_t kind)
{
    grading_event_t ev = {
        .event_id = "ev-1", .marketplace = "", .seller_id = "s-1",
        .has_occurred_at = true, .occurred_ms = T0, .kind = kind,
        .ref_id = "o-1", .product_id = "p-1", .currency = "KRW", .name = "",
    };
    switch (kind) {
    case GRADING_EV_ORDER_PAID: ev.amount = 1000; ev.ship_within_days = 3; break;
    case GRADING_EV_ORDER_CANCELLED: ev.fault = GRADING_FAULT_SELLER; ev.reason = GRADING_REASON_OUT_OF_STOCK; break;
    case GRADING_EV_ORDER_RETURNED:
    case GRADING_EV_ORDER_EXCHANGED: ev.fault = GRADING_FAULT_BUYER; break;
    case GRADING_EV_BUYER_REVIEW: ev.rating = 5; ev.recommendation = GRADING_REC_RECOMMEND; break;
    case GRADING_EV_DELIVERY_SATISFACTION: ev.score = 80; break;
    case GRADING_EV_PLATFORM_REVENUE: ev.amount = 10; break;
    case GRADING_EV_CUSTOM: ev.name = "late_answers"; ev.value = 1.5; break;
    default: break;
    }
    return ev;
}

/* Asserts ev fails with exactly this field, and that the message says something. */
static void expect_bad(const grading_event_t *ev, uint32_t index, const char *field)
{
    grading_error_t e = {0};
    assert_int_equal(grading_event_validate(ev, index, &e), GRADING_EINVAL);
    assert_int_equal(e.code, GRADING_EINVAL);
    assert_string_equal(e.field, field);
    assert_true(strlen(e.message) > 5);
}

static void expect_ok(const grading_event_t *ev)
{
    grading_error_t e = {0};
    grading_err_t err = grading_event_validate(ev, 0, &e);
    if (err) fail_msg("unexpected error %s: %s", e.field, e.message);
}

static void test_every_kind_valid(void **st)
{
    (void)st;
    const grading_event_kind_t kinds[] = {
        GRADING_EV_ORDER_PAID, GRADING_EV_ORDER_SHIPPED, GRADING_EV_ORDER_DELIVERED,
        GRADING_EV_ORDER_CANCELLED, GRADING_EV_ORDER_RETURNED, GRADING_EV_ORDER_EXCHANGED,
        GRADING_EV_NON_RECEIPT, GRADING_EV_INQUIRY_RECEIVED, GRADING_EV_INQUIRY_ANSWERED,
        GRADING_EV_BUYER_REVIEW, GRADING_EV_DELIVERY_SATISFACTION, GRADING_EV_PLATFORM_REVENUE,
        GRADING_EV_CUSTOM};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        grading_event_t ev = base(kinds[i]);
        expect_ok(&ev);
    }
}

static void test_missing_envelope_fields_name_the_field(void **st)
{
    (void)st;
    grading_event_t ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.event_id = "";
    expect_bad(&ev, 3, "events[3].event_id");
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.seller_id = "";
    expect_bad(&ev, 0, "events[0].seller_id");
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.has_occurred_at = false;
    expect_bad(&ev, 7, "events[7].occurred_at");
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.kind = GRADING_EV_NONE;
    expect_bad(&ev, 1, "events[1].kind");
}

static void test_id_length_limits(void **st)
{
    (void)st;
    char id[GRADING_MAX_ID_LEN + 2];
    memset(id, 'a', sizeof id);
    id[GRADING_MAX_ID_LEN] = 0;   /* exactly the limit */
    grading_event_t ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.event_id = id;
    expect_ok(&ev);
    id[GRADING_MAX_ID_LEN] = 'a';
    id[GRADING_MAX_ID_LEN + 1] = 0;   /* one over */
    expect_bad(&ev, 0, "events[0].event_id");
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.seller_id = "has space";
    expect_bad(&ev, 0, "events[0].seller_id");
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.marketplace = "bad\tname";
    expect_bad(&ev, 0, "events[0].marketplace");

    char mp[GRADING_MAX_MARKETPLACE_LEN + 2];
    memset(mp, 'm', sizeof mp);
    mp[GRADING_MAX_MARKETPLACE_LEN] = 0;
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.marketplace = mp;
    expect_ok(&ev);
    mp[GRADING_MAX_MARKETPLACE_LEN] = 'm';
    mp[GRADING_MAX_MARKETPLACE_LEN + 1] = 0;
    expect_bad(&ev, 0, "events[0].marketplace");
}

static void test_occurred_at_range(void **st)
{
    (void)st;
    grading_event_t ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.occurred_ms = GRADING_MIN_TIME_MS;
    expect_ok(&ev);
    ev.occurred_ms = GRADING_MIN_TIME_MS - 1;
    expect_bad(&ev, 0, "events[0].occurred_at");
    ev.occurred_ms = GRADING_MAX_TIME_MS - 1;
    expect_ok(&ev);
    ev.occurred_ms = GRADING_MAX_TIME_MS;
    expect_bad(&ev, 0, "events[0].occurred_at");
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.occurred_nanos = 1000000000;
    expect_bad(&ev, 0, "events[0].occurred_at");
    ev.occurred_nanos = -1;
    expect_bad(&ev, 0, "events[0].occurred_at");
}

static void test_order_paid_rules(void **st)
{
    (void)st;
    grading_event_t ev = base(GRADING_EV_ORDER_PAID);
    ev.amount = 0;
    expect_ok(&ev);
    ev.amount = -1;
    expect_bad(&ev, 2, "events[2].order_paid.amount");
    ev.amount = GRADING_MAX_AMOUNT;
    expect_ok(&ev);
    ev.amount = GRADING_MAX_AMOUNT + 1;
    expect_bad(&ev, 2, "events[2].order_paid.amount");

    ev = base(GRADING_EV_ORDER_PAID);
    ev.ref_id = "";
    expect_bad(&ev, 0, "events[0].order_paid.order_id");
    ev = base(GRADING_EV_ORDER_PAID);
    ev.product_id = "";
    expect_bad(&ev, 0, "events[0].order_paid.product_id");
    ev = base(GRADING_EV_ORDER_PAID);
    ev.currency = "";   /* empty: the marketplace's (checked with its context) */
    expect_ok(&ev);
    const char *bad_cur[] = {"KR", "KRWW", "krw", "K1W"};
    for (size_t i = 0; i < sizeof bad_cur / sizeof bad_cur[0]; i++) {
        ev = base(GRADING_EV_ORDER_PAID);
        ev.currency = bad_cur[i];
        expect_bad(&ev, 0, "events[0].order_paid.currency");
    }
    ev = base(GRADING_EV_ORDER_PAID);
    ev.ship_within_days = 365;
    expect_ok(&ev);
    ev.ship_within_days = 366;
    expect_bad(&ev, 0, "events[0].order_paid.ship_within_days");
    ev = base(GRADING_EV_ORDER_PAID);
    ev.reserved_ship_ms = T0 + 86400000;
    expect_ok(&ev);
    ev.reserved_ship_ms = 5;   /* set, but 1970 */
    expect_bad(&ev, 0, "events[0].order_paid.reserved_ship_date");
}

static void test_fault_and_reason_ranges(void **st)
{
    (void)st;
    grading_event_t ev = base(GRADING_EV_ORDER_CANCELLED);
    ev.fault = GRADING_FAULT_UNSPECIFIED;
    expect_bad(&ev, 0, "events[0].order_cancelled.fault");
    ev.fault = GRADING_FAULT_PLATFORM + 1;
    expect_bad(&ev, 0, "events[0].order_cancelled.fault");
    ev.fault = GRADING_FAULT_PLATFORM;
    expect_ok(&ev);
    ev.reason = GRADING_REASON_UNSPECIFIED;
    expect_bad(&ev, 0, "events[0].order_cancelled.reason");
    ev.reason = GRADING_REASON_OTHER + 1;
    expect_bad(&ev, 0, "events[0].order_cancelled.reason");
    ev.reason = GRADING_REASON_OTHER;
    expect_ok(&ev);

    ev = base(GRADING_EV_ORDER_RETURNED);
    ev.fault = 0;
    expect_bad(&ev, 0, "events[0].order_returned.fault");
    ev = base(GRADING_EV_ORDER_EXCHANGED);
    ev.fault = 9;
    expect_bad(&ev, 0, "events[0].order_exchanged.fault");
    ev = base(GRADING_EV_ORDER_DELIVERED);
    ev.ref_id = "";
    expect_bad(&ev, 0, "events[0].order_delivered.order_id");
    ev = base(GRADING_EV_NON_RECEIPT);
    ev.ref_id = "";
    expect_bad(&ev, 0, "events[0].non_receipt_reported.order_id");
    ev = base(GRADING_EV_INQUIRY_ANSWERED);
    ev.ref_id = "";
    expect_bad(&ev, 0, "events[0].inquiry_answered.inquiry_id");
}

static void test_rating_and_score_bounds(void **st)
{
    (void)st;
    grading_event_t ev = base(GRADING_EV_BUYER_REVIEW);
    ev.rating = 1;
    expect_ok(&ev);
    ev.rating = 0;
    expect_bad(&ev, 4, "events[4].buyer_review.rating");
    ev.rating = 6;
    expect_bad(&ev, 4, "events[4].buyer_review.rating");
    ev.rating = 5;
    ev.recommendation = GRADING_REC_NOT_RECOMMENDED + 1;
    expect_bad(&ev, 4, "events[4].buyer_review.recommendation");
    ev.recommendation = GRADING_REC_UNSPECIFIED;   /* a review may omit it */
    expect_ok(&ev);
    /* per-aspect ratings (11st): 0 is "not rated", 1..5 a rating */
    ev.shipping_rating = 5;
    ev.inquiry_rating = 1;
    expect_ok(&ev);
    ev.shipping_rating = 6;
    expect_bad(&ev, 4, "events[4].buyer_review.shipping_rating");
    ev.shipping_rating = 0;
    ev.inquiry_rating = 6;
    expect_bad(&ev, 4, "events[4].buyer_review.inquiry_rating");
    ev.inquiry_rating = 0;
    expect_ok(&ev);

    ev = base(GRADING_EV_DELIVERY_SATISFACTION);
    ev.score = 0;
    expect_ok(&ev);
    ev.score = 100;
    expect_ok(&ev);
    ev.score = 101;
    expect_bad(&ev, 0, "events[0].delivery_satisfaction.score");
}

static void test_revenue_and_custom(void **st)
{
    (void)st;
    grading_event_t ev = base(GRADING_EV_PLATFORM_REVENUE);
    ev.amount = -5;
    expect_bad(&ev, 0, "events[0].platform_revenue.amount");
    ev = base(GRADING_EV_PLATFORM_REVENUE);
    ev.currency = "jpy";
    expect_bad(&ev, 0, "events[0].platform_revenue.currency");
    ev = base(GRADING_EV_CUSTOM);
    ev.name = "";
    expect_bad(&ev, 0, "events[0].custom.name");
    ev = base(GRADING_EV_CUSTOM);
    ev.value = NAN;
    expect_bad(&ev, 0, "events[0].custom.value");
    ev.value = INFINITY;
    expect_bad(&ev, 0, "events[0].custom.value");
    ev.value = -3.0;   /* custom counters may go down */
    expect_ok(&ev);
}

static void test_batch_limits(void **st)
{
    (void)st;
    grading_error_t e = {0};
    assert_int_equal(grading_events_validate(NULL, 0, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events");

    static grading_event_t evs[GRADING_MAX_EVENTS_PER_CALL + 1];
    for (size_t i = 0; i < GRADING_MAX_EVENTS_PER_CALL + 1; i++) evs[i] = base(GRADING_EV_ORDER_SHIPPED);
    assert_int_equal(grading_events_validate(evs, GRADING_MAX_EVENTS_PER_CALL, &e), GRADING_OK);
    assert_int_equal(grading_events_validate(evs, GRADING_MAX_EVENTS_PER_CALL + 1, &e), GRADING_EFULL);
    assert_string_equal(e.field, "events");

    /* The first bad event decides, with its index. */
    evs[5].rating = 9;
    evs[5].kind = GRADING_EV_BUYER_REVIEW;
    evs[9].seller_id = "";
    assert_int_equal(grading_events_validate(evs, 10, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events[5].buyer_review.rating");
}

/* What depends on the marketplace and the clock: the currency and how far
 * ahead occurred_at may be. */
static void test_context_currency_and_future_skew(void **state)
{
    (void)state;
    grading_error_t e = {0};
    grading_event_context_t ctx = {.marketplace = "testmart", .currency = "KRW", .now_ms = T0,
                                   .max_future_skew_ms = GRADING_DEFAULT_MAX_FUTURE_SKEW_MS};
    grading_event_t ev = base(GRADING_EV_ORDER_PAID);
    assert_int_equal(grading_event_check_context(&ev, 0, &ctx, &e), GRADING_OK);
    ev.currency = "";
    assert_int_equal(grading_event_check_context(&ev, 0, &ctx, &e), GRADING_OK);
    ev.currency = "USD";
    assert_int_equal(grading_event_check_context(&ev, 4, &ctx, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events[4].order_paid.currency");
    assert_non_null(strstr(e.message, "\"KRW\""));
    ev = base(GRADING_EV_PLATFORM_REVENUE);
    ev.currency = "JPY";
    assert_int_equal(grading_event_check_context(&ev, 0, &ctx, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events[0].platform_revenue.currency");

    /* exactly the skew ahead is accepted, a millisecond more is not */
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.occurred_ms = T0 + GRADING_DEFAULT_MAX_FUTURE_SKEW_MS;
    assert_int_equal(grading_event_check_context(&ev, 0, &ctx, &e), GRADING_OK);
    ev.occurred_ms++;
    assert_int_equal(grading_event_check_context(&ev, 2, &ctx, &e), GRADING_ERANGE);
    assert_string_equal(e.field, "events[2].occurred_at");
    ev.occurred_ms = T0 - 400 * INT64_C(86400000);   /* the past is not judged here */
    assert_int_equal(grading_event_check_context(&ev, 0, &ctx, &e), GRADING_OK);
    ctx.max_future_skew_ms = 60000;
    ev.occurred_ms = T0 + 60001;
    assert_int_equal(grading_event_check_context(&ev, 0, &ctx, &e), GRADING_ERANGE);

    /* the dedup horizon: exactly it behind is accepted, a millisecond more is not */
    ctx.max_past_ms = 35 * INT64_C(86400000);
    ev.occurred_ms = T0 - ctx.max_past_ms;
    assert_int_equal(grading_event_check_context(&ev, 0, &ctx, &e), GRADING_OK);
    ev.occurred_ms--;
    assert_int_equal(grading_event_check_context(&ev, 3, &ctx, &e), GRADING_ERANGE);
    assert_string_equal(e.field, "events[3].occurred_at");
    assert_non_null(strstr(e.message, "dedup horizon of 35 days"));
    assert_non_null(strstr(e.message, "backfill_id"));
}

/* Ids are printable ASCII; custom values are bounded so sums stay finite. */
static void test_ids_and_custom_values_are_bounded(void **state)
{
    (void)state;
    grading_event_t ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.seller_id = "\xec\x85\x80";
    expect_bad(&ev, 0, "events[0].seller_id");
    ev = base(GRADING_EV_ORDER_SHIPPED);
    ev.ref_id = "o\x01";
    expect_bad(&ev, 0, "events[0].order_shipped.order_id");
    ev = base(GRADING_EV_CUSTOM);
    ev.value = GRADING_MAX_CUSTOM_VALUE;
    expect_ok(&ev);
    ev.value = -GRADING_MAX_CUSTOM_VALUE * 2;
    expect_bad(&ev, 0, "events[0].custom.value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_valid),
        cmocka_unit_test(test_missing_envelope_fields_name_the_field),
        cmocka_unit_test(test_id_length_limits),
        cmocka_unit_test(test_occurred_at_range),
        cmocka_unit_test(test_order_paid_rules),
        cmocka_unit_test(test_fault_and_reason_ranges),
        cmocka_unit_test(test_rating_and_score_bounds),
        cmocka_unit_test(test_revenue_and_custom),
        cmocka_unit_test(test_batch_limits),
        cmocka_unit_test(test_context_currency_and_future_skew),
        cmocka_unit_test(test_ids_and_custom_values_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
