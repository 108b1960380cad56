/* End-to-end: per-caller authorization (--authz) over mTLS, bearer tokens
 * and trusted proxy headers.
 *
 * - each of the roles (writers, search, ad billing, settlement, the
 *   dashboard by token, an audit reader) calls every method: exactly its
 *   own are served, the rest get PERMISSION_DENIED naming the caller and
 *   the method; marketplace limits are checked against what each request
 *   names (the default marketplace for ""; every event of a batch), and a
 *   refused batch stores nothing;
 * - a certificate of the right CA that no caller matches: PERMISSION_DENIED
 *   naming it; no identity at all: UNAUTHENTICATED; health always served;
 * - a bearer token (by its SHA-256) and a wrong one;
 * - x-grading-client-cn / -uri-san headers count only with
 *   --trust-proxy-identity (and a loopback peer): else UNAUTHENTICATED;
 * - the file reloads when it changes; an invalid file is logged with
 *   file:line:col and the old one stays; an invalid file at start: exit 2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calls.h"
#include "events.h"
#include "testsrv.h"
#include "tls.h"

#define DASH_TOKEN "dash-token-0123"
#define RELOAD_TIMEOUT_MS 15000

typedef struct {
    const char *name;                   /* the caller in the file */
    grading_client_options_t conn;
    const char *allowed[4];             /* methods it may call */
} role_t;

static e2e_cert_t ca, srv, writers, search, ads, settlement, admin, stranger;
static char authz_path[E2E_PATH_MAX];

static void sha256_hex(const char *s, char *out)
{
    unsigned char md[32];
    unsigned len = 0;
    EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void write_authz(const char *dir, bool search_may_grade)
{
    char hex[65], text[4096];
    sha256_hex(DASH_TOKEN, hex);
    snprintf(text, sizeof text,
             "callers:\n"
             "  writers:\n"
             "    match: {uri_san: \"spiffe://shop/orders\"}\n"
             "    allow: [\"grading.v1.GradingService/RecordEvents\"]\n"
             "    marketplaces: [testmart, nymart]\n"
             "  search:\n"
             "    match: {uri_san: \"spiffe://shop/search\"}\n"
             "    allow: [\"grading.v1.GradingService/GetRankingBoosts\"%s]\n"
             "    marketplaces: [testmart]\n"
             "  ad-billing:\n"
             "    match: {cn: ad-billing}\n"
             "    allow: [\"grading.v1.GradingService/GetAdCreditEligibility\"]\n"
             "  settlement:\n"
             "    match: {uri_san: \"spiffe://shop/settlement\"}\n"
             "    allow: [\"grading.v1.GradingService/ClosePeriod\", \"grading.v1.GradingService/GetSettlementTerms\",\n"
             "            \"grading.v1.GradingService/GetGradeHistory\"]\n"
             "  dashboard:\n"
             "    match: {token_sha256: \"%s\"}\n"
             "    allow: [\"grading.v1.GradingService/Get*\", \"grading.v1.GradingService/ListMetricEvents\"]\n"
             "  ops-admin:\n"
             "    match: {cn: grading-admin}\n"
             "    allow: [\"grading.v1.GradingService/ListAudit\", \"grading.v1.GradingService/ListExemptions\"]\n",
             search_may_grade ? ", \"grading.v1.GradingService/GetGrade\"" : "", hex);
    /* replaced whole, the way an editor or a ConfigMap update does */
    char tmp[E2E_PATH_MAX];
    e2e_write_file(dir, "authz.yaml.tmp", text, tmp);
    snprintf(authz_path, sizeof authz_path, "%s/authz.yaml", dir);
    if (rename(tmp, authz_path) != 0) fail_msg("rename %s", tmp);
}

static void make_certs(const char *dir)
{
    e2e_ca_make(dir, "ca", &ca);
    e2e_server_cert_make(dir, "srv", &ca, &srv);
    e2e_cert_make(dir, "writers", &ca, "order-service", "URI:spiffe://shop/orders", false, &writers);
    e2e_cert_make(dir, "search", &ca, "ranker", "URI:spiffe://shop/search", false, &search);
    e2e_cert_make(dir, "ads", &ca, "ad-billing", NULL, false, &ads);
    e2e_cert_make(dir, "settlement", &ca, "scheduler", "URI:spiffe://shop/settlement", false, &settlement);
    e2e_cert_make(dir, "admin", &ca, "grading-admin", NULL, false, &admin);
    e2e_cert_make(dir, "stranger", &ca, "stranger", "URI:spiffe://shop/unknown", false, &stranger);
}

static bool in(const char *const *list, const char *s)
{
    for (size_t i = 0; i < 4 && list[i]; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

/* Every method as role r on the default marketplace: its own served, the
 * others PERMISSION_DENIED naming r and the method. */
static void check_role(const e2e_server_t *s, const role_t *r)
{
    grading_client_t *c = e2e_client_with(s->addr, &r->conn);
    char details[512], want[256];
    for (size_t m = 0; m < e2e_method_count; m++) {
        const char *method = e2e_methods[m];
        grpc_status_code st = e2e_call_method(c, method, "", details, sizeof details);
        if (in(r->allowed, method)) {
            if (st != GRPC_STATUS_OK)
                fail_msg("%s calling %s: expected OK, got %s: %s", r->name, method, grading_status_name(st), details);
        } else {
            if (st != GRPC_STATUS_PERMISSION_DENIED)
                fail_msg("%s calling %s: expected PERMISSION_DENIED, got %s: %s", r->name, method,
                         grading_status_name(st), details);
            snprintf(want, sizeof want, "caller %s may not call grading.v1.GradingService/%s", r->name, method);
            e2e_assert_contains(details, want);
        }
    }
    grading_client_free(c);
}

static e2e_server_t *start_mtls(const char *extra_flag)
{
    e2e_server_t *s = e2e_server_new(NULL);
    make_certs(s->dir);
    write_authz(s->dir, true);
    const char *flags[] = {"--tls-cert", srv.pem, "--tls-key", srv.key, "--tls-client-ca", ca.pem,
                           "--authz", authz_path, extra_flag, NULL};
    for (size_t i = 0; flags[i]; i++) s->extra[i] = flags[i];
    s->conn = e2e_tls_options(&ca, &admin);
    e2e_server_start(s);
    return s;
}

static void test_roles(void **state)
{
    (void)state;
    e2e_server_t *s = start_mtls(NULL);
    const role_t roles[] = {
        {"writers", e2e_tls_options(&ca, &writers), {"RecordEvents"}},
        {"search", e2e_tls_options(&ca, &search), {"GetRankingBoosts", "GetGrade"}},
        {"ad-billing", e2e_tls_options(&ca, &ads), {"GetAdCreditEligibility"}},
        {"settlement", e2e_tls_options(&ca, &settlement), {"ClosePeriod", "GetSettlementTerms", "GetGradeHistory"}},
        {"ops-admin", e2e_tls_options(&ca, &admin), {"ListAudit", "ListExemptions"}},
    };
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) check_role(s, &roles[i]);

    /* the dashboard over mTLS with a certificate no caller matches, plus
     * its token: the token names it */
    role_t dash = {"dashboard", e2e_tls_options(&ca, &stranger),
                   {"GetSellerMetrics", "GetGrade", "GetPenaltyState", "GetRankingBoosts"}};
    dash.conn.bearer_token = DASH_TOKEN;
    grading_client_t *c = e2e_client_with(s->addr, &dash.conn);
    char details[512];
    static const char *const reads[] = {"GetSellerMetrics",       "GetGrade",           "GetPenaltyState",
                                        "GetRankingBoosts",       "GetAdCreditEligibility", "GetSettlementTerms",
                                        "GetGradeHistory",        "ListMetricEvents",   "GetGradeForecast"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
        if (e2e_call_method(c, reads[i], "", details, sizeof details) != GRPC_STATUS_OK)
            fail_msg("dashboard %s: %s", reads[i], details);
    assert_int_equal(e2e_call_method(c, "ClosePeriod", "", details, sizeof details), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(details, "caller dashboard may not call grading.v1.GradingService/ClosePeriod");
    assert_int_equal(e2e_call_method(c, "RecordEvents", "", details, sizeof details), GRPC_STATUS_PERMISSION_DENIED);
    assert_int_equal(e2e_call_method(c, "ListAudit", "", details, sizeof details), GRPC_STATUS_PERMISSION_DENIED);
    grading_client_free(c);

    /* a good certificate no caller matches: denied, named by its SAN */
    grading_client_options_t o = e2e_tls_options(&ca, &stranger);
    c = e2e_client_with(s->addr, &o);
    assert_int_equal(e2e_call_method(c, "GetGrade", "", details, sizeof details), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(details, "uri_san:spiffe://shop/unknown");
    e2e_assert_contains(details, "grading.v1.GradingService/GetGrade");
    assert_int_equal(e2e_health(c, 5000), E2E_SERVING);   /* health needs no caller */
    grading_client_free(c);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

static void test_marketplaces(void **state)
{
    (void)state;
    e2e_server_t *s = start_mtls(NULL);
    grading_client_options_t so = e2e_tls_options(&ca, &search), wo = e2e_tls_options(&ca, &writers);
    grading_client_t *sc = e2e_client_with(s->addr, &so), *wc = e2e_client_with(s->addr, &wo);
    char details[512];
    /* search: testmart (and "" = testmart, the default) only */
    assert_int_equal(e2e_call_method(sc, "GetGrade", "testmart", details, sizeof details), GRPC_STATUS_OK);
    assert_int_equal(e2e_call_method(sc, "GetGrade", "", details, sizeof details), GRPC_STATUS_OK);
    assert_int_equal(e2e_call_method(sc, "GetGrade", "nymart", details, sizeof details), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(details, "caller search may not call grading.v1.GradingService/GetGrade for marketplace \"nymart\"");
    assert_int_equal(e2e_call_method(sc, "GetRankingBoosts", "jpmart", details, sizeof details),
                     GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(details, "\"jpmart\"");

    /* writers: testmart and nymart; a batch with one jpmart event is
     * refused whole and stores nothing */
    assert_int_equal(e2e_call_method(wc, "RecordEvents", "nymart", details, sizeof details), GRPC_STATUS_OK);
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_paid(&b, "mp-ok-1", "testmart", "mp-seller", "2026-10-05T00:00:00Z", "o1", 1000, "KRW", 2);
    e2e_add_paid(&b, "mp-bad-2", "jpmart", "mp-seller", "2026-10-05T00:00:00Z", "o2", 1000, "JPY", 2);
    e2e_reply_t r = {0};
    assert_int_equal(e2e_record(wc, b.ev, b.n, E2E_RECORD_TIMEOUT_MS, &r), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(r.details, "caller writers may not call grading.v1.GradingService/RecordEvents for marketplace \"jpmart\"");
    /* nothing of it was stored: the allowed event alone is new */
    e2e_record_ok(wc, b.ev, 1, 1, 0);
    e2e_batch_destroy(&b);
    grading_client_free(sc);
    grading_client_free(wc);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* A plaintext loopback server with the authz file; trust: add the flag. */
static e2e_server_t *start_plain(bool trust)
{
    e2e_server_t *s = e2e_server_new(NULL);
    write_authz(s->dir, true);
    s->extra[0] = "--authz";
    s->extra[1] = authz_path;
    s->extra[2] = trust ? "--trust-proxy-identity" : NULL;
    e2e_server_start(s);
    return s;
}

static grpc_status_code call_as(const e2e_server_t *s, const grading_client_options_t *o, const char *method,
                                 char *details, size_t len)
{
    grading_client_t *c = e2e_client_with(s->addr, o);
    grpc_status_code st = e2e_call_method(c, method, "", details, len);
    grading_client_free(c);
    return st;
}

static void test_token_and_proxy_headers(void **state)
{
    (void)state;
    e2e_server_t *s = start_plain(true);
    char d[512];
    grading_client_options_t none = {0}, token = {.bearer_token = DASH_TOKEN}, wrong = {.bearer_token = "nope"};
    assert_int_equal(call_as(s, &none, "GetGrade", d, sizeof d), GRPC_STATUS_UNAUTHENTICATED);
    e2e_assert_contains(d, "no caller identity");
    assert_int_equal(e2e_health(s->client, 5000), E2E_SERVING);
    assert_int_equal(call_as(s, &token, "GetGrade", d, sizeof d), GRPC_STATUS_OK);
    assert_int_equal(call_as(s, &token, "ClosePeriod", d, sizeof d), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(d, "caller dashboard may not call");
    assert_int_equal(call_as(s, &wrong, "GetGrade", d, sizeof d), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(d, "token_sha256:");

    /* gradectl: --token, GRADING_TOKEN, neither */
    e2e_run_t run = {0};
    s->conn.bearer_token = DASH_TOKEN;   /* e2e_gradectl passes it as --token */
    e2e_gradectl(s, &run, "grade", "authz-seller", NULL);
    if (run.code != 0) fail_msg("gradectl --token grade: %s", run.err);
    e2e_run_destroy(&run);
    s->conn.bearer_token = NULL;
    setenv("GRADING_TOKEN", DASH_TOKEN, 1);
    e2e_gradectl(s, &run, "grade", "authz-seller", NULL);
    unsetenv("GRADING_TOKEN");
    if (run.code != 0) fail_msg("GRADING_TOKEN gradectl grade: %s", run.err);
    e2e_run_destroy(&run);
    e2e_gradectl(s, &run, "grade", "authz-seller", NULL);
    assert_int_equal(run.code, 1);
    e2e_assert_contains(run.err, "UNAUTHENTICATED: no caller identity");
    e2e_run_destroy(&run);

    /* the edge proxy's headers, from a loopback peer, with the flag */
    grading_client_options_t by_uri = {.headers = (const char *[]){"x-grading-client-uri-san",
                                                                  "spiffe://shop/search", NULL}},
                             by_cn = {.headers = (const char *[]){"x-grading-client-cn", "ad-billing", NULL}};
    assert_int_equal(call_as(s, &by_uri, "GetGrade", d, sizeof d), GRPC_STATUS_OK);
    assert_int_equal(call_as(s, &by_uri, "GetSellerMetrics", d, sizeof d), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(d, "caller search may not call grading.v1.GradingService/GetSellerMetrics");
    assert_int_equal(call_as(s, &by_cn, "GetAdCreditEligibility", d, sizeof d), GRPC_STATUS_OK);
    assert_int_equal(call_as(s, &by_cn, "GetGrade", d, sizeof d), GRPC_STATUS_PERMISSION_DENIED);
    /* the proxy's word is the whole identity: a token beside it does not add */
    grading_client_options_t both = by_cn;
    both.bearer_token = DASH_TOKEN;
    assert_int_equal(call_as(s, &both, "GetGrade", d, sizeof d), GRPC_STATUS_PERMISSION_DENIED);
    e2e_assert_contains(d, "caller ad-billing may not call");
    e2e_server_stop_ok(s);
    e2e_server_free(s);

    /* without --trust-proxy-identity the same headers are nobody */
    s = start_plain(false);
    assert_int_equal(call_as(s, &by_uri, "GetGrade", d, sizeof d), GRPC_STATUS_UNAUTHENTICATED);
    assert_int_equal(call_as(s, &by_cn, "GetAdCreditEligibility", d, sizeof d), GRPC_STATUS_UNAUTHENTICATED);
    assert_int_equal(call_as(s, &token, "GetGrade", d, sizeof d), GRPC_STATUS_OK);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

static bool log_contains(const e2e_server_t *s, const char *needle)
{
    FILE *f = fopen(s->log_path, "r");
    if (!f) return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static void test_reload(void **state)
{
    (void)state;
    e2e_server_t *s = start_plain(true);
    char d[512];
    grading_client_options_t by_uri = {.headers = (const char *[]){"x-grading-client-uri-san",
                                                                  "spiffe://shop/search", NULL}};
    assert_int_equal(call_as(s, &by_uri, "GetGrade", d, sizeof d), GRPC_STATUS_OK);

    /* the file changes: search loses GetGrade (no signal: the watch) */
    write_authz(s->dir, false);
    int64_t deadline = e2e_now_ms() + RELOAD_TIMEOUT_MS;
    grpc_status_code st = GRPC_STATUS_OK;
    while (e2e_now_ms() < deadline && (st = call_as(s, &by_uri, "GetGrade", d, sizeof d)) == GRPC_STATUS_OK)
        e2e_sleep_ms(50);
    assert_int_equal(st, GRPC_STATUS_PERMISSION_DENIED);
    assert_true(log_contains(s, "authz file changed: authz file"));
    assert_int_equal(call_as(s, &by_uri, "GetRankingBoosts", d, sizeof d), GRPC_STATUS_OK);

    /* an invalid file: logged with file:line:col, the current one stays */
    char bad[E2E_PATH_MAX], where[E2E_PATH_MAX + 128];
    e2e_write_file(s->dir, "authz.bad", "callers:\n  search:\n    match: {cn: x}\n    allow: [GetGrade]\n", bad);
    if (rename(bad, authz_path) != 0) fail_msg("rename");
    kill(s->pid, SIGHUP);
    snprintf(where, sizeof where, "authz: %s:4:13: callers.search.allow: \"GetGrade\" is not a full method name",
             authz_path);
    deadline = e2e_now_ms() + RELOAD_TIMEOUT_MS;
    while (e2e_now_ms() < deadline && !log_contains(s, where)) e2e_sleep_ms(50);
    if (!log_contains(s, where)) {
        e2e_server_dump_log(s);
        fail_msg("no log line %s", where);
    }
    assert_true(log_contains(s, "rejected, keeping the current one"));
    assert_int_equal(call_as(s, &by_uri, "GetRankingBoosts", d, sizeof d), GRPC_STATUS_OK);
    assert_int_equal(call_as(s, &by_uri, "GetGrade", d, sizeof d), GRPC_STATUS_PERMISSION_DENIED);
    e2e_server_stop_ok(s);

    /* started with the invalid file: exit 2, the problem named */
    e2e_run_t r = {0};
    const char *argv[] = {e2e_env("GRADINGD"), "--listen", "127.0.0.1:0", "--port-file", s->port_file,
                          "--data-dir", s->data_dir, "--policy", e2e_env("GRADING_POLICY"), "--authz", authz_path,
                          NULL};
    e2e_run(s->dir, argv, 10000, &r);
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_assert_contains(r.err, where);
    e2e_run_destroy(&r);
    e2e_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_marketplaces),
        cmocka_unit_test(test_token_and_proxy_headers),
        cmocka_unit_test(test_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
