/* The thread ClosePeriod runs on. A close can take minutes; on a
 * completion-queue thread it would hold every call that thread had
 * requested (reads wait behind it). Here the handler only queues the call,
 * and this thread runs the closes one after another and answers each with
 * rpc_reply (any thread may). A close gives up between pages when the
 * server is shutting down, so stopping is prompt. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "grading/metrics.h"
#include "server_internal.h"

struct rpc_close_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    call_slot_t *head, *tail;   /* under mu */
    bool stopping;              /* under mu */
};

/* A close is batch work with a budget of a minute; the hot reads share the
 * CPUs with it and should not queue behind it, so this thread runs at a
 * lower priority (Linux applies a nice value to the one thread). If it
 * cannot be lowered, nothing else changes. 15 rather than 5: what-if over
 * 1 M sellers (all CPU on this thread) kept boosts p99 at 0.9-2.1 ms in six
 * runs, against 2.9-3.1 ms in two at 5. */
#define CLOSE_NICE 15

static void *worker_main(void *arg)
{
    rpc_close_worker_t *w = arg;
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), CLOSE_NICE);
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->head && !w->stopping) pthread_cond_wait(&w->cv, &w->mu);
        call_slot_t *s = w->head;
        if (s) {
            w->head = s->close_next;
            if (!w->head) w->tail = NULL;
            s->close_next = NULL;
        }
        pthread_mutex_unlock(&w->mu);
        if (!s) break;   /* stopping and nothing left */
        if (s->worker_run) {   /* another long call (EvaluatePolicy) */
            s->worker_run(s);
            continue;
        }
        grading_metrics_close_running(true);
        rpc_close_run(s);
        grading_metrics_close_running(false);
    }
    return NULL;
}

grading_err_t rpc_close_worker_start(rpc_close_worker_t **out)
{
    rpc_close_worker_t *w = calloc(1, sizeof *w);
    if (!w) return GRADING_ENOMEM;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w)) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return GRADING_EIO;
    }
    *out = w;
    return GRADING_OK;
}

void rpc_close_worker_submit(rpc_close_worker_t *w, call_slot_t *s)
{
    pthread_mutex_lock(&w->mu);
    s->close_next = NULL;
    if (w->tail) w->tail->close_next = s;
    else w->head = s;
    w->tail = s;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void rpc_close_worker_stop(rpc_close_worker_t *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
