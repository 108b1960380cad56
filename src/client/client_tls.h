/* The client's TLS credentials and call headers (client.c's helpers). */
#ifndef GRADING_RPC_CLIENT_TLS_H
#define GRADING_RPC_CLIENT_TLS_H

#include <grpc/grpc_security.h>

#include "grading/client.h"

/* TLS credentials from o's PEM files; *e names the flag of a bad file. */
grading_err_t grading_client_tls_credentials(const grading_client_options_t *o, grpc_channel_credentials **out,
                                             grading_error_t *e);

/* The headers of o (bearer token first) as grpc metadata with owned
 * slices, at most GRADING_CLIENT_MAX_HEADERS. */
grading_err_t grading_client_headers(const grading_client_options_t *o, grpc_metadata *md, size_t *n,
                                     grading_error_t *e);
void grading_client_headers_free(grpc_metadata *md, size_t n);

#endif
