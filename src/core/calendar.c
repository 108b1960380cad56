/* Business days (calendar.h). A week always has a business day (the loader
 * refuses a weekend of seven days) and the closed days are finite, so every
 * walk below ends; each is also bounded by the number of days it may skip. */
#include "grading/calendar.h"

#include <string.h>

int grading_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (3) */
    int w = (int)(((int64_t)day + 3) % 7);
    return w < 0 ? w + 7 : w;
}

static bool is_closed(const grading_calendar_t *c, int32_t day)
{
    size_t lo = 0, hi = c->nclosed;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->closed[mid] < day) lo = mid + 1;
        else hi = mid;
    }
    return lo < c->nclosed && c->closed[lo] == day;
}

bool grading_calendar_close_day(grading_calendar_t *c, int32_t day)
{
    if (is_closed(c, day)) return true;
    if (c->nclosed >= GRADING_CALENDAR_MAX_CLOSED) return false;
    size_t i = c->nclosed;
    while (i > 0 && c->closed[i - 1] > day) {
        c->closed[i] = c->closed[i - 1];
        i--;
    }
    c->closed[i] = day;
    c->nclosed++;
    return true;
}

bool grading_calendar_is_business(const grading_calendar_t *c, int32_t day)
{
    return !(c->weekend & (1u << grading_weekday(day))) && !is_closed(c, day);
}

int32_t grading_calendar_on_or_after(const grading_calendar_t *c, int32_t day)
{
    for (size_t i = 0; i <= c->nclosed + 7 && !grading_calendar_is_business(c, day); i++) day++;
    return day;
}

int32_t grading_calendar_add_business(const grading_calendar_t *c, int32_t day, int32_t n)
{
    for (int32_t k = 0; k < n; k++) day = grading_calendar_on_or_after(c, day + 1);
    return day;
}

int32_t grading_calendar_business_between(const grading_calendar_t *c, int32_t from, int32_t to)
{
    int32_t n = 0;
    if (to - from > 4000) to = from + 4000;   /* beyond any deadline table: bounded */
    for (int32_t d = from + 1; d <= to; d++) n += grading_calendar_is_business(c, d);
    return n;
}
