/* RFC 3339 timestamps (core: rfc3339.h), linked against grading_core only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "grading/rfc3339.h"

typedef struct {
    const char *text;
    int64_t seconds;
    int32_t nanos;
} ts_case_t;

static void test_parse_accepts_rfc3339_forms(void **state)
{
    (void)state;
    static const ts_case_t cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-10-05T09:30:00Z", INT64_C(1791192600), 0},
        {"2026-10-05t09:30:00z", INT64_C(1791192600), 0},
        {"2026-10-05T18:30:00+09:00", INT64_C(1791192600), 0},
        {"2026-10-05T04:00:00-05:30", INT64_C(1791192600), 0},
        {"2026-10-05T09:30:00.5Z", INT64_C(1791192600), 500000000},
        {"2026-10-05T09:30:00.000000001Z", INT64_C(1791192600), 1},
        {"2026-10-05T09:30:00.123456789+00:00", INT64_C(1791192600), 123456789},
        {"2024-02-29T00:00:00Z", INT64_C(1709164800), 0},
        {"2000-03-01T00:00:00Z", INT64_C(951868800), 0},
        {"1969-12-31T23:59:59.5Z", -1, 500000000},
        {"0001-01-01T00:00:00Z", INT64_C(-62135596800), 0},
        {"9999-12-31T23:59:59.999999999Z", INT64_C(253402300799), 999999999},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t s = 7;
        int32_t n = 7;
        grading_error_t e = {0};
        if (grading_rfc3339_parse(cases[i].text, &s, &n, &e))
            fail_msg("%s: %s", cases[i].text, e.message);
        if (s != cases[i].seconds || n != cases[i].nanos)
            fail_msg("%s: got %lld.%09d", cases[i].text, (long long)s, n);
    }
}

static void test_parse_rejects_bad_ones(void **state)
{
    (void)state;
    static const struct {
        const char *text, *needle;
    } bad[] = {
        {"", "RFC 3339"},
        {"2026-10-05", "RFC 3339"},
        {"2026-10-05T09:30:00", "missing time zone"},
        {"2026-10-05 09:30:00Z", "RFC 3339"},
        {"2026-1-05T09:30:00Z", "RFC 3339"},
        {"2026-10-05T09:30Z", "RFC 3339"},
        {"2026-10-05T09:30:00.Z", "RFC 3339"},
        {"2026-10-05T09:30:00.1234567891Z", "9 fractional digits"},
        {"2026-10-05T09:30:00Zjunk", "RFC 3339"},
        {"2026-10-05T09:30:00+0900", "RFC 3339"},
        {"2026-13-05T09:30:00Z", "month 13"},
        {"2026-00-05T09:30:00Z", "month 00"},
        {"2026-02-29T00:00:00Z", "day 29"},
        {"1900-02-29T00:00:00Z", "day 29"},
        {"2026-04-31T00:00:00Z", "day 31"},
        {"2026-10-00T00:00:00Z", "day 00"},
        {"2026-10-05T24:00:00Z", "out of range"},
        {"2026-10-05T09:60:00Z", "out of range"},
        {"2026-10-05T09:30:60Z", "out of range"},
        {"2026-10-05T09:30:00+24:00", "offset"},
        {"0000-01-01T00:00:00Z", "year 0000"},
        {"0001-01-01T00:00:00+00:01", "outside"},
        {"9999-12-31T23:59:59-00:01", "outside"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t s;
        int32_t n;
        grading_error_t e = {0};
        if (grading_rfc3339_parse(bad[i].text, &s, &n, &e) != GRADING_EINVAL)
            fail_msg("accepted \"%s\"", bad[i].text);
        if (!strstr(e.message, bad[i].needle)) fail_msg("\"%s\": message \"%s\"", bad[i].text, e.message);
    }
}

static void test_format_uses_utc_and_the_shortest_exact_fraction(void **state)
{
    (void)state;
    char buf[GRADING_RFC3339_MAX];
    static const ts_case_t cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"1969-12-31T23:59:59Z", -1, 0},
        {"2026-10-05T09:30:00.500Z", INT64_C(1791192600), 500000000},
        {"2026-10-05T09:30:00.000001Z", INT64_C(1791192600), 1000},
        {"2026-10-05T09:30:00.000001500Z", INT64_C(1791192600), 1500},
        {"2024-02-29T23:59:59Z", INT64_C(1709251199), 0},
        {"0001-01-01T00:00:00Z", INT64_C(-62135596800), 0},
        {"9999-12-31T23:59:59.999999999Z", INT64_C(253402300799), 999999999},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(grading_rfc3339_format(cases[i].seconds, cases[i].nanos, buf, sizeof buf),
                         GRADING_OK);
        assert_string_equal(buf, cases[i].text);
    }
    assert_int_equal(grading_rfc3339_format(0, -1, buf, sizeof buf), GRADING_EINVAL);
    assert_string_equal(buf, "");
    assert_int_equal(grading_rfc3339_format(0, 1000000000, buf, sizeof buf), GRADING_EINVAL);
    assert_int_equal(grading_rfc3339_format(INT64_C(253402300800), 0, buf, sizeof buf), GRADING_EINVAL);
    assert_int_equal(grading_rfc3339_format(INT64_C(-62135596801), 0, buf, sizeof buf), GRADING_EINVAL);
    assert_int_equal(grading_rfc3339_format(0, 0, buf, 10), GRADING_EINVAL);
}

static void test_format_then_parse_is_identity(void **state)
{
    (void)state;
    char buf[GRADING_RFC3339_MAX];
    /* A stride prime to the day length walks through every hour, minute and
     * month across the whole range. */
    const int64_t step = INT64_C(86400) * 365 * 7 + 3607;
    for (int64_t s = INT64_C(-62135596800); s <= INT64_C(253402300799); s += step) {
        int32_t nanos = (int32_t)((s / 7) % 1000000000);
        if (nanos < 0) nanos = -nanos;
        assert_int_equal(grading_rfc3339_format(s, nanos, buf, sizeof buf), GRADING_OK);
        int64_t back;
        int32_t nback;
        grading_error_t e = {0};
        if (grading_rfc3339_parse(buf, &back, &nback, &e)) fail_msg("%s: %s", buf, e.message);
        if (back != s || nback != nanos) fail_msg("%lld.%09d -> %s -> %lld.%09d", (long long)s, nanos, buf,
                                                  (long long)back, nback);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_rfc3339_forms),
        cmocka_unit_test(test_parse_rejects_bad_ones),
        cmocka_unit_test(test_format_uses_utc_and_the_shortest_exact_fraction),
        cmocka_unit_test(test_format_then_parse_is_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
