/* POSIX TZ rules: the footer of a TZif file (RFC 8536 §3.3), which gives
 * local time after the file's last transition. Without it every daylight
 * saving zone keeps its last offset forever once its table ends (2037 in
 * "fat" files, the last rule change in "slim" ones).
 *
 * The year's two changes are computed the way glibc computes them (so that
 * local days agree with localtime_r, which the sweep test checks for every
 * zone): in the UTC year of the instant, DST start in local standard time,
 * DST end in local daylight time; a start later in the year than the end is
 * a southern-hemisphere rule (daylight time spans the new year). */
#include <string.h>

#include "grading/tz.h"

#define MAX_RULE_HOURS 167   /* RFC 8536 §3.3.1: transition times up to 167 h */
#define MAX_OFFSET_HOURS 24  /* POSIX: offsets within 24 h */

typedef struct {
    const char *p, *end;
} cur_t;

static bool at_end(const cur_t *c)
{
    return c->p >= c->end;
}

static char peek(const cur_t *c)
{
    return at_end(c) ? '\0' : *c->p;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* A zone abbreviation: 3+ letters, or <3+ letters, digits, + and ->. */
static bool parse_name(cur_t *c)
{
    size_t n = 0;
    if (peek(c) == '<') {
        c->p++;
        while (!at_end(c) && *c->p != '>') {
            char ch = *c->p++;
            if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '-') return false;
            n++;
        }
        if (at_end(c)) return false;
        c->p++;   /* '>' */
        return n >= 3;
    }
    while (is_alpha(peek(c))) c->p++, n++;
    return n >= 3;
}

/* A number of up to 3 digits, at most max. */
static bool parse_uint(cur_t *c, int32_t max, int32_t *out)
{
    int32_t v = 0, digits = 0;
    while (is_digit(peek(c)) && digits < 4) v = v * 10 + (*c->p++ - '0'), digits++;
    if (digits == 0 || digits > 3 || v > max) return false;
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] in seconds, sign as written (positive: west for offsets). */
static bool parse_hms(cur_t *c, int32_t max_hours, int32_t *out)
{
    int sign = 1;
    if (peek(c) == '+' || peek(c) == '-') sign = *c->p++ == '-' ? -1 : 1;
    int32_t h, m = 0, s = 0;
    if (!parse_uint(c, max_hours, &h)) return false;
    if (peek(c) == ':') {
        c->p++;
        if (!parse_uint(c, 59, &m)) return false;
        if (peek(c) == ':') {
            c->p++;
            if (!parse_uint(c, 59, &s)) return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

/* ,date[/time] */
static bool parse_change(cur_t *c, grading_tz_change_t *out)
{
    if (peek(c) != ',') return false;
    c->p++;
    memset(out, 0, sizeof *out);
    if (peek(c) == 'J') {
        c->p++;
        out->kind = 'J';
        if (!parse_uint(c, 365, &out->day) || out->day < 1) return false;
    } else if (is_digit(peek(c))) {
        out->kind = 'D';
        if (!parse_uint(c, 365, &out->day)) return false;
    } else if (peek(c) == 'M') {
        c->p++;
        out->kind = 'M';
        if (!parse_uint(c, 12, &out->month) || out->month < 1 || peek(c) != '.') return false;
        c->p++;
        if (!parse_uint(c, 5, &out->week) || out->week < 1 || peek(c) != '.') return false;
        c->p++;
        if (!parse_uint(c, 6, &out->day)) return false;
    } else {
        return false;
    }
    out->time_s = 2 * 3600;   /* POSIX: 02:00 unless given */
    if (peek(c) == '/') {
        c->p++;
        if (!parse_hms(c, MAX_RULE_HOURS, &out->time_s)) return false;
    }
    return true;
}

grading_err_t grading_tz_rule_parse(const char *s, size_t len, grading_tz_rule_t *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0) return GRADING_OK;
    cur_t c = {s, s + len};
    int32_t west;
    if (!parse_name(&c) || !parse_hms(&c, MAX_OFFSET_HOURS, &west)) goto bad;
    out->std_offset_s = -west;
    out->dst_offset_s = -west;
    if (!at_end(&c)) {
        if (!parse_name(&c)) goto bad;
        out->has_dst = true;
        out->dst_offset_s = out->std_offset_s + 3600;   /* POSIX: one hour ahead unless given */
        if (peek(&c) != ',') {
            if (!parse_hms(&c, MAX_OFFSET_HOURS, &west)) goto bad;
            out->dst_offset_s = -west;
        }
        /* a footer names its rule: no implementation-defined default */
        if (!parse_change(&c, &out->start) || !parse_change(&c, &out->end)) goto bad;
    }
    if (!at_end(&c)) goto bad;
    out->present = true;
    return GRADING_OK;
bad:
    memset(out, 0, sizeof *out);
    return GRADING_EINVAL;
}

static bool is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int32_t month_days(int32_t y, int32_t m)
{
    static const int32_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* The UTC second of a change in year y, given the offset in force before it. */
static int64_t change_at(const grading_tz_change_t *ch, int32_t y, int32_t offset_before_s)
{
    int32_t day;
    if (ch->kind == 'J') {
        day = grading_days_from_civil(y, 1, 1) + ch->day - 1 + (ch->day >= 60 && is_leap(y));
    } else if (ch->kind == 'D') {
        day = grading_days_from_civil(y, 1, 1) + ch->day;
    } else {
        int32_t first = grading_days_from_civil(y, (uint32_t)ch->month, 1);
        int32_t dow = (int32_t)((first % 7 + 7 + 4) % 7);   /* 1970-01-01 was a Thursday (4) */
        int32_t d = (ch->day - dow + 7) % 7;                /* the first such weekday, 0-based */
        for (int32_t w = 1; w < ch->week && d + 7 < month_days(y, ch->month); w++) d += 7;
        day = first + d;
    }
    return (int64_t)day * 86400 + ch->time_s - offset_before_s;
}

int32_t grading_tz_rule_offset_s(const grading_tz_rule_t *r, int64_t t)
{
    if (!r->has_dst) return r->std_offset_s;
    int64_t days = t / 86400 - (t % 86400 < 0);
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days((int32_t)days, &y, &m, &d);
    int64_t start = change_at(&r->start, y, r->std_offset_s);
    int64_t end = change_at(&r->end, y, r->dst_offset_s);
    bool dst = start > end ? (t < end || t >= start) : (t >= start && t < end);
    return dst ? r->dst_offset_s : r->std_offset_s;
}
