/* End-to-end: what RecordEvents acknowledged survives the process.
 *
 * - kill -9 right after a reply: after a restart on the same data dir the
 *   events are there and sending them again gives only duplicates (the
 *   reply comes after the commit is on disk; event_id dedupe is stored).
 * - kill -9 while several threads write: every acknowledged batch is there
 *   whole; an unacknowledged one is there whole or not at all (a batch is
 *   atomic), and resending tells which.
 * - a graceful stop and restart keeps events and dedupe too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "events.h"
#include "load.h"
#include "testsrv.h"

#define AS_OF "2026-10-20T00:00:00Z"
#define ROUNDS 3
#define PER_ROUND 50

static void add_round(e2e_batch_t *b, int round)
{
    char seller[32], id[64], order[32];
    snprintf(seller, sizeof seller, "k9-r%d", round);
    for (int i = 0; i < PER_ROUND; i++) {
        snprintf(id, sizeof id, "%s-paid-%d", seller, i);
        snprintf(order, sizeof order, "o%d", i);
        e2e_add_paid(b, id, "testmart", seller, "2026-10-05T01:00:00Z", order, 1000 + i, "KRW", 2);
        /* every other order shipped the next day too */
        if (i % 2 == 0) {
            snprintf(id, sizeof id, "%s-ship-%d", seller, i);
            e2e_add_shipped(b, id, "testmart", seller, "2026-10-06T01:00:00Z", order, true);
        }
    }
}

static void assert_round(grading_client_t *c, int round)
{
    char seller[32];
    snprintf(seller, sizeof seller, "k9-r%d", round);
    Grading__V1__SellerMetrics *m = e2e_metrics(c, "testmart", seller, AS_OF);
    /* sum of 1000 + i for i < 50 */
    double gmv = PER_ROUND * 1000.0 + (PER_ROUND - 1) * PER_ROUND / 2.0;
    e2e_assert_windows(m, "orders", PER_ROUND, PER_ROUND, PER_ROUND, PER_ROUND);
    e2e_assert_windows(m, "gmv", gmv, gmv, gmv, gmv);
    e2e_assert_windows(m, "shipped", PER_ROUND / 2, PER_ROUND / 2, PER_ROUND / 2, PER_ROUND / 2);
    e2e_assert_windows(m, "shipped_on_time", PER_ROUND / 2, PER_ROUND / 2, PER_ROUND / 2, PER_ROUND / 2);
    e2e_metrics_free(m);
}

static void test_kill9_right_after_reply(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t rounds[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        e2e_batch_init(&rounds[r]);
        add_round(&rounds[r], r);
        /* the reply, then at once kill -9: no chance to flush anything more */
        e2e_record_ok(s->client, rounds[r].ev, rounds[r].n, (uint32_t)rounds[r].n, 0);
        e2e_server_kill(s);
        e2e_server_restart(s);
        for (int k = 0; k <= r; k++) assert_round(s->client, k);
    }
    /* every round's events are known: all duplicates, counters unchanged */
    for (int r = 0; r < ROUNDS; r++) {
        e2e_record_ok(s->client, rounds[r].ev, rounds[r].n, 0, (uint32_t)rounds[r].n);
        assert_round(s->client, r);
    }
    /* and again after one more kill -9 */
    e2e_server_kill(s);
    e2e_server_restart(s);
    for (int r = 0; r < ROUNDS; r++) {
        e2e_record_ok(s->client, rounds[r].ev, rounds[r].n, 0, (uint32_t)rounds[r].n);
        assert_round(s->client, r);
        e2e_batch_destroy(&rounds[r]);
    }
}

static void test_graceful_restart_keeps_events(void **state)
{
    e2e_server_t *s = *state;
    e2e_batch_t b;
    e2e_batch_init(&b);
    add_round(&b, 7);
    e2e_record_ok(s->client, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_server_stop_ok(s);
    e2e_server_restart(s);
    assert_round(s->client, 7);
    e2e_record_ok(s->client, b.ev, b.n, 0, (uint32_t)b.n);
    assert_round(s->client, 7);
    e2e_batch_destroy(&b);
}

/* orders of one load batch's seller after the fact */
static double batch_orders(grading_client_t *c, const e2e_load_call_t *call)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, "testmart", call->seller, E2E_LOAD_AS_OF);
    double orders = e2e_metric(m, "orders", "30d");
    double month = e2e_metric(m, "orders", "month");
    double gmv = e2e_metric(m, "gmv", "30d");
    if (orders != month || gmv != orders * E2E_LOAD_AMOUNT)
        fail_msg("seller %s: inconsistent counters: orders 30d %g, month %g, gmv %g", call->seller, orders, month,
                 gmv);
    e2e_metrics_free(m);
    return orders;
}

static void test_kill9_under_load_batches_atomic(void **state)
{
    e2e_server_t *s = *state;
    const int threads = 4, events = 200, max_batches = 400;
    e2e_load_t *l = e2e_load_start(s, "k9load", threads, events, max_batches);
    if (!e2e_load_wait_ok(l, 16, 20000)) {
        e2e_load_stop(l);
        fail_msg("the load threads got fewer than 16 batches through in 20 s");
    }
    e2e_server_kill(s);
    e2e_load_join(l);   /* every thread stops at its first failed call */

    e2e_server_restart(s);
    size_t acked = 0, unacked_stored = 0, unacked_lost = 0;
    for (size_t i = 0; i < e2e_load_ncalls(l); i++) {
        const e2e_load_call_t *c = e2e_load_call(l, i);
        double orders = batch_orders(s->client, c);
        bool ok = c->completed && c->status == GRPC_STATUS_OK;
        if (ok) {
            acked++;
            if (c->accepted != (uint32_t)events || c->duplicates != 0)
                fail_msg("%s: reply said accepted %u duplicates %u, expected %d and 0", c->seller, c->accepted,
                         c->duplicates, events);
            if (orders != events)
                fail_msg("%s: acknowledged before kill -9, but %g of its %d orders are stored after restart",
                         c->seller, orders, events);
        } else {
            /* no reply: committed whole or not at all */
            if (orders != 0 && orders != events)
                fail_msg("%s: batch stored in part after kill -9: %g of %d orders", c->seller, orders, events);
            if (orders == events) unacked_stored++;
            else unacked_lost++;
        }
        /* resending tells the same story */
        e2e_batch_t b;
        e2e_batch_init(&b);
        e2e_load_build_batch(l, c->thread, c->batch, &b);
        e2e_record_ok(s->client, b.ev, b.n, orders == 0 ? (uint32_t)events : 0, orders == 0 ? 0 : (uint32_t)events);
        e2e_batch_destroy(&b);
        assert_true(batch_orders(s->client, c) == events);
    }
    assert_true(acked >= 16);
    print_message("kill -9 under load: %zu calls acknowledged, %zu unacknowledged but stored, %zu not stored\n",
                  acked, unacked_stored, unacked_lost);
    e2e_load_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill9_right_after_reply, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_graceful_restart_keeps_events, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_kill9_under_load_batches_atomic, e2e_setup_server,
                                        e2e_teardown_server),
    };
    return cmocka_run_group_tests_name("e2e durability", tests, NULL, NULL);
}
