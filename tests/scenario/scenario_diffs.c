/* Small pieces the closes and the exemptions share: a list of differences
 * and the ingest writer's clock at the case's as_of. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scenario.h"

void scn_differ(scn_diffs_t *d, const char *fmt, ...)
{
    if (d->len < d->cap) {
        if (!d->ok) d->len += (size_t)snprintf(d->msg + d->len, d->cap - d->len, "; ");
        if (d->len < d->cap) {
            va_list ap;
            va_start(ap, fmt);
            d->len += (size_t)vsnprintf(d->msg + d->len, d->cap - d->len, fmt, ap);
            va_end(ap);
        }
    }
    d->ok = false;
}

int64_t scn_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

bool scn_case_own_store(const scn_case_t *c)
{
    return c->ncloses || c->nexemptions;
}

bool scn_answer_check(scn_diffs_t *d, const char *what, grading_err_t err, const grading_error_t *e,
                      bool expect_error, const char *text)
{
    char why[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 32];
    if (err) {
        char detail[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 4];
        grading_error_format(e, detail, sizeof detail);
        snprintf(why, sizeof why, "%s: %s", grading_err_name(err), detail);
        if (!expect_error)
            scn_differ(d, "%s failed: %s", what, why);
        else if (!strstr(why, text))
            scn_differ(d, "%s: expected an error containing \"%s\", got \"%s\"", what, text, why);
        return false;
    }
    if (expect_error) {
        scn_differ(d, "%s: expected an error containing \"%s\", got success", what, text);
        return false;
    }
    return true;
}
