/* See assess_read.h. */
#include "grading/assess_read.h"
#include "grading/prune.h"

grading_err_t grading_assess_read_new(grading_store_reader_t *rd, const grading_marketplace_t *mp, const char *seller,
                                      int64_t as_of_ms, grading_assess_t **out, grading_error_t *e)
{
    grading_assess_t *x = grading_assess_new();
    if (!x) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    grading_txn_t *txn;
    grading_err_t err = grading_store_read_begin(rd, &txn);
    if (err) {
        grading_error_set(e, err, "", "cannot read the store");
        goto fail;
    }
    /* never a number from a partial history: as_of before retention is refused */
    err = grading_retention_check(txn, mp, as_of_ms, e);
    if (!err) err = grading_assess_seller(txn, mp, seller, as_of_ms, x, e);
    grading_store_read_end(rd);
    if (err) goto fail;
    *out = x;
    return GRADING_OK;
fail:
    grading_assess_free(x);
    return err;
}
