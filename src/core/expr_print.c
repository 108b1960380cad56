/* Printer of the expression language: the packed tree back to text.
 *
 * Used by `explain`, so the output is canonical and readable rather than a
 * copy of the source: one space around binary operators, ", " between
 * arguments, number literals as the author wrote them (`0.5%`, not
 * 0.005), and parentheses only where precedence or associativity needs
 * them. Re-compiling the output rebuilds the same tree, which is what the
 * round-trip test and the fuzz target check.
 *
 * snprintf-style: it writes what fits and counts everything, so a caller
 * can size a buffer with a first call. Recursion is bounded by the tree
 * height, like the evaluator's. */
#include "expr_internal.h"

#include <string.h>

typedef struct {
    const grading_expr_t *e;
    char *buf;
    size_t size;
    size_t n;   /* characters of the whole text so far */
} printer_t;

/* Binding strength of what a node prints as; higher binds tighter. */
enum { P_COND = 0, P_OR, P_AND, P_REL, P_ADD, P_MUL, P_UNARY, P_PRIMARY };

static int prec(const expr_node_t *n)
{
    switch (n->kind) {
    case EXPR_N_COND: return P_COND;
    case EXPR_N_OR: return P_OR;
    case EXPR_N_AND: return P_AND;
    case EXPR_N_LT:
    case EXPR_N_LE:
    case EXPR_N_GT:
    case EXPR_N_GE:
    case EXPR_N_EQ:
    case EXPR_N_NE: return P_REL;
    case EXPR_N_ADD:
    case EXPR_N_SUB: return P_ADD;
    case EXPR_N_MUL:
    case EXPR_N_DIV:
    case EXPR_N_MOD: return P_MUL;
    case EXPR_N_NOT:
    case EXPR_N_NEG: return P_UNARY;
    default: return P_PRIMARY;
    }
}

static void put(printer_t *p, const char *s, size_t len)
{
    if (p->n < p->size) {
        size_t room = p->size - 1 - p->n;
        memcpy(p->buf + p->n, s, len < room ? len : room);
    }
    p->n += len;
}

static void puts_(printer_t *p, const char *s)
{
    put(p, s, strlen(s));
}

static void print_string(printer_t *p, const char *s)
{
    put(p, "\"", 1);
    for (; *s; s++) {
        switch (*s) {
        case '"': put(p, "\\\"", 2); break;
        case '\\': put(p, "\\\\", 2); break;
        case '\n': put(p, "\\n", 2); break;
        case '\t': put(p, "\\t", 2); break;
        case '\r': put(p, "\\r", 2); break;
        default: put(p, s, 1); break;
        }
    }
    put(p, "\"", 1);
}

static void print_node(printer_t *p, uint32_t i);

static void print_wrapped(printer_t *p, uint32_t i, bool parens)
{
    if (parens) put(p, "(", 1);
    print_node(p, i);
    if (parens) put(p, ")", 1);
}

static void print_node(printer_t *p, uint32_t i)
{
    const expr_node_t *nodes = p->e->nodes;
    const expr_node_t *n = &nodes[i];
    int mine = prec(n);
    switch (n->kind) {
    case EXPR_N_NUMBER: puts_(p, p->e->pool + n->a); return;
    case EXPR_N_STRING: print_string(p, p->e->pool + n->a); return;
    case EXPR_N_BOOL: puts_(p, n->a ? "true" : "false"); return;
    case EXPR_N_NAME: puts_(p, p->e->pool + n->a); return;
    case EXPR_N_NOT:
    case EXPR_N_NEG:
        puts_(p, expr_op_text((expr_node_kind_t)n->kind));
        print_wrapped(p, n->a, prec(&nodes[n->a]) < P_UNARY);
        return;
    case EXPR_N_MIN:
    case EXPR_N_MAX:
    case EXPR_N_ABS:
    case EXPR_N_HAS:
        puts_(p, expr_op_text((expr_node_kind_t)n->kind));
        put(p, "(", 1);
        for (uint32_t a = n->a; a != EXPR_NONE; a = nodes[a].next) {
            if (a != n->a) put(p, ", ", 2);
            print_node(p, a);
        }
        put(p, ")", 1);
        return;
    case EXPR_N_COND:
        /* CEL: the condition and the middle are `||` expressions. */
        print_wrapped(p, n->a, prec(&nodes[n->a]) == P_COND);
        put(p, " ? ", 3);
        print_wrapped(p, n->b, prec(&nodes[n->b]) == P_COND);
        put(p, " : ", 3);
        print_node(p, n->c);
        return;
    default:
        /* Left-associative binary: the right side needs parentheses at the
         * same precedence, the left only below it. */
        print_wrapped(p, n->a, prec(&nodes[n->a]) < mine);
        put(p, " ", 1);
        puts_(p, expr_op_text((expr_node_kind_t)n->kind));
        put(p, " ", 1);
        print_wrapped(p, n->b, prec(&nodes[n->b]) <= mine);
        return;
    }
}

size_t grading_expr_print(const grading_expr_t *e, char *buf, size_t size)
{
    printer_t p = {.e = e, .buf = buf, .size = size};
    print_node(&p, e->root);
    if (size > 0) buf[p.n < size ? p.n : size - 1] = '\0';
    return p.n;
}
