/* gradingd: flags, start-up, the libuv loop for signals, graceful stop.
 *
 * Start-up order is the dependency order (policy, store, ingest writer,
 * gRPC server); stop is the reverse, so nothing is torn down while a
 * layer above may still use it: the server drains its calls (each
 * RecordEvents answered after its commit), then the writer finishes what
 * is queued, then LMDB closes. The main thread only runs the libuv loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "flags.h"
#include "grading/access_log.h"
#include "grading/admin.h"
#include "grading/cells_upgrade.h"
#include "grading/ingest.h"
#include "grading/log.h"
#include "grading/metrics.h"
#include "grading/policy.h"
#include "grading/server.h"
#include "grading/store.h"
#include "kafka_app.h"
#include "grading/changes.h"
#include "ops.h"
#include "pruner.h"
#include "refresh.h"
#include "security.h"
#include "shadow.h"

#define EXIT_USAGE 2

typedef struct {
    app_flags_t flags;
    grading_store_t *store;
    grading_ingest_t *ingest;
    grading_server_t *server;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t drain_timer;
    uv_timer_t refresh_timer;       /* periodic re-derivation */
    uv_fs_event_t policy_watch;     /* the policy file's directory */
    uv_timer_t reload_debounce;     /* editors write a file in several steps */
    app_refresh_t *refresh;
    uv_timer_t sweep_timer;         /* deadlines advance without traffic */
    bool watching;
    bool stopping;
    app_ops_t ops;                  /* admin server, loop heartbeat, policy hash */
    int64_t clock_mono_start_ns;    /* --test-clock: when it started */
    app_authz_t authz;              /* --authz, reloaded like the policy */
    app_audit_prune_t audit_prune;  /* --audit-retention-days */
    app_pruner_t *pruner;           /* issue 18: --prune-interval */
    grading_kafka_t *kafka;         /* Kafka mode (issue 11), or NULL */
} app_t;

/* The service's clock: the wall clock, or with --test-clock one that
 * starts at the given time and runs --test-clock-rate times as fast (so an
 * end-to-end test can let days pass in seconds). Thread-safe: read only. */
static int64_t app_now_ms(void *ctx)
{
    const app_t *a = ctx;
    struct timespec ts;
    if (!a->flags.test_clock) {
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - a->clock_mono_start_ns;
    return a->flags.test_clock_ms + (int64_t)((double)ns / 1e6 * a->flags.test_clock_rate);
}

static void print_diags(const char *what, const grading_policy_diags_t *d)
{
    size_t shown = d->count < GRADING_POLICY_MAX_DIAGS ? d->count : GRADING_POLICY_MAX_DIAGS;
    for (size_t i = 0; i < shown; i++)
        fprintf(stderr, "gradingd: %s: %s: %s\n", what, d->diags[i].where, d->diags[i].message);
    if (d->count > shown)
        fprintf(stderr, "gradingd: %s: ... and %zu more\n", what, d->count - shown);
}


static void close_handles(app_t *a)
{
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->sighup, NULL);
    uv_close((uv_handle_t *)&a->drain_timer, NULL);
    uv_close((uv_handle_t *)&a->refresh_timer, NULL);
    uv_close((uv_handle_t *)&a->sweep_timer, NULL);
    uv_close((uv_handle_t *)&a->reload_debounce, NULL);
    app_ops_close_handles(&a->ops);
    if (a->watching) uv_close((uv_handle_t *)&a->policy_watch, NULL);
    a->watching = false;
    app_authz_close(&a->authz);
    app_audit_prune_close(&a->audit_prune);
}

static void on_drained(uv_timer_t *t)
{
    app_t *a = t->data;
    grading_server_shutdown(a->server, a->flags.shutdown_grace_ms);
    close_handles(a);
}

static void on_stop_signal(uv_signal_t *h, int signum)
{
    app_t *a = h->data;
    if (a->stopping) return;
    a->stopping = true;
    atomic_store(&a->ops.draining, true);
    grading_log(GRADING_LOG_INFO, "%s: draining", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    grading_server_drain(a->server);
    uv_timer_start(&a->drain_timer, on_drained, (uint64_t)a->flags.drain_ms, 0);
}

static void reload_policy(app_t *a, const char *why)
{
    app_ops_note_policy_content(&a->ops, a->flags.policy);
    grading_policy_t *p = NULL;
    grading_policy_diags_t *diags = calloc(1, sizeof *diags);
    if (!diags) return;
    grading_err_t err = grading_policy_load_file(a->flags.policy, &p, diags);
    if (err) {
        grading_metrics_policy_reload(GRADING_RELOAD_INVALID);
        grading_log(GRADING_LOG_ERROR, "%s: policy %s rejected, keeping the current one", why,
                    a->flags.policy);
        print_diags("policy", diags);
    } else {
        grading_metrics_policy_reload(GRADING_RELOAD_OK);
        if (a->flags.shadow_policy) {   /* re-read with it; a bad one keeps the shadow in use */
            grading_policy_t *was = grading_server_policy(a->server);
            app_shadow_attach(a->flags.shadow_policy, p, (grading_policy_t *)grading_policy_shadow(was));
            grading_policy_unref(was);
        }
        grading_server_set_policy(a->server, p);
        grading_log(GRADING_LOG_INFO, "%s: policy %s loaded, version %s", why, a->flags.policy,
                    grading_policy_version(p));
        app_refresh_request(a->refresh, p);
    }
    grading_policy_t *cur = grading_server_policy(a->server);
    app_audit_reload(a->ingest, app_now_ms(a), "ReloadPolicy", why, a->flags.policy, !err,
                     grading_policy_version(cur), grading_policy_version(cur));
    grading_policy_unref(cur);
    grading_policy_unref(p);
    free(diags);
}

static void on_reload_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    app_t *a = h->data;
    reload_policy(a, "SIGHUP");
    app_authz_reload(&a->authz, "SIGHUP");
    grading_server_reload_tls(a->server);
}

static void on_reload_debounced(uv_timer_t *t)
{
    app_t *a = t->data;
    /* The directory changed; the policy only when its content did (a
     * ConfigMap swaps its ..data symlink, an editor renames a file). */
    if (!app_ops_policy_content_changed(&a->ops, a->flags.policy)) return;
    reload_policy(a, "policy file changed");
}

static void on_policy_dir_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    (void)events;
    app_t *a = h->data;
    (void)filename;   /* any entry: the file may be a symlink through ..data */
    if (status < 0 || a->stopping) return;
    uv_timer_start(&a->reload_debounce, on_reload_debounced, 200, 0);
}

/* Watches the policy file's directory (editors replace the file). */
static void watch_policy(app_t *a)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", a->flags.policy);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    uv_fs_event_init(&a->loop, &a->policy_watch);
    a->policy_watch.data = a;
    a->watching = true;
    int rc = uv_fs_event_start(&a->policy_watch, on_policy_dir_event, dir, 0);
    if (rc)
        fprintf(stderr, "gradingd: cannot watch %s for policy changes (%s); SIGHUP still reloads\n",
                dir, uv_strerror(rc));
}

/* A close finished (on a handler thread): stored boosts may follow the
 * published grades. The refresh thread takes it from here. */
static void on_published(void *ctx, const char *marketplace)
{
    app_t *a = ctx;
    (void)marketplace;
    if (!a->server) return;   /* a close cannot finish before start-up has */
    grading_policy_t *p = grading_server_policy(a->server);
    app_refresh_request(a->refresh, p);
    grading_policy_unref(p);
}

static void on_sweep_timer(uv_timer_t *t)
{
    app_t *a = t->data;
    grading_policy_t *p = grading_server_policy(a->server);
    app_refresh_sweep(a->refresh, p);
    grading_policy_unref(p);
}

/* Days stored by a build without the cancel / return / exchange cells get
 * them from their orders, once per store, before anything is served (a
 * metric's `exclude` reads them). */
static grading_err_t count_cells_once(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p)
{
    grading_store_reader_t *rd = NULL;
    grading_err_t err = grading_store_reader_new(st, &rd);
    if (err || grading_cells_counted(rd)) goto done;
    size_t n = 0;
    err = grading_cells_upgrade(rd, in, p, &n);
    if (err) fprintf(stderr, "gradingd: counting cells from the orders failed: %s\n", grading_err_name(err));
    else if (n) fprintf(stderr, "gradingd: counted the cancel, return and exchange cells of %zu sellers\n", n);
done:
    grading_store_reader_free(rd);
    return err;
}

static void on_refresh_timer(uv_timer_t *t)
{
    app_t *a = t->data;
    grading_policy_t *p = grading_server_policy(a->server);
    app_refresh_request(a->refresh, p);
    grading_policy_unref(p);
}

int main(int argc, char **argv)
{
    app_t a = {0};
    char err[512];
    int rc = 1;
    grading_policy_t *policy = NULL;
    grading_authz_t *authz = NULL;
    grading_policy_diags_t *diags = NULL;
    grading_error_t e = {0};
    bool loop_ready = false;

    if (!app_flags_parse(argc, argv, &a.flags, err, sizeof err)) {
        fprintf(stderr, "gradingd: %s\n", err);
        return EXIT_USAGE;
    }
    if (a.flags.help) {
        app_flags_usage(stdout);
        return 0;
    }
    if (a.flags.version) {
        printf("gradingd %s\n", GRADING_VERSION);
        return 0;
    }
    grading_log_configure((grading_log_format_t)a.flags.log_format, (grading_log_level_t)a.flags.log_level, NULL);
    grading_access_log_configure(a.flags.access_log, a.flags.access_log_sample);
    if (a.flags.restore) return app_ops_restore(&a.flags);

    diags = calloc(1, sizeof *diags);
    if (!diags) goto fail;
    if (grading_policy_load_file(a.flags.policy, &policy, diags)) {
        fprintf(stderr, "gradingd: policy %s is invalid:\n", a.flags.policy);
        print_diags("policy", diags);
        rc = EXIT_USAGE;
        goto fail;
    }
    if (a.flags.shadow_policy && !app_shadow_attach(a.flags.shadow_policy, policy, NULL)) {
        fprintf(stderr, "gradingd: shadow policy %s is invalid (see the log)\n", a.flags.shadow_policy);
        rc = EXIT_USAGE;
        goto fail;
    }

    if (a.flags.authz && app_authz_load(a.flags.authz, &authz)) {
        rc = EXIT_USAGE;
        goto fail;
    }

    grading_store_options_t so = {
        .dir = a.flags.data_dir, .map_size = a.flags.map_size, .max_map_size = a.flags.max_map_size};
    if (grading_store_open(&so, &a.store, &e)) {
        grading_error_format(&e, err, sizeof err);
        fprintf(stderr, "gradingd: data dir %s: %s\n", a.flags.data_dir, err);
        rc = EXIT_USAGE;
        goto fail;
    }
    grading_store_changes_limits(a.store, a.flags.change_log_max_age_ms, a.flags.change_log_max_entries);
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    a.clock_mono_start_ns = (int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec;
    if (grading_ingest_start(a.store, app_now_ms, &a, &a.ingest)) {
        fprintf(stderr, "gradingd: cannot start the writer thread\n");
        goto fail;
    }
    if (count_cells_once(a.store, a.ingest, policy)) goto fail;
    if (app_refresh_start(a.store, a.ingest, app_now_ms, &a, &a.refresh)) {
        fprintf(stderr, "gradingd: cannot start the refresh thread\n");
        goto fail;
    }
    /* stored answers may come from another policy version */
    app_refresh_request_if_changed(a.refresh, policy);
    app_refresh_set_orphan_max_age(a.refresh, a.flags.orphan_max_age_ms);

    if (app_kafka_start(&a.flags, a.store, a.ingest, app_now_ms, &a, &a.kafka)) {
        rc = EXIT_USAGE;
        goto fail;
    }
    if (a.kafka) grading_kafka_on_closed(a.kafka, on_published, &a);   /* closes at the markers */
    grading_server_options_t opts = {
        .kafka = a.kafka,
        .listen = a.flags.listen,
        .threads = a.flags.threads,
        .store = a.store,
        .ingest = a.ingest,
        .policy = policy,
        .now_ms = app_now_ms,
        .clock_ctx = &a,
        .on_published = on_published,
        .published_ctx = &a,
        .tls_cert = a.flags.tls_cert,
        .tls_key = a.flags.tls_key,
        .tls_client_ca = a.flags.tls_client_ca,
        .authz = authz,
        .trust_proxy_identity = a.flags.trust_proxy_identity,
        .max_future_skew_ms = a.flags.max_future_skew_ms,
        .dedup_horizon_ms = a.flags.dedup_horizon_ms,
        .watch_max_lag = a.flags.watch_max_lag,
    };
    int port = 0;
    if (grading_server_start(&opts, &a.server, &port, &e)) {
        grading_error_format(&e, err, sizeof err);
        fprintf(stderr, "gradingd: %s\n", err);
        /* a bad TLS file is a start-up mistake, like a bad flag */
        if (e.field[0] == '-' && e.field[1] == '-') rc = EXIT_USAGE;
        goto fail;
    }

    uv_loop_init(&a.loop);
    loop_ready = true;
    uv_signal_init(&a.loop, &a.sigterm);
    uv_signal_init(&a.loop, &a.sigint);
    uv_signal_init(&a.loop, &a.sighup);
    uv_timer_init(&a.loop, &a.drain_timer);
    uv_timer_init(&a.loop, &a.refresh_timer);
    uv_timer_init(&a.loop, &a.reload_debounce);
    uv_timer_init(&a.loop, &a.sweep_timer);
    a.sweep_timer.data = &a;
    if (a.flags.sweep_ms > 0)
        uv_timer_start(&a.sweep_timer, on_sweep_timer, (uint64_t)a.flags.sweep_ms, (uint64_t)a.flags.sweep_ms);
    a.sigterm.data = a.sigint.data = a.sighup.data = a.drain_timer.data = &a;
    a.refresh_timer.data = a.reload_debounce.data = &a;
    if (a.flags.refresh_s > 0)
        uv_timer_start(&a.refresh_timer, on_refresh_timer, (uint64_t)a.flags.refresh_s * 1000,
                       (uint64_t)a.flags.refresh_s * 1000);
    if (a.flags.watch_policy) watch_policy(&a);
    a.authz = (app_authz_t){.path = a.flags.authz, .server = a.server, .ingest = a.ingest,
                            .now_ms = app_now_ms, .clock_ctx = &a};
    app_authz_watch(&a.authz, &a.loop, a.flags.watch_policy);
    a.audit_prune = (app_audit_prune_t){.ingest = a.ingest, .now_ms = app_now_ms, .clock_ctx = &a,
                                        .retention_ms = a.flags.audit_retention_days * 86400000};
    app_audit_prune_start(&a.audit_prune, &a.loop);
    app_ops_note_policy_content(&a.ops, a.flags.policy);
    a.ops.kafka = a.kafka;
    if (a.kafka && app_kafka_consume(a.kafka, a.server)) {
        fprintf(stderr, "gradingd: cannot start the Kafka consumer thread\n");
        grading_server_shutdown(a.server, 0);
        close_handles(&a);
        uv_run(&a.loop, UV_RUN_DEFAULT);
        goto fail;
    }
    if (app_ops_start(&a.ops, &a.flags, &a.loop, a.store, a.ingest, a.server) != 0) {
        grading_server_shutdown(a.server, 0);
        close_handles(&a);
        uv_run(&a.loop, UV_RUN_DEFAULT);
        rc = EXIT_USAGE;
        goto fail;
    }
    uv_signal_start(&a.sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&a.sigint, on_stop_signal, SIGINT);
    uv_signal_start(&a.sighup, on_reload_signal, SIGHUP);

    if (a.flags.port_file && app_write_port_file(a.flags.port_file, port) != 0) {
        fprintf(stderr, "gradingd: cannot write --port-file %s: %s\n", a.flags.port_file,
                strerror(errno));
        grading_server_shutdown(a.server, 0);
        close_handles(&a);
        uv_run(&a.loop, UV_RUN_DEFAULT);
        rc = EXIT_USAGE;
        goto fail;
    }
    grading_prune_options_t prune = {.margin_days = (int32_t)(a.flags.retention_margin_ms / 86400000),
                                     .dedup_horizon_ms = a.flags.dedup_horizon_ms,
                                     .keep_periods = (uint32_t)a.flags.keep_periods};
    if (app_pruner_start(a.server, a.ingest, app_now_ms, &a, &prune, a.flags.prune_interval_ms, &a.pruner))
        grading_log(GRADING_LOG_WARN, "cannot start the retention pruner; nothing will be pruned");
    app_ops_log_config(&a.flags, port, a.ops.admin_port, policy);
    grading_log(GRADING_LOG_INFO, "serving on %s (port %d), data %s, policy %s version %s, %d threads",
                a.flags.listen, port, a.flags.data_dir, a.flags.policy, grading_policy_version(policy),
                a.flags.threads);

    uv_run(&a.loop, UV_RUN_DEFAULT);
    rc = 0;
    grading_log(GRADING_LOG_INFO, "stopped cleanly");
fail:
    app_ops_stop(&a.ops);   /* before the writer and the store it reads */
    app_pruner_stop(a.pruner);   /* it uses the server's policy and the writer */
    if (a.server) grading_server_free(a.server);
    grading_kafka_stop(a.kafka);   /* after the server: its calls may wait on it */
    app_refresh_stop(a.refresh);
    if (a.ingest) grading_ingest_stop(a.ingest);
    if (a.store) grading_store_close(a.store);
    if (loop_ready) uv_loop_close(&a.loop);
    grading_policy_unref(policy);
    grading_authz_unref(authz);
    free(diags);
    return rc;
}
