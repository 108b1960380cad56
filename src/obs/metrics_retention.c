/* The retention pruner's metrics (issue 18): records deleted by kind, and
 * each marketplace's oldest kept day. Rare updates (a pass an hour): plain
 * atomics and a small mutex-guarded table, not the per-thread shards. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "grading/metrics.h"

#define RET_MAX_MARKETPLACES 32

static atomic_uint_fast64_t pruned[GRADING_PRUNED_KINDS];
static const char *const kind_names[GRADING_PRUNED_KINDS] = {"days", "orders", "inquiries", "event_ids",
                                                                        "periods"};

static pthread_mutex_t oldest_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char mp[65];
    int64_t day_start_s;
} oldest[RET_MAX_MARKETPLACES];
static size_t noldest;

void grading_metrics_pruned(grading_pruned_kind_t kind, uint64_t n)
{
    if ((int)kind >= 0 && kind < GRADING_PRUNED_KINDS) atomic_fetch_add(&pruned[kind], n);
}

void grading_metrics_oldest_day(const char *mp, int64_t day_start_ms)
{
    pthread_mutex_lock(&oldest_mu);
    size_t i = 0;
    while (i < noldest && strcmp(oldest[i].mp, mp) != 0) i++;
    if (i == noldest && noldest < RET_MAX_MARKETPLACES) snprintf(oldest[noldest++].mp, sizeof oldest[0].mp, "%s", mp);
    if (i < noldest) oldest[i].day_start_s = day_start_ms / 1000;
    pthread_mutex_unlock(&oldest_mu);
}

void grading_metrics_write_retention(FILE *out)
{
    fprintf(out, "# HELP grading_pruned_records_total Records the retention pruner deleted.\n"
                 "# TYPE grading_pruned_records_total counter\n");
    for (int k = 0; k < GRADING_PRUNED_KINDS; k++)
        fprintf(out, "grading_pruned_records_total{kind=\"%s\"} %llu\n", kind_names[k],
                (unsigned long long)atomic_load(&pruned[k]));
    fprintf(out, "# HELP grading_retention_oldest_day_seconds Start (Unix time) of the oldest local day kept.\n"
                 "# TYPE grading_retention_oldest_day_seconds gauge\n");
    pthread_mutex_lock(&oldest_mu);
    for (size_t i = 0; i < noldest; i++)
        fprintf(out, "grading_retention_oldest_day_seconds{marketplace=\"%s\"} %" PRId64 "\n", oldest[i].mp,
                oldest[i].day_start_s);
    pthread_mutex_unlock(&oldest_mu);
}
