/* A marketplace's business calendar: weekend days, public holidays and
 * operator-declared exception days (SPEC §3) are not business days. Days
 * are local days (tz.h). Pure. */
#ifndef GRADING_CALENDAR_H
#define GRADING_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GRADING_CALENDAR_MAX_CLOSED 4096

typedef struct {
    uint8_t weekend;        /* bit d: weekday d (0 Monday .. 6 Sunday) is not a business day */
    size_t nclosed;
    int32_t closed[GRADING_CALENDAR_MAX_CLOSED];   /* holidays and exception days, ascending */
} grading_calendar_t;

/* 0 Monday .. 6 Sunday. */
int grading_weekday(int32_t day);

/* Adds a closed day (keeps the array sorted, ignores repeats). Returns
 * false when full. */
bool grading_calendar_close_day(grading_calendar_t *c, int32_t day);

bool grading_calendar_is_business(const grading_calendar_t *c, int32_t day);

/* The first business day on or after day. */
int32_t grading_calendar_on_or_after(const grading_calendar_t *c, int32_t day);

/* The n-th business day after day (n >= 1: the first business day after
 * day is the 1st); day itself for n <= 0. */
int32_t grading_calendar_add_business(const grading_calendar_t *c, int32_t day, int32_t n);

/* How many business days lie in (from, to]; 0 when to <= from. */
int32_t grading_calendar_business_between(const grading_calendar_t *c, int32_t from, int32_t to);

#endif
