/* The cells of days stored before they existed (issue 15 §3).
 *
 * A metric's `exclude` reads the cancel / return / exchange cells
 * (counters.h). Days written by an older build hold none, so such a metric
 * would read them as 0. Cancels, returns and exchanges come only from order
 * records, so the cells can be rebuilt from the orders: once per store (a
 * meta key says it was done), every seller of the policy's marketplaces is
 * walked a page at a time through the ingest writer, each seller's stored
 * days get the cells its orders imply, and the seller is re-derived in the
 * same transaction. Setting (not adding) the cells makes a repeated or
 * interrupted walk harmless, and events applied meanwhile are never
 * counted twice. */
#ifndef GRADING_CELLS_UPGRADE_H
#define GRADING_CELLS_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "grading/ingest.h"
#include "grading/policy.h"
#include "grading/store.h"

#define GRADING_CELLS_META "cells_counted"   /* meta key: "1" once the cells are complete */

/* True when the store's days hold every cell (the key is set). A read
 * error counts as false (the walk is harmless). */
bool grading_cells_counted(grading_store_reader_t *rd);

/* In a write transaction: sets the added cells (GRADING_C_CELLS_ADDED on)
 * of every stored day of one seller to what its orders imply; days of no
 * order get 0, days not stored are not created. Errors: the store's,
 * GRADING_ENOMEM. */
grading_err_t grading_cells_rebuild_seller(grading_txn_t *txn, const grading_marketplace_t *mp,
                                           const char *seller);

/* Rebuilds every seller of p's marketplaces (see the top), then sets the
 * key. *sellers (may be NULL) gets how many were walked. Sellers of a
 * marketplace no longer in p are not walked. Errors: the writer's, a
 * store read's; the key is then not set and the next start walks again. */
grading_err_t grading_cells_upgrade(grading_store_reader_t *rd, grading_ingest_t *in, const grading_policy_t *p,
                                    size_t *sellers);

#endif
