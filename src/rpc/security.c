/* Identity and authorization of each call (security.h).
 *
 * Identity:
 *  - with --trust-proxy-identity and a loopback peer (the HAProxy edge in
 *    the same pod terminated TLS), headers x-grading-client-cn and
 *    x-grading-client-uri-san, when present, are the whole identity;
 *  - else the verified TLS client certificate (common name and URI SANs)
 *    and a bearer token (`authorization: Bearer T`; only its SHA-256 is
 *    compared, so the file never holds a secret), together: the first
 *    caller of the file that matches any of them is the caller.
 * Headers from a non-loopback peer, or without the flag, are ignored:
 * anyone can send them. */
#include "security.h"

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/loopback.h"
#include "server_internal.h"
#include "tls.h"

#define MAX_URI_SANS 8
#define ID_TEXT 256
#define PROXY_CN_HEADER "x-grading-client-cn"
#define PROXY_URI_HEADER "x-grading-client-uri-san"

struct rpc_security {
    rpc_tls_t *tls;                 /* NULL: plaintext */
    bool trust_proxy;
    pthread_mutex_t mu;
    grading_authz_t *authz;         /* NULL: every call allowed */
};

/* The identity of one call, with storage for its strings. */
typedef struct {
    grading_identity_t id;
    char cn[ID_TEXT];
    char uris[MAX_URI_SANS][ID_TEXT];
    const char *uri_ptrs[MAX_URI_SANS];
    char token_hex[GRADING_AUTHZ_SHA256_HEX_LEN + 1];
    const char *source;             /* "proxy", "tls", "token" */
} call_identity_t;

grading_err_t rpc_security_new(const grading_server_options_t *opts, rpc_security_t **out, grading_error_t *e)
{
    *out = NULL;
    rpc_security_t *sec = calloc(1, sizeof *sec);
    if (!sec) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    pthread_mutex_init(&sec->mu, NULL);
    sec->trust_proxy = opts->trust_proxy_identity;
    sec->authz = grading_authz_ref(opts->authz);
    if (opts->tls_cert || opts->tls_key || opts->tls_client_ca) {
        if (!opts->tls_cert || !opts->tls_key) {
            rpc_security_free(sec);
            return grading_error_set(e, GRADING_EINVAL, opts->tls_cert ? "--tls-key" : "--tls-cert",
                                     "TLS needs both --tls-cert and --tls-key");
        }
        grading_err_t err = rpc_tls_new(opts->tls_cert, opts->tls_key, opts->tls_client_ca, &sec->tls, e);
        if (err) {
            rpc_security_free(sec);
            return err;
        }
    }
    *out = sec;
    return GRADING_OK;
}

void rpc_security_free(rpc_security_t *sec)
{
    if (!sec) return;
    rpc_tls_free(sec->tls);
    grading_authz_unref(sec->authz);
    pthread_mutex_destroy(&sec->mu);
    free(sec);
}

grpc_server_credentials *rpc_security_credentials_new(rpc_security_t *sec)
{
    return sec->tls ? rpc_tls_server_credentials_new(sec->tls) : grpc_insecure_server_credentials_create();
}

void grading_server_set_authz(grading_server_t *srv, grading_authz_t *a)
{
    rpc_security_t *sec = rpc_server_security(srv);
    grading_authz_t *ref = grading_authz_ref(a);
    pthread_mutex_lock(&sec->mu);
    grading_authz_t *old = sec->authz;
    sec->authz = ref;
    pthread_mutex_unlock(&sec->mu);
    grading_authz_unref(old);
}

void grading_server_reload_tls(grading_server_t *srv)
{
    rpc_tls_recheck(rpc_server_security(srv)->tls);
}

unsigned grading_server_tls_reloads(grading_server_t *srv)
{
    return rpc_tls_reloads(rpc_server_security(srv)->tls);
}

static grading_authz_t *authz_acquire(rpc_security_t *sec)
{
    pthread_mutex_lock(&sec->mu);
    grading_authz_t *a = grading_authz_ref(sec->authz);
    pthread_mutex_unlock(&sec->mu);
    return a;
}

/* ---- identity ---- */

static bool slice_eq(grpc_slice s, const char *text)
{
    size_t n = strlen(text);
    return GRPC_SLICE_LENGTH(s) == n && memcmp(GRPC_SLICE_START_PTR(s), text, n) == 0;
}

/* Copies a metadata value; false when absent, empty, too long or not text. */
static bool header(const grpc_metadata_array *md, const char *key, char *out, size_t cap)
{
    for (size_t i = 0; i < md->count; i++) {
        if (!slice_eq(md->metadata[i].key, key)) continue;
        size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
        const char *p = (const char *)GRPC_SLICE_START_PTR(md->metadata[i].value);
        if (n == 0 || n >= cap || memchr(p, 0, n)) return false;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

static bool peer_is_loopback(grpc_call *call)
{
    char *peer = grpc_call_get_peer(call);
    bool lo = grading_addr_is_loopback(peer);
    gpr_free(peer);
    return lo;
}

static bool from_proxy(const call_slot_t *s, call_identity_t *ci)
{
    if (header(&s->request_md, PROXY_CN_HEADER, ci->cn, sizeof ci->cn)) ci->id.cn = ci->cn;
    if (header(&s->request_md, PROXY_URI_HEADER, ci->uris[0], sizeof ci->uris[0])) {
        ci->uri_ptrs[0] = ci->uris[0];
        ci->id.nuri_sans = 1;
    }
    ci->source = "proxy";
    return grading_identity_present(&ci->id);
}

static void copy_prop(const grpc_auth_property *p, char *out, size_t cap)
{
    size_t n = p->value_length < cap - 1 ? p->value_length : cap - 1;
    memcpy(out, p->value, n);
    out[n] = '\0';
    if (strlen(out) != p->value_length) out[0] = '\0';   /* truncated or NUL inside: no match */
}

static bool from_tls(const call_slot_t *s, call_identity_t *ci)
{
    grpc_auth_context *ctx = grpc_call_auth_context(s->call);
    if (!ctx) return false;
    if (grpc_auth_context_peer_is_authenticated(ctx)) {
        grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx, GRPC_X509_CN_PROPERTY_NAME);
        const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
        if (p) {
            copy_prop(p, ci->cn, sizeof ci->cn);
            if (ci->cn[0]) ci->id.cn = ci->cn;
        }
        it = grpc_auth_context_find_properties_by_name(ctx, GRPC_PEER_URI_PROPERTY_NAME);
        while ((p = grpc_auth_property_iterator_next(&it)) && ci->id.nuri_sans < MAX_URI_SANS) {
            copy_prop(p, ci->uris[ci->id.nuri_sans], sizeof ci->uris[0]);
            if (ci->uris[ci->id.nuri_sans][0]) {
                ci->uri_ptrs[ci->id.nuri_sans] = ci->uris[ci->id.nuri_sans];
                ci->id.nuri_sans++;
            }
        }
    }
    grpc_auth_context_release(ctx);
    ci->source = "tls";
    return grading_identity_present(&ci->id);
}

static bool from_token(const call_slot_t *s, call_identity_t *ci)
{
    char value[1024];
    static const char bearer[] = "Bearer ";
    if (!header(&s->request_md, "authorization", value, sizeof value)) return false;
    if (strncmp(value, bearer, sizeof bearer - 1) != 0 || !value[sizeof bearer - 1]) return false;
    const char *token = value + sizeof bearer - 1;
    unsigned char md[32];
    unsigned int len = 0;
    if (!EVP_Digest(token, strlen(token), md, &len, EVP_sha256(), NULL) || len != sizeof md) return false;
    for (int i = 0; i < 32; i++) snprintf(ci->token_hex + 2 * i, 3, "%02x", md[i]);
    ci->id.token_sha256 = ci->token_hex;
    ci->source = "token";
    return true;
}

static bool identify(const rpc_security_t *sec, const call_slot_t *s, call_identity_t *ci)
{
    memset(ci, 0, sizeof *ci);
    ci->id.uri_sans = ci->uri_ptrs;
    if (sec->trust_proxy && peer_is_loopback(s->call) && from_proxy(s, ci)) return true;
    /* the proxy said nothing: the peer speaks for itself, by certificate
     * and token together (a mesh may add its own certificate) */
    memset(ci, 0, sizeof *ci);
    ci->id.uri_sans = ci->uri_ptrs;
    bool tls = sec->tls && from_tls(s, ci);
    bool token = from_token(s, ci);
    if (tls && token) ci->source = "tls+token";
    else if (tls) ci->source = "tls";
    return tls || token;
}

/* For logs and the audit when no authz file names the caller. */
static void describe(const call_identity_t *ci, char *out, size_t cap)
{
    if (ci->id.nuri_sans) snprintf(out, cap, "uri_san:%s", ci->id.uri_sans[0]);
    else if (ci->id.cn) snprintf(out, cap, "cn:%s", ci->id.cn);
    else if (ci->id.token_sha256) snprintf(out, cap, "token_sha256:%.12s", ci->id.token_sha256);
    else snprintf(out, cap, "anonymous");
}

/* ---- the request's marketplaces ---- */

static const char *string_field(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED) return NULL;
    const char *v = *(const char *const *)((const char *)m + f->offset);
    return v ? v : "";
}

/* The first marketplace of the request (top level, or in any repeated
 * message field such as RecordEvents.events) the caller may not use. */
static const char *marketplace_denied(const grading_authz_caller_t *c, const grading_policy_t *p,
                                      const ProtobufCMessage *m)
{
    if (c->nmarketplaces == 0) return NULL;
    const char *v = string_field(m, "marketplace");
    if (v) {
        const grading_marketplace_t *mp = grading_policy_marketplace(p, v);
        const char *name = mp ? mp->name : v;   /* "" is the default marketplace */
        if (!grading_authz_marketplace_allowed(c, name)) return name;
    }
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED) continue;
        size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
        const ProtobufCMessage *const *items = *(const ProtobufCMessage *const *const *)((const char *)m + f->offset);
        for (size_t k = 0; k < n; k++) {
            const char *name = marketplace_denied(c, p, items[k]);
            if (name) return name;
        }
    }
    return NULL;
}

bool rpc_authorize(rpc_security_t *sec, call_slot_t *s)
{
    call_identity_t ci;
    char msg[512];
    bool known = identify(sec, s, &ci);
    const char *method = s->method->path + 1;   /* no leading '/' */
    grading_authz_t *a = authz_acquire(sec);
    bool ok = false;

    describe(&ci, s->caller, sizeof s->caller);
    if (known) snprintf(s->log_ctx.caller, sizeof s->log_ctx.caller, "%s", s->caller);   /* on every log line */
    if (!a || grading_authz_always_allowed(method)) {
        ok = true;
        goto done;
    }
    if (!known) {
        snprintf(msg, sizeof msg, "no caller identity (a client certificate or a bearer token) for %s", method);
        rpc_reply(s, GRPC_STATUS_UNAUTHENTICATED, msg, NULL);
        goto done;
    }
    const grading_authz_caller_t *c = grading_authz_identify(a, &ci.id);
    if (!c) {
        snprintf(msg, sizeof msg, "caller %s (%s) is not in the authz file: %s denied", s->caller, ci.source,
                 method);
        rpc_reply(s, GRPC_STATUS_PERMISSION_DENIED, msg, NULL);
        goto done;
    }
    snprintf(s->caller, sizeof s->caller, "%s", c->name);
    snprintf(s->log_ctx.caller, sizeof s->log_ctx.caller, "%s", c->name);
    if (!grading_authz_method_allowed(c, method)) {
        snprintf(msg, sizeof msg, "caller %s may not call %s", c->name, method);
        rpc_reply(s, GRPC_STATUS_PERMISSION_DENIED, msg, NULL);
        goto done;
    }
    const char *mp = marketplace_denied(c, s->policy, s->request);
    if (mp) {
        snprintf(msg, sizeof msg, "caller %s may not call %s for marketplace \"%s\"", c->name, method, mp);
        rpc_reply(s, GRPC_STATUS_PERMISSION_DENIED, msg, NULL);
        goto done;
    }
    if (!c->backfill && rpc_backfill_requested(s)) {
        snprintf(msg, sizeof msg,
                 "caller %s may not send RecordEvents with a backfill_id (backfill: true in the authz file)",
                 c->name);
        rpc_reply(s, GRPC_STATUS_PERMISSION_DENIED, msg, NULL);
        goto done;
    }
    ok = true;
done:
    grading_authz_unref(a);
    return ok;
}
