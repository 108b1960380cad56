/* UTF-8 and identifier checks on strings as received (text.h). */
#include "grading/text.h"

#include <stdint.h>

/* Length of the sequence starting at s[i], or 0 when it is malformed. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t i)
{
    unsigned char c = s[i];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t min, cp;
    if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000, cp = c & 0x07;
    else return 0;   /* a continuation byte, C0/C1 (overlong) or F5..FF */
    if (n - i < len) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

bool grading_utf8_valid(const char *s, size_t n, size_t *bad_at)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(u, n, i);
        if (!len) {
            if (bad_at) *bad_at = i;
            return false;
        }
        i += len;
    }
    return true;
}

const char *grading_id_problem(const char *s, size_t n, size_t max, size_t *bad_at)
{
    size_t at = 0;
    const char *why = NULL;
    if (!s || n == 0) {
        why = "is required";
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0) why = "must not contain a NUL byte";
        else if (c == ' ') why = "must not contain spaces";
        else if (c < 0x20 || c == 0x7F) why = "must not contain control characters";
        else if (c >= 0x80) why = "must be printable ASCII (no non-ASCII bytes)";
        if (why) {
            at = i;
            goto done;
        }
    }
    if (n > max) {
        at = max;
        why = "is too long";
    }
done:
    if (bad_at) *bad_at = at;
    return why;
}
