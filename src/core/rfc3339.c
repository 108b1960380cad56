/* RFC 3339 timestamps (rfc3339.h): the proto Timestamp's JSON form, read
 * by the server's flags and the clients alike, so it lives in core. */
#include "grading/rfc3339.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

/* The proto Timestamp range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TS_MIN_SECONDS INT64_C(-62135596800)
#define TS_MAX_SECONDS INT64_C(253402300799)

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic, so
 * no table and no dependence on the C library's time zone). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n digits at *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c) return false;
    (*p)++;
    return true;
}

grading_err_t grading_rfc3339_parse(const char *s, int64_t *out_seconds, int32_t *out_nanos,
                                             grading_error_t *e)
{
    static const char shape[] = "expected an RFC 3339 timestamp like \"2026-10-05T09:30:00Z\"";
    const char *p = s;
    int year, mon, day, hour, min, sec, off_h = 0, off_m = 0, sign = 0;
    int32_t nanos = 0;

    if (!s) return grading_error_set(e, GRADING_EINVAL, NULL, "%s", shape);
    if (!digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &mon) || !expect(&p, '-') ||
        !digits(&p, 2, &day))
        goto shape_fail;
    if (*p != 'T' && *p != 't') goto shape_fail;
    p++;
    if (!digits(&p, 2, &hour) || !expect(&p, ':') || !digits(&p, 2, &min) || !expect(&p, ':') ||
        !digits(&p, 2, &sec))
        goto shape_fail;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)p[n])) n++;
        if (n == 0) goto shape_fail;
        if (n > 9)
            return grading_error_set(e, GRADING_EINVAL, NULL,
                                     "at most 9 fractional digits (nanoseconds) in \"%s\"", s);
        for (int i = 0; i < 9; i++) nanos = nanos * 10 + (i < n ? p[i] - '0' : 0);
        p += n;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (!digits(&p, 2, &off_h) || !expect(&p, ':') || !digits(&p, 2, &off_m)) goto shape_fail;
    } else {
        return grading_error_set(e, GRADING_EINVAL, NULL,
                                 "missing time zone in \"%s\": end it with Z or an offset like +09:00", s);
    }
    if (*p) goto shape_fail;

    if (year < 1) return grading_error_set(e, GRADING_EINVAL, NULL, "year 0000 is out of range in \"%s\"", s);
    if (mon < 1 || mon > 12)
        return grading_error_set(e, GRADING_EINVAL, NULL, "month %02d is out of range in \"%s\"", mon, s);
    if (day < 1 || day > month_days(year, mon))
        return grading_error_set(e, GRADING_EINVAL, NULL, "day %02d is out of range for %04d-%02d in \"%s\"",
                                 day, year, mon, s);
    if (hour > 23 || min > 59 || sec > 59)
        return grading_error_set(e, GRADING_EINVAL, NULL, "time %02d:%02d:%02d is out of range in \"%s\"",
                                 hour, min, sec, s);
    if (off_h > 23 || off_m > 59)
        return grading_error_set(e, GRADING_EINVAL, NULL, "offset %02d:%02d is out of range in \"%s\"",
                                 off_h, off_m, s);

    int64_t secs = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
    secs -= (int64_t)sign * (off_h * 3600 + off_m * 60);   /* local = UTC + offset */
    if (secs < TS_MIN_SECONDS || secs > TS_MAX_SECONDS)
        return grading_error_set(e, GRADING_EINVAL, NULL,
                                 "\"%s\" is outside 0001-01-01..9999-12-31 once taken to UTC", s);
    *out_seconds = secs;
    *out_nanos = nanos;
    return GRADING_OK;
shape_fail:
    return grading_error_set(e, GRADING_EINVAL, NULL, "%s, got \"%s\"", shape, s);
}

grading_err_t grading_rfc3339_format(int64_t seconds, int32_t nanos, char *buf, size_t len)
{
    if (len) buf[0] = '\0';
    if (len < GRADING_RFC3339_MAX || nanos < 0 || nanos > 999999999 || seconds < TS_MIN_SECONDS ||
        seconds > TS_MAX_SECONDS)
        return GRADING_EINVAL;
    int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
    int64_t rem = seconds - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, len, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d", y, m, d, (int)(rem / 3600),
                     (int)(rem / 60 % 60), (int)(rem % 60));
    if (nanos % 1000000 == 0 && nanos)
        n += snprintf(buf + n, len - (size_t)n, ".%03d", (int)(nanos / 1000000));
    else if (nanos % 1000 == 0 && nanos)
        n += snprintf(buf + n, len - (size_t)n, ".%06d", (int)(nanos / 1000));
    else if (nanos)
        n += snprintf(buf + n, len - (size_t)n, ".%09d", (int)nanos);
    snprintf(buf + n, len - (size_t)n, "Z");
    return GRADING_OK;
}
