/* grading_close_bench: issue 5's "Scale" figures for ClosePeriod.
 *
 *   grading_close_bench [--sellers N] [--events-per-seller K] [--threads T]
 *                       [--gradingd PATH] [--policy FILE] [--keep DIR]
 *
 * 1. Seeds N sellers (about K events each, October 2026 KST) in process
 *    into a new store (seed.c), under a mkdtemp dir in /tmp, or in DIR with
 *    --keep (then nothing is removed at the end).
 * 2. Starts gradingd on it (server.c): loopback, --refresh-s 0, and the
 *    start-up refresh skipped because the seeding derived every seller with
 *    the same policy and recorded it; waits for Health SERVING.
 * 3. Baseline: T threads call GetRankingBoosts (100 random seeded ids) for
 *    CB_BASELINE_MS (load.c).
 * 4. The close: ClosePeriod {tmon, MONTH, 2026-10} while the T threads go
 *    on; its seconds, sellers_evaluated, and the boosts' latency during it.
 *    gradingd's /proc/<pid>/status is sampled every 100 ms from its start
 *    to its stop; the peaks are reported.
 * 5. Checks: sellers_evaluated == N, the distribution of each programme
 *    adds up to N, a second ClosePeriod answers already_closed; no boosts
 *    call failed. Any failure: exit status 1.
 * 6. SIGTERM to gradingd, then the table.
 * Every wait is bounded: the start-up, each call's deadline (the close's is
 * one hour), the stop. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "close_bench.h"
#include "grading/v1/grading.pb-c.h"

#define METHOD_CLOSE "/grading.v1.GradingService/ClosePeriod"
#define EXIT_USAGE 2

volatile sig_atomic_t cb_stop;
volatile sig_atomic_t cb_server_pid;

static void on_signal(int sig)
{
    (void)sig;
    cb_stop = 1;
    if (cb_server_pid > 0) kill((pid_t)cb_server_pid, SIGTERM);   /* ends a close in progress */
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: grading_close_bench [flags]\n"
            "  --sellers N            sellers to seed, 1..%d (default %d)\n"
            "  --events-per-seller K  mean events per seller, 1..%d (default %d)\n"
            "  --threads T            GetRankingBoosts threads, 1..%d (default %d)\n"
            "  --gradingd PATH        the server (default: $GRADINGD, else <this program's dir>/../gradingd)\n"
            "  --policy FILE          the policy (default: policies/tmon.yaml of the source tree)\n"
            "  --keep DIR             seed into DIR (new or empty) and keep it; default: a /tmp dir, removed\n"
            "  --help                 this text\n",
            CB_MAX_SELLERS, CB_DEFAULT_SELLERS, CB_MAX_EVENTS_PER_SELLER, CB_DEFAULT_EVENTS_PER_SELLER,
            CB_MAX_THREADS, CB_DEFAULT_THREADS);
}

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    if (!s[0] || s[0] == '-') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = (uint32_t)v;
    return true;
}

static bool is_executable(const char *p) { return p && p[0] && access(p, X_OK) == 0; }

/* --gradingd, else $GRADINGD, else ../gradingd next to this program (the
 * bench lands in <build>/tests/, gradingd in <build>/). */
static void find_gradingd(const char *flag, char *buf, size_t len)
{
    const char *env = getenv("GRADINGD");
    if (flag) {
        snprintf(buf, len, "%s", flag);
    } else if (env && env[0]) {
        snprintf(buf, len, "%s", env);
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) *slash = '\0';
        int w = snprintf(buf, len, "%s/../gradingd", self[0] ? self : ".");
        if (w < 0 || (size_t)w >= len) snprintf(buf, len, "./gradingd");
    }
    char real[PATH_MAX];
    if (realpath(buf, real)) snprintf(buf, len, "%s", real);
}

/* policies/tmon.yaml of the source tree this file is in. */
static void default_policy(char *buf, size_t len)
{
    snprintf(buf, len, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash) *slash = '\0';
    else snprintf(buf, len, ".");
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "/../../policies/tmon.yaml");
    char real[PATH_MAX];
    if (realpath(buf, real)) snprintf(buf, len, "%s", real);
}

static grading_err_t close_period(grading_client_t *c, Grading__V1__ClosePeriodResponse **out, char *why, size_t len)
{
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.marketplace = CB_MARKETPLACE;
    req.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    req.period = CB_PERIOD;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    grading_err_t err = grading_client_call(c, METHOD_CLOSE, &req.base, &grading__v1__close_period_response__descriptor,
                                            CB_CLOSE_TIMEOUT_MS, &resp, &res);
    if (err) {
        snprintf(why, len, "ClosePeriod could not be made: %s", grading_err_name(err));
    } else if (res.status != GRPC_STATUS_OK) {
        snprintf(why, len, "ClosePeriod failed: %s: %s", grading_status_name(res.status),
                 res.details ? res.details : "");
        err = GRADING_EIO;
    }
    grading_call_result_destroy(&res);
    *out = (void *)resp;
    return err;
}

/* sellers_evaluated is N and every programme's counts add up to N. */
static bool check_close(const Grading__V1__ClosePeriodResponse *r, uint32_t n, bool want_already, const char *which)
{
    bool ok = true;
    if (r->sellers_evaluated != n) {
        fprintf(stderr, "grading_close_bench: %s: sellers_evaluated %" PRIu32 ", expected %" PRIu32 "\n", which,
                r->sellers_evaluated, n);
        ok = false;
    }
    if (r->already_closed != want_already) {
        fprintf(stderr, "grading_close_bench: %s: already_closed %s, expected %s\n", which,
                r->already_closed ? "true" : "false", want_already ? "true" : "false");
        ok = false;
    }
    if (r->n_distribution == 0) {
        fprintf(stderr, "grading_close_bench: %s: no distribution\n", which);
        ok = false;
    }
    for (size_t i = 0; i < r->n_distribution;) {
        const char *prog = r->distribution[i]->program;
        uint64_t sum = 0;
        for (; i < r->n_distribution && strcmp(r->distribution[i]->program, prog) == 0; i++)
            sum += r->distribution[i]->sellers;
        if (sum != n) {
            fprintf(stderr, "grading_close_bench: %s: programme %s counts %" PRIu64 " sellers, expected %" PRIu32 "\n",
                    which, prog, sum, n);
            ok = false;
        }
    }
    return ok;
}

static void print_distribution(const Grading__V1__ClosePeriodResponse *r)
{
    const char *prog = NULL;
    for (size_t i = 0; i < r->n_distribution; i++) {
        const Grading__V1__GradeCount *g = r->distribution[i];
        if (!prog || strcmp(prog, g->program) != 0) {
            printf("%s  %s:", prog ? "\n" : "", g->program);
            prog = g->program;
        }
        printf("  %s=%" PRIu32, g->label[0] ? g->label : "?", g->sellers);
    }
    if (prog) printf("\n");
}

static double mb(uint64_t kb) { return (double)kb / 1024.0; }

int main(int argc, char **argv)
{
    int rc = 1;
    cb_opts_t o = {.sellers = CB_DEFAULT_SELLERS, .events_per_seller = CB_DEFAULT_EVENTS_PER_SELLER,
                   .threads = CB_DEFAULT_THREADS};
    const char *gradingd_flag = NULL, *policy_flag = NULL;
    static char gradingd[PATH_MAX], policy_path[PATH_MAX], work[PATH_MAX], data[PATH_MAX + 8];
    grading_policy_t *policy = NULL;
    grading_policy_diags_t *diags = NULL;
    grading_client_t *clients[CB_MAX_THREADS + 1] = {0};
    cb_server_t srv = {0};
    cb_mem_t mem = {0};
    cb_lat_t idle = {0}, busy = {0};
    Grading__V1__ClosePeriodResponse *first = NULL, *second = NULL;
    bool made_work = false;

    enum { O_SELLERS = 1, O_EVENTS, O_THREADS, O_GRADINGD, O_POLICY, O_KEEP, O_HELP };
    static const struct option longopts[] = {
        {"sellers", required_argument, NULL, O_SELLERS},   {"events-per-seller", required_argument, NULL, O_EVENTS},
        {"threads", required_argument, NULL, O_THREADS},   {"gradingd", required_argument, NULL, O_GRADINGD},
        {"policy", required_argument, NULL, O_POLICY},     {"keep", required_argument, NULL, O_KEEP},
        {"help", no_argument, NULL, O_HELP},               {NULL, 0, NULL, 0}};
    int opt;
    uint32_t threads = CB_DEFAULT_THREADS;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case O_SELLERS:
            if (!parse_u32(optarg, 1, CB_MAX_SELLERS, &o.sellers)) {
                fprintf(stderr, "grading_close_bench: --sellers must be 1..%d, got \"%s\"\n", CB_MAX_SELLERS, optarg);
                return EXIT_USAGE;
            }
            break;
        case O_EVENTS:
            if (!parse_u32(optarg, 1, CB_MAX_EVENTS_PER_SELLER, &o.events_per_seller)) {
                fprintf(stderr, "grading_close_bench: --events-per-seller must be 1..%d, got \"%s\"\n",
                        CB_MAX_EVENTS_PER_SELLER, optarg);
                return EXIT_USAGE;
            }
            break;
        case O_THREADS:
            if (!parse_u32(optarg, 1, CB_MAX_THREADS, &threads)) {
                fprintf(stderr, "grading_close_bench: --threads must be 1..%d, got \"%s\"\n", CB_MAX_THREADS, optarg);
                return EXIT_USAGE;
            }
            o.threads = (int)threads;
            break;
        case O_GRADINGD: gradingd_flag = optarg; break;
        case O_POLICY: policy_flag = optarg; break;
        case O_KEEP: o.keep = optarg; break;
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "grading_close_bench: unknown flag or missing value: %s\n", argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "grading_close_bench: unexpected argument \"%s\"\n", argv[optind]);
        return EXIT_USAGE;
    }
    find_gradingd(gradingd_flag, gradingd, sizeof gradingd);
    if (policy_flag) {
        snprintf(policy_path, sizeof policy_path, "%s", policy_flag);
        char real[PATH_MAX];
        if (realpath(policy_path, real)) snprintf(policy_path, sizeof policy_path, "%s", real);
    } else {
        default_policy(policy_path, sizeof policy_path);
    }
    o.gradingd = gradingd;
    o.policy = policy_path;
    if (!is_executable(gradingd)) {
        fprintf(stderr, "grading_close_bench: no gradingd at %s (build it, or give --gradingd PATH / GRADINGD)\n",
                gradingd);
        return EXIT_USAGE;
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (!(diags = calloc(1, sizeof *diags))) goto fail;
    if (grading_policy_load_file(policy_path, &policy, diags)) {
        fprintf(stderr, "grading_close_bench: policy %s does not load:\n", policy_path);
        for (size_t i = 0; i < diags->count && i < GRADING_POLICY_MAX_DIAGS; i++)
            fprintf(stderr, "  %s: %s\n", diags->diags[i].where, diags->diags[i].message);
        rc = EXIT_USAGE;
        goto fail;
    }
    if (!grading_policy_marketplace(policy, CB_MARKETPLACE)) {
        fprintf(stderr, "grading_close_bench: policy %s has no marketplace \"%s\"\n", policy_path, CB_MARKETPLACE);
        rc = EXIT_USAGE;
        goto fail;
    }

    if (o.keep) {
        if (grading_bench_keepdir_make("grading_close_bench", o.keep) != 0) {
            rc = EXIT_USAGE;
            goto fail;
        }
        snprintf(work, sizeof work, "%s", o.keep);
    } else {
        if (grading_bench_tmpdir_make("grading_close_bench", "grading-close-bench", work, sizeof work)) goto fail;
        made_work = true;
    }
    snprintf(data, sizeof data, "%s/data", work);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("grading_close_bench: %" PRIu32 " sellers, ~%" PRIu32 " events each, %d boosts threads, %ld CPUs\n",
           o.sellers, o.events_per_seller, o.threads, ncpu);
    printf("  gradingd %s\n  policy %s (version %s)\n  data %s\n", gradingd, policy_path,
           grading_policy_version(policy), data);
    fflush(stdout);

    /* 1. seeding */
    cb_seed_result_t seed;
    grading_error_t e = {0};
    if (cb_seed(&o, data, policy, &seed, &e)) {
        char msg[400];
        grading_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "grading_close_bench: seeding failed: %s\n", msg);
        goto fail;
    }
    printf("seeded %" PRIu32 " sellers, %" PRIu64 " events in %" PRIu32 " transactions: %.1f s, %.0f events/s; "
           "data.mdb %.0f MB\n",
           seed.sellers, seed.events, seed.transactions, seed.seconds, (double)seed.events / seed.seconds,
           (double)seed.file_bytes / (1 << 20));
    fflush(stdout);

    /* 2. gradingd; its map starts with room for the close's writes */
    uint64_t map = seed.map_size * 2 < CB_MAX_MAP_SIZE ? seed.map_size * 2 : CB_MAX_MAP_SIZE;
    if (cb_server_start(&srv, gradingd, policy_path, work, data, map) != 0) goto fail;
    if (cb_mem_start(&mem, srv.pid) != 0) {
        fprintf(stderr, "grading_close_bench: cannot start the memory sampler\n");
        goto fail;
    }
    for (int i = 0; i <= o.threads; i++)
        if (grading_client_new(srv.addr, &clients[i])) {
            fprintf(stderr, "grading_close_bench: out of memory for a client\n");
            goto fail;
        }
    /* every client connected before anything is timed */
    for (int i = 0; i <= o.threads; i++)
        if (cb_server_wait_serving(clients[i], CB_START_TIMEOUT_MS) != 0) goto fail;

    /* 3. baseline */
    cb_load_t *load = NULL;
    if (cb_load_start(clients + 1, o.threads, o.sellers, grading_policy_version(policy), 1, &load)) {
        fprintf(stderr, "grading_close_bench: cannot start the load threads\n");
        goto fail;
    }
    cb_sleep_ms(CB_BASELINE_MS);
    cb_load_stop(load, &idle);
    if (cb_stop) goto fail;
    /* a start-up refresh would have shared the machine with the baseline */
    if (cb_server_log_has(&srv, "refreshed"))
        printf("note: gradingd ran a start-up refresh (the store's walk record did not match its policy)\n");
    uint64_t peak_before[CB_MEM_N], last_before[CB_MEM_N];
    uint32_t samples;
    cb_mem_read(&mem, peak_before, last_before, &samples);

    /* 4. the close, under load */
    char why[400] = "";
    if (cb_load_start(clients + 1, o.threads, o.sellers, grading_policy_version(policy), 2, &load)) {
        fprintf(stderr, "grading_close_bench: cannot start the load threads\n");
        goto fail;
    }
    int64_t t0 = cb_mono_ns();
    grading_err_t cerr = close_period(clients[0], &first, why, sizeof why);
    double close_s = (double)(cb_mono_ns() - t0) / 1e9;
    cb_load_stop(load, &busy);
    if (cerr) {
        fprintf(stderr, "grading_close_bench: %s\n", why);
        cb_server_print_log(&srv, 40);
        goto fail;
    }
    printf("closed %s: %" PRIu32 " sellers evaluated in %.2f s\n", CB_PERIOD, first->sellers_evaluated, close_s);
    print_distribution(first);

    /* 5. checks */
    bool ok = check_close(first, o.sellers, false, "the close");
    if (close_period(clients[0], &second, why, sizeof why)) {
        fprintf(stderr, "grading_close_bench: the second close: %s\n", why);
        ok = false;
    } else {
        ok = check_close(second, o.sellers, true, "the second close") && ok;
    }
    if (idle.errors || busy.errors) {
        fprintf(stderr, "grading_close_bench: %" PRIu64 " boosts calls failed (first: %s)\n", idle.errors + busy.errors,
                idle.errors ? idle.first_error : busy.first_error);
        ok = false;
    }
    if (!idle.n || !busy.n) {
        fprintf(stderr, "grading_close_bench: no boosts latency measured (%zu idle, %zu during the close)\n", idle.n,
                busy.n);
        ok = false;
    }

    /* 5b. the what-if (issue 14), the boosts load running */
    double whatif_s = 0;
    uint64_t whatif_sellers = 0;
    cb_lat_t wbusy = {0};
    if (cb_whatif(clients, o.threads, o.sellers, policy_path, grading_policy_version(policy), &whatif_s,
                  &whatif_sellers, &wbusy) != 0)
        ok = false;

    /* 6. stop */
    for (int i = 0; i <= o.threads; i++) {
        grading_client_free(clients[i]);
        clients[i] = NULL;
    }
    cb_mem_stop(&mem);
    if (cb_server_stop(&srv) != 0) ok = false;
    uint64_t peak[CB_MEM_N], last[CB_MEM_N];
    cb_mem_read(&mem, peak, last, &samples);

    double i50 = cb_lat_quantile_ms(&idle, 0.50), i99 = cb_lat_quantile_ms(&idle, 0.99);
    double b50 = cb_lat_quantile_ms(&busy, 0.50), b99 = cb_lat_quantile_ms(&busy, 0.99);
    printf("\n| sellers | events | seed s | close s | sellers/s | peak VmHWM MB | peak RssAnon MB "
           "| boosts p50/p99 idle | boosts p50/p99 during close |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    printf("| %" PRIu32 " | %" PRIu64 " | %.1f | %.1f | %.0f | %.0f | %.0f | %.2f / %.2f ms | %.2f / %.2f ms |\n",
           o.sellers, seed.events, seed.seconds, close_s, close_s > 0 ? o.sellers / close_s : 0, mb(peak[CB_MEM_VMHWM]),
           mb(peak[CB_MEM_RSSANON]), i50, i99, b50, b99);
    printf("\nnotes:\n");
    printf("- one run on a shared machine (%ld CPUs, gradingd with its default threads = CPUs, one of which "
           "runs the close): noisy, indicative only.\n", ncpu);
    printf("- gradingd memory, %" PRIu32 " samples of /proc/<pid>/status every %d ms from start to stop: peak VmRSS "
           "%.0f MB, peak RssFile %.0f MB, peak RssAnon %.0f MB (before the close: VmHWM %.0f MB, RssAnon %.0f MB).\n",
           samples, CB_SAMPLE_MS, mb(peak[CB_MEM_VMRSS]), mb(peak[CB_MEM_RSSFILE]), mb(peak[CB_MEM_RSSANON]),
           mb(peak_before[CB_MEM_VMHWM]), mb(peak_before[CB_MEM_RSSANON]));
    printf("- LMDB reads the store through a shared mmap of data.mdb (%.0f MB here), so the pages the server touched "
           "count as RssFile and in VmRSS/VmHWM: page cache the kernel can reclaim, not heap. RssAnon is the "
           "server's own memory.\n", (double)seed.file_bytes / (1 << 20));
    printf("- boosts: %d threads, one call of %d random seeded ids in flight each; %" PRIu64 " calls idle (%.0f ms), "
           "%" PRIu64 " during the close; latency measured at the client, loopback.\n", o.threads, CB_BOOST_IDS,
           idle.calls, (double)CB_BASELINE_MS, busy.calls);
    if (idle.errors || busy.errors)
        printf("- boosts calls FAILED: %" PRIu64 " idle, %" PRIu64 " during the close (first: %s); their "
               "latencies are in the figures.\n", idle.errors, busy.errors,
               idle.errors ? idle.first_error : busy.first_error);
    printf("- boosts max latency: %.2f ms idle, %.2f ms during the close.\n", cb_lat_quantile_ms(&idle, 1.0),
           cb_lat_quantile_ms(&busy, 1.0));
    printf("- what-if (EvaluatePolicy: every seller under the current policy and a candidate): %" PRIu64
           " sellers in %.1f s; boosts p50/p99 meanwhile %.2f / %.2f ms (%" PRIu64 " calls, %" PRIu64 " failed).\n",
           whatif_sellers, whatif_s, cb_lat_quantile_ms(&wbusy, 0.50), cb_lat_quantile_ms(&wbusy, 0.99), wbusy.calls,
           wbusy.errors);
    if (wbusy.errors) ok = false;
    cb_lat_destroy(&wbusy);
    if (idle.dropped || busy.dropped)
        printf("- %" PRIu64 " latency samples beyond the cap were not kept.\n", idle.dropped + busy.dropped);
    printf("- seeding in process: %" PRIu32 " write transactions of ~%d events, derive on, each fsync'd.\n",
           seed.transactions, CB_TXN_EVENTS);
    fflush(stdout);
    rc = ok ? 0 : 1;

fail:
    for (int i = 0; i <= CB_MAX_THREADS; i++)
        if (clients[i]) grading_client_free(clients[i]);
    cb_mem_stop(&mem);
    if (srv.pid > 0 && cb_server_stop(&srv) != 0) rc = 1;
    if (first) protobuf_c_message_free_unpacked(&first->base, NULL);
    if (second) protobuf_c_message_free_unpacked(&second->base, NULL);
    cb_lat_destroy(&idle);
    cb_lat_destroy(&busy);
    if (made_work) grading_bench_dir_remove("grading_close_bench", work);
    else if (o.keep && work[0]) printf("kept %s (gradingd.log, data/)\n", work);
    grading_policy_unref(policy);
    free(diags);
    if (cb_stop && rc == 0) rc = 1;
    return rc;
}
