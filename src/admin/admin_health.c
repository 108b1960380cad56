/* /healthz and /readyz.
 *
 * Liveness asks the two things that can wedge: the event loop (the app
 * reports how long since it last ran) and the writer (an empty batch is
 * queued and must come back within the bound; a writer stuck in a commit
 * or a callback never answers). One probe is in flight at a time: a probe
 * that did not come back is waited on again by the next check, not
 * replaced, so a wedged writer does not pile up probes. The probe is
 * shared by the waiting check and the writer's callback: whoever lets go
 * last frees it. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_internal.h"

struct admin_probe {
    grading_ingest_batch_t batch;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;                 /* under mu */
    grading_err_t err;         /* under mu */
    atomic_int refs;
};

static void probe_unref(admin_probe_t *p)
{
    if (atomic_fetch_sub(&p->refs, 1) != 1) return;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static void probe_done(grading_ingest_batch_t *b, grading_err_t err, uint32_t accepted, uint32_t duplicates)
{
    (void)accepted;
    (void)duplicates;
    admin_probe_t *p = b->data;
    pthread_mutex_lock(&p->mu);
    p->done = true;
    p->err = err;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    probe_unref(p);
}

/* The probe in flight, or a new one queued; with a reference for the
 * caller. NULL when out of memory. */
static admin_probe_t *probe_get(grading_admin_t *a)
{
    pthread_mutex_lock(&a->probe_mu);
    admin_probe_t *p = a->probe;
    if (!p) {
        p = calloc(1, sizeof *p);
        if (p) {
            pthread_mutex_init(&p->mu, NULL);
            pthread_condattr_t ca;
            pthread_condattr_init(&ca);
            pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
            pthread_cond_init(&p->cv, &ca);
            pthread_condattr_destroy(&ca);
            atomic_init(&p->refs, 2);   /* a->probe and the writer's callback */
            p->batch.done_cb = probe_done;
            p->batch.data = p;
            a->probe = p;
            grading_ingest_submit(a->o.ingest, &p->batch);
        }
    }
    if (p) atomic_fetch_add(&p->refs, 1);
    pthread_mutex_unlock(&a->probe_mu);
    return p;
}

/* Drops a->probe if it is p (it came back). */
static void probe_forget(grading_admin_t *a, admin_probe_t *p)
{
    pthread_mutex_lock(&a->probe_mu);
    bool mine = a->probe == p;
    if (mine) a->probe = NULL;
    pthread_mutex_unlock(&a->probe_mu);
    if (mine) probe_unref(p);
}

void admin_probe_release(grading_admin_t *a)
{
    pthread_mutex_lock(&a->probe_mu);
    admin_probe_t *p = a->probe;
    a->probe = NULL;
    pthread_mutex_unlock(&a->probe_mu);
    if (p) probe_unref(p);
}

/* Waits (bounded) for the writer to answer; fills why when it did not. */
static bool writer_alive(grading_admin_t *a, char *why, size_t len)
{
    admin_probe_t *p = probe_get(a);
    if (!p) {
        snprintf(why, len, "writer: out of memory for the probe");
        return false;
    }
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    int64_t ms = a->o.liveness_timeout_ms;
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&p->mu);
    while (!p->done)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &dl)) break;
    bool done = p->done;
    grading_err_t err = p->err;
    pthread_mutex_unlock(&p->mu);
    if (done) probe_forget(a, p);
    probe_unref(p);
    if (!done) {
        snprintf(why, len, "writer: no answer within %lld ms", (long long)ms);
        return false;
    }
    /* shutting down is not a wedge; any other error is the store failing */
    if (err && err != GRADING_ESHUTDOWN) {
        snprintf(why, len, "writer: %s", grading_err_name(err));
        return false;
    }
    return true;
}

enum MHD_Result admin_healthz(grading_admin_t *a, struct MHD_Connection *conn)
{
    char why[160];
    int64_t idle = a->o.loop_idle_ms ? a->o.loop_idle_ms(a->o.ctx) : 0;
    if (idle > a->o.liveness_timeout_ms) {
        snprintf(why, sizeof why, "event loop: idle for %lld ms (bound %lld)\n", (long long)idle,
                 (long long)a->o.liveness_timeout_ms);
        return admin_reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, why);
    }
    if (a->o.ingest && !writer_alive(a, why, sizeof why - 1)) {
        strcat(why, "\n");
        return admin_reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, why);
    }
    return admin_reply_text(conn, MHD_HTTP_OK, "ok\n");
}

enum MHD_Result admin_readyz(grading_admin_t *a, struct MHD_Connection *conn)
{
    if (!a->o.store) return admin_reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: not open\n");
    grading_policy_t *p = a->o.policy ? a->o.policy(a->o.ctx) : NULL;
    bool loaded = p != NULL;
    grading_policy_unref(p);
    if (!loaded) return admin_reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "policy: not loaded\n");
    if (a->o.draining && a->o.draining(a->o.ctx))
        return admin_reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "draining\n");
    char why[256];
    if (a->o.extra_ready && !a->o.extra_ready(a->o.extra_ctx, why, sizeof why - 1)) {
        strcat(why, "\n");
        return admin_reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, why);
    }
    return admin_reply_text(conn, MHD_HTTP_OK, "ready\n");
}
