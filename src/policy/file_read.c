/* Reads a policy or authz file whole, with the loader's diagnostics: the
 * two loaders differ in what they make of the text, not in how it is read. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

static void file_diag(grading_policy_diags_t *diags, const char *path, const char *message)
{
    diags->count = 1;
    snprintf(diags->diags[0].where, sizeof diags->diags[0].where, "%s", path);
    snprintf(diags->diags[0].message, sizeof diags->diags[0].message, "%s", message);
}

grading_err_t loader_read_file(const char *path, size_t max_bytes, char **out_text, size_t *out_len,
                               grading_policy_diags_t *diags)
{
    *out_text = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char msg[160];
        snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
        file_diag(diags, path, msg);
        return GRADING_EIO;
    }
    char *text = malloc(max_bytes + 1);
    size_t len = text ? fread(text, 1, max_bytes + 1, f) : 0;
    bool err = ferror(f) != 0;
    fclose(f);
    if (!text) return GRADING_ENOMEM;
    if (err || len > max_bytes) {
        char msg[64];
        if (err) snprintf(msg, sizeof msg, "read error");
        else if (max_bytes % (1024 * 1024) == 0) snprintf(msg, sizeof msg, "larger than %zu MiB", max_bytes >> 20);
        else snprintf(msg, sizeof msg, "larger than %zu bytes", max_bytes);
        file_diag(diags, path, msg);
        free(text);
        return GRADING_EIO;
    }
    *out_text = text;
    *out_len = len;
    return GRADING_OK;
}
