/* Parser of the expression language: tokens -> a tree of nodes.
 *
 * Recursive descent for the ternary, unary operators and primaries;
 * precedence climbing for the five binary levels (|| && relations + *),
 * which keeps the C stack shallow: one frame per level actually nested,
 * not one per grammar rule.
 *
 * Two guards bound every recursion, here and in the passes after:
 *   - `depth` counts the parser's own nesting: each parse_expr (the
 *     whole text, a parenthesis, a call argument, a ternary's last
 *     branch) and each unary operator; it is checked BEFORE recursing, so
 *     `((((...` or `!!!!...` cannot exhaust the stack;
 *   - each node's height is checked as it is built, which also catches
 *     long flat chains (`a+b+c+...` is a left-deep tree).
 * Both use GRADING_EXPR_MAX_DEPTH; checking, evaluating and printing then
 * recurse at most that deep.
 *
 * Only syntax is checked here; names and types are expr_check.c's, so that
 * a syntax error is always reported before a type error. */
#include "expr_internal.h"

#include <string.h>

typedef struct {
    expr_build_t *b;
    size_t pos;
    expr_tok_t tok;   /* the current token, not yet consumed */
    int depth;
} parser_t;

enum { PREC_NONE = 0, PREC_OR, PREC_AND, PREC_REL, PREC_ADD, PREC_MUL };

static grading_err_t parse_expr(parser_t *p, uint32_t *out);

static grading_err_t advance(parser_t *p)
{
    return expr_lex_next(p->b, &p->pos, &p->tok);
}

static grading_err_t enter(parser_t *p)
{
    if (++p->depth > GRADING_EXPR_MAX_DEPTH)
        return expr_fail(p->b, p->tok.off, "nested deeper than %d levels",
                         GRADING_EXPR_MAX_DEPTH);
    return GRADING_OK;
}

static grading_err_t unexpected(parser_t *p, const char *expected)
{
    char what[80];
    expr_tok_describe(p->b, &p->tok, what, sizeof what);
    return expr_fail(p->b, p->tok.off, "expected %s, found %s", expected, what);
}

static grading_err_t node_new(parser_t *p, expr_node_kind_t kind, uint32_t off, uint32_t *out)
{
    expr_build_t *b = p->b;
    /* A token makes at most one node, so the capacity (input length + 1)
     * cannot run out; checked anyway. */
    if (b->n_nodes >= b->cap_nodes) return expr_fail(b, off, "expression too complex");
    uint32_t i = b->n_nodes++;
    expr_node_t *n = &b->nodes[i];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->off = off;
    n->a = n->b = n->c = n->next = EXPR_NONE;
    n->height = 1;
    *out = i;
    return GRADING_OK;
}

/* Sets the height of node i from a child's; fails when it gets too tall. */
static grading_err_t grow(parser_t *p, uint32_t i, uint32_t child)
{
    expr_build_t *b = p->b;
    unsigned h = (unsigned)b->nodes[child].height + 1;
    if (h > GRADING_EXPR_MAX_DEPTH)
        return expr_fail(b, b->nodes[i].off, "nested deeper than %d levels",
                         GRADING_EXPR_MAX_DEPTH);
    if (h > b->nodes[i].height) b->nodes[i].height = (uint8_t)h;
    return GRADING_OK;
}

/* Copies source bytes into the pool, NUL-terminated. */
static uint32_t pool_copy(expr_build_t *b, uint32_t off, uint32_t len)
{
    uint32_t at = b->n_pool;
    memcpy(b->pool + at, b->src + off, len);
    b->pool[at + len] = '\0';
    b->n_pool += len + 1;
    return at;
}

static bool pool_has_room(const expr_build_t *b, uint32_t len)
{
    return (uint64_t)b->n_pool + len + 1 <= b->cap_pool;
}

static expr_node_kind_t binary_kind(expr_tok_kind_t t, int *prec)
{
    switch (t) {
    case EXPR_T_OR: *prec = PREC_OR; return EXPR_N_OR;
    case EXPR_T_AND: *prec = PREC_AND; return EXPR_N_AND;
    case EXPR_T_LT: *prec = PREC_REL; return EXPR_N_LT;
    case EXPR_T_LE: *prec = PREC_REL; return EXPR_N_LE;
    case EXPR_T_GT: *prec = PREC_REL; return EXPR_N_GT;
    case EXPR_T_GE: *prec = PREC_REL; return EXPR_N_GE;
    case EXPR_T_EQ: *prec = PREC_REL; return EXPR_N_EQ;
    case EXPR_T_NE: *prec = PREC_REL; return EXPR_N_NE;
    case EXPR_T_PLUS: *prec = PREC_ADD; return EXPR_N_ADD;
    case EXPR_T_MINUS: *prec = PREC_ADD; return EXPR_N_SUB;
    case EXPR_T_STAR: *prec = PREC_MUL; return EXPR_N_MUL;
    case EXPR_T_SLASH: *prec = PREC_MUL; return EXPR_N_DIV;
    case EXPR_T_PERCENT: *prec = PREC_MUL; return EXPR_N_MOD;
    default: *prec = PREC_NONE; return EXPR_N_NUMBER;
    }
}

static grading_err_t parse_call(parser_t *p, const expr_tok_t *name, uint32_t *out)
{
    expr_build_t *b = p->b;
    const char *text = b->src + name->off;
    expr_node_kind_t kind;
    if (name->len == 3 && memcmp(text, "min", 3) == 0)
        kind = EXPR_N_MIN;
    else if (name->len == 3 && memcmp(text, "max", 3) == 0)
        kind = EXPR_N_MAX;
    else if (name->len == 3 && memcmp(text, "abs", 3) == 0)
        kind = EXPR_N_ABS;
    else if (name->len == 3 && memcmp(text, "has", 3) == 0)
        kind = EXPR_N_HAS;
    else
        return expr_fail(b, name->off, "unknown function '%.*s' (there are min, max, abs, has)",
                         name->len > 40 ? 40 : (int)name->len, text);

    uint32_t open = p->tok.off;
    uint32_t call = 0;   /* set by new_node; gcc -O3 cannot tell */
    grading_err_t rc = node_new(p, kind, name->off, &call);
    if (rc) return rc;
    rc = advance(p);   /* past '(' (each argument's parse_expr counts the depth) */
    if (rc) return rc;

    uint32_t count = 0, last = EXPR_NONE;
    if (p->tok.kind != EXPR_T_RPAREN) {
        for (;;) {
            uint32_t arg;
            rc = parse_expr(p, &arg);
            if (rc) return rc;
            if (last == EXPR_NONE)
                b->nodes[call].a = arg;
            else
                b->nodes[last].next = arg;
            last = arg;
            count++;
            rc = grow(p, call, arg);
            if (rc) return rc;
            if (p->tok.kind == EXPR_T_COMMA) {
                rc = advance(p);
                if (rc) return rc;
                continue;
            }
            if (p->tok.kind == EXPR_T_RPAREN) break;
            if (p->tok.kind == EXPR_T_END)
                return expr_fail(b, open, "'(' of %.3s( is never closed", text);
            return unexpected(p, "',' or ')'");
        }
    }
    b->nodes[call].b = count;
    *out = call;
    return advance(p);   /* past ')' */
}

static grading_err_t parse_primary(parser_t *p, uint32_t *out)
{
    expr_build_t *b = p->b;
    expr_tok_t t = p->tok;
    grading_err_t rc;
    switch (t.kind) {
    case EXPR_T_NUMBER:
        if (!pool_has_room(b, t.len)) return expr_fail(b, t.off, "expression too complex");
        rc = node_new(p, EXPR_N_NUMBER, t.off, out);
        if (rc) return rc;
        b->nodes[*out].num = t.num;
        b->nodes[*out].a = pool_copy(b, t.off, t.len);
        return advance(p);
    case EXPR_T_STRING:
        rc = node_new(p, EXPR_N_STRING, t.off, out);
        if (rc) return rc;
        b->nodes[*out].a = t.str;
        return advance(p);
    case EXPR_T_TRUE:
    case EXPR_T_FALSE:
        rc = node_new(p, EXPR_N_BOOL, t.off, out);
        if (rc) return rc;
        b->nodes[*out].a = t.kind == EXPR_T_TRUE;
        return advance(p);
    case EXPR_T_NAME:
        rc = advance(p);
        if (rc) return rc;
        if (p->tok.kind == EXPR_T_LPAREN) return parse_call(p, &t, out);
        if (!pool_has_room(b, t.len)) return expr_fail(b, t.off, "expression too complex");
        rc = node_new(p, EXPR_N_NAME, t.off, out);
        if (rc) return rc;
        b->nodes[*out].a = pool_copy(b, t.off, t.len);
        return GRADING_OK;
    case EXPR_T_LPAREN:
        /* parse_expr counts this level of nesting. */
        rc = advance(p);
        if (rc) return rc;
        rc = parse_expr(p, out);
        if (rc) return rc;
        if (p->tok.kind == EXPR_T_END) return expr_fail(b, t.off, "'(' is never closed");
        if (p->tok.kind != EXPR_T_RPAREN) return unexpected(p, "an operator or ')'");
        return advance(p);
    default:
        return unexpected(p, "a value, a name or '('");
    }
}

static grading_err_t parse_unary(parser_t *p, uint32_t *out)
{
    if (p->tok.kind != EXPR_T_NOT && p->tok.kind != EXPR_T_MINUS) return parse_primary(p, out);
    expr_node_kind_t kind = p->tok.kind == EXPR_T_NOT ? EXPR_N_NOT : EXPR_N_NEG;
    uint32_t op = p->tok.off, x, n = 0;
    grading_err_t rc = enter(p);
    if (rc) return rc;
    rc = advance(p);
    if (rc) return rc;
    rc = parse_unary(p, &x);
    if (rc) return rc;
    rc = node_new(p, kind, op, &n);
    if (rc) return rc;
    p->b->nodes[n].a = x;
    rc = grow(p, n, x);
    if (rc) return rc;
    p->depth--;
    *out = n;
    return GRADING_OK;
}

/* Precedence climbing: operators of precedence >= min bind here; the
 * right operand takes only tighter ones, so equal precedence associates
 * to the left. */
static grading_err_t parse_binary(parser_t *p, int min, uint32_t *out)
{
    uint32_t left;
    grading_err_t rc = parse_unary(p, &left);
    if (rc) return rc;
    for (;;) {
        int prec;
        expr_node_kind_t kind = binary_kind(p->tok.kind, &prec);
        if (prec == PREC_NONE || prec < min) break;
        uint32_t op = p->tok.off, right, n = 0;
        rc = advance(p);
        if (rc) return rc;
        rc = parse_binary(p, prec + 1, &right);
        if (rc) return rc;
        rc = node_new(p, kind, op, &n);
        if (rc) return rc;
        p->b->nodes[n].a = left;
        p->b->nodes[n].b = right;
        rc = grow(p, n, left);
        if (rc) return rc;
        rc = grow(p, n, right);
        if (rc) return rc;
        left = n;
    }
    *out = left;
    return GRADING_OK;
}

/* expr := or [ '?' or ':' expr ]  (CEL: the middle operand is an `||`
 * expression; the last may be another ternary). */
static grading_err_t parse_expr(parser_t *p, uint32_t *out)
{
    uint32_t cond, yes, no, n = 0;
    grading_err_t rc = enter(p);
    if (rc) return rc;
    rc = parse_binary(p, PREC_OR, &cond);
    if (rc) return rc;
    if (p->tok.kind != EXPR_T_QUESTION) {
        p->depth--;
        *out = cond;
        return GRADING_OK;
    }
    uint32_t q = p->tok.off;
    rc = advance(p);
    if (rc) return rc;
    rc = parse_binary(p, PREC_OR, &yes);
    if (rc) return rc;
    if (p->tok.kind != EXPR_T_COLON) {
        if (p->tok.kind == EXPR_T_QUESTION)
            return expr_fail(p->b, p->tok.off,
                             "a ternary between '?' and ':' needs parentheses");
        return unexpected(p, "':' of the '?'");
    }
    rc = advance(p);
    if (rc) return rc;
    rc = parse_expr(p, &no);
    if (rc) return rc;
    rc = node_new(p, EXPR_N_COND, q, &n);
    if (rc) return rc;
    expr_node_t *c = &p->b->nodes[n];
    c->a = cond;
    c->b = yes;
    c->c = no;
    rc = grow(p, n, cond);
    if (!rc) rc = grow(p, n, yes);
    if (!rc) rc = grow(p, n, no);
    if (rc) return rc;
    p->depth--;
    *out = n;
    return GRADING_OK;
}

grading_err_t expr_parse(expr_build_t *b, uint32_t *root)
{
    parser_t p = {.b = b};
    grading_err_t rc = advance(&p);
    if (rc) return rc;
    if (p.tok.kind == EXPR_T_END) return expr_fail(b, 0, "empty expression");
    rc = parse_expr(&p, root);
    if (rc) return rc;
    if (p.tok.kind == EXPR_T_RPAREN) return expr_fail(b, p.tok.off, "')' without a '('");
    if (p.tok.kind != EXPR_T_END) {
        char what[80];
        expr_tok_describe(b, &p.tok, what, sizeof what);
        return expr_fail(b, p.tok.off, "unexpected %s after the end of the expression", what);
    }
    return GRADING_OK;
}
