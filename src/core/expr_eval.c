/* Evaluator of the expression language: a tree walk over the packed form.
 *
 * It runs on the hot path of grade computation, so it allocates nothing:
 * values live in the C stack frames of a recursion whose depth is bounded
 * by GRADING_EXPR_MAX_DEPTH (the compiler refused taller trees). Types were
 * proven by the checker; the only run-time checks are on what the caller's
 * lookup hands back.
 *
 * "Unavailable" (not enough data) is a flag on the value, never a NaN:
 * it propagates through every operator except && and ||, which absorb it
 * the way CEL absorbs errors (false && u = false, true || u = true, in
 * either order), and has(), which asks about it. Division by zero and any
 * non-finite result also become unavailable, so no inf or NaN ever leaves
 * here. */
#include "expr_internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    const grading_expr_t *e;
    grading_expr_lookup_cb lookup;
    void *ctx;
    grading_error_t *err;
} evaluator_t;

static grading_err_t eval(const evaluator_t *x, uint32_t i, grading_expr_value_t *v);

static void set_number(grading_expr_value_t *v, double d)
{
    if (isfinite(d))
        *v = grading_expr_number(d);
    else
        *v = grading_expr_unavailable(GRADING_EXPR_NUMBER);
}

static grading_err_t lookup_name(const evaluator_t *x, uint32_t slot, grading_expr_value_t *v)
{
    const grading_expr_ref_t *r = &x->e->names[slot];
    if (!x->lookup)
        return grading_error_set(x->err, GRADING_EINVAL, r->name,
                                 "no lookup callback to give a value");
    grading_expr_value_t got = grading_expr_unavailable(r->type);
    grading_err_t rc = x->lookup(x->ctx, r->id, &got);
    if (rc) return rc;
    if (got.type != r->type)
        return grading_error_set(x->err, GRADING_EINVAL, r->name,
                                 "lookup gave a %s for a name declared %s",
                                 grading_expr_type_name(got.type),
                                 grading_expr_type_name(r->type));
    if (!got.available) {
        *v = grading_expr_unavailable(r->type);
        return GRADING_OK;
    }
    switch (r->type) {
    case GRADING_EXPR_NUMBER: set_number(v, got.number); break;
    case GRADING_EXPR_BOOL: *v = grading_expr_bool(got.boolean); break;
    case GRADING_EXPR_STRING:
        if (!got.string)
            return grading_error_set(x->err, GRADING_EINVAL, r->name,
                                     "lookup gave an available string that is NULL");
        *v = grading_expr_string(got.string);
        break;
    }
    return GRADING_OK;
}

/* && and ||: `decisive` is the value that settles the result alone
 * (false for &&, true for ||). */
static grading_err_t eval_logic(const evaluator_t *x, const expr_node_t *n, bool decisive,
                                grading_expr_value_t *v)
{
    grading_expr_value_t l, r;
    grading_err_t rc = eval(x, n->a, &l);
    if (rc) return rc;
    if (l.available && l.boolean == decisive) {
        *v = l;
        return GRADING_OK;
    }
    rc = eval(x, n->b, &r);
    if (rc) return rc;
    if (r.available && r.boolean == decisive) {
        *v = r;
        return GRADING_OK;
    }
    /* Neither side decided: the right side's value if the left was known,
     * else unknown. */
    *v = l.available ? r : grading_expr_unavailable(GRADING_EXPR_BOOL);
    return GRADING_OK;
}

static grading_err_t eval_call(const evaluator_t *x, const expr_node_t *n,
                               grading_expr_value_t *v)
{
    const expr_node_t *nodes = x->e->nodes;
    if (n->kind == EXPR_N_HAS) {
        grading_expr_value_t arg;
        grading_err_t rc = lookup_name(x, nodes[n->a].b, &arg);
        if (rc) return rc;
        *v = grading_expr_bool(arg.available);
        return GRADING_OK;
    }
    bool available = true;
    double acc = 0;
    bool first = true;
    for (uint32_t a = n->a; a != EXPR_NONE; a = nodes[a].next) {
        grading_expr_value_t arg;
        grading_err_t rc = eval(x, a, &arg);
        if (rc) return rc;
        if (!arg.available) {
            available = false;
            continue;   /* the rest still runs: a lookup error must surface */
        }
        if (first)
            acc = arg.number;
        else if (n->kind == EXPR_N_MIN)
            acc = arg.number < acc ? arg.number : acc;
        else
            acc = arg.number > acc ? arg.number : acc;
        first = false;
    }
    if (!available)
        *v = grading_expr_unavailable(GRADING_EXPR_NUMBER);
    else
        set_number(v, n->kind == EXPR_N_ABS ? fabs(acc) : acc);
    return GRADING_OK;
}

static bool equal(const grading_expr_value_t *a, const grading_expr_value_t *b)
{
    switch (a->type) {
    case GRADING_EXPR_NUMBER: return a->number == b->number;
    case GRADING_EXPR_BOOL: return a->boolean == b->boolean;
    case GRADING_EXPR_STRING: return strcmp(a->string, b->string) == 0;
    }
    return false;
}

/* Order of two numbers or two strings: <0, 0, >0. */
static int order(const grading_expr_value_t *a, const grading_expr_value_t *b)
{
    if (a->type == GRADING_EXPR_STRING) return strcmp(a->string, b->string);
    return (a->number > b->number) - (a->number < b->number);
}

static grading_err_t eval(const evaluator_t *x, uint32_t i, grading_expr_value_t *v)
{
    const expr_node_t *n = &x->e->nodes[i];
    grading_expr_value_t l, r;
    grading_err_t rc;

    switch (n->kind) {
    case EXPR_N_NUMBER: *v = grading_expr_number(n->num); return GRADING_OK;
    case EXPR_N_STRING: *v = grading_expr_string(x->e->pool + n->a); return GRADING_OK;
    case EXPR_N_BOOL: *v = grading_expr_bool(n->a != 0); return GRADING_OK;
    case EXPR_N_NAME: return lookup_name(x, n->b, v);
    case EXPR_N_AND: return eval_logic(x, n, false, v);
    case EXPR_N_OR: return eval_logic(x, n, true, v);
    case EXPR_N_MIN:
    case EXPR_N_MAX:
    case EXPR_N_ABS:
    case EXPR_N_HAS: return eval_call(x, n, v);
    case EXPR_N_COND:
        rc = eval(x, n->a, &l);
        if (rc) return rc;
        if (!l.available) {
            *v = grading_expr_unavailable((grading_expr_type_t)n->type);
            return GRADING_OK;
        }
        return eval(x, l.boolean ? n->b : n->c, v);
    case EXPR_N_NOT:
    case EXPR_N_NEG:
        rc = eval(x, n->a, &l);
        if (rc) return rc;
        if (!l.available)
            *v = grading_expr_unavailable((grading_expr_type_t)n->type);
        else if (n->kind == EXPR_N_NOT)
            *v = grading_expr_bool(!l.boolean);
        else
            set_number(v, -l.number);
        return GRADING_OK;
    default: break;
    }

    /* The binary operators that need both sides. */
    rc = eval(x, n->a, &l);
    if (rc) return rc;
    rc = eval(x, n->b, &r);
    if (rc) return rc;
    if (!l.available || !r.available) {
        *v = grading_expr_unavailable((grading_expr_type_t)n->type);
        return GRADING_OK;
    }
    switch (n->kind) {
    case EXPR_N_ADD: set_number(v, l.number + r.number); break;
    case EXPR_N_SUB: set_number(v, l.number - r.number); break;
    case EXPR_N_MUL: set_number(v, l.number * r.number); break;
    case EXPR_N_DIV:
    case EXPR_N_MOD:
        if (r.number == 0)
            *v = grading_expr_unavailable(GRADING_EXPR_NUMBER);
        else
            set_number(v, n->kind == EXPR_N_DIV ? l.number / r.number : fmod(l.number, r.number));
        break;
    case EXPR_N_LT: *v = grading_expr_bool(order(&l, &r) < 0); break;
    case EXPR_N_LE: *v = grading_expr_bool(order(&l, &r) <= 0); break;
    case EXPR_N_GT: *v = grading_expr_bool(order(&l, &r) > 0); break;
    case EXPR_N_GE: *v = grading_expr_bool(order(&l, &r) >= 0); break;
    case EXPR_N_EQ: *v = grading_expr_bool(equal(&l, &r)); break;
    case EXPR_N_NE: *v = grading_expr_bool(!equal(&l, &r)); break;
    default:
        return grading_error_set(x->err, GRADING_EINVAL, "", "internal error: node kind %d",
                                 (int)n->kind);
    }
    return GRADING_OK;
}

grading_err_t grading_expr_eval(const grading_expr_t *e, grading_expr_lookup_cb lookup,
                                void *ctx, grading_expr_value_t *out, grading_error_t *err)
{
    evaluator_t x = {.e = e, .lookup = lookup, .ctx = ctx, .err = err};
    grading_expr_value_t v;
    grading_err_t rc = eval(&x, e->root, &v);
    if (rc) return rc;
    *out = v;
    return GRADING_OK;
}

grading_err_t grading_expr_eval_condition(const grading_expr_t *e,
                                          grading_expr_lookup_cb lookup, void *ctx,
                                          grading_expr_truth_t *out, grading_error_t *err)
{
    if (e->type != GRADING_EXPR_BOOL)
        return grading_error_set(err, GRADING_EINVAL, "", "a condition must be bool, this is %s",
                                 grading_expr_type_name(e->type));
    grading_expr_value_t v;
    grading_err_t rc = grading_expr_eval(e, lookup, ctx, &v, err);
    if (rc) return rc;
    *out = !v.available ? GRADING_EXPR_UNKNOWN : v.boolean ? GRADING_EXPR_TRUE : GRADING_EXPR_FALSE;
    return GRADING_OK;
}
