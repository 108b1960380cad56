/* Daily counters and the contributions that events make to them.
 *
 * A record's contributions are a pure function of the record, so applying
 * an event is "minus what the record implied before, plus what it implies
 * now". Arrival order and retries then cannot change the totals. Where a
 * counter is a numerator of a rate, it lands on the same day as its
 * denominator (answered-within-24h on the day the inquiry arrived,
 * shipped-on-time on the day it shipped), so a window's ratio is sound. */
#include "grading/counters.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "grading/rules.h"

/* The bound keeps every window's sum in range, so reads never overflow. */
_Static_assert(GRADING_WINDOW_MAX_DAYS <= 1024, "a window's sum of day counters could overflow");

static const char *const counter_names[GRADING_C_COUNT] = {
    [GRADING_C_ORDERS] = "orders",
    [GRADING_C_GMV] = "gmv",
    [GRADING_C_SHIPPED] = "shipped",
    [GRADING_C_SHIPPED_ON_TIME] = "shipped_on_time",
    [GRADING_C_SHIPPED_TRACKING_VALID] = "shipped_tracking_valid",
    [GRADING_C_DELIVERED] = "delivered",
    [GRADING_C_AUTO_COMPLETED] = "auto_completed",
    [GRADING_C_CANCELS] = "cancels",
    [GRADING_C_CANCELS_SELLER_FAULT] = "cancels_seller_fault",
    [GRADING_C_CANCELS_BUYER_FAULT] = "cancels_buyer_fault",
    [GRADING_C_CANCELS_PLATFORM_FAULT] = "cancels_platform_fault",
    [GRADING_C_CANCELS_OUT_OF_STOCK] = "cancels_out_of_stock",
    [GRADING_C_CANCELS_SHIPPING_DELAY] = "cancels_shipping_delay",
    [GRADING_C_CANCELS_BUYER_REQUEST] = "cancels_buyer_request",
    [GRADING_C_CANCELS_OTHER] = "cancels_other",
    [GRADING_C_RETURNS] = "returns",
    [GRADING_C_RETURNS_SELLER_FAULT] = "returns_seller_fault",
    [GRADING_C_EXCHANGES] = "exchanges",
    [GRADING_C_EXCHANGES_SELLER_FAULT] = "exchanges_seller_fault",
    [GRADING_C_NON_RECEIPTS] = "non_receipts",
    [GRADING_C_INQUIRIES] = "inquiries",
    [GRADING_C_INQUIRIES_ANSWERED] = "inquiries_answered",
    [GRADING_C_INQUIRIES_ANSWERED_24H] = "inquiries_answered_24h",
    [GRADING_C_REVIEWS] = "reviews",
    [GRADING_C_RATING_SUM] = "rating_sum",
    [GRADING_C_STRONGLY_RECOMMEND] = "strongly_recommend",
    [GRADING_C_RECOMMEND] = "recommend",
    [GRADING_C_NOT_RECOMMENDED] = "not_recommended",
    [GRADING_C_DELIVERY_SATISFACTION_SUM] = "delivery_satisfaction_sum",
    [GRADING_C_DELIVERY_SATISFACTION_COUNT] = "delivery_satisfaction_count",
    [GRADING_C_PLATFORM_REVENUE] = "platform_revenue",
    [GRADING_C_SHIPPING_RATINGS] = "shipping_ratings",
    [GRADING_C_SHIPPING_RATING_SUM] = "shipping_rating_sum",
    [GRADING_C_INQUIRY_RATINGS] = "inquiry_ratings",
    [GRADING_C_INQUIRY_RATING_SUM] = "inquiry_rating_sum",
    [GRADING_C_ORPHANS_PENDING] = "orphans_pending",
    [GRADING_C_ORPHANS_DROPPED] = "orphans_dropped",
    [GRADING_C_CANCELS_UNSPECIFIED_FAULT_UNSPECIFIED] = "cancels_unspecified_fault_unspecified",
    [GRADING_C_CANCELS_UNSPECIFIED_FAULT_OUT_OF_STOCK] = "cancels_unspecified_fault_out_of_stock",
    [GRADING_C_CANCELS_UNSPECIFIED_FAULT_SHIPPING_DELAY] = "cancels_unspecified_fault_shipping_delay",
    [GRADING_C_CANCELS_UNSPECIFIED_FAULT_BUYER_REQUEST] = "cancels_unspecified_fault_buyer_request",
    [GRADING_C_CANCELS_UNSPECIFIED_FAULT_OTHER] = "cancels_unspecified_fault_other",
    [GRADING_C_CANCELS_SELLER_FAULT_UNSPECIFIED] = "cancels_seller_fault_unspecified",
    [GRADING_C_CANCELS_SELLER_FAULT_OUT_OF_STOCK] = "cancels_seller_fault_out_of_stock",
    [GRADING_C_CANCELS_SELLER_FAULT_SHIPPING_DELAY] = "cancels_seller_fault_shipping_delay",
    [GRADING_C_CANCELS_SELLER_FAULT_BUYER_REQUEST] = "cancels_seller_fault_buyer_request",
    [GRADING_C_CANCELS_SELLER_FAULT_OTHER] = "cancels_seller_fault_other",
    [GRADING_C_CANCELS_BUYER_FAULT_UNSPECIFIED] = "cancels_buyer_fault_unspecified",
    [GRADING_C_CANCELS_BUYER_FAULT_OUT_OF_STOCK] = "cancels_buyer_fault_out_of_stock",
    [GRADING_C_CANCELS_BUYER_FAULT_SHIPPING_DELAY] = "cancels_buyer_fault_shipping_delay",
    [GRADING_C_CANCELS_BUYER_FAULT_BUYER_REQUEST] = "cancels_buyer_fault_buyer_request",
    [GRADING_C_CANCELS_BUYER_FAULT_OTHER] = "cancels_buyer_fault_other",
    [GRADING_C_CANCELS_PLATFORM_FAULT_UNSPECIFIED] = "cancels_platform_fault_unspecified",
    [GRADING_C_CANCELS_PLATFORM_FAULT_OUT_OF_STOCK] = "cancels_platform_fault_out_of_stock",
    [GRADING_C_CANCELS_PLATFORM_FAULT_SHIPPING_DELAY] = "cancels_platform_fault_shipping_delay",
    [GRADING_C_CANCELS_PLATFORM_FAULT_BUYER_REQUEST] = "cancels_platform_fault_buyer_request",
    [GRADING_C_CANCELS_PLATFORM_FAULT_OTHER] = "cancels_platform_fault_other",
    [GRADING_C_RETURNS_BUYER_FAULT] = "returns_buyer_fault",
    [GRADING_C_RETURNS_PLATFORM_FAULT] = "returns_platform_fault",
    [GRADING_C_RETURNS_UNSPECIFIED_FAULT] = "returns_unspecified_fault",
    [GRADING_C_EXCHANGES_BUYER_FAULT] = "exchanges_buyer_fault",
    [GRADING_C_EXCHANGES_PLATFORM_FAULT] = "exchanges_platform_fault",
    [GRADING_C_EXCHANGES_UNSPECIFIED_FAULT] = "exchanges_unspecified_fault",
};

const char *grading_counter_name(grading_counter_t c)
{
    if ((int)c < 0 || c >= GRADING_C_COUNT) return NULL;
    return counter_names[c];
}

void grading_day_counters_init(grading_day_counters_t *d)
{
    memset(d->c, 0, sizeof d->c);
    d->ncustom = 0;
}

bool grading_counter_add_ok(int64_t a, int64_t b, int64_t limit, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r) || r > limit || r < -limit) return false;
    *out = r;
    return true;
}

static bool custom_sum_ok(double a, double b, double limit, double *out)
{
    double r = a + b;
    if (!isfinite(r) || fabs(r) > limit) return false;
    *out = r;
    return true;
}

/* Adds v to the custom counter name, checked against limit. */
static grading_err_t custom_add(grading_day_counters_t *d, const char *name, double v, double limit)
{
    for (uint32_t i = 0; i < d->ncustom; i++) {
        if (strcmp(d->custom[i].name, name) == 0) {
            if (!custom_sum_ok(d->custom[i].value, v, limit, &d->custom[i].value))
                return GRADING_ERANGE;
            return GRADING_OK;
        }
    }
    if (!isfinite(v) || fabs(v) > limit) return GRADING_ERANGE;
    if (d->ncustom >= GRADING_MAX_CUSTOM_PER_DAY) return GRADING_EFULL;
    grading_custom_value_t *cv = &d->custom[d->ncustom++];
    snprintf(cv->name, sizeof cv->name, "%s", name);
    cv->value = v;
    return GRADING_OK;
}

grading_err_t grading_day_counters_apply(grading_day_counters_t *d, const grading_contrib_t *k)
{
    if (k->custom) return custom_add(d, k->custom, k->fvalue, GRADING_MAX_DAY_CUSTOM);
    if ((int)k->counter < 0 || k->counter >= GRADING_C_COUNT) return GRADING_EINVAL;
    if (!grading_counter_add_ok(d->c[k->counter], k->delta, GRADING_MAX_DAY_COUNTER, &d->c[k->counter]))
        return GRADING_ERANGE;
    return GRADING_OK;
}

grading_err_t grading_day_counters_add(grading_day_counters_t *acc, const grading_day_counters_t *d)
{
    /* Each day is bounded (GRADING_MAX_DAY_COUNTER), so a window cannot
     * overflow; checked anyway, as a record may predate the bound. */
    for (int i = 0; i < GRADING_C_COUNT; i++)
        if (!grading_counter_add_ok(acc->c[i], d->c[i], INT64_MAX, &acc->c[i])) return GRADING_ERANGE;
    for (uint32_t i = 0; i < d->ncustom; i++) {
        grading_err_t err = custom_add(acc, d->custom[i].name, d->custom[i].value, DBL_MAX);
        if (err) return err;
    }
    return GRADING_OK;
}

double grading_day_counters_custom(const grading_day_counters_t *d, const char *name)
{
    for (uint32_t i = 0; i < d->ncustom; i++)
        if (strcmp(d->custom[i].name, name) == 0) return d->custom[i].value;
    return 0.0;
}

/* Appends one contribution; the caller checks the overflow flag once. */
typedef struct {
    grading_contrib_t *out;
    size_t cap, *n;
    bool overflow;
} sink_t;

static void emit(sink_t *s, int32_t day, grading_counter_t c, int64_t delta)
{
    if (*s->n >= s->cap) {
        s->overflow = true;
        return;
    }
    s->out[(*s->n)++] = (grading_contrib_t){.day = day, .counter = c, .delta = delta};
}

static void emit_custom(sink_t *s, int32_t day, const char *name, double v)
{
    if (*s->n >= s->cap) {
        s->overflow = true;
        return;
    }
    s->out[(*s->n)++] = (grading_contrib_t){.day = day, .custom = name, .fvalue = v};
}

static grading_counter_t fault_counter(int32_t fault, grading_counter_t seller,
                                       grading_counter_t buyer, grading_counter_t platform)
{
    if (fault == GRADING_FAULT_SELLER) return seller;
    if (fault == GRADING_FAULT_BUYER) return buyer;
    if (fault == GRADING_FAULT_PLATFORM) return platform;
    return GRADING_C_COUNT;   /* unspecified: counted in the total only */
}

static grading_counter_t reason_counter(int32_t reason)
{
    switch (reason) {
    case GRADING_REASON_OUT_OF_STOCK: return GRADING_C_CANCELS_OUT_OF_STOCK;
    case GRADING_REASON_SHIPPING_DELAY: return GRADING_C_CANCELS_SHIPPING_DELAY;
    case GRADING_REASON_BUYER_REQUEST: return GRADING_C_CANCELS_BUYER_REQUEST;
    case GRADING_REASON_OTHER: return GRADING_C_CANCELS_OTHER;
    default: return GRADING_C_COUNT;
    }
}

bool grading_order_shipped_on_time(const grading_order_t *o, const grading_tz_t *tz)
{
    if (!o->paid_ms || !o->shipped_ms) return false;
    int32_t shipped = grading_tz_day(tz, o->shipped_ms);
    if (o->reserved_ship_ms) return shipped <= grading_tz_day(tz, o->reserved_ship_ms);
    uint32_t promised = o->ship_within_days ? o->ship_within_days
                                            : GRADING_DEFAULT_SHIP_WITHIN_DAYS;
    return shipped - grading_tz_day(tz, o->paid_ms) <= (int64_t)promised;
}

/* A review or score held while the order was unpaid counts as its event
 * would have (grading_event_contribs), with sign. */
static void held_contribs(sink_t *s, const grading_order_t *o, const grading_tz_t *tz, int sign)
{
    grading_event_t evs[2];
    size_t nev = 0;
    if (o->review_ms)
        evs[nev++] = (grading_event_t){.kind = GRADING_EV_BUYER_REVIEW, .occurred_ms = o->review_ms,
                                       .rating = o->rating, .recommendation = o->recommendation,
                                       .shipping_rating = o->shipping_rating, .inquiry_rating = o->inquiry_rating};
    if (o->satisfaction_ms)
        evs[nev++] = (grading_event_t){.kind = GRADING_EV_DELIVERY_SATISFACTION, .occurred_ms = o->satisfaction_ms,
                                       .score = o->score};
    for (size_t i = 0; i < nev; i++) {
        grading_contrib_t ks[8];
        size_t nk = 0;
        if (grading_event_contribs(&evs[i], tz, ks, 8, &nk)) {
            s->overflow = true;
            return;
        }
        for (size_t k = 0; k < nk; k++) emit(s, ks[k].day, ks[k].counter, sign * ks[k].delta);
    }
}

grading_err_t grading_order_cell_contribs(const grading_order_t *o, const grading_tz_t *tz, int sign,
                                          grading_contrib_t *out, size_t cap, size_t *n)
{
    sink_t s = {out, cap, n, false};
    if (grading_order_is_orphan(o)) return GRADING_OK;   /* held: counts nowhere yet */
    if (o->cancelled_ms)
        emit(&s, grading_tz_day(tz, o->cancelled_ms), grading_cancel_cell(o->cancel_fault, o->cancel_reason),
             sign);
    if (o->returned_ms) emit(&s, grading_tz_day(tz, o->returned_ms), grading_return_cell(o->return_fault), sign);
    if (o->exchanged_ms)
        emit(&s, grading_tz_day(tz, o->exchanged_ms), grading_exchange_cell(o->exchange_fault), sign);
    return s.overflow ? GRADING_EFULL : GRADING_OK;
}

grading_err_t grading_order_contribs(const grading_order_t *o, const grading_tz_t *tz, int sign,
                                     grading_contrib_t *out, size_t cap, size_t *n)
{
    sink_t s = {out, cap, n, false};
    if (grading_order_is_orphan(o)) {
        /* held: no rate sees it until the payment arrives */
        emit(&s, grading_tz_day(tz, grading_order_first_lifecycle_ms(o)), GRADING_C_ORPHANS_PENDING, sign);
        return s.overflow ? GRADING_EFULL : GRADING_OK;
    }
    if (o->paid_ms) {
        int32_t day = grading_tz_day(tz, o->paid_ms);
        emit(&s, day, GRADING_C_ORDERS, sign);
        emit(&s, day, GRADING_C_GMV, sign * o->amount);
    }
    if (o->shipped_ms) {
        int32_t day = grading_tz_day(tz, o->shipped_ms);
        emit(&s, day, GRADING_C_SHIPPED, sign);
        if (o->flags & GRADING_ORDER_TRACKING_VALID)
            emit(&s, day, GRADING_C_SHIPPED_TRACKING_VALID, sign);
        if (grading_order_shipped_on_time(o, tz)) emit(&s, day, GRADING_C_SHIPPED_ON_TIME, sign);
    }
    if (o->delivered_ms) {
        int32_t day = grading_tz_day(tz, o->delivered_ms);
        emit(&s, day, GRADING_C_DELIVERED, sign);
        if (o->flags & GRADING_ORDER_AUTO_COMPLETED) emit(&s, day, GRADING_C_AUTO_COMPLETED, sign);
    }
    if (o->cancelled_ms) {
        int32_t day = grading_tz_day(tz, o->cancelled_ms);
        emit(&s, day, GRADING_C_CANCELS, sign);
        grading_counter_t f = fault_counter(o->cancel_fault, GRADING_C_CANCELS_SELLER_FAULT,
                                            GRADING_C_CANCELS_BUYER_FAULT,
                                            GRADING_C_CANCELS_PLATFORM_FAULT);
        if (f != GRADING_C_COUNT) emit(&s, day, f, sign);
        grading_counter_t r = reason_counter(o->cancel_reason);
        if (r != GRADING_C_COUNT) emit(&s, day, r, sign);
    }
    if (o->returned_ms) emit(&s, grading_tz_day(tz, o->returned_ms), GRADING_C_RETURNS, sign);
    if (o->exchanged_ms) emit(&s, grading_tz_day(tz, o->exchanged_ms), GRADING_C_EXCHANGES, sign);
    if (grading_order_cell_contribs(o, tz, sign, out, cap, n)) s.overflow = true;
    if (o->non_receipt_ms) emit(&s, grading_tz_day(tz, o->non_receipt_ms), GRADING_C_NON_RECEIPTS, sign);
    if (o->paid_ms) held_contribs(&s, o, tz, sign);
    return s.overflow ? GRADING_EFULL : GRADING_OK;
}

grading_err_t grading_inquiry_contribs(const grading_inquiry_t *q, const grading_tz_t *tz,
                                       int sign, grading_contrib_t *out, size_t cap, size_t *n)
{
    sink_t s = {out, cap, n, false};
    if (q->received_ms) {
        int32_t day = grading_tz_day(tz, q->received_ms);
        emit(&s, day, GRADING_C_INQUIRIES, sign);
        if (q->answered_ms && q->answered_ms - q->received_ms <= GRADING_INQUIRY_ANSWER_MS)
            emit(&s, day, GRADING_C_INQUIRIES_ANSWERED_24H, sign);
    }
    if (q->answered_ms)
        emit(&s, grading_tz_day(tz, q->answered_ms), GRADING_C_INQUIRIES_ANSWERED, sign);
    return s.overflow ? GRADING_EFULL : GRADING_OK;
}

grading_err_t grading_event_contribs(const grading_event_t *ev, const grading_tz_t *tz,
                                     grading_contrib_t *out, size_t cap, size_t *n)
{
    sink_t s = {out, cap, n, false};
    int32_t day = grading_tz_day(tz, ev->occurred_ms);
    switch (ev->kind) {
    case GRADING_EV_BUYER_REVIEW:
        emit(&s, day, GRADING_C_REVIEWS, 1);
        emit(&s, day, GRADING_C_RATING_SUM, ev->rating);
        if (ev->shipping_rating) {
            emit(&s, day, GRADING_C_SHIPPING_RATINGS, 1);
            emit(&s, day, GRADING_C_SHIPPING_RATING_SUM, ev->shipping_rating);
        }
        if (ev->inquiry_rating) {
            emit(&s, day, GRADING_C_INQUIRY_RATINGS, 1);
            emit(&s, day, GRADING_C_INQUIRY_RATING_SUM, ev->inquiry_rating);
        }
        if (ev->recommendation == GRADING_REC_STRONGLY_RECOMMEND)
            emit(&s, day, GRADING_C_STRONGLY_RECOMMEND, 1);
        else if (ev->recommendation == GRADING_REC_RECOMMEND)
            emit(&s, day, GRADING_C_RECOMMEND, 1);
        else if (ev->recommendation == GRADING_REC_NOT_RECOMMENDED)
            emit(&s, day, GRADING_C_NOT_RECOMMENDED, 1);
        break;
    case GRADING_EV_DELIVERY_SATISFACTION:
        emit(&s, day, GRADING_C_DELIVERY_SATISFACTION_SUM, ev->score);
        emit(&s, day, GRADING_C_DELIVERY_SATISFACTION_COUNT, 1);
        break;
    case GRADING_EV_PLATFORM_REVENUE:
        emit(&s, day, GRADING_C_PLATFORM_REVENUE, ev->amount);
        break;
    case GRADING_EV_CUSTOM:
        emit_custom(&s, day, ev->name, ev->value);
        break;
    default:
        break;
    }
    return s.overflow ? GRADING_EFULL : GRADING_OK;
}
