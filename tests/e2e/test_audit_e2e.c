/* End-to-end: the audit trail, written with its effect and read back with
 * ListAudit and `gradectl audit`.
 *
 * - each RecordEvents call leaves one entry (caller, marketplaces, events,
 *   accepted, duplicates, policy version); a refused call (denied or
 *   invalid) leaves none;
 * - a non-dry ClosePeriod leaves one (caller, marketplace, period, sellers
 *   evaluated); a dry run and an already-closed period leave none;
 * - a SIGHUP leaves a ReloadPolicy and a ReloadAuthz entry;
 * - --since filters; the trail survives a restart;
 * - gradectl audit prints it (table and --json), over mTLS; a caller not
 *   allowed ListAudit is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "events.h"
#include "grading/pbjson.h"
#include "grading/v1/grading.pb-c.h"
#include "testsrv.h"
#include "tls.h"

#define WAIT_MS 15000

static e2e_cert_t ca, srv, writers, search, settlement, admin;
static char authz_path[E2E_PATH_MAX];

static const char authz_text[] =
    "callers:\n"
    "  writers:\n"
    "    match: {uri_san: \"spiffe://shop/orders\"}\n"
    "    allow: [\"grading.v1.GradingService/RecordEvents\"]\n"
    "  search:\n"
    "    match: {uri_san: \"spiffe://shop/search\"}\n"
    "    allow: [\"grading.v1.GradingService/GetGrade\"]\n"
    "  settlement:\n"
    "    match: {uri_san: \"spiffe://shop/settlement\"}\n"
    "    allow: [\"grading.v1.GradingService/ClosePeriod\"]\n"
    "  ops-admin:\n"
    "    match: {cn: grading-admin}\n"
    "    allow: [\"grading.v1.GradingService/ListAudit\"]\n";

static Grading__V1__ListAuditResponse *list_audit(grading_client_t *c, int64_t since_ms)
{
    Grading__V1__ListAuditRequest req = GRADING__V1__LIST_AUDIT_REQUEST__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    if (since_ms != INT64_MIN) {
        ts.seconds = since_ms / 1000;
        ts.nanos = (int32_t)(since_ms % 1000) * 1000000;
        req.since = &ts;
    }
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    grading_err_t err = grading_client_call(c, "/grading.v1.GradingService/ListAudit", &req.base,
                                            &grading__v1__list_audit_response__descriptor, 10000, &out, &res);
    if (err || res.status != GRPC_STATUS_OK)
        fail_msg("ListAudit: %s %s", grading_status_name(res.status), res.details ? res.details : "");
    grading_call_result_destroy(&res);
    return (Grading__V1__ListAuditResponse *)out;
}

static int64_t count_of(const Grading__V1__AuditEntry *e, const char *name)
{
    for (size_t i = 0; i < e->n_counts; i++)
        if (strcmp(e->counts[i]->name, name) == 0) return e->counts[i]->value;
    fail_msg("entry %s has no count %s", e->method, name);
    return -1;
}

static int64_t entry_ms(const Grading__V1__AuditEntry *e)
{
    return e->time->seconds * 1000 + e->time->nanos / 1000000;
}

static Grading__V1__ClosePeriodResponse *close_period(grading_client_t *c, bool dry)
{
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.marketplace = "testmart";
    req.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    req.period = "2026-10";
    req.dry_run = dry;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    grading_err_t err = grading_client_call(c, "/grading.v1.GradingService/ClosePeriod", &req.base,
                                            &grading__v1__close_period_response__descriptor, 60000, &out, &res);
    if (err || res.status != GRPC_STATUS_OK)
        fail_msg("ClosePeriod: %s %s", grading_status_name(res.status), res.details ? res.details : "");
    grading_call_result_destroy(&res);
    return (Grading__V1__ClosePeriodResponse *)out;
}

static void test_audit_trail(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    e2e_ca_make(s->dir, "ca", &ca);
    e2e_server_cert_make(s->dir, "srv", &ca, &srv);
    e2e_cert_make(s->dir, "writers", &ca, "order-service", "URI:spiffe://shop/orders", false, &writers);
    e2e_cert_make(s->dir, "search", &ca, "ranker", "URI:spiffe://shop/search", false, &search);
    e2e_cert_make(s->dir, "settlement", &ca, "scheduler", "URI:spiffe://shop/settlement", false, &settlement);
    e2e_cert_make(s->dir, "admin", &ca, "grading-admin", NULL, false, &admin);
    e2e_write_file(s->dir, "authz.yaml", authz_text, authz_path);
    const char *flags[] = {"--tls-cert", srv.pem, "--tls-key", srv.key, "--tls-client-ca", ca.pem,
                           "--authz", authz_path, "--no-watch-policy", NULL};
    for (size_t i = 0; flags[i]; i++) s->extra[i] = flags[i];
    s->conn = e2e_tls_options(&ca, &admin);
    e2e_server_start(s);

    grading_client_options_t wo = e2e_tls_options(&ca, &writers), so = e2e_tls_options(&ca, &search),
                             co = e2e_tls_options(&ca, &settlement);
    grading_client_t *wc = e2e_client_with(s->addr, &wo), *sc = e2e_client_with(s->addr, &so),
                     *cc = e2e_client_with(s->addr, &co);

    /* two RecordEvents calls */
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "aud-1", "testmart", "aud-seller", "2026-10-05T00:00:00Z", "o1", 1000, "KRW", 2);
    e2e_add_paid(&b, "aud-2", "nymart", "aud-seller", "2026-10-05T00:00:00Z", "o2", 1000, "USD", 2);
    e2e_add_paid(&b, "aud-3", "", "aud-seller", "2026-10-06T00:00:00Z", "o3", 1000, "KRW", 2);
    e2e_record_ok(wc, b.ev, 3, 3, 0);
    e2e_add_paid(&b, "aud-4", "testmart", "aud-seller", "2026-10-07T00:00:00Z", "o4", 1000, "KRW", 2);
    e2e_record_ok(wc, b.ev + 2, 2, 1, 1);   /* aud-3 again, aud-4 new */

    /* refused calls leave no entry: denied, and invalid */
    e2e_reply_t r = {0};
    assert_int_equal(e2e_record(sc, b.ev, 1, E2E_RECORD_TIMEOUT_MS, &r), GRPC_STATUS_PERMISSION_DENIED);
    e2e_batch_t bad;
    e2e_batch_init(&bad);
    e2e_add_paid(&bad, "aud-bad", "testmart", "aud-seller", "2026-10-05T00:00:00Z", "o9", -5, "KRW", 2);
    assert_int_equal(e2e_record(wc, bad.ev, 1, E2E_RECORD_TIMEOUT_MS, &r), GRPC_STATUS_INVALID_ARGUMENT);
    e2e_batch_destroy(&bad);

    /* a dry run leaves none, the close one, closing again none */
    Grading__V1__ClosePeriodResponse *cr = close_period(cc, true);
    protobuf_c_message_free_unpacked(&cr->base, NULL);
    cr = close_period(cc, false);
    assert_false(cr->already_closed);
    uint32_t evaluated = cr->sellers_evaluated;
    assert_int_equal(evaluated, 1);
    protobuf_c_message_free_unpacked(&cr->base, NULL);
    cr = close_period(cc, false);
    assert_true(cr->already_closed);
    protobuf_c_message_free_unpacked(&cr->base, NULL);

    /* a SIGHUP: both files reload, each with an entry */
    kill(s->pid, SIGHUP);
    Grading__V1__ListAuditResponse *l = NULL;
    int64_t deadline = e2e_now_ms() + WAIT_MS;
    for (;;) {
        l = list_audit(s->client, INT64_MIN);
        if (l->n_entries >= 5 || e2e_now_ms() > deadline) break;
        protobuf_c_message_free_unpacked(&l->base, NULL);
        e2e_sleep_ms(50);
    }
    if (l->n_entries != 5) fail_msg("expected 5 audit entries, got %zu", l->n_entries);
    assert_false(l->truncated);
    Grading__V1__AuditEntry *const *e = l->entries;
    assert_string_equal(e[0]->method, "RecordEvents");
    assert_string_equal(e[0]->caller, "writers");
    assert_string_equal(e[0]->marketplace, "testmart,nymart");
    assert_int_equal(count_of(e[0], "events"), 3);
    assert_int_equal(count_of(e[0], "accepted"), 3);
    assert_int_equal(count_of(e[0], "duplicates"), 0);
    assert_int_equal(strlen(e[0]->policy_version), 16);
    assert_string_equal(e[1]->method, "RecordEvents");
    assert_string_equal(e[1]->marketplace, "testmart");
    assert_int_equal(count_of(e[1], "events"), 2);
    assert_int_equal(count_of(e[1], "accepted"), 1);
    assert_int_equal(count_of(e[1], "duplicates"), 1);
    assert_string_equal(e[2]->method, "ClosePeriod");
    assert_string_equal(e[2]->caller, "settlement");
    assert_string_equal(e[2]->marketplace, "testmart");
    assert_string_equal(e[2]->period, "2026-10");
    assert_string_equal(e[2]->policy_version, e[0]->policy_version);
    assert_int_equal(count_of(e[2], "sellers_evaluated"), evaluated);
    assert_string_equal(e[3]->method, "ReloadPolicy");
    assert_string_equal(e[3]->caller, "gradingd");
    assert_int_equal(count_of(e[3], "accepted"), 1);
    e2e_assert_contains(e[3]->detail, "SIGHUP");
    assert_string_equal(e[4]->method, "ReloadAuthz");
    assert_int_equal(count_of(e[4], "accepted"), 1);
    e2e_assert_contains(e[4]->detail, authz_path);
    for (size_t i = 1; i < 5; i++) assert_true(entry_ms(e[i]) >= entry_ms(e[i - 1]));

    /* --since: from the close on */
    int64_t close_ms = entry_ms(e[2]);
    Grading__V1__ListAuditResponse *since = list_audit(s->client, close_ms);
    assert_true(since->n_entries >= 3);
    assert_string_equal(since->entries[since->n_entries - 3]->method, "ClosePeriod");
    for (size_t i = 0; i < since->n_entries; i++) assert_true(entry_ms(since->entries[i]) >= close_ms);
    protobuf_c_message_free_unpacked(&since->base, NULL);

    /* gradectl audit, over mTLS as the admin */
    e2e_run_t run = {0};
    e2e_gradectl(s, &run, "audit", NULL);
    if (run.code != 0) fail_msg("gradectl audit: %s", run.err);
    e2e_assert_contains(run.out, "CALLER");
    e2e_assert_contains(run.out, "ClosePeriod");
    e2e_assert_contains(run.out, "events=3 accepted=3 duplicates=0");
    assert_int_equal(e2e_count_lines(run.out), 6);   /* head + 5 */
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "audit", "--json", NULL);
    if (run.code != 0) fail_msg("gradectl audit --json: %s", run.err);
    e2e_assert_contains(run.out, "\"entries\"");
    e2e_assert_contains(run.out, "\"caller\": \"settlement\"");
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "audit", "--since", "yesterday", NULL);
    assert_int_equal(run.code, 2);
    e2e_assert_contains(run.err, "--since");
    e2e_run_destroy(&run);
    grading_client_options_t saved = s->conn;
    s->conn = so;
    e2e_gradectl(s, &run, "audit", NULL);
    assert_int_equal(run.code, 1);
    e2e_assert_contains(run.err, "PERMISSION_DENIED: caller search may not call grading.v1.GradingService/ListAudit");
    e2e_run_destroy(&run);
    s->conn = saved;

    /* on disk: the same trail after a restart */
    grading_client_free(wc);
    grading_client_free(sc);
    grading_client_free(cc);
    e2e_server_stop_ok(s);
    e2e_server_restart(s);
    Grading__V1__ListAuditResponse *after = list_audit(s->client, INT64_MIN);
    assert_int_equal(after->n_entries, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(after->entries[i]->method, e[i]->method);
        assert_int_equal(entry_ms(after->entries[i]), entry_ms(e[i]));
    }
    protobuf_c_message_free_unpacked(&after->base, NULL);
    protobuf_c_message_free_unpacked(&l->base, NULL);
    e2e_batch_destroy(&b);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* Entries older than --audit-retention-days go soon after start-up;
 * younger ones stay. The service's clock (--test-clock) dates them. */
static void test_retention(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new((const char *const[]){"--test-clock", "2026-01-10T00:00:00Z", NULL});
    e2e_server_start(s);
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "ret-1", "testmart", "ret-seller", "2026-01-05T00:00:00Z", "o1", 1000, "KRW", 2);
    e2e_record_ok(s->client, b.ev, 1, 1, 0);
    e2e_server_stop_ok(s);

    /* 50 days later, keeping 30: the January entry goes */
    s->extra[1] = "2026-03-01T00:00:00Z";
    s->extra[2] = "--audit-retention-days";
    s->extra[3] = "30";
    e2e_server_restart(s);
    e2e_add_paid(&b, "ret-2", "testmart", "ret-seller", "2026-02-25T00:00:00Z", "o2", 1000, "KRW", 2);
    e2e_record_ok(s->client, b.ev + 1, 1, 1, 0);
    int64_t deadline = e2e_now_ms() + WAIT_MS;
    Grading__V1__ListAuditResponse *l = NULL;
    for (;;) {
        l = list_audit(s->client, INT64_MIN);
        if (l->n_entries == 1 || e2e_now_ms() > deadline) break;
        protobuf_c_message_free_unpacked(&l->base, NULL);
        e2e_sleep_ms(50);
    }
    if (l->n_entries != 1) fail_msg("expected the old entry pruned, %zu entries left", l->n_entries);
    assert_true(entry_ms(l->entries[0]) >= e2e_time_ms("2026-03-01T00:00:00Z"));
    protobuf_c_message_free_unpacked(&l->base, NULL);
    e2e_server_stop_ok(s);

    /* a bad value: exit 2 naming the flag */
    e2e_run_t r = {0};
    const char *argv[] = {e2e_env("GRADINGD"), "--data-dir", s->data_dir, "--policy", e2e_env("GRADING_POLICY"),
                          "--audit-retention-days", "-1", NULL};
    e2e_run(s->dir, argv, 10000, &r);
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_assert_contains(r.err, "--audit-retention-days must be 0..36500 days, got \"-1\"");
    e2e_run_destroy(&r);
    e2e_batch_destroy(&b);
    e2e_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_trail),
        cmocka_unit_test(test_retention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
