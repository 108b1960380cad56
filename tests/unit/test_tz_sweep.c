/* Every zone of the system's zoneinfo against glibc (src/core/tz.c,
 * src/core/tz_rule.c).
 *
 * For each TZif file under $TZDIR (default /usr/share/zoneinfo), 10,000
 * instants from 1970-01-01 to 2100-01-01 UTC (evenly spread, each moved by
 * a pseudo-random part of its step so every time of day occurs) are
 * converted twice: by grading_tz_day / grading_tz_offset_s, and by glibc's
 * localtime_r with TZ set to the file. The local date and the UTC offset
 * must agree for every instant of every zone: zero differences. Most of
 * the years after 2037 are past the tables of "fat" files and all of them
 * past "slim" ones, so this checks the footer rule (RFC 8536 §3.3) of
 * every daylight saving zone.
 *
 * Files that are not TZif (zone.tab, tzdata.zi, ...) are skipped. Files
 * with leap-second records ("right/") must be refused by the loader: their
 * seconds are not POSIX time (grading_tz_init_tzif). The counts are
 * printed; the test fails if fewer than 300 zones were compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grading/tz.h"

#define INSTANTS 10000
#define FROM_S INT64_C(0)                 /* 1970-01-01T00:00:00Z */
#define TO_S INT64_C(4102444800)          /* 2100-01-01T00:00:00Z */
#define MAX_FILE (1 << 20)
#define MAX_REPORTED 10

static struct {
    size_t compared, skipped, leap_refused, differences, instants;
    uint8_t *buf;
} g;

static uint32_t leapcnt_of(const uint8_t *b, size_t n)
{
    if (n < 44) return 0;
    return (uint32_t)b[28] << 24 | (uint32_t)b[29] << 16 | (uint32_t)b[30] << 8 | b[31];
}

static void compare_zone(const char *path, const grading_tz_t *tz)
{
    char env[1200];
    snprintf(env, sizeof env, ":%s", path);
    if (setenv("TZ", env, 1) != 0) fail_msg("setenv TZ=%s", env);
    tzset();
    uint64_t x = 0x9e3779b97f4a7c15u;
    int64_t step = (TO_S - FROM_S) / INSTANTS;
    for (int64_t i = 0; i < INSTANTS; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        int64_t t = FROM_S + i * step + (int64_t)((x >> 33) % (uint64_t)step);
        time_t tt = (time_t)t;
        struct tm tm;
        if (!localtime_r(&tt, &tm)) fail_msg("%s: localtime_r(%lld) failed", path, (long long)t);
        int32_t y;
        uint32_t m, d;
        grading_civil_from_days(grading_tz_day(tz, t * 1000), &y, &m, &d);
        int32_t off = grading_tz_offset_s(tz, t * 1000);
        g.instants++;
        if (y == tm.tm_year + 1900 && (int)m == tm.tm_mon + 1 && (int)d == tm.tm_mday && off == tm.tm_gmtoff)
            continue;
        if (g.differences++ < MAX_REPORTED)
            fprintf(stderr, "DIFF %s at %lld: ours %04d-%02u-%02u %+d s, glibc %04d-%02d-%02d %+ld s\n", path,
                    (long long)t, y, m, d, off, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, (long)tm.tm_gmtoff);
    }
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || st->st_size > MAX_FILE) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(g.buf, 1, MAX_FILE, f);
    fclose(f);
    if (n < 4 || memcmp(g.buf, "TZif", 4) != 0) {
        g.skipped++;
        return 0;
    }
    grading_tz_t tz;
    grading_error_t e = {0};
    grading_err_t rc = grading_tz_init_tzif(&tz, path, g.buf, n, &e);
    if (leapcnt_of(g.buf, n) > 0) {
        if (rc != GRADING_EINVAL || !strstr(e.message, "leap seconds"))
            fail_msg("%s has leap seconds: rc %d (%s), expected a refusal", path, rc, e.message);
        g.leap_refused++;
        return 0;
    }
    if (rc != GRADING_OK) fail_msg("%s: %s", path, e.message);
    compare_zone(path, &tz);
    grading_tz_destroy(&tz);
    g.compared++;
    return 0;
}

static void test_every_zone_matches_glibc(void **state)
{
    (void)state;
    const char *dir = getenv("TZDIR");
    if (!dir || !dir[0]) dir = "/usr/share/zoneinfo";
    g.buf = malloc(MAX_FILE);
    assert_non_null(g.buf);
    if (nftw(dir, visit, 16, FTW_PHYS) != 0) fail_msg("cannot walk %s: is tzdata installed?", dir);
    free(g.buf);
    unsetenv("TZ");
    tzset();
    printf("zones compared %zu (%zu instants), leap-second zones refused %zu, non-TZif files skipped %zu, "
           "differences %zu\n",
           g.compared, g.instants, g.leap_refused, g.skipped, g.differences);
    assert_true(g.compared >= 300);
    assert_int_equal(g.instants, g.compared * INSTANTS);
    assert_int_equal(g.differences, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_zone_matches_glibc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
