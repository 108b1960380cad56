/* protobuf-c <-> grpc_byte_buffer. A received buffer may be a chain of
 * slices (and compressed on the wire); the reader flattens it once. */
#include "grading/pb.h"

#include "grading/pbcheck.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <stdlib.h>

grpc_byte_buffer *grading_pb_to_buffer(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    grpc_slice slice = grpc_slice_malloc(len);
    protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(slice));
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return bb;
}

grading_err_t grading_pb_from_buffer(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *d,
                                     size_t max_bytes, ProtobufCMessage **out)
{
    *out = NULL;
    if (!bb) {
        *out = protobuf_c_message_unpack(d, NULL, 0, (const uint8_t *)"");
        return *out ? GRADING_OK : GRADING_ENOMEM;
    }
    if (grpc_byte_buffer_length(bb) > max_bytes) return GRADING_EFULL;
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, bb)) return GRADING_EINVAL;
    grpc_slice flat = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    *out = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(flat), GRPC_SLICE_START_PTR(flat));
    grpc_slice_unref(flat);
    return *out ? GRADING_OK : GRADING_EINVAL;
}

grading_err_t grading_pb_from_buffer_checked(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *d,
                                             size_t max_bytes, ProtobufCMessage **out, grading_error_t *e)
{
    *out = NULL;
    if (!bb) return grading_pb_decode(d, NULL, 0, out, e);
    if (grpc_byte_buffer_length(bb) > max_bytes)
        return grading_error_set(e, GRADING_EFULL, "", "request is larger than the server accepts");
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return grading_error_set(e, GRADING_EINVAL, "", "request is not a valid protobuf message");
    grpc_slice flat = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    grading_err_t err = grading_pb_decode(d, GRPC_SLICE_START_PTR(flat), GRPC_SLICE_LENGTH(flat), out, e);
    grpc_slice_unref(flat);
    return err;
}
