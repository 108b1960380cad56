/* The exemptions database and the writer's in-memory table of it.
 *
 * key:   u8 len | marketplace | id
 * value: u8 1 | i32 from_day | i32 to_day | u64 mask | i32 overseas |
 *        i64 declared_ms | u8 n + product_id | u8 n + reason | u8 n + note
 *        (little-endian)
 *
 * The table is what ingest reads for every order change, so it is a small
 * array behind a mutex (an atomic count lets the usual empty case skip the
 * lock). A put or delete updates it in the write transaction, so it is
 * ordered with the writes around it; a transaction that then fails leaves
 * it ahead of the disk, and its caller reloads it (grading_store_exemptions_reload). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "grading/store_exemptions.h"

#define EXEMPTION_V1 1
#define EXEMPTION_VAL_MAX (1 + 4 + 4 + 8 + 4 + 8 + 3 + GRADING_MAX_ID_LEN + GRADING_EXEMPTION_REASON_MAX + \
                           GRADING_EXEMPTION_NOTE_MAX)

static grading_err_t exemption_key(uint8_t *buf, const char *mp, const char *id, size_t *len)
{
    size_t m = strlen(mp), n = strlen(id);
    if (m > GRADING_MAX_MARKETPLACE_LEN || n == 0 || n > GRADING_MAX_ID_LEN) return GRADING_EINVAL;
    buf[0] = (uint8_t)m;
    memcpy(buf + 1, mp, m);
    memcpy(buf + 1 + m, id, n);
    *len = 1 + m + n;
    return GRADING_OK;
}

static void put_le(uint8_t **p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) *(*p)++ = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t **p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)*(*p)++ << (8 * i);
    return v;
}

static void put_text(uint8_t **p, const char *s)
{
    size_t n = strlen(s);
    *(*p)++ = (uint8_t)n;
    memcpy(*p, s, n);
    *p += n;
}

static bool get_text(const uint8_t **p, const uint8_t *end, char *dst, size_t cap)
{
    if (*p >= end) return false;
    size_t n = *(*p)++;
    if (n >= cap || (size_t)(end - *p) < n) return false;
    memcpy(dst, *p, n);
    dst[n] = '\0';
    *p += n;
    return true;
}

static size_t encode(const grading_exemption_t *x, uint8_t *buf)
{
    uint8_t *p = buf;
    *p++ = EXEMPTION_V1;
    put_le(&p, (uint32_t)x->from_day, 4);
    put_le(&p, (uint32_t)x->to_day, 4);
    put_le(&p, x->mask, 8);
    put_le(&p, (uint32_t)x->overseas, 4);
    put_le(&p, (uint64_t)x->declared_ms, 8);
    put_text(&p, x->product_id);
    put_text(&p, x->reason);
    put_text(&p, x->note);
    return (size_t)(p - buf);
}

static grading_err_t decode(const uint8_t *key, size_t klen, const uint8_t *buf, size_t len, grading_exemption_t *x)
{
    memset(x, 0, sizeof *x);
    if (klen < 2 || key[0] > GRADING_MAX_MARKETPLACE_LEN || (size_t)key[0] + 1 >= klen ||
        klen - 1 - key[0] > GRADING_MAX_ID_LEN)
        return GRADING_ECORRUPT;
    memcpy(x->marketplace, key + 1, key[0]);
    memcpy(x->id, key + 1 + key[0], klen - 1 - key[0]);
    const uint8_t *p = buf, *end = buf + len;
    if (len < 1 + 4 + 4 + 8 + 4 + 8 || *p++ != EXEMPTION_V1) return GRADING_ECORRUPT;
    x->from_day = (int32_t)(uint32_t)get_le(&p, 4);
    x->to_day = (int32_t)(uint32_t)get_le(&p, 4);
    x->mask = get_le(&p, 8);
    x->overseas = (int32_t)(uint32_t)get_le(&p, 4);
    x->declared_ms = (int64_t)get_le(&p, 8);
    if (!get_text(&p, end, x->product_id, sizeof x->product_id) || !get_text(&p, end, x->reason, sizeof x->reason) ||
        !get_text(&p, end, x->note, sizeof x->note) || p != end)
        return GRADING_ECORRUPT;
    return GRADING_OK;
}

/* ---- the table ---- */

static void table_put(grading_store_t *st, const grading_exemption_t *x)
{
    pthread_mutex_lock(&st->exempt_mu);
    size_t i = 0;
    while (i < st->nexempt && !(strcmp(st->exempt[i].marketplace, x->marketplace) == 0 &&
                                strcmp(st->exempt[i].id, x->id) == 0))
        i++;
    if (i < GRADING_EXEMPTIONS_MAX) {
        st->exempt[i] = *x;
        if (i == st->nexempt) st->nexempt++;
    }
    atomic_store(&st->nexempt_pub, st->nexempt);
    pthread_mutex_unlock(&st->exempt_mu);
}

static void table_del(grading_store_t *st, const char *mp, const char *id)
{
    pthread_mutex_lock(&st->exempt_mu);
    for (size_t i = 0; i < st->nexempt; i++)
        if (strcmp(st->exempt[i].marketplace, mp) == 0 && strcmp(st->exempt[i].id, id) == 0) {
            st->exempt[i] = st->exempt[--st->nexempt];
            break;
        }
    atomic_store(&st->nexempt_pub, st->nexempt);
    pthread_mutex_unlock(&st->exempt_mu);
}

uint64_t grading_store_exempt_mask(grading_store_t *st, const char *mp, const grading_order_t *o,
                                   const grading_tz_t *tz)
{
    if (atomic_load(&st->nexempt_pub) == 0) return 0;   /* the usual case: no lock */
    uint64_t mask = 0;
    pthread_mutex_lock(&st->exempt_mu);
    for (size_t i = 0; i < st->nexempt; i++)
        if (strcmp(st->exempt[i].marketplace, mp) == 0 && grading_exemption_matches(&st->exempt[i], o, tz))
            mask |= st->exempt[i].mask;
    pthread_mutex_unlock(&st->exempt_mu);
    return mask;
}

grading_err_t store_exemptions_load(grading_store_t *st, MDB_txn *txn)
{
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, st->dbi[DB_EXEMPTIONS], &cur);
    if (rc) return store_from_mdb(rc);
    grading_err_t err = GRADING_OK;
    pthread_mutex_lock(&st->exempt_mu);
    st->nexempt = 0;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (st->nexempt >= GRADING_EXEMPTIONS_MAX) {
            err = GRADING_ECORRUPT;
            break;
        }
        if ((err = decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &st->exempt[st->nexempt]))) break;
        st->nexempt++;
    }
    if (!err && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) err = store_from_mdb(rc);
    atomic_store(&st->nexempt_pub, st->nexempt);
    pthread_mutex_unlock(&st->exempt_mu);
    mdb_cursor_close(cur);
    return err;
}

grading_err_t grading_store_exemptions_reload(grading_store_t *st)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc) return store_from_mdb(rc);
    grading_err_t err = store_exemptions_load(st, txn);
    mdb_txn_abort(txn);
    return err;
}

/* ---- records ---- */

grading_err_t grading_store_exemption_get(grading_txn_t *txn, const char *mp, const char *id,
                                          grading_exemption_t *out, bool *found)
{
    uint8_t key[2 + GRADING_MAX_MARKETPLACE_LEN + GRADING_MAX_ID_LEN];
    size_t klen;
    MDB_val v;
    grading_err_t err = exemption_key(key, mp, id, &klen);
    if (!err) err = store_get_raw(txn, DB_EXEMPTIONS, key, klen, &v, found);
    if (err || !*found) return err;
    return decode(key, klen, v.mv_data, v.mv_size, out);
}

grading_err_t grading_store_exemption_put(grading_txn_t *txn, const grading_exemption_t *x)
{
    uint8_t key[2 + GRADING_MAX_MARKETPLACE_LEN + GRADING_MAX_ID_LEN], val[EXEMPTION_VAL_MAX];
    size_t klen;
    if (strlen(x->product_id) > GRADING_MAX_ID_LEN || strlen(x->reason) > GRADING_EXEMPTION_REASON_MAX ||
        strlen(x->note) > GRADING_EXEMPTION_NOTE_MAX)
        return GRADING_EINVAL;
    grading_err_t err = exemption_key(key, x->marketplace, x->id, &klen);
    if (err) return err;
    if (atomic_load(&txn->st->nexempt_pub) >= GRADING_EXEMPTIONS_MAX) return GRADING_EFULL;
    if ((err = store_put_raw(txn, DB_EXEMPTIONS, key, klen, val, encode(x, val)))) return err;
    table_put(txn->st, x);
    return GRADING_OK;
}

grading_err_t grading_store_exemption_del(grading_txn_t *txn, const char *mp, const char *id, bool *found)
{
    uint8_t key[2 + GRADING_MAX_MARKETPLACE_LEN + GRADING_MAX_ID_LEN];
    size_t klen;
    grading_err_t err = exemption_key(key, mp, id, &klen);
    if (err) return err;
    MDB_val k = {klen, key};
    int rc = mdb_del(txn->txn, txn->st->dbi[DB_EXEMPTIONS], &k, NULL);
    *found = rc == MDB_SUCCESS;
    if (rc && rc != MDB_NOTFOUND) return store_from_mdb(rc);
    if (*found) table_del(txn->st, mp, id);
    return GRADING_OK;
}

grading_err_t grading_store_exemptions_list(grading_txn_t *txn, const char *mp, grading_exemption_t *out,
                                            size_t cap, size_t *n)
{
    MDB_cursor *cur = NULL;
    *n = 0;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_EXEMPTIONS], &cur);
    if (rc) return store_from_mdb(rc);
    grading_err_t err = GRADING_OK;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS && *n < cap;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if ((err = decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &out[*n]))) break;
        if (!mp || !mp[0] || strcmp(out[*n].marketplace, mp) == 0) (*n)++;
    }
    if (!err && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) err = store_from_mdb(rc);
    mdb_cursor_close(cur);
    return err;
}
