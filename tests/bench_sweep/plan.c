/* The plan: which sellers are due and when everything happens.
 *
 * Every order is a normal one (ship within 2 days, no reserved date), so
 * its stages fall at the start of the Nth business day after its payment
 * day, in the marketplace's zone (src/core/order_facts.c). The dates are
 * not written in here but derived from the policy's own calendar with
 * grading_order_stage_times, starting from the first candidate day (June
 * 2026 onwards) where this layout holds:
 *
 *   due sellers' orders paid on day A (09:00 .. 18:59 local)
 *   others' orders paid on day B = the day before A's first stage
 *   S (seed, derive)   = B's end minus one hour: after every payment,
 *                        before any stage, so each seller's next_due_ms is
 *                        in the future
 *   A's first stage    = the start of a later day, <= T
 *   T (sweep)          = A's first stage + 12 h, before A's second stage
 *   B's first stage    > T (three business days after B)
 *
 * So at T exactly the due sellers have an order at a new stage, and after
 * the sweep each of them waits for its second stage, after T. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sweep_bench.h"

#define PAY_HOUR 9
#define PAY_SPREAD_MINUTES 600           /* 09:00 .. 18:59 */
#define SWEEP_AFTER_STAGE_MS (12 * SB_HOUR_MS)
#define SEED_BEFORE_DAY_END_MS SB_HOUR_MS
#define CANDIDATE_DAYS 60

void sb_seller_id(uint32_t i, char buf[SB_ID_LEN])
{
    snprintf(buf, SB_ID_LEN, "s%07" PRIu32, i);
}

void sb_seller_orders(const sb_plan_t *pl, uint32_t i, uint32_t *first, uint32_t *count)
{
    uint64_t lo = (uint64_t)i * pl->per_seller, hi = lo + pl->per_seller;
    if (hi > pl->orders) hi = pl->orders;
    *first = (uint32_t)lo;
    *count = lo < hi ? (uint32_t)(hi - lo) : 0;
}

/* Seller i is due when floor((i+1)·D/S) steps past floor(i·D/S): exactly D
 * of the S sellers, evenly spread. */
bool sb_seller_is_due(const sb_plan_t *pl, uint32_t i)
{
    uint64_t d = pl->due_sellers, s = pl->sellers;
    return ((uint64_t)i + 1) * d / s != (uint64_t)i * d / s;
}

static int64_t paid_on(const grading_marketplace_t *mp, int32_t day, uint32_t j)
{
    return grading_tz_day_start_ms(&mp->tz, day) + PAY_HOUR * SB_HOUR_MS +
           (int64_t)(j % PAY_SPREAD_MINUTES) * SB_MINUTE_MS;
}

int64_t sb_paid_ms(const grading_marketplace_t *mp, const sb_plan_t *pl, bool due, uint32_t j)
{
    return paid_on(mp, due ? pl->due_paid_day : pl->other_paid_day, j);
}

void sb_format_local(const grading_marketplace_t *mp, int64_t ms, char *buf, size_t len)
{
    int32_t off = grading_tz_offset_s(&mp->tz, ms);
    time_t t = (time_t)(ms / 1000 + off);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    int32_t a = off < 0 ? -off : off;
    snprintf(buf, len, "%s %c%02d:%02d", when, off < 0 ? '-' : '+', (int)(a / 3600), (int)(a % 3600 / 60));
}

/* The stage times of a normal order paid at paid_ms. */
static void stages_of(const grading_marketplace_t *mp, int64_t paid_ms, int64_t *t)
{
    grading_order_t o;
    grading_order_init(&o);
    o.paid_ms = paid_ms;
    o.ship_within_days = 2;
    grading_order_stage_times(mp->rules, &mp->tz, &o, t);
}

/* The layout with the due orders paid on day a; false when it does not hold. */
static bool try_day(const grading_marketplace_t *mp, int32_t a, sb_plan_t *pl)
{
    int64_t td[GRADING_DEADLINE_MAX_STAGES], tn[GRADING_DEADLINE_MAX_STAGES];
    stages_of(mp, paid_on(mp, a, 0), td);
    int32_t stage_day = grading_tz_day(&mp->tz, td[0]);
    int32_t b = stage_day - 1;
    if (b <= a) return false;
    int64_t t = td[0] + SWEEP_AFTER_STAGE_MS;
    int64_t s = grading_tz_day_start_ms(&mp->tz, b + 1) - SEED_BEFORE_DAY_END_MS;
    stages_of(mp, paid_on(mp, b, 0), tn);
    int64_t last_paid = paid_on(mp, b, PAY_SPREAD_MINUTES - 1);
    /* every payment before S, no stage at or before S, A's first stage in
     * (S, T], its second after T, B's first after T */
    if (!(last_paid < s && td[0] > s && td[0] <= t && td[1] > t && tn[0] > t)) return false;
    pl->due_paid_day = a;
    pl->other_paid_day = b;
    pl->seed_ms = s;
    pl->sweep_ms = t;
    for (size_t k = 0; k < pl->nstages; k++) {
        pl->due_stage_ms[k] = td[k];
        pl->other_stage_ms[k] = tn[k];
    }
    return true;
}

grading_err_t sb_plan(const grading_marketplace_t *mp, const sb_opts_t *o, sb_plan_t *out,
                      grading_error_t *e)
{
    memset(out, 0, sizeof *out);
    const grading_deadlines_def_t *dl = &mp->rules->deadlines;
    if (dl->nstages < 2)
        return grading_error_set(e, GRADING_EINVAL, "policy", "marketplace %s has %zu deadline stages; the sweep bench needs 2 or more",
                                 mp->name, dl->nstages);
    out->orders = o->orders;
    out->per_seller = o->per_seller;
    out->sellers = (uint32_t)(((uint64_t)o->orders + o->per_seller - 1) / o->per_seller);
    out->due_sellers = (uint32_t)llround((double)out->sellers * o->due_percent / 100.0);
    if (out->due_sellers > out->sellers) out->due_sellers = out->sellers;
    out->nstages = dl->nstages < 3 ? dl->nstages : 3;
    for (size_t k = 0; k < out->nstages; k++) out->stage_names[k] = dl->stages[k].name;
    int32_t first = grading_days_from_civil(2026, 6, 1);
    for (int32_t d = 0; d < CANDIDATE_DAYS; d++)
        if (try_day(mp, first + d, out)) return GRADING_OK;
    return grading_error_set(e, GRADING_EINVAL, "policy",
                             "no day in the %d from 2026-06-01 gives marketplace %s's first two stages on different days",
                             CANDIDATE_DAYS, mp->name);
}
