/* protobuf-c messages -> the plain structs of src/core, and back for
 * times. Strings are borrowed from the message, which the caller keeps
 * alive. Nothing is judged here: validation is core's job. */
#include "convert.h"

#include <stdlib.h>

/* Far enough outside the accepted range to be rejected, never overflowing. */
#define TS_ABSURD_S INT64_C(100000000000)

int64_t rpc_timestamp_ms(const Google__Protobuf__Timestamp *ts)
{
    if (!ts) return 0;
    if (ts->seconds > TS_ABSURD_S || ts->seconds < -TS_ABSURD_S) return INT64_MIN / 2;
    return ts->seconds * 1000 + ts->nanos / 1000000;
}

void rpc_timestamp_set(Google__Protobuf__Timestamp *ts, int64_t ms)
{
    google__protobuf__timestamp__init(ts);
    int64_t s = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        s--;
        rem += 1000;
    }
    ts->seconds = s;
    ts->nanos = (int32_t)(rem * 1000000);
}

static const char *str(const char *s)
{
    return s ? s : "";
}

void rpc_event_from_pb(const Grading__V1__SellerEvent *m, grading_event_t *ev)
{
    *ev = (grading_event_t){0};
    ev->event_id = str(m->event_id);
    ev->marketplace = str(m->marketplace);
    ev->seller_id = str(m->seller_id);
    ev->has_occurred_at = m->occurred_at != NULL;
    ev->occurred_ms = rpc_timestamp_ms(m->occurred_at);
    ev->occurred_nanos = m->occurred_at ? m->occurred_at->nanos : 0;
    ev->ref_id = ev->product_id = ev->currency = ev->name = "";

    switch (m->kind_case) {
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID: {
        const Grading__V1__OrderPaid *k = m->order_paid;
        ev->kind = GRADING_EV_ORDER_PAID;
        ev->ref_id = str(k->order_id);
        ev->product_id = str(k->product_id);
        ev->amount = k->amount;
        ev->currency = str(k->currency);
        ev->ship_within_days = k->ship_within_days;
        ev->reserved_ship_ms = rpc_timestamp_ms(k->reserved_ship_date);
        ev->overseas = k->overseas;
        break;
    }
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_SHIPPED:
        ev->kind = GRADING_EV_ORDER_SHIPPED;
        ev->ref_id = str(m->order_shipped->order_id);
        ev->tracking_valid = m->order_shipped->tracking_valid;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_DELIVERED:
        ev->kind = GRADING_EV_ORDER_DELIVERED;
        ev->ref_id = str(m->order_delivered->order_id);
        ev->auto_completed = m->order_delivered->auto_completed;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_CANCELLED:
        ev->kind = GRADING_EV_ORDER_CANCELLED;
        ev->ref_id = str(m->order_cancelled->order_id);
        ev->fault = (int32_t)m->order_cancelled->fault;
        ev->reason = (int32_t)m->order_cancelled->reason;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_RETURNED:
        ev->kind = GRADING_EV_ORDER_RETURNED;
        ev->ref_id = str(m->order_returned->order_id);
        ev->fault = (int32_t)m->order_returned->fault;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_EXCHANGED:
        ev->kind = GRADING_EV_ORDER_EXCHANGED;
        ev->ref_id = str(m->order_exchanged->order_id);
        ev->fault = (int32_t)m->order_exchanged->fault;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_NON_RECEIPT_REPORTED:
        ev->kind = GRADING_EV_NON_RECEIPT;
        ev->ref_id = str(m->non_receipt_reported->order_id);
        break;
    case GRADING__V1__SELLER_EVENT__KIND_INQUIRY_RECEIVED:
        ev->kind = GRADING_EV_INQUIRY_RECEIVED;
        ev->ref_id = str(m->inquiry_received->inquiry_id);
        break;
    case GRADING__V1__SELLER_EVENT__KIND_INQUIRY_ANSWERED:
        ev->kind = GRADING_EV_INQUIRY_ANSWERED;
        ev->ref_id = str(m->inquiry_answered->inquiry_id);
        break;
    case GRADING__V1__SELLER_EVENT__KIND_BUYER_REVIEW:
        ev->kind = GRADING_EV_BUYER_REVIEW;
        ev->ref_id = str(m->buyer_review->order_id);
        ev->rating = m->buyer_review->rating;
        ev->shipping_rating = m->buyer_review->shipping_rating;
        ev->inquiry_rating = m->buyer_review->inquiry_rating;
        ev->recommendation = (int32_t)m->buyer_review->recommendation;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_DELIVERY_SATISFACTION:
        ev->kind = GRADING_EV_DELIVERY_SATISFACTION;
        ev->ref_id = str(m->delivery_satisfaction->order_id);
        ev->score = m->delivery_satisfaction->score;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_PLATFORM_REVENUE:
        ev->kind = GRADING_EV_PLATFORM_REVENUE;
        ev->amount = m->platform_revenue->amount;
        ev->currency = str(m->platform_revenue->currency);
        break;
    case GRADING__V1__SELLER_EVENT__KIND_CUSTOM:
        ev->kind = GRADING_EV_CUSTOM;
        ev->name = str(m->custom->name);
        ev->value = m->custom->value;
        break;
    default:
        ev->kind = GRADING_EV_NONE;
        break;
    }
}
