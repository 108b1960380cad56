/* gradectl evidence SELLER METRIC: ListMetricEvents, every page, as a
 * table of the orders and inquiries behind the metric and the split of
 * each counter it reads (listed / unlisted), or as CSV (RFC 4180): one row
 * per counter contribution, with a header row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/pbjson.h"
#include "grading/v1/grading.pb-c.h"

/* Bounds the page loop: a server that kept answering tokens stops here. */
#define EVIDENCE_MAX_PAGES 100000
#define EVIDENCE_PAGE_SIZE 1000

static const char *const fault_names[] = {"", "seller", "buyer", "platform"};
static const char *const reason_names[] = {"", "out_of_stock", "shipping_delay", "buyer_request", "other"};

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "?";
}

static void time_text(const Google__Protobuf__Timestamp *ts, char *buf, size_t len)
{
    buf[0] = 0;
    if (ts) grading_pbjson_timestamp_format(ts->seconds, ts->nanos, buf, len);
}

/* ---- CSV ---- */

/* One field, quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *out, const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"') fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

#define CSV_COLS 17
static const char *const csv_head[CSV_COLS] = {
    "kind", "id", "paid", "shipped", "delivered", "cancelled", "cancel_fault", "cancel_reason", "returned",
    "exchanged", "non_receipt", "inquiry_received", "inquiry_answered", "counter", "day", "delta", "excluded"};

static void csv_row(FILE *out, const char *const *cells)
{
    for (size_t i = 0; i < CSV_COLS; i++) csv_field(out, cells[i], i + 1 == CSV_COLS);
}

static void csv_event(FILE *out, const Grading__V1__MetricEvent *m)
{
    char t[9][GRADING_PBJSON_TIMESTAMP_MAX], delta[24];
    const Grading__V1__OrderStages *o = m->order;
    const Grading__V1__InquiryStages *q = m->inquiry;
    time_text(o ? o->paid : NULL, t[0], sizeof t[0]);
    time_text(o ? o->shipped : NULL, t[1], sizeof t[1]);
    time_text(o ? o->delivered : NULL, t[2], sizeof t[2]);
    time_text(o ? o->cancelled : NULL, t[3], sizeof t[3]);
    time_text(o ? o->returned : NULL, t[4], sizeof t[4]);
    time_text(o ? o->exchanged : NULL, t[5], sizeof t[5]);
    time_text(o ? o->non_receipt : NULL, t[6], sizeof t[6]);
    time_text(q ? q->received : NULL, t[7], sizeof t[7]);
    time_text(q ? q->answered : NULL, t[8], sizeof t[8]);
    const char *kind = m->kind == GRADING__V1__EVIDENCE_KIND__EVIDENCE_KIND_INQUIRY ? "inquiry" : "order";
    const char *fault = o && o->cancelled ? name_of(fault_names, 4, (int)o->cancel_fault) : "";
    const char *reason = o && o->cancelled ? name_of(reason_names, 5, (int)o->cancel_reason) : "";
    for (size_t k = 0; k < m->n_contributions; k++) {
        const Grading__V1__CounterDelta *d = m->contributions[k];
        snprintf(delta, sizeof delta, "%lld", (long long)d->delta);
        const char *cells[CSV_COLS] = {kind, m->id, t[0], t[1], t[2], t[3], fault, reason, t[4], t[5], t[6],
                                       t[7], t[8], d->counter, d->day, delta, d->excluded ? "true" : "false"};
        csv_row(out, cells);
    }
}

/* ---- the table ---- */

/* "paid 2026-10-01T09:00:00Z, cancelled ... (seller, out_of_stock)" */
static void stages_text(const Grading__V1__MetricEvent *m, char *buf, size_t len)
{
    char t[GRADING_PBJSON_TIMESTAMP_MAX];
    size_t n = 0;
    buf[0] = 0;
#define STAGE(name, ts)                                                                        \
    if ((ts) && n < len) {                                                                     \
        time_text(ts, t, sizeof t);                                                            \
        n += (size_t)snprintf(buf + n, len - n, "%s%s %s", n ? ", " : "", name, t);            \
    }
    if (m->order) {
        const Grading__V1__OrderStages *o = m->order;
        STAGE("paid", o->paid);
        STAGE("shipped", o->shipped);
        STAGE("delivered", o->delivered);
        STAGE("cancelled", o->cancelled);
        if (o->cancelled && n < len)
            n += (size_t)snprintf(buf + n, len - n, " (%s, %s)", name_of(fault_names, 4, (int)o->cancel_fault),
                                  name_of(reason_names, 5, (int)o->cancel_reason));
        STAGE("returned", o->returned);
        STAGE("exchanged", o->exchanged);
        STAGE("non-receipt", o->non_receipt);
    }
    if (m->inquiry) {
        STAGE("received", m->inquiry->received);
        STAGE("answered", m->inquiry->answered);
    }
#undef STAGE
}

static int table_event(cli_table_t *t, const Grading__V1__MetricEvent *m)
{
    char stages[512], counted[512];
    size_t n = 0;
    stages_text(m, stages, sizeof stages);
    counted[0] = 0;
    for (size_t k = 0; k < m->n_contributions && n < sizeof counted; k++)
        n += (size_t)snprintf(counted + n, sizeof counted - n, "%s%s %s %+lld%s", k ? ", " : "",
                              m->contributions[k]->counter, m->contributions[k]->day,
                              (long long)m->contributions[k]->delta,
                              m->contributions[k]->excluded ? " (excluded)" : "");
    const char *cells[4] = {m->kind == GRADING__V1__EVIDENCE_KIND__EVIDENCE_KIND_INQUIRY ? "inquiry" : "order", m->id,
                            stages, counted};
    return cli_table_add_row(t, cells);
}

static void print_head(const Grading__V1__ListMetricEventsResponse *r)
{
    char v[32], num[32], den[32];
    const Grading__V1__MetricValue *mv = r->value;
    printf("metric %s over %s (%s .. %s): ", mv ? mv->name : "?", r->window, r->first_day, r->last_day);
    if (!mv || !mv->sufficient) {
        printf("not enough data\n\n");
        return;
    }
    cli_format_number(mv->value, v, sizeof v);
    cli_format_number(mv->numerator, num, sizeof num);
    cli_format_number(mv->denominator, den, sizeof den);
    if (mv->denominator != 1) printf("%s (%s / %s)\n\n", v, num, den);
    else printf("%s\n\n", v);
}

static int print_counters(const Grading__V1__ListMetricEventsResponse *r)
{
    static const char *const head[] = {"counter", "total", "listed", "unlisted", "why unlisted"};
    cli_table_t *t = cli_table_new_with_head(5, "lrrrl", head);
    if (!t) return -1;
    for (size_t i = 0; i < r->n_counters; i++) {
        const Grading__V1__CounterEvidence *c = r->counters[i];
        char tot[32], lis[32], unl[32];
        if (strncmp(c->counter, "custom.", 7) == 0) cli_format_number(c->custom_total, tot, sizeof tot);
        else snprintf(tot, sizeof tot, "%lld", (long long)c->total);
        snprintf(lis, sizeof lis, "%lld", (long long)c->listed);
        snprintf(unl, sizeof unl, "%lld", (long long)c->unlisted);
        const char *cells[5] = {c->counter, tot, lis, unl, c->note};
        if (cli_table_add_row(t, cells)) {
            cli_table_free(t);
            return -1;
        }
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    return 0;
}

/* In CSV mode the split goes to stderr, so nothing unlisted goes unsaid. */
static void warn_unlisted(const Grading__V1__ListMetricEventsResponse *r)
{
    for (size_t i = 0; i < r->n_counters; i++) {
        const Grading__V1__CounterEvidence *c = r->counters[i];
        if (c->unlisted || c->custom_total != 0)
            fprintf(stderr, "gradectl: %s: %lld of %lld not listed: %s\n", c->counter, (long long)c->unlisted,
                    (long long)c->total, c->note);
    }
}

/* ---- the pages ---- */

typedef struct {
    bool csv;
    cli_table_t *events;
    Grading__V1__ListMetricEventsResponse *first;   /* kept for the head and the split */
} evidence_out_t;

static int take_page(const cli_ctx_t *ctx, evidence_out_t *o, Grading__V1__ListMetricEventsResponse *r,
                     bool *keep)
{
    *keep = false;
    if (ctx->json) return cli_print_json(&r->base);
    for (size_t i = 0; i < r->n_events; i++) {
        if (o->csv) csv_event(stdout, r->events[i]);
        else if (table_event(o->events, r->events[i])) return CLI_EXIT_FAIL;
    }
    if (!o->first) {
        o->first = r;
        *keep = true;
    }
    return CLI_EXIT_OK;
}

static int evidence_run(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *window = NULL, *as_of = NULL;
    bool csv = false;
    cli_seller_query_t q = {0};
    const cli_opt_t opts[] = {
        {"--marketplace", &q.marketplace, NULL},
        {"--window", &window, NULL},
        {"--as-of", &as_of, NULL},
        {"--csv", NULL, &csv},
        {NULL, NULL, NULL},
    };
    static const char *const head[] = {"kind", "id", "stages", "counted"};
    evidence_out_t o = {0};
    char *token = NULL, *pos[2];
    int npos;
    /* SELLER METRIC: two positionals, so not cli_parse_seller_query */
    int rc = cli_parse_args(cmd, argc, argv, opts, pos, 2, 2, &npos);
    if (rc) goto done;
    q.seller = pos[0];
    const char *metric = pos[1];
    if (!*q.seller || !*metric) {
        rc = cli_usage_error(cmd, "%s must not be empty", *q.seller ? "METRIC" : "SELLER");
        goto done;
    }
    if (window && !*window) {
        rc = cli_usage_error(cmd, "--window must not be empty");
        goto done;
    }
    if (as_of && (rc = cli_seller_query_parse_as_of(cmd, as_of, &q))) goto done;
    o.csv = csv;
    if (!csv && !ctx->json && !(o.events = cli_table_new_with_head(4, "llll", head))) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (csv && !ctx->json) csv_row(stdout, csv_head);
    for (int page = 0; page < EVIDENCE_MAX_PAGES; page++) {
        Grading__V1__ListMetricEventsRequest req = GRADING__V1__LIST_METRIC_EVENTS_REQUEST__INIT;
        req.seller_id = (char *)q.seller;
        if (q.marketplace) req.marketplace = (char *)q.marketplace;
        req.metric = (char *)metric;
        if (window) req.window = (char *)window;
        req.as_of = q.as_of;
        req.page_size = EVIDENCE_PAGE_SIZE;
        if (token) req.page_token = token;
        ProtobufCMessage *reply = NULL;
        if ((rc = cli_call(ctx, "ListMetricEvents", &req.base, &grading__v1__list_metric_events_response__descriptor,
                           &reply, NULL)))
            goto done;
        Grading__V1__ListMetricEventsResponse *r = (void *)reply;
        bool keep;
        rc = take_page(ctx, &o, r, &keep);
        free(token);
        token = r->next_page_token[0] ? strdup(r->next_page_token) : NULL;
        if (!keep) protobuf_c_message_free_unpacked(reply, NULL);
        if (rc) goto done;
        if (!token) break;
    }
    if (token) {
        fprintf(stderr, "gradectl: stopped after %d pages\n", EVIDENCE_MAX_PAGES);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (ctx->json || !o.first) goto done;
    if (csv) {
        warn_unlisted(o.first);
        goto done;
    }
    cli_print_subject(o.first->seller_id, o.first->marketplace, q.as_of, o.first->policy_version);
    print_head(o.first);
    cli_table_print(o.events, stdout);
    printf("\n");
    if (print_counters(o.first)) rc = CLI_EXIT_FAIL;
done:
    free(token);
    cli_table_free(o.events);
    if (o.first) protobuf_c_message_free_unpacked(&o.first->base, NULL);
    cli_seller_query_destroy(&q);
    return rc;
}

const cli_command_t cli_cmd_evidence = {
    .name = "evidence",
    .synopsis = "SELLER METRIC [--marketplace M] [--window W] [--as-of RFC3339] [--csv]",
    .summary = "list the orders and inquiries behind a seller's metric (ListMetricEvents)",
    .help = "Options:\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "  --window W         the window: 30d, 90d, month, prev_quarter, ... (default: the\n"
            "                     metric's own; a base counter's is 30d)\n"
            "  --as-of TIME       the window ends with this RFC 3339 time's day (default: now)\n"
            "  --csv              CSV (RFC 4180) with a header row: one row per contribution\n"
            "                     of a record to a counter on a day\n"
            "\n"
            "METRIC is a policy metric (late_ship_rate) or a base counter (cancels). Fetches\n"
            "every page. Prints the metric's value over the window, one row per order or\n"
            "inquiry that counts in it (its stage times and what it adds to each counter the\n"
            "metric reads), then per counter its total, the part the listed records explain\n"
            "and the rest (reviews, scores, revenue and custom events keep no record). With\n"
            "--csv, that split goes to stderr for every counter with an unlisted part. With\n"
            "--json, each ListMetricEventsResponse page as JSON.\n",
    .run = evidence_run,
};
