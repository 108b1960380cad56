/* The gRPC server: grpc C core, several completion-queue threads, one
 * handler per RPC. It knows the store only through store.h and ingest.h.
 *
 * Each thread owns a completion queue and keeps calls requested on it for
 * every registered method; a unary call is read, handled and answered with
 * one batch. RecordEvents is answered from the ingest writer's callback,
 * after the commit is on disk. */
#ifndef GRADING_SERVER_H
#define GRADING_SERVER_H

#include <stdint.h>

#include "grading/authz.h"
#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

#define GRADING_SERVER_DEFAULT_LISTEN "127.0.0.1:50051"
#define GRADING_SERVER_MAX_THREADS 64

typedef struct grading_server grading_server_t;

typedef struct {
    const char *listen;            /* "127.0.0.1:50051"; port 0 picks one */
    int threads;                   /* completion-queue threads, >= 1 */
    grading_store_t *store;        /* borrowed, outlives the server */
    grading_ingest_t *ingest;      /* borrowed, outlives the server */
    grading_policy_t *policy;      /* the server takes its own reference */
    int64_t (*now_ms)(void *ctx);  /* the clock for unset as_of */
    void *clock_ctx;
    /* Called (on a handler thread) when a close finished: the stored
     * hot-path answers may follow published grades, so the app refreshes
     * them. May be NULL. */
    void (*on_published)(void *ctx, const char *marketplace);
    void *published_ctx;
    /* Security (all optional). With tls_cert and tls_key the port serves
     * TLS; with tls_client_ca too, only clients with a certificate of that
     * CA get in. The files are re-read when they change. */
    const char *tls_cert, *tls_key, *tls_client_ca;
    grading_authz_t *authz;        /* NULL: no authorization; else the server takes a reference */
    bool trust_proxy_identity;     /* identity headers of a loopback peer (the edge proxy) count */
    /* RecordEvents refuses occurred_at further than this ahead of now_ms
     * (OUT_OF_RANGE); 0 = GRADING_DEFAULT_MAX_FUTURE_SKEW_MS. */
    int64_t max_future_skew_ms;
    /* RecordEvents without a backfill_id refuses occurred_at further than
     * this behind now_ms (OUT_OF_RANGE): the dedup horizon. 0 = any. */
    int64_t dedup_horizon_ms;
    /* Kafka mode (issue 11; borrowed, outlives the server, may be NULL):
     * RecordEvents produces to the topic instead of writing here, and
     * ClosePeriod is refused. */
    struct grading_kafka *kafka;
    /* WatchGradeChanges: how many change-log entries a stream whose
     * client stopped reading (no message taken for 5 s) may fall behind
     * before it is cut (RESOURCE_EXHAUSTED); 0 = GRADING_WATCH_DEFAULT_MAX_LAG. */
    uint64_t watch_max_lag;
} grading_server_options_t;

#define GRADING_WATCH_DEFAULT_MAX_LAG UINT64_C(100000)

/* Binds, starts the threads and serves. *out_port is the bound port.
 * Errors: GRADING_EINVAL (bad options), GRADING_EIO (cannot bind),
 * GRADING_ENOMEM. *e says why. */
grading_err_t grading_server_start(const grading_server_options_t *opts, grading_server_t **out,
                                   int *out_port, grading_error_t *e);

/* Swaps in a new policy; calls in flight finish on the old one. Takes its
 * own reference to p. */
void grading_server_set_policy(grading_server_t *s, grading_policy_t *p);

/* The policy in force, with a reference for the caller (unref it). */
grading_policy_t *grading_server_policy(grading_server_t *s);

/* Health turns NOT_SERVING (so load balancers stop sending), every call is
 * still served. Call before grading_server_shutdown to drain gracefully. */
void grading_server_drain(grading_server_t *s);

/* Health turns NOT_SERVING, new calls are refused, calls in flight get up
 * to grace_ms to finish before they are cancelled; then the threads stop.
 * Blocks until done. */
void grading_server_shutdown(grading_server_t *s, int64_t grace_ms);

/* Swaps in a new authz file (NULL: none); calls in flight finish on the
 * old one. Takes its own reference. */
void grading_server_set_authz(grading_server_t *s, grading_authz_t *a);

/* The next TLS handshake re-reads the certificate files (SIGHUP). */
void grading_server_reload_tls(grading_server_t *s);

/* How many times changed TLS files were taken into use. */
unsigned grading_server_tls_reloads(grading_server_t *s);

/* Frees a server that was shut down. */
void grading_server_free(grading_server_t *s);

#endif
