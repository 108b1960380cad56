/* What client_stream.c needs of client.c's client: a call on its channel
 * and completion queue, and the headers sent with every call. */
#ifndef GRADING_CLIENT_INTERNAL_H
#define GRADING_CLIENT_INTERNAL_H

#include <grpc/grpc.h>

#include "grading/client.h"

grpc_call *client_create_call(grading_client_t *c, const char *method, gpr_timespec deadline);
grpc_completion_queue *client_cq(grading_client_t *c);
const grpc_metadata *client_metadata(grading_client_t *c, size_t *n);
/* A NUL-terminated copy of s (the caller frees it); NULL when out of memory. */
char *client_dup_slice(grpc_slice s);

#endif
