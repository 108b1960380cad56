/* The shard layout shared by counting (metrics.c) and rendering
 * (metrics_render.c). Private to src/obs. */
#ifndef GRADING_METRICS_INTERNAL_H
#define GRADING_METRICS_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "grading/metrics.h"

#define MET_SEC_BUCKETS 18
#define MET_BATCH_BUCKETS 14
#define MET_MP_SLOTS (GRADING_METRICS_MAX_MARKETPLACES + 2)
#define MET_MP_OTHER (MET_MP_SLOTS - 1)

extern const double grading_metrics_sec_bounds[MET_SEC_BUCKETS];
extern const double grading_metrics_batch_bounds[MET_BATCH_BUCKETS];

/* One layout, two element types: atomics in a shard, plain integers in a
 * merged snapshot. Every member is a T or an array of T, so a shard can
 * be walked as a flat array of counters. */
typedef struct { atomic_uint_fast64_t buckets[MET_SEC_BUCKETS + 1], sum_ns; } met_sec_hist_t;
typedef struct { uint64_t buckets[MET_SEC_BUCKETS + 1], sum_ns; } met_sec_hist_snap_t;
#define MET_COUNTERS(T, H)                                                    \
    struct {                                                                 \
        T started[GRADING_METRICS_MAX_METHODS];                              \
        T handled[GRADING_METRICS_MAX_METHODS][GRADING_METRICS_CODES];       \
        H lat[GRADING_METRICS_MAX_METHODS];                                \
        T events[MET_MP_SLOTS][GRADING_EVENTS_RESULTS];                      \
        struct { T buckets[MET_BATCH_BUCKETS + 1]; T sum; } batch;           \
        H commit;                                                              \
        H refresh;                                                             \
        T reloads[GRADING_RELOAD_RESULTS];                                   \
        T close_sellers;                                                     \
    }

typedef MET_COUNTERS(uint64_t, met_sec_hist_snap_t) met_counters_t;

typedef struct met_shard {
    MET_COUNTERS(atomic_uint_fast64_t, met_sec_hist_t) c;
    struct met_shard *next;
} met_shard_t;

#define MET_NCOUNTERS (sizeof(met_counters_t) / sizeof(uint64_t))
_Static_assert(sizeof(atomic_uint_fast64_t) == sizeof(uint64_t), "flat counters");
_Static_assert(sizeof(((met_shard_t *)0)->c) == sizeof(met_counters_t), "same layout");

/* Merges every shard (live and retired) into *out. */
void met_snapshot(met_counters_t *out);
const char *met_method_path(int i);   /* NULL: not named */
const char *met_method_type(int i);   /* grpc_type: "unary" or "bidi_stream" */
int met_mp_count(void);
const char *met_mp_name(int i);
int met_close_running(void);
uint64_t met_sweep_due(void);

#endif
