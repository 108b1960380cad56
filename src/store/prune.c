/* Paged deletion of old records (store_prune.h) and the bytes in use.
 *
 * One cursor walk per call: LMDB's mdb_cursor_del leaves the cursor on
 * the next record, which MDB_NEXT then returns, so a deletion never skips
 * a record. Day records are walked a seller at a time: after the first
 * kept day the cursor seeks past the seller's last possible key, so a
 * pass costs a seek per seller plus the deletions, not a read per day. */
#include "grading/store_prune.h"

#include <string.h>

#include "codec.h"
#include "store_internal.h"

/* The marketplace prefix of a seller key (keys.c: u8 len | mp | ...). */
static bool key_mp(const MDB_val *k, char mp[GRADING_MAX_MARKETPLACE_LEN + 1])
{
    const uint8_t *p = k->mv_data;
    if (k->mv_size < 1 || p[0] > GRADING_MAX_MARKETPLACE_LEN || k->mv_size < 1u + p[0]) return false;
    memcpy(mp, p + 1, p[0]);
    mp[p[0]] = '\0';
    return true;
}

typedef enum { KIND_DAY, KIND_ORDER, KIND_INQUIRY, KIND_EVENT } kind_t;

typedef struct {
    kind_t kind;
    void *fn;
    void *ctx;
    int64_t before_ms;
} judge_t;

static bool marked(const judge_t *j, const MDB_val *k, const MDB_val *v)
{
    char mp[GRADING_MAX_MARKETPLACE_LEN + 1];
    switch (j->kind) {
    case KIND_DAY: {
        int32_t day;
        if (!key_mp(k, mp) || grading_key_day_decode(k->mv_data, k->mv_size, &day)) return false;
        return ((grading_prune_day_fn)j->fn)(j->ctx, mp, day);
    }
    case KIND_ORDER: {
        grading_order_t o;
        if (!key_mp(k, mp) || grading_codec_order_decode(v->mv_data, v->mv_size, &o)) return false;
        return ((grading_prune_order_fn)j->fn)(j->ctx, mp, &o);
    }
    case KIND_INQUIRY: {
        grading_inquiry_t q;
        if (!key_mp(k, mp) || grading_codec_inquiry_decode(v->mv_data, v->mv_size, &q)) return false;
        return ((grading_prune_inquiry_fn)j->fn)(j->ctx, mp, &q);
    }
    case KIND_EVENT: {
        int64_t stored;
        if (grading_codec_event_decode(v->mv_data, v->mv_size, &stored)) return false;
        return stored < j->before_ms;
    }
    }
    return false;
}

static grading_err_t prune_page(grading_txn_t *txn, int db, grading_prune_pos_t *pos, uint32_t max,
                                const judge_t *j, uint64_t *removed)
{
    if (txn->reader) return GRADING_ESTATE;
    if (pos->done) return GRADING_OK;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[db], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k = {pos->after_len, pos->after}, v;
    if (!pos->started) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    } else {
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        /* the last key examined, if it is still there, was judged already */
        if (!rc && k.mv_size == pos->after_len && memcmp(k.mv_data, pos->after, k.mv_size) == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    for (uint32_t n = 0; !rc && n < max; n++) {
        if (k.mv_size > sizeof pos->after) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(pos->after, k.mv_data, k.mv_size);
        pos->after_len = k.mv_size;
        pos->started = true;
        if (marked(j, &k, &v)) {
            if ((rc = mdb_cursor_del(cur, 0))) break;
            (*removed)++;
        } else if (j->kind == KIND_DAY && k.mv_size >= 4) {
            /* a seller's days are in order: the first one kept means the
             * rest are too, so go on at the next seller */
            uint8_t last[GRADING_KEY_MAX];
            memcpy(last, k.mv_data, k.mv_size);
            memset(last + k.mv_size - 4, 0xff, 4);
            MDB_val lk = {k.mv_size, last};
            rc = mdb_cursor_get(cur, &lk, &v, MDB_SET_RANGE);
            if (!rc && lk.mv_size == k.mv_size && memcmp(lk.mv_data, last, lk.mv_size) == 0)
                rc = mdb_cursor_get(cur, &lk, &v, MDB_NEXT);
            k = lk;
            continue;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        pos->done = true;
        return GRADING_OK;
    }
    return store_from_mdb(rc);
}

grading_err_t grading_store_prune_days(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                       grading_prune_day_fn fn, void *ctx, uint64_t *removed)
{
    judge_t j = {KIND_DAY, (void *)fn, ctx, 0};
    return prune_page(txn, DB_DAILY, pos, max, &j, removed);
}

grading_err_t grading_store_prune_xdays(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                        grading_prune_day_fn fn, void *ctx, uint64_t *removed)
{
    judge_t j = {KIND_DAY, (void *)fn, ctx, 0};
    return prune_page(txn, DB_XDAILY, pos, max, &j, removed);
}

grading_err_t grading_store_prune_orders(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                         grading_prune_order_fn fn, void *ctx, uint64_t *removed)
{
    judge_t j = {KIND_ORDER, (void *)fn, ctx, 0};
    return prune_page(txn, DB_ORDERS, pos, max, &j, removed);
}

grading_err_t grading_store_prune_inquiries(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                            grading_prune_inquiry_fn fn, void *ctx, uint64_t *removed)
{
    judge_t j = {KIND_INQUIRY, (void *)fn, ctx, 0};
    return prune_page(txn, DB_INQUIRIES, pos, max, &j, removed);
}

grading_err_t grading_store_prune_events(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                         int64_t before_ms, uint64_t *removed)
{
    judge_t j = {KIND_EVENT, NULL, NULL, before_ms};
    return prune_page(txn, DB_EVENTS, pos, max, &j, removed);
}

/* ---- bytes in use ---- */

static uint64_t db_bytes(const MDB_stat *s)
{
    return (uint64_t)s->ms_psize * (s->ms_branch_pages + s->ms_leaf_pages + s->ms_overflow_pages);
}

grading_err_t grading_store_usage(grading_txn_t *txn, grading_store_usage_t *out)
{
    memset(out, 0, sizeof *out);
    MDB_stat s;
    MDB_envinfo info;
    int rc = mdb_env_info(txn->st->env, &info);
    if (!rc) rc = mdb_env_stat(txn->st->env, &s);
    if (rc) return store_from_mdb(rc);
    /* pages the file's map has handed out, less those free for reuse */
    uint64_t freelist = 0;
    MDB_cursor *cur;
    if (!(rc = mdb_cursor_open(txn->txn, 0, &cur))) {   /* dbi 0 is the free list */
        MDB_val k, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            if (v.mv_size >= sizeof(size_t)) {   /* LMDB's IDL: the count first */
                size_t n;
                memcpy(&n, v.mv_data, sizeof n);   /* page data need not be aligned */
                freelist += n;
            }
        mdb_cursor_close(cur);
    }
    if (rc != MDB_NOTFOUND) return store_from_mdb(rc);
    out->total = (uint64_t)s.ms_psize * ((uint64_t)info.me_last_pgno + 1 - freelist);
    const struct { int db; uint64_t *bytes, *entries; } dbs[] = {
        {DB_EVENTS, &out->events, &out->events_entries},
        {DB_DAILY, &out->daily, &out->daily_entries},
        {DB_ORDERS, &out->orders, &out->orders_entries},
        {DB_INQUIRIES, &out->inquiries, NULL},
    };
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        if ((rc = mdb_stat(txn->txn, txn->st->dbi[dbs[i].db], &s))) return store_from_mdb(rc);
        *dbs[i].bytes = db_bytes(&s);
        if (dbs[i].entries) *dbs[i].entries = s.ms_entries;
    }
    return GRADING_OK;
}
