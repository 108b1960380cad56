/* Process-wide counters and histograms for /metrics.
 *
 * Counting must not slow the hot path: every thread counts into its own
 * shard (a thread-local block, written by that thread only, with relaxed
 * atomics so a scrape may read it at any time); a scrape merges the
 * shards. A thread's shard is folded into a "retired" total when the
 * thread exits, so nothing counted is lost. Gauges that belong to another
 * layer (queue depth, LMDB sizes, the policy) are read at scrape time by
 * whoever renders them (src/admin). */
#ifndef GRADING_METRICS_H
#define GRADING_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* gRPC methods the server knows, by index; the last index counts calls to
 * methods not served ("unknown"). */
#define GRADING_METRICS_MAX_METHODS 32
#define GRADING_METRICS_UNKNOWN_METHOD (GRADING_METRICS_MAX_METHODS - 1)
#define GRADING_METRICS_CODES 17   /* gRPC status codes 0..16 */
/* Distinct marketplace labels; later names count as "other". */
#define GRADING_METRICS_MAX_MARKETPLACES 62

typedef enum {
    GRADING_EVENTS_ACCEPTED,
    GRADING_EVENTS_DUPLICATE,
    GRADING_EVENTS_REJECTED,
    GRADING_EVENTS_CONFLICT,   /* an event id stored before with other content */
    GRADING_EVENTS_RESULTS
} grading_events_result_t;

typedef enum { GRADING_RELOAD_OK, GRADING_RELOAD_INVALID, GRADING_RELOAD_RESULTS } grading_reload_result_t;

/* Names method index i ("/grading.v1.GradingService/GetGrade") and says
 * whether it is a bidirectional stream (grpc_type "bidi_stream", else
 * "unary"); the string is borrowed for the process's life. Call before
 * serving. */
void grading_metrics_name_method(int i, const char *path, bool bidi_stream);

/* ---- counting (any thread; lock-free on the caller's own shard) ---- */

void grading_metrics_call_started(int method);
void grading_metrics_call_handled(int method, int code, int64_t duration_ns);
/* Gives marketplace mp its grading_events_total series (at 0) before any
 * event of it arrives, so a scrape shows every marketplace of the policy. */
void grading_metrics_declare_marketplace(const char *mp);
/* n events of marketplace mp (NULL: "unknown") had this result. */
void grading_metrics_events(const char *mp, grading_events_result_t result, uint64_t n);
/* One writer group: its events and how long its commit took. */
void grading_metrics_ingest_batch(uint64_t events);
void grading_metrics_ingest_commit(int64_t duration_ns);
void grading_metrics_policy_reload(grading_reload_result_t result);
void grading_metrics_close_sellers(uint64_t n);
void grading_metrics_refresh(int64_t duration_ns);

/* ---- gauges owned here (rare updates: plain atomics) ---- */

void grading_metrics_close_running(bool running);
void grading_metrics_sweep_due(uint64_t sellers);

/* ---- retention (issue 18; src/obs/metrics_retention.c) ---- */

typedef enum {
    GRADING_PRUNED_DAYS, GRADING_PRUNED_ORDERS, GRADING_PRUNED_INQUIRIES, GRADING_PRUNED_EVENT_IDS,
    GRADING_PRUNED_PERIODS, GRADING_PRUNED_KINDS
} grading_pruned_kind_t;

void grading_metrics_pruned(grading_pruned_kind_t kind, uint64_t n);
/* Marketplace mp keeps local days from the one starting at day_start_ms. */
void grading_metrics_oldest_day(const char *mp, int64_t day_start_ms);
/* grading_pruned_records_total and grading_retention_oldest_day_seconds. */
void grading_metrics_write_retention(FILE *out);

/* ---- scrape ---- */

/* Writes every family above in the Prometheus text format (0.0.4). */
void grading_metrics_write(FILE *out);

/* Writes the process_* families (resident memory, open fds, CPU, start
 * time) of this process. */
void grading_metrics_write_process(FILE *out);

/* Total of one family, merged over the shards (tests and benchmarks). */
uint64_t grading_metrics_events_total(const char *mp, grading_events_result_t result);
uint64_t grading_metrics_handled_total(int method, int code);

/* The shadow policy (issue 14, metrics_shadow.c): one derive compared
 * the live level of a programme with the shadow's; rendered as
 * grading_shadow_derives_total and grading_shadow_disagreements_total. */
void grading_metrics_shadow_compared(const char *mp, const char *program, bool disagree);
uint64_t grading_metrics_shadow_disagreements(const char *mp, const char *program);
void grading_metrics_write_shadow(FILE *out);

#endif
