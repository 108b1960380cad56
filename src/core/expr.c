/* The expression compiler's driver: lex/parse, check, pack.
 *
 * Scratch memory is allocated once, sized from the input length (nodes:
 * one per token at most; pool: names, literal text and decoded strings,
 * never more than two bytes per input byte), so the passes never grow
 * arrays and never fail on memory midway. The result is then packed into
 * a single allocation (header, nodes, name table, text), which makes a
 * compiled expression trivially immutable, shareable between threads and
 * freed with one free().
 *
 * Errors keep the byte offset while compiling; only here is it turned into
 * a line and a column in characters, the units a person and a YAML loader
 * count in. */
#include "expr_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

grading_err_t expr_fail(expr_build_t *b, size_t off, const char *fmt, ...)
{
    if (!b->failed) {
        b->failed = true;
        b->err_off = (uint32_t)off;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->err_msg, sizeof b->err_msg, fmt, ap);
        va_end(ap);
    }
    return GRADING_EINVAL;
}

const char *grading_expr_type_name(grading_expr_type_t t)
{
    switch (t) {
    case GRADING_EXPR_NUMBER: return "number";
    case GRADING_EXPR_BOOL: return "bool";
    case GRADING_EXPR_STRING: return "string";
    }
    return "?";
}

static grading_expr_pos_t pos_of(const char *src, size_t len, size_t off)
{
    grading_expr_pos_t p = {1, 1};
    if (off > len) off = len;
    for (size_t i = 0; i < off; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '\n') {
            p.line++;
            p.col = 1;
        } else if ((c & 0xc0) != 0x80) {   /* not a UTF-8 continuation byte */
            p.col++;
        }
    }
    return p;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static grading_err_t pack(const expr_build_t *b, uint32_t root, grading_expr_t **out)
{
    size_t head = align8(sizeof(grading_expr_t));
    size_t nodes = align8(sizeof(expr_node_t) * b->n_nodes);
    size_t names = align8(sizeof(grading_expr_ref_t) * b->n_names);
    char *block = malloc(head + nodes + names + b->n_pool);
    if (!block) return GRADING_ENOMEM;

    grading_expr_t *e = (grading_expr_t *)block;
    expr_node_t *n = (expr_node_t *)(block + head);
    grading_expr_ref_t *r = (grading_expr_ref_t *)(block + head + nodes);
    char *pool = block + head + nodes + names;
    memcpy(n, b->nodes, sizeof(expr_node_t) * b->n_nodes);
    memcpy(pool, b->pool, b->n_pool);
    for (uint32_t i = 0; i < b->n_names; i++) {
        r[i].name = pool + b->names[i].text;
        r[i].id = b->names[i].id;
        r[i].type = b->names[i].type;
    }
    e->root = root;
    e->n_nodes = b->n_nodes;
    e->n_names = b->n_names;
    e->type = (grading_expr_type_t)b->nodes[root].type;
    e->nodes = n;
    e->names = r;
    e->pool = pool;
    *out = e;
    return GRADING_OK;
}

grading_err_t grading_expr_compile(const char *text, size_t len,
                                   grading_expr_resolve_cb resolve, void *ctx,
                                   grading_expr_t **out, grading_error_t *err,
                                   grading_expr_pos_t *pos)
{
    expr_build_t *b = NULL;
    grading_err_t rc = GRADING_OK;
    uint32_t root = 0;

    if (out) *out = NULL;
    if (pos) pos->line = pos->col = 0;
    if (!out || (!text && len)) {
        return grading_error_set(err, GRADING_EINVAL, "", "grading_expr_compile: %s",
                                 !out ? "out is NULL" : "text is NULL");
    }
    /* The build holds the name table; too big for a hot thread's stack. */
    b = calloc(1, sizeof *b);
    if (!b) {
        rc = GRADING_ENOMEM;
        goto fail;
    }
    b->src = text ? text : "";
    b->len = len;
    if (len > GRADING_EXPR_MAX_LEN) {
        rc = expr_fail(b, GRADING_EXPR_MAX_LEN, "expression longer than %d bytes",
                       GRADING_EXPR_MAX_LEN);
        goto fail;
    }
    b->cap_nodes = (uint32_t)len + 1;
    b->cap_pool = 2 * (uint32_t)len + 2;
    b->nodes = malloc(sizeof(expr_node_t) * b->cap_nodes);
    b->pool = malloc(b->cap_pool);
    if (!b->nodes || !b->pool) {
        rc = GRADING_ENOMEM;
        goto fail;
    }
    rc = expr_parse(b, &root);
    if (rc) goto fail;
    rc = expr_check(b, root, resolve, ctx);
    if (rc) goto fail;
    rc = pack(b, root, out);
    if (rc) goto fail;
    free(b->nodes);
    free(b->pool);
    free(b);
    return GRADING_OK;

fail:
    if (b && b->failed) {
        grading_expr_pos_t p = pos_of(b->src, b->len, b->err_off);
        char field[40];
        if (p.line > 1)
            snprintf(field, sizeof field, "line %u col %u", (unsigned)p.line, (unsigned)p.col);
        else
            snprintf(field, sizeof field, "col %u", (unsigned)p.col);
        grading_error_set(err, rc, field, "%s", b->err_msg);
        if (pos) *pos = p;
    } else {
        grading_error_set(err, rc, "", "out of memory compiling an expression");
    }
    if (b) {
        free(b->nodes);
        free(b->pool);
        free(b);
    }
    return rc;
}

void grading_expr_free(grading_expr_t *e)
{
    free(e);
}

grading_expr_type_t grading_expr_result_type(const grading_expr_t *e)
{
    return e->type;
}

const grading_expr_ref_t *grading_expr_names(const grading_expr_t *e, size_t *count)
{
    *count = e->n_names;
    return e->names;
}
