/* TLS and headers for the client (client_tls.h). */
#include "client_tls.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_MAX_PEM_BYTES (1024 * 1024)

static char *read_pem(const char *path, const char *flag, grading_error_t *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        grading_error_set(e, GRADING_EIO, flag, "cannot open %s", path);
        return NULL;
    }
    char *buf = malloc(CLIENT_MAX_PEM_BYTES + 1);
    size_t n = buf ? fread(buf, 1, CLIENT_MAX_PEM_BYTES + 1, f) : 0;
    bool bad = ferror(f) || n == 0 || n > CLIENT_MAX_PEM_BYTES;
    fclose(f);
    if (!buf) {
        grading_error_set(e, GRADING_ENOMEM, flag, "out of memory");
        return NULL;
    }
    if (!bad) buf[n] = '\0';
    if (bad || memchr(buf, 0, n) || !strstr(buf, "-----BEGIN ")) {
        grading_error_set(e, GRADING_EINVAL, flag, "%s is not a PEM file", path);
        free(buf);
        return NULL;
    }
    return buf;
}

grading_err_t grading_client_tls_credentials(const grading_client_options_t *o, grpc_channel_credentials **out,
                                             grading_error_t *e)
{
    char *ca = NULL, *cert = NULL, *key = NULL;
    *out = NULL;
    if ((o->tls_cert != NULL) != (o->tls_key != NULL))
        return grading_error_set(e, GRADING_EINVAL, o->tls_cert ? "--tls-key" : "--tls-cert",
                                 "a client certificate needs both --tls-cert and --tls-key");
    if (o->tls_ca && !(ca = read_pem(o->tls_ca, "--tls-ca", e))) goto done;
    if (o->tls_cert && (!(cert = read_pem(o->tls_cert, "--tls-cert", e)) || !(key = read_pem(o->tls_key, "--tls-key", e))))
        goto done;
    grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
    /* no CA file: grpc's default roots (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH or the system's) */
    *out = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
    if (!*out) grading_error_set(e, GRADING_EINVAL, "--tls-ca", "cannot make TLS credentials");
done:
    free(ca);
    free(cert);
    if (key) memset(key, 0, strlen(key));
    free(key);
    return *out ? GRADING_OK : e->code;
}

static bool header_ok(const char *s, bool key)
{
    if (!s || !s[0]) return false;
    for (const char *p = s; *p; p++) {
        if (key && !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
            return false;
        if (!key && (*p < ' ' || *p > '~')) return false;
    }
    return true;
}

grading_err_t grading_client_headers(const grading_client_options_t *o, grpc_metadata *md, size_t *n,
                                     grading_error_t *e)
{
    *n = 0;
    if (o->bearer_token) {
        if (!header_ok(o->bearer_token, false))
            return grading_error_set(e, GRADING_EINVAL, "token", "must be printable ASCII, not empty");
        char value[2048];
        if ((size_t)snprintf(value, sizeof value, "Bearer %s", o->bearer_token) >= sizeof value)
            return grading_error_set(e, GRADING_EINVAL, "token", "longer than 2000 bytes");
        memset(&md[*n], 0, sizeof md[*n]);
        md[*n].key = grpc_slice_from_static_string("authorization");
        md[*n].value = grpc_slice_from_copied_string(value);
        (*n)++;
    }
    for (const char *const *h = o->headers; h && h[0]; h += 2) {
        if (!h[1]) return grading_error_set(e, GRADING_EINVAL, "headers", "%s has no value", h[0]);
        if (!header_ok(h[0], true) || !header_ok(h[1], false))
            return grading_error_set(e, GRADING_EINVAL, "headers", "\"%s\" is not a lowercase header name", h[0]);
        if (*n >= GRADING_CLIENT_MAX_HEADERS)
            return grading_error_set(e, GRADING_EINVAL, "headers", "at most %d", GRADING_CLIENT_MAX_HEADERS);
        memset(&md[*n], 0, sizeof md[*n]);
        md[*n].key = grpc_slice_from_copied_string(h[0]);
        md[*n].value = grpc_slice_from_copied_string(h[1]);
        (*n)++;
    }
    return GRADING_OK;
}

void grading_client_headers_free(grpc_metadata *md, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        grpc_slice_unref(md[i].key);
        grpc_slice_unref(md[i].value);
    }
}
