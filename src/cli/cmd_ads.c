/* gradectl ads and settlement: the money side of a grade.
 *
 * `ads` shows what ad credit a seller may claim (GetAdCreditEligibility):
 * whether any grant applies, each grant with its amount and why, and the
 * service points the seller may convert. `settlement` shows the payout
 * terms (GetSettlementTerms): the tier, its cycle and whether withdrawals
 * are held. Both are small key/value answers, so they share this file. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/v1/grading.pb-c.h"

/* Prints rows of two cells as a key/value table. */
static int print_pairs(const char *const (*rows)[2], size_t n)
{
    cli_table_t *t = cli_table_new(2, "ll");
    int rc = CLI_EXIT_FAIL;
    if (!t) goto fail;
    for (size_t i = 0; i < n; i++)
        if (cli_table_add_row(t, rows[i])) goto fail;
    cli_table_print(t, stdout);
    rc = CLI_EXIT_OK;
fail:
    cli_table_free(t);
    return rc;
}

/* A cli_print_reply_cb; arg is the cli_seller_query_t asked. */
static int print_ads(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__AdCreditEligibility *a = (const Grading__V1__AdCreditEligibility *)reply;
    const cli_seller_query_t *q = arg;
    cli_table_t *t = NULL;
    char points[40];
    cli_print_subject(q->seller, q->marketplace, q->as_of, a->policy_version);
    cli_format_number(a->convertible_points, points, sizeof points);
    const char *const rows[][2] = {{"eligible", a->eligible ? "yes" : "no"}, {"convertible points", points}};
    if (print_pairs(rows, 2)) goto fail;
    printf("\n");
    if (a->n_grants == 0) {
        printf("no grants\n");
        return CLI_EXIT_OK;
    }
    const char *head[] = {"program", "amount", "currency", "reason"};
    if (!(t = cli_table_new_with_head(4, "lrll", head))) goto fail;
    for (size_t i = 0; i < a->n_grants; i++) {
        const Grading__V1__AdCreditGrant *g = a->grants[i];
        char amount[32];
        snprintf(amount, sizeof amount, "%lld", (long long)g->amount);
        const char *row[] = {g->program, amount, g->currency && *g->currency ? g->currency : NULL,
                             g->reason && *g->reason ? g->reason : NULL};
        if (cli_table_add_row(t, row)) goto fail;
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    return CLI_EXIT_OK;
fail:
    cli_table_free(t);
    fprintf(stderr, "gradectl: out of memory\n");
    return CLI_EXIT_FAIL;
}

/* A cli_print_reply_cb; arg is the cli_seller_query_t asked. */
static int print_settlement(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__SettlementTerms *s = (const Grading__V1__SettlementTerms *)reply;
    const cli_seller_query_t *q = arg;
    char days[16];
    cli_print_subject(q->seller, q->marketplace, NULL, s->policy_version);
    snprintf(days, sizeof days, "%u", s->cycle_days);
    const char *const rows[][2] = {
        {"tier", s->tier && *s->tier ? s->tier : NULL},
        {"cycle days", days},
        {"withdrawals held", s->withdrawals_held ? "yes" : "no"},
    };
    if (print_pairs(rows, 3)) {
        fprintf(stderr, "gradectl: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Both commands take SELLER and --marketplace; ads also --as-of. */
static int run_ads(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    cli_seller_query_t q;
    int rc = cli_parse_seller_query(cmd, argc, argv, NULL, CLI_QUERY_AS_OF, &q);
    if (rc) goto done;
    Grading__V1__GetAdCreditEligibilityRequest req = GRADING__V1__GET_AD_CREDIT_ELIGIBILITY_REQUEST__INIT;
    req.seller_id = (char *)q.seller;
    if (q.marketplace) req.marketplace = (char *)q.marketplace;
    req.as_of = q.as_of;
    rc = cli_call_and_print(ctx, "GetAdCreditEligibility", &req.base, &grading__v1__ad_credit_eligibility__descriptor,
                            print_ads, &q, NULL);
done:
    cli_seller_query_destroy(&q);
    return rc;
}

static int run_settlement(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    cli_seller_query_t q;
    int rc = cli_parse_seller_query(cmd, argc, argv, NULL, 0, &q);
    if (rc) goto done;
    Grading__V1__GetSettlementTermsRequest req = GRADING__V1__GET_SETTLEMENT_TERMS_REQUEST__INIT;
    req.seller_id = (char *)q.seller;
    if (q.marketplace) req.marketplace = (char *)q.marketplace;
    rc = cli_call_and_print(ctx, "GetSettlementTerms", &req.base, &grading__v1__settlement_terms__descriptor,
                            print_settlement, &q, NULL);
done:
    cli_seller_query_destroy(&q);
    return rc;
}

const cli_command_t cli_cmd_ads = {
    .name = "ads",
    .synopsis = "SELLER [--marketplace M] [--as-of RFC3339]",
    .summary = "show the ad credit a seller may claim (GetAdCreditEligibility)",
    .help = "Options:\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "  --as-of TIME       evaluate as of this RFC 3339 time, e.g. 2026-10-05T09:30:00+09:00\n"
            "                     (default: now)\n"
            "\n"
            "Prints whether any ad-credit grant applies and the service points the seller\n"
            "may convert into ad money, then one row per grant: the ad programme, the\n"
            "amount in minor units of the currency, and the condition that earned it.\n"
            "With --json, the AdCreditEligibility reply as JSON.\n",
    .run = run_ads,
};

const cli_command_t cli_cmd_settlement = {
    .name = "settlement",
    .synopsis = "SELLER [--marketplace M]",
    .summary = "show a seller's settlement terms (GetSettlementTerms)",
    .help = "Options:\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "\n"
            "Prints the settlement tier the seller is in now, its payout cycle in days and\n"
            "whether withdrawals are held (then nothing is paid out). With --json, the\n"
            "SettlementTerms reply as JSON.\n",
    .run = run_settlement,
};
