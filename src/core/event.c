/* Event validation: every rule of API.md for one SellerEvent.
 *
 * The first broken rule decides the error, and its field is named with the
 * event's index and the proto JSON path ("events[3].order_paid.amount"),
 * so a producer can find the bad value without reading our code. */
#include "grading/event.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "grading/text.h"

const char *grading_event_kind_name(grading_event_kind_t kind)
{
    switch (kind) {
    case GRADING_EV_ORDER_PAID: return "order_paid";
    case GRADING_EV_ORDER_SHIPPED: return "order_shipped";
    case GRADING_EV_ORDER_DELIVERED: return "order_delivered";
    case GRADING_EV_ORDER_CANCELLED: return "order_cancelled";
    case GRADING_EV_ORDER_RETURNED: return "order_returned";
    case GRADING_EV_ORDER_EXCHANGED: return "order_exchanged";
    case GRADING_EV_NON_RECEIPT: return "non_receipt_reported";
    case GRADING_EV_INQUIRY_RECEIVED: return "inquiry_received";
    case GRADING_EV_INQUIRY_ANSWERED: return "inquiry_answered";
    case GRADING_EV_BUYER_REVIEW: return "buyer_review";
    case GRADING_EV_DELIVERY_SATISFACTION: return "delivery_satisfaction";
    case GRADING_EV_PLATFORM_REVENUE: return "platform_revenue";
    case GRADING_EV_CUSTOM: return "custom";
    case GRADING_EV_NONE: break;
    }
    return "";
}

bool grading_event_is_order(grading_event_kind_t kind)
{
    return kind >= GRADING_EV_ORDER_PAID && kind <= GRADING_EV_NON_RECEIPT;
}

/* Fails with "events[i].<kind>.<name>" or "events[i].<name>" when kind is NULL. */
#define FAIL(kind, name, ...)                                                     \
    do {                                                                          \
        char field_[GRADING_ERROR_FIELD_MAX];                                     \
        field_path(field_, sizeof field_, index, (kind), (name));                 \
        return grading_error_set(e, GRADING_EINVAL, field_, __VA_ARGS__);         \
    } while (0)

static void field_path(char *buf, size_t len, uint32_t index, const char *kind, const char *name)
{
    if (kind)
        snprintf(buf, len, "events[%u].%s.%s", index, kind, name);
    else
        snprintf(buf, len, "events[%u].%s", index, name);
}

/* Empty means the marketplace's (grading_event_check_context). */
static bool currency_ok(const char *s)
{
    if (!s || !s[0]) return true;
    if (strlen(s) != 3) return false;
    for (int i = 0; i < 3; i++)
        if (s[i] < 'A' || s[i] > 'Z') return false;
    return true;
}

static bool fault_ok(int32_t f)
{
    return f >= GRADING_FAULT_SELLER && f <= GRADING_FAULT_PLATFORM;
}

static grading_err_t check_id(const char *kind, const char *name, const char *s, size_t max,
                              uint32_t index, grading_error_t *e)
{
    size_t at;
    const char *why = grading_id_problem(s, s ? strlen(s) : 0, max, &at);
    if (why) FAIL(kind, name, "%s (ids are 1..%zu bytes of printable ASCII, 0x21..0x7E)", why, max);
    return GRADING_OK;
}

static grading_err_t check_time(const char *kind, const char *name, int64_t ms, uint32_t index,
                                grading_error_t *e)
{
    if (ms < GRADING_MIN_TIME_MS || ms >= GRADING_MAX_TIME_MS)
        FAIL(kind, name, "must be between 2000-01-01 and 2100-01-01 UTC");
    return GRADING_OK;
}

static grading_err_t check_amount(const char *kind, int64_t amount, uint32_t index,
                                  grading_error_t *e)
{
    if (amount < 0) FAIL(kind, "amount", "must be >= 0, got %lld", (long long)amount);
    if (amount > GRADING_MAX_AMOUNT)
        FAIL(kind, "amount", "must be <= %lld, got %lld", (long long)GRADING_MAX_AMOUNT,
             (long long)amount);
    return GRADING_OK;
}

static grading_err_t check_currency(const char *kind, const char *cur, uint32_t index,
                                    grading_error_t *e)
{
    if (!currency_ok(cur))
        FAIL(kind, "currency", "must be a 3-letter ISO 4217 code like \"KRW\" or empty (the marketplace's), got \"%s\"",
             cur ? cur : "");
    return GRADING_OK;
}

static grading_err_t check_kind(const grading_event_t *ev, uint32_t index, grading_error_t *e)
{
    const char *k = grading_event_kind_name(ev->kind);
    grading_err_t err = GRADING_OK;

    switch (ev->kind) {
    case GRADING_EV_ORDER_PAID:
        if ((err = check_id(k, "order_id", ev->ref_id, GRADING_MAX_ID_LEN, index, e))) return err;
        if ((err = check_id(k, "product_id", ev->product_id, GRADING_MAX_ID_LEN, index, e)))
            return err;
        if ((err = check_amount(k, ev->amount, index, e))) return err;
        if ((err = check_currency(k, ev->currency, index, e))) return err;
        if (ev->ship_within_days > 365)
            FAIL(k, "ship_within_days", "must be <= 365, got %u", ev->ship_within_days);
        if (ev->reserved_ship_ms) {
            if ((err = check_time(k, "reserved_ship_date", ev->reserved_ship_ms, index, e)))
                return err;
        }
        return GRADING_OK;
    case GRADING_EV_ORDER_SHIPPED:
    case GRADING_EV_ORDER_DELIVERED:
    case GRADING_EV_NON_RECEIPT:
        return check_id(k, "order_id", ev->ref_id, GRADING_MAX_ID_LEN, index, e);
    case GRADING_EV_ORDER_CANCELLED:
        if ((err = check_id(k, "order_id", ev->ref_id, GRADING_MAX_ID_LEN, index, e))) return err;
        if (!fault_ok(ev->fault)) FAIL(k, "fault", "must be SELLER, BUYER or PLATFORM");
        if (ev->reason < GRADING_REASON_OUT_OF_STOCK || ev->reason > GRADING_REASON_OTHER)
            FAIL(k, "reason", "must be OUT_OF_STOCK, SHIPPING_DELAY, BUYER_REQUEST or OTHER");
        return GRADING_OK;
    case GRADING_EV_ORDER_RETURNED:
    case GRADING_EV_ORDER_EXCHANGED:
        if ((err = check_id(k, "order_id", ev->ref_id, GRADING_MAX_ID_LEN, index, e))) return err;
        if (!fault_ok(ev->fault)) FAIL(k, "fault", "must be SELLER, BUYER or PLATFORM");
        return GRADING_OK;
    case GRADING_EV_INQUIRY_RECEIVED:
    case GRADING_EV_INQUIRY_ANSWERED:
        return check_id(k, "inquiry_id", ev->ref_id, GRADING_MAX_ID_LEN, index, e);
    case GRADING_EV_BUYER_REVIEW:
        if ((err = check_id(k, "order_id", ev->ref_id, GRADING_MAX_ID_LEN, index, e))) return err;
        if (ev->rating < 1 || ev->rating > 5)
            FAIL(k, "rating", "must be 1..5, got %u", ev->rating);
        if (ev->shipping_rating > 5)
            FAIL(k, "shipping_rating", "must be 1..5, or 0 when not rated, got %u", ev->shipping_rating);
        if (ev->inquiry_rating > 5)
            FAIL(k, "inquiry_rating", "must be 1..5, or 0 when not rated, got %u", ev->inquiry_rating);
        if (ev->recommendation < GRADING_REC_UNSPECIFIED ||
            ev->recommendation > GRADING_REC_NOT_RECOMMENDED)
            FAIL(k, "recommendation",
                 "must be STRONGLY_RECOMMEND, RECOMMEND, NOT_RECOMMENDED or unset");
        return GRADING_OK;
    case GRADING_EV_DELIVERY_SATISFACTION:
        if ((err = check_id(k, "order_id", ev->ref_id, GRADING_MAX_ID_LEN, index, e))) return err;
        if (ev->score > 100) FAIL(k, "score", "must be 0..100, got %u", ev->score);
        return GRADING_OK;
    case GRADING_EV_PLATFORM_REVENUE:
        if ((err = check_amount(k, ev->amount, index, e))) return err;
        return check_currency(k, ev->currency, index, e);
    case GRADING_EV_CUSTOM:
        if ((err = check_id(k, "name", ev->name, GRADING_MAX_CUSTOM_NAME_LEN, index, e)))
            return err;
        if (!isfinite(ev->value) || fabs(ev->value) > GRADING_MAX_CUSTOM_VALUE)
            FAIL(k, "value", "must be a finite number of magnitude at most %g", GRADING_MAX_CUSTOM_VALUE);
        return GRADING_OK;
    case GRADING_EV_NONE:
        break;
    }
    FAIL(NULL, "kind", "one event kind is required (order_paid, order_shipped, ...)");
}

grading_err_t grading_event_validate(const grading_event_t *ev, uint32_t index, grading_error_t *e)
{
    grading_err_t err;
    if ((err = check_id(NULL, "event_id", ev->event_id, GRADING_MAX_ID_LEN, index, e))) return err;
    if (ev->marketplace && ev->marketplace[0]) {
        if ((err = check_id(NULL, "marketplace", ev->marketplace, GRADING_MAX_MARKETPLACE_LEN,
                            index, e)))
            return err;
    }
    if ((err = check_id(NULL, "seller_id", ev->seller_id, GRADING_MAX_ID_LEN, index, e)))
        return err;
    if (!ev->has_occurred_at) FAIL(NULL, "occurred_at", "is required");
    if (ev->occurred_nanos < 0 || ev->occurred_nanos > 999999999)
        FAIL(NULL, "occurred_at", "nanos must be 0..999999999");
    if ((err = check_time(NULL, "occurred_at", ev->occurred_ms, index, e))) return err;
    return check_kind(ev, index, e);
}

grading_err_t grading_events_validate(const grading_event_t *evs, uint32_t n, grading_error_t *e)
{
    if (n == 0) return grading_error_set(e, GRADING_EINVAL, "events", "at least one event is required");
    if (n > GRADING_MAX_EVENTS_PER_CALL)
        return grading_error_set(e, GRADING_EFULL, "events",
                                 "at most %d events per call, got %u",
                                 GRADING_MAX_EVENTS_PER_CALL, n);
    for (uint32_t i = 0; i < n; i++) {
        grading_err_t err = grading_event_validate(&evs[i], i, e);
        if (err) return err;
    }
    return GRADING_OK;
}

grading_err_t grading_event_check_context(const grading_event_t *ev, uint32_t index,
                                          const grading_event_context_t *ctx, grading_error_t *e)
{
    const char *k = grading_event_kind_name(ev->kind);
    if (ev->kind == GRADING_EV_ORDER_PAID || ev->kind == GRADING_EV_PLATFORM_REVENUE) {
        if (ev->currency && ev->currency[0] && strcmp(ev->currency, ctx->currency) != 0)
            FAIL(k, "currency", "is \"%s\" but marketplace \"%s\" trades in \"%s\" (send it or leave it empty)",
                 ev->currency, ctx->marketplace, ctx->currency);
    }
    if (ev->occurred_ms > ctx->now_ms && ev->occurred_ms - ctx->now_ms > ctx->max_future_skew_ms) {
        char field_[GRADING_ERROR_FIELD_MAX];
        field_path(field_, sizeof field_, index, NULL, "occurred_at");
        return grading_error_set(e, GRADING_ERANGE, field_,
                                 "is %lld s ahead of the server's clock; at most %lld s is accepted",
                                 (long long)((ev->occurred_ms - ctx->now_ms + 999) / 1000),
                                 (long long)(ctx->max_future_skew_ms / 1000));
    }
    if (ctx->max_past_ms > 0 && ev->occurred_ms < ctx->now_ms - ctx->max_past_ms) {
        char field_[GRADING_ERROR_FIELD_MAX];
        field_path(field_, sizeof field_, index, NULL, "occurred_at");
        return grading_error_set(e, GRADING_ERANGE, field_,
                                 "is %lld days behind the server's clock, past the dedup horizon of %lld days "
                                 "(a replay that old would not be deduplicated); load history with backfill_id",
                                 (long long)((ctx->now_ms - ev->occurred_ms) / 86400000),
                                 (long long)(ctx->max_past_ms / 86400000));
    }
    return GRADING_OK;
}
