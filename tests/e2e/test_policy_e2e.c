/* End-to-end: the policy's answers over real gRPC, and policy reloads.
 *
 * Policy: tests/e2e/policy.yaml, marketplace testmart: programme `quality`
 * (Gold: >= 10 orders in 30 days and a seller-fault cancel rate < 5 %;
 * Silver: cancel rate < 20 %; Bronze otherwise; Silver for a new seller),
 * ladder `cancels` (stage 2 over 50 %: sales suspended, withdrawals held),
 * boost 1.3 for Gold, grant gold_ads, settlement fast (3 days) for Gold.
 *
 * The stored hot-path answer is derived as of the commit, so these events
 * are dated relative to the wall clock (yesterday), unlike the other e2e
 * tests; every assertion holds whatever today is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"

/* An RFC 3339 UTC time `hours_ago` hours before now. */
static const char *hours_ago(int hours, char *buf, size_t len)
{
    time_t t = time(NULL) - (time_t)hours * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* n orders paid a day ago and shipped; `cancelled` of them cancelled for
 * the seller's fault instead. */
static void record_orders(grading_client_t *c, const char *seller, int n, int cancelled)
{
    e2e_batch_t b;
    char when[32], ship[32], id[64], oid[32];
    e2e_batch_init(&b);
    hours_ago(30, when, sizeof when);
    hours_ago(26, ship, sizeof ship);
    for (int i = 0; i < n; i++) {
        snprintf(oid, sizeof oid, "%s-o%d", seller, i);
        snprintf(id, sizeof id, "%s-paid", oid);
        e2e_add_paid(&b, id, NULL, seller, when, oid, 10000, "KRW", 3);
        snprintf(id, sizeof id, "%s-next", oid);
        if (i < cancelled)
            e2e_add_cancelled(&b, id, NULL, seller, ship, oid, GRADING__V1__FAULT__FAULT_SELLER,
                              GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
        else
            e2e_add_shipped(&b, id, NULL, seller, ship, oid, true);
    }
    e2e_record_ok(c, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
}

static ProtobufCMessage *call(grading_client_t *c, const char *method, const ProtobufCMessage *req,
                              const ProtobufCMessageDescriptor *resp, grpc_status_code want,
                              const char *want_in_details)
{
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, method, req, resp, E2E_CALL_TIMEOUT_MS, &out, &res), GRADING_OK);
    if (res.status != want) fprintf(stderr, "%s: %s %s\n", method, grading_status_name(res.status), res.details);
    assert_int_equal(res.status, want);
    if (want_in_details) {
        if (!strstr(res.details, want_in_details)) fprintf(stderr, "details: %s\n", res.details);
        assert_non_null(strstr(res.details, want_in_details));
    }
    grading_call_result_destroy(&res);
    return out;
}

static Grading__V1__GradeReport *grade(grading_client_t *c, const char *seller, bool explain)
{
    Grading__V1__GetGradeRequest req = GRADING__V1__GET_GRADE_REQUEST__INIT;
    req.seller_id = (char *)seller;
    req.explain = explain;
    return (Grading__V1__GradeReport *)call(c, SVC "GetGrade", &req.base,
                                            &grading__v1__grade_report__descriptor, GRPC_STATUS_OK, NULL);
}

static Grading__V1__GetRankingBoostsResponse *boosts(grading_client_t *c, char **ids, size_t n)
{
    Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    req.seller_ids = ids;
    req.n_seller_ids = n;
    return (Grading__V1__GetRankingBoostsResponse *)call(
        c, SVC "GetRankingBoosts", &req.base, &grading__v1__get_ranking_boosts_response__descriptor,
        GRPC_STATUS_OK, NULL);
}

static void test_answers(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    record_orders(c, "gold", 12, 0);      /* 12 orders, no cancels: Gold */
    record_orders(c, "silver", 8, 0);     /* 8 orders (< 10), no cancels: Silver */
    record_orders(c, "bad", 10, 6);       /* 60 %: Bronze, suspended */

    /* GetGrade: live levels, labels, reasons, advice */
    Grading__V1__GradeReport *g = grade(c, "gold", false);
    assert_int_equal(g->n_programs, 1);
    assert_string_equal(g->programs[0]->program, "quality");
    assert_int_equal(g->programs[0]->live->level, 1);
    assert_string_equal(g->programs[0]->live->label, "Gold");
    assert_null(g->programs[0]->published);
    assert_int_equal(g->programs[0]->n_reasons, 0);   /* no explain */
    char version[32];
    snprintf(version, sizeof version, "%s", g->policy_version);
    assert_int_equal(strlen(version), 16);
    protobuf_c_message_free_unpacked(&g->base, NULL);

    g = grade(c, "silver", true);
    assert_int_equal(g->programs[0]->live->level, 2);
    assert_true(g->programs[0]->n_reasons >= 1);
    assert_non_null(strstr(g->programs[0]->reasons[0], "level 2"));
    /* two orders more would give Gold: the advice names orders_30d 8 -> 10 */
    bool advised = false;
    for (size_t i = 0; i < g->programs[0]->n_advice; i++) {
        Grading__V1__Advice *a = g->programs[0]->advice[i];
        if (strcmp(a->metric, "orders_30d") == 0) {
            advised = true;
            assert_true(a->current == 8);
            assert_true(a->target >= 10 && a->target < 10.0001);
        }
    }
    assert_true(advised);
    protobuf_c_message_free_unpacked(&g->base, NULL);

    g = grade(c, "nobody", false);   /* no events: the new-seller level */
    assert_int_equal(g->programs[0]->live->level, 2);
    protobuf_c_message_free_unpacked(&g->base, NULL);

    /* GetRankingBoosts: stored answers, neutral for the unknown */
    char *ids[] = {"gold", "bad", "nobody", "silver"};
    Grading__V1__GetRankingBoostsResponse *b = boosts(c, ids, 4);
    assert_int_equal(b->n_boosts, 4);
    assert_true(b->boosts[0] == 1.3);
    assert_true(b->boosts[1] == 0.0);
    assert_true(b->boosts[2] == 1.0);
    assert_true(b->boosts[3] == 1.0);
    assert_string_equal(b->policy_version, version);
    protobuf_c_message_free_unpacked(&b->base, NULL);

    /* GetPenaltyState: stage 2 with its restrictions */
    Grading__V1__GetPenaltyStateRequest pr = GRADING__V1__GET_PENALTY_STATE_REQUEST__INIT;
    pr.seller_id = "bad";
    Grading__V1__PenaltyState *p = (Grading__V1__PenaltyState *)call(
        c, SVC "GetPenaltyState", &pr.base, &grading__v1__penalty_state__descriptor, GRPC_STATUS_OK, NULL);
    assert_int_equal(p->n_penalties, 1);
    assert_string_equal(p->penalties[0]->ladder, "cancels");
    assert_int_equal(p->penalties[0]->stage, 2);
    assert_int_equal(p->penalties[0]->n_restrictions, 2);
    assert_int_equal(p->penalties[0]->restrictions[0]->kind, GRADING__V1__RESTRICTION_KIND__RESTRICTION_KIND_SALES_SUSPENDED);
    assert_int_equal(p->penalties[0]->restrictions[1]->kind, GRADING__V1__RESTRICTION_KIND__RESTRICTION_KIND_WITHDRAWALS_HELD);
    protobuf_c_message_free_unpacked(&p->base, NULL);

    /* GetAdCreditEligibility and GetSettlementTerms */
    Grading__V1__GetAdCreditEligibilityRequest ar = GRADING__V1__GET_AD_CREDIT_ELIGIBILITY_REQUEST__INIT;
    ar.seller_id = "gold";
    Grading__V1__AdCreditEligibility *ad = (Grading__V1__AdCreditEligibility *)call(
        c, SVC "GetAdCreditEligibility", &ar.base, &grading__v1__ad_credit_eligibility__descriptor,
        GRPC_STATUS_OK, NULL);
    assert_true(ad->eligible);
    assert_int_equal(ad->n_grants, 1);
    assert_string_equal(ad->grants[0]->program, "gold_ads");
    assert_int_equal(ad->grants[0]->amount, 1000);
    assert_string_equal(ad->grants[0]->currency, "KRW");
    protobuf_c_message_free_unpacked(&ad->base, NULL);

    Grading__V1__GetSettlementTermsRequest sr = GRADING__V1__GET_SETTLEMENT_TERMS_REQUEST__INIT;
    sr.seller_id = "bad";
    Grading__V1__SettlementTerms *t = (Grading__V1__SettlementTerms *)call(
        c, SVC "GetSettlementTerms", &sr.base, &grading__v1__settlement_terms__descriptor, GRPC_STATUS_OK, NULL);
    assert_true(t->withdrawals_held);
    assert_string_equal(t->tier, "standard");
    assert_int_equal(t->cycle_days, 10);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    sr.seller_id = "gold";
    t = (Grading__V1__SettlementTerms *)call(c, SVC "GetSettlementTerms", &sr.base,
                                             &grading__v1__settlement_terms__descriptor, GRPC_STATUS_OK, NULL);
    assert_false(t->withdrawals_held);
    assert_string_equal(t->tier, "fast");
    assert_int_equal(t->cycle_days, 3);
    protobuf_c_message_free_unpacked(&t->base, NULL);

    /* GetSellerMetrics lists the policy's metrics */
    Grading__V1__SellerMetrics *m = e2e_metrics(c, NULL, "bad", NULL);
    double v;
    assert_true(e2e_metric_find(m, "cancel_rate", "30d", &v));
    assert_true(v == 0.6);
    e2e_metrics_free(m);
}

static void test_bad_requests(void **state)
{
    e2e_server_t *s = *state;
    grading_client_t *c = s->client;
    /* more than 10,000 ids */
    size_t n = 10001;
    char **ids = calloc(n, sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i < n; i++) ids[i] = "x";
    Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    req.seller_ids = ids;
    req.n_seller_ids = n;
    call(c, SVC "GetRankingBoosts", &req.base, &grading__v1__get_ranking_boosts_response__descriptor,
         GRPC_STATUS_RESOURCE_EXHAUSTED, "at most 10000");
    /* an empty id at index 1 */
    ids[1] = "";
    req.n_seller_ids = 3;
    call(c, SVC "GetRankingBoosts", &req.base, &grading__v1__get_ranking_boosts_response__descriptor,
         GRPC_STATUS_INVALID_ARGUMENT, "seller_ids[1]");
    free(ids);
    /* unknown marketplace, missing seller */
    Grading__V1__GetGradeRequest g = GRADING__V1__GET_GRADE_REQUEST__INIT;
    g.seller_id = "s";
    g.marketplace = "nowhere";
    call(c, SVC "GetGrade", &g.base, &grading__v1__grade_report__descriptor, GRPC_STATUS_NOT_FOUND, "nowhere");
    g.marketplace = "";
    g.seller_id = "";
    call(c, SVC "GetGrade", &g.base, &grading__v1__grade_report__descriptor, GRPC_STATUS_INVALID_ARGUMENT,
         "seller_id");
}

/* ---- reloads ---- */

static const char *const GOOD_V2 =
    "version: 1\n"
    "default_marketplace: testmart\n"
    "marketplaces:\n"
    "  testmart:\n"
    "    time_zone: Asia/Seoul\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      orders_30d: {window: 30d, value: orders}\n"
    "    programs:\n"
    "      quality:\n"
    "        levels: [Gold, Silver]\n"
    "        grade: [{level: 1, when: \"orders_30d >= 1\"}]\n"
    "        otherwise: 2\n"
    "        new_seller: 2\n"
    "    benefits:\n"
    "      boost: \"quality.level == 1 ? %s : 1.0\"\n";

static char policy_path[E2E_PATH_MAX];

static void write_policy(e2e_server_t *s, const char *boost)
{
    char text[2048], tmp[E2E_PATH_MAX];
    snprintf(text, sizeof text, GOOD_V2, boost);
    /* write beside, then rename: what editors and config tools do */
    e2e_write_file(s->dir, "policy.yaml.new", text, tmp);
    assert_int_equal(rename(tmp, policy_path), 0);
}

static void version_of(grading_client_t *c, char *out)
{
    Grading__V1__GradeReport *g = grade(c, "r1", false);
    snprintf(out, 32, "%s", g->policy_version);
    protobuf_c_message_free_unpacked(&g->base, NULL);
}

/* Polls (bounded) until the policy version differs from `old`. */
static bool wait_version_change(grading_client_t *c, const char *old, char *now)
{
    for (int i = 0; i < 200; i++) {
        version_of(c, now);
        if (strcmp(now, old) != 0) return true;
        e2e_sleep_ms(25);
    }
    return false;
}

static bool wait_boost(grading_client_t *c, char *id, double want)
{
    for (int i = 0; i < 200; i++) {
        Grading__V1__GetRankingBoostsResponse *b = boosts(c, &id, 1);
        bool ok = b->boosts[0] == want;
        protobuf_c_message_free_unpacked(&b->base, NULL);
        if (ok) return true;
        e2e_sleep_ms(25);
    }
    return false;
}

static void test_reload(void **state)
{
    (void)state;
    static const char *extra[] = {"--policy", policy_path, NULL};
    e2e_server_t *s = e2e_server_new(extra);
    snprintf(policy_path, sizeof policy_path, "%s/policy.yaml", s->dir);
    write_policy(s, "1.5");
    e2e_server_start(s);
    grading_client_t *c = s->client;
    record_orders(c, "r1", 1, 0);
    char v1[32], v2[32], v3[32], v4[32];
    version_of(c, v1);
    assert_true(wait_boost(c, "r1", 1.5));

    /* the file changes: a valid policy is swapped in, and the stored boost
     * is re-derived in the background */
    write_policy(s, "1.7");
    assert_true(wait_version_change(c, v1, v2));
    assert_true(wait_boost(c, "r1", 1.7));

    /* an invalid file is logged and the old policy stays */
    char junk[E2E_PATH_MAX];
    e2e_write_file(s->dir, "policy.yaml.new", "version: 1\nmarketplaces: [\n", junk);
    assert_int_equal(rename(junk, policy_path), 0);
    e2e_sleep_ms(600);   /* past the 200 ms debounce */
    version_of(c, v3);
    assert_string_equal(v3, v2);
    assert_true(wait_boost(c, "r1", 1.7));

    /* SIGHUP reloads too (the file watch sees this rewrite as well; either
     * way the new version must be served) */
    write_policy(s, "1.9");
    e2e_server_signal(s, SIGHUP);
    assert_true(wait_version_change(c, v3, v4));
    assert_true(wait_boost(c, "r1", 1.9));
    e2e_server_stop_ok(s);
    /* the log says what happened */
    FILE *f = fopen(s->log_path, "r");
    assert_non_null(f);
    static char log[1 << 16];
    size_t n = fread(log, 1, sizeof log - 1, f);
    log[n] = 0;
    fclose(f);
    assert_non_null(strstr(log, "rejected, keeping the current one"));
    assert_non_null(strstr(log, "policy file changed"));
    e2e_server_free(s);
}

/* An invalid policy at start: exit 2 and every error on stderr. */
static void test_refuses_invalid_policy(void **state)
{
    (void)state;
    char dir[] = "/tmp/grading-e2e-pol-XXXXXX", path[E2E_PATH_MAX], data[E2E_PATH_MAX];
    assert_non_null(mkdtemp(dir));
    e2e_write_file(dir, "bad.yaml",
                   "version: 1\ndefault_marketplace: m\nmarketplaces:\n  m:\n    time_zone: UTC\n"
                   "    currency: KRW\n    metrics:\n      a: {window: 9d, value: ordrs}\n"
                   "    benefits:\n      boost: \"a > 1\"\n",
                   path);
    snprintf(data, sizeof data, "%s/data", dir);
    const char *argv[] = {e2e_env("GRADINGD"), "--policy", path, "--data-dir", data,
                          "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", NULL};
    e2e_run_t r;
    e2e_run(dir, argv, E2E_RUN_TIMEOUT_MS, &r);
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "bad.yaml:8:30: value: unknown name 'ordrs'"));
    assert_non_null(strstr(r.err, "bad.yaml:10:14: boost must be a number expression"));
    e2e_run_destroy(&r);
    e2e_rm_rf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answers, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_bad_requests, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_refuses_invalid_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
