/* The syncer: answers committed groups once they are on disk.
 *
 * The store commits with MDB_NOMETASYNC: a commit fsyncs its data pages
 * and writes its meta page without an fsync. That meta page reaches the
 * disk with the next fsync of the file, whoever makes it. So a group
 * committed as transaction T is durable once either
 *   - the writer's next commit that wrote pages returned (its data fsync
 *     came after T's meta page was written), or
 *   - a grading_store_sync begun after T's commit returned, OK.
 * Under load the writer is already applying the next group, whose commit
 * carries the previous group's meta page to disk: one fsync per group
 * instead of two. The syncer fsyncs by itself only when the writer is idle
 * or has been busy longer than SYNCER_MAX_LAG_NS, so a lone call waits no
 * longer than before and a long group does not hold small ones back.
 *
 * Callbacks run on the syncer's thread, never the writer's, in commit
 * order. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest_internal.h"

/* How long a committed group waits for the busy writer's commit to carry
 * it before the syncer fsyncs itself: about one commit under load. */
#define SYNCER_MAX_LAG_NS (3 * 1000000L)

/* A group committed without its meta fsync, with its batches' results. */
typedef struct committed {
    struct committed *next;
    grading_ingest_batch_t *group;
    uint64_t needs;   /* durable once every transaction up to this one is */
    grading_ingest_result_t res[];
} committed_t;

struct grading_syncer {
    grading_store_t *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    committed_t *head, *tail;   /* under mu, in commit order */
    uint64_t durable;           /* under mu: every transaction up to this one is on disk */
    bool writer_busy;           /* under mu: the writer is applying a group */
    bool stopping;              /* under mu */
};

static void finish(grading_ingest_batch_t *b, const grading_ingest_result_t *r)
{
    if (!b->done_cb) return;
    if (r->err)
        b->done_cb(b, r->err, 0, 0);
    else
        b->done_cb(b, GRADING_OK, r->accepted, r->duplicates);
}

void grading_ingest_finish_group(grading_ingest_batch_t *group, const grading_ingest_result_t *res,
                                 grading_err_t all)
{
    size_t i = 0;
    /* a callback may free its batch: the link is read first */
    for (grading_ingest_batch_t *b = group, *next; b; b = next, i++) {
        next = b->next_;
        b->next_ = NULL;
        grading_ingest_result_t r = all ? (grading_ingest_result_t){all, 0, 0} : res[i];
        finish(b, &r);
    }
}

/* Unlinks the groups whose transactions are all durable, or, with err, up
 * to `upto` (mu held). */
static committed_t *take_answered(grading_syncer_t *s, uint64_t upto)
{
    committed_t *list = NULL, **tail = &list;
    while (s->head && s->head->needs <= upto) {
        committed_t *c = s->head;
        s->head = c->next;
        c->next = NULL;
        *tail = c;
        tail = &c->next;
    }
    if (!s->head) s->tail = NULL;
    return list;
}

static void answer(committed_t *list, grading_err_t err)
{
    for (committed_t *c = list, *next; c; c = next) {
        next = c->next;
        grading_ingest_finish_group(c->group, c->res, err);
        free(c);
    }
}

static void deadline_after(struct timespec *ts, long ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += ns;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *syncer_main(void *arg)
{
    grading_syncer_t *s = arg;
    pthread_setname_np(pthread_self(), "grading-syncer");
    pthread_mutex_lock(&s->mu);
    for (;;) {
        committed_t *done = take_answered(s, s->durable);
        if (done) {
            pthread_mutex_unlock(&s->mu);
            answer(done, GRADING_OK);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (!s->head) {
            if (s->stopping) break;   /* every group is answered */
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        if (s->writer_busy && !s->stopping) {
            /* its commit will carry these to disk; wait for it, a while */
            struct timespec until;
            deadline_after(&until, SYNCER_MAX_LAG_NS);
            uint64_t before = s->durable;
            int rc = 0;
            while (s->writer_busy && s->durable == before && !s->stopping && rc != ETIMEDOUT)
                rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
            if (s->durable != before || (!s->writer_busy && rc != ETIMEDOUT)) continue;
        }
        uint64_t target = s->tail->needs;   /* every commit in the list returned */
        pthread_mutex_unlock(&s->mu);
        grading_err_t err = grading_store_sync(s->st);
        pthread_mutex_lock(&s->mu);
        if (!err) {
            if (target > s->durable) s->durable = target;
            continue;
        }
        committed_t *failed = take_answered(s, target);
        pthread_mutex_unlock(&s->mu);
        answer(failed, err);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

grading_err_t grading_syncer_start(grading_store_t *st, grading_syncer_t **out)
{
    grading_syncer_t *s = calloc(1, sizeof *s);
    if (!s) return GRADING_ENOMEM;
    s->st = st;
    pthread_condattr_t attr;
    bool attr_ready = false, mu_ready = false, cv_ready = false;
    if (pthread_mutex_init(&s->mu, NULL)) goto fail;
    mu_ready = true;
    if (pthread_condattr_init(&attr)) goto fail;
    attr_ready = true;
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) || pthread_cond_init(&s->cv, &attr)) goto fail;
    cv_ready = true;
    pthread_condattr_destroy(&attr);
    attr_ready = false;
    if (pthread_create(&s->thread, NULL, syncer_main, s)) goto fail;
    *out = s;
    return GRADING_OK;
fail:
    if (attr_ready) pthread_condattr_destroy(&attr);
    if (cv_ready) pthread_cond_destroy(&s->cv);
    if (mu_ready) pthread_mutex_destroy(&s->mu);
    free(s);
    return GRADING_EIO;
}

void grading_syncer_writer_busy(grading_syncer_t *s, bool busy)
{
    pthread_mutex_lock(&s->mu);
    s->writer_busy = busy;
    if (!busy) pthread_cond_signal(&s->cv);   /* nothing will carry them: sync now */
    pthread_mutex_unlock(&s->mu);
}

void grading_syncer_synced(grading_syncer_t *s, uint64_t txnid)
{
    uint64_t durable = txnid;
    pthread_mutex_lock(&s->mu);
    if (durable > s->durable) {
        s->durable = durable;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

void grading_syncer_hand_over(grading_syncer_t *s, grading_ingest_batch_t *group,
                              const grading_ingest_result_t *res, size_t count,
                              const grading_commit_info_t *ci)
{
    committed_t *c = malloc(sizeof *c + count * sizeof *res);
    if (!c) {   /* no memory to wait: sync here and answer at once */
        grading_ingest_finish_group(group, res, grading_store_sync(s->st));
        return;
    }
    c->next = NULL;
    c->group = group;
    c->needs = ci->txnid;
    memcpy(c->res, res, count * sizeof *res);
    pthread_mutex_lock(&s->mu);
    if (ci->wrote && ci->txnid - 1 > s->durable) s->durable = ci->txnid - 1;
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void grading_syncer_stop(grading_syncer_t *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    s->writer_busy = false;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
