/* The pruner thread: see pruner.h. */
#include "pruner.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "grading/log.h"

struct app_pruner {
    grading_server_t *server;
    grading_ingest_t *in;
    int64_t (*now_ms)(void *);
    void *clock_ctx;
    grading_prune_options_t opts;
    int64_t interval_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* CLOCK_MONOTONIC */
    bool stopping;       /* under mu */
};

static bool stopping(void *ctx)
{
    app_pruner_t *p = ctx;
    pthread_mutex_lock(&p->mu);
    bool s = p->stopping;
    pthread_mutex_unlock(&p->mu);
    return s;
}

static void run_pass(app_pruner_t *p)
{
    grading_policy_t *pol = grading_server_policy(p->server);
    grading_prune_stats_t st;
    int64_t now = p->now_ms(p->clock_ctx);
    grading_err_t err = grading_prune_pass(p->in, pol, now, &p->opts, &st);
    grading_policy_unref(pol);
    if (err && err != GRADING_ESHUTDOWN)
        grading_log(GRADING_LOG_WARN, "retention pass stopped: %s", grading_err_name(err));
    else if (!err)
        grading_log(GRADING_LOG_INFO,
                    "retention pass done: deleted %llu day records, %llu orders, %llu inquiries, %llu event ids, "
                    "%llu period records in %llu transactions",
                    (unsigned long long)st.days, (unsigned long long)st.orders,
                    (unsigned long long)st.inquiries, (unsigned long long)st.events,
                    (unsigned long long)st.periods, (unsigned long long)st.pages);
}

static void *pruner_main(void *arg)
{
    app_pruner_t *p = arg;
    for (;;) {
        if (stopping(p)) break;
        run_pass(p);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += p->interval_ms / 1000;
        until.tv_nsec += (p->interval_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&p->mu);
        while (!p->stopping && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

grading_err_t app_pruner_start(grading_server_t *server, grading_ingest_t *in, int64_t (*now_ms)(void *),
                               void *clock_ctx, const grading_prune_options_t *opts, int64_t interval_ms,
                               app_pruner_t **out)
{
    *out = NULL;
    if (interval_ms <= 0) return GRADING_OK;
    app_pruner_t *p = calloc(1, sizeof *p);
    if (!p) return GRADING_ENOMEM;
    *p = (app_pruner_t){.server = server, .in = in, .now_ms = now_ms, .clock_ctx = clock_ctx, .opts = *opts,
                        .interval_ms = interval_ms};
    p->opts.stop = stopping;
    p->opts.stop_ctx = p;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&p->thread, NULL, pruner_main, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return GRADING_EIO;
    }
    *out = p;
    return GRADING_OK;
}

void app_pruner_stop(app_pruner_t *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
