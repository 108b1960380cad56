/* WatchGradeChanges: server streaming on grpc C core; this file is the
 * hub and the end of a stream, watch_call.c takes the call.
 *
 * The completion-queue thread that takes the call checks the request,
 * sends a first message (no changes; its token is "now" or the resume
 * point) and hands the stream to the hub. The hub is one thread that
 * reads the change log (changes.h) with its own store reader and, for each
 * stream with no message in flight, sends the next page of changes the
 * stream's filter matches. So a stream holds at most one message: the
 * server never buffers without bound. A stream more than max_lag entries
 * behind the log whose message has been in flight for WATCH_STALL_MS (the
 * client does not read, flow control holds it) is cut with
 * RESOURCE_EXHAUSTED.
 *
 * Wake-ups: a send's completion signals the hub; new commits are seen by
 * polling the log's last sequence every WATCH_POLL_MS (one read
 * transaction, nothing per stream when nothing was committed).
 *
 * A stream's batches: the first message, then one send at a time (tag: the
 * slot, completions in on_event); RECV_CLOSE_ON_SERVER from the start
 * (tag: the stream's close_tag, on_close) so a client that goes away while
 * the stream is idle is noticed; at the end a status batch, or a cancel
 * with the status when a send is stuck. The slot is recycled once no
 * batch is pending. All state changes happen under the hub's lock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert.h"
#include "grading/changes.h"
#include "grading/pb.h"
#include "grading/period.h"
#include "observe_internal.h"
#include "server_internal.h"
#include "watch_internal.h"

int64_t rpc_watch_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- ending ---- */

void rpc_watch_stream_free(watch_stream_t *st)
{
    if (st->send) grpc_byte_buffer_destroy(st->send);
    free(st->sellers);
    free(st);
}

static void unlink_stream(rpc_watch_hub_t *h, watch_stream_t *st)
{
    for (watch_stream_t **p = &h->streams; *p; p = &(*p)->next)
        if (*p == st) {
            *p = st->next;
            h->nstreams--;
            return;
        }
}

/* A batch of st completed (under the lock). When it was the last one,
 * unlinks st and returns true: the caller recycles the slot unlocked. */
static bool batch_done(watch_stream_t *st)
{
    st->pending--;
    if (!st->finishing || st->pending > 0) return false;
    unlink_stream(st->hub, st);
    return true;
}

void rpc_watch_recycle(watch_stream_t *st)
{
    call_slot_t *s = st->s;
    s->on_event = NULL;
    s->stream = NULL;
    rpc_watch_stream_free(st);
    rpc_slot_recycle(s);
}

/* Ends the stream with code (under the lock): a status batch, or, when a
 * send is stuck in flow control, a cancel carrying the status. */
void rpc_watch_finish(watch_stream_t *st, grpc_status_code code, const char *message)
{
    if (st->finishing) return;
    st->finishing = true;
    call_slot_t *s = st->s;
    rpc_observe_end(s, code, message);
    if (st->sending) {
        grpc_call_cancel_with_status(s->call, code, message ? message : "", NULL);
        return;   /* the send and the close complete, then the slot is recycled */
    }
    grpc_op *op = s->ops;
    memset(s->ops, 0, sizeof s->ops);
    op = rpc_op_status(s, op, code, message);
    if (grpc_call_start_batch(s->call, s->ops, (size_t)(op - s->ops), s, NULL) == GRPC_CALL_OK) st->pending++;
    else grpc_call_cancel_with_status(s->call, code, message ? message : "", NULL);
}

/* ---- completions (completion-queue thread) ---- */

void rpc_watch_on_event(call_slot_t *s, int ok)
{
    watch_stream_t *st = s->stream;
    rpc_watch_hub_t *h = st->hub;
    pthread_mutex_lock(&h->mu);
    if (st->sending) {   /* a message went out (or the call broke) */
        st->sending = false;
        grpc_byte_buffer_destroy(st->send);
        st->send = NULL;
        if (!ok) rpc_watch_finish(st, GRPC_STATUS_CANCELLED, "the stream broke");
        pthread_cond_signal(&h->cv);
    }
    bool last = batch_done(st);
    pthread_mutex_unlock(&h->mu);
    if (last) rpc_watch_recycle(st);
}

void rpc_watch_on_close(call_slot_t *tag, int ok)
{
    (void)ok;
    watch_stream_t *st = tag->stream;
    rpc_watch_hub_t *h = st->hub;
    pthread_mutex_lock(&h->mu);
    rpc_watch_finish(st, GRPC_STATUS_CANCELLED, "the client went away");
    bool last = batch_done(st);
    pthread_mutex_unlock(&h->mu);
    if (last) rpc_watch_recycle(st);
}

/* ---- sending (under the lock) ---- */

void rpc_watch_token(uint64_t seq, char out[24]) { snprintf(out, 24, "%" PRIu64, seq); }

static Grading__V1__PeriodKind period_kind_pb(int32_t k)
{
    switch (k) {
    case GRADING_PERIOD_MONTH: return GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    case GRADING_PERIOD_QUARTER: return GRADING__V1__PERIOD_KIND__PERIOD_KIND_QUARTER;
    case GRADING_PERIOD_YEAR: return GRADING__V1__PERIOD_KIND__PERIOD_KIND_YEAR;
    default: return GRADING__V1__PERIOD_KIND__PERIOD_KIND_UNSPECIFIED;
    }
}

/* Encodes the n changes at page[] (and the token pos) into st->send and
 * starts its batch. */
static void send_page(rpc_watch_hub_t *h, watch_stream_t *st, grading_change_t *const *page, size_t n)
{
    call_slot_t *s = st->s;
    Grading__V1__WatchGradeChangesResponse resp = GRADING__V1__WATCH_GRADE_CHANGES_RESPONSE__INIT;
    char token[24];
    rpc_watch_token(st->pos, token);
    resp.token = token;
    resp.n_changes = n;
    resp.changes = h->change_ptrs;
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) {
        const grading_change_t *c = page[i];
        Grading__V1__GradeChange *g = &h->changes[i];
        grading__v1__grade_change__init(g);
        h->change_ptrs[i] = g;
        rpc_watch_token(c->seq, h->tokens[i]);
        g->token = h->tokens[i];
        google__protobuf__timestamp__init(&h->times[i]);
        rpc_timestamp_set(&h->times[i], c->time_ms);
        g->time = &h->times[i];
        g->marketplace = (char *)c->mp;
        g->seller_id = (char *)c->seller;
        Grading__V1__ChangeKind *k = &h->kinds[4 * i];
        g->kinds = k;
        if (c->kinds & GRADING_CHANGE_BOOST) k[g->n_kinds++] = GRADING__V1__CHANGE_KIND__CHANGE_KIND_BOOST;
        if (c->kinds & GRADING_CHANGE_SUSPENSION)
            k[g->n_kinds++] = GRADING__V1__CHANGE_KIND__CHANGE_KIND_SUSPENSION;
        if (c->kinds & GRADING_CHANGE_LEVELS) k[g->n_kinds++] = GRADING__V1__CHANGE_KIND__CHANGE_KIND_LIVE_LEVELS;
        if (c->kinds & GRADING_CHANGE_PUBLISHED)
            k[g->n_kinds++] = GRADING__V1__CHANGE_KIND__CHANGE_KIND_PUBLISHED_LEVELS;
        g->boost = c->boost;
        g->suspended = c->suspended;
        const grading_marketplace_t *mp = grading_policy_marketplace(s->policy, c->mp);
        g->levels = &h->level_ptrs[nl];
        for (uint32_t p = 0; p < c->nlevels; p++, nl++) {
            Grading__V1__ProgramLevel *l = &h->levels[nl];
            grading__v1__program_level__init(l);
            /* names from the policy the call started with; a programme it
             * does not know is left unnamed */
            l->program = (char *)(mp && p < mp->rules->nprograms ? mp->rules->programs[p].name : "");
            l->level = c->levels[p];
            h->level_ptrs[nl] = l;
            g->n_levels++;
        }
        if (c->kinds & GRADING_CHANGE_PUBLISHED) {
            g->period_kind = period_kind_pb(c->period_kind);
            g->period = (char *)c->period;
        }
    }
    st->send = grading_pb_to_buffer(&resp.base);
    if (!st->send) {
        rpc_watch_finish(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory encoding changes");
        return;
    }
    memset(st->ops, 0, sizeof st->ops);
    st->ops[0].op = GRPC_OP_SEND_MESSAGE;
    st->ops[0].data.send_message.send_message = st->send;
    if (grpc_call_start_batch(s->call, st->ops, 1, s, NULL) != GRPC_CALL_OK) {
        grpc_byte_buffer_destroy(st->send);
        st->send = NULL;
        rpc_watch_finish(st, GRPC_STATUS_INTERNAL, "cannot start the stream's next message");
        return;
    }
    st->sending = true;
    st->sent_ms = rpc_watch_mono_ms();
    st->pending++;
}

/* Reads past st's position and sends what matches. Returns true when there
 * is more to read right away. */
static bool serve(rpc_watch_hub_t *h, grading_txn_t *txn, watch_stream_t *st)
{
    size_t n;
    grading_err_t err = grading_store_changes_read(txn, st->pos, h->buf, WATCH_SCAN, &n);
    if (err) {
        rpc_watch_finish(st, GRPC_STATUS_INTERNAL, "cannot read the change log");
        return false;
    }
    if (n == 0) return false;
    if (h->buf[0].seq != st->pos + 1) {   /* pruned past the stream: it would miss changes */
        rpc_watch_finish(st, GRPC_STATUS_OUT_OF_RANGE, "the change log was pruned past the stream's position; "
                                             "re-read a snapshot and watch from now");
        return false;
    }
    grading_change_t *page[WATCH_PAGE];
    size_t np = 0, i;
    for (i = 0; i < n && np < WATCH_PAGE; i++)
        if (grading_change_matches(&st->filter, &h->buf[i])) page[np++] = &h->buf[i];
    st->pos = h->buf[i - 1].seq;
    if (np) send_page(h, st, page, np);
    return i < n || n == WATCH_SCAN;
}

/* One pass over the streams (under the lock). Returns true when some
 * stream has more to read at once. */
static bool hub_pass(rpc_watch_hub_t *h)
{
    if (!h->streams) return false;
    grading_txn_t *txn;
    if (grading_store_read_begin(h->reader, &txn)) return false;
    uint64_t first, head;
    bool more = false;
    if (grading_store_changes_bounds(txn, &first, &head) == GRADING_OK) {
        for (watch_stream_t *st = h->streams; st; st = st->next) {
            if (st->finishing) continue;
            if (st->sending) {
                if (head > st->pos && head - st->pos > h->max_lag && rpc_watch_mono_ms() - st->sent_ms > WATCH_STALL_MS)
                    rpc_watch_finish(st, GRPC_STATUS_RESOURCE_EXHAUSTED,
                           "the client fell too far behind the change log (see --watch-max-lag); "
                           "resume from its last token");
                continue;
            }
            if (head > st->pos && serve(h, txn, st)) more = true;
        }
    }
    grading_store_read_end(h->reader);
    return more;
}

static void *hub_main(void *arg)
{
    rpc_watch_hub_t *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        if (hub_pass(h)) continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WATCH_POLL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* ---- the hub ---- */

grading_err_t rpc_watch_hub_start(grading_store_t *store, uint64_t max_lag, rpc_watch_hub_t **out)
{
    *out = NULL;
    rpc_watch_hub_t *h = calloc(1, sizeof *h);
    if (!h) return GRADING_ENOMEM;
    h->store = store;
    h->max_lag = max_lag ? max_lag : GRADING_WATCH_DEFAULT_MAX_LAG;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    grading_err_t err = grading_store_reader_new(store, &h->reader);
    if (err) goto fail;
    h->buf = calloc(WATCH_SCAN, sizeof *h->buf);
    h->changes = calloc(WATCH_PAGE, sizeof *h->changes);
    h->change_ptrs = calloc(WATCH_PAGE, sizeof *h->change_ptrs);
    h->levels = calloc(WATCH_PAGE * GRADING_STORE_MAX_PROGRAMS, sizeof *h->levels);
    h->level_ptrs = calloc(WATCH_PAGE * GRADING_STORE_MAX_PROGRAMS, sizeof *h->level_ptrs);
    h->times = calloc(WATCH_PAGE, sizeof *h->times);
    h->kinds = calloc(WATCH_PAGE * 4, sizeof *h->kinds);
    h->tokens = calloc(WATCH_PAGE, sizeof *h->tokens);
    err = GRADING_ENOMEM;
    if (!h->buf || !h->changes || !h->change_ptrs || !h->levels || !h->level_ptrs || !h->times || !h->kinds ||
        !h->tokens)
        goto fail;
    err = GRADING_EIO;
    if (pthread_create(&h->thread, NULL, hub_main, h)) goto fail;
    h->started = true;
    *out = h;
    return GRADING_OK;
fail:
    rpc_watch_hub_free(h);
    return err;
}

void rpc_watch_hub_drain(rpc_watch_hub_t *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    h->draining = true;
    h->stop = true;
    for (watch_stream_t *st = h->streams; st; st = st->next)
        rpc_watch_finish(st, GRPC_STATUS_UNAVAILABLE, "server is shutting down; resume from the last token");
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->started) pthread_join(h->thread, NULL);
    h->started = false;
}

void rpc_watch_hub_free(rpc_watch_hub_t *h)
{
    if (!h) return;
    rpc_watch_hub_drain(h);
    if (h->reader) grading_store_reader_free(h->reader);
    free(h->buf);
    free(h->changes);
    free(h->change_ptrs);
    free(h->levels);
    free(h->level_ptrs);
    free(h->times);
    free(h->kinds);
    free(h->tokens);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

