/* The real gradingd as a child process, and programs run to completion.
 *
 * Design: fork + execv, never a shell, so arguments reach the program as
 * written. The child asks the kernel to kill it when the test process dies
 * (PR_SET_PDEATHSIG), so a crashed test leaves no server behind. Every
 * wait is a poll with a deadline on the monotonic clock: a test can fail,
 * it cannot hang. Output of children goes to files in the test's own
 * temporary directory, read back whole once the child has exited. */
#include "testsrv.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"

#define HEALTH_METHOD "/grpc.health.v1.Health/Check"
#define POLL_MS 20

int64_t e2e_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void e2e_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

const char *e2e_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !v[0]) fail_msg("environment variable %s is not set (run the tests with ctest)", name);
    return v;
}

static char *read_whole(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
            cap *= 2;
        }
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

void e2e_server_dump_log(const e2e_server_t *s)
{
    char *log = read_whole(s->log_path);
    fprintf(stderr, "---- gradingd log (%s) ----\n%s---- end of log ----\n", s->log_path,
            log ? log : "(unreadable)\n");
    free(log);
}

/* ---- the server ---- */

e2e_server_t *e2e_server_new(const char *const *extra_flags)
{
    /* An idle grpc C-core client reads its sockets only when its backup
     * poller runs (every 5 s by default), so it answers the server's
     * shutdown GOAWAY/PING that late and every stop would take 5 s. Our
     * clients poll often instead; read by grpc_init, so set before the
     * first client. */
    setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "50", 0);
    e2e_server_t *s = calloc(1, sizeof *s);
    if (!s) abort();   /* out of memory */
    snprintf(s->dir, sizeof s->dir, "/tmp/grading-e2e-XXXXXX");
    if (!mkdtemp(s->dir)) {
        free(s);
        fail_msg("mkdtemp: %s", strerror(errno));
    }
    snprintf(s->data_dir, sizeof s->data_dir, "%s/data", s->dir);
    snprintf(s->port_file, sizeof s->port_file, "%s/port", s->dir);
    snprintf(s->admin_port_file, sizeof s->admin_port_file, "%s/admin_port", s->dir);
    snprintf(s->log_path, sizeof s->log_path, "%s/server.log", s->dir);
    size_t n = 0;
    for (; extra_flags && extra_flags[n]; n++) {
        if (n >= E2E_MAX_EXTRA_FLAGS) fail_msg("too many extra gradingd flags");
        s->extra[n] = extra_flags[n];
    }
    s->extra[n] = NULL;
    return s;
}

static pid_t spawn(const char *const *argv, const char *out_path, const char *err_path, bool append)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* the child: only async-signal-safe calls until execv */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, flags, 0644);
        int err = strcmp(out_path, err_path) == 0 ? out : open(err_path, flags, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(argv[0], (char *const *)argv);
        static const char msg[] = "e2e: execv failed\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    return pid;
}

bool e2e_server_running(e2e_server_t *s, int *status)
{
    if (s->pid <= 0) return false;
    int st = 0;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == 0) return true;
    if (r == s->pid) {
        if (status) *status = st;
        s->pid = 0;
    }
    return false;
}

grading_client_t *e2e_client_new(const e2e_server_t *s)
{
    grading_client_t *c = NULL;
    grading_error_t e = {0};
    if (grading_client_new_opts(s->addr, &s->conn, &c, &e)) return NULL;
    return c;
}

int e2e_health(grading_client_t *c, int64_t timeout_ms)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    int out = -1;
    grading_err_t err = grading_client_call(c, HEALTH_METHOD, &req.base,
                                            &grpc__health__v1__health_check_response__descriptor,
                                            timeout_ms, &resp, &res);
    if (!err && res.status == GRPC_STATUS_OK && resp)
        out = (int)((Grpc__Health__V1__HealthCheckResponse *)resp)->status;
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
    return out;
}

static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int port = -1;
    if (fscanf(f, "%d", &port) != 1) port = -1;
    fclose(f);
    return port > 0 && port < 65536 ? port : -1;
}

/* Starts the server; on failure kills it, prints the log, fills why and
 * returns false. No asserts. */
static bool server_try_start(e2e_server_t *s, char *why, size_t whylen)
{
    const char *gradingd = getenv("GRADINGD"), *policy = getenv("GRADING_POLICY");
    if (!gradingd || !gradingd[0] || !policy || !policy[0]) {
        snprintf(why, whylen, "GRADINGD and GRADING_POLICY must be set (run the tests with ctest)");
        return false;
    }
    if (s->pid > 0) {
        snprintf(why, whylen, "the server is already running (pid %d)", (int)s->pid);
        return false;
    }
    const char *argv[20 + E2E_MAX_EXTRA_FLAGS];
    size_t n = 0;
    argv[n++] = gradingd;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--port-file";
    argv[n++] = s->port_file;
    argv[n++] = "--data-dir";
    argv[n++] = s->data_dir;
    argv[n++] = "--policy";
    argv[n++] = policy;
    argv[n++] = "--admin-listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--admin-port-file";
    argv[n++] = s->admin_port_file;
    /* Most tests record history months behind the real clock and query it
     * as of then: no dedup horizon and no retention pass unless a test asks
     * (its own flags come later and win). */
    argv[n++] = "--dedup-horizon";
    argv[n++] = "0";
    argv[n++] = "--prune-interval";
    argv[n++] = "0";
    for (size_t i = 0; s->extra[i]; i++) argv[n++] = s->extra[i];
    argv[n] = NULL;

    unlink(s->port_file);   /* a restart must not read the last run's port */
    unlink(s->admin_port_file);
    s->admin_port = 0;
    if (s->client) {
        grading_client_free(s->client);
        s->client = NULL;
    }
    s->pid = spawn(argv, s->log_path, s->log_path, true);
    if (s->pid < 0) {
        s->pid = 0;
        snprintf(why, whylen, "fork: %s", strerror(errno));
        return false;
    }
    s->runs++;

    int64_t deadline = e2e_now_ms() + E2E_START_TIMEOUT_MS;
    int status = 0;
    s->port = -1;
    while (e2e_now_ms() < deadline) {
        if (!e2e_server_running(s, &status)) {
            e2e_server_dump_log(s);
            snprintf(why, whylen, "gradingd exited during start-up (status 0x%x)", status);
            return false;
        }
        if ((s->port = read_port(s->port_file)) > 0) {
            /* written before the port file; absent with --admin-listen off */
            int ap = read_port(s->admin_port_file);
            s->admin_port = ap > 0 ? ap : 0;
            break;
        }
        e2e_sleep_ms(POLL_MS);
    }
    if (s->port <= 0) {
        e2e_server_kill(s);
        e2e_server_dump_log(s);
        snprintf(why, whylen, "gradingd wrote no port file %s within %d ms", s->port_file, E2E_START_TIMEOUT_MS);
        return false;
    }
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", s->port);
    s->client = e2e_client_new(s);
    if (!s->client) {
        e2e_server_kill(s);
        snprintf(why, whylen, "cannot create a client for %s", s->addr);
        return false;
    }
    int health = -1;
    while (e2e_now_ms() < deadline) {
        health = e2e_health(s->client, 500);
        if (health == E2E_SERVING) return true;
        if (!e2e_server_running(s, &status)) break;
        e2e_sleep_ms(POLL_MS);
    }
    e2e_server_kill(s);
    e2e_server_dump_log(s);
    snprintf(why, whylen, "gradingd on %s did not answer Health/Check SERVING within %d ms (last: %d)", s->addr,
             E2E_START_TIMEOUT_MS, health);
    return false;
}

void e2e_server_start(e2e_server_t *s)
{
    char why[E2E_PATH_MAX + 128];
    if (!server_try_start(s, why, sizeof why)) fail_msg("%s", why);
}

e2e_server_t *e2e_server_start_new(const char *const *extra_flags)
{
    e2e_server_t *s = e2e_server_new(extra_flags);
    e2e_server_start(s);
    return s;
}

void e2e_server_signal(e2e_server_t *s, int sig)
{
    if (s->pid <= 0) fail_msg("the server is not running");
    if (kill(s->pid, sig) != 0) fail_msg("kill(%d, %d): %s", (int)s->pid, sig, strerror(errno));
}

int e2e_server_wait(e2e_server_t *s, int64_t timeout_ms)
{
    if (s->pid <= 0) fail_msg("the server is not running");
    int64_t deadline = e2e_now_ms() + timeout_ms;
    int status = 0;
    while (e2e_now_ms() < deadline) {
        if (!e2e_server_running(s, &status)) return status;
        e2e_sleep_ms(POLL_MS);
    }
    pid_t pid = s->pid;
    e2e_server_kill(s);
    e2e_server_dump_log(s);
    fail_msg("gradingd (pid %d) did not exit within %lld ms; killed", (int)pid, (long long)timeout_ms);
    return -1;
}

int e2e_server_stop(e2e_server_t *s)
{
    e2e_server_signal(s, SIGTERM);
    return e2e_server_wait(s, E2E_STOP_TIMEOUT_MS);
}

void e2e_server_stop_ok(e2e_server_t *s)
{
    int st = e2e_server_stop(s);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        e2e_server_dump_log(s);
        if (WIFSIGNALED(st)) fail_msg("gradingd died of signal %d after SIGTERM", WTERMSIG(st));
        fail_msg("gradingd exited with code %d after SIGTERM, expected 0", WEXITSTATUS(st));
    }
}

int e2e_server_shutdown_quiet(e2e_server_t *s)
{
    int status = 0;
    if (!s || !e2e_server_running(s, &status)) return 0;
    kill(s->pid, SIGTERM);
    int64_t deadline = e2e_now_ms() + E2E_STOP_TIMEOUT_MS;
    while (e2e_now_ms() < deadline) {
        if (!e2e_server_running(s, &status)) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
            fprintf(stderr, "e2e: gradingd ended with status 0x%x after SIGTERM (expected exit code 0)\n",
                    status);
            e2e_server_dump_log(s);
            return -1;
        }
        e2e_sleep_ms(POLL_MS);
    }
    e2e_server_kill(s);
    fprintf(stderr, "e2e: gradingd did not exit within %d ms of SIGTERM; killed\n", E2E_STOP_TIMEOUT_MS);
    e2e_server_dump_log(s);
    return -1;
}

int e2e_setup_server(void **state)
{
    /* no asserts here: cmocka runs no teardown after a failed setup, so
     * clean up before reporting */
    char why[E2E_PATH_MAX + 128];
    e2e_server_t *s = e2e_server_new(NULL);
    *state = NULL;
    if (!server_try_start(s, why, sizeof why)) {
        fprintf(stderr, "e2e: cannot start gradingd: %s\n", why);
        e2e_server_free(s);
        return -1;
    }
    *state = s;
    return 0;
}

int e2e_teardown_server(void **state)
{
    e2e_server_t *s = *state;
    int rc = e2e_server_shutdown_quiet(s);
    e2e_server_free(s);
    *state = NULL;
    return rc;
}

void e2e_server_kill(e2e_server_t *s)
{
    if (s->pid <= 0) return;
    kill(s->pid, SIGKILL);
    int st;
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {
    }
    s->pid = 0;
}

void e2e_server_restart(e2e_server_t *s)
{
    if (e2e_server_running(s, NULL)) fail_msg("e2e_server_restart: stop the server first");
    e2e_server_start(s);
}

void e2e_server_free(e2e_server_t *s)
{
    if (!s) return;
    e2e_server_kill(s);
    if (s->client) grading_client_free(s->client);
    if (s->dir[0] && e2e_rm_rf(s->dir) != 0)
        fprintf(stderr, "e2e: cannot remove %s: %s\n", s->dir, strerror(errno));
    free(s);
}

/* ---- programs ---- */

void e2e_run(const char *dir, const char *const *argv, int64_t timeout_ms, e2e_run_t *r)
{
    static unsigned seq;
    char out_path[E2E_PATH_MAX], err_path[E2E_PATH_MAX];
    seq++;
    snprintf(out_path, sizeof out_path, "%s/run%u.out", dir, seq);
    snprintf(err_path, sizeof err_path, "%s/run%u.err", dir, seq);
    memset(r, 0, sizeof *r);
    pid_t pid = spawn(argv, out_path, err_path, false);
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
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
            char *err = read_whole(err_path);
            fprintf(stderr, "stderr of %s:\n%s\n", argv[0], err ? err : "");
            free(err);
            fail_msg("%s %s did not exit within %lld ms; killed", argv[0], argv[1] ? argv[1] : "",
                     (long long)timeout_ms);
        }
        e2e_sleep_ms(5);
    }
    r->exited = WIFEXITED(st);
    r->code = r->exited ? WEXITSTATUS(st) : -1;
    r->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    r->out = read_whole(out_path);
    r->err = read_whole(err_path);
    if (!r->out || !r->err) fail_msg("out of memory reading the output of %s", argv[0]);
    if (r->exited && r->code == 127 && strstr(r->err, "e2e: execv failed"))
        fail_msg("cannot execute %s", argv[0]);
}

void e2e_gradectl(const e2e_server_t *s, e2e_run_t *r, ...)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = e2e_env("GRADECTL");
    argv[n++] = "--addr";
    argv[n++] = s->addr;
    /* the server's TLS, as the test's own clients use it */
    const char *const tls[][2] = {{"--tls-ca", s->conn.tls_ca}, {"--tls-cert", s->conn.tls_cert},
                                  {"--tls-key", s->conn.tls_key}, {"--token", s->conn.bearer_token}};
    for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++) {
        if (!tls[i][1]) continue;
        argv[n++] = tls[i][0];
        argv[n++] = tls[i][1];
    }
    va_list ap;
    va_start(ap, r);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL) {
        if (n >= sizeof argv / sizeof argv[0] - 1) fail_msg("too many gradectl arguments");
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    e2e_run(s->dir, argv, E2E_RUN_TIMEOUT_MS, r);
}

void e2e_run_destroy(e2e_run_t *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

size_t e2e_count_lines(const char *text)
{
    size_t n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        n++;
        if (!nl) break;
        p = nl + 1;
    }
    return n;
}

void e2e_write_file(const char *dir, const char *name, const char *text, char *path)
{
    snprintf(path, E2E_PATH_MAX, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) fail_msg("cannot create %s: %s", path, strerror(errno));
    size_t len = strlen(text);
    if (fwrite(text, 1, len, f) != len || fclose(f) != 0) fail_msg("cannot write %s", path);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int e2e_rm_rf(const char *path)
{
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

pid_t e2e_spawn(const char *const *argv, const char *log_path)
{
    return spawn(argv, log_path, log_path, true);
}
