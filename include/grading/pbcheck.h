/* Strings as they are on the wire, before protobuf-c unpacks them.
 *
 * protobuf-c checks no UTF-8 and hands strings to C NUL-terminated, so a
 * string with an embedded NUL silently loses its tail ("a\0x" would be
 * seller "a") and invalid UTF-8 would be echoed back to strict clients.
 * This walks the raw message with its descriptor and refuses both, naming
 * the field by its proto path ("events[3].seller_id"). It depends on
 * protobuf-c only, so a fuzz target can link it without gRPC. */
#ifndef GRADING_PBCHECK_H
#define GRADING_PBCHECK_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"

/* Nesting deeper than this is refused (ours is 3 deep). */
#define GRADING_PBCHECK_MAX_DEPTH 16

/* Checks every string field of the message of type d in buf[0..len),
 * nested messages included: valid UTF-8 and no NUL byte. Unknown fields are
 * skipped. Errors: GRADING_EINVAL with *e naming the field ("contains a
 * NUL byte at offset 1", "is not valid UTF-8 (byte 0 of 2)"), or with an
 * empty field when the bytes are not a protobuf message at all. */
grading_err_t grading_pb_check_strings(const ProtobufCMessageDescriptor *d, const uint8_t *buf,
                                       size_t len, grading_error_t *e);

/* grading_pb_check_strings, then protobuf_c_message_unpack. *out is the
 * caller's (protobuf_c_message_free_unpacked(*out, NULL)).
 * Errors: GRADING_EINVAL (*e says why; an unpack that fails, for lack of
 * memory too, reads as "not a valid protobuf message"). */
grading_err_t grading_pb_decode(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                                ProtobufCMessage **out, grading_error_t *e);

#endif
