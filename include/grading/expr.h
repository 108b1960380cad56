/* The expression language of policy files: conditions and formulas.
 *
 * SYNTAX: a subset of CEL's (github.com/google/cel-spec), plus percent
 * literals. Lowest to highest precedence:
 *
 *   c ? a : b            ternary; right-associative; as in CEL the middle
 *                        operand is an `||` expression (parenthesise a
 *                        ternary there), the last may be another ternary
 *   a || b               left-associative, short-circuit
 *   a && b               left-associative, short-circuit
 *   < <= > >= == !=      relations, ONE level as in CEL, left-associative
 *                        (`a == b < c` is `(a == b) < c`: a type error)
 *   a + b   a - b        left-associative
 *   a * b   a / b   a % b   left-associative; % is the remainder (fmod),
 *                        with the sign of a
 *   !a   -a              unary, may repeat (`!!a`, `- -a`)
 *   ( e )   f(args)   literals   names
 *
 *   numbers    `12`, `4.7`, `.5`, `100000000`; no exponents, no
 *              separators. A `%` written right after a number literal is a
 *              percent sign (`0.5%` is 0.005, `3%` is 0.03, rounded once,
 *              as if written 0.005) unless a name, number, string, `.` or
 *              `(` follows the `%` at once: `10%3` and `10 % 3` are
 *              remainders, `3% - x` is 0.03 - x.
 *   bools      `true`, `false`
 *   strings    double-quoted, UTF-8 kept as is; escapes \" \\ \n \t \r;
 *              no other control character (below 0x20, or 0x7f) may
 *              appear, raw or escaped
 *   names      [A-Za-z_][A-Za-z0-9_]* with dotted segments:
 *              `orders`, `metrics.cancel_rate_30d`. What names exist, and
 *              their types, is the caller's (the resolver callback).
 *   functions  min(x, ...), max(x, ...): one or more numbers;
 *              abs(x): one number;
 *              has(name): bool, true when the name has a value (a rate
 *              over its minimum volume). The argument must be a name.
 *   Spaces, tabs and newlines separate tokens; there are no comments.
 *
 * TYPES, checked at compile time: number (a double), bool, string. There is
 * one number type (CEL's int/double distinction does not exist here).
 *   !  needs a bool;  unary -, * / % + -, abs, min, max need numbers;
 *   < <= > >= compare two numbers or two strings (byte order);
 *   == != compare two values of one type; && || need bools;
 *   c ? a : b needs a bool c, and a and b of one type, which is the type
 *   of the whole. An unknown name or function, or any other mix, is a
 *   compile error.
 *
 * UNAVAILABLE ("not enough data"): a name's value may be unavailable (a rate
 * under its minimum volume). At evaluation:
 *   - any operator or function on an unavailable operand is unavailable:
 *     arithmetic, comparisons (== and != too), !, -, abs, min, max (if any
 *     argument is);
 *   - && and || absorb it like CEL absorbs errors, in either order:
 *     false && u = u && false = false, true || u = u || true = true,
 *     otherwise unavailable. The left operand is evaluated first; the right
 *     one is skipped when the left decides;
 *   - c ? a : b with c unavailable is unavailable; only the chosen branch
 *     is evaluated;
 *   - has(x) is never unavailable;
 *   - division or remainder by zero, and any result that is not finite
 *     (overflow), are unavailable: never inf or NaN. A looked-up number
 *     that is not finite counts as unavailable too.
 * Number equality is exact (0.1 + 0.2 == 0.3 is false), as in CEL.
 * A condition that ends unavailable is neither met nor failed: the caller
 * decides (grading_expr_eval_condition returns a tri-state).
 *
 * LIMITS, named below: text length, nesting depth (the height of the tree:
 * parentheses, unary operators, and also chains, so `a + b + ... ` with 65
 * operands is too deep), distinct names, and number literal length. Deep or
 * long input is refused at compile time, so neither compiling, printing nor
 * evaluating can overflow the stack.
 *
 * Numbers are parsed with strtod: the process must keep LC_NUMERIC "C" (the
 * default; the service never calls setlocale).
 *
 * MEMORY: a compiled expression is one allocation, immutable, safe to
 * evaluate from many threads at once. Evaluation never allocates. */
#ifndef GRADING_EXPR_H
#define GRADING_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"

#define GRADING_EXPR_MAX_LEN 4096        /* bytes of expression text */
#define GRADING_EXPR_MAX_DEPTH 64        /* tree height and parenthesis depth */
#define GRADING_EXPR_MAX_NAMES 128       /* distinct names in one expression */
#define GRADING_EXPR_MAX_NUMBER_LEN 64   /* characters of one number literal */

typedef enum {
    GRADING_EXPR_NUMBER = 1,
    GRADING_EXPR_BOOL = 2,
    GRADING_EXPR_STRING = 3
} grading_expr_type_t;

/* A value. `type` is always set; the payload matching it is meaningful only
 * when `available`. `string` is borrowed: from the compiled expression (a
 * literal) or from whoever the lookup callback borrowed it from. */
typedef struct {
    grading_expr_type_t type;
    bool available;
    bool boolean;
    double number;
    const char *string;   /* NUL-terminated */
} grading_expr_value_t;

/* A condition's outcome. */
typedef enum {
    GRADING_EXPR_FALSE = 0,
    GRADING_EXPR_TRUE = 1,
    GRADING_EXPR_UNKNOWN = 2   /* it ended unavailable: not enough data */
} grading_expr_truth_t;

/* What a name denotes, as the resolver tells it. `id` is the caller's: the
 * evaluator hands it back to the lookup callback. */
typedef struct {
    uint32_t id;
    grading_expr_type_t type;
} grading_expr_symbol_t;

/* One name an expression refers to. */
typedef struct {
    const char *name;   /* NUL-terminated, "metrics.cancel_rate_30d" */
    uint32_t id;
    grading_expr_type_t type;
} grading_expr_ref_t;

/* 1-based position of a compile error within the expression text. `col`
 * counts characters (UTF-8 code points) from the start of `line`, so a
 * loader can add it to where the text sits in its file. */
typedef struct {
    uint32_t line;
    uint32_t col;
} grading_expr_pos_t;

typedef struct grading_expr grading_expr_t;

/* Name resolution at compile time. `name` is NUL-terminated. Returns true
 * and fills *out when the name exists; false makes it an "unknown name"
 * error. Called once per distinct name, in order of first appearance. */
typedef bool (*grading_expr_resolve_cb)(void *ctx, const char *name,
                                        grading_expr_symbol_t *out);

/* Value lookup at evaluation. Fills *out for the symbol `id` the resolver
 * gave: out->type must be the type the resolver declared; set
 * out->available = false for "not enough data". A non-zero return aborts
 * the evaluation with that error (a store read failed, say). Must not
 * assume it is called once per name, or at all (short-circuit). */
typedef grading_err_t (*grading_expr_lookup_cb)(void *ctx, uint32_t id,
                                                grading_expr_value_t *out);

/* Compiles `len` bytes of `text` (need not be NUL-terminated; a NUL byte
 * inside is an error). `resolve` may be NULL: then no name exists. On
 * success *out owns the compiled expression (grading_expr_free).
 * On failure *out is NULL, *err (if not NULL) has field "col N" (or
 * "line L col N" when the text spans lines) and a one-line reason, and
 * *pos (if not NULL) the position. Syntax errors are reported before type
 * errors; the first error found is reported.
 * Errors: GRADING_EINVAL (syntax, type, unknown name, a limit exceeded),
 * GRADING_ENOMEM. */
grading_err_t grading_expr_compile(const char *text, size_t len,
                                   grading_expr_resolve_cb resolve, void *ctx,
                                   grading_expr_t **out, grading_error_t *err,
                                   grading_expr_pos_t *pos);

/* Frees a compiled expression. NULL is fine. */
void grading_expr_free(grading_expr_t *e);

/* The static type of the whole expression. */
grading_expr_type_t grading_expr_result_type(const grading_expr_t *e);

/* The distinct names the expression refers to (has() arguments included),
 * in order of first appearance; *count gets how many. Borrowed from e. The
 * policy loader uses it to find cycles between metrics. */
const grading_expr_ref_t *grading_expr_names(const grading_expr_t *e, size_t *count);

/* Evaluates e; names are looked up through `lookup` (may be NULL when e
 * has no names). Never allocates. *out gets the value; out->type is
 * grading_expr_result_type(e).
 * Errors: whatever `lookup` returned; GRADING_EINVAL when a looked-up
 * value is not of the declared type, or an available string is NULL (a bug
 * in the caller; *err names the name). */
grading_err_t grading_expr_eval(const grading_expr_t *e, grading_expr_lookup_cb lookup,
                                void *ctx, grading_expr_value_t *out, grading_error_t *err);

/* Evaluates a bool expression into a tri-state.
 * Errors: as grading_expr_eval; GRADING_EINVAL if e is not bool. */
grading_err_t grading_expr_eval_condition(const grading_expr_t *e,
                                          grading_expr_lookup_cb lookup, void *ctx,
                                          grading_expr_truth_t *out, grading_error_t *err);

/* Writes e back as text (for `explain`), snprintf-style: at most size - 1
 * characters and a NUL into buf (when size > 0); returns the length of the
 * whole text. Canonical form: one space around binary operators, ", "
 * between arguments, parentheses only where precedence needs them, number
 * literals as written (`0.5%`). Compiling the result gives an expression
 * that evaluates the same (the printed form may exceed
 * GRADING_EXPR_MAX_LEN when the source was dense). */
size_t grading_expr_print(const grading_expr_t *e, char *buf, size_t size);

/* Substitution: returns the text that replaces `name` (NUL-terminated),
 * or NULL to keep it. */
typedef const char *(*grading_expr_subst_cb)(void *ctx, const char *name);

/* A new copy of `len` bytes of `text` in which every name token (not one
 * inside a string, not a segment of a dotted name) is replaced by what
 * subst returns for it; the caller frees *out (NUL-terminated, *out_len
 * bytes). The result is text to compile, not checked here.
 * Errors: GRADING_EINVAL when the text does not lex (or is longer than
 * GRADING_EXPR_MAX_LEN), GRADING_ENOMEM. */
grading_err_t grading_expr_substitute_new(const char *text, size_t len, grading_expr_subst_cb subst, void *ctx,
                                          char **out, size_t *out_len);

/* "number", "bool", "string"; "?" for anything else. */
const char *grading_expr_type_name(grading_expr_type_t t);

/* Value constructors, for lookup callbacks and tests. */
static inline grading_expr_value_t grading_expr_number(double x)
{
    grading_expr_value_t v = {.type = GRADING_EXPR_NUMBER, .available = true, .number = x};
    return v;
}

static inline grading_expr_value_t grading_expr_bool(bool b)
{
    grading_expr_value_t v = {.type = GRADING_EXPR_BOOL, .available = true, .boolean = b};
    return v;
}

static inline grading_expr_value_t grading_expr_string(const char *s)
{
    grading_expr_value_t v = {.type = GRADING_EXPR_STRING, .available = true, .string = s};
    return v;
}

static inline grading_expr_value_t grading_expr_unavailable(grading_expr_type_t t)
{
    grading_expr_value_t v = {.type = t, .available = false};
    return v;
}

#endif
