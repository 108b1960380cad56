/* The admin HTTP server in process, on a loopback port the kernel picks:
 * /healthz fails while the writer is wedged (a batch that blocks inside
 * its transaction) and while the event loop is stuck, and recovers;
 * /readyz follows the store, the policy and draining; unknown paths and
 * methods; /backup streams a copy that verifies, a cut-off copy does not,
 * and restore installs a copy only into a directory without a store. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "grading/admin.h"
#include "grading/http_get.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"
#include "grading/store_backup.h"

#define LIVENESS_MS 2000   /* generous: a loaded machine must not fail the healthy checks */
#define HTTP_TIMEOUT_MS 10000

typedef struct {
    char dir[64];
    grading_store_t *st;
    grading_ingest_t *in;
    grading_admin_t *admin;
    char addr[64];
    grading_policy_t *policy;   /* what the app would answer; NULL: not loaded */
    atomic_bool draining;
    atomic_llong loop_idle_ms;
} fx_t;

static int64_t clock_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static grading_policy_t *fx_policy(void *ctx) { return grading_policy_ref(((fx_t *)ctx)->policy); }
static bool fx_draining(void *ctx) { return atomic_load(&((fx_t *)ctx)->draining); }
static int64_t fx_idle(void *ctx) { return atomic_load(&((fx_t *)ctx)->loop_idle_ms); }

static const char policy_yaml[] = "version: 1\ndefault_marketplace: m\nmarketplaces:\n"
                                  "  m:\n    time_zone: UTC\n    currency: KRW\n";

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/grading-admin-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char data[128];
    snprintf(data, sizeof data, "%s/data", f->dir);
    grading_store_options_t so = {.dir = data};
    grading_error_t e = {0};
    assert_int_equal(grading_store_open(&so, &f->st, &e), GRADING_OK);
    assert_int_equal(grading_ingest_start(f->st, clock_ms, NULL, &f->in), GRADING_OK);
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    assert_int_equal(grading_policy_load_buffer("t", policy_yaml, strlen(policy_yaml), &f->policy, d), GRADING_OK);
    free(d);
    grading_admin_options_t ao = {.listen = "127.0.0.1:0", .store = f->st, .ingest = f->in,
                                  .liveness_timeout_ms = LIVENESS_MS, .policy = fx_policy,
                                  .draining = fx_draining, .loop_idle_ms = fx_idle, .ctx = f};
    int port = 0;
    assert_int_equal(grading_admin_start(&ao, &f->admin, &port, &e), GRADING_OK);
    assert_true(port > 0);
    snprintf(f->addr, sizeof f->addr, "127.0.0.1:%d", port);
    *state = f;
    return 0;
}

static int rm_rf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static int teardown(void **state)
{
    fx_t *f = *state;
    grading_admin_stop(f->admin);
    grading_ingest_stop(f->in);
    grading_store_close(f->st);
    grading_policy_unref(f->policy);
    rm_rf(f->dir);
    free(f);
    return 0;
}

static int get(fx_t *f, const char *path, char **body)
{
    int status = 0;
    grading_error_t e = {0};
    if (grading_http_get(f->addr, path, HTTP_TIMEOUT_MS, &status, body, &e)) fail_msg("GET %s: %s", path, e.message);
    return status;
}

static void expect(fx_t *f, const char *path, int status, const char *needle)
{
    char *body = NULL;
    int got = get(f, path, &body);
    if (got != status || !strstr(body, needle))
        fail_msg("GET %s: expected %d with \"%s\", got %d: %s", path, status, needle, got, body);
    free(body);
}

/* ---- a writer wedged inside a batch's transaction ---- */

typedef struct {
    grading_ingest_batch_t b;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, release, done;
} wedge_t;

static grading_err_t wedge_apply(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)txn;
    (void)now_ms;
    wedge_t *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->entered = true;
    pthread_cond_broadcast(&w->cv);
    while (!w->release) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return GRADING_OK;
}

static void wedge_done(grading_ingest_batch_t *b, grading_err_t err, uint32_t a, uint32_t d)
{
    (void)err, (void)a, (void)d;
    wedge_t *w = (wedge_t *)b;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void test_healthz_fails_while_the_writer_is_wedged(void **state)
{
    fx_t *f = *state;
    expect(f, "/healthz", 200, "ok");

    wedge_t w = {.b = {.apply = wedge_apply, .done_cb = wedge_done}};
    w.b.apply_ctx = &w;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    grading_ingest_submit(f->in, &w.b);
    pthread_mutex_lock(&w.mu);
    while (!w.entered) pthread_cond_wait(&w.cv, &w.mu);   /* the writer is inside it now */
    pthread_mutex_unlock(&w.mu);

    expect(f, "/healthz", 503, "writer: no answer within 2000 ms");
    expect(f, "/healthz", 503, "writer");   /* the same probe, still stuck */
    expect(f, "/readyz", 200, "ready");     /* readiness is not liveness */

    pthread_mutex_lock(&w.mu);
    w.release = true;
    pthread_cond_broadcast(&w.cv);
    while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    expect(f, "/healthz", 200, "ok");       /* recovered */
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
}

static void test_healthz_fails_when_the_loop_is_stuck(void **state)
{
    fx_t *f = *state;
    atomic_store(&f->loop_idle_ms, LIVENESS_MS + 1);
    expect(f, "/healthz", 503, "event loop: idle for 2001 ms");
    atomic_store(&f->loop_idle_ms, LIVENESS_MS);
    expect(f, "/healthz", 200, "ok");
}

static void test_readyz_follows_policy_and_draining(void **state)
{
    fx_t *f = *state;
    expect(f, "/readyz", 200, "ready");
    atomic_store(&f->draining, true);
    expect(f, "/readyz", 503, "draining");
    atomic_store(&f->draining, false);
    grading_policy_t *p = f->policy;
    f->policy = NULL;   /* the admin threads are idle between requests */
    expect(f, "/readyz", 503, "policy: not loaded");
    f->policy = p;
    expect(f, "/readyz", 200, "ready");
}

static void test_unknown_paths_and_metrics(void **state)
{
    fx_t *f = *state;
    expect(f, "/nope", 404, "not found");
    expect(f, "/metrics", 200, "grading_lmdb_map_bytes ");
    expect(f, "/metrics", 200, "grading_policy_info{marketplace=\"m\",version=\"");
    expect(f, "/metrics", 200, "grading_ingest_queue_depth 0\n");
    expect(f, "/metrics", 200, "process_cpu_seconds_total ");
}

static void test_backup_verifies_and_a_cut_copy_does_not(void **state)
{
    fx_t *f = *state;
    char path[128], cut[128], restored[128];
    snprintf(path, sizeof path, "%s/backup.mdb", f->dir);
    snprintf(cut, sizeof cut, "%s/cut.mdb", f->dir);
    snprintf(restored, sizeof restored, "%s/restored", f->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    int status = 0;
    uint64_t bytes = 0, records = 0;
    grading_error_t e = {0};
    assert_int_equal(grading_http_get_fd(f->addr, "/backup", fd, HTTP_TIMEOUT_MS, &status, &bytes, &e), GRADING_OK);
    close(fd);
    assert_int_equal(status, 200);
    assert_true(bytes > 0);
    if (grading_store_verify_copy(path, &records, &e)) fail_msg("verify: %s", e.message);
    assert_true(records >= 1);   /* the schema version at least */

    /* the same copy cut short: refused, naming why */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "head -c %llu '%s' > '%s'", (unsigned long long)bytes - 4096, path, cut);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(grading_store_verify_copy(cut, NULL, &e), GRADING_ECORRUPT);
    assert_non_null(strstr(e.message, "cut off"));
    assert_int_not_equal(grading_store_restore(cut, restored, &e), GRADING_OK);

    /* restore: into an empty directory, once; then it holds a store */
    if (grading_store_restore(path, restored, &e)) fail_msg("restore: %s", e.message);
    grading_store_options_t so = {.dir = restored};
    grading_store_t *st = NULL;
    if (grading_store_open(&so, &st, &e)) fail_msg("open restored: %s", e.message);
    grading_store_close(st);
    assert_int_equal(grading_store_restore(path, restored, &e), GRADING_ESTATE);
    assert_non_null(strstr(e.message, "already holds a store"));
}

static void test_bad_listen_addresses(void **state)
{
    (void)state;
    const char *bad[] = {"localhost:9464", "127.0.0.1", "127.0.0.1:99999", "[::1]9464", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        grading_admin_options_t ao = {.listen = bad[i]};
        grading_admin_t *a = NULL;
        int port = 0;
        grading_error_t e = {0};
        assert_int_equal(grading_admin_start(&ao, &a, &port, &e), GRADING_EINVAL);
        assert_string_equal(e.field, "admin-listen");
        assert_null(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_healthz_fails_while_the_writer_is_wedged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_healthz_fails_when_the_loop_is_stuck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readyz_follows_policy_and_draining, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_paths_and_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_verifies_and_a_cut_copy_does_not, setup, teardown),
        cmocka_unit_test(test_bad_listen_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
