/* TLS for the gRPC port: the server's certificate, key and (for mTLS) the
 * client CA, re-read when the files change (cert-manager rotates them by
 * swapping a symlink) or when asked (SIGHUP). Private to src/rpc. */
#ifndef GRADING_RPC_TLS_H
#define GRADING_RPC_TLS_H

#include <grpc/grpc_security.h>

#include "grading/err.h"

typedef struct rpc_tls rpc_tls_t;

/* Loads and checks the files (the key must be the certificate's; the CA
 * file, when given, must hold a certificate). client_ca may be NULL: then
 * no client certificate is asked for. *e names the bad flag's file. */
grading_err_t rpc_tls_new(const char *cert, const char *key, const char *client_ca, rpc_tls_t **out,
                          grading_error_t *e);

/* New server credentials whose configuration grpc fetches from t before
 * every handshake (so a rotation applies to the next connection). The
 * caller releases them; t must outlive the server they are added to. */
grpc_server_credentials *rpc_tls_server_credentials_new(rpc_tls_t *t);

/* The next handshake re-reads the files even if they look unchanged. */
void rpc_tls_recheck(rpc_tls_t *t);

/* How many times a changed set of files was taken into use (tests, logs). */
unsigned rpc_tls_reloads(rpc_tls_t *t);

void rpc_tls_free(rpc_tls_t *t);

#endif
