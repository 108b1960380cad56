/* gradectl health: the standard grpc.health.v1.Health/Check, for
 * scripts and probes: exit 0 only when the server answers SERVING. */
#include <string.h>

#include "cli.h"
#include "grpc/health/v1/health.pb-c.h"

/* A cli_print_reply_cb: the status's name. */
static int print_status(const ProtobufCMessage *reply, const void *arg)
{
    const Grpc__Health__V1__HealthCheckResponse *r = (const Grpc__Health__V1__HealthCheckResponse *)reply;
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
        &grpc__health__v1__health_check_response__serving_status__descriptor, r->status);
    (void)arg;
    if (ev) printf("%s\n", ev->name);
    else printf("%d\n", r->status);
    return CLI_EXIT_OK;
}

static int run_health(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *service = NULL;
    char *pos[1];
    int npos, rc;
    ProtobufCMessage *resp = NULL;
    const cli_opt_t opts[] = {{"--service", &service, NULL}, {NULL, NULL, NULL}};

    if ((rc = cli_parse_args(cmd, argc, argv, opts, pos, 0, 0, &npos))) return rc;
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    if (service) req.service = (char *)service;
    rc = cli_call(ctx, "/grpc.health.v1.Health/Check", &req.base,
                  &grpc__health__v1__health_check_response__descriptor, &resp, NULL);
    if (rc) return rc;
    /* the exit status says SERVING or not, whichever way it printed */
    rc = cli_print_reply(ctx, resp, print_status, NULL);
    const Grpc__Health__V1__HealthCheckResponse *r = (const void *)resp;
    if (rc == CLI_EXIT_OK && r->status != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
        rc = CLI_EXIT_FAIL;
    protobuf_c_message_free_unpacked(resp, NULL);
    return rc;
}

const cli_command_t cli_cmd_health = {
    .name = "health",
    .synopsis = "[--service NAME]",
    .summary = "check the server's health (grpc.health.v1.Health/Check)",
    .help = "Options:\n"
            "  --service NAME     the service to ask about (default \"\": the whole server)\n"
            "\n"
            "Prints SERVING or NOT_SERVING (--json: {\"status\": ...}). Exit status 0 only\n"
            "when SERVING, 1 when NOT_SERVING or refused, 3 when the server cannot be\n"
            "reached.\n",
    .run = run_health,
};
