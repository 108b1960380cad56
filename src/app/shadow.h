/* --shadow-policy (issue 14): loading the shadow file and attaching it to
 * a live policy before the policy is published. */
#ifndef GRADING_APP_SHADOW_H
#define GRADING_APP_SHADOW_H

#include <stdbool.h>

#include "grading/policy.h"

/* Loads path (checked like the policy: every problem logged with
 * file:line:col) and attaches it to p. On a bad file attaches fallback
 * instead (the shadow in use; may be NULL) and returns false. */
bool app_shadow_attach(const char *path, grading_policy_t *p, grading_policy_t *fallback);

#endif
