/* Time zones and local days (src/core/tz.c).
 *
 * Zones come from the system zoneinfo (tzdata) read here, since the tz API
 * is pure and takes bytes: Asia/Seoul, Asia/Tokyo, UTC, America/New_York
 * (both 2026 DST transitions), plus zones whose transitions skip local
 * midnight (America/Havana, America/Santiago) or a whole day
 * (Pacific/Apia, 2011-12-30). Damaged TZif bytes are built in memory (every
 * truncation of a real file, hand-made files with one defect each,
 * deterministic byte flips): each must give GRADING_EINVAL, never a crash
 * (the sanitizer build checks the reads). The calendar is checked day by
 * day against an independent model (leap rule, month lengths) over
 * 3,200 years, and day_start_ms against day() for every day 1970..2037 in
 * several zones. The tz API has no by-name loader, so "unknown zone" is
 * tested through the policy loader in test_policy.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/tz.h"

#define SEC INT64_C(1000)
#define HOUR (3600 * SEC)
#define DAY GRADING_MS_PER_DAY

/* ---- helpers ---- */

/* UTC milliseconds of a civil UTC time; days_from_civil is pinned against
 * `date -u` values in test_civil_anchors. */
static int64_t utc(int32_t y, uint32_t mo, uint32_t d, int h, int mi, int s)
{
    return (int64_t)grading_days_from_civil(y, mo, d) * DAY + h * HOUR + mi * 60 * SEC + s * SEC;
}

static int32_t civil(int32_t y, uint32_t mo, uint32_t d)
{
    return grading_days_from_civil(y, mo, d);
}

static const char *zoneinfo_dir(void)
{
    const char *dir = getenv("TZDIR");
    return dir && dir[0] ? dir : "/usr/share/zoneinfo";
}

/* Reads a zoneinfo file; *len set, caller frees. Fails the test if absent. */
static uint8_t *read_zone_bytes(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", zoneinfo_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s: is tzdata installed?", path);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    assert_true(*len > 0);
    return buf;
}

static void load_zone(grading_tz_t *tz, const char *name)
{
    size_t len;
    uint8_t *buf = read_zone_bytes(name, &len);
    grading_error_t e = {0};
    grading_err_t rc = grading_tz_init_tzif(tz, name, buf, len, &e);
    free(buf);
    if (rc != GRADING_OK) fail_msg("zone %s: %s", name, e.message);
    assert_string_equal(tz->name, name);
}

static void assert_date(int32_t day, int32_t y, uint32_t mo, uint32_t d)
{
    int32_t gy;
    uint32_t gm, gd;
    grading_civil_from_days(day, &gy, &gm, &gd);
    if (gy != y || gm != mo || gd != d)
        fail_msg("day %d is %04d-%02u-%02u, expected %04d-%02u-%02u", day, gy, gm, gd, y, mo, d);
}

/* The local date of an instant in a zone. */
static void assert_local_date(const grading_tz_t *tz, int64_t ms, int32_t y, uint32_t mo, uint32_t d)
{
    assert_date(grading_tz_day(tz, ms), y, mo, d);
}

/* ---- hand-made TZif files ---- */

typedef struct {
    uint8_t b[4096];
    size_t n;
} bytes_t;

static void put8(bytes_t *o, uint8_t v)
{
    assert_true(o->n < sizeof o->b);
    o->b[o->n++] = v;
}

static void put32(bytes_t *o, uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8) put8(o, (uint8_t)(v >> s));
}

static void put64(bytes_t *o, int64_t v)
{
    put32(o, (uint32_t)((uint64_t)v >> 32));
    put32(o, (uint32_t)v);
}

/* Header: magic, version, 15 reserved bytes, then isutcnt, isstdcnt,
 * leapcnt, timecnt, typecnt, charcnt (RFC 8536 section 3.1). */
static void put_header(bytes_t *o, char version, uint32_t timecnt, uint32_t typecnt, uint32_t charcnt)
{
    memcpy(o->b + o->n, "TZif", 4);
    o->n += 4;
    put8(o, (uint8_t)version);
    for (int i = 0; i < 15; i++) put8(o, 0);
    put32(o, 0);
    put32(o, 0);
    put32(o, 0);
    put32(o, timecnt);
    put32(o, typecnt);
    put32(o, charcnt);
}

typedef struct {
    char version;              /* 0 for v1, '2' for v2 */
    uint32_t ntimes, ntypes;
    int64_t times[4];
    uint8_t idx[4];
    int32_t offsets[4];
} tzif_spec_t;

static void put_block(bytes_t *o, const tzif_spec_t *s, size_t tsize)
{
    for (uint32_t i = 0; i < s->ntimes; i++) {
        if (tsize == 8) put64(o, s->times[i]);
        else put32(o, (uint32_t)(int32_t)s->times[i]);
    }
    for (uint32_t i = 0; i < s->ntimes; i++) put8(o, s->idx[i]);
    for (uint32_t i = 0; i < s->ntypes; i++) {
        put32(o, (uint32_t)s->offsets[i]);
        put8(o, 0);   /* isdst */
        put8(o, 0);   /* designation index */
    }
    put8(o, 'X');     /* designations: "X\0" */
    put8(o, 0);
}

static void build_tzif(bytes_t *o, const tzif_spec_t *s)
{
    o->n = 0;
    put_header(o, s->version, s->ntimes, s->ntypes, 2);
    put_block(o, s, 4);
    if (s->version >= '2') {
        put_header(o, s->version, s->ntimes, s->ntypes, 2);
        put_block(o, s, 8);
        put8(o, '\n');
        put8(o, '\n');
    }
}

/* Two transitions: -100 s to +1 h, 1,000,000 s back to 0. */
static tzif_spec_t simple_spec(char version)
{
    tzif_spec_t s = {.version = version, .ntimes = 2, .ntypes = 2,
                     .times = {-100, 1000000}, .idx = {1, 0}, .offsets = {0, 3600}};
    return s;
}

static grading_err_t init_bytes(grading_tz_t *tz, const uint8_t *b, size_t n, grading_error_t *e)
{
    /* An exact-size copy, so the sanitizer sees any read past the end. */
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n) memcpy(copy, b, n);
    grading_err_t rc = grading_tz_init_tzif(tz, "Test/Zone", copy, n, e);
    free(copy);
    return rc;
}

static void assert_tzif_rejected(const bytes_t *o, const char *needle)
{
    grading_tz_t tz;
    grading_error_t e = {0};
    assert_int_equal(init_bytes(&tz, o->b, o->n, &e), GRADING_EINVAL);
    assert_int_equal(e.code, GRADING_EINVAL);
    assert_string_equal(e.field, "time_zone");
    if (!strstr(e.message, needle)) fail_msg("message \"%s\" lacks \"%s\"", e.message, needle);
    assert_int_equal(tz.ntrans, 0);
    assert_null(tz.trans_s);
    grading_tz_destroy(&tz);   /* safe after a failed init */
}

static void read_counts(const uint8_t *h, uint32_t c[6])
{
    for (int i = 0; i < 6; i++)
        c[i] = (uint32_t)h[20 + 4 * i] << 24 | (uint32_t)h[21 + 4 * i] << 16 |
               (uint32_t)h[22 + 4 * i] << 8 | h[23 + 4 * i];
}

/* End of the v1 block (where a v2 file's second header starts), and end of
 * the data a TZif reader needs (v1 block, or the v2 64-bit block); computed
 * here independently of tz.c. c: isutcnt, isstdcnt, leapcnt, timecnt,
 * typecnt, charcnt. */
static size_t tzif_v1_end(const uint8_t *b, size_t len)
{
    assert_true(len >= 44);
    uint32_t c[6];
    read_counts(b, c);
    return 44 + (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
}

static size_t tzif_data_end(const uint8_t *b, size_t len)
{
    size_t v1 = tzif_v1_end(b, len);
    if (b[4] < '2') return v1;
    assert_true(len >= v1 + 44);
    uint32_t c[6];
    read_counts(b + v1, c);
    return v1 + 44 + (size_t)c[3] * 9 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 12 + c[1] + c[0];
}

/* ---- zones from the system zoneinfo ---- */

static void test_load_system_zones(void **state)
{
    (void)state;
    grading_tz_t seoul, tokyo, ny, u;
    load_zone(&seoul, "Asia/Seoul");
    load_zone(&tokyo, "Asia/Tokyo");
    load_zone(&ny, "America/New_York");
    load_zone(&u, "UTC");

    int64_t t = utc(2026, 6, 15, 12, 0, 0);
    assert_int_equal(grading_tz_offset_s(&seoul, t), 9 * 3600);
    assert_int_equal(grading_tz_offset_s(&tokyo, t), 9 * 3600);
    assert_int_equal(grading_tz_offset_s(&ny, t), -4 * 3600);
    assert_int_equal(grading_tz_offset_s(&ny, utc(2026, 1, 15, 12, 0, 0)), -5 * 3600);
    assert_int_equal(grading_tz_offset_s(&u, t), 0);
    assert_int_equal(grading_tz_offset_s(&u, utc(1900, 1, 1, 0, 0, 0)), 0);

    /* History is kept: Seoul's 1988 summer time (+10 from 1988-05-07T17:00Z
     * to 1988-10-08T17:00Z) and Tokyo's local mean time (+9:18:59) before
     * 1888 (`zdump -v Asia/Seoul Asia/Tokyo`). */
    assert_int_equal(grading_tz_offset_s(&seoul, utc(1988, 5, 7, 16, 59, 59)), 9 * 3600);
    assert_int_equal(grading_tz_offset_s(&seoul, utc(1988, 5, 7, 17, 0, 0)), 10 * 3600);
    assert_int_equal(grading_tz_offset_s(&seoul, utc(1988, 10, 8, 16, 59, 59)), 10 * 3600);
    assert_int_equal(grading_tz_offset_s(&seoul, utc(1988, 10, 8, 17, 0, 0)), 9 * 3600);
    assert_int_equal(grading_tz_offset_s(&tokyo, utc(1887, 12, 31, 14, 59, 59)), 9 * 3600 + 18 * 60 + 59);
    assert_int_equal(grading_tz_offset_s(&tokyo, utc(1887, 12, 31, 15, 0, 0)), 9 * 3600);

    /* The tables are well formed: ascending, offsets within +/-26 h. */
    const grading_tz_t *all[] = {&seoul, &tokyo, &ny, &u};
    for (size_t z = 0; z < 4; z++)
        for (uint32_t i = 0; i < all[z]->ntrans; i++) {
            if (i) assert_true(all[z]->trans_s[i - 1] < all[z]->trans_s[i]);
            assert_true(all[z]->offset_s[i] <= 26 * 3600 && all[z]->offset_s[i] >= -26 * 3600);
        }
    assert_true(ny.ntrans > 100);

    grading_tz_destroy(&seoul);
    grading_tz_destroy(&tokyo);
    grading_tz_destroy(&ny);
    grading_tz_destroy(&u);
}

static void test_new_york_dst_2026(void **state)
{
    (void)state;
    grading_tz_t ny;
    load_zone(&ny, "America/New_York");

    /* Spring forward: 2026-03-08 02:00 EST = 07:00Z becomes 03:00 EDT. */
    int64_t spring = utc(2026, 3, 8, 7, 0, 0);
    assert_int_equal(spring, INT64_C(1772953200) * SEC);   /* date -u -d 2026-03-08T07:00Z +%s */
    assert_int_equal(grading_tz_offset_s(&ny, spring - 1), -5 * 3600);
    assert_int_equal(grading_tz_offset_s(&ny, spring), -4 * 3600);
    assert_local_date(&ny, spring - 1, 2026, 3, 8);   /* 01:59:59.999 EST */
    assert_local_date(&ny, spring, 2026, 3, 8);       /* 03:00 EDT */
    assert_local_date(&ny, utc(2026, 3, 8, 4, 59, 59), 2026, 3, 7);
    assert_local_date(&ny, utc(2026, 3, 8, 5, 0, 0), 2026, 3, 8);
    assert_local_date(&ny, utc(2026, 3, 9, 3, 59, 59), 2026, 3, 8);
    assert_local_date(&ny, utc(2026, 3, 9, 4, 0, 0), 2026, 3, 9);
    /* The day of the gap is 23 hours long. */
    int64_t s8 = grading_tz_day_start_ms(&ny, civil(2026, 3, 8));
    int64_t s9 = grading_tz_day_start_ms(&ny, civil(2026, 3, 9));
    assert_int_equal(s8, utc(2026, 3, 8, 5, 0, 0));
    assert_int_equal(s9, utc(2026, 3, 9, 4, 0, 0));
    assert_int_equal(s9 - s8, 23 * HOUR);

    /* Fall back: 2026-11-01 02:00 EDT = 06:00Z becomes 01:00 EST. */
    int64_t fall = utc(2026, 11, 1, 6, 0, 0);
    assert_int_equal(fall, INT64_C(1793512800) * SEC);
    assert_int_equal(grading_tz_offset_s(&ny, fall - 1), -4 * 3600);
    assert_int_equal(grading_tz_offset_s(&ny, fall), -5 * 3600);
    /* 01:30 happens twice, both on Nov 1. */
    assert_local_date(&ny, utc(2026, 11, 1, 5, 30, 0), 2026, 11, 1);
    assert_local_date(&ny, utc(2026, 11, 1, 6, 30, 0), 2026, 11, 1);
    assert_local_date(&ny, utc(2026, 11, 1, 3, 59, 59), 2026, 10, 31);
    assert_local_date(&ny, utc(2026, 11, 1, 4, 0, 0), 2026, 11, 1);
    assert_local_date(&ny, utc(2026, 11, 2, 4, 59, 59), 2026, 11, 1);
    assert_local_date(&ny, utc(2026, 11, 2, 5, 0, 0), 2026, 11, 2);
    int64_t n1 = grading_tz_day_start_ms(&ny, civil(2026, 11, 1));
    int64_t n2 = grading_tz_day_start_ms(&ny, civil(2026, 11, 2));
    assert_int_equal(n1, utc(2026, 11, 1, 4, 0, 0));
    assert_int_equal(n2, utc(2026, 11, 2, 5, 0, 0));
    assert_int_equal(n2 - n1, 25 * HOUR);

    grading_tz_destroy(&ny);
}

/* ---- bad input ---- */

static void test_not_tzif(void **state)
{
    (void)state;
    bytes_t o = {.n = 0};
    assert_tzif_rejected(&o, "not a TZif");   /* empty */
    memcpy(o.b, "hello, not a zone file at all, padded to be long enough....", 60);
    o.n = 60;
    assert_tzif_rejected(&o, "not a TZif");
    memset(o.b, 0, 44);   /* 44 zero bytes */
    o.n = 44;
    assert_tzif_rejected(&o, "not a TZif");

    /* NULL buffer of length 0: an error, not a crash. */
    grading_tz_t tz;
    grading_error_t e = {0};
    assert_int_equal(grading_tz_init_tzif(&tz, "X", NULL, 0, &e), GRADING_EINVAL);
    grading_tz_destroy(&tz);
    /* Errors with a NULL error pointer still return the code. */
    assert_int_equal(grading_tz_init_tzif(&tz, "X", (const uint8_t *)"TZ", 2, NULL), GRADING_EINVAL);
    grading_tz_destroy(&tz);
}

static void test_handmade_tzif(void **state)
{
    (void)state;
    bytes_t o;
    grading_tz_t tz;
    grading_error_t e = {0};

    /* Well-formed v1 and v2 files read the same table. */
    char versions[] = {0, '2', '3'};
    for (size_t v = 0; v < sizeof versions; v++) {
        tzif_spec_t s = simple_spec(versions[v]);
        build_tzif(&o, &s);
        assert_int_equal(init_bytes(&tz, o.b, o.n, &e), GRADING_OK);
        assert_string_equal(tz.name, "Test/Zone");
        assert_int_equal(tz.ntrans, 2);
        assert_int_equal(tz.base_offset_s, 0);
        /* Before 1970: floor to the second, not truncation toward zero. */
        assert_int_equal(grading_tz_offset_s(&tz, -100 * SEC - 1), 0);
        assert_int_equal(grading_tz_offset_s(&tz, -100 * SEC), 3600);
        assert_int_equal(grading_tz_offset_s(&tz, -100 * SEC + 1), 3600);
        assert_int_equal(grading_tz_offset_s(&tz, 1000000 * SEC - 1), 3600);
        assert_int_equal(grading_tz_offset_s(&tz, 1000000 * SEC), 0);
        assert_int_equal(grading_tz_offset_s(&tz, INT64_C(4000000000000)), 0);   /* past the last */
        grading_tz_destroy(&tz);
    }

    /* v2 with a transition beyond 32 bits: only the 64-bit block has it. */
    {
        tzif_spec_t s = simple_spec('2');
        s.times[1] = INT64_C(5000000000);   /* year 2128 */
        build_tzif(&o, &s);
        assert_int_equal(init_bytes(&tz, o.b, o.n, &e), GRADING_OK);
        assert_int_equal(tz.trans_s[1], INT64_C(5000000000));
        assert_int_equal(grading_tz_offset_s(&tz, INT64_C(5000000000) * SEC - 1), 3600);
        assert_int_equal(grading_tz_offset_s(&tz, INT64_C(5000000000) * SEC), 0);
        grading_tz_destroy(&tz);
    }

    /* One defect each. */
    for (size_t v = 0; v < 2; v++) {
        char ver = v ? '2' : 0;
        tzif_spec_t s = simple_spec(ver);

        s.idx[1] = 2;   /* type 2 of 2 */
        build_tzif(&o, &s);
        assert_tzif_rejected(&o, "type index");

        s = simple_spec(ver);
        s.times[1] = -100;   /* equal, not ascending */
        build_tzif(&o, &s);
        assert_tzif_rejected(&o, "not ascending");
        s.times[1] = -200;   /* descending */
        build_tzif(&o, &s);
        assert_tzif_rejected(&o, "not ascending");

        s = simple_spec(ver);
        s.offsets[1] = 27 * 3600;
        build_tzif(&o, &s);
        assert_tzif_rejected(&o, "offset");
        s.offsets[1] = -27 * 3600;
        build_tzif(&o, &s);
        assert_tzif_rejected(&o, "offset");

        s = simple_spec(ver);
        s.ntimes = 0;
        s.ntypes = 0;   /* no local time type at all */
        build_tzif(&o, &s);
        assert_tzif_rejected(&o, "not a TZif");

        /* Counts far larger than the file. */
        s = simple_spec(ver);
        build_tzif(&o, &s);
        o.b[32] = o.b[33] = 0;
        o.b[34] = 0x01;   /* timecnt 65,536 + 2 */
        assert_tzif_rejected(&o, "truncated");
        o.b[32] = o.b[33] = o.b[34] = o.b[35] = 0xff;   /* timecnt 2^32 - 1 */
        assert_tzif_rejected(&o, "TZif");
    }

    /* v2 whose second header is damaged. */
    {
        tzif_spec_t s = simple_spec('2');
        build_tzif(&o, &s);
        size_t second = tzif_v1_end(o.b, o.n);
        assert_int_equal(memcmp(o.b + second, "TZif", 4), 0);
        o.b[second] = 'X';
        assert_tzif_rejected(&o, "v2 header");
    }
}

/* Every prefix of a real file shorter than its data is an error; so is a
 * prefix that cuts the footer (the POSIX TZ rule after the last
 * transition) short. A file that stops right after its data has no rule. */
static void check_truncations(const char *zone)
{
    size_t len;
    uint8_t *full = read_zone_bytes(zone, &len);
    size_t end = tzif_data_end(full, len);
    assert_true(end <= len);
    grading_tz_t whole;
    grading_error_t e = {0};
    assert_int_equal(init_bytes(&whole, full, len, &e), GRADING_OK);
    for (size_t n = 0; n < len; n++) {
        grading_tz_t tz;
        grading_err_t rc = init_bytes(&tz, full, n, &e);
        if (n < end || (n > end && n < len)) {
            if (rc != GRADING_EINVAL) fail_msg("%s cut to %zu of %zu bytes: rc %d", zone, n, len, rc);
            assert_int_equal(tz.ntrans, 0);
        } else {
            assert_int_equal(rc, GRADING_OK);
            assert_int_equal(tz.ntrans, whole.ntrans);
            assert_true(tz.rule.present == (n == len && whole.rule.present));
        }
        grading_tz_destroy(&tz);
    }
    grading_tz_destroy(&whole);
    free(full);
}

static void test_truncated_tzif(void **state)
{
    (void)state;
    check_truncations("America/New_York");
    check_truncations("Asia/Seoul");
    check_truncations("UTC");
}

/* Deterministic byte flips in a real file: accepted or EINVAL, never a
 * crash, and whatever is accepted is a well-formed table. */
static void test_flipped_bytes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *full = read_zone_bytes("America/New_York", &len);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    assert_true(full[4] >= '2');
    size_t second = tzif_v1_end(full, len);
    uint32_t x = 12345;
    size_t rejected = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, full, len);
        for (int k = 0; k < 1 + round % 4; k++) {
            x = x * 1103515245u + 12345u;
            size_t at = (x >> 8) % len;
            /* Half of the flips hit the two headers, where damage is likeliest. */
            if (round % 2) at = (x >> 8) % 44 + ((x & 1) ? 0 : second);
            buf[at] ^= (uint8_t)(1u << (x % 8));
        }
        grading_tz_t tz;
        grading_error_t e = {0};
        grading_err_t rc = init_bytes(&tz, buf, len, &e);
        if (rc == GRADING_OK) {
            for (uint32_t i = 1; i < tz.ntrans; i++) assert_true(tz.trans_s[i - 1] < tz.trans_s[i]);
        } else {
            assert_int_equal(rc, GRADING_EINVAL);
            assert_true(e.message[0] != '\0');
            rejected++;
        }
        grading_tz_destroy(&tz);
    }
    assert_true(rejected > 0);
    free(buf);
    free(full);
}

/* ---- fixed offsets ---- */

static void test_parse_offset(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int32_t off;
    } good[] = {
        {"UTC", 0}, {"Z", 0}, {"+09:00", 32400}, {"+0900", 32400}, {"+09", 32400},
        {"+9", 32400}, {"-0530", -19800}, {"-05:30", -19800}, {"+05:45", 20700},
        {"-00:00", 0}, {"+18:00", 64800}, {"-18", -64800}, {"+00:59", 3540},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int32_t off = 12345;
        grading_error_t e = {0};
        if (grading_tz_parse_offset(good[i].s, &off, &e) != GRADING_OK)
            fail_msg("\"%s\" rejected: %s", good[i].s, e.message);
        assert_int_equal(off, good[i].off);
    }
    static const char *const bad[] = {
        "", "utc", "09:00", "0900", "+", "-", "+9:00", "+09:0", "+090", "+09:00:00",
        "+0960", "+09:60", "+09:", "+:0900", "+0900:", "+09::00", "++09", "+09 ",
        " +09", "+0a", "+ 9", "+090000", "UTC+9", "Asia/Seoul",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t off = 12345;
        grading_error_t e = {0};
        if (grading_tz_parse_offset(bad[i], &off, &e) != GRADING_EINVAL)
            fail_msg("\"%s\" accepted as %d", bad[i], off);
        assert_int_equal(e.code, GRADING_EINVAL);
        assert_string_equal(e.field, "time_zone");
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
        if (!strstr(e.message, quoted)) fail_msg("message \"%s\" does not name %s", e.message, quoted);
    }
    /* In range syntactically, out of range in value. */
    static const char *const far[] = {"+18:01", "-18:30", "+19", "-99:00", "+24"};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
        int32_t off = 12345;
        grading_error_t e = {0};
        assert_int_equal(grading_tz_parse_offset(far[i], &off, &e), GRADING_EINVAL);
        assert_non_null(strstr(e.message, "18:00"));
        assert_non_null(strstr(e.message, far[i]));
    }
    /* NULL reads as "" and is an error; a NULL error pointer is fine. */
    int32_t off;
    assert_int_equal(grading_tz_parse_offset(NULL, &off, NULL), GRADING_EINVAL);
    assert_int_equal(grading_tz_parse_offset("+25", &off, NULL), GRADING_EINVAL);
}

static void test_fixed_zone(void **state)
{
    (void)state;
    grading_tz_t tz;
    assert_int_equal(grading_tz_init_fixed(&tz, "+09:00", 9 * 3600), GRADING_OK);
    assert_string_equal(tz.name, "+09:00");
    assert_int_equal(tz.ntrans, 0);
    assert_int_equal(grading_tz_offset_s(&tz, INT64_MIN / 2), 9 * 3600);
    assert_int_equal(grading_tz_offset_s(&tz, INT64_MAX / 2), 9 * 3600);
    assert_int_equal(grading_tz_day(&tz, 0), 0);
    assert_int_equal(grading_tz_day(&tz, 15 * HOUR - 1), 0);
    assert_int_equal(grading_tz_day(&tz, 15 * HOUR), 1);
    assert_int_equal(grading_tz_day_start_ms(&tz, 1), 15 * HOUR);
    grading_tz_destroy(&tz);

    assert_int_equal(grading_tz_init_fixed(&tz, "-18:00", -18 * 3600), GRADING_OK);
    assert_int_equal(grading_tz_init_fixed(&tz, "+18:00", 18 * 3600), GRADING_OK);
    assert_int_equal(grading_tz_init_fixed(&tz, "x", 18 * 3600 + 1), GRADING_EINVAL);
    grading_tz_destroy(&tz);   /* safe after a failed init */
    assert_int_equal(grading_tz_init_fixed(&tz, "x", -18 * 3600 - 1), GRADING_EINVAL);
    assert_int_equal(grading_tz_init_fixed(&tz, NULL, 0), GRADING_OK);
    assert_string_equal(tz.name, "");

    /* A name longer than the field is cut, still terminated. */
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(grading_tz_init_fixed(&tz, longname, 0), GRADING_OK);
    assert_int_equal(strlen(tz.name), GRADING_TZ_NAME_MAX - 1);
    grading_tz_destroy(&tz);

    /* Before 1970 the day is floored: -1 ms is 1969-12-31 in UTC. */
    assert_int_equal(grading_tz_init_fixed(&tz, "UTC", 0), GRADING_OK);
    assert_int_equal(grading_tz_day(&tz, -1), -1);
    assert_int_equal(grading_tz_day(&tz, -DAY), -1);
    assert_int_equal(grading_tz_day(&tz, -DAY - 1), -2);
    assert_int_equal(grading_tz_day_start_ms(&tz, -1), -DAY);
    assert_int_equal(grading_tz_init_fixed(&tz, "-05:00", -5 * 3600), GRADING_OK);
    assert_int_equal(grading_tz_day(&tz, 5 * HOUR - 1), -1);
    assert_int_equal(grading_tz_day(&tz, 5 * HOUR), 0);
}

static void test_copy_destroy(void **state)
{
    (void)state;
    grading_tz_t ny, copy;
    load_zone(&ny, "America/New_York");
    assert_int_equal(grading_tz_copy(&copy, &ny), GRADING_OK);
    assert_string_equal(copy.name, "America/New_York");
    assert_int_equal(copy.ntrans, ny.ntrans);
    assert_ptr_not_equal(copy.trans_s, ny.trans_s);
    assert_ptr_not_equal(copy.offset_s, ny.offset_s);
    assert_memory_equal(copy.trans_s, ny.trans_s, sizeof *ny.trans_s * ny.ntrans);
    grading_tz_destroy(&ny);   /* the copy owns its own tables */
    assert_null(ny.trans_s);
    assert_int_equal(ny.ntrans, 0);
    grading_tz_destroy(&ny);   /* twice is fine */
    assert_int_equal(grading_tz_offset_s(&copy, utc(2026, 7, 1, 0, 0, 0)), -4 * 3600);
    assert_int_equal(grading_tz_offset_s(&copy, utc(2026, 12, 1, 0, 0, 0)), -5 * 3600);
    grading_tz_destroy(&copy);

    grading_tz_t fixed, fcopy;
    assert_int_equal(grading_tz_init_fixed(&fixed, "+05:30", 19800), GRADING_OK);
    assert_int_equal(grading_tz_copy(&fcopy, &fixed), GRADING_OK);
    assert_int_equal(grading_tz_offset_s(&fcopy, 0), 19800);
    assert_string_equal(fcopy.name, "+05:30");
    grading_tz_destroy(&fcopy);
    grading_tz_destroy(&fixed);

    grading_tz_t zero;
    memset(&zero, 0, sizeof zero);
    grading_tz_destroy(&zero);
    assert_int_equal(grading_tz_offset_s(&zero, 0), 0);
}

/* ---- day bucketing ---- */

static void test_day_across_zones(void **state)
{
    (void)state;
    grading_tz_t seoul, tokyo, ny, u, kolkata;
    load_zone(&seoul, "Asia/Seoul");
    load_zone(&tokyo, "Asia/Tokyo");
    load_zone(&ny, "America/New_York");
    load_zone(&u, "UTC");
    assert_int_equal(grading_tz_init_fixed(&kolkata, "+05:30", 19800), GRADING_OK);

    /* 2026-09-30T15:30:00Z: 00:30 on Oct 1 in Seoul and Tokyo, 11:30 on
     * Sep 30 in New York, 21:00 on Sep 30 at +05:30. */
    int64_t t = utc(2026, 9, 30, 15, 30, 0);
    assert_int_equal(t, INT64_C(1790782200) * SEC);
    assert_local_date(&seoul, t, 2026, 10, 1);
    assert_local_date(&tokyo, t, 2026, 10, 1);
    assert_local_date(&ny, t, 2026, 9, 30);
    assert_local_date(&u, t, 2026, 9, 30);
    assert_local_date(&kolkata, t, 2026, 9, 30);
    assert_int_equal(grading_tz_day(&seoul, t), 20727);   /* 2026-10-01 */
    assert_int_equal(grading_tz_day(&ny, t), 20726);

    /* Seoul's midnight is 15:00Z the day before. */
    assert_local_date(&seoul, utc(2026, 9, 30, 14, 59, 59) + 999, 2026, 9, 30);
    assert_local_date(&seoul, utc(2026, 9, 30, 15, 0, 0), 2026, 10, 1);
    assert_int_equal(grading_tz_day_start_ms(&seoul, 20727), utc(2026, 9, 30, 15, 0, 0));
    assert_int_equal(grading_tz_day_start_ms(&tokyo, 20727), utc(2026, 9, 30, 15, 0, 0));
    assert_int_equal(grading_tz_day_start_ms(&ny, 20726), utc(2026, 9, 30, 4, 0, 0));
    assert_int_equal(grading_tz_day_start_ms(&u, 20726), utc(2026, 9, 30, 0, 0, 0));
    assert_int_equal(grading_tz_day_start_ms(&kolkata, 20726), utc(2026, 9, 29, 18, 30, 0));
    /* A New York afternoon is the next day in Seoul. */
    assert_local_date(&ny, utc(2026, 9, 30, 20, 0, 0), 2026, 9, 30);
    assert_local_date(&seoul, utc(2026, 9, 30, 20, 0, 0), 2026, 10, 1);

    grading_tz_destroy(&seoul);
    grading_tz_destroy(&tokyo);
    grading_tz_destroy(&ny);
    grading_tz_destroy(&u);
    grading_tz_destroy(&kolkata);
}

static void test_month_and_year_ends(void **state)
{
    (void)state;
    grading_tz_t seoul, ny;
    load_zone(&seoul, "Asia/Seoul");
    load_zone(&ny, "America/New_York");

    /* Jan 31 -> Feb 1 at Seoul midnight (15:00Z). */
    int64_t m = utc(2026, 1, 31, 15, 0, 0);
    assert_int_equal(m, INT64_C(1769871600) * SEC);
    assert_local_date(&seoul, m - 1, 2026, 1, 31);
    assert_local_date(&seoul, m, 2026, 2, 1);
    assert_local_date(&ny, m, 2026, 1, 31);
    /* 2026 is not a leap year: Feb 28 -> Mar 1. */
    m = utc(2026, 2, 28, 15, 0, 0);
    assert_int_equal(m, INT64_C(1772290800) * SEC);
    assert_local_date(&seoul, m - 1, 2026, 2, 28);
    assert_local_date(&seoul, m, 2026, 3, 1);
    assert_int_equal(grading_days_from_civil(2026, 3, 1) - grading_days_from_civil(2026, 2, 28), 1);
    /* 2028 is: Feb 28 -> Feb 29 -> Mar 1. */
    m = utc(2028, 2, 28, 15, 0, 0);
    assert_int_equal(m, INT64_C(1835362800) * SEC);
    assert_local_date(&seoul, m - 1, 2028, 2, 28);
    assert_local_date(&seoul, m, 2028, 2, 29);
    m = utc(2028, 2, 29, 15, 0, 0);
    assert_int_equal(m, INT64_C(1835449200) * SEC);
    assert_local_date(&seoul, m - 1, 2028, 2, 29);
    assert_local_date(&seoul, m, 2028, 3, 1);
    assert_int_equal(grading_tz_day(&seoul, m), 21243 + 1);   /* 2028-02-29 is day 21243 */
    /* Year end: Seoul's new year starts at 15:00Z on Dec 31; New York's at
     * 05:00Z on Jan 1. */
    m = utc(2026, 12, 31, 15, 0, 0);
    assert_int_equal(m, INT64_C(1798729200) * SEC);
    assert_local_date(&seoul, m - 1, 2026, 12, 31);
    assert_local_date(&seoul, m, 2027, 1, 1);
    assert_local_date(&ny, m, 2026, 12, 31);
    assert_local_date(&ny, utc(2027, 1, 1, 4, 59, 59) + 999, 2026, 12, 31);
    assert_local_date(&ny, utc(2027, 1, 1, 5, 0, 0), 2027, 1, 1);

    /* Calendar months of those days. */
    int32_t jan31 = civil(2026, 1, 31), feb28 = civil(2026, 2, 28), dec31 = civil(2026, 12, 31);
    assert_int_equal(grading_month_first_day(jan31), civil(2026, 1, 1));
    assert_int_equal(grading_next_month_first_day(jan31), civil(2026, 2, 1));
    assert_int_equal(grading_next_month_first_day(jan31), jan31 + 1);
    assert_int_equal(grading_month_first_day(feb28), civil(2026, 2, 1));
    assert_int_equal(grading_next_month_first_day(feb28), feb28 + 1);
    assert_int_equal(grading_next_month_first_day(civil(2028, 2, 28)), civil(2028, 2, 28) + 2);
    assert_int_equal(grading_next_month_first_day(civil(2028, 2, 29)), civil(2028, 3, 1));
    assert_int_equal(grading_month_first_day(civil(2028, 2, 29)), civil(2028, 2, 1));
    assert_int_equal(grading_month_first_day(dec31), civil(2026, 12, 1));
    assert_int_equal(grading_next_month_first_day(dec31), civil(2027, 1, 1));
    assert_int_equal(grading_next_month_first_day(dec31), dec31 + 1);
    assert_int_equal(grading_month_first_day(civil(2027, 1, 1)), civil(2027, 1, 1));
    assert_int_equal(grading_next_month_first_day(civil(1969, 12, 15)), 0);
    assert_int_equal(grading_month_first_day(-1), civil(1969, 12, 1));

    grading_tz_destroy(&seoul);
    grading_tz_destroy(&ny);
}

/* Zones whose transitions skip local midnight or a whole day. */
static void test_dst_gaps(void **state)
{
    (void)state;
    grading_tz_t havana, santiago, ny;
    load_zone(&havana, "America/Havana");
    load_zone(&santiago, "America/Santiago");
    load_zone(&ny, "America/New_York");

    /* New York's gap: 02:00..02:59 local on 2026-03-08 do not exist; the
     * instants either side are on the same day and one second apart. */
    int64_t g = utc(2026, 3, 8, 7, 0, 0);
    assert_int_equal(grading_tz_day(&ny, g - SEC), grading_tz_day(&ny, g));

    /* Havana, 2026-03-08: 00:00 CST (05:00Z) becomes 01:00 CDT, so the day
     * starts at 01:00 local, 05:00Z; the day is 23 h long. */
    int32_t d = civil(2026, 3, 8);
    int64_t s = grading_tz_day_start_ms(&havana, d);
    assert_int_equal(s, utc(2026, 3, 8, 5, 0, 0));
    assert_int_equal(grading_tz_day(&havana, s), d);
    assert_int_equal(grading_tz_day(&havana, s - 1), d - 1);
    assert_int_equal(grading_tz_offset_s(&havana, s), -4 * 3600);
    assert_int_equal(grading_tz_day_start_ms(&havana, d + 1) - s, 23 * HOUR);
    /* Havana, 2026-11-01: 01:00 CDT goes back to 00:00 CST, same day. */
    d = civil(2026, 11, 1);
    assert_int_equal(grading_tz_day_start_ms(&havana, d), utc(2026, 11, 1, 4, 0, 0));
    assert_int_equal(grading_tz_day_start_ms(&havana, d + 1) - grading_tz_day_start_ms(&havana, d),
                     25 * HOUR);

    /* Santiago, 2026-09-06: 00:00 -04 (04:00Z) becomes 01:00 -03. */
    d = civil(2026, 9, 6);
    s = grading_tz_day_start_ms(&santiago, d);
    assert_int_equal(s, utc(2026, 9, 6, 4, 0, 0));
    assert_int_equal(grading_tz_day(&santiago, s - 1), d - 1);
    assert_int_equal(grading_tz_day(&santiago, s), d);
    /* Santiago, 2026-04-05: 00:00 -03 (03:00Z) becomes 23:00 -04 on Apr 4,
     * so Apr 4 has 25 h and Apr 5 starts at 04:00Z. */
    d = civil(2026, 4, 5);
    assert_local_date(&santiago, utc(2026, 4, 5, 3, 0, 0), 2026, 4, 4);
    assert_int_equal(grading_tz_day_start_ms(&santiago, d), utc(2026, 4, 5, 4, 0, 0));
    assert_int_equal(grading_tz_day_start_ms(&santiago, d) - grading_tz_day_start_ms(&santiago, d - 1),
                     25 * HOUR);

    grading_tz_destroy(&havana);
    grading_tz_destroy(&santiago);
    grading_tz_destroy(&ny);
}

/* Apia skipped 2011-12-30: 23:59:59 -10 on Dec 29 (09:59:59Z Dec 30) was
 * followed by 00:00 +14 on Dec 31 (10:00Z). No instant is on Dec 30; Dec 29
 * keeps its 24 h, so the empty Dec 30 starts (and ends) at 10:00Z. Day
 * ranges [start(d), start(d+1)) must tile time, or a day's events fall out
 * of every range. */
static void test_skipped_day(void **state)
{
    (void)state;
    grading_tz_t apia;
    load_zone(&apia, "Pacific/Apia");
    int64_t jump = utc(2011, 12, 30, 10, 0, 0);
    int32_t d29 = civil(2011, 12, 29);
    int64_t ev = utc(2011, 12, 29, 20, 0, 0);   /* 10:00 local on Dec 29 */
    int32_t before = grading_tz_day(&apia, jump - 1), after = grading_tz_day(&apia, jump);
    int32_t ev_day = grading_tz_day(&apia, ev);
    int64_t s29 = grading_tz_day_start_ms(&apia, d29);
    int64_t s30 = grading_tz_day_start_ms(&apia, d29 + 1);
    int64_t s31 = grading_tz_day_start_ms(&apia, d29 + 2);
    grading_tz_destroy(&apia);   /* before any assertion: no leak on failure */

    assert_int_equal(jump, INT64_C(1325239200) * SEC);
    assert_int_equal(before, d29);
    assert_int_equal(after, d29 + 2);
    assert_int_equal(ev_day, d29);
    assert_int_equal(s29, utc(2011, 12, 29, 10, 0, 0));
    assert_int_equal(s31, jump);
    if (!(s29 <= ev && ev < s30))
        fail_msg("Pacific/Apia: day_start(2011-12-30) = %lld, day_start(2011-12-29) = %lld: "
                 "an event at %lld on Dec 29 is outside [start(29), start(30)); expected "
                 "day_start(2011-12-30) = %lld (the jump)",
                 (long long)s30, (long long)s29, (long long)ev, (long long)jump);
    assert_int_equal(s30, jump);
}

/* For every day 1970..2037 in zones with and without DST: the day starts
 * at an instant on it, just after an instant on the day before, days tile
 * time, their lengths are sane, and day() never goes backwards hour by hour. */
static void test_day_start_every_day(void **state)
{
    (void)state;
    static const char *const zones[] = {
        "Asia/Seoul", "Asia/Tokyo", "America/New_York", "UTC", "America/Havana",
        "America/Santiago", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata",
        "Pacific/Chatham",
    };
    const size_t nz = sizeof zones / sizeof zones[0] + 1;
    int32_t first = civil(1970, 1, 1), last = civil(2037, 12, 31);
    for (size_t z = 0; z < nz; z++) {
        grading_tz_t tz;
        if (z < nz - 1) load_zone(&tz, zones[z]);
        else assert_int_equal(grading_tz_init_fixed(&tz, "-09:30", -34200), GRADING_OK);
        int64_t prev_start = grading_tz_day_start_ms(&tz, first - 1);
        for (int32_t d = first; d <= last; d++) {
            int64_t s = grading_tz_day_start_ms(&tz, d);
            if (grading_tz_day(&tz, s) != d || grading_tz_day(&tz, s - 1) != d - 1)
                fail_msg("%s: day %d starts at %lld, which is on day %d (the ms before: %d)", tz.name,
                         d, (long long)s, grading_tz_day(&tz, s), grading_tz_day(&tz, s - 1));
            int64_t len = s - prev_start;
            if (len < 22 * HOUR || len > 26 * HOUR)
                fail_msg("%s: day %d is %lld ms long", tz.name, d - 1, (long long)len);
            /* The middle of the previous day is on it too. */
            assert_int_equal(grading_tz_day(&tz, prev_start + len / 2), d - 1);
            prev_start = s;
        }
        /* Hour by hour through 2026, day() is non-decreasing by 0 or 1. */
        int32_t prev = grading_tz_day(&tz, utc(2026, 1, 1, 0, 0, 0));
        for (int64_t t = utc(2026, 1, 1, 0, 0, 0); t < utc(2027, 1, 1, 0, 0, 0); t += HOUR) {
            int32_t day = grading_tz_day(&tz, t);
            if (day != prev && day != prev + 1)
                fail_msg("%s: day went from %d to %d at %lld", tz.name, prev, day, (long long)t);
            prev = day;
        }
        grading_tz_destroy(&tz);
    }
}

/* ---- the calendar ---- */

static void test_civil_anchors(void **state)
{
    (void)state;
    /* From `date -u -d DATE +%s` / 86400. */
    assert_int_equal(civil(1970, 1, 1), 0);
    assert_int_equal(civil(1969, 12, 31), -1);
    assert_int_equal(civil(2026, 1, 1), 20454);
    assert_int_equal(civil(2026, 3, 8), 20520);
    assert_int_equal(civil(2026, 9, 30), 20726);
    assert_int_equal(civil(2026, 10, 1), 20727);
    assert_int_equal(civil(2028, 2, 29), 21243);
    assert_int_equal(civil(2000, 3, 1), 11017);
    assert_int_equal(civil(1600, 1, 1), -135140);
    assert_int_equal(civil(2100, 3, 1), 47541);
    assert_date(20727, 2026, 10, 1);
    assert_date(-135140, 1600, 1, 1);
    assert_date(-1, 1969, 12, 31);
    /* The instants used above. */
    assert_int_equal(utc(1969, 12, 31, 23, 59, 59), -SEC);
    assert_int_equal(utc(2026, 9, 6, 4, 0, 0), INT64_C(1788667200) * SEC);
    assert_int_equal(utc(2026, 3, 8, 5, 0, 0), INT64_C(1772946000) * SEC);
}

static bool is_leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static uint32_t month_days(int32_t y, uint32_t m)
{
    static const uint32_t n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

/* Walks the calendar one day at a time from 1 Jan of year -800
 * (astronomical; 6 cycles of 146,097 days before 1600-01-01) to the end of
 * 2400, checking both conversions and the month helpers at every day. */
static void test_civil_round_trip(void **state)
{
    (void)state;
    int32_t y = -800;
    uint32_t m = 1, d = 1;
    int32_t day = -135140 - 6 * 146097;
    assert_int_equal(civil(y, m, d), day);
    int32_t month_first = day;
    long checked = 0;
    while (y <= 2400) {
        if (civil(y, m, d) != day) fail_msg("%d-%u-%u: got day %d, expected %d", y, m, d, civil(y, m, d), day);
        int32_t gy;
        uint32_t gm, gd;
        grading_civil_from_days(day, &gy, &gm, &gd);
        if (gy != y || gm != m || gd != d)
            fail_msg("day %d: got %d-%u-%u, expected %d-%u-%u", day, gy, gm, gd, y, m, d);
        if (grading_month_first_day(day) != month_first)
            fail_msg("day %d (%d-%u-%u): month_first_day %d, expected %d", day, y, m, d,
                     grading_month_first_day(day), month_first);
        int32_t next_first = month_first + (int32_t)month_days(y, m);
        if (grading_next_month_first_day(day) != next_first)
            fail_msg("day %d (%d-%u-%u): next_month_first_day %d, expected %d", day, y, m, d,
                     grading_next_month_first_day(day), next_first);
        /* Step the model. */
        day++;
        checked++;
        if (++d > month_days(y, m)) {
            d = 1;
            month_first = day;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    assert_int_equal(checked, civil(2401, 1, 1) - (-135140 - 6 * 146097));
    assert_true(checked > 1000000);

    /* Far days, sampled: the two conversions stay inverse. */
    for (int32_t z = -(1 << 28); z <= (1 << 28); z += 9973) {
        int32_t gy;
        uint32_t gm, gd;
        grading_civil_from_days(z, &gy, &gm, &gd);
        assert_true(gm >= 1 && gm <= 12 && gd >= 1 && gd <= month_days(gy, gm));
        if (civil(gy, gm, gd) != z) fail_msg("day %d -> %d-%u-%u -> %d", z, gy, gm, gd, civil(gy, gm, gd));
    }
}

/* ---- the footer rule (POSIX TZ strings, RFC 8536 §3.3) ---- */

static grading_tz_rule_t rule_of(const char *s)
{
    grading_tz_rule_t r;
    if (grading_tz_rule_parse(s, strlen(s), &r) != GRADING_OK) fail_msg("\"%s\" refused", s);
    assert_true(r.present);
    return r;
}

/* Each change on both sides, pinned against `date` with the system zones
 * whose footers these are (the sweep test compares every zone). */
static void test_rule_changes(void **state)
{
    (void)state;
    /* New York: second Sunday of March 02:00 EST, first Sunday of November 02:00 EDT */
    grading_tz_rule_t ny = rule_of("EST5EDT,M3.2.0,M11.1.0");
    assert_int_equal(grading_tz_rule_offset_s(&ny, 2530767600 - 1), -5 * 3600);   /* 2050-03-13T06:59:59Z */
    assert_int_equal(grading_tz_rule_offset_s(&ny, 2530767600), -4 * 3600);
    assert_int_equal(grading_tz_rule_offset_s(&ny, 2551327200 - 1), -4 * 3600);   /* 2050-11-06T05:59:59Z */
    assert_int_equal(grading_tz_rule_offset_s(&ny, 2551327200), -5 * 3600);
    /* Sydney: the southern summer spans the new year; the end is at 03:00 daylight time */
    grading_tz_rule_t syd = rule_of("AEST-10AEDT,M10.1.0,M4.1.0/3");
    assert_int_equal(grading_tz_rule_offset_s(&syd, 3479644800 - 1), 11 * 3600);  /* 2080-04-06T15:59:59Z */
    assert_int_equal(grading_tz_rule_offset_s(&syd, 3479644800), 10 * 3600);
    assert_int_equal(grading_tz_rule_offset_s(&syd, 3495369600 - 1), 10 * 3600);  /* 2080-10-05T15:59:59Z */
    assert_int_equal(grading_tz_rule_offset_s(&syd, 3495369600), 11 * 3600);
    /* Dublin: "standard" IST +1 in summer, "daylight" GMT in winter (negative DST) */
    grading_tz_rule_t dub = rule_of("IST-1GMT0,M10.5.0,M3.5.0/1");
    assert_int_equal(dub.std_offset_s, 3600);
    assert_int_equal(dub.dst_offset_s, 0);
    assert_int_equal(grading_tz_rule_offset_s(&dub, 2847661200 - 1), 0);          /* 2060-03-28T00:59:59Z */
    assert_int_equal(grading_tz_rule_offset_s(&dub, 2847661200), 3600);
    assert_int_equal(grading_tz_rule_offset_s(&dub, 2866410000 - 1), 3600);       /* 2060-10-31T00:59:59Z */
    assert_int_equal(grading_tz_rule_offset_s(&dub, 2866410000), 0);
    /* Nuuk: quoted names, a negative change time (-1:00 local) */
    grading_tz_rule_t nuuk = rule_of("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    assert_int_equal(nuuk.std_offset_s, -2 * 3600);
    assert_int_equal(nuuk.dst_offset_s, -1 * 3600);
    assert_int_equal(nuuk.start.time_s, -3600);
    /* 2060-03-27 is a Saturday; -1:00 on Sunday 03-28 is Sat 23:00 local = 01:00Z */
    assert_int_equal(grading_tz_rule_offset_s(&nuuk, 2847661200 - 1), -2 * 3600);
    assert_int_equal(grading_tz_rule_offset_s(&nuuk, 2847661200), -1 * 3600);
    /* all-year daylight time (Jan 1 00:00 to Dec 31 25:00): daylight all
     * year, except that glibc judges the changes in the instant's UTC
     * year, so a zone west of UTC is on standard time from 00:00Z of Jan 1
     * to the start at 00:00 EST (05:00Z); localtime_r says so too
     * (TZ="EST5EDT,0/0,J365/25" date -d @2524608000: 19:00 -0500) */
    grading_tz_rule_t perm = rule_of("EST5EDT,0/0,J365/25");
    assert_int_equal(grading_tz_rule_offset_s(&perm, 2524608000), -5 * 3600);          /* 2050-01-01T00:00Z */
    assert_int_equal(grading_tz_rule_offset_s(&perm, 2524608000 + 5 * 3600 - 1), -5 * 3600);
    for (int64_t t = 2524608000 + 5 * 3600; t < 2524608000 + 365 * 86400; t += 3 * 3600 + 17)
        assert_int_equal(grading_tz_rule_offset_s(&perm, t), -4 * 3600);
    /* Jn skips February 29, n counts it (0-based): J60 and 60 are both March 1 in 2052 */
    grading_tz_rule_t j = rule_of("XST0XDT,J60/0,J300/0"), n = rule_of("XST0XDT,60/0,J300/0");
    int64_t mar1 = (int64_t)grading_days_from_civil(2052, 3, 1) * 86400;
    assert_int_equal(grading_tz_rule_offset_s(&j, mar1 - 1), 0);
    assert_int_equal(grading_tz_rule_offset_s(&j, mar1), 3600);
    assert_int_equal(grading_tz_rule_offset_s(&n, mar1 - 1), 0);
    assert_int_equal(grading_tz_rule_offset_s(&n, mar1), 3600);
    /* no daylight time; hh:mm offsets; an explicit daylight offset */
    assert_int_equal(rule_of("<+0330>-3:30").std_offset_s, 3 * 3600 + 1800);
    assert_false(rule_of("KST-9").has_dst);
    assert_int_equal(rule_of("AAA3BBB1:30,M3.2.0,M11.1.0").dst_offset_s, -5400);
    /* the empty string is "no rule" */
    grading_tz_rule_t none;
    assert_int_equal(grading_tz_rule_parse("", 0, &none), GRADING_OK);
    assert_false(none.present);
}

static void test_rule_bad_strings(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "E5", "EST", "5", "EST+", "EST5EDT", "EST5EDT,M3.2.0", "EST5EDT,M13.2.0,M11.1.0",
        "EST5EDT,M0.2.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.0.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0",
        "EST5EDT,J0,J365", "EST5EDT,366,J365", "EST5EDT,M3.2.0/168,M11.1.0", "EST25", "<AB>5", "<ABC5",
        "<A_C>5", "EST5 ", "EST5EDT,M3.2.0,M11.1.0x", "EST5:60", "EST5EDT,M3.2.0/,M11.1.0", "EST5EDT,X1,J2",
        "EST5EDT,M3.2,M11.1.0", "EST5EDT,,M3.2.0,M11.1.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        grading_tz_rule_t r;
        if (grading_tz_rule_parse(bad[i], strlen(bad[i]), &r) != GRADING_EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_false(r.present);
    }
}

/* After the table of America/New_York ends, the footer keeps DST going. */
static void test_new_york_after_its_table(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = read_zone_bytes("America/New_York", &len);
    grading_tz_t tz;
    grading_error_t e = {0};
    assert_int_equal(init_bytes(&tz, b, len, &e), GRADING_OK);
    assert_true(tz.rule.present);
    /* 2050-07-01 12:00Z is daylight time, 2050-01-15 12:00Z standard */
    assert_int_equal(grading_tz_offset_s(&tz, utc(2050, 7, 1, 12, 0, 0)), -4 * 3600);
    assert_int_equal(grading_tz_offset_s(&tz, utc(2050, 1, 15, 12, 0, 0)), -5 * 3600);
    /* 2050-07-01 03:30Z is still June 30 in New York (EDT); with EST it would be too, at 23:30 vs 22:30:
     * 04:30Z is 00:30 EDT July 1 but 23:30 EST June 30 */
    assert_int_equal(grading_tz_day(&tz, utc(2050, 7, 1, 4, 30, 0)), civil(2050, 7, 1));
    /* the local day starts at 04:00Z in summer */
    assert_true(grading_tz_day_start_ms(&tz, civil(2050, 7, 1)) == utc(2050, 7, 1, 4, 0, 0));
    grading_tz_destroy(&tz);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_system_zones),
        cmocka_unit_test(test_new_york_dst_2026),
        cmocka_unit_test(test_not_tzif),
        cmocka_unit_test(test_handmade_tzif),
        cmocka_unit_test(test_truncated_tzif),
        cmocka_unit_test(test_rule_changes),
        cmocka_unit_test(test_rule_bad_strings),
        cmocka_unit_test(test_new_york_after_its_table),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_parse_offset),
        cmocka_unit_test(test_fixed_zone),
        cmocka_unit_test(test_copy_destroy),
        cmocka_unit_test(test_day_across_zones),
        cmocka_unit_test(test_month_and_year_ends),
        cmocka_unit_test(test_dst_gaps),
        cmocka_unit_test(test_skipped_day),
        cmocka_unit_test(test_day_start_every_day),
        cmocka_unit_test(test_civil_anchors),
        cmocka_unit_test(test_civil_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
