/* grading_bench's shared declarations: the options, the event stream, the
 * cases and their workers, our own gradingd, the report.
 *
 * The program's files, one concern each:
 *   bench.c         main: flags, the list of cases, clients, the run;
 *   bench_events.c  per-thread streams of realistic order timelines;
 *   bench_run.c     the workers: one call in flight each, timing, the
 *                   check of every reply, merging a case's figures;
 *   bench_server.c  starting, waiting for and stopping our own gradingd;
 *   bench_report.c  the table.
 * Names shared between them carry a bench_ prefix; the rest is static. */
#ifndef GRADING_BENCH_H
#define GRADING_BENCH_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "grading/client.h"
#include "grading/v1/grading.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "benchlib.h"

#define BENCH_MAX_THREADS 64
#define BENCH_MAX_SECONDS 3600
#define BENCH_MAX_SELLERS 1000000        /* with --seed-in-process */
#define BENCH_MAX_RPC_SELLERS 100000     /* seeded through RecordEvents */
#define BENCH_DEFAULT_THREADS 8
#define BENCH_DEFAULT_SECONDS 3
#define BENCH_DEFAULT_SELLERS 1000
#define BENCH_DEFAULT_MARKETPLACE "testmart"   /* default_marketplace of tests/e2e/policy.yaml */
/* What the server answers for a seller it does not know: API.md's neutral
 * value, the neutral_boost of tests/e2e/policy.yaml. */
#define BENCH_DEFAULT_NEUTRAL_BOOST 1.0
#define BENCH_CURRENCY "KRW"
/* Latency samples kept per thread per case (8 bytes each). */
#define BENCH_LAT_CAP (1u << 17)
/* The largest batch a case or the seeding sends: events per RecordEvents,
 * seller ids per GetRankingBoosts. */
#define BENCH_MAX_BATCH 1000
#define BENCH_SEED_BATCH 1000
/* Each order is a timeline of this many events; a seeded seller gets
 * BENCH_SEED_ORDERS of them (50 events). */
#define BENCH_ORDER_EVENTS 5
#define BENCH_SEED_ORDERS 10
#define BENCH_SEED_ORDERS_IN_PROCESS 1   /* --seed-in-process: 5 events a seller */
/* One id in this many of a GetRankingBoosts call names no seller. */
#define BENCH_UNKNOWN_ONE_IN 10
#define BENCH_UNKNOWN_POOL 1000        /* distinct unknown ids to draw from */
#define BENCH_ID_LEN 40                /* room for a seller id and its NUL */
/* Per-call deadline: a stuck server ends a case at most this late. */
#define BENCH_CALL_TIMEOUT_MS 30000
#define BENCH_START_TIMEOUT_MS 10000
#define BENCH_STOP_TIMEOUT_MS 20000    /* gradingd's own shutdown grace is 10 s */
#define BENCH_POLL_MS 50
#define BENCH_PRINTED_ERRORS 10        /* per case; the rest are counted */
#define BENCH_PRODUCTS 500
#define BENCH_HISTORY_DAYS 25          /* events are dated within this many days back */
#define BENCH_DAY_MS INT64_C(86400000)
#define BENCH_HOUR_MS INT64_C(3600000)
#define BENCH_MAX_CASES 16

/* SIGINT/SIGTERM: finish the current calls, skip the rest (bench.c). */
extern volatile sig_atomic_t bench_stop;

/* ---- options ---- */

typedef struct {
    const char *addr;          /* NULL: start our own gradingd */
    const char *gradingd;
    const char *policy;
    const char *marketplace;
    int threads;
    int seconds;
    int sellers;
    double neutral_boost;      /* the boost an unknown seller must get */
    bool selected[BENCH_MAX_CASES];   /* by index in the list of cases (--cases) */
    const char *admin;         /* --admin: the admin server to scrape (with --addr) */
    const char *peer;          /* --peer redis: the same workloads on Redis; NULL: none */
    bool seed_in_process;      /* seed the store before gradingd starts (bench_seed.c) */
    bool h2load;               /* --h2load: the boost cases again, driven by h2load (bench_h2load.c) */
} bench_opts_t;

/* ---- clocks and randomness ---- */

static inline int64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Event dates only: the server judges events by when they happened. */
static inline int64_t bench_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void bench_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !bench_stop) {}
}

/* splitmix64: small, seedable, good enough to pick sellers and amounts. */
static inline uint64_t bench_rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint32_t bench_rng_below(uint64_t *s, uint32_t n) { return (uint32_t)(bench_rng_next(s) % n); }

/* ---- events (bench_events.c) ---- */

/* One SellerEvent with room for any kind and its strings, so a batch is
 * built without allocating. */
typedef struct {
    Grading__V1__SellerEvent ev;
    Google__Protobuf__Timestamp at;
    Grading__V1__OrderPaid paid;
    Grading__V1__OrderShipped shipped;
    Grading__V1__OrderDelivered delivered;
    Grading__V1__OrderCancelled cancelled;
    Grading__V1__OrderReturned returned;
    Grading__V1__NonReceiptReported non_receipt;
    Grading__V1__InquiryReceived inquiry_rx;
    Grading__V1__InquiryAnswered inquiry_ans;
    Grading__V1__BuyerReview review;
    Grading__V1__DeliverySatisfaction satisfaction;
    Grading__V1__PlatformRevenue revenue;
    char event_id[96];
    char seller_id[32];
    char order_id[96];
    char inquiry_id[104];
    char product_id[24];
    char marketplace[72];
} bench_ev_slot_t;

/* How an order's five events go. */
typedef enum { ORDER_NORMAL, ORDER_CANCELLED, ORDER_RETURNED, ORDER_NOT_RECEIVED } bench_order_story_t;

/* A thread's source of events: one order at a time, its events in order. */
typedef struct {
    uint64_t rng;
    const char *run_tag;
    const char *marketplace;
    char stream_tag[16];       /* which thread or seeder: keeps ids unique */
    int nsellers;
    int fixed_seller;          /* >= 0: every order is this seller's (seeding) */
    uint64_t seq;              /* events made */
    uint64_t orders;           /* orders begun */
    /* the current order */
    int seller;
    int step;                  /* next event of the order, 0..BENCH_ORDER_EVENTS */
    bench_order_story_t story;
    int64_t t0_ms;
    int64_t amount;
    uint32_t product;
    char order_id[96];
} bench_stream_t;

/* A stream of orders of random sellers among nsellers; ids tagged with
 * run_tag and tag. Keeps both strings borrowed. */
void bench_stream_init(bench_stream_t *s, const char *run_tag, const char *marketplace, const char *tag,
                       int nsellers, uint64_t seed);
/* Fills *slot with the stream's next event (a new order when one ends). */
void bench_stream_next(bench_stream_t *s, bench_ev_slot_t *slot);
/* The id of seeded seller i ("bench-seller-000042"). */
void bench_seller_name(int i, char *buf, size_t len);

/* ---- cases and workers (bench_run.c) ---- */

typedef enum { CASE_HEALTH, CASE_SEED, CASE_METRICS, CASE_RECORD, CASE_BOOSTS, CASE_GRADE } bench_case_kind_t;

typedef struct {
    const char *key;           /* its name for --cases; NULL for the seeding */
    char name[40];             /* its row in the table */
    bench_case_kind_t kind;
    uint32_t batch;            /* events per RecordEvents, ids per GetRankingBoosts */
    bool explain;              /* CASE_GRADE: ask for reasons and advice */
    bool scrape;               /* GET /metrics every second during the case */
} bench_case_def_t;

/* Seller ids made once, so a call picks pointers instead of printing them. */
typedef struct {
    char (*known)[BENCH_ID_LEN];     /* the seeded sellers, by index */
    char (*unknown)[BENCH_ID_LEN];   /* BENCH_UNKNOWN_POOL ids never seeded */
    int nknown;
} bench_names_t;

typedef struct {
    const bench_case_def_t *cd;
    const bench_opts_t *o;
    const bench_names_t *names;
    pthread_mutex_t *print_mu;
    unsigned *printed;         /* errors printed in this case, under print_mu */
} bench_case_ctx_t;

typedef struct {
    unsigned idx;
    grading_client_t *client;
    const bench_case_ctx_t *cc;
    bench_stream_t stream;
    bench_ev_slot_t *slots;    /* BENCH_MAX_BATCH */
    Grading__V1__SellerEvent **evp;
    char **ids;                /* BENCH_MAX_BATCH seller ids of a GetRankingBoosts call (borrowed) */
    bool *unknown;             /* BENCH_MAX_BATCH: which of them name no seller */
    int64_t *lat;              /* BENCH_LAT_CAP latency samples, ns */
    size_t nlat;
    int64_t max_ns;
    uint64_t calls, errors, items;
    int64_t t_start, t_end;
    int seed_from, seed_step;  /* CASE_SEED: sellers seed_from, +seed_step, ... */
} bench_worker_t;

typedef struct {
    char name[40];
    bench_case_kind_t kind;
    uint32_t batch;
    uint64_t calls, items, errors;   /* items: events recorded or ids answered */
    double seconds;
    double p50_ms, p99_ms, max_ms;
    size_t samples;
    bool ran;
} bench_case_result_t;

/* Runs one case on every worker (each thread's client and stream); fills
 * *r. Returns -1 when a thread cannot start or memory runs out (printed). */
int bench_run_case(bench_worker_t *ws, int nthreads, const bench_case_ctx_t *cc, bench_case_result_t *r);
/* n seller ids of a GetRankingBoosts call into ids (borrowed from names):
 * seeded sellers at random, about 1 in BENCH_UNKNOWN_ONE_IN unknown (those
 * flagged in unknown). */
void bench_pick_ids(const bench_names_t *names, uint64_t *rng, uint32_t n, char **ids, bool *unknown);

/* ---- our own gradingd (bench_server.c) ---- */

typedef struct {
    grading_bench_proc_t proc;
    char dir[64];              /* mkdtemp: data, port file, log */
    char addr[64];
    char admin_addr[64];       /* its admin HTTP server ("" if none) */
} bench_server_t;

/* Starts gradingd on 127.0.0.1:0 with a fresh data dir; waits (bounded) for
 * its port file. *out_bin and *out_policy name what it runs (static
 * storage). Returns -1 (printed, nothing left behind) on failure. */
int bench_server_start(bench_server_t *s, const bench_opts_t *o, const char **out_bin, const char **out_policy);
/* SIGTERM, SIGKILL after a bounded wait; removes the data dir. Idempotent. */
void bench_server_stop(bench_server_t *s);
/* Waits until the server answers this client SERVING, or the deadline
 * (bench_mono_ns). Returns -1 (printed) on timeout. */
int bench_wait_serving(grading_client_t *c, int64_t deadline);
/* The directory holding this program ("" if unknown). */
void bench_self_dir(char *buf, size_t len);

/* ---- scraping /metrics during a case (bench_scrape.c) ---- */

typedef struct bench_scraper bench_scraper_t;
/* Starts a thread that GETs /metrics from admin_addr at once and then
 * every second. NULL (printed) when it cannot start. */
bench_scraper_t *bench_scraper_start(const char *admin_addr);
/* Stops and joins it; *scrapes: successful scrapes, *failures: the rest;
 * *bytes: the last body's size. Frees it. */
void bench_scraper_stop(bench_scraper_t *sc, uint64_t *scrapes, uint64_t *failures, uint64_t *bytes);

/* ---- seeding in process (bench_seed.c) ---- */

/* Seeds o->sellers sellers (BENCH_SEED_ORDERS_IN_PROCESS orders each) into
 * a new store in data_dir, derived with the policy at policy_path, and
 * closes it. Returns -1 (printed) on failure or interruption. */
int bench_seed_in_process(const bench_opts_t *o, const char *policy_path, const char *data_dir);
/* The map size the seeding starts with (gradingd gets it too). */
uint64_t bench_seed_map_size(const bench_opts_t *o);

/* ---- the Redis peer (bench_redis.c) ---- */

typedef struct {
    bool available;            /* both programs found on PATH */
    char server[PATH_MAX];     /* redis-server */
    char benchmark[PATH_MAX];  /* redis-benchmark */
} bench_redis_t;

/* A case's Redis counterpart, run right after it. */
typedef struct {
    bool ran;
    char workload[64];         /* "HINCRBY pipelined x1000, appendfsync always" */
    double items_per_s;        /* commands/s (HINCRBY) or keys/s (GET, MGET) */
    double p50_ms, p99_ms;     /* redis-benchmark's, per request or pipeline */
} bench_peer_result_t;

/* Finds redis-server and redis-benchmark on PATH; false when either is
 * missing (r->available says the same). */
bool bench_redis_find(bench_redis_t *r);
/* Runs the Redis workload matching case cd (RecordEvents: HINCRBY, AOF
 * fsync always; GetRankingBoosts: GET/MGET of as many keys, o->sellers
 * keys seeded, no persistence) with o->threads connections for about
 * o->seconds, on a private redis-server it starts and removes. Cases
 * without a counterpart leave out->ran false and return 0. Returns -1
 * (printed) when Redis could not be run. */
int bench_redis_run_case(const bench_redis_t *r, const bench_case_def_t *cd, const bench_opts_t *o,
                         bench_peer_result_t *out);

/* ---- GetRankingBoosts driven by h2load (bench_h2load.c) ---- */

/* A boost case again, with nghttp2's h2load as the client: one connection,
 * as many streams in flight as the bench has threads. */
typedef struct {
    bool ran;
    double calls_per_s, items_per_s;
    double mean_ms, max_ms;   /* h2load's "time for request" (it gives no percentiles) */
    uint64_t calls;
} bench_h2load_result_t;

/* h2load on PATH into buf; false when absent. */
bool bench_h2load_find(char *buf, size_t len);
/* Runs boost case cd (not the scraped one) against addr (HOST:PORT,
 * plaintext) for o->seconds: one request body of cd->batch ids picked as
 * the bench's threads pick them, sent over and over. Every answer must be
 * HTTP 200 with a message of cd->batch boosts (a gRPC error has none), else
 * it fails. Other cases leave out->ran false and return 0. Returns -1
 * (printed) when h2load could not run or an answer was wrong. */
int bench_h2load_run_case(const char *h2load, const bench_case_def_t *cd, const bench_opts_t *o,
                          const bench_names_t *names, const char *addr, bench_h2load_result_t *out);

/* ---- the report (bench_report.c) ---- */

/* Prints the table of the cases that ran. bin and policy: the started
 * server's (NULL with --addr). seeded: whether the sellers were seeded. */
void bench_print_report(const bench_case_result_t *rs, int nr, const bench_opts_t *o, const char *addr,
                        const char *bin, const char *policy, bool seeded);
/* Prints our gradingd's resident memory (all, anonymous, file-backed). */
void bench_print_memory(const bench_server_t *srv, const bench_opts_t *o);
/* Prints grading beside Redis, case by case, with the ratio of items/s;
 * peer NULL: says Redis was not found and prints nothing else. */
void bench_print_peer_report(const bench_case_result_t *rs, const bench_peer_result_t *peer, int nr);
/* Prints the boost cases as h2load drove them, beside the bench's own
 * client and (peer not NULL) Redis; h2 NULL: says h2load was not found. */
void bench_print_h2load_report(const bench_case_result_t *rs, const bench_h2load_result_t *h2,
                               const bench_peer_result_t *peer, int nr);

#endif
