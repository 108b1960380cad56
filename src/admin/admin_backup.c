/* /backup: LMDB's compacting copy streamed through a pipe. A copy thread
 * writes the snapshot into the pipe while libmicrohttpd sends what it
 * reads from the other end, so the copy never lands on the server's disk.
 * A copy that fails half-way ends the body early: the client checks the
 * file (grading_store_verify_copy), which a cut-off copy fails. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include "admin_internal.h"
#include "grading/log.h"
#include "grading/store_backup.h"

typedef struct {
    grading_admin_t *admin;
    int fd;
} copy_job_t;

static void *copy_main(void *arg)
{
    copy_job_t *job = arg;
    /* A client that hangs up makes the pipe's write fail with EPIPE here
     * rather than killing the process. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    grading_error_t e = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    grading_err_t err = grading_store_backup_fd(job->admin->o.store, job->fd, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(job->fd);
    if (err)
        grading_log(GRADING_LOG_ERROR, "backup failed: %s", e.message);
    else
        grading_log(GRADING_LOG_INFO, "backup streamed in %.3f s",
                    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    grading_admin_t *a = job->admin;
    free(job);
    pthread_mutex_lock(&a->copy_mu);
    a->copies--;
    pthread_cond_broadcast(&a->copy_cv);
    pthread_mutex_unlock(&a->copy_mu);
    return NULL;
}

static bool peer_is_loopback(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return false;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const void *)ci->client_addr;
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const void *)ci->client_addr;
        if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return true;
        return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

enum MHD_Result admin_backup(grading_admin_t *a, struct MHD_Connection *conn)
{
    int fds[2];
    if (!a->o.store) return admin_reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: not open\n");
    if (!a->o.remote_backup && !peer_is_loopback(conn))
        return admin_reply_text(conn, MHD_HTTP_FORBIDDEN,
                                "backup is served to loopback peers only (gradingd --admin-remote-backup)\n");
    if (pipe2(fds, O_CLOEXEC) != 0)
        return admin_reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot make a pipe\n");
    copy_job_t *job = malloc(sizeof *job);
    struct MHD_Response *r = job ? MHD_create_response_from_pipe(fds[0]) : NULL;
    if (!r) {
        free(job);
        close(fds[0]);
        close(fds[1]);
        return admin_reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    *job = (copy_job_t){a, fds[1]};
    pthread_mutex_lock(&a->copy_mu);
    a->copies++;
    pthread_mutex_unlock(&a->copy_mu);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, copy_main, job);
    pthread_attr_destroy(&attr);
    if (rc) {
        pthread_mutex_lock(&a->copy_mu);
        a->copies--;
        pthread_mutex_unlock(&a->copy_mu);
        close(fds[1]);   /* the response owns fds[0] */
        free(job);
        MHD_destroy_response(r);
        return admin_reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot start the copy\n");
    }
    grading_log(GRADING_LOG_INFO, "backup started");
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    MHD_add_response_header(r, "Content-Disposition", "attachment; filename=\"grading-backup.mdb\"");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
