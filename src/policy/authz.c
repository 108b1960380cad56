/* Matching callers, methods and marketplaces (authz.h). Pure functions:
 * the file is read in src/policy/authz_load.c, the peer in src/rpc. */
#include "grading/authz.h"

#include <string.h>

bool grading_identity_present(const grading_identity_t *id)
{
    return (id->cn && id->cn[0]) || id->nuri_sans > 0 || (id->token_sha256 && id->token_sha256[0]);
}

static bool caller_matches(const grading_authz_caller_t *c, const grading_identity_t *id)
{
    switch (c->match) {
    case GRADING_AUTHZ_MATCH_CN:
        return id->cn && strcmp(id->cn, c->value) == 0;
    case GRADING_AUTHZ_MATCH_URI_SAN:
        for (size_t i = 0; i < id->nuri_sans; i++)
            if (id->uri_sans[i] && strcmp(id->uri_sans[i], c->value) == 0) return true;
        return false;
    case GRADING_AUTHZ_MATCH_TOKEN_SHA256:
        return id->token_sha256 && strcmp(id->token_sha256, c->value) == 0;
    }
    return false;
}

const grading_authz_caller_t *grading_authz_identify(const grading_authz_t *a,
                                                     const grading_identity_t *id)
{
    size_t n = grading_authz_caller_count(a);
    for (size_t i = 0; i < n; i++) {
        const grading_authz_caller_t *c = grading_authz_caller_at(a, i);
        if (caller_matches(c, id)) return c;
    }
    return NULL;
}

bool grading_authz_pattern_match(const char *p, const char *s)
{
    /* iterative glob with one backtrack point: '*' never crosses '/' */
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == *s) {
            p++;
            s++;
        } else if (star && *resume != '/') {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*') p++;
    return *p == '\0';
}

bool grading_authz_method_allowed(const grading_authz_caller_t *c, const char *method)
{
    for (size_t i = 0; i < c->nallow; i++)
        if (grading_authz_pattern_match(c->allow[i], method)) return true;
    return false;
}

bool grading_authz_marketplace_allowed(const grading_authz_caller_t *c, const char *marketplace)
{
    if (c->nmarketplaces == 0) return true;
    for (size_t i = 0; i < c->nmarketplaces; i++)
        if (strcmp(c->marketplaces[i], marketplace) == 0) return true;
    return false;
}

bool grading_authz_always_allowed(const char *method)
{
    return strncmp(method, "grpc.health.v1.Health/", 22) == 0 || strncmp(method, "grpc.reflection.", 16) == 0;
}
