/* gradectl metrics: a seller's metrics (GetSellerMetrics) as a table.
 *
 * The reply is a flat list of (name, window, value, numerator,
 * denominator); people read it best pivoted: one row per metric, one
 * column per window. Known windows come in their natural order, any
 * other window the server adds later gets a column after them, and
 * metrics keep the server's order. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/v1/grading.pb-c.h"

#define METRICS_MAX_WINDOWS 12   /* table columns, the metric name included */

static const char *const known_windows[] = {"30d", "90d", "365d", "month"};

typedef struct {
    const char *windows[METRICS_MAX_WINDOWS];
    size_t nwindows;
    const char **names;
    size_t nnames;
    const Grading__V1__MetricValue **grid;   /* nnames * nwindows */
} pivot_t;

static size_t index_of(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0) return i;
    return n;
}

static int pivot_build(pivot_t *p, const Grading__V1__SellerMetrics *m)
{
    for (size_t i = 0; i < sizeof known_windows / sizeof known_windows[0]; i++)
        p->windows[p->nwindows++] = known_windows[i];
    p->names = calloc(m->n_metrics ? m->n_metrics : 1, sizeof *p->names);
    if (!p->names) return -1;
    for (size_t i = 0; i < m->n_metrics; i++) {
        const Grading__V1__MetricValue *v = m->metrics[i];
        if (index_of(p->windows, p->nwindows, v->window) == p->nwindows && p->nwindows < METRICS_MAX_WINDOWS - 1)
            p->windows[p->nwindows++] = v->window;
        if (index_of(p->names, p->nnames, v->name) == p->nnames) p->names[p->nnames++] = v->name;
    }
    p->grid = calloc(p->nnames * p->nwindows + 1, sizeof *p->grid);
    if (!p->grid) return -1;
    for (size_t i = 0; i < m->n_metrics; i++) {
        const Grading__V1__MetricValue *v = m->metrics[i];
        size_t w = index_of(p->windows, p->nwindows, v->window);
        if (w == p->nwindows) continue;   /* beyond the column cap */
        p->grid[index_of(p->names, p->nnames, v->name) * p->nwindows + w] = v;
    }
    return 0;
}

static void pivot_free(pivot_t *p)
{
    free(p->names);
    free(p->grid);
}

/* "12", or "3.1% (3/96)" when the value is a ratio (a percentage, as
 * every command prints rates); "*" marks a value below the policy's
 * minimum volume. */
static void format_value(double value, double numerator, double denominator, bool sufficient, char *buf,
                         size_t len)
{
    char val[40], num[40], den[40];
    cli_format_number(value, val, sizeof val);
    if (denominator != 0) {
        cli_format_percent(value, val, sizeof val);
        cli_format_number(numerator, num, sizeof num);
        cli_format_number(denominator, den, sizeof den);
        snprintf(buf, len, "%s%% (%s/%s)%s", val, num, den, sufficient ? "" : "*");
    } else {
        snprintf(buf, len, "%s%s", val, sufficient ? "" : "*");
    }
}

/* With exclusions (appeals, exemptions), a value they move shows its raw
 * one beside it: "2.0% (2/100) raw 3.0% (3/100)". */
static void format_cell(const Grading__V1__MetricValue *v, bool excluded, char *buf, size_t len,
                        bool *insufficient)
{
    char adj[128], raw[128];
    format_value(v->value, v->numerator, v->denominator, v->sufficient, adj, sizeof adj);
    bool moved = excluded && (v->raw_value != v->value || v->raw_numerator != v->numerator ||
                              v->raw_denominator != v->denominator);
    if (moved) {
        format_value(v->raw_value, v->raw_numerator, v->raw_denominator, v->raw_sufficient, raw, sizeof raw);
        snprintf(buf, len, "%s raw %s", adj, raw);
    } else {
        snprintf(buf, len, "%s", adj);
    }
    if (!v->sufficient) *insufficient = true;
}

/* A cli_print_reply_cb; arg is unused (the reply names its seller). */
static int print_table(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__SellerMetrics *m = (const Grading__V1__SellerMetrics *)reply;
    pivot_t p = {0};
    cli_table_t *t = NULL;
    bool insufficient = false;
    int rc = CLI_EXIT_FAIL;

    (void)arg;
    cli_print_subject(m->seller_id, m->marketplace, m->as_of, m->policy_version);
    if (m->n_metrics == 0) {
        printf("(no metrics)\n");
        return CLI_EXIT_OK;
    }

    if (pivot_build(&p, m)) goto fail;
    char align[METRICS_MAX_WINDOWS + 1] = "l";
    for (size_t w = 0; w < p.nwindows; w++) align[w + 1] = 'r';
    align[p.nwindows + 1] = '\0';
    const char *head[METRICS_MAX_WINDOWS];
    head[0] = "metric";
    for (size_t w = 0; w < p.nwindows; w++) head[w + 1] = p.windows[w];
    if (!(t = cli_table_new_with_head(p.nwindows + 1, align, head))) goto fail;

    char cells[METRICS_MAX_WINDOWS][300];
    const char *row[METRICS_MAX_WINDOWS];
    for (size_t r = 0; r < p.nnames; r++) {
        row[0] = p.names[r];
        for (size_t w = 0; w < p.nwindows; w++) {
            const Grading__V1__MetricValue *v = p.grid[r * p.nwindows + w];
            if (v) {
                format_cell(v, m->excluded_records > 0, cells[w], sizeof cells[w], &insufficient);
                row[w + 1] = cells[w];
            } else {
                row[w + 1] = NULL;   /* prints "-" */
            }
        }
        if (cli_table_add_row(t, row)) goto fail;
    }
    cli_table_print(t, stdout);
    if (insufficient) printf("\n* below the policy's minimum volume: not enough data to judge\n");
    if (m->excluded_records)
        printf("\n%u order(s) or inquiry(ies) with exclusions (appeals, exemptions): values they move show \"raw\" beside them\n",
               m->excluded_records);
    rc = CLI_EXIT_OK;
fail:
    if (rc) fprintf(stderr, "gradectl: out of memory\n");
    cli_table_free(t);
    pivot_free(&p);
    return rc;
}

static int run_metrics(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    cli_seller_query_t q;
    int rc = cli_parse_seller_query(cmd, argc, argv, NULL, CLI_QUERY_AS_OF, &q);
    if (rc) goto done;
    Grading__V1__GetSellerMetricsRequest req = GRADING__V1__GET_SELLER_METRICS_REQUEST__INIT;
    req.seller_id = (char *)q.seller;
    if (q.marketplace) req.marketplace = (char *)q.marketplace;
    req.as_of = q.as_of;
    rc = cli_call_and_print(ctx, "GetSellerMetrics", &req.base, &grading__v1__seller_metrics__descriptor,
                            print_table, NULL, NULL);
done:
    cli_seller_query_destroy(&q);
    return rc;
}

const cli_command_t cli_cmd_metrics = {
    .name = "metrics",
    .synopsis = "SELLER [--marketplace M] [--as-of RFC3339]",
    .summary = "show a seller's metrics (GetSellerMetrics)",
    .help = "Options:\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "  --as-of TIME       evaluate as of this RFC 3339 time, e.g. 2026-10-05T09:30:00+09:00\n"
            "                     (default: now)\n"
            "\n"
            "Prints one row per metric and one column per window (30d, 90d, 365d, month:\n"
            "the calendar month holding the as-of time). A ratio shows its numerator and\n"
            "denominator, as a percentage like every rate gradectl prints: 3.1% (3/96).\n"
            "When appeals or exemptions exclude some of the seller's orders, a value they\n"
            "move shows the raw one (nothing excluded) beside it: 2.0% (2/100) raw 3.0% (3/100).\n"
            "With --json, the SellerMetrics reply as JSON (ratios as fractions).\n",
    .run = run_metrics,
};
