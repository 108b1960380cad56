/* gradectl grade: a seller's grade in every programme (GetGrade).
 *
 * One row per programme with the live grade (as if the period closed at
 * the as-of time); a "published" column appears only when some programme
 * has a grade frozen by a closed period, so a fresh install stays narrow.
 * With --explain each programme follows with the rules that decided it,
 * as bullet lines, and the advice (the smallest change of one metric that
 * moves the seller up a level) as a table. The numbers are the server's;
 * nothing is recomputed here. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grading/v1/grading.pb-c.h"

/* "2 (2026-09)" when the label is the level's own number, else
 * "2 Good (2026-09)"; the period is left out when the server gave none. */
static void format_published(const Grading__V1__Grade *g, char *buf, size_t len)
{
    char num[16];
    snprintf(num, sizeof num, "%d", (int)g->level);
    const char *label = g->label && *g->label && strcmp(g->label, num) != 0 ? g->label : NULL;
    const char *period = g->period && *g->period ? g->period : NULL;
    snprintf(buf, len, "%s%s%s%s%s%s", num, label ? " " : "", label ? label : "", period ? " (" : "",
             period ? period : "", period ? ")" : "");
}

static int print_grades(const Grading__V1__GradeReport *r)
{
    cli_table_t *t = NULL;
    bool published = false;
    int rc = CLI_EXIT_FAIL;

    for (size_t i = 0; i < r->n_programs; i++)
        if (r->programs[i]->published) published = true;
    const char *head[] = {"program", "level", "label", "score", "published"};
    if (!(t = cli_table_new_with_head(published ? 5 : 4, "lrlrl", head))) goto fail;
    for (size_t i = 0; i < r->n_programs; i++) {
        const Grading__V1__ProgramGrade *pg = r->programs[i];
        char level[16] = "-", score[40] = "-", pub[200] = "-";
        const char *label = NULL;
        if (pg->live) {
            snprintf(level, sizeof level, "%d", (int)pg->live->level);
            cli_format_number(pg->live->score, score, sizeof score);
            if (pg->live->label && *pg->live->label) label = pg->live->label;
        }
        if (pg->published) format_published(pg->published, pub, sizeof pub);
        const char *row[] = {pg->program, level, label, score, pub};
        if (cli_table_add_row(t, row)) goto fail;
    }
    cli_table_print(t, stdout);
    rc = CLI_EXIT_OK;
fail:
    cli_table_free(t);
    return rc;
}

/* The reasons and advice of one programme, indented under its name. An
 * empty first column indents the advice table by the column gap. */
static int print_explanation(const Grading__V1__ProgramGrade *pg)
{
    cli_table_t *t = NULL;
    int rc = CLI_EXIT_FAIL;

    printf("\n%s", pg->program);
    if (pg->live) {
        printf(": level %d", (int)pg->live->level);
        if (pg->live->label && *pg->live->label) printf(" (%s)", pg->live->label);
    }
    if (pg->shadow) {   /* gradingd --shadow-policy */
        printf("; shadow policy: level %d", (int)pg->shadow->level);
        if (pg->shadow->label && *pg->shadow->label) printf(" (%s)", pg->shadow->label);
    }
    printf("\n");
    if (pg->n_reasons == 0) printf("  (the server gave no reasons)\n");
    for (size_t i = 0; i < pg->n_reasons; i++) printf("  - %s\n", pg->reasons[i]);
    if (pg->n_advice == 0) {
        if (pg->live && pg->live->level <= 1) printf("  advice: none, already at the best level\n");
        else printf("  advice: none, no change of a single metric moves this grade up a level\n");
        return CLI_EXIT_OK;
    }
    printf("  advice:\n");
    const char *head[] = {"", "metric", "current", "target", "message"};
    if (!(t = cli_table_new_with_head(5, "llrrl", head))) goto fail;
    for (size_t i = 0; i < pg->n_advice; i++) {
        const Grading__V1__Advice *a = pg->advice[i];
        char cur[40], tgt[40];
        cli_format_number(a->current, cur, sizeof cur);
        cli_format_number(a->target, tgt, sizeof tgt);
        const char *row[] = {"", a->metric, cur, tgt, a->message && *a->message ? a->message : NULL};
        if (cli_table_add_row(t, row)) goto fail;
    }
    cli_table_print(t, stdout);
    rc = CLI_EXIT_OK;
fail:
    cli_table_free(t);
    return rc;
}

/* A cli_print_reply_cb; arg is the bool of --explain. */
static int print_report(const ProtobufCMessage *reply, const void *arg)
{
    const Grading__V1__GradeReport *r = (const Grading__V1__GradeReport *)reply;
    bool explain = *(const bool *)arg;
    cli_print_subject(r->seller_id, r->marketplace, r->as_of, r->policy_version);
    if (r->n_programs == 0) {
        printf("(the policy defines no grading programmes for this marketplace)\n");
        return CLI_EXIT_OK;
    }
    if (print_grades(r)) goto fail;
    if (explain)
        for (size_t i = 0; i < r->n_programs; i++)
            if (print_explanation(r->programs[i])) goto fail;
    return CLI_EXIT_OK;
fail:
    fprintf(stderr, "gradectl: out of memory\n");
    return CLI_EXIT_FAIL;
}

static int run_grade(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    cli_seller_query_t q;
    bool explain = false;
    const cli_opt_t opts[] = {{"--explain", NULL, &explain}, {NULL, NULL, NULL}};

    int rc = cli_parse_seller_query(cmd, argc, argv, opts, CLI_QUERY_AS_OF, &q);
    if (rc) goto done;
    Grading__V1__GetGradeRequest req = GRADING__V1__GET_GRADE_REQUEST__INIT;
    req.seller_id = (char *)q.seller;
    if (q.marketplace) req.marketplace = (char *)q.marketplace;
    req.as_of = q.as_of;
    req.explain = explain;
    rc = cli_call_and_print(ctx, "GetGrade", &req.base, &grading__v1__grade_report__descriptor, print_report,
                            &explain, NULL);
done:
    cli_seller_query_destroy(&q);
    return rc;
}

const cli_command_t cli_cmd_grade = {
    .name = "grade",
    .synopsis = "SELLER [--marketplace M] [--as-of RFC3339] [--explain]",
    .summary = "show a seller's grade in every programme (GetGrade)",
    .help = "Options:\n"
            "  --marketplace M    the seller's marketplace (default: the policy's default)\n"
            "  --as-of TIME       grade as of this RFC 3339 time, e.g. 2026-10-05T09:30:00+09:00\n"
            "                     (default: now)\n"
            "  --explain          also print, per programme, the rules that decided the grade\n"
            "                     and advice: for each metric that alone can lift the seller one\n"
            "                     level, its current value and the value that would do it\n"
            "\n"
            "Prints one row per programme: the live level (1 is best), its label and the\n"
            "programme's score, as if the period closed at the as-of time; a published column\n"
            "shows the grade frozen by the last closed period when there is one. A seller\n"
            "with no events gets the policy's new-seller grade. With --json, the GradeReport\n"
            "reply as JSON.\n",
    .run = run_grade,
};
