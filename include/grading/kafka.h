/* Kafka mode (issue 11): the topic is the source of truth and this
 * replica a materialized view of it.
 *
 * The consumer reads every partition of the topic (no consumer group) and
 * applies each message, one RecordEventsRequest, through the same
 * validation, dedup, order timelines and derivation as RecordEvents
 * (grade/record.h), storing the partition's next offset in the same LMDB
 * write transaction as the events: a crash replays nothing twice and loses
 * nothing. A message that fails validation goes to the dead-letter topic
 * with the reason in its "reason" header, and its offset is stored: it
 * never blocks its partition. Close markers (close_marker.c) and commands
 * (appeals and exemptions, command.c) are messages told apart by a header.
 *
 * The producer writes RecordEvents' batches to the topic, one message per
 * seller (split beyond GRADING_KAFKA_MAX_EVENTS_PER_MESSAGE) keyed by
 * seller_id (a seller's events stay in order in one partition), idempotent
 * with acks=all. No gRPC here. */
#ifndef GRADING_KAFKA_H
#define GRADING_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "grading/close.h"
#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"
#include "grading/v1/grading.pb-c.h"

#define GRADING_KAFKA_MAX_CONFIG 32
/* A seller's events in one RecordEvents call go out in messages of at most
 * this many (well under librdkafka's default message.max.bytes of 1 MB). */
#define GRADING_KAFKA_MAX_EVENTS_PER_MESSAGE 1000
/* How long a wait_applied caller waits for this replica to apply. */
#define GRADING_KAFKA_APPLY_WAIT_MS 30000

typedef struct grading_kafka grading_kafka_t;

typedef struct {
    const char *brokers;              /* bootstrap list "host:port,..." */
    const char *topic;
    const char *dlq_topic;            /* NULL: "<topic>.dlq" */
    const char *const *config;        /* "KEY=VALUE" for librdkafka (SASL, TLS, ...) */
    size_t nconfig;
    int64_t ready_max_lag;            /* readiness: lag in messages at most this */
    grading_store_t *store;           /* borrowed, outlive the consumer */
    grading_ingest_t *ingest;
    int64_t (*now_ms)(void *ctx);     /* the clock events are judged against */
    void *clock_ctx;
    int64_t max_future_skew_ms;
} grading_kafka_options_t;

/* Whether a "KEY=VALUE" is acceptable to librdkafka (a clear message in
 * why otherwise). For flag checking before start. */
bool grading_kafka_config_ok(const char *kv, char *why, size_t len);

/* Starts the producer (RecordEvents may produce from now on).
 * Errors: GRADING_EINVAL (a bad option, *e says which), GRADING_ENOMEM,
 * GRADING_EIO. */
grading_err_t grading_kafka_start(const grading_kafka_options_t *o, grading_kafka_t **out, grading_error_t *e);

/* Starts the consumer thread, which connects and catches up in the
 * background (reads serve meanwhile), judging each message with the
 * policy in force: policy(ctx) returns it with a reference.
 * Errors: GRADING_EIO (thread creation). */
grading_err_t grading_kafka_consume(grading_kafka_t *k, grading_policy_t *(*policy)(void *ctx), void *ctx);

/* Stops consuming (the message being applied finishes), answers waiting
 * producers with GRADING_ESHUTDOWN, frees k. NULL is a no-op. */
void grading_kafka_stop(grading_kafka_t *k);

/* How a grading_kafka_produce ended. */
typedef enum {
    GRADING_KAFKA_LOGGED = 0,       /* every message acknowledged (and applied, with wait_applied) */
    GRADING_KAFKA_UNAVAILABLE,      /* the brokers did not acknowledge in time (message.timeout.ms) */
    GRADING_KAFKA_NOT_APPLIED,      /* acknowledged, not applied here within GRADING_KAFKA_APPLY_WAIT_MS */
    GRADING_KAFKA_SHUTDOWN,         /* this replica is stopping */
    GRADING_KAFKA_DEAD_LETTERED     /* a command: logged, but this replica dead-lettered it */
} grading_kafka_result_t;

/* Called once per grading_kafka_produce, on a Kafka thread; why says what
 * the brokers answered (static or valid during the call). logged: events
 * acknowledged. Must not block. */
typedef void (*grading_kafka_done_cb)(void *ctx, grading_kafka_result_t result, const char *why, uint32_t logged);

/* Produces req (already judged valid) as one message per seller.
 * req need not outlive the call. Errors (done is then not called; why
 * says what happened): GRADING_ENOMEM, GRADING_EFULL (the local queue is
 * full, or a seller's events exceed message.max.bytes), GRADING_ESHUTDOWN
 * (stopping). */
grading_err_t grading_kafka_produce(grading_kafka_t *k, const Grading__V1__RecordEventsRequest *req,
                                    bool wait_applied, grading_kafka_done_cb done, void *ctx, char *why,
                                    size_t why_len);

/* How long ClosePeriod waits for this replica to finish a marker close. */
#define GRADING_KAFKA_CLOSE_WAIT_MS 120000

/* ClosePeriod in Kafka mode (close_marker.c): checks the period like
 * grading_close_check (already closed here: out->already_closed, nothing
 * written), writes a close marker into every partition of the topic, waits
 * for the brokers' acknowledgement, then until this replica's consumer has
 * reached every marker and finished the close (out: its record), at most
 * wait_ms. Errors (with *e): grading_close_check's; GRADING_ESHUTDOWN (not
 * connected, markers not acknowledged, stopping: call again);
 * GRADING_ESTATE with *timed_out (markers written, close not finished here
 * within wait_ms: call again, it answers already_closed once done). */
grading_err_t grading_kafka_close_period(grading_kafka_t *k, const grading_marketplace_t *mp,
                                         grading_period_kind_t kind, const char *period, int64_t now_ms,
                                         int64_t wait_ms, grading_close_result_t *out, bool *timed_out,
                                         grading_error_t *e);

/* closed(ctx, marketplace) is called on the consumer thread after each
 * close run at the markers (stored boosts may follow the published grades).
 * Set before grading_kafka_consume. */
void grading_kafka_on_closed(grading_kafka_t *k, void (*closed)(void *ctx, const char *mp), void *ctx);

/* Commands (issue 15 in Kafka mode, command.c): appeals and exemptions go
 * through the topic like events, so every replica applies them. */
typedef enum {
    GRADING_KAFKA_CMD_EXCLUDE = 1,    /* ExcludeEventsRequest, keyed by seller_id */
    GRADING_KAFKA_CMD_RESTORE,        /* RestoreEventsRequest, keyed by seller_id */
    GRADING_KAFKA_CMD_DECLARE,        /* DeclareExemptionRequest, keyed by marketplace */
    GRADING_KAFKA_CMD_REVOKE          /* RevokeExemptionRequest, keyed by marketplace */
} grading_kafka_command_t;

/* Produces req (already judged valid here) as one command message keyed
 * by key, caller (for the audit entries) in a header; done follows once
 * the brokers acknowledged it and this replica applied it (logged 1).
 * Errors (done is then not called; why says what happened): as
 * grading_kafka_produce's. */
grading_err_t grading_kafka_produce_command(grading_kafka_t *k, grading_kafka_command_t cmd, const char *key,
                                            const ProtobufCMessage *req, const char *caller,
                                            grading_kafka_done_cb done, void *ctx, char *why, size_t why_len);

/* Messages this replica has not applied yet (over every partition, from
 * the brokers' high watermarks last seen); -1 before the first fetch. */
int64_t grading_kafka_lag(grading_kafka_t *k);

/* Readiness: false with why until connected and lag <= ready_max_lag. */
bool grading_kafka_ready(grading_kafka_t *k, char *why, size_t len);

/* Prometheus series: grading_kafka_messages_applied_total,
 * grading_kafka_messages_dead_lettered_total, grading_kafka_lag_messages. */
void grading_kafka_write_metrics(grading_kafka_t *k, FILE *out);

#endif
