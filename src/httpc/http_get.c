/* See grading/http_get.h. */
#include "grading/http_get.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grading/sockaddr.h"

#define HEADER_MAX 8192

/* Waits for fd to be ready for ev; false on timeout or error. */
static bool wait_fd(int fd, short ev, int64_t timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = ev};
    for (;;) {
        int rc = poll(&p, 1, (int)timeout_ms);
        if (rc < 0 && errno == EINTR) continue;
        return rc > 0;
    }
}

static bool write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

static int connect_to(const char *addr, int64_t timeout_ms, grading_error_t *e)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (!grading_sockaddr_parse(addr, false, &ss, &len)) {
        grading_error_set(e, GRADING_EINVAL, "admin", "must be HOST:PORT with a numeric address, got \"%s\"", addr);
        return -1;
    }
    int s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
        grading_error_set(e, GRADING_EIO, "", "socket: %s", strerror(errno));
        return -1;
    }
    int rc = connect(s, (struct sockaddr *)&ss, len);
    if (rc != 0 && errno == EINPROGRESS) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (!wait_fd(s, POLLOUT, timeout_ms)) errno = ETIMEDOUT;
        else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) rc = 0;
        else errno = soerr ? soerr : errno;
    }
    if (rc != 0) {
        grading_error_set(e, GRADING_EIO, "", "cannot connect to %s: %s", addr, strerror(errno));
        close(s);
        return -1;
    }
    return s;
}

grading_err_t grading_http_get_fd(const char *addr, const char *path, int fd, int64_t timeout_ms, int *status,
                                  uint64_t *bytes, grading_error_t *e)
{
    char hdr[HEADER_MAX + 1];
    size_t hlen = 0;
    uint64_t total = 0;
    grading_err_t err = GRADING_OK;
    *status = 0;
    int s = connect_to(addr, timeout_ms, e);
    if (s < 0) return e->code;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr);
    if (n < 0 || (size_t)n >= sizeof req) {
        close(s);
        return grading_error_set(e, GRADING_EINVAL, "path", "too long");
    }
    /* the socket is non-blocking: a small request fits the send buffer */
    if (!wait_fd(s, POLLOUT, timeout_ms) || send(s, req, (size_t)n, MSG_NOSIGNAL) != n) {
        err = grading_error_set(e, GRADING_EIO, "", "cannot send the request to %s", addr);
        goto done;
    }
    bool in_body = false;
    char buf[65536];
    for (;;) {
        if (!wait_fd(s, POLLIN, timeout_ms)) {
            err = grading_error_set(e, GRADING_EIO, "", "%s sent nothing for %lld ms", addr, (long long)timeout_ms);
            goto done;
        }
        ssize_t got = recv(s, buf, sizeof buf, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got < 0) {
            err = grading_error_set(e, GRADING_EIO, "", "reading from %s: %s", addr, strerror(errno));
            goto done;
        }
        if (got == 0) break;
        const char *p = buf;
        size_t left = (size_t)got;
        if (!in_body) {
            size_t take = left < HEADER_MAX - hlen ? left : HEADER_MAX - hlen;
            memcpy(hdr + hlen, p, take);
            hlen += take;
            hdr[hlen] = 0;
            char *end = strstr(hdr, "\r\n\r\n");
            if (!end) {
                if (hlen >= HEADER_MAX) {
                    err = grading_error_set(e, GRADING_EIO, "", "%s sent a header over %d bytes", addr, HEADER_MAX);
                    goto done;
                }
                continue;
            }
            size_t header_bytes = (size_t)(end + 4 - hdr);
            if (sscanf(hdr, "HTTP/%*d.%*d %d", status) != 1) {
                err = grading_error_set(e, GRADING_EIO, "", "%s did not answer HTTP", addr);
                goto done;
            }
            in_body = true;
            /* the body bytes that came with the header */
            size_t already = hlen - take;   /* header bytes from earlier reads */
            p += header_bytes - already;
            left -= header_bytes - already;
        }
        if (left && !write_all(fd, p, left)) {
            err = grading_error_set(e, GRADING_EIO, "", "cannot write the body: %s", strerror(errno));
            goto done;
        }
        total += left;
    }
    if (!in_body) err = grading_error_set(e, GRADING_EIO, "", "%s closed before a whole header", addr);
done:
    close(s);
    if (bytes) *bytes = total;
    return err;
}

grading_err_t grading_http_get(const char *addr, const char *path, int64_t timeout_ms, int *status, char **body,
                               grading_error_t *e)
{
    *body = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    /* the memstream has no descriptor: go through a pipe-free temp file */
    FILE *tmp = tmpfile();
    if (!tmp) {
        fclose(mem);
        free(buf);
        return grading_error_set(e, GRADING_EIO, "", "tmpfile: %s", strerror(errno));
    }
    grading_err_t err = grading_http_get_fd(addr, path, fileno(tmp), timeout_ms, status, NULL, e);
    if (!err) {
        rewind(tmp);
        char chunk[8192];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, tmp)) > 0) fwrite(chunk, 1, got, mem);
    }
    fclose(tmp);
    if (fclose(mem) != 0 || !buf) {
        free(buf);
        return err ? err : grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    }
    if (err) {
        free(buf);
        return err;
    }
    *body = buf;
    return GRADING_OK;
}
