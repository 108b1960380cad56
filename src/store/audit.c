/* The `audit` database (audit.h).
 *
 * Key: 8 bytes big-endian time (ms) + 4 bytes big-endian sequence, so a
 * cursor walks entries in time order and two entries of one millisecond
 * both stay. A clock that steps back never reorders the trail: the key's
 * time is at least the last key's (the entry keeps its own time).
 * Value: fields as u16 length + bytes, then u8 count and (name, i64). */
#include <string.h>

#include "grading/audit.h"
#include "store_internal.h"

#define AUDIT_KEY_LEN 12
#define AUDIT_VAL_MAX 2048

void grading_audit_count(grading_audit_entry_t *e, const char *name, int64_t value)
{
    if (e->ncounts >= GRADING_AUDIT_MAX_COUNTS) return;
    grading_audit_count_t *c = &e->counts[e->ncounts++];
    strncpy(c->name, name, sizeof c->name - 1);
    c->name[sizeof c->name - 1] = '\0';
    c->value = value;
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static void be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* time as an unsigned key that sorts like the signed value */
static uint64_t key_time(int64_t ms)
{
    return (uint64_t)ms ^ (UINT64_C(1) << 63);
}

typedef struct {
    uint8_t *p;
    size_t n, cap;
    bool bad;
} buf_t;

static void put_str(buf_t *b, const char *s, size_t max)
{
    size_t len = strnlen(s, max);
    if (b->n + 2 + len > b->cap) {
        b->bad = true;
        return;
    }
    b->p[b->n++] = (uint8_t)(len >> 8);
    b->p[b->n++] = (uint8_t)len;
    memcpy(b->p + b->n, s, len);
    b->n += len;
}

static bool get_str(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
    if (end - *p < 2) return false;
    size_t len = (size_t)(*p)[0] << 8 | (*p)[1];
    *p += 2;
    if ((size_t)(end - *p) < len || len >= cap) return false;
    memcpy(out, *p, len);
    out[len] = '\0';
    *p += len;
    return true;
}

static grading_err_t encode(const grading_audit_entry_t *e, uint8_t *out, size_t *len)
{
    buf_t b = {out, 0, AUDIT_VAL_MAX, false};
    uint8_t t[8];
    be64(t, (uint64_t)e->time_ms);
    memcpy(b.p, t, 8);
    b.n = 8;
    put_str(&b, e->caller, sizeof e->caller);
    put_str(&b, e->method, sizeof e->method);
    put_str(&b, e->marketplace, sizeof e->marketplace);
    put_str(&b, e->period, sizeof e->period);
    put_str(&b, e->policy_version, sizeof e->policy_version);
    put_str(&b, e->detail, sizeof e->detail);
    uint32_t n = e->ncounts < GRADING_AUDIT_MAX_COUNTS ? e->ncounts : GRADING_AUDIT_MAX_COUNTS;
    if (b.n + 1 > b.cap) return GRADING_EINVAL;
    b.p[b.n++] = (uint8_t)n;
    for (uint32_t i = 0; i < n; i++) {
        put_str(&b, e->counts[i].name, sizeof e->counts[i].name);
        if (b.n + 8 > b.cap) return GRADING_EINVAL;
        be64(b.p + b.n, (uint64_t)e->counts[i].value);
        b.n += 8;
    }
    if (b.bad) return GRADING_EINVAL;
    *len = b.n;
    return GRADING_OK;
}

static grading_err_t decode(const uint8_t *p, size_t len, grading_audit_entry_t *e)
{
    const uint8_t *end = p + len;
    memset(e, 0, sizeof *e);
    if (len < 8) return GRADING_ECORRUPT;
    e->time_ms = (int64_t)rd64(p);
    p += 8;
    if (!get_str(&p, end, e->caller, sizeof e->caller) || !get_str(&p, end, e->method, sizeof e->method) ||
        !get_str(&p, end, e->marketplace, sizeof e->marketplace) ||
        !get_str(&p, end, e->period, sizeof e->period) ||
        !get_str(&p, end, e->policy_version, sizeof e->policy_version) ||
        !get_str(&p, end, e->detail, sizeof e->detail) || p >= end)
        return GRADING_ECORRUPT;
    uint32_t n = *p++;
    if (n > GRADING_AUDIT_MAX_COUNTS) return GRADING_ECORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        if (!get_str(&p, end, e->counts[i].name, sizeof e->counts[i].name) || end - p < 8)
            return GRADING_ECORRUPT;
        e->counts[i].value = (int64_t)rd64(p);
        p += 8;
    }
    e->ncounts = n;
    return p == end ? GRADING_OK : GRADING_ECORRUPT;
}

grading_err_t grading_store_audit_put(grading_txn_t *txn, const grading_audit_entry_t *e)
{
    if (txn->reader) return GRADING_ESTATE;
    uint8_t val[AUDIT_VAL_MAX], key[AUDIT_KEY_LEN];
    size_t vlen;
    grading_err_t err = encode(e, val, &vlen);
    if (err) return err;
    uint64_t t = key_time(e->time_ms);
    uint32_t seq = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_AUDIT], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_SUCCESS && k.mv_size == AUDIT_KEY_LEN) {
        uint64_t last_t = rd64(k.mv_data);
        uint32_t last_seq = rd32((const uint8_t *)k.mv_data + 8);
        if (last_t >= t) {
            t = last_t;
            seq = last_seq + 1;
        }
    } else if (rc != MDB_NOTFOUND && rc != MDB_SUCCESS) {
        return store_from_mdb(rc);
    }
    be64(key, t);
    be32(key + 8, seq);
    return store_put_raw(txn, DB_AUDIT, key, sizeof key, val, vlen);
}

grading_err_t grading_store_audit_prune(grading_txn_t *txn, int64_t before_ms, uint32_t max, uint32_t *removed)
{
    *removed = 0;
    if (txn->reader) return GRADING_ESTATE;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_AUDIT], &cur);
    if (rc) return store_from_mdb(rc);
    uint64_t limit = key_time(before_ms);
    MDB_val k, v;
    while (*removed < max && (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == MDB_SUCCESS) {
        if (k.mv_size != AUDIT_KEY_LEN || rd64(k.mv_data) >= limit) break;
        if ((rc = mdb_cursor_del(cur, 0))) break;
        (*removed)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? GRADING_OK : store_from_mdb(rc);
}

grading_err_t grading_store_audit_foreach(grading_txn_t *txn, int64_t since_ms, uint32_t limit,
                                          grading_audit_cb cb, void *ctx)
{
    MDB_cursor *cur;
    uint8_t key[AUDIT_KEY_LEN] = {0};
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_AUDIT], &cur);
    if (rc) return store_from_mdb(rc);
    be64(key, key_time(since_ms));
    MDB_val k = {sizeof key, key}, v;
    grading_err_t err = GRADING_OK;
    uint32_t n = 0;
    grading_audit_entry_t e;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (limit && n >= limit) break;
        if ((err = decode(v.mv_data, v.mv_size, &e))) break;
        if (e.time_ms < since_ms) continue;   /* keyed later after a clock step back */
        n++;
        if ((err = cb(ctx, &e))) break;
    }
    mdb_cursor_close(cur);
    if (!err && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) err = store_from_mdb(rc);
    return err;
}
