/* UTF-8 and id checks (text.h), the raw-wire string check (pbcheck.h) and
 * the checked counter additions (counters.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "grading/counters.h"
#include "grading/pbcheck.h"
#include "grading/text.h"
#include "grading/v1/grading.pb-c.h"

#define S(lit) lit, sizeof lit - 1

static void test_utf8_accepts_well_formed_text(void **state)
{
    (void)state;
    size_t at = 99;
    assert_true(grading_utf8_valid(S(""), &at));
    assert_true(grading_utf8_valid(S("seller-1"), &at));
    assert_true(grading_utf8_valid(S("\xec\x85\x80\xeb\x9f\xac"), &at));   /* 셀러 */
    assert_true(grading_utf8_valid(S("\xc2\x80"), &at));                   /* U+0080, the smallest 2-byte */
    assert_true(grading_utf8_valid(S("\xe0\xa0\x80"), &at));               /* U+0800 */
    assert_true(grading_utf8_valid(S("\xed\x9f\xbf"), &at));               /* U+D7FF, below the surrogates */
    assert_true(grading_utf8_valid(S("\xf0\x90\x80\x80"), &at));           /* U+10000 */
    assert_true(grading_utf8_valid(S("\xf4\x8f\xbf\xbf"), &at));           /* U+10FFFF, the last */
    assert_int_equal(at, 99);   /* untouched when valid */
}

static void test_utf8_refuses_each_malformed_form_at_its_offset(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n, at;
    } bad[] = {
        {S("ab\xff"), 2},               /* never in UTF-8 */
        {S("\x80"), 0},                 /* a lone continuation */
        {S("a\xc3"), 1},                /* truncated */
        {S("\xc3\x28"), 0},             /* continuation missing */
        {S("\xc0\xaf"), 0},             /* overlong '/' */
        {S("\xc1\xbf"), 0},             /* overlong */
        {S("\xe0\x80\xaf"), 0},         /* overlong 3-byte */
        {S("\xf0\x80\x80\xaf"), 0},     /* overlong 4-byte */
        {S("x\xed\xa0\x80"), 1},        /* U+D800, a surrogate */
        {S("\xed\xbf\xbf"), 0},         /* U+DFFF */
        {S("\xf4\x90\x80\x80"), 0},     /* U+110000, above the last */
        {S("\xf5\x80\x80\x80"), 0},
        {S("ok\xe2\x82"), 2},           /* truncated euro sign */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t at = 99;
        assert_false(grading_utf8_valid(bad[i].s, bad[i].n, &at));
        assert_int_equal(at, bad[i].at);
    }
}

static void test_ids_are_printable_ascii(void **state)
{
    (void)state;
    size_t at;
    assert_null(grading_id_problem(S("seller-1_A.b:c/d"), 128, &at));
    assert_null(grading_id_problem(S("~!"), 2, &at));
    assert_string_equal(grading_id_problem("", 0, 128, &at), "is required");
    assert_non_null(strstr(grading_id_problem(S("a\0x"), 128, &at), "NUL"));
    assert_int_equal(at, 1);
    assert_non_null(strstr(grading_id_problem(S("a b"), 128, &at), "spaces"));
    assert_non_null(strstr(grading_id_problem(S("a\tb"), 128, &at), "control"));
    assert_non_null(strstr(grading_id_problem(S("ab\x7f"), 128, &at), "control"));
    assert_int_equal(at, 2);
    assert_non_null(strstr(grading_id_problem(S("\xec\x85\x80"), 128, &at), "ASCII"));
    assert_int_equal(at, 0);
    assert_string_equal(grading_id_problem(S("abcd"), 3, &at), "is too long");
    assert_null(grading_id_problem(S("abc"), 3, &at));
}

/* ---- the raw-wire check ---- */

static size_t pack_event(const char *seller, uint8_t *buf)
{
    Grading__V1__SellerEvent ev = GRADING__V1__SELLER_EVENT__INIT;
    Grading__V1__OrderShipped k = GRADING__V1__ORDER_SHIPPED__INIT;
    ev.event_id = "e1";
    ev.seller_id = (char *)seller;
    k.order_id = "o^1";
    ev.kind_case = GRADING__V1__SELLER_EVENT__KIND_ORDER_SHIPPED;
    ev.order_shipped = &k;
    return protobuf_c_message_pack(&ev.base, buf);
}

/* Two events packed; the second seller id's '~' bytes are then replaced. */
static size_t pack_request(uint8_t *buf, const char *second_seller)
{
    uint8_t e1[128], e2[128];
    size_t n1 = pack_event("s1", e1), n2 = pack_event(second_seller, e2), n = 0;
    buf[n++] = 0x0a;
    buf[n++] = (uint8_t)n1;
    memcpy(buf + n, e1, n1);
    n += n1;
    buf[n++] = 0x0a;
    buf[n++] = (uint8_t)n2;
    memcpy(buf + n, e2, n2);
    return n + n2;
}

static void replace_byte(uint8_t *buf, size_t n, uint8_t from, uint8_t to)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] == from) buf[i] = to;
}

static void test_wire_check_names_the_field_of_a_nul_or_bad_utf8(void **state)
{
    (void)state;
    uint8_t buf[512];
    grading_error_t e = {0};
    const ProtobufCMessageDescriptor *d = &grading__v1__record_events_request__descriptor;

    size_t n = pack_request(buf, "a~x");
    assert_int_equal(grading_pb_check_strings(d, buf, n, &e), GRADING_OK);
    replace_byte(buf, n, '~', 0);
    assert_int_equal(grading_pb_check_strings(d, buf, n, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events[1].seller_id");
    assert_non_null(strstr(e.message, "NUL"));

    n = pack_request(buf, "a~");
    replace_byte(buf, n, '~', 0xff);
    assert_int_equal(grading_pb_check_strings(d, buf, n, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events[1].seller_id");
    assert_non_null(strstr(e.message, "UTF-8"));

    /* the nested kind's field */
    n = pack_request(buf, "ok");
    replace_byte(buf, n, '^', 0);   /* "o^1" -> "o\01" in both events */
    assert_int_equal(grading_pb_check_strings(d, buf, n, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "events[0].order_shipped.order_id");

    /* decode refuses what the check refuses, and unpacks what it accepts */
    ProtobufCMessage *m = NULL;
    assert_int_equal(grading_pb_decode(d, buf, n, &m, &e), GRADING_EINVAL);
    assert_null(m);
    n = pack_request(buf, "fine");
    assert_int_equal(grading_pb_decode(d, buf, n, &m, &e), GRADING_OK);
    Grading__V1__RecordEventsRequest *r = (void *)m;
    assert_int_equal(r->n_events, 2);
    assert_string_equal(r->events[1]->seller_id, "fine");
    protobuf_c_message_free_unpacked(m, NULL);
    /* an empty message is fine */
    assert_int_equal(grading_pb_decode(d, NULL, 0, &m, &e), GRADING_OK);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_wire_check_refuses_broken_messages(void **state)
{
    (void)state;
    grading_error_t e = {0};
    const ProtobufCMessageDescriptor *d = &grading__v1__record_events_request__descriptor;
    static const uint8_t truncated_len[] = {0x0a, 0x05, 0x01};
    static const uint8_t bad_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t group[] = {0x0b};
    static const uint8_t long_tag[] = {0x8a, 0x80, 0x80, 0x80, 0x80, 0x00};   /* 6 bytes: protobuf-c stops at 5 */
    assert_int_equal(grading_pb_check_strings(d, truncated_len, sizeof truncated_len, &e), GRADING_EINVAL);
    assert_int_equal(grading_pb_check_strings(d, bad_varint, sizeof bad_varint, &e), GRADING_EINVAL);
    assert_int_equal(grading_pb_check_strings(d, group, sizeof group, &e), GRADING_EINVAL);
    assert_int_equal(grading_pb_check_strings(d, long_tag, sizeof long_tag, &e), GRADING_EINVAL);
    /* a field number past 2^29-1 is, as for protobuf-c, an unknown field
     * (skipped), not a broken message: the fuzzer found the difference */
    static const uint8_t big_number[] = {0x8a, 0x80, 0x80, 0x80, 0x10, 0x02, 'a', 0x00};
    assert_int_equal(grading_pb_check_strings(d, big_number, sizeof big_number, &e), GRADING_OK);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, sizeof big_number, big_number);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    /* unknown fields of every wire type are skipped */
    static const uint8_t unknown[] = {0x78, 0x05, 0x79, 1, 2, 3, 4, 5, 6, 7, 8, 0x7d, 1, 2, 3, 4, 0x7a, 0x01, 0x00};
    assert_int_equal(grading_pb_check_strings(d, unknown, sizeof unknown, &e), GRADING_OK);
}

/* ---- checked additions ---- */

static void test_counter_additions_are_checked(void **state)
{
    (void)state;
    int64_t out = 7;
    assert_true(grading_counter_add_ok(1, 2, 10, &out));
    assert_int_equal(out, 3);
    assert_false(grading_counter_add_ok(9, 2, 10, &out));
    assert_int_equal(out, 3);   /* untouched */
    assert_false(grading_counter_add_ok(-9, -2, 10, &out));
    assert_false(grading_counter_add_ok(INT64_MAX, 1, INT64_MAX, &out));
    assert_false(grading_counter_add_ok(INT64_MIN, -1, INT64_MAX, &out));
    assert_true(grading_counter_add_ok(INT64_MAX - 1, 1, INT64_MAX, &out));
    assert_true(out == INT64_MAX);

    grading_day_counters_t d;
    grading_day_counters_init(&d);
    grading_contrib_t k = {.day = 1, .counter = GRADING_C_GMV, .delta = GRADING_MAX_DAY_COUNTER};
    assert_int_equal(grading_day_counters_apply(&d, &k), GRADING_OK);
    k.delta = 1;
    assert_int_equal(grading_day_counters_apply(&d, &k), GRADING_ERANGE);
    assert_true(d.c[GRADING_C_GMV] == GRADING_MAX_DAY_COUNTER);

    /* a window of 1024 such days still sums */
    grading_day_counters_t acc;
    grading_day_counters_init(&acc);
    for (int i = 0; i < 1024; i++) assert_int_equal(grading_day_counters_add(&acc, &d), GRADING_OK);
    assert_true(acc.c[GRADING_C_GMV] == 1024 * GRADING_MAX_DAY_COUNTER);
    /* past what stored data may hold, the sum refuses instead of wrapping */
    d.c[GRADING_C_GMV] = INT64_MAX;
    assert_int_equal(grading_day_counters_add(&acc, &d), GRADING_ERANGE);

    /* custom sums stay finite */
    grading_day_counters_init(&d);
    grading_contrib_t c = {.day = 1, .custom = "x", .fvalue = 1e300};
    assert_int_equal(grading_day_counters_apply(&d, &c), GRADING_OK);
    assert_int_equal(grading_day_counters_apply(&d, &c), GRADING_ERANGE);
    assert_true(isfinite(d.custom[0].value) && d.custom[0].value == 1e300);
    c.fvalue = INFINITY;
    c.custom = "y";
    assert_int_equal(grading_day_counters_apply(&d, &c), GRADING_ERANGE);
    assert_int_equal(d.ncustom, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_accepts_well_formed_text),
        cmocka_unit_test(test_utf8_refuses_each_malformed_form_at_its_offset),
        cmocka_unit_test(test_ids_are_printable_ascii),
        cmocka_unit_test(test_wire_check_names_the_field_of_a_nul_or_bad_utf8),
        cmocka_unit_test(test_wire_check_refuses_broken_messages),
        cmocka_unit_test(test_counter_additions_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
