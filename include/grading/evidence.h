/* Evidence (issue 15 §6): the orders and inquiries behind one metric of
 * one seller in one window, what a seller needs to appeal, read from the
 * store in one read transaction. Each listed record carries the counter
 * contributions it makes on the window's days to the counters the metric
 * reads (grading_rules_metric_reads); per counter, the window's total is
 * split into what the listed records explain and the rest (`unlisted`:
 * reviews, scores, revenue and custom events keep no per-event record),
 * so nothing is silently missing. Used by ListMetricEvents (no gRPC). */
#ifndef GRADING_EVIDENCE_H
#define GRADING_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/policy.h"
#include "grading/rules.h"
#include "grading/store.h"

#define GRADING_EVIDENCE_DEFAULT_PAGE 100
#define GRADING_EVIDENCE_MAX_PAGE 1000
/* The window of a base counter asked for without one. */
#define GRADING_EVIDENCE_DEFAULT_WINDOW "30d"
/* A page token: hex of the kind letter and the last id listed. */
#define GRADING_EVIDENCE_TOKEN_MAX (2 * (GRADING_MAX_ID_LEN + 1))

typedef enum {
    GRADING_EVIDENCE_ORDER = 1,     /* listed first */
    GRADING_EVIDENCE_INQUIRY = 2
} grading_evidence_kind_t;

/* One counter change a record makes (sign +1), on a day of the window. */
typedef struct {
    int32_t day;
    grading_counter_t counter;
    int64_t delta;
    bool excluded;                  /* the record's appeal/exemption mask holds the counter */
} grading_evidence_contrib_t;

typedef struct {
    grading_evidence_kind_t kind;
    char id[GRADING_MAX_ID_LEN + 1];
    grading_order_t order;          /* kind ORDER: its stage times */
    grading_inquiry_t inquiry;      /* kind INQUIRY */
    uint32_t ncontribs;
    grading_evidence_contrib_t contribs[GRADING_MAX_CONTRIBS];
} grading_evidence_entry_t;

/* A counter the metric reads, over the window. For a custom counter
 * (custom != NULL) value_total holds its total and nothing is listed. */
typedef struct {
    grading_counter_t counter;
    const char *custom;             /* borrowed from the rules */
    int64_t total, listed, unlisted;
    double value_total;
    const char *note;               /* why some is unlisted; "" when nothing is */
} grading_evidence_counter_t;

typedef struct {
    const char *seller;
    const char *metric;             /* a policy metric or a base counter name */
    const char *window;             /* NULL or "": the metric's own */
    int64_t as_of_ms;
    uint32_t page_size;             /* 0: GRADING_EVIDENCE_DEFAULT_PAGE */
    const char *page_token;         /* NULL or "": from the first */
} grading_evidence_query_t;

typedef struct {
    grading_window_t window;
    int32_t first_day, last_day;    /* local days, inclusive */
    bool is_counter;                /* the metric is a base counter */
    grading_metric_val_t value;     /* the metric over the window */
    size_t nentries;
    grading_evidence_entry_t *entries;   /* in (kind, id) order */
    size_t ncounters;
    grading_evidence_counter_t counters[GRADING_C_COUNT + GRADING_RULES_MAX_METRICS];
    char next_page_token[GRADING_EVIDENCE_TOKEN_MAX + 1];   /* "" on the last page */
} grading_evidence_t;

/* Lists one page of seller's evidence for q->metric in marketplace mp as
 * of q->as_of_ms through rd. *out is the caller's: grading_evidence_free.
 * Errors (e->field names the field): GRADING_EINVAL (metric unknown,
 * window, page_size, page_token), GRADING_ENOTFOUND (seller_id: nothing
 * stored), GRADING_ESTATE (as_of before retention), the store's,
 * GRADING_ENOMEM. */
grading_err_t grading_evidence_list(grading_store_reader_t *rd, const grading_marketplace_t *mp,
                                    const grading_evidence_query_t *q, grading_evidence_t **out,
                                    grading_error_t *e);
void grading_evidence_free(grading_evidence_t *ev);

#endif
