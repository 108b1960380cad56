/* gradectl close, history and forecast (src/cli/cmd_close.c, cmd_history.c, cmd_forecast.c):
 * the bar chart, the share column, the period check, the sparkline, the
 * locale test and the trend word as pure functions; the whole human
 * output of both commands from replies built here; the commands' usage
 * errors (exit 2, naming the bad argument) and a failed call (exit 1).
 *
 * gradectl's sources are a program, not a library, so this test compiles
 * the ones the commands need into itself (the #includes of .c files below)
 * and reaches their static functions directly. The only network use is a
 * call to a closed port on 127.0.0.1, which fails at once. */
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
#include "../../src/cli/query.c"
#include "../../src/cli/cmd_close.c"
#include "../../src/cli/cmd_history.c"
#include "../../src/cli/cmd_forecast.c"

/* ---- capturing a FILE ---- */

typedef struct {
    FILE *f;
    char *buf;
    size_t len;
} capture_t;

static void capture_begin(capture_t *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

/* The text written; the caller frees it. */
static char *capture_end(capture_t *c)
{
    assert_int_equal(fclose(c->f), 0);
    assert_non_null(c->buf);
    return c->buf;
}

/* ---- the bar chart and the shares ---- */

static void test_bars_scale_to_the_largest_count(void **state)
{
    (void)state;
    assert_int_equal(close_bar_width(0, 10, 40), 0);
    assert_int_equal(close_bar_width(5, 0, 40), 0);    /* no largest: nothing to draw */
    assert_int_equal(close_bar_width(10, 10, 40), 40);
    assert_int_equal(close_bar_width(5, 10, 40), 20);
    assert_int_equal(close_bar_width(2, 3, 40), 27);   /* 26.67 rounds up */
    assert_int_equal(close_bar_width(1, 3, 40), 13);   /* 13.33 rounds down */
    assert_int_equal(close_bar_width(1, 1000000, 40), 1);   /* never invisible */
    /* no overflow with counts near the uint32 limit */
    assert_int_equal(close_bar_width(UINT32_MAX / 2, UINT32_MAX, 40), 20);
    assert_int_equal(close_bar_width(UINT32_MAX - 1, UINT32_MAX, 40), 40);
}

static void test_a_bar_ends_with_its_count(void **state)
{
    (void)state;
    char buf[64], want[64];
    close_format_bar(0, 7, buf, sizeof buf);
    assert_string_equal(buf, "0");
    close_format_bar(1, 4, buf, sizeof buf);
    assert_string_equal(buf, "########## 1");
    close_format_bar(7, 7, buf, sizeof buf);
    memset(want, '#', 40);
    snprintf(want + 40, sizeof want - 40, " 7");
    assert_string_equal(buf, want);
    assert_int_equal(strspn(buf, "#"), CLOSE_BAR_WIDTH);
    /* a short buffer truncates rather than overruns */
    char tiny[6];
    close_format_bar(7, 7, tiny, sizeof tiny);
    assert_string_equal(tiny, "#####");
}

static void test_shares_have_one_decimal_and_a_dash_for_none(void **state)
{
    (void)state;
    char buf[16];
    close_format_share(1, 3, buf, sizeof buf);
    assert_string_equal(buf, "33.3");
    close_format_share(2, 3, buf, sizeof buf);
    assert_string_equal(buf, "66.7");
    close_format_share(0, 5, buf, sizeof buf);
    assert_string_equal(buf, "0.0");
    close_format_share(5, 5, buf, sizeof buf);
    assert_string_equal(buf, "100.0");
    close_format_share(0, 0, buf, sizeof buf);
    assert_string_equal(buf, "-");
}

static void test_periods_are_checked_for_their_kind(void **state)
{
    (void)state;
    char out[GRADING_PERIOD_NAME_MAX], why[GRADING_ERROR_MSG_MAX + 64];
    assert_int_equal(close_check_period(GRADING_PERIOD_MONTH, "2026-10", out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, "2026-10");
    assert_int_equal(close_check_period(GRADING_PERIOD_QUARTER, "2026-q3", out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, "2026-Q3");
    assert_int_equal(close_check_period(GRADING_PERIOD_YEAR, "2026", out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, "2026");

    static const struct {
        grading_period_kind_t kind;
        const char *text;
    } bad[] = {
        {GRADING_PERIOD_MONTH, "2026-13"}, {GRADING_PERIOD_MONTH, "2026-1"},   {GRADING_PERIOD_MONTH, "2026-Q3"},
        {GRADING_PERIOD_MONTH, ""},        {GRADING_PERIOD_QUARTER, "2026-Q5"}, {GRADING_PERIOD_QUARTER, "2026-10"},
        {GRADING_PERIOD_YEAR, "26"},       {GRADING_PERIOD_YEAR, "2026-10"},   {GRADING_PERIOD_YEAR, "1999"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        assert_int_equal(close_check_period(bad[i].kind, bad[i].text, out, sizeof out, why, sizeof why), -1);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "PERIOD \"%s\"", bad[i].text);
        assert_non_null(strstr(why, quoted));
        assert_non_null(strstr(why, grading_period_kind_name(bad[i].kind)));
    }
    char longer[100];
    memset(longer, '9', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(close_check_period(GRADING_PERIOD_YEAR, longer, out, sizeof out, why, sizeof why), -1);
    assert_non_null(strstr(why, "too long"));
}

/* ---- the close's output ---- */

#define MAX_COUNTS 8

typedef struct {
    Grading__V1__ClosePeriodResponse r;
    Grading__V1__GradeCount c[MAX_COUNTS];
    Grading__V1__GradeCount *p[MAX_COUNTS];
} close_reply_t;

static void close_reply_add(close_reply_t *x, const char *program, int level, const char *label, uint32_t sellers)
{
    size_t i = x->r.n_distribution++;
    assert_true(i < MAX_COUNTS);
    grading__v1__grade_count__init(&x->c[i]);
    x->c[i].program = (char *)program;
    x->c[i].level = level;
    x->c[i].label = (char *)label;
    x->c[i].sellers = sellers;
    x->p[i] = &x->c[i];
    x->r.distribution = x->p;
}

static char *close_output(const close_reply_t *x, const char *marketplace, bool dry_run)
{
    capture_t c;
    capture_begin(&c);
    assert_int_equal(close_print(&x->r, "month", "2026-10", marketplace, dry_run, c.f), CLI_EXIT_OK);
    return capture_end(&c);
}

static void test_close_prints_a_table_and_a_chart_per_programme(void **state)
{
    (void)state;
    close_reply_t x = {.r = GRADING__V1__CLOSE_PERIOD_RESPONSE__INIT};
    x.r.sellers_evaluated = 4;
    /* interleaved on purpose: the output groups by programme */
    close_reply_add(&x, "sales", 1, "Gold", 1);
    close_reply_add(&x, "service", 1, "", 0);
    close_reply_add(&x, "sales", 2, "Silver", 3);
    close_reply_add(&x, "service", 2, "", 4);
    close_reply_add(&x, "sales", 3, "Bronze", 0);
    char *out = close_output(&x, "testmart", false);
    const char *want =
        "closed month 2026-10 of testmart: 4 sellers evaluated\n"
        "\n"
        "sales\n"
        "  level  label   sellers  share %\n"
        "      1  Gold          1     25.0\n"
        "      2  Silver        3     75.0\n"
        "      3  Bronze        0      0.0\n"
        "\n"
        "  1  Gold    ############# 1\n"
        "  2  Silver  ######################################## 3\n"
        "  3  Bronze  0\n"
        "\n"
        "service\n"
        "  level  label  sellers  share %\n"
        "      1  -            0      0.0\n"
        "      2  -            4    100.0\n"
        "\n"
        "  1  -  0\n"
        "  2  -  ######################################## 4\n";
    assert_string_equal(out, want);
    free(out);
}

static void test_close_says_already_closed_dry_run_and_the_default(void **state)
{
    (void)state;
    close_reply_t x = {.r = GRADING__V1__CLOSE_PERIOD_RESPONSE__INIT};
    x.r.sellers_evaluated = 1;
    close_reply_add(&x, "q", 1, "A", 1);

    char *out = close_output(&x, NULL, true);
    assert_non_null(strstr(out, "dry run: nothing written; month 2026-10 of the default marketplace would close "
                                "with 1 seller evaluated\n"));
    free(out);

    x.r.already_closed = true;
    out = close_output(&x, "testmart", true);   /* already closed wins over the dry run */
    assert_non_null(strstr(out, "already closed: month 2026-10 of testmart, 1 seller evaluated when it closed; "
                                "nothing changed\n"));
    assert_null(strstr(out, "dry run"));
    free(out);
}

static void test_close_without_sellers_or_programmes(void **state)
{
    (void)state;
    close_reply_t x = {.r = GRADING__V1__CLOSE_PERIOD_RESPONSE__INIT};
    char *out = close_output(&x, "m", false);
    assert_string_equal(out, "closed month 2026-10 of m: 0 sellers evaluated\n\n"
                             "(the policy defines no grading programmes for this marketplace)\n");
    free(out);

    close_reply_add(&x, "q", 1, "A", 0);
    close_reply_add(&x, "q", 2, "B", 0);
    out = close_output(&x, "m", false);
    /* shares of nothing are "-" and there is no chart of empty bars */
    assert_string_equal(out, "closed month 2026-10 of m: 0 sellers evaluated\n\n"
                             "q\n"
                             "  level  label  sellers  share %\n"
                             "      1  A            0        -\n"
                             "      2  B            0        -\n");
    free(out);
}

/* ---- the sparkline and the trend ---- */

static void test_the_locale_decides_utf8_in_posix_order(void **state)
{
    (void)state;
    assert_true(history_utf8_locale(NULL, NULL, "en_US.UTF-8"));
    assert_true(history_utf8_locale(NULL, NULL, "C.utf8"));
    assert_true(history_utf8_locale("ko_KR.utf-8", NULL, NULL));
    assert_true(history_utf8_locale("", "C.UTF-8", "C"));       /* an empty LC_ALL does not count */
    assert_false(history_utf8_locale("C", "C.UTF-8", "en_US.UTF-8"));   /* LC_ALL wins */
    assert_false(history_utf8_locale(NULL, "POSIX", "en_US.UTF-8"));    /* then LC_CTYPE */
    assert_false(history_utf8_locale(NULL, NULL, "C"));
    assert_false(history_utf8_locale(NULL, NULL, "en_US.ISO-8859-1"));
    assert_false(history_utf8_locale(NULL, NULL, NULL));
}

static void test_the_best_level_present_is_the_tallest(void **state)
{
    (void)state;
    assert_int_equal(history_height(1, 1, 3), 7);
    assert_int_equal(history_height(3, 1, 3), 0);
    assert_int_equal(history_height(2, 1, 3), 4);   /* 3.5 rounds up */
    assert_int_equal(history_height(1, 1, 8), 7);
    for (int l = 1; l <= 8; l++) assert_int_equal(history_height(l, 1, 8), 8 - l);   /* one block a level */
    assert_int_equal(history_height(2, 2, 2), 3);   /* one level: flat, mid height */
    assert_int_equal(history_height(2, 2, 5), 7);   /* the range is the levels present */
    assert_int_equal(history_height(5, 2, 5), 0);
}

static void test_sparklines_in_unicode_and_ascii(void **state)
{
    (void)state;
    char buf[64];
    const int32_t up[] = {3, 2, 1};
    assert_int_equal(history_sparkline(up, 3, true, buf, sizeof buf), 0);
    assert_string_equal(buf, "\xe2\x96\x81\xe2\x96\x85\xe2\x96\x88");   /* ▁▅█ */
    assert_int_equal(history_sparkline(up, 3, false, buf, sizeof buf), 0);
    assert_string_equal(buf, "_=#");

    const int32_t flat[] = {2, 2, 2, 2};
    assert_int_equal(history_sparkline(flat, 4, true, buf, sizeof buf), 0);
    assert_string_equal(buf, "\xe2\x96\x84\xe2\x96\x84\xe2\x96\x84\xe2\x96\x84");   /* ▄▄▄▄ */
    assert_int_equal(history_sparkline(flat, 4, false, buf, sizeof buf), 0);
    assert_string_equal(buf, "----");

    const int32_t five[] = {1, 5, 3, 2, 4};
    assert_int_equal(history_sparkline(five, 5, false, buf, sizeof buf), 0);
    assert_string_equal(buf, "#_=+,");   /* heights 7, 0, 3.5 -> 4, 5.25 -> 5, 1.75 -> 2 */

    assert_int_equal(history_sparkline(up, 0, true, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    /* too small a buffer fails rather than truncates a character */
    char small[7];
    assert_int_equal(history_sparkline(up, 3, true, small, sizeof small), -1);
    assert_int_equal(history_sparkline(up, 3, false, small, 3), -1);
    assert_int_equal(history_sparkline(up, 3, false, small, 4), 0);
    assert_string_equal(small, "_=#");
}

static void test_the_trend_compares_the_last_period_with_the_first(void **state)
{
    (void)state;
    assert_string_equal(history_trend(3, 1), "improving");
    assert_string_equal(history_trend(1, 2), "worsening");
    assert_string_equal(history_trend(2, 2), "steady");
}

static void test_periods_flag_takes_1_to_120(void **state)
{
    (void)state;
    uint32_t n = 0;
    assert_int_equal(history_parse_periods("1", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(history_parse_periods("120", &n), 0);
    assert_int_equal(n, 120);
    const char *bad[] = {"0", "121", "-1", "+3", " 3", "3x", "", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(history_parse_periods(bad[i], &n), -1);
}

/* ---- the history's output ---- */

#define MAX_GRADES 8

typedef struct {
    Grading__V1__GradeHistory h;
    Grading__V1__PeriodGrade pg[MAX_GRADES];
    Grading__V1__Grade g[MAX_GRADES];
    Grading__V1__PeriodGrade *p[MAX_GRADES];
} history_reply_t;

static void history_reply_add(history_reply_t *x, const char *period, const char *program, int level,
                              const char *label, double score)
{
    size_t i = x->h.n_grades++;
    assert_true(i < MAX_GRADES);
    grading__v1__period_grade__init(&x->pg[i]);
    grading__v1__grade__init(&x->g[i]);
    x->g[i].level = level;
    x->g[i].label = (char *)label;
    x->g[i].score = score;
    x->g[i].period = (char *)period;
    x->pg[i].period = (char *)period;
    x->pg[i].program = (char *)program;
    x->pg[i].grade = &x->g[i];
    x->p[i] = &x->pg[i];
    x->h.grades = x->p;
}

static char *history_output(const history_reply_t *x, bool utf8)
{
    capture_t c;
    capture_begin(&c);
    assert_int_equal(history_print(&x->h, utf8, c.f), CLI_EXIT_OK);
    return capture_end(&c);
}

static void test_history_prints_a_table_and_a_trend_per_programme(void **state)
{
    (void)state;
    history_reply_t x = {.h = GRADING__V1__GRADE_HISTORY__INIT};
    history_reply_add(&x, "2026-08", "sales", 3, "Bronze", 12.5);
    history_reply_add(&x, "2026-08", "service", 1, "", 0);
    history_reply_add(&x, "2026-09", "sales", 2, "Silver", 40);
    history_reply_add(&x, "2026-09", "service", 2, "", 0);
    history_reply_add(&x, "2026-10", "sales", 1, "Gold", 88.25);
    history_reply_add(&x, "2026-10", "service", 2, "", 0);

    char *out = history_output(&x, false);
    const char *want = "sales\n"
                       "  period   level  label   score\n"
                       "  2026-08      3  Bronze   12.5\n"
                       "  2026-09      2  Silver     40\n"
                       "  2026-10      1  Gold    88.25\n"
                       "  trend  _=#  improving (level 3 -> 1 over 3 periods)\n"
                       "\n"
                       "service\n"
                       "  period   level  label  score\n"
                       "  2026-08      1  -          0\n"
                       "  2026-09      2  -          0\n"
                       "  2026-10      2  -          0\n"
                       "  trend  #__  worsening (level 1 -> 2 over 3 periods)\n";
    assert_string_equal(out, want);
    free(out);

    out = history_output(&x, true);
    assert_non_null(strstr(out, "  trend  \xe2\x96\x81\xe2\x96\x85\xe2\x96\x88  improving (level 3 \xe2\x86\x92 1 "
                                "over 3 periods)\n"));
    assert_non_null(strstr(out, "  trend  \xe2\x96\x88\xe2\x96\x81\xe2\x96\x81  worsening (level 1 \xe2\x86\x92 2 "
                                "over 3 periods)\n"));
    free(out);
}

static void test_history_of_one_period_or_none(void **state)
{
    (void)state;
    history_reply_t x = {.h = GRADING__V1__GRADE_HISTORY__INIT};
    char *out = history_output(&x, true);
    assert_string_equal(out, "no closed periods\n");
    free(out);

    history_reply_add(&x, "2026-Q3", "quality", 2, "Silver", 0);
    out = history_output(&x, false);
    assert_string_equal(out, "quality\n"
                             "  period   level  label   score\n"
                             "  2026-Q3      2  Silver      0\n"
                             "  trend  -  steady (one period, level 2)\n");
    free(out);

    /* a later period at the same level: steady, flat */
    history_reply_add(&x, "2026-Q4", "quality", 2, "Silver", 0);
    out = history_output(&x, false);
    assert_non_null(strstr(out, "  trend  --  steady (level 2 -> 2 over 2 periods)\n"));
    free(out);
}

/* ---- the commands ---- */

/* Runs a command with stdout and stderr captured; returns its exit code
 * and, in *err (caller frees), what it wrote to stderr. */
static int run_captured(const cli_command_t *cmd, cli_ctx_t *ctx, int argc, char **argv, char **err)
{
    char out_path[] = "/tmp/grading-test-cli-close-out-XXXXXX";
    char err_path[] = "/tmp/grading-test-cli-close-err-XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    assert_true(out_fd >= 0 && err_fd >= 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    assert_true(saved_out >= 0 && saved_err >= 0);
    assert_true(dup2(out_fd, 1) >= 0 && dup2(err_fd, 2) >= 0);
    int rc = cmd->run(ctx, cmd, argc, argv);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved_out, 1) >= 0 && dup2(saved_err, 2) >= 0);
    close(saved_out);
    close(saved_err);

    off_t n = lseek(err_fd, 0, SEEK_END);
    assert_true(n >= 0);
    *err = calloc((size_t)n + 1, 1);
    assert_non_null(*err);
    assert_int_equal(pread(err_fd, *err, (size_t)n, 0), n);
    close(out_fd);
    close(err_fd);
    unlink(out_path);
    unlink(err_path);
    return rc;
}

/* A usage error: exit 2, no call made, stderr names what was wrong. */
static void expect_usage(const cli_command_t *cmd, int argc, char **argv, const char *names)
{
    cli_ctx_t ctx = {.addr = "127.0.0.1:1"};
    char *err = NULL;
    assert_int_equal(run_captured(cmd, &ctx, argc, argv, &err), CLI_EXIT_USAGE);
    if (!strstr(err, names)) fail_msg("stderr \"%s\" does not name \"%s\"", err, names);
    assert_non_null(strstr(err, "usage: gradectl "));
    assert_null(ctx.client);   /* nothing was sent */
    free(err);
}

static void test_close_usage_errors_exit_2_naming_the_argument(void **state)
{
    (void)state;
    char *none[] = {"close"};
    char *no_period[] = {"close", "month"};
    char *kind[] = {"close", "week", "2026-10"};
    char *month[] = {"close", "month", "2026-13"};
    char *quarter[] = {"close", "QUARTER", "2026-10"};
    char *extra[] = {"close", "month", "2026-10", "2026-11"};
    char *flag[] = {"close", "month", "2026-10", "--force"};
    char *empty_mp[] = {"close", "month", "2026-10", "--marketplace="};
    char *dry_value[] = {"close", "month", "2026-10", "--dry-run=yes"};
    expect_usage(&cli_cmd_close, 1, none, "missing KIND");
    expect_usage(&cli_cmd_close, 2, no_period, "missing PERIOD");
    expect_usage(&cli_cmd_close, 3, kind, "KIND \"week\"");
    expect_usage(&cli_cmd_close, 3, month, "PERIOD \"2026-13\" is not a month");
    expect_usage(&cli_cmd_close, 3, quarter, "PERIOD \"2026-10\" is not a quarter");
    expect_usage(&cli_cmd_close, 4, extra, "\"2026-11\"");
    expect_usage(&cli_cmd_close, 4, flag, "--force");
    expect_usage(&cli_cmd_close, 4, empty_mp, "--marketplace");
    expect_usage(&cli_cmd_close, 4, dry_value, "--dry-run");
}

static void test_history_usage_errors_exit_2_naming_the_argument(void **state)
{
    (void)state;
    char *none[] = {"history"};
    char *empty[] = {"history", ""};
    char *kind[] = {"history", "s1", "--kind", "week"};
    char *periods[] = {"history", "s1", "--periods", "0"};
    char *many[] = {"history", "s1", "--periods=121"};
    char *as_of[] = {"history", "s1", "--as-of", "yesterday"};
    char *two[] = {"history", "s1", "s2"};
    expect_usage(&cli_cmd_history, 1, none, "missing SELLER");
    expect_usage(&cli_cmd_history, 2, empty, "SELLER");
    expect_usage(&cli_cmd_history, 4, kind, "--kind \"week\"");
    expect_usage(&cli_cmd_history, 4, periods, "--periods \"0\"");
    expect_usage(&cli_cmd_history, 3, many, "--periods \"121\"");
    expect_usage(&cli_cmd_history, 4, as_of, "--as-of");
    expect_usage(&cli_cmd_history, 3, two, "\"s2\"");
}

/* A forecast reply of 62 days: two blocks of the chart; "service" changes
 * on the last day (the second block), "sales" holds. */
#define FC_DAYS 62
typedef struct {
    Grading__V1__GradeForecast f;
    Grading__V1__ProgramForecast pf[2], *pfs[2];
    Grading__V1__ForecastDay d[2][FC_DAYS], *dp[2][FC_DAYS];
    char dates[FC_DAYS][11];
    Grading__V1__ForecastChange change;
    Grading__V1__ForecastThreshold th, *ths[1];
} forecast_reply_t;

static void forecast_reply(forecast_reply_t *x)
{
    memset(x, 0, sizeof *x);
    grading__v1__grade_forecast__init(&x->f);
    x->f.seller_id = "s1";
    x->f.marketplace = "m";
    x->f.days = FC_DAYS;
    x->f.max_events = 100;
    static const char *const names[] = {"service", "sales"};
    for (int p = 0; p < 2; p++) {
        grading__v1__program_forecast__init(&x->pf[p]);
        x->pf[p].program = (char *)names[p];
        x->pf[p].level = 2;
        x->pf[p].label = "Warning";
        for (int i = 0; i < FC_DAYS; i++) {
            snprintf(x->dates[i], sizeof x->dates[i], "2026-%02d-%02d", 11 + i / 30, i % 30 + 1);   /* 30-day months */
            grading__v1__forecast_day__init(&x->d[p][i]);
            x->d[p][i].date = x->dates[i];
            x->d[p][i].level = p == 0 && i >= 61 ? 1 : 2;
            x->d[p][i].label = p == 0 && i >= 61 ? "Good" : "Warning";
            x->dp[p][i] = &x->d[p][i];
        }
        x->pf[p].n_days = FC_DAYS;
        x->pf[p].days = x->dp[p];
        x->pf[p].message = p == 0 ? "back to Good (level 1) on X" : "holds at Warning (level 2) for the next 62 days";
        x->pfs[p] = &x->pf[p];
    }
    grading__v1__forecast_change__init(&x->change);
    x->change.date = x->dates[61];
    x->pf[0].change = &x->change;
    grading__v1__forecast_threshold__init(&x->th);
    x->th.level = 3;
    x->th.label = "Bad";
    x->th.message = "2 more late shipments today -> Bad (level 3)";
    x->ths[0] = &x->th;
    x->pf[0].thresholds = x->ths;
    x->pf[0].n_thresholds = 1;
    x->f.programs = x->pfs;
    x->f.n_programs = 2;
}

static void test_forecast_draws_a_row_per_programme_and_marks_the_change(void **state)
{
    (void)state;
    forecast_reply_t *x = malloc(sizeof *x);
    assert_non_null(x);
    forecast_reply(x);
    capture_t c;
    capture_begin(&c);
    forecast_write(&x->f, c.f);
    char *out = capture_end(&c);
    char twos[61];
    memset(twos, '2', 60);
    twos[60] = 0;
    char want[1024];
    snprintf(want, sizeof want,
             "forecast of s1 (m) for the 62 days from 2026-11-01 if no new events arrive; level per day, 1 is best\n"
             "         now  11-01 .. 12-30\n"
             "service  2    %s\n"
             "sales    2    %s\n"
             "         now  13-01 .. 13-02\n"
             "service  2    21\n"
             "               ^ 2026-13-02\n"
             "sales    2    22\n"
             "service: 2=Warning 1=Good 3=Bad\n"
             "  back to Good (level 1) on X\n"
             "  2 more late shipments today -> Bad (level 3)\n"
             "sales: 2=Warning\n"
             "  holds at Warning (level 2) for the next 62 days\n"
             "  no 100 events of one kind today move it\n",
             twos, twos);
    assert_string_equal(out, want);
    free(out);
    /* levels from 10 are letters */
    assert_int_equal(level_char(9), '9');
    assert_int_equal(level_char(10), 'A');
    assert_int_equal(level_char(0), '?');
    free(x);
}

static void test_forecast_usage_errors_exit_2_naming_the_argument(void **state)
{
    (void)state;
    char *none[] = {"forecast"};
    char *zero[] = {"forecast", "s1", "--days", "0"};
    char *many[] = {"forecast", "s1", "--days=401"};
    char *word[] = {"forecast", "s1", "--days", "ten"};
    char *as_of[] = {"forecast", "s1", "--as-of", "tomorrow"};
    char *two[] = {"forecast", "s1", "s2"};
    expect_usage(&cli_cmd_forecast, 1, none, "missing SELLER");
    expect_usage(&cli_cmd_forecast, 4, zero, "--days \"0\" is not a whole number from 1 to 400");
    expect_usage(&cli_cmd_forecast, 3, many, "--days \"401\"");
    expect_usage(&cli_cmd_forecast, 4, word, "--days \"ten\"");
    expect_usage(&cli_cmd_forecast, 4, as_of, "--as-of");
    expect_usage(&cli_cmd_forecast, 3, two, "\"s2\"");
}

/* A call to a closed loopback port fails at once: exit 3 ("could not
 * reach the server", not 1 "the server said no") with the status.
 * close waits 30 minutes by default and keeps a --timeout-ms given. */
static void test_unreachable_calls_exit_3_and_close_takes_a_long_deadline(void **state)
{
    (void)state;
    char *close_args[] = {"close", "month", "2026-10"};
    char *history_args[] = {"history", "s1", "--kind", "Year"};
    char *err = NULL;

    cli_ctx_t ctx = {.addr = "127.0.0.1:1"};
    assert_int_equal(run_captured(&cli_cmd_close, &ctx, 3, close_args, &err), CLI_EXIT_UNREACHABLE);
    assert_non_null(strstr(err, "UNAVAILABLE"));
    assert_true(ctx.timeout_ms == CLOSE_DEFAULT_TIMEOUT_MS);
    free(err);
    grading_client_free(ctx.client);

    cli_ctx_t given = {.addr = "127.0.0.1:1", .timeout_ms = 2000};
    assert_int_equal(run_captured(&cli_cmd_close, &given, 3, close_args, &err), CLI_EXIT_UNREACHABLE);
    assert_true(given.timeout_ms == 2000);
    free(err);
    grading_client_free(given.client);

    cli_ctx_t h = {.addr = "127.0.0.1:1", .timeout_ms = 2000};
    assert_int_equal(run_captured(&cli_cmd_history, &h, 4, history_args, &err), CLI_EXIT_UNREACHABLE);
    assert_non_null(strstr(err, "UNAVAILABLE"));
    assert_true(h.timeout_ms == 2000);   /* history keeps the usual deadline */
    free(err);
    grading_client_free(h.client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bars_scale_to_the_largest_count),
        cmocka_unit_test(test_a_bar_ends_with_its_count),
        cmocka_unit_test(test_shares_have_one_decimal_and_a_dash_for_none),
        cmocka_unit_test(test_periods_are_checked_for_their_kind),
        cmocka_unit_test(test_close_prints_a_table_and_a_chart_per_programme),
        cmocka_unit_test(test_close_says_already_closed_dry_run_and_the_default),
        cmocka_unit_test(test_close_without_sellers_or_programmes),
        cmocka_unit_test(test_the_locale_decides_utf8_in_posix_order),
        cmocka_unit_test(test_the_best_level_present_is_the_tallest),
        cmocka_unit_test(test_sparklines_in_unicode_and_ascii),
        cmocka_unit_test(test_the_trend_compares_the_last_period_with_the_first),
        cmocka_unit_test(test_periods_flag_takes_1_to_120),
        cmocka_unit_test(test_history_prints_a_table_and_a_trend_per_programme),
        cmocka_unit_test(test_history_of_one_period_or_none),
        cmocka_unit_test(test_close_usage_errors_exit_2_naming_the_argument),
        cmocka_unit_test(test_history_usage_errors_exit_2_naming_the_argument),
        cmocka_unit_test(test_forecast_draws_a_row_per_programme_and_marks_the_change),
        cmocka_unit_test(test_forecast_usage_errors_exit_2_naming_the_argument),
        cmocka_unit_test(test_unreachable_calls_exit_3_and_close_takes_a_long_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
