/* Seeding: N synthetic TMON sellers' October 2026, applied in process.
 *
 * Going through RecordEvents would measure the RPC layer for minutes before
 * the figure we want, so the events go straight to grading_ingest_apply in
 * write transactions of about CB_TXN_EVENTS events (the bound the server's
 * writer uses), with derive on, so each seller gets its `sellers` record
 * (ClosePeriod enumerates sellers from it) exactly as the server would
 * store it. A transaction holds whole sellers only, so each seller is
 * derived once, after all its events.
 *
 * Each seller is generated from its own random stream (seeded by its
 * index), so the data does not depend on how it is batched:
 *   - a size: the order amount is log-uniform in 10,000 .. 1,000,000,000
 *     KRW, which spreads the sales grades (TMON's 5 points need 100 M KRW
 *     a month);
 *   - a quality (70 % good, 20 % fair, 10 % poor): the chances of a late
 *     shipment, an out-of-stock or seller-fault cancel, a late or missing
 *     inquiry answer, and the range of ratings and delivery satisfaction;
 *   - a number of events: 1 seller in 20 is large (8 K events), the rest
 *     share the remainder, so the mean is about K and the large ones have
 *     enough shipments for TMON's rates (their minimum volume is 10).
 * The events are units drawn in turn until the seller's count is reached:
 * an order (paid, then cancelled, or shipped / delivered, maybe returned,
 * reviewed and rated for delivery), an inquiry (received, answered or
 * not), a platform revenue entry. A unit cut short by the count is an open
 * order or an unanswered inquiry, which real data has too. Every event is
 * dated in October 2026 KST and checked with grading_event_validate. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "benchlib.h"
#include "close_bench.h"
#include "grading/assess.h"
#include "grading/event.h"
#include "grading/ingest.h"
#include "grading/store.h"

/* gradingd's refresh thread skips its start-up walk when this meta record
 * names the policy it runs with (src/app/refresh.c, REFRESH_META). The
 * seeding derived every seller with that policy, which is what a walk
 * would do, so it writes the record too. */
#define CB_REFRESH_META "refreshed_with_policy"

#define LARGE_ONE_IN 20
#define LARGE_FACTOR 8
#define SHIP_WITHIN_DAYS 2
#define LAST_PAID_DAY 19      /* the latest timeline still ends in October */
#define LAST_INQUIRY_DAY 27
#define PRODUCTS 50           /* per seller */
#define BYTES_PER_EVENT 400   /* the initial map estimate; it grows if short */
#define BYTES_PER_SELLER 600

/* Per cent of sellers of each quality, and what each quality means (basis
 * points of orders or inquiries). */
typedef struct {
    uint32_t late_bp, out_of_stock_bp, seller_cancel_bp, buyer_cancel_bp;
    uint32_t answered_24h_bp, answered_late_bp;
    uint32_t return_bp, seller_fault_return_bp;
    uint32_t review_bp, satisfaction_bp;
    uint32_t sat_lo, sat_hi, rating_lo, rating_hi;
} quality_t;

static const quality_t GOOD = {30, 5, 20, 300, 9700, 250, 800, 1500, 5000, 6000, 80, 100, 4, 5};
static const quality_t FAIR = {150, 80, 100, 300, 8500, 1000, 1000, 3000, 5000, 6000, 60, 95, 3, 5};
static const quality_t POOR = {1200, 400, 400, 300, 4000, 3000, 1500, 5000, 5000, 6000, 20, 70, 1, 4};

typedef struct {
    char event_id[CB_ID_LEN + 16];   /* the seller's id, '-', a sequence number */
    char seller[CB_ID_LEN];
    char ref[CB_ID_LEN];
    char product[CB_ID_LEN];
} ev_strs_t;

/* One transaction's events and the strings they borrow. */
typedef struct {
    grading_event_t *ev;
    ev_strs_t *str;
    const char **mps;
    const grading_tz_t **zones;
    uint32_t n, cap;
    /* the seller being generated */
    char seller[CB_ID_LEN];
    uint32_t left, seq;
    uint64_t rng;
    const quality_t *q;
    int64_t order_amount;
    uint32_t out_of_month;   /* generator bugs: dates outside October */
} gen_t;

void cb_seller_id(uint32_t i, char buf[CB_ID_LEN])
{
    snprintf(buf, CB_ID_LEN, "s%07" PRIu32, i);
}

static bool chance(gen_t *g, uint32_t bp) { return cb_rng_below(&g->rng, 10000) < bp; }

static int64_t between(gen_t *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(cb_rng_next(&g->rng) % (uint64_t)(hi - lo + 1));
}

/* The next event of the seller, or NULL when its count is reached. */
static grading_event_t *emit(gen_t *g, grading_event_kind_t kind, int64_t t, const char *ref)
{
    if (g->left == 0 || g->n >= g->cap) return NULL;
    uint32_t i = g->n++;
    g->left--;
    grading_event_t *ev = &g->ev[i];
    ev_strs_t *s = &g->str[i];
    memset(ev, 0, sizeof *ev);
    snprintf(s->seller, sizeof s->seller, "%s", g->seller);
    snprintf(s->event_id, sizeof s->event_id, "%s-%" PRIu32, g->seller, g->seq++);
    snprintf(s->ref, sizeof s->ref, "%s", ref ? ref : "");
    s->product[0] = '\0';
    if (t < CB_OCT_START_MS || t >= CB_OCT_END_MS) g->out_of_month++;
    ev->event_id = s->event_id;
    ev->marketplace = CB_MARKETPLACE;
    ev->seller_id = s->seller;
    ev->has_occurred_at = true;
    ev->occurred_ms = t;
    ev->kind = kind;
    ev->ref_id = s->ref;
    ev->product_id = s->product;
    ev->currency = "";
    ev->name = "";
    return ev;
}

static void gen_order(gen_t *g, uint32_t j)
{
    char ref[CB_ID_LEN];
    snprintf(ref, sizeof ref, "o%" PRIu32, j);
    int64_t paid = CB_OCT_START_MS + between(g, 0, LAST_PAID_DAY) * CB_DAY_MS + between(g, 0, CB_DAY_MS - 1);
    grading_event_t *ev = emit(g, GRADING_EV_ORDER_PAID, paid, ref);
    if (!ev) return;
    snprintf(g->str[g->n - 1].product, CB_ID_LEN, "p%" PRIu32, cb_rng_below(&g->rng, PRODUCTS));
    ev->currency = "KRW";
    ev->amount = g->order_amount / 100 * (int64_t)between(g, 50, 150);   /* +-50 % around the size */
    ev->ship_within_days = SHIP_WITHIN_DAYS;

    uint32_t x = cb_rng_below(&g->rng, 10000);
    const quality_t *q = g->q;
    if (x < q->out_of_stock_bp + q->seller_cancel_bp + q->buyer_cancel_bp) {
        int32_t fault = GRADING_FAULT_BUYER, reason = GRADING_REASON_BUYER_REQUEST;
        int64_t at = paid + between(g, 1, 20) * CB_HOUR_MS;
        if (x < q->out_of_stock_bp) {
            fault = GRADING_FAULT_SELLER, reason = GRADING_REASON_OUT_OF_STOCK;
            at = paid + between(g, 1, 10) * CB_HOUR_MS;
        } else if (x < q->out_of_stock_bp + q->seller_cancel_bp) {
            fault = GRADING_FAULT_SELLER, reason = GRADING_REASON_SHIPPING_DELAY;
            at = paid + 2 * CB_DAY_MS + between(g, 0, 6) * CB_HOUR_MS;
        }
        if ((ev = emit(g, GRADING_EV_ORDER_CANCELLED, at, ref))) {
            ev->fault = fault;
            ev->reason = reason;
        }
        return;
    }
    /* on time: within 30 h, so at most two local days after the paid day;
     * late: three days or more */
    int64_t shipped = chance(g, q->late_bp)
                          ? paid + between(g, 3, 5) * CB_DAY_MS + between(g, 0, 6) * CB_HOUR_MS
                          : paid + between(g, 1, 30) * CB_HOUR_MS;
    if (!(ev = emit(g, GRADING_EV_ORDER_SHIPPED, shipped, ref))) return;
    ev->tracking_valid = chance(g, 9900);
    int64_t delivered = shipped + CB_DAY_MS + between(g, 0, 24) * CB_HOUR_MS;
    if (!(ev = emit(g, GRADING_EV_ORDER_DELIVERED, delivered, ref))) return;
    ev->auto_completed = chance(g, 2000);
    if (chance(g, q->return_bp)) {
        if (!(ev = emit(g, GRADING_EV_ORDER_RETURNED, delivered + CB_DAY_MS, ref))) return;
        ev->fault = chance(g, q->seller_fault_return_bp) ? GRADING_FAULT_SELLER : GRADING_FAULT_BUYER;
    }
    if (chance(g, q->review_bp)) {
        if (!(ev = emit(g, GRADING_EV_BUYER_REVIEW, delivered + between(g, 6, 30) * CB_HOUR_MS, ref))) return;
        ev->rating = (uint32_t)between(g, q->rating_lo, q->rating_hi);
        ev->recommendation = ev->rating >= 4   ? GRADING_REC_STRONGLY_RECOMMEND
                             : ev->rating == 3 ? GRADING_REC_RECOMMEND
                                               : GRADING_REC_NOT_RECOMMENDED;
    }
    if (chance(g, q->satisfaction_bp)) {
        if (!(ev = emit(g, GRADING_EV_DELIVERY_SATISFACTION, delivered + between(g, 2, 26) * CB_HOUR_MS, ref)))
            return;
        ev->score = (uint32_t)between(g, q->sat_lo, q->sat_hi);
    }
}

static void gen_inquiry(gen_t *g, uint32_t j)
{
    char ref[CB_ID_LEN];
    snprintf(ref, sizeof ref, "q%" PRIu32, j);
    int64_t at = CB_OCT_START_MS + between(g, 0, LAST_INQUIRY_DAY) * CB_DAY_MS + between(g, 0, CB_DAY_MS - 1);
    if (!emit(g, GRADING_EV_INQUIRY_RECEIVED, at, ref)) return;
    uint32_t x = cb_rng_below(&g->rng, 10000);
    if (x < g->q->answered_24h_bp)
        emit(g, GRADING_EV_INQUIRY_ANSWERED, at + between(g, 1, 20) * CB_HOUR_MS, ref);
    else if (x < g->q->answered_24h_bp + g->q->answered_late_bp)
        emit(g, GRADING_EV_INQUIRY_ANSWERED, at + between(g, 30, 60) * CB_HOUR_MS, ref);
}

static void gen_revenue(gen_t *g)
{
    int64_t at = CB_OCT_START_MS + between(g, 0, 31 * CB_DAY_MS - 1);
    grading_event_t *ev = emit(g, GRADING_EV_PLATFORM_REVENUE, at, NULL);
    if (!ev) return;
    ev->currency = "KRW";
    ev->amount = g->order_amount * between(g, 1, 3) / 10;
}

/* How many events seller i gets: the mean over sellers is about k. */
static uint32_t seller_events(uint64_t *rng, uint32_t k)
{
    if (cb_rng_below(rng, LARGE_ONE_IN) == 0) return k * LARGE_FACTOR;
    uint32_t share = (LARGE_ONE_IN - LARGE_FACTOR) * k;   /* over LARGE_ONE_IN - 1 sellers */
    uint32_t n = share / (LARGE_ONE_IN - 1) + (cb_rng_below(rng, LARGE_ONE_IN - 1) < share % (LARGE_ONE_IN - 1));
    return n ? n : 1;
}

/* Appends seller i's events to the batch (which has room for the largest
 * seller). */
static void gen_seller(gen_t *g, uint32_t i, uint32_t k)
{
    g->rng = UINT64_C(0x5EEDC105E) ^ ((uint64_t)i * UINT64_C(0x9E3779B97F4A7C15));
    cb_seller_id(i, g->seller);
    g->seq = 0;
    g->left = seller_events(&g->rng, k);
    uint32_t quality = cb_rng_below(&g->rng, 100);
    g->q = quality < 70 ? &GOOD : quality < 90 ? &FAIR : &POOR;
    double u = (double)(cb_rng_next(&g->rng) >> 11) / (double)(UINT64_C(1) << 53);
    g->order_amount = (int64_t)(pow(10.0, 4.0 + 5.0 * u) / 100.0) * 100;
    uint32_t orders = 0, inquiries = 0;
    while (g->left > 0 && g->n < g->cap) {   /* every unit emits at least one event */
        uint32_t unit = cb_rng_below(&g->rng, 100);
        if (unit < 62) gen_order(g, orders++);
        else if (unit < 85) gen_inquiry(g, inquiries++);
        else gen_revenue(g);
    }
}

/* Applies the batch in one transaction (growing the map while it is full),
 * with the walk's meta record on the last one. */
static grading_err_t apply_txn(grading_store_t *st, grading_policy_t *p, const gen_t *g, bool last,
                               grading_error_t *e)
{
    grading_ingest_batch_t b = {.events = g->ev,
                                .marketplaces = g->mps,
                                .zones = g->zones,
                                .n = g->n,
                                .derive = grading_assess_derive_cb,
                                .derive_ctx = p};
    return grading_bench_seed_txn(st, &b, CB_STORED_MS, last ? CB_REFRESH_META : NULL,
                                  grading_policy_version(p), e);
}

grading_err_t cb_seed(const cb_opts_t *o, const char *data_dir, grading_policy_t *p,
                      cb_seed_result_t *out, grading_error_t *e)
{
    grading_err_t err = GRADING_OK;
    grading_store_t *st = NULL;
    gen_t g = {0};
    memset(out, 0, sizeof *out);
    const grading_marketplace_t *mp = grading_policy_marketplace(p, CB_MARKETPLACE);
    if (!mp) return grading_error_set(e, GRADING_EINVAL, "policy", "has no marketplace \"%s\"", CB_MARKETPLACE);

    uint64_t est = (uint64_t)o->sellers * o->events_per_seller * BYTES_PER_EVENT +
                   (uint64_t)o->sellers * BYTES_PER_SELLER;
    uint64_t map = GRADING_STORE_DEFAULT_MAP_SIZE;
    while (map < est && map < CB_MAX_MAP_SIZE) map *= 2;
    grading_store_options_t so = {.dir = data_dir, .map_size = map, .max_map_size = CB_MAX_MAP_SIZE};
    if ((err = grading_store_open(&so, &st, e))) return err;

    g.cap = CB_TXN_EVENTS + o->events_per_seller * LARGE_FACTOR;
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

    int64_t t0 = cb_mono_ns();
    uint32_t next_report = o->sellers / 10;
    for (uint32_t i = 0; i < o->sellers;) {
        if (cb_stop) {
            err = grading_error_set(e, GRADING_ESHUTDOWN, "", "interrupted");
            goto fail;
        }
        g.n = 0;
        while (i < o->sellers && g.n < CB_TXN_EVENTS) gen_seller(&g, i++, o->events_per_seller);
        if (g.out_of_month) {
            err = grading_error_set(e, GRADING_EINVAL, "", "%" PRIu32 " generated events fall outside October 2026",
                                    g.out_of_month);
            goto fail;
        }
        for (uint32_t j = 0; j < g.n; j++)
            if ((err = grading_event_validate(&g.ev[j], j, e))) goto fail;
        if ((err = apply_txn(st, p, &g, i == o->sellers, e))) goto fail;
        out->events += g.n;
        out->transactions++;
        if (i >= next_report && o->sellers >= 10) {
            fprintf(stderr, "seeding: %3u%%  %" PRIu32 " sellers, %" PRIu64 " events, %.1f s\n",
                    (unsigned)((uint64_t)i * 100 / o->sellers), i, out->events, (double)(cb_mono_ns() - t0) / 1e9);
            next_report += o->sellers / 10;
        }
    }
    out->seconds = (double)(cb_mono_ns() - t0) / 1e9;
    out->sellers = o->sellers;
    out->map_size = grading_store_map_size(st);
fail:
    if (st) grading_store_close(st);
    free(g.ev);
    free(g.str);
    free(g.mps);
    free(g.zones);
    if (!err) {
        char path[PATH_MAX];
        struct stat sb;
        snprintf(path, sizeof path, "%s/data.mdb", data_dir);
        if (stat(path, &sb) == 0) out->file_bytes = (uint64_t)sb.st_size;
    }
    return err;
}
