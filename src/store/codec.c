/* Record encodings: explicit little-endian bytes, a version byte first.
 *
 *   order v1:    u8 1 | i64 paid, shipped, delivered, cancelled, returned,
 *                exchanged, non_receipt, amount, reserved_ship | u32
 *                ship_within_days | u8 n + product_id | u8 n + currency |
 *                u32 flags | i32 cancel_fault, cancel_reason, return_fault,
 *                exchange_fault
 *   order v2:    as v1 (version byte 2) | i64 review | u32 rating | i32
 *                recommendation | i64 satisfaction | u32 score; written only
 *                when the order holds a review or score, so every other
 *                record stays v1 and older builds read it
 *   order v3:    u8 3 | u24 presence bitmap of the 20 numbered fields
 *                (paid, shipped, delivered, cancelled, returned, exchanged,
 *                non_receipt, amount, reserved_ship, ship_within_days, flags,
 *                cancel_fault, cancel_reason, return_fault, exchange_fault,
 *                review, rating, recommendation, satisfaction, score) | each
 *                present (non-zero) one as a zigzag varint | u8 n +
 *                product_id | u8 n + currency. What is written now: most of
 *                an order's times and codes are zero until late in its life
 *   order v4:    v3 with version byte 4 | exclusions (below). Written only
 *                when a record has an exclusion or an appeal, so every
 *                other record stays v3 and older builds read it
 *   inquiry v1:  u8 1 | i64 received | i64 answered
 *   inquiry v2:  v1 with version byte 2 | exclusions; written as v4 is
 *   exclusions:  u8 presence bitmap of appeal_mask, exempt_mask, appeals |
 *                each present one as a zigzag varint (a mask's bits as i64)
 *   day v1:      u8 1 | u16 ncounters | ncounters x i64 | u8 ncustom |
 *                ncustom x (u8 n + name | f64 bits as u64)
 *   day v2:      u8 2 | u16 ncounters | presence bitmap, (ncounters + 7) / 8
 *                bytes, bit i of byte i/8 for counter i | for each set bit
 *                in counter order: the value zigzagged as a LEB128 varint |
 *                u8 ncustom | customs as v1. Most of a day's counters are
 *                zero, so this is what is written (v1 is still read); the
 *                encoding is canonical (no zero value present, no padding
 *                bit set, no overlong varint) so one day has one record.
 *   event:       i64 stored_ms                (before content hashes: no hash)
 *   event v2:    i64 stored_ms | u64 content hash (grading_event_hash)
 *
 * A day record carries its counter count: a build that knows more counters
 * reads an older record as zeros for the new ones; a record with more
 * counters than this build knows is refused (dropping them on the next
 * write would lose data). A reader walks the bytes with a cursor that
 * remembers overruns, so every decoder checks once at the end that nothing
 * was missing and nothing is left over. */
#include "codec.h"

#include <string.h>

/* ---- writing ---- */

typedef struct {
    uint8_t *p;
    size_t n;
} wr_t;

static void put_u8(wr_t *w, uint8_t v) { w->p[w->n++] = v; }

static void put_u16(wr_t *w, uint16_t v)
{
    put_u8(w, (uint8_t)v);
    put_u8(w, (uint8_t)(v >> 8));
}

static void put_u32(wr_t *w, uint32_t v)
{
    for (int i = 0; i < 4; i++) put_u8(w, (uint8_t)(v >> (8 * i)));
}

static void put_u64(wr_t *w, uint64_t v)
{
    for (int i = 0; i < 8; i++) put_u8(w, (uint8_t)(v >> (8 * i)));
}

static void put_i64(wr_t *w, int64_t v) { put_u64(w, (uint64_t)v); }
static void put_i32(wr_t *w, int32_t v) { put_u32(w, (uint32_t)v); }

static void put_f64(wr_t *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);   /* IEEE 754 bits; byte order is ours */
    put_u64(w, bits);
}

/* A NUL-terminated string of at most max bytes inside a field of cap bytes. */
static grading_err_t put_str(wr_t *w, const char *s, size_t cap, size_t max)
{
    size_t n = strnlen(s, cap);
    if (n > max || n >= cap) return GRADING_EINVAL;
    put_u8(w, (uint8_t)n);
    memcpy(w->p + w->n, s, n);
    w->n += n;
    return GRADING_OK;
}

/* Zigzag (small magnitudes of either sign stay short), then LEB128. */
static void put_varint_i64(wr_t *w, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (u >= 0x80) {
        put_u8(w, (uint8_t)(u | 0x80));
        u >>= 7;
    }
    put_u8(w, (uint8_t)u);
}

/* ---- reading ---- */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    bool bad;   /* an overrun or a bad value happened */
} rd_t;

static const uint8_t *take(rd_t *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint8_t get_u8(rd_t *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

static uint16_t get_u16(rd_t *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static uint32_t get_u32(rd_t *r)
{
    const uint8_t *p = take(r, 4);
    if (!p) return 0;
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(rd_t *r)
{
    const uint8_t *p = take(r, 8);
    if (!p) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int64_t get_i64(rd_t *r) { return (int64_t)get_u64(r); }
static int32_t get_i32(rd_t *r) { return (int32_t)get_u32(r); }

static double get_f64(rd_t *r)
{
    uint64_t bits = get_u64(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* A canonical varint of put_varint_i64: at most 10 bytes, no overlong
 * form (a last byte of 0 after the first), no bits past 64. */
static int64_t get_varint_i64(rd_t *r)
{
    uint64_t u = 0;
    for (int i = 0; i < GRADING_CODEC_VARINT_MAX; i++) {
        uint8_t b = get_u8(r);
        if (r->bad) return 0;
        if (i == GRADING_CODEC_VARINT_MAX - 1 && b > 1) break;
        u |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0) break;
            return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
        }
    }
    r->bad = true;
    return 0;
}

/* A length-prefixed string of min..max bytes without NUL into dst[cap]. */
static void get_str(rd_t *r, char *dst, size_t cap, size_t min, size_t max)
{
    size_t n = get_u8(r);
    const uint8_t *p = take(r, n);
    if (!p || n < min || n > max || n >= cap || memchr(p, 0, n)) {
        r->bad = true;
        dst[0] = '\0';
        return;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
}

/* The whole record was read, nothing more, nothing less. */
static grading_err_t rd_end(const rd_t *r)
{
    return r->bad || r->pos != r->len ? GRADING_ECORRUPT : GRADING_OK;
}

/* ---- exclusions (order v4, inquiry v2) ---- */

static bool has_exclusions(uint64_t appeal, uint64_t exempt, uint32_t appeals)
{
    return appeal || exempt || appeals;
}

static void put_exclusions(wr_t *w, uint64_t appeal, uint64_t exempt, uint32_t appeals)
{
    const int64_t f[3] = {(int64_t)appeal, (int64_t)exempt, appeals};
    uint8_t bits = 0;
    for (int i = 0; i < 3; i++)
        if (f[i]) bits |= (uint8_t)(1u << i);
    put_u8(w, bits);
    for (int i = 0; i < 3; i++)
        if (f[i]) put_varint_i64(w, f[i]);
}

static void get_exclusions(rd_t *r, uint64_t *appeal, uint64_t *exempt, uint32_t *appeals)
{
    uint8_t bits = get_u8(r);
    int64_t f[3] = {0};
    if (bits >> 3) r->bad = true;
    for (int i = 0; i < 3 && !r->bad; i++) {
        if (!(bits >> i & 1)) continue;
        f[i] = get_varint_i64(r);
        if (!f[i]) r->bad = true;   /* canonical: a zero is never written */
    }
    *appeal = (uint64_t)f[0];
    *exempt = (uint64_t)f[1];
    if (f[2] < 0 || f[2] > UINT32_MAX) r->bad = true;
    else *appeals = (uint32_t)f[2];
}

/* ---- order ---- */

grading_err_t grading_codec_order_encode_dense(const grading_order_t *o, uint8_t *buf, size_t *out_len)
{
    wr_t w = {buf, 0};
    bool held = o->review_ms || o->satisfaction_ms;
    put_u8(&w, held ? GRADING_CODEC_ORDER_V2 : GRADING_CODEC_ORDER_V1);
    put_i64(&w, o->paid_ms);
    put_i64(&w, o->shipped_ms);
    put_i64(&w, o->delivered_ms);
    put_i64(&w, o->cancelled_ms);
    put_i64(&w, o->returned_ms);
    put_i64(&w, o->exchanged_ms);
    put_i64(&w, o->non_receipt_ms);
    put_i64(&w, o->amount);
    put_i64(&w, o->reserved_ship_ms);
    put_u32(&w, o->ship_within_days);
    grading_err_t err = put_str(&w, o->product_id, sizeof o->product_id, GRADING_MAX_ID_LEN);
    if (err) return err;
    err = put_str(&w, o->currency, sizeof o->currency, GRADING_CURRENCY_MAX - 1);
    if (err) return err;
    put_u32(&w, o->flags);
    put_i32(&w, o->cancel_fault);
    put_i32(&w, o->cancel_reason);
    put_i32(&w, o->return_fault);
    put_i32(&w, o->exchange_fault);
    if (held) {
        put_i64(&w, o->review_ms);
        put_u32(&w, o->rating);
        put_i32(&w, o->recommendation);
        put_i64(&w, o->satisfaction_ms);
        put_u32(&w, o->score);
    }
    *out_len = w.n;
    return GRADING_OK;
}

/* v3's numbered fields, in bitmap order, widened to i64. */
static void order_fields(const grading_order_t *o, int64_t f[GRADING_CODEC_ORDER_FIELDS])
{
    const int64_t v[GRADING_CODEC_ORDER_FIELDS] = {
        o->paid_ms, o->shipped_ms, o->delivered_ms, o->cancelled_ms, o->returned_ms, o->exchanged_ms,
        o->non_receipt_ms, o->amount, o->reserved_ship_ms, o->ship_within_days, o->flags, o->cancel_fault,
        o->cancel_reason, o->return_fault, o->exchange_fault, o->review_ms, o->rating, o->recommendation,
        o->satisfaction_ms, o->score, o->shipping_rating, o->inquiry_rating};
    memcpy(f, v, sizeof v);
}

grading_err_t grading_codec_order_encode(const grading_order_t *o, uint8_t *buf, size_t *out_len)
{
    wr_t w = {buf, 0};
    int64_t f[GRADING_CODEC_ORDER_FIELDS];
    order_fields(o, f);
    uint32_t bits = 0;
    for (int i = 0; i < GRADING_CODEC_ORDER_FIELDS; i++)
        if (f[i]) bits |= UINT32_C(1) << i;
    bool excl = has_exclusions(o->appeal_mask, o->exempt_mask, o->appeals);
    put_u8(&w, excl ? GRADING_CODEC_ORDER_V4 : GRADING_CODEC_ORDER_V3);
    for (int i = 0; i < 3; i++) put_u8(&w, (uint8_t)(bits >> (8 * i)));
    for (int i = 0; i < GRADING_CODEC_ORDER_FIELDS; i++)
        if (f[i]) put_varint_i64(&w, f[i]);
    grading_err_t err = put_str(&w, o->product_id, sizeof o->product_id, GRADING_MAX_ID_LEN);
    if (err) return err;
    err = put_str(&w, o->currency, sizeof o->currency, GRADING_CURRENCY_MAX - 1);
    if (err) return err;
    if (excl) put_exclusions(&w, o->appeal_mask, o->exempt_mask, o->appeals);
    *out_len = w.n;
    return GRADING_OK;
}

/* A v3 field into its member: out of the member's range is corrupt. */
static void set_u32(rd_t *r, uint32_t *dst, int64_t v)
{
    if (v < 0 || v > UINT32_MAX) r->bad = true;
    else *dst = (uint32_t)v;
}

static void set_i32(rd_t *r, int32_t *dst, int64_t v)
{
    if (v < INT32_MIN || v > INT32_MAX) r->bad = true;
    else *dst = (int32_t)v;
}

static grading_err_t order_decode_v3(rd_t *r, bool v4, grading_order_t *out)
{
    grading_order_t o;
    grading_order_init(&o);
    uint32_t bits = 0;
    for (int i = 0; i < 3; i++) bits |= (uint32_t)get_u8(r) << (8 * i);
    if (bits >> GRADING_CODEC_ORDER_FIELDS) r->bad = true;
    int64_t f[GRADING_CODEC_ORDER_FIELDS] = {0};
    for (int i = 0; i < GRADING_CODEC_ORDER_FIELDS && !r->bad; i++) {
        if (!(bits >> i & 1)) continue;
        f[i] = get_varint_i64(r);
        if (!f[i]) r->bad = true;   /* a zero is never written */
    }
    o.paid_ms = f[0], o.shipped_ms = f[1], o.delivered_ms = f[2], o.cancelled_ms = f[3];
    o.returned_ms = f[4], o.exchanged_ms = f[5], o.non_receipt_ms = f[6], o.amount = f[7];
    o.reserved_ship_ms = f[8];
    set_u32(r, &o.ship_within_days, f[9]);
    set_u32(r, &o.flags, f[10]);
    set_i32(r, &o.cancel_fault, f[11]);
    set_i32(r, &o.cancel_reason, f[12]);
    set_i32(r, &o.return_fault, f[13]);
    set_i32(r, &o.exchange_fault, f[14]);
    o.review_ms = f[15];
    set_u32(r, &o.rating, f[16]);
    set_i32(r, &o.recommendation, f[17]);
    o.satisfaction_ms = f[18];
    set_u32(r, &o.score, f[19]);
    set_u32(r, &o.shipping_rating, f[20]);   /* the held review's aspects (11st) */
    set_u32(r, &o.inquiry_rating, f[21]);
    get_str(r, o.product_id, sizeof o.product_id, 0, GRADING_MAX_ID_LEN);
    get_str(r, o.currency, sizeof o.currency, 0, GRADING_CURRENCY_MAX - 1);
    if (v4) {
        get_exclusions(r, &o.appeal_mask, &o.exempt_mask, &o.appeals);
        if (!has_exclusions(o.appeal_mask, o.exempt_mask, o.appeals)) r->bad = true;   /* v3's record */
    }
    grading_err_t err = rd_end(r);
    if (err) return err;
    *out = o;
    return GRADING_OK;
}

grading_err_t grading_codec_order_decode(const uint8_t *buf, size_t len, grading_order_t *out)
{
    rd_t r = {buf, len, 0, false};
    grading_order_t o;
    grading_order_init(&o);
    uint8_t version = get_u8(&r);
    if (version == GRADING_CODEC_ORDER_V3 || version == GRADING_CODEC_ORDER_V4)
        return order_decode_v3(&r, version == GRADING_CODEC_ORDER_V4, out);
    if (version != GRADING_CODEC_ORDER_V1 && version != GRADING_CODEC_ORDER_V2) return GRADING_ECORRUPT;
    o.paid_ms = get_i64(&r);
    o.shipped_ms = get_i64(&r);
    o.delivered_ms = get_i64(&r);
    o.cancelled_ms = get_i64(&r);
    o.returned_ms = get_i64(&r);
    o.exchanged_ms = get_i64(&r);
    o.non_receipt_ms = get_i64(&r);
    o.amount = get_i64(&r);
    o.reserved_ship_ms = get_i64(&r);
    o.ship_within_days = get_u32(&r);
    get_str(&r, o.product_id, sizeof o.product_id, 0, GRADING_MAX_ID_LEN);
    get_str(&r, o.currency, sizeof o.currency, 0, GRADING_CURRENCY_MAX - 1);
    o.flags = get_u32(&r);
    o.cancel_fault = get_i32(&r);
    o.cancel_reason = get_i32(&r);
    o.return_fault = get_i32(&r);
    o.exchange_fault = get_i32(&r);
    if (version >= GRADING_CODEC_ORDER_V2) {
        o.review_ms = get_i64(&r);
        o.rating = get_u32(&r);
        o.recommendation = get_i32(&r);
        o.satisfaction_ms = get_i64(&r);
        o.score = get_u32(&r);
    }
    grading_err_t err = rd_end(&r);
    if (err) return err;
    *out = o;
    return GRADING_OK;
}

/* ---- inquiry ---- */

grading_err_t grading_codec_inquiry_encode(const grading_inquiry_t *q, uint8_t *buf,
                                           size_t *out_len)
{
    wr_t w = {buf, 0};
    bool excl = has_exclusions(q->appeal_mask, q->exempt_mask, q->appeals);
    put_u8(&w, excl ? GRADING_CODEC_INQUIRY_V2 : GRADING_CODEC_INQUIRY_V1);
    put_i64(&w, q->received_ms);
    put_i64(&w, q->answered_ms);
    if (excl) put_exclusions(&w, q->appeal_mask, q->exempt_mask, q->appeals);
    *out_len = w.n;
    return GRADING_OK;
}

grading_err_t grading_codec_inquiry_decode(const uint8_t *buf, size_t len, grading_inquiry_t *out)
{
    rd_t r = {buf, len, 0, false};
    uint8_t version = get_u8(&r);
    if (version != GRADING_CODEC_INQUIRY_V1 && version != GRADING_CODEC_INQUIRY_V2) return GRADING_ECORRUPT;
    grading_inquiry_t q;
    grading_inquiry_init(&q);
    q.received_ms = get_i64(&r);
    q.answered_ms = get_i64(&r);
    if (version == GRADING_CODEC_INQUIRY_V2) {
        get_exclusions(&r, &q.appeal_mask, &q.exempt_mask, &q.appeals);
        if (!has_exclusions(q.appeal_mask, q.exempt_mask, q.appeals)) r.bad = true;
    }
    grading_err_t err = rd_end(&r);
    if (err) return err;
    *out = q;
    return GRADING_OK;
}

/* ---- day counters ---- */

/* Customs are the same in both layouts. */
static grading_err_t put_customs(wr_t *w, const grading_day_counters_t *d)
{
    put_u8(w, (uint8_t)d->ncustom);
    for (uint32_t i = 0; i < d->ncustom; i++) {
        const grading_custom_value_t *cv = &d->custom[i];
        if (!cv->name[0]) return GRADING_EINVAL;
        grading_err_t err = put_str(w, cv->name, sizeof cv->name, GRADING_MAX_CUSTOM_NAME_LEN);
        if (err) return err;
        put_f64(w, cv->value);
    }
    return GRADING_OK;
}

grading_err_t grading_codec_day_encode_v1(const grading_day_counters_t *d, uint8_t *buf,
                                          size_t *out_len)
{
    if (d->ncustom > GRADING_MAX_CUSTOM_PER_DAY) return GRADING_EINVAL;
    wr_t w = {buf, 0};
    put_u8(&w, GRADING_CODEC_DAY_V1);
    put_u16(&w, GRADING_C_COUNT);
    for (int i = 0; i < GRADING_C_COUNT; i++) put_i64(&w, d->c[i]);
    grading_err_t err = put_customs(&w, d);
    if (err) return err;
    *out_len = w.n;
    return GRADING_OK;
}

grading_err_t grading_codec_day_encode(const grading_day_counters_t *d, uint8_t *buf,
                                       size_t *out_len)
{
    if (d->ncustom > GRADING_MAX_CUSTOM_PER_DAY) return GRADING_EINVAL;
    wr_t w = {buf, 0};
    put_u8(&w, GRADING_CODEC_DAY_V2);
    put_u16(&w, GRADING_C_COUNT);
    uint8_t *bitmap = buf + w.n;
    memset(bitmap, 0, GRADING_CODEC_DAY_BITMAP);
    w.n += GRADING_CODEC_DAY_BITMAP;
    for (int i = 0; i < GRADING_C_COUNT; i++) {
        if (!d->c[i]) continue;
        bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
        put_varint_i64(&w, d->c[i]);
    }
    grading_err_t err = put_customs(&w, d);
    if (err) return err;
    *out_len = w.n;
    return GRADING_OK;
}

/* v1: every counter, dense. */
static void get_counters_v1(rd_t *r, uint16_t ncounters, grading_day_counters_t *out)
{
    for (uint16_t i = 0; i < ncounters && !r->bad; i++) out->c[i] = get_i64(r);
}

/* v2: the bitmap, then the present counters' varints. */
static void get_counters_v2(rd_t *r, uint16_t ncounters, grading_day_counters_t *out)
{
    const uint8_t *bitmap = take(r, ((size_t)ncounters + 7) / 8);
    if (!bitmap) return;
    if (ncounters % 8 && bitmap[ncounters / 8] >> (ncounters % 8)) r->bad = true;   /* padding */
    for (uint16_t i = 0; i < ncounters && !r->bad; i++) {
        if (!(bitmap[i / 8] >> (i % 8) & 1)) continue;
        out->c[i] = get_varint_i64(r);
        if (!out->c[i]) r->bad = true;   /* a zero is never written */
    }
}

grading_err_t grading_codec_day_decode(const uint8_t *buf, size_t len, grading_day_counters_t *out)
{
    rd_t r = {buf, len, 0, false};
    /* Decoded in place (the record is large); on failure *out is left
     * zeroed, never half-filled. */
    grading_day_counters_init(out);
    uint8_t version = get_u8(&r);
    if (version != GRADING_CODEC_DAY_V1 && version != GRADING_CODEC_DAY_V2) r.bad = true;
    uint16_t ncounters = get_u16(&r);
    if (ncounters > GRADING_C_COUNT) r.bad = true;
    if (!r.bad) {
        if (version == GRADING_CODEC_DAY_V1)
            get_counters_v1(&r, ncounters, out);
        else
            get_counters_v2(&r, ncounters, out);
    }
    uint8_t ncustom = get_u8(&r);
    if (ncustom > GRADING_MAX_CUSTOM_PER_DAY) r.bad = true;
    for (uint8_t i = 0; i < ncustom && !r.bad; i++) {
        grading_custom_value_t *cv = &out->custom[i];
        get_str(&r, cv->name, sizeof cv->name, 1, GRADING_MAX_CUSTOM_NAME_LEN);
        cv->value = get_f64(&r);
        /* Names are unique within a day (customs merge by name). */
        for (uint8_t j = 0; j < i && !r.bad; j++)
            if (strcmp(out->custom[j].name, cv->name) == 0) r.bad = true;
    }
    out->ncustom = ncustom;
    grading_err_t err = rd_end(&r);
    if (err) grading_day_counters_init(out);
    return err;
}

/* ---- event ---- */

void grading_codec_event_encode(int64_t stored_ms, uint8_t *buf, size_t *out_len)
{
    wr_t w = {buf, 0};
    put_i64(&w, stored_ms);
    *out_len = w.n;
}

void grading_codec_event_encode_hashed(int64_t stored_ms, uint64_t hash, uint8_t *buf, size_t *out_len)
{
    wr_t w = {buf, 0};
    put_i64(&w, stored_ms);
    put_u64(&w, hash);
    *out_len = w.n;
}

grading_err_t grading_codec_event_decode_full(const uint8_t *buf, size_t len, int64_t *out_stored_ms,
                                              bool *out_has_hash, uint64_t *out_hash)
{
    /* the length tells the layout: the older one carries no hash */
    rd_t r = {buf, len, 0, false};
    int64_t v = get_i64(&r);
    bool has_hash = len == 16;
    uint64_t h = has_hash ? get_u64(&r) : 0;
    grading_err_t err = rd_end(&r);
    if (err) return err;
    *out_stored_ms = v;
    *out_has_hash = has_hash;
    *out_hash = h;
    return GRADING_OK;
}

grading_err_t grading_codec_event_decode(const uint8_t *buf, size_t len, int64_t *out_stored_ms)
{
    bool has_hash;
    uint64_t h;
    return grading_codec_event_decode_full(buf, len, out_stored_ms, &has_hash, &h);
}
