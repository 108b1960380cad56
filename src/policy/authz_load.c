/* The --authz file -> an immutable, reference-counted grading_authz_t
 * (authz.h). Like the policy: libyaml's document API so every problem is
 * reported with file:line:col, unknown keys are errors, every problem is
 * collected. */
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "grading/authz.h"
#include "loader.h"

#define AUTHZ_MAX_FILE_BYTES (1024 * 1024)
#define AUTHZ_MAX_LIST 256
#define AUTHZ_MAX_VALUE_LEN 1024

struct grading_authz {
    atomic_int refs;
    char version[17];
    size_t n;
    grading_authz_caller_t callers[GRADING_AUTHZ_MAX_CALLERS];
};

static void list_free(const char *const *l, size_t n)
{
    for (size_t i = 0; i < n; i++) free((char *)l[i]);
    free((void *)l);
}

static void authz_free(grading_authz_t *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) {
        grading_authz_caller_t *c = &a->callers[i];
        free((char *)c->name);
        free((char *)c->value);
        list_free(c->allow, c->nallow);
        list_free(c->marketplaces, c->nmarketplaces);
    }
    free(a);
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GRADING_AUTHZ_MAX_NAME_LEN) return false;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* "pkg.Service/Method": one '/', not first or last, printable ASCII. */
static bool pattern_ok(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/')) return false;
    for (const char *p = s; *p; p++)
        if (*p <= ' ' || *p > '~') return false;
    return true;
}

static bool hex64_ok(const char *s)
{
    if (strlen(s) != GRADING_AUTHZ_SHA256_HEX_LEN) return false;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p)) return false;
    return true;
}

/* A sequence of scalars, each checked by ok(); a malloc'd array of copies. */
static const char *const *load_list(loader_t *l, yaml_node_t *n, const char *what, bool (*ok)(const char *),
                                    const char *expect, size_t *count)
{
    *count = 0;
    if (!n || n->type != YAML_SEQUENCE_NODE) {
        diag(l, n, "%s must be a list", what);
        return NULL;
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (len > AUTHZ_MAX_LIST) {
        diag(l, n, "%s: at most %d entries", what, AUTHZ_MAX_LIST);
        return NULL;
    }
    char **out = calloc(len ? len : 1, sizeof *out);
    if (!out) {
        diag(l, n, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        yaml_node_t *item = node_at(l, n->data.sequence.items.start[i]);
        const char *v = scalar(item);
        if (!v || !ok(v)) {
            diag(l, item, "%s: \"%s\" is not %s", what, v ? v : "(not a string)", expect);
            continue;
        }
        if (!(out[*count] = strdup(v))) {
            diag(l, item, "out of memory");
            continue;
        }
        (*count)++;
    }
    return (const char *const *)out;
}

static bool marketplace_ok(const char *s)
{
    return s[0] && strlen(s) <= 64;
}

typedef struct {
    grading_authz_caller_t *c;
    yaml_node_t *match, *allow, *marketplaces, *backfill;
} caller_nodes_t;

static void visit_caller_key(loader_t *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *ctx)
{
    (void)k;
    caller_nodes_t *cn = ctx;
    if (strcmp(key, "match") == 0) cn->match = v;
    else if (strcmp(key, "allow") == 0) cn->allow = v;
    else if (strcmp(key, "backfill") == 0) cn->backfill = v;
    else cn->marketplaces = v;
    (void)l;
}

static void load_match(loader_t *l, yaml_node_t *n, const char *name, grading_authz_caller_t *c)
{
    static const char *const kinds[] = {"uri_san", "cn", "token_sha256"};
    if (!n || n->type != YAML_MAPPING_NODE ||
        n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1) {
        diag(l, n, "callers.%s.match must hold exactly one of uri_san, cn, token_sha256", name);
        return;
    }
    yaml_node_pair_t *p = n->data.mapping.pairs.start;
    yaml_node_t *kn = node_at(l, p->key), *vn = node_at(l, p->value);
    const char *kind = scalar(kn), *value = scalar(vn);
    int which = -1;
    for (int i = 0; kind && i < 3; i++)
        if (strcmp(kind, kinds[i]) == 0) which = i;
    if (which < 0) {
        diag(l, kn, "callers.%s.match: unknown key \"%s\" (expected one of: uri_san, cn, token_sha256)", name,
             kind ? kind : "");
        return;
    }
    if (!value || !value[0] || strlen(value) > AUTHZ_MAX_VALUE_LEN) {
        diag(l, vn, "callers.%s.match.%s must be a non-empty string of at most %d bytes", name, kind,
             AUTHZ_MAX_VALUE_LEN);
        return;
    }
    if (which == 2 && !hex64_ok(value)) {
        diag(l, vn, "callers.%s.match.token_sha256 must be 64 hex digits (sha256sum of the token)", name);
        return;
    }
    c->match = which == 0 ? GRADING_AUTHZ_MATCH_URI_SAN
               : which == 1 ? GRADING_AUTHZ_MATCH_CN
                            : GRADING_AUTHZ_MATCH_TOKEN_SHA256;
    char *copy = strdup(value);
    if (!copy) {
        diag(l, vn, "out of memory");
        return;
    }
    if (which == 2)
        for (char *q = copy; *q; q++) *q = (char)tolower((unsigned char)*q);
    c->value = copy;
}

static void load_caller(loader_t *l, grading_authz_t *a, yaml_node_t *kn, yaml_node_t *vn)
{
    static const char *const keys[] = {"match", "allow", "marketplaces", "backfill", NULL};
    const char *name = scalar(kn);
    char what[128];
    if (!name || !name_ok(name)) {
        diag(l, kn, "caller name \"%s\" must be 1..%d of a-z, 0-9, '_', '-'", name ? name : "",
             GRADING_AUTHZ_MAX_NAME_LEN);
        return;
    }
    if (a->n >= GRADING_AUTHZ_MAX_CALLERS) {
        diag(l, kn, "at most %d callers", GRADING_AUTHZ_MAX_CALLERS);
        return;
    }
    if (!vn || vn->type != YAML_MAPPING_NODE) {
        diag(l, vn, "callers.%s must be a mapping with match and allow", name);
        return;
    }
    grading_authz_caller_t *c = &a->callers[a->n++];
    c->name = strdup(name);
    if (!c->name) {
        diag(l, kn, "out of memory");
        return;
    }
    caller_nodes_t cn = {.c = c};
    snprintf(what, sizeof what, "callers.%s", name);
    each_pair(l, vn, keys, what, visit_caller_key, &cn);
    if (!cn.match) diag(l, vn, "callers.%s: match is required", name);
    else load_match(l, cn.match, name, c);
    if (!cn.allow) {
        diag(l, vn, "callers.%s: allow is required (a list of full method names)", name);
    } else {
        snprintf(what, sizeof what, "callers.%s.allow", name);
        c->allow = load_list(l, cn.allow, what, pattern_ok,
                             "a full method name like grading.v1.GradingService/GetGrade", &c->nallow);
    }
    if (cn.marketplaces) {
        snprintf(what, sizeof what, "callers.%s.marketplaces", name);
        c->marketplaces = load_list(l, cn.marketplaces, what, marketplace_ok, "a marketplace name",
                                    &c->nmarketplaces);
        if (c->nmarketplaces == 0 && cn.marketplaces->type == YAML_SEQUENCE_NODE)
            diag(l, cn.marketplaces, "callers.%s.marketplaces must not be empty (leave it out for all)", name);
    }
    if (cn.backfill) {
        const char *b = scalar(cn.backfill);
        if (b && strcmp(b, "true") == 0) c->backfill = true;
        else if (!b || strcmp(b, "false") != 0)
            diag(l, cn.backfill, "callers.%s.backfill must be true or false", name);
    }
    /* one identity, one caller: a second match of the same value is a mistake */
    for (size_t i = 0; c->value && i + 1 < a->n; i++)
        if (a->callers[i].value && a->callers[i].match == c->match && strcmp(a->callers[i].value, c->value) == 0)
            diag(l, cn.match, "callers.%s.match is the same as callers.%s.match", name, a->callers[i].name);
}

static void build(loader_t *l, yaml_node_t *root, grading_authz_t *a)
{
    if (!root || root->type != YAML_MAPPING_NODE) {
        diag(l, root, "an authz file is a mapping with the key \"callers\"");
        return;
    }
    yaml_node_t *callers = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(l, p->key);
        const char *key = scalar(k);
        if (key && strcmp(key, "callers") == 0) callers = node_at(l, p->value);
        else diag(l, k, "unknown key \"%s\" (expected: callers)", key ? key : "");
    }
    if (!callers) {
        diag(l, root, "\"callers\" is required");
        return;
    }
    if (callers->type != YAML_MAPPING_NODE) {
        diag(l, callers, "callers must be a mapping of caller names");
        return;
    }
    for (yaml_node_pair_t *p = callers->data.mapping.pairs.start; p < callers->data.mapping.pairs.top; p++)
        load_caller(l, a, node_at(l, p->key), node_at(l, p->value));
}

static uint64_t fnv1a64(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

grading_err_t grading_authz_load_buffer(const char *origin, const char *text, size_t len,
                                        grading_authz_t **out, grading_policy_diags_t *diags)
{
    *out = NULL;
    memset(diags, 0, sizeof *diags);
    loader_t l = {.origin = origin, .diags = diags};
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc = false;
    grading_authz_t *a = calloc(1, sizeof *a);
    if (!a || !yaml_parser_initialize(&parser)) {
        free(a);
        return GRADING_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        diag_at(&l, parser.problem_mark.line + 1, parser.problem_mark.column + 1, "YAML syntax: %s%s%s",
                parser.problem ? parser.problem : "error", parser.context ? " " : "",
                parser.context ? parser.context : "");
        goto done;
    }
    have_doc = true;
    l.doc = &doc;
    build(&l, yaml_document_get_root_node(&doc), a);
    if (diags->count == 0) {
        snprintf(a->version, sizeof a->version, "%016llx", (unsigned long long)fnv1a64(text, len));
        atomic_init(&a->refs, 1);
        *out = a;
        a = NULL;
    }
done:
    if (have_doc) yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    authz_free(a);
    return *out ? GRADING_OK : GRADING_EINVAL;
}

grading_err_t grading_authz_load_file(const char *path, grading_authz_t **out, grading_policy_diags_t *diags)
{
    *out = NULL;
    memset(diags, 0, sizeof *diags);
    char *text;
    size_t len;
    grading_err_t rc = loader_read_file(path, AUTHZ_MAX_FILE_BYTES, &text, &len, diags);
    if (rc) return rc;
    rc = grading_authz_load_buffer(path, text, len, out, diags);
    free(text);
    return rc;
}

grading_authz_t *grading_authz_ref(grading_authz_t *a)
{
    if (a) atomic_fetch_add(&a->refs, 1);
    return a;
}

void grading_authz_unref(grading_authz_t *a)
{
    if (a && atomic_fetch_sub(&a->refs, 1) == 1) authz_free(a);
}

const char *grading_authz_version(const grading_authz_t *a)
{
    return a->version;
}

size_t grading_authz_caller_count(const grading_authz_t *a)
{
    return a->n;
}

const grading_authz_caller_t *grading_authz_caller_at(const grading_authz_t *a, size_t i)
{
    return i < a->n ? &a->callers[i] : NULL;
}
