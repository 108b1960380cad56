/* JSON <-> protobuf-c conversion: every scalar type, enums, oneofs, nested
 * and repeated fields, Timestamps, and errors that name the JSON path.
 *
 * Our proto has no field of some scalar types (sint32, fixed64, float,
 * bytes, ...), so this file describes a test message, AllTypes, by hand
 * the way protoc-c would; the converter only ever sees descriptors, and
 * protobuf-c's own pack/unpack over the same descriptor check the layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "grading/pbjson.h"
#include "grading/v1/grading.pb-c.h"

/* ---- AllTypes: a hand-made descriptor ---- */

typedef struct {
    ProtobufCMessage base;
    int32_t int32_value;
    int32_t sint32_value;
    int32_t sfixed32_value;
    uint32_t uint32_value;
    uint32_t fixed32_value;
    int64_t int64_value;
    int64_t sint64_value;
    int64_t sfixed64_value;
    uint64_t uint64_value;
    uint64_t fixed64_value;
    float float_value;
    double double_value;
    protobuf_c_boolean bool_value;
    char *string_value;
    ProtobufCBinaryData bytes_value;
    int enum_value;
    size_t n_rep_uint64;
    uint64_t *rep_uint64;
    size_t n_rep_string;
    char **rep_string;
    size_t n_rep_bytes;
    ProtobufCBinaryData *rep_bytes;
    protobuf_c_boolean has_opt_int32;
    int32_t opt_int32;
    Google__Protobuf__Timestamp *ts;
    size_t n_rep_ts;
    Google__Protobuf__Timestamp **rep_ts;
    size_t n_rep_enum;
    int *rep_enum;
} AllTypes;

/* One field: offsetof needs the member's bare name, the table its string. */
#define F(id, nm, str, lbl, ty, q, desc, def)                                                              \
    {str, id, PROTOBUF_C_LABEL_##lbl, PROTOBUF_C_TYPE_##ty, q, offsetof(AllTypes, nm), desc, def, 0, 0, NULL, \
     NULL}
#define S(id, nm, ty) F(id, nm, #nm, NONE, ty, 0, NULL, NULL)
#define R(id, nm, ty, desc) F(id, nm, #nm, REPEATED, ty, offsetof(AllTypes, n_##nm), desc, NULL)

static const ProtobufCFieldDescriptor all_fields[] = {
    S(1, int32_value, INT32),
    S(2, sint32_value, SINT32),
    S(3, sfixed32_value, SFIXED32),
    S(4, uint32_value, UINT32),
    S(5, fixed32_value, FIXED32),
    S(6, int64_value, INT64),
    S(7, sint64_value, SINT64),
    S(8, sfixed64_value, SFIXED64),
    S(9, uint64_value, UINT64),
    S(10, fixed64_value, FIXED64),
    S(11, float_value, FLOAT),
    S(12, double_value, DOUBLE),
    S(13, bool_value, BOOL),
    F(14, string_value, "string_value", NONE, STRING, 0, NULL, &protobuf_c_empty_string),
    S(15, bytes_value, BYTES),
    F(16, enum_value, "enum_value", NONE, ENUM, 0, &grading__v1__fault__descriptor, NULL),
    R(17, rep_uint64, UINT64, NULL),
    R(18, rep_string, STRING, NULL),
    R(19, rep_bytes, BYTES, NULL),
    F(20, opt_int32, "opt_int32", OPTIONAL, INT32, offsetof(AllTypes, has_opt_int32), NULL, NULL),
    F(21, ts, "ts", NONE, MESSAGE, 0, &google__protobuf__timestamp__descriptor, NULL),
    R(22, rep_ts, MESSAGE, &google__protobuf__timestamp__descriptor),
    R(23, rep_enum, ENUM, &grading__v1__fault__descriptor),
};
#define N_ALL (sizeof all_fields / sizeof all_fields[0])

static unsigned all_by_name[N_ALL];
static const ProtobufCIntRange all_ranges[] = {{1, 0}, {0, N_ALL}};

static void all_init(AllTypes *m);

static ProtobufCMessageDescriptor all_desc = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.AllTypes",
    "AllTypes",
    "AllTypes",
    "test",
    sizeof(AllTypes),
    N_ALL,
    all_fields,
    all_by_name,
    1,
    all_ranges,
    (ProtobufCMessageInit)all_init,
    NULL,
    NULL,
    NULL,
};

static void all_init(AllTypes *m)
{
    memset(m, 0, sizeof *m);
    m->base.descriptor = &all_desc;
    m->string_value = (char *)protobuf_c_empty_string;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(all_fields[*(const unsigned *)a].name, all_fields[*(const unsigned *)b].name);
}

static int setup_descriptor(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N_ALL; i++) all_by_name[i] = i;
    qsort(all_by_name, N_ALL, sizeof all_by_name[0], by_name);
    return 0;
}

/* ---- helpers ---- */

static ProtobufCMessage *parse_ok(const char *text, const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = NULL;
    grading_error_t e = {0};
    grading_err_t err = grading_pbjson_parse(text, strlen(text), d, &m, &e);
    if (err) fail_msg("parse failed: %s: %s (input %s)", e.field, e.message, text);
    assert_non_null(m);
    return m;
}

/* Parses text expecting an error at field whose message contains needle. */
static void parse_fails(const char *text, const ProtobufCMessageDescriptor *d, const char *field,
                        const char *needle)
{
    ProtobufCMessage *m = (ProtobufCMessage *)0x1;
    grading_error_t e = {0};
    grading_err_t err = grading_pbjson_parse(text, strlen(text), d, &m, &e);
    if (err != GRADING_EINVAL) fail_msg("expected EINVAL for %s, got %d", text, err);
    assert_null(m);
    assert_int_equal(e.code, GRADING_EINVAL);
    if (strcmp(e.field, field) != 0) fail_msg("field: expected \"%s\", got \"%s\" (%s)", field, e.field, e.message);
    if (!strstr(e.message, needle)) fail_msg("message \"%s\" lacks \"%s\"", e.message, needle);
}

static json_t *to_json(const ProtobufCMessage *m, unsigned flags)
{
    json_t *j = NULL;
    grading_error_t e = {0};
    assert_int_equal(grading_pbjson_from_message(m, flags, &j, &e), GRADING_OK);
    assert_non_null(j);
    return j;
}

static ProtobufCMessage *pack_unpack(const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), len);
    ProtobufCMessage *u = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
    free(buf);
    assert_non_null(u);
    return u;
}

static const char *all_json =
    "{\"int32_value\": -2147483648, \"sint32_value\": -5, \"sfixed32_value\": 2147483647,"
    " \"uint32_value\": 4294967295, \"fixed32_value\": 7, \"int64_value\": \"-9223372036854775808\","
    " \"sint64_value\": -9007199254740993, \"sfixed64_value\": \"9223372036854775807\","
    " \"uint64_value\": \"18446744073709551615\", \"fixed64_value\": 12,"
    " \"float_value\": 0.1, \"double_value\": 2.5e-3, \"bool_value\": true, \"string_value\": \"h\\u00e9llo\","
    " \"bytes_value\": \"aGVsbG8=\", \"enum_value\": \"FAULT_BUYER\", \"rep_uint64\": [\"1\", 2, 3.0],"
    " \"rep_string\": [\"a\", \"\", \"c\"], \"rep_bytes\": [\"AA==\", \"-_8\"], \"opt_int32\": 0,"
    " \"ts\": \"2026-10-05T09:30:00.25+09:00\", \"rep_ts\": [\"1970-01-01T00:00:00Z\"],"
    " \"rep_enum\": [\"FAULT_SELLER\", 3, 77]}";

static void check_all_values(const AllTypes *a)
{
    assert_int_equal(a->int32_value, INT32_MIN);
    assert_int_equal(a->sint32_value, -5);
    assert_int_equal(a->sfixed32_value, INT32_MAX);
    assert_int_equal(a->uint32_value, UINT32_MAX);
    assert_int_equal(a->fixed32_value, 7);
    assert_true(a->int64_value == INT64_MIN);
    assert_true(a->sint64_value == INT64_C(-9007199254740993));
    assert_true(a->sfixed64_value == INT64_MAX);
    assert_true(a->uint64_value == UINT64_MAX);
    assert_true(a->fixed64_value == 12);
    assert_true(a->float_value == 0.1f);
    assert_true(a->double_value == 2.5e-3);
    assert_true(a->bool_value);
    assert_string_equal(a->string_value, "h\xc3\xa9llo");
    assert_int_equal(a->bytes_value.len, 5);
    assert_memory_equal(a->bytes_value.data, "hello", 5);
    assert_int_equal(a->enum_value, GRADING__V1__FAULT__FAULT_BUYER);
    assert_int_equal(a->n_rep_uint64, 3);
    assert_true(a->rep_uint64[0] == 1 && a->rep_uint64[1] == 2 && a->rep_uint64[2] == 3);
    assert_int_equal(a->n_rep_string, 3);
    assert_string_equal(a->rep_string[0], "a");
    assert_string_equal(a->rep_string[1], "");
    assert_string_equal(a->rep_string[2], "c");
    assert_int_equal(a->n_rep_bytes, 2);
    assert_int_equal(a->rep_bytes[0].len, 1);
    assert_int_equal(a->rep_bytes[0].data[0], 0);
    assert_int_equal(a->rep_bytes[1].len, 2);   /* URL-safe, unpadded: 0xfb 0xff */
    assert_int_equal(a->rep_bytes[1].data[0], 0xfb);
    assert_int_equal(a->rep_bytes[1].data[1], 0xff);
    assert_true(a->has_opt_int32);   /* proto3 optional: 0 is set, not absent */
    assert_int_equal(a->opt_int32, 0);
    assert_non_null(a->ts);
    assert_true(a->ts->seconds == INT64_C(1791160200));   /* 2026-10-05T00:30:00Z */
    assert_int_equal(a->ts->nanos, 250000000);
    assert_int_equal(a->n_rep_ts, 1);
    assert_true(a->rep_ts[0]->seconds == 0);
    assert_int_equal(a->n_rep_enum, 3);
    assert_int_equal(a->rep_enum[0], 1);
    assert_int_equal(a->rep_enum[1], 3);
    assert_int_equal(a->rep_enum[2], 77);   /* proto3 enums are open */
}

/* ---- scalars ---- */

static void test_every_scalar_type_reads(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok(all_json, &all_desc);
    check_all_values((const AllTypes *)m);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_every_scalar_type_packs_unpacks_and_writes_back(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok(all_json, &all_desc);
    ProtobufCMessage *u = pack_unpack(m);
    check_all_values((const AllTypes *)u);

    json_t *j = to_json(u, 0);
    assert_string_equal(json_string_value(json_object_get(j, "int64_value")), "-9223372036854775808");
    assert_string_equal(json_string_value(json_object_get(j, "uint64_value")), "18446744073709551615");
    assert_string_equal(json_string_value(json_object_get(j, "fixed64_value")), "12");
    assert_int_equal(json_integer_value(json_object_get(j, "uint32_value")), UINT32_MAX);
    assert_true(json_real_value(json_object_get(j, "float_value")) == 0.1);   /* shortest form */
    assert_string_equal(json_string_value(json_object_get(j, "bytes_value")), "aGVsbG8=");
    assert_string_equal(json_string_value(json_object_get(j, "enum_value")), "FAULT_BUYER");
    assert_string_equal(json_string_value(json_object_get(j, "ts")), "2026-10-05T00:30:00.250Z");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "rep_bytes"), 1)), "+/8=");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "rep_enum"), 2)), 77);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "rep_enum"), 0)), "FAULT_SELLER");
    assert_int_equal(json_integer_value(json_object_get(j, "opt_int32")), 0);

    /* And the JSON we wrote reads back to the same values. */
    char *text = json_dumps(j, 0);
    ProtobufCMessage *again = parse_ok(text, &all_desc);
    check_all_values((const AllTypes *)again);
    free(text);
    json_decref(j);
    protobuf_c_message_free_unpacked(again, NULL);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_int64_beyond_2_pow_53_round_trips_as_string(void **state)
{
    (void)state;
    /* 2^53 + 1 is not a double; as a string it must survive exactly. */
    ProtobufCMessage *m = parse_ok("{\"int64_value\": \"9007199254740993\", \"uint64_value\": \"9007199254740995\"}",
                                   &all_desc);
    const AllTypes *a = (const AllTypes *)m;
    assert_true(a->int64_value == INT64_C(9007199254740993));
    assert_true(a->uint64_value == UINT64_C(9007199254740995));
    json_t *j = to_json(m, 0);
    assert_string_equal(json_string_value(json_object_get(j, "int64_value")), "9007199254740993");
    assert_string_equal(json_string_value(json_object_get(j, "uint64_value")), "9007199254740995");
    char *text = json_dumps(j, 0);
    ProtobufCMessage *back = parse_ok(text, &all_desc);
    assert_true(((const AllTypes *)back)->int64_value == INT64_C(9007199254740993));
    free(text);
    json_decref(j);
    protobuf_c_message_free_unpacked(back, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_integers_out_of_range_or_malformed_are_errors(void **state)
{
    (void)state;
    parse_fails("{\"int32_value\": 2147483648}", &all_desc, "int32_value", "out of range");
    parse_fails("{\"int32_value\": -2147483649}", &all_desc, "int32_value", "out of range");
    parse_fails("{\"uint32_value\": -1}", &all_desc, "uint32_value", "out of range");
    parse_fails("{\"uint32_value\": 4294967296}", &all_desc, "uint32_value", "out of range");
    parse_fails("{\"uint64_value\": \"-1\"}", &all_desc, "uint64_value", "out of range");
    parse_fails("{\"uint64_value\": \"18446744073709551616\"}", &all_desc, "uint64_value", "out of range");
    parse_fails("{\"int64_value\": \"9223372036854775808\"}", &all_desc, "int64_value", "out of range");
    parse_fails("{\"int64_value\": \"12a\"}", &all_desc, "int64_value", "expected an integer");
    parse_fails("{\"int64_value\": \" 12\"}", &all_desc, "int64_value", "expected an integer");
    parse_fails("{\"int64_value\": \"\"}", &all_desc, "int64_value", "expected an integer");
    parse_fails("{\"int32_value\": 1.5}", &all_desc, "int32_value", "expected an integer");
    parse_fails("{\"int32_value\": true}", &all_desc, "int32_value", "expected an integer, got a boolean");
    parse_fails("{\"sint64_value\": [1]}", &all_desc, "sint64_value", "got an array");
    /* An integral real is an integer. */
    ProtobufCMessage *m = parse_ok("{\"int32_value\": 5.0, \"uint64_value\": 1e3}", &all_desc);
    assert_int_equal(((const AllTypes *)m)->int32_value, 5);
    assert_true(((const AllTypes *)m)->uint64_value == 1000);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_floats_read_and_write_special_values(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok("{\"double_value\": \"NaN\", \"float_value\": \"-Infinity\"}", &all_desc);
    const AllTypes *a = (const AllTypes *)m;
    assert_true(isnan(a->double_value));
    assert_true(isinf(a->float_value) && a->float_value < 0);
    json_t *j = to_json(m, 0);
    assert_string_equal(json_string_value(json_object_get(j, "double_value")), "NaN");
    assert_string_equal(json_string_value(json_object_get(j, "float_value")), "-Infinity");
    json_decref(j);
    protobuf_c_message_free_unpacked(m, NULL);

    m = parse_ok("{\"double_value\": \"1.5\", \"float_value\": 3}", &all_desc);
    assert_true(((const AllTypes *)m)->double_value == 1.5);
    assert_true(((const AllTypes *)m)->float_value == 3.0f);
    protobuf_c_message_free_unpacked(m, NULL);

    parse_fails("{\"float_value\": 1e39}", &all_desc, "float_value", "out of range for a float");
    parse_fails("{\"double_value\": \"abc\"}", &all_desc, "double_value", "expected a number");
    parse_fails("{\"double_value\": false}", &all_desc, "double_value", "expected a number, got a boolean");
}

static void test_bools_strings_and_bytes_check_their_types(void **state)
{
    (void)state;
    parse_fails("{\"bool_value\": \"true\"}", &all_desc, "bool_value", "expected true or false, got a string");
    parse_fails("{\"bool_value\": 1}", &all_desc, "bool_value", "expected true or false");
    parse_fails("{\"string_value\": 5}", &all_desc, "string_value", "expected a string, got an integer");
    parse_fails("{\"string_value\": {}}", &all_desc, "string_value", "expected a string, got an object");
    parse_fails("{\"bytes_value\": \"a*bc\"}", &all_desc, "bytes_value", "invalid base64");
    parse_fails("{\"bytes_value\": \"abcde\"}", &all_desc, "bytes_value", "invalid base64");
    parse_fails("{\"rep_string\": [\"a\", 1]}", &all_desc, "rep_string[1]", "expected a string");
    parse_fails("{\"rep_string\": [\"a\", null]}", &all_desc, "rep_string[1]", "null is not allowed");

    /* A NUL inside a string would be cut short by C: refused. */
    json_t *j = json_pack("{s:o}", "string_value", json_stringn("a\0b", 3));
    ProtobufCMessage *m = NULL;
    grading_error_t e = {0};
    assert_int_equal(grading_pbjson_to_message(j, &all_desc, &m, &e), GRADING_EINVAL);
    assert_string_equal(e.field, "string_value");
    assert_non_null(strstr(e.message, "NUL"));
    json_decref(j);
}

static void test_string_not_utf8_cannot_be_written(void **state)
{
    (void)state;
    AllTypes a;
    all_init(&a);
    a.string_value = "bad \xff byte";
    json_t *j = NULL;
    grading_error_t e = {0};
    assert_int_equal(grading_pbjson_from_message(&a.base, 0, &j, &e), GRADING_EINVAL);
    assert_null(j);
    assert_string_equal(e.field, "string_value");
    assert_non_null(strstr(e.message, "UTF-8"));
}

/* ---- enums ---- */

static void test_enums_by_name_and_by_number(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok("{\"order_id\": \"o\", \"fault\": \"FAULT_PLATFORM\", \"reason\": 2}",
                                   &grading__v1__order_cancelled__descriptor);
    const Grading__V1__OrderCancelled *c = (const void *)m;
    assert_int_equal(c->fault, GRADING__V1__FAULT__FAULT_PLATFORM);
    assert_int_equal(c->reason, GRADING__V1__CANCEL_REASON__CANCEL_REASON_SHIPPING_DELAY);
    json_t *j = to_json(m, 0);
    assert_string_equal(json_string_value(json_object_get(j, "fault")), "FAULT_PLATFORM");
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "CANCEL_REASON_SHIPPING_DELAY");
    json_decref(j);
    protobuf_c_message_free_unpacked(m, NULL);

    parse_fails("{\"fault\": \"seller\"}", &grading__v1__order_cancelled__descriptor, "fault",
                "unknown Fault \"seller\"");
    parse_fails("{\"fault\": \"NOPE\"}", &grading__v1__order_cancelled__descriptor, "fault", "FAULT_SELLER, FAULT_BUYER");
    parse_fails("{\"fault\": true}", &grading__v1__order_cancelled__descriptor, "fault",
                "expected a Fault name or number");
    parse_fails("{\"fault\": 4294967296}", &grading__v1__order_cancelled__descriptor, "fault", "out of range");
}

/* ---- messages: oneof, nested, repeated, names ---- */

static const char *event_json =
    "{\"event_id\": \"e-1\", \"marketplace\": \"tmon\", \"seller_id\": \"S1\","
    " \"occurred_at\": \"2026-10-05T09:30:00Z\","
    " \"order_paid\": {\"order_id\": \"o-1\", \"product_id\": \"p-1\", \"amount\": \"25000\","
    " \"currency\": \"KRW\", \"ship_within_days\": 2, \"reserved_ship_date\": \"2026-10-08T00:00:00+09:00\","
    " \"overseas\": true}}";

static void check_event(const Grading__V1__SellerEvent *ev)
{
    assert_string_equal(ev->event_id, "e-1");
    assert_string_equal(ev->marketplace, "tmon");
    assert_string_equal(ev->seller_id, "S1");
    assert_non_null(ev->occurred_at);
    assert_true(ev->occurred_at->seconds == INT64_C(1791192600));
    assert_int_equal(ev->occurred_at->nanos, 0);
    assert_int_equal(ev->kind_case, GRADING__V1__SELLER_EVENT__KIND_ORDER_PAID);
    const Grading__V1__OrderPaid *p = ev->order_paid;
    assert_non_null(p);
    assert_string_equal(p->order_id, "o-1");
    assert_string_equal(p->product_id, "p-1");
    assert_true(p->amount == 25000);
    assert_string_equal(p->currency, "KRW");
    assert_int_equal(p->ship_within_days, 2);
    assert_non_null(p->reserved_ship_date);
    assert_true(p->reserved_ship_date->seconds == INT64_C(1791385200));   /* 2026-10-07T15:00:00Z */
    assert_true(p->overseas);
}

static void test_seller_event_from_json_packs_and_unpacks_to_the_same_values(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok(event_json, &grading__v1__seller_event__descriptor);
    check_event((const Grading__V1__SellerEvent *)m);
    ProtobufCMessage *u = pack_unpack(m);
    check_event((const Grading__V1__SellerEvent *)u);

    /* Written back, it is the same JSON in canonical form. */
    json_t *out = to_json(u, 0);
    json_t *want = json_loads(
        "{\"event_id\": \"e-1\", \"marketplace\": \"tmon\", \"seller_id\": \"S1\","
        " \"occurred_at\": \"2026-10-05T09:30:00Z\","
        " \"order_paid\": {\"order_id\": \"o-1\", \"product_id\": \"p-1\", \"amount\": \"25000\","
        " \"currency\": \"KRW\", \"ship_within_days\": 2, \"reserved_ship_date\": \"2026-10-07T15:00:00Z\","
        " \"overseas\": true}}",
        0, NULL);
    assert_non_null(want);
    assert_true(json_equal(out, want));
    json_decref(out);
    json_decref(want);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* 11st's per-aspect buyer ratings (BuyerReview fields 4 and 5): JSON
 * names, camelCase, the wire and back; absent reads as 0 (not rated). */
static void test_buyer_review_aspect_ratings(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok("{\"event_id\": \"e\", \"buyer_review\": {\"order_id\": \"o\", \"rating\": 4,"
                                   " \"shipping_rating\": 3, \"inquiryRating\": 5}}",
                                   &grading__v1__seller_event__descriptor);
    ProtobufCMessage *u = pack_unpack(m);
    const Grading__V1__BuyerReview *r = ((const Grading__V1__SellerEvent *)u)->buyer_review;
    assert_non_null(r);
    assert_int_equal(r->rating, 4);
    assert_int_equal(r->shipping_rating, 3);
    assert_int_equal(r->inquiry_rating, 5);
    json_t *j = to_json(u, 0);
    json_t *b = json_object_get(j, "buyer_review");
    assert_int_equal(json_integer_value(json_object_get(b, "shipping_rating")), 3);
    assert_int_equal(json_integer_value(json_object_get(b, "inquiry_rating")), 5);
    json_decref(j);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    m = parse_ok("{\"buyer_review\": {\"order_id\": \"o\", \"rating\": 4}}", &grading__v1__seller_event__descriptor);
    r = ((const Grading__V1__SellerEvent *)m)->buyer_review;
    assert_int_equal(r->shipping_rating, 0);
    assert_int_equal(r->inquiry_rating, 0);
    protobuf_c_message_free_unpacked(m, NULL);
    parse_fails("{\"buyer_review\": {\"shipping_rating\": -1}}", &grading__v1__seller_event__descriptor,
                "buyer_review.shipping_rating", "");
}

static void test_oneof_member_sets_the_case_even_when_empty(void **state)
{
    (void)state;
    ProtobufCMessage *m =
        parse_ok("{\"event_id\": \"e\", \"non_receipt_reported\": {}}", &grading__v1__seller_event__descriptor);
    const Grading__V1__SellerEvent *ev = (const void *)m;
    assert_int_equal(ev->kind_case, GRADING__V1__SELLER_EVENT__KIND_NON_RECEIPT_REPORTED);
    assert_non_null(ev->non_receipt_reported);
    ProtobufCMessage *u = pack_unpack(m);
    assert_int_equal(((const Grading__V1__SellerEvent *)u)->kind_case,
                     GRADING__V1__SELLER_EVENT__KIND_NON_RECEIPT_REPORTED);
    json_t *j = to_json(u, 0);
    assert_true(json_is_object(json_object_get(j, "non_receipt_reported")));
    assert_null(json_object_get(j, "order_paid"));
    json_decref(j);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_oneof_takes_one_member_only(void **state)
{
    (void)state;
    parse_fails("{\"order_shipped\": {\"order_id\": \"o\"}, \"custom\": {\"name\": \"x\"}}",
                &grading__v1__seller_event__descriptor, "custom", "order_shipped");
    /* null means not set, so it does not take the oneof. */
    ProtobufCMessage *m = parse_ok("{\"order_paid\": null, \"custom\": {\"name\": \"x\", \"value\": 1.5}}",
                                   &grading__v1__seller_event__descriptor);
    const Grading__V1__SellerEvent *ev = (const void *)m;
    assert_int_equal(ev->kind_case, GRADING__V1__SELLER_EVENT__KIND_CUSTOM);
    assert_string_equal(ev->custom->name, "x");
    assert_true(ev->custom->value == 1.5);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_nested_errors_name_the_path(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &grading__v1__seller_event__descriptor;
    parse_fails("{\"order_paid\": {\"amount\": \"x\"}}", d, "order_paid.amount", "expected an integer");
    parse_fails("{\"order_paid\": {\"amount\": 1.25}}", d, "order_paid.amount", "expected an integer");
    parse_fails("{\"order_paid\": {\"nope\": 1}}", d, "order_paid.nope", "unknown field of grading.v1.OrderPaid");
    parse_fails("{\"order_paid\": 5}", d, "order_paid", "expected an object, got an integer");
    parse_fails("{\"buyer_review\": {\"recommendation\": \"MEH\"}}", d, "buyer_review.recommendation",
                "unknown Recommendation");
    parse_fails("{\"order_paid\": {\"reserved_ship_date\": \"2026-10-08\"}}", d, "order_paid.reserved_ship_date",
                "RFC 3339");
    parse_fails("{\"occurred_at\": 1791192600}", d, "occurred_at", "expected an RFC 3339 timestamp string");
    parse_fails("{\"occurred_at\": {\"seconds\": 1}}", d, "occurred_at", "got an object");
}

static void test_repeated_messages_and_their_errors(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = &grading__v1__record_events_request__descriptor;
    ProtobufCMessage *m = parse_ok(
        "{\"events\": [{\"event_id\": \"a\", \"inquiry_received\": {\"inquiry_id\": \"q\"}},"
        " {\"event_id\": \"b\", \"custom\": {\"name\": \"n\", \"value\": 2}}, {}]}",
        d);
    const Grading__V1__RecordEventsRequest *r = (const void *)m;
    assert_int_equal(r->n_events, 3);
    assert_string_equal(r->events[0]->event_id, "a");
    assert_int_equal(r->events[0]->kind_case, GRADING__V1__SELLER_EVENT__KIND_INQUIRY_RECEIVED);
    assert_string_equal(r->events[0]->inquiry_received->inquiry_id, "q");
    assert_string_equal(r->events[1]->custom->name, "n");
    assert_string_equal(r->events[2]->event_id, "");
    assert_int_equal(r->events[2]->kind_case, GRADING__V1__SELLER_EVENT__KIND__NOT_SET);
    ProtobufCMessage *u = pack_unpack(m);
    assert_int_equal(((const Grading__V1__RecordEventsRequest *)u)->n_events, 3);
    protobuf_c_message_free_unpacked(u, NULL);
    protobuf_c_message_free_unpacked(m, NULL);

    parse_fails("{\"events\": [{\"event_id\": \"a\"}, {\"event_id\": 7}]}", d, "events[1].event_id",
                "expected a string");
    parse_fails("{\"events\": [{}, {}, {\"order_paid\": {\"amount\": \"-\"}}]}", d, "events[2].order_paid.amount",
                "expected an integer");
    parse_fails("{\"events\": {}}", d, "events", "expected an array, got an object");
    parse_fails("{\"events\": [null]}", d, "events[0]", "null is not allowed");
    m = parse_ok("{\"events\": []}", d);
    assert_int_equal(((const Grading__V1__RecordEventsRequest *)m)->n_events, 0);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_unknown_field_is_an_error_naming_it(void **state)
{
    (void)state;
    parse_fails("{\"event_id\": \"e\", \"evnet_id\": \"x\"}", &grading__v1__seller_event__descriptor, "evnet_id",
                "unknown field of grading.v1.SellerEvent");
}

static void test_lower_camel_case_names_are_accepted(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok(
        "{\"eventId\": \"e-1\", \"marketplace\": \"tmon\", \"sellerId\": \"S1\", \"occurredAt\": \"2026-10-05T09:30:00Z\","
        " \"orderPaid\": {\"orderId\": \"o-1\", \"productId\": \"p-1\", \"amount\": 25000, \"currency\": \"KRW\","
        " \"shipWithinDays\": 2, \"reservedShipDate\": \"2026-10-07T15:00:00Z\", \"overseas\": true}}",
        &grading__v1__seller_event__descriptor);
    check_event((const Grading__V1__SellerEvent *)m);
    protobuf_c_message_free_unpacked(m, NULL);
    /* The same field under both names is given twice. */
    parse_fails("{\"event_id\": \"a\", \"eventId\": \"b\"}", &grading__v1__seller_event__descriptor, "eventId",
                "given twice");
    /* camelCase is not a licence for any case. */
    parse_fails("{\"EventId\": \"a\"}", &grading__v1__seller_event__descriptor, "EventId", "unknown field");
}

static void test_null_leaves_the_default(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse_ok("{\"event_id\": null, \"occurred_at\": null}", &grading__v1__seller_event__descriptor);
    const Grading__V1__SellerEvent *ev = (const void *)m;
    assert_string_equal(ev->event_id, "");
    assert_null(ev->occurred_at);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_top_level_must_be_an_object_and_valid_json(void **state)
{
    (void)state;
    parse_fails("[1]", &grading__v1__seller_event__descriptor, "", "expected an object, got an array");
    ProtobufCMessage *m = NULL;
    grading_error_t e = {0};
    assert_int_equal(grading_pbjson_parse("{\"event_id\": ", 13, &grading__v1__seller_event__descriptor, &m, &e),
                     GRADING_EINVAL);
    assert_null(m);
    assert_non_null(strstr(e.field, "line 1"));
    assert_non_null(strstr(e.message, "invalid JSON"));
    assert_int_equal(grading_pbjson_parse("{\"a\": 1, \"a\": 2}", 16, &all_desc, &m, &e), GRADING_EINVAL);
    assert_non_null(strstr(e.message, "duplicate"));
}

static void test_writing_omits_defaults_unless_asked(void **state)
{
    (void)state;
    Grading__V1__RecordEventsResponse r = GRADING__V1__RECORD_EVENTS_RESPONSE__INIT;
    r.accepted = 3;
    json_t *j = to_json(&r.base, 0);
    assert_int_equal(json_object_size(j), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 3);
    json_decref(j);

    j = to_json(&r.base, GRADING_PBJSON_EMIT_DEFAULTS);
    assert_int_equal(json_object_size(j), 5);   /* accepted, duplicates, conflicts, conflict_indexes, logged */
    assert_int_equal(json_integer_value(json_object_get(j, "logged")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "duplicates")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "conflicts")), 0);
    assert_true(json_is_array(json_object_get(j, "conflict_indexes")));
    assert_int_equal(json_array_size(json_object_get(j, "conflict_indexes")), 0);
    json_decref(j);

    /* Unset messages and oneofs stay out even with defaults; empty lists come in. */
    Grading__V1__SellerMetrics sm = GRADING__V1__SELLER_METRICS__INIT;
    j = to_json(&sm.base, GRADING_PBJSON_EMIT_DEFAULTS);
    assert_null(json_object_get(j, "as_of"));
    assert_true(json_is_array(json_object_get(j, "metrics")));
    assert_string_equal(json_string_value(json_object_get(j, "seller_id")), "");
    json_decref(j);
    Grading__V1__SellerEvent ev = GRADING__V1__SELLER_EVENT__INIT;
    j = to_json(&ev.base, GRADING_PBJSON_EMIT_DEFAULTS);
    assert_null(json_object_get(j, "order_paid"));
    assert_null(json_object_get(j, "occurred_at"));
    json_decref(j);
}

/* ---- timestamps ---- */

/* The timestamp parser and formatter are core's (tests/unit/test_rfc3339.c);
 * the pbjson names are the same functions. */
static void test_timestamp_names_are_the_core_parser(void **state)
{
    (void)state;
    int64_t s = 7;
    int32_t n = 7;
    grading_error_t e = {0};
    assert_int_equal(grading_pbjson_timestamp_parse("2026-10-05T18:30:00.5+09:00", &s, &n, &e), GRADING_OK);
    assert_int_equal(s, INT64_C(1791192600));
    assert_int_equal(n, 500000000);
    assert_int_equal(grading_pbjson_timestamp_parse("2026-10-05T09:30:00", &s, &n, &e), GRADING_EINVAL);
    assert_non_null(strstr(e.message, "missing time zone"));
    char buf[GRADING_PBJSON_TIMESTAMP_MAX];
    assert_int_equal(grading_pbjson_timestamp_format(INT64_C(1791192600), 1000, buf, sizeof buf), GRADING_OK);
    assert_string_equal(buf, "2026-10-05T09:30:00.000001Z");
    assert_int_equal(grading_pbjson_timestamp_format(0, -1, buf, sizeof buf), GRADING_EINVAL);
}

static void test_timestamp_out_of_range_in_a_message_cannot_be_written(void **state)
{
    (void)state;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = INT64_C(300000000000);
    Grading__V1__SellerEvent ev = GRADING__V1__SELLER_EVENT__INIT;
    ev.occurred_at = &ts;
    json_t *j = NULL;
    grading_error_t e = {0};
    assert_int_equal(grading_pbjson_from_message(&ev.base, 0, &j, &e), GRADING_EINVAL);
    assert_null(j);
    assert_string_equal(e.field, "occurred_at");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_scalar_type_reads),
        cmocka_unit_test(test_every_scalar_type_packs_unpacks_and_writes_back),
        cmocka_unit_test(test_int64_beyond_2_pow_53_round_trips_as_string),
        cmocka_unit_test(test_integers_out_of_range_or_malformed_are_errors),
        cmocka_unit_test(test_floats_read_and_write_special_values),
        cmocka_unit_test(test_bools_strings_and_bytes_check_their_types),
        cmocka_unit_test(test_string_not_utf8_cannot_be_written),
        cmocka_unit_test(test_enums_by_name_and_by_number),
        cmocka_unit_test(test_seller_event_from_json_packs_and_unpacks_to_the_same_values),
        cmocka_unit_test(test_oneof_member_sets_the_case_even_when_empty),
        cmocka_unit_test(test_buyer_review_aspect_ratings),
        cmocka_unit_test(test_oneof_takes_one_member_only),
        cmocka_unit_test(test_nested_errors_name_the_path),
        cmocka_unit_test(test_repeated_messages_and_their_errors),
        cmocka_unit_test(test_unknown_field_is_an_error_naming_it),
        cmocka_unit_test(test_lower_camel_case_names_are_accepted),
        cmocka_unit_test(test_null_leaves_the_default),
        cmocka_unit_test(test_top_level_must_be_an_object_and_valid_json),
        cmocka_unit_test(test_writing_omits_defaults_unless_asked),
        cmocka_unit_test(test_timestamp_names_are_the_core_parser),
        cmocka_unit_test(test_timestamp_out_of_range_in_a_message_cannot_be_written),
    };
    return cmocka_run_group_tests(tests, setup_descriptor, NULL);
}
