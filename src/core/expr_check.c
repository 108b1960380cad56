/* Checker of the expression language: names and types, at compile time.
 *
 * A post-order walk (children left to right, so the first error reported
 * is the leftmost one) that resolves every name once through the caller's
 * resolver, deduplicating by spelling into the expression's name table,
 * and gives each node its static type. Every rule lives in one place here,
 * so the evaluator can trust types blindly and never checks them.
 *
 * Errors point at the operator (or the function, or the name) and say
 * which types met, since a policy author fixes it from that line alone. */
#include "expr_internal.h"

#include <string.h>

#define T_NUM GRADING_EXPR_NUMBER
#define T_BOOL GRADING_EXPR_BOOL
#define T_STR GRADING_EXPR_STRING

typedef struct {
    expr_build_t *b;
    grading_expr_resolve_cb resolve;
    void *ctx;
} checker_t;

static grading_err_t check(checker_t *k, uint32_t i);

const char *expr_op_text(expr_node_kind_t kind)
{
    switch (kind) {
    case EXPR_N_NOT: return "!";
    case EXPR_N_NEG: return "-";
    case EXPR_N_MUL: return "*";
    case EXPR_N_DIV: return "/";
    case EXPR_N_MOD: return "%";
    case EXPR_N_ADD: return "+";
    case EXPR_N_SUB: return "-";
    case EXPR_N_LT: return "<";
    case EXPR_N_LE: return "<=";
    case EXPR_N_GT: return ">";
    case EXPR_N_GE: return ">=";
    case EXPR_N_EQ: return "==";
    case EXPR_N_NE: return "!=";
    case EXPR_N_AND: return "&&";
    case EXPR_N_OR: return "||";
    case EXPR_N_COND: return "?";
    case EXPR_N_MIN: return "min";
    case EXPR_N_MAX: return "max";
    case EXPR_N_ABS: return "abs";
    case EXPR_N_HAS: return "has";
    default: return "";
    }
}

static const char *tname(uint8_t t)
{
    return grading_expr_type_name((grading_expr_type_t)t);
}

static grading_err_t check_name(checker_t *k, expr_node_t *n)
{
    expr_build_t *b = k->b;
    const char *text = b->pool + n->a;
    for (uint32_t s = 0; s < b->n_names; s++) {
        if (strcmp(b->pool + b->names[s].text, text) == 0) {
            n->b = s;
            n->type = (uint8_t)b->names[s].type;
            return GRADING_OK;
        }
    }
    grading_expr_symbol_t sym = {0};
    if (!k->resolve || !k->resolve(k->ctx, text, &sym))
        return expr_fail(b, n->off, "unknown name '%.60s'", text);
    if (sym.type != T_NUM && sym.type != T_BOOL && sym.type != T_STR)
        return expr_fail(b, n->off, "name '%.60s' was declared with an invalid type %d", text,
                         (int)sym.type);
    if (b->n_names >= GRADING_EXPR_MAX_NAMES)
        return expr_fail(b, n->off, "more than %d distinct names", GRADING_EXPR_MAX_NAMES);
    uint32_t s = b->n_names++;
    b->names[s].text = n->a;
    b->names[s].id = sym.id;
    b->names[s].type = sym.type;
    n->b = s;
    n->type = (uint8_t)sym.type;
    return GRADING_OK;
}

static grading_err_t check_call(checker_t *k, expr_node_t *n)
{
    expr_build_t *b = k->b;
    const char *fn = expr_op_text((expr_node_kind_t)n->kind);
    if (n->kind == EXPR_N_HAS) {
        if (n->b != 1 || b->nodes[n->a].kind != EXPR_N_NAME)
            return expr_fail(b, n->off, "has() takes one name, as in has(metrics.rate)");
        grading_err_t rc = check(k, n->a);
        if (rc) return rc;
        n->type = T_BOOL;
        return GRADING_OK;
    }
    if (n->kind == EXPR_N_ABS && n->b != 1)
        return expr_fail(b, n->off, "abs() takes 1 argument, got %u", (unsigned)n->b);
    if (n->b == 0) return expr_fail(b, n->off, "%s() takes at least 1 argument", fn);
    unsigned pos = 1;
    for (uint32_t a = n->a; a != EXPR_NONE; a = b->nodes[a].next, pos++) {
        grading_err_t rc = check(k, a);
        if (rc) return rc;
        if (b->nodes[a].type != T_NUM)
            return expr_fail(b, b->nodes[a].off, "%s() takes numbers, argument %u is %s", fn,
                             pos, tname(b->nodes[a].type));
    }
    n->type = T_NUM;
    return GRADING_OK;
}

static grading_err_t check(checker_t *k, uint32_t i)
{
    expr_build_t *b = k->b;
    expr_node_t *n = &b->nodes[i];
    const char *op = expr_op_text((expr_node_kind_t)n->kind);
    grading_err_t rc;
    uint8_t ta = 0, tb = 0;

    switch (n->kind) {
    case EXPR_N_NUMBER: n->type = T_NUM; return GRADING_OK;
    case EXPR_N_STRING: n->type = T_STR; return GRADING_OK;
    case EXPR_N_BOOL: n->type = T_BOOL; return GRADING_OK;
    case EXPR_N_NAME: return check_name(k, n);
    case EXPR_N_MIN:
    case EXPR_N_MAX:
    case EXPR_N_ABS:
    case EXPR_N_HAS: return check_call(k, n);
    default: break;
    }

    rc = check(k, n->a);
    if (rc) return rc;
    ta = b->nodes[n->a].type;
    if (n->kind == EXPR_N_NOT || n->kind == EXPR_N_NEG) {
        uint8_t want = n->kind == EXPR_N_NOT ? T_BOOL : T_NUM;
        if (ta != want)
            return expr_fail(b, n->off, "'%s' needs a %s, got %s", op, tname(want), tname(ta));
        n->type = want;
        return GRADING_OK;
    }
    rc = check(k, n->b);
    if (rc) return rc;
    tb = b->nodes[n->b].type;

    switch (n->kind) {
    case EXPR_N_MUL:
    case EXPR_N_DIV:
    case EXPR_N_MOD:
    case EXPR_N_ADD:
    case EXPR_N_SUB:
        if (ta != T_NUM || tb != T_NUM)
            return expr_fail(b, n->off, "'%s' needs numbers, got %s and %s", op, tname(ta),
                             tname(tb));
        n->type = T_NUM;
        return GRADING_OK;
    case EXPR_N_LT:
    case EXPR_N_LE:
    case EXPR_N_GT:
    case EXPR_N_GE:
        if (ta != tb || ta == T_BOOL)
            return expr_fail(b, n->off,
                             "'%s' compares two numbers or two strings, got %s and %s", op,
                             tname(ta), tname(tb));
        n->type = T_BOOL;
        return GRADING_OK;
    case EXPR_N_EQ:
    case EXPR_N_NE:
        if (ta != tb)
            return expr_fail(b, n->off, "'%s' compares values of one type, got %s and %s", op,
                             tname(ta), tname(tb));
        n->type = T_BOOL;
        return GRADING_OK;
    case EXPR_N_AND:
    case EXPR_N_OR:
        if (ta != T_BOOL || tb != T_BOOL)
            return expr_fail(b, n->off, "'%s' needs bools, got %s and %s", op, tname(ta),
                             tname(tb));
        n->type = T_BOOL;
        return GRADING_OK;
    case EXPR_N_COND: {
        if (ta != T_BOOL)
            return expr_fail(b, n->off, "the condition before '?' must be bool, got %s",
                             tname(ta));
        rc = check(k, n->c);
        if (rc) return rc;
        uint8_t tc = b->nodes[n->c].type;
        if (tb != tc)
            return expr_fail(b, n->off, "the branches of '?:' differ: %s and %s", tname(tb),
                             tname(tc));
        n->type = tb;
        return GRADING_OK;
    }
    default:
        return expr_fail(b, n->off, "internal error: unknown node kind %d", (int)n->kind);
    }
}

grading_err_t expr_check(expr_build_t *b, uint32_t root, grading_expr_resolve_cb resolve,
                         void *ctx)
{
    checker_t k = {.b = b, .resolve = resolve, .ctx = ctx};
    return check(&k, root);
}
