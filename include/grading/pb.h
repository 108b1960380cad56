/* protobuf-c messages <-> grpc byte buffers, shared by server and clients. */
#ifndef GRADING_PB_H
#define GRADING_PB_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "grading/err.h"

/* Serialises m into a new byte buffer the caller owns
 * (grpc_byte_buffer_destroy). Returns NULL on allocation failure. */
grpc_byte_buffer *grading_pb_to_buffer(const ProtobufCMessage *m);

/* Decodes bb as a message of type d. *out is owned by the caller
 * (protobuf_c_message_free_unpacked(*out, NULL)). A NULL bb decodes as an
 * empty message. Errors: GRADING_EINVAL (not a valid message),
 * GRADING_EFULL (larger than max_bytes), GRADING_ENOMEM. */
grading_err_t grading_pb_from_buffer(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *d,
                                     size_t max_bytes, ProtobufCMessage **out);

/* grading_pb_from_buffer, and every string field checked on the wire
 * first (pbcheck.h): valid UTF-8, no NUL byte. *e names the field.
 * Errors: GRADING_EINVAL, GRADING_EFULL (larger than max_bytes). */
grading_err_t grading_pb_from_buffer_checked(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *d,
                                             size_t max_bytes, ProtobufCMessage **out, grading_error_t *e);

#endif
