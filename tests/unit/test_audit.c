/* The audit database: entries come back oldest first with every field,
 * two entries of one millisecond both stay, a clock that steps back does
 * not reorder the trail, --since and the limit, an aborted transaction
 * leaves no entry, and a reader transaction cannot write one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/audit.h"
#include "grading/store.h"

typedef struct {
    char root[64];
    grading_store_t *st;
    grading_audit_entry_t got[16];
    size_t n;
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
    strcpy(f->root, "/tmp/grading-audit-XXXXXX");
    if (!mkdtemp(f->root)) return -1;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/data", f->root);
    grading_store_options_t o = {.dir = dir, .map_size = 1 << 20, .max_map_size = 1 << 24};
    grading_error_t e = {0};
    if (grading_store_open(&o, &f->st, &e)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    grading_store_close(f->st);
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static grading_audit_entry_t entry(int64_t ms, const char *method)
{
    grading_audit_entry_t e = {.time_ms = ms};
    snprintf(e.caller, sizeof e.caller, "settlement");
    snprintf(e.method, sizeof e.method, "%s", method);
    snprintf(e.marketplace, sizeof e.marketplace, "testmart");
    snprintf(e.period, sizeof e.period, "2026-10");
    snprintf(e.policy_version, sizeof e.policy_version, "0123456789abcdef");
    snprintf(e.detail, sizeof e.detail, "detail of %s", method);
    grading_audit_count(&e, "sellers_evaluated", ms);
    grading_audit_count(&e, "negative", -5);
    return e;
}

static void put(fixture_t *f, const grading_audit_entry_t *e, bool commit)
{
    grading_txn_t *txn = NULL;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_audit_put(txn, e), GRADING_OK);
    if (commit) assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    else grading_txn_abort(txn);
}

static grading_err_t collect(void *ctx, const grading_audit_entry_t *e)
{
    fixture_t *f = ctx;
    if (f->n >= 16) return GRADING_EFULL;
    f->got[f->n++] = *e;
    return GRADING_OK;
}

static void list(fixture_t *f, int64_t since, uint32_t limit)
{
    grading_store_reader_t *r = NULL;
    grading_txn_t *txn = NULL;
    f->n = 0;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &txn), GRADING_OK);
    assert_int_equal(grading_store_audit_foreach(txn, since, limit, collect, f), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
}

static void test_round_trip_and_order(void **state)
{
    fixture_t *f = *state;
    grading_audit_entry_t a = entry(2000, "ClosePeriod"), b = entry(1000, "ReloadPolicy"),
                          c = entry(2000, "RecordEvents");
    put(f, &a, true);
    put(f, &b, true);   /* the clock stepped back: kept after a */
    put(f, &c, true);   /* same millisecond as a: both kept */
    list(f, INT64_MIN, 0);
    assert_int_equal(f->n, 3);
    assert_string_equal(f->got[0].method, "ClosePeriod");
    assert_string_equal(f->got[1].method, "ReloadPolicy");
    assert_string_equal(f->got[2].method, "RecordEvents");
    assert_memory_equal(&f->got[0], &a, sizeof a);   /* every field back as written */
    assert_int_equal(f->got[1].time_ms, 1000);
    assert_int_equal(f->got[0].ncounts, 2);
    assert_string_equal(f->got[0].counts[1].name, "negative");
    assert_int_equal(f->got[0].counts[1].value, -5);
}

static void test_since_and_limit(void **state)
{
    fixture_t *f = *state;
    for (int64_t t = 1; t <= 5; t++) {
        grading_audit_entry_t e = entry(t * 1000, "RecordEvents");
        put(f, &e, true);
    }
    list(f, 3000, 0);
    assert_int_equal(f->n, 3);
    assert_int_equal(f->got[0].time_ms, 3000);
    assert_int_equal(f->got[2].time_ms, 5000);
    list(f, 3001, 0);
    assert_int_equal(f->n, 2);
    list(f, INT64_MIN, 2);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->got[1].time_ms, 2000);
    list(f, 6000, 0);
    assert_int_equal(f->n, 0);
    /* a step back is keyed after the last entry, and --since still
     * compares its own time: listed from its time, not before */
    grading_audit_entry_t back = entry(2500, "ReloadAuthz");
    put(f, &back, true);
    list(f, 2400, 0);
    assert_int_equal(f->n, 4);
    assert_int_equal(f->got[3].time_ms, 2500);
    list(f, 4000, 0);
    assert_int_equal(f->n, 2);   /* 4000, 5000; not the 2500 keyed after them */
}

static void test_signed_times(void **state)
{
    fixture_t *f = *state;
    grading_audit_entry_t neg = entry(-1000, "ReloadAuthz"), pos = entry(1000, "ReloadPolicy");
    put(f, &neg, true);
    put(f, &pos, true);
    list(f, -2000, 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->got[0].time_ms, -1000);
    list(f, 0, 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->got[0].time_ms, 1000);
}

static void test_abort_and_reader(void **state)
{
    fixture_t *f = *state;
    grading_audit_entry_t e = entry(1000, "ClosePeriod");
    put(f, &e, false);
    list(f, INT64_MIN, 0);
    assert_int_equal(f->n, 0);

    grading_store_reader_t *r = NULL;
    grading_txn_t *txn = NULL;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &txn), GRADING_OK);
    assert_int_equal(grading_store_audit_put(txn, &e), GRADING_ESTATE);
    grading_store_read_end(r);
    grading_store_reader_free(r);

    /* too many counts are dropped past the limit, not overflowed */
    for (int i = 0; i < GRADING_AUDIT_MAX_COUNTS + 3; i++) grading_audit_count(&e, "x", i);
    assert_int_equal(e.ncounts, GRADING_AUDIT_MAX_COUNTS);
}

static void test_prune(void **state)
{
    fixture_t *f = *state;
    for (int64_t t = 1; t <= 5; t++) {
        grading_audit_entry_t e = entry(t * 1000, "RecordEvents");
        put(f, &e, true);
    }
    grading_txn_t *txn = NULL;
    uint32_t removed = 99;
    /* bounded: two of the three older than 4000 */
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_audit_prune(txn, 4000, 2, &removed), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_int_equal(removed, 2);
    list(f, INT64_MIN, 0);
    assert_int_equal(f->n, 3);
    assert_int_equal(f->got[0].time_ms, 3000);
    /* the rest before 4000, and no further */
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_audit_prune(txn, 4000, 100, &removed), GRADING_OK);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_int_equal(removed, 1);
    list(f, INT64_MIN, 0);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->got[0].time_ms, 4000);
    /* nothing old: nothing removed; an empty trail is fine */
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_audit_prune(txn, 4000, 100, &removed), GRADING_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(grading_store_audit_prune(txn, 10000, 100, &removed), GRADING_OK);
    assert_int_equal(removed, 2);
    assert_int_equal(grading_store_audit_prune(txn, 10000, 100, &removed), GRADING_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_since_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
