/* The scenario test program's model: what a scenario file says, parsed
 * and checked before anything runs (scenario_parse.c), then turned into
 * events (scenario_events.c), its period closes run (scenario_close.c),
 * and compared with the engine's answers (scenario_check.c). The file
 * format is documented at the top of run_scenarios.c and in
 * tests/scenarios/README.md.
 *
 * Names here are the test program's own (`scn_`), not the library's. */
#ifndef SCN_SCENARIO_H
#define SCN_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/period.h"
#include "grading/policy.h"
#include "grading/rules.h"
#include "grading/store.h"

/* Bounds that keep every scenario's loops finite. */
#define SCN_MAX_COUNT 200000            /* `count` of one generator */
#define SCN_MAX_CASE_ITEMS 2000000      /* orders + inquiries + ... of one case */
#define SCN_MAX_EVENTS_PER_TXN 5000     /* events applied in one write transaction */
#define SCN_MAX_MONTHS 120              /* `months` of one generator */
#define SCN_MAX_CLOSES 64               /* `closes` of one case */
#define SCN_MAX_EXEMPTIONS 16           /* `exemptions` (and `revoked`) of one case */
#define SCN_EXEMPT_MAX_METRICS 8        /* `metrics` of one exemption */
#define SCN_MSG_LEN 1024
#define SCN_NAME_LEN 256
#define SCN_TEXT_LEN GRADING_RULES_REASON_LEN

/* `count` orders with the same timeline; times are offsets from `paid`. */
typedef struct {
    int line;
    uint32_t count;
    uint32_t months;                       /* repeated this many calendar months (1: once) */
    int64_t paid_ms;
    int64_t amount;
    uint32_t ship_within_days;
    int64_t reserved_ship_ms;              /* 0: none */
    char product_id[GRADING_MAX_ID_LEN + 1];
    bool overseas;
    bool shipped;
    int64_t shipped_after_ms;
    bool tracking_valid;
    bool delivered;
    int64_t delivered_after_ms;
    bool auto_completed;
    bool cancelled;
    int32_t cancel_fault, cancel_reason;
    int64_t cancelled_after_ms;
    bool returned;
    int32_t return_fault;
    int64_t returned_after_ms;
    bool exchanged;
    int32_t exchange_fault;
    int64_t exchanged_after_ms;
    bool non_receipt;
    int64_t non_receipt_after_ms;
    bool review;
    uint32_t rating;
    uint32_t shipping_rating, inquiry_rating;   /* 0: not rated */
    int32_t recommendation;
    bool satisfaction;
    uint32_t satisfaction_score;
    /* issue 15 (scenario_appeal.c): after the case's events, these orders
     * are appealed (ExcludeEvents of `appealed`, a metric or counter)
     * appeal_times times, then restored when `restored`. "": none. */
    char appealed[GRADING_RULES_MAX_METRICS];
    uint32_t appeal_times;
    bool restored;
} scn_orders_t;

typedef struct {
    int line;
    uint32_t count;
    uint32_t months;
    int64_t received_ms;
    bool answered;
    int64_t answered_after_ms;
} scn_inquiries_t;

/* platform_revenue (name unused) or custom events. */
typedef struct {
    int line;
    uint32_t count;
    uint32_t months;
    int64_t at_ms;
    int64_t amount;
    char name[GRADING_MAX_CUSTOM_NAME_LEN + 1];
    double value;
} scn_simple_t;

typedef enum {
    SCN_X_METRIC = 1,       /* index: metric */
    SCN_X_SCORE,            /* index: score */
    SCN_X_GRADE,            /* index: programme; number = level */
    SCN_X_LABEL,            /* text */
    SCN_X_NEW_SELLER,       /* boolean */
    SCN_X_GRADE_SCORE,      /* the programme's score: number or unavailable */
    SCN_X_REASON,           /* text must occur in one of the programme's reasons */
    SCN_X_NO_REASON,        /* text must occur in none of them */
    SCN_X_PENALTY,          /* index: ladder; number = stage */
    SCN_X_RESTRICTIONS,     /* index: ladder; restrictions[] of the stage that applies */
    SCN_X_SUSPENDED,        /* boolean */
    SCN_X_WITHDRAWALS_HELD, /* boolean */
    SCN_X_BOOST,            /* number: assessed and stored */
    SCN_X_GRANTS,           /* grants[]: the set of programmes granted */
    SCN_X_TIER,             /* text: a tier name, or "none" */
    SCN_X_CONVERTIBLE,      /* number */
    SCN_X_PUBLISHED,        /* index: programme; number = level, !available = none */
    SCN_X_PUBLISHED_PERIOD, /* index: programme; text = period name or "none" */
    SCN_X_HISTORY,          /* index: history item; number, !available = none */
    SCN_X_POINTS,           /* index: GRADING_PT_* rule, GRADING_PT_COUNT = the total;
                               span: which months */
    SCN_X_ORDER_ALERTS,     /* alerts[stage]: open late orders at exactly that stage */
    SCN_X_STOPPED,          /* products[]: exactly the stopped products */
    SCN_X_EVIDENCE,         /* text: a metric or base counter; the evidence of it (scenario_evidence.c) */
    SCN_X_STAGE_SINCE,      /* index: ladder; text: the applied stage's run's first day or "none" */
    SCN_X_STAGE_UNTIL,      /* index: ladder; text: the day the applied stage lapses, or "none" */
    SCN_X_NEXT_DUE,         /* text: the stored record's next due time (RFC 3339), or "none" */
    SCN_X_FORECAST          /* index: programme; forecast (scenario_forecast.c) */
} scn_expect_kind_t;

/* A `forecast:` expectation of one programme (GetGradeForecast's answer). */
#define SCN_FORECAST_MAX_THRESHOLDS 16
typedef struct {
    uint32_t days;                      /* the span asked; 0: the default */
    bool changes;                       /* false: `date: none`, the level holds */
    int32_t day;                        /* the first change's local day */
    bool has_level, has_cause;
    int32_t level;
    char cause[64];                     /* a metric, or "none" */
    char says[SCN_TEXT_LEN];            /* text the change's sentence holds; "" unchecked */
    size_t nthresholds;
    struct {
        size_t kind;                    /* index into grading_forecast_kinds */
        uint32_t events;                /* 0: none within the bound */
    } thresholds[SCN_FORECAST_MAX_THRESHOLDS];
} scn_forecast_t;

/* The months a `points` expectation reads (grading_order_facts_t). */
typedef enum { SCN_SPAN_MONTH = 0, SCN_SPAN_PREV_MONTH, SCN_SPAN_YEAR, SCN_SPAN_ACTIVE } scn_span_t;

typedef struct {
    scn_expect_kind_t kind;
    int line;
    size_t index;
    bool available;         /* false: expected "not enough data" */
    double number;
    bool boolean;
    char text[SCN_TEXT_LEN];
    size_t ngrants;
    const char *grants[GRADING_RULES_MAX_GRANTS];   /* borrowed from the policy */
    size_t nrestrictions;
    grading_restriction_kind_t restrictions[GRADING_RULES_MAX_RESTRICTIONS];
    int64_t limits[GRADING_RULES_MAX_RESTRICTIONS];  /* a listing cap's; 0 otherwise */
    scn_span_t span;                                  /* SCN_X_POINTS */
    uint32_t alerts[GRADING_DEADLINE_MAX_STAGES];     /* SCN_X_ORDER_ALERTS, by stage index */
    size_t nproducts;                                 /* SCN_X_STOPPED */
    char (*products)[GRADING_MAX_ID_LEN + 1];         /* owned; freed by scn_file_destroy */
    char window[16];                                  /* SCN_X_EVIDENCE: "" = the metric's own */
    bool has_entries, has_unlisted;                   /* SCN_X_EVIDENCE: which are expected */
    uint32_t entries;                                 /* records listed */
    int64_t unlisted;                                 /* every counter's unlisted part */
    scn_forecast_t forecast;                          /* SCN_X_FORECAST */
} scn_expect_t;

/* The generators of one batch of events: a case's own, or those a close
 * records just before it runs. */
typedef struct {
    size_t norders, ninquiries, nrevenue, ncustom;
    scn_orders_t *orders;
    scn_inquiries_t *inquiries;
    scn_simple_t *revenue;
    scn_simple_t *custom;
} scn_events_t;

/* One period close of a case, and what it must answer. */
typedef struct {
    int line;
    grading_period_kind_t kind;
    char period[GRADING_PERIOD_NAME_MAX];
    bool dry_run;
    bool already_closed;                /* expected (default false) */
    bool has_evaluated;
    uint32_t evaluated;                 /* expected sellers evaluated */
    bool expect_error;
    char error[SCN_TEXT_LEN];           /* text the error must contain */
    scn_events_t ev;                    /* recorded just before this close */
} scn_close_t;

/* One item of `exemptions` (issue 15 §2): declared after the case's
 * events through grading_exempt_declare (what DeclareExemption runs), so
 * it applies retroactively; then its own events are recorded (arriving
 * after the declaration). scenario_exempt.c. */
typedef struct {
    int line;
    char id[GRADING_MAX_ID_LEN + 1];
    char from[16], to[16];              /* local dates, checked by the declaration */
    size_t nmetrics;
    char metrics[SCN_EXEMPT_MAX_METRICS][64];
    int32_t scope;                      /* GRADING_EXEMPT_ANY / _DOMESTIC / _OVERSEAS */
    char product_id[GRADING_MAX_ID_LEN + 1];   /* "": any */
    bool has_sellers_changed, has_orders_changed;
    uint64_t sellers_changed, orders_changed;  /* the walk's answer, expected */
    bool expect_error;
    char error[SCN_TEXT_LEN];           /* text the declaration's error must contain */
    scn_events_t ev;                    /* recorded after this declaration */
} scn_exemption_t;

/* One item of `revoked`: an exemption id of the case, revoked after every
 * declaration, with the walk's answer optionally expected. */
typedef struct {
    int line;
    char id[GRADING_MAX_ID_LEN + 1];
    bool has_orders_changed;
    uint64_t orders_changed;
} scn_revoke_t;

typedef struct {
    char name[SCN_NAME_LEN];
    int line;
    int64_t as_of_ms;
    const grading_marketplace_t *mp;   /* borrowed from the policy */
    char seller[48];
    scn_events_t ev;
    size_t ncloses, nexpect;
    scn_close_t *closes;               /* non-empty: the case runs in its own store */
    size_t nexemptions, nrevoked;
    scn_exemption_t *exemptions;       /* non-empty: the case runs in its own store */
    scn_revoke_t *revoked;
    scn_expect_t *expect;
} scn_case_t;

typedef struct {
    char path[4096];
    grading_policy_t *policy;          /* one reference */
    size_t ncases;
    scn_case_t *cases;
} scn_file_t;

/* Parses and checks the scenario file at path, loading the policy it
 * names. On failure msg holds "file:line: reason" (or the policy's
 * diagnostics) and *f is left empty. Errors: GRADING_EINVAL (bad file),
 * GRADING_EIO (cannot read), GRADING_ENOMEM. */
grading_err_t scn_file_load(const char *path, scn_file_t *f, char *msg, size_t msglen);
void scn_file_destroy(scn_file_t *f);

/* RFC 3339 date-time with a mandatory offset ("2026-11-01T00:00:00+09:00",
 * "...Z", optional fraction of a second) into Unix ms. */
bool scn_parse_time(const char *s, int64_t *out_ms);

/* ms moved k calendar months later in tz, keeping the local day of the
 * month and the time of day. False when the local day is past the 28th
 * (not every month has it). */
bool scn_shift_months(const grading_tz_t *tz, int64_t ms, uint32_t k, int64_t *out_ms);

/* Generates the events of ev (the case's own, or a close's: phase 0 is
 * the case's, phase k the k-th close's, which keeps event and order ids
 * apart) and applies them to the store in write transactions of at most
 * SCN_MAX_EVENTS_PER_TXN events, stored at (and derived as of) the case's
 * as_of; the seller's hot-path record is derived even when ev is empty.
 * msg says what failed. */
grading_err_t scn_events_apply(grading_store_t *st, const scn_file_t *f, size_t ci,
                               const scn_events_t *ev, size_t phase, char *msg, size_t msglen);

/* Applies the case's appeals (orders items with `appealed`) after its
 * events, each in a write transaction as the server's writer would
 * (scenario_appeal.c). Errors: the appeal's, said in msg. */
grading_err_t scn_case_appeals(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg, size_t msglen);

/* scn_events_apply of the case's own events. */
grading_err_t scn_case_apply(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg,
                             size_t msglen);

/* True when case c must run in a store of its own: closes and exemptions
 * reach every seller of the marketplace, so in the file's shared store
 * they would change (and count) the other cases' sellers. */
bool scn_case_own_store(const scn_case_t *c);

/* A list of differences, "; "-separated, into a caller's buffer. */
typedef struct {
    char *msg;
    size_t len, cap;
    bool ok;            /* nothing differed yet */
} scn_diffs_t;

void scn_differ(scn_diffs_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An answer that may be an expected error: err (e says why) against
 * expect_error and the text the error must contain ("CODE: field:
 * message"); a difference goes to d, named by what. True when the call
 * succeeded as expected, so its answer is to be compared. */
bool scn_answer_check(scn_diffs_t *d, const char *what, grading_err_t err, const grading_error_t *e,
                      bool expect_error, const char *text);

/* An ingest writer's clock that reads the int64_t ms ctx points to (the
 * case's as_of). */
int64_t scn_clock(void *ctx);

/* Declares the case's exemptions in order (each followed by its own
 * events), then revokes `revoked`, each through the ingest writer with
 * its clock at as_of, as the server runs DeclareExemption and
 * RevokeExemption. Returns true when every answer was as expected (the
 * walk's counts, an expected error); otherwise msg lists what differed. */
bool scn_case_exempt(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg, size_t msglen);

/* Runs the case's closes in order (each after its own events), with an
 * ingest writer whose clock is the case's as_of, then re-derives the
 * seller's stored record as of as_of (what the server's refresh after a
 * close does). Returns true when every close answered as expected;
 * otherwise msg lists what differed. A close that fails unexpectedly does
 * not stop the later ones. */
bool scn_case_close(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg, size_t msglen);

/* Assesses the case's seller as of as_of and compares every expectation.
 * Returns true when all match; otherwise msg lists what differed. A
 * failure to assess at all is a mismatch too (msg says why). */
bool scn_case_check(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg,
                    size_t msglen);

/* Checks an `evidence` expectation x of case c: grading_evidence_list read
 * through rd (no read transaction of rd open) in small pages. metric_val is
 * the assessed value of x's metric when it is a policy metric read over its
 * own window, else NULL. Returns true when all holds; else msg says what
 * differed (scenario_evidence.c). */
bool scn_evidence_check(grading_store_reader_t *rd, const scn_case_t *c, const scn_expect_t *x,
                        const grading_metric_val_t *metric_val, char *msg, size_t msglen);

/* A forecast expectation: GetGradeForecast's grade-layer answer as of the
 * case's as_of, its first change (date, level, cause) and thresholds,
 * then the seller assessed as of the end of the change day (must show the
 * new level) and of the day before (must not). Writes what differed into
 * msg ("; "-separated, a leading "; " when `after` says msg follows other
 * differences); returns false if anything did. */
bool scn_forecast_check(grading_store_t *st, const scn_case_t *c, const scn_expect_t *x, char *msg, size_t msglen,
                        bool after);

#endif
