/* End-to-end: a store written before the cancel / return / exchange cells
 * existed, opened by gradingd. The days are written in process the way an
 * older build left them (the same counters, no cells, no `cells_counted`
 * key); gradingd counts the cells from the orders at start-up, before it
 * serves, so metrics with `exclude` (policies/examples/cancel-causes.yaml)
 * answer over real gRPC as if the store had always had them; an event after
 * that counts once, and a restart does not walk again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "events.h"
#include "grading/assess.h"
#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"
#include "testsrv.h"

#define MP "example_jp"
#define SELLER "old-1"
#define AS_OF "2026-11-20T00:00:00+09:00"
#define NORDERS 20
#define COUNTED "counted the cancel, return and exchange cells of 1 sellers"

static char g_policy[E2E_PATH_MAX];

/* What the older build stored: every counter but the cells. */
typedef struct {
    int32_t day[16];
    grading_day_counters_t d[16];
    size_t n;
} days_t;

static grading_err_t keep_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    days_t *x = ctx;
    if (x->n >= 16) return GRADING_EFULL;
    x->day[x->n] = day;
    x->d[x->n++] = *d;
    return GRADING_OK;
}

/* Orders 0..19 paid on Nov 5; cancelled an hour later: 0-2 seller /
 * out_of_stock, 3-6 seller / buyer_request, 7-8 buyer / other, 9 platform /
 * shipping_delay; returned a day later: 15 buyer, 16 seller. */
static void write_old_store(const char *data_dir)
{
    static grading_event_t ev[NORDERS + 12];
    static char ids[NORDERS + 12][24], orders[NORDERS][8];
    static const char *mps[NORDERS + 12];
    static const grading_tz_t *zones[NORDERS + 12];
    static days_t days;
    grading_policy_t *p = NULL;
    grading_policy_diags_t *diags = calloc(1, sizeof *diags);
    assert_non_null(diags);
    assert_int_equal(grading_policy_load_file(g_policy, &p, diags), GRADING_OK);
    free(diags);
    const grading_marketplace_t *mp = grading_policy_marketplace(p, MP);
    int64_t paid = e2e_time_ms("2026-11-05T10:00:00+09:00");
    uint32_t n = 0;
    for (int i = 0; i < NORDERS; i++) {
        snprintf(orders[i], sizeof orders[i], "o%d", i);
        int kinds[2] = {GRADING_EV_ORDER_PAID, i < 10 ? GRADING_EV_ORDER_CANCELLED
                                               : i == 15 || i == 16 ? GRADING_EV_ORDER_RETURNED : 0};
        for (int k = 0; k < 2 && kinds[k]; k++, n++) {
            snprintf(ids[n], sizeof ids[n], "old-%d-%d", i, k);
            ev[n] = (grading_event_t){.event_id = ids[n], .marketplace = MP, .seller_id = SELLER,
                                      .has_occurred_at = true, .kind = kinds[k], .ref_id = orders[i],
                                      .product_id = "p1", .currency = "", .amount = 1000};
            ev[n].occurred_ms = paid + k * (i < 10 ? 3600000 : 86400000);
            ev[n].fault = i < 7 || i == 16 ? GRADING_FAULT_SELLER : i < 9 || i == 15 ? GRADING_FAULT_BUYER
                                                                                     : GRADING_FAULT_PLATFORM;
            ev[n].reason = i < 3 ? GRADING_REASON_OUT_OF_STOCK : i < 7 ? GRADING_REASON_BUYER_REQUEST
                           : i < 9 ? GRADING_REASON_OTHER : GRADING_REASON_SHIPPING_DELAY;
            mps[n] = MP, zones[n] = &mp->tz;
        }
    }
    assert_int_equal(mkdir(data_dir, 0700), 0);
    grading_store_options_t o = {.dir = data_dir};
    grading_store_t *st = NULL;
    grading_txn_t *txn = NULL;
    grading_error_t e;
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_OK);
    assert_int_equal(grading_store_write_begin(st, NULL, &txn), GRADING_OK);
    grading_ingest_batch_t b = {.events = ev, .marketplaces = mps, .zones = zones, .n = n,
                                .derive = grading_assess_derive_cb, .derive_ctx = p};
    uint32_t accepted = 0, dup = 0;
    assert_int_equal(grading_ingest_apply(txn, &b, paid + 86400000 * 2, &accepted, &dup), GRADING_OK);
    assert_int_equal(accepted, n);
    days.n = 0;
    assert_int_equal(grading_store_days_foreach(txn, MP, SELLER, 0, INT32_MAX, keep_day, &days), GRADING_OK);
    assert_true(days.n >= 2);
    for (size_t i = 0; i < days.n; i++) {
        memset(&days.d[i].c[GRADING_C_CELLS_ADDED], 0,
               (GRADING_C_COUNT - GRADING_C_CELLS_ADDED) * sizeof days.d[i].c[0]);
        assert_int_equal(grading_store_day_put(txn, MP, SELLER, days.day[i], &days.d[i]), GRADING_OK);
    }
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    grading_store_close(st);
    grading_policy_unref(p);
}

static void assert_rates(grading_client_t *c, double cancel_rate, double claim_rate, double buyer_request_cells)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(c, MP, SELLER, AS_OF);
    assert_true(e2e_metric(m, "cancel_rate_all", "month") == (NORDERS / 2) / (double)NORDERS);
    assert_true(e2e_metric(m, "cancel_rate", "month") == cancel_rate);
    assert_true(e2e_metric(m, "claim_rate", "month") == claim_rate);
    assert_true(e2e_metric(m, "cancels_seller_fault_buyer_request", "month") == buyer_request_cells);
    assert_true(e2e_metric(m, "returns_buyer_fault", "month") == 1);
    e2e_metrics_free(m);
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_old_store_gets_its_cells(void **state)
{
    (void)state;
    snprintf(g_policy, sizeof g_policy, "%s/policies/examples/cancel-causes.yaml", e2e_env("GRADING_SOURCE_DIR"));
    const char *extra[] = {"--policy", g_policy, NULL};
    e2e_server_t *s = e2e_server_new(extra);
    write_old_store(s->data_dir);
    e2e_server_start(s);
    char *log = e2e_server_log(s);
    e2e_assert_contains(log, COUNTED);
    free(log);
    /* 3 seller stock-outs of 20; claims: 10 cancels - 2 the buyer's + 1 seller return */
    assert_rates(s->client, 3.0 / NORDERS, 9.0 / NORDERS, 4);

    /* a later cancel of an old order counts once */
    e2e_batch_t b;
    e2e_batch_init(&b);
    e2e_add_cancelled(&b, "new-17", MP, SELLER, "2026-11-06T10:00:00+09:00", "o17",
                      GRADING__V1__FAULT__FAULT_SELLER, GRADING__V1__CANCEL_REASON__CANCEL_REASON_BUYER_REQUEST);
    e2e_add_cancelled(&b, "new-18", MP, SELLER, "2026-11-06T10:00:00+09:00", "o18",
                      GRADING__V1__FAULT__FAULT_SELLER, GRADING__V1__CANCEL_REASON__CANCEL_REASON_OUT_OF_STOCK);
    e2e_record_ok(s->client, b.ev, b.n, 2, 0);
    e2e_batch_destroy(&b);
    /* cancel_rate_all is checked against 10 of 20: two more make 12 */
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, MP, SELLER, AS_OF);
    assert_true(e2e_metric(m, "cancel_rate_all", "month") == 12.0 / NORDERS);
    assert_true(e2e_metric(m, "cancel_rate", "month") == 4.0 / NORDERS);
    assert_true(e2e_metric(m, "cancels_seller_fault_buyer_request", "month") == 5);
    e2e_metrics_free(m);

    /* a restart does not walk again, and answers the same */
    e2e_server_stop_ok(s);
    e2e_server_start(s);
    log = e2e_server_log(s);
    assert_int_equal(count(log, COUNTED), 1);
    free(log);
    m = e2e_metrics(s->client, MP, SELLER, AS_OF);
    assert_true(e2e_metric(m, "cancel_rate", "month") == 4.0 / NORDERS);
    assert_true(e2e_metric(m, "claim_rate", "month") == 11.0 / NORDERS);
    e2e_metrics_free(m);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_store_gets_its_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
