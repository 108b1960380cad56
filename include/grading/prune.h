/* The retention pruner (src/ingest/prune.c): deletes what the policy can
 * no longer read (grading/retention.h), a page at a time through the
 * writer, and the as_of check against what it deleted. */
#ifndef GRADING_PRUNE_H
#define GRADING_PRUNE_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/retention.h"
#include "grading/store.h"

#define GRADING_PRUNE_DEFAULT_MARGIN_DAYS 31
#define GRADING_PRUNE_DEFAULT_DEDUP_HORIZON_MS (INT64_C(35) * 86400000)
#define GRADING_PRUNE_PAGE 2000   /* records examined per write transaction */
#define GRADING_PRUNE_DEFAULT_KEEP_PERIODS 60

typedef struct {
    int32_t margin_days;        /* kept beyond the longest look-back */
    int64_t dedup_horizon_ms;   /* event ids stored longer ago go; 0: kept forever */
    uint32_t keep_periods;      /* newest published periods kept per kind (at least what
                                 * the rules read); 0: all */
    uint32_t page;              /* 0: GRADING_PRUNE_PAGE */
    /* Optional: polled between pages; true stops the pass early. */
    bool (*stop)(void *ctx);
    void *stop_ctx;
} grading_prune_options_t;

typedef struct {
    uint64_t days, orders, inquiries, events;   /* records deleted */
    uint64_t periods;                           /* published grades and close records deleted */
    uint64_t pages;                             /* write transactions used */
} grading_prune_stats_t;

/* The oldest local day marketplace mp keeps as of now_ms: its look-back
 * plus the margin before now's local day. */
int32_t grading_prune_oldest_day(const grading_marketplace_t *mp, int32_t margin_days, int64_t now_ms);

/* One pass over the store as of now_ms, a page at a time through the
 * writer (grading_ingest_run: readers never wait, other batches go
 * between pages). First records each marketplace's oldest kept day in
 * meta (never moved back), then deletes day records older than it,
 * finished orders and inquiries whose last event is older, event ids
 * stored before now_ms - dedup_horizon_ms, and published periods beyond
 * keep_periods of each kind. Open and unpaid orders stay.
 * Records of a marketplace the policy does not name stay.
 * Must not run on the writer thread. Errors: the writer's (the pass
 * stops; what was committed stays deleted, nothing else is touched). */
grading_err_t grading_prune_pass(grading_ingest_t *in, const grading_policy_t *p, int64_t now_ms,
                                 const grading_prune_options_t *opts, grading_prune_stats_t *stats);

/* FAILED_PRECONDITION (GRADING_ESTATE, field "as_of", naming the oldest
 * day kept) when an assessment of mp as of as_of_ms would read days the
 * pruner has deleted; OK otherwise. Errors also: the store's. */
grading_err_t grading_retention_check(grading_txn_t *txn, const grading_marketplace_t *mp, int64_t as_of_ms,
                                      grading_error_t *e);
/* The same for a read of days from local day `first` on, naming `field`. */
grading_err_t grading_retention_check_day(grading_txn_t *txn, const grading_marketplace_t *mp, int32_t first,
                                          const char *field, grading_error_t *e);

#endif
