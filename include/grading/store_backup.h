/* Online backup and restore of the store, and its size figures.
 *
 * A backup is LMDB's compacting copy (mdb_env_copyfd2 with MDB_CP_COMPACT)
 * of one read snapshot: it holds every transaction committed before it
 * began, while the writer and the readers go on. A restore puts such a
 * copy in place as a data directory's data.mdb. */
#ifndef GRADING_STORE_BACKUP_H
#define GRADING_STORE_BACKUP_H

#include <stdint.h>

#include "grading/err.h"
#include "grading/store.h"

typedef struct {
    uint64_t map_bytes;    /* the memory map's size */
    uint64_t used_bytes;   /* pages in use (last page + 1) */
    uint64_t readers;      /* reader slots in use */
} grading_store_stats_t;

grading_err_t grading_store_stats(grading_store_t *st, grading_store_stats_t *out);

/* Writes a compacted copy of the store to fd (a file, a pipe, a socket)
 * from one snapshot. The map cannot grow meanwhile (a writer needing more
 * room waits for the copy). Errors: GRADING_EIO (*e says why). */
grading_err_t grading_store_backup_fd(grading_store_t *st, int fd, grading_error_t *e);

/* Checks that path is a whole LMDB copy of a store: its size covers every
 * page, it opens read-only, every database of the store is present and
 * every record can be read, and the schema version is ours. *records is
 * the number of records read (may be NULL). Errors: GRADING_ECORRUPT,
 * GRADING_EIO. */
grading_err_t grading_store_verify_copy(const char *path, uint64_t *records, grading_error_t *e);

/* Verifies backup, then installs it as dir/data.mdb (created if missing;
 * a directory that already holds a store is refused: GRADING_ESTATE). The
 * file is copied, synced and renamed into place, so a crash leaves either
 * no store or the whole one. */
grading_err_t grading_store_restore(const char *backup, const char *dir, grading_error_t *e);

#endif
