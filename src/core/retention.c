/* The policy's look-back (retention.h): pure arithmetic over its windows. */
#include "grading/retention.h"

#include "grading/tz.h"

#define LEAP_CYCLE_DAYS (4 * 365 + 1)
#define CYCLE_START_DAY 18262   /* 2020-01-01: any leap cycle will do */

int32_t grading_retention_first_day(const grading_rules_t *r, int32_t today)
{
    int32_t first, last;
    grading_rules_span(r, today, &first, &last);
    if (today - (GRADING_RETENTION_API_WINDOW_DAYS - 1) < first) first = today - (GRADING_RETENTION_API_WINDOW_DAYS - 1);
    if (r->points.enabled) {
        /* the points year: this month and the 11 whole months before */
        int32_t m = grading_month_first_day(today);
        for (int i = 0; i < 11; i++) m = grading_month_first_day(m - 1);
        if (m < first) first = m;
    }
    if (r->deadlines.nstages) {
        int32_t f = today - r->deadlines.product_window_days + 1;
        if (f < first) first = f;
    }
    return first;
}

uint32_t grading_retention_periods_needed(const grading_rules_t *r)
{
    uint32_t most = 2;
    for (size_t i = 0; i < r->nhistory; i++) {
        uint32_t n = r->history[i].over * (r->history[i].calendar_year ? 2 : 1) + 1;
        if (n > most) most = n;
    }
    return most;
}

int32_t grading_retention_lookback_days(const grading_rules_t *r)
{
    int32_t most = 0;
    for (int32_t today = CYCLE_START_DAY; today < CYCLE_START_DAY + LEAP_CYCLE_DAYS; today++) {
        int32_t back = today - grading_retention_first_day(r, today);
        if (back > most) most = back;
    }
    return most;
}
