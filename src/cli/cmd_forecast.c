/* gradectl forecast SELLER: GetGradeForecast drawn as a terminal chart, a
 * row per programme and a column per day (the level as one character),
 * the first change marked under its row, then the server's sentences:
 * the change and its cause, the nearest thresholds. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/v1/grading.pb-c.h"

#define FORECAST_MAX_DAYS 400    /* the server's limit (forecast.h) */
#define CHART_WIDTH 60           /* days per block of the chart */

/* One character per level: 1..9, then A.. (levels are small numbers). */
static char level_char(int32_t level)
{
    if (level >= 1 && level <= 9) return (char)('0' + level);
    if (level >= 10 && level < 36) return (char)('A' + level - 10);
    return '?';
}

/* "11-03" of "2026-11-03". */
static const char *month_day(const char *date)
{
    return strlen(date) == 10 ? date + 5 : date;
}

static size_t name_width(const Grading__V1__GradeForecast *f)
{
    size_t w = 7;   /* "program" */
    for (size_t p = 0; p < f->n_programs; p++)
        if (strlen(f->programs[p]->program) > w) w = strlen(f->programs[p]->program);
    return w;
}

/* Days [from, to) of every programme, the change marked with '^'. */
static void print_block(const Grading__V1__GradeForecast *f, size_t from, size_t to, size_t w, FILE *out)
{
    const Grading__V1__ProgramForecast *p0 = f->programs[0];
    fprintf(out, "%-*s  now  %s .. %s\n", (int)w, "", month_day(p0->days[from]->date),
            month_day(p0->days[to - 1]->date));
    for (size_t p = 0; p < f->n_programs; p++) {
        const Grading__V1__ProgramForecast *pf = f->programs[p];
        fprintf(out, "%-*s  %c    ", (int)w, pf->program, level_char(pf->level));
        size_t mark = to;
        for (size_t i = from; i < to && i < pf->n_days; i++) {
            fputc(level_char(pf->days[i]->level), out);
            if (pf->change && strcmp(pf->change->date, pf->days[i]->date) == 0) mark = i;
        }
        fputc('\n', out);
        if (mark < to) fprintf(out, "%-*s       %*s^ %s\n", (int)w, "", (int)(mark - from), "", pf->change->date);
    }
}

/* " 2=Silver" the first time a level shows. */
static void print_legend(int32_t level, const char *label, char *seen, size_t len, FILE *out)
{
    if (level < 0 || (size_t)level >= len || seen[level] || !label || !label[0]) return;
    seen[level] = 1;
    fprintf(out, " %c=%s", level_char(level), label);
}

/* The chart, the legend and the sentences of f on out. */
static void forecast_write(const Grading__V1__GradeForecast *f, FILE *out)
{
    fprintf(out, "forecast of %s (%s) for the %u days from %s if no new events arrive; level per day, 1 is best\n",
            f->seller_id, f->marketplace, f->days,
            f->n_programs && f->programs[0]->n_days ? f->programs[0]->days[0]->date : "-");
    if (!f->n_programs) {
        fprintf(out, "no programmes\n");
        return;
    }
    size_t w = name_width(f), ndays = f->programs[0]->n_days;
    for (size_t from = 0; from < ndays; from += CHART_WIDTH)
        print_block(f, from, from + CHART_WIDTH < ndays ? from + CHART_WIDTH : ndays, w, out);
    for (size_t p = 0; p < f->n_programs; p++) {
        const Grading__V1__ProgramForecast *pf = f->programs[p];
        char seen[64] = {0};
        fprintf(out, "%s:", pf->program);
        print_legend(pf->level, pf->label, seen, sizeof seen, out);
        for (size_t i = 0; i < pf->n_days; i++)
            print_legend(pf->days[i]->level, pf->days[i]->label, seen, sizeof seen, out);
        for (size_t i = 0; i < pf->n_thresholds; i++)
            print_legend(pf->thresholds[i]->level, pf->thresholds[i]->label, seen, sizeof seen, out);
        fprintf(out, "\n  %s\n", pf->message);
        for (size_t i = 0; i < pf->n_thresholds; i++) fprintf(out, "  %s\n", pf->thresholds[i]->message);
        if (!pf->n_thresholds) fprintf(out, "  no %u events of one kind today move it\n", f->max_events);
    }
}

static int forecast_print(const ProtobufCMessage *reply, const void *arg)
{
    (void)arg;
    forecast_write((const void *)reply, stdout);
    return CLI_EXIT_OK;
}

/* --days: a whole number 1..FORECAST_MAX_DAYS. */
static int forecast_parse_days(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    if (!*s || !isdigit((unsigned char)*s)) return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < 1 || v > FORECAST_MAX_DAYS) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int forecast_run(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *days_text = NULL;
    uint32_t days = 0;
    cli_seller_query_t q;
    const cli_opt_t opts[] = {
        {"--days", &days_text, NULL},
        {NULL, NULL, NULL},
    };
    int rc = cli_parse_seller_query(cmd, argc, argv, opts, CLI_QUERY_AS_OF | CLI_QUERY_NAME_MISSING_SELLER, &q);
    if (rc) goto done;
    if (days_text && forecast_parse_days(days_text, &days)) {
        rc = cli_usage_error(cmd, "--days \"%s\" is not a whole number from 1 to %d", days_text, FORECAST_MAX_DAYS);
        goto done;
    }
    Grading__V1__GetGradeForecastRequest req = GRADING__V1__GET_GRADE_FORECAST_REQUEST__INIT;
    req.seller_id = (char *)q.seller;
    if (q.marketplace) req.marketplace = (char *)q.marketplace;
    req.days = days;
    req.as_of = q.as_of;
    rc = cli_call_and_print(ctx, "GetGradeForecast", &req.base, &grading__v1__grade_forecast__descriptor,
                            forecast_print, &q, NULL);
done:
    cli_seller_query_destroy(&q);
    return rc;
}

const cli_command_t cli_cmd_forecast = {
    .name = "forecast",
    .synopsis = "SELLER [--marketplace M] [--days N] [--as-of RFC3339]",
    .summary = "a seller's grade on each of the next days if no new events arrive (GetGradeForecast)",
    .help = "Options:\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "  --days N           how many days ahead, 1 to 400 (default 30)\n"
            "  --as-of TIME       forecast from this RFC 3339 time (default: now)\n"
            "\n"
            "Draws a row per programme and a column per day (60 days a block): the level\n"
            "that day (1 is best; 10 and up as A, B, ...), `now` the level as of the start,\n"
            "and a ^ under the first change with its date. Then per programme the levels'\n"
            "labels, the first change as a sentence with the metric that causes it, and the\n"
            "nearest thresholds: how many more events of a kind today move the level. With\n"
            "--json, the GradeForecast reply as JSON.\n",
    .run = forecast_run,
};
