/* The boost snapshot: every seller's stored boost in memory, as of the
 * last commit, for GetRankingBoosts to answer without LMDB.
 *
 * A view is immutable: a large base table and a small delta table of the
 * sellers changed since the base was built (both open addressing, keyed by
 * the sellers database's own key bytes). A write transaction notes each
 * seller record it puts; when the top-level transaction has committed, the
 * writer builds the next view (a new delta; a new base when the delta
 * grows past an eighth of it) and swaps it in with one atomic exchange.
 * Readers take a reference with atomics and never wait for the writer; the
 * writer frees an old view once no reader can still be taking it (two
 * alternating pin counters, so a stream of readers cannot starve it) and
 * the last reference is gone. */
#ifndef GRADING_STORE_BOOSTS_H
#define GRADING_STORE_BOOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"

typedef struct store_boosts store_boosts_t;

/* What a write transaction changed: (key, boost) records appended in
 * order; later ones win. Owned by the transaction. */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
} store_boost_changes_t;

/* An empty snapshot. NULL when out of memory. */
store_boosts_t *store_boosts_new(void);
/* Frees it; no reader may be using it. NULL is fine. */
void store_boosts_free(store_boosts_t *b);

/* Start-up: adds one stored seller (key bytes as in the sellers database)
 * to the base being loaded; then store_boosts_load_done publishes it. */
grading_err_t store_boosts_load(store_boosts_t *b, const uint8_t *key, size_t klen, double boost);
grading_err_t store_boosts_load_done(store_boosts_t *b);

/* Notes that the transaction put this seller's record. GRADING_ENOMEM. */
grading_err_t store_boost_changes_add(store_boost_changes_t *c, const uint8_t *key, size_t klen, double boost);
/* A nested transaction committed: its changes become its parent's. */
grading_err_t store_boost_changes_move(store_boost_changes_t *parent, store_boost_changes_t *child);
void store_boost_changes_free(store_boost_changes_t *c);

/* The top-level transaction committed: publishes the next view with its
 * changes. Callers serialise publishes in commit order. On ENOMEM the
 * snapshot is marked stale and every lookup fails, rather than answering
 * from an old view. */
grading_err_t store_boosts_publish(store_boosts_t *b, const store_boost_changes_t *c);

typedef struct store_boost_view store_boost_view_t;

/* Takes a reference on the current view (never blocks). NULL when the
 * snapshot is stale (a publish ran out of memory). */
store_boost_view_t *store_boosts_pin(store_boosts_t *b);
/* The boost stored under the key, and whether there is one. */
bool store_boost_view_get(const store_boost_view_t *v, const uint8_t *key, size_t klen, double *boost);
/* Drops the reference; the last one frees the view. */
void store_boosts_unpin(store_boost_view_t *v);

/* Sellers in the current view and the bytes its tables hold. */
void store_boosts_stats(store_boosts_t *b, uint64_t *sellers, uint64_t *bytes);

#endif
