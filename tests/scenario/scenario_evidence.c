/* The `evidence` expectation (issue 15): ListMetricEvents' reading
 * (grading_evidence_list) of a case's seller, in pages of EVIDENCE_PAGE so
 * that a few records already span pages. It must list exactly what the
 * counters count: no record twice, in (kind, id) order; per counter the
 * listed contributions summed over every page equal its `listed`, and
 * listed + unlisted equal the window's total read straight from the days;
 * the same split on every page; the value the assessment's. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "grading/evidence.h"
#include "scenario.h"

#define EVIDENCE_PAGE 3

typedef struct {
    char *msg;
    size_t len, cap;
    bool ok;
} out_t;

static void differ(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void differ(out_t *o, const char *fmt, ...)
{
    va_list ap;
    o->ok = false;
    if (o->len >= o->cap) return;
    if (o->len) o->len += (size_t)snprintf(o->msg + o->len, o->cap - o->len, "; ");
    if (o->len >= o->cap) return;
    va_start(ap, fmt);
    o->len += (size_t)vsnprintf(o->msg + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
}

typedef struct {
    grading_evidence_kind_t kind;
    char id[GRADING_MAX_ID_LEN + 1];
    uint32_t entries;
    int64_t listed[GRADING_C_COUNT];
    size_t ncounters;
    grading_evidence_counter_t counters[GRADING_C_COUNT + GRADING_RULES_MAX_METRICS];
    int32_t first_day, last_day;
} seen_t;

/* One page: order, contributions, the same split as the first page's. */
static void take_page(out_t *o, const grading_evidence_t *ev, bool first, seen_t *s)
{
    for (size_t i = 0; i < ev->nentries; i++) {
        const grading_evidence_entry_t *e = &ev->entries[i];
        if (s->kind && (e->kind < s->kind || (e->kind == s->kind && strcmp(e->id, s->id) <= 0)))
            differ(o, "%s listed after %s (repeated or out of order)", e->id, s->id);
        s->kind = e->kind;
        snprintf(s->id, sizeof s->id, "%s", e->id);
        if (e->ncontribs == 0) differ(o, "%s listed with no contribution", e->id);
        for (uint32_t k = 0; k < e->ncontribs; k++) {
            if (e->contribs[k].day < ev->first_day || e->contribs[k].day > ev->last_day)
                differ(o, "%s contributes on day %d, outside the window", e->id, (int)e->contribs[k].day);
            /* an appealed or exempt contribution is shown but not counted as listed */
            if (!e->contribs[k].excluded) s->listed[e->contribs[k].counter] += e->contribs[k].delta;
        }
        s->entries++;
    }
    if (first) {
        s->ncounters = ev->ncounters;
        memcpy(s->counters, ev->counters, ev->ncounters * sizeof ev->counters[0]);
        s->first_day = ev->first_day;
        s->last_day = ev->last_day;
    } else if (ev->ncounters != s->ncounters ||
               memcmp(s->counters, ev->counters, ev->ncounters * sizeof ev->counters[0]) != 0) {
        differ(o, "the per-counter split differs between pages");
    }
}

/* The split against the sums over every page and the stored days. */
static void check_split(out_t *o, const scn_expect_t *x, const seen_t *s, const grading_day_counters_t *days)
{
    for (size_t i = 0; i < s->ncounters; i++) {
        const grading_evidence_counter_t *c = &s->counters[i];
        if (c->custom) {
            if (c->value_total != grading_day_counters_custom(days, c->custom))
                differ(o, "custom.%s total %g, the days say %g", c->custom, c->value_total,
                       grading_day_counters_custom(days, c->custom));
            continue;
        }
        const char *name = grading_counter_name(c->counter);
        if (c->listed != s->listed[c->counter])
            differ(o, "%s: listed %lld, the listed records add %lld", name, (long long)c->listed,
                   (long long)s->listed[c->counter]);
        if (c->total != days->c[c->counter])
            differ(o, "%s: total %lld, the days say %lld", name, (long long)c->total,
                   (long long)days->c[c->counter]);
        if (c->listed + c->unlisted != c->total)
            differ(o, "%s: listed %lld + unlisted %lld != total %lld", name, (long long)c->listed,
                   (long long)c->unlisted, (long long)c->total);
        if (x->has_unlisted && c->unlisted != x->unlisted)
            differ(o, "%s: expected unlisted %lld, got %lld (%s)", name, (long long)x->unlisted,
                   (long long)c->unlisted, c->note);
    }
}

bool scn_evidence_check(grading_store_reader_t *rd, const scn_case_t *c, const scn_expect_t *x,
                        const grading_metric_val_t *metric_val, char *msg, size_t msglen)
{
    out_t o = {msg, 0, msglen, true};
    static seen_t s;   /* large; the runner is single-threaded */
    char token[GRADING_EVIDENCE_TOKEN_MAX + 1] = "";
    grading_evidence_t *ev = NULL;
    grading_error_t e = {0};
    grading_metric_val_t value = {0};
    uint64_t mask = 0;
    msg[0] = 0;
    memset(&s, 0, sizeof s);
    grading_rules_metric_counters(c->mp->rules, x->text, &mask);
    /* bounded: each page but the last lists EVIDENCE_PAGE records */
    for (uint32_t page = 0; page <= SCN_MAX_CASE_ITEMS / EVIDENCE_PAGE + 1; page++) {
        grading_evidence_query_t q = {.seller = c->seller, .metric = x->text, .window = x->window,
                                      .as_of_ms = c->as_of_ms, .page_size = EVIDENCE_PAGE, .page_token = token};
        if (grading_evidence_list(rd, c->mp, &q, &ev, &e)) {
            differ(&o, "page %u: %s: %s: %s", page, grading_err_name(e.code), e.field, e.message);
            return false;
        }
        if (page == 0) value = ev->value;
        take_page(&o, ev, page == 0, &s);
        if (ev->next_page_token[0] && ev->nentries != EVIDENCE_PAGE)
            differ(&o, "page %u: %zu entries before the last page", page, ev->nentries);
        snprintf(token, sizeof token, "%s", ev->next_page_token);
        grading_evidence_free(ev);
        ev = NULL;
        if (!token[0]) break;
    }
    if (token[0]) differ(&o, "the pages never ended");
    /* the counters the metric reads, every one of them */
    uint64_t got = 0;
    for (size_t i = 0; i < s.ncounters; i++)
        if (!s.counters[i].custom) got |= UINT64_C(1) << s.counters[i].counter;
    if (got != mask) differ(&o, "split over counters %#llx, the metric reads %#llx", (unsigned long long)got,
                            (unsigned long long)mask);
    grading_day_counters_t days;
    grading_txn_t *txn;
    grading_day_counters_init(&days);
    grading_err_t err = grading_store_read_begin(rd, &txn);
    if (!err) {
        err = grading_store_days_sum(txn, c->mp->name, c->seller, s.first_day, s.last_day, &days);
        grading_store_read_end(rd);
    }
    if (err) differ(&o, "cannot read the days: %s", grading_err_name(err));
    else check_split(&o, x, &s, &days);
    if (x->has_entries && s.entries != x->entries)
        differ(&o, "expected %u entries, got %u", x->entries, s.entries);
    if (metric_val && (metric_val->available != value.available ||
                       (value.available && fabs(metric_val->value - value.value) > 1e-12)))
        differ(&o, "value %g (%s), the assessment says %g (%s)", value.value, value.available ? "sufficient" : "insufficient",
               metric_val->value, metric_val->available ? "sufficient" : "insufficient");
    return o.ok;
}
