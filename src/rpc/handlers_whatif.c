/* EvaluatePolicy: decode and check the candidate (as a reload would), run
 * the what-if (whatif.h) on the close worker, off the completion-queue
 * threads, and encode its answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "grading/whatif.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

#define WHATIF_DEFAULT_IDS 10
#define WHATIF_DEFAULT_NAME "candidate.yaml"

/* On a completion-queue thread: queue the call for the worker. */
void rpc_handle_evaluate_policy(call_slot_t *s, const ProtobufCMessage *msg)
{
    (void)msg;
    s->worker_run = rpc_whatif_run;
    rpc_close_worker_submit(rpc_close_worker(s), s);
}

static bool stopping(void *ctx)
{
    return rpc_shutting_down(ctx);
}

static void set_changes(Grading__V1__SellerChanges *pb, char **ptrs, const grading_whatif_set_t *set)
{
    grading__v1__seller_changes__init(pb);
    pb->sellers = set->count;
    for (uint32_t i = 0; i < set->nids; i++) ptrs[i] = set->ids[i];
    pb->seller_ids = ptrs;
    pb->n_seller_ids = set->nids;
}

/* Encodes r and answers. */
static void answer(call_slot_t *s, const grading_marketplace_t *mp, const grading_policy_t *cand, int64_t as_of,
                   const grading_whatif_result_t *r)
{
    Grading__V1__EvaluatePolicyResponse resp = GRADING__V1__EVALUATE_POLICY_RESPONSE__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Grading__V1__SellerChanges sets[3];
    size_t ncells = 0;
    for (uint32_t p = 0; p < r->nprograms; p++) ncells += (size_t)r->programs[p].nlevels * r->programs[p].nlevels;
    Grading__V1__ProgramTransitions *progs = calloc(r->nprograms ? r->nprograms : 1, sizeof *progs);
    Grading__V1__ProgramTransitions **prog_ptrs = calloc(r->nprograms ? r->nprograms : 1, sizeof *prog_ptrs);
    Grading__V1__LevelTransition *cells = calloc(ncells ? ncells : 1, sizeof *cells);
    Grading__V1__LevelTransition **cell_ptrs = calloc(ncells ? ncells : 1, sizeof *cell_ptrs);
    char **ids = calloc(3 * (size_t)GRADING_WHATIF_MAX_IDS, sizeof *ids);
    if (!progs || !prog_ptrs || !cells || !cell_ptrs || !ids) {
        rpc_reply(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL);
        goto done;
    }
    resp.marketplace = (char *)mp->name;
    rpc_timestamp_set(&ts, as_of);
    resp.as_of = &ts;
    resp.current_version = (char *)grading_policy_version(s->policy);
    resp.candidate_version = (char *)grading_policy_version(cand);
    resp.sellers = r->sellers;
    size_t c = 0;
    for (uint32_t p = 0; p < r->nprograms; p++) {
        const grading_whatif_matrix_t *m = &r->programs[p];
        grading__v1__program_transitions__init(&progs[p]);
        progs[p].program = (char *)m->program;
        progs[p].transitions = &cell_ptrs[c];
        for (uint32_t i = 0; i < m->nlevels; i++)
            for (uint32_t j = 0; j < m->nlevels; j++) {
                if (!m->counts[i][j]) continue;
                grading__v1__level_transition__init(&cells[c]);
                cells[c].from_level = m->levels[i];
                cells[c].to_level = m->levels[j];
                cells[c].sellers = m->counts[i][j];
                cell_ptrs[c] = &cells[c];
                c++;
                progs[p].n_transitions++;
            }
        prog_ptrs[p] = &progs[p];
    }
    resp.programs = prog_ptrs;
    resp.n_programs = r->nprograms;
    set_changes(&sets[0], ids, &r->boost);
    set_changes(&sets[1], ids + GRADING_WHATIF_MAX_IDS, &r->suspension);
    set_changes(&sets[2], ids + 2 * GRADING_WHATIF_MAX_IDS, &r->ad_credit);
    resp.boost_changed = &sets[0];
    resp.suspension_changed = &sets[1];
    resp.ad_credit_changed = &sets[2];
    resp.ad_credit_before = r->ad_credit_before;
    resp.ad_credit_after = r->ad_credit_after;
    resp.currency = (char *)(mp->currency ? mp->currency : "");
    resp.mean_boost_before = r->mean_boost_before;
    resp.mean_boost_after = r->mean_boost_after;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
done:
    free(progs);
    free(prog_ptrs);
    free(cells);
    free(cell_ptrs);
    free(ids);
}

/* On the close worker. */
void rpc_whatif_run(call_slot_t *s)
{
    const Grading__V1__EvaluatePolicyRequest *req = (const void *)s->request;
    grading_error_t e = {0};
    grading_policy_t *cand = NULL;
    grading_policy_diags_t *diags = NULL;
    grading_whatif_result_t r = {0};
    const grading_marketplace_t *mp = rpc_resolve_marketplace(s, req->marketplace, "marketplace", &e);
    if (!mp) goto fail;
    if (!req->policy || !req->policy[0]) {
        grading_error_set(&e, GRADING_EINVAL, "policy", "the candidate policy's content is required");
        goto fail;
    }
    uint32_t nids = req->sample_ids ? req->sample_ids : WHATIF_DEFAULT_IDS;
    if (nids > GRADING_WHATIF_MAX_IDS) {
        grading_error_set(&e, GRADING_EINVAL, "sample_ids", "at most %d, got %u", GRADING_WHATIF_MAX_IDS, nids);
        goto fail;
    }
    /* checked exactly as a reload checks the policy file */
    const char *origin = req->policy_name && req->policy_name[0] ? req->policy_name : WHATIF_DEFAULT_NAME;
    if (!(diags = calloc(1, sizeof *diags))) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    grading_err_t err = grading_policy_load_buffer(origin, req->policy, strlen(req->policy), &cand, diags);
    if (err) {
        if (diags->count)
            grading_error_set(&e, GRADING_EINVAL, "policy", "%s: %s%s", diags->diags[0].where, diags->diags[0].message,
                              diags->count > 1 ? " (and more: gradectl policy check)" : "");
        else
            grading_error_set(&e, err, "policy", "the candidate policy cannot be loaded");
        goto fail;
    }
    int64_t as_of = req->as_of ? rpc_timestamp_ms(req->as_of) : rpc_now_ms(s);
    if (as_of < GRADING_MIN_TIME_MS || as_of >= GRADING_MAX_TIME_MS) {
        grading_error_set(&e, GRADING_EINVAL, "as_of", "out of the supported range");
        goto fail;
    }
    if ((err = grading_whatif_run(rpc_store(s), s->policy, cand, mp->name, as_of, nids, stopping, s, &r, &e)))
        goto fail;
    answer(s, mp, cand, as_of, &r);
    goto done;
fail:
    rpc_reply_error(s, &e);
done:
    grading_whatif_result_destroy(&r);
    grading_policy_unref(cand);
    free(diags);
}
