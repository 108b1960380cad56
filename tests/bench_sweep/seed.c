/* Seeding: N open orders (order_paid only, never shipped) over N/K sellers,
 * applied in process.
 *
 * Going through RecordEvents would measure the RPC layer first; the events
 * go straight to grading_ingest_apply in write transactions of about
 * SB_TXN_EVENTS events (the bound the server's writer uses) with derive on,
 * so each seller gets its `sellers` record and its due index entry exactly
 * as the server would store them. A transaction holds whole sellers, so
 * each seller is derived once, after all its orders, at the plan's S.
 *
 * Each order's stage times are also computed here (the same function the
 * engine uses) to count the orders that reach a stage in (S, T] and to
 * prove none reached one by S. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/event.h"
#include "grading/ingest.h"
#include "benchlib.h"
#include "sweep_bench.h"

#define PRODUCTS 8            /* per seller */
#define SHIP_WITHIN_DAYS 2    /* a normal order (4+ would be reserved) */
#define BASE_AMOUNT 1000      /* JPY */

typedef struct {
    char event_id[SB_ID_LEN];
    char seller[SB_ID_LEN];
    char ref[SB_ID_LEN];
    char product[SB_ID_LEN];
} ev_strs_t;

/* One transaction's events and the strings they borrow. */
typedef struct {
    grading_event_t *ev;
    ev_strs_t *str;
    const char **mps;
    const grading_tz_t **zones;
    uint32_t n, cap;
} batch_t;

static void add_seller(batch_t *g, const grading_marketplace_t *mp, const sb_plan_t *pl, uint32_t i,
                       sb_seed_result_t *out)
{
    uint32_t first, count;
    sb_seller_orders(pl, i, &first, &count);
    bool due = sb_seller_is_due(pl, i);
    for (uint32_t j = 0; j < count && g->n < g->cap; j++) {
        uint32_t k = g->n++, gj = first + j;
        grading_event_t *ev = &g->ev[k];
        ev_strs_t *s = &g->str[k];
        memset(ev, 0, sizeof *ev);
        sb_seller_id(i, s->seller);
        snprintf(s->event_id, sizeof s->event_id, "e%" PRIu32, gj);
        snprintf(s->ref, sizeof s->ref, "o%" PRIu32, j);
        snprintf(s->product, sizeof s->product, "p%" PRIu32, j % PRODUCTS);
        ev->event_id = s->event_id;
        ev->marketplace = mp->name;
        ev->seller_id = s->seller;
        ev->has_occurred_at = true;
        ev->occurred_ms = sb_paid_ms(mp, pl, due, gj);
        ev->kind = GRADING_EV_ORDER_PAID;
        ev->ref_id = s->ref;
        ev->product_id = s->product;
        ev->currency = mp->currency;
        ev->name = "";
        ev->amount = BASE_AMOUNT + (int64_t)(gj % 50) * 100;
        ev->ship_within_days = SHIP_WITHIN_DAYS;

        grading_order_t o;
        grading_order_init(&o);
        grading_order_apply(&o, ev);
        int64_t t[GRADING_DEADLINE_MAX_STAGES];
        grading_order_stage_times(mp->rules, &mp->tz, &o, t);
        bool late = false, reaches = false;
        for (size_t st = 0; st < mp->rules->deadlines.nstages; st++) {
            if (t[st] <= pl->seed_ms) late = true;
            else if (t[st] <= pl->sweep_ms) reaches = true;
        }
        out->late_at_seed += late;
        out->due_orders += reaches;
    }
}

/* Applies the batch in one transaction, growing the map while it is full. */
static grading_err_t apply_txn(grading_store_t *st, grading_policy_t *p, const sb_plan_t *pl, const batch_t *g,
                               grading_error_t *e)
{
    grading_ingest_batch_t b = {.events = g->ev,
                                .marketplaces = g->mps,
                                .zones = g->zones,
                                .n = g->n,
                                .derive = grading_assess_derive_cb,
                                .derive_ctx = p};
    return grading_bench_seed_txn(st, &b, pl->seed_ms, NULL, NULL, e);
}

grading_err_t sb_seed(grading_store_t *st, grading_policy_t *p, const sb_plan_t *pl,
                      sb_seed_result_t *out, grading_error_t *e)
{
    grading_err_t err = GRADING_OK;
    batch_t g = {0};
    memset(out, 0, sizeof *out);
    const grading_marketplace_t *mp = grading_policy_marketplace(p, SB_MARKETPLACE);
    if (!mp) return grading_error_set(e, GRADING_EINVAL, "policy", "has no marketplace \"%s\"", SB_MARKETPLACE);

    g.cap = SB_TXN_EVENTS > pl->per_seller ? SB_TXN_EVENTS : pl->per_seller;
    g.ev = calloc(g.cap, sizeof *g.ev);
    g.str = calloc(g.cap, sizeof *g.str);
    g.mps = calloc(g.cap, sizeof *g.mps);
    g.zones = calloc(g.cap, sizeof *g.zones);
    if (!g.ev || !g.str || !g.mps || !g.zones) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory for a batch of %" PRIu32 " events", g.cap);
        goto fail;
    }
    for (uint32_t i = 0; i < g.cap; i++) {
        g.mps[i] = mp->name;
        g.zones[i] = &mp->tz;
    }

    int64_t t0 = sb_mono_ns();
    uint32_t next_report = pl->sellers / 10;
    for (uint32_t i = 0; i < pl->sellers;) {
        g.n = 0;
        /* whole sellers; at least one per transaction */
        do add_seller(&g, mp, pl, i++, out);
        while (i < pl->sellers && g.n + pl->per_seller <= g.cap);
        for (uint32_t j = 0; j < g.n; j++)
            if ((err = grading_event_validate(&g.ev[j], j, e))) goto fail;
        if ((err = apply_txn(st, p, pl, &g, e))) goto fail;
        out->orders += g.n;
        out->transactions++;
        if (pl->sellers >= 10 && i >= next_report) {
            fprintf(stderr, "seeding: %3u%%  %" PRIu32 " sellers, %" PRIu64 " orders, %.1f s\n",
                    (unsigned)((uint64_t)i * 100 / pl->sellers), i, out->orders, (double)(sb_mono_ns() - t0) / 1e9);
            next_report += pl->sellers / 10;
        }
    }
    out->seconds = (double)(sb_mono_ns() - t0) / 1e9;
    out->sellers = pl->sellers;
fail:
    free(g.ev);
    free(g.str);
    free(g.mps);
    free(g.zones);
    return err;
}
