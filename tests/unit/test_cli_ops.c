/* gradectl's operations behaviour (issue 10): rates print as percentages
 * the same way in metrics and close; close asks before closing on a
 * terminal and takes only y/yes; backup's usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/cli/args.c"
#include "../../src/cli/call.c"
#include "../../src/cli/table.c"
#include "../../src/cli/query.c"
#include "../../src/cli/cmd_close.c"
#include "../../src/cli/cmd_metrics.c"

static void test_rates_print_as_the_same_percentage(void **state)
{
    (void)state;
    char cell[64], share[16];
    bool insufficient = false;
    Grading__V1__MetricValue v = GRADING__V1__METRIC_VALUE__INIT;
    v.value = 1.0 / 3;
    v.numerator = 1;
    v.denominator = 3;
    v.sufficient = true;
    format_cell(&v, false, cell, sizeof cell, &insufficient);
    close_format_share(1, 3, share, sizeof share);
    assert_string_equal(cell, "33.3% (1/3)");
    assert_string_equal(share, "33.3");
    assert_false(insufficient);
    v.value = 0.0312;
    v.numerator = 3;
    v.denominator = 96;
    v.sufficient = false;
    format_cell(&v, false, cell, sizeof cell, &insufficient);
    assert_string_equal(cell, "3.1% (3/96)*");
    assert_true(insufficient);
    /* a count is not a rate */
    Grading__V1__MetricValue c = GRADING__V1__METRIC_VALUE__INIT;
    c.value = 12;
    c.sufficient = true;
    format_cell(&c, false, cell, sizeof cell, &insufficient);
    assert_string_equal(cell, "12");
}

/* Appeals: a value exclusions moved shows its raw one beside it; an
 * unmoved one, or a reply without exclusions, shows only the value. */
static void test_raw_values_show_beside_moved_ones(void **state)
{
    (void)state;
    char cell[300];
    bool insufficient = false;
    Grading__V1__MetricValue v = GRADING__V1__METRIC_VALUE__INIT;
    v.value = 0.02, v.numerator = 2, v.denominator = 100, v.sufficient = true;
    v.raw_value = 0.03, v.raw_numerator = 3, v.raw_denominator = 100, v.raw_sufficient = true;
    format_cell(&v, true, cell, sizeof cell, &insufficient);
    assert_string_equal(cell, "2.0% (2/100) raw 3.0% (3/100)");
    format_cell(&v, false, cell, sizeof cell, &insufficient);
    assert_string_equal(cell, "2.0% (2/100)");
    v.raw_value = v.value, v.raw_numerator = v.numerator;
    format_cell(&v, true, cell, sizeof cell, &insufficient);
    assert_string_equal(cell, "2.0% (2/100)");
    assert_false(insufficient);
}

static bool confirm_with(const char *answer, char **prompt)
{
    FILE *in = fmemopen((void *)answer, strlen(answer), "r");
    size_t len = 0;
    FILE *out = open_memstream(prompt, &len);
    assert_non_null(in);
    assert_non_null(out);
    bool ok = close_confirm(in, out, "month", "2026-10", "tmon");
    fclose(in);
    fclose(out);
    return ok;
}

static void test_close_confirmation_takes_only_yes(void **state)
{
    (void)state;
    const char *yes[] = {"y\n", "Y\n", "yes\n", "YES\r\n", "y"};
    const char *no[] = {"\n", "n\n", "no\n", "yess\n", " y\n", ""};
    char *prompt = NULL;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        assert_true(confirm_with(yes[i], &prompt));
        assert_non_null(strstr(prompt, "Close month 2026-10 of tmon?"));
        assert_non_null(strstr(prompt, "[y/N]"));
        free(prompt);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        assert_false(confirm_with(no[i], &prompt));
        free(prompt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates_print_as_the_same_percentage),
        cmocka_unit_test(test_raw_values_show_beside_moved_ones),
        cmocka_unit_test(test_close_confirmation_takes_only_yes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
