/* A minimal HTTP/1.0 GET client for the admin port (gradectl backup, the
 * tests): numeric loopback or cluster addresses, no TLS, no redirects.
 * HTTP/1.0 makes the server send the body until it closes, so a streamed
 * backup needs no chunked decoding. */
#ifndef GRADING_HTTP_GET_H
#define GRADING_HTTP_GET_H

#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"

/* GETs path from addr ("127.0.0.1:9464", "[::1]:9464"); writes the body to
 * fd. *status is the HTTP status. Every wait is bounded by timeout_ms of
 * silence (not total time: a large backup may take long). *bytes: body
 * bytes written (may be NULL). Errors: GRADING_EINVAL (bad address),
 * GRADING_EIO (connect, I/O, timeout, malformed reply; *e says which). */
grading_err_t grading_http_get_fd(const char *addr, const char *path, int fd, int64_t timeout_ms, int *status,
                                  uint64_t *bytes, grading_error_t *e);

/* The same into a malloc'd NUL-terminated buffer (*body, caller frees). */
grading_err_t grading_http_get(const char *addr, const char *path, int64_t timeout_ms, int *status, char **body,
                               grading_error_t *e);

#endif
