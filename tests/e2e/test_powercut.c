/* End-to-end: what RecordEvents acknowledged survives a power cut.
 *
 * kill -9 alone proves little about durability: the kernel's page cache
 * outlives the process, so a store that never fsyncs passes. Here gradingd
 * runs with the power-cut library preloaded (tests/powercut/powercut.c):
 * at the N-th write or sync to its data directory after the test arms it,
 * every write not yet synced is undone and the process is SIGKILLed, so
 * the disk holds exactly what a power cut would leave. N is drawn from a
 * seeded generator (the seed is printed; GRADING_TEST_SEED=<n> replays it).
 * Then the server restarts WITHOUT the library, on the same directory:
 *
 * - under load (several threads calling RecordEvents): every acknowledged
 *   batch is stored whole, an unacknowledged one whole or not at all, and
 *   resending every batch counts nothing twice;
 * - mid-close: the close's stored progress is read straight from the store
 *   (the server stopped), is consistent (pages are atomic) and shows the
 *   close was cut midway; the close then resumes and counts every seller
 *   exactly once.
 * The store opening cleanly is checked by every restart (gradingd opens
 * it and checks its schema before serving) and by the direct reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "grading/close.h"
#include "grading/period.h"
#include "grading/store.h"
#include "load.h"
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define MP "testmart"
#define LOAD_ROUNDS 4
#define LOAD_THREADS 4
#define LOAD_EVENTS 50
#define LOAD_MAX_BATCHES 2000
#define LOAD_MAX_OPS 90          /* the cut lands within the first ~30 commits */
#define CUT_TIMEOUT_MS 120000
#define CLOSE_SELLERS 6000       /* 30 pages of GRADING_CLOSE_PAGE */
#define SEED_BATCH 3000
#define DEFAULT_SEED UINT64_C(17)

static const char *const server_flags[] = {"--sweep-ms", "0", NULL};   /* no background commits */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

/* lo..hi inclusive */
static long rng_between(long lo, long hi)
{
    return lo + (long)(rng_next() % (uint64_t)(hi - lo + 1));
}

static int setup_seeded_server(void **state)
{
    const char *s = getenv("GRADING_TEST_SEED");
    uint64_t seed = s && *s ? strtoull(s, NULL, 10) : DEFAULT_SEED;
    rng_state = seed ? seed : DEFAULT_SEED;
    fprintf(stderr, "# power cut seed %" PRIu64 " (GRADING_TEST_SEED=%" PRIu64 " replays it)\n", rng_state,
            rng_state);
    *state = e2e_server_new(server_flags);
    return 0;
}

/* Starts gradingd with the power-cut library, armed by <dir>/arm. Only the
 * child sees the variables: they are set around the fork and removed. */
static void start_with_powercut(e2e_server_t *s, char *arm_path)
{
    const char *lib = e2e_env("GRADING_POWERCUT_LIB");
    snprintf(arm_path, E2E_PATH_MAX, "%s/arm", s->dir);
    unlink(arm_path);   /* a new process must not find an old trigger */
    const char *asan = getenv("ASAN_OPTIONS");
    char *saved = asan ? strdup(asan) : NULL;
    char asan_opts[1024];
    /* a preloaded library comes before the ASan runtime in a sanitizer build */
    snprintf(asan_opts, sizeof asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "", asan ? ":" : "");
    assert_int_equal(setenv("LD_PRELOAD", lib, 1), 0);
    assert_int_equal(setenv("POWERCUT_DIR", s->data_dir, 1), 0);
    assert_int_equal(setenv("POWERCUT_ARM", arm_path, 1), 0);
    assert_int_equal(setenv("ASAN_OPTIONS", asan_opts, 1), 0);
    e2e_server_start(s);
    unsetenv("LD_PRELOAD");
    unsetenv("POWERCUT_DIR");
    unsetenv("POWERCUT_ARM");
    if (saved) setenv("ASAN_OPTIONS", saved, 1);
    else unsetenv("ASAN_OPTIONS");
    free(saved);
}

/* The cut: after `syncs` syncs, at the ops-th write or sync. */
static void arm(const e2e_server_t *s, long syncs, long ops)
{
    char text[64], path[E2E_PATH_MAX], tmp[E2E_PATH_MAX];
    snprintf(text, sizeof text, "%ld %ld\n", syncs, ops);
    e2e_write_file(s->dir, "arm.tmp", text, tmp);
    snprintf(path, sizeof path, "%s/arm", s->dir);
    assert_int_equal(rename(tmp, path), 0);   /* the library never sees half a number */
}

/* Waits for the cut: the server must die of SIGKILL having said why. */
static void wait_for_cut(e2e_server_t *s)
{
    int status = e2e_server_wait(s, CUT_TIMEOUT_MS);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        e2e_server_dump_log(s);
        fail_msg("the server was not cut by the power-cut library (wait status %#x)", status);
    }
    FILE *f = fopen(s->log_path, "r");
    assert_non_null(f);
    char line[1024], last[1024] = "";
    while (fgets(line, sizeof line, f))
        if (strstr(line, "powercut: power cut at")) snprintf(last, sizeof last, "%s", line);
    fclose(f);
    if (!last[0]) {
        e2e_server_dump_log(s);
        fail_msg("SIGKILL, but not from the power-cut library");
    }
    fprintf(stderr, "# %s", last);
}

/* ---- under load ---- */

static double batch_orders(grading_client_t *c, const e2e_load_call_t *call)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, MP, call->seller, E2E_LOAD_AS_OF);
    double orders = e2e_metric(m, "orders", "30d");
    double month = e2e_metric(m, "orders", "month");
    double gmv = e2e_metric(m, "gmv", "30d");
    if (orders != month || gmv != orders * E2E_LOAD_AMOUNT)
        fail_msg("seller %s: inconsistent counters: orders 30d %g, month %g, gmv %g", call->seller, orders, month,
                 gmv);
    e2e_metrics_free(m);
    return orders;
}

static void check_after_cut(e2e_server_t *s, e2e_load_t *l, size_t *acked_out)
{
    size_t acked = 0, unacked_stored = 0, unacked_lost = 0;
    for (size_t i = 0; i < e2e_load_ncalls(l); i++) {
        const e2e_load_call_t *c = e2e_load_call(l, i);
        double orders = batch_orders(s->client, c);
        if (c->completed && c->status == GRPC_STATUS_OK) {
            acked++;
            if (c->accepted != LOAD_EVENTS || c->duplicates != 0)
                fail_msg("%s: reply said accepted %u duplicates %u", c->seller, c->accepted, c->duplicates);
            if (orders != LOAD_EVENTS)
                fail_msg("%s: acknowledged before the power cut, but %g of its %d orders are stored after it",
                         c->seller, orders, LOAD_EVENTS);
        } else {
            if (orders != 0 && orders != LOAD_EVENTS)
                fail_msg("%s: batch stored in part after the power cut: %g of %d orders", c->seller, orders,
                         LOAD_EVENTS);
            if (orders == LOAD_EVENTS) unacked_stored++;
            else unacked_lost++;
        }
        /* resending: the stored batch is all duplicates, a lost one is new */
        e2e_batch_t b;
        e2e_batch_init(&b);
        e2e_load_build_batch(l, c->thread, c->batch, &b);
        e2e_record_ok(s->client, b.ev, b.n, orders == 0 ? LOAD_EVENTS : 0, orders == 0 ? 0 : LOAD_EVENTS);
        e2e_batch_destroy(&b);
        if (batch_orders(s->client, c) != LOAD_EVENTS)
            fail_msg("%s: after resending, orders are not exactly %d", c->seller, LOAD_EVENTS);
    }
    fprintf(stderr, "# %zu calls acknowledged, %zu unacknowledged but stored, %zu not stored\n", acked,
            unacked_stored, unacked_lost);
    *acked_out = acked;
}

static void test_power_cut_under_load(void **state)
{
    e2e_server_t *s = *state;
    char arm_path[E2E_PATH_MAX];
    size_t acked_total = 0;
    for (int round = 0; round < LOAD_ROUNDS; round++) {
        long ops = rng_between(1, LOAD_MAX_OPS);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "pc-r%d", round);
        fprintf(stderr, "# round %d: cut at write/sync #%ld under load\n", round, ops);
        start_with_powercut(s, arm_path);
        arm(s, 0, ops);
        e2e_load_t *l = e2e_load_start(s, prefix, LOAD_THREADS, LOAD_EVENTS, LOAD_MAX_BATCHES);
        wait_for_cut(s);
        e2e_load_join(l);   /* every thread stops at its first failed call */

        e2e_server_restart(s);   /* without the library */
        size_t acked;
        check_after_cut(s, l, &acked);
        acked_total += acked;
        e2e_load_free(l);
        e2e_server_stop_ok(s);
    }
    /* the rounds were not all cut before anything was acknowledged */
    assert_true(acked_total > 0);
    e2e_server_restart(s);   /* the teardown stops it */
}

/* ---- mid-close ---- */

typedef struct {
    e2e_server_t *s;
    const char *period;
    bool acked;
} closer_t;

static void *closer_main(void *arg)
{
    closer_t *cl = arg;
    grading_client_t *c = e2e_client_new(cl->s);
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    req.period = (char *)cl->period;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    if (c && grading_client_call(c, SVC "ClosePeriod", &req.base, &grading__v1__close_period_response__descriptor,
                                 CUT_TIMEOUT_MS, &out, &res) == GRADING_OK)
        cl->acked = res.status == GRPC_STATUS_OK;
    if (out) protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
    grading_client_free(c);
    return NULL;
}

/* Every seller has one inquiry in each of August and September 2025. */
static void seed_sellers(grading_client_t *c)
{
    static char ids[SEED_BATCH][2][24], sellers[SEED_BATCH][16], inq[SEED_BATCH][2][16];
    static const char *const when[2] = {"2025-08-10T01:00:00Z", "2025-09-10T01:00:00Z"};
    for (int base = 0; base < CLOSE_SELLERS; base += SEED_BATCH) {
        e2e_batch_t b;
        e2e_batch_init(&b);
        for (int i = 0; i < SEED_BATCH; i++) {
            snprintf(sellers[i], sizeof sellers[i], "cs%05d", base + i);
            for (int m = 0; m < 2; m++) {
                snprintf(ids[i][m], sizeof ids[i][m], "c%d-%05d", m, base + i);
                snprintf(inq[i][m], sizeof inq[i][m], "cq%d-%05d", m, base + i);
                e2e_add_inquiry_received(&b, ids[i][m], NULL, sellers[i], when[m], inq[i][m]);
            }
        }
        e2e_record_ok(c, b.ev, b.n, (uint32_t)b.n, 0);
        e2e_batch_destroy(&b);
    }
}

/* The close's stored state, read straight from the store (server stopped). */
static void read_close(const e2e_server_t *s, const char *period, bool *found, grading_close_t *c,
                       uint64_t *stored)
{
    grading_store_options_t o = {.dir = s->data_dir};
    grading_store_t *st;
    grading_store_reader_t *rd;
    grading_txn_t *txn;
    grading_error_t e;
    if (grading_store_open(&o, &st, &e) != GRADING_OK) fail_msg("the store does not open: %s", e.message);
    assert_int_equal(grading_store_reader_new(st, &rd), GRADING_OK);
    assert_int_equal(grading_store_read_begin(rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_period_count(txn, MP, GRADING_PERIOD_MONTH, period, stored), GRADING_OK);
    assert_int_equal(grading_store_close_get(txn, MP, GRADING_PERIOD_MONTH, period, c, found), GRADING_OK);
    grading_store_read_end(rd);
    grading_store_reader_free(rd);
    grading_store_close(st);
}

static void close_round(e2e_server_t *s, const char *period)
{
    /* A close writes one page of GRADING_CLOSE_PAGE sellers per commit; an
     * LMDB commit is page writes, one fdatasync, then the meta page through
     * its O_DSYNC descriptor. Letting `syncs` (2..pages-1) fdatasyncs through
     * and cutting at one of the next 3 writes/syncs leaves syncs-1 or syncs
     * pages durable: at least one, never all. */
    const long pages = CLOSE_SELLERS / GRADING_CLOSE_PAGE;
    long syncs = rng_between(2, pages - 1), ops = rng_between(1, 3);
    char arm_path[E2E_PATH_MAX];
    fprintf(stderr, "# close %s: cut after %ld syncs, at write/sync #%ld\n", period, syncs, ops);
    start_with_powercut(s, arm_path);
    arm(s, syncs, ops);
    closer_t cl = {.s = s, .period = period};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, closer_main, &cl), 0);
    pthread_join(th, NULL);   /* the call ends with the server or with the close */
    if (cl.acked && e2e_server_running(s, NULL))
        fail_msg("the close finished and no cut came: %ld syncs never happened (is the store syncing?)", syncs);
    wait_for_cut(s);
    assert_false(cl.acked);

    /* the stored progress: consistent, and midway */
    bool found;
    grading_close_t c;
    uint64_t stored;
    read_close(s, period, &found, &c, &stored);
    fprintf(stderr, "# after the cut: close record %s, done %d, evaluated %u, sellers stored %" PRIu64 "\n",
            found ? "found" : "absent", found && c.done, found ? (unsigned)c.evaluated : 0, stored);
    assert_true(found);
    assert_false(c.done);
    assert_int_equal(c.evaluated, stored);   /* a page is stored whole with its progress, or not at all */
    assert_true(stored >= GRADING_CLOSE_PAGE && stored < CLOSE_SELLERS);
    assert_int_equal(stored % GRADING_CLOSE_PAGE, 0);

    /* resumed without the library: every seller exactly once */
    e2e_server_restart(s);
    Grading__V1__ClosePeriodRequest req = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    req.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    req.period = (char *)period;
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(s->client, SVC "ClosePeriod", &req.base,
                                         &grading__v1__close_period_response__descriptor, CUT_TIMEOUT_MS, &out,
                                         &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    Grading__V1__ClosePeriodResponse *r = (Grading__V1__ClosePeriodResponse *)out;
    assert_false(r->already_closed);
    assert_int_equal(r->sellers_evaluated, CLOSE_SELLERS);
    uint32_t total = 0;
    for (size_t i = 0; i < r->n_distribution; i++) total += r->distribution[i]->sellers;
    assert_int_equal(total, CLOSE_SELLERS);
    protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
    e2e_server_stop_ok(s);
    read_close(s, period, &found, &c, &stored);
    assert_true(found && c.done);
    assert_int_equal(c.evaluated, CLOSE_SELLERS);
    assert_int_equal(stored, CLOSE_SELLERS);
}

static void test_power_cut_mid_close(void **state)
{
    e2e_server_t *s = *state;
    e2e_server_start(s);
    seed_sellers(s->client);
    e2e_server_stop_ok(s);
    close_round(s, "2025-08");
    close_round(s, "2025-09");
    e2e_server_restart(s);   /* the teardown stops it */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_power_cut_under_load, setup_seeded_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_power_cut_mid_close, setup_seeded_server, e2e_teardown_server),
    };
    return cmocka_run_group_tests_name("e2e power cut", tests, NULL, NULL);
}
