/* Exemptions: declare, revoke, and the retroactive walk (exempt_walk.h). */
#include "grading/exempt_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/appeal.h"
#include "grading/assess.h"
#include "grading/audit.h"
#include "grading/counters.h"
#include "grading/rederive.h"
#include "grading/store_exemptions.h"
#include "grading/text.h"

/* ---- the walk ---- */

typedef struct {
    char id[GRADING_MAX_ID_LEN + 1];
    grading_order_t o;
} changed_order_t;

typedef struct {
    grading_store_t *st;
    const grading_policy_t *p;
    const grading_marketplace_t *mp;
    const char *seller;
    changed_order_t *list;
    size_t n, cap;
    grading_err_t err;
} seller_scan_t;

/* Collects the orders whose mask the table now says otherwise (written
 * after the scan: no puts under the cursor). */
static grading_err_t note_order(void *ctx, const char *order_id, const grading_order_t *o)
{
    seller_scan_t *x = ctx;
    uint64_t mask = grading_store_exempt_mask(x->st, x->mp->name, o, &x->mp->tz);
    if (mask == o->exempt_mask) return GRADING_OK;
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        changed_order_t *l = realloc(x->list, cap * sizeof *l);
        if (!l) return GRADING_ENOMEM;
        x->list = l, x->cap = cap;
    }
    snprintf(x->list[x->n].id, sizeof x->list[x->n].id, "%s", order_id);
    x->list[x->n].o = *o;
    x->n++;
    return GRADING_OK;
}

typedef struct {
    grading_store_t *st;
    const grading_policy_t *p;
    const grading_marketplace_t *mp;
    const char *const *sellers;
    size_t n;
    uint64_t sellers_changed, orders_changed;
} page_t;

static grading_err_t resplit_seller(page_t *pg, grading_txn_t *txn, const char *seller, int64_t now_ms,
                                    seller_scan_t *x)
{
    grading_err_t err;
    x->n = 0;
    x->seller = seller;
    if ((err = grading_store_orders_foreach(txn, pg->mp->name, seller, note_order, x))) return err;
    for (size_t i = 0; i < x->n; i++) {
        grading_order_t now = x->list[i].o;
        now.exempt_mask = grading_store_exempt_mask(pg->st, pg->mp->name, &now, &pg->mp->tz);
        grading_contrib_t ks[GRADING_MAX_CONTRIBS], xs[GRADING_MAX_CONTRIBS];
        size_t nk = 0, nx = 0;
        if (grading_order_change_split(&x->list[i].o, &now, &pg->mp->tz, ks, &nk, xs, &nx)) return GRADING_EINVAL;
        if ((err = grading_ingest_record_change(txn, pg->mp->name, seller, ks, nk, xs, nx)) ||
            (err = grading_store_order_put(txn, pg->mp->name, seller, x->list[i].id, &now)))
            return err;
    }
    if (!x->n) return GRADING_OK;
    pg->sellers_changed++;
    pg->orders_changed += x->n;
    return grading_assess_derive(txn, pg->p, pg->mp->name, seller, now_ms);
}

static grading_err_t apply_page(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    page_t *pg = ctx;
    seller_scan_t x = {.st = pg->st, .p = pg->p, .mp = pg->mp};
    grading_err_t err = GRADING_OK;
    pg->sellers_changed = pg->orders_changed = 0;   /* a retried page counts once */
    for (size_t i = 0; i < pg->n && !err; i++) err = resplit_seller(pg, txn, pg->sellers[i], now_ms, &x);
    free(x.list);
    return err;
}

grading_err_t grading_exempt_walk(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                  const grading_marketplace_t *mp, grading_exempt_result_t *res)
{
    char (*ids)[GRADING_MAX_ID_LEN + 1] = calloc(GRADING_REDERIVE_PAGE, sizeof *ids);
    const char *sellers[GRADING_REDERIVE_PAGE];
    char after[GRADING_MAX_ID_LEN + 1] = "";
    grading_store_reader_t *rd = NULL;
    grading_err_t err = ids ? grading_store_reader_new(st, &rd) : GRADING_ENOMEM;
    while (!err) {
        grading_txn_t *txn;
        size_t n = 0;
        if ((err = grading_store_read_begin(rd, &txn))) break;
        err = grading_store_sellers_page(txn, mp->name, after, ids, GRADING_REDERIVE_PAGE, &n);
        grading_store_read_end(rd);
        if (err || n == 0) break;
        for (size_t i = 0; i < n; i++) sellers[i] = ids[i];
        page_t pg = {st, p, mp, sellers, n, 0, 0};
        grading_ingest_batch_t b = {.n = 0, .apply = apply_page, .apply_ctx = &pg};
        if ((err = grading_ingest_run(in, &b, NULL, NULL))) break;
        res->sellers_walked += n;
        res->sellers_changed += pg.sellers_changed;
        res->orders_changed += pg.orders_changed;
        if (n < GRADING_REDERIVE_PAGE) break;
        memcpy(after, ids[n - 1], sizeof after);
    }
    if (rd) grading_store_reader_free(rd);
    free(ids);
    return err;
}

/* ---- declare, revoke ---- */

static bool date_of(const char *s, int32_t *day)
{
    int y, m, d;
    char tail;
    if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || strlen(s) != 10) return false;
    if (m < 1 || m > 12 || d < 1 || d > 31) return false;
    *day = grading_days_from_civil(y, (unsigned)m, (unsigned)d);
    int32_t yy;
    uint32_t mm, dd;
    grading_civil_from_days(*day, &yy, &mm, &dd);   /* 2026-02-30 is not a day */
    return yy == y && (int)mm == m && (int)dd == d;
}

static bool code_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > GRADING_EXEMPTION_REASON_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("_-.", s[i]))) return false;
    return true;
}

static grading_err_t build(const grading_marketplace_t *mp, const grading_exempt_req_t *req, int64_t now_ms,
                           grading_exemption_t *x, grading_error_t *e)
{
    memset(x, 0, sizeof *x);
    const char *why = grading_id_problem(req->id, req->id ? strlen(req->id) : 0, GRADING_MAX_ID_LEN, NULL);
    if (why) return grading_error_set(e, GRADING_EINVAL, "id", "%s", why);
    if (!date_of(req->from, &x->from_day))
        return grading_error_set(e, GRADING_EINVAL, "from", "must be a local date YYYY-MM-DD, got \"%s\"",
                                 req->from ? req->from : "");
    if (!date_of(req->to, &x->to_day))
        return grading_error_set(e, GRADING_EINVAL, "to", "must be a local date YYYY-MM-DD, got \"%s\"",
                                 req->to ? req->to : "");
    if (x->to_day < x->from_day)
        return grading_error_set(e, GRADING_EINVAL, "to", "%s is before from (%s): the range is inverted", req->to,
                                 req->from);
    grading_err_t err = grading_appeal_mask(mp->rules, req->metrics, req->nmetrics, &x->mask, e);
    if (err) return err;
    if (req->overseas < GRADING_EXEMPT_ANY || req->overseas > GRADING_EXEMPT_OVERSEAS)
        return grading_error_set(e, GRADING_EINVAL, "overseas", "must be any, domestic or overseas");
    x->overseas = req->overseas;
    if (req->product_id && req->product_id[0]) {
        if ((why = grading_id_problem(req->product_id, strlen(req->product_id), GRADING_MAX_ID_LEN, NULL)))
            return grading_error_set(e, GRADING_EINVAL, "product_id", "%s", why);
        snprintf(x->product_id, sizeof x->product_id, "%s", req->product_id);
    }
    if (!code_ok(req->reason))
        return grading_error_set(e, GRADING_EINVAL, "reason",
                                 "required: a code of 1..%d characters a-z, 0-9, _ - . (got \"%s\")",
                                 GRADING_EXEMPTION_REASON_MAX, req->reason ? req->reason : "");
    if (req->note && strlen(req->note) > GRADING_EXEMPTION_NOTE_MAX)
        return grading_error_set(e, GRADING_EINVAL, "note", "at most %d bytes", GRADING_EXEMPTION_NOTE_MAX);
    snprintf(x->marketplace, sizeof x->marketplace, "%s", mp->name);
    snprintf(x->id, sizeof x->id, "%s", req->id);
    snprintf(x->reason, sizeof x->reason, "%s", req->reason);
    snprintf(x->note, sizeof x->note, "%s", req->note ? req->note : "");
    x->declared_ms = now_ms;
    return GRADING_OK;
}

typedef struct {
    const grading_policy_t *p;
    grading_exemption_t *x;
    bool revoke;
    const char *caller;
    grading_exempt_result_t *res;
    grading_error_t *e;
} change_t;

static grading_err_t audit_change(change_t *c, grading_txn_t *txn, int64_t now_ms)
{
    grading_audit_entry_t a = {.time_ms = now_ms};
    snprintf(a.caller, sizeof a.caller, "%s", c->caller && c->caller[0] ? c->caller : "local");
    snprintf(a.method, sizeof a.method, "%s", c->revoke ? "RevokeExemption" : "DeclareExemption");
    snprintf(a.marketplace, sizeof a.marketplace, "%s", c->x->marketplace);
    snprintf(a.policy_version, sizeof a.policy_version, "%s", grading_policy_version(c->p));
    snprintf(a.detail, sizeof a.detail, "id=%.80s reason=%s", c->x->id, c->x->reason);
    grading_audit_count(&a, "from_day", c->x->from_day);
    grading_audit_count(&a, "to_day", c->x->to_day);
    grading_audit_count(&a, "counter_mask", (int64_t)c->x->mask);
    return grading_store_audit_put(txn, &a);
}

/* The checks against what is stored (read or write txn): revoke needs
 * the id; declare a new id, or the same declaration (already). */
static grading_err_t judge_change(change_t *c, grading_txn_t *txn, grading_exemption_t *old)
{
    bool found;
    grading_err_t err = grading_store_exemption_get(txn, c->x->marketplace, c->x->id, old, &found);
    if (err) return err;
    if (c->revoke) {
        if (!found)
            return grading_error_set(c->e, GRADING_ENOTFOUND, "id", "%s has no exemption \"%s\"", c->x->marketplace,
                                     c->x->id);
        return GRADING_OK;
    }
    if (found && grading_exemption_same(old, c->x)) {
        c->res->already = true;
        return GRADING_OK;
    }
    if (found)
        return grading_error_set(c->e, GRADING_EEXIST, "id",
                                 "%s already has an exemption \"%s\" that declares otherwise; revoke it first",
                                 c->x->marketplace, c->x->id);
    return GRADING_OK;
}

/* On the writer: the record and its audit entry (the table follows). */
static grading_err_t apply_change(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    change_t *c = ctx;
    grading_exemption_t old;
    bool found;
    c->res->already = false;
    grading_err_t err = judge_change(c, txn, &old);
    if (err) return err;
    if (c->revoke) {
        *c->x = old;
        if ((err = grading_store_exemption_del(txn, old.marketplace, old.id, &found))) return err;
        return audit_change(c, txn, now_ms);
    }
    if (c->res->already) {
        *c->x = old;
        return GRADING_OK;
    }
    if ((err = grading_store_exemption_put(txn, c->x)) == GRADING_EFULL)
        return grading_error_set(c->e, GRADING_ESTATE, "id", "at most %d exemptions are in force at once",
                                 GRADING_EXEMPTIONS_MAX);
    if (err) return err;
    return audit_change(c, txn, now_ms);
}

static grading_err_t change_and_walk(grading_store_t *st, grading_ingest_t *in, change_t *c,
                                     const grading_marketplace_t *mp)
{
    grading_ingest_batch_t b = {.n = 0, .apply = apply_change, .apply_ctx = c};
    c->e->code = GRADING_OK;
    grading_err_t err = grading_ingest_run(in, &b, NULL, NULL);
    if (err) {
        /* the table may be ahead of what was committed */
        (void)grading_store_exemptions_reload(st);
        if (!c->e->code) grading_error_set(c->e, err, "", "not stored: %s", grading_err_name(err));
        return err;
    }
    c->res->x = *c->x;
    if (c->res->already) return GRADING_OK;
    if ((err = grading_exempt_walk(st, in, c->p, mp, c->res)))
        return grading_error_set(c->e, err, "", "stored, but the walk over the sellers stopped: %s "
                                 "(declare the same again to finish it)", grading_err_name(err));
    return GRADING_OK;
}

/* Declare's (or revoke's) checks of req alone: x as it would be stored
 * (revoke: marketplace and id). */
static grading_err_t prepare(const grading_policy_t *p, const grading_exempt_req_t *req, bool revoke, int64_t now_ms,
                             grading_exemption_t *x, const grading_marketplace_t **mp, grading_error_t *e)
{
    *mp = grading_policy_marketplace(p, req->marketplace);
    if (!*mp)
        return grading_error_set(e, GRADING_ENOTFOUND, "marketplace", "unknown marketplace \"%s\"",
                                 req->marketplace ? req->marketplace : "");
    if (revoke) {
        const char *why = grading_id_problem(req->id, req->id ? strlen(req->id) : 0, GRADING_MAX_ID_LEN, NULL);
        if (why) return grading_error_set(e, GRADING_EINVAL, "id", "%s", why);
        memset(x, 0, sizeof *x);
        snprintf(x->marketplace, sizeof x->marketplace, "%s", (*mp)->name);
        snprintf(x->id, sizeof x->id, "%s", req->id);
        return GRADING_OK;
    }
    grading_err_t err = build(*mp, req, now_ms, x, e);
    if (err) return err;
    if (strncmp(x->id, GRADING_POLICY_EXEMPTION_PREFIX, strlen(GRADING_POLICY_EXEMPTION_PREFIX)) == 0)
        return grading_error_set(e, GRADING_EINVAL, "id", "ids starting \"%s\" are the policy file's",
                                 GRADING_POLICY_EXEMPTION_PREFIX);
    return GRADING_OK;
}

grading_err_t grading_exempt_declare(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                     const grading_exempt_req_t *req, int64_t now_ms, grading_exempt_result_t *res,
                                     grading_error_t *e)
{
    memset(res, 0, sizeof *res);
    const grading_marketplace_t *mp;
    grading_exemption_t x;
    grading_err_t err = prepare(p, req, false, now_ms, &x, &mp, e);
    if (err) return err;
    change_t c = {p, &x, false, req->caller, res, e};
    return change_and_walk(st, in, &c, mp);
}

grading_err_t grading_exempt_check(grading_store_t *st, const grading_policy_t *p, const grading_exempt_req_t *req,
                                   bool revoke, int64_t now_ms, grading_exempt_result_t *res, grading_error_t *e)
{
    memset(res, 0, sizeof *res);
    const grading_marketplace_t *mp;
    grading_err_t err = prepare(p, req, revoke, now_ms, &res->x, &mp, e);
    if (err) return err;
    grading_exemption_t x = res->x, old;
    change_t c = {p, &x, revoke, req->caller, res, e};
    grading_store_reader_t *rd = NULL;
    grading_txn_t *txn;
    e->code = GRADING_OK;
    if (!(err = grading_store_reader_new(st, &rd)) && !(err = grading_store_read_begin(rd, &txn))) {
        err = judge_change(&c, txn, &old);
        grading_store_read_end(rd);
    }
    grading_store_reader_free(rd);
    if (!err && (revoke || res->already)) res->x = old;
    if (err && !e->code) grading_error_set(e, err, "", "cannot read the exemptions: %s", grading_err_name(err));
    return err;
}

/* True when the policy's marketplace still declares x as it is stored. */
static bool policy_keeps(const grading_marketplace_t *mp, const grading_exemption_t *x)
{
    for (size_t i = 0; i < mp->rules->nexemptions; i++) {
        grading_exemption_t want = mp->rules->exemptions[i];
        snprintf(want.marketplace, sizeof want.marketplace, "%s", mp->name);
        if (grading_exemption_same(&want, x)) return true;
    }
    return false;
}

grading_err_t grading_exempt_sync_policy(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                         int64_t now_ms, size_t *changed, grading_error_t *e)
{
    grading_exemption_t *stored = calloc(GRADING_EXEMPTIONS_MAX, sizeof *stored);
    grading_store_reader_t *rd = NULL;
    grading_err_t err = stored ? grading_store_reader_new(st, &rd) : GRADING_ENOMEM;
    size_t prefix = strlen(GRADING_POLICY_EXEMPTION_PREFIX);
    *changed = 0;
    for (size_t m = 0; !err && m < grading_policy_marketplace_count(p); m++) {
        const grading_marketplace_t *mp = grading_policy_marketplace_at(p, m);
        grading_txn_t *txn;
        size_t n = 0;
        if ((err = grading_store_read_begin(rd, &txn))) break;
        err = grading_store_exemptions_list(txn, mp->name, stored, GRADING_EXEMPTIONS_MAX, &n);
        grading_store_read_end(rd);
        grading_exempt_result_t res;
        /* the file's exemptions it no longer declares (or declares otherwise) go */
        for (size_t i = 0; !err && i < n; i++) {
            if (strncmp(stored[i].id, GRADING_POLICY_EXEMPTION_PREFIX, prefix) != 0 || policy_keeps(mp, &stored[i]))
                continue;
            grading_exemption_t x = stored[i];
            change_t c = {p, &x, true, "policy", &res, e};
            memset(&res, 0, sizeof res);
            if (!(err = change_and_walk(st, in, &c, mp))) (*changed)++;
        }
        /* and those it declares come (the same again: nothing to do) */
        for (size_t i = 0; !err && i < mp->rules->nexemptions; i++) {
            grading_exemption_t x = mp->rules->exemptions[i];
            snprintf(x.marketplace, sizeof x.marketplace, "%s", mp->name);
            x.declared_ms = now_ms;
            change_t c = {p, &x, false, "policy", &res, e};
            memset(&res, 0, sizeof res);
            if (!(err = change_and_walk(st, in, &c, mp)) && !res.already) (*changed)++;
        }
    }
    if (rd) grading_store_reader_free(rd);
    free(stored);
    if (err && !e->code) grading_error_set(e, err, "", "policy exemptions: %s", grading_err_name(err));
    return err;
}

grading_err_t grading_exempt_revoke(grading_store_t *st, grading_ingest_t *in, const grading_policy_t *p,
                                    const char *mpname, const char *id, const char *caller, grading_exempt_result_t *res,
                                    grading_error_t *e)
{
    memset(res, 0, sizeof *res);
    const grading_marketplace_t *mp;
    grading_exemption_t x;
    grading_exempt_req_t req = {.marketplace = mpname, .id = id, .caller = caller};
    grading_err_t err = prepare(p, &req, true, 0, &x, &mp, e);
    if (err) return err;
    change_t c = {p, &x, true, caller, res, e};
    return change_and_walk(st, in, &c, mp);
}

grading_err_t grading_exempt_list(grading_store_reader_t *rd, const char *mp, grading_exemption_t *out, size_t cap,
                                  size_t *n)
{
    grading_txn_t *txn;
    *n = 0;
    grading_err_t err = grading_store_read_begin(rd, &txn);
    if (err) return err;
    err = grading_store_exemptions_list(txn, mp, out, cap, n);
    grading_store_read_end(rd);
    return err;
}
