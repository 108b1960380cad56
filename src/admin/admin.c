/* The admin HTTP server: binding, routing, stopping (see grading/admin.h).
 * libmicrohttpd runs a thread per connection (bounded), so a slow /backup
 * or a /healthz waiting on the writer holds only its own connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "admin_internal.h"
#include "grading/sockaddr.h"

#define ADMIN_MAX_CONNECTIONS 16
#define ADMIN_CONNECTION_TIMEOUT_S 60

enum MHD_Result admin_reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **req_cls)
{
    grading_admin_t *a = cls;
    (void)version;
    (void)upload_data;
    /* MHD calls twice: first with the headers only. */
    if (!*req_cls) {
        *req_cls = a;
        return MHD_YES;
    }
    if (*upload_size) return MHD_NO;   /* no endpoint takes a body */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return admin_reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
    if (strcmp(url, "/metrics") == 0) return admin_metrics(a, conn);
    if (strcmp(url, "/healthz") == 0) return admin_healthz(a, conn);
    if (strcmp(url, "/readyz") == 0) return admin_readyz(a, conn);
    if (strcmp(url, "/backup") == 0) return admin_backup(a, conn);
    return admin_reply_text(conn, MHD_HTTP_NOT_FOUND, "not found; try /metrics, /healthz, /readyz, /backup\n");
}

bool grading_admin_listen_ok(const char *listen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    return listen && grading_sockaddr_parse(listen, true, &ss, &len);
}

grading_err_t grading_admin_start(const grading_admin_options_t *opts, grading_admin_t **out, int *out_port,
                                  grading_error_t *e)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    *out = NULL;
    if (!opts->listen || !grading_sockaddr_parse(opts->listen, true, &ss, &sslen))
        return grading_error_set(e, GRADING_EINVAL, "admin-listen",
                                 "must be HOST:PORT with a numeric address (like 127.0.0.1:9464, [::1]:9464) or off, got \"%s\"",
                                 opts->listen ? opts->listen : "");
    grading_admin_t *a = calloc(1, sizeof *a);
    if (!a) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    a->o = *opts;
    if (a->o.liveness_timeout_ms <= 0) a->o.liveness_timeout_ms = GRADING_ADMIN_DEFAULT_LIVENESS_MS;
    pthread_mutex_init(&a->probe_mu, NULL);
    pthread_mutex_init(&a->copy_mu, NULL);
    pthread_cond_init(&a->copy_cv, NULL);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    a->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_MAX_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_CONNECTION_TIMEOUT_S,
                                 MHD_OPTION_END);
    if (!a->daemon) {
        pthread_mutex_destroy(&a->probe_mu);
        pthread_mutex_destroy(&a->copy_mu);
        pthread_cond_destroy(&a->copy_cv);
        free(a);
        return grading_error_set(e, GRADING_EIO, "admin-listen", "cannot listen on %s", opts->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *out_port = info ? info->port : 0;
    *out = a;
    return GRADING_OK;
}

void grading_admin_stop(grading_admin_t *a)
{
    if (!a) return;
    MHD_stop_daemon(a->daemon);
    /* Every connection is closed, so a copy still running finds its pipe
     * closed and ends; the store must outlive it. */
    pthread_mutex_lock(&a->copy_mu);
    while (a->copies > 0) pthread_cond_wait(&a->copy_cv, &a->copy_mu);
    pthread_mutex_unlock(&a->copy_mu);
    admin_probe_release(a);
    pthread_mutex_destroy(&a->probe_mu);
    pthread_mutex_destroy(&a->copy_mu);
    pthread_cond_destroy(&a->copy_cv);
    free(a);
}
