/* The forecast benchmark (issue 15 §5): the cost of one GetGradeForecast
 * of 30 and of 365 days for a busy seller, in process (the grade layer's
 * grading_forecast_read: one read transaction, the day rows read once, each
 * day evaluated from sums in memory, the threshold search today).
 *
 *   grading_forecast_bench [--reps N] POLICY.yaml...
 *
 * Per policy (its default marketplace): a seller with a row on every one
 * of the last 800 days (orders, shipments, a few late, cancels, returns,
 * inquiries, reviews), then N forecasts of each length; prints the median
 * and the worst in milliseconds. A program, not a test. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchlib.h"
#include "grading/forecast.h"
#include "grading/policy.h"
#include "grading/store.h"

#define PROG "grading_forecast_bench"
#define SELLER "bench-seller"
#define HISTORY_DAYS 800
#define AS_OF_MS INT64_C(1796083200000)   /* 2026-12-01T00:00:00Z */
#define MAX_REPS 1000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A row on each of the HISTORY_DAYS days up to as_of's. */
static int seed(grading_store_t *st, const grading_marketplace_t *mp)
{
    grading_txn_t *txn;
    if (grading_store_write_begin(st, NULL, &txn)) return -1;
    int32_t today = grading_tz_day(&mp->tz, AS_OF_MS);
    grading_err_t err = GRADING_OK;
    for (int32_t i = 0; i < HISTORY_DAYS && !err; i++) {
        grading_day_counters_t d;
        grading_day_counters_init(&d);
        d.c[GRADING_C_ORDERS] = 40 + i % 7;
        d.c[GRADING_C_GMV] = 400000 + 1000 * (i % 13);
        d.c[GRADING_C_SHIPPED] = 38 + i % 5;
        d.c[GRADING_C_SHIPPED_ON_TIME] = 36 + i % 5 - (i % 11 == 0);
        d.c[GRADING_C_SHIPPED_TRACKING_VALID] = d.c[GRADING_C_SHIPPED];
        d.c[GRADING_C_DELIVERED] = 37;
        d.c[GRADING_C_CANCELS] = 1 + i % 3;
        d.c[GRADING_C_CANCELS_SELLER_FAULT] = i % 9 == 0;
        d.c[GRADING_C_CANCELS_BUYER_FAULT] = d.c[GRADING_C_CANCELS] - d.c[GRADING_C_CANCELS_SELLER_FAULT];
        d.c[GRADING_C_RETURNS] = i % 4 == 0;
        d.c[GRADING_C_INQUIRIES] = 3;
        d.c[GRADING_C_INQUIRIES_ANSWERED] = 3;
        d.c[GRADING_C_INQUIRIES_ANSWERED_24H] = 2 + (i % 3 != 0);
        d.c[GRADING_C_REVIEWS] = 10;
        d.c[GRADING_C_RATING_SUM] = 45;
        d.c[GRADING_C_STRONGLY_RECOMMEND] = 6;
        d.c[GRADING_C_RECOMMEND] = 3;
        d.c[GRADING_C_NOT_RECOMMENDED] = 1;
        err = grading_store_day_put(txn, mp->name, SELLER, today - i, &d);
    }
    grading_seller_state_t s = {.boost = 1.0, .computed_ms = AS_OF_MS};
    if (!err) err = grading_store_seller_put(txn, mp->name, SELLER, &s);
    if (err) {
        grading_txn_abort(txn);
        return -1;
    }
    return grading_txn_commit(txn) ? -1 : 0;
}

/* reps forecasts of days days: median and worst into out[0], out[1]. */
static int run(grading_store_reader_t *rd, const grading_marketplace_t *mp, uint32_t days, int reps, double *out)
{
    static double t[MAX_REPS];
    grading_forecast_t *f = malloc(sizeof *f);
    if (!f) return -1;
    for (int i = 0; i < reps; i++) {
        grading_error_t e = {0};
        double t0 = now_ms();
        if (grading_forecast_read(rd, mp, SELLER, AS_OF_MS, days, f, &e)) {
            fprintf(stderr, PROG ": forecast: %s: %s\n", e.field, e.message);
            free(f);
            return -1;
        }
        t[i] = now_ms() - t0;
    }
    free(f);
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    out[0] = t[reps / 2];
    out[1] = t[reps - 1];
    return 0;
}

static int one_policy(const char *path, int reps)
{
    grading_policy_t *p = NULL;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    char dir[PATH_MAX] = "";
    grading_store_t *st = NULL;
    grading_store_reader_t *rd = NULL;
    int rc = -1;
    if (!d || grading_policy_load_file(path, &p, d)) {
        fprintf(stderr, PROG ": %s: cannot load\n", path);
        goto done;
    }
    const grading_marketplace_t *mp = grading_policy_marketplace(p, "");
    if (grading_bench_tmpdir_make(PROG, "grading-forecast-bench", dir, sizeof dir)) goto done;
    grading_store_options_t o = {.dir = dir};
    grading_error_t e;
    if (grading_store_open(&o, &st, &e) || seed(st, mp) || grading_store_reader_new(st, &rd)) {
        fprintf(stderr, PROG ": %s: cannot seed the store\n", path);
        goto done;
    }
    double m30[2], m365[2];
    if (run(rd, mp, 30, reps, m30) || run(rd, mp, 365, reps, m365)) goto done;
    printf("%-40s %-12s windows %2zu metrics %3zu programs %zu: 30 days %7.2f ms (worst %7.2f), "
           "365 days %7.2f ms (worst %7.2f)\n",
           path, mp->name, mp->rules->nwindows, mp->rules->nmetrics, mp->rules->nprograms, m30[0], m30[1], m365[0],
           m365[1]);
    rc = 0;
done:
    if (rd) grading_store_reader_free(rd);
    if (st) grading_store_close(st);
    grading_bench_dir_remove(PROG, dir);
    grading_policy_unref(p);
    free(d);
    return rc;
}

int main(int argc, char **argv)
{
    int reps = 21, i = 1;
    if (argc > 2 && strcmp(argv[1], "--reps") == 0) {
        reps = atoi(argv[2]);
        i = 3;
    }
    if (reps < 1 || reps > MAX_REPS || i >= argc) {
        fprintf(stderr, "usage: " PROG " [--reps 1..%d] POLICY.yaml...\n", MAX_REPS);
        return 2;
    }
    printf("one forecast of a seller with a row on each of the last %d days; median of %d\n", HISTORY_DAYS, reps);
    int rc = 0;
    for (; i < argc; i++)
        if (one_policy(argv[i], reps)) rc = 1;
    return rc;
}
