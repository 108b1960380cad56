/* Which counters a metric reads (grading_rules_metric_counters and
 * grading_rules_metric_reads): directly, through the metrics it names,
 * base counters by name, customs and windows, and unknown names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "grading/policy.h"
#include "grading/rules.h"

static const char *const POLICY =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: UTC\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      late_rate: {window: 90d, numerator: shipped - shipped_on_time, denominator: shipped, "
    "volume: orders, min_volume: 5}\n"
    "      cancel_rate: {window: 30d, numerator: cancels_seller_fault, denominator: orders}\n"
    "      bonus: {window: 90d, value: custom.bonus + reviews}\n"
    "      combined: {value: late_rate + cancel_rate}\n"
    "      twice: {value: combined * 2}\n"
    "      plain: {window: 90d, value: 3}\n";

#define BIT(c) (UINT64_C(1) << (c))

static int setup(void **state)
{
    grading_policy_t *p = NULL;
    grading_policy_diags_t d;
    if (grading_policy_load_buffer("t.yaml", POLICY, strlen(POLICY), &p, &d)) {
        for (size_t i = 0; i < d.count && i < GRADING_POLICY_MAX_DIAGS; i++)
            print_error("%s: %s\n", d.diags[i].where, d.diags[i].message);
        return -1;
    }
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    grading_policy_unref(*state);
    return 0;
}

static const grading_rules_t *rules(void **state)
{
    return grading_policy_marketplace(*state, "m")->rules;
}

static int window_index(const grading_rules_t *r, const char *name)
{
    for (size_t i = 0; i < r->nwindows; i++)
        if (strcmp(r->windows[i].name, name) == 0) return (int)i;
    fail_msg("no window %s", name);
    return -1;
}

static void test_direct(void **state)
{
    uint64_t m = 0;
    assert_int_equal(grading_rules_metric_counters(rules(state), "late_rate", &m), GRADING_OK);
    /* the volume expression counts too: it decides "not enough data" */
    assert_true(m == (BIT(GRADING_C_SHIPPED) | BIT(GRADING_C_SHIPPED_ON_TIME) | BIT(GRADING_C_ORDERS)));
    assert_int_equal(grading_rules_metric_counters(rules(state), "plain", &m), GRADING_OK);
    assert_true(m == 0);
}

static void test_transitive(void **state)
{
    const grading_rules_t *r = rules(state);
    grading_metric_reads_t x;
    uint64_t want = BIT(GRADING_C_SHIPPED) | BIT(GRADING_C_SHIPPED_ON_TIME) | BIT(GRADING_C_ORDERS) |
                    BIT(GRADING_C_CANCELS_SELLER_FAULT);
    assert_int_equal(grading_rules_metric_reads(r, "twice", &x), GRADING_OK);
    assert_true(x.counters == want);
    /* each counter over its own metric's window: two windows */
    assert_true(x.windows == (UINT32_C(1) << window_index(r, "90d") | UINT32_C(1) << window_index(r, "30d")));
    uint64_t m = 0;
    assert_int_equal(grading_rules_metric_counters(r, "combined", &m), GRADING_OK);
    assert_true(m == want);
}

static void test_custom(void **state)
{
    const grading_rules_t *r = rules(state);
    grading_metric_reads_t x;
    assert_int_equal(grading_rules_metric_reads(r, "bonus", &x), GRADING_OK);
    assert_true(x.counters == BIT(GRADING_C_REVIEWS));   /* custom.bonus is not a base counter */
    size_t ncustom = 0;
    for (size_t i = 0; i < r->ncustom; i++)
        if (x.custom[i]) {
            assert_string_equal(r->custom[i], "bonus");
            ncustom++;
        }
    assert_int_equal(ncustom, 1);
    assert_true(x.windows == UINT32_C(1) << window_index(r, "90d"));
}

static void test_base_counter(void **state)
{
    grading_metric_reads_t x;
    uint64_t m = 0;
    assert_int_equal(grading_rules_metric_counters(rules(state), "cancels_buyer_request", &m), GRADING_OK);
    assert_true(m == BIT(GRADING_C_CANCELS_BUYER_REQUEST));
    assert_int_equal(grading_rules_metric_reads(rules(state), "orphans_dropped", &x), GRADING_OK);
    assert_true(x.counters == BIT(GRADING_C_ORPHANS_DROPPED));
    assert_true(x.windows == 0);
}

static void test_unknown(void **state)
{
    uint64_t m = 123;
    assert_int_equal(grading_rules_metric_counters(rules(state), "no_such_metric", &m), GRADING_ENOTFOUND);
    assert_true(m == 0);
    assert_int_equal(grading_rules_metric_counters(rules(state), "", &m), GRADING_ENOTFOUND);
    assert_int_equal(grading_rules_metric_counters(rules(state), "custom.bonus", &m), GRADING_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct),    cmocka_unit_test(test_transitive), cmocka_unit_test(test_custom),
        cmocka_unit_test(test_base_counter), cmocka_unit_test(test_unknown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
