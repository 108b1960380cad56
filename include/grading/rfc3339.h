/* RFC 3339 timestamps, as the proto Timestamp's JSON form writes them. */
#ifndef GRADING_RFC3339_H
#define GRADING_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"

/* Room for the longest timestamp grading_rfc3339_format writes, NUL included. */
#define GRADING_RFC3339_MAX 32

/* Parses an RFC 3339 timestamp ("2026-10-05T09:30:00Z",
 * "2026-10-05T18:30:00.5+09:00"; 'T'/'Z' in either case) into seconds
 * since the Unix epoch and nanoseconds (0..999,999,999). Years 0001..9999.
 * Errors: GRADING_EINVAL, with e->message saying what part is wrong
 * (e->field is left empty for the caller to fill). */
grading_err_t grading_rfc3339_parse(const char *s, int64_t *out_seconds, int32_t *out_nanos,
                                    grading_error_t *e);

/* Writes seconds + nanos as RFC 3339 in UTC into buf (at least
 * GRADING_RFC3339_MAX bytes): no fraction when nanos is 0, else 3, 6 or 9
 * digits, whichever is exact.
 * Errors: GRADING_EINVAL (nanos outside 0..999,999,999, a year outside
 * 0001..9999, or len too small; buf is then ""). */
grading_err_t grading_rfc3339_format(int64_t seconds, int32_t nanos, char *buf, size_t len);

#endif
