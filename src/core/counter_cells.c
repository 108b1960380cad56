/* The cells behind cancels, returns and exchanges.
 *
 * A cancel lands in exactly one fault x reason cell (a return or an exchange
 * in one fault cell) besides its marginals, so every marginal is a union of
 * cells and so is "this marginal without the excluded causes": a metric's
 * `exclude` sums cells (the policy loader rewrites the names), and no new
 * counter is needed per policy. */
#include <string.h>

#include "grading/counters.h"

_Static_assert(GRADING_C_CANCELS_PLATFORM_FAULT_OTHER - GRADING_C_CANCELS_UNSPECIFIED_FAULT_UNSPECIFIED + 1 ==
                   GRADING_NFAULTS * GRADING_NREASONS,
               "one cancel cell per fault x reason, fault-major");
_Static_assert(GRADING_FAULT_PLATFORM + 1 == GRADING_NFAULTS && GRADING_REASON_OTHER + 1 == GRADING_NREASONS,
               "the cell tables follow grading_fault_t and grading_cancel_reason_t");

static const char *const fault_names[GRADING_NFAULTS] = {"unspecified", "seller", "buyer", "platform"};
static const char *const reason_names[GRADING_NREASONS] = {"unspecified", "out_of_stock", "shipping_delay",
                                                           "buyer_request", "other"};

const char *grading_fault_name(int32_t f)
{
    return f >= 0 && f < GRADING_NFAULTS ? fault_names[f] : NULL;
}

const char *grading_reason_name(int32_t r)
{
    return r >= 0 && r < GRADING_NREASONS ? reason_names[r] : NULL;
}

static int32_t find(const char *const *names, int32_t n, const char *s)
{
    for (int32_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

int32_t grading_fault_parse(const char *s)
{
    return find(fault_names, GRADING_NFAULTS, s);
}

int32_t grading_reason_parse(const char *s)
{
    return find(reason_names, GRADING_NREASONS, s);
}

/* A value a record should not hold (an old or odd one) counts as unspecified. */
static int32_t known(int32_t v, int32_t n)
{
    return v >= 0 && v < n ? v : 0;
}

grading_counter_t grading_cancel_cell(int32_t fault, int32_t reason)
{
    return (grading_counter_t)(GRADING_C_CANCELS_UNSPECIFIED_FAULT_UNSPECIFIED +
                               known(fault, GRADING_NFAULTS) * GRADING_NREASONS +
                               known(reason, GRADING_NREASONS));
}

/* The seller cell is the older marginal *_SELLER_FAULT. */
static grading_counter_t fault_cell(int32_t fault, grading_counter_t seller, grading_counter_t buyer)
{
    switch (known(fault, GRADING_NFAULTS)) {
    case GRADING_FAULT_SELLER: return seller;
    case GRADING_FAULT_BUYER: return buyer;
    case GRADING_FAULT_PLATFORM: return (grading_counter_t)(buyer + 1);
    default: return (grading_counter_t)(buyer + 2);
    }
}

_Static_assert(GRADING_C_RETURNS_PLATFORM_FAULT == GRADING_C_RETURNS_BUYER_FAULT + 1 &&
                   GRADING_C_RETURNS_UNSPECIFIED_FAULT == GRADING_C_RETURNS_BUYER_FAULT + 2 &&
                   GRADING_C_EXCHANGES_PLATFORM_FAULT == GRADING_C_EXCHANGES_BUYER_FAULT + 1 &&
                   GRADING_C_EXCHANGES_UNSPECIFIED_FAULT == GRADING_C_EXCHANGES_BUYER_FAULT + 2,
               "fault cells: buyer, platform, unspecified in a row");

grading_counter_t grading_return_cell(int32_t fault)
{
    return fault_cell(fault, GRADING_C_RETURNS_SELLER_FAULT, GRADING_C_RETURNS_BUYER_FAULT);
}

grading_counter_t grading_exchange_cell(int32_t fault)
{
    return fault_cell(fault, GRADING_C_EXCHANGES_SELLER_FAULT, GRADING_C_EXCHANGES_BUYER_FAULT);
}

static uint64_t bit(grading_counter_t c)
{
    return UINT64_C(1) << c;
}

/* The cancel cells with fault f (-1: any) and reason r (-1: any), minus ex's. */
static uint64_t cancel_cells(int32_t f, int32_t r, const grading_exclusion_t *ex)
{
    uint64_t m = 0;
    for (int32_t fi = 0; fi < GRADING_NFAULTS; fi++)
        for (int32_t ri = 0; ri < GRADING_NREASONS; ri++) {
            if ((f >= 0 && fi != f) || (r >= 0 && ri != r)) continue;
            if (ex->faults >> fi & 1 || ex->reasons >> ri & 1) continue;
            m |= bit(grading_cancel_cell(fi, ri));
        }
    return m;
}

/* The return (exchange) cells with fault f (-1: any), minus ex's faults. */
static uint64_t fault_cells(grading_counter_t (*cell)(int32_t), int32_t f, const grading_exclusion_t *ex)
{
    uint64_t m = 0;
    for (int32_t fi = 0; fi < GRADING_NFAULTS; fi++)
        if ((f < 0 || fi == f) && !(ex->faults >> fi & 1)) m |= bit(cell(fi));
    return m;
}

bool grading_counter_cells(grading_counter_t c, const grading_exclusion_t *ex, uint64_t *mask)
{
    if (c >= GRADING_C_CANCELS_UNSPECIFIED_FAULT_UNSPECIFIED && c <= GRADING_C_CANCELS_PLATFORM_FAULT_OTHER) {
        int32_t i = (int32_t)(c - GRADING_C_CANCELS_UNSPECIFIED_FAULT_UNSPECIFIED);
        *mask = cancel_cells(i / GRADING_NREASONS, i % GRADING_NREASONS, ex);
        return true;
    }
    switch (c) {
    case GRADING_C_CANCELS: *mask = cancel_cells(-1, -1, ex); return true;
    case GRADING_C_CANCELS_SELLER_FAULT: *mask = cancel_cells(GRADING_FAULT_SELLER, -1, ex); return true;
    case GRADING_C_CANCELS_BUYER_FAULT: *mask = cancel_cells(GRADING_FAULT_BUYER, -1, ex); return true;
    case GRADING_C_CANCELS_PLATFORM_FAULT: *mask = cancel_cells(GRADING_FAULT_PLATFORM, -1, ex); return true;
    case GRADING_C_CANCELS_OUT_OF_STOCK: *mask = cancel_cells(-1, GRADING_REASON_OUT_OF_STOCK, ex); return true;
    case GRADING_C_CANCELS_SHIPPING_DELAY: *mask = cancel_cells(-1, GRADING_REASON_SHIPPING_DELAY, ex); return true;
    case GRADING_C_CANCELS_BUYER_REQUEST: *mask = cancel_cells(-1, GRADING_REASON_BUYER_REQUEST, ex); return true;
    case GRADING_C_CANCELS_OTHER: *mask = cancel_cells(-1, GRADING_REASON_OTHER, ex); return true;
    case GRADING_C_RETURNS: *mask = fault_cells(grading_return_cell, -1, ex); return true;
    case GRADING_C_EXCHANGES: *mask = fault_cells(grading_exchange_cell, -1, ex); return true;
    default: break;
    }
    for (int32_t f = 0; f < GRADING_NFAULTS; f++) {
        if (c == grading_return_cell(f)) {
            *mask = fault_cells(grading_return_cell, f, ex);
            return true;
        }
        if (c == grading_exchange_cell(f)) {
            *mask = fault_cells(grading_exchange_cell, f, ex);
            return true;
        }
    }
    return false;
}
