/* Authorization: the `*` pattern (within one segment), caller matching by
 * URI SAN, CN and token hash, methods and marketplaces allowed and denied,
 * health/reflection always allowed, and the file loader: the shipped
 * example, and every kind of bad file reported with file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/authz.h"

static grading_authz_t *load(const char *text)
{
    grading_authz_t *a = NULL;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    assert_non_null(d);
    grading_err_t err = grading_authz_load_buffer("authz.yaml", text, strlen(text), &a, d);
    if (err) fail_msg("load failed: %s: %s", d->diags[0].where, d->diags[0].message);
    free(d);
    return a;
}

/* Loads a bad file; asserts one diagnostic at `where` containing `what`. */
static void assert_rejected(const char *text, const char *where, const char *what)
{
    grading_authz_t *a = NULL;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    assert_non_null(d);
    assert_int_equal(grading_authz_load_buffer("authz.yaml", text, strlen(text), &a, d), GRADING_EINVAL);
    assert_null(a);
    assert_true(d->count >= 1);
    if (strcmp(d->diags[0].where, where) != 0 || !strstr(d->diags[0].message, what))
        fail_msg("expected %s: ...%s..., got %s: %s", where, what, d->diags[0].where, d->diags[0].message);
    free(d);
}

static void test_pattern(void **state)
{
    (void)state;
    const char *m = "grading.v1.GradingService/GetGrade";
    assert_true(grading_authz_pattern_match(m, m));
    assert_true(grading_authz_pattern_match("grading.v1.GradingService/Get*", m));
    assert_true(grading_authz_pattern_match("grading.v1.GradingService/*", m));
    assert_true(grading_authz_pattern_match("grading.v1.*/GetGrade", m));
    assert_true(grading_authz_pattern_match("*/GetGrade", m));
    assert_true(grading_authz_pattern_match("grading.v1.GradingService/*Grade", m));
    assert_true(grading_authz_pattern_match("grading.v1.GradingService/G*t*e", m));
    /* `*` never crosses '/' */
    assert_false(grading_authz_pattern_match("*", m));
    assert_false(grading_authz_pattern_match("grading.*", m));
    assert_false(grading_authz_pattern_match("grading.v1.GradingService/Get*", "grading.v1.GradingService/RecordEvents"));
    assert_false(grading_authz_pattern_match("grading.v1.GradingService/GetGrade", "grading.v1.GradingService/GetGradeHistory"));
    assert_false(grading_authz_pattern_match("grading.v1.GradingService/GetGradeHistory", m));
    assert_false(grading_authz_pattern_match("grading.v1.OtherService/*", m));
    assert_false(grading_authz_pattern_match("", m));
}

static const char *const two_roles =
    "callers:\n"
    "  search:\n"
    "    match: {uri_san: \"spiffe://shop/search\"}\n"
    "    allow: [\"grading.v1.GradingService/GetRankingBoosts\", \"grading.v1.GradingService/GetGrade\"]\n"
    "    marketplaces: [\"zigzag\", \"posty\"]\n"
    "  ads:\n"
    "    match: {cn: ad-billing}\n"
    "    allow: [\"grading.v1.GradingService/GetAd*\"]\n"
    "  dash:\n"
    "    match: {token_sha256: \"7F4E5B8F3A951F2BC2BAA9BCB2144BEF8D2F96B1CB404EB848A0440BAC8E603E\"}\n"
    "    allow: [\"grading.v1.GradingService/Get*\"]\n";

static void test_identify(void **state)
{
    (void)state;
    grading_authz_t *a = load(two_roles);
    assert_int_equal(grading_authz_caller_count(a), 3);
    const char *uris[] = {"spiffe://other", "spiffe://shop/search"};
    grading_identity_t id = {.uri_sans = uris, .nuri_sans = 2};
    const grading_authz_caller_t *c = grading_authz_identify(a, &id);
    assert_non_null(c);
    assert_string_equal(c->name, "search");

    id = (grading_identity_t){.cn = "ad-billing"};
    c = grading_authz_identify(a, &id);
    assert_non_null(c);
    assert_string_equal(c->name, "ads");

    /* the file's hex is stored lowercase; peers hash to lowercase */
    id = (grading_identity_t){.token_sha256 = "7f4e5b8f3a951f2bc2baa9bcb2144bef8d2f96b1cb404eb848a0440bac8e603e"};
    c = grading_authz_identify(a, &id);
    assert_non_null(c);
    assert_string_equal(c->name, "dash");

    /* a CN equal to a URI SAN value, a near-miss, nothing */
    id = (grading_identity_t){.cn = "spiffe://shop/search"};
    assert_null(grading_authz_identify(a, &id));
    id = (grading_identity_t){.cn = "ad-billing2"};
    assert_null(grading_authz_identify(a, &id));
    id = (grading_identity_t){0};
    assert_false(grading_identity_present(&id));
    assert_null(grading_authz_identify(a, &id));
    grading_authz_unref(a);
}

static void test_allowed(void **state)
{
    (void)state;
    grading_authz_t *a = load(two_roles);
    const grading_authz_caller_t *search = grading_authz_caller_at(a, 0), *ads = grading_authz_caller_at(a, 1);
    assert_true(grading_authz_method_allowed(search, "grading.v1.GradingService/GetRankingBoosts"));
    assert_true(grading_authz_method_allowed(search, "grading.v1.GradingService/GetGrade"));
    assert_false(grading_authz_method_allowed(search, "grading.v1.GradingService/GetGradeHistory"));
    assert_false(grading_authz_method_allowed(search, "grading.v1.GradingService/RecordEvents"));
    assert_true(grading_authz_marketplace_allowed(search, "zigzag"));
    assert_true(grading_authz_marketplace_allowed(search, "posty"));
    assert_false(grading_authz_marketplace_allowed(search, "tmon"));
    assert_false(grading_authz_marketplace_allowed(search, ""));
    /* no list: every marketplace */
    assert_true(grading_authz_marketplace_allowed(ads, "tmon"));
    assert_true(grading_authz_method_allowed(ads, "grading.v1.GradingService/GetAdCreditEligibility"));
    assert_false(grading_authz_method_allowed(ads, "grading.v1.GradingService/GetGrade"));

    assert_true(grading_authz_always_allowed("grpc.health.v1.Health/Check"));
    assert_true(grading_authz_always_allowed("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
    assert_false(grading_authz_always_allowed("grading.v1.GradingService/GetGrade"));
    assert_false(grading_authz_always_allowed("grpc.healthz/Check"));
    grading_authz_unref(a);
}

static void test_example_file(void **state)
{
    (void)state;
    /* this file is <source>/tests/unit/test_authz.c (CMake passes full paths) */
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "/tests/unit/test_authz.c");
    assert_non_null(cut);
    snprintf(cut, sizeof path - (size_t)(cut - path), "/deploy/authz.example.yaml");
    grading_authz_t *a = NULL;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    assert_non_null(d);
    grading_err_t err = grading_authz_load_file(path, &a, d);
    if (err) fail_msg("%s: %s: %s", path, d->diags[0].where, d->diags[0].message);
    free(d);
    /* the five roles (writers as two callers) and the audit reader */
    static const char *const names[] = {"order-events", "cs-events", "search", "ad-billing", "settlement",
                                        "partner-dashboard", "ops-admin"};
    assert_int_equal(grading_authz_caller_count(a), 7);
    for (size_t i = 0; i < 7; i++) assert_string_equal(grading_authz_caller_at(a, i)->name, names[i]);
    const grading_authz_caller_t *dash = grading_authz_caller_at(a, 5);
    assert_true(grading_authz_method_allowed(dash, "grading.v1.GradingService/GetSellerMetrics"));
    assert_true(grading_authz_method_allowed(dash, "grading.v1.GradingService/GetGradeForecast"));
    assert_true(grading_authz_method_allowed(grading_authz_caller_at(a, 6), "grading.v1.GradingService/GetGradeForecast"));
    assert_false(grading_authz_method_allowed(grading_authz_caller_at(a, 2), "grading.v1.GradingService/GetGradeForecast"));
    assert_false(grading_authz_method_allowed(dash, "grading.v1.GradingService/ClosePeriod"));
    assert_false(grading_authz_method_allowed(dash, "grading.v1.GradingService/ListAudit"));
    grading_authz_unref(a);
}

static void test_bad_files(void **state)
{
    (void)state;
    assert_rejected("callers: [\n", "authz.yaml:2:1", "YAML syntax");
    assert_rejected("caller:\n  a: {}\n", "authz.yaml:1:1", "unknown key \"caller\"");
    assert_rejected("callers:\n  Search:\n    match: {cn: x}\n    allow: [\"a.B/C\"]\n", "authz.yaml:2:3",
                    "caller name \"Search\"");
    assert_rejected("callers:\n  s:\n    match: {cn: x}\n    allow: [\"a.B/C\"]\n    alow: []\n",
                    "authz.yaml:5:5", "unknown key \"alow\"");
    assert_rejected("callers:\n  s:\n    allow: [\"a.B/C\"]\n", "authz.yaml:3:5", "match is required");
    assert_rejected("callers:\n  s:\n    match: {cn: x}\n", "authz.yaml:3:5", "allow is required");
    assert_rejected("callers:\n  s:\n    match: {dns: x}\n    allow: [\"a.B/C\"]\n", "authz.yaml:3:13",
                    "unknown key \"dns\"");
    assert_rejected("callers:\n  s:\n    match: {cn: x, uri_san: y}\n    allow: [\"a.B/C\"]\n", "authz.yaml:3:12",
                    "exactly one of");
    assert_rejected("callers:\n  s:\n    match: {token_sha256: abc}\n    allow: [\"a.B/C\"]\n", "authz.yaml:3:27",
                    "64 hex digits");
    assert_rejected("callers:\n  s:\n    match: {cn: x}\n    allow: [\"/grading.v1.GradingService/GetGrade\"]\n",
                    "authz.yaml:4:13", "not a full method name");
    assert_rejected("callers:\n  s:\n    match: {cn: x}\n    allow: [\"GetGrade\"]\n", "authz.yaml:4:13",
                    "not a full method name");
    assert_rejected("callers:\n  s:\n    match: {cn: x}\n    allow: \"a.B/C\"\n", "authz.yaml:4:12", "must be a list");
    assert_rejected("callers:\n  s:\n    match: {cn: x}\n    allow: [\"a.B/C\"]\n    marketplaces: []\n",
                    "authz.yaml:5:19", "must not be empty");
    assert_rejected("callers:\n  s:\n    match: {cn: x}\n    allow: [\"a.B/C\"]\n  t:\n    match: {cn: x}\n"
                    "    allow: [\"a.B/C\"]\n",
                    "authz.yaml:6:12", "same as callers.s.match");
}

/* backfill: true lets a caller send RecordEvents.backfill_id (issue 18). */
static void test_backfill_flag(void **state)
{
    (void)state;
    grading_authz_t *a = load("callers:\n"
                              "  admin:\n    match: {cn: admin}\n    allow: [\"a.B/C\"]\n    backfill: true\n"
                              "  feed:\n    match: {cn: feed}\n    allow: [\"a.B/C\"]\n    backfill: false\n"
                              "  other:\n    match: {cn: other}\n    allow: [\"a.B/C\"]\n");
    assert_int_equal(grading_authz_caller_count(a), 3);
    assert_true(grading_authz_caller_at(a, 0)->backfill);
    assert_false(grading_authz_caller_at(a, 1)->backfill);
    assert_false(grading_authz_caller_at(a, 2)->backfill);   /* absent: not allowed */
    grading_authz_unref(a);
    assert_rejected("callers:\n  s:\n    match: {cn: x}\n    allow: [\"a.B/C\"]\n    backfill: yes\n",
                    "authz.yaml:5:15", "callers.s.backfill must be true or false");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern),       cmocka_unit_test(test_identify),
        cmocka_unit_test(test_allowed),       cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_bad_files),     cmocka_unit_test(test_backfill_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
