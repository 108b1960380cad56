/* gradectl's internals: the command table, the shared context and the
 * helpers every command uses (argument parsing, calls, output).
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

#include "grading/client.h"

/* Exit codes: the contract with scripts. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1    /* the server said no, a file is bad, the call failed */
#define CLI_EXIT_USAGE 2   /* bad flags or arguments */

#define CLI_DEFAULT_ADDR "127.0.0.1:50051"
#define CLI_SERVICE "/grading.v1.GradingService/"

typedef struct {
    const char *addr;
    bool json;
    int64_t timeout_ms;          /* <= 0: the client's default */
    grading_client_t *client;    /* made on first call */
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

/* ---- output ---- */

/* Prints m as indented JSON (defaults included) on stdout. */
int cli_print_json(const ProtobufCMessage *m);

/* Prints the first line of a seller's answer: "seller S  marketplace M
 * as of T  policy V"; a NULL or empty marketplace prints "(default)", a
 * NULL as_of "now", an empty version nothing (defined in cmd_grade.c). */
void cli_print_subject(const char *seller, const char *marketplace, const ProtobufCMessage *as_of,
                       const char *policy_version);

/* Prints j on stdout (indented) and consumes it. */
int cli_print_json_value(json_t *j);

/* Formats a number for people: integers plainly ("1500000"), others with
 * up to 4 decimals ("0.0312"). */
void cli_format_number(double v, char *buf, size_t len);

/* A text table: columns padded to their widest cell, separated by two
 * spaces; align holds one 'l' or 'r' per column. */
typedef struct cli_table cli_table_t;

cli_table_t *cli_table_new(size_t ncols, const char *align);
/* Copies ncols cells (NULL prints as "-"). Returns -1 on allocation failure. */
int cli_table_add_row(cli_table_t *t, const char *const *cells);
void cli_table_print(const cli_table_t *t, FILE *out);
void cli_table_free(cli_table_t *t);

#endif
