/* Kafka mode's life cycle, configuration, readiness and figures (kafka.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_internal.h"

int64_t kafka_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool grading_kafka_config_ok(const char *kv, char *why, size_t len)
{
    const char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq || eq == kv) {
        snprintf(why, len, "must be KEY=VALUE, got \"%s\"", kv ? kv : "");
        return false;
    }
    char key[128];
    size_t n = (size_t)(eq - kv);
    if (n >= sizeof key) {
        snprintf(why, len, "key of \"%s\" is too long", kv);
        return false;
    }
    memcpy(key, kv, n);
    key[n] = '\0';
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char err[256];
    bool ok = rd_kafka_conf_set(c, key, eq + 1, err, sizeof err) == RD_KAFKA_CONF_OK;
    if (!ok) snprintf(why, len, "%s", err);
    rd_kafka_conf_destroy(c);
    return ok;
}

rd_kafka_conf_t *kafka_conf_new(const grading_kafka_options_t *o, const char *const *defaults,
                                const char *const *fixed, char *why, size_t len)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", o->brokers, err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    if (rd_kafka_conf_set(c, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    /* a RecordEvents caller hears UNAVAILABLE after 10 s, not librdkafka's
     * 5 minutes; --kafka-config message.timeout.ms=... changes it */
    if (rd_kafka_conf_set(c, "message.timeout.ms", "10000", err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    for (size_t i = 0; defaults && defaults[i]; i += 2)
        if (rd_kafka_conf_set(c, defaults[i], defaults[i + 1], err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    for (size_t i = 0; i < o->nconfig; i++) {
        const char *eq = strchr(o->config[i], '=');
        char key[128];
        size_t n = eq ? (size_t)(eq - o->config[i]) : 0;
        if (!eq || n == 0 || n >= sizeof key) {
            snprintf(err, sizeof err, "--kafka-config must be KEY=VALUE, got \"%s\"", o->config[i]);
            goto fail;
        }
        memcpy(key, o->config[i], n);
        key[n] = '\0';
        if (rd_kafka_conf_set(c, key, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    }
    for (size_t i = 0; fixed && fixed[i]; i += 2)
        if (rd_kafka_conf_set(c, fixed[i], fixed[i + 1], err, sizeof err) != RD_KAFKA_CONF_OK) goto fail;
    return c;
fail:
    snprintf(why, len, "%s", err);
    rd_kafka_conf_destroy(c);
    return NULL;
}

/* Serves the producer's delivery reports until stopping. */
static void *producer_main(void *arg)
{
    grading_kafka_t *k = arg;
    while (!atomic_load(&k->stopping)) rd_kafka_poll(k->producer, 100);
    return NULL;
}

grading_err_t grading_kafka_start(const grading_kafka_options_t *o, grading_kafka_t **out, grading_error_t *e)
{
    char why[512];
    if (!o->brokers || !o->brokers[0]) return grading_error_set(e, GRADING_EINVAL, "--kafka-brokers", "is empty");
    if (!o->topic || !o->topic[0] || strlen(o->topic) > KAFKA_NAME_MAX)
        return grading_error_set(e, GRADING_EINVAL, "--kafka-topic", "must be 1..%d characters", KAFKA_NAME_MAX);
    if (o->dlq_topic && (!o->dlq_topic[0] || strlen(o->dlq_topic) > KAFKA_NAME_MAX))
        return grading_error_set(e, GRADING_EINVAL, "--kafka-dlq-topic", "must be 1..%d characters",
                                 KAFKA_NAME_MAX);
    grading_kafka_t *k = calloc(1, sizeof *k);
    if (!k) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    k->o = *o;
    snprintf(k->topic, sizeof k->topic, "%s", o->topic);
    if (o->dlq_topic) snprintf(k->dlq, sizeof k->dlq, "%s", o->dlq_topic);
    else snprintf(k->dlq, sizeof k->dlq, "%s.dlq", o->topic);
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->close_cv, NULL);

    /* The producer: idempotent, every in-sync replica acknowledges. */
    static const char *const producer_fixed[] = {"enable.idempotence", "true", "acks", "all", NULL};
    rd_kafka_conf_t *pc = kafka_conf_new(o, NULL, producer_fixed, why, sizeof why);
    if (!pc) {
        grading_error_set(e, GRADING_EINVAL, "--kafka-config", "%s", why);
        goto fail;
    }
    rd_kafka_conf_set_dr_msg_cb(pc, kafka_on_delivery);
    rd_kafka_conf_set_opaque(pc, k);
    k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, why, sizeof why);
    if (!k->producer) {
        rd_kafka_conf_destroy(pc);
        grading_error_set(e, GRADING_EINVAL, "--kafka-config", "producer: %s", why);
        goto fail;
    }
    /* The consumer: offsets are ours (LMDB), never committed to Kafka. */
    static const char *const consumer_fixed[] = {"enable.auto.commit", "false", "enable.auto.offset.store", "false",
                                                 "auto.offset.reset", "earliest", "group.id", "gradingd-replica",
                                                 NULL};
    /* a fetch that finds nothing new returns after 100 ms (not 500): the
     * replication lag's floor on brokers that hold idle fetches */
    static const char *const consumer_defaults[] = {"fetch.wait.max.ms", "100", NULL};
    rd_kafka_conf_t *cc = kafka_conf_new(o, consumer_defaults, consumer_fixed, why, sizeof why);
    if (!cc) {
        grading_error_set(e, GRADING_EINVAL, "--kafka-config", "%s", why);
        goto fail;
    }
    k->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, why, sizeof why);
    if (!k->consumer) {
        rd_kafka_conf_destroy(cc);
        grading_error_set(e, GRADING_EINVAL, "--kafka-config", "consumer: %s", why);
        goto fail;
    }
    rd_kafka_poll_set_consumer(k->consumer);
    if (pthread_create(&k->producer_thread, NULL, producer_main, k)) {
        grading_error_set(e, GRADING_EIO, "", "cannot start the Kafka producer thread");
        goto fail;
    }
    k->producer_started = true;
    *out = k;
    return GRADING_OK;
fail:
    grading_kafka_stop(k);
    return e->code;
}

grading_err_t grading_kafka_consume(grading_kafka_t *k, grading_policy_t *(*policy)(void *ctx), void *ctx)
{
    if (k->consumer_started) return GRADING_OK;
    k->policy = policy;
    k->policy_ctx = ctx;
    if (pthread_create(&k->consumer_thread, NULL, kafka_consumer_main, k)) return GRADING_EIO;
    k->consumer_started = true;
    return GRADING_OK;
}

void grading_kafka_stop(grading_kafka_t *k)
{
    if (!k) return;
    atomic_store(&k->stopping, true);
    if (k->consumer_started) pthread_join(k->consumer_thread, NULL);
    if (k->consumer) {
        rd_kafka_consumer_close(k->consumer);
        rd_kafka_destroy(k->consumer);
    }
    if (k->producer_started) pthread_join(k->producer_thread, NULL);
    if (k->producer) {
        /* what the brokers have not acknowledged yet fails its caller */
        rd_kafka_flush(k->producer, 2000);
        rd_kafka_purge(k->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(k->producer, 0);
        rd_kafka_destroy(k->producer);
    }
    kafka_waiters_check(k, true);
    free(k->applied_next);
    free(k->high);
    free(k->held);
    pthread_cond_destroy(&k->close_cv);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

int64_t grading_kafka_lag(grading_kafka_t *k)
{
    int64_t lag = 0;
    pthread_mutex_lock(&k->mu);
    if (!k->npartitions) lag = -1;
    for (int32_t p = 0; p < k->npartitions; p++) {
        if (k->high[p] < 0) {
            lag = -1;
            break;
        }
        if (k->high[p] > k->applied_next[p]) lag += k->high[p] - k->applied_next[p];
    }
    pthread_mutex_unlock(&k->mu);
    return lag;
}

bool grading_kafka_ready(grading_kafka_t *k, char *why, size_t len)
{
    int64_t lag = grading_kafka_lag(k);
    if (lag < 0) {
        snprintf(why, len, "kafka: not caught up yet (no high watermark from the brokers)");
        return false;
    }
    if (lag > k->o.ready_max_lag) {
        snprintf(why, len, "kafka: lag %" PRId64 " messages > --ready-max-lag %" PRId64, lag, k->o.ready_max_lag);
        return false;
    }
    return true;
}

void grading_kafka_write_metrics(grading_kafka_t *k, FILE *out)
{
    fprintf(out, "# HELP grading_kafka_messages_applied_total Kafka messages applied by this replica.\n"
                 "# TYPE grading_kafka_messages_applied_total counter\n"
                 "grading_kafka_messages_applied_total %" PRIuFAST64 "\n",
            atomic_load(&k->applied));
    fprintf(out, "# HELP grading_kafka_messages_dead_lettered_total Kafka messages sent to the dead-letter topic.\n"
                 "# TYPE grading_kafka_messages_dead_lettered_total counter\n"
                 "grading_kafka_messages_dead_lettered_total %" PRIuFAST64 "\n",
            atomic_load(&k->dead_lettered));
    fprintf(out, "# HELP grading_kafka_lag_messages Messages in the topic not applied yet (-1: unknown).\n"
                 "# TYPE grading_kafka_lag_messages gauge\n"
                 "grading_kafka_lag_messages %" PRId64 "\n",
            grading_kafka_lag(k));
}
