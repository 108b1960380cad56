/* Time zones and local days.
 *
 * A grading_tz_t is a table of UTC offsets by transition time, built from a
 * TZif file's bytes (the zoneinfo format, RFC 8536) or from a fixed offset.
 * Pure: the caller reads the file; lookups take the instant as a parameter.
 * A "day" is the number of local calendar days since 1970-01-01. */
#ifndef GRADING_TZ_H
#define GRADING_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"

#define GRADING_TZ_NAME_MAX 64
#define GRADING_MS_PER_DAY INT64_C(86400000)

typedef struct {
    char name[GRADING_TZ_NAME_MAX];   /* "Asia/Seoul", "+09:00", "UTC" */
    int32_t base_offset_s;            /* in force before the first transition */
    uint32_t ntrans;
    int64_t *trans_s;                 /* owned; UTC seconds, ascending */
    int32_t *offset_s;                /* owned; offset in force from trans_s[i] */
} grading_tz_t;

/* A zone with one offset forever. Errors: GRADING_EINVAL if |offset| > 18 h. */
grading_err_t grading_tz_init_fixed(grading_tz_t *tz, const char *name, int32_t offset_s);

/* Parses "UTC", "Z", "+09:00", "-0530", "+9" into seconds east of UTC.
 * Errors: GRADING_EINVAL (names what was wrong in *e). */
grading_err_t grading_tz_parse_offset(const char *s, int32_t *out_offset_s, grading_error_t *e);

/* Builds a zone from TZif bytes (v1, or the 64-bit block of v2+).
 * Errors: GRADING_EINVAL (not TZif, truncated), GRADING_ENOMEM. */
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
