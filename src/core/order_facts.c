/* Per-order clocks and service points (rules.h, SPEC §3).
 *
 * Everything is judged as of a time from the order's merged timeline, the
 * marketplace's zone and business calendar, so a changed calendar (a new
 * exception day) re-judges past deadlines on the next evaluation, and an
 * `as_of` query computes what the sweep would have stored.
 *
 *  - A normal order's clock starts on its payment day, or the next
 *    business day when paid on a closed day; stage N is reached at the
 *    start of the Nth business day after. A reserved order (ship within 4+
 *    days, or a reserved date) counts calendar days from its reservation
 *    date (the reserved date, else payment + ship_within_days).
 *  - Shipping, delivery (it shipped, even if no shipped event came) or
 *    cancelling stops the clock. A stage's points apply when it
 *    was reached before either, and are never restored.
 *  - Dispatch points (normal orders): business days from the clock's start
 *    to the shipping day; none when the order's delivery points are
 *    negative. Delivery points: calendar days from payment to delivery, by
 *    the table of the order's kind (overseas, normal). A reserved order
 *    never earns plus points (SPEC §3): its table, which the loader keeps
 *    at 0 or below, counts calendar days from its reservation date to the
 *    delivery, whatever its destination.
 *  - A product's shipping rate (for restricting stages): of its orders
 *    paid in the window and not cancelled, judged once shipped (or
 *    delivered) or past their promise, the share shipped by the promise:
 *    a normal order within its promised business days from the clock's
 *    start, a reserved one by its reservation day.
 *  - Points count in the month of what earned them: shipping, delivery,
 *    the cancel, return or report, the review, the stage reached.
 *  - With expire_after N days, points.active sums the points earned on
 *    days [today-N+1, today]: a window over the same earning days, no
 *    stored state (a point earned on day d is gone on day d+N). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "grading/rules.h"

static const char *const point_rules[GRADING_PT_COUNT] = {
    "dispatch", "delivery", "auto_completed", "seller_fault_claim",
    "non_receipt", "strongly_recommend", "not_recommended", "delay",
};

const char *grading_points_rule_name(int rule)
{
    return rule >= 0 && rule < GRADING_PT_COUNT ? point_rules[rule] : "?";
}

double grading_history_last_month_points(const grading_history_t *h)
{
    if (h->has_month_points) return h->month_points;
    return h->orders ? h->orders->value[GRADING_OF_POINTS_LAST_MONTH] : 0;
}

void grading_order_facts_init(grading_order_facts_t *f, int32_t today)
{
    memset(f, 0, sizeof *f);
    f->today = today;
    f->month_first = grading_month_first_day(today);
    f->prev_last = f->month_first - 1;
    f->prev_first = grading_month_first_day(f->prev_last);
    /* the 12 months ending with this one */
    int32_t first = f->month_first;
    for (int i = 0; i < 11; i++) first = grading_month_first_day(first - 1);
    f->year_first = first;
    f->active_first = INT32_MAX;
}

void grading_order_facts_expiry(const grading_rules_t *r, grading_order_facts_t *f)
{
    int32_t n = r->points.enabled ? r->points.expire_after_days : 0;
    f->active_first = n > 0 ? f->today - n + 1 : INT32_MAX;
}

int32_t grading_order_facts_first_day(const grading_order_facts_t *f)
{
    return f->active_first < f->year_first ? f->active_first : f->year_first;
}

/* Adds points earned on `day` (a local day on or before today). */
static void earn(grading_order_facts_t *f, int rule, int32_t day, double points)
{
    if (points == 0 || day > f->today) return;
    if (day >= f->month_first) f->month[rule] += points;
    else if (day >= f->prev_first) f->prev_month[rule] += points;
    if (day >= f->year_first) f->year[rule] += points;
    if (day >= f->active_first) f->value[GRADING_OF_POINTS_ACTIVE] += points;
}

static double band(const grading_points_band_t *b, size_t n, int32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].at_most < 0 || v <= b[i].at_most) return b[i].points;
    return 0;
}

static int32_t reservation_day(const grading_tz_t *tz, const grading_order_t *o)
{
    if (o->reserved_ship_ms) return grading_tz_day(tz, o->reserved_ship_ms);
    return grading_tz_day(tz, o->paid_ms) + (int32_t)o->ship_within_days;
}

void grading_order_stage_times(const grading_rules_t *r, const grading_tz_t *tz, const grading_order_t *o,
                               int64_t *out)
{
    const grading_deadlines_def_t *dl = &r->deadlines;
    bool reserved = grading_order_is_reserved(o);
    int32_t start = reserved ? reservation_day(tz, o)
                             : grading_calendar_on_or_after(&r->calendar, grading_tz_day(tz, o->paid_ms));
    for (size_t k = 0; k < dl->nstages; k++) {
        int32_t day = reserved ? start + dl->stages[k].reserved_days
                               : grading_calendar_add_business(&r->calendar, start, dl->stages[k].business_days);
        out[k] = o->paid_ms ? grading_tz_day_start_ms(tz, day) : 0;
    }
}

static bool happened(int64_t t, int64_t as_of)
{
    return t && t <= as_of;
}

void grading_order_facts_add(const grading_rules_t *r, const grading_tz_t *tz, int64_t as_of_ms,
                             const char *order_id, const grading_order_t *o, grading_order_facts_t *f)
{
    if (!o->paid_ms || o->paid_ms > as_of_ms) return;
    const grading_points_def_t *pd = &r->points;
    const grading_deadlines_def_t *dl = &r->deadlines;
    bool reserved = grading_order_is_reserved(o);
    int32_t paid_day = grading_tz_day(tz, o->paid_ms);
    bool shipped = happened(o->shipped_ms, as_of_ms), cancelled = happened(o->cancelled_ms, as_of_ms);
    bool delivered = happened(o->delivered_ms, as_of_ms);

    if (pd->enabled) {
        double delivery = 0;
        if (delivered) {
            /* a reserved order is late or not against its reservation date,
             * whatever its destination: its table has no plus points */
            int kind = reserved ? 1 : (o->flags & GRADING_ORDER_OVERSEAS) ? 2 : 0;
            int32_t from = reserved ? reservation_day(tz, o) : paid_day;
            int32_t dday = grading_tz_day(tz, o->delivered_ms);
            delivery = band(pd->delivery[kind], pd->ndelivery[kind], dday - from);
            earn(f, GRADING_PT_DELIVERY, dday, delivery);
            if (o->flags & GRADING_ORDER_AUTO_COMPLETED)
                earn(f, GRADING_PT_AUTO_COMPLETED, dday, pd->per_event[GRADING_PT_AUTO_COMPLETED]);
        }
        if (shipped && !reserved && delivery >= 0) {
            int32_t start = grading_calendar_on_or_after(&r->calendar, paid_day);
            int32_t sday = grading_tz_day(tz, o->shipped_ms);
            int32_t bd = sday <= start ? 0 : grading_calendar_business_between(&r->calendar, start, sday);
            earn(f, GRADING_PT_DISPATCH, sday, band(pd->dispatch, pd->ndispatch, bd));
        }
        if (cancelled && o->cancel_fault == GRADING_FAULT_SELLER)
            earn(f, GRADING_PT_SELLER_CLAIM, grading_tz_day(tz, o->cancelled_ms),
                 pd->per_event[GRADING_PT_SELLER_CLAIM]);
        if (happened(o->returned_ms, as_of_ms) && o->return_fault == GRADING_FAULT_SELLER)
            earn(f, GRADING_PT_SELLER_CLAIM, grading_tz_day(tz, o->returned_ms),
                 pd->per_event[GRADING_PT_SELLER_CLAIM]);
        if (happened(o->non_receipt_ms, as_of_ms))
            earn(f, GRADING_PT_NON_RECEIPT, grading_tz_day(tz, o->non_receipt_ms),
                 pd->per_event[GRADING_PT_NON_RECEIPT]);
    }
    if (dl->nstages == 0) return;
    int64_t t[GRADING_DEADLINE_MAX_STAGES];
    grading_order_stage_times(r, tz, o, t);
    int64_t stop = INT64_MAX;
    if (o->shipped_ms && o->shipped_ms < stop) stop = o->shipped_ms;
    if (o->cancelled_ms && o->cancelled_ms < stop) stop = o->cancelled_ms;
    if (o->delivered_ms && o->delivered_ms < stop) stop = o->delivered_ms;   /* delivered: it shipped */
    int reached = -1;
    for (size_t k = 0; k < dl->nstages; k++) {
        if (t[k] > as_of_ms || t[k] >= stop) break;
        reached = (int)k;
        if (dl->stages[k].points != 0)
            earn(f, GRADING_PT_DELAY, grading_tz_day(tz, t[k]), dl->stages[k].points);
    }
    if (shipped || cancelled || delivered) return;   /* the clock stopped: no alert */
    for (size_t k = 0; k < dl->nstages; k++)
        if (t[k] > as_of_ms && (f->next_due_ms == 0 || t[k] < f->next_due_ms)) {
            f->next_due_ms = t[k];
            break;
        }
    if (reached < 0) return;
    for (int k = 0; k <= reached && k < 3; k++) f->value[GRADING_OF_OPEN_CAUTION + k]++;
    if (f->nalerts < GRADING_MAX_ORDER_ALERTS) {
        snprintf(f->alerts[f->nalerts].order_id, sizeof f->alerts[0].order_id, "%s", order_id);
        snprintf(f->alerts[f->nalerts].product_id, sizeof f->alerts[0].product_id, "%s", o->product_id);
        f->alerts[f->nalerts].stage = reached;
        f->nalerts++;
    }
}

void grading_order_facts_add_day(const grading_rules_t *r, int32_t day, const grading_day_counters_t *d,
                                 grading_order_facts_t *f)
{
    const grading_points_def_t *pd = &r->points;
    if (!pd->enabled) return;
    earn(f, GRADING_PT_STRONGLY_RECOMMEND, day,
         pd->per_event[GRADING_PT_STRONGLY_RECOMMEND] * (double)d->c[GRADING_C_STRONGLY_RECOMMEND]);
    earn(f, GRADING_PT_NOT_RECOMMENDED, day,
         pd->per_event[GRADING_PT_NOT_RECOMMENDED] * (double)d->c[GRADING_C_NOT_RECOMMENDED]);
}

static bool restricting(const grading_rules_t *r, int stage)
{
    for (int k = 0; k <= stage; k++)
        if (r->deadlines.stages[k].restricts) return true;
    return false;
}

bool grading_order_facts_needs_rates(const grading_rules_t *r, const grading_order_facts_t *f)
{
    for (size_t i = 0; i < f->nalerts; i++)
        if (restricting(r, f->alerts[i].stage)) return true;
    return false;
}

void grading_order_facts_rate_add(const grading_rules_t *r, const grading_tz_t *tz, int64_t as_of_ms,
                                  const grading_order_t *o, const grading_order_facts_t *f,
                                  grading_product_rate_t *acc)
{
    if (!o->paid_ms || o->paid_ms > as_of_ms) return;
    int32_t paid_day = grading_tz_day(tz, o->paid_ms);
    if (paid_day < f->today - r->deadlines.product_window_days + 1) return;
    if (happened(o->cancelled_ms, as_of_ms)) return;   /* a cancelled order is not judged */
    /* shipped: a shipped event, or a delivery without one */
    int64_t ship_ms = happened(o->shipped_ms, as_of_ms)     ? o->shipped_ms
                      : happened(o->delivered_ms, as_of_ms) ? o->delivered_ms
                                                            : 0;
    /* the promise: a reserved order by its reservation day; a normal one
     * within its promised business days (SPEC: "ships within 3 business
     * days") of the clock's start */
    uint32_t promised = o->ship_within_days ? o->ship_within_days : GRADING_DEFAULT_SHIP_WITHIN_DAYS;
    int32_t due = grading_order_is_reserved(o)
                      ? reservation_day(tz, o)
                      : grading_calendar_add_business(&r->calendar,
                                                      grading_calendar_on_or_after(&r->calendar, paid_day),
                                                      (int32_t)promised);
    if (!ship_ms && due >= f->today) return;   /* not judged yet */
    bool on_time = ship_ms && grading_tz_day(tz, ship_ms) <= due;
    for (size_t i = 0; i < f->nalerts; i++) {
        if (!restricting(r, f->alerts[i].stage) || strcmp(f->alerts[i].product_id, o->product_id) != 0)
            continue;
        acc[i].judged++;
        acc[i].on_time += on_time;
    }
}

void grading_order_facts_finish(const grading_rules_t *r, grading_order_facts_t *f,
                                const grading_product_rate_t *acc)
{
    for (size_t i = 0; acc && i < f->nalerts; i++) {
        if (!restricting(r, f->alerts[i].stage) || acc[i].judged == 0) continue;
        double rate = (double)acc[i].on_time / acc[i].judged;
        if (rate > r->deadlines.product_rate + 1e-12) continue;
        bool dup = false;
        for (size_t k = 0; k < f->nstopped; k++) dup |= strcmp(f->stopped[k], f->alerts[i].product_id) == 0;
        if (dup || f->nstopped >= GRADING_MAX_STOPPED_PRODUCTS) continue;
        snprintf(f->stopped[f->nstopped++], sizeof f->stopped[0], "%s", f->alerts[i].product_id);
    }
    double m = 0, p = 0, y = 0;
    for (int k = 0; k < GRADING_PT_COUNT; k++) m += f->month[k], p += f->prev_month[k], y += f->year[k];
    f->value[GRADING_OF_POINTS_MONTH] = round(m * 1e6) / 1e6;   /* 0.1 steps summed: no 0.30000000000000004 */
    f->value[GRADING_OF_POINTS_PREV_MONTH] = round(p * 1e6) / 1e6;
    f->value[GRADING_OF_POINTS_YEAR] = round(y * 1e6) / 1e6;
    f->value[GRADING_OF_POINTS_LAST_MONTH] = f->value[GRADING_OF_POINTS_PREV_MONTH];
    f->value[GRADING_OF_POINTS_ACTIVE] = round(f->value[GRADING_OF_POINTS_ACTIVE] * 1e6) / 1e6;
    f->value[GRADING_OF_STOPPED_PRODUCTS] = (double)f->nstopped;
}
