/* The deadline sweep (sweep.h). */
#include "grading/sweep.h"

#include "grading/assess.h"

typedef struct {
    const grading_due_t *due;
    size_t n;
} swept_page_t;

/* After the page's sellers were re-derived (each moved to its next due
 * time): their old keys go, also those of sellers the policy dropped. */
static grading_err_t drop_swept(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    swept_page_t *sp = ctx;
    (void)now_ms;
    for (size_t i = 0; i < sp->n; i++) {
        grading_err_t err = grading_store_due_del(txn, sp->due[i].due_ms, sp->due[i].mp, sp->due[i].seller);
        if (err) return err;
    }
    return GRADING_OK;
}

grading_err_t grading_sweep_due(grading_store_reader_t *rd, grading_ingest_t *in, const grading_policy_t *p,
                                int64_t (*now_ms)(void *), void *clock_ctx, grading_sweep_buf_t *buf,
                                uint64_t *swept, uint32_t *pages)
{
    grading_err_t err = GRADING_OK;
    *swept = 0;
    *pages = 0;
    for (int page = 0; page < 100000; page++) {   /* 51 million sellers: bounded */
        grading_txn_t *txn;
        size_t n = 0;
        if ((err = grading_store_read_begin(rd, &txn))) break;
        err = grading_store_due_page(txn, now_ms(clock_ctx), buf->due, GRADING_SWEEP_PAGE, &n);
        grading_store_read_end(rd);
        if (err || n == 0) break;
        for (size_t i = 0; i < n; i++) buf->sellers[i] = buf->due[i].seller, buf->mps[i] = buf->due[i].mp;
        swept_page_t sp = {buf->due, n};
        grading_ingest_batch_t b = {.n = 0, .derive = grading_assess_derive_cb, .derive_ctx = (void *)p,
                                    .extra_sellers = buf->sellers, .extra_marketplaces = buf->mps,
                                    .nextra = (uint32_t)n, .apply = drop_swept, .apply_ctx = &sp};
        if ((err = grading_ingest_run(in, &b, NULL, NULL))) break;
        *swept += n;
        (*pages)++;
        if (n < GRADING_SWEEP_PAGE) break;
    }
    return err;
}
