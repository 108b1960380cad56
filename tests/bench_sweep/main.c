/* grading_sweep_bench: issue 4's sweep cost, "seconds to sweep 1,000,000
 * open orders of which 1 % are due".
 *
 *   grading_sweep_bench [--orders N] [--orders-per-seller K] [--due-percent P]
 *                       [--keep DIR]
 *
 * 1. Plans the dates with policies/qoo10.yaml's calendar (plan.c) and seeds
 *    N open orders over ceil(N/K) sellers in process into a new store
 *    (seed.c), under a mkdtemp dir in /tmp, or in DIR with --keep (then
 *    nothing is removed at the end). Every seller is derived at S, when no
 *    stage is due, so each has a due index entry in the future.
 * 2. Counts the due index entries <= T: exactly P % of the sellers (the
 *    others' next stage is after T), and none <= S.
 * 3. Sweeps at T as gradingd does (sweep.c) and times it until the due
 *    index has no entry <= T; then times SB_IDLE_RUNS sweeps with nothing
 *    due (the cost of the timer's tick on a quiet store).
 * 4. Checks: no entry <= T is left; every due seller was re-derived at T
 *    and now waits for its next stage, after T; every other seller is as
 *    the seeding left it. Any failure: exit status 1.
 * 5. The table. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchlib.h"
#include "sweep_bench.h"

#define EXIT_USAGE 2
#define CHECK_CHUNK 10000   /* sellers per read transaction of the checks */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: grading_sweep_bench [flags]\n"
            "  --orders N             open orders to seed, 1..%d (default %d)\n"
            "  --orders-per-seller K  orders per seller, 1..%d and <= N (default %d)\n"
            "  --due-percent P        per cent of sellers with an order due at the sweep, 0..100 (default %g)\n"
            "  --keep DIR             seed into DIR (new or empty) and keep it; default: a /tmp dir, removed\n"
            "  --help                 this text\n",
            SB_MAX_ORDERS, SB_DEFAULT_ORDERS, SB_MAX_ORDERS_PER_SELLER, SB_DEFAULT_ORDERS_PER_SELLER,
            SB_DEFAULT_DUE_PERCENT);
}

static int parse_u32(const char *flag, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "grading_sweep_bench: --%s: want a whole number in %" PRIu32 "..%" PRIu32 ", got \"%s\"\n", flag,
                lo, hi, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_percent(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 100) {
        fprintf(stderr, "grading_sweep_bench: --due-percent: want a number in 0..100, got \"%s\"\n", s);
        return -1;
    }
    *out = v;
    return 0;
}

/* policies/qoo10.yaml of the source tree this file is in. */
static void default_policy(char *buf, size_t len)
{
    snprintf(buf, len, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
    else snprintf(buf, len, ".");
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "/../../policies/qoo10.yaml");
    char real[PATH_MAX];
    if (realpath(buf, real)) snprintf(buf, len, "%s", real);
}

/* How many due index entries are <= upto, counting at most cap (the
 * caller asks for one more than it expects). */
static grading_err_t count_due(grading_store_t *st, int64_t upto, size_t cap, size_t *n, int64_t *latest)
{
    grading_store_reader_t *rd = NULL;
    grading_txn_t *txn;
    grading_due_t *buf = calloc(cap, sizeof *buf);
    grading_err_t err = buf ? grading_store_reader_new(st, &rd) : GRADING_ENOMEM;
    if (err) goto fail;
    if ((err = grading_store_read_begin(rd, &txn))) goto fail;
    err = grading_store_due_page(txn, upto, buf, cap, n);
    grading_store_read_end(rd);
    *latest = 0;
    for (size_t i = 0; !err && i < *n; i++)
        if (buf[i].due_ms > *latest) *latest = buf[i].due_ms;
fail:
    grading_store_reader_free(rd);
    free(buf);
    return err;
}

typedef struct {
    uint32_t due_ok, due_bad, other_ok, other_bad, missing;
    char first_problem[256];
} seller_check_t;

static void problem(seller_check_t *c, const char *id, const grading_seller_state_t *s, const char *what)
{
    if (c->first_problem[0]) return;
    snprintf(c->first_problem, sizeof c->first_problem, "%s: %s (computed_ms %" PRId64 ", next_due_ms %" PRId64 ")",
             id, what, s ? s->computed_ms : 0, s ? s->next_due_ms : 0);
}

/* Every seller's stored record after the sweep: a due one re-derived at T,
 * waiting for its order's second stage (after T); any other untouched since
 * S, waiting for its first stage (after T). */
static grading_err_t check_sellers(grading_store_t *st, const sb_plan_t *pl, seller_check_t *c)
{
    grading_store_reader_t *rd = NULL;
    grading_err_t err = grading_store_reader_new(st, &rd);
    memset(c, 0, sizeof *c);
    for (uint32_t i = 0; !err && i < pl->sellers;) {
        grading_txn_t *txn;
        if ((err = grading_store_read_begin(rd, &txn))) break;
        for (uint32_t end = i + CHECK_CHUNK; !err && i < pl->sellers && i < end; i++) {
            char id[SB_ID_LEN];
            grading_seller_state_t s;
            bool found = false;
            sb_seller_id(i, id);
            if ((err = grading_store_seller_get(txn, SB_MARKETPLACE, id, &s, &found))) break;
            if (!found) {
                c->missing++;
                problem(c, id, NULL, "no stored record");
            } else if (sb_seller_is_due(pl, i)) {
                bool ok = s.computed_ms == pl->sweep_ms && s.next_due_ms > pl->sweep_ms &&
                          s.next_due_ms == pl->due_stage_ms[1];
                ok ? c->due_ok++ : c->due_bad++;
                if (!ok) problem(c, id, &s, "a due seller not re-derived at T or not moved past T");
            } else {
                bool ok = s.computed_ms == pl->seed_ms && s.next_due_ms > pl->sweep_ms &&
                          s.next_due_ms == pl->other_stage_ms[0];
                ok ? c->other_ok++ : c->other_bad++;
                if (!ok) problem(c, id, &s, "a seller with nothing due was changed or is due by T");
            }
        }
        grading_store_read_end(rd);
    }
    grading_store_reader_free(rd);
    return err;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void group3(uint64_t v, char *buf, size_t len)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    size_t n = strlen(tmp), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

static void row(const char *name, const char *value)
{
    printf("| %-48s | %22s |\n", name, value);
}

static void row_u(const char *name, uint64_t v)
{
    char b[32];
    group3(v, b, sizeof b);
    row(name, b);
}

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (!(cond)) {                                          \
            fprintf(stderr, "grading_sweep_bench: FAIL: ");     \
            fprintf(stderr, __VA_ARGS__);                       \
            fprintf(stderr, "\n");                              \
            failed = true;                                      \
        }                                                       \
    } while (0)

int main(int argc, char **argv)
{
    sb_opts_t o = {.orders = SB_DEFAULT_ORDERS,
                   .per_seller = SB_DEFAULT_ORDERS_PER_SELLER,
                   .due_percent = SB_DEFAULT_DUE_PERCENT};
    enum { O_ORDERS = 1, O_PER_SELLER, O_DUE, O_KEEP, O_HELP };
    static const struct option longopts[] = {
        {"orders", required_argument, NULL, O_ORDERS},   {"orders-per-seller", required_argument, NULL, O_PER_SELLER},
        {"due-percent", required_argument, NULL, O_DUE}, {"keep", required_argument, NULL, O_KEEP},
        {"help", no_argument, NULL, O_HELP},             {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_ORDERS:
            if (parse_u32("orders", optarg, 1, SB_MAX_ORDERS, &o.orders)) return EXIT_USAGE;
            break;
        case O_PER_SELLER:
            if (parse_u32("orders-per-seller", optarg, 1, SB_MAX_ORDERS_PER_SELLER, &o.per_seller)) return EXIT_USAGE;
            break;
        case O_DUE:
            if (parse_percent(optarg, &o.due_percent)) return EXIT_USAGE;
            break;
        case O_KEEP: o.keep = optarg; break;
        case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "grading_sweep_bench: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (o.per_seller > o.orders) {
        fprintf(stderr, "grading_sweep_bench: --orders-per-seller %" PRIu32 " is more than --orders %" PRIu32 "\n",
                o.per_seller, o.orders);
        return EXIT_USAGE;
    }

    int status = 1;
    bool failed = false;
    grading_policy_t *p = NULL;
    grading_store_t *st = NULL;
    sb_sweeper_t *sw = NULL;
    int64_t *idle = NULL;
    char policy_path[PATH_MAX], work[PATH_MAX] = "", data[PATH_MAX + 8];
    grading_error_t e = {0};
    grading_err_t err;

    default_policy(policy_path, sizeof policy_path);
    grading_policy_diags_t *diags = calloc(1, sizeof *diags);
    if (!diags) goto fail;
    err = grading_policy_load_file(policy_path, &p, diags);
    if (err) {
        fprintf(stderr, "grading_sweep_bench: cannot load %s: %s\n", policy_path, grading_err_name(err));
        for (size_t i = 0; i < diags->count && i < GRADING_POLICY_MAX_DIAGS; i++)
            fprintf(stderr, "  %s: %s\n", diags->diags[i].where, diags->diags[i].message);
        free(diags);
        goto fail;
    }
    free(diags);
    const grading_marketplace_t *mp = grading_policy_marketplace(p, SB_MARKETPLACE);
    if (!mp) {
        fprintf(stderr, "grading_sweep_bench: %s has no marketplace %s\n", policy_path, SB_MARKETPLACE);
        goto fail;
    }
    sb_plan_t pl;
    if ((err = sb_plan(mp, &o, &pl, &e))) goto fail_e;

    if (o.keep) {
        if (grading_bench_keepdir_make("grading_sweep_bench", o.keep) != 0) goto fail;
        snprintf(work, sizeof work, "%s", o.keep);
    } else {
        if (grading_bench_tmpdir_make("grading_sweep_bench", "grading_sweep_bench", work, sizeof work)) goto fail;
    }
    snprintf(data, sizeof data, "%s/data", work);

    uint64_t est = (uint64_t)o.orders * SB_BYTES_PER_ORDER, map = GRADING_STORE_DEFAULT_MAP_SIZE;
    while (map < est && map < SB_MAX_MAP_SIZE) map *= 2;
    grading_store_options_t so = {.dir = data, .map_size = map, .max_map_size = SB_MAX_MAP_SIZE};
    if ((err = grading_store_open(&so, &st, &e))) goto fail_e;

    /* 1. seed */
    sb_seed_result_t seed;
    if ((err = sb_seed(st, p, &pl, &seed, &e))) goto fail_e;
    CHECK(seed.late_at_seed == 0, "%" PRIu64 " orders had reached a stage by the seeding time", seed.late_at_seed);
    CHECK(seed.orders == o.orders, "%" PRIu64 " orders seeded, want %" PRIu32, seed.orders, o.orders);

    /* 2. what is due */
    size_t due_at_seed = 0, due_before = 0;
    int64_t latest_due = 0, ignored;
    if ((err = count_due(st, pl.seed_ms, 1, &due_at_seed, &ignored))) goto fail_store;
    if ((err = count_due(st, pl.sweep_ms, (size_t)pl.due_sellers + 1, &due_before, &latest_due))) goto fail_store;
    CHECK(due_at_seed == 0, "the due index has entries at or before the seeding time");
    CHECK(due_before == pl.due_sellers, "the due index has %zu entries <= T, want %" PRIu32 " (%g %% of %" PRIu32
          " sellers)", due_before, pl.due_sellers, o.due_percent, pl.sellers);
    CHECK(due_before == 0 || latest_due == pl.due_stage_ms[0], "a due entry <= T is not at the due orders' first stage");
    fprintf(stderr, "due index entries <= T before the sweep: %zu (of %" PRIu32 " sellers)\n", due_before, pl.sellers);

    /* 3. the sweep, then the idle sweeps */
    if ((err = sb_sweeper_new(st, pl.sweep_ms, &sw))) goto fail_store;
    uint64_t swept = 0;
    uint32_t pages = 0, passes = 0;
    int64_t t0 = sb_mono_ns();
    for (; passes < SB_MAX_PASSES; passes++) {
        uint64_t n;
        uint32_t pg;
        if ((err = sb_sweep_due(sw, p, &n, &pg))) goto fail_store;
        swept += n;
        pages += pg;
        if (n == 0) break;   /* the read found nothing <= T */
    }
    double sweep_s = (double)(sb_mono_ns() - t0) / 1e9;
    CHECK(passes < SB_MAX_PASSES, "the sweep still found due entries after %d passes", SB_MAX_PASSES);

    idle = calloc(SB_IDLE_RUNS, sizeof *idle);
    if (!idle) goto fail;
    uint64_t idle_swept = 0;
    for (int i = 0; i < SB_IDLE_RUNS; i++) {
        uint64_t n;
        uint32_t pg;
        int64_t t = sb_mono_ns();
        if ((err = sb_sweep_due(sw, p, &n, &pg))) goto fail_store;
        idle[i] = sb_mono_ns() - t;
        idle_swept += n;
    }
    qsort(idle, SB_IDLE_RUNS, sizeof *idle, cmp_i64);
    sb_sweeper_free(sw);
    sw = NULL;

    /* 4. checks */
    size_t due_after = 0;
    if ((err = count_due(st, pl.sweep_ms, 1, &due_after, &ignored))) goto fail_store;
    seller_check_t sc;
    if ((err = check_sellers(st, &pl, &sc))) goto fail_store;
    CHECK(due_after == 0, "the due index still has entries <= T after the sweep");
    CHECK(swept == pl.due_sellers, "the sweep re-derived %" PRIu64 " sellers, want %" PRIu32, swept, pl.due_sellers);
    CHECK(idle_swept == 0, "an idle sweep re-derived %" PRIu64 " sellers", idle_swept);
    CHECK(sc.due_ok == pl.due_sellers && sc.due_bad == 0 && sc.other_bad == 0 && sc.missing == 0 &&
              sc.other_ok == pl.sellers - pl.due_sellers,
          "sellers after the sweep: %" PRIu32 " due ok, %" PRIu32 " due wrong, %" PRIu32 " others ok, %" PRIu32
          " others wrong, %" PRIu32 " missing; first: %s",
          sc.due_ok, sc.due_bad, sc.other_ok, sc.other_bad, sc.missing, sc.first_problem);

    /* 5. the table */
    char b[64], b2[64];
    struct stat fsb;
    char file[sizeof data + 16];
    snprintf(file, sizeof file, "%s/data.mdb", data);
    uint64_t file_bytes = stat(file, &fsb) == 0 ? (uint64_t)fsb.st_size : 0;
    printf("grading_sweep_bench: %s, marketplace %s (%s), policy %s\n", policy_path, mp->name, mp->tz.name,
           grading_policy_version(p));
    sb_format_local(mp, pl.seed_ms, b, sizeof b);
    sb_format_local(mp, pl.sweep_ms, b2, sizeof b2);
    printf("seeded at S = %s, swept at T = %s\n", b, b2);
    for (size_t k = 0; k < pl.nstages; k++) {
        sb_format_local(mp, pl.due_stage_ms[k], b, sizeof b);
        sb_format_local(mp, pl.other_stage_ms[k], b2, sizeof b2);
        printf("  stage %-12s due sellers' orders: %s   others': %s\n", pl.stage_names[k], b, b2);
    }
    printf("seeding: %" PRIu64 " orders in %" PRIu32 " write txns, %.1f s; store file %.0f MiB\n\n", seed.orders,
           seed.transactions, seed.seconds, (double)file_bytes / (1024.0 * 1024.0));
    printf("| %-48s | %22s |\n", "figure", "value");
    printf("|%s|%s|\n", "--------------------------------------------------", "------------------------");
    row_u("orders (open: paid, never shipped)", seed.orders);
    row_u("sellers", pl.sellers);
    snprintf(b2, sizeof b2, "due sellers (due index entries <= T, %g %%)", o.due_percent);
    row_u(b2, due_before);
    row_u("due orders (a stage in (S, T])", seed.due_orders);
    snprintf(b, sizeof b, "%.3f", sweep_s);
    row("seconds to sweep (until nothing <= T)", b);
    snprintf(b, sizeof b, "%.0f", sweep_s > 0 ? (double)swept / sweep_s : 0.0);
    row("sellers/s", b);
    snprintf(b, sizeof b, "%.0f", sweep_s > 0 ? (double)seed.due_orders / sweep_s : 0.0);
    row("due orders/s", b);
    snprintf(b2, sizeof b2, "write batches (pages of <= %d, a commit each)", SB_SWEEP_PAGE);
    row_u(b2, pages);
    snprintf(b, sizeof b, "%.1f / %.1f", (double)idle[SB_IDLE_RUNS / 2] / 1e3, (double)idle[SB_IDLE_RUNS - 1] / 1e3);
    snprintf(b2, sizeof b2, "idle sweep, nothing due: us median / max of %d", SB_IDLE_RUNS);
    row(b2, b);
    printf("\nmachine: nproc %ld; one run, not repeated: the figures are noisy (other work shares the machine,\n"
           "each sweep commit is an fsync to %s, and the store was just seeded, so its pages are cached).\n",
           sysconf(_SC_NPROCESSORS_ONLN), o.keep ? o.keep : "/tmp");
    printf("checks: %s\n", failed ? "FAILED (see above)" : "passed (nothing <= T is left; each due seller re-derived at T "
                                                           "and due again after T; the others untouched)");
    status = failed ? 1 : 0;
    goto done;

fail_e:
    fprintf(stderr, "grading_sweep_bench: %s%s%s (%s)\n", e.field, e.field[0] ? ": " : "", e.message, grading_err_name(err));
    goto fail;
fail_store:
    fprintf(stderr, "grading_sweep_bench: store error: %s\n", grading_err_name(err));
fail:
    status = 1;
done:
    sb_sweeper_free(sw);
    free(idle);
    if (st) grading_store_close(st);
    grading_policy_unref(p);
    if (work[0] && !o.keep) grading_bench_dir_remove("grading_sweep_bench", work);
    else if (o.keep && work[0]) printf("kept %s (data/)\n", work);
    return status;
}
