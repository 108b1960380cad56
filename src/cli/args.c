/* Argument parsing shared by gradectl's commands: options and positionals
 * in any order, "--name value" or "--name=value", "--" to end options
 * (so a file may be called "--odd"), "-" is a positional (stdin). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/pbjson.h"
#include "google/protobuf/timestamp.pb-c.h"

int cli_usage_error(const cli_command_t *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("gradectl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd) fprintf(stderr, "usage: gradectl %s %s (see gradectl %s --help)\n", cmd->name, cmd->synopsis, cmd->name);
    return CLI_EXIT_USAGE;
}

static const cli_opt_t *find_opt(const cli_opt_t *opts, const char *arg, size_t len)
{
    for (const cli_opt_t *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0) return o;
    return NULL;
}

int cli_parse_args(const cli_command_t *cmd, int argc, char **argv, const cli_opt_t *opts, char **pos,
                   int min_pos, int max_pos, int *npos)
{
    bool options_done = false;
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] != '\0') {
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            const cli_opt_t *o = find_opt(opts, a, len);
            if (!o) return cli_usage_error(cmd, "unknown option %.*s for %s", (int)len, a, cmd->name);
            if (!o->value) {
                if (eq) return cli_usage_error(cmd, "%s takes no value", o->name);
                *o->flag = true;
                continue;
            }
            if (eq) {
                *o->value = eq + 1;
            } else {
                if (i + 1 >= argc) return cli_usage_error(cmd, "%s needs a value", o->name);
                *o->value = argv[++i];
            }
            continue;
        }
        if (*npos >= max_pos) return cli_usage_error(cmd, "unexpected argument \"%s\"", a);
        pos[(*npos)++] = argv[i];
    }
    if (*npos < min_pos) return cli_usage_error(cmd, "%s: missing argument", cmd->name);
    return CLI_EXIT_OK;
}

int cli_parse_timestamp(const cli_command_t *cmd, const char *flag, const char *text, ProtobufCMessage **out)
{
    grading_error_t e = {0};
    int64_t secs;
    int32_t nanos;
    *out = NULL;
    if (grading_pbjson_timestamp_parse(text, &secs, &nanos, &e))
        return cli_usage_error(cmd, "%s: %s", flag, e.message);
    Google__Protobuf__Timestamp *ts = malloc(sizeof *ts);
    if (!ts) {
        fprintf(stderr, "gradectl: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    google__protobuf__timestamp__init(ts);
    ts->seconds = secs;
    ts->nanos = nanos;
    *out = &ts->base;
    return CLI_EXIT_OK;
}
