/* grading_watch_bench: WatchGradeChanges throughput, "changes/s delivered
 * to 10 subscribers" (issue 14).
 *
 *   grading_watch_bench [--sellers N] [--subscribers K] [--gradingd PATH] [--policy FILE]
 *
 * Starts gradingd on 127.0.0.1:0 in a mkdtemp dir, then:
 * 1. baseline: records N new sellers (batches of BW_BATCH events, one
 *    change each) with no subscriber: the ingest rate alone;
 * 2. live: K subscribers watch from now while N more sellers are recorded;
 *    times from the first RecordEvents until every subscriber has all N;
 * 3. replay: K subscribers read the 2N changes of the log from token 0.
 * Each subscriber checks that its tokens are consecutive (nothing lost or
 * repeated); any failure: exit 1. Prints the figures side by side. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grading/client.h"
#include "grading/v1/grading.pb-c.h"

#define BW_SVC "/grading.v1.GradingService/"
#define BW_BATCH 5000
#define BW_MAX_SUBSCRIBERS 64
#define BW_DEFAULT_SELLERS 100000
#define BW_MAX_SELLERS 5000000
#define BW_START_TIMEOUT_MS 30000
#define BW_WAIT_MS 600000
#define BW_CLOCK "2026-11-02T00:00:00Z"
#define BW_EVENT_SECONDS INT64_C(1792458000)   /* 2026-10-20T01:00:00Z */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    char addr[64];
    const char *from;         /* resume token; "" = now */
    uint64_t want;            /* changes to receive */
    uint64_t got;
    int64_t done_ms;          /* when the last one arrived */
    bool ok;
    char why[256];
    atomic_bool *ready;       /* set once the first message arrived */
    pthread_t thread;
} subscriber_t;

static void *subscribe(void *arg)
{
    subscriber_t *s = arg;
    grading_client_t *c = NULL;
    grading_client_stream_t *st = NULL;
    s->ok = false;
    if (grading_client_new(s->addr, &c)) {
        snprintf(s->why, sizeof s->why, "no client");
        goto done;
    }
    Grading__V1__WatchGradeChangesRequest req = GRADING__V1__WATCH_GRADE_CHANGES_REQUEST__INIT;
    req.resume_token = (char *)s->from;
    if (grading_client_stream_open(c, BW_SVC "WatchGradeChanges", &req.base, &st)) {
        snprintf(s->why, sizeof s->why, "cannot open the stream");
        goto done;
    }
    uint64_t last = 0;
    bool first = true;
    int64_t deadline = now_ms() + BW_WAIT_MS;
    while (s->got < s->want && now_ms() < deadline) {
        ProtobufCMessage *m = NULL;
        bool timed_out;
        grading_call_result_t res = {0};
        if (grading_client_stream_next(st, &grading__v1__watch_grade_changes_response__descriptor,
                                       deadline - now_ms(), &m, &timed_out, &res)) {
            snprintf(s->why, sizeof s->why, "a message did not decode");
            goto done;
        }
        if (timed_out) break;
        if (!m) {
            snprintf(s->why, sizeof s->why, "stream ended: %s %s", grading_status_name(res.status),
                     res.details ? res.details : "");
            grading_call_result_destroy(&res);
            goto done;
        }
        const Grading__V1__WatchGradeChangesResponse *r = (const void *)m;
        if (first) {
            last = strtoull(r->token, NULL, 10);
            first = false;
            atomic_store(s->ready, true);
        }
        for (size_t i = 0; i < r->n_changes; i++) {
            uint64_t t = strtoull(r->changes[i]->token, NULL, 10);
            if (t != last + 1) {
                snprintf(s->why, sizeof s->why, "token %" PRIu64 " after %" PRIu64, t, last);
                protobuf_c_message_free_unpacked(m, NULL);
                goto done;
            }
            last = t;
            s->got++;
        }
        protobuf_c_message_free_unpacked(m, NULL);
    }
    s->done_ms = now_ms();
    s->ok = s->got == s->want;
    if (!s->ok) snprintf(s->why, sizeof s->why, "got %" PRIu64 " of %" PRIu64, s->got, s->want);
done:
    if (!s->ok) atomic_store(s->ready, true);
    grading_client_stream_free(st);
    grading_client_free(c);
    return NULL;
}

/* Records sellers w<from..from+n) (one order each), BW_BATCH per call. */
static int record(grading_client_t *c, uint64_t from, uint64_t n)
{
    Grading__V1__SellerEvent *ev = calloc(BW_BATCH, sizeof *ev), **evp = calloc(BW_BATCH, sizeof *evp);
    Grading__V1__OrderPaid *paid = calloc(BW_BATCH, sizeof *paid);
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    char(*ids)[32] = calloc(BW_BATCH, sizeof *ids), (*sellers)[32] = calloc(BW_BATCH, sizeof *sellers);
    int rc = -1;
    if (!ev || !evp || !paid || !ids || !sellers) goto done;
    ts.seconds = BW_EVENT_SECONDS;
    for (uint64_t at = from; at < from + n; at += BW_BATCH) {
        size_t k = (size_t)(from + n - at < BW_BATCH ? from + n - at : BW_BATCH);
        for (size_t i = 0; i < k; i++) {
            grading__v1__seller_event__init(&ev[i]);
            grading__v1__order_paid__init(&paid[i]);
            snprintf(ids[i], sizeof ids[i], "e%" PRIu64, at + i);
            snprintf(sellers[i], sizeof sellers[i], "w%" PRIu64, at + i);
            ev[i].event_id = ids[i];
            ev[i].seller_id = sellers[i];
            ev[i].occurred_at = &ts;
            paid[i].order_id = "o";
            paid[i].product_id = "p";
            paid[i].amount = 1000;
            paid[i].currency = "KRW";
            ev[i].kind_case = GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID;
            ev[i].order_paid = &paid[i];
            evp[i] = &ev[i];
        }
        Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
        req.events = evp;
        req.n_events = k;
        ProtobufCMessage *out = NULL;
        grading_call_result_t res = {0};
        if (grading_client_call(c, BW_SVC "RecordEvents", &req.base, &grading__v1__record_events_response__descriptor,
                                60000, &out, &res) ||
            res.status != GRPC_STATUS_OK) {
            fprintf(stderr, "grading_watch_bench: RecordEvents: %s %s\n", grading_status_name(res.status),
                    res.details ? res.details : "");
            grading_call_result_destroy(&res);
            goto done;
        }
        protobuf_c_message_free_unpacked(out, NULL);
        grading_call_result_destroy(&res);
    }
    rc = 0;
done:
    free(ev);
    free(evp);
    free(paid);
    free(ids);
    free(sellers);
    return rc;
}

/* Runs k subscribers from `from` for want changes each; if n_record, records
 * that many new sellers (from seller index rec_from) once all are ready.
 * Returns the seconds from the start (of recording, or of subscribing)
 * until the last subscriber had everything, or -1. */
static double run_subscribers(const char *addr, grading_client_t *c, int k, const char *from, uint64_t want,
                              uint64_t rec_from, uint64_t n_record)
{
    subscriber_t subs[BW_MAX_SUBSCRIBERS];
    atomic_bool ready[BW_MAX_SUBSCRIBERS];
    int64_t t0 = now_ms();
    for (int i = 0; i < k; i++) {
        memset(&subs[i], 0, sizeof subs[i]);
        snprintf(subs[i].addr, sizeof subs[i].addr, "%s", addr);
        subs[i].from = from;
        subs[i].want = want;
        atomic_init(&ready[i], false);
        subs[i].ready = &ready[i];
        if (pthread_create(&subs[i].thread, NULL, subscribe, &subs[i])) return -1;
    }
    if (n_record) {
        for (int i = 0; i < k; i++) {
            int64_t deadline = now_ms() + BW_START_TIMEOUT_MS;
            while (!atomic_load(&ready[i]) && now_ms() < deadline) {
                struct timespec d = {0, 1000000};
                nanosleep(&d, NULL);   /* polls a flag; bounded by the deadline */
            }
        }
        t0 = now_ms();
        if (record(c, rec_from, n_record)) return -1;
    }
    int64_t last = t0;
    bool ok = true;
    for (int i = 0; i < k; i++) {
        pthread_join(subs[i].thread, NULL);
        if (!subs[i].ok) {
            fprintf(stderr, "grading_watch_bench: subscriber %d: %s\n", i, subs[i].why);
            ok = false;
        }
        if (subs[i].done_ms > last) last = subs[i].done_ms;
    }
    return ok ? (double)(last - t0) / 1000.0 : -1;
}

static pid_t start_server(const char *bin, const char *policy, const char *dir, char *addr, size_t alen)
{
    char data[300], portf[300], logf[300];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(portf, sizeof portf, "%s/port", dir);
    snprintf(logf, sizeof logf, "%s/server.log", dir);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen(logf, "a", stdout) || !freopen(logf, "a", stderr)) _exit(127);
        execl(bin, bin, "--policy", policy, "--data-dir", data, "--listen", "127.0.0.1:0", "--port-file", portf,
              "--admin-listen", "off", "--test-clock", BW_CLOCK, "--refresh-s", "0", "--sweep-ms", "0",
              "--change-log-max-entries", "100000000", (char *)NULL);
        _exit(127);
    }
    int64_t deadline = now_ms() + BW_START_TIMEOUT_MS;
    while (now_ms() < deadline) {
        FILE *f = fopen(portf, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1) port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(addr, alen, "127.0.0.1:%d", port);
            return pid;
        }
        struct timespec d = {0, 20000000};
        nanosleep(&d, NULL);   /* waits for the port file; bounded by the deadline */
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int main(int argc, char **argv)
{
    uint64_t n = BW_DEFAULT_SELLERS;
    int k = 10;
    const char *bin = GRADING_WATCH_BENCH_GRADINGD, *policy = GRADING_WATCH_BENCH_POLICY;
    static const struct option opts[] = {{"sellers", required_argument, NULL, 's'},
                                         {"subscribers", required_argument, NULL, 'k'},
                                         {"gradingd", required_argument, NULL, 'g'},
                                         {"policy", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': n = strtoull(optarg, NULL, 10); break;
        case 'k': k = atoi(optarg); break;
        case 'g': bin = optarg; break;
        case 'p': policy = optarg; break;
        default:
            fprintf(stderr, "usage: grading_watch_bench [--sellers N (1..%d)] [--subscribers K (1..%d)] "
                            "[--gradingd PATH] [--policy FILE]\n",
                    BW_MAX_SELLERS, BW_MAX_SUBSCRIBERS);
            return c == 'h' ? 0 : 2;
        }
    }
    if (n < 1 || n > BW_MAX_SELLERS || k < 1 || k > BW_MAX_SUBSCRIBERS) {
        fprintf(stderr, "grading_watch_bench: --sellers must be 1..%d and --subscribers 1..%d\n", BW_MAX_SELLERS,
                BW_MAX_SUBSCRIBERS);
        return 2;
    }
    char dir[] = "/tmp/grading-watch-bench-XXXXXX", addr[64];
    if (!mkdtemp(dir)) return 1;
    pid_t pid = start_server(bin, policy, dir, addr, sizeof addr);
    if (pid < 0) {
        fprintf(stderr, "grading_watch_bench: gradingd did not start (log in %s)\n", dir);
        return 1;
    }
    int rc = 1;
    grading_client_t *cl = NULL;
    if (grading_client_new(addr, &cl)) goto out;
    int64_t t0 = now_ms();
    if (record(cl, 0, n)) goto out;
    double base_s = (double)(now_ms() - t0) / 1000.0;
    double live_s = run_subscribers(addr, cl, k, "", n, n, n);
    if (live_s < 0) goto out;
    double replay_s = run_subscribers(addr, cl, k, "0", 2 * n, 0, 0);
    if (replay_s < 0) goto out;
    printf("WatchGradeChanges, %d subscribers, %" PRIu64 " changes per phase (one per new seller)\n", k, n);
    printf("%-44s %10s %16s\n", "phase", "seconds", "changes/s");
    printf("%-44s %10.2f %16.0f\n", "baseline: ingest alone, no subscriber", base_s, (double)n / base_s);
    printf("%-44s %10.2f %16.0f   (%.0f delivered/s in all)\n", "live: ingest while streaming, per subscriber",
           live_s, (double)n / live_s, (double)n * k / live_s);
    printf("%-44s %10.2f %16.0f   (%.0f delivered/s in all)\n", "replay from token 0, per subscriber", replay_s,
           (double)(2 * n) / replay_s, (double)(2 * n) * k / replay_s);
    rc = 0;
out:
    grading_client_free(cl);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (rc == 0 && system(cmd) != 0) fprintf(stderr, "grading_watch_bench: could not remove %s\n", dir);
    return rc;
}
