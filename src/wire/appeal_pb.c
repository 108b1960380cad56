/* Appeal and exemption requests from protobuf (appeal_pb.h). */
#include <stddef.h>

#include "appeal_pb.h"

/* Restore's request is read through Exclude's layout only after checking
 * the generated structs agree. */
_Static_assert(offsetof(Grading__V1__ExcludeEventsRequest, note) ==
                   offsetof(Grading__V1__RestoreEventsRequest, note) &&
               sizeof(Grading__V1__ExcludeEventsRequest) == sizeof(Grading__V1__RestoreEventsRequest),
               "ExcludeEventsRequest and RestoreEventsRequest must keep the same fields");

void rpc_appeal_req_from_pb(const Grading__V1__ExcludeEventsRequest *req, bool restore, const char *caller,
                            grading_appeal_req_t *out)
{
    *out = (grading_appeal_req_t){.restore = restore,
                                  .marketplace = req->marketplace,
                                  .seller = req->seller_id,
                                  .order_ids = (const char *const *)req->order_ids,
                                  .norders = req->n_order_ids,
                                  .inquiry_ids = (const char *const *)req->inquiry_ids,
                                  .ninquiries = req->n_inquiry_ids,
                                  .event_ids = (const char *const *)req->event_ids,
                                  .nevents = req->n_event_ids,
                                  .metrics = (const char *const *)req->metrics,
                                  .nmetrics = req->n_metrics,
                                  .reason = req->reason,
                                  .note = req->note,
                                  .caller = caller};
}

grading_err_t rpc_exempt_req_from_pb(const Grading__V1__DeclareExemptionRequest *req, const char *caller,
                                     grading_exempt_req_t *out, grading_error_t *e)
{
    const Grading__V1__Exemption *x = req->exemption;
    if (!x) return grading_error_set(e, GRADING_EINVAL, "exemption", "required");
    if (x->scope < GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_UNSPECIFIED ||
        x->scope > GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_DOMESTIC)
        return grading_error_set(e, GRADING_EINVAL, "exemption.scope", "unknown scope %d", (int)x->scope);
    *out = (grading_exempt_req_t){
        .marketplace = x->marketplace,
        .id = x->id,
        .from = x->from,
        .to = x->to,
        .metrics = (const char *const *)x->metrics,
        .nmetrics = x->n_metrics,
        .overseas = x->scope == GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_OVERSEAS   ? GRADING_EXEMPT_OVERSEAS
                    : x->scope == GRADING__V1__EXEMPTION_SCOPE__EXEMPTION_SCOPE_DOMESTIC ? GRADING_EXEMPT_DOMESTIC
                                                                                        : GRADING_EXEMPT_ANY,
        .product_id = x->product_id,
        .reason = x->reason,
        .note = x->note,
        .caller = caller};
    return GRADING_OK;
}
