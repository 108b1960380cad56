/* A page of evidence (grading/evidence.h) as ListMetricEventsResponse.
 * Private to src/rpc. */
#ifndef GRADING_RPC_EVIDENCE_PB_H
#define GRADING_RPC_EVIDENCE_PB_H

#include "grading/evidence.h"
#include "grading/v1/grading.pb-c.h"

/* The response and everything it points at; strings are borrowed from ev
 * and the rules, which must outlive it. */
typedef struct {
    Grading__V1__ListMetricEventsResponse resp;
    Google__Protobuf__Timestamp as_of;
    Grading__V1__MetricValue value;
    Grading__V1__MetricEvent *events, **event_ptrs;
    Grading__V1__OrderStages *orders;
    Grading__V1__InquiryStages *inquiries;
    Google__Protobuf__Timestamp *times;          /* EVIDENCE_PB_TIMES per event */
    Grading__V1__CounterDelta *deltas, **delta_ptrs;
    char (*days)[16];                            /* one per delta, and first/last day */
    Grading__V1__CounterEvidence *counters, **counter_ptrs;
    char (*custom_names)[GRADING_MAX_CUSTOM_NAME_LEN + 8];
} rpc_evidence_pb_t;

/* Fills pb from ev (marketplace, seller and policy version are the
 * caller's to set on pb->resp). Errors: GRADING_ENOMEM (pb is then freed). */
grading_err_t rpc_evidence_pb_build(rpc_evidence_pb_t *pb, const grading_evidence_t *ev, const char *metric,
                                    int64_t as_of_ms);
void rpc_evidence_pb_free(rpc_evidence_pb_t *pb);

#endif
