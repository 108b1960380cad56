/* Calling any method by name (calls.h). */
#include "calls.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "events.h"
#include "testsrv.h"
#include "grading/v1/grading.pb-c.h"

const char *const e2e_methods[] = {"RecordEvents",    "GetSellerMetrics",       "GetGrade",
                                   "GetPenaltyState", "GetRankingBoosts",       "GetAdCreditEligibility",
                                   "GetSettlementTerms", "ClosePeriod",         "GetGradeHistory",
                                   "ListAudit",       "ListMetricEvents",       "GetGradeForecast",
                                   /* issue 15: appeals and exemptions */
                                   "ExcludeEvents",   "RestoreEvents",          "DeclareExemption",
                                   "RevokeExemption", "ListExemptions"};
const size_t e2e_method_count = sizeof e2e_methods / sizeof e2e_methods[0];

grading_client_t *e2e_client_with(const char *addr, const grading_client_options_t *o)
{
    grading_client_t *c = NULL;
    grading_error_t e = {0};
    if (grading_client_new_opts(addr, o, &c, &e)) fail_msg("client for %s: %s: %s", addr, e.field, e.message);
    return c;
}

grpc_status_code e2e_call_method(grading_client_t *c, const char *method, const char *mp, char *details,
                                 size_t len)
{
    static unsigned next_id;
    char path[128], id[64];
    char *seller = "authz-seller";
    char *ids[] = {seller};
    const ProtobufCMessage *req = NULL;
    const ProtobufCMessageDescriptor *resp = NULL;
    e2e_batch_t b;
    e2e_batch_init(&b);
    Grading__V1__RecordEventsRequest rec = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    Grading__V1__GetSellerMetricsRequest met = GRADING__V1__GET_SELLER_METRICS_REQUEST__INIT;
    Grading__V1__GetGradeRequest gr = GRADING__V1__GET_GRADE_REQUEST__INIT;
    Grading__V1__GetPenaltyStateRequest pen = GRADING__V1__GET_PENALTY_STATE_REQUEST__INIT;
    Grading__V1__GetRankingBoostsRequest boo = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    Grading__V1__GetAdCreditEligibilityRequest ads = GRADING__V1__GET_AD_CREDIT_ELIGIBILITY_REQUEST__INIT;
    Grading__V1__GetSettlementTermsRequest set = GRADING__V1__GET_SETTLEMENT_TERMS_REQUEST__INIT;
    Grading__V1__ClosePeriodRequest clo = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    Grading__V1__GetGradeHistoryRequest his = GRADING__V1__GET_GRADE_HISTORY_REQUEST__INIT;
    Grading__V1__ListAuditRequest aud = GRADING__V1__LIST_AUDIT_REQUEST__INIT;
    Grading__V1__ListMetricEventsRequest evi = GRADING__V1__LIST_METRIC_EVENTS_REQUEST__INIT;
    Grading__V1__GetGradeForecastRequest fc = GRADING__V1__GET_GRADE_FORECAST_REQUEST__INIT;
    Grading__V1__ExcludeEventsRequest exc = GRADING__V1__EXCLUDE_EVENTS_REQUEST__INIT;
    Grading__V1__RestoreEventsRequest rst = GRADING__V1__RESTORE_EVENTS_REQUEST__INIT;
    Grading__V1__DeclareExemptionRequest dex = GRADING__V1__DECLARE_EXEMPTION_REQUEST__INIT;
    Grading__V1__RevokeExemptionRequest rex = GRADING__V1__REVOKE_EXEMPTION_REQUEST__INIT;
    Grading__V1__ListExemptionsRequest lex = GRADING__V1__LIST_EXEMPTIONS_REQUEST__INIT;
    char *m = (char *)mp;

    if (strcmp(method, "RecordEvents") == 0) {
        snprintf(id, sizeof id, "authz-ev-%u-%d", next_id++, (int)getpid());
        /* the currencies of tests/e2e/policy.yaml's marketplaces */
        const char *cur = strcmp(mp, "nymart") == 0 ? "USD" : strcmp(mp, "jpmart") == 0 ? "JPY" : "KRW";
        e2e_add_paid(&b, id, mp, seller, "2026-10-05T00:00:00Z", id, 1000, cur, 2);
        rec.events = b.ev;
        rec.n_events = b.n;
        req = &rec.base, resp = &grading__v1__record_events_response__descriptor;
    } else if (strcmp(method, "GetSellerMetrics") == 0) {
        met.marketplace = m, met.seller_id = seller;
        req = &met.base, resp = &grading__v1__seller_metrics__descriptor;
    } else if (strcmp(method, "GetGrade") == 0) {
        gr.marketplace = m, gr.seller_id = seller;
        req = &gr.base, resp = &grading__v1__grade_report__descriptor;
    } else if (strcmp(method, "GetPenaltyState") == 0) {
        pen.marketplace = m, pen.seller_id = seller;
        req = &pen.base, resp = &grading__v1__penalty_state__descriptor;
    } else if (strcmp(method, "GetRankingBoosts") == 0) {
        boo.marketplace = m, boo.seller_ids = ids, boo.n_seller_ids = 1;
        req = &boo.base, resp = &grading__v1__get_ranking_boosts_response__descriptor;
    } else if (strcmp(method, "GetAdCreditEligibility") == 0) {
        ads.marketplace = m, ads.seller_id = seller;
        req = &ads.base, resp = &grading__v1__ad_credit_eligibility__descriptor;
    } else if (strcmp(method, "GetSettlementTerms") == 0) {
        set.marketplace = m, set.seller_id = seller;
        req = &set.base, resp = &grading__v1__settlement_terms__descriptor;
    } else if (strcmp(method, "ClosePeriod") == 0) {
        clo.marketplace = m, clo.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH, clo.period = "2026-10";
        clo.dry_run = true;
        req = &clo.base, resp = &grading__v1__close_period_response__descriptor;
    } else if (strcmp(method, "GetGradeHistory") == 0) {
        his.marketplace = m, his.seller_id = seller;
        req = &his.base, resp = &grading__v1__grade_history__descriptor;
    } else if (strcmp(method, "ListAudit") == 0) {
        req = &aud.base, resp = &grading__v1__list_audit_response__descriptor;
    } else if (strcmp(method, "ListMetricEvents") == 0) {
        evi.marketplace = m, evi.seller_id = seller, evi.metric = "orders";
        req = &evi.base, resp = &grading__v1__list_metric_events_response__descriptor;
    } else if (strcmp(method, "GetGradeForecast") == 0) {
        fc.marketplace = m, fc.seller_id = seller, fc.days = 3;
        req = &fc.base, resp = &grading__v1__grade_forecast__descriptor;
    } else if (strcmp(method, "ExcludeEvents") == 0) {   /* an unknown order: NOT_FOUND when allowed */
        exc.marketplace = m, exc.seller_id = seller;
        req = &exc.base, resp = &grading__v1__exclude_events_response__descriptor;
    } else if (strcmp(method, "RestoreEvents") == 0) {
        rst.marketplace = m, rst.seller_id = seller;
        req = &rst.base, resp = &grading__v1__restore_events_response__descriptor;
    } else if (strcmp(method, "DeclareExemption") == 0) {   /* no exemption: INVALID_ARGUMENT when allowed */
        req = &dex.base, resp = &grading__v1__declare_exemption_response__descriptor;
    } else if (strcmp(method, "RevokeExemption") == 0) {
        rex.marketplace = m, rex.id = "authz-none";
        req = &rex.base, resp = &grading__v1__revoke_exemption_response__descriptor;
    } else if (strcmp(method, "ListExemptions") == 0) {
        lex.marketplace = m;
        req = &lex.base, resp = &grading__v1__list_exemptions_response__descriptor;
    } else {
        snprintf(details, len, "no such method in the test: %s", method);
        return GRPC_STATUS_UNKNOWN;
    }
    snprintf(path, sizeof path, "/grading.v1.GradingService/%s", method);
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    grpc_status_code st = GRPC_STATUS_UNKNOWN;
    if (grading_client_call(c, path, req, resp, 20000, &out, &res) == GRADING_OK) st = res.status;
    snprintf(details, len, "%s", res.details ? res.details : "(no call)");
    if (out) protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
    e2e_batch_destroy(&b);
    return st;
}

int32_t e2e_live_level(grading_client_t *c, const char *seller)
{
    Grading__V1__GetGradeRequest req = GRADING__V1__GET_GRADE_REQUEST__INIT;
    req.seller_id = (char *)seller;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, "/grading.v1.GradingService/GetGrade", &req.base,
                                         &grading__v1__grade_report__descriptor, 30000, &out, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    grading_call_result_destroy(&res);
    const Grading__V1__GradeReport *r = (const void *)out;
    assert_true(r->n_programs >= 1);
    int32_t level = r->programs[0]->live->level;
    protobuf_c_message_free_unpacked(out, NULL);
    return level;
}

double e2e_boost_of(grading_client_t *c, const char *mp, const char *seller)
{
    char *ids[] = {(char *)seller};
    Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    req.marketplace = (char *)mp;
    req.seller_ids = ids;
    req.n_seller_ids = 1;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, "/grading.v1.GradingService/GetRankingBoosts", &req.base,
                                         &grading__v1__get_ranking_boosts_response__descriptor, E2E_CALL_TIMEOUT_MS, &out,
                                         &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    double b = ((Grading__V1__GetRankingBoostsResponse *)out)->boosts[0];
    protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
    return b;
}
