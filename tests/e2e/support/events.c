/* Building SellerEvents and calling the service, for the end-to-end tests.
 *
 * Design: each event lives in one allocation (a "box") holding the
 * SellerEvent, its Timestamp and its kind's sub-message, plus copies of
 * the strings it points to. The SellerEvent is the box's first member, so
 * the batch keeps plain SellerEvent pointers (what RecordEventsRequest
 * wants) and frees the box through them. Nothing here is freed by
 * protobuf-c: the messages are never unpacked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "grading/pbjson.h"

#define SVC "/grading.v1.GradingService/"
#define BOX_MAX_STRS 8

typedef struct {
    Grading__V1__SellerEvent ev;   /* first: the box's address is the event's */
    Google__Protobuf__Timestamp ts;
    union {
        Grading__V1__OrderPaid paid;
        Grading__V1__OrderShipped shipped;
        Grading__V1__OrderDelivered delivered;
        Grading__V1__OrderCancelled cancelled;
        Grading__V1__OrderReturned returned;
        Grading__V1__OrderExchanged exchanged;
        Grading__V1__NonReceiptReported non_receipt;
        Grading__V1__InquiryReceived inq_received;
        Grading__V1__InquiryAnswered inq_answered;
        Grading__V1__BuyerReview review;
        Grading__V1__DeliverySatisfaction satisfaction;
        Grading__V1__PlatformRevenue revenue;
        Grading__V1__CustomCounter custom;
    } k;
    char *strs[BOX_MAX_STRS];
    size_t nstrs;
} box_t;

static void die(const char *what)
{
    fprintf(stderr, "e2e: %s\n", what);
    abort();
}

void e2e_batch_init(e2e_batch_t *b)
{
    memset(b, 0, sizeof *b);
}

void e2e_batch_destroy(e2e_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        box_t *box = (box_t *)b->ev[i];
        for (size_t s = 0; s < box->nstrs; s++) free(box->strs[s]);
        free(box);
    }
    free(b->ev);
    memset(b, 0, sizeof *b);
}

int64_t e2e_time_ms(const char *rfc3339)
{
    int64_t secs;
    int32_t nanos;
    grading_error_t e = {0};
    if (grading_pbjson_timestamp_parse(rfc3339, &secs, &nanos, &e)) {
        fprintf(stderr, "e2e: bad time \"%s\": %s\n", rfc3339, e.message);
        abort();
    }
    return secs * 1000 + nanos / 1000000;
}

/* A copy owned by the box; NULL stays "unset" (the empty string). */
static char *box_str(box_t *box, const char *s)
{
    if (!s) return (char *)protobuf_c_empty_string;
    if (box->nstrs >= BOX_MAX_STRS) die("too many strings in one event");
    char *c = strdup(s);
    if (!c) die("out of memory");
    box->strs[box->nstrs++] = c;
    return c;
}

static box_t *box_of(Grading__V1__SellerEvent *ev)
{
    return (box_t *)ev;
}

Grading__V1__SellerEvent *e2e_add_event(e2e_batch_t *b, const char *event_id, const char *marketplace,
                                        const char *seller, const char *when)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        Grading__V1__SellerEvent **grown = realloc(b->ev, cap * sizeof *grown);
        if (!grown) die("out of memory");
        b->ev = grown;
        b->cap = cap;
    }
    box_t *box = calloc(1, sizeof *box);
    if (!box) die("out of memory");
    grading__v1__seller_event__init(&box->ev);
    box->ev.event_id = box_str(box, event_id);
    box->ev.marketplace = box_str(box, marketplace);
    box->ev.seller_id = box_str(box, seller);
    if (when) {
        int64_t ms = e2e_time_ms(when);
        google__protobuf__timestamp__init(&box->ts);
        box->ts.seconds = ms / 1000;
        box->ts.nanos = (int32_t)(ms % 1000) * 1000000;
        box->ev.occurred_at = &box->ts;
    }
    b->ev[b->n++] = &box->ev;
    return &box->ev;
}

Grading__V1__SellerEvent *e2e_add_paid(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                       const char *when, const char *order_id, int64_t amount,
                                       const char *currency, uint32_t ship_within_days)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__OrderPaid *k = &box->k.paid;
    grading__v1__order_paid__init(k);
    k->order_id = box_str(box, order_id);
    k->product_id = box_str(box, "p-1");
    k->amount = amount;
    k->currency = box_str(box, currency);
    k->ship_within_days = ship_within_days;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID;
    ev->order_paid = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_shipped(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                          const char *when, const char *order_id, bool tracking_valid)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__OrderShipped *k = &box->k.shipped;
    grading__v1__order_shipped__init(k);
    k->order_id = box_str(box, order_id);
    k->tracking_valid = tracking_valid;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_ORDER_SHIPPED;
    ev->order_shipped = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_delivered(e2e_batch_t *b, const char *id, const char *mp,
                                            const char *seller, const char *when, const char *order_id,
                                            bool auto_completed)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__OrderDelivered *k = &box->k.delivered;
    grading__v1__order_delivered__init(k);
    k->order_id = box_str(box, order_id);
    k->auto_completed = auto_completed;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_ORDER_DELIVERED;
    ev->order_delivered = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_cancelled(e2e_batch_t *b, const char *id, const char *mp,
                                            const char *seller, const char *when, const char *order_id,
                                            Grading__V1__Fault fault, Grading__V1__CancelReason reason)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__OrderCancelled *k = &box->k.cancelled;
    grading__v1__order_cancelled__init(k);
    k->order_id = box_str(box, order_id);
    k->fault = fault;
    k->reason = reason;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_ORDER_CANCELLED;
    ev->order_cancelled = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_returned(e2e_batch_t *b, const char *id, const char *mp,
                                           const char *seller, const char *when, const char *order_id,
                                           Grading__V1__Fault fault)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__OrderReturned *k = &box->k.returned;
    grading__v1__order_returned__init(k);
    k->order_id = box_str(box, order_id);
    k->fault = fault;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_ORDER_RETURNED;
    ev->order_returned = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_exchanged(e2e_batch_t *b, const char *id, const char *mp,
                                            const char *seller, const char *when, const char *order_id,
                                            Grading__V1__Fault fault)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__OrderExchanged *k = &box->k.exchanged;
    grading__v1__order_exchanged__init(k);
    k->order_id = box_str(box, order_id);
    k->fault = fault;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_ORDER_EXCHANGED;
    ev->order_exchanged = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_non_receipt(e2e_batch_t *b, const char *id, const char *mp,
                                              const char *seller, const char *when, const char *order_id)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__NonReceiptReported *k = &box->k.non_receipt;
    grading__v1__non_receipt_reported__init(k);
    k->order_id = box_str(box, order_id);
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_NON_RECEIPT_REPORTED;
    ev->non_receipt_reported = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_inquiry_received(e2e_batch_t *b, const char *id, const char *mp,
                                                   const char *seller, const char *when,
                                                   const char *inquiry_id)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__InquiryReceived *k = &box->k.inq_received;
    grading__v1__inquiry_received__init(k);
    k->inquiry_id = box_str(box, inquiry_id);
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_INQUIRY_RECEIVED;
    ev->inquiry_received = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_inquiry_answered(e2e_batch_t *b, const char *id, const char *mp,
                                                   const char *seller, const char *when,
                                                   const char *inquiry_id)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__InquiryAnswered *k = &box->k.inq_answered;
    grading__v1__inquiry_answered__init(k);
    k->inquiry_id = box_str(box, inquiry_id);
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_INQUIRY_ANSWERED;
    ev->inquiry_answered = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_review(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                         const char *when, const char *order_id, uint32_t rating,
                                         Grading__V1__Recommendation rec)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__BuyerReview *k = &box->k.review;
    grading__v1__buyer_review__init(k);
    k->order_id = box_str(box, order_id);
    k->rating = rating;
    k->recommendation = rec;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_BUYER_REVIEW;
    ev->buyer_review = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_satisfaction(e2e_batch_t *b, const char *id, const char *mp,
                                               const char *seller, const char *when, const char *order_id,
                                               uint32_t score)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__DeliverySatisfaction *k = &box->k.satisfaction;
    grading__v1__delivery_satisfaction__init(k);
    k->order_id = box_str(box, order_id);
    k->score = score;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_DELIVERY_SATISFACTION;
    ev->delivery_satisfaction = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_revenue(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                          const char *when, int64_t amount, const char *currency)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__PlatformRevenue *k = &box->k.revenue;
    grading__v1__platform_revenue__init(k);
    k->amount = amount;
    k->currency = box_str(box, currency);
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_PLATFORM_REVENUE;
    ev->platform_revenue = k;
    return ev;
}

Grading__V1__SellerEvent *e2e_add_custom(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                         const char *when, const char *name, double value)
{
    Grading__V1__SellerEvent *ev = e2e_add_event(b, id, mp, seller, when);
    box_t *box = box_of(ev);
    Grading__V1__CustomCounter *k = &box->k.custom;
    grading__v1__custom_counter__init(k);
    k->name = box_str(box, name);
    k->value = value;
    ev->kind_case = GRADING__V1__SELLER_EVENT__KIND_CUSTOM;
    ev->custom = k;
    return ev;
}

/* ---- calls ---- */

grpc_status_code e2e_record(grading_client_t *c, Grading__V1__SellerEvent *const *evs, size_t n,
                            int64_t timeout_ms, e2e_reply_t *reply)
{
    Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    req.n_events = n;
    req.events = (Grading__V1__SellerEvent **)evs;   /* borrowed; req is not freed */
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    memset(reply, 0, sizeof *reply);
    grading_err_t err = grading_client_call(c, SVC "RecordEvents", &req.base,
                                            &grading__v1__record_events_response__descriptor, timeout_ms,
                                            &resp, &res);
    reply->completed = err == GRADING_OK;
    reply->status = err == GRADING_OK ? res.status : GRPC_STATUS_UNKNOWN;
    snprintf(reply->details, sizeof reply->details, "%s%s", err ? "client: " : "",
             res.details ? res.details : "");
    if (resp) {
        const Grading__V1__RecordEventsResponse *r = (const void *)resp;
        reply->accepted = r->accepted;
        reply->duplicates = r->duplicates;
        protobuf_c_message_free_unpacked(resp, NULL);
    }
    grading_call_result_destroy(&res);
    return reply->status;
}

void e2e_record_ok(grading_client_t *c, Grading__V1__SellerEvent *const *evs, size_t n,
                   uint32_t want_accepted, uint32_t want_duplicates)
{
    e2e_reply_t r;
    e2e_record(c, evs, n, E2E_RECORD_TIMEOUT_MS, &r);
    if (!r.completed || r.status != GRPC_STATUS_OK)
        fail_msg("RecordEvents of %zu events: expected OK, got %s: %s", n, grading_status_name(r.status),
                 r.details);
    if (r.accepted != want_accepted || r.duplicates != want_duplicates)
        fail_msg("RecordEvents of %zu events: expected accepted %u duplicates %u, got accepted %u duplicates %u",
                 n, want_accepted, want_duplicates, r.accepted, r.duplicates);
}

grpc_status_code e2e_metrics_try(grading_client_t *c, const char *mp, const char *seller, const char *as_of,
                                 Grading__V1__SellerMetrics **out, char *details, size_t details_len)
{
    Grading__V1__GetSellerMetricsRequest req = GRADING__V1__GET_SELLER_METRICS_REQUEST__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    if (mp) req.marketplace = (char *)mp;
    req.seller_id = (char *)seller;
    if (as_of) {
        int64_t ms = e2e_time_ms(as_of);
        ts.seconds = ms / 1000;
        ts.nanos = (int32_t)(ms % 1000) * 1000000;
        req.as_of = &ts;
    }
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    *out = NULL;
    grading_err_t err = grading_client_call(c, SVC "GetSellerMetrics", &req.base,
                                            &grading__v1__seller_metrics__descriptor, E2E_METRICS_TIMEOUT_MS,
                                            &resp, &res);
    grpc_status_code st = err ? GRPC_STATUS_UNKNOWN : res.status;
    if (details) snprintf(details, details_len, "%s%s", err ? "client: " : "", res.details ? res.details : "");
    if (st == GRPC_STATUS_OK && resp) *out = (Grading__V1__SellerMetrics *)resp;
    else if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
    return st;
}

Grading__V1__SellerMetrics *e2e_metrics(grading_client_t *c, const char *mp, const char *seller,
                                        const char *as_of)
{
    Grading__V1__SellerMetrics *m = NULL;
    char details[512];
    grpc_status_code st = e2e_metrics_try(c, mp, seller, as_of, &m, details, sizeof details);
    if (st != GRPC_STATUS_OK || !m)
        fail_msg("GetSellerMetrics(%s, %s, %s): expected OK, got %s: %s", mp ? mp : "\"\"", seller,
                 as_of ? as_of : "now", grading_status_name(st), details);
    return m;
}

void e2e_metrics_free(Grading__V1__SellerMetrics *m)
{
    if (m) protobuf_c_message_free_unpacked(&m->base, NULL);
}

bool e2e_metric_find(const Grading__V1__SellerMetrics *m, const char *name, const char *window, double *out)
{
    for (size_t i = 0; i < m->n_metrics; i++) {
        const Grading__V1__MetricValue *v = m->metrics[i];
        if (strcmp(v->name, name) == 0 && strcmp(v->window, window) == 0) {
            *out = v->value;
            return true;
        }
    }
    return false;
}

double e2e_metric(const Grading__V1__SellerMetrics *m, const char *name, const char *window)
{
    double v = 0;
    if (!e2e_metric_find(m, name, window, &v))
        fail_msg("seller %s: no metric \"%s\" in window \"%s\" (of %zu values)", m->seller_id, name, window,
                 m->n_metrics);
    return v;
}

void e2e_metrics_assert_same(const Grading__V1__SellerMetrics *a, const Grading__V1__SellerMetrics *b)
{
    if (a->n_metrics != b->n_metrics)
        fail_msg("seller %s has %zu metric values, seller %s has %zu", a->seller_id, a->n_metrics, b->seller_id,
                 b->n_metrics);
    for (size_t i = 0; i < a->n_metrics; i++) {
        const Grading__V1__MetricValue *v = a->metrics[i];
        double w = 0;
        if (!e2e_metric_find(b, v->name, v->window, &w))
            fail_msg("seller %s has %s/%s, seller %s has not", a->seller_id, v->name, v->window, b->seller_id);
        if (!(v->value == w || (isnan(v->value) && isnan(w))))
            fail_msg("%s/%s: seller %s has %g, seller %s has %g", v->name, v->window, a->seller_id, v->value,
                     b->seller_id, w);
    }
}

void e2e_assert_windows(const Grading__V1__SellerMetrics *m, const char *name, double d30, double d90,
                        double d365, double month)
{
    const char *windows[] = {"30d", "90d", "365d", "month"};
    const double want[] = {d30, d90, d365, month};
    for (size_t i = 0; i < 4; i++) {
        double got = e2e_metric(m, name, windows[i]);
        if (got != want[i])
            fail_msg("seller %s: %s in window %s: expected %g, got %g", m->seller_id, name, windows[i], want[i],
                     got);
    }
}

void e2e_assert_contains(const char *text, const char *needle)
{
    if (!text || !strstr(text, needle))
        fail_msg("expected the text to contain \"%s\"; the text was:\n%s", needle, text ? text : "(null)");
}
