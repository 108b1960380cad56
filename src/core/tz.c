/* Time zones and local days (pure: the caller reads zoneinfo files).
 *
 * A zone is a table of UTC offsets by transition instant, from a TZif
 * file's bytes (RFC 8536) or a fixed offset. From the last transition on,
 * the footer's POSIX TZ rule applies (tz_rule.c), so a daylight saving
 * zone keeps changing after its table ends. Where RFC 8536 and glibc
 * differ, glibc is followed, so local days agree with localtime_r (the
 * sweep test compares every zone): before the first transition the first
 * standard-time type applies, and a file without transitions uses that
 * type forever. */
#include "grading/tz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OFFSET_S (18 * 3600)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

grading_err_t grading_tz_init_fixed(grading_tz_t *tz, const char *name, int32_t offset_s)
{
    memset(tz, 0, sizeof *tz);
    if (offset_s > MAX_OFFSET_S || offset_s < -MAX_OFFSET_S) return GRADING_EINVAL;
    snprintf(tz->name, sizeof tz->name, "%s", name ? name : "");
    tz->base_offset_s = offset_s;
    return GRADING_OK;
}

grading_err_t grading_tz_parse_offset(const char *s, int32_t *out_offset_s, grading_error_t *e)
{
    if (!s) s = "";
    if (strcmp(s, "UTC") == 0 || strcmp(s, "Z") == 0) {
        *out_offset_s = 0;
        return GRADING_OK;
    }
    int sign = s[0] == '+' ? 1 : s[0] == '-' ? -1 : 0;
    if (!sign) goto bad;
    const char *p = s + 1;
    int digits[4], nd = 0;
    bool colon = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9' && nd < 4) digits[nd++] = *p - '0';
        else if (*p == ':' && nd == 2 && !colon) colon = true;
        else goto bad;
    }
    int h, m = 0;
    if (nd == 1 && !colon) h = digits[0];
    else if (nd == 2 && !colon) h = digits[0] * 10 + digits[1];
    else if (nd == 4) {
        h = digits[0] * 10 + digits[1];
        m = digits[2] * 10 + digits[3];
    } else goto bad;
    if (m >= 60) goto bad;
    int32_t off = sign * (h * 3600 + m * 60);
    if (off > MAX_OFFSET_S || off < -MAX_OFFSET_S)
        return grading_error_set(e, GRADING_EINVAL, "time_zone",
                                 "offset \"%s\" is beyond +/-18:00", s);
    *out_offset_s = off;
    return GRADING_OK;
bad:
    return grading_error_set(e, GRADING_EINVAL, "time_zone",
                             "\"%s\" is not an offset like \"+09:00\", \"-0530\" or \"UTC\"", s);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_counts_t;

static bool read_header(const uint8_t *p, size_t len, char *version, tzif_counts_t *c)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return false;
    *version = (char)p[4];
    c->isutcnt = be32(p + 20);
    c->isstdcnt = be32(p + 24);
    c->leapcnt = be32(p + 28);
    c->timecnt = be32(p + 32);
    c->typecnt = be32(p + 36);
    c->charcnt = be32(p + 40);
    return c->typecnt >= 1 && c->typecnt <= 256 && c->timecnt <= 100000 &&
           c->leapcnt <= 100000 && c->charcnt <= 100000 && c->isutcnt <= 256 &&
           c->isstdcnt <= 256;
}

static size_t block_len(const tzif_counts_t *c, size_t tsize)
{
    return (size_t)c->timecnt * tsize + c->timecnt + (size_t)c->typecnt * 6 + c->charcnt +
           (size_t)c->leapcnt * (tsize + 4) + c->isstdcnt + c->isutcnt;
}

grading_err_t grading_tz_init_tzif(grading_tz_t *tz, const char *name, const uint8_t *buf,
                                   size_t len, grading_error_t *e)
{
    memset(tz, 0, sizeof *tz);
    tzif_counts_t c;
    char version;
    if (!read_header(buf, len, &version, &c))
        return grading_error_set(e, GRADING_EINVAL, "time_zone", "not a TZif zoneinfo file");
    size_t tsize = 4;
    const uint8_t *p = buf + 44;
    size_t left = len - 44;
    if (version >= '2') {
        /* Skip the 32-bit block; the 64-bit one follows with its own header. */
        size_t skip = block_len(&c, 4);
        if (skip > left)
            return grading_error_set(e, GRADING_EINVAL, "time_zone", "truncated TZif file");
        p += skip;
        left -= skip;
        if (!read_header(p, left, &version, &c))
            return grading_error_set(e, GRADING_EINVAL, "time_zone", "bad TZif v2 header");
        p += 44;
        left -= 44;
        tsize = 8;
    }
    if (block_len(&c, tsize) > left)
        return grading_error_set(e, GRADING_EINVAL, "time_zone", "truncated TZif file");
    if (c.leapcnt)
        return grading_error_set(e, GRADING_EINVAL, "time_zone",
                                 "a zoneinfo file with leap seconds (\"right/\") counts TAI-like seconds; "
                                 "the service's instants are POSIX time: use the zone without \"right/\"");
    grading_tz_rule_t rule;
    memset(&rule, 0, sizeof rule);
    if (tsize == 8) {
        /* the footer: "\n" TZ string "\n"; none at all reads as no rule */
        const uint8_t *f = p + block_len(&c, tsize);
        size_t flen = left - block_len(&c, tsize);
        if (flen > 0) {
            const uint8_t *nl = flen > 1 ? memchr(f + 1, '\n', flen - 1) : NULL;
            if (f[0] != '\n' || !nl)
                return grading_error_set(e, GRADING_EINVAL, "time_zone", "truncated TZif footer");
            if (grading_tz_rule_parse((const char *)f + 1, (size_t)(nl - f - 1), &rule))
                return grading_error_set(e, GRADING_EINVAL, "time_zone",
                                         "bad TZif footer (the POSIX TZ rule after the last transition)");
        }
    }
    const uint8_t *times = p;
    const uint8_t *idx = times + (size_t)c.timecnt * tsize;
    const uint8_t *types = idx + c.timecnt;

    for (uint32_t i = 0; i < c.timecnt; i++)
        if (idx[i] >= c.typecnt)
            return grading_error_set(e, GRADING_EINVAL, "time_zone", "bad TZif type index");
    for (uint32_t i = 0; i < c.typecnt; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);
        if (off > 26 * 3600 || off < -26 * 3600)
            return grading_error_set(e, GRADING_EINVAL, "time_zone", "bad TZif offset");
    }
    snprintf(tz->name, sizeof tz->name, "%s", name ? name : "");
    /* before the first transition: the first standard-time type (glibc;
     * RFC 8536 says type 0, which tzdata makes standard time anyway) */
    uint32_t base = 0;
    while (base < c.typecnt && types[6 * base + 4]) base++;
    if (base == c.typecnt) base = 0;
    tz->base_offset_s = (int32_t)be32(types + 6 * base);
    if (c.timecnt) {
        tz->trans_s = malloc(sizeof *tz->trans_s * c.timecnt);
        tz->offset_s = malloc(sizeof *tz->offset_s * c.timecnt);
        if (!tz->trans_s || !tz->offset_s) {
            grading_tz_destroy(tz);
            return grading_error_set(e, GRADING_ENOMEM, "time_zone", "out of memory");
        }
    }
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < c.timecnt; i++) {
        int64_t t = tsize == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
        if (t <= prev) {
            grading_tz_destroy(tz);
            return grading_error_set(e, GRADING_EINVAL, "time_zone",
                                     "TZif transitions are not ascending");
        }
        prev = t;
        tz->trans_s[i] = t;
        tz->offset_s[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    if (c.timecnt) tz->rule = rule;   /* glibc: a file without transitions keeps its type */
    tz->ntrans = c.timecnt;
    return GRADING_OK;
}

void grading_tz_destroy(grading_tz_t *tz)
{
    free(tz->trans_s);
    free(tz->offset_s);
    tz->trans_s = NULL;
    tz->offset_s = NULL;
    tz->ntrans = 0;
    memset(&tz->rule, 0, sizeof tz->rule);
}

grading_err_t grading_tz_copy(grading_tz_t *dst, const grading_tz_t *src)
{
    *dst = *src;
    dst->trans_s = NULL;
    dst->offset_s = NULL;
    if (!src->ntrans) return GRADING_OK;
    dst->trans_s = malloc(sizeof *dst->trans_s * src->ntrans);
    dst->offset_s = malloc(sizeof *dst->offset_s * src->ntrans);
    if (!dst->trans_s || !dst->offset_s) {
        grading_tz_destroy(dst);
        return GRADING_ENOMEM;
    }
    memcpy(dst->trans_s, src->trans_s, sizeof *dst->trans_s * src->ntrans);
    memcpy(dst->offset_s, src->offset_s, sizeof *dst->offset_s * src->ntrans);
    return GRADING_OK;
}

int32_t grading_tz_offset_s(const grading_tz_t *tz, int64_t utc_ms)
{
    if (!tz->ntrans) return tz->base_offset_s;
    int64_t t = floor_div(utc_ms, 1000);
    if (t < tz->trans_s[0]) return tz->base_offset_s;
    if (tz->rule.present && t >= tz->trans_s[tz->ntrans - 1]) return grading_tz_rule_offset_s(&tz->rule, t);
    /* The last transition at or before t. */
    uint32_t lo = 0, hi = tz->ntrans;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tz->trans_s[mid] <= t) lo = mid;
        else hi = mid;
    }
    return tz->offset_s[lo];
}

int32_t grading_tz_day(const grading_tz_t *tz, int64_t utc_ms)
{
    int64_t local = utc_ms + (int64_t)grading_tz_offset_s(tz, utc_ms) * 1000;
    return (int32_t)floor_div(local, GRADING_MS_PER_DAY);
}

int64_t grading_tz_day_start_ms(const grading_tz_t *tz, int32_t day)
{
    int64_t local = (int64_t)day * GRADING_MS_PER_DAY;
    /* Guess with the offset in force at local midnight read as UTC, then
     * correct once: enough for any real zone's transitions. */
    int64_t utc = local - (int64_t)grading_tz_offset_s(tz, local) * 1000;
    int64_t utc2 = local - (int64_t)grading_tz_offset_s(tz, utc) * 1000;
    if (grading_tz_day(tz, utc2) == day && grading_tz_day(tz, utc2 - 1) == day - 1) return utc2;
    if (grading_tz_day(tz, utc) == day && grading_tz_day(tz, utc - 1) == day - 1) return utc;
    /* Midnight skipped by a transition: the day starts at the first
     * instant that is on it. */
    return utc2 > utc ? utc2 : utc;
}

/* Howard Hinnant's days_from_civil / civil_from_days (public domain
 * algorithms, written here from their description). */
int32_t grading_days_from_civil(int32_t y, uint32_t m, uint32_t d)
{
    y -= m <= 2;
    const int32_t era = (y >= 0 ? y : y - 399) / 400;
    const uint32_t yoe = (uint32_t)(y - era * 400);
    const uint32_t doy = (153 * (m + (m > 2 ? (uint32_t)-3 : 9)) + 2) / 5 + d - 1;
    const uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void grading_civil_from_days(int32_t z, int32_t *year, uint32_t *month, uint32_t *mday)
{
    z += 719468;
    const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    const uint32_t doe = (uint32_t)(z - era * 146097);
    const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int32_t y = (int32_t)yoe + era * 400;
    const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const uint32_t mp = (5 * doy + 2) / 153;
    const uint32_t d = doy - (153 * mp + 2) / 5 + 1;
    const uint32_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *month = m;
    *mday = d;
}

int32_t grading_month_first_day(int32_t day)
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    return grading_days_from_civil(y, m, 1);
}

int32_t grading_next_month_first_day(int32_t day)
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    return m == 12 ? grading_days_from_civil(y + 1, 1, 1) : grading_days_from_civil(y, m + 1, 1);
}
