/* Close markers' value text (src/kafka/close_marker.c): what parses and
 * every way it must not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "../../src/kafka/kafka_internal.h"

static void test_a_marker_parses(void **state)
{
    (void)state;
    kafka_marker_t mk;
    assert_true(kafka_marker_fields("v1\ntestmart\n1\n2026-10\n1796000000000", &mk));
    assert_string_equal(mk.mp, "testmart");
    assert_int_equal(mk.kind, 1);
    assert_string_equal(mk.period, "2026-10");
    assert_int_equal(mk.now_ms, 1796000000000LL);
    assert_true(kafka_marker_fields("v1\ngmarket\n3\n2025\n1", &mk));
    assert_int_equal(mk.kind, 3);
    assert_string_equal(mk.period, "2025");
}

static void test_bad_markers_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                         /* empty */
        "v2\ntestmart\n1\n2026-10\n1",              /* unknown version */
        "v1\ntestmart\n1\n2026-10",                 /* a field missing */
        "v1\ntestmart\n1\n2026-10\n1\nextra",       /* a field too many */
        "v1\ntestmart\n0\n2026-10\n1",              /* kind below MONTH */
        "v1\ntestmart\n4\n2026-10\n1",              /* kind above YEAR */
        "v1\ntestmart\nmonth\n2026-10\n1",          /* kind not a number */
        "v1\ntestmart\n1\n2026-10\n0",              /* now_ms not positive */
        "v1\ntestmart\n1\n2026-10\n12x",            /* now_ms not a number */
        "\x0a\x0a",                                 /* only separators */
    };
    kafka_marker_t mk;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (kafka_marker_fields(bad[i], &mk)) fail_msg("marker %zu parsed: \"%s\"", i, bad[i]);
    /* a period name longer than the field holds */
    char long_period[200] = "v1\ntestmart\n1\n";
    memset(long_period + strlen(long_period), 'x', 60);
    strcat(long_period, "\n1");
    assert_false(kafka_marker_fields(long_period, &mk));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_marker_parses),
        cmocka_unit_test(test_bad_markers_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
