/* See ops.h. */
#include "ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grading/kafka.h"
#include "grading/log.h"
#include "grading/store_backup.h"

#define HEARTBEAT_MS 1000
#define POLICY_MAX_BYTES (64u << 20)

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_heartbeat(uv_timer_t *t)
{
    app_ops_t *o = t->data;
    atomic_store(&o->last_tick_ms, mono_ms());
}

static grading_policy_t *admin_policy(void *ctx)
{
    app_ops_t *o = ctx;
    return o->server ? grading_server_policy(o->server) : NULL;
}

static bool admin_draining(void *ctx) { return atomic_load(&((app_ops_t *)ctx)->draining); }

static int64_t admin_loop_idle(void *ctx)
{
    app_ops_t *o = ctx;
    return mono_ms() - atomic_load(&o->last_tick_ms);
}

static bool kafka_ready(void *ctx, char *why, size_t len) { return grading_kafka_ready(ctx, why, len); }
static void kafka_metrics(void *ctx, FILE *out) { grading_kafka_write_metrics(ctx, out); }

/* Writes the port atomically so a reader never sees a partial file. */
int app_write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0) return -1;
    return rename(tmp, path);
}

int app_ops_start(app_ops_t *o, const app_flags_t *f, uv_loop_t *loop, grading_store_t *store,
                  grading_ingest_t *ingest, grading_server_t *server)
{
    o->server = server;
    atomic_store(&o->last_tick_ms, mono_ms());
    uv_timer_init(loop, &o->heartbeat);
    o->heartbeat.data = o;
    o->heartbeat_ready = true;
    uv_timer_start(&o->heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
    if (!f->admin_listen) return 0;
    grading_admin_options_t ao = {
        .listen = f->admin_listen,
        .store = store,
        .ingest = ingest,
        .liveness_timeout_ms = f->liveness_timeout_ms,
        .remote_backup = f->admin_remote_backup,
        .policy = admin_policy,
        .draining = admin_draining,
        .loop_idle_ms = admin_loop_idle,
        .ctx = o,
    };
    if (o->kafka) {   /* Kafka mode (issue 11): ready once caught up */
        ao.extra_ready = kafka_ready;
        ao.extra_metrics = kafka_metrics;
        ao.extra_ctx = o->kafka;
    }
    grading_error_t e = {0};
    char msg[400];
    if (grading_admin_start(&ao, &o->admin, &o->admin_port, &e)) {
        grading_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "gradingd: %s\n", msg);
        return -1;
    }
    if (f->admin_port_file && app_write_port_file(f->admin_port_file, o->admin_port) != 0) {
        fprintf(stderr, "gradingd: cannot write --admin-port-file %s: %s\n", f->admin_port_file, strerror(errno));
        return -1;
    }
    return 0;
}

void app_ops_close_handles(app_ops_t *o)
{
    if (o->heartbeat_ready) uv_close((uv_handle_t *)&o->heartbeat, NULL);
    o->heartbeat_ready = false;
}

void app_ops_stop(app_ops_t *o)
{
    grading_admin_stop(o->admin);
    o->admin = NULL;
}

/* FNV-1a over the content and its length. */
static bool file_hash(const char *path, uint64_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    uint64_t h = UINT64_C(14695981039346656037);
    uint64_t n = 0;
    char buf[8192];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0 && n < POLICY_MAX_BYTES) {
        for (size_t i = 0; i < got; i++) {
            h ^= (unsigned char)buf[i];
            h *= UINT64_C(1099511628211);
        }
        n += got;
    }
    bool ok = !ferror(f);
    fclose(f);
    *out = h ^ n;
    return ok;
}

void app_ops_note_policy_content(app_ops_t *o, const char *path)
{
    o->policy_hash_known = file_hash(path, &o->policy_hash);
}

bool app_ops_policy_content_changed(app_ops_t *o, const char *path)
{
    uint64_t h;
    if (!file_hash(path, &h)) return o->policy_hash_known;   /* it went away: say so */
    return !o->policy_hash_known || h != o->policy_hash;
}

void app_ops_log_config(const app_flags_t *f, int port, int admin_port, const grading_policy_t *policy)
{
    char admin[80];
    if (f->admin_listen) snprintf(admin, sizeof admin, "%s (port %d)", f->admin_listen, admin_port);
    else snprintf(admin, sizeof admin, "off");
    grading_log_field_t fl[] = {
        {"listen", f->listen, 0},
        {"port", NULL, port},
        {"admin_listen", admin, 0},
        {"data_dir", f->data_dir, 0},
        {"policy", f->policy, 0},
        {"policy_version", grading_policy_version(policy), 0},
        {"threads", NULL, f->threads},
        {"map_size", NULL, (double)f->map_size},
        {"max_map_size", NULL, (double)f->max_map_size},
        {"drain_ms", NULL, (double)f->drain_ms},
        {"shutdown_grace_ms", NULL, (double)f->shutdown_grace_ms},
        {"refresh_s", NULL, (double)f->refresh_s},
        {"watch_policy", f->watch_policy ? "true" : "false", 0},
        {"sweep_ms", NULL, (double)f->sweep_ms},
        {"liveness_timeout_ms", NULL, (double)f->liveness_timeout_ms},
        {"log_format", f->log_format == GRADING_LOG_JSON ? "json" : "text", 0},
        {"log_level", grading_log_level_name((grading_log_level_t)f->log_level), 0},
        {"access_log", f->access_log ? "true" : "false", 0},
        {"access_log_sample", NULL, f->access_log_sample},
        {"admin_remote_backup", f->admin_remote_backup ? "true" : "false", 0},
        {"test_clock", f->test_clock ? "true" : "false", 0},
    };
    grading_log_fields(GRADING_LOG_INFO, NULL, "effective configuration", fl, sizeof fl / sizeof fl[0]);
}

int app_ops_restore(const app_flags_t *f)
{
    grading_error_t e = {0};
    char msg[600];
    if (grading_store_restore(f->restore, f->data_dir, &e)) {
        grading_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "gradingd: restore %s: %s\n", f->restore, msg);
        return 2;
    }
    /* Opening it as the server would proves the restored store usable. */
    grading_store_options_t so = {.dir = f->data_dir, .map_size = f->map_size, .max_map_size = f->max_map_size};
    grading_store_t *st = NULL;
    if (grading_store_open(&so, &st, &e)) {
        grading_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "gradingd: restore: the restored store in %s does not open: %s\n", f->data_dir, msg);
        return 1;
    }
    grading_store_close(st);
    fprintf(stderr, "gradingd: restored %s into %s\n", f->restore, f->data_dir);
    return 0;
}
