/* Appeals (appeal.h): judged before the writer, applied inside it. */
#include "grading/appeal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/audit.h"
#include "grading/counters.h"
#include "grading/store.h"
#include "grading/text.h"

grading_err_t grading_appeal_mask(const grading_rules_t *r, const char *const *metrics, size_t n,
                                  uint64_t *mask, grading_error_t *e)
{
    *mask = 0;
    if (n == 0)
        return grading_error_set(e, GRADING_EINVAL, "metrics",
                                 "name at least one metric, base counter, or \"all\"");
    for (size_t i = 0; i < n; i++) {
        char field[GRADING_ERROR_FIELD_MAX];
        snprintf(field, sizeof field, "metrics[%zu]", i);
        uint64_t m = 0;
        if (metrics[i] && strcmp(metrics[i], "all") == 0) m = GRADING_C_MASK_ALL;
        else if (!metrics[i] || grading_rules_metric_counters(r, metrics[i], &m) != GRADING_OK)
            return grading_error_set(e, GRADING_EINVAL, field,
                                     "unknown metric \"%s\" (a metric of the policy, a base counter, or \"all\")",
                                     metrics[i] ? metrics[i] : "");
        if (m == 0)
            return grading_error_set(e, GRADING_EINVAL, field,
                                     "metric \"%s\" reads no base counter (custom counters cannot be appealed)",
                                     metrics[i]);
        *mask |= m;
    }
    return GRADING_OK;
}

void grading_counter_mask_format(uint64_t mask, char *buf, size_t cap)
{
    size_t used = 0;
    if (cap) buf[0] = '\0';
    for (int c = 0; c < GRADING_C_COUNT && used < cap; c++) {
        if (!(mask & GRADING_C_BIT(c))) continue;
        int w = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", grading_counter_name((grading_counter_t)c));
        if (w < 0) break;
        used += (size_t)w;
    }
}

void grading_appeal_result_free(grading_appeal_result_t *res)
{
    if (!res) return;
    free(res->items);
    free(res->reopened);
    res->items = NULL;
    res->reopened = NULL;
    res->n = res->nreopened = 0;
}

/* A reason is a code: 1..32 of a-z 0-9 _ - . */
static bool reason_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > GRADING_APPEAL_REASON_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("_-.", s[i]))) return false;
    return true;
}

static grading_err_t ids_ok(const char *const *ids, size_t n, const char *what, grading_error_t *e)
{
    for (size_t i = 0; i < n; i++) {
        const char *why = grading_id_problem(ids[i], ids[i] ? strlen(ids[i]) : 0, GRADING_MAX_ID_LEN, NULL);
        char field[GRADING_ERROR_FIELD_MAX];
        snprintf(field, sizeof field, "%s[%zu]", what, i);
        if (why) return grading_error_set(e, GRADING_EINVAL, field, "%s", why);
    }
    return GRADING_OK;
}

/* Everything that can be judged without the store. */
static grading_err_t check_request(const grading_appeal_req_t *req, const grading_rules_t *r, uint64_t *mask,
                                   grading_error_t *e)
{
    grading_err_t err;
    const char *why = grading_id_problem(req->seller, req->seller ? strlen(req->seller) : 0, GRADING_MAX_ID_LEN, NULL);
    if (why) return grading_error_set(e, GRADING_EINVAL, "seller_id", "%s", why);
    if (req->nevents)
        return grading_error_set(e, GRADING_EINVAL, "event_ids[0]",
                                 "the events database records no event's order or inquiry, so an event id "
                                 "cannot be appealed; appeal its order (order_ids) or inquiry (inquiry_ids)");
    if (req->norders + req->ninquiries == 0)
        return grading_error_set(e, GRADING_EINVAL, "order_ids", "name at least one order or inquiry");
    if (req->norders + req->ninquiries > GRADING_APPEAL_MAX_IDS)
        return grading_error_set(e, GRADING_EINVAL, "order_ids", "at most %d orders and inquiries in one call",
                                 GRADING_APPEAL_MAX_IDS);
    if ((err = ids_ok(req->order_ids, req->norders, "order_ids", e)) ||
        (err = ids_ok(req->inquiry_ids, req->ninquiries, "inquiry_ids", e)))
        return err;
    if ((err = grading_appeal_mask(r, req->metrics, req->nmetrics, mask, e))) return err;
    if (!reason_ok(req->reason))
        return grading_error_set(e, GRADING_EINVAL, "reason",
                                 "required: a code of 1..%d characters a-z, 0-9, _ - . (got \"%s\")",
                                 GRADING_APPEAL_REASON_MAX, req->reason ? req->reason : "");
    if (req->note && strlen(req->note) > GRADING_APPEAL_NOTE_MAX)
        return grading_error_set(e, GRADING_EINVAL, "note", "at most %d bytes", GRADING_APPEAL_NOTE_MAX);
    return GRADING_OK;
}

typedef struct {
    const grading_policy_t *p;
    const grading_marketplace_t *mp;
    const grading_appeal_req_t *req;
    uint64_t mask;
    grading_appeal_result_t *res;
    grading_error_t *e;
    int32_t first_day;   /* the earliest day whose counters changed; INT32_MAX: none */
} run_t;

static uint64_t next_mask(const run_t *x, uint64_t before)
{
    return x->req->restore ? before & ~x->mask : before | x->mask;
}

/* The record's new mask and count, or the policy's refusal. */
static grading_err_t judge(run_t *x, const char *field, uint64_t *mask, uint32_t *appeals,
                           grading_appeal_item_t *it)
{
    uint32_t max = x->mp->rules->appeals.max_per_order;
    it->before = *mask;
    it->after = next_mask(x, *mask);
    it->changed = it->after != it->before;
    if (it->changed && !x->req->restore) {
        if (max && *appeals >= max)
            return grading_error_set(x->e, GRADING_ESTATE, field,
                                     "\"%s\" was appealed %u times already; the policy allows %u per order "
                                     "(appeals.max_per_order)",
                                     it->id, *appeals, max);
        (*appeals)++;
    }
    *mask = it->after;
    it->appeals = *appeals;
    return GRADING_OK;
}

/* Moves a record's contributions between the seller's days and the
 * excluded days, noting the earliest day touched. */
static grading_err_t move(run_t *x, grading_txn_t *txn, grading_contrib_t *ks, size_t nk, grading_contrib_t *xs,
                          size_t nx)
{
    for (size_t i = 0; i < nk; i++)
        if (ks[i].day < x->first_day) x->first_day = ks[i].day;
    for (size_t i = 0; i < nx; i++)
        if (xs[i].day < x->first_day) x->first_day = xs[i].day;
    return grading_ingest_record_change(txn, x->mp->name, x->req->seller, ks, nk, xs, nx);
}

static grading_err_t appeal_order(run_t *x, grading_txn_t *txn, size_t i, grading_appeal_item_t *it)
{
    const char *seller = x->req->seller;
    char field[GRADING_ERROR_FIELD_MAX];
    snprintf(field, sizeof field, "order_ids[%zu]", i);
    grading_order_t old, o;
    bool found;
    grading_err_t err = grading_store_order_get(txn, x->mp->name, seller, it->id, &old, &found);
    if (err) return err;
    if (!found)
        return grading_error_set(x->e, GRADING_ENOTFOUND, field, "seller \"%s\" has no order \"%s\" in %s", seller,
                                 it->id, x->mp->name);
    o = old;
    if ((err = judge(x, field, &o.appeal_mask, &o.appeals, it))) return err;
    if (!it->changed) return GRADING_OK;
    grading_contrib_t ks[GRADING_MAX_CONTRIBS], xs[GRADING_MAX_CONTRIBS];
    size_t nk = 0, nx = 0;
    if (grading_order_change_split(&old, &o, &x->mp->tz, ks, &nk, xs, &nx)) return GRADING_EINVAL;
    if ((err = move(x, txn, ks, nk, xs, nx))) return err;
    return grading_store_order_put(txn, x->mp->name, seller, it->id, &o);
}

static grading_err_t appeal_inquiry(run_t *x, grading_txn_t *txn, size_t i, grading_appeal_item_t *it)
{
    const char *seller = x->req->seller;
    char field[GRADING_ERROR_FIELD_MAX];
    snprintf(field, sizeof field, "inquiry_ids[%zu]", i);
    grading_inquiry_t old, q;
    bool found;
    grading_err_t err = grading_store_inquiry_get(txn, x->mp->name, seller, it->id, &old, &found);
    if (err) return err;
    if (!found)
        return grading_error_set(x->e, GRADING_ENOTFOUND, field, "seller \"%s\" has no inquiry \"%s\" in %s",
                                 seller, it->id, x->mp->name);
    q = old;
    if ((err = judge(x, field, &q.appeal_mask, &q.appeals, it))) return err;
    if (!it->changed) return GRADING_OK;
    grading_contrib_t ks[GRADING_MAX_CONTRIBS], xs[GRADING_MAX_CONTRIBS];
    size_t nk = 0, nx = 0;
    if (grading_inquiry_change_split(&old, &q, &x->mp->tz, ks, &nk, xs, &nx)) return GRADING_EINVAL;
    if ((err = move(x, txn, ks, nk, xs, nx))) return err;
    return grading_store_inquiry_put(txn, x->mp->name, seller, it->id, &q);
}

static const char *method_of(const grading_appeal_req_t *req)
{
    return req->restore ? "RestoreEvents" : "ExcludeEvents";
}

static grading_err_t audit_appeal(run_t *x, grading_txn_t *txn, int64_t now_ms, size_t changed)
{
    const grading_appeal_req_t *req = x->req;
    grading_audit_entry_t a = {.time_ms = now_ms};
    snprintf(a.caller, sizeof a.caller, "%s", req->caller && req->caller[0] ? req->caller : "local");
    snprintf(a.method, sizeof a.method, "%s", method_of(req));
    snprintf(a.marketplace, sizeof a.marketplace, "%s", x->mp->name);
    snprintf(a.policy_version, sizeof a.policy_version, "%s", grading_policy_version(x->p));
    snprintf(a.detail, sizeof a.detail, "seller=%s reason=%s%s%s", req->seller, req->reason,
             req->note && req->note[0] ? " note=" : "", req->note ? req->note : "");
    grading_audit_count(&a, "orders", (int64_t)req->norders);
    grading_audit_count(&a, "inquiries", (int64_t)req->ninquiries);
    grading_audit_count(&a, "changed", (int64_t)changed);
    grading_audit_count(&a, "counter_mask", (int64_t)x->mask);
    grading_audit_count(&a, "reopened", (int64_t)x->res->nreopened);
    return grading_store_audit_put(txn, &a);
}

/* On the writer, in the batch's transaction: a failure leaves no trace. */
static grading_err_t apply_appeal(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    run_t *x = ctx;
    grading_appeal_result_t *res = x->res;
    size_t changed = 0;
    grading_err_t err;
    res->changed = false;
    x->first_day = INT32_MAX;
    free(res->reopened);   /* the writer may run a batch again */
    res->reopened = NULL;
    res->nreopened = 0;
    for (size_t i = 0; i < res->n; i++) {
        grading_appeal_item_t *it = &res->items[i];
        bool inquiry = i >= x->req->norders;
        err = inquiry ? appeal_inquiry(x, txn, i - x->req->norders, it) : appeal_order(x, txn, i, it);
        if (err) return err;
        changed += it->changed;
    }
    res->changed = changed > 0;
    /* before the derive: the live grade reads the latest published one */
    if (changed && x->first_day != INT32_MAX && x->mp->rules->appeals.reopen_closed &&
        (err = grading_appeal_reopen(txn, x->p, x->mp, x->req->seller, x->first_day, now_ms,
                                     method_of(x->req), x->req->caller, res, x->e)))
        return err;
    if (changed && (err = grading_assess_derive(txn, x->p, x->mp->name, x->req->seller, now_ms))) return err;
    return audit_appeal(x, txn, now_ms, changed);
}

/* Everything before the writer: the request judged, res's items made. */
static grading_err_t prepare(const grading_policy_t *p, const grading_appeal_req_t *req, grading_appeal_result_t *res,
                             run_t *x, grading_error_t *e)
{
    memset(res, 0, sizeof *res);
    const grading_marketplace_t *mp = grading_policy_marketplace(p, req->marketplace);
    if (!mp)
        return grading_error_set(e, GRADING_ENOTFOUND, "marketplace", "unknown marketplace \"%s\"",
                                 req->marketplace ? req->marketplace : "");
    uint64_t mask;
    grading_err_t err = check_request(req, mp->rules, &mask, e);
    if (err) return err;
    res->n = req->norders + req->ninquiries;
    res->mask = mask;
    res->items = calloc(res->n, sizeof *res->items);
    if (!res->items) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    for (size_t i = 0; i < res->n; i++) {
        res->items[i].inquiry = i >= req->norders;
        res->items[i].id = i < req->norders ? req->order_ids[i] : req->inquiry_ids[i - req->norders];
    }
    *x = (run_t){p, mp, req, mask, res, e, INT32_MAX};
    return GRADING_OK;
}

grading_err_t grading_appeal_apply(grading_txn_t *txn, const grading_policy_t *p, const grading_appeal_req_t *req,
                                   int64_t now_ms, grading_appeal_result_t *res, grading_error_t *e)
{
    run_t x;
    grading_err_t err = prepare(p, req, res, &x, e);
    if (err) return err;
    e->code = GRADING_OK;
    if ((err = apply_appeal(&x, txn, now_ms)) && !e->code)
        grading_error_set(e, err, "", "the change was not stored: %s", grading_err_name(err));
    if (err) grading_appeal_result_free(res);
    return err;
}

grading_err_t grading_appeal_run(grading_ingest_t *in, const grading_policy_t *p, const grading_appeal_req_t *req,
                                 grading_appeal_result_t *res, grading_error_t *e)
{
    run_t x;
    grading_err_t err = prepare(p, req, res, &x, e);
    if (err) return err;
    grading_ingest_batch_t b = {.n = 0, .apply = apply_appeal, .apply_ctx = &x};
    e->code = GRADING_OK;
    err = grading_ingest_run(in, &b, NULL, NULL);
    if (err && !e->code) grading_error_set(e, err, "", "the change was not stored: %s", grading_err_name(err));
    if (err) grading_appeal_result_free(res);
    return err;
}
