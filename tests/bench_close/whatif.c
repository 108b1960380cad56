/* The close bench's what-if phase (issue 14): EvaluatePolicy over every
 * seeded seller, the candidate being the bench's policy file with a
 * comment added (another version, the same rules: every seller is
 * assessed under both policies, which is the cost to measure), while the
 * GetRankingBoosts threads run. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "close_bench.h"
#include "grading/v1/grading.pb-c.h"

#define CB_WHATIF_MAX_POLICY (4 * 1024 * 1024)

static char *candidate_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(CB_WHATIF_MAX_POLICY + 64);
    size_t n = buf ? fread(buf, 1, CB_WHATIF_MAX_POLICY, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    snprintf(buf + n, 64, "\n# what-if candidate (grading_close_bench)\n");
    return buf;
}

int cb_whatif(grading_client_t **clients, int threads, uint32_t sellers, const char *policy_path,
              const char *policy_version, double *seconds, uint64_t *evaluated, cb_lat_t *busy)
{
    char *text = candidate_text(policy_path);
    if (!text) {
        fprintf(stderr, "grading_close_bench: cannot read %s for the what-if\n", policy_path);
        return -1;
    }
    cb_load_t *load = NULL;
    if (cb_load_start(clients + 1, threads, sellers, policy_version, 3, &load)) {
        free(text);
        return -1;
    }
    Grading__V1__EvaluatePolicyRequest req = GRADING__V1__EVALUATE_POLICY_REQUEST__INIT;
    req.marketplace = CB_MARKETPLACE;
    req.policy = text;
    req.policy_name = "candidate.yaml";
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    int64_t t0 = cb_mono_ns();
    grading_err_t err = grading_client_call(clients[0], "/grading.v1.GradingService/EvaluatePolicy", &req.base,
                                            &grading__v1__evaluate_policy_response__descriptor, CB_CLOSE_TIMEOUT_MS,
                                            &out, &res);
    *seconds = (double)(cb_mono_ns() - t0) / 1e9;
    cb_load_stop(load, busy);
    int rc = 0;
    if (err || res.status != GRPC_STATUS_OK) {
        fprintf(stderr, "grading_close_bench: EvaluatePolicy: %s %s\n", grading_status_name(res.status),
                res.details ? res.details : "");
        rc = -1;
    } else {
        const Grading__V1__EvaluatePolicyResponse *r = (const void *)out;
        *evaluated = r->sellers;
        /* same rules: nobody may move */
        uint64_t moved = r->boost_changed->sellers + r->suspension_changed->sellers + r->ad_credit_changed->sellers;
        for (size_t p = 0; p < r->n_programs; p++)
            for (size_t i = 0; i < r->programs[p]->n_transitions; i++)
                if (r->programs[p]->transitions[i]->from_level != r->programs[p]->transitions[i]->to_level)
                    moved += r->programs[p]->transitions[i]->sellers;
        if (r->sellers != sellers || moved) {
            fprintf(stderr, "grading_close_bench: the what-if evaluated %" PRIu64 " of %" PRIu32 " sellers, %" PRIu64
                            " moved under the same rules\n", r->sellers, sellers, moved);
            rc = -1;
        }
        protobuf_c_message_free_unpacked(out, NULL);
    }
    grading_call_result_destroy(&res);
    free(text);
    return rc;
}
