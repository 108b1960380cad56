/* JSON <-> protobuf-c by reflection (the proto3 JSON mapping).
 *
 * protobuf-c describes every message with a ProtobufCMessageDescriptor: the
 * fields' names, types, labels and their offsets in the C struct. Reading
 * walks the JSON object, finds each key's field and writes the value at
 * its offset; writing walks the fields and builds an object. Nothing here
 * knows our own messages, so every later RPC gets JSON for free.
 *
 * Memory: a message built from JSON must be freed by
 * protobuf_c_message_free_unpacked(m, NULL), so it is laid out exactly as
 * protobuf_c_message_unpack lays one out: each struct malloc'd and set up
 * by the descriptor's message_init, strings and repeated arrays malloc'd,
 * a repeated field's count covering only slots that are either filled or
 * zero (NULL frees as nothing). Each value is attached to its parent before
 * it is filled, so when reading fails midway the one free of the root
 * releases everything built so far.
 *
 * Oneofs: protobuf-c keeps the chosen member's field number in the
 * "quantifier" word (the *_case member) and packs and frees only that
 * member; we set it before writing the member so the two always agree.
 *
 * Errors name the JSON path ("events[3].order_paid.amount"), built in a
 * fixed buffer as the walk descends and cut back as it returns. */
#include "grading/pbjson.h"
#include "grading/rfc3339.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 512
#define TIMESTAMP_TYPE "google.protobuf.Timestamp"

typedef struct {
    char path[PATH_MAX_LEN];
    size_t len;
    grading_error_t *e;
    unsigned flags;
} walk_t;

/* ---- errors and paths ---- */

static grading_err_t fail_at(walk_t *w, grading_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static grading_err_t fail_at(walk_t *w, grading_err_t code, const char *fmt, ...)
{
    if (!w->e) return code;
    w->e->code = code;
    /* A path longer than the field keeps its end, the part nearest the fault. */
    size_t cap = sizeof w->e->field;
    if (w->len < cap) {
        memcpy(w->e->field, w->path, w->len + 1);
    } else {
        memcpy(w->e->field, "...", 3);
        memcpy(w->e->field + 3, w->path + w->len - (cap - 4), cap - 4);
        w->e->field[cap - 1] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->e->message, sizeof w->e->message, fmt, ap);
    va_end(ap);
    return code;
}

static grading_err_t fail_nomem(walk_t *w) { return fail_at(w, GRADING_ENOMEM, "out of memory"); }

/* Appends ".key" (or "key" at the root) and returns the length to go back to. */
static size_t path_push_key(walk_t *w, const char *key)
{
    size_t old = w->len;
    int n = snprintf(w->path + w->len, sizeof w->path - w->len, "%s%s", w->len ? "." : "", key);
    if (n > 0) w->len += (size_t)n < sizeof w->path - w->len ? (size_t)n : sizeof w->path - w->len - 1;
    return old;
}

static size_t path_push_index(walk_t *w, size_t i)
{
    size_t old = w->len;
    int n = snprintf(w->path + w->len, sizeof w->path - w->len, "[%zu]", i);
    if (n > 0) w->len += (size_t)n < sizeof w->path - w->len ? (size_t)n : sizeof w->path - w->len - 1;
    return old;
}

static void path_pop(walk_t *w, size_t old)
{
    w->len = old;
    w->path[old] = '\0';
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* ---- RFC 3339 timestamps (the parser lives in core: rfc3339.h) ---- */

grading_err_t grading_pbjson_timestamp_parse(const char *s, int64_t *out_seconds, int32_t *out_nanos,
                                             grading_error_t *e)
{
    return grading_rfc3339_parse(s, out_seconds, out_nanos, e);
}

grading_err_t grading_pbjson_timestamp_format(int64_t seconds, int32_t nanos, char *buf, size_t len)
{
    return grading_rfc3339_format(seconds, nanos, buf, len);
}

/* ---- base64 (bytes fields) ---- */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;   /* standard and URL-safe */
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decodes s (padding optional) into a new buffer; *out is NULL for "". */
static grading_err_t b64_decode(walk_t *w, const char *s, size_t n, ProtobufCBinaryData *out)
{
    while (n && s[n - 1] == '=') n--;
    if (n % 4 == 1) return fail_at(w, GRADING_EINVAL, "invalid base64: wrong length");
    out->len = 0;
    out->data = NULL;
    if (n == 0) return GRADING_OK;
    uint8_t *buf = malloc(n * 3 / 4 + 3);
    if (!buf) return fail_nomem(w);
    size_t len = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(s[i]);
        if (v < 0) {
            free(buf);
            return fail_at(w, GRADING_EINVAL, "invalid base64: character '%c' at %zu", s[i], i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[len++] = (uint8_t)(acc >> bits);
        }
    }
    out->len = len;
    out->data = buf;
    return GRADING_OK;
}

static json_t *b64_encode(const ProtobufCBinaryData *b)
{
    size_t outlen = (b->len + 2) / 3 * 4;
    char *s = malloc(outlen + 1);
    if (!s) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < b->len; i += 3) {
        uint32_t v = (uint32_t)b->data[i] << 16;
        if (i + 1 < b->len) v |= (uint32_t)b->data[i + 1] << 8;
        if (i + 2 < b->len) v |= b->data[i + 2];
        s[o++] = b64_chars[(v >> 18) & 63];
        s[o++] = b64_chars[(v >> 12) & 63];
        s[o++] = i + 1 < b->len ? b64_chars[(v >> 6) & 63] : '=';
        s[o++] = i + 2 < b->len ? b64_chars[v & 63] : '=';
    }
    s[o] = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* ---- JSON -> message ---- */

static bool is_timestamp(const ProtobufCMessageDescriptor *d) { return strcmp(d->name, TIMESTAMP_TYPE) == 0; }

static ProtobufCMessage *message_new(const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = malloc(d->sizeof_message);
    if (m) d->message_init(m);
    return m;
}

/* The JSON name protoc derives from a proto name: each '_' dropped and the
 * letter after it upper-cased ("event_id" -> "eventId"). */
static bool json_name_equals(const char *key, const char *proto_name)
{
    bool upper = false;
    for (const char *p = proto_name; *p; p++) {
        if (*p == '_') {
            upper = true;
            continue;
        }
        char want = upper ? (char)toupper((unsigned char)*p) : *p;
        upper = false;
        if (*key++ != want) return false;
    }
    return *key == '\0';
}

static const ProtobufCFieldDescriptor *field_by_key(const ProtobufCMessageDescriptor *d, const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
    if (f) return f;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (json_name_equals(key, d->fields[i].name)) return &d->fields[i];
    return NULL;
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return sizeof(int32_t);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return sizeof(int64_t);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* An integer from a JSON integer, an integral real or a decimal string,
 * within [min, max]. Unsigned types pass neg_ok = false and read into
 * *out_u so the top half of uint64 is reachable. */
static grading_err_t read_integer(walk_t *w, const json_t *v, bool is_unsigned, int64_t min, uint64_t max,
                                  int64_t *out_s, uint64_t *out_u)
{
    bool neg = false;
    uint64_t mag = 0;   /* |value| */
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        neg = i < 0;
        mag = neg ? (uint64_t)(-(i + 1)) + 1 : (uint64_t)i;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d)) return fail_at(w, GRADING_EINVAL, "expected an integer, got %g", d);
        if (d < -9223372036854775808.0 || d >= 18446744073709551616.0)
            goto range;
        neg = d < 0;
        mag = neg ? (uint64_t)(-d) : (uint64_t)d;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        const char *p = s;
        if (*p == '-') {
            neg = true;
            p++;
        }
        if (!*p) return fail_at(w, GRADING_EINVAL, "expected an integer, got \"%s\"", s);
        for (; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return fail_at(w, GRADING_EINVAL, "expected an integer, got \"%s\"", s);
            uint64_t digit = (uint64_t)(*p - '0');
            if (mag > (UINT64_MAX - digit) / 10) goto range;
            mag = mag * 10 + digit;
        }
    } else {
        return fail_at(w, GRADING_EINVAL, "expected an integer, got %s", json_kind(v));
    }
    if (neg && mag == 0) neg = false;
    if (is_unsigned) {
        if (neg || mag > max) goto range;
        *out_u = mag;
    } else {
        if (neg ? mag > (uint64_t)(-(min + 1)) + 1 : mag > max) goto range;
        *out_s = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    }
    return GRADING_OK;
range:
    if (is_unsigned) return fail_at(w, GRADING_EINVAL, "out of range: must be 0..%" PRIu64, max);
    return fail_at(w, GRADING_EINVAL, "out of range: must be %" PRId64 "..%" PRIu64, min, max);
}

static grading_err_t read_number(walk_t *w, const json_t *v, bool is_float, double *out)
{
    double d;
    if (json_is_number(v)) {
        d = json_number_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "NaN") == 0) {
            *out = NAN;
            return GRADING_OK;
        }
        if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
            *out = s[0] == '-' ? -INFINITY : INFINITY;
            return GRADING_OK;
        }
        char *end;
        errno = 0;
        d = strtod(s, &end);
        if (!*s || *end || isspace((unsigned char)*s) || isinf(d) || isnan(d))
            return fail_at(w, GRADING_EINVAL, "expected a number, got \"%s\"", s);
    } else {
        return fail_at(w, GRADING_EINVAL, "expected a number, got %s", json_kind(v));
    }
    if (is_float && (d > FLT_MAX || d < -FLT_MAX))
        return fail_at(w, GRADING_EINVAL, "out of range for a float: %g", d);
    *out = d;
    return GRADING_OK;
}

/* "one of SELLER, BUYER, ..." for an unknown enum name. */
static void enum_names(const ProtobufCEnumDescriptor *ed, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < ed->n_values && o + 1 < len; i++) {
        int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", ed->values[i].name);
        if (n < 0) break;
        o += (size_t)n;
    }
}

static grading_err_t read_message(walk_t *w, const json_t *obj, const ProtobufCMessageDescriptor *d,
                                  ProtobufCMessage *m);

/* Writes one value of field f, read from v (not null), at slot: the member
 * of a singular field or one element of a repeated one. */
static grading_err_t read_value(walk_t *w, const ProtobufCFieldDescriptor *f, const json_t *v, void *slot)
{
    grading_err_t err;
    int64_t s = 0;
    uint64_t u = 0;
    double d = 0;

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if ((err = read_integer(w, v, false, INT32_MIN, INT32_MAX, &s, &u))) return err;
        *(int32_t *)slot = (int32_t)s;
        return GRADING_OK;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if ((err = read_integer(w, v, true, 0, UINT32_MAX, &s, &u))) return err;
        *(uint32_t *)slot = (uint32_t)u;
        return GRADING_OK;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if ((err = read_integer(w, v, false, INT64_MIN, INT64_MAX, &s, &u))) return err;
        *(int64_t *)slot = s;
        return GRADING_OK;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if ((err = read_integer(w, v, true, 0, UINT64_MAX, &s, &u))) return err;
        *(uint64_t *)slot = u;
        return GRADING_OK;
    case PROTOBUF_C_TYPE_FLOAT:
        if ((err = read_number(w, v, true, &d))) return err;
        *(float *)slot = (float)d;
        return GRADING_OK;
    case PROTOBUF_C_TYPE_DOUBLE:
        if ((err = read_number(w, v, false, &d))) return err;
        *(double *)slot = d;
        return GRADING_OK;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return fail_at(w, GRADING_EINVAL, "expected true or false, got %s", json_kind(v));
        *(protobuf_c_boolean *)slot = json_is_true(v);
        return GRADING_OK;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        if (json_is_string(v)) {
            const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, json_string_value(v));
            if (!ev) {
                char names[160];
                enum_names(ed, names, sizeof names);
                return fail_at(w, GRADING_EINVAL, "unknown %s \"%s\" (one of %s)", ed->short_name,
                               json_string_value(v), names);
            }
            *(int *)slot = ev->value;
            return GRADING_OK;
        }
        if (!json_is_number(v))
            return fail_at(w, GRADING_EINVAL, "expected a %s name or number, got %s", ed->short_name, json_kind(v));
        /* Proto3 enums are open: an unlisted number is kept, as unpack does. */
        if ((err = read_integer(w, v, false, INT32_MIN, INT32_MAX, &s, &u))) return err;
        *(int *)slot = (int)s;
        return GRADING_OK;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(v)) return fail_at(w, GRADING_EINVAL, "expected a string, got %s", json_kind(v));
        size_t n = json_string_length(v);
        const char *src = json_string_value(v);
        if (memchr(src, '\0', n)) return fail_at(w, GRADING_EINVAL, "a NUL character is not allowed in a string");
        char *copy = malloc(n + 1);
        if (!copy) return fail_nomem(w);
        memcpy(copy, src, n + 1);
        *(char **)slot = copy;
        return GRADING_OK;
    }
    case PROTOBUF_C_TYPE_BYTES:
        if (!json_is_string(v))
            return fail_at(w, GRADING_EINVAL, "expected a base64 string, got %s", json_kind(v));
        return b64_decode(w, json_string_value(v), json_string_length(v), slot);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *md = f->descriptor;
        ProtobufCMessage *sub;
        if (is_timestamp(md)) {
            if (!json_is_string(v))
                return fail_at(w, GRADING_EINVAL, "expected an RFC 3339 timestamp string, got %s", json_kind(v));
            int64_t secs;
            int32_t nanos;
            grading_error_t te = {0};
            if (grading_pbjson_timestamp_parse(json_string_value(v), &secs, &nanos, &te))
                return fail_at(w, GRADING_EINVAL, "%s", te.message);
            const ProtobufCFieldDescriptor *fs = protobuf_c_message_descriptor_get_field_by_name(md, "seconds");
            const ProtobufCFieldDescriptor *fn = protobuf_c_message_descriptor_get_field_by_name(md, "nanos");
            if (!(sub = message_new(md))) return fail_nomem(w);
            *(int64_t *)((char *)sub + fs->offset) = secs;
            *(int32_t *)((char *)sub + fn->offset) = nanos;
            *(ProtobufCMessage **)slot = sub;
            return GRADING_OK;
        }
        if (!json_is_object(v)) return fail_at(w, GRADING_EINVAL, "expected an object, got %s", json_kind(v));
        if (!(sub = message_new(md))) return fail_nomem(w);
        *(ProtobufCMessage **)slot = sub;   /* attached first: freed with the root on failure */
        return read_message(w, v, md, sub);
    }
    }
    return fail_at(w, GRADING_EINVAL, "unsupported field type %d", (int)f->type);
}

static grading_err_t read_repeated(walk_t *w, const ProtobufCFieldDescriptor *f, const json_t *v,
                                   ProtobufCMessage *m)
{
    if (!json_is_array(v)) return fail_at(w, GRADING_EINVAL, "expected an array, got %s", json_kind(v));
    size_t n = json_array_size(v);
    if (n == 0) return GRADING_OK;
    size_t esz = elem_size(f->type);
    char *arr = calloc(n, esz);
    if (!arr) return fail_nomem(w);
    size_t *count = (size_t *)((char *)m + f->quantifier_offset);
    *(void **)((char *)m + f->offset) = arr;
    for (size_t i = 0; i < n; i++) {
        size_t old = path_push_index(w, i);
        const json_t *item = json_array_get(v, i);
        if (json_is_null(item)) return fail_at(w, GRADING_EINVAL, "null is not allowed in a list");
        *count = i + 1;   /* a zeroed slot frees as nothing if filling it fails */
        grading_err_t err = read_value(w, f, item, arr + i * esz);
        if (err) return err;
        path_pop(w, old);
    }
    return GRADING_OK;
}

/* A field that stores whether it is set in a has_* flag (proto2, proto3
 * `optional`): every optional type but the pointer ones. */
static bool has_flag(const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
           f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* The member of f's oneof that is set, or NULL. */
static const ProtobufCFieldDescriptor *oneof_chosen(const ProtobufCMessageDescriptor *d,
                                                    const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m)
{
    uint32_t id = *(const uint32_t *)((const char *)m + f->quantifier_offset);
    if (id == 0) return NULL;
    const ProtobufCFieldDescriptor *g = protobuf_c_message_descriptor_get_field(d, (unsigned)id);
    return g && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && g->quantifier_offset == f->quantifier_offset ? g : NULL;
}

static grading_err_t read_message(walk_t *w, const json_t *obj, const ProtobufCMessageDescriptor *d,
                                  ProtobufCMessage *m)
{
    grading_err_t err = GRADING_OK;
    bool *seen = NULL;

    if (!json_is_object(obj)) return fail_at(w, GRADING_EINVAL, "expected an object, got %s", json_kind(obj));
    if (d->n_fields && !(seen = calloc(d->n_fields, sizeof *seen))) return fail_nomem(w);

    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t old = path_push_key(w, key);
        const ProtobufCFieldDescriptor *f = field_by_key(d, key);
        if (!f) {
            err = fail_at(w, GRADING_EINVAL, "unknown field of %s", d->name);
            goto fail;
        }
        size_t idx = (size_t)(f - d->fields);
        if (seen[idx]) {
            err = fail_at(w, GRADING_EINVAL, "field %s is given twice", f->name);
            goto fail;
        }
        seen[idx] = true;
        if (json_is_null(v)) {   /* proto3: null is the default, i.e. not set */
            path_pop(w, old);
            continue;
        }
        void *slot = (char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            err = read_repeated(w, f, v, m);
        } else {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                const ProtobufCFieldDescriptor *other = oneof_chosen(d, f, m);
                if (other) {
                    err = fail_at(w, GRADING_EINVAL, "cannot be set together with %s (only one of them may be set)",
                                  other->name);
                    goto fail;
                }
                *(uint32_t *)((char *)m + f->quantifier_offset) = f->id;
            } else if (has_flag(f)) {
                *(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
            }
            err = read_value(w, f, v, slot);
        }
        if (err) goto fail;
        path_pop(w, old);
    }
fail:
    free(seen);
    return err;
}

grading_err_t grading_pbjson_to_message(const json_t *json, const ProtobufCMessageDescriptor *d,
                                        ProtobufCMessage **out, grading_error_t *e)
{
    walk_t w = {.e = e};
    grading_err_t err;
    *out = NULL;
    ProtobufCMessage *m = message_new(d);
    if (!m) return fail_nomem(&w);
    if (json && is_timestamp(d) && json_is_string(json)) {
        /* A bare Timestamp reads from its string form too. */
        int64_t secs;
        int32_t nanos;
        if ((err = grading_pbjson_timestamp_parse(json_string_value(json), &secs, &nanos, e))) goto fail;
        *(int64_t *)((char *)m + protobuf_c_message_descriptor_get_field_by_name(d, "seconds")->offset) = secs;
        *(int32_t *)((char *)m + protobuf_c_message_descriptor_get_field_by_name(d, "nanos")->offset) = nanos;
    } else if (!json) {
        err = fail_at(&w, GRADING_EINVAL, "expected an object, got nothing");
        goto fail;
    } else if ((err = read_message(&w, json, d, m))) {
        goto fail;
    }
    *out = m;
    return GRADING_OK;
fail:
    protobuf_c_message_free_unpacked(m, NULL);
    return err;
}

grading_err_t grading_pbjson_parse(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
                                   ProtobufCMessage **out, grading_error_t *e)
{
    json_error_t jerr;
    *out = NULL;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        char where[64];
        snprintf(where, sizeof where, "line %d column %d", jerr.line, jerr.column);
        return grading_error_set(e, GRADING_EINVAL, where, "invalid JSON: %s", jerr.text);
    }
    grading_err_t err = grading_pbjson_to_message(j, d, out, e);
    json_decref(j);
    return err;
}

/* ---- message -> JSON ---- */

static grading_err_t write_message(walk_t *w, const ProtobufCMessage *m, json_t **out);

static grading_err_t write_timestamp(walk_t *w, const ProtobufCMessage *ts, json_t **out)
{
    const ProtobufCMessageDescriptor *md = ts->descriptor;
    const ProtobufCFieldDescriptor *fs = protobuf_c_message_descriptor_get_field_by_name(md, "seconds");
    const ProtobufCFieldDescriptor *fn = protobuf_c_message_descriptor_get_field_by_name(md, "nanos");
    int64_t secs = *(const int64_t *)((const char *)ts + fs->offset);
    int32_t nanos = *(const int32_t *)((const char *)ts + fn->offset);
    char buf[GRADING_PBJSON_TIMESTAMP_MAX];
    if (grading_pbjson_timestamp_format(secs, nanos, buf, sizeof buf))
        return fail_at(w, GRADING_EINVAL, "timestamp %" PRId64 "s %" PRId32 "ns is out of range", secs, nanos);
    if (!(*out = json_string(buf))) return fail_nomem(w);
    return GRADING_OK;
}

static json_t *number_json(double d)
{
    if (isnan(d)) return json_string("NaN");
    if (isinf(d)) return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

/* The shortest decimal that reads back as the same float, so 0.1f prints
 * as 0.1 rather than 0.10000000149011612. */
static json_t *float_json(float f)
{
    if (!isfinite(f)) return number_json(f);
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if ((float)strtod(buf, NULL) == f) break;
    }
    return json_real(strtod(buf, NULL));
}

static grading_err_t write_value(walk_t *w, const ProtobufCFieldDescriptor *f, const void *slot, json_t **out)
{
    char buf[32];
    *out = NULL;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: *out = json_integer(*(const int32_t *)slot); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: *out = json_integer(*(const uint32_t *)slot); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, sizeof buf, "%" PRId64, *(const int64_t *)slot);
        *out = json_string(buf);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(buf, sizeof buf, "%" PRIu64, *(const uint64_t *)slot);
        *out = json_string(buf);
        break;
    case PROTOBUF_C_TYPE_FLOAT: *out = float_json(*(const float *)slot); break;
    case PROTOBUF_C_TYPE_DOUBLE: *out = number_json(*(const double *)slot); break;
    case PROTOBUF_C_TYPE_BOOL: *out = json_boolean(*(const protobuf_c_boolean *)slot); break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)slot;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        *out = ev ? json_string(ev->name) : json_integer(v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)slot;
        *out = json_string(s ? s : "");
        if (!*out && s) return fail_at(w, GRADING_EINVAL, "string is not valid UTF-8");
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: *out = b64_encode(slot); break;
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)slot;
        if (!sub) *out = json_null();
        else if (is_timestamp(sub->descriptor)) return write_timestamp(w, sub, out);
        else return write_message(w, sub, out);
        break;
    }
    }
    return *out ? GRADING_OK : fail_nomem(w);
}

/* Whether a proto3 implicit-presence field holds its default value. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return *(const uint32_t *)slot == 0;
    case PROTOBUF_C_TYPE_ENUM: return *(const int *)slot == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return *(const uint64_t *)slot == 0;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)slot == 0 && !signbit(*(const float *)slot);
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)slot == 0 && !signbit(*(const double *)slot);
    case PROTOBUF_C_TYPE_BOOL: return !*(const protobuf_c_boolean *)slot;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)slot;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)slot)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)slot == NULL;
    }
    return false;
}

static grading_err_t write_field(walk_t *w, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                                 json_t *obj)
{
    const char *base = (const char *)m;
    const void *slot = base + f->offset;
    json_t *v = NULL;
    grading_err_t err = GRADING_OK;

    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)(base + f->quantifier_offset) != f->id) return GRADING_OK;
    } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)(base + f->quantifier_offset);
        if (n == 0 && !(w->flags & GRADING_PBJSON_EMIT_DEFAULTS)) return GRADING_OK;
    } else if (has_flag(f)) {
        if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset)) return GRADING_OK;
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE ||
               (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_STRING)) {
        if (!*(const void *const *)slot) return GRADING_OK;   /* presence is the pointer */
    } else if (f->label == PROTOBUF_C_LABEL_NONE && is_default(f, slot) &&
               !(w->flags & GRADING_PBJSON_EMIT_DEFAULTS)) {
        return GRADING_OK;
    }

    size_t old = path_push_key(w, f->name);
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)(base + f->quantifier_offset);
        const char *arr = *(char *const *)slot;
        size_t esz = elem_size(f->type);
        if (!(v = json_array())) {
            err = fail_nomem(w);
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            size_t at = path_push_index(w, i);
            json_t *item;
            if ((err = write_value(w, f, arr + i * esz, &item))) goto fail;
            if (json_array_append_new(v, item)) {
                err = fail_nomem(w);
                goto fail;
            }
            path_pop(w, at);
        }
    } else if ((err = write_value(w, f, slot, &v))) {
        goto fail;
    }
    if (json_object_set_new(obj, f->name, v)) {
        v = NULL;   /* set_new consumed it even on failure */
        err = fail_nomem(w);
        goto fail;
    }
    path_pop(w, old);
    return GRADING_OK;
fail:
    json_decref(v);
    return err;
}

static grading_err_t write_message(walk_t *w, const ProtobufCMessage *m, json_t **out)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    grading_err_t err;
    json_t *obj = json_object();
    *out = NULL;
    if (!obj) return fail_nomem(w);
    for (unsigned i = 0; i < d->n_fields; i++)
        if ((err = write_field(w, m, &d->fields[i], obj))) goto fail;
    *out = obj;
    return GRADING_OK;
fail:
    json_decref(obj);
    return err;
}

grading_err_t grading_pbjson_from_message(const ProtobufCMessage *m, unsigned flags, json_t **out,
                                          grading_error_t *e)
{
    walk_t w = {.e = e, .flags = flags};
    return write_message(&w, m, out);
}
