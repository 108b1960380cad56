/* /metrics: bytes in use by the big databases (pages in use, not the
 * file: LMDB never shrinks data.mdb, so the file size says little). */
#include "admin_internal.h"
#include "grading/store_prune.h"

void admin_write_store_usage(grading_admin_t *a, FILE *out)
{
    if (!a->o.store) return;
    grading_store_reader_t *r;
    grading_txn_t *t;
    grading_store_usage_t u;
    if (grading_store_reader_new(a->o.store, &r)) return;
    bool ok = grading_store_read_begin(r, &t) == GRADING_OK;
    if (ok) {
        ok = grading_store_usage(t, &u) == GRADING_OK;
        grading_store_read_end(r);
    }
    grading_store_reader_free(r);
    if (!ok) return;
    fprintf(out, "# HELP grading_lmdb_db_used_bytes Bytes of pages in use by a database.\n"
                 "# TYPE grading_lmdb_db_used_bytes gauge\n"
                 "grading_lmdb_db_used_bytes{db=\"daily\"} %llu\n"
                 "grading_lmdb_db_used_bytes{db=\"orders\"} %llu\n"
                 "grading_lmdb_db_used_bytes{db=\"inquiries\"} %llu\n"
                 "grading_lmdb_db_used_bytes{db=\"events\"} %llu\n"
                 "# HELP grading_lmdb_pages_in_use_bytes Bytes of all pages in use (less the free list).\n"
                 "# TYPE grading_lmdb_pages_in_use_bytes gauge\n"
                 "grading_lmdb_pages_in_use_bytes %llu\n",
            (unsigned long long)u.daily, (unsigned long long)u.orders, (unsigned long long)u.inquiries,
            (unsigned long long)u.events, (unsigned long long)u.total);
}
