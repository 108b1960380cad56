/* See kafka_app.h. */
#include "kafka_app.h"

#include <stdio.h>

static grading_policy_t *server_policy(void *ctx) { return grading_server_policy(ctx); }

int app_kafka_start(const app_flags_t *f, grading_store_t *store, grading_ingest_t *ingest,
                    int64_t (*now_ms)(void *), void *clock_ctx, grading_kafka_t **out)
{
    *out = NULL;
    if (!f->kafka_brokers) return 0;
    grading_kafka_options_t o = {
        .brokers = f->kafka_brokers,
        .topic = f->kafka_topic,
        .dlq_topic = f->kafka_dlq_topic,
        .config = f->kafka_config,
        .nconfig = f->nkafka_config,
        .ready_max_lag = f->ready_max_lag,
        .store = store,
        .ingest = ingest,
        .now_ms = now_ms,
        .clock_ctx = clock_ctx,
        .max_future_skew_ms = f->max_future_skew_ms,
    };
    grading_error_t e = {0};
    if (grading_kafka_start(&o, out, &e)) {
        char msg[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 4];
        grading_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "gradingd: %s\n", msg);
        return -1;
    }
    return 0;
}

int app_kafka_consume(grading_kafka_t *k, grading_server_t *server)
{
    return grading_kafka_consume(k, server_policy, server) ? -1 : 0;
}
