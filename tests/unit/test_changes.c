/* The change log (changes.h): sequence numbers, reads after a position,
 * records that round-trip, what a seller's re-derive logs (only what
 * moved), pruning by count and by age (bounded per append, never the
 * newest), nothing logged by an aborted transaction, and the filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/changes.h"
#include "grading/store.h"

typedef struct {
    char root[64];
    char dir[128];
    grading_store_t *st;
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
    strcpy(f->root, "/tmp/grading-changes-XXXXXX");
    if (!mkdtemp(f->root)) return -1;
    snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
    grading_store_options_t o = {.dir = f->dir};
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

static grading_change_t change(const char *mp, const char *seller, int64_t t, double boost)
{
    grading_change_t c = {.time_ms = t, .kinds = GRADING_CHANGE_BOOST, .boost = boost, .nlevels = 2,
                          .levels = {1, 3}};
    snprintf(c.mp, sizeof c.mp, "%s", mp);
    snprintf(c.seller, sizeof c.seller, "%s", seller);
    return c;
}

static void append(grading_store_t *st, grading_change_t *c)
{
    grading_txn_t *w;
    assert_int_equal(grading_store_write_begin(st, NULL, &w), GRADING_OK);
    assert_int_equal(grading_store_change_append(w, c), GRADING_OK);
    assert_int_equal(grading_txn_commit(w), GRADING_OK);
}

static void bounds(grading_store_t *st, uint64_t *first, uint64_t *last)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_changes_bounds(t, first, last), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
}

static size_t read_after(grading_store_t *st, uint64_t after, grading_change_t *out, size_t cap)
{
    grading_store_reader_t *r;
    grading_txn_t *t;
    size_t n;
    assert_int_equal(grading_store_reader_new(st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_changes_read(t, after, out, cap, &n), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return n;
}

static void test_sequence_starts_at_1_and_reads_resume_after_a_position(void **state)
{
    fixture_t *f = *state;
    uint64_t first, last;
    bounds(f->st, &first, &last);
    assert_int_equal(first, 0);
    assert_int_equal(last, 0);
    for (int i = 0; i < 5; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        grading_change_t c = change("testmart", id, 1000 + i, 1.0 + i);
        append(f->st, &c);
        assert_int_equal(c.seq, (uint64_t)i + 1);
    }
    bounds(f->st, &first, &last);
    assert_int_equal(first, 1);
    assert_int_equal(last, 5);
    grading_change_t out[8];
    size_t n = read_after(f->st, 2, out, 8);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].seq, 3);
    assert_string_equal(out[0].seller, "s2");
    assert_string_equal(out[0].mp, "testmart");
    assert_int_equal(out[0].time_ms, 1002);
    assert_true(out[0].boost == 3.0);
    assert_int_equal(out[0].nlevels, 2);
    assert_int_equal(out[0].levels[1], 3);
    assert_int_equal(out[2].seq, 5);
    assert_int_equal(read_after(f->st, 5, out, 8), 0);
    assert_int_equal(read_after(f->st, 0, out, 2), 2);   /* cap respected */
}

static void test_published_change_round_trips_its_period(void **state)
{
    fixture_t *f = *state;
    grading_change_t c = change("jpmart", "p1", 5, 0.5);
    c.kinds = GRADING_CHANGE_PUBLISHED;
    c.suspended = true;
    c.period_kind = 2;
    snprintf(c.period, sizeof c.period, "2026-Q3");
    append(f->st, &c);
    grading_change_t out[1];
    assert_int_equal(read_after(f->st, 0, out, 1), 1);
    assert_int_equal(out[0].kinds, GRADING_CHANGE_PUBLISHED);
    assert_true(out[0].suspended);
    assert_int_equal(out[0].period_kind, 2);
    assert_string_equal(out[0].period, "2026-Q3");
}

static void test_aborted_transaction_logs_nothing(void **state)
{
    fixture_t *f = *state;
    grading_txn_t *w;
    grading_change_t c = change("testmart", "a", 1, 1.0);
    assert_int_equal(grading_store_write_begin(f->st, NULL, &w), GRADING_OK);
    assert_int_equal(grading_store_change_append(w, &c), GRADING_OK);
    grading_txn_abort(w);
    uint64_t first, last;
    bounds(f->st, &first, &last);
    assert_int_equal(last, 0);
    append(f->st, &c);
    assert_int_equal(c.seq, 1);   /* the aborted number is not burnt: no gap a watcher would take for a loss */
}

static void test_count_limit_prunes_oldest_and_keeps_the_sequence(void **state)
{
    fixture_t *f = *state;
    grading_store_changes_limits(f->st, 0, 10);
    for (int i = 0; i < 25; i++) {
        grading_change_t c = change("testmart", "x", 1000 + i, 1.0);
        append(f->st, &c);
    }
    uint64_t first, last;
    bounds(f->st, &first, &last);
    assert_int_equal(last, 25);
    assert_int_equal(first, 16);   /* exactly 10 kept */
}

static void test_age_limit_prunes_old_entries_but_never_the_newest(void **state)
{
    fixture_t *f = *state;
    grading_store_changes_limits(f->st, 1000, 0);
    for (int i = 0; i < 5; i++) {
        grading_change_t c = change("testmart", "x", 100 + i, 1.0);
        append(f->st, &c);
    }
    grading_change_t late = change("testmart", "x", 1102, 1.0);   /* 100..101 are older than 1102-1000 */
    append(f->st, &late);
    uint64_t first, last;
    bounds(f->st, &first, &last);
    assert_int_equal(first, 3);
    assert_int_equal(last, 6);
    grading_change_t much_later = change("testmart", "x", 1000000, 1.0);
    append(f->st, &much_later);
    bounds(f->st, &first, &last);
    assert_int_equal(first, 7);   /* everything else expired; the newest stays */
    assert_int_equal(last, 7);
    grading_change_t next = change("testmart", "x", 1000001, 1.0);
    append(f->st, &next);
    assert_int_equal(next.seq, 8);
}

static void test_pruning_is_bounded_per_append(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 3 * GRADING_CHANGES_PRUNE_STEP; i++) {
        grading_change_t c = change("testmart", "x", 10, 1.0);
        append(f->st, &c);
    }
    grading_store_changes_limits(f->st, 0, 1);
    grading_change_t c = change("testmart", "x", 10, 1.0);
    append(f->st, &c);
    uint64_t first, last;
    bounds(f->st, &first, &last);
    assert_int_equal(first, GRADING_CHANGES_PRUNE_STEP + 1);   /* one step's worth, not the whole backlog */
    for (int i = 0; i < 4; i++) append(f->st, &c);
    bounds(f->st, &first, &last);
    assert_int_equal(first, last);   /* caught up: only the newest remains */
}

static grading_err_t note(grading_store_t *st, const grading_seller_state_t *old, const grading_seller_state_t *now,
                          const int32_t *levels, uint32_t n, int64_t t)
{
    grading_txn_t *w;
    assert_int_equal(grading_store_write_begin(st, NULL, &w), GRADING_OK);
    grading_err_t err = grading_store_change_note_seller(w, "testmart", "s", old, now, levels, n, t);
    assert_int_equal(grading_txn_commit(w), GRADING_OK);
    return err;
}

static void test_note_seller_logs_only_what_moved(void **state)
{
    fixture_t *f = *state;
    grading_seller_state_t a = {.boost = 1.0}, b = a;
    int32_t lv[2] = {2, 3};
    grading_change_t out[8];
    /* first derive: everything is new */
    assert_int_equal(note(f->st, NULL, &a, lv, 2, 10), GRADING_OK);
    assert_int_equal(read_after(f->st, 0, out, 8), 1);
    assert_int_equal(out[0].kinds, GRADING_CHANGE_BOOST | GRADING_CHANGE_SUSPENSION | GRADING_CHANGE_LEVELS);
    /* the same answer again: nothing */
    assert_int_equal(note(f->st, &a, &b, lv, 2, 11), GRADING_OK);
    assert_int_equal(read_after(f->st, 1, out, 8), 0);
    /* a level moves, the boost does not */
    lv[0] = 1;
    assert_int_equal(note(f->st, &a, &b, lv, 2, 12), GRADING_OK);
    assert_int_equal(read_after(f->st, 1, out, 8), 1);
    assert_int_equal(out[0].kinds, GRADING_CHANGE_LEVELS);
    assert_int_equal(out[0].levels[0], 1);
    /* the boost and the suspension move, the levels do not */
    b.boost = 1.3;
    b.suspended = true;
    assert_int_equal(note(f->st, &a, &b, lv, 2, 13), GRADING_OK);
    assert_int_equal(read_after(f->st, 2, out, 8), 1);
    assert_int_equal(out[0].kinds, GRADING_CHANGE_BOOST | GRADING_CHANGE_SUSPENSION);
    assert_true(out[0].boost == 1.3);
    assert_true(out[0].suspended);
    assert_int_equal(out[0].time_ms, 13);
}

static void test_filter_by_marketplace_sellers_and_kinds(void **state)
{
    (void)state;
    grading_change_t c = change("testmart", "bob", 1, 1.0);
    grading_change_filter_t all = {0};
    assert_true(grading_change_matches(&all, &c));
    grading_change_filter_t mp = {.mp = "nymart"};
    assert_false(grading_change_matches(&mp, &c));
    mp.mp = "testmart";
    assert_true(grading_change_matches(&mp, &c));
    const char *ids[] = {"alice", "bob", "carol"};   /* sorted */
    grading_change_filter_t sel = {.sellers = ids, .nsellers = 3};
    assert_true(grading_change_matches(&sel, &c));
    snprintf(c.seller, sizeof c.seller, "bo");
    assert_false(grading_change_matches(&sel, &c));
    grading_change_filter_t kinds = {.kinds = GRADING_CHANGE_PUBLISHED | GRADING_CHANGE_SUSPENSION};
    assert_false(grading_change_matches(&kinds, &c));
    c.kinds |= GRADING_CHANGE_SUSPENSION;
    assert_true(grading_change_matches(&kinds, &c));
}

static void test_append_refuses_a_reader_transaction(void **state)
{
    fixture_t *f = *state;
    grading_store_reader_t *r;
    grading_txn_t *t;
    grading_change_t c = change("testmart", "x", 1, 1.0);
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &t), GRADING_OK);
    assert_int_equal(grading_store_change_append(t, &c), GRADING_ESTATE);
    grading_store_read_end(r);
    grading_store_reader_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sequence_starts_at_1_and_reads_resume_after_a_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_published_change_round_trips_its_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aborted_transaction_logs_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_limit_prunes_oldest_and_keeps_the_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_age_limit_prunes_old_entries_but_never_the_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pruning_is_bounded_per_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_seller_logs_only_what_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_by_marketplace_sellers_and_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_refuses_a_reader_transaction, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
