/* The boost snapshot (boosts.h): immutable views swapped atomically after
 * each commit, read without locks.
 *
 * A table is open addressing with linear probing over 16-byte slots (the
 * boost, the key's offset in the table's key arena, a 32-bit hash tag),
 * at most 2/3 full; keys are the sellers database's key bytes, stored once
 * each as [length][bytes]. About 45 bytes per seller in all. */
#include "boosts.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX
#define MIN_TABLE_SLOTS 16
/* The delta is folded into a new base past this many sellers or an eighth
 * of the base, whichever is more: each publish copies the delta, so it is
 * kept small; a new base is a full copy, so it is rare. */
#define MIN_MERGE_ENTRIES 4096
#define KEY_MAX 255   /* a seller key is at most 1 + 64 + 1 + 128 bytes */

typedef struct {
    double boost;
    uint32_t off;   /* EMPTY: a free slot */
    uint32_t tag;   /* the hash's high half: most mismatches cost no key compare */
} slot_t;

typedef struct {
    atomic_uint refs;
    slot_t *slots;
    size_t cap, count;
    uint8_t *keys;
    size_t keys_len, keys_cap;
} table_t;

struct store_boost_view {
    atomic_uint refs;
    table_t *base, *delta;   /* one reference each */
};

struct store_boosts {
    _Atomic(store_boost_view_t *) cur;
    atomic_uint gen;          /* which pin counter new readers use: gen & 1 */
    atomic_uint pins[2];      /* readers between loading cur and taking a reference */
    atomic_bool stale;        /* a publish failed: lookups must go to the store */
    table_t *loading;         /* start-up only */
};

/* FNV-1a, then a final mix so the high bits (the slot) spread too. */
static uint64_t hash_key(const uint8_t *k, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

static size_t slot_of(uint64_t h, size_t cap) { return (size_t)(((unsigned __int128)h * cap) >> 64); }

/* ---- tables ---- */

static void table_free(table_t *t)
{
    if (!t) return;
    free(t->slots);
    free(t->keys);
    free(t);
}

static void table_unref(table_t *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1) table_free(t);
}

/* An empty table with room for `entries` sellers and `key_bytes` of keys. */
static table_t *table_new(size_t entries, size_t key_bytes)
{
    table_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    atomic_init(&t->refs, 1);
    t->cap = entries + entries / 2 + 1;   /* at most 2/3 full: short probes for misses too */
    if (t->cap < MIN_TABLE_SLOTS) t->cap = MIN_TABLE_SLOTS;
    t->slots = malloc(t->cap * sizeof *t->slots);
    t->keys_cap = key_bytes ? key_bytes : 64;
    t->keys = malloc(t->keys_cap);
    if (!t->slots || !t->keys) {
        table_free(t);
        return NULL;
    }
    for (size_t i = 0; i < t->cap; i++) t->slots[i].off = EMPTY;
    return t;
}

static bool key_at(const table_t *t, uint32_t off, const uint8_t *key, size_t klen)
{
    return t->keys[off] == klen && memcmp(t->keys + off + 1, key, klen) == 0;
}

static bool table_find(const table_t *t, const uint8_t *key, size_t klen, uint64_t h, double *boost)
{
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t i = slot_of(h, t->cap), n = 0; n < t->cap; n++) {
        const slot_t *s = &t->slots[i];
        if (s->off == EMPTY) return false;
        if (s->tag == tag && key_at(t, s->off, key, klen)) {
            *boost = s->boost;
            return true;
        }
        if (++i == t->cap) i = 0;
    }
    return false;
}

/* Sets key's boost; the table must have a free slot for a new key (callers
 * size it, or grow it first). Only while the table is unpublished. */
static grading_err_t table_put(table_t *t, const uint8_t *key, size_t klen, double boost)
{
    uint64_t h = hash_key(key, klen);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t i = slot_of(h, t->cap);
    for (;;) {
        slot_t *s = &t->slots[i];
        if (s->off == EMPTY) break;
        if (s->tag == tag && key_at(t, s->off, key, klen)) {
            s->boost = boost;
            return GRADING_OK;
        }
        if (++i == t->cap) i = 0;
    }
    if (t->keys_len + 1 + klen > t->keys_cap) {
        size_t cap = t->keys_cap * 2;
        while (cap < t->keys_len + 1 + klen) cap *= 2;
        if (cap > EMPTY) return GRADING_ENOMEM;
        uint8_t *k = realloc(t->keys, cap);
        if (!k) return GRADING_ENOMEM;
        t->keys = k;
        t->keys_cap = cap;
    }
    t->slots[i] = (slot_t){boost, (uint32_t)t->keys_len, tag};
    t->keys[t->keys_len] = (uint8_t)klen;
    memcpy(t->keys + t->keys_len + 1, key, klen);
    t->keys_len += 1 + klen;
    t->count++;
    return GRADING_OK;
}

/* Puts every entry of src into dst. */
static grading_err_t table_copy_into(table_t *dst, const table_t *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const slot_t *s = &src->slots[i];
        if (s->off == EMPTY) continue;
        grading_err_t err = table_put(dst, src->keys + s->off + 1, src->keys[s->off], s->boost);
        if (err) return err;
    }
    return GRADING_OK;
}

/* A copy of t with room for `more` sellers and `more_keys` key bytes. */
static table_t *table_grown(const table_t *t, size_t more, size_t more_keys)
{
    table_t *n = table_new(t->count + more, t->keys_len + more_keys);
    if (!n) return NULL;
    if (table_copy_into(n, t)) {
        table_free(n);
        return NULL;
    }
    return n;
}

static size_t table_bytes(const table_t *t) { return t->cap * sizeof(slot_t) + t->keys_cap; }

/* ---- views ---- */

static store_boost_view_t *view_new(table_t *base, table_t *delta)
{
    store_boost_view_t *v = malloc(sizeof *v);
    if (!v) return NULL;
    atomic_init(&v->refs, 1);
    v->base = base;
    v->delta = delta;
    return v;
}

void store_boosts_unpin(store_boost_view_t *v)
{
    if (v && atomic_fetch_sub(&v->refs, 1) == 1) {
        table_unref(v->base);
        table_unref(v->delta);
        free(v);
    }
}

store_boost_view_t *store_boosts_pin(store_boosts_t *b)
{
    if (atomic_load(&b->stale)) return NULL;
    unsigned g = atomic_load(&b->gen) & 1;
    atomic_fetch_add(&b->pins[g], 1);
    store_boost_view_t *v = atomic_load(&b->cur);
    atomic_fetch_add(&v->refs, 1);
    atomic_fetch_sub(&b->pins[g], 1);
    return v;
}

bool store_boost_view_get(const store_boost_view_t *v, const uint8_t *key, size_t klen, double *boost)
{
    uint64_t h = hash_key(key, klen);
    return table_find(v->delta, key, klen, h, boost) || table_find(v->base, key, klen, h, boost);
}

/* Makes v current. Once no reader can still be between loading the old
 * view and taking its reference, drops the snapshot's own reference on
 * it. Two rounds: a reader that read `gen` before the first flip but
 * pinned after its wait is caught by the second. */
static void swap_in(store_boosts_t *b, store_boost_view_t *v)
{
    store_boost_view_t *old = atomic_exchange(&b->cur, v);
    for (int round = 0; round < 2; round++) {
        unsigned g = atomic_fetch_add(&b->gen, 1) & 1;
        while (atomic_load(&b->pins[g])) sched_yield();   /* a few instructions of each reader */
    }
    store_boosts_unpin(old);
}

store_boosts_t *store_boosts_new(void)
{
    store_boosts_t *b = calloc(1, sizeof *b);
    table_t *base = table_new(0, 0), *delta = table_new(0, 0);
    store_boost_view_t *v = base && delta ? view_new(base, delta) : NULL;
    if (!b || !v) {
        free(b);
        table_free(base);
        table_free(delta);
        return NULL;
    }
    atomic_init(&b->cur, v);
    return b;
}

void store_boosts_free(store_boosts_t *b)
{
    if (!b) return;
    store_boosts_unpin(atomic_load(&b->cur));
    table_free(b->loading);
    free(b);
}

/* ---- start-up ---- */

grading_err_t store_boosts_load(store_boosts_t *b, const uint8_t *key, size_t klen, double boost)
{
    if (klen > KEY_MAX) return GRADING_EINVAL;
    if (!b->loading && !(b->loading = table_new(1024, 1024 * 24))) return GRADING_ENOMEM;
    table_t *t = b->loading;
    if ((t->count + 1) * 3 > t->cap * 2) {   /* keep it at most 2/3 full */
        table_t *n = table_grown(t, t->count, 0);
        if (!n) return GRADING_ENOMEM;
        table_free(t);
        b->loading = t = n;
    }
    return table_put(t, key, klen, boost);
}

grading_err_t store_boosts_load_done(store_boosts_t *b)
{
    /* Loading doubled as it went; the base is kept right-sized (a third
     * of its slots free, keys exact): at a million sellers that is tens of
     * MiB less. Without the memory for a copy, the loaded one does. */
    table_t *fit = b->loading ? table_grown(b->loading, 0, 0) : NULL;
    if (fit) {
        table_free(b->loading);
        b->loading = fit;
    }
    table_t *delta = table_new(0, 0);
    table_t *base = b->loading ? b->loading : table_new(0, 0);
    store_boost_view_t *v = base && delta ? view_new(base, delta) : NULL;
    if (!v) {
        table_free(delta);
        if (base != b->loading) table_free(base);
        return GRADING_ENOMEM;
    }
    b->loading = NULL;
    swap_in(b, v);
    return GRADING_OK;
}

/* ---- what a transaction changed ---- */

grading_err_t store_boost_changes_add(store_boost_changes_t *c, const uint8_t *key, size_t klen, double boost)
{
    if (klen > KEY_MAX) return GRADING_EINVAL;
    size_t need = 1 + klen + sizeof boost;
    if (c->len + need > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        while (cap < c->len + need) cap *= 2;
        uint8_t *nb = realloc(c->buf, cap);
        if (!nb) return GRADING_ENOMEM;
        c->buf = nb;
        c->cap = cap;
    }
    c->buf[c->len] = (uint8_t)klen;
    memcpy(c->buf + c->len + 1, key, klen);
    memcpy(c->buf + c->len + 1 + klen, &boost, sizeof boost);
    c->len += need;
    return GRADING_OK;
}

grading_err_t store_boost_changes_move(store_boost_changes_t *parent, store_boost_changes_t *child)
{
    if (!child->len) return GRADING_OK;
    if (!parent->len) {   /* the usual nested batch: hand the buffer over */
        store_boost_changes_free(parent);
        *parent = *child;
        *child = (store_boost_changes_t){0};
        return GRADING_OK;
    }
    if (parent->len + child->len > parent->cap) {
        size_t cap = parent->cap * 2;
        while (cap < parent->len + child->len) cap *= 2;
        uint8_t *nb = realloc(parent->buf, cap);
        if (!nb) return GRADING_ENOMEM;
        parent->buf = nb;
        parent->cap = cap;
    }
    memcpy(parent->buf + parent->len, child->buf, child->len);
    parent->len += child->len;
    store_boost_changes_free(child);
    return GRADING_OK;
}

void store_boost_changes_free(store_boost_changes_t *c)
{
    free(c->buf);
    *c = (store_boost_changes_t){0};
}

/* ---- publishing ---- */

static bool same_boost(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* True when some change gives its seller a boost other than old's: when
 * none does, every seller ends where it was (a re-derivation that changed
 * nothing, a refresh walk) and no view is built. */
static bool changes_anything(const store_boost_view_t *old, const store_boost_changes_t *c)
{
    for (size_t at = 0; at < c->len; at += 1 + c->buf[at] + sizeof(double)) {
        double boost, now;
        memcpy(&boost, c->buf + at + 1 + c->buf[at], sizeof boost);
        if (!store_boost_view_get(old, c->buf + at + 1, c->buf[at], &now) || !same_boost(now, boost)) return true;
    }
    return false;
}

/* The next view: the old delta plus the changes that change something
 * (against the base and the changes before them), folded into a new base
 * when it has grown. NULL when out of memory. */
static store_boost_view_t *next_view(const store_boost_view_t *old, const store_boost_changes_t *c)
{
    size_t nchanges = 0;
    for (size_t at = 0; at < c->len; at += 1 + c->buf[at] + sizeof(double)) nchanges++;
    table_t *delta = table_grown(old->delta, nchanges, c->len), *base = NULL;
    if (!delta) return NULL;
    for (size_t at = 0; at < c->len; at += 1 + c->buf[at] + sizeof(double)) {
        const uint8_t *key = c->buf + at + 1;
        size_t klen = c->buf[at];
        uint64_t h = hash_key(key, klen);
        double boost, now;
        memcpy(&boost, key + klen, sizeof boost);
        bool known = table_find(delta, key, klen, h, &now) || table_find(old->base, key, klen, h, &now);
        if (known && same_boost(now, boost)) continue;
        if (table_put(delta, key, klen, boost)) goto fail;
    }
    size_t merge_at = old->base->count / 8 > MIN_MERGE_ENTRIES ? old->base->count / 8 : MIN_MERGE_ENTRIES;
    if (delta->count > merge_at) {
        if (!(base = table_grown(old->base, delta->count, delta->keys_len)) || table_copy_into(base, delta)) goto fail;
        table_free(delta);
        if (!(delta = table_new(0, 0))) goto fail;
    } else {
        base = old->base;
        atomic_fetch_add(&base->refs, 1);
    }
    store_boost_view_t *v = view_new(base, delta);
    if (v) return v;
fail:
    if (base && base != old->base) table_free(base);
    else if (base) table_unref(base);
    table_free(delta);
    return NULL;
}

grading_err_t store_boosts_publish(store_boosts_t *b, const store_boost_changes_t *c)
{
    if (!c->len || atomic_load(&b->stale)) return GRADING_OK;
    store_boost_view_t *cur = atomic_load(&b->cur);   /* only publishes swap it, and they are serialised */
    if (!changes_anything(cur, c)) return GRADING_OK;
    store_boost_view_t *v = next_view(cur, c);
    if (!v) {
        atomic_store(&b->stale, true);   /* never answer from a view that missed a commit */
        return GRADING_ENOMEM;
    }
    swap_in(b, v);
    return GRADING_OK;
}

void store_boosts_stats(store_boosts_t *b, uint64_t *sellers, uint64_t *bytes)
{
    store_boost_view_t *v = store_boosts_pin(b);
    *sellers = *bytes = 0;
    if (!v) return;
    *sellers = v->base->count + v->delta->count;
    *bytes = table_bytes(v->base) + table_bytes(v->delta);
    store_boosts_unpin(v);
}
