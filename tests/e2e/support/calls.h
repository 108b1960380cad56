/* End-to-end test support: any GradingService method called by name with
 * a small valid request, for tests that check who may call what. */
#ifndef E2E_CALLS_H
#define E2E_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include "grading/client.h"

/* Every method of grading.v1.GradingService, in the proto's order. */
extern const char *const e2e_methods[];
extern const size_t e2e_method_count;

/* Calls method ("GetGrade") with a valid request for marketplace mp (""
 * for the default) and seller "authz-seller"; RecordEvents sends one new
 * order_paid, ClosePeriod a dry run of month 2026-10. Copies the status
 * message into details. Returns the status, GRPC_STATUS_UNKNOWN when the
 * call could not be made. No asserts. */
grpc_status_code e2e_call_method(grading_client_t *c, const char *method, const char *mp, char *details,
                                 size_t len);

/* GetGrade of seller on the default marketplace, now: its first
 * programme's live level. Fails the test unless the call is OK. */
int32_t e2e_live_level(grading_client_t *c, const char *seller);

/* The seller's stored boost in marketplace mp (GetRankingBoosts); fails
 * the test on any error. */
double e2e_boost_of(grading_client_t *c, const char *mp, const char *seller);

/* A new client for addr with o; fails the test when it cannot be made. */
grading_client_t *e2e_client_with(const char *addr, const grading_client_options_t *o);

#endif
