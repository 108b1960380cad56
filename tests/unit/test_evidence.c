/* Evidence (grading/evidence.h) in process, linked against grading_grade
 * only: records and days written straight to a temporary store with the
 * counters' own arithmetic (grading_order_contribs), then read back in
 * pages. Covers what the e2e test cannot reach with its policy: a metric
 * over other metrics (one window, or several: then `window` is required),
 * custom counters (no record: all unlisted), counts with no record, and
 * every malformed page token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/appeal.h"
#include "grading/evidence.h"
#include "grading/policy.h"
#include "grading/store.h"

static const char *const POLICY =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: UTC\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      late: {window: 30d, value: shipped - shipped_on_time}\n"
    "      late_rate: {window: 30d, numerator: late, denominator: shipped}\n"
    "      late_twice: {value: late * 2}\n"
    "      mixed: {value: late + orders_90d}\n"
    "      orders_90d: {window: 90d, value: orders}\n"
    "      bonus: {window: 30d, value: custom.bonus + orders}\n";

#define DAY_MS INT64_C(86400000)
#define TODAY 20000                        /* 2024-10-04 */
#define AS_OF (TODAY * DAY_MS + 12 * 3600000)

typedef struct {
    char dir[64];
    grading_store_t *st;
    grading_policy_t *p;
    const grading_marketplace_t *mp;
    grading_store_reader_t *rd;
} fx_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Adds contributions k[0..n) to the seller's days in txn. */
static void add_days(grading_txn_t *txn, const char *seller, const grading_contrib_t *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        grading_day_counters_t d;
        bool found;
        assert_int_equal(grading_store_day_get(txn, "m", seller, k[i].day, &d, &found), GRADING_OK);
        assert_int_equal(grading_day_counters_apply(&d, &k[i]), GRADING_OK);
        assert_int_equal(grading_store_day_put(txn, "m", seller, k[i].day, &d), GRADING_OK);
    }
}

/* An order paid `day` days before today, shipped `ship` days after (-1: not). */
static void put_order(fx_t *fx, grading_txn_t *txn, const char *id, int day, int ship)
{
    grading_order_t o;
    grading_order_init(&o);
    o.paid_ms = (TODAY - day) * DAY_MS + 3600000;
    o.ship_within_days = 2;
    o.amount = 100;
    o.flags = GRADING_ORDER_HOLDS_UNPAID;
    if (ship >= 0) o.shipped_ms = o.paid_ms + ship * DAY_MS;
    grading_contrib_t k[GRADING_MAX_CONTRIBS];
    size_t n = 0;
    assert_int_equal(grading_order_contribs(&o, &fx->mp->tz, +1, k, GRADING_MAX_CONTRIBS, &n), GRADING_OK);
    add_days(txn, "s", k, n);
    assert_int_equal(grading_store_order_put(txn, "m", "s", id, &o), GRADING_OK);
}

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    *state = fx;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/grading-evidence-XXXXXX");
    if (!mkdtemp(fx->dir)) return -1;
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    grading_err_t err = grading_policy_load_buffer("t.yaml", POLICY, strlen(POLICY), &fx->p, d);
    for (size_t i = 0; err && i < d->count; i++) fprintf(stderr, "%s: %s\n", d->diags[i].where, d->diags[i].message);
    free(d);
    if (err) return -1;
    fx->mp = grading_policy_marketplace(fx->p, "m");
    grading_store_options_t o = {.dir = fx->dir};
    grading_error_t e;
    if (grading_store_open(&o, &fx->st, &e) || grading_store_reader_new(fx->st, &fx->rd)) return -1;
    grading_txn_t *txn;
    if (grading_store_write_begin(fx->st, NULL, &txn)) return -1;
    /* 4 orders in 30 days, 2 of them shipped late; 1 more 60 days ago */
    put_order(fx, txn, "a1", 3, 0);
    put_order(fx, txn, "a2", 8, 5);
    put_order(fx, txn, "a3", 10, 6);
    put_order(fx, txn, "a4", 1, -1);
    put_order(fx, txn, "b1", 60, 0);
    /* a custom event and an order count with no record (dropped, say) */
    grading_contrib_t k[2] = {{.day = TODAY - 1, .custom = "bonus", .fvalue = 2.5},
                              {.day = TODAY - 1, .counter = GRADING_C_ORDERS, .delta = 1}};
    add_days(txn, "s", k, 2);
    return grading_txn_commit(txn) ? -1 : 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    if (!fx) return 0;
    if (fx->rd) grading_store_reader_free(fx->rd);
    if (fx->st) grading_store_close(fx->st);
    if (fx->p) grading_policy_unref(fx->p);
    if (fx->dir[0]) nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static grading_err_t ask(fx_t *fx, grading_evidence_query_t q, grading_evidence_t **out, grading_error_t *e)
{
    if (!q.seller) q.seller = "s";
    q.as_of_ms = AS_OF;
    *out = NULL;
    memset(e, 0, sizeof *e);
    return grading_evidence_list(fx->rd, fx->mp, &q, out, e);
}

static const grading_evidence_counter_t *counter(const grading_evidence_t *ev, grading_counter_t c)
{
    for (size_t i = 0; i < ev->ncounters; i++)
        if (!ev->counters[i].custom && ev->counters[i].counter == c) return &ev->counters[i];
    fail_msg("no counter %s", grading_counter_name(c));
    return NULL;
}

static void test_metric_over_metrics(void **state)
{
    fx_t *fx = *state;
    grading_evidence_t *ev;
    grading_error_t e;
    /* late_rate names late: both 30 days */
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "late_rate"}, &ev, &e), GRADING_OK);
    assert_string_equal(ev->window.name, "30d");
    assert_int_equal(ev->first_day, TODAY - 29);
    assert_int_equal(ev->last_day, TODAY);
    assert_true(ev->value.available);
    assert_true(ev->value.value == 2.0 / 3.0);   /* a2 and a3 late of 3 shipped */
    assert_int_equal(ev->nentries, 3);           /* a4 is not shipped: it adds nothing read */
    assert_string_equal(ev->entries[0].id, "a1");
    assert_string_equal(ev->entries[2].id, "a3");
    assert_int_equal(ev->ncounters, 2);
    assert_int_equal(counter(ev, GRADING_C_SHIPPED)->listed, 3);
    assert_int_equal(counter(ev, GRADING_C_SHIPPED)->unlisted, 0);
    assert_int_equal(counter(ev, GRADING_C_SHIPPED_ON_TIME)->total, 1);
    grading_evidence_free(ev);
    /* late_twice has no window of its own: its counters' is the one */
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "late_twice"}, &ev, &e), GRADING_OK);
    assert_string_equal(ev->window.name, "30d");
    assert_true(ev->value.value == 4);
    grading_evidence_free(ev);
}

static void test_several_windows_need_one(void **state)
{
    fx_t *fx = *state;
    grading_evidence_t *ev;
    grading_error_t e;
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "mixed"}, &ev, &e), GRADING_EINVAL);
    assert_null(ev);
    assert_string_equal(e.field, "window");
    assert_non_null(strstr(e.message, "name the window"));
    /* with one, every metric it names reads that window */
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "mixed", .window = "90d"}, &ev, &e), GRADING_OK);
    assert_int_equal(counter(ev, GRADING_C_ORDERS)->total, 6);     /* 5 records and 1 without */
    assert_int_equal(counter(ev, GRADING_C_ORDERS)->listed, 5);
    assert_int_equal(counter(ev, GRADING_C_ORDERS)->unlisted, 1);
    assert_non_null(strstr(counter(ev, GRADING_C_ORDERS)->note, "no longer stored"));
    assert_true(ev->value.value == 2 + 6);
    assert_int_equal(ev->nentries, 5);
    grading_evidence_free(ev);
}

static void test_custom_counters_are_unlisted(void **state)
{
    fx_t *fx = *state;
    grading_evidence_t *ev;
    grading_error_t e;
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "bonus"}, &ev, &e), GRADING_OK);
    const grading_evidence_counter_t *c = NULL;
    for (size_t i = 0; i < ev->ncounters; i++)
        if (ev->counters[i].custom) c = &ev->counters[i];
    assert_non_null(c);
    assert_string_equal(c->custom, "bonus");
    assert_true(c->value_total == 2.5);
    assert_int_equal(c->listed, 0);
    assert_non_null(strstr(c->note, "custom"));
    assert_true(ev->value.value == 2.5 + 5);   /* 4 orders with records, 1 without, in 30 days */
    grading_evidence_free(ev);
}

static void test_pages_and_tokens(void **state)
{
    fx_t *fx = *state;
    grading_evidence_t *ev;
    grading_error_t e;
    char token[GRADING_EVIDENCE_TOKEN_MAX + 1];
    grading_evidence_query_t q = {.metric = "orders", .window = "90d", .page_size = 2};
    const char *want[] = {"a1", "a2", "a3", "a4", "b1"};
    size_t seen = 0;
    for (int page = 0; page < 10; page++) {
        assert_int_equal(ask(fx, q, &ev, &e), GRADING_OK);
        for (size_t i = 0; i < ev->nentries; i++) assert_string_equal(ev->entries[i].id, want[seen++]);
        snprintf(token, sizeof token, "%s", ev->next_page_token);
        grading_evidence_free(ev);
        if (!token[0]) break;
        q.page_token = token;
    }
    assert_int_equal(seen, 5);
    /* a token past every record gives an empty last page */
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "orders", .page_token = "697a"}, &ev, &e),
                     GRADING_OK);
    assert_int_equal(ev->nentries, 0);
    assert_string_equal(ev->next_page_token, "");
    grading_evidence_free(ev);
    static const char *const bad[] = {"6", "6f", "6f6", "6F61", "6f0061", "7861", "zz61", "6f61 ",
                                      "6f6161616161616161616161616161616161616161616161616161616161616161616161616161"
                                      "6161616161616161616161616161616161616161616161616161616161616161616161616161"
                                      "6161616161616161616161616161616161616161616161616161616161616161616161616161"
                                      "616161616161616161616161616161616161616161"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "orders", .page_token = bad[i]}, &ev, &e),
                         GRADING_EINVAL);
        assert_string_equal(e.field, "page_token");
    }
}

static void test_bad_queries(void **state)
{
    fx_t *fx = *state;
    grading_evidence_t *ev;
    grading_error_t e;
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "orders", .page_size = 1001}, &ev, &e),
                     GRADING_EINVAL);
    assert_string_equal(e.field, "page_size");
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "nope"}, &ev, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "metric");
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "orders", .window = "3w"}, &ev, &e),
                     GRADING_EINVAL);
    assert_string_equal(e.field, "window");
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "orders", .seller = "t"}, &ev, &e),
                     GRADING_ENOTFOUND);
    assert_string_equal(e.field, "seller_id");
    assert_null(ev);
    /* page_size 0 is the default */
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "orders", .window = "90d"}, &ev, &e), GRADING_OK);
    assert_int_equal(ev->nentries, 5);
    assert_string_equal(ev->next_page_token, "");
    grading_evidence_free(ev);
}

/* A window reaching back past what retention kept is refused, naming it
 * (the records might outlive their days). Restores the bound it sets. */
static void test_window_before_retention(void **state)
{
    fx_t *fx = *state;
    grading_evidence_t *ev;
    grading_error_t e;
    grading_txn_t *txn;
    char oldest[16];
    snprintf(oldest, sizeof oldest, "%d", TODAY - 400);
    assert_int_equal(grading_store_write_begin(fx->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_meta_put(txn, "oldest_day:m", oldest), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "orders", .window = "800d"}, &ev, &e),
                     GRADING_ESTATE);
    assert_string_equal(e.field, "window");
    assert_non_null(strstr(e.message, "before retention"));
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "orders", .window = "365d"}, &ev, &e), GRADING_OK);
    assert_int_equal(ev->nentries, 5);
    grading_evidence_free(ev);
    snprintf(oldest, sizeof oldest, "%d", TODAY - 1000);
    assert_int_equal(grading_store_write_begin(fx->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_meta_put(txn, "oldest_day:m", oldest), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
}

/* An appealed order (ExcludeEvents) is still listed, its contributions
 * marked excluded and not counted as listed: the days hold them apart, so
 * listed + unlisted stays the window's total. */
static void test_appealed_order_listed_as_excluded(void **state)
{
    fx_t *fx = *state;
    grading_txn_t *txn;
    const char *orders[] = {"a2"}, *metrics[] = {"late_rate"};
    grading_appeal_req_t req = {.marketplace = "m", .seller = "s", .order_ids = orders, .norders = 1,
                                .metrics = metrics, .nmetrics = 1, .reason = "carrier_delay"};
    grading_appeal_result_t res = {0};
    grading_error_t e;
    assert_int_equal(grading_store_write_begin(fx->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_appeal_apply(txn, fx->p, &req, AS_OF, &res, &e), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_true(res.changed);
    grading_appeal_result_free(&res);

    grading_evidence_t *ev;
    assert_int_equal(ask(fx, (grading_evidence_query_t){.metric = "late_rate"}, &ev, &e), GRADING_OK);
    assert_true(ev->value.value == 1.0 / 2.0);   /* a3 late of a1, a3 */
    assert_int_equal(ev->nentries, 3);
    assert_string_equal(ev->entries[1].id, "a2");
    assert_true(ev->entries[1].ncontribs > 0);
    for (uint32_t i = 0; i < ev->entries[1].ncontribs; i++) assert_true(ev->entries[1].contribs[i].excluded);
    for (uint32_t i = 0; i < ev->entries[0].ncontribs; i++) assert_false(ev->entries[0].contribs[i].excluded);
    assert_int_equal(counter(ev, GRADING_C_SHIPPED)->total, 2);
    assert_int_equal(counter(ev, GRADING_C_SHIPPED)->listed, 2);
    assert_int_equal(counter(ev, GRADING_C_SHIPPED)->unlisted, 0);
    assert_int_equal(counter(ev, GRADING_C_SHIPPED_ON_TIME)->unlisted, 0);
    grading_evidence_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_over_metrics),  cmocka_unit_test(test_several_windows_need_one),
        cmocka_unit_test(test_custom_counters_are_unlisted), cmocka_unit_test(test_pages_and_tokens),
        cmocka_unit_test(test_bad_queries),          cmocka_unit_test(test_window_before_retention),
        cmocka_unit_test_setup_teardown(test_appealed_order_listed_as_excluded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
