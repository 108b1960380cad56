/* The refresh thread: see refresh.h. */
#include "refresh.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grading/exempt_walk.h"
#include "grading/log.h"
#include "grading/metrics.h"
#include "grading/rederive.h"
#include "grading/sweep.h"

struct app_refresh {
    grading_store_t *st;
    grading_ingest_t *in;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    grading_policy_t *pending;   /* under mu: the next walk's policy */
    bool pending_if_changed;     /* under mu: skip the walk if the store is current */
    grading_policy_t *sweep;     /* under mu: a sweep of the due index waits */
    int64_t (*now_ms)(void *);
    void *clock_ctx;
    bool stopping;               /* under mu */
    grading_sweep_buf_t sweep_buf;   /* the refresh thread's */
    grading_orphan_buf_t orphan_buf; /* the refresh thread's */
    int64_t orphan_max_age_ms;       /* set before the first sweep */
};

/* True when the walk should give way (stop, or a newer policy waits). */
static bool interrupted(app_refresh_t *r)
{
    pthread_mutex_lock(&r->mu);
    bool stop = r->stopping || r->pending;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

/* grading_rederive_marketplace's stop: interrupted, as a callback. */
static bool walk_interrupted(void *ctx) { return interrupted(ctx); }

static void *refresh_main(void *arg)
{
    app_refresh_t *r = arg;
    grading_store_reader_t *rd = NULL;
    if (grading_store_reader_new(r->st, &rd)) return NULL;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (!r->pending && !r->sweep && !r->stopping) pthread_cond_wait(&r->cv, &r->mu);
        grading_policy_t *sweep = r->sweep;
        r->sweep = NULL;
        if (sweep && !r->stopping && !r->pending) {
            int64_t orphan_max_age_ms = r->orphan_max_age_ms;
            pthread_mutex_unlock(&r->mu);
            uint64_t n;
            uint32_t pages;
            grading_err_t err = grading_sweep_due(rd, r->in, sweep, r->now_ms, r->clock_ctx, &r->sweep_buf, &n, &pages);
            if (err) grading_log(GRADING_LOG_ERROR, "sweep stopped: %s", grading_err_name(err));
            if (n) grading_log(GRADING_LOG_INFO, "sweep: %llu sellers reached a new order stage", (unsigned long long)n);
            grading_metrics_sweep_due(n);
            if (orphan_max_age_ms > 0) {
                err = grading_sweep_orphans(rd, r->in, sweep, r->now_ms, r->clock_ctx, orphan_max_age_ms,
                                            &r->orphan_buf, &n);
                if (err) grading_log(GRADING_LOG_ERROR, "orphan sweep stopped: %s", grading_err_name(err));
                if (n) grading_log(GRADING_LOG_INFO, "sweep: %llu unpaid orders dropped after --orphan-max-age",
                                   (unsigned long long)n);
            }
            grading_policy_unref(sweep);
            continue;
        }
        grading_policy_unref(sweep);   /* a full walk covers it */
        grading_policy_t *p = r->pending;
        bool if_changed = r->pending_if_changed;
        r->pending = NULL;
        bool stop = r->stopping;
        pthread_mutex_unlock(&r->mu);
        if (stop) {
            grading_policy_unref(p);
            break;
        }
        /* the policy file's exemptions first: cheap when they are as stored */
        size_t exempt_changed = 0;
        grading_error_t ee = {0};
        if (grading_exempt_sync_policy(r->st, r->in, p, r->now_ms(r->clock_ctx), &exempt_changed, &ee))
            grading_log(GRADING_LOG_ERROR, "policy exemptions not applied: %s: %s", ee.field, ee.message);
        else if (exempt_changed)
            grading_log(GRADING_LOG_INFO, "policy exemptions: %zu declared or revoked", exempt_changed);
        if (if_changed && grading_rederive_is_current(rd, p)) {
            grading_policy_unref(p);
            continue;
        }
        size_t total = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (size_t i = 0; i < grading_policy_marketplace_count(p); i++)
            total += grading_rederive_marketplace(rd, r->in, p, grading_policy_marketplace_at(p, i)->name,
                                                  walk_interrupted, r);
        bool cut = interrupted(r);
        if (!cut) grading_rederive_mark_current(r->in, p);   /* on failure the next start-up walks again: harmless */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        grading_metrics_refresh((int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec));
        grading_log(GRADING_LOG_INFO, "refreshed %zu sellers' stored answers with policy %s%s", total,
                    grading_policy_version(p), cut ? " (interrupted)" : "");
        grading_policy_unref(p);
    }
    grading_store_reader_free(rd);
    return NULL;
}

grading_err_t app_refresh_start(grading_store_t *st, grading_ingest_t *in, int64_t (*now_ms)(void *),
                                void *clock_ctx, app_refresh_t **out)
{
    app_refresh_t *r = calloc(1, sizeof *r);
    if (!r) return GRADING_ENOMEM;
    r->st = st;
    r->in = in;
    r->now_ms = now_ms;
    r->clock_ctx = clock_ctx;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, refresh_main, r)) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        return GRADING_EIO;
    }
    *out = r;
    return GRADING_OK;
}

void app_refresh_request(app_refresh_t *r, grading_policy_t *p)
{
    pthread_mutex_lock(&r->mu);
    grading_policy_unref(r->pending);
    r->pending = grading_policy_ref(p);
    r->pending_if_changed = false;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void app_refresh_stop(app_refresh_t *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    grading_policy_unref(r->pending);
    grading_policy_unref(r->sweep);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

void app_refresh_sweep(app_refresh_t *r, grading_policy_t *p)
{
    pthread_mutex_lock(&r->mu);
    if (!r->sweep) {
        r->sweep = grading_policy_ref(p);
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

void app_refresh_request_if_changed(app_refresh_t *r, grading_policy_t *p)
{
    pthread_mutex_lock(&r->mu);
    if (!r->pending) {
        r->pending = grading_policy_ref(p);
        r->pending_if_changed = true;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

void app_refresh_set_orphan_max_age(app_refresh_t *r, int64_t max_age_ms)
{
    pthread_mutex_lock(&r->mu);
    r->orphan_max_age_ms = max_age_ms;
    pthread_mutex_unlock(&r->mu);
}
