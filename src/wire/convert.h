/* protobuf-c <-> core structs. Private to src/rpc. */
#ifndef GRADING_RPC_CONVERT_H
#define GRADING_RPC_CONVERT_H

#include <stdint.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "grading/event.h"
#include "grading/v1/grading.pb-c.h"

/* Unix ms of ts; 0 for NULL; far out of range (and so rejected by
 * validation) for absurd values instead of overflowing. */
int64_t rpc_timestamp_ms(const Google__Protobuf__Timestamp *ts);

/* Initialises *ts to ms. */
void rpc_timestamp_set(Google__Protobuf__Timestamp *ts, int64_t ms);

/* Fills *ev from m; strings are borrowed from m. Unknown kinds give
 * GRADING_EV_NONE, which validation rejects. */
void rpc_event_from_pb(const Grading__V1__SellerEvent *m, grading_event_t *ev);

#endif
