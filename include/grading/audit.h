/* The audit trail: one entry per effect that matters (a non-dry close, a
 * policy or authz reload, each RecordEvents call), written into the
 * `audit` database in the same write transaction as the effect, so an
 * entry exists exactly when its effect does. Entries are kept in time
 * order (key: big-endian milliseconds, then a sequence number). */
#ifndef GRADING_AUDIT_H
#define GRADING_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/store.h"

#define GRADING_AUDIT_MAX_COUNTS 8
#define GRADING_AUDIT_TEXT 128

typedef struct {
    char name[32];
    int64_t value;
} grading_audit_count_t;

typedef struct {
    int64_t time_ms;
    char caller[GRADING_AUDIT_TEXT];        /* authz caller name, "local", "anonymous" */
    char method[64];                        /* "RecordEvents", "ClosePeriod", "ReloadPolicy" */
    char marketplace[GRADING_AUDIT_TEXT];   /* may be empty (reloads, multi-marketplace batches: "a,b") */
    char period[32];                        /* ClosePeriod only */
    char policy_version[32];
    char detail[GRADING_AUDIT_TEXT];        /* e.g. the reloaded file */
    uint32_t ncounts;
    grading_audit_count_t counts[GRADING_AUDIT_MAX_COUNTS];
} grading_audit_entry_t;

/* Adds a count to e (ignored past GRADING_AUDIT_MAX_COUNTS). */
void grading_audit_count(grading_audit_entry_t *e, const char *name, int64_t value);

/* Appends e inside the write transaction txn. Errors: the store's. */
grading_err_t grading_store_audit_put(grading_txn_t *txn, const grading_audit_entry_t *e);

/* Calls cb for each entry at or after since_ms, oldest first, at most
 * limit entries (0: no limit). cb returning non-OK stops with that code. */
typedef grading_err_t (*grading_audit_cb)(void *ctx, const grading_audit_entry_t *e);
grading_err_t grading_store_audit_foreach(grading_txn_t *txn, int64_t since_ms, uint32_t limit,
                                          grading_audit_cb cb, void *ctx);

/* Deletes the oldest entries keyed before before_ms, at most max of them
 * (a bounded transaction); *removed says how many. */
grading_err_t grading_store_audit_prune(grading_txn_t *txn, int64_t before_ms, uint32_t max, uint32_t *removed);

#endif
