/* The name of a gRPC status code, shared by the server and the clients. */
#ifndef GRADING_STATUS_NAME_H
#define GRADING_STATUS_NAME_H

#include <grpc/status.h>

/* The name of a status code ("INVALID_ARGUMENT"). */
const char *grading_status_name(grpc_status_code s);

#endif
