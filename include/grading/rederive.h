/* The re-derive walk: every seller of a marketplace re-derived with a
 * policy (its stored boost and suspension), a page at a time through the
 * ingest writer, so pages interleave with event batches and readers never
 * wait. Used by the background refresh after a policy reload; no gRPC. */
#ifndef GRADING_REDERIVE_H
#define GRADING_REDERIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

/* Sellers per page (one derive-only writer job each). */
#define GRADING_REDERIVE_PAGE 256

/* Re-derives mp's sellers with p; asks stop(stop_ctx) before each page and
 * gives way when it says true. Returns how many sellers were re-derived (a
 * read or writer error ends the walk early, logged). */
size_t grading_rederive_marketplace(grading_store_reader_t *rd, grading_ingest_t *in, const grading_policy_t *p,
                                    const char *mp, bool (*stop)(void *), void *stop_ctx);

/* The same walk with another per-seller step (called in the page's write
 * transaction, as grading_ingest_batch_t.derive). *out_err gets the error
 * that ended the walk early (GRADING_OK is left alone). */
typedef grading_err_t (*grading_rederive_cb)(void *ctx, grading_txn_t *txn, const char *mp, const char *seller,
                                             int64_t now_ms);
size_t grading_rederive_marketplace_with(grading_store_reader_t *rd, grading_ingest_t *in, const char *mp,
                                         grading_rederive_cb derive, void *derive_ctx, bool (*stop)(void *),
                                         void *stop_ctx, grading_err_t *out_err);

/* True when the store's last complete walk used p's version (the stored
 * answers are current). */
bool grading_rederive_is_current(grading_store_reader_t *rd, const grading_policy_t *p);

/* Records that a complete walk used p's version (through the writer).
 * Errors: the writer's; on failure the next start-up walks again. */
grading_err_t grading_rederive_mark_current(grading_ingest_t *in, const grading_policy_t *p);

#endif
