/* gradingd's deadline sweep, in process.
 *
 * sb_sweep_due is src/app/refresh.c's sweep_due with the refresh thread's
 * state replaced by this file's own: the same page size, the same read of
 * the due index with a reader of its own, the same derive-only batch (the
 * page's sellers as extra_sellers, derived with grading_assess_derive,
 * then an apply that deletes the page's keys) submitted to a real ingest
 * writer (grading_ingest_start: nested transaction, group commit, fsync)
 * and waited for. The writer's clock is fixed at the sweep's "now", which
 * is both the due bound and the derive time, as gradingd's clock would be
 * at that instant. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "grading/assess.h"
#include "grading/ingest.h"
#include "sweep_bench.h"

struct sb_sweeper {
    grading_store_t *st;
    grading_ingest_t *in;
    grading_store_reader_t *rd;
    int64_t now_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool page_done;              /* under mu */
    grading_err_t page_err;      /* under mu */
    grading_due_t due[SB_SWEEP_PAGE];
    const char *sellers[SB_SWEEP_PAGE], *mps[SB_SWEEP_PAGE];
};

static int64_t fixed_clock(void *ctx)
{
    return ((sb_sweeper_t *)ctx)->now_ms;
}

static grading_err_t derive(void *ctx, grading_txn_t *txn, const char *mp, const char *seller, int64_t now_ms)
{
    return grading_assess_derive(txn, ctx, mp, seller, now_ms);
}

static void page_done(grading_ingest_batch_t *b, grading_err_t err, uint32_t acc, uint32_t dup)
{
    (void)acc, (void)dup;
    sb_sweeper_t *sw = b->data;
    pthread_mutex_lock(&sw->mu);
    sw->page_done = true;
    sw->page_err = err;
    pthread_cond_broadcast(&sw->cv);
    pthread_mutex_unlock(&sw->mu);
}

typedef struct {
    grading_due_t *due;
    size_t n;
} sweep_page_t;

/* After the page's sellers were re-derived (each moved to its next due
 * time), their old keys go. */
static grading_err_t drop_swept(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    sweep_page_t *sp = ctx;
    (void)now_ms;
    for (size_t i = 0; i < sp->n; i++) {
        grading_err_t err = grading_store_due_del(txn, sp->due[i].due_ms, sp->due[i].mp, sp->due[i].seller);
        if (err) return err;
    }
    return GRADING_OK;
}

grading_err_t sb_sweep_due(sb_sweeper_t *sw, grading_policy_t *p, uint64_t *swept, uint32_t *pages)
{
    grading_err_t err = GRADING_OK;
    *swept = 0;
    *pages = 0;
    for (int page = 0; page < 100000; page++) {   /* refresh.c's bound */
        int64_t now = fixed_clock(sw);
        grading_txn_t *txn;
        size_t n = 0;
        if ((err = grading_store_read_begin(sw->rd, &txn))) break;
        err = grading_store_due_page(txn, now, sw->due, SB_SWEEP_PAGE, &n);
        grading_store_read_end(sw->rd);
        if (err || n == 0) break;
        for (size_t i = 0; i < n; i++) sw->sellers[i] = sw->due[i].seller, sw->mps[i] = sw->due[i].mp;
        sweep_page_t sp = {sw->due, n};
        grading_ingest_batch_t b = {.n = 0, .derive = derive, .derive_ctx = p, .extra_sellers = sw->sellers,
                                    .extra_marketplaces = sw->mps, .nextra = (uint32_t)n, .apply = drop_swept,
                                    .apply_ctx = &sp, .done_cb = page_done, .data = sw};
        pthread_mutex_lock(&sw->mu);
        sw->page_done = false;
        pthread_mutex_unlock(&sw->mu);
        grading_ingest_submit(sw->in, &b);
        pthread_mutex_lock(&sw->mu);
        while (!sw->page_done) pthread_cond_wait(&sw->cv, &sw->mu);
        err = sw->page_err;
        pthread_mutex_unlock(&sw->mu);
        if (err) {
            fprintf(stderr, "grading_sweep_bench: sweep stopped: %s\n", grading_err_name(err));
            break;
        }
        *swept += n;
        (*pages)++;
        if (n < SB_SWEEP_PAGE) break;
    }
    return err;
}

grading_err_t sb_sweeper_new(grading_store_t *st, int64_t now_ms, sb_sweeper_t **out)
{
    grading_err_t err;
    sb_sweeper_t *sw = calloc(1, sizeof *sw);
    if (!sw) return GRADING_ENOMEM;
    sw->st = st;
    sw->now_ms = now_ms;
    pthread_mutex_init(&sw->mu, NULL);
    pthread_cond_init(&sw->cv, NULL);
    if ((err = grading_store_reader_new(st, &sw->rd))) goto fail;
    if ((err = grading_ingest_start(st, fixed_clock, sw, &sw->in))) goto fail;
    *out = sw;
    return GRADING_OK;
fail:
    sb_sweeper_free(sw);
    return err;
}

void sb_sweeper_free(sb_sweeper_t *sw)
{
    if (!sw) return;
    if (sw->in) grading_ingest_stop(sw->in);
    if (sw->rd) grading_store_reader_free(sw->rd);
    pthread_mutex_destroy(&sw->mu);
    pthread_cond_destroy(&sw->cv);
    free(sw);
}
