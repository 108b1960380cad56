/* Recording events (record.h). */
#include "grading/record.h"

#include <stdio.h>

#include "grading/assess.h"

grading_err_t grading_record_check(const grading_policy_t *p, grading_event_t *events, uint32_t n,
                                   int64_t now_ms, int64_t max_future_skew_ms, int64_t max_past_ms,
                                   const char **marketplaces, const grading_tz_t **zones, grading_error_t *e)
{
    grading_err_t err = grading_events_validate(events, n, e);
    if (err) return err;
    for (uint32_t i = 0; i < n; i++) {
        char field[64];
        snprintf(field, sizeof field, "events[%u].marketplace", i);
        const grading_marketplace_t *mp = grading_policy_marketplace(p, events[i].marketplace);
        if (!mp)
            return grading_error_set(e, GRADING_ENOTFOUND, field, "unknown marketplace \"%s\"",
                                     events[i].marketplace ? events[i].marketplace : "");
        marketplaces[i] = mp->name;
        zones[i] = &mp->tz;
        grading_event_context_t ctx = {.marketplace = mp->name, .currency = mp->currency,
                                       .now_ms = now_ms, .max_future_skew_ms = max_future_skew_ms,
                                       .max_past_ms = max_past_ms};
        if ((err = grading_event_check_context(&events[i], i, &ctx, e))) return err;
        /* empty means the marketplace's: stored (and hashed) as such */
        if (!events[i].currency[0]) events[i].currency = mp->currency;
    }
    return GRADING_OK;
}

void grading_record_submit(grading_ingest_t *in, const grading_policy_t *p, grading_ingest_batch_t *b)
{
    b->derive = grading_assess_derive_cb;
    b->derive_ctx = (void *)p;
    grading_ingest_submit(in, b);
}

grading_err_t grading_record_run(grading_ingest_t *in, const grading_policy_t *p, grading_ingest_batch_t *b,
                                 uint32_t *accepted, uint32_t *duplicates)
{
    b->derive = grading_assess_derive_cb;
    b->derive_ctx = (void *)p;
    return grading_ingest_run(in, b, accepted, duplicates);
}
