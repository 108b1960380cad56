/* gradectl policy check (src/cli/cmd_policy.c): the summary of a good
 * policy, as JSON and as text, every problem of a bad one, and the
 * command's exit codes.
 *
 * gradectl's sources are a program, not a library, so this test compiles
 * the ones the command needs into itself (the #includes of .c files
 * below) and reaches the file's static functions directly. The policies
 * are written here; the command cases get them through a mkdtemp
 * directory under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/cli/args.c"
#include "../../src/cli/call.c"
#include "../../src/cli/table.c"
#include "../../src/cli/cmd_policy.c"
#include "../../src/cli/cmd_policy_diff.c"

/* Two marketplaces, the second the default; every section the summary
 * reports, a listing cap among the restrictions. */
static const char good_policy[] =
    "version: 1\n"
    "default_marketplace: m2\n"
    "marketplaces:\n"
    "  m1:\n"
    "    time_zone: UTC\n"
    "    currency: USD\n"
    "  m2:\n"
    "    display_name: Market Two\n"
    "    time_zone: \"+09:00\"\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      orders_30d: {window: 30d, value: orders, better: higher}\n"
    "      cancel_rate:\n"
    "        window: 90d\n"
    "        numerator: cancels_seller_fault\n"
    "        denominator: orders\n"
    "        min_volume: 10\n"
    "        better: lower\n"
    "    scores:\n"
    "      cancel_points:\n"
    "        bands:\n"
    "          - {when: \"cancel_rate < 1%\", points: 5}\n"
    "          - {points: 1}\n"
    "    programs:\n"
    "      tier:\n"
    "        levels: [Premium, Power, Seed]\n"
    "        score: cancel_points\n"
    "        grade:\n"
    "          - {level: 1, when: \"score >= 5 && orders_30d >= 100\"}\n"
    "          - {level: 2, when: \"score >= 5\"}\n"
    "        otherwise: 3\n"
    "        new_seller: 3\n"
    "    penalties:\n"
    "      cancels:\n"
    "        - stage: 1\n"
    "          name: cancel warning\n"
    "          when: cancel_rate >= 5%\n"
    "          restrictions: [warning]\n"
    "        - stage: 2\n"
    "          name: cancel cap\n"
    "          when: cancel_rate >= 10%\n"
    "          restrictions: [warning, {kind: listing_cap, limit: 100}]\n"
    "    benefits:\n"
    "      neutral_boost: 1.0\n"
    "      boost: \"tier.level == 1 ? 1.1 : 1.0\"\n"
    "      ad_credits:\n"
    "        - {program: boost_ads, amount: 50000, when: \"tier.level == 1\", reason: premium}\n"
    "      settlement:\n"
    "        - {tier: fast, cycle_days: 3, when: \"tier.level == 1\"}\n"
    "        - {tier: standard, cycle_days: 7}\n";

/* Three independent problems on lines 6, 9 and 11. */
static const char bad_policy[] =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: UTC\n"
    "    currency: usd\n"
    "    metrics:\n"
    "      a: {window: 30d, value: orders}\n"
    "      b: {window: 30d, value: nosuch_counter}\n"
    "    scores:\n"
    "      s: {bands: [{when: \"a >= \\\"x\\\"\", points: 1}, {points: 0}]}\n";

static char g_tmp[256];
static char g_good[300], g_bad[300], g_missing[300];

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    if (fclose(f)) rc = -1;
    return rc;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/grading-test-cli-policy-XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(g_good, sizeof g_good, "%s/good.yaml", g_tmp);
    snprintf(g_bad, sizeof g_bad, "%s/bad.yaml", g_tmp);
    snprintf(g_missing, sizeof g_missing, "%s/missing.yaml", g_tmp);
    if (write_file(g_good, good_policy) || write_file(g_bad, bad_policy)) {
        perror("writing the test policies");
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_good);
    unlink(g_bad);
    rmdir(g_tmp);
    return 0;
}

static grading_policy_t *load_good(void)
{
    grading_policy_t *p = NULL;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    assert_non_null(d);
    grading_err_t err = grading_policy_load_buffer("good.yaml", good_policy, strlen(good_policy), &p, d);
    for (size_t i = 0; i < d->count && i < GRADING_POLICY_MAX_DIAGS; i++)
        fprintf(stderr, "%s: %s\n", d->diags[i].where, d->diags[i].message);
    assert_int_equal(err, GRADING_OK);
    free(d);
    return p;
}

static grading_policy_diags_t *load_bad(const char *text, const char *origin)
{
    grading_policy_t *p = NULL;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    assert_non_null(d);
    assert_int_equal(grading_policy_load_buffer(origin, text, strlen(text), &p, d), GRADING_EINVAL);
    assert_null(p);
    return d;
}

/* What f printed into a memory stream, NUL-terminated; caller frees. */
typedef struct {
    char *buf;
    size_t len;
    FILE *f;
} capture_t;

static void capture_begin(capture_t *c)
{
    memset(c, 0, sizeof *c);
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

static char *capture_end(capture_t *c)
{
    assert_int_equal(fclose(c->f), 0);
    return c->buf;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (*s == '\n') n++;
    return n;
}

/* ---- the JSON summary ---- */

static void test_summary_json_lists_what_each_marketplace_defines(void **state)
{
    (void)state;
    grading_policy_t *p = load_good();
    json_t *s = policy_summary(p, "good.yaml");
    assert_non_null(s);

    assert_string_equal(sget(s, "file"), "good.yaml");
    assert_true(json_is_true(json_object_get(s, "valid")));
    assert_string_equal(sget(s, "version"), grading_policy_version(p));
    assert_int_equal(strlen(sget(s, "version")), GRADING_POLICY_VERSION_LEN);
    assert_string_equal(sget(s, "default_marketplace"), "m2");

    const json_t *markets = json_object_get(s, "marketplaces");
    assert_int_equal(json_array_size(markets), 2);

    /* m1 declares no grading sections: everything counts zero. */
    const json_t *m1 = json_array_get(markets, 0);
    assert_string_equal(sget(m1, "name"), "m1");
    assert_string_equal(sget(m1, "display_name"), "m1");
    assert_string_equal(sget(m1, "time_zone"), "UTC");
    assert_string_equal(sget(m1, "currency"), "USD");
    assert_int_equal(iget(m1, "metrics"), 0);
    assert_int_equal(iget(m1, "scores"), 0);
    assert_int_equal(json_array_size(json_object_get(m1, "programs")), 0);
    assert_int_equal(json_array_size(json_object_get(m1, "penalty_ladders")), 0);
    assert_int_equal(json_array_size(json_object_get(m1, "ad_credits")), 0);
    assert_int_equal(json_array_size(json_object_get(m1, "settlement_tiers")), 0);

    const json_t *m2 = json_array_get(markets, 1);
    assert_string_equal(sget(m2, "name"), "m2");
    assert_string_equal(sget(m2, "display_name"), "Market Two");
    assert_string_equal(sget(m2, "time_zone"), "+09:00");
    assert_string_equal(sget(m2, "currency"), "KRW");
    assert_int_equal(iget(m2, "metrics"), 2);
    assert_int_equal(iget(m2, "scores"), 1);

    const json_t *progs = json_object_get(m2, "programs");
    assert_int_equal(json_array_size(progs), 1);
    const json_t *tier = json_array_get(progs, 0);
    assert_string_equal(sget(tier, "name"), "tier");
    assert_int_equal(iget(tier, "new_seller_level"), 3);
    const json_t *levels = json_object_get(tier, "levels");
    assert_int_equal(json_array_size(levels), 3);
    static const char *const labels[] = {"Premium", "Power", "Seed"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(iget(json_array_get(levels, i), "level"), (long long)i + 1);
        assert_string_equal(sget(json_array_get(levels, i), "label"), labels[i]);
    }

    const json_t *ladders = json_object_get(m2, "penalty_ladders");
    assert_int_equal(json_array_size(ladders), 1);
    assert_string_equal(sget(json_array_get(ladders, 0), "name"), "cancels");
    const json_t *stages = json_object_get(json_array_get(ladders, 0), "stages");
    assert_int_equal(json_array_size(stages), 2);
    const json_t *st2 = json_array_get(stages, 1);
    assert_int_equal(iget(st2, "stage"), 2);
    assert_string_equal(sget(st2, "name"), "cancel cap");
    const json_t *restr = json_object_get(st2, "restrictions");
    assert_int_equal(json_array_size(restr), 2);
    assert_string_equal(json_string_value(json_array_get(restr, 0)), "warning");
    assert_string_equal(json_string_value(json_array_get(restr, 1)), "listing_cap 100");

    const json_t *grants = json_object_get(m2, "ad_credits");
    assert_int_equal(json_array_size(grants), 1);
    assert_string_equal(sget(json_array_get(grants, 0), "program"), "boost_ads");
    assert_int_equal(iget(json_array_get(grants, 0), "amount"), 50000);

    const json_t *tiers = json_object_get(m2, "settlement_tiers");
    assert_int_equal(json_array_size(tiers), 2);
    assert_string_equal(sget(json_array_get(tiers, 0), "tier"), "fast");
    assert_int_equal(iget(json_array_get(tiers, 0), "cycle_days"), 3);
    assert_string_equal(sget(json_array_get(tiers, 1), "tier"), "standard");
    assert_int_equal(iget(json_array_get(tiers, 1), "cycle_days"), 7);

    json_decref(s);
    grading_policy_unref(p);
}

/* ---- the text summary ---- */

static void test_summary_text_shows_labels_stages_and_tiers(void **state)
{
    (void)state;
    grading_policy_t *p = load_good();
    json_t *s = policy_summary(p, "good.yaml");
    assert_non_null(s);
    capture_t c;
    capture_begin(&c);
    assert_true(policy_summary_print(s, c.f));
    char *out = capture_end(&c);

    char version_line[64];
    snprintf(version_line, sizeof version_line, "version              %s\n", grading_policy_version(p));
    assert_non_null(strstr(out, "good.yaml: valid\n"));
    assert_non_null(strstr(out, version_line));
    assert_non_null(strstr(out, "default marketplace  m2\n"));
    assert_non_null(strstr(out, "marketplaces         2\n"));
    assert_non_null(strstr(out, "\nmarketplace m1\n"));
    assert_non_null(strstr(out, "\nmarketplace m2 (Market Two)\n"));
    assert_non_null(strstr(out, "3 levels: 1=Premium, 2=Power, 3=Seed\n"));
    assert_non_null(strstr(out, "2 stages: 1=cancel warning (warning); 2=cancel cap (warning, listing_cap 100)\n"));
    assert_non_null(strstr(out, "50000 KRW\n"));
    assert_non_null(strstr(out, "every 3 days\n"));
    assert_non_null(strstr(out, "every 7 days\n"));
    /* m1's block comes first and reports zero metrics */
    const char *m1 = strstr(out, "\nmarketplace m1\n"), *m2 = strstr(out, "\nmarketplace m2");
    assert_true(m1 < m2);
    const char *metrics = strstr(m1, "\n  metrics           0\n");
    assert_non_null(metrics);
    assert_true(metrics < m2);
    assert_non_null(strstr(m2, "\n  metrics           2\n"));

    free(out);
    json_decref(s);
    grading_policy_unref(p);
}

static void test_levels_named_by_their_number_print_plainly(void **state)
{
    (void)state;
    json_t *levels = json_pack("[{s:i, s:s}, {s:i, s:s}]", "level", 1, "label", "1", "level", 2, "label", "2");
    assert_non_null(levels);
    char buf[64];
    format_levels(levels, buf, sizeof buf);
    assert_string_equal(buf, "1, 2");
    json_decref(levels);
}

/* ---- problems ---- */

static void test_every_problem_is_printed_with_its_place(void **state)
{
    (void)state;
    grading_policy_diags_t *d = load_bad(bad_policy, "bad.yaml");
    assert_int_equal(d->count, 3);

    capture_t c;
    capture_begin(&c);
    policy_problems_print(d, "bad.yaml", false, c.f);
    char *out = capture_end(&c);
    /* three "where: message" lines and the total */
    assert_int_equal(count_lines(out), 4);
    assert_non_null(strstr(out, "bad.yaml:6:"));
    assert_non_null(strstr(out, "currency \"usd\""));
    assert_non_null(strstr(out, "bad.yaml:9:"));
    assert_non_null(strstr(out, "nosuch_counter"));
    assert_non_null(strstr(out, "bad.yaml:11:"));
    assert_non_null(strstr(out, "gradectl: bad.yaml: 3 problems, the policy is not valid\n"));
    for (size_t i = 0; i < d->count; i++) {
        char line[sizeof d->diags[i].where + sizeof d->diags[i].message + 4];
        snprintf(line, sizeof line, "%s: %s\n", d->diags[i].where, d->diags[i].message);
        assert_non_null(strstr(out, line));
    }
    free(out);

    json_t *j = policy_problems(d, "bad.yaml");
    assert_non_null(j);
    assert_true(json_is_false(json_object_get(j, "valid")));
    assert_int_equal(iget(j, "problems"), 3);
    const json_t *errors = json_object_get(j, "errors");
    assert_int_equal(json_array_size(errors), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(sget(json_array_get(errors, i), "where"), d->diags[i].where);
        assert_string_equal(sget(json_array_get(errors, i), "message"), d->diags[i].message);
    }
    json_decref(j);
    free(d);
}

/* More problems than the loader keeps: the kept ones print, the rest are
 * counted, the total is the real one. */
static void test_problems_beyond_the_kept_ones_are_counted(void **state)
{
    (void)state;
    enum { NBAD = GRADING_POLICY_MAX_DIAGS + 6 };
    size_t cap = 256 + NBAD * 64, at = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    at += (size_t)snprintf(text + at, cap - at,
                           "version: 1\ndefault_marketplace: m\nmarketplaces:\n  m:\n"
                           "    time_zone: UTC\n    currency: USD\n    metrics:\n");
    for (int i = 0; i < NBAD; i++)
        at += (size_t)snprintf(text + at, cap - at, "      m%d: {window: 30d, value: unknown_%d}\n", i, i);
    assert_true(at < cap);
    grading_policy_diags_t *d = load_bad(text, "many.yaml");
    assert_true(d->count >= NBAD);

    capture_t c;
    capture_begin(&c);
    policy_problems_print(d, "many.yaml", false, c.f);
    char *out = capture_end(&c);
    char more[64], total[96];
    snprintf(more, sizeof more, "gradectl: %zu more problems not shown\n", d->count - GRADING_POLICY_MAX_DIAGS);
    snprintf(total, sizeof total, "gradectl: many.yaml: %zu problems, the policy is not valid\n", d->count);
    assert_non_null(strstr(out, more));
    assert_non_null(strstr(out, total));
    assert_int_equal(count_lines(out), GRADING_POLICY_MAX_DIAGS + 2);
    free(out);
    free(text);
    free(d);
}

/* ---- the command ---- */

/* Runs `gradectl [--json] ARGS...` through the command with stdout and
 * stderr sent to /dev/null; returns its exit code. */
static int run_quietly(bool json, int argc, char **argv)
{
    cli_ctx_t ctx = {.addr = CLI_DEFAULT_ADDR, .json = json};
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2), null = open("/dev/null", O_WRONLY);
    assert_true(saved_out >= 0 && saved_err >= 0 && null >= 0);
    assert_true(dup2(null, 1) >= 0 && dup2(null, 2) >= 0);
    int rc = cli_cmd_policy.run(&ctx, &cli_cmd_policy, argc, argv);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved_out, 1) >= 0 && dup2(saved_err, 2) >= 0);
    close(saved_out);
    close(saved_err);
    close(null);
    assert_null(ctx.client);   /* the check never talks to a server */
    return rc;
}

static void test_check_exits_0_on_a_good_file_and_1_on_a_bad_one(void **state)
{
    (void)state;
    char *good[] = {"policy", "check", g_good};
    char *bad[] = {"policy", "check", g_bad};
    char *missing[] = {"policy", "check", g_missing};
    assert_int_equal(run_quietly(false, 3, good), CLI_EXIT_OK);
    assert_int_equal(run_quietly(true, 3, good), CLI_EXIT_OK);
    assert_int_equal(run_quietly(false, 3, bad), CLI_EXIT_FAIL);
    assert_int_equal(run_quietly(true, 3, bad), CLI_EXIT_FAIL);
    assert_int_equal(run_quietly(false, 3, missing), CLI_EXIT_FAIL);
}

/* `exclude` (issue 15 §3): accepted on a metric that reads cancels,
 * refused with its place for an unknown value or no such counter. */
static void test_check_exclude(void **state)
{
    (void)state;
    static const char *const head = "version: 1\ndefault_marketplace: m\nmarketplaces:\n  m:\n"
                                    "    time_zone: UTC\n    currency: USD\n    metrics:\n";
    static const char *const bodies[3] = {
        "      r: {window: 30d, numerator: cancels, denominator: orders, exclude: {reason: [buyer_request]}}\n",
        "      r: {window: 30d, numerator: cancels, denominator: orders, exclude: {reason: [buyer_remorse]}}\n",
        "      r: {window: 30d, numerator: shipped_on_time, denominator: shipped, exclude: {fault: [buyer]}}\n"};
    static const char *const want[3] = {NULL, "x.yaml:8:84: exclude.reason: unknown value \"buyer_remorse\"",
                                        "x.yaml:8:83: metric \"r\": exclude applies to cancels, returns and exchanges"};
    char path[320], text[512];
    snprintf(path, sizeof path, "%s/x.yaml", g_tmp);
    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "%s%s", head, bodies[i]);
        assert_int_equal(write_file(path, text), 0);
        char *argv[] = {"policy", "check", path};
        assert_int_equal(run_quietly(false, 3, argv), want[i] ? CLI_EXIT_FAIL : CLI_EXIT_OK);
        if (!want[i]) continue;
        grading_policy_diags_t *d = load_bad(text, "x.yaml");
        capture_t c;
        capture_begin(&c);
        policy_problems_print(d, "x.yaml", false, c.f);
        char *out = capture_end(&c);
        assert_non_null(strstr(out, want[i]));
        free(out);
        free(d);
    }
    unlink(path);
}

static void test_check_usage_errors_exit_2(void **state)
{
    (void)state;
    char *none[] = {"policy"};
    char *no_file[] = {"policy", "check"};
    char *empty_file[] = {"policy", "check", ""};
    char *unknown_sub[] = {"policy", "lint", g_good};
    char *unknown_flag[] = {"policy", "check", "--strict", g_good};
    char *two_files[] = {"policy", "check", g_good, g_bad};
    assert_int_equal(run_quietly(false, 1, none), CLI_EXIT_USAGE);
    assert_int_equal(run_quietly(false, 2, no_file), CLI_EXIT_USAGE);
    assert_int_equal(run_quietly(false, 3, empty_file), CLI_EXIT_USAGE);
    assert_int_equal(run_quietly(false, 3, unknown_sub), CLI_EXIT_USAGE);
    assert_int_equal(run_quietly(false, 4, unknown_flag), CLI_EXIT_USAGE);
    assert_int_equal(run_quietly(false, 4, two_files), CLI_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_json_lists_what_each_marketplace_defines),
        cmocka_unit_test(test_summary_text_shows_labels_stages_and_tiers),
        cmocka_unit_test(test_levels_named_by_their_number_print_plainly),
        cmocka_unit_test(test_every_problem_is_printed_with_its_place),
        cmocka_unit_test(test_problems_beyond_the_kept_ones_are_counted),
        cmocka_unit_test(test_check_exits_0_on_a_good_file_and_1_on_a_bad_one),
        cmocka_unit_test(test_check_usage_errors_exit_2),
        cmocka_unit_test(test_check_exclude),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
