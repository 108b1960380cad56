/* Record encodings of the store (internal to src/store, and its tests).
 *
 * Every record is explicit little-endian bytes led by a format version, so
 * a record never depends on a compiler's struct layout and a newer build
 * can read what an older one wrote. Decoders check every length and value
 * they rely on and return GRADING_ECORRUPT rather than guess. */
#ifndef GRADING_STORE_CODEC_H
#define GRADING_STORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "grading/counters.h"
#include "grading/err.h"
#include "grading/order.h"

#define GRADING_CODEC_ORDER_V1 1
#define GRADING_CODEC_ORDER_V2 2   /* v1 and a held review and satisfaction score */
#define GRADING_CODEC_ORDER_V3 3   /* sparse: presence bitmap + zigzag varints (held review aspects too) */
#define GRADING_CODEC_ORDER_V4 4   /* v3 and the exclusion masks and appeal count (issue 15) */
#define GRADING_CODEC_INQUIRY_V1 1
#define GRADING_CODEC_INQUIRY_V2 2   /* v1 and the exclusion masks and appeal count */
#define GRADING_CODEC_DAY_V1 1
#define GRADING_CODEC_DAY_V2 2   /* sparse: presence bitmap + zigzag varints */

/* Upper bounds of an encoded record, for caller buffers. */
#define GRADING_CODEC_ORDER_FIELDS 22   /* v3's numbered fields (at most 24: a 3-byte bitmap) */
/* v3's worst case (bitmap, every field a 10-byte varint, the strings) is
 * above v1/v2's 1 + 9 * 8 + 4 + strings + 4 + 4 * 4 + 8 + 4 + 4 + 8 + 4. */
#define GRADING_CODEC_ORDER_MAX \
    (1 + 3 + GRADING_CODEC_ORDER_FIELDS * 10 + 1 + GRADING_MAX_ID_LEN + 1 + GRADING_CURRENCY_MAX + \
     GRADING_CODEC_ORDER_V4_EXTRA)
#define GRADING_CODEC_ORDER_V4_EXTRA (1 + 3 * 10)   /* u8 bitmap + three varints */
#define GRADING_CODEC_INQUIRY_MAX (1 + 2 * 8 + GRADING_CODEC_ORDER_V4_EXTRA)
#define GRADING_CODEC_DAY_BITMAP ((GRADING_C_COUNT + 7) / 8)
#define GRADING_CODEC_VARINT_MAX 10
/* v2's worst case (every counter present, 10-byte varints) is v1's bound too. */
#define GRADING_CODEC_DAY_MAX                                                        \
    (1 + 2 + GRADING_CODEC_DAY_BITMAP + GRADING_C_COUNT * GRADING_CODEC_VARINT_MAX + 1 + \
     GRADING_MAX_CUSTOM_PER_DAY * (1 + GRADING_MAX_CUSTOM_NAME_LEN + 8))
#define GRADING_CODEC_EVENT_MAX 16

/* Encoders write into buf (at least the _MAX above) and set *out_len.
 * Errors: GRADING_EINVAL if the record breaks a limit it must keep
 * (a string too long, more customs than GRADING_MAX_CUSTOM_PER_DAY). */
/* Orders are written sparse (v3). */
grading_err_t grading_codec_order_encode(const grading_order_t *o, uint8_t *buf, size_t *out_len);
/* The dense layouts (v1, or v2 with a held review) every build before the
 * sparse one wrote, for tests and the storage benchmark. */
grading_err_t grading_codec_order_encode_dense(const grading_order_t *o, uint8_t *buf, size_t *out_len);
grading_err_t grading_codec_inquiry_encode(const grading_inquiry_t *q, uint8_t *buf,
                                           size_t *out_len);
grading_err_t grading_codec_day_encode(const grading_day_counters_t *d, uint8_t *buf,
                                       size_t *out_len);
/* The dense layout every build before the sparse one wrote: kept so tests
 * and the storage benchmark can write what older stores hold. */
grading_err_t grading_codec_day_encode_v1(const grading_day_counters_t *d, uint8_t *buf,
                                          size_t *out_len);
/* An events-db value: the time the event was stored. */
void grading_codec_event_encode(int64_t stored_ms, uint8_t *buf, size_t *out_len);
/* The same with the event's content hash (conflict detection). */
void grading_codec_event_encode_hashed(int64_t stored_ms, uint64_t hash, uint8_t *buf, size_t *out_len);

/* Decoders fill *out from len bytes. Errors: GRADING_ECORRUPT (unknown
 * version, truncated, trailing bytes, a value out of its range). */
grading_err_t grading_codec_order_decode(const uint8_t *buf, size_t len, grading_order_t *out);
grading_err_t grading_codec_inquiry_decode(const uint8_t *buf, size_t len, grading_inquiry_t *out);
grading_err_t grading_codec_day_decode(const uint8_t *buf, size_t len, grading_day_counters_t *out);
grading_err_t grading_codec_event_decode(const uint8_t *buf, size_t len, int64_t *out_stored_ms);
/* Either layout; *out_has_hash is false for a record stored before hashes. */
grading_err_t grading_codec_event_decode_full(const uint8_t *buf, size_t len, int64_t *out_stored_ms,
                                              bool *out_has_hash, uint64_t *out_hash);

#endif
