/* What the server core shares with the RPC handlers: the call slot, the
 * per-thread context and the reply function. Private to src/rpc. */
#ifndef GRADING_SERVER_INTERNAL_H
#define GRADING_SERVER_INTERNAL_H

#include <grpc/grpc.h>
#include <pthread.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "grading/ingest.h"
#include "grading/log.h"
#include "grading/policy.h"
#include "grading/server.h"
#include "grading/store.h"
#include "grading/kafka.h"

typedef struct call_slot call_slot_t;
typedef struct cq_thread cq_thread_t;

/* A handler owns the call from here: it answers with rpc_reply(), now or
 * later from another thread (RecordEvents answers after the commit). */
typedef void (*rpc_handler_fn)(call_slot_t *s, const ProtobufCMessage *req);

typedef struct {
    const char *path;                          /* "/grading.v1.GradingService/GetGrade" */
    const ProtobufCMessageDescriptor *request;
    rpc_handler_fn handler;
    int slots_per_thread;                      /* calls kept requested per thread */
} rpc_method_t;

/* Per-call state for RecordEvents, freed with the slot. */
typedef struct {
    grading_event_t *events;
    const char **marketplaces;
    const grading_tz_t **zones;
    grading_ingest_batch_t batch;
    grading_ingest_report_t report;   /* conflicts, the field of a refusal */
    bool *duplicate;                /* per event, from the writer (metrics) */
} record_state_t;

struct call_slot {
    grading_server_t *srv;
    cq_thread_t *thr;
    const rpc_method_t *method;     /* NULL: the catch-all for unknown methods */
    void *registered;               /* grpc's handle of the method */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array request_md;
    grpc_call_details details;      /* unknown methods only */
    grpc_byte_buffer *payload;
    enum { SLOT_REQUESTED, SLOT_SENDING } state;
    /* What the reply batch points at until it completes. */
    grpc_op ops[4];
    grpc_byte_buffer *reply;
    grpc_slice status_details;
    int cancelled;
    /* Held for the call's duration. */
    ProtobufCMessage *request;
    grading_policy_t *policy;
    record_state_t record;
    call_slot_t *close_next;        /* the close worker's queue */
    char caller[128];               /* who called, for the audit (security.c) */
    /* observe.c: the call's clock and log context (trace id, caller). */
    int64_t start_ns;
    grading_log_ctx_t log_ctx;
    /* A streaming handler (reflection_stream.c) takes the call's later
     * completions here, until its last batch (status sent) clears it. */
    void (*on_event)(call_slot_t *s, int ok);
    void *stream;
    bool detached;                  /* rpc_slot_detach: freed, not re-requested, when the call ends */
    void (*worker_run)(call_slot_t *s);   /* on the close worker: this, else rpc_close_run */
};

/* Sends the reply (resp may be NULL for an error), then the server frees
 * the call and requests a new one. Call exactly once per call; any thread. */
void rpc_reply(call_slot_t *s, grpc_status_code code, const char *message,
               const ProtobufCMessage *resp);

/* Frees a call whose last batch could not start and requests the next
 * one (what a completed reply batch leads to). */
void rpc_slot_recycle(call_slot_t *s);
/* Appends SEND_STATUS_FROM_SERVER (code, message) at op; returns the next op. */
grpc_op *rpc_op_status(call_slot_t *s, grpc_op *op, grpc_status_code code, const char *message);
/* Completes the batch begun at s->ops..op with the status and the close
 * receipt and starts it (SLOT_SENDING): the call's last batch. A batch grpc
 * refuses cancels the call and recycles the slot. */
void rpc_send_status(call_slot_t *s, grpc_op *op, grpc_status_code code, const char *message);

/* EvaluatePolicy (handlers_whatif.c): queued to the close worker. */
void rpc_handle_evaluate_policy(call_slot_t *s, const ProtobufCMessage *msg);
void rpc_whatif_run(call_slot_t *s);

/* ListMetricEvents (handlers_evidence.c). */
void rpc_handle_list_metric_events(call_slot_t *s, const ProtobufCMessage *msg);
/* ExcludeEvents, RestoreEvents (handlers_appeal.c): queued to the close worker. */
void rpc_handle_appeal(call_slot_t *s, const ProtobufCMessage *msg);
/* DeclareExemption, RevokeExemption, ListExemptions (handlers_exempt.c): the close worker. */
void rpc_handle_exemption(call_slot_t *s, const ProtobufCMessage *msg);

/* For a call that may last (a watch stream): requests a new call in the
 * slot's place, so the method keeps its calls requested, and marks s to be
 * freed when its call ends. False when no new call could be requested. */
bool rpc_slot_detach(call_slot_t *s);

/* Server reflection (reflection_stream.c): the bidirectional stream, as
 * a handler of the method table. */
void rpc_handle_reflection(call_slot_t *s, const ProtobufCMessage *msg);

/* Maps our error codes to gRPC status codes. */
grpc_status_code rpc_status_of(grading_err_t err);

/* The store reader owned by the calling handler's thread. */
grading_store_reader_t *rpc_thread_reader(call_slot_t *s);

grading_ingest_t *rpc_ingest(call_slot_t *s);
int64_t rpc_now_ms(call_slot_t *s);
/* How far ahead of rpc_now_ms an event's occurred_at may be. */
int64_t rpc_max_future_skew_ms(call_slot_t *s);
int64_t rpc_dedup_horizon_ms(call_slot_t *s);
/* The call is a RecordEvents with a non-empty backfill_id (handlers.c). */
bool rpc_backfill_requested(const call_slot_t *s);
/* Kafka mode (issue 11): the replica's Kafka side, or NULL (standalone). */
grading_kafka_t *rpc_kafka(call_slot_t *s);
/* RecordEvents in Kafka mode (handlers_kafka.c): produces the judged batch. */
void rpc_record_to_kafka(call_slot_t *s, const Grading__V1__RecordEventsRequest *req);
/* Answers a Kafka call that did not end logged (and applied): true then. */
bool rpc_kafka_failed(call_slot_t *s, grading_kafka_result_t result, const char *why);
/* Answers a call whose message the producer refused (err, why). */
void rpc_kafka_refused(call_slot_t *s, grading_err_t err, const char *why);
bool rpc_shutting_down(call_slot_t *s);
pthread_mutex_t *rpc_close_lock(call_slot_t *s);
grading_store_t *rpc_store(call_slot_t *s);
/* A close finished: tell the app (it refreshes stored answers). */
void rpc_published(call_slot_t *s, const char *mp);

/* Shared by the handler files (handlers.c). */
void rpc_reply_error(call_slot_t *s, const grading_error_t *e);
/* A seller id a request names in `field`: present, at most
 * GRADING_MAX_ID_LEN bytes; else *e says so. */
bool rpc_seller_id_ok(const char *id, const char *field, grading_error_t *e);
const grading_marketplace_t *rpc_resolve_marketplace(call_slot_t *s, const char *name,
                                                     const char *field, grading_error_t *e);

/* The audit entry of a RecordEvents call, in its batch's transaction;
 * ctx is the call's slot (audit_rpc.c). */
grading_err_t rpc_audit_record(void *ctx, grading_txn_t *txn, int64_t now_ms, uint32_t accepted,
                               uint32_t duplicates);
void rpc_handle_list_audit(call_slot_t *s, const ProtobufCMessage *msg);
/* Counts a RecordEvents call's events in grading_events_total by
 * marketplace: accepted and duplicate when err is OK, else all rejected
 * (events_metrics.c). */
void rpc_count_events(call_slot_t *s, grading_err_t err);

/* The query handlers (handlers_query.c). */
/* A query's seller id, marketplace and as_of (unset: now) checked and
 * resolved; false with *e naming the field otherwise. */
bool rpc_query_target(call_slot_t *s, const char *mp_name, const char *seller,
                      const Google__Protobuf__Timestamp *as_of, const grading_marketplace_t **mp, int64_t *as_of_ms,
                      grading_error_t *e);
/* GetGradeForecast (handlers_forecast.c). */
void rpc_handle_get_grade_forecast(call_slot_t *s, const ProtobufCMessage *msg);
void rpc_handle_get_grade(call_slot_t *s, const ProtobufCMessage *msg);
void rpc_handle_get_penalty_state(call_slot_t *s, const ProtobufCMessage *msg);
void rpc_handle_get_ranking_boosts(call_slot_t *s, const ProtobufCMessage *msg);
void rpc_handle_get_ad_credit_eligibility(call_slot_t *s, const ProtobufCMessage *msg);
void rpc_handle_get_settlement_terms(call_slot_t *s, const ProtobufCMessage *msg);
void rpc_handle_close_period(call_slot_t *s, const ProtobufCMessage *msg);
void rpc_handle_get_grade_history(call_slot_t *s, const ProtobufCMessage *msg);

/* The close worker (close_worker.c): ClosePeriod calls run there, one at
 * a time, off the completion-queue threads. */
typedef struct rpc_close_worker rpc_close_worker_t;
grading_err_t rpc_close_worker_start(rpc_close_worker_t **out);
void rpc_close_worker_submit(rpc_close_worker_t *w, call_slot_t *s);
void rpc_close_worker_stop(rpc_close_worker_t *w);   /* runs what is queued, joins */
rpc_close_worker_t *rpc_close_worker(call_slot_t *s);
/* Runs one queued ClosePeriod call and answers it (handlers_close.c). */
void rpc_close_run(call_slot_t *s);

/* The method table (handlers.c) and its length. */
extern const rpc_method_t grading_rpc_methods[];
extern const int grading_rpc_method_count;

/* WatchGradeChanges (watch_stream.c): server streaming fed by one hub
 * thread that reads the change log; the server starts the hub, drains it
 * (every stream ends UNAVAILABLE) when shutting down, frees it last. */
typedef struct rpc_watch_hub rpc_watch_hub_t;
grading_err_t rpc_watch_hub_start(grading_store_t *store, uint64_t max_lag, rpc_watch_hub_t **out);
void rpc_watch_hub_drain(rpc_watch_hub_t *h);
void rpc_watch_hub_free(rpc_watch_hub_t *h);
rpc_watch_hub_t *rpc_watch_hub(call_slot_t *s);
void rpc_handle_watch_grade_changes(call_slot_t *s, const ProtobufCMessage *msg);

#endif
