/* Retention: every preset's longest look-back, the pruner's boundaries on
 * both sides (the day just inside kept, the day just outside deleted) for
 * each preset, finished against open and unpaid orders, inquiries, event
 * ids against the dedup horizon, paging, the oldest kept day never moving
 * back, records of an unknown marketplace kept, the as_of check, published
 * periods beyond --keep-periods, and dense (older) records beside sparse
 * ones in one store.
 *
 * Each test works in its own mkdtemp store with a real writer thread; the
 * writer's clock is fixed, so nothing depends on time passing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/store/codec.h"
#include "../../src/store/store_internal.h"
#include "grading/ingest.h"
#include "grading/keys.h"
#include "grading/policy.h"
#include "grading/prune.h"
#include "grading/retention.h"
#include "grading/store.h"
#include "grading/store_prune.h"
#include "grading/tz.h"

#define SUFFIX "/tests/unit/test_retention.c"
#define DAY_MS INT64_C(86400000)
#define NOW_MS INT64_C(1780000000000)   /* 2026-05-28T20:26:40Z */

typedef struct {
    char root[64], dir[96];
    grading_store_t *st;
    grading_ingest_t *in;
    int64_t now;
} fixture_t;

static int64_t fixed_now(void *ctx) { return ((fixture_t *)ctx)->now; }

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->root, "/tmp/grading-retention-XXXXXX");
    if (!mkdtemp(f->root)) return -1;
    snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
    grading_store_options_t o = {.dir = f->dir};
    grading_error_t e = {0};
    if (grading_store_open(&o, &f->st, &e)) return -1;
    f->now = NOW_MS;
    if (grading_ingest_start(f->st, fixed_now, f, &f->in)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    grading_ingest_stop(f->in);
    grading_store_close(f->st);
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static const char *source_dir(void)
{
    static char src[1024];
    const char *env = getenv("GRADING_SOURCE_DIR");
    if (env && env[0]) return env;
    const char *f = __FILE__;
    size_t n = strlen(f), s = strlen(SUFFIX);
    if (f[0] != '/' || n <= s || strcmp(f + n - s, SUFFIX) != 0) fail_msg("set GRADING_SOURCE_DIR");
    snprintf(src, sizeof src, "%.*s", (int)(n - s), f);
    return src;
}

static grading_policy_t *load_preset(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/policies/%s", source_dir(), name);
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    assert_non_null(d);
    grading_policy_t *p = NULL;
    grading_err_t err = grading_policy_load_file(path, &p, d);
    if (err) fail_msg("%s: %s %s", path, d->count ? d->diags[0].where : "", d->count ? d->diags[0].message : "");
    free(d);
    return p;
}

static const char *const presets[] = {"11st.yaml", "coupang.yaml", "gmarket.yaml", "kakaostyle.yaml",
                                      "naver.yaml", "qoo10.yaml", "tmon.yaml"};
#define NPRESETS (sizeof presets / sizeof presets[0])

static grading_policy_t *load_buffer(const char *text)
{
    grading_policy_diags_t *d = calloc(1, sizeof *d);
    assert_non_null(d);
    grading_policy_t *p = NULL;
    grading_err_t err = grading_policy_load_buffer("test", text, strlen(text), &p, d);
    if (err) fail_msg("policy: %s %s", d->count ? d->diags[0].where : "", d->count ? d->diags[0].message : "");
    free(d);
    return p;
}

/* One marketplace "m" in UTC with a 30-day window and nothing else. */
static const char *const policy_30d =
    "version: 1\n"
    "default_marketplace: m\n"
    "marketplaces:\n"
    "  m:\n"
    "    time_zone: UTC\n"
    "    currency: KRW\n"
    "    metrics:\n"
    "      orders_30d:\n"
    "        window: 30d\n"
    "        value: orders\n";

static grading_day_counters_t one_order(void)
{
    grading_day_counters_t d;
    grading_day_counters_init(&d);
    d.c[GRADING_C_ORDERS] = 1;
    return d;
}

static void put_day(fixture_t *f, const char *mp, const char *seller, int32_t day)
{
    grading_txn_t *t;
    grading_day_counters_t d = one_order();
    assert_int_equal(grading_store_write_begin(f->st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_day_put(t, mp, seller, day, &d), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
}

static bool has_day(fixture_t *f, const char *mp, const char *seller, int32_t day)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    grading_day_counters_t d;
    bool found;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_day_get(t, mp, seller, day, &d, &found), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return found;
}

static grading_prune_stats_t pass(fixture_t *f, const grading_policy_t *p, int32_t margin, int64_t horizon,
                                  uint32_t page)
{
    grading_prune_options_t o = {.margin_days = margin, .dedup_horizon_ms = horizon, .page = page};
    grading_prune_stats_t st;
    assert_int_equal(grading_prune_pass(f->in, p, f->now, &o, &st), GRADING_OK);
    return st;
}

/* ---- the look-back ---- */

static void test_lookback_covers_every_window_of_every_preset(void **state)
{
    (void)state;
    for (size_t i = 0; i < NPRESETS; i++) {
        grading_policy_t *p = load_preset(presets[i]);
        for (size_t m = 0; m < grading_policy_marketplace_count(p); m++) {
            const grading_rules_t *r = grading_policy_marketplace_at(p, m)->rules;
            int32_t back = grading_retention_lookback_days(r);
            assert_true(back > 0);
            /* every window of every day of a leap cycle starts inside it */
            for (int32_t today = 20000; today < 20000 + 1461; today++)
                for (size_t w = 0; w < r->nwindows; w++) {
                    int32_t first, last;
                    grading_window_range(&r->windows[w], today, &first, &last);
                    if (first < today - back)
                        fail_msg("%s window %s on day %d starts %d days back, look-back %d", presets[i],
                                 r->windows[w].name, today, today - first, back);
                }
            /* and the longest window reaches it exactly some day */
            bool reached = false;
            for (int32_t today = 20000; today < 20000 + 1461 && !reached; today++)
                reached = grading_retention_first_day(r, today) == today - back;
            assert_true(reached);
            if (r->points.enabled) assert_true(back >= 334);   /* 11 whole months at least */
        }
        grading_policy_unref(p);
    }
}

static void test_lookback_is_at_least_the_metrics_apis_365_days(void **state)
{
    (void)state;
    /* a 30-day window: GetSellerMetrics' 365d window decides */
    grading_policy_t *p = load_buffer(policy_30d);
    assert_int_equal(grading_retention_lookback_days(grading_policy_marketplace(p, "m")->rules), 364);
    grading_policy_unref(p);
    /* a 400-day window: the policy decides */
    static const char *const policy_400d =
        "version: 1\n"
        "default_marketplace: m\n"
        "marketplaces:\n"
        "  m:\n"
        "    time_zone: UTC\n"
        "    currency: KRW\n"
        "    metrics:\n"
        "      orders_long:\n"
        "        window: 400d\n"
        "        value: orders\n";
    p = load_buffer(policy_400d);
    assert_int_equal(grading_retention_lookback_days(grading_policy_marketplace(p, "m")->rules), 399);
    grading_policy_unref(p);
}

/* ---- the pruner's boundaries, for each preset ---- */

static void test_each_presets_boundary_day_kept_and_the_day_before_deleted(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < NPRESETS; i++) {
        grading_policy_t *p = load_preset(presets[i]);
        for (size_t m = 0; m < grading_policy_marketplace_count(p); m++) {
            const grading_marketplace_t *mp = grading_policy_marketplace_at(p, m);
            int32_t today = grading_tz_day(&mp->tz, f->now);
            int32_t back = grading_retention_lookback_days(mp->rules);
            /* margin 0: the retained span is the look-back exactly */
            int32_t inside = today - back, outside = inside - 1;
            assert_int_equal(grading_prune_oldest_day(mp, 0, f->now), inside);
            put_day(f, mp->name, "s1", inside);
            put_day(f, mp->name, "s1", outside);
            put_day(f, mp->name, "s1", today);
            pass(f, p, 0, 0, 0);
            if (!has_day(f, mp->name, "s1", inside)) fail_msg("%s: day %d just inside deleted", presets[i], inside);
            if (has_day(f, mp->name, "s1", outside)) fail_msg("%s: day %d just outside kept", presets[i], outside);
            assert_true(has_day(f, mp->name, "s1", today));
            /* a margin keeps that many days more */
            put_day(f, mp->name, "s2", outside - 6);
            put_day(f, mp->name, "s2", outside - 7);
            grading_policy_t *keep = grading_policy_ref(p);
            pass(f, keep, 7, 0, 0);
            grading_policy_unref(keep);
            assert_true(has_day(f, mp->name, "s2", outside - 6));
            assert_false(has_day(f, mp->name, "s2", outside - 7));
        }
        grading_policy_unref(p);
    }
}

/* Issue 15: the excluded days (xdaily) go with the days. */
static void test_excluded_days_older_than_retention_go_too(void **state)
{
    fixture_t *f = *state;
    grading_policy_t *p = load_preset(presets[0]);
    const grading_marketplace_t *mp = grading_policy_marketplace_at(p, 0);
    int32_t inside = grading_prune_oldest_day(mp, 0, f->now), outside = inside - 1;
    grading_day_counters_t d = one_order();
    grading_txn_t *t;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_xday_put(t, mp->name, "x1", inside, &d), GRADING_OK);
    assert_int_equal(grading_store_xday_put(t, mp->name, "x1", outside, &d), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
    grading_prune_stats_t st = pass(f, p, 0, 0, 0);
    assert_true(st.days >= 1);
    grading_store_reader_t *r;
    bool found;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_xday_get(t, mp->name, "x1", outside, &d, &found), GRADING_OK);
    assert_false(found);
    assert_int_equal(grading_store_xday_get(t, mp->name, "x1", inside, &d, &found), GRADING_OK);
    assert_true(found);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_policy_unref(p);
}

/* ---- orders, inquiries, event ids ---- */

static void put_order(fixture_t *f, const char *id, int64_t paid, int64_t shipped, int64_t delivered)
{
    grading_order_t o;
    grading_order_init(&o);
    o.paid_ms = paid;
    o.shipped_ms = shipped;
    o.delivered_ms = delivered;
    grading_txn_t *t;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_order_put(t, "m", "s", id, &o), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
}

static bool has_order(fixture_t *f, const char *id)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    grading_order_t o;
    bool found;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_order_get(t, "m", "s", id, &o, &found), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return found;
}

static void test_finished_orders_older_than_retention_go_open_and_unpaid_stay(void **state)
{
    fixture_t *f = *state;
    grading_policy_t *p = load_buffer(policy_30d);
    const grading_marketplace_t *mp = grading_policy_marketplace(p, "m");
    int64_t oldest_ms = grading_tz_day_start_ms(&mp->tz, grading_prune_oldest_day(mp, 0, f->now));
    int64_t long_ago = oldest_ms - 100 * DAY_MS;
    put_order(f, "done-before", long_ago, long_ago + DAY_MS, oldest_ms - 1);   /* last event 1 ms outside */
    put_order(f, "done-at", long_ago, long_ago + DAY_MS, oldest_ms);           /* on the first kept ms */
    put_order(f, "open", long_ago, 0, 0);                                      /* never shipped: clock runs */
    put_order(f, "unpaid", 0, long_ago, long_ago + DAY_MS);                    /* the orphan sweep's */
    put_order(f, "shipped-only", long_ago, long_ago + DAY_MS, 0);              /* the clock stopped */
    grading_prune_stats_t st = pass(f, p, 0, 0, 0);
    assert_false(has_order(f, "done-before"));
    assert_true(has_order(f, "done-at"));
    assert_true(has_order(f, "open"));
    assert_true(has_order(f, "unpaid"));
    assert_false(has_order(f, "shipped-only"));
    assert_int_equal(st.orders, 2);

    /* inquiries: by their last event */
    grading_txn_t *t;
    grading_inquiry_t old = {.received_ms = long_ago, .answered_ms = oldest_ms - 1},
                      recent = {.received_ms = long_ago, .answered_ms = oldest_ms};
    assert_int_equal(grading_store_write_begin(f->st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_inquiry_put(t, "m", "s", "q-old", &old), GRADING_OK);
    assert_int_equal(grading_store_inquiry_put(t, "m", "s", "q-recent", &recent), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
    st = pass(f, p, 0, 0, 0);
    assert_int_equal(st.inquiries, 1);
    grading_store_reader_t *r;
    grading_inquiry_t q;
    bool found;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_inquiry_get(t, "m", "s", "q-old", &q, &found), GRADING_OK);
    assert_false(found);
    assert_int_equal(grading_store_inquiry_get(t, "m", "s", "q-recent", &q, &found), GRADING_OK);
    assert_true(found);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_policy_unref(p);
}

static bool event_kept(fixture_t *f, const char *id)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    bool seen;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_event_seen(t, id, &seen), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return seen;
}

static void test_event_ids_go_after_the_dedup_horizon_and_a_replay_inside_is_a_duplicate(void **state)
{
    fixture_t *f = *state;
    grading_policy_t *p = load_buffer(policy_30d);
    int64_t horizon = 35 * DAY_MS;
    grading_txn_t *t;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_event_put(t, "old", f->now - horizon - 1), GRADING_OK);
    assert_int_equal(grading_store_event_put_hashed(t, "edge", f->now - horizon, 7), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);

    /* a real event through the writer, stored a day ago */
    f->now -= DAY_MS;
    grading_tz_t utc;
    assert_int_equal(grading_tz_init_fixed(&utc, "UTC", 0), GRADING_OK);
    grading_event_t ev = {.event_id = "live-1", .marketplace = "m", .kind = GRADING_EV_ORDER_PAID,
                          .seller_id = "s", .ref_id = "o1", .product_id = "p", .has_occurred_at = true,
                          .occurred_ms = f->now - 1000, .amount = 100, .currency = "KRW", .name = ""};
    const char *mps[] = {"m"};
    const grading_tz_t *zones[] = {&utc};
    grading_ingest_batch_t b = {.events = &ev, .marketplaces = mps, .zones = zones, .n = 1};
    uint32_t acc = 0, dup = 0;
    assert_int_equal(grading_ingest_run(f->in, &b, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, 1);
    f->now += DAY_MS;

    grading_prune_stats_t st = pass(f, p, 0, horizon, 0);
    assert_int_equal(st.events, 1);
    assert_false(event_kept(f, "old"));
    assert_true(event_kept(f, "edge"));
    assert_true(event_kept(f, "live-1"));
    /* the replay after the pass is still a duplicate */
    grading_ingest_batch_t again = {.events = &ev, .marketplaces = mps, .zones = zones, .n = 1};
    assert_int_equal(grading_ingest_run(f->in, &again, &acc, &dup), GRADING_OK);
    assert_int_equal(acc, 0);
    assert_int_equal(dup, 1);
    /* horizon 0 keeps every id */
    f->now += 400 * DAY_MS;
    st = pass(f, p, 0, 0, 0);
    assert_int_equal(st.events, 0);
    assert_true(event_kept(f, "edge"));
    grading_tz_destroy(&utc);
    grading_policy_unref(p);
}

/* ---- paging, monotonic bound, unknown marketplaces ---- */

static void test_small_pages_delete_the_same_and_unknown_marketplaces_stay(void **state)
{
    fixture_t *f = *state;
    grading_policy_t *p = load_buffer(policy_30d);
    const grading_marketplace_t *mp = grading_policy_marketplace(p, "m");
    int32_t oldest = grading_prune_oldest_day(mp, 0, f->now);
    char seller[16];
    for (int s = 0; s < 20; s++) {
        snprintf(seller, sizeof seller, "s%02d", s);
        for (int d = -3; d < 3; d++) put_day(f, "m", seller, oldest + d);
        put_day(f, "gone-mp", seller, oldest - 100);   /* not in the policy */
    }
    grading_prune_stats_t st = pass(f, p, 0, 0, 3);
    assert_int_equal(st.days, 20 * 3);
    assert_true(st.pages > 40);   /* 140 day records, 3 a transaction */
    for (int s = 0; s < 20; s++) {
        snprintf(seller, sizeof seller, "s%02d", s);
        for (int d = -3; d < 3; d++) assert_int_equal(has_day(f, "m", seller, oldest + d), d >= 0);
        assert_true(has_day(f, "gone-mp", seller, oldest - 100));
    }
    grading_policy_unref(p);
}

static grading_err_t check_as_of(fixture_t *f, const grading_marketplace_t *mp, int64_t as_of, grading_error_t *e)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    grading_err_t err = grading_retention_check(t, mp, as_of, e);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return err;
}

static void test_as_of_before_retention_is_failed_precondition_naming_the_oldest_day(void **state)
{
    fixture_t *f = *state;
    grading_policy_t *p = load_buffer(policy_30d);
    const grading_marketplace_t *mp = grading_policy_marketplace(p, "m");
    grading_error_t e = {0};
    int32_t oldest = grading_prune_oldest_day(mp, 0, f->now);
    /* before any pass nothing is refused; a pass that deletes nothing
     * refuses nothing either (every day is still there) */
    assert_int_equal(check_as_of(f, mp, f->now - 1000 * DAY_MS, &e), GRADING_OK);
    put_day(f, "m", "s", oldest);
    pass(f, p, 0, 0, 0);
    assert_int_equal(check_as_of(f, mp, f->now - 1000 * DAY_MS, &e), GRADING_OK);
    /* one day older than retention: deleted, and the bound recorded with it */
    put_day(f, "m", "s", oldest - 1);
    assert_int_equal(pass(f, p, 0, 0, 0).days, 1);
    /* as of now: the window starts on the oldest kept day */
    assert_int_equal(check_as_of(f, mp, f->now, &e), GRADING_OK);
    /* as of one day earlier it would start one day before it */
    assert_int_equal(check_as_of(f, mp, f->now - DAY_MS, &e), GRADING_ESTATE);
    assert_string_equal(e.field, "as_of");
    int32_t y;
    uint32_t mo, d;
    grading_civil_from_days(oldest, &y, &mo, &d);
    char day[16];
    snprintf(day, sizeof day, "%04d-%02u-%02u", (int)y, mo, d);
    if (!strstr(e.message, day)) fail_msg("message \"%s\" does not name %s", e.message, day);

    /* a later pass with an earlier clock never moves the bound back */
    f->now -= 10 * DAY_MS;
    pass(f, p, 0, 0, 0);
    f->now += 10 * DAY_MS;
    assert_int_equal(check_as_of(f, mp, f->now - DAY_MS, &e), GRADING_ESTATE);
    grading_policy_unref(p);
}

/* ---- old and new encodings side by side in one store ---- */

static void test_dense_records_written_by_older_builds_still_read_and_go_sparse(void **state)
{
    fixture_t *f = *state;
    grading_day_counters_t d = one_order(), back;
    d.c[GRADING_C_GMV] = 15000;
    grading_order_t o, ob;
    grading_order_init(&o);
    o.paid_ms = 1767225600000;
    o.amount = 15000;
    strcpy(o.currency, "KRW");
    uint8_t key[GRADING_KEY_MAX], val[GRADING_CODEC_DAY_MAX];
    size_t klen, vlen;
    grading_txn_t *t;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &t), GRADING_OK);
    /* what an older build wrote: dense v1 records */
    assert_int_equal(grading_key_day(key, "m", "old", 20000, &klen), GRADING_OK);
    assert_int_equal(grading_codec_day_encode_v1(&d, val, &vlen), GRADING_OK);
    assert_int_equal(store_put_raw(t, DB_DAILY, key, klen, val, vlen), GRADING_OK);
    assert_int_equal(grading_key_order(key, "m", "old", "o1", &klen), GRADING_OK);
    assert_int_equal(grading_codec_order_encode_dense(&o, val, &vlen), GRADING_OK);
    assert_int_equal(store_put_raw(t, DB_ORDERS, key, klen, val, vlen), GRADING_OK);
    /* and what this one writes, beside them */
    assert_int_equal(grading_store_day_put(t, "m", "new", 20000, &d), GRADING_OK);
    assert_int_equal(grading_store_order_put(t, "m", "new", "o1", &o), GRADING_OK);
    bool found;
    MDB_val v;
    assert_int_equal(grading_key_day(key, "m", "new", 20000, &klen), GRADING_OK);
    assert_int_equal(store_get_raw(t, DB_DAILY, key, klen, &v, &found), GRADING_OK);
    assert_int_equal(((const uint8_t *)v.mv_data)[0], GRADING_CODEC_DAY_V2);
    assert_int_equal(grading_key_order(key, "m", "new", "o1", &klen), GRADING_OK);
    assert_int_equal(store_get_raw(t, DB_ORDERS, key, klen, &v, &found), GRADING_OK);
    assert_int_equal(((const uint8_t *)v.mv_data)[0], GRADING_CODEC_ORDER_V3);
    /* both read the same */
    const char *sellers[] = {"old", "new"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(grading_store_day_get(t, "m", sellers[i], 20000, &back, &found), GRADING_OK);
        assert_true(found && back.c[GRADING_C_ORDERS] == 1 && back.c[GRADING_C_GMV] == 15000);
        assert_int_equal(grading_store_order_get(t, "m", sellers[i], "o1", &ob, &found), GRADING_OK);
        assert_true(found && ob.paid_ms == o.paid_ms && ob.amount == 15000 && strcmp(ob.currency, "KRW") == 0);
    }
    /* an old record updated is written the new way */
    back.c[GRADING_C_ORDERS] = 2;
    assert_int_equal(grading_store_day_put(t, "m", "old", 20000, &back), GRADING_OK);
    assert_int_equal(grading_key_day(key, "m", "old", 20000, &klen), GRADING_OK);
    assert_int_equal(store_get_raw(t, DB_DAILY, key, klen, &v, &found), GRADING_OK);
    assert_int_equal(((const uint8_t *)v.mv_data)[0], GRADING_CODEC_DAY_V2);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
}

/* ---- published periods ---- */

static void put_period(fixture_t *f, const char *mp, int kind, const char *period)
{
    grading_txn_t *t;
    grading_period_rec_t rec = {.n = 1, .p = {{.level = 2, .score = 80, .has_score = true}}};
    grading_close_t c = {.done = true, .evaluated = 2};
    assert_int_equal(grading_store_write_begin(f->st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_period_put(t, mp, kind, period, "a", &rec), GRADING_OK);
    assert_int_equal(grading_store_period_put(t, mp, kind, period, "b", &rec), GRADING_OK);
    assert_int_equal(grading_store_close_put(t, mp, kind, period, &c), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
}

/* Sellers in the period and whether its close record is there. */
static uint64_t period_sellers(fixture_t *f, const char *mp, int kind, const char *period, bool *closed)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    uint64_t n;
    grading_close_t c;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_period_count(t, mp, kind, period, &n), GRADING_OK);
    assert_int_equal(grading_store_close_get(t, mp, kind, period, &c, closed), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return n;
}

static void test_published_periods_beyond_keep_periods_go(void **state)
{
    fixture_t *f = *state;
    grading_policy_t *p = load_buffer(policy_30d);
    assert_int_equal(grading_retention_periods_needed(grading_policy_marketplace(p, "m")->rules), 2);
    const char *months[] = {"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"};
    for (int i = 0; i < 6; i++) {
        put_period(f, "m", 1, months[i]);
        put_period(f, "zz", 1, months[i]);   /* not in the policy */
    }
    put_period(f, "m", 2, "2026-Q1");
    grading_prune_options_t o = {.keep_periods = 3, .page = 1};   /* one record a transaction */
    grading_prune_stats_t st;
    assert_int_equal(grading_prune_pass(f->in, p, f->now, &o, &st), GRADING_OK);
    assert_int_equal(st.periods, 3 * 3);   /* two sellers and the close, three months */
    bool closed;
    for (int i = 0; i < 6; i++) {
        uint64_t n = period_sellers(f, "m", 1, months[i], &closed);
        assert_int_equal(n, i < 3 ? 0 : 2);
        assert_int_equal(closed, i >= 3);
        assert_int_equal(period_sellers(f, "zz", 1, months[i], &closed), 2);
    }
    assert_int_equal(period_sellers(f, "m", 2, "2026-Q1", &closed), 2);   /* one quarter: kept */
    /* fewer than the rules read is raised to it (2 here) */
    o.keep_periods = 1;
    assert_int_equal(grading_prune_pass(f->in, p, f->now, &o, &st), GRADING_OK);
    assert_int_equal(period_sellers(f, "m", 1, "2026-04", &closed), 0);
    assert_int_equal(period_sellers(f, "m", 1, "2026-05", &closed), 2);
    assert_int_equal(period_sellers(f, "m", 1, "2026-06", &closed), 2);
    /* 0 keeps all */
    o.keep_periods = 0;
    assert_int_equal(grading_prune_pass(f->in, p, f->now, &o, &st), GRADING_OK);
    assert_int_equal(st.periods, 0);
    grading_policy_unref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookback_covers_every_window_of_every_preset),
        cmocka_unit_test(test_lookback_is_at_least_the_metrics_apis_365_days),
        cmocka_unit_test_setup_teardown(test_excluded_days_older_than_retention_go_too, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_presets_boundary_day_kept_and_the_day_before_deleted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_finished_orders_older_than_retention_go_open_and_unpaid_stay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_event_ids_go_after_the_dedup_horizon_and_a_replay_inside_is_a_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_pages_delete_the_same_and_unknown_marketplaces_stay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_as_of_before_retention_is_failed_precondition_naming_the_oldest_day,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_published_periods_beyond_keep_periods_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dense_records_written_by_older_builds_still_read_and_go_sparse, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
