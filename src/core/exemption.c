/* Matching an order against an exemption (exemption.h). */
#include "grading/exemption.h"

#include <string.h>

bool grading_exemption_matches(const grading_exemption_t *x, const grading_order_t *o, const grading_tz_t *tz)
{
    if (!o->paid_ms) return false;   /* an unpaid order has no paid day yet */
    int32_t day = grading_tz_day(tz, o->paid_ms);
    if (day < x->from_day || day > x->to_day) return false;
    bool overseas = (o->flags & GRADING_ORDER_OVERSEAS) != 0;
    if (x->overseas != GRADING_EXEMPT_ANY && overseas != (x->overseas == GRADING_EXEMPT_OVERSEAS)) return false;
    return !x->product_id[0] || strcmp(x->product_id, o->product_id) == 0;
}

bool grading_exemption_same(const grading_exemption_t *a, const grading_exemption_t *b)
{
    return strcmp(a->marketplace, b->marketplace) == 0 && strcmp(a->id, b->id) == 0 &&
           a->from_day == b->from_day && a->to_day == b->to_day && a->mask == b->mask &&
           a->overseas == b->overseas && strcmp(a->product_id, b->product_id) == 0 &&
           strcmp(a->reason, b->reason) == 0 && strcmp(a->note, b->note) == 0;
}
