/* The admin HTTP server (libmicrohttpd), on its own port:
 *   GET /metrics   Prometheus text format: grading/metrics.h's families, the
 *                  store's and writer's gauges, the policy, process_*
 *   GET /healthz   liveness: the event loop and the writer answer within
 *                  liveness_timeout_ms (a wedged writer fails it): 200 / 503
 *   GET /readyz    readiness: store open, policy loaded, not draining
 *   GET /backup    a compacted, consistent copy of the store, streamed
 *                  (application/octet-stream); see grading/store_backup.h;
 *                  loopback peers only unless remote_backup
 * Anything else is 404; other methods 405. */
#ifndef GRADING_ADMIN_H
#define GRADING_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

#define GRADING_ADMIN_DEFAULT_LISTEN "127.0.0.1:9464"
#define GRADING_ADMIN_DEFAULT_LIVENESS_MS 5000

typedef struct grading_admin grading_admin_t;

typedef struct {
    const char *listen;              /* "HOST:PORT", "[::1]:PORT"; port 0 picks one */
    grading_store_t *store;          /* borrowed; outlives the admin server */
    grading_ingest_t *ingest;        /* borrowed; may be stopped only after grading_admin_stop */
    int64_t liveness_timeout_ms;     /* 0: GRADING_ADMIN_DEFAULT_LIVENESS_MS */
    /* /backup hands out every record: from loopback peers only unless
     * this is set (a backup job in the cluster). */
    bool remote_backup;
    /* The app's answers (any thread): the policy in force with a reference
     * (NULL if none), whether it is draining, and the milliseconds since
     * its event loop last ran (a stuck loop grows it). */
    grading_policy_t *(*policy)(void *ctx);
    bool (*draining)(void *ctx);
    int64_t (*loop_idle_ms)(void *ctx);
    void *ctx;
    /* Optional (Kafka mode, issue 11): one more readiness condition (false
     * with why: /readyz 503) and more /metrics series. */
    bool (*extra_ready)(void *ctx, char *why, size_t len);
    void (*extra_metrics)(void *ctx, FILE *out);
    void *extra_ctx;
} grading_admin_options_t;

/* Whether listen is an address grading_admin_start takes ("HOST:PORT"
 * with a numeric host, "[V6]:PORT", port 0..65535). */
bool grading_admin_listen_ok(const char *listen);

/* Binds and serves on its own threads. *out_port: the bound port.
 * Errors: GRADING_EINVAL (bad address), GRADING_EIO (cannot bind). */
grading_err_t grading_admin_start(const grading_admin_options_t *opts, grading_admin_t **out, int *out_port,
                                  grading_error_t *e);

/* Stops serving (waits for requests in flight, a backup included) and
 * frees the server. NULL is a no-op. */
void grading_admin_stop(grading_admin_t *a);

#endif
