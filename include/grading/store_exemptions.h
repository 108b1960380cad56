/* The store's exemptions (exemption.h): the `exemptions` database and the
 * in-memory table ingest reads for every order change. */
#ifndef GRADING_STORE_EXEMPTIONS_H
#define GRADING_STORE_EXEMPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/exemption.h"
#include "grading/store.h"

/* Puts x (a write txn) and updates the table. Errors: GRADING_EINVAL (a
 * field too long), GRADING_EFULL (GRADING_EXEMPTIONS_MAX reached), the store's. */
grading_err_t grading_store_exemption_put(grading_txn_t *txn, const grading_exemption_t *x);
/* Deletes mp's exemption id; *found says whether it existed. */
grading_err_t grading_store_exemption_del(grading_txn_t *txn, const char *mp, const char *id, bool *found);
grading_err_t grading_store_exemption_get(grading_txn_t *txn, const char *mp, const char *id,
                                          grading_exemption_t *out, bool *found);
/* Up to cap exemptions of mp ("" or NULL: every marketplace), in key order. */
grading_err_t grading_store_exemptions_list(grading_txn_t *txn, const char *mp, grading_exemption_t *out,
                                            size_t cap, size_t *n);

/* The OR of the masks of the table's exemptions of mp that o matches (tz:
 * mp's zone). 0, without a lock, while there is none. */
uint64_t grading_store_exempt_mask(grading_store_t *st, const char *mp, const grading_order_t *o,
                                   const grading_tz_t *tz);

/* Reads the table again from the committed database (after a declare or
 * revoke whose transaction failed). Errors: the store's. */
grading_err_t grading_store_exemptions_reload(grading_store_t *st);

/* The store a transaction belongs to. */
grading_store_t *grading_txn_store(grading_txn_t *txn);

#endif
