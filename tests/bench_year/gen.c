/* The year benchmark's traffic: every order is planned on the day it is
 * paid, its later events go into the bucket of the day they happen (a
 * ring of the next GEN_HORIZON days), and each day hands out its bucket.
 *
 * The mix per order (a TMON-like marketplace): paid; 4 % cancelled the
 * same or next day (half by the seller); else shipped 1-2 days later (7 %
 * a day late), delivered 2-3 days after that; 2 % returned a week later;
 * 35 % reviewed (ratings 3-5) and 20 % rated for delivery some days after
 * delivery. One inquiry per 8 orders, 90 % answered, most within a day.
 * Sellers are drawn with a skew (a fifth of them get half the orders). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "year_bench.h"

#define GEN_HORIZON 16              /* days from payment to the last event */
#define GEN_ID_LEN 40
#define DAY_MS INT64_C(86400000)

typedef struct {
    grading_event_t *ev;
    char (*ids)[GEN_ID_LEN];
    char (*refs)[GEN_ID_LEN];
    char (*sellers)[16];
    uint32_t n, cap;
} bucket_t;

struct yb_gen {
    yb_options_t o;
    int64_t first_day_ms;
    uint32_t rng;
    uint64_t next_id;
    bucket_t ring[GEN_HORIZON];
};

static uint32_t rnd(yb_gen_t *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 17;
    g->rng ^= g->rng << 5;
    return g->rng;
}

static int pct(yb_gen_t *g) { return (int)(rnd(g) % 100); }

static grading_event_t *push(yb_gen_t *g, int day_offset, int d, grading_event_kind_t kind, int seller,
                             const char *ref, int64_t t)
{
    bucket_t *b = &g->ring[(d + day_offset) % GEN_HORIZON];
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 4096;
        b->ev = realloc(b->ev, cap * sizeof *b->ev);
        b->ids = realloc(b->ids, cap * sizeof *b->ids);
        b->refs = realloc(b->refs, cap * sizeof *b->refs);
        b->sellers = realloc(b->sellers, cap * sizeof *b->sellers);
        if (!b->ev || !b->ids || !b->refs || !b->sellers) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        b->cap = cap;
    }
    uint32_t i = b->n++;
    snprintf(b->ids[i], GEN_ID_LEN, "ev%llu", (unsigned long long)g->next_id++);
    snprintf(b->refs[i], GEN_ID_LEN, "%s", ref);
    snprintf(b->sellers[i], sizeof b->sellers[i], "s%05d", seller);
    grading_event_t *ev = &b->ev[i];
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->marketplace = g->o.marketplace;
    ev->has_occurred_at = true;
    ev->occurred_ms = t;
    ev->currency = "KRW";
    ev->product_id = "p";
    ev->name = "";
    return ev;
}

static void plan_order(yb_gen_t *g, int d, int seller, uint64_t order)
{
    char ref[GEN_ID_LEN];
    snprintf(ref, sizeof ref, "o%llu", (unsigned long long)order);
    int64_t day0 = g->first_day_ms + d * DAY_MS;
    int64_t t = day0 + (int64_t)(rnd(g) % 50000000);   /* within the day, before 14:00 UTC */
    grading_event_t *ev = push(g, 0, d, GRADING_EV_ORDER_PAID, seller, ref, t);
    ev->amount = 10000 + (int64_t)(rnd(g) % 200000);
    ev->ship_within_days = 2;
    if (pct(g) < 4) {
        int off = (int)(rnd(g) % 2);
        ev = push(g, off, d, GRADING_EV_ORDER_CANCELLED, seller, ref, t + off * DAY_MS + 3600000);
        ev->fault = pct(g) < 50 ? GRADING_FAULT_SELLER : GRADING_FAULT_BUYER;
        ev->reason = 1;
        return;
    }
    int ship = 1 + (int)(rnd(g) % 2) + (pct(g) < 7);
    ev = push(g, ship, d, GRADING_EV_ORDER_SHIPPED, seller, ref, t + ship * DAY_MS);
    ev->tracking_valid = pct(g) < 95;
    int dlv = ship + 2 + (int)(rnd(g) % 2);
    push(g, dlv, d, GRADING_EV_ORDER_DELIVERED, seller, ref, t + dlv * DAY_MS);
    if (pct(g) < 2) {
        ev = push(g, dlv + 7, d, GRADING_EV_ORDER_RETURNED, seller, ref, t + (dlv + 7) * DAY_MS);
        ev->fault = pct(g) < 40 ? GRADING_FAULT_SELLER : GRADING_FAULT_BUYER;
    }
    if (pct(g) < 35) {
        int rv = dlv + 1 + (int)(rnd(g) % 5);
        ev = push(g, rv, d, GRADING_EV_BUYER_REVIEW, seller, ref, t + rv * DAY_MS);
        ev->rating = 3 + rnd(g) % 3;
        ev->recommendation = 1 + (int32_t)(rnd(g) % 3);
    }
    if (pct(g) < 20) {
        int sv = dlv + 1 + (int)(rnd(g) % 5);
        ev = push(g, sv, d, GRADING_EV_DELIVERY_SATISFACTION, seller, ref, t + sv * DAY_MS);
        ev->score = 60 + rnd(g) % 41;
    }
    if (order % 8 == 0) {
        char q[GEN_ID_LEN];
        snprintf(q, sizeof q, "q%llu", (unsigned long long)order);
        push(g, 0, d, GRADING_EV_INQUIRY_RECEIVED, seller, q, t + 600000);
        if (pct(g) < 90) {
            int ans = pct(g) < 80 ? 0 : 2;
            push(g, ans, d, GRADING_EV_INQUIRY_ANSWERED, seller, q, t + 600000 + ans * DAY_MS + 7200000);
        }
    }
}

yb_gen_t *yb_gen_new(const yb_options_t *o, int64_t first_day_ms)
{
    yb_gen_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->o = *o;
    g->first_day_ms = first_day_ms;
    g->rng = o->seed ? o->seed : 2463534242u;
    return g;
}

void yb_gen_free(yb_gen_t *g)
{
    if (!g) return;
    for (int i = 0; i < GEN_HORIZON; i++) {
        free(g->ring[i].ev);
        free(g->ring[i].ids);
        free(g->ring[i].refs);
        free(g->ring[i].sellers);
    }
    free(g);
}

void yb_gen_day(yb_gen_t *g, int d, const grading_event_t **evs, uint32_t *n)
{
    /* the bucket handed out last time is reused for day d + GEN_HORIZON - 1 */
    bucket_t *prev = &g->ring[(d + GEN_HORIZON - 1) % GEN_HORIZON];
    if (d > 0) prev->n = 0;
    for (int k = 0; k < g->o.orders_per_day; k++) {
        /* a fifth of the sellers get half the orders */
        int s = pct(g) < 50 ? (int)(rnd(g) % (uint32_t)(g->o.sellers / 5 + 1))
                            : (int)(rnd(g) % (uint32_t)g->o.sellers);
        plan_order(g, d, s, (uint64_t)d * (uint64_t)g->o.orders_per_day + (uint64_t)k);
    }
    bucket_t *b = &g->ring[d % GEN_HORIZON];
    /* pointers into the bucket's arrays (realloc may have moved them) */
    for (uint32_t i = 0; i < b->n; i++) {
        b->ev[i].event_id = b->ids[i];
        b->ev[i].ref_id = b->refs[i];
        b->ev[i].seller_id = b->sellers[i];
    }
    *evs = b->ev;
    *n = b->n;
}
