/* An order's timeline, merged from its events in any arrival order.
 *
 * Each stage (paid, shipped, delivered, cancelled, returned, exchanged,
 * non-receipt) keeps the earliest event of that stage; on a tie in time the
 * details that compare smaller win. So merging is commutative and
 * idempotent: the same events in any order give the same record. */
#ifndef GRADING_ORDER_H
#define GRADING_ORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/event.h"

#define GRADING_CURRENCY_MAX 8   /* ISO 4217 is 3 letters; room for NUL */

enum {
    GRADING_ORDER_OVERSEAS = 1u << 0,
    GRADING_ORDER_TRACKING_VALID = 1u << 1,
    GRADING_ORDER_AUTO_COMPLETED = 1u << 2,
    /* The record's stages count only once it is paid (an "orphan" until
     * then). Records written before this flag existed counted every stage
     * at once; they keep that meaning until their next change, so the
     * minus-before-plus-after arithmetic of counters.h stays exact. */
    GRADING_ORDER_HOLDS_UNPAID = 1u << 3
};

typedef struct {
    /* Stage times in Unix ms; 0 = that stage has not happened. */
    int64_t paid_ms, shipped_ms, delivered_ms, cancelled_ms;
    int64_t returned_ms, exchanged_ms, non_receipt_ms;
    /* From the paid event. */
    int64_t amount;
    int64_t reserved_ship_ms;          /* 0 = no reserved date */
    uint32_t ship_within_days;
    char product_id[GRADING_MAX_ID_LEN + 1];
    char currency[GRADING_CURRENCY_MAX];
    uint32_t flags;                    /* GRADING_ORDER_* */
    /* From the stage's event. */
    int32_t cancel_fault, cancel_reason, return_fault, exchange_fault;
    /* Held while the order is unpaid: a review and a delivery satisfaction
     * score that arrived before the payment (the earliest of each; one
     * buyer per order). They count once the payment arrives. A review of
     * an order already paid counts at once and is not kept here. */
    int64_t review_ms, satisfaction_ms;   /* 0 = none held */
    uint32_t rating, score;
    int32_t recommendation;
    uint32_t shipping_rating, inquiry_rating;   /* the held review's aspects (11st); 0 = not rated */
    /* Exclusions (issue 15): base counters (bit i = grading_counter_t i)
     * this record's contributions do not count in, by appeals and by
     * exemptions in force; and how many appeals changed it. */
    uint64_t appeal_mask, exempt_mask;
    uint32_t appeals;
} grading_order_t;

/* An inquiry's timeline: received and first answer. */
typedef struct {
    int64_t received_ms, answered_ms;  /* 0 = not yet */
    uint64_t appeal_mask, exempt_mask;  /* as an order's */
    uint32_t appeals;
} grading_inquiry_t;

void grading_order_init(grading_order_t *o);
void grading_inquiry_init(grading_inquiry_t *q);

/* Merges an order event into *o. Returns true if *o changed.
 * ev->kind must satisfy grading_event_is_order(); others leave *o as is. */
bool grading_order_apply(grading_order_t *o, const grading_event_t *ev);

/* Holds a buyer_review or delivery_satisfaction event on an unpaid order
 * (the earliest of each kind wins; ties: the smaller details). Returns true
 * if *o changed. Other kinds leave *o as is. */
bool grading_order_hold(grading_order_t *o, const grading_event_t *ev);

/* Merges an inquiry_received / inquiry_answered event. Returns true if changed. */
bool grading_inquiry_apply(grading_inquiry_t *q, const grading_event_t *ev);

/* True when the order has a stage other than paid (shipped, delivered,
 * cancelled, returned, exchanged, non-receipt) or a held review or score. */
bool grading_order_has_lifecycle(const grading_order_t *o);

/* The earliest lifecycle stage's time; 0 when none. */
int64_t grading_order_first_lifecycle_ms(const grading_order_t *o);

/* True when the order's lifecycle stages are held: it has some, its payment
 * has not been seen, and the record holds unpaid stages (see the flag). */
bool grading_order_is_orphan(const grading_order_t *o);

/* A reserved order: ship_within_days >= 4 or a reserved ship date (SPEC §3). */
bool grading_order_is_reserved(const grading_order_t *o);

#endif
