/* Error names and the person-facing error record. */
#include "grading/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *grading_err_name(grading_err_t err)
{
    switch (err) {
    case GRADING_OK: return "OK";
    case GRADING_EINVAL: return "EINVAL";
    case GRADING_ENOMEM: return "ENOMEM";
    case GRADING_ENOTFOUND: return "ENOTFOUND";
    case GRADING_EFULL: return "EFULL";
    case GRADING_EIO: return "EIO";
    case GRADING_ESTATE: return "ESTATE";
    case GRADING_ESHUTDOWN: return "ESHUTDOWN";
    case GRADING_ECORRUPT: return "ECORRUPT";
    case GRADING_EUNIMPL: return "EUNIMPL";
    case GRADING_ERANGE: return "ERANGE";
    case GRADING_EEXIST: return "EEXIST";
    }
    return "EUNKNOWN";
}

grading_err_t grading_error_set(grading_error_t *e, grading_err_t code,
                                const char *field, const char *fmt, ...)
{
    if (!e) return code;
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return code;
}

void grading_error_format(const grading_error_t *e, char *buf, size_t len)
{
    if (e->field[0])
        snprintf(buf, len, "%s: %s", e->field, e->message);
    else
        snprintf(buf, len, "%s", e->message);
}
