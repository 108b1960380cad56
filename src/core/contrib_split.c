/* Splitting a record's contributions by its exclusion mask (counters.h).
 * Pure: where the two halves go (daily, xdaily) is the writer's business. */
#include "grading/counters.h"

grading_err_t grading_contribs_split(const grading_contrib_t *ks, size_t n, uint64_t mask,
                                     grading_contrib_t *kept, size_t kcap, size_t *nkept,
                                     grading_contrib_t *excl, size_t xcap, size_t *nexcl)
{
    for (size_t i = 0; i < n; i++) {
        bool out = !ks[i].custom && (unsigned)ks[i].counter < GRADING_C_COUNT &&
                   (mask & GRADING_C_BIT(ks[i].counter));
        if (out) {
            if (*nexcl >= xcap) return GRADING_EFULL;
            excl[(*nexcl)++] = ks[i];
        } else {
            if (*nkept >= kcap) return GRADING_EFULL;
            kept[(*nkept)++] = ks[i];
        }
    }
    return GRADING_OK;
}

grading_err_t grading_order_contribs_split(const grading_order_t *o, const grading_tz_t *tz, int sign,
                                           grading_contrib_t *kept, size_t kcap, size_t *nkept,
                                           grading_contrib_t *excl, size_t xcap, size_t *nexcl)
{
    grading_contrib_t ks[GRADING_MAX_CONTRIBS];
    size_t n = 0;
    grading_err_t err = grading_order_contribs(o, tz, sign, ks, GRADING_MAX_CONTRIBS, &n);
    if (err) return err;
    return grading_contribs_split(ks, n, o->appeal_mask | o->exempt_mask, kept, kcap, nkept, excl, xcap, nexcl);
}

grading_err_t grading_inquiry_contribs_split(const grading_inquiry_t *q, const grading_tz_t *tz, int sign,
                                             grading_contrib_t *kept, size_t kcap, size_t *nkept,
                                             grading_contrib_t *excl, size_t xcap, size_t *nexcl)
{
    grading_contrib_t ks[GRADING_MAX_CONTRIBS];
    size_t n = 0;
    grading_err_t err = grading_inquiry_contribs(q, tz, sign, ks, GRADING_MAX_CONTRIBS, &n);
    if (err) return err;
    return grading_contribs_split(ks, n, q->appeal_mask | q->exempt_mask, kept, kcap, nkept, excl, xcap, nexcl);
}

grading_err_t grading_order_change_split(const grading_order_t *old, const grading_order_t *now,
                                         const grading_tz_t *tz, grading_contrib_t *kept, size_t *nkept,
                                         grading_contrib_t *excl, size_t *nexcl)
{
    grading_err_t err =
        grading_order_contribs_split(old, tz, -1, kept, GRADING_MAX_CONTRIBS, nkept, excl, GRADING_MAX_CONTRIBS, nexcl);
    if (err) return err;
    return grading_order_contribs_split(now, tz, +1, kept, GRADING_MAX_CONTRIBS, nkept, excl, GRADING_MAX_CONTRIBS,
                                        nexcl);
}

grading_err_t grading_inquiry_change_split(const grading_inquiry_t *old, const grading_inquiry_t *now,
                                           const grading_tz_t *tz, grading_contrib_t *kept, size_t *nkept,
                                           grading_contrib_t *excl, size_t *nexcl)
{
    grading_err_t err = grading_inquiry_contribs_split(old, tz, -1, kept, GRADING_MAX_CONTRIBS, nkept, excl,
                                                       GRADING_MAX_CONTRIBS, nexcl);
    if (err) return err;
    return grading_inquiry_contribs_split(now, tz, +1, kept, GRADING_MAX_CONTRIBS, nkept, excl,
                                          GRADING_MAX_CONTRIBS, nexcl);
}
