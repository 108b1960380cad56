/* gradectl audit: the audit trail (ListAudit), oldest first: closes,
 * policy and authz reloads and a summary of every RecordEvents call. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/pbjson.h"
#include "grading/v1/grading.pb-c.h"

static int print_audit(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__ListAuditResponse *r = (const void *)reply;
    static const char *const head[] = {"TIME", "CALLER", "METHOD", "MARKETPLACE", "PERIOD", "COUNTS", "POLICY",
                                       "DETAIL"};
    (void)arg;
    cli_table_t *t = cli_table_new_with_head(8, "llllllll", head);
    if (!t) goto oom;
    for (size_t i = 0; i < r->n_entries; i++) {
        const Grading__V1__AuditEntry *e = r->entries[i];
        char when[GRADING_PBJSON_TIMESTAMP_MAX] = "";
        char counts[256] = "";
        if (e->time) grading_pbjson_timestamp_format(e->time->seconds, e->time->nanos, when, sizeof when);
        for (size_t c = 0; c < e->n_counts; c++) {
            size_t len = strlen(counts);
            snprintf(counts + len, sizeof counts - len, "%s%s=%" PRId64, c ? " " : "", e->counts[c]->name,
                     e->counts[c]->value);
        }
        const char *row[] = {when, e->caller, e->method, e->marketplace, e->period, counts, e->policy_version,
                             e->detail};
        if (cli_table_add_row(t, row)) goto oom;
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    if (r->truncated) printf("(more entries follow: ask again with --since the last time)\n");
    return CLI_EXIT_OK;
oom:
    cli_table_free(t);
    fprintf(stderr, "gradectl: out of memory\n");
    return CLI_EXIT_FAIL;
}

static int run_audit(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *since = NULL, *limit = NULL;
    char *pos[1];
    int npos, rc;
    const cli_opt_t opts[] = {{"--since", &since, NULL}, {"--limit", &limit, NULL}, {NULL, NULL, NULL}};
    Grading__V1__ListAuditRequest req = GRADING__V1__LIST_AUDIT_REQUEST__INIT;
    ProtobufCMessage *ts = NULL;

    if ((rc = cli_parse_args(cmd, argc, argv, opts, pos, 0, 0, &npos))) return rc;
    if (limit) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(limit, &end, 10);
        if (!limit[0] || *end || errno || limit[0] == '-' || v == 0 || v > 10000)
            return cli_usage_error(cmd, "--limit must be 1..10000, got \"%s\"", limit);
        req.limit = (uint32_t)v;
    }
    if (since && (rc = cli_parse_timestamp(cmd, "--since", since, &ts))) return rc;
    req.since = (Google__Protobuf__Timestamp *)ts;
    rc = cli_call_and_print(ctx, "ListAudit", &req.base, &grading__v1__list_audit_response__descriptor, print_audit,
                            NULL, NULL);
    free(ts);
    return rc;
}

const cli_command_t cli_cmd_audit = {
    .name = "audit",
    .synopsis = "[--since TIME] [--limit N]",
    .summary = "list the audit trail: closes, reloads, RecordEvents calls (ListAudit)",
    .help = "Options:\n"
            "  --since TIME       only entries at or after TIME (RFC 3339)\n"
            "  --limit N          at most N entries, 1..10000 (default 1000)\n"
            "\n"
            "One line per entry, oldest first: time, caller, method, marketplace,\n"
            "period, counts, policy version and detail. --json prints the reply.\n",
    .run = run_audit,
};
