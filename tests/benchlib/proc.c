/* A benchmark's child server: started in its own process group with its
 * output in a log file, waited for through its port file (bounded),
 * stopped with SIGTERM and, after a bounded wait, SIGKILL. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"
#include "grpc/health/v1/health.pb-c.h"

#define POLL_MS 50
#define LOG_LINE 512

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

int grading_bench_proc_spawn(const char *prog, grading_bench_proc_t *p, const char *const argv[],
                             const char *log_path)
{
    p->pid = 0;
    snprintf(p->log_path, sizeof p->log_path, "%s", log_path);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(127);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    return 0;
}

bool grading_bench_proc_exited(grading_bench_proc_t *p, int *status)
{
    if (p->pid <= 0) return true;
    pid_t r = waitpid(p->pid, status, WNOHANG);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->pid = 0;
        return true;
    }
    return false;
}

int grading_bench_proc_run(const char *prog, grading_bench_proc_t *p, const char *const argv[],
                           const char *log_path, int timeout_ms, int stop_ms, volatile sig_atomic_t *stop,
                           int *status)
{
    *status = 0;
    if (grading_bench_proc_spawn(prog, p, argv, log_path)) return -1;
    int64_t deadline = mono_ms() + timeout_ms;
    while (!grading_bench_proc_exited(p, status) && mono_ms() < deadline && !(stop && *stop)) sleep_ms(POLL_MS);
    if (p->pid > 0) {
        fprintf(stderr, "%s: %s did not finish; stopping it\n", prog, argv[0]);
        grading_bench_proc_stop(prog, p, stop_ms);
        return -1;
    }
    return 0;
}

void grading_bench_proc_print_log(const char *prog, const grading_bench_proc_t *p, int max_lines)
{
    FILE *f = fopen(p->log_path, "r");
    if (!f) return;
    char (*ring)[LOG_LINE] = calloc((size_t)max_lines, LOG_LINE);   /* the last max_lines lines */
    if (!ring) {
        fclose(f);
        return;
    }
    long n = 0;
    while (fgets(ring[n % max_lines], LOG_LINE, f)) n++;
    fclose(f);
    fprintf(stderr, "%s: the server's log (%s):\n", prog, p->log_path);
    for (long i = n > max_lines ? n - max_lines : 0; i < n; i++) fprintf(stderr, "  | %s", ring[i % max_lines]);
    free(ring);
}

bool grading_bench_proc_log_has(const grading_bench_proc_t *p, const char *needle)
{
    FILE *f = fopen(p->log_path, "r");
    if (!f) return false;
    char line[LOG_LINE];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

int grading_bench_read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int port = 0;
    if (fscanf(f, "%d", &port) != 1 || port <= 0 || port > 65535) port = 0;
    fclose(f);
    return port;
}

int grading_bench_proc_wait_port(const char *prog, grading_bench_proc_t *p, const char *port_file, int timeout_ms,
                                 volatile sig_atomic_t *stop)
{
    int64_t deadline = mono_ms() + timeout_ms;
    int status = 0;
    while (!(stop && *stop) && mono_ms() < deadline) {
        int port = grading_bench_read_port(port_file);
        if (port) return port;
        if (grading_bench_proc_exited(p, &status)) {
            fprintf(stderr, "%s: the server exited at start-up (status 0x%x)\n", prog, (unsigned)status);
            grading_bench_proc_print_log(prog, p, 40);
            return 0;
        }
        sleep_ms(POLL_MS);
    }
    fprintf(stderr, "%s: the server wrote no port file within %d ms\n", prog, timeout_ms);
    grading_bench_proc_print_log(prog, p, 40);
    return 0;
}

int grading_bench_proc_stop(const char *prog, grading_bench_proc_t *p, int timeout_ms)
{
    if (p->pid <= 0) return 0;
    int status = 0;
    kill(p->pid, SIGTERM);
    int64_t deadline = mono_ms() + timeout_ms;
    bool gone = false;
    while (!(gone = grading_bench_proc_exited(p, &status)) && mono_ms() < deadline) sleep_ms(POLL_MS);
    if (!gone) {
        fprintf(stderr, "%s: the server did not stop within %d ms of SIGTERM; killing it\n", prog, timeout_ms);
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        p->pid = 0;
        grading_bench_proc_print_log(prog, p, 40);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: the server ended badly (status 0x%x)\n", prog, (unsigned)status);
        grading_bench_proc_print_log(prog, p, 40);
        return -1;
    }
    return 0;
}

bool grading_bench_rss_kib(pid_t pid, uint64_t *rss, uint64_t *anon, uint64_t *file)
{
    static const char *const keys[] = {"VmRSS:", "RssAnon:", "RssFile:"};
    uint64_t *outs[] = {rss, anon, file};
    char path[64], line[256];
    int got = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    while (got < 3 && fgets(line, sizeof line, f))
        for (int k = 0; k < 3; k++)
            if (strncmp(line, keys[k], strlen(keys[k])) == 0) {
                *outs[k] = strtoull(line + strlen(keys[k]), NULL, 10);
                got++;
            }
    fclose(f);
    return got == 3;
}

bool grading_bench_on_path(const char *name, char *buf, size_t len)
{
    const char *path = getenv("PATH");
    if (!path) return false;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n) {
            snprintf(buf, len, "%.*s/%s", (int)n, p, name);
            if (access(buf, X_OK) == 0) return true;
        }
        p += n;
        if (*p == ':') p++;
    }
    return false;
}

int grading_bench_free_loopback_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int grading_bench_wait_serving(const char *prog, grading_client_t *c, int timeout_ms, volatile sig_atomic_t *stop)
{
    char last[200] = "no answer";
    int64_t deadline = mono_ms() + timeout_ms;
    while (!(stop && *stop) && mono_ms() < deadline) {
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        grading_call_result_t res = {0};
        grading_err_t err = grading_client_call(c, "/grpc.health.v1.Health/Check", &req.base,
                                                &grpc__health__v1__health_check_response__descriptor, 1000,
                                                &resp, &res);
        bool serving = !err && res.status == GRPC_STATUS_OK && resp &&
                       ((Grpc__Health__V1__HealthCheckResponse *)resp)->status ==
                           GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
        if (!serving)
            snprintf(last, sizeof last, "%s%s%s", err ? grading_err_name(err) : grading_status_name(res.status),
                     res.details && res.details[0] ? ": " : "", res.details ? res.details : "");
        if (resp) protobuf_c_message_free_unpacked(resp, NULL);
        grading_call_result_destroy(&res);
        if (serving) return 0;
        sleep_ms(100);
    }
    fprintf(stderr, "%s: the server was not SERVING within %d ms (last: %s)\n", prog, timeout_ms, last);
    return -1;
}
