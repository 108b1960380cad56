/* Comparing a case's expectations with the engine's answers: the seller
 * is assessed from the store as of the case's as_of (grading_assess_seller,
 * what the query handlers do, closed periods included: published grades
 * and history values) and the stored hot-path record is read back
 * (grading_store_seller_get, what GetRankingBoosts reads).
 *
 * The per-order expectations (points, order_alerts, stopped_products)
 * read the assessment's order facts (grading_assess_t.facts, through
 * hist.orders): points by rule and month, the late orders GetPenaltyState
 * lists, the stopped products.
 *
 * Numbers match within a relative tolerance of 1e-9 (an absolute 1e-12
 * near zero), so a scenario may write 0.0049 for 49 / 10000. Every
 * mismatch is listed, not only the first, as "what: expected X, got Y". */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "grading/assess.h"
#include "grading/rfc3339.h"

#include "scenario.h"

#define REL_TOL 1e-9
#define ABS_TOL 1e-12

typedef struct {
    char *msg;
    size_t len, cap;
    bool ok;
} report_t;

static void differ(report_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(report_t *r, const char *fmt, ...)
{
    if (r->len < r->cap) {
        if (!r->ok) r->len += (size_t)snprintf(r->msg + r->len, r->cap - r->len, "; ");
        if (r->len < r->cap) {
            va_list ap;
            va_start(ap, fmt);
            r->len += (size_t)vsnprintf(r->msg + r->len, r->cap - r->len, fmt, ap);
            va_end(ap);
        }
    }
    r->ok = false;
}

static bool near(double want, double got)
{
    double tol = fmax(REL_TOL * fmax(fabs(want), fabs(got)), ABS_TOL);
    return fabs(want - got) <= tol;
}

/* "0.0049" or the word for unavailable. */
static const char *num_text(char *buf, size_t len, bool available, double v, const char *word)
{
    if (!available) return word;
    snprintf(buf, len, "%.12g", v);
    return buf;
}

static void check_number(report_t *r, const char *what, const scn_expect_t *x, bool available,
                         double got, const char *word)
{
    char a[64], b[64];
    if (x->available == available && (!available || near(x->number, got))) return;
    differ(r, "%s (expected %s, got %s)", what, num_text(a, sizeof a, x->available, x->number, word),
           num_text(b, sizeof b, available, got, word));
}

static void check_bool(report_t *r, const char *what, bool want, bool got)
{
    if (want != got) differ(r, "%s (expected %s, got %s)", what, want ? "true" : "false", got ? "true" : "false");
}

static bool has_reason(const grading_grade_t *g, const char *text)
{
    for (size_t i = 0; i < g->nreasons; i++)
        if (strstr(g->reasons[i], text)) return true;
    return false;
}

static void reasons_text(const grading_grade_t *g, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < g->nreasons && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s\"%s\"", i ? ", " : "", g->reasons[i]);
    if (!g->nreasons) snprintf(buf, len, "none");
}

/* Is programme name `p` granted in a (any of its grants)? */
static bool granted(const grading_rules_t *rules, const grading_assessment_t *a, const char *p)
{
    for (size_t i = 0; i < rules->ngrants; i++)
        if (a->granted[i] && strcmp(rules->grants[i].program, p) == 0) return true;
    return false;
}

static void check_grants(report_t *r, const grading_rules_t *rules, const grading_assessment_t *a,
                         const scn_expect_t *x)
{
    char want[512] = "", got[512] = "";
    size_t wn = 0, gn = 0;
    bool same = true;
    for (size_t i = 0; i < x->ngrants; i++) {
        same = same && granted(rules, a, x->grants[i]);
        wn += (size_t)snprintf(want + wn, wn < sizeof want ? sizeof want - wn : 0, "%s%s",
                               i ? ", " : "", x->grants[i]);
    }
    for (size_t i = 0; i < rules->ngrants; i++) {
        if (!a->granted[i]) continue;
        bool dup = false, listed = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || (a->granted[j] && strcmp(rules->grants[j].program, rules->grants[i].program) == 0);
        if (dup) continue;
        for (size_t j = 0; j < x->ngrants; j++) listed = listed || strcmp(x->grants[j], rules->grants[i].program) == 0;
        same = same && listed;
        gn += (size_t)snprintf(got + gn, gn < sizeof got ? sizeof got - gn : 0, "%s%s",
                               gn ? ", " : "", rules->grants[i].program);
    }
    if (!same) differ(r, "grants (expected [%s], got [%s])", want, got);
}

/* "warning, listing_cap 500" */
static void restrictions_text(const grading_restriction_kind_t *kinds, const int64_t *limits,
                              size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                                 grading_restriction_name(kinds[i]));
        if (kinds[i] == GRADING_R_LISTING_CAP && used < len)
            used += (size_t)snprintf(buf + used, len - used, " %lld", (long long)limits[i]);
    }
}

/* The restrictions of the stage that applies equal x's, in any order. */
static void check_restrictions(report_t *r, const grading_rules_t *rules,
                               const grading_assessment_t *a, const scn_expect_t *x)
{
    const grading_stage_def_t *def = a->ladders[x->index].def;
    grading_restriction_kind_t got[GRADING_RULES_MAX_RESTRICTIONS];
    int64_t limits[GRADING_RULES_MAX_RESTRICTIONS];
    size_t n = 0;
    for (size_t i = 0; def && i < def->nrestrictions && i < GRADING_RULES_MAX_RESTRICTIONS; i++, n++) {
        got[n] = def->restrictions[i].kind;
        limits[n] = def->restrictions[i].kind == GRADING_R_LISTING_CAP ? def->restrictions[i].limit : 0;
    }
    bool same = n == x->nrestrictions;
    for (size_t i = 0; same && i < x->nrestrictions; i++) {
        bool found = false;
        for (size_t j = 0; j < n && !found; j++)
            found = got[j] == x->restrictions[i] && limits[j] == x->limits[i];
        same = found;
    }
    if (!same) {
        char want[512], have[512];
        restrictions_text(x->restrictions, x->limits, x->nrestrictions, want, sizeof want);
        restrictions_text(got, limits, n, have, sizeof have);
        differ(r, "restrictions %s (expected [%s], got [%s])", rules->ladders[x->index].name, want, have);
    }
}

/* ---- per-order facts (grading_order_facts_t) ---- */

static const char *const span_names[] = {"month", "prev_month", "year", "active"};

/* A total (x->index == GRADING_PT_COUNT: the rounded sum the policy's
 * points.month / prev_month / year read) or one rule's share. */
static void check_points(report_t *r, const grading_order_facts_t *f, const scn_expect_t *x)
{
    char what[96];
    double got;
    if (x->index == GRADING_PT_COUNT) {
        snprintf(what, sizeof what, "points %s", span_names[x->span]);
        got = x->span == SCN_SPAN_ACTIVE ? f->value[GRADING_OF_POINTS_ACTIVE]
                                         : f->value[GRADING_OF_POINTS_MONTH + x->span];
    } else {
        snprintf(what, sizeof what, "points %s.%s", span_names[x->span],
                 grading_points_rule_name((int)x->index));
        got = x->span == SCN_SPAN_MONTH ? f->month[x->index]
            : x->span == SCN_SPAN_PREV_MONTH ? f->prev_month[x->index]
                                             : f->year[x->index];
    }
    check_number(r, what, x, true, got, "");
}

/* ---- stage runs and the due time (issue 15 §4) ---- */

static void day_text(int32_t day, char *buf, size_t len)
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    snprintf(buf, len, "%04d-%02u-%02u", (int)y, m, d);
}

/* The run (since or until) of the stage that applies in ladder x->index. */
static void check_stage_run(report_t *r, const grading_rules_t *rules, const grading_assess_t *ax,
                            const scn_expect_t *x)
{
    const grading_ladder_val_t *lv = &ax->a.ladders[x->index];
    char got[16] = "none";
    if (lv->def) {
        const grading_stage_run_t *run = &ax->runs[x->index][lv->def - rules->ladders[x->index].stages];
        if (run->known && !run->lapsed)
            day_text(x->kind == SCN_X_STAGE_SINCE ? run->since : run->until, got, sizeof got);
    }
    if (strcmp(got, x->text) != 0)
        differ(r, "%s %s (expected %s, got %s)", x->kind == SCN_X_STAGE_SINCE ? "stage_since" : "stage_until",
               rules->ladders[x->index].name, x->text, got);
}

static void check_next_due(report_t *r, const grading_seller_state_t *stored, bool found, const scn_expect_t *x)
{
    int64_t want = strcmp(x->text, "none") == 0 ? 0 : (int64_t)x->number;
    int64_t got = found ? stored->next_due_ms : 0;
    char text[64] = "none";
    if (got && grading_rfc3339_format(got / 1000, (int32_t)(got % 1000) * 1000000, text, sizeof text))
        snprintf(text, sizeof text, "%lld ms", (long long)got);
    if (want != got) differ(r, "next_due (expected %s, got %s)", x->text, text);
}

/* "{caution: 1, warning: 0, restriction: 1}" */
static void alerts_text(const grading_deadlines_def_t *dl, const uint32_t *counts, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "{");
    for (size_t k = 0; k < dl->nstages && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s: %u", k ? ", " : "",
                                 dl->stages[k].name, counts[k]);
    if (used < len) snprintf(buf + used, len - used, "}");
}

/* The alerts listed (what GetPenaltyState shows) by stage, and the open
 * counts the policy's expressions read (orders.caution .. restriction:
 * at that stage or a later one) against the same expectation. */
static void check_alerts(report_t *r, const grading_deadlines_def_t *dl, const grading_order_facts_t *f,
                         const scn_expect_t *x)
{
    uint32_t got[GRADING_DEADLINE_MAX_STAGES] = {0};
    bool same = true;
    for (size_t i = 0; i < f->nalerts; i++)
        if (f->alerts[i].stage >= 0 && (size_t)f->alerts[i].stage < GRADING_DEADLINE_MAX_STAGES)
            got[f->alerts[i].stage]++;
    for (size_t k = 0; k < GRADING_DEADLINE_MAX_STAGES; k++) same = same && got[k] == x->alerts[k];
    if (!same) {
        char want[256], have[256];
        alerts_text(dl, x->alerts, want, sizeof want);
        alerts_text(dl, got, have, sizeof have);
        differ(r, "order_alerts (expected %s, got %s)", want, have);
    }
    /* the engine keeps open counts for the first three stages only */
    const size_t counted = GRADING_OF_OPEN_RESTRICTION - GRADING_OF_OPEN_CAUTION + 1;
    for (size_t k = 0; k < dl->nstages && k < counted; k++) {
        double later = 0;
        for (size_t j = k; j < dl->nstages; j++) later += x->alerts[j];
        double v = f->value[GRADING_OF_OPEN_CAUTION + k];
        if (v != later)
            differ(r, "open orders at %s or later (expected %.0f, got %.12g)", dl->stages[k].name, later, v);
    }
}

static bool listed(const scn_expect_t *x, const char *id)
{
    for (size_t i = 0; i < x->nproducts; i++)
        if (strcmp(x->products[i], id) == 0) return true;
    return false;
}

static void check_stopped(report_t *r, const grading_order_facts_t *f, const scn_expect_t *x)
{
    bool same = f->nstopped == x->nproducts && f->value[GRADING_OF_STOPPED_PRODUCTS] == (double)f->nstopped;
    for (size_t i = 0; same && i < f->nstopped; i++) same = listed(x, f->stopped[i]);
    if (same) return;
    char want[1024] = "", got[1024] = "";
    size_t wn = 0, gn = 0;
    for (size_t i = 0; i < x->nproducts && wn < sizeof want; i++)
        wn += (size_t)snprintf(want + wn, sizeof want - wn, "%s%s", i ? ", " : "", x->products[i]);
    for (size_t i = 0; i < f->nstopped && gn < sizeof got; i++)
        gn += (size_t)snprintf(got + gn, sizeof got - gn, "%s%s", i ? ", " : "", f->stopped[i]);
    differ(r, "stopped_products (expected [%s], got [%s]; products.stopped %.12g)", want, got,
           f->value[GRADING_OF_STOPPED_PRODUCTS]);
}

static void check_one(report_t *r, const grading_rules_t *rules, const grading_assess_t *ax,
                      const scn_expect_t *x, bool stored_found, const grading_seller_state_t *stored)
{
    const grading_assessment_t *a = &ax->a;
    char what[SCN_NAME_LEN + 32], buf[1024];
    const grading_grade_t *g = NULL;
    const char *pname = "";
    if ((x->kind >= SCN_X_GRADE && x->kind <= SCN_X_NO_REASON) || x->kind == SCN_X_PUBLISHED ||
        x->kind == SCN_X_PUBLISHED_PERIOD) {
        g = &a->grades[x->index];
        pname = rules->programs[x->index].name;
    }
    switch (x->kind) {
    case SCN_X_METRIC: {
        const grading_metric_val_t *m = &a->metrics[x->index];
        snprintf(what, sizeof what, "metric %s", rules->metrics[x->index].name);
        check_number(r, what, x, m->available, m->value, "insufficient");
        break;
    }
    case SCN_X_SCORE: {
        const grading_expr_value_t *v = &a->scores[x->index];
        snprintf(what, sizeof what, "score %s", rules->scores[x->index].name);
        if (v->type == GRADING_EXPR_NUMBER) {
            check_number(r, what, x, v->available, v->number, "unavailable");
        } else {
            const char *got = v->available && v->string ? v->string : "unavailable";
            if (strcmp(got, x->text) != 0) differ(r, "%s (expected %s, got %s)", what, x->text, got);
        }
        break;
    }
    case SCN_X_GRADE:
        if (g->level != (int32_t)x->number) {
            reasons_text(g, buf, sizeof buf);
            differ(r, "grade %s (expected %d, got %d; reasons: %s)", pname, (int)x->number,
                   (int)g->level, buf);
        }
        break;
    case SCN_X_LABEL:
        if (strcmp(g->label ? g->label : "", x->text) != 0)
            differ(r, "label %s (expected \"%s\", got \"%s\")", pname, x->text, g->label ? g->label : "");
        break;
    case SCN_X_NEW_SELLER:
        snprintf(what, sizeof what, "new_seller %s", pname);
        check_bool(r, what, x->boolean, g->new_seller);
        break;
    case SCN_X_GRADE_SCORE:
        snprintf(what, sizeof what, "grade score %s", pname);
        check_number(r, what, x, g->has_score, g->score, "unavailable");
        break;
    case SCN_X_REASON:
    case SCN_X_NO_REASON:
        if (has_reason(g, x->text) != (x->kind == SCN_X_REASON)) {
            reasons_text(g, buf, sizeof buf);
            differ(r, "reasons of %s (expected %s \"%s\", got %s)", pname,
                   x->kind == SCN_X_REASON ? "one containing" : "none containing", x->text, buf);
        }
        break;
    case SCN_X_PENALTY:
        if (a->ladders[x->index].stage != (int32_t)x->number)
            differ(r, "penalty %s (expected stage %d, got %d)", rules->ladders[x->index].name,
                   (int)x->number, (int)a->ladders[x->index].stage);
        break;
    case SCN_X_RESTRICTIONS:
        check_restrictions(r, rules, a, x);
        break;
    case SCN_X_SUSPENDED:
        check_bool(r, "suspended", x->boolean, a->suspended);
        check_bool(r, "stored suspended", x->boolean, stored_found && stored->suspended);
        break;
    case SCN_X_WITHDRAWALS_HELD:
        check_bool(r, "withdrawals_held", x->boolean, a->withdrawals_held);
        check_bool(r, "stored withdrawals_held", x->boolean, stored_found && stored->withdrawals_held);
        break;
    case SCN_X_BOOST:
        check_number(r, "boost", x, true, a->boost, "");
        if (!stored_found) differ(r, "stored boost (expected %.12g, got no stored record)", x->number);
        else check_number(r, "stored boost", x, true, stored->boost, "");
        break;
    case SCN_X_GRANTS:
        check_grants(r, rules, a, x);
        break;
    case SCN_X_TIER: {
        const char *got = a->tier >= 0 ? rules->tiers[a->tier].tier : "none";
        if (strcmp(got, x->text) != 0) differ(r, "tier (expected %s, got %s)", x->text, got);
        break;
    }
    case SCN_X_CONVERTIBLE:
        check_number(r, "convertible_points", x, true, a->convertible_points, "");
        break;
    case SCN_X_PUBLISHED:
        snprintf(what, sizeof what, "published %s", pname);
        check_number(r, what, x, ax->has_published[x->index],
                     ax->has_published[x->index] ? ax->published[x->index].level : 0, "none");
        break;
    case SCN_X_PUBLISHED_PERIOD: {
        const char *got = ax->has_published[x->index] ? ax->published_period[x->index] : "none";
        if (strcmp(got, x->text) != 0)
            differ(r, "published_period %s (expected %s, got %s)", pname, x->text, got);
        break;
    }
    case SCN_X_HISTORY:
        snprintf(what, sizeof what, "history %s", rules->history[x->index].name);
        check_number(r, what, x, ax->hist.has[x->index], ax->hist.value[x->index], "none");
        break;
    case SCN_X_STAGE_SINCE:
    case SCN_X_STAGE_UNTIL:
        check_stage_run(r, rules, ax, x);
        break;
    case SCN_X_NEXT_DUE:
        check_next_due(r, stored, stored_found, x);
        break;
    case SCN_X_POINTS:
    case SCN_X_ORDER_ALERTS:
    case SCN_X_STOPPED:
        /* the parser made sure the marketplace has per-order rules */
        if (!ax->hist.orders) {
            differ(r, "the assessment has no per-order facts (grading_assess_seller filled none)");
            break;
        }
        if (x->kind == SCN_X_POINTS) check_points(r, ax->hist.orders, x);
        else if (x->kind == SCN_X_ORDER_ALERTS) check_alerts(r, &rules->deadlines, ax->hist.orders, x);
        else check_stopped(r, ax->hist.orders, x);
        break;
    case SCN_X_EVIDENCE:
        break;   /* after the read transaction: check_evidence */
    case SCN_X_FORECAST:
        break;   /* after the assessment's transaction: scn_forecast_check */
    }
}

/* An evidence expectation (scenario_evidence.c), its value compared with
 * the assessment's when the metric is read over its own window. */
static void check_evidence(report_t *r, grading_store_reader_t *rd, const scn_case_t *c, const grading_assess_t *ax,
                           const scn_expect_t *x)
{
    const grading_rules_t *rules = c->mp->rules;
    const grading_metric_val_t *val = NULL;
    char buf[SCN_MSG_LEN];
    for (size_t i = 0; !x->window[0] && i < rules->nmetrics; i++)
        if (strcmp(rules->metrics[i].name, x->text) == 0) val = &ax->a.metrics[i];
    if (!scn_evidence_check(rd, c, x, val, buf, sizeof buf)) differ(r, "evidence %s: %s", x->text, buf);
}

bool scn_case_check(grading_store_t *st, const scn_file_t *f, size_t ci, char *msg, size_t msglen)
{
    const scn_case_t *c = &f->cases[ci];
    report_t r = {msg, 0, msglen, true};
    grading_store_reader_t *reader = NULL;
    grading_txn_t *txn = NULL;
    grading_assess_t *x = grading_assess_new();
    grading_seller_state_t stored;
    bool found = false;
    grading_error_t e;
    grading_err_t err;
    msg[0] = '\0';
    memset(&stored, 0, sizeof stored);
    if (!x) {
        differ(&r, "out of memory");
        goto out;
    }
    if ((err = grading_store_reader_new(st, &reader)) || (err = grading_store_read_begin(reader, &txn))) {
        differ(&r, "cannot read the store: %s", grading_err_name(err));
        goto out;
    }
    if ((err = grading_assess_seller(txn, c->mp, c->seller, c->as_of_ms, x, &e))) {
        char why[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 4];
        grading_error_format(&e, why, sizeof why);
        differ(&r, "assessment failed: %s: %s", grading_err_name(err), why);
        goto out;
    }
    if ((err = grading_store_seller_get(txn, c->mp->name, c->seller, &stored, &found))) {
        differ(&r, "cannot read the stored record: %s", grading_err_name(err));
        goto out;
    }
    if (found && stored.computed_ms != c->as_of_ms)
        differ(&r, "stored record derived as of %lld, not as_of %lld", (long long)stored.computed_ms,
               (long long)c->as_of_ms);
    for (size_t i = 0; i < c->nexpect; i++)
        check_one(&r, c->mp->rules, x, &c->expect[i], found, &stored);
    grading_store_read_end(reader);
    txn = NULL;
    for (size_t i = 0; i < c->nexpect; i++)
        if (c->expect[i].kind == SCN_X_EVIDENCE) check_evidence(&r, reader, c, x, &c->expect[i]);
out:
    if (txn) grading_store_read_end(reader);
    grading_store_reader_free(reader);
    grading_assess_free(x);
    for (size_t i = 0; i < c->nexpect; i++)
        if (c->expect[i].kind == SCN_X_FORECAST && !scn_forecast_check(st, c, &c->expect[i], r.msg + r.len,
                                                                       r.cap - r.len, !r.ok)) {
            r.len += strlen(r.msg + r.len);
            r.ok = false;
        }
    return r.ok;
}
