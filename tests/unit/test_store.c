/* The LMDB store: open/close/reopen, the data directory's checks, the
 * schema version, the directory lock, records through every accessor,
 * corrupt records, key limits, nested transactions, reader snapshots,
 * one-scan day sums (negative days, sellers sharing a name prefix), and
 * map growth up to its maximum. Each test works in its own mkdtemp
 * directory under /tmp, removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grading/keys.h"
#include "grading/store.h"

typedef struct {
    char root[64];    /* the mkdtemp directory */
    char dir[128];    /* root/data: the store creates it */
} fixture_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->root, "/tmp/grading-store-XXXXXX");
    if (!mkdtemp(f->root)) return -1;
    snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static grading_store_t *open_store(const char *dir, uint64_t map, uint64_t max)
{
    grading_store_options_t o = {.dir = dir, .map_size = map, .max_map_size = max};
    grading_store_t *st = NULL;
    grading_error_t e = {0};
    grading_err_t err = grading_store_open(&o, &st, &e);
    if (err) fail_msg("open %s: %s %s", dir, grading_err_name(err), e.message);
    return st;
}

static grading_order_t an_order(int64_t paid_ms)
{
    grading_order_t o;
    grading_order_init(&o);
    o.paid_ms = paid_ms;
    o.shipped_ms = paid_ms + 3600000;
    o.amount = 15000;
    o.ship_within_days = 2;
    strcpy(o.product_id, "prod-1");
    strcpy(o.currency, "KRW");
    o.flags = GRADING_ORDER_TRACKING_VALID;
    return o;
}

static grading_day_counters_t a_day(int64_t orders)
{
    grading_day_counters_t d;
    grading_day_counters_init(&d);
    d.c[GRADING_C_ORDERS] = orders;
    d.c[GRADING_C_GMV] = orders * 1000;
    return d;
}

static void put_day(grading_txn_t *t, const char *mp, const char *seller, int32_t day, int64_t n)
{
    grading_day_counters_t d = a_day(n);
    assert_int_equal(grading_store_day_put(t, mp, seller, day, &d), GRADING_OK);
}

/* Writes raw bytes into a named database with LMDB itself (store closed). */
static void raw_put(const char *dir, const char *db, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* ---- open, close, directory ---- */

static void test_open_creates_the_directory_and_data_survives_reopen(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, 0, 0);
    assert_true(grading_store_map_size(st) >= GRADING_STORE_DEFAULT_MAP_SIZE);
    assert_int_equal(access(f->dir, W_OK), 0);

    grading_txn_t *t;
    assert_int_equal(grading_store_write_begin(st, NULL, &t), GRADING_OK);
    grading_order_t o = an_order(1700000000000);
    grading_inquiry_t q = {.received_ms = 1700000000000, .answered_ms = 1700000500000};
    assert_int_equal(grading_store_event_put(t, "ev-1", 1700000000999), GRADING_OK);
    assert_int_equal(grading_store_order_put(t, "kr", "s1", "o1", &o), GRADING_OK);
    assert_int_equal(grading_store_inquiry_put(t, "kr", "s1", "q1", &q), GRADING_OK);
    grading_day_counters_t d = a_day(3);
    d.ncustom = 1;
    strcpy(d.custom[0].name, "photos");
    d.custom[0].value = 4.5;
    assert_int_equal(grading_store_day_put(t, "kr", "s1", -3, &d), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
    grading_store_close(st);

    st = open_store(f->dir, 0, 0);
    grading_store_reader_t *r;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    bool seen = false, found = false;
    assert_int_equal(grading_store_event_seen(t, "ev-1", &seen), GRADING_OK);
    assert_true(seen);
    assert_int_equal(grading_store_event_seen(t, "ev-2", &seen), GRADING_OK);
    assert_false(seen);
    grading_order_t ob;
    assert_int_equal(grading_store_order_get(t, "kr", "s1", "o1", &ob, &found), GRADING_OK);
    assert_true(found);
    assert_true(ob.paid_ms == o.paid_ms && ob.shipped_ms == o.shipped_ms);
    assert_true(ob.amount == 15000);
    assert_string_equal(ob.product_id, "prod-1");
    assert_string_equal(ob.currency, "KRW");
    assert_int_equal(ob.flags, GRADING_ORDER_TRACKING_VALID);
    grading_inquiry_t qb;
    assert_int_equal(grading_store_inquiry_get(t, "kr", "s1", "q1", &qb, &found), GRADING_OK);
    assert_true(found && qb.answered_ms == q.answered_ms);
    grading_day_counters_t db;
    assert_int_equal(grading_store_day_get(t, "kr", "s1", -3, &db, &found), GRADING_OK);
    assert_true(found);
    assert_true(db.c[GRADING_C_ORDERS] == 3 && db.c[GRADING_C_GMV] == 3000);
    assert_true(grading_day_counters_custom(&db, "photos") == 4.5);
    /* Missing records are OK with found = false and an empty record. */
    assert_int_equal(grading_store_day_get(t, "kr", "s1", -2, &db, &found), GRADING_OK);
    assert_false(found);
    assert_true(db.c[GRADING_C_ORDERS] == 0 && db.ncustom == 0);
    assert_int_equal(grading_store_order_get(t, "kr", "s2", "o1", &ob, &found), GRADING_OK);
    assert_false(found);
    assert_int_equal(grading_store_inquiry_get(t, "jp", "s1", "q1", &qb, &found), GRADING_OK);
    assert_false(found);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_store_close(st);
}

static void test_directory_under_a_regular_file_is_eio_naming_it(void **state)
{
    fixture_t *f = *state;
    char file[160], under[200];
    snprintf(file, sizeof file, "%s/plain-file", f->root);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(under, sizeof under, "%s/data", file);

    grading_store_options_t o = {.dir = under};
    grading_store_t *st = (grading_store_t *)0x1;
    grading_error_t e = {0};
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_EIO);
    assert_null(st);
    assert_int_equal(e.code, GRADING_EIO);
    assert_non_null(strstr(e.message, under));
    assert_non_null(strstr(e.message, "Not a directory"));

    /* The regular file itself is no directory either. */
    o.dir = file;
    memset(&e, 0, sizeof e);
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_EIO);
    assert_non_null(strstr(e.message, file));
    assert_non_null(strstr(e.message, "Not a directory"));
}

static void test_bad_options_are_einval_naming_the_option(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = NULL;
    grading_error_t e = {0};
    grading_store_options_t o = {.dir = ""};
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "dir");
    o = (grading_store_options_t){.dir = f->dir, .map_size = 1 << 20, .max_map_size = 1 << 19};
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "max_map_size");
    o = (grading_store_options_t){.dir = f->dir, .map_size = 4096};
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "map_size");
    assert_null(st);
}

static void test_second_open_of_a_directory_in_use_is_eio(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, 0, 0), *st2 = NULL;
    grading_store_options_t o = {.dir = f->dir};
    grading_error_t e = {0};
    assert_int_equal(grading_store_open(&o, &st2, &e), GRADING_EIO);
    assert_null(st2);
    assert_non_null(strstr(e.message, "in use"));
    grading_store_close(st);
    /* Closed: the lock is gone. */
    st = open_store(f->dir, 0, 0);
    grading_store_close(st);
}

static void put_schema(const char *dir, const void *val, size_t len)
{
    raw_put(dir, "meta", "schema_version", strlen("schema_version"), val, len);
}

static void test_other_schema_version_is_ecorrupt(void **state)
{
    fixture_t *f = *state;
    grading_store_close(open_store(f->dir, 0, 0));
    const uint8_t v2[4] = {2, 0, 0, 0};
    put_schema(f->dir, v2, sizeof v2);

    grading_store_options_t o = {.dir = f->dir};
    grading_store_t *st = NULL;
    grading_error_t e = {0};
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_ECORRUPT);
    assert_null(st);
    assert_non_null(strstr(e.message, "schema version 2"));
    assert_non_null(strstr(e.message, f->dir));

    const uint8_t odd[2] = {1, 0};
    put_schema(f->dir, odd, sizeof odd);
    assert_int_equal(grading_store_open(&o, &st, &e), GRADING_ECORRUPT);

    const uint8_t v1[4] = {GRADING_STORE_SCHEMA_VERSION, 0, 0, 0};
    put_schema(f->dir, v1, sizeof v1);
    st = open_store(f->dir, 0, 0);
    grading_store_close(st);
}

/* ---- records ---- */

static void test_corrupt_records_are_ecorrupt(void **state)
{
    fixture_t *f = *state;
    grading_store_close(open_store(f->dir, 0, 0));
    uint8_t key[GRADING_KEY_MAX];
    size_t klen;
    const uint8_t junk[5] = {1, 2, 3, 4, 5};
    assert_int_equal(grading_key_order(key, "kr", "s1", "o1", &klen), GRADING_OK);
    raw_put(f->dir, "orders", key, klen, junk, sizeof junk);
    raw_put(f->dir, "inquiries", key, klen, junk, sizeof junk);
    assert_int_equal(grading_key_day(key, "kr", "s1", 10, &klen), GRADING_OK);
    raw_put(f->dir, "daily", key, klen, junk, sizeof junk);

    grading_store_t *st = open_store(f->dir, 0, 0);
    grading_store_reader_t *r;
    grading_txn_t *t;
    bool found;
    grading_order_t o;
    grading_inquiry_t q;
    grading_day_counters_t d, acc;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_order_get(t, "kr", "s1", "o1", &o, &found), GRADING_ECORRUPT);
    assert_int_equal(grading_store_inquiry_get(t, "kr", "s1", "o1", &q, &found),
                     GRADING_ECORRUPT);
    assert_int_equal(grading_store_day_get(t, "kr", "s1", 10, &d, &found), GRADING_ECORRUPT);
    grading_day_counters_init(&acc);
    assert_int_equal(grading_store_days_sum(t, "kr", "s1", 0, 20, &acc), GRADING_ECORRUPT);
    /* A range that does not reach the bad record is fine. */
    grading_day_counters_init(&acc);
    assert_int_equal(grading_store_days_sum(t, "kr", "s1", 0, 9, &acc), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_store_close(st);
}

static void test_key_parts_out_of_limits_are_einval(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, 0, 0);
    char long_id[GRADING_MAX_ID_LEN + 2];
    memset(long_id, 'x', GRADING_MAX_ID_LEN + 1);
    long_id[GRADING_MAX_ID_LEN + 1] = '\0';
    grading_txn_t *t;
    bool b;
    grading_order_t o = an_order(1);
    grading_day_counters_t d = a_day(1);
    assert_int_equal(grading_store_write_begin(st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_event_put(t, long_id, 1), GRADING_EINVAL);
    assert_int_equal(grading_store_event_put(t, "", 1), GRADING_EINVAL);
    assert_int_equal(grading_store_event_seen(t, long_id, &b), GRADING_EINVAL);
    assert_int_equal(grading_store_order_put(t, "kr", "", "o", &o), GRADING_EINVAL);
    assert_int_equal(grading_store_order_put(t, "kr", "s", long_id, &o), GRADING_EINVAL);
    assert_int_equal(grading_store_day_put(t, "kr", long_id, 0, &d), GRADING_EINVAL);
    assert_int_equal(grading_store_order_get(t, "kr", "s", "", &o, &b), GRADING_EINVAL);
    /* A record that cannot be encoded faithfully is refused too. */
    d.ncustom = GRADING_MAX_CUSTOM_PER_DAY + 1;
    assert_int_equal(grading_store_day_put(t, "kr", "s", 0, &d), GRADING_EINVAL);
    grading_txn_abort(t);
    grading_store_close(st);
}

/* ---- transactions ---- */

static void test_nested_abort_leaves_nothing_and_nested_commit_joins_parent(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, 0, 0);
    grading_txn_t *top, *child;
    bool seen;

    assert_int_equal(grading_store_write_begin(st, NULL, &top), GRADING_OK);
    assert_int_equal(grading_store_write_begin(st, top, &child), GRADING_OK);
    assert_int_equal(grading_store_event_put(child, "aborted", 1), GRADING_OK);
    put_day(child, "kr", "s", 1, 5);
    assert_int_equal(grading_store_event_seen(child, "aborted", &seen), GRADING_OK);
    assert_true(seen);
    grading_txn_abort(child);
    assert_int_equal(grading_store_event_seen(top, "aborted", &seen), GRADING_OK);
    assert_false(seen);

    assert_int_equal(grading_store_write_begin(st, top, &child), GRADING_OK);
    assert_int_equal(grading_store_event_put(child, "kept", 1), GRADING_OK);
    assert_int_equal(grading_txn_commit(child), GRADING_OK);
    assert_int_equal(grading_store_event_seen(top, "kept", &seen), GRADING_OK);
    assert_true(seen);
    assert_int_equal(grading_txn_commit(top), GRADING_OK);

    /* A parent's abort takes its committed children with it. */
    assert_int_equal(grading_store_write_begin(st, NULL, &top), GRADING_OK);
    assert_int_equal(grading_store_write_begin(st, top, &child), GRADING_OK);
    assert_int_equal(grading_store_event_put(child, "gone-with-parent", 1), GRADING_OK);
    assert_int_equal(grading_txn_commit(child), GRADING_OK);
    grading_txn_abort(top);

    grading_store_reader_t *r;
    grading_txn_t *t;
    grading_day_counters_t d;
    bool found;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_event_seen(t, "aborted", &seen), GRADING_OK);
    assert_false(seen);
    assert_int_equal(grading_store_day_get(t, "kr", "s", 1, &d, &found), GRADING_OK);
    assert_false(found);
    assert_int_equal(grading_store_event_seen(t, "kept", &seen), GRADING_OK);
    assert_true(seen);
    assert_int_equal(grading_store_event_seen(t, "gone-with-parent", &seen), GRADING_OK);
    assert_false(seen);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_store_close(st);
}

static void test_reader_sees_its_snapshot_and_renews_to_the_latest(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, 0, 0);
    grading_store_reader_t *r;
    grading_txn_t *rt, *wt, *again;
    bool seen;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &rt), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &again), GRADING_ESTATE);   /* one at a time */

    assert_int_equal(grading_store_write_begin(st, NULL, &wt), GRADING_OK);
    assert_int_equal(grading_store_event_put(wt, "later", 7), GRADING_OK);
    assert_int_equal(grading_txn_commit(wt), GRADING_OK);

    assert_int_equal(grading_store_event_seen(rt, "later", &seen), GRADING_OK);
    assert_false(seen);   /* the snapshot predates the commit */
    assert_int_equal(grading_store_event_put(rt, "no", 1), GRADING_ESTATE);
    grading_store_read_end(r);
    grading_store_read_end(r);   /* ending twice is harmless */

    assert_int_equal(grading_store_read_begin(r, &rt), GRADING_OK);
    assert_int_equal(grading_store_event_seen(rt, "later", &seen), GRADING_OK);
    assert_true(seen);
    grading_txn_abort(rt);   /* a reader's txn aborts as read_end */
    assert_int_equal(grading_store_read_begin(r, &rt), GRADING_OK);
    grading_store_reader_free(r);   /* frees an active reader too */
    grading_store_close(st);
}

/* ---- day sums ---- */

static void test_days_sum_scans_one_sellers_range_across_zero(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, 0, 0);
    grading_txn_t *t;
    assert_int_equal(grading_store_write_begin(st, NULL, &t), GRADING_OK);
    const int32_t days[] = {-400, -5, -1, 0, 1, 3, 10};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        put_day(t, "kr", "ab", days[i], INT64_C(1) << i);   /* one bit per day */
        put_day(t, "kr", "abc", days[i], 1000);             /* shares the name prefix */
        put_day(t, "kr", "a", days[i], 2000);               /* a prefix of it */
        put_day(t, "krx", "ab", days[i], 3000);             /* another marketplace */
    }
    grading_day_counters_t custom = a_day(0);
    custom.ncustom = 1;
    strcpy(custom.custom[0].name, "late");
    custom.custom[0].value = 1.25;
    assert_int_equal(grading_store_day_put(t, "kr", "ab", 2, &custom), GRADING_OK);
    custom.custom[0].value = 2.0;
    assert_int_equal(grading_store_day_put(t, "kr", "ab", -2, &custom), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);

    grading_store_reader_t *r;
    grading_day_counters_t acc;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);

    grading_day_counters_init(&acc);
    assert_int_equal(grading_store_days_sum(t, "kr", "ab", -5, 3, &acc), GRADING_OK);
    /* days -5, -1, 0, 1, 3 are bits 1..5 */
    assert_true(acc.c[GRADING_C_ORDERS] == (2 + 4 + 8 + 16 + 32));
    assert_true(acc.c[GRADING_C_GMV] == (2 + 4 + 8 + 16 + 32) * 1000);
    assert_true(grading_day_counters_custom(&acc, "late") == 3.25);

    grading_day_counters_init(&acc);
    assert_int_equal(grading_store_days_sum(t, "kr", "ab", INT32_MIN, INT32_MAX, &acc),
                     GRADING_OK);
    assert_true(acc.c[GRADING_C_ORDERS] == 127);

    /* Bounds are inclusive; a sum adds onto what acc held. */
    grading_day_counters_init(&acc);
    acc.c[GRADING_C_ORDERS] = 1000000;
    assert_int_equal(grading_store_days_sum(t, "kr", "ab", -1, -1, &acc), GRADING_OK);
    assert_true(acc.c[GRADING_C_ORDERS] == 1000004);

    /* Empty ranges: between records, before all, after all, reversed. */
    const int32_t empty[][2] = {{4, 9}, {-1000, -401}, {11, 1000}, {3, -5}};
    for (size_t i = 0; i < 4; i++) {
        grading_day_counters_init(&acc);
        assert_int_equal(grading_store_days_sum(t, "kr", "ab", empty[i][0], empty[i][1], &acc),
                         GRADING_OK);
        assert_true(acc.c[GRADING_C_ORDERS] == 0);
        assert_int_equal(acc.ncustom, 0);
    }

    /* The other sellers see only their own. */
    grading_day_counters_init(&acc);
    assert_int_equal(grading_store_days_sum(t, "kr", "abc", -5, 3, &acc), GRADING_OK);
    assert_true(acc.c[GRADING_C_ORDERS] == 5000);
    grading_day_counters_init(&acc);
    assert_int_equal(grading_store_days_sum(t, "kr", "a", -400, 10, &acc), GRADING_OK);
    assert_true(acc.c[GRADING_C_ORDERS] == 14000);
    grading_day_counters_init(&acc);
    assert_int_equal(grading_store_days_sum(t, "kr", "zz", -400, 10, &acc), GRADING_OK);
    assert_true(acc.c[GRADING_C_ORDERS] == 0);
    assert_int_equal(grading_store_days_sum(t, "kr", "", 0, 1, &acc), GRADING_EINVAL);

    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_store_close(st);
}

/* ---- map growth ---- */

#define SMALL_MAP (UINT64_C(512) << 10)
#define SMALL_MAX (UINT64_C(2) << 20)

/* Commits day records in small transactions until the map is full.
 * Returns how many were committed; *next is the next record number. */
static int fill_until_full(grading_store_t *st, int *next)
{
    int committed = 0;
    for (int round = 0; round < 100000; round++) {
        grading_txn_t *t;
        grading_err_t err = grading_store_write_begin(st, NULL, &t);
        assert_int_equal(err, GRADING_OK);
        for (int i = 0; i < 16 && !err; i++) {
            char seller[32];
            snprintf(seller, sizeof seller, "seller-%06d", *next + i);
            grading_day_counters_t d = a_day(*next + i);
            err = grading_store_day_put(t, "kr", seller, 0, &d);
        }
        if (err) {
            assert_int_equal(err, GRADING_EFULL);
            grading_txn_abort(t);
            return committed;
        }
        err = grading_txn_commit(t);
        if (err) {
            assert_int_equal(err, GRADING_EFULL);
            return committed;
        }
        committed += 16;
        *next += 16;
    }
    fail_msg("the map never filled up");
    return committed;
}

static void test_full_map_is_efull_and_grows_to_its_maximum(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, SMALL_MAP, SMALL_MAX);
    assert_true(grading_store_map_size(st) == SMALL_MAP);
    int next = 0;
    int first = fill_until_full(st, &next);
    assert_true(first > 0);

    /* Readers that exist (reset) do not stop a grow, and read after it. */
    grading_store_reader_t *r;
    grading_txn_t *t;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    grading_store_read_end(r);

    uint64_t size = SMALL_MAP;
    int grows = 0;
    while (grading_store_grow(st) == GRADING_OK) {
        assert_true(grading_store_map_size(st) == size * 2);
        size *= 2;
        grows++;
        int more = fill_until_full(st, &next);
        assert_true(more > 0);   /* the bigger map took more records */
        assert_true(grows <= 8);
    }
    assert_int_equal(grows, 2);   /* 512 KiB -> 1 MiB -> 2 MiB, then the maximum */
    assert_true(grading_store_map_size(st) == SMALL_MAX);
    assert_int_equal(grading_store_grow(st), GRADING_EFULL);
    int none = fill_until_full(st, &next);
    assert_int_equal(none, 0);

    /* Everything committed is there, through the reader that lived across grows. */
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    grading_day_counters_t d;
    bool found;
    assert_int_equal(grading_store_day_get(t, "kr", "seller-000000", 0, &d, &found), GRADING_OK);
    assert_true(found);
    char last[32];
    snprintf(last, sizeof last, "seller-%06d", next - 1);
    assert_int_equal(grading_store_day_get(t, "kr", last, 0, &d, &found), GRADING_OK);
    assert_true(found && d.c[GRADING_C_ORDERS] == next - 1);
    snprintf(last, sizeof last, "seller-%06d", next);
    assert_int_equal(grading_store_day_get(t, "kr", last, 0, &d, &found), GRADING_OK);
    assert_false(found);   /* the failed transaction left nothing */
    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_store_close(st);

    /* Reopened, the data is all there. */
    st = open_store(f->dir, SMALL_MAP, SMALL_MAX);
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    grading_day_counters_t acc;
    grading_day_counters_init(&acc);
    snprintf(last, sizeof last, "seller-%06d", next - 1);
    assert_int_equal(grading_store_days_sum(t, "kr", last, 0, 0, &acc), GRADING_OK);
    assert_true(acc.c[GRADING_C_ORDERS] == next - 1);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_store_close(st);
}

/* Another process (raw LMDB, in a child) grows the map and fills it past
 * our mapping: our next transactions adopt the new size and go on. */
#define CHILD_MAP (UINT64_C(4) << 20)
static int child_grows_the_map(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
        mdb_env_set_mapsize(env, CHILD_MAP) || mdb_env_open(env, dir, 0, 0640))
        return 1;
    if (mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "events", 0, &dbi)) return 2;
    char key[32], val[200];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "child-%d", i);
        MDB_val k = {strlen(key), key}, v = {sizeof val, val};
        if (mdb_put(txn, dbi, &k, &v, 0)) return 3;
    }
    if (mdb_txn_commit(txn)) return 4;
    mdb_env_close(env);
    return 0;
}

static void test_map_grown_by_another_process_is_adopted(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, SMALL_MAP, SMALL_MAX);
    grading_store_reader_t *r;
    grading_txn_t *t;
    bool seen = false;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);   /* a slot, then reset */
    grading_store_read_end(r);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(child_grows_the_map(f->dir));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_event_seen(t, "child-2999", &seen), GRADING_OK);
    assert_true(seen);
    grading_store_read_end(r);
    assert_true(grading_store_map_size(st) == CHILD_MAP);

    /* A new reader and a writer work with the adopted size too. */
    grading_store_reader_t *r2;
    assert_int_equal(grading_store_reader_new(st, &r2), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r2, &t), GRADING_OK);
    grading_store_read_end(r2);
    grading_store_reader_free(r2);
    assert_int_equal(grading_store_write_begin(st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_event_put(t, "after", 1), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
    grading_store_reader_free(r);
    grading_store_close(st);
}

/* An unsynced commit is readable at once; grading_store_sync then makes it
 * stand like a synced one (that it is on disk only after the sync is the
 * power-cut test's to show: e2e.test_powercut). */
static void test_unsynced_commit_is_visible_and_stands_after_sync(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, 0, 0);
    grading_txn_t *t, *child;
    assert_int_equal(grading_store_write_begin(st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_event_put(t, "ev-u1", 1700000000000), GRADING_OK);
    assert_int_equal(grading_store_write_begin(st, t, &child), GRADING_OK);
    assert_int_equal(grading_store_event_put(child, "ev-u2", 1700000000000), GRADING_OK);
    uint64_t before = grading_store_last_txnid(st);
    grading_commit_info_t ci = {0};
    assert_int_equal(grading_txn_commit_unsynced(child, NULL), GRADING_OK);   /* nested: joins t */
    assert_int_equal(grading_txn_commit_unsynced(t, &ci), GRADING_OK);
    /* it wrote: its own id is the last, one past the one before */
    assert_true(ci.wrote);
    assert_int_equal(ci.txnid, before + 1);
    assert_int_equal(grading_store_last_txnid(st), before + 1);

    /* a commit that changed nothing writes no meta page and syncs nothing:
     * it must not be taken to carry the one before to disk */
    assert_int_equal(grading_store_write_begin(st, NULL, &t), GRADING_OK);
    ci = (grading_commit_info_t){.txnid = 0, .wrote = true};
    assert_int_equal(grading_txn_commit_unsynced(t, &ci), GRADING_OK);
    assert_false(ci.wrote);
    assert_int_equal(ci.txnid, before + 1);

    grading_store_reader_t *r;
    bool seen = false;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_event_seen(t, "ev-u1", &seen), GRADING_OK);
    assert_true(seen);
    assert_int_equal(grading_store_event_seen(t, "ev-u2", &seen), GRADING_OK);
    assert_true(seen);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    assert_int_equal(grading_store_sync(st), GRADING_OK);
    /* a later synced commit goes on from the unsynced one */
    assert_int_equal(grading_store_write_begin(st, NULL, &t), GRADING_OK);
    assert_int_equal(grading_store_event_put(t, "ev-u3", 1700000000000), GRADING_OK);
    assert_int_equal(grading_txn_commit(t), GRADING_OK);
    grading_store_close(st);

    st = open_store(f->dir, 0, 0);
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    const char *const ids[] = {"ev-u1", "ev-u2", "ev-u3"};
    for (size_t i = 0; i < 3; i++) {
        seen = false;
        assert_int_equal(grading_store_event_seen(t, ids[i], &seen), GRADING_OK);
        assert_true(seen);
    }
    assert_int_equal(grading_store_event_seen(t, "ev-u4", &seen), GRADING_OK);
    assert_false(seen);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    grading_store_close(st);
}

/* Counted: records with a mask set, orders and inquiries, of this seller
 * only; a record whose appeals were all restored (an appeal count, no
 * mask) is written with exclusions but is not counted. */
static void test_excluded_records_counts_masks_of_one_seller(void **state)
{
    fixture_t *f = *state;
    grading_store_t *st = open_store(f->dir, 0, 0);
    grading_txn_t *t;
    assert_int_equal(grading_store_write_begin(st, NULL, &t), GRADING_OK);
    grading_order_t plain = an_order(1700000000000), appealed = plain, exempt = plain, restored = plain;
    appealed.appeal_mask = 1u << 3;
    exempt.exempt_mask = 1u << 5;
    restored.appeals = 2;   /* appealed and restored twice: no mask left */
    grading_inquiry_t q = {.received_ms = 1700000000000}, qx = q;
    qx.exempt_mask = 1;
    assert_int_equal(grading_store_order_put(t, "kr", "s1", "o1", &plain), GRADING_OK);
    assert_int_equal(grading_store_order_put(t, "kr", "s1", "o2", &appealed), GRADING_OK);
    assert_int_equal(grading_store_order_put(t, "kr", "s1", "o3", &exempt), GRADING_OK);
    assert_int_equal(grading_store_order_put(t, "kr", "s1", "o4", &restored), GRADING_OK);
    assert_int_equal(grading_store_inquiry_put(t, "kr", "s1", "q1", &q), GRADING_OK);
    assert_int_equal(grading_store_inquiry_put(t, "kr", "s1", "q2", &qx), GRADING_OK);
    /* neighbours in key order: another seller, another marketplace */
    assert_int_equal(grading_store_order_put(t, "kr", "s10", "o1", &appealed), GRADING_OK);
    assert_int_equal(grading_store_order_put(t, "kr", "s", "o1", &exempt), GRADING_OK);
    assert_int_equal(grading_store_order_put(t, "jp", "s1", "o1", &appealed), GRADING_OK);
    uint32_t n = 99;
    assert_int_equal(grading_store_excluded_records(t, "kr", "s1", &n), GRADING_OK);
    assert_int_equal(n, 3);
    assert_int_equal(grading_store_excluded_records(t, "kr", "s2", &n), GRADING_OK);
    assert_int_equal(n, 0);
    assert_int_equal(grading_store_excluded_records(t, "jp", "s1", &n), GRADING_OK);
    assert_int_equal(n, 1);
    grading_txn_abort(t);
    grading_store_close(st);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_creates_the_directory_and_data_survives_reopen),
        T(test_directory_under_a_regular_file_is_eio_naming_it),
        T(test_bad_options_are_einval_naming_the_option),
        T(test_second_open_of_a_directory_in_use_is_eio),
        T(test_other_schema_version_is_ecorrupt),
        T(test_corrupt_records_are_ecorrupt),
        T(test_key_parts_out_of_limits_are_einval),
        T(test_nested_abort_leaves_nothing_and_nested_commit_joins_parent),
        T(test_reader_sees_its_snapshot_and_renews_to_the_latest),
        T(test_days_sum_scans_one_sellers_range_across_zero),
        T(test_full_map_is_efull_and_grows_to_its_maximum),
        T(test_map_grown_by_another_process_is_adopted),
        T(test_unsynced_commit_is_visible_and_stands_after_sync),
        T(test_excluded_records_counts_masks_of_one_seller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
