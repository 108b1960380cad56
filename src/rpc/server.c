/* The gRPC server on grpc C core.
 *
 * Each of N threads owns a completion queue and, for every registered
 * method, keeps a few calls requested on it (a "slot" per requested call).
 * A completed request runs the method's handler on that thread; the
 * handler answers with one batch (initial metadata, message, status, close)
 * at once, or later from another thread: RecordEvents is answered by the
 * ingest writer after its commit is on disk, so no thread waits on fsync.
 * When the reply batch completes the slot frees the call and requests the
 * next one. Calls to methods we do not serve land in a catch-all slot and
 * get UNIMPLEMENTED, rather than hanging until their deadline.
 *
 * Shutdown: health turns NOT_SERVING; grpc_server_shutdown_and_notify
 * stops new calls and fires its tag once every call has ended; after the
 * grace period, calls still running are cancelled. Then the queues are
 * shut down and drained, and the threads exit. */
#include "server_internal.h"

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grading/log.h"
#include "grading/pb.h"
#include "security.h"
#include "observe_internal.h"

#define UNKNOWN_METHOD_SLOTS 2

struct cq_thread {
    grading_server_t *srv;
    grpc_completion_queue *cq;
    pthread_t thread;
    bool started;
    grading_store_reader_t *reader;
};

struct grading_server {
    grpc_server *server;
    int nthreads;
    cq_thread_t *threads;
    void *registered[32];
    grading_store_t *store;
    grading_ingest_t *ingest;
    int64_t (*now_ms)(void *);
    void *clock_ctx;
    int64_t max_future_skew_ms;   /* input integrity (issue 9) */
    int64_t dedup_horizon_ms;     /* issue 18: live events older than this are refused */

    pthread_mutex_t policy_mu;
    grading_policy_t *policy;
    pthread_mutex_t close_mu;   /* one ClosePeriod at a time */
    pthread_rwlock_t server_lock;   /* write: destroying `server`; read: requesting a call */
    rpc_close_worker_t *closer;
    void (*on_published)(void *ctx, const char *marketplace);
    void *published_ctx;

    atomic_bool shutting_down;
    pthread_mutex_t shutdown_mu;
    pthread_cond_t shutdown_cv;
    bool shutdown_done;
    int shutdown_tag;   /* its address is the tag */
    rpc_security_t *security;   /* TLS, identity, authorization */
    grading_kafka_t *kafka;     /* Kafka mode (issue 11), or NULL */
    rpc_watch_hub_t *watch;     /* WatchGradeChanges streams (issue 14) */
};

grpc_status_code rpc_status_of(grading_err_t err)
{
    switch (err) {
    case GRADING_OK: return GRPC_STATUS_OK;
    case GRADING_EINVAL: return GRPC_STATUS_INVALID_ARGUMENT;
    case GRADING_ENOTFOUND: return GRPC_STATUS_NOT_FOUND;
    case GRADING_EFULL: return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case GRADING_ESTATE: return GRPC_STATUS_FAILED_PRECONDITION;
    case GRADING_ESHUTDOWN: return GRPC_STATUS_UNAVAILABLE;
    case GRADING_EUNIMPL: return GRPC_STATUS_UNIMPLEMENTED;
    case GRADING_ERANGE: return GRPC_STATUS_OUT_OF_RANGE;
    case GRADING_EEXIST: return GRPC_STATUS_ALREADY_EXISTS;
    case GRADING_ENOMEM: return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case GRADING_EIO:
    case GRADING_ECORRUPT: return GRPC_STATUS_INTERNAL;
    }
    return GRPC_STATUS_UNKNOWN;
}

grading_store_reader_t *rpc_thread_reader(call_slot_t *s) { return s->thr->reader; }
grading_ingest_t *rpc_ingest(call_slot_t *s) { return s->srv->ingest; }
int64_t rpc_now_ms(call_slot_t *s) { return s->srv->now_ms(s->srv->clock_ctx); }
int64_t rpc_max_future_skew_ms(call_slot_t *s) { return s->srv->max_future_skew_ms; }
int64_t rpc_dedup_horizon_ms(call_slot_t *s) { return s->srv->dedup_horizon_ms; }
grading_kafka_t *rpc_kafka(call_slot_t *s) { return s->srv->kafka; }
bool rpc_shutting_down(call_slot_t *s) { return atomic_load(&s->srv->shutting_down); }
pthread_mutex_t *rpc_close_lock(call_slot_t *s) { return &s->srv->close_mu; }
rpc_close_worker_t *rpc_close_worker(call_slot_t *s) { return s->srv->closer; }
grading_store_t *rpc_store(call_slot_t *s) { return s->srv->store; }
rpc_security_t *rpc_server_security(grading_server_t *srv) { return srv->security; }
rpc_watch_hub_t *rpc_watch_hub(call_slot_t *s) { return s->srv->watch; }
void rpc_published(call_slot_t *s, const char *mp)
{
    if (s->srv->on_published) s->srv->on_published(s->srv->published_ctx, mp);
}

static grading_policy_t *policy_acquire(grading_server_t *srv)
{
    pthread_mutex_lock(&srv->policy_mu);
    grading_policy_t *p = grading_policy_ref(srv->policy);
    pthread_mutex_unlock(&srv->policy_mu);
    return p;
}

void grading_server_set_policy(grading_server_t *srv, grading_policy_t *p)
{
    grading_policy_t *ref = grading_policy_ref(p);
    pthread_mutex_lock(&srv->policy_mu);
    grading_policy_t *old = srv->policy;
    srv->policy = ref;
    pthread_mutex_unlock(&srv->policy_mu);
    grading_policy_unref(old);
}

grading_policy_t *grading_server_policy(grading_server_t *srv)
{
    pthread_mutex_lock(&srv->policy_mu);
    grading_policy_t *p = grading_policy_ref(srv->policy);
    pthread_mutex_unlock(&srv->policy_mu);
    return p;
}

/* ---- slots ---- */

static void slot_release_call(call_slot_t *s)
{
    if (s->call) grpc_call_unref(s->call);
    s->call = NULL;
    grpc_metadata_array_destroy(&s->request_md);
    if (!s->method) grpc_call_details_destroy(&s->details);
    if (s->payload) grpc_byte_buffer_destroy(s->payload);
    s->payload = NULL;
    if (s->reply) grpc_byte_buffer_destroy(s->reply);
    s->reply = NULL;
    grpc_slice_unref(s->status_details);
    s->status_details = grpc_empty_slice();
    if (s->request) protobuf_c_message_free_unpacked(s->request, NULL);
    s->request = NULL;
    grading_policy_unref(s->policy);
    s->policy = NULL;
    free(s->record.events);
    free(s->record.marketplaces);
    free(s->record.zones);
    free(s->record.report.conflict_indexes);
    free(s->record.duplicate);
    memset(&s->record, 0, sizeof s->record);
    s->worker_run = NULL;
}

/* Asks grpc for the next call of this slot's method. Returns false when
 * the server is shutting down (then the slot is freed). */
static bool slot_request(call_slot_t *s)
{
    grpc_metadata_array_init(&s->request_md);
    s->state = SLOT_REQUESTED;
    grpc_call_error rc;
    /* A call's last completion may be handled after the server was
     * destroyed (its shutdown only waits for the calls to end): the lock
     * keeps the destroy and a new request apart. */
    pthread_rwlock_rdlock(&s->srv->server_lock);
    if (!s->srv->server) {
        rc = GRPC_CALL_ERROR;
    } else if (s->method) {
        rc = grpc_server_request_registered_call(s->srv->server, s->registered, &s->call,
                                                 &s->deadline, &s->request_md, &s->payload,
                                                 s->thr->cq, s->thr->cq, s);
    } else {
        grpc_call_details_init(&s->details);
        rc = grpc_server_request_call(s->srv->server, &s->call, &s->details, &s->request_md,
                                      s->thr->cq, s->thr->cq, s);
    }
    pthread_rwlock_unlock(&s->srv->server_lock);
    if (rc != GRPC_CALL_OK) {
        slot_release_call(s);
        free(s);
        return false;
    }
    return true;
}

void rpc_reply(call_slot_t *s, grpc_status_code code, const char *message,
               const ProtobufCMessage *resp)
{
    rpc_observe_end(s, code, message);
    grpc_op *op = s->ops;
    memset(s->ops, 0, sizeof s->ops);
    op->op = GRPC_OP_SEND_INITIAL_METADATA;
    op++;
    if (code == GRPC_STATUS_OK && resp) {
        s->reply = grading_pb_to_buffer(resp);
        if (!s->reply) {
            code = GRPC_STATUS_RESOURCE_EXHAUSTED;
            message = "out of memory encoding the reply";
        } else {
            op->op = GRPC_OP_SEND_MESSAGE;
            op->data.send_message.send_message = s->reply;
            op++;
        }
    }
    rpc_send_status(s, op, code, message);
}

grpc_op *rpc_op_status(call_slot_t *s, grpc_op *op, grpc_status_code code, const char *message)
{
    s->status_details = grpc_slice_from_copied_string(message ? message : "");
    op->op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op->data.send_status_from_server.status = code;
    op->data.send_status_from_server.status_details = &s->status_details;
    return op + 1;
}

void rpc_send_status(call_slot_t *s, grpc_op *op, grpc_status_code code, const char *message)
{
    op = rpc_op_status(s, op, code, message);
    op->op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op->data.recv_close_on_server.cancelled = &s->cancelled;
    op++;
    s->state = SLOT_SENDING;
    grpc_call_error rc = grpc_call_start_batch(s->call, s->ops, (size_t)(op - s->ops), s, NULL);
    if (rc != GRPC_CALL_OK) {
        /* Cannot happen with a well-formed batch; end the call so the slot
         * is not lost: cancelling completes nothing, so recycle here. */
        fprintf(stderr, "gradingd: grpc_call_start_batch failed (%d)\n", (int)rc);
        grpc_call_cancel(s->call, NULL);
        rpc_slot_recycle(s);
    }
}

void rpc_slot_recycle(call_slot_t *s)
{
    slot_release_call(s);
    if (s->detached) free(s);   /* its place was taken by a new slot */
    else slot_request(s);
}

bool rpc_slot_detach(call_slot_t *s)
{
    call_slot_t *n = calloc(1, sizeof *n);
    if (!n) return false;
    n->srv = s->srv;
    n->thr = s->thr;
    n->method = s->method;
    n->registered = s->registered;
    n->status_details = grpc_empty_slice();
    if (!slot_request(n)) return false;   /* shutting down: n is freed */
    s->detached = true;
    return true;
}

static void slot_dispatch(call_slot_t *s)
{
    rpc_observe_start(s);
    if (!s->method) {
        char *path = grpc_slice_to_c_string(s->details.method);
        char msg[300];
        snprintf(msg, sizeof msg, "method %s is not served here", path);
        gpr_free(path);
        rpc_reply(s, GRPC_STATUS_UNIMPLEMENTED, msg, NULL);
        grading_log_set_ctx(NULL);
        return;
    }
    grading_error_t de = {0};
    grading_err_t err = grading_pb_from_buffer_checked(s->payload, s->method->request,
                                                       GRADING_MAX_REQUEST_BYTES, &s->request, &de);
    if (err) {
        rpc_reply_error(s, &de);   /* names the field: a NUL, bad UTF-8 */
        grading_log_set_ctx(NULL);
        return;
    }
    s->policy = policy_acquire(s->srv);
    if (!rpc_authorize(s->srv->security, s)) {
        grading_log_set_ctx(NULL);
        return;
    }
    s->method->handler(s, s->request);
    grading_log_set_ctx(NULL);
}

static void slot_complete(call_slot_t *s, int ok)
{
    if (s->state == SLOT_REQUESTED) {
        if (!ok) {   /* server shutting down: the request was cancelled */
            slot_release_call(s);
            free(s);
            return;
        }
        slot_dispatch(s);
        return;
    }
    if (s->on_event) {   /* a stream's intermediate batch */
        s->on_event(s, ok);
        return;
    }
    /* SLOT_SENDING finished (ok or not, the call is over). */
    rpc_slot_recycle(s);   /* after shutdown began the request fails and frees the slot */
}

/* ---- threads ---- */

static void *cq_thread_main(void *arg)
{
    cq_thread_t *t = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(t->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        if (ev.type != GRPC_OP_COMPLETE) continue;
        if (ev.tag == &t->srv->shutdown_tag) {
            pthread_mutex_lock(&t->srv->shutdown_mu);
            t->srv->shutdown_done = true;
            pthread_cond_broadcast(&t->srv->shutdown_cv);
            pthread_mutex_unlock(&t->srv->shutdown_mu);
            continue;
        }
        slot_complete(ev.tag, ev.success);
    }
    return NULL;
}

static grading_err_t start_slots(grading_server_t *srv, cq_thread_t *t)
{
    for (int m = 0; m <= grading_rpc_method_count; m++) {
        const rpc_method_t *method = m < grading_rpc_method_count ? &grading_rpc_methods[m] : NULL;
        int n = method ? method->slots_per_thread : UNKNOWN_METHOD_SLOTS;
        for (int i = 0; i < n; i++) {
            call_slot_t *s = calloc(1, sizeof *s);
            if (!s) return GRADING_ENOMEM;
            s->srv = srv;
            s->thr = t;
            s->method = method;
            s->registered = method ? srv->registered[m] : NULL;
            s->status_details = grpc_empty_slice();
            if (!slot_request(s)) return GRADING_EIO;
        }
    }
    return GRADING_OK;
}

static int64_t real_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void threads_stop(grading_server_t *srv)
{
    for (int i = 0; i < srv->nthreads; i++)
        if (srv->threads[i].cq) grpc_completion_queue_shutdown(srv->threads[i].cq);
    for (int i = 0; i < srv->nthreads; i++) {
        cq_thread_t *t = &srv->threads[i];
        if (t->started) pthread_join(t->thread, NULL);
        else if (t->cq) cq_thread_main(t);   /* a queue must be drained before destroy */
        t->started = false;
        if (t->cq) grpc_completion_queue_destroy(t->cq);
        t->cq = NULL;
        if (t->reader) grading_store_reader_free(t->reader);
        t->reader = NULL;
    }
}

grading_err_t grading_server_start(const grading_server_options_t *opts, grading_server_t **out,
                                   int *out_port, grading_error_t *e)
{
    *out = NULL;
    if (opts->threads < 1 || opts->threads > GRADING_SERVER_MAX_THREADS)
        return grading_error_set(e, GRADING_EINVAL, "threads", "must be 1..%d, got %d",
                                 GRADING_SERVER_MAX_THREADS, opts->threads);
    if ((size_t)grading_rpc_method_count > sizeof ((grading_server_t *)0)->registered / sizeof(void *))
        return grading_error_set(e, GRADING_EINVAL, "", "too many methods");

    grading_err_t err = GRADING_OK;
    grpc_init();
    grading_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) {
        grpc_shutdown();
        return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    }
    srv->store = opts->store;
    srv->ingest = opts->ingest;
    srv->now_ms = opts->now_ms ? opts->now_ms : real_now_ms;
    srv->kafka = opts->kafka;
    srv->max_future_skew_ms = opts->max_future_skew_ms > 0 ? opts->max_future_skew_ms
                                                           : GRADING_DEFAULT_MAX_FUTURE_SKEW_MS;
    srv->dedup_horizon_ms = opts->dedup_horizon_ms > 0 ? opts->dedup_horizon_ms : 0;
    srv->clock_ctx = opts->clock_ctx;
    srv->on_published = opts->on_published;
    srv->published_ctx = opts->published_ctx;
    srv->policy = grading_policy_ref(opts->policy);
    if (rpc_close_worker_start(&srv->closer)) {
        grading_policy_unref(srv->policy);
        free(srv);
        grpc_shutdown();
        return grading_error_set(e, GRADING_EIO, "", "cannot start the close thread");
    }
    pthread_mutex_init(&srv->policy_mu, NULL);
    pthread_mutex_init(&srv->close_mu, NULL);
    pthread_rwlock_init(&srv->server_lock, NULL);
    pthread_mutex_init(&srv->shutdown_mu, NULL);
    pthread_cond_init(&srv->shutdown_cv, NULL);
    atomic_init(&srv->shutting_down, false);
    if ((err = rpc_security_new(opts, &srv->security, e))) goto fail;
    if ((err = rpc_watch_hub_start(srv->store, opts->watch_max_lag, &srv->watch))) {
        grading_error_set(e, err, "", "cannot start the watch thread");
        goto fail;
    }

    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = GRADING_MAX_REQUEST_BYTES},
    };
    grpc_channel_args chargs = {.num_args = sizeof args / sizeof args[0], .args = args};
    srv->server = grpc_server_create(&chargs, NULL);
    srv->nthreads = opts->threads;
    srv->threads = calloc((size_t)opts->threads, sizeof *srv->threads);
    if (!srv->server || !srv->threads) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    for (int i = 0; i < srv->nthreads; i++) {
        srv->threads[i].srv = srv;
        srv->threads[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(srv->server, srv->threads[i].cq, NULL);
        if ((err = grading_store_reader_new(srv->store, &srv->threads[i].reader))) {
            grading_error_set(e, err, "", "cannot create a store reader");
            goto fail;
        }
    }
    rpc_observe_register_methods();
    for (int m = 0; m < grading_rpc_method_count; m++)
        srv->registered[m] = grpc_server_register_method(
            srv->server, grading_rpc_methods[m].path, NULL,
            GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);

    grpc_server_credentials *creds = rpc_security_credentials_new(srv->security);
    int port = creds ? grpc_server_add_http2_port(srv->server, opts->listen, creds) : 0;
    if (creds) grpc_server_credentials_release(creds);
    if (port <= 0) {
        err = grading_error_set(e, GRADING_EIO, "listen", "cannot listen on %s", opts->listen);
        goto fail;
    }
    grpc_server_start(srv->server);
    for (int i = 0; i < srv->nthreads; i++) {
        if ((err = start_slots(srv, &srv->threads[i]))) {
            grading_error_set(e, err, "", "cannot request calls");
            goto fail_started;
        }
        if (pthread_create(&srv->threads[i].thread, NULL, cq_thread_main, &srv->threads[i])) {
            err = grading_error_set(e, GRADING_EIO, "", "cannot start a server thread");
            goto fail_started;
        }
        srv->threads[i].started = true;
    }
    *out_port = port;
    *out = srv;
    return GRADING_OK;

fail_started:
    /* The server started: shut it down properly, threads drain the slots. */
    for (int i = 0; i < srv->nthreads; i++) {
        if (!srv->threads[i].started &&
            pthread_create(&srv->threads[i].thread, NULL, cq_thread_main, &srv->threads[i]) == 0)
            srv->threads[i].started = true;
    }
    grading_server_shutdown(srv, 0);
    grading_server_free(srv);
    return err;
fail:
    if (srv->server) grpc_server_destroy(srv->server);
    srv->server = NULL;
    if (srv->threads) threads_stop(srv);
    grading_server_free(srv);
    return err;
}

static bool wait_shutdown(grading_server_t *srv, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&srv->shutdown_mu);
    while (!srv->shutdown_done)
        if (pthread_cond_timedwait(&srv->shutdown_cv, &srv->shutdown_mu, &ts)) break;
    bool done = srv->shutdown_done;
    pthread_mutex_unlock(&srv->shutdown_mu);
    return done;
}

void grading_server_drain(grading_server_t *srv)
{
    atomic_store(&srv->shutting_down, true);
}

void grading_server_shutdown(grading_server_t *srv, int64_t grace_ms)
{
    if (!srv->server) return;
    atomic_store(&srv->shutting_down, true);
    grpc_server_shutdown_and_notify(srv->server, srv->threads[0].cq, &srv->shutdown_tag);
    rpc_watch_hub_drain(srv->watch);   /* streams never end by themselves */
    if (!wait_shutdown(srv, grace_ms > 0 ? grace_ms : 0)) {
        grpc_server_cancel_all_calls(srv->server);
        /* Cancelled calls end promptly; a RecordEvents still in the writer
         * ends when its commit does, which is bounded by the disk. */
        while (!wait_shutdown(srv, 1000)) {
        }
    }
    pthread_rwlock_wrlock(&srv->server_lock);
    grpc_server_destroy(srv->server);
    srv->server = NULL;
    pthread_rwlock_unlock(&srv->server_lock);
    /* every call ended, so the close worker is idle */
    rpc_close_worker_stop(srv->closer);
    srv->closer = NULL;
    threads_stop(srv);
}

void grading_server_free(grading_server_t *srv)
{
    if (!srv) return;
    if (srv->server) grading_server_shutdown(srv, 0);
    rpc_close_worker_stop(srv->closer);
    free(srv->threads);
    grading_policy_unref(srv->policy);
    rpc_security_free(srv->security);
    rpc_watch_hub_free(srv->watch);   /* after the threads: completions use it */
    pthread_mutex_destroy(&srv->policy_mu);
    pthread_mutex_destroy(&srv->close_mu);
    pthread_rwlock_destroy(&srv->server_lock);
    pthread_mutex_destroy(&srv->shutdown_mu);
    pthread_cond_destroy(&srv->shutdown_cv);
    free(srv);
    grpc_shutdown();
}
