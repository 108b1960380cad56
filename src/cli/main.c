/* gradectl: the command-line client of GradingService.
 *
 * `gradectl [global flags] COMMAND [args]`. Global flags may stand
 * anywhere on the line (`gradectl metrics S1 --json` works), so they are
 * lifted out first and the command sees only its own arguments. The
 * command table below is the one place a new command is listed.
 *
 * Exit codes: 0 done, 1 the call or the input failed, 2 usage error,
 * 3 the server could not be reached or did not answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_command_t *const commands[] = {
    &cli_cmd_record,
    &cli_cmd_backfill,
    &cli_cmd_metrics,
    &cli_cmd_grade,
    &cli_cmd_penalties,
    &cli_cmd_boosts,
    &cli_cmd_ads,
    &cli_cmd_settlement,
    &cli_cmd_close,
    &cli_cmd_history,
    &cli_cmd_forecast,
    &cli_cmd_policy,
    &cli_cmd_health,
    &cli_cmd_audit,
    &cli_cmd_watch,
    &cli_cmd_evidence,
    &cli_cmd_backup,
    &cli_cmd_appeal,
    &cli_cmd_exemption,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: gradectl [--addr HOST:PORT] [--json] [--timeout-ms N] COMMAND [ARGS]\n"
            "\n"
            "Talks to the grading service (GradingService over gRPC; TLS with --tls-ca).\n"
            "\n"
            "Global flags (anywhere on the line):\n"
            "  --addr HOST:PORT   server address (default $GRADING_ADDR, else %s)\n"
            "  --json             print replies as JSON (proto field names) for scripts\n"
            "  --timeout-ms N     deadline of each call in milliseconds (default 30000)\n"
            "  --tls-ca FILE      talk TLS; the server's CA (PEM) (default $GRADING_TLS_CA)\n"
            "  --tls-cert FILE    client certificate for mTLS (default $GRADING_TLS_CERT)\n"
            "  --tls-key FILE     its private key (default $GRADING_TLS_KEY)\n"
            "  --token TOKEN      send \"authorization: Bearer TOKEN\" (default $GRADING_TOKEN)\n"
            "  --help, -h         this text; `gradectl COMMAND --help` for a command\n"
            "\n"
            "Commands:\n",
            CLI_DEFAULT_ADDR);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-11s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nExit status: 0 done, 1 the server or the input said no, 2 usage error,\n"
                 "3 the server could not be reached or did not answer (UNAVAILABLE,\n"
                 "DEADLINE_EXCEEDED: retrying may help).\n");
}

static void print_command_help(const cli_command_t *cmd)
{
    printf("usage: gradectl [global flags] %s %s\n\n%s\n\n%s", cmd->name, cmd->synopsis, cmd->summary,
           cmd->help);
}

static const cli_command_t *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]; advances *i past
 * the value. Returns 1 on a match, 0 if not this flag, -1 if the value is
 * missing. */
static int flag_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *value = argv[++*i];
    return 1;
}

int main(int argc, char **argv)
{
    cli_ctx_t ctx = {.addr = getenv("GRADING_ADDR")};
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0, rc = CLI_EXIT_USAGE;
    bool help = false, no_more_flags = false;

    if (!rest) {
        fprintf(stderr, "gradectl: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    if (!ctx.addr || !*ctx.addr) ctx.addr = CLI_DEFAULT_ADDR;
    cli_security_env(&ctx);

    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int m;
        if (no_more_flags) {
            rest[nrest++] = argv[i];
        } else if (strcmp(argv[i], "--") == 0) {
            no_more_flags = true;
            rest[nrest++] = argv[i];   /* the command's parser ends its options here too */
        } else if (strcmp(argv[i], "--json") == 0) {
            ctx.json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help = true;
        } else if ((m = cli_security_flag(&ctx, argc, argv, &i)) != 0) {
            if (m < 0) goto done;
        } else if ((m = flag_value(argc, argv, &i, "--addr", &v)) != 0) {
            if (m < 0 || !*v) {
                fprintf(stderr, "gradectl: --addr needs HOST:PORT\n");
                goto done;
            }
            ctx.addr = v;
        } else if ((m = flag_value(argc, argv, &i, "--timeout-ms", &v)) != 0) {
            char *end;
            errno = 0;
            long long t = m > 0 ? strtoll(v, &end, 10) : 0;
            if (m < 0 || !*v || *end || errno || t <= 0 || t > INT32_MAX) {
                fprintf(stderr, "gradectl: --timeout-ms needs a positive number of milliseconds, got \"%s\"\n",
                        m < 0 ? "" : v);
                goto done;
            }
            ctx.timeout_ms = t;
        } else {
            rest[nrest++] = argv[i];
        }
    }

    if (nrest == 0) {
        print_usage(help ? stdout : stderr);
        rc = help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        goto done;
    }
    if (strcmp(rest[0], "help") == 0) {
        const cli_command_t *cmd = nrest > 1 ? find_command(rest[1]) : NULL;
        if (nrest > 1 && !cmd) {
            fprintf(stderr, "gradectl: unknown command \"%s\" (see gradectl --help)\n", rest[1]);
            goto done;
        }
        if (cmd) print_command_help(cmd);
        else print_usage(stdout);
        rc = CLI_EXIT_OK;
        goto done;
    }
    const cli_command_t *cmd = find_command(rest[0]);
    if (!cmd) {
        fprintf(stderr, "gradectl: unknown command \"%s\" (see gradectl --help)\n", rest[0]);
        goto done;
    }
    if (help) {
        print_command_help(cmd);
        rc = CLI_EXIT_OK;
        goto done;
    }
    rc = cmd->run(&ctx, cmd, nrest, rest);
done:
    grading_client_free(ctx.client);
    free(rest);
    return rc;
}
