/* The cells upgrade (src/grade/cells_upgrade.c): a store whose days lack
 * the cancel / return / exchange cells (as an older build wrote them),
 * upgraded, gives the same days, metrics and stored answers as a store
 * written with them; a second walk changes nothing; events after it count
 * once. Two stores in mkdtemp directories, each with its writer thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/cells_upgrade.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/rederive.h"
#include "grading/store.h"

/* The boost reads a metric with `exclude`, so a stored answer shows whether
 * the cells were there when it was derived. */
static const char *const POLICY =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: Asia/Seoul\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      cancel_rate: {window: 30d, numerator: cancels, denominator: orders,\n"
    "                    exclude: {reason: [buyer_request], fault: [buyer, platform]}}\n"
    "      claims: {window: 30d, value: returns + exchanges, exclude: {fault: [buyer]}}\n"
    "    benefits:\n"
    "      boost: \"1 + cancel_rate + claims / 1000\"\n";

#define NOW_MS INT64_C(1792033200000)   /* 2026-10-15 12:00 KST */
#define DAY_MS INT64_C(86400000)
#define NSELLERS 3
#define MAX_EVENTS 512
#define MAX_DAYS 64

typedef struct {
    char dir[64];
    grading_store_t *st;
    grading_ingest_t *in;
    grading_store_reader_t *rd;
} store_fx_t;

typedef struct {
    grading_policy_t *p;
    store_fx_t a, b;   /* a: written with cells; b: cells removed, then upgraded */
    grading_event_t ev[MAX_EVENTS];
    char ids[MAX_EVENTS][32];
    const char *mps[MAX_EVENTS];
    const grading_tz_t *zones[MAX_EVENTS];
    uint32_t n;
} fx_t;

static const char *const SELLERS[NSELLERS] = {"s1", "s2", "s3"};

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return NOW_MS;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int open_store(store_fx_t *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/grading-cells-XXXXXX");
    if (!mkdtemp(s->dir)) return -1;
    grading_store_options_t o = {.dir = s->dir};
    grading_error_t e;
    if (grading_store_open(&o, &s->st, &e)) return -1;
    if (grading_ingest_start(s->st, fixed_now, NULL, &s->in)) return -1;
    return grading_store_reader_new(s->st, &s->rd) ? -1 : 0;
}

static void close_store(store_fx_t *s)
{
    if (s->rd) grading_store_reader_free(s->rd);
    if (s->in) grading_ingest_stop(s->in);
    if (s->st) grading_store_close(s->st);
    if (s->dir[0]) nftw(s->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    *state = fx;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    grading_err_t err = grading_policy_load_buffer("t.yaml", POLICY, strlen(POLICY), &fx->p, d);
    for (size_t i = 0; err && i < d->count; i++) fprintf(stderr, "%s: %s\n", d->diags[i].where, d->diags[i].message);
    free(d);
    if (err) return -1;
    return open_store(&fx->a) || open_store(&fx->b) ? -1 : 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    if (!fx) return 0;
    close_store(&fx->a);
    close_store(&fx->b);
    grading_policy_unref(fx->p);
    free(fx);
    return 0;
}

static grading_event_t *add(fx_t *fx, const char *seller, int order, grading_event_kind_t kind, int64_t when)
{
    assert_true(fx->n < MAX_EVENTS);
    grading_event_t *ev = &fx->ev[fx->n];
    snprintf(fx->ids[fx->n], sizeof fx->ids[fx->n], "%s-o%d-k%d", seller, order, (int)kind);
    memset(ev, 0, sizeof *ev);
    ev->event_id = fx->ids[fx->n];
    ev->marketplace = "m";
    ev->seller_id = seller;
    ev->has_occurred_at = true;
    ev->occurred_ms = when;
    ev->kind = kind;
    fx->mps[fx->n] = "m";
    fx->zones[fx->n] = &grading_policy_marketplace(fx->p, "m")->tz;
    fx->n++;
    return ev;
}

static char g_order_ids[MAX_EVENTS][16];

/* Orders of every fault x reason cancel, every return and exchange fault,
 * on several days, for each seller (a different mix each). */
static void make_events(fx_t *fx)
{
    int k = 0;
    for (int s = 0; s < NSELLERS; s++)
        for (int f = 1; f <= 3; f++)
            for (int r = 1; r <= 4; r++)
                for (int c = 0; c < 1 + (s + f + r) % 3; c++, k++) {
                    snprintf(g_order_ids[k], sizeof g_order_ids[k], "o%d", k);
                    int64_t t = NOW_MS - (int64_t)(1 + k % 9) * DAY_MS;
                    grading_event_t *ev = add(fx, SELLERS[s], k, GRADING_EV_ORDER_PAID, t);
                    ev->ref_id = g_order_ids[k], ev->product_id = "p", ev->currency = "", ev->amount = 1000;
                    if ((k + s) % 4 == 0) continue;   /* some orders stay uncancelled */
                    grading_event_kind_t kind = k % 3 == 0   ? GRADING_EV_ORDER_CANCELLED
                                                : k % 3 == 1 ? GRADING_EV_ORDER_RETURNED
                                                             : GRADING_EV_ORDER_EXCHANGED;
                    ev = add(fx, SELLERS[s], k, kind, t + DAY_MS / 2 + (k % 2) * DAY_MS);
                    ev->ref_id = g_order_ids[k], ev->fault = f, ev->reason = kind == GRADING_EV_ORDER_CANCELLED ? r : 0;
                }
}

static void run(store_fx_t *s, grading_ingest_batch_t *b)
{
    assert_int_equal(grading_ingest_run(s->in, b, NULL, NULL), GRADING_OK);
}

static void record(fx_t *fx, store_fx_t *s, uint32_t from, uint32_t to)
{
    grading_ingest_batch_t b = {.events = fx->ev + from, .marketplaces = fx->mps + from, .zones = fx->zones + from,
                                .n = to - from, .derive = grading_assess_derive_cb, .derive_ctx = fx->p};
    run(s, &b);
}

typedef struct {
    int32_t day[MAX_DAYS];
    grading_day_counters_t d[MAX_DAYS];
    size_t n;
} days_t;

static grading_err_t keep_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    days_t *x = ctx;
    if (x->n >= MAX_DAYS) return GRADING_EFULL;
    x->day[x->n] = day;
    x->d[x->n++] = *d;
    return GRADING_OK;
}

static void read_days(store_fx_t *s, const char *seller, days_t *out)
{
    grading_txn_t *txn;
    out->n = 0;
    assert_int_equal(grading_store_read_begin(s->rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_days_foreach(txn, "m", seller, 0, INT32_MAX, keep_day, out), GRADING_OK);
    grading_store_read_end(s->rd);
}

/* What an older build would have stored: the same days without the cells. */
static grading_err_t drop_cells(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)ctx, (void)now_ms;
    static days_t x;
    for (int s = 0; s < NSELLERS; s++) {
        x.n = 0;
        grading_err_t err = grading_store_days_foreach(txn, "m", SELLERS[s], 0, INT32_MAX, keep_day, &x);
        for (size_t i = 0; !err && i < x.n; i++) {
            for (int c = GRADING_C_CELLS_ADDED; c < GRADING_C_COUNT; c++) x.d[i].c[c] = 0;
            err = grading_store_day_put(txn, "m", SELLERS[s], x.day[i], &x.d[i]);
        }
        if (err) return err;
    }
    return GRADING_OK;
}

static double stored_boost(store_fx_t *s, const char *seller)
{
    grading_txn_t *txn;
    grading_seller_state_t st;
    bool found = false;
    assert_int_equal(grading_store_read_begin(s->rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_seller_get(txn, "m", seller, &st, &found), GRADING_OK);
    grading_store_read_end(s->rd);
    assert_true(found);
    return st.boost;
}

static void metrics_of(fx_t *fx, store_fx_t *s, const char *seller, double out[2])
{
    grading_assess_t *x = grading_assess_new();
    grading_txn_t *txn;
    grading_error_t e = {0};
    assert_non_null(x);
    assert_int_equal(grading_store_read_begin(s->rd, &txn), GRADING_OK);
    assert_int_equal(grading_assess_seller(txn, grading_policy_marketplace(fx->p, "m"), seller, NOW_MS, x, &e),
                     GRADING_OK);
    grading_store_read_end(s->rd);
    out[0] = x->a.metrics[0].value, out[1] = x->a.metrics[1].value;
    grading_assess_free(x);
}

/* Every day of every seller, and what is read and stored from them, agree. */
static void assert_same(fx_t *fx)
{
    static days_t da, db;
    for (int s = 0; s < NSELLERS; s++) {
        read_days(&fx->a, SELLERS[s], &da);
        read_days(&fx->b, SELLERS[s], &db);
        assert_true(da.n > 1);
        assert_int_equal(da.n, db.n);
        for (size_t i = 0; i < da.n; i++) {
            assert_int_equal(da.day[i], db.day[i]);
            assert_memory_equal(da.d[i].c, db.d[i].c, sizeof da.d[i].c);
        }
        double ma[2], mb[2];
        metrics_of(fx, &fx->a, SELLERS[s], ma);
        metrics_of(fx, &fx->b, SELLERS[s], mb);
        assert_true(ma[0] == mb[0] && ma[1] == mb[1]);
        assert_true(stored_boost(&fx->a, SELLERS[s]) == stored_boost(&fx->b, SELLERS[s]));
    }
}

static void test_upgrade_gives_the_same_answers(void **state)
{
    fx_t *fx = *state;
    make_events(fx);
    /* every third event (cancels before their payment among them) comes
     * after b's upgrade: the order does not matter to the counters */
    static grading_event_t later[MAX_EVENTS];
    uint32_t half = 0, nlater = 0;
    for (uint32_t i = 0; i < fx->n; i++)
        if (i % 3 == 2) later[nlater++] = fx->ev[i];
        else fx->ev[half++] = fx->ev[i];
    memcpy(fx->ev + half, later, nlater * sizeof *later);
    record(fx, &fx->a, 0, fx->n);
    record(fx, &fx->b, 0, half);

    /* b as an older build left it: no cells, its answers derived without them */
    grading_ingest_batch_t drop = {.apply = drop_cells};
    run(&fx->b, &drop);
    grading_err_t err = GRADING_OK;
    assert_int_equal(grading_rederive_marketplace_with(fx->b.rd, fx->b.in, "m", grading_assess_derive_cb, fx->p,
                                                       NULL, NULL, &err),
                     NSELLERS);
    assert_int_equal(err, GRADING_OK);
    assert_false(grading_cells_counted(fx->b.rd));
    /* the rest of b's events arrive after the upgrade of its days, so
     * compare only once they are in; first the gap is visible */
    double ma[2], mb[2];
    metrics_of(fx, &fx->a, "s1", ma);
    metrics_of(fx, &fx->b, "s1", mb);
    assert_true(mb[0] == 0 && ma[0] > 0);   /* every cancel read as excluded */

    size_t walked = 0;
    assert_int_equal(grading_cells_upgrade(fx->b.rd, fx->b.in, fx->p, &walked), GRADING_OK);
    assert_int_equal(walked, NSELLERS);
    assert_true(grading_cells_counted(fx->b.rd));
    record(fx, &fx->b, half, fx->n);   /* events after the upgrade count once */
    assert_same(fx);

    /* a second walk (a restored backup, an interrupted one) changes nothing;
     * so does one over a store written with the cells */
    assert_int_equal(grading_cells_upgrade(fx->b.rd, fx->b.in, fx->p, NULL), GRADING_OK);
    assert_int_equal(grading_cells_upgrade(fx->a.rd, fx->a.in, fx->p, NULL), GRADING_OK);
    assert_same(fx);
}

/* An empty store is upgraded at once. */
static void test_empty_store(void **state)
{
    fx_t *fx = *state;
    store_fx_t s = {0};
    assert_int_equal(open_store(&s), 0);
    assert_false(grading_cells_counted(s.rd));
    size_t walked = 7;
    assert_int_equal(grading_cells_upgrade(s.rd, s.in, fx->p, &walked), GRADING_OK);
    assert_int_equal(walked, 0);
    assert_true(grading_cells_counted(s.rd));
    close_store(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upgrade_gives_the_same_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
