/* Certificates for the TLS tests (tls.h), made with the openssl CLI. */
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"

static const char *openssl_path(void)
{
    const char *p = getenv("OPENSSL");
    return p && p[0] ? p : "/usr/bin/openssl";
}

/* Runs openssl with args (NULL-terminated); fails the test on an error. */
static void openssl(const char *dir, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = openssl_path();
    for (; args[n - 1]; n++) {
        if (n >= sizeof argv / sizeof argv[0] - 1) fail_msg("too many openssl arguments");
        argv[n] = args[n - 1];
    }
    argv[n] = NULL;
    e2e_run_t r = {0};
    e2e_run(dir, argv, E2E_RUN_TIMEOUT_MS, &r);
    if (!r.exited || r.code != 0) {
        fprintf(stderr, "openssl %s failed:\n%s%s\n", args[0], r.out, r.err);
        e2e_run_destroy(&r);
        fail_msg("openssl %s failed", args[0]);
    }
    e2e_run_destroy(&r);
}

static void paths(const char *dir, const char *name, e2e_cert_t *c)
{
    snprintf(c->key, sizeof c->key, "%s/%s.key", dir, name);
    snprintf(c->pem, sizeof c->pem, "%s/%s.pem", dir, name);
}

void e2e_ca_make(const char *dir, const char *name, e2e_cert_t *ca)
{
    char subj[128];
    paths(dir, name, ca);
    snprintf(subj, sizeof subj, "/CN=%s", name);
    openssl(dir, (const char *[]){"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                  "-nodes", "-keyout", ca->key, "-out", ca->pem, "-days", "2", "-subj", subj,
                                  "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                                  "keyUsage=critical,keyCertSign,cRLSign", NULL});
}

void e2e_cert_make(const char *dir, const char *name, const e2e_cert_t *ca, const char *cn, const char *san,
                   bool expired, e2e_cert_t *out)
{
    char subj[256], csr[E2E_PATH_MAX], cnf[E2E_PATH_MAX], text[2048], db[E2E_PATH_MAX];
    paths(dir, name, out);
    snprintf(subj, sizeof subj, "/CN=%s", cn);
    snprintf(csr, sizeof csr, "%s/%s.csr", dir, name);
    openssl(dir, (const char *[]){"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                  "-keyout", out->key, "-out", csr, "-subj", subj, NULL});
    /* `openssl ca` (not x509 -req) so an expired certificate can be made:
     * it takes explicit start and end dates */
    snprintf(db, sizeof db, "%s/%s.db", dir, name);
    FILE *f = fopen(db, "w");
    if (!f || fclose(f) != 0) fail_msg("cannot create %s", db);
    snprintf(text, sizeof text,
             "[ca]\ndefault_ca = d\n"
             "[d]\ndatabase = %s\nnew_certs_dir = %s\nrand_serial = yes\ndefault_md = sha256\n"
             "policy = p\nunique_subject = no\n"
             "[p]\ncommonName = supplied\n"
             "[ext]\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n"
             "extendedKeyUsage = serverAuth,clientAuth\n%s%s\n",
             db, dir, san ? "subjectAltName = " : "", san ? san : "");
    char cnf_name[128];
    snprintf(cnf_name, sizeof cnf_name, "%s.cnf", name);
    e2e_write_file(dir, cnf_name, text, cnf);
    openssl(dir, (const char *[]){"ca", "-batch", "-notext", "-config", cnf, "-cert", ca->pem, "-keyfile", ca->key,
                                  "-in", csr, "-out", out->pem, "-extensions", "ext", "-startdate",
                                  expired ? "20200101000000Z" : "20000101000000Z", "-enddate",
                                  expired ? "20200102000000Z" : "20991231000000Z", NULL});
}

void e2e_server_cert_make(const char *dir, const char *name, const e2e_cert_t *ca, e2e_cert_t *out)
{
    e2e_cert_make(dir, name, ca, "localhost", "DNS:localhost,IP:127.0.0.1", false, out);
}

grading_client_options_t e2e_tls_options(const e2e_cert_t *ca, const e2e_cert_t *cert)
{
    grading_client_options_t o = {.tls_ca = ca ? ca->pem : NULL};
    if (cert) {
        o.tls_cert = cert->pem;
        o.tls_key = cert->key;
    }
    return o;
}

grpc_status_code e2e_tls_health_status(const e2e_server_t *s, const grading_client_options_t *o,
                                       int64_t timeout_ms)
{
    grading_client_t *c = NULL;
    grading_error_t e = {0};
    if (grading_client_new_opts(s->addr, o, &c, &e)) return GRPC_STATUS_UNKNOWN;
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    grpc_status_code st = GRPC_STATUS_UNKNOWN;
    if (!grading_client_call(c, "/grpc.health.v1.Health/Check", &req.base,
                             &grpc__health__v1__health_check_response__descriptor, timeout_ms, &resp, &res))
        st = res.status;
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
    grading_client_free(c);
    return st;
}
