/* grading_bench's events: per-thread streams of orders with realistic
 * timelines (paid, shipped, delivered, reviewed; some cancelled, returned,
 * never received), dated over the last few weeks so every metric window
 * sees them. Event and order ids carry the run's tag and the stream's, so
 * no two streams, and no two runs against one server, share an id. A batch
 * is built in caller-owned slots, without allocating. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

void bench_stream_init(bench_stream_t *s, const char *run_tag, const char *marketplace, const char *tag,
                       int nsellers, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->rng = seed;
    s->run_tag = run_tag;
    s->marketplace = marketplace;
    snprintf(s->stream_tag, sizeof s->stream_tag, "%s", tag);
    s->nsellers = nsellers;
    s->fixed_seller = -1;
    s->step = BENCH_ORDER_EVENTS;   /* no order open yet */
}

void bench_seller_name(int i, char *buf, size_t len) { snprintf(buf, len, "bench-seller-%06d", i); }

static void begin_order(bench_stream_t *s)
{
    s->seller = s->fixed_seller >= 0 ? s->fixed_seller : (int)bench_rng_below(&s->rng, (uint32_t)s->nsellers);
    uint32_t r = bench_rng_below(&s->rng, 20);
    s->story = r < 15 ? ORDER_NORMAL : r < 17 ? ORDER_CANCELLED : r < 19 ? ORDER_RETURNED : ORDER_NOT_RECEIVED;
    /* Paid 1..BENCH_HISTORY_DAYS days ago, so its whole timeline (< 1 day) is in the past. */
    s->t0_ms = bench_wall_ms() - BENCH_DAY_MS * (1 + bench_rng_below(&s->rng, BENCH_HISTORY_DAYS)) -
               (int64_t)bench_rng_below(&s->rng, (uint32_t)BENCH_DAY_MS);
    s->amount = 1000 * (5 + (int64_t)bench_rng_below(&s->rng, 196));   /* 5,000..200,000 KRW */
    s->product = bench_rng_below(&s->rng, BENCH_PRODUCTS);
    snprintf(s->order_id, sizeof s->order_id, "%s-%s-o%" PRIu64, s->run_tag, s->stream_tag, s->orders++);
    s->step = 0;
}

/* The kinds of each story's events, in order. */
static const Grading__V1__SellerEvent__KindCase stories[][BENCH_ORDER_EVENTS] = {
    [ORDER_NORMAL] = {GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID, GRADING__V1__SELLER_EVENT__KIND_ORDER_SHIPPED,
                      GRADING__V1__SELLER_EVENT__KIND_ORDER_DELIVERED, GRADING__V1__SELLER_EVENT__KIND_BUYER_REVIEW,
                      GRADING__V1__SELLER_EVENT__KIND_DELIVERY_SATISFACTION},
    [ORDER_CANCELLED] = {GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID,
                         GRADING__V1__SELLER_EVENT__KIND_INQUIRY_RECEIVED,
                         GRADING__V1__SELLER_EVENT__KIND_INQUIRY_ANSWERED,
                         GRADING__V1__SELLER_EVENT__KIND_ORDER_CANCELLED,
                         GRADING__V1__SELLER_EVENT__KIND_PLATFORM_REVENUE},
    [ORDER_RETURNED] = {GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID, GRADING__V1__SELLER_EVENT__KIND_ORDER_SHIPPED,
                        GRADING__V1__SELLER_EVENT__KIND_ORDER_DELIVERED,
                        GRADING__V1__SELLER_EVENT__KIND_ORDER_RETURNED,
                        GRADING__V1__SELLER_EVENT__KIND_BUYER_REVIEW},
    [ORDER_NOT_RECEIVED] = {GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID,
                            GRADING__V1__SELLER_EVENT__KIND_ORDER_SHIPPED,
                            GRADING__V1__SELLER_EVENT__KIND_INQUIRY_RECEIVED,
                            GRADING__V1__SELLER_EVENT__KIND_INQUIRY_ANSWERED,
                            GRADING__V1__SELLER_EVENT__KIND_NON_RECEIPT_REPORTED},
};

/* Fills *slot with the stream's next event (a new order when one ends). */
void bench_stream_next(bench_stream_t *s, bench_ev_slot_t *slot)
{
    if (s->step >= BENCH_ORDER_EVENTS) begin_order(s);
    int step = s->step++;
    Grading__V1__SellerEvent__KindCase kind = stories[s->story][step];
    Grading__V1__SellerEvent *ev = &slot->ev;

    *ev = (Grading__V1__SellerEvent)GRADING__V1__SELLER_EVENT__INIT;
    snprintf(slot->event_id, sizeof slot->event_id, "%s-%s-e%" PRIu64, s->run_tag, s->stream_tag, s->seq++);
    snprintf(slot->marketplace, sizeof slot->marketplace, "%s", s->marketplace);
    bench_seller_name(s->seller, slot->seller_id, sizeof slot->seller_id);
    snprintf(slot->order_id, sizeof slot->order_id, "%s", s->order_id);
    snprintf(slot->inquiry_id, sizeof slot->inquiry_id, "q%s", s->order_id);
    snprintf(slot->product_id, sizeof slot->product_id, "p%u", s->product);
    ev->event_id = slot->event_id;
    ev->marketplace = slot->marketplace;
    ev->seller_id = slot->seller_id;
    /* A few hours between steps, jittered; always before now (t0 is >= 1 day back). */
    int64_t at_ms = s->t0_ms + step * 4 * BENCH_HOUR_MS + (int64_t)bench_rng_below(&s->rng, (uint32_t)BENCH_HOUR_MS);
    slot->at = (Google__Protobuf__Timestamp)GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    slot->at.seconds = at_ms / 1000;
    slot->at.nanos = (int32_t)(at_ms % 1000) * 1000000;
    ev->occurred_at = &slot->at;
    ev->kind_case = kind;

    switch (kind) {
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID:
        slot->paid = (Grading__V1__OrderPaid)GRADING__V1__ORDER_PAID__INIT;
        slot->paid.order_id = slot->order_id;
        slot->paid.product_id = slot->product_id;
        slot->paid.amount = s->amount;
        slot->paid.currency = BENCH_CURRENCY;
        slot->paid.ship_within_days = 1 + bench_rng_below(&s->rng, 3);
        slot->paid.overseas = bench_rng_below(&s->rng, 50) == 0;
        ev->order_paid = &slot->paid;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_SHIPPED:
        slot->shipped = (Grading__V1__OrderShipped)GRADING__V1__ORDER_SHIPPED__INIT;
        slot->shipped.order_id = slot->order_id;
        slot->shipped.tracking_valid = bench_rng_below(&s->rng, 100) != 0;
        ev->order_shipped = &slot->shipped;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_DELIVERED:
        slot->delivered = (Grading__V1__OrderDelivered)GRADING__V1__ORDER_DELIVERED__INIT;
        slot->delivered.order_id = slot->order_id;
        slot->delivered.auto_completed = bench_rng_below(&s->rng, 10) == 0;
        ev->order_delivered = &slot->delivered;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_CANCELLED: {
        bool sellers_fault = bench_rng_below(&s->rng, 3) == 0;
        slot->cancelled = (Grading__V1__OrderCancelled)GRADING__V1__ORDER_CANCELLED__INIT;
        slot->cancelled.order_id = slot->order_id;
        slot->cancelled.fault = sellers_fault ? GRADING__V1__FAULT__FAULT_SELLER : GRADING__V1__FAULT__FAULT_BUYER;
        slot->cancelled.reason =
            sellers_fault ? GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK : GRADING__V1__CANCEL_REASON__CANCEL_REASON_BUYER_REQUEST;
        ev->order_cancelled = &slot->cancelled;
        break;
    }
    case GRADING__V1__SELLER_EVENT__KIND_ORDER_RETURNED:
        slot->returned = (Grading__V1__OrderReturned)GRADING__V1__ORDER_RETURNED__INIT;
        slot->returned.order_id = slot->order_id;
        slot->returned.fault =
            bench_rng_below(&s->rng, 4) == 0 ? GRADING__V1__FAULT__FAULT_SELLER : GRADING__V1__FAULT__FAULT_BUYER;
        ev->order_returned = &slot->returned;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_NON_RECEIPT_REPORTED:
        slot->non_receipt = (Grading__V1__NonReceiptReported)GRADING__V1__NON_RECEIPT_REPORTED__INIT;
        slot->non_receipt.order_id = slot->order_id;
        ev->non_receipt_reported = &slot->non_receipt;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_INQUIRY_RECEIVED:
        slot->inquiry_rx = (Grading__V1__InquiryReceived)GRADING__V1__INQUIRY_RECEIVED__INIT;
        slot->inquiry_rx.inquiry_id = slot->inquiry_id;
        ev->inquiry_received = &slot->inquiry_rx;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_INQUIRY_ANSWERED:
        slot->inquiry_ans = (Grading__V1__InquiryAnswered)GRADING__V1__INQUIRY_ANSWERED__INIT;
        slot->inquiry_ans.inquiry_id = slot->inquiry_id;
        ev->inquiry_answered = &slot->inquiry_ans;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_BUYER_REVIEW:
        slot->review = (Grading__V1__BuyerReview)GRADING__V1__BUYER_REVIEW__INIT;
        slot->review.order_id = slot->order_id;
        slot->review.rating =
            s->story == ORDER_RETURNED ? 1 + bench_rng_below(&s->rng, 3) : 3 + bench_rng_below(&s->rng, 3);
        slot->review.recommendation = slot->review.rating >= 4 ? GRADING__V1__RECOMMENDATION__RECOMMENDATION_RECOMMEND
                                                               : GRADING__V1__RECOMMENDATION__RECOMMENDATION_NOT_RECOMMENDED;
        ev->buyer_review = &slot->review;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_DELIVERY_SATISFACTION:
        slot->satisfaction = (Grading__V1__DeliverySatisfaction)GRADING__V1__DELIVERY_SATISFACTION__INIT;
        slot->satisfaction.order_id = slot->order_id;
        slot->satisfaction.score = 60 + bench_rng_below(&s->rng, 41);
        ev->delivery_satisfaction = &slot->satisfaction;
        break;
    case GRADING__V1__SELLER_EVENT__KIND_PLATFORM_REVENUE:
        slot->revenue = (Grading__V1__PlatformRevenue)GRADING__V1__PLATFORM_REVENUE__INIT;
        slot->revenue.amount = s->amount / 10;
        slot->revenue.currency = BENCH_CURRENCY;
        ev->platform_revenue = &slot->revenue;
        break;
    default:
        break;   /* every story names one of the kinds above */
    }
}
