/* Running a case's period closes (`closes:`) the way the server does:
 * grading_close_period with an ingest writer running, whose clock is the
 * case's as_of (the close writes its pages through the writer, and now_ms
 * decides whether the period has ended).
 *
 * The closes run in order, after the case's own events. A close may carry
 * events of its own, recorded just before it (late events of a period
 * closed already, say); they are applied directly while no writer runs,
 * so the writer is started for each close and stopped after it, and the
 * store never sees two writing threads at once. After the last close the
 * seller's stored hot-path record is derived again as of as_of, as the
 * server's refresh after a close does, because published grades may drive
 * the boost and the suspension.
 *
 * A close answers with an error, already_closed or the sellers evaluated;
 * every difference from what the file expects is listed, and a close that
 * fails does not stop the later ones (their answers are still reported). */
#include <stdio.h>
#include <string.h>

#include "grading/close.h"
#include "grading/ingest.h"
#include "scenario.h"

/* Runs close k and compares its answer. */
static void run_close(grading_store_t *st, const scn_file_t *f, const scn_case_t *c, size_t k,
                      scn_diffs_t *d)
{
    const scn_close_t *cl = &c->closes[k];
    const char *kind = grading_period_kind_name(cl->kind);
    grading_ingest_t *in = NULL;
    grading_close_result_t res;
    grading_error_t e;
    char what[GRADING_PERIOD_NAME_MAX + 64];   /* "close 2 (month 2026-10, line 13)" */
    int64_t now = c->as_of_ms;

    memset(&e, 0, sizeof e);
    snprintf(what, sizeof what, "close %zu (%s %s, line %d)", k + 1, kind, cl->period, cl->line);
    grading_err_t err = grading_ingest_start(st, scn_clock, &now, &in);
    if (err) {
        scn_differ(d, "%s: cannot start the ingest writer: %s", what, grading_err_name(err));
        return;
    }
    err = grading_close_period(st, in, f->policy, c->mp, cl->kind, cl->period, cl->dry_run, now, 0,
                               &res, &e);
    grading_ingest_stop(in);

    if (!scn_answer_check(d, what, err, &e, cl->expect_error, cl->error)) return;
    if (res.already_closed != cl->already_closed)
        scn_differ(d, "%s: already_closed (expected %s, got %s)", what, cl->already_closed ? "true" : "false",
               res.already_closed ? "true" : "false");
    if (cl->has_evaluated && res.state.evaluated != cl->evaluated)
        scn_differ(d, "%s: evaluated (expected %u, got %u)", what, cl->evaluated, res.state.evaluated);
}

bool scn_case_close(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg, size_t msglen)
{
    const scn_case_t *c = &f->cases[ci];
    scn_diffs_t d = {msg, 0, msglen, true};
    char why[SCN_MSG_LEN];
    static const scn_events_t none;
    msg[0] = '\0';
    for (size_t k = 0; k < c->ncloses; k++) {
        const scn_close_t *cl = &c->closes[k];
        const scn_events_t *ev = &cl->ev;
        if ((ev->norders || ev->ninquiries || ev->nrevenue || ev->ncustom) &&
            scn_events_apply(st, f, ci, ev, k + 1, why, sizeof why)) {
            scn_differ(&d, "events before close %zu (%s %s, line %d) not applied: %s", k + 1,
                   grading_period_kind_name(cl->kind), cl->period, cl->line, why);
            continue;
        }
        run_close(st, f, c, k, &d);
    }
    /* the refresh after a close: phase ncloses + 1 records nothing */
    if (scn_events_apply(st, f, ci, &none, c->ncloses + 1, why, sizeof why))
        scn_differ(&d, "the stored record was not derived again after the closes: %s", why);
    return d.ok;
}
