/* grading_bench's own gradingd: without --addr the bench starts one on
 * 127.0.0.1:0 with a fresh data directory under /tmp, waits (bounded) for
 * its port file and for Health SERVING, and at the end stops it with
 * SIGTERM (SIGKILL after a bounded wait) and removes the directory. The
 * child runs in its own process group, so ^C reaches only the bench, which
 * stops it in order; and it dies with the bench if that is killed. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "benchlib.h"


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

void bench_server_stop(bench_server_t *s)
{
    if (s->proc.pid > 0) grading_bench_proc_stop("grading_bench", &s->proc, BENCH_STOP_TIMEOUT_MS);
    grading_bench_dir_remove("grading_bench", s->dir);
    s->dir[0] = '\0';
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
    if (grading_bench_tmpdir_make("grading_bench", "grading-bench", s->dir, sizeof s->dir)) return -1;
    snprintf(data, sizeof data, "%s/data", s->dir);
    snprintf(portf, sizeof portf, "%s/port", s->dir);
    snprintf(logf, sizeof logf, "%s/gradingd.log", s->dir);
    snprintf(aportf, sizeof aportf, "%s/admin_port", s->dir);

    char map[32];
    snprintf(map, sizeof map, "%" PRIu64, bench_seed_map_size(o));
    if (o->seed_in_process && bench_seed_in_process(o, policy, data)) goto fail;
    /* a store seeded in process may be larger than gradingd's default map */
    const char *const argv[] = {bin, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                                "--port-file", portf, "--data-dir", data, "--policy", policy,
                                "--admin-port-file", aportf, o->seed_in_process ? "--map-size" : NULL, map, NULL};
    if (grading_bench_proc_spawn("grading_bench", &s->proc, argv, logf)) goto fail;
    int port = grading_bench_proc_wait_port("grading_bench", &s->proc, portf, BENCH_START_TIMEOUT_MS, &bench_stop);
    if (!port) goto fail;
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%d", port);
    int aport = grading_bench_read_port(aportf);   /* written before the port file */
    if (aport) snprintf(s->admin_addr, sizeof s->admin_addr, "127.0.0.1:%d", aport);
    return 0;
fail:
    bench_server_stop(s);
    return -1;
}

/* Waits until the server answers this client SERVING, or the deadline. */
int bench_wait_serving(grading_client_t *c, int64_t deadline)
{
    int64_t left_ms = (deadline - bench_mono_ns()) / 1000000;
    return grading_bench_wait_serving("grading_bench", c, left_ms > 0 ? (int)left_ms : 0, &bench_stop);
}
