/* Published periods beyond a count (store_prune.h): the oldest periods of
 * one marketplace and kind, with their close records, past the keep-th
 * newest close. Period names of a kind have one length and sort in time
 * order (periods.c), so "older" is a key comparison. */
#include <string.h>

#include "grading/store_prune.h"
#include "store_internal.h"

/* u8 len | mp | u8 kind: the prefix of both databases' keys. */
static size_t kind_prefix(uint8_t *buf, const char *mp, int kind)
{
    size_t n = strlen(mp);
    buf[0] = (uint8_t)n;
    memcpy(buf + 1, mp, n);
    buf[1 + n] = (uint8_t)kind;
    return n + 2;
}

static bool has_prefix(const MDB_val *k, const uint8_t *p, size_t n)
{
    return k->mv_size > n && memcmp(k->mv_data, p, n) == 0;
}

/* The keep-th newest close's period (u8 len | name, after the prefix);
 * *found false when there are fewer. */
static int nth_newest(MDB_cursor *cur, const uint8_t *prefix, size_t plen, uint32_t keep, uint8_t *name,
                      size_t *name_len, bool *found)
{
    uint8_t next[GRADING_KEY_MAX];
    memcpy(next, prefix, plen);
    next[plen - 1]++;   /* the next kind's first key: just past ours */
    MDB_val k = {plen, next}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST) : mdb_cursor_get(cur, &k, &v, MDB_PREV);
    *found = false;
    for (uint32_t seen = 0; !rc && has_prefix(&k, prefix, plen); rc = mdb_cursor_get(cur, &k, &v, MDB_PREV))
        if (++seen == keep) {
            *name_len = k.mv_size - plen;
            memcpy(name, (const uint8_t *)k.mv_data + plen, *name_len);
            *found = true;
            return 0;
        }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Deletes up to max keys of db with the prefix whose period sorts before
 * name; *done when none is left. */
static int delete_before(MDB_cursor *cur, const uint8_t *prefix, size_t plen, const uint8_t *name, size_t name_len,
                         uint32_t max, uint64_t *removed, bool *done)
{
    MDB_val k = {plen, (void *)prefix}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    *done = false;
    for (uint32_t n = 0; n < max; n++) {
        if (rc || !has_prefix(&k, prefix, plen) || k.mv_size < plen + name_len ||
            memcmp((const uint8_t *)k.mv_data + plen, name, name_len) >= 0) {
            *done = true;
            return rc == MDB_NOTFOUND ? 0 : rc;
        }
        if ((rc = mdb_cursor_del(cur, 0))) return rc;
        (*removed)++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);   /* after a delete: the record that followed */
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

grading_err_t grading_store_prune_periods(grading_txn_t *txn, const char *mp, int kind, uint32_t keep, uint32_t max,
                                          uint64_t *removed, bool *done)
{
    *done = true;
    if (txn->reader) return GRADING_ESTATE;
    if (!mp || strlen(mp) > GRADING_MAX_MARKETPLACE_LEN || kind < 0 || kind > 254 || keep == 0) return GRADING_EINVAL;
    uint8_t prefix[GRADING_MAX_MARKETPLACE_LEN + 2], name[GRADING_KEY_MAX];
    size_t plen = kind_prefix(prefix, mp, kind), name_len = 0;
    MDB_cursor *cur = NULL;
    bool found;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_CLOSES], &cur);
    if (!rc) rc = nth_newest(cur, prefix, plen, keep, name, &name_len, &found);
    if (!rc && found) {
        bool closes_done = false, periods_done = false;
        /* the sellers' records first: a close record goes only when its
         * period has no seller left, so a cut-short pass leaves no orphans */
        MDB_cursor *pc = NULL;
        rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_PERIODS], &pc);
        if (!rc) rc = delete_before(pc, prefix, plen, name, name_len, max, removed, &periods_done);
        if (pc) mdb_cursor_close(pc);
        if (!rc && periods_done) rc = delete_before(cur, prefix, plen, name, name_len, max, removed, &closes_done);
        *done = periods_done && closes_done;
    }
    if (cur) mdb_cursor_close(cur);
    return store_from_mdb(rc);
}
