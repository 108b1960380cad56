/* gradingd's side of the trust boundary: the --authz file (loaded at
 * start, reloaded on SIGHUP and when the file changes, like the policy)
 * and the audit entries of reloads. */
#ifndef GRADING_APP_SECURITY_H
#define GRADING_APP_SECURITY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "grading/authz.h"
#include "grading/ingest.h"
#include "grading/server.h"

typedef struct {
    const char *path;               /* --authz; NULL: none */
    grading_server_t *server;
    grading_ingest_t *ingest;
    int64_t (*now_ms)(void *);
    void *clock_ctx;
    uv_fs_event_t watch;            /* the file's directory */
    uv_timer_t debounce;
    bool watching, timer_ready;
} app_authz_t;

/* Loads the file at start-up; on a problem prints every one (file:line:col)
 * and returns non-OK. */
grading_err_t app_authz_load(const char *path, grading_authz_t **out);

/* Starts watching the file's directory (when watch) and arms the debounce. */
void app_authz_watch(app_authz_t *z, uv_loop_t *loop, bool watch);

/* Re-reads the file: a valid one replaces the server's, an invalid one is
 * logged and the current one stays. Either way an audit entry is written. */
void app_authz_reload(app_authz_t *z, const char *why);

void app_authz_close(app_authz_t *z);

/* Prunes audit entries older than the retention, a bounded batch per
 * minute through the writer (never waited on). */
typedef struct {
    grading_ingest_t *ingest;
    int64_t (*now_ms)(void *);
    void *clock_ctx;
    int64_t retention_ms;           /* 0: never */
    uv_timer_t timer;
    bool timer_ready;
    _Atomic bool in_flight;         /* a batch is queued: skip this tick */
    int64_t before_ms;              /* of the batch in flight */
    grading_ingest_batch_t batch;
} app_audit_prune_t;

void app_audit_prune_start(app_audit_prune_t *p, uv_loop_t *loop);
void app_audit_prune_close(app_audit_prune_t *p);

/* Writes the audit entry of a reload (method "ReloadPolicy" or
 * "ReloadAuthz") in its own transaction; logs a failure. */
void app_audit_reload(grading_ingest_t *in, int64_t now_ms, const char *method, const char *why,
                      const char *file, bool accepted, const char *version, const char *policy_version);

#endif
