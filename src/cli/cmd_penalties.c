/* gradectl penalties: the penalty stages a seller is in (GetPenaltyState).
 *
 * One row per ladder the seller is on, with its restrictions spelled as in
 * policy files (lower case: "warning, listing_cap 100") so what a person
 * reads here is what they would grep for in the policy. Strikes and late
 * orders follow only when the server reports them. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/pbjson.h"
#include "grading/rules.h"
#include "grading/v1/grading.pb-c.h"

/* Appends s to buf (of len) at *at, truncating with "..." when full. */
static void append(char *buf, size_t len, size_t *at, const char *s)
{
    if (*at >= len - 1) return;
    int n = snprintf(buf + *at, len - *at, "%s", s);
    if (n < 0) return;
    if ((size_t)n >= len - *at) {
        *at = len - 1;
        if (len >= 4) memcpy(buf + len - 4, "...", 4);
        return;
    }
    *at += (size_t)n;
}

/* "warning, listing_cap 100, product_sales_stopped (p1 p2)". A kind this
 * build does not know (a newer server) prints as its number. */
static void format_restrictions(const Grading__V1__Penalty *p, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n_restrictions; i++) {
        const Grading__V1__Restriction *r = p->restrictions[i];
        char part[64];
        const char *name = grading_restriction_name((grading_restriction_kind_t)r->kind);
        if (strcmp(name, "?") == 0) snprintf(part, sizeof part, "restriction_%d", (int)r->kind);
        else if (r->kind == GRADING__V1__RESTRICTION_KIND__RESTRICTION_KIND_LISTING_CAP)
            snprintf(part, sizeof part, "%s %lld", name, (long long)r->limit);
        else snprintf(part, sizeof part, "%s", name);
        if (i > 0) append(buf, len, &at, ", ");
        append(buf, len, &at, part);
        for (size_t k = 0; k < r->n_product_ids; k++) {
            append(buf, len, &at, k == 0 ? " (" : " ");
            append(buf, len, &at, r->product_ids[k]);
            if (k + 1 == r->n_product_ids) append(buf, len, &at, ")");
        }
    }
}

/* A cli_print_reply_cb; arg is the cli_seller_query_t asked. */
static int print_penalties(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__PenaltyState *s = (const Grading__V1__PenaltyState *)reply;
    const cli_seller_query_t *q = arg;
    cli_table_t *t = NULL;
    bool since = false, until = false;

    cli_print_subject(q->seller, q->marketplace, q->as_of, s->policy_version);
    if (s->n_penalties == 0) {
        printf("no penalties\n");
    } else {
        for (size_t i = 0; i < s->n_penalties; i++) {
            if (s->penalties[i]->since) since = true;
            if (s->penalties[i]->until) until = true;
        }
        /* since and until (a stage that lasts N days), when known, sit
         * before the long restrictions column */
        const char *head[6] = {"ladder", "stage", "name"}, *align = since && until ? "lrllll" : since || until ? "lrlll" : "lrll";
        size_t ncol = 3;
        if (since) head[ncol++] = "since";
        if (until) head[ncol++] = "until";
        head[ncol++] = "restrictions";
        if (!(t = cli_table_new_with_head(ncol, align, head))) goto fail;
        for (size_t i = 0; i < s->n_penalties; i++) {
            const Grading__V1__Penalty *p = s->penalties[i];
            char stage[16], from[GRADING_PBJSON_TIMESTAMP_MAX] = "-", to[GRADING_PBJSON_TIMESTAMP_MAX] = "-",
                                                          restr[1024];
            snprintf(stage, sizeof stage, "%d", (int)p->stage);
            if (p->since) grading_pbjson_timestamp_format(p->since->seconds, p->since->nanos, from, sizeof from);
            if (p->until) grading_pbjson_timestamp_format(p->until->seconds, p->until->nanos, to, sizeof to);
            format_restrictions(p, restr, sizeof restr);
            const char *row[6] = {p->ladder, stage, p->name && *p->name ? p->name : NULL};
            size_t c = 3;
            if (since) row[c++] = from;
            if (until) row[c++] = to;
            row[c++] = restr[0] ? restr : NULL;
            if (cli_table_add_row(t, row)) goto fail;
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
        t = NULL;
    }

    const Grading__V1__StrikeState *st = s->strikes;
    if (st && (st->count || st->limit)) {
        printf("\nstrikes %u", st->count);
        if (st->limit) printf(" of %u", st->limit);
        if (st->window && *st->window) printf(" (window %s)", st->window);
        printf("\n");
    }
    if (s->n_order_alerts) {
        printf("\nlate orders:\n");
        const char *head[] = {"", "order", "stage"};
        if (!(t = cli_table_new_with_head(3, "lll", head))) goto fail;
        for (size_t i = 0; i < s->n_order_alerts; i++) {
            const char *row[] = {"", s->order_alerts[i]->order_id, s->order_alerts[i]->stage};
            if (cli_table_add_row(t, row)) goto fail;
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    return CLI_EXIT_OK;
fail:
    cli_table_free(t);
    fprintf(stderr, "gradectl: out of memory\n");
    return CLI_EXIT_FAIL;
}

static int run_penalties(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    cli_seller_query_t q;
    int rc = cli_parse_seller_query(cmd, argc, argv, NULL, CLI_QUERY_AS_OF, &q);
    if (rc) goto done;
    Grading__V1__GetPenaltyStateRequest req = GRADING__V1__GET_PENALTY_STATE_REQUEST__INIT;
    req.seller_id = (char *)q.seller;
    if (q.marketplace) req.marketplace = (char *)q.marketplace;
    req.as_of = q.as_of;
    rc = cli_call_and_print(ctx, "GetPenaltyState", &req.base, &grading__v1__penalty_state__descriptor,
                            print_penalties, &q, NULL);
done:
    cli_seller_query_destroy(&q);
    return rc;
}

const cli_command_t cli_cmd_penalties = {
    .name = "penalties",
    .synopsis = "SELLER [--marketplace M] [--as-of RFC3339]",
    .summary = "show the penalty stages a seller is in (GetPenaltyState)",
    .help = "Options:\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "  --as-of TIME       evaluate as of this RFC 3339 time, e.g. 2026-10-05T09:30:00+09:00\n"
            "                     (default: now)\n"
            "\n"
            "Prints one row per penalty ladder the seller is on: the ladder, the stage\n"
            "reached, its name and its restrictions as policy files spell them (warning,\n"
            "promotion_ban, listing_cap N, product_sales_stopped, new_deals_blocked,\n"
            "sales_suspended, withdrawals_held, contract_termination), or \"no penalties\".\n"
            "A stage that lasts N days (policy `lasts`) also shows since (the first day of\n"
            "the run of days its condition held) and until (the local midnight it lapses).\n"
            "Strikes and late-order alerts follow when there are any. With --json, the\n"
            "PenaltyState reply as JSON.\n",
    .run = run_penalties,
};
