/* grading_bench: throughput and latency of a running gradingd.
 *
 *   grading_bench [--addr HOST:PORT | --gradingd PATH] [--threads N]
 *                 [--seconds S] [--sellers K] [--policy FILE] [--marketplace M]
 *                 [--cases LIST] [--neutral-boost B] [--admin HOST:PORT]
 *                 [--peer redis] [--h2load]
 *
 * Closed loop: N threads, each owning one blocking client, keep exactly one
 * call in flight for S seconds per case (bench_run.c says how calls are
 * timed and replies checked).
 *
 * The cases, in this order (--cases names a subset; the floor always runs):
 *   health          Health/Check, the floor: one gRPC round trip here;
 *   metrics         GetSellerMetrics of random sellers among the K seeded
 *                   with 50 events each;
 *   boostsB         GetRankingBoosts of B = 1, 100, 1000 seller ids a call,
 *                   seeded sellers at random and about 1 in 10 unknown ones
 *                   (which must get the neutral boost): the hot path;
 *   boosts1_scraped GetRankingBoosts x1 again while a thread GETs /metrics
 *                   from the admin port every second: the two rows side
 *                   by side show what counting and scraping cost;
 *   grade           GetGrade of a random seeded seller, without explain;
 *   grade_explain   the same with explain (reasons and advice);
 *   recordB         RecordEvents in batches of B = 1, 100, 1000 fresh events.
 * The reads run before the writes, so they see the seeded store, the same
 * whichever subset runs. Every rate is also given as a ratio to the floor's
 * calls/s, which says more than absolute numbers from a shared, noisy
 * machine.
 *
 * Events (bench_events.c) carry a per-run tag, so a run against a server
 * that already holds data (--addr) sends no duplicates; a reply counting
 * any duplicate, or accepting fewer events than sent, is an error.
 *
 * --peer redis runs the matching Redis workload right after each write and
 * boost case (bench_redis.c) and prints a table of both with their ratio;
 * without redis-server and redis-benchmark on PATH it says so and skips.
 *
 * --h2load runs each GetRankingBoosts case again with h2load as the client
 * (bench_h2load.c): the bench's own grpc clients share the two cores with
 * the server and cap small batches at the client's rate.
 *
 * Without --addr the bench starts its own gradingd (bench_server.c) and
 * stops it at the end. Any failed call or wrong reply is printed (the
 * first few per case) and makes the exit status 1. */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

volatile sig_atomic_t bench_stop;

/* The cases in the order they run; the seeding is set-up, not a row. */
static const bench_case_def_t cases[] = {
    {"health", "Health/Check", CASE_HEALTH, 0, false, false},
    {NULL, "(seeding)", CASE_SEED, 0, false, false},
    {"metrics", "GetSellerMetrics", CASE_METRICS, 0, false, false},
    {"boosts1", "GetRankingBoosts x1", CASE_BOOSTS, 1, false, false},
    /* the same with Prometheus scraping: counting must not slow the hot path */
    {"boosts1_scraped", "GetRankingBoosts x1 +scrape/s", CASE_BOOSTS, 1, false, true},
    {"boosts100", "GetRankingBoosts x100", CASE_BOOSTS, 100, false, false},
    {"boosts1000", "GetRankingBoosts x1000", CASE_BOOSTS, 1000, false, false},
    {"grade", "GetGrade", CASE_GRADE, 0, false, false},
    {"grade_explain", "GetGrade explain", CASE_GRADE, 0, true, false},
    {"record1", "RecordEvents x1", CASE_RECORD, 1, false, false},
    {"record100", "RecordEvents x100", CASE_RECORD, 100, false, false},
    {"record1000", "RecordEvents x1000", CASE_RECORD, 1000, false, false},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))
_Static_assert(sizeof cases / sizeof cases[0] <= BENCH_MAX_CASES, "raise BENCH_MAX_CASES");

/* ---- options ---- */

/* "health,metrics,..." for usage and errors. */
static void case_keys(char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < NCASES; i++) {
        if (!cases[i].key) continue;
        int n = snprintf(buf + at, len - at, "%s%s", at ? "," : "", cases[i].key);
        if (n < 0 || (size_t)n >= len - at) break;
        at += (size_t)n;
    }
}

static void usage(FILE *out)
{
    char keys[256];
    case_keys(keys, sizeof keys);
    fprintf(out,
            "usage: grading_bench [--addr HOST:PORT | --gradingd PATH] [--threads N] [--seconds S]\n"
            "                     [--sellers K] [--policy FILE] [--marketplace M] [--cases LIST]\n"
            "                     [--neutral-boost B] [--admin HOST:PORT] [--peer redis] [--h2load]\n"
            "  --addr HOST:PORT   benchmark a running server (else start gradingd on 127.0.0.1:0)\n"
            "  --gradingd PATH    the gradingd to start (default $GRADINGD, else the build dir's)\n"
            "  --threads N        calls in flight, one client each, 1..%d (default %d)\n"
            "  --seconds S        length of each case, 1..%d (default %d)\n"
            "  --sellers K        sellers seeded with %d events each, 1..%d (default %d)\n"
            "  --policy FILE      policy for the started gradingd (default tests/e2e/policy.yaml)\n"
            "  --marketplace M    marketplace of the events and queries (default %s)\n"
            "  --cases LIST       comma-separated cases to run (default all): %s;\n"
            "                     health, the floor, always runs\n"
            "  --neutral-boost B  the boost the policy gives an unknown seller (default %g)\n"
            "  --admin HOST:PORT  with --addr: the admin server boosts1_scraped scrapes\n"
            "  --seed-in-process  seed the store before gradingd starts (up to %d sellers, %d events each)\n"
            "                     instead of through RecordEvents (up to %d sellers)\n"
            "  --peer redis       after each write and boost case, the same workload on a private\n"
            "                     redis-server (HINCRBY, AOF fsync always; GET/MGET), and a ratio column\n"
            "  --h2load           each GetRankingBoosts case again with h2load as the client (1 connection,\n"
            "                     N streams): the server's rate without the bench's own clients' cost\n"
            "Exit status 1 if any call failed, 2 on bad flags or when the server cannot be started.\n",
            BENCH_MAX_THREADS, BENCH_DEFAULT_THREADS, BENCH_MAX_SECONDS, BENCH_DEFAULT_SECONDS,
            BENCH_ORDER_EVENTS * BENCH_SEED_ORDERS, BENCH_MAX_SELLERS, BENCH_DEFAULT_SELLERS,
            BENCH_DEFAULT_MARKETPLACE, keys, BENCH_DEFAULT_NEUTRAL_BOOST, BENCH_MAX_SELLERS,
            BENCH_SEED_ORDERS_IN_PROCESS * BENCH_ORDER_EVENTS, BENCH_MAX_RPC_SELLERS);
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

static bool parse_boost(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0) return false;
    *out = v;
    return true;
}

/* Marks the cases of list in o->selected; false (printed) on a bad name. */
static bool parse_cases(const char *list, bench_opts_t *o)
{
    char keys[256];
    const char *p = list;
    memset(o->selected, 0, sizeof o->selected);
    for (;;) {
        size_t n = strcspn(p, ",");
        bool found = false;
        for (int i = 0; i < NCASES && n; i++)
            if (cases[i].key && strlen(cases[i].key) == n && strncmp(cases[i].key, p, n) == 0) {
                o->selected[i] = true;
                found = true;
            }
        if (!found) {
            case_keys(keys, sizeof keys);
            if (n) fprintf(stderr, "grading_bench: --cases: unknown case \"%.*s\" (known: %s)\n", (int)n, p, keys);
            else fprintf(stderr, "grading_bench: --cases: empty name in \"%s\" (known: %s)\n", list, keys);
            return false;
        }
        if (!p[n]) break;
        p += n + 1;
    }
    return true;
}

/* Returns 0 to go on, 1 after --help, 2 on a bad flag (printed). */
static int opts_parse(int argc, char **argv, bench_opts_t *o)
{
    *o = (bench_opts_t){.threads = BENCH_DEFAULT_THREADS, .seconds = BENCH_DEFAULT_SECONDS,
                        .sellers = BENCH_DEFAULT_SELLERS, .marketplace = BENCH_DEFAULT_MARKETPLACE,
                        .neutral_boost = BENCH_DEFAULT_NEUTRAL_BOOST};
    for (int i = 0; i < NCASES; i++) o->selected[i] = true;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(f, "--seed-in-process") == 0) {
            o->seed_in_process = true;
            continue;
        }
        if (strcmp(f, "--h2load") == 0) {
            o->h2load = true;
            continue;
        }
        static const char *const valued[] = {"--addr",    "--gradingd", "--policy", "--marketplace", "--threads",
                                             "--seconds", "--sellers",  "--cases",  "--neutral-boost", "--admin",
                                             "--peer"};
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) known |= strcmp(f, valued[k]) == 0;
        if (!known) {
            fprintf(stderr, "grading_bench: unknown flag \"%s\" (see --help)\n", f);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "grading_bench: %s needs a value\n", f);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(f, "--addr") == 0) o->addr = v;
        else if (strcmp(f, "--admin") == 0) o->admin = v;
        else if (strcmp(f, "--peer") == 0 && strcmp(v, "redis") != 0) {
            fprintf(stderr, "grading_bench: --peer: the only peer is \"redis\", got \"%s\"\n", v);
            return 2;
        } else if (strcmp(f, "--peer") == 0) o->peer = v;
        else if (strcmp(f, "--gradingd") == 0) o->gradingd = v;
        else if (strcmp(f, "--policy") == 0) o->policy = v;
        else if (strcmp(f, "--marketplace") == 0) o->marketplace = v;
        else if (strcmp(f, "--threads") == 0 && !parse_int(v, 1, BENCH_MAX_THREADS, &o->threads)) {
            fprintf(stderr, "grading_bench: --threads must be 1..%d, got \"%s\"\n", BENCH_MAX_THREADS, v);
            return 2;
        } else if (strcmp(f, "--seconds") == 0 && !parse_int(v, 1, BENCH_MAX_SECONDS, &o->seconds)) {
            fprintf(stderr, "grading_bench: --seconds must be 1..%d, got \"%s\"\n", BENCH_MAX_SECONDS, v);
            return 2;
        } else if (strcmp(f, "--sellers") == 0 && !parse_int(v, 1, BENCH_MAX_SELLERS, &o->sellers)) {
            fprintf(stderr, "grading_bench: --sellers must be 1..%d, got \"%s\"\n", BENCH_MAX_SELLERS, v);
            return 2;
        } else if (strcmp(f, "--neutral-boost") == 0 && !parse_boost(v, &o->neutral_boost)) {
            fprintf(stderr, "grading_bench: --neutral-boost must be a finite number >= 0, got \"%s\"\n", v);
            return 2;
        } else if (strcmp(f, "--cases") == 0 && !parse_cases(v, o)) {
            return 2;
        }
    }
    if (o->addr && (o->gradingd || o->policy)) {
        fprintf(stderr, "grading_bench: --addr excludes --gradingd and --policy (they start a server)\n");
        return 2;
    }
    if (o->addr && o->seed_in_process) {
        fprintf(stderr, "grading_bench: --seed-in-process seeds the server it starts: not with --addr\n");
        return 2;
    }
    if (!o->seed_in_process && o->sellers > BENCH_MAX_RPC_SELLERS) {
        fprintf(stderr, "grading_bench: --sellers above %d need --seed-in-process (RecordEvents would take minutes)\n",
                BENCH_MAX_RPC_SELLERS);
        return 2;
    }
    if (o->addr && !o->addr[0]) {
        fprintf(stderr, "grading_bench: --addr must not be empty\n");
        return 2;
    }
    if (!o->marketplace[0] || strlen(o->marketplace) > 64) {
        fprintf(stderr, "grading_bench: --marketplace must be 1..64 bytes\n");
        return 2;
    }
    /* The floor always runs; the seeding whenever another case does, so a
     * case's figures do not depend on which others were chosen. */
    bool any = false;
    for (int i = 0; i < NCASES; i++) {
        if (cases[i].kind == CASE_HEALTH) o->selected[i] = true;
        else if (cases[i].kind != CASE_SEED) any |= o->selected[i];
    }
    for (int i = 0; i < NCASES; i++)
        if (cases[i].kind == CASE_SEED) o->selected[i] = any;
    return 0;
}

/* ---- set-up ---- */

static void on_stop_signal(int sig)
{
    (void)sig;
    bench_stop = 1;
}

static void names_destroy(bench_names_t *n)
{
    free(n->known);
    free(n->unknown);
    memset(n, 0, sizeof *n);
}

/* The seeded sellers' ids and a pool of ids no seller has. */
static int names_init(bench_names_t *n, int nknown)
{
    memset(n, 0, sizeof *n);
    n->known = calloc((size_t)nknown, sizeof *n->known);
    n->unknown = calloc(BENCH_UNKNOWN_POOL, sizeof *n->unknown);
    if (!n->known || !n->unknown) goto fail;
    n->nknown = nknown;
    for (int i = 0; i < nknown; i++) bench_seller_name(i, n->known[i], sizeof n->known[i]);
    /* Not the seeded sellers' prefix: never recorded by any run. */
    for (int i = 0; i < BENCH_UNKNOWN_POOL; i++)
        snprintf(n->unknown[i], sizeof n->unknown[i], "bench-unknown-%06d", i);
    return 0;
fail:
    names_destroy(n);
    return -1;
}

static void workers_free(bench_worker_t *ws, int n)
{
    if (!ws) return;
    for (int i = 0; i < n; i++) {
        grading_client_free(ws[i].client);
        free(ws[i].slots);
        free(ws[i].evp);
        free(ws[i].ids);
        free(ws[i].unknown);
        free(ws[i].lat);
    }
    free(ws);
}

static int workers_new(bench_worker_t **out, int n, const char *addr, const bench_opts_t *o, const char *run_tag)
{
    bench_worker_t *ws = calloc((size_t)n, sizeof *ws);
    *out = NULL;
    if (!ws) return -1;
    for (int i = 0; i < n; i++) {
        bench_worker_t *w = &ws[i];
        char tag[16];
        w->idx = (unsigned)i;
        snprintf(tag, sizeof tag, "t%d", i);
        bench_stream_init(&w->stream, run_tag, o->marketplace, tag, o->sellers,
                          UINT64_C(0x5EED0000) + (uint64_t)i * UINT64_C(7919));
        w->slots = calloc(BENCH_MAX_BATCH, sizeof *w->slots);
        w->evp = calloc(BENCH_MAX_BATCH, sizeof *w->evp);
        w->ids = calloc(BENCH_MAX_BATCH, sizeof *w->ids);
        w->unknown = calloc(BENCH_MAX_BATCH, sizeof *w->unknown);
        w->lat = malloc(BENCH_LAT_CAP * sizeof *w->lat);
        if (!w->slots || !w->evp || !w->ids || !w->unknown || !w->lat) goto fail;
        if (grading_client_new(addr, &w->client)) goto fail;
    }
    *out = ws;
    return 0;
fail:
    workers_free(ws, n);
    return -1;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    bench_opts_t o;
    bench_server_t srv = {0};
    bench_worker_t *ws = NULL;
    bench_names_t names = {0};
    const char *bin = NULL, *policy = NULL;
    const char *addr;
    int rc = 2;
    pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;
    char run_tag[48];
    bench_case_result_t results[NCASES];
    bench_peer_result_t peers[NCASES];
    bench_h2load_result_t h2[NCASES];
    bench_redis_t redis = {0};
    char h2load[PATH_MAX] = "";
    uint64_t errors = 0;
    bool seeded = false;

    int prc = opts_parse(argc, argv, &o);
    if (prc) return prc == 1 ? 0 : 2;

    /* A peer closing the socket must be an error status, not our death. */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* Ids unique across runs against the same server. */
    snprintf(run_tag, sizeof run_tag, "bench%lx-%ld", (unsigned long)bench_wall_ms(), (long)getpid());

    if (names_init(&names, o.sellers)) {
        fprintf(stderr, "grading_bench: out of memory making %d seller ids\n", o.sellers);
        return 2;
    }
    if (o.addr) {
        addr = o.addr;
    } else {
        if (bench_server_start(&srv, &o, &bin, &policy)) goto done;
        addr = srv.addr;
    }
    if (workers_new(&ws, o.threads, addr, &o, run_tag)) {
        fprintf(stderr, "grading_bench: out of memory setting up %d clients\n", o.threads);
        goto done;
    }
    /* Every client connected and the server SERVING before any timing;
     * one deadline for all of them. */
    int64_t serving_deadline = bench_mono_ns() + (int64_t)BENCH_START_TIMEOUT_MS * 1000000;
    for (int i = 0; i < o.threads; i++)
        if (bench_wait_serving(ws[i].client, serving_deadline)) goto done;

    memset(results, 0, sizeof results);
    memset(peers, 0, sizeof peers);
    memset(h2, 0, sizeof h2);
    if (o.h2load && !bench_h2load_find(h2load, sizeof h2load))
        fprintf(stderr, "grading_bench: --h2load: h2load not on PATH; no h2load table (apt-get install nghttp2-client)\n");
    if (o.peer && !bench_redis_find(&redis))
        fprintf(stderr, "grading_bench: --peer redis: redis-server or redis-benchmark not on PATH; "
                        "no Redis column (apt-get install redis-server redis-tools)\n");
    for (int i = 0; i < NCASES && !bench_stop; i++) {
        if (!o.selected[i]) continue;
        if (cases[i].kind == CASE_SEED && o.seed_in_process) {   /* done before gradingd started */
            seeded = true;
            continue;
        }
        unsigned printed = 0;
        bench_case_ctx_t cc = {.cd = &cases[i], .o = &o, .names = &names, .print_mu = &print_mu,
                               .printed = &printed};
        if (cases[i].kind == CASE_SEED)
            fprintf(stderr, "grading_bench: seeding %d sellers x %d events...\n", o.sellers,
                    BENCH_SEED_ORDERS * BENCH_ORDER_EVENTS);
        else
            fprintf(stderr, "grading_bench: %s for %d s...\n", cases[i].name, o.seconds);
        const char *admin = o.addr ? o.admin : srv.admin_addr;
        bench_scraper_t *sc = NULL;
        if (cases[i].scrape) {
            if (!admin || !admin[0]) {
                fprintf(stderr, "grading_bench: %s needs the admin server (--admin HOST:PORT with --addr)\n",
                        cases[i].name);
                goto done;
            }
            if (!(sc = bench_scraper_start(admin))) goto done;
        }
        int run_rc = bench_run_case(ws, o.threads, &cc, &results[i]);
        if (sc) {
            uint64_t scrapes, failures, bytes;
            bench_scraper_stop(sc, &scrapes, &failures, &bytes);
            fprintf(stderr, "grading_bench: %s: scraped %s/metrics %" PRIu64 " times (%" PRIu64 " bytes each), %" PRIu64
                            " failed\n", cases[i].name, admin, scrapes, bytes, failures);
            results[i].errors += failures;
        }
        if (run_rc) goto done;
        errors += results[i].errors;
        /* Right after the case, while the machine is in the same state. */
        if (h2load[0] && !bench_stop && bench_h2load_run_case(h2load, &cases[i], &o, &names, addr, &h2[i])) errors++;
        if (redis.available && !bench_stop && bench_redis_run_case(&redis, &cases[i], &o, &peers[i])) errors++;
        if (printed > BENCH_PRINTED_ERRORS)
            fprintf(stderr, "grading_bench: %s: %u more errors not shown\n", cases[i].name,
                    printed - BENCH_PRINTED_ERRORS);
        if (cases[i].kind == CASE_SEED) {
            fprintf(stderr, "grading_bench: seeded %" PRIu64 " events in %.1f s\n", results[i].items,
                    results[i].seconds);
            results[i].ran = false;   /* set-up, not a case of the table */
            seeded = true;
        }
    }
    bench_print_report(results, NCASES, &o, addr, bin, policy, seeded);
    if (!o.addr) bench_print_memory(&srv, &o);
    if (o.peer) bench_print_peer_report(results, redis.available ? peers : NULL, NCASES);
    if (o.h2load) bench_print_h2load_report(results, h2load[0] ? h2 : NULL, redis.available ? peers : NULL, NCASES);
    if (bench_stop) {
        fprintf(stderr, "grading_bench: interrupted; the figures above are partial\n");
        rc = 1;
    } else if (errors) {
        fprintf(stderr, "grading_bench: %" PRIu64 " call%s failed\n", errors, errors == 1 ? "" : "s");
        rc = 1;
    } else {
        rc = 0;
    }
done:
    workers_free(ws, o.threads);
    if (!o.addr) bench_server_stop(&srv);
    names_destroy(&names);
    return rc;
}
