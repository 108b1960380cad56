/* JSON <-> protobuf-c messages, for any message type, by reflection.
 *
 * Follows the proto3 JSON mapping, with the field names of the .proto file:
 *   - an object key is the field's proto name ("event_id"); its
 *     lowerCamelCase JSON name ("eventId") is accepted too. An unknown key,
 *     or a field given twice (under either name), is an error.
 *   - 64-bit integers are read from a JSON number or a decimal string and
 *     written as strings (a double cannot hold them beyond 2^53); 32-bit
 *     integers are numbers. An integral real ("5.0") is taken as an integer.
 *   - float and double are numbers; "NaN", "Infinity", "-Infinity" and
 *     numeric strings are accepted and written for the non-finite values.
 *   - enums are written by name and read by name or by number.
 *   - bytes are base64 (standard or URL-safe, padding optional).
 *   - google.protobuf.Timestamp is an RFC 3339 string: read
 *     "2026-10-05T09:30:00Z", "2026-10-05T09:30:00.25+09:00" (0 to 9
 *     fractional digits, Z or an offset), written in UTC with 0, 3, 6 or 9
 *     fractional digits.
 *   - a oneof takes at most one of its members; null means "not set" for
 *     any field.
 *   - a repeated field is a JSON array.
 * Map fields are not special-cased: protobuf-c shows them as repeated
 * entry messages, read and written as arrays of {"key": .., "value": ..}.
 *
 * Errors carry the JSON path of the bad value in grading_error_t.field
 * ("events[3].order_paid.amount") and what was wrong in .message
 * ("expected an integer, got a string"). */
#ifndef GRADING_PBJSON_H
#define GRADING_PBJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "grading/err.h"

/* Flags of grading_pbjson_from_message. */
enum {
    /* Also write scalar fields that hold their default value (0, "",
     * false, the first enum value) and empty repeated fields, so a script
     * reads 0 rather than a missing key. Unset sub-messages and unset
     * oneof members are still left out. */
    GRADING_PBJSON_EMIT_DEFAULTS = 1 << 0,
};

/* Room for a formatted timestamp, "9999-12-31T23:59:59.999999999Z" + NUL. */
#define GRADING_PBJSON_TIMESTAMP_MAX 32   /* == GRADING_RFC3339_MAX */

/* Builds a message of type d from json, which must be a JSON object.
 * On success *out is a new message the caller frees with
 * protobuf_c_message_free_unpacked(*out, NULL): everything in it is
 * allocated with malloc, as protobuf_c_message_unpack would. On failure
 * *out is NULL and e (when not NULL) names the path and the fault.
 * Errors: GRADING_EINVAL (wrong JSON type, unknown field, field given
 * twice, two members of one oneof, value out of range, unknown enum name,
 * bad base64 or timestamp), GRADING_ENOMEM. */
grading_err_t grading_pbjson_to_message(const json_t *json, const ProtobufCMessageDescriptor *d,
                                        ProtobufCMessage **out, grading_error_t *e);

/* Parses text (len bytes, need not be NUL-terminated) as one JSON object
 * with jansson (duplicate keys rejected) and converts it as
 * grading_pbjson_to_message does. A syntax error is reported with
 * e->field "line L column C" and jansson's message.
 * Errors: GRADING_EINVAL, GRADING_ENOMEM. */
grading_err_t grading_pbjson_parse(const char *text, size_t len, const ProtobufCMessageDescriptor *d,
                                   ProtobufCMessage **out, grading_error_t *e);

/* Converts m to a new JSON object (the caller owns it: json_decref),
 * proto field names as keys, per the mapping above; flags is 0 or
 * GRADING_PBJSON_EMIT_DEFAULTS. Unknown fields kept by protobuf-c are
 * left out. Errors: GRADING_EINVAL (a string field that is not UTF-8, a
 * Timestamp outside 0001..9999; e names the field), GRADING_ENOMEM. */
grading_err_t grading_pbjson_from_message(const ProtobufCMessage *m, unsigned flags, json_t **out,
                                          grading_error_t *e);

/* Parses an RFC 3339 timestamp ("2026-10-05T09:30:00Z",
 * "2026-10-05T18:30:00.5+09:00"; 'T'/'Z' in either case) into seconds
 * since the Unix epoch and nanoseconds (0..999,999,999). Years 0001..9999.
 * Errors: GRADING_EINVAL, with e->message saying what part is wrong
 * (e->field is left empty for the caller to fill). */
grading_err_t grading_pbjson_timestamp_parse(const char *s, int64_t *out_seconds, int32_t *out_nanos,
                                             grading_error_t *e);

/* Writes seconds + nanos as RFC 3339 in UTC into buf (at least
 * GRADING_PBJSON_TIMESTAMP_MAX bytes): no fraction when nanos is 0, else
 * 3, 6 or 9 digits, whichever is exact.
 * Errors: GRADING_EINVAL (nanos outside 0..999,999,999, a year outside
 * 0001..9999, or len too small; buf is then ""). */
grading_err_t grading_pbjson_timestamp_format(int64_t seconds, int32_t nanos, char *buf, size_t len);

#endif
