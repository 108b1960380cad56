/* The LMDB store: environment, transactions, readers, records.
 *
 * One environment, five named databases (store.h). The environment is
 * opened with MDB_NOTLS so a read transaction belongs to a reader object,
 * not to a thread's TLS slot: each reader keeps one MDB_txn for its life,
 * reset between reads and renewed for the next (no malloc, no slot
 * search on the hot path). Sync stays on (no MDB_NOSYNC): a top-level
 * commit has been fsync'd when it returns.
 *
 * Map growth. mdb_env_set_mapsize() is only safe when this process has no
 * transaction in flight, so every top-level transaction (read or write)
 * holds the read side of map_lock for its life and grading_store_grow()
 * takes the write side. The lock prefers writers, so a grow waits only
 * for the reads already running; new readers queue behind it for the
 * moment the remap takes. MDB_MAP_RESIZED (another process grew the map)
 * is answered the same way: adopt the new size under the write side, retry.
 * A transaction must end on the thread that began it (it holds the lock).
 *
 * An exclusive flock on <dir>/grading.lock keeps a second server off the
 * same directory; LMDB itself would let two writers take turns, each
 * believing it is the only one. The kernel drops the lock when the process
 * dies, so a crash never leaves the directory locked.
 *
 * Records are encoded by codec.c, keys by keys.c; this file only moves
 * bytes in and out of LMDB and maps its errors onto ours. */
#include "grading/store.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "store_internal.h"
#include "grading/keys.h"

static grading_err_t load_boosts(grading_store_t *st, MDB_txn *txn);

#define STORE_MAX_DBS 32
#define STORE_MAX_READERS 256                     /* reader objects (threads) at once */
#define STORE_MIN_MAP_SIZE (UINT64_C(256) << 10)  /* room for the empty databases */
#define STORE_LOCK_FILE "grading.lock"
#define STORE_DIR_MODE 0750
#define STORE_FILE_MODE 0640
#define STORE_RESIZE_RETRIES 4                    /* MDB_MAP_RESIZED: adopt and retry */
#define STORE_SCHEMA_KEY "schema_version"

static const char *const db_names[DB_COUNT] = {
    [DB_EVENTS] = "events", [DB_DAILY] = "daily", [DB_ORDERS] = "orders",
    [DB_INQUIRIES] = "inquiries", [DB_SELLERS] = "sellers", [DB_PERIODS] = "periods",
    [DB_CLOSES] = "closes", [DB_DUE] = "due", [DB_META] = "meta",
    [DB_AUDIT] = "audit",
    [DB_ORPHANS] = "orphans",
    [DB_CHANGES] = "changes", [DB_LIVE] = "live",
    [DB_XDAILY] = "xdaily", [DB_EXEMPTIONS] = "exemptions",
};


struct grading_store_reader {
    grading_store_t *st;
    grading_txn_t txn;   /* txn.txn is NULL until the first read_begin */
    bool active;
};

grading_err_t store_from_mdb(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return GRADING_OK;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL: return GRADING_EFULL;
    case ENOMEM: return GRADING_ENOMEM;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND: return GRADING_ECORRUPT;
    case MDB_BAD_VALSIZE: return GRADING_EINVAL;
    default: return GRADING_EIO;
    }
}

static void refresh_map_size(grading_store_t *st)
{
    MDB_envinfo info;
    if (mdb_env_info(st->env, &info) == MDB_SUCCESS)
        atomic_store(&st->map_size, (uint64_t)info.me_mapsize);
}

/* ---- open / close ---- */

static grading_err_t prepare_dir(const char *dir, grading_error_t *e)
{
    struct stat sb;
    if (mkdir(dir, STORE_DIR_MODE) != 0 && errno != EEXIST)
        return grading_error_set(e, GRADING_EIO, "", "cannot create data directory %s: %s", dir,
                                 strerror(errno));
    if (stat(dir, &sb) != 0)
        return grading_error_set(e, GRADING_EIO, "", "cannot use data directory %s: %s", dir,
                                 strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return grading_error_set(e, GRADING_EIO, "", "data directory %s: %s", dir,
                                 strerror(ENOTDIR));
    if (access(dir, R_OK | W_OK | X_OK) != 0)
        return grading_error_set(e, GRADING_EIO, "", "data directory %s is not usable: %s", dir,
                                 strerror(errno));
    return GRADING_OK;
}

static grading_err_t lock_dir(grading_store_t *st, const char *dir, grading_error_t *e)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, STORE_LOCK_FILE);
    if (n < 0 || (size_t)n >= sizeof path)
        return grading_error_set(e, GRADING_EIO, "", "data directory path %s is too long", dir);
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, STORE_FILE_MODE);
    if (st->lock_fd < 0)
        return grading_error_set(e, GRADING_EIO, "", "cannot open %s: %s", path, strerror(errno));
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return grading_error_set(e, GRADING_EIO, "",
                                     "data directory %s is in use by another process (%s is locked)",
                                     dir, path);
        return grading_error_set(e, GRADING_EIO, "", "cannot lock %s: %s", path, strerror(errno));
    }
    return GRADING_OK;
}

/* Writes the schema version into a new store, or checks an existing one's. */
static grading_err_t check_schema(grading_store_t *st, MDB_txn *txn, const char *dir,
                                  grading_error_t *e)
{
    MDB_val k = {sizeof STORE_SCHEMA_KEY - 1, (void *)STORE_SCHEMA_KEY}, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        uint32_t ver = GRADING_STORE_SCHEMA_VERSION;
        uint8_t buf[4] = {(uint8_t)ver, (uint8_t)(ver >> 8), (uint8_t)(ver >> 16),
                          (uint8_t)(ver >> 24)};
        v = (MDB_val){sizeof buf, buf};
        rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
        if (rc)
            return grading_error_set(e, GRADING_EIO, "",
                                     "cannot write the schema version in %s: %s", dir,
                                     mdb_strerror(rc));
        return GRADING_OK;
    }
    if (rc)
        return grading_error_set(e, GRADING_EIO, "", "cannot read the schema version in %s: %s",
                                 dir, mdb_strerror(rc));
    if (v.mv_size != 4)
        return grading_error_set(e, GRADING_ECORRUPT, "",
                                 "data directory %s: schema_version is %zu bytes, expected 4", dir,
                                 v.mv_size);
    const uint8_t *p = v.mv_data;
    uint32_t ver = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                   (uint32_t)p[3] << 24;
    if (ver != GRADING_STORE_SCHEMA_VERSION)
        return grading_error_set(e, GRADING_ECORRUPT, "",
                                 "data directory %s holds schema version %u; this build reads "
                                 "version %d",
                                 dir, ver, GRADING_STORE_SCHEMA_VERSION);
    return GRADING_OK;
}

static void store_free(grading_store_t *st)
{
    if (!st) return;
    if (st->env) mdb_env_close(st->env);
    store_boosts_free(st->boosts);
    if (st->exempt_mu_ready) pthread_mutex_destroy(&st->exempt_mu);
    free(st->exempt);
    if (st->write_mu_ready) pthread_mutex_destroy(&st->write_mu);
    if (st->map_lock_ready) pthread_rwlock_destroy(&st->map_lock);
    if (st->lock_fd >= 0) close(st->lock_fd);   /* drops the flock */
    free(st);
}

grading_err_t grading_store_open(const grading_store_options_t *opts, grading_store_t **out,
                                 grading_error_t *e)
{
    grading_store_t *st = NULL;
    MDB_txn *txn = NULL;
    grading_err_t err;
    int rc;

    *out = NULL;
    if (!opts || !opts->dir || !opts->dir[0]) {
        err = grading_error_set(e, GRADING_EINVAL, "dir", "a data directory is required");
        goto fail;
    }
    uint64_t map_size = opts->map_size ? opts->map_size : GRADING_STORE_DEFAULT_MAP_SIZE;
    uint64_t max_map_size =
        opts->max_map_size ? opts->max_map_size : GRADING_STORE_DEFAULT_MAX_MAP_SIZE;
    if (map_size < STORE_MIN_MAP_SIZE || map_size > SIZE_MAX) {
        err = grading_error_set(e, GRADING_EINVAL, "map_size",
                                "must be at least %llu bytes, got %llu",
                                (unsigned long long)STORE_MIN_MAP_SIZE,
                                (unsigned long long)map_size);
        goto fail;
    }
    if (max_map_size < map_size) {
        err = grading_error_set(e, GRADING_EINVAL, "max_map_size",
                                "must be at least map_size (%llu bytes), got %llu",
                                (unsigned long long)map_size, (unsigned long long)max_map_size);
        goto fail;
    }
    if ((err = prepare_dir(opts->dir, e))) goto fail;

    st = calloc(1, sizeof *st);
    if (!st) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    st->lock_fd = -1;
    st->max_map_size = max_map_size > SIZE_MAX ? SIZE_MAX : max_map_size;
    if ((err = lock_dir(st, opts->dir, e))) goto fail;

    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    rc = pthread_rwlock_init(&st->map_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "cannot create the map lock: %s",
                                strerror(rc));
        goto fail;
    }
    st->map_lock_ready = true;
    if ((rc = pthread_mutex_init(&st->write_mu, NULL))) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "cannot create the write lock: %s", strerror(rc));
        goto fail;
    }
    st->write_mu_ready = true;
    if (!(st->boosts = store_boosts_new())) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }

    if ((rc = mdb_env_create(&st->env))) {
        err = grading_error_set(e, store_from_mdb(rc), "", "cannot create the LMDB environment: %s",
                                mdb_strerror(rc));
        goto fail;
    }
    if ((rc = mdb_env_set_maxdbs(st->env, STORE_MAX_DBS)) ||
        (rc = mdb_env_set_maxreaders(st->env, STORE_MAX_READERS)) ||
        (rc = mdb_env_set_mapsize(st->env, (size_t)map_size)) ||
        (rc = mdb_env_open(st->env, opts->dir, MDB_NOTLS | MDB_NOMETASYNC, STORE_FILE_MODE))) {
        err = grading_error_set(e, GRADING_EIO, "", "cannot open the LMDB environment in %s: %s",
                                opts->dir, mdb_strerror(rc));
        goto fail;
    }
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn))) {
        err = grading_error_set(e, GRADING_EIO, "", "cannot begin a transaction in %s: %s",
                                opts->dir, mdb_strerror(rc));
        goto fail;
    }
    for (int i = 0; i < DB_COUNT; i++) {
        if ((rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i]))) {
            err = grading_error_set(e, GRADING_EIO, "", "cannot open database \"%s\" in %s: %s",
                                    db_names[i], opts->dir, mdb_strerror(rc));
            goto fail;
        }
    }
    if ((err = check_schema(st, txn, opts->dir, e))) goto fail;
    if (!(st->exempt = calloc(GRADING_EXEMPTIONS_MAX, sizeof *st->exempt)) ||
        pthread_mutex_init(&st->exempt_mu, NULL) != 0) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    st->exempt_mu_ready = true;
    if ((err = store_exemptions_load(st, txn))) {
        grading_error_set(e, err, "", "cannot load the exemptions from %s", opts->dir);
        goto fail;
    }
    if ((err = load_boosts(st, txn))) {
        grading_error_set(e, err, "", "cannot load the sellers' boosts from %s", opts->dir);
        goto fail;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (!rc) rc = mdb_env_sync(st->env, 1);   /* MDB_NOMETASYNC: the meta page too */
    if (rc) {
        err = grading_error_set(e, GRADING_EIO, "", "cannot initialise the store in %s: %s",
                                opts->dir, mdb_strerror(rc));
        goto fail;
    }
    refresh_map_size(st);
    *out = st;
    return GRADING_OK;
fail:
    if (txn) mdb_txn_abort(txn);
    store_free(st);
    return err;
}

void grading_store_close(grading_store_t *st)
{
    store_free(st);
}

uint64_t grading_store_map_size(grading_store_t *st)
{
    return atomic_load(&st->map_size);
}

grading_err_t grading_store_grow(grading_store_t *st)
{
    grading_err_t err = GRADING_OK;
    pthread_rwlock_wrlock(&st->map_lock);
    uint64_t cur = atomic_load(&st->map_size);
    if (cur >= st->max_map_size) {
        err = GRADING_EFULL;
        goto done;
    }
    uint64_t next = cur > st->max_map_size / 2 ? st->max_map_size : cur * 2;
    int rc = mdb_env_set_mapsize(st->env, (size_t)next);
    if (rc) {
        err = store_from_mdb(rc) == GRADING_ENOMEM ? GRADING_ENOMEM : GRADING_EIO;
        goto done;
    }
    refresh_map_size(st);
done:
    pthread_rwlock_unlock(&st->map_lock);
    return err;
}

/* Another process grew the map past ours: take its size (no txn may be open). */
static void adopt_map_size(grading_store_t *st)
{
    pthread_rwlock_wrlock(&st->map_lock);
    if (mdb_env_set_mapsize(st->env, 0) == MDB_SUCCESS) refresh_map_size(st);
    pthread_rwlock_unlock(&st->map_lock);
}

/* ---- write transactions ---- */

grading_err_t grading_store_write_begin(grading_store_t *st, grading_txn_t *parent,
                                        grading_txn_t **out)
{
    grading_err_t err;
    int rc;
    grading_txn_t *t = calloc(1, sizeof *t);
    if (!t) return GRADING_ENOMEM;
    t->st = st;
    t->parent = parent;
    if (parent) {
        if (parent->reader) {
            err = GRADING_ESTATE;   /* a read snapshot cannot hold a write */
            goto fail;
        }
        if ((rc = mdb_txn_begin(st->env, parent->txn, 0, &t->txn))) {
            err = store_from_mdb(rc);
            goto fail;
        }
        *out = t;
        return GRADING_OK;
    }
    for (int attempt = 0;; attempt++) {
        pthread_rwlock_rdlock(&st->map_lock);
        rc = mdb_txn_begin(st->env, NULL, 0, &t->txn);
        if (rc == MDB_SUCCESS) {   /* the read side stays held until the txn ends */
            pthread_mutex_lock(&st->write_mu);   /* after LMDB's writer lock: uncontended but for a publish */
            break;
        }
        pthread_rwlock_unlock(&st->map_lock);
        if (rc != MDB_MAP_RESIZED || attempt >= STORE_RESIZE_RETRIES) {
            err = store_from_mdb(rc);
            goto fail;
        }
        adopt_map_size(st);
    }
    *out = t;
    return GRADING_OK;
fail:
    free(t);
    return err;
}

/* The environment runs with MDB_NOMETASYNC: mdb_txn_commit fsyncs the
 * data pages, then writes the meta page without an fsync. A synced commit
 * adds that fsync; an unsynced one leaves it to grading_store_sync, so the
 * ingest writer can begin its next group while another thread syncs. */
static grading_err_t txn_commit(grading_txn_t *t, bool sync, grading_commit_info_t *ci)
{
    if (t->reader) {   /* a snapshot has nothing to commit */
        grading_store_read_end(t->reader);
        return GRADING_OK;
    }
    size_t id = mdb_txn_id(t->txn);   /* the id it commits as, if it writes */
    int rc = mdb_txn_commit(t->txn);   /* frees the MDB_txn, even on error */
    if (ci && !t->parent) {
        /* still under write_mu: no other commit can slip in between */
        MDB_envinfo info;
        mdb_env_info(t->st->env, &info);
        ci->txnid = info.me_last_txnid;
        ci->wrote = !rc && info.me_last_txnid == id;
    }
    /* committed but not synced: still published below, reported as EIO */
    int sync_rc = !rc && sync && !t->parent ? mdb_env_sync(t->st->env, 1) : MDB_SUCCESS;
    grading_err_t err = store_from_mdb(rc);
    if (t->parent) {
        /* the parent now holds what the child put, seller records too */
        if (!err) err = store_boost_changes_move(&t->parent->boosts, &t->boosts);
    } else {
        pthread_rwlock_unlock(&t->st->map_lock);
        /* Committed: a failed publish only makes the snapshot stale (reads
         * then go to the store); the commit stands. */
        if (!err) store_boosts_publish(t->st->boosts, &t->boosts);
        pthread_mutex_unlock(&t->st->write_mu);
    }
    store_boost_changes_free(&t->boosts);
    free(t);
    return err ? err : sync_rc ? GRADING_EIO : GRADING_OK;
}

grading_err_t grading_txn_commit(grading_txn_t *t)
{
    return txn_commit(t, true, NULL);
}

grading_err_t grading_txn_commit_unsynced(grading_txn_t *t, grading_commit_info_t *ci)
{
    return txn_commit(t, false, ci);
}

uint64_t grading_store_last_txnid(grading_store_t *st)
{
    MDB_envinfo info;
    pthread_rwlock_rdlock(&st->map_lock);
    mdb_env_info(st->env, &info);
    pthread_rwlock_unlock(&st->map_lock);
    return info.me_last_txnid;
}

grading_err_t grading_store_sync(grading_store_t *st)
{
    pthread_rwlock_rdlock(&st->map_lock);   /* the environment stays as it is */
    int rc = mdb_env_sync(st->env, 1);
    pthread_rwlock_unlock(&st->map_lock);
    return rc ? GRADING_EIO : GRADING_OK;
}

void grading_txn_abort(grading_txn_t *t)
{
    if (!t) return;
    if (t->reader) {
        grading_store_read_end(t->reader);
        return;
    }
    mdb_txn_abort(t->txn);
    if (!t->parent) {
        pthread_rwlock_unlock(&t->st->map_lock);
        pthread_mutex_unlock(&t->st->write_mu);
    }
    store_boost_changes_free(&t->boosts);
    free(t);
}

/* ---- readers ---- */

grading_err_t grading_store_reader_new(grading_store_t *st, grading_store_reader_t **out)
{
    grading_store_reader_t *r = calloc(1, sizeof *r);
    if (!r) return GRADING_ENOMEM;
    r->st = st;
    r->txn.st = st;
    r->txn.reader = r;
    *out = r;
    return GRADING_OK;
}

void grading_store_reader_free(grading_store_reader_t *r)
{
    if (!r) return;
    grading_store_read_end(r);
    if (r->txn.txn) mdb_txn_abort(r->txn.txn);   /* gives back the reader slot */
    free(r);
}

grading_err_t grading_store_read_begin(grading_store_reader_t *r, grading_txn_t **out)
{
    grading_store_t *st = r->st;
    if (r->active) return GRADING_ESTATE;   /* read_end first */
    for (int attempt = 0;; attempt++) {
        int rc;
        pthread_rwlock_rdlock(&st->map_lock);
        if (!r->txn.txn) {
            rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &r->txn.txn);
        } else {
            rc = mdb_txn_renew(r->txn.txn);
            if (rc && rc != MDB_MAP_RESIZED) {
                /* Start afresh next time rather than renew a txn in an unknown state. */
                mdb_txn_abort(r->txn.txn);
                r->txn.txn = NULL;
            }
        }
        if (rc == MDB_SUCCESS) {
            r->active = true;
            *out = &r->txn;
            return GRADING_OK;
        }
        pthread_rwlock_unlock(&st->map_lock);
        if (rc != MDB_MAP_RESIZED || attempt >= STORE_RESIZE_RETRIES)
            return rc == ENOMEM ? GRADING_ENOMEM : GRADING_EIO;
        adopt_map_size(st);
    }
}

void grading_store_read_end(grading_store_reader_t *r)
{
    if (!r || !r->active) return;
    mdb_txn_reset(r->txn.txn);
    r->active = false;
    pthread_rwlock_unlock(&r->st->map_lock);
}

/* ---- records ---- */

grading_err_t store_get_raw(grading_txn_t *t, int db, const uint8_t *key, size_t klen,
                             MDB_val *v, bool *found)
{
    MDB_val k = {klen, (void *)key};
    int rc = mdb_get(t->txn, t->st->dbi[db], &k, v);
    *found = rc == MDB_SUCCESS;
    return rc == MDB_NOTFOUND ? GRADING_OK : store_from_mdb(rc);
}

grading_err_t store_put_raw(grading_txn_t *t, int db, const uint8_t *key, size_t klen,
                             const uint8_t *val, size_t vlen)
{
    if (t->reader) return GRADING_ESTATE;
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    return store_from_mdb(mdb_put(t->txn, t->st->dbi[db], &k, &v, 0));
}

/* An event id is its own key. */
static grading_err_t event_key(const char *event_id, size_t *out_len)
{
    if (!event_id) return GRADING_EINVAL;
    size_t n = strnlen(event_id, GRADING_MAX_ID_LEN + 1);
    if (n == 0 || n > GRADING_MAX_ID_LEN) return GRADING_EINVAL;
    *out_len = n;
    return GRADING_OK;
}

grading_err_t grading_store_event_seen(grading_txn_t *txn, const char *event_id, bool *out_seen)
{
    size_t klen;
    MDB_val v;
    grading_err_t err = event_key(event_id, &klen);
    if (err) return err;
    return store_get_raw(txn, DB_EVENTS, (const uint8_t *)event_id, klen, &v, out_seen);
}

grading_err_t grading_store_event_put(grading_txn_t *txn, const char *event_id, int64_t stored_ms)
{
    size_t klen, vlen;
    uint8_t val[GRADING_CODEC_EVENT_MAX];
    grading_err_t err = event_key(event_id, &klen);
    if (err) return err;
    grading_codec_event_encode(stored_ms, val, &vlen);
    return store_put_raw(txn, DB_EVENTS, (const uint8_t *)event_id, klen, val, vlen);
}

grading_err_t grading_store_event_get(grading_txn_t *txn, const char *event_id, bool *found,
                                      bool *has_hash, uint64_t *hash)
{
    size_t klen;
    MDB_val v;
    int64_t stored_ms;
    *has_hash = false;
    *hash = 0;
    grading_err_t err = event_key(event_id, &klen);
    if (!err) err = store_get_raw(txn, DB_EVENTS, (const uint8_t *)event_id, klen, &v, found);
    if (err || !*found) return err;
    return grading_codec_event_decode_full(v.mv_data, v.mv_size, &stored_ms, has_hash, hash);
}

grading_err_t grading_store_event_put_hashed(grading_txn_t *txn, const char *event_id, int64_t stored_ms,
                                             uint64_t hash)
{
    size_t klen, vlen;
    uint8_t val[GRADING_CODEC_EVENT_MAX];
    grading_err_t err = event_key(event_id, &klen);
    if (err) return err;
    grading_codec_event_encode_hashed(stored_ms, hash, val, &vlen);
    return store_put_raw(txn, DB_EVENTS, (const uint8_t *)event_id, klen, val, vlen);
}

grading_err_t grading_store_order_get(grading_txn_t *txn, const char *mp, const char *seller,
                                      const char *order_id, grading_order_t *out, bool *found)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    MDB_val v;
    grading_err_t err = grading_key_order(key, mp, seller, order_id, &klen);
    if (!err) err = store_get_raw(txn, DB_ORDERS, key, klen, &v, found);
    if (err) return err;
    if (!*found) {
        grading_order_init(out);
        return GRADING_OK;
    }
    return grading_codec_order_decode(v.mv_data, v.mv_size, out);
}

/* Calls cb with each key id and value of the seller's records in db
 * (orders or inquiries: keys marketplace|seller|id), in id order, with one
 * range scan. A non-zero return from cb stops the scan and is returned. */
typedef grading_err_t (*record_raw_cb)(void *ctx, const char *id, const MDB_val *v);

static grading_err_t records_foreach(grading_txn_t *txn, int db, const char *mp, const char *seller,
                                     record_raw_cb cb, void *ctx)
{
    uint8_t prefix[GRADING_KEY_MAX];
    size_t plen;
    char id[GRADING_MAX_ID_LEN + 1];
    grading_err_t err = grading_key_seller(prefix, mp, seller, &plen);
    if (err) return err;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[db], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k = {plen, prefix}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS) {
        /* keys are prefix-free per seller (length-prefixed names) */
        if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen) != 0) break;
        size_t idlen = k.mv_size - plen;
        if (idlen > GRADING_MAX_ID_LEN) {
            err = GRADING_ECORRUPT;
            break;
        }
        memcpy(id, (const uint8_t *)k.mv_data + plen, idlen);
        id[idlen] = 0;
        if ((err = cb(ctx, id, &v))) break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (!err && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) err = store_from_mdb(rc);
    mdb_cursor_close(cur);
    return err;
}

typedef struct {
    grading_store_order_cb cb;
    void *ctx;
} orders_scan_t;

static grading_err_t order_raw(void *ctx, const char *id, const MDB_val *v)
{
    orders_scan_t *sc = ctx;
    grading_order_t o;
    grading_err_t err = grading_codec_order_decode(v->mv_data, v->mv_size, &o);
    return err ? err : sc->cb(sc->ctx, id, &o);
}

grading_err_t grading_store_orders_foreach(grading_txn_t *txn, const char *mp, const char *seller,
                                           grading_store_order_cb cb, void *ctx)
{
    orders_scan_t sc = {cb, ctx};
    return records_foreach(txn, DB_ORDERS, mp, seller, order_raw, &sc);
}

typedef struct {
    grading_store_inquiry_cb cb;
    void *ctx;
} inquiries_scan_t;

static grading_err_t inquiry_raw(void *ctx, const char *id, const MDB_val *v)
{
    inquiries_scan_t *sc = ctx;
    grading_inquiry_t q;
    grading_err_t err = grading_codec_inquiry_decode(v->mv_data, v->mv_size, &q);
    return err ? err : sc->cb(sc->ctx, id, &q);
}

grading_err_t grading_store_inquiries_foreach(grading_txn_t *txn, const char *mp, const char *seller,
                                              grading_store_inquiry_cb cb, void *ctx)
{
    inquiries_scan_t sc = {cb, ctx};
    return records_foreach(txn, DB_INQUIRIES, mp, seller, inquiry_raw, &sc);
}

/* Counts the records with a mask set; the version byte says which records
 * can have one (codec.c writes exclusions only then). */
typedef struct {
    uint8_t with_exclusions;   /* the version byte of records that have them */
    bool inquiry;
    uint32_t n;
} excluded_scan_t;

static grading_err_t excluded_raw(void *ctx, const char *id, const MDB_val *v)
{
    (void)id;
    excluded_scan_t *sc = ctx;
    if (!v->mv_size || ((const uint8_t *)v->mv_data)[0] != sc->with_exclusions) return GRADING_OK;
    uint64_t appeal, exempt;
    grading_err_t err;
    if (sc->inquiry) {
        grading_inquiry_t q;
        err = grading_codec_inquiry_decode(v->mv_data, v->mv_size, &q);
        appeal = q.appeal_mask, exempt = q.exempt_mask;
    } else {
        grading_order_t o;
        err = grading_codec_order_decode(v->mv_data, v->mv_size, &o);
        appeal = o.appeal_mask, exempt = o.exempt_mask;
    }
    if (!err && (appeal | exempt)) sc->n++;
    return err;
}

grading_err_t grading_store_excluded_records(grading_txn_t *txn, const char *mp, const char *seller,
                                             uint32_t *out)
{
    excluded_scan_t orders = {GRADING_CODEC_ORDER_V4, false, 0}, inquiries = {GRADING_CODEC_INQUIRY_V2, true, 0};
    grading_err_t err = records_foreach(txn, DB_ORDERS, mp, seller, excluded_raw, &orders);
    if (!err) err = records_foreach(txn, DB_INQUIRIES, mp, seller, excluded_raw, &inquiries);
    *out = err ? 0 : orders.n + inquiries.n;
    return err;
}

grading_err_t grading_store_order_del(grading_txn_t *txn, const char *mp, const char *seller,
                                      const char *order_id)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    grading_err_t err = grading_key_order(key, mp, seller, order_id, &klen);
    if (err) return err;
    if (txn->reader) return GRADING_ESTATE;
    MDB_val k = {klen, key};
    int rc = mdb_del(txn->txn, txn->st->dbi[DB_ORDERS], &k, NULL);
    return rc == MDB_NOTFOUND ? GRADING_OK : store_from_mdb(rc);
}

grading_err_t grading_store_order_put(grading_txn_t *txn, const char *mp, const char *seller,
                                      const char *order_id, const grading_order_t *o)
{
    uint8_t key[GRADING_KEY_MAX], val[GRADING_CODEC_ORDER_MAX];
    size_t klen, vlen;
    grading_err_t err = grading_key_order(key, mp, seller, order_id, &klen);
    if (!err) err = grading_codec_order_encode(o, val, &vlen);
    if (err) return err;
    return store_put_raw(txn, DB_ORDERS, key, klen, val, vlen);
}

grading_err_t grading_store_inquiry_get(grading_txn_t *txn, const char *mp, const char *seller,
                                        const char *inquiry_id, grading_inquiry_t *out,
                                        bool *found)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    MDB_val v;
    grading_err_t err = grading_key_order(key, mp, seller, inquiry_id, &klen);
    if (!err) err = store_get_raw(txn, DB_INQUIRIES, key, klen, &v, found);
    if (err) return err;
    if (!*found) {
        grading_inquiry_init(out);
        return GRADING_OK;
    }
    return grading_codec_inquiry_decode(v.mv_data, v.mv_size, out);
}

grading_err_t grading_store_inquiry_put(grading_txn_t *txn, const char *mp, const char *seller,
                                        const char *inquiry_id, const grading_inquiry_t *q)
{
    uint8_t key[GRADING_KEY_MAX], val[GRADING_CODEC_INQUIRY_MAX];
    size_t klen, vlen;
    grading_err_t err = grading_key_order(key, mp, seller, inquiry_id, &klen);
    if (!err) err = grading_codec_inquiry_encode(q, val, &vlen);
    if (err) return err;
    return store_put_raw(txn, DB_INQUIRIES, key, klen, val, vlen);
}

static grading_err_t day_get_db(grading_txn_t *txn, int db, const char *mp, const char *seller,
                                int32_t day, grading_day_counters_t *out, bool *found)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    MDB_val v;
    grading_err_t err = grading_key_day(key, mp, seller, day, &klen);
    if (!err) err = store_get_raw(txn, db, key, klen, &v, found);
    if (err) return err;
    if (!*found) {
        grading_day_counters_init(out);
        return GRADING_OK;
    }
    return grading_codec_day_decode(v.mv_data, v.mv_size, out);
}

static grading_err_t day_put_db(grading_txn_t *txn, int db, const char *mp, const char *seller,
                                int32_t day, const grading_day_counters_t *d)
{
    uint8_t key[GRADING_KEY_MAX], val[GRADING_CODEC_DAY_MAX];
    size_t klen, vlen;
    grading_err_t err = grading_key_day(key, mp, seller, day, &klen);
    if (!err) err = grading_codec_day_encode(d, val, &vlen);
    if (err) return err;
    return store_put_raw(txn, db, key, klen, val, vlen);
}

grading_err_t grading_store_day_get(grading_txn_t *txn, const char *mp, const char *seller,
                                    int32_t day, grading_day_counters_t *out, bool *found)
{
    return day_get_db(txn, DB_DAILY, mp, seller, day, out, found);
}

grading_err_t grading_store_day_put(grading_txn_t *txn, const char *mp, const char *seller,
                                    int32_t day, const grading_day_counters_t *d)
{
    return day_put_db(txn, DB_DAILY, mp, seller, day, d);
}

grading_err_t grading_store_xday_get(grading_txn_t *txn, const char *mp, const char *seller,
                                     int32_t day, grading_day_counters_t *out, bool *found)
{
    return day_get_db(txn, DB_XDAILY, mp, seller, day, out, found);
}

grading_err_t grading_store_xday_put(grading_txn_t *txn, const char *mp, const char *seller,
                                     int32_t day, const grading_day_counters_t *d)
{
    return day_put_db(txn, DB_XDAILY, mp, seller, day, d);
}

grading_err_t grading_store_first_day(grading_txn_t *txn, const char *mp, const char *seller,
                                     int32_t *out_day, bool *found)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t len;
    *found = false;
    grading_err_t err = grading_key_day(key, mp, seller, INT32_MIN, &len);
    if (err) return err;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_DAILY], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k = {len, key}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS && k.mv_size == len && memcmp(k.mv_data, key, len - 4) == 0) {
        if (grading_key_day_decode(k.mv_data, k.mv_size, out_day)) err = GRADING_ECORRUPT;
        else *found = true;
    } else if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        err = store_from_mdb(rc);
    }
    mdb_cursor_close(cur);
    return err;
}

static grading_err_t days_foreach_db(grading_txn_t *txn, int db, const char *mp, const char *seller,
                                     int32_t from_day, int32_t to_day, grading_store_day_cb cb, void *ctx)
{
    uint8_t from_key[GRADING_KEY_MAX];
    size_t from_len;
    MDB_cursor *cur = NULL;
    grading_day_counters_t day_rec;
    grading_err_t err = grading_key_day(from_key, mp, seller, from_day, &from_len);
    if (err || from_day > to_day) return err;
    /* Keys are prefix-free per seller (length-prefixed names), so a key
     * that starts with this seller's prefix is one of this seller's days. */
    size_t prefix_len = from_len - 4;

    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[db], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k = {from_len, from_key}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS) {
        if (k.mv_size < prefix_len || memcmp(k.mv_data, from_key, prefix_len) != 0) break;
        int32_t day;
        if (k.mv_size != from_len || grading_key_day_decode(k.mv_data, k.mv_size, &day)) {
            err = GRADING_ECORRUPT;
            goto done;
        }
        if (day > to_day) break;
        if ((err = grading_codec_day_decode(v.mv_data, v.mv_size, &day_rec))) goto done;
        if ((err = cb(ctx, day, &day_rec))) goto done;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) err = store_from_mdb(rc);
done:
    mdb_cursor_close(cur);
    return err;
}

static grading_err_t sum_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    (void)day;
    return grading_day_counters_add(ctx, d);
}

grading_err_t grading_store_days_foreach(grading_txn_t *txn, const char *mp, const char *seller,
                                         int32_t from_day, int32_t to_day,
                                         grading_store_day_cb cb, void *ctx)
{
    return days_foreach_db(txn, DB_DAILY, mp, seller, from_day, to_day, cb, ctx);
}

grading_err_t grading_store_days_sum(grading_txn_t *txn, const char *mp, const char *seller,
                                     int32_t from_day, int32_t to_day,
                                     grading_day_counters_t *acc)
{
    return days_foreach_db(txn, DB_DAILY, mp, seller, from_day, to_day, sum_day, acc);
}

grading_err_t grading_store_xdays_foreach(grading_txn_t *txn, const char *mp, const char *seller,
                                          int32_t from_day, int32_t to_day, grading_store_day_cb cb, void *ctx)
{
    return days_foreach_db(txn, DB_XDAILY, mp, seller, from_day, to_day, cb, ctx);
}

grading_err_t grading_store_xdays_sum(grading_txn_t *txn, const char *mp, const char *seller,
                                      int32_t from_day, int32_t to_day, grading_day_counters_t *acc)
{
    return days_foreach_db(txn, DB_XDAILY, mp, seller, from_day, to_day, sum_day, acc);
}

/* ---- sellers: the derived answer the hot path reads ----
 * value: u8 format (1) | 16 bytes policy version | u64 BE boost bits |
 *        u8 flags (1 suspended, 2 withdrawals held) | i64 BE computed_ms */
#define SELLER_REC_V1_LEN (1 + GRADING_SELLER_VERSION_LEN + 8 + 1 + 8)
#define SELLER_REC_LEN (SELLER_REC_V1_LEN + 8)   /* format 2: + i64 BE next_due_ms */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static grading_err_t seller_decode(const MDB_val *v, grading_seller_state_t *out)
{
    const uint8_t *p = v->mv_data;
    if (!(v->mv_size == SELLER_REC_V1_LEN && p[0] == 1) && !(v->mv_size == SELLER_REC_LEN && p[0] == 2))
        return GRADING_ECORRUPT;
    memcpy(out->policy_version, p + 1, GRADING_SELLER_VERSION_LEN);
    out->policy_version[GRADING_SELLER_VERSION_LEN] = 0;
    uint64_t bits = get_u64(p + 1 + GRADING_SELLER_VERSION_LEN);
    memcpy(&out->boost, &bits, sizeof bits);
    uint8_t flags = p[1 + GRADING_SELLER_VERSION_LEN + 8];
    out->suspended = flags & 1;
    out->withdrawals_held = (flags & 2) != 0;
    out->computed_ms = (int64_t)get_u64(p + 1 + GRADING_SELLER_VERSION_LEN + 9);
    out->next_due_ms = p[0] == 2 ? (int64_t)get_u64(p + SELLER_REC_V1_LEN) : 0;
    return GRADING_OK;
}

grading_err_t grading_store_seller_get(grading_txn_t *txn, const char *mp, const char *seller,
                                       grading_seller_state_t *out, bool *found)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    MDB_val v;
    memset(out, 0, sizeof *out);
    grading_err_t err = grading_key_seller(key, mp, seller, &klen);
    if (!err) err = store_get_raw(txn, DB_SELLERS, key, klen, &v, found);
    if (err || !*found) return err;
    return seller_decode(&v, out);
}

grading_err_t grading_store_seller_put(grading_txn_t *txn, const char *mp, const char *seller,
                                       const grading_seller_state_t *s)
{
    uint8_t key[GRADING_KEY_MAX], val[SELLER_REC_LEN] = {2};
    size_t klen;
    grading_err_t err = grading_key_seller(key, mp, seller, &klen);
    if (err) return err;
    memcpy(val + 1, s->policy_version, strnlen(s->policy_version, GRADING_SELLER_VERSION_LEN));
    uint64_t bits;
    memcpy(&bits, &s->boost, sizeof bits);
    put_u64(val + 1 + GRADING_SELLER_VERSION_LEN, bits);
    val[1 + GRADING_SELLER_VERSION_LEN + 8] = (uint8_t)((s->suspended ? 1 : 0) | (s->withdrawals_held ? 2 : 0));
    put_u64(val + 1 + GRADING_SELLER_VERSION_LEN + 9, (uint64_t)s->computed_ms);
    put_u64(val + SELLER_REC_V1_LEN, (uint64_t)s->next_due_ms);
    if ((err = store_put_raw(txn, DB_SELLERS, key, klen, val, sizeof val))) return err;
    return store_boost_changes_add(&txn->boosts, key, klen, s->boost);
}

/* Start-up: every stored seller's boost into the snapshot. */
static grading_err_t load_boosts(grading_store_t *st, MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_val k, v;
    grading_err_t err = GRADING_OK;
    int rc = mdb_cursor_open(txn, st->dbi[DB_SELLERS], &cur);
    if (rc) return store_from_mdb(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS && !err;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        grading_seller_state_t s;
        if (!(err = seller_decode(&v, &s))) err = store_boosts_load(st->boosts, k.mv_data, k.mv_size, s.boost);
    }
    mdb_cursor_close(cur);
    if (err) return err;
    if (rc != MDB_NOTFOUND) return store_from_mdb(rc);
    return store_boosts_load_done(st->boosts);
}

grading_err_t grading_store_boosts_get(grading_store_t *st, const char *mp, char *const *sellers, size_t n,
                                       double absent, double *out)
{
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    grading_err_t err = GRADING_OK;
    store_boost_view_t *v = store_boosts_pin(st->boosts);
    if (!v) return GRADING_ESTATE;
    for (size_t i = 0; i < n && !err; i++) {
        if ((err = grading_key_seller(key, mp, sellers[i], &klen))) break;
        if (!store_boost_view_get(v, key, klen, &out[i])) out[i] = absent;
    }
    store_boosts_unpin(v);
    return err;
}

void grading_store_boosts_stats(grading_store_t *st, uint64_t *sellers, uint64_t *bytes)
{
    store_boosts_stats(st->boosts, sellers, bytes);
}

grading_err_t grading_store_sellers_page(grading_txn_t *txn, const char *mp, const char *after,
                                         char (*out)[GRADING_MAX_ID_LEN + 1], size_t cap, size_t *n)
{
    uint8_t prefix[GRADING_KEY_MAX], start[GRADING_KEY_MAX];
    size_t plen = strlen(mp), slen;
    *n = 0;
    if (plen == 0 || plen > GRADING_MAX_MARKETPLACE_LEN) return GRADING_EINVAL;
    prefix[0] = (uint8_t)plen;
    memcpy(prefix + 1, mp, plen);
    plen += 1;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->st->dbi[DB_SELLERS], &cur);
    if (rc) return store_from_mdb(rc);
    MDB_val k, v;
    MDB_cursor_op op = MDB_SET_RANGE;
    if (after && after[0]) {
        grading_err_t err = grading_key_seller(start, mp, after, &slen);
        if (err) {
            mdb_cursor_close(cur);
            return err;
        }
        k = (MDB_val){slen, start};
    } else {
        k = (MDB_val){plen, prefix};
    }
    rc = mdb_cursor_get(cur, &k, &v, op);
    if (rc == MDB_SUCCESS && after && after[0] && k.mv_size == slen && memcmp(k.mv_data, start, slen) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    while (rc == MDB_SUCCESS && *n < cap) {
        const uint8_t *kp = k.mv_data;
        if (k.mv_size < plen + 1 || memcmp(kp, prefix, plen) != 0) break;
        size_t sl = kp[plen];
        if (sl == 0 || sl > GRADING_MAX_ID_LEN || plen + 1 + sl != k.mv_size) {
            mdb_cursor_close(cur);
            return GRADING_ECORRUPT;
        }
        memcpy(out[*n], kp + plen + 1, sl);
        out[*n][sl] = 0;
        (*n)++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? GRADING_OK : store_from_mdb(rc);
}

grading_store_t *grading_txn_store(grading_txn_t *txn)
{
    return txn->st;
}
