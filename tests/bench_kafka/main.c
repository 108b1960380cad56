/* grading_kafka_bench: Kafka replicas' figures (issue 11), each printed
 * next to its baseline measured in the same run, on librdkafka's mock
 * cluster over loopback (3 brokers, 4 partitions) and real gradingd
 * processes. A program, not a test.
 *
 *   grading_kafka_bench [--messages N] [--lag-seconds S] [--boost-seconds S]
 *
 * 1. apply: N messages of 1,000 events each produced to the topic first,
 *    then a fresh replica started; messages/s (and events/s) from its start
 *    until it applied them all. Baseline: the same batches through
 *    RecordEvents of a standalone gradingd, one call after another.
 * 2. lag at 20,000 events/s: 16 threads, each a 1,000-event batch for a new
 *    seller every 800 ms through replica A (answered on the brokers'
 *    acknowledgement); the time from that answer until replica B shows the
 *    seller's orders (polled every 2 ms): p50/p99. Baseline: the
 *    acknowledgement's own latency.
 * 3. GetRankingBoosts with 100 ids: 4 threads for S seconds against one
 *    replica, then the same 4 threads spread over two replicas: ids/s.
 *
 * Environment: GRADINGD, GRADING_POLICY, KAFKA_MOCK_CLUSTER (set by the
 * build's defaults when unset). Uses the e2e support library. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "events.h"
#include "kafka.h"
#include "testsrv.h"

#define TOPIC "bench"
#define EVENTS_PER_MSG 1000
#define WHEN "2026-10-05T01:00:00Z"
#define AS_OF "2026-10-20T00:00:00Z"
#define LAG_THREADS 16
#define LAG_PERIOD_MS 800   /* 16 threads x 1.25 batches/s x 1,000 events = 20,000 events/s */
#define MAX_SAMPLES 4096
#define BOOST_THREADS 4
#define BOOST_IDS 100
#define SVC "/grading.v1.GradingService/"

static void die(const char *why)
{
    fprintf(stderr, "grading_kafka_bench: %s\n", why);
    exit(1);
}

static void build_batch(e2e_batch_t *b, const char *seller, const char *tag)
{
    char id[96], order[64];
    e2e_batch_init(b);
    for (int i = 0; i < EVENTS_PER_MSG; i++) {
        snprintf(id, sizeof id, "%s-%s-%d", tag, seller, i);
        snprintf(order, sizeof order, "%s-o%d", tag, i);
        e2e_add_paid(b, id, "testmart", seller, WHEN, order, 1000, "KRW", 2);
    }
}

/* ---- 1. apply throughput ---- */

static void produce_all(const e2e_kafka_t *k, int n)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", k->bootstrap, err, sizeof err);
    rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof err);
    rd_kafka_conf_set(c, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) die(err);
    for (int m = 0; m < n; m++) {
        char seller[32];
        snprintf(seller, sizeof seller, "ap-%d", m);
        e2e_batch_t b;
        build_batch(&b, seller, "ap");
        Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
        req.n_events = b.n;
        req.events = b.ev;
        size_t len = grading__v1__record_events_request__get_packed_size(&req);
        uint8_t *buf = malloc(len);
        if (!buf) die("out of memory");
        grading__v1__record_events_request__pack(&req, buf);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_KEY(seller, strlen(seller)),
                                 RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        e2e_batch_destroy(&b);
    }
    if (rd_kafka_flush(rk, 60000) || rd_kafka_outq_len(rk)) die("the mock cluster did not acknowledge every message");
    rd_kafka_destroy(rk);
}

static double apply_rate(e2e_server_t *replica, int n, int64_t *out_ms)
{
    int64_t t0 = e2e_now_ms();
    e2e_server_start(replica);
    if (!e2e_kafka_wait_applied(replica, n, 0, 600000)) die("the replica did not apply every message in 10 min");
    *out_ms = e2e_now_ms() - t0;
    return n * 1000.0 / (double)*out_ms;
}

static double record_rate(int n, int64_t *out_ms)
{
    e2e_server_t *s = e2e_server_start_new(NULL);
    int64_t t0 = e2e_now_ms();
    for (int m = 0; m < n; m++) {
        char seller[32];
        snprintf(seller, sizeof seller, "ap-%d", m);
        e2e_batch_t b;
        build_batch(&b, seller, "ap");
        e2e_reply_t r;
        if (e2e_record(s->client, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r) != GRPC_STATUS_OK) die(r.details);
        e2e_batch_destroy(&b);
    }
    *out_ms = e2e_now_ms() - t0;
    e2e_server_shutdown_quiet(s);
    e2e_server_free(s);
    return n * 1000.0 / (double)*out_ms;
}

/* ---- 2. replication lag ---- */

typedef struct {
    int thread, seconds;
    e2e_server_t *a, *b;
    int64_t lag[MAX_SAMPLES], ack[MAX_SAMPLES];
    size_t n;
    int errors;
} lag_worker_t;

static void *lag_main(void *arg)
{
    lag_worker_t *w = arg;
    grading_client_t *ca = e2e_client_new(w->a), *cb = e2e_client_new(w->b);
    if (!ca || !cb) {
        w->errors++;
        return NULL;
    }
    int64_t start = e2e_now_ms();
    for (int k = 0; e2e_now_ms() - start < w->seconds * 1000 && w->n < MAX_SAMPLES; k++) {
        /* paced: batch k starts at start + k * period (staggered per thread) */
        int64_t due = start + (int64_t)k * LAG_PERIOD_MS + w->thread * (LAG_PERIOD_MS / LAG_THREADS);
        int64_t wait = due - e2e_now_ms();
        if (wait > 0) e2e_sleep_ms(wait);
        char seller[48];
        snprintf(seller, sizeof seller, "lag-t%d-%d", w->thread, k);
        e2e_batch_t b;
        build_batch(&b, seller, "lag");
        e2e_reply_t r;
        int64_t t0 = e2e_now_ms();
        grpc_status_code st = e2e_record(ca, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r);
        int64_t t1 = e2e_now_ms();
        e2e_batch_destroy(&b);
        if (st != GRPC_STATUS_OK) {
            w->errors++;
            continue;
        }
        int64_t deadline = t1 + 60000;
        for (;;) {
            Grading__V1__SellerMetrics *m = NULL;
            char details[128];
            double orders = 0;
            if (e2e_metrics_try(cb, "testmart", seller, AS_OF, &m, details, sizeof details) == GRPC_STATUS_OK) {
                orders = e2e_metric(m, "orders", "30d");
                e2e_metrics_free(m);
            }
            if (orders == EVENTS_PER_MSG) break;
            if (e2e_now_ms() > deadline) {
                w->errors++;
                break;
            }
            e2e_sleep_ms(2);
        }
        w->ack[w->n] = t1 - t0;
        w->lag[w->n] = e2e_now_ms() - t1;
        w->n++;
    }
    grading_client_free(ca);
    grading_client_free(cb);
    return NULL;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

static int64_t pct(int64_t *v, size_t n, double p)
{
    if (!n) return -1;
    qsort(v, n, sizeof *v, cmp_i64);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

/* ---- 3. boosts ---- */

typedef struct {
    e2e_server_t *s;
    int seconds;
    uint64_t calls;
    int errors;
} boost_worker_t;

static void *boost_main(void *arg)
{
    boost_worker_t *w = arg;
    grading_client_t *c = e2e_client_new(w->s);
    if (!c) {
        w->errors++;
        return NULL;
    }
    char ids[BOOST_IDS][32];
    char *ptrs[BOOST_IDS];
    for (int i = 0; i < BOOST_IDS; i++) {
        snprintf(ids[i], sizeof ids[i], "ap-%d", i);
        ptrs[i] = ids[i];
    }
    Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    req.marketplace = "testmart";
    req.n_seller_ids = BOOST_IDS;
    req.seller_ids = ptrs;
    int64_t end = e2e_now_ms() + w->seconds * 1000;
    while (e2e_now_ms() < end) {
        ProtobufCMessage *resp = NULL;
        grading_call_result_t res = {0};
        grading_err_t err = grading_client_call(c, SVC "GetRankingBoosts", &req.base,
                                                &grading__v1__get_ranking_boosts_response__descriptor, 10000, &resp,
                                                &res);
        const Grading__V1__GetRankingBoostsResponse *r = (const void *)resp;
        if (!err && res.status == GRPC_STATUS_OK && r && r->n_boosts == BOOST_IDS) w->calls++;
        else w->errors++;
        if (resp) protobuf_c_message_free_unpacked(resp, NULL);
        grading_call_result_destroy(&res);
    }
    grading_client_free(c);
    return NULL;
}

static double boosts_rate(e2e_server_t *const *replicas, int nreplicas, int seconds, int *errors)
{
    boost_worker_t w[BOOST_THREADS] = {0};
    pthread_t th[BOOST_THREADS];
    for (int t = 0; t < BOOST_THREADS; t++) {
        w[t].s = replicas[t % nreplicas];
        w[t].seconds = seconds;
        if (pthread_create(&th[t], NULL, boost_main, &w[t])) die("cannot start a thread");
    }
    uint64_t calls = 0;
    for (int t = 0; t < BOOST_THREADS; t++) {
        pthread_join(th[t], NULL);
        calls += w[t].calls;
        *errors += w[t].errors;
    }
    return (double)calls * BOOST_IDS / seconds;
}

static int parse_arg(const char *v, int lo, int hi)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) die("bad option value (see the header of tests/bench_kafka/main.c)");
    return (int)x;
}

int main(int argc, char **argv)
{
    int messages = 200, lag_seconds = 10, boost_seconds = 3;
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--messages")) messages = parse_arg(v, 1, 100000);
        else if (!strcmp(argv[i], "--lag-seconds")) lag_seconds = parse_arg(v, 1, 3600);
        else if (!strcmp(argv[i], "--boost-seconds")) boost_seconds = parse_arg(v, 1, 3600);
        else die("usage: grading_kafka_bench [--messages N] [--lag-seconds S] [--boost-seconds S]");
    }
    setenv("GRADINGD", GRADING_BENCH_GRADINGD, 0);
    setenv("GRADING_POLICY", GRADING_BENCH_POLICY, 0);
    setenv("KAFKA_MOCK_CLUSTER", GRADING_BENCH_MOCK, 0);

    e2e_kafka_t k;
    e2e_kafka_start(&k, 3, 4, TOPIC);
    static char brokers[600];
    snprintf(brokers, sizeof brokers, "%s", k.bootstrap);
    const char *flags[] = {"--kafka-brokers", brokers, "--kafka-topic", TOPIC, "--log-level", "warn", NULL};

    printf("# grading_kafka_bench: mock cluster 3 brokers x 4 partitions, %d events per message\n", EVENTS_PER_MSG);
    produce_all(&k, messages);
    e2e_server_t *b = e2e_server_new(flags);
    int64_t ms_apply = 0, ms_record = 0;
    double rate = apply_rate(b, messages, &ms_apply);
    double base = record_rate(messages, &ms_record);
    printf("%-46s %12s %12s\n", "", "kafka", "baseline");
    printf("%-46s %12.1f %12.1f   (baseline: RecordEvents, standalone, 1 caller)\n",
           "apply: messages/s (1,000 events each)", rate, base);
    printf("%-46s %12.0f %12.0f\n", "apply: events/s", rate * EVENTS_PER_MSG, base * EVENTS_PER_MSG);
    printf("%-46s %12lld %12lld\n", "apply: ms for all messages", (long long)ms_apply, (long long)ms_record);
    fflush(stdout);

    e2e_server_t *a = e2e_server_start_new(flags);
    if (!e2e_kafka_wait_applied(a, messages, 0, 600000)) die("replica A did not catch up");
    lag_worker_t *lw = calloc(LAG_THREADS, sizeof *lw);
    pthread_t th[LAG_THREADS];
    if (!lw) die("out of memory");
    int64_t t0 = e2e_now_ms();
    for (int t = 0; t < LAG_THREADS; t++) {
        lw[t] = (lag_worker_t){.thread = t, .seconds = lag_seconds, .a = a, .b = b};
        if (pthread_create(&th[t], NULL, lag_main, &lw[t])) die("cannot start a thread");
    }
    static int64_t lag[LAG_THREADS * MAX_SAMPLES], ack[LAG_THREADS * MAX_SAMPLES];
    size_t n = 0;
    int errors = 0;
    for (int t = 0; t < LAG_THREADS; t++) {
        pthread_join(th[t], NULL);
        memcpy(lag + n, lw[t].lag, lw[t].n * sizeof *lag);
        memcpy(ack + n, lw[t].ack, lw[t].n * sizeof *ack);
        n += lw[t].n;
        errors += lw[t].errors;
    }
    double secs = (double)(e2e_now_ms() - t0) / 1000.0;
    printf("%-46s %12.0f %12s   (%zu batches, %d errors)\n", "lag: offered events/s", n * EVENTS_PER_MSG / secs,
           "", n, errors);
    int64_t ack50 = pct(ack, n, 0.5), ack99 = pct(ack, n, 0.99);
    printf("%-46s %12lld %12lld   (baseline: RecordEvents until acked)\n",
           "lag: p50 ms, ack -> visible on replica B", (long long)pct(lag, n, 0.5), (long long)ack50);
    printf("%-46s %12lld %12lld\n", "lag: p99 ms, ack -> visible on replica B", (long long)pct(lag, n, 0.99),
           (long long)ack99);
    fflush(stdout);
    free(lw);

    e2e_server_t *one[] = {a}, *two[] = {a, b};
    int berr = 0;
    double r1 = boosts_rate(one, 1, boost_seconds, &berr);
    double r2 = boosts_rate(two, 2, boost_seconds, &berr);
    printf("%-46s %12.0f %12.0f   (baseline: 1 replica; %d threads, %d errors)\n",
           "GetRankingBoosts x100: ids/s on 2 replicas", r2, r1, BOOST_THREADS, berr);

    e2e_server_shutdown_quiet(a);
    e2e_server_shutdown_quiet(b);
    e2e_server_free(a);
    e2e_server_free(b);
    e2e_kafka_stop(&k);
    return errors || berr ? 1 : 0;
}
