/* Settlement periods (period.h). */
#include "grading/period.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "grading/tz.h"

const char *grading_period_kind_name(grading_period_kind_t k)
{
    switch (k) {
    case GRADING_PERIOD_MONTH: return "month";
    case GRADING_PERIOD_QUARTER: return "quarter";
    case GRADING_PERIOD_YEAR: return "year";
    }
    return "?";
}

grading_period_kind_t grading_period_kind_parse(const char *s)
{
    for (int k = GRADING_PERIOD_MONTH; k <= GRADING_PERIOD_YEAR; k++)
        if (strcasecmp(s, grading_period_kind_name((grading_period_kind_t)k)) == 0)
            return (grading_period_kind_t)k;
    return 0;
}

void grading_period_of(grading_period_kind_t kind, int32_t day, char name[GRADING_PERIOD_NAME_MAX],
                       int32_t *first, int32_t *last)
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    switch (kind) {
    case GRADING_PERIOD_MONTH:
        snprintf(name, GRADING_PERIOD_NAME_MAX, "%04d-%02u", (int)y, m);
        *first = grading_days_from_civil(y, m, 1);
        *last = grading_next_month_first_day(*first) - 1;
        return;
    case GRADING_PERIOD_QUARTER: {
        uint32_t q = (m - 1) / 3;
        snprintf(name, GRADING_PERIOD_NAME_MAX, "%04d-Q%u", (int)y, q + 1);
        *first = grading_days_from_civil(y, q * 3 + 1, 1);
        *last = (q == 3 ? grading_days_from_civil(y + 1, 1, 1) : grading_days_from_civil(y, q * 3 + 4, 1)) - 1;
        return;
    }
    case GRADING_PERIOD_YEAR:
    default:
        snprintf(name, GRADING_PERIOD_NAME_MAX, "%04d", (int)y);
        *first = grading_days_from_civil(y, 1, 1);
        *last = grading_days_from_civil(y + 1, 1, 1) - 1;
        return;
    }
}

/* Reads exactly n digits at *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9') return false;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return true;
}

grading_err_t grading_period_parse(grading_period_kind_t kind, const char *s, const char *field,
                                   int32_t *first, int32_t *last, grading_error_t *e)
{
    static const char *const forms[] = {"", "YYYY-MM (\"2026-10\")", "YYYY-QN (\"2026-Q3\")", "YYYY (\"2026\")"};
    if (kind < GRADING_PERIOD_MONTH || kind > GRADING_PERIOD_YEAR)
        return grading_error_set(e, GRADING_EINVAL, "kind", "must be MONTH, QUARTER or YEAR");
    const char *p = s ? s : "";
    int y, m = 1, q = 1;
    bool ok = digits(&p, 4, &y) && y >= 2000 && y < 2100;
    if (ok && kind == GRADING_PERIOD_MONTH) ok = *p++ == '-' && digits(&p, 2, &m) && m >= 1 && m <= 12;
    if (ok && kind == GRADING_PERIOD_QUARTER) ok = *p++ == '-' && *p++ == 'Q' && digits(&p, 1, &q) && q >= 1 && q <= 4;
    if (!ok || *p)
        return grading_error_set(e, GRADING_EINVAL, field, "\"%s\" is not a %s: expected %s, years 2000..2099",
                                 s ? s : "", grading_period_kind_name(kind), forms[kind]);
    char name[GRADING_PERIOD_NAME_MAX];
    int32_t day = grading_days_from_civil(y, kind == GRADING_PERIOD_QUARTER ? (uint32_t)(q - 1) * 3 + 1 : (uint32_t)m, 1);
    grading_period_of(kind, day, name, first, last);
    return GRADING_OK;
}
