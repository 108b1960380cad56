/* Evidence (evidence.h): one scan of the seller's orders and inquiries,
 * each record's contributions (counters.h) kept when they fall on the
 * window's days and on a counter the metric reads. Every record is scanned
 * on every page, so the per-counter split (listed / unlisted) is the same
 * whichever page is asked; only the page's entries are kept. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/evidence.h"
#include "grading/prune.h"

/* ---- page tokens: hex of the kind letter and the id ---- */

static const char kind_letter[] = {0, 'o', 'i'};

static void token_encode(grading_evidence_kind_t kind, const char *id, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    out[k++] = hex[(unsigned char)kind_letter[kind] >> 4];
    out[k++] = hex[(unsigned char)kind_letter[kind] & 15];
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        out[k++] = hex[*p >> 4];
        out[k++] = hex[*p & 15];
    }
    out[k] = 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* A token as (kind, id); false when it is not one this module made. */
static bool token_decode(const char *tok, grading_evidence_kind_t *kind, char id[GRADING_MAX_ID_LEN + 1])
{
    size_t len = strlen(tok);
    if (len < 4 || len % 2 || len > GRADING_EVIDENCE_TOKEN_MAX) return false;
    char buf[GRADING_MAX_ID_LEN + 2];
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_value(tok[2 * i]), lo = hex_value(tok[2 * i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
        buf[i] = (char)(hi << 4 | lo);
    }
    buf[len / 2] = 0;
    if (buf[0] == 'o') *kind = GRADING_EVIDENCE_ORDER;
    else if (buf[0] == 'i') *kind = GRADING_EVIDENCE_INQUIRY;
    else return false;
    memcpy(id, buf + 1, len / 2);
    return true;
}

/* ---- the scan ---- */

typedef struct {
    const grading_marketplace_t *mp;
    uint64_t mask;
    int32_t first, last;
    int64_t listed[GRADING_C_COUNT];
    grading_evidence_kind_t after_kind;   /* 0: from the first */
    char after_id[GRADING_MAX_ID_LEN + 1];
    grading_evidence_t *ev;
    size_t cap;
    bool more;                            /* a record after the page's last */
    grading_evidence_entry_t cur;
} scan_t;

static bool after_token(const scan_t *sc, grading_evidence_kind_t kind, const char *id)
{
    if (kind != sc->after_kind) return kind > sc->after_kind;
    return strcmp(id, sc->after_id) > 0;
}

/* Keeps the record's contributions that count in the window (those its
 * appeal/exemption mask excludes marked so, and not counted as listed: the
 * days hold them apart); lists it when it has some and falls on this page. */
static void take_one(scan_t *sc, const grading_contrib_t *k, bool excluded)
{
    grading_evidence_entry_t *c = &sc->cur;
    if (k->custom || k->delta == 0 || k->day < sc->first || k->day > sc->last) return;
    if (!(sc->mask >> k->counter & 1) || c->ncontribs == GRADING_MAX_CONTRIBS) return;
    c->contribs[c->ncontribs++] = (grading_evidence_contrib_t){k->day, k->counter, k->delta, excluded};
    if (!excluded) sc->listed[k->counter] += k->delta;
}

static grading_err_t take(scan_t *sc, const grading_contrib_t *kept, size_t nkept, const grading_contrib_t *excl,
                          size_t nexcl)
{
    grading_evidence_entry_t *c = &sc->cur;
    c->ncontribs = 0;
    for (size_t i = 0; i < nkept; i++) take_one(sc, &kept[i], false);
    for (size_t i = 0; i < nexcl; i++) take_one(sc, &excl[i], true);
    if (c->ncontribs == 0 || !after_token(sc, c->kind, c->id)) return GRADING_OK;
    if (sc->ev->nentries == sc->cap) {
        sc->more = true;
        return GRADING_OK;
    }
    sc->ev->entries[sc->ev->nentries++] = *c;
    return GRADING_OK;
}

static grading_err_t on_order(void *ctx, const char *id, const grading_order_t *o)
{
    scan_t *sc = ctx;
    grading_contrib_t k[GRADING_MAX_CONTRIBS], x[GRADING_MAX_CONTRIBS];
    size_t n = 0, nx = 0;
    grading_err_t err =
        grading_order_contribs_split(o, &sc->mp->tz, +1, k, GRADING_MAX_CONTRIBS, &n, x, GRADING_MAX_CONTRIBS, &nx);
    if (err) return err;
    memset(&sc->cur, 0, offsetof(grading_evidence_entry_t, contribs));
    sc->cur.kind = GRADING_EVIDENCE_ORDER;
    snprintf(sc->cur.id, sizeof sc->cur.id, "%s", id);
    sc->cur.order = *o;
    return take(sc, k, n, x, nx);
}

static grading_err_t on_inquiry(void *ctx, const char *id, const grading_inquiry_t *q)
{
    scan_t *sc = ctx;
    grading_contrib_t k[GRADING_MAX_CONTRIBS], x[GRADING_MAX_CONTRIBS];
    size_t n = 0, nx = 0;
    grading_err_t err =
        grading_inquiry_contribs_split(q, &sc->mp->tz, +1, k, GRADING_MAX_CONTRIBS, &n, x, GRADING_MAX_CONTRIBS, &nx);
    if (err) return err;
    memset(&sc->cur, 0, offsetof(grading_evidence_entry_t, contribs));
    sc->cur.kind = GRADING_EVIDENCE_INQUIRY;
    snprintf(sc->cur.id, sizeof sc->cur.id, "%s", id);
    sc->cur.inquiry = *q;
    return take(sc, k, n, x, nx);
}

/* ---- the per-counter split ---- */

/* Why a counter's total is not all explained by records. */
static const char *unlisted_note(grading_counter_t c, int64_t unlisted)
{
    switch (c) {
    case GRADING_C_REVIEWS: case GRADING_C_RATING_SUM: case GRADING_C_STRONGLY_RECOMMEND:
    case GRADING_C_RECOMMEND: case GRADING_C_NOT_RECOMMENDED: case GRADING_C_SHIPPING_RATINGS:
    case GRADING_C_SHIPPING_RATING_SUM: case GRADING_C_INQUIRY_RATINGS: case GRADING_C_INQUIRY_RATING_SUM:
        return "reviews keep no per-event record (only one held on an unpaid order is listed, with it)";
    case GRADING_C_DELIVERY_SATISFACTION_SUM: case GRADING_C_DELIVERY_SATISFACTION_COUNT:
        return "delivery satisfaction scores keep no per-event record (only one held on an unpaid "
               "order is listed, with it)";
    case GRADING_C_PLATFORM_REVENUE: return "platform revenue events keep no per-event record";
    case GRADING_C_ORPHANS_DROPPED: return "orders dropped unpaid are removed from the store";
    default:
        return unlisted ? "records no longer stored (dropped unpaid, or deleted by retention)" : "";
    }
}

static void split_counters(const grading_rules_t *r, const grading_metric_reads_t *reads, const scan_t *sc,
                           const grading_day_counters_t *sums, grading_evidence_t *ev)
{
    for (int c = 0; c < GRADING_C_COUNT; c++) {
        if (!(reads->counters >> c & 1)) continue;
        grading_evidence_counter_t *o = &ev->counters[ev->ncounters++];
        o->counter = (grading_counter_t)c;
        o->total = sums->c[c];
        o->listed = sc->listed[c];
        o->unlisted = o->total - o->listed;
        o->value_total = (double)o->total;
        o->note = unlisted_note(o->counter, o->unlisted);
    }
    for (size_t i = 0; i < r->ncustom; i++) {
        if (!reads->custom[i]) continue;
        grading_evidence_counter_t *o = &ev->counters[ev->ncounters++];
        o->custom = r->custom[i];
        o->value_total = grading_day_counters_custom(sums, r->custom[i]);
        o->note = "custom counter events keep no per-event record";
    }
}

/* ---- the query ---- */

/* The window asked for, else the one the metric's counters are read over. */
static grading_err_t pick_window(const grading_rules_t *r, const grading_evidence_query_t *q,
                                 const grading_metric_reads_t *reads, grading_window_t *w, grading_error_t *e)
{
    if (q->window && q->window[0]) {
        if (grading_window_parse(q->window, w))
            return grading_error_set(e, GRADING_EINVAL, "window",
                                     "\"%s\" is not a window (30d, month, prev_quarter, prev_12m, ...)", q->window);
        return GRADING_OK;
    }
    if (reads->windows == 0) return grading_window_parse(GRADING_EVIDENCE_DEFAULT_WINDOW, w);
    int only = -1;
    for (size_t i = 0; i < r->nwindows; i++) {
        if (!(reads->windows >> i & 1)) continue;
        if (only >= 0)
            return grading_error_set(e, GRADING_EINVAL, "window",
                                     "metric %s reads metrics over %s and %s: name the window", q->metric,
                                     r->windows[only].name, r->windows[i].name);
        only = (int)i;
    }
    *w = r->windows[only];
    return GRADING_OK;
}

static grading_err_t check_query(const grading_evidence_query_t *q, scan_t *sc, grading_error_t *e)
{
    sc->cap = q->page_size ? q->page_size : GRADING_EVIDENCE_DEFAULT_PAGE;
    if (sc->cap > GRADING_EVIDENCE_MAX_PAGE)
        return grading_error_set(e, GRADING_EINVAL, "page_size", "at most %d, got %u", GRADING_EVIDENCE_MAX_PAGE,
                                 q->page_size);
    if (q->page_token && q->page_token[0] && !token_decode(q->page_token, &sc->after_kind, sc->after_id))
        return grading_error_set(e, GRADING_EINVAL, "page_token", "not a token this service gave");
    return GRADING_OK;
}

/* The base counter named `name`, or -1. */
static int counter_named(const char *name)
{
    for (int c = 0; c < GRADING_C_COUNT; c++)
        if (strcmp(name, grading_counter_name((grading_counter_t)c)) == 0) return c;
    return -1;
}

/* The metric's value over the window: every window of the rules reads the
 * evidence window's sums, so the metric and those it names agree with the
 * records listed (for a metric over its own window, its live value). */
static grading_err_t metric_value(const grading_rules_t *r, const char *metric, const grading_day_counters_t *sum,
                                  grading_metric_val_t *out, grading_error_t *e)
{
    int c = counter_named(metric);
    if (c >= 0) {
        *out = (grading_metric_val_t){true, (double)sum->c[c], (double)sum->c[c], 1};
        return GRADING_OK;
    }
    grading_err_t err = GRADING_ENOMEM;
    grading_day_counters_t *sums = malloc(sizeof *sums * (r->nwindows ? r->nwindows : 1));
    grading_assessment_t *a = malloc(sizeof *a);
    if (!sums || !a) {
        grading_error_set(e, err, "", "out of memory");
        goto done;
    }
    for (size_t w = 0; w < r->nwindows; w++) sums[w] = *sum;
    if ((err = grading_rules_assess(r, sums, a, e))) goto done;
    for (size_t i = 0; i < r->nmetrics; i++)
        if (strcmp(r->metrics[i].name, metric) == 0) *out = a->metrics[i];
done:
    free(sums);
    free(a);
    return err;
}

grading_err_t grading_evidence_list(grading_store_reader_t *rd, const grading_marketplace_t *mp,
                                    const grading_evidence_query_t *q, grading_evidence_t **out,
                                    grading_error_t *e)
{
    const grading_rules_t *r = mp->rules;
    bool reading = false;
    grading_txn_t *txn = NULL;
    grading_err_t err;
    grading_metric_reads_t reads;
    grading_day_counters_t sum;
    scan_t *sc = calloc(1, sizeof *sc);
    grading_evidence_t *ev = calloc(1, sizeof *ev);
    if (!sc || !ev) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    if (grading_rules_metric_reads(r, q->metric, &reads)) {
        err = grading_error_set(e, GRADING_EINVAL, "metric", "no metric or base counter named \"%s\" in %s's policy",
                                q->metric, mp->name);
        goto fail;
    }
    if ((err = pick_window(r, q, &reads, &ev->window, e)) || (err = check_query(q, sc, e))) goto fail;
    if (!(ev->entries = calloc(sc->cap, sizeof *ev->entries))) {
        err = grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    grading_window_range(&ev->window, grading_tz_day(&mp->tz, q->as_of_ms), &ev->first_day, &ev->last_day);
    ev->is_counter = counter_named(q->metric) >= 0;
    sc->mp = mp;
    sc->mask = reads.counters;
    sc->first = ev->first_day;
    sc->last = ev->last_day;
    sc->ev = ev;
    if ((err = grading_store_read_begin(rd, &txn))) {
        grading_error_set(e, err, "", "cannot read the store");
        goto fail;
    }
    reading = true;
    /* a window reaching past retention would count records without their days */
    if ((err = grading_retention_check(txn, mp, q->as_of_ms, e)) ||
        (err = grading_retention_check_day(txn, mp, ev->first_day, q->window && q->window[0] ? "window" : "as_of",
                                           e)))
        goto fail;
    int32_t first_stored;
    bool found = false;
    if ((err = grading_store_first_day(txn, mp->name, q->seller, &first_stored, &found))) {
        grading_error_set(e, err, "seller_id", "cannot read the seller's counters");
        goto fail;
    }
    if (!found) {
        err = grading_error_set(e, GRADING_ENOTFOUND, "seller_id", "no seller \"%s\" in %s", q->seller, mp->name);
        goto fail;
    }
    grading_day_counters_init(&sum);
    if ((err = grading_store_days_sum(txn, mp->name, q->seller, ev->first_day, ev->last_day, &sum)) ||
        (err = grading_store_orders_foreach(txn, mp->name, q->seller, on_order, sc)) ||
        (err = grading_store_inquiries_foreach(txn, mp->name, q->seller, on_inquiry, sc))) {
        grading_error_set(e, err, "seller_id", "cannot read the seller's records");
        goto fail;
    }
    grading_store_read_end(rd);
    reading = false;
    if ((err = metric_value(r, q->metric, &sum, &ev->value, e))) goto fail;
    split_counters(r, &reads, sc, &sum, ev);
    if (sc->more) {
        const grading_evidence_entry_t *last = &ev->entries[ev->nentries - 1];
        token_encode(last->kind, last->id, ev->next_page_token);
    }
    free(sc);
    *out = ev;
    return GRADING_OK;
fail:
    if (reading) grading_store_read_end(rd);
    free(sc);
    grading_evidence_free(ev);
    return err;
}

void grading_evidence_free(grading_evidence_t *ev)
{
    if (!ev) return;
    free(ev->entries);
    free(ev);
}
