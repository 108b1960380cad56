/* libFuzzer target for the expression language: arbitrary bytes are
 * compiled, type-checked, evaluated, printed and re-compiled.
 *
 * Beyond "no crash, no sanitizer report", it checks the contracts the rest
 * of the service relies on, and abort()s when one breaks:
 *   - a failed compile leaves *out NULL and gives a one-line message and a
 *     position inside the text;
 *   - a compiled expression evaluates without error (the lookup never
 *     fails), to a value of its static type, never inf or NaN;
 *   - the names listing has no duplicates and stays within the limit;
 *   - printing is snprintf-like, and the printed text compiles again (when
 *     it fits the length limit), prints the same, and evaluates the same.
 * Names are made up from their spelling: a first letter of b is a bool,
 * s a string, x unknown, anything else a number; the value (and whether it
 * is available) follows from a hash of the name, so runs are reproducible.
 *
 * Build: see README.md. With -DGRADING_FUZZ_MAIN it is a plain program that
 * runs the files named on its command line (to replay a crash with gcc). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/expr.h"

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "fuzz_expr: check failed at line %d: %s\n", __LINE__, #c); \
            abort();                                                              \
        }                                                                         \
    } while (0)

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* The id carries the type in its two low bits, so the lookup needs no
 * table, and two names that collide in the hash still agree on a type. */
static bool resolve(void *ctx, const char *name, grading_expr_symbol_t *out)
{
    (void)ctx;
    CHECK(name[0] != '\0');
    if (name[0] == 'x') return false;
    out->type = name[0] == 'b'   ? GRADING_EXPR_BOOL
                : name[0] == 's' ? GRADING_EXPR_STRING
                                 : GRADING_EXPR_NUMBER;
    out->id = (hash(name) & ~UINT32_C(3)) | (uint32_t)out->type;
    return true;
}

static grading_err_t lookup(void *ctx, uint32_t id, grading_expr_value_t *out)
{
    static const double numbers[] = {0, 1, -1, 0.5, 0.005, 3, 100, 1e308, -1e308, 4.7};
    static const char *strings[] = {"", "Fit", "Caution", "Risk", "\xea\xb0\x80"};
    (void)ctx;
    grading_expr_type_t type = (grading_expr_type_t)(id & 3);
    uint32_t h = id >> 2;
    if (h % 7 == 0) {
        *out = grading_expr_unavailable(type);
        return GRADING_OK;
    }
    switch (type) {
    case GRADING_EXPR_BOOL: *out = grading_expr_bool(h & 1); break;
    case GRADING_EXPR_STRING: *out = grading_expr_string(strings[h % 5]); break;
    default: *out = grading_expr_number(numbers[h % 10]); break;
    }
    return GRADING_OK;
}

static void check_value(const grading_expr_t *e, const grading_expr_value_t *v)
{
    CHECK(v->type == grading_expr_result_type(e));
    if (!v->available) return;
    if (v->type == GRADING_EXPR_NUMBER) CHECK(isfinite(v->number));
    if (v->type == GRADING_EXPR_STRING) CHECK(v->string != NULL);
}

static bool same_value(const grading_expr_value_t *a, const grading_expr_value_t *b)
{
    if (a->type != b->type || a->available != b->available) return false;
    if (!a->available) return true;
    switch (a->type) {
    case GRADING_EXPR_NUMBER: return a->number == b->number;
    case GRADING_EXPR_BOOL: return a->boolean == b->boolean;
    case GRADING_EXPR_STRING: return strcmp(a->string, b->string) == 0;
    }
    return false;
}

static grading_expr_value_t evaluate(const grading_expr_t *e)
{
    grading_expr_value_t v;
    grading_error_t err = {0};
    CHECK(grading_expr_eval(e, lookup, NULL, &v, &err) == GRADING_OK);
    check_value(e, &v);
    if (grading_expr_result_type(e) == GRADING_EXPR_BOOL) {
        grading_expr_truth_t t;
        CHECK(grading_expr_eval_condition(e, lookup, NULL, &t, &err) == GRADING_OK);
        CHECK(t == (!v.available ? GRADING_EXPR_UNKNOWN
                                 : v.boolean ? GRADING_EXPR_TRUE : GRADING_EXPR_FALSE));
    }
    return v;
}

static char *print_alloc(const grading_expr_t *e)
{
    size_t n = grading_expr_print(e, NULL, 0);
    char *s = malloc(n + 1);
    CHECK(s != NULL);
    CHECK(grading_expr_print(e, s, n + 1) == n);
    CHECK(strlen(s) == n);
    char small[8];   /* the truncating path */
    CHECK(grading_expr_print(e, small, sizeof small) == n);
    CHECK(strlen(small) == (n < sizeof small ? n : sizeof small - 1));
    CHECK(strncmp(small, s, strlen(small)) == 0);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    grading_expr_t *e = (grading_expr_t *)&size;   /* must come back NULL on error */
    grading_error_t err = {0};
    grading_expr_pos_t pos = {0, 0};
    grading_err_t rc = grading_expr_compile(size ? text : "", size, resolve, NULL, &e, &err,
                                            &pos);
    if (rc) {
        CHECK(rc == GRADING_EINVAL);
        CHECK(e == NULL);
        CHECK(err.code == GRADING_EINVAL);
        CHECK(err.message[0] != '\0' && strchr(err.message, '\n') == NULL);
        CHECK(err.field[0] != '\0');
        CHECK(pos.line >= 1 && pos.col >= 1 && pos.col <= size + 1 && pos.line <= size + 1);
        return 0;
    }
    CHECK(e != NULL);

    size_t count = 0;
    const grading_expr_ref_t *refs = grading_expr_names(e, &count);
    CHECK(count <= GRADING_EXPR_MAX_NAMES);
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count; j++) CHECK(strcmp(refs[i].name, refs[j].name) != 0);

    grading_expr_value_t v1 = evaluate(e);
    char *p1 = print_alloc(e);
    if (strlen(p1) <= GRADING_EXPR_MAX_LEN) {
        grading_expr_t *e2 = NULL;
        rc = grading_expr_compile(p1, strlen(p1), resolve, NULL, &e2, &err, &pos);
        if (rc) {
            fprintf(stderr, "fuzz_expr: printed form does not compile: %s: %s\n  %s\n",
                    err.field, err.message, p1);
            abort();
        }
        CHECK(grading_expr_result_type(e2) == grading_expr_result_type(e));
        size_t count2 = 0;
        grading_expr_names(e2, &count2);
        CHECK(count2 == count);
        char *p2 = print_alloc(e2);
        if (strcmp(p1, p2) != 0) {
            fprintf(stderr, "fuzz_expr: printing is not a fixed point:\n  %s\n  %s\n", p1, p2);
            abort();
        }
        grading_expr_value_t v2 = evaluate(e2);
        if (!same_value(&v1, &v2)) {
            fprintf(stderr, "fuzz_expr: printed form evaluates differently:\n  %s\n", p1);
            abort();
        }
        free(p2);
        grading_expr_free(e2);
    }
    free(p1);
    grading_expr_free(e);
    return 0;
}

#ifdef GRADING_FUZZ_MAIN
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
#endif
