/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sessions_table.c - ck_hs in SPMC object mode, keyed by the GUID at the start
 * of each session record.
 */
#include "sessions_table.h"

#include "container_of.h"
#include "memory.h"

#include <string.h>

#define TABLE_INITIAL_SIZE 64

/* Every map block ck_hs allocates carries this header, so that a block it
 * frees with defer == true can be queued for reclamation without allocating. */
struct map_block {
    epoch_entry retire;
    size_t bytes;
    max_align_t payload[];
};

static void *map_alloc(size_t size)
{
    struct map_block *b = memory_alloc(sizeof(*b) + size, MEMORY_DATA);
    if (b == NULL)
        return NULL;
    b->bytes = sizeof(*b) + size;
    return b->payload;
}

static struct map_block *block_of(void *payload)
{
    return container_of(payload, struct map_block, payload);
}

static void map_block_free(epoch_entry *entry)
{
    struct map_block *b = container_of(entry, struct map_block, retire);
    memory_free(b, b->bytes, MEMORY_DATA);
}

static void map_free(void *p, size_t size, bool defer)
{
    (void)size;
    if (p == NULL)
        return;
    struct map_block *b = block_of(p);
    if (defer)
        epoch_retire(&b->retire, map_block_free); /* readers may still probe it */
    else
        map_block_free(&b->retire);
}

static struct ck_malloc table_allocator = {
    .malloc = map_alloc,
    .realloc = NULL,
    .free = map_free,
};

/* ---- tagged entries -----------------------------------------------------------
 * Debian's ck is built without pointer packing, so ck_hs would read the key
 * of every live entry a probe passes: a cache miss per entry in a large
 * table. So the set stores each session pointer with 16 bits of its key's
 * hash in the top bits (user-space addresses on Linux stay below 2^47 unless
 * a mapping asks for more, which no allocator fwpm uses does), and looks
 * keys up by a GUID pointer tagged the same way: keys_equal tells entries
 * apart by their tags, and reads a key only when the tags agree (1 in 65,536
 * for a different key). Pointers the top bits do not leave free are refused
 * (the insert fails; no entry is ever stored untagged). ck_hs treats entries
 * as opaque (it never masks them without pointer packing), and tags never
 * form its reserved values (NULL, ~0: a tagged pointer has a zero low bit). */
#define TAG_SHIFT 48u

static uintptr_t tag_of_hash(unsigned long h)
{
    return (uintptr_t)(h >> (64u - 16u)) << TAG_SHIFT;
}

static bool tag_fits(const void *p)
{
    return ((uintptr_t)p >> TAG_SHIFT) == 0;
}

static const void *tagged(const void *p, unsigned long h)
{
    return (const void *)((uintptr_t)p | tag_of_hash(h));
}

static const void *untagged(const void *p)
{
    return (const void *)((uintptr_t)p & (((uintptr_t)1 << TAG_SHIFT) - 1u));
}

/* Keys may be chosen by clients, so mix all 128 bits rather than trusting
 * them to be random (splitmix64 finalizer on each half). Takes a tagged
 * entry or lookup key. */
static unsigned long hash_key(const void *object, unsigned long seed)
{
    uint64_t half[2];
    memcpy(half, untagged(object), sizeof(half));
    uint64_t h = seed ^ half[0];
    h ^= (h >> 30) ^ half[1];
    h *= 0xBF58476D1CE4E5B9u;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBu;
    h ^= h >> 31;
    return (unsigned long)h;
}

/* a: a stored entry, b: the key being looked up; both tagged. */
static bool keys_equal(const void *a, const void *b)
{
    if (a == b)
        return true; /* removal looks a session up by its own key */
    if (((uintptr_t)a ^ (uintptr_t)b) >> TAG_SHIFT != 0)
        return false; /* different hashes: different keys, no read */
    return memcmp(untagged(a), untagged(b), sizeof(GUID)) == 0;
}

bool sessions_table_init(struct sessions_table *t)
{
    t->grown = false;
    t->peak_entries = 0;
    t->removals = 0;
    t->rebuilds = 0;
    return ck_hs_init(&t->set, CK_HS_MODE_SPMC | CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE, hash_key,
                      keys_equal, &table_allocator, TABLE_INITIAL_SIZE, 0x5EED5EEDu);
}

struct session *sessions_table_find(struct sessions_table *t, const GUID *key)
{
    if (!tag_fits(key))
        return NULL; /* no stored entry can have such an address either */
    unsigned long h = CK_HS_HASH(&t->set, hash_key, key);
    /* Cast: the set stores session pointers (ck_hs hands them back const). */
    return (struct session *)untagged(ck_hs_get(&t->set, h, tagged(key, h)));
}

bool sessions_table_insert(struct sessions_table *t, struct session *s)
{
    if (!tag_fits(s))
        return false;
    unsigned long h = CK_HS_HASH(&t->set, hash_key, &s->view.sessionKey);
    if (!ck_hs_put(&t->set, h, tagged(s, h)))
        return false;
    size_t count = ck_hs_count(&t->set);
    if (count > TABLE_INITIAL_SIZE / 2)
        t->grown = true;
    if (count > t->peak_entries)
        t->peak_entries = count;
    return true;
}

/* Under churn at a constant size, deletes leave tombstones and stretch probe
 * sequences, and every probe of a live entry reads a session record (Debian's
 * ck packs no hash bits into the pointers): lookups slow down without bound.
 * So the map is rebuilt once the removals since it was built exceed its peak
 * population (or the initial size): the rebuild costs O(capacity), and the
 * capacity is at most 4 times the peak, so O(1) amortized per write, and
 * tombstones never outnumber the peak.
 *
 * The count is ours, not ck_hs_stat's: ck 0.7.1 never initializes a new map's
 * tombstone counter (a recycled block keeps its old value) and never lowers it
 * when a put reuses a tombstone, so its figure made this rule fire on nearly
 * every close of a small table. The old map goes through a grace period; a
 * failed allocation keeps it (and retries after as many removals again). */
static void compact_if_worn(struct sessions_table *t)
{
    size_t limit = t->peak_entries > TABLE_INITIAL_SIZE ? t->peak_entries : TABLE_INITIAL_SIZE;
    if (++t->removals <= limit)
        return;
    t->removals = 0;
    if (ck_hs_rebuild(&t->set))
        t->rebuilds++;
}

void sessions_table_remove(struct sessions_table *t, struct session *s)
{
    unsigned long h = CK_HS_HASH(&t->set, hash_key, &s->view.sessionKey);
    ck_hs_remove(&t->set, h, tagged(&s->view.sessionKey, h));
    sessions_table_shrink_if_empty(t);
    compact_if_worn(t);
}

void sessions_table_shrink_if_empty(struct sessions_table *t)
{
    /* A fresh small map replaces the grown one, which is reclaimed after a
     * grace period. A failed allocation just keeps the old map. */
    if (t->grown && ck_hs_count(&t->set) == 0 && ck_hs_reset_size(&t->set, TABLE_INITIAL_SIZE)) {
        t->grown = false;
        t->peak_entries = 0;
        t->removals = 0;
    }
}
