/* Plain-text tables for people: every cell copied in, widths measured at
 * print time. Widths count bytes, which is right for the ASCII names and
 * numbers the service returns; a UTF-8 label only shifts its own row.
 *
 * Also the grouping of a reply's rows by programme, for the commands that
 * print one table per programme (close, history). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cli_table {
    size_t ncols;
    char align[16];   /* 'l' or 'r' per column */
    char **cells;     /* nrows * ncols */
    size_t nrows, cap;
};

#define CLI_TABLE_MAX_COLS 16

cli_table_t *cli_table_new(size_t ncols, const char *align)
{
    if (ncols == 0 || ncols > CLI_TABLE_MAX_COLS) return NULL;
    cli_table_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) t->align[i] = align && i < strlen(align) ? align[i] : 'l';
    return t;
}

cli_table_t *cli_table_new_with_head(size_t ncols, const char *align, const char *const *head)
{
    cli_table_t *t = cli_table_new(ncols, align);
    if (t && cli_table_add_row(t, head)) {
        cli_table_free(t);
        return NULL;
    }
    return t;
}

int cli_table_add_row(cli_table_t *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
        if (!grown) return -1;
        t->cells = grown;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        const char *s = cells[c] ? cells[c] : "-";
        row[c] = strdup(s);
        if (!row[c]) {
            while (c--) free(row[c]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

void cli_table_print(const cli_table_t *t, FILE *out)
{
    size_t width[CLI_TABLE_MAX_COLS] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t n = strlen(t->cells[r * t->ncols + c]);
            if (n > width[c]) width[c] = n;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            bool last = c + 1 == t->ncols;
            if (t->align[c] == 'r') fprintf(out, "%*s", (int)width[c], s);
            else if (last) fputs(s, out);   /* no trailing blanks */
            else fprintf(out, "%-*s", (int)width[c], s);
            if (!last) fputs("  ", out);
        }
        fputc('\n', out);
    }
}

void cli_table_free(cli_table_t *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    free(t);
}

int cli_groups_init(cli_groups_t *g, const void *list, size_t n, const char *(*program_at)(const void *list, size_t i))
{
    bool *taken = NULL;
    memset(g, 0, sizeof *g);
    g->rows = calloc(n ? n : 1, sizeof *g->rows);
    g->start = calloc(n + 1, sizeof *g->start);
    taken = calloc(n ? n : 1, sizeof *taken);
    if (!g->rows || !g->start || !taken) goto fail;
    /* each untaken row gathers the later rows of its programme: replies
     * have a few dozen rows, so quadratic is fine */
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (taken[i]) continue;
        const char *name = program_at(list, i);
        if (!name) name = "";
        g->start[g->ngroups++] = at;
        for (size_t j = i; j < n; j++) {
            const char *other = program_at(list, j);
            if (!other) other = "";
            if (!taken[j] && strcmp(name, other) == 0) {
                taken[j] = true;
                g->rows[at++] = j;
            }
        }
    }
    g->start[g->ngroups] = at;
    free(taken);
    return 0;
fail:
    free(taken);
    cli_groups_destroy(g);
    return -1;
}

void cli_groups_destroy(cli_groups_t *g)
{
    free(g->rows);
    free(g->start);
    memset(g, 0, sizeof *g);
}

void cli_format_percent(double fraction, char *buf, size_t len)
{
    double p = fraction * 100.0 + 0.0;   /* -0 prints as 0 */
    if (!isfinite(p)) snprintf(buf, len, "%g", p);
    else snprintf(buf, len, "%.1f", p);
}

void cli_format_number(double v, char *buf, size_t len)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "%g", v);
        return;
    }
    v += 0.0;   /* -0 prints as 0 */
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    /* Up to 4 decimals, trailing zeros dropped; tiny values keep 3
     * significant digits rather than print as 0. */
    if (fabs(v) < 0.001) snprintf(buf, len, "%.3g", v);
    else snprintf(buf, len, "%.4f", v);
    char *dot = strchr(buf, '.');
    if (dot && !strchr(buf, 'e')) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0') *end-- = '\0';
        if (end == dot) *end = '\0';
    }
}
