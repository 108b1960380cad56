/* Rules: windows, restriction names, name resolution for expressions, and
 * summing a seller's days into the windows the rules use.
 * Evaluation itself is in rules_eval.c. */
#include "grading/rules.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grading/tz.h"

/* ---- windows ---- */

static const struct {
    const char *name;
    grading_window_kind_t kind;
} calendar_windows[] = {
    {"month", GRADING_WIN_MONTH},     {"prev_month", GRADING_WIN_PREV_MONTH},
    {"quarter", GRADING_WIN_QUARTER}, {"prev_quarter", GRADING_WIN_PREV_QUARTER},
    {"year", GRADING_WIN_YEAR},       {"prev_year", GRADING_WIN_PREV_YEAR},
};

grading_err_t grading_window_parse(const char *s, grading_window_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof calendar_windows / sizeof calendar_windows[0]; i++)
        if (strcmp(s, calendar_windows[i].name) == 0) {
            out->kind = calendar_windows[i].kind;
            strcpy(out->name, s);
            return GRADING_OK;
        }
    size_t n = strlen(s);
    if (n >= 7 && n <= 8 && strncmp(s, "prev_", 5) == 0 && s[n - 1] == 'm') {
        int32_t months = 0;
        for (size_t i = 5; i + 1 < n; i++) {
            if (s[i] < '0' || s[i] > '9') return GRADING_EINVAL;
            months = months * 10 + (s[i] - '0');
        }
        if (months < 1 || months > GRADING_WINDOW_MAX_MONTHS || s[5] == '0') return GRADING_EINVAL;
        out->kind = GRADING_WIN_PREV_MONTHS;
        out->days = months;
        strcpy(out->name, s);
        return GRADING_OK;
    }
    if (n < 2 || n > 4 || s[n - 1] != 'd') return GRADING_EINVAL;
    int32_t days = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] < '0' || s[i] > '9') return GRADING_EINVAL;
        days = days * 10 + (s[i] - '0');
    }
    if (days < 1 || days > GRADING_WINDOW_MAX_DAYS) return GRADING_EINVAL;
    out->kind = GRADING_WIN_DAYS;
    out->days = days;
    strcpy(out->name, s);
    return GRADING_OK;
}

/* First local day of the quarter `shift` quarters after the one holding day. */
static int32_t quarter_first(int32_t day, int shift)
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    int q = (int)(m - 1) / 3 + shift;
    while (q < 0) { q += 4; y--; }
    while (q > 3) { q -= 4; y++; }
    return grading_days_from_civil(y, (uint32_t)q * 3 + 1, 1);
}

static int32_t year_first(int32_t day, int shift)
{
    int32_t y;
    uint32_t m, d;
    grading_civil_from_days(day, &y, &m, &d);
    return grading_days_from_civil(y + shift, 1, 1);
}

void grading_window_range(const grading_window_t *w, int32_t today, int32_t *first, int32_t *last)
{
    *first = *last = today;
    switch (w->kind) {
    case GRADING_WIN_DAYS: *first = today - w->days + 1; break;
    case GRADING_WIN_MONTH: *first = grading_month_first_day(today); break;
    case GRADING_WIN_PREV_MONTH:
        *last = grading_month_first_day(today) - 1;
        *first = grading_month_first_day(*last);
        break;
    case GRADING_WIN_QUARTER: *first = quarter_first(today, 0); break;
    case GRADING_WIN_PREV_QUARTER:
        *first = quarter_first(today, -1);
        *last = quarter_first(today, 0) - 1;
        break;
    case GRADING_WIN_YEAR: *first = year_first(today, 0); break;
    case GRADING_WIN_PREV_YEAR:
        *first = year_first(today, -1);
        *last = year_first(today, 0) - 1;
        break;
    case GRADING_WIN_PREV_MONTHS:
        *last = grading_month_first_day(today) - 1;
        *first = *last + 1;
        for (int32_t m = 0; m < w->days; m++) *first = grading_month_first_day(*first - 1);
        break;
    }
}

void grading_rules_span(const grading_rules_t *r, int32_t today, int32_t *first, int32_t *last)
{
    *first = today;
    *last = today;
    for (size_t w = 0; w < r->nwindows; w++) {
        int32_t f, l;
        grading_window_range(&r->windows[w], today, &f, &l);
        if (f < *first) *first = f;
        if (l > *last) *last = l;
    }
}

grading_err_t grading_rules_add_day(const grading_rules_t *r, int32_t today, int32_t day,
                                    const grading_day_counters_t *d, grading_day_counters_t *sums)
{
    for (size_t w = 0; w < r->nwindows; w++) {
        int32_t f, l;
        grading_window_range(&r->windows[w], today, &f, &l);
        if (day < f || day > l) continue;
        grading_err_t err = grading_day_counters_add(&sums[w], d);
        if (err) return err;
    }
    return GRADING_OK;
}

/* ---- restrictions ---- */

static const char *const restriction_names[] = {
    NULL, "warning", "promotion_ban", "listing_cap", "product_sales_stopped",
    "new_deals_blocked", "sales_suspended", "withdrawals_held", "contract_termination",
};
#define NRESTRICTION_NAMES (sizeof restriction_names / sizeof restriction_names[0])

const char *grading_restriction_name(grading_restriction_kind_t k)
{
    return (unsigned)k < NRESTRICTION_NAMES && restriction_names[k] ? restriction_names[k] : "?";
}

grading_restriction_kind_t grading_restriction_parse(const char *s)
{
    for (size_t i = 1; i < NRESTRICTION_NAMES; i++)
        if (strcasecmp(s, restriction_names[i]) == 0) return (grading_restriction_kind_t)i;
    return 0;
}

/* ---- names ---- */

static bool set_sym(grading_expr_symbol_t *out, grading_sym_kind_t kind, size_t idx,
                    grading_expr_type_t type)
{
    out->id = GRADING_SYM_ID(kind, idx);
    out->type = type;
    return true;
}

/* "PREFIX.NAME.SUFFIX" pieces: is s "prefix." + one of names + "." + suffix? */
static bool dotted(const char *s, const char *name, const char *suffix)
{
    size_t n = strlen(name);
    return strncmp(s, name, n) == 0 && s[n] == '.' && strcmp(s + n + 1, suffix) == 0;
}

bool grading_rules_resolve(grading_rules_t *r, grading_scope_t scope, const char *name,
                           grading_expr_symbol_t *out)
{
    if (scope == GRADING_SCOPE_METRIC_WINDOW) {
        for (int c = 0; c < GRADING_C_COUNT; c++)
            if (strcmp(name, grading_counter_name((grading_counter_t)c)) == 0)
                return set_sym(out, GRADING_SYM_COUNTER, (size_t)c, GRADING_EXPR_NUMBER);
        if (strncmp(name, "custom.", 7) == 0 && name[7]) {
            const char *cname = name + 7;
            if (strlen(cname) > GRADING_MAX_CUSTOM_NAME_LEN || strchr(cname, '.')) return false;
            for (size_t i = 0; i < r->ncustom; i++)
                if (strcmp(r->custom[i], cname) == 0)
                    return set_sym(out, GRADING_SYM_CUSTOM, i, GRADING_EXPR_NUMBER);
            if (r->ncustom >= GRADING_RULES_MAX_METRICS) return false;
            /* the name lives in the compiled expression's caller's buffer
             * only during compile: keep our own copy */
            char *copy = strdup(cname);
            if (!copy) return false;
            r->custom[r->ncustom] = copy;
            return set_sym(out, GRADING_SYM_CUSTOM, r->ncustom++, GRADING_EXPR_NUMBER);
        }
    }
    for (size_t i = 0; i < r->nmetrics; i++)
        if (strcmp(name, r->metrics[i].name) == 0)
            return set_sym(out, GRADING_SYM_METRIC, i, GRADING_EXPR_NUMBER);
    if (scope <= GRADING_SCOPE_METRIC_DERIVED) return false;
    static const char *const order_names[GRADING_OF_COUNT] = {
        "points.month", "points.prev_month", "points.year", "orders.caution",
        "orders.warning", "orders.restriction", "products.stopped", "points.last_month", "points.active"};
    for (int i = 0; i < GRADING_OF_COUNT; i++)
        if (strcmp(name, order_names[i]) == 0) {
            bool points = i <= GRADING_OF_POINTS_YEAR || i == GRADING_OF_POINTS_LAST_MONTH ||
                          i == GRADING_OF_POINTS_ACTIVE;
            if (points ? !r->points.enabled : r->deadlines.nstages == 0) return false;
            /* points.active exists only where points expire */
            if (i == GRADING_OF_POINTS_ACTIVE && r->points.expire_after_days <= 0) return false;
            return set_sym(out, GRADING_SYM_ORDERS, (size_t)i, GRADING_EXPR_NUMBER);
        }
    for (size_t i = 0; i < r->nscores; i++)
        if (strcmp(name, r->scores[i].name) == 0)
            return set_sym(out, GRADING_SYM_SCORE, i, r->scores[i].type);
    if (scope == GRADING_SCOPE_SCORE) return false;
    if (scope == GRADING_SCOPE_PROGRAM)
        return strcmp(name, "score") == 0 &&
               set_sym(out, GRADING_SYM_SELF_SCORE, 0, GRADING_EXPR_NUMBER);
    for (size_t i = 0; i < r->nprograms; i++) {
        if (dotted(name, r->programs[i].name, "level"))
            return set_sym(out, GRADING_SYM_PROG_LEVEL, i, GRADING_EXPR_NUMBER);
        if (dotted(name, r->programs[i].name, "score"))
            return set_sym(out, GRADING_SYM_PROG_SCORE, i, GRADING_EXPR_NUMBER);
    }
    for (size_t i = 0; i < r->nprograms; i++)
        if (dotted(name, r->programs[i].name, "published"))
            return set_sym(out, GRADING_SYM_PUBLISHED, i, GRADING_EXPR_NUMBER);
    if (strncmp(name, "history.", 8) == 0)
        for (size_t i = 0; i < r->nhistory; i++)
            if (strcmp(name + 8, r->history[i].name) == 0)
                return set_sym(out, GRADING_SYM_HISTORY, i, GRADING_EXPR_NUMBER);
    if (scope == GRADING_SCOPE_PENALTY) return false;
    if (strncmp(name, "penalty.", 8) == 0)
        for (size_t i = 0; i < r->nladders; i++)
            if (dotted(name + 8, r->ladders[i].name, "stage"))
                return set_sym(out, GRADING_SYM_STAGE, i, GRADING_EXPR_NUMBER);
    if (strcmp(name, "suspended") == 0)
        return set_sym(out, GRADING_SYM_SUSPENDED, 0, GRADING_EXPR_BOOL);
    if (strcmp(name, "withdrawals_held") == 0)
        return set_sym(out, GRADING_SYM_HELD, 0, GRADING_EXPR_BOOL);
    return false;
}

void grading_rules_destroy(grading_rules_t *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nmetrics; i++) {
        grading_metric_def_t *m = &r->metrics[i];
        if (m->volume != m->denominator) grading_expr_free(m->volume);
        grading_expr_free(m->value);
        grading_expr_free(m->numerator);
        grading_expr_free(m->denominator);
    }
    for (size_t i = 0; i < r->nscores; i++)
        for (size_t b = 0; b < r->scores[i].nbands; b++) grading_expr_free(r->scores[i].bands[b].when);
    for (size_t i = 0; i < r->nprograms; i++) {
        grading_program_def_t *p = &r->programs[i];
        grading_expr_free(p->score);
        for (size_t k = 0; k < p->nrules; k++) grading_expr_free(p->rules[k].when);
        for (size_t k = 0; k < p->ncaps; k++) grading_expr_free(p->caps[k].unless);
        for (size_t k = 0; k < p->noverrides; k++) grading_expr_free(p->overrides[k].when);
    }
    for (size_t i = 0; i < r->nladders; i++)
        for (size_t k = 0; k < r->ladders[i].nstages; k++)
            grading_expr_free(r->ladders[i].stages[k].when);
    grading_expr_free(r->boost);
    for (size_t i = 0; i < r->ngrants; i++) grading_expr_free(r->grants[i].when);
    for (size_t i = 0; i < r->ntiers; i++) grading_expr_free(r->tiers[i].when);
    grading_expr_free(r->convertible_points);
    for (size_t i = 0; i < r->ncustom; i++) free((char *)r->custom[i]);
    memset(r, 0, sizeof *r);
}

void grading_history_fold(const grading_history_def_t *h, const int32_t *levels, const bool *new_seller,
                          size_t n, bool *has, double *value)
{
    double sum = 0;
    size_t seen = 0;
    uint32_t strikes = 0, streak = 0;
    for (size_t i = 0; i < n; i++) {
        /* a period the seller was not in breaks a streak */
        streak = levels[i] > 0 && levels[i] >= h->strike_level ? streak + 1 : 0;
        if (levels[i] <= 0) continue;
        seen++;
        sum += levels[i];
        if (new_seller && new_seller[i]) continue;
        if (levels[i] >= h->strike_level) strikes++;
        else if (h->relief_level > 0 && levels[i] <= h->relief_level) strikes = 0;
    }
    if (h->kind == GRADING_HISTORY_STRIKES || h->kind == GRADING_HISTORY_STREAK) {
        *has = true;   /* no closed period is zero strikes, no streak */
        *value = h->kind == GRADING_HISTORY_STRIKES ? strikes : streak;
    } else {
        *has = seen > 0 && seen >= h->min_periods;
        *value = seen ? sum / (double)seen : 0;
    }
}
