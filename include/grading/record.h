/* Recording events: judging a batch against the policy and handing it to
 * the ingest writer with the policy's derivation, so every caller (the
 * RecordEvents handler, a log consumer) applies events the same way. No
 * gRPC. */
#ifndef GRADING_RECORD_H
#define GRADING_RECORD_H

#include <stdint.h>

#include "grading/err.h"
#include "grading/event.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/tz.h"

/* Judges events[0..n) against p as of now_ms (occurred_at at most
 * max_future_skew_ms ahead and, unless max_past_ms is 0, at most
 * max_past_ms behind: the dedup horizon): core validation, then each
 * event's marketplace resolved (marketplaces[i], zones[i] set; both arrays
 * caller-owned, n long) and its context checked; an empty currency becomes
 * the marketplace's (stored and hashed as such). Errors: GRADING_EINVAL,
 * GRADING_ENOTFOUND (an unknown marketplace), e naming the field
 * ("events[3].marketplace"). */
grading_err_t grading_record_check(const grading_policy_t *p, grading_event_t *events, uint32_t n,
                                   int64_t now_ms, int64_t max_future_skew_ms, int64_t max_past_ms,
                                   const char **marketplaces, const grading_tz_t **zones, grading_error_t *e);

/* Queues b on the writer with p's derivation: each (marketplace, seller)
 * with an accepted event gets its stored answer re-derived in the batch's
 * transaction. p must outlive b's done_cb. Never blocks. */
void grading_record_submit(grading_ingest_t *in, const grading_policy_t *p, grading_ingest_batch_t *b);

/* grading_record_submit, waiting until b's fate is on disk (not on the
 * writer thread); returns it as grading_ingest_run does. */
grading_err_t grading_record_run(grading_ingest_t *in, const grading_policy_t *p, grading_ingest_batch_t *b,
                                 uint32_t *accepted, uint32_t *duplicates);

#endif
