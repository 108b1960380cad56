/* The shadow policy's counters (issue 14): per marketplace and programme,
 * how many derives compared the live level with the shadow's and how many
 * disagreed. Few label pairs, counted by the writer thread only: an
 * append-only table of atomics, a lock only to add a pair. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "grading/metrics.h"

#define SHADOW_MAX_PAIRS 64   /* marketplaces x programmes; more go uncounted */

typedef struct {
    char mp[72], program[72];
    atomic_uint_fast64_t derives, disagreements;
} shadow_pair_t;

static shadow_pair_t pairs[SHADOW_MAX_PAIRS];
static atomic_int npairs;
static pthread_mutex_t pairs_mu = PTHREAD_MUTEX_INITIALIZER;

static shadow_pair_t *find(const char *mp, const char *program)
{
    int n = atomic_load(&npairs);
    for (int i = 0; i < n; i++)
        if (strcmp(pairs[i].mp, mp) == 0 && strcmp(pairs[i].program, program) == 0) return &pairs[i];
    pthread_mutex_lock(&pairs_mu);
    shadow_pair_t *p = NULL;
    n = atomic_load(&npairs);
    for (int i = 0; i < n && !p; i++)
        if (strcmp(pairs[i].mp, mp) == 0 && strcmp(pairs[i].program, program) == 0) p = &pairs[i];
    if (!p && n < SHADOW_MAX_PAIRS) {
        p = &pairs[n];
        snprintf(p->mp, sizeof p->mp, "%s", mp);
        snprintf(p->program, sizeof p->program, "%s", program);
        atomic_store(&npairs, n + 1);   /* published after the names are written */
    }
    pthread_mutex_unlock(&pairs_mu);
    return p;
}

void grading_metrics_shadow_compared(const char *mp, const char *program, bool disagree)
{
    shadow_pair_t *p = find(mp, program);
    if (!p) return;
    atomic_fetch_add_explicit(&p->derives, 1, memory_order_relaxed);
    if (disagree) atomic_fetch_add_explicit(&p->disagreements, 1, memory_order_relaxed);
}

uint64_t grading_metrics_shadow_disagreements(const char *mp, const char *program)
{
    int n = atomic_load(&npairs);
    for (int i = 0; i < n; i++)
        if (strcmp(pairs[i].mp, mp) == 0 && strcmp(pairs[i].program, program) == 0)
            return atomic_load_explicit(&pairs[i].disagreements, memory_order_relaxed);
    return 0;
}

void grading_metrics_write_shadow(FILE *out)
{
    int n = atomic_load(&npairs);
    if (!n) return;   /* no shadow policy: no family */
    fprintf(out, "# HELP grading_shadow_derives_total Derives that evaluated the shadow policy beside the live one, "
                 "by marketplace and programme.\n"
                 "# TYPE grading_shadow_derives_total counter\n");
    for (int i = 0; i < n; i++)
        fprintf(out, "grading_shadow_derives_total{marketplace=\"%s\",program=\"%s\"} %llu\n", pairs[i].mp,
                pairs[i].program, (unsigned long long)atomic_load(&pairs[i].derives));
    fprintf(out, "# HELP grading_shadow_disagreements_total Derives where the shadow policy's level differed from "
                 "the live one, by marketplace and programme.\n"
                 "# TYPE grading_shadow_disagreements_total counter\n");
    for (int i = 0; i < n; i++)
        fprintf(out, "grading_shadow_disagreements_total{marketplace=\"%s\",program=\"%s\"} %llu\n", pairs[i].mp,
                pairs[i].program, (unsigned long long)atomic_load(&pairs[i].disagreements));
}
