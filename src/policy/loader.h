/* Internal to the policy loader: what policy.c (the file, marketplaces)
 * shares with rules_load.c (metrics, scores, programmes, penalties,
 * benefits). */
#ifndef GRADING_POLICY_LOADER_H
#define GRADING_POLICY_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "grading/policy.h"
#include "grading/rules.h"

typedef struct {
    const char *origin;
    yaml_document_t *doc;
    grading_policy_diags_t *diags;
} loader_t;

/* Strings the compiled policy borrows live in one arena. */
typedef struct {
    grading_policy_t *p;
    char *strings;
    size_t arena_used, arena_cap;
    bool overflow;   /* the arena was too small (aliases expanding): an error */
} build_t;

/* Reads path whole (at most max_bytes) into *out_text, which the caller
 * frees; a problem is one diagnostic at the file (file_read.c). */
grading_err_t loader_read_file(const char *path, size_t max_bytes, char **out_text, size_t *out_len,
                               grading_policy_diags_t *diags);

/* Records one problem at node (file:line:col), or at the file when NULL. */
void diag(loader_t *l, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same at an explicit 1-based line and column. */
void diag_at(loader_t *l, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The text of a scalar node; NULL for anything else. */
const char *scalar(const yaml_node_t *n);
yaml_node_t *node_at(loader_t *l, int id);

/* Calls visit(key, value) for each pair of map; a key not in `allowed`
 * (NULL-terminated; NULL allows any) is reported, naming `what`. */
void each_pair(loader_t *l, yaml_node_t *map, const char *const *allowed, const char *what,
               void (*visit)(loader_t *, const char *, yaml_node_t *, yaml_node_t *, void *),
               void *ctx);

/* A copy of s in the arena; "" and b->overflow when full. */
const char *arena_dup(build_t *b, const char *s);

/* The grading sections of one marketplace, given its nodes (any may be
 * NULL). Fills r; problems go to l's diagnostics. */
typedef struct {
    yaml_node_t *metrics, *scores, *programs, *penalties, *benefits, *history;
    yaml_node_t *calendar, *deadlines, *service_points;
    yaml_node_t *appeals, *exemptions;   /* issue 15 */
} rules_nodes_t;

void rules_load(loader_t *l, build_t *b, const rules_nodes_t *n, grading_rules_t *r);

/* The nodes of a metric's expressions (any may be NULL). */
typedef struct {
    yaml_node_t *value, *numerator, *denominator, *volume;
} rules_metric_nodes_t;

/* Applies a metric's `exclude:` node xn to m, whose expressions are
 * compiled from mn in scope (rules_exclude.c). Problems go to l. */
void rules_exclude(loader_t *l, yaml_node_t *xn, grading_rules_t *r, grading_scope_t scope,
                   grading_metric_def_t *m, const rules_metric_nodes_t *mn);

#endif
