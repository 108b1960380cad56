/* The boost snapshot (src/store/boosts.c) through the store: it answers
 * what the committed seller records say, never what an aborted (or
 * nested-then-aborted) transaction put; it is rebuilt from disk at open;
 * past the delta's merge point it still agrees with every record; an id
 * that cannot be a key is refused; and readers racing a stream of
 * publishes only ever see committed values, in commit order (run under
 * ASan too, which catches a view freed under a reader). Each test works in
 * its own mkdtemp directory under /tmp, removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/store.h"

#define NEUTRAL 1.0

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

static void open_store(fixture_t *f)
{
    grading_store_options_t o = {.dir = f->dir};
    grading_error_t e = {0};
    grading_err_t err = grading_store_open(&o, &f->st, &e);
    if (err) fail_msg("open %s: %s %s", f->dir, grading_err_name(err), e.message);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->root, "/tmp/grading-boosts-XXXXXX");
    if (!mkdtemp(f->root)) return -1;
    snprintf(f->dir, sizeof f->dir, "%s/data", f->root);
    open_store(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->st) grading_store_close(f->st);
    int rc = nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static void put(grading_txn_t *txn, const char *mp, const char *seller, double boost)
{
    grading_seller_state_t s = {.boost = boost, .computed_ms = 1};
    strcpy(s.policy_version, "test");
    assert_int_equal(grading_store_seller_put(txn, mp, seller, &s), GRADING_OK);
}

static void put_committed(fixture_t *f, const char *mp, const char *seller, double boost)
{
    grading_txn_t *txn;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    put(txn, mp, seller, boost);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
}

static double boost_of(fixture_t *f, const char *mp, const char *seller)
{
    char *ids[1] = {(char *)seller};
    double b = -1;
    assert_int_equal(grading_store_boosts_get(f->st, mp, ids, 1, NEUTRAL, &b), GRADING_OK);
    return b;
}

/* The record's boost, read from LMDB; NEUTRAL when there is none. */
static double record_boost(fixture_t *f, const char *mp, const char *seller)
{
    grading_store_reader_t *r;
    grading_txn_t *txn;
    grading_seller_state_t s;
    bool found;
    assert_int_equal(grading_store_reader_new(f->st, &r), GRADING_OK);
    assert_int_equal(grading_store_read_begin(r, &txn), GRADING_OK);
    assert_int_equal(grading_store_seller_get(txn, mp, seller, &s, &found), GRADING_OK);
    grading_store_read_end(r);
    grading_store_reader_free(r);
    return found ? s.boost : NEUTRAL;
}

static void test_committed_puts_are_seen_and_aborted_ones_are_not(void **state)
{
    fixture_t *f = *state;
    assert_true(boost_of(f, "kr", "s1") == NEUTRAL);   /* an empty store: all neutral */
    put_committed(f, "kr", "s1", 1.25);
    assert_true(boost_of(f, "kr", "s1") == 1.25);
    assert_true(boost_of(f, "jp", "s1") == NEUTRAL);   /* another marketplace's seller */
    assert_true(boost_of(f, "kr", "s10") == NEUTRAL);  /* a longer id sharing a prefix */

    grading_txn_t *txn, *child;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    put(txn, "kr", "s1", 0.5);
    put(txn, "kr", "s2", 0.75);
    assert_true(boost_of(f, "kr", "s1") == 1.25);   /* not before the commit */
    grading_txn_abort(txn);
    assert_true(boost_of(f, "kr", "s1") == 1.25);
    assert_true(boost_of(f, "kr", "s2") == NEUTRAL);

    /* nested: an aborted child leaves nothing; a committed one counts with its parent */
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    assert_int_equal(grading_store_write_begin(f->st, txn, &child), GRADING_OK);
    put(child, "kr", "s3", 3.0);
    grading_txn_abort(child);
    assert_int_equal(grading_store_write_begin(f->st, txn, &child), GRADING_OK);
    put(child, "kr", "s4", 4.0);
    assert_int_equal(grading_txn_commit(child), GRADING_OK);
    put(txn, "kr", "s4", 4.5);   /* the parent's later put wins */
    assert_true(boost_of(f, "kr", "s4") == NEUTRAL);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_true(boost_of(f, "kr", "s3") == NEUTRAL);
    assert_true(boost_of(f, "kr", "s4") == 4.5);
    assert_true(record_boost(f, "kr", "s4") == 4.5);

    /* a seller changed and changed back within one transaction ends where it was */
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    put(txn, "kr", "s1", 2.0);
    put(txn, "kr", "s1", 1.25);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_true(boost_of(f, "kr", "s1") == 1.25);
    /* ...and one changed back to a value older than the last publish */
    put_committed(f, "kr", "s1", 2.0);
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    put(txn, "kr", "s1", 1.25);
    put(txn, "kr", "s1", 2.0);
    put(txn, "kr", "s1", 1.25);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    assert_true(boost_of(f, "kr", "s1") == 1.25);

    /* several ids in one call, in order */
    char *ids[] = {"s4", "nobody", "s1"};
    double out[3];
    assert_int_equal(grading_store_boosts_get(f->st, "kr", ids, 3, 0.9, out), GRADING_OK);
    assert_true(out[0] == 4.5 && out[1] == 0.9 && out[2] == 1.25);
}

static void test_the_snapshot_is_rebuilt_from_disk_at_open(void **state)
{
    fixture_t *f = *state;
    put_committed(f, "kr", "s1", 1.5);
    put_committed(f, "", "s2", 0.25);   /* a policy's unnamed default marketplace */
    grading_store_close(f->st);
    f->st = NULL;
    open_store(f);
    assert_true(boost_of(f, "kr", "s1") == 1.5);
    assert_true(boost_of(f, "", "s2") == 0.25);
    assert_true(boost_of(f, "kr", "s2") == NEUTRAL);
    uint64_t sellers, bytes;
    grading_store_boosts_stats(f->st, &sellers, &bytes);
    assert_int_equal(sellers, 2);
    assert_true(bytes > 0);
    /* re-deriving to the same boosts (a refresh walk) adds nothing to the
     * snapshot; a real change goes to its delta */
    grading_txn_t *txn;
    assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
    put(txn, "kr", "s1", 1.5);
    put(txn, "", "s2", 0.25);
    assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    grading_store_boosts_stats(f->st, &sellers, &bytes);
    assert_int_equal(sellers, 2);
    put_committed(f, "kr", "s1", 1.75);
    grading_store_boosts_stats(f->st, &sellers, &bytes);
    assert_int_equal(sellers, 3);   /* the base's and the delta's entry */
    assert_true(boost_of(f, "kr", "s1") == 1.75);
}

static void test_many_sellers_across_merges_agree_with_the_records(void **state)
{
    fixture_t *f = *state;
    enum { SELLERS = 20000, PER_TXN = 700, ROUNDS = 3 };
    char id[32];
    /* Three rounds over every seller in transactions of 700: the delta
     * passes its merge point several times; later rounds overwrite. */
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < SELLERS;) {
            grading_txn_t *txn;
            assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
            for (int k = 0; k < PER_TXN && i < SELLERS; k++, i++) {
                if (round > 0 && i % (round + 1)) continue;   /* a shrinking subset each round */
                snprintf(id, sizeof id, "seller-%06d", i);
                put(txn, "kr", id, (double)(round * 100000 + i) / 1000.0);
            }
            assert_int_equal(grading_txn_commit(txn), GRADING_OK);
        }
    }
    char *ids[SELLERS / 10];
    static char names[SELLERS / 10][32];
    double out[SELLERS / 10];
    for (int start = 0; start < SELLERS; start += SELLERS / 10) {
        for (int k = 0; k < SELLERS / 10; k++) {
            snprintf(names[k], sizeof names[k], "seller-%06d", start + k);
            ids[k] = names[k];
        }
        assert_int_equal(grading_store_boosts_get(f->st, "kr", ids, SELLERS / 10, NEUTRAL, out), GRADING_OK);
        for (int k = 0; k < SELLERS / 10; k++)
            if (out[k] != record_boost(f, "kr", ids[k]))
                fail_msg("%s: snapshot %g, record %g", ids[k], out[k], record_boost(f, "kr", ids[k]));
    }
    assert_true(boost_of(f, "kr", "seller-020000") == NEUTRAL);
}

static void test_an_id_that_cannot_be_a_key_is_refused(void **state)
{
    fixture_t *f = *state;
    char long_id[300];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    char *ids[] = {"ok", long_id};
    double out[2];
    assert_int_equal(grading_store_boosts_get(f->st, "kr", ids, 2, NEUTRAL, out), GRADING_EINVAL);
    char *empty[] = {""};
    assert_int_equal(grading_store_boosts_get(f->st, "kr", empty, 1, NEUTRAL, out), GRADING_EINVAL);
}

/* ---- readers racing publishes ---- */

enum { RACE_SELLERS = 64, RACE_COMMITS = 400, RACE_READERS = 4 };

typedef struct {
    fixture_t *f;
    atomic_bool done;
    atomic_int bad;          /* readers' findings */
    char names[RACE_SELLERS][16];
} race_t;

/* Commit c sets every seller's boost to c: a reader must see, within one
 * call, values that never go back and never pass the last commit. */
static void *race_reader(void *arg)
{
    race_t *r = arg;
    char *ids[RACE_SELLERS];
    double out[RACE_SELLERS], last = 0;
    for (int i = 0; i < RACE_SELLERS; i++) ids[i] = r->names[i];
    /* bounded: the writer ends after RACE_COMMITS commits */
    for (long calls = 0; calls < 10000000 && !atomic_load(&r->done); calls++) {
        if (grading_store_boosts_get(r->f->st, "kr", ids, RACE_SELLERS, 0, out) != GRADING_OK) {
            atomic_fetch_add(&r->bad, 1);
            break;
        }
        for (int i = 0; i < RACE_SELLERS; i++)
            if (out[i] != out[0] || out[i] < last || out[i] > RACE_COMMITS) atomic_fetch_add(&r->bad, 1);
        last = out[0];
    }
    return NULL;
}

static void test_readers_racing_publishes_see_whole_commits_in_order(void **state)
{
    fixture_t *f = *state;
    race_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->f = f;
    for (int i = 0; i < RACE_SELLERS; i++) snprintf(r->names[i], sizeof r->names[i], "r%02d", i);
    pthread_t tids[RACE_READERS];
    for (int t = 0; t < RACE_READERS; t++) assert_int_equal(pthread_create(&tids[t], NULL, race_reader, r), 0);
    for (int c = 1; c <= RACE_COMMITS; c++) {
        grading_txn_t *txn;
        assert_int_equal(grading_store_write_begin(f->st, NULL, &txn), GRADING_OK);
        for (int i = 0; i < RACE_SELLERS; i++) put(txn, "kr", r->names[i], (double)c);
        /* filler sellers, so the delta crosses its merge point during the race */
        for (int k = 0; k < 20; k++) {
            char id[24];
            snprintf(id, sizeof id, "fill-%d-%d", c, k);
            put(txn, "kr", id, 1.0);
        }
        assert_int_equal(grading_txn_commit(txn), GRADING_OK);
    }
    atomic_store(&r->done, true);
    for (int t = 0; t < RACE_READERS; t++) pthread_join(tids[t], NULL);
    assert_int_equal(atomic_load(&r->bad), 0);
    assert_true(boost_of(f, "kr", "r00") == RACE_COMMITS);
    free(r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_committed_puts_are_seen_and_aborted_ones_are_not),
        T(test_the_snapshot_is_rebuilt_from_disk_at_open),
        T(test_many_sellers_across_merges_agree_with_the_records),
        T(test_an_id_that_cannot_be_a_key_is_refused),
        T(test_readers_racing_publishes_see_whole_commits_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
