/* The exemption benchmark (issue 15): the cost of declaring an exemption
 * over a marketplace of N sellers (default 100,000), and the hot read
 * meanwhile. A program, not a test.
 *
 * Seeds a store in process (tests/e2e/policy.yaml's testmart, each seller
 * ORDERS orders paid over October 2026, one in ten cancelled by the
 * seller, every seller derived), starts the single writer, and then, while
 * a reader thread reads random sellers' boosts in batches of 100 from the
 * store's snapshot (grading_store_boosts_get: what GetRankingBoosts
 * serves, without gRPC), declares an exemption of 10 days x
 * cancels_seller_fault (grading_exempt_declare: the record, then the walk
 * over every seller in pages through the writer). Prints the seconds of
 * the declaration, the sellers and orders it changed, and the read p50 /
 * p99 idle (2 s before) and during the walk.
 *
 *   grading_exempt_bench [--sellers N] [--orders K] [--policy FILE] */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchlib.h"
#include "grading/assess.h"
#include "grading/exempt_walk.h"
#include "grading/policy.h"

#define PROG "grading_exempt_bench"
#define MP "testmart"
#define TXN_EVENTS 20000
#define READ_BATCH 100
#define MAX_SAMPLES 4000000
#define OCT_START_MS INT64_C(1790812800000)   /* 2026-10-01T00:00:00Z */
#define DAY_MS INT64_C(86400000)

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct {
    char event_id[48], seller[24], ref[40];
} strs_t;

typedef struct {
    grading_store_t *st;
    uint32_t sellers;
    atomic_bool stop;
    atomic_int phase;            /* 0 idle, 1 during, 2 done */
    int64_t *lat[2];
    size_t n[2];
} reader_t;

static void *read_loop(void *arg)
{
    reader_t *r = arg;
    char ids[READ_BATCH][24];
    char *ptrs[READ_BATCH];
    double out[READ_BATCH];
    uint64_t rng = 88172645463325252ull;
    for (int i = 0; i < READ_BATCH; i++) ptrs[i] = ids[i];
    while (!atomic_load(&r->stop)) {
        for (int i = 0; i < READ_BATCH; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            snprintf(ids[i], sizeof ids[i], "s%07" PRIu32, (uint32_t)(rng % r->sellers));
        }
        int phase = atomic_load(&r->phase);
        int64_t t0 = mono_ns();
        (void)grading_store_boosts_get(r->st, MP, ptrs, READ_BATCH, 1.0, out);
        int64_t dt = mono_ns() - t0;
        if (phase < 2 && r->n[phase] < MAX_SAMPLES) r->lat[phase][r->n[phase]++] = dt;
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void pct(int64_t *v, size_t n, double *p50, double *p99)
{
    qsort(v, n, sizeof *v, cmp_i64);
    *p50 = n ? (double)v[n / 2] / 1000.0 : 0;
    *p99 = n ? (double)v[(size_t)((double)n * 0.99)] / 1000.0 : 0;
}

static grading_err_t seed(grading_store_t *st, grading_policy_t *p, const grading_marketplace_t *mp,
                          uint32_t sellers, uint32_t orders, grading_error_t *e)
{
    uint32_t cap = TXN_EVENTS + 2 * orders;
    grading_event_t *ev = calloc(cap, sizeof *ev);
    strs_t *s = calloc(cap, sizeof *s);
    const char **mps = calloc(cap, sizeof *mps);
    const grading_tz_t **zones = calloc(cap, sizeof *zones);
    grading_err_t err = GRADING_OK;
    if (!ev || !s || !mps || !zones) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < cap; i++) mps[i] = mp->name, zones[i] = &mp->tz;
    for (uint32_t i = 0; i < sellers && !err;) {
        uint32_t n = 0;
        for (; i < sellers && n < TXN_EVENTS; i++)
            for (uint32_t k = 0; k < orders; k++)
                for (int step = 0; step < 2; step++, n++) {
                    grading_event_t *v = &ev[n];
                    memset(v, 0, sizeof *v);
                    snprintf(s[n].seller, sizeof s[n].seller, "s%07" PRIu32, i);
                    snprintf(s[n].ref, sizeof s[n].ref, "o%" PRIu32, k);
                    snprintf(s[n].event_id, sizeof s[n].event_id, "s%07" PRIu32 "-%" PRIu32 "-%d", i, k, step);
                    v->event_id = s[n].event_id, v->marketplace = MP, v->seller_id = s[n].seller;
                    v->has_occurred_at = true;
                    v->occurred_ms = OCT_START_MS + (int64_t)((i + k) % 28) * DAY_MS + 3600000 * (1 + step);
                    v->ref_id = s[n].ref, v->product_id = "p1", v->currency = "KRW", v->name = "";
                    if (step == 0) {
                        v->kind = GRADING_EV_ORDER_PAID;
                        v->amount = 1000;
                        v->ship_within_days = 2;
                    } else if ((i + k) % 10 == 0) {
                        v->kind = GRADING_EV_ORDER_CANCELLED;
                        v->fault = GRADING_FAULT_SELLER;
                    } else {
                        v->kind = GRADING_EV_ORDER_SHIPPED;
                    }
                }
        grading_ingest_batch_t b = {.events = ev, .marketplaces = mps, .zones = zones, .n = n,
                                    .derive = grading_assess_derive_cb, .derive_ctx = p};
        err = grading_bench_seed_txn(st, &b, OCT_START_MS + 31 * DAY_MS, NULL, NULL, e);
    }
done:
    free(ev);
    free(s);
    free(mps);
    free(zones);
    return err;
}

static int64_t bench_clock(void *ctx)
{
    (void)ctx;
    return OCT_START_MS + 32 * DAY_MS;
}

int main(int argc, char **argv)
{
    uint32_t sellers = 100000, orders = 3;
    const char *policy_path = "tests/e2e/policy.yaml";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--sellers") == 0) sellers = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--orders") == 0) orders = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--policy") == 0) policy_path = argv[i + 1];
    }
    if (sellers == 0 || orders == 0 || orders > 1000) {
        fprintf(stderr, PROG ": --sellers and --orders (1..1000) must be positive\n");
        return 2;
    }
    char dir[256];
    grading_policy_t *p = NULL;
    grading_policy_diags_t diags = {0};
    grading_store_t *st = NULL;
    grading_ingest_t *in = NULL;
    grading_error_t e = {0};
    reader_t r = {.sellers = sellers};
    int rc = 1;
    if (grading_bench_tmpdir_make(PROG, "grading-exempt-bench", dir, sizeof dir)) return 1;
    if (grading_policy_load_file(policy_path, &p, &diags)) {
        fprintf(stderr, PROG ": cannot load %s (%zu problems)\n", policy_path, diags.count);
        goto done;
    }
    const grading_marketplace_t *mp = grading_policy_marketplace(p, MP);
    grading_store_options_t so = {.dir = dir, .map_size = UINT64_C(1) << 30};
    if (grading_store_open(&so, &st, &e)) goto fail;
    int64_t t0 = mono_ns();
    if (seed(st, p, mp, sellers, orders, &e)) goto fail;
    printf("seeded %" PRIu32 " sellers x %" PRIu32 " orders in %.1f s\n", sellers, orders,
           (double)(mono_ns() - t0) / 1e9);
    if (grading_ingest_start(st, bench_clock, NULL, &in)) {
        grading_error_set(&e, GRADING_EIO, "", "cannot start the writer");
        goto fail;
    }
    r.st = st;
    r.lat[0] = malloc(MAX_SAMPLES * sizeof(int64_t));
    r.lat[1] = malloc(MAX_SAMPLES * sizeof(int64_t));
    if (!r.lat[0] || !r.lat[1]) goto done;
    pthread_t th;
    if (pthread_create(&th, NULL, read_loop, &r)) goto done;
    struct timespec two = {2, 0};
    nanosleep(&two, NULL);   /* idle reads */
    const char *metrics[] = {"cancels_seller_fault"};
    grading_exempt_req_t req = {.marketplace = MP, .id = "bench-strike", .from = "2026-10-05", .to = "2026-10-14",
                                .metrics = metrics, .nmetrics = 1, .overseas = GRADING_EXEMPT_ANY,
                                .reason = "carrier_strike", .caller = "bench"};
    grading_exempt_result_t res;
    atomic_store(&r.phase, 1);
    t0 = mono_ns();
    grading_err_t err = grading_exempt_declare(st, in, p, &req, bench_clock(NULL), &res, &e);
    double secs = (double)(mono_ns() - t0) / 1e9;
    atomic_store(&r.phase, 2);
    atomic_store(&r.stop, true);
    pthread_join(th, NULL);
    if (err) goto fail;
    double i50, i99, d50, d99;
    pct(r.lat[0], r.n[0], &i50, &i99);
    pct(r.lat[1], r.n[1], &d50, &d99);
    printf("exemption over %" PRIu64 " sellers: %.2f s (%" PRIu64 " sellers and %" PRIu64 " orders changed)\n",
           res.sellers_walked, secs, res.sellers_changed, res.orders_changed);
    printf("boosts read of %d sellers, idle:   p50 %.1f us  p99 %.1f us  (%zu reads)\n", READ_BATCH, i50, i99, r.n[0]);
    printf("boosts read of %d sellers, during: p50 %.1f us  p99 %.1f us  (%zu reads)\n", READ_BATCH, d50, d99, r.n[1]);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, PROG ": %s: %s\n", e.field, e.message);
done:
    if (in) grading_ingest_stop(in);
    if (st) grading_store_close(st);
    grading_policy_unref(p);
    free(r.lat[0]);
    free(r.lat[1]);
    grading_bench_dir_remove(PROG, dir);
    return rc;
}
