/* End-to-end test support: steady RecordEvents load from several threads,
 * for the tests that stop or kill the server while calls are in flight.
 *
 * Thread t sends batch b as one RecordEvents call of `batch_events`
 * order_paid events (100 KRW each, paid 2026-10-05T01:00:00Z) for a seller
 * of its own, "<prefix>-t<t>-b<b>", so afterwards each batch's fate can be
 * read from that seller's metrics alone: orders is batch_events if it was
 * stored, 0 if not, anything else means a batch was stored in part.
 *
 * A thread stops at its first call that does not answer OK, when asked to
 * stop, or after max_batches calls. Each call has a deadline, so joining
 * is bounded. No cmocka asserts run on the worker threads. */
#ifndef E2E_LOAD_H
#define E2E_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "testsrv.h"

#define E2E_LOAD_AMOUNT 100
#define E2E_LOAD_PAID_AT "2026-10-05T01:00:00Z"
#define E2E_LOAD_AS_OF "2026-10-20T00:00:00Z"

typedef struct {
    int thread, batch;
    char seller[64];
    bool completed;            /* the call ended with a status */
    grpc_status_code status;
    char details[200];
    uint32_t accepted, duplicates;
    int64_t start_ms, end_ms;  /* e2e_now_ms() around the call */
} e2e_load_call_t;

typedef struct e2e_load e2e_load_t;

/* Starts `threads` threads against s's current address. Fails the test
 * when a thread cannot be started. */
e2e_load_t *e2e_load_start(const e2e_server_t *s, const char *prefix, int threads, int batch_events,
                           int max_batches);

/* Calls answered OK so far (any thread). */
int e2e_load_ok_count(e2e_load_t *l);

/* Waits until at least min_ok calls answered OK; false after timeout_ms or
 * when every thread has stopped first. */
bool e2e_load_wait_ok(e2e_load_t *l, int min_ok, int64_t timeout_ms);

/* Asks the threads to stop after their current call and joins them. */
void e2e_load_stop(e2e_load_t *l);

/* Joins the threads without asking them to stop (they stop by themselves
 * at their first failed call or after max_batches). */
void e2e_load_join(e2e_load_t *l);

/* After join/stop: every call made, thread by thread, batch by batch. */
size_t e2e_load_ncalls(const e2e_load_t *l);
const e2e_load_call_t *e2e_load_call(const e2e_load_t *l, size_t i);

/* The events of one batch, exactly as a load thread sent them (for
 * resending). */
void e2e_load_build_batch(const e2e_load_t *l, int thread, int batch, e2e_batch_t *out);

int e2e_load_batch_events(const e2e_load_t *l);

void e2e_load_free(e2e_load_t *l);

#endif
