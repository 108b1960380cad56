/* grading_sweep_bench's shared declarations.
 *
 * The program measures issue 4's "Done when" figure: the seconds gradingd's
 * deadline sweep takes over N open orders of which P % are due, and the
 * cost of a sweep when nothing is due. One file per concern:
 *   main.c   flags, the run in order, the checks, the table;
 *   plan.c   the dates (from the policy's calendar) and who is due;
 *   seed.c   the open orders applied in process, each seller derived;
 *   sweep.c  gradingd's sweep (src/app/refresh.c, sweep_due) on its own
 *            ingest writer.
 * Shared names carry an sb_ prefix; everything else is static. */
#ifndef GRADING_SWEEP_BENCH_H
#define GRADING_SWEEP_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "grading/err.h"
#include "grading/policy.h"
#include "grading/store.h"
#include "grading/sweep.h"

/* ---- limits and defaults ---- */

#define SB_DEFAULT_ORDERS 1000000
#define SB_MAX_ORDERS 10000000            /* ids are s%07u; the due count buffer stays small */
#define SB_DEFAULT_ORDERS_PER_SELLER 10
#define SB_MAX_ORDERS_PER_SELLER 10000
#define SB_DEFAULT_DUE_PERCENT 1.0
#define SB_MARKETPLACE "qoo10_jp"         /* the marketplace of policies/qoo10.yaml */
#define SB_ID_LEN 24                      /* room for any id the seeding makes */

/* Events per seeding write transaction (the server's own group bound). */
#define SB_TXN_EVENTS 20000
/* The initial map is sized from this; the store grows if it is short. */
#define SB_BYTES_PER_ORDER 1024
#define SB_MAX_MAP_SIZE (UINT64_C(64) << 30)

/* gradingd's sweep page (grading/sweep.h). */
#define SB_SWEEP_PAGE GRADING_SWEEP_PAGE
/* Sweep passes until the index has nothing due (each pass ends at a short
 * page; the last one finds nothing). */
#define SB_MAX_PASSES 8
/* Idle sweeps timed (nothing due): the median and the maximum are shown. */
#define SB_IDLE_RUNS 1001

#define SB_HOUR_MS INT64_C(3600000)
#define SB_MINUTE_MS INT64_C(60000)

static inline int64_t sb_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct {
    uint32_t orders;
    uint32_t per_seller;
    double due_percent;
    const char *keep;        /* NULL: a mkdtemp dir, removed at the end */
} sb_opts_t;

/* ---- the plan (plan.c) ---- */

typedef struct {
    uint32_t orders, per_seller, sellers;
    uint32_t due_sellers;            /* round(sellers * P / 100) */
    int32_t due_paid_day;            /* local day the due sellers' orders are paid */
    int32_t other_paid_day;          /* local day everyone else's orders are paid */
    int64_t seed_ms;                 /* the seeding's stored and derive time (S) */
    int64_t sweep_ms;                /* the sweep's "now" (T) */
    size_t nstages;
    const char *stage_names[3];      /* the first stages, for the table */
    int64_t due_stage_ms[3];         /* a due seller's order's first stages */
    int64_t other_stage_ms[3];       /* another seller's order's first stages */
} sb_plan_t;

/* Chooses the dates with mp's calendar: the due sellers' orders are paid
 * so that their first stage falls at or before T and their second after
 * T; the others' orders the day before the due ones' first stage, so their
 * first stage is after T; S is after every payment and before any stage.
 * Errors: GRADING_EINVAL (*e says why) when the policy has fewer than two
 * stages or its calendar defeats that layout. */
grading_err_t sb_plan(const grading_marketplace_t *mp, const sb_opts_t *o, sb_plan_t *out,
                      grading_error_t *e);

/* Seller i's orders are [first, first + count). */
void sb_seller_orders(const sb_plan_t *pl, uint32_t i, uint32_t *first, uint32_t *count);

/* True when seller i is one of the due sellers (spread evenly). */
bool sb_seller_is_due(const sb_plan_t *pl, uint32_t i);

/* The payment time of order j (global index) of a seller. */
int64_t sb_paid_ms(const grading_marketplace_t *mp, const sb_plan_t *pl, bool due, uint32_t j);

void sb_seller_id(uint32_t i, char buf[SB_ID_LEN]);

/* "2026-06-04 00:00 +09:00" in mp's zone. */
void sb_format_local(const grading_marketplace_t *mp, int64_t ms, char *buf, size_t len);

/* ---- seeding (seed.c) ---- */

typedef struct {
    uint64_t orders;
    uint64_t due_orders;     /* orders with a stage in (S, T], counted per order */
    uint64_t late_at_seed;   /* orders with a stage at or before S (must be 0) */
    uint32_t sellers;
    uint32_t transactions;
    double seconds;
} sb_seed_result_t;

/* Applies the plan's orders (order_paid only) to st with grading_ingest_apply
 * in write transactions of about SB_TXN_EVENTS events, whole sellers each,
 * derived with p at pl->seed_ms. Grows the map while a transaction is full.
 * Errors (with *e): the store's; GRADING_EINVAL if a generated event is
 * invalid or not all were accepted (a bug here). */
grading_err_t sb_seed(grading_store_t *st, grading_policy_t *p, const sb_plan_t *pl,
                      sb_seed_result_t *out, grading_error_t *e);

/* ---- the sweep (sweep.c) ---- */

typedef struct sb_sweeper sb_sweeper_t;

/* Starts an ingest writer on st whose clock reads now_ms (a fixed time),
 * and a reader. Errors: GRADING_ENOMEM, GRADING_EIO. */
grading_err_t sb_sweeper_new(grading_store_t *st, int64_t now_ms, sb_sweeper_t **out);

/* Stops the writer (finishing what is queued) and frees sw. NULL is fine. */
void sb_sweeper_free(sb_sweeper_t *sw);

/* One sweep as gradingd's refresh thread does it: grading_sweep_due. *swept gets the sellers re-derived, *pages
 * the batches. Errors: the store's, from the read or the batch. */
grading_err_t sb_sweep_due(sb_sweeper_t *sw, grading_policy_t *p, uint64_t *swept, uint32_t *pages);

#endif
