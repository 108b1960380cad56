/* Order and inquiry timelines, merged commutatively.
 *
 * Producers send order events from several systems (payments, logistics,
 * CS) that race one another, so a "shipped" can arrive before its "paid".
 * Each stage therefore keeps the earliest event of that stage, with a
 * total order on ties (time, then the stage's details), which makes the
 * merge commutative and idempotent: any arrival order, any retries, the
 * same record. */
#include "grading/order.h"

#include <stdio.h>
#include <string.h>

void grading_order_init(grading_order_t *o)
{
    memset(o, 0, sizeof *o);
}

void grading_inquiry_init(grading_inquiry_t *q)
{
    memset(q, 0, sizeof *q);
}

/* Should a stage event at `t` with details rank `d` replace the stage
 * (time `cur`, details `cur_d`)? Earliest wins; on equal time the smaller
 * details win, so the result does not depend on arrival order. */
static bool earlier(int64_t t, int64_t d, int64_t cur, int64_t cur_d)
{
    if (cur == 0) return true;
    if (t != cur) return t < cur;
    return d < cur_d;
}

static int paid_cmp(const grading_order_t *o, const grading_event_t *ev)
{
    int c = strcmp(ev->product_id, o->product_id);
    if (c) return c;
    if (ev->amount != o->amount) return ev->amount < o->amount ? -1 : 1;
    c = strcmp(ev->currency, o->currency);
    if (c) return c;
    if (ev->ship_within_days != o->ship_within_days)
        return ev->ship_within_days < o->ship_within_days ? -1 : 1;
    if (ev->reserved_ship_ms != o->reserved_ship_ms)
        return ev->reserved_ship_ms < o->reserved_ship_ms ? -1 : 1;
    bool ov = (o->flags & GRADING_ORDER_OVERSEAS) != 0;
    if (ev->overseas != ov) return ev->overseas ? 1 : -1;
    return 0;
}

static bool apply_paid(grading_order_t *o, const grading_event_t *ev)
{
    int64_t t = ev->occurred_ms;
    if (o->paid_ms && (t > o->paid_ms || (t == o->paid_ms && paid_cmp(o, ev) >= 0)))
        return false;
    o->paid_ms = t;
    o->amount = ev->amount;
    o->reserved_ship_ms = ev->reserved_ship_ms;
    o->ship_within_days = ev->ship_within_days;
    snprintf(o->product_id, sizeof o->product_id, "%s", ev->product_id);
    snprintf(o->currency, sizeof o->currency, "%s", ev->currency);
    o->flags = (o->flags & ~(uint32_t)GRADING_ORDER_OVERSEAS) |
               (ev->overseas ? GRADING_ORDER_OVERSEAS : 0);
    return true;
}

/* A flag that belongs to a stage's event: set or cleared with the stage. */
static bool apply_flag_stage(grading_order_t *o, int64_t *stage_ms, uint32_t flag, bool value,
                             int64_t t)
{
    int64_t cur_d = (o->flags & flag) ? 1 : 0;
    if (!earlier(t, value ? 1 : 0, *stage_ms, cur_d)) return false;
    if (*stage_ms == t && cur_d == (value ? 1 : 0)) return false;
    *stage_ms = t;
    o->flags = (o->flags & ~flag) | (value ? flag : 0);
    return true;
}

static bool apply_fault_stage(int64_t *stage_ms, int32_t *fault, int32_t *reason, int32_t f,
                              int32_t r, int64_t t)
{
    int64_t d = (int64_t)f * 16 + r;
    int64_t cur_d = (int64_t)*fault * 16 + (reason ? *reason : 0);
    if (!earlier(t, d, *stage_ms, cur_d)) return false;
    if (*stage_ms == t && cur_d == d) return false;
    *stage_ms = t;
    *fault = f;
    if (reason) *reason = r;
    return true;
}

bool grading_order_apply(grading_order_t *o, const grading_event_t *ev)
{
    int64_t t = ev->occurred_ms;
    switch (ev->kind) {
    case GRADING_EV_ORDER_PAID:
        return apply_paid(o, ev);
    case GRADING_EV_ORDER_SHIPPED:
        return apply_flag_stage(o, &o->shipped_ms, GRADING_ORDER_TRACKING_VALID,
                                ev->tracking_valid, t);
    case GRADING_EV_ORDER_DELIVERED:
        return apply_flag_stage(o, &o->delivered_ms, GRADING_ORDER_AUTO_COMPLETED,
                                ev->auto_completed, t);
    case GRADING_EV_ORDER_CANCELLED:
        return apply_fault_stage(&o->cancelled_ms, &o->cancel_fault, &o->cancel_reason,
                                 ev->fault, ev->reason, t);
    case GRADING_EV_ORDER_RETURNED:
        return apply_fault_stage(&o->returned_ms, &o->return_fault, NULL, ev->fault, 0, t);
    case GRADING_EV_ORDER_EXCHANGED:
        return apply_fault_stage(&o->exchanged_ms, &o->exchange_fault, NULL, ev->fault, 0, t);
    case GRADING_EV_NON_RECEIPT:
        if (!earlier(t, 0, o->non_receipt_ms, 0) || o->non_receipt_ms == t) return false;
        o->non_receipt_ms = t;
        return true;
    default:
        return false;
    }
}

bool grading_inquiry_apply(grading_inquiry_t *q, const grading_event_t *ev)
{
    int64_t *stage;
    if (ev->kind == GRADING_EV_INQUIRY_RECEIVED) stage = &q->received_ms;
    else if (ev->kind == GRADING_EV_INQUIRY_ANSWERED) stage = &q->answered_ms;
    else return false;
    if (*stage && *stage <= ev->occurred_ms) return false;
    *stage = ev->occurred_ms;
    return true;
}

bool grading_order_is_reserved(const grading_order_t *o)
{
    return o->ship_within_days >= 4 || o->reserved_ship_ms != 0;
}

int64_t grading_order_first_lifecycle_ms(const grading_order_t *o)
{
    const int64_t t[] = {o->shipped_ms, o->delivered_ms, o->cancelled_ms, o->returned_ms,
                         o->exchanged_ms, o->non_receipt_ms, o->review_ms, o->satisfaction_ms};
    int64_t first = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i] && (!first || t[i] < first)) first = t[i];
    return first;
}

bool grading_order_has_lifecycle(const grading_order_t *o)
{
    return grading_order_first_lifecycle_ms(o) != 0;
}

bool grading_order_is_orphan(const grading_order_t *o)
{
    return !o->paid_ms && (o->flags & GRADING_ORDER_HOLDS_UNPAID) && grading_order_has_lifecycle(o);
}

bool grading_order_hold(grading_order_t *o, const grading_event_t *ev)
{
    int64_t t = ev->occurred_ms;
    if (ev->kind == GRADING_EV_BUYER_REVIEW) {
        /* ties broken on every rated detail, so any arrival order keeps the same review */
        int64_t d = (((int64_t)ev->rating * 16 + ev->recommendation) * 8 + ev->shipping_rating) * 8 +
                    ev->inquiry_rating;
        int64_t cur_d = (((int64_t)o->rating * 16 + o->recommendation) * 8 + o->shipping_rating) * 8 +
                        o->inquiry_rating;
        if (!earlier(t, d, o->review_ms, cur_d) || (o->review_ms == t && cur_d == d)) return false;
        o->review_ms = t;
        o->rating = ev->rating;
        o->recommendation = ev->recommendation;
        o->shipping_rating = ev->shipping_rating;
        o->inquiry_rating = ev->inquiry_rating;
        return true;
    }
    if (ev->kind == GRADING_EV_DELIVERY_SATISFACTION) {
        if (!earlier(t, ev->score, o->satisfaction_ms, o->score) ||
            (o->satisfaction_ms == t && o->score == ev->score))
            return false;
        o->satisfaction_ms = t;
        o->score = ev->score;
        return true;
    }
    return false;
}
