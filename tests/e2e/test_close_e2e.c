/* End-to-end: ClosePeriod and GetGradeHistory over real gRPC, and a close
 * killed with SIGKILL midway that finishes correctly when called again.
 *
 * Periods are in 2025 so they have ended whatever today's date is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "grading/period.h"
#include "grading/store.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define KILL_SELLERS 50000
#define SEED_BATCH 5000

static Grading__V1__ClosePeriodResponse *close_period(grading_client_t *c, const char *period,
                                                      Grading__V1__PeriodKind kind, bool dry,
                                                      grpc_status_code want, const char *want_details)
{
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.kind = kind;
    req.period = (char *)period;
    req.dry_run = dry;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "ClosePeriod", &req.base,
                                         &grading__v1__close_period_response__descriptor, 600000, &out, &res),
                     GRADING_OK);
    if (res.status != want) fprintf(stderr, "ClosePeriod %s: %s %s\n", period, grading_status_name(res.status), res.details);
    assert_int_equal(res.status, want);
    if (want_details) assert_non_null(strstr(res.details, want_details));
    grading_call_result_destroy(&res);
    return (Grading__V1__ClosePeriodResponse *)out;
}

static uint32_t sellers_at(const Grading__V1__ClosePeriodResponse *r, int32_t level)
{
    for (size_t i = 0; i < r->n_distribution; i++)
        if (r->distribution[i]->level == level) return r->distribution[i]->sellers;
    return UINT32_MAX;
}

/* October 2025 (Seoul): g has 12 orders (Gold), s 3 (Silver: < 10 orders),
 * b 10 with 6 cancelled by the seller (Bronze). */
static void seed_october(grading_client_t *c)
{
    e2e_batch_t b;
    char id[64], oid[32];
    e2e_batch_init(&b);
    const struct {
        const char *seller;
        int orders, cancelled;
    } plan[] = {{"g", 12, 0}, {"s", 3, 0}, {"b", 10, 6}};
    for (size_t p = 0; p < 3; p++)
        for (int i = 0; i < plan[p].orders; i++) {
            snprintf(oid, sizeof oid, "%s-o%d", plan[p].seller, i);
            snprintf(id, sizeof id, "%s-paid", oid);
            e2e_add_paid(&b, id, NULL, plan[p].seller, "2025-10-20T01:00:00Z", oid, 1000, "KRW", 3);
            snprintf(id, sizeof id, "%s-next", oid);
            if (i < plan[p].cancelled)
                e2e_add_cancelled(&b, id, NULL, plan[p].seller, "2025-10-20T05:00:00Z", oid,
                                  GRADING__V1__FAULT__FAULT_SELLER, GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
            else
                e2e_add_shipped(&b, id, NULL, plan[p].seller, "2025-10-21T01:00:00Z", oid, true);
        }
    e2e_record_ok(c, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
}

static void test_close_and_history(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    seed_october(c);

    /* a dry run counts and writes nothing */
    Grading__V1__ClosePeriodResponse *r = close_period(c, "2025-10", GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, true,
                                                       GRPC_STATUS_OK, NULL);
    assert_int_equal(r->sellers_evaluated, 3);
    assert_false(r->already_closed);
    assert_int_equal(sellers_at(r, 1), 1);
    assert_int_equal(sellers_at(r, 2), 1);
    assert_int_equal(sellers_at(r, 3), 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    r = close_period(c, "2025-10", GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, false, GRPC_STATUS_OK, NULL);
    assert_int_equal(r->sellers_evaluated, 3);
    assert_false(r->already_closed);
    assert_int_equal(r->n_distribution, 3);
    assert_string_equal(r->distribution[0]->program, "quality");
    assert_string_equal(r->distribution[0]->label, "Gold");
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* events that arrive later for October change nothing published */
    e2e_batch_t late;
    e2e_batch_init(&late);
    e2e_add_paid(&late, "late-paid", NULL, "s", "2025-10-25T01:00:00Z", "late-o", 1000, "KRW", 3);
    e2e_record_ok(c, late.ev, late.n, 1, 0);
    e2e_batch_destroy(&late);

    r = close_period(c, "2025-10", GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, false, GRPC_STATUS_OK, NULL);
    assert_true(r->already_closed);
    assert_int_equal(r->sellers_evaluated, 3);
    assert_int_equal(sellers_at(r, 2), 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* not ended, bad names, bad kind */
    close_period(c, "2099-01", GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, false, GRPC_STATUS_FAILED_PRECONDITION,
                 "has not ended");
    close_period(c, "2025-13", GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, false, GRPC_STATUS_INVALID_ARGUMENT,
                 "period");
    close_period(c, "2025-10", GRADING__V1__PERIOD_KIND__PERIOD_KIND_UNSPECIFIED, false,
                 GRPC_STATUS_INVALID_ARGUMENT, "kind");

    /* GetGrade: published from October, as of mid-November 2025 */
    Grading__V1__GetGradeRequest g = GRADING__V1__GET_GRADE_REQUEST__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = e2e_time_ms("2025-11-15T00:00:00Z") / 1000;
    g.seller_id = "g";
    g.as_of = &ts;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetGrade", &g.base, &grading__v1__grade_report__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res), GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    Grading__V1__GradeReport *rep = (Grading__V1__GradeReport *)out;
    assert_non_null(rep->programs[0]->published);
    assert_int_equal(rep->programs[0]->published->level, 1);
    assert_string_equal(rep->programs[0]->published->period, "2025-10");
    protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);

    /* GetGradeHistory: October only */
    Grading__V1__GetGradeHistoryRequest h = GRADING__V1__GET_GRADE_HISTORY_REQUEST__INIT;
    h.seller_id = "b";
    h.as_of = &ts;
    assert_int_equal(grading_client_call(c, SVC "GetGradeHistory", &h.base, &grading__v1__grade_history__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res), GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    Grading__V1__GradeHistory *hist = (Grading__V1__GradeHistory *)out;
    assert_int_equal(hist->n_grades, 1);
    assert_string_equal(hist->grades[0]->period, "2025-10");
    assert_int_equal(hist->grades[0]->grade->level, 3);
    assert_string_equal(hist->grades[0]->grade->label, "Bronze");
    protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
}

/* ---- SIGKILL during a close ---- */

typedef struct {
    e2e_server_t *s;
    bool completed;
} closer_t;

static void *closer_main(void *arg)
{
    closer_t *cl = arg;
    grading_client_t *c = e2e_client_new(cl->s);
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    req.period = "2025-09";
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    if (c && grading_client_call(c, SVC "ClosePeriod", &req.base, &grading__v1__close_period_response__descriptor,
                                 600000, &out, &res) == GRADING_OK)
        cl->completed = res.status == GRPC_STATUS_OK;
    if (out) protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
    grading_client_free(c);
    return NULL;
}

static void seed_many(grading_client_t *c)
{
    static char ids[SEED_BATCH][24], sellers[SEED_BATCH][16], inq[SEED_BATCH][16];
    for (int base = 0; base < KILL_SELLERS; base += SEED_BATCH) {
        e2e_batch_t b;
        e2e_batch_init(&b);
        for (int i = 0; i < SEED_BATCH; i++) {
            snprintf(ids[i], sizeof ids[i], "k%06d", base + i);
            snprintf(sellers[i], sizeof sellers[i], "ks%06d", base + i);
            snprintf(inq[i], sizeof inq[i], "kq%06d", base + i);
            e2e_add_inquiry_received(&b, ids[i], NULL, sellers[i], "2025-09-10T01:00:00Z", inq[i]);
        }
        e2e_record_ok(c, b.ev, b.n, SEED_BATCH, 0);
        e2e_batch_destroy(&b);
    }
}

static void test_kill_during_close(void **state)
{
    e2e_server_t *s = *state;
    seed_many(s->client);

    /* time a dry run to aim the kill at the middle of the real close */
    int64_t t0 = e2e_now_ms();
    Grading__V1__ClosePeriodResponse *r = close_period(s->client, "2025-09", GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH,
                                                       true, GRPC_STATUS_OK, NULL);
    int64_t dry_ms = e2e_now_ms() - t0;
    assert_int_equal(r->sellers_evaluated, KILL_SELLERS);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    closer_t cl = {.s = s};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, closer_main, &cl), 0);
    e2e_sleep_ms(dry_ms / 2 > 50 ? dry_ms / 2 : 50);
    e2e_server_kill(s);
    pthread_join(th, NULL);
    fprintf(stderr, "# dry run %lld ms; the close %s before the kill\n", (long long)dry_ms,
            cl.completed ? "had finished" : "had not finished");

    e2e_server_restart(s);
    r = close_period(s->client, "2025-09", GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, false, GRPC_STATUS_OK, NULL);
    assert_int_equal(r->sellers_evaluated, KILL_SELLERS);
    assert_int_equal(r->already_closed, cl.completed);
    uint32_t total = 0;
    for (size_t i = 0; i < r->n_distribution; i++) total += r->distribution[i]->sellers;
    assert_int_equal(total, KILL_SELLERS);   /* every seller counted exactly once */
    protobuf_c_message_free_unpacked(&r->base, NULL);
    e2e_server_stop_ok(s);

    /* and stored exactly once: the periods database holds KILL_SELLERS */
    grading_store_options_t o = {.dir = s->data_dir};
    grading_store_t *st;
    grading_error_t e;
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_OK);
    grading_store_reader_t *rd;
    grading_txn_t *txn;
    uint64_t n;
    grading_close_t c;
    bool found;
    assert_int_equal(grading_store_reader_new(st, &rd), GRADING_OK);
    assert_int_equal(grading_store_read_begin(rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_period_count(txn, "testmart", GRADING_PERIOD_MONTH, "2025-09", &n), GRADING_OK);
    assert_int_equal(n, KILL_SELLERS);
    assert_int_equal(grading_store_close_get(txn, "testmart", GRADING_PERIOD_MONTH, "2025-09", &c, &found),
                     GRADING_OK);
    assert_true(found && c.done);
    assert_int_equal(c.evaluated, KILL_SELLERS);
    grading_store_read_end(rd);
    grading_store_reader_free(rd);
    grading_store_close(st);
    e2e_server_start(s);   /* the teardown stops it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_close_and_history, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_kill_during_close, e2e_setup_server, e2e_teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
