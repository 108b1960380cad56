/* What the watch stream's two files share (private to src/rpc):
 * watch_stream.c runs the hub (its thread, the sends, the end of a
 * stream); watch_call.c takes a WatchGradeChanges call, checks it and
 * hands it to the hub. All stream state is under the hub's lock. */
#ifndef GRADING_RPC_WATCH_INTERNAL_H
#define GRADING_RPC_WATCH_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "grading/changes.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

#define WATCH_POLL_MS 10          /* how often the hub looks for new commits */
#define WATCH_SCAN 1024           /* log entries read per stream per pass */
#define WATCH_PAGE 256            /* changes per message */
#define WATCH_MAX_SELLERS 10000   /* seller ids of one filter */
/* A stream is cut only when its message in flight has not been taken for
 * this long too: a client reading through a burst (a 10,000-event batch, a
 * refresh after a reload) is behind by the burst but not stalled. */
#define WATCH_STALL_MS 5000
#define WATCH_MAX_STREAMS 1024    /* streams open at once: each holds a call and one message */

typedef struct watch_stream watch_stream_t;

struct watch_stream {
    call_slot_t *s;
    call_slot_t close_tag;        /* RECV_CLOSE_ON_SERVER's completion */
    rpc_watch_hub_t *hub;
    watch_stream_t *next;
    grading_change_filter_t filter;
    const char **sellers;         /* the filter's ids (the request's strings) */
    char mp[GRADING_MAX_MARKETPLACE_LEN + 1];
    uint64_t pos;                 /* the last log entry looked at */
    int pending;                  /* batches in flight */
    bool sending, finishing;
    int64_t sent_ms;              /* monotonic: when the message in flight was started */
    grpc_byte_buffer *send;
    grpc_op ops[2];
    grpc_op close_op;
};

struct rpc_watch_hub {
    grading_store_t *store;
    grading_store_reader_t *reader;
    uint64_t max_lag;
    pthread_t thread;
    bool started, stop, draining;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    watch_stream_t *streams;
    size_t nstreams;
    grading_change_t *buf;        /* WATCH_SCAN entries: the pass's read */
    /* the message being encoded */
    Grading__V1__GradeChange *changes, **change_ptrs;
    Grading__V1__ProgramLevel *levels, **level_ptrs;
    Google__Protobuf__Timestamp *times;
    Grading__V1__ChangeKind *kinds;
    char (*tokens)[24];
};

/* Monotonic milliseconds. */
int64_t rpc_watch_mono_ms(void);
/* Frees a stream that is not (or no longer) in the hub's list. */
void rpc_watch_stream_free(watch_stream_t *st);
/* The stream's last batch completed: frees it and recycles its slot. */
void rpc_watch_recycle(watch_stream_t *st);
/* Ends the stream with code (under the hub's lock): a status batch, or a
 * cancel carrying the status when a send is stuck. */
void rpc_watch_finish(watch_stream_t *st, grpc_status_code code, const char *message);
/* The completions of a stream's sends (tag: the slot) and of its
 * RECV_CLOSE_ON_SERVER (tag: the stream's close_tag). */
void rpc_watch_on_event(call_slot_t *s, int ok);
void rpc_watch_on_close(call_slot_t *tag, int ok);
/* A token's text. */
void rpc_watch_token(uint64_t seq, char out[24]);

#endif
