/* Settlement periods: calendar months, quarters and years of local days.
 * Names: MONTH "2026-10", QUARTER "2026-Q3", YEAR "2026". Pure. */
#ifndef GRADING_PERIOD_H
#define GRADING_PERIOD_H

#include <stdint.h>

#include "grading/err.h"

/* Values are the proto's PeriodKind numbers. */
typedef enum {
    GRADING_PERIOD_MONTH = 1,
    GRADING_PERIOD_QUARTER = 2,
    GRADING_PERIOD_YEAR = 3
} grading_period_kind_t;

#define GRADING_PERIOD_NAME_MAX 32
#define GRADING_PERIOD_MAX_KINDS 4   /* array size indexed by kind */

/* "month", "quarter", "year"; "?" otherwise. */
const char *grading_period_kind_name(grading_period_kind_t k);
/* The kind named s (lower or upper case); 0 if none. */
grading_period_kind_t grading_period_kind_parse(const char *s);

/* Parses a period name of kind into its first and last local days.
 * Errors: GRADING_EINVAL with *e naming `field` and the expected form. */
grading_err_t grading_period_parse(grading_period_kind_t kind, const char *s, const char *field,
                                   int32_t *first, int32_t *last, grading_error_t *e);

/* The period of kind holding local day: its name and days. */
void grading_period_of(grading_period_kind_t kind, int32_t day, char name[GRADING_PERIOD_NAME_MAX],
                       int32_t *first, int32_t *last);

#endif
