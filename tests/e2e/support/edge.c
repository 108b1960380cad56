/* HAProxy (the shipped edge config) and the raw HTTP/2 clients as children
 * of an e2e test. Every wait has a deadline on the monotonic clock. */
#include "edge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define EDGE_STOP_TIMEOUT_MS 10000
#define POLL_MS 20

bool e2e_edge_available(char *why, size_t whylen)
{
    const char *haproxy = getenv("HAPROXY"), *python = getenv("GRADING_EDGE_PYTHON");
    if (!haproxy || !haproxy[0] || access(haproxy, X_OK) != 0) {
        snprintf(why, whylen, "haproxy not found (HAPROXY=%s); install Debian's haproxy (scripts/setup.sh does)",
                 haproxy ? haproxy : "");
        return false;
    }
    if (!python || !python[0] || access(python, X_OK) != 0) {
        snprintf(why, whylen, "python3 not found (GRADING_EDGE_PYTHON=%s)", python ? python : "");
        return false;
    }
    char cmd[E2E_PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import h2' 2>/dev/null", python);
    if (system(cmd) != 0) {
        snprintf(why, whylen, "%s cannot import h2; install Debian's python3-h2 (scripts/setup.sh does)", python);
        return false;
    }
    if (access("/usr/bin/openssl", X_OK) != 0) {
        snprintf(why, whylen, "/usr/bin/openssl not found; install Debian's openssl (scripts/setup.sh does)");
        return false;
    }
    return true;
}

/* A socket bound to 127.0.0.1 on a port the kernel picks, listening, and
 * inheritable (no FD_CLOEXEC) so HAProxy can take it as fd@N. */
static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        fclose(f);
        return NULL;
    }
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, mem);
    fclose(f);
    fclose(mem);
    return buf;
}

void e2e_edge_dump_log(const e2e_edge_t *edge)
{
    char *log = read_file(edge->log_path);
    fprintf(stderr, "---- haproxy log (%s) ----\n%s---- end of log ----\n", edge->log_path,
            log ? log : "(unreadable)\n");
    free(log);
}

/* Ready when a Health/Check through it answers SERVING: the socket accepts
 * connections before HAProxy does, so a connect proves nothing. arg is a
 * grading_client_t ** made on the first call (the address is known only
 * once the edge's socket is bound). */
static bool health_ready(const e2e_edge_t *edge, void *arg)
{
    grading_client_t **c = arg;
    if (!*c && grading_client_new(edge->addr, c)) return false;
    return e2e_health(*c, 500) == E2E_SERVING;
}

void e2e_edge_start(e2e_edge_t *edge, const e2e_server_t *s, const char *const *env)
{
    grading_client_t *c = NULL;
    e2e_edge_start_at(edge, s->dir, s->addr, env, health_ready, &c);
    if (c) grading_client_free(c);
}

void e2e_edge_start_at(e2e_edge_t *edge, const char *dir, const char *backend, const char *const *env,
                       e2e_edge_ready_fn ready, void *arg)
{
    memset(edge, 0, sizeof *edge);
    snprintf(edge->log_path, sizeof edge->log_path, "%s/haproxy.log", dir);
    char cfg[E2E_PATH_MAX], listen_env[64], backend_env[96];
    snprintf(cfg, sizeof cfg, "%s/deploy/haproxy/haproxy.cfg", e2e_env("GRADING_SOURCE_DIR"));
    int fd = listen_loopback(&edge->port);
    if (fd < 0) fail_msg("cannot bind a loopback socket for the edge: %s", strerror(errno));
    snprintf(listen_env, sizeof listen_env, "GRADING_EDGE_LISTEN=fd@%d", fd);
    snprintf(backend_env, sizeof backend_env, "GRADING_BACKEND=%s", backend);
    snprintf(edge->addr, sizeof edge->addr, "127.0.0.1:%d", edge->port);

    /* env(1) sets the config's variables for HAProxy alone; -db keeps it
     * in the foreground, a child of the test. */
    const char *argv[8 + E2E_EDGE_MAX_ENV];
    size_t n = 0;
    argv[n++] = "/usr/bin/env";
    argv[n++] = listen_env;
    argv[n++] = backend_env;
    for (size_t i = 0; env && env[i]; i++) {
        if (i >= E2E_EDGE_MAX_ENV) {
            close(fd);
            fail_msg("too many edge settings");
        }
        argv[n++] = env[i];
    }
    argv[n++] = e2e_env("HAPROXY");
    argv[n++] = "-db";
    argv[n++] = "-f";
    argv[n++] = cfg;
    argv[n] = NULL;
    edge->pid = e2e_spawn(argv, edge->log_path);
    int spawn_errno = errno;
    close(fd);   /* HAProxy has its own copy */
    if (edge->pid < 0) {
        edge->pid = 0;
        fail_msg("fork: %s", strerror(spawn_errno));
    }

    int64_t deadline = e2e_now_ms() + E2E_START_TIMEOUT_MS;
    int status = 0;
    bool exited = false, up = false;
    while (e2e_now_ms() < deadline) {
        if (waitpid(edge->pid, &status, WNOHANG) == edge->pid) {
            exited = true;
            edge->pid = 0;
            break;
        }
        if ((up = ready(edge, arg))) break;
        e2e_sleep_ms(POLL_MS);
    }
    if (up) return;
    e2e_edge_dump_log(edge);
    if (exited) fail_msg("haproxy exited during start-up (status 0x%x)", status);
    e2e_edge_stop(edge);
    fail_msg("the edge on %s did not answer within %d ms", edge->addr, E2E_START_TIMEOUT_MS);
}

void e2e_edge_stop(e2e_edge_t *edge)
{
    if (edge->pid <= 0) return;
    kill(edge->pid, SIGTERM);
    int64_t deadline = e2e_now_ms() + EDGE_STOP_TIMEOUT_MS;
    int st;
    while (e2e_now_ms() < deadline) {
        if (waitpid(edge->pid, &st, WNOHANG) == edge->pid) {
            edge->pid = 0;
            return;
        }
        e2e_sleep_ms(POLL_MS);
    }
    fprintf(stderr, "e2e: haproxy did not exit within %d ms of SIGTERM; killed\n", EDGE_STOP_TIMEOUT_MS);
    kill(edge->pid, SIGKILL);
    while (waitpid(edge->pid, &st, 0) < 0 && errno == EINTR) {
    }
    edge->pid = 0;
}

int64_t e2e_rss_anon_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %lld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

pid_t e2e_h2client_spawn(const char *const *args, const char *out_path)
{
    char script[E2E_PATH_MAX];
    snprintf(script, sizeof script, "%s/tests/edge/h2client.py", e2e_env("GRADING_SOURCE_DIR"));
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_env("GRADING_EDGE_PYTHON");
    argv[n++] = script;
    for (size_t i = 0; args[i]; i++) {
        if (n >= sizeof argv / sizeof argv[0] - 1) fail_msg("too many h2client arguments");
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    unlink(out_path);
    pid_t pid = e2e_spawn(argv, out_path);
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    return pid;
}

bool e2e_child_exited(pid_t pid)
{
    siginfo_t info = {0};
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == pid;
}

char *e2e_h2client_wait(pid_t pid, const char *out_path, int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) fail_msg("waitpid: %s", strerror(errno));
        if (e2e_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            fail_msg("h2client.py did not exit within %lld ms; killed", (long long)timeout_ms);
        }
        e2e_sleep_ms(POLL_MS);
    }
    char *out = read_file(out_path);
    if (!out) fail_msg("out of memory reading %s", out_path);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "h2client.py output:\n%s\n", out);
        free(out);
        fail_msg("h2client.py ended with status 0x%x", st);
    }
    return out;
}
