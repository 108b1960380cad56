/* gradectl policy diff FILE: EvaluatePolicy with FILE's content, printed
 * as a transition table per programme with a bar chart of the sellers who
 * move, then what changes for money (boosts, suspensions, ad credit). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/v1/grading.pb-c.h"

#define DIFF_MAX_FILE (4 * 1024 * 1024)   /* the server's request limit is the real bound */
#define DIFF_BAR_WIDTH 40

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(DIFF_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, DIFF_MAX_FILE + 1, f) : 0;
    bool bad = ferror(f) || n > DIFF_MAX_FILE;
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void print_ids(const char *what, const Grading__V1__SellerChanges *c)
{
    printf("%-22s %" PRIu64, what, c ? c->sellers : 0);
    if (c && c->n_seller_ids) {
        printf("  (");
        for (size_t i = 0; i < c->n_seller_ids; i++) printf("%s%s", i ? " " : "", c->seller_ids[i]);
        printf("%s)", c->sellers > c->n_seller_ids ? " ..." : "");
    }
    printf("\n");
}

static int print_diff(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__EvaluatePolicyResponse *r = (const void *)reply;
    (void)arg;
    printf("marketplace %s  sellers %" PRIu64 "  policy %s -> %s\n\n", r->marketplace, r->sellers, r->current_version,
           r->candidate_version);
    static const char *const head[] = {"FROM", "TO", "SELLERS", "SHARE", ""};
    for (size_t p = 0; p < r->n_programs; p++) {
        const Grading__V1__ProgramTransitions *pt = r->programs[p];
        uint64_t most = 1;
        for (size_t i = 0; i < pt->n_transitions; i++)
            if (pt->transitions[i]->sellers > most) most = pt->transitions[i]->sellers;
        printf("%s\n", pt->program);
        cli_table_t *t = cli_table_new_with_head(5, "rrrrl", head);
        if (!t) return CLI_EXIT_FAIL;
        for (size_t i = 0; i < pt->n_transitions; i++) {
            const Grading__V1__LevelTransition *c = pt->transitions[i];
            char from[16], to[16], n[24], share[16], bar[DIFF_BAR_WIDTH + 1];
            snprintf(from, sizeof from, "%" PRId32, c->from_level);
            snprintf(to, sizeof to, "%" PRId32, c->to_level);
            snprintf(n, sizeof n, "%" PRIu64, c->sellers);
            cli_format_percent(r->sellers ? (double)c->sellers / (double)r->sellers : 0, share, sizeof share);
            size_t len = (size_t)((double)c->sellers * DIFF_BAR_WIDTH / (double)most + 0.5);
            if (len == 0 && c->sellers) len = 1;
            /* '#' for sellers who move, '.' for those who stay */
            memset(bar, c->from_level == c->to_level ? '.' : '#', len);
            bar[len] = '\0';
            size_t sl = strlen(share);
            snprintf(share + sl, sizeof share - sl, "%%");
            const char *row[] = {from, to, n, share, bar};
            if (cli_table_add_row(t, row)) {
                cli_table_free(t);
                return CLI_EXIT_FAIL;
            }
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
        printf("\n");
    }
    print_ids("boost changes", r->boost_changed);
    print_ids("suspension changes", r->suspension_changed);
    print_ids("ad credit changes", r->ad_credit_changed);
    char before[32], after[32];
    printf("%-22s %" PRId64 " -> %" PRId64 " %s\n", "ad credit total", r->ad_credit_before, r->ad_credit_after,
           r->currency);
    cli_format_number(r->mean_boost_before, before, sizeof before);
    cli_format_number(r->mean_boost_after, after, sizeof after);
    printf("%-22s %s -> %s\n", "mean boost", before, after);
    return CLI_EXIT_OK;
}

int cli_policy_diff(cli_ctx_t *ctx, const cli_command_t *cmd, const char *file, const char *mp, const char *as_of,
                    const char *sample)
{
    Grading__V1__EvaluatePolicyRequest req = GRADING__V1__EVALUATE_POLICY_REQUEST__INIT;
    ProtobufCMessage *ts = NULL;
    int rc;
    if (sample) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(sample, &end, 10);
        if (!sample[0] || sample[0] == '-' || *end || errno || v == 0 || v > 1000)
            return cli_usage_error(cmd, "--sample must be 1..1000, got \"%s\"", sample);
        req.sample_ids = (uint32_t)v;
    }
    if (as_of && (rc = cli_parse_timestamp(cmd, "--as-of", as_of, &ts))) return rc;
    size_t len = 0;
    char *text = read_file(file, &len);
    if (!text) {
        fprintf(stderr, "gradectl: cannot read %s (or it is over %d bytes)\n", file, DIFF_MAX_FILE);
        free(ts);
        return CLI_EXIT_FAIL;
    }
    req.marketplace = (char *)(mp ? mp : "");
    req.policy = text;
    req.policy_name = (char *)file;
    req.as_of = (Google__Protobuf__Timestamp *)ts;
    rc = cli_call_and_print(ctx, "EvaluatePolicy", &req.base, &grading__v1__evaluate_policy_response__descriptor,
                            print_diff, NULL, NULL);
    free(text);
    free(ts);
    return rc;
}
