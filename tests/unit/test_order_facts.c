/* Business days, per-order deadline stages and service points (Qoo10's
 * rules, SPEC §3), on the shipped qoo10.yaml preset: both sides of every
 * number. Times are Asia/Tokyo. 2026-11-02 is a Monday, 2026-11-03 a
 * public holiday. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "grading/calendar.h"
#include "grading/policy.h"
#include "grading/rules.h"
#include "grading/tz.h"

#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)

static grading_policy_t *policy;
static const grading_marketplace_t *mp;
static const grading_rules_t *R;

/* Unix ms of a JST wall time. */
static int64_t jst(int y, int m, int d, int hh)
{
    return (int64_t)grading_days_from_civil(y, (uint32_t)m, (uint32_t)d) * DAY + (hh - 9) * HOUR;
}

static int32_t day_of(int y, int m, int d)
{
    return grading_days_from_civil(y, (uint32_t)m, (uint32_t)d);
}

static int setup(void **state)
{
    (void)state;
    /* __FILE__ is absolute under CMake: tests/unit/ -> policies/ */
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    if (!slash) return -1;
    snprintf(slash, sizeof path - (size_t)(slash - path), "/../../policies/qoo10.yaml");
    grading_policy_diags_t d;
    if (grading_policy_load_file(path, &policy, &d)) {
        for (size_t i = 0; i < d.count && i < GRADING_POLICY_MAX_DIAGS; i++)
            fprintf(stderr, "%s: %s\n", d.diags[i].where, d.diags[i].message);
        return -1;
    }
    mp = grading_policy_marketplace(policy, "qoo10_jp");
    R = mp->rules;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    grading_policy_unref(policy);
    return 0;
}

static grading_order_t paid_order(int64_t paid, uint32_t ship_within, const char *product)
{
    grading_order_t o;
    grading_order_init(&o);
    o.paid_ms = paid;
    o.ship_within_days = ship_within;
    o.amount = 1000;
    snprintf(o.product_id, sizeof o.product_id, "%s", product);
    return o;
}

static grading_order_facts_t facts;

static void judge(const grading_order_t *o, int64_t as_of)
{
    grading_order_facts_init(&facts, grading_tz_day(&mp->tz, as_of));
    grading_order_facts_add(R, &mp->tz, as_of, "o1", o, &facts);
    grading_order_facts_finish(R, &facts, NULL);
}

/* ---- the calendar ---- */

static void test_calendar(void **state)
{
    (void)state;
    const grading_calendar_t *c = &R->calendar;
    assert_int_equal(grading_weekday(day_of(2026, 11, 2)), 0);   /* Monday */
    assert_int_equal(grading_weekday(day_of(1970, 1, 1)), 3);    /* Thursday */
    assert_true(grading_calendar_is_business(c, day_of(2026, 11, 2)));
    assert_false(grading_calendar_is_business(c, day_of(2026, 11, 3)));   /* Culture Day */
    assert_false(grading_calendar_is_business(c, day_of(2026, 11, 7)));   /* Saturday */
    assert_false(grading_calendar_is_business(c, day_of(2026, 12, 30)));  /* declared exception */
    /* the 3rd business day after Monday 11-02 skips the holiday: Fri 11-06 */
    assert_int_equal(grading_calendar_add_business(c, day_of(2026, 11, 2), 3), day_of(2026, 11, 6));
    /* ... the 5th skips the weekend: Tue 11-10; the 6th: Wed 11-11 */
    assert_int_equal(grading_calendar_add_business(c, day_of(2026, 11, 2), 5), day_of(2026, 11, 10));
    assert_int_equal(grading_calendar_add_business(c, day_of(2026, 11, 2), 6), day_of(2026, 11, 11));
    assert_int_equal(grading_calendar_on_or_after(c, day_of(2026, 11, 7)), day_of(2026, 11, 9));
    assert_int_equal(grading_calendar_business_between(c, day_of(2026, 11, 2), day_of(2026, 11, 9)), 4);
    assert_int_equal(grading_calendar_business_between(c, day_of(2026, 11, 9), day_of(2026, 11, 2)), 0);
}

/* ---- stages of a normal order ---- */

static void test_normal_order_stages(void **state)
{
    (void)state;
    grading_order_t o = paid_order(jst(2026, 11, 2, 10), 2, "p1");
    int64_t t[GRADING_DEADLINE_MAX_STAGES];
    grading_order_stage_times(R, &mp->tz, &o, t);
    assert_true(t[0] == jst(2026, 11, 6, 0));    /* caution: 3rd business day */
    assert_true(t[1] == jst(2026, 11, 10, 0));   /* warning: 5th */
    assert_true(t[2] == jst(2026, 11, 11, 0));   /* restriction: 6th */

    /* unshipped at the end of business day 4 (Mon 11-09 23:00): caution only */
    judge(&o, jst(2026, 11, 9, 23));
    assert_int_equal(facts.nalerts, 1);
    assert_string_equal(R->deadlines.stages[facts.alerts[0].stage].name, "caution");
    assert_true(facts.value[GRADING_OF_POINTS_MONTH] == 0);
    assert_true(facts.next_due_ms == jst(2026, 11, 10, 0));
    /* day 5: warning, -2 points */
    judge(&o, jst(2026, 11, 10, 0));
    assert_string_equal(R->deadlines.stages[facts.alerts[0].stage].name, "warning");
    assert_true(facts.month[GRADING_PT_DELAY] == -2);
    assert_true(facts.value[GRADING_OF_OPEN_WARNING] == 1);
    /* shipped on day 5 after the warning: the -2 stays, the alert goes */
    o.shipped_ms = jst(2026, 11, 10, 12);
    judge(&o, jst(2026, 11, 12, 0));
    assert_int_equal(facts.nalerts, 0);
    assert_true(facts.month[GRADING_PT_DELAY] == -2);
    assert_true(facts.next_due_ms == 0);
    /* shipped on day 4: no warning, no points lost; 4 business days: no dispatch points */
    o.shipped_ms = jst(2026, 11, 9, 12);
    judge(&o, jst(2026, 11, 12, 0));
    assert_true(facts.month[GRADING_PT_DELAY] == 0);
    assert_true(facts.month[GRADING_PT_DISPATCH] == 0);
    /* cancelled before caution: the clock stopped */
    o.shipped_ms = 0;
    o.cancelled_ms = jst(2026, 11, 4, 12);
    o.cancel_fault = GRADING_FAULT_BUYER;
    judge(&o, jst(2026, 11, 20, 0));
    assert_int_equal(facts.nalerts, 0);
    assert_true(facts.value[GRADING_OF_POINTS_MONTH] == 0);
}

/* A declared exception day moves the deadlines: the same order judged
 * with one more closed day reaches its warning a day later. */
static void test_exception_day_moves_deadline(void **state)
{
    (void)state;
    static grading_rules_t copy;
    memcpy(&copy, R, sizeof copy);
    assert_true(grading_calendar_close_day(&copy.calendar, day_of(2026, 11, 4)));
    grading_order_t o = paid_order(jst(2026, 11, 2, 10), 2, "p1");
    int64_t t[GRADING_DEADLINE_MAX_STAGES];
    grading_order_stage_times(&copy, &mp->tz, &o, t);
    assert_true(t[1] == jst(2026, 11, 11, 0));
    grading_order_stage_times(R, &mp->tz, &o, t);
    assert_true(t[1] == jst(2026, 11, 10, 0));
}

/* A reserved order counts days after its reservation date. */
static void test_reserved_order(void **state)
{
    (void)state;
    grading_order_t o = paid_order(jst(2026, 11, 2, 10), 0, "p2");
    o.reserved_ship_ms = jst(2026, 11, 20, 0);
    assert_true(grading_order_is_reserved(&o));
    int64_t t[GRADING_DEADLINE_MAX_STAGES];
    grading_order_stage_times(R, &mp->tz, &o, t);
    assert_true(t[0] == jst(2026, 11, 20, 0));   /* caution: the reservation day */
    assert_true(t[1] == jst(2026, 11, 23, 0));   /* warning: +3 (a holiday: calendar days count) */
    assert_true(t[2] == jst(2026, 11, 24, 0));   /* restriction: +4 */
    /* ship within 4 days without a date: reserved from payment + 4 */
    grading_order_t q = paid_order(jst(2026, 11, 2, 10), 4, "p2");
    assert_true(grading_order_is_reserved(&q));
    grading_order_stage_times(R, &mp->tz, &q, t);
    assert_true(t[0] == jst(2026, 11, 6, 0));
    judge(&q, jst(2026, 11, 9, 12));
    assert_string_equal(R->deadlines.stages[facts.alerts[0].stage].name, "warning");
}

/* ---- service points ---- */

static void test_dispatch_points(void **state)
{
    (void)state;
    /* paid Monday 11-02; same day +1, next business day (Wed, after the
     * holiday) +0.5, second +0.1, third 0 */
    const struct {
        int d;
        double points;
    } cases[] = {{2, 1}, {4, 0.5}, {5, 0.1}, {6, 0}};
    for (size_t i = 0; i < 4; i++) {
        grading_order_t o = paid_order(jst(2026, 11, 2, 10), 2, "p1");
        o.shipped_ms = jst(2026, 11, cases[i].d, 18);
        judge(&o, jst(2026, 11, 20, 0));
        assert_true(facts.month[GRADING_PT_DISPATCH] == cases[i].points);
    }
    /* paid on Saturday: the clock starts Monday; shipped Monday is the same day */
    grading_order_t o = paid_order(jst(2026, 11, 7, 10), 2, "p1");
    o.shipped_ms = jst(2026, 11, 9, 9);
    judge(&o, jst(2026, 11, 20, 0));
    assert_true(facts.month[GRADING_PT_DISPATCH] == 1);
}

static void test_delivery_points_and_suppression(void **state)
{
    (void)state;
    /* normal table: <= 3 days +1, <= 5 0, <= 8 -1, more -2 */
    const struct {
        int days;
        double points;
    } cases[] = {{3, 1}, {4, 0}, {5, 0}, {6, -1}, {8, -1}, {9, -2}};
    for (size_t i = 0; i < 6; i++) {
        grading_order_t o = paid_order(jst(2026, 11, 2, 10), 2, "p1");
        o.shipped_ms = jst(2026, 11, 2, 18);   /* dispatch +1 ... */
        o.delivered_ms = jst(2026, 11, 2 + cases[i].days, 12);
        judge(&o, jst(2026, 11, 28, 0));
        assert_true(facts.month[GRADING_PT_DELIVERY] == cases[i].points);
        /* ... suppressed when the delivery points are negative */
        assert_true(facts.month[GRADING_PT_DISPATCH] == (cases[i].points < 0 ? 0 : 1));
    }
    /* overseas: <= 7 days +1 */
    grading_order_t o = paid_order(jst(2026, 11, 2, 10), 2, "p1");
    o.flags |= GRADING_ORDER_OVERSEAS;
    o.delivered_ms = jst(2026, 11, 9, 12);
    judge(&o, jst(2026, 11, 28, 0));
    assert_true(facts.month[GRADING_PT_DELIVERY] == 1);
    /* auto-completed: -2 on top */
    o.flags |= GRADING_ORDER_AUTO_COMPLETED;
    judge(&o, jst(2026, 11, 28, 0));
    assert_true(facts.month[GRADING_PT_AUTO_COMPLETED] == -2);
    assert_true(facts.value[GRADING_OF_POINTS_MONTH] == -1);
}

static void test_claims_and_months(void **state)
{
    (void)state;
    grading_order_t o = paid_order(jst(2026, 10, 28, 10), 2, "p1");
    o.cancelled_ms = jst(2026, 10, 29, 10);
    o.cancel_fault = GRADING_FAULT_SELLER;
    judge(&o, jst(2026, 11, 5, 0));
    /* a seller-fault cancel in October counts in last month, not this one */
    assert_true(facts.prev_month[GRADING_PT_SELLER_CLAIM] == -3);
    assert_true(facts.month[GRADING_PT_SELLER_CLAIM] == 0);
    assert_true(facts.value[GRADING_OF_POINTS_PREV_MONTH] == -3);
    assert_true(facts.value[GRADING_OF_POINTS_YEAR] == -3);
    /* a buyer-fault cancel costs nothing; a non-receipt report -2 */
    o.cancel_fault = GRADING_FAULT_BUYER;
    o.non_receipt_ms = jst(2026, 11, 3, 10);
    judge(&o, jst(2026, 11, 5, 0));
    assert_true(facts.value[GRADING_OF_POINTS_YEAR] == -2);
    /* reviews come from the day counters */
    grading_day_counters_t d;
    grading_day_counters_init(&d);
    d.c[GRADING_C_STRONGLY_RECOMMEND] = 3;
    d.c[GRADING_C_NOT_RECOMMENDED] = 1;
    grading_order_facts_init(&facts, day_of(2026, 11, 5));
    grading_order_facts_add_day(R, day_of(2026, 11, 4), &d, &facts);
    grading_order_facts_finish(R, &facts, NULL);
    assert_true(facts.value[GRADING_OF_POINTS_MONTH] == 2);
}

/* ---- the product's shipping rate decides the restriction ---- */

static void restriction_with_rate(uint32_t on_time, uint32_t late, bool *stopped)
{
    int64_t as_of = jst(2026, 11, 11, 12);   /* the open order's restriction day */
    grading_order_facts_init(&facts, grading_tz_day(&mp->tz, as_of));
    grading_order_t open = paid_order(jst(2026, 11, 2, 10), 2, "p9");
    grading_order_facts_add(R, &mp->tz, as_of, "open", &open, &facts);
    assert_true(grading_order_facts_needs_rates(R, &facts));
    static grading_product_rate_t acc[GRADING_MAX_ORDER_ALERTS];
    memset(acc, 0, sizeof acc);
    grading_order_facts_rate_add(R, &mp->tz, as_of, &open, &facts, acc);
    for (uint32_t i = 0; i < on_time + late; i++) {
        grading_order_t o = paid_order(jst(2026, 10, 1, 10), 2, "p9");
        o.shipped_ms = jst(2026, 10, i < on_time ? 2 : 9, 10);
        grading_order_facts_rate_add(R, &mp->tz, as_of, &o, &facts, acc);
    }
    grading_order_facts_finish(R, &facts, acc);
    *stopped = facts.nstopped == 1 && strcmp(facts.stopped[0], "p9") == 0;
}

static void test_product_rate_95(void **state)
{
    (void)state;
    bool stopped;
    /* 950 on time of 1000 judged (the open order counts, late): 95.0 % -> stopped */
    restriction_with_rate(950, 49, &stopped);
    assert_true(stopped);
    /* 951 of 1000: 95.1 % -> not stopped */
    restriction_with_rate(951, 48, &stopped);
    assert_false(stopped);
    assert_int_equal(facts.nalerts, 1);   /* still a late order */
}

/* A reserved order never earns a plus point: its delivery points count
 * days from the reservation date (SPEC §3), by the table 0 / -1 / -2. */
static void test_reserved_delivery_points(void **state)
{
    (void)state;
    /* reserved for Fri 11-06; delivered N days after it */
    const struct {
        int day;
        double points;
    } cases[] = {{5, 0}, {6, 0}, {11, 0}, {12, -1}, {14, -1}, {15, -2}};
    for (size_t i = 0; i < 6; i++) {
        grading_order_t o = paid_order(jst(2026, 11, 2, 10), 0, "p1");
        o.reserved_ship_ms = jst(2026, 11, 6, 0);
        o.shipped_ms = jst(2026, 11, 2, 18);   /* shipped the payment day: still no dispatch */
        o.delivered_ms = jst(2026, 11, cases[i].day, 12);
        judge(&o, jst(2026, 11, 28, 0));
        assert_true(facts.month[GRADING_PT_DELIVERY] == cases[i].points);
        assert_true(facts.month[GRADING_PT_DISPATCH] == 0);
    }
    /* delivered 2 days after payment, overseas: no plus point either */
    grading_order_t o = paid_order(jst(2026, 11, 2, 10), 4, "p1");
    o.flags |= GRADING_ORDER_OVERSEAS;
    o.delivered_ms = jst(2026, 11, 4, 12);
    judge(&o, jst(2026, 11, 28, 0));
    assert_true(facts.month[GRADING_PT_DELIVERY] == 0);
    /* a far reservation date: 21 days after payment, 3 after the date */
    o = paid_order(jst(2026, 11, 2, 10), 0, "p1");
    o.reserved_ship_ms = jst(2026, 11, 20, 0);
    o.delivered_ms = jst(2026, 11, 23, 12);
    judge(&o, jst(2026, 11, 28, 0));
    assert_true(facts.month[GRADING_PT_DELIVERY] == 0);
    for (size_t b = 0; b < R->points.ndelivery[1]; b++) assert_true(R->points.delivery[1][b].points <= 0);
}

/* Index of a programme of the preset by name. */
static size_t program(const char *name)
{
    for (size_t i = 0; i < R->nprograms; i++)
        if (strcmp(R->programs[i].name, name) == 0) return i;
    fail_msg("no programme %s", name);
    return 0;
}

/* Power seller reads points.last_month: last month's live points until
 * that month is closed, then what its close published; never this
 * month's. Transactions: 5,000,000 JPY in every window. */
static void test_power_seller_reads_last_month(void **state)
{
    (void)state;
    static grading_day_counters_t sums[GRADING_RULES_MAX_WINDOWS];
    static grading_assessment_t a;
    for (size_t w = 0; w < GRADING_RULES_MAX_WINDOWS; w++) {
        grading_day_counters_init(&sums[w]);
        sums[w].c[GRADING_C_GMV] = 5000000;
    }
    grading_order_facts_t f;
    grading_order_facts_init(&f, day_of(2026, 11, 20));
    f.month[GRADING_PT_SELLER_CLAIM] = -3;   /* this month: -3 */
    f.prev_month[GRADING_PT_DISPATCH] = 1;   /* last month: +1 */
    grading_order_facts_finish(R, &f, NULL);
    assert_true(f.value[GRADING_OF_POINTS_LAST_MONTH] == 1);
    grading_history_t h;
    memset(&h, 0, sizeof h);
    h.orders = &f;
    grading_error_t e = {0};
    size_t ps = program("power_seller"), sp = program("service_points");
    assert_int_equal(grading_rules_assess_with(R, sums, &h, &a, &e), GRADING_OK);
    assert_int_equal(a.grades[sp].level, 2);   /* the running month is negative ... */
    assert_int_equal(a.grades[ps].level, 1);   /* ... the status does not move */
    assert_string_equal(R->tiers[a.tier].tier, "power_seller");
    /* last month negative, live */
    f.prev_month[GRADING_PT_DISPATCH] = -0.1;
    grading_order_facts_finish(R, &f, NULL);
    assert_int_equal(grading_rules_assess_with(R, sums, &h, &a, &e), GRADING_OK);
    assert_int_equal(a.grades[ps].level, 2);
    assert_string_equal(R->tiers[a.tier].tier, "normal");
    /* ... but its close published 0: the published value decides */
    h.has_month_points = true;
    h.month_points = 0;
    assert_int_equal(grading_rules_assess_with(R, sums, &h, &a, &e), GRADING_OK);
    assert_int_equal(a.grades[ps].level, 1);
    /* and a published negative demotes whatever the orders say now */
    f.prev_month[GRADING_PT_DISPATCH] = 5;
    grading_order_facts_finish(R, &f, NULL);
    h.month_points = -2;
    assert_int_equal(grading_rules_assess_with(R, sums, &h, &a, &e), GRADING_OK);
    assert_int_equal(a.grades[ps].level, 2);
}

/* The boost moves with the last completed month's points (published when
 * that month is closed), capped at 0.8 and 1.2; this month's do not. */
static void test_boost_follows_points(void **state)
{
    (void)state;
    static grading_day_counters_t sums[GRADING_RULES_MAX_WINDOWS];
    static grading_assessment_t a;
    for (size_t w = 0; w < GRADING_RULES_MAX_WINDOWS; w++) grading_day_counters_init(&sums[w]);
    const struct {
        double points, boost;
    } cases[] = {{0, 1.0}, {5, 1.05}, {-5, 0.95}, {20, 1.2}, {35, 1.2}, {-20, 0.8}, {-40, 0.8}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        grading_order_facts_t f;
        grading_order_facts_init(&f, day_of(2026, 11, 20));
        f.prev_month[GRADING_PT_DISPATCH] = cases[i].points;
        f.month[GRADING_PT_SELLER_CLAIM] = -9;   /* the running month: no effect */
        grading_order_facts_finish(R, &f, NULL);
        grading_history_t h;
        memset(&h, 0, sizeof h);
        h.orders = &f;
        grading_error_t e = {0};
        assert_int_equal(grading_rules_assess_with(R, sums, &h, &a, &e), GRADING_OK);
        if (fabs(a.boost - cases[i].boost) > 1e-12) fail_msg("%g points: boost %g", cases[i].points, a.boost);
        /* the month closed with these points; the orders now say otherwise */
        h.has_month_points = true;
        h.month_points = cases[i].points;
        f.prev_month[GRADING_PT_DISPATCH] = 50;
        grading_order_facts_finish(R, &f, NULL);
        assert_int_equal(grading_rules_assess_with(R, sums, &h, &a, &e), GRADING_OK);
        if (fabs(a.boost - cases[i].boost) > 1e-12) fail_msg("%g published points: boost %g", cases[i].points, a.boost);
    }
}

/* points.active (service_points.expire_after N): a point earned on day d
 * counts through day d+N-1 and is gone on day d+N, whatever the calendar
 * months; the review days are read from the earlier of the 12 months and
 * the expiry window. Without expiry nothing is active. */
static void test_points_expire_after_n_days(void **state)
{
    (void)state;
    static grading_rules_t r;
    memset(&r, 0, sizeof r);
    r.points.enabled = true;
    r.points.per_event[GRADING_PT_STRONGLY_RECOMMEND] = 1;
    r.points.per_event[GRADING_PT_NOT_RECOMMENDED] = -1;
    grading_day_counters_t one_good, one_bad;
    grading_day_counters_init(&one_good);
    grading_day_counters_init(&one_bad);
    one_good.c[GRADING_C_STRONGLY_RECOMMEND] = 1;
    one_bad.c[GRADING_C_NOT_RECOMMENDED] = 1;
    int32_t today = day_of(2026, 11, 20);
    const int32_t ns[] = {1, 90, 400};   /* 400: longer than the 12 months */
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        int32_t n = ns[i];
        r.points.expire_after_days = n;
        grading_order_facts_t f;
        grading_order_facts_init(&f, today);
        grading_order_facts_expiry(&r, &f);
        assert_int_equal(grading_order_facts_first_day(&f), n > 365 ? today - n + 1 : f.year_first);
        grading_order_facts_add_day(&r, today - n + 1, &one_good, &f);   /* its last day: counts */
        grading_order_facts_add_day(&r, today - n, &one_bad, &f);        /* gone today */
        grading_order_facts_finish(&r, &f, NULL);
        if (f.value[GRADING_OF_POINTS_ACTIVE] != 1) fail_msg("expire_after %dd: active %g", (int)n, f.value[GRADING_OF_POINTS_ACTIVE]);
    }
    r.points.expire_after_days = 0;
    grading_order_facts_t f;
    grading_order_facts_init(&f, today);
    grading_order_facts_expiry(&r, &f);
    assert_int_equal(grading_order_facts_first_day(&f), f.year_first);
    grading_order_facts_add_day(&r, today, &one_good, &f);
    grading_order_facts_finish(&r, &f, NULL);
    assert_true(f.value[GRADING_OF_POINTS_ACTIVE] == 0);
    assert_true(f.value[GRADING_OF_POINTS_MONTH] == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_normal_order_stages),
        cmocka_unit_test(test_exception_day_moves_deadline),
        cmocka_unit_test(test_reserved_order),
        cmocka_unit_test(test_dispatch_points),
        cmocka_unit_test(test_delivery_points_and_suppression),
        cmocka_unit_test(test_claims_and_months),
        cmocka_unit_test(test_product_rate_95),
        cmocka_unit_test(test_reserved_delivery_points),
        cmocka_unit_test(test_power_seller_reads_last_month),
        cmocka_unit_test(test_boost_follows_points),
        cmocka_unit_test(test_points_expire_after_n_days),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
