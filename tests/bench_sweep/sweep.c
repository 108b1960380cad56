/* gradingd's deadline sweep, in process: grading_sweep_due (sweep.h), the
 * function gradingd's refresh thread runs, with a reader of its own and a
 * real ingest writer (grading_ingest_start: nested transaction, group
 * commit, fsync). The clock is fixed at the sweep's "now", which is both
 * the due bound and the derive time, as gradingd's clock would be at that
 * instant. */
#include <stdlib.h>

#include "grading/ingest.h"
#include "grading/sweep.h"
#include "sweep_bench.h"

struct sb_sweeper {
    grading_ingest_t *in;
    grading_store_reader_t *rd;
    int64_t now_ms;
    grading_sweep_buf_t buf;
};

static int64_t fixed_clock(void *ctx)
{
    return ((sb_sweeper_t *)ctx)->now_ms;
}

grading_err_t sb_sweep_due(sb_sweeper_t *sw, grading_policy_t *p, uint64_t *swept, uint32_t *pages)
{
    return grading_sweep_due(sw->rd, sw->in, p, fixed_clock, sw, &sw->buf, swept, pages);
}

grading_err_t sb_sweeper_new(grading_store_t *st, int64_t now_ms, sb_sweeper_t **out)
{
    grading_err_t err;
    sb_sweeper_t *sw = calloc(1, sizeof *sw);
    if (!sw) return GRADING_ENOMEM;
    sw->now_ms = now_ms;
    if ((err = grading_store_reader_new(st, &sw->rd))) goto fail;
    if ((err = grading_ingest_start(st, fixed_clock, sw, &sw->in))) goto fail;
    *out = sw;
    return GRADING_OK;
fail:
    sb_sweeper_free(sw);
    return err;
}

void sb_sweeper_free(sb_sweeper_t *sw)
{
    if (!sw) return;
    if (sw->in) grading_ingest_stop(sw->in);
    if (sw->rd) grading_store_reader_free(sw->rd);
    free(sw);
}
