/* Kafka mode (issue 15 with issue 11): an appeal is judged on the replica
 * that takes the call, goes through the topic, and every replica applies
 * it (grading_appeal_apply in the consumer). This is the judging: the
 * whole appeal run in a write transaction that is always aborted. */
#ifndef GRADING_APPEAL_CHECK_H
#define GRADING_APPEAL_CHECK_H

#include "grading/appeal.h"

/* As grading_appeal_run, but nothing is ever written: res says what the
 * appeal would change against the store as it is now. Errors: as
 * grading_appeal_run's (e names the field). */
grading_err_t grading_appeal_check(grading_ingest_t *in, const grading_policy_t *p, const grading_appeal_req_t *req,
                                   grading_appeal_result_t *res, grading_error_t *e);

#endif
