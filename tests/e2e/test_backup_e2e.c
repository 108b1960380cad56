/* Online backup and restore on the real gradingd (issue 10).
 *
 * Under steady RecordEvents load from several threads, `gradectl backup`
 * copies the store; the load goes on during the copy. The copy is
 * restored with `gradingd --restore` into a fresh directory and a second
 * server is started on it. Every batch acknowledged before the backup
 * began is there in full (its seller's counters, and re-sending it counts
 * only duplicates); no batch is there in part; batches acknowledged after
 * the backup ended are absent (it is a snapshot, not a live view). Bad
 * cases: restoring over a store, an admin port nobody listens on (exit 3),
 * a file that is not a backup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "events.h"
#include "load.h"
#include "testsrv.h"

#define LOAD_THREADS 3
#define LOAD_EVENTS 20
#define LOAD_MAX_BATCHES 100000

static double batch_orders(grading_client_t *c, const e2e_load_call_t *call)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, "testmart", call->seller, E2E_LOAD_AS_OF);
    double orders = e2e_metric(m, "orders", "30d");
    e2e_metrics_free(m);
    return orders;
}

static void run_gradingd(const char *dir, e2e_run_t *r, const char *const *args)
{
    const char *argv[16];
    size_t n = 0;
    argv[n++] = e2e_env("GRADINGD");
    for (size_t i = 0; args[i]; i++) argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run(dir, argv, E2E_RUN_TIMEOUT_MS, r);
}

static void test_backup_under_load_restores_every_acknowledged_event(void **state)
{
    e2e_server_t *s = *state;
    char file[E2E_PATH_MAX + 16], admin[64];
    snprintf(file, sizeof file, "%s/backup.mdb", s->dir);
    snprintf(admin, sizeof admin, "127.0.0.1:%d", s->admin_port);

    e2e_load_t *l = e2e_load_start(s, "bk", LOAD_THREADS, LOAD_EVENTS, LOAD_MAX_BATCHES);
    if (!e2e_load_wait_ok(l, 20, 20000)) {
        e2e_load_stop(l);
        fail_msg("the load did not get going");
    }
    /* every call counted here ended (end_ms taken) before this clock read */
    int ok_before = e2e_load_ok_count(l);
    int64_t backup_began = e2e_now_ms();
    e2e_run_t r;
    e2e_gradectl(s, &r, "backup", "--admin", admin, file, NULL);
    int64_t backup_ended = e2e_now_ms();
    if (!r.exited || r.code != 0) {
        e2e_load_stop(l);
        fail_msg("gradectl backup: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err);
    }
    e2e_assert_contains(r.out, "backup ");
    e2e_run_destroy(&r);
    /* the load went on during the copy and after it */
    int ok_during = e2e_load_ok_count(l);
    if (!e2e_load_wait_ok(l, ok_during + 2 * LOAD_THREADS, 20000)) {
        e2e_load_stop(l);
        fail_msg("the load stopped during the backup");
    }
    e2e_load_stop(l);
    assert_true(ok_before >= 20);
    char partial[E2E_PATH_MAX + 32];
    snprintf(partial, sizeof partial, "%s.partial", file);
    assert_int_not_equal(access(partial, F_OK), 0);   /* renamed into place */

    /* restore into a fresh server's data directory, then serve it */
    e2e_server_t *s2 = e2e_server_new(NULL);
    run_gradingd(s2->dir, &r, (const char *[]){"--restore", file, "--data-dir", s2->data_dir, NULL});
    if (!r.exited || r.code != 0) fail_msg("gradingd --restore: exit %d\n%s", r.code, r.err);
    e2e_assert_contains(r.err, "restored");
    e2e_run_destroy(&r);
    /* a second restore over it is refused and names why */
    run_gradingd(s2->dir, &r, (const char *[]){"--restore", file, "--data-dir", s2->data_dir, NULL});
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_assert_contains(r.err, "already holds a store");
    e2e_run_destroy(&r);
    e2e_server_start(s2);

    size_t before = 0, after = 0, in_copy = 0;
    for (size_t i = 0; i < e2e_load_ncalls(l); i++) {
        const e2e_load_call_t *c = e2e_load_call(l, i);
        double orders = batch_orders(s2->client, c);
        if (orders != 0 && orders != LOAD_EVENTS)
            fail_msg("%s: stored in part in the backup: %g of %d orders", c->seller, orders, LOAD_EVENTS);
        bool acked = c->completed && c->status == GRPC_STATUS_OK;
        if (acked && c->end_ms <= backup_began) {   /* ms clock: same ms is before the copy started */
            before++;
            if (orders != LOAD_EVENTS)
                fail_msg("%s: acknowledged before the backup began but missing from it", c->seller);
            e2e_batch_t b;
            e2e_batch_init(&b);
            e2e_load_build_batch(l, c->thread, c->batch, &b);
            e2e_record_ok(s2->client, b.ev, b.n, 0, (uint32_t)LOAD_EVENTS);   /* all already there */
            e2e_batch_destroy(&b);
        } else if (c->start_ms > backup_ended) {
            after++;
            if (orders != 0) fail_msg("%s: sent after the backup ended but in it", c->seller);
        }
        if (orders == LOAD_EVENTS) in_copy++;
    }
    assert_true(before >= (size_t)ok_before);   /* ok_before >= 20 */
    assert_true(after >= 1);
    assert_true(in_copy >= before);
    e2e_load_free(l);
    assert_int_equal(e2e_server_shutdown_quiet(s2), 0);
    e2e_server_free(s2);
}

static void test_backup_bad_cases(void **state)
{
    e2e_server_t *s = *state;
    char file[E2E_PATH_MAX + 16], junk[E2E_PATH_MAX];
    snprintf(file, sizeof file, "%s/never.mdb", s->dir);
    e2e_run_t r;

    /* nobody on that admin port: exit 3, no file left behind */
    e2e_gradectl(s, &r, "backup", "--admin", "127.0.0.1:1", file, NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 3);
    e2e_assert_contains(r.err, "cannot connect to 127.0.0.1:1");
    assert_int_not_equal(access(file, F_OK), 0);
    e2e_run_destroy(&r);

    /* not a backup: restore refuses it and writes nothing */
    e2e_write_file(s->dir, "junk.mdb", "this is not an LMDB file\n", junk);
    char dir[E2E_PATH_MAX + 16], data[E2E_PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/restore-junk", s->dir);
    run_gradingd(s->dir, &r, (const char *[]){"--restore", junk, "--data-dir", dir, NULL});
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_assert_contains(r.err, "is not an LMDB store");
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    assert_int_not_equal(access(data, F_OK), 0);
    e2e_run_destroy(&r);

    /* a usage error names the argument */
    e2e_gradectl(s, &r, "backup", NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_run_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backup_under_load_restores_every_acknowledged_event, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_backup_bad_cases, e2e_setup_server, e2e_teardown_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
