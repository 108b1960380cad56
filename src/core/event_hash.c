/* An event's content hash: tells a retry (same id, same content: a
 * duplicate) from a conflict (same id, other content).
 *
 * FNV-1a 64 over a canonical encoding: every field with a length or fixed
 * width, so no two different events encode alike. The hash is not a
 * defence against an attacker crafting a collision: a collision only makes
 * a conflicting event count as a duplicate, which stores nothing. */
#include <string.h>

#include "grading/event.h"

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

static void mix_bytes(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= b[i];
        *h *= FNV_PRIME;
    }
}

static void mix_u64(uint64_t *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    mix_bytes(h, b, sizeof b);
}

static void mix_str(uint64_t *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    mix_u64(h, n);
    mix_bytes(h, s ? s : "", n);
}

uint64_t grading_event_hash(const grading_event_t *ev, const char *marketplace)
{
    uint64_t h = FNV_OFFSET, bits;
    mix_str(&h, marketplace);
    mix_str(&h, ev->seller_id);
    mix_u64(&h, (uint64_t)ev->occurred_ms);
    mix_u64(&h, (uint64_t)(int64_t)ev->occurred_nanos);
    mix_u64(&h, (uint64_t)ev->kind);
    mix_str(&h, ev->ref_id);
    mix_str(&h, ev->product_id);
    mix_str(&h, ev->currency);
    mix_str(&h, ev->name);
    mix_u64(&h, (uint64_t)ev->amount);
    mix_u64(&h, ev->ship_within_days);
    mix_u64(&h, (uint64_t)ev->reserved_ship_ms);
    mix_u64(&h, (uint64_t)ev->overseas | (uint64_t)ev->tracking_valid << 1 |
                    (uint64_t)ev->auto_completed << 2);
    mix_u64(&h, (uint64_t)(int64_t)ev->fault);
    mix_u64(&h, (uint64_t)(int64_t)ev->reason);
    mix_u64(&h, (uint64_t)(int64_t)ev->recommendation);
    mix_u64(&h, ev->rating);
    mix_u64(&h, ev->score);
    memcpy(&bits, &ev->value, sizeof bits);
    mix_u64(&h, bits);
    return h;
}
