/* Reading a seller's windows from the store and evaluating the rules. */
#include "grading/assess.h"
#include "grading/changes.h"
#include "grading/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/period.h"

grading_assess_t *grading_assess_new(void)
{
    return calloc(1, sizeof(grading_assess_t));
}

void grading_assess_free(grading_assess_t *x)
{
    free(x);
}

typedef struct {
    const grading_rules_t *r;
    grading_assess_t *x;
} scan_t;

static grading_err_t add_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    scan_t *s = ctx;
    return grading_rules_add_day(s->r, s->x->today, day, d, s->x->sums);
}

/* The name of the period of kind before `name`'s. */
static void period_before(int kind, const char *name, char out[GRADING_STORE_PERIOD_MAX])
{
    int32_t first, last;
    char tmp[GRADING_PERIOD_NAME_MAX];
    grading_error_t e;
    if (grading_period_parse((grading_period_kind_t)kind, name, "", &first, &last, &e)) {
        out[0] = 0;
        return;
    }
    grading_period_of((grading_period_kind_t)kind, first - 1, tmp, &first, &last);
    snprintf(out, GRADING_STORE_PERIOD_MAX, "%s", tmp);
}

/* The last period of kind in the calendar year before today's, in *name,
 * and whether its close is done. */
static grading_err_t last_year_closed(grading_txn_t *txn, const char *mp, int kind, int32_t today,
                                      char name[GRADING_STORE_PERIOD_MAX], bool *closed)
{
    int32_t y, first, last;
    uint32_t m, d;
    char tmp[GRADING_PERIOD_NAME_MAX];
    grading_civil_from_days(today, &y, &m, &d);
    grading_period_of((grading_period_kind_t)kind, grading_days_from_civil(y, 1, 1) - 1, tmp, &first, &last);
    snprintf(name, GRADING_STORE_PERIOD_MAX, "%s", tmp);
    grading_close_t c;
    bool found;
    grading_err_t err = grading_store_close_get(txn, mp, kind, name, &c, &found);
    *closed = !err && found && c.done;
    return err;
}

grading_err_t grading_assess_history(grading_txn_t *txn, const grading_marketplace_t *mp,
                                     const char *seller, int64_t as_of_ms, grading_assess_t *x)
{
    const grading_rules_t *r = mp->rules;
    int32_t today = grading_tz_day(&mp->tz, as_of_ms), first, last;
    char latest[GRADING_PERIOD_MAX_KINDS][GRADING_STORE_PERIOD_MAX];
    bool have[GRADING_PERIOD_MAX_KINDS] = {false};
    grading_err_t err;
    memset(&x->hist, 0, sizeof x->hist);
    memset(x->has_published, 0, sizeof x->has_published);
    for (int kind = GRADING_PERIOD_MONTH; kind <= GRADING_PERIOD_YEAR; kind++) {
        char cur[GRADING_PERIOD_NAME_MAX];
        grading_period_of((grading_period_kind_t)kind, today, cur, &first, &last);
        /* only periods that ended before as_of: the current one is open */
        char before[GRADING_STORE_PERIOD_MAX];
        period_before(kind, cur, before);
        if ((err = grading_store_close_latest(txn, mp->name, kind, before, latest[kind], &have[kind])))
            return err;
    }
    for (size_t p = 0; p < r->nprograms && p < GRADING_STORE_MAX_PROGRAMS; p++) {
        int kind = r->programs[p].publish;
        if (!have[kind]) continue;
        grading_period_rec_t rec;
        bool found;
        if ((err = grading_store_period_get(txn, mp->name, kind, latest[kind], seller, &rec, &found)))
            return err;
        if (!found || p >= rec.n) continue;
        x->has_published[p] = true;
        x->published[p] = rec.p[p];
        x->hist.published[p] = rec.p[p].level;
        snprintf(x->published_period[p], sizeof x->published_period[p], "%s", latest[kind]);
    }
    /* the last completed month's points, once that month is closed */
    if (r->points.enabled && have[GRADING_PERIOD_MONTH]) {
        char cur[GRADING_PERIOD_NAME_MAX], before[GRADING_STORE_PERIOD_MAX];
        grading_period_of(GRADING_PERIOD_MONTH, today, cur, &first, &last);
        period_before(GRADING_PERIOD_MONTH, cur, before);
        grading_period_rec_t rec;
        bool found = false;
        if (strcmp(before, latest[GRADING_PERIOD_MONTH]) == 0 &&
            (err = grading_store_period_get(txn, mp->name, GRADING_PERIOD_MONTH, before, seller, &rec, &found)))
            return err;
        if (found && rec.has_points) {
            x->hist.has_month_points = true;
            x->hist.month_points = rec.points;
        }
    }
    for (size_t h = 0; h < r->nhistory; h++) {
        const grading_history_def_t *hd = &r->history[h];
        int kind = r->programs[hd->program].publish;
        int32_t levels[GRADING_RULES_MAX_HISTORY_PERIODS] = {0};
        bool fresh[GRADING_RULES_MAX_HISTORY_PERIODS] = {false};
        char name[GRADING_STORE_PERIOD_MAX];
        bool walk = have[kind];
        if (hd->calendar_year) {
            /* a yearly selection: last year's periods, once its last one is
             * closed; it holds for the whole of this year */
            if ((err = last_year_closed(txn, mp->name, kind, today, name, &walk))) return err;
        } else if (walk) {
            snprintf(name, sizeof name, "%s", latest[kind]);
        }
        if (walk) {
            for (uint32_t i = 0; i < hd->over && name[0]; i++) {
                grading_period_rec_t rec;
                bool found;
                if ((err = grading_store_period_get(txn, mp->name, kind, name, seller, &rec, &found)))
                    return err;
                if (found && hd->program < rec.n) {
                    levels[hd->over - 1 - i] = rec.p[hd->program].level;
                    fresh[hd->over - 1 - i] = rec.p[hd->program].new_seller;
                }
                char prev[GRADING_STORE_PERIOD_MAX];
                period_before(kind, name, prev);
                memcpy(name, prev, sizeof name);
            }
        }
        grading_history_fold(hd, levels, fresh, hd->over, &x->hist.has[h], &x->hist.value[h]);
    }
    return GRADING_OK;
}

typedef struct {
    const grading_rules_t *r;
    const grading_tz_t *tz;
    grading_assess_t *x;
} orders_scan_t;

static grading_err_t add_order(void *ctx, const char *order_id, const grading_order_t *o)
{
    orders_scan_t *s = ctx;
    grading_order_facts_add(s->r, s->tz, s->x->as_of_ms, order_id, o, &s->x->facts);
    return GRADING_OK;
}

static grading_err_t add_rate(void *ctx, const char *order_id, const grading_order_t *o)
{
    orders_scan_t *s = ctx;
    (void)order_id;
    grading_order_facts_rate_add(s->r, s->tz, s->x->as_of_ms, o, &s->x->facts, s->x->rates);
    return GRADING_OK;
}

static grading_err_t add_review_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    orders_scan_t *s = ctx;
    grading_order_facts_add_day(s->r, day, d, &s->x->facts);
    return GRADING_OK;
}

/* The per-order facts: one scan of the seller's orders (two when a
 * product's shipping rate decides a restriction) and of the year's days. */
static grading_err_t assess_orders(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                   grading_assess_t *x)
{
    const grading_rules_t *r = mp->rules;
    orders_scan_t s = {r, &mp->tz, x};
    grading_err_t err;
    grading_order_facts_init(&x->facts, x->today);
    grading_order_facts_expiry(r, &x->facts);
    if ((err = grading_store_orders_foreach(txn, mp->name, seller, add_order, &s))) return err;
    if (r->points.enabled &&
        (err = x->days ? x->days(x->days_ctx, grading_order_facts_first_day(&x->facts), x->today, add_review_day, &s)
                       : grading_store_days_foreach(txn, mp->name, seller, grading_order_facts_first_day(&x->facts),
                                                    x->today, add_review_day, &s)))
        return err;
    bool rates = grading_order_facts_needs_rates(r, &x->facts);
    if (rates) {
        memset(x->rates, 0, sizeof x->rates);
        if ((err = grading_store_orders_foreach(txn, mp->name, seller, add_rate, &s))) return err;
    }
    grading_order_facts_finish(r, &x->facts, rates ? x->rates : NULL);
    x->hist.orders = &x->facts;
    return GRADING_OK;
}

grading_err_t grading_assess_seller(grading_txn_t *txn, const grading_marketplace_t *mp,
                                    const char *seller, int64_t as_of_ms, grading_assess_t *x,
                                    grading_error_t *e)
{
    grading_err_t err = grading_assess_once(txn, mp, seller, as_of_ms, x, e);
    return err ? err : grading_assess_lasts(txn, mp, seller, x, e);
}

grading_err_t grading_assess_once(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                  int64_t as_of_ms, grading_assess_t *x, grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    x->as_of_ms = as_of_ms;
    x->today = grading_tz_day(&mp->tz, as_of_ms);
    for (size_t w = 0; w < r->nwindows; w++) grading_day_counters_init(&x->sums[w]);
    int32_t first, last;
    grading_rules_span(r, x->today, &first, &last);
    scan_t s = {r, x};
    grading_err_t err = r->nwindows
                            ? grading_store_days_foreach(txn, mp->name, seller, first, last, add_day, &s)
                            : GRADING_OK;
    if (err) return grading_error_set(e, err, "seller_id", "cannot read the seller's counters");
    return grading_assess_finish(txn, mp, seller, x, e);
}

grading_err_t grading_assess_finish(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                    grading_assess_t *x, grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    grading_err_t err;
    if ((err = grading_assess_history(txn, mp, seller, x->as_of_ms, x)))
        return grading_error_set(e, err, "seller_id", "cannot read the seller's closed periods");
    if ((r->deadlines.nstages || r->points.enabled) && (err = assess_orders(txn, mp, seller, x)))
        return grading_error_set(e, err, "seller_id", "cannot read the seller's orders");
    return grading_rules_assess_with(r, x->sums, &x->hist, &x->a, e);
}

static grading_err_t count_day(void *ctx, int32_t day, const grading_day_counters_t *d)
{
    (void)day, (void)d;
    (*(uint32_t *)ctx)++;
    return GRADING_OK;
}

grading_err_t grading_assess_raw_new(grading_txn_t *txn, const grading_marketplace_t *mp, const char *seller,
                                     const grading_assess_t *x, grading_assess_t **out, grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    *out = NULL;
    if (!r->nwindows) return GRADING_OK;
    int32_t first, last;
    grading_rules_span(r, x->today, &first, &last);
    /* most sellers have nothing excluded: one seek says so, and x serves */
    uint32_t rows = 0;
    grading_err_t err = grading_store_xdays_foreach(txn, mp->name, seller, first, last, count_day, &rows);
    if (err) return grading_error_set(e, err, "seller_id", "cannot read the seller's excluded counters");
    if (!rows) return GRADING_OK;
    grading_assess_t *raw = malloc(sizeof *raw);
    if (!raw) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    *raw = *x;   /* history and order facts are the same; only the days differ */
    scan_t s = {r, raw};
    if ((err = grading_store_xdays_foreach(txn, mp->name, seller, first, last, add_day, &s))) {
        grading_error_set(e, err, "seller_id", "cannot read the seller's excluded counters");
        goto fail;
    }
    if ((err = grading_rules_assess_with(r, raw->sums, &raw->hist, &raw->a, e))) goto fail;
    *out = raw;
    return GRADING_OK;
fail:
    free(raw);
    return err;
}

/* Logs what moved in the seller's stored answer (changes.h), in the
 * derive's transaction, so a watcher sees it exactly when it is stored. */
static grading_err_t note_change(grading_txn_t *txn, const grading_marketplace_t *mp, const char *mp_name,
                                 const char *seller,
                                 const grading_seller_state_t *old, const grading_seller_state_t *st,
                                 const grading_assess_t *x, int64_t now_ms)
{
    int32_t levels[GRADING_STORE_MAX_PROGRAMS];
    uint32_t n = 0;
    for (size_t p = 0; p < mp->rules->nprograms && n < GRADING_STORE_MAX_PROGRAMS; p++)
        levels[n++] = x->a.grades[p].level;
    return grading_store_change_note_seller(txn, mp_name, seller, old, st, levels, n, now_ms);
}

/* --shadow-policy: the shadow's levels beside the live ones, disagreements
 * counted per programme (matched by name). Counts only: it never fails
 * the derive, and stores nothing. */
static void compare_shadow(grading_txn_t *txn, const grading_policy_t *p, const grading_marketplace_t *mp,
                           const char *seller, int64_t now_ms, const grading_assess_t *live)
{
    const grading_policy_t *shadow = grading_policy_shadow(p);
    const grading_marketplace_t *smp = shadow ? grading_policy_marketplace(shadow, mp->name) : NULL;
    if (!smp || strcmp(smp->name, mp->name) != 0) return;
    grading_assess_t *x = grading_assess_new();
    grading_error_t e;
    if (x && grading_assess_seller(txn, smp, seller, now_ms, x, &e) == GRADING_OK)
        for (size_t i = 0; i < mp->rules->nprograms; i++)
            for (size_t j = 0; j < smp->rules->nprograms; j++)
                if (strcmp(mp->rules->programs[i].name, smp->rules->programs[j].name) == 0)
                    grading_metrics_shadow_compared(mp->name, mp->rules->programs[i].name,
                                                    live->a.grades[i].level != x->a.grades[j].level);
    grading_assess_free(x);
}

/* One assessment per thread for derivations, reused from seller to seller:
 * the writer derives thousands of sellers per group commit, and zeroing a
 * new one for each was 2.4 % of its time. Reuse is safe because an
 * assessment sets everything it reads (the sums of its windows, history,
 * stage runs, facts only where hist.orders points to them), as the close's
 * reuse across a page relies on too. Freed when the thread ends. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_ok;

static void scratch_free(void *x)
{
    grading_assess_free(x);
}

static void scratch_init(void)
{
    scratch_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

static grading_assess_t *derive_scratch(void)
{
    pthread_once(&scratch_once, scratch_init);
    if (!scratch_ok) return NULL;
    grading_assess_t *x = pthread_getspecific(scratch_key);
    if (x) return x;
    if (!(x = grading_assess_new())) return NULL;
    if (pthread_setspecific(scratch_key, x)) {
        grading_assess_free(x);
        return NULL;
    }
    return x;
}

grading_err_t grading_assess_derive(grading_txn_t *txn, const grading_policy_t *p,
                                    const char *mp_name, const char *seller, int64_t now_ms)
{
    const grading_marketplace_t *mp = grading_policy_marketplace(p, mp_name);
    if (!mp) return GRADING_OK;   /* a marketplace the new policy dropped */
    grading_assess_t *x = derive_scratch();
    if (!x) return GRADING_ENOMEM;
    grading_error_t e;
    grading_err_t err = grading_assess_seller(txn, mp, seller, now_ms, x, &e);
    if (!err) {
        grading_seller_state_t st = {.boost = x->a.boost,
                                     .suspended = x->a.suspended,
                                     .withdrawals_held = x->a.withdrawals_held,
                                     .computed_ms = now_ms,
                                     .next_due_ms = grading_assess_next_due_ms(mp, x)};
        strncpy(st.policy_version, grading_policy_version(p), GRADING_SELLER_VERSION_LEN);
        /* move the seller in the due index */
        grading_seller_state_t old;
        bool found;
        err = grading_store_seller_get(txn, mp_name, seller, &old, &found);
        if (!err && found && old.next_due_ms && old.next_due_ms != st.next_due_ms)
            err = grading_store_due_del(txn, old.next_due_ms, mp_name, seller);
        if (!err && st.next_due_ms && (!found || old.next_due_ms != st.next_due_ms))
            err = grading_store_due_put(txn, st.next_due_ms, mp_name, seller);
        if (!err) err = grading_store_seller_put(txn, mp_name, seller, &st);
        if (!err) err = note_change(txn, mp, mp_name, seller, found ? &old : NULL, &st, x, now_ms);
        if (!err) compare_shadow(txn, p, mp, seller, now_ms, x);
    }
    return err;
}

grading_err_t grading_assess_derive_cb(void *ctx, grading_txn_t *txn, const char *mp_name,
                                       const char *seller, int64_t now_ms)
{
    return grading_assess_derive(txn, ctx, mp_name, seller, now_ms);
}
