/* End-to-end: a completed month's service points over real gRPC. Until
 * the month is closed, GetSellerMetrics' points "last_month" (what a
 * status judged on completed months reads, points.last_month) is the
 * month's live total; once ClosePeriod has closed it, the published total
 * stands, and a late event dated in that month changes only the live one.
 *
 * Marketplace deadmart of tests/e2e/policy.yaml (Asia/Tokyo, dispatch on
 * the payment day +1, the warning stage on the 5th business day -2). The
 * month is October 2025, so it has ended whatever today's date is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define MP "deadmart"
#define SELLER "pts-1"
#define AS_OF "2025-11-20T12:00:00+09:00"

static void close_october(grading_client_t *c, bool want_already_closed)
{
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.marketplace = MP;
    req.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    req.period = "2025-10";
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "ClosePeriod", &req.base,
                                         &grading__v1__close_period_response__descriptor, 60000, &out, &res),
                     GRADING_OK);
    if (res.status != GRPC_STATUS_OK) fail_msg("ClosePeriod: %s %s", grading_status_name(res.status), res.details);
    const Grading__V1__ClosePeriodResponse *r = (const void *)out;
    assert_int_equal(r->already_closed, want_already_closed);
    if (!want_already_closed) assert_int_equal(r->sellers_evaluated, 1);
    protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
}

static void expect_points(grading_client_t *c, double prev_month, double last_month)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, MP, SELLER, AS_OF);
    double pm = e2e_metric(m, "points", "prev_month"), lm = e2e_metric(m, "points", "last_month");
    if (pm != prev_month || lm != last_month)
        fail_msg("points prev_month %g last_month %g, expected %g and %g", pm, lm, prev_month, last_month);
    e2e_metrics_free(m);
}

static void test_closed_month_points_stand_against_late_events(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    /* Mon 2025-10-06: paid 10:00, shipped 12:00 the same day: +1 */
    e2e_add_paid(&b, "pts-o1-paid", MP, SELLER, "2025-10-06T10:00:00+09:00", "o1", 1000, "JPY", 2);
    e2e_add_shipped(&b, "pts-o1-shipped", MP, SELLER, "2025-10-06T12:00:00+09:00", "o1", true);
    e2e_record_ok(s->client, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);

    /* not closed: the live total */
    expect_points(s->client, 1, 1);
    close_october(s->client, false);
    expect_points(s->client, 1, 1);

    /* late: an order paid Wed 2025-10-01, never shipped, reached the
     * warning stage on Wed 10-08 (5th business day): -2 in October */
    e2e_batch_init(&b);
    e2e_add_paid(&b, "pts-o2-paid", MP, SELLER, "2025-10-01T10:00:00+09:00", "o2", 1000, "JPY", 2);
    e2e_record_ok(s->client, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
    expect_points(s->client, -1, 1);   /* live -1, published +1 */

    /* closing again changes nothing */
    close_october(s->client, true);
    expect_points(s->client, -1, 1);
}

static void test_unclosed_month_is_live(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "pts-o1-paid", MP, SELLER, "2025-10-06T10:00:00+09:00", "o1", 1000, "JPY", 2);
    e2e_add_shipped(&b, "pts-o1-shipped", MP, SELLER, "2025-10-06T12:00:00+09:00", "o1", true);
    e2e_add_paid(&b, "pts-o2-paid", MP, SELLER, "2025-10-01T10:00:00+09:00", "o2", 1000, "JPY", 2);
    e2e_record_ok(s->client, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
    expect_points(s->client, -1, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_closed_month_points_stand_against_late_events, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_unclosed_month_is_live, e2e_setup_server, e2e_teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
