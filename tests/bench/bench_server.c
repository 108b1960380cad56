/* grading_bench's own gradingd: without --addr the bench starts one on
 * 127.0.0.1:0 with a fresh data directory under /tmp, waits (bounded) for
 * its port file and for Health SERVING, and at the end stops it with
 * SIGTERM (SIGKILL after a bounded wait) and removes the directory. The
 * child runs in its own process group, so ^C reaches only the bench, which
 * stops it in order; and it dies with the bench if that is killed. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"


static bool is_executable(const char *p) { return p && p[0] && access(p, X_OK) == 0; }

/* The directory holding this program ("" if unknown). */
void bench_self_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0) {
        buf[0] = '\0';
        return;
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
    else buf[0] = '\0';
}

/* --gradingd, else $GRADINGD, else gradingd of this build dir: the bench
 * lands in <build>/tests/, gradingd in <build>/. */
static const char *find_gradingd(const bench_opts_t *o, char *buf, size_t len)
{
    if (o->gradingd) return o->gradingd;
    const char *env = getenv("GRADINGD");
    if (env && env[0]) return env;
    char dir[PATH_MAX];
    bench_self_dir(dir, sizeof dir);
    const char *fmts[] = {"%s/../gradingd", "%s/gradingd", "%s/../src/app/gradingd"};
    for (size_t i = 0; dir[0] && i < sizeof fmts / sizeof fmts[0]; i++) {
        snprintf(buf, len, fmts[i], dir);
        if (is_executable(buf)) return buf;
    }
    return is_executable("./gradingd") ? "./gradingd" : "./src/app/gradingd";
}

/* tests/e2e/policy.yaml next to this source file. */
static void default_policy(char *buf, size_t len)
{
    snprintf(buf, len, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
    else snprintf(buf, len, ".");
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "/../e2e/policy.yaml");
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    if (remove(path) != 0) fprintf(stderr, "grading_bench: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static void print_log_tail(const bench_server_t *s)
{
    char path[128];
    snprintf(path, sizeof path, "%s/gradingd.log", s->dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    fprintf(stderr, "grading_bench: gradingd's log:\n");
    for (int i = 0; i < 40 && fgets(line, sizeof line, f); i++) fprintf(stderr, "  | %s", line);
    fclose(f);
}

/* Reaps the child if it has exited; true when it has. */
static bool server_exited(bench_server_t *s, int *status)
{
    pid_t p = waitpid(s->pid, status, WNOHANG);
    if (p == s->pid) {
        s->pid = 0;
        return true;
    }
    return false;
}

void bench_server_stop(bench_server_t *s)
{
    if (s->pid > 0) {
        int status = 0;
        kill(s->pid, SIGTERM);
        bool gone = false;
        for (int waited = 0; waited < BENCH_STOP_TIMEOUT_MS && !(gone = server_exited(s, &status));
             waited += BENCH_POLL_MS)
            bench_sleep_ms(BENCH_POLL_MS);
        if (!gone) {
            fprintf(stderr, "grading_bench: gradingd did not stop within %d ms of SIGTERM; killing it\n",
                    BENCH_STOP_TIMEOUT_MS);
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            s->pid = 0;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "grading_bench: gradingd ended badly (status 0x%x)\n", (unsigned)status);
            print_log_tail(s);
        }
    }
    if (s->dir[0]) nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = '\0';
}

/* Reads the port once gradingd has written its port file (atomically). */
static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int port = 0;
    if (fscanf(f, "%d", &port) != 1 || port <= 0 || port > 65535) port = 0;
    fclose(f);
    return port;
}

int bench_server_start(bench_server_t *s, const bench_opts_t *o, const char **out_bin, const char **out_policy)
{
    static char bin_buf[PATH_MAX], policy_buf[PATH_MAX];
    char data[128], portf[128], logf[128], aportf[128];

    memset(s, 0, sizeof *s);
    const char *bin = find_gradingd(o, bin_buf, sizeof bin_buf);
    const char *policy = o->policy;
    if (!policy) {
        default_policy(policy_buf, sizeof policy_buf);
        policy = policy_buf;
    }
    /* Shown in the report: without the ../ of the build layout. */
    static char bin_real[PATH_MAX], policy_real[PATH_MAX];
    if (realpath(bin, bin_real)) bin = bin_real;
    if (realpath(policy, policy_real)) policy = policy_real;
    *out_bin = bin;
    *out_policy = policy;
    if (!is_executable(bin)) {
        fprintf(stderr, "grading_bench: no gradingd at %s (build it, or give --gradingd PATH / GRADINGD)\n", bin);
        return -1;
    }
    if (access(policy, R_OK) != 0) {
        fprintf(stderr, "grading_bench: cannot read the policy %s: %s\n", policy, strerror(errno));
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "/tmp/grading-bench-XXXXXX");
    if (!mkdtemp(s->dir)) {
        fprintf(stderr, "grading_bench: mkdtemp: %s\n", strerror(errno));
        s->dir[0] = '\0';
        return -1;
    }
    snprintf(data, sizeof data, "%s/data", s->dir);
    snprintf(portf, sizeof portf, "%s/port", s->dir);
    snprintf(logf, sizeof logf, "%s/gradingd.log", s->dir);
    snprintf(aportf, sizeof aportf, "%s/admin_port", s->dir);

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "grading_bench: fork: %s\n", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* Its own process group, so ^C reaches only us and we stop it in
         * order; and it dies with us if we are killed outright. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(127);
        int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(bin, bin, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--port-file", portf, "--data-dir", data, "--policy", policy,
              "--admin-port-file", aportf, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    s->pid = pid;

    int port = 0, status = 0;
    for (int waited = 0; waited < BENCH_START_TIMEOUT_MS && !bench_stop; waited += BENCH_POLL_MS) {
        if ((port = read_port(portf))) break;
        if (server_exited(s, &status)) {
            fprintf(stderr, "grading_bench: gradingd exited at start-up (status 0x%x)\n", (unsigned)status);
            print_log_tail(s);
            goto fail;
        }
        bench_sleep_ms(BENCH_POLL_MS);
    }
    if (!port) {
        fprintf(stderr, "grading_bench: gradingd wrote no port file within %d ms\n", BENCH_START_TIMEOUT_MS);
        print_log_tail(s);
        goto fail;
    }
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", port);
    int aport = read_port(aportf);   /* written before the port file */
    if (aport) snprintf(s->admin_addr, sizeof s->admin_addr, "127.0.0.1:%d", aport);
    return 0;
fail:
    bench_server_stop(s);
    return -1;
}

/* Waits until the server answers this client SERVING, or the deadline. */
int bench_wait_serving(grading_client_t *c, int64_t deadline)
{
    char last[160] = "no answer";
    while (!bench_stop && bench_mono_ns() < deadline) {
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
        bench_sleep_ms(100);
    }
    fprintf(stderr, "grading_bench: the server was not SERVING within %d ms (last: %s)\n", BENCH_START_TIMEOUT_MS,
            last);
    return -1;
}
