/* The policy expression language: syntax, precedence, percent literals,
 * types, the "not enough data" state, every compile error with its column,
 * limits, the referenced-names listing and printing round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/expr.h"

#define NUM GRADING_EXPR_NUMBER
#define BOOL GRADING_EXPR_BOOL
#define STR GRADING_EXPR_STRING

/* ---- a small world of names -------------------------------------------- */

typedef struct {
    const char *name;
    grading_expr_type_t type;
    grading_expr_value_t value;
    int lookups;
} sym_t;

enum { S_RATE, S_ORDERS, S_SALES, S_ZERO, S_BIG, S_FIT, S_RISK, S_VERDICT, S_NA, S_NA_BOOL,
       S_NA_STR, S_CANCEL, S_COUNT };

static sym_t syms[S_COUNT];
static int resolves;

static void world_reset(void)
{
    sym_t init[S_COUNT] = {
        [S_RATE] = {"rate", NUM, {0}, 0},
        [S_ORDERS] = {"orders", NUM, {0}, 0},
        [S_SALES] = {"sales", NUM, {0}, 0},
        [S_ZERO] = {"zero", NUM, {0}, 0},
        [S_BIG] = {"big", NUM, {0}, 0},
        [S_FIT] = {"fit", BOOL, {0}, 0},
        [S_RISK] = {"risk", BOOL, {0}, 0},
        [S_VERDICT] = {"verdict", STR, {0}, 0},
        [S_NA] = {"na", NUM, {0}, 0},
        [S_NA_BOOL] = {"na_bool", BOOL, {0}, 0},
        [S_NA_STR] = {"na_str", STR, {0}, 0},
        [S_CANCEL] = {"metrics.cancel_rate_30d", NUM, {0}, 0},
    };
    memcpy(syms, init, sizeof syms);
    syms[S_RATE].value = grading_expr_number(0.004);
    syms[S_ORDERS].value = grading_expr_number(120);
    syms[S_SALES].value = grading_expr_number(2.5e8);
    syms[S_ZERO].value = grading_expr_number(0);
    syms[S_BIG].value = grading_expr_number(1e300);
    syms[S_FIT].value = grading_expr_bool(true);
    syms[S_RISK].value = grading_expr_bool(false);
    syms[S_VERDICT].value = grading_expr_string("Fit");
    syms[S_NA].value = grading_expr_unavailable(NUM);
    syms[S_NA_BOOL].value = grading_expr_unavailable(BOOL);
    syms[S_NA_STR].value = grading_expr_unavailable(STR);
    syms[S_CANCEL].value = grading_expr_number(0.071);
    resolves = 0;
}

static int setup(void **state)
{
    (void)state;
    world_reset();
    return 0;
}

static bool resolve(void *ctx, const char *name, grading_expr_symbol_t *out)
{
    (void)ctx;
    resolves++;
    for (uint32_t i = 0; i < S_COUNT; i++) {
        if (strcmp(syms[i].name, name) == 0) {
            out->id = 1000 + i;   /* ids are the caller's, not slots */
            out->type = syms[i].type;
            return true;
        }
    }
    return false;
}

static grading_err_t lookup(void *ctx, uint32_t id, grading_expr_value_t *out)
{
    (void)ctx;
    assert_true(id >= 1000 && id < 1000 + S_COUNT);
    syms[id - 1000].lookups++;
    *out = syms[id - 1000].value;
    return GRADING_OK;
}

static grading_expr_t *compile_ok(const char *text)
{
    grading_expr_t *e = NULL;
    grading_error_t err = {0};
    grading_expr_pos_t pos;
    grading_err_t rc = grading_expr_compile(text, strlen(text), resolve, NULL, &e, &err, &pos);
    if (rc) fail_msg("compile(%s): %s: %s", text, err.field, err.message);
    assert_non_null(e);
    return e;
}

static grading_expr_value_t eval_text(const char *text)
{
    grading_expr_t *e = compile_ok(text);
    grading_expr_value_t v;
    grading_error_t err = {0};
    grading_err_t rc = grading_expr_eval(e, lookup, NULL, &v, &err);
    if (rc) fail_msg("eval(%s): %s: %s", text, err.field, err.message);
    assert_int_equal(v.type, grading_expr_result_type(e));
    /* A string literal's value is borrowed from e: keep a copy. */
    static char copy[256];
    if (v.type == STR && v.available) {
        snprintf(copy, sizeof copy, "%s", v.string);
        v.string = copy;
    }
    grading_expr_free(e);
    return v;
}

static double num(const char *text)
{
    grading_expr_value_t v = eval_text(text);
    assert_int_equal(v.type, NUM);
    if (!v.available) fail_msg("%s: unavailable, expected a number", text);
    return v.number;
}

static bool truth(const char *text)
{
    grading_expr_value_t v = eval_text(text);
    assert_int_equal(v.type, BOOL);
    if (!v.available) fail_msg("%s: unavailable, expected a bool", text);
    return v.boolean;
}

static void assert_unavailable(const char *text, grading_expr_type_t type)
{
    grading_expr_value_t v = eval_text(text);
    if (v.available) fail_msg("%s: available, expected unavailable", text);
    assert_int_equal(v.type, type);
}

static grading_expr_truth_t condition(const char *text)
{
    grading_expr_t *e = compile_ok(text);
    grading_expr_truth_t t = GRADING_EXPR_FALSE;
    assert_int_equal(grading_expr_eval_condition(e, lookup, NULL, &t, NULL), GRADING_OK);
    grading_expr_free(e);
    return t;
}

/* Compiling `text` fails at line 1, column `col`, with `part` in the
 * message. */
static void expect_error_n(const char *text, size_t len, uint32_t col, const char *part)
{
    grading_expr_t *e = (grading_expr_t *)0x1;
    grading_error_t err = {0};
    grading_expr_pos_t pos = {0, 0};
    grading_err_t rc = grading_expr_compile(text, len, resolve, NULL, &e, &err, &pos);
    if (rc == GRADING_OK) fail_msg("compile(%.60s) succeeded, expected: %s", text, part);
    assert_int_equal(rc, GRADING_EINVAL);
    assert_int_equal(err.code, GRADING_EINVAL);
    assert_null(e);
    if (pos.line != 1 || pos.col != col)
        fail_msg("compile(%.60s): error at %u:%u, expected col %u (%s)", text,
                 (unsigned)pos.line, (unsigned)pos.col, (unsigned)col, err.message);
    char field[32];
    snprintf(field, sizeof field, "col %u", (unsigned)col);
    assert_string_equal(err.field, field);
    if (!strstr(err.message, part))
        fail_msg("compile(%.60s): message \"%s\" lacks \"%s\"", text, err.message, part);
    assert_null(strchr(err.message, '\n'));
}

static void expect_error(const char *text, uint32_t col, const char *part)
{
    expect_error_n(text, strlen(text), col, part);
}

/* ---- syntax and precedence --------------------------------------------- */

static void test_arithmetic_precedence_and_left_associativity(void **state)
{
    (void)state;
    assert_true(num("1 + 2 * 3") == 7);
    assert_true(num("(1 + 2) * 3") == 9);
    assert_true(num("10 - 4 - 3") == 3);        /* (10 - 4) - 3, not 10 - 1 */
    assert_true(num("100 / 10 / 5") == 2);      /* (100 / 10) / 5 */
    assert_true(num("2 * 3 % 4") == 2);         /* (2 * 3) % 4, not 2 * 3 */
    assert_true(num("1 - 2 + 3") == 2);
    assert_true(num("-2 * 3") == -6);
    assert_true(num("- -2") == 2);
    assert_true(num("--2") == 2);
    assert_true(num("-(1 + 2) * 2") == -6);
    assert_true(num("12.25 + .75") == 13);
    assert_true(num("007") == 7);
}

static void test_logic_and_relation_precedence(void **state)
{
    (void)state;
    assert_true(truth("true || false && false"));     /* && binds tighter */
    assert_false(truth("(true || false) && false"));
    assert_true(truth("!false && true"));
    assert_false(truth("!(true || true)"));
    assert_true(truth("!true || true"));               /* (!true) || true */
    assert_true(truth("1 + 1 == 2 && 3 > 2"));
    assert_true(truth("1 < 2 == true"));               /* (1 < 2) == true */
    assert_true(truth("2 * 3 >= 6 && 2 * 3 <= 6 && 1 != 2"));
    assert_true(truth("orders >= 100 && rate < 1%"));
}

static void test_remainder_keeps_the_sign_of_the_dividend(void **state)
{
    (void)state;
    assert_true(num("10 % 3") == 1);
    assert_true(num("10%3") == 1);         /* an operand follows: remainder */
    assert_true(num("10%(3)") == 1);
    assert_true(num("-7 % 3") == -1);
    assert_true(num("7.5 % 2") == 1.5);
}

static void test_percent_literals(void **state)
{
    (void)state;
    assert_true(num("0.5%") == 0.005);     /* exactly the double of 0.005 */
    assert_true(num("3%") == 0.03);
    assert_true(num("0.1%") == 0.001);
    assert_true(num("100%") == 1);
    assert_true(num(".5%") == 0.005);
    assert_true(num("2 * 50%") == 1);
    assert_true(num("3% - 1") == 0.03 - 1);
    assert_true(num("3%-1") == 0.03 - 1);  /* '-' is not an operand start */
    assert_true(num("3% % 2") == 0.03);    /* percent, then remainder */
    assert_true(num("min(3%, 5%)") == 0.03);
    assert_true(truth("0.5% == 0.005"));
}

static void test_thresholds_on_both_sides(void **state)
{
    (void)state;
    syms[S_RATE].value = grading_expr_number(0.0049);
    assert_true(truth("rate < 0.5%"));
    syms[S_RATE].value = grading_expr_number(0.005);
    assert_false(truth("rate < 0.5%"));
    assert_true(truth("rate >= 0.5%"));

    syms[S_RATE].value = grading_expr_number(0.0299);
    assert_false(truth("rate >= 3%"));
    syms[S_RATE].value = grading_expr_number(0.03);
    assert_true(truth("rate >= 3%"));

    syms[S_RATE].value = grading_expr_number(0.49);
    assert_false(truth("rate >= 50%"));
    syms[S_RATE].value = grading_expr_number(0.5);
    assert_true(truth("rate >= 50%"));

    syms[S_SALES].value = grading_expr_number(4.69);
    assert_false(truth("sales >= 4.7"));
    syms[S_SALES].value = grading_expr_number(4.7);
    assert_true(truth("sales >= 4.7"));
}

static void test_ternary_bands(void **state)
{
    (void)state;
    const char *band = "rate < 0.5% ? 5 : rate < 1% ? 4 : rate < 2% ? 3 : rate < 3% ? 2 : 1";
    static const struct {
        double rate, points;
    } cases[] = {{0, 5},     {0.0049, 5}, {0.005, 4}, {0.0099, 4}, {0.01, 3},
                 {0.0199, 3}, {0.02, 2},   {0.0299, 2}, {0.03, 1},  {0.5, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        syms[S_RATE].value = grading_expr_number(cases[i].rate);
        if (num(band) != cases[i].points)
            fail_msg("rate %g: %g points, expected %g", cases[i].rate, num(band), cases[i].points);
    }
    assert_true(num("true ? 1 : 2") == 1);
    assert_true(num("false ? 1 : 2") == 2);
    assert_true(num("false ? 1 : true ? 2 : 3") == 2);   /* right-associative */
    assert_true(num("true ? (false ? 1 : 2) : 3") == 2);
    assert_true(num("(true ? false : true) ? 1 : 2") == 2);
    grading_expr_value_t v = eval_text("fit ? \"Fit\" : \"Risk\"");
    assert_int_equal(v.type, STR);
    assert_string_equal(v.string, "Fit");
    assert_true(truth("(fit ? verdict : \"Risk\") == \"Fit\""));
}

static void test_min_max_abs(void **state)
{
    (void)state;
    assert_true(num("min(3, 1, 2)") == 1);
    assert_true(num("max(3, 1, 2)") == 3);
    assert_true(num("min(5)") == 5);
    assert_true(num("max(-1, -2)") == -1);
    assert_true(num("abs(-4.5)") == 4.5);
    assert_true(num("abs(4.5)") == 4.5);
    assert_true(num("min(max(1, 2), 3) + max(orders, 100)") == 122);
    assert_true(num("min (1, 2)") == 1);     /* space before '(' is fine */
}

static void test_strings_and_dotted_names(void **state)
{
    (void)state;
    assert_true(truth("verdict == \"Fit\""));
    assert_false(truth("verdict != \"Fit\""));
    assert_true(truth("\"Caution\" < \"Fit\" && \"Fit\" < \"Risk\""));
    assert_true(truth("\"a\\\"b\" == \"a\\\"b\""));
    assert_true(truth("\"\xea\xb0\x80\" == \"\xea\xb0\x80\""));   /* UTF-8 kept */
    grading_expr_value_t v = eval_text("\"tab\\there\\n\"");
    assert_string_equal(v.string, "tab\there\n");
    assert_true(truth("metrics.cancel_rate_30d > 7%"));
    assert_true(truth("true == !false"));
}

/* ---- evaluation: short-circuit, unavailable, division -------------------- */

static void test_short_circuit_skips_the_right_side(void **state)
{
    (void)state;
    assert_false(truth("false && fit"));
    assert_int_equal(syms[S_FIT].lookups, 0);
    assert_true(truth("true || fit"));
    assert_int_equal(syms[S_FIT].lookups, 0);
    assert_true(truth("true && fit"));
    assert_int_equal(syms[S_FIT].lookups, 1);
    assert_true(truth("false || fit"));
    assert_int_equal(syms[S_FIT].lookups, 2);

    assert_true(num("true ? rate : orders") == 0.004);
    assert_int_equal(syms[S_ORDERS].lookups, 0);
    assert_true(num("false ? rate : orders") == 120);
    assert_int_equal(syms[S_RATE].lookups, 1);
    assert_int_equal(syms[S_ORDERS].lookups, 1);
}

static void test_unavailable_propagates(void **state)
{
    (void)state;
    assert_unavailable("na", NUM);
    assert_unavailable("na + 1", NUM);
    assert_unavailable("1 - na", NUM);
    assert_unavailable("na * 0", NUM);        /* even times zero */
    assert_unavailable("na / 2", NUM);
    assert_unavailable("na % 2", NUM);
    assert_unavailable("-na", NUM);
    assert_unavailable("abs(na)", NUM);
    assert_unavailable("min(na, 1)", NUM);
    assert_unavailable("max(1, na, 3)", NUM);
    assert_unavailable("na < 1", BOOL);
    assert_unavailable("na >= 1", BOOL);
    assert_unavailable("na == na", BOOL);
    assert_unavailable("na != 1", BOOL);
    assert_unavailable("!na_bool", BOOL);
    assert_unavailable("na_str == \"Fit\"", BOOL);
    assert_unavailable("na_str", STR);
    assert_unavailable("na > 1 ? 1 : 2", NUM);
    assert_unavailable("na_bool ? \"a\" : \"b\"", STR);
    assert_unavailable("true ? na : 1", NUM);
    assert_true(num("false ? na : 1") == 1);
}

static void test_has_asks_about_availability(void **state)
{
    (void)state;
    assert_false(truth("has(na)"));
    assert_true(truth("has(rate)"));
    assert_true(truth("has(metrics.cancel_rate_30d)"));
    assert_false(truth("has(na_str)"));
    assert_true(num("has(na) ? na : 0") == 0);
    assert_true(truth("!has(na) || na > 1"));
}

static void test_and_or_absorb_unavailable_in_either_order(void **state)
{
    (void)state;
    assert_false(truth("false && na_bool"));
    assert_false(truth("na_bool && false"));
    assert_true(truth("true || na_bool"));
    assert_true(truth("na_bool || true"));
    assert_false(truth("na > 1 && 1 > 2"));
    assert_true(truth("na > 1 || 2 > 1"));
    assert_unavailable("true && na_bool", BOOL);
    assert_unavailable("na_bool && true", BOOL);
    assert_unavailable("false || na_bool", BOOL);
    assert_unavailable("na_bool || false", BOOL);
    assert_unavailable("na_bool || na_bool", BOOL);
    assert_unavailable("na_bool && na_bool", BOOL);
    /* A whole condition: unknown is neither met nor failed. */
    assert_int_equal(condition("na > 1"), GRADING_EXPR_UNKNOWN);
    assert_int_equal(condition("na > 1 && fit"), GRADING_EXPR_UNKNOWN);
    assert_int_equal(condition("na > 1 && risk"), GRADING_EXPR_FALSE);
    assert_int_equal(condition("na > 1 || fit"), GRADING_EXPR_TRUE);
    assert_int_equal(condition("rate < 0.5%"), GRADING_EXPR_TRUE);
    assert_int_equal(condition("rate >= 0.5%"), GRADING_EXPR_FALSE);
}

static void test_division_by_zero_and_overflow_are_unavailable(void **state)
{
    (void)state;
    assert_unavailable("1 / 0", NUM);
    assert_unavailable("0 / 0", NUM);
    assert_unavailable("orders / zero", NUM);
    assert_unavailable("5 % 0", NUM);
    assert_unavailable("orders / (rate - rate)", NUM);
    assert_unavailable("big * big", NUM);            /* inf */
    assert_unavailable("-big * big", NUM);           /* -inf */
    assert_unavailable("1 / 0 > 1", BOOL);
    assert_true(truth("1 / 0 > 1 || true"));
    assert_true(num("zero / 5") == 0);

    /* Non-finite values from the caller count as unavailable too. */
    syms[S_RATE].value = grading_expr_number(NAN);
    assert_unavailable("rate", NUM);
    assert_int_equal(condition("rate < 1"), GRADING_EXPR_UNKNOWN);
    syms[S_RATE].value = grading_expr_number(INFINITY);
    assert_unavailable("rate + 1", NUM);
}

/* ---- compile errors ----------------------------------------------------- */

static void test_unknown_names_and_functions(void **state)
{
    (void)state;
    expect_error("rate + nope", 8, "unknown name 'nope'");
    expect_error("metrics.cancel_rate_30 > 1", 1, "unknown name 'metrics.cancel_rate_30'");
    expect_error("foo(1)", 1, "unknown function 'foo'");
    expect_error("1 + metrics.min(1)", 5, "unknown function 'metrics.min'");
    expect_error("rate(1)", 1, "unknown function 'rate'");

    /* Without a resolver, no name exists. */
    grading_expr_t *e = NULL;
    grading_error_t err = {0};
    assert_int_equal(grading_expr_compile("1 + x", 5, NULL, NULL, &e, &err, NULL), GRADING_EINVAL);
    assert_string_equal(err.field, "col 5");
    assert_int_equal(grading_expr_compile("1 + 2", 5, NULL, NULL, &e, &err, NULL), GRADING_OK);
    grading_expr_free(e);
}

static void test_type_errors(void **state)
{
    (void)state;
    expect_error("1 + true", 3, "'+' needs numbers, got number and bool");
    expect_error("\"a\" < 3", 5, "'<' compares two numbers or two strings, got string and number");
    expect_error("true < false", 6, "compares two numbers or two strings, got bool and bool");
    expect_error("1 == \"a\"", 3, "'==' compares values of one type, got number and string");
    expect_error("rate != fit", 6, "'!=' compares values of one type, got number and bool");
    expect_error("!1", 1, "'!' needs a bool, got number");
    expect_error("-fit", 1, "'-' needs a number, got bool");
    expect_error("1 && true", 3, "'&&' needs bools, got number and bool");
    expect_error("fit || verdict", 5, "'||' needs bools, got bool and string");
    expect_error("1 ? 2 : 3", 3, "condition before '?' must be bool, got number");
    expect_error("fit ? 1 : \"a\"", 5, "branches of '?:' differ: number and string");
    expect_error("min(1, \"a\")", 8, "min() takes numbers, argument 2 is string");
    expect_error("max(fit)", 5, "max() takes numbers, argument 1 is bool");
    expect_error("abs(1, 2)", 1, "abs() takes 1 argument, got 2");
    expect_error("abs()", 1, "abs() takes 1 argument, got 0");
    expect_error("min()", 1, "min() takes at least 1 argument");
    expect_error("has(1)", 1, "has() takes one name");
    expect_error("has(rate + 1)", 1, "has() takes one name");
    expect_error("has(rate, orders)", 1, "has() takes one name");
    expect_error("has(nope)", 5, "unknown name 'nope'");
    expect_error("verdict * 2", 9, "'*' needs numbers, got string and number");
    /* The leftmost error wins. */
    expect_error("(1 + true) + (2 + \"x\")", 4, "'+' needs numbers");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("", 1, "empty expression");
    expect_error("   ", 1, "empty expression");
    expect_error("(1 + 2", 1, "'(' is never closed");
    expect_error("((1)", 1, "'(' is never closed");
    expect_error("1 + 2)", 6, "')' without a '('");
    expect_error("min(1, 2", 4, "'(' of min( is never closed");
    expect_error("(1 2)", 4, "expected an operator or ')', found number 2");
    expect_error("min(1 2)", 7, "expected ',' or ')', found number 2");
    expect_error("1 2", 3, "unexpected number 2 after the end of the expression");
    expect_error("rate orders", 6, "unexpected name 'orders' after the end");
    expect_error("1 + 2 @", 7, "unexpected '@'");
    expect_error("1 +", 4, "expected a value, a name or '(', found the end of the expression");
    expect_error("* 2", 1, "expected a value, a name or '(', found '*'");
    expect_error("()", 2, "found ')'");
    expect_error("min(1,)", 7, "found ')'");
    expect_error("fit ? 1", 8, "expected ':' of the '?', found the end");
    expect_error("fit ? fit ? 1 : 2 : 3", 11, "a ternary between '?' and ':' needs parentheses");
    expect_error("rate = 1", 6, "did you mean '=='?");
    expect_error("fit & risk", 5, "did you mean '&&'?");
    expect_error("fit | risk", 5, "did you mean '||'?");
    expect_error("\"abc", 1, "string is never closed");
    expect_error("\"abc\\", 1, "string is never closed");
    expect_error("\"a\\qb\"", 3, "unknown escape");
    expect_error("\"a\tb\"", 3, "control character 0x09 in a string");
    expect_error("1.", 2, "a number needs digits after its '.'");
    expect_error("1.2.3", 4, "unexpected '.' in a number");
    expect_error("12abc", 3, "unexpected 'a' in a number");
    expect_error("1e3", 2, "unexpected 'e' in a number");
    expect_error("rate.", 5, "a name needs a segment after its '.'");
    expect_error("metrics.1", 8, "a name needs a segment after its '.'");
    expect_error(". 5", 1, "unexpected '.'");
    expect_error("'a'", 1, "single quotes are not supported; write strings in \"...\"");
    expect_error_n("1 +\0 2", 6, 4, "unexpected byte 0x00");
    expect_error("1 + \x80", 5, "unexpected byte 0x80");
}

static void test_error_positions_count_characters_and_lines(void **state)
{
    (void)state;
    /* "가나" is six bytes but two characters: the '+' is character 6. */
    expect_error("\"\xea\xb0\x80\xeb\x82\x98\" + 1", 6, "'+' needs numbers, got string and number");

    const char *text = "rate < 1% &&\n  nope > 2";
    grading_expr_t *e = NULL;
    grading_error_t err = {0};
    grading_expr_pos_t pos = {0, 0};
    assert_int_equal(grading_expr_compile(text, strlen(text), resolve, NULL, &e, &err, &pos),
                     GRADING_EINVAL);
    assert_int_equal(pos.line, 2);
    assert_int_equal(pos.col, 3);
    assert_string_equal(err.field, "line 2 col 3");
    assert_string_equal(err.message, "unknown name 'nope'");
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * n + strlen(tail);
    char *s = malloc(len + 1);
    assert_non_null(s);
    strcpy(s, head);
    for (size_t i = 0; i < n; i++) strcat(s, unit);
    strcat(s, tail);
    return s;
}

static void test_nesting_limit(void **state)
{
    (void)state;
    const size_t max = GRADING_EXPR_MAX_DEPTH;

    /* Parentheses: the whole text is one level, each '(' one more. */
    char *open = repeat("", "(", max - 1, "1");
    char *ok = repeat(open, ")", max - 1, "");
    assert_true(num(ok) == 1);
    free(open);
    free(ok);
    open = repeat("", "(", max, "1");
    char *deep = repeat(open, ")", max, "");
    expect_error(deep, (uint32_t)max + 1, "nested deeper than 64 levels");
    free(open);
    free(deep);

    /* Far too deep for any recursion: refused, not a stack overflow. */
    deep = repeat("", "(", GRADING_EXPR_MAX_LEN - 1, "1");
    expect_error(deep, (uint32_t)max + 1, "nested deeper than 64 levels");
    free(deep);
    deep = repeat("", "!", GRADING_EXPR_MAX_LEN - 4, "true");
    expect_error(deep, (uint32_t)max, "nested deeper than 64 levels");
    free(deep);
    ok = repeat("", "!", max - 1, "true");
    assert_false(truth(ok));   /* 63 negations */
    free(ok);

    /* A flat chain is a tall tree: 64 operands fit, 65 do not. */
    ok = repeat("1", " + 1", max - 1, "");
    assert_true(num(ok) == (double)max);
    free(ok);
    deep = repeat("1", " + 1", max, "");
    expect_error(deep, (uint32_t)(1 + 4 * max - 2), "nested deeper than 64 levels");
    free(deep);

    /* Ternary chains too. */
    deep = repeat("", "fit ? 1 : ", GRADING_EXPR_MAX_LEN / 16, "2");
    grading_expr_t *e = NULL;
    assert_int_equal(grading_expr_compile(deep, strlen(deep), resolve, NULL, &e, NULL, NULL),
                     GRADING_EINVAL);
    assert_null(e);
    free(deep);
}

static void test_length_limit(void **state)
{
    (void)state;
    /* Exactly the limit compiles. */
    char *ok = repeat("1", " ", GRADING_EXPR_MAX_LEN - 1, "");
    assert_int_equal(strlen(ok), GRADING_EXPR_MAX_LEN);
    assert_true(num(ok) == 1);
    free(ok);
    char *longer = repeat("1", " ", GRADING_EXPR_MAX_LEN, "");
    expect_error(longer, GRADING_EXPR_MAX_LEN + 1, "expression longer than 4096 bytes");
    free(longer);

    char digits[GRADING_EXPR_MAX_NUMBER_LEN + 2];
    memset(digits, '1', sizeof digits - 1);
    digits[sizeof digits - 1] = '\0';
    expect_error(digits, 1, "number literal longer than 64 characters");
    digits[GRADING_EXPR_MAX_NUMBER_LEN] = '\0';
    assert_true(num(digits) > 1e63);

    char *huge = repeat("", "9", 400, "");   /* would be inf */
    expect_error(huge, 1, "number literal longer than");
    free(huge);
}

static bool resolve_any(void *ctx, const char *name, grading_expr_symbol_t *out)
{
    (void)ctx;
    out->id = (uint32_t)atoi(name + 1);
    out->type = NUM;
    return name[0] == 'n';
}

static void test_names_limit(void **state)
{
    (void)state;
    char text[GRADING_EXPR_MAX_LEN];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "min(n0");
    for (int i = 1; i < GRADING_EXPR_MAX_NAMES; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, ", n%d", i);
    size_t before_last = n;
    snprintf(text + n, sizeof text - n, ")");

    grading_expr_t *e = NULL;
    grading_error_t err = {0};
    assert_int_equal(grading_expr_compile(text, strlen(text), resolve_any, NULL, &e, &err, NULL),
                     GRADING_OK);
    size_t count = 0;
    grading_expr_names(e, &count);
    assert_int_equal(count, GRADING_EXPR_MAX_NAMES);
    grading_expr_free(e);

    snprintf(text + before_last, sizeof text - before_last, ", n999)");
    grading_expr_pos_t pos = {0};
    assert_int_equal(
        grading_expr_compile(text, strlen(text), resolve_any, NULL, &e, &err, &pos),
        GRADING_EINVAL);
    assert_int_equal(pos.col, before_last + 3);
    assert_string_equal(err.message, "more than 128 distinct names");

    /* A name used again is not another name. */
    assert_int_equal(grading_expr_compile("n1 + n1 * n1", 12, resolve_any, NULL, &e, &err, NULL),
                     GRADING_OK);
    grading_expr_names(e, &count);
    assert_int_equal(count, 1);
    grading_expr_free(e);
}

/* ---- names, evaluation errors, printing --------------------------------- */

static void test_referenced_names_in_first_appearance_order(void **state)
{
    (void)state;
    grading_expr_t *e = compile_ok("rate < 1% && has(na) || rate > orders / 2 || fit");
    assert_int_equal(resolves, 4);   /* once per distinct name */
    size_t count = 0;
    const grading_expr_ref_t *r = grading_expr_names(e, &count);
    assert_int_equal(count, 4);
    assert_string_equal(r[0].name, "rate");
    assert_int_equal(r[0].id, 1000 + S_RATE);
    assert_int_equal(r[0].type, NUM);
    assert_string_equal(r[1].name, "na");
    assert_int_equal(r[1].id, 1000 + S_NA);
    assert_string_equal(r[2].name, "orders");
    assert_string_equal(r[3].name, "fit");
    assert_int_equal(r[3].type, BOOL);
    assert_int_equal(grading_expr_result_type(e), BOOL);
    grading_expr_free(e);

    e = compile_ok("1 + 2");
    grading_expr_names(e, &count);
    assert_int_equal(count, 0);
    grading_expr_value_t v;
    assert_int_equal(grading_expr_eval(e, NULL, NULL, &v, NULL), GRADING_OK);
    assert_true(v.available && v.number == 3);
    grading_expr_free(e);

    e = compile_ok("metrics.cancel_rate_30d");
    r = grading_expr_names(e, &count);
    assert_int_equal(count, 1);
    assert_string_equal(r[0].name, "metrics.cancel_rate_30d");
    grading_expr_free(e);
}

static grading_err_t lookup_wrong_type(void *ctx, uint32_t id, grading_expr_value_t *out)
{
    (void)ctx;
    (void)id;
    *out = grading_expr_bool(true);
    return GRADING_OK;
}

static grading_err_t lookup_fails(void *ctx, uint32_t id, grading_expr_value_t *out)
{
    (void)ctx;
    (void)id;
    (void)out;
    return GRADING_EIO;
}

static grading_err_t lookup_null_string(void *ctx, uint32_t id, grading_expr_value_t *out)
{
    (void)ctx;
    (void)id;
    *out = grading_expr_string(NULL);
    return GRADING_OK;
}

static void test_evaluation_errors_from_the_caller(void **state)
{
    (void)state;
    grading_expr_t *e = compile_ok("rate + 1");
    grading_expr_value_t v;
    grading_error_t err = {0};
    assert_int_equal(grading_expr_eval(e, lookup_wrong_type, NULL, &v, &err), GRADING_EINVAL);
    assert_string_equal(err.field, "rate");
    assert_string_equal(err.message, "lookup gave a bool for a name declared number");
    assert_int_equal(grading_expr_eval(e, lookup_fails, NULL, &v, &err), GRADING_EIO);
    assert_int_equal(grading_expr_eval(e, NULL, NULL, &v, &err), GRADING_EINVAL);
    grading_expr_truth_t t;
    assert_int_equal(grading_expr_eval_condition(e, lookup, NULL, &t, &err), GRADING_EINVAL);
    assert_string_equal(err.message, "a condition must be bool, this is number");
    grading_expr_free(e);

    e = compile_ok("verdict == \"Fit\"");
    assert_int_equal(grading_expr_eval(e, lookup_null_string, NULL, &v, &err), GRADING_EINVAL);
    assert_string_equal(err.field, "verdict");
    grading_expr_free(e);

    /* A lookup error inside min() surfaces even after an unavailable
     * argument. */
    e = compile_ok("min(na, rate)");
    assert_int_equal(grading_expr_eval(e, lookup_fails, NULL, &v, &err), GRADING_EIO);
    grading_expr_free(e);

    /* Bad arguments to compile. */
    assert_int_equal(grading_expr_compile("1", 1, NULL, NULL, NULL, &err, NULL), GRADING_EINVAL);
    assert_int_equal(grading_expr_compile(NULL, 3, NULL, NULL, &e, &err, NULL), GRADING_EINVAL);
    assert_null(e);
}

static char *print_alloc(const grading_expr_t *e)
{
    size_t n = grading_expr_print(e, NULL, 0);
    char *s = malloc(n + 1);
    assert_non_null(s);
    assert_int_equal(grading_expr_print(e, s, n + 1), n);
    assert_int_equal(strlen(s), n);
    return s;
}

static void assert_same_value(const char *what, grading_expr_value_t a, grading_expr_value_t b)
{
    assert_int_equal(a.type, b.type);
    if (a.available != b.available) fail_msg("%s: availability differs", what);
    if (!a.available) return;
    switch (a.type) {
    case NUM:
        if (a.number != b.number) fail_msg("%s: %.17g vs %.17g", what, a.number, b.number);
        break;
    case BOOL: assert_int_equal(a.boolean, b.boolean); break;
    case STR: assert_string_equal(a.string, b.string); break;
    }
}

static void test_print_is_canonical(void **state)
{
    (void)state;
    static const char *cases[][2] = {
        {"(1+2)*3", "(1 + 2) * 3"},
        {"1+(2*3)", "1 + 2 * 3"},
        {"rate-(orders-sales)", "rate - (orders - sales)"},
        {"(rate-orders)-sales", "rate - orders - sales"},
        {"rate/(orders*sales)", "rate / (orders * sales)"},
        {"!(fit&&risk)", "!(fit && risk)"},
        {"!fit&&risk", "!fit && risk"},
        {"fit||risk&&fit", "fit || risk && fit"},
        {"(fit||risk)&&fit", "(fit || risk) && fit"},
        {"(1<2)==(3<4)", "1 < 2 == (3 < 4)"},
        {"min( 1,2 ,3)", "min(1, 2, 3)"},
        {"rate<0.5%?5:rate<3%?3:1", "rate < 0.5% ? 5 : rate < 3% ? 3 : 1"},
        {"(fit?risk:fit)?1:2", "(fit ? risk : fit) ? 1 : 2"},
        {"fit?(risk?1:2):3", "fit ? (risk ? 1 : 2) : 3"},
        {"(fit?1:2)+3", "(fit ? 1 : 2) + 3"},
        {"\"a\\\"b\\\\c\\n\\t\\r\"", "\"a\\\"b\\\\c\\n\\t\\r\""},
        {"- -1", "--1"},
        {"-(1+2)", "-(1 + 2)"},
        {"10%3", "10 % 3"},
        {"3%%2", "3% % 2"},
        {"has( na )", "has(na)"},
        {"metrics.cancel_rate_30d>=7.0%", "metrics.cancel_rate_30d >= 7.0%"},
        {"((((true))))", "true"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        grading_expr_t *e = compile_ok(cases[i][0]);
        char *s = print_alloc(e);
        if (strcmp(s, cases[i][1]) != 0)
            fail_msg("print(%s) = %s, expected %s", cases[i][0], s, cases[i][1]);
        free(s);
        grading_expr_free(e);
    }

    /* snprintf-style truncation. */
    grading_expr_t *e = compile_ok("rate + orders");
    char small[6];
    assert_int_equal(grading_expr_print(e, small, sizeof small), 13);
    assert_string_equal(small, "rate ");
    assert_int_equal(grading_expr_print(e, small, 1), 13);
    assert_string_equal(small, "");
    grading_expr_free(e);
}

static void test_print_round_trip_evaluates_the_same(void **state)
{
    (void)state;
    static const char *exprs[] = {
        "1 - (2 - 3) - 4 * (5 % 3) / 2",
        "-(rate * 100) + --orders",
        "rate < 0.5% ? 5 : rate < 1% ? 4 : rate < 3% ? 2 : 1",
        "(fit ? rate : na) > 1% || !(risk && fit) && has(na)",
        "min(rate, 1%, max(orders / sales, abs(-2))) * 3%",
        "verdict == \"Fit\" ? \"ok \\\"quoted\\\"\" : verdict",
        "(na > 1 ? 1 : 2) == 2 != (fit == risk)",
        "orders / zero + 1",
        "10 % 3 + 3% % 2 + 10%(3)",
        "metrics.cancel_rate_30d > 7% && orders >= 100",
    };
    static const double rates[] = {0, 0.0049, 0.005, 0.02, 0.5};
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        grading_expr_t *e1 = compile_ok(exprs[i]);
        char *p1 = print_alloc(e1);
        grading_expr_t *e2 = compile_ok(p1);
        char *p2 = print_alloc(e2);
        assert_string_equal(p1, p2);   /* printing is a fixed point */
        for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
            syms[S_RATE].value = grading_expr_number(rates[r]);
            syms[S_FIT].value = grading_expr_bool(r % 2 == 0);
            syms[S_NA].value = r == 3 ? grading_expr_number(2) : grading_expr_unavailable(NUM);
            grading_expr_value_t v1, v2;
            assert_int_equal(grading_expr_eval(e1, lookup, NULL, &v1, NULL), GRADING_OK);
            assert_int_equal(grading_expr_eval(e2, lookup, NULL, &v2, NULL), GRADING_OK);
            assert_same_value(exprs[i], v1, v2);
        }
        free(p1);
        free(p2);
        grading_expr_free(e1);
        grading_expr_free(e2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_arithmetic_precedence_and_left_associativity, setup),
        cmocka_unit_test_setup(test_logic_and_relation_precedence, setup),
        cmocka_unit_test_setup(test_remainder_keeps_the_sign_of_the_dividend, setup),
        cmocka_unit_test_setup(test_percent_literals, setup),
        cmocka_unit_test_setup(test_thresholds_on_both_sides, setup),
        cmocka_unit_test_setup(test_ternary_bands, setup),
        cmocka_unit_test_setup(test_min_max_abs, setup),
        cmocka_unit_test_setup(test_strings_and_dotted_names, setup),
        cmocka_unit_test_setup(test_short_circuit_skips_the_right_side, setup),
        cmocka_unit_test_setup(test_unavailable_propagates, setup),
        cmocka_unit_test_setup(test_has_asks_about_availability, setup),
        cmocka_unit_test_setup(test_and_or_absorb_unavailable_in_either_order, setup),
        cmocka_unit_test_setup(test_division_by_zero_and_overflow_are_unavailable, setup),
        cmocka_unit_test_setup(test_unknown_names_and_functions, setup),
        cmocka_unit_test_setup(test_type_errors, setup),
        cmocka_unit_test_setup(test_syntax_errors, setup),
        cmocka_unit_test_setup(test_error_positions_count_characters_and_lines, setup),
        cmocka_unit_test_setup(test_nesting_limit, setup),
        cmocka_unit_test_setup(test_length_limit, setup),
        cmocka_unit_test_setup(test_names_limit, setup),
        cmocka_unit_test_setup(test_referenced_names_in_first_appearance_order, setup),
        cmocka_unit_test_setup(test_evaluation_errors_from_the_caller, setup),
        cmocka_unit_test_setup(test_print_is_canonical, setup),
        cmocka_unit_test_setup(test_print_round_trip_evaluates_the_same, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
