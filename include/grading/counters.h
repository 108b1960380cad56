/* Per-day counters of one seller, and how events change them.
 *
 * Counters are derived from state, not from event arrival: an order adds
 * what its merged timeline implies (paid -> orders and GMV on the paid day,
 * shipped -> shipped on the shipped day, and "on time" once both are known,
 * ...). Applying an event emits the contributions of the record before
 * (negated) and after, so counters end the same whatever the arrival order. */
#ifndef GRADING_COUNTERS_H
#define GRADING_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/event.h"
#include "grading/order.h"
#include "grading/tz.h"

/* The base counters; names (grading_counter_name) are the metric names. */
typedef enum {
    GRADING_C_ORDERS = 0,
    GRADING_C_GMV,
    GRADING_C_SHIPPED,
    GRADING_C_SHIPPED_ON_TIME,
    GRADING_C_SHIPPED_TRACKING_VALID,
    GRADING_C_DELIVERED,
    GRADING_C_AUTO_COMPLETED,
    GRADING_C_CANCELS,
    GRADING_C_CANCELS_SELLER_FAULT,
    GRADING_C_CANCELS_BUYER_FAULT,
    GRADING_C_CANCELS_PLATFORM_FAULT,
    GRADING_C_CANCELS_OUT_OF_STOCK,
    GRADING_C_CANCELS_SHIPPING_DELAY,
    GRADING_C_CANCELS_BUYER_REQUEST,
    GRADING_C_CANCELS_OTHER,
    GRADING_C_RETURNS,
    GRADING_C_RETURNS_SELLER_FAULT,
    GRADING_C_EXCHANGES,
    GRADING_C_EXCHANGES_SELLER_FAULT,
    GRADING_C_NON_RECEIPTS,
    GRADING_C_INQUIRIES,
    GRADING_C_INQUIRIES_ANSWERED,
    GRADING_C_INQUIRIES_ANSWERED_24H,
    GRADING_C_REVIEWS,
    GRADING_C_RATING_SUM,
    GRADING_C_STRONGLY_RECOMMEND,
    GRADING_C_RECOMMEND,
    GRADING_C_NOT_RECOMMENDED,
    GRADING_C_DELIVERY_SATISFACTION_SUM,
    GRADING_C_DELIVERY_SATISFACTION_COUNT,
    GRADING_C_PLATFORM_REVENUE,
    /* appended: stored days hold a counter count, older days read as 0 */
    GRADING_C_SHIPPING_RATINGS,         /* reviews that rated shipping speed */
    GRADING_C_SHIPPING_RATING_SUM,
    GRADING_C_INQUIRY_RATINGS,          /* reviews that rated the inquiry response */
    GRADING_C_INQUIRY_RATING_SUM,
    /* Orders with lifecycle events but no payment yet, on the day of their
     * first held event; they count in no rate until the payment arrives. */
    GRADING_C_ORPHANS_PENDING,
    /* Such orders dropped after --orphan-max-age, on the day of the drop. */
    GRADING_C_ORPHANS_DROPPED,
    /* Cancellations by fault x reason, one cell per cancel (fault-major,
     * in grading_fault_t x grading_cancel_reason_t order), so a metric's
     * `exclude` sums any union of faults and reasons from cells. */
    GRADING_C_CANCELS_UNSPECIFIED_FAULT_UNSPECIFIED,
    GRADING_C_CANCELS_UNSPECIFIED_FAULT_OUT_OF_STOCK,
    GRADING_C_CANCELS_UNSPECIFIED_FAULT_SHIPPING_DELAY,
    GRADING_C_CANCELS_UNSPECIFIED_FAULT_BUYER_REQUEST,
    GRADING_C_CANCELS_UNSPECIFIED_FAULT_OTHER,
    GRADING_C_CANCELS_SELLER_FAULT_UNSPECIFIED,
    GRADING_C_CANCELS_SELLER_FAULT_OUT_OF_STOCK,
    GRADING_C_CANCELS_SELLER_FAULT_SHIPPING_DELAY,
    GRADING_C_CANCELS_SELLER_FAULT_BUYER_REQUEST,
    GRADING_C_CANCELS_SELLER_FAULT_OTHER,
    GRADING_C_CANCELS_BUYER_FAULT_UNSPECIFIED,
    GRADING_C_CANCELS_BUYER_FAULT_OUT_OF_STOCK,
    GRADING_C_CANCELS_BUYER_FAULT_SHIPPING_DELAY,
    GRADING_C_CANCELS_BUYER_FAULT_BUYER_REQUEST,
    GRADING_C_CANCELS_BUYER_FAULT_OTHER,
    GRADING_C_CANCELS_PLATFORM_FAULT_UNSPECIFIED,
    GRADING_C_CANCELS_PLATFORM_FAULT_OUT_OF_STOCK,
    GRADING_C_CANCELS_PLATFORM_FAULT_SHIPPING_DELAY,
    GRADING_C_CANCELS_PLATFORM_FAULT_BUYER_REQUEST,
    GRADING_C_CANCELS_PLATFORM_FAULT_OTHER,
    /* Returns and exchanges by the faults the marginals above lack (with
     * *_SELLER_FAULT they are the cells of `returns` / `exchanges`). */
    GRADING_C_RETURNS_BUYER_FAULT,
    GRADING_C_RETURNS_PLATFORM_FAULT,
    GRADING_C_RETURNS_UNSPECIFIED_FAULT,
    GRADING_C_EXCHANGES_BUYER_FAULT,
    GRADING_C_EXCHANGES_PLATFORM_FAULT,
    GRADING_C_EXCHANGES_UNSPECIFIED_FAULT,
    GRADING_C_COUNT
} grading_counter_t;

/* Exclusions are uint64_t masks over the base counters. */
_Static_assert(GRADING_C_COUNT <= 64, "a uint64_t mask must cover every base counter");

#define GRADING_MAX_CUSTOM_PER_DAY 32

/* The largest magnitude a day's counter may reach (GMV included): a window
 * of up to 1024 days then sums without overflowing int64. About 9.0e15, nine
 * events of GRADING_MAX_AMOUNT on one day for one seller. */
#define GRADING_MAX_DAY_COUNTER (INT64_MAX / 1024)
/* The same for a day's custom counter (a double): sums stay finite. */
#define GRADING_MAX_DAY_CUSTOM 1e300

/* An order paid with ship_within_days = 0 made no promise; it is judged
 * against this many days (a policy may judge differently). */
#define GRADING_DEFAULT_SHIP_WITHIN_DAYS 3
/* "Answered within 24 h" (the base counter inquiries_answered_24h). */
#define GRADING_INQUIRY_ANSWER_MS (24 * INT64_C(3600000))

typedef struct {
    char name[GRADING_MAX_CUSTOM_NAME_LEN + 1];
    double value;
} grading_custom_value_t;

/* One seller's counters for one local day (or summed over a window). */
typedef struct {
    int64_t c[GRADING_C_COUNT];
    uint32_t ncustom;
    grading_custom_value_t custom[GRADING_MAX_CUSTOM_PER_DAY];
} grading_day_counters_t;

/* One change to one day's counter. custom != NULL names a custom counter
 * (then fvalue is the change and counter is unused). */
typedef struct {
    int32_t day;
    grading_counter_t counter;
    int64_t delta;
    const char *custom;   /* borrowed from the event */
    double fvalue;
} grading_contrib_t;

/* Enough for any one event's contributions (old and new record together). */
#define GRADING_MAX_CONTRIBS 64

/* "orders", "gmv", ... ; NULL for an out-of-range counter. */
const char *grading_counter_name(grading_counter_t c);

void grading_day_counters_init(grading_day_counters_t *d);

/* *out = a + b when that neither overflows nor leaves [-limit, limit];
 * otherwise returns false and leaves *out alone. */
bool grading_counter_add_ok(int64_t a, int64_t b, int64_t limit, int64_t *out);

/* Applies one contribution to d (which must be the record of contrib->day).
 * Errors: GRADING_EFULL when a new custom name would exceed
 * GRADING_MAX_CUSTOM_PER_DAY; GRADING_ERANGE when the counter would leave
 * [-GRADING_MAX_DAY_COUNTER, GRADING_MAX_DAY_COUNTER] (a custom one
 * [-GRADING_MAX_DAY_CUSTOM, GRADING_MAX_DAY_CUSTOM] or not be finite);
 * d is unchanged then. */
grading_err_t grading_day_counters_apply(grading_day_counters_t *d, const grading_contrib_t *k);

/* acc += d, customs merged by name. Errors: GRADING_EFULL as above;
 * GRADING_ERANGE when a sum would overflow (acc is partly added then). */
grading_err_t grading_day_counters_add(grading_day_counters_t *acc, const grading_day_counters_t *d);

/* A custom counter's value in d (0 if absent). */
double grading_day_counters_custom(const grading_day_counters_t *d, const char *name);

/* True when the order is paid and shipped by its promise: a reserved date's
 * local day, else ship_within_days local days after the paid day. */
bool grading_order_shipped_on_time(const grading_order_t *o, const grading_tz_t *tz);

/* The contributions of an order record, with sign (+1 or -1). Appends to
 * out[*n], never past cap. Returns GRADING_EFULL if cap is too small. */
grading_err_t grading_order_contribs(const grading_order_t *o, const grading_tz_t *tz, int sign,
                                     grading_contrib_t *out, size_t cap, size_t *n);

/* Only the cell contributions of an order record (its cancel's fault x
 * reason cell, its return's and exchange's fault cells; part of
 * grading_order_contribs): what rebuilds the cells of days stored before
 * they existed. Counters from GRADING_C_CELLS_ADDED on are the ones such
 * days lack; the seller cells of returns and exchanges are older. */
grading_err_t grading_order_cell_contribs(const grading_order_t *o, const grading_tz_t *tz, int sign,
                                          grading_contrib_t *out, size_t cap, size_t *n);
#define GRADING_C_CELLS_ADDED GRADING_C_CANCELS_UNSPECIFIED_FAULT_UNSPECIFIED

/* The same for an inquiry record. */
grading_err_t grading_inquiry_contribs(const grading_inquiry_t *q, const grading_tz_t *tz,
                                       int sign, grading_contrib_t *out, size_t cap, size_t *n);

/* ---- exclusions (appeals, exemptions: issue 15) ----
 * A record's contribution to a counter its exclusion mask holds does not
 * count in the seller's days (`daily`) but in the excluded days (`xdaily`),
 * so daily stays the adjusted truth and raw = daily + xdaily. */

/* The bit of counter c in a mask. */
#define GRADING_C_BIT(c) (UINT64_C(1) << (c))
/* Every base counter. */
#define GRADING_C_MASK_ALL (GRADING_C_COUNT >= 64 ? UINT64_MAX : (UINT64_C(1) << GRADING_C_COUNT) - 1)

/* Splits ks[0..n) by mask: a base counter's contribution whose bit is set
 * is appended to excl, every other one (customs included) to kept; each
 * never past its cap. Errors: GRADING_EFULL (a cap too small). */
grading_err_t grading_contribs_split(const grading_contrib_t *ks, size_t n, uint64_t mask,
                                     grading_contrib_t *kept, size_t kcap, size_t *nkept,
                                     grading_contrib_t *excl, size_t xcap, size_t *nexcl);

/* grading_order_contribs split by the record's own mask (appeal_mask |
 * exempt_mask): appends to kept / excl as grading_contribs_split. */
grading_err_t grading_order_contribs_split(const grading_order_t *o, const grading_tz_t *tz, int sign,
                                           grading_contrib_t *kept, size_t kcap, size_t *nkept,
                                           grading_contrib_t *excl, size_t xcap, size_t *nexcl);

/* The same for an inquiry record. */
grading_err_t grading_inquiry_contribs_split(const grading_inquiry_t *q, const grading_tz_t *tz, int sign,
                                             grading_contrib_t *kept, size_t kcap, size_t *nkept,
                                             grading_contrib_t *excl, size_t xcap, size_t *nexcl);

/* A record's change from old to now, each split by its own mask: old's
 * negated and now's added, appended to kept / excl (each up to
 * GRADING_MAX_CONTRIBS). What ingest applies for an event and an appeal or
 * exemption for a mask change. Errors: GRADING_EFULL. */
grading_err_t grading_order_change_split(const grading_order_t *old, const grading_order_t *now,
                                         const grading_tz_t *tz, grading_contrib_t *kept, size_t *nkept,
                                         grading_contrib_t *excl, size_t *nexcl);
grading_err_t grading_inquiry_change_split(const grading_inquiry_t *old, const grading_inquiry_t *now,
                                           const grading_tz_t *tz, grading_contrib_t *kept, size_t *nkept,
                                           grading_contrib_t *excl, size_t *nexcl);

/* The contributions of an event that keeps no record (review, delivery
 * satisfaction, platform revenue, custom). Others append nothing. */
grading_err_t grading_event_contribs(const grading_event_t *ev, const grading_tz_t *tz,
                                     grading_contrib_t *out, size_t cap, size_t *n);

/* ---- cells: the joint counters behind cancels, returns, exchanges ---- */

#define GRADING_NFAULTS 4    /* grading_fault_t values, unspecified included */
#define GRADING_NREASONS 5   /* grading_cancel_reason_t values */

/* The cancel cell of (fault, reason); a value out of range counts as
 * unspecified. Every cancel adds to exactly one. */
grading_counter_t grading_cancel_cell(int32_t fault, int32_t reason);
/* The return (exchange) cell of a fault; the seller one is
 * GRADING_C_RETURNS_SELLER_FAULT (GRADING_C_EXCHANGES_SELLER_FAULT). */
grading_counter_t grading_return_cell(int32_t fault);
grading_counter_t grading_exchange_cell(int32_t fault);

/* "seller", "buyer_request", ... as in policy files; NULL out of range. */
const char *grading_fault_name(int32_t f);
const char *grading_reason_name(int32_t r);
/* The value named s; -1 if none. */
int32_t grading_fault_parse(const char *s);
int32_t grading_reason_parse(const char *s);

/* What a metric's `exclude` drops: an event whose fault f has bit f of
 * faults set, or (cancels) whose reason r has bit r of reasons set. */
typedef struct {
    uint32_t faults, reasons;
} grading_exclusion_t;

/* The cells that sum to base counter c once ex's events are dropped, as a
 * mask of counter bits (c's own cells when ex drops nothing). Returns
 * false, *mask untouched, for a counter not made of cells (not a cancel,
 * return or exchange counter). */
bool grading_counter_cells(grading_counter_t c, const grading_exclusion_t *ex, uint64_t *mask);

#endif
