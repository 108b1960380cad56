/* grading_year_bench: a year in fast-forward (see year_bench.h).
 *
 *   grading_year_bench [--sellers N] [--orders-per-day N] [--months N]
 *                      [--prune-every DAYS] [--policy FILE] [--marketplace NAME]
 *                      [--dir DIR]
 *
 * Runs the same traffic twice, each into a fresh store under DIR: once
 * without the pruner, once with a pass every --prune-every simulated days
 * (dedup horizon 35 days, margin 31 days, as gradingd's defaults). Events
 * go through the real writer (grading_ingest_run, with derive) exactly as
 * RecordEvents hands them over, a simulated day at a time on a test clock.
 * At the end of each month it prints the used bytes of data.mdb (pages in
 * use from mdb_env_info / mdb_stat, not the file size), of the daily,
 * orders and events databases, the live seller-days and the bytes per live
 * seller-day, for both runs side by side. Then the ingest rate and the
 * stored-boost read time (what GetRankingBoosts reads) of both runs, and
 * the day and order record sizes in the old (dense) and new encodings. */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../src/store/codec.h"
#include "grading/assess.h"
#include "grading/ingest.h"
#include "grading/prune.h"
#include "grading/store.h"
#include "grading/store_prune.h"
#include "year_bench.h"

#define DAY_MS INT64_C(86400000)
#define FIRST_DAY_MS INT64_C(1767225600000)   /* 2026-01-01T00:00:00Z */
#define MAX_MONTHS 36
#define BOOST_READS 20000

typedef struct {
    grading_store_usage_t month[MAX_MONTHS];
    double ingest_s, prune_s, boost_us;
    uint64_t events, pruned_days, pruned_orders, pruned_events;
    size_t day_values, day_v1, day_v2, order_values, order_bytes, order_sparse;
} run_t;

typedef struct {
    int64_t now;
} bench_clock_t;

static int64_t bench_now(void *ctx) { return ((bench_clock_t *)ctx)->now; }

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int usage_now(grading_store_t *st, grading_store_usage_t *u)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    if (grading_store_reader_new(st, &r) || grading_store_read_begin(r, &t)) return -1;
    int rc = grading_store_usage(t, u) ? -1 : 0;
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return rc;
}

/* What the stored records cost in either encoding (the run's last day). */
static grading_err_t size_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    (void)day;
    run_t *r = ctx;
    uint8_t buf[GRADING_CODEC_DAY_MAX];
    size_t n;
    if (grading_codec_day_encode_v1(d, buf, &n)) return GRADING_EINVAL;
    r->day_v1 += n;
    if (grading_codec_day_encode(d, buf, &n)) return GRADING_EINVAL;
    r->day_v2 += n;
    r->day_values++;
    return GRADING_OK;
}

static grading_err_t size_order(void *ctx, const char *id, const grading_order_t *o)
{
    (void)id;
    run_t *r = ctx;
    uint8_t buf[GRADING_CODEC_ORDER_MAX];
    size_t n;
    if (grading_codec_order_encode_dense(o, buf, &n)) return GRADING_EINVAL;
    r->order_bytes += n;
    if (grading_codec_order_encode(o, buf, &n)) return GRADING_EINVAL;
    r->order_sparse += n;
    r->order_values++;
    return GRADING_OK;
}

static void measure_sizes(grading_store_t *st, const yb_options_t *o, run_t *r)
{
    grading_store_reader_t *rd;
    grading_txn_t *t;
    if (grading_store_reader_new(st, &rd)) return;
    for (int s = 0; s < o->sellers; s++) {
        char seller[16];
        snprintf(seller, sizeof seller, "s%05d", s);
        if (grading_store_read_begin(rd, &t)) break;
        grading_store_days_foreach(t, o->marketplace, seller, INT32_MIN, INT32_MAX, size_day, r);
        grading_store_orders_foreach(t, o->marketplace, seller, size_order, r);
        grading_store_read_end(rd);
    }
    grading_store_reader_free(rd);
}

/* The stored boost of random sellers, as GetRankingBoosts reads it. */
static double boost_read_us(grading_store_t *st, const yb_options_t *o)
{
    grading_store_reader_t *rd;
    grading_txn_t *t;
    if (grading_store_reader_new(st, &rd)) return -1;
    uint32_t x = 12345;
    double t0 = secs();
    for (int i = 0; i < BOOST_READS; i++) {
        char seller[16];
        x = x * 1103515245u + 12345u;
        snprintf(seller, sizeof seller, "s%05d", (int)((x >> 8) % (uint32_t)o->sellers));
        grading_seller_state_t s;
        bool found;
        if (grading_store_read_begin(rd, &t)) break;
        grading_store_seller_get(t, o->marketplace, seller, &s, &found);
        grading_store_read_end(rd);
    }
    double us = (secs() - t0) * 1e6 / BOOST_READS;
    grading_store_reader_free(rd);
    return us;
}

static int run_year(const yb_options_t *o, grading_policy_t *policy, bool prune, run_t *r)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", o->dir, prune ? "with-pruner" : "without");
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    grading_store_options_t so = {.dir = dir};
    grading_store_t *st;
    grading_error_t e = {0};
    if (grading_store_open(&so, &st, &e)) {
        fprintf(stderr, "store %s: %s\n", dir, e.message);
        return -1;
    }
    bench_clock_t clk = {FIRST_DAY_MS};
    grading_ingest_t *in;
    if (grading_ingest_start(st, bench_now, &clk, &in)) return -1;
    const grading_marketplace_t *mp = grading_policy_marketplace(policy, o->marketplace);
    yb_gen_t *g = yb_gen_new(o, FIRST_DAY_MS);
    const char **mps = NULL;
    const grading_tz_t **zones = NULL;
    uint32_t cap = 0;
    int month = 0;
    grading_prune_options_t po = {.margin_days = GRADING_PRUNE_DEFAULT_MARGIN_DAYS,
                                  .dedup_horizon_ms = GRADING_PRUNE_DEFAULT_DEDUP_HORIZON_MS};
    for (int d = 0; month < o->months; d++) {
        clk.now = FIRST_DAY_MS + d * DAY_MS + 23 * INT64_C(3600000);
        const grading_event_t *evs;
        uint32_t n;
        yb_gen_day(g, d, &evs, &n);
        if (n > cap) {
            cap = n;
            mps = realloc(mps, cap * sizeof *mps);
            zones = realloc(zones, cap * sizeof *zones);
            if (!mps || !zones) return -1;
        }
        for (uint32_t i = 0; i < n; i++) mps[i] = mp->name, zones[i] = &mp->tz;
        double t0 = secs();
        for (uint32_t at = 0; at < n; at += GRADING_INGEST_MAX_GROUP_EVENTS / 2) {
            uint32_t k = n - at < GRADING_INGEST_MAX_GROUP_EVENTS / 2 ? n - at : GRADING_INGEST_MAX_GROUP_EVENTS / 2;
            grading_ingest_batch_t b = {.events = evs + at, .marketplaces = mps + at, .zones = zones + at, .n = k,
                                        .derive = grading_assess_derive_cb, .derive_ctx = policy};
            grading_err_t err = grading_ingest_run(in, &b, NULL, NULL);
            if (err == GRADING_EFULL && grading_store_grow(st) == GRADING_OK) {
                at -= GRADING_INGEST_MAX_GROUP_EVENTS / 2;   /* again, in a larger map */
                continue;
            }
            if (err) {
                fprintf(stderr, "day %d: ingest failed: %s\n", d, grading_err_name(err));
                return -1;
            }
        }
        r->ingest_s += secs() - t0;
        r->events += n;
        if (prune && (d + 1) % o->prune_every_days == 0) {
            grading_prune_stats_t ps;
            t0 = secs();
            if (grading_prune_pass(in, policy, clk.now, &po, &ps)) {
                fprintf(stderr, "day %d: prune failed\n", d);
                return -1;
            }
            r->prune_s += secs() - t0;
            r->pruned_days += ps.days;
            r->pruned_orders += ps.orders;
            r->pruned_events += ps.events;
        }
        /* a month ends when the next day is in another one */
        int32_t day = grading_tz_day(&mp->tz, clk.now);
        if (grading_month_first_day(day + 1) == day + 1) {
            usage_now(st, &r->month[month]);
            month++;
        }
    }
    r->boost_us = boost_read_us(st, o);
    measure_sizes(st, o, r);
    grading_ingest_stop(in);
    grading_store_close(st);
    yb_gen_free(g);
    free(mps);
    free(zones);
    return 0;
}

static void print_report(const yb_options_t *o, const run_t *a, const run_t *b)
{
    printf("# a year in fast-forward: %d sellers, %d orders a day (%s, marketplace %s), pruner every %d days\n",
           o->sellers, o->orders_per_day, o->policy, o->marketplace, o->prune_every_days);
    printf("# used bytes = pages in use x page size (mdb_env_info/mdb_stat), not the file size\n");
    printf("%-5s | %10s %10s %9s %8s | %10s %10s %9s %8s\n", "", "without", "", "", "", "with pruner", "", "", "");
    printf("%-5s | %10s %10s %9s %8s | %10s %10s %9s %8s\n", "month", "used MB", "daily MB", "seller-d", "B/s-day",
           "used MB", "daily MB", "seller-d", "B/s-day");
    for (int m = 0; m < o->months; m++) {
        const grading_store_usage_t *x = &a->month[m], *y = &b->month[m];
        printf("%-5d | %10.1f %10.1f %9llu %8.0f | %10.1f %10.1f %9llu %8.0f\n", m + 1, x->total / 1e6,
               x->daily / 1e6, (unsigned long long)x->daily_entries,
               x->daily_entries ? (double)x->total / x->daily_entries : 0, y->total / 1e6, y->daily / 1e6,
               (unsigned long long)y->daily_entries, y->daily_entries ? (double)y->total / y->daily_entries : 0);
    }
    const grading_store_usage_t *x = &a->month[o->months - 1], *y = &b->month[o->months - 1];
    printf("\n%-28s %14s %14s\n", "at the end", "without", "with pruner");
    printf("%-28s %14.1f %14.1f\n", "orders db MB", x->orders / 1e6, y->orders / 1e6);
    printf("%-28s %14llu %14llu\n", "orders kept", (unsigned long long)x->orders_entries,
           (unsigned long long)y->orders_entries);
    printf("%-28s %14.1f %14.1f\n", "events db MB", x->events / 1e6, y->events / 1e6);
    printf("%-28s %14llu %14llu\n", "event ids kept", (unsigned long long)x->events_entries,
           (unsigned long long)y->events_entries);
    printf("%-28s %14.0f %14.0f\n", "ingest events/s", a->events / a->ingest_s, b->events / b->ingest_s);
    printf("%-28s %14.2f %14.2f\n", "stored boost read us", a->boost_us, b->boost_us);
    printf("%-28s %14s %14.1f\n", "pruner seconds (all passes)", "-", b->prune_s);
    printf("%-28s %14s %14llu\n", "day records pruned", "-", (unsigned long long)b->pruned_days);
    printf("%-28s %14s %14llu\n", "orders pruned", "-", (unsigned long long)b->pruned_orders);
    printf("%-28s %14s %14llu\n", "event ids pruned", "-", (unsigned long long)b->pruned_events);
    printf("\nrecord values (the without run's last day): dense v1 vs sparse v2\n");
    printf("  day record:   %.1f bytes (v1) -> %.1f bytes (v2) over %zu seller-days\n",
           a->day_values ? (double)a->day_v1 / a->day_values : 0, a->day_values ? (double)a->day_v2 / a->day_values : 0,
           a->day_values);
    printf("  in the daily db: %.0f bytes per seller-day (keys, page overhead included)\n",
           x->daily_entries ? (double)x->daily / x->daily_entries : 0);
    printf("  order record: %.1f bytes (v1/v2) -> %.1f bytes (v3) over %zu orders\n",
           a->order_values ? (double)a->order_bytes / a->order_values : 0,
           a->order_values ? (double)a->order_sparse / a->order_values : 0, a->order_values);
    printf("  in the orders db: %.0f bytes per order (keys, page overhead included)\n",
           x->orders_entries ? (double)x->orders / x->orders_entries : 0);
}

int main(int argc, char **argv)
{
    yb_options_t o = {.sellers = 10000, .orders_per_day = 5000, .months = 13, .prune_every_days = 7,
                      .policy = "policies/tmon.yaml", .marketplace = "tmon", .dir = "/tmp/grading-year-bench"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) goto usage;
        if (strcmp(a, "--sellers") == 0) o.sellers = atoi(v);
        else if (strcmp(a, "--orders-per-day") == 0) o.orders_per_day = atoi(v);
        else if (strcmp(a, "--months") == 0) o.months = atoi(v);
        else if (strcmp(a, "--prune-every") == 0) o.prune_every_days = atoi(v);
        else if (strcmp(a, "--policy") == 0) o.policy = v;
        else if (strcmp(a, "--marketplace") == 0) o.marketplace = v;
        else if (strcmp(a, "--dir") == 0) o.dir = v;
        else goto usage;
        i++;
    }
    if (o.sellers < 5 || o.sellers > 99999 || o.orders_per_day < 1 || o.months < 1 || o.months > MAX_MONTHS ||
        o.prune_every_days < 1)
        goto usage;
    mkdir(o.dir, 0750);
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    grading_policy_t *p = NULL;
    if (!d || grading_policy_load_file(o.policy, &p, d)) {
        fprintf(stderr, "cannot load %s\n", o.policy);
        return 1;
    }
    free(d);
    if (!grading_policy_marketplace(p, o.marketplace)) {
        fprintf(stderr, "%s has no marketplace %s\n", o.policy, o.marketplace);
        return 1;
    }
    static run_t without, with;
    if (run_year(&o, p, false, &without) || run_year(&o, p, true, &with)) return 1;
    print_report(&o, &without, &with);
    grading_policy_unref(p);
    return 0;
usage:
    fprintf(stderr,
            "usage: grading_year_bench [--sellers N] [--orders-per-day N] [--months N] [--prune-every DAYS]\n"
            "                          [--policy FILE] [--marketplace NAME] [--dir DIR]\n");
    return 2;
}
