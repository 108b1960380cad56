/* grading_events_total for one RecordEvents call. Runs once per call, on
 * the thread that answers it (the writer for stored batches). */
#include "grading/metrics.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

/* Events of one marketplace come in runs; count a run at a time. */
void rpc_count_events(call_slot_t *s, grading_err_t err)
{
    const Grading__V1__RecordEventsRequest *req = (const void *)s->request;
    const record_state_t *r = &s->record;
    if (!req) return;
    size_t n = req->n_events;
    if (!err && !r->duplicate) return;   /* out of memory for the flags: not counted */
    if (err || !r->marketplaces) {
        /* nothing of the batch was stored: name the marketplace only when
         * the policy knows it (an unknown name must not become a label) */
        for (size_t i = 0; i < n; i++) {
            const char *name = req->events[i] ? req->events[i]->marketplace : NULL;
            const grading_marketplace_t *mp = s->policy ? grading_policy_marketplace(s->policy, name) : NULL;
            grading_metrics_events(mp ? mp->name : NULL, GRADING_EVENTS_REJECTED, 1);
        }
        return;
    }
    /* the writer lists conflicts in ascending index order */
    const uint32_t *conflict = r->report.conflict_indexes;
    const uint32_t *conflict_end = conflict ? conflict + r->report.nconflicts : NULL;
    size_t i = 0;
    while (i < n) {
        const char *mp = r->marketplaces[i];
        uint64_t acc = 0, dup = 0, con = 0;
        for (; i < n && r->marketplaces[i] == mp; i++) {
            if (conflict != conflict_end && *conflict == i) {
                con++;
                conflict++;
            } else if (r->duplicate[i]) {
                dup++;
            } else {
                acc++;
            }
        }
        grading_metrics_events(mp, GRADING_EVENTS_ACCEPTED, acc);
        grading_metrics_events(mp, GRADING_EVENTS_DUPLICATE, dup);
        grading_metrics_events(mp, GRADING_EVENTS_CONFLICT, con);
    }
}
