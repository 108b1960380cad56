/* Key layouts: the exact bytes, memcmp order of days (negative before
 * positive), sellers whose names share a prefix staying apart, the limits
 * of every part, and decoding of keys that are not daily keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "grading/event.h"
#include "grading/keys.h"

static void fill(char *s, char c, size_t n)
{
    memset(s, c, n);
    s[n] = '\0';
}

static int keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

static void test_seller_prefix_is_length_prefixed_names(void **state)
{
    (void)state;
    uint8_t buf[GRADING_KEY_MAX];
    size_t len = 0;
    assert_int_equal(grading_key_seller(buf, "kr", "s1", &len), GRADING_OK);
    const uint8_t want[] = {2, 'k', 'r', 2, 's', '1'};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

static void test_day_key_is_prefix_then_biased_big_endian_day(void **state)
{
    (void)state;
    uint8_t buf[GRADING_KEY_MAX];
    size_t len = 0;
    assert_int_equal(grading_key_day(buf, "kr", "s1", 1, &len), GRADING_OK);
    const uint8_t want[] = {2, 'k', 'r', 2, 's', '1', 0x80, 0x00, 0x00, 0x01};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);

    assert_int_equal(grading_key_day(buf, "kr", "s1", -1, &len), GRADING_OK);
    const uint8_t want_neg[] = {2, 'k', 'r', 2, 's', '1', 0x7f, 0xff, 0xff, 0xff};
    assert_memory_equal(buf, want_neg, sizeof want_neg);

    assert_int_equal(grading_key_day(buf, "kr", "s1", 0x01020304, &len), GRADING_OK);
    const uint8_t want_be[] = {0x81, 0x02, 0x03, 0x04};
    assert_memory_equal(buf + 6, want_be, sizeof want_be);
}

static void test_order_key_is_prefix_then_raw_id(void **state)
{
    (void)state;
    uint8_t buf[GRADING_KEY_MAX];
    size_t len = 0;
    assert_int_equal(grading_key_order(buf, "", "s", "o-1", &len), GRADING_OK);
    const uint8_t want[] = {0, 1, 's', 'o', '-', '1'};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

static void test_days_sort_numerically_across_zero(void **state)
{
    (void)state;
    const int32_t days[] = {INT32_MIN, -100000, -366, -2, -1, 0, 1, 2, 365, 20000, INT32_MAX};
    const size_t n = sizeof days / sizeof days[0];
    uint8_t keys[sizeof days / sizeof days[0]][GRADING_KEY_MAX];
    size_t lens[sizeof days / sizeof days[0]];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(grading_key_day(keys[i], "mp", "seller", days[i], &lens[i]), GRADING_OK);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int c = keycmp(keys[i], lens[i], keys[j], lens[j]);
            if (i < j) assert_true(c < 0);
            if (i == j) assert_int_equal(c, 0);
            if (i > j) assert_true(c > 0);
        }
}

static void test_seller_whose_name_extends_another_never_interleaves(void **state)
{
    (void)state;
    /* Every day of "ab" sorts before every day of "abc", and no key of one
     * starts with the other's prefix. */
    uint8_t pab[GRADING_KEY_MAX], pabc[GRADING_KEY_MAX], k[GRADING_KEY_MAX];
    size_t lab, labc, lk;
    assert_int_equal(grading_key_seller(pab, "mp", "ab", &lab), GRADING_OK);
    assert_int_equal(grading_key_seller(pabc, "mp", "abc", &labc), GRADING_OK);
    const int32_t days[] = {INT32_MIN, -1, 0, INT32_MAX};
    uint8_t last_ab[GRADING_KEY_MAX];
    size_t last_ab_len;
    assert_int_equal(grading_key_day(last_ab, "mp", "ab", INT32_MAX, &last_ab_len), GRADING_OK);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(grading_key_day(k, "mp", "abc", days[i], &lk), GRADING_OK);
        assert_true(memcmp(k, pab, lab) != 0);
        assert_true(keycmp(last_ab, last_ab_len, k, lk) < 0);
        assert_int_equal(grading_key_day(k, "mp", "ab", days[i], &lk), GRADING_OK);
        assert_true(memcmp(k, pabc, labc) != 0);
    }
    /* The same holds between marketplaces. */
    assert_int_equal(grading_key_day(k, "mpx", "ab", 0, &lk), GRADING_OK);
    assert_true(memcmp(k, pab, lab) != 0);
}

static void test_parts_at_their_limits_are_accepted(void **state)
{
    (void)state;
    char mp[GRADING_MAX_MARKETPLACE_LEN + 1], id[GRADING_MAX_ID_LEN + 1];
    fill(mp, 'm', GRADING_MAX_MARKETPLACE_LEN);
    fill(id, 'i', GRADING_MAX_ID_LEN);
    uint8_t buf[GRADING_KEY_MAX];
    size_t len;
    assert_int_equal(grading_key_order(buf, mp, id, id, &len), GRADING_OK);
    assert_int_equal(len, 1 + GRADING_MAX_MARKETPLACE_LEN + 1 + 2 * GRADING_MAX_ID_LEN);
    assert_true(len <= GRADING_KEY_MAX);
    assert_int_equal(grading_key_day(buf, mp, id, -7, &len), GRADING_OK);
    assert_int_equal(len, 1 + GRADING_MAX_MARKETPLACE_LEN + 1 + GRADING_MAX_ID_LEN + 4);
    int32_t day = 0;
    assert_int_equal(grading_key_day_decode(buf, len, &day), GRADING_OK);
    assert_int_equal(day, -7);
}

static void test_parts_past_their_limits_or_missing_are_einval(void **state)
{
    (void)state;
    char mp[GRADING_MAX_MARKETPLACE_LEN + 2], id[GRADING_MAX_ID_LEN + 2];
    fill(mp, 'm', GRADING_MAX_MARKETPLACE_LEN + 1);
    fill(id, 'i', GRADING_MAX_ID_LEN + 1);
    uint8_t buf[GRADING_KEY_MAX];
    size_t len;
    assert_int_equal(grading_key_seller(buf, mp, "s", &len), GRADING_EINVAL);
    assert_int_equal(grading_key_seller(buf, "mp", id, &len), GRADING_EINVAL);
    assert_int_equal(grading_key_seller(buf, "mp", "", &len), GRADING_EINVAL);
    assert_int_equal(grading_key_seller(buf, "mp", NULL, &len), GRADING_EINVAL);
    assert_int_equal(grading_key_seller(buf, NULL, "s", &len), GRADING_EINVAL);
    assert_int_equal(grading_key_day(buf, mp, "s", 0, &len), GRADING_EINVAL);
    assert_int_equal(grading_key_day(buf, "mp", "", 0, &len), GRADING_EINVAL);
    assert_int_equal(grading_key_order(buf, "mp", "s", id, &len), GRADING_EINVAL);
    assert_int_equal(grading_key_order(buf, "mp", "s", "", &len), GRADING_EINVAL);
    assert_int_equal(grading_key_order(buf, "mp", "s", NULL, &len), GRADING_EINVAL);
    assert_int_equal(grading_key_order(buf, "mp", "", "o", &len), GRADING_EINVAL);
    /* The empty marketplace (a policy's unnamed default) is a valid part. */
    assert_int_equal(grading_key_seller(buf, "", "s", &len), GRADING_OK);
    assert_int_equal(len, 3);
}

static void test_day_keys_decode_back_to_their_day(void **state)
{
    (void)state;
    const int32_t days[] = {INT32_MIN, -719468, -1, 0, 1, 19000, INT32_MAX};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        uint8_t buf[GRADING_KEY_MAX];
        size_t len;
        int32_t day = 12345;
        assert_int_equal(grading_key_day(buf, "jp", "seller-9", days[i], &len), GRADING_OK);
        assert_int_equal(grading_key_day_decode(buf, len, &day), GRADING_OK);
        assert_int_equal(day, days[i]);
    }
}

static void test_keys_that_are_not_day_keys_decode_as_corrupt(void **state)
{
    (void)state;
    uint8_t buf[GRADING_KEY_MAX];
    size_t len;
    int32_t day = 0;
    assert_int_equal(grading_key_day(buf, "kr", "s1", 5, &len), GRADING_OK);

    assert_int_equal(grading_key_day_decode(buf, 0, &day), GRADING_ECORRUPT);
    assert_int_equal(grading_key_day_decode(NULL, 4, &day), GRADING_ECORRUPT);
    for (size_t cut = 1; cut < len; cut++)   /* every truncation */
        assert_int_equal(grading_key_day_decode(buf, cut, &day), GRADING_ECORRUPT);

    uint8_t longer[GRADING_KEY_MAX];
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(grading_key_day_decode(longer, len + 1, &day), GRADING_ECORRUPT);

    uint8_t bad[GRADING_KEY_MAX];
    memcpy(bad, buf, len);
    bad[0] = GRADING_MAX_MARKETPLACE_LEN + 1;   /* marketplace too long */
    assert_int_equal(grading_key_day_decode(bad, len, &day), GRADING_ECORRUPT);
    memcpy(bad, buf, len);
    bad[3] = 0;   /* empty seller */
    assert_int_equal(grading_key_day_decode(bad, len, &day), GRADING_ECORRUPT);

    /* An order key whose id is not 4 bytes long is not a day key. */
    assert_int_equal(grading_key_order(buf, "kr", "s1", "order", &len), GRADING_OK);
    assert_int_equal(grading_key_day_decode(buf, len, &day), GRADING_ECORRUPT);
    assert_int_equal(day, 0);   /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seller_prefix_is_length_prefixed_names),
        cmocka_unit_test(test_day_key_is_prefix_then_biased_big_endian_day),
        cmocka_unit_test(test_order_key_is_prefix_then_raw_id),
        cmocka_unit_test(test_days_sort_numerically_across_zero),
        cmocka_unit_test(test_seller_whose_name_extends_another_never_interleaves),
        cmocka_unit_test(test_parts_at_their_limits_are_accepted),
        cmocka_unit_test(test_parts_past_their_limits_or_missing_are_einval),
        cmocka_unit_test(test_day_keys_decode_back_to_their_day),
        cmocka_unit_test(test_keys_that_are_not_day_keys_decode_as_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
