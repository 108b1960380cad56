/* The orphan sweep (sweep.h): unpaid orders whose held events are older
 * than the bound are dropped through the ingest writer, a page of the
 * store's `orphans` index at a time; only expired entries are read. */
#include "grading/sweep.h"

#include "grading/assess.h"

typedef struct {
    const grading_policy_t *p;
    const grading_orphan_t *o;
    size_t n;
    uint64_t dropped;   /* of the last attempt (a retried group applies again) */
} orphan_page_t;

static grading_err_t drop_page(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    orphan_page_t *op = ctx;
    op->dropped = 0;
    for (size_t i = 0; i < op->n; i++) {
        const grading_orphan_t *x = &op->o[i];
        const grading_marketplace_t *mp = grading_policy_marketplace(op->p, x->mp);
        grading_err_t err;
        bool dropped = false;
        if (mp)
            err = grading_ingest_drop_orphan(txn, x, &mp->tz, now_ms, &dropped);
        else   /* a marketplace the policy no longer has: nothing is graded there */
            err = grading_store_orphan_del(txn, x->since_ms, x->mp, x->seller, x->order_id);
        if (err) return err;
        op->dropped += dropped;
    }
    return GRADING_OK;
}

grading_err_t grading_sweep_orphans(grading_store_reader_t *rd, grading_ingest_t *in, const grading_policy_t *p,
                                    int64_t (*now_ms)(void *), void *clock_ctx, int64_t max_age_ms,
                                    grading_orphan_buf_t *buf, uint64_t *dropped)
{
    grading_err_t err = GRADING_OK;
    *dropped = 0;
    for (int page = 0; page < 100000; page++) {   /* 51 million orders: bounded */
        grading_txn_t *txn;
        size_t n = 0;
        if ((err = grading_store_read_begin(rd, &txn))) break;
        err = grading_store_orphan_page(txn, now_ms(clock_ctx) - max_age_ms, buf->o, GRADING_SWEEP_PAGE, &n);
        grading_store_read_end(rd);
        if (err || n == 0) break;
        for (size_t i = 0; i < n; i++) buf->sellers[i] = buf->o[i].seller, buf->mps[i] = buf->o[i].mp;
        orphan_page_t op = {p, buf->o, n, 0};
        grading_ingest_batch_t b = {.n = 0, .apply = drop_page, .apply_ctx = &op};
        if ((err = grading_ingest_run(in, &b, NULL, NULL))) break;
        *dropped += op.dropped;
        /* then the sellers' stored answers, derived from what is left (a
         * batch derives before its apply step, so this is a second one) */
        grading_ingest_batch_t d = {.n = 0, .derive = grading_assess_derive_cb, .derive_ctx = (void *)p,
                                    .extra_sellers = buf->sellers, .extra_marketplaces = buf->mps,
                                    .nextra = (uint32_t)n};
        if ((err = grading_ingest_run(in, &d, NULL, NULL))) break;
        if (n < GRADING_SWEEP_PAGE) break;
    }
    return err;
}
