/* Exemptions (issue 15 §2): a marketplace-wide exclusion of the orders
 * paid in a range of local days (optionally only overseas or domestic
 * ones, or one product) from some base counters (a mask, counters.h). An
 * order's exempt_mask is the OR of the masks of the exemptions it
 * matches; ingest sets it on every change of the record, and declaring or
 * revoking one re-splits the marketplace's matching records. Our events
 * carry no carrier or region: the attribute filters are `overseas` and
 * `product_id`. Pure (core); the table lives in the store. */
#ifndef GRADING_EXEMPTION_H
#define GRADING_EXEMPTION_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/event.h"
#include "grading/order.h"
#include "grading/tz.h"

#define GRADING_EXEMPTION_REASON_MAX 32
#define GRADING_EXEMPTION_NOTE_MAX 100
#define GRADING_EXEMPTIONS_MAX 1024   /* per store: the writer's table stays small */

enum { GRADING_EXEMPT_ANY = -1, GRADING_EXEMPT_DOMESTIC = 0, GRADING_EXEMPT_OVERSEAS = 1 };

typedef struct {
    char marketplace[GRADING_MAX_MARKETPLACE_LEN + 1];
    char id[GRADING_MAX_ID_LEN + 1];
    int32_t from_day, to_day;          /* local days of the order's payment, inclusive */
    uint64_t mask;                     /* base counters excluded */
    int32_t overseas;                  /* GRADING_EXEMPT_* */
    char product_id[GRADING_MAX_ID_LEN + 1];   /* "" = any */
    char reason[GRADING_EXEMPTION_REASON_MAX + 1];
    char note[GRADING_EXEMPTION_NOTE_MAX + 1];
    int64_t declared_ms;
} grading_exemption_t;

/* True when x covers the order o of x's marketplace (tz its zone): paid,
 * its paid local day in range, and the filters match. */
bool grading_exemption_matches(const grading_exemption_t *x, const grading_order_t *o, const grading_tz_t *tz);

/* True when a and b declare the same thing (declared_ms aside). */
bool grading_exemption_same(const grading_exemption_t *a, const grading_exemption_t *b);

#endif
