/* gradectl boosts: search ranking factors of many sellers (GetRankingBoosts).
 *
 * Sellers come from the command line and/or a file of one id per line
 * (blank lines and lines starting with # skipped, surrounding blanks
 * trimmed), in that order; the answer keeps it, one row per id given,
 * repeats included. Ids are checked here first (not empty, at most
 * GRADING_MAX_ID_LEN bytes) so a bad line is named by its file and line,
 * not by an index into a call. A list longer than one call allows goes out
 * in several calls of GRADING_MAX_EVENTS_PER_CALL ids; --json then prints
 * them joined as one reply. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/event.h"
#include "grading/v1/grading.pb-c.h"

/* Bad lines printed before the rest are only counted. */
#define BOOSTS_MAX_REPORTED 20

typedef struct {
    char **ids;        /* owned copies */
    size_t n, cap;
} ids_t;

static void ids_free(ids_t *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->ids[i]);
    free(l->ids);
}

static int ids_push(ids_t *l, const char *id, size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **grown = realloc(l->ids, cap * sizeof *grown);
        if (!grown) return -1;
        l->ids = grown;
        l->cap = cap;
    }
    if (!(l->ids[l->n] = strndup(id, len))) return -1;
    l->n++;
    return 0;
}

/* Reads one id a line from file ("-": stdin). Returns CLI_EXIT_FAIL when
 * the file cannot be read or has a bad line (each reported). */
static int read_ids(ids_t *l, const char *file)
{
    const char *shown = strcmp(file, "-") == 0 ? "<stdin>" : file;
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    char *buf = NULL;
    size_t bufcap = 0, bad = 0;
    long lineno = 0;
    ssize_t len;
    int rc = CLI_EXIT_OK;

    if (!f) {
        fprintf(stderr, "gradectl: cannot open %s: %s\n", file, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    while ((len = getline(&buf, &bufcap, f)) >= 0) {
        lineno++;
        char *s = buf, *end = buf + len;
        while (end > s && isspace((unsigned char)end[-1])) end--;
        while (s < end && isspace((unsigned char)*s)) s++;
        if (s == end || *s == '#') continue;
        bool nul = memchr(s, '\0', (size_t)(end - s)) != NULL;
        if (nul || (size_t)(end - s) > GRADING_MAX_ID_LEN) {
            if (bad++ < BOOSTS_MAX_REPORTED) {
                if (nul) fprintf(stderr, "%s:%ld: a NUL byte in the line\n", shown, lineno);
                else fprintf(stderr, "%s:%ld: a seller id is at most %d bytes, this one has %zu\n", shown, lineno,
                             GRADING_MAX_ID_LEN, (size_t)(end - s));
            }
            continue;
        }
        if (ids_push(l, s, (size_t)(end - s))) {
            fprintf(stderr, "gradectl: out of memory reading %s\n", shown);
            rc = CLI_EXIT_FAIL;
            goto done;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "gradectl: cannot read %s: %s\n", shown, strerror(errno));
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (bad) {
        if (bad > BOOSTS_MAX_REPORTED)
            fprintf(stderr, "gradectl: %zu more bad lines not shown\n", bad - BOOSTS_MAX_REPORTED);
        fprintf(stderr, "gradectl: %zu bad line%s in %s: nothing was asked\n", bad, bad == 1 ? "" : "s", shown);
        rc = CLI_EXIT_FAIL;
    }
done:
    free(buf);
    if (f != stdin) fclose(f);
    return rc;
}

static int print_boosts(const ids_t *l, const double *boosts)
{
    const char *head[] = {"seller", "boost"};
    cli_table_t *t = cli_table_new_with_head(2, "lr", head);
    int rc = CLI_EXIT_FAIL;
    if (!t) goto fail;
    for (size_t i = 0; i < l->n; i++) {
        char b[40];
        cli_format_number(boosts[i], b, sizeof b);
        const char *row[] = {l->ids[i], b};
        if (cli_table_add_row(t, row)) goto fail;
    }
    cli_table_print(t, stdout);
    rc = CLI_EXIT_OK;
fail:
    if (rc) fprintf(stderr, "gradectl: out of memory\n");
    cli_table_free(t);
    return rc;
}

static int run_boosts(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *marketplace = NULL, *file = NULL;
    char **pos = calloc((size_t)argc, sizeof *pos);
    int npos = 0, rc;
    ids_t ids = {0};
    double *boosts = NULL;
    char *version = NULL;
    const cli_opt_t opts[] = {
        {"--marketplace", &marketplace, NULL},
        {"--file", &file, NULL},
        {NULL, NULL, NULL},
    };

    if (!pos) {
        fprintf(stderr, "gradectl: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    if ((rc = cli_parse_args(cmd, argc, argv, opts, pos, 0, argc, &npos))) goto done;
    if (npos == 0 && !file) {
        rc = cli_usage_error(cmd, "boosts: name at least one SELLER or give --file");
        goto done;
    }
    if (file && !*file) {
        rc = cli_usage_error(cmd, "--file needs a file name (- for stdin)");
        goto done;
    }
    for (int i = 0; i < npos; i++) {
        size_t len = strlen(pos[i]);
        if (len == 0 || len > GRADING_MAX_ID_LEN) {
            rc = cli_usage_error(cmd, "SELLER \"%.40s%s\": a seller id is 1 to %d bytes", pos[i],
                                 len > 40 ? "..." : "", GRADING_MAX_ID_LEN);
            goto done;
        }
        if (ids_push(&ids, pos[i], len)) goto oom;
    }
    if (file && (rc = read_ids(&ids, file))) goto done;
    if (ids.n == 0) {
        fprintf(stderr, "gradectl: %s holds no seller ids\n", strcmp(file, "-") == 0 ? "<stdin>" : file);
        rc = CLI_EXIT_FAIL;
        goto done;
    }

    if (!(boosts = malloc(ids.n * sizeof *boosts))) goto oom;
    for (size_t at = 0; at < ids.n;) {
        size_t n = ids.n - at < GRADING_MAX_EVENTS_PER_CALL ? ids.n - at : GRADING_MAX_EVENTS_PER_CALL;
        Grading__V1__GetRankingBoostsRequest req = GRADING__V1__GET_RANKING_BOOSTS_REQUEST__INIT;
        if (marketplace) req.marketplace = (char *)marketplace;
        req.n_seller_ids = n;
        req.seller_ids = ids.ids + at;   /* borrowed: req is not freed */
        ProtobufCMessage *resp = NULL;
        if ((rc = cli_call(ctx, "GetRankingBoosts", &req.base, &grading__v1__get_ranking_boosts_response__descriptor,
                           &resp, NULL)))
            goto done;
        const Grading__V1__GetRankingBoostsResponse *r = (const void *)resp;
        if (r->n_boosts != n) {
            fprintf(stderr, "gradectl: asked for %zu boosts, the server answered %zu\n", n, r->n_boosts);
            protobuf_c_message_free_unpacked(resp, NULL);
            rc = CLI_EXIT_FAIL;
            goto done;
        }
        memcpy(boosts + at, r->boosts, n * sizeof *boosts);
        /* A reload between two calls mixes two policies: say so. */
        if (version && strcmp(version, r->policy_version) != 0)
            fprintf(stderr, "gradectl: warning: the policy changed between calls (%s, then %s)\n", version,
                    r->policy_version);
        free(version);
        version = strdup(r->policy_version);
        protobuf_c_message_free_unpacked(resp, NULL);
        if (!version) goto oom;
        at += n;
    }

    if (ctx->json) {
        Grading__V1__GetRankingBoostsResponse all = GRADING__V1__GET_RANKING_BOOSTS_RESPONSE__INIT;
        all.n_boosts = ids.n;
        all.boosts = boosts;
        all.policy_version = version;
        rc = cli_print_json(&all.base);
    } else {
        printf("marketplace %s  policy %s\n\n", marketplace && *marketplace ? marketplace : "(default)", version);
        rc = print_boosts(&ids, boosts);
    }
    goto done;
oom:
    fprintf(stderr, "gradectl: out of memory\n");
    rc = CLI_EXIT_FAIL;
done:
    free(version);
    free(boosts);
    ids_free(&ids);
    free(pos);
    return rc;
}

const cli_command_t cli_cmd_boosts = {
    .name = "boosts",
    .synopsis = "SELLER... [--file FILE] [--marketplace M]",
    .summary = "show sellers' search ranking boosts (GetRankingBoosts)",
    .help = "Options:\n"
            "  --marketplace M    the sellers' marketplace (default: the policy's default)\n"
            "  --file FILE        also ask for the sellers listed in FILE, one id a line\n"
            "                     (- for stdin; blank lines and lines starting with # skipped)\n"
            "\n"
            "Prints one row per seller, in the order given: 1 is neutral, above favours,\n"
            "below demotes, 0 means the seller must not be shown (sales suspended). Sellers\n"
            "the server has never seen get the policy's neutral boost. More than 10,000 ids\n"
            "go out in several calls. With --json, the GetRankingBoostsResponse reply as JSON\n"
            "(boosts[i] is for the i-th seller given).\n",
    .run = run_boosts,
};
