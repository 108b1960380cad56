/* End-to-end: EvaluatePolicy (what-if) and `gradectl policy diff`.
 *
 * A scenario population of testmart (tests/e2e/policy.yaml) and a
 * candidate that moves one threshold (Gold from 10 orders in 30 days to
 * 5) give exactly the expected transition matrix, boost / ad-credit
 * changes and totals. An invalid candidate is INVALID_ARGUMENT naming
 * file:line:col. Neither writes anything: the change log's head (where a
 * WatchGradeChanges from now starts) and the sellers' grades are as
 * before. The same candidate as --shadow-policy: every derive compares it
 * with the live policy (disagreements per programme in /metrics) and
 * GetGrade with explain shows its level beside the live one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "calls.h"
#include "events.h"
#include "grading/client.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define CLOCK "2026-11-02T00:00:00Z"
#define WHEN "2026-10-20T01:00:00Z"
#define GOLD_NOW "orders_30d >= 10"
#define GOLD_CANDIDATE "orders_30d >= 5"

/* seller, orders, of which cancelled by the seller */
static const struct {
    const char *seller;
    int orders, cancelled;
} population[] = {
    {"a", 12, 0},   /* Gold under both */
    {"b", 6, 0},    /* Silver now (under 10 orders), Gold under the candidate */
    {"c", 10, 4},   /* Bronze under both: 40 % cancelled (a warning, not a suspension) */
    {"d", 8, 0},    /* as b */
};

static void seed(grading_client_t *c)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    char id[64], oid[40];
    for (size_t p = 0; p < sizeof population / sizeof population[0]; p++)
        for (int i = 0; i < population[p].orders; i++) {
            snprintf(oid, sizeof oid, "%s-o%d", population[p].seller, i);
            snprintf(id, sizeof id, "%s-paid", oid);
            e2e_add_paid(&b, id, NULL, population[p].seller, WHEN, oid, 1000, "KRW", 2);
            snprintf(id, sizeof id, "%s-next", oid);
            if (i < population[p].cancelled)
                e2e_add_cancelled(&b, id, NULL, population[p].seller, WHEN, oid, GRADING__V1__FAULT__FAULT_SELLER,
                                  GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
            else
                e2e_add_shipped(&b, id, NULL, population[p].seller, WHEN, oid, true);
        }
    e2e_record_ok(c, b.ev, b.n, (uint32_t)b.n, 0);
    e2e_batch_destroy(&b);
}

/* The e2e policy with `from` replaced by `to` (once, which must exist). */
static char *policy_with(const char *from, const char *to)
{
    FILE *f = fopen(e2e_env("GRADING_POLICY"), "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, from);
    assert_non_null(at);
    char *out = calloc(1, n + strlen(to) + 1);
    assert_non_null(out);
    memcpy(out, text, (size_t)(at - text));
    strcat(out, to);
    strcat(out, at + strlen(from));
    free(text);
    return out;
}

static Grading__V1__EvaluatePolicyResponse *evaluate(grading_client_t *c, const char *policy, grpc_status_code want,
                                                     char *details, size_t dlen)
{
    Grading__V1__EvaluatePolicyRequest req = GRADING__V1__EVALUATE_POLICY_REQUEST__INIT;
    req.policy = (char *)policy;
    req.policy_name = "cand.yaml";
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "EvaluatePolicy", &req.base,
                                         &grading__v1__evaluate_policy_response__descriptor, 60000, &out, &res),
                     GRADING_OK);
    if (res.status != want) fail_msg("EvaluatePolicy: %s %s", grading_status_name(res.status), res.details);
    if (details) snprintf(details, dlen, "%s", res.details ? res.details : "");
    grading_call_result_destroy(&res);
    return (Grading__V1__EvaluatePolicyResponse *)out;
}

/* The change log's head: the token a WatchGradeChanges from now starts at. */
static char *log_head(const e2e_server_t *s)
{
    grading_client_t *c = e2e_client_new(s);
    assert_non_null(c);
    Grading__V1__WatchGradeChangesRequest req = GRADING__V1__WATCH_GRADE_CHANGES_REQUEST__INIT;
    grading_client_stream_t *st = NULL;
    assert_int_equal(grading_client_stream_open(c, SVC "WatchGradeChanges", &req.base, &st), GRADING_OK);
    ProtobufCMessage *m = NULL;
    bool timed_out;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_stream_next(st, &grading__v1__watch_grade_changes_response__descriptor, 30000,
                                                &m, &timed_out, &res),
                     GRADING_OK);
    assert_non_null(m);
    char *token = strdup(((const Grading__V1__WatchGradeChangesResponse *)m)->token);
    protobuf_c_message_free_unpacked(m, NULL);
    grading_client_stream_free(st);
    grading_client_free(c);
    return token;
}

static uint64_t cell(const Grading__V1__ProgramTransitions *p, int32_t from, int32_t to)
{
    for (size_t i = 0; i < p->n_transitions; i++)
        if (p->transitions[i]->from_level == from && p->transitions[i]->to_level == to) return p->transitions[i]->sellers;
    return 0;
}

static void test_moving_one_threshold_gives_exactly_the_expected_matrix(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_start_new((const char *const[]){"--test-clock", CLOCK, NULL});
    seed(s->client);
    assert_int_equal(e2e_live_level(s->client, "b"), 2);
    char *head = log_head(s);
    char *cand = policy_with(GOLD_NOW, GOLD_CANDIDATE);
    Grading__V1__EvaluatePolicyResponse *r = evaluate(s->client, cand, GRPC_STATUS_OK, NULL, 0);
    assert_string_equal(r->marketplace, "testmart");
    assert_int_equal(r->sellers, 4);
    assert_string_not_equal(r->current_version, r->candidate_version);
    assert_int_equal(r->n_programs, 1);
    const Grading__V1__ProgramTransitions *q = r->programs[0];
    assert_string_equal(q->program, "quality");
    /* exactly: Gold stays Gold (a), Silver -> Gold (b, d), Bronze stays (c) */
    assert_int_equal(q->n_transitions, 3);
    assert_int_equal(cell(q, 1, 1), 1);
    assert_int_equal(cell(q, 2, 1), 2);
    assert_int_equal(cell(q, 3, 3), 1);
    assert_int_equal(r->boost_changed->sellers, 2);
    assert_int_equal(r->boost_changed->n_seller_ids, 2);
    assert_string_equal(r->boost_changed->seller_ids[0], "b");
    assert_string_equal(r->boost_changed->seller_ids[1], "d");
    assert_int_equal(r->suspension_changed->sellers, 0);
    assert_int_equal(r->ad_credit_changed->sellers, 2);
    assert_int_equal(r->ad_credit_before, 1000);
    assert_int_equal(r->ad_credit_after, 3000);
    assert_string_equal(r->currency, "KRW");
    assert_true(fabs(r->mean_boost_before - (1.3 + 1.0 + 1.0 + 1.0) / 4) < 1e-9);
    assert_true(fabs(r->mean_boost_after - (1.3 + 1.3 + 1.0 + 1.3) / 4) < 1e-9);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* the same policy as the current one: every seller stays, nothing changes */
    char *same = policy_with(GOLD_NOW, GOLD_NOW);
    r = evaluate(s->client, same, GRPC_STATUS_OK, NULL, 0);
    assert_string_equal(r->current_version, r->candidate_version);
    assert_int_equal(cell(r->programs[0], 1, 1), 1);
    assert_int_equal(cell(r->programs[0], 2, 2), 2);
    assert_int_equal(cell(r->programs[0], 3, 3), 1);
    assert_int_equal(r->boost_changed->sellers + r->ad_credit_changed->sellers + r->suspension_changed->sellers, 0);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    /* gradectl policy diff prints the table and the money lines */
    char path[E2E_PATH_MAX];
    e2e_write_file(s->dir, "cand.yaml", cand, path);
    e2e_run_t run;
    e2e_gradectl(s, &run, "policy", "diff", path, NULL);
    assert_int_equal(run.code, 0);
    e2e_assert_contains(run.out, "quality");
    e2e_assert_contains(run.out, "50.0%");   /* 2 of 4 sellers move from 2 to 1 */
    e2e_assert_contains(run.out, "##");
    e2e_assert_contains(run.out, "boost changes          2  (b d)");
    e2e_assert_contains(run.out, "ad credit total        1000 -> 3000 KRW");
    e2e_run_destroy(&run);

    /* nothing was written: the log's head and b's grade are as before */
    char *after = log_head(s);
    assert_string_equal(after, head);
    assert_int_equal(e2e_live_level(s->client, "b"), 2);
    free(after);
    free(head);
    free(cand);
    free(same);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

static void test_invalid_candidate_is_invalid_argument_with_file_line_col_and_changes_nothing(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_start_new((const char *const[]){"--test-clock", CLOCK, NULL});
    seed(s->client);
    char *head = log_head(s);
    char *bad = policy_with(GOLD_NOW, "orders_30d >= ");
    char details[512];
    Grading__V1__EvaluatePolicyResponse *r = evaluate(s->client, bad, GRPC_STATUS_INVALID_ARGUMENT, details,
                                                      sizeof details);
    assert_null(r);
    /* cand.yaml:LINE:COL */
    const char *at = strstr(details, "cand.yaml:");
    if (!at) fail_msg("no file:line:col in \"%s\"", details);
    at += strlen("cand.yaml:");
    assert_true(isdigit((unsigned char)at[0]));
    while (isdigit((unsigned char)*at)) at++;
    assert_true(at[0] == ':' && isdigit((unsigned char)at[1]));
    /* an unknown marketplace and an empty candidate are named too */
    evaluate(s->client, "", GRPC_STATUS_INVALID_ARGUMENT, details, sizeof details);
    e2e_assert_contains(details, "policy");
    char *after = log_head(s);
    assert_string_equal(after, head);
    assert_int_equal(e2e_live_level(s->client, "b"), 2);
    /* gradectl says the same and exits 1 */
    char path[E2E_PATH_MAX];
    e2e_write_file(s->dir, "bad.yaml", bad, path);
    e2e_run_t run;
    e2e_gradectl(s, &run, "policy", "diff", path, NULL);
    assert_int_equal(run.code, 1);
    e2e_assert_contains(run.err, "INVALID_ARGUMENT");
    e2e_assert_contains(run.err, "bad.yaml:");
    e2e_run_destroy(&run);
    free(after);
    free(head);
    free(bad);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

static void test_shadow_policy_counts_disagreements_and_explain_shows_its_level(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    char path[E2E_PATH_MAX];
    char *cand = policy_with(GOLD_NOW, GOLD_CANDIDATE);
    e2e_write_file(s->dir, "shadow.yaml", cand, path);
    s->extra[0] = "--test-clock";
    s->extra[1] = CLOCK;
    s->extra[2] = "--shadow-policy";
    s->extra[3] = path;
    s->extra[4] = NULL;
    e2e_server_start(s);
    seed(s->client);   /* one batch: each seller derived once */
    /* b and d are Gold under the shadow, Silver live; a and c agree */
    assert_true(e2e_scrape(s, "grading_shadow_derives_total{marketplace=\"testmart\",program=\"quality\"}") == 4);
    assert_true(e2e_scrape(s, "grading_shadow_disagreements_total{marketplace=\"testmart\",program=\"quality\"}") ==
                2);

    Grading__V1__GetGradeRequest req = GRADING__V1__GET_GRADE_REQUEST__INIT;
    req.seller_id = "b";
    req.explain = true;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(s->client, SVC "GetGrade", &req.base, &grading__v1__grade_report__descriptor,
                                         30000, &out, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    grading_call_result_destroy(&res);
    const Grading__V1__GradeReport *r = (const void *)out;
    assert_int_equal(r->programs[0]->live->level, 2);
    assert_non_null(r->programs[0]->shadow);
    assert_int_equal(r->programs[0]->shadow->level, 1);
    assert_string_not_equal(r->shadow_policy_version, "");
    assert_string_not_equal(r->shadow_policy_version, r->policy_version);
    protobuf_c_message_free_unpacked(out, NULL);
    /* gradectl grade --explain prints it beside the live level */
    e2e_run_t gr;
    e2e_gradectl(s, &gr, "grade", "b", "--explain", NULL);
    assert_int_equal(gr.code, 0);
    e2e_assert_contains(gr.out, "quality: level 2 (Silver); shadow policy: level 1 (Gold)");
    e2e_run_destroy(&gr);
    /* without explain: no shadow */
    req.explain = false;
    assert_int_equal(grading_client_call(s->client, SVC "GetGrade", &req.base, &grading__v1__grade_report__descriptor,
                                         30000, &out, &res),
                     GRADING_OK);
    grading_call_result_destroy(&res);
    assert_null(((const Grading__V1__GradeReport *)out)->programs[0]->shadow);
    protobuf_c_message_free_unpacked(out, NULL);

    /* a reload re-reads the shadow: now the same rules as the live policy,
     * so b's shadow level is its live one and new derives agree */
    char *same = policy_with(GOLD_NOW, GOLD_NOW);
    char tmp[E2E_PATH_MAX];
    e2e_write_file(s->dir, "shadow.yaml.new", same, tmp);
    assert_int_equal(rename(tmp, path), 0);
    e2e_server_signal(s, SIGHUP);
    req.explain = true;
    int32_t shadow_level = -1;
    for (int64_t deadline = e2e_now_ms() + 30000; shadow_level != 2 && e2e_now_ms() < deadline;) {
        assert_int_equal(grading_client_call(s->client, SVC "GetGrade", &req.base,
                                             &grading__v1__grade_report__descriptor, 30000, &out, &res),
                         GRADING_OK);
        grading_call_result_destroy(&res);
        r = (const void *)out;
        shadow_level = r->programs[0]->shadow ? r->programs[0]->shadow->level : -1;
        protobuf_c_message_free_unpacked(out, NULL);
        if (shadow_level != 2) e2e_sleep_ms(20);   /* polls the reload; bounded by the deadline */
    }
    assert_int_equal(shadow_level, 2);
    free(same);
    e2e_server_stop_ok(s);

    /* an invalid shadow file: gradingd refuses to start (exit 2), naming it */
    char *bad = policy_with(GOLD_NOW, "orders_30d >= ");
    e2e_write_file(s->dir, "bad-shadow.yaml", bad, path);
    const char *argv[] = {e2e_env("GRADINGD"), "--policy", e2e_env("GRADING_POLICY"), "--data-dir", s->data_dir,
                          "--listen", "127.0.0.1:0", "--admin-listen", "off", "--shadow-policy", path, NULL};
    e2e_run_t run;
    e2e_run(s->dir, argv, E2E_RUN_TIMEOUT_MS, &run);
    assert_true(run.exited);
    assert_int_equal(run.code, 2);
    e2e_assert_contains(run.err, "bad-shadow.yaml");
    e2e_run_destroy(&run);
    free(bad);
    free(cand);
    e2e_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moving_one_threshold_gives_exactly_the_expected_matrix),
        cmocka_unit_test(test_invalid_candidate_is_invalid_argument_with_file_line_col_and_changes_nothing),
        cmocka_unit_test(test_shadow_policy_counts_disagreements_and_explain_shows_its_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
