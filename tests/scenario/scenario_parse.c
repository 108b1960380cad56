/* Reading a scenario file (format: top of run_scenarios.c) into the model
 * of scenario.h, with libyaml's document API (aliases resolved for free,
 * so a file may define a generator once with &name and reuse it with
 * *name).
 *
 * Everything is checked before any case runs: unknown or duplicate keys,
 * values of the wrong shape, names the policy does not define, counts
 * beyond the bounds. The first problem stops the load and is reported as
 * "file:line: reason", so a typo in a scenario can never pass silently as
 * an expectation that checks nothing. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "grading/appeal.h"
#include "grading/exemption.h"
#include "grading/forecast.h"
#include "scenario.h"

#define HOUR_MS INT64_C(3600000)
/* Default offsets (hours after paid) of stages a generator only names. */
#define DEFAULT_SHIPPED_AFTER_H 24
#define DEFAULT_CANCELLED_AFTER_H 1
#define DEFAULT_AFTERCARE_AFTER_H 168   /* returned, exchanged, non-receipt */

typedef struct {
    const char *path;
    yaml_document_t doc;
    char *msg;
    size_t msglen;
    const grading_policy_t *policy;
} px_t;

static bool fail_at(px_t *p, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the problem with the node's line; always returns false. */
static bool fail_at(px_t *p, const yaml_node_t *n, const char *fmt, ...)
{
    char what[SCN_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->msg, p->msglen, "%s:%lu: %s", p->path,
             n ? (unsigned long)n->start_mark.line + 1 : 1ul, what);
    return false;
}

static yaml_node_t *node(px_t *p, int id)
{
    return yaml_document_get_node(&p->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* ---- mappings ---- */

static bool want_map(px_t *p, yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_MAPPING_NODE) return fail_at(p, n, "%s must be a mapping", what);
    return true;
}

static bool want_seq(px_t *p, yaml_node_t *n, const char *what)
{
    if (!n || n->type != YAML_SEQUENCE_NODE) return fail_at(p, n, "%s must be a list", what);
    return true;
}

/* Every key a plain scalar from `allowed`, none twice. */
static bool check_keys(px_t *p, yaml_node_t *m, const char *what, const char *const *allowed)
{
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        yaml_node_t *k = node(p, a->key);
        const char *ks = scalar(k);
        if (!ks) return fail_at(p, k, "%s: keys must be words", what);
        for (yaml_node_pair_t *b = m->data.mapping.pairs.start; b < a; b++)
            if (scalar(node(p, b->key)) && strcmp(scalar(node(p, b->key)), ks) == 0)
                return fail_at(p, k, "%s: duplicate key \"%s\"", what, ks);
        if (!allowed) continue;
        bool ok = false;
        for (const char *const *w = allowed; *w && !ok; w++) ok = strcmp(*w, ks) == 0;
        if (!ok) {
            char list[512] = "";
            size_t len = 0;
            for (const char *const *w = allowed; *w && len < sizeof list; w++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                        w == allowed ? "" : ", ", *w);
            return fail_at(p, k, "%s: unknown key \"%s\" (expected one of: %s)", what, ks, list);
        }
    }
    return true;
}

static yaml_node_t *get(px_t *p, yaml_node_t *m, const char *key)
{
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        const char *ks = scalar(node(p, a->key));
        if (ks && strcmp(ks, key) == 0) return node(p, a->value);
    }
    return NULL;
}

/* ---- scalars ---- */

/* A number: digits may be grouped with '_' (100_000_000); a trailing '%'
 * divides by 100 (0.49% is 0.0049). */
static bool number_of(px_t *p, yaml_node_t *n, const char *what, double *out)
{
    const char *s = scalar(n);
    char buf[80];
    size_t len = 0;
    bool percent = false;
    /* Defined on every path, so no caller reads garbage after an error. */
    *out = 0;
    if (!s || !*s) return fail_at(p, n, "%s must be a number", what);
    for (const char *c = s; *c; c++) {
        if (*c == '_') continue;
        if (*c == '%' && c[1] == '\0' && c != s) {
            percent = true;
            break;
        }
        if (len + 1 >= sizeof buf) return fail_at(p, n, "%s: number too long", what);
        buf[len++] = *c;
    }
    buf[len] = '\0';
    char *end = NULL;
    errno = 0;
    double d = len ? strtod(buf, &end) : 0;
    if (!len || *end || errno == ERANGE || !isfinite(d) ||
        strspn(buf, "+-0123456789.") != len)
        return fail_at(p, n, "%s must be a number, got \"%s\"", what, s);
    *out = percent ? d / 100 : d;
    return true;
}

static bool int_of(px_t *p, yaml_node_t *n, const char *what, int64_t lo, int64_t hi,
                   int64_t *out)
{
    double d;
    *out = 0;   /* defined on every path, as number_of's */
    if (!number_of(p, n, what, &d)) return false;
    /* Within ±2^53 a double holds every whole number exactly. */
    if (d != floor(d) || d < (double)lo || d > (double)hi || fabs(d) > 9007199254740992.0)
        return fail_at(p, n, "%s must be a whole number in %lld..%lld, got \"%s\"", what,
                       (long long)lo, (long long)hi, scalar(n));
    *out = (int64_t)d;
    return true;
}

static bool u32_of(px_t *p, yaml_node_t *n, const char *what, uint32_t lo, uint32_t hi,
                   uint32_t *out)
{
    int64_t v;
    if (!int_of(p, n, what, lo, hi, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

static bool bool_of(px_t *p, yaml_node_t *n, const char *what, bool *out)
{
    const char *s = scalar(n);
    if (s && strcmp(s, "true") == 0) *out = true;
    else if (s && strcmp(s, "false") == 0) *out = false;
    else return fail_at(p, n, "%s must be true or false", what);
    return true;
}

/* Hours (may be fractional, never negative) as ms. */
static bool hours_of(px_t *p, yaml_node_t *n, const char *what, int64_t *out_ms)
{
    double h;
    if (!number_of(p, n, what, &h)) return false;
    if (h < 0 || h > 24.0 * 366 * 10)
        return fail_at(p, n, "%s must be 0..87840 hours, got \"%s\"", what, scalar(n));
    *out_ms = llround(h * (double)HOUR_MS);
    return true;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool scn_parse_time(const char *s, int64_t *out_ms)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    if (!s || strlen(s) < 20) return false;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':' || y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || se < 0 || se > 59)
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap)) return false;
    const char *c = s + 19;
    int64_t frac_ms = 0;
    if (*c == '.') {
        int nd = 0;
        for (c++; *c >= '0' && *c <= '9'; c++, nd++)
            if (nd < 3) frac_ms = frac_ms * 10 + (*c - '0');
        if (nd == 0) return false;
        for (; nd < 3; nd++) frac_ms *= 10;
    }
    int64_t off_s;
    if ((*c == 'Z' || *c == 'z') && c[1] == '\0') {
        off_s = 0;
    } else if ((*c == '+' || *c == '-') && strlen(c) == 6 && c[3] == ':') {
        int oh = digits(c + 1, 2), om = digits(c + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
        off_s = (oh * 3600 + om * 60) * (*c == '-' ? -1 : 1);
    } else {
        return false;
    }
    int64_t days = grading_days_from_civil(y, (uint32_t)mo, (uint32_t)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - off_s;
    *out_ms = secs * 1000 + frac_ms;
    return true;
}

static bool time_of(px_t *p, yaml_node_t *n, const char *what, int64_t *out)
{
    const char *s = scalar(n);
    if (!s || !scn_parse_time(s, out))
        return fail_at(p, n, "%s must be an RFC 3339 time with an offset like "
                             "2026-11-01T00:00:00+09:00, got \"%s\"",
                       what, s ? s : "(not a scalar)");
    if (*out < GRADING_MIN_TIME_MS || *out >= GRADING_MAX_TIME_MS)
        return fail_at(p, n, "%s must be between 2000-01-01 and 2100-01-01", what);
    return true;
}

bool scn_shift_months(const grading_tz_t *tz, int64_t ms, uint32_t k, int64_t *out_ms)
{
    int32_t day = grading_tz_day(tz, ms), y;
    uint32_t m, d;
    int64_t time_of_day = ms - grading_tz_day_start_ms(tz, day);
    grading_civil_from_days(day, &y, &m, &d);
    if (d > 28) return false;
    uint32_t m0 = (m - 1) + k;
    y += (int32_t)(m0 / 12);
    m = m0 % 12 + 1;
    *out_ms = grading_tz_day_start_ms(tz, grading_days_from_civil(y, m, d)) + time_of_day;
    return true;
}

/* `months: N` of a generator: it repeats N calendar months from its first
 * time t (N = 1: once). The local day of t must exist in every month and
 * the last time stay in range. */
static bool months_of(px_t *p, yaml_node_t *m, const grading_tz_t *tz, const char *what,
                      int64_t t, uint32_t *out)
{
    yaml_node_t *n = get(p, m, "months");
    int64_t last;
    *out = 1;
    if (!n) return true;
    if (!u32_of(p, n, "months", 1, SCN_MAX_MONTHS, out)) return false;
    if (*out > 1 && !scn_shift_months(tz, t, *out - 1, &last))
        return fail_at(p, n, "months: %s must fall on a local day 1..28 (every month has it)", what);
    if (*out > 1 && last >= GRADING_MAX_TIME_MS)
        return fail_at(p, n, "months: the last repetition falls after 2100-01-01");
    return true;
}

/* A lower-case word from words[] (index 0 is "unset"): its index. */
static bool word_of(px_t *p, yaml_node_t *n, const char *what, const char *const *words,
                    int32_t *out)
{
    const char *s = scalar(n);
    for (int32_t i = 1; s && words[i]; i++) {
        if (strcmp(s, words[i]) == 0) {
            *out = i;
            return true;
        }
    }
    char list[256] = "";
    size_t len = 0;
    for (int i = 1; words[i] && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i == 1 ? "" : ", ",
                                words[i]);
    return fail_at(p, n, "%s must be one of %s, got \"%s\"", what, list, s ? s : "(not a scalar)");
}

static bool text_of(px_t *p, yaml_node_t *n, const char *what, char *out, size_t cap)
{
    const char *s = scalar(n);
    if (!s) return fail_at(p, n, "%s must be a string", what);
    if (strlen(s) >= cap) return fail_at(p, n, "%s is longer than %zu bytes", what, cap - 1);
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/* The words of event enums, indexed by the grading_*_t values. */
static const char *const fault_words[] = {"", "seller", "buyer", "platform", NULL};
static const char *const reason_words[] = {"", "out_of_stock", "shipping_delay", "buyer_request",
                                           "other", NULL};
static const char *const rec_words[] = {"", "strongly_recommend", "recommend", "not_recommended",
                                        NULL};

/* ---- generators ---- */

static bool count_of(px_t *p, yaml_node_t *m, uint32_t *out)
{
    yaml_node_t *n = get(p, m, "count");
    *out = 1;
    return !n || u32_of(p, n, "count", 0, SCN_MAX_COUNT, out);
}

/* `returned: seller` or `returned: {fault: seller, after_hours: 100}`. */
static bool aftercare_of(px_t *p, yaml_node_t *n, const char *what, int32_t *fault,
                         int64_t *after_ms)
{
    static const char *const keys[] = {"fault", "after_hours", NULL};
    *after_ms = DEFAULT_AFTERCARE_AFTER_H * HOUR_MS;
    if (scalar(n)) return word_of(p, n, what, fault_words, fault);
    if (!want_map(p, n, what) || !check_keys(p, n, what, keys)) return false;
    yaml_node_t *f = get(p, n, "fault"), *a = get(p, n, "after_hours");
    if (!f) return fail_at(p, n, "%s needs a fault (seller, buyer or platform)", what);
    return word_of(p, f, "fault", fault_words, fault) && (!a || hours_of(p, a, "after_hours", after_ms));
}

/* A stage given as an absolute time (`shipped_at`, `delivered_at`,
 * `cancelled.at`) instead of hours after paid: kept as the offset from
 * paid, which must not be negative. One fixed time cannot repeat with
 * `months`. */
static bool at_of(px_t *p, yaml_node_t *n, const char *what, const scn_orders_t *o,
                  int64_t *after_ms)
{
    int64_t at;
    if (!time_of(p, n, what, &at)) return false;
    if (o->months > 1)
        return fail_at(p, n, "orders: %s is one time; it cannot repeat with months (use hours "
                             "after paid)", what);
    if (at < o->paid_ms) return fail_at(p, n, "orders: %s is before paid", what);
    *after_ms = at - o->paid_ms;
    return true;
}

/* issue 15: `appealed: METRIC`, `appeal_times: N` (default 1), `restored: true`. */
static bool appeal_of(px_t *p, yaml_node_t *m, scn_orders_t *o)
{
    yaml_node_t *n;
    o->appeal_times = 1;
    if ((n = get(p, m, "appealed")) && !text_of(p, n, "appealed", o->appealed, sizeof o->appealed)) return false;
    if ((n = get(p, m, "appeal_times")) && !u32_of(p, n, "appeal_times", 1, 8, &o->appeal_times)) return false;
    if ((n = get(p, m, "restored")) && !bool_of(p, n, "restored", &o->restored)) return false;
    if (!o->appealed[0] && (get(p, m, "appeal_times") || get(p, m, "restored")))
        return fail_at(p, m, "orders: appeal_times and restored need appealed (a metric)");
    return true;
}

static bool orders_of(px_t *p, yaml_node_t *m, const grading_tz_t *tz, scn_orders_t *o)
{
    static const char *const keys[] = {
        "count", "months", "paid", "amount", "ship_within_days", "reserved_ship_date", "product_id",
        "overseas", "shipped_after_hours", "shipped_at", "unshipped", "tracking_valid",
        "delivered_after_hours", "delivered_at", "auto_completed", "cancelled", "returned",
        "exchanged", "non_receipt", "review", "satisfaction", "appealed", "appeal_times", "restored", NULL};
    yaml_node_t *n;
    memset(o, 0, sizeof *o);
    o->line = (int)m->start_mark.line + 1;
    if (!want_map(p, m, "an orders item") || !check_keys(p, m, "orders", keys)) return false;
    if (!count_of(p, m, &o->count)) return false;
    if (!(n = get(p, m, "paid"))) return fail_at(p, m, "orders: paid (a time) is required");
    if (!time_of(p, n, "paid", &o->paid_ms) || !months_of(p, m, tz, "paid", o->paid_ms, &o->months))
        return false;
    if ((n = get(p, m, "amount")) && !int_of(p, n, "amount", 0, GRADING_MAX_AMOUNT, &o->amount))
        return false;
    if ((n = get(p, m, "ship_within_days")) &&
        !u32_of(p, n, "ship_within_days", 0, 365, &o->ship_within_days))
        return false;
    if ((n = get(p, m, "reserved_ship_date")) &&
        !time_of(p, n, "reserved_ship_date", &o->reserved_ship_ms))
        return false;
    if (n && o->months > 1)
        return fail_at(p, n, "orders: reserved_ship_date is one date; it cannot repeat with months");
    if (!appeal_of(p, m, o)) return false;
    snprintf(o->product_id, sizeof o->product_id, "p1");
    if ((n = get(p, m, "product_id")) &&
        !text_of(p, n, "product_id", o->product_id, sizeof o->product_id))
        return false;
    if ((n = get(p, m, "overseas")) && !bool_of(p, n, "overseas", &o->overseas)) return false;

    if ((n = get(p, m, "cancelled"))) {
        static const char *const ckeys[] = {"fault", "reason", "after_hours", "at", NULL};
        if (!want_map(p, n, "cancelled") || !check_keys(p, n, "cancelled", ckeys)) return false;
        yaml_node_t *f = get(p, n, "fault"), *r = get(p, n, "reason"), *a = get(p, n, "after_hours");
        yaml_node_t *at = get(p, n, "at");
        if (!f || !r) return fail_at(p, n, "cancelled needs a fault and a reason");
        if (a && at) return fail_at(p, at, "cancelled: after_hours and at exclude each other");
        o->cancelled = true;
        o->cancelled_after_ms = DEFAULT_CANCELLED_AFTER_H * HOUR_MS;
        if (!word_of(p, f, "cancelled.fault", fault_words, &o->cancel_fault) ||
            !word_of(p, r, "cancelled.reason", reason_words, &o->cancel_reason) ||
            (a && !hours_of(p, a, "cancelled.after_hours", &o->cancelled_after_ms)) ||
            (at && !at_of(p, at, "cancelled.at", o, &o->cancelled_after_ms)))
            return false;
    }
    /* Shipped by default, 24 h after payment; a cancelled order only when
     * shipped_after_hours or shipped_at says so (cancelled before it shipped). */
    bool unshipped = false;
    yaml_node_t *sa = get(p, m, "shipped_after_hours"), *st = get(p, m, "shipped_at");
    if ((n = get(p, m, "unshipped")) && !bool_of(p, n, "unshipped", &unshipped)) return false;
    if (unshipped && (sa || st))
        return fail_at(p, n, "orders: unshipped and %s exclude each other",
                       sa ? "shipped_after_hours" : "shipped_at");
    if (sa && st) return fail_at(p, st, "orders: shipped_after_hours and shipped_at exclude each other");
    o->shipped = sa || st || (!unshipped && !o->cancelled);
    o->shipped_after_ms = DEFAULT_SHIPPED_AFTER_H * HOUR_MS;
    if (sa && !hours_of(p, sa, "shipped_after_hours", &o->shipped_after_ms)) return false;
    if (st && !at_of(p, st, "shipped_at", o, &o->shipped_after_ms)) return false;
    o->tracking_valid = true;
    if ((n = get(p, m, "tracking_valid")) && !bool_of(p, n, "tracking_valid", &o->tracking_valid))
        return false;
    yaml_node_t *da = get(p, m, "delivered_after_hours"), *dt = get(p, m, "delivered_at");
    if (da && dt) return fail_at(p, dt, "orders: delivered_after_hours and delivered_at exclude each other");
    o->delivered = da || dt;
    if (da && !hours_of(p, da, "delivered_after_hours", &o->delivered_after_ms)) return false;
    if (dt && !at_of(p, dt, "delivered_at", o, &o->delivered_after_ms)) return false;
    if ((n = get(p, m, "auto_completed"))) {
        if (!bool_of(p, n, "auto_completed", &o->auto_completed)) return false;
        if (!o->delivered)
            return fail_at(p, n, "auto_completed needs delivered_after_hours or delivered_at");
    }
    if ((n = get(p, m, "returned"))) {
        o->returned = true;
        if (!aftercare_of(p, n, "returned", &o->return_fault, &o->returned_after_ms)) return false;
    }
    if ((n = get(p, m, "exchanged"))) {
        o->exchanged = true;
        if (!aftercare_of(p, n, "exchanged", &o->exchange_fault, &o->exchanged_after_ms))
            return false;
    }
    if ((n = get(p, m, "non_receipt"))) {
        static const char *const nkeys[] = {"after_hours", NULL};
        o->non_receipt_after_ms = DEFAULT_AFTERCARE_AFTER_H * HOUR_MS;
        if (scalar(n)) {
            if (!bool_of(p, n, "non_receipt", &o->non_receipt)) return false;
        } else {
            o->non_receipt = true;
            if (!want_map(p, n, "non_receipt") || !check_keys(p, n, "non_receipt", nkeys))
                return false;
            yaml_node_t *a = get(p, n, "after_hours");
            if (a && !hours_of(p, a, "non_receipt.after_hours", &o->non_receipt_after_ms))
                return false;
        }
    }
    if ((n = get(p, m, "review"))) {
        static const char *const rkeys[] = {"rating", "recommendation", "shipping_rating", "inquiry_rating", NULL};
        if (!want_map(p, n, "review") || !check_keys(p, n, "review", rkeys)) return false;
        yaml_node_t *r = get(p, n, "rating"), *c = get(p, n, "recommendation");
        if (!r) return fail_at(p, n, "review needs a rating (1..5)");
        o->review = true;
        if (!u32_of(p, r, "review.rating", 1, 5, &o->rating) ||
            (c && !word_of(p, c, "review.recommendation", rec_words, &o->recommendation)))
            return false;
        /* per-aspect ratings (11st): 1..5, absent = not rated */
        yaml_node_t *sr = get(p, n, "shipping_rating"), *ir = get(p, n, "inquiry_rating");
        if ((sr && !u32_of(p, sr, "review.shipping_rating", 1, 5, &o->shipping_rating)) ||
            (ir && !u32_of(p, ir, "review.inquiry_rating", 1, 5, &o->inquiry_rating)))
            return false;
    }
    if ((n = get(p, m, "satisfaction"))) {
        o->satisfaction = true;
        if (!u32_of(p, n, "satisfaction", 0, 100, &o->satisfaction_score)) return false;
    }
    return true;
}

static bool inquiries_of(px_t *p, yaml_node_t *m, const grading_tz_t *tz, scn_inquiries_t *q)
{
    static const char *const keys[] = {"count", "months", "received", "answered_after_hours",
                                       "unanswered", NULL};
    yaml_node_t *n, *a;
    memset(q, 0, sizeof *q);
    q->line = (int)m->start_mark.line + 1;
    if (!want_map(p, m, "an inquiries item") || !check_keys(p, m, "inquiries", keys)) return false;
    if (!count_of(p, m, &q->count)) return false;
    if (!(n = get(p, m, "received"))) return fail_at(p, m, "inquiries: received (a time) is required");
    if (!time_of(p, n, "received", &q->received_ms) ||
        !months_of(p, m, tz, "received", q->received_ms, &q->months))
        return false;
    bool unanswered = false;
    a = get(p, m, "answered_after_hours");
    if ((n = get(p, m, "unanswered")) && !bool_of(p, n, "unanswered", &unanswered)) return false;
    if (!a == !unanswered)
        return fail_at(p, m, "inquiries: say exactly one of answered_after_hours: H or unanswered: true");
    q->answered = a != NULL;
    return !a || hours_of(p, a, "answered_after_hours", &q->answered_after_ms);
}

static bool simple_of(px_t *p, yaml_node_t *m, const grading_tz_t *tz, bool custom, scn_simple_t *s)
{
    static const char *const rkeys[] = {"count", "months", "at", "amount", NULL};
    static const char *const ckeys[] = {"count", "months", "at", "name", "value", NULL};
    const char *what = custom ? "custom" : "revenue";
    yaml_node_t *n;
    memset(s, 0, sizeof *s);
    s->line = (int)m->start_mark.line + 1;
    if (!want_map(p, m, custom ? "a custom item" : "a revenue item") ||
        !check_keys(p, m, what, custom ? ckeys : rkeys) || !count_of(p, m, &s->count))
        return false;
    if (!(n = get(p, m, "at"))) return fail_at(p, m, "%s: at (a time) is required", what);
    if (!time_of(p, n, "at", &s->at_ms) || !months_of(p, m, tz, "at", s->at_ms, &s->months))
        return false;
    if (!custom) {
        if (!(n = get(p, m, "amount"))) return fail_at(p, m, "revenue: amount is required");
        return int_of(p, n, "amount", 0, GRADING_MAX_AMOUNT, &s->amount);
    }
    if (!(n = get(p, m, "name"))) return fail_at(p, m, "custom: name is required");
    if (!text_of(p, n, "name", s->name, sizeof s->name)) return false;
    if (!(n = get(p, m, "value"))) return fail_at(p, m, "custom: value is required");
    return number_of(p, n, "value", &s->value);
}

/* Parses the list `seq` into a new array of `size`-byte items. */
static bool list_of(px_t *p, yaml_node_t *seq, const char *what, size_t size, void **out,
                    size_t *n, bool (*one)(px_t *, yaml_node_t *, void *, void *), void *ctx)
{
    if (!want_seq(p, seq, what)) return false;
    size_t cnt = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    *out = cnt ? calloc(cnt, size) : NULL;
    if (cnt && !*out) return fail_at(p, seq, "out of memory");
    *n = cnt;
    for (size_t i = 0; i < cnt; i++)
        if (!one(p, node(p, seq->data.sequence.items.start[i]), (char *)*out + i * size, ctx))
            return false;
    return true;
}

/* What a generator needs besides its node: the case's time zone (for
 * `months`) and, for simple events, whether they are custom ones. */
typedef struct {
    const grading_tz_t *tz;
    bool custom;
} gen_ctx_t;

static bool one_order(px_t *p, yaml_node_t *n, void *item, void *ctx)
{
    return orders_of(p, n, ((gen_ctx_t *)ctx)->tz, item);
}

static bool one_inquiry(px_t *p, yaml_node_t *n, void *item, void *ctx)
{
    return inquiries_of(p, n, ((gen_ctx_t *)ctx)->tz, item);
}

static bool one_simple(px_t *p, yaml_node_t *n, void *item, void *ctx)
{
    const gen_ctx_t *g = ctx;
    return simple_of(p, n, g->tz, g->custom, item);
}

/* The generators of mapping m (orders, inquiries, revenue, custom) into ev. */
static bool events_of(px_t *p, yaml_node_t *m, const grading_tz_t *tz, scn_events_t *ev)
{
    gen_ctx_t plain = {tz, false}, custom = {tz, true};
    yaml_node_t *n;
    if ((n = get(p, m, "orders")) &&
        !list_of(p, n, "orders", sizeof *ev->orders, (void **)&ev->orders, &ev->norders, one_order,
                 &plain))
        return false;
    if ((n = get(p, m, "inquiries")) &&
        !list_of(p, n, "inquiries", sizeof *ev->inquiries, (void **)&ev->inquiries, &ev->ninquiries,
                 one_inquiry, &plain))
        return false;
    if ((n = get(p, m, "revenue")) &&
        !list_of(p, n, "revenue", sizeof *ev->revenue, (void **)&ev->revenue, &ev->nrevenue,
                 one_simple, &plain))
        return false;
    if ((n = get(p, m, "custom")) &&
        !list_of(p, n, "custom", sizeof *ev->custom, (void **)&ev->custom, &ev->ncustom, one_simple,
                 &custom))
        return false;
    return true;
}

/* The items (events' sources) ev generates, months included. */
static uint64_t events_items(const scn_events_t *ev)
{
    uint64_t items = 0;
    for (size_t i = 0; i < ev->norders; i++) items += (uint64_t)ev->orders[i].count * ev->orders[i].months;
    for (size_t i = 0; i < ev->ninquiries; i++)
        items += (uint64_t)ev->inquiries[i].count * ev->inquiries[i].months;
    for (size_t i = 0; i < ev->nrevenue; i++) items += (uint64_t)ev->revenue[i].count * ev->revenue[i].months;
    for (size_t i = 0; i < ev->ncustom; i++) items += (uint64_t)ev->custom[i].count * ev->custom[i].months;
    return items;
}

static void events_destroy(scn_events_t *ev)
{
    free(ev->orders);
    free(ev->inquiries);
    free(ev->revenue);
    free(ev->custom);
    memset(ev, 0, sizeof *ev);
}

/* ---- expectations ---- */

static scn_expect_t *expect_add(px_t *p, scn_case_t *c, yaml_node_t *n, scn_expect_kind_t kind,
                                size_t index)
{
    scn_expect_t *x = realloc(c->expect, (c->nexpect + 1) * sizeof *x);
    if (!x) {
        fail_at(p, n, "out of memory");
        return NULL;
    }
    c->expect = x;
    x = &c->expect[c->nexpect++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->line = (int)n->start_mark.line + 1;
    x->index = index;
    x->available = true;
    return x;
}

/* Index of name among the policy's metrics, scores, programmes, ladders
 * or history items. */
typedef enum { NAMES_METRICS, NAMES_SCORES, NAMES_PROGRAMS, NAMES_LADDERS, NAMES_HISTORY } names_t;

static bool find_name(px_t *p, const grading_rules_t *r, names_t which, yaml_node_t *k,
                      size_t *out)
{
    const char *s = scalar(k);
    static const char *const what[] = {"metric", "score", "programme", "penalty ladder",
                                       "history item"};
    size_t n = which == NAMES_METRICS ? r->nmetrics
             : which == NAMES_SCORES ? r->nscores
             : which == NAMES_PROGRAMS ? r->nprograms
             : which == NAMES_LADDERS ? r->nladders
                                      : r->nhistory;
    *out = n;   /* no valid index until found; defined on every path */
    for (size_t i = 0; s && i < n; i++) {
        const char *name = which == NAMES_METRICS ? r->metrics[i].name
                         : which == NAMES_SCORES ? r->scores[i].name
                         : which == NAMES_PROGRAMS ? r->programs[i].name
                         : which == NAMES_LADDERS ? r->ladders[i].name
                                                  : r->history[i].name;
        if (strcmp(name, s) == 0) {
            *out = i;
            return true;
        }
    }
    return fail_at(p, k, "the policy has no %s named \"%s\"", what[which], s ? s : "");
}

/* A number, or `word` for "not enough data / unavailable". */
static bool number_or(px_t *p, yaml_node_t *n, const char *what, const char *word,
                      scn_expect_t *x)
{
    const char *s = scalar(n);
    if (s && strcmp(s, word) == 0) {
        x->available = false;
        return true;
    }
    return number_of(p, n, what, &x->number);
}

/* evidence: {METRIC: {window: W, entries: N, unlisted: N}}: what
 * ListMetricEvents lists for a policy metric or a base counter. */
static bool x_evidence(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    static const char *const keys[] = {"window", "entries", "unlisted", NULL};
    uint64_t mask;
    grading_window_t w;
    yaml_node_t *n;
    scn_expect_t *x;
    (void)s;
    if (!scalar(k) || grading_rules_metric_counters(c->mp->rules, scalar(k), &mask))
        return fail_at(p, k, "the policy has no metric or base counter named \"%s\"", scalar(k) ? scalar(k) : "");
    if (!want_map(p, v, "an evidence item") || !check_keys(p, v, "evidence", keys) ||
        !(x = expect_add(p, c, k, SCN_X_EVIDENCE, 0)) || !text_of(p, k, "evidence", x->text, sizeof x->text))
        return false;
    if ((n = get(p, v, "window")) &&
        (!text_of(p, n, "evidence.window", x->window, sizeof x->window) || grading_window_parse(x->window, &w)))
        return fail_at(p, n, "evidence.window: not a window (30d, month, prev_quarter, ...)");
    if ((n = get(p, v, "entries")) &&
        !(x->has_entries = u32_of(p, n, "evidence.entries", 0, SCN_MAX_CASE_ITEMS, &x->entries)))
        return false;
    if ((n = get(p, v, "unlisted")) &&
        !(x->has_unlisted = int_of(p, n, "evidence.unlisted", INT32_MIN, INT32_MAX, &x->unlisted)))
        return false;
    if (!x->has_entries && !x->has_unlisted)
        return fail_at(p, v, "evidence: say entries, unlisted or both (the sums are always checked)");
    return true;
}

/* Calls fn for each (key, value) of the mapping expect.<section>. */
static bool each_pair(px_t *p, yaml_node_t *m, const char *section,
                      bool (*fn)(px_t *, scn_case_t *, yaml_node_t *, yaml_node_t *, const char *),
                      scn_case_t *c)
{
    if (!want_map(p, m, section) || !check_keys(p, m, section, NULL)) return false;
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++)
        if (!fn(p, c, node(p, a->key), node(p, a->value), section)) return false;
    return true;
}

static bool x_metric(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    size_t i;
    scn_expect_t *x;
    (void)s;
    return find_name(p, c->mp->rules, NAMES_METRICS, k, &i) &&
           (x = expect_add(p, c, k, SCN_X_METRIC, i)) &&
           number_or(p, v, scalar(k), "insufficient", x);
}

static bool x_score(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    size_t i;
    scn_expect_t *x;
    (void)s;
    if (!find_name(p, c->mp->rules, NAMES_SCORES, k, &i) ||
        !(x = expect_add(p, c, k, SCN_X_SCORE, i)))
        return false;
    if (c->mp->rules->scores[i].type == GRADING_EXPR_NUMBER)
        return number_or(p, v, scalar(k), "unavailable", x);
    if (!text_of(p, v, scalar(k), x->text, sizeof x->text)) return false;
    x->available = strcmp(x->text, "unavailable") != 0;
    /* A verdict the score can never give is a typo ("Fit" for "fit"). */
    const grading_score_def_t *d = &c->mp->rules->scores[i];
    bool known = !x->available || (d->has_insufficient && d->insufficient.string &&
                                   strcmp(d->insufficient.string, x->text) == 0);
    for (size_t b = 0; b < d->nbands && !known; b++)
        known = d->bands[b].value.string && strcmp(d->bands[b].value.string, x->text) == 0;
    if (!known) return fail_at(p, v, "score %s never gives the verdict \"%s\"", d->name, x->text);
    return true;
}

static bool x_program(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    size_t i;
    scn_expect_t *x;
    if (!find_name(p, c->mp->rules, NAMES_PROGRAMS, k, &i)) return false;
    const grading_program_def_t *pd = &c->mp->rules->programs[i];
    if (strcmp(s, "grades") == 0) {
        int64_t level;
        if (!(x = expect_add(p, c, k, SCN_X_GRADE, i)) ||
            !int_of(p, v, "a level", 0, 1000, &level))
            return false;
        x->number = (double)level;
        for (size_t l = 0; l < pd->nlevels; l++)
            if (pd->levels[l] == level) return true;
        return fail_at(p, v, "programme %s has no level %lld", pd->name, (long long)level);
    }
    if (strcmp(s, "labels") == 0) {
        if (!(x = expect_add(p, c, k, SCN_X_LABEL, i)) ||
            !text_of(p, v, "a label", x->text, sizeof x->text))
            return false;
        for (size_t l = 0; l < pd->nlevels; l++)
            if (pd->labels[l] && strcmp(pd->labels[l], x->text) == 0) return true;
        return fail_at(p, v, "programme %s has no label \"%s\"", pd->name, x->text);
    }
    if (strcmp(s, "published") == 0) {
        int64_t level;
        if (!(x = expect_add(p, c, k, SCN_X_PUBLISHED, i))) return false;
        if (scalar(v) && strcmp(scalar(v), "none") == 0) {
            x->available = false;
            return true;
        }
        if (!int_of(p, v, "a published level (or none)", 0, 1000, &level)) return false;
        x->number = (double)level;
        for (size_t l = 0; l < pd->nlevels; l++)
            if (pd->levels[l] == level) return true;
        return fail_at(p, v, "programme %s has no level %lld", pd->name, (long long)level);
    }
    if (strcmp(s, "published_period") == 0) {
        int32_t first, last;
        grading_error_t e;
        if (!(x = expect_add(p, c, k, SCN_X_PUBLISHED_PERIOD, i)) ||
            !text_of(p, v, "a period name (or none)", x->text, sizeof x->text))
            return false;
        x->available = strcmp(x->text, "none") != 0;
        if (x->available &&
            grading_period_parse((grading_period_kind_t)pd->publish, x->text, "period", &first, &last, &e))
            return fail_at(p, v, "programme %s is published per %s: %s", pd->name,
                           grading_period_kind_name((grading_period_kind_t)pd->publish), e.message);
        return true;
    }
    if (strcmp(s, "new_seller") == 0)
        return (x = expect_add(p, c, k, SCN_X_NEW_SELLER, i)) && bool_of(p, v, "new_seller", &x->boolean);
    if (strcmp(s, "grade_scores") == 0)
        return (x = expect_add(p, c, k, SCN_X_GRADE_SCORE, i)) && number_or(p, v, scalar(k), "unavailable", x);
    /* reasons / not_reasons: one text or a list of texts */
    scn_expect_kind_t kind = strcmp(s, "reasons") == 0 ? SCN_X_REASON : SCN_X_NO_REASON;
    if (scalar(v)) return (x = expect_add(p, c, v, kind, i)) && text_of(p, v, s, x->text, sizeof x->text);
    if (!want_seq(p, v, s)) return false;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *t = node(p, *it);
        if (!(x = expect_add(p, c, t, kind, i)) || !text_of(p, t, s, x->text, sizeof x->text))
            return false;
    }
    return true;
}

static bool x_penalty(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    size_t i;
    int64_t stage;
    scn_expect_t *x;
    (void)s;
    if (!find_name(p, c->mp->rules, NAMES_LADDERS, k, &i) ||
        !(x = expect_add(p, c, k, SCN_X_PENALTY, i)) ||
        !int_of(p, v, "a stage (0 = none)", 0, GRADING_RULES_MAX_STAGES * 1000, &stage))
        return false;
    x->number = (double)stage;
    return true;
}

/* `restrictions: {LADDER: [warning, listing_cap 500]}`: exactly the
 * restrictions of the stage that applies ([] for none); a listing cap
 * names its limit. */
static bool x_restrictions(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    size_t i;
    scn_expect_t *x;
    (void)s;
    if (!find_name(p, c->mp->rules, NAMES_LADDERS, k, &i) ||
        !(x = expect_add(p, c, k, SCN_X_RESTRICTIONS, i)) || !want_seq(p, v, "restrictions"))
        return false;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *n = node(p, *it);
        const char *t = scalar(n);
        char word[64];
        long long limit = 0;
        int used = 0;
        if (!t || sscanf(t, "%63[a-z_]%n", word, &used) != 1)
            return fail_at(p, n, "restrictions: an item is a restriction name "
                                 "(warning, listing_cap 500, ...)");
        grading_restriction_kind_t kind = grading_restriction_parse(word);
        if (!kind) return fail_at(p, n, "restrictions: no restriction named \"%s\"", word);
        if (kind == GRADING_R_LISTING_CAP) {
            int more = 0;
            if (sscanf(t + used, " %lld%n", &limit, &more) != 1 || t[used + more] || limit < 0)
                return fail_at(p, n, "restrictions: write a listing cap with its limit, "
                                     "like \"listing_cap 500\"");
        } else if (t[used]) {
            return fail_at(p, n, "restrictions: only listing_cap takes a number, got \"%s\"", t);
        }
        for (size_t j = 0; j < x->nrestrictions; j++)
            if (x->restrictions[j] == kind) return fail_at(p, n, "restrictions: \"%s\" twice", word);
        if (x->nrestrictions >= GRADING_RULES_MAX_RESTRICTIONS)
            return fail_at(p, n, "restrictions: too many");
        x->restrictions[x->nrestrictions] = kind;
        x->limits[x->nrestrictions++] = limit;
    }
    return true;
}

static bool x_history(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    size_t i;
    scn_expect_t *x;
    (void)s;
    return find_name(p, c->mp->rules, NAMES_HISTORY, k, &i) &&
           (x = expect_add(p, c, k, SCN_X_HISTORY, i)) && number_or(p, v, scalar(k), "none", x);
}

/* ---- per-order facts: service points, late orders, stopped products ---- */

static const char *const span_words[] = {"month", "prev_month", "year"};

/* The case's marketplace has per-order rules: service points or, when
 * `deadlines` is true, deadline stages. */
static bool per_order(px_t *p, const scn_case_t *c, yaml_node_t *n, const char *what, bool deadlines)
{
    const grading_rules_t *r = c->mp->rules;
    if (deadlines ? r->deadlines.nstages > 0 : (r->deadlines.nstages > 0 || r->points.enabled))
        return true;
    return fail_at(p, n, "%s: marketplace %s has no %s", what, c->mp->name,
                   deadlines ? "deadline stages (deadlines)"
                             : "per-order rules (deadlines or service_points)");
}

/* ---- points that expire, stages that last N days (issue 15 §4) ---- */

/* `points: {active: 3}`: points.active, the points of the last
 * service_points.expire_after days (a total only). */
static bool x_points_active(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v)
{
    scn_expect_t *x;
    if (c->mp->rules->points.expire_after_days <= 0)
        return fail_at(p, k, "points: active: marketplace %s has no service_points.expire_after", c->mp->name);
    if (!(x = expect_add(p, c, k, SCN_X_POINTS, GRADING_PT_COUNT))) return false;
    x->span = SCN_SPAN_ACTIVE;
    return number_of(p, v, "active", &x->number);
}

/* `stage_since` / `stage_until: {LADDER: 2026-12-29}`: the run of the
 * stage that applies (a stage with `lasts`): its first local day, and the
 * day it lapses; `none` when the applying stage has no run (no stage, or
 * one without `lasts`). */
static bool x_stage_run(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    size_t i;
    scn_expect_t *x;
    int y, m, d, used = 0;
    scn_expect_kind_t kind = strcmp(s, "stage_since") == 0 ? SCN_X_STAGE_SINCE : SCN_X_STAGE_UNTIL;
    if (!find_name(p, c->mp->rules, NAMES_LADDERS, k, &i) || !(x = expect_add(p, c, k, kind, i)) ||
        !text_of(p, v, s, x->text, sizeof x->text))
        return false;
    if (strcmp(x->text, "none") != 0 &&
        (sscanf(x->text, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || x->text[used] || used != 10))
        return fail_at(p, v, "%s: a local date YYYY-MM-DD or none, got \"%s\"", s, x->text);
    return true;
}

/* `next_due: 2026-12-29T00:00:00+09:00`: the stored record's next due
 * time (the sweep re-derives the seller then: a deadline stage or a stage
 * lapsing), or `none`. */
static bool x_next_due(px_t *p, scn_case_t *c, yaml_node_t *n)
{
    scn_expect_t *x;
    int64_t ms;
    if (!(x = expect_add(p, c, n, SCN_X_NEXT_DUE, 0)) || !text_of(p, n, "next_due", x->text, sizeof x->text))
        return false;
    if (strcmp(x->text, "none") == 0) return true;
    if (!scn_parse_time(x->text, &ms)) return fail_at(p, n, "next_due: an RFC 3339 time or none");
    x->number = (double)ms;
    return true;
}

/* `points: {month: -2, dispatch: 1, prev_month.delay: -2}`: a total
 * (month, prev_month, year) or one rule's share (grading_points_rule_name)
 * of this month, or of the month before / the 12 months with a prefix. */
static bool x_points(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, const char *s)
{
    const char *key = scalar(k), *rule = key;
    scn_span_t span = SCN_SPAN_MONTH;
    size_t index = GRADING_PT_COUNT;
    scn_expect_t *x;
    (void)s;
    if (!per_order(p, c, k, "points", false)) return false;
    if (strcmp(key, "active") == 0) return x_points_active(p, c, k, v);
    const char *dot = strchr(key, '.');
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(span_words[i]);
        if (dot ? (size_t)(dot - key) == len && strncmp(key, span_words[i], len) == 0
                : strcmp(key, span_words[i]) == 0) {
            span = (scn_span_t)i;
            rule = dot ? dot + 1 : NULL;
            break;
        }
    }
    if (dot && rule == key)
        return fail_at(p, k, "points: \"%s\": a prefix is month., prev_month. or year.", key);
    if (rule) {
        for (size_t i = 0; i < GRADING_PT_COUNT && index == GRADING_PT_COUNT; i++)
            if (strcmp(grading_points_rule_name((int)i), rule) == 0) index = i;
        if (index == GRADING_PT_COUNT) {
            char list[512] = "";
            size_t len = 0;
            for (int i = 0; i < GRADING_PT_COUNT && len < sizeof list; i++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                        grading_points_rule_name(i));
            if (dot)
                return fail_at(p, k, "points: \"%s\": no rule named \"%s\" (expected one of: %s)",
                               key, rule, list);
            return fail_at(p, k, "points: no total or rule named \"%s\" (expected month, "
                                 "prev_month, year, a rule: %s, or a rule prefixed with "
                                 "prev_month. or year.)", rule, list);
        }
    }
    if (!(x = expect_add(p, c, k, SCN_X_POINTS, index))) return false;
    x->span = span;
    return number_of(p, v, key, &x->number);
}

/* `order_alerts: {caution: 1, restriction: 1}`: the open late orders at
 * exactly each stage; a stage left out has none. The engine lists at most
 * GRADING_MAX_ORDER_ALERTS, so an expectation stays below that (a full
 * list cannot tell 64 from more). */
static bool x_order_alerts(px_t *p, scn_case_t *c, yaml_node_t *m)
{
    const grading_deadlines_def_t *dl = &c->mp->rules->deadlines;
    uint64_t total = 0;
    scn_expect_t *x;
    if (!want_map(p, m, "order_alerts") || !check_keys(p, m, "order_alerts", NULL) ||
        !per_order(p, c, m, "order_alerts", true) ||
        !(x = expect_add(p, c, m, SCN_X_ORDER_ALERTS, 0)))
        return false;
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        yaml_node_t *k = node(p, a->key);
        size_t stage = dl->nstages;
        for (size_t i = 0; i < dl->nstages && stage == dl->nstages; i++)
            if (strcmp(dl->stages[i].name, scalar(k)) == 0) stage = i;
        if (stage == dl->nstages) {
            char list[256] = "";
            size_t len = 0;
            for (size_t i = 0; i < dl->nstages && len < sizeof list; i++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                        dl->stages[i].name);
            return fail_at(p, k, "order_alerts: the policy has no deadline stage named \"%s\" "
                                 "(expected one of: %s)", scalar(k), list);
        }
        if (!u32_of(p, node(p, a->value), scalar(k), 0, GRADING_MAX_ORDER_ALERTS - 1,
                    &x->alerts[stage]))
            return false;
        total += x->alerts[stage];
    }
    if (total >= GRADING_MAX_ORDER_ALERTS)
        return fail_at(p, m, "order_alerts: the engine lists at most %d late orders, so at most "
                             "%d can be checked", GRADING_MAX_ORDER_ALERTS, GRADING_MAX_ORDER_ALERTS - 1);
    return true;
}

/* `stopped_products: [p1]`: exactly these products stopped ([] for none),
 * fewer than the GRADING_MAX_STOPPED_PRODUCTS the engine lists. */
static bool x_stopped(px_t *p, scn_case_t *c, yaml_node_t *seq)
{
    scn_expect_t *x;
    if (!want_seq(p, seq, "stopped_products") || !per_order(p, c, seq, "stopped_products", true))
        return false;
    size_t cnt = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (cnt >= GRADING_MAX_STOPPED_PRODUCTS)
        return fail_at(p, seq, "stopped_products: the engine lists at most %d products, so at "
                               "most %d can be checked", GRADING_MAX_STOPPED_PRODUCTS,
                       GRADING_MAX_STOPPED_PRODUCTS - 1);
    if (!(x = expect_add(p, c, seq, SCN_X_STOPPED, 0))) return false;
    if (cnt && !(x->products = calloc(cnt, sizeof *x->products))) return fail_at(p, seq, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *n = node(p, seq->data.sequence.items.start[i]);
        if (!text_of(p, n, "a product id", x->products[i], sizeof x->products[i])) return false;
        if (!x->products[i][0]) return fail_at(p, n, "stopped_products: an empty product id");
        for (size_t j = 0; j < i; j++)
            if (strcmp(x->products[j], x->products[i]) == 0)
                return fail_at(p, n, "stopped_products: \"%s\" twice", x->products[i]);
        x->nproducts = i + 1;
    }
    return true;
}

/* ---- forecast (GetGradeForecast; checked by scenario_forecast.c) ---- */

/* `thresholds: {late_shipment: 2, on_time_shipment: none}`. */
static bool forecast_thresholds_of(px_t *p, yaml_node_t *m, scn_forecast_t *fc)
{
    size_t nkinds;
    const grading_forecast_kind_t *kinds = grading_forecast_kinds(&nkinds);
    if (!want_map(p, m, "thresholds") || !check_keys(p, m, "thresholds", NULL)) return false;
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        yaml_node_t *k = node(p, a->key), *v = node(p, a->value);
        size_t ki = nkinds;
        for (size_t i = 0; i < nkinds; i++)
            if (strcmp(kinds[i].name, scalar(k)) == 0) ki = i;
        if (ki == nkinds) return fail_at(p, k, "thresholds: no event kind \"%s\"", scalar(k));
        if (fc->nthresholds >= SCN_FORECAST_MAX_THRESHOLDS) return fail_at(p, k, "thresholds: too many");
        int64_t n = 0;
        if (!(scalar(v) && strcmp(scalar(v), "none") == 0) &&
            !int_of(p, v, "a number of events (or none)", 1, GRADING_FORECAST_MAX_EVENTS, &n))
            return false;
        fc->thresholds[fc->nthresholds].kind = ki;
        fc->thresholds[fc->nthresholds++].events = (uint32_t)n;
    }
    return true;
}

/* One programme's `{date: 2026-12-20, level: 1, cause: late_rate, says: TEXT, thresholds: {...}}`. */
static bool forecast_program_of(px_t *p, scn_case_t *c, yaml_node_t *k, yaml_node_t *v, uint32_t days)
{
    static const char *const keys[] = {"date", "level", "cause", "says", "thresholds", NULL};
    size_t i;
    scn_expect_t *x;
    yaml_node_t *n;
    if (!find_name(p, c->mp->rules, NAMES_PROGRAMS, k, &i) || !want_map(p, v, "a programme's forecast") ||
        !check_keys(p, v, "forecast", keys) || !(x = expect_add(p, c, k, SCN_X_FORECAST, i)))
        return false;
    scn_forecast_t *fc = &x->forecast;
    const grading_program_def_t *pd = &c->mp->rules->programs[i];
    fc->days = days;
    if (!(n = get(p, v, "date"))) return fail_at(p, v, "forecast %s needs a date (or none)", pd->name);
    int y;
    unsigned mo, d;
    char tail;
    fc->changes = !(scalar(n) && strcmp(scalar(n), "none") == 0);
    if (fc->changes) {
        if (!scalar(n) || sscanf(scalar(n), "%4d-%2u-%2u%c", &y, &mo, &d, &tail) != 3 || mo < 1 || mo > 12 ||
            d < 1 || d > 31)
            return fail_at(p, n, "forecast date must be YYYY-MM-DD or none");
        fc->day = grading_days_from_civil(y, mo, d);
    }
    int64_t lv;
    if ((n = get(p, v, "level"))) {
        if (!int_of(p, n, "a level", 0, 1000, &lv)) return false;
        bool known = false;
        for (size_t l = 0; l < pd->nlevels; l++) known = known || pd->levels[l] == lv;
        if (!known) return fail_at(p, n, "programme %s has no level %lld", pd->name, (long long)lv);
        fc->has_level = true;
        fc->level = (int32_t)lv;
    }
    if ((n = get(p, v, "cause"))) {
        if (!text_of(p, n, "cause", fc->cause, sizeof fc->cause)) return false;
        size_t m;
        if (strcmp(fc->cause, "none") != 0 && !find_name(p, c->mp->rules, NAMES_METRICS, n, &m)) return false;
        fc->has_cause = true;
    }
    if ((n = get(p, v, "says")) && !text_of(p, n, "says", fc->says, sizeof fc->says)) return false;
    if ((n = get(p, v, "thresholds")) && !forecast_thresholds_of(p, n, fc)) return false;
    return true;
}

/* `forecast: {days: 60, PROGRAMME: {...}, ...}`. */
static bool forecast_of(px_t *p, yaml_node_t *m, scn_case_t *c)
{
    int64_t days = 0;
    yaml_node_t *n;
    if (!want_map(p, m, "forecast") || !check_keys(p, m, "forecast", NULL)) return false;
    if ((n = get(p, m, "days")) && !int_of(p, n, "days", 1, GRADING_FORECAST_MAX_DAYS, &days)) return false;
    size_t before = c->nexpect;
    for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top; a++) {
        yaml_node_t *k = node(p, a->key);
        if (strcmp(scalar(k), "days") == 0) continue;
        if (!forecast_program_of(p, c, k, node(p, a->value), (uint32_t)days)) return false;
    }
    if (c->nexpect == before) return fail_at(p, m, "forecast names no programme");
    return true;
}

static bool expect_of(px_t *p, yaml_node_t *m, scn_case_t *c)
{
    static const char *const keys[] = {
        "metrics", "scores", "grades", "labels", "new_seller", "grade_scores", "reasons",
        "not_reasons", "published", "published_period", "history", "penalties", "restrictions",
        "suspended",
        "withdrawals_held", "boost", "grants", "tier", "convertible_points", "points",
        "order_alerts", "stopped_products", "stage_since", "stage_until", "next_due", "evidence", "forecast", NULL};
    static const char *const program_sections[] = {"grades", "labels", "new_seller",
                                                   "grade_scores", "reasons", "not_reasons",
                                                   "published", "published_period", NULL};
    const grading_rules_t *r = c->mp->rules;
    yaml_node_t *n;
    scn_expect_t *x;
    if (!want_map(p, m, "expect") || !check_keys(p, m, "expect", keys)) return false;
    if ((n = get(p, m, "metrics")) && !each_pair(p, n, "metrics", x_metric, c)) return false;
    if ((n = get(p, m, "scores")) && !each_pair(p, n, "scores", x_score, c)) return false;
    for (const char *const *s = program_sections; *s; s++)
        if ((n = get(p, m, *s)) && !each_pair(p, n, *s, x_program, c)) return false;
    if ((n = get(p, m, "history")) && !each_pair(p, n, "history", x_history, c)) return false;
    if ((n = get(p, m, "penalties")) && !each_pair(p, n, "penalties", x_penalty, c)) return false;
    if ((n = get(p, m, "restrictions")) && !each_pair(p, n, "restrictions", x_restrictions, c))
        return false;
    if ((n = get(p, m, "suspended")) &&
        (!(x = expect_add(p, c, n, SCN_X_SUSPENDED, 0)) || !bool_of(p, n, "suspended", &x->boolean)))
        return false;
    if ((n = get(p, m, "withdrawals_held")) &&
        (!(x = expect_add(p, c, n, SCN_X_WITHDRAWALS_HELD, 0)) ||
         !bool_of(p, n, "withdrawals_held", &x->boolean)))
        return false;
    if ((n = get(p, m, "boost")) &&
        (!(x = expect_add(p, c, n, SCN_X_BOOST, 0)) || !number_of(p, n, "boost", &x->number)))
        return false;
    if ((n = get(p, m, "points")) && !each_pair(p, n, "points", x_points, c)) return false;
    if ((n = get(p, m, "order_alerts")) && !x_order_alerts(p, c, n)) return false;
    if ((n = get(p, m, "stopped_products")) && !x_stopped(p, c, n)) return false;
    if ((n = get(p, m, "evidence")) && !each_pair(p, n, "evidence", x_evidence, c)) return false;
    if ((n = get(p, m, "stage_since")) && !each_pair(p, n, "stage_since", x_stage_run, c)) return false;
    if ((n = get(p, m, "stage_until")) && !each_pair(p, n, "stage_until", x_stage_run, c)) return false;
    if ((n = get(p, m, "next_due")) && !x_next_due(p, c, n)) return false;
    if ((n = get(p, m, "forecast")) && !forecast_of(p, n, c)) return false;
    if ((n = get(p, m, "convertible_points")) &&
        (!(x = expect_add(p, c, n, SCN_X_CONVERTIBLE, 0)) ||
         !number_of(p, n, "convertible_points", &x->number)))
        return false;
    if ((n = get(p, m, "tier"))) {
        if (!(x = expect_add(p, c, n, SCN_X_TIER, 0)) || !text_of(p, n, "tier", x->text, sizeof x->text))
            return false;
        bool known = strcmp(x->text, "none") == 0;
        for (size_t i = 0; i < r->ntiers && !known; i++) known = strcmp(r->tiers[i].tier, x->text) == 0;
        if (!known) return fail_at(p, n, "the policy has no settlement tier named \"%s\"", x->text);
    }
    if ((n = get(p, m, "grants"))) {
        if (!want_seq(p, n, "grants") || !(x = expect_add(p, c, n, SCN_X_GRANTS, 0))) return false;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            yaml_node_t *g = node(p, *it);
            const char *s = scalar(g);
            const char *found = NULL;
            for (size_t i = 0; s && i < r->ngrants && !found; i++)
                if (strcmp(r->grants[i].program, s) == 0) found = r->grants[i].program;
            if (!found) return fail_at(p, g, "the policy grants no programme named \"%s\"", s ? s : "");
            for (size_t j = 0; j < x->ngrants; j++)
                if (x->grants[j] == found) return fail_at(p, g, "grants: \"%s\" twice", s);
            if (x->ngrants >= GRADING_RULES_MAX_GRANTS) return fail_at(p, g, "grants: too many");
            x->grants[x->ngrants++] = found;
        }
    }
    if (c->nexpect == 0) return fail_at(p, m, "expect: a case must check something");
    return true;
}

/* ---- closes ---- */

static const char *const kind_words[] = {"", "month", "quarter", "year", NULL};

/* One item of `closes`. Unless it expects an error, its period must be a
 * valid name that has ended by the case's as_of: a scenario that closes
 * an open period by mistake is a bad file, not a passing case. */
static bool close_of(px_t *p, yaml_node_t *m, const scn_case_t *c, scn_close_t *k)
{
    static const char *const keys[] = {"kind", "period", "dry_run", "already_closed", "evaluated",
                                       "error", "orders", "inquiries", "revenue", "custom", NULL};
    yaml_node_t *n;
    int32_t kind = 0;
    memset(k, 0, sizeof *k);
    k->line = (int)m->start_mark.line + 1;
    if (!want_map(p, m, "a closes item") || !check_keys(p, m, "closes", keys)) return false;
    if (!(n = get(p, m, "kind"))) return fail_at(p, m, "closes: kind (month, quarter or year) is required");
    if (!word_of(p, n, "closes.kind", kind_words, &kind)) return false;
    k->kind = (grading_period_kind_t)kind;
    if (!(n = get(p, m, "period")))
        return fail_at(p, m, "closes: period (\"2026-10\", \"2026-Q3\" or \"2026\") is required");
    if (!text_of(p, n, "closes.period", k->period, sizeof k->period)) return false;
    yaml_node_t *period = n;
    if ((n = get(p, m, "dry_run")) && !bool_of(p, n, "closes.dry_run", &k->dry_run)) return false;
    if ((n = get(p, m, "already_closed")) && !bool_of(p, n, "closes.already_closed", &k->already_closed))
        return false;
    if ((n = get(p, m, "evaluated"))) {
        k->has_evaluated = true;
        if (!u32_of(p, n, "closes.evaluated", 0, UINT32_MAX, &k->evaluated)) return false;
    }
    if ((n = get(p, m, "error"))) {
        if (!text_of(p, n, "closes.error", k->error, sizeof k->error)) return false;
        if (!k->error[0]) return fail_at(p, n, "closes.error: say which text the error must contain");
        if (get(p, m, "already_closed") || get(p, m, "evaluated"))
            return fail_at(p, n, "closes: a close that expects an error has no already_closed or evaluated");
        k->expect_error = true;
    }
    if (!events_of(p, m, &c->mp->tz, &k->ev)) return false;
    if (k->expect_error) return true;
    int32_t first, last;
    grading_error_t e;
    if (grading_period_parse(k->kind, k->period, "period", &first, &last, &e))
        return fail_at(p, period, "closes: %s (or expect the error with error: TEXT)", e.message);
    int64_t end_ms = grading_tz_day_start_ms(&c->mp->tz, last + 1);
    if (c->as_of_ms < end_ms) {
        int32_t y;
        uint32_t mo, d;
        grading_civil_from_days(last + 1, &y, &mo, &d);
        return fail_at(p, period,
                       "closes: %s %s ends at %04d-%02u-%02uT00:00 %s, after the case's as_of; "
                       "a close runs as of as_of, so as_of must be at or after the end "
                       "(or expect error: not ended)",
                       kind_words[kind], k->period, (int)y, mo, d, c->mp->tz.name);
    }
    return true;
}

static bool closes_of(px_t *p, yaml_node_t *seq, scn_case_t *c)
{
    if (!want_seq(p, seq, "closes")) return false;
    size_t cnt = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (cnt == 0) return fail_at(p, seq, "closes must not be empty (leave it out instead)");
    if (cnt > SCN_MAX_CLOSES) return fail_at(p, seq, "closes: at most %d per case", SCN_MAX_CLOSES);
    if (!(c->closes = calloc(cnt, sizeof *c->closes))) return fail_at(p, seq, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        c->ncloses = i + 1;
        if (!close_of(p, node(p, seq->data.sequence.items.start[i]), c, &c->closes[i])) return false;
    }
    return true;
}

/* ---- exemptions (issue 15 §2) ---- */

static const char *const scope_words[] = {"", "any", "domestic", "overseas", NULL};

/* A walk count: a whole number, kept as uint64_t. */
static bool walk_count_of(px_t *p, yaml_node_t *m, const char *key, bool *has, uint64_t *out)
{
    yaml_node_t *n = get(p, m, key);
    int64_t v;
    if (!n) return true;
    if (!int_of(p, n, key, 0, INT64_C(1) << 52, &v)) return false;
    *has = true;
    *out = (uint64_t)v;
    return true;
}

/* `metrics`: one word or a list; each a metric, a base counter or `all`
 * (grading_appeal_mask decides, as the declaration will). */
static bool exempt_metrics_of(px_t *p, yaml_node_t *n, const scn_case_t *c, scn_exemption_t *x)
{
    bool single = scalar(n) != NULL;
    size_t cnt = 1;
    if (!single) {
        if (!want_seq(p, n, "exemptions.metrics")) return false;
        cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (cnt == 0 || cnt > SCN_EXEMPT_MAX_METRICS)
            return fail_at(p, n, "exemptions.metrics: 1..%d names", SCN_EXEMPT_MAX_METRICS);
    }
    const char *names[SCN_EXEMPT_MAX_METRICS];
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *m = single ? n : node(p, n->data.sequence.items.start[i]);
        if (!text_of(p, m, "exemptions.metrics", x->metrics[i], sizeof x->metrics[i])) return false;
        names[i] = x->metrics[i];
    }
    x->nmetrics = cnt;
    uint64_t mask;
    grading_error_t e = {0};
    if (!x->expect_error && grading_appeal_mask(c->mp->rules, names, cnt, &mask, &e))
        return fail_at(p, n, "exemptions.metrics: %s", e.message);
    return true;
}

static bool exemption_of(px_t *p, yaml_node_t *m, const scn_case_t *c, scn_exemption_t *x)
{
    static const char *const keys[] = {"id", "from", "to", "metrics", "scope", "product_id", "sellers_changed",
                                       "orders_changed", "error", "orders", "inquiries", "revenue", "custom",
                                       NULL};
    yaml_node_t *n;
    int32_t scope = 1;
    x->line = (int)m->start_mark.line + 1;
    if (!want_map(p, m, "an exemptions item") || !check_keys(p, m, "exemptions", keys)) return false;
    if (!(n = get(p, m, "id"))) return fail_at(p, m, "exemptions: id is required");
    if (!text_of(p, n, "exemptions.id", x->id, sizeof x->id)) return false;
    for (const scn_exemption_t *o = c->exemptions; o < x; o++)
        if (strcmp(o->id, x->id) == 0) return fail_at(p, n, "exemptions: \"%s\" twice", x->id);
    if (!(n = get(p, m, "from"))) return fail_at(p, m, "exemptions: from (a local date YYYY-MM-DD) is required");
    if (!text_of(p, n, "exemptions.from", x->from, sizeof x->from)) return false;
    if (!(n = get(p, m, "to"))) return fail_at(p, m, "exemptions: to (a local date YYYY-MM-DD) is required");
    if (!text_of(p, n, "exemptions.to", x->to, sizeof x->to)) return false;
    if ((n = get(p, m, "error"))) {
        if (!text_of(p, n, "exemptions.error", x->error, sizeof x->error)) return false;
        if (!x->error[0]) return fail_at(p, n, "exemptions.error: say which text the error must contain");
        if (get(p, m, "sellers_changed") || get(p, m, "orders_changed"))
            return fail_at(p, n, "exemptions: a declaration that expects an error has no walk counts");
        x->expect_error = true;
    }
    if (!(n = get(p, m, "metrics"))) return fail_at(p, m, "exemptions: metrics (names or all) is required");
    if (!exempt_metrics_of(p, n, c, x)) return false;
    if ((n = get(p, m, "scope")) && !word_of(p, n, "exemptions.scope", scope_words, &scope)) return false;
    x->scope = scope - 2;   /* any -1, domestic 0, overseas 1: GRADING_EXEMPT_* */
    if ((n = get(p, m, "product_id")) && !text_of(p, n, "exemptions.product_id", x->product_id, sizeof x->product_id))
        return false;
    if (!walk_count_of(p, m, "sellers_changed", &x->has_sellers_changed, &x->sellers_changed) ||
        !walk_count_of(p, m, "orders_changed", &x->has_orders_changed, &x->orders_changed))
        return false;
    return events_of(p, m, &c->mp->tz, &x->ev);
}

/* `revoked`: ids of the case's exemptions, or {id, orders_changed}. */
static bool revoke_of(px_t *p, yaml_node_t *m, const scn_case_t *c, scn_revoke_t *r)
{
    static const char *const keys[] = {"id", "orders_changed", NULL};
    yaml_node_t *n = m;
    r->line = (int)m->start_mark.line + 1;
    if (!scalar(m)) {
        if (!want_map(p, m, "a revoked item") || !check_keys(p, m, "revoked", keys)) return false;
        if (!(n = get(p, m, "id"))) return fail_at(p, m, "revoked: id is required");
        if (!walk_count_of(p, m, "orders_changed", &r->has_orders_changed, &r->orders_changed)) return false;
    }
    if (!text_of(p, n, "revoked.id", r->id, sizeof r->id)) return false;
    bool declared = false;
    for (size_t i = 0; i < c->nexemptions && !declared; i++)
        declared = !c->exemptions[i].expect_error && strcmp(c->exemptions[i].id, r->id) == 0;
    if (!declared) return fail_at(p, n, "revoked: the case declares no exemption \"%s\"", r->id);
    for (const scn_revoke_t *o = c->revoked; o < r; o++)
        if (strcmp(o->id, r->id) == 0) return fail_at(p, n, "revoked: \"%s\" twice", r->id);
    return true;
}

static bool exemptions_of(px_t *p, yaml_node_t *m, scn_case_t *c)
{
    yaml_node_t *seq = get(p, m, "exemptions"), *rv = get(p, m, "revoked");
    if (rv && !seq) return fail_at(p, rv, "revoked needs exemptions");
    if (!seq) return true;
    for (int pass = 0; pass < 2; pass++) {
        yaml_node_t *n = pass ? rv : seq;
        const char *what = pass ? "revoked" : "exemptions";
        if (!n) break;
        if (!want_seq(p, n, what)) return false;
        size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (cnt == 0) return fail_at(p, n, "%s must not be empty (leave it out instead)", what);
        if (cnt > SCN_MAX_EXEMPTIONS) return fail_at(p, n, "%s: at most %d per case", what, SCN_MAX_EXEMPTIONS);
        void *list = calloc(cnt, pass ? sizeof *c->revoked : sizeof *c->exemptions);
        if (!list) return fail_at(p, n, "out of memory");
        if (pass) c->revoked = list;
        else c->exemptions = list;
        for (size_t i = 0; i < cnt; i++) {
            yaml_node_t *item = node(p, n->data.sequence.items.start[i]);
            if (pass) c->nrevoked = i + 1;
            else c->nexemptions = i + 1;
            if (pass ? !revoke_of(p, item, c, &c->revoked[i]) : !exemption_of(p, item, c, &c->exemptions[i]))
                return false;
        }
    }
    return true;
}

/* ---- cases ---- */

static bool case_of(px_t *p, yaml_node_t *m, const grading_marketplace_t *def_mp, size_t index,
                    scn_case_t *c)
{
    static const char *const keys[] = {"name", "as_of", "marketplace", "orders", "inquiries",
                                       "revenue", "custom", "closes", "exemptions", "revoked", "expect", NULL};
    yaml_node_t *n;
    c->line = (int)m->start_mark.line + 1;
    snprintf(c->seller, sizeof c->seller, "scenario-seller-%04zu", index + 1);
    if (!want_map(p, m, "a case") || !check_keys(p, m, "case", keys)) return false;
    if (!(n = get(p, m, "name"))) return fail_at(p, m, "a case needs a name");
    if (!text_of(p, n, "name", c->name, sizeof c->name) || !c->name[0])
        return fail_at(p, n, "a case needs a non-empty name");
    if (!(n = get(p, m, "as_of"))) return fail_at(p, m, "case \"%s\" needs as_of", c->name);
    if (!time_of(p, n, "as_of", &c->as_of_ms)) return false;
    c->mp = def_mp;
    if ((n = get(p, m, "marketplace"))) {
        c->mp = grading_policy_marketplace(p->policy, scalar(n) ? scalar(n) : "?");
        if (!c->mp || !scalar(n) || !*scalar(n))
            return fail_at(p, n, "the policy has no marketplace named \"%s\"", scalar(n) ? scalar(n) : "");
    }
    if (!events_of(p, m, &c->mp->tz, &c->ev)) return false;
    if ((n = get(p, m, "closes")) && !closes_of(p, n, c)) return false;
    if (!exemptions_of(p, m, c)) return false;
    uint64_t items = events_items(&c->ev);
    for (size_t i = 0; i < c->ncloses; i++) items += events_items(&c->closes[i].ev);
    for (size_t i = 0; i < c->nexemptions; i++) items += events_items(&c->exemptions[i].ev);
    if (items > SCN_MAX_CASE_ITEMS)
        return fail_at(p, m, "case \"%s\" generates %llu items, more than %d", c->name,
                       (unsigned long long)items, SCN_MAX_CASE_ITEMS);
    if (!(n = get(p, m, "expect"))) return fail_at(p, m, "case \"%s\" needs expect", c->name);
    return expect_of(p, n, c);
}

static bool file_of(px_t *p, scn_file_t *f)
{
    /* `templates` is never read: a place to define YAML anchors
     * (&name) that cases reuse (*name). */
    static const char *const keys[] = {"policy", "marketplace", "templates", "cases", NULL};
    yaml_node_t *root = yaml_document_get_root_node(&p->doc), *n;
    if (!root) return fail_at(p, NULL, "empty file");
    if (!want_map(p, root, "the file") || !check_keys(p, root, "the file", keys)) return false;

    /* The policy, relative to this file's folder. */
    if (!(n = get(p, root, "policy")) || !scalar(n) || !*scalar(n))
        return fail_at(p, n ? n : root, "policy (a path to a policy file) is required");
    char ppath[8192];
    const char *slash = strrchr(f->path, '/');
    if (scalar(n)[0] == '/' || !slash)
        snprintf(ppath, sizeof ppath, "%s", scalar(n));
    else
        snprintf(ppath, sizeof ppath, "%.*s/%s", (int)(slash - f->path), f->path, scalar(n));
    grading_policy_diags_t *diags = calloc(1, sizeof *diags);
    if (!diags) return fail_at(p, n, "out of memory");
    grading_err_t err = grading_policy_load_file(ppath, &f->policy, diags);
    if (err) {
        size_t len = (size_t)snprintf(p->msg, p->msglen, "%s:%lu: policy %s: %s", p->path,
                                      (unsigned long)n->start_mark.line + 1, ppath,
                                      grading_err_name(err));
        for (size_t i = 0; i < diags->count && i < GRADING_POLICY_MAX_DIAGS && len < p->msglen; i++)
            len += (size_t)snprintf(p->msg + len, p->msglen - len, "\n  %s: %s",
                                    diags->diags[i].where, diags->diags[i].message);
        free(diags);
        return false;
    }
    free(diags);
    p->policy = f->policy;

    const grading_marketplace_t *mp = grading_policy_marketplace(f->policy, NULL);
    if ((n = get(p, root, "marketplace"))) {
        mp = scalar(n) && *scalar(n) ? grading_policy_marketplace(f->policy, scalar(n)) : NULL;
        if (!mp) return fail_at(p, n, "the policy has no marketplace named \"%s\"", scalar(n) ? scalar(n) : "");
    }
    if (!mp) return fail_at(p, root, "the policy has no default marketplace");

    if (!(n = get(p, root, "cases"))) return fail_at(p, root, "cases (a list) is required");
    if (!want_seq(p, n, "cases")) return false;
    size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt == 0) return fail_at(p, n, "cases must not be empty");
    f->cases = calloc(cnt, sizeof *f->cases);
    if (!f->cases) return fail_at(p, n, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        f->ncases = i + 1;
        if (!case_of(p, node(p, n->data.sequence.items.start[i]), mp, i, &f->cases[i])) return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->cases[j].name, f->cases[i].name) == 0)
                return fail_at(p, node(p, n->data.sequence.items.start[i]),
                               "two cases are named \"%s\" (first at line %d)", f->cases[i].name,
                               f->cases[j].line);
    }
    return true;
}

grading_err_t scn_file_load(const char *path, scn_file_t *f, char *msg, size_t msglen)
{
    px_t p = {.path = path, .msg = msg, .msglen = msglen};
    yaml_parser_t parser;
    bool parser_ok = false, doc_ok = false;
    grading_err_t err = GRADING_EINVAL;
    FILE *in = NULL;

    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    msg[0] = '\0';
    if (!(in = fopen(path, "rb"))) {
        snprintf(msg, msglen, "%s: cannot open: %s", path, strerror(errno));
        err = GRADING_EIO;
        goto fail;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(msg, msglen, "%s: out of memory", path);
        err = GRADING_ENOMEM;
        goto fail;
    }
    parser_ok = true;
    yaml_parser_set_input_file(&parser, in);
    if (!yaml_parser_load(&parser, &p.doc)) {
        snprintf(msg, msglen, "%s:%lu:%lu: YAML: %s", path,
                 (unsigned long)parser.problem_mark.line + 1,
                 (unsigned long)parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "cannot parse");
        goto fail;
    }
    doc_ok = true;
    if (!file_of(&p, f)) goto fail;
    yaml_document_delete(&p.doc);
    yaml_parser_delete(&parser);
    fclose(in);
    return GRADING_OK;
fail:
    if (doc_ok) yaml_document_delete(&p.doc);
    if (parser_ok) yaml_parser_delete(&parser);
    if (in) fclose(in);
    scn_file_destroy(f);
    return err;
}

void scn_file_destroy(scn_file_t *f)
{
    for (size_t i = 0; i < f->ncases; i++) {
        scn_case_t *c = &f->cases[i];
        events_destroy(&c->ev);
        for (size_t k = 0; k < c->ncloses; k++) events_destroy(&c->closes[k].ev);
        free(c->closes);
        for (size_t k = 0; k < c->nexemptions; k++) events_destroy(&c->exemptions[k].ev);
        free(c->exemptions);
        free(c->revoked);
        for (size_t k = 0; k < c->nexpect; k++) free(c->expect[k].products);
        free(c->expect);
    }
    free(f->cases);
    grading_policy_unref(f->policy);
    f->cases = NULL;
    f->ncases = 0;
    f->policy = NULL;
}
