/* The change log and the live-levels record (changes.h).
 *
 * A change record: u8 version (1) | i64 time_ms | u8 kinds | f64 boost |
 * u8 suspended | i32 period_kind | u8 nlevels | i32 levels[nlevels] |
 * u8 len mp | mp | u8 len seller | seller | u8 len period | period;
 * integers big-endian. The live record: u8 nlevels | i32 levels[]. */
#include "grading/changes.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/keys.h"
#include "store_internal.h"

#define CHANGE_REC_VERSION 1
#define CHANGE_REC_MAX (1 + 8 + 1 + 8 + 1 + 4 + 1 + 4 * GRADING_STORE_MAX_PROGRAMS + 3 + \
                        GRADING_MAX_MARKETPLACE_LEN + GRADING_MAX_ID_LEN + GRADING_STORE_PERIOD_MAX)

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = v << 8 | p[i];
    return v;
}

void grading_store_changes_limits(grading_store_t *st, int64_t max_age_ms, uint64_t max_entries)
{
    atomic_store(&st->changes_max_age_ms, max_age_ms > 0 ? max_age_ms : GRADING_CHANGES_DEFAULT_MAX_AGE_MS);
    atomic_store(&st->changes_max_entries, max_entries > 0 ? max_entries : GRADING_CHANGES_DEFAULT_MAX_ENTRIES);
}

static size_t put_str(uint8_t *p, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return n + 1;
}

static size_t encode(const grading_change_t *c, uint8_t *p)
{
    size_t o = 0;
    p[o++] = CHANGE_REC_VERSION;
    put_be(p + o, (uint64_t)c->time_ms, 8), o += 8;
    p[o++] = (uint8_t)c->kinds;
    uint64_t bits;
    memcpy(&bits, &c->boost, sizeof bits);
    put_be(p + o, bits, 8), o += 8;
    p[o++] = c->suspended ? 1 : 0;
    put_be(p + o, (uint32_t)c->period_kind, 4), o += 4;
    uint32_t nl = c->nlevels < GRADING_STORE_MAX_PROGRAMS ? c->nlevels : GRADING_STORE_MAX_PROGRAMS;
    p[o++] = (uint8_t)nl;
    for (uint32_t i = 0; i < nl; i++) put_be(p + o, (uint32_t)c->levels[i], 4), o += 4;
    o += put_str(p + o, c->mp, GRADING_MAX_MARKETPLACE_LEN);
    o += put_str(p + o, c->seller, GRADING_MAX_ID_LEN);
    o += put_str(p + o, c->period, GRADING_STORE_PERIOD_MAX - 1);
    return o;
}

static bool get_str(const uint8_t *p, size_t len, size_t *o, char *out, size_t max)
{
    if (*o >= len) return false;
    size_t n = p[(*o)++];
    if (n > max || *o + n > len) return false;
    memcpy(out, p + *o, n);
    out[n] = '\0';
    *o += n;
    return true;
}

static grading_err_t decode(const uint8_t *p, size_t len, grading_change_t *c)
{
    memset(c, 0, sizeof *c);
    size_t o = 0;
    if (len < 1 + 8 + 1 + 8 + 1 + 4 + 1 || p[0] != CHANGE_REC_VERSION) return GRADING_ECORRUPT;
    o = 1;
    c->time_ms = (int64_t)get_be(p + o, 8), o += 8;
    c->kinds = p[o++];
    uint64_t bits = get_be(p + o, 8);
    memcpy(&c->boost, &bits, sizeof bits), o += 8;
    c->suspended = p[o++] != 0;
    c->period_kind = (int32_t)(uint32_t)get_be(p + o, 4), o += 4;
    c->nlevels = p[o++];
    if (c->nlevels > GRADING_STORE_MAX_PROGRAMS || o + 4 * (size_t)c->nlevels > len) return GRADING_ECORRUPT;
    for (uint32_t i = 0; i < c->nlevels; i++) c->levels[i] = (int32_t)(uint32_t)get_be(p + o, 4), o += 4;
    if (!get_str(p, len, &o, c->mp, GRADING_MAX_MARKETPLACE_LEN) ||
        !get_str(p, len, &o, c->seller, GRADING_MAX_ID_LEN) ||
        !get_str(p, len, &o, c->period, GRADING_STORE_PERIOD_MAX - 1) || o != len)
        return GRADING_ECORRUPT;
    return GRADING_OK;
}

/* The first (op MDB_FIRST) or last (MDB_LAST) entry's key and value. */
static grading_err_t edge(grading_txn_t *txn, MDB_cursor_op op, uint64_t *seq, MDB_val *v, bool *found)
{
    MDB_cursor *cur;
    MDB_val k;
    *found = false;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_CHANGES], &cur);
    if (rc) return store_from_mdb(rc);
    rc = mdb_cursor_get(cur, &k, v, op);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) return GRADING_OK;
    if (rc) return store_from_mdb(rc);
    if (k.mv_size != 8) return GRADING_ECORRUPT;
    *seq = get_be(k.mv_data, 8);
    *found = true;
    return GRADING_OK;
}

grading_err_t grading_store_changes_bounds(grading_txn_t *txn, uint64_t *first, uint64_t *last)
{
    MDB_val v;
    bool found;
    *first = *last = 0;
    grading_err_t err = edge(txn, MDB_FIRST, first, &v, &found);
    if (!err && found) err = edge(txn, MDB_LAST, last, &v, &found);
    return err;
}

/* Deletes up to GRADING_CHANGES_PRUNE_STEP of the oldest entries that are
 * past the age or count limit, never the newest (it carries the sequence),
 * with the append's cursor. */
static grading_err_t prune(grading_txn_t *txn, MDB_cursor *cur, int64_t now_ms, uint64_t newest)
{
    grading_store_t *st = txn->st;
    int64_t max_age = atomic_load(&st->changes_max_age_ms);
    uint64_t max_entries = atomic_load(&st->changes_max_entries);
    if (max_age <= 0) max_age = GRADING_CHANGES_DEFAULT_MAX_AGE_MS;
    if (max_entries == 0) max_entries = GRADING_CHANGES_DEFAULT_MAX_ENTRIES;
    MDB_stat ms;
    int rc = mdb_stat(txn->txn, st->dbi[DB_CHANGES], &ms);
    if (rc) return store_from_mdb(rc);
    uint64_t entries = ms.ms_entries;
    MDB_val k, v;
    for (int i = 0; i < GRADING_CHANGES_PRUNE_STEP; i++) {
        if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST))) break;
        if (k.mv_size != 8 || v.mv_size < 9) return GRADING_ECORRUPT;
        if (get_be(k.mv_data, 8) >= newest) break;
        int64_t t = (int64_t)get_be((const uint8_t *)v.mv_data + 1, 8);
        if (entries <= max_entries && t >= now_ms - max_age) break;
        if ((rc = mdb_cursor_del(cur, 0))) break;
        entries--;
    }
    return rc && rc != MDB_NOTFOUND ? store_from_mdb(rc) : GRADING_OK;
}

grading_err_t grading_store_change_append(grading_txn_t *txn, grading_change_t *c)
{
    if (txn->reader) return GRADING_ESTATE;
    if (strlen(c->mp) > GRADING_MAX_MARKETPLACE_LEN || strlen(c->seller) > GRADING_MAX_ID_LEN)
        return GRADING_EINVAL;
    /* one cursor for the whole append: the last key, the put, the pruning */
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_CHANGES], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k, v;
    grading_err_t err = GRADING_OK;
    uint64_t last = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8) last = get_be(k.mv_data, 8);
    else if (rc == 0) err = GRADING_ECORRUPT;
    else if (rc != MDB_NOTFOUND) err = store_from_mdb(rc);
    if (!err) {
        c->seq = last + 1;
        uint8_t key[8], val[CHANGE_REC_MAX];
        put_be(key, c->seq, 8);
        MDB_val nk = {sizeof key, key}, nv = {encode(c, val), val};
        rc = mdb_cursor_put(cur, &nk, &nv, MDB_APPEND);
        err = rc ? store_from_mdb(rc) : prune(txn, cur, c->time_ms, c->seq);
    }
    mdb_cursor_close(cur);
    return err;
}

grading_err_t grading_store_changes_read(grading_txn_t *txn, uint64_t after, grading_change_t *out, size_t cap,
                                         size_t *n)
{
    *n = 0;
    if (cap == 0) return GRADING_OK;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_CHANGES], &cur);
    if (rc) return store_from_mdb(rc);
    uint8_t key[8];
    put_be(key, after + 1, 8);
    MDB_val k = {sizeof key, key}, v;
    grading_err_t err = GRADING_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && *n < cap;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || (err = decode(v.mv_data, v.mv_size, &out[*n]))) {
            err = err ? err : GRADING_ECORRUPT;
            break;
        }
        out[*n].seq = get_be(k.mv_data, 8);
        (*n)++;
    }
    mdb_cursor_close(cur);
    if (!err && rc && rc != MDB_NOTFOUND) err = store_from_mdb(rc);
    return err;
}

grading_err_t grading_store_change_note_seller(grading_txn_t *txn, const char *mp, const char *seller,
                                               const grading_seller_state_t *old, const grading_seller_state_t *now,
                                               const int32_t *levels, uint32_t nlevels, int64_t now_ms)
{
    if (nlevels > GRADING_STORE_MAX_PROGRAMS) nlevels = GRADING_STORE_MAX_PROGRAMS;
    uint8_t key[GRADING_KEY_MAX], live[1 + 4 * GRADING_STORE_MAX_PROGRAMS];
    size_t klen;
    grading_err_t err = grading_key_seller(key, mp, seller, &klen);
    if (err) return err;
    MDB_val v;
    bool found;
    if ((err = store_get_raw(txn, DB_LIVE, key, klen, &v, &found))) return err;
    live[0] = (uint8_t)nlevels;
    for (uint32_t i = 0; i < nlevels; i++) put_be(live + 1 + 4 * i, (uint32_t)levels[i], 4);
    size_t llen = 1 + 4 * (size_t)nlevels;
    bool levels_moved = !found || v.mv_size != llen || memcmp(v.mv_data, live, llen) != 0;
    grading_change_t c = {.time_ms = now_ms, .boost = now->boost, .suspended = now->suspended,
                          .nlevels = nlevels};
    if (!old || old->boost != now->boost) c.kinds |= GRADING_CHANGE_BOOST;
    if (!old || old->suspended != now->suspended) c.kinds |= GRADING_CHANGE_SUSPENSION;
    if (levels_moved) c.kinds |= GRADING_CHANGE_LEVELS;
    if (!c.kinds) return GRADING_OK;
    memcpy(c.levels, levels, sizeof *levels * nlevels);
    snprintf(c.mp, sizeof c.mp, "%s", mp);
    snprintf(c.seller, sizeof c.seller, "%s", seller);
    if (levels_moved && (err = store_put_raw(txn, DB_LIVE, key, klen, live, llen))) return err;
    return grading_store_change_append(txn, &c);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool grading_change_matches(const grading_change_filter_t *f, const grading_change_t *c)
{
    if (f->kinds && !(f->kinds & c->kinds)) return false;
    if (f->mp && f->mp[0] && strcmp(f->mp, c->mp) != 0) return false;
    if (f->nsellers) {
        const char *key = c->seller;
        if (!bsearch(&key, f->sellers, f->nsellers, sizeof *f->sellers, cmp_id)) return false;
    }
    return true;
}
