/* DeclareExemption, RevokeExemption, ListExemptions: transport only; the
 * work is src/grade/exempt_walk.c's (the writes and the walk on the close
 * worker, off the completion-queue threads). In Kafka mode a declaration
 * or revocation is checked here (nothing written), goes through the topic
 * keyed by marketplace, and every replica applies it and walks
 * (src/kafka/command.c); the call answers once this replica has. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appeal_pb.h"
#include "convert.h"
#include "grading/exempt_walk.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

/* One Exemption message's storage: its strings and counter names. */
typedef struct {
    Grading__V1__Exemption pb;
    Google__Protobuf__Timestamp ts;
    char from[16], to[16];
    char *names[GRADING_C_COUNT];
} exemption_pb_t;

static void day_text(int32_t day, char *buf, size_t cap)
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    snprintf(buf, cap, "%04d-%02u-%02u", (int)y, m, d);
}

static void to_pb(const grading_exemption_t *x, exemption_pb_t *o)
{
    grading__v1__exemption__init(&o->pb);
    o->pb.marketplace = (char *)x->marketplace;
    o->pb.id = (char *)x->id;
    day_text(x->from_day, o->from, sizeof o->from);
    day_text(x->to_day, o->to, sizeof o->to);
    o->pb.from = o->from;
    o->pb.to = o->to;
    size_t n = 0;
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (x->mask & GRADING_C_BIT(c)) o->names[n++] = (char *)grading_counter_name((grading_counter_t)c);
    o->pb.metrics = o->names;
    o->pb.n_metrics = n;
    o->pb.scope = x->overseas == GRADING_EXEMPT_OVERSEAS   ? GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_OVERSEAS
                  : x->overseas == GRADING_EXEMPT_DOMESTIC ? GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_DOMESTIC
                                                           : GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_UNSPECIFIED;
    o->pb.product_id = (char *)x->product_id;
    o->pb.reason = (char *)x->reason;
    o->pb.note = (char *)x->note;
    rpc_timestamp_set(&o->ts, x->declared_ms);
    o->pb.declared_at = &o->ts;
}

static void exempt_run(call_slot_t *s);

void rpc_handle_exemption(call_slot_t *s, const ProtobufCMessage *msg)
{
    (void)msg;
    s->worker_run = exempt_run;
    rpc_close_worker_submit(rpc_close_worker(s), s);
}

/* Answers a declaration's or revocation's result. */
static void reply_change(call_slot_t *s, bool revoke, const grading_exempt_result_t *res)
{
    exemption_pb_t out;
    to_pb(&res->x, &out);
    if (revoke) {
        Grading__V1__RevokeExemptionResponse resp = GRADING__V1__REVOKE_EXEMPTION_RESPONSE__INIT;
        resp.exemption = &out.pb;
        resp.sellers_walked = res->sellers_walked;
        resp.sellers_changed = res->sellers_changed;
        resp.orders_changed = res->orders_changed;
        rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
        return;
    }
    Grading__V1__DeclareExemptionResponse resp = GRADING__V1__DECLARE_EXEMPTION_RESPONSE__INIT;
    resp.exemption = &out.pb;
    resp.already_declared = res->already;
    resp.sellers_walked = res->sellers_walked;
    resp.sellers_changed = res->sellers_changed;
    resp.orders_changed = res->orders_changed;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
}

/* A Kafka-mode change waiting for the brokers and this replica. */
typedef struct {
    call_slot_t *s;
    bool revoke;
    grading_exempt_result_t res;   /* as checked before producing */
} kafka_change_t;

/* On a Kafka thread, once. */
static void kafka_change_done(void *ctx, grading_kafka_result_t result, const char *why, uint32_t logged)
{
    (void)logged;
    kafka_change_t *c = ctx;
    if (!rpc_kafka_failed(c->s, result, why)) reply_change(c->s, c->revoke, &c->res);
    free(c);
}

/* Checks r here, then produces the request; the walk's counts are this
 * replica's to see (ListExemptions, GetSellerMetrics), not in the answer. */
static void change_to_kafka(call_slot_t *s, const grading_exempt_req_t *r, bool revoke, grading_error_t *e)
{
    kafka_change_t *c = calloc(1, sizeof *c);
    if (!c) {
        grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        return;
    }
    c->s = s;
    c->revoke = revoke;
    if (grading_exempt_check(rpc_store(s), s->policy, r, revoke, rpc_now_ms(s), &c->res, e)) {
        free(c);
        return;
    }
    char why[300];
    grading_err_t err = grading_kafka_produce_command(
        rpc_kafka(s), revoke ? GRADING_KAFKA_CMD_REVOKE : GRADING_KAFKA_CMD_DECLARE, c->res.x.marketplace,
        s->request, s->caller, kafka_change_done, c, why, sizeof why);
    if (!err) return;
    free(c);
    rpc_kafka_refused(s, err, why);
}

static void declare(call_slot_t *s, const Grading__V1__DeclareExemptionRequest *req, grading_error_t *e)
{
    grading_exempt_req_t r;
    if (rpc_exempt_req_from_pb(req, s->caller, &r, e)) return;
    if (rpc_kafka(s)) {
        change_to_kafka(s, &r, false, e);
        return;
    }
    grading_exempt_result_t res;
    if (grading_exempt_declare(rpc_store(s), rpc_ingest(s), s->policy, &r, rpc_now_ms(s), &res, e)) return;
    reply_change(s, false, &res);
}

static void revoke(call_slot_t *s, const Grading__V1__RevokeExemptionRequest *req, grading_error_t *e)
{
    if (rpc_kafka(s)) {
        grading_exempt_req_t r = {.marketplace = req->marketplace, .id = req->id, .caller = s->caller};
        change_to_kafka(s, &r, true, e);
        return;
    }
    grading_exempt_result_t res;
    if (grading_exempt_revoke(rpc_store(s), rpc_ingest(s), s->policy, req->marketplace, req->id, s->caller, &res, e))
        return;
    reply_change(s, true, &res);
}

static void list(call_slot_t *s, const Grading__V1__ListExemptionsRequest *req, grading_error_t *e)
{
    if (req->marketplace && req->marketplace[0] && !rpc_resolve_marketplace(s, req->marketplace, "marketplace", e))
        return;
    grading_exemption_t *xs = calloc(GRADING_EXEMPTIONS_MAX, sizeof *xs);
    exemption_pb_t *pbs = calloc(GRADING_EXEMPTIONS_MAX, sizeof *pbs);
    Grading__V1__Exemption **ptrs = calloc(GRADING_EXEMPTIONS_MAX, sizeof *ptrs);
    size_t n = 0;
    grading_err_t err = !xs || !pbs || !ptrs ? GRADING_ENOMEM
                                             : grading_exempt_list(rpc_thread_reader(s), req->marketplace, xs,
                                                                   GRADING_EXEMPTIONS_MAX, &n);
    if (err) {
        grading_error_set(e, err, "", "cannot read the exemptions: %s", grading_err_name(err));
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        to_pb(&xs[i], &pbs[i]);
        ptrs[i] = &pbs[i].pb;
    }
    Grading__V1__ListExemptionsResponse resp = GRADING__V1__LIST_EXEMPTIONS_RESPONSE__INIT;
    resp.exemptions = ptrs;
    resp.n_exemptions = n;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
done:
    free(xs);
    free(pbs);
    free(ptrs);
}

static void exempt_run(call_slot_t *s)
{
    grading_error_t e = {0};
    const ProtobufCMessageDescriptor *d = s->request->descriptor;
    if (d == &grading__v1__declare_exemption_request__descriptor) declare(s, (const void *)s->request, &e);
    else if (d == &grading__v1__revoke_exemption_request__descriptor) revoke(s, (const void *)s->request, &e);
    else list(s, (const void *)s->request, &e);
    if (e.code) rpc_reply_error(s, &e);
}
