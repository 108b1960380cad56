/* appeals.reopen_closed (appeal.h): an appeal publishes again the closed
 * periods whose grade it changed, in its own write transaction. */
#include "grading/appeal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/audit.h"
#include "grading/close.h"
#include "grading/prune.h"

/* a bound on the periods walked: far beyond any kept history */
#define REOPEN_MAX_PERIODS 4096

typedef struct {
    int32_t last;   /* the period's last local day: the sort key */
    grading_reopened_t r;
    grading_close_t close;   /* its distribution, moved with the seller */
} cand_t;

static int by_end(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->last != y->last) return x->last < y->last ? -1 : 1;
    return x->r.kind - y->r.kind;
}

static bool rec_same(const grading_period_rec_t *a, const grading_period_rec_t *b)
{
    if (a->n != b->n || a->has_points != b->has_points || (a->has_points && a->points != b->points)) return false;
    for (uint32_t q = 0; q < a->n && q < GRADING_STORE_MAX_PROGRAMS; q++)
        if (a->p[q].level != b->p[q].level || a->p[q].has_score != b->p[q].has_score ||
            a->p[q].new_seller != b->p[q].new_seller || (a->p[q].has_score && a->p[q].score != b->p[q].score))
            return false;
    return true;
}

/* The close's distribution with rec's levels counted sign times. */
static void move_count(grading_close_t *c, const grading_period_rec_t *rec, int sign)
{
    for (uint32_t q = 0; q < rec->n && q < c->nprograms && q < GRADING_STORE_MAX_PROGRAMS; q++)
        for (uint32_t l = 0; l < c->nlevels[q] && l < GRADING_STORE_MAX_LEVELS; l++)
            if (c->levels[q][l] == rec->p[q].level && (sign > 0 || c->counts[q][l] > 0))
                c->counts[q][l] = (uint32_t)((int64_t)c->counts[q][l] + sign);
}

/* The finished closes of mp from from_day's periods on that hold seller,
 * with what they published; *out owned by the caller, sorted by end. */
static grading_err_t closed_periods(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                    int32_t from_day, int64_t now_ms, cand_t **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (int kind = GRADING_PERIOD_MONTH; kind <= GRADING_PERIOD_YEAR; kind++) {
        char name[GRADING_PERIOD_NAME_MAX];
        int32_t first, last;
        grading_period_of((grading_period_kind_t)kind, from_day, name, &first, &last);
        for (int steps = 0; steps < REOPEN_MAX_PERIODS && grading_tz_day_start_ms(&mp->tz, last + 1) <= now_ms;
             steps++) {
            grading_close_t c;
            grading_period_rec_t rec;
            bool closed = false, held = false;
            grading_err_t err = grading_store_close_get(txn, mp->name, kind, name, &c, &closed);
            if (!err && closed && c.done)
                err = grading_store_period_get(txn, mp->name, kind, name, seller, &rec, &held);
            if (err) return err;
            if (closed && c.done && held) {
                if (*n == cap) {
                    size_t ncap = cap ? cap * 2 : 16;
                    cand_t *m = realloc(*out, ncap * sizeof *m);
                    if (!m) return GRADING_ENOMEM;
                    *out = m;
                    cap = ncap;
                }
                cand_t *k = &(*out)[(*n)++];
                memset(k, 0, sizeof *k);
                k->last = last;
                k->r.kind = kind;
                snprintf(k->r.period, sizeof k->r.period, "%s", name);
                k->r.before = rec;
                k->close = c;
            }
            grading_period_of((grading_period_kind_t)kind, last + 1, name, &first, &last);
        }
    }
    /* history rules read earlier periods: publish those first */
    if (*n) qsort(*out, *n, sizeof **out, by_end);
    return GRADING_OK;
}

/* "seller=S month: gold 2->1, ..." : the levels before and after. */
static grading_err_t audit_reopened(grading_txn_t *txn, const grading_policy_t *p, const grading_marketplace_t *mp,
                                    const char *seller, const char *method, const char *caller,
                                    const grading_reopened_t *r, int64_t now_ms)
{
    grading_audit_entry_t a = {.time_ms = now_ms};
    snprintf(a.caller, sizeof a.caller, "%s", caller && caller[0] ? caller : "local");
    snprintf(a.method, sizeof a.method, "%s", method);
    snprintf(a.marketplace, sizeof a.marketplace, "%s", mp->name);
    snprintf(a.period, sizeof a.period, "%s", r->period);
    snprintf(a.policy_version, sizeof a.policy_version, "%s", grading_policy_version(p));
    size_t used = 0;
    int w = snprintf(a.detail, sizeof a.detail, "reopened seller=%s %s:", seller,
                     grading_period_kind_name((grading_period_kind_t)r->kind));
    for (uint32_t q = 0; w > 0 && q < r->after.n && q < mp->rules->nprograms; q++) {
        used += (size_t)w;
        if (used >= sizeof a.detail) break;
        w = snprintf(a.detail + used, sizeof a.detail - used, "%s %s %d->%d", q ? "," : "",
                     mp->rules->programs[q].name, q < r->before.n ? (int)r->before.p[q].level : 0,
                     (int)r->after.p[q].level);
    }
    grading_audit_count(&a, "kind", r->kind);
    return grading_store_audit_put(txn, &a);
}

grading_err_t grading_appeal_reopen(grading_txn_t *txn, const grading_policy_t *p, const grading_marketplace_t *mp,
                                    const char *seller, int32_t from_day, int64_t now_ms, const char *method,
                                    const char *caller, grading_appeal_result_t *res, grading_error_t *e)
{
    cand_t *cs = NULL;
    size_t n = 0;
    grading_assess_t *x = NULL;
    grading_err_t err = closed_periods(txn, mp, seller, from_day, now_ms, &cs, &n);
    if (err || n == 0) goto done;
    x = grading_assess_new();
    res->reopened = calloc(n, sizeof *res->reopened);
    if (!x || !res->reopened) {
        err = GRADING_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        grading_reopened_t *r = &cs[i].r;
        int64_t as_of = grading_tz_day_start_ms(&mp->tz, cs[i].last + 1) - 1;
        grading_error_t pruned = {0};
        /* its days are gone: a new grade would be half-counted */
        err = grading_retention_check(txn, mp, as_of, &pruned);
        if (err == GRADING_ESTATE) {
            err = GRADING_OK;
            continue;
        }
        if (err) goto done;
        if ((err = grading_close_seller_rec(txn, mp, (grading_period_kind_t)r->kind, seller, as_of, x, &r->after, e)))
            goto done;
        if (rec_same(&r->before, &r->after)) continue;
        move_count(&cs[i].close, &r->before, -1);
        move_count(&cs[i].close, &r->after, 1);
        if ((err = grading_store_period_put(txn, mp->name, r->kind, r->period, seller, &r->after)) ||
            (err = grading_store_close_put(txn, mp->name, r->kind, r->period, &cs[i].close)) ||
            (err = grading_close_note_published(txn, p, mp->name, (grading_period_kind_t)r->kind, r->period, seller,
                                                &r->after, now_ms)) ||
            (err = audit_reopened(txn, p, mp, seller, method, caller, r, now_ms)))
            goto done;
        res->reopened[res->nreopened++] = *r;
    }
done:
    grading_assess_free(x);
    free(cs);
    return err;
}
