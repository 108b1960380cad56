/* WatchGradeChanges, the call: on the completion-queue thread that took
 * it, checks the request (filters, resume token against the log's bounds),
 * sends the first message (no changes; the start token), starts the
 * RECV_CLOSE_ON_SERVER batch, gives the slot's place to a new one (the
 * stream lasts) and hands the stream to the hub (watch_stream.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/pb.h"
#include "observe_internal.h"
#include "watch_internal.h"

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool parse_token(const char *t, uint64_t *out)
{
    if (!t[0] || strlen(t) > 20) return false;
    for (const char *p = t; *p; p++)
        if (*p < '0' || *p > '9') return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(t, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

/* Checks the request into st's filter and start position. */
static bool watch_request(call_slot_t *s, const Grading__V1__WatchGradeChangesRequest *req, watch_stream_t *st,
                          grading_error_t *e)
{
    if (req->marketplace && req->marketplace[0]) {
        const grading_marketplace_t *mp = rpc_resolve_marketplace(s, req->marketplace, "marketplace", e);
        if (!mp) return false;
        snprintf(st->mp, sizeof st->mp, "%s", mp->name);
        st->filter.mp = st->mp;
    }
    if (req->n_seller_ids > WATCH_MAX_SELLERS) {
        grading_error_set(e, GRADING_EINVAL, "seller_ids", "at most %d seller ids, got %zu", WATCH_MAX_SELLERS,
                          req->n_seller_ids);
        return false;
    }
    if (req->n_seller_ids) {
        st->sellers = calloc(req->n_seller_ids, sizeof *st->sellers);
        if (!st->sellers) {
            grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
            return false;
        }
        for (size_t i = 0; i < req->n_seller_ids; i++) {
            char field[40];
            snprintf(field, sizeof field, "seller_ids[%zu]", i);
            if (!rpc_seller_id_ok(req->seller_ids[i], field, e)) return false;
            st->sellers[i] = req->seller_ids[i];
        }
        qsort(st->sellers, req->n_seller_ids, sizeof *st->sellers, cmp_id);
        st->filter.sellers = st->sellers;
        st->filter.nsellers = req->n_seller_ids;
    }
    for (size_t i = 0; i < req->n_kinds; i++) {
        switch (req->kinds[i]) {
        case GRADING__V1__CHANGE_KIND__CHANGE_KIND_BOOST: st->filter.kinds |= GRADING_CHANGE_BOOST; break;
        case GRADING__V1__CHANGE_KIND__CHANGE_KIND_SUSPENSION: st->filter.kinds |= GRADING_CHANGE_SUSPENSION; break;
        case GRADING__V1__CHANGE_KIND__CHANGE_KIND_LIVE_LEVELS: st->filter.kinds |= GRADING_CHANGE_LEVELS; break;
        case GRADING__V1__CHANGE_KIND__CHANGE_KIND_PUBLISHED_LEVELS:
            st->filter.kinds |= GRADING_CHANGE_PUBLISHED;
            break;
        default:
            grading_error_set(e, GRADING_EINVAL, "kinds", "kinds[%zu] is not a change kind (%d)", i,
                              (int)req->kinds[i]);
            return false;
        }
    }
    uint64_t token = 0;
    bool resume = req->resume_token && req->resume_token[0];
    if (resume && !parse_token(req->resume_token, &token)) {
        grading_error_set(e, GRADING_EINVAL, "resume_token", "not a token of this server (a decimal number)");
        return false;
    }
    grading_txn_t *txn;
    uint64_t first, last;
    grading_err_t err = grading_store_read_begin(rpc_thread_reader(s), &txn);
    if (!err) {
        err = grading_store_changes_bounds(txn, &first, &last);
        grading_store_read_end(rpc_thread_reader(s));
    }
    if (err) {
        grading_error_set(e, err, "", "cannot read the change log");
        return false;
    }
    if (!resume) {
        st->pos = last;
    } else if (token > last || (first > 0 && token + 1 < first)) {
        grading_error_set(e, GRADING_ERANGE, "resume_token",
                          "token %" PRIu64 " is outside the change log (%" PRIu64 "..%" PRIu64
                          "); re-read a snapshot and watch from now",
                          token, first ? first - 1 : last, last);
        return false;
    } else {
        st->pos = token;
    }
    return true;
}

void rpc_handle_watch_grade_changes(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__WatchGradeChangesRequest *req = (const void *)msg;
    rpc_watch_hub_t *h = rpc_watch_hub(s);
    grading_error_t e = {0};
    watch_stream_t *st = calloc(1, sizeof *st);
    if (!st) {
        rpc_reply(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        return;
    }
    if (!watch_request(s, req, st, &e)) {
        rpc_watch_stream_free(st);
        rpc_reply_error(s, &e);
        return;
    }
    st->s = s;
    st->hub = h;
    st->close_tag.state = SLOT_SENDING;
    st->close_tag.on_event = rpc_watch_on_close;
    st->close_tag.stream = st;
    /* the first message: no changes, the token of where the stream starts */
    Grading__V1__WatchGradeChangesResponse resp = GRADING__V1__WATCH_GRADE_CHANGES_RESPONSE__INIT;
    char token[24];
    rpc_watch_token(st->pos, token);
    resp.token = token;
    st->send = grading_pb_to_buffer(&resp.base);
    if (!st->send) {
        rpc_watch_stream_free(st);
        rpc_reply(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        return;
    }
    pthread_mutex_lock(&h->mu);
    if (h->draining) {
        pthread_mutex_unlock(&h->mu);
        rpc_watch_stream_free(st);
        rpc_reply(s, GRPC_STATUS_UNAVAILABLE, "server is shutting down", NULL);
        return;
    }
    if (h->nstreams >= WATCH_MAX_STREAMS) {
        pthread_mutex_unlock(&h->mu);
        rpc_watch_stream_free(st);
        rpc_reply(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "too many WatchGradeChanges streams are open; retry later",
                  NULL);
        return;
    }
    /* the stream lasts: a new slot takes this one's place for the next call */
    if (!rpc_slot_detach(s)) {
        pthread_mutex_unlock(&h->mu);
        rpc_watch_stream_free(st);
        rpc_reply(s, GRPC_STATUS_UNAVAILABLE, "server is shutting down", NULL);
        return;
    }
    s->stream = st;
    s->on_event = rpc_watch_on_event;
    s->state = SLOT_SENDING;   /* past the request: completions go to on_event */
    memset(st->ops, 0, sizeof st->ops);
    st->ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    st->ops[1].op = GRPC_OP_SEND_MESSAGE;
    st->ops[1].data.send_message.send_message = st->send;
    memset(&st->close_op, 0, sizeof st->close_op);
    st->close_op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    st->close_op.data.recv_close_on_server.cancelled = &s->cancelled;
    bool ok = grpc_call_start_batch(s->call, &st->close_op, 1, &st->close_tag, NULL) == GRPC_CALL_OK;
    if (ok) st->pending++;
    if (ok && grpc_call_start_batch(s->call, st->ops, 2, s, NULL) == GRPC_CALL_OK) {
        st->sending = true;
        st->sent_ms = rpc_watch_mono_ms();
        st->pending++;
    }
    if (!ok) {   /* cannot happen with well-formed batches; end the call and recycle the slot */
        pthread_mutex_unlock(&h->mu);
        grpc_call_cancel(s->call, NULL);
        rpc_observe_end(s, GRPC_STATUS_INTERNAL, "cannot start the stream");
        rpc_watch_recycle(st);
        return;
    }
    st->next = h->streams;
    h->streams = st;
    h->nstreams++;
    if (!st->sending) rpc_watch_finish(st, GRPC_STATUS_INTERNAL, "cannot start the stream");
    pthread_mutex_unlock(&h->mu);
}
