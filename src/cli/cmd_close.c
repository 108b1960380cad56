/* gradectl close: close a settlement period (ClosePeriod) and show how the
 * marketplace's sellers fell across the levels of each programme.
 *
 * The period is checked here with the server's own parser (period.h), so
 * "2026-13" is a usage error naming the argument before any call; "q" in a
 * quarter is taken as "Q". The reply is a flat list of (programme, level,
 * label, sellers) in the policy's order; it is grouped by programme (first
 * appearance keeps the order) and each group prints as a table with every
 * level's share of the programme's sellers, then as a bar chart of '#'
 * scaled to the group's largest count. A count that is not zero always
 * gets at least one '#', so a rare level never looks empty.
 *
 * A close of a large marketplace takes minutes, so unless --timeout-ms was
 * given this command waits CLOSE_DEFAULT_TIMEOUT_MS rather than the
 * client's 30 s. If the wait runs out the server goes on (or stops at a
 * page boundary); the same command resumes it or answers "already closed".
 *
 * The formatting helpers take their inputs and a FILE, and read no clock
 * or environment, for tests/unit/test_cli_close.c. */
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>
#include <string.h>

#include "cli.h"
#include "grading/period.h"
#include "grading/v1/grading.pb-c.h"

#define CLOSE_DEFAULT_TIMEOUT_MS (30LL * 60 * 1000)
#define CLOSE_BAR_WIDTH 40

/* The width in '#' of a bar for count when the largest bar is max: scaled
 * to width, rounded, at least 1 for a count above 0, 0 for 0. */
static size_t close_bar_width(uint32_t count, uint32_t max, size_t width)
{
    if (count == 0 || max == 0) return 0;
    if (count >= max) return width;
    uint64_t w = ((uint64_t)count * width * 2 + max) / (2 * (uint64_t)max);
    return w == 0 ? 1 : (size_t)w;
}

/* "####### 7": the bar then the count; "0" alone for 0. Truncated to
 * len - 1 bytes when buf is short. */
static void close_format_bar(uint32_t count, uint32_t max, char *buf, size_t len)
{
    size_t w = close_bar_width(count, max, CLOSE_BAR_WIDTH), at = 0;
    char num[16];
    int k = snprintf(num, sizeof num, "%s%u", w ? " " : "", (unsigned)count);
    if (len == 0) return;
    for (; at < w && at + 1 < len; at++) buf[at] = '#';
    for (int i = 0; i < k && at + 1 < len; i++) buf[at++] = num[i];
    buf[at] = '\0';
}

/* count as a percentage of total with one decimal ("33.3"); "-" when
 * total is 0. */
static void close_format_share(uint32_t count, uint64_t total, char *buf, size_t len)
{
    if (total == 0) snprintf(buf, len, "-");
    else cli_format_percent((double)count / (double)total, buf, len);
}

/* Checks the period name for kind; writes it to out with a lower-case 'q'
 * of a quarter made upper case. Returns 0, or -1 with why set. */
static int close_check_period(grading_period_kind_t kind, const char *in, char *out, size_t len, char *why,
                              size_t why_len)
{
    grading_error_t e = {0};
    int32_t first, last;
    if (strlen(in) >= len || strlen(in) >= GRADING_PERIOD_NAME_MAX) {
        snprintf(why, why_len, "PERIOD \"%.40s...\" is too long", in);
        return -1;
    }
    snprintf(out, len, "%s", in);
    char *q = strchr(out, 'q');
    if (kind == GRADING_PERIOD_QUARTER && q) *q = 'Q';
    if (grading_period_parse(kind, out, "PERIOD", &first, &last, &e)) {
        snprintf(why, why_len, "PERIOD %s", e.message);
        return -1;
    }
    return 0;
}

/* The first line: what happened to which period of which marketplace. */
static void close_print_summary(const Grading__V1__ClosePeriodResponse *r, const char *kind, const char *period,
                                const char *marketplace, bool dry_run, FILE *out)
{
    const char *mp = marketplace && *marketplace ? marketplace : "the default marketplace";
    unsigned n = (unsigned)r->sellers_evaluated;
    const char *sellers = n == 1 ? "seller" : "sellers";
    if (r->already_closed)
        fprintf(out, "already closed: %s %s of %s, %u %s evaluated when it closed; nothing changed\n", kind,
                period, mp, n, sellers);
    else if (dry_run)
        fprintf(out, "dry run: nothing written; %s %s of %s would close with %u %s evaluated\n", kind, period,
                mp, n, sellers);
    else
        fprintf(out, "closed %s %s of %s: %u %s evaluated\n", kind, period, mp, n, sellers);
}

/* One programme: its rows of the distribution (idx[0..n)) as a table and
 * a bar chart, both indented under its name. Returns -1 on allocation
 * failure. */
static int close_print_program(const Grading__V1__ClosePeriodResponse *r, const size_t *idx, size_t n, FILE *out)
{
    cli_table_t *t = NULL, *chart = NULL;
    uint64_t total = 0;
    uint32_t max = 0;
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        uint32_t c = r->distribution[idx[i]]->sellers;
        total += c;
        if (c > max) max = c;
    }
    const char *name = r->distribution[idx[0]]->program;
    fprintf(out, "\n%s\n", name && *name ? name : "(a programme the current policy no longer has)");

    /* the empty first column indents by the column gap */
    const char *head[] = {"", "level", "label", "sellers", "share %"};
    if (!(t = cli_table_new_with_head(5, "lrlrr", head)) || !(chart = cli_table_new(4, "lrll"))) goto fail;
    for (size_t i = 0; i < n; i++) {
        const Grading__V1__GradeCount *g = r->distribution[idx[i]];
        char level[16], sellers[16], share[16], bar[CLOSE_BAR_WIDTH + 16];
        snprintf(level, sizeof level, "%d", (int)g->level);
        snprintf(sellers, sizeof sellers, "%u", (unsigned)g->sellers);
        close_format_share(g->sellers, total, share, sizeof share);
        close_format_bar(g->sellers, max, bar, sizeof bar);
        const char *label = g->label && *g->label ? g->label : NULL;
        const char *row[] = {"", level, label, sellers, share};
        const char *crow[] = {"", level, label, bar};
        if (cli_table_add_row(t, row) || cli_table_add_row(chart, crow)) goto fail;
    }
    cli_table_print(t, out);
    if (total > 0) {
        fputc('\n', out);
        cli_table_print(chart, out);
    }
    rc = 0;
fail:
    cli_table_free(t);
    cli_table_free(chart);
    return rc;
}

/* The programme of distribution row i, for cli_groups_init. */
static const char *close_program_at(const void *list, size_t i)
{
    return ((Grading__V1__GradeCount *const *)list)[i]->program;
}

/* The whole human answer. Returns CLI_EXIT_OK or CLI_EXIT_FAIL (out of
 * memory, said on stderr). */
static int close_print(const Grading__V1__ClosePeriodResponse *r, const char *kind, const char *period,
                       const char *marketplace, bool dry_run, FILE *out)
{
    cli_groups_t g = {0};
    int rc = CLI_EXIT_FAIL;

    close_print_summary(r, kind, period, marketplace, dry_run, out);
    if (r->n_distribution == 0) {
        fprintf(out, "\n(the policy defines no grading programmes for this marketplace)\n");
        return CLI_EXIT_OK;
    }
    if (cli_groups_init(&g, r->distribution, r->n_distribution, close_program_at)) goto fail;
    for (size_t k = 0; k < g.ngroups; k++)
        if (close_print_program(r, g.rows + g.start[k], g.start[k + 1] - g.start[k], out)) goto fail;
    rc = CLI_EXIT_OK;
fail:
    if (rc) fprintf(stderr, "gradectl: out of memory\n");
    cli_groups_destroy(&g);
    return rc;
}

/* What close_print says besides the reply: the period asked for. */
typedef struct {
    const char *kind, *period, *marketplace;
    bool dry_run;
} close_request_t;

/* A cli_print_reply_cb; arg is the close_request_t. */
static int close_print_reply(const ProtobufCMessage *reply, const void *arg)
{
    const close_request_t *c = arg;
    return close_print((const Grading__V1__ClosePeriodResponse *)reply, c->kind, c->period, c->marketplace,
                       c->dry_run, stdout);
}

/* Asks on out whether to close, reads the answer from in: true only for
 * "y" or "yes" (any case). A close freezes grades for good, so a person
 * at a terminal confirms it; scripts pass --yes (or are not on one). */
static bool close_confirm(FILE *in, FILE *out, const char *kind, const char *period, const char *marketplace)
{
    char line[64];
    fprintf(out, "Close %s %s of %s? This publishes every seller's grades for it, for good. [y/N] ", kind,
            period, marketplace ? marketplace : "the default marketplace");
    fflush(out);
    if (!fgets(line, sizeof line, in)) return false;
    line[strcspn(line, "\r\n")] = '\0';
    return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

static int close_run(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *marketplace = NULL;
    bool dry_run = false, yes = false;
    char *pos[2], period[GRADING_PERIOD_NAME_MAX], why[GRADING_ERROR_MSG_MAX + 64];
    int npos, rc;
    cli_status_t st;
    const cli_opt_t opts[] = {
        {"--marketplace", &marketplace, NULL},
        {"--dry-run", NULL, &dry_run},
        {"--yes", NULL, &yes},
        {NULL, NULL, NULL},
    };

    if ((rc = cli_parse_args(cmd, argc, argv, opts, pos, 0, 2, &npos))) return rc;
    if (npos < 1) return cli_usage_error(cmd, "missing KIND: month, quarter or year");
    if (npos < 2) return cli_usage_error(cmd, "missing PERIOD: 2026-10, 2026-Q3 or 2026");
    grading_period_kind_t kind = grading_period_kind_parse(pos[0]);
    if (!kind) return cli_usage_error(cmd, "KIND \"%s\" is not month, quarter or year", pos[0]);
    if (close_check_period(kind, pos[1], period, sizeof period, why, sizeof why))
        return cli_usage_error(cmd, "%s", why);
    if (marketplace && !*marketplace) return cli_usage_error(cmd, "--marketplace must not be empty");
    if (!dry_run && !yes && isatty(STDIN_FILENO) && isatty(STDERR_FILENO) &&
        !close_confirm(stdin, stderr, grading_period_kind_name(kind), period, marketplace)) {
        fprintf(stderr, "gradectl: not closed (answer y to close, or pass --yes)\n");
        return CLI_EXIT_FAIL;
    }

    if (ctx->timeout_ms <= 0) ctx->timeout_ms = CLOSE_DEFAULT_TIMEOUT_MS;
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    if (marketplace) req.marketplace = (char *)marketplace;
    req.kind = (Grading__V1__PeriodKind)kind;
    req.period = period;
    req.dry_run = dry_run;
    close_request_t asked = {grading_period_kind_name(kind), period, marketplace, dry_run};
    rc = cli_call_and_print(ctx, "ClosePeriod", &req.base, &grading__v1__close_period_response__descriptor,
                            close_print_reply, &asked, &st);
    if (rc && st.status == GRPC_STATUS_DEADLINE_EXCEEDED)
        fprintf(stderr, "gradectl: the close may still be running in the server; run the same command again later:\n"
                        "gradectl: it resumes the close or answers \"already closed\" (--timeout-ms N waits longer)\n");
    return rc;
}

const cli_command_t cli_cmd_close = {
    .name = "close",
    .synopsis = "KIND PERIOD [--marketplace M] [--dry-run] [--yes]",
    .summary = "close a period, show its grade distribution (ClosePeriod)",
    .help = "Arguments:\n"
            "  KIND               month, quarter or year (any case)\n"
            "  PERIOD             2026-10 (month), 2026-Q3 (quarter) or 2026 (year)\n"
            "\n"
            "Options:\n"
            "  --marketplace M    the marketplace to close (default: the policy's default)\n"
            "  --dry-run          compute the distribution only; nothing is written\n"
            "  --yes              do not ask: on a terminal, close asks for confirmation\n"
            "\n"
            "Freezes every seller's grades for the period as of its end in the marketplace's\n"
            "time zone (the published grades). The period must have ended, else the server\n"
            "answers FAILED_PRECONDITION. Closing a closed period changes nothing and says\n"
            "\"already closed\"; after a crash or a timeout the same command resumes the close.\n"
            "\n"
            "Prints how many sellers were evaluated, then per programme a table of each\n"
            "level's sellers and share, and a bar chart of the counts. A close of a large\n"
            "marketplace can take minutes: this command waits up to 30 minutes unless\n"
            "--timeout-ms says otherwise. With --json, the ClosePeriodResponse as JSON.\n",
    .run = close_run,
};
