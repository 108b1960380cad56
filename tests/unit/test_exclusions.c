/* Exclusions (issue 15): which base counters a policy metric reads, the
 * split of a record's contributions by its mask, and the policy's
 * `appeals` section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/counters.h"
#include "grading/policy.h"
#include "grading/rules.h"

static const char *const POLICY =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: Asia/Seoul\n"
    "    currency: KRW\n"
    "    appeals: {reopen_closed: false, max_per_order: 2}\n"
    "    metrics:\n"
    "      delay_rate: {window: 30d, numerator: \"shipped - shipped_on_time\", denominator: shipped}\n"
    "      cancel_rate: {window: 30d, numerator: cancels_seller_fault, denominator: orders, min_volume: 5}\n"
    "      custom_only: {window: 30d, value: custom.claims}\n"
    "      both: {value: \"delay_rate + cancel_rate\"}\n";

static grading_policy_t *load(const char *text, grading_policy_diags_t *d)
{
    grading_policy_t *p = NULL;
    memset(d, 0, sizeof *d);
    grading_policy_load_buffer("t.yaml", text, strlen(text), &p, d);
    return p;
}

static void test_metric_counters_follow_metrics_transitively(void **state)
{
    (void)state;
    grading_policy_diags_t d;
    grading_policy_t *p = load(POLICY, &d);
    assert_non_null(p);
    const grading_rules_t *r = grading_policy_marketplace(p, "m")->rules;
    uint64_t m = 0;
    assert_int_equal(grading_rules_metric_counters(r, "delay_rate", &m), GRADING_OK);
    assert_true(m == (GRADING_C_BIT(GRADING_C_SHIPPED) | GRADING_C_BIT(GRADING_C_SHIPPED_ON_TIME)));
    assert_int_equal(grading_rules_metric_counters(r, "both", &m), GRADING_OK);
    assert_true(m == (GRADING_C_BIT(GRADING_C_SHIPPED) | GRADING_C_BIT(GRADING_C_SHIPPED_ON_TIME) |
                      GRADING_C_BIT(GRADING_C_CANCELS_SELLER_FAULT) | GRADING_C_BIT(GRADING_C_ORDERS)));
    /* a base counter names its own bit; custom counters are not in masks */
    assert_int_equal(grading_rules_metric_counters(r, "gmv", &m), GRADING_OK);
    assert_true(m == GRADING_C_BIT(GRADING_C_GMV));
    assert_int_equal(grading_rules_metric_counters(r, "custom_only", &m), GRADING_OK);
    assert_true(m == 0);
    assert_int_equal(grading_rules_metric_counters(r, "no_such", &m), GRADING_ENOTFOUND);
    assert_int_equal(grading_rules_metric_counters(r, "custom.claims", &m), GRADING_ENOTFOUND);
    /* the appeals section */
    assert_false(r->appeals.reopen_closed);
    assert_int_equal(r->appeals.max_per_order, 2);
    grading_policy_unref(p);
}

static void test_bad_appeals_section_is_diagnosed(void **state)
{
    (void)state;
    static const char *const bad[] = {"{max_per_order: 0}", "{max_per_order: 1.5}", "{reopen_closed: maybe}",
                                      "{max_per_order: 2, typo: 1}", "[1, 2]", "{reopen_closed: 1}"};
    static const char *const says[] = {"max_per_order must be a whole number", "max_per_order must be a whole number",
                                       "reopen_closed must be true or false", "typo", "appeals must be a mapping",
                                       "reopen_closed must be true or false"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "version: 1\ndefault_marketplace: m\nmarketplaces:\n  m:\n    time_zone: Asia/Seoul\n"
                 "    currency: KRW\n    appeals: %s\n",
                 bad[i]);
        grading_policy_diags_t d;
        grading_policy_t *p = load(text, &d);
        if (p) fail_msg("appeals: %s loaded", bad[i]);
        assert_true(d.count >= 1);
        bool found = false;
        for (size_t k = 0; k < d.count && k < GRADING_POLICY_MAX_DIAGS; k++)
            found |= strstr(d.diags[k].message, says[i]) != NULL;
        if (!found) fail_msg("appeals: %s: no diagnostic says \"%s\" (first: %s)", bad[i], says[i], d.diags[0].message);
    }
    /* absent: no limit, closed periods stay */
    grading_policy_diags_t d;
    grading_policy_t *p =
        load("version: 1\ndefault_marketplace: m\nmarketplaces:\n  m:\n    time_zone: Asia/Seoul\n    currency: KRW\n",
             &d);
    assert_non_null(p);
    assert_false(grading_policy_marketplace(p, "m")->rules->appeals.reopen_closed);
    assert_int_equal(grading_policy_marketplace(p, "m")->rules->appeals.max_per_order, 0);
    grading_policy_unref(p);
    /* reopen_closed: true loads (appeal_reopen.c publishes closed periods again) */
    p = load("version: 1\ndefault_marketplace: m\nmarketplaces:\n  m:\n    time_zone: Asia/Seoul\n    currency: KRW\n"
             "    appeals: {reopen_closed: true}\n",
             &d);
    assert_non_null(p);
    assert_true(grading_policy_marketplace(p, "m")->rules->appeals.reopen_closed);
    grading_policy_unref(p);
}

/* `exemptions:` in a policy file: parsed with the policy prefix on the id,
 * the metrics resolved to counters; bad ones diagnosed naming the field. */
static void test_policy_exemptions_parse_and_bad_ones_are_diagnosed(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof text, "%s    exemptions:\n"
             "      - {id: strike, from: 2026-12-01, to: 2026-12-05, metrics: [delay_rate, orders],\n"
             "         scope: domestic, reason: carrier_strike, note: CJ}\n", POLICY);
    grading_policy_diags_t d;
    grading_policy_t *p = load(text, &d);
    if (!p) fail_msg("%s: %s", d.diags[0].where, d.diags[0].message);
    const grading_rules_t *r = grading_policy_marketplace(p, "m")->rules;
    assert_int_equal(r->nexemptions, 1);
    const grading_exemption_t *x = &r->exemptions[0];
    assert_string_equal(x->id, GRADING_POLICY_EXEMPTION_PREFIX "strike");
    assert_int_equal(x->to_day - x->from_day, 4);
    assert_true(x->mask == (GRADING_C_BIT(GRADING_C_SHIPPED) | GRADING_C_BIT(GRADING_C_SHIPPED_ON_TIME) |
                            GRADING_C_BIT(GRADING_C_ORDERS)));
    assert_int_equal(x->overseas, GRADING_EXEMPT_DOMESTIC);
    assert_string_equal(x->reason, "carrier_strike");
    grading_policy_unref(p);

    static const char *const bad[] = {
        "{id: a, from: 2026-12-05, to: 2026-12-01, metrics: [orders], reason: x}",
        "{id: a, from: 2026-12-01, to: 2026-12-05, metrics: [nope], reason: x}",
        "{id: a, from: 2026-12-01, to: 2026-12-05, metrics: [orders]}",
        "{id: a, from: 2026-02-30, to: 2026-12-05, metrics: [orders], reason: x}",
        "{id: a, from: 2026-12-01, to: 2026-12-05, metrics: [orders], reason: x, scope: moon}"};
    static const char *const says[] = {"the range is inverted", "\"nope\" is no metric", "reason",
                                       "not a day of the calendar", "scope must be"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s    exemptions:\n      - %s\n", POLICY, bad[i]);
        p = load(text, &d);
        if (p) fail_msg("exemption %s loaded", bad[i]);
        bool found = false;
        for (size_t k = 0; k < d.count && k < GRADING_POLICY_MAX_DIAGS; k++)
            found |= strstr(d.diags[k].message, says[i]) != NULL;
        if (!found) fail_msg("exemption %s: no diagnostic says \"%s\" (first: %s)", bad[i], says[i], d.diags[0].message);
    }
}

/* The split: what the mask holds goes to excl, the rest (customs too) to
 * kept; a mask change moves exactly the masked contributions. */
static void test_contributions_split_by_the_records_mask(void **state)
{
    (void)state;
    grading_tz_t tz;
    assert_int_equal(grading_tz_init_fixed(&tz, "+09:00", 9 * 3600), GRADING_OK);
    grading_order_t o;
    grading_order_init(&o);
    o.paid_ms = INT64_C(1760918400000);      /* 2025-10-20T00:00Z */
    o.shipped_ms = o.paid_ms + INT64_C(5) * 86400000;   /* 5 days: late against 3 */
    o.amount = 100;
    o.flags = GRADING_ORDER_HOLDS_UNPAID;
    grading_contrib_t all[GRADING_MAX_CONTRIBS];
    size_t nall = 0;
    assert_int_equal(grading_order_contribs(&o, &tz, +1, all, GRADING_MAX_CONTRIBS, &nall), GRADING_OK);
    assert_true(nall >= 3);

    grading_contrib_t kept[GRADING_MAX_CONTRIBS], excl[GRADING_MAX_CONTRIBS];
    size_t nk = 0, nx = 0;
    /* no mask: everything kept, as before exclusions existed */
    assert_int_equal(grading_order_contribs_split(&o, &tz, +1, kept, GRADING_MAX_CONTRIBS, &nk, excl,
                                                  GRADING_MAX_CONTRIBS, &nx),
                     GRADING_OK);
    assert_int_equal(nk, nall);
    assert_int_equal(nx, 0);

    grading_order_t appealed = o;
    appealed.appeal_mask = GRADING_C_BIT(GRADING_C_SHIPPED);
    nk = nx = 0;
    assert_int_equal(grading_order_change_split(&o, &appealed, &tz, kept, &nk, excl, &nx), GRADING_OK);
    /* daily: -shipped (and the unchanged others cancel out); xdaily: +shipped */
    int64_t shipped_kept = 0, other_kept = 0, shipped_excl = 0;
    for (size_t i = 0; i < nk; i++) {
        if (kept[i].counter == GRADING_C_SHIPPED) shipped_kept += kept[i].delta;
        else other_kept += kept[i].delta * (kept[i].counter == GRADING_C_ORDERS ? 1 : 0);
    }
    for (size_t i = 0; i < nx; i++) {
        assert_int_equal(excl[i].counter, GRADING_C_SHIPPED);
        shipped_excl += excl[i].delta;
    }
    assert_int_equal(shipped_kept, -1);
    assert_int_equal(shipped_excl, +1);
    assert_int_equal(other_kept, 0);

    /* a cap too small is EFULL, not an overrun */
    nk = nx = 0;
    assert_int_equal(grading_contribs_split(all, nall, 0, kept, 1, &nk, excl, 1, &nx), GRADING_EFULL);
    /* "all" covers every base counter and nothing beyond */
    assert_true(GRADING_C_MASK_ALL >> GRADING_C_COUNT == 0 || GRADING_C_COUNT == 64);
    assert_true((GRADING_C_MASK_ALL & GRADING_C_BIT(GRADING_C_COUNT - 1)) != 0);
    grading_tz_destroy(&tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_counters_follow_metrics_transitively),
        cmocka_unit_test(test_bad_appeals_section_is_diagnosed),
        cmocka_unit_test(test_policy_exemptions_parse_and_bad_ones_are_diagnosed),
        cmocka_unit_test(test_contributions_split_by_the_records_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
