/* Judging an appeal without writing it (appeal_check.h). */
#include <string.h>

#include "grading/appeal_check.h"

typedef struct {
    const grading_policy_t *p;
    const grading_appeal_req_t *req;
    grading_appeal_result_t *res;
    grading_error_t *e;
    bool judged;
} check_t;

/* On the writer: the appeal applied, then the transaction refused so the
 * topic stays the only way the change is stored. */
static grading_err_t dry_run(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    check_t *c = ctx;
    if (c->judged) {   /* run again alone after a group failed */
        grading_appeal_result_free(c->res);
        c->judged = false;
    }
    grading_err_t err = grading_appeal_apply(txn, c->p, c->req, now_ms, c->res, c->e);
    if (err) return err;
    c->judged = true;
    return GRADING_ESTATE;
}

grading_err_t grading_appeal_check(grading_ingest_t *in, const grading_policy_t *p, const grading_appeal_req_t *req,
                                   grading_appeal_result_t *res, grading_error_t *e)
{
    memset(res, 0, sizeof *res);
    check_t c = {.p = p, .req = req, .res = res, .e = e};
    grading_ingest_batch_t b = {.n = 0, .apply = dry_run, .apply_ctx = &c};
    e->code = GRADING_OK;
    grading_err_t err = grading_ingest_run(in, &b, NULL, NULL);
    if (c.judged) {
        *e = (grading_error_t){0};
        return GRADING_OK;
    }
    if (!e->code)
        grading_error_set(e, err ? err : GRADING_EIO, "", "the change cannot be judged: %s",
                          grading_err_name(err ? err : GRADING_EIO));
    return e->code;
}
