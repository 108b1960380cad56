/* run_scenarios FILE: runs one scenario file against the real engine.
 *
 * A scenario file holds events, generated from compact descriptions, and
 * the answers the engine must give about them as of a time. For each case
 * the program generates the events, applies them through the ingest path
 * (grading_ingest_apply in write transactions of at most 5,000 events,
 * stored at and derived as of the case's as_of, the hot-path record derived
 * in the same transaction), runs the case's period closes if it has any
 * (grading_close_period through an ingest writer, then the seller's stored
 * record derived again, as the server's refresh after a close does),
 * assesses the seller as of as_of (grading_assess_seller) and compares
 * every expectation. It prints
 *
 *   ok - NAME
 *   FAIL - NAME: what differed (expected X, got Y); ...
 *
 * one line per case, and exits 0 when all pass, 1 when a case fails, 2 when
 * the file itself is bad (reported as file:line: reason before anything
 * runs) or the store cannot be used. Each case has its own seller
 * (scenario-seller-0001, -0002, ... by position) in one store, created in
 * a fresh mkdtemp directory under $TMPDIR (or /tmp) and removed at exit.
 * A case with closes or exemptions runs in a store of its own (a close
 * or an exemption covers every seller of the marketplace, and must see
 * only this case's seller), opened for the case and removed after it.
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
 *                                     # only when this (or shipped_at) is given
 *           shipped_at: 2026-10-02T18:00:00+09:00  # or an absolute time
 *           unshipped: true           # no shipped event
 *           tracking_valid: true      # default true
 *           delivered_after_hours: 72
 *           delivered_at: 2026-10-04T12:00:00+09:00  # or an absolute time
 *           auto_completed: true      # needs a delivery
 *           cancelled: {fault: seller, reason: out_of_stock, after_hours: 1}
 *                                     # or at: TIME instead of after_hours
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
 *       closes:             # optional: period closes, in order, after the events
 *         - {kind: month, period: "2026-10"}     # or quarter "2026-Q3", year "2026"
 *         - kind: month
 *           period: "2026-10"
 *           orders: [...]         # events recorded just before this close
 *           already_closed: true  # expected answer; default false
 *           evaluated: 1          # sellers evaluated (optional)
 *           dry_run: false        # count only, write nothing
 *         - {kind: month, period: "2026-12", error: not ended}  # expected error text
 *       exemptions:         # optional: declared after the events (scenario_exempt.c)
 *         - {id: storm, from: 2026-10-05, to: 2026-10-05, metrics: [shipping_delay_rate],
 *            scope: overseas, product_id: p2,      # optional filters (scope: any)
 *            sellers_changed: 1, orders_changed: 1, # the walk's answer (optional)
 *            orders: [...]}                         # recorded after the declaration
 *         - {id: bad, from: 2026-10-05, to: 2026-10-04, metrics: all, error: "to:"}
 *       revoked: [storm]    # or {id: storm, orders_changed: 1}; after every declaration
 *       expect:             # at least one item; names must exist in the policy
 *         metrics: {shipping_delay_rate: 0.0049, inquiry_answer_rate: insufficient}
 *         scores: {shipping_delay_points: 5, inquiry_verdict: fit}  # or unavailable
 *         grades: {service: 1, sales: 5}            # levels
 *         labels: {service: "1"}
 *         new_seller: {service: true}               # decided by not enough data
 *         grade_scores: {sales: 4.75}               # a programme's score
 *         reasons: {service: "capped at level 3"}   # text (or list) found in a reason
 *         not_reasons: {service: override}          # text found in no reason
 *         published: {service: 5, sales: none}      # last closed period's level as of as_of
 *         published_period: {service: "2026-10"}    # which period that was, or none
 *         history: {service_grade5_strikes: 3}      # history values, or none
 *         penalties: {service_grade: 1}             # stage, 0 = none
 *         restrictions: {cancel_rate: [promotion_ban, listing_cap 500]}  # of that stage
 *         suspended: false                          # assessed and stored
 *         withdrawals_held: false                   # assessed and stored
 *         boost: 1.2                                # assessed and stored
 *         grants: [super_click]                     # exactly these programmes
 *         tier: standard                            # or none
 *         convertible_points: 0
 *         points: {month: -2, prev_month: 0, year: -2, dispatch: 1, delay: -2,
 *                  prev_month.dispatch: 1}   # service points (per-order rules)
 *         order_alerts: {caution: 1, restriction: 1}  # open late orders by stage
 *         stopped_products: [p1]                      # exactly these
 *         forecast:                  # GetGradeForecast (scenario_forecast.c)
 *           days: 30                                  # optional, 1..400
 *           seller_score: {date: 2026-11-09, level: 1, cause: on_time_ship_rate,
 *                          says: "20 events", thresholds: {late_shipment: 19}}
 *
 * A forecast expectation names per programme its first change (`date`, or
 * none), the level, the metric named as the cause (or none), text of the
 * sentence and, per event kind, the smallest number added today that moves
 * the level (or none); then the seller is assessed at the end of the
 * change day (the new level) and of the day before (not it).
 *
 * Times of an order's stages are hours after `paid`; defaults: shipped 24,
 * cancelled 1, returned / exchanged / non-receipt 168. shipped_at,
 * delivered_at and cancelled.at give the time itself instead (not before
 * paid; not with `months`). A review and a satisfaction score come one
 * hour after the order's last stage.
 *
 * The per-order expectations read grading_order_facts_t and need a
 * marketplace with per-order rules: `points` takes the totals month,
 * prev_month and year (the rounded sums the policy's points.* read) and
 * the rules of grading_points_rule_name (dispatch, delivery,
 * auto_completed, seller_fault_claim, non_receipt, strongly_recommend,
 * not_recommended, delay): this month's share, or with a prefix
 * prev_month.RULE / year.RULE; `order_alerts` counts the alerts (what
 * GetPenaltyState lists) at exactly each named stage, a stage left out
 * having none ({} for no late order), and also checks the policy's open
 * counts orders.caution .. restriction (that stage or later) against
 * the same numbers; `stopped_products` is the exact set of stopped
 * products ([] for none) and products.stopped its size. The engine lists
 * at most 64 alerts and 32 stopped products, so a file may expect at
 * most 63 and 31. Numbers
 * may group digits with '_' (100_000_000) and end in '%' (0.49%); they
 * are compared with a relative tolerance of 1e-9. Enum words are the
 * proto's names in lower case. `count` is at most 200,000 per item and a
 * case at most 2,000,000 items in all (`months: N` on a generator repeats
 * it N calendar months, first time's local day 1..28; items count every
 * repetition), at most 64 closes, so every loop is bounded. A close runs
 * with now = as_of, so as_of must be at or after the end of every period
 * closed (a file that says otherwise is a bad file) unless the close
 * expects an error; the error text is matched in "CODE: field: message"
 * (ESTATE: period: 2026-12 has not ended: ...). YAML
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

/* Opens a store in a new mkdtemp directory (dir receives its path; ""
 * when none was created). msg says what failed. */
static grading_err_t temp_store_open(char dir[4096], grading_store_t **st, char *msg, size_t msglen)
{
    const char *tmp = getenv("TMPDIR");
    grading_error_t e;
    grading_err_t err;
    *st = NULL;
    snprintf(dir, 4096, "%s/grading-scenario-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(msg, msglen, "cannot create a temporary directory %s: %s", dir, strerror(errno));
        dir[0] = '\0';
        return GRADING_EIO;
    }
    grading_store_options_t opts = {.dir = dir};
    if ((err = grading_store_open(&opts, st, &e))) {
        char why[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 4];
        grading_error_format(&e, why, sizeof why);
        snprintf(msg, msglen, "cannot open a store in %s: %s", dir, why);
        *st = NULL;
    }
    return err;
}

/* Closes the store (if open) and removes its directory (if created). */
static void temp_store_remove(char dir[4096], grading_store_t *st)
{
    if (st) grading_store_close(st);
    if (dir[0] && nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "cannot remove %s: %s\n", dir, strerror(errno));
    dir[0] = '\0';
}

/* Runs case i in st (the file's store, or for a case with closes or
 * exemptions a store of its own) and prints its line. Returns true when
 * it passed. */
static bool run_case(grading_store_t *shared, const scn_file_t *file, size_t i)
{
    static char msg[16384], exempted[16384], checked[16384];
    const scn_case_t *c = &file->cases[i];
    grading_store_t *st = shared;
    char dir[4096] = "";
    bool ok = false;

    if (scn_case_own_store(c) && temp_store_open(dir, &st, msg, sizeof msg)) {
        printf("FAIL - %s: no store of its own: %s\n", c->name, msg);
        goto out;
    }
    if (scn_case_apply(st, file, i, msg, sizeof msg)) {
        printf("FAIL - %s: events not applied: %s\n", c->name, msg);
        goto out;
    }
    if (scn_case_appeals(st, file, i, msg, sizeof msg)) {
        printf("FAIL - %s: appeals not applied: %s\n", c->name, msg);
        goto out;
    }
    /* the exemptions' differences first, then the closes', then the expectations' */
    bool exempt = !c->nexemptions || scn_case_exempt(st, file, i, exempted, sizeof exempted);
    bool closed = !c->ncloses || scn_case_close(st, file, i, msg, sizeof msg);
    bool matched = scn_case_check(st, file, i, checked, sizeof checked);
    if (exempt && closed && matched) {
        printf("ok - %s\n", c->name);
        ok = true;
    } else {
        const char *parts[] = {exempt ? NULL : exempted, closed ? NULL : msg, matched ? NULL : checked};
        const char *sep = "";
        printf("FAIL - %s: ", c->name);
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++)
            if (parts[k]) printf("%s%s", sep, parts[k]), sep = "; ";
        printf("\n");
    }
out:
    if (st != shared) temp_store_remove(dir, st);
    fflush(stdout);
    return ok;
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
    if (temp_store_open(dir, &st, msg, sizeof msg)) {
        fprintf(stderr, "%s\n", msg);
        goto out;
    }
    printf("# %s: %zu cases\n", argv[1], file.ncases);
    for (size_t i = 0; i < file.ncases; i++)
        if (!run_case(st, &file, i)) failed++;
    printf("# %zu passed, %zu failed\n", file.ncases - failed, failed);
    rc = failed ? 1 : 0;
out:
    temp_store_remove(dir, st);
    scn_file_destroy(&file);
    return rc;
}
