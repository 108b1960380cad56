/* gradingd's operations side (issue 10): the admin HTTP server, the event
 * loop's heartbeat it checks, the policy file's content hash (reload only
 * on a real change), the effective configuration at start-up, --restore. */
#ifndef GRADING_APP_OPS_H
#define GRADING_APP_OPS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "flags.h"
#include "grading/admin.h"
#include "grading/server.h"

typedef struct {
    grading_admin_t *admin;
    int admin_port;
    uv_timer_t heartbeat;
    bool heartbeat_ready;
    atomic_int_fast64_t last_tick_ms;   /* monotonic; the loop's last heartbeat */
    atomic_bool draining;
    grading_server_t *server;
    uint64_t policy_hash;               /* of the policy file content last loaded or tried */
    bool policy_hash_known;
    struct grading_kafka *kafka;        /* Kafka mode: readiness and figures; set before app_ops_start */
} app_ops_t;

/* Starts the heartbeat on loop and the admin server (unless --admin-listen
 * off), writes --admin-port-file. Returns 0, or -1 after logging why. */
int app_ops_start(app_ops_t *o, const app_flags_t *f, uv_loop_t *loop, grading_store_t *store,
                  grading_ingest_t *ingest, grading_server_t *server);
/* Closes the loop handles (on the loop's thread, before it ends). */
void app_ops_close_handles(app_ops_t *o);
/* Stops the admin server. Idempotent. */
void app_ops_stop(app_ops_t *o);

/* Remembers the hash of the policy file's content (unreadable: forgets). */
void app_ops_note_policy_content(app_ops_t *o, const char *path);
/* True when the file's content differs from the one remembered. */
bool app_ops_policy_content_changed(app_ops_t *o, const char *path);

/* Logs the effective configuration, one record. */
void app_ops_log_config(const app_flags_t *f, int port, int admin_port, const grading_policy_t *policy);

/* --restore: installs the backup as --data-dir's store. Exit code. */
int app_ops_restore(const app_flags_t *f);

/* Writes port to path through a renamed temporary file, so a reader never
 * sees a partial file (--port-file, --admin-port-file). 0 or -1. */
int app_write_port_file(const char *path, int port);

#endif
