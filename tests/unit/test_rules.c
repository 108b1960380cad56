/* The policy engine: loading grading sections (good and bad) and
 * evaluating them on synthetic window sums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grading/policy.h"
#include "grading/rules.h"
#include "grading/tz.h"

static const char *const GOOD =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: UTC\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      avg_rating: {window: 90d, value: rating_sum / reviews, volume: reviews, min_volume: 10, "
    "min: 1, max: 5, better: higher}\n"
    "      cancel_rate: {window: 30d, numerator: cancels_seller_fault, denominator: orders, "
    "min_volume: 20, better: lower}\n"
    "      orders_month: {window: month, value: orders}\n"
    "      bonus: {window: 90d, value: custom.bonus}\n"
    "      doubled: {value: bonus * 2}\n"
    "    scores:\n"
    "      cancel_verdict:\n"
    "        bands:\n"
    "          - {when: \"cancel_rate >= 10%\", verdict: risk}\n"
    "          - {when: \"cancel_rate >= 5%\", verdict: caution}\n"
    "          - {verdict: fit}\n"
    "    programs:\n"
    "      quality:\n"
    "        levels: [Top, Good, Fair, Poor]\n"
    "        score: avg_rating\n"
    "        grade:\n"
    "          - {level: 1, when: \"score >= 4.7\"}\n"
    "          - {level: 2, when: \"score >= 4\"}\n"
    "          - {level: 3, when: \"score >= 3\"}\n"
    "        otherwise: 4\n"
    "        new_seller: 3\n"
    "        caps:\n"
    "          - {best: 2, unless: 'cancel_verdict == \"fit\"'}\n"
    "        overrides:\n"
    "          - {level: 4, when: 'cancel_verdict == \"risk\" && score < 3.5'}\n"
    "    penalties:\n"
    "      cancels:\n"
    "        - {stage: 1, name: warning, when: \"cancel_rate > 7%\", restrictions: [warning]}\n"
    "        - {stage: 2, name: capped, when: \"cancel_rate > 15%\", restrictions: [{kind: listing_cap, "
    "limit: 500}]}\n"
    "        - {stage: 3, name: suspended, when: \"cancel_rate > 30%\", restrictions: [sales_suspended, "
    "withdrawals_held]}\n"
    "    benefits:\n"
    "      neutral_boost: 1.0\n"
    "      boost: \"quality.level == 1 ? 1.5 : 1.0\"\n"
    "      ad_credits:\n"
    "        - {program: top_ads, amount: 5000, when: \"quality.level == 1\"}\n"
    "      settlement:\n"
    "        - {tier: fast, cycle_days: 3, when: \"quality.level <= 2 && penalty.cancels.stage == 0\"}\n"
    "        - {tier: standard, cycle_days: 10}\n"
    "      convertible_points: doubled\n";

static grading_policy_t *load(const char *text, grading_policy_diags_t *d)
{
    grading_policy_t *p = NULL;
    grading_policy_load_buffer("t.yaml", text, strlen(text), &p, d);
    return p;
}

static const grading_rules_t *rules_of(grading_policy_t *p)
{
    return grading_policy_marketplace(p, "m")->rules;
}

static int window_of(const grading_rules_t *r, const char *name)
{
    for (size_t i = 0; i < r->nwindows; i++)
        if (strcmp(r->windows[i].name, name) == 0) return (int)i;
    return -1;
}

/* Sums with every window holding the same counters. */
static void set_all(const grading_rules_t *r, grading_day_counters_t *sums, grading_counter_t c, int64_t v)
{
    for (size_t w = 0; w < r->nwindows; w++) sums[w].c[c] = v;
}

static void assess(const grading_rules_t *r, grading_day_counters_t *sums, grading_assessment_t *a)
{
    grading_error_t e = {0};
    assert_int_equal(grading_rules_assess(r, sums, a, &e), GRADING_OK);
}

typedef struct {
    grading_policy_t *p;
    const grading_rules_t *r;
    grading_day_counters_t sums[GRADING_RULES_MAX_WINDOWS];
    grading_assessment_t a;
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    static grading_policy_diags_t d;
    memset(&fx, 0, sizeof fx);
    fx.p = load(GOOD, &d);
    for (size_t i = 0; i < d.count && i < GRADING_POLICY_MAX_DIAGS; i++)
        fprintf(stderr, "%s: %s\n", d.diags[i].where, d.diags[i].message);
    if (!fx.p) return -1;
    fx.r = rules_of(fx.p);
    for (size_t w = 0; w < GRADING_RULES_MAX_WINDOWS; w++) grading_day_counters_init(&fx.sums[w]);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    grading_policy_unref(fx->p);
    return 0;
}

static void healthy(fx_t *fx, int64_t rating_sum, int64_t reviews, int64_t cancels, int64_t orders)
{
    for (size_t w = 0; w < GRADING_RULES_MAX_WINDOWS; w++) grading_day_counters_init(&fx->sums[w]);
    set_all(fx->r, fx->sums, GRADING_C_RATING_SUM, rating_sum);
    set_all(fx->r, fx->sums, GRADING_C_REVIEWS, reviews);
    set_all(fx->r, fx->sums, GRADING_C_CANCELS_SELLER_FAULT, cancels);
    set_all(fx->r, fx->sums, GRADING_C_ORDERS, orders);
}

static void test_loads_everything(void **state)
{
    fx_t *fx = *state;
    const grading_rules_t *r = fx->r;
    assert_int_equal(r->nmetrics, 5);
    assert_int_equal(r->nscores, 1);
    assert_int_equal(r->nprograms, 1);
    assert_int_equal(r->programs[0].nlevels, 4);
    assert_string_equal(r->programs[0].labels[2], "Fair");
    assert_int_equal(r->nladders, 1);
    assert_int_equal(r->ladders[0].nstages, 3);
    assert_int_equal(r->ladders[0].stages[1].restrictions[0].kind, GRADING_R_LISTING_CAP);
    assert_int_equal(r->ladders[0].stages[1].restrictions[0].limit, 500);
    assert_int_equal(r->ngrants, 1);
    assert_int_equal(r->ntiers, 2);
    assert_true(window_of(r, "90d") >= 0);
    assert_true(window_of(r, "30d") >= 0);
    assert_true(window_of(r, "month") >= 0);
    assert_int_equal(r->metrics[4].window, -1);   /* derived */
}

/* 4.69 vs 4.7: the rule "score >= 4.7" on both sides. */
static void test_threshold_both_sides(void **state)
{
    fx_t *fx = *state;
    healthy(fx, 469, 100, 0, 100);
    assess(fx->r, fx->sums, &fx->a);
    assert_true(fx->a.metrics[0].available);
    assert_int_equal(fx->a.grades[0].level, 2);
    assert_string_equal(fx->a.grades[0].label, "Good");
    healthy(fx, 470, 100, 0, 100);
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.grades[0].level, 1);
    assert_string_equal(fx->a.grades[0].label, "Top");
    assert_true(fx->a.grades[0].has_score);
    assert_true(fx->a.grades[0].score == 4.7);
    assert_true(fx->a.boost == 1.5);
    assert_true(fx->a.granted[0]);
    assert_int_equal(fx->a.tier, 0);
}

/* 9 reviews are under min_volume 10: not enough data -> new-seller level;
 * 19 orders under 20: the cancel rate is unknown, the cap cannot be lifted. */
static void test_not_enough_data(void **state)
{
    fx_t *fx = *state;
    healthy(fx, 45, 9, 0, 19);
    assess(fx->r, fx->sums, &fx->a);
    assert_false(fx->a.metrics[0].available);
    assert_true(fx->a.metrics[0].value == 5 && fx->a.metrics[0].denominator == 1);
    assert_false(fx->a.metrics[1].available);
    assert_true(fx->a.metrics[1].denominator == 19);
    assert_false(fx->a.scores[0].available);
    assert_true(fx->a.grades[0].new_seller);
    assert_int_equal(fx->a.grades[0].level, 3);
    assert_true(strstr(fx->a.grades[0].reasons[0], "not enough data") != NULL);
    assert_true(fx->a.boost == 1.0);
    assert_int_equal(fx->a.ladders[0].stage, 0);
    /* a seller with nothing at all: the same, and no division by zero */
    healthy(fx, 0, 0, 0, 0);
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.grades[0].level, 3);
    assert_false(fx->a.metrics[1].available);
}

/* The cap: level 1 needs cancel_verdict fit; caution caps at 2. */
static void test_cap_and_override(void **state)
{
    fx_t *fx = *state;
    healthy(fx, 480, 100, 5, 100);   /* 5 % -> caution */
    assess(fx->r, fx->sums, &fx->a);
    assert_string_equal(fx->a.scores[0].string, "caution");
    assert_int_equal(fx->a.grades[0].level, 2);
    assert_true(strstr(fx->a.grades[0].reasons[1], "capped at level 2") != NULL);
    healthy(fx, 480, 100, 4, 100);   /* 4 % -> fit, not capped */
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.grades[0].level, 1);
    /* override: risk and score < 3.5 -> 4 whatever the ladder said (3) */
    healthy(fx, 340, 100, 10, 100);
    assess(fx->r, fx->sums, &fx->a);
    assert_string_equal(fx->a.scores[0].string, "risk");
    assert_int_equal(fx->a.grades[0].level, 4);
    healthy(fx, 350, 100, 10, 100);  /* 3.5: the override's other side */
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.grades[0].level, 3);
}

/* The highest true stage applies; suspension zeroes the boost and the grants. */
static void test_penalty_ladder(void **state)
{
    fx_t *fx = *state;
    healthy(fx, 480, 100, 7, 100);   /* 7 % is not > 7 % */
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.ladders[0].stage, 0);
    healthy(fx, 480, 100, 8, 100);
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.ladders[0].stage, 1);
    assert_int_equal(fx->a.tier, 1);  /* fast tier needs no penalty */
    healthy(fx, 480, 100, 16, 100);
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.ladders[0].stage, 2);
    assert_false(fx->a.suspended);
    healthy(fx, 480, 100, 31, 100);
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.ladders[0].stage, 3);
    assert_true(fx->a.suspended);
    assert_true(fx->a.withdrawals_held);
    assert_true(fx->a.boost == 0);
}

/* Custom counters, derived metrics and convertible points. */
static void test_custom_and_derived(void **state)
{
    fx_t *fx = *state;
    healthy(fx, 480, 100, 0, 100);
    int w = window_of(fx->r, "90d");
    grading_contrib_t k = {.day = 0, .custom = "bonus", .fvalue = 2.5};
    assert_int_equal(grading_day_counters_apply(&fx->sums[w], &k), GRADING_OK);
    assess(fx->r, fx->sums, &fx->a);
    assert_true(fx->a.metrics[3].value == 2.5);
    assert_true(fx->a.metrics[4].value == 5.0);
    assert_true(fx->a.convertible_points == 5.0);
}

/* Advice: at 4.5 (level 2) the smallest change to reach level 1 is 4.7. */
static void test_advice(void **state)
{
    fx_t *fx = *state;
    healthy(fx, 450, 100, 0, 100);
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(fx->a.grades[0].level, 2);
    grading_advice_t adv[4];
    size_t n = grading_rules_advise(fx->r, 0, &fx->a, adv, 4);
    assert_int_equal(n, 1);
    assert_int_equal(adv[0].metric, 0);
    assert_true(adv[0].target >= 4.7 && adv[0].target < 4.7000001);
    assert_int_equal(adv[0].reaches, 1);
    /* capped by cancels at 5 %: lowering the cancel rate below 5 % lifts it */
    healthy(fx, 480, 100, 5, 100);
    assess(fx->r, fx->sums, &fx->a);
    n = grading_rules_advise(fx->r, 0, &fx->a, adv, 4);
    assert_int_equal(n, 1);
    assert_int_equal(adv[0].metric, 1);
    assert_true(adv[0].target < 0.05 && adv[0].target > 0.0499999);
    /* the best level has no advice */
    healthy(fx, 490, 100, 0, 100);
    assess(fx->r, fx->sums, &fx->a);
    assert_int_equal(grading_rules_advise(fx->r, 0, &fx->a, adv, 4), 0);
}

/* ---- history over closed periods ---- */

static void test_history_fold(void **state)
{
    (void)state;
    grading_history_def_t strikes = {.kind = GRADING_HISTORY_STRIKES, .strike_level = 5, .relief_level = 3};
    bool has;
    double v;
    const int32_t lv[] = {5, 0, 5, 3, 5, 4};
    grading_history_fold(&strikes, lv, NULL, 6, &has, &v);
    assert_true(has && v == 1);   /* the grade 3 voided the two before it */
    /* a grade 3 given for not enough data is no relief: 3 strikes */
    const bool fresh[] = {false, false, false, true, false, false};
    grading_history_fold(&strikes, lv, fresh, 6, &has, &v);
    assert_true(has && v == 3);
    /* no closed period: zero strikes, not unknown */
    const int32_t none[] = {0, 0};
    grading_history_fold(&strikes, none, NULL, 2, &has, &v);
    assert_true(has && v == 0);
    /* a streak counts the latest periods in a row; a missing one breaks it */
    grading_history_def_t streak = {.kind = GRADING_HISTORY_STREAK, .strike_level = 3};
    const int32_t q[] = {3, 3, 1, 3, 3};
    grading_history_fold(&streak, q, NULL, 5, &has, &v);
    assert_true(v == 2);
    const int32_t gap[] = {3, 0, 3};
    grading_history_fold(&streak, gap, NULL, 3, &has, &v);
    assert_true(v == 1);
    /* an average needs min_periods */
    grading_history_def_t avg = {.kind = GRADING_HISTORY_AVERAGE, .min_periods = 3};
    const int32_t a[] = {0, 1, 2};
    grading_history_fold(&avg, a, NULL, 3, &has, &v);
    assert_false(has);
    const int32_t b[] = {1, 1, 2};
    grading_history_fold(&avg, b, NULL, 3, &has, &v);
    assert_true(has && fabs(v - 4.0 / 3) < 1e-12);
}

/* ---- windows ---- */

static void test_windows(void **state)
{
    (void)state;
    grading_window_t w;
    int32_t f, l;
    int32_t d = grading_days_from_civil(2026, 11, 23);
    assert_int_equal(grading_window_parse("90d", &w), GRADING_OK);
    grading_window_range(&w, d, &f, &l);
    assert_int_equal(l - f + 1, 90);
    assert_int_equal(grading_window_parse("prev_month", &w), GRADING_OK);
    grading_window_range(&w, d, &f, &l);
    assert_int_equal(f, grading_days_from_civil(2026, 10, 1));
    assert_int_equal(l, grading_days_from_civil(2026, 10, 31));
    assert_int_equal(grading_window_parse("prev_quarter", &w), GRADING_OK);
    grading_window_range(&w, d, &f, &l);
    assert_int_equal(f, grading_days_from_civil(2026, 7, 1));
    assert_int_equal(l, grading_days_from_civil(2026, 9, 30));
    /* January: the previous quarter is last year's Q4 */
    grading_window_range(&w, grading_days_from_civil(2027, 1, 5), &f, &l);
    assert_int_equal(f, grading_days_from_civil(2026, 10, 1));
    assert_int_equal(l, grading_days_from_civil(2026, 12, 31));
    assert_int_equal(grading_window_parse("quarter", &w), GRADING_OK);
    grading_window_range(&w, d, &f, &l);
    assert_int_equal(f, grading_days_from_civil(2026, 10, 1));
    assert_int_equal(l, d);
    assert_int_equal(grading_window_parse("prev_year", &w), GRADING_OK);
    grading_window_range(&w, d, &f, &l);
    assert_int_equal(f, grading_days_from_civil(2025, 1, 1));
    assert_int_equal(l, grading_days_from_civil(2025, 12, 31));
    /* prev_12m: the 12 whole months before this one (a status judged on
     * completed months) */
    assert_int_equal(grading_window_parse("prev_12m", &w), GRADING_OK);
    assert_int_equal(w.kind, GRADING_WIN_PREV_MONTHS);
    grading_window_range(&w, d, &f, &l);
    assert_int_equal(f, grading_days_from_civil(2025, 11, 1));
    assert_int_equal(l, grading_days_from_civil(2026, 10, 31));
    /* on the 1st the running month holds one day, outside the window */
    grading_window_range(&w, grading_days_from_civil(2026, 12, 1), &f, &l);
    assert_int_equal(f, grading_days_from_civil(2025, 12, 1));
    assert_int_equal(l, grading_days_from_civil(2026, 11, 30));
    /* across a leap February */
    assert_int_equal(grading_window_parse("prev_1m", &w), GRADING_OK);
    grading_window_range(&w, grading_days_from_civil(2028, 3, 31), &f, &l);
    assert_int_equal(f, grading_days_from_civil(2028, 2, 1));
    assert_int_equal(l, grading_days_from_civil(2028, 2, 29));
    assert_int_equal(grading_window_parse("prev_24m", &w), GRADING_OK);
    grading_window_range(&w, d, &f, &l);
    assert_int_equal(f, grading_days_from_civil(2024, 11, 1));
    assert_int_equal(grading_window_parse("prev_25m", &w), GRADING_EINVAL);
    assert_int_equal(grading_window_parse("prev_0m", &w), GRADING_EINVAL);
    assert_int_equal(grading_window_parse("prev_012m", &w), GRADING_EINVAL);
    assert_int_equal(grading_window_parse("prev_m", &w), GRADING_EINVAL);
    assert_int_equal(grading_window_parse("prev_1xm", &w), GRADING_EINVAL);
    assert_int_equal(grading_window_parse("0d", &w), GRADING_EINVAL);
    assert_int_equal(grading_window_parse("801d", &w), GRADING_EINVAL);
    assert_int_equal(grading_window_parse("weekly", &w), GRADING_EINVAL);
    assert_int_equal(grading_window_parse("9x", &w), GRADING_EINVAL);
}

/* ---- bad policies: every error, with file:line:col ---- */

static const char *const HEAD =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: UTC\n"
    "    currency: KRW\n";

/* Loads HEAD + body; asserts it fails with `count` diagnostics, the first
 * of them at `where` and containing `what`. */
static void expect_bad(const char *body, size_t count, const char *where, const char *what)
{
    static char text[8192];
    static grading_policy_diags_t d;
    snprintf(text, sizeof text, "%s%s", HEAD, body);
    grading_policy_t *p = load(text, &d);
    if (p || d.count != count || strcmp(d.diags[0].where, where) != 0 ||
        !strstr(d.diags[0].message, what)) {
        for (size_t i = 0; i < d.count && i < GRADING_POLICY_MAX_DIAGS; i++)
            fprintf(stderr, "  got %s: %s\n", d.diags[i].where, d.diags[i].message);
    }
    assert_null(p);
    assert_int_equal(d.count, count);
    assert_string_equal(d.diags[0].where, where);
    assert_non_null(strstr(d.diags[0].message, what));
}

static void test_bad_unknown_name(void **state)
{
    (void)state;
    expect_bad("    metrics:\n"
               "      r: {window: 30d, numerator: cancels, denominator: ordrs}\n",
               1, "t.yaml:8:57", "unknown name 'ordrs'");
}

static void test_bad_type_error(void **state)
{
    (void)state;
    expect_bad("    metrics:\n"
               "      r: {window: 30d, value: orders}\n"
               "    scores:\n"
               "      s:\n"
               "        bands:\n"
               "          - {when: \"r + 1\", points: 1}\n",
               1, "t.yaml:12:20", "must be a bool expression");
}

static void test_bad_cycle(void **state)
{
    (void)state;
    expect_bad("    metrics:\n"
               "      a: {value: b + 1}\n"
               "      b: {value: c}\n"
               "      c: {value: a * 2}\n",
               1, "t.yaml:8:7", "metric cycle: a -> b -> c -> a");
}

static void test_bad_counter_without_window(void **state)
{
    (void)state;
    expect_bad("    metrics:\n"
               "      a: {value: orders}\n",
               1, "t.yaml:8:18", "add a window");
}

static void test_bad_unreachable(void **state)
{
    (void)state;
    /* level 2 is given by nothing; a rule after `when: true` never runs */
    expect_bad("    programs:\n"
               "      p:\n"
               "        levels: [A, B, C]\n"
               "        grade:\n"
               "          - {level: 1, when: \"true\"}\n"
               "          - {level: 3, when: \"false\"}\n"
               "        new_seller: 3\n",
               2, "t.yaml:12:13", "unreachable");
}

/* SPEC §3: reserved orders never earn plus points. */
static void test_bad_reserved_plus_points(void **state)
{
    (void)state;
    expect_bad("    service_points:\n"
               "      delivery:\n"
               "        normal: [{days_at_most: 3, points: 1}, {points: 0}]\n"
               "        reserved: [{days_at_most: 5, points: 0}, {days_at_most: 9, points: 0.5}, {points: -1}]\n",
               1, "t.yaml:10:50", "reserved orders never earn plus points");
}

/* A yearly selection: over: calendar_year takes a year's periods. */
static void test_history_calendar_year(void **state)
{
    (void)state;
    static char text[4096];
    static grading_policy_diags_t d;
    snprintf(text, sizeof text, "%s%s", HEAD,
             "    metrics:\n"
             "      m: {window: 30d, value: orders}\n"
             "    programs:\n"
             "      p: {levels: [A, B], grade: [{level: 1, when: \"m > 0\"}], otherwise: 2, new_seller: 2}\n"
             "      q: {levels: [A, B], grade: [{level: 1, when: \"m > 0\"}], otherwise: 2, new_seller: 2,"
             " publish: quarter}\n"
             "    history:\n"
             "      yearly: {program: p, average: level, over: calendar_year, min_periods: 12}\n"
             "      rolling: {program: p, average: level, over: 12}\n"
             "      quarters: {program: q, average: level, over: calendar_year}\n");
    grading_policy_t *p = load(text, &d);
    for (size_t i = 0; i < d.count && i < GRADING_POLICY_MAX_DIAGS; i++)
        fprintf(stderr, "%s: %s\n", d.diags[i].where, d.diags[i].message);
    assert_non_null(p);
    const grading_rules_t *r = rules_of(p);
    assert_int_equal(r->nhistory, 3);
    assert_true(r->history[0].calendar_year);
    assert_int_equal(r->history[0].over, 12);
    assert_false(r->history[1].calendar_year);
    assert_true(r->history[2].calendar_year);
    assert_int_equal(r->history[2].over, 4);
    grading_policy_unref(p);
    /* anything else is still a number of periods */
    expect_bad("    metrics:\n"
               "      m: {window: 30d, value: orders}\n"
               "    programs:\n"
               "      p: {levels: [A, B], grade: [{level: 1, when: \"m > 0\"}], otherwise: 2, new_seller: 2}\n"
               "    history:\n"
               "      yearly: {program: p, average: level, over: last_year}\n",
               1, "t.yaml:12:50", "or calendar_year, got \"last_year\"");
}

static void test_bad_many_errors_all_reported(void **state)
{
    (void)state;
    static char text[4096];
    static grading_policy_diags_t d;
    snprintf(text, sizeof text, "%s%s", HEAD,
             "    metrics:\n"
             "      x: {window: 7w, value: orders}\n"               /* bad window */
             "      orders: {window: 7d, value: orders}\n"          /* reserved name */
             "    penalties:\n"
             "      l:\n"
             "        - {stage: 1, name: a, when: \"x > 1\", restrictions: [jail]}\n"  /* unknown kind */
             "        - {stage: 2, name: b, when: \"x > 2\", restrictions: [listing_cap]}\n" /* no limit */
             "    benefits:\n"
             "      boost: \"x > 1\"\n");                       /* bool, not number */
    assert_null(load(text, &d));
    assert_int_equal(d.count, 5);
    assert_non_null(strstr(d.diags[0].message, "reserved"));
    assert_string_equal(d.diags[1].where, "t.yaml:8:19");
    assert_non_null(strstr(d.diags[1].message, "window \"7w\""));
    assert_non_null(strstr(d.diags[2].message, "restriction \"jail\""));
    assert_non_null(strstr(d.diags[3].message, "listing_cap needs limit"));
    assert_non_null(strstr(d.diags[4].message, "boost must be a number expression"));
}

static void test_bad_mixed_bands_and_keys(void **state)
{
    (void)state;
    expect_bad("    scores:\n"
               "      s:\n"
               "        bands:\n"
               "          - {points: 1, colour: red}\n",
               1, "t.yaml:10:25", "unknown key \"colour\"");
    expect_bad("    metrics:\n"
               "      r: {window: 30d, value: orders}\n"
               "    scores:\n"
               "      s:\n"
               "        bands:\n"
               "          - {when: \"r > 1\", points: 1}\n"
               "          - {verdict: fit}\n",
               1, "t.yaml:13:13", "every band gives points");
}

/* ---- points that expire, stages that last N days (issue 15 §4) ---- */

/* expire_after: whole days 1..800 written Nd; anything else is refused
 * where it is written. */
static void test_bad_expire_after(void **state)
{
    (void)state;
    expect_bad("    service_points:\n"
               "      expire_after: 0d\n",
               1, "t.yaml:8:21", "expire_after must be Nd with N from 1 to 800");
    expect_bad("    service_points:\n"
               "      expire_after: -90d\n",
               1, "t.yaml:8:21", "got \"-90d\"");
    expect_bad("    service_points:\n"
               "      expire_after: 90\n",
               1, "t.yaml:8:21", "like 28d");
    expect_bad("    service_points:\n"
               "      expire_after: month\n",
               1, "t.yaml:8:21", "expire_after must be Nd");
    expect_bad("    service_points:\n"
               "      expire_after: 801d\n",
               1, "t.yaml:8:21", "from 1 to 800");
    /* points.active exists only where points expire */
    expect_bad("    service_points: {seller_fault_claim: -3}\n"
               "    programs:\n"
               "      p:\n"
               "        levels: [A, B]\n"
               "        grade:\n"
               "          - {level: 1, when: \"points.active >= 0\"}\n"
               "        otherwise: 2\n"
               "        new_seller: 1\n",
               1, "t.yaml:12:31", "unknown name 'points.active'");
}

/* lasts: whole days 1..180 written Nd, on a stage with a condition. */
static void test_bad_lasts(void **state)
{
    (void)state;
    expect_bad("    metrics:\n"
               "      r: {window: 30d, value: orders}\n"
               "    penalties:\n"
               "      l:\n"
               "        - {stage: 1, name: a, when: \"r > 1\", lasts: 0d}\n",
               1, "t.yaml:11:53", "lasts must be Nd with N from 1 to 180");
    expect_bad("    metrics:\n"
               "      r: {window: 30d, value: orders}\n"
               "    penalties:\n"
               "      l:\n"
               "        - {stage: 1, name: a, when: \"r > 1\", lasts: -28d}\n",
               1, "t.yaml:11:53", "got \"-28d\"");
    expect_bad("    metrics:\n"
               "      r: {window: 30d, value: orders}\n"
               "    penalties:\n"
               "      l:\n"
               "        - {stage: 1, name: a, when: \"r > 1\", lasts: 181d}\n",
               1, "t.yaml:11:53", "from 1 to 180");
    expect_bad("    metrics:\n"
               "      r: {window: 30d, value: orders}\n"
               "    penalties:\n"
               "      l:\n"
               "        - {stage: 1, name: a, when: \"r > 1\", lasts: 4 weeks}\n",
               1, "t.yaml:11:53", "like 28d");
    expect_bad("    penalties:\n"
               "      l:\n"
               "        - {stage: 1, name: a, lasts: 28d}\n",
               1, "t.yaml:9:38", "lasts needs the stage's condition (when)");
}

/* The core half of a lasting stage: every true condition is reported
 * (held), a lapsed stage does not apply, the next lower true one does,
 * and the benefits follow what applies. */
static void test_lapsed_stage_applies_the_lower(void **state)
{
    fx_t *fx = *state;
    grading_history_t h;
    grading_error_t e = {0};
    memset(&h, 0, sizeof h);
    healthy(fx, 480, 100, 31, 100);   /* stages 1, 2 and 3 all true */
    assert_int_equal(grading_rules_assess_with(fx->r, fx->sums, &h, &fx->a, &e), GRADING_OK);
    assert_int_equal(fx->a.ladders[0].stage, 3);
    assert_int_equal(fx->a.ladders[0].held, 0x7);
    assert_true(fx->a.suspended);
    h.lapsed[0] = 0x4;                /* stage 3 lapsed */
    assert_int_equal(grading_rules_assess_with(fx->r, fx->sums, &h, &fx->a, &e), GRADING_OK);
    assert_int_equal(fx->a.ladders[0].stage, 2);
    assert_int_equal(fx->a.ladders[0].held, 0x7);
    assert_false(fx->a.suspended);
    assert_false(fx->a.withdrawals_held);
    assert_true(fx->a.boost > 0);
    h.lapsed[0] = 0x7;                /* all lapsed: no stage, the fast tier back */
    assert_int_equal(grading_rules_assess_with(fx->r, fx->sums, &h, &fx->a, &e), GRADING_OK);
    assert_int_equal(fx->a.ladders[0].stage, 0);
    assert_null(fx->a.ladders[0].def);
    h.lapsed[0] = 0x2;                /* a lapsed stage below the one that applies changes nothing */
    assert_int_equal(grading_rules_assess_with(fx->r, fx->sums, &h, &fx->a, &e), GRADING_OK);
    assert_int_equal(fx->a.ladders[0].stage, 3);
}

/* A lasting stage and expiring points load, with their numbers. */
static void test_lasts_and_expiry_load(void **state)
{
    (void)state;
    static char text[8192];
    static grading_policy_diags_t d;
    snprintf(text, sizeof text, "%s%s", HEAD,
             "    service_points: {seller_fault_claim: -3, expire_after: 90d}\n"
             "    penalties:\n"
             "      l:\n"
             "        - {stage: 1, name: a, when: \"points.active <= -6\", lasts: 28d}\n"
             "        - {stage: 2, name: b, when: \"points.active <= -12\"}\n");
    grading_policy_t *p = load(text, &d);
    for (size_t i = 0; i < d.count && i < GRADING_POLICY_MAX_DIAGS; i++)
        fprintf(stderr, "%s: %s\n", d.diags[i].where, d.diags[i].message);
    assert_non_null(p);
    const grading_rules_t *r = rules_of(p);
    assert_int_equal(r->points.expire_after_days, 90);
    assert_int_equal(r->ladders[0].stages[0].lasts_days, 28);
    assert_int_equal(r->ladders[0].stages[1].lasts_days, 0);
    grading_policy_unref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loads_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_both_sides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_enough_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_and_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_penalty_ladder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_and_derived, setup, teardown),
        cmocka_unit_test_setup_teardown(test_advice, setup, teardown),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_history_fold),
        cmocka_unit_test(test_bad_unknown_name),
        cmocka_unit_test(test_bad_type_error),
        cmocka_unit_test(test_bad_cycle),
        cmocka_unit_test(test_bad_counter_without_window),
        cmocka_unit_test(test_bad_unreachable),
        cmocka_unit_test(test_bad_many_errors_all_reported),
        cmocka_unit_test(test_bad_reserved_plus_points),
        cmocka_unit_test(test_history_calendar_year),
        cmocka_unit_test(test_bad_mixed_bands_and_keys),
        cmocka_unit_test(test_bad_expire_after),
        cmocka_unit_test(test_bad_lasts),
        cmocka_unit_test_setup_teardown(test_lapsed_stage_applies_the_lower, setup, teardown),
        cmocka_unit_test(test_lasts_and_expiry_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
