/* Time zones and local days.
 *
 * A grading_tz_t is a table of UTC offsets by transition time, built from a
 * TZif file's bytes (the zoneinfo format, RFC 8536) or from a fixed offset,
 * plus the file's footer rule (daylight saving time after the table ends).
 * Pure: the caller reads the file; lookups take the instant as a parameter.
 * A "day" is the number of local calendar days since 1970-01-01. */
#ifndef GRADING_TZ_H
#define GRADING_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"

#define GRADING_TZ_NAME_MAX 64
#define GRADING_MS_PER_DAY INT64_C(86400000)

/* When a POSIX TZ rule changes between standard and daylight time, in
 * one year: `kind` 'J' (Jn: day 1..365, February 29 never counted), 'D'
 * (n: day 0..365 of the year, leap day counted) or 'M' (Mm.w.d: weekday d,
 * 0 = Sunday, of week w 1..5 of month m, 5 = the last), at time_s local
 * seconds into that day (may be negative or past 24 h, RFC 8536 §3.3.1). */
typedef struct {
    char kind;
    int32_t day;                      /* J, D: the day; M: the weekday */
    int32_t month, week;              /* M only */
    int32_t time_s;
} grading_tz_change_t;

/* A TZif footer's POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0"): the local
 * time after the file's last transition (RFC 8536 §3.3). */
typedef struct {
    bool present;                     /* false: the last transition's offset stays */
    bool has_dst;
    int32_t std_offset_s, dst_offset_s;   /* seconds EAST of UTC (POSIX writes west) */
    grading_tz_change_t start;        /* to daylight time, in standard local time */
    grading_tz_change_t end;          /* back to standard, in daylight local time */
} grading_tz_rule_t;

typedef struct {
    char name[GRADING_TZ_NAME_MAX];   /* "Asia/Seoul", "+09:00", "UTC" */
    int32_t base_offset_s;            /* in force before the first transition */
    uint32_t ntrans;
    int64_t *trans_s;                 /* owned; UTC seconds, ascending */
    int32_t *offset_s;                /* owned; offset in force from trans_s[i] */
    grading_tz_rule_t rule;           /* in force from the last transition on */
} grading_tz_t;

/* Parses a POSIX TZ string of len bytes (no NUL needed), as a TZif footer
 * holds it: std offset [dst [offset] ,start[/time],end[/time]], names
 * alphabetic or <quoted>, offsets [+-]hh[:mm[:ss]] west of UTC, times up to
 * +/-167 h. An empty string is "no rule". Errors: GRADING_EINVAL. */
grading_err_t grading_tz_rule_parse(const char *s, size_t len, grading_tz_rule_t *out);

/* Seconds east of UTC the rule gives at UTC second t: daylight time when t
 * is in [start, end) of t's UTC year (or outside [end, start) when the
 * period spans the new year), the year's changes computed as glibc does. */
int32_t grading_tz_rule_offset_s(const grading_tz_rule_t *r, int64_t t);

/* A zone with one offset forever. Errors: GRADING_EINVAL if |offset| > 18 h. */
grading_err_t grading_tz_init_fixed(grading_tz_t *tz, const char *name, int32_t offset_s);

/* Parses "UTC", "Z", "+09:00", "-0530", "+9" into seconds east of UTC.
 * Errors: GRADING_EINVAL (names what was wrong in *e). */
grading_err_t grading_tz_parse_offset(const char *s, int32_t *out_offset_s, grading_error_t *e);

/* Builds a zone from TZif bytes (v1, or the 64-bit block of v2+ and its
 * footer rule, applied after the last transition). Before the first
 * transition the first standard-time type applies (as glibc reads it).
 * Errors: GRADING_EINVAL (not TZif, truncated, a bad footer, leap-second
 * records: a "right/" zone counts TAI-like seconds, and the service's
 * instants are POSIX time), GRADING_ENOMEM. */
grading_err_t grading_tz_init_tzif(grading_tz_t *tz, const char *name, const uint8_t *buf,
                                   size_t len, grading_error_t *e);

/* Frees the tables; the struct may be re-initialised. Safe on a zeroed tz. */
void grading_tz_destroy(grading_tz_t *tz);

/* Deep copy into caller-owned *dst. Errors: GRADING_ENOMEM. */
grading_err_t grading_tz_copy(grading_tz_t *dst, const grading_tz_t *src);

/* Seconds east of UTC in force at utc_ms. */
int32_t grading_tz_offset_s(const grading_tz_t *tz, int64_t utc_ms);

/* The local day holding utc_ms (floor division, correct before 1970). */
int32_t grading_tz_day(const grading_tz_t *tz, int64_t utc_ms);

/* The UTC instant (ms) at which local day `day` begins. */
int64_t grading_tz_day_start_ms(const grading_tz_t *tz, int32_t day);

/* Proleptic Gregorian calendar <-> days since 1970-01-01 (H. Hinnant's
 * algorithms). month 1..12, mday 1..31. */
int32_t grading_days_from_civil(int32_t year, uint32_t month, uint32_t mday);
void grading_civil_from_days(int32_t day, int32_t *year, uint32_t *month, uint32_t *mday);

/* The first day of the calendar month holding `day`, and of the next month. */
int32_t grading_month_first_day(int32_t day);
int32_t grading_next_month_first_day(int32_t day);

#endif
