/* The single writer: batches through start/submit/stop, callbacks only
 * after the commit is visible, dedupe within a batch, across batches of a
 * group and across restarts, arrival order not changing the counters,
 * day records beyond the writer's cache, a bad batch failing alone, a
 * batch too large for a store that cannot grow failing alone with EFULL
 * while a small one commits, growth on demand, and ESHUTDOWN after stop.
 *
 * The writer thread is held at will by the test clock: the writer asks
 * the clock for "now" once per group, so a gated clock keeps it waiting
 * while the test queues the batches that must form one group. Nothing
 * sleeps; every wait is on a condition variable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/ingest/ingest_internal.h"
#include "grading/counters.h"
#include "grading/ingest.h"
#include "grading/store.h"
#include "grading/tz.h"

#define DAY_MS GRADING_MS_PER_DAY
#define T0 INT64_C(1700006400000)   /* 2023-11-15 00:00:00 UTC */

/* ---- a clock the test can hold ---- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool gated;     /* the writer waits inside now_ms while set */
    int entered;    /* calls of now_ms so far */
    int64_t now;
} test_clock_t;

static int64_t clock_now(void *ctx)
{
    test_clock_t *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->entered++;
    pthread_cond_broadcast(&c->cv);
    while (c->gated) pthread_cond_wait(&c->cv, &c->mu);
    int64_t now = c->now;
    pthread_mutex_unlock(&c->mu);
    return now;
}

static void clock_wait_entered(test_clock_t *c, int n)
{
    pthread_mutex_lock(&c->mu);
    while (c->entered < n) pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

static void clock_gate(test_clock_t *c, bool gated)
{
    pthread_mutex_lock(&c->mu);
    c->gated = gated;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* ---- batches that record their fate ---- */

typedef struct tbatch tbatch_t;
struct tbatch {
    grading_ingest_batch_t b;   /* first: the callback casts back */
    grading_event_t *ev;
    const char **mps;
    const grading_tz_t **zones;
    char (*ids)[48];            /* storage for generated strings */
    char (*sellers)[48];
    int calls;
    grading_err_t err;
    uint32_t accepted, duplicates;
    bool seen_at_callback;      /* the first event was readable in the callback */
    grading_store_t *check_store;
    void (*then)(tbatch_t *);   /* runs inside the callback */
    grading_ingest_t *in;
    tbatch_t *next_submit;
    grading_ingest_report_t rep;   /* conflicts and the error's field */
};

/* Callbacks so far, for a test that waits for one before going on. */
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int done_count;

static void wait_done(int n)
{
    pthread_mutex_lock(&done_mu);
    while (done_count < n) pthread_cond_wait(&done_cv, &done_mu);
    pthread_mutex_unlock(&done_mu);
}

static void tb_done(grading_ingest_batch_t *b, grading_err_t err, uint32_t accepted,
                    uint32_t duplicates)
{
    tbatch_t *t = (tbatch_t *)b;
    t->calls++;
    t->err = err;
    t->accepted = accepted;
    t->duplicates = duplicates;
    if (t->check_store && t->b.n > 0) {
        /* The commit must be visible by now: read it back. */
        grading_store_reader_t *r;
        grading_txn_t *txn;
        if (grading_store_reader_new(t->check_store, &r) == GRADING_OK) {
            if (grading_store_read_begin(r, &txn) == GRADING_OK) {
                bool seen = false;
                if (grading_store_event_seen(txn, t->ev[0].event_id, &seen) == GRADING_OK)
                    t->seen_at_callback = seen;
                grading_store_read_end(r);
            }
            grading_store_reader_free(r);
        }
    }
    if (t->then) t->then(t);
    pthread_mutex_lock(&done_mu);
    done_count++;
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&done_mu);
}

static tbatch_t *tb_new(uint32_t n, const char *mp, const grading_tz_t *tz)
{
    tbatch_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->ev = calloc(n ? n : 1, sizeof *t->ev);
    t->mps = calloc(n ? n : 1, sizeof *t->mps);
    t->zones = calloc(n ? n : 1, sizeof *t->zones);
    t->ids = calloc(n ? n : 1, sizeof *t->ids);
    t->sellers = calloc(n ? n : 1, sizeof *t->sellers);
    t->rep.conflict_indexes = calloc(n ? n : 1, sizeof *t->rep.conflict_indexes);
    assert_true(t->ev && t->mps && t->zones && t->ids && t->sellers && t->rep.conflict_indexes);
    for (uint32_t i = 0; i < n; i++) {
        t->mps[i] = mp;
        t->zones[i] = tz;
    }
    t->b = (grading_ingest_batch_t){.events = t->ev, .marketplaces = t->mps, .zones = t->zones,
                                    .n = n, .done_cb = tb_done, .data = t, .report = &t->rep};
    return t;
}

static void tb_free(tbatch_t *t)
{
    if (!t) return;
    free(t->ev);
    free(t->mps);
    free(t->zones);
    free(t->ids);
    free(t->sellers);
    free(t->rep.conflict_indexes);
    free(t);
}

static grading_event_t base_event(const char *id, const char *seller, grading_event_kind_t kind,
                                  int64_t t)
{
    return (grading_event_t){.event_id = id, .marketplace = "", .seller_id = seller,
                             .has_occurred_at = true, .occurred_ms = t, .kind = kind,
                             .ref_id = "", .product_id = "", .currency = "", .name = ""};
}

static grading_event_t order_ev(const char *id, const char *seller, const char *order,
                                grading_event_kind_t kind, int64_t t)
{
    grading_event_t e = base_event(id, seller, kind, t);
    e.ref_id = order;
    if (kind == GRADING_EV_ORDER_PAID) {
        e.product_id = "p-1";
        e.currency = "KRW";
        e.amount = 25000;
        e.ship_within_days = 2;
    }
    if (kind == GRADING_EV_ORDER_SHIPPED) e.tracking_valid = true;
    if (kind == GRADING_EV_ORDER_CANCELLED) {
        e.fault = GRADING_FAULT_SELLER;
        e.reason = GRADING_REASON_OUT_OF_STOCK;
    }
    if (kind == GRADING_EV_ORDER_RETURNED) e.fault = GRADING_FAULT_SELLER;
    return e;
}

static grading_event_t review_ev(const char *id, const char *seller, int64_t t, uint32_t rating)
{
    grading_event_t e = base_event(id, seller, GRADING_EV_BUYER_REVIEW, t);
    e.rating = rating;
    e.recommendation = GRADING_REC_STRONGLY_RECOMMEND;
    return e;
}

/* ---- the fixture: a store, a zone, a writer ---- */

typedef struct {
    char root[64], dir[96];
    grading_store_t *st;
    grading_ingest_t *in;
    test_clock_t clock;
    grading_tz_t utc, seoul;
} fixture_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void open_store(fixture_t *f, uint64_t map, uint64_t max)
{
    grading_store_options_t o = {.dir = f->dir, .map_size = map, .max_map_size = max};
    grading_error_t e = {0};
    grading_err_t err = grading_store_open(&o, &f->st, &e);
    if (err) fail_msg("open: %s %s", grading_err_name(err), e.message);
}

static void start_writer(fixture_t *f)
{
    assert_int_equal(grading_ingest_start(f->st, clock_now, &f->clock, &f->in), GRADING_OK);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    pthread_mutex_lock(&done_mu);
    done_count = 0;
    pthread_mutex_unlock(&done_mu);
    strcpy(f->root, "/tmp/grading-ingest-XXXXXX");
    if (!mkdtemp(f->root)) return -1;
    snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
    pthread_mutex_init(&f->clock.mu, NULL);
    pthread_cond_init(&f->clock.cv, NULL);
    f->clock.now = T0 + 123;
    if (grading_tz_init_fixed(&f->utc, "UTC", 0)) return -1;
    if (grading_tz_init_fixed(&f->seoul, "+09:00", 9 * 3600)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->in) grading_ingest_stop(f->in);
    if (f->st) grading_store_close(f->st);
    grading_tz_destroy(&f->utc);
    grading_tz_destroy(&f->seoul);
    pthread_mutex_destroy(&f->clock.mu);
    pthread_cond_destroy(&f->clock.cv);
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static void stop_writer(fixture_t *f)
{
    grading_ingest_stop(f->in);   /* drains the queue */
    f->in = NULL;
}

static grading_day_counters_t sum_days(fixture_t *f, const char *mp, const char *seller,
                                       int32_t from, int32_t to)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    grading_day_counters_t acc;
    grading_day_counters_init(&acc);
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_days_sum(t, mp, seller, from, to, &acc), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return acc;
}

static bool event_seen(fixture_t *f, const char *id)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    bool seen = false;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_event_seen(t, id, &seen), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return seen;
}

static int32_t utc_day(int64_t ms)
{
    return (int32_t)(ms / DAY_MS);   /* T0-based times are after 1970 */
}

/* ---- tests ---- */

static void test_batch_is_counted_and_callback_sees_the_commit(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    start_writer(f);
    tbatch_t *t = tb_new(10, "kr", &f->utc);
    t->check_store = f->st;
    t->ev[0] = order_ev("e0", "s1", "o1", GRADING_EV_ORDER_PAID, T0 + 1000);
    t->ev[1] = order_ev("e1", "s1", "o1", GRADING_EV_ORDER_SHIPPED, T0 + DAY_MS + 1000);
    t->ev[2] = order_ev("e2", "s1", "o1", GRADING_EV_ORDER_DELIVERED, T0 + 3 * DAY_MS);
    t->ev[3] = review_ev("e3", "s1", T0 + 5000, 4);
    t->ev[3].shipping_rating = 3;   /* rated; the inquiry response is not */
    t->ev[4] = base_event("e4", "s1", GRADING_EV_CUSTOM, T0 + 6000);
    t->ev[4].name = "photo_reviews";
    t->ev[4].value = 2.5;
    t->ev[5] = base_event("e5", "s1", GRADING_EV_INQUIRY_RECEIVED, T0 + 7000);
    t->ev[5].ref_id = "q1";
    t->ev[6] = base_event("e6", "s1", GRADING_EV_INQUIRY_ANSWERED, T0 + 7000 + 3600000);
    t->ev[6].ref_id = "q1";
    t->ev[7] = base_event("e7", "s1", GRADING_EV_PLATFORM_REVENUE, T0 + 8000);
    t->ev[7].amount = 500;
    t->ev[7].currency = "KRW";
    t->ev[8] = base_event("e8", "s1", GRADING_EV_DELIVERY_SATISFACTION, T0 + 9000);
    t->ev[8].score = 80;
    t->ev[9] = order_ev("e9", "s1", "o1", GRADING_EV_ORDER_CANCELLED, T0 + 10000);
    grading_ingest_submit(f->in, &t->b);
    stop_writer(f);

    assert_int_equal(t->calls, 1);
    assert_int_equal(t->err, GRADING_OK);
    assert_int_equal(t->accepted, 10);
    assert_int_equal(t->duplicates, 0);
    assert_true(t->seen_at_callback);

    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0 - 1, d0 + 10);
    assert_true(s.c[GRADING_C_ORDERS] == 1);
    assert_true(s.c[GRADING_C_GMV] == 25000);
    assert_true(s.c[GRADING_C_SHIPPED] == 1);
    assert_true(s.c[GRADING_C_SHIPPED_ON_TIME] == 1);
    assert_true(s.c[GRADING_C_SHIPPED_TRACKING_VALID] == 1);
    assert_true(s.c[GRADING_C_DELIVERED] == 1);
    assert_true(s.c[GRADING_C_CANCELS] == 1);
    assert_true(s.c[GRADING_C_CANCELS_SELLER_FAULT] == 1);
    assert_true(s.c[GRADING_C_CANCELS_OUT_OF_STOCK] == 1);
    assert_true(s.c[GRADING_C_REVIEWS] == 1);
    assert_true(s.c[GRADING_C_RATING_SUM] == 4);
    assert_true(s.c[GRADING_C_SHIPPING_RATINGS] == 1);
    assert_true(s.c[GRADING_C_SHIPPING_RATING_SUM] == 3);
    assert_true(s.c[GRADING_C_INQUIRY_RATINGS] == 0);
    assert_true(s.c[GRADING_C_INQUIRY_RATING_SUM] == 0);
    assert_true(s.c[GRADING_C_STRONGLY_RECOMMEND] == 1);
    assert_true(s.c[GRADING_C_INQUIRIES] == 1);
    assert_true(s.c[GRADING_C_INQUIRIES_ANSWERED] == 1);
    assert_true(s.c[GRADING_C_INQUIRIES_ANSWERED_24H] == 1);
    assert_true(s.c[GRADING_C_PLATFORM_REVENUE] == 500);
    assert_true(s.c[GRADING_C_DELIVERY_SATISFACTION_SUM] == 80);
    assert_true(s.c[GRADING_C_DELIVERY_SATISFACTION_COUNT] == 1);
    assert_true(grading_day_counters_custom(&s, "photo_reviews") == 2.5);

    /* Each counter sits on its own day. */
    s = sum_days(f, "kr", "s1", d0, d0);
    assert_true(s.c[GRADING_C_ORDERS] == 1 && s.c[GRADING_C_SHIPPED] == 0);
    s = sum_days(f, "kr", "s1", d0 + 1, d0 + 1);
    assert_true(s.c[GRADING_C_SHIPPED] == 1 && s.c[GRADING_C_ORDERS] == 0);
    s = sum_days(f, "kr", "s1", d0 + 3, d0 + 3);
    assert_true(s.c[GRADING_C_DELIVERED] == 1);
    /* Nothing leaked to another marketplace. */
    s = sum_days(f, "jp", "s1", d0 - 1, d0 + 10);
    assert_true(s.c[GRADING_C_ORDERS] == 0);
    tb_free(t);
}

static void test_batches_submitted_one_after_another_each_complete(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    start_writer(f);
    tbatch_t *t[4];
    for (int i = 0; i < 4; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "seq%d", i);
        t[i] = tb_new(1, "kr", &f->utc);
        snprintf(t[i]->ids[0], sizeof t[i]->ids[0], "%s", prefix);
        t[i]->ev[0] = review_ev(t[i]->ids[0], "s1", T0, 5);
        grading_ingest_submit(f->in, &t[i]->b);
        wait_done(i + 1);   /* the queue is empty again before the next */
        assert_int_equal(t[i]->calls, 1);
        assert_int_equal(t[i]->err, GRADING_OK);
        assert_true(event_seen(f, prefix));
    }
    stop_writer(f);
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0, d0);
    assert_true(s.c[GRADING_C_REVIEWS] == 4);
    for (int i = 0; i < 4; i++) tb_free(t[i]);
}

/* The same id with the same content is a duplicate; with other content a
 * conflict: neither changes a counter, and the conflicts are named. */
static void test_duplicates_within_a_batch_across_a_group_and_across_restarts(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    start_writer(f);
    tbatch_t *a = tb_new(3, "kr", &f->utc), *b = tb_new(3, "kr", &f->utc),
             *gate = tb_new(1, "kr", &f->utc);
    gate->ev[0] = review_ev("gate", "s-gate", T0, 5);
    a->ev[0] = review_ev("r1", "s1", T0, 5);
    a->ev[1] = review_ev("r2", "s1", T0, 4);
    a->ev[2] = review_ev("r1", "s1", T0, 5);   /* same id and content in the same batch */
    b->ev[0] = review_ev("r1", "s1", T0, 3);   /* same id, other content: conflicts */
    b->ev[1] = review_ev("r3", "s1", T0, 2);
    b->ev[2] = review_ev("r2", "s1", T0, 4);   /* a retry of a's: a duplicate */

    /* Hold the writer on the gate batch so a and b form one group. */
    clock_gate(&f->clock, true);
    grading_ingest_submit(f->in, &gate->b);
    clock_wait_entered(&f->clock, 1);
    grading_ingest_submit(f->in, &a->b);
    grading_ingest_submit(f->in, &b->b);
    clock_gate(&f->clock, false);
    stop_writer(f);
    assert_int_equal(f->clock.entered, 2);   /* two groups: the gate, then a + b */

    assert_int_equal(a->err, GRADING_OK);
    assert_int_equal(a->accepted, 2);
    assert_int_equal(a->duplicates, 1);
    assert_int_equal(a->rep.nconflicts, 0);
    assert_int_equal(b->err, GRADING_OK);
    assert_int_equal(b->accepted, 1);
    assert_int_equal(b->duplicates, 1);
    assert_int_equal(b->rep.nconflicts, 1);
    assert_int_equal(b->rep.conflict_indexes[0], 0);
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0, d0);
    assert_true(s.c[GRADING_C_REVIEWS] == 3);
    assert_true(s.c[GRADING_C_RATING_SUM] == 5 + 4 + 2);   /* the conflict changed nothing */

    /* After a restart the same batch is all duplicates and changes nothing;
     * the hash stored with the id still tells a conflict. */
    grading_store_close(f->st);
    f->st = NULL;
    open_store(f, 0, 0);
    start_writer(f);
    a->calls = 0;
    a->ev[1] = review_ev("r2", "s1", T0, 1);
    grading_ingest_submit(f->in, &a->b);
    stop_writer(f);
    assert_int_equal(a->calls, 1);
    assert_int_equal(a->err, GRADING_OK);
    assert_int_equal(a->accepted, 0);
    assert_int_equal(a->duplicates, 2);
    assert_int_equal(a->rep.nconflicts, 1);
    assert_int_equal(a->rep.conflict_indexes[0], 1);
    s = sum_days(f, "kr", "s1", d0, d0);
    assert_true(s.c[GRADING_C_REVIEWS] == 3);
    assert_true(s.c[GRADING_C_RATING_SUM] == 11);
    tb_free(a);
    tb_free(b);
    tb_free(gate);
}

/* One order's life; times chosen near local midnight in Seoul so the
 * days depend on the zone, with a shipping delay (not on time). */
#define NLIFE 6
static void order_life(grading_event_t *ev, char (*ids)[48], const char *seller)
{
    const int64_t paid = T0 + 14 * 3600000 + 59 * 60000;   /* 23:59 in Seoul */
    const grading_event_kind_t kinds[NLIFE] = {
        GRADING_EV_ORDER_PAID, GRADING_EV_ORDER_SHIPPED, GRADING_EV_ORDER_DELIVERED,
        GRADING_EV_ORDER_RETURNED, GRADING_EV_ORDER_EXCHANGED, GRADING_EV_NON_RECEIPT};
    const int64_t at[NLIFE] = {paid, paid + 3 * DAY_MS + 120000, paid + 5 * DAY_MS,
                               paid + 6 * DAY_MS, paid + 7 * DAY_MS, paid + 8 * DAY_MS};
    for (int i = 0; i < NLIFE; i++) {
        snprintf(ids[i], sizeof ids[i], "%s-ev%d", seller, i);
        ev[i] = order_ev(ids[i], seller, "order-1", kinds[i], at[i]);
    }
}

static void test_arrival_order_does_not_change_the_counters(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    start_writer(f);
    /* "fwd": in order in one batch; "rev": reversed, one event per batch;
     * "mix": a shuffle in one batch with a retry of the shipped event. */
    tbatch_t *fwd = tb_new(NLIFE, "kr", &f->seoul), *mix = tb_new(NLIFE + 1, "kr", &f->seoul);
    tbatch_t *rev[NLIFE];
    grading_event_t life[NLIFE];
    char ids[3][NLIFE][48];
    order_life(fwd->ev, ids[0], "fwd");
    order_life(life, ids[2], "mix");
    const int shuffle[NLIFE + 1] = {3, 1, 5, 0, 1, 4, 2};
    for (int i = 0; i < NLIFE + 1; i++) mix->ev[i] = life[shuffle[i]];
    grading_ingest_submit(f->in, &fwd->b);
    grading_event_t rlife[NLIFE];
    order_life(rlife, ids[1], "rev");
    for (int i = 0; i < NLIFE; i++) {
        rev[i] = tb_new(1, "kr", &f->seoul);
        rev[i]->ev[0] = rlife[NLIFE - 1 - i];
        grading_ingest_submit(f->in, &rev[i]->b);
    }
    grading_ingest_submit(f->in, &mix->b);
    stop_writer(f);
    assert_int_equal(fwd->err, GRADING_OK);
    assert_int_equal(mix->err, GRADING_OK);
    assert_int_equal(mix->accepted, NLIFE);
    assert_int_equal(mix->duplicates, 1);

    int32_t paid_day = grading_tz_day(&f->seoul, fwd->ev[0].occurred_ms);
    for (int32_t d = paid_day - 2; d <= paid_day + 10; d++) {
        grading_day_counters_t a = sum_days(f, "kr", "fwd", d, d);
        grading_day_counters_t b = sum_days(f, "kr", "rev", d, d);
        grading_day_counters_t c = sum_days(f, "kr", "mix", d, d);
        assert_memory_equal(a.c, b.c, sizeof a.c);
        assert_memory_equal(a.c, c.c, sizeof a.c);
    }
    grading_day_counters_t all = sum_days(f, "kr", "rev", paid_day - 2, paid_day + 10);
    assert_true(all.c[GRADING_C_ORDERS] == 1);
    assert_true(all.c[GRADING_C_GMV] == 25000);
    assert_true(all.c[GRADING_C_SHIPPED] == 1);
    assert_true(all.c[GRADING_C_SHIPPED_ON_TIME] == 0);   /* 3 days late on a 2-day promise */
    assert_true(all.c[GRADING_C_DELIVERED] == 1);
    assert_true(all.c[GRADING_C_RETURNS] == 1 && all.c[GRADING_C_RETURNS_SELLER_FAULT] == 1);
    assert_true(all.c[GRADING_C_EXCHANGES] == 1);
    assert_true(all.c[GRADING_C_NON_RECEIPTS] == 1);
    grading_day_counters_t first = sum_days(f, "kr", "rev", paid_day, paid_day);
    assert_true(first.c[GRADING_C_ORDERS] == 1);   /* the Seoul day, not the UTC one */
    tb_free(fwd);
    tb_free(mix);
    for (int i = 0; i < NLIFE; i++) tb_free(rev[i]);
}

static void test_an_earlier_paid_event_moves_the_order_to_its_day(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    start_writer(f);
    tbatch_t *late = tb_new(2, "kr", &f->utc), *early = tb_new(2, "kr", &f->utc);
    late->ev[0] = order_ev("p-late", "s1", "o1", GRADING_EV_ORDER_PAID, T0 + 2 * DAY_MS);
    late->ev[1] = base_event("a-late", "s1", GRADING_EV_INQUIRY_ANSWERED, T0 + 2 * DAY_MS);
    late->ev[1].ref_id = "q1";
    early->ev[0] = order_ev("p-early", "s1", "o1", GRADING_EV_ORDER_PAID, T0);
    early->ev[0].amount = 40000;
    early->ev[1] = base_event("q-early", "s1", GRADING_EV_INQUIRY_RECEIVED, T0);
    early->ev[1].ref_id = "q1";
    grading_ingest_submit(f->in, &late->b);
    grading_ingest_submit(f->in, &early->b);
    stop_writer(f);
    assert_int_equal(late->err, GRADING_OK);
    assert_int_equal(early->err, GRADING_OK);
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s0 = sum_days(f, "kr", "s1", d0, d0);
    grading_day_counters_t s2 = sum_days(f, "kr", "s1", d0 + 2, d0 + 2);
    assert_true(s0.c[GRADING_C_ORDERS] == 1 && s0.c[GRADING_C_GMV] == 40000);
    assert_true(s2.c[GRADING_C_ORDERS] == 0 && s2.c[GRADING_C_GMV] == 0);
    /* The answer came 2 days after the inquiry: answered, not within 24 h. */
    assert_true(s0.c[GRADING_C_INQUIRIES] == 1);
    assert_true(s0.c[GRADING_C_INQUIRIES_ANSWERED_24H] == 0);
    assert_true(s2.c[GRADING_C_INQUIRIES_ANSWERED] == 1);
    tb_free(late);
    tb_free(early);
}

static void test_a_batch_touching_many_days_and_sellers_counts_each(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    start_writer(f);
    /* 40 days x 3 sellers, interleaved, then a second pass over the same
     * days: more distinct day records than the writer keeps at once. */
    const uint32_t ndays = 40, nsellers = 3, n = 2 * ndays * nsellers;
    tbatch_t *t = tb_new(n, "kr", &f->utc);
    uint32_t k = 0;
    for (uint32_t pass = 0; pass < 2; pass++)
        for (uint32_t d = 0; d < ndays; d++)
            for (uint32_t s = 0; s < nsellers; s++, k++) {
                snprintf(t->ids[k], sizeof t->ids[k], "ev-%u", k);
                snprintf(t->sellers[k], sizeof t->sellers[k], "seller-%u", s);
                t->ev[k] = review_ev(t->ids[k], t->sellers[k], T0 + (int64_t)d * DAY_MS,
                                     1 + (s + d + pass) % 5);
            }
    grading_ingest_submit(f->in, &t->b);
    stop_writer(f);
    assert_int_equal(t->err, GRADING_OK);
    assert_int_equal(t->accepted, n);
    int32_t d0 = utc_day(T0);
    for (uint32_t s = 0; s < nsellers; s++) {
        char seller[32];
        snprintf(seller, sizeof seller, "seller-%u", s);
        for (uint32_t d = 0; d < ndays; d++) {
            grading_day_counters_t c = sum_days(f, "kr", seller, d0 + (int32_t)d, d0 + (int32_t)d);
            assert_true(c.c[GRADING_C_REVIEWS] == 2);
            assert_true(c.c[GRADING_C_RATING_SUM] ==
                        (int64_t)(1 + (s + d) % 5) + (int64_t)(1 + (s + d + 1) % 5));
        }
    }
    tb_free(t);
}

static void test_a_bad_batch_fails_alone_in_its_group(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    start_writer(f);
    tbatch_t *gate = tb_new(1, "kr", &f->utc), *bad = tb_new(2, "kr", &f->utc),
             *good = tb_new(1, "kr", &f->utc);
    gate->ev[0] = review_ev("gate", "s0", T0, 5);
    bad->ev[0] = review_ev("bad-0", "s1", T0, 5);
    bad->ev[1] = review_ev("", "s1", T0, 5);   /* no id: the store refuses it */
    good->ev[0] = review_ev("good-0", "s1", T0, 3);
    clock_gate(&f->clock, true);
    grading_ingest_submit(f->in, &gate->b);
    clock_wait_entered(&f->clock, 1);
    grading_ingest_submit(f->in, &bad->b);
    grading_ingest_submit(f->in, &good->b);
    clock_gate(&f->clock, false);
    stop_writer(f);
    assert_int_equal(f->clock.entered, 2);
    assert_int_equal(bad->calls, 1);
    assert_int_equal(bad->err, GRADING_EINVAL);
    assert_int_equal(bad->accepted, 0);
    assert_int_equal(good->err, GRADING_OK);
    assert_int_equal(good->accepted, 1);
    assert_false(event_seen(f, "bad-0"));   /* nothing of the bad batch */
    assert_true(event_seen(f, "good-0"));
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0, d0);
    assert_true(s.c[GRADING_C_REVIEWS] == 1 && s.c[GRADING_C_RATING_SUM] == 3);
    tb_free(gate);
    tb_free(bad);
    tb_free(good);
}

/* n reviews, each by its own seller: one day record per event. */
static tbatch_t *wide_batch(fixture_t *f, const char *prefix, uint32_t n)
{
    tbatch_t *t = tb_new(n, "kr", &f->utc);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(t->ids[i], sizeof t->ids[i], "%s-ev-%u", prefix, i);
        snprintf(t->sellers[i], sizeof t->sellers[i], "%s-seller-%u", prefix, i);
        t->ev[i] = review_ev(t->ids[i], t->sellers[i], T0, 4);
    }
    return t;
}

#define TINY_MAP (UINT64_C(256) << 10)

static void test_a_batch_that_cannot_fit_fails_efull_and_a_small_one_commits(void **state)
{
    fixture_t *f = *state;
    open_store(f, TINY_MAP, TINY_MAP);   /* cannot grow */
    start_writer(f);
    tbatch_t *gate = wide_batch(f, "gate", 1), *big = wide_batch(f, "big", 4000),
             *small = wide_batch(f, "small", 2);
    clock_gate(&f->clock, true);
    grading_ingest_submit(f->in, &gate->b);
    clock_wait_entered(&f->clock, 1);
    grading_ingest_submit(f->in, &big->b);     /* big and small form one group */
    grading_ingest_submit(f->in, &small->b);
    clock_gate(&f->clock, false);
    stop_writer(f);

    assert_int_equal(gate->err, GRADING_OK);
    assert_int_equal(big->calls, 1);
    assert_int_equal(big->err, GRADING_EFULL);
    assert_int_equal(big->accepted, 0);
    assert_int_equal(small->calls, 1);
    assert_int_equal(small->err, GRADING_OK);
    assert_int_equal(small->accepted, 2);
    assert_true(grading_store_map_size(f->st) == TINY_MAP);
    assert_true(event_seen(f, "small-ev-0") && event_seen(f, "small-ev-1"));
    assert_false(event_seen(f, "big-ev-0"));
    assert_false(event_seen(f, "big-ev-1999"));
    assert_false(event_seen(f, "big-ev-3999"));
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "big-seller-0", d0, d0);
    assert_true(s.c[GRADING_C_REVIEWS] == 0);
    s = sum_days(f, "kr", "small-seller-1", d0, d0);
    assert_true(s.c[GRADING_C_REVIEWS] == 1);
    tb_free(gate);
    tb_free(big);
    tb_free(small);
}

static void test_the_map_grows_when_a_batch_needs_it(void **state)
{
    fixture_t *f = *state;
    open_store(f, TINY_MAP, UINT64_C(16) << 20);
    start_writer(f);
    tbatch_t *big = wide_batch(f, "big", 4000), *small = wide_batch(f, "small", 3);
    grading_ingest_submit(f->in, &big->b);
    grading_ingest_submit(f->in, &small->b);
    stop_writer(f);
    assert_int_equal(big->err, GRADING_OK);
    assert_int_equal(big->accepted, 4000);
    assert_int_equal(small->err, GRADING_OK);
    assert_true(grading_store_map_size(f->st) > TINY_MAP);
    assert_true(event_seen(f, "big-ev-0") && event_seen(f, "big-ev-3999"));
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "big-seller-3999", d0, d0);
    assert_true(s.c[GRADING_C_REVIEWS] == 1);
    tb_free(big);
    tb_free(small);
}

static void *stop_thread(void *arg)
{
    grading_ingest_stop(arg);
    return NULL;
}

static void submit_next(tbatch_t *t)
{
    grading_ingest_submit(t->in, &t->next_submit->b);
}

static void test_submit_after_stop_began_is_eshutdown_and_queued_work_drains(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    start_writer(f);
    tbatch_t *queued = wide_batch(f, "queued", 2), *waiting = wide_batch(f, "waiting", 1),
             *late = wide_batch(f, "late", 1), *from_cb = wide_batch(f, "from-cb", 1);
    queued->then = submit_next;   /* submits from the writer thread, during the drain */
    queued->in = f->in;
    queued->next_submit = from_cb;

    clock_gate(&f->clock, true);
    grading_ingest_submit(f->in, &queued->b);
    clock_wait_entered(&f->clock, 1);   /* the writer holds `queued` */
    grading_ingest_submit(f->in, &waiting->b);   /* still in the queue when stop begins */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_thread, f->in), 0);
    bool stopping = false;
    for (long i = 0; i < 100000000 && !stopping; i++) {
        stopping = grading_ingest_stopping(f->in);
        if (!stopping) sched_yield();
    }
    assert_true(stopping);

    grading_ingest_submit(f->in, &late->b);
    assert_int_equal(late->calls, 1);   /* at once, on this thread */
    assert_int_equal(late->err, GRADING_ESHUTDOWN);

    clock_gate(&f->clock, false);
    assert_int_equal(pthread_join(th, NULL), 0);
    f->in = NULL;   /* stopped and freed by the thread */
    assert_int_equal(queued->calls, 1);
    assert_int_equal(queued->err, GRADING_OK);
    assert_int_equal(queued->accepted, 2);
    assert_int_equal(waiting->calls, 1);
    assert_int_equal(waiting->err, GRADING_OK);
    assert_true(event_seen(f, "waiting-ev-0"));
    assert_int_equal(from_cb->calls, 1);
    assert_int_equal(from_cb->err, GRADING_ESHUTDOWN);
    assert_true(event_seen(f, "queued-ev-1"));
    assert_false(event_seen(f, "late-ev-0"));
    assert_false(event_seen(f, "from-cb-ev-0"));
    tb_free(queued);
    tb_free(waiting);
    tb_free(late);
    tb_free(from_cb);
}

static void test_apply_inside_an_aborted_transaction_leaves_nothing(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    tbatch_t *t = wide_batch(f, "x", 3);
    grading_txn_t *txn;
    uint32_t acc = 99, dup = 99;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_ingest_apply(txn, &t->b, T0, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, 3);
    assert_int_equal(dup, 0);
    grading_txn_abort(txn);
    assert_false(event_seen(f, "x-ev-0"));
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "x-seller-0", d0, d0);
    assert_true(s.c[GRADING_C_REVIEWS] == 0);
    /* An empty batch is fine and changes nothing. */
    grading_ingest_batch_t empty = {0};
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_ingest_apply(txn, &empty, T0, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, 0);
    assert_int_equal(dup, 0);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    tb_free(t);
}

/* Applies t in its own committed transaction; returns the apply's result. */
static grading_err_t apply_now(fixture_t *f, tbatch_t *t, uint32_t *acc, uint32_t *dup)
{
    grading_txn_t *txn = NULL;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    grading_err_t err = grading_ingest_apply(txn, &t->b, T0, acc, dup);
    if (err) {
        grading_txn_abort(txn);
        return err;
    }
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    return GRADING_OK;
}

/* A cancellation whose payment was not seen counts in no rate; it waits on
 * the order's timeline and counts once when the payment arrives. */
static void test_an_orphan_cancellation_counts_once_when_its_payment_arrives(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    uint32_t acc, dup;
    int32_t d0 = utc_day(T0);
    tbatch_t *c = tb_new(2, "kr", &f->utc);
    c->ev[0] = order_ev("c1", "s1", "o9", GRADING_EV_ORDER_CANCELLED, T0 + 5000);
    c->ev[1] = order_ev("c2", "s1", "o9", GRADING_EV_ORDER_SHIPPED, T0 + 4000);
    assert_int_equal(apply_now(f, c, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, 2);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_CANCELS] == 0);
    assert_true(s.c[GRADING_C_CANCELS_SELLER_FAULT] == 0);
    assert_true(s.c[GRADING_C_SHIPPED] == 0);
    assert_true(s.c[GRADING_C_ORDERS] == 0);
    assert_true(s.c[GRADING_C_ORPHANS_PENDING] == 1);   /* one order, two held events */

    tbatch_t *p = tb_new(1, "kr", &f->utc);
    p->ev[0] = order_ev("p1", "s1", "o9", GRADING_EV_ORDER_PAID, T0 + 1000);
    assert_int_equal(apply_now(f, p, &acc, &dup), GRADING_OK);
    s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_ORDERS] == 1);
    assert_true(s.c[GRADING_C_CANCELS] == 1);
    assert_true(s.c[GRADING_C_CANCELS_SELLER_FAULT] == 1);
    assert_true(s.c[GRADING_C_SHIPPED] == 1);
    assert_true(s.c[GRADING_C_ORPHANS_PENDING] == 0);

    /* the retries change nothing: the cancellation is counted exactly once */
    assert_int_equal(apply_now(f, c, &acc, &dup), GRADING_OK);
    assert_int_equal(dup, 2);
    s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_CANCELS] == 1);
    assert_true(s.c[GRADING_C_ORDERS] == 1);
    tb_free(c);
    tb_free(p);
}

/* A review that arrives before its order's payment keeps every rating it
 * carries, 11st's shipping and inquiry aspects too, and counts them all
 * once the payment arrives. */
static void test_a_held_review_keeps_its_aspect_ratings(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    uint32_t acc, dup;
    int32_t d0 = utc_day(T0);
    tbatch_t *r = tb_new(1, "kr", &f->utc);
    r->ev[0] = review_ev("r1", "s1", T0 + 5000, 4);
    r->ev[0].ref_id = "o7";
    r->ev[0].shipping_rating = 3;
    r->ev[0].inquiry_rating = 5;
    assert_int_equal(apply_now(f, r, &acc, &dup), GRADING_OK);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_SHIPPING_RATINGS] == 0);
    assert_true(s.c[GRADING_C_INQUIRY_RATINGS] == 0);

    tbatch_t *p = tb_new(1, "kr", &f->utc);
    p->ev[0] = order_ev("p7", "s1", "o7", GRADING_EV_ORDER_PAID, T0 + 1000);
    assert_int_equal(apply_now(f, p, &acc, &dup), GRADING_OK);
    s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_SHIPPING_RATINGS] == 1);
    assert_true(s.c[GRADING_C_SHIPPING_RATING_SUM] == 3);
    assert_true(s.c[GRADING_C_INQUIRY_RATINGS] == 1);
    assert_true(s.c[GRADING_C_INQUIRY_RATING_SUM] == 5);
    tb_free(r);
    tb_free(p);
}

/* 100 seller-fault cancellations of never-paid orders beside 40 clean
 * orders: the cancel count stays 0, so no rate can pass 100 %. */
static void test_unpaid_cancellations_never_push_a_rate_past_100_percent(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    uint32_t acc, dup;
    tbatch_t *t = tb_new(140, "kr", &f->utc);
    for (uint32_t i = 0; i < 140; i++) {
        snprintf(t->ids[i], sizeof t->ids[i], "ev-%u", i);
        snprintf(t->sellers[i], sizeof t->sellers[i], "ord-%u", i);
        t->ev[i] = order_ev(t->ids[i], "s1", t->sellers[i],
                            i < 40 ? GRADING_EV_ORDER_PAID : GRADING_EV_ORDER_CANCELLED, T0 + i);
    }
    assert_int_equal(apply_now(f, t, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, 140);
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0, d0);
    assert_true(s.c[GRADING_C_ORDERS] == 40);
    assert_true(s.c[GRADING_C_CANCELS_SELLER_FAULT] == 0);
    assert_true(s.c[GRADING_C_CANCELS_SELLER_FAULT] <= s.c[GRADING_C_ORDERS]);
    assert_true(s.c[GRADING_C_ORPHANS_PENDING] == 100);
    tb_free(t);
}

/* An id stored before content hashes existed has no hash: whatever comes
 * with it again is a duplicate, never a conflict. */
static void test_an_id_stored_without_a_hash_is_a_duplicate(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    grading_txn_t *txn = NULL;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_event_put(txn, "old-1", T0), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    uint32_t acc, dup;
    tbatch_t *t = tb_new(1, "kr", &f->utc);
    t->ev[0] = review_ev("old-1", "s1", T0, 2);
    assert_int_equal(apply_now(f, t, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, 0);
    assert_int_equal(dup, 1);
    assert_int_equal(t->rep.nconflicts, 0);
    tb_free(t);
}

/* A batch whose GMV would overflow the day's counter is refused whole,
 * with the event and field named, and nothing of it is stored. */
static void test_a_batch_overflowing_a_counter_is_refused_whole(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    uint32_t acc, dup;
    int32_t d0 = utc_day(T0);
    tbatch_t *t = tb_new(20, "kr", &f->utc);
    for (uint32_t i = 0; i < 20; i++) {
        snprintf(t->ids[i], sizeof t->ids[i], "big-%u", i);
        snprintf(t->sellers[i], sizeof t->sellers[i], "o-%u", i);
        t->ev[i] = order_ev(t->ids[i], "s1", t->sellers[i], GRADING_EV_ORDER_PAID, T0 + i);
        t->ev[i].amount = GRADING_MAX_AMOUNT;
    }
    assert_int_equal(apply_now(f, t, &acc, &dup), GRADING_ERANGE);
    assert_int_equal(t->rep.error.code, GRADING_ERANGE);
    /* 9 fit under INT64_MAX / 1024; the 10th would not */
    assert_string_equal(t->rep.error.field, "events[9].order_paid.amount");
    assert_non_null(strstr(t->rep.error.message, "gmv"));
    assert_false(event_seen(f, "big-0"));
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0, d0);
    assert_true(s.c[GRADING_C_ORDERS] == 0);
    assert_true(s.c[GRADING_C_GMV] == 0);
    /* the first nine alone fit */
    t->b.n = 9;
    assert_int_equal(apply_now(f, t, &acc, &dup), GRADING_OK);
    s = sum_days(f, "kr", "s1", d0, d0);
    assert_true(s.c[GRADING_C_GMV] == 9 * GRADING_MAX_AMOUNT);
    assert_true(s.c[GRADING_C_GMV] > 0);
    tb_free(t);
}

/* An orphan is kept in the orphans index by its first held event; the
 * drop removes it, moves its count from pending to dropped, and a payment
 * arriving after the drop counts as an order without those events. */
static void test_an_expired_orphan_is_dropped_and_counted(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    uint32_t acc, dup;
    int32_t d0 = utc_day(T0);
    tbatch_t *c = tb_new(2, "kr", &f->utc);
    c->ev[0] = order_ev("d1", "s1", "o5", GRADING_EV_ORDER_CANCELLED, T0 + 9000);
    c->ev[1] = order_ev("d2", "s1", "o5", GRADING_EV_ORDER_SHIPPED, T0 + 3000);   /* the first held */
    assert_int_equal(apply_now(f, c, &acc, &dup), GRADING_OK);

    grading_orphan_t page[4];
    size_t n = 0;
    grading_store_reader_t *rd;
    grading_txn_t *txn;
    assert_int_equal(grading_store_reader_new(f->st, &rd), GRADING_OK);
    assert_int_equal(grading_store_read_begin(rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_orphan_page(txn, T0 + 2999, page, 4, &n), GRADING_OK);
    assert_int_equal(n, 0);   /* not before its first held event */
    assert_int_equal(grading_store_orphan_page(txn, T0 + 3000, page, 4, &n), GRADING_OK);
    grading_store_read_end(rd);
    assert_int_equal(n, 1);
    assert_true(page[0].since_ms == T0 + 3000);
    assert_string_equal(page[0].mp, "kr");
    assert_string_equal(page[0].seller, "s1");
    assert_string_equal(page[0].order_id, "o5");

    int64_t now = T0 + 40 * DAY_MS;
    bool dropped = false;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_ingest_drop_orphan(txn, &page[0], &f->utc, now, &dropped), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_true(dropped);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0 - 1, d0 + 41);
    assert_true(s.c[GRADING_C_ORPHANS_PENDING] == 0);
    assert_true(s.c[GRADING_C_ORPHANS_DROPPED] == 1);
    s = sum_days(f, "kr", "s1", d0 + 40, d0 + 40);   /* on the day of the drop */
    assert_true(s.c[GRADING_C_ORPHANS_DROPPED] == 1);
    assert_int_equal(grading_store_read_begin(rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_orphan_page(txn, INT64_MAX, page, 4, &n), GRADING_OK);
    grading_store_read_end(rd);
    assert_int_equal(n, 0);

    /* the payment, late: an order, without the dropped events */
    tbatch_t *p = tb_new(1, "kr", &f->utc);
    p->ev[0] = order_ev("d3", "s1", "o5", GRADING_EV_ORDER_PAID, T0 + 1000);
    assert_int_equal(apply_now(f, p, &acc, &dup), GRADING_OK);
    s = sum_days(f, "kr", "s1", d0 - 1, d0 + 41);
    assert_true(s.c[GRADING_C_ORDERS] == 1);
    assert_true(s.c[GRADING_C_CANCELS] == 0);
    assert_true(s.c[GRADING_C_SHIPPED] == 0);
    assert_true(s.c[GRADING_C_ORPHANS_DROPPED] == 1);
    /* their retries are duplicates */
    assert_int_equal(apply_now(f, c, &acc, &dup), GRADING_OK);
    assert_int_equal(dup, 2);
    grading_store_reader_free(rd);
    tb_free(c);
    tb_free(p);
}

/* An index entry whose order was paid meanwhile is stale: the drop only
 * removes the entry. The payment itself removes the entry too. */
static void test_a_paid_order_leaves_the_orphans_index(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    uint32_t acc, dup;
    tbatch_t *t = tb_new(2, "kr", &f->utc);
    t->ev[0] = order_ev("x1", "s1", "o6", GRADING_EV_ORDER_DELIVERED, T0 + 5000);
    t->ev[1] = order_ev("x2", "s1", "o6", GRADING_EV_ORDER_PAID, T0 + 1000);
    assert_int_equal(apply_now(f, t, &acc, &dup), GRADING_OK);
    grading_store_reader_t *rd;
    grading_txn_t *txn;
    grading_orphan_t page[2];
    size_t n = 9;
    assert_int_equal(grading_store_reader_new(f->st, &rd), GRADING_OK);
    assert_int_equal(grading_store_read_begin(rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_orphan_page(txn, INT64_MAX, page, 2, &n), GRADING_OK);
    grading_store_read_end(rd);
    assert_int_equal(n, 0);
    /* a stale entry (as if left by a crash of an older build) */
    grading_orphan_t stale = {.since_ms = T0 + 5000};
    snprintf(stale.mp, sizeof stale.mp, "kr");
    snprintf(stale.seller, sizeof stale.seller, "s1");
    snprintf(stale.order_id, sizeof stale.order_id, "o6");
    bool dropped = true;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_orphan_put(txn, stale.since_ms, "kr", "s1", "o6"), GRADING_OK);
    assert_int_equal(grading_ingest_drop_orphan(txn, &stale, &f->utc, T0 + 90 * DAY_MS, &dropped), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_false(dropped);
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0 - 1, d0 + 91);
    assert_true(s.c[GRADING_C_DELIVERED] == 1);
    assert_true(s.c[GRADING_C_ORPHANS_DROPPED] == 0);
    grading_store_reader_free(rd);
    tb_free(t);
}

/* A review and a satisfaction score of an order not paid yet count in no
 * rate; the payment brings them in, once. A review of a paid order counts
 * at once. */
static void test_a_review_before_its_payment_waits_for_it(void **state)
{
    fixture_t *f = *state;
    open_store(f, 0, 0);
    uint32_t acc, dup;
    int32_t d0 = utc_day(T0);
    tbatch_t *h = tb_new(2, "kr", &f->utc);
    h->ev[0] = review_ev("rv-1", "s1", T0 + 7000, 2);
    h->ev[0].ref_id = "o8";
    h->ev[1] = base_event("ds-1", "s1", GRADING_EV_DELIVERY_SATISFACTION, T0 + 8000);
    h->ev[1].ref_id = "o8";
    h->ev[1].score = 40;
    assert_int_equal(apply_now(f, h, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, 2);
    grading_day_counters_t s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_REVIEWS] == 0);
    assert_true(s.c[GRADING_C_RATING_SUM] == 0);
    assert_true(s.c[GRADING_C_DELIVERY_SATISFACTION_COUNT] == 0);
    assert_true(s.c[GRADING_C_ORPHANS_PENDING] == 1);

    tbatch_t *p = tb_new(2, "kr", &f->utc);
    p->ev[0] = order_ev("pd-8", "s1", "o8", GRADING_EV_ORDER_PAID, T0 + 1000);
    p->ev[1] = review_ev("rv-2", "s1", T0 + 9000, 5);   /* another order's, paid below */
    p->ev[1].ref_id = "o1";
    assert_int_equal(apply_now(f, p, &acc, &dup), GRADING_OK);
    s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_REVIEWS] == 1);   /* o8's; o1 is not paid yet */
    assert_true(s.c[GRADING_C_RATING_SUM] == 2);
    assert_true(s.c[GRADING_C_NOT_RECOMMENDED] + s.c[GRADING_C_STRONGLY_RECOMMEND] == 1);
    assert_true(s.c[GRADING_C_DELIVERY_SATISFACTION_COUNT] == 1);
    assert_true(s.c[GRADING_C_DELIVERY_SATISFACTION_SUM] == 40);
    assert_true(s.c[GRADING_C_ORPHANS_PENDING] == 1);   /* o1 */

    tbatch_t *q = tb_new(2, "kr", &f->utc);
    q->ev[0] = order_ev("pd-1", "s1", "o1", GRADING_EV_ORDER_PAID, T0 + 500);
    q->ev[1] = review_ev("rv-3", "s1", T0 + 9500, 4);   /* o8 is paid: counts at once */
    q->ev[1].ref_id = "o8";
    assert_int_equal(apply_now(f, q, &acc, &dup), GRADING_OK);
    s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_REVIEWS] == 3);
    assert_true(s.c[GRADING_C_RATING_SUM] == 2 + 5 + 4);
    assert_true(s.c[GRADING_C_ORDERS] == 2);
    assert_true(s.c[GRADING_C_ORPHANS_PENDING] == 0);
    /* retries change nothing */
    assert_int_equal(apply_now(f, h, &acc, &dup), GRADING_OK);
    assert_int_equal(apply_now(f, p, &acc, &dup), GRADING_OK);
    s = sum_days(f, "kr", "s1", d0 - 1, d0 + 1);
    assert_true(s.c[GRADING_C_REVIEWS] == 3);
    assert_true(s.c[GRADING_C_DELIVERY_SATISFACTION_COUNT] == 1);
    tb_free(h);
    tb_free(p);
    tb_free(q);
}

/* ---- deriving once per group commit ---- */

/* A derive that counts its calls per seller, notes the reviews the seller
 * has when it runs, and fails for the seller named `boom`. Called on the
 * writer thread only. */
typedef struct {
    const char *boom;
    int calls[4];                /* sellers s0..s3 */
    int boom_calls;
    uint64_t reviews_seen[4];    /* at the last call */
    int32_t day;
} derive_log_t;

static grading_err_t logging_derive(void *ctx, grading_txn_t *txn, const char *mp, const char *seller, int64_t now)
{
    derive_log_t *l = ctx;
    (void)now;
    if (l->boom && strcmp(seller, l->boom) == 0) {
        l->boom_calls++;
        return GRADING_EINVAL;
    }
    int i = seller[0] == 's' && seller[1] >= '0' && seller[1] <= '3' && !seller[2] ? seller[1] - '0' : -1;
    if (i < 0) return GRADING_EINVAL;
    grading_day_counters_t d;
    bool found;
    grading_err_t err = grading_store_day_get(txn, mp, seller, l->day, &d, &found);
    if (err) return err;
    l->calls[i]++;
    l->reviews_seen[i] = found ? (uint64_t)d.c[GRADING_C_REVIEWS] : 0;
    return GRADING_OK;
}

static void derive_with(tbatch_t *t, derive_log_t *l)
{
    t->b.derive = logging_derive;
    t->b.derive_ctx = l;
}

static void test_a_seller_in_several_batches_of_a_group_is_derived_once(void **state)
{
    fixture_t *f = *state;
    derive_log_t log = {.day = utc_day(T0)};
    open_store(f, 0, 0);
    start_writer(f);
    tbatch_t *gate = tb_new(1, "kr", &f->utc), *a = tb_new(2, "kr", &f->utc), *b = tb_new(1, "kr", &f->utc),
             *c = tb_new(2, "kr", &f->utc);
    gate->ev[0] = review_ev("gate", "s0", T0, 5);
    a->ev[0] = review_ev("a-0", "s1", T0, 5);
    a->ev[1] = review_ev("a-1", "s2", T0, 4);
    b->ev[0] = review_ev("b-0", "s1", T0, 3);
    c->ev[0] = review_ev("c-0", "s1", T0, 2);
    c->ev[1] = review_ev("a-0", "s1", T0, 5);   /* a duplicate: derives nothing more */
    derive_with(gate, &log);
    derive_with(a, &log);
    derive_with(b, &log);
    derive_with(c, &log);
    clock_gate(&f->clock, true);   /* a, b and c wait behind the gate: one group */
    grading_ingest_submit(f->in, &gate->b);
    clock_wait_entered(&f->clock, 1);
    grading_ingest_submit(f->in, &a->b);
    grading_ingest_submit(f->in, &b->b);
    grading_ingest_submit(f->in, &c->b);
    clock_gate(&f->clock, false);
    stop_writer(f);
    assert_int_equal(f->clock.entered, 2);   /* two transactions: the gate's, then the group's */
    assert_true(a->err == GRADING_OK && a->accepted == 2);
    assert_true(b->err == GRADING_OK && b->accepted == 1);
    assert_true(c->err == GRADING_OK && c->accepted == 1 && c->duplicates == 1);
    assert_int_equal(log.calls[0], 1);
    assert_int_equal(log.calls[1], 1);   /* three batches, one derivation */
    assert_int_equal(log.calls[2], 1);
    assert_int_equal(log.calls[3], 0);
    /* ...after all of them: it saw every review of the group */
    assert_int_equal(log.reviews_seen[1], 3);
    assert_int_equal(log.reviews_seen[2], 1);
    tb_free(gate);
    tb_free(a);
    tb_free(b);
    tb_free(c);
}

static void test_a_failed_batch_derives_nothing_and_a_failing_derive_fails_its_batch_alone(void **state)
{
    fixture_t *f = *state;
    derive_log_t log = {.day = utc_day(T0), .boom = "boom"};
    open_store(f, 0, 0);
    start_writer(f);
    tbatch_t *gate = tb_new(1, "kr", &f->utc), *bad = tb_new(2, "kr", &f->utc), *good = tb_new(1, "kr", &f->utc),
             *boom = tb_new(1, "kr", &f->utc), *late = tb_new(1, "kr", &f->utc);
    gate->ev[0] = review_ev("gate", "s0", T0, 5);
    bad->ev[0] = review_ev("bad-0", "s3", T0, 5);
    bad->ev[1] = review_ev("", "s3", T0, 5);   /* no id: the store refuses the batch */
    good->ev[0] = review_ev("good-0", "s1", T0, 4);
    boom->ev[0] = review_ev("boom-0", "boom", T0, 4);
    late->ev[0] = review_ev("late-0", "s2", T0, 3);
    derive_with(gate, &log);
    derive_with(bad, &log);
    derive_with(good, &log);
    derive_with(boom, &log);
    derive_with(late, &log);
    clock_gate(&f->clock, true);
    grading_ingest_submit(f->in, &gate->b);
    clock_wait_entered(&f->clock, 1);
    grading_ingest_submit(f->in, &bad->b);
    grading_ingest_submit(f->in, &good->b);
    grading_ingest_submit(f->in, &boom->b);
    grading_ingest_submit(f->in, &late->b);
    clock_gate(&f->clock, false);
    stop_writer(f);
    assert_int_equal(bad->err, GRADING_EINVAL);
    assert_int_equal(boom->err, GRADING_EINVAL);   /* its own derive failed: it alone */
    assert_int_equal(boom->accepted, 0);
    assert_true(good->err == GRADING_OK && good->accepted == 1);
    assert_true(late->err == GRADING_OK && late->accepted == 1);
    assert_int_equal(log.calls[3], 0);   /* the refused batch's seller was never derived */
    assert_false(event_seen(f, "bad-0"));
    assert_false(event_seen(f, "boom-0"));
    assert_true(event_seen(f, "good-0"));
    assert_true(event_seen(f, "late-0"));
    /* the committed derivations saw their batches' reviews */
    assert_int_equal(log.reviews_seen[1], 1);
    assert_int_equal(log.reviews_seen[2], 1);
    int32_t d0 = utc_day(T0);
    grading_day_counters_t s = sum_days(f, "kr", "boom", d0, d0);
    assert_int_equal(s.c[GRADING_C_REVIEWS], 0);
    tb_free(gate);
    tb_free(bad);
    tb_free(good);
    tb_free(boom);
    tb_free(late);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_batch_is_counted_and_callback_sees_the_commit),
        T(test_batches_submitted_one_after_another_each_complete),
        T(test_duplicates_within_a_batch_across_a_group_and_across_restarts),
        T(test_arrival_order_does_not_change_the_counters),
        T(test_an_earlier_paid_event_moves_the_order_to_its_day),
        T(test_a_batch_touching_many_days_and_sellers_counts_each),
        T(test_a_bad_batch_fails_alone_in_its_group),
        T(test_a_batch_that_cannot_fit_fails_efull_and_a_small_one_commits),
        T(test_the_map_grows_when_a_batch_needs_it),
        T(test_submit_after_stop_began_is_eshutdown_and_queued_work_drains),
        T(test_apply_inside_an_aborted_transaction_leaves_nothing),
        T(test_an_orphan_cancellation_counts_once_when_its_payment_arrives),
        T(test_a_held_review_keeps_its_aspect_ratings),
        T(test_unpaid_cancellations_never_push_a_rate_past_100_percent),
        T(test_an_id_stored_without_a_hash_is_a_duplicate),
        T(test_a_batch_overflowing_a_counter_is_refused_whole),
        T(test_an_expired_orphan_is_dropped_and_counted),
        T(test_a_paid_order_leaves_the_orphans_index),
        T(test_a_review_before_its_payment_waits_for_it),
        T(test_a_seller_in_several_batches_of_a_group_is_derived_once),
        T(test_a_failed_batch_derives_nothing_and_a_failing_derive_fails_its_batch_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
