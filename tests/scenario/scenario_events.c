/* Turning a case's generators into events and applying them to the store
 * the way the ingest writer does: grading_ingest_apply inside a write
 * transaction, with the derive callback storing the hot-path record.
 *
 * Events are produced into one fixed buffer of SCN_MAX_EVENTS_PER_TXN
 * slots; a full buffer is validated (grading_events_validate, the RPC
 * layer's rules), applied and committed, then reused. An order's events
 * may straddle two transactions, which the store's timeline merge makes
 * harmless. The last transaction also names the case's seller as an extra
 * seller, so the stored record exists, derived as of as_of, even for a
 * seller with no events at all.
 *
 * A generator with `months: N` runs N times, its first time moved one
 * calendar month later each time (scn_shift_months, in the case's time
 * zone); the other times of an order are offsets from `paid`, so they
 * move with it. Events recorded before a close (phase k) get ids and
 * order references of their own, so they never merge into an order of
 * the case's own events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/ingest.h"
#include "scenario.h"

/* A map too small for a batch is grown and the batch retried; growth
 * doubles the map, so a few tries cover anything the bounds allow. */
#define MAX_GROW_TRIES 8
#define ID_LEN 64

typedef struct {
    grading_store_t *st;
    const grading_policy_t *policy;
    const scn_case_t *c;
    size_t ci;
    size_t phase;        /* 0: the case's own events; k: the k-th close's */
    uint32_t n;
    grading_event_t ev[SCN_MAX_EVENTS_PER_TXN];
    const char *mps[SCN_MAX_EVENTS_PER_TXN];
    const grading_tz_t *zones[SCN_MAX_EVENTS_PER_TXN];
    int lines[SCN_MAX_EVENTS_PER_TXN];   /* the generator each event came from */
    char ids[SCN_MAX_EVENTS_PER_TXN][ID_LEN];
    char refs[SCN_MAX_EVENTS_PER_TXN][ID_LEN];
    char *msg;
    size_t msglen;
} sink_t;

static grading_err_t apply_once(sink_t *s, bool last, uint32_t *accepted)
{
    const char *extra_seller = s->c->seller, *extra_mp = s->c->mp->name;
    grading_ingest_batch_t b = {
        .events = s->ev, .marketplaces = s->mps, .zones = s->zones, .n = s->n,
        .derive = grading_assess_derive_cb, .derive_ctx = (void *)s->policy,
        .extra_sellers = last ? &extra_seller : NULL,
        .extra_marketplaces = last ? &extra_mp : NULL, .nextra = last ? 1 : 0};
    grading_txn_t *txn = NULL;
    uint32_t dup = 0;
    grading_err_t err = grading_store_write_begin(s->st, NULL, &txn);
    if (err) goto fail;
    err = grading_ingest_apply(txn, &b, s->c->as_of_ms, accepted, &dup);
    if (err) goto fail;
    err = grading_txn_commit(txn);
    txn = NULL;
    if (err) goto fail;
    if (dup) {
        snprintf(s->msg, s->msglen, "%u generated events were duplicates (a bug in the generator)", dup);
        return GRADING_ESTATE;
    }
    return GRADING_OK;
fail:
    if (txn) grading_txn_abort(txn);
    return err;
}

static grading_err_t flush(sink_t *s, bool last)
{
    grading_error_t e;
    uint32_t accepted = 0;
    grading_err_t err;
    if (s->n && grading_events_validate(s->ev, s->n, &e)) {
        char why[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 4];
        unsigned idx = 0;
        grading_error_format(&e, why, sizeof why);
        if (sscanf(e.field, "events[%u]", &idx) != 1 || idx >= s->n) idx = 0;
        snprintf(s->msg, s->msglen, "line %d generates an invalid event: %s", s->lines[idx], why);
        return GRADING_EINVAL;
    }
    for (int tries = 0;; tries++) {
        err = apply_once(s, last, &accepted);
        if (err != GRADING_EFULL || tries >= MAX_GROW_TRIES) break;
        if (grading_store_grow(s->st)) break;
    }
    if (err && !s->msg[0])
        snprintf(s->msg, s->msglen, "applying %u events failed: %s", s->n, grading_err_name(err));
    s->n = 0;
    return err;
}

/* The next free slot, flushing a full buffer first. */
static grading_err_t slot(sink_t *s, int line, grading_event_kind_t kind, int64_t at_ms,
                          const char *tag, uint64_t seq, grading_event_t **out)
{
    if (s->n == SCN_MAX_EVENTS_PER_TXN) {
        grading_err_t err = flush(s, false);
        if (err) return err;
    }
    uint32_t i = s->n++;
    grading_event_t *ev = &s->ev[i];
    memset(ev, 0, sizeof *ev);
    if (s->phase) {
        snprintf(s->ids[i], ID_LEN, "c%zu-k%zu-%s%llu-%s", s->ci + 1, s->phase, tag,
                 (unsigned long long)seq, grading_event_kind_name(kind));
        snprintf(s->refs[i], ID_LEN, "k%zu%s%llu", s->phase, tag, (unsigned long long)seq);
    } else {
        snprintf(s->ids[i], ID_LEN, "c%zu-%s%llu-%s", s->ci + 1, tag, (unsigned long long)seq,
                 grading_event_kind_name(kind));
        snprintf(s->refs[i], ID_LEN, "%s%llu", tag, (unsigned long long)seq);
    }
    ev->event_id = s->ids[i];
    ev->marketplace = s->c->mp->name;
    ev->seller_id = s->c->seller;
    ev->has_occurred_at = true;
    ev->occurred_ms = at_ms;
    ev->kind = kind;
    ev->ref_id = s->refs[i];
    s->mps[i] = s->c->mp->name;
    s->zones[i] = &s->c->mp->tz;
    s->lines[i] = line;
    *out = ev;
    return GRADING_OK;
}

/* One order of generator g, paid at t0. */
static grading_err_t order_events(sink_t *s, const scn_orders_t *g, int64_t t0, uint64_t seq)
{
    grading_event_t *ev;
    grading_err_t err;
    int64_t last = t0;
#define STAGE(kind, after)                                                   \
    do {                                                                     \
        if ((err = slot(s, g->line, (kind), t0 + (after), "o", seq, &ev))) \
            return err;                                                      \
        if (t0 + (after) > last) last = t0 + (after);                        \
    } while (0)

    STAGE(GRADING_EV_ORDER_PAID, 0);
    ev->product_id = g->product_id;
    ev->currency = s->c->mp->currency;
    ev->amount = g->amount;
    ev->ship_within_days = g->ship_within_days;
    ev->reserved_ship_ms = g->reserved_ship_ms;
    ev->overseas = g->overseas;
    if (g->shipped) {
        STAGE(GRADING_EV_ORDER_SHIPPED, g->shipped_after_ms);
        ev->tracking_valid = g->tracking_valid;
    }
    if (g->delivered) {
        STAGE(GRADING_EV_ORDER_DELIVERED, g->delivered_after_ms);
        ev->auto_completed = g->auto_completed;
    }
    if (g->cancelled) {
        STAGE(GRADING_EV_ORDER_CANCELLED, g->cancelled_after_ms);
        ev->fault = g->cancel_fault;
        ev->reason = g->cancel_reason;
    }
    if (g->returned) {
        STAGE(GRADING_EV_ORDER_RETURNED, g->returned_after_ms);
        ev->fault = g->return_fault;
    }
    if (g->exchanged) {
        STAGE(GRADING_EV_ORDER_EXCHANGED, g->exchanged_after_ms);
        ev->fault = g->exchange_fault;
    }
    if (g->non_receipt) STAGE(GRADING_EV_NON_RECEIPT, g->non_receipt_after_ms);
#undef STAGE
    /* Reviews and satisfaction scores come an hour after the last stage. */
    int64_t after = last + 3600000;
    if (g->review) {
        if ((err = slot(s, g->line, GRADING_EV_BUYER_REVIEW, after, "o", seq, &ev))) return err;
        ev->rating = g->rating;
        ev->shipping_rating = g->shipping_rating;
        ev->inquiry_rating = g->inquiry_rating;
        ev->recommendation = g->recommendation;
    }
    if (g->satisfaction) {
        if ((err = slot(s, g->line, GRADING_EV_DELIVERY_SATISFACTION, after, "o", seq, &ev)))
            return err;
        ev->score = g->satisfaction_score;
    }
    return GRADING_OK;
}

/* The time of a generator's repetition m (0: its own time). The parser
 * checked that every repetition exists. */
static int64_t repeat_at(const scn_case_t *c, int64_t t, uint32_t m)
{
    int64_t out = t;
    if (m && !scn_shift_months(&c->mp->tz, t, m, &out)) out = t;
    return out;
}

grading_err_t scn_events_apply(grading_store_t *st, const scn_file_t *f, size_t ci,
                               const scn_events_t *evs, size_t phase, char *msg, size_t msglen)
{
    const scn_case_t *c = &f->cases[ci];
    grading_err_t err = GRADING_OK;
    sink_t *s = calloc(1, sizeof *s);
    uint64_t seq = 0;
    grading_event_t *ev;
    msg[0] = '\0';
    if (!s) {
        snprintf(msg, msglen, "out of memory");
        return GRADING_ENOMEM;
    }
    s->st = st;
    s->policy = f->policy;
    s->c = c;
    s->ci = ci;
    s->phase = phase;
    s->msg = msg;
    s->msglen = msglen;
    for (size_t g = 0; g < evs->norders; g++) {
        const scn_orders_t *o = &evs->orders[g];
        for (uint32_t m = 0; m < o->months; m++) {
            int64_t paid = repeat_at(c, o->paid_ms, m);
            for (uint32_t k = 0; k < o->count; k++)
                if ((err = order_events(s, o, paid, ++seq))) goto out;
        }
    }
    for (size_t g = 0; g < evs->ninquiries; g++) {
        const scn_inquiries_t *q = &evs->inquiries[g];
        for (uint32_t m = 0; m < q->months; m++) {
            int64_t at = repeat_at(c, q->received_ms, m);
            for (uint32_t k = 0; k < q->count; k++) {
                ++seq;
                if ((err = slot(s, q->line, GRADING_EV_INQUIRY_RECEIVED, at, "q", seq, &ev))) goto out;
                if (q->answered && (err = slot(s, q->line, GRADING_EV_INQUIRY_ANSWERED,
                                               at + q->answered_after_ms, "q", seq, &ev)))
                    goto out;
            }
        }
    }
    for (size_t g = 0; g < evs->nrevenue; g++) {
        const scn_simple_t *r = &evs->revenue[g];
        for (uint32_t m = 0; m < r->months; m++) {
            int64_t at = repeat_at(c, r->at_ms, m);
            for (uint32_t k = 0; k < r->count; k++) {
                if ((err = slot(s, r->line, GRADING_EV_PLATFORM_REVENUE, at, "r", ++seq, &ev))) goto out;
                ev->amount = r->amount;
                ev->currency = c->mp->currency;
            }
        }
    }
    for (size_t g = 0; g < evs->ncustom; g++) {
        const scn_simple_t *x = &evs->custom[g];
        for (uint32_t m = 0; m < x->months; m++) {
            int64_t at = repeat_at(c, x->at_ms, m);
            for (uint32_t k = 0; k < x->count; k++) {
                if ((err = slot(s, x->line, GRADING_EV_CUSTOM, at, "x", ++seq, &ev))) goto out;
                ev->name = x->name;
                ev->value = x->value;
            }
        }
    }
    err = flush(s, true);
out:
    free(s);
    return err;
}

grading_err_t scn_case_apply(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg,
                             size_t msglen)
{
    return scn_events_apply(st, f, ci, &f->cases[ci].ev, 0, msg, msglen);
}
