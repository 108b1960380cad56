/* See kafka.h. */
#include "kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"

void e2e_kafka_start(e2e_kafka_t *k, int brokers, int partitions, const char *topic)
{
    const char *prog = e2e_env("KAFKA_MOCK_CLUSTER");
    char nb[16], np[16], dlq[300];
    snprintf(nb, sizeof nb, "%d", brokers);
    snprintf(np, sizeof np, "%d", partitions);
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    int fds[2];
    if (pipe(fds) != 0) fail_msg("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(prog, prog, "--brokers", nb, "--partitions", np, "--topic", topic, "--topic", dlq, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    memset(k, 0, sizeof *k);
    k->pid = pid;
    size_t got = 0;
    int64_t deadline = e2e_now_ms() + E2E_START_TIMEOUT_MS;
    while (got < sizeof k->bootstrap - 1 && !memchr(k->bootstrap, '\n', got)) {
        int64_t left = deadline - e2e_now_ms();
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
        ssize_t n = read(fds[0], k->bootstrap + got, sizeof k->bootstrap - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    k->out = fds[0];   /* kept: brokers down/up are acknowledged there */
    char *nl = memchr(k->bootstrap, '\n', got);
    if (!nl) {
        e2e_kafka_stop(k);
        fail_msg("kafka_mock_cluster printed no bootstrap address within %d ms", E2E_START_TIMEOUT_MS);
    }
    *nl = '\0';
}

/* Signals the program and reads its stdout up to the line `ack`: the
 * signal alone would let the test run ahead of the brokers' state. */
static void signal_and_wait(e2e_kafka_t *k, int sig, const char *ack)
{
    if (k->pid <= 0 || kill(k->pid, sig) != 0) fail_msg("cannot signal kafka_mock_cluster");
    char line[128];
    size_t got = 0;
    int64_t deadline = e2e_now_ms() + E2E_START_TIMEOUT_MS;
    for (;;) {
        int64_t left = deadline - e2e_now_ms();
        struct pollfd p = {.fd = k->out, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
        char c;
        if (read(k->out, &c, 1) != 1) break;
        if (c != '\n') {
            if (got < sizeof line - 1) line[got++] = c;
            continue;
        }
        line[got] = '\0';
        if (!strcmp(line, ack)) return;
        got = 0;   /* an earlier acknowledgement: read on */
    }
    fail_msg("kafka_mock_cluster did not say \"%s\" within %d ms", ack, E2E_START_TIMEOUT_MS);
}

void e2e_kafka_brokers_down(e2e_kafka_t *k) { signal_and_wait(k, SIGUSR1, "brokers down"); }
void e2e_kafka_brokers_up(e2e_kafka_t *k) { signal_and_wait(k, SIGUSR2, "brokers up"); }

void e2e_kafka_stop(e2e_kafka_t *k)
{
    if (k->pid <= 0) return;
    if (k->out > 0) close(k->out);
    k->out = -1;
    kill(k->pid, SIGTERM);
    int64_t deadline = e2e_now_ms() + E2E_STOP_TIMEOUT_MS;
    int st;
    while (waitpid(k->pid, &st, WNOHANG) == 0) {
        if (e2e_now_ms() > deadline) {
            kill(k->pid, SIGKILL);
            waitpid(k->pid, &st, 0);
            break;
        }
        e2e_sleep_ms(20);
    }
    k->pid = 0;
}

static rd_kafka_t *client_new(const e2e_kafka_t *k, rd_kafka_type_t type)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", k->bootstrap, err, sizeof err);
    rd_kafka_conf_set(c, "log_level", "3", err, sizeof err);
    if (type == RD_KAFKA_CONSUMER) {
        rd_kafka_conf_set(c, "group.id", "e2e-reader", err, sizeof err);
        rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) fail_msg("rd_kafka_new: %s", err);
    return rk;
}

void e2e_kafka_produce_raw(const e2e_kafka_t *k, const char *topic, const char *key, const void *value, size_t len)
{
    rd_kafka_t *rk = client_new(k, RD_KAFKA_PRODUCER);
    rd_kafka_resp_err_t err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                                RD_KAFKA_V_VALUE((void *)value, len),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err) fail_msg("produce to %s: %s", topic, rd_kafka_err2str(err));
    if (rd_kafka_flush(rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_outq_len(rk) != 0)
        fail_msg("produce to %s: not acknowledged within 10 s", topic);
    rd_kafka_destroy(rk);
}

size_t e2e_kafka_read_reasons(const e2e_kafka_t *k, const char *topic, size_t want, char (*reasons)[256],
                              int64_t timeout_ms)
{
    rd_kafka_t *rk = client_new(k, RD_KAFKA_CONSUMER);
    rd_kafka_poll_set_consumer(rk);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    int np = 0;
    if (!rd_kafka_metadata(rk, 0, t, &md, 5000) && md->topic_cnt == 1) np = md->topics[0].partition_cnt;
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(np > 0 ? np : 1);
    for (int p = 0; p < np; p++) rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    size_t n = 0;
    int64_t deadline = e2e_now_ms() + timeout_ms;
    while (n < want && e2e_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err) {
            rd_kafka_headers_t *h = NULL;
            const void *v = NULL;
            size_t vlen = 0;
            reasons[n][0] = '\0';
            if (!rd_kafka_message_headers(m, &h) && !rd_kafka_header_get_last(h, "reason", &v, &vlen))
                snprintf(reasons[n], 256, "%.*s", (int)vlen, (const char *)v);
            n++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

bool e2e_kafka_wait_applied(const e2e_server_t *s, double applied, double dead, int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;
    do {
        char *body = NULL;
        if (e2e_admin_get(s, "/metrics", &body) == 200) {
            bool done = e2e_series(body, "grading_kafka_messages_applied_total") >= applied &&
                        e2e_series(body, "grading_kafka_messages_dead_lettered_total") >= dead &&
                        e2e_series(body, "grading_kafka_lag_messages") == 0;
            free(body);
            if (done) return true;
        } else {
            free(body);
        }
        e2e_sleep_ms(50);
    } while (e2e_now_ms() < deadline);
    return false;
}

void e2e_kafka_produce_to(const e2e_kafka_t *k, const char *topic, int32_t partition, const char *header,
                          const char *header_value, const void *value, size_t len)
{
    rd_kafka_t *rk = client_new(k, RD_KAFKA_PRODUCER);
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, header, -1, header_value, -1);
    rd_kafka_resp_err_t err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                                RD_KAFKA_V_VALUE((void *)value, len),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                                                RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(h);
        fail_msg("produce to %s[%d]: %s", topic, (int)partition, rd_kafka_err2str(err));
    }
    if (rd_kafka_flush(rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_outq_len(rk) != 0)
        fail_msg("produce to %s[%d]: not acknowledged within 10 s", topic, (int)partition);
    rd_kafka_destroy(rk);
}

grpc_status_code e2e_kafka_record_applied(grading_client_t *c, const e2e_batch_t *b, uint32_t *logged)
{
    Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    req.n_events = b->n;
    req.events = b->ev;
    req.wait_applied = true;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    grading_err_t err = grading_client_call(c, "/grading.v1.GradingService/RecordEvents", &req.base,
                                            &grading__v1__record_events_response__descriptor, E2E_RECORD_TIMEOUT_MS,
                                            &resp, &res);
    grpc_status_code st = err ? GRPC_STATUS_UNKNOWN : res.status;
    if (resp) *logged = ((const Grading__V1__RecordEventsResponse *)resp)->logged;
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
    return st;
}

void e2e_kafka_wait_orders(e2e_server_t *s, const char *seller, const char *as_of, double want, int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;
    double got = -1;
    do {
        Grading__V1__SellerMetrics *m = NULL;
        char details[200];
        if (e2e_metrics_try(s->client, "testmart", seller, as_of, &m, details, sizeof details) == GRPC_STATUS_OK) {
            got = e2e_metric(m, "orders", "30d");
            e2e_metrics_free(m);
            if (got == want) return;
        }
        e2e_sleep_ms(50);
    } while (e2e_now_ms() < deadline);
    fail_msg("seller %s: %g orders through %s after %lld ms, expected %g", seller, got, s->addr, (long long)timeout_ms,
             want);
}
