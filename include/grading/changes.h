/* The change log: every change of a seller's stored answer (boost,
 * suspension, live levels) and every level a close publishes, in the
 * write transaction of the change itself, under a monotonic sequence
 * number. WatchGradeChanges streams it; a client resumes after the last
 * sequence it saw and misses nothing, sees nothing twice.
 *
 * key: u64 BE seq; the log is pruned by the writer as it appends (oldest
 * first, at most GRADING_CHANGES_PRUNE_STEP entries per append, so a write
 * transaction stays bounded), by age and by entry count; the newest entry
 * is never pruned, so the next sequence is always the last one plus 1.
 * Beside it, "live" (marketplace, seller -> levels per programme) keeps
 * the live levels last logged, to tell a level change from a re-derive. */
#ifndef GRADING_CHANGES_H
#define GRADING_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

#include "grading/err.h"
#include "grading/event.h"
#include "grading/store.h"

#define GRADING_CHANGES_DEFAULT_MAX_AGE_MS (INT64_C(7) * 24 * 3600 * 1000)   /* a week */
#define GRADING_CHANGES_DEFAULT_MAX_ENTRIES UINT64_C(1000000)
#define GRADING_CHANGES_PRUNE_STEP 64

/* Kinds of change, as bits (a change may carry several). */
enum {
    GRADING_CHANGE_BOOST = 1,
    GRADING_CHANGE_SUSPENSION = 2,
    GRADING_CHANGE_LEVELS = 4,      /* live levels */
    GRADING_CHANGE_PUBLISHED = 8,   /* levels a close published */
    GRADING_CHANGE_ALL = 15
};

typedef struct {
    uint64_t seq;                  /* set by the append */
    int64_t time_ms;               /* when it was committed (the writer's clock) */
    uint32_t kinds;                /* GRADING_CHANGE_* bits */
    char mp[GRADING_MAX_MARKETPLACE_LEN + 1];
    char seller[GRADING_MAX_ID_LEN + 1];
    double boost;                  /* the new values (live ones for a live change) */
    bool suspended;
    uint32_t nlevels;
    int32_t levels[GRADING_STORE_MAX_PROGRAMS];   /* per programme, policy order */
    int32_t period_kind;           /* PUBLISHED: grading_period_kind_t */
    char period[GRADING_STORE_PERIOD_MAX];        /* PUBLISHED: "2026-10" */
} grading_change_t;

/* Sets how long and how many entries the log keeps (0: the default). */
void grading_store_changes_limits(grading_store_t *st, int64_t max_age_ms, uint64_t max_entries);

/* Appends c (c->seq gets its sequence number) in the write transaction
 * txn, then prunes a bounded number of the oldest entries past the
 * limits. Errors: GRADING_EINVAL (id too long), GRADING_EFULL, GRADING_EIO,
 * GRADING_ESTATE (a reader's txn). */
grading_err_t grading_store_change_append(grading_txn_t *txn, grading_change_t *c);

/* The log's first and last sequence numbers; both 0 when it is empty. */
grading_err_t grading_store_changes_bounds(grading_txn_t *txn, uint64_t *first, uint64_t *last);

/* Up to cap entries with seq > after, oldest first, into out; *n gets how
 * many. Errors: GRADING_ECORRUPT (a record that does not decode), GRADING_EIO. */
grading_err_t grading_store_changes_read(grading_txn_t *txn, uint64_t after, grading_change_t *out, size_t cap,
                                         size_t *n);

/* The seller's stored answer moved from *old (NULL: none before) to the
 * new values: appends one change with every kind that differs from what
 * was stored (boost, suspension, or live levels against the "live"
 * record), and updates the live record. Nothing is appended when nothing
 * changed. In the derive's write transaction. */
grading_err_t grading_store_change_note_seller(grading_txn_t *txn, const char *mp, const char *seller,
                                               const grading_seller_state_t *old, const grading_seller_state_t *now,
                                               const int32_t *levels, uint32_t nlevels, int64_t now_ms);

/* What a watcher asks for. */
typedef struct {
    const char *mp;                 /* NULL or "": every marketplace */
    const char *const *sellers;     /* sorted by strcmp; nsellers 0: every seller */
    size_t nsellers;
    uint32_t kinds;                 /* GRADING_CHANGE_* bits; 0: every kind */
} grading_change_filter_t;

/* Whether c is one f asks for. */
bool grading_change_matches(const grading_change_filter_t *f, const grading_change_t *c);

#endif
