/* A seller event as plain data, and the rules every event must pass.
 *
 * The RPC layer turns a protobuf SellerEvent into a grading_event_t whose
 * strings are borrowed from the decoded message (valid while it lives);
 * everything below it works on this struct only. */
#ifndef GRADING_EVENT_H
#define GRADING_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/err.h"

/* Limits of the service (not of any marketplace's rules). */
#define GRADING_MAX_EVENTS_PER_CALL 10000
#define GRADING_MAX_REQUEST_BYTES (16 * 1024 * 1024)
#define GRADING_MAX_MARKETPLACE_LEN 64
#define GRADING_MAX_ID_LEN 128          /* event, seller, order, product, inquiry ids */
#define GRADING_MAX_CUSTOM_NAME_LEN 64
#define GRADING_MAX_AMOUNT INT64_C(1000000000000000)  /* 10^15 minor units */
/* A custom counter's value, in magnitude: a day's sum stays far from
 * overflowing a double (counters.h bounds the sum too). */
#define GRADING_MAX_CUSTOM_VALUE 1e15
/* Default bound on occurred_at ahead of the server's clock (--max-future-skew). */
#define GRADING_DEFAULT_MAX_FUTURE_SKEW_MS (INT64_C(3600) * 1000)
/* Default age after which an unpaid order's held events are dropped (--orphan-max-age). */
#define GRADING_DEFAULT_ORPHAN_MAX_AGE_MS (INT64_C(30) * 86400 * 1000)
/* Accepted occurred_at range: [2000-01-01, 2100-01-01) UTC, in ms. */
#define GRADING_MIN_TIME_MS INT64_C(946684800000)
#define GRADING_MAX_TIME_MS INT64_C(4102444800000)

/* Values equal the SellerEvent oneof field numbers of grading.proto. */
typedef enum {
    GRADING_EV_NONE = 0,
    GRADING_EV_ORDER_PAID = 10,
    GRADING_EV_ORDER_SHIPPED = 11,
    GRADING_EV_ORDER_DELIVERED = 12,
    GRADING_EV_ORDER_CANCELLED = 13,
    GRADING_EV_ORDER_RETURNED = 14,
    GRADING_EV_ORDER_EXCHANGED = 15,
    GRADING_EV_NON_RECEIPT = 16,
    GRADING_EV_INQUIRY_RECEIVED = 17,
    GRADING_EV_INQUIRY_ANSWERED = 18,
    GRADING_EV_BUYER_REVIEW = 19,
    GRADING_EV_DELIVERY_SATISFACTION = 20,
    GRADING_EV_PLATFORM_REVENUE = 21,
    GRADING_EV_CUSTOM = 22
} grading_event_kind_t;

/* Enum values equal grading.proto's. */
typedef enum { GRADING_FAULT_UNSPECIFIED = 0, GRADING_FAULT_SELLER, GRADING_FAULT_BUYER,
               GRADING_FAULT_PLATFORM } grading_fault_t;
typedef enum { GRADING_REASON_UNSPECIFIED = 0, GRADING_REASON_OUT_OF_STOCK,
               GRADING_REASON_SHIPPING_DELAY, GRADING_REASON_BUYER_REQUEST,
               GRADING_REASON_OTHER } grading_cancel_reason_t;
typedef enum { GRADING_REC_UNSPECIFIED = 0, GRADING_REC_STRONGLY_RECOMMEND,
               GRADING_REC_RECOMMEND, GRADING_REC_NOT_RECOMMENDED } grading_recommendation_t;

typedef struct {
    const char *event_id;      /* borrowed; never NULL after conversion ("" if unset) */
    const char *marketplace;   /* "" = the policy's default marketplace */
    const char *seller_id;
    bool has_occurred_at;
    int64_t occurred_ms;       /* Unix ms, UTC */
    int32_t occurred_nanos;    /* as sent, for validation (0..999999999) */
    grading_event_kind_t kind;

    /* Kind-specific fields; only those of `kind` are meaningful. */
    const char *ref_id;        /* order_id or inquiry_id */
    const char *product_id;    /* order_paid */
    const char *currency;      /* order_paid, platform_revenue */
    const char *name;          /* custom */
    int64_t amount;            /* order_paid, platform_revenue (minor units) */
    uint32_t ship_within_days; /* order_paid */
    int64_t reserved_ship_ms;  /* order_paid; 0 = not a reserved date */
    bool overseas;             /* order_paid */
    bool tracking_valid;       /* order_shipped */
    bool auto_completed;       /* order_delivered */
    int32_t fault;             /* cancelled, returned, exchanged (grading_fault_t) */
    int32_t reason;            /* cancelled (grading_cancel_reason_t) */
    int32_t recommendation;    /* buyer_review (grading_recommendation_t) */
    uint32_t rating;           /* buyer_review: 1..5 (the product) */
    uint32_t shipping_rating;  /* buyer_review: 1..5, 0 = not rated */
    uint32_t inquiry_rating;   /* buyer_review: 1..5, 0 = not rated */
    uint32_t score;            /* delivery_satisfaction: 0..100 */
    double value;              /* custom */
} grading_event_t;

/* The proto field name of a kind ("order_paid"); "" for NONE or unknown. */
const char *grading_event_kind_name(grading_event_kind_t kind);

/* True for the kinds that change an order's timeline. */
bool grading_event_is_order(grading_event_kind_t kind);

/* Checks one event against every rule of API.md. On failure fills *e with
 * field "events[<index>].<field>" (JSON names, as in the proto) and returns
 * GRADING_EINVAL. Pure: no clock, no I/O. */
grading_err_t grading_event_validate(const grading_event_t *ev, uint32_t index,
                                     grading_error_t *e);

/* What an event is judged against once its marketplace is known. */
typedef struct {
    const char *marketplace;      /* resolved name, for messages */
    const char *currency;         /* the marketplace's ISO 4217 code */
    int64_t now_ms;               /* the server's clock */
    int64_t max_future_skew_ms;   /* occurred_at may be at most this ahead of now_ms */
    int64_t max_past_ms;          /* and at most this far behind it (the dedup horizon); 0: any */
} grading_event_context_t;

/* Checks what depends on the marketplace and the clock: a non-empty
 * currency must be the marketplace's; occurred_at at most
 * ctx->max_future_skew_ms ahead of ctx->now_ms, and (max_past_ms > 0) at
 * most max_past_ms behind it. Call after
 * grading_event_validate. Errors: GRADING_EINVAL (currency),
 * GRADING_ERANGE (occurred_at too far ahead); the field is named as there. */
grading_err_t grading_event_check_context(const grading_event_t *ev, uint32_t index,
                                          const grading_event_context_t *ctx, grading_error_t *e);

/* The event's content hash (everything but its id, with the resolved
 * marketplace name), stored beside the id: the same id with another hash
 * is a conflict, not a retry. Pure. */
uint64_t grading_event_hash(const grading_event_t *ev, const char *marketplace);

/* Checks a whole batch: its size, then every event in order; stops at the
 * first bad one. Errors: GRADING_EINVAL (empty batch or bad event),
 * GRADING_EFULL (more than GRADING_MAX_EVENTS_PER_CALL events). */
grading_err_t grading_events_validate(const grading_event_t *evs, uint32_t n,
                                      grading_error_t *e);

#endif
