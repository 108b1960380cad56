/* End-to-end test support for Kafka mode (issue 11): the mock cluster
 * program (tests/kafka/kafka_mock_cluster, path in $KAFKA_MOCK_CLUSTER) as
 * a child process, a raw producer for messages no replica would write, and
 * a reader of the dead-letter topic. Every wait is bounded. */
#ifndef E2E_KAFKA_H
#define E2E_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "events.h"
#include "testsrv.h"

typedef struct {
    pid_t pid;
    int out;               /* the program's stdout: its acknowledgements */
    char bootstrap[512];   /* the first line the program printed */
} e2e_kafka_t;

/* Starts kafka_mock_cluster --brokers N --partitions P --topic TOPIC
 * --topic TOPIC.dlq and reads its bootstrap address (bounded). Fails the
 * test otherwise. */
void e2e_kafka_start(e2e_kafka_t *k, int brokers, int partitions, const char *topic);

/* SIGUSR1 / SIGUSR2: every broker down / up again; returns once the
 * program says it is done (bounded), fails the test otherwise. */
void e2e_kafka_brokers_down(e2e_kafka_t *k);
void e2e_kafka_brokers_up(e2e_kafka_t *k);

/* SIGTERM and a bounded wait. No asserts (teardowns). */
void e2e_kafka_stop(e2e_kafka_t *k);

/* Produces value (len bytes) with key to topic and waits for the
 * acknowledgement; fails the test otherwise. */
void e2e_kafka_produce_raw(const e2e_kafka_t *k, const char *topic, const char *key, const void *value,
                           size_t len);

/* Produces value with one header (a hand-made close marker) to one
 * partition of topic and waits for the acknowledgement; fails the test
 * otherwise. */
void e2e_kafka_produce_to(const e2e_kafka_t *k, const char *topic, int32_t partition, const char *header,
                          const char *header_value, const void *value, size_t len);

/* Reads topic from the beginning until want messages were read or
 * timeout_ms passed; copies each message's "reason" header (or "") into
 * reasons[i] (cap bytes each). Returns how many were read. */
size_t e2e_kafka_read_reasons(const e2e_kafka_t *k, const char *topic, size_t want, char (*reasons)[256],
                              int64_t timeout_ms);

/* Waits until replica s has applied at least applied messages and dead-
 * lettered at least dead (its /metrics) and its lag is 0; false on timeout. */
bool e2e_kafka_wait_applied(const e2e_server_t *s, double applied, double dead, int64_t timeout_ms);

/* RecordEvents of b's events with wait_applied; returns the status and,
 * on OK, *logged. No asserts. */
grpc_status_code e2e_kafka_record_applied(grading_client_t *c, const e2e_batch_t *b, uint32_t *logged);

/* Waits until testmart's seller has want orders in 30d (as of as_of, NULL:
 * now) through s (replicas apply asynchronously); fails the test with what
 * it saw last after timeout_ms. */
void e2e_kafka_wait_orders(e2e_server_t *s, const char *seller, const char *as_of, double want, int64_t timeout_ms);

#endif
