/* Who may call what: the callers of an --authz file, how a caller is
 * recognised and which methods and marketplaces it may use.
 *
 * The file (policies/authz.example.yaml):
 *   callers:
 *     search:                                     # the name in logs and the audit
 *       match: {uri_san: "spiffe://shop/search"}  # or {cn: NAME} or {token_sha256: HEX}
 *       allow: ["grading.v1.GradingService/GetRankingBoosts"]
 *       marketplaces: ["zigzag"]                  # optional; absent = all
 *       backfill: true                            # optional; RecordEvents.backfill_id
 * `*` in an allow entry matches any characters except '/': within one
 * segment. Everything not allowed is denied. Health and reflection are
 * always allowed. An immutable, reference-counted value like the policy,
 * so a reload swaps it while calls in flight finish on the old one. */
#ifndef GRADING_AUTHZ_H
#define GRADING_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "grading/err.h"
#include "grading/policy.h"

#define GRADING_AUTHZ_MAX_CALLERS 256
#define GRADING_AUTHZ_MAX_NAME_LEN 64
#define GRADING_AUTHZ_SHA256_HEX_LEN 64

typedef enum {
    GRADING_AUTHZ_MATCH_URI_SAN,
    GRADING_AUTHZ_MATCH_CN,
    GRADING_AUTHZ_MATCH_TOKEN_SHA256,
} grading_authz_match_t;

typedef struct {
    const char *name;
    grading_authz_match_t match;
    const char *value;              /* the SAN, CN or lowercase hex digest */
    const char *const *allow;       /* method patterns, no leading '/' */
    size_t nallow;
    const char *const *marketplaces;
    size_t nmarketplaces;           /* 0: every marketplace */
    bool backfill;                  /* may send RecordEvents with a backfill_id (issue 18) */
} grading_authz_caller_t;

typedef struct grading_authz grading_authz_t;

/* What is known of the peer of a call. Any field may be NULL/empty. */
typedef struct {
    const char *cn;                 /* certificate (or trusted proxy) common name */
    const char *const *uri_sans;    /* URI subject alternative names */
    size_t nuri_sans;
    const char *token_sha256;       /* lowercase hex SHA-256 of a bearer token */
} grading_identity_t;

/* Parses and checks an authz file. On success *out holds one reference.
 * Errors: GRADING_EIO (cannot read), GRADING_EINVAL (diags list every
 * problem with file:line:col), GRADING_ENOMEM. */
grading_err_t grading_authz_load_file(const char *path, grading_authz_t **out,
                                      grading_policy_diags_t *diags);
grading_err_t grading_authz_load_buffer(const char *origin, const char *text, size_t len,
                                        grading_authz_t **out, grading_policy_diags_t *diags);

grading_authz_t *grading_authz_ref(grading_authz_t *a);
void grading_authz_unref(grading_authz_t *a);   /* frees at zero; NULL is fine */

/* Content hash of the file, 16 hex chars; borrowed. */
const char *grading_authz_version(const grading_authz_t *a);
size_t grading_authz_caller_count(const grading_authz_t *a);
const grading_authz_caller_t *grading_authz_caller_at(const grading_authz_t *a, size_t i);

/* ---- matching (pure) ---- */

/* True when the identity carries anything to match on. */
bool grading_identity_present(const grading_identity_t *id);

/* The first caller (file order) the identity matches, or NULL. */
const grading_authz_caller_t *grading_authz_identify(const grading_authz_t *a,
                                                     const grading_identity_t *id);

/* `*` matches any run of characters other than '/'. */
bool grading_authz_pattern_match(const char *pattern, const char *method);

/* method: "grading.v1.GradingService/GetGrade" (no leading '/'). */
bool grading_authz_method_allowed(const grading_authz_caller_t *c, const char *method);
bool grading_authz_marketplace_allowed(const grading_authz_caller_t *c, const char *marketplace);

/* Health checks and server reflection need no identity. */
bool grading_authz_always_allowed(const char *method);

#endif
