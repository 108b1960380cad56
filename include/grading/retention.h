/* Retention: how far back the policy ever reads (src/core/retention.c);
 * the pruner that deletes what is older is grading/prune.h.
 *
 * An assessment as of local day `today` reads the day records and orders
 * from grading_retention_first_day(rules, today) on: the oldest window's
 * first day, the points year (11 whole months before this one), the
 * product shipping-rate window, and never less than the 365-day window
 * GetSellerMetrics reports whatever the policy. History reads published
 * periods: grading_retention_periods_needed says how many. */
#ifndef GRADING_RETENTION_H
#define GRADING_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/rules.h"

/* GetSellerMetrics' longest fixed window (API.md): always kept. */
#define GRADING_RETENTION_API_WINDOW_DAYS 365

/* The earliest local day an assessment as of today reads. Pure. */
int32_t grading_retention_first_day(const grading_rules_t *r, int32_t today);

/* The policy's longest look-back of r: the most days before today that
 * grading_retention_first_day reaches, over every today of a leap cycle
 * (calendar windows are longest on their last day). Pure. */
int32_t grading_retention_lookback_days(const grading_rules_t *r);

/* The fewest published periods of each kind the rules read: the longest
 * history `over` (twice it with calendar_year: last year's periods, read
 * all through this year) plus the one being closed, at least 2. Pure. */
uint32_t grading_retention_periods_needed(const grading_rules_t *r);

#endif
