/* The retention pruner's pass and the as_of check (prune.h).
 *
 * A pass is a series of small write transactions through the writer, one
 * page of one database each, so event batches interleave with it and
 * readers (LMDB snapshots) never wait. The oldest kept day is recorded in
 * meta in the same transaction as the first record of that marketplace the
 * pass deletes: from then on, queries that would read further back are
 * refused instead of answered from a partial history, and until then
 * (nothing was old enough to go) they are answered as before. */
#include "grading/prune.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/metrics.h"
#include "grading/store_prune.h"

#define META_PREFIX "oldest_day:"
#define META_VALUE_MAX 24

typedef struct {
    const char *name;
    int32_t oldest_day;
    int64_t oldest_ms;   /* the oldest kept day's local midnight */
    uint32_t keep_periods;   /* 0: all */
    uint64_t raised_page;    /* the page whose transaction recorded oldest_day; 0: none */
} cutoff_t;

typedef struct {
    cutoff_t *cut;
    size_t ncut;
    int64_t events_before_ms;   /* INT64_MIN: no event id goes */
    uint32_t page;
    grading_prune_pos_t pos;
    int stage;
    uint64_t removed;
    size_t period_at;   /* STAGE_PERIODS: marketplace * PERIOD_KINDS + kind - 1 */
    uint64_t page_no;   /* write transactions so far, from 1 */
    grading_txn_t *txn; /* the page's, for the callbacks */
    grading_err_t cb_err;   /* a callback's failure: the page fails */
} pass_t;

/* STAGE_XDAYS (issue 15) is last so the others keep their metric kinds;
 * it counts as days. */
enum { STAGE_DAYS, STAGE_ORDERS, STAGE_INQUIRIES, STAGE_EVENTS, STAGE_PERIODS, STAGE_XDAYS, STAGE_END };
#define PERIOD_KINDS 3   /* month, quarter, year (period.h) */

int32_t grading_prune_oldest_day(const grading_marketplace_t *mp, int32_t margin_days, int64_t now_ms)
{
    int32_t today = grading_tz_day(&mp->tz, now_ms);
    return today - grading_retention_lookback_days(mp->rules) - margin_days;
}

static void meta_name(char *buf, size_t cap, const char *mp)
{
    snprintf(buf, cap, META_PREFIX "%s", mp);
}

static grading_err_t oldest_get(grading_txn_t *txn, const char *mp, int32_t *out, bool *found)
{
    char name[sizeof META_PREFIX + GRADING_MAX_MARKETPLACE_LEN], val[META_VALUE_MAX];
    meta_name(name, sizeof name, mp);
    grading_err_t err = grading_store_meta_get(txn, name, val, sizeof val, found);
    if (err || !*found) return err;
    char *end;
    long v = strtol(val, &end, 10);
    if (end == val || *end || v < INT32_MIN || v > INT32_MAX) return GRADING_ECORRUPT;
    *out = (int32_t)v;
    return GRADING_OK;
}

/* Records c's oldest kept day in the page's transaction, once a page,
 * never moving it back (what an earlier pass deleted is gone whatever the
 * policy says now). */
static grading_err_t record_oldest(pass_t *p, cutoff_t *c)
{
    if (c->raised_page == p->page_no) return GRADING_OK;
    int32_t stored;
    bool found;
    grading_err_t err = oldest_get(p->txn, c->name, &stored, &found);
    if (err) return err;
    if (!found || stored < c->oldest_day) {
        char name[sizeof META_PREFIX + GRADING_MAX_MARKETPLACE_LEN], val[META_VALUE_MAX];
        meta_name(name, sizeof name, c->name);
        snprintf(val, sizeof val, "%" PRId32, c->oldest_day);
        if ((err = grading_store_meta_put(p->txn, name, val))) return err;
    }
    c->raised_page = p->page_no;
    return GRADING_OK;
}

/* A record of c's marketplace is to go: its bound first. False (keep it)
 * when the bound cannot be written; the page then fails. */
static bool going(pass_t *p, cutoff_t *c)
{
    if (p->cb_err) return false;
    p->cb_err = record_oldest(p, c);
    return !p->cb_err;
}

static cutoff_t *cutoff_of(const pass_t *p, const char *mp)
{
    for (size_t i = 0; i < p->ncut; i++)
        if (strcmp(p->cut[i].name, mp) == 0) return &p->cut[i];
    return NULL;   /* a marketplace the policy does not name: kept */
}

static bool day_old(void *ctx, const char *mp, int32_t day)
{
    cutoff_t *c = cutoff_of(ctx, mp);
    return c && day < c->oldest_day && going(ctx, c);
}

static int64_t latest(int64_t a, int64_t b) { return a > b ? a : b; }

static bool order_old(void *ctx, const char *mp, const grading_order_t *o)
{
    cutoff_t *c = cutoff_of(ctx, mp);
    if (!c || !o->paid_ms) return false;   /* unpaid: the orphan sweep's */
    if (!o->shipped_ms && !o->cancelled_ms && !o->delivered_ms) return false;   /* its clock runs */
    int64_t last = o->paid_ms;
    const int64_t t[] = {o->shipped_ms, o->delivered_ms, o->cancelled_ms, o->returned_ms, o->exchanged_ms,
                         o->non_receipt_ms, o->reserved_ship_ms, o->review_ms, o->satisfaction_ms};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) last = latest(last, t[i]);
    return last < c->oldest_ms && going(ctx, c);
}

static bool inquiry_old(void *ctx, const char *mp, const grading_inquiry_t *q)
{
    cutoff_t *c = cutoff_of(ctx, mp);
    return c && latest(q->received_ms, q->answered_ms) < c->oldest_ms && going(ctx, c);
}

static grading_err_t apply_page(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)now_ms;
    pass_t *p = ctx;
    p->page_no++;
    p->txn = txn;
    p->cb_err = GRADING_OK;
    grading_err_t err;
    switch (p->stage) {
    case STAGE_DAYS:
        err = grading_store_prune_days(txn, &p->pos, p->page, day_old, p, &p->removed);
        return err ? err : p->cb_err;
    case STAGE_XDAYS:
        err = grading_store_prune_xdays(txn, &p->pos, p->page, day_old, p, &p->removed);
        return err ? err : p->cb_err;
    case STAGE_ORDERS:
        err = grading_store_prune_orders(txn, &p->pos, p->page, order_old, p, &p->removed);
        return err ? err : p->cb_err;
    case STAGE_INQUIRIES:
        err = grading_store_prune_inquiries(txn, &p->pos, p->page, inquiry_old, p, &p->removed);
        return err ? err : p->cb_err;
    case STAGE_EVENTS:
        if (p->events_before_ms == INT64_MIN) {
            p->pos.done = true;
            return GRADING_OK;
        }
        return grading_store_prune_events(txn, &p->pos, p->page, p->events_before_ms, &p->removed);
    case STAGE_PERIODS: {
        if (p->period_at >= p->ncut * PERIOD_KINDS) {
            p->pos.done = true;
            return GRADING_OK;
        }
        const cutoff_t *c = &p->cut[p->period_at / PERIOD_KINDS];
        bool done = true;
        grading_err_t err = c->keep_periods ? grading_store_prune_periods(txn, c->name, (int)(p->period_at % PERIOD_KINDS) + 1,
                                                                         c->keep_periods, p->page, &p->removed, &done)
                                            : GRADING_OK;
        if (!err && done) p->period_at++;
        return err;
    }
    }
    return GRADING_EINVAL;
}

grading_err_t grading_prune_pass(grading_ingest_t *in, const grading_policy_t *policy, int64_t now_ms,
                                 const grading_prune_options_t *opts, grading_prune_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    size_t n = grading_policy_marketplace_count(policy);
    pass_t *p = calloc(1, sizeof *p);
    cutoff_t *cut = calloc(n ? n : 1, sizeof *cut);
    grading_err_t err = GRADING_OK;
    if (!p || !cut) {
        err = GRADING_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const grading_marketplace_t *mp = grading_policy_marketplace_at(policy, i);
        cut[i].name = mp->name;
        cut[i].oldest_day = grading_prune_oldest_day(mp, opts->margin_days, now_ms);
        cut[i].oldest_ms = grading_tz_day_start_ms(&mp->tz, cut[i].oldest_day);
        uint32_t need = grading_retention_periods_needed(mp->rules);
        cut[i].keep_periods = !opts->keep_periods ? 0 : opts->keep_periods > need ? opts->keep_periods : need;
    }
    p->cut = cut;
    p->ncut = n;
    p->page = opts->page ? opts->page : GRADING_PRUNE_PAGE;
    p->events_before_ms = opts->dedup_horizon_ms > 0 ? now_ms - opts->dedup_horizon_ms : INT64_MIN;
    uint64_t *counts[STAGE_END] = {&stats->days, &stats->orders, &stats->inquiries, &stats->events,
                                   &stats->periods, &stats->days};
    for (p->stage = STAGE_DAYS; p->stage < STAGE_END; p->stage++) {
        memset(&p->pos, 0, sizeof p->pos);
        while (!p->pos.done) {
            if (opts->stop && opts->stop(opts->stop_ctx)) goto done;
            /* the page's counts land in p only if its transaction commits */
            grading_prune_pos_t before = p->pos;
            size_t period_before = p->period_at;
            p->removed = 0;
            grading_ingest_batch_t b = {.n = 0, .apply = apply_page, .apply_ctx = p};
            if ((err = grading_ingest_run(in, &b, NULL, NULL))) {
                p->pos = before;
                p->period_at = period_before;
                goto done;
            }
            stats->pages++;
            *counts[p->stage] += p->removed;
            grading_metrics_pruned((grading_pruned_kind_t)(p->stage == STAGE_XDAYS ? STAGE_DAYS : p->stage),
                                   p->removed);
            for (size_t i = 0; i < n; i++)   /* bounds this page committed */
                if (cut[i].raised_page == p->page_no) grading_metrics_oldest_day(cut[i].name, cut[i].oldest_ms);
        }
    }
done:
    free(cut);
    free(p);
    return err;
}

grading_err_t grading_retention_check_day(grading_txn_t *txn, const grading_marketplace_t *mp, int32_t first,
                                          const char *field, grading_error_t *e)
{
    int32_t oldest;
    bool found;
    grading_err_t err = oldest_get(txn, mp->name, &oldest, &found);
    if (err) return grading_error_set(e, err, "", "cannot read the retention bound");
    if (!found || first >= oldest) return GRADING_OK;
    char day[16];
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(oldest, &y, &m, &d);
    snprintf(day, sizeof day, "%04d-%02u-%02u", (int)y, m, d);
    return grading_error_set(e, GRADING_ESTATE, field,
                             "reaches back before retention: marketplace %s keeps days from %s on "
                             "(the policy's longest look-back plus the margin)",
                             mp->name[0] ? mp->name : "(default)", day);
}

grading_err_t grading_retention_check(grading_txn_t *txn, const grading_marketplace_t *mp, int64_t as_of_ms,
                                      grading_error_t *e)
{
    int32_t first = grading_retention_first_day(mp->rules, grading_tz_day(&mp->tz, as_of_ms));
    return grading_retention_check_day(txn, mp, first, "as_of", e);
}
