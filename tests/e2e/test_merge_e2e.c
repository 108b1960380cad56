/* End-to-end: conflicting events for the same stage, sent in either order
 * and in separate calls (separate commits), give the same counters: each
 * stage keeps its earliest event (include/grading/order.h).
 *
 * Seller "early-first" gets the early event of each stage first, seller
 * "late-first" gets the late one first; both must count the order shipped
 * on time (shipped 1 day after payment, not 5) and the inquiry answered
 * within 24 h (2 h after it arrived, not 30 h). A merge that kept the
 * latest event would count "late-first" differently. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "events.h"
#include "testsrv.h"

#define MP "testmart"
#define AS_OF "2026-10-20T00:00:00Z"

/* One call per event: each its own commit, in the order given. */
static void send_one(grading_client_t *c, int kind, const char *seller, const char *id, const char *when,
                     uint32_t want_accepted)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    switch (kind) {
    case 'P': e2e_add_paid(&b, id, MP, seller, when, "o1", 1000, "KRW", 2); break;
    case 'S': e2e_add_shipped(&b, id, MP, seller, when, "o1", true); break;
    case 'R': e2e_add_inquiry_received(&b, id, MP, seller, when, "q1"); break;
    default: e2e_add_inquiry_answered(&b, id, MP, seller, when, "q1"); break;
    }
    e2e_record_ok(c, b.ev, b.n, want_accepted, 1 - want_accepted);
    e2e_batch_destroy(&b);
}

static void send_story(grading_client_t *c, const char *seller, bool early_first)
{
    static const struct {
        int kind;
        const char *id, *early, *late;
    } stage[] = {
        {'P', "paid", "2026-10-05T01:00:00Z", "2026-10-05T03:00:00Z"},
        {'S', "ship", "2026-10-06T01:00:00Z", "2026-10-10T01:00:00Z"},
        {'R', "recv", "2026-10-07T01:00:00Z", "2026-10-07T00:30:00Z"},  /* "late" is earlier here */
        {'A', "answ", "2026-10-07T03:00:00Z", "2026-10-08T07:00:00Z"},
    };
    char id[64];
    for (size_t i = 0; i < sizeof stage / sizeof stage[0]; i++)
        for (int k = 0; k < 2; k++) {
            bool early = (k == 0) == early_first;
            snprintf(id, sizeof id, "%s-%s-%s", seller, stage[i].id, early ? "a" : "b");
            send_one(c, stage[i].kind, seller, id, early ? stage[i].early : stage[i].late, 1);
        }
    /* a retry of the first event of every stage: a duplicate, nothing changes */
    snprintf(id, sizeof id, "%s-ship-%s", seller, early_first ? "a" : "b");
    send_one(c, 'S', seller, id, early_first ? stage[1].early : stage[1].late, 0);
}

static void assert_counts(grading_client_t *c, const char *seller)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, MP, seller, AS_OF);
    e2e_assert_windows(m, "orders", 1, 1, 1, 1);
    e2e_assert_windows(m, "gmv", 1000, 1000, 1000, 1000);
    e2e_assert_windows(m, "shipped", 1, 1, 1, 1);
    e2e_assert_windows(m, "shipped_on_time", 1, 1, 1, 1);
    e2e_assert_windows(m, "inquiries", 1, 1, 1, 1);
    e2e_assert_windows(m, "inquiries_answered_24h", 1, 1, 1, 1);
    e2e_metrics_free(m);
}

static void test_conflicting_stage_events_any_order(void **state)
{
    e2e_server_t *s = *state;
    send_story(s->client, "early-first", true);
    send_story(s->client, "late-first", false);
    assert_counts(s->client, "early-first");
    assert_counts(s->client, "late-first");
    Grading__V1__SellerMetrics *a = e2e_metrics(s->client, MP, "early-first", AS_OF);
    Grading__V1__SellerMetrics *b = e2e_metrics(s->client, MP, "late-first", AS_OF);
    e2e_metrics_assert_same(a, b);
    e2e_metrics_free(a);
    e2e_metrics_free(b);
    /* and after a restart (the merged records are what is stored) */
    e2e_server_stop_ok(s);
    e2e_server_restart(s);
    assert_counts(s->client, "early-first");
    assert_counts(s->client, "late-first");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_conflicting_stage_events_any_order, e2e_setup_server,
                                        e2e_teardown_server),
    };
    return cmocka_run_group_tests_name("e2e merge", tests, NULL, NULL);
}
