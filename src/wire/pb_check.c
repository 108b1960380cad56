/* The raw-wire string check (pbcheck.h).
 *
 * A small protobuf reader: tag, then the value by wire type. Only
 * length-delimited values matter: a string field's bytes are checked, a
 * message field's are walked recursively, everything else is skipped. The
 * path of a repeated field carries the occurrence's index, counted per
 * field, which is the index protobuf-c gives the element after unpacking. */
#include "grading/pbcheck.h"

#include <stdio.h>
#include <string.h>

#include "grading/text.h"

#define MAX_PATH 160

typedef struct {
    const uint8_t *p, *end;
} cursor_t;

static bool read_varint(cursor_t *c, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end) return false;
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* A tag as protobuf-c reads it (its field lookup decides what a value is,
 * so the check must see the same number): at most 5 bytes, the number
 * truncated to 32 bits; the wire type is the first byte's low 3 bits. */
static bool read_tag(cursor_t *c, uint32_t *num, uint32_t *wire_type)
{
    size_t avail = (size_t)(c->end - c->p), max = avail > 5 ? 5 : avail;
    const uint8_t *d = c->p;
    uint32_t tag = (uint32_t)(d[0] & 0x7f) >> 3;
    unsigned shift = 4;
    *wire_type = d[0] & 7;
    if (!(d[0] & 0x80)) {
        c->p += 1;
        *num = tag;
        return true;
    }
    for (size_t i = 1; i < max; i++) {
        tag |= (uint32_t)(d[i] & 0x7f) << shift;
        if (!(d[i] & 0x80)) {
            c->p += i + 1;
            *num = tag;
            return true;
        }
        shift += 7;
    }
    return false;
}

/* A length prefix as protobuf-c reads it: at most 5 bytes. */
static bool read_length(cursor_t *c, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 5; i++) {
        if (c->p >= c->end) return false;
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool skip(cursor_t *c, size_t n)
{
    if ((size_t)(c->end - c->p) < n) return false;
    c->p += n;
    return true;
}

static grading_err_t not_protobuf(grading_error_t *e)
{
    return grading_error_set(e, GRADING_EINVAL, "", "request is not a valid protobuf message");
}

/* Where a value sits: its field and occurrence, and the message holding
 * it. The path text is built only for an error, so a clean request costs
 * no formatting (a 1,000-id GetRankingBoosts stays a cheap walk). */
typedef struct frame {
    const struct frame *parent;
    const ProtobufCFieldDescriptor *f;   /* NULL: the top message */
    unsigned index;
} frame_t;

static void format_path(const frame_t *fr, char *buf, size_t len)
{
    if (!fr || !fr->f) {
        buf[0] = 0;
        return;
    }
    format_path(fr->parent, buf, len);
    size_t n = strlen(buf);
    const char *dot = n ? "." : "";
    if (fr->f->label == PROTOBUF_C_LABEL_REPEATED)
        snprintf(buf + n, len - n, "%s%s[%u]", dot, fr->f->name, fr->index);
    else
        snprintf(buf + n, len - n, "%s%s", dot, fr->f->name);
}

static grading_err_t check_string(const frame_t *fr, const uint8_t *s, size_t n, grading_error_t *e)
{
    const void *nul = memchr(s, 0, n);
    size_t bad = 0;
    if (!nul && grading_utf8_valid((const char *)s, n, &bad)) return GRADING_OK;
    char path[MAX_PATH];
    format_path(fr, path, sizeof path);
    if (nul)
        return grading_error_set(e, GRADING_EINVAL, path, "contains a NUL byte (at byte %zu of %zu)",
                                 (size_t)((const uint8_t *)nul - s), n);
    return grading_error_set(e, GRADING_EINVAL, path, "is not valid UTF-8 (at byte %zu of %zu)", bad, n);
}

static grading_err_t walk(const ProtobufCMessageDescriptor *d, cursor_t c, const frame_t *at, int depth,
                          grading_error_t *e)
{
    if (depth > GRADING_PBCHECK_MAX_DEPTH) {
        char path[MAX_PATH];
        format_path(at, path, sizeof path);
        return grading_error_set(e, GRADING_EINVAL, path, "is nested too deeply");
    }
    unsigned seen[64] = {0};   /* occurrences per field index, for repeated paths */
    while (c.p < c.end) {
        uint64_t v;
        uint32_t num, wt;
        /* read as protobuf-c does: an oversized number it truncates, so the
         * check must too, or a string could pass as an unknown field (the
         * fuzzer found a difference here) */
        if (!read_tag(&c, &num, &wt)) return not_protobuf(e);
        switch (wt) {
        case 0:
            if (!read_varint(&c, &v)) return not_protobuf(e);
            continue;
        case 1:
            if (!skip(&c, 8)) return not_protobuf(e);
            continue;
        case 5:
            if (!skip(&c, 4)) return not_protobuf(e);
            continue;
        case 2:
            break;
        default:   /* groups do not exist in proto3 */
            return not_protobuf(e);
        }
        if (!read_length(&c, &v) || v > (uint64_t)(c.end - c.p)) return not_protobuf(e);
        const uint8_t *val = c.p;
        size_t n = (size_t)v;
        c.p += n;
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, num);
        if (!f || (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)) continue;
        size_t fi = (size_t)(f - d->fields);
        frame_t fr = {at, f, 0};
        if (f->label == PROTOBUF_C_LABEL_REPEATED && fi < 64) fr.index = seen[fi]++;
        grading_err_t err = f->type == PROTOBUF_C_TYPE_STRING
                                ? check_string(&fr, val, n, e)
                                : walk(f->descriptor, (cursor_t){val, val + n}, &fr, depth + 1, e);
        if (err) return err;
    }
    return GRADING_OK;
}

grading_err_t grading_pb_check_strings(const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                                       size_t len, grading_error_t *e)
{
    if (!len) return GRADING_OK;
    frame_t top = {NULL, NULL, 0};
    return walk(d, (cursor_t){buf, buf + len}, &top, 0, e);
}

grading_err_t grading_pb_decode(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                                ProtobufCMessage **out, grading_error_t *e)
{
    *out = NULL;
    grading_err_t err = grading_pb_check_strings(d, buf, len, e);
    if (err) return err;
    *out = protobuf_c_message_unpack(d, NULL, len, len ? buf : (const uint8_t *)"");
    if (!*out) return not_protobuf(e);
    return GRADING_OK;
}
