/* End-to-end: a penalty stage that lasts N days lapses without traffic.
 * The server runs policies/examples/expiring-points.yaml (marketplace
 * pointmart, Asia/Tokyo) on a test clock (--test-clock, 4 days a second)
 * with a fast sweep. Four seller-fault cancels on 2026-10-01 give -12
 * active points: stage 2 (sales suspended, lasts 14d) applies and the
 * stored boost (the hot path) is 0. With no other event, on 2026-10-15 the
 * stage lapses: the sweep re-derives the seller on that day (the stored
 * record's due time) and the stored boost becomes 0.88 (stage 1 applies,
 * the 12 points stay); GetPenaltyState shows each stage's until, and
 * gradectl penalties prints since and until. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "events.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define MP "pointmart"

/* Polls the stored boost (bounded) until it is within 1e-9 of want. */
static bool wait_boost(grading_client_t *c, double want, int64_t timeout_ms)
{
    int64_t end = e2e_now_ms() + timeout_ms;
    while (e2e_now_ms() < end) {
        double b = e2e_boost_of(c, MP, "lasting");
        if (b > want - 1e-9 && b < want + 1e-9) return true;
        e2e_sleep_ms(20);
    }
    return false;
}

/* GetPenaltyState now: the stage of ladder `points` (0: none) and its
 * until in Unix ms (0: unset). */
static int32_t stage_now(grading_client_t *c, int64_t *until_ms)
{
    Grading__V1__GetPenaltyStateRequest pr = GRADING__V1__GET_PENALTY_STATE_REQUEST__INIT;
    pr.marketplace = MP;
    pr.seller_id = "lasting";
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetPenaltyState", &pr.base, &grading__v1__penalty_state__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res), GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    Grading__V1__PenaltyState *p = (Grading__V1__PenaltyState *)out;
    int32_t stage = 0;
    *until_ms = 0;
    for (size_t i = 0; i < p->n_penalties; i++) {
        if (strcmp(p->penalties[i]->ladder, "points") != 0) continue;
        stage = p->penalties[i]->stage;
        if (p->penalties[i]->until) *until_ms = p->penalties[i]->until->seconds * 1000;
    }
    protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
    return stage;
}

static int setup_clocked(void **state)
{
    static char policy[E2E_PATH_MAX];
    const char *src = getenv("GRADING_SOURCE_DIR");
    if (!src) return -1;
    snprintf(policy, sizeof policy, "%s/policies/examples/expiring-points.yaml", src);
    /* the later --policy wins over the harness's tests/e2e/policy.yaml */
    static const char *extra[] = {"--policy", policy, "--test-clock", "2026-10-01T09:00:00+09:00",
                                  "--test-clock-rate", "345600", "--sweep-ms", "20", NULL};
    *state = e2e_server_start_new(extra);
    return *state ? 0 : -1;
}

static void test_stage_lapses_without_traffic(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    e2e_batch_t b;
    e2e_batch_init(&b);
    /* paid 06:00, cancelled 07:00 JST on 10-01: -3 each, on 10-01 */
    static const char *const ids[4][3] = {{"p1", "c1", "o1"}, {"p2", "c2", "o2"}, {"p3", "c3", "o3"},
                                          {"p4", "c4", "o4"}};
    for (int i = 0; i < 4; i++) {
        e2e_add_paid(&b, ids[i][0], MP, "lasting", "2026-09-30T21:00:00Z", ids[i][2], 1000, "JPY", 2);
        e2e_add_cancelled(&b, ids[i][1], MP, "lasting", "2026-09-30T22:00:00Z", ids[i][2],
                          GRADING__V1__FAULT__FAULT_SELLER, GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
    }
    e2e_record_ok(c, b.ev, b.n, 8, 0);
    e2e_batch_destroy(&b);

    int64_t t0 = e2e_now_ms(), until;
    /* stage 2 (suspended): stored boost 0, lapsing at 10-15 00:00 JST */
    assert_true(e2e_boost_of(c, MP, "lasting") == 0);
    assert_int_equal(stage_now(c, &until), 2);
    assert_true(until == e2e_time_ms("2026-10-15T00:00:00+09:00"));
    /* the lapse: 14 days of test clock, 3.5 s; nothing but the sweep moves it */
    assert_true(wait_boost(c, 0.88, 20000));
    int64_t took = e2e_now_ms() - t0;
    assert_true(took >= 2500);   /* not before the clock got there (13 days from 10-01 09:00 at least) */
    /* stage 1 (28 days from the same run) applies now, until 10-29 */
    assert_int_equal(stage_now(c, &until), 1);
    assert_true(until == e2e_time_ms("2026-10-29T00:00:00+09:00"));
    /* and later nothing applies, the points still there (boost stays 0.88) */
    int32_t stage;
    int64_t end = e2e_now_ms() + 20000;
    while ((stage = stage_now(c, &until)) != 0 && e2e_now_ms() < end) e2e_sleep_ms(50);
    assert_int_equal(stage, 0);
    assert_true(e2e_boost_of(c, MP, "lasting") > 0.88 - 1e-9 && e2e_boost_of(c, MP, "lasting") < 0.88 + 1e-9);

    /* gradectl penalties as of a day inside stage 2's run: since and until */
    e2e_run_t r;
    e2e_gradectl(s, &r, "penalties", "lasting", "--marketplace", MP, "--as-of", "2026-10-10T12:00:00+09:00", NULL);
    assert_true(r.exited && r.code == 0);
    e2e_assert_contains(r.out, "until");
    e2e_assert_contains(r.out, "2026-09-30T15:00:00Z");   /* since: 10-01 00:00 JST */
    e2e_assert_contains(r.out, "2026-10-14T15:00:00Z");   /* until: 10-15 00:00 JST */
    e2e_assert_contains(r.out, "sales_suspended");
    e2e_run_destroy(&r);
    e2e_gradectl(s, &r, "--json", "penalties", "lasting", "--marketplace", MP, "--as-of", "2026-10-10T12:00:00+09:00",
                 NULL);
    assert_true(r.exited && r.code == 0);
    e2e_assert_contains(r.out, "\"until\": \"2026-10-14T15:00:00Z\"");
    e2e_run_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stage_lapses_without_traffic, setup_clocked, e2e_teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
