/* The grading sections of a marketplace: YAML -> grading_rules_t.
 *
 * Two passes. The first declares every metric, score, programme and ladder
 * by name (so expressions may name ones declared further down); the second
 * compiles each expression against the names its section may use
 * (grading_rules_resolve) and checks what a compiler cannot: cycles between
 * metrics or scores, levels that no rule can give, bands and rules after an
 * unconditional one. Every problem is reported with file:line:col. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/period.h"
#include "grading/tz.h"
#include "loader.h"

typedef struct {
    loader_t *l;
    build_t *b;
    grading_rules_t *r;
} rl_t;

/* ---- small readers ---- */

static bool ident_ok(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || *s == '_')) return false;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
    return n <= 64;
}

static bool reserved(const char *s)
{
    static const char *const words[] = {"score", "suspended", "withdrawals_held", "penalty", "custom",
                                        "true", "false", "has", "min", "max", "abs", NULL};
    for (const char *const *w = words; *w; w++)
        if (strcmp(s, *w) == 0) return true;
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (strcmp(s, grading_counter_name((grading_counter_t)c)) == 0) return true;
    return false;
}

static bool number_of(rl_t *x, yaml_node_t *n, const char *what, double *out)
{
    const char *s = scalar(n);
    char *end = NULL;
    if (s && *s) *out = strtod(s, &end);
    if (!s || !*s || *end || !isfinite(*out)) {
        diag(x->l, n, "%s must be a number, got \"%s\"", what, s ? s : "(not a scalar)");
        return false;
    }
    return true;
}

static bool level_of(rl_t *x, yaml_node_t *n, const char *what, int32_t *out)
{
    double d;
    if (!number_of(x, n, what, &d)) return false;
    if (d != floor(d) || d < 1 || d > 1000) {
        diag(x->l, n, "%s must be a whole number 1..1000, got %s", what, scalar(n));
        return false;
    }
    *out = (int32_t)d;
    return true;
}

/* A number of days written Nd (1 <= N <= max): product_window,
 * expire_after, lasts. */
static bool days_of(rl_t *x, yaml_node_t *n, const char *what, int32_t max, int32_t *out)
{
    grading_window_t w;
    const char *s = scalar(n);
    if (!s || grading_window_parse(s, &w) || w.kind != GRADING_WIN_DAYS || w.days > max) {
        diag(x->l, n, "%s must be Nd with N from 1 to %d, like 28d, got \"%s\"", what, (int)max,
             s ? s : "(not a scalar)");
        return false;
    }
    *out = w.days;
    return true;
}

static const char *string_of(rl_t *x, yaml_node_t *n, const char *what)
{
    const char *s = scalar(n);
    if (!s) {
        diag(x->l, n, "%s must be a string", what);
        return NULL;
    }
    return arena_dup(x->b, s);
}

/* The value node of `key` in mapping m, or NULL. */
static yaml_node_t *get(loader_t *l, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = scalar(node_at(l, p->key));
        if (k && strcmp(k, key) == 0) return node_at(l, p->value);
    }
    return NULL;
}

static void ignore(loader_t *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    (void)l, (void)key, (void)k, (void)v, (void)ctx;
}

/* Reports keys of m that are not allowed; false if m is not a mapping. */
static bool keys_ok(rl_t *x, yaml_node_t *m, const char *const *allowed, const char *what)
{
    if (!m || m->type != YAML_MAPPING_NODE) {
        diag(x->l, m, "%s must be a mapping", what);
        return false;
    }
    size_t before = x->l->diags->count;
    each_pair(x->l, m, allowed, what, ignore, NULL);
    return x->l->diags->count == before;
}

static bool is_seq(rl_t *x, yaml_node_t *n, const char *what)
{
    if (n && n->type == YAML_SEQUENCE_NODE) return true;
    diag(x->l, n, "%s must be a list", what);
    return false;
}

#define SEQ_EACH(l, seq, it)                                                      \
    for (yaml_node_item_t *it = (seq)->data.sequence.items.start;                 \
         it < (seq)->data.sequence.items.top; it++)

/* ---- expressions ---- */

typedef struct {
    rl_t *x;
    grading_scope_t scope;
} resolve_ctx_t;

static bool resolve(void *vctx, const char *name, grading_expr_symbol_t *out)
{
    resolve_ctx_t *c = vctx;
    return grading_rules_resolve(c->x->r, c->scope, name, out);
}

static const char *scope_names(grading_scope_t s)
{
    switch (s) {
    case GRADING_SCOPE_METRIC_WINDOW: return "base counters of the window and other metrics";
    case GRADING_SCOPE_METRIC_DERIVED: return "other metrics (add a window to use base counters)";
    case GRADING_SCOPE_SCORE: return "metrics and other scores";
    case GRADING_SCOPE_PROGRAM: return "metrics, scores and `score`";
    case GRADING_SCOPE_PENALTY: return "metrics, scores and PROGRAM.level / PROGRAM.score";
    case GRADING_SCOPE_BENEFIT: return "metrics, scores, PROGRAM.level, penalty.LADDER.stage, suspended";
    }
    return "";
}

/* Compiles the scalar n as an expression of type want; NULL (reported)
 * on error. */
static grading_expr_t *expr_of(rl_t *x, yaml_node_t *n, grading_scope_t scope,
                               grading_expr_type_t want, const char *what)
{
    const char *s = scalar(n);
    if (!s) {
        diag(x->l, n, "%s must be an expression (a string)", what);
        return NULL;
    }
    resolve_ctx_t c = {x, scope};
    grading_expr_t *e = NULL;
    grading_error_t err = {0};
    grading_expr_pos_t pos = {1, 1};
    if (grading_expr_compile(s, strlen(s), resolve, &c, &e, &err, &pos)) {
        size_t line = n->start_mark.line + 1, col = n->start_mark.column + 1;
        int quoted = n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                     n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        int block = n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                    n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        if (block) line += pos.line, col = pos.col;
        else if (pos.line > 1) line += pos.line - 1, col = pos.col;
        else col += (size_t)quoted + pos.col - 1;
        bool unknown = strstr(err.message, "unknown name") != NULL;
        diag_at(x->l, line, col, "%s: %s%s%s", what, err.message, unknown ? "; here you may use " : "",
                unknown ? scope_names(scope) : "");
        return NULL;
    }
    if (grading_expr_result_type(e) != want) {
        diag(x->l, n, "%s must be a %s expression, this one is a %s", what, grading_expr_type_name(want),
             grading_expr_type_name(grading_expr_result_type(e)));
        grading_expr_free(e);
        return NULL;
    }
    return e;
}

static bool literally_true(yaml_node_t *n)
{
    const char *s = scalar(n);
    return s && strcmp(s, "true") == 0;
}

/* ---- pass 1: declarations ---- */

/* Checks a new name against everything declared so far. */
static bool declare_ok(rl_t *x, yaml_node_t *kn, const char *what)
{
    const char *name = scalar(kn);
    if (!ident_ok(name)) {
        diag(x->l, kn, "%s name \"%s\" must be 1..64 characters of a-z, 0-9 and _, not starting with a digit",
             what, name ? name : "");
        return false;
    }
    if (reserved(name)) {
        diag(x->l, kn, "%s name \"%s\" is reserved (a base counter or a built-in name)", what, name);
        return false;
    }
    const grading_rules_t *r = x->r;
    for (size_t i = 0; i < r->nmetrics; i++)
        if (strcmp(r->metrics[i].name, name) == 0) goto dup;
    for (size_t i = 0; i < r->nscores; i++)
        if (strcmp(r->scores[i].name, name) == 0) goto dup;
    for (size_t i = 0; i < r->nprograms; i++)
        if (strcmp(r->programs[i].name, name) == 0) goto dup;
    return true;
dup:
    diag(x->l, kn, "%s name \"%s\" is already used by a metric, score or programme", what, name);
    return false;
}

typedef struct {
    yaml_node_t *key, *val;
} decl_t;

/* Declares the names of a mapping section; returns how many. */
static size_t declare(rl_t *x, yaml_node_t *sec, const char *what, size_t max, decl_t *out,
                      const char **names, size_t stride)
{
    size_t n = 0;
    if (!sec) return 0;
    if (sec->type != YAML_MAPPING_NODE) {
        diag(x->l, sec, "%ss must be a mapping of name to definition", what);
        return 0;
    }
    for (yaml_node_pair_t *p = sec->data.mapping.pairs.start; p < sec->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(x->l, p->key), *v = node_at(x->l, p->value);
        if (n >= max) {
            diag(x->l, k, "at most %zu %ss per marketplace", max, what);
            break;
        }
        if (!declare_ok(x, k, what)) continue;
        out[n].key = k;
        out[n].val = v;
        *(const char **)((char *)names + n * stride) = arena_dup(x->b, scalar(k));
        n++;
    }
    return n;
}

/* ---- metrics ---- */

static int window_index(rl_t *x, yaml_node_t *n)
{
    const char *s = scalar(n);
    grading_window_t w;
    if (!s || grading_window_parse(s, &w)) {
        diag(x->l, n, "window \"%s\" must be Nd (1..%d days: \"90d\"), month, prev_month, quarter, "
                      "prev_quarter, year or prev_year",
             s ? s : "", GRADING_WINDOW_MAX_DAYS);
        return -1;
    }
    grading_rules_t *r = x->r;
    for (size_t i = 0; i < r->nwindows; i++)
        if (strcmp(r->windows[i].name, w.name) == 0) return (int)i;
    if (r->nwindows >= GRADING_RULES_MAX_WINDOWS) {
        diag(x->l, n, "at most %d distinct windows per marketplace", GRADING_RULES_MAX_WINDOWS);
        return -1;
    }
    r->windows[r->nwindows] = w;
    return (int)r->nwindows++;
}

static const char *const metric_keys[] = {"description", "window", "value", "numerator", "denominator",
                                          "min_volume", "volume", "better", "min", "max", "exclude", NULL};

static void load_metric(rl_t *x, const decl_t *d, grading_metric_def_t *m)
{
    loader_t *l = x->l;
    size_t before = l->diags->count;
    if (!keys_ok(x, d->val, metric_keys, "a metric")) return;
    yaml_node_t *n;
    if ((n = get(l, d->val, "description"))) m->description = string_of(x, n, "description");
    m->window = -1;
    yaml_node_t *wn = get(l, d->val, "window");
    if (wn) m->window = window_index(x, wn);
    /* a bad window is reported once; its expressions still read counters */
    grading_scope_t scope = wn ? GRADING_SCOPE_METRIC_WINDOW : GRADING_SCOPE_METRIC_DERIVED;
    yaml_node_t *vn = get(l, d->val, "value"), *nn = get(l, d->val, "numerator"),
                *dn = get(l, d->val, "denominator");
    if (vn && (nn || dn)) {
        diag(l, d->key, "metric \"%s\": give either value or numerator and denominator, not both", m->name);
        return;
    }
    if (!vn && !(nn && dn)) {
        diag(l, d->key, "metric \"%s\": needs value, or numerator and denominator", m->name);
        return;
    }
    if (vn) {
        m->value = expr_of(x, vn, scope, GRADING_EXPR_NUMBER, "value");
        m->lo = 0, m->hi = 1e15;
    } else {
        m->numerator = expr_of(x, nn, scope, GRADING_EXPR_NUMBER, "numerator");
        m->denominator = expr_of(x, dn, scope, GRADING_EXPR_NUMBER, "denominator");
        m->lo = 0, m->hi = 1;
    }
    if ((n = get(l, d->val, "min"))) number_of(x, n, "min", &m->lo);
    if ((n = get(l, d->val, "max"))) number_of(x, n, "max", &m->hi);
    if (m->lo >= m->hi) diag(l, d->key, "metric \"%s\": min must be below max", m->name);
    yaml_node_t *mv = get(l, d->val, "min_volume"), *vol = get(l, d->val, "volume");
    if (mv && number_of(x, mv, "min_volume", &m->min_volume) && m->min_volume < 0)
        diag(l, mv, "min_volume must be >= 0");
    if (vol) m->volume = expr_of(x, vol, scope, GRADING_EXPR_NUMBER, "volume");
    else if (mv && m->denominator) m->volume = m->denominator;
    else if (mv) diag(l, mv, "metric \"%s\": min_volume of a value metric needs `volume` (what is counted)", m->name);
    if ((n = get(l, d->val, "better"))) {
        const char *s = scalar(n);
        if (s && strcmp(s, "higher") == 0) m->better = 1;
        else if (s && strcmp(s, "lower") == 0) m->better = -1;
        else diag(l, n, "better must be \"higher\" or \"lower\"");
    }
    /* on an expression that compiled as written */
    if ((n = get(l, d->val, "exclude")) && l->diags->count == before)
        rules_exclude(l, n, x->r, scope, m, &(rules_metric_nodes_t){vn, nn, dn, vol});
}

/* ---- scores ---- */

static const char *const score_keys[] = {"description", "bands", "insufficient", NULL};
static const char *const band_keys[] = {"when", "points", "verdict", NULL};

static bool band_value(rl_t *x, yaml_node_t *band, grading_expr_value_t *v)
{
    yaml_node_t *pn = get(x->l, band, "points"), *vn = get(x->l, band, "verdict");
    if (!!pn == !!vn) {
        diag(x->l, band, "a band needs exactly one of points (a number) or verdict (a word)");
        return false;
    }
    if (pn) {
        double d;
        if (!number_of(x, pn, "points", &d)) return false;
        *v = grading_expr_number(d);
        return true;
    }
    const char *s = string_of(x, vn, "verdict");
    if (!s) return false;
    *v = grading_expr_string(s);
    return true;
}

static void load_score(rl_t *x, const decl_t *d, grading_score_def_t *s)
{
    loader_t *l = x->l;
    if (!keys_ok(x, d->val, score_keys, "a score")) return;
    yaml_node_t *bands = get(l, d->val, "bands");
    if (!bands) {
        diag(l, d->key, "score \"%s\": bands are required", s->name);
        return;
    }
    if (!is_seq(x, bands, "bands")) return;
    bool after_always = false;
    SEQ_EACH(l, bands, it) {
        yaml_node_t *band = node_at(l, *it);
        if (!keys_ok(x, band, band_keys, "a band")) continue;
        if (after_always) {
            diag(l, band, "score \"%s\": this band is unreachable (an earlier band always applies)", s->name);
            continue;
        }
        if (s->nbands >= GRADING_RULES_MAX_BANDS) {
            diag(l, band, "at most %d bands per score", GRADING_RULES_MAX_BANDS);
            break;
        }
        grading_band_t *bd = &s->bands[s->nbands];
        if (!band_value(x, band, &bd->value)) continue;
        if (bd->value.type != s->type) {
            diag(l, band, "score \"%s\": every band gives points, or every band a verdict", s->name);
            continue;
        }
        yaml_node_t *w = get(l, band, "when");
        if (!w || literally_true(w)) after_always = true;
        if (w) bd->when = expr_of(x, w, GRADING_SCOPE_SCORE, GRADING_EXPR_BOOL, "when");
        s->nbands++;
    }
    if (bands->data.sequence.items.start == bands->data.sequence.items.top)
        diag(l, bands, "score \"%s\": at least one band is required", s->name);
    yaml_node_t *ins = get(l, d->val, "insufficient");
    if (ins) {
        const char *t = scalar(ins);
        char *end = NULL;
        double v = t ? strtod(t, &end) : 0;
        if (t && *t && !*end && isfinite(v)) s->insufficient = grading_expr_number(v);
        else if (t) s->insufficient = grading_expr_string(arena_dup(x->b, t));
        if (!t || s->insufficient.type != s->type)
            diag(l, ins, "score \"%s\": insufficient must be a %s like its bands", s->name,
                 s->type == GRADING_EXPR_NUMBER ? "number" : "verdict");
        else s->has_insufficient = true;
    }
}

/* ---- programmes ---- */

static const char *const program_keys[] = {"description", "levels", "score", "grade", "otherwise",
                                           "new_seller", "caps", "overrides", "publish", NULL};
static const char *const rule_keys[] = {"level", "when", NULL};
static const char *const cap_keys[] = {"best", "unless", NULL};

static bool has_level(const grading_program_def_t *p, int32_t level)
{
    for (size_t i = 0; i < p->nlevels; i++)
        if (p->levels[i] == level) return true;
    return false;
}

static bool known_level(rl_t *x, grading_program_def_t *p, yaml_node_t *n, const char *what, int32_t *out)
{
    if (!level_of(x, n, what, out)) return false;
    if (has_level(p, *out)) return true;
    diag(x->l, n, "programme \"%s\": %s %d is not one of its levels", p->name, what, *out);
    return false;
}

static void load_levels(rl_t *x, grading_program_def_t *p, yaml_node_t *n)
{
    loader_t *l = x->l;
    if (n->type == YAML_SEQUENCE_NODE) {   /* labels, best first: level 1, 2, ... */
        SEQ_EACH(l, n, it) {
            if (p->nlevels >= GRADING_RULES_MAX_LEVELS) {
                diag(l, n, "at most %d levels", GRADING_RULES_MAX_LEVELS);
                return;
            }
            const char *lab = string_of(x, node_at(l, *it), "a level label");
            if (!lab) continue;
            p->levels[p->nlevels] = (int32_t)p->nlevels + 1;
            p->labels[p->nlevels++] = lab;
        }
    } else if (n->type == YAML_MAPPING_NODE) {   /* level: label */
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
            int32_t lv;
            yaml_node_t *k = node_at(l, pr->key);
            if (!level_of(x, k, "a level", &lv)) continue;
            if (p->nlevels >= GRADING_RULES_MAX_LEVELS) {
                diag(l, k, "at most %d levels", GRADING_RULES_MAX_LEVELS);
                return;
            }
            if (p->nlevels && lv <= p->levels[p->nlevels - 1]) {
                diag(l, k, "levels must be listed best (lowest number) first, without repeats");
                continue;
            }
            const char *lab = string_of(x, node_at(l, pr->value), "a level label");
            if (!lab) continue;
            p->levels[p->nlevels] = lv;
            p->labels[p->nlevels++] = lab;
        }
    } else {
        diag(l, n, "levels must be a list of labels (best first) or a mapping of level to label");
    }
}

static void load_level_rules(rl_t *x, grading_program_def_t *p, yaml_node_t *seq, const char *what,
                             grading_level_rule_t *rules, size_t *count, bool *unreachable_after)
{
    loader_t *l = x->l;
    if (!is_seq(x, seq, what)) return;
    SEQ_EACH(l, seq, it) {
        yaml_node_t *rn = node_at(l, *it);
        if (!keys_ok(x, rn, rule_keys, what)) continue;
        if (*unreachable_after) {
            diag(l, rn, "programme \"%s\": this %s rule is unreachable (an earlier one is always true)",
                 p->name, what);
            continue;
        }
        if (*count >= GRADING_RULES_MAX_LEVELS) {
            diag(l, rn, "at most %d %s rules", GRADING_RULES_MAX_LEVELS, what);
            break;
        }
        grading_level_rule_t *r = &rules[*count];
        yaml_node_t *lv = get(l, rn, "level"), *w = get(l, rn, "when");
        if (!lv || !w) {
            diag(l, rn, "a %s rule needs level and when", what);
            continue;
        }
        if (!known_level(x, p, lv, "level", &r->level)) continue;
        r->text = arena_dup(x->b, scalar(w) ? scalar(w) : "");
        r->when = expr_of(x, w, GRADING_SCOPE_PROGRAM, GRADING_EXPR_BOOL, "when");
        if (literally_true(w)) *unreachable_after = true;
        if (r->when) (*count)++;
    }
}

static void load_program(rl_t *x, const decl_t *d, grading_program_def_t *p)
{
    loader_t *l = x->l;
    if (!keys_ok(x, d->val, program_keys, "a programme")) return;
    yaml_node_t *n;
    if ((n = get(l, d->val, "description"))) p->description = string_of(x, n, "description");
    if (!(n = get(l, d->val, "levels"))) {
        diag(l, d->key, "programme \"%s\": levels are required", p->name);
        return;
    }
    load_levels(x, p, n);
    if (p->nlevels < 2) {
        diag(l, n, "programme \"%s\": at least two levels are required", p->name);
        return;
    }
    if ((n = get(l, d->val, "score"))) p->score = expr_of(x, n, GRADING_SCOPE_PROGRAM, GRADING_EXPR_NUMBER, "score");
    p->publish = GRADING_PERIOD_MONTH;
    if ((n = get(l, d->val, "publish"))) {
        const char *k = scalar(n);
        p->publish = k ? (int)grading_period_kind_parse(k) : 0;
        if (!p->publish) diag(l, n, "publish must be month, quarter or year (the close that freezes it)");
    }
    bool always = false;
    if ((n = get(l, d->val, "grade")))
        load_level_rules(x, p, n, "grade", p->rules, &p->nrules, &always);
    else diag(l, d->key, "programme \"%s\": grade (the level rules, best first) is required", p->name);
    p->otherwise = p->levels[p->nlevels - 1];
    if ((n = get(l, d->val, "otherwise"))) {
        if (always) diag(l, n, "programme \"%s\": otherwise is unreachable (a grade rule is always true)", p->name);
        known_level(x, p, n, "otherwise", &p->otherwise);
    }
    if (!(n = get(l, d->val, "new_seller")))
        diag(l, d->key, "programme \"%s\": new_seller (the level of a seller without enough data) is required", p->name);
    else known_level(x, p, n, "new_seller", &p->new_seller);
    if ((n = get(l, d->val, "caps")) && is_seq(x, n, "caps")) {
        SEQ_EACH(l, n, it) {
            yaml_node_t *cn = node_at(l, *it);
            if (!keys_ok(x, cn, cap_keys, "a cap")) continue;
            if (p->ncaps >= GRADING_RULES_MAX_LEVELS) break;
            grading_cap_t *c = &p->caps[p->ncaps];
            yaml_node_t *bn = get(l, cn, "best"), *un = get(l, cn, "unless");
            if (!bn || !un) {
                diag(l, cn, "a cap needs best (the best level allowed) and unless (when the cap is lifted)");
                continue;
            }
            if (!known_level(x, p, bn, "best", &c->best)) continue;
            c->text = arena_dup(x->b, scalar(un) ? scalar(un) : "");
            c->unless = expr_of(x, un, GRADING_SCOPE_PROGRAM, GRADING_EXPR_BOOL, "unless");
            if (c->unless) p->ncaps++;
        }
    }
    bool oalways = false;
    if ((n = get(l, d->val, "overrides")))
        load_level_rules(x, p, n, "overrides", p->overrides, &p->noverrides, &oalways);

    /* every level must be reachable: by a rule, otherwise, new_seller, a cap or an override */
    for (size_t i = 0; i < p->nlevels; i++) {
        int32_t lv = p->levels[i];
        bool reach = (!always && lv == p->otherwise) || lv == p->new_seller;
        for (size_t k = 0; k < p->nrules; k++) reach |= p->rules[k].level == lv;
        for (size_t k = 0; k < p->ncaps; k++) reach |= p->caps[k].best == lv;
        for (size_t k = 0; k < p->noverrides; k++) reach |= p->overrides[k].level == lv;
        if (!reach)
            diag(l, get(l, d->val, "levels"), "programme \"%s\": level %d (%s) is unreachable: no rule, "
                 "cap, override, otherwise or new_seller gives it", p->name, lv, p->labels[i]);
    }
}

/* ---- penalties ---- */

static const char *const stage_keys[] = {"stage", "name", "when", "restrictions", "lasts", NULL};
static const char *const restriction_keys[] = {"kind", "limit", NULL};

static void load_restriction(rl_t *x, yaml_node_t *n, grading_stage_def_t *st)
{
    loader_t *l = x->l;
    yaml_node_t *kn = n;
    if (n->type == YAML_MAPPING_NODE) {
        if (!keys_ok(x, n, restriction_keys, "a restriction")) return;
        kn = get(l, n, "kind");
    }
    const char *s = scalar(kn);
    grading_restriction_kind_t k = s ? grading_restriction_parse(s) : 0;
    if (!k) {
        diag(l, kn ? kn : n, "restriction \"%s\" must be one of warning, promotion_ban, listing_cap, "
             "product_sales_stopped, new_deals_blocked, sales_suspended, withdrawals_held, "
             "contract_termination", s ? s : "");
        return;
    }
    if (st->nrestrictions >= GRADING_RULES_MAX_RESTRICTIONS) {
        diag(l, n, "at most %d restrictions per stage", GRADING_RULES_MAX_RESTRICTIONS);
        return;
    }
    grading_restriction_def_t *rd = &st->restrictions[st->nrestrictions];
    rd->kind = k;
    rd->limit = 0;
    yaml_node_t *ln = n->type == YAML_MAPPING_NODE ? get(l, n, "limit") : NULL;
    if (k == GRADING_R_LISTING_CAP) {
        double v;
        if (!ln) {
            diag(l, n, "listing_cap needs limit (the number of products allowed)");
            return;
        }
        if (!number_of(x, ln, "limit", &v)) return;
        if (v < 0 || v != floor(v) || v > 1e12) {
            diag(l, ln, "limit must be a whole number >= 0");
            return;
        }
        rd->limit = (int64_t)v;
    } else if (ln) {
        diag(l, ln, "only listing_cap takes a limit");
        return;
    }
    st->nrestrictions++;
}

static void load_ladder(rl_t *x, yaml_node_t *kn, yaml_node_t *vn, grading_ladder_def_t *ld)
{
    loader_t *l = x->l;
    (void)kn;
    if (!is_seq(x, vn, "a penalty ladder (a list of stages)")) return;
    SEQ_EACH(l, vn, it) {
        yaml_node_t *sn = node_at(l, *it);
        if (!keys_ok(x, sn, stage_keys, "a stage")) continue;
        if (ld->nstages >= GRADING_RULES_MAX_STAGES) {
            diag(l, sn, "at most %d stages per ladder", GRADING_RULES_MAX_STAGES);
            break;
        }
        grading_stage_def_t *st = &ld->stages[ld->nstages];
        yaml_node_t *num = get(l, sn, "stage"), *w = get(l, sn, "when"), *nm = get(l, sn, "name"),
                    *rs = get(l, sn, "restrictions"), *ls = get(l, sn, "lasts");
        if (ls && !w) {
            /* a stage's run is the days its condition held: no condition, no run */
            diag(l, ls, "lasts needs the stage's condition (when): it counts the days it held");
            continue;
        }
        if (!num || !w || !nm) {
            diag(l, sn, "a stage needs stage (its number), name and when");
            continue;
        }
        if (!level_of(x, num, "stage", &st->stage)) continue;
        if (ld->nstages && st->stage <= ld->stages[ld->nstages - 1].stage) {
            diag(l, num, "stages must be listed in increasing order without repeats");
            continue;
        }
        /* before the condition is compiled: a stage not counted owns no expression */
        st->lasts_days = 0;
        if (ls && !days_of(x, ls, "lasts", GRADING_STAGE_MAX_LASTS_DAYS, &st->lasts_days)) continue;
        st->name = string_of(x, nm, "name");
        st->text = arena_dup(x->b, scalar(w) ? scalar(w) : "");
        st->when = expr_of(x, w, GRADING_SCOPE_PENALTY, GRADING_EXPR_BOOL, "when");
        if (rs && is_seq(x, rs, "restrictions")) SEQ_EACH(l, rs, rt) load_restriction(x, node_at(l, *rt), st);
        if (st->when && st->name) ld->nstages++;
    }
}

/* ---- benefits ---- */

static const char *const benefit_keys[] = {"boost", "neutral_boost", "ad_credits", "settlement",
                                           "convertible_points", NULL};
static const char *const grant_keys[] = {"program", "amount", "when", "reason", NULL};
static const char *const tier_keys[] = {"tier", "cycle_days", "when", NULL};

static void load_benefits(rl_t *x, yaml_node_t *bn)
{
    loader_t *l = x->l;
    grading_rules_t *r = x->r;
    r->neutral_boost = 1.0;
    if (!bn) return;
    if (!keys_ok(x, bn, benefit_keys, "benefits")) return;
    yaml_node_t *n;
    if ((n = get(l, bn, "neutral_boost")) && number_of(x, n, "neutral_boost", &r->neutral_boost) &&
        r->neutral_boost < 0)
        diag(l, n, "neutral_boost must be >= 0");
    if ((n = get(l, bn, "boost"))) r->boost = expr_of(x, n, GRADING_SCOPE_BENEFIT, GRADING_EXPR_NUMBER, "boost");
    if ((n = get(l, bn, "convertible_points")))
        r->convertible_points = expr_of(x, n, GRADING_SCOPE_BENEFIT, GRADING_EXPR_NUMBER, "convertible_points");
    if ((n = get(l, bn, "ad_credits")) && is_seq(x, n, "ad_credits")) {
        SEQ_EACH(l, n, it) {
            yaml_node_t *g = node_at(l, *it);
            if (!keys_ok(x, g, grant_keys, "an ad credit")) continue;
            if (r->ngrants >= GRADING_RULES_MAX_GRANTS) break;
            grading_grant_def_t *gd = &r->grants[r->ngrants];
            yaml_node_t *pn = get(l, g, "program"), *an = get(l, g, "amount"), *w = get(l, g, "when");
            double amount;
            if (!pn || !an || !w) {
                diag(l, g, "an ad credit needs program, amount and when");
                continue;
            }
            if (!number_of(x, an, "amount", &amount)) continue;
            if (amount < 0 || amount != floor(amount) || amount > 1e15) {
                diag(l, an, "amount must be a whole number of the currency's smallest unit, >= 0");
                continue;
            }
            gd->amount = (int64_t)amount;
            gd->program = string_of(x, pn, "program");
            yaml_node_t *rn = get(l, g, "reason");
            gd->reason = rn ? string_of(x, rn, "reason") : arena_dup(x->b, scalar(w) ? scalar(w) : "");
            gd->when = expr_of(x, w, GRADING_SCOPE_BENEFIT, GRADING_EXPR_BOOL, "when");
            if (gd->when && gd->program) r->ngrants++;
        }
    }
    if ((n = get(l, bn, "settlement")) && is_seq(x, n, "settlement")) {
        bool always = false;
        SEQ_EACH(l, n, it) {
            yaml_node_t *t = node_at(l, *it);
            if (!keys_ok(x, t, tier_keys, "a settlement tier")) continue;
            if (always) {
                diag(l, t, "this settlement tier is unreachable (an earlier one has no condition)");
                continue;
            }
            if (r->ntiers >= GRADING_RULES_MAX_TIERS) break;
            grading_tier_def_t *td = &r->tiers[r->ntiers];
            yaml_node_t *tn = get(l, t, "tier"), *cn = get(l, t, "cycle_days"), *w = get(l, t, "when");
            double days;
            if (!tn || !cn) {
                diag(l, t, "a settlement tier needs tier and cycle_days (and when, except the last)");
                continue;
            }
            if (!number_of(x, cn, "cycle_days", &days)) continue;
            if (days < 1 || days > 366 || days != floor(days)) {
                diag(l, cn, "cycle_days must be a whole number 1..366");
                continue;
            }
            td->cycle_days = (uint32_t)days;
            td->tier = string_of(x, tn, "tier");
            if (w) td->when = expr_of(x, w, GRADING_SCOPE_BENEFIT, GRADING_EXPR_BOOL, "when");
            if (!w || literally_true(w)) always = true;
            if (td->tier && (!w || td->when)) r->ntiers++;
        }
        if (r->ntiers && r->tiers[r->ntiers - 1].when)
            diag(l, n, "the last settlement tier must have no condition (the default)");
    }
}

/* ---- history: facts over closed periods ---- */

static const char *const history_keys[] = {"program", "strikes_at_level", "streak_at_level",
                                           "relief_at_level", "average", "over", "limit",
                                           "min_periods", NULL};

static void load_history(rl_t *x, yaml_node_t *sec)
{
    loader_t *l = x->l;
    grading_rules_t *r = x->r;
    if (!sec) return;
    if (sec->type != YAML_MAPPING_NODE) {
        diag(l, sec, "history must be a mapping of name to definition");
        return;
    }
    for (yaml_node_pair_t *pr = sec->data.mapping.pairs.start; pr < sec->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(l, pr->key), *v = node_at(l, pr->value);
        if (!ident_ok(scalar(k))) {
            diag(l, k, "history name must be 1..64 characters of a-z, 0-9 and _");
            continue;
        }
        if (r->nhistory >= GRADING_RULES_MAX_HISTORY) {
            diag(l, k, "at most %d history items", GRADING_RULES_MAX_HISTORY);
            break;
        }
        if (!keys_ok(x, v, history_keys, "a history item")) continue;
        grading_history_def_t *h = &r->history[r->nhistory];
        memset(h, 0, sizeof *h);
        h->name = arena_dup(x->b, scalar(k));
        yaml_node_t *streak = get(l, v, "streak_at_level");
        yaml_node_t *pn = get(l, v, "program"), *sn = streak ? streak : get(l, v, "strikes_at_level"),
                    *an = get(l, v, "average"), *on = get(l, v, "over"), *rn = get(l, v, "relief_at_level"),
                    *ln = get(l, v, "limit");
        const char *prog = scalar(pn);
        bool found = false;
        for (size_t i = 0; prog && i < r->nprograms; i++)
            if (strcmp(r->programs[i].name, prog) == 0) h->program = i, found = true;
        if (!found) {
            diag(l, pn ? pn : v, "history \"%s\": program must name a programme of this marketplace", h->name);
            continue;
        }
        const grading_program_def_t *p = &r->programs[h->program];
        if (!!sn == !!an || (streak && get(l, v, "strikes_at_level"))) {
            diag(l, v, "history \"%s\": give one of strikes_at_level (periods at that level or worse), "
                       "streak_at_level (the latest such periods in a row) or average: level", h->name);
            continue;
        }
        int32_t over = 0;
        if (on && scalar(on) && strcmp(scalar(on), "calendar_year") == 0) {
            /* a yearly selection: the periods of one calendar year */
            h->calendar_year = true;
            over = p->publish == GRADING_PERIOD_QUARTER ? 4 : p->publish == GRADING_PERIOD_YEAR ? 1 : 12;
        } else if (on && scalar(on) && !(scalar(on)[0] >= '0' && scalar(on)[0] <= '9')) {
            diag(l, on, "history \"%s\": over must be a number of closed periods (1..%d) or calendar_year, "
                        "got \"%s\"", h->name, GRADING_RULES_MAX_HISTORY_PERIODS, scalar(on));
            continue;
        } else if (!on || !level_of(x, on, "over", &over) || over > GRADING_RULES_MAX_HISTORY_PERIODS) {
            if (!on || over > GRADING_RULES_MAX_HISTORY_PERIODS)
                diag(l, on ? on : v, "history \"%s\": over (1..%d closed periods, or calendar_year) is required",
                     h->name, GRADING_RULES_MAX_HISTORY_PERIODS);
            continue;
        }
        h->over = (uint32_t)over;
        if (sn) {
            h->kind = streak ? GRADING_HISTORY_STREAK : GRADING_HISTORY_STRIKES;
            if (!known_level(x, (grading_program_def_t *)p, sn, streak ? "streak_at_level" : "strikes_at_level",
                             &h->strike_level))
                continue;
            if (streak && rn) {
                diag(l, rn, "relief_at_level belongs to strikes, not streaks");
                continue;
            }
            if (rn && !known_level(x, (grading_program_def_t *)p, rn, "relief_at_level", &h->relief_level)) continue;
            if (h->relief_level && h->relief_level >= h->strike_level) {
                diag(l, rn, "relief_at_level must be a better (lower) level than strikes_at_level");
                continue;
            }
            int32_t lim = 0;
            if (ln && !level_of(x, ln, "limit", &lim)) continue;
            h->limit = (uint32_t)lim;
        } else {
            const char *a = scalar(an);
            if (!a || strcmp(a, "level") != 0) {
                diag(l, an, "average must be \"level\" (the average published level)");
                continue;
            }
            if (rn || ln) {
                diag(l, rn ? rn : ln, "relief_at_level and limit belong to strikes");
                continue;
            }
            yaml_node_t *mn = get(l, v, "min_periods");
            int32_t minp = 0;
            if (mn && (!level_of(x, mn, "min_periods", &minp) || (uint32_t)minp > h->over)) {
                if ((uint32_t)minp > h->over) diag(l, mn, "min_periods must be at most over (%u)", h->over);
                continue;
            }
            h->min_periods = (uint32_t)minp;
            h->kind = GRADING_HISTORY_AVERAGE;
        }
        r->nhistory++;
    }
}

/* ---- calendar, per-order deadlines, service points ---- */

static bool date_of(rl_t *x, yaml_node_t *n, int32_t *day)
{
    const char *s = scalar(n);
    int y, m, d;
    char tail;
    if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 2000 || y > 2099 || m < 1 ||
        m > 12 || d < 1 || d > 31) {
        diag(x->l, n, "\"%s\" is not a date YYYY-MM-DD (2000..2099)", s ? s : "");
        return false;
    }
    *day = grading_days_from_civil(y, (uint32_t)m, (uint32_t)d);
    int32_t yy;
    uint32_t mm, dd;
    grading_civil_from_days(*day, &yy, &mm, &dd);
    if ((int)mm != m) {
        diag(x->l, n, "%s is not a day of the calendar", s);
        return false;
    }
    return true;
}

static bool fraction_of(rl_t *x, yaml_node_t *n, const char *what, double *out)
{
    const char *s = scalar(n);
    char *end = NULL;
    if (s && *s) *out = strtod(s, &end);
    if (!s || !*s || !end || (*end && strcmp(end, "%") != 0) || !isfinite(*out)) {
        diag(x->l, n, "%s must be a number or a percentage (\"95%%\"), got \"%s\"", what, s ? s : "");
        return false;
    }
    if (*end == '%') *out /= 100;
    return true;
}

static const char *const calendar_keys[] = {"weekend", "holidays", "exceptions", NULL};

static void load_calendar(rl_t *x, yaml_node_t *n)
{
    static const char *const days[] = {"monday", "tuesday", "wednesday", "thursday", "friday",
                                       "saturday", "sunday"};
    loader_t *l = x->l;
    grading_calendar_t *c = &x->r->calendar;
    c->weekend = (1u << 5) | (1u << 6);   /* Saturday and Sunday unless told */
    if (!n || !keys_ok(x, n, calendar_keys, "calendar")) return;
    yaml_node_t *w = get(l, n, "weekend");
    if (w && is_seq(x, w, "weekend")) {
        c->weekend = 0;
        SEQ_EACH(l, w, it) {
            const char *d = scalar(node_at(l, *it));
            int found = -1;
            for (int i = 0; d && i < 7; i++)
                if (strcmp(d, days[i]) == 0) found = i;
            if (found < 0) diag(l, node_at(l, *it), "weekend days are monday .. sunday, got \"%s\"", d ? d : "");
            else c->weekend |= (uint8_t)(1u << found);
        }
        if (c->weekend == 0x7f) diag(l, w, "a week needs at least one business day");
    }
    const char *lists[] = {"holidays", "exceptions"};
    for (int k = 0; k < 2; k++) {
        yaml_node_t *hn = get(l, n, lists[k]);
        if (!hn || !is_seq(x, hn, lists[k])) continue;
        SEQ_EACH(l, hn, it) {
            int32_t day;
            if (!date_of(x, node_at(l, *it), &day)) continue;
            if (!grading_calendar_close_day(c, day)) {
                diag(l, node_at(l, *it), "at most %d holidays and exception days", GRADING_CALENDAR_MAX_CLOSED);
                break;
            }
        }
    }
}

static const char *const deadline_keys[] = {"product_rate", "product_window", "stages", NULL};
static const char *const dstage_keys[] = {"name", "business_days", "reserved_days", "points", "restricts", NULL};

static void load_deadlines(rl_t *x, yaml_node_t *n)
{
    loader_t *l = x->l;
    grading_deadlines_def_t *dl = &x->r->deadlines;
    dl->product_rate = 0.95;
    dl->product_window_days = 90;
    if (!n || !keys_ok(x, n, deadline_keys, "deadlines")) return;
    yaml_node_t *v;
    if ((v = get(l, n, "product_rate")) && fraction_of(x, v, "product_rate", &dl->product_rate) &&
        (dl->product_rate < 0 || dl->product_rate > 1))
        diag(l, v, "product_rate must be between 0%% and 100%%");
    if ((v = get(l, n, "product_window")))
        days_of(x, v, "product_window", GRADING_WINDOW_MAX_DAYS, &dl->product_window_days);
    yaml_node_t *st = get(l, n, "stages");
    if (!st) {
        diag(l, n, "deadlines need stages");
        return;
    }
    if (!is_seq(x, st, "stages")) return;
    SEQ_EACH(l, st, it) {
        yaml_node_t *sn = node_at(l, *it);
        if (!keys_ok(x, sn, dstage_keys, "a deadline stage")) continue;
        if (dl->nstages >= GRADING_DEADLINE_MAX_STAGES) {
            diag(l, sn, "at most %d deadline stages", GRADING_DEADLINE_MAX_STAGES);
            break;
        }
        grading_deadline_stage_t *d = &dl->stages[dl->nstages];
        yaml_node_t *nm = get(l, sn, "name"), *bd = get(l, sn, "business_days"), *rd = get(l, sn, "reserved_days");
        double b, rdv;
        if (!nm || !bd || !rd) {
            diag(l, sn, "a deadline stage needs name, business_days (normal orders) and reserved_days "
                        "(days after a reserved order's date)");
            continue;
        }
        if (!number_of(x, bd, "business_days", &b) || !number_of(x, rd, "reserved_days", &rdv)) continue;
        if (b < 0 || b > 60 || b != floor(b) || rdv < 0 || rdv > 60 || rdv != floor(rdv)) {
            diag(l, sn, "business_days and reserved_days must be whole numbers 0..60");
            continue;
        }
        d->name = string_of(x, nm, "name");
        d->business_days = (int32_t)b;
        d->reserved_days = (int32_t)rdv;
        if ((v = get(l, sn, "points"))) number_of(x, v, "points", &d->points);
        if ((v = get(l, sn, "restricts"))) {
            const char *t = scalar(v);
            if (t && strcmp(t, "true") == 0) d->restricts = true;
            else if (!t || strcmp(t, "false") != 0) diag(l, v, "restricts must be true or false");
        }
        if (dl->nstages && (d->business_days <= dl->stages[dl->nstages - 1].business_days ||
                            d->reserved_days <= dl->stages[dl->nstages - 1].reserved_days)) {
            diag(l, sn, "deadline stages must come later and later (business_days and reserved_days)");
            continue;
        }
        dl->nstages++;
    }
}

static const char *const points_keys[] = {"dispatch", "delivery", "auto_completed", "seller_fault_claim",
                                          "non_receipt", "strongly_recommend", "not_recommended",
                                          "expire_after", NULL};
static const char *const delivery_keys[] = {"normal", "reserved", "overseas", NULL};

static void load_bands(rl_t *x, yaml_node_t *n, const char *unit, grading_points_band_t *out, size_t *count)
{
    loader_t *l = x->l;
    if (!is_seq(x, n, "point bands")) return;
    bool open = false;
    SEQ_EACH(l, n, it) {
        yaml_node_t *b = node_at(l, *it);
        const char *const keys[] = {unit, "points", NULL};
        if (!keys_ok(x, b, keys, "a point band")) continue;
        if (open) {
            diag(l, b, "this band is unreachable: an earlier one has no %s", unit);
            continue;
        }
        if (*count >= GRADING_POINTS_MAX_BANDS) {
            diag(l, b, "at most %d bands", GRADING_POINTS_MAX_BANDS);
            break;
        }
        yaml_node_t *un = get(l, b, unit), *pn = get(l, b, "points");
        double u = -1, p;
        if (!pn || !number_of(x, pn, "points", &p)) {
            if (!pn) diag(l, b, "a band needs points");
            continue;
        }
        if (un && (!number_of(x, un, unit, &u) || u < 0 || u != floor(u) || u > 400)) {
            diag(l, un, "%s must be a whole number 0..400", unit);
            continue;
        }
        if (!un) open = true;
        if (*count && un && (int32_t)u <= out[*count - 1].at_most) {
            diag(l, un, "%s must grow from band to band", unit);
            continue;
        }
        out[*count].at_most = un ? (int32_t)u : -1;
        out[*count].points = p;
        (*count)++;
    }
}

static void load_points(rl_t *x, yaml_node_t *n)
{
    loader_t *l = x->l;
    grading_points_def_t *pd = &x->r->points;
    if (!n || !keys_ok(x, n, points_keys, "service_points")) return;
    pd->enabled = true;
    yaml_node_t *v;
    if ((v = get(l, n, "dispatch"))) load_bands(x, v, "business_days", pd->dispatch, &pd->ndispatch);
    if ((v = get(l, n, "delivery")) && keys_ok(x, v, delivery_keys, "delivery")) {
        for (int k = 0; k < 3; k++) {
            yaml_node_t *t = get(l, v, delivery_keys[k]);
            if (t) load_bands(x, t, "days_at_most", pd->delivery[k], &pd->ndelivery[k]);
        }
        /* SPEC §3: reserved products never earn plus points; without a
         * table of their own they earn no delivery points at all */
        yaml_node_t *rt = get(l, v, "reserved");
        for (size_t b = 0; b < pd->ndelivery[1]; b++)
            if (pd->delivery[1][b].points > 0) {
                yaml_node_t *bn = rt && rt->type == YAML_SEQUENCE_NODE
                                      ? node_at(l, rt->data.sequence.items.start[b]) : rt;
                diag(l, bn ? bn : v, "delivery.reserved: points must be 0 or less: reserved orders never earn "
                                     "plus points, only minus points when late (counted from the reservation date)");
                break;
            }
        if (!pd->ndelivery[2]) memcpy(pd->delivery[2], pd->delivery[0], sizeof pd->delivery[0]), pd->ndelivery[2] = pd->ndelivery[0];
    }
    static const struct {
        const char *key;
        int rule;
    } per[] = {{"auto_completed", GRADING_PT_AUTO_COMPLETED}, {"seller_fault_claim", GRADING_PT_SELLER_CLAIM},
               {"non_receipt", GRADING_PT_NON_RECEIPT}, {"strongly_recommend", GRADING_PT_STRONGLY_RECOMMEND},
               {"not_recommended", GRADING_PT_NOT_RECOMMENDED}};
    for (size_t i = 0; i < sizeof per / sizeof per[0]; i++)
        if ((v = get(l, n, per[i].key))) number_of(x, v, per[i].key, &pd->per_event[per[i].rule]);
    if ((v = get(l, n, "expire_after")))
        days_of(x, v, "expire_after", GRADING_WINDOW_MAX_DAYS, &pd->expire_after_days);
}

/* ---- cycles ---- */

/* Depth-first search over "uses" edges of one kind; reports one cycle. */
static bool on_cycle(rl_t *x, grading_sym_kind_t kind, size_t i, uint8_t *color, size_t *path,
                     size_t depth, const decl_t *decls);

static void uses(const grading_rules_t *r, grading_sym_kind_t kind, size_t i,
                 const grading_expr_t **ex, size_t *nex)
{
    *nex = 0;
    if (kind == GRADING_SYM_METRIC) {
        const grading_metric_def_t *m = &r->metrics[i];
        ex[(*nex)++] = m->value;
        ex[(*nex)++] = m->numerator;
        ex[(*nex)++] = m->denominator;
        ex[(*nex)++] = m->volume;
    } else {
        for (size_t b = 0; b < r->scores[i].nbands; b++) ex[(*nex)++] = r->scores[i].bands[b].when;
    }
}

static bool on_cycle(rl_t *x, grading_sym_kind_t kind, size_t i, uint8_t *color, size_t *path,
                     size_t depth, const decl_t *decls)
{
    const grading_expr_t *ex[GRADING_RULES_MAX_BANDS + 4];
    size_t nex;
    color[i] = 1;
    path[depth] = i;
    uses(x->r, kind, i, ex, &nex);
    for (size_t k = 0; k < nex; k++) {
        if (!ex[k]) continue;
        size_t nn;
        const grading_expr_ref_t *refs = grading_expr_names(ex[k], &nn);
        for (size_t q = 0; q < nn; q++) {
            if (GRADING_SYM_KIND(refs[q].id) != kind) continue;
            size_t j = GRADING_SYM_INDEX(refs[q].id);
            if (color[j] == 1) {
                char chain[256] = "";
                size_t from = 0;
                while (path[from] != j) from++;
                for (size_t s = from; s <= depth; s++) {
                    const char *nm = kind == GRADING_SYM_METRIC ? x->r->metrics[path[s]].name
                                                                : x->r->scores[path[s]].name;
                    strncat(chain, nm, sizeof chain - strlen(chain) - 1);
                    strncat(chain, " -> ", sizeof chain - strlen(chain) - 1);
                }
                strncat(chain, refs[q].name, sizeof chain - strlen(chain) - 1);
                diag(x->l, decls[j].key, "%s cycle: %s", kind == GRADING_SYM_METRIC ? "metric" : "score", chain);
                return true;
            }
            if (color[j] == 0 && on_cycle(x, kind, j, color, path, depth + 1, decls)) return true;
        }
    }
    color[i] = 2;
    return false;
}

static void check_cycles(rl_t *x, grading_sym_kind_t kind, size_t n, const decl_t *decls)
{
    uint8_t color[GRADING_RULES_MAX_METRICS] = {0};
    size_t path[GRADING_RULES_MAX_METRICS];
    for (size_t i = 0; i < n; i++)
        if (color[i] == 0 && on_cycle(x, kind, i, color, path, 0, decls)) return;
}

/* ---- appeals (issue 15) ---- */

static const char *const appeals_keys[] = {"reopen_closed", "max_per_order", NULL};

static void load_appeals(rl_t *x, yaml_node_t *n)
{
    grading_appeals_def_t *a = &x->r->appeals;
    if (!n || !keys_ok(x, n, appeals_keys, "appeals")) return;
    yaml_node_t *ro = get(x->l, n, "reopen_closed"), *mx = get(x->l, n, "max_per_order");
    if (ro) {
        const char *s = scalar(ro);
        if (!s || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
            diag(x->l, ro, "appeals.reopen_closed must be true or false, got \"%s\"", s ? s : "(not a scalar)");
        a->reopen_closed = literally_true(ro);
    }
    double d;
    if (mx && number_of(x, mx, "appeals.max_per_order", &d)) {
        if (d != floor(d) || d < 1 || d > GRADING_APPEALS_MAX_PER_ORDER)
            diag(x->l, mx, "appeals.max_per_order must be a whole number 1..%d, got %s",
                 GRADING_APPEALS_MAX_PER_ORDER, scalar(mx));
        else
            a->max_per_order = (uint32_t)d;
    }
}

/* ---- exemptions (issue 15): orders paid in a date range x metrics ---- */

static const char *const exemption_keys[] = {"id", "from", "to", "metrics", "scope", "product_id", "reason",
                                             "note", NULL};

static bool code_of(rl_t *x, yaml_node_t *n, const char *what, char *out, size_t cap)
{
    const char *s = scalar(n);
    size_t len = s ? strlen(s) : 0;
    bool ok = len > 0 && len < cap;
    for (size_t i = 0; ok && i < len; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("_-.", s[i]);
    if (!ok) {
        diag(x->l, n, "%s must be 1..%zu characters of a-z, 0-9, _ - .", what, cap - 1);
        return false;
    }
    memcpy(out, s, len + 1);
    return true;
}

static void load_exemption(rl_t *x, yaml_node_t *n, grading_exemption_t *e)
{
    yaml_node_t *v;
    memset(e, 0, sizeof *e);
    e->overseas = GRADING_EXEMPT_ANY;
    if (!keys_ok(x, n, exemption_keys, "an exemption")) return;
    /* the stored id carries the prefix: room for it */
    char id[GRADING_MAX_ID_LEN + 1 - sizeof GRADING_POLICY_EXEMPTION_PREFIX];
    if (!(v = get(x->l, n, "id"))) diag(x->l, n, "exemption: id is required");
    else if (code_of(x, v, "exemption id", id, sizeof id))
        snprintf(e->id, sizeof e->id, "%s%s", GRADING_POLICY_EXEMPTION_PREFIX, id);
    yaml_node_t *from = get(x->l, n, "from"), *to = get(x->l, n, "to");
    if (!from || !to) diag(x->l, n, "exemption: from and to (local dates of the payment) are required");
    else if (date_of(x, from, &e->from_day) && date_of(x, to, &e->to_day) && e->to_day < e->from_day)
        diag(x->l, to, "exemption: to is before from: the range is inverted");
    if (!(v = get(x->l, n, "metrics")) || !is_seq(x, v, "exemption metrics")) {
        if (!v) diag(x->l, n, "exemption: metrics (a list) is required");
    } else {
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
            yaml_node_t *m = node_at(x->l, *it);
            const char *name = scalar(m);
            uint64_t mask = 0;
            if (name && strcmp(name, "all") == 0) mask = GRADING_C_MASK_ALL;
            else if (!name || grading_rules_metric_counters(x->r, name, &mask) != GRADING_OK || !mask)
                diag(x->l, m, "exemption: \"%s\" is no metric, base counter or all", name ? name : "");
            e->mask |= mask;
        }
    }
    if ((v = get(x->l, n, "scope"))) {
        const char *s = scalar(v);
        if (s && strcmp(s, "overseas") == 0) e->overseas = GRADING_EXEMPT_OVERSEAS;
        else if (s && strcmp(s, "domestic") == 0) e->overseas = GRADING_EXEMPT_DOMESTIC;
        else if (!s || strcmp(s, "all") != 0) diag(x->l, v, "exemption: scope must be all, overseas or domestic");
    }
    if ((v = get(x->l, n, "product_id"))) {
        const char *s = scalar(v);
        if (!s || !*s || strlen(s) > GRADING_MAX_ID_LEN) diag(x->l, v, "exemption: product_id must be an id");
        else snprintf(e->product_id, sizeof e->product_id, "%s", s);
    }
    if (!(v = get(x->l, n, "reason"))) diag(x->l, n, "exemption: reason (a short code) is required");
    else code_of(x, v, "exemption reason", e->reason, sizeof e->reason);
    if ((v = get(x->l, n, "note"))) {
        const char *s = scalar(v);
        if (!s || strlen(s) > GRADING_EXEMPTION_NOTE_MAX)
            diag(x->l, v, "exemption: note must be at most %d bytes", GRADING_EXEMPTION_NOTE_MAX);
        else snprintf(e->note, sizeof e->note, "%s", s);
    }
}

static void load_exemptions(rl_t *x, yaml_node_t *n)
{
    if (!n || !is_seq(x, n, "exemptions")) return;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        if (x->r->nexemptions >= GRADING_RULES_MAX_EXEMPTIONS) {
            diag(x->l, n, "at most %d exemptions per marketplace in a policy file", GRADING_RULES_MAX_EXEMPTIONS);
            return;
        }
        grading_exemption_t *e = &x->r->exemptions[x->r->nexemptions++];
        load_exemption(x, node_at(x->l, *it), e);
        for (size_t k = 0; k + 1 < x->r->nexemptions; k++)
            if (e->id[0] && strcmp(x->r->exemptions[k].id, e->id) == 0)
                diag(x->l, node_at(x->l, *it), "exemption: id \"%s\" is used twice",
                     e->id + strlen(GRADING_POLICY_EXEMPTION_PREFIX));
    }
}

/* ---- the marketplace ---- */

void rules_load(loader_t *l, build_t *b, const rules_nodes_t *nodes, grading_rules_t *r)
{
    rl_t x = {l, b, r};
    static _Thread_local decl_t md[GRADING_RULES_MAX_METRICS], sd[GRADING_RULES_MAX_SCORES],
        pd[GRADING_RULES_MAX_PROGRAMS];
    r->nmetrics = declare(&x, nodes->metrics, "metric", GRADING_RULES_MAX_METRICS, md,
                          &r->metrics[0].name, sizeof r->metrics[0]);
    r->nscores = declare(&x, nodes->scores, "score", GRADING_RULES_MAX_SCORES, sd, &r->scores[0].name,
                         sizeof r->scores[0]);
    r->nprograms = declare(&x, nodes->programs, "programme", GRADING_RULES_MAX_PROGRAMS, pd,
                           &r->programs[0].name, sizeof r->programs[0]);
    if (nodes->penalties) {
        if (nodes->penalties->type != YAML_MAPPING_NODE) {
            diag(l, nodes->penalties, "penalties must be a mapping of ladder name to its stages");
        } else {
            yaml_node_pair_t *p0 = nodes->penalties->data.mapping.pairs.start;
            for (yaml_node_pair_t *p = p0; p < nodes->penalties->data.mapping.pairs.top; p++) {
                yaml_node_t *k = node_at(l, p->key);
                if (r->nladders >= GRADING_RULES_MAX_LADDERS) {
                    diag(l, k, "at most %d penalty ladders", GRADING_RULES_MAX_LADDERS);
                    break;
                }
                if (!ident_ok(scalar(k))) {
                    diag(l, k, "ladder name must be 1..64 characters of a-z, 0-9 and _");
                    continue;
                }
                r->ladders[r->nladders++].name = arena_dup(b, scalar(k));
            }
        }
    }
    load_calendar(&x, nodes->calendar);
    load_deadlines(&x, nodes->deadlines);
    load_points(&x, nodes->service_points);
    load_appeals(&x, nodes->appeals);
    /* a score's type, from its first band, before any expression names it */
    for (size_t i = 0; i < r->nscores; i++) {
        yaml_node_t *bands = get(l, sd[i].val, "bands");
        yaml_node_t *first = bands && bands->type == YAML_SEQUENCE_NODE &&
                                     bands->data.sequence.items.start < bands->data.sequence.items.top
                                 ? node_at(l, *bands->data.sequence.items.start)
                                 : NULL;
        r->scores[i].type = first && get(l, first, "verdict") ? GRADING_EXPR_STRING : GRADING_EXPR_NUMBER;
    }
    for (size_t i = 0; i < r->nmetrics; i++) load_metric(&x, &md[i], &r->metrics[i]);
    load_exemptions(&x, nodes->exemptions);   /* names metrics: after them */
    for (size_t i = 0; i < r->nscores; i++) load_score(&x, &sd[i], &r->scores[i]);
    for (size_t i = 0; i < r->nprograms; i++) load_program(&x, &pd[i], &r->programs[i]);
    load_history(&x, nodes->history);
    if (nodes->penalties && nodes->penalties->type == YAML_MAPPING_NODE) {
        size_t i = 0;
        for (yaml_node_pair_t *p = nodes->penalties->data.mapping.pairs.start;
             p < nodes->penalties->data.mapping.pairs.top && i < r->nladders; p++) {
            yaml_node_t *k = node_at(l, p->key);
            if (!ident_ok(scalar(k))) continue;
            load_ladder(&x, k, node_at(l, p->value), &r->ladders[i++]);
        }
    }
    load_benefits(&x, nodes->benefits);
    check_cycles(&x, GRADING_SYM_METRIC, r->nmetrics, md);
    check_cycles(&x, GRADING_SYM_SCORE, r->nscores, sd);
}
