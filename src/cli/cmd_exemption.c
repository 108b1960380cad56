/* gradectl exemption declare|revoke|list: DeclareExemption,
 * RevokeExemption, ListExemptions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/v1/grading.pb-c.h"

#define EXEMPTION_MAX_METRICS 64

static const char *scope_name(Grading__V1__ExemptionScope s)
{
    return s == GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_OVERSEAS   ? "overseas"
           : s == GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_DOMESTIC ? "domestic"
                                                                         : "all orders";
}

static int add_row(cli_table_t *t, const Grading__V1__Exemption *x)
{
    char range[32], metrics[512] = "";
    snprintf(range, sizeof range, "%s..%s", x->from, x->to);
    for (size_t i = 0, used = 0; i < x->n_metrics && used < sizeof metrics; i++) {
        int w = snprintf(metrics + used, sizeof metrics - used, "%s%s", i ? "," : "", x->metrics[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    const char *row[] = {x->marketplace, x->id, range, metrics, scope_name(x->scope),
                         x->product_id[0] ? x->product_id : "-", x->reason};
    return cli_table_add_row(t, row);
}

static const char *const head[] = {"MARKETPLACE", "ID", "PAID", "COUNTERS", "SCOPE", "PRODUCT", "REASON"};

static int print_list(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__ListExemptionsResponse *r = (const void *)reply;
    (void)arg;
    if (r->n_exemptions == 0) {
        printf("(no exemptions)\n");
        return CLI_EXIT_OK;
    }
    cli_table_t *t = cli_table_new_with_head(7, "lllllll", head);
    for (size_t i = 0; t && i < r->n_exemptions; i++)
        if (add_row(t, r->exemptions[i])) {
            cli_table_free(t);
            t = NULL;
        }
    if (!t) {
        fprintf(stderr, "gradectl: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    return CLI_EXIT_OK;
}

/* Declare's and Revoke's replies: the exemption and the walk's counts. */
static int print_walk(const Grading__V1__Exemption *x, bool already, uint64_t walked, uint64_t sellers, uint64_t orders)
{
    cli_table_t *t = cli_table_new_with_head(7, "lllllll", head);
    if (!t || (x && add_row(t, x))) {
        cli_table_free(t);
        fprintf(stderr, "gradectl: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    if (already) printf("\nThe same exemption was declared already: nothing changed.\n");
    else
        printf("\n%llu sellers walked, %llu re-graded (%llu orders changed).\n", (unsigned long long)walked,
               (unsigned long long)sellers, (unsigned long long)orders);
    return CLI_EXIT_OK;
}

static int print_declare(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__DeclareExemptionResponse *r = (const void *)reply;
    (void)arg;
    return print_walk(r->exemption, r->already_declared, r->sellers_walked, r->sellers_changed, r->orders_changed);
}

static int print_revoke(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__RevokeExemptionResponse *r = (const void *)reply;
    (void)arg;
    return print_walk(r->exemption, false, r->sellers_walked, r->sellers_changed, r->orders_changed);
}

static int run_exemption(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *op = NULL, *id = NULL, *from = NULL, *to = NULL, *reason = NULL, *note = NULL, *mp = NULL;
    const char *scope = NULL, *product = NULL;
    char *metrics[EXEMPTION_MAX_METRICS];
    size_t nmetrics = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **one = strcmp(a, "--from") == 0 ? &from : strcmp(a, "--to") == 0 ? &to
                           : strcmp(a, "--reason") == 0 ? &reason : strcmp(a, "--note") == 0 ? &note
                           : strcmp(a, "--marketplace") == 0 ? &mp : strcmp(a, "--scope") == 0 ? &scope
                           : strcmp(a, "--product") == 0 ? &product : NULL;
        bool metric = strcmp(a, "--metric") == 0;
        if (one || metric) {
            if (i + 1 >= argc) return cli_usage_error(cmd, "%s needs a value", a);
            if (one) *one = argv[++i];
            for (char *save = NULL, *v = metric ? strtok_r(argv[++i], ",", &save) : NULL; v;
                 v = strtok_r(NULL, ",", &save)) {
                if (nmetrics >= EXEMPTION_MAX_METRICS) return cli_usage_error(cmd, "too many --metric values");
                metrics[nmetrics++] = v;
            }
            continue;
        }
        if (a[0] == '-' && a[1]) return cli_usage_error(cmd, "unknown option %s for exemption", a);
        if (!op) op = a;
        else if (!id) id = a;
        else return cli_usage_error(cmd, "unexpected argument \"%s\"", a);
    }
    if (op && strcmp(op, "list") == 0) {
        if (id) return cli_usage_error(cmd, "exemption list takes no id");
        Grading__V1__ListExemptionsRequest req = GRADING__V1__LIST_EXEMPTIONS_REQUEST__INIT;
        req.marketplace = (char *)(mp ? mp : "");
        return cli_call_and_print(ctx, "ListExemptions", &req.base, &grading__v1__list_exemptions_response__descriptor,
                                  print_list, NULL, NULL);
    }
    if (!op || (strcmp(op, "declare") != 0 && strcmp(op, "revoke") != 0))
        return cli_usage_error(cmd, "exemption: say declare, revoke or list");
    if (!id) return cli_usage_error(cmd, "exemption %s: missing ID", op);
    if (strcmp(op, "revoke") == 0) {
        Grading__V1__RevokeExemptionRequest req = GRADING__V1__REVOKE_EXEMPTION_REQUEST__INIT;
        req.marketplace = (char *)(mp ? mp : "");
        req.id = (char *)id;
        return cli_call_and_print(ctx, "RevokeExemption", &req.base, &grading__v1__revoke_exemption_response__descriptor,
                                  print_revoke, NULL, NULL);
    }
    Grading__V1__Exemption x = GRADING__V1__EXEMPTION__INIT;
    if (scope && strcmp(scope, "overseas") == 0) x.scope = GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_OVERSEAS;
    else if (scope && strcmp(scope, "domestic") == 0) x.scope = GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_DOMESTIC;
    else if (scope && strcmp(scope, "all") != 0)
        return cli_usage_error(cmd, "--scope must be all, overseas or domestic, got \"%s\"", scope);
    x.marketplace = (char *)(mp ? mp : "");
    x.id = (char *)id;
    x.from = (char *)(from ? from : "");
    x.to = (char *)(to ? to : "");
    x.metrics = metrics;
    x.n_metrics = nmetrics;
    x.product_id = (char *)(product ? product : "");
    x.reason = (char *)(reason ? reason : "");
    x.note = (char *)(note ? note : "");
    Grading__V1__DeclareExemptionRequest req = GRADING__V1__DECLARE_EXEMPTION_REQUEST__INIT;
    req.exemption = &x;
    /* the server judges every field (naming it); nothing is checked twice here */
    return cli_call_and_print(ctx, "DeclareExemption", &req.base, &grading__v1__declare_exemption_response__descriptor,
                              print_declare, NULL, NULL);
}

const cli_command_t cli_cmd_exemption = {
    .name = "exemption",
    .synopsis = "declare ID --from DATE --to DATE --metric M... --reason CODE [--scope all|overseas|domestic] "
                "[--product P] [--note TEXT] [--marketplace M] | revoke ID | list",
    .summary = "exempt orders paid in a date range from metrics (DeclareExemption, RevokeExemption, ListExemptions)",
    .help = "Options:\n"
            "  --from, --to DATE  local dates (YYYY-MM-DD) of the orders' payment, inclusive\n"
            "  --metric M         a metric of the policy, a base counter, or all (repeat, or a,b)\n"
            "  --reason CODE      required: a short code (a-z 0-9 _ - .)\n"
            "  --scope S          all (default), overseas or domestic orders\n"
            "  --product P        only this product's orders\n"
            "  --marketplace M    default: the policy's default marketplace\n"
            "\n"
            "Declaring is retroactive (every seller with an order in range is re-graded)\n"
            "and covers orders that arrive later. Revoke undoes it.\n",
    .run = run_exemption,
};
