/* The Prometheus text format (0.0.4) of the merged shards and of the
 * process. Names follow go-grpc-prometheus for the grpc_server_* families
 * so existing gRPC dashboards work unchanged. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "metrics_internal.h"

static const char *const code_names[GRADING_METRICS_CODES] = {
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
    "Unauthenticated"};

static const char *const event_results[GRADING_EVENTS_RESULTS] = {"accepted", "duplicate", "rejected", "conflict"};
static const char *const reload_results[GRADING_RELOAD_RESULTS] = {"ok", "invalid"};

/* grpc_service and grpc_method of method index m ("/pkg.Svc/Method"). */
static void method_labels(int m, char *svc, size_t svclen, char *meth, size_t methlen)
{
    const char *path = m == GRADING_METRICS_UNKNOWN_METHOD ? NULL : met_method_path(m);
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!path || !slash || path[0] != '/') {
        snprintf(svc, svclen, "unknown");
        snprintf(meth, methlen, "unknown");
        return;
    }
    snprintf(svc, svclen, "%.*s", (int)(slash - path - 1), path + 1);
    snprintf(meth, methlen, "%s", slash + 1);
}

static bool method_used(const met_counters_t *c, int m)
{
    return met_method_path(m) != NULL || c->started[m] != 0;
}

/* Label values here are method paths and marketplace names (validated
 * identifiers), so no escaping is needed beyond what we never emit. */
static void write_sec_hist(FILE *out, const char *name, const char *labels,
                           const met_sec_hist_snap_t *h)
{
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int b = 0; b < MET_SEC_BUCKETS; b++) {
        cum += h->buckets[b];
        fprintf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, grading_metrics_sec_bounds[b],
                (unsigned long long)cum);
    }
    cum += h->buckets[MET_SEC_BUCKETS];
    fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    fprintf(out, "%s_sum%s%s%s %.9f\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
            (double)h->sum_ns / 1e9);
    fprintf(out, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
            (unsigned long long)cum);
}

static void write_grpc(FILE *out, const met_counters_t *c)
{
    char svc[128], meth[128], labels[400];
    fprintf(out, "# HELP grpc_server_started_total Total number of RPCs started on the server.\n"
                 "# TYPE grpc_server_started_total counter\n");
    for (int m = 0; m < GRADING_METRICS_MAX_METHODS; m++) {
        if (!method_used(c, m)) continue;
        method_labels(m, svc, sizeof svc, meth, sizeof meth);
        fprintf(out, "grpc_server_started_total{grpc_type=\"%s\",grpc_service=\"%s\",grpc_method=\"%s\"} %llu\n",
                met_method_type(m), svc, meth, (unsigned long long)c->started[m]);
    }
    fprintf(out, "# HELP grpc_server_handled_total Total number of RPCs completed on the server, regardless of success or failure.\n"
                 "# TYPE grpc_server_handled_total counter\n");
    for (int m = 0; m < GRADING_METRICS_MAX_METHODS; m++) {
        if (!method_used(c, m)) continue;
        method_labels(m, svc, sizeof svc, meth, sizeof meth);
        for (int k = 0; k < GRADING_METRICS_CODES; k++) {
            /* every method shows OK (a live zero); other codes once seen */
            if (k != 0 && c->handled[m][k] == 0) continue;
            fprintf(out, "grpc_server_handled_total{grpc_type=\"%s\",grpc_service=\"%s\",grpc_method=\"%s\",grpc_code=\"%s\"} %llu\n",
                    met_method_type(m), svc, meth, code_names[k], (unsigned long long)c->handled[m][k]);
        }
    }
    fprintf(out, "# HELP grpc_server_handling_seconds Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.\n"
                 "# TYPE grpc_server_handling_seconds histogram\n");
    for (int m = 0; m < GRADING_METRICS_MAX_METHODS; m++) {
        if (!method_used(c, m)) continue;
        method_labels(m, svc, sizeof svc, meth, sizeof meth);
        snprintf(labels, sizeof labels, "grpc_type=\"%s\",grpc_service=\"%s\",grpc_method=\"%s\"",
                 met_method_type(m), svc, meth);
        write_sec_hist(out, "grpc_server_handling_seconds", labels, &c->lat[m]);
    }
}

static void write_grading(FILE *out, const met_counters_t *c)
{
    fprintf(out, "# HELP grading_events_total Events received by RecordEvents, by marketplace and result.\n"
                 "# TYPE grading_events_total counter\n");
    int nmp = met_mp_count();
    for (int i = 0; i < MET_MP_SLOTS; i++) {
        if (i >= nmp && i != MET_MP_OTHER) continue;
        uint64_t any = 0;
        for (int r = 0; r < GRADING_EVENTS_RESULTS; r++) any += c->events[i][r];
        if (i == 0 && !any) continue;   /* "unknown" only once seen */
        if (i == MET_MP_OTHER && !any) continue;
        for (int r = 0; r < GRADING_EVENTS_RESULTS; r++)
            fprintf(out, "grading_events_total{marketplace=\"%s\",result=\"%s\"} %llu\n", met_mp_name(i),
                    event_results[r], (unsigned long long)c->events[i][r]);
    }

    fprintf(out, "# HELP grading_ingest_batch_events Events per writer group commit.\n"
                 "# TYPE grading_ingest_batch_events histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b < MET_BATCH_BUCKETS; b++) {
        cum += c->batch.buckets[b];
        fprintf(out, "grading_ingest_batch_events_bucket{le=\"%g\"} %llu\n", grading_metrics_batch_bounds[b],
                (unsigned long long)cum);
    }
    cum += c->batch.buckets[MET_BATCH_BUCKETS];
    fprintf(out, "grading_ingest_batch_events_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    fprintf(out, "grading_ingest_batch_events_sum %llu\n", (unsigned long long)c->batch.sum);
    fprintf(out, "grading_ingest_batch_events_count %llu\n", (unsigned long long)cum);

    fprintf(out, "# HELP grading_ingest_commit_seconds Duration of a writer group commit (including fsync).\n"
                 "# TYPE grading_ingest_commit_seconds histogram\n");
    write_sec_hist(out, "grading_ingest_commit_seconds", "", &c->commit);

    fprintf(out, "# HELP grading_policy_reloads_total Policy reloads, by result.\n"
                 "# TYPE grading_policy_reloads_total counter\n");
    for (int r = 0; r < GRADING_RELOAD_RESULTS; r++)
        fprintf(out, "grading_policy_reloads_total{result=\"%s\"} %llu\n", reload_results[r],
                (unsigned long long)c->reloads[r]);

    fprintf(out, "# HELP grading_close_in_progress 1 while a ClosePeriod runs.\n"
                 "# TYPE grading_close_in_progress gauge\n"
                 "grading_close_in_progress %d\n", met_close_running());
    fprintf(out, "# HELP grading_close_sellers_total Sellers evaluated by period closes.\n"
                 "# TYPE grading_close_sellers_total counter\n"
                 "grading_close_sellers_total %llu\n", (unsigned long long)c->close_sellers);
    fprintf(out, "# HELP grading_sweep_due_sellers Sellers the last deadline sweep found at a new order stage.\n"
                 "# TYPE grading_sweep_due_sellers gauge\n"
                 "grading_sweep_due_sellers %llu\n", (unsigned long long)met_sweep_due());
    fprintf(out, "# HELP grading_refresh_seconds Duration of a full re-derivation of stored answers.\n"
                 "# TYPE grading_refresh_seconds histogram\n");
    write_sec_hist(out, "grading_refresh_seconds", "", &c->refresh);
}

void grading_metrics_write(FILE *out)
{
    met_counters_t *c = malloc(sizeof *c);
    if (!c) {
        fprintf(out, "# out of memory\n");
        return;
    }
    met_snapshot(c);
    write_grpc(out, c);
    write_grading(out, c);
    grading_metrics_write_shadow(out);
    free(c);
}

/* ---- process_* (the Prometheus client conventions) ---- */

static struct timespec start_time;
__attribute__((constructor)) static void note_start(void) { clock_gettime(CLOCK_REALTIME, &start_time); }

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;   /* the directory's own descriptor */
}

void grading_metrics_write_process(FILE *out)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long vsz = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &vsz, &rss) != 2) vsz = rss = 0;
        fclose(f);
    }
    struct rlimit lim;
    long long max_fds = getrlimit(RLIMIT_NOFILE, &lim) == 0 ? (long long)lim.rlim_cur : -1;
    fprintf(out, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
                 "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n", cpu);
    fprintf(out, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                 "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n",
            rss * (unsigned long long)page);
    fprintf(out, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                 "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %llu\n",
            vsz * (unsigned long long)page);
    fprintf(out, "# HELP process_open_fds Number of open file descriptors.\n"
                 "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n", open_fds());
    fprintf(out, "# HELP process_max_fds Maximum number of open file descriptors.\n"
                 "# TYPE process_max_fds gauge\nprocess_max_fds %lld\n", max_fds);
    fprintf(out, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
                 "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n",
            (double)start_time.tv_sec + start_time.tv_nsec / 1e9);
}
