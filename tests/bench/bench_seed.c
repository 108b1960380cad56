/* grading_bench --seed-in-process: the sellers seeded straight into the
 * store before gradingd starts, so the boost cases can run over up to
 * 1,000,000 sellers without minutes of RecordEvents first.
 *
 * Each seller gets BENCH_SEED_ORDERS_IN_PROCESS order timelines from the
 * same generator as the RPC seeding (bench_events.c), turned into core
 * events as the server does (rpc_event_from_pb), validated, and applied
 * with derive on in write transactions of whole sellers
 * (grading_bench_seed_txn), stamped now; the last one records the policy
 * as that of the last full walk, so gradingd skips its start-up refresh
 * (every seller was just derived with it). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/wire/convert.h"
#include "bench.h"
#include "grading/assess.h"
#include "grading/event.h"
#include "grading/policy.h"

#define REFRESH_META "refreshed_with_policy"   /* src/app/refresh.c's */
#define TXN_EVENTS 20000                       /* a transaction: the server's own group bound */
#define BYTES_PER_EVENT 600                    /* the initial map's estimate; it grows if short */
#define MAX_MAP_SIZE (UINT64_C(64) << 30)

uint64_t bench_seed_map_size(const bench_opts_t *o)
{
    uint64_t est = (uint64_t)o->sellers * BENCH_SEED_ORDERS_IN_PROCESS * BENCH_ORDER_EVENTS * BYTES_PER_EVENT;
    uint64_t map = GRADING_STORE_DEFAULT_MAP_SIZE;
    while (map < est && map < MAX_MAP_SIZE) map *= 2;
    return map;
}

int bench_seed_in_process(const bench_opts_t *o, const char *policy_path, const char *data_dir)
{
    enum { PER_SELLER = BENCH_SEED_ORDERS_IN_PROCESS * BENCH_ORDER_EVENTS, TXN_SELLERS = TXN_EVENTS / PER_SELLER,
           CAP = TXN_SELLERS * PER_SELLER };
    grading_policy_t *p = NULL;
    grading_policy_diags_t *diags = calloc(1, sizeof *diags);
    grading_store_t *st = NULL;
    bench_ev_slot_t *slots = calloc(CAP, sizeof *slots);
    grading_event_t *ev = calloc(CAP, sizeof *ev);
    const char **mps = calloc(CAP, sizeof *mps);
    const grading_tz_t **zones = calloc(CAP, sizeof *zones);
    grading_error_t e = {0};
    int rc = -1;
    if (!diags || !slots || !ev || !mps || !zones) {
        fprintf(stderr, "grading_bench: out of memory for the in-process seeding\n");
        goto done;
    }
    if (grading_policy_load_file(policy_path, &p, diags)) {
        fprintf(stderr, "grading_bench: the policy %s does not load (%s)\n", policy_path,
                diags->count ? diags->diags[0].message : "no detail");
        goto done;
    }
    const grading_marketplace_t *mp = grading_policy_marketplace(p, o->marketplace);
    if (!mp) {
        fprintf(stderr, "grading_bench: the policy %s has no marketplace \"%s\"\n", policy_path, o->marketplace);
        goto done;
    }
    grading_store_options_t so = {.dir = data_dir, .map_size = bench_seed_map_size(o), .max_map_size = MAX_MAP_SIZE};
    if (grading_store_open(&so, &st, &e)) {
        fprintf(stderr, "grading_bench: cannot open the store in %s: %s\n", data_dir, e.message);
        goto done;
    }
    for (int i = 0; i < CAP; i++) {
        mps[i] = mp->name;
        zones[i] = &mp->tz;
    }
    bench_stream_t s;
    bench_stream_init(&s, "ip", o->marketplace, "seed", o->sellers, UINT64_C(0x5EED5EED));
    int64_t now = bench_wall_ms(), t0 = bench_mono_ns();
    int next_report = o->sellers / 10;
    for (int seller = 0; seller < o->sellers && !bench_stop;) {
        uint32_t n = 0;
        for (int k = 0; k < TXN_SELLERS && seller < o->sellers; k++, seller++) {
            s.fixed_seller = seller;
            for (int j = 0; j < PER_SELLER; j++, n++) {
                bench_stream_next(&s, &slots[n]);
                rpc_event_from_pb(&slots[n].ev, &ev[n]);
                if (!ev[n].currency[0]) ev[n].currency = mp->currency;
                if (grading_event_validate(&ev[n], n, &e)) {
                    fprintf(stderr, "grading_bench: a generated event is invalid (a bug here): %s: %s\n", e.field,
                            e.message);
                    goto done;
                }
            }
        }
        grading_ingest_batch_t b = {.events = ev, .marketplaces = mps, .zones = zones, .n = n,
                                    .derive = grading_assess_derive_cb, .derive_ctx = p};
        bool last = seller == o->sellers;
        if (grading_bench_seed_txn(st, &b, now, last ? REFRESH_META : NULL, grading_policy_version(p), &e)) {
            fprintf(stderr, "grading_bench: seeding in process: %s\n", e.message);
            goto done;
        }
        if (seller >= next_report && o->sellers >= 10) {
            fprintf(stderr, "grading_bench: seeded %d of %d sellers in process, %.1f s\n", seller, o->sellers,
                    (double)(bench_mono_ns() - t0) / 1e9);
            next_report += o->sellers / 10;
        }
    }
    rc = bench_stop ? -1 : 0;
done:
    if (st) grading_store_close(st);
    grading_policy_unref(p);
    free(diags);
    free(slots);
    free(ev);
    free(mps);
    free(zones);
    return rc;
}
