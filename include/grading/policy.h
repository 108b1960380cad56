/* The compiled policy: an immutable, reference-counted value built from a
 * YAML file. Callers take a reference for as long as they use it, so a
 * reload can swap in a new one while calls in flight finish on the old.
 *
 * The file (see policies/README.md):
 *   version: 1
 *   default_marketplace: tmon
 *   marketplaces:
 *     tmon:
 *       display_name: TMON
 *       time_zone: Asia/Seoul     # IANA name (zoneinfo) or "+09:00" / "UTC"
 *       currency: KRW             # ISO 4217
 *       ...                       # grading rules: later sections
 * Unknown keys are errors (a typo must not silently change a grade). */
#ifndef GRADING_POLICY_H
#define GRADING_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/rules.h"
#include "grading/tz.h"

#define GRADING_POLICY_MAX_DIAGS 64
#define GRADING_POLICY_VERSION_LEN 16   /* hex chars of the content hash */

typedef struct grading_policy grading_policy_t;

typedef struct {
    char where[300];   /* "policies/tmon.yaml:12:5" */
    char message[256];
} grading_policy_diag_t;

/* Every problem found in one load, not just the first. */
typedef struct {
    size_t count;      /* may exceed GRADING_POLICY_MAX_DIAGS; only that many kept */
    grading_policy_diag_t diags[GRADING_POLICY_MAX_DIAGS];
} grading_policy_diags_t;

typedef struct {
    const char *name;          /* key in `marketplaces` */
    const char *display_name;  /* defaults to name */
    const char *currency;
    grading_tz_t tz;
    grading_rules_t *rules;    /* metrics, scores, programmes, penalties, benefits */
} grading_marketplace_t;

/* Parses and checks the file. On success *out holds one reference.
 * Errors: GRADING_EIO (cannot read), GRADING_EINVAL (diags lists every
 * problem with file:line:col), GRADING_ENOMEM. Time zone names are looked
 * up under $TZDIR or /usr/share/zoneinfo. */
grading_err_t grading_policy_load_file(const char *path, grading_policy_t **out,
                                       grading_policy_diags_t *diags);

/* The same from a buffer; `origin` names it in diagnostics. */
grading_err_t grading_policy_load_buffer(const char *origin, const char *text, size_t len,
                                         grading_policy_t **out, grading_policy_diags_t *diags);

/* The shadow policy (--shadow-policy): evaluated beside p on every derive,
 * its disagreements counted, shown by GetGrade with explain. Set before p
 * is published (it is immutable after); p takes a reference; NULL clears.
 * The getter's pointer lives as long as p. */
void grading_policy_set_shadow(grading_policy_t *p, grading_policy_t *shadow);
const grading_policy_t *grading_policy_shadow(const grading_policy_t *p);

grading_policy_t *grading_policy_ref(grading_policy_t *p);
void grading_policy_unref(grading_policy_t *p);   /* frees at zero; NULL is fine */

/* Content hash, GRADING_POLICY_VERSION_LEN hex chars; borrowed from p. */
const char *grading_policy_version(const grading_policy_t *p);

/* The marketplace named `name`, or the default one for NULL or "".
 * Borrowed from p. NULL if unknown. */
const grading_marketplace_t *grading_policy_marketplace(const grading_policy_t *p,
                                                        const char *name);

size_t grading_policy_marketplace_count(const grading_policy_t *p);
const grading_marketplace_t *grading_policy_marketplace_at(const grading_policy_t *p, size_t i);

#endif
