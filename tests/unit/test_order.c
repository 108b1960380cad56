/* Order and inquiry timelines: any arrival order, any retries, one record;
 * and the daily counters they imply do not depend on arrival order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "grading/counters.h"
#include "grading/order.h"

#define H INT64_C(3600000)
#define D (24 * H)
#define T0 INT64_C(1759626000000) /* 2025-10-05T01:00:00Z, 10:00 in Seoul */

static grading_event_t ev_of(grading_event_kind_t kind, int64_t t)
{
    grading_event_t ev = {.event_id = "e", .seller_id = "s", .has_occurred_at = true,
                          .occurred_ms = t, .kind = kind, .ref_id = "o-1", .product_id = "p-1",
                          .currency = "KRW", .name = ""};
    return ev;
}

/* The events of one order's life, deliberately with a duplicate. */
static void order_story(grading_event_t *evs, size_t *n)
{
    size_t k = 0;
    evs[k] = ev_of(GRADING_EV_ORDER_PAID, T0);
    evs[k].amount = 25000;
    evs[k++].ship_within_days = 2;
    evs[k] = ev_of(GRADING_EV_ORDER_SHIPPED, T0 + 1 * D);
    evs[k++].tracking_valid = true;
    evs[k] = ev_of(GRADING_EV_ORDER_DELIVERED, T0 + 3 * D);
    evs[k++].auto_completed = true;
    evs[k] = ev_of(GRADING_EV_ORDER_RETURNED, T0 + 5 * D);
    evs[k++].fault = GRADING_FAULT_SELLER;
    evs[k] = ev_of(GRADING_EV_NON_RECEIPT, T0 + 4 * D);
    k++;
    evs[k] = ev_of(GRADING_EV_ORDER_SHIPPED, T0 + 1 * D);   /* a retry of the shipped event */
    evs[k++].tracking_valid = true;
    *n = k;
}

static bool next_permutation(size_t *a, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && a[i - 1] >= a[i]) i--;
    if (i == 0) return false;
    size_t j = n - 1;
    while (a[j] <= a[i - 1]) j--;
    size_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
    for (size_t l = i, r = n - 1; l < r; l++, r--) {
        t = a[l];
        a[l] = a[r];
        a[r] = t;
    }
    return true;
}

/* A tiny in-memory daily store: days [base, base+16). */
typedef struct {
    int32_t base;
    grading_day_counters_t days[16];
} mem_days_t;

static void mem_apply(mem_days_t *m, const grading_contrib_t *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int32_t idx = k[i].day - m->base;
        assert_true(idx >= 0 && idx < 16);
        assert_int_equal(grading_day_counters_apply(&m->days[idx], &k[i]), GRADING_OK);
    }
}

/* What ingest does per order event: minus the old record, plus the new. */
static void apply_to(grading_order_t *o, mem_days_t *m, const grading_event_t *ev,
                     const grading_tz_t *tz)
{
    grading_order_t old = *o;
    if (!grading_order_apply(o, ev)) return;
    grading_contrib_t k[GRADING_MAX_CONTRIBS];
    size_t n = 0;
    assert_int_equal(grading_order_contribs(&old, tz, -1, k, GRADING_MAX_CONTRIBS, &n), GRADING_OK);
    assert_int_equal(grading_order_contribs(o, tz, +1, k, GRADING_MAX_CONTRIBS, &n), GRADING_OK);
    mem_apply(m, k, n);
}

static void test_any_arrival_order_gives_the_same_record_and_counters(void **st)
{
    (void)st;
    grading_tz_t tz;
    assert_int_equal(grading_tz_init_fixed(&tz, "+09:00", 9 * 3600), GRADING_OK);
    grading_event_t evs[8];
    size_t n;
    order_story(evs, &n);
    size_t perm[8];
    for (size_t i = 0; i < n; i++) perm[i] = i;

    grading_order_t first;
    static mem_days_t first_days;
    bool have_first = false;
    int count = 0;
    do {
        grading_order_t o;
        static mem_days_t days;
        grading_order_init(&o);
        memset(&days, 0, sizeof days);
        days.base = grading_tz_day(&tz, T0);
        for (size_t i = 0; i < n; i++) apply_to(&o, &days, &evs[perm[i]], &tz);
        if (!have_first) {
            first = o;
            first_days = days;
            have_first = true;
        } else {
            assert_memory_equal(&o, &first, sizeof o);
            for (int d = 0; d < 16; d++)
                assert_memory_equal(days.days[d].c, first_days.days[d].c, sizeof days.days[d].c);
        }
        count++;
    } while (next_permutation(perm, n));
    assert_int_equal(count, 720);   /* 6! orders, the duplicate included */

    /* And the record is what the story says. */
    assert_int_equal(first.paid_ms, T0);
    assert_int_equal(first.amount, 25000);
    assert_int_equal(first.shipped_ms, T0 + D);
    assert_true(first.flags & GRADING_ORDER_TRACKING_VALID);
    assert_true(first.flags & GRADING_ORDER_AUTO_COMPLETED);
    assert_int_equal(first.return_fault, GRADING_FAULT_SELLER);
    int32_t d0 = first_days.base;
    (void)d0;
    assert_int_equal(first_days.days[0].c[GRADING_C_ORDERS], 1);
    assert_int_equal(first_days.days[0].c[GRADING_C_GMV], 25000);
    assert_int_equal(first_days.days[1].c[GRADING_C_SHIPPED], 1);
    assert_int_equal(first_days.days[1].c[GRADING_C_SHIPPED_ON_TIME], 1);
    assert_int_equal(first_days.days[1].c[GRADING_C_SHIPPED_TRACKING_VALID], 1);
    assert_int_equal(first_days.days[3].c[GRADING_C_DELIVERED], 1);
    assert_int_equal(first_days.days[3].c[GRADING_C_AUTO_COMPLETED], 1);
    assert_int_equal(first_days.days[4].c[GRADING_C_NON_RECEIPTS], 1);
    assert_int_equal(first_days.days[5].c[GRADING_C_RETURNS], 1);
    assert_int_equal(first_days.days[5].c[GRADING_C_RETURNS_SELLER_FAULT], 1);
    for (int d = 0; d < 16; d++)   /* nothing negative is ever left behind */
        for (int c = 0; c < GRADING_C_COUNT; c++) assert_true(first_days.days[d].c[c] >= 0);
    grading_tz_destroy(&tz);
}

static void test_earliest_stage_event_wins_and_ties_are_deterministic(void **st)
{
    (void)st;
    grading_order_t a, b;
    grading_order_init(&a);
    grading_order_init(&b);
    grading_event_t c1 = ev_of(GRADING_EV_ORDER_CANCELLED, T0 + H);
    c1.fault = GRADING_FAULT_BUYER;
    c1.reason = GRADING_REASON_BUYER_REQUEST;
    grading_event_t c2 = ev_of(GRADING_EV_ORDER_CANCELLED, T0 + H);
    c2.fault = GRADING_FAULT_SELLER;
    c2.reason = GRADING_REASON_OUT_OF_STOCK;
    assert_true(grading_order_apply(&a, &c1));
    assert_true(grading_order_apply(&a, &c2));    /* same time, smaller details win */
    assert_true(grading_order_apply(&b, &c2));
    assert_false(grading_order_apply(&b, &c1));
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(a.cancel_fault, GRADING_FAULT_SELLER);

    grading_event_t later = ev_of(GRADING_EV_ORDER_CANCELLED, T0 + 2 * H);
    later.fault = GRADING_FAULT_PLATFORM;
    later.reason = GRADING_REASON_OTHER;
    assert_false(grading_order_apply(&a, &later));   /* later stage event changes nothing */
    assert_false(grading_order_apply(&a, &c2));      /* a retry changes nothing */

    grading_event_t p1 = ev_of(GRADING_EV_ORDER_PAID, T0);
    p1.amount = 100;
    grading_event_t p2 = p1;
    p2.amount = 50;
    grading_order_t x, y;
    grading_order_init(&x);
    grading_order_init(&y);
    grading_order_apply(&x, &p1);
    grading_order_apply(&x, &p2);
    grading_order_apply(&y, &p2);
    grading_order_apply(&y, &p1);
    assert_memory_equal(&x, &y, sizeof x);
    assert_int_equal(x.amount, 50);
}

static void test_shipped_on_time_needs_paid_and_respects_the_promise(void **st)
{
    (void)st;
    grading_tz_t tz;
    grading_tz_init_fixed(&tz, "+09:00", 9 * 3600);
    grading_order_t o;
    grading_order_init(&o);
    grading_event_t s = ev_of(GRADING_EV_ORDER_SHIPPED, T0 + 2 * D);
    grading_order_apply(&o, &s);
    assert_false(grading_order_shipped_on_time(&o, &tz));   /* paid unknown yet */
    grading_event_t p = ev_of(GRADING_EV_ORDER_PAID, T0);
    p.ship_within_days = 2;
    grading_order_apply(&o, &p);
    assert_true(grading_order_shipped_on_time(&o, &tz));    /* 2 local days after: on time */
    o.ship_within_days = 1;
    assert_false(grading_order_shipped_on_time(&o, &tz));
    o.ship_within_days = 0;                                  /* no promise: the default 3 */
    assert_true(grading_order_shipped_on_time(&o, &tz));
    o.reserved_ship_ms = T0 + D;                             /* reserved date passed */
    assert_false(grading_order_shipped_on_time(&o, &tz));
    o.reserved_ship_ms = T0 + 2 * D;
    assert_true(grading_order_shipped_on_time(&o, &tz));
    assert_true(grading_order_is_reserved(&o));
    o.reserved_ship_ms = 0;
    o.ship_within_days = 4;
    assert_true(grading_order_is_reserved(&o));
    o.ship_within_days = 3;
    assert_false(grading_order_is_reserved(&o));
    grading_tz_destroy(&tz);
}

static void test_inquiry_answered_within_24h_lands_on_the_received_day(void **st)
{
    (void)st;
    grading_tz_t tz;
    grading_tz_init_fixed(&tz, "+09:00", 9 * 3600);
    const int64_t delays[] = {24 * H, 24 * H + 1};
    for (int i = 0; i < 2; i++) {
        grading_inquiry_t q;
        grading_inquiry_init(&q);
        grading_event_t a = ev_of(GRADING_EV_INQUIRY_ANSWERED, T0 + delays[i]);
        grading_event_t r = ev_of(GRADING_EV_INQUIRY_RECEIVED, T0);
        assert_true(grading_inquiry_apply(&q, &a));   /* answer first: out of order */
        assert_true(grading_inquiry_apply(&q, &r));
        assert_false(grading_inquiry_apply(&q, &r));
        grading_contrib_t k[8];
        size_t n = 0;
        assert_int_equal(grading_inquiry_contribs(&q, &tz, 1, k, 8, &n), GRADING_OK);
        int64_t in24 = 0, answered = 0, received = 0;
        for (size_t j = 0; j < n; j++) {
            if (k[j].counter == GRADING_C_INQUIRIES_ANSWERED_24H) {
                in24 += k[j].delta;
                assert_int_equal(k[j].day, grading_tz_day(&tz, T0));
            }
            if (k[j].counter == GRADING_C_INQUIRIES_ANSWERED) answered += k[j].delta;
            if (k[j].counter == GRADING_C_INQUIRIES) received += k[j].delta;
        }
        assert_int_equal(received, 1);
        assert_int_equal(answered, 1);
        assert_int_equal(in24, i == 0 ? 1 : 0);   /* exactly 24 h counts; 1 ms more does not */
    }
    grading_tz_destroy(&tz);
}

static void test_contribs_report_a_too_small_buffer(void **st)
{
    (void)st;
    grading_tz_t tz;
    grading_tz_init_fixed(&tz, "UTC", 0);
    grading_order_t o;
    grading_order_init(&o);
    grading_event_t p = ev_of(GRADING_EV_ORDER_PAID, T0);
    grading_order_apply(&o, &p);
    grading_contrib_t k[1];
    size_t n = 0;
    assert_int_equal(grading_order_contribs(&o, &tz, 1, k, 1, &n), GRADING_EFULL);
    assert_int_equal(n, 1);
    grading_tz_destroy(&tz);
}

static void test_custom_counters_merge_by_name_and_are_bounded(void **st)
{
    (void)st;
    grading_day_counters_t d;
    grading_day_counters_init(&d);
    char names[GRADING_MAX_CUSTOM_PER_DAY + 1][16];
    for (int i = 0; i <= GRADING_MAX_CUSTOM_PER_DAY; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        grading_contrib_t k = {.day = 0, .custom = names[i], .fvalue = 1.5};
        assert_int_equal(grading_day_counters_apply(&d, &k),
                         i < GRADING_MAX_CUSTOM_PER_DAY ? GRADING_OK : GRADING_EFULL);
    }
    grading_contrib_t again = {.custom = "c3", .fvalue = 2.0};
    assert_int_equal(grading_day_counters_apply(&d, &again), GRADING_OK);
    assert_true(grading_day_counters_custom(&d, "c3") == 3.5);
    assert_true(grading_day_counters_custom(&d, "nope") == 0.0);

    grading_day_counters_t acc;
    grading_day_counters_init(&acc);
    acc.c[GRADING_C_ORDERS] = 2;
    assert_int_equal(grading_day_counters_add(&acc, &d), GRADING_OK);
    assert_int_equal(grading_day_counters_add(&acc, &d), GRADING_OK);
    assert_true(grading_day_counters_custom(&acc, "c3") == 7.0);
    assert_int_equal(acc.ncustom, GRADING_MAX_CUSTOM_PER_DAY);
    assert_string_equal(grading_counter_name(GRADING_C_INQUIRIES_ANSWERED_24H), "inquiries_answered_24h");
    assert_null(grading_counter_name(GRADING_C_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_arrival_order_gives_the_same_record_and_counters),
        cmocka_unit_test(test_earliest_stage_event_wins_and_ties_are_deterministic),
        cmocka_unit_test(test_shipped_on_time_needs_paid_and_respects_the_promise),
        cmocka_unit_test(test_inquiry_answered_within_24h_lands_on_the_received_day),
        cmocka_unit_test(test_contribs_report_a_too_small_buffer),
        cmocka_unit_test(test_custom_counters_merge_by_name_and_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
