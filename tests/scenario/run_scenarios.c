/* run_scenarios FILE: runs one scenario file against the real engine.
 *
 * A scenario file holds events, generated from compact descriptions, and
 * the answers the engine must give about them as of a time. For each case
 * the program generates the events, applies them through the ingest path
 * (grading_ingest_apply in write transactions of at most 5,000 events,
 * stored at and derived as of the case's as_of, the hot-path record derived
 * in the same transaction), assesses the seller as of as_of
 * (grading_assess_seller) and compares every expectation. It prints
 *
 *   ok - NAME
 *   FAIL - NAME: what differed (expected X, got Y); ...
 *
 * one line per case, and exits 0 when all pass, 1 when a case fails, 2 when
 * the file itself is bad (reported as file:line: reason before anything
 * runs) or the store cannot be used. Each case has its own seller
 * (scenario-seller-0001, -0002, ... by position) in one store, created in
 * a fresh mkdtemp directory under $TMPDIR (or /tmp) and removed at exit.
 *
 * FORMAT (YAML; unknown or duplicate keys are errors):
 *
 *   policy: ../../../policies/tmon.yaml   # relative to this file
 *   marketplace: tmon                     # optional; default: the policy's
 *   templates:                            # optional, never read: a place
 *     - &on_time {count: 990, paid: 2026-10-01T10:00:00+09:00}  # for anchors
 *   cases:
 *     - name: shipping delay 0.49% scores 5 points     # unique in the file
 *       as_of: 2026-11-01T00:00:00+09:00               # RFC 3339 with offset
 *       marketplace: tmon                              # optional, per case
 *       orders:             # each item: `count` orders (default 1) alike
 *         - *on_time                              # an alias of a template
 *         - count: 9951
 *           paid: 2026-10-01T10:00:00+09:00            # required
 *           amount: 10000                              # minor units; default 0
 *           ship_within_days: 3       # the promise; default 0 (engine's default)
 *           reserved_ship_date: 2026-10-09T00:00:00+09:00
 *           product_id: p1            # default p1
 *           overseas: false
 *           shipped_after_hours: 24   # default 24; a cancelled order ships
 *                                     # only when this is given
 *           unshipped: true           # no shipped event
 *           tracking_valid: true      # default true
 *           delivered_after_hours: 72
 *           auto_completed: true      # needs delivered_after_hours
 *           cancelled: {fault: seller, reason: out_of_stock, after_hours: 1}
 *           returned: seller          # or {fault: seller, after_hours: 168}
 *           exchanged: buyer          # the same forms
 *           non_receipt: true         # or {after_hours: 168}
 *           review: {rating: 5, recommendation: strongly_recommend}
 *           satisfaction: 80          # a delivery satisfaction score 0..100
 *       inquiries:          # exactly one of answered_after_hours / unanswered
 *         - {count: 10, received: 2026-10-02T10:00:00+09:00, answered_after_hours: 2}
 *         - {count: 10, received: 2026-10-02T10:00:00+09:00, unanswered: true}
 *       revenue: [{at: 2026-10-01T00:00:00+09:00, amount: 1000000, count: 12}]
 *       custom: [{at: 2026-10-01T00:00:00+09:00, name: x, value: 1, count: 1}]
 *       expect:             # at least one item; names must exist in the policy
 *         metrics: {shipping_delay_rate: 0.0049, inquiry_answer_rate: insufficient}
 *         scores: {shipping_delay_points: 5, inquiry_verdict: fit}  # or unavailable
 *         grades: {service: 1, sales: 5}            # levels
 *         labels: {service: "1"}
 *         new_seller: {service: true}               # decided by not enough data
 *         grade_scores: {sales: 4.75}               # a programme's score
 *         reasons: {service: "capped at level 3"}   # text (or list) found in a reason
 *         not_reasons: {service: override}          # text found in no reason
 *         penalties: {service_grade: 1}             # stage, 0 = none
 *         suspended: false                          # assessed and stored
 *         withdrawals_held: false                   # assessed and stored
 *         boost: 1.2                                # assessed and stored
 *         grants: [super_click]                     # exactly these programmes
 *         tier: standard                            # or none
 *         convertible_points: 0
 *
 * Times of an order's stages are hours after `paid`; defaults: shipped 24,
 * cancelled 1, returned / exchanged / non-receipt 168. A review and a
 * satisfaction score come one hour after the order's last stage. Numbers
 * may group digits with '_' (100_000_000) and end in '%' (0.49%); they
 * are compared with a relative tolerance of 1e-9. Enum words are the
 * proto's names in lower case. `count` is at most 200,000 per item and a
 * case at most 2,000,000 items in all, so every loop is bounded. YAML
 * anchors and aliases (&on_time / *on_time) reuse an item; YAML merge
 * keys (<<) are not supported. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/store.h"
#include "scenario.h"

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void usage(void)
{
    fprintf(stderr, "usage: run_scenarios FILE.yaml\n"
                    "Runs the scenario file against the engine; the format is described in\n"
                    "tests/scenarios/README.md.\n");
}

int main(int argc, char **argv)
{
    static char msg[16384];
    scn_file_t file;
    grading_store_t *st = NULL;
    char dir[4096] = "";
    int rc = 2;
    size_t failed = 0;

    if (argc != 2 || argv[1][0] == '-') {
        usage();
        return 2;
    }
    if (scn_file_load(argv[1], &file, msg, sizeof msg)) {
        fprintf(stderr, "%s\n", msg);
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/grading-scenario-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot create a temporary directory %s: %s\n", dir, strerror(errno));
        dir[0] = '\0';
        goto out;
    }
    grading_store_options_t opts = {.dir = dir};
    grading_error_t e;
    if (grading_store_open(&opts, &st, &e)) {
        grading_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "cannot open a store in %s: %s\n", dir, msg);
        goto out;
    }
    printf("# %s: %zu cases\n", argv[1], file.ncases);
    for (size_t i = 0; i < file.ncases; i++) {
        const scn_case_t *c = &file.cases[i];
        if (scn_case_apply(st, &file, i, msg, sizeof msg)) {
            printf("FAIL - %s: events not applied: %s\n", c->name, msg);
            failed++;
        } else if (!scn_case_check(st, &file, i, msg, sizeof msg)) {
            printf("FAIL - %s: %s\n", c->name, msg);
            failed++;
        } else {
            printf("ok - %s\n", c->name);
        }
        fflush(stdout);
    }
    printf("# %zu passed, %zu failed\n", file.ncases - failed, failed);
    rc = failed ? 1 : 0;
out:
    if (st) grading_store_close(st);
    if (dir[0] && nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "cannot remove %s: %s\n", dir, strerror(errno));
    scn_file_destroy(&file);
    return rc;
}
