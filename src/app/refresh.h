/* Background refresh of the stored per-seller answers (the boost and
 * suspension GetRankingBoosts reads), after a policy reload and every
 * interval (rolling windows move even without events).
 *
 * One thread walks every marketplace's sellers with its own read
 * transaction and hands them, a page at a time, to the ingest writer as
 * derive-only jobs, so they interleave with event batches and readers are
 * never blocked. A new request (another reload) restarts the walk with the
 * newer policy. */
#ifndef GRADING_APP_REFRESH_H
#define GRADING_APP_REFRESH_H

#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

typedef struct app_refresh app_refresh_t;

grading_err_t app_refresh_start(grading_store_t *st, grading_ingest_t *in, int64_t (*now_ms)(void *),
                                void *clock_ctx, app_refresh_t **out);

/* Asks for a sweep of the due index: every seller with an open order that
 * reached a new deadline stage by now is re-derived (and moved to its next
 * due time). Cheap when nothing is due. Never blocks. */
void app_refresh_sweep(app_refresh_t *r, grading_policy_t *p);

/* Asks for a walk with policy p (a reference is taken). Never blocks. */
void app_refresh_request(app_refresh_t *r, grading_policy_t *p);

/* The same, skipped when the store's last full walk used the same policy
 * version (start-up: the stored answers are current). */
void app_refresh_request_if_changed(app_refresh_t *r, grading_policy_t *p);

/* Sweeps also drop unpaid orders whose held events are older than
 * max_age_ms (0: never). Call before the first sweep. */
void app_refresh_set_orphan_max_age(app_refresh_t *r, int64_t max_age_ms);

/* Stops the walk at the next page and joins the thread. */
void app_refresh_stop(app_refresh_t *r);

#endif
