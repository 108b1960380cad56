/* The LMDB store: the only code that calls mdb_*.
 *
 * Named databases (DESIGN.md): events (event_id -> stored time, dedupe),
 * daily (marketplace, seller, day -> that day's counters), orders
 * (marketplace, seller, order_id -> timeline), inquiries (marketplace,
 * seller, inquiry_id -> timeline), meta (name -> value; "schema_version"),
 * orphans (first held event's time, marketplace, seller, order -> ""),
 * xdaily (as daily: the contributions appeals and exemptions excluded).
 *
 * Threads: one writer at a time (the ingest thread); any number of readers,
 * each with its own grading_store_reader_t (LMDB readers never block). The
 * map grows on demand: grading_store_grow() waits for open read
 * transactions to end, so read transactions must be short. */
#ifndef GRADING_STORE_H
#define GRADING_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/counters.h"
#include "grading/err.h"
#include "grading/order.h"

#define GRADING_STORE_SCHEMA_VERSION 1
#define GRADING_STORE_DEFAULT_MAP_SIZE (UINT64_C(256) << 20)      /* 256 MiB */
#define GRADING_STORE_DEFAULT_MAX_MAP_SIZE (UINT64_C(64) << 30)   /* 64 GiB */

typedef struct grading_store grading_store_t;
typedef struct grading_store_reader grading_store_reader_t;
typedef struct grading_txn grading_txn_t;

typedef struct {
    const char *dir;          /* created if missing */
    uint64_t map_size;        /* initial; 0 = default */
    uint64_t max_map_size;    /* growth stops here; 0 = default */
} grading_store_options_t;

/* Opens (creating if needed) the store in opts->dir and checks the schema
 * version. Errors: GRADING_EIO (directory unusable, lock held, LMDB error),
 * GRADING_ECORRUPT (other schema version), GRADING_ENOMEM. *e says why. */
grading_err_t grading_store_open(const grading_store_options_t *opts, grading_store_t **out,
                                 grading_error_t *e);

/* Closes the environment. All readers and transactions must be gone. */
void grading_store_close(grading_store_t *st);

/* Current map size in bytes. */
uint64_t grading_store_map_size(grading_store_t *st);

/* Doubles the map size (capped at max_map_size). Must be called with no
 * write transaction open; blocks new read transactions while it works.
 * Errors: GRADING_EFULL (already at the maximum), GRADING_EIO. */
grading_err_t grading_store_grow(grading_store_t *st);

/* ---- write transactions (one thread) ---- */

/* Begins a write transaction, or a nested one inside parent (its changes
 * become the parent's on commit, vanish on abort).
 * Errors: GRADING_EIO, GRADING_EFULL, GRADING_ENOMEM. */
grading_err_t grading_store_write_begin(grading_store_t *st, grading_txn_t *parent,
                                        grading_txn_t **out);

/* Commits and frees txn; a top-level commit is on disk (fsync'd) when it
 * returns OK. On error the transaction is aborted and freed.
 * Errors: GRADING_EFULL (MDB_MAP_FULL / MDB_TXN_FULL), GRADING_EIO. */
grading_err_t grading_txn_commit(grading_txn_t *txn);

/* What a top-level commit left on the disk's doorstep (ingest's lagged
 * acknowledgement). Each commit that writes fsyncs the data file before it
 * writes its own meta page (MDB_NOMETASYNC), so it also makes every earlier
 * commit's meta page durable: once a commit with wrote = true and txnid T
 * returned, every commit up to T - 1 is on disk. */
typedef struct {
    uint64_t txnid;   /* the store's last committed transaction after this one */
    bool wrote;       /* this commit wrote (and fsync'd) pages; false: it changed nothing */
} grading_commit_info_t;

/* Commits and frees txn like grading_txn_commit, but a top-level commit is
 * on disk only once a grading_store_sync begun after it returned OK, or a
 * later commit with wrote = true returned: its data pages are fsync'd, its
 * meta page not yet. Readers see it at once. *ci (optional) is filled for
 * a top-level commit. Errors: as grading_txn_commit. */
grading_err_t grading_txn_commit_unsynced(grading_txn_t *txn, grading_commit_info_t *ci);

/* The store's last committed transaction id. Meaningful to the only
 * writer thread, between its commits. */
uint64_t grading_store_last_txnid(grading_store_t *st);

/* fsyncs the store: every commit that returned before is on disk.
 * Errors: GRADING_EIO. */
grading_err_t grading_store_sync(grading_store_t *st);

/* Aborts and frees txn (a write txn, or a read txn: see reader_end). */
void grading_txn_abort(grading_txn_t *txn);

/* ---- readers (one per thread) ---- */

grading_err_t grading_store_reader_new(grading_store_t *st, grading_store_reader_t **out);
void grading_store_reader_free(grading_store_reader_t *r);

/* Opens a snapshot; the returned txn is owned by r and valid until
 * grading_store_read_end(). Errors: GRADING_EIO. */
grading_err_t grading_store_read_begin(grading_store_reader_t *r, grading_txn_t **out);
void grading_store_read_end(grading_store_reader_t *r);

/* ---- records (any txn; puts need a write txn) ----
 * Gets fill *out and set *found; a missing key is OK with *found = false.
 * Errors: GRADING_EINVAL (key part too long), GRADING_ECORRUPT (stored
 * record does not decode), GRADING_EFULL (map/txn full, on put), GRADING_EIO. */

grading_err_t grading_store_event_seen(grading_txn_t *txn, const char *event_id, bool *out_seen);
grading_err_t grading_store_event_put(grading_txn_t *txn, const char *event_id, int64_t stored_ms);
/* Event ids are global (one key space for every marketplace). The hashed
 * put stores the event's content hash beside the time, so the same id with
 * other content can be told from a retry. A record stored by the plain put
 * (as every record before content hashes was) has no hash: the get sets
 * *has_hash false and callers treat the id as a plain duplicate. */
grading_err_t grading_store_event_put_hashed(grading_txn_t *txn, const char *event_id, int64_t stored_ms,
                                             uint64_t hash);
grading_err_t grading_store_event_get(grading_txn_t *txn, const char *event_id, bool *found,
                                      bool *has_hash, uint64_t *hash);

grading_err_t grading_store_order_get(grading_txn_t *txn, const char *mp, const char *seller,
                                      const char *order_id, grading_order_t *out, bool *found);
grading_err_t grading_store_order_put(grading_txn_t *txn, const char *mp, const char *seller,
                                      const char *order_id, const grading_order_t *o);

/* Calls cb for each of the seller's orders, in order-id order, with one
 * range scan. A non-zero return from cb stops the scan and is returned. */
typedef grading_err_t (*grading_store_order_cb)(void *ctx, const char *order_id,
                                                const grading_order_t *o);
grading_err_t grading_store_orders_foreach(grading_txn_t *txn, const char *mp, const char *seller,
                                           grading_store_order_cb cb, void *ctx);

/* The same for the seller's inquiries, in inquiry-id order. */
typedef grading_err_t (*grading_store_inquiry_cb)(void *ctx, const char *inquiry_id,
                                                  const grading_inquiry_t *q);
grading_err_t grading_store_inquiries_foreach(grading_txn_t *txn, const char *mp, const char *seller,
                                              grading_store_inquiry_cb cb, void *ctx);

/* How many of the seller's orders and inquiries carry an appeal or an
 * exemption (a non-zero appeal_mask or exempt_mask). Only records written
 * with exclusions (order v4, inquiry v2) are decoded; the rest are skipped
 * by their version byte. */
grading_err_t grading_store_excluded_records(grading_txn_t *txn, const char *mp, const char *seller,
                                             uint32_t *out);

grading_err_t grading_store_inquiry_get(grading_txn_t *txn, const char *mp, const char *seller,
                                        const char *inquiry_id, grading_inquiry_t *out,
                                        bool *found);
grading_err_t grading_store_inquiry_put(grading_txn_t *txn, const char *mp, const char *seller,
                                        const char *inquiry_id, const grading_inquiry_t *q);

grading_err_t grading_store_day_get(grading_txn_t *txn, const char *mp, const char *seller,
                                    int32_t day, grading_day_counters_t *out, bool *found);
grading_err_t grading_store_day_put(grading_txn_t *txn, const char *mp, const char *seller,
                                    int32_t day, const grading_day_counters_t *d);

/* Adds the seller's days in [from_day, to_day] (inclusive) into *acc with
 * one range scan. Errors: as above, and GRADING_EFULL from custom merging. */
grading_err_t grading_store_days_sum(grading_txn_t *txn, const char *mp, const char *seller,
                                     int32_t from_day, int32_t to_day,
                                     grading_day_counters_t *acc);

/* The seller's first stored day (their first event's local day). */
grading_err_t grading_store_first_day(grading_txn_t *txn, const char *mp, const char *seller,
                                     int32_t *out_day, bool *found);

/* Calls cb for each of the seller's stored days in [from_day, to_day], in
 * day order, with one range scan; the record is valid during the call.
 * A non-zero return from cb stops the scan and is returned. */
typedef grading_err_t (*grading_store_day_cb)(void *ctx, int32_t day,
                                              const grading_day_counters_t *d);
grading_err_t grading_store_days_foreach(grading_txn_t *txn, const char *mp, const char *seller,
                                         int32_t from_day, int32_t to_day,
                                         grading_store_day_cb cb, void *ctx);

/* The same over `xdaily`: what appeals and exemptions excluded from the
 * seller's days (counters.h), keyed and encoded as daily. */
grading_err_t grading_store_xday_get(grading_txn_t *txn, const char *mp, const char *seller,
                                     int32_t day, grading_day_counters_t *out, bool *found);
grading_err_t grading_store_xday_put(grading_txn_t *txn, const char *mp, const char *seller,
                                     int32_t day, const grading_day_counters_t *d);
grading_err_t grading_store_xdays_foreach(grading_txn_t *txn, const char *mp, const char *seller,
                                          int32_t from_day, int32_t to_day, grading_store_day_cb cb, void *ctx);
grading_err_t grading_store_xdays_sum(grading_txn_t *txn, const char *mp, const char *seller,
                                      int32_t from_day, int32_t to_day, grading_day_counters_t *acc);

/* ---- sellers: the derived answer per seller (what hot reads need) ---- */

#define GRADING_SELLER_VERSION_LEN 16

typedef struct {
    char policy_version[GRADING_SELLER_VERSION_LEN + 1];  /* the policy it was derived with */
    double boost;
    bool suspended;
    bool withdrawals_held;
    int64_t computed_ms;          /* the as-of time it was derived for */
    int64_t next_due_ms;          /* an open order's next deadline stage; 0: none (the due index) */
} grading_seller_state_t;

grading_err_t grading_store_seller_get(grading_txn_t *txn, const char *mp, const char *seller,
                                       grading_seller_state_t *out, bool *found);
grading_err_t grading_store_seller_put(grading_txn_t *txn, const char *mp, const char *seller,
                                       const grading_seller_state_t *s);
/* The hot read: each seller's stored boost from the store's in-memory
 * snapshot (src/store/boosts.h), as of the last commit, without LMDB or a
 * lock: out[i] is sellers[i]'s, or `absent` when none is stored. Errors:
 * GRADING_EINVAL when an id cannot be a key; GRADING_ESTATE when the
 * snapshot went stale (out of memory at a publish): read the records. */
grading_err_t grading_store_boosts_get(grading_store_t *st, const char *mp, char *const *sellers, size_t n,
                                       double absent, double *out);
/* Entries in the snapshot (a seller changed since its base was built
 * counts twice) and the bytes its tables hold. */
void grading_store_boosts_stats(grading_store_t *st, uint64_t *sellers, uint64_t *bytes);

/* Up to cap seller ids of marketplace mp that have a derived record, in key
 * order, starting after `after` ("" or NULL: from the first). *n gets how
 * many; fewer than cap means the end. For background recomputation. */
grading_err_t grading_store_sellers_page(grading_txn_t *txn, const char *mp, const char *after,
                                         char (*out)[GRADING_MAX_ID_LEN + 1], size_t cap,
                                         size_t *n);

/* ---- periods: what a close froze; closes: each close's progress ---- */

#define GRADING_STORE_MAX_PROGRAMS 8
#define GRADING_STORE_MAX_LEVELS 16
#define GRADING_STORE_PERIOD_MAX 32

typedef struct {
    int32_t level;
    double score;
    bool has_score;
    bool new_seller;   /* the level was the new-seller one (not enough data) */
} grading_published_t;

/* One seller's grades of one closed period, one per programme in the
 * policy's order. */
typedef struct {
    uint32_t n;
    grading_published_t p[GRADING_STORE_MAX_PROGRAMS];
    bool has_points;   /* a month close with service points: ... */
    double points;     /* ... the month's points as of its end (points.last_month) */
} grading_period_rec_t;

grading_err_t grading_store_period_get(grading_txn_t *txn, const char *mp, int kind,
                                       const char *period, const char *seller,
                                       grading_period_rec_t *out, bool *found);
grading_err_t grading_store_period_put(grading_txn_t *txn, const char *mp, int kind,
                                       const char *period, const char *seller,
                                       const grading_period_rec_t *rec);
/* How many sellers the period holds (a range scan; for checks and tests). */
grading_err_t grading_store_period_count(grading_txn_t *txn, const char *mp, int kind,
                                         const char *period, uint64_t *out);

typedef struct {
    bool done;
    uint32_t evaluated;                        /* sellers closed so far */
    char cursor[GRADING_MAX_ID_LEN + 1];       /* the last seller closed; "" at the start */
    char policy_version[GRADING_SELLER_VERSION_LEN + 1];
    int64_t started_ms, finished_ms;
    uint32_t nprograms;
    uint32_t nlevels[GRADING_STORE_MAX_PROGRAMS];
    int32_t levels[GRADING_STORE_MAX_PROGRAMS][GRADING_STORE_MAX_LEVELS];
    uint32_t counts[GRADING_STORE_MAX_PROGRAMS][GRADING_STORE_MAX_LEVELS];
} grading_close_t;

grading_err_t grading_store_close_get(grading_txn_t *txn, const char *mp, int kind,
                                      const char *period, grading_close_t *out, bool *found);
grading_err_t grading_store_close_put(grading_txn_t *txn, const char *mp, int kind,
                                      const char *period, const grading_close_t *c);

/* The latest finished close of kind whose period name sorts <= upto (names
 * of one kind sort in time order). */
grading_err_t grading_store_close_latest(grading_txn_t *txn, const char *mp, int kind,
                                         const char *upto, char out[GRADING_STORE_PERIOD_MAX],
                                         bool *found);

/* ---- due: sellers by the time an open order reaches its next stage ----
 * key: i64 BE due_ms | u8 len | mp | u8 len | seller. The sweep reads the
 * keys up to now, so only the sellers with something due are touched. */
grading_err_t grading_store_due_put(grading_txn_t *txn, int64_t due_ms, const char *mp, const char *seller);
grading_err_t grading_store_due_del(grading_txn_t *txn, int64_t due_ms, const char *mp, const char *seller);

typedef struct {
    int64_t due_ms;
    char mp[GRADING_MAX_MARKETPLACE_LEN + 1];
    char seller[GRADING_MAX_ID_LEN + 1];
} grading_due_t;

/* Up to cap entries with due_ms <= upto, earliest first. */
grading_err_t grading_store_due_page(grading_txn_t *txn, int64_t upto, grading_due_t *out, size_t cap,
                                     size_t *n);

/* ---- orphans: unpaid orders holding lifecycle events, by their first
 * held event's time (grading_order_first_lifecycle_ms) ----
 * key: i64 BE since_ms | u8 len mp | mp | u8 len seller | seller | u8 len
 * order_id | order_id. The orphan sweep reads the keys older than the
 * bound, so only expired orphans are touched. */
grading_err_t grading_store_orphan_put(grading_txn_t *txn, int64_t since_ms, const char *mp, const char *seller,
                                       const char *order_id);
grading_err_t grading_store_orphan_del(grading_txn_t *txn, int64_t since_ms, const char *mp, const char *seller,
                                       const char *order_id);

typedef struct {
    int64_t since_ms;
    char mp[GRADING_MAX_MARKETPLACE_LEN + 1];
    char seller[GRADING_MAX_ID_LEN + 1];
    char order_id[GRADING_MAX_ID_LEN + 1];
} grading_orphan_t;

/* Up to cap entries with since_ms <= upto, oldest first. */
grading_err_t grading_store_orphan_page(grading_txn_t *txn, int64_t upto, grading_orphan_t *out, size_t cap,
                                        size_t *n);

/* Removes an order record (an orphan dropped unpaid). Missing is OK. */
grading_err_t grading_store_order_del(grading_txn_t *txn, const char *mp, const char *seller,
                                      const char *order_id);

/* ---- meta: small named text values (not schema_version, which the
 * store owns) ---- */
grading_err_t grading_store_meta_get(grading_txn_t *txn, const char *name, char *out, size_t cap,
                                     bool *found);
grading_err_t grading_store_meta_put(grading_txn_t *txn, const char *name, const char *value);

#endif
