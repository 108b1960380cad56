/* End-to-end: appeals and exemptions in Kafka mode (issue 15 with issue
 * 11's replicas): the mock cluster (3 brokers, 4 partitions) and two real
 * gradingd replicas, each with its own store.
 *
 * - ExcludeEvents through replica A answers once A applied it; replica B
 *   applies it from the topic: raw beside adjusted and the live grade move
 *   on both; RestoreEvents through B moves them back on A;
 * - a refused appeal (unknown order) names its field and produces nothing
 *   (each replica applies exactly the good commands);
 * - an exemption declared through A applies on B (retroactive walk there),
 *   revoked through B it is gone on A;
 * - command messages that do not decode, name no known command, or fail
 *   the appeal's checks on apply are dead-lettered with their reason, and
 *   the partition moves on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "calls.h"
#include "events.h"
#include "kafka.h"
#include "testsrv.h"

#define TOPIC "grading-e2e-appeal"
#define CATCH_UP_MS 60000
#define SVC "/grading.v1.GradingService/"

typedef struct {
    e2e_kafka_t kafka;
    char brokers[600];
    const char *flags[8];
    e2e_server_t *a, *b;
    char when[32], day[16];   /* events 13 days ago (03:00Z), and that local day in Seoul */
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    memset(&fx, 0, sizeof fx);
    time_t t = time(NULL) - 13 * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(fx.when, sizeof fx.when, "%Y-%m-%dT03:00:00Z", &tm);
    strftime(fx.day, sizeof fx.day, "%Y-%m-%d", &tm);   /* 12:00 in Seoul: the same day */
    e2e_kafka_start(&fx.kafka, 3, 4, TOPIC);
    snprintf(fx.brokers, sizeof fx.brokers, "%s", fx.kafka.bootstrap);
    const char *flags[] = {"--kafka-brokers", fx.brokers, "--kafka-topic", TOPIC, "--ready-max-lag", "0", NULL};
    memcpy(fx.flags, flags, sizeof flags);
    fx.a = e2e_server_start_new(fx.flags);
    fx.b = e2e_server_start_new(fx.flags);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    int rc = 0;
    if (fx->a && e2e_teardown_server((void **)&fx->a)) rc = -1;
    if (fx->b && e2e_teardown_server((void **)&fx->b)) rc = -1;
    e2e_kafka_stop(&fx->kafka);
    return rc;
}

/* 11 orders of seller paid at when, the first cancelled by the seller
 * (9.1 %: Silver), and an inquiry; recorded through s, applied there. */
static void seed(fx_t *fx, e2e_server_t *s, const char *seller)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    char id[96], oid[64];
    for (int i = 0; i < 11; i++) {
        snprintf(oid, sizeof oid, "%s-o%d", seller, i);
        snprintf(id, sizeof id, "%s-paid", oid);
        e2e_add_paid(&b, id, "testmart", seller, fx->when, oid, 1000, "KRW", 2);
        snprintf(id, sizeof id, "%s-next", oid);
        if (i == 0)
            e2e_add_cancelled(&b, id, "testmart", seller, fx->when, oid, GRADING__V1__FAULT__FAULT_SELLER,
                              GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
        else
            e2e_add_shipped(&b, id, "testmart", seller, fx->when, oid, true);
    }
    snprintf(id, sizeof id, "%s-q1-in", seller);
    snprintf(oid, sizeof oid, "%s-q1", seller);
    e2e_add_inquiry_received(&b, id, "testmart", seller, fx->when, oid);
    uint32_t logged = 0;
    assert_int_equal(e2e_kafka_record_applied(s->client, &b, &logged), GRPC_STATUS_OK);
    assert_int_equal(logged, b.n);
    e2e_batch_destroy(&b);
}

/* cancel_rate's adjusted and raw values in 30d through s. */
static void cancel_rate(e2e_server_t *s, const char *seller, double *adj, double *raw, uint32_t *excluded)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", seller, NULL);
    *adj = *raw = -1;
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i]->name, "cancel_rate") == 0 && strcmp(m->metrics[i]->window, "30d") == 0) {
            *adj = m->metrics[i]->value;
            *raw = m->metrics[i]->raw_value;
        }
    *excluded = m->excluded_records;
    e2e_metrics_free(m);
    assert_true(*adj >= 0 && *raw >= 0);
}

/* Waits until seller's adjusted cancel_rate through s is want (replicas
 * apply asynchronously); fails with what it saw last. Checks raw. */
static void wait_rate(e2e_server_t *s, const char *seller, double want, double want_raw)
{
    int64_t deadline = e2e_now_ms() + CATCH_UP_MS;
    double adj = -1, raw = -1;
    uint32_t excluded;
    do {
        cancel_rate(s, seller, &adj, &raw, &excluded);
        if (adj > want - 1e-9 && adj < want + 1e-9) {
            assert_float_equal(raw, want_raw, 1e-9);
            return;
        }
        e2e_sleep_ms(50);
    } while (e2e_now_ms() < deadline);
    fail_msg("seller %s: cancel_rate %g through %s after %d ms, expected %g", seller, adj, s->addr, CATCH_UP_MS, want);
}

static int32_t live_level(e2e_server_t *s, const char *seller)
{
    Grading__V1__GetGradeRequest req = GRADING__V1__GET_GRADE_REQUEST__INIT;
    req.marketplace = "testmart";
    req.seller_id = (char *)seller;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(s->client, SVC "GetGrade", &req.base, &grading__v1__grade_report__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    grading_call_result_destroy(&res);
    const Grading__V1__GradeReport *r = (const void *)out;
    assert_true(r->n_programs >= 1);
    int32_t level = r->programs[0]->live->level;
    protobuf_c_message_free_unpacked(out, NULL);
    return level;
}

/* ExcludeEvents (or RestoreEvents) of seller's order through s; the status
 * (details into d); on OK the reply's changed. */
static grpc_status_code appeal(e2e_server_t *s, bool restore, const char *seller, const char *order, bool *changed,
                               char *d, size_t len)
{
    char *orders[] = {(char *)order}, *metrics[] = {"cancels_seller_fault"};
    Grading__V1__ExcludeEventsRequest req = GRADING__V1__EXCLUDE_EVENTS_REQUEST__INIT;
    req.marketplace = "testmart";
    req.seller_id = (char *)seller;
    req.order_ids = orders, req.n_order_ids = 1;
    req.metrics = metrics, req.n_metrics = 1;
    req.reason = "carrier_strike";
    Grading__V1__RestoreEventsRequest rreq = GRADING__V1__RESTORE_EVENTS_REQUEST__INIT;
    memcpy((char *)&rreq + sizeof rreq.base, (char *)&req + sizeof req.base, sizeof req - sizeof req.base);
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    grading_err_t err =
        restore ? grading_client_call(s->client, SVC "RestoreEvents", &rreq.base,
                                      &grading__v1__restore_events_response__descriptor, E2E_RECORD_TIMEOUT_MS, &resp,
                                      &res)
                : grading_client_call(s->client, SVC "ExcludeEvents", &req.base,
                                      &grading__v1__exclude_events_response__descriptor, E2E_RECORD_TIMEOUT_MS, &resp,
                                      &res);
    assert_int_equal(err, GRADING_OK);
    grpc_status_code st = res.status;
    snprintf(d, len, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    if (resp) *changed = ((const Grading__V1__ExcludeEventsResponse *)resp)->changed;
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return st;
}

static double applied(e2e_server_t *s)
{
    return e2e_scrape(s, "grading_kafka_messages_applied_total");
}

static void test_an_appeal_through_one_replica_applies_on_every_replica(void **state)
{
    fx_t *fx = *state;
    seed(fx, fx->a, "kap");
    wait_rate(fx->b, "kap", 1.0 / 11, 1.0 / 11);
    assert_int_equal(live_level(fx->b, "kap"), 2);
    assert_true(e2e_kafka_wait_applied(fx->a, 1, 0, CATCH_UP_MS));
    assert_true(e2e_kafka_wait_applied(fx->b, 1, 0, CATCH_UP_MS));
    double applied_a = applied(fx->a), applied_b = applied(fx->b);

    /* refused here, naming the field: nothing goes to the topic */
    char d[512];
    bool changed = false;
    assert_int_equal(appeal(fx->a, false, "kap", "no-such-order", &changed, d, sizeof d), GRPC_STATUS_NOT_FOUND);
    e2e_assert_contains(d, "order_ids[0]");

    /* the appeal: answered once A applied it, so A reads it at once */
    assert_int_equal(appeal(fx->a, false, "kap", "kap-o0", &changed, d, sizeof d), GRPC_STATUS_OK);
    assert_true(changed);
    double adj, raw;
    uint32_t excluded;
    cancel_rate(fx->a, "kap", &adj, &raw, &excluded);
    assert_float_equal(adj, 0, 1e-9);
    assert_float_equal(raw, 1.0 / 11, 1e-9);
    assert_int_equal(excluded, 1);
    assert_int_equal(live_level(fx->a, "kap"), 1);   /* Gold */
    /* B applies it from the topic */
    wait_rate(fx->b, "kap", 0, 1.0 / 11);
    cancel_rate(fx->b, "kap", &adj, &raw, &excluded);
    assert_int_equal(excluded, 1);
    assert_int_equal(live_level(fx->b, "kap"), 1);

    /* restored through B: A follows */
    assert_int_equal(appeal(fx->b, true, "kap", "kap-o0", &changed, d, sizeof d), GRPC_STATUS_OK);
    assert_true(changed);
    wait_rate(fx->a, "kap", 1.0 / 11, 1.0 / 11);
    assert_int_equal(live_level(fx->a, "kap"), 2);
    /* exactly the two good commands were applied by each replica */
    assert_true(e2e_kafka_wait_applied(fx->a, applied_a + 2, 0, CATCH_UP_MS));
    assert_true(e2e_kafka_wait_applied(fx->b, applied_b + 2, 0, CATCH_UP_MS));
    assert_true(applied(fx->a) == applied_a + 2);
    assert_true(applied(fx->b) == applied_b + 2);
}

static grpc_status_code exemption(e2e_server_t *s, bool revoke, const char *id, const char *day, char *d, size_t len)
{
    char *metrics[] = {"cancels_seller_fault"};
    Grading__V1__Exemption x = GRADING__V1__EXEMPTION__INIT;
    x.marketplace = "testmart";
    x.id = (char *)id, x.from = (char *)day, x.to = (char *)day;
    x.metrics = metrics, x.n_metrics = 1;
    x.reason = "carrier_strike";
    Grading__V1__DeclareExemptionRequest dreq = GRADING__V1__DECLARE_EXEMPTION_REQUEST__INIT;
    dreq.exemption = &x;
    Grading__V1__RevokeExemptionRequest rreq = GRADING__V1__REVOKE_EXEMPTION_REQUEST__INIT;
    rreq.marketplace = "testmart";
    rreq.id = (char *)id;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    grading_err_t err =
        revoke ? grading_client_call(s->client, SVC "RevokeExemption", &rreq.base,
                                     &grading__v1__revoke_exemption_response__descriptor, E2E_RECORD_TIMEOUT_MS, &resp,
                                     &res)
               : grading_client_call(s->client, SVC "DeclareExemption", &dreq.base,
                                     &grading__v1__declare_exemption_response__descriptor, E2E_RECORD_TIMEOUT_MS,
                                     &resp, &res);
    assert_int_equal(err, GRADING_OK);
    grpc_status_code st = res.status;
    snprintf(d, len, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return st;
}

static void test_an_exemption_through_one_replica_applies_on_every_replica(void **state)
{
    fx_t *fx = *state;
    seed(fx, fx->a, "kex");
    wait_rate(fx->b, "kex", 1.0 / 11, 1.0 / 11);
    char d[512];
    /* refused here naming the field: an inverted range */
    assert_int_equal(exemption(fx->a, false, "k-bad", "2026-02-30", d, sizeof d), GRPC_STATUS_INVALID_ARGUMENT);
    e2e_assert_contains(d, "from");
    assert_int_equal(exemption(fx->a, true, "k-none", fx->day, d, sizeof d), GRPC_STATUS_NOT_FOUND);
    e2e_assert_contains(d, "id");

    assert_int_equal(exemption(fx->a, false, "k-strike", fx->day, d, sizeof d), GRPC_STATUS_OK);
    double adj, raw;
    uint32_t excluded;
    cancel_rate(fx->a, "kex", &adj, &raw, &excluded);   /* applied on A before the answer */
    assert_float_equal(adj, 0, 1e-9);
    assert_float_equal(raw, 1.0 / 11, 1e-9);
    wait_rate(fx->b, "kex", 0, 1.0 / 11);               /* walked on B */
    assert_int_equal(live_level(fx->b, "kex"), 1);
    /* declared twice, with other content: refused here */
    assert_int_equal(exemption(fx->b, false, "k-strike", "2026-01-01", d, sizeof d), GRPC_STATUS_ALREADY_EXISTS);

    assert_int_equal(exemption(fx->b, true, "k-strike", fx->day, d, sizeof d), GRPC_STATUS_OK);
    wait_rate(fx->a, "kex", 1.0 / 11, 1.0 / 11);
    assert_int_equal(live_level(fx->a, "kex"), 2);
}

static void test_malformed_commands_are_dead_lettered_and_the_partition_moves_on(void **state)
{
    fx_t *fx = *state;
    double dead_a = e2e_scrape(fx->a, "grading_kafka_messages_dead_lettered_total");
    double dead_b = e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total");
    assert_true(dead_a >= 0 && dead_b >= 0);
    static const char garbage[] = "\xff\xff\xff not protobuf";
    e2e_kafka_produce_to(&fx->kafka, TOPIC, 0, "grading-command", "exclude-v1", garbage, sizeof garbage - 1);
    e2e_kafka_produce_to(&fx->kafka, TOPIC, 0, "grading-command", "reopen-v9", "x", 1);
    /* decodes, fails the appeal's checks on apply */
    char *orders[] = {"no-such-order"}, *metrics[] = {"all"};
    Grading__V1__ExcludeEventsRequest req = GRADING__V1__EXCLUDE_EVENTS_REQUEST__INIT;
    req.marketplace = "testmart", req.seller_id = "kdl", req.reason = "x";
    req.order_ids = orders, req.n_order_ids = 1;
    req.metrics = metrics, req.n_metrics = 1;
    uint8_t buf[256];
    size_t len = grading__v1__exclude_events_request__pack(&req, buf);
    e2e_kafka_produce_to(&fx->kafka, TOPIC, 0, "grading-command", "exclude-v1", buf, len);
    /* partition 0 moves on: a good message after them (a header that names
     * no command changes nothing) applies on both */
    e2e_batch_t good;
    e2e_batch_init(&good);
    e2e_add_paid(&good, "kdl-good-paid", "testmart", "kdl", fx->when, "kdl-o1", 1000, "KRW", 2);
    Grading__V1__RecordEventsRequest rec = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    rec.events = good.ev, rec.n_events = good.n;
    len = grading__v1__record_events_request__pack(&rec, buf);
    e2e_kafka_produce_to(&fx->kafka, TOPIC, 0, "x-origin", "test", buf, len);
    e2e_batch_destroy(&good);
    e2e_kafka_wait_orders(fx->a, "kdl", NULL, 1, CATCH_UP_MS);
    e2e_kafka_wait_orders(fx->b, "kdl", NULL, 1, CATCH_UP_MS);
    assert_true(e2e_kafka_wait_applied(fx->a, 0, dead_a + 3, CATCH_UP_MS));
    assert_true(e2e_kafka_wait_applied(fx->b, 0, dead_b + 3, CATCH_UP_MS));
    assert_true(e2e_scrape(fx->a, "grading_kafka_messages_dead_lettered_total") == dead_a + 3);
    assert_true(e2e_scrape(fx->b, "grading_kafka_messages_dead_lettered_total") == dead_b + 3);

    char reasons[6][256];
    size_t n = e2e_kafka_read_reasons(&fx->kafka, TOPIC ".dlq", 6, reasons, CATCH_UP_MS);
    assert_int_equal(n, 6);   /* each replica's three letters */
    int undecodable = 0, unknown = 0, refused = 0;
    for (size_t i = 0; i < n; i++) {
        if (strstr(reasons[i], "command exclude-v1: not a")) undecodable++;
        else if (strstr(reasons[i], "unknown header grading-command \"reopen-v9\"")) unknown++;
        else if (strstr(reasons[i], "order_ids[0]")) refused++;
        else fail_msg("unexpected dead-letter reason \"%s\"", reasons[i]);
    }
    assert_int_equal(undecodable, 2);
    assert_int_equal(unknown, 2);
    assert_int_equal(refused, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_appeal_through_one_replica_applies_on_every_replica),
        cmocka_unit_test(test_an_exemption_through_one_replica_applies_on_every_replica),
        cmocka_unit_test(test_malformed_commands_are_dead_lettered_and_the_partition_moves_on),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
