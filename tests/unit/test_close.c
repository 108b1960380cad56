/* ClosePeriod's machinery in process: a real store and writer, the e2e
 * policy's testmart scheme. A close counts every seller once, answers
 * already_closed the second time, refuses a period that has not ended,
 * writes nothing on a dry run, resumes after a crash midway (simulated by
 * leaving the state a killed close leaves), and feeds published grades and
 * strikes back into the assessment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grading/assess.h"
#include "grading/close.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

#define NSELLERS 2500
#define PAGE 1000

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
    "        levels: [A, B, C]\n"
    "        grade:\n"
    "          - {level: 1, when: \"orders_month >= 3\"}\n"
    "          - {level: 2, when: \"orders_month >= 1\"}\n"
    "        otherwise: 3\n"
    "        new_seller: 3\n"
    "    history:\n"
    "      strikes: {program: q, strikes_at_level: 3, relief_at_level: 1, over: 12, limit: 3}\n"
    "    penalties:\n"
    "      repeat:\n"
    "        - {stage: 1, name: terminated, when: \"history.strikes >= 2\", "
    "restrictions: [contract_termination]}\n"
    "    benefits:\n"
    "      boost: \"q.published == 1 ? 2.0 : 1.0\"\n";

/* 2026-10-15 12:00 KST and 2026-11-10 12:00 KST */
#define OCT_MS INT64_C(1792033200000)
#define NOV_MS INT64_C(1794279600000)
#define DEC_2_MS INT64_C(1796180400000)   /* 2026-12-02 12:00 KST: October and November ended */

typedef struct {
    char dir[64];
    grading_store_t *st;
    grading_ingest_t *in;
    grading_policy_t *p;
    const grading_marketplace_t *mp;
    int64_t now;
} fx_t;

static int64_t fx_now(void *ctx)
{
    return ((fx_t *)ctx)->now;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Seller i has (i % 4) orders paid in the month of `when` (0 orders: an
 * inquiry only, so the seller exists). */
static void record_month(fx_t *fx, int64_t when, const char *tag)
{
    static grading_event_t ev[4 * NSELLERS];
    static const char *mps[4 * NSELLERS];
    static const grading_tz_t *zones[4 * NSELLERS];
    static char ids[4 * NSELLERS][32], sellers[NSELLERS][16], refs[4 * NSELLERS][32];
    uint32_t n = 0;
    for (int i = 0; i < NSELLERS; i++) {
        snprintf(sellers[i], sizeof sellers[i], "s%05d", i);
        int k = i % 4;
        for (int j = 0; j < (k ? k : 1); j++, n++) {
            memset(&ev[n], 0, sizeof ev[n]);
            snprintf(ids[n], sizeof ids[n], "%s-%d-%d", tag, i, j);
            snprintf(refs[n], sizeof refs[n], "%s-o%d-%d", tag, i, j);
            ev[n].event_id = ids[n];
            ev[n].marketplace = "m";
            ev[n].seller_id = sellers[i];
            ev[n].has_occurred_at = true;
            ev[n].occurred_ms = when;
            ev[n].ref_id = refs[n];
            if (k) {
                ev[n].kind = GRADING_EV_ORDER_PAID;
                ev[n].product_id = "p";
                ev[n].currency = "KRW";
                ev[n].amount = 1000;
            } else {
                ev[n].kind = GRADING_EV_INQUIRY_RECEIVED;
            }
            mps[n] = "m";
            zones[n] = &fx->mp->tz;
        }
    }
    grading_txn_t *txn;
    assert_int_equal(grading_store_write_begin(fx->st, NULL, &txn), GRADING_OK);
    grading_ingest_batch_t b = {.events = ev, .marketplaces = mps, .zones = zones, .n = n,
                                .derive = grading_assess_derive_cb, .derive_ctx = fx->p};
    uint32_t acc, dup;
    assert_int_equal(grading_ingest_apply(txn, &b, when, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, n);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
}

static int setup(void **state)
{
    static fx_t fx;
    memset(&fx, 0, sizeof fx);
    snprintf(fx.dir, sizeof fx.dir, "/tmp/grading-close-XXXXXX");
    if (!mkdtemp(fx.dir)) return -1;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    grading_err_t err = grading_policy_load_buffer("t.yaml", POLICY, strlen(POLICY), &fx.p, d);
    for (size_t i = 0; err && i < d->count; i++) fprintf(stderr, "%s: %s\n", d->diags[i].where, d->diags[i].message);
    free(d);
    if (err) return -1;
    fx.mp = grading_policy_marketplace(fx.p, "m");
    grading_store_options_t o = {.dir = fx.dir};
    grading_error_t e;
    if (grading_store_open(&o, &fx.st, &e)) return -1;
    fx.now = DEC_2_MS;
    if (grading_ingest_start(fx.st, fx_now, &fx, &fx.in)) return -1;
    record_month(&fx, OCT_MS, "oct");
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    grading_ingest_stop(fx->in);
    grading_store_close(fx->st);
    grading_policy_unref(fx->p);
    nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static uint64_t period_count(fx_t *fx, const char *period)
{
    grading_store_reader_t *rd;
    grading_txn_t *txn;
    uint64_t n;
    assert_int_equal(grading_store_reader_new(fx->st, &rd), GRADING_OK);
    assert_int_equal(grading_store_read_begin(rd, &txn), GRADING_OK);
    assert_int_equal(grading_store_period_count(txn, "m", GRADING_PERIOD_MONTH, period, &n), GRADING_OK);
    grading_store_read_end(rd);
    grading_store_reader_free(rd);
    return n;
}

static grading_err_t close_month(fx_t *fx, const char *period, bool dry, grading_close_result_t *res,
                                 grading_error_t *e)
{
    memset(e, 0, sizeof *e);
    return grading_close_period(fx->st, fx->in, fx->p, fx->mp, GRADING_PERIOD_MONTH, period, dry,
                                fx->now, PAGE, res, e);
}

/* Sellers with 3 orders -> A, 1..2 -> B, none -> C: 625 / 1250 / 625. */
static void check_distribution(const grading_close_t *c)
{
    assert_int_equal(c->nprograms, 1);
    assert_int_equal(c->nlevels[0], 3);
    assert_int_equal(c->counts[0][0], NSELLERS / 4);
    assert_int_equal(c->counts[0][1], NSELLERS / 2);
    assert_int_equal(c->counts[0][2], NSELLERS / 4);
}

static void test_close_once(void **state)
{
    fx_t *fx = *state;
    grading_close_result_t res;
    grading_error_t e;
    assert_int_equal(close_month(fx, "2026-10", true, &res, &e), GRADING_OK);
    assert_int_equal(res.state.evaluated, NSELLERS);
    check_distribution(&res.state);
    assert_int_equal(period_count(fx, "2026-10"), 0);   /* the dry run wrote nothing */

    assert_int_equal(close_month(fx, "2026-10", false, &res, &e), GRADING_OK);
    assert_false(res.already_closed);
    assert_int_equal(res.state.evaluated, NSELLERS);
    assert_true(res.state.done);
    check_distribution(&res.state);
    assert_int_equal(period_count(fx, "2026-10"), NSELLERS);

    assert_int_equal(close_month(fx, "2026-10", false, &res, &e), GRADING_OK);
    assert_true(res.already_closed);
    assert_int_equal(res.state.evaluated, NSELLERS);
    check_distribution(&res.state);
    assert_int_equal(period_count(fx, "2026-10"), NSELLERS);
}

static void test_not_ended_and_bad_names(void **state)
{
    fx_t *fx = *state;
    grading_close_result_t res;
    grading_error_t e;
    assert_int_equal(close_month(fx, "2026-12", false, &res, &e), GRADING_ESTATE);
    assert_string_equal(e.field, "period");
    assert_non_null(strstr(e.message, "has not ended"));
    assert_int_equal(close_month(fx, "2026-13", false, &res, &e), GRADING_EINVAL);
    assert_non_null(strstr(e.message, "YYYY-MM"));
    assert_int_equal(close_month(fx, "2026-Q3", false, &res, &e), GRADING_EINVAL);
    assert_int_equal(period_count(fx, "2026-12"), 0);
}

/* A close killed after its first page leaves the first 1000 sellers and a
 * cursor; calling again finishes it with each seller counted once. */
static void test_resume_after_crash(void **state)
{
    fx_t *fx = *state;
    grading_close_result_t res;
    grading_error_t e;
    /* a month before any event: nobody was a seller yet, nobody is closed */
    assert_int_equal(close_month(fx, "2026-09", false, &res, &e), GRADING_OK);
    assert_true(res.state.done);
    assert_int_equal(res.state.evaluated, 0);
    assert_int_equal(period_count(fx, "2026-09"), 0);
    /* November, as a close killed after its first page left it: 1000
     * sellers written, the cursor at the last of them */
    grading_txn_t *txn;
    assert_int_equal(grading_store_write_begin(fx->st, NULL, &txn), GRADING_OK);
    grading_close_t c = {0};
    c.nprograms = 1;
    c.nlevels[0] = 3;
    c.levels[0][0] = 1, c.levels[0][1] = 2, c.levels[0][2] = 3;
    grading_period_rec_t rec = {.n = 1};
    for (int i = 0; i < PAGE; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%05d", i);
        rec.p[0].level = 3;   /* November: no events, so C */
        assert_int_equal(grading_store_period_put(txn, "m", GRADING_PERIOD_MONTH, "2026-11", id, &rec), GRADING_OK);
        c.counts[0][2]++;
        c.evaluated++;
        snprintf(c.cursor, sizeof c.cursor, "%s", id);
    }
    assert_int_equal(grading_store_close_put(txn, "m", GRADING_PERIOD_MONTH, "2026-11", &c), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);

    assert_int_equal(close_month(fx, "2026-11", false, &res, &e), GRADING_OK);
    assert_false(res.already_closed);
    assert_int_equal(res.state.evaluated, NSELLERS);
    assert_int_equal(res.state.counts[0][2], NSELLERS);
    assert_int_equal(period_count(fx, "2026-11"), NSELLERS);
}

/* Published grades and strikes come back into the assessment. */
static void test_published_and_strikes(void **state)
{
    fx_t *fx = *state;
    grading_close_result_t res;
    grading_error_t e;
    assert_int_equal(close_month(fx, "2026-10", false, &res, &e), GRADING_OK);
    assert_int_equal(close_month(fx, "2026-11", false, &res, &e), GRADING_OK);
    grading_store_reader_t *rd;
    grading_txn_t *txn;
    grading_assess_t *x = grading_assess_new();
    assert_non_null(x);
    assert_int_equal(grading_store_reader_new(fx->st, &rd), GRADING_OK);
    assert_int_equal(grading_store_read_begin(rd, &txn), GRADING_OK);
    /* s00003 had 3 orders in October: A in October, C in November (no
     * orders): one strike, the relief was before it */
    assert_int_equal(grading_assess_seller(txn, fx->mp, "s00003", DEC_2_MS, x, &e), GRADING_OK);
    assert_true(x->has_published[0]);
    assert_int_equal(x->published[0].level, 3);
    assert_string_equal(x->published_period[0], "2026-11");
    assert_true(x->hist.value[0] == 1);
    assert_int_equal(x->a.ladders[0].stage, 0);
    assert_true(x->a.boost == 1.0);
    /* s00000 had no orders: C in both months: two strikes -> terminated */
    assert_int_equal(grading_assess_seller(txn, fx->mp, "s00000", DEC_2_MS, x, &e), GRADING_OK);
    assert_true(x->hist.value[0] == 2);
    assert_int_equal(x->a.ladders[0].stage, 1);
    assert_true(x->a.suspended);
    assert_true(x->a.boost == 0);
    /* as of mid-November only October is closed: published A for s00003 */
    assert_int_equal(grading_assess_seller(txn, fx->mp, "s00003", NOV_MS, x, &e), GRADING_OK);
    assert_int_equal(x->published[0].level, 1);
    assert_string_equal(x->published_period[0], "2026-10");
    assert_true(x->a.boost == 2.0);
    grading_store_read_end(rd);
    grading_store_reader_free(rd);
    grading_assess_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_close_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_ended_and_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_published_and_strikes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
