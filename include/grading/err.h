/* Error codes and the error a person can act on.
 *
 * Every function that can fail returns grading_err_t (0 is OK). Where the
 * caller must tell a person what was wrong, a grading_error_t carries the
 * code, the field (or file:line:col) and a one-line message. */
#ifndef GRADING_ERR_H
#define GRADING_ERR_H

#include <stddef.h>

typedef enum {
    GRADING_OK = 0,
    GRADING_EINVAL = -1,      /* bad input: INVALID_ARGUMENT */
    GRADING_ENOMEM = -2,      /* allocation failed */
    GRADING_ENOTFOUND = -3,   /* unknown marketplace, seller, key */
    GRADING_EFULL = -4,       /* store full / batch too large: RESOURCE_EXHAUSTED */
    GRADING_EIO = -5,         /* disk, LMDB or file error */
    GRADING_ESTATE = -6,      /* FAILED_PRECONDITION */
    GRADING_ESHUTDOWN = -7,   /* shutting down: UNAVAILABLE */
    GRADING_ECORRUPT = -8,    /* stored record fails to decode */
    GRADING_EUNIMPL = -9,     /* not implemented yet */
    GRADING_ERANGE = -10,     /* a sum or time out of range: OUT_OF_RANGE */
    GRADING_EEXIST = -11      /* the id exists with other content: ALREADY_EXISTS (issue 15) */
} grading_err_t;

#define GRADING_ERROR_FIELD_MAX 128
#define GRADING_ERROR_MSG_MAX 256

typedef struct {
    grading_err_t code;
    char field[GRADING_ERROR_FIELD_MAX];  /* "events[3].order_paid.amount" */
    char message[GRADING_ERROR_MSG_MAX];  /* "must be >= 0, got -5" */
} grading_error_t;

/* Returns a static string naming the code ("EINVAL"). Never NULL. */
const char *grading_err_name(grading_err_t err);

/* Fills *e (when e is not NULL) and returns code, so a caller can write
 * `return grading_error_set(e, GRADING_EINVAL, "amount", "must be >= 0");`.
 * The message is printf-formatted; field may be NULL or "". */
grading_err_t grading_error_set(grading_error_t *e, grading_err_t code,
                                const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Formats "field: message" (or just the message) into buf. */
void grading_error_format(const grading_error_t *e, char *buf, size_t len);

#endif
