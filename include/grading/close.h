/* Closing a settlement period: every seller of a marketplace is assessed
 * as of the period's end in its time zone, and each programme's level,
 * label and score are frozen per seller (the `periods` database).
 *
 * The work runs in pages: each page is assessed in a read transaction
 * (readers never wait), then written by the ingest writer in one bounded
 * transaction together with the close's progress (the last seller closed
 * and the counts so far) in `closes`. A crash loses at most the page in
 * flight; calling again resumes after the cursor, and a seller already in
 * the period is never counted twice. A finished close is never rewritten:
 * events that arrive later for the period change live grades only. */
#ifndef GRADING_CLOSE_H
#define GRADING_CLOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/assess.h"
#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/period.h"
#include "grading/policy.h"
#include "grading/store.h"

/* Sellers per write transaction. Small pages keep each commit's burst of
 * page writes and its fsync short, which is what the hot reads feel during
 * a close: over 1 M sellers, GetRankingBoosts p99 during the close was
 * 1.26-1.82x idle with 200 (5 runs) against 1.42-2.9x with 1000 (9 runs),
 * for a close of ~9.5 s instead of ~7.5 s (budget: 60 s). */
#define GRADING_CLOSE_PAGE 200

typedef struct {
    bool already_closed;
    grading_close_t state;   /* evaluated and the distribution */
} grading_close_result_t;

/* Closes (or with dry_run, only counts) `period` of kind for marketplace
 * mp of policy p. now_ms decides whether the period has ended. page: sellers
 * per write transaction (0: GRADING_CLOSE_PAGE).
 * Errors (with *e): GRADING_EINVAL (period name), GRADING_ESTATE (not yet
 * ended), the store's, GRADING_ESHUTDOWN (stopping; call again later). */
grading_err_t grading_close_period(grading_store_t *st, grading_ingest_t *in,
                                   const grading_policy_t *p, const grading_marketplace_t *mp,
                                   grading_period_kind_t kind, const char *period, bool dry_run,
                                   int64_t now_ms, size_t page, grading_close_result_t *out,
                                   grading_error_t *e);

/* The same; stop(ctx) is asked between pages and a true answer ends the
 * close with GRADING_ESHUTDOWN (what it wrote stays: call again to resume). */
grading_err_t grading_close_period_stoppable(grading_store_t *st, grading_ingest_t *in,
                                            const grading_policy_t *p, const grading_marketplace_t *mp,
                                            grading_period_kind_t kind, const char *period, bool dry_run,
                                            int64_t now_ms, size_t page, bool (*stop)(void *ctx),
                                            void *stop_ctx, grading_close_result_t *out,
                                            grading_error_t *e);

/* The same; `caller` names who closed in the close's audit entry (written
 * with the page that finishes the close; NULL: "local"). */
grading_err_t grading_close_period_as(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                      const grading_marketplace_t *mp, grading_period_kind_t kind,
                                      const char *period, bool dry_run, int64_t now_ms, size_t page,
                                      bool (*stop)(void *ctx), void *stop_ctx, const char *caller,
                                      grading_close_result_t *out, grading_error_t *e);

/* ClosePeriod's checks only (close_check.c): the period name, that it has
 * ended by now_ms, and whether it is closed already (out->already_closed,
 * out->state then the close's record). Writes nothing.
 * Errors (with *e): GRADING_EINVAL, GRADING_ESTATE, the store's. */
grading_err_t grading_close_check(grading_store_t *st, const grading_marketplace_t *mp,
                                  grading_period_kind_t kind, const char *period, int64_t now_ms,
                                  grading_close_result_t *out, grading_error_t *e);

/* One seller's published record of a period of kind ending at as_of_ms
 * (close_seller.c): what the close freezes and an appeal with
 * appeals.reopen_closed freezes again. x is scratch. Errors: the store's,
 * the rules' (with *e). */
grading_err_t grading_close_seller_rec(grading_txn_t *txn, const grading_marketplace_t *mp,
                                       grading_period_kind_t kind, const char *seller, int64_t as_of_ms,
                                       grading_assess_t *x, grading_period_rec_t *rec, grading_error_t *e);

/* Logs rec as the levels published for seller in period (changes.h), in
 * the transaction that stores them. Errors: the store's. */
grading_err_t grading_close_note_published(grading_txn_t *txn, const grading_policy_t *p, const char *mp,
                                           grading_period_kind_t kind, const char *period, const char *seller,
                                           const grading_period_rec_t *rec, int64_t now_ms);

#endif
