/* ClosePeriod's work (close.h). */
#include "grading/prune.h"
#include "grading/close.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/audit.h"

typedef struct {
    /* what the page writes */
    const grading_policy_t *policy;
    const char *mp, *period;
    int kind;
    size_t n;
    char (*ids)[GRADING_MAX_ID_LEN + 1];
    grading_period_rec_t *recs;
    bool last_page;
    const char *expect_cursor;     /* the cursor the page was read after */
    const char *page_last;         /* the page's last seller: the next cursor */
    grading_close_t *state;        /* in: the state so far; out: after the page */
    const char *caller;            /* for the audit entry of the last page */
} page_t;

/* Adds one seller's levels to the distribution. */
static void count(grading_close_t *c, const grading_period_rec_t *rec)
{
    for (uint32_t p = 0; p < rec->n && p < c->nprograms; p++)
        for (uint32_t l = 0; l < c->nlevels[p]; l++)
            if (c->levels[p][l] == rec->p[p].level) c->counts[p][l]++;
}

/* The close's audit entry, in the transaction that marks it done. */
static grading_err_t audit_close(grading_txn_t *txn, const page_t *pg, const grading_close_t *c, int64_t now_ms)
{
    static const char *const kinds[] = {"", "month", "quarter", "year"};
    grading_audit_entry_t e = {.time_ms = now_ms};
    snprintf(e.caller, sizeof e.caller, "%s", pg->caller ? pg->caller : "local");
    snprintf(e.method, sizeof e.method, "ClosePeriod");
    snprintf(e.marketplace, sizeof e.marketplace, "%s", pg->mp);
    snprintf(e.period, sizeof e.period, "%s", pg->period);
    snprintf(e.policy_version, sizeof e.policy_version, "%s", c->policy_version);
    snprintf(e.detail, sizeof e.detail, "%s",
             pg->kind >= 0 && pg->kind < 4 ? kinds[pg->kind] : "");
    grading_audit_count(&e, "sellers_evaluated", c->evaluated);
    grading_audit_count(&e, "programs", c->nprograms);
    return grading_store_audit_put(txn, &e);
}

/* On the writer thread, inside the page's transaction. */
static grading_err_t write_page(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    page_t *pg = ctx;
    grading_close_t c;
    bool found;
    grading_err_t err = grading_store_close_get(txn, pg->mp, pg->kind, pg->period, &c, &found);
    if (err) return err;
    if (!found) c = *pg->state;   /* the first page creates the record */
    if (c.done || strcmp(c.cursor, pg->expect_cursor) != 0) return GRADING_ESTATE;
    for (size_t i = 0; i < pg->n; i++) {
        grading_period_rec_t old;
        if ((err = grading_store_period_get(txn, pg->mp, pg->kind, pg->period, pg->ids[i], &old, &found)))
            return err;
        if (found) continue;   /* closed already: never twice */
        if ((err = grading_store_period_put(txn, pg->mp, pg->kind, pg->period, pg->ids[i], &pg->recs[i])))
            return err;
        if ((err = grading_close_note_published(txn, pg->policy, pg->mp, (grading_period_kind_t)pg->kind,
                                                pg->period, pg->ids[i], &pg->recs[i], now_ms)))
            return err;
        count(&c, &pg->recs[i]);
        c.evaluated++;
    }
    if (pg->page_last[0]) snprintf(c.cursor, sizeof c.cursor, "%s", pg->page_last);
    if (pg->last_page) {
        c.done = true;
        c.finished_ms = now_ms;
        if ((err = audit_close(txn, pg, &c, now_ms))) return err;
    }
    if ((err = grading_store_close_put(txn, pg->mp, pg->kind, pg->period, &c))) return err;
    *pg->state = c;
    return GRADING_OK;
}

static void init_state(grading_close_t *c, const grading_rules_t *r, const grading_policy_t *p, int64_t now)
{
    memset(c, 0, sizeof *c);
    c->started_ms = now;
    snprintf(c->policy_version, sizeof c->policy_version, "%s", grading_policy_version(p));
    c->nprograms = (uint32_t)r->nprograms;
    for (size_t i = 0; i < r->nprograms; i++) {
        c->nlevels[i] = (uint32_t)r->programs[i].nlevels;
        for (size_t l = 0; l < r->programs[i].nlevels; l++) c->levels[i][l] = r->programs[i].levels[l];
    }
}

grading_err_t grading_close_period(grading_store_t *st, grading_ingest_t *in,
                                   const grading_policy_t *p, const grading_marketplace_t *mp,
                                   grading_period_kind_t kind, const char *period, bool dry_run,
                                   int64_t now_ms, size_t page, grading_close_result_t *out,
                                   grading_error_t *e)
{
    return grading_close_period_stoppable(st, in, p, mp, kind, period, dry_run, now_ms, page, NULL, NULL,
                                          out, e);
}

grading_err_t grading_close_period_stoppable(grading_store_t *st, grading_ingest_t *in,
                                            const grading_policy_t *p, const grading_marketplace_t *mp,
                                            grading_period_kind_t kind, const char *period, bool dry_run,
                                            int64_t now_ms, size_t page, bool (*stop)(void *ctx),
                                            void *stop_ctx, grading_close_result_t *out,
                                            grading_error_t *e)
{
    return grading_close_period_as(st, in, p, mp, kind, period, dry_run, now_ms, page, stop, stop_ctx, NULL,
                                   out, e);
}

grading_err_t grading_close_period_as(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                      const grading_marketplace_t *mp, grading_period_kind_t kind,
                                      const char *period, bool dry_run, int64_t now_ms, size_t page,
                                      bool (*stop)(void *ctx), void *stop_ctx, const char *caller,
                                      grading_close_result_t *out, grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    int32_t first, last;
    grading_err_t err;
    grading_store_reader_t *rd = NULL;
    grading_assess_t *x = NULL;
    page_t pg = {.policy = p, .mp = mp->name, .period = period, .kind = (int)kind, .caller = caller};
    memset(out, 0, sizeof *out);
    if (page == 0) page = GRADING_CLOSE_PAGE;

    if ((err = grading_period_parse(kind, period, "period", &first, &last, e))) return err;
    int64_t end_ms = grading_tz_day_start_ms(&mp->tz, last + 1);
    if (now_ms < end_ms) {
        int32_t y;
        uint32_t m, d;
        grading_civil_from_days(last + 1, &y, &m, &d);
        return grading_error_set(e, GRADING_ESTATE, "period",
                                 "%s has not ended: it ends at %04d-%02u-%02uT00:00 %s", period, (int)y,
                                 m, d, mp->tz.name);
    }
    int64_t as_of = end_ms - 1;

    pg.ids = calloc(page, sizeof *pg.ids);
    pg.recs = calloc(page, sizeof *pg.recs);
    x = grading_assess_new();
    if (!pg.ids || !pg.recs || !x) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto done;
    }
    if ((err = grading_store_reader_new(st, &rd))) {
        grading_error_set(e, err, "", "cannot read the store");
        goto done;
    }

    grading_txn_t *txn;
    bool found = false;
    if ((err = grading_store_read_begin(rd, &txn))) goto store_fail;
    err = grading_store_close_get(txn, mp->name, (int)kind, period, &out->state, &found);
    grading_store_read_end(rd);
    if (err) goto store_fail;
    if (found && out->state.done) {
        out->already_closed = true;
        goto done;
    }
    if (!found || dry_run) init_state(&out->state, r, p, now_ms);
    pg.state = &out->state;

    char after[GRADING_MAX_ID_LEN + 1];
    snprintf(after, sizeof after, "%s", out->state.cursor);
    for (;;) {
        size_t n = 0;
        if (stop && stop(stop_ctx)) {
            err = grading_error_set(e, GRADING_ESHUTDOWN, "period",
                                    "the server is stopping; call again to finish the close of %s", period);
            goto done;
        }
        if ((err = grading_store_read_begin(rd, &txn))) goto store_fail;
        err = grading_store_sellers_page(txn, mp->name, after, pg.ids, page, &n);
        /* a period closed after its days were pruned: refused, never half-counted */
        if (!err && n) err = grading_retention_check(txn, mp, as_of, e);
        /* the cursor moves past the whole page, whether its sellers are kept */
        char page_last[GRADING_MAX_ID_LEN + 1] = "";
        if (!err && n) memcpy(page_last, pg.ids[n - 1], sizeof page_last);
        size_t kept = 0;
        for (size_t i = 0; !err && i < n; i++) {
            /* a seller whose first event came after the period was not in it */
            int32_t first_day;
            bool seen;
            if ((err = grading_store_first_day(txn, mp->name, pg.ids[i], &first_day, &seen))) break;
            if (!seen || first_day > last) continue;
            if ((err = grading_close_seller_rec(txn, mp, kind, pg.ids[i], as_of, x, &pg.recs[kept], e))) break;
            if (kept != i) memcpy(pg.ids[kept], pg.ids[i], sizeof pg.ids[kept]);
            kept++;
        }
        grading_store_read_end(rd);
        if (err) goto store_fail;
        if (dry_run) {
            for (size_t i = 0; i < kept; i++) count(&out->state, &pg.recs[i]);
            out->state.evaluated += (uint32_t)kept;
        } else {
            pg.n = kept;
            pg.page_last = page_last;
            pg.last_page = n < page;
            pg.expect_cursor = after;
            grading_ingest_batch_t b = {.n = 0, .apply = write_page, .apply_ctx = &pg};
            if ((err = grading_ingest_run(in, &b, NULL, NULL))) {
                grading_error_set(e, err, "period",
                                  err == GRADING_ESTATE ? "another close of %s is running or finished"
                                                        : "cannot write the close of %s; call again to resume",
                                  period);
                goto done;
            }
        }
        if (n < page) break;
        memcpy(after, page_last, sizeof after);
    }
    goto done;
store_fail:
    if (!e->message[0]) grading_error_set(e, err, "", "cannot read the store");
done:
    grading_store_reader_free(rd);
    grading_assess_free(x);
    free(pg.ids);
    free(pg.recs);
    return err;
}
