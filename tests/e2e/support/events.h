/* End-to-end test support: building SellerEvents and calling
 * RecordEvents / GetSellerMetrics over a real gRPC client.
 *
 * A batch owns its events (each with its own copies of the strings and
 * its sub-messages); e2e_batch_destroy frees them all. Times are RFC 3339
 * texts ("2026-09-30T15:30:00Z") so a test reads like the events it sends.
 *
 * Functions marked "no asserts" only return what happened and are safe on
 * worker threads; the others fail the cmocka test themselves. */
#ifndef E2E_EVENTS_H
#define E2E_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/client.h"
#include "grading/v1/grading.pb-c.h"

typedef struct {
    Grading__V1__SellerEvent **ev;
    size_t n, cap;
} e2e_batch_t;

void e2e_batch_init(e2e_batch_t *b);
void e2e_batch_destroy(e2e_batch_t *b);

/* Unix milliseconds of an RFC 3339 time; aborts on a malformed text (a
 * bug in the test). No asserts. */
int64_t e2e_time_ms(const char *rfc3339);

/* Appends an event with the common fields set and no kind yet; when is
 * NULL for an event without occurred_at; any string may be NULL (unset).
 * Returns it so a kind can be set by hand. Aborts on out of memory. */
Grading__V1__SellerEvent *e2e_add_event(e2e_batch_t *b, const char *event_id, const char *marketplace,
                                        const char *seller, const char *when);

/* Appends one event of each kind. The common arguments are those of
 * e2e_add_event. */
Grading__V1__SellerEvent *e2e_add_paid(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                       const char *when, const char *order_id, int64_t amount,
                                       const char *currency, uint32_t ship_within_days);
Grading__V1__SellerEvent *e2e_add_shipped(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                          const char *when, const char *order_id, bool tracking_valid);
Grading__V1__SellerEvent *e2e_add_delivered(e2e_batch_t *b, const char *id, const char *mp,
                                            const char *seller, const char *when, const char *order_id,
                                            bool auto_completed);
Grading__V1__SellerEvent *e2e_add_cancelled(e2e_batch_t *b, const char *id, const char *mp,
                                            const char *seller, const char *when, const char *order_id,
                                            Grading__V1__Fault fault, Grading__V1__CancelReason reason);
Grading__V1__SellerEvent *e2e_add_returned(e2e_batch_t *b, const char *id, const char *mp,
                                           const char *seller, const char *when, const char *order_id,
                                           Grading__V1__Fault fault);
Grading__V1__SellerEvent *e2e_add_exchanged(e2e_batch_t *b, const char *id, const char *mp,
                                            const char *seller, const char *when, const char *order_id,
                                            Grading__V1__Fault fault);
Grading__V1__SellerEvent *e2e_add_non_receipt(e2e_batch_t *b, const char *id, const char *mp,
                                              const char *seller, const char *when, const char *order_id);
Grading__V1__SellerEvent *e2e_add_inquiry_received(e2e_batch_t *b, const char *id, const char *mp,
                                                   const char *seller, const char *when,
                                                   const char *inquiry_id);
Grading__V1__SellerEvent *e2e_add_inquiry_answered(e2e_batch_t *b, const char *id, const char *mp,
                                                   const char *seller, const char *when,
                                                   const char *inquiry_id);
Grading__V1__SellerEvent *e2e_add_review(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                         const char *when, const char *order_id, uint32_t rating,
                                         Grading__V1__Recommendation rec);
Grading__V1__SellerEvent *e2e_add_satisfaction(e2e_batch_t *b, const char *id, const char *mp,
                                               const char *seller, const char *when, const char *order_id,
                                               uint32_t score);
Grading__V1__SellerEvent *e2e_add_revenue(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                          const char *when, int64_t amount, const char *currency);
Grading__V1__SellerEvent *e2e_add_custom(e2e_batch_t *b, const char *id, const char *mp, const char *seller,
                                         const char *when, const char *name, double value);

/* ---- calls ---- */

/* Deadlines of the calls (a 10,000-event commit under ASan takes a while). */
#define E2E_RECORD_TIMEOUT_MS 60000
#define E2E_METRICS_TIMEOUT_MS 20000

typedef struct {
    bool completed;              /* the call ended with a status (else: client-side failure) */
    grpc_status_code status;
    char details[512];
    uint32_t accepted, duplicates;
} e2e_reply_t;

/* RecordEvents with events evs[0..n). Returns reply->status (or
 * GRPC_STATUS_UNKNOWN with completed false). No asserts. */
grpc_status_code e2e_record(grading_client_t *c, Grading__V1__SellerEvent *const *evs, size_t n,
                            int64_t timeout_ms, e2e_reply_t *reply);

/* RecordEvents that must succeed with exactly these counts. */
void e2e_record_ok(grading_client_t *c, Grading__V1__SellerEvent *const *evs, size_t n,
                   uint32_t want_accepted, uint32_t want_duplicates);

/* GetSellerMetrics; as_of (RFC 3339) may be NULL for "now". On status OK
 * *out is the reply (free with protobuf_c_message_free_unpacked). No asserts. */
grpc_status_code e2e_metrics_try(grading_client_t *c, const char *mp, const char *seller, const char *as_of,
                                 Grading__V1__SellerMetrics **out, char *details, size_t details_len);

/* GetSellerMetrics that must answer OK. */
Grading__V1__SellerMetrics *e2e_metrics(grading_client_t *c, const char *mp, const char *seller,
                                        const char *as_of);

void e2e_metrics_free(Grading__V1__SellerMetrics *m);

/* The value of metric name in window; false when absent. No asserts. */
bool e2e_metric_find(const Grading__V1__SellerMetrics *m, const char *name, const char *window, double *out);

/* The value of metric name in window; fails the test when absent. */
double e2e_metric(const Grading__V1__SellerMetrics *m, const char *name, const char *window);

/* Asserts every (name, window) of a has the same value in b and both have
 * the same number of values. */
void e2e_metrics_assert_same(const Grading__V1__SellerMetrics *a, const Grading__V1__SellerMetrics *b);

/* Asserts a metric's value in each of the four windows 30d, 90d, 365d,
 * month. */
void e2e_assert_windows(const Grading__V1__SellerMetrics *m, const char *name, double d30, double d90,
                        double d365, double month);

/* Asserts text contains needle, printing both when not. */
void e2e_assert_contains(const char *text, const char *needle);

#endif
