/* gradectl watch: WatchGradeChanges, one line per change as it comes
 * (--json: one JSON object per line), until the server ends the stream,
 * --limit changes were printed, or the user interrupts. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/pbjson.h"
#include "grading/v1/grading.pb-c.h"

#define WATCH_MAX_KINDS 4

static const struct {
    const char *name;
    Grading__V1__ChangeKind kind;
} kind_names[] = {
    {"boost", GRADING__V1__CHANGE_KIND__CHANGE_KIND_BOOST},
    {"suspension", GRADING__V1__CHANGE_KIND__CHANGE_KIND_SUSPENSION},
    {"live", GRADING__V1__CHANGE_KIND__CHANGE_KIND_LIVE_LEVELS},
    {"published", GRADING__V1__CHANGE_KIND__CHANGE_KIND_PUBLISHED_LEVELS},
};

static const char *kind_name(Grading__V1__ChangeKind k)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (kind_names[i].kind == k) return kind_names[i].name;
    return "?";
}

/* "boost,live" into kinds; false on a name that is not a kind. */
static bool parse_kinds(const char *text, Grading__V1__ChangeKind *kinds, size_t *n)
{
    *n = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        bool found = false;
        for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
            if (strlen(kind_names[i].name) == len && strncmp(kind_names[i].name, p, len) == 0) {
                if (*n < WATCH_MAX_KINDS) kinds[(*n)++] = kind_names[i].kind;
                found = true;
            }
        if (!found) return false;
        p += len;
        if (*p == ',') p++;
    }
    return *n > 0;
}

static int print_change(const cli_ctx_t *ctx, const Grading__V1__GradeChange *c)
{
    if (ctx->json) {
        json_t *j = NULL;
        grading_error_t e = {0};
        if (grading_pbjson_from_message(&c->base, GRADING_PBJSON_EMIT_DEFAULTS, &j, &e)) {
            fprintf(stderr, "gradectl: cannot print a change as JSON: %s\n", e.message);
            return CLI_EXIT_FAIL;
        }
        char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
        json_decref(j);
        if (!text) return CLI_EXIT_FAIL;
        printf("%s\n", text);
        free(text);
        return CLI_EXIT_OK;
    }
    char when[GRADING_PBJSON_TIMESTAMP_MAX] = "";
    if (c->time) grading_pbjson_timestamp_format(c->time->seconds, c->time->nanos, when, sizeof when);
    char kinds[64] = "", levels[256] = "", boost[32];
    for (size_t i = 0; i < c->n_kinds; i++) {
        size_t len = strlen(kinds);
        snprintf(kinds + len, sizeof kinds - len, "%s%s", i ? "," : "", kind_name(c->kinds[i]));
    }
    for (size_t i = 0; i < c->n_levels; i++) {
        size_t len = strlen(levels);
        snprintf(levels + len, sizeof levels - len, "%s%s=%" PRId32, i ? "," : "", c->levels[i]->program,
                 c->levels[i]->level);
    }
    cli_format_number(c->boost, boost, sizeof boost);
    printf("%s  %s  %s  %s  %s  boost=%s  suspended=%s  levels=%s%s%s\n", c->token, when, c->marketplace,
           c->seller_id, kinds, boost, c->suspended ? "yes" : "no", levels[0] ? levels : "-",
           c->period[0] ? "  period=" : "", c->period);
    return CLI_EXIT_OK;
}

static int run_watch(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *mp = NULL, *from = NULL, *kinds_text = NULL, *seller = NULL, *limit_text = NULL;
    char *pos[1];
    int npos, rc;
    const cli_opt_t opts[] = {{"--marketplace", &mp, NULL}, {"--from", &from, NULL},
                              {"--kinds", &kinds_text, NULL}, {"--seller", &seller, NULL},
                              {"--limit", &limit_text, NULL}, {NULL, NULL, NULL}};
    if ((rc = cli_parse_args(cmd, argc, argv, opts, pos, 0, 0, &npos))) return rc;
    Grading__V1__WatchGradeChangesRequest req = GRADING__V1__WATCH_GRADE_CHANGES_REQUEST__INIT;
    Grading__V1__ChangeKind kinds[WATCH_MAX_KINDS];
    char *sellers[1];
    unsigned long limit = 0;
    if (kinds_text && !parse_kinds(kinds_text, kinds, &req.n_kinds))
        return cli_usage_error(cmd, "--kinds must list boost, suspension, live or published, got \"%s\"", kinds_text);
    req.kinds = kinds;
    if (limit_text) {
        char *end;
        errno = 0;
        limit = strtoul(limit_text, &end, 10);
        if (!limit_text[0] || limit_text[0] == '-' || *end || errno || limit == 0)
            return cli_usage_error(cmd, "--limit must be a positive number of changes, got \"%s\"", limit_text);
    }
    if (seller) {
        if (!seller[0]) return cli_usage_error(cmd, "--seller must not be empty");
        sellers[0] = (char *)seller;
        req.seller_ids = sellers;
        req.n_seller_ids = 1;
    }
    req.marketplace = (char *)(mp ? mp : "");
    req.resume_token = (char *)(from ? from : "");

    grading_error_t ce = {0};
    if (!ctx->client && grading_client_new_opts(ctx->addr, &ctx->conn, &ctx->client, &ce)) {
        fprintf(stderr, "gradectl: cannot create a client for %s: %s\n", ctx->addr, ce.message);
        return CLI_EXIT_FAIL;
    }
    grading_client_stream_t *s = NULL;
    if (grading_client_stream_open(ctx->client, CLI_SERVICE "WatchGradeChanges", &req.base, &s)) {
        fprintf(stderr, "gradectl: cannot start WatchGradeChanges at %s\n", ctx->addr);
        return CLI_EXIT_UNREACHABLE;
    }
    unsigned long printed = 0;
    rc = CLI_EXIT_OK;
    for (;;) {
        ProtobufCMessage *msg = NULL;
        bool timed_out;
        grading_call_result_t res = {0};
        grading_err_t err = grading_client_stream_next(s, &grading__v1__watch_grade_changes_response__descriptor, 0,
                                                       &msg, &timed_out, &res);
        if (err) {
            fprintf(stderr, "gradectl: a message of the stream does not decode (%s)\n", grading_err_name(err));
            rc = CLI_EXIT_FAIL;
            break;
        }
        if (!msg) {   /* the server ended the stream */
            if (res.status != GRPC_STATUS_OK) {
                fprintf(stderr, "gradectl: %s: %s\n", grading_status_name(res.status),
                        res.details && res.details[0] ? res.details : "(no details)");
                rc = res.status == GRPC_STATUS_UNAVAILABLE || res.status == GRPC_STATUS_DEADLINE_EXCEEDED
                         ? CLI_EXIT_UNREACHABLE
                         : CLI_EXIT_FAIL;
            }
            grading_call_result_destroy(&res);
            break;
        }
        const Grading__V1__WatchGradeChangesResponse *r = (const void *)msg;
        if (r->n_changes == 0 && !ctx->json) fprintf(stderr, "gradectl: watching from token %s\n", r->token);
        for (size_t i = 0; i < r->n_changes && rc == CLI_EXIT_OK && (!limit || printed < limit); i++, printed++)
            rc = print_change(ctx, r->changes[i]);
        fflush(stdout);
        protobuf_c_message_free_unpacked(msg, NULL);
        if (rc != CLI_EXIT_OK || (limit && printed >= limit)) break;
    }
    grading_client_stream_free(s);
    return rc;
}

const cli_command_t cli_cmd_watch = {
    .name = "watch",
    .synopsis = "[--marketplace M] [--from TOKEN] [--kinds K,...] [--seller ID] [--limit N]",
    .summary = "print changes of sellers' boosts, suspensions and levels as they happen (WatchGradeChanges)",
    .help = "Options:\n"
            "  --marketplace M    only this marketplace's sellers (default: every marketplace)\n"
            "  --from TOKEN       resume right after the change with this token (default: from now)\n"
            "  --kinds K,...      only these kinds: boost, suspension, live, published\n"
            "  --seller ID        only this seller\n"
            "  --limit N          stop after N changes\n"
            "\n"
            "One line per change: token, time, marketplace, seller, kinds, the new boost,\n"
            "suspension and levels (and the period, for levels a close published). Keep\n"
            "the last token: --from it after a disconnect misses nothing and repeats\n"
            "nothing. A token older than the server's change log is OUT_OF_RANGE (exit 1):\n"
            "re-read what you cache, then watch from now. --json prints one JSON object\n"
            "per change and line.\n",
    .run = run_watch,
};
