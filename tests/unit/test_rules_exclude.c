/* A metric's `exclude:` (src/policy/rules_exclude.c): good ones rewrite the
 * metric's cancel, return and exchange counters into the cells it keeps;
 * every bad one is a load error at file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "grading/policy.h"
#include "grading/rules.h"

static const char *const HEAD =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: UTC\n"
    "    currency: KRW\n"
    "    metrics:\n";

static grading_policy_t *load(const char *body, grading_policy_diags_t *d)
{
    static char text[8192];
    snprintf(text, sizeof text, "%s%s", HEAD, body);
    grading_policy_t *p = NULL;
    grading_policy_load_buffer("t.yaml", text, strlen(text), &p, d);
    return p;
}

/* Loads body; asserts one diagnostic at `where` containing `what`. */
static void expect_bad(const char *body, const char *where, const char *what)
{
    static grading_policy_diags_t d;
    grading_policy_t *p = load(body, &d);
    if (p || d.count != 1 || strcmp(d.diags[0].where, where) != 0 || !strstr(d.diags[0].message, what))
        for (size_t i = 0; i < d.count && i < GRADING_POLICY_MAX_DIAGS; i++)
            fprintf(stderr, "  got %s: %s\n", d.diags[i].where, d.diags[i].message);
    assert_null(p);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.diags[0].where, where);
    assert_non_null(strstr(d.diags[0].message, what));
}

/* The value of metric i with every window's sums = one day d. */
static grading_metric_val_t value_of(const grading_rules_t *r, size_t i, const grading_day_counters_t *d)
{
    static grading_day_counters_t sums[GRADING_RULES_MAX_WINDOWS];
    static grading_assessment_t a;
    grading_error_t e = {0};
    for (size_t w = 0; w < GRADING_RULES_MAX_WINDOWS; w++) sums[w] = *d;
    assert_int_equal(grading_rules_assess(r, sums, &a, &e), GRADING_OK);
    return a.metrics[i];
}

static void add_cancel(grading_day_counters_t *d, int32_t fault, int32_t reason, int64_t n)
{
    grading_order_t o = {.paid_ms = 1, .cancelled_ms = 2, .cancel_fault = fault, .cancel_reason = reason};
    grading_contrib_t ks[GRADING_MAX_CONTRIBS];
    size_t nk = 0;
    grading_tz_t tz;
    grading_tz_init_fixed(&tz, "UTC", 0);
    assert_int_equal(grading_order_contribs(&o, &tz, 1, ks, GRADING_MAX_CONTRIBS, &nk), GRADING_OK);
    for (int64_t k = 0; k < n; k++)
        for (size_t i = 0; i < nk; i++) assert_int_equal(grading_day_counters_apply(d, &ks[i]), GRADING_OK);
}

static void test_good(void **state)
{
    (void)state;
    static grading_policy_diags_t d;
    grading_policy_t *p = load(
        "      all: {window: 30d, numerator: cancels, denominator: orders}\n"
        "      rate: {window: 30d, numerator: cancels, denominator: orders,\n"
        "             exclude: {reason: [buyer_request], fault: [buyer, platform]}}\n"
        "      by_reason: {window: 30d, value: cancels + cancels_seller_fault, exclude: {reason: [buyer_request]}}\n"
        "      claims: {window: 30d, value: 'cancels + returns + exchanges + orders', exclude: {fault: [buyer]}}\n"
        "      derived: {value: all - rate}\n"
        "      vol: {window: 30d, numerator: cancels, denominator: orders, min_volume: 3,\n"
        "            exclude: {fault: [seller]}}\n",
        &d);
    for (size_t i = 0; i < d.count && i < GRADING_POLICY_MAX_DIAGS; i++)
        fprintf(stderr, "%s: %s\n", d.diags[i].where, d.diags[i].message);
    assert_non_null(p);
    const grading_rules_t *r = grading_policy_marketplace(p, "m")->rules;
    assert_int_equal(r->metrics[1].exclude.reasons, 1u << GRADING_REASON_BUYER_REQUEST);
    assert_int_equal(r->metrics[1].exclude.faults, 1u << GRADING_FAULT_BUYER | 1u << GRADING_FAULT_PLATFORM);
    assert_int_equal(r->metrics[0].exclude.faults, 0);
    assert_true(r->metrics[5].volume == r->metrics[5].denominator);   /* still the denominator */

    grading_day_counters_t day;
    grading_day_counters_init(&day);
    add_cancel(&day, GRADING_FAULT_SELLER, GRADING_REASON_OUT_OF_STOCK, 3);
    add_cancel(&day, GRADING_FAULT_SELLER, GRADING_REASON_BUYER_REQUEST, 2);    /* reason excluded */
    add_cancel(&day, GRADING_FAULT_BUYER, GRADING_REASON_OTHER, 4);             /* fault excluded */
    add_cancel(&day, GRADING_FAULT_PLATFORM, GRADING_REASON_SHIPPING_DELAY, 1); /* fault excluded */
    add_cancel(&day, GRADING_FAULT_UNSPECIFIED, GRADING_REASON_UNSPECIFIED, 1);
    day.c[GRADING_C_ORDERS] = 100;   /* not the cancels' own orders */
    day.c[GRADING_C_RETURNS] = 5, day.c[GRADING_C_RETURNS_BUYER_FAULT] = 2, day.c[GRADING_C_RETURNS_SELLER_FAULT] = 3;
    day.c[GRADING_C_EXCHANGES] = 1, day.c[GRADING_C_EXCHANGES_BUYER_FAULT] = 1;

    assert_true(value_of(r, 0, &day).value == 11.0 / 100);
    assert_true(value_of(r, 1, &day).value == 4.0 / 100);   /* seller out_of_stock 3 + unspecified 1 */
    /* cancels 9 (no buyer_request) + cancels_seller_fault 3 (no buyer_request) */
    assert_true(value_of(r, 2, &day).value == 9 + 3);
    /* cancels without the buyer's 7 + returns 3 + exchanges 0 + orders 100 */
    assert_true(value_of(r, 3, &day).value == 7 + 3 + 0 + 100);
    assert_true(value_of(r, 4, &day).value == 11.0 / 100 - 4.0 / 100);   /* a derived metric keeps its own */
    assert_true(value_of(r, 5, &day).value == 6.0 / 100);
    /* the printed form shows the cells */
    char buf[2048];
    grading_expr_print(r->metrics[1].numerator, buf, sizeof buf);
    assert_non_null(strstr(buf, "cancels_seller_fault_out_of_stock"));
    assert_null(strstr(buf, "cancels_seller_fault_buyer_request"));
    assert_null(strstr(buf, "cancels_buyer_fault"));
    grading_policy_unref(p);
}

/* Everything excluded: the sum is 0, not an error. */
static void test_everything_excluded(void **state)
{
    (void)state;
    static grading_policy_diags_t d;
    grading_policy_t *p = load("      r: {window: 30d, value: returns, exclude: {fault: [seller, buyer, platform, "
                               "unspecified]}}\n",
                               &d);
    assert_non_null(p);
    grading_day_counters_t day;
    grading_day_counters_init(&day);
    day.c[GRADING_C_RETURNS] = day.c[GRADING_C_RETURNS_SELLER_FAULT] = 4;
    assert_true(value_of(grading_policy_marketplace(p, "m")->rules, 0, &day).value == 0);
    grading_policy_unref(p);
}

static void test_bad_attribute(void **state)
{
    (void)state;
    expect_bad("      r: {window: 30d, value: cancels, exclude: {region: [kr]}}\n", "t.yaml:8:50",
               "unknown key \"region\" in exclude (expected one of: reason, fault)");
}

static void test_bad_reason_value(void **state)
{
    (void)state;
    expect_bad("      r: {window: 30d, value: cancels, exclude: {reason: [buyer_request, buyer_remorse]}}\n",
               "t.yaml:8:74",
               "exclude.reason: unknown value \"buyer_remorse\" (expected one of: out_of_stock, shipping_delay, "
               "buyer_request, other, unspecified)");
}

static void test_bad_fault_value(void **state)
{
    (void)state;
    expect_bad("      r: {window: 30d, value: cancels,\n"
               "          exclude: {fault: [customer]}}\n",
               "t.yaml:9:29", "exclude.fault: unknown value \"customer\" (expected one of: seller, buyer, platform, "
                              "unspecified)");
}

static void test_bad_not_a_list(void **state)
{
    (void)state;
    expect_bad("      r: {window: 30d, value: cancels, exclude: {fault: buyer}}\n", "t.yaml:8:57",
               "exclude.fault must be a list");
}

static void test_bad_not_a_mapping(void **state)
{
    (void)state;
    expect_bad("      r: {window: 30d, value: cancels, exclude: [buyer_request]}\n", "t.yaml:8:49",
               "exclude must be a mapping");
}

static void test_bad_empty(void **state)
{
    (void)state;
    expect_bad("      r: {window: 30d, value: cancels, exclude: {reason: [], fault: []}}\n", "t.yaml:8:49",
               "exclude names no reason and no fault");
}

static void test_bad_reads_none(void **state)
{
    (void)state;
    expect_bad("      r: {window: 30d, numerator: shipped_on_time, denominator: shipped, exclude: {fault: [buyer]}}\n",
               "t.yaml:8:83", "metric \"r\": exclude applies to cancels, returns and exchanges, and this metric "
                              "reads none of them");
    /* through another metric is not its own use */
    expect_bad("      c: {window: 30d, value: cancels}\n"
               "      r: {window: 30d, value: c + orders, exclude: {fault: [buyer]}}\n",
               "t.yaml:9:52", "reads none of them");
    /* a derived metric reads no counters at all */
    expect_bad("      c: {window: 30d, value: cancels}\n"
               "      r: {value: c, exclude: {fault: [buyer]}}\n",
               "t.yaml:9:30", "reads none of them");
}

static void test_bad_reason_without_cancels(void **state)
{
    (void)state;
    expect_bad("      r: {window: 30d, value: returns, exclude: {reason: [buyer_request], fault: [buyer]}}\n",
               "t.yaml:8:49", "exclude.reason applies to cancels only");
}

static void test_bad_has_of_excluded(void **state)
{
    (void)state;
    /* has() needs a name; a rewritten counter is a sum */
    expect_bad("      r: {window: 30d, value: 'has(cancels) ? 1 : 0', exclude: {fault: [buyer]}}\n", "t.yaml:8:31",
               "with exclude applied");
}

static void test_bad_with_other_error(void **state)
{
    (void)state;
    /* the expression's own error is the one reported, once */
    expect_bad("      r: {window: 30d, value: cancels + nope, exclude: {fault: [buyer]}}\n", "t.yaml:8:41",
               "unknown name 'nope'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_everything_excluded),
        cmocka_unit_test(test_bad_attribute),
        cmocka_unit_test(test_bad_reason_value),
        cmocka_unit_test(test_bad_fault_value),
        cmocka_unit_test(test_bad_not_a_list),
        cmocka_unit_test(test_bad_not_a_mapping),
        cmocka_unit_test(test_bad_empty),
        cmocka_unit_test(test_bad_reads_none),
        cmocka_unit_test(test_bad_reason_without_cancels),
        cmocka_unit_test(test_bad_has_of_excluded),
        cmocka_unit_test(test_bad_with_other_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
