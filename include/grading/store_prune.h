/* Deleting old records a page at a time (src/store/prune.c).
 *
 * Each call examines at most `max` records of one database inside the
 * caller's write transaction, starting after the key *pos remembers, and
 * deletes those the callback (or the time bound) marks; *pos then names
 * the last key examined, so the next call (the next transaction) goes on
 * from there, and pos->done says the database's end was reached. Keys are
 * decoded to the marketplace they belong to; records that do not decode
 * are left alone (a prune never deletes what it cannot read). */
#ifndef GRADING_STORE_PRUNE_H
#define GRADING_STORE_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/keys.h"
#include "grading/order.h"
#include "grading/store.h"

typedef struct {
    uint8_t after[GRADING_KEY_MAX];
    size_t after_len;
    bool started;   /* after holds a key */
    bool done;      /* the end of the database was reached */
} grading_prune_pos_t;

/* True: delete. mp is the record's marketplace ("" allowed). */
typedef bool (*grading_prune_day_fn)(void *ctx, const char *mp, int32_t day);
typedef bool (*grading_prune_order_fn)(void *ctx, const char *mp, const grading_order_t *o);
typedef bool (*grading_prune_inquiry_fn)(void *ctx, const char *mp, const grading_inquiry_t *q);

grading_err_t grading_store_prune_days(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                       grading_prune_day_fn fn, void *ctx, uint64_t *removed);
/* The same over the excluded days (xdaily: appeals, exemptions; issue 15). */
grading_err_t grading_store_prune_xdays(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                        grading_prune_day_fn fn, void *ctx, uint64_t *removed);
grading_err_t grading_store_prune_orders(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                         grading_prune_order_fn fn, void *ctx, uint64_t *removed);
grading_err_t grading_store_prune_inquiries(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                            grading_prune_inquiry_fn fn, void *ctx, uint64_t *removed);
/* Event ids stored before before_ms. */
grading_err_t grading_store_prune_events(grading_txn_t *txn, grading_prune_pos_t *pos, uint32_t max,
                                         int64_t before_ms, uint64_t *removed);

/* Published periods of marketplace mp and period kind beyond the keep
 * newest closes (keep >= 1): up to max of their records (sellers' grades,
 * then the close records) go; *done when nothing older is left. A period
 * name is compared as a key: names of one kind sort in time order. */
grading_err_t grading_store_prune_periods(grading_txn_t *txn, const char *mp, int kind, uint32_t keep, uint32_t max,
                                          uint64_t *removed, bool *done);

/* Bytes in use by each named database and in all (pages in use times the
 * page size, not the file's size), for the storage benchmark and metrics. */
typedef struct {
    uint64_t events, daily, orders, inquiries, total;
    uint64_t daily_entries, orders_entries, events_entries;
} grading_store_usage_t;

grading_err_t grading_store_usage(grading_txn_t *txn, grading_store_usage_t *out);

#endif
