/* grading_bench --h2load: the GetRankingBoosts cases again with nghttp2's
 * h2load as the client.
 *
 * The bench's own clients are grpc C core channels on the same two cores
 * as the server, and at small batches they, not the server, set the rate
 * (GetRankingBoosts x1 runs at the Health floor). h2load is a lean HTTP/2
 * client, as redis-benchmark is for Redis: one connection with as many
 * streams in flight as the bench has threads, one request body (a gRPC
 * frame of a GetRankingBoostsRequest) sent over and over for --seconds.
 *
 * h2load cannot read gRPC trailers, so each answer is checked by size: a
 * gRPC error is trailers-only (no DATA), while a good answer is a message
 * of as many boosts as ids, at least 5 + 1 + len + 8 x ids bytes; the DATA
 * received must add up to that for every succeeded request. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define PROG "grading_bench"
#define H2_RUN_MARGIN_MS 60000   /* beyond --seconds before h2load is stopped */
#define H2_STOP_MS 5000
#define H2_SEED UINT64_C(0x68326c6f6164)

bool bench_h2load_find(char *buf, size_t len)
{
    return grading_bench_on_path("h2load", buf, len);
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* The gRPC frame of one request of n ids, written to path. */
static int write_body(const char *path, const bench_opts_t *o, const bench_names_t *names, uint32_t n)
{
    char **ids = calloc(n, sizeof *ids);
    bool *unknown = calloc(n, sizeof *unknown);
    uint8_t *buf = NULL;
    FILE *f;
    int rc = -1;
    uint64_t rng = H2_SEED;
    if (!ids || !unknown) {
        fprintf(stderr, "%s: out of memory making the h2load request body\n", PROG);
        goto done;
    }
    bench_pick_ids(names, &rng, n, ids, unknown);
    Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    req.marketplace = (char *)o->marketplace;
    req.n_seller_ids = n;
    req.seller_ids = ids;
    size_t len = grading__v1__get_ranking_boosts_request__get_packed_size(&req);
    if (!(buf = malloc(5 + len))) {
        fprintf(stderr, "%s: out of memory making the h2load request body\n", PROG);
        goto done;
    }
    buf[0] = 0;   /* not compressed */
    buf[1] = (uint8_t)(len >> 24);
    buf[2] = (uint8_t)(len >> 16);
    buf[3] = (uint8_t)(len >> 8);
    buf[4] = (uint8_t)len;
    grading__v1__get_ranking_boosts_request__pack(&req, buf + 5);
    if (!(f = fopen(path, "wb"))) {
        fprintf(stderr, "%s: cannot create %s\n", PROG, path);
        goto done;
    }
    bool written = fwrite(buf, 1, 5 + len, f) == 5 + len;
    if (fclose(f) != 0 || !written) {
        fprintf(stderr, "%s: cannot write %s\n", PROG, path);
        goto done;
    }
    rc = 0;
done:
    free(buf);
    free(ids);
    free(unknown);
    return rc;
}

/* "695us", "6.10ms", "1.2s" in milliseconds; negative when not a time. */
static double parse_time_ms(const char *tok)
{
    char *end;
    double v = strtod(tok, &end);
    if (end == tok) return -1;
    if (strncmp(end, "us", 2) == 0) return v / 1000;
    if (strncmp(end, "ms", 2) == 0) return v;
    if (*end == 's') return v * 1000;
    return -1;
}

typedef struct {
    double seconds, rps, mean_ms, max_ms;
    uint64_t total, done, succeeded, failed, errored, timeout, ok2xx, data_bytes;
    int have;   /* lines found, one bit each */
} h2_figures_t;

static int parse_output(const char *path, h2_figures_t *f)
{
    FILE *in = fopen(path, "r");
    char line[1024];
    memset(f, 0, sizeof *f);
    if (!in) return -1;
    while (fgets(line, sizeof line, in)) {
        uint64_t started;
        if (sscanf(line, "finished in %lfs, %lf req/s", &f->seconds, &f->rps) == 2) f->have |= 1;
        else if (sscanf(line, "requests: %" SCNu64 " total, %" SCNu64 " started, %" SCNu64 " done, %" SCNu64
                              " succeeded, %" SCNu64 " failed, %" SCNu64 " errored, %" SCNu64 " timeout",
                        &f->total, &started, &f->done, &f->succeeded, &f->failed, &f->errored, &f->timeout) == 7)
            f->have |= 2;
        else if (sscanf(line, "status codes: %" SCNu64 " 2xx", &f->ok2xx) == 1) f->have |= 4;
        else if (strncmp(line, "traffic:", 8) == 0) {
            char *d = strstr(line, ") data");
            char *open = d;
            while (open && open > line && *open != '(') open--;
            if (d && open && *open == '(' && sscanf(open + 1, "%" SCNu64, &f->data_bytes) == 1) f->have |= 8;
        } else if (strncmp(line, "time for request:", 17) == 0) {
            char a[32], b[32], c[32];
            if (sscanf(line + 17, "%31s %31s %31s", a, b, c) == 3) {
                f->max_ms = parse_time_ms(b);
                f->mean_ms = parse_time_ms(c);
                if (f->max_ms >= 0 && f->mean_ms >= 0) f->have |= 16;
            }
        }
    }
    fclose(in);
    return f->have == 31 ? 0 : -1;
}

int bench_h2load_run_case(const char *h2load, const bench_case_def_t *cd, const bench_opts_t *o,
                          const bench_names_t *names, const char *addr, bench_h2load_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (cd->kind != CASE_BOOSTS || cd->scrape) return 0;
    uint32_t n = cd->batch ? cd->batch : 1;
    char dir[64], body[128], log[128], url[256], secs[16], streams[16];
    grading_bench_proc_t proc = {0};
    h2_figures_t f;
    int rc = -1, status = 0;
    if (strncmp(addr, "unix:", 5) == 0) {
        fprintf(stderr, "%s: --h2load needs a TCP address, not %s\n", PROG, addr);
        return -1;
    }
    if (grading_bench_tmpdir_make(PROG, "grading-h2load", dir, sizeof dir)) return -1;
    snprintf(body, sizeof body, "%s/request.bin", dir);
    snprintf(log, sizeof log, "%s/h2load.out", dir);
    snprintf(url, sizeof url, "http://%s/grading.v1.GradingService/GetRankingBoosts", addr);
    snprintf(secs, sizeof secs, "%d", o->seconds);
    snprintf(streams, sizeof streams, "%d", o->threads);
    if (write_body(body, o, names, n)) goto done;
    const char *const argv[] = {h2load, "-D", secs, "-c", "1", "-m", streams, "-t", "1",
                                "-H", "content-type: application/grpc", "-H", "te: trailers",
                                "-d", body, url, NULL};
    fprintf(stderr, "%s: %s driven by h2load (1 connection, %s streams) for %s s...\n", PROG, cd->name, streams,
            secs);
    if (grading_bench_proc_run(PROG, &proc, argv, log, o->seconds * 1000 + H2_RUN_MARGIN_MS, H2_STOP_MS, &bench_stop,
                               &status))
        goto done;
    if (status != 0 || parse_output(log, &f) != 0) {
        fprintf(stderr, "%s: h2load gave no figures (status 0x%x)\n", PROG, (unsigned)status);
        grading_bench_proc_print_log(PROG, &proc, 12);
        goto done;
    }
    uint64_t min_answer = 5 + 1 + varint_len(8 * (uint64_t)n) + 8 * (uint64_t)n;
    if (f.succeeded == 0 || f.failed || f.errored || f.timeout || f.ok2xx != f.succeeded ||
        f.data_bytes < f.succeeded * min_answer) {
        fprintf(stderr,
                "%s: %s under h2load: %" PRIu64 " succeeded, %" PRIu64 " failed, %" PRIu64 " errored, %" PRIu64
                " timed out, %" PRIu64 " HTTP 2xx, %" PRIu64 " bytes of answers (want at least %" PRIu64
                " each): some calls did not get %u boosts\n",
                PROG, cd->name, f.succeeded, f.failed, f.errored, f.timeout, f.ok2xx, f.data_bytes, min_answer, n);
        grading_bench_proc_print_log(PROG, &proc, 12);
        goto done;
    }
    out->ran = true;
    out->calls = f.succeeded;
    out->calls_per_s = f.rps;
    out->items_per_s = f.rps * n;
    out->mean_ms = f.mean_ms;
    out->max_ms = f.max_ms;
    rc = 0;
done:
    grading_bench_dir_remove(PROG, dir);
    return rc;
}
