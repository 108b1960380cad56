/* Commands (kafka.h): appeals and exemptions through the topic.
 *
 * Encoding: a message whose header "grading-command" names the command
 * ("exclude-v1", "restore-v1", "declare-exemption-v1",
 * "revoke-exemption-v1"), the value the protobuf bytes of the request, the
 * key its seller_id (appeals: ordered with the seller's events) or
 * marketplace (exemptions), the caller in header "grading-caller". As for
 * close markers, only the header makes a command; a command that does not
 * decode or fails its checks on apply is dead-lettered.
 *
 * An appeal is applied in the same transaction as its partition's offset.
 * An exemption's declaration and its walk over the marketplace's sellers
 * (paged through the writer, on the consumer thread as a marker close is)
 * come before the offset: a replay after a crash declares the same again
 * (already) or revokes what is gone, and either way walks again, which
 * finishes an interrupted walk. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appeal_pb.h"
#include "grading/log.h"
#include "grading/pbcheck.h"
#include "kafka_internal.h"

#define COMMAND_HEADER "grading-command"
#define CALLER_HEADER "grading-caller"
#define CALLER_MAX 128

static const struct {
    grading_kafka_command_t cmd;
    const char *name;
    const ProtobufCMessageDescriptor *desc;
} COMMANDS[] = {
    {GRADING_KAFKA_CMD_EXCLUDE, "exclude-v1", &grading__v1__exclude_events_request__descriptor},
    {GRADING_KAFKA_CMD_RESTORE, "restore-v1", &grading__v1__restore_events_request__descriptor},
    {GRADING_KAFKA_CMD_DECLARE, "declare-exemption-v1", &grading__v1__declare_exemption_request__descriptor},
    {GRADING_KAFKA_CMD_REVOKE, "revoke-exemption-v1", &grading__v1__revoke_exemption_request__descriptor},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static size_t command_at(grading_kafka_command_t cmd)
{
    size_t i = 0;
    while (i + 1 < NCOMMANDS && COMMANDS[i].cmd != cmd) i++;
    return i;
}

int kafka_command_parse(const rd_kafka_message_t *m, grading_kafka_command_t *cmd, char *why, size_t len)
{
    const void *v = NULL;
    size_t vlen = 0;
    if (!kafka_header(m, COMMAND_HEADER, &v, &vlen)) return 0;
    for (size_t i = 0; v && i < NCOMMANDS; i++)
        if (vlen == strlen(COMMANDS[i].name) && memcmp(v, COMMANDS[i].name, vlen) == 0) {
            *cmd = COMMANDS[i].cmd;
            return 1;
        }
    snprintf(why, len, "command: unknown header %s \"%.*s\"", COMMAND_HEADER, v ? (int)(vlen > 64 ? 64 : vlen) : 0,
             v ? (const char *)v : "");
    return -1;
}

/* ---- the consumer's side ---- */

/* Errors a command's data decides (the same on every replica): dead-lettered. */
static bool data_error(grading_err_t err)
{
    return err == GRADING_EINVAL || err == GRADING_ENOTFOUND || err == GRADING_ESTATE || err == GRADING_ERANGE ||
           err == GRADING_EEXIST;
}

typedef struct {
    grading_err_t (*offset)(void *ctx, grading_txn_t *txn, int64_t now_ms);
    void *offset_ctx;
    const grading_policy_t *p;
    grading_appeal_req_t req;
    int64_t when;
    grading_ingest_report_t *report;
} appeal_t;

/* In the writer's transaction: the offset and the appeal. */
static grading_err_t write_appeal(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    appeal_t *a = ctx;
    grading_err_t err = a->offset(a->offset_ctx, txn, now_ms);
    if (err) return err;
    grading_appeal_result_t res;
    grading_error_t e = {0};
    err = grading_appeal_apply(txn, a->p, &a->req, a->when, &res, &e);
    if (!err) grading_appeal_result_free(&res);
    else if (data_error(err)) a->report->error = e;   /* the rest the disk decides: retried */
    return err;
}

static grading_err_t apply_appeal(grading_kafka_t *k, appeal_t *a, char *why, size_t len)
{
    grading_ingest_report_t report = {0};
    a->report = &report;
    grading_ingest_batch_t b = {.n = 0, .apply = write_appeal, .apply_ctx = a, .report = &report};
    grading_err_t err = kafka_run_batch(k, NULL, &b);
    if (err && err != GRADING_ESHUTDOWN) grading_error_format(&report.error, why, len);
    return err;
}

/* Declares or revokes, then walks; retries what the disk refused. */
static grading_err_t apply_exemption(grading_kafka_t *k, const grading_policy_t *p, const ProtobufCMessage *msg,
                                     bool revoke, const char *caller, int64_t when, char *why, size_t len)
{
    grading_exempt_req_t r = {0};
    grading_error_t e = {0};
    const char *mpname;
    if (revoke) {
        const Grading__V1__RevokeExemptionRequest *req = (const void *)msg;
        mpname = req->marketplace;
        r = (grading_exempt_req_t){.marketplace = req->marketplace, .id = req->id, .caller = caller};
    } else if (rpc_exempt_req_from_pb((const void *)msg, caller, &r, &e)) {
        grading_error_format(&e, why, len);
        return e.code;
    } else {
        mpname = r.marketplace;
    }
    for (;;) {
        grading_exempt_result_t res;
        e = (grading_error_t){0};
        grading_err_t err = revoke ? grading_exempt_revoke(k->o.store, k->o.ingest, p, r.marketplace, r.id, caller,
                                                           &res, &e)
                                   : grading_exempt_declare(k->o.store, k->o.ingest, p, &r, when, &res, &e);
        bool gone = revoke && err == GRADING_ENOTFOUND && strcmp(e.field, "id") == 0;
        if (gone || (!err && res.already)) {
            /* a replay: what it changed is stored; the walk may not have finished */
            const grading_marketplace_t *mp = grading_policy_marketplace(p, mpname);
            memset(&res, 0, sizeof res);
            err = mp ? grading_exempt_walk(k->o.store, k->o.ingest, p, mp, &res) : GRADING_OK;
            if (err) grading_error_set(&e, err, "", "the walk over the sellers stopped: %s", grading_err_name(err));
        }
        if (!err) return GRADING_OK;
        if (err == GRADING_ESHUTDOWN || atomic_load(&k->stopping)) return GRADING_ESHUTDOWN;
        grading_error_format(&e, why, len);
        if (data_error(err)) return err;
        grading_log(GRADING_LOG_ERROR, "kafka: applying an exemption failed (%s); retrying", why);
        kafka_backoff(k, 500);
    }
}

grading_err_t kafka_apply_command(grading_kafka_t *k, const grading_policy_t *p, const rd_kafka_message_t *m,
                                  grading_kafka_command_t cmd, int64_t when,
                                  grading_err_t (*offset)(void *ctx, grading_txn_t *txn, int64_t now_ms),
                                  void *offset_ctx, char *why, size_t len)
{
    const ProtobufCMessageDescriptor *d = COMMANDS[command_at(cmd)].desc;
    ProtobufCMessage *msg = NULL;
    grading_error_t e = {0};
    if (grading_pb_decode(d, m->payload, m->len, &msg, &e)) {
        char what[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 8];
        grading_error_format(&e, what, sizeof what);
        snprintf(why, len, "command %s: not a %s: %s", COMMANDS[command_at(cmd)].name, d->short_name, what);
        return GRADING_EINVAL;
    }
    char caller[CALLER_MAX] = "kafka";
    const void *v = NULL;
    size_t vlen = 0;
    if (kafka_header(m, CALLER_HEADER, &v, &vlen) && v && vlen > 0 && vlen < sizeof caller) {
        memcpy(caller, v, vlen);
        caller[vlen] = '\0';
    }
    grading_err_t err;
    if (cmd == GRADING_KAFKA_CMD_EXCLUDE || cmd == GRADING_KAFKA_CMD_RESTORE) {
        appeal_t a = {.offset = offset, .offset_ctx = offset_ctx, .p = p, .when = when};
        rpc_appeal_req_from_pb((const void *)msg, cmd == GRADING_KAFKA_CMD_RESTORE, caller, &a.req);
        err = apply_appeal(k, &a, why, len);
    } else {
        err = apply_exemption(k, p, msg, cmd == GRADING_KAFKA_CMD_REVOKE, caller, when, why, len);
        grading_ingest_batch_t b = {.n = 0, .apply = offset, .apply_ctx = offset_ctx};
        if (!err) err = kafka_run_batch(k, NULL, &b);
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    return err;
}

/* ---- the producer's side ---- */

grading_err_t grading_kafka_produce_command(grading_kafka_t *k, grading_kafka_command_t cmd, const char *key,
                                            const ProtobufCMessage *req, const char *caller,
                                            grading_kafka_done_cb done, void *ctx, char *why, size_t why_len)
{
    snprintf(why, why_len, "the Kafka producer is stopping");
    if (atomic_load(&k->stopping)) return GRADING_ESHUTDOWN;
    snprintf(why, why_len, "out of memory");
    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t *buf = malloc(len ? len : 1);
    kafka_call_t *c = kafka_call_new(1, true, done, ctx);
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    if (!buf || !c || !h) {
        free(buf);
        kafka_call_free(c);
        if (h) rd_kafka_headers_destroy(h);
        return GRADING_ENOMEM;
    }
    protobuf_c_message_pack(req, buf);
    c->events_in[0] = 1;
    c->command = true;
    rd_kafka_header_add(h, COMMAND_HEADER, -1, COMMANDS[command_at(cmd)].name, -1);
    if (caller && caller[0]) rd_kafka_header_add(h, CALLER_HEADER, -1, caller, -1);
    /* handed over (copied) before its report can finish c */
    pthread_mutex_lock(&k->mu);
    rd_kafka_resp_err_t rerr =
        rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(k->topic), RD_KAFKA_V_KEY(key, strlen(key)),
                          RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(c), RD_KAFKA_V_END);
    pthread_mutex_unlock(&k->mu);
    free(buf);
    if (!rerr) return GRADING_OK;
    rd_kafka_headers_destroy(h);   /* not taken on failure */
    kafka_call_free(c);
    snprintf(why, why_len, "the Kafka producer refused the %s command: %s", COMMANDS[command_at(cmd)].name,
             rd_kafka_err2str(rerr));
    return rerr == RD_KAFKA_RESP_ERR__QUEUE_FULL || rerr == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? GRADING_EFULL
                                                                                                  : GRADING_ESHUTDOWN;
}
