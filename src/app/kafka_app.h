/* gradingd in Kafka mode (issue 11): the flags to grading_kafka_start, and
 * the consumer judged with the server's policy in force. */
#ifndef GRADING_APP_KAFKA_H
#define GRADING_APP_KAFKA_H

#include "flags.h"
#include "grading/kafka.h"
#include "grading/server.h"

/* Without --kafka-brokers: *out = NULL, 0. Else starts the producer;
 * returns 0, or -1 after printing why (a usage error). */
int app_kafka_start(const app_flags_t *f, grading_store_t *store, grading_ingest_t *ingest,
                    int64_t (*now_ms)(void *), void *clock_ctx, grading_kafka_t **out);

/* Starts consuming, judged with server's policy. 0 or -1. */
int app_kafka_consume(grading_kafka_t *k, grading_server_t *server);

#endif
