/* Key layouts of the store (keys.h).
 *
 * Every key that belongs to a seller starts with the same prefix,
 *
 *   u8 len(mp) | mp | u8 len(seller) | seller
 *
 * Length prefixes (not separators) keep sellers apart even when one name is
 * a prefix of another ("ab" and "abc" differ at the length byte), and any
 * byte may appear in a name. A daily key appends the day as a big-endian
 * u32 with the sign bit flipped, so memcmp order equals numeric order and
 * days before 1970 sort before later ones: a window of days is one cursor
 * range. Pure code: no LMDB, no allocation. */
#include "grading/keys.h"

#include <string.h>

#include "grading/event.h"

/* Flipping the sign bit maps INT32_MIN..INT32_MAX onto 0..UINT32_MAX in order. */
#define DAY_BIAS UINT32_C(0x80000000)
#define DAY_BYTES 4

static grading_err_t put_part(uint8_t *buf, size_t *pos, const char *s, size_t min, size_t max)
{
    if (!s) return GRADING_EINVAL;
    size_t n = strnlen(s, max + 1);
    if (n < min || n > max) return GRADING_EINVAL;
    buf[(*pos)++] = (uint8_t)n;
    memcpy(buf + *pos, s, n);
    *pos += n;
    return GRADING_OK;
}

grading_err_t grading_key_seller(uint8_t *buf, const char *mp, const char *seller, size_t *out_len)
{
    size_t pos = 0;
    /* The marketplace may be "" (a policy's unnamed default); a seller may not. */
    grading_err_t err = put_part(buf, &pos, mp, 0, GRADING_MAX_MARKETPLACE_LEN);
    if (err) return err;
    err = put_part(buf, &pos, seller, 1, GRADING_MAX_ID_LEN);
    if (err) return err;
    *out_len = pos;
    return GRADING_OK;
}

grading_err_t grading_key_day(uint8_t *buf, const char *mp, const char *seller, int32_t day,
                              size_t *out_len)
{
    size_t pos;
    grading_err_t err = grading_key_seller(buf, mp, seller, &pos);
    if (err) return err;
    uint32_t u = (uint32_t)day ^ DAY_BIAS;
    buf[pos++] = (uint8_t)(u >> 24);
    buf[pos++] = (uint8_t)(u >> 16);
    buf[pos++] = (uint8_t)(u >> 8);
    buf[pos++] = (uint8_t)u;
    *out_len = pos;
    return GRADING_OK;
}

grading_err_t grading_key_order(uint8_t *buf, const char *mp, const char *seller,
                                const char *order_id, size_t *out_len)
{
    size_t pos;
    grading_err_t err = grading_key_seller(buf, mp, seller, &pos);
    if (err) return err;
    if (!order_id) return GRADING_EINVAL;
    size_t n = strnlen(order_id, GRADING_MAX_ID_LEN + 1);
    if (n == 0 || n > GRADING_MAX_ID_LEN || pos + n > GRADING_KEY_MAX) return GRADING_EINVAL;
    memcpy(buf + pos, order_id, n);
    *out_len = pos + n;
    return GRADING_OK;
}

grading_err_t grading_key_day_decode(const uint8_t *key, size_t len, int32_t *out_day)
{
    if (!key || len < 1) return GRADING_ECORRUPT;
    size_t mp_len = key[0];
    if (mp_len > GRADING_MAX_MARKETPLACE_LEN || len < 1 + mp_len + 1) return GRADING_ECORRUPT;
    size_t seller_len = key[1 + mp_len];
    if (seller_len == 0 || seller_len > GRADING_MAX_ID_LEN) return GRADING_ECORRUPT;
    if (len != 1 + mp_len + 1 + seller_len + DAY_BYTES) return GRADING_ECORRUPT;
    const uint8_t *d = key + len - DAY_BYTES;
    uint32_t u = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
    *out_day = (int32_t)(u ^ DAY_BIAS);
    return GRADING_OK;
}
