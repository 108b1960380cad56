/* End-to-end: GetGradeForecast over real gRPC and `gradectl forecast`.
 *
 * testmart (tests/e2e/policy.yaml): Gold needs 10 orders in 30 days and
 * under 5 % seller-fault cancellations. Seller f has 8 orders paid
 * 2026-10-20 and 4 paid 10-30 (KST), all shipped: 12 orders, Gold. With
 * the clock at 2026-11-02 09:00 KST the forecast says Gold until 11-19,
 * when the 8 of 10-20 leave the 30-day window (4 orders: Silver), names
 * orders_30d, and one seller-fault cancellation today is enough to lose
 * Gold (1 of 13 = 7.7 %). The bad inputs are refused naming their field
 * and write nothing; the server restarted with the clock at the predicted
 * day shows Silver, the evening before still Gold. gradectl draws the
 * chart and prints the sentences. */
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
#include "grading/client.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define CLOCK "2026-11-02T00:00:00Z"             /* 09:00 KST */
#define CHANGE_DAY "2026-11-19T00:00:00Z"        /* 09:00 KST on the predicted day */
#define EVENING_BEFORE "2026-11-18T14:59:00Z"    /* 23:59 KST the day before */

static void seed(grading_client_t *c)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    char id[64], oid[40];
    for (int i = 0; i < 12; i++) {
        const char *when = i < 8 ? "2026-10-20T01:00:00Z" : "2026-10-30T01:00:00Z";
        snprintf(oid, sizeof oid, "f-o%d", i);
        snprintf(id, sizeof id, "%s-paid", oid);
        e2e_add_paid(&b, id, NULL, "f", when, oid, 1000, "KRW", 2);
        snprintf(id, sizeof id, "%s-shipped", oid);
        e2e_add_shipped(&b, id, NULL, "f", when, oid, true);
    }
    e2e_record_ok(c, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
}

/* GetGradeForecast; the reply when OK (the caller frees), else NULL with
 * the details in details. */
static Grading__V1__GradeForecast *forecast(grading_client_t *c, const char *mp, const char *seller, uint32_t days,
                                            const Google__Protobuf__Timestamp *as_of, grpc_status_code want,
                                            char *details, size_t dlen)
{
    Grading__V1__GetGradeForecastRequest req = GRADING__V1__GET_GRADE_FORECAST_REQUEST__INIT;
    req.marketplace = (char *)(mp ? mp : "");
    req.seller_id = (char *)seller;
    req.days = days;
    req.as_of = (Google__Protobuf__Timestamp *)as_of;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetGradeForecast", &req.base, &grading__v1__grade_forecast__descriptor,
                                         30000, &out, &res),
                     GRADING_OK);
    if (res.status != want) fail_msg("GetGradeForecast: %s %s", grading_status_name(res.status), res.details);
    if (details) snprintf(details, dlen, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    return (Grading__V1__GradeForecast *)out;
}

static const Grading__V1__ForecastThreshold *threshold(const Grading__V1__ProgramForecast *p, const char *kind)
{
    for (size_t i = 0; i < p->n_thresholds; i++)
        if (strcmp(p->thresholds[i]->event_kind, kind) == 0) return p->thresholds[i];
    return NULL;
}

static void test_forecast_names_the_change_and_the_thresholds(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    s->extra[0] = "--test-clock";
    s->extra[1] = CLOCK;
    s->extra[2] = NULL;
    e2e_server_start(s);
    seed(s->client);
    assert_int_equal(e2e_live_level(s->client, "f"), 1);

    Grading__V1__GradeForecast *f = forecast(s->client, NULL, "f", 0, NULL, GRPC_STATUS_OK, NULL, 0);
    assert_string_equal(f->marketplace, "testmart");
    assert_string_equal(f->seller_id, "f");
    assert_int_equal(f->days, 30);
    assert_int_equal(f->max_events, 100);
    assert_int_equal(f->n_programs, 1);
    const Grading__V1__ProgramForecast *q = f->programs[0];
    assert_string_equal(q->program, "quality");
    assert_int_equal(q->level, 1);
    assert_string_equal(q->label, "Gold");
    assert_int_equal(q->n_days, 30);
    assert_string_equal(q->days[0]->date, "2026-11-03");
    assert_string_equal(q->days[29]->date, "2026-12-02");
    /* Gold through 11-18, Silver from 11-19 (day index 16) */
    assert_string_equal(q->days[15]->date, "2026-11-18");
    assert_int_equal(q->days[15]->level, 1);
    assert_int_equal(q->days[16]->level, 2);
    assert_string_equal(q->days[16]->label, "Silver");
    assert_non_null(q->change);
    assert_string_equal(q->change->date, "2026-11-19");
    assert_int_equal(q->change->from_level, 1);
    assert_int_equal(q->change->level, 2);
    assert_string_equal(q->change->metric, "orders_30d");
    assert_string_equal(q->change->window, "30d");
    assert_true(q->change->metric_before == 12 && q->change->metric_after == 4);
    assert_true(q->change->events_leaving == 8);
    assert_string_equal(q->message, "down to Silver (level 2) on 2026-11-19, when orders_30d goes from 12.00 to 4.00: "
                                    "8 of its counted events leave the 30d window");
    const Grading__V1__ForecastThreshold *t = threshold(q, "seller_cancel");
    assert_non_null(t);
    assert_int_equal(t->events, 1);
    assert_int_equal(t->level, 2);
    assert_false(t->better);
    assert_string_equal(t->message, "1 more seller-fault cancellation today -> Silver (level 2)");
    /* no worse level from on-time orders, none better than Gold */
    assert_null(threshold(q, "on_time_shipment"));
    protobuf_c_message_free_unpacked(&f->base, NULL);

    /* the limit: 400 days is served, as of a past time too */
    Google__Protobuf__Timestamp past = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    past.seconds = 1761955200;   /* 2025-11-01T00:00:00Z: before any event */
    f = forecast(s->client, "testmart", "f", 400, &past, GRPC_STATUS_OK, NULL, 0);
    assert_int_equal(f->programs[0]->n_days, 400);
    protobuf_c_message_free_unpacked(&f->base, NULL);

    /* bad input: each refused naming its field */
    char details[512];
    assert_null(forecast(s->client, NULL, "f", 401, NULL, GRPC_STATUS_INVALID_ARGUMENT, details, sizeof details));
    e2e_assert_contains(details, "days: at most 400, got 401");
    assert_null(forecast(s->client, NULL, "nobody", 0, NULL, GRPC_STATUS_NOT_FOUND, details, sizeof details));
    e2e_assert_contains(details, "seller_id: no seller \"nobody\" in testmart");
    assert_null(forecast(s->client, "nomart", "f", 0, NULL, GRPC_STATUS_NOT_FOUND, details, sizeof details));
    e2e_assert_contains(details, "marketplace: unknown marketplace \"nomart\"");
    assert_null(forecast(s->client, NULL, "", 0, NULL, GRPC_STATUS_INVALID_ARGUMENT, details, sizeof details));
    e2e_assert_contains(details, "seller_id");
    Google__Protobuf__Timestamp ancient = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ancient.seconds = 86400;
    assert_null(forecast(s->client, NULL, "f", 0, &ancient, GRPC_STATUS_INVALID_ARGUMENT, details, sizeof details));
    e2e_assert_contains(details, "as_of");
    /* nothing written: still Gold, and no seller "nobody" appeared */
    assert_int_equal(e2e_live_level(s->client, "f"), 1);
    assert_null(forecast(s->client, NULL, "nobody", 0, NULL, GRPC_STATUS_NOT_FOUND, details, sizeof details));

    /* gradectl forecast: the chart's row and the sentences */
    e2e_run_t run;
    e2e_gradectl(s, &run, "forecast", "f", NULL);
    assert_int_equal(run.code, 0);
    e2e_assert_contains(run.out, "forecast of f (testmart) for the 30 days from 2026-11-03");
    /* now Gold, 16 days Gold, then Silver to the end */
    e2e_assert_contains(run.out, "quality  1    111111111111111122222222222222\n");
    e2e_assert_contains(run.out, "^ 2026-11-19");
    e2e_assert_contains(run.out, "quality: 1=Gold 2=Silver");
    e2e_assert_contains(run.out, "  down to Silver (level 2) on 2026-11-19, when orders_30d goes from 12.00 to 4.00");
    e2e_assert_contains(run.out, "  1 more seller-fault cancellation today -> Silver (level 2)");
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "forecast", "f", "--json", "--days", "3", NULL);
    assert_int_equal(run.code, 0);
    e2e_assert_contains(run.out, "\"date\": \"2026-11-05\"");
    e2e_assert_contains(run.out, "\"days\": 3");
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "forecast", "f", "--days", "401", NULL);
    assert_int_equal(run.code, 2);
    e2e_assert_contains(run.err, "--days \"401\" is not a whole number from 1 to 400");
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "forecast", "nobody", NULL);
    assert_int_equal(run.code, 1);
    e2e_assert_contains(run.err, "NOT_FOUND");
    e2e_run_destroy(&run);

    /* the clock advanced to the predicted day: Silver; the evening before: Gold */
    e2e_server_stop_ok(s);
    s->extra[1] = EVENING_BEFORE;
    e2e_server_restart(s);
    assert_int_equal(e2e_live_level(s->client, "f"), 1);
    e2e_server_stop_ok(s);
    s->extra[1] = CHANGE_DAY;
    e2e_server_restart(s);
    assert_int_equal(e2e_live_level(s->client, "f"), 2);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forecast_names_the_change_and_the_thresholds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
