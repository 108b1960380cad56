/* The forecast's pure parts, linked against grading_grade only: the
 * threshold search (the smallest number of events of a kind, added today,
 * that moves a level: exact at a boundary a rate meets with equality, none
 * beyond the bound, none for a kind no metric reads), the counters a
 * metric reads (grading_rules_metric_counters), the change sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/forecast.h"
#include "grading/policy.h"

/* late_rate: late of shipped over 30 days (10 or more); Good up to 4 %,
 * Warning up to 10 %, else Bad. */
static const char *const POLICY =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: Asia/Seoul\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      late_rate: {window: 30d, numerator: shipped - shipped_on_time, denominator: shipped,\n"
    "                  min_volume: 10, better: lower}\n"
    "      late_pct: {value: late_rate * 100}\n"
    "      orders_30d: {window: 30d, value: orders}\n"
    "    programs:\n"
    "      shipping:\n"
    "        levels: [Good, Warning, Bad]\n"
    "        grade:\n"
    "          - {level: 1, when: \"late_pct <= 4\"}\n"
    "          - {level: 2, when: \"late_rate <= 0.10\"}\n"
    "        otherwise: 3\n"
    "        new_seller: 1\n";

#define TODAY 20700   /* a local day; the search adds to it */

typedef struct {
    grading_policy_t *p;
    const grading_rules_t *r;
    grading_day_counters_t sums[GRADING_RULES_MAX_WINDOWS];
    grading_assessment_t a;
    grading_forecast_program_t progs[GRADING_RULES_MAX_PROGRAMS];
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    *state = fx;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    grading_err_t err = grading_policy_load_buffer("t.yaml", POLICY, strlen(POLICY), &fx->p, d);
    for (size_t i = 0; err && i < d->count; i++) fprintf(stderr, "%s: %s\n", d->diags[i].where, d->diags[i].message);
    free(d);
    if (err) return -1;
    fx->r = grading_policy_marketplace(fx->p, "m")->rules;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    grading_policy_unref(fx->p);
    free(fx);
    return 0;
}

/* The seller's 30 days as of TODAY: shipped, of them on time, on day TODAY - 3. */
static void seller(fx_t *fx, int64_t shipped, int64_t on_time)
{
    grading_day_counters_t d;
    grading_day_counters_init(&d);
    d.c[GRADING_C_ORDERS] = shipped;
    d.c[GRADING_C_SHIPPED] = shipped;
    d.c[GRADING_C_SHIPPED_ON_TIME] = on_time;
    for (size_t w = 0; w < fx->r->nwindows; w++) grading_day_counters_init(&fx->sums[w]);
    assert_int_equal(grading_rules_add_day(fx->r, TODAY, TODAY - 3, &d, fx->sums), GRADING_OK);
    grading_error_t e;
    assert_int_equal(grading_rules_assess(fx->r, fx->sums, &fx->a, &e), GRADING_OK);
}

static void search(fx_t *fx, uint32_t bound)
{
    grading_error_t e;
    assert_int_equal(grading_forecast_thresholds(fx->r, fx->sums, NULL, TODAY, &fx->a, bound, fx->progs, &e),
                     GRADING_OK);
}

/* 0 when the kind has no threshold. */
static uint32_t events_of(const fx_t *fx, const char *kind, int32_t *level)
{
    size_t n;
    const grading_forecast_kind_t *kinds = grading_forecast_kinds(&n);
    for (size_t i = 0; i < fx->progs[0].nthresholds; i++)
        if (strcmp(kinds[fx->progs[0].thresholds[i].kind].name, kind) == 0) {
            if (level) *level = fx->progs[0].thresholds[i].level;
            return fx->progs[0].thresholds[i].events;
        }
    return 0;
}

/* 3 late of 99 (3.03 %, Good): one more is 4 of 100, exactly 4 %, still
 * Good; the second (5 of 101, 4.95 %) makes it Warning. */
static void test_worse_exact_at_boundary(void **state)
{
    fx_t *fx = *state;
    seller(fx, 99, 96);
    assert_int_equal(fx->a.grades[0].level, 1);
    search(fx, GRADING_FORECAST_MAX_EVENTS);
    int32_t level = 0;
    assert_int_equal(events_of(fx, "late_shipment", &level), 2);
    assert_int_equal(level, 2);
    /* good kinds cannot better the best level; kinds no metric reads are not searched */
    assert_int_equal(events_of(fx, "on_time_shipment", NULL), 0);
    assert_int_equal(events_of(fx, "low_rating", NULL), 0);
    assert_int_equal(events_of(fx, "unanswered_inquiry", NULL), 0);
    /* a cancelled order adds orders only: the late rate does not move */
    assert_int_equal(events_of(fx, "seller_cancel", NULL), 0);
}

/* 6 late of 100 (6 %, Warning): on-time shipments dilute it; 6 of 150 is
 * exactly 4 % (Good) at 50, 6 of 149 is not. Worse: 11 of 105 (10.5 %). */
static void test_better_exact_and_bound(void **state)
{
    fx_t *fx = *state;
    seller(fx, 100, 94);
    assert_int_equal(fx->a.grades[0].level, 2);
    search(fx, GRADING_FORECAST_MAX_EVENTS);
    int32_t level = 0;
    assert_int_equal(events_of(fx, "on_time_shipment", &level), 50);
    assert_int_equal(level, 1);
    /* (6 + k) / (100 + k) > 0.10 first at k = 5: 11 / 105 */
    assert_int_equal(events_of(fx, "late_shipment", &level), 5);
    assert_int_equal(level, 3);
    /* the bound: 49 tries find no better level, 50 do */
    search(fx, 49);
    assert_int_equal(events_of(fx, "on_time_shipment", NULL), 0);
    assert_int_equal(events_of(fx, "late_shipment", NULL), 5);
    search(fx, 50);
    assert_int_equal(events_of(fx, "on_time_shipment", NULL), 50);
}

/* Under min_volume the new-seller level (Good) holds: 9 shipped, all late
 * is no data; the first late shipment makes 10 of 10 late: Bad. */
static void test_volume_threshold(void **state)
{
    fx_t *fx = *state;
    seller(fx, 9, 0);
    assert_false(fx->a.metrics[0].available);
    assert_int_equal(fx->a.grades[0].level, 1);
    search(fx, GRADING_FORECAST_MAX_EVENTS);
    int32_t level = 0;
    assert_int_equal(events_of(fx, "late_shipment", &level), 1);
    assert_int_equal(level, 3);
}

static void test_metric_counters(void **state)
{
    fx_t *fx = *state;
    uint64_t mask = 0;
    const uint64_t late = UINT64_C(1) << GRADING_C_SHIPPED | UINT64_C(1) << GRADING_C_SHIPPED_ON_TIME;
    assert_int_equal(grading_rules_metric_counters(fx->r, "late_rate", &mask), GRADING_OK);
    assert_true(mask == late);
    /* through the metric it names */
    assert_int_equal(grading_rules_metric_counters(fx->r, "late_pct", &mask), GRADING_OK);
    assert_true(mask == late);
    assert_int_equal(grading_rules_metric_counters(fx->r, "orders_30d", &mask), GRADING_OK);
    assert_true(mask == UINT64_C(1) << GRADING_C_ORDERS);
    /* a base counter's own name */
    assert_int_equal(grading_rules_metric_counters(fx->r, "returns", &mask), GRADING_OK);
    assert_true(mask == UINT64_C(1) << GRADING_C_RETURNS);
    assert_int_equal(grading_rules_metric_counters(fx->r, "no_such_metric", &mask), GRADING_ENOTFOUND);
    assert_true(mask == 0);
}

static void test_sentences(void **state)
{
    fx_t *fx = *state;
    grading_forecast_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->days = 30;
    f->nprograms = 1;
    f->programs[0].today_level = 2;
    char buf[256], date[11];
    grading_forecast_date(grading_days_from_civil(2026, 12, 20), date);
    assert_string_equal(date, "2026-12-20");
    grading_forecast_change_text(fx->r, 0, f, buf, sizeof buf);
    assert_string_equal(buf, "holds at Warning (level 2) for the next 30 days if no new events arrive");
    grading_forecast_change_t *c = &f->programs[0].change;
    *c = (grading_forecast_change_t){.found = true, .day = grading_days_from_civil(2026, 12, 20), .from_level = 2,
                                     .level = 1, .metric = 0};
    c->before = (grading_metric_val_t){true, 0.06, 6, 100};
    c->after = (grading_metric_val_t){true, 0.03, 3, 100};
    grading_forecast_change_text(fx->r, 0, f, buf, sizeof buf);
    assert_string_equal(buf, "back to Good (level 1) on 2026-12-20, when late_rate goes from 6.00% to 3.00%: "
                             "3 of its counted events leave the 30d window");
    grading_forecast_threshold_t t = {0, 2, 2};
    grading_forecast_threshold_text(fx->r, 0, &t, buf, sizeof buf);
    assert_string_equal(buf, "2 more late shipments today -> Warning (level 2)");
    t.events = 1;
    grading_forecast_threshold_text(fx->r, 0, &t, buf, sizeof buf);
    assert_string_equal(buf, "1 more late shipment today -> Warning (level 2)");
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_worse_exact_at_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_better_exact_and_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_volume_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metric_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sentences, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
