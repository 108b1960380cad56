/* The server's hooks into observe.c. Private to src/rpc. */
#ifndef GRADING_OBSERVE_INTERNAL_H
#define GRADING_OBSERVE_INTERNAL_H

#include <grpc/grpc.h>

typedef struct call_slot call_slot_t;

/* Names the method table's paths for the metrics (once, at start). */
void rpc_observe_register_methods(void);
/* A call was read: start its clock, count it, read its traceparent and
 * make it the thread's log context. */
void rpc_observe_start(call_slot_t *s);
/* The call is answered with code: count it and log it (failures always). */
void rpc_observe_end(call_slot_t *s, grpc_status_code code, const char *message);

#endif
