/* The grade layer's entry points in process, linked against grading_grade
 * only (no gRPC): judging a batch (every refusal names its field and the
 * events are left as they were asked), submitting it with the policy's
 * derivation, GetSellerMetrics' reading, and the re-derive walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grading/assess_read.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/record.h"
#include "grading/rederive.h"
#include "grading/seller_metrics.h"
#include "grading/store.h"

static const char *const POLICY =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: Asia/Seoul\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      orders_month: {window: month, value: orders}\n"
    "    programs:\n"
    "      q:\n"
    "        levels: [A, B]\n"
    "        grade:\n"
    "          - {level: 1, when: \"orders_month >= 2\"}\n"
    "        otherwise: 2\n"
    "        new_seller: 2\n"
    "    benefits:\n"
    "      boost: \"q.level == 1 ? 2.0 : 1.0\"\n";

#define NOW_MS INT64_C(1792033200000)   /* 2026-10-15 12:00 KST */
#define DAY_MS INT64_C(86400000)

typedef struct {
    char dir[64];
    grading_store_t *st;
    grading_ingest_t *in;
    grading_policy_t *p;
    grading_store_reader_t *rd;
    int64_t now;
} fx_t;

static int64_t fx_now(void *ctx) { return ((fx_t *)ctx)->now; }

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    *state = fx;   /* teardown frees what was made */
    snprintf(fx->dir, sizeof fx->dir, "/tmp/grading-grade-XXXXXX");
    if (!mkdtemp(fx->dir)) return -1;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    grading_err_t err = grading_policy_load_buffer("t.yaml", POLICY, strlen(POLICY), &fx->p, d);
    for (size_t i = 0; err && i < d->count; i++) fprintf(stderr, "%s: %s\n", d->diags[i].where, d->diags[i].message);
    free(d);
    if (err) return -1;
    grading_store_options_t o = {.dir = fx->dir};
    grading_error_t e;
    if (grading_store_open(&o, &fx->st, &e)) return -1;
    fx->now = NOW_MS;
    if (grading_ingest_start(fx->st, fx_now, fx, &fx->in)) return -1;
    if (grading_store_reader_new(fx->st, &fx->rd)) return -1;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    if (!fx) return 0;
    if (fx->rd) grading_store_reader_free(fx->rd);
    if (fx->in) grading_ingest_stop(fx->in);
    if (fx->st) grading_store_close(fx->st);
    if (fx->p) grading_policy_unref(fx->p);
    if (fx->dir[0]) nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void paid(grading_event_t *ev, const char *id, const char *mp, const char *seller, int64_t when)
{
    memset(ev, 0, sizeof *ev);
    ev->event_id = id;
    ev->marketplace = mp;
    ev->seller_id = seller;
    ev->has_occurred_at = true;
    ev->occurred_ms = when;
    ev->kind = GRADING_EV_ORDER_PAID;
    ev->ref_id = id;
    ev->product_id = "p";
    ev->currency = "";
    ev->amount = 1000;
    ev->ship_within_days = 2;
}

/* ---- waiting for the writer's callback, with a deadline ---- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    grading_err_t err;
    uint32_t accepted;
} waiter_t;

static void on_done(grading_ingest_batch_t *b, grading_err_t err, uint32_t accepted, uint32_t duplicates)
{
    (void)duplicates;
    waiter_t *w = b->data;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->err = err;
    w->accepted = accepted;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void wait_done(waiter_t *w)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until)) break;
    bool done = w->done;
    pthread_mutex_unlock(&w->mu);
    if (!done) fail_msg("the writer did not answer within 60 s");
}

static void test_check_names_the_field_of_each_refusal(void **state)
{
    fx_t *fx = *state;
    grading_event_t ev[2];
    const char *mps[2];
    const grading_tz_t *zones[2];
    grading_error_t e = {0};

    paid(&ev[0], "e1", "m", "s1", NOW_MS - DAY_MS);
    paid(&ev[1], "e2", "nowhere", "s1", NOW_MS - DAY_MS);
    assert_int_equal(grading_record_check(fx->p, ev, 2, fx->now, 0, 0, mps, zones, &e), GRADING_ENOTFOUND);
    assert_string_equal(e.field, "events[1].marketplace");
    assert_non_null(strstr(e.message, "unknown marketplace \"nowhere\""));

    memset(&e, 0, sizeof e);
    paid(&ev[1], "e2", "m", "", NOW_MS - DAY_MS);   /* no seller */
    assert_int_equal(grading_record_check(fx->p, ev, 2, fx->now, 0, 0, mps, zones, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events[1].seller_id");

    memset(&e, 0, sizeof e);
    paid(&ev[1], "e2", "m", "s1", NOW_MS + DAY_MS);   /* a day in the future, no skew allowed */
    assert_int_equal(grading_record_check(fx->p, ev, 2, fx->now, 0, 0, mps, zones, &e), GRADING_ERANGE);
    assert_string_equal(e.field, "events[1].occurred_at");
    assert_non_null(strstr(e.message, "ahead of the server's clock"));

    memset(&e, 0, sizeof e);
    paid(&ev[1], "e2", "m", "s1", NOW_MS - DAY_MS);
    ev[1].currency = "USD";   /* not the marketplace's */
    assert_int_equal(grading_record_check(fx->p, ev, 2, fx->now, 0, 0, mps, zones, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events[1].order_paid.currency");
    assert_non_null(strstr(e.message, "trades in \"KRW\""));
    /* the dedup horizon: a week back is refused with a 1-day horizon, fine without one */
    memset(&e, 0, sizeof e);
    paid(&ev[1], "e2", "m", "s1", NOW_MS - 7 * DAY_MS);
    assert_int_equal(grading_record_check(fx->p, ev, 2, fx->now, 0, DAY_MS, mps, zones, &e), GRADING_ERANGE);
    assert_string_equal(e.field, "events[1].occurred_at");
    memset(&e, 0, sizeof e);
    assert_int_equal(grading_record_check(fx->p, ev, 2, fx->now, 0, 0, mps, zones, &e), GRADING_OK);
}

static void test_check_resolves_and_fills_the_default_marketplace(void **state)
{
    fx_t *fx = *state;
    grading_event_t ev[2];
    const char *mps[2] = {NULL, NULL};
    const grading_tz_t *zones[2] = {NULL, NULL};
    grading_error_t e = {0};
    paid(&ev[0], "e1", "", "s1", NOW_MS - DAY_MS);   /* "" = the default marketplace */
    paid(&ev[1], "e2", "m", "s1", NOW_MS - DAY_MS);
    assert_int_equal(grading_record_check(fx->p, ev, 2, fx->now, 0, 0, mps, zones, &e), GRADING_OK);
    const grading_marketplace_t *m = grading_policy_marketplace(fx->p, "m");
    for (int i = 0; i < 2; i++) {
        assert_string_equal(mps[i], "m");
        assert_ptr_equal(zones[i], &m->tz);
        assert_string_equal(ev[i].currency, "KRW");   /* empty: the marketplace's */
    }
}

/* A submitted batch is stored and its seller re-derived in the same
 * transaction (the stored answer names the policy and the time). */
static void test_submit_derives_and_metrics_read_it(void **state)
{
    fx_t *fx = *state;
    grading_event_t ev[3];
    const char *mps[3];
    const grading_tz_t *zones[3];
    grading_error_t e = {0};
    paid(&ev[0], "a1", "m", "s2", NOW_MS - DAY_MS);
    paid(&ev[1], "a2", "m", "s2", NOW_MS - 2 * DAY_MS);
    paid(&ev[2], "a3", "m", "s3", NOW_MS - DAY_MS);
    assert_int_equal(grading_record_check(fx->p, ev, 3, fx->now, 0, 0, mps, zones, &e), GRADING_OK);
    waiter_t w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    grading_ingest_batch_t b = {.events = ev, .marketplaces = mps, .zones = zones, .n = 3,
                                .done_cb = on_done, .data = &w};
    grading_record_submit(fx->in, fx->p, &b);
    wait_done(&w);
    assert_int_equal(w.err, GRADING_OK);
    assert_int_equal(w.accepted, 3);

    grading_txn_t *txn;
    grading_seller_state_t st;
    bool found = false;
    assert_int_equal(grading_store_read_begin(fx->rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_seller_get(txn, "m", "s2", &st, &found), GRADING_OK);
    grading_store_read_end(fx->rd);
    assert_true(found);
    assert_string_equal(st.policy_version, grading_policy_version(fx->p));
    assert_int_equal(st.computed_ms, NOW_MS);
    assert_true(st.boost == 2.0);   /* two orders this month: level 1 */

    const grading_marketplace_t *m = grading_policy_marketplace(fx->p, "m");
    grading_seller_metrics_t *sm = NULL;
    assert_int_equal(grading_seller_metrics_new(fx->rd, m, "s2", NOW_MS, &sm, &e), GRADING_OK);
    assert_int_equal(sm->as_of_ms, NOW_MS);
    for (int i = 0; i < GRADING_SELLER_METRICS_WINDOWS; i++) assert_int_equal(sm->sums[i].c[GRADING_C_ORDERS], 2);
    assert_true(sm->x->a.metrics[0].value == 2.0);   /* orders_month */
    assert_int_equal(sm->pending_orphans, 0);
    grading_seller_metrics_free(sm);

    /* the query handlers' one call: the same assessment */
    grading_assess_t *x = NULL;
    assert_int_equal(grading_assess_read_new(fx->rd, m, "s2", NOW_MS, &x, &e), GRADING_OK);
    assert_true(x->a.metrics[0].value == 2.0);
    grading_assess_free(x);
    x = NULL;
    assert_int_equal(grading_assess_read_new(fx->rd, m, "nobody", NOW_MS, &x, &e), GRADING_OK);
    assert_true(x->a.metrics[0].value == 0.0);   /* a seller with no events: nothing counted */
    grading_assess_free(x);

    /* as of before the orders: nothing in any window */
    sm = NULL;
    assert_int_equal(grading_seller_metrics_new(fx->rd, m, "s2", NOW_MS - 3 * DAY_MS, &sm, &e), GRADING_OK);
    for (int i = 0; i < GRADING_SELLER_METRICS_WINDOWS; i++) assert_int_equal(sm->sums[i].c[GRADING_C_ORDERS], 0);
    grading_seller_metrics_free(sm);
}

static bool never(void *ctx)
{
    (void)ctx;
    return false;
}

static bool always(void *ctx)
{
    (void)ctx;
    return true;
}

/* The walk re-derives every seller as of the writer's clock; a stop before
 * the first page re-derives none; the 'current' mark follows the policy. */
static void test_rederive_walks_every_seller(void **state)
{
    fx_t *fx = *state;
    assert_false(grading_rederive_is_current(fx->rd, fx->p));
    fx->now = NOW_MS + 40 * DAY_MS;   /* next month: the orders left the month window */
    assert_int_equal(grading_rederive_marketplace(fx->rd, fx->in, fx->p, "m", always, NULL), 0);
    size_t n = grading_rederive_marketplace(fx->rd, fx->in, fx->p, "m", never, NULL);
    assert_int_equal(n, 2);   /* s2, s3 */
    grading_txn_t *txn;
    grading_seller_state_t st;
    bool found = false;
    assert_int_equal(grading_store_read_begin(fx->rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_seller_get(txn, "m", "s2", &st, &found), GRADING_OK);
    grading_store_read_end(fx->rd);
    assert_true(found);
    assert_int_equal(st.computed_ms, NOW_MS + 40 * DAY_MS);
    assert_true(st.boost == 1.0);
    assert_int_equal(grading_rederive_mark_current(fx->in, fx->p), GRADING_OK);
    assert_true(grading_rederive_is_current(fx->rd, fx->p));
    fx->now = NOW_MS;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_names_the_field_of_each_refusal),
        cmocka_unit_test(test_check_resolves_and_fills_the_default_marketplace),
        cmocka_unit_test(test_submit_derives_and_metrics_read_it),
        cmocka_unit_test(test_rederive_walks_every_seller),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
