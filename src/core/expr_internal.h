/* Internals of the expression language, shared by expr*.c only.
 *
 * Compilation runs in passes over scratch memory sized from the input
 * length (a token makes at most one node, a byte at most two pool bytes),
 * so no pass has to grow anything:
 *   expr_lex.c    bytes -> tokens, on demand (one token of lookahead);
 *                 decodes strings and numbers, so later passes never look
 *                 at escapes or strtod
 *   expr_parse.c  tokens -> a tree of nodes (syntax only, with a depth
 *                 guard on every recursion)
 *   expr_check.c  names through the resolver, types, arity
 *   expr.c        the driver; packs nodes, names and text into ONE block
 * then, on the packed form:
 *   expr_eval.c   evaluation (recursion bounded by the tree height)
 *   expr_print.c  text back, with minimal parentheses */
#ifndef GRADING_EXPR_INTERNAL_H
#define GRADING_EXPR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/expr.h"

#define EXPR_NONE UINT32_MAX

typedef enum {
    EXPR_T_END = 0,
    EXPR_T_NUMBER,
    EXPR_T_STRING,
    EXPR_T_NAME,
    EXPR_T_TRUE,
    EXPR_T_FALSE,
    EXPR_T_LPAREN,
    EXPR_T_RPAREN,
    EXPR_T_COMMA,
    EXPR_T_QUESTION,
    EXPR_T_COLON,
    EXPR_T_NOT,
    EXPR_T_PLUS,
    EXPR_T_MINUS,
    EXPR_T_STAR,
    EXPR_T_SLASH,
    EXPR_T_PERCENT,
    EXPR_T_LT,
    EXPR_T_LE,
    EXPR_T_GT,
    EXPR_T_GE,
    EXPR_T_EQ,
    EXPR_T_NE,
    EXPR_T_AND,
    EXPR_T_OR
} expr_tok_kind_t;

typedef struct {
    expr_tok_kind_t kind;
    uint32_t off;   /* byte offset in the source */
    uint32_t len;   /* bytes in the source, a percent sign included */
    double num;     /* EXPR_T_NUMBER: the value, percent applied */
    uint32_t str;   /* EXPR_T_STRING: pool offset of the decoded text */
} expr_tok_t;

typedef enum {
    EXPR_N_NUMBER = 0,  /* num; a = pool offset of the literal as written */
    EXPR_N_STRING,      /* a = pool offset of the decoded text */
    EXPR_N_BOOL,        /* a = 0 or 1 */
    EXPR_N_NAME,        /* a = pool offset of the name; b = slot in names */
    EXPR_N_NOT,         /* a = operand */
    EXPR_N_NEG,
    EXPR_N_MUL,         /* binary: a, b */
    EXPR_N_DIV,
    EXPR_N_MOD,
    EXPR_N_ADD,
    EXPR_N_SUB,
    EXPR_N_LT,
    EXPR_N_LE,
    EXPR_N_GT,
    EXPR_N_GE,
    EXPR_N_EQ,
    EXPR_N_NE,
    EXPR_N_AND,
    EXPR_N_OR,
    EXPR_N_COND,        /* a ? b : c */
    EXPR_N_MIN,         /* calls: a = first argument, b = count, linked by next */
    EXPR_N_MAX,
    EXPR_N_ABS,
    EXPR_N_HAS
} expr_node_kind_t;

typedef struct {
    uint8_t kind;      /* expr_node_kind_t */
    uint8_t type;      /* grading_expr_type_t, set by the checker */
    uint8_t height;    /* 1 for a leaf */
    uint8_t pad;
    uint32_t off;      /* source offset of the token that made it (errors) */
    uint32_t a, b, c;
    uint32_t next;     /* next argument of a call, EXPR_NONE at the end */
    double num;
} expr_node_t;

typedef struct {
    uint32_t text;     /* pool offset */
    uint32_t id;
    grading_expr_type_t type;
} expr_name_t;

/* Scratch state of one compilation. */
typedef struct {
    const char *src;
    size_t len;

    expr_node_t *nodes;
    uint32_t n_nodes, cap_nodes;
    char *pool;
    uint32_t n_pool, cap_pool;
    expr_name_t names[GRADING_EXPR_MAX_NAMES];
    uint32_t n_names;

    /* The first error: where, and why. */
    bool failed;
    uint32_t err_off;
    char err_msg[GRADING_ERROR_MSG_MAX];
} expr_build_t;

/* The packed, immutable form: one allocation. */
struct grading_expr {
    uint32_t root;
    uint32_t n_nodes;
    uint32_t n_names;
    grading_expr_type_t type;
    const expr_node_t *nodes;
    const grading_expr_ref_t *names;
    const char *pool;
};

/* Records the error at byte offset `off` (the first one wins) and returns
 * GRADING_EINVAL. */
grading_err_t expr_fail(expr_build_t *b, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lexes the token at *pos into *tok and moves *pos past it. */
grading_err_t expr_lex_next(expr_build_t *b, size_t *pos, expr_tok_t *tok);

/* Writes a short description of a token ("')'", "name 'x'", "the end of
 * the expression") for messages. */
void expr_tok_describe(const expr_build_t *b, const expr_tok_t *tok, char *buf, size_t size);

/* Parses the whole source into b->nodes; *root gets the top node. */
grading_err_t expr_parse(expr_build_t *b, uint32_t *root);

/* Resolves names into b->names and types every node under root. */
grading_err_t expr_check(expr_build_t *b, uint32_t root, grading_expr_resolve_cb resolve,
                         void *ctx);

/* Operator spelling for a node kind ("+", "min"). */
const char *expr_op_text(expr_node_kind_t kind);

#endif
