/* Per-thread metric shards, merged on scrape (see grading/metrics.h).
 *
 * A shard is written by its own thread only: an increment is a relaxed
 * load and store (no locked instruction, no shared cache line), and a
 * scrape reads it with relaxed loads. The registry mutex is taken when a
 * thread first counts, when it exits (its shard is folded into `retired`)
 * and by a scrape; never on the hot path. */
#include "grading/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"

/* Seconds buckets: a cached read takes microseconds, a close minutes. */
const double grading_metrics_sec_bounds[MET_SEC_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
const double grading_metrics_batch_bounds[MET_BATCH_BUCKETS] = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static met_shard_t *shards;        /* live threads' shards, under reg_mu */
static met_shard_t retired;        /* exited threads' totals, under reg_mu */
static pthread_key_t shard_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local met_shard_t *my_shard;

static const char *method_paths[GRADING_METRICS_MAX_METHODS];

/* Marketplace labels: append-only, so the hot path reads without a lock
 * (an entry is written before the count that publishes it). Index 0 is
 * "unknown", the last is "other". */
static char mp_names[MET_MP_SLOTS][72];
static atomic_int mp_count = 1;
static pthread_mutex_t mp_mu = PTHREAD_MUTEX_INITIALIZER;

static inline void bump(atomic_uint_fast64_t *c, uint64_t d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d, memory_order_relaxed);
}

static void fold(met_shard_t *into, met_shard_t *from)
{
    atomic_uint_fast64_t *a = (atomic_uint_fast64_t *)&into->c;
    atomic_uint_fast64_t *b = (atomic_uint_fast64_t *)&from->c;
    for (size_t i = 0; i < MET_NCOUNTERS; i++)
        bump(&a[i], atomic_load_explicit(&b[i], memory_order_relaxed));
}

/* Thread exit: keep what it counted, drop its shard. */
static void shard_retire(void *p)
{
    met_shard_t *s = p;
    pthread_mutex_lock(&reg_mu);
    for (met_shard_t **pp = &shards; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    fold(&retired, s);
    pthread_mutex_unlock(&reg_mu);
    free(s);
}

static void make_key(void) { pthread_key_create(&shard_key, shard_retire); }

/* The calling thread's shard; NULL only when memory ran out (then the
 * count is dropped rather than failing the call). */
static met_shard_t *shard(void)
{
    met_shard_t *s = my_shard;
    if (s) return s;
    pthread_once(&key_once, make_key);
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_lock(&reg_mu);
    s->next = shards;
    shards = s;
    pthread_mutex_unlock(&reg_mu);
    pthread_setspecific(shard_key, s);
    my_shard = s;
    return s;
}

static bool method_bidi[GRADING_METRICS_MAX_METHODS];

void grading_metrics_name_method(int i, const char *path, bool bidi_stream)
{
    if (i < 0 || i >= GRADING_METRICS_UNKNOWN_METHOD) return;
    method_paths[i] = path;
    method_bidi[i] = bidi_stream;
}

const char *met_method_path(int i) { return method_paths[i]; }
const char *met_method_type(int i) { return method_bidi[i] ? "bidi_stream" : "unary"; }

static int clamp_method(int m)
{
    return m >= 0 && m < GRADING_METRICS_MAX_METHODS ? m : GRADING_METRICS_UNKNOWN_METHOD;
}

static int sec_bucket(int64_t ns)
{
    double s = (double)ns / 1e9;
    int b = 0;
    while (b < MET_SEC_BUCKETS && s > grading_metrics_sec_bounds[b]) b++;
    return b;
}

static void observe_sec(met_sec_hist_t *h, int64_t ns)
{
    if (ns < 0) ns = 0;
    bump(&h->buckets[sec_bucket(ns)], 1);
    bump(&h->sum_ns, (uint64_t)ns);
}

void grading_metrics_call_started(int method)
{
    met_shard_t *s = shard();
    if (s) bump(&s->c.started[clamp_method(method)], 1);
}

void grading_metrics_call_handled(int method, int code, int64_t duration_ns)
{
    met_shard_t *s = shard();
    if (!s) return;
    int m = clamp_method(method);
    if (code < 0 || code >= GRADING_METRICS_CODES) code = 2;   /* UNKNOWN */
    bump(&s->c.handled[m][code], 1);
    observe_sec(&s->c.lat[m], duration_ns);
}

int met_mp_count(void) { return atomic_load_explicit(&mp_count, memory_order_acquire); }
const char *met_mp_name(int i) { return i == 0 ? "unknown" : i == MET_MP_OTHER ? "other" : mp_names[i]; }

static int mp_index(const char *mp)
{
    if (!mp || !mp[0]) return 0;
    int n = met_mp_count();
    for (int i = 1; i < n; i++)
        if (strcmp(mp_names[i], mp) == 0) return i;
    if (strlen(mp) >= sizeof mp_names[0]) return MET_MP_OTHER;
    pthread_mutex_lock(&mp_mu);
    n = atomic_load_explicit(&mp_count, memory_order_relaxed);
    int found = -1;
    for (int i = 1; i < n && found < 0; i++)
        if (strcmp(mp_names[i], mp) == 0) found = i;
    if (found < 0 && n < MET_MP_OTHER) {
        strcpy(mp_names[n], mp);
        atomic_store_explicit(&mp_count, n + 1, memory_order_release);
        found = n;
    }
    pthread_mutex_unlock(&mp_mu);
    return found < 0 ? MET_MP_OTHER : found;
}

void grading_metrics_declare_marketplace(const char *mp) { (void)mp_index(mp); }

void grading_metrics_events(const char *mp, grading_events_result_t result, uint64_t n)
{
    met_shard_t *s = shard();
    if (!s || n == 0 || (unsigned)result >= GRADING_EVENTS_RESULTS) return;
    bump(&s->c.events[mp_index(mp)][result], n);
}

void grading_metrics_ingest_batch(uint64_t events)
{
    met_shard_t *s = shard();
    if (!s) return;
    int b = 0;
    while (b < MET_BATCH_BUCKETS && (double)events > grading_metrics_batch_bounds[b]) b++;
    bump(&s->c.batch.buckets[b], 1);
    bump(&s->c.batch.sum, events);
}

void grading_metrics_ingest_commit(int64_t duration_ns)
{
    met_shard_t *s = shard();
    if (s) observe_sec(&s->c.commit, duration_ns);
}

void grading_metrics_refresh(int64_t duration_ns)
{
    met_shard_t *s = shard();
    if (s) observe_sec(&s->c.refresh, duration_ns);
}

void grading_metrics_policy_reload(grading_reload_result_t result)
{
    met_shard_t *s = shard();
    if (s && (unsigned)result < GRADING_RELOAD_RESULTS) bump(&s->c.reloads[result], 1);
}

void grading_metrics_close_sellers(uint64_t n)
{
    met_shard_t *s = shard();
    if (s) bump(&s->c.close_sellers, n);
}

static atomic_int close_running;
static atomic_uint_fast64_t sweep_due;

void grading_metrics_close_running(bool running) { atomic_fetch_add(&close_running, running ? 1 : -1); }
void grading_metrics_sweep_due(uint64_t sellers) { atomic_store(&sweep_due, sellers); }
int met_close_running(void) { return atomic_load(&close_running); }
uint64_t met_sweep_due(void) { return atomic_load(&sweep_due); }

void met_snapshot(met_counters_t *out)
{
    met_shard_t sum;
    memset(&sum, 0, sizeof sum);
    pthread_mutex_lock(&reg_mu);
    fold(&sum, &retired);
    for (met_shard_t *s = shards; s; s = s->next) fold(&sum, s);
    pthread_mutex_unlock(&reg_mu);
    atomic_uint_fast64_t *from = (atomic_uint_fast64_t *)&sum.c;
    uint64_t *to = (uint64_t *)out;
    for (size_t i = 0; i < MET_NCOUNTERS; i++) to[i] = atomic_load_explicit(&from[i], memory_order_relaxed);
}

uint64_t grading_metrics_events_total(const char *mp, grading_events_result_t result)
{
    met_counters_t *c = malloc(sizeof *c);
    if (!c) return 0;
    met_snapshot(c);
    uint64_t v = (unsigned)result < GRADING_EVENTS_RESULTS ? c->events[mp_index(mp)][result] : 0;
    free(c);
    return v;
}

uint64_t grading_metrics_handled_total(int method, int code)
{
    if (code < 0 || code >= GRADING_METRICS_CODES) return 0;
    met_counters_t *c = malloc(sizeof *c);
    if (!c) return 0;
    met_snapshot(c);
    uint64_t v = c->handled[clamp_method(method)][code];
    free(c);
    return v;
}
