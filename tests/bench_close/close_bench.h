/* grading_close_bench's shared declarations.
 *
 * The program measures issue 5's "Scale" figures: how long ClosePeriod of
 * one month takes for N synthetic sellers, the server's peak memory while
 * it runs, and the GetRankingBoosts latency during the close next to the
 * latency with no close running. One file per concern:
 *   main.c    flags, the run in order, the checks, the table;
 *   seed.c    synthetic October 2026 event mixes applied in process;
 *   server.c  starting, waiting for and stopping gradingd, and sampling its
 *             /proc/<pid>/status;
 *   load.c    the GetRankingBoosts threads and their latencies.
 * Shared names carry a cb_ prefix; everything else is static. */
#ifndef GRADING_CLOSE_BENCH_H
#define GRADING_CLOSE_BENCH_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "grading/client.h"
#include "grading/err.h"
#include "grading/policy.h"
#include "benchlib.h"

/* ---- limits and defaults ---- */

#define CB_DEFAULT_SELLERS 100000
#define CB_MAX_SELLERS 10000000           /* ids are s%07d */
#define CB_DEFAULT_EVENTS_PER_SELLER 8
#define CB_MAX_EVENTS_PER_SELLER 1000
#define CB_DEFAULT_THREADS 4
#define CB_MAX_THREADS 64
#define CB_MARKETPLACE "tmon"             /* the marketplace of policies/tmon.yaml */
#define CB_PERIOD "2026-10"
#define CB_ID_LEN 24                      /* room for any id the seeding makes */

/* Events per seeding write transaction (the server's own group bound). */
#define CB_TXN_EVENTS 20000
/* The store may grow to this; the seeding starts from an estimate. */
#define CB_MAX_MAP_SIZE (UINT64_C(64) << 30)

#define CB_BOOST_IDS 100                  /* seller ids per GetRankingBoosts */
#define CB_BASELINE_MS 5000
#define CB_CALL_TIMEOUT_MS 30000
#define CB_CLOSE_TIMEOUT_MS (3600 * 1000)
#define CB_START_TIMEOUT_MS 60000         /* port file, then Health SERVING */
#define CB_STOP_TIMEOUT_MS 30000          /* gradingd's own shutdown grace is 10 s */
#define CB_POLL_MS 50
#define CB_SAMPLE_MS 100                  /* /proc/<pid>/status */
/* Latency samples kept per thread per phase (4 bytes each); beyond it the
 * calls are still counted. */
#define CB_LAT_CAP (UINT32_C(1) << 22)

/* October 2026 in Asia/Seoul (UTC+9, no DST): [2026-10-01 00:00 KST,
 * 2026-11-01 00:00 KST) in Unix ms. */
#define CB_DAY_MS INT64_C(86400000)
#define CB_HOUR_MS INT64_C(3600000)
#define CB_OCT_START_MS INT64_C(1790780400000)
#define CB_OCT_END_MS (CB_OCT_START_MS + 31 * CB_DAY_MS)
/* The seeding's "stored at" and derive time: 2026-11-02 12:00 KST. */
#define CB_STORED_MS (CB_OCT_END_MS + 36 * CB_HOUR_MS)

/* ^C / SIGTERM: stop what runs, clean up. The handler also sends SIGTERM
 * to gradingd (cb_server_pid), so a close in progress ends early. */
extern volatile sig_atomic_t cb_stop;
extern volatile sig_atomic_t cb_server_pid;

typedef struct {
    uint32_t sellers;
    uint32_t events_per_seller;
    int threads;
    const char *gradingd;    /* resolved path */
    const char *policy;      /* resolved path */
    const char *keep;        /* NULL: a mkdtemp dir, removed at the end */
} cb_opts_t;

/* ---- clocks and randomness ---- */

static inline int64_t cb_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void cb_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !cb_stop) {}
}

/* splitmix64: small, seedable, enough for synthetic data. */
static inline uint64_t cb_rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint32_t cb_rng_below(uint64_t *s, uint32_t n) { return (uint32_t)(cb_rng_next(s) % n); }

/* The id of seeded seller i. */
void cb_seller_id(uint32_t i, char buf[CB_ID_LEN]);

/* ---- seeding (seed.c) ---- */

typedef struct {
    uint64_t events;
    uint32_t sellers;
    uint32_t transactions;
    double seconds;
    uint64_t map_size;       /* the store's map when the seeding ended */
    uint64_t file_bytes;     /* data.mdb on disk */
} cb_seed_result_t;

/* Seeds o->sellers sellers of CB_MARKETPLACE into a new store in data_dir:
 * about o->events_per_seller events each, dated in October 2026 KST,
 * applied in write transactions of about CB_TXN_EVENTS events with each
 * seller's stored answer derived with policy p, which is also recorded as
 * the policy of the last full walk (so gradingd skips its start-up
 * refresh). Closes the store before returning.
 * Errors (with *e): the store's; GRADING_EINVAL if a generated event is
 * invalid (a bug here); GRADING_ESHUTDOWN when cb_stop was raised. */
grading_err_t cb_seed(const cb_opts_t *o, const char *data_dir, grading_policy_t *p,
                      cb_seed_result_t *out, grading_error_t *e);

/* ---- gradingd (server.c) ---- */

typedef struct {
    pid_t pid;                  /* proc.pid once started (for the memory sampler) */
    grading_bench_proc_t proc;
    char addr[64];
} cb_server_t;

/* Starts bin on 127.0.0.1:0 with --data-dir data_dir, --policy policy,
 * --refresh-s 0 and the given initial map size; its output goes to
 * work_dir/gradingd.log and its port file to work_dir/port. Waits
 * (bounded) for the port file. Returns 0, or -1 having said why (the child,
 * if any, is stopped). */
int cb_server_start(cb_server_t *s, const char *bin, const char *policy, const char *work_dir,
                    const char *data_dir, uint64_t map_size);

/* Waits until Health answers SERVING on c, at most timeout_ms. 0 or -1. */
int cb_server_wait_serving(grading_client_t *c, int timeout_ms);

/* SIGTERM, a bounded wait, then SIGKILL. Returns 0 when it exited with
 * status 0, -1 otherwise (and prints the log's tail). */
int cb_server_stop(cb_server_t *s);

/* True when the server's log holds `needle` so far. */
bool cb_server_log_has(const cb_server_t *s, const char *needle);

/* Prints the last lines of the server's log to stderr. */
void cb_server_print_log(const cb_server_t *s, int max_lines);

/* Peaks of gradingd's /proc/<pid>/status, sampled every CB_SAMPLE_MS. */
enum { CB_MEM_VMHWM, CB_MEM_VMRSS, CB_MEM_RSSANON, CB_MEM_RSSFILE, CB_MEM_N };

typedef struct {
    pid_t pid;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    pthread_mutex_t mu;
    uint64_t peak_kb[CB_MEM_N];   /* under mu */
    uint64_t last_kb[CB_MEM_N];   /* under mu */
    uint32_t samples;             /* under mu */
} cb_mem_t;

int cb_mem_start(cb_mem_t *m, pid_t pid);
/* Copies the peaks and the latest sample so far (final after cb_mem_stop). */
void cb_mem_read(cb_mem_t *m, uint64_t peak_kb[CB_MEM_N], uint64_t last_kb[CB_MEM_N],
                 uint32_t *samples);
void cb_mem_stop(cb_mem_t *m);

/* ---- GetRankingBoosts load (load.c) ---- */

typedef struct {
    uint32_t *us;            /* per-call latency, microseconds, failed calls too */
    size_t n, cap;
    uint64_t calls, errors, dropped;
    char first_error[256];
} cb_lat_t;

void cb_lat_destroy(cb_lat_t *l);
/* The q-quantile (0..1, nearest rank) in ms; sorts l->us. 0 when empty. */
double cb_lat_quantile_ms(cb_lat_t *l, double q);

typedef struct cb_load cb_load_t;

/* Starts `threads` threads, thread i calling GetRankingBoosts on clients[i]
 * with CB_BOOST_IDS random ids of the `sellers` seeded ones, one call in
 * flight each, until cb_load_stop. Each reply is checked (one boost per id,
 * finite, >= 0, the expected policy version). */
grading_err_t cb_load_start(grading_client_t **clients, int threads, uint32_t sellers,
                            const char *policy_version, uint64_t seed, cb_load_t **out);

/* Stops and joins the threads, merges their figures into *out (which the
 * caller destroys with cb_lat_destroy) and frees l. */
void cb_load_stop(cb_load_t *l, cb_lat_t *out);

/* ---- the what-if phase (whatif.c, issue 14) ----
 * EvaluatePolicy over every seller with the policy file plus a comment as
 * the candidate, the boosts threads running meanwhile (clients[1..]).
 * Checks every seller was evaluated and none moved. 0, or -1 after saying
 * why on stderr. busy: the caller destroys it. */
int cb_whatif(grading_client_t **clients, int threads, uint32_t sellers, const char *policy_path,
              const char *policy_version, double *seconds, uint64_t *evaluated, cb_lat_t *busy);

#endif
