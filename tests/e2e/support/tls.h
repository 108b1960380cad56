/* End-to-end test support for TLS: certificates made in the test with the
 * openssl CLI (Debian's `openssl`; $OPENSSL overrides /usr/bin/openssl),
 * EC P-256 keys so making them is quick. Every failure fails the test
 * with openssl's own words. */
#ifndef E2E_TLS_H
#define E2E_TLS_H

#include <stdbool.h>

#include "testsrv.h"

typedef struct {
    char key[E2E_PATH_MAX];   /* PEM private key */
    char pem[E2E_PATH_MAX];   /* PEM certificate */
} e2e_cert_t;

/* A self-signed CA named name in dir (dir/name.key, dir/name.pem). */
void e2e_ca_make(const char *dir, const char *name, e2e_cert_t *ca);

/* A certificate for cn signed by ca, with subjectAltName san (like
 * "DNS:localhost,IP:127.0.0.1" or "URI:spiffe://shop/search"; NULL for
 * none), valid from now for a day, or with expired, only for a day in
 * 2020. Files dir/name.key and dir/name.pem. */
void e2e_cert_make(const char *dir, const char *name, const e2e_cert_t *ca, const char *cn, const char *san,
                   bool expired, e2e_cert_t *out);

/* A server certificate for the loopback addresses. */
void e2e_server_cert_make(const char *dir, const char *name, const e2e_cert_t *ca, e2e_cert_t *out);

/* Client options for s that trust ca and present cert (NULL: none). The
 * strings are borrowed from ca and cert. */
grading_client_options_t e2e_tls_options(const e2e_cert_t *ca, const e2e_cert_t *cert);

/* One call of Health/Check on a new client with o: the gRPC status (or
 * GRPC_STATUS_UNKNOWN when the call could not be made). No asserts. */
grpc_status_code e2e_tls_health_status(const e2e_server_t *s, const grading_client_options_t *o,
                                       int64_t timeout_ms);

#endif
