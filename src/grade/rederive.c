/* The re-derive walk (rederive.h). */
#include "grading/rederive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"

#define REDERIVE_META "refreshed_with_policy"   /* the last full walk's policy */

size_t grading_rederive_marketplace(grading_store_reader_t *rd, grading_ingest_t *in, const grading_policy_t *p,
                                    const char *mp, bool (*stop)(void *), void *stop_ctx)
{
    grading_err_t err = GRADING_OK;
    return grading_rederive_marketplace_with(rd, in, mp, grading_assess_derive_cb, (void *)p, stop, stop_ctx, &err);
}

size_t grading_rederive_marketplace_with(grading_store_reader_t *rd, grading_ingest_t *in, const char *mp,
                                         grading_rederive_cb derive, void *derive_ctx, bool (*stop)(void *),
                                         void *stop_ctx, grading_err_t *out_err)
{
    /* one page of ids, on the heap: the walk may run on any thread */
    char (*ids)[GRADING_MAX_ID_LEN + 1] = calloc(GRADING_REDERIVE_PAGE, sizeof *ids);
    const char *sellers[GRADING_REDERIVE_PAGE], *mps[GRADING_REDERIVE_PAGE];
    char after[GRADING_MAX_ID_LEN + 1] = "";
    size_t total = 0;
    if (!ids) {
        fprintf(stderr, "gradingd: refresh of %s stopped: out of memory\n", mp);
        *out_err = GRADING_ENOMEM;
        return 0;
    }
    for (;;) {
        if (stop && stop(stop_ctx)) break;
        grading_txn_t *txn;
        size_t n = 0;
        grading_err_t err = grading_store_read_begin(rd, &txn);
        if (err) {
            *out_err = err;
            break;
        }
        err = grading_store_sellers_page(txn, mp, after, ids, GRADING_REDERIVE_PAGE, &n);
        grading_store_read_end(rd);
        if (err) *out_err = err;
        if (err || n == 0) break;
        for (size_t i = 0; i < n; i++) sellers[i] = ids[i], mps[i] = mp;
        grading_ingest_batch_t b = {.n = 0,
                                    .derive = derive,
                                    .derive_ctx = derive_ctx,
                                    .extra_sellers = sellers,
                                    .extra_marketplaces = mps,
                                    .nextra = (uint32_t)n};
        if ((err = grading_ingest_run(in, &b, NULL, NULL))) {
            fprintf(stderr, "gradingd: refresh of %s stopped: %s\n", mp, grading_err_name(err));
            *out_err = err;
            break;
        }
        total += n;
        if (n < GRADING_REDERIVE_PAGE) break;
        memcpy(after, ids[n - 1], sizeof after);
    }
    free(ids);
    return total;
}

bool grading_rederive_is_current(grading_store_reader_t *rd, const grading_policy_t *p)
{
    grading_txn_t *txn;
    char v[64];
    bool found = false;
    if (grading_store_read_begin(rd, &txn)) return false;
    grading_err_t err = grading_store_meta_get(txn, REDERIVE_META, v, sizeof v, &found);
    grading_store_read_end(rd);
    return !err && found && strcmp(v, grading_policy_version(p)) == 0;
}

static grading_err_t mark_walked(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)now_ms;
    return grading_store_meta_put(txn, REDERIVE_META, grading_policy_version(ctx));
}

grading_err_t grading_rederive_mark_current(grading_ingest_t *in, const grading_policy_t *p)
{
    grading_ingest_batch_t b = {.n = 0, .apply = mark_walked, .apply_ctx = (void *)p};
    return grading_ingest_run(in, &b, NULL, NULL);
}
