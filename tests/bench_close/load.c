/* The hot-path load: T threads, each with its own blocking client and one
 * GetRankingBoosts call in flight, CB_BOOST_IDS random seeded sellers a
 * call, until told to stop. Each completed call's wall time (client side,
 * from the request to the decoded reply or the status) is one sample,
 * failed calls included; every reply is checked, and a failed call or a
 * wrong reply counts as an error (the first one is kept to be printed). Samples are kept in memory, up to CB_LAT_CAP
 * per thread, and merged at the end for exact quantiles. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "close_bench.h"
#include "grading/v1/grading.pb-c.h"

#define METHOD_BOOSTS "/grading.v1.GradingService/GetRankingBoosts"

typedef struct {
    grading_client_t *client;
    uint32_t sellers;
    const char *policy_version;
    const atomic_bool *stop;
    uint64_t rng;
    pthread_t thread;
    bool started;
    cb_lat_t lat;
    char ids[CB_BOOST_IDS][CB_ID_LEN];
    char *ptrs[CB_BOOST_IDS];
} worker_t;

struct cb_load {
    atomic_bool stop;
    int n;
    worker_t *w;
};

void cb_lat_destroy(cb_lat_t *l)
{
    free(l->us);
    memset(l, 0, sizeof *l);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

double cb_lat_quantile_ms(cb_lat_t *l, double q)
{
    if (!l->n) return 0;
    qsort(l->us, l->n, sizeof *l->us, cmp_u32);
    size_t rank = (size_t)ceil(q * (double)l->n);
    if (rank < 1) rank = 1;
    if (rank > l->n) rank = l->n;
    return l->us[rank - 1] / 1000.0;
}

static void lat_add(cb_lat_t *l, uint32_t us)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint32_t *p = cap <= CB_LAT_CAP ? realloc(l->us, cap * sizeof *p) : NULL;
        if (!p) {
            l->dropped++;
            return;
        }
        l->us = p;
        l->cap = cap;
    }
    l->us[l->n++] = us;
}

static void lat_error(cb_lat_t *l, const char *fmt, const char *a, const char *b)
{
    if (!l->errors++) snprintf(l->first_error, sizeof l->first_error, fmt, a, b);
}

/* One call: a latency sample, or an error when it failed or the reply is wrong. */
static void one_call(worker_t *w)
{
    for (int i = 0; i < CB_BOOST_IDS; i++) cb_seller_id(cb_rng_below(&w->rng, w->sellers), w->ids[i]);
    Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
    req.marketplace = CB_MARKETPLACE;
    req.n_seller_ids = CB_BOOST_IDS;
    req.seller_ids = w->ptrs;
    ProtobufCMessage *resp = NULL;
    grading_call_result_t res = {0};
    int64_t t0 = cb_mono_ns();
    grading_err_t err = grading_client_call(w->client, METHOD_BOOSTS, &req.base,
                                            &grading__v1__get_ranking_boosts_response__descriptor,
                                            CB_CALL_TIMEOUT_MS, &resp, &res);
    int64_t dt = cb_mono_ns() - t0;
    w->lat.calls++;
    if (err) {
        lat_error(&w->lat, "GetRankingBoosts could not be made: %s%s", grading_err_name(err), "");
    } else if (res.status != GRPC_STATUS_OK) {
        lat_error(&w->lat, "GetRankingBoosts failed: %s: %s", grading_status_name(res.status),
                  res.details ? res.details : "");
    } else {
        const Grading__V1__GetRankingBoostsResponse *r = (const void *)resp;
        bool ok = r->n_boosts == CB_BOOST_IDS;
        for (size_t i = 0; ok && i < r->n_boosts; i++) ok = isfinite(r->boosts[i]) && r->boosts[i] >= 0;
        if (!ok)
            lat_error(&w->lat, "GetRankingBoosts: wrong reply (%s boosts for %s ids, or one not finite and >= 0)",
                      r->n_boosts == CB_BOOST_IDS ? "as many" : "not as many", "the");
        else if (!r->policy_version || strcmp(r->policy_version, w->policy_version) != 0)
            lat_error(&w->lat, "GetRankingBoosts: policy_version %s, expected %s",
                      r->policy_version ? r->policy_version : "(none)", w->policy_version);
    }
    /* every call that completed is a sample, failed ones too: a call that
     * hit its deadline waited at least that long */
    if (!err) lat_add(&w->lat, dt / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(dt / 1000));
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    grading_call_result_destroy(&res);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    while (!atomic_load(w->stop) && !cb_stop) one_call(w);   /* cb_load_stop ends it */
    return NULL;
}

grading_err_t cb_load_start(grading_client_t **clients, int threads, uint32_t sellers,
                            const char *policy_version, uint64_t seed, cb_load_t **out)
{
    cb_load_t *l = calloc(1, sizeof *l);
    if (!l) return GRADING_ENOMEM;
    atomic_init(&l->stop, false);
    l->w = calloc((size_t)threads, sizeof *l->w);
    if (!l->w) {
        free(l);
        return GRADING_ENOMEM;
    }
    l->n = threads;
    for (int i = 0; i < threads; i++) {
        worker_t *w = &l->w[i];
        w->client = clients[i];
        w->sellers = sellers;
        w->policy_version = policy_version;
        w->stop = &l->stop;
        w->rng = seed * 1000 + (uint64_t)i;
        for (int k = 0; k < CB_BOOST_IDS; k++) w->ptrs[k] = w->ids[k];
        if (pthread_create(&w->thread, NULL, worker_main, w)) {
            cb_lat_t discard;
            cb_load_stop(l, &discard);
            cb_lat_destroy(&discard);
            return GRADING_EIO;
        }
        w->started = true;
    }
    *out = l;
    return GRADING_OK;
}

void cb_load_stop(cb_load_t *l, cb_lat_t *out)
{
    memset(out, 0, sizeof *out);
    atomic_store(&l->stop, true);
    size_t total = 0;
    for (int i = 0; i < l->n; i++) {
        if (l->w[i].started) pthread_join(l->w[i].thread, NULL);
        total += l->w[i].lat.n;
    }
    out->us = malloc((total ? total : 1) * sizeof *out->us);
    for (int i = 0; i < l->n; i++) {
        cb_lat_t *w = &l->w[i].lat;
        if (out->us && w->n) memcpy(out->us + out->n, w->us, w->n * sizeof *w->us);
        out->n += out->us ? w->n : 0;
        out->dropped += w->dropped + (out->us ? 0 : w->n);
        out->calls += w->calls;
        if (w->errors && !out->errors) snprintf(out->first_error, sizeof out->first_error, "%s", w->first_error);
        out->errors += w->errors;
        cb_lat_destroy(w);
    }
    out->cap = out->n;
    free(l->w);
    free(l);
}
