/* The server's trust boundary: TLS credentials, the caller's identity and
 * the per-RPC authorization (authz.h). Private to src/rpc; server.c only
 * creates it, takes credentials from it and asks rpc_authorize per call. */
#ifndef GRADING_RPC_SECURITY_H
#define GRADING_RPC_SECURITY_H

#include <grpc/grpc_security.h>
#include <stdbool.h>

#include "grading/authz.h"
#include "grading/server.h"

typedef struct rpc_security rpc_security_t;
typedef struct call_slot call_slot_t;

grading_err_t rpc_security_new(const grading_server_options_t *opts, rpc_security_t **out, grading_error_t *e);
void rpc_security_free(rpc_security_t *sec);

/* The port's credentials (TLS when configured, else plaintext); the
 * caller releases them. NULL when out of memory. */
grpc_server_credentials *rpc_security_credentials_new(rpc_security_t *sec);

/* Names the caller of s (s->caller, for logs and the audit) and, with an
 * authz file, decides: true to go on; false after answering the call
 * (UNAUTHENTICATED or PERMISSION_DENIED). s->request and s->policy are set. */
bool rpc_authorize(rpc_security_t *sec, call_slot_t *s);

/* The server's security (server.c). */
rpc_security_t *rpc_server_security(grading_server_t *srv);

#endif
