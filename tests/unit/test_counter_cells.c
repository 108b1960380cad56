/* The cells behind cancels, returns and exchanges (src/core/counter_cells.c
 * and grading_order_contribs): every cancel lands in exactly one fault x
 * reason cell, every return and exchange in one fault cell, the cells sum
 * to the marginals, and exclusions pick the right cells. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "grading/counters.h"

#define T0 INT64_C(1790000000000)   /* 2026-09 */
#define DAY_MS INT64_C(86400000)

static grading_tz_t g_tz;

/* The counters of one order record, all on one day's record. */
static void contribs_of(const grading_order_t *o, grading_day_counters_t *d)
{
    grading_contrib_t ks[GRADING_MAX_CONTRIBS];
    size_t n = 0;
    grading_day_counters_init(d);
    assert_int_equal(grading_order_contribs(o, &g_tz, +1, ks, GRADING_MAX_CONTRIBS, &n), GRADING_OK);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        grading_contrib_t k = ks[i];
        k.day = 0;   /* paid and cancelled on one day anyway */
        assert_int_equal(grading_day_counters_apply(d, &k), GRADING_OK);
    }
}

static int64_t sum_mask(const grading_day_counters_t *d, uint64_t mask)
{
    int64_t s = 0;
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (mask >> c & 1) s += d->c[c];
    return s;
}

static uint64_t cells(grading_counter_t c, uint32_t faults, uint32_t reasons)
{
    grading_exclusion_t ex = {faults, reasons};
    uint64_t m = 0;
    assert_true(grading_counter_cells(c, &ex, &m));
    return m;
}

static int popcount(uint64_t m)
{
    return __builtin_popcountll(m);
}

/* Every fault x reason (and values a record should not hold): one cell. */
static void test_cancel_lands_in_one_cell(void **state)
{
    (void)state;
    static const grading_counter_t fault_marginal[GRADING_NFAULTS] = {
        GRADING_C_COUNT, GRADING_C_CANCELS_SELLER_FAULT, GRADING_C_CANCELS_BUYER_FAULT,
        GRADING_C_CANCELS_PLATFORM_FAULT};
    static const grading_counter_t reason_marginal[GRADING_NREASONS] = {
        GRADING_C_COUNT, GRADING_C_CANCELS_OUT_OF_STOCK, GRADING_C_CANCELS_SHIPPING_DELAY,
        GRADING_C_CANCELS_BUYER_REQUEST, GRADING_C_CANCELS_OTHER};
    uint64_t all = cells(GRADING_C_CANCELS, 0, 0);
    assert_int_equal(popcount(all), GRADING_NFAULTS * GRADING_NREASONS);
    uint64_t seen = 0;
    for (int32_t f = -1; f <= GRADING_NFAULTS; f++)
        for (int32_t r = -1; r <= GRADING_NREASONS; r++) {
            grading_order_t o = {.paid_ms = T0, .cancelled_ms = T0 + 3600000, .cancel_fault = f,
                                 .cancel_reason = r};
            grading_day_counters_t d;
            contribs_of(&o, &d);
            int32_t fk = f >= 0 && f < GRADING_NFAULTS ? f : 0, rk = r >= 0 && r < GRADING_NREASONS ? r : 0;
            grading_counter_t cell = grading_cancel_cell(f, r);
            assert_true(all >> cell & 1);
            assert_int_equal(d.c[cell], 1);
            assert_int_equal(sum_mask(&d, all), 1);   /* exactly one cell */
            seen |= UINT64_C(1) << cell;
            /* the cells sum to the marginals */
            assert_int_equal(sum_mask(&d, all), d.c[GRADING_C_CANCELS]);
            for (int32_t k = 1; k < GRADING_NFAULTS; k++)
                assert_int_equal(sum_mask(&d, cells(fault_marginal[k], 0, 0)), d.c[fault_marginal[k]]);
            for (int32_t k = 1; k < GRADING_NREASONS; k++)
                assert_int_equal(sum_mask(&d, cells(reason_marginal[k], 0, 0)), d.c[reason_marginal[k]]);
            assert_int_equal(d.c[fault_marginal[fk == 0 ? 1 : fk]], fk == 0 ? 0 : 1);
            assert_int_equal(d.c[reason_marginal[rk == 0 ? 1 : rk]], rk == 0 ? 0 : 1);
        }
    assert_true(seen == all);   /* every cell is reachable */
}

/* Returns and exchanges: one fault cell each, summing to the total. */
static void test_return_exchange_cells(void **state)
{
    (void)state;
    uint64_t rall = cells(GRADING_C_RETURNS, 0, 0), xall = cells(GRADING_C_EXCHANGES, 0, 0);
    assert_int_equal(popcount(rall), GRADING_NFAULTS);
    assert_int_equal(popcount(xall), GRADING_NFAULTS);
    assert_true(rall >> GRADING_C_RETURNS_SELLER_FAULT & 1);
    assert_true(xall >> GRADING_C_EXCHANGES_SELLER_FAULT & 1);
    for (int32_t f = -1; f <= GRADING_NFAULTS; f++) {
        grading_order_t o = {.paid_ms = T0, .returned_ms = T0 + 1000, .exchanged_ms = T0 + 2000,
                             .return_fault = f, .exchange_fault = f};
        grading_day_counters_t d;
        contribs_of(&o, &d);
        assert_int_equal(d.c[grading_return_cell(f)], 1);
        assert_int_equal(d.c[grading_exchange_cell(f)], 1);
        assert_int_equal(sum_mask(&d, rall), d.c[GRADING_C_RETURNS]);
        assert_int_equal(sum_mask(&d, xall), d.c[GRADING_C_EXCHANGES]);
        assert_int_equal(d.c[GRADING_C_RETURNS_SELLER_FAULT], f == GRADING_FAULT_SELLER);
        assert_int_equal(d.c[GRADING_C_EXCHANGES_SELLER_FAULT], f == GRADING_FAULT_SELLER);
    }
}

/* What exclusions leave. */
static void test_exclusion_masks(void **state)
{
    (void)state;
    uint32_t buyer_platform = 1u << GRADING_FAULT_BUYER | 1u << GRADING_FAULT_PLATFORM;
    uint32_t buyer_request = 1u << GRADING_REASON_BUYER_REQUEST;
    assert_int_equal(popcount(cells(GRADING_C_CANCELS, 0, buyer_request)), 16);
    uint64_t both = cells(GRADING_C_CANCELS, buyer_platform, buyer_request);
    assert_int_equal(popcount(both), 2 * 4);   /* unspecified and seller x 4 reasons */
    assert_false(both >> grading_cancel_cell(GRADING_FAULT_SELLER, GRADING_REASON_BUYER_REQUEST) & 1);
    assert_false(both >> grading_cancel_cell(GRADING_FAULT_BUYER, GRADING_REASON_OUT_OF_STOCK) & 1);
    assert_true(both >> grading_cancel_cell(GRADING_FAULT_SELLER, GRADING_REASON_OUT_OF_STOCK) & 1);
    /* a marginal keeps only its own cells */
    assert_int_equal(popcount(cells(GRADING_C_CANCELS_SELLER_FAULT, 0, buyer_request)), 4);
    assert_int_equal(cells(GRADING_C_CANCELS_BUYER_FAULT, buyer_platform, 0), 0);
    assert_int_equal(popcount(cells(GRADING_C_CANCELS_BUYER_REQUEST, 1u << GRADING_FAULT_BUYER, 0)), 3);
    /* a cell is itself, or nothing */
    grading_counter_t c = grading_cancel_cell(GRADING_FAULT_BUYER, GRADING_REASON_OTHER);
    assert_true(cells(c, 0, 0) == UINT64_C(1) << c);
    assert_int_equal(cells(c, 1u << GRADING_FAULT_BUYER, 0), 0);
    /* returns and exchanges: faults only, a reason changes nothing */
    assert_int_equal(popcount(cells(GRADING_C_RETURNS, buyer_platform, 0)), 2);
    assert_true(cells(GRADING_C_EXCHANGES, 0, buyer_request) == cells(GRADING_C_EXCHANGES, 0, 0));
    assert_true(cells(GRADING_C_RETURNS_BUYER_FAULT, 0, 0) == UINT64_C(1) << GRADING_C_RETURNS_BUYER_FAULT);
    /* other counters are not made of cells */
    grading_exclusion_t ex = {0, 0};
    uint64_t m = 42;
    assert_false(grading_counter_cells(GRADING_C_ORDERS, &ex, &m));
    assert_false(grading_counter_cells(GRADING_C_NON_RECEIPTS, &ex, &m));
    assert_true(m == 42);
}

/* The cell-only contributions (the upgrade's) are the cells of the full
 * ones, and a held (unpaid) order has none. */
static void test_cell_contribs(void **state)
{
    (void)state;
    grading_order_t o = {.paid_ms = T0, .cancelled_ms = T0 + 1000, .cancel_fault = GRADING_FAULT_BUYER,
                         .cancel_reason = GRADING_REASON_BUYER_REQUEST, .returned_ms = T0 + 2 * DAY_MS,
                         .return_fault = GRADING_FAULT_SELLER};
    grading_contrib_t ks[8];
    size_t n = 0;
    assert_int_equal(grading_order_cell_contribs(&o, &g_tz, -1, ks, 8, &n), GRADING_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ks[0].counter, grading_cancel_cell(GRADING_FAULT_BUYER, GRADING_REASON_BUYER_REQUEST));
    assert_int_equal(ks[0].delta, -1);
    assert_int_equal(ks[1].counter, GRADING_C_RETURNS_SELLER_FAULT);   /* older than the added cells */
    assert_true(ks[1].counter < GRADING_C_CELLS_ADDED && ks[0].counter >= GRADING_C_CELLS_ADDED);
    assert_int_equal(ks[1].day - ks[0].day, 2);
    n = 0;
    assert_int_equal(grading_order_cell_contribs(&o, &g_tz, 1, ks, 1, &n), GRADING_EFULL);
    grading_order_t held = {.shipped_ms = T0, .cancelled_ms = T0, .flags = GRADING_ORDER_HOLDS_UNPAID};
    n = 0;
    assert_int_equal(grading_order_cell_contribs(&held, &g_tz, 1, ks, 8, &n), GRADING_OK);
    assert_int_equal(n, 0);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(grading_counter_name(grading_cancel_cell(GRADING_FAULT_SELLER, GRADING_REASON_BUYER_REQUEST)),
                        "cancels_seller_fault_buyer_request");
    assert_string_equal(grading_counter_name(grading_cancel_cell(0, 0)), "cancels_unspecified_fault_unspecified");
    assert_string_equal(grading_counter_name(grading_return_cell(GRADING_FAULT_PLATFORM)), "returns_platform_fault");
    for (int32_t f = 0; f < GRADING_NFAULTS; f++) assert_int_equal(grading_fault_parse(grading_fault_name(f)), f);
    for (int32_t r = 0; r < GRADING_NREASONS; r++) assert_int_equal(grading_reason_parse(grading_reason_name(r)), r);
    assert_int_equal(grading_fault_parse("customer"), -1);
    assert_int_equal(grading_reason_parse(NULL), -1);
    assert_null(grading_fault_name(GRADING_NFAULTS));
    for (int c = 0; c < GRADING_C_COUNT; c++) {   /* the loader rewrites with room for 60 */
        assert_non_null(grading_counter_name((grading_counter_t)c));
        assert_true(strlen(grading_counter_name((grading_counter_t)c)) < 60);
    }
}

int main(void)
{
    grading_tz_init_fixed(&g_tz, "UTC", 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_lands_in_one_cell),
        cmocka_unit_test(test_return_exchange_cells),
        cmocka_unit_test(test_exclusion_masks),
        cmocka_unit_test(test_cell_contribs),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
