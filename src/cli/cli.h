/* gradectl's internals: the command table, the shared context and the
 * helpers every command uses: argument parsing (args.c), the per-seller
 * query every seller command starts from (query.c), calls and printing
 * their replies (call.c), tables (table.c).
 *
 * A command is a cli_command_t: its name, a one-line synopsis, its help
 * text and a run function. Adding one is a new cmd_<name>.c defining the
 * struct and one line in the table of main.c. */
#ifndef GRADING_CLI_H
#define GRADING_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "grading/client.h"

/* Exit codes: the contract with scripts. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1    /* the server said no, a file is bad, the call failed */
#define CLI_EXIT_USAGE 2   /* bad flags or arguments */
#define CLI_EXIT_UNREACHABLE 3   /* no answer: cannot connect, UNAVAILABLE, DEADLINE_EXCEEDED */
#define CLI_DEFAULT_ADMIN_ADDR "127.0.0.1:9464"

#define CLI_DEFAULT_ADDR "127.0.0.1:50051"
#define CLI_SERVICE "/grading.v1.GradingService/"

typedef struct {
    const char *addr;
    bool json;
    int64_t timeout_ms;          /* <= 0: the client's default */
    grading_client_t *client;    /* made on first call */
    grading_client_options_t conn;   /* TLS files and bearer token (security.c) */
} cli_ctx_t;

typedef struct cli_command {
    const char *name;
    const char *synopsis;   /* "FILE.jsonl..." */
    const char *summary;    /* one line for the command list */
    const char *help;       /* the rest of `gradectl CMD --help` */
    /* argv[0] is the command's name; global flags are already removed. */
    int (*run)(cli_ctx_t *ctx, const struct cli_command *cmd, int argc, char **argv);
} cli_command_t;

extern const cli_command_t cli_cmd_record;
extern const cli_command_t cli_cmd_backfill;
extern const cli_command_t cli_cmd_metrics;
extern const cli_command_t cli_cmd_health;
extern const cli_command_t cli_cmd_grade;
extern const cli_command_t cli_cmd_penalties;
extern const cli_command_t cli_cmd_boosts;
extern const cli_command_t cli_cmd_ads;
extern const cli_command_t cli_cmd_settlement;
extern const cli_command_t cli_cmd_policy;
extern const cli_command_t cli_cmd_close;
extern const cli_command_t cli_cmd_history;
extern const cli_command_t cli_cmd_forecast;
extern const cli_command_t cli_cmd_audit;
extern const cli_command_t cli_cmd_watch;
extern const cli_command_t cli_cmd_evidence;
extern const cli_command_t cli_cmd_appeal;   /* issue 15 */
extern const cli_command_t cli_cmd_exemption;
/* gradectl policy diff FILE (cmd_policy_diff.c); the strings may be NULL. */
int cli_policy_diff(cli_ctx_t *ctx, const cli_command_t *cmd, const char *file, const char *mp, const char *as_of,
                    const char *sample);

/* Takes --tls-ca/--tls-cert/--tls-key/--token FILE|VALUE at argv[*i] into
 * ctx->conn (advancing *i). Returns 1 when it was one of them, 0 when not,
 * -1 after printing a usage error (security.c). */
int cli_security_flag(cli_ctx_t *ctx, int argc, char **argv, int *i);
/* GRADING_TLS_CA/CERT/KEY and GRADING_TOKEN, before the flags. */
void cli_security_env(cli_ctx_t *ctx);
extern const cli_command_t cli_cmd_backup;

/* ---- arguments ---- */

/* One option of a command: "--marketplace M" sets *value, "--explain"
 * (value == NULL) sets *flag. "--name=value" works too. */
typedef struct {
    const char *name;
    const char **value;
    bool *flag;
} cli_opt_t;

/* Sorts argv[1..] into options (opts, terminated by a {NULL} entry) and
 * positionals (into pos, at most max_pos; *npos set). A "--" ends the
 * options. Prints a usage error and returns CLI_EXIT_USAGE when an option
 * is unknown or lacks its value, or the positional count is outside
 * [min_pos, max_pos]; else returns CLI_EXIT_OK. */
int cli_parse_args(const cli_command_t *cmd, int argc, char **argv, const cli_opt_t *opts, char **pos,
                   int min_pos, int max_pos, int *npos);

/* Prints "gradectl: <message>" and "usage: ..." for cmd to stderr and
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_command_t *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fills *out from an RFC 3339 text for a flag named flag; on a bad value
 * prints a usage error and returns CLI_EXIT_USAGE. The caller owns *out
 * (free_unpacked). */
int cli_parse_timestamp(const cli_command_t *cmd, const char *flag, const char *text, ProtobufCMessage **out);

/* ---- the per-seller queries (query.c) ---- */

/* What a per-seller query command was asked: "SELLER [--marketplace M]
 * [--as-of T]". The strings are argv's; as_of is owned by the query. */
typedef struct {
    const char *seller;                  /* not empty */
    const char *marketplace;             /* NULL when not given; may be "" (the default) */
    Google__Protobuf__Timestamp *as_of;  /* NULL when not given */
} cli_seller_query_t;

/* Flags of cli_parse_seller_query. */
#define CLI_QUERY_MAX_EXTRA 5                /* the command's own options at most */
#define CLI_QUERY_AS_OF 0x1u                 /* the command takes --as-of T */
#define CLI_QUERY_NAME_MISSING_SELLER 0x2u   /* no SELLER says "missing SELLER", not "CMD: missing argument" */
#define CLI_QUERY_NO_EMPTY_MARKETPLACE 0x4u  /* --marketplace "" is a usage error */

/* Parses argv (as cli_parse_args) into *q: one SELLER, --marketplace, with
 * CLI_QUERY_AS_OF --as-of, and the command's own options extra (terminated
 * by a {NULL} entry; NULL for none, at most CLI_QUERY_MAX_EXTRA). Checks in
 * the synopsis' order: the arguments, SELLER not empty, --marketplace, then
 * --as-of. Returns CLI_EXIT_OK, or CLI_EXIT_USAGE after printing a usage
 * error (CLI_EXIT_FAIL out of memory); either way *q is ready for
 * cli_seller_query_destroy. */
int cli_parse_seller_query(const cli_command_t *cmd, int argc, char **argv, const cli_opt_t *extra, unsigned flags,
                           cli_seller_query_t *q);

/* Parses text as the --as-of of q (replacing any), for a command that
 * checks its own options first. Returns as cli_parse_timestamp. */
int cli_seller_query_parse_as_of(const cli_command_t *cmd, const char *text, cli_seller_query_t *q);

/* Frees what q owns (its as_of). */
void cli_seller_query_destroy(cli_seller_query_t *q);

/* Prints the first line of a seller's answer: "seller S  marketplace M
 * as of T  policy V"; a NULL or empty marketplace prints "(default)", a
 * NULL as_of "now", an empty version nothing. Then a blank line. */
void cli_print_subject(const char *seller, const char *marketplace, const Google__Protobuf__Timestamp *as_of,
                       const char *policy_version);

/* ---- calls ---- */

/* What a failed call said, for a command that adds its own hint. */
typedef struct {
    grpc_status_code status;   /* GRPC_STATUS_UNKNOWN when no status came back */
    char details[512];
} cli_status_t;

/* Calls method ("GetSellerMetrics" is taken as CLI_SERVICE "GetSellerMetrics";
 * a leading '/' means a full path). Returns CLI_EXIT_OK with *out the reply
 * (caller frees with protobuf_c_message_free_unpacked), or prints
 * "gradectl: STATUS: details" to stderr and returns CLI_EXIT_FAIL; then
 * *out is NULL and *st (when not NULL) holds the status and details. */
int cli_call(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **out, cli_status_t *st);

/* Prints a reply for people on stdout; arg is the command's own.
 * Returns CLI_EXIT_OK, or CLI_EXIT_FAIL after saying why on stderr. */
typedef int (*cli_print_reply_cb)(const ProtobufCMessage *reply, const void *arg);

/* Calls method as cli_call, prints the reply as cli_print_reply and frees
 * it. Returns CLI_EXIT_OK, or CLI_EXIT_FAIL when the call or the printing
 * failed (*st, when not NULL, is the call's status). */
int cli_call_and_print(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *reply_desc, cli_print_reply_cb print, const void *arg,
                       cli_status_t *st);

/* ---- output ---- */

/* Prints m as indented JSON (defaults included) on stdout. */
int cli_print_json(const ProtobufCMessage *m);

/* With --json prints reply as JSON, else print(reply, arg). The reply
 * stays the caller's. */
int cli_print_reply(const cli_ctx_t *ctx, const ProtobufCMessage *reply, cli_print_reply_cb print, const void *arg);

/* Prints j on stdout (indented) and consumes it. */
int cli_print_json_value(json_t *j);

/* Formats a number for people: integers plainly ("1500000"), others with
 * up to 4 decimals ("0.0312"). */
void cli_format_number(double v, char *buf, size_t len);
/* A rate or share as a percentage with one decimal ("33.3"), the one way
 * every command prints them. */
void cli_format_percent(double fraction, char *buf, size_t len);

/* A text table: columns padded to their widest cell, separated by two
 * spaces; align holds one 'l' or 'r' per column. */
typedef struct cli_table cli_table_t;

cli_table_t *cli_table_new(size_t ncols, const char *align);
/* cli_table_new with a first row of ncols cells head; NULL when out of
 * memory. */
cli_table_t *cli_table_new_with_head(size_t ncols, const char *align, const char *const *head);
/* Copies ncols cells (NULL prints as "-"). Returns -1 on allocation failure. */
int cli_table_add_row(cli_table_t *t, const char *const *cells);
void cli_table_print(const cli_table_t *t, FILE *out);
void cli_table_free(cli_table_t *t);

/* A reply's rows grouped by programme, for output that prints a table per
 * programme: groups in the order their programme first appears, each
 * keeping the rows' order. Group k is rows[start[k]] .. rows[start[k+1]-1]. */
typedef struct {
    size_t *rows;     /* row indices, group after group */
    size_t *start;    /* ngroups + 1 */
    size_t ngroups;
} cli_groups_t;

/* Groups the n rows of list by program_at(list, i) (NULL as ""). Returns
 * 0, or -1 out of memory; either way *g is ready for cli_groups_destroy. */
int cli_groups_init(cli_groups_t *g, const void *list, size_t n, const char *(*program_at)(const void *list, size_t i));
void cli_groups_destroy(cli_groups_t *g);

#endif
