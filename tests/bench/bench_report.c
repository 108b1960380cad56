/* grading_bench's report: one row per case that ran, figures right-aligned,
 * each rate also given as a ratio to the floor (Health/Check calls/s),
 * which says more than absolute numbers from a shared, noisy machine; and
 * the context a reader needs to weigh them (threads, seconds, seeding,
 * server, machine, build type). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

/* CMAKE_BUILD_TYPE and GRADING_SANITIZE from the build dir's cache, if found. */
static void build_type(char *buf, size_t len)
{
    char dir[PATH_MAX], path[PATH_MAX + 32], line[512];
    char type[64] = "", sanitize[16] = "";
    bench_self_dir(dir, sizeof dir);
    snprintf(buf, len, "unknown");
    if (!dir[0]) return;
    snprintf(path, sizeof path, "%s/../CMakeCache.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "CMAKE_BUILD_TYPE:", 17) == 0 && strchr(line, '='))
            snprintf(type, sizeof type, "%s", strchr(line, '=') + 1);
        else if (strncmp(line, "GRADING_SANITIZE:", 17) == 0 && strchr(line, '='))
            snprintf(sanitize, sizeof sanitize, "%s", strchr(line, '=') + 1);
    }
    fclose(f);
    bool san = strcmp(sanitize, "ON") == 0 || strcmp(sanitize, "1") == 0 || strcmp(sanitize, "TRUE") == 0;
    /* An empty cache entry means the CMakeLists default. */
    snprintf(buf, len, "%s%s (from the build dir's CMakeCache.txt)", type[0] ? type : "RelWithDebInfo (default)",
             san ? " + ASan/UBSan" : "");
}

static void cpu_model(char *buf, size_t len)
{
    char line[512];
    snprintf(buf, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            const char *v = strchr(line, ':') + 1;
            while (*v == ' ' || *v == '\t') v++;
            snprintf(buf, len, "%s", v);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

static void fmt_rate(double v, char *buf, size_t len)
{
    if (v >= 100) snprintf(buf, len, "%.0f", v);
    else snprintf(buf, len, "%.1f", v);
}

void bench_print_report(const bench_case_result_t *rs, int nr, const bench_opts_t *o, const char *addr,
                        const char *bin, const char *policy, bool seeded)
{
    enum { COLS = 9 };
    static const char *const head[COLS] = {"case", "calls", "calls/s", "items/s", "p50 ms",
                                           "p99 ms", "max ms", "errors", "ratio to floor"};
    char cells[BENCH_MAX_CASES][COLS][64];
    int w[COLS];
    double floor_rate = 0;
    int rows = 0;

    for (int i = 0; i < nr; i++)
        if (rs[i].ran && rs[i].kind == CASE_HEALTH && rs[i].seconds > 0)
            floor_rate = (double)rs[i].calls / rs[i].seconds;
    for (int c = 0; c < COLS; c++) w[c] = (int)strlen(head[c]);
    for (int i = 0; i < nr && rows < BENCH_MAX_CASES; i++) {
        const bench_case_result_t *r = &rs[i];
        if (!r->ran) continue;
        double cps = r->seconds > 0 ? (double)r->calls / r->seconds : 0;
        double ips = r->seconds > 0 ? (double)r->items / r->seconds : 0;
        char(*row)[64] = cells[rows++];
        snprintf(row[0], 64, "%s", r->name);
        snprintf(row[1], 64, "%" PRIu64, r->calls);
        fmt_rate(cps, row[2], 64);
        if (r->batch) fmt_rate(ips, row[3], 64);
        else snprintf(row[3], 64, "-");
        snprintf(row[4], 64, "%.3f", r->p50_ms);
        snprintf(row[5], 64, "%.3f", r->p99_ms);
        snprintf(row[6], 64, "%.3f", r->max_ms);
        snprintf(row[7], 64, "%" PRIu64, r->errors);
        if (floor_rate <= 0) snprintf(row[8], 64, "-");
        else if (r->batch) snprintf(row[8], 64, "%.3fx calls, %.2fx items", cps / floor_rate, ips / floor_rate);
        else snprintf(row[8], 64, "%.3fx", cps / floor_rate);
        for (int c = 0; c < COLS; c++)
            if ((int)strlen(row[c]) > w[c]) w[c] = (int)strlen(row[c]);
    }

    char cpu[256], btype[160];
    struct utsname u;
    cpu_model(cpu, sizeof cpu);
    build_type(btype, sizeof btype);
    if (uname(&u) != 0) snprintf(u.machine, sizeof u.machine, "?");
    printf("\ngrading_bench: %d threads (one call in flight each), %d s per case, ", o->threads, o->seconds);
    if (seeded && o->seed_in_process)
        printf("%d sellers seeded in process with %d events each", o->sellers,
               BENCH_SEED_ORDERS_IN_PROCESS * BENCH_ORDER_EVENTS);
    else if (seeded)
        printf("%d sellers seeded with %d events each", o->sellers, BENCH_SEED_ORDERS * BENCH_ORDER_EVENTS);
    else printf("no sellers seeded (no case needed them)");
    printf(", marketplace %s\n", o->marketplace);
    printf("server: %s", addr);
    if (bin) printf(" (started: %s, policy %s)", bin, policy);
    printf("\nmachine: nproc %ld, %s, %s; build type: %s\n\n", sysconf(_SC_NPROCESSORS_ONLN), u.machine, cpu,
           btype);
    /* Names and the ratio left-aligned, figures right-aligned; no trailing blanks. */
    for (int c = 0; c < COLS; c++) {
        if (c == 0) printf("%-*s", w[c], head[c]);
        else if (c == COLS - 1) printf(" | %s", head[c]);
        else printf(" | %*s", w[c], head[c]);
    }
    printf("\n");
    for (int c = 0; c < COLS; c++) {
        if (c) printf("-|-");
        for (int k = 0; k < w[c]; k++) putchar('-');
    }
    printf("\n");
    for (int i = 0; i < rows; i++) {
        for (int c = 0; c < COLS; c++) {
            if (c == 0) printf("%-*s", w[c], cells[i][c]);
            else if (c == COLS - 1) printf(" | %s", cells[i][c]);
            else printf(" | %*s", w[c], cells[i][c]);
        }
        printf("\n");
    }
    printf("\nitems/s: events recorded (RecordEvents) or seller ids answered (GetRankingBoosts, about 1 in %d "
           "of them unknown) per second.\n",
           BENCH_UNKNOWN_ONE_IN);
    printf("ratio to floor: calls/s (and items/s) over Health/Check calls/s. Latency: nearest-rank "
           "percentiles of each call's round trip (client + server, same host).\n");
    printf("Note: figures from one noisy run on %ld cores shared by the client threads and the server: "
           "compare ratios, not absolute numbers.\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    for (int i = 0; i < nr; i++)
        if (rs[i].ran && rs[i].samples < rs[i].calls)
            printf("note: %s kept %zu latency samples of %" PRIu64 " calls (the first of each thread)\n",
                   rs[i].name, rs[i].samples, rs[i].calls);
}


void bench_print_peer_report(const bench_case_result_t *rs, const bench_peer_result_t *peer, int nr)
{
    if (!peer) {
        printf("\nRedis column skipped: redis-server or redis-benchmark is not on PATH "
               "(apt-get install redis-server redis-tools)\n");
        return;
    }
    printf("\nbeside Redis (same machine, same run, right after each case, same connections in flight):\n\n");
    printf("%-22s | %12s | %-44s | %12s | %6s | %s\n", "case", "grading /s", "Redis workload", "Redis /s", "ratio",
           "Redis p50 / p99 ms");
    printf("-----------------------|--------------|----------------------------------------------|--------------|"
           "--------|-------------------\n");
    for (int i = 0; i < nr; i++) {
        if (!rs[i].ran || !peer[i].ran) continue;
        double ips = rs[i].seconds > 0 ? (double)rs[i].items / rs[i].seconds : 0;
        printf("%-22s | %12.0f | %-44s | %12.0f | %6.2f | %.3f / %.3f\n", rs[i].name, ips, peer[i].workload,
               peer[i].items_per_s, peer[i].items_per_s > 0 ? ips / peer[i].items_per_s : 0, peer[i].p50_ms,
               peer[i].p99_ms);
    }
    printf("\n/s: events recorded or seller ids answered (grading); HINCRBY commands or keys read (Redis).\n"
           "ratio: grading over Redis. Redis runs in its own process with no validation, no derivation, "
           "no gRPC: the comparison is what a team would build instead.\n");
}

void bench_print_h2load_report(const bench_case_result_t *rs, const bench_h2load_result_t *h2,
                               const bench_peer_result_t *peer, int nr)
{
    if (!h2) {
        printf("\nh2load table skipped: h2load is not on PATH (apt-get install nghttp2-client)\n");
        return;
    }
    printf("\nGetRankingBoosts driven by h2load (one connection, as many streams in flight as threads; "
           "one request body repeated):\n\n");
    printf("%-22s | %10s | %12s | %14s | %12s | %12s | %6s\n", "case", "calls/s", "ids/s", "mean / max ms",
           "bench client", "Redis /s", "ratio");
    printf("-----------------------|------------|--------------|----------------|--------------|--------------|"
           "-------\n");
    for (int i = 0; i < nr; i++) {
        if (!h2[i].ran) continue;
        double bench_ips = rs[i].ran && rs[i].seconds > 0 ? (double)rs[i].items / rs[i].seconds : 0;
        char redis[16] = "-", ratio[16] = "-";
        if (peer && peer[i].ran && peer[i].items_per_s > 0) {
            snprintf(redis, sizeof redis, "%.0f", peer[i].items_per_s);
            snprintf(ratio, sizeof ratio, "%.2f", h2[i].items_per_s / peer[i].items_per_s);
        }
        printf("%-22s | %10.0f | %12.0f | %6.3f / %6.2f | %12.0f | %12s | %6s\n", rs[i].name, h2[i].calls_per_s,
               h2[i].items_per_s, h2[i].mean_ms, h2[i].max_ms, bench_ips, redis, ratio);
    }
    printf("\nids/s: seller ids answered; bench client: the same case's ids/s with the bench's own grpc clients; "
           "ratio: h2load-driven grading over Redis (with --peer redis).\n");
}

void bench_print_memory(const bench_server_t *srv, const bench_opts_t *o)
{
    uint64_t rss, anon, file;
    if (srv->proc.pid <= 0 || !grading_bench_rss_kib(srv->proc.pid, &rss, &anon, &file)) return;
    printf("\ngradingd's resident memory after the cases, %d sellers: VmRSS %.1f MiB = RssAnon %.1f MiB "
           "(its own: heap with the boost snapshot, stacks) + RssFile %.1f MiB (mostly LMDB's map: page cache)\n",
           o->sellers, (double)rss / 1024, (double)anon / 1024, (double)file / 1024);
}
