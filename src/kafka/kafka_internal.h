/* Shared by the files of src/kafka: the replica's Kafka state. */
#ifndef GRADING_KAFKA_INTERNAL_H
#define GRADING_KAFKA_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "grading/kafka.h"

#define KAFKA_NAME_MAX 250
#define KAFKA_DEAD_RECENT 64

/* What a delivery report's opaque points at: a produce call's message or a
 * dead letter waited for by the consumer. */
typedef enum { KAFKA_OPAQUE_CALL = 1, KAFKA_OPAQUE_LETTER } kafka_opaque_kind_t;

/* One grading_kafka_produce: its messages, then (wait_applied) the wait
 * for this replica to apply them. Under k->mu once produced. */
typedef struct kafka_call {
    kafka_opaque_kind_t kind;
    uint32_t nmsgs, remaining, logged;
    uint32_t *events_in;         /* per message: how many events */
    int32_t *parts;              /* per message: partition, once acknowledged */
    int64_t *offs;               /* per message: offset, once acknowledged */
    grading_kafka_result_t result;
    char why[200];
    bool wait_applied;
    bool command;                /* a command: its dead letter here fails the call */
    int64_t apply_deadline_ms;   /* monotonic */
    grading_kafka_done_cb done;
    void *ctx;
    struct kafka_call *next;     /* k->waiting */
} kafka_call_t;

/* A dead letter the consumer waits for (its offset is stored only once the
 * letter is acknowledged). */
typedef struct {
    kafka_opaque_kind_t kind;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    rd_kafka_resp_err_t err;
} kafka_letter_t;

struct grading_kafka {
    grading_kafka_options_t o;
    grading_policy_t *(*policy)(void *ctx);   /* set before the consumer starts */
    void *policy_ctx;
    char topic[KAFKA_NAME_MAX + 1];
    char dlq[KAFKA_NAME_MAX + 5];
    rd_kafka_t *producer, *consumer;
    pthread_t producer_thread, consumer_thread;
    bool producer_started, consumer_started;
    atomic_bool stopping;

    pthread_mutex_t mu;
    int32_t npartitions;         /* under mu; 0 until connected */
    int64_t *applied_next;       /* under mu: per partition, the next offset to apply */
    int64_t *high;               /* under mu: high watermarks last seen (-1 unknown) */
    kafka_call_t *waiting;       /* under mu: acknowledged, waiting to be applied */

    atomic_uint_fast64_t applied, dead_lettered;
    /* under mu: the last KAFKA_DEAD_RECENT messages dead-lettered here, for
     * a command call waiting on one of them */
    struct { int32_t partition; int64_t offset; } dead_recent[KAFKA_DEAD_RECENT];
    uint32_t dead_next;

    pthread_cond_t close_cv;     /* with mu: broadcast when a marker close ends */
    uint64_t closes_run;         /* under mu */
    /* consumer thread only: partitions sealed for a close not run yet; their
     * messages wait (paused, and dropped unapplied if already fetched) */
    bool *held;
    void (*closed)(void *ctx, const char *mp);   /* set before consuming */
    void *closed_ctx;
};

/* A close marker's fields (close_marker.c documents the encoding). */
typedef struct {
    char mp[128];
    int kind;
    char period[32];
    int64_t now_ms;   /* the ClosePeriod caller's clock: every replica closes as of it */
} kafka_marker_t;

/* 0: m is not a marker (no marker header); 1: a marker, in *out; -1: a
 * marker header with a bad value (why says what; dead-letter it). */
int kafka_marker_parse(const rd_kafka_message_t *m, kafka_marker_t *out, char *why, size_t len);

/* Parses a marker's value text; false if malformed. */
bool kafka_marker_fields(const char *value, kafka_marker_t *out);

/* Seals m's partition for mk's period in one transaction with offset(ctx)
 * (the partition's next offset) and, once every partition is sealed, runs
 * the close. Returns false when stopping. */
bool kafka_apply_marker(grading_kafka_t *k, const rd_kafka_message_t *m, const kafka_marker_t *mk,
                        grading_err_t (*offset)(void *ctx, grading_txn_t *txn, int64_t now_ms), void *offset_ctx);

/* Consumer thread, after assigning: pauses the partitions stored as held. */
void kafka_holds_load(grading_kafka_t *k);

/* Runs (resumes) the close stored as pending, if any, and clears it.
 * Returns false when stopping. */
bool kafka_close_pending(grading_kafka_t *k);

/* Whether m has header name (its last value in *v, *vlen): what tells a
 * close marker or a command from a RecordEventsRequest. */
bool kafka_header(const rd_kafka_message_t *m, const char *name, const void **v, size_t *vlen);

/* 0: m is not a command (no command header); 1: a command, in *cmd; -1:
 * a command header with an unknown value (why says; dead-letter it). */
int kafka_command_parse(const rd_kafka_message_t *m, grading_kafka_command_t *cmd, char *why, size_t len);

/* Applies the command m judged against p as of when (the message's time)
 * with offset(ctx) (the partition's next offset): an appeal in the same
 * transaction, an exemption's declaration and walk before it. Returns OK,
 * GRADING_ESHUTDOWN (stopping, nothing stored) or the data's error (why
 * says; dead-letter it). */
grading_err_t kafka_apply_command(grading_kafka_t *k, const grading_policy_t *p, const rd_kafka_message_t *m,
                                  grading_kafka_command_t cmd, int64_t when,
                                  grading_err_t (*offset)(void *ctx, grading_txn_t *txn, int64_t now_ms),
                                  void *offset_ctx, char *why, size_t len);

/* Runs b until it is on disk or fails on its data (b->report->error set);
 * retries what the disk refused. Returns OK, the data's error or
 * GRADING_ESHUTDOWN. With p, b's events are recorded under it. */
grading_err_t kafka_run_batch(grading_kafka_t *k, const grading_policy_t *p, grading_ingest_batch_t *b);

/* Sleeps up to ms, waking early when stopping (a retry's back-off). */
void kafka_backoff(grading_kafka_t *k, int ms);

/* A produce call of n messages (kafka_call_free frees it). */
kafka_call_t *kafka_call_new(uint32_t n, bool wait_applied, grading_kafka_done_cb done, void *ctx);
void kafka_call_free(kafka_call_t *c);

int64_t kafka_mono_ms(void);

/* Builds a librdkafka configuration: brokers, our defaults (KEY, VALUE
 * pairs, NULL-ended), the user's KEY=VALUEs, then what must hold whatever
 * the user set (fixed). NULL with why. */
rd_kafka_conf_t *kafka_conf_new(const grading_kafka_options_t *o, const char *const *defaults,
                                const char *const *fixed, char *why, size_t len);

/* The delivery report callback (producer thread). */
void kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

/* Calls waiting for apply whose messages are applied (or whose deadline
 * passed, or all of them with stopping) are answered. Takes k->mu. */
void kafka_waiters_check(grading_kafka_t *k, bool stopping);

/* The consumer thread (consume.c). */
void *kafka_consumer_main(void *arg);

#endif
