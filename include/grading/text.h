/* What a string received from a client may hold.
 *
 * protobuf-c checks neither UTF-8 nor embedded NULs, and hands strings to C
 * as NUL-terminated, so "a\0x" would silently become "a". These checks
 * work on (pointer, length) as received, before anything is truncated. */
#ifndef GRADING_TEXT_H
#define GRADING_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). Otherwise *bad_at (if not NULL) gets
 * the offset of the first byte of the first bad sequence. */
bool grading_utf8_valid(const char *s, size_t n, size_t *bad_at);

/* Why an identifier (event, seller, order, product, inquiry id, marketplace,
 * custom counter name) is refused, or NULL when it is fine. Ids are keys and
 * appear in logs, so they hold 1..max bytes of printable ASCII (0x21..0x7E):
 * no NUL, spaces, control characters or non-ASCII bytes (which also keeps
 * "e\xcc\x81" and "\xc3\xa9" from being two spellings of one seller).
 * *bad_at gets the offset of the refused byte (0 when empty). */
const char *grading_id_problem(const char *s, size_t n, size_t max, size_t *bad_at);

#endif
