/* Key layouts of the store: fixed-layout, big-endian where they sort, so a
 * seller's days are one contiguous range.
 *
 *   seller prefix: u8 len(mp) | mp | u8 len(seller) | seller
 *   daily key:     seller prefix | u32 BE (day XOR 0x80000000)
 *   order key:     seller prefix | order_id          (inquiries alike)
 *
 * Pure functions over caller buffers of GRADING_KEY_MAX bytes. */
#ifndef GRADING_KEYS_H
#define GRADING_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "grading/err.h"

#define GRADING_KEY_MAX 511   /* LMDB's default maximum key size */

/* Each returns the key length in *out_len. Errors: GRADING_EINVAL if a part
 * is empty-when-required or longer than its limit (event.h), or the key
 * would exceed GRADING_KEY_MAX. */
grading_err_t grading_key_seller(uint8_t *buf, const char *mp, const char *seller, size_t *out_len);
grading_err_t grading_key_day(uint8_t *buf, const char *mp, const char *seller, int32_t day,
                              size_t *out_len);
grading_err_t grading_key_order(uint8_t *buf, const char *mp, const char *seller,
                                const char *order_id, size_t *out_len);

/* Decodes a daily key. Errors: GRADING_ECORRUPT if it is not one. */
grading_err_t grading_key_day_decode(const uint8_t *key, size_t len, int32_t *out_day);

#endif
