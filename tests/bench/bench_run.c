/* grading_bench's workers: closed loop, N threads, each owning one blocking
 * client, keep exactly one call in flight for S seconds per case.
 *
 * Throughput is calls over the wall time from the first thread's start to
 * the last one's end; latency is each call's own time on the monotonic
 * clock, kept in a preallocated per-thread array (bounded; calls past its
 * end still count, only their sample is not kept), merged and sorted once
 * per case for p50/p99 (nearest rank). The maximum is tracked over every
 * call, sampled or not.
 *
 * Every reply is checked, outside the timed span: a non-OK status, or an
 * OK reply that says something wrong (fewer events accepted than sent, a
 * boost count unlike the id count, a boost that is not finite and >= 0, an
 * unknown seller not given the neutral boost, a grade report without a
 * programme or, asked to explain, without reasons), counts as an error and
 * its items (events recorded, ids answered) do not count. The first few
 * errors of a case are printed. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define METHOD_HEALTH "/grpc.health.v1.Health/Check"
#define METHOD_RECORD "/grading.v1.GradingService/RecordEvents"
#define METHOD_METRICS "/grading.v1.GradingService/GetSellerMetrics"
#define METHOD_BOOSTS "/grading.v1.GradingService/GetRankingBoosts"
#define METHOD_GRADE "/grading.v1.GradingService/GetGrade"

static void report_error(bench_worker_t *w, const char *what, const char *status, const char *details)
{
    w->errors++;
    pthread_mutex_lock(w->cc->print_mu);
    unsigned n = (*w->cc->printed)++;
    if (n < BENCH_PRINTED_ERRORS)
        fprintf(stderr, "grading_bench: %s: thread %u: %s: %s%s%s\n", w->cc->cd->name, w->idx, what, status,
                details && details[0] ? ": " : "", details ? details : "");
    pthread_mutex_unlock(w->cc->print_mu);
}

static void record_latency(bench_worker_t *w, int64_t ns)
{
    if (w->nlat < BENCH_LAT_CAP) w->lat[w->nlat++] = ns;
    if (ns > w->max_ns) w->max_ns = ns;
}

/* One call: counts it and times it. Returns the decoded reply (the caller
 * frees it with protobuf_c_message_free_unpacked), or NULL after counting
 * and printing the error when the call failed or its status is not OK. */
static ProtobufCMessage *do_call(bench_worker_t *w, const char *method, const ProtobufCMessage *req,
                                 const ProtobufCMessageDescriptor *resp_desc)
{
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    int64_t t = bench_mono_ns();
    grading_err_t err = grading_client_call(w->client, method, req, resp_desc, BENCH_CALL_TIMEOUT_MS, &resp, &res);
    int64_t dt = bench_mono_ns() - t;
    w->calls++;
    record_latency(w, dt);

    if (err) report_error(w, method, grading_err_name(err), res.details);
    else if (res.status != GRPC_STATUS_OK) report_error(w, method, grading_status_name(res.status), res.details);
    else if (!resp) report_error(w, method, "OK", "but no reply message");
    grading_call_result_destroy(&res);
    if (err || res.status != GRPC_STATUS_OK) {
        if (resp) protobuf_c_message_free_unpacked(resp, NULL);
        return NULL;
    }
    return resp;
}

/* ---- the cases: one call each, its reply checked ---- */

static void call_health(bench_worker_t *w)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    Grpc__Health__V1__HealthCheckResponse *h =
        (void *)do_call(w, METHOD_HEALTH, &req.base, &grpc__health__v1__health_check_response__descriptor);
    if (!h) return;
    if (h->status != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
        report_error(w, METHOD_HEALTH, "OK", "but not SERVING");
    protobuf_c_message_free_unpacked(&h->base, NULL);
}

static char *pick_known(const bench_names_t *n, uint64_t *rng)
{
    return n->known[bench_rng_below(rng, (uint32_t)n->nknown)];
}

static char *random_seller(bench_worker_t *w)
{
    return pick_known(w->cc->names, &w->stream.rng);
}

static void call_metrics(bench_worker_t *w)
{
    Grading__V1__GetSellerMetricsRequest req = GRADING__V1__GET_SELLER_METRICS_REQUEST__INIT;
    req.marketplace = (char *)w->cc->o->marketplace;
    req.seller_id = random_seller(w);
    Grading__V1__SellerMetrics *m = (void *)do_call(w, METHOD_METRICS, &req.base,
                                                    &grading__v1__seller_metrics__descriptor);
    if (!m) return;
    /* Every queried seller was seeded: an empty answer is wrong. */
    if (m->n_metrics == 0) report_error(w, METHOD_METRICS, "OK", "but no metrics for a seeded seller");
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* Sends the first n events of the worker's slots. */
static void send_batch(bench_worker_t *w, uint32_t n)
{
    Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
    for (uint32_t i = 0; i < n; i++) w->evp[i] = &w->slots[i].ev;
    req.n_events = n;
    req.events = w->evp;
    Grading__V1__RecordEventsResponse *r = (void *)do_call(w, METHOD_RECORD, &req.base,
                                                           &grading__v1__record_events_response__descriptor);
    if (!r) return;
    if (r->accepted != n || r->duplicates != 0) {
        char why[96];
        snprintf(why, sizeof why, "sent %u fresh events, accepted %u, duplicates %u", n, r->accepted,
                 r->duplicates);
        report_error(w, METHOD_RECORD, "OK", why);
    } else {
        w->items += n;
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void call_record(bench_worker_t *w, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) bench_stream_next(&w->stream, &w->slots[i]);
    send_batch(w, n);
}

void bench_pick_ids(const bench_names_t *names, uint64_t *rng, uint32_t n, char **ids, bool *unknown)
{
    for (uint32_t i = 0; i < n; i++) {
        unknown[i] = bench_rng_below(rng, BENCH_UNKNOWN_ONE_IN) == 0;
        ids[i] = unknown[i] ? names->unknown[bench_rng_below(rng, BENCH_UNKNOWN_POOL)]
                            : pick_known(names, rng);
    }
}

static void call_boosts(bench_worker_t *w, uint32_t n)
{
    double neutral = w->cc->o->neutral_boost;
    bench_pick_ids(w->cc->names, &w->stream.rng, n, w->ids, w->unknown);
    Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    req.marketplace = (char *)w->cc->o->marketplace;
    req.n_seller_ids = n;
    req.seller_ids = w->ids;
    Grading__V1__GetRankingBoostsResponse *r = (void *)do_call(w, METHOD_BOOSTS, &req.base,
                                                               &grading__v1__get_ranking_boosts_response__descriptor);
    if (!r) return;
    char why[160] = "";
    if (r->n_boosts != n) {
        snprintf(why, sizeof why, "sent %u seller ids, got %zu boosts", n, r->n_boosts);
    } else {
        for (uint32_t i = 0; i < n && !why[0]; i++) {
            double b = r->boosts[i];
            if (!isfinite(b) || b < 0)
                snprintf(why, sizeof why, "boosts[%u] = %g for seller \"%s\": not finite and >= 0", i, b,
                         w->ids[i]);
            else if (w->unknown[i] && b != neutral)
                snprintf(why, sizeof why, "boosts[%u] = %g for unknown seller \"%s\", want the neutral %g", i, b,
                         w->ids[i], neutral);
        }
    }
    if (why[0]) report_error(w, METHOD_BOOSTS, "OK", why);
    else w->items += n;
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Why a grade report is wrong, in why; "" when it is fine. */
static void check_grade(const Grading__V1__GradeReport *g, const char *seller, bool explain, char *why,
                        size_t len)
{
    why[0] = '\0';
    if (!g->seller_id || strcmp(g->seller_id, seller) != 0) {
        snprintf(why, len, "asked for seller \"%s\", the report is for \"%s\"", seller,
                 g->seller_id ? g->seller_id : "");
        return;
    }
    if (g->n_programs == 0) {
        snprintf(why, len, "no programme graded for seller \"%s\" (does the marketplace have a grading scheme?)",
                 seller);
        return;
    }
    for (size_t p = 0; p < g->n_programs; p++) {
        const Grading__V1__ProgramGrade *pg = g->programs[p];
        const char *prog = pg->program ? pg->program : "";
        if (!prog[0]) snprintf(why, len, "programs[%zu] has no name", p);
        else if (!pg->live || pg->live->level < 1)
            snprintf(why, len, "programme %s: no live grade (level >= 1) for seller \"%s\"", prog, seller);
        else if (explain && pg->n_reasons == 0)
            snprintf(why, len, "programme %s: explain gave no reasons for seller \"%s\"", prog, seller);
        else if (!explain && (pg->n_reasons || pg->n_advice))
            snprintf(why, len, "programme %s: %zu reasons and %zu advice without explain", prog, pg->n_reasons,
                     pg->n_advice);
        if (why[0]) return;
    }
}

static void call_grade(bench_worker_t *w, bool explain)
{
    Grading__V1__GetGradeRequest req = GRADING__V1__GET_GRADE_REQUEST__INIT;
    req.marketplace = (char *)w->cc->o->marketplace;
    req.seller_id = random_seller(w);
    req.explain = explain;
    Grading__V1__GradeReport *g = (void *)do_call(w, METHOD_GRADE, &req.base, &grading__v1__grade_report__descriptor);
    if (!g) return;
    char why[192];
    check_grade(g, req.seller_id, explain, why, sizeof why);
    if (why[0]) report_error(w, METHOD_GRADE, "OK", why);
    protobuf_c_message_free_unpacked(&g->base, NULL);
}

static void seed_run(bench_worker_t *w)
{
    uint32_t n = 0;
    for (int s = w->seed_from; s < w->cc->o->sellers && !bench_stop; s += w->seed_step) {
        w->stream.fixed_seller = s;
        for (int e = 0; e < BENCH_SEED_ORDERS * BENCH_ORDER_EVENTS; e++) {
            bench_stream_next(&w->stream, &w->slots[n++]);
            if (n == BENCH_SEED_BATCH) {
                send_batch(w, n);
                n = 0;
            }
        }
    }
    if (n && !bench_stop) send_batch(w, n);
    w->stream.fixed_seller = -1;   /* the cases after seeding pick sellers at random */
}

static void *worker_main(void *arg)
{
    bench_worker_t *w = arg;
    const bench_case_def_t *cd = w->cc->cd;

    w->t_start = bench_mono_ns();
    if (cd->kind == CASE_SEED) {
        seed_run(w);
        w->t_end = bench_mono_ns();
        return NULL;
    }
    int64_t deadline = w->t_start + (int64_t)w->cc->o->seconds * 1000000000;
    while (!bench_stop && bench_mono_ns() < deadline) {
        switch (cd->kind) {
        case CASE_HEALTH: call_health(w); break;
        case CASE_METRICS: call_metrics(w); break;
        case CASE_RECORD: call_record(w, cd->batch); break;
        case CASE_BOOSTS: call_boosts(w, cd->batch); break;
        case CASE_GRADE: call_grade(w, cd->explain); break;
        case CASE_SEED: break;
        }
    }
    w->t_end = bench_mono_ns();
    return NULL;
}

/* ---- one case on every thread, and its figures ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of them at or below it. */
static double percentile_ms(const int64_t *sorted, size_t n, double p)
{
    if (n == 0) return 0;
    size_t rank = (size_t)(p * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)sorted[rank - 1] / 1e6;
}

int bench_run_case(bench_worker_t *ws, int nthreads, const bench_case_ctx_t *cc, bench_case_result_t *r)
{
    pthread_t tids[BENCH_MAX_THREADS];
    int started = 0, rc = 0;

    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", cc->cd->name);
    r->kind = cc->cd->kind;
    r->batch = cc->cd->batch;
    for (int i = 0; i < nthreads; i++) {
        bench_worker_t *w = &ws[i];
        w->cc = cc;
        w->nlat = 0;
        w->max_ns = 0;
        w->calls = w->errors = w->items = 0;
        w->t_start = w->t_end = 0;
        w->seed_from = i;
        w->seed_step = nthreads;
    }
    for (int i = 0; i < nthreads; i++) {
        int e = pthread_create(&tids[i], NULL, worker_main, &ws[i]);
        if (e) {
            fprintf(stderr, "grading_bench: cannot start a thread: %s\n", strerror(e));
            rc = -1;
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    if (rc) return rc;

    int64_t t0 = INT64_MAX, t1 = 0, max_ns = 0;
    size_t nsamples = 0;
    for (int i = 0; i < nthreads; i++) {
        bench_worker_t *w = &ws[i];
        if (w->t_start < t0) t0 = w->t_start;
        if (w->t_end > t1) t1 = w->t_end;
        if (w->max_ns > max_ns) max_ns = w->max_ns;
        r->calls += w->calls;
        r->items += w->items;
        r->errors += w->errors;
        nsamples += w->nlat;
    }
    r->seconds = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
    r->max_ms = (double)max_ns / 1e6;
    r->samples = nsamples;
    int64_t *all = malloc((nsamples ? nsamples : 1) * sizeof *all);
    if (!all) {
        fprintf(stderr, "grading_bench: out of memory merging latencies\n");
        return -1;
    }
    size_t at = 0;
    for (int i = 0; i < nthreads; i++) {
        memcpy(all + at, ws[i].lat, ws[i].nlat * sizeof *all);
        at += ws[i].nlat;
    }
    qsort(all, nsamples, sizeof *all, cmp_i64);
    r->p50_ms = percentile_ms(all, nsamples, 0.50);
    r->p99_ms = percentile_ms(all, nsamples, 0.99);
    free(all);
    r->ran = true;
    return 0;
}
