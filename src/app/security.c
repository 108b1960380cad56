/* The --authz file's life in gradingd, and reload audit entries. */
#include "security.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/audit.h"

static void print_diags(const grading_policy_diags_t *d)
{
    size_t shown = d->count < GRADING_POLICY_MAX_DIAGS ? d->count : GRADING_POLICY_MAX_DIAGS;
    for (size_t i = 0; i < shown; i++)
        fprintf(stderr, "gradingd: authz: %s: %s\n", d->diags[i].where, d->diags[i].message);
    if (d->count > shown) fprintf(stderr, "gradingd: authz: ... and %zu more\n", d->count - shown);
}

grading_err_t app_authz_load(const char *path, grading_authz_t **out)
{
    grading_policy_diags_t *diags = calloc(1, sizeof *diags);
    if (!diags) return GRADING_ENOMEM;
    grading_err_t err = grading_authz_load_file(path, out, diags);
    if (err) {
        fprintf(stderr, "gradingd: authz file %s is invalid:\n", path);
        print_diags(diags);
    }
    free(diags);
    return err;
}

typedef struct {
    grading_audit_entry_t e;
} reload_audit_t;

static grading_err_t write_entry(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)now_ms;
    return grading_store_audit_put(txn, &((reload_audit_t *)ctx)->e);
}

void app_audit_reload(grading_ingest_t *in, int64_t now_ms, const char *method, const char *why,
                      const char *file, bool accepted, const char *version, const char *policy_version)
{
    reload_audit_t r = {0};
    r.e.time_ms = now_ms;
    snprintf(r.e.caller, sizeof r.e.caller, "gradingd");
    snprintf(r.e.method, sizeof r.e.method, "%s", method);
    snprintf(r.e.policy_version, sizeof r.e.policy_version, "%s", policy_version ? policy_version : "");
    snprintf(r.e.detail, sizeof r.e.detail, "%s: %s %s%s", why, file,
             accepted ? "version " : "rejected, kept the current one", accepted ? version : "");
    grading_audit_count(&r.e, "accepted", accepted ? 1 : 0);
    grading_ingest_batch_t b = {.n = 0, .apply = write_entry, .apply_ctx = &r};
    grading_err_t err = grading_ingest_run(in, &b, NULL, NULL);
    if (err) fprintf(stderr, "gradingd: cannot write the audit entry of %s (%s)\n", method, grading_err_name(err));
}

#define PRUNE_FIRST_MS 1000
#define PRUNE_EVERY_MS 60000
#define PRUNE_MAX_PER_BATCH 10000

static grading_err_t prune_apply(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)now_ms;
    app_audit_prune_t *p = ctx;
    uint32_t removed = 0;
    return grading_store_audit_prune(txn, p->before_ms, PRUNE_MAX_PER_BATCH, &removed);
}

/* On the writer thread, after the commit. */
static void prune_done(grading_ingest_batch_t *b, grading_err_t err, uint32_t accepted, uint32_t duplicates)
{
    (void)accepted, (void)duplicates;
    app_audit_prune_t *p = b->data;
    if (err && err != GRADING_ESHUTDOWN)
        fprintf(stderr, "gradingd: pruning old audit entries failed (%s)\n", grading_err_name(err));
    atomic_store(&p->in_flight, false);
}

static void on_prune_timer(uv_timer_t *t)
{
    app_audit_prune_t *p = t->data;
    if (atomic_exchange(&p->in_flight, true)) return;
    p->before_ms = p->now_ms(p->clock_ctx) - p->retention_ms;
    p->batch = (grading_ingest_batch_t){.n = 0, .apply = prune_apply, .apply_ctx = p, .done_cb = prune_done, .data = p};
    grading_ingest_submit(p->ingest, &p->batch);
}

void app_audit_prune_start(app_audit_prune_t *p, uv_loop_t *loop)
{
    atomic_init(&p->in_flight, false);
    if (p->retention_ms <= 0) return;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    p->timer_ready = true;
    uv_timer_start(&p->timer, on_prune_timer, PRUNE_FIRST_MS, PRUNE_EVERY_MS);
}

void app_audit_prune_close(app_audit_prune_t *p)
{
    if (p->timer_ready) uv_close((uv_handle_t *)&p->timer, NULL);
    p->timer_ready = false;
}

void app_authz_reload(app_authz_t *z, const char *why)
{
    if (!z->path) return;
    grading_authz_t *a = NULL;
    grading_policy_diags_t *diags = calloc(1, sizeof *diags);
    if (!diags) return;
    grading_err_t err = grading_authz_load_file(z->path, &a, diags);
    grading_policy_t *p = grading_server_policy(z->server);
    if (err) {
        fprintf(stderr, "gradingd: %s: authz file %s rejected, keeping the current one\n", why, z->path);
        print_diags(diags);
    } else {
        grading_server_set_authz(z->server, a);
        fprintf(stderr, "gradingd: %s: authz file %s loaded, version %s, %zu callers\n", why, z->path,
                grading_authz_version(a), grading_authz_caller_count(a));
    }
    app_audit_reload(z->ingest, z->now_ms(z->clock_ctx), "ReloadAuthz", why, z->path, !err,
                     a ? grading_authz_version(a) : "", grading_policy_version(p));
    grading_policy_unref(p);
    grading_authz_unref(a);
    free(diags);
}

static void on_debounced(uv_timer_t *t)
{
    app_authz_reload(t->data, "authz file changed");
}

static void on_dir_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    (void)events;
    app_authz_t *z = h->data;
    const char *base = strrchr(z->path, '/');
    base = base ? base + 1 : z->path;
    /* a ConfigMap mount swaps a ..data symlink: any change in the directory */
    if (status < 0 || !filename) return;
    if (strcmp(filename, base) != 0 && strcmp(filename, "..data") != 0) return;
    uv_timer_start(&z->debounce, on_debounced, 200, 0);
}

void app_authz_watch(app_authz_t *z, uv_loop_t *loop, bool watch)
{
    if (!z->path) return;
    uv_timer_init(loop, &z->debounce);
    z->debounce.data = z;
    z->timer_ready = true;
    if (!watch) return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", z->path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    uv_fs_event_init(loop, &z->watch);
    z->watch.data = z;
    z->watching = true;
    int rc = uv_fs_event_start(&z->watch, on_dir_event, dir, 0);
    if (rc)
        fprintf(stderr, "gradingd: cannot watch %s for authz changes (%s); SIGHUP still reloads\n", dir,
                uv_strerror(rc));
}

void app_authz_close(app_authz_t *z)
{
    if (z->watching) uv_close((uv_handle_t *)&z->watch, NULL);
    if (z->timer_ready) uv_close((uv_handle_t *)&z->debounce, NULL);
    z->watching = z->timer_ready = false;
}
