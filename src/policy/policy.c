/* The policy loader: YAML (libyaml's document API, so every node has its
 * line and column) -> an immutable, reference-counted grading_policy_t.
 *
 * Every problem is collected, not just the first, each with
 * "file:line:col" and one line on what is wrong and what was expected.
 * Unknown keys are errors: a typo in a threshold's key must not silently
 * change a grade. Each mapping's allowed keys sit in one table so later
 * sections (metrics, programmes, ...) slot in beside them. */
#include "grading/policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "grading/event.h"
#include "loader.h"

#define POLICY_MAX_FILE_BYTES (16 * 1024 * 1024)
#define POLICY_MAX_MARKETPLACES 256
#define TZIF_MAX_BYTES (1024 * 1024)

struct grading_policy {
    atomic_int refs;
    char version[GRADING_POLICY_VERSION_LEN + 1];
    size_t nmarkets;
    grading_marketplace_t *markets;
    size_t default_index;
    char *strings;   /* one arena for every name the marketplaces borrow */
    grading_policy_t *shadow;   /* --shadow-policy: evaluated beside this one (issue 14) */
};

void diag(loader_t *l, const yaml_node_t *node, const char *fmt, ...)
{
    grading_policy_diags_t *d = l->diags;
    size_t i = d->count++;
    if (i >= GRADING_POLICY_MAX_DIAGS) return;
    if (node)
        snprintf(d->diags[i].where, sizeof d->diags[i].where, "%s:%zu:%zu", l->origin,
                 node->start_mark.line + 1, node->start_mark.column + 1);
    else
        snprintf(d->diags[i].where, sizeof d->diags[i].where, "%s", l->origin);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->diags[i].message, sizeof d->diags[i].message, fmt, ap);
    va_end(ap);
}

void diag_at(loader_t *l, size_t line, size_t col, const char *fmt, ...)
{
    grading_policy_diags_t *d = l->diags;
    size_t i = d->count++;
    if (i >= GRADING_POLICY_MAX_DIAGS) return;
    snprintf(d->diags[i].where, sizeof d->diags[i].where, "%s:%zu:%zu", l->origin, line, col);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->diags[i].message, sizeof d->diags[i].message, fmt, ap);
    va_end(ap);
}

const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *node_at(loader_t *l, int id)
{
    return yaml_document_get_node(l->doc, id);
}

/* Calls visit(key, value) for each pair; reports keys not in `allowed`. */
void each_pair(loader_t *l, yaml_node_t *map, const char *const *allowed, const char *what,
               void (*visit)(loader_t *, const char *, yaml_node_t *, yaml_node_t *, void *),
               void *ctx)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(l, p->key), *v = node_at(l, p->value);
        const char *key = scalar(k);
        if (!key) {
            diag(l, k, "%s: keys must be plain names", what);
            continue;
        }
        bool ok = allowed == NULL;
        for (const char *const *a = allowed; a && *a; a++)
            if (strcmp(*a, key) == 0) ok = true;
        if (!ok) {
            char list[256] = "";
            for (const char *const *a = allowed; *a; a++) {
                strncat(list, *a, sizeof list - strlen(list) - 1);
                if (a[1]) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            diag(l, k, "unknown key \"%s\" in %s (expected one of: %s)", key, what, list);
            continue;
        }
        visit(l, key, k, v, ctx);
    }
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GRADING_MAX_MARKETPLACE_LEN) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    return true;
}

static bool currency_ok(const char *s)
{
    if (strlen(s) != 3) return false;
    for (int i = 0; i < 3; i++)
        if (s[i] < 'A' || s[i] > 'Z') return false;
    return true;
}

/* ---- time zones: the file read lives here, parsing in core ---- */

static bool tz_name_ok(const char *s)
{
    if (!s[0] || s[0] == '/' || strstr(s, "..")) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '-' || *p == '+'))
            return false;
    return true;
}

static void load_zone(loader_t *l, yaml_node_t *node, const char *name, grading_tz_t *tz)
{
    grading_error_t e = {0};
    int32_t off;
    if (name[0] == '+' || name[0] == '-' || strcmp(name, "UTC") == 0 || strcmp(name, "Z") == 0) {
        if (grading_tz_parse_offset(name, &off, &e)) {
            diag(l, node, "time_zone: %s", e.message);
            return;
        }
        grading_tz_init_fixed(tz, name, off);
        return;
    }
    if (!tz_name_ok(name)) {
        diag(l, node, "time_zone \"%s\" is not an IANA zone name like \"Asia/Seoul\"", name);
        return;
    }
    const char *dir = getenv("TZDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        diag(l, node, "time_zone \"%s\" not found (%s: %s; is tzdata installed?)", name, path,
             strerror(errno));
        return;
    }
    uint8_t *buf = malloc(TZIF_MAX_BYTES);
    size_t len = buf ? fread(buf, 1, TZIF_MAX_BYTES, f) : 0;
    fclose(f);
    if (!buf) {
        diag(l, node, "out of memory reading %s", path);
        return;
    }
    if (grading_tz_init_tzif(tz, name, buf, len, &e))
        diag(l, node, "time_zone \"%s\": %s (%s)", name, e.message, path);
    free(buf);
}

/* ---- marketplaces ---- */

typedef struct {
    grading_marketplace_t *mp;
    yaml_node_t *tz_node, *cur_node;
    const char *tz, *currency, *display;
    rules_nodes_t rules;
} market_ctx_t;

static void visit_market_key(loader_t *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *vctx)
{
    (void)k;
    market_ctx_t *c = vctx;
    yaml_node_t **section = strcmp(key, "metrics") == 0     ? &c->rules.metrics
                            : strcmp(key, "scores") == 0    ? &c->rules.scores
                            : strcmp(key, "programs") == 0  ? &c->rules.programs
                            : strcmp(key, "penalties") == 0 ? &c->rules.penalties
                            : strcmp(key, "benefits") == 0  ? &c->rules.benefits
                            : strcmp(key, "history") == 0   ? &c->rules.history
                            : strcmp(key, "calendar") == 0  ? &c->rules.calendar
                            : strcmp(key, "deadlines") == 0 ? &c->rules.deadlines
                            : strcmp(key, "service_points") == 0 ? &c->rules.service_points
                            : strcmp(key, "appeals") == 0 ? &c->rules.appeals
                            : strcmp(key, "exemptions") == 0 ? &c->rules.exemptions
                                                            : NULL;
    if (section) {
        *section = v;
        return;
    }
    const char *s = scalar(v);
    if (!s) {
        diag(l, v, "%s must be a string", key);
        return;
    }
    if (strcmp(key, "time_zone") == 0) c->tz = s, c->tz_node = v;
    else if (strcmp(key, "currency") == 0) c->currency = s, c->cur_node = v;
    else if (strcmp(key, "display_name") == 0) c->display = s;
}

static const char *const market_keys[] = {"display_name", "time_zone", "currency", "metrics",
                                          "scores", "programs", "penalties", "benefits", "history",
                                          "calendar", "deadlines", "service_points", "appeals", "exemptions", NULL};

const char *arena_dup(build_t *b, const char *s)
{
    size_t n = strlen(s) + 1;
    if (b->arena_used + n > b->arena_cap) {
        b->overflow = true;
        return "";
    }
    char *dst = b->strings + b->arena_used;
    memcpy(dst, s, n);
    b->arena_used += n;
    return dst;
}

static void load_market(loader_t *l, build_t *b, yaml_node_t *kn, yaml_node_t *vn)
{
    const char *name = scalar(kn);
    if (!name || !name_ok(name)) {
        diag(l, kn, "marketplace name \"%s\" must be 1..%d characters of a-z, 0-9, _ and -",
             name ? name : "", GRADING_MAX_MARKETPLACE_LEN);
        return;
    }
    for (size_t i = 0; i < b->p->nmarkets; i++)
        if (strcmp(b->p->markets[i].name, name) == 0) {
            diag(l, kn, "marketplace \"%s\" is defined twice", name);
            return;
        }
    if (vn->type != YAML_MAPPING_NODE) {
        diag(l, vn, "marketplace \"%s\" must be a mapping (time_zone, currency, ...)", name);
        return;
    }
    if (b->p->nmarkets >= POLICY_MAX_MARKETPLACES) {
        diag(l, kn, "at most %d marketplaces per file", POLICY_MAX_MARKETPLACES);
        return;
    }
    grading_marketplace_t *mp = &b->p->markets[b->p->nmarkets];
    memset(mp, 0, sizeof *mp);
    market_ctx_t c = {.mp = mp};
    size_t before = l->diags->count;
    each_pair(l, vn, market_keys, "a marketplace", visit_market_key, &c);
    if (!c.tz) diag(l, vn, "marketplace \"%s\": time_zone is required (\"Asia/Seoul\", \"+09:00\")", name);
    if (!c.currency) diag(l, vn, "marketplace \"%s\": currency is required (ISO 4217, \"KRW\")", name);
    else if (!currency_ok(c.currency))
        diag(l, c.cur_node, "currency \"%s\" must be 3 upper-case letters (ISO 4217, \"KRW\")", c.currency);
    if (c.tz) load_zone(l, c.tz_node, c.tz, &mp->tz);
    mp->rules = calloc(1, sizeof *mp->rules);
    if (!mp->rules) diag(l, vn, "out of memory");
    else rules_load(l, b, &c.rules, mp->rules);
    if (l->diags->count != before) {
        grading_tz_destroy(&mp->tz);
        grading_rules_destroy(mp->rules);
        free(mp->rules);
        mp->rules = NULL;
        return;
    }
    mp->name = arena_dup(b, name);
    mp->display_name = arena_dup(b, c.display ? c.display : name);
    mp->currency = arena_dup(b, c.currency);
    b->p->nmarkets++;
}

/* ---- top level ---- */

static const char *const top_keys[] = {"version", "default_marketplace", "marketplaces", NULL};

typedef struct {
    yaml_node_t *version, *def, *markets;
} top_ctx_t;

static void visit_top_key(loader_t *l, const char *key, yaml_node_t *k, yaml_node_t *v, void *vctx)
{
    (void)l;
    (void)k;
    top_ctx_t *t = vctx;
    if (strcmp(key, "version") == 0) t->version = v;
    else if (strcmp(key, "default_marketplace") == 0) t->def = v;
    else if (strcmp(key, "marketplaces") == 0) t->markets = v;
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

static void policy_free(grading_policy_t *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nmarkets; i++) {
        grading_tz_destroy(&p->markets[i].tz);
        grading_rules_destroy(p->markets[i].rules);
        free(p->markets[i].rules);
    }
    free(p->markets);
    free(p->strings);
    grading_policy_unref(p->shadow);
    free(p);
}

void grading_policy_set_shadow(grading_policy_t *p, grading_policy_t *shadow)
{
    grading_policy_t *ref = shadow && shadow != p ? grading_policy_ref(shadow) : NULL;
    grading_policy_unref(p->shadow);
    p->shadow = ref;
}

const grading_policy_t *grading_policy_shadow(const grading_policy_t *p)
{
    return p->shadow;
}

static void build(loader_t *l, yaml_node_t *root, grading_policy_t *p, size_t text_len)
{
    if (!root) {
        diag(l, NULL, "the file is empty (expected version, default_marketplace, marketplaces)");
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        diag(l, root, "the top level must be a mapping (version, default_marketplace, marketplaces)");
        return;
    }
    top_ctx_t t = {0};
    each_pair(l, root, top_keys, "the top level", visit_top_key, &t);
    if (!t.version) diag(l, root, "version is required (version: 1)");
    else if (!scalar(t.version) || strcmp(scalar(t.version), "1") != 0)
        diag(l, t.version, "version must be 1 (the only format this server reads)");

    build_t b = {.p = p, .arena_cap = text_len * 8 + 4096};
    p->strings = malloc(b.arena_cap);
    b.strings = p->strings;
    if (!t.markets) {
        diag(l, root, "marketplaces is required (a mapping of name to its settings)");
    } else if (t.markets->type != YAML_MAPPING_NODE || t.markets->data.mapping.pairs.start == t.markets->data.mapping.pairs.top) {
        diag(l, t.markets, "marketplaces must be a non-empty mapping of name to settings");
    } else {
        size_t n = (size_t)(t.markets->data.mapping.pairs.top - t.markets->data.mapping.pairs.start);
        p->markets = calloc(n, sizeof *p->markets);
        if (!p->markets || !p->strings) {
            diag(l, NULL, "out of memory");
            return;
        }
        for (yaml_node_pair_t *pr = t.markets->data.mapping.pairs.start; pr < t.markets->data.mapping.pairs.top; pr++)
            load_market(l, &b, node_at(l, pr->key), node_at(l, pr->value));
    }
    if (b.overflow)
        diag(l, root, "the file expands to more than 8 times its size (too many aliases?)");
    if (!t.def) {
        diag(l, root, "default_marketplace is required (the marketplace of requests that name none)");
    } else {
        const char *d = scalar(t.def);
        bool found = false;
        for (size_t i = 0; d && i < p->nmarkets; i++)
            if (strcmp(p->markets[i].name, d) == 0) p->default_index = i, found = true;
        /* a marketplace that is there but failed has its own errors already */
        bool declared = false;
        if (t.markets && t.markets->type == YAML_MAPPING_NODE)
            for (yaml_node_pair_t *pr = t.markets->data.mapping.pairs.start;
                 d && pr < t.markets->data.mapping.pairs.top; pr++) {
                const char *k = scalar(node_at(l, pr->key));
                if (k && strcmp(k, d) == 0) declared = true;
            }
        if (!found && t.markets && !declared)
            diag(l, t.def, "default_marketplace \"%s\" names no marketplace of this file", d ? d : "");
    }
}

grading_err_t grading_policy_load_buffer(const char *origin, const char *text, size_t len,
                                         grading_policy_t **out, grading_policy_diags_t *diags)
{
    *out = NULL;
    memset(diags, 0, sizeof *diags);
    loader_t l = {.origin = origin, .diags = diags};
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc = false;
    grading_policy_t *p = calloc(1, sizeof *p);
    if (!p || !yaml_parser_initialize(&parser)) {
        free(p);
        return GRADING_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        size_t i = diags->count++;
        snprintf(diags->diags[i].where, sizeof diags->diags[i].where, "%s:%zu:%zu", origin,
                 parser.problem_mark.line + 1, parser.problem_mark.column + 1);
        snprintf(diags->diags[i].message, sizeof diags->diags[i].message, "YAML syntax: %s%s%s",
                 parser.problem ? parser.problem : "error", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        goto done;
    }
    have_doc = true;
    l.doc = &doc;
    build(&l, yaml_document_get_root_node(&doc), p, len);
    if (diags->count == 0) {
        snprintf(p->version, sizeof p->version, "%016llx", (unsigned long long)fnv1a64(text, len));
        atomic_init(&p->refs, 1);
        *out = p;
        p = NULL;
    }
done:
    if (have_doc) yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    policy_free(p);
    return *out ? GRADING_OK : GRADING_EINVAL;
}

grading_err_t grading_policy_load_file(const char *path, grading_policy_t **out,
                                       grading_policy_diags_t *diags)
{
    *out = NULL;
    memset(diags, 0, sizeof *diags);
    char *text;
    size_t len;
    grading_err_t rc = loader_read_file(path, POLICY_MAX_FILE_BYTES, &text, &len, diags);
    if (rc) return rc;
    rc = grading_policy_load_buffer(path, text, len, out, diags);
    free(text);
    return rc;
}

grading_policy_t *grading_policy_ref(grading_policy_t *p)
{
    if (p) atomic_fetch_add(&p->refs, 1);
    return p;
}

void grading_policy_unref(grading_policy_t *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1) policy_free(p);
}

const char *grading_policy_version(const grading_policy_t *p)
{
    return p->version;
}

const grading_marketplace_t *grading_policy_marketplace(const grading_policy_t *p, const char *name)
{
    if (!name || !name[0]) return &p->markets[p->default_index];
    for (size_t i = 0; i < p->nmarkets; i++)
        if (strcmp(p->markets[i].name, name) == 0) return &p->markets[i];
    return NULL;
}

size_t grading_policy_marketplace_count(const grading_policy_t *p)
{
    return p->nmarkets;
}

const grading_marketplace_t *grading_policy_marketplace_at(const grading_policy_t *p, size_t i)
{
    return i < p->nmarkets ? &p->markets[i] : NULL;
}
