/* A case's exemptions (issue 15 §2): each `exemptions` item is declared
 * after the case's events (and appeals) through grading_exempt_declare,
 * the grade-layer function DeclareExemption runs, with an ingest writer
 * whose clock is the case's as_of; its walk re-splits the orders already
 * stored, so the exemption applies retroactively. The item's own events
 * are recorded after it (orders arriving after the declaration: ingest
 * marks them from the table). Then `revoked` ids are revoked in order
 * (grading_exempt_revoke). Each answer is compared with the file: an
 * expected error, the walk's sellers_changed and orders_changed.
 *
 * Events are applied directly while no writer runs, so the writer is
 * started for each declaration and stopped after it (as for closes). A
 * case with exemptions runs in a store of its own (scn_case_own_store). */
#include <stdio.h>
#include <string.h>

#include "grading/exempt_walk.h"
#include "scenario.h"

/* Runs one declaration (x) or revocation (r) on a writer of its own. */
static grading_err_t on_writer(grading_store_t *st, const scn_file_t *f, const scn_case_t *c,
                               const scn_exemption_t *x, const scn_revoke_t *r, grading_exempt_result_t *res,
                               grading_error_t *e)
{
    int64_t now = c->as_of_ms;
    grading_ingest_t *in = NULL;
    grading_err_t err = grading_ingest_start(st, scn_clock, &now, &in);
    if (err) return grading_error_set(e, err, "", "cannot start the ingest writer");
    if (r) {
        err = grading_exempt_revoke(st, in, f->policy, c->mp->name, r->id, "run_scenarios", res, e);
    } else {
        const char *metrics[SCN_EXEMPT_MAX_METRICS];
        for (size_t i = 0; i < x->nmetrics; i++) metrics[i] = x->metrics[i];
        grading_exempt_req_t req = {.marketplace = c->mp->name, .id = x->id, .from = x->from, .to = x->to,
                                    .metrics = metrics, .nmetrics = x->nmetrics, .overseas = x->scope,
                                    .product_id = x->product_id, .reason = "scenario",
                                    .caller = "run_scenarios"};
        err = grading_exempt_declare(st, in, f->policy, &req, now, res, e);
    }
    grading_ingest_stop(in);
    return err;
}

static void count_check(scn_diffs_t *d, const char *what, const char *name, bool has, uint64_t want, uint64_t got)
{
    if (has && want != got)
        scn_differ(d, "%s: %s (expected %llu, got %llu)", what, name, (unsigned long long)want,
                   (unsigned long long)got);
}

bool scn_case_exempt(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg, size_t msglen)
{
    const scn_case_t *c = &f->cases[ci];
    scn_diffs_t d = {msg, 0, msglen, true};
    char what[GRADING_MAX_ID_LEN + 64], why[SCN_MSG_LEN];
    grading_exempt_result_t res;
    msg[0] = '\0';
    for (size_t k = 0; k < c->nexemptions; k++) {
        const scn_exemption_t *x = &c->exemptions[k];
        grading_error_t e = {0};
        snprintf(what, sizeof what, "exemption %s (line %d)", x->id, x->line);
        grading_err_t err = on_writer(st, f, c, x, NULL, &res, &e);
        if (scn_answer_check(&d, what, err, &e, x->expect_error, x->error)) {
            count_check(&d, what, "sellers_changed", x->has_sellers_changed, x->sellers_changed,
                        res.sellers_changed);
            count_check(&d, what, "orders_changed", x->has_orders_changed, x->orders_changed, res.orders_changed);
        }
        /* phases 1..ncloses are the closes', ncloses + 1 the refresh after them */
        const scn_events_t *ev = &x->ev;
        if ((ev->norders || ev->ninquiries || ev->nrevenue || ev->ncustom) &&
            scn_events_apply(st, f, ci, ev, c->ncloses + 2 + k, why, sizeof why))
            scn_differ(&d, "events after %s not applied: %s", what, why);
    }
    for (size_t k = 0; k < c->nrevoked; k++) {
        const scn_revoke_t *r = &c->revoked[k];
        grading_error_t e = {0};
        snprintf(what, sizeof what, "revoking %s (line %d)", r->id, r->line);
        grading_err_t err = on_writer(st, f, c, NULL, r, &res, &e);
        if (scn_answer_check(&d, what, err, &e, false, ""))
            count_check(&d, what, "orders_changed", r->has_orders_changed, r->orders_changed, res.orders_changed);
    }
    return d.ok;
}
