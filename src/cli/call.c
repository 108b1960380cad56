/* Making a call and printing what came back, for every command.
 *
 * Errors go to stderr as "gradectl: STATUS_NAME: details" so a person
 * sees the server's own words and a script can match the status name.
 * A reply prints as JSON with --json, else through the command's own
 * printer; cli_call_and_print is the whole of a one-call command's end. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/pbjson.h"

int cli_call(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **out, cli_status_t *st)
{
    char path[256];
    grading_call_result_t res = {0};
    int rc = CLI_EXIT_FAIL;

    *out = NULL;
    if (st) {
        st->status = GRPC_STATUS_UNKNOWN;
        st->details[0] = '\0';
    }
    snprintf(path, sizeof path, "%s%s", method[0] == '/' ? "" : CLI_SERVICE, method);
    grading_error_t ce = {0};
    if (!ctx->client && grading_client_new_opts(ctx->addr, &ctx->conn, &ctx->client, &ce)) {
        fprintf(stderr, "gradectl: cannot create a client for %s: %s%s%s\n", ctx->addr, ce.field,
                ce.field[0] ? ": " : "", ce.message);
        return CLI_EXIT_FAIL;
    }
    grading_err_t err = grading_client_call(ctx->client, path, req, resp_desc, ctx->timeout_ms, out, &res);
    const char *details = res.details ? res.details : "";
    if (err == GRADING_EINVAL) {
        fprintf(stderr, "gradectl: the reply of %s from %s is not a %s\n", path, ctx->addr, resp_desc->name);
        goto done;
    }
    if (err) {
        fprintf(stderr, "gradectl: calling %s at %s failed: %s (%s)\n", path, ctx->addr,
                details[0] ? details : "no details", grading_err_name(err));
        rc = CLI_EXIT_UNREACHABLE;
        goto done;
    }
    if (st) {
        st->status = res.status;
        snprintf(st->details, sizeof st->details, "%s", details);
    }
    if (res.status != GRPC_STATUS_OK) {
        fprintf(stderr, "gradectl: %s: %s\n", grading_status_name(res.status),
                details[0] ? details : "(no details)");
        if (res.status == GRPC_STATUS_UNAVAILABLE)
            fprintf(stderr, "gradectl: is gradingd running at %s? (--addr or GRADING_ADDR)\n", ctx->addr);
        /* no answer (transport) vs. the server said no */
        if (res.status == GRPC_STATUS_UNAVAILABLE || res.status == GRPC_STATUS_DEADLINE_EXCEEDED)
            rc = CLI_EXIT_UNREACHABLE;
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    if (rc != CLI_EXIT_OK && *out) {
        protobuf_c_message_free_unpacked(*out, NULL);
        *out = NULL;
    }
    grading_call_result_destroy(&res);
    return rc;
}

int cli_print_json_value(json_t *j)
{
    /* 15 significant digits: 0.1 prints as 0.1, not 0.10000000000000001. */
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (!s) {
        fprintf(stderr, "gradectl: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    puts(s);
    free(s);
    return CLI_EXIT_OK;
}

int cli_print_json(const ProtobufCMessage *m)
{
    json_t *j = NULL;
    grading_error_t e = {0};
    if (grading_pbjson_from_message(m, GRADING_PBJSON_EMIT_DEFAULTS, &j, &e)) {
        char msg[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 4];
        grading_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "gradectl: cannot print the reply as JSON: %s\n", msg);
        return CLI_EXIT_FAIL;
    }
    return cli_print_json_value(j);
}

int cli_print_reply(const cli_ctx_t *ctx, const ProtobufCMessage *reply, cli_print_reply_cb print, const void *arg)
{
    return ctx->json ? cli_print_json(reply) : print(reply, arg);
}

int cli_call_and_print(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *reply_desc, cli_print_reply_cb print, const void *arg,
                       cli_status_t *st)
{
    ProtobufCMessage *reply = NULL;
    int rc = cli_call(ctx, method, req, reply_desc, &reply, st);
    if (rc) return rc;   /* cli_call frees a failed call's reply */
    rc = cli_print_reply(ctx, reply, print, arg);
    protobuf_c_message_free_unpacked(reply, NULL);
    return rc;
}
