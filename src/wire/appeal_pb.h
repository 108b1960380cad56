/* ExcludeEvents/RestoreEvents and DeclareExemption requests -> the grade
 * layer's requests: what the rpc handlers and the Kafka consumer (which
 * applies them from the topic) share. Borrowed strings: the requests
 * must outlive the results. */
#ifndef GRADING_WIRE_APPEAL_PB_H
#define GRADING_WIRE_APPEAL_PB_H

#include "grading/appeal.h"
#include "grading/exempt_walk.h"
#include "grading/v1/grading.pb-c.h"

/* req is an ExcludeEventsRequest or (restore) a RestoreEventsRequest:
 * the two have the same fields (checked in appeal_pb.c). */
void rpc_appeal_req_from_pb(const Grading__V1__ExcludeEventsRequest *req, bool restore, const char *caller,
                            grading_appeal_req_t *out);

/* Errors: GRADING_EINVAL naming exemption / exemption.scope. */
grading_err_t rpc_exempt_req_from_pb(const Grading__V1__DeclareExemptionRequest *req, const char *caller,
                                     grading_exempt_req_t *out, grading_error_t *e);

#endif
