/* gradingd's Kafka flags (issue 11). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "grading/kafka.h"

enum { BROKERS, TOPIC, CONFIG, DLQ, READY_LAG };

bool app_flags_parse_kafka(int which, const char *arg, app_flags_t *f, char *err, size_t errlen)
{
    char why[256];
    switch (which) {
    case BROKERS:
        if (!arg[0]) {
            snprintf(err, errlen, "--kafka-brokers needs host:port[,host:port...]");
            return false;
        }
        f->kafka_brokers = arg;
        return true;
    case TOPIC:
    case DLQ:
        if (!arg[0] || strlen(arg) > 249) {
            snprintf(err, errlen, "--%s must be 1..249 characters, got \"%s\"",
                     which == TOPIC ? "kafka-topic" : "kafka-dlq-topic", arg);
            return false;
        }
        if (which == TOPIC) f->kafka_topic = arg;
        else f->kafka_dlq_topic = arg;
        return true;
    case CONFIG:
        if (f->nkafka_config == sizeof f->kafka_config / sizeof f->kafka_config[0]) {
            snprintf(err, errlen, "--kafka-config may be given at most 32 times");
            return false;
        }
        if (!grading_kafka_config_ok(arg, why, sizeof why)) {
            snprintf(err, errlen, "--kafka-config %s: %s", arg, why);
            return false;
        }
        f->kafka_config[f->nkafka_config++] = arg;
        return true;
    case READY_LAG: {
        char *end;
        errno = 0;
        long long v = strtoll(arg, &end, 10);
        if (errno || end == arg || *end || v < 0 || v > INT64_C(1000000000)) {
            snprintf(err, errlen, "--ready-max-lag must be 0..1000000000 messages, got \"%s\"", arg);
            return false;
        }
        f->ready_max_lag = v;
        return true;
    }
    }
    snprintf(err, errlen, "unknown Kafka flag");
    return false;
}

bool app_flags_check_kafka(const app_flags_t *f, char *err, size_t errlen)
{
    bool any = f->kafka_topic || f->nkafka_config || f->kafka_dlq_topic;
    if (any && !f->kafka_brokers) {
        snprintf(err, errlen, "--kafka-topic, --kafka-config and --kafka-dlq-topic need --kafka-brokers");
        return false;
    }
    if (f->kafka_brokers && !f->kafka_topic) {
        snprintf(err, errlen, "--kafka-brokers needs --kafka-topic");
        return false;
    }
    return true;
}
