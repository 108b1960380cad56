/* The retention pruner's thread: a grading_prune_pass (retention.h) every
 * --prune-interval, with the policy the server holds at the time. */
#ifndef GRADING_APP_PRUNER_H
#define GRADING_APP_PRUNER_H

#include "grading/ingest.h"
#include "grading/prune.h"
#include "grading/server.h"

typedef struct app_pruner app_pruner_t;

/* Starts the thread; the first pass runs at once. interval_ms 0: none.
 * Errors: GRADING_ENOMEM, GRADING_EIO (thread creation). */
grading_err_t app_pruner_start(grading_server_t *server, grading_ingest_t *in, int64_t (*now_ms)(void *),
                               void *clock_ctx, const grading_prune_options_t *opts, int64_t interval_ms,
                               app_pruner_t **out);

/* Stops a pass at its next page, joins the thread, frees p (NULL is fine). */
void app_pruner_stop(app_pruner_t *p);

#endif
