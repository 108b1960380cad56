/* Name substitution in expression text: the policy loader's way to give
 * one metric its own meaning of a base counter (`exclude`) without a new
 * kind of name. The lexer finds the names, so a name inside a string or a
 * longer dotted name is never touched. */
#include "expr_internal.h"

#include <stdlib.h>
#include <string.h>

/* Appends n bytes to the growing *buf; false when out of memory. */
static bool append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t want = (*len + n + 1) * 2;
        char *p = realloc(*buf, want);
        if (!p) return false;
        *buf = p;
        *cap = want;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

grading_err_t grading_expr_substitute_new(const char *text, size_t len, grading_expr_subst_cb subst, void *ctx,
                                          char **out, size_t *out_len)
{
    grading_err_t rc = GRADING_OK;
    char *buf = NULL, name[GRADING_EXPR_MAX_LEN + 1];
    size_t blen = 0, bcap = 0, copied = 0, pos = 0;
    expr_build_t *b = calloc(1, sizeof *b);   /* the lexer's state: large */

    *out = NULL;
    if (!b || len > GRADING_EXPR_MAX_LEN) {
        rc = b ? GRADING_EINVAL : GRADING_ENOMEM;
        goto fail;
    }
    b->src = text;
    b->len = len;
    b->cap_pool = 2 * (uint32_t)len + 2;   /* decoded strings land here */
    b->pool = malloc(b->cap_pool);
    if (!b->pool || !append(&buf, &blen, &bcap, "", 0)) {
        rc = GRADING_ENOMEM;
        goto fail;
    }
    for (;;) {
        expr_tok_t tok;
        b->n_pool = 0;
        if ((rc = expr_lex_next(b, &pos, &tok))) goto fail;
        if (tok.kind == EXPR_T_END) break;
        if (tok.kind != EXPR_T_NAME) continue;
        memcpy(name, text + tok.off, tok.len);
        name[tok.len] = '\0';
        const char *with = subst(ctx, name);
        if (!with) continue;
        if (!append(&buf, &blen, &bcap, text + copied, tok.off - copied) ||
            !append(&buf, &blen, &bcap, with, strlen(with))) {
            rc = GRADING_ENOMEM;
            goto fail;
        }
        copied = tok.off + tok.len;
    }
    if (!append(&buf, &blen, &bcap, text + copied, len - copied)) {
        rc = GRADING_ENOMEM;
        goto fail;
    }
    *out = buf;
    *out_len = blen;
    free(b->pool);
    free(b);
    return GRADING_OK;

fail:
    free(buf);
    if (b) free(b->pool);
    free(b);
    return rc;
}
