/* ClosePeriod's checks without the work (close.h): Kafka mode runs them
 * before it writes close markers, so a bad or early period is refused
 * with nothing written. */
#include "grading/close.h"

#include <string.h>

grading_err_t grading_close_check(grading_store_t *st, const grading_marketplace_t *mp,
                                  grading_period_kind_t kind, const char *period, int64_t now_ms,
                                  grading_close_result_t *out, grading_error_t *e)
{
    int32_t first, last;
    grading_err_t err;
    memset(out, 0, sizeof *out);
    if ((err = grading_period_parse(kind, period, "period", &first, &last, e))) return err;
    if (now_ms < grading_tz_day_start_ms(&mp->tz, last + 1)) {
        int32_t y;
        uint32_t m, d;
        grading_civil_from_days(last + 1, &y, &m, &d);
        return grading_error_set(e, GRADING_ESTATE, "period",
                                 "%s has not ended: it ends at %04d-%02u-%02uT00:00 %s", period, (int)y, m, d,
                                 mp->tz.name);
    }
    grading_store_reader_t *rd = NULL;
    grading_txn_t *txn;
    bool found = false;
    if ((err = grading_store_reader_new(st, &rd))) return grading_error_set(e, err, "", "cannot read the store");
    if ((err = grading_store_read_begin(rd, &txn))) goto fail;
    err = grading_store_close_get(txn, mp->name, (int)kind, period, &out->state, &found);
    grading_store_read_end(rd);
    if (err) goto fail;
    out->already_closed = found && out->state.done;
    grading_store_reader_free(rd);
    return GRADING_OK;
fail:
    grading_store_reader_free(rd);
    return grading_error_set(e, err, "", "cannot read the store");
}
