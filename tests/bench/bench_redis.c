/* grading_bench --peer redis: the matching Redis workload right after each
 * write and boost case, at the same concurrency, for a ratio column.
 *
 * What a team would reach for instead of grading, measured on the same
 * machine in the same run:
 *   RecordEvents xB      HINCRBY of a random seller's hash, B pipelined per
 *                        connection (-P B), into a private redis-server
 *                        with `appendonly yes`, `appendfsync always`: as
 *                        durable as an acknowledged event;
 *   GetRankingBoosts xB  MGET of B random keys (GET when B is 1) from a
 *                        private redis-server without persistence, seeded
 *                        with one key per seller.
 * redis-benchmark runs with -c threads (one request or pipeline in flight
 * per connection, as the bench's threads), first briefly to learn the rate,
 * then for about --seconds. Each case gets a fresh redis-server in its own
 * temp dir on a free loopback port, stopped and removed after it. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define PROG "grading_bench"
#define REDIS_START_MS 10000
#define REDIS_STOP_MS 10000
#define REDIS_RUN_MS (15 * 60 * 1000)   /* one redis-benchmark run at most */
#define REDIS_MAX_REQUESTS 200000000
#define REDIS_SEED_CHUNK 1000           /* SETs written before their replies are read */
#define REDIS_PORT_TRIES 3

bool bench_redis_find(bench_redis_t *r)
{
    memset(r, 0, sizeof *r);
    r->available = grading_bench_on_path("redis-server", r->server, sizeof r->server) &&
                   grading_bench_on_path("redis-benchmark", r->benchmark, sizeof r->benchmark);
    return r->available;
}

/* ---- a tiny RESP client: readiness and seeding ---- */

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads exactly len bytes and compares them with want. */
static bool expect_bytes(int fd, const char *want, size_t len)
{
    char buf[4096];
    while (len) {
        size_t chunk = len < sizeof buf ? len : sizeof buf;
        size_t got = 0;
        while (got < chunk) {
            ssize_t n = recv(fd, buf + got, chunk - got, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            got += (size_t)n;
        }
        if (memcmp(buf, want, chunk) != 0) return false;
        want += chunk;
        len -= chunk;
    }
    return true;
}

static bool ping(int port)
{
    int fd = connect_port(port);
    if (fd < 0) return false;
    bool ok = send_all(fd, "PING\r\n", 6) && expect_bytes(fd, "+PONG\r\n", 7);
    close(fd);
    return ok;
}

/* SET b:<12 digits> for every seller, as redis-benchmark's __rand_int__
 * names them; the value is a boost's text. */
static int seed_keys(int port, int sellers)
{
    enum { ONE = 64 };
    static char okreplies[REDIS_SEED_CHUNK * 5 + 1];
    char *buf = malloc((size_t)REDIS_SEED_CHUNK * ONE);
    int fd = connect_port(port);
    int rc = -1;
    if (!buf || fd < 0) goto fail;
    for (int i = 0; i < REDIS_SEED_CHUNK; i++) memcpy(okreplies + 5 * i, "+OK\r\n", 5);
    for (int at = 0; at < sellers;) {
        size_t len = 0;
        int n = 0;
        for (; n < REDIS_SEED_CHUNK && at < sellers; n++, at++)
            len += (size_t)snprintf(buf + len, ONE, "*3\r\n$3\r\nSET\r\n$14\r\nb:%012d\r\n$4\r\n1.25\r\n", at);
        if (!send_all(fd, buf, len) || !expect_bytes(fd, okreplies, (size_t)n * 5)) goto fail;
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "%s: seeding Redis failed\n", PROG);
    if (fd >= 0) close(fd);
    free(buf);
    return rc;
}

/* ---- the private redis-server ---- */

typedef struct {
    grading_bench_proc_t proc;
    char dir[64];
    int port;
} redis_srv_t;

static void redis_stop(redis_srv_t *s)
{
    if (s->proc.pid > 0) grading_bench_proc_stop(PROG, &s->proc, REDIS_STOP_MS);
    grading_bench_dir_remove(PROG, s->dir);
    s->dir[0] = '\0';
}

/* Starts redis-server in a fresh temp dir on a free loopback port; durable:
 * AOF with an fsync per write, else no persistence at all. */
static int redis_start(const bench_redis_t *r, bool durable, redis_srv_t *s)
{
    char log[128], port[16];
    memset(s, 0, sizeof *s);
    if (grading_bench_tmpdir_make(PROG, "grading-bench-redis", s->dir, sizeof s->dir)) return -1;
    snprintf(log, sizeof log, "%s/redis.log", s->dir);
    /* The port is free when chosen; another program may take it before
     * redis binds it, so a start that fails is tried again on another. */
    for (int attempt = 0; attempt < REDIS_PORT_TRIES && !bench_stop; attempt++) {
        s->port = grading_bench_free_loopback_port();
        if (!s->port) break;
        snprintf(port, sizeof port, "%d", s->port);
        const char *const argv[] = {r->server, "--port", port, "--bind", "127.0.0.1", "--dir", s->dir,
                                    "--save", "", "--appendonly", durable ? "yes" : "no",
                                    "--appendfsync", "always", "--daemonize", "no", "--protected-mode", "yes",
                                    NULL};
        if (grading_bench_proc_spawn(PROG, &s->proc, argv, log)) break;
        int64_t deadline = bench_mono_ns() + (int64_t)REDIS_START_MS * 1000000;
        int status = 0;
        while (!bench_stop && bench_mono_ns() < deadline && !grading_bench_proc_exited(&s->proc, &status)) {
            if (ping(s->port)) return 0;
            bench_sleep_ms(BENCH_POLL_MS);
        }
        if (s->proc.pid > 0) {   /* running but not answering: not a port clash */
            fprintf(stderr, "%s: redis-server did not answer PING within %d ms\n", PROG, REDIS_START_MS);
            break;
        }
    }
    fprintf(stderr, "%s: cannot start redis-server\n", PROG);
    grading_bench_proc_print_log(PROG, &s->proc, 20);
    redis_stop(s);
    return -1;
}

/* ---- redis-benchmark ---- */

typedef struct {
    double rps, p50_ms, p99_ms;
} rb_figures_t;

/* Parses redis-benchmark --csv: a header row, then one row per test. */
static int parse_csv(const char *path, rb_figures_t *f)
{
    FILE *in = fopen(path, "r");
    char line[16384];
    int rc = -1;
    if (!in) return -1;
    while (fgets(line, sizeof line, in)) {
        if (line[0] != '"' || strncmp(line, "\"test\"", 6) == 0) continue;
        /* "<command>","rps","avg","min","p50","p95","p99","max" */
        char *p = strstr(line, "\",\"");
        double v[7];
        int got = 0;
        while (p && got < 7) {
            p += 3;
            v[got++] = strtod(p, NULL);
            p = strstr(p, "\",\"");
        }
        if (got == 7 && v[0] > 0) {
            f->rps = v[0];
            f->p50_ms = v[3];
            f->p99_ms = v[5];
            rc = 0;
        }
    }
    fclose(in);
    return rc;
}

/* One redis-benchmark run of `requests` commands; figures from its CSV. */
static int run_benchmark(const bench_redis_t *r, const redis_srv_t *s, int clients, uint32_t pipeline,
                         int keyspace, const char *const *cmd, int ncmd, uint64_t requests, rb_figures_t *f)
{
    char port[16], c[16], n[24], p[16], k[16], out[128];
    const char **argv = calloc((size_t)ncmd + 16, sizeof *argv);
    grading_bench_proc_t proc = {0};
    int rc = -1, at = 0, status = 0;
    if (!argv) return -1;
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(c, sizeof c, "%d", clients);
    snprintf(n, sizeof n, "%" PRIu64, requests);
    snprintf(p, sizeof p, "%" PRIu32, pipeline);
    snprintf(k, sizeof k, "%d", keyspace);
    snprintf(out, sizeof out, "%s/benchmark.csv", s->dir);
    argv[at++] = r->benchmark;
    argv[at++] = "-h";
    argv[at++] = "127.0.0.1";
    argv[at++] = "-p";
    argv[at++] = port;
    argv[at++] = "-c";
    argv[at++] = c;
    argv[at++] = "-n";
    argv[at++] = n;
    argv[at++] = "-P";
    argv[at++] = p;
    argv[at++] = "-r";
    argv[at++] = k;
    argv[at++] = "--csv";
    for (int i = 0; i < ncmd; i++) argv[at++] = cmd[i];
    argv[at] = NULL;
    if (grading_bench_proc_run(PROG, &proc, argv, out, REDIS_RUN_MS, REDIS_STOP_MS, &bench_stop, &status)) goto done;
    if (parse_csv(out, f) != 0) {
        fprintf(stderr, "%s: redis-benchmark gave no figures (status 0x%x)\n", PROG, (unsigned)status);
        grading_bench_proc_print_log(PROG, &proc, 10);
        goto done;
    }
    rc = 0;
done:
    free(argv);
    return rc;
}

int bench_redis_run_case(const bench_redis_t *r, const bench_case_def_t *cd, const bench_opts_t *o,
                         bench_peer_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (!r->available || cd->scrape || (cd->kind != CASE_RECORD && cd->kind != CASE_BOOSTS)) return 0;
    bool write = cd->kind == CASE_RECORD;
    uint32_t batch = cd->batch ? cd->batch : 1;
    int keyspace = o->sellers;
    /* RecordEvents xB: B HINCRBYs pipelined; GetRankingBoosts xB: one MGET
     * of B keys (GET for one). */
    uint32_t pipeline = write ? batch : 1;
    uint32_t items_per_request = write ? 1 : batch;
    int ncmd = write ? 4 : (batch == 1 ? 2 : 1 + (int)batch);
    const char **cmd = calloc((size_t)ncmd, sizeof *cmd);
    redis_srv_t s = {0};
    int rc = -1;
    if (!cmd) return -1;
    if (write) {
        cmd[0] = "HINCRBY", cmd[1] = "h:__rand_int__", cmd[2] = "paid", cmd[3] = "1";
        snprintf(out->workload, sizeof out->workload, "HINCRBY%s x%" PRIu32 ", appendfsync always",
                 batch > 1 ? " pipelined" : "", batch);
    } else {
        cmd[0] = batch == 1 ? "GET" : "MGET";
        for (int i = 1; i < ncmd; i++) cmd[i] = "b:__rand_int__";
        snprintf(out->workload, sizeof out->workload, "%s x%" PRIu32 ", no persistence", cmd[0], batch);
    }
    if (redis_start(r, write, &s)) goto done;
    if (!write && seed_keys(s.port, keyspace)) goto done;
    fprintf(stderr, "%s: Redis %s...\n", PROG, out->workload);
    /* A short run to learn the rate, then about --seconds of it. */
    rb_figures_t f;
    uint64_t probe = (uint64_t)o->threads * pipeline * 20;
    if (run_benchmark(r, &s, o->threads, pipeline, keyspace, cmd, ncmd, probe, &f)) goto done;
    double want = f.rps * o->seconds;
    uint64_t requests = want < (double)probe ? probe : want > REDIS_MAX_REQUESTS ? REDIS_MAX_REQUESTS : (uint64_t)want;
    if (run_benchmark(r, &s, o->threads, pipeline, keyspace, cmd, ncmd, requests, &f)) goto done;
    out->items_per_s = f.rps * items_per_request;
    out->p50_ms = f.p50_ms;
    out->p99_ms = f.p99_ms;
    out->ran = true;
    rc = 0;
done:
    redis_stop(&s);
    free(cmd);
    return rc;
}
