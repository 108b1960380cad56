/* A marketplace's grading rules, compiled, and their evaluation.
 *
 * The policy loader builds a grading_rules_t from YAML (src/policy); this
 * module (core: pure, no I/O) evaluates it for one seller from the sums of
 * the seller's daily counters over each window the rules use. The chain is
 *
 *   window sums -> metrics -> scores -> programmes (grades)
 *               -> penalty ladders -> benefits (boost, ad credit, settlement)
 *
 * and every step may read the ones before it by name in its expressions
 * (grading/expr.h). "Not enough data" (a rate under its minimum volume)
 * flows through: a score decided by it is unavailable, a grade decided by
 * it is the programme's new-seller level, a penalty stage needs its
 * condition to be true, never unknown.
 *
 * Names in expressions:
 *   metric expressions   base counters of the metric's window (`orders`,
 *                        `gmv`, `custom.NAME`) and other metrics
 *   scores               metrics and other scores
 *   programmes           metrics, scores, `score` (the programme's own)
 *   penalty stages       metrics, scores, `PROGRAM.level`, `PROGRAM.score`,
 *                        `PROGRAM.published` (the last closed period's
 *                        level), `history.NAME` (strikes, averages; over
 *                        the last N closed periods or, with calendar_year,
 *                        last calendar year's once its last one is closed)
 *   per-order names      (scores and after, with per-order rules)
 *                        `points.month`, `points.prev_month`, `points.year`,
 *                        `points.last_month` (the last completed month's:
 *                        its close's published value, else its live total),
 *                        `points.active` (with service_points.expire_after
 *                        N days: the points earned on the last N local days,
 *                        as_of's day included; a point earned on day d
 *                        counts through day d+N-1 and is gone on day d+N),
 *                        `orders.caution|warning|restriction`,
 *                        `products.stopped`
 *   benefits             all of the above and `penalty.LADDER.stage`,
 *                        `suspended`, `withdrawals_held`
 * Cycles between metrics or between scores are load errors. */
#ifndef GRADING_RULES_H
#define GRADING_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/calendar.h"
#include "grading/counters.h"
#include "grading/err.h"
#include "grading/exemption.h"
#include "grading/expr.h"
#include "grading/order.h"
#include "grading/tz.h"

#define GRADING_RULES_MAX_WINDOWS 16
#define GRADING_RULES_MAX_METRICS 128
#define GRADING_RULES_MAX_SCORES 64
#define GRADING_RULES_MAX_BANDS 16
#define GRADING_RULES_MAX_PROGRAMS 8
#define GRADING_RULES_MAX_LEVELS 16
#define GRADING_RULES_MAX_LADDERS 16
#define GRADING_RULES_MAX_STAGES 8
#define GRADING_RULES_MAX_RESTRICTIONS 8
#define GRADING_RULES_MAX_GRANTS 16
#define GRADING_RULES_MAX_TIERS 8
#define GRADING_RULES_REASON_LEN 256
#define GRADING_RULES_MAX_REASONS 4
#define GRADING_RULES_MAX_HISTORY 8
#define GRADING_RULES_MAX_HISTORY_PERIODS 60

/* ---- windows ---- */

typedef enum {
    GRADING_WIN_DAYS = 0,       /* the last N local days, as_of's day included */
    GRADING_WIN_MONTH,          /* the calendar month holding as_of, to date */
    GRADING_WIN_PREV_MONTH,     /* the whole month before */
    GRADING_WIN_QUARTER,
    GRADING_WIN_PREV_QUARTER,
    GRADING_WIN_YEAR,
    GRADING_WIN_PREV_YEAR,
    GRADING_WIN_PREV_MONTHS     /* the N whole calendar months before the current one */
} grading_window_kind_t;

typedef struct {
    grading_window_kind_t kind;
    int32_t days;        /* GRADING_WIN_DAYS: 1..GRADING_WINDOW_MAX_DAYS;
                          * GRADING_WIN_PREV_MONTHS: months, 1..GRADING_WINDOW_MAX_MONTHS */
    char name[16];       /* "90d", "month", "prev_quarter" */
} grading_window_t;

#define GRADING_WINDOW_MAX_DAYS 800
#define GRADING_WINDOW_MAX_MONTHS 24
/* `lasts` at most: finding a stage's run assesses the seller as of up to
 * this many earlier days */
#define GRADING_STAGE_MAX_LASTS_DAYS 180

/* Parses "30d", "month", "prev_month", "quarter", "prev_quarter", "year",
 * "prev_year", "prev_12m" (the 12 whole months before this one: what a
 * status judged on completed months reads). Errors: GRADING_EINVAL. */
grading_err_t grading_window_parse(const char *s, grading_window_t *out);

/* The local days [*first, *last] the window covers as of local day today. */
void grading_window_range(const grading_window_t *w, int32_t today, int32_t *first, int32_t *last);

/* ---- restrictions (values are the proto's RestrictionKind numbers) ---- */

typedef enum {
    GRADING_R_WARNING = 1,
    GRADING_R_PROMOTION_BAN = 2,
    GRADING_R_LISTING_CAP = 3,
    GRADING_R_PRODUCT_SALES_STOPPED = 4,
    GRADING_R_NEW_DEALS_BLOCKED = 5,
    GRADING_R_SALES_SUSPENDED = 6,
    GRADING_R_WITHDRAWALS_HELD = 7,
    GRADING_R_CONTRACT_TERMINATION = 8
} grading_restriction_kind_t;

/* "warning", "promotion_ban", ... (lower case, as in policy files). */
const char *grading_restriction_name(grading_restriction_kind_t k);
/* The kind named s (either case); 0 if none. */
grading_restriction_kind_t grading_restriction_parse(const char *s);

/* ---- the compiled rules (built by the loader, then immutable) ---- */

typedef struct {
    const char *name;
    const char *description;    /* may be NULL */
    int window;                 /* index into windows, -1: reads only other metrics */
    grading_expr_t *value;      /* value form, or NULL */
    grading_expr_t *numerator;  /* rate form: value = numerator / denominator */
    grading_expr_t *denominator;
    grading_expr_t *volume;     /* what min_volume is compared with (rate: denominator) */
    double min_volume;          /* below it: not enough data */
    double lo, hi;              /* the range the value can take (advice searches in it) */
    int better;                 /* +1 higher is better, -1 lower is, 0 unknown */
    grading_exclusion_t exclude;/* `exclude:` the events this metric's cancel, return and exchange
                                 * counters leave out (the loader rewrote them into cell sums) */
} grading_metric_def_t;

typedef struct {
    grading_expr_t *when;       /* NULL: always (the last band) */
    grading_expr_value_t value; /* points (number) or verdict (string) */
} grading_band_t;

typedef struct {
    const char *name;
    grading_expr_type_t type;   /* NUMBER (points) or STRING (verdict) */
    size_t nbands;
    grading_band_t bands[GRADING_RULES_MAX_BANDS];
    bool has_insufficient;
    grading_expr_value_t insufficient;   /* the value when data decides nothing */
} grading_score_def_t;

typedef struct {
    int32_t level;
    grading_expr_t *when;
    const char *text;           /* the condition as written, for reasons */
} grading_level_rule_t;

typedef struct {
    int32_t best;               /* no level better (lower) than this ... */
    grading_expr_t *unless;     /* ... unless this is true */
    const char *text;
} grading_cap_t;

typedef struct {
    const char *name;
    const char *description;
    size_t nlevels;
    int32_t levels[GRADING_RULES_MAX_LEVELS];      /* ascending, 1 is best */
    const char *labels[GRADING_RULES_MAX_LEVELS];
    grading_expr_t *score;      /* may be NULL */
    size_t nrules;
    grading_level_rule_t rules[GRADING_RULES_MAX_LEVELS];   /* first true wins */
    int32_t otherwise;          /* no rule true */
    int32_t new_seller;         /* a rule could not be judged: not enough data */
    size_t ncaps;
    grading_cap_t caps[GRADING_RULES_MAX_LEVELS];
    size_t noverrides;
    grading_level_rule_t overrides[GRADING_RULES_MAX_LEVELS]; /* first true wins, last word */
    int publish;                /* the period kind whose close freezes it (period.h), default month */
} grading_program_def_t;

/* A fact over a programme's closed periods (ClosePeriod), named
 * `history.NAME` in penalties and benefits. */
typedef enum {
    GRADING_HISTORY_STRIKES = 1,   /* periods at level >= strike_level, after the last relief */
    GRADING_HISTORY_AVERAGE,       /* the average published level */
    GRADING_HISTORY_STREAK         /* the latest periods in a row at level >= strike_level */
} grading_history_kind_t;

typedef struct {
    const char *name;
    grading_history_kind_t kind;
    size_t program;             /* index into programs */
    uint32_t over;              /* the last N closed periods of the programme's kind */
    int32_t strike_level;       /* STRIKES: a period closed at this level or worse */
    int32_t relief_level;       /* STRIKES: a later period at this level or better voids them; 0: none */
    uint32_t limit;             /* STRIKES: shown as StrikeState.limit */
    uint32_t min_periods;       /* AVERAGE: fewer closed periods is not enough data */
    bool calendar_year;         /* over the periods of the last calendar year, once its last period
                                 * is closed (a yearly selection, valid the whole following year);
                                 * `over` is then the periods in a year */
} grading_history_def_t;

typedef struct {
    grading_restriction_kind_t kind;
    int64_t limit;              /* LISTING_CAP: the cap */
} grading_restriction_def_t;

typedef struct {
    int32_t stage;              /* 1.., ascending in the ladder */
    const char *name;
    grading_expr_t *when;
    const char *text;
    size_t nrestrictions;
    grading_restriction_def_t restrictions[GRADING_RULES_MAX_RESTRICTIONS];
    int32_t lasts_days;         /* `lasts: Nd`: the stage applies on the first N days of a run of
                                 * days its condition held (through day start+N-1), then lapses
                                 * while the condition still holds; 0: as long as it holds */
} grading_stage_def_t;

typedef struct {
    const char *name;
    size_t nstages;
    grading_stage_def_t stages[GRADING_RULES_MAX_STAGES];   /* the highest true applies */
} grading_ladder_def_t;

typedef struct {
    const char *program;
    int64_t amount;
    grading_expr_t *when;
    const char *reason;
} grading_grant_def_t;

typedef struct {
    const char *tier;
    uint32_t cycle_days;
    grading_expr_t *when;       /* NULL: the default tier (last) */
} grading_tier_def_t;

/* ---- per-order clocks and service points (Qoo10, SPEC §3) ---- */

#define GRADING_DEADLINE_MAX_STAGES 4
#define GRADING_POINTS_MAX_BANDS 16

/* A stage of the shipping-delay ladder of one order. */
typedef struct {
    const char *name;           /* "caution", "warning", "restriction" */
    int32_t business_days;      /* normal orders: the Nth business day after payment */
    int32_t reserved_days;      /* reserved orders: days after the reservation date */
    double points;              /* service points when reached unshipped (never restored) */
    bool restricts;             /* stops the product when its shipping rate <= product_rate */
} grading_deadline_stage_t;

typedef struct {
    size_t nstages;             /* 0: no per-order clocks */
    grading_deadline_stage_t stages[GRADING_DEADLINE_MAX_STAGES];   /* ascending */
    double product_rate;        /* restriction at or below this shipping rate */
    int32_t product_window_days;
} grading_deadlines_def_t;

typedef struct {
    int32_t at_most;            /* days (or business days); -1: any more */
    double points;
} grading_points_band_t;

/* The service-point rules; values are points per order or event. */
enum {
    GRADING_PT_DISPATCH = 0, GRADING_PT_DELIVERY, GRADING_PT_AUTO_COMPLETED, GRADING_PT_SELLER_CLAIM,
    GRADING_PT_NON_RECEIPT, GRADING_PT_STRONGLY_RECOMMEND, GRADING_PT_NOT_RECOMMENDED,
    GRADING_PT_DELAY, GRADING_PT_COUNT
};

typedef struct {
    bool enabled;
    size_t ndispatch;
    grading_points_band_t dispatch[GRADING_POINTS_MAX_BANDS];   /* business days from payment to shipment */
    size_t ndelivery[3];                                        /* normal, reserved, overseas */
    grading_points_band_t delivery[3][GRADING_POINTS_MAX_BANDS];/* days from payment to delivery */
    double per_event[GRADING_PT_COUNT];   /* auto_completed, seller claims, non-receipt, reviews */
    int32_t expire_after_days;  /* `expire_after: Nd`: points.active reads the last N days; 0: none */
} grading_points_def_t;

/* "dispatch", "delivery", ... */
const char *grading_points_rule_name(int rule);

/* Appeals (issue 15): ExcludeEvents / RestoreEvents. */
typedef struct {
    bool reopen_closed;         /* closed periods an appeal touches are re-published */
    uint32_t max_per_order;     /* appeals that change one record; 0: unlimited */
} grading_appeals_def_t;

#define GRADING_APPEALS_MAX_PER_ORDER 1000
#define GRADING_RULES_MAX_EXEMPTIONS 16   /* shipped in a policy file, per marketplace */
/* A policy file's exemption is stored under this prefix and its id, so a
 * reload can tell the file's from those declared by RPC. */
#define GRADING_POLICY_EXEMPTION_PREFIX "policy."

typedef struct {
    size_t nwindows;
    grading_window_t windows[GRADING_RULES_MAX_WINDOWS];
    size_t nmetrics;
    grading_metric_def_t metrics[GRADING_RULES_MAX_METRICS];
    size_t nscores;
    grading_score_def_t scores[GRADING_RULES_MAX_SCORES];
    size_t nprograms;
    grading_program_def_t programs[GRADING_RULES_MAX_PROGRAMS];
    size_t nladders;
    grading_ladder_def_t ladders[GRADING_RULES_MAX_LADDERS];
    grading_expr_t *boost;      /* NULL: neutral_boost */
    double neutral_boost;       /* unknown sellers, and boost when unavailable */
    size_t ngrants;
    grading_grant_def_t grants[GRADING_RULES_MAX_GRANTS];
    size_t ntiers;
    grading_tier_def_t tiers[GRADING_RULES_MAX_TIERS];
    grading_expr_t *convertible_points;   /* NULL: 0 */
    size_t nhistory;
    grading_history_def_t history[GRADING_RULES_MAX_HISTORY];
    grading_calendar_t calendar;
    grading_deadlines_def_t deadlines;
    grading_points_def_t points;
    grading_appeals_def_t appeals;
    size_t nexemptions;         /* `exemptions:` (issue 15); marketplace and declared_ms unset */
    grading_exemption_t exemptions[GRADING_RULES_MAX_EXEMPTIONS];
    /* custom counters the expressions name, for symbol ids */
    size_t ncustom;
    const char *custom[GRADING_RULES_MAX_METRICS];
} grading_rules_t;

/* Where an expression sits decides which names it may use (see the top). */
typedef enum {
    GRADING_SCOPE_METRIC_WINDOW = 0,   /* a metric with a window */
    GRADING_SCOPE_METRIC_DERIVED,      /* a metric without one */
    GRADING_SCOPE_SCORE,
    GRADING_SCOPE_PROGRAM,             /* programme score, rules, caps, overrides */
    GRADING_SCOPE_PENALTY,
    GRADING_SCOPE_BENEFIT
} grading_scope_t;

/* Resolves `name` for an expression in `scope`, for grading_expr_compile.
 * Metrics, scores, programmes and ladders must be declared (names set,
 * counts right) before any expression is compiled. A new `custom.NAME` is
 * added to r->custom. Returns false for a name that does not exist there. */
bool grading_rules_resolve(grading_rules_t *r, grading_scope_t scope, const char *name,
                           grading_expr_symbol_t *out);

/* What kind of thing a resolved symbol id names, for cycle checks. */
typedef enum {
    GRADING_SYM_COUNTER = 1, GRADING_SYM_CUSTOM, GRADING_SYM_METRIC, GRADING_SYM_SCORE,
    GRADING_SYM_SELF_SCORE, GRADING_SYM_PROG_LEVEL, GRADING_SYM_PROG_SCORE, GRADING_SYM_STAGE,
    GRADING_SYM_SUSPENDED, GRADING_SYM_HELD, GRADING_SYM_PUBLISHED, GRADING_SYM_HISTORY,
    GRADING_SYM_ORDERS
} grading_sym_kind_t;

/* Index of the per-order names (GRADING_SYM_ORDERS): */
enum {
    GRADING_OF_POINTS_MONTH = 0,    /* points.month: service points this month */
    GRADING_OF_POINTS_PREV_MONTH,   /* points.prev_month */
    GRADING_OF_POINTS_YEAR,         /* points.year: the last 12 months with this one */
    GRADING_OF_OPEN_CAUTION,        /* orders.caution: open orders at that stage (or later) */
    GRADING_OF_OPEN_WARNING,        /* orders.warning */
    GRADING_OF_OPEN_RESTRICTION,    /* orders.restriction */
    GRADING_OF_STOPPED_PRODUCTS,    /* products.stopped */
    GRADING_OF_POINTS_LAST_MONTH,   /* points.last_month: the last completed month's points, as its
                                     * close published them (grading_history_t.month_points), else
                                     * what its orders earned (= points.prev_month) */
    GRADING_OF_POINTS_ACTIVE,       /* points.active: earned on the last expire_after days */
    GRADING_OF_COUNT
};
#define GRADING_SYM_ID(kind, idx) ((uint32_t)(kind) << 24 | (uint32_t)(idx))
#define GRADING_SYM_KIND(id) ((grading_sym_kind_t)((id) >> 24))
#define GRADING_SYM_INDEX(id) ((size_t)((id) & 0xffffffu))

/* Which base counters a metric reads: bit c of *mask for counter c, through
 * the other metrics it names (each over its own window). A base counter's
 * name gives its own bit. Custom counters (`custom.NAME`) are not in the
 * mask. Errors: GRADING_ENOTFOUND (no such metric or counter; *mask 0). */
grading_err_t grading_rules_metric_counters(const grading_rules_t *r, const char *metric, uint64_t *mask);

/* The same, with the custom counters and the windows of the metric and of
 * the metrics it names (for evidence: what a metric's value is made of). */
typedef struct {
    uint64_t counters;                          /* bit c: base counter c */
    bool custom[GRADING_RULES_MAX_METRICS];     /* r->custom[i] is read */
    uint32_t windows;                           /* bit w: r->windows[w]; 0 for a base counter */
} grading_metric_reads_t;
grading_err_t grading_rules_metric_reads(const grading_rules_t *r, const char *metric, grading_metric_reads_t *out);

/* The label of a programme's level; "" for a level it does not have. */
const char *grading_rules_label(const grading_program_def_t *p, int32_t level);

/* Frees every compiled expression the rules own (not the strings, which
 * belong to the policy's arena). */
void grading_rules_destroy(grading_rules_t *r);

/* ---- evaluation ---- */

typedef struct {
    bool available;
    double value, numerator, denominator;
} grading_metric_val_t;

typedef struct {
    int32_t level;
    const char *label;
    bool has_score;
    double score;
    bool new_seller;            /* decided by "not enough data" */
    size_t nreasons;
    char reasons[GRADING_RULES_MAX_REASONS][GRADING_RULES_REASON_LEN];
} grading_grade_t;

typedef struct {
    int32_t stage;              /* 0: none */
    const grading_stage_def_t *def;
    uint8_t held;               /* bit k: stages[k]'s condition is true (lapsed or not) */
} grading_ladder_val_t;
_Static_assert(GRADING_RULES_MAX_STAGES <= 8, "a ladder's stages are bits of a uint8_t");

typedef struct {
    grading_metric_val_t metrics[GRADING_RULES_MAX_METRICS];
    grading_expr_value_t scores[GRADING_RULES_MAX_SCORES];
    grading_grade_t grades[GRADING_RULES_MAX_PROGRAMS];
    grading_ladder_val_t ladders[GRADING_RULES_MAX_LADDERS];
    bool suspended, withdrawals_held;
    double boost;
    bool granted[GRADING_RULES_MAX_GRANTS];
    int tier;                   /* index into tiers, -1 if none */
    double convertible_points;
} grading_assessment_t;

#define GRADING_MAX_ORDER_ALERTS 64
#define GRADING_MAX_STOPPED_PRODUCTS 32

/* What a seller's orders say as of a time: service points by rule and
 * month, the late orders and the stopped products (grading_order_facts_*). */
typedef struct {
    double month[GRADING_PT_COUNT], prev_month[GRADING_PT_COUNT], year[GRADING_PT_COUNT];
    double value[GRADING_OF_COUNT];
    size_t nalerts;
    struct {
        char order_id[GRADING_MAX_ID_LEN + 1];
        char product_id[GRADING_MAX_ID_LEN + 1];
        int stage;              /* index into deadlines.stages */
    } alerts[GRADING_MAX_ORDER_ALERTS];
    size_t nstopped;
    char stopped[GRADING_MAX_STOPPED_PRODUCTS][GRADING_MAX_ID_LEN + 1];
    int64_t next_due_ms;        /* the next stage an open order reaches; 0: none */
    /* internal: the days of this month, last month, the 12 months, and the
     * first day whose points are still active (INT32_MAX: no expiry) */
    int32_t month_first, prev_first, prev_last, year_first, today, active_first;
} grading_order_facts_t;

/* What closed periods (and the orders) say about a seller. */
typedef struct {
    int32_t published[GRADING_RULES_MAX_PROGRAMS];   /* last closed level; 0: none */
    bool has[GRADING_RULES_MAX_HISTORY];             /* false: no closed period */
    double value[GRADING_RULES_MAX_HISTORY];         /* history[i]'s value */
    const grading_order_facts_t *orders;             /* NULL: no per-order rules */
    bool has_month_points;                           /* the last completed month is closed ... */
    double month_points;                             /* ... and published these service points */
    uint8_t lapsed[GRADING_RULES_MAX_LADDERS];       /* bit k: ladder's stages[k] has lasted its
                                                      * `lasts` days: it does not apply (the grade
                                                      * layer finds them, src/grade/assess_lasts.c) */
} grading_history_t;

/* points.last_month: the last completed month's points as its close
 * published them (has_month_points), else its live total from h->orders;
 * 0 without per-order rules. */
double grading_history_last_month_points(const grading_history_t *h);

/* Starts facts for as_of (local day `today` in tz). */
void grading_order_facts_init(grading_order_facts_t *f, int32_t today);

/* Points expire expire_after_days after the day they were earned (r's
 * service_points; nothing when it has none): call after _init. */
void grading_order_facts_expiry(const grading_rules_t *r, grading_order_facts_t *f);

/* The first local day the facts need the seller's daily counters from
 * (review points): the 12 months, or the expiry window if it is longer. */
int32_t grading_order_facts_first_day(const grading_order_facts_t *f);

/* Adds one order (pass 1): points, stage, alerts, next due time. */
void grading_order_facts_add(const grading_rules_t *r, const grading_tz_t *tz, int64_t as_of_ms,
                             const char *order_id, const grading_order_t *o, grading_order_facts_t *f);

/* Adds the review points of one day's counters. */
void grading_order_facts_add_day(const grading_rules_t *r, int32_t day, const grading_day_counters_t *d,
                                 grading_order_facts_t *f);

/* Pass 2, only when an open order reached a restricting stage: per product
 * of such orders, the shipping rate over the window. Call _rate_add for
 * every order, then _finish. `acc` is scratch of GRADING_MAX_ORDER_ALERTS. */
typedef struct {
    uint32_t judged, on_time;
} grading_product_rate_t;
bool grading_order_facts_needs_rates(const grading_rules_t *r, const grading_order_facts_t *f);
void grading_order_facts_rate_add(const grading_rules_t *r, const grading_tz_t *tz, int64_t as_of_ms,
                                  const grading_order_t *o, const grading_order_facts_t *f,
                                  grading_product_rate_t *acc);
void grading_order_facts_finish(const grading_rules_t *r, grading_order_facts_t *f,
                                const grading_product_rate_t *acc);

/* The stage times of an order (Unix ms), for stages[0..nstages); 0 when
 * the order is not paid. */
void grading_order_stage_times(const grading_rules_t *r, const grading_tz_t *tz, const grading_order_t *o,
                               int64_t *out);

/* Folds one seller's closed periods of history item h, oldest first
 * (levels[i] 0: the seller was not in that period), into *value.
 * new_seller[i] (may be NULL) marks a level given for not enough data: it
 * is no strike and no relief (going quiet must not void strikes). */
void grading_history_fold(const grading_history_def_t *h, const int32_t *levels, const bool *new_seller,
                          size_t n, bool *has, double *value);

/* As grading_rules_assess, with the seller's closed periods (NULL: none). */
grading_err_t grading_rules_assess_with(const grading_rules_t *r, const grading_day_counters_t *sums,
                                        const grading_history_t *hist, grading_assessment_t *out,
                                        grading_error_t *e);

/* Evaluates everything for one seller. sums[w] are the seller's counters
 * summed over rules->windows[w] (grading_rules_window_sums fills them).
 * Never allocates. Errors: GRADING_EINVAL with *e naming the expression
 * when the rules are inconsistent (a bug in the loader). */
grading_err_t grading_rules_assess(const grading_rules_t *r, const grading_day_counters_t *sums,
                                   grading_assessment_t *out, grading_error_t *e);

/* The days [*first, *last] that cover every window as of today. */
void grading_rules_span(const grading_rules_t *r, int32_t today, int32_t *first, int32_t *last);

/* Adds one day's counters to every window (of r, as of today) holding it.
 * sums must have been zeroed with grading_day_counters_init.
 * Errors: GRADING_EFULL (too many custom counters). */
grading_err_t grading_rules_add_day(const grading_rules_t *r, int32_t today, int32_t day,
                                    const grading_day_counters_t *d, grading_day_counters_t *sums);

/* The level of programme p in *level when metric m's value is *mv and the
 * other metrics are as in base (scores and the programme recomputed; with
 * rederive also the metrics without a window, which read only other
 * metrics; hist may be NULL). scratch is overwritten.
 * Errors: as grading_rules_assess. */
grading_err_t grading_rules_level_with(const grading_rules_t *r, size_t p, const grading_assessment_t *base,
                                       const grading_history_t *hist, size_t m, const grading_metric_val_t *mv,
                                       bool rederive, grading_assessment_t *scratch, int32_t *level);

/* Advice for programme p: for each metric that alone can move the seller
 * one level up, the smallest change that does it. Fills up to cap items.
 * Uses the metric values of a (which is not changed). */
typedef struct {
    size_t metric;              /* index into rules->metrics */
    double current, target;
    int32_t reaches;            /* the level the target gives */
} grading_advice_t;

size_t grading_rules_advise(const grading_rules_t *r, size_t p, const grading_assessment_t *a,
                            grading_advice_t *out, size_t cap);

#endif
