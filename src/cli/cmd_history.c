/* gradectl history: a seller's published grades over past closed periods
 * (GetGradeHistory), per programme, oldest first, with a trend line.
 *
 * The reply is a flat list of (period, programme, grade), oldest first;
 * it is grouped by programme (first appearance keeps the order, each
 * group keeps the server's period order) and each group prints as a table
 * then one trend line: a sparkline of the levels and whether the last
 * period is better than the first ("improving"), worse ("worsening") or
 * the same ("steady"). Level 1 is the best grade, so it draws the tallest
 * block. The reply does not say how many levels a programme has, so the
 * sparkline spans the levels present: the best present is the tallest
 * block, the worst present the lowest, and a seller who kept one level
 * draws a flat line at mid height. Periods the seller was not in are left
 * out by the server and so are absent from the line too.
 *
 * The blocks are Unicode (U+2581..U+2588) when the locale's character set
 * is UTF-8 (LC_ALL, else LC_CTYPE, else LANG, as POSIX orders them), else
 * an ASCII ramp. The helpers below take the environment as arguments and
 * print to a FILE, for tests/unit/test_cli_close.c. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "grading/period.h"
#include "grading/v1/grading.pb-c.h"

#define HISTORY_MAX_PERIODS 120   /* the server's cap */
#define HISTORY_STEPS 8           /* heights of the sparkline */

static const char *const history_blocks_utf8[HISTORY_STEPS] = {
    "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
    "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
};
static const char history_blocks_ascii[HISTORY_STEPS + 1] = "_.,-=+*#";

/* True when the effective character-set setting names UTF-8: the first
 * of lc_all, lc_ctype, lang that is set and not empty decides. */
static bool history_utf8_locale(const char *lc_all, const char *lc_ctype, const char *lang)
{
    const char *v = lc_all && *lc_all ? lc_all : lc_ctype && *lc_ctype ? lc_ctype : lang;
    if (!v) return false;
    /* "en_US.UTF-8", "C.utf8", "ko_KR.utf-8@euro" */
    for (const char *p = v; *p; p++) {
        if (strncasecmp(p, "utf-8", 5) == 0 || strncasecmp(p, "utf8", 4) == 0) return true;
    }
    return false;
}

/* The sparkline height (0 lowest .. HISTORY_STEPS-1 tallest) of level
 * when best..worst are the levels present (best <= worst). */
static int history_height(int32_t level, int32_t best, int32_t worst)
{
    if (worst <= best) return HISTORY_STEPS / 2 - 1;   /* one level: a flat line */
    int64_t span = (int64_t)worst - best, up = (int64_t)worst - level;
    if (up < 0) up = 0;
    if (up > span) up = span;
    return (int)((up * (HISTORY_STEPS - 1) * 2 + span) / (2 * span));
}

/* Writes the sparkline of levels[0..n) into buf. Returns 0, or -1 when
 * buf is too small (4 bytes a level and the NUL are always enough). */
static int history_sparkline(const int32_t *levels, size_t n, bool utf8, char *buf, size_t len)
{
    int32_t best = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || levels[i] < best) best = levels[i];
        if (i == 0 || levels[i] > worst) worst = levels[i];
    }
    if (len == 0) return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int h = history_height(levels[i], best, worst);
        char ascii[2] = {history_blocks_ascii[h], '\0'};
        const char *s = utf8 ? history_blocks_utf8[h] : ascii;
        size_t k = strlen(s);
        if (at + k + 1 > len) return -1;
        memcpy(buf + at, s, k + 1);
        at += k;
    }
    return 0;
}

/* The direction from the first period's level to the last's; a lower
 * level is a better grade. */
static const char *history_trend(int32_t first, int32_t last)
{
    if (last < first) return "improving";
    if (last > first) return "worsening";
    return "steady";
}

/* One programme: its rows (idx[0..n), oldest first) as a table, then the
 * trend line. Returns -1 on allocation failure. */
static int history_print_program(const Grading__V1__GradeHistory *h, const size_t *idx, size_t n, bool utf8,
                                 FILE *out)
{
    cli_table_t *t = NULL;
    int32_t *levels = NULL;
    char *spark = NULL;
    size_t spark_len = n * 4 + 1;
    int rc = -1;

    const char *name = h->grades[idx[0]]->program;
    fprintf(out, "%s\n", name && *name ? name : "(unnamed programme)");
    const char *head[] = {"", "period", "level", "label", "score"};
    if (!(t = cli_table_new_with_head(5, "llrlr", head))) goto fail;
    if (!(levels = calloc(n, sizeof *levels)) || !(spark = malloc(spark_len))) goto fail;
    for (size_t i = 0; i < n; i++) {
        const Grading__V1__PeriodGrade *pg = h->grades[idx[i]];
        char level[16] = "-", score[40] = "-";
        const char *label = NULL;
        if (pg->grade) {
            levels[i] = pg->grade->level;
            snprintf(level, sizeof level, "%d", (int)pg->grade->level);
            cli_format_number(pg->grade->score, score, sizeof score);
            if (pg->grade->label && *pg->grade->label) label = pg->grade->label;
        }
        const char *row[] = {"", pg->period && *pg->period ? pg->period : NULL, level, label, score};
        if (cli_table_add_row(t, row)) goto fail;
    }
    cli_table_print(t, out);
    if (history_sparkline(levels, n, utf8, spark, spark_len)) goto fail;
    int32_t a = levels[0], b = levels[n - 1];
    if (n == 1)
        fprintf(out, "  trend  %s  steady (one period, level %d)\n", spark, (int)a);
    else
        fprintf(out, "  trend  %s  %s (level %d %s %d over %zu periods)\n", spark, history_trend(a, b), (int)a,
                utf8 ? "\xe2\x86\x92" : "->", (int)b, n);
    rc = 0;
fail:
    cli_table_free(t);
    free(levels);
    free(spark);
    return rc;
}

/* The programme of grade row i, for cli_groups_init. */
static const char *history_program_at(const void *list, size_t i)
{
    return ((Grading__V1__PeriodGrade *const *)list)[i]->program;
}

/* The human answer below the subject line. Returns CLI_EXIT_OK or
 * CLI_EXIT_FAIL (out of memory, said on stderr). */
static int history_print(const Grading__V1__GradeHistory *h, bool utf8, FILE *out)
{
    cli_groups_t g = {0};
    int rc = CLI_EXIT_FAIL;

    if (h->n_grades == 0) {
        fprintf(out, "no closed periods\n");
        return CLI_EXIT_OK;
    }
    if (cli_groups_init(&g, h->grades, h->n_grades, history_program_at)) goto fail;
    for (size_t k = 0; k < g.ngroups; k++) {
        if (k > 0) fputc('\n', out);   /* the subject line ends with a blank line already */
        if (history_print_program(h, g.rows + g.start[k], g.start[k + 1] - g.start[k], utf8, out)) goto fail;
    }
    rc = CLI_EXIT_OK;
fail:
    if (rc) fprintf(stderr, "gradectl: out of memory\n");
    cli_groups_destroy(&g);
    return rc;
}

/* A cli_print_reply_cb: the subject line, then history_print in the
 * locale's character set. arg is the cli_seller_query_t asked. */
static int history_print_reply(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__GradeHistory *h = (const Grading__V1__GradeHistory *)reply;
    const cli_seller_query_t *q = arg;
    cli_print_subject(h->seller_id, h->marketplace, q->as_of, h->policy_version);
    return history_print(h, history_utf8_locale(getenv("LC_ALL"), getenv("LC_CTYPE"), getenv("LANG")), stdout);
}

/* --periods: a whole number 1..HISTORY_MAX_PERIODS. */
static int history_parse_periods(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    if (!*s || !isdigit((unsigned char)*s)) return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < 1 || v > HISTORY_MAX_PERIODS) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int history_run(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *kind_text = NULL, *periods_text = NULL, *as_of = NULL;
    uint32_t periods = 0;
    grading_period_kind_t kind = GRADING_PERIOD_MONTH;
    cli_seller_query_t q;
    /* --as-of is parsed here, after --kind and --periods, so the usage
     * errors come in the synopsis' order */
    const cli_opt_t opts[] = {
        {"--kind", &kind_text, NULL},
        {"--periods", &periods_text, NULL},
        {"--as-of", &as_of, NULL},
        {NULL, NULL, NULL},
    };

    int rc = cli_parse_seller_query(cmd, argc, argv, opts,
                                    CLI_QUERY_NAME_MISSING_SELLER | CLI_QUERY_NO_EMPTY_MARKETPLACE, &q);
    if (rc) goto done;
    if (kind_text && !(kind = grading_period_kind_parse(kind_text))) {
        rc = cli_usage_error(cmd, "--kind \"%s\" is not month, quarter or year", kind_text);
        goto done;
    }
    if (periods_text && history_parse_periods(periods_text, &periods)) {
        rc = cli_usage_error(cmd, "--periods \"%s\" is not a whole number from 1 to %d", periods_text,
                             HISTORY_MAX_PERIODS);
        goto done;
    }
    if (as_of && (rc = cli_seller_query_parse_as_of(cmd, as_of, &q))) goto done;

    Grading__V1__GetGradeHistoryRequest req = GRADING__V1__GET_GRADE_HISTORY_REQUEST__INIT;
    req.seller_id = (char *)q.seller;
    if (q.marketplace) req.marketplace = (char *)q.marketplace;
    req.kind = (Grading__V1__PeriodKind)kind;
    req.periods = periods;
    req.as_of = q.as_of;
    rc = cli_call_and_print(ctx, "GetGradeHistory", &req.base, &grading__v1__grade_history__descriptor,
                            history_print_reply, &q, NULL);
done:
    cli_seller_query_destroy(&q);
    return rc;
}

const cli_command_t cli_cmd_history = {
    .name = "history",
    .synopsis = "SELLER [--marketplace M] [--kind month|quarter|year] [--periods N] [--as-of RFC3339]",
    .summary = "show a seller's published grades by period (GetGradeHistory)",
    .help = "Options:\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "  --kind K           month (default), quarter or year, any case\n"
            "  --periods N        how many closed periods back, 1 to 120 (default 12)\n"
            "  --as-of TIME       count back from the last period closed before the one\n"
            "                     holding this RFC 3339 time (default: now)\n"
            "\n"
            "Prints per programme one row per closed period the seller has a grade in, oldest\n"
            "first (period, level, label, score; level 1 is best), then a trend line: a\n"
            "sparkline of the levels, tallest for the best level present, and \"improving\",\n"
            "\"worsening\" or \"steady\" comparing the last period with the first. The\n"
            "sparkline uses Unicode blocks when LC_ALL, LC_CTYPE or LANG names UTF-8, else\n"
            "ASCII. \"no closed periods\" when none holds a grade for the seller. With\n"
            "--json, the GradeHistory reply as JSON.\n",
    .run = history_run,
};
