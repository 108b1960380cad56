/* Declaring, revoking and listing exemptions (exemption.h), with the walk
 * that makes them retroactive: the marketplace's sellers a page at a time
 * through the single writer (as the re-derive walk after a reload), each
 * order's exempt_mask recomputed from the table, a changed one re-split
 * (daily <-> xdaily) and its seller re-derived. Sellers without a changed
 * order are not touched. No gRPC. */
#ifndef GRADING_EXEMPT_WALK_H
#define GRADING_EXEMPT_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/exemption.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

/* A declaration as a caller gives it (local dates, metric names). */
typedef struct {
    const char *marketplace;          /* "" = the default */
    const char *id;
    const char *from, *to;            /* YYYY-MM-DD, local dates of the payment, inclusive */
    const char *const *metrics;       /* as appeals: metrics, base counters, "all" */
    size_t nmetrics;
    int32_t overseas;                 /* GRADING_EXEMPT_ANY / _DOMESTIC / _OVERSEAS */
    const char *product_id;           /* NULL or "" = any */
    const char *reason, *note;
    const char *caller;               /* for the audit entry */
} grading_exempt_req_t;

typedef struct {
    bool already;                     /* the same declaration existed: nothing done */
    uint64_t sellers_changed, orders_changed, sellers_walked;
    grading_exemption_t x;            /* as stored (declare) or as it was (revoke) */
} grading_exempt_result_t;

/* Checks, stores (with an audit entry) and walks. Errors (nothing written
 * for any of them): GRADING_EINVAL naming the field (`to` for an inverted
 * range), GRADING_ENOTFOUND (marketplace), GRADING_EEXIST (the id exists
 * with other content), the writer's. */
grading_err_t grading_exempt_declare(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                     const grading_exempt_req_t *req, int64_t now_ms, grading_exempt_result_t *res,
                                     grading_error_t *e);

/* Deletes mp's exemption id (audited) and walks. GRADING_ENOTFOUND naming
 * `id` when there is none. */
grading_err_t grading_exempt_revoke(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                    const char *mp, const char *id, const char *caller, grading_exempt_result_t *res,
                                    grading_error_t *e);

/* Kafka mode (the change goes through the topic): declare's checks of
 * req or (revoke) revoke's of req->marketplace and req->id alone, against
 * the store as read now; nothing written. res->x: what would be stored
 * (declare) or is stored; res->already as declare's. Errors: as declare's
 * and revoke's. */
grading_err_t grading_exempt_check(grading_store_t *st, const grading_policy_t *p, const grading_exempt_req_t *req,
                                   bool revoke, int64_t now_ms, grading_exempt_result_t *res, grading_error_t *e);

/* Makes the store's exemptions with the policy-file prefix
 * (GRADING_POLICY_EXEMPTION_PREFIX) what p's `exemptions:` sections say:
 * revokes the ones it no longer declares, declares the new, each walked.
 * At start-up and after each reload (the refresh thread). *changed counts
 * declarations and revocations. Errors: as declare and revoke (e says). */
grading_err_t grading_exempt_sync_policy(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                         int64_t now_ms, size_t *changed, grading_error_t *e);

/* Up to cap exemptions of mp ("" or NULL: all) through rd, in key order. */
grading_err_t grading_exempt_list(grading_store_reader_t *rd, const char *mp, grading_exemption_t *out, size_t cap,
                                  size_t *n);

/* The walk alone (declare and revoke end with it; the benchmark times
 * it). Counts go to res. Errors: the writer's and the store's. */
grading_err_t grading_exempt_walk(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                  const grading_marketplace_t *mp, grading_exempt_result_t *res);

#endif
