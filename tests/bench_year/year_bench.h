/* A year in fast-forward (issue 18): 13 months of synthetic traffic for
 * N sellers recorded day by day on a test clock, with and without the
 * retention pruner, printing the store's used bytes month by month. */
#ifndef YEAR_BENCH_H
#define YEAR_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/event.h"
#include "grading/policy.h"

typedef struct {
    int sellers;
    int orders_per_day;      /* over all sellers */
    int months;
    int prune_every_days;    /* the pruner's pass every this many simulated days */
    const char *policy;      /* a preset file */
    const char *marketplace;
    const char *dir;         /* where the stores go */
    uint32_t seed;
} yb_options_t;

/* The events that happen on one simulated day: new orders and the later
 * stages of earlier ones (shipping, delivery, cancels, returns, reviews,
 * inquiries). Owned by the generator; valid until the next yb_gen_day. */
typedef struct yb_gen yb_gen_t;

yb_gen_t *yb_gen_new(const yb_options_t *o, int64_t first_day_ms);
void yb_gen_free(yb_gen_t *g);
/* Fills *evs / *n with day d's events (d = 0, 1, ...). */
void yb_gen_day(yb_gen_t *g, int d, const grading_event_t **evs, uint32_t *n);

#endif
