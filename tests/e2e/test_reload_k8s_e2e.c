/* Policy reload as Kubernetes delivers a ConfigMap (issue 10). The
 * kubelet's atomic writer never touches the file the pod names: it writes
 * the new content into a fresh timestamped directory, points a
 * "..data_tmp" symlink at it and renames that over "..data"; the file is a
 * symlink through "..data". This test lays out a volume the same way and
 * swaps it the same way: a valid edit is served in place (no restart), an
 * invalid one keeps the old policy and shows in
 * grading_policy_reloads_total{result="invalid"} and the log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "grading/v1/grading.pb-c.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define RELOAD_TIMEOUT_MS 10000

static const char *const POLICY =
    "version: 1\n"
    "default_marketplace: kmart\n"
    "marketplaces:\n"
    "  kmart:\n"
    "    time_zone: Asia/Seoul\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      orders_30d: {window: 30d, value: orders}\n"
    "    programs:\n"
    "      quality:\n"
    "        levels: [Gold, Silver]\n"
    "        grade: [{level: 1, when: \"orders_30d >= %d\"}]\n"
    "        otherwise: 2\n"
    "        new_seller: 2\n";

static char volume[E2E_PATH_MAX / 2];     /* the ConfigMap's mount */
static char policy_path[E2E_PATH_MAX];   /* volume + "/policy.yaml" */
static char current[E2E_PATH_MAX];    /* the timestamped directory ..data points at */
static int generation;

/* One kubelet update: new directory, ..data_tmp -> it, rename over ..data,
 * old directory removed. text NULL: the policy with threshold. */
static void kubelet_write(const char *text, int threshold)
{
    char dir[E2E_PATH_MAX], name[64], file[E2E_PATH_MAX + 16], tmp_link[E2E_PATH_MAX], data[E2E_PATH_MAX];
    _Static_assert(sizeof volume + 64 < sizeof dir, "room for a name");
    snprintf(name, sizeof name, "..2026_12_06_03_00_00.%09d", ++generation);
    snprintf(dir, sizeof dir, "%s/%s", volume, name);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof file, "%s/policy.yaml", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    if (text) fputs(text, f);
    else fprintf(f, POLICY, threshold);
    assert_int_equal(fclose(f), 0);
    snprintf(tmp_link, sizeof tmp_link, "%s/..data_tmp", volume);
    snprintf(data, sizeof data, "%s/..data", volume);
    assert_int_equal(symlink(name, tmp_link), 0);
    assert_int_equal(rename(tmp_link, data), 0);
    if (current[0]) {
        char old[E2E_PATH_MAX + 16];
        snprintf(old, sizeof old, "%s/policy.yaml", current);
        unlink(old);
        rmdir(current);
    }
    snprintf(current, sizeof current, "%s", dir);
}

static void version_of(grading_client_t *c, char *out)
{
    Grading__V1__GetGradeRequest g = GRADING__V1__GET_GRADE_REQUEST__INIT;
    g.seller_id = "k1";
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(c, SVC "GetGrade", &g.base, &grading__v1__grade_report__descriptor,
                                         E2E_CALL_TIMEOUT_MS, &resp, &res),
                     GRADING_OK);
    if (res.status != GRPC_STATUS_OK) fail_msg("GetGrade: %s", res.details);
    snprintf(out, 32, "%s", ((Grading__V1__GradeReport *)resp)->policy_version);
    protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
}

static bool wait_reloads(e2e_server_t *s, const char *result, double want)
{
    char series[80];
    snprintf(series, sizeof series, "grading_policy_reloads_total{result=\"%s\"}", result);
    int64_t deadline = e2e_now_ms() + RELOAD_TIMEOUT_MS;
    while (e2e_now_ms() < deadline) {
        if (e2e_scrape(s, series) == want) return true;
        e2e_sleep_ms(50);
    }
    return false;
}

static void test_configmap_swap_reloads_in_place(void **state)
{
    (void)state;
    static const char *extra[] = {"--policy", policy_path, NULL};
    e2e_server_t *s = e2e_server_new(extra);
    snprintf(volume, sizeof volume, "%s/configmap", s->dir);
    assert_int_equal(mkdir(volume, 0755), 0);
    current[0] = 0;
    generation = 0;
    kubelet_write(NULL, 1);
    char link_target[] = "..data/policy.yaml";
    snprintf(policy_path, sizeof policy_path, "%s/policy.yaml", volume);
    assert_int_equal(symlink(link_target, policy_path), 0);
    e2e_server_start(s);
    grading_client_t *c = s->client;
    char v1[32], v2[32], v3[32];
    version_of(c, v1);
    assert_true(e2e_scrape(s, "grading_policy_reloads_total{result=\"ok\"}") == 0);

    /* an edited ConfigMap: served in place, same process */
    pid_t pid = s->pid;
    kubelet_write(NULL, 2);
    if (!wait_reloads(s, "ok", 1)) fail_msg("the ..data swap was not reloaded");
    version_of(c, v2);
    assert_string_not_equal(v2, v1);
    assert_int_equal(s->pid, pid);
    assert_true(e2e_server_running(s, NULL));
    char series[120];
    snprintf(series, sizeof series, "grading_policy_info{marketplace=\"kmart\",version=\"%s\"}", v2);
    assert_true(e2e_scrape(s, series) == 1);

    /* an invalid one: counted, logged, the old policy stays */
    kubelet_write("version: 1\nmarketplaces: [\n", 0);
    if (!wait_reloads(s, "invalid", 1)) fail_msg("the invalid ConfigMap was not counted");
    version_of(c, v3);
    assert_string_equal(v3, v2);
    assert_true(e2e_scrape(s, "grading_policy_reloads_total{result=\"ok\"}") == 1);
    assert_true(e2e_log_wait(s, "rejected, keeping the current one", E2E_CALL_TIMEOUT_MS));

    /* and a fix after it is taken again */
    kubelet_write(NULL, 3);
    if (!wait_reloads(s, "ok", 2)) fail_msg("the fixed ConfigMap was not reloaded");
    version_of(c, v3);
    assert_string_not_equal(v3, v2);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configmap_swap_reloads_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
