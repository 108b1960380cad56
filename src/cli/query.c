/* The per-seller query: "SELLER [--marketplace M] [--as-of T]", the start
 * of grade, penalties, ads, settlement, metrics and history.
 *
 * One parser makes their arguments and usage errors the same everywhere;
 * a command adds its own options (grade's --explain, history's --kind)
 * and says with flags which of the shared rules it follows. The query
 * borrows its strings from argv and owns only the --as-of timestamp, so
 * one cli_seller_query_destroy is the whole cleanup.
 *
 * cli_print_subject, the first line of every per-seller answer, is here
 * too: it prints what the query named. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/pbjson.h"

int cli_seller_query_parse_as_of(const cli_command_t *cmd, const char *text, cli_seller_query_t *q)
{
    ProtobufCMessage *ts = NULL;
    int rc = cli_parse_timestamp(cmd, "--as-of", text, &ts);
    if (rc) return rc;
    if (q->as_of) protobuf_c_message_free_unpacked(&q->as_of->base, NULL);
    q->as_of = (Google__Protobuf__Timestamp *)ts;
    return CLI_EXIT_OK;
}

int cli_parse_seller_query(const cli_command_t *cmd, int argc, char **argv, const cli_opt_t *extra, unsigned flags,
                           cli_seller_query_t *q)
{
    const char *as_of = NULL;
    char *pos[1];
    int npos, rc;

    memset(q, 0, sizeof *q);
    cli_opt_t opts[2 + CLI_QUERY_MAX_EXTRA + 1] = {{"--marketplace", &q->marketplace, NULL}};
    size_t nopts = 1;
    if (flags & CLI_QUERY_AS_OF) opts[nopts++] = (cli_opt_t){"--as-of", &as_of, NULL};
    for (const cli_opt_t *o = extra; o && o->name; o++) {
        if (nopts == 2 + CLI_QUERY_MAX_EXTRA) {
            fprintf(stderr, "gradectl: %s has more than %d options of its own\n", cmd->name, CLI_QUERY_MAX_EXTRA);
            return CLI_EXIT_FAIL;
        }
        opts[nopts++] = *o;
    }
    opts[nopts] = (cli_opt_t){NULL, NULL, NULL};

    /* Without SELLER in min_pos a missing one reaches the check below. */
    int min_pos = flags & CLI_QUERY_NAME_MISSING_SELLER ? 0 : 1;
    if ((rc = cli_parse_args(cmd, argc, argv, opts, pos, min_pos, 1, &npos))) return rc;
    if (npos < 1) return cli_usage_error(cmd, "missing SELLER");
    if (!pos[0][0]) return cli_usage_error(cmd, "SELLER must not be empty");
    q->seller = pos[0];
    if ((flags & CLI_QUERY_NO_EMPTY_MARKETPLACE) && q->marketplace && !*q->marketplace)
        return cli_usage_error(cmd, "--marketplace must not be empty");
    if (as_of) return cli_seller_query_parse_as_of(cmd, as_of, q);
    return CLI_EXIT_OK;
}

void cli_seller_query_destroy(cli_seller_query_t *q)
{
    if (q->as_of) protobuf_c_message_free_unpacked(&q->as_of->base, NULL);
    q->as_of = NULL;
}

void cli_print_subject(const char *seller, const char *marketplace, const Google__Protobuf__Timestamp *as_of,
                       const char *policy_version)
{
    char when[GRADING_PBJSON_TIMESTAMP_MAX] = "now";
    if (as_of) grading_pbjson_timestamp_format(as_of->seconds, as_of->nanos, when, sizeof when);
    printf("seller %s  marketplace %s  as of %s", seller, marketplace && *marketplace ? marketplace : "(default)",
           when);
    if (policy_version && *policy_version) printf("  policy %s", policy_version);
    printf("\n\n");
}
