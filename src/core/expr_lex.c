/* Lexer of the expression language: bytes -> one token at a time.
 *
 * The parser needs one token of lookahead, so tokens are produced on demand
 * and never stored. The lexer does all the work on literals: numbers are
 * converted here (strtod, with the percent sign folded into the exponent so
 * `0.5%` rounds once, exactly like `0.005`), and strings are unescaped into
 * the build's pool. Everything else deals in values.
 *
 * The one context-sensitive rule: a `%` straight after a number literal is
 * a percent sign unless an operand starts straight after it (`10%3` stays a
 * remainder). Names swallow their dotted segments, so `a.b` is one token
 * and `true`/`false` are keywords only as a whole name. */
#include "expr_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || is_digit(c);
}

/* Could an operand start with c? Decides whether `%` after a number is a
 * percent sign (no) or a remainder (yes). */
static bool starts_operand(char c)
{
    return is_ident_char(c) || c == '.' || c == '(' || c == '"';
}

static void describe_byte(char c, char *buf, size_t size)
{
    unsigned char u = (unsigned char)c;
    if (u > 0x20 && u < 0x7f)
        snprintf(buf, size, "'%c'", c);
    else
        snprintf(buf, size, "byte 0x%02x", u);
}

static grading_err_t lex_number(expr_build_t *b, size_t start, expr_tok_t *tok)
{
    const char *s = b->src;
    size_t i = start;
    while (i < b->len && is_digit(s[i])) i++;
    if (i < b->len && s[i] == '.') {
        i++;
        if (i >= b->len || !is_digit(s[i]))
            return expr_fail(b, i - 1, "a number needs digits after its '.'");
        while (i < b->len && is_digit(s[i])) i++;
    }
    if (i < b->len && (is_ident_char(s[i]) || s[i] == '.')) {
        char what[16];
        describe_byte(s[i], what, sizeof what);
        return expr_fail(b, i, "unexpected %s in a number", what);
    }
    size_t digits = i - start;
    bool percent = i < b->len && s[i] == '%' && !(i + 1 < b->len && starts_operand(s[i + 1]));
    if (digits > GRADING_EXPR_MAX_NUMBER_LEN)
        return expr_fail(b, start, "number literal longer than %d characters",
                         GRADING_EXPR_MAX_NUMBER_LEN);

    char buf[GRADING_EXPR_MAX_NUMBER_LEN + 8];
    memcpy(buf, s + start, digits);
    /* "e-2" makes strtod round 0.5% straight to the double nearest 0.005;
     * dividing by 100 afterwards would round twice. */
    strcpy(buf + digits, percent ? "e-2" : "");
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + strlen(buf) || !isfinite(v))
        return expr_fail(b, start, "number out of range");
    tok->kind = EXPR_T_NUMBER;
    tok->len = (uint32_t)(digits + (percent ? 1 : 0));
    tok->num = v;
    return GRADING_OK;
}

/* Decodes the string starting at the quote into the pool. */
static grading_err_t lex_string(expr_build_t *b, size_t start, expr_tok_t *tok)
{
    const char *s = b->src;
    uint32_t out = b->n_pool;
    size_t i = start + 1;
    for (;;) {
        if (i >= b->len) return expr_fail(b, start, "string is never closed");
        char c = s[i];
        if (c == '"') break;
        if (c == '\\') {
            if (i + 1 >= b->len) return expr_fail(b, start, "string is never closed");
            char e = s[i + 1];
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            default: {
                char what[16];
                describe_byte(e, what, sizeof what);
                return expr_fail(b, i, "unknown escape \\ followed by %s in a string", what);
            }
            }
            i += 2;
        } else if ((unsigned char)c < 0x20 || c == 0x7f) {
            return expr_fail(b, i, "control character 0x%02x in a string; write it as an escape",
                             (unsigned char)c);
        } else {
            i++;
        }
        /* Decoded text is never longer than its source, so the pool sized
         * from the input has room; checked anyway. */
        if (b->n_pool + 1 >= b->cap_pool) return expr_fail(b, start, "string too long");
        b->pool[b->n_pool++] = c;
    }
    b->pool[b->n_pool++] = '\0';
    tok->kind = EXPR_T_STRING;
    tok->len = (uint32_t)(i + 1 - start);
    tok->str = out;
    return GRADING_OK;
}

static grading_err_t lex_name(expr_build_t *b, size_t start, expr_tok_t *tok)
{
    const char *s = b->src;
    size_t i = start;
    for (;;) {
        while (i < b->len && is_ident_char(s[i])) i++;
        if (i >= b->len || s[i] != '.') break;
        if (i + 1 >= b->len || !is_ident_start(s[i + 1]))
            return expr_fail(b, i, "a name needs a segment after its '.'");
        i++;
    }
    size_t n = i - start;
    tok->len = (uint32_t)n;
    if (n == 4 && memcmp(s + start, "true", 4) == 0)
        tok->kind = EXPR_T_TRUE;
    else if (n == 5 && memcmp(s + start, "false", 5) == 0)
        tok->kind = EXPR_T_FALSE;
    else
        tok->kind = EXPR_T_NAME;
    return GRADING_OK;
}

grading_err_t expr_lex_next(expr_build_t *b, size_t *pos, expr_tok_t *tok)
{
    const char *s = b->src;
    size_t i = *pos;
    while (i < b->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    memset(tok, 0, sizeof *tok);
    tok->off = (uint32_t)i;
    if (i >= b->len) {
        tok->kind = EXPR_T_END;
        *pos = i;
        return GRADING_OK;
    }

    grading_err_t rc = GRADING_OK;
    char c = s[i];
    char n = i + 1 < b->len ? s[i + 1] : '\0';
    tok->len = 1;
    if (is_digit(c) || (c == '.' && is_digit(n))) {
        rc = lex_number(b, i, tok);
    } else if (is_ident_start(c)) {
        rc = lex_name(b, i, tok);
    } else if (c == '"') {
        rc = lex_string(b, i, tok);
    } else {
        switch (c) {
        case '(': tok->kind = EXPR_T_LPAREN; break;
        case ')': tok->kind = EXPR_T_RPAREN; break;
        case ',': tok->kind = EXPR_T_COMMA; break;
        case '?': tok->kind = EXPR_T_QUESTION; break;
        case ':': tok->kind = EXPR_T_COLON; break;
        case '+': tok->kind = EXPR_T_PLUS; break;
        case '-': tok->kind = EXPR_T_MINUS; break;
        case '*': tok->kind = EXPR_T_STAR; break;
        case '/': tok->kind = EXPR_T_SLASH; break;
        case '%': tok->kind = EXPR_T_PERCENT; break;
        case '!':
            tok->kind = n == '=' ? EXPR_T_NE : EXPR_T_NOT;
            break;
        case '<':
            tok->kind = n == '=' ? EXPR_T_LE : EXPR_T_LT;
            break;
        case '>':
            tok->kind = n == '=' ? EXPR_T_GE : EXPR_T_GT;
            break;
        case '=':
            if (n != '=') return expr_fail(b, i, "unexpected '=' (did you mean '=='?)");
            tok->kind = EXPR_T_EQ;
            break;
        case '&':
            if (n != '&') return expr_fail(b, i, "unexpected '&' (did you mean '&&'?)");
            tok->kind = EXPR_T_AND;
            break;
        case '|':
            if (n != '|') return expr_fail(b, i, "unexpected '|' (did you mean '||'?)");
            tok->kind = EXPR_T_OR;
            break;
        case '\'':
            /* CEL has them; this subset keeps one quoting style. */
            return expr_fail(b, i, "single quotes are not supported; write strings in \"...\"");
        default: {
            char what[16];
            describe_byte(c, what, sizeof what);
            return expr_fail(b, i, "unexpected %s", what);
        }
        }
        if (tok->kind == EXPR_T_NE || tok->kind == EXPR_T_LE || tok->kind == EXPR_T_GE ||
            tok->kind == EXPR_T_EQ || tok->kind == EXPR_T_AND || tok->kind == EXPR_T_OR)
            tok->len = 2;
    }
    if (rc) return rc;
    *pos = i + tok->len;
    return GRADING_OK;
}

static const char *punct_text(expr_tok_kind_t k)
{
    switch (k) {
    case EXPR_T_LPAREN: return "(";
    case EXPR_T_RPAREN: return ")";
    case EXPR_T_COMMA: return ",";
    case EXPR_T_QUESTION: return "?";
    case EXPR_T_COLON: return ":";
    case EXPR_T_NOT: return "!";
    case EXPR_T_PLUS: return "+";
    case EXPR_T_MINUS: return "-";
    case EXPR_T_STAR: return "*";
    case EXPR_T_SLASH: return "/";
    case EXPR_T_PERCENT: return "%";
    case EXPR_T_LT: return "<";
    case EXPR_T_LE: return "<=";
    case EXPR_T_GT: return ">";
    case EXPR_T_GE: return ">=";
    case EXPR_T_EQ: return "==";
    case EXPR_T_NE: return "!=";
    case EXPR_T_AND: return "&&";
    case EXPR_T_OR: return "||";
    default: return "?";
    }
}

void expr_tok_describe(const expr_build_t *b, const expr_tok_t *tok, char *buf, size_t size)
{
    /* Long names and numbers are cut: the column already points at them. */
    int shown = tok->len > 40 ? 40 : (int)tok->len;
    const char *text = b->src + tok->off;
    switch (tok->kind) {
    case EXPR_T_END: snprintf(buf, size, "the end of the expression"); break;
    case EXPR_T_NUMBER: snprintf(buf, size, "number %.*s", shown, text); break;
    case EXPR_T_STRING: snprintf(buf, size, "a string"); break;
    case EXPR_T_NAME: snprintf(buf, size, "name '%.*s'", shown, text); break;
    case EXPR_T_TRUE: snprintf(buf, size, "'true'"); break;
    case EXPR_T_FALSE: snprintf(buf, size, "'false'"); break;
    default: snprintf(buf, size, "'%s'", punct_text(tok->kind)); break;
    }
}
