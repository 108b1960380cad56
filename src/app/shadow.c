/* --shadow-policy: the shadow is read with the live policy, at start-up
 * and on every reload, so the pair a derive sees is always consistent. */
#include "shadow.h"

#include <stdlib.h>

#include "grading/log.h"

bool app_shadow_attach(const char *path, grading_policy_t *p, grading_policy_t *fallback)
{
    grading_policy_diags_t *diags = calloc(1, sizeof *diags);
    grading_policy_t *shadow = NULL;
    bool ok = diags && grading_policy_load_file(path, &shadow, diags) == GRADING_OK;
    if (!ok) {
        grading_log(GRADING_LOG_ERROR, "shadow policy %s rejected%s", path,
                    fallback ? ", keeping the current one" : "");
        for (size_t i = 0; diags && i < diags->count && i < GRADING_POLICY_MAX_DIAGS; i++)
            grading_log(GRADING_LOG_ERROR, "shadow policy: %s: %s", diags->diags[i].where, diags->diags[i].message);
        grading_policy_set_shadow(p, fallback);
    } else {
        grading_policy_set_shadow(p, shadow);
        grading_log(GRADING_LOG_INFO, "shadow policy %s loaded, version %s", path, grading_policy_version(shadow));
    }
    grading_policy_unref(shadow);
    free(diags);
    return ok;
}
