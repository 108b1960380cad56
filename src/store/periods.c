/* Published grades (periods) and close progress (closes).
 *
 *   period key: u8 len | mp | u8 kind | u8 len | period | u8 len | seller
 *   close key:  u8 len | mp | u8 kind | u8 len | period
 *
 * Values are versioned big-endian encodings (format byte first), never raw
 * structs. A close record is rewritten with each bounded write transaction
 * of the close, in the same transaction as the sellers it counts, so after
 * a crash the cursor and the counts agree with what is stored. */
#include <string.h>

#include "grading/event.h"
#include "grading/keys.h"
#include "store_internal.h"

#define PERIOD_FORMAT 2   /* 2 adds the month's service points; 1 is still read */
#define CLOSE_FORMAT 1

/* ---- keys ---- */

static grading_err_t put_part(uint8_t *buf, size_t *n, const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > max || *n + 1 + len > GRADING_KEY_MAX) return GRADING_EINVAL;
    buf[(*n)++] = (uint8_t)len;
    memcpy(buf + *n, s, len);
    *n += len;
    return GRADING_OK;
}

static grading_err_t close_key(uint8_t *buf, const char *mp, int kind, const char *period, size_t *n)
{
    *n = 0;
    grading_err_t err = put_part(buf, n, mp, GRADING_MAX_MARKETPLACE_LEN);
    if (err) return err;
    buf[(*n)++] = (uint8_t)kind;
    return put_part(buf, n, period, GRADING_STORE_PERIOD_MAX - 1);
}

static grading_err_t period_key(uint8_t *buf, const char *mp, int kind, const char *period,
                                const char *seller, size_t *n)
{
    grading_err_t err = close_key(buf, mp, kind, period, n);
    return err ? err : put_part(buf, n, seller, GRADING_MAX_ID_LEN);
}

/* ---- a bounded big-endian writer and reader ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
    bool bad;
} wbuf_t;

static void w_u64(wbuf_t *w, uint64_t v, int bytes)
{
    if (w->n + (size_t)bytes > w->cap) {
        w->bad = true;
        return;
    }
    for (int i = bytes - 1; i >= 0; i--) w->p[w->n + (size_t)i] = (uint8_t)v, v >>= 8;
    w->n += (size_t)bytes;
}

static void w_str(wbuf_t *w, const char *s, size_t max)
{
    size_t len = strnlen(s, max);
    w_u64(w, len, 1);
    if (w->bad || w->n + len > w->cap) {
        w->bad = true;
        return;
    }
    memcpy(w->p + w->n, s, len);
    w->n += len;
}

typedef struct {
    const uint8_t *p;
    size_t n, len;
    bool bad;
} rbuf_t;

static uint64_t r_u64(rbuf_t *r, int bytes)
{
    uint64_t v = 0;
    if (r->n + (size_t)bytes > r->len) {
        r->bad = true;
        return 0;
    }
    for (int i = 0; i < bytes; i++) v = v << 8 | r->p[r->n++];
    return v;
}

static void r_str(rbuf_t *r, char *out, size_t cap)
{
    size_t len = (size_t)r_u64(r, 1);
    if (r->bad || len >= cap || r->n + len > r->len) {
        r->bad = true;
        out[0] = 0;
        return;
    }
    memcpy(out, r->p + r->n, len);
    out[len] = 0;
    r->n += len;
}

static uint64_t dbits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static double bitsd(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* ---- periods ---- */

grading_err_t grading_store_period_get(grading_txn_t *txn, const char *mp, int kind,
                                       const char *period, const char *seller,
                                       grading_period_rec_t *out, bool *found)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    MDB_val v;
    memset(out, 0, sizeof *out);
    grading_err_t err = period_key(key, mp, kind, period, seller, &klen);
    if (!err) err = store_get_raw(txn, DB_PERIODS, key, klen, &v, found);
    if (err || !*found) return err;
    rbuf_t r = {v.mv_data, 0, v.mv_size, false};
    uint64_t format = r_u64(&r, 1);
    if (format != 1 && format != PERIOD_FORMAT) return GRADING_ECORRUPT;
    out->n = (uint32_t)r_u64(&r, 1);
    if (out->n > GRADING_STORE_MAX_PROGRAMS) return GRADING_ECORRUPT;
    for (uint32_t i = 0; i < out->n; i++) {
        out->p[i].level = (int32_t)(uint32_t)r_u64(&r, 4);
        out->p[i].score = bitsd(r_u64(&r, 8));
        uint64_t flags = r_u64(&r, 1);
        out->p[i].has_score = flags & 1;
        out->p[i].new_seller = (flags & 2) != 0;
    }
    if (format >= 2) {
        out->has_points = r_u64(&r, 1) != 0;
        out->points = bitsd(r_u64(&r, 8));
    }
    return r.bad || r.n != r.len ? GRADING_ECORRUPT : GRADING_OK;
}

grading_err_t grading_store_period_put(grading_txn_t *txn, const char *mp, int kind,
                                       const char *period, const char *seller,
                                       const grading_period_rec_t *rec)
{
    uint8_t key[GRADING_KEY_MAX], val[2 + GRADING_STORE_MAX_PROGRAMS * 13 + 9];
    size_t klen;
    if (rec->n > GRADING_STORE_MAX_PROGRAMS) return GRADING_EINVAL;
    grading_err_t err = period_key(key, mp, kind, period, seller, &klen);
    if (err) return err;
    wbuf_t w = {val, 0, sizeof val, false};
    w_u64(&w, PERIOD_FORMAT, 1);
    w_u64(&w, rec->n, 1);
    for (uint32_t i = 0; i < rec->n; i++) {
        w_u64(&w, (uint32_t)rec->p[i].level, 4);
        w_u64(&w, dbits(rec->p[i].score), 8);
        w_u64(&w, (rec->p[i].has_score ? 1u : 0u) | (rec->p[i].new_seller ? 2u : 0u), 1);
    }
    w_u64(&w, rec->has_points ? 1u : 0u, 1);
    w_u64(&w, dbits(rec->has_points ? rec->points : 0), 8);
    return w.bad ? GRADING_EINVAL : store_put_raw(txn, DB_PERIODS, key, klen, val, w.n);
}

grading_err_t grading_store_period_count(grading_txn_t *txn, const char *mp, int kind,
                                         const char *period, uint64_t *out)
{
    uint8_t prefix[GRADING_KEY_MAX];
    size_t plen;
    *out = 0;
    grading_err_t err = close_key(prefix, mp, kind, period, &plen);
    if (err) return err;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_PERIODS], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k = {plen, prefix}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && k.mv_size > plen && memcmp(k.mv_data, prefix, plen) == 0) {
        (*out)++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? GRADING_OK : store_from_mdb(rc);
}

/* ---- closes ---- */

static grading_err_t close_decode(const MDB_val *v, grading_close_t *c)
{
    rbuf_t r = {v->mv_data, 0, v->mv_size, false};
    memset(c, 0, sizeof *c);
    if (r_u64(&r, 1) != CLOSE_FORMAT) return GRADING_ECORRUPT;
    c->done = r_u64(&r, 1) != 0;
    c->evaluated = (uint32_t)r_u64(&r, 4);
    r_str(&r, c->cursor, sizeof c->cursor);
    r_str(&r, c->policy_version, sizeof c->policy_version);
    c->started_ms = (int64_t)r_u64(&r, 8);
    c->finished_ms = (int64_t)r_u64(&r, 8);
    c->nprograms = (uint32_t)r_u64(&r, 1);
    if (c->nprograms > GRADING_STORE_MAX_PROGRAMS) return GRADING_ECORRUPT;
    for (uint32_t p = 0; p < c->nprograms; p++) {
        c->nlevels[p] = (uint32_t)r_u64(&r, 1);
        if (c->nlevels[p] > GRADING_STORE_MAX_LEVELS) return GRADING_ECORRUPT;
        for (uint32_t l = 0; l < c->nlevels[p]; l++) {
            c->levels[p][l] = (int32_t)(uint32_t)r_u64(&r, 4);
            c->counts[p][l] = (uint32_t)r_u64(&r, 4);
        }
    }
    return r.bad || r.n != r.len ? GRADING_ECORRUPT : GRADING_OK;
}

grading_err_t grading_store_close_get(grading_txn_t *txn, const char *mp, int kind,
                                      const char *period, grading_close_t *out, bool *found)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    MDB_val v;
    memset(out, 0, sizeof *out);
    grading_err_t err = close_key(key, mp, kind, period, &klen);
    if (!err) err = store_get_raw(txn, DB_CLOSES, key, klen, &v, found);
    if (err || !*found) return err;
    return close_decode(&v, out);
}

grading_err_t grading_store_close_put(grading_txn_t *txn, const char *mp, int kind,
                                      const char *period, const grading_close_t *c)
{
    uint8_t key[GRADING_KEY_MAX];
    uint8_t val[64 + GRADING_MAX_ID_LEN + GRADING_STORE_MAX_PROGRAMS * (1 + GRADING_STORE_MAX_LEVELS * 8)];
    size_t klen;
    if (c->nprograms > GRADING_STORE_MAX_PROGRAMS) return GRADING_EINVAL;
    grading_err_t err = close_key(key, mp, kind, period, &klen);
    if (err) return err;
    wbuf_t w = {val, 0, sizeof val, false};
    w_u64(&w, CLOSE_FORMAT, 1);
    w_u64(&w, c->done, 1);
    w_u64(&w, c->evaluated, 4);
    w_str(&w, c->cursor, GRADING_MAX_ID_LEN);
    w_str(&w, c->policy_version, GRADING_SELLER_VERSION_LEN);
    w_u64(&w, (uint64_t)c->started_ms, 8);
    w_u64(&w, (uint64_t)c->finished_ms, 8);
    w_u64(&w, c->nprograms, 1);
    for (uint32_t p = 0; p < c->nprograms; p++) {
        if (c->nlevels[p] > GRADING_STORE_MAX_LEVELS) return GRADING_EINVAL;
        w_u64(&w, c->nlevels[p], 1);
        for (uint32_t l = 0; l < c->nlevels[p]; l++) {
            w_u64(&w, (uint32_t)c->levels[p][l], 4);
            w_u64(&w, c->counts[p][l], 4);
        }
    }
    return w.bad ? GRADING_EINVAL : store_put_raw(txn, DB_CLOSES, key, klen, val, w.n);
}

grading_err_t grading_store_close_latest(grading_txn_t *txn, const char *mp, int kind,
                                         const char *upto, char out[GRADING_STORE_PERIOD_MAX],
                                         bool *found)
{
    uint8_t prefix[GRADING_KEY_MAX], start[GRADING_KEY_MAX];
    size_t plen = 0, slen;
    *found = false;
    out[0] = 0;
    grading_err_t err = put_part(prefix, &plen, mp, GRADING_MAX_MARKETPLACE_LEN);
    if (err) return err;
    prefix[plen++] = (uint8_t)kind;
    if ((err = close_key(start, mp, kind, upto, &slen))) return err;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_CLOSES], &cur);
    if (rc) return store_from_mdb(rc);
    /* keys of one kind: prefix | u8 len | name; names of one kind have one
     * length, so key order is name order. Start after `upto`, step back. */
    MDB_val k = {slen, start}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS && !(k.mv_size == slen && memcmp(k.mv_data, start, slen) == 0))
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    for (int steps = 0; rc == MDB_SUCCESS && steps < 100000; steps++) {
        if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen) != 0) break;
        grading_close_t c;
        if ((err = close_decode(&v, &c))) break;
        if (c.done) {
            size_t nlen = ((const uint8_t *)k.mv_data)[plen];
            if (plen + 1 + nlen != k.mv_size || nlen >= GRADING_STORE_PERIOD_MAX) {
                err = GRADING_ECORRUPT;
                break;
            }
            memcpy(out, (const uint8_t *)k.mv_data + plen + 1, nlen);
            out[nlen] = 0;
            *found = true;
            break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    }
    mdb_cursor_close(cur);
    if (err) return err;
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? GRADING_OK : store_from_mdb(rc);
}

/* ---- meta: small named values ---- */

grading_err_t grading_store_meta_get(grading_txn_t *txn, const char *name, char *out, size_t cap,
                                     bool *found)
{
    MDB_val v;
    size_t n = strlen(name);
    out[0] = 0;
    if (n == 0 || n > 64) return GRADING_EINVAL;
    grading_err_t err = store_get_raw(txn, DB_META, (const uint8_t *)name, n, &v, found);
    if (err || !*found) return err;
    if (v.mv_size >= cap) return GRADING_EINVAL;
    memcpy(out, v.mv_data, v.mv_size);
    out[v.mv_size] = 0;
    return GRADING_OK;
}

grading_err_t grading_store_meta_put(grading_txn_t *txn, const char *name, const char *value)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || strcmp(name, "schema_version") == 0) return GRADING_EINVAL;
    return store_put_raw(txn, DB_META, (const uint8_t *)name, n, (const uint8_t *)value, strlen(value));
}

/* ---- time-ordered indexes (due, orphans): an 8-byte time, then parts ---- */

/* Reads the key after its time into the caller's record; false when the
 * key is malformed. */
typedef bool (*time_key_read_fn)(rbuf_t *r, int64_t t, void *rec);

/* Walks db from its first key while the key's time is <= upto: at most cap
 * records of `size` bytes into out, each filled by read. */
static grading_err_t time_index_page(grading_txn_t *txn, int db, int64_t upto, void *out, size_t size,
                                     size_t cap, time_key_read_fn read, size_t *n)
{
    *n = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[db], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k, v;
    grading_err_t err = GRADING_OK;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == MDB_SUCCESS && *n < cap) {
        rbuf_t r = {k.mv_data, 0, k.mv_size, false};
        int64_t t = (int64_t)r_u64(&r, 8);
        if (t > upto) break;
        if (!read(&r, t, (char *)out + *n * size) || r.bad || r.n != r.len) {
            err = GRADING_ECORRUPT;
            break;
        }
        (*n)++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (err) return err;
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? GRADING_OK : store_from_mdb(rc);
}

/* Deletes one key of a time-ordered index; a missing key is fine. */
static grading_err_t time_index_del(grading_txn_t *txn, int db, const uint8_t *key, size_t n)
{
    if (txn->reader) return GRADING_ESTATE;
    MDB_val k = {n, (void *)key};
    int rc = mdb_del(txn->txn, txn->st->dbi[db], &k, NULL);
    return rc == MDB_NOTFOUND ? GRADING_OK : store_from_mdb(rc);
}

/* ---- due ---- */

static grading_err_t due_key(uint8_t *buf, int64_t due_ms, const char *mp, const char *seller, size_t *n)
{
    for (int i = 7; i >= 0; i--) buf[i] = (uint8_t)((uint64_t)due_ms >> (8 * (7 - i)));
    *n = 8;
    grading_err_t err = put_part(buf, n, mp, GRADING_MAX_MARKETPLACE_LEN);
    return err ? err : put_part(buf, n, seller, GRADING_MAX_ID_LEN);
}

grading_err_t grading_store_due_put(grading_txn_t *txn, int64_t due_ms, const char *mp, const char *seller)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t n;
    grading_err_t err = due_key(key, due_ms, mp, seller, &n);
    return err ? err : store_put_raw(txn, DB_DUE, key, n, (const uint8_t *)"", 0);
}

grading_err_t grading_store_due_del(grading_txn_t *txn, int64_t due_ms, const char *mp, const char *seller)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t n;
    grading_err_t err = due_key(key, due_ms, mp, seller, &n);
    return err ? err : time_index_del(txn, DB_DUE, key, n);
}

static bool due_read(rbuf_t *r, int64_t t, void *rec)
{
    grading_due_t *d = rec;
    d->due_ms = t;
    r_str(r, d->mp, sizeof d->mp);
    r_str(r, d->seller, sizeof d->seller);
    return !r->bad;
}

grading_err_t grading_store_due_page(grading_txn_t *txn, int64_t upto, grading_due_t *out, size_t cap,
                                     size_t *n)
{
    return time_index_page(txn, DB_DUE, upto, out, sizeof *out, cap, due_read, n);
}

/* ---- orphans ---- */

static grading_err_t orphan_key(uint8_t *buf, int64_t since_ms, const char *mp, const char *seller,
                                const char *order_id, size_t *n)
{
    grading_err_t err = due_key(buf, since_ms, mp, seller, n);
    return err ? err : put_part(buf, n, order_id, GRADING_MAX_ID_LEN);
}

grading_err_t grading_store_orphan_put(grading_txn_t *txn, int64_t since_ms, const char *mp, const char *seller,
                                       const char *order_id)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t n;
    grading_err_t err = orphan_key(key, since_ms, mp, seller, order_id, &n);
    return err ? err : store_put_raw(txn, DB_ORPHANS, key, n, (const uint8_t *)"", 0);
}

grading_err_t grading_store_orphan_del(grading_txn_t *txn, int64_t since_ms, const char *mp, const char *seller,
                                       const char *order_id)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t n;
    grading_err_t err = orphan_key(key, since_ms, mp, seller, order_id, &n);
    return err ? err : time_index_del(txn, DB_ORPHANS, key, n);
}

static bool orphan_read(rbuf_t *r, int64_t t, void *rec)
{
    grading_orphan_t *o = rec;
    o->since_ms = t;
    r_str(r, o->mp, sizeof o->mp);
    r_str(r, o->seller, sizeof o->seller);
    r_str(r, o->order_id, sizeof o->order_id);
    return !r->bad;
}

grading_err_t grading_store_orphan_page(grading_txn_t *txn, int64_t upto, grading_orphan_t *out, size_t cap,
                                        size_t *n)
{
    return time_index_page(txn, DB_ORPHANS, upto, out, sizeof *out, cap, orphan_read, n);
}
