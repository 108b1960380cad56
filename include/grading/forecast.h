/* A seller's grade forecast (GetGradeForecast, gradectl forecast): each
 * programme's live level on each of the next N days if no new events
 * arrive, the first day it changes and the metric behind it, and the
 * nearest thresholds ahead (how many more events of a kind, today, move
 * it). A query like an assessment (assess.h); no gRPC.
 *
 * Day d of the forecast is evaluated as GetGrade would be at the last
 * millisecond of local day d with the store as it is now: windows slide,
 * defects age out, and the per-order clocks keep running (an open order
 * that reaches a deadline stage during day d counts on day d). Day 0 is
 * as_of itself; a change later on as_of's own day (a clock running out this
 * evening) is dated that day. Events dated after as_of's day are not read
 * (none arrive). */
#ifndef GRADING_FORECAST_H
#define GRADING_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/counters.h"
#include "grading/err.h"
#include "grading/policy.h"
#include "grading/rules.h"
#include "grading/store.h"

#define GRADING_FORECAST_DEFAULT_DAYS 30
#define GRADING_FORECAST_MAX_DAYS 400
#define GRADING_FORECAST_MAX_EVENTS 100     /* the threshold search tries k = 1..this */
#define GRADING_FORECAST_MAX_DELTAS 6

/* A kind of event the threshold search adds: the counter deltas one such
 * event makes on its day. `good` kinds are searched for a better level,
 * the others for a worse one. */
typedef struct {
    const char *name;          /* "late_shipment" */
    const char *singular;      /* "late shipment", for sentences */
    const char *plural;        /* "late shipments" */
    bool good;
    size_t ndeltas;
    struct {
        grading_counter_t counter;
        int64_t delta;
    } deltas[GRADING_FORECAST_MAX_DELTAS];
} grading_forecast_kind_t;

/* The kinds, in a fixed order; *n gets how many. */
const grading_forecast_kind_t *grading_forecast_kinds(size_t *n);

#define GRADING_FORECAST_MAX_KINDS 16

typedef struct {
    size_t kind;               /* index into grading_forecast_kinds */
    uint32_t events;           /* the smallest number that moves the level */
    int32_t level;             /* the level it gives */
} grading_forecast_threshold_t;

typedef struct {
    bool found;                /* false: the level holds over the whole span */
    int32_t day;               /* local day of the first change */
    int32_t from_level, level;
    int metric;                /* index into rules->metrics whose change flips it; -1: none alone */
    grading_metric_val_t before, after;   /* that metric the day before and on the day */
} grading_forecast_change_t;

typedef struct {
    int32_t today_level;       /* as of as_of */
    int32_t levels[GRADING_FORECAST_MAX_DAYS];   /* day today+1+i */
    grading_forecast_change_t change;
    size_t nthresholds;
    grading_forecast_threshold_t thresholds[GRADING_FORECAST_MAX_KINDS];
} grading_forecast_program_t;

typedef struct {
    int64_t as_of_ms;
    int32_t today;             /* as_of's local day */
    uint32_t days;
    size_t nprograms;
    grading_forecast_program_t programs[GRADING_RULES_MAX_PROGRAMS];
} grading_forecast_t;

/* Forecasts seller of mp as of as_of_ms over `days` days (0: the default)
 * in one read transaction of rd. *out is the caller's (heap it: it is
 * large). Errors: GRADING_EINVAL (days above GRADING_FORECAST_MAX_DAYS;
 * *e names "days"), GRADING_ENOTFOUND (a seller with no record; "seller_id"),
 * those of grading_retention_check and of the store, GRADING_ENOMEM. */
grading_err_t grading_forecast_read(grading_store_reader_t *rd, const grading_marketplace_t *mp, const char *seller,
                                    int64_t as_of_ms, uint32_t days, grading_forecast_t *out, grading_error_t *e);

/* The threshold search (pure): sums are the window sums as of local day
 * today, hist the seller's history (may be NULL), now their assessment.
 * For each kind whose counters a metric of r reads and each programme,
 * the smallest k in 1..bound of such events added today that makes the
 * level worse (better for good kinds), into programs[p].thresholds.
 * Errors: as grading_rules_assess, GRADING_ENOMEM. */
grading_err_t grading_forecast_thresholds(const grading_rules_t *r, const grading_day_counters_t *sums,
                                          const grading_history_t *hist, int32_t today,
                                          const grading_assessment_t *now, uint32_t bound,
                                          grading_forecast_program_t *programs, grading_error_t *e);

/* "2026-12-20" for a local day. */
void grading_forecast_date(int32_t day, char out[11]);

/* The sentences, snprintf-style into buf:
 * "Good (level 1) on 2026-12-20, when late_rate goes from 3.20% to 1.80%:
 *  3 of its events leave the 90d window" (or "holds at Good for 30 days"),
 * "2 more late shipments today -> Warning (level 3)". */
void grading_forecast_change_text(const grading_rules_t *r, size_t p, const grading_forecast_t *f, char *buf,
                                  size_t len);
void grading_forecast_threshold_text(const grading_rules_t *r, size_t p, const grading_forecast_threshold_t *t,
                                     char *buf, size_t len);

#endif
