/* The close bench's gradingd: started on 127.0.0.1:0 over the seeded data
 * directory, waited for (bounded) through its port file and Health, stopped
 * with SIGTERM (SIGKILL after a bounded wait); and a thread sampling its
 * /proc/<pid>/status for the memory figures.
 *
 * The child runs in its own process group, so ^C reaches only the bench,
 * which stops it in order; and it gets SIGTERM if the bench dies outright
 * (PR_SET_PDEATHSIG). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchlib.h"
#include "close_bench.h"

#define PROG "grading_close_bench"

void cb_server_print_log(const cb_server_t *s, int max_lines) { grading_bench_proc_print_log(PROG, &s->proc, max_lines); }

bool cb_server_log_has(const cb_server_t *s, const char *needle) { return grading_bench_proc_log_has(&s->proc, needle); }

int cb_server_stop(cb_server_t *s)
{
    int rc = grading_bench_proc_stop(PROG, &s->proc, CB_STOP_TIMEOUT_MS);
    cb_server_pid = 0;
    s->pid = 0;
    return rc;
}

int cb_server_start(cb_server_t *s, const char *bin, const char *policy, const char *work_dir,
                    const char *data_dir, uint64_t map_size)
{
    char portf[PATH_MAX], logf[PATH_MAX], map_arg[32];
    memset(s, 0, sizeof *s);
    snprintf(portf, sizeof portf, "%s/port", work_dir);
    snprintf(logf, sizeof logf, "%s/gradingd.log", work_dir);
    snprintf(map_arg, sizeof map_arg, "%" PRIu64, map_size);
    unlink(portf);

    const char *const argv[] = {bin, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--port-file",
                                portf, "--data-dir", data_dir, "--policy", policy, "--refresh-s", "0",
                                "--map-size", map_arg, NULL};
    if (grading_bench_proc_spawn(PROG, &s->proc, argv, logf)) return -1;
    cb_server_pid = s->proc.pid;
    int port = grading_bench_proc_wait_port(PROG, &s->proc, portf, CB_START_TIMEOUT_MS, &cb_stop);
    if (!port) {
        cb_server_stop(s);
        return -1;
    }
    s->pid = s->proc.pid;
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", port);
    return 0;
}

int cb_server_wait_serving(grading_client_t *c, int timeout_ms)
{
    return grading_bench_wait_serving(PROG, c, timeout_ms, &cb_stop);
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
