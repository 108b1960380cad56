/* End-to-end: appeals (issue 15 §1) over real gRPC.
 *
 * Seller "ap" of testmart (tests/e2e/policy.yaml, with `appeals:
 * {max_per_order: 2}` added in a copy) has 11 orders, one cancelled by the
 * seller: a 9.1 % cancel rate, Silver. ExcludeEvents of that order from
 * cancels_seller_fault lifts it to Gold (boost 1.3); GetSellerMetrics shows
 * the adjusted value beside the raw one and one excluded record; the same
 * appeal again changes nothing and says so; RestoreEvents drops it back.
 * Every bad input (unknown order, unknown metric, an event id, no reason,
 * an appeal beyond max_per_order) is refused naming its field, with
 * GetSellerMetrics the same before and after. The audit trail has an entry
 * per appeal; a restart keeps it all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "grading/client.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define CLOCK "2026-11-02T00:00:00Z"
#define WHEN "2026-10-20T01:00:00Z"
#define SELLER "ap"

/* The e2e policy with an appeals section for testmart, as GRADING_POLICY. */
static void use_policy_with(const char *dir, const char *extra);

static void use_policy_with_appeals(const char *dir)
{
    use_policy_with(dir, "");
}

static void use_policy_appeals(const char *dir, const char *appeals, const char *extra);

/* The e2e policy with testmart's appeals section and extra (more testmart
 * keys), as GRADING_POLICY. */
static void use_policy_with(const char *dir, const char *extra)
{
    use_policy_appeals(dir, "{max_per_order: 2}", extra);
}

/* The same with the appeals section given. */
static void use_policy_appeals(const char *dir, const char *appeals, const char *extra)
{
    static char path[E2E_PATH_MAX], original[E2E_PATH_MAX];
    if (!original[0]) snprintf(original, sizeof original, "%s", e2e_env("GRADING_POLICY"));
    FILE *f = fopen(original, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20), *out = calloc(1, (1 << 20) + 4096);
    assert_non_null(text);
    assert_non_null(out);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *anchor = "    display_name: Test Mart\n";
    char *at = strstr(text, anchor);
    assert_non_null(at);
    at += strlen(anchor);
    snprintf(out, (1 << 20) + 4096, "%.*s    appeals: %s\n%s%s", (int)(at - text), text, appeals, extra,
             at);
    e2e_write_file(dir, "policy-appeals.yaml", out, path);
    setenv("GRADING_POLICY", path, 1);
    free(text);
    free(out);
}

static void seed(grading_client_t *c)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    char id[64], oid[40];
    for (int i = 0; i < 11; i++) {
        snprintf(oid, sizeof oid, "o%d", i);
        snprintf(id, sizeof id, "%s-paid", oid);
        e2e_add_paid(&b, id, NULL, SELLER, WHEN, oid, 1000, "KRW", 2);
        snprintf(id, sizeof id, "%s-next", oid);
        if (i == 0)
            e2e_add_cancelled(&b, id, NULL, SELLER, WHEN, oid, GRADING__V1__FAULT__FAULT_SELLER,
                              GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
        else
            e2e_add_shipped(&b, id, NULL, SELLER, WHEN, oid, true);
    }
    e2e_add_inquiry_received(&b, "q1-in", NULL, SELLER, WHEN, "q1");
    e2e_record_ok(c, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
}

typedef struct {
    const char *orders[4], *inquiries[2], *events[2], *metrics[3];
    const char *reason, *note;
} appeal_t;

static size_t count(const char *const *list, size_t cap)
{
    size_t n = 0;
    while (n < cap && list[n]) n++;
    return n;
}

/* ExcludeEvents (or RestoreEvents); on OK *out is the reply (the two
 * responses have the same fields). */
static grpc_status_code appeal(grading_client_t *c, bool restore, const appeal_t *a,
                               Grading__V1__ExcludeEventsResponse **out, char *details, size_t len)
{
    Grading__V1__ExcludeEventsRequest req = GRADING__V1__EXCLUDE_EVENTS_REQUEST__INIT;
    req.seller_id = SELLER;
    req.order_ids = (char **)a->orders, req.n_order_ids = count(a->orders, 4);
    req.inquiry_ids = (char **)a->inquiries, req.n_inquiry_ids = count(a->inquiries, 2);
    req.event_ids = (char **)a->events, req.n_event_ids = count(a->events, 2);
    req.metrics = (char **)a->metrics, req.n_metrics = count(a->metrics, 3);
    req.reason = (char *)(a->reason ? a->reason : "");
    req.note = (char *)(a->note ? a->note : "");
    Grading__V1__RestoreEventsRequest rreq = GRADING__V1__RESTORE_EVENTS_REQUEST__INIT;
    memcpy((char *)&rreq + sizeof rreq.base, (char *)&req + sizeof req.base, sizeof req - sizeof req.base);
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    grading_err_t err =
        restore ? grading_client_call(c, SVC "RestoreEvents", &rreq.base, &grading__v1__restore_events_response__descriptor,
                                      E2E_CALL_TIMEOUT_MS, &resp, &res)
                : grading_client_call(c, SVC "ExcludeEvents", &req.base, &grading__v1__exclude_events_response__descriptor,
                                      E2E_CALL_TIMEOUT_MS, &resp, &res);
    assert_int_equal(err, GRADING_OK);
    grpc_status_code st = res.status;
    snprintf(details, len, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    if (out) *out = (Grading__V1__ExcludeEventsResponse *)resp;
    else if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return st;
}

static Grading__V1__ExcludeEventsResponse *appeal_ok(grading_client_t *c, bool restore, const appeal_t *a)
{
    char details[512];
    Grading__V1__ExcludeEventsResponse *r = NULL;
    grpc_status_code st = appeal(c, restore, a, &r, details, sizeof details);
    if (st != GRPC_STATUS_OK) fail_msg("%s: %s %s", restore ? "RestoreEvents" : "ExcludeEvents",
                                       grading_status_name(st), details);
    return r;
}

/* A refusal: status and text, and GetSellerMetrics unchanged. */
static void refused(grading_client_t *c, bool restore, const appeal_t *a, grpc_status_code want, const char *text)
{
    Grading__V1__SellerMetrics *before = e2e_metrics(c, "", SELLER, NULL);
    char details[512];
    grpc_status_code st = appeal(c, restore, a, NULL, details, sizeof details);
    if (st != want) fail_msg("expected %s, got %s: %s", grading_status_name(want), grading_status_name(st), details);
    e2e_assert_contains(details, text);
    Grading__V1__SellerMetrics *after = e2e_metrics(c, "", SELLER, NULL);
    e2e_metrics_assert_same(before, after);
    assert_int_equal(before->excluded_records, after->excluded_records);
    e2e_metrics_free(before);
    e2e_metrics_free(after);
}

static int32_t live_level(grading_client_t *c)
{
    Grading__V1__GetGradeRequest req = GRADING__V1__GET_GRADE_REQUEST__INIT;
    req.seller_id = SELLER;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetGrade", &req.base, &grading__v1__grade_report__descriptor,
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

static double boost(grading_client_t *c)
{
    Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    char *ids[] = {SELLER};
    req.seller_ids = ids;
    req.n_seller_ids = 1;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetRankingBoosts", &req.base,
                                         &grading__v1__get_ranking_boosts_response__descriptor, E2E_CALL_TIMEOUT_MS,
                                         &out, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    grading_call_result_destroy(&res);
    const Grading__V1__GetRankingBoostsResponse *r = (const void *)out;
    assert_int_equal(r->n_boosts, 1);
    double v = r->boosts[0];
    protobuf_c_message_free_unpacked(out, NULL);
    return v;
}

/* cancel_rate's (adjusted, raw) values in 30d. */
static void cancel_rate(grading_client_t *c, double *adj, double *raw, uint32_t *excluded)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, "", SELLER, NULL);
    bool found = false;
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i]->name, "cancel_rate") == 0) {
            *adj = m->metrics[i]->value;
            *raw = m->metrics[i]->raw_value;
            found = true;
        }
    assert_true(found);
    *excluded = m->excluded_records;
    e2e_metrics_free(m);
}

static bool audit_has(grading_client_t *c, const char *method, const char *detail)
{
    Grading__V1__ListAuditRequest req = GRADING__V1__LIST_AUDIT_REQUEST__INIT;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "ListAudit", &req.base, &grading__v1__list_audit_response__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    grading_call_result_destroy(&res);
    const Grading__V1__ListAuditResponse *r = (const void *)out;
    bool found = false;
    for (size_t i = 0; i < r->n_entries && !found; i++)
        found = strcmp(r->entries[i]->method, method) == 0 && strstr(r->entries[i]->detail, detail) &&
                strcmp(r->entries[i]->marketplace, "testmart") == 0 && r->entries[i]->caller[0];
    protobuf_c_message_free_unpacked(out, NULL);
    return found;
}

static void test_appeal_lifts_the_grade_restore_drops_it_bad_input_changes_nothing(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new((const char *const[]){"--test-clock", CLOCK, NULL});
    use_policy_with_appeals(s->dir);
    e2e_server_start(s);
    grading_client_t *c = s->client;
    seed(c);
    double adj, raw;
    uint32_t excluded;
    cancel_rate(c, &adj, &raw, &excluded);
    assert_float_equal(adj, 1.0 / 11, 1e-9);
    assert_float_equal(raw, 1.0 / 11, 1e-9);
    assert_int_equal(excluded, 0);
    assert_int_equal(live_level(c), 2);
    assert_float_equal(boost(c), 1.0, 1e-9);

    /* the appeal: o0's seller-fault cancel no longer counts */
    appeal_t a = {.orders = {"o0"}, .metrics = {"cancels_seller_fault"}, .reason = "carrier_strike",
                  .note = "proof: ticket 42"};
    Grading__V1__ExcludeEventsResponse *r = appeal_ok(c, false, &a);
    assert_true(r->changed);
    assert_int_equal(r->n_records, 1);
    assert_true(r->records[0]->changed);
    assert_int_equal(r->records[0]->n_excluded_before, 0);
    assert_int_equal(r->records[0]->n_excluded_after, 1);
    assert_string_equal(r->records[0]->excluded_after[0], "cancels_seller_fault");
    assert_int_equal(r->records[0]->appeals, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    cancel_rate(c, &adj, &raw, &excluded);
    assert_float_equal(adj, 0, 1e-9);
    assert_float_equal(raw, 1.0 / 11, 1e-9);
    assert_int_equal(excluded, 1);
    assert_int_equal(live_level(c), 1);            /* across the threshold: Gold */
    assert_float_equal(boost(c), 1.3, 1e-9);       /* the stored answer was re-derived */
    assert_true(audit_has(c, "ExcludeEvents", "seller=ap reason=carrier_strike note=proof: ticket 42"));

    /* the same appeal again: nothing changes, the count stays */
    r = appeal_ok(c, false, &a);
    assert_false(r->changed);
    assert_false(r->records[0]->changed);
    assert_int_equal(r->records[0]->appeals, 1);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    cancel_rate(c, &adj, &raw, &excluded);
    assert_float_equal(adj, 0, 1e-9);

    /* bad input: each refused naming its field, nothing changed */
    appeal_t bad = a;
    bad.orders[1] = "no-such-order";
    refused(c, false, &bad, GRPC_STATUS_NOT_FOUND, "order_ids[1]");
    bad = a;
    bad.inquiries[0] = "no-such-inquiry";
    refused(c, false, &bad, GRPC_STATUS_NOT_FOUND, "inquiry_ids[0]");
    bad = a;
    bad.metrics[0] = "orders";
    bad.metrics[1] = "no_such_metric";
    refused(c, false, &bad, GRPC_STATUS_INVALID_ARGUMENT, "metrics[1]");
    bad = a;
    bad.events[0] = "o0-next";
    refused(c, false, &bad, GRPC_STATUS_INVALID_ARGUMENT, "event_ids[0]");
    bad = a;
    bad.reason = "";
    refused(c, false, &bad, GRPC_STATUS_INVALID_ARGUMENT, "reason");
    bad = a;
    bad.metrics[0] = NULL;
    refused(c, false, &bad, GRPC_STATUS_INVALID_ARGUMENT, "metrics");

    /* restore: back to Silver */
    r = appeal_ok(c, true, &a);
    assert_true(r->changed);
    assert_int_equal(r->records[0]->n_excluded_after, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    cancel_rate(c, &adj, &raw, &excluded);
    assert_float_equal(adj, 1.0 / 11, 1e-9);
    assert_int_equal(excluded, 0);
    assert_int_equal(live_level(c), 2);
    assert_float_equal(boost(c), 1.0, 1e-9);
    assert_true(audit_has(c, "RestoreEvents", "seller=ap reason=carrier_strike"));

    /* an inquiry, by a policy metric name ("all" counters) */
    appeal_t q = {.inquiries = {"q1"}, .metrics = {"all"}, .reason = "spam"};
    r = appeal_ok(c, false, &q);
    assert_true(r->records[0]->inquiry);
    assert_true(r->records[0]->changed);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Grading__V1__SellerMetrics *m = e2e_metrics(c, "", SELLER, NULL);
    assert_float_equal(e2e_metric(m, "inquiries", "30d"), 0, 1e-9);
    e2e_metrics_free(m);

    /* the second appeal of o0 (policy metric: cancel_rate reads orders and
     * cancels_seller_fault), restored, then a third: beyond max_per_order 2 */
    appeal_t byrate = {.orders = {"o0"}, .metrics = {"cancel_rate"}, .reason = "carrier_strike"};
    r = appeal_ok(c, false, &byrate);
    assert_int_equal(r->n_counters, 2);
    assert_int_equal(r->records[0]->appeals, 2);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    cancel_rate(c, &adj, &raw, &excluded);
    assert_float_equal(adj, 0, 1e-9);   /* 0 of 10 */
    protobuf_c_message_free_unpacked(&appeal_ok(c, true, &byrate)->base, NULL);
    refused(c, false, &byrate, GRPC_STATUS_FAILED_PRECONDITION, "order_ids[0]");

    protobuf_c_message_free_unpacked(&appeal_ok(c, true, &q)->base, NULL);
    /* gradectl: the same through the CLI; metrics shows raw beside adjusted */
    e2e_run_t run;
    e2e_gradectl(s, &run, "appeal", "exclude", SELLER, "--inquiry", "q1", "--metric", "inquiries,orders",
                 "--reason", "cli_test", NULL);
    assert_int_equal(run.code, 0);
    e2e_assert_contains(run.out, "q1");
    e2e_assert_contains(run.out, "inquiries");
    e2e_assert_contains(run.out, "recomputed");
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "metrics", SELLER, NULL);
    assert_int_equal(run.code, 0);
    e2e_assert_contains(run.out, "raw");
    e2e_assert_contains(run.out, "with exclusions");
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "appeal", "exclude", SELLER, "--order", "nope", "--metric", "all", "--reason", "x", NULL);
    assert_int_equal(run.code, 1);
    e2e_assert_contains(run.err, "NOT_FOUND");
    e2e_assert_contains(run.err, "order_ids[0]");
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "appeal", "restore", SELLER, "--inquiry", "q1", "--metric", "all", "--reason", "cli_test",
                 NULL);
    assert_int_equal(run.code, 0);
    e2e_run_destroy(&run);

    /* a restart keeps the records' exclusions and counts */
    Grading__V1__SellerMetrics *before = e2e_metrics(c, "", SELLER, NULL);
    e2e_server_stop_ok(s);
    e2e_server_restart(s);
    c = s->client;
    Grading__V1__SellerMetrics *after = e2e_metrics(c, "", SELLER, NULL);
    e2e_metrics_assert_same(before, after);
    e2e_metrics_free(before);
    e2e_metrics_free(after);
    refused(c, false, &byrate, GRPC_STATUS_FAILED_PRECONDITION, "appealed 2 times already");
    assert_true(audit_has(c, "ExcludeEvents", "seller=ap reason=spam"));
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* ---- exemptions ---- */

static void seed_seller(grading_client_t *c, const char *seller, const char *when, int orders, int cancelled,
                        const char *prefix)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    char id[96], oid[64];
    for (int i = 0; i < orders; i++) {
        snprintf(oid, sizeof oid, "%s-%s-o%d", prefix, seller, i);
        snprintf(id, sizeof id, "%s-paid", oid);
        e2e_add_paid(&b, id, NULL, seller, when, oid, 1000, "KRW", 2);
        snprintf(id, sizeof id, "%s-next", oid);
        if (i < cancelled)
            e2e_add_cancelled(&b, id, NULL, seller, when, oid, GRADING__V1__FAULT__FAULT_SELLER,
                              GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
        else
            e2e_add_shipped(&b, id, NULL, seller, when, oid, true);
    }
    e2e_record_ok(c, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
}

static grpc_status_code declare(grading_client_t *c, const char *id, const char *from, const char *to,
                                const char *metric, Grading__V1__DeclareExemptionResponse **out, char *details,
                                size_t len)
{
    Grading__V1__Exemption x = GRADING__V1__EXEMPTION__INIT;
    char *metrics[] = {(char *)metric};
    x.id = (char *)id, x.from = (char *)from, x.to = (char *)to;
    x.metrics = metrics, x.n_metrics = 1;
    x.reason = "carrier_strike";
    Grading__V1__DeclareExemptionRequest req = GRADING__V1__DECLARE_EXEMPTION_REQUEST__INIT;
    req.exemption = &x;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "DeclareExemption", &req.base,
                                         &grading__v1__declare_exemption_response__descriptor, E2E_CALL_TIMEOUT_MS,
                                         &resp, &res),
                     GRADING_OK);
    grpc_status_code st = res.status;
    snprintf(details, len, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    if (out) *out = (Grading__V1__DeclareExemptionResponse *)resp;
    else if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return st;
}

static grpc_status_code revoke(grading_client_t *c, const char *id, Grading__V1__RevokeExemptionResponse **out,
                               char *details, size_t len)
{
    Grading__V1__RevokeExemptionRequest req = GRADING__V1__REVOKE_EXEMPTION_REQUEST__INIT;
    req.id = (char *)id;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "RevokeExemption", &req.base,
                                         &grading__v1__revoke_exemption_response__descriptor, E2E_CALL_TIMEOUT_MS,
                                         &resp, &res),
                     GRADING_OK);
    grpc_status_code st = res.status;
    snprintf(details, len, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    if (out) *out = (Grading__V1__RevokeExemptionResponse *)resp;
    else if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return st;
}

static size_t list_count(grading_client_t *c)
{
    Grading__V1__ListExemptionsRequest req = GRADING__V1__LIST_EXEMPTIONS_REQUEST__INIT;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "ListExemptions", &req.base,
                                         &grading__v1__list_exemptions_response__descriptor, E2E_CALL_TIMEOUT_MS,
                                         &resp, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    grading_call_result_destroy(&res);
    size_t n = ((Grading__V1__ListExemptionsResponse *)resp)->n_exemptions;
    protobuf_c_message_free_unpacked(resp, NULL);
    return n;
}

static double rate_of(grading_client_t *c, const char *seller, bool raw)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, "", seller, NULL);
    double v = -1;
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i]->name, "cancel_rate") == 0) v = raw ? m->metrics[i]->raw_value : m->metrics[i]->value;
    e2e_metrics_free(m);
    assert_true(v >= 0);
    return v;
}

static void test_exemption_regrades_exactly_the_sellers_it_touches_and_later_orders(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new((const char *const[]){"--test-clock", CLOCK, NULL});
    use_policy_with_appeals(s->dir);
    e2e_server_start(s);
    grading_client_t *c = s->client;
    seed_seller(c, "ex1", "2026-10-10T03:00:00Z", 11, 1, "a");   /* paid 10-10 in Seoul: in range */
    seed_seller(c, "ex2", "2026-10-20T03:00:00Z", 11, 1, "a");   /* outside */
    Grading__V1__SellerMetrics *ex2_before = e2e_metrics(c, "", "ex2", NULL);
    assert_float_equal(rate_of(c, "ex1", false), 1.0 / 11, 1e-9);

    char d[512];
    Grading__V1__DeclareExemptionResponse *r = NULL;
    assert_int_equal(declare(c, "strike-1", "2026-10-09", "2026-10-11", "cancels_seller_fault", &r, d, sizeof d),
                     GRPC_STATUS_OK);
    assert_false(r->already_declared);
    assert_int_equal(r->sellers_changed, 1);
    assert_int_equal(r->orders_changed, 11);   /* every order paid in range carries the mask */
    assert_true(r->sellers_walked >= 2);
    assert_string_equal(r->exemption->from, "2026-10-09");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_float_equal(rate_of(c, "ex1", false), 0, 1e-9);
    assert_float_equal(rate_of(c, "ex1", true), 1.0 / 11, 1e-9);
    Grading__V1__SellerMetrics *ex2_after = e2e_metrics(c, "", "ex2", NULL);
    e2e_metrics_assert_same(ex2_before, ex2_after);   /* exactly the sellers it touches */
    e2e_metrics_free(ex2_after);

    /* an order paid in the range that arrives after the declaration */
    seed_seller(c, "ex1", "2026-10-10T05:00:00Z", 1, 1, "late");
    assert_float_equal(rate_of(c, "ex1", false), 0, 1e-9);
    assert_float_equal(rate_of(c, "ex1", true), 2.0 / 12, 1e-9);

    /* the same declaration again: nothing to do; bad ones change nothing */
    assert_int_equal(declare(c, "strike-1", "2026-10-09", "2026-10-11", "cancels_seller_fault", &r, d, sizeof d),
                     GRPC_STATUS_OK);
    assert_true(r->already_declared);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Grading__V1__SellerMetrics *before = e2e_metrics(c, "", "ex1", NULL);
    assert_int_equal(declare(c, "strike-2", "2026-10-12", "2026-10-01", "all", NULL, d, sizeof d),
                     GRPC_STATUS_INVALID_ARGUMENT);
    e2e_assert_contains(d, "to:");
    assert_int_equal(declare(c, "strike-1", "2026-10-09", "2026-10-12", "cancels_seller_fault", NULL, d, sizeof d),
                     GRPC_STATUS_ALREADY_EXISTS);
    assert_int_equal(declare(c, "strike-3", "2026-10-09", "2026-10-12", "no_metric", NULL, d, sizeof d),
                     GRPC_STATUS_INVALID_ARGUMENT);
    e2e_assert_contains(d, "metrics[0]");
    assert_int_equal(declare(c, "strike-4", "2026-02-30", "2026-10-12", "all", NULL, d, sizeof d),
                     GRPC_STATUS_INVALID_ARGUMENT);
    e2e_assert_contains(d, "from:");
    assert_int_equal(revoke(c, "no-such", NULL, d, sizeof d), GRPC_STATUS_NOT_FOUND);
    e2e_assert_contains(d, "id:");
    Grading__V1__SellerMetrics *after = e2e_metrics(c, "", "ex1", NULL);
    e2e_metrics_assert_same(before, after);
    e2e_metrics_free(before);
    e2e_metrics_free(after);
    assert_int_equal(list_count(c), 1);

    /* a restart keeps it: loaded into the writer's table at start */
    e2e_server_stop_ok(s);
    e2e_server_restart(s);
    c = s->client;
    assert_int_equal(list_count(c), 1);
    seed_seller(c, "ex1", "2026-10-11T05:00:00Z", 1, 1, "after-restart");
    assert_float_equal(rate_of(c, "ex1", false), 0, 1e-9);
    assert_float_equal(rate_of(c, "ex1", true), 3.0 / 13, 1e-9);

    /* gradectl: the list, and a declaration refused naming its field */
    e2e_run_t run;
    e2e_gradectl(s, &run, "exemption", "list", NULL);
    assert_int_equal(run.code, 0);
    e2e_assert_contains(run.out, "strike-1");
    e2e_assert_contains(run.out, "2026-10-09..2026-10-11");
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "exemption", "declare", "cli-1", "--from", "2026-10-05", "--to", "2026-10-01", "--metric",
                 "all", "--reason", "x", NULL);
    assert_int_equal(run.code, 1);
    e2e_assert_contains(run.err, "INVALID_ARGUMENT");
    e2e_assert_contains(run.err, "to:");
    e2e_run_destroy(&run);

    /* revoke: everything counts again */
    Grading__V1__RevokeExemptionResponse *rv = NULL;
    assert_int_equal(revoke(c, "strike-1", &rv, d, sizeof d), GRPC_STATUS_OK);
    assert_int_equal(rv->sellers_changed, 1);
    assert_int_equal(rv->orders_changed, 13);
    protobuf_c_message_free_unpacked(&rv->base, NULL);
    assert_float_equal(rate_of(c, "ex1", false), 3.0 / 13, 1e-9);
    assert_int_equal(list_count(c), 0);
    assert_true(audit_has(c, "DeclareExemption", "id=strike-1"));
    assert_true(audit_has(c, "RevokeExemption", "id=strike-1"));
    ex2_after = e2e_metrics(c, "", "ex2", NULL);
    e2e_metrics_assert_same(ex2_before, ex2_after);
    e2e_metrics_free(ex2_after);
    e2e_metrics_free(ex2_before);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* ---- appeals.reopen_closed ---- */

/* Closes October 2026 (or reads its close): how many sellers it published
 * at level in the first programme. */
static uint32_t close_october(grading_client_t *c, int32_t level)
{
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    req.period = "2026-10";
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "ClosePeriod", &req.base,
                                         &grading__v1__close_period_response__descriptor, E2E_CALL_TIMEOUT_MS, &out,
                                         &res),
                     GRADING_OK);
    if (res.status != GRPC_STATUS_OK) fail_msg("ClosePeriod: %s %s", grading_status_name(res.status), res.details);
    grading_call_result_destroy(&res);
    const Grading__V1__ClosePeriodResponse *r = (const void *)out;
    uint32_t n = UINT32_MAX;
    for (size_t i = 0; i < r->n_distribution && n == UINT32_MAX; i++)
        if (strcmp(r->distribution[i]->program, r->distribution[0]->program) == 0 && r->distribution[i]->level == level)
            n = r->distribution[i]->sellers;
    protobuf_c_message_free_unpacked(out, NULL);
    return n;
}

/* The level GetGradeHistory shows for SELLER's month `period`; -1: none. */
static int32_t published_level(grading_client_t *c, const char *period)
{
    Grading__V1__GetGradeHistoryRequest req = GRADING__V1__GET_GRADE_HISTORY_REQUEST__INIT;
    req.seller_id = SELLER;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetGradeHistory", &req.base, &grading__v1__grade_history__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    grading_call_result_destroy(&res);
    const Grading__V1__GradeHistory *h = (const void *)out;
    int32_t level = -1;
    for (size_t i = 0; i < h->n_grades; i++)
        if (strcmp(h->grades[i]->period, period) == 0) level = h->grades[i]->grade->level;
    protobuf_c_message_free_unpacked(out, NULL);
    return level;
}

/* Audit entries of method naming period with detail containing text. */
static size_t audit_period_count(grading_client_t *c, const char *method, const char *period, const char *text)
{
    Grading__V1__ListAuditRequest req = GRADING__V1__LIST_AUDIT_REQUEST__INIT;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "ListAudit", &req.base, &grading__v1__list_audit_response__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &out, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    grading_call_result_destroy(&res);
    const Grading__V1__ListAuditResponse *r = (const void *)out;
    size_t n = 0;
    for (size_t i = 0; i < r->n_entries; i++)
        n += strcmp(r->entries[i]->method, method) == 0 && strcmp(r->entries[i]->period, period) == 0 &&
             strstr(r->entries[i]->detail, text) != NULL;
    protobuf_c_message_free_unpacked(out, NULL);
    return n;
}

/* October closed with ap at Silver (2). reopen: true publishes October
 * again at Gold when its cancel is excluded, and Silver again on restore,
 * with an audit entry naming the period each time; the same appeal again
 * reopens nothing. */
static void test_reopen_closed_publishes_the_closed_period_again(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new((const char *const[]){"--test-clock", CLOCK, NULL});
    use_policy_appeals(s->dir, "{max_per_order: 2, reopen_closed: true}", "");
    e2e_server_start(s);
    grading_client_t *c = s->client;
    seed(c);
    assert_int_equal(close_october(c, 2), 1);
    assert_int_equal(published_level(c, "2026-10"), 2);

    appeal_t a = {.orders = {"o0"}, .metrics = {"cancels_seller_fault"}, .reason = "carrier_strike"};
    Grading__V1__ExcludeEventsResponse *r = appeal_ok(c, false, &a);
    assert_true(r->changed);
    assert_int_equal(r->n_reopened_periods, 1);
    assert_string_equal(r->reopened_periods[0], "2026-10");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(published_level(c, "2026-10"), 1);
    assert_int_equal(live_level(c), 1);
    /* the close's distribution moved with the seller */
    assert_int_equal(close_october(c, 1), 1);
    assert_int_equal(close_october(c, 2), 0);
    assert_int_equal(audit_period_count(c, "ExcludeEvents", "2026-10", "reopened seller=ap month: "), 1);
    assert_int_equal(audit_period_count(c, "ExcludeEvents", "2026-10", "2->1"), 1);

    /* the same again: nothing changes, nothing reopens */
    r = appeal_ok(c, false, &a);
    assert_false(r->changed);
    assert_int_equal(r->n_reopened_periods, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(audit_period_count(c, "ExcludeEvents", "2026-10", "reopened"), 1);

    /* a refused appeal reopens nothing */
    appeal_t bad = a;
    bad.orders[1] = "no-such-order";
    refused(c, true, &bad, GRPC_STATUS_NOT_FOUND, "order_ids[1]");
    assert_int_equal(published_level(c, "2026-10"), 1);

    /* restore: October back to Silver */
    r = appeal_ok(c, true, &a);
    assert_true(r->changed);
    assert_int_equal(r->n_reopened_periods, 1);
    assert_string_equal(r->reopened_periods[0], "2026-10");
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(published_level(c, "2026-10"), 2);
    assert_int_equal(live_level(c), 2);
    assert_int_equal(close_october(c, 2), 1);
    assert_int_equal(close_october(c, 1), 0);
    assert_int_equal(audit_period_count(c, "RestoreEvents", "2026-10", "1->2"), 1);

    /* it survives a restart */
    e2e_server_stop_ok(s);
    e2e_server_restart(s);
    assert_int_equal(published_level(s->client, "2026-10"), 2);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* Without reopen_closed (the default) the published October stays Silver
 * while the live grade moves to Gold. */
static void test_closed_period_stays_without_reopen_closed(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new((const char *const[]){"--test-clock", CLOCK, NULL});
    use_policy_appeals(s->dir, "{max_per_order: 2, reopen_closed: false}", "");
    e2e_server_start(s);
    grading_client_t *c = s->client;
    seed(c);
    assert_int_equal(close_october(c, 2), 1);
    assert_int_equal(published_level(c, "2026-10"), 2);
    appeal_t a = {.orders = {"o0"}, .metrics = {"cancels_seller_fault"}, .reason = "carrier_strike"};
    Grading__V1__ExcludeEventsResponse *r = appeal_ok(c, false, &a);
    assert_true(r->changed);
    assert_int_equal(r->n_reopened_periods, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    assert_int_equal(live_level(c), 1);
    assert_int_equal(published_level(c, "2026-10"), 2);
    assert_int_equal(close_october(c, 2), 1);
    assert_int_equal(audit_period_count(c, "ExcludeEvents", "2026-10", "reopened"), 0);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* An exemption shipped in the policy file: declared by the refresh at
 * start (stored as policy.ID), it exempts the orders paid in range; an RPC
 * cannot take that prefix. */
static void test_policy_file_exemption_is_declared_at_start(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new((const char *const[]){"--test-clock", CLOCK, NULL});
    use_policy_with(s->dir, "    exemptions:\n"
                            "      - {id: storm, from: 2026-10-09, to: 2026-10-11, metrics: [cancels_seller_fault],\n"
                            "         reason: typhoon}\n");
    e2e_server_start(s);
    grading_client_t *c = s->client;
    size_t n = 0;
    for (int tries = 0; tries < 100 && (n = list_count(c)) == 0; tries++) e2e_sleep_ms(100);
    assert_int_equal(n, 1);
    seed_seller(c, "ex1", "2026-10-10T03:00:00Z", 11, 1, "p");
    assert_float_equal(rate_of(c, "ex1", false), 0, 1e-9);
    assert_float_equal(rate_of(c, "ex1", true), 1.0 / 11, 1e-9);
    char d[512];
    assert_int_equal(declare(c, "policy.mine", "2026-10-09", "2026-10-11", "all", NULL, d, sizeof d),
                     GRPC_STATUS_INVALID_ARGUMENT);
    e2e_assert_contains(d, "id:");
    assert_int_equal(revoke(c, "policy.storm", NULL, d, sizeof d), GRPC_STATUS_OK);   /* until the next reload */
    assert_float_equal(rate_of(c, "ex1", false), 1.0 / 11, 1e-9);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appeal_lifts_the_grade_restore_drops_it_bad_input_changes_nothing),
        cmocka_unit_test(test_exemption_regrades_exactly_the_sellers_it_touches_and_later_orders),
        cmocka_unit_test(test_policy_file_exemption_is_declared_at_start),
        cmocka_unit_test(test_reopen_closed_publishes_the_closed_period_again),
        cmocka_unit_test(test_closed_period_stays_without_reopen_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
