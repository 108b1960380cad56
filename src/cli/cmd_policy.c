/* gradectl policy check: load a policy file here, with no server, and say
 * either every problem in it or what it defines.
 *
 * The check is the server's own loader (grading_policy_load_file), so a
 * file this accepts is one gradingd starts with and reloads. Problems go to
 * stderr as "where: message", one a line, where is FILE:LINE:COL, the form
 * editors jump to; the loader keeps GRADING_POLICY_MAX_DIAGS of them and
 * counts the rest.
 *
 * The summary is built once as a JSON value (policy_summary: pure, from
 * the loaded policy) and the text form is printed from that value, so the
 * two outputs cannot disagree. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/policy.h"

/* ---- the summary ---- */

/* json_object_set_new that remembers a failure instead of leaking. */
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
    if (!v || json_object_set_new(obj, key, v)) *ok = false;
}

static void push(json_t *arr, json_t *v, bool *ok)
{
    if (!v || json_array_append_new(arr, v)) *ok = false;
}

/* jansson refuses text that is not UTF-8 (a file name may not be). */
static json_t *str(const char *s)
{
    json_t *v = json_string(s ? s : "");
    return v ? v : json_string("(not UTF-8)");
}

static json_t *program_summary(const grading_program_def_t *p, bool *ok)
{
    json_t *o = json_object(), *levels = json_array();
    put(o, "name", str(p->name), ok);
    for (size_t i = 0; i < p->nlevels; i++) {
        json_t *lv = json_object();
        put(lv, "level", json_integer(p->levels[i]), ok);
        put(lv, "label", str(p->labels[i]), ok);
        push(levels, lv, ok);
    }
    put(o, "levels", levels, ok);
    put(o, "new_seller_level", json_integer(p->new_seller), ok);
    return o;
}

static json_t *ladder_summary(const grading_ladder_def_t *l, bool *ok)
{
    json_t *o = json_object(), *stages = json_array();
    put(o, "name", str(l->name), ok);
    for (size_t i = 0; i < l->nstages; i++) {
        const grading_stage_def_t *s = &l->stages[i];
        json_t *st = json_object(), *restr = json_array();
        put(st, "stage", json_integer(s->stage), ok);
        put(st, "name", str(s->name), ok);
        for (size_t k = 0; k < s->nrestrictions; k++) {
            const grading_restriction_def_t *r = &s->restrictions[k];
            if (r->kind == GRADING_R_LISTING_CAP) {
                char buf[64];
                snprintf(buf, sizeof buf, "%s %lld", grading_restriction_name(r->kind), (long long)r->limit);
                push(restr, json_string(buf), ok);
            } else {
                push(restr, str(grading_restriction_name(r->kind)), ok);
            }
        }
        put(st, "restrictions", restr, ok);
        push(stages, st, ok);
    }
    put(o, "stages", stages, ok);
    return o;
}

static json_t *marketplace_summary(const grading_marketplace_t *mp, bool *ok)
{
    const grading_rules_t *r = mp->rules;
    json_t *o = json_object(), *programs = json_array(), *ladders = json_array(), *grants = json_array(),
           *tiers = json_array();
    put(o, "name", str(mp->name), ok);
    put(o, "display_name", str(mp->display_name), ok);
    put(o, "time_zone", str(mp->tz.name), ok);
    put(o, "currency", str(mp->currency), ok);
    put(o, "metrics", json_integer(r ? (json_int_t)r->nmetrics : 0), ok);
    put(o, "scores", json_integer(r ? (json_int_t)r->nscores : 0), ok);
    for (size_t i = 0; r && i < r->nprograms; i++) push(programs, program_summary(&r->programs[i], ok), ok);
    for (size_t i = 0; r && i < r->nladders; i++) push(ladders, ladder_summary(&r->ladders[i], ok), ok);
    for (size_t i = 0; r && i < r->ngrants; i++) {
        json_t *g = json_object();
        put(g, "program", str(r->grants[i].program), ok);
        put(g, "amount", json_integer((json_int_t)r->grants[i].amount), ok);
        push(grants, g, ok);
    }
    for (size_t i = 0; r && i < r->ntiers; i++) {
        json_t *t = json_object();
        put(t, "tier", str(r->tiers[i].tier), ok);
        put(t, "cycle_days", json_integer(r->tiers[i].cycle_days), ok);
        push(tiers, t, ok);
    }
    put(o, "programs", programs, ok);
    put(o, "penalty_ladders", ladders, ok);
    put(o, "ad_credits", grants, ok);
    put(o, "settlement_tiers", tiers, ok);
    return o;
}

/* What a loaded policy defines, as JSON:
 *   {"file", "valid": true, "version", "default_marketplace",
 *    "marketplaces": [{"name", "display_name", "time_zone", "currency",
 *      "metrics": N, "scores": N,
 *      "programs": [{"name", "levels": [{"level", "label"}], "new_seller_level"}],
 *      "penalty_ladders": [{"name", "stages": [{"stage", "name", "restrictions": ["warning"]}]}],
 *      "ad_credits": [{"program", "amount"}],
 *      "settlement_tiers": [{"tier", "cycle_days"}]}]}
 * Returns NULL when out of memory. */
static json_t *policy_summary(const grading_policy_t *p, const char *file)
{
    bool ok = true;
    json_t *o = json_object(), *markets = json_array();
    const grading_marketplace_t *def = grading_policy_marketplace(p, NULL);
    put(o, "file", str(file), &ok);
    put(o, "valid", json_true(), &ok);
    put(o, "version", str(grading_policy_version(p)), &ok);
    put(o, "default_marketplace", str(def ? def->name : NULL), &ok);
    for (size_t i = 0; i < grading_policy_marketplace_count(p); i++)
        push(markets, marketplace_summary(grading_policy_marketplace_at(p, i), &ok), &ok);
    put(o, "marketplaces", markets, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The problems of a failed load, as JSON: {"file", "valid": false,
 * "problems": N, "errors": [{"where", "message"}]} (N counts those not
 * kept too). Returns NULL when out of memory. */
static json_t *policy_problems(const grading_policy_diags_t *d, const char *file)
{
    bool ok = true;
    json_t *o = json_object(), *errors = json_array();
    put(o, "file", str(file), &ok);
    put(o, "valid", json_false(), &ok);
    put(o, "problems", json_integer((json_int_t)d->count), &ok);
    for (size_t i = 0; i < d->count && i < GRADING_POLICY_MAX_DIAGS; i++) {
        json_t *e = json_object();
        put(e, "where", str(d->diags[i].where), &ok);
        put(e, "message", str(d->diags[i].message), &ok);
        push(errors, e, &ok);
    }
    put(o, "errors", errors, &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- text ---- */

static const char *sget(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long iget(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* "1, 2, 3" when every label is its level's number, else "1=Premium, 2=Gold". */
static void format_levels(const json_t *levels, char *buf, size_t len)
{
    bool plain = true;
    size_t i, at = 0;
    json_t *lv;
    json_array_foreach(levels, i, lv) {
        char num[24];
        snprintf(num, sizeof num, "%lld", iget(lv, "level"));
        if (strcmp(num, sget(lv, "label")) != 0) plain = false;
    }
    buf[0] = '\0';
    json_array_foreach(levels, i, lv) {
        if (at >= len) break;
        int n = plain ? snprintf(buf + at, len - at, "%s%lld", i ? ", " : "", iget(lv, "level"))
                      : snprintf(buf + at, len - at, "%s%lld=%s", i ? ", " : "", iget(lv, "level"), sget(lv, "label"));
        if (n < 0) break;
        at += (size_t)n;
    }
}

/* "1=grade 5 warning (warning); 2=... (listing_cap 100)" */
static void format_stages(const json_t *stages, char *buf, size_t len)
{
    size_t i, at = 0;
    json_t *st;
    buf[0] = '\0';
    json_array_foreach(stages, i, st) {
        char restr[256] = "";
        size_t k, rat = 0;
        json_t *r;
        json_array_foreach(json_object_get(st, "restrictions"), k, r) {
            if (rat >= sizeof restr) break;
            int n = snprintf(restr + rat, sizeof restr - rat, "%s%s", k ? ", " : "", json_string_value(r));
            if (n < 0) break;
            rat += (size_t)n;
        }
        if (at >= len) break;
        int n = snprintf(buf + at, len - at, "%s%lld=%s%s%s%s", i ? "; " : "", iget(st, "stage"), sget(st, "name"),
                         restr[0] ? " (" : "", restr, restr[0] ? ")" : "");
        if (n < 0) break;
        at += (size_t)n;
    }
}

static size_t count_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_array(v) ? json_array_size(v) : (size_t)json_integer_value(v);
}

/* Adds {"", name, value} (an empty first column indents the table). */
static void row(cli_table_t *t, const char *name, const char *value, bool *ok)
{
    const char *cells[] = {"", name, value};
    if (cli_table_add_row(t, cells)) *ok = false;
}

static void count_row(cli_table_t *t, const char *name, size_t n, bool *ok)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", n);
    row(t, name, buf, ok);
}

static bool print_marketplace(const json_t *m, FILE *out)
{
    bool ok = true;
    size_t i;
    json_t *x;
    char buf[2048], name[160];
    cli_table_t *t = cli_table_new(3, "lll");
    if (!t) return false;

    if (strcmp(sget(m, "name"), sget(m, "display_name")) != 0)
        fprintf(out, "\nmarketplace %s (%s)\n", sget(m, "name"), sget(m, "display_name"));
    else fprintf(out, "\nmarketplace %s\n", sget(m, "name"));
    row(t, "time zone", sget(m, "time_zone"), &ok);
    row(t, "currency", sget(m, "currency"), &ok);
    count_row(t, "metrics", count_of(m, "metrics"), &ok);
    count_row(t, "scores", count_of(m, "scores"), &ok);
    count_row(t, "programmes", count_of(m, "programs"), &ok);
    json_array_foreach(json_object_get(m, "programs"), i, x) {
        const json_t *levels = json_object_get(x, "levels");
        char list[1536];
        format_levels(levels, list, sizeof list);
        snprintf(name, sizeof name, "  %s", sget(x, "name"));
        snprintf(buf, sizeof buf, "%zu level%s: %s", json_array_size(levels), json_array_size(levels) == 1 ? "" : "s",
                 list);
        row(t, name, buf, &ok);
    }
    count_row(t, "penalty ladders", count_of(m, "penalty_ladders"), &ok);
    json_array_foreach(json_object_get(m, "penalty_ladders"), i, x) {
        const json_t *stages = json_object_get(x, "stages");
        char list[1536];
        format_stages(stages, list, sizeof list);
        snprintf(name, sizeof name, "  %s", sget(x, "name"));
        snprintf(buf, sizeof buf, "%zu stage%s: %s", json_array_size(stages), json_array_size(stages) == 1 ? "" : "s",
                 list);
        row(t, name, buf, &ok);
    }
    count_row(t, "ad credits", count_of(m, "ad_credits"), &ok);
    json_array_foreach(json_object_get(m, "ad_credits"), i, x) {
        snprintf(name, sizeof name, "  %s", sget(x, "program"));
        snprintf(buf, sizeof buf, "%lld %s", iget(x, "amount"), sget(m, "currency"));
        row(t, name, buf, &ok);
    }
    count_row(t, "settlement tiers", count_of(m, "settlement_tiers"), &ok);
    json_array_foreach(json_object_get(m, "settlement_tiers"), i, x) {
        snprintf(name, sizeof name, "  %s", sget(x, "tier"));
        snprintf(buf, sizeof buf, "every %lld day%s", iget(x, "cycle_days"), iget(x, "cycle_days") == 1 ? "" : "s");
        row(t, name, buf, &ok);
    }
    if (ok) cli_table_print(t, out);
    cli_table_free(t);
    return ok;
}

/* Prints the summary made by policy_summary for people. Returns false when
 * out of memory. */
static bool policy_summary_print(const json_t *s, FILE *out)
{
    const json_t *markets = json_object_get(s, "marketplaces");
    size_t i;
    json_t *m;
    fprintf(out, "%s: valid\n", sget(s, "file"));
    fprintf(out, "version              %s\n", sget(s, "version"));
    fprintf(out, "default marketplace  %s\n", sget(s, "default_marketplace"));
    fprintf(out, "marketplaces         %zu\n", json_array_size(markets));
    json_array_foreach(markets, i, m) if (!print_marketplace(m, out)) return false;
    return true;
}

/* Prints every kept problem as "where: message", then how many were not
 * kept, then the total (left out when the file could not be read: its one
 * line says so). */
static void policy_problems_print(const grading_policy_diags_t *d, const char *file, bool unreadable, FILE *out)
{
    size_t kept = d->count < GRADING_POLICY_MAX_DIAGS ? d->count : GRADING_POLICY_MAX_DIAGS;
    for (size_t i = 0; i < kept; i++) fprintf(out, "%s: %s\n", d->diags[i].where, d->diags[i].message);
    if (d->count > kept) fprintf(out, "gradectl: %zu more problems not shown\n", d->count - kept);
    if (!unreadable)
        fprintf(out, "gradectl: %s: %zu problem%s, the policy is not valid\n", file, d->count,
                d->count == 1 ? "" : "s");
}

/* ---- the command ---- */

static int policy_check(cli_ctx_t *ctx, const char *file)
{
    grading_policy_t *p = NULL;
    grading_policy_diags_t *d = calloc(1, sizeof *d);   /* ~36 KiB: not on the stack */
    json_t *j = NULL;
    int rc = CLI_EXIT_FAIL;

    if (!d) goto oom;
    grading_err_t err = grading_policy_load_file(file, &p, d);
    if (err) {
        if (d->count == 0) {
            if (err == GRADING_ENOMEM) goto oom;
            fprintf(stderr, "gradectl: %s: cannot load the policy (%s)\n", file, grading_err_name(err));
            goto done;
        }
        policy_problems_print(d, file, err == GRADING_EIO, stderr);
        if (ctx->json) {
            if (!(j = policy_problems(d, file))) goto oom;
            cli_print_json_value(j);
        }
        goto done;
    }
    if (!(j = policy_summary(p, file))) goto oom;
    if (ctx->json) {
        rc = cli_print_json_value(j);
    } else {
        rc = policy_summary_print(j, stdout) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
        json_decref(j);
        if (rc) goto oom;
    }
    goto done;
oom:
    fprintf(stderr, "gradectl: out of memory\n");
    rc = CLI_EXIT_FAIL;
done:
    grading_policy_unref(p);
    free(d);
    return rc;
}

static int run_policy(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    char *pos[2];
    int npos, rc;
    const char *mp = NULL, *as_of = NULL, *sample = NULL;   /* diff only */
    const cli_opt_t opts[] = {{"--marketplace", &mp, NULL}, {"--as-of", &as_of, NULL}, {"--sample", &sample, NULL},
                              {NULL, NULL, NULL}};

    if ((rc = cli_parse_args(cmd, argc, argv, opts, pos, 1, 2, &npos))) return rc;
    if (strcmp(pos[0], "diff") == 0) {
        if (npos < 2 || !pos[1][0]) return cli_usage_error(cmd, "policy diff: missing FILE");
        return cli_policy_diff(ctx, cmd, pos[1], mp, as_of, sample);
    }
    if (strcmp(pos[0], "check") != 0)
        return cli_usage_error(cmd, "unknown policy subcommand \"%s\" (there are: check, diff)", pos[0]);
    if (mp || as_of || sample) return cli_usage_error(cmd, "policy check takes no options");
    if (npos < 2) return cli_usage_error(cmd, "policy check: missing FILE");
    if (!pos[1][0]) return cli_usage_error(cmd, "policy check: FILE must not be empty");
    return policy_check(ctx, pos[1]);
}

const cli_command_t cli_cmd_policy = {
    .name = "policy",
    .synopsis = "check FILE | diff FILE [--marketplace M] [--as-of T] [--sample N]",
    .summary = "check a policy file here, without a server",
    .help = "diff FILE asks the server (EvaluatePolicy; admin only) how every seller of a\n"
            "marketplace would move under FILE instead of the current policy, as of T\n"
            "(default now), writing nothing: per programme a table of old level -> new\n"
            "level with a bar chart, then the sellers whose boost, suspension or ad credit\n"
            "change (with the first N ids, --sample, default 10), the total ad credit and\n"
            "the mean boost before and after. A bad FILE is INVALID_ARGUMENT naming\n"
            "FILE:LINE:COL (exit 1). --json prints the reply.\n"
            "\n"
            "check FILE loads FILE with the server's own loader: what passes here, gradingd starts\n"
            "with and reloads.\n"
            "\n"
            "On a bad file, prints every problem (not just the first) on stderr, one a line\n"
            "as FILE:LINE:COL: message, and exits 1. On a good one, prints what it defines:\n"
            "its version (the content hash every answer carries), the default marketplace,\n"
            "and per marketplace the time zone, currency, number of metrics and scores, the\n"
            "programmes with their level labels, the penalty ladders with their stages, the\n"
            "ad-credit grants and the settlement tiers; exit 0.\n"
            "\n"
            "With --json, the summary as a JSON object (\"valid\": true), or on a bad file\n"
            "{\"valid\": false, \"problems\": N, \"errors\": [{\"where\", \"message\"}]} on stdout as\n"
            "well as the lines on stderr. Time zones are looked up under $TZDIR or\n"
            "/usr/share/zoneinfo.\n",
    .run = run_policy,
};
