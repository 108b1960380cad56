/* In-process seeding: one write transaction of events, as the server's
 * writer would apply them, growing the map while it is full. */
#include <inttypes.h>

#include "benchlib.h"

grading_err_t grading_bench_seed_txn(grading_store_t *st, const grading_ingest_batch_t *b, int64_t stored_ms,
                                     const char *meta_key, const char *meta_value, grading_error_t *e)
{
    for (;;) {   /* bounded: each retry doubles the map, which stops at its maximum */
        grading_txn_t *txn = NULL;
        uint32_t acc = 0, dup = 0;
        grading_err_t err = grading_store_write_begin(st, NULL, &txn);
        if (err) return grading_error_set(e, err, "", "cannot begin a write transaction");
        err = grading_ingest_apply(txn, b, stored_ms, &acc, &dup);
        if (!err && meta_key) err = grading_store_meta_put(txn, meta_key, meta_value);
        if (!err && acc != b->n) {
            grading_txn_abort(txn);
            return grading_error_set(e, GRADING_EINVAL, "", "%" PRIu32 " of %" PRIu32 " events accepted (%" PRIu32
                                     " duplicates)", acc, b->n, dup);
        }
        if (err)
            grading_txn_abort(txn);
        else
            err = grading_txn_commit(txn);
        if (err != GRADING_EFULL) {
            if (err) return grading_error_set(e, err, "", "applying %" PRIu32 " events failed", b->n);
            return GRADING_OK;
        }
        if ((err = grading_store_grow(st)))
            return grading_error_set(e, err, "", "the store is full at %" PRIu64 " bytes", grading_store_map_size(st));
    }
}
