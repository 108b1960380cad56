/* Record encodings: round trips of every field, the exact little-endian
 * bytes, an older day record with fewer counters, and every kind of bad
 * record (truncated, trailing bytes, unknown version, out-of-range values,
 * random damage) decoding as GRADING_ECORRUPT, never as garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/store/codec.h"

static grading_order_t sample_order(void)
{
    grading_order_t o;
    grading_order_init(&o);
    o.paid_ms = INT64_C(0x0102030405060708);
    o.shipped_ms = 1700000100000;
    o.delivered_ms = 1700000200000;
    o.cancelled_ms = -5;   /* not a valid time, but the codec keeps any i64 */
    o.returned_ms = INT64_MAX;
    o.exchanged_ms = INT64_MIN;
    o.non_receipt_ms = 1700000300000;
    o.amount = 123456789012345;
    o.reserved_ship_ms = 1700086400000;
    o.ship_within_days = 4;
    memset(o.product_id, 'p', GRADING_MAX_ID_LEN);   /* the longest product id */
    o.product_id[GRADING_MAX_ID_LEN] = '\0';
    strcpy(o.currency, "KRW");
    o.flags = GRADING_ORDER_OVERSEAS | GRADING_ORDER_AUTO_COMPLETED;
    o.cancel_fault = 1;
    o.cancel_reason = 3;
    o.return_fault = 2;
    o.exchange_fault = -1;
    return o;
}

static grading_day_counters_t sample_day(void)
{
    grading_day_counters_t d;
    grading_day_counters_init(&d);
    for (int i = 0; i < GRADING_C_COUNT; i++) d.c[i] = (i % 2 ? -1 : 1) * (INT64_C(1) << (i % 48 + 10));   /* every varint width */
    d.ncustom = 3;
    strcpy(d.custom[0].name, "late_photos");
    d.custom[0].value = 2.5;
    strcpy(d.custom[1].name, "negative");
    d.custom[1].value = -1e300;
    memset(d.custom[2].name, 'n', GRADING_MAX_CUSTOM_NAME_LEN);
    d.custom[2].name[GRADING_MAX_CUSTOM_NAME_LEN] = '\0';
    d.custom[2].value = 0.0;
    return d;
}

static void assert_order_equal(const grading_order_t *a, const grading_order_t *b)
{
    assert_true(a->paid_ms == b->paid_ms);
    assert_true(a->shipped_ms == b->shipped_ms);
    assert_true(a->delivered_ms == b->delivered_ms);
    assert_true(a->cancelled_ms == b->cancelled_ms);
    assert_true(a->returned_ms == b->returned_ms);
    assert_true(a->exchanged_ms == b->exchanged_ms);
    assert_true(a->non_receipt_ms == b->non_receipt_ms);
    assert_true(a->amount == b->amount);
    assert_true(a->reserved_ship_ms == b->reserved_ship_ms);
    assert_int_equal(a->ship_within_days, b->ship_within_days);
    assert_string_equal(a->product_id, b->product_id);
    assert_string_equal(a->currency, b->currency);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->cancel_fault, b->cancel_fault);
    assert_int_equal(a->cancel_reason, b->cancel_reason);
    assert_int_equal(a->return_fault, b->return_fault);
    assert_int_equal(a->exchange_fault, b->exchange_fault);
    assert_true(a->review_ms == b->review_ms);
    assert_int_equal(a->rating, b->rating);
    assert_int_equal(a->recommendation, b->recommendation);
    assert_true(a->satisfaction_ms == b->satisfaction_ms);
    assert_int_equal(a->score, b->score);
}

static void assert_day_equal(const grading_day_counters_t *a, const grading_day_counters_t *b)
{
    for (int i = 0; i < GRADING_C_COUNT; i++) assert_true(a->c[i] == b->c[i]);
    assert_int_equal(a->ncustom, b->ncustom);
    for (uint32_t i = 0; i < a->ncustom; i++) {
        assert_string_equal(a->custom[i].name, b->custom[i].name);
        assert_memory_equal(&a->custom[i].value, &b->custom[i].value, sizeof(double));
    }
}

/* ---- round trips ---- */

static void test_order_round_trips_every_field(void **state)
{
    (void)state;
    grading_order_t o = sample_order(), back;
    uint8_t buf[GRADING_CODEC_ORDER_MAX];
    size_t len = 0;
    assert_int_equal(grading_codec_order_encode(&o, buf, &len), GRADING_OK);
    assert_true(len <= GRADING_CODEC_ORDER_MAX);
    memset(&back, 0x5a, sizeof back);
    assert_int_equal(grading_codec_order_decode(buf, len, &back), GRADING_OK);
    assert_order_equal(&o, &back);

    grading_order_t empty;
    grading_order_init(&empty);
    assert_int_equal(grading_codec_order_encode(&empty, buf, &len), GRADING_OK);
    assert_int_equal(grading_codec_order_decode(buf, len, &back), GRADING_OK);
    assert_order_equal(&empty, &back);
}

/* The dense layouts older builds wrote: an order holding a review and a
 * score as v2, v1 the layout of every other order. Both still read. */
static void test_order_holding_a_review_round_trips_as_v2(void **state)
{
    (void)state;
    grading_order_t o, back;
    grading_order_init(&o);
    o.cancelled_ms = 1700000000000;
    o.review_ms = 1700000005000;
    o.rating = 3;
    o.recommendation = 2;
    o.satisfaction_ms = 1700000009000;
    o.score = 77;
    o.flags = GRADING_ORDER_HOLDS_UNPAID;
    uint8_t buf[GRADING_CODEC_ORDER_MAX + 1];
    size_t len = 0;
    assert_int_equal(grading_codec_order_encode_dense(&o, buf, &len), GRADING_OK);
    assert_true(len <= GRADING_CODEC_ORDER_MAX);
    assert_int_equal(buf[0], GRADING_CODEC_ORDER_V2);
    assert_int_equal(grading_codec_order_decode(buf, len, &back), GRADING_OK);
    assert_order_equal(&o, &back);
    assert_true(back.review_ms == o.review_ms && back.rating == 3 && back.recommendation == 2);
    assert_true(back.satisfaction_ms == o.satisfaction_ms && back.score == 77);
    for (size_t n = 0; n < len; n++) assert_int_equal(grading_codec_order_decode(buf, n, &back), GRADING_ECORRUPT);
    buf[len] = 0;
    assert_int_equal(grading_codec_order_decode(buf, len + 1, &back), GRADING_ECORRUPT);
    o.review_ms = o.satisfaction_ms = 0;
    assert_int_equal(grading_codec_order_encode_dense(&o, buf, &len), GRADING_OK);
    assert_int_equal(buf[0], GRADING_CODEC_ORDER_V1);
}

/* A held review's aspect ratings (11st) survive the sparse v3 layout. */
static void test_order_holding_a_review_keeps_its_aspects_in_v3(void **state)
{
    (void)state;
    grading_order_t o, back;
    grading_order_init(&o);
    o.cancelled_ms = 1700000000000;
    o.review_ms = 1700000005000;
    o.rating = 3;
    o.shipping_rating = 4;
    o.inquiry_rating = 5;
    o.flags = GRADING_ORDER_HOLDS_UNPAID;
    uint8_t buf[GRADING_CODEC_ORDER_MAX];
    size_t len = 0;
    assert_int_equal(grading_codec_order_encode(&o, buf, &len), GRADING_OK);
    assert_int_equal(buf[0], GRADING_CODEC_ORDER_V3);
    assert_int_equal(grading_codec_order_decode(buf, len, &back), GRADING_OK);
    assert_order_equal(&o, &back);
    assert_true(back.shipping_rating == 4 && back.inquiry_rating == 5 && back.rating == 3);
    for (size_t n = 0; n < len; n++) assert_int_equal(grading_codec_order_decode(buf, n, &back), GRADING_ECORRUPT);
}

static void test_order_bytes_are_versioned_little_endian(void **state)
{
    (void)state;
    grading_order_t o = sample_order();
    uint8_t buf[GRADING_CODEC_ORDER_MAX];
    size_t len;
    assert_int_equal(grading_codec_order_encode_dense(&o, buf, &len), GRADING_OK);
    assert_int_equal(buf[0], GRADING_CODEC_ORDER_V1);
    const uint8_t paid[8] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
    assert_memory_equal(buf + 1, paid, 8);
    /* After nine i64 and the u32 ship_within_days: product id length and bytes. */
    size_t at = 1 + 9 * 8;
    const uint8_t days[4] = {4, 0, 0, 0};
    assert_memory_equal(buf + at, days, 4);
    at += 4;
    assert_int_equal(buf[at], GRADING_MAX_ID_LEN);
    at += 1 + GRADING_MAX_ID_LEN;
    assert_int_equal(buf[at], 3);
    assert_memory_equal(buf + at + 1, "KRW", 3);
    assert_int_equal(len, at + 1 + 3 + 4 + 4 * 4);
}

static void test_inquiry_round_trips(void **state)
{
    (void)state;
    grading_inquiry_t q = {.received_ms = 1700000000000, .answered_ms = 1700003600000}, back;
    uint8_t buf[GRADING_CODEC_INQUIRY_MAX];
    size_t len;
    assert_int_equal(grading_codec_inquiry_encode(&q, buf, &len), GRADING_OK);
    assert_int_equal(len, 1 + 2 * 8);   /* no exclusions: v1, as older builds wrote */
    assert_int_equal(buf[0], GRADING_CODEC_INQUIRY_V1);
    assert_int_equal(grading_codec_inquiry_decode(buf, len, &back), GRADING_OK);
    assert_true(back.received_ms == q.received_ms);
    assert_true(back.answered_ms == q.answered_ms);
}

/* Issue 15: exclusions make an order v4 and an inquiry v2; without them
 * the record stays v3 / v1 (older builds read it), and a v4 that carries
 * no exclusion is not canonical. */
static void test_exclusions_round_trip_in_v4_and_inquiry_v2(void **state)
{
    (void)state;
    grading_order_t o, back;
    grading_order_init(&o);
    o.paid_ms = 1700000000000;
    o.amount = 5000;
    snprintf(o.product_id, sizeof o.product_id, "p1");
    uint8_t buf[GRADING_CODEC_ORDER_MAX];
    size_t len;
    assert_int_equal(grading_codec_order_encode(&o, buf, &len), GRADING_OK);
    assert_int_equal(buf[0], GRADING_CODEC_ORDER_V3);
    o.appeal_mask = UINT64_C(1) << 3 | UINT64_C(1) << 63;   /* the top bit survives the zigzag */
    o.exempt_mask = 0;
    o.appeals = 2;
    assert_int_equal(grading_codec_order_encode(&o, buf, &len), GRADING_OK);
    assert_true(len <= GRADING_CODEC_ORDER_MAX);
    assert_int_equal(buf[0], GRADING_CODEC_ORDER_V4);
    assert_int_equal(grading_codec_order_decode(buf, len, &back), GRADING_OK);
    assert_true(back.appeal_mask == o.appeal_mask);
    assert_true(back.exempt_mask == 0);
    assert_int_equal(back.appeals, 2);
    assert_true(back.paid_ms == o.paid_ms);
    assert_string_equal(back.product_id, "p1");
    /* a v4 whose exclusions byte says "none" is corrupt (it would be v3) */
    grading_order_t plain = o;
    plain.appeal_mask = 0, plain.appeals = 0;
    assert_int_equal(grading_codec_order_encode(&plain, buf, &len), GRADING_OK);
    buf[len] = 0;
    buf[0] = GRADING_CODEC_ORDER_V4;
    assert_int_equal(grading_codec_order_decode(buf, len + 1, &back), GRADING_ECORRUPT);

    grading_inquiry_t q = {.received_ms = 1, .answered_ms = 2, .exempt_mask = UINT64_MAX}, qb;
    uint8_t qbuf[GRADING_CODEC_INQUIRY_MAX];
    assert_int_equal(grading_codec_inquiry_encode(&q, qbuf, &len), GRADING_OK);
    assert_true(len <= GRADING_CODEC_INQUIRY_MAX);
    assert_int_equal(qbuf[0], GRADING_CODEC_INQUIRY_V2);
    assert_int_equal(grading_codec_inquiry_decode(qbuf, len, &qb), GRADING_OK);
    assert_true(qb.exempt_mask == UINT64_MAX);
    assert_true(qb.appeal_mask == 0);
    assert_int_equal(qb.appeals, 0);
    /* truncated: corrupt, not a guess */
    assert_int_equal(grading_codec_inquiry_decode(qbuf, len - 1, &qb), GRADING_ECORRUPT);
}

static void test_day_round_trips_counters_and_customs(void **state)
{
    (void)state;
    /* The dense layout older builds wrote still reads. */
    grading_day_counters_t d = sample_day(), back;
    uint8_t buf[GRADING_CODEC_DAY_MAX];
    size_t len;
    assert_int_equal(grading_codec_day_encode_v1(&d, buf, &len), GRADING_OK);
    assert_true(len <= GRADING_CODEC_DAY_MAX);
    assert_int_equal(buf[0], GRADING_CODEC_DAY_V1);
    assert_int_equal(buf[1] | buf[2] << 8, GRADING_C_COUNT);   /* the count is on disk */
    memset(&back, 0x5a, sizeof back);
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_OK);
    assert_day_equal(&d, &back);
}

static void test_day_with_the_most_customs_fits_its_bound(void **state)
{
    (void)state;
    grading_day_counters_t d, back;
    grading_day_counters_init(&d);
    for (int i = 0; i < GRADING_C_COUNT; i++) d.c[i] = INT64_MIN + i;
    d.ncustom = GRADING_MAX_CUSTOM_PER_DAY;
    for (uint32_t i = 0; i < d.ncustom; i++) {
        memset(d.custom[i].name, 'a', GRADING_MAX_CUSTOM_NAME_LEN);
        d.custom[i].name[GRADING_MAX_CUSTOM_NAME_LEN] = '\0';
        d.custom[i].name[0] = (char)('A' + i);   /* unique names */
        d.custom[i].value = i * 0.25;
    }
    uint8_t buf[GRADING_CODEC_DAY_MAX];
    size_t len;
    assert_int_equal(grading_codec_day_encode(&d, buf, &len), GRADING_OK);
    assert_int_equal(len, GRADING_CODEC_DAY_MAX);
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_OK);
    assert_day_equal(&d, &back);
}

static void test_older_day_record_with_fewer_counters_reads_as_zeros(void **state)
{
    (void)state;
    /* Version 1, 2 counters (orders = 7, gmv = 1000), one custom "x" = 1.5. */
    uint8_t rec[] = {1, 2, 0,
                     7, 0, 0, 0, 0, 0, 0, 0,
                     0xe8, 0x03, 0, 0, 0, 0, 0, 0,
                     1, 1, 'x', 0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
    grading_day_counters_t d;
    assert_int_equal(grading_codec_day_decode(rec, sizeof rec, &d), GRADING_OK);
    assert_true(d.c[GRADING_C_ORDERS] == 7);
    assert_true(d.c[GRADING_C_GMV] == 1000);
    for (int i = 2; i < GRADING_C_COUNT; i++) assert_true(d.c[i] == 0);
    assert_int_equal(d.ncustom, 1);
    assert_string_equal(d.custom[0].name, "x");
    assert_true(d.custom[0].value == 1.5);
}

static void test_event_value_round_trips(void **state)
{
    (void)state;
    uint8_t buf[GRADING_CODEC_EVENT_MAX];
    size_t len;
    int64_t back = 0;
    grading_codec_event_encode(-1700000000123, buf, &len);
    assert_int_equal(len, 8);
    assert_int_equal(grading_codec_event_decode(buf, len, &back), GRADING_OK);
    assert_true(back == -1700000000123);
    assert_int_equal(grading_codec_event_decode(buf, 7, &back), GRADING_ECORRUPT);
    assert_int_equal(grading_codec_event_decode(buf, 0, &back), GRADING_ECORRUPT);
}

/* ---- encoding refuses what it cannot write faithfully ---- */

static void test_encoding_out_of_range_records_is_einval(void **state)
{
    (void)state;
    uint8_t buf[GRADING_CODEC_DAY_MAX];
    size_t len;
    grading_order_t o = sample_order();
    memset(o.product_id, 'p', sizeof o.product_id);   /* no terminator */
    assert_int_equal(grading_codec_order_encode(&o, buf, &len), GRADING_EINVAL);
    o = sample_order();
    memset(o.currency, 'c', sizeof o.currency);
    assert_int_equal(grading_codec_order_encode(&o, buf, &len), GRADING_EINVAL);

    grading_day_counters_t d = sample_day();
    d.ncustom = GRADING_MAX_CUSTOM_PER_DAY + 1;
    assert_int_equal(grading_codec_day_encode(&d, buf, &len), GRADING_EINVAL);
    d = sample_day();
    d.custom[1].name[0] = '\0';
    assert_int_equal(grading_codec_day_encode(&d, buf, &len), GRADING_EINVAL);
    d = sample_day();
    memset(d.custom[0].name, 'n', sizeof d.custom[0].name);
    assert_int_equal(grading_codec_day_encode(&d, buf, &len), GRADING_EINVAL);
}

/* ---- corrupt records ---- */

static void test_every_truncation_and_extension_is_corrupt(void **state)
{
    (void)state;
    uint8_t obuf[GRADING_CODEC_ORDER_MAX + 1], qbuf[GRADING_CODEC_INQUIRY_MAX + 1],
        dbuf[GRADING_CODEC_DAY_MAX + 1];
    size_t olen, qlen, dlen;
    grading_order_t o = sample_order(), ob = sample_order();
    grading_inquiry_t q = {.received_ms = 1, .answered_ms = 2}, qb = {.received_ms = 77, .answered_ms = 88};
    grading_day_counters_t d = sample_day(), db;
    assert_int_equal(grading_codec_order_encode(&o, obuf, &olen), GRADING_OK);
    assert_int_equal(grading_codec_inquiry_encode(&q, qbuf, &qlen), GRADING_OK);
    assert_int_equal(grading_codec_day_encode(&d, dbuf, &dlen), GRADING_OK);

    grading_order_init(&ob);
    for (size_t n = 0; n < olen; n++)
        assert_int_equal(grading_codec_order_decode(obuf, n, &ob), GRADING_ECORRUPT);
    obuf[olen] = 0;
    assert_int_equal(grading_codec_order_decode(obuf, olen + 1, &ob), GRADING_ECORRUPT);
    assert_true(ob.paid_ms == 0);   /* a failed decode leaves the output alone */

    for (size_t n = 0; n < qlen; n++)
        assert_int_equal(grading_codec_inquiry_decode(qbuf, n, &qb), GRADING_ECORRUPT);
    qbuf[qlen] = 0;
    assert_int_equal(grading_codec_inquiry_decode(qbuf, qlen + 1, &qb), GRADING_ECORRUPT);
    assert_true(qb.received_ms == 77 && qb.answered_ms == 88);

    for (size_t n = 0; n < dlen; n++) {
        assert_int_equal(grading_codec_day_decode(dbuf, n, &db), GRADING_ECORRUPT);
        assert_int_equal(db.ncustom, 0);   /* zeroed, not half-filled */
        assert_true(db.c[0] == 0);
    }
    dbuf[dlen] = 0;
    assert_int_equal(grading_codec_day_decode(dbuf, dlen + 1, &db), GRADING_ECORRUPT);
}

static void test_unknown_versions_are_corrupt(void **state)
{
    (void)state;
    uint8_t buf[GRADING_CODEC_DAY_MAX];
    size_t len;
    grading_order_t o = sample_order();
    grading_inquiry_t q = {.received_ms = 1, .answered_ms = 2};
    grading_day_counters_t d = sample_day();
    assert_int_equal(grading_codec_order_encode_dense(&o, buf, &len), GRADING_OK);
    buf[0] = 2;
    assert_int_equal(grading_codec_order_decode(buf, len, &o), GRADING_ECORRUPT);
    buf[0] = 0;
    assert_int_equal(grading_codec_order_decode(buf, len, &o), GRADING_ECORRUPT);
    assert_int_equal(grading_codec_inquiry_encode(&q, buf, &len), GRADING_OK);
    buf[0] = 9;
    assert_int_equal(grading_codec_inquiry_decode(buf, len, &q), GRADING_ECORRUPT);
    assert_int_equal(grading_codec_day_encode(&d, buf, &len), GRADING_OK);
    buf[0] = 0xff;
    assert_int_equal(grading_codec_day_decode(buf, len, &d), GRADING_ECORRUPT);
}

static void test_out_of_range_values_are_corrupt(void **state)
{
    (void)state;
    uint8_t buf[GRADING_CODEC_DAY_MAX];
    size_t len;
    grading_day_counters_t d = sample_day(), back;
    size_t customs_at = 1 + 2 + GRADING_C_COUNT * 8;   /* the v1 layout */

    /* More counters than this build knows: refused, not silently dropped. */
    assert_int_equal(grading_codec_day_encode_v1(&d, buf, &len), GRADING_OK);
    buf[1] = GRADING_C_COUNT + 1;
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_ECORRUPT);

    /* More customs than a day may hold. */
    assert_int_equal(grading_codec_day_encode_v1(&d, buf, &len), GRADING_OK);
    buf[customs_at] = GRADING_MAX_CUSTOM_PER_DAY + 1;
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_ECORRUPT);

    /* A custom name with a NUL inside, an empty one, a duplicate. */
    assert_int_equal(grading_codec_day_encode_v1(&d, buf, &len), GRADING_OK);
    buf[customs_at + 2] = '\0';   /* inside "late_photos" */
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_ECORRUPT);

    grading_day_counters_t one;
    grading_day_counters_init(&one);
    one.ncustom = 1;
    strcpy(one.custom[0].name, "z");
    assert_int_equal(grading_codec_day_encode_v1(&one, buf, &len), GRADING_OK);
    uint8_t empty_name[GRADING_CODEC_DAY_MAX];
    memcpy(empty_name, buf, customs_at + 1);
    empty_name[customs_at + 1] = 0;   /* name length 0, then the 8 value bytes */
    memcpy(empty_name + customs_at + 2, buf + customs_at + 3, 8);
    assert_int_equal(grading_codec_day_decode(empty_name, customs_at + 2 + 8, &back),
                     GRADING_ECORRUPT);

    grading_day_counters_t two = one;
    two.ncustom = 2;
    strcpy(two.custom[1].name, "y");
    assert_int_equal(grading_codec_day_encode_v1(&two, buf, &len), GRADING_OK);
    buf[customs_at + 1 + 1 + 1 + 8 + 1] = 'z';   /* second name becomes "z" too */
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_ECORRUPT);

    /* An order's product id longer than an id may be. */
    grading_order_t o = sample_order(), ob;
    assert_int_equal(grading_codec_order_encode_dense(&o, buf, &len), GRADING_OK);
    size_t pid_at = 1 + 9 * 8 + 4;
    uint8_t longer[GRADING_CODEC_ORDER_MAX + 8];
    memcpy(longer, buf, pid_at);
    longer[pid_at] = GRADING_MAX_ID_LEN + 1;
    memset(longer + pid_at + 1, 'p', GRADING_MAX_ID_LEN + 1);
    memcpy(longer + pid_at + 1 + GRADING_MAX_ID_LEN + 1, buf + pid_at + 1 + GRADING_MAX_ID_LEN,
           len - (pid_at + 1 + GRADING_MAX_ID_LEN));
    assert_int_equal(grading_codec_order_decode(longer, len + 1, &ob), GRADING_ECORRUPT);
    /* A currency longer than fits. */
    memcpy(longer, buf, len);
    size_t cur_at = pid_at + 1 + GRADING_MAX_ID_LEN;
    longer[cur_at] = GRADING_CURRENCY_MAX;
    assert_int_equal(grading_codec_order_decode(longer, len, &ob), GRADING_ECORRUPT);
}

/* Random damage must decode cleanly or fail cleanly; ASan watches the reads. */
static void test_random_damage_never_reads_out_of_bounds(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    uint8_t dbuf[GRADING_CODEC_DAY_MAX], obuf[GRADING_CODEC_ORDER_MAX];
    size_t dlen, olen;
    grading_day_counters_t d = sample_day(), db;
    grading_order_t o = sample_order(), ob;
    assert_int_equal(grading_codec_day_encode(&d, dbuf, &dlen), GRADING_OK);
    assert_int_equal(grading_codec_order_encode(&o, obuf, &olen), GRADING_OK);
    int ok = 0, corrupt = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t copy[GRADING_CODEC_DAY_MAX];
        bool day = round % 2;
        size_t len = day ? dlen : olen;
        memcpy(copy, day ? dbuf : obuf, len);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % len] = (uint8_t)(seed >> 24);
        }
        seed = seed * 1103515245u + 12345u;
        size_t cut = (seed >> 16) % 4 == 0 ? (seed >> 4) % (len + 1) : len;
        /* Exact-size heap copies so ASan sees any read past the end. */
        uint8_t *heap = malloc(cut ? cut : 1);
        assert_non_null(heap);
        memcpy(heap, copy, cut);
        grading_err_t err = day ? grading_codec_day_decode(heap, cut, &db)
                                : grading_codec_order_decode(heap, cut, &ob);
        free(heap);
        assert_true(err == GRADING_OK || err == GRADING_ECORRUPT);
        if (err == GRADING_OK) {
            ok++;
            if (day) assert_true(db.ncustom <= GRADING_MAX_CUSTOM_PER_DAY);
            else assert_true(strlen(ob.product_id) <= GRADING_MAX_ID_LEN);
        } else {
            corrupt++;
        }
    }
    assert_true(ok > 0 && corrupt > 0);   /* both outcomes were exercised */
}

/* ---- sparse day records (v2) ---- */

static void test_sparse_day_round_trips_and_is_small(void **state)
{
    (void)state;
    /* A typical day: a few counters set, the rest zero. */
    grading_day_counters_t d, back;
    grading_day_counters_init(&d);
    d.c[GRADING_C_ORDERS] = 3;
    d.c[GRADING_C_GMV] = 4500000;
    d.c[GRADING_C_SHIPPED] = 2;
    d.c[GRADING_C_ORPHANS_PENDING] = -1;   /* negative values stay short too */
    uint8_t buf[GRADING_CODEC_DAY_MAX], v1[GRADING_CODEC_DAY_MAX];
    size_t len, v1len;
    assert_int_equal(grading_codec_day_encode(&d, buf, &len), GRADING_OK);
    assert_int_equal(grading_codec_day_encode_v1(&d, v1, &v1len), GRADING_OK);
    assert_int_equal(buf[0], GRADING_CODEC_DAY_V2);
    assert_int_equal(buf[1] | buf[2] << 8, GRADING_C_COUNT);
    /* version, count, bitmap, 1 + 4 + 1 + 1 varint bytes, ncustom */
    assert_int_equal(len, 1 + 2 + GRADING_CODEC_DAY_BITMAP + 7 + 1);
    assert_int_equal(v1len, 1 + 2 + GRADING_C_COUNT * 8 + 1);
    memset(&back, 0x5a, sizeof back);
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_OK);
    assert_day_equal(&d, &back);
    /* Both layouts of the same day decode to the same counters. */
    grading_day_counters_t from_v1;
    assert_int_equal(grading_codec_day_decode(v1, v1len, &from_v1), GRADING_OK);
    assert_day_equal(&from_v1, &back);
}

static void test_sparse_day_extremes_round_trip(void **state)
{
    (void)state;
    grading_day_counters_t d = sample_day(), back;
    d.c[0] = INT64_MIN;
    d.c[1] = INT64_MAX;
    d.c[2] = 0;
    d.c[3] = -64;   /* zigzag 127: one byte */
    d.c[4] = 64;    /* zigzag 128: two bytes */
    uint8_t buf[GRADING_CODEC_DAY_MAX];
    size_t len;
    assert_int_equal(grading_codec_day_encode(&d, buf, &len), GRADING_OK);
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_OK);
    assert_day_equal(&d, &back);
    grading_day_counters_t empty;
    grading_day_counters_init(&empty);
    assert_int_equal(grading_codec_day_encode(&empty, buf, &len), GRADING_OK);
    assert_int_equal(len, 1 + 2 + GRADING_CODEC_DAY_BITMAP + 1);
    assert_int_equal(grading_codec_day_decode(buf, len, &back), GRADING_OK);
    assert_day_equal(&empty, &back);
}

static void test_non_canonical_sparse_days_are_corrupt(void **state)
{
    (void)state;
    grading_day_counters_t d, back;
    grading_day_counters_init(&d);
    d.c[0] = 1;
    uint8_t buf[GRADING_CODEC_DAY_MAX];
    size_t len;
    assert_int_equal(grading_codec_day_encode(&d, buf, &len), GRADING_OK);
    size_t val_at = 1 + 2 + GRADING_CODEC_DAY_BITMAP;
    assert_int_equal(buf[val_at], 2);   /* zigzag(1) */
    uint8_t bad[GRADING_CODEC_DAY_MAX + 4];

    /* A present counter whose value is zero. */
    memcpy(bad, buf, len);
    bad[val_at] = 0;
    assert_int_equal(grading_codec_day_decode(bad, len, &back), GRADING_ECORRUPT);
    /* An overlong varint (0x82 0x00 is 2 in two bytes). */
    memcpy(bad, buf, val_at);
    bad[val_at] = 0x82;
    bad[val_at + 1] = 0x00;
    bad[val_at + 2] = 0;   /* ncustom */
    assert_int_equal(grading_codec_day_decode(bad, val_at + 3, &back), GRADING_ECORRUPT);
    /* An eleven-byte varint, and a tenth byte with bits past 64. */
    memcpy(bad, buf, val_at);
    memset(bad + val_at, 0xff, 9);
    bad[val_at + 9] = 0x02;
    bad[val_at + 10] = 0;
    assert_int_equal(grading_codec_day_decode(bad, val_at + 11, &back), GRADING_ECORRUPT);
    memset(bad + val_at, 0xff, 10);
    bad[val_at + 10] = 0x01;
    bad[val_at + 11] = 0;
    assert_int_equal(grading_codec_day_decode(bad, val_at + 12, &back), GRADING_ECORRUPT);
    /* A bitmap bit past the counter count. */
    uint8_t one[] = {GRADING_CODEC_DAY_V2, 1, 0, 0x03, 2, 2, 0};
    assert_int_equal(grading_codec_day_decode(one, sizeof one, &back), GRADING_ECORRUPT);
    uint8_t ok[] = {GRADING_CODEC_DAY_V2, 1, 0, 0x01, 2, 0};
    assert_int_equal(grading_codec_day_decode(ok, sizeof ok, &back), GRADING_OK);
    assert_true(back.c[0] == 1 && back.c[1] == 0);
    /* A record with more counters than this build knows. */
    uint8_t more[3 + (GRADING_C_COUNT + 1 + 7) / 8 + 1] = {GRADING_CODEC_DAY_V2, GRADING_C_COUNT + 1, 0};
    assert_int_equal(grading_codec_day_decode(more, sizeof more, &back), GRADING_ECORRUPT);
    more[1] = GRADING_C_COUNT;   /* the same, all zero, with this build's count reads */
    assert_int_equal(grading_codec_day_decode(more, 3 + GRADING_CODEC_DAY_BITMAP + 1, &back), GRADING_OK);
}

/* ---- sparse orders (v3) ---- */

static void test_sparse_order_round_trips_and_is_small(void **state)
{
    (void)state;
    grading_order_t o, back, dense_back;
    grading_order_init(&o);
    o.paid_ms = 1767225600000;
    o.shipped_ms = o.paid_ms + 86400000;
    o.delivered_ms = o.paid_ms + 3 * 86400000;
    o.amount = 15000;
    o.ship_within_days = 2;
    strcpy(o.product_id, "p1");
    strcpy(o.currency, "KRW");
    uint8_t buf[GRADING_CODEC_ORDER_MAX], dense[GRADING_CODEC_ORDER_MAX];
    size_t len, dlen;
    assert_int_equal(grading_codec_order_encode(&o, buf, &len), GRADING_OK);
    assert_int_equal(grading_codec_order_encode_dense(&o, dense, &dlen), GRADING_OK);
    assert_int_equal(buf[0], GRADING_CODEC_ORDER_V3);
    assert_int_equal(buf[1] | buf[2] << 8 | buf[3] << 16, 0x287);   /* paid, shipped, delivered, amount, days */
    /* three 6-byte times, a 3-byte amount, a 1-byte count, the strings */
    assert_int_equal(len, 1 + 3 + 3 * 6 + 3 + 1 + 3 + 4);
    assert_int_equal(dlen, 1 + 9 * 8 + 4 + 3 + 4 + 4 + 4 * 4);
    memset(&back, 0x5a, sizeof back);
    assert_int_equal(grading_codec_order_decode(buf, len, &back), GRADING_OK);
    assert_order_equal(&o, &back);
    assert_int_equal(grading_codec_order_decode(dense, dlen, &dense_back), GRADING_OK);
    assert_order_equal(&dense_back, &back);

    /* every field at once, extremes included */
    grading_order_t full = sample_order();
    full.review_ms = 1700000005000;
    full.rating = UINT32_MAX;
    full.recommendation = INT32_MIN;
    full.satisfaction_ms = -1;
    full.score = 100;
    assert_int_equal(grading_codec_order_encode(&full, buf, &len), GRADING_OK);
    assert_true(len <= GRADING_CODEC_ORDER_MAX);
    assert_int_equal(grading_codec_order_decode(buf, len, &back), GRADING_OK);
    assert_order_equal(&full, &back);
    assert_true(back.review_ms == full.review_ms && back.rating == UINT32_MAX && back.recommendation == INT32_MIN);
    assert_true(back.satisfaction_ms == -1 && back.score == 100);
    for (size_t n = 0; n < len; n++) assert_int_equal(grading_codec_order_decode(buf, n, &back), GRADING_ECORRUPT);
}

static void test_non_canonical_sparse_orders_are_corrupt(void **state)
{
    (void)state;
    grading_order_t back;
    /* rating (field 16) = 1, no strings */
    uint8_t ok[] = {GRADING_CODEC_ORDER_V3, 0, 0, 0x01, 2, 0, 0};
    assert_int_equal(grading_codec_order_decode(ok, sizeof ok, &back), GRADING_OK);
    assert_int_equal(back.rating, 1);
    uint8_t zero[] = {GRADING_CODEC_ORDER_V3, 0, 0, 0x01, 0, 0, 0};   /* present but zero */
    assert_int_equal(grading_codec_order_decode(zero, sizeof zero, &back), GRADING_ECORRUPT);
    uint8_t bit20[] = {GRADING_CODEC_ORDER_V3, 0, 0, 0x10, 2, 0, 0};  /* field 20: shipping_rating = 1 */
    assert_int_equal(grading_codec_order_decode(bit20, sizeof bit20, &back), GRADING_OK);
    assert_int_equal(back.shipping_rating, 1);
    uint8_t bit22[] = {GRADING_CODEC_ORDER_V3, 0, 0, 0x40, 2, 0, 0};  /* a field past the 22nd */
    assert_int_equal(grading_codec_order_decode(bit22, sizeof bit22, &back), GRADING_ECORRUPT);
    /* rating 2^32 (zigzag 2^33): beyond its u32 */
    uint8_t wide[] = {GRADING_CODEC_ORDER_V3, 0, 0, 0x01, 0x80, 0x80, 0x80, 0x80, 0x20, 0, 0};
    assert_int_equal(grading_codec_order_decode(wide, sizeof wide, &back), GRADING_ECORRUPT);
    /* a negative rating */
    uint8_t neg[] = {GRADING_CODEC_ORDER_V3, 0, 0, 0x01, 1, 0, 0};
    assert_int_equal(grading_codec_order_decode(neg, sizeof neg, &back), GRADING_ECORRUPT);
    /* recommendation (field 17) below INT32_MIN: zigzag 2^32 + 1 */
    uint8_t low[] = {GRADING_CODEC_ORDER_V3, 0, 0, 0x02, 0x81, 0x80, 0x80, 0x80, 0x10, 0, 0};
    assert_int_equal(grading_codec_order_decode(low, sizeof low, &back), GRADING_ECORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_round_trips_every_field),
        cmocka_unit_test(test_order_bytes_are_versioned_little_endian),
        cmocka_unit_test(test_order_holding_a_review_round_trips_as_v2),
        cmocka_unit_test(test_order_holding_a_review_keeps_its_aspects_in_v3),
        cmocka_unit_test(test_inquiry_round_trips),
        cmocka_unit_test(test_exclusions_round_trip_in_v4_and_inquiry_v2),
        cmocka_unit_test(test_day_round_trips_counters_and_customs),
        cmocka_unit_test(test_day_with_the_most_customs_fits_its_bound),
        cmocka_unit_test(test_older_day_record_with_fewer_counters_reads_as_zeros),
        cmocka_unit_test(test_event_value_round_trips),
        cmocka_unit_test(test_encoding_out_of_range_records_is_einval),
        cmocka_unit_test(test_every_truncation_and_extension_is_corrupt),
        cmocka_unit_test(test_unknown_versions_are_corrupt),
        cmocka_unit_test(test_out_of_range_values_are_corrupt),
        cmocka_unit_test(test_random_damage_never_reads_out_of_bounds),
        cmocka_unit_test(test_sparse_day_round_trips_and_is_small),
        cmocka_unit_test(test_sparse_day_extremes_round_trip),
        cmocka_unit_test(test_non_canonical_sparse_days_are_corrupt),
        cmocka_unit_test(test_sparse_order_round_trips_and_is_small),
        cmocka_unit_test(test_non_canonical_sparse_orders_are_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
