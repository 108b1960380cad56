/* A metric's `exclude:` (exclusion by cause), compiled.
 *
 *   cancel_rate: {numerator: cancels, denominator: orders, window: 30d,
 *                 exclude: {reason: [buyer_request], fault: [buyer, platform]}}
 *
 * Every cancel, return and exchange lands in one cell (fault x reason for
 * cancels, fault for the others), and each such base counter is a union of
 * cells. So in this metric's own expressions each of them is rewritten
 * into the sum of its cells that the exclusion leaves: `cancels` becomes
 * `(cancels_seller_fault_out_of_stock + ...)`. Evaluation, explain and the
 * counters a metric reads then need nothing new. Metrics it names keep
 * their own meaning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

static const char *const exclude_keys[] = {"reason", "fault", NULL};

/* Sets a bit of *bits per value of the list n; false (reported) on a bad one. */
static bool values_of(loader_t *l, yaml_node_t *n, const char *attr, int32_t (*parse)(const char *),
                      const char *(*name)(int32_t), int32_t count, uint32_t *bits)
{
    if (!n || n->type != YAML_SEQUENCE_NODE) {
        diag(l, n, "exclude.%s must be a list, e.g. [%s]", attr, name(1));
        return false;
    }
    bool ok = true;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = node_at(l, *it);
        int32_t i = parse(scalar(v));
        if (i >= 0) {
            *bits |= UINT32_C(1) << i;
            continue;
        }
        char list[160] = "";
        for (int32_t k = 1; k <= count; k++) {   /* unspecified (0) last */
            strncat(list, name(k % count), sizeof list - strlen(list) - 1);
            if (k < count) strncat(list, ", ", sizeof list - strlen(list) - 1);
        }
        diag(l, v, "exclude.%s: unknown value \"%s\" (expected one of: %s)", attr, scalar(v) ? scalar(v) : "",
             list);
        ok = false;
    }
    return ok;
}

static void no_visit(loader_t *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    (void)l, (void)key, (void)k, (void)v, (void)ctx;
}

static bool exclusion_of(loader_t *l, yaml_node_t *n, grading_exclusion_t *ex)
{
    if (!n || n->type != YAML_MAPPING_NODE) {
        diag(l, n, "exclude must be a mapping of reason and/or fault lists");
        return false;
    }
    size_t before = l->diags->count;
    each_pair(l, n, exclude_keys, "exclude", no_visit, NULL);
    if (l->diags->count != before) return false;
    bool ok = true;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *k = scalar(node_at(l, p->key));
        yaml_node_t *v = node_at(l, p->value);
        if (strcmp(k, "reason") == 0)
            ok &= values_of(l, v, "reason", grading_reason_parse, grading_reason_name, GRADING_NREASONS,
                            &ex->reasons);
        else
            ok &= values_of(l, v, "fault", grading_fault_parse, grading_fault_name, GRADING_NFAULTS, &ex->faults);
    }
    if (ok && !ex->reasons && !ex->faults) {
        diag(l, n, "exclude names no reason and no fault: remove it, or list what to leave out");
        return false;
    }
    return ok;
}

/* The cell-made counters (grading_counter_cells) an expression reads. */
static uint64_t cell_counters(const grading_expr_t *e)
{
    static const grading_exclusion_t none = {0, 0};
    uint64_t read = 0, cells;
    size_t n = 0;
    const grading_expr_ref_t *refs = e ? grading_expr_names(e, &n) : NULL;
    for (size_t i = 0; i < n; i++)
        if (GRADING_SYM_KIND(refs[i].id) == GRADING_SYM_COUNTER &&
            grading_counter_cells((grading_counter_t)GRADING_SYM_INDEX(refs[i].id), &none, &cells))
            read |= UINT64_C(1) << GRADING_SYM_INDEX(refs[i].id);
    return read;
}

/* Room for one counter name and " + " (names are well under 60 characters). */
#define NAME_ROOM 64

typedef struct {
    grading_rules_t *r;
    grading_scope_t scope;
    grading_exclusion_t ex;
    char sum[GRADING_C_COUNT * NAME_ROOM + 4];   /* the last replacement; a cut one fails to compile */
} subst_ctx_t;

static bool resolve(void *vctx, const char *name, grading_expr_symbol_t *out)
{
    subst_ctx_t *c = vctx;
    return grading_rules_resolve(c->r, c->scope, name, out);
}

/* `cancels` -> "(cell + cell + ...)" ("0" when every cell is excluded). */
static const char *cells_sum(void *vctx, const char *name)
{
    subst_ctx_t *c = vctx;
    uint64_t mask;
    for (int k = 0; k < GRADING_C_COUNT; k++) {
        if (strcmp(name, grading_counter_name((grading_counter_t)k)) != 0) continue;
        if (!grading_counter_cells((grading_counter_t)k, &c->ex, &mask)) return NULL;
        size_t n = (size_t)snprintf(c->sum, sizeof c->sum, "%s", mask ? "(" : "0");
        for (int b = 0; b < GRADING_C_COUNT && n < sizeof c->sum; b++)
            if (mask >> b & 1)
                n += (size_t)snprintf(c->sum + n, sizeof c->sum - n, "%s%s", n > 1 ? " + " : "",
                                      grading_counter_name((grading_counter_t)b));
        if (mask && n < sizeof c->sum) snprintf(c->sum + n, sizeof c->sum - n, ")");
        return c->sum;
    }
    return NULL;
}

/* Recompiles *e (from node n, already compiled as written) with the cells
 * substituted; reported on failure, *e unchanged then. */
static void rewrite(loader_t *l, subst_ctx_t *c, yaml_node_t *n, const char *what, grading_expr_t **e)
{
    const char *text = scalar(n);
    char *sub = NULL;
    size_t len = 0;
    grading_expr_t *ne = NULL;
    grading_error_t err = {0};
    if (!*e || !text) return;
    if (grading_expr_substitute_new(text, strlen(text), cells_sum, c, &sub, &len)) {
        diag(l, n, "%s: out of memory applying exclude", what);
        return;
    }
    if (grading_expr_compile(sub, len, resolve, c, &ne, &err, NULL)) {
        diag(l, n, "%s: with exclude applied (each cancel, return or exchange counter a sum of cells) it does "
                    "not compile: %s", what, err.message);
        goto done;
    }
    grading_expr_free(*e);
    *e = ne;
done:
    free(sub);
}

void rules_exclude(loader_t *l, yaml_node_t *xn, grading_rules_t *r, grading_scope_t scope,
                   grading_metric_def_t *m, const rules_metric_nodes_t *mn)
{
    subst_ctx_t *c = calloc(1, sizeof *c);
    if (!c) {
        diag(l, xn, "out of memory");
        return;
    }
    c->r = r;
    c->scope = scope;
    if (!exclusion_of(l, xn, &c->ex)) goto done;
    bool volume_is_denominator = m->volume && m->volume == m->denominator;
    uint64_t read = cell_counters(m->value) | cell_counters(m->numerator) | cell_counters(m->denominator) |
                    (volume_is_denominator ? 0 : cell_counters(m->volume));
    static const grading_exclusion_t none = {0, 0};
    uint64_t cancels;
    grading_counter_cells(GRADING_C_CANCELS, &none, &cancels);
    bool reads_cancels = false;
    for (int k = 0; k < GRADING_C_COUNT; k++) {
        uint64_t cells;
        if (read >> k & 1 && grading_counter_cells((grading_counter_t)k, &none, &cells) && (cells & cancels))
            reads_cancels = true;
    }
    if (!read) {
        diag(l, xn, "metric \"%s\": exclude applies to cancels, returns and exchanges, and this metric reads "
                    "none of them (in its own expressions)", m->name);
        goto done;
    }
    if (c->ex.reasons && !reads_cancels) {
        diag(l, xn, "metric \"%s\": exclude.reason applies to cancels only, and this metric reads no cancels "
                    "counter", m->name);
        goto done;
    }
    rewrite(l, c, mn->value, "value", &m->value);
    rewrite(l, c, mn->numerator, "numerator", &m->numerator);
    rewrite(l, c, mn->denominator, "denominator", &m->denominator);
    if (volume_is_denominator) m->volume = m->denominator;
    else rewrite(l, c, mn->volume, "volume", &m->volume);
    m->exclude = c->ex;
done:
    free(c);
}
