/* A case's appeals (issue 15): the orders of an `orders` item with
 * `appealed: METRIC` are excluded from it after the case's events, through
 * grading_appeal_apply in a write transaction (what the server's writer
 * runs for ExcludeEvents), `appeal_times` times (the repeats must change
 * nothing), then restored when the item says `restored: true`. The order
 * ids are the generator's: "o<seq>", seq counting every orders item's
 * orders from 1 in file order (scenario_events.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/appeal.h"
#include "scenario.h"

#define APPEAL_ID_LEN 32

static grading_err_t appeal_once(grading_store_t *st, const scn_file_t *f, const scn_case_t *c, bool restore,
                                 const char *metric, const char *const *ids, size_t n, bool *changed, char *msg,
                                 size_t msglen)
{
    const char *metrics[] = {metric};
    grading_appeal_req_t req = {.restore = restore, .marketplace = c->mp->name, .seller = c->seller,
                                .order_ids = ids, .norders = n, .metrics = metrics, .nmetrics = 1,
                                .reason = "scenario", .caller = "run_scenarios"};
    grading_appeal_result_t res;
    grading_error_t e = {0};
    grading_txn_t *txn = NULL;
    grading_err_t err = grading_store_write_begin(st, NULL, &txn);
    if (!err) err = grading_appeal_apply(txn, f->policy, &req, c->as_of_ms, &res, &e);
    if (err) {
        if (txn) grading_txn_abort(txn);
        snprintf(msg, msglen, "%s %s: %s: %s", restore ? "restore" : "appeal", metric, e.field, e.message);
        return err;
    }
    *changed = res.changed;
    grading_appeal_result_free(&res);
    if ((err = grading_txn_commit(txn))) snprintf(msg, msglen, "commit: %s", grading_err_name(err));
    return err;
}

grading_err_t scn_case_appeals(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg, size_t msglen)
{
    const scn_case_t *c = &f->cases[ci];
    uint64_t seq = 0;
    grading_err_t err = GRADING_OK;
    for (size_t g = 0; g < c->ev.norders && !err; g++) {
        const scn_orders_t *o = &c->ev.orders[g];
        size_t n = (size_t)o->months * o->count;
        if (!o->appealed[0]) {
            seq += n;
            continue;
        }
        if (n > GRADING_APPEAL_MAX_IDS) {
            snprintf(msg, msglen, "line %d: at most %d appealed orders per item", o->line, GRADING_APPEAL_MAX_IDS);
            return GRADING_EINVAL;
        }
        char(*ids)[APPEAL_ID_LEN] = calloc(n ? n : 1, sizeof *ids);
        const char **ptrs = calloc(n ? n : 1, sizeof *ptrs);
        if (!ids || !ptrs) err = GRADING_ENOMEM;
        for (size_t k = 0; !err && k < n; k++) {
            snprintf(ids[k], sizeof ids[k], "o%llu", (unsigned long long)++seq);
            ptrs[k] = ids[k];
        }
        bool changed = false;
        for (uint32_t t = 0; !err && t < o->appeal_times; t++) {
            err = appeal_once(st, f, c, false, o->appealed, ptrs, n, &changed, msg, msglen);
            if (!err && changed != (t == 0)) {   /* the same appeal again changes nothing */
                snprintf(msg, msglen, "line %d: appeal %u of %s %s", o->line, t + 1, o->appealed,
                         changed ? "changed something again (not idempotent)" : "changed nothing the first time");
                err = GRADING_ESTATE;
            }
        }
        if (!err && o->restored) err = appeal_once(st, f, c, true, o->appealed, ptrs, n, &changed, msg, msglen);
        free(ids);
        free(ptrs);
    }
    return err;
}
