/* Private to src/store: the store's structures and raw record access,
 * shared by store.c (environment, transactions, events, orders, days,
 * sellers) and periods.c (published grades and close progress). */
#ifndef GRADING_STORE_INTERNAL_H
#define GRADING_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "boosts.h"
#include "grading/exemption.h"
#include "grading/store.h"

enum { DB_EVENTS, DB_DAILY, DB_ORDERS, DB_INQUIRIES, DB_SELLERS, DB_PERIODS, DB_CLOSES, DB_DUE,
       DB_META, DB_AUDIT,
       DB_ORPHANS,   /* unpaid orders holding lifecycle events (issue 9) */
       DB_CHANGES, DB_LIVE,   /* the change log and the live levels it last logged (issue 14) */
       DB_XDAILY,             /* what appeals and exemptions excluded, as daily (issue 15) */
       DB_EXEMPTIONS,         /* declared exemptions (issue 15) */
       DB_COUNT };

struct grading_store {
    MDB_env *env;
    MDB_dbi dbi[DB_COUNT];
    pthread_rwlock_t map_lock;   /* read side: a txn is open; write side: remapping */
    bool map_lock_ready;
    _Atomic uint64_t map_size;
    uint64_t max_map_size;
    int lock_fd;
    /* The boost snapshot (boosts.h), and the lock that keeps its publishes
     * in commit order: held by a top-level write txn from its begin (after
     * LMDB's own writer lock) until its changes are published. */
    store_boosts_t *boosts;
    pthread_mutex_t write_mu;
    bool write_mu_ready;
    _Atomic int64_t changes_max_age_ms;     /* change log limits (changes.h) */
    _Atomic uint64_t changes_max_entries;
    /* exemptions in force (store_exemptions.h), for the writer */
    pthread_mutex_t exempt_mu;
    bool exempt_mu_ready;
    size_t nexempt;
    _Atomic size_t nexempt_pub;
    grading_exemption_t *exempt;   /* GRADING_EXEMPTIONS_MAX */
};

/* Loads the exemptions table from txn (at open). */
grading_err_t store_exemptions_load(grading_store_t *st, MDB_txn *txn);

struct grading_txn {
    grading_store_t *st;
    MDB_txn *txn;
    grading_txn_t *parent;            /* nested write txn: no lock of its own */
    grading_store_reader_t *reader;   /* a reader's snapshot; NULL for writes */
    store_boost_changes_t boosts;     /* seller records put, for the boost snapshot */
};

/* LMDB's return code as ours. */
grading_err_t store_from_mdb(int rc);
/* Gets key of db: *found and *v (valid until the txn ends). */
grading_err_t store_get_raw(grading_txn_t *t, int db, const uint8_t *key, size_t klen, MDB_val *v,
                            bool *found);
/* Puts key of db (write txns only: GRADING_ESTATE on a reader's). */
grading_err_t store_put_raw(grading_txn_t *t, int db, const uint8_t *key, size_t klen,
                            const uint8_t *val, size_t vlen);

#endif
