/* grading_evidence_t -> ListMetricEventsResponse (evidence_pb.h). */
#include "evidence_pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "grading/tz.h"

#define EVIDENCE_PB_TIMES 10   /* an order's 8 times, or an inquiry's 2 */

static void day_text(int32_t day, char out[16])
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02u-%02u", (int)y, m, d);
}

/* Sets *field to the next free timestamp when ms is a time (0 = unset). */
static void set_time(Google__Protobuf__Timestamp **field, Google__Protobuf__Timestamp **next, int64_t ms)
{
    if (!ms) return;
    rpc_timestamp_set(*next, ms);
    *field = (*next)++;
}

static void order_stages(Grading__V1__OrderStages *pb, const grading_order_t *o, Google__Protobuf__Timestamp *ts)
{
    grading__v1__order_stages__init(pb);
    set_time(&pb->paid, &ts, o->paid_ms);
    set_time(&pb->shipped, &ts, o->shipped_ms);
    set_time(&pb->delivered, &ts, o->delivered_ms);
    set_time(&pb->cancelled, &ts, o->cancelled_ms);
    set_time(&pb->returned, &ts, o->returned_ms);
    set_time(&pb->exchanged, &ts, o->exchanged_ms);
    set_time(&pb->non_receipt, &ts, o->non_receipt_ms);
    set_time(&pb->reserved_ship_date, &ts, o->reserved_ship_ms);
    /* the core's fault and reason values are the proto's */
    pb->cancel_fault = (Grading__V1__Fault)o->cancel_fault;
    pb->cancel_reason = (Grading__V1__CancelReason)o->cancel_reason;
    pb->return_fault = (Grading__V1__Fault)o->return_fault;
    pb->exchange_fault = (Grading__V1__Fault)o->exchange_fault;
    pb->product_id = (char *)o->product_id;
    pb->amount = o->amount;
    pb->currency = (char *)o->currency;
    pb->ship_within_days = o->ship_within_days;
}

static void counters(rpc_evidence_pb_t *pb, const grading_evidence_t *ev)
{
    for (size_t i = 0; i < ev->ncounters; i++) {
        const grading_evidence_counter_t *c = &ev->counters[i];
        Grading__V1__CounterEvidence *o = &pb->counters[i];
        grading__v1__counter_evidence__init(o);
        if (c->custom) {
            snprintf(pb->custom_names[i], sizeof pb->custom_names[i], "custom.%s", c->custom);
            o->counter = pb->custom_names[i];
            o->custom_total = c->value_total;
        } else {
            o->counter = (char *)grading_counter_name(c->counter);
        }
        o->total = c->total;
        o->listed = c->listed;
        o->unlisted = c->unlisted;
        o->note = (char *)c->note;
        pb->counter_ptrs[i] = o;
    }
    pb->resp.counters = pb->counter_ptrs;
    pb->resp.n_counters = ev->ncounters;
}

grading_err_t rpc_evidence_pb_build(rpc_evidence_pb_t *pb, const grading_evidence_t *ev, const char *metric,
                                    int64_t as_of_ms)
{
    memset(pb, 0, sizeof *pb);
    size_t n = ev->nentries, nd = 0, nc = ev->ncounters;
    for (size_t i = 0; i < n; i++) nd += ev->entries[i].ncontribs;
    /* calloc(0) may give NULL: ask for one at least */
    pb->events = calloc(n + 1, sizeof *pb->events);
    pb->event_ptrs = calloc(n + 1, sizeof *pb->event_ptrs);
    pb->orders = calloc(n + 1, sizeof *pb->orders);
    pb->inquiries = calloc(n + 1, sizeof *pb->inquiries);
    pb->times = calloc((n + 1) * EVIDENCE_PB_TIMES, sizeof *pb->times);
    pb->deltas = calloc(nd + 1, sizeof *pb->deltas);
    pb->delta_ptrs = calloc(nd + 1, sizeof *pb->delta_ptrs);
    pb->days = calloc(nd + 2, sizeof *pb->days);
    pb->counters = calloc(nc + 1, sizeof *pb->counters);
    pb->counter_ptrs = calloc(nc + 1, sizeof *pb->counter_ptrs);
    pb->custom_names = calloc(nc + 1, sizeof *pb->custom_names);
    if (!pb->events || !pb->event_ptrs || !pb->orders || !pb->inquiries || !pb->times || !pb->deltas ||
        !pb->delta_ptrs || !pb->days || !pb->counters || !pb->counter_ptrs || !pb->custom_names) {
        rpc_evidence_pb_free(pb);
        return GRADING_ENOMEM;
    }
    Grading__V1__ListMetricEventsResponse *r = &pb->resp;
    grading__v1__list_metric_events_response__init(r);
    rpc_timestamp_set(&pb->as_of, as_of_ms);
    r->as_of = &pb->as_of;
    r->window = (char *)ev->window.name;
    day_text(ev->first_day, pb->days[nd]);
    day_text(ev->last_day, pb->days[nd + 1]);
    r->first_day = pb->days[nd];
    r->last_day = pb->days[nd + 1];
    grading__v1__metric_value__init(&pb->value);
    pb->value.name = (char *)metric;
    pb->value.value = ev->value.value;
    pb->value.numerator = ev->value.numerator;
    pb->value.denominator = ev->value.denominator;
    pb->value.window = (char *)ev->window.name;
    pb->value.sufficient = ev->value.available;
    r->value = &pb->value;
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        const grading_evidence_entry_t *en = &ev->entries[i];
        Grading__V1__MetricEvent *m = &pb->events[i];
        Google__Protobuf__Timestamp *ts = &pb->times[i * EVIDENCE_PB_TIMES];
        grading__v1__metric_event__init(m);
        m->id = (char *)en->id;
        if (en->kind == GRADING_EVIDENCE_ORDER) {
            m->kind = GRADING__V1__EVIDENCE_KIND__EVIDENCE_KIND_ORDER;
            order_stages(&pb->orders[i], &en->order, ts);
            m->order = &pb->orders[i];
        } else {
            m->kind = GRADING__V1__EVIDENCE_KIND__EVIDENCE_KIND_INQUIRY;
            grading__v1__inquiry_stages__init(&pb->inquiries[i]);
            set_time(&pb->inquiries[i].received, &ts, en->inquiry.received_ms);
            set_time(&pb->inquiries[i].answered, &ts, en->inquiry.answered_ms);
            m->inquiry = &pb->inquiries[i];
        }
        m->contributions = &pb->delta_ptrs[d];
        m->n_contributions = en->ncontribs;
        for (uint32_t k = 0; k < en->ncontribs; k++, d++) {
            grading__v1__counter_delta__init(&pb->deltas[d]);
            pb->deltas[d].counter = (char *)grading_counter_name(en->contribs[k].counter);
            day_text(en->contribs[k].day, pb->days[d]);
            pb->deltas[d].day = pb->days[d];
            pb->deltas[d].delta = en->contribs[k].delta;
            pb->deltas[d].excluded = en->contribs[k].excluded;
            pb->delta_ptrs[d] = &pb->deltas[d];
        }
        pb->event_ptrs[i] = m;
    }
    r->events = pb->event_ptrs;
    r->n_events = n;
    counters(pb, ev);
    r->next_page_token = (char *)ev->next_page_token;
    return GRADING_OK;
}

void rpc_evidence_pb_free(rpc_evidence_pb_t *pb)
{
    free(pb->events);
    free(pb->event_ptrs);
    free(pb->orders);
    free(pb->inquiries);
    free(pb->times);
    free(pb->deltas);
    free(pb->delta_ptrs);
    free(pb->days);
    free(pb->counters);
    free(pb->counter_ptrs);
    free(pb->custom_names);
    memset(pb, 0, sizeof *pb);
}
