/* End-to-end: deadlines advance without traffic. The server runs on a test
 * clock (--test-clock, 2 days a second) with a fast sweep; one order is
 * paid and never shipped, and with no other call the stored boost (the hot
 * path) moves from neutral to the Warning stage's and then the
 * Restriction stage's, while GetPenaltyState names the late order and the
 * stopped product. Marketplace deadmart of tests/e2e/policy.yaml: business
 * days Mon-Fri, 2026-11-03 a holiday; caution on the 3rd business day after
 * payment, warning on the 5th, restriction on the 6th. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "calls.h"
#include "events.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"

/* Polls the stored boost (bounded) until it equals want. */
static bool wait_boost(grading_client_t *c, double want, int64_t timeout_ms)
{
    int64_t end = e2e_now_ms() + timeout_ms;
    while (e2e_now_ms() < end) {
        if (e2e_boost_of(c, "deadmart", "late") == want) return true;
        e2e_sleep_ms(50);
    }
    return false;
}

/* A server on the test clock; the teardown stops it and removes its
 * directory even when a check failed midway. */
static int setup_clocked(void **state)
{
    static const char *extra[] = {"--test-clock", "2026-11-02T09:00:00+09:00", "--test-clock-rate", "172800",
                                  "--sweep-ms", "50", NULL};
    *state = e2e_server_start_new(extra);
    return *state ? 0 : -1;
}

static void test_time_alone_moves_the_seller(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    e2e_batch_t b;
    e2e_batch_init(&b);
    Grading__V1__SellerEvent *ev =
        e2e_add_paid(&b, "late-paid", "deadmart", "late", "2026-11-02T00:00:00Z", "o1", 1000, "JPY", 2);
    ev->order_paid->product_id = "p1";
    e2e_record_ok(c, b.ev, b.n, 1, 0);
    e2e_batch_destroy(&b);

    int64_t t0 = e2e_now_ms();
    /* right after payment: nothing is late */
    assert_true(e2e_boost_of(c, "deadmart", "late") == 1.0);
    /* warning: Tue 2026-11-10 00:00 JST, about 3.6 s of test clock away */
    assert_true(wait_boost(c, 0.8, 20000));
    /* restriction: Wed 2026-11-11 00:00 JST, half a second later */
    assert_true(wait_boost(c, 0.5, 20000));
    int64_t took = e2e_now_ms() - t0;
    /* not before the clock got there: 8.6 days at 2 days a second */
    assert_true(took >= 3500);

    /* the live answer agrees, naming the order and the product */
    Grading__V1__GetPenaltyStateRequest pr = GRADING__V1__GET_PENALTY_STATE_REQUEST__INIT;
    pr.marketplace = "deadmart";
    pr.seller_id = "late";
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetPenaltyState", &pr.base, &grading__v1__penalty_state__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res), GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    Grading__V1__PenaltyState *p = (Grading__V1__PenaltyState *)out;
    assert_int_equal(p->n_order_alerts, 1);
    assert_string_equal(p->order_alerts[0]->order_id, "o1");
    assert_string_equal(p->order_alerts[0]->stage, "restriction");
    assert_int_equal(p->n_penalties, 1);
    assert_string_equal(p->penalties[0]->ladder, "shipping_delay");
    assert_int_equal(p->penalties[0]->restrictions[0]->kind, GRADING__V1__RESTRICTION_KIND__RESTRICTION_KIND_PRODUCT_SALES_STOPPED);
    assert_int_equal(p->penalties[0]->restrictions[0]->n_product_ids, 1);
    assert_string_equal(p->penalties[0]->restrictions[0]->product_ids[0], "p1");
    protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);

    /* shipping stops the clock: the alert goes; the stored boost follows at
     * once. Shipped at 00:30 JST on the restriction day: 100 ms of real time
     * (4.8 test hours) after the restriction was seen, the test clock is
     * past it, so the event is not in the server's future. */
    e2e_sleep_ms(100);
    e2e_batch_init(&b);
    e2e_add_shipped(&b, "late-ship", "deadmart", "late", "2026-11-10T15:30:00Z", "o1", true);
    e2e_record_ok(c, b.ev, b.n, 1, 0);
    e2e_batch_destroy(&b);
    assert_true(e2e_boost_of(c, "deadmart", "late") == 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_time_alone_moves_the_seller, setup_clocked, e2e_teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
