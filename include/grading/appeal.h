/* Appeals (issue 15 §1): an operator excludes a seller's orders or
 * inquiries from named metrics (ExcludeEvents) or restores them
 * (RestoreEvents). A record's exclusions are a mask over the base counters
 * (counters.h); changing it moves the record's contributions between the
 * seller's days and the excluded days, re-derives the seller and writes an
 * audit entry, all in one write transaction through the single writer.
 * Shared by the rpc handler and gradectl's callers; no gRPC. */
#ifndef GRADING_APPEAL_H
#define GRADING_APPEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

#define GRADING_APPEAL_MAX_IDS 1000
#define GRADING_APPEAL_REASON_MAX 32
#define GRADING_APPEAL_NOTE_MAX 100

typedef struct {
    bool restore;                     /* RestoreEvents: clear the bits */
    const char *marketplace;          /* "" = the default */
    const char *seller;
    const char *const *order_ids;
    size_t norders;
    const char *const *inquiry_ids;
    size_t ninquiries;
    const char *const *event_ids;     /* refused: events do not say their record */
    size_t nevents;
    const char *const *metrics;       /* policy metrics, base counters, "all" */
    size_t nmetrics;
    const char *reason;               /* a short code, required */
    const char *note;                 /* optional */
    const char *caller;               /* for the audit entry */
} grading_appeal_req_t;

/* One record's outcome: orders first, then inquiries, in request order. */
typedef struct {
    bool inquiry;
    const char *id;                   /* borrowed from the request */
    uint64_t before, after;           /* appeal_mask */
    bool changed;
    uint32_t appeals;                 /* the record's appeal count after */
} grading_appeal_item_t;

/* A closed period the appeal published again (appeals.reopen_closed). */
typedef struct {
    int kind;                                  /* grading_period_kind_t */
    char period[GRADING_STORE_PERIOD_MAX];
    grading_period_rec_t before, after;
} grading_reopened_t;

typedef struct {
    size_t n;
    grading_appeal_item_t *items;     /* owned: grading_appeal_result_free */
    size_t nreopened;
    grading_reopened_t *reopened;     /* owned, oldest period first */
    uint64_t mask;                    /* what the metrics resolved to */
    bool changed;                     /* any record changed */
} grading_appeal_result_t;

/* The counters metrics[] name under r, for field "metrics". Errors:
 * GRADING_EINVAL naming metrics[i] (unknown, or none given). */
grading_err_t grading_appeal_mask(const grading_rules_t *r, const char *const *metrics, size_t n,
                                  uint64_t *mask, grading_error_t *e);

/* With the policy's appeals.reopen_closed (appeal_reopen.c), inside the
 * appeal's write transaction: each closed period (any kind) of mp that
 * holds a published record for seller and ends on or after from_day is
 * assessed again as of its end, oldest first; those whose record changed
 * are stored, logged (changes.h) and audited (method, caller: the
 * appeal's) and appended to res->reopened. Periods whose days the pruner
 * deleted stay as published. Errors: the store's, GRADING_ENOMEM, the
 * rules' (with *e). */
grading_err_t grading_appeal_reopen(grading_txn_t *txn, const grading_policy_t *p, const grading_marketplace_t *mp,
                                    const char *seller, int32_t from_day, int64_t now_ms, const char *method,
                                    const char *caller, grading_appeal_result_t *res, grading_error_t *e);

/* Checks req and applies it through the writer. Nothing is written on any
 * error: GRADING_EINVAL (a malformed field, event_ids given),
 * GRADING_ENOTFOUND (marketplace, order_ids[i], inquiry_ids[i]),
 * GRADING_ESTATE (an appeal beyond the policy's max_per_order), the
 * writer's. e names the field. res is filled on success. */
grading_err_t grading_appeal_run(grading_ingest_t *in, const grading_policy_t *p, const grading_appeal_req_t *req,
                                 grading_appeal_result_t *res, grading_error_t *e);

/* The same inside the caller's write transaction txn (tools, the
 * scenario runner), as of now_ms; on an error the caller aborts txn. */
grading_err_t grading_appeal_apply(grading_txn_t *txn, const grading_policy_t *p, const grading_appeal_req_t *req,
                                   int64_t now_ms, grading_appeal_result_t *res, grading_error_t *e);

void grading_appeal_result_free(grading_appeal_result_t *res);

/* "late_shipment,shipped" style names of mask's counters into buf. */
void grading_counter_mask_format(uint64_t mask, char *buf, size_t cap);

#endif
