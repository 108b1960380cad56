/* The policy's answers: GetGrade, GetPenaltyState, GetRankingBoosts,
 * GetAdCreditEligibility, GetSettlementTerms.
 *
 * All but GetRankingBoosts assess the seller as of the request's time from
 * the daily counters (one range scan in the thread's read transaction).
 * GetRankingBoosts is the hot path: it reads the answer the ingest writer
 * derived and stored with the seller's last events, one lookup per id, no
 * evaluation. Every answer carries the policy version it was computed with. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "grading/assess_read.h"
#include "grading/assess.h"
#include "grading/period.h"
#include "grading/text.h"
#include "grading/prune.h"
#include "server_internal.h"

/* ---- the shared prelude: seller, marketplace, as_of, assessment ---- */

typedef struct {
    const grading_marketplace_t *mp;
    grading_assess_t *x;
    int64_t as_of;
} query_t;


bool rpc_query_target(call_slot_t *s, const char *mp_name, const char *seller,
                      const Google__Protobuf__Timestamp *as_of, const grading_marketplace_t **mp, int64_t *as_of_ms,
                      grading_error_t *e)
{
    if (!rpc_seller_id_ok(seller, "seller_id", e)) return false;
    if (!(*mp = rpc_resolve_marketplace(s, mp_name, "marketplace", e))) return false;
    *as_of_ms = as_of ? rpc_timestamp_ms(as_of) : rpc_now_ms(s);
    if (*as_of_ms < GRADING_MIN_TIME_MS || *as_of_ms >= GRADING_MAX_TIME_MS) {
        grading_error_set(e, GRADING_EINVAL, "as_of", "must be between 2000-01-01 and 2100-01-01 UTC");
        return false;
    }
    return true;
}

/* Fills q (q->x owned by the caller after success: grading_assess_free). */
static bool query_seller(call_slot_t *s, const char *mp_name, const char *seller,
                         const Google__Protobuf__Timestamp *as_of, query_t *q, grading_error_t *e)
{
    memset(q, 0, sizeof *q);
    if (!rpc_query_target(s, mp_name, seller, as_of, &q->mp, &q->as_of, e)) return false;
    return grading_assess_read_new(rpc_thread_reader(s), q->mp, seller, q->as_of, &q->x, e) == GRADING_OK;
}

/* query_seller, answering the call with the error when it fails. */
static bool query_or_reply(call_slot_t *s, const char *mp_name, const char *seller,
                           const Google__Protobuf__Timestamp *as_of, query_t *q)
{
    grading_error_t e = {0};
    if (query_seller(s, mp_name, seller, as_of, q, &e)) return true;
    rpc_reply_error(s, &e);
    return false;
}

/* ---- GetGrade ---- */

#define MAX_ADVICE 8

/* "3.20%" for a rate, "4.25" otherwise. */
static void format_value(const grading_metric_def_t *m, double v, char *buf, size_t len)
{
    if (m->numerator) snprintf(buf, len, "%.2f%%", v * 100);
    else snprintf(buf, len, "%.2f", v);
}

typedef struct {
    Grading__V1__ProgramGrade pg;
    Grading__V1__Grade live, published, shadow;
    char *reasons[GRADING_RULES_MAX_REASONS];
    Grading__V1__Advice advice[MAX_ADVICE];
    Grading__V1__Advice *advice_ptrs[MAX_ADVICE];
    char messages[MAX_ADVICE][256];
} program_reply_t;

static void fill_program(const grading_rules_t *r, size_t p, const grading_assess_t *x, bool explain,
                         program_reply_t *o)
{
    const grading_assessment_t *a = &x->a;
    const grading_grade_t *g = &a->grades[p];
    grading__v1__program_grade__init(&o->pg);
    grading__v1__grade__init(&o->live);
    o->pg.program = (char *)r->programs[p].name;
    o->live.level = g->level;
    o->live.label = (char *)(g->label ? g->label : "");
    o->live.score = g->has_score ? g->score : 0;
    o->live.period = "live";
    o->pg.live = &o->live;
    if (x->has_published[p]) {
        grading__v1__grade__init(&o->published);
        o->published.level = x->published[p].level;
        o->published.label = (char *)grading_rules_label(&r->programs[p], x->published[p].level);
        o->published.score = x->published[p].has_score ? x->published[p].score : 0;
        o->published.period = (char *)x->published_period[p];
        o->pg.published = &o->published;
    }
    if (!explain) return;
    for (size_t i = 0; i < g->nreasons; i++) o->reasons[i] = (char *)g->reasons[i];
    o->pg.n_reasons = g->nreasons;
    o->pg.reasons = o->reasons;
    grading_advice_t adv[MAX_ADVICE];
    size_t n = grading_rules_advise(r, p, a, adv, MAX_ADVICE);
    for (size_t i = 0; i < n; i++) {
        const grading_metric_def_t *m = &r->metrics[adv[i].metric];
        char cur[32], tgt[32];
        format_value(m, adv[i].current, cur, sizeof cur);
        format_value(m, adv[i].target, tgt, sizeof tgt);
        snprintf(o->messages[i], sizeof o->messages[i], "%s %s from %s to %s would give level %d%s%s",
                 adv[i].target > adv[i].current ? "raise" : "lower", m->name, cur, tgt, adv[i].reaches,
                 m->description ? ": " : "", m->description ? m->description : "");
        grading__v1__advice__init(&o->advice[i]);
        o->advice[i].metric = (char *)m->name;
        o->advice[i].current = adv[i].current;
        o->advice[i].target = adv[i].target;
        o->advice[i].message = o->messages[i];
        o->advice_ptrs[i] = &o->advice[i];
    }
    o->pg.n_advice = n;
    o->pg.advice = o->advice_ptrs;
}

/* With --shadow-policy: the seller assessed under the shadow as of the
 * same time (*x NULL when there is none, or it lacks the marketplace). */
static grading_err_t assess_shadow(call_slot_t *s, const query_t *q, const char *seller, grading_assess_t **x,
                                const grading_marketplace_t **smp, grading_error_t *e)
{
    *x = NULL;
    const grading_policy_t *shadow = grading_policy_shadow(s->policy);
    *smp = shadow ? grading_policy_marketplace(shadow, q->mp->name) : NULL;
    if (!*smp || strcmp((*smp)->name, q->mp->name) != 0) return GRADING_OK;
    if (!(*x = grading_assess_new())) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    grading_txn_t *txn;
    grading_err_t err = grading_store_read_begin(rpc_thread_reader(s), &txn);
    if (err) {
        grading_error_set(e, err, "", "cannot read the store");
    } else {
        err = grading_assess_seller(txn, *smp, seller, q->as_of, *x, e);
        grading_store_read_end(rpc_thread_reader(s));
    }
    if (err) {
        grading_assess_free(*x);
        *x = NULL;
    }
    return err;
}

void rpc_handle_get_grade(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__GetGradeRequest *req = (const void *)msg;
    grading_error_t e = {0};
    query_t q;
    program_reply_t *pr = NULL;
    if (!query_seller(s, req->marketplace, req->seller_id, req->as_of, &q, &e)) goto fail;
    const grading_rules_t *r = q.mp->rules;
    pr = calloc(r->nprograms ? r->nprograms : 1, sizeof *pr);
    Grading__V1__ProgramGrade **pgs = calloc(r->nprograms ? r->nprograms : 1, sizeof *pgs);
    if (!pr || !pgs) {
        free(pgs);
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    for (size_t p = 0; p < r->nprograms; p++) {
        fill_program(r, p, q.x, req->explain, &pr[p]);
        pgs[p] = &pr[p].pg;
    }
    Grading__V1__GradeReport resp = GRADING__V1__GRADE_REPORT__INIT;
    Google__Protobuf__Timestamp ts;
    rpc_timestamp_set(&ts, q.as_of);
    resp.marketplace = (char *)q.mp->name;
    resp.seller_id = req->seller_id;
    resp.policy_version = (char *)grading_policy_version(s->policy);
    resp.as_of = &ts;
    resp.n_programs = r->nprograms;
    resp.programs = pgs;
    grading_assess_t *sx = NULL;
    const grading_marketplace_t *smp = NULL;
    if (req->explain && (assess_shadow(s, &q, req->seller_id, &sx, &smp, &e))) {
        free(pgs);
        goto fail;
    }
    if (sx) {
        resp.shadow_policy_version = (char *)grading_policy_version(grading_policy_shadow(s->policy));
        for (size_t p = 0; p < r->nprograms; p++)
            for (size_t j = 0; j < smp->rules->nprograms; j++) {
                if (strcmp(r->programs[p].name, smp->rules->programs[j].name) != 0) continue;
                const grading_grade_t *g = &sx->a.grades[j];
                grading__v1__grade__init(&pr[p].shadow);
                pr[p].shadow.level = g->level;
                pr[p].shadow.label = (char *)(g->label ? g->label : "");
                pr[p].shadow.score = g->has_score ? g->score : 0;
                pr[p].shadow.period = "shadow";
                pr[p].pg.shadow = &pr[p].shadow;
            }
    }
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    grading_assess_free(sx);
    free(pgs);
    free(pr);
    grading_assess_free(q.x);
    return;
fail:
    free(pr);
    grading_assess_free(q.x);
    rpc_reply_error(s, &e);
}

/* ---- GetPenaltyState ---- */

void rpc_handle_get_penalty_state(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__GetPenaltyStateRequest *req = (const void *)msg;
    query_t q;
    if (!query_or_reply(s, req->marketplace, req->seller_id, req->as_of, &q)) return;
    const grading_rules_t *r = q.mp->rules;
    Grading__V1__Penalty pens[GRADING_RULES_MAX_LADDERS], *pp[GRADING_RULES_MAX_LADDERS];
    Grading__V1__Restriction rs[GRADING_RULES_MAX_LADDERS][GRADING_RULES_MAX_RESTRICTIONS];
    Grading__V1__Restriction *rp[GRADING_RULES_MAX_LADDERS][GRADING_RULES_MAX_RESTRICTIONS];
    Google__Protobuf__Timestamp since[GRADING_RULES_MAX_LADDERS], until[GRADING_RULES_MAX_LADDERS];
    size_t n = 0;
    for (size_t l = 0; l < r->nladders; l++) {
        const grading_ladder_val_t *lv = &q.x->a.ladders[l];
        if (!lv->stage) continue;
        grading__v1__penalty__init(&pens[n]);
        pens[n].ladder = (char *)r->ladders[l].name;
        pens[n].stage = lv->stage;
        pens[n].name = (char *)lv->def->name;
        for (size_t k = 0; k < lv->def->nrestrictions; k++) {
            grading__v1__restriction__init(&rs[n][k]);
            rs[n][k].kind = (Grading__V1__RestrictionKind)lv->def->restrictions[k].kind;
            rs[n][k].limit = lv->def->restrictions[k].limit;
            rp[n][k] = &rs[n][k];
        }
        pens[n].n_restrictions = lv->def->nrestrictions;
        pens[n].restrictions = rp[n];
        /* a stage that lasts N days: its run's first day and the day it lapses */
        const grading_stage_run_t *run = &q.x->runs[l][lv->def - r->ladders[l].stages];
        if (run->known && !run->lapsed) {
            rpc_timestamp_set(&since[n], grading_tz_day_start_ms(&q.mp->tz, run->since));
            rpc_timestamp_set(&until[n], grading_tz_day_start_ms(&q.mp->tz, run->until));
            pens[n].since = &since[n];
            pens[n].until = &until[n];
        }
        pp[n] = &pens[n];
        n++;
    }
    /* per-order clocks: late orders, and the products they stop */
    const grading_order_facts_t *f = q.x->hist.orders;
    Grading__V1__Penalty stop_pen;
    Grading__V1__Restriction stop_r, *stop_rp = &stop_r;
    Grading__V1__OrderAlert alerts[GRADING_MAX_ORDER_ALERTS], *ap[GRADING_MAX_ORDER_ALERTS];
    char *stopped_ids[GRADING_MAX_STOPPED_PRODUCTS];
    size_t nalerts = 0;
    if (f) {
        for (size_t i = 0; i < f->nalerts; i++) {
            grading__v1__order_alert__init(&alerts[i]);
            alerts[i].order_id = (char *)f->alerts[i].order_id;
            alerts[i].stage = (char *)r->deadlines.stages[f->alerts[i].stage].name;
            ap[i] = &alerts[i];
        }
        nalerts = f->nalerts;
        if (f->nstopped && n < GRADING_RULES_MAX_LADDERS) {
            int rs_stage = 0;
            for (size_t k = 0; k < r->deadlines.nstages; k++)
                if (r->deadlines.stages[k].restricts && !rs_stage) rs_stage = (int)k + 1;
            grading__v1__penalty__init(&stop_pen);
            grading__v1__restriction__init(&stop_r);
            stop_pen.ladder = "shipping_delay";
            stop_pen.stage = rs_stage;
            stop_pen.name = rs_stage ? (char *)r->deadlines.stages[rs_stage - 1].name : "restriction";
            stop_r.kind = GRADING__V1__RESTRICTION_KIND__RESTRICTION_KIND_PRODUCT_SALES_STOPPED;
            for (size_t i = 0; i < f->nstopped; i++) stopped_ids[i] = (char *)f->stopped[i];
            stop_r.n_product_ids = f->nstopped;
            stop_r.product_ids = stopped_ids;
            stop_pen.n_restrictions = 1;
            stop_pen.restrictions = &stop_rp;
            pp[n++] = &stop_pen;
        }
    }
    Grading__V1__PenaltyState resp = GRADING__V1__PENALTY_STATE__INIT;
    resp.n_order_alerts = nalerts;
    resp.order_alerts = ap;
    /* strikes: the first strikes history item of the policy */
    Grading__V1__StrikeState strikes = GRADING__V1__STRIKE_STATE__INIT;
    char window[64];
    for (size_t h = 0; h < r->nhistory; h++) {
        const grading_history_def_t *hd = &r->history[h];
        if (hd->kind != GRADING_HISTORY_STRIKES) continue;
        strikes.count = (uint32_t)q.x->hist.value[h];
        strikes.limit = hd->limit;
        snprintf(window, sizeof window, "%u %ss", hd->over,
                 grading_period_kind_name((grading_period_kind_t)r->programs[hd->program].publish));
        strikes.window = window;
        resp.strikes = &strikes;
        break;
    }
    resp.n_penalties = n;
    resp.penalties = pp;
    resp.policy_version = (char *)grading_policy_version(s->policy);
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    grading_assess_free(q.x);
}

/* ---- GetRankingBoosts: the hot path ---- */

void rpc_handle_get_ranking_boosts(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__GetRankingBoostsRequest *req = (const void *)msg;
    grading_error_t e = {0};
    double *boosts = NULL;
    bool reading = false;
    const grading_marketplace_t *mp = rpc_resolve_marketplace(s, req->marketplace, "marketplace", &e);
    if (!mp) goto fail;
    if (req->n_seller_ids > GRADING_MAX_EVENTS_PER_CALL) {
        grading_error_set(&e, GRADING_EFULL, "seller_ids", "at most %d ids per call, got %zu",
                          GRADING_MAX_EVENTS_PER_CALL, req->n_seller_ids);
        goto fail;
    }
    for (size_t i = 0; i < req->n_seller_ids; i++) {
        const char *id = req->seller_ids[i];
        if (!grading_id_problem(id, id ? strlen(id) : 0, GRADING_MAX_ID_LEN, NULL)) continue;
        char field[48];   /* named only when it is wrong: no printf per id */
        snprintf(field, sizeof field, "seller_ids[%zu]", i);
        if (!rpc_seller_id_ok(id, field, &e)) goto fail;
    }
    boosts = malloc((req->n_seller_ids ? req->n_seller_ids : 1) * sizeof *boosts);
    if (!boosts) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    /* The store's in-memory snapshot of the stored answers; the records
     * themselves only if it went stale. */
    grading_err_t err = grading_store_boosts_get(rpc_store(s), mp->name, req->seller_ids, req->n_seller_ids,
                                                 mp->rules->neutral_boost, boosts);
    if (err && err != GRADING_ESTATE) {
        grading_error_set(&e, err, "seller_ids", "cannot read the sellers' boosts");
        goto fail;
    }
    if (err == GRADING_ESTATE) {
        grading_txn_t *txn;
        if ((err = grading_store_read_begin(rpc_thread_reader(s), &txn))) {
            grading_error_set(&e, err, "", "cannot read the store");
            goto fail;
        }
        reading = true;
        for (size_t i = 0; i < req->n_seller_ids; i++) {
            grading_seller_state_t st;
            bool found;
            if ((err = grading_store_seller_get(txn, mp->name, req->seller_ids[i], &st, &found))) {
                grading_error_set(&e, err, "seller_ids", "cannot read seller \"%s\"", req->seller_ids[i]);
                goto fail;
            }
            boosts[i] = found ? st.boost : mp->rules->neutral_boost;
        }
        grading_store_read_end(rpc_thread_reader(s));
        reading = false;
    }
    Grading__V1__GetRankingBoostsResponse resp = GRADING__V1__GET_RANKING_BOOSTS_RESPONSE__INIT;
    resp.n_boosts = req->n_seller_ids;
    resp.boosts = boosts;
    resp.policy_version = (char *)grading_policy_version(s->policy);
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    free(boosts);
    return;
fail:
    if (reading) grading_store_read_end(rpc_thread_reader(s));
    free(boosts);
    rpc_reply_error(s, &e);
}

/* ---- GetAdCreditEligibility ---- */

void rpc_handle_get_ad_credit_eligibility(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__GetAdCreditEligibilityRequest *req = (const void *)msg;
    query_t q;
    if (!query_or_reply(s, req->marketplace, req->seller_id, req->as_of, &q)) return;
    const grading_rules_t *r = q.mp->rules;
    Grading__V1__AdCreditGrant g[GRADING_RULES_MAX_GRANTS], *gp[GRADING_RULES_MAX_GRANTS];
    size_t n = 0;
    for (size_t i = 0; i < r->ngrants; i++) {
        if (!q.x->a.granted[i]) continue;
        grading__v1__ad_credit_grant__init(&g[n]);
        g[n].program = (char *)r->grants[i].program;
        g[n].amount = r->grants[i].amount;
        g[n].currency = (char *)q.mp->currency;
        g[n].reason = (char *)r->grants[i].reason;
        gp[n] = &g[n];
        n++;
    }
    Grading__V1__AdCreditEligibility resp = GRADING__V1__AD_CREDIT_ELIGIBILITY__INIT;
    resp.eligible = n > 0;
    resp.n_grants = n;
    resp.grants = gp;
    resp.convertible_points = q.x->a.convertible_points;
    resp.policy_version = (char *)grading_policy_version(s->policy);
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    grading_assess_free(q.x);
}

/* ---- GetSettlementTerms ---- */

void rpc_handle_get_settlement_terms(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__GetSettlementTermsRequest *req = (const void *)msg;
    query_t q;
    if (!query_or_reply(s, req->marketplace, req->seller_id, NULL, &q)) return;
    const grading_rules_t *r = q.mp->rules;
    Grading__V1__SettlementTerms resp = GRADING__V1__SETTLEMENT_TERMS__INIT;
    if (q.x->a.tier >= 0) {
        resp.cycle_days = r->tiers[q.x->a.tier].cycle_days;
        resp.tier = (char *)r->tiers[q.x->a.tier].tier;
    }
    resp.withdrawals_held = q.x->a.withdrawals_held;
    resp.policy_version = (char *)grading_policy_version(s->policy);
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    grading_assess_free(q.x);
}
