/* Rebuilding the cells of old days from the orders (cells_upgrade.h). */
#include "grading/cells_upgrade.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/rederive.h"

#define NCELLS (GRADING_C_COUNT - GRADING_C_CELLS_ADDED)

typedef struct {
    int32_t day;
    int64_t c[NCELLS];
} day_cells_t;

/* One seller's cells by day (sorted), and the stored days that differ. */
typedef struct {
    const grading_tz_t *tz;
    day_cells_t *days;
    size_t n, cap;
    int32_t *fix;
    size_t nfix, capfix;
} rebuild_t;

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return true;
    size_t want = *cap ? *cap * 2 : 64;
    while (want < need) want *= 2;
    void *q = realloc(*p, want * size);
    if (!q) return false;
    *p = q;
    *cap = want;
    return true;
}

/* The cells of day, inserted (zero) when new; NULL when out of memory. */
static day_cells_t *cells_of(rebuild_t *r, int32_t day)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->days[mid].day < day) lo = mid + 1;
        else hi = mid;
    }
    if (lo < r->n && r->days[lo].day == day) return &r->days[lo];
    if (!grow((void **)&r->days, &r->cap, r->n + 1, sizeof *r->days)) return NULL;
    memmove(&r->days[lo + 1], &r->days[lo], (r->n - lo) * sizeof *r->days);
    r->n++;
    memset(&r->days[lo], 0, sizeof r->days[lo]);
    r->days[lo].day = day;
    return &r->days[lo];
}

static const day_cells_t *find(const rebuild_t *r, int32_t day)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->days[mid].day < day) lo = mid + 1;
        else hi = mid;
    }
    return lo < r->n && r->days[lo].day == day ? &r->days[lo] : NULL;
}

static grading_err_t add_order(void *ctx, const char *order_id, const grading_order_t *o)
{
    (void)order_id;
    rebuild_t *r = ctx;
    grading_contrib_t ks[8];
    size_t nk = 0;
    grading_err_t err = grading_order_cell_contribs(o, r->tz, 1, ks, 8, &nk);
    if (err) return err;
    for (size_t i = 0; i < nk; i++) {
        if (ks[i].counter < GRADING_C_CELLS_ADDED) continue;   /* older cells are counted already */
        day_cells_t *d = cells_of(r, ks[i].day);
        if (!d) return GRADING_ENOMEM;
        d->c[ks[i].counter - GRADING_C_CELLS_ADDED] += ks[i].delta;
    }
    return GRADING_OK;
}

/* A stored day whose cells differ from the orders' is to be fixed. */
static grading_err_t check_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    rebuild_t *r = ctx;
    static const int64_t zero[NCELLS];
    const day_cells_t *want = find(r, day);
    if (memcmp(&d->c[GRADING_C_CELLS_ADDED], want ? want->c : zero, sizeof zero) == 0) return GRADING_OK;
    if (!grow((void **)&r->fix, &r->capfix, r->nfix + 1, sizeof *r->fix)) return GRADING_ENOMEM;
    r->fix[r->nfix++] = day;
    return GRADING_OK;
}

grading_err_t grading_cells_rebuild_seller(grading_txn_t *txn, const grading_marketplace_t *mp,
                                           const char *seller)
{
    rebuild_t r = {.tz = &mp->tz};
    grading_day_counters_t *d = malloc(sizeof *d);   /* large */
    grading_err_t err = d ? GRADING_OK : GRADING_ENOMEM;
    if (err) goto fail;
    if ((err = grading_store_orders_foreach(txn, mp->name, seller, add_order, &r))) goto fail;
    /* written after the scan: no put under an open cursor */
    if ((err = grading_store_days_foreach(txn, mp->name, seller, 0, INT32_MAX, check_day, &r))) goto fail;
    for (size_t i = 0; i < r.nfix; i++) {
        bool found = false;
        if ((err = grading_store_day_get(txn, mp->name, seller, r.fix[i], d, &found))) goto fail;
        if (!found) continue;
        const day_cells_t *want = find(&r, r.fix[i]);
        for (int c = 0; c < NCELLS; c++) d->c[GRADING_C_CELLS_ADDED + c] = want ? want->c[c] : 0;
        if ((err = grading_store_day_put(txn, mp->name, seller, r.fix[i], d))) goto fail;
    }
fail:
    free(d);
    free(r.days);
    free(r.fix);
    return err;
}

/* The walk's step: the cells, then the stored answer from them. */
static grading_err_t rebuild_and_derive(void *ctx, grading_txn_t *txn, const char *mp_name, const char *seller,
                                        int64_t now_ms)
{
    const grading_policy_t *p = ctx;
    const grading_marketplace_t *mp = grading_policy_marketplace(p, mp_name);
    if (!mp || !mp_name[0]) return GRADING_EINVAL;
    grading_err_t err = grading_cells_rebuild_seller(txn, mp, seller);
    if (err) return err;
    return grading_assess_derive_cb(ctx, txn, mp_name, seller, now_ms);
}

bool grading_cells_counted(grading_store_reader_t *rd)
{
    grading_txn_t *txn;
    char v[8];
    bool found = false;
    if (grading_store_read_begin(rd, &txn)) return false;
    grading_err_t err = grading_store_meta_get(txn, GRADING_CELLS_META, v, sizeof v, &found);
    grading_store_read_end(rd);
    return !err && found;
}

static grading_err_t mark_counted(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)ctx, (void)now_ms;
    return grading_store_meta_put(txn, GRADING_CELLS_META, "1");
}

grading_err_t grading_cells_upgrade(grading_store_reader_t *rd, grading_ingest_t *in, const grading_policy_t *p,
                                    size_t *sellers)
{
    grading_err_t err = GRADING_OK;
    size_t total = 0;
    for (size_t i = 0; i < grading_policy_marketplace_count(p) && !err; i++)
        total += grading_rederive_marketplace_with(rd, in, grading_policy_marketplace_at(p, i)->name,
                                                   rebuild_and_derive, (void *)p, NULL, NULL, &err);
    if (sellers) *sellers = total;
    if (err) return err;
    grading_ingest_batch_t b = {.n = 0, .apply = mark_counted};
    return grading_ingest_run(in, &b, NULL, NULL);
}
