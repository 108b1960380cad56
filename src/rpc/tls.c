/* TLS credentials that follow their files.
 *
 * grpc asks the config fetcher before every handshake. The fetcher stats
 * the three files (stat follows symlinks, so a cert-manager swap of the
 * secret's ..data link shows as a new inode) and only when one looks
 * different, or after rpc_tls_recheck (SIGHUP), reads them and compares
 * the SHA-256 of their contents with what is serving. A new set is checked
 * first (the key must match the certificate): a half-rotated or broken set
 * is logged once and the serving one stays. */
#include "tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TLS_MAX_FILE_BYTES (1024 * 1024)
#define TLS_NFILES 3   /* cert, key, client CA */

typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool present;
} file_sig_t;

struct rpc_tls {
    char *paths[TLS_NFILES];        /* [2] may be NULL */
    pthread_mutex_t mu;
    file_sig_t sigs[TLS_NFILES];
    unsigned char serving[32];      /* hash of the files in use */
    unsigned char rejected[32];     /* hash of the last set refused */
    bool has_rejected;
    bool served;                    /* grpc has had a configuration */
    atomic_bool recheck;
    atomic_uint reloads;
};

typedef struct {
    char *text[TLS_NFILES];
    unsigned char hash[32];
} tls_files_t;

static const char *const flag_of[TLS_NFILES] = {"--tls-cert", "--tls-key", "--tls-client-ca"};

static void files_free(tls_files_t *f)
{
    for (int i = 0; i < TLS_NFILES; i++) {
        if (f->text[i]) OPENSSL_cleanse(f->text[i], strlen(f->text[i]));
        free(f->text[i]);
        f->text[i] = NULL;
    }
}

static void sig_of(const char *path, file_sig_t *s)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    if (!path || stat(path, &st) != 0) return;
    s->present = true;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->size = st.st_size;
    s->mtime = st.st_mtim;
}

static bool sig_equal(const file_sig_t *a, const file_sig_t *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* A malloc'd NUL-terminated copy of the file; NULL and *e on failure. */
static char *read_text(const char *path, const char *flag, grading_error_t *e)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f) {
        grading_error_set(e, GRADING_EIO, flag, "cannot open %s", path);
        return NULL;
    }
    buf = malloc(TLS_MAX_FILE_BYTES + 1);
    if (!buf) {
        grading_error_set(e, GRADING_ENOMEM, flag, "out of memory");
        goto done;
    }
    size_t n = fread(buf, 1, TLS_MAX_FILE_BYTES + 1, f);
    if (ferror(f) || n > TLS_MAX_FILE_BYTES || n == 0 || memchr(buf, 0, n)) {
        grading_error_set(e, GRADING_EINVAL, flag, "%s is %s", path,
                          n == 0 ? "empty or unreadable" : "not a PEM file of at most 1 MiB");
        free(buf);
        buf = NULL;
        goto done;
    }
    buf[n] = '\0';
done:
    fclose(f);
    return buf;
}

/* Reads every file and hashes the contents together. */
static grading_err_t files_read(const rpc_tls_t *t, tls_files_t *out, grading_error_t *e)
{
    memset(out, 0, sizeof *out);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        return grading_error_set(e, GRADING_ENOMEM, "", "cannot hash the TLS files");
    }
    for (int i = 0; i < TLS_NFILES; i++) {
        if (!t->paths[i]) continue;
        out->text[i] = read_text(t->paths[i], flag_of[i], e);
        if (!out->text[i]) {
            EVP_MD_CTX_free(md);
            files_free(out);
            return e->code;
        }
        /* the length first, so moving bytes between files changes the hash */
        uint64_t len = strlen(out->text[i]);
        EVP_DigestUpdate(md, &len, sizeof len);
        EVP_DigestUpdate(md, out->text[i], len);
    }
    unsigned int hl = 0;
    EVP_DigestFinal_ex(md, out->hash, &hl);
    EVP_MD_CTX_free(md);
    return GRADING_OK;
}

/* The key belongs to the certificate; the CA file holds a certificate. */
static grading_err_t files_check(const rpc_tls_t *t, const tls_files_t *f, grading_error_t *e)
{
    grading_err_t err = GRADING_OK;
    X509 *cert = NULL, *ca = NULL;
    EVP_PKEY *key = NULL;
    BIO *b = BIO_new_mem_buf(f->text[0], -1);
    if (b) cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!cert) {
        err = grading_error_set(e, GRADING_EINVAL, "--tls-cert", "%s holds no PEM certificate", t->paths[0]);
        goto done;
    }
    b = BIO_new_mem_buf(f->text[1], -1);
    if (b) key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!key) {
        err = grading_error_set(e, GRADING_EINVAL, "--tls-key", "%s holds no PEM private key", t->paths[1]);
        goto done;
    }
    if (X509_check_private_key(cert, key) != 1) {
        err = grading_error_set(e, GRADING_EINVAL, "--tls-key", "%s is not the key of the certificate in %s",
                                t->paths[1], t->paths[0]);
        goto done;
    }
    if (f->text[2]) {
        b = BIO_new_mem_buf(f->text[2], -1);
        if (b) ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        if (!ca) err = grading_error_set(e, GRADING_EINVAL, "--tls-client-ca", "%s holds no PEM certificate",
                                         t->paths[2]);
    }
done:
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
    return err;
}

static grpc_ssl_server_certificate_config *config_of(const tls_files_t *f)
{
    grpc_ssl_pem_key_cert_pair pair = {.private_key = f->text[1], .cert_chain = f->text[0]};
    /* grpc copies the strings. grpc 1.51 asserts that a fetched config has
     * root certificates even when no client certificate is requested; then
     * they are never used, so the server's own chain stands in. */
    return grpc_ssl_server_certificate_config_create(f->text[2] ? f->text[2] : f->text[0], &pair, 1);
}

/* grpc's config fetcher: called before each handshake, on grpc's threads. */
static grpc_ssl_certificate_config_reload_status fetch_config(void *user_data,
                                                             grpc_ssl_server_certificate_config **config)
{
    rpc_tls_t *t = user_data;
    grpc_ssl_certificate_config_reload_status rc = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
    tls_files_t f = {0};
    grading_error_t e = {0};
    file_sig_t now[TLS_NFILES];

    pthread_mutex_lock(&t->mu);
    bool changed = atomic_exchange(&t->recheck, false) || !t->served;
    for (int i = 0; i < TLS_NFILES; i++) {
        sig_of(t->paths[i], &now[i]);
        if (!sig_equal(&now[i], &t->sigs[i])) changed = true;
    }
    if (!changed) goto done;
    memcpy(t->sigs, now, sizeof now);
    if (files_read(t, &f, &e)) {
        fprintf(stderr, "gradingd: TLS files not reloaded, keeping the current ones: %s: %s\n", e.field,
                e.message);
        goto done;
    }
    if (t->served && memcmp(f.hash, t->serving, sizeof f.hash) == 0) goto done;
    if (t->has_rejected && memcmp(f.hash, t->rejected, sizeof f.hash) == 0) goto done;
    if (files_check(t, &f, &e)) {
        fprintf(stderr, "gradingd: TLS files not reloaded, keeping the current ones: %s: %s\n", e.field,
                e.message);
        memcpy(t->rejected, f.hash, sizeof f.hash);
        t->has_rejected = true;
        goto done;
    }
    *config = config_of(&f);
    if (!*config) {
        rc = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_FAIL;
        goto done;
    }
    if (t->served) {
        atomic_fetch_add(&t->reloads, 1);
        fprintf(stderr, "gradingd: TLS certificate files changed; new connections use them\n");
    }
    memcpy(t->serving, f.hash, sizeof f.hash);
    t->served = true;
    rc = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
done:
    pthread_mutex_unlock(&t->mu);
    files_free(&f);
    return rc;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

grading_err_t rpc_tls_new(const char *cert, const char *key, const char *client_ca, rpc_tls_t **out,
                          grading_error_t *e)
{
    *out = NULL;
    rpc_tls_t *t = calloc(1, sizeof *t);
    tls_files_t f = {0};
    grading_err_t err;
    if (!t) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    pthread_mutex_init(&t->mu, NULL);
    atomic_init(&t->recheck, false);
    atomic_init(&t->reloads, 0);
    t->paths[0] = dup_or_null(cert);
    t->paths[1] = dup_or_null(key);
    t->paths[2] = dup_or_null(client_ca);
    if (!t->paths[0] || !t->paths[1] || (client_ca && !t->paths[2])) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    /* fail at start-up on a bad file, not at the first handshake */
    if ((err = files_read(t, &f, e)) || (err = files_check(t, &f, e))) goto fail;
    files_free(&f);
    *out = t;
    return GRADING_OK;
fail:
    files_free(&f);
    rpc_tls_free(t);
    return err;
}

grpc_server_credentials *rpc_tls_server_credentials_new(rpc_tls_t *t)
{
    grpc_ssl_client_certificate_request_type req =
        t->paths[2] ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                    : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
    grpc_ssl_server_credentials_options *o =
        grpc_ssl_server_credentials_create_options_using_config_fetcher(req, fetch_config, t);
    if (!o) return NULL;
    return grpc_ssl_server_credentials_create_with_options(o);   /* takes o */
}

void rpc_tls_recheck(rpc_tls_t *t)
{
    if (t) atomic_store(&t->recheck, true);
}

unsigned rpc_tls_reloads(rpc_tls_t *t)
{
    return t ? atomic_load(&t->reloads) : 0;
}

void rpc_tls_free(rpc_tls_t *t)
{
    if (!t) return;
    for (int i = 0; i < TLS_NFILES; i++) free(t->paths[i]);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
