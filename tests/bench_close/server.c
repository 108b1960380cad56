/* The close bench's gradingd: started on 127.0.0.1:0 over the seeded data
 * directory, waited for (bounded) through its port file and Health, stopped
 * with SIGTERM (SIGKILL after a bounded wait); and a thread sampling its
 * /proc/<pid>/status for the memory figures.
 *
 * The child runs in its own process group, so ^C reaches only the bench,
 * which stops it in order; and it gets SIGTERM if the bench dies outright
 * (PR_SET_PDEATHSIG). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "close_bench.h"
#include "grpc/health/v1/health.pb-c.h"

#define LOG_LINE 512

static bool exited(cb_server_t *s, int *status)
{
    if (s->pid <= 0) return true;
    pid_t r = waitpid(s->pid, status, WNOHANG);
    if (r == s->pid || (r < 0 && errno == ECHILD)) {
        s->pid = 0;
        cb_server_pid = 0;
        return true;
    }
    return false;
}

void cb_server_print_log(const cb_server_t *s, int max_lines)
{
    FILE *f = fopen(s->log_path, "r");
    if (!f) return;
    /* the last max_lines lines: a ring of them */
    char (*ring)[LOG_LINE] = calloc((size_t)max_lines, LOG_LINE);
    if (!ring) {
        fclose(f);
        return;
    }
    long n = 0;
    while (fgets(ring[n % max_lines], LOG_LINE, f)) n++;
    fclose(f);
    fprintf(stderr, "grading_close_bench: gradingd's log (%s):\n", s->log_path);
    for (long i = n > max_lines ? n - max_lines : 0; i < n; i++) fprintf(stderr, "  | %s", ring[i % max_lines]);
    free(ring);
}

bool cb_server_log_has(const cb_server_t *s, const char *needle)
{
    FILE *f = fopen(s->log_path, "r");
    if (!f) return false;
    char line[LOG_LINE];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int port = 0;
    if (fscanf(f, "%d", &port) != 1 || port <= 0 || port > 65535) port = 0;
    fclose(f);
    return port;
}

int cb_server_stop(cb_server_t *s)
{
    if (s->pid <= 0) return 0;
    int status = 0;
    kill(s->pid, SIGTERM);
    bool gone = false;
    for (int waited = 0; waited < CB_STOP_TIMEOUT_MS && !(gone = exited(s, &status)); waited += CB_POLL_MS)
        cb_sleep_ms(CB_POLL_MS);
    if (!gone) {
        fprintf(stderr, "grading_close_bench: gradingd did not stop within %d ms of SIGTERM; killing it\n",
                CB_STOP_TIMEOUT_MS);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
        s->pid = 0;
        cb_server_pid = 0;
        cb_server_print_log(s, 40);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "grading_close_bench: gradingd ended badly (status 0x%x)\n", (unsigned)status);
        cb_server_print_log(s, 40);
        return -1;
    }
    return 0;
}

int cb_server_start(cb_server_t *s, const char *bin, const char *policy, const char *work_dir,
                    const char *data_dir, uint64_t map_size)
{
    char portf[PATH_MAX], map_arg[32];
    memset(s, 0, sizeof *s);
    snprintf(portf, sizeof portf, "%s/port", work_dir);
    snprintf(s->log_path, sizeof s->log_path, "%s/gradingd.log", work_dir);
    snprintf(map_arg, sizeof map_arg, "%" PRIu64, map_size);
    unlink(portf);

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "grading_close_bench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(127);
        int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(bin, bin, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--port-file", portf, "--data-dir", data_dir, "--policy",
              policy, "--refresh-s", "0", "--map-size", map_arg, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    s->pid = pid;
    cb_server_pid = pid;

    int port = 0, status = 0;
    for (int waited = 0; waited < CB_START_TIMEOUT_MS && !cb_stop; waited += CB_POLL_MS) {
        if ((port = read_port(portf))) break;
        if (exited(s, &status)) {
            fprintf(stderr, "grading_close_bench: gradingd exited at start-up (status 0x%x)\n", (unsigned)status);
            cb_server_print_log(s, 40);
            return -1;
        }
        cb_sleep_ms(CB_POLL_MS);
    }
    if (!port) {
        fprintf(stderr, "grading_close_bench: gradingd wrote no port file within %d ms\n", CB_START_TIMEOUT_MS);
        cb_server_stop(s);
        cb_server_print_log(s, 40);
        return -1;
    }
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", port);
    return 0;
}

int cb_server_wait_serving(grading_client_t *c, int timeout_ms)
{
    char last[200] = "no answer";
    int64_t deadline = cb_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (!cb_stop && cb_mono_ns() < deadline) {
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
        cb_sleep_ms(100);
    }
    fprintf(stderr, "grading_close_bench: gradingd was not SERVING within %d ms (last: %s)\n", timeout_ms, last);
    return -1;
}

/* ---- memory sampling ---- */

static const char *const MEM_KEYS[CB_MEM_N] = {"VmHWM:", "VmRSS:", "RssAnon:", "RssFile:"};

/* One sample of the four fields, in kB; false when the process is gone. */
static bool sample(pid_t pid, uint64_t kb[CB_MEM_N])
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    int got = 0;
    while (got < CB_MEM_N && fgets(line, sizeof line, f)) {
        for (int k = 0; k < CB_MEM_N; k++) {
            size_t len = strlen(MEM_KEYS[k]);
            if (strncmp(line, MEM_KEYS[k], len) == 0) {
                kb[k] = strtoull(line + len, NULL, 10);
                got++;
            }
        }
    }
    fclose(f);
    return got == CB_MEM_N;
}

static void *mem_main(void *arg)
{
    cb_mem_t *m = arg;
    while (!atomic_load(&m->stop)) {   /* cb_mem_stop ends it */
        uint64_t kb[CB_MEM_N] = {0};
        if (sample(m->pid, kb)) {
            pthread_mutex_lock(&m->mu);
            for (int k = 0; k < CB_MEM_N; k++) {
                m->last_kb[k] = kb[k];
                if (kb[k] > m->peak_kb[k]) m->peak_kb[k] = kb[k];
            }
            m->samples++;
            pthread_mutex_unlock(&m->mu);
        }
        struct timespec ts = {0, CB_SAMPLE_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int cb_mem_start(cb_mem_t *m, pid_t pid)
{
    memset(m, 0, sizeof *m);
    m->pid = pid;
    atomic_init(&m->stop, false);
    pthread_mutex_init(&m->mu, NULL);
    if (pthread_create(&m->thread, NULL, mem_main, m)) {
        pthread_mutex_destroy(&m->mu);
        return -1;
    }
    m->running = true;
    return 0;
}

void cb_mem_read(cb_mem_t *m, uint64_t peak_kb[CB_MEM_N], uint64_t last_kb[CB_MEM_N], uint32_t *samples)
{
    bool locked = m->running;   /* after cb_mem_stop the figures are final */
    if (locked) pthread_mutex_lock(&m->mu);
    memcpy(peak_kb, m->peak_kb, sizeof m->peak_kb);
    memcpy(last_kb, m->last_kb, sizeof m->last_kb);
    *samples = m->samples;
    if (locked) pthread_mutex_unlock(&m->mu);
}

void cb_mem_stop(cb_mem_t *m)
{
    if (!m->running) return;
    atomic_store(&m->stop, true);
    pthread_join(m->thread, NULL);
    pthread_mutex_destroy(&m->mu);
    m->running = false;
}
