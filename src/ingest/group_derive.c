/* Deriving once per group commit: the sellers that the batches of one
 * write transaction touched, gathered as the batches apply, then sorted so
 * each (policy, marketplace, seller) is derived once, after every batch of
 * the group, in the group's transaction. A seller that 32 concurrent
 * callers each sent an event for is derived once, not 32 times; what is
 * stored is the same, since a derivation reads only the counters as the
 * transaction holds them and the group's one `now`. The array is the
 * writer's and reused from group to group: no allocation per event. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_internal.h"

grading_err_t grading_ingest_refset_reserve(grading_ingest_refset_t *s, size_t more)
{
    if (s->n + more <= s->cap) return GRADING_OK;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < s->n + more) cap *= 2;
    grading_ingest_ref_t *r = realloc(s->refs, cap * sizeof *r);
    if (!r) return GRADING_ENOMEM;
    s->refs = r;
    s->cap = cap;
    return GRADING_OK;
}

void grading_ingest_refset_add(grading_ingest_refset_t *s, const grading_ingest_batch_t *b, const char *mp,
                               const char *seller)
{
    /* room was reserved for every event of the batch */
    s->refs[s->n++] = (grading_ingest_ref_t){b->derive, b->derive_ctx, mp, seller};
}

/* By seller before marketplace: most groups hold one marketplace, whose
 * name would be compared to its end in every comparison of the sort. */
static int ref_cmp(const void *a, const void *b)
{
    const grading_ingest_ref_t *x = a, *y = b;
    uintptr_t cx = (uintptr_t)x->ctx, cy = (uintptr_t)y->ctx;
    if (cx != cy) return cx < cy ? -1 : 1;
    int c = strcmp(x->seller, y->seller);
    return c ? c : strcmp(x->mp, y->mp);
}

grading_err_t grading_ingest_refset_derive(grading_ingest_refset_t *s, grading_txn_t *txn, int64_t now)
{
    if (s->n > 1) qsort(s->refs, s->n, sizeof *s->refs, ref_cmp);
    for (size_t i = 0; i < s->n; i++) {
        const grading_ingest_ref_t *r = &s->refs[i];
        /* a different derive with the same context is not a duplicate */
        if (i > 0 && ref_cmp(&s->refs[i - 1], r) == 0 && s->refs[i - 1].derive == r->derive) continue;
        grading_err_t err = r->derive(r->ctx, txn, r->mp, r->seller, now);
        if (err) return err;
    }
    return GRADING_OK;
}

void grading_ingest_refset_free(grading_ingest_refset_t *s)
{
    free(s->refs);
    memset(s, 0, sizeof *s);
}
