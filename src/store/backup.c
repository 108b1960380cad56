/* Online backup, verification of a copy, restore, and size figures
 * (see grading/store_backup.h). */
#include "grading/store_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

#define RESTORE_FILE_MODE 0640
#define COPY_CHUNK (1 << 20)

grading_err_t grading_store_stats(grading_store_t *st, grading_store_stats_t *out)
{
    MDB_envinfo info;
    MDB_stat stat;
    int rc = mdb_env_info(st->env, &info);
    if (!rc) rc = mdb_env_stat(st->env, &stat);
    if (rc) return store_from_mdb(rc);
    out->map_bytes = info.me_mapsize;
    out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
    out->readers = info.me_numreaders;
    return GRADING_OK;
}

grading_err_t grading_store_backup_fd(grading_store_t *st, int fd, grading_error_t *e)
{
    /* mdb_env_set_mapsize must not run while the copy's read transaction
     * is open in this process: hold the map lock's read side. */
    pthread_rwlock_rdlock(&st->map_lock);
    int rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&st->map_lock);
    if (rc)
        return grading_error_set(e, GRADING_EIO, "", "backup copy failed: %s", mdb_strerror(rc));
    return GRADING_OK;
}

static const char *const store_dbs[] = {"events", "daily", "orders", "inquiries", "sellers",
                                        "periods", "closes", "due", "meta"};

/* Reads every record of one named database. */
static int walk_db(MDB_txn *txn, const char *name, uint64_t *records, grading_error_t *e)
{
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_dbi_open(txn, name, 0, &dbi);
    if (rc) {
        grading_error_set(e, GRADING_ECORRUPT, "", "database \"%s\" missing: %s", name, mdb_strerror(rc));
        return rc;
    }
    if ((rc = mdb_cursor_open(txn, dbi, &cur))) {
        grading_error_set(e, GRADING_EIO, "", "cannot read \"%s\": %s", name, mdb_strerror(rc));
        return rc;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        (*records)++;
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        grading_error_set(e, GRADING_ECORRUPT, "", "database \"%s\" is damaged: %s", name, mdb_strerror(rc));
        return rc;
    }
    return 0;
}

grading_err_t grading_store_verify_copy(const char *path, uint64_t *records, grading_error_t *e)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    uint64_t n = 0;
    grading_err_t err = GRADING_OK;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return grading_error_set(e, GRADING_EIO, "", "cannot read %s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return grading_error_set(e, GRADING_EIO, "", "%s is not a file", path);
    int rc = mdb_env_create(&env);
    if (!rc) rc = mdb_env_set_maxdbs(env, 16);
    if (!rc) rc = mdb_env_set_mapsize(env, (size_t)sb.st_size + (1u << 20));
    if (!rc) rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0);
    if (rc) {
        err = grading_error_set(e, GRADING_ECORRUPT, "", "%s is not an LMDB store: %s", path, mdb_strerror(rc));
        goto done;
    }
    /* A cut-off copy would fault on its missing pages: check the size
     * against the last page first. */
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(env, &info);
    mdb_env_stat(env, &st);
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    if ((uint64_t)sb.st_size < need) {
        err = grading_error_set(e, GRADING_ECORRUPT, "", "%s is cut off: %lld bytes, its pages need %llu",
                                path, (long long)sb.st_size, (unsigned long long)need);
        goto done;
    }
    if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) {
        err = grading_error_set(e, GRADING_EIO, "", "cannot read %s: %s", path, mdb_strerror(rc));
        goto done;
    }
    for (size_t i = 0; i < sizeof store_dbs / sizeof store_dbs[0]; i++) {
        if (walk_db(txn, store_dbs[i], &n, e)) {
            err = e->code;
            goto done;
        }
    }
    MDB_dbi meta;
    MDB_val k = {sizeof "schema_version" - 1, (void *)"schema_version"}, v;
    uint32_t ver = 0;
    if (mdb_dbi_open(txn, "meta", 0, &meta) || mdb_get(txn, meta, &k, &v) || v.mv_size != sizeof ver) {
        err = grading_error_set(e, GRADING_ECORRUPT, "", "%s has no schema version", path);
        goto done;
    }
    const uint8_t *b = v.mv_data;   /* stored little-endian (store.c) */
    ver = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    if (ver != GRADING_STORE_SCHEMA_VERSION) {
        err = grading_error_set(e, GRADING_ECORRUPT, "", "%s has schema version %u, this build reads %u", path,
                                ver, GRADING_STORE_SCHEMA_VERSION);
        goto done;
    }
    if (records) *records = n;
done:
    if (txn) mdb_txn_abort(txn);
    if (env) mdb_env_close(env);
    return err;
}

static grading_err_t copy_file(const char *from, const char *to, grading_error_t *e)
{
    static char buf[COPY_CHUNK];
    grading_err_t err = GRADING_OK;
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = -1;
    if (in < 0) return grading_error_set(e, GRADING_EIO, "", "cannot read %s: %s", from, strerror(errno));
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, RESTORE_FILE_MODE);
    if (out < 0) {
        err = grading_error_set(e, GRADING_EIO, "", "cannot create %s: %s", to, strerror(errno));
        goto done;
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            err = grading_error_set(e, GRADING_EIO, "", "cannot read %s: %s", from, strerror(errno));
            goto done;
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                err = grading_error_set(e, GRADING_EIO, "", "cannot write %s: %s", to, strerror(errno));
                goto done;
            }
            off += w;
        }
    }
    if (fsync(out) != 0)
        err = grading_error_set(e, GRADING_EIO, "", "cannot sync %s: %s", to, strerror(errno));
done:
    if (out >= 0 && close(out) != 0 && !err)
        err = grading_error_set(e, GRADING_EIO, "", "cannot write %s: %s", to, strerror(errno));
    close(in);
    return err;
}

grading_err_t grading_store_restore(const char *backup, const char *dir, grading_error_t *e)
{
    char data[4096], tmp[4200];
    grading_err_t err = grading_store_verify_copy(backup, NULL, e);
    if (err) return err;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return grading_error_set(e, GRADING_EIO, "data-dir", "cannot create %s: %s", dir, strerror(errno));
    int n = snprintf(data, sizeof data, "%s/data.mdb", dir);
    if (n < 0 || (size_t)n >= sizeof data)
        return grading_error_set(e, GRADING_EINVAL, "data-dir", "path is too long");
    if (access(data, F_OK) == 0)
        return grading_error_set(e, GRADING_ESTATE, "data-dir",
                                 "%s already holds a store (%s); restore into an empty directory", dir, data);
    snprintf(tmp, sizeof tmp, "%s.restore-tmp", data);
    if ((err = copy_file(backup, tmp, e))) {
        unlink(tmp);
        return err;
    }
    if (rename(tmp, data) != 0) {
        err = grading_error_set(e, GRADING_EIO, "", "cannot rename %s to %s: %s", tmp, data, strerror(errno));
        unlink(tmp);
        return err;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);   /* the rename itself must survive a crash */
        close(dfd);
    }
    return GRADING_OK;
}
