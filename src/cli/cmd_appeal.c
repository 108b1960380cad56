/* gradectl appeal exclude|restore: ExcludeEvents / RestoreEvents. The ids
 * and metrics repeat (--order a --order b, or --order a,b), so this
 * command sorts its own arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/v1/grading.pb-c.h"

#define APPEAL_MAX_ITEMS 1000

typedef struct {
    char *items[APPEAL_MAX_ITEMS];
    size_t n;
} list_t;

/* Appends the comma-separated values of text (modified in place). */
static bool list_add(list_t *l, char *text)
{
    for (char *save = NULL, *v = strtok_r(text, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        if (l->n >= APPEAL_MAX_ITEMS) return false;
        l->items[l->n++] = v;
    }
    return true;
}

/* "a,b,c", or the first few and "+N more" (an appeal of "all" names
 * every counter). */
#define APPEAL_SHOW_NAMES 6

static void join(char *buf, size_t cap, char *const *names, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    size_t show = n > APPEAL_SHOW_NAMES + 1 ? APPEAL_SHOW_NAMES : n;
    if (show < n) {
        join(buf, cap, names, show);
        used = strlen(buf);
        snprintf(buf + used, cap - used, " +%zu more", n - show);
        return;
    }
    for (size_t i = 0; i < n && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? "," : "", names[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (n == 0) snprintf(buf, cap, "-");
}

/* Exclude's and Restore's replies have the same fields. */
static int print_appeal(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__ExcludeEventsResponse *r = (const void *)reply;
    (void)arg;
    static const char *const head[] = {"RECORD", "ID", "EXCLUDED BEFORE", "EXCLUDED AFTER", "APPEALS", "CHANGED"};
    cli_table_t *t = cli_table_new_with_head(6, "llllrl", head);
    if (!t) goto oom;
    for (size_t i = 0; i < r->n_records; i++) {
        const Grading__V1__AppealedRecord *a = r->records[i];
        char before[512], after[512], appeals[16];
        join(before, sizeof before, a->excluded_before, a->n_excluded_before);
        join(after, sizeof after, a->excluded_after, a->n_excluded_after);
        snprintf(appeals, sizeof appeals, "%u", a->appeals);
        const char *row[] = {a->inquiry ? "inquiry" : "order", a->id, before, after, appeals,
                             a->changed ? "yes" : "no (already so)"};
        if (cli_table_add_row(t, row)) goto oom;
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    printf(r->changed ? "\nThe seller's counters and stored grade were recomputed.\n"
                      : "\nNothing changed: every record was already so.\n");
    if (r->n_reopened_periods) {   /* appeals.reopen_closed */
        char periods[512];
        join(periods, sizeof periods, r->reopened_periods, r->n_reopened_periods);
        printf("Closed periods published again: %s\n", periods);
    }
    return CLI_EXIT_OK;
oom:
    cli_table_free(t);
    fprintf(stderr, "gradectl: out of memory\n");
    return CLI_EXIT_FAIL;
}

static int run_appeal(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    list_t orders = {0}, inquiries = {0}, metrics = {0};
    const char *op = NULL, *seller = NULL, *reason = NULL, *note = NULL, *mp = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        list_t *l = strcmp(a, "--order") == 0 ? &orders : strcmp(a, "--inquiry") == 0 ? &inquiries
                                                       : strcmp(a, "--metric") == 0    ? &metrics
                                                                                       : NULL;
        const char **one = strcmp(a, "--reason") == 0 ? &reason : strcmp(a, "--note") == 0 ? &note
                                                              : strcmp(a, "--marketplace") == 0 ? &mp
                                                                                               : NULL;
        if (l || one) {
            if (i + 1 >= argc) return cli_usage_error(cmd, "%s needs a value", a);
            if (l && !list_add(l, argv[++i])) return cli_usage_error(cmd, "at most %d %s values", APPEAL_MAX_ITEMS, a);
            if (one) *one = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1]) return cli_usage_error(cmd, "unknown option %s for appeal", a);
        if (!op) op = a;
        else if (!seller) seller = a;
        else return cli_usage_error(cmd, "unexpected argument \"%s\"", a);
    }
    if (!op || (strcmp(op, "exclude") != 0 && strcmp(op, "restore") != 0))
        return cli_usage_error(cmd, "appeal: say exclude or restore");
    if (!seller) return cli_usage_error(cmd, "appeal %s: missing SELLER", op);
    if (orders.n + inquiries.n == 0) return cli_usage_error(cmd, "appeal %s: name --order or --inquiry", op);
    if (metrics.n == 0) return cli_usage_error(cmd, "appeal %s: name --metric (a metric, a counter, or all)", op);
    if (!reason) return cli_usage_error(cmd, "appeal %s: --reason CODE is required", op);
    bool restore = strcmp(op, "restore") == 0;
    /* the requests have the same fields; Restore's is sent under its own name */
    Grading__V1__ExcludeEventsRequest req = GRADING__V1__EXCLUDE_EVENTS_REQUEST__INIT;
    Grading__V1__RestoreEventsRequest rreq = GRADING__V1__RESTORE_EVENTS_REQUEST__INIT;
    req.seller_id = rreq.seller_id = (char *)seller;
    req.marketplace = rreq.marketplace = (char *)(mp ? mp : "");
    req.order_ids = rreq.order_ids = orders.items;
    req.n_order_ids = rreq.n_order_ids = orders.n;
    req.inquiry_ids = rreq.inquiry_ids = inquiries.items;
    req.n_inquiry_ids = rreq.n_inquiry_ids = inquiries.n;
    req.metrics = rreq.metrics = metrics.items;
    req.n_metrics = rreq.n_metrics = metrics.n;
    req.reason = rreq.reason = (char *)reason;
    req.note = rreq.note = (char *)(note ? note : "");
    return restore ? cli_call_and_print(ctx, "RestoreEvents", &rreq.base, &grading__v1__restore_events_response__descriptor,
                                        print_appeal, NULL, NULL)
                   : cli_call_and_print(ctx, "ExcludeEvents", &req.base, &grading__v1__exclude_events_response__descriptor,
                                        print_appeal, NULL, NULL);
}

const cli_command_t cli_cmd_appeal = {
    .name = "appeal",
    .synopsis = "exclude|restore SELLER --order ID... [--inquiry ID...] --metric M... --reason CODE [--note TEXT] "
                "[--marketplace M]",
    .summary = "exclude a seller's orders from metrics, or restore them (ExcludeEvents, RestoreEvents)",
    .help = "Options (--order, --inquiry and --metric repeat, or take a,b,c):\n"
            "  --order ID         an order of the seller\n"
            "  --inquiry ID       an inquiry of the seller\n"
            "  --metric M         a metric of the policy (the base counters it reads), a base\n"
            "                     counter (shipped, cancels_seller_fault, ...), or all\n"
            "  --reason CODE      required: a short code (a-z 0-9 _ - .), e.g. carrier_strike\n"
            "  --note TEXT        optional, kept in the audit trail\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "\n"
            "The seller's counters and stored grade are recomputed at once and the change\n"
            "is audited with the caller. The same appeal twice changes nothing (says so).\n"
            "Published grades of closed periods stay as published.\n",
    .run = run_appeal,
};
