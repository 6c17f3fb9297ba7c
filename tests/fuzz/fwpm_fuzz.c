/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpm_fuzz.c - the fuzz target: decodes its input into a sequence of API
 * calls, keeps a model of the engine (sessions, enumeration handles with
 * their snapshots, outstanding arrays, stale handles) and checks every result
 * against the contract (docs/contract.md §2–§3). Any mismatch aborts. Built
 * as fwpm-fuzz (libFuzzer) and as fuzz_replay (runs the corpus in every build).
 *
 * Input format (missing bytes read as 0, so an all-zero input opens
 * anonymous sessions). A sequence of operations, each one byte:
 *   bits 7,6 both set: arm an allocation failure; the next byte n gives
 *     memory_fail_nth(1 + n % 16) for this operation only.
 *   (byte & 0x3F) % 10: 0 open, 1 close, 2 create-enum-handle, 3 page,
 *     4 destroy-enum-handle, 5 free, 6 verify (enumerate everything),
 *     7 reclaim, 8 open many, 9 close many.
 * The arguments of each operation follow; see the op_* functions (and
 * make_corpus.py, which writes them).
 */
#include "fuzz_input.h"

#include <fwpm_linux.h>

#include "memory.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STRING_MAX 32767u /* contract §2.1: longer display strings are rejected */
#define MAX_LIVE 9000     /* open sessions at once: enough for 3 tree levels */
#define MAX_RECORDS 12000 /* sessions the model remembers (open or closed) */
#define INDEX_SLOTS 32768 /* hash index size: a power of two > 2 * MAX_RECORDS */
#define MAX_ENUMS 24
#define MAX_ARRAYS 24
#define MAX_STALE 32

/* ---- failure ----------------------------------------------------------- */

static unsigned op_index; /* which operation of the input is running */

static void failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fwpm-fuzz: mismatch at operation %u: ", op_index);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            failf(__VA_ARGS__);                                                                    \
    } while (0)

/* FWPM_FUZZ_TRACE=1 in the environment: every call and its result on stderr. */
static bool tracing;

static void trace(const char *call, DWORD rc, bool fault)
{
    if (tracing)
        fprintf(stderr, "[%u] %s -> %s%s\n", op_index, call, fwpm_error_name(rc),
                fault ? " (allocation failure armed)" : "");
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n == 0 ? 1 : n, size);
    if (p == NULL)
        abort();
    return p;
}

/* ---- input -------------------------------------------------------------- */

/* ---- the model --------------------------------------------------------- */

/* A session opened during this input (open, or closed but still referred to
 * by an enumeration snapshot or an outstanding array). */
struct record {
    bool used, open, key_known;
    int live_at; /* position in live[] while open */
    int refs;    /* snapshots and arrays that contain it */
    HANDLE handle;
    GUID key;
    wchar_t *name, *description; /* the model's own copies; NULL as opened */
    UINT32 flags, timeout;
};

struct enum_model {
    bool used;
    HANDLE handle;
    int owner; /* record */
    int size, remaining;
    int *snap;       /* records in the snapshot */
    bool *delivered; /* per snapshot position */
    int *by_key;     /* snapshot positions sorted by key */
};

struct array_model {
    bool used;
    FWPM_SESSION0 **entries;
    UINT32 n;
    int *rec;
};

static struct record records[MAX_RECORDS];
static int free_records[MAX_RECORDS], n_free_records = -1; /* -1: not set up */
static int live[MAX_LIVE], n_live;
static struct enum_model enums[MAX_ENUMS];
static struct array_model arrays[MAX_ARRAYS];
static HANDLE stale_engines[MAX_STALE], stale_enums[MAX_STALE];
static unsigned n_stale_engines, n_stale_enums; /* ring write positions (total) */
static GUID closed_keys[MAX_STALE];             /* keys of closed sessions (a ring) */
static unsigned n_closed_keys;

/* What every entry's engine-filled fields must be. */
static DWORD my_pid;
static uid_t my_uid;
static wchar_t my_username[256];
static bool my_username_known;

/* Open-addressing indexes of the open records: by key (known keys only) and
 * by engine handle. Linear probing, deletion by backward shift. */
struct index {
    int slot[INDEX_SLOTS]; /* record + 1; 0 empty */
    bool by_handle;
};

static struct index key_index = {.by_handle = false}, handle_index = {.by_handle = true};

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDu;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_guid(const GUID *g)
{
    uint64_t half[2];
    memcpy(half, g, sizeof(half));
    return mix(half[0] ^ mix(half[1]));
}

static uint64_t index_hash(const struct index *ix, int rec)
{
    return ix->by_handle ? mix((uint64_t)(uintptr_t)records[rec].handle)
                         : hash_guid(&records[rec].key);
}

static void index_add(struct index *ix, int rec)
{
    size_t i = index_hash(ix, rec) & (INDEX_SLOTS - 1);
    while (ix->slot[i] != 0)
        i = (i + 1) & (INDEX_SLOTS - 1);
    ix->slot[i] = rec + 1;
}

static void index_remove(struct index *ix, int rec)
{
    size_t i = index_hash(ix, rec) & (INDEX_SLOTS - 1);
    while (ix->slot[i] != rec + 1) {
        CHECK(ix->slot[i] != 0, "model: index lost a record");
        i = (i + 1) & (INDEX_SLOTS - 1);
    }
    ix->slot[i] = 0;
    /* Backward shift: move later members of the cluster into the hole. */
    for (size_t j = (i + 1) & (INDEX_SLOTS - 1); ix->slot[j] != 0;
         j = (j + 1) & (INDEX_SLOTS - 1)) {
        size_t home = index_hash(ix, ix->slot[j] - 1) & (INDEX_SLOTS - 1);
        if (((j - home) & (INDEX_SLOTS - 1)) >= ((j - i) & (INDEX_SLOTS - 1))) {
            ix->slot[i] = ix->slot[j];
            ix->slot[j] = 0;
            i = j;
        }
    }
}

/* The open record with this key / handle, or -1. */
static int record_by_key(const GUID *key)
{
    for (size_t i = hash_guid(key) & (INDEX_SLOTS - 1); key_index.slot[i] != 0;
         i = (i + 1) & (INDEX_SLOTS - 1))
        if (memcmp(&records[key_index.slot[i] - 1].key, key, sizeof(GUID)) == 0)
            return key_index.slot[i] - 1;
    return -1;
}

static int engine_of(HANDLE h)
{
    for (size_t i = mix((uint64_t)(uintptr_t)h) & (INDEX_SLOTS - 1); handle_index.slot[i] != 0;
         i = (i + 1) & (INDEX_SLOTS - 1))
        if (records[handle_index.slot[i] - 1].handle == h)
            return handle_index.slot[i] - 1;
    return -1;
}

static void setup_records(void)
{
    for (int i = 0; i < MAX_RECORDS; i++)
        free_records[i] = MAX_RECORDS - 1 - i;
    n_free_records = MAX_RECORDS;
}

/* A free record; -1 when the model is full. */
static int record_alloc(void)
{
    if (n_free_records == 0 || n_live == MAX_LIVE)
        return -1;
    int rec = free_records[--n_free_records];
    memset(&records[rec], 0, sizeof(records[rec]));
    records[rec].used = true;
    return rec;
}

static void record_release(int rec)
{
    struct record *r = &records[rec];
    free(r->name);
    free(r->description);
    memset(r, 0, sizeof(*r));
    free_records[n_free_records++] = rec;
}

static void record_unref(int rec)
{
    if (--records[rec].refs == 0 && !records[rec].open)
        record_release(rec);
}

/* Makes an allocated record open with this handle (and key, if known). */
static void record_open(int rec, HANDLE h)
{
    struct record *r = &records[rec];
    r->open = true;
    r->handle = h;
    r->live_at = n_live;
    live[n_live++] = rec;
    index_add(&handle_index, rec);
    if (r->key_known)
        index_add(&key_index, rec);
}

static void record_learn_key(int rec, const GUID *key)
{
    records[rec].key = *key;
    records[rec].key_known = true;
    index_add(&key_index, rec);
}

/* The session is closed: out of the live set and the indexes. */
static void record_close(int rec)
{
    struct record *r = &records[rec];
    index_remove(&handle_index, rec);
    if (r->key_known)
        index_remove(&key_index, rec);
    int last = live[--n_live];
    live[r->live_at] = last;
    records[last].live_at = r->live_at;
    r->open = false;
    if (r->key_known)
        closed_keys[n_closed_keys++ % MAX_STALE] = r->key;
    if (r->refs == 0)
        record_release(rec);
}

static int enum_of(HANDLE h)
{
    for (int i = 0; i < MAX_ENUMS; i++)
        if (enums[i].used && enums[i].handle == h)
            return i;
    return -1;
}

static int enum_count(void)
{
    int n = 0;
    for (int i = 0; i < MAX_ENUMS; i++)
        n += enums[i].used;
    return n;
}

static int nth_enum(int k)
{
    for (int i = 0; i < MAX_ENUMS; i++)
        if (enums[i].used && k-- == 0)
            return i;
    return -1;
}

static void enum_drop(int i)
{
    struct enum_model *m = &enums[i];
    for (int j = 0; j < m->size; j++)
        record_unref(m->snap[j]);
    free(m->snap);
    free(m->delivered);
    free(m->by_key);
    memset(m, 0, sizeof(*m));
}

static int array_count(void)
{
    int n = 0;
    for (int i = 0; i < MAX_ARRAYS; i++)
        n += arrays[i].used;
    return n;
}

static bool guid_is_zero(const GUID *g)
{
    static const GUID zero;
    return memcmp(g, &zero, sizeof(zero)) == 0;
}

static void remember_stale(HANDLE *ring, unsigned *count, HANDLE h)
{
    ring[*count % MAX_STALE] = h;
    (*count)++;
}

static HANDLE nth_stale(const HANDLE *ring, unsigned count, uint8_t k)
{
    unsigned have = count < MAX_STALE ? count : MAX_STALE;
    return have == 0 ? NULL : ring[k % have];
}

/* ---- what the engine says ---------------------------------------------- */

/* The errors the contract allows for one call (success only when there are none). */
struct expect {
    DWORD codes[8];
    int n;
};

static void allow(struct expect *e, DWORD code)
{
    if (e->n < 8)
        e->codes[e->n++] = code;
}

static bool allowed(const struct expect *e, DWORD code)
{
    for (int i = 0; i < e->n; i++)
        if (e->codes[i] == code)
            return true;
    return false;
}

/* Out of memory is allowed whenever an allocation failure is armed. */
static void expect_result(const struct expect *errors, bool fault, DWORD got, const char *call)
{
    trace(call, got, fault);
    bool ok = errors->n == 0 ? got == ERROR_SUCCESS : allowed(errors, got);
    if (!ok && fault && got == ERROR_NOT_ENOUGH_MEMORY)
        ok = true;
    if (!ok) {
        char list[256] = "";
        size_t len = 0;
        if (errors->n == 0)
            len += (size_t)snprintf(list, sizeof(list), "ERROR_SUCCESS ");
        for (int i = 0; i < errors->n && len < sizeof(list); i++)
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s ",
                                    fwpm_error_name(errors->codes[i]));
        failf("%s returned %s, the contract allows: %s%s", call, fwpm_error_name(got), list,
              fault ? "ERROR_NOT_ENOUGH_MEMORY" : "");
    }
}

static FWPM_MEMORY_STATS0 stats_now(bool reclaim)
{
    if (reclaim)
        fwpm_reclaim();
    FWPM_MEMORY_STATS0 st;
    CHECK(fwpm_memory_stats(&st) == ERROR_SUCCESS, "fwpm_memory_stats failed");
    return st;
}

static void check_open_sessions(void)
{
    FWPM_MEMORY_STATS0 st = stats_now(false);
    CHECK(st.openSessions == (UINT64)n_live, "engine has %llu open sessions, model %d",
          (unsigned long long)st.openSessions, n_live);
}

static bool wide_equal(const wchar_t *a, const wchar_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return wcscmp(a, b) == 0;
}

/* An entry's fields against the record it is. */
static void check_entry(const FWPM_SESSION0 *e, const struct record *r)
{
    CHECK(e != NULL, "NULL entry");
    CHECK(memcmp(&e->sessionKey, &r->key, sizeof(GUID)) == 0, "entry key differs");
    CHECK(wide_equal(e->displayData.name, r->name), "entry name differs from what was opened");
    CHECK(wide_equal(e->displayData.description, r->description),
          "entry description differs from what was opened");
    CHECK(e->flags == r->flags, "entry flags %#x, opened with %#x", e->flags, r->flags);
    CHECK(e->txnWaitTimeoutInMSec == r->timeout, "entry timeout %u, opened with %u",
          e->txnWaitTimeoutInMSec, r->timeout);
    CHECK(e->processId == my_pid, "entry processId %u, expected %u", e->processId, my_pid);
    CHECK(e->kernelMode == FALSE, "entry kernelMode TRUE");
    const SID *sid = e->sid;
    CHECK(sid != NULL, "entry without SID");
    static const BYTE unix_authority[6] = {0, 0, 0, 0, 0, 22};
    DWORD sub[2];
    memcpy(sub, (const unsigned char *)sid + offsetof(SID, SubAuthority), sizeof(sub));
    CHECK(sid->Revision == 1 && sid->SubAuthorityCount == 2 &&
              memcmp(sid->IdentifierAuthority.Value, unix_authority, 6) == 0 && sub[0] == 1 &&
              sub[1] == (DWORD)my_uid,
          "entry SID is not S-1-22-1-%u", (unsigned)my_uid);
    CHECK(e->username != NULL && e->username[0] != 0, "entry without username");
    if (my_username_known)
        CHECK(wcscmp(e->username, my_username) == 0, "entry username %ls, expected %ls",
              e->username, my_username);
}

static bool is_version4(const GUID *g)
{
    return (g->Data3 >> 12) == 4 && (g->Data4[0] & 0xC0) == 0x80;
}

/* Marks records seen by one verify_all pass without clearing an array. */
static unsigned seen_stamp[MAX_RECORDS], stamp_now;

/*
 * Enumerates everything through a fresh handle of engine record `via` and
 * checks that it is exactly the open sessions of the model. The one record
 * whose generated key is not known yet (the one just opened) learns it here.
 * No fault is armed.
 */
static void verify_all(int via)
{
    HANDLE e = NULL;
    DWORD rc = FwpmSessionCreateEnumHandle0(records[via].handle, NULL, &e);
    CHECK(rc == ERROR_SUCCESS, "verify: create enum handle: %s", fwpm_error_name(rc));
    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 0;
    rc = FwpmSessionEnum0(records[via].handle, e, INFINITE, &entries, &n);
    CHECK(rc == ERROR_SUCCESS, "verify: enum: %s", fwpm_error_name(rc));
    CHECK(n == (UINT32)n_live, "verify: %u entries, %d sessions open", n, n_live);
    int unknown = -1;
    for (int i = 0; i < n_live; i++)
        if (!records[live[i]].key_known) {
            CHECK(unknown < 0, "model: two sessions with unknown keys");
            unknown = live[i];
        }
    stamp_now++;
    for (UINT32 i = 0; i < n; i++) {
        int rec = record_by_key(&entries[i]->sessionKey);
        if (rec < 0) {
            CHECK(unknown >= 0, "verify: an entry that no open session has");
            CHECK(is_version4(&entries[i]->sessionKey), "generated key is not a version-4 GUID");
            rec = unknown;
            unknown = -1;
            record_learn_key(rec, &entries[i]->sessionKey);
        }
        CHECK(seen_stamp[rec] != stamp_now, "verify: one session delivered twice");
        seen_stamp[rec] = stamp_now;
        check_entry(entries[i], &records[rec]);
    }
    FwpmFreeMemory0((void **)&entries);
    CHECK(entries == NULL, "FwpmFreeMemory0 did not set the pointer to NULL");
    /* Exhausted: an empty page, NULL array. */
    entries = (FWPM_SESSION0 **)(uintptr_t)0x1;
    n = 77;
    rc = FwpmSessionEnum0(records[via].handle, e, 5, &entries, &n);
    CHECK(rc == ERROR_SUCCESS && n == 0 && entries == NULL,
          "verify: page after the end: %s, %u entries", fwpm_error_name(rc), n);
    rc = FwpmSessionDestroyEnumHandle0(records[via].handle, e);
    CHECK(rc == ERROR_SUCCESS, "verify: destroy: %s", fwpm_error_name(rc));
}

/* ---- choosing handles -------------------------------------------------- */

static int dummy_object;

/* Garbage that is not drawn from the input's 8 bytes. */
static HANDLE special_value(struct fuzz_input *in, HANDLE example)
{
    uint8_t k = fuzz_u8(in);
    switch (k % 6) {
    case 0:
        return NULL;
    case 1:
        return (HANDLE)(uintptr_t)1;
    case 2:
        return (HANDLE)(uintptr_t)UINT64_MAX;
    case 3:
        return &dummy_object;
    case 4: /* a real or stale handle with one bit flipped */
        return (HANDLE)((uintptr_t)example ^ ((uintptr_t)1 << (fuzz_u8(in) % 64)));
    default: /* small values with the handle tag */
        return (HANDLE)(uintptr_t)((uint64_t)fuzz_u8(in) << 8 | (uint64_t)(k & 0x30) | 0xA);
    }
}

static HANDLE some_live_engine(uint16_t k)
{
    return n_live > 0 ? records[live[k % n_live]].handle : NULL;
}

/* An engine handle: live (or the owner of enum `owner_of`), stale, a live
 * enumeration handle (wrong kind), or garbage. */
static HANDLE pick_engine(struct fuzz_input *in, int owner_of)
{
    uint8_t sel = fuzz_u8(in);
    uint8_t k = fuzz_u8(in);
    switch (sel % 8) {
    case 0:
    case 1:
    case 2:
        if (owner_of >= 0)
            return records[enums[owner_of].owner].handle;
        /* fall through */
    case 3:
        return some_live_engine(k);
    case 4:
        return nth_stale(stale_engines, n_stale_engines, k);
    case 5: {
        int n = enum_count();
        return n > 0 ? enums[nth_enum(k % n)].handle : NULL;
    }
    case 6:
        return (HANDLE)(uintptr_t)fuzz_u64(in);
    default:
        return special_value(in, n_live > 0 ? some_live_engine(k)
                                            : nth_stale(stale_engines, n_stale_engines, k));
    }
}

/* An enumeration handle: live, stale, a live engine handle, or garbage. */
static HANDLE pick_enum(struct fuzz_input *in)
{
    uint8_t sel = fuzz_u8(in);
    uint8_t k = fuzz_u8(in);
    int n = enum_count();
    switch (sel % 8) {
    case 0:
    case 1:
    case 2:
    case 3:
        return n > 0 ? enums[nth_enum(k % n)].handle : NULL;
    case 4:
        return nth_stale(stale_enums, n_stale_enums, k);
    case 5:
        return some_live_engine(k);
    case 6:
        return (HANDLE)(uintptr_t)fuzz_u64(in);
    default:
        return special_value(in, n > 0 ? enums[nth_enum(k % n)].handle
                                       : nth_stale(stale_enums, n_stale_enums, k));
    }
}

/* ---- strings ----------------------------------------------------------- */

/* Non-ASCII, surrogates, beyond Unicode, negative: a wchar_t is any int32. */
static const wchar_t unusual[] = {0xE9,
                                  0x4E2D,
                                  0xFFFD,
                                  0x1F600,
                                  0x10FFFF,
                                  0xD800,
                                  0xDFFF,
                                  0x7FFFFFFF,
                                  0x110000,
                                  0x80,
                                  0xFEFF,
                                  0x202E,
                                  (wchar_t)0x80000000,
                                  (wchar_t)-1,
                                  0xFFFF};

/* Generated strings live in two reusable buffers (name, description) of a
 * million characters, filled with non-NUL filler once: a string of length L
 * writes its pattern over the first min(L, PATTERN_SPAN) characters and a
 * NUL at L; the NULs are put back to filler after the call. This keeps
 * million-character inputs cheap. */
#define SCRATCH_CHARS 1000000u
#define PATTERN_SPAN 65536u
#define FILLER ((wchar_t)L'z')

struct scratch {
    wchar_t *buf;
    size_t zeros[2];
    int n_zeros;
    size_t patterned; /* characters holding a pattern now */
};

static struct scratch scratch[2];

static void scratch_zero(struct scratch *sc, size_t at)
{
    sc->buf[at] = 0;
    sc->zeros[sc->n_zeros++] = at;
}

/* Reads a string spec into a malloc'ed buffer or scratch[slot]; NULL for NULL.
 *   0: NULL; 1..0x7F: that many chars, one input byte each (0xFF: a raw
 *   32-bit char; 0x80..0x8E: unusual[]; 0x8F..0xFE: BMP letters); 0x80: "";
 *   0x81..0xA0: 32767 + (s - 0x90) generated chars; 0xA1..0xBF: u16 length;
 *   0xC0..0xFE: (s - 0xBF) KiB; 0xFF: 1,000,000. Generated strings take a
 *   pattern byte; its bit 7 means a NUL at position u16 % (length + 1). */
static wchar_t *read_string(struct fuzz_input *in, int slot)
{
    uint8_t s = fuzz_u8(in);
    if (s == 0)
        return NULL;
    size_t length;
    if (s < 0x80) {
        length = s;
        wchar_t *buf = xcalloc(length + 1, sizeof(wchar_t));
        for (size_t i = 0; i < length; i++) {
            uint8_t c = fuzz_u8(in);
            if (c == 0xFF)
                buf[i] = (wchar_t)fuzz_u32(in);
            else if (c >= 0x80 && c < 0x80 + sizeof(unusual) / sizeof(unusual[0]))
                buf[i] = unusual[c - 0x80];
            else if (c >= 0x80)
                buf[i] = (wchar_t)(0x100 + c * 37);
            else
                buf[i] = c; /* 0 ends the string early */
        }
        return buf;
    }
    if (s == 0x80)
        length = 0;
    else if (s <= 0xA0)
        length = STRING_MAX + (size_t)s - 0x90;
    else if (s <= 0xBF)
        length = fuzz_u16(in);
    else if (s < 0xFF)
        length = (size_t)(s - 0xBF) * 1024;
    else
        length = SCRATCH_CHARS;
    uint8_t pattern = length > 0 ? fuzz_u8(in) : 0;
    struct scratch *sc = &scratch[slot];
    if (sc->buf == NULL) {
        sc->buf = xcalloc(SCRATCH_CHARS + 1, sizeof(wchar_t));
        wmemset(sc->buf, FILLER, SCRATCH_CHARS + 1);
    }
    static const wchar_t base[4] = {L'a', 0xC0, 0x4E00, 0x1F300};
    static const unsigned range[4] = {26, 64, 2048, 256};
    unsigned step = (unsigned)(pattern >> 2) | 1;
    size_t span = length < PATTERN_SPAN ? length : PATTERN_SPAN;
    for (size_t i = 0; i < span; i++)
        sc->buf[i] = base[pattern & 3] + (wchar_t)((i * step) % range[pattern & 3]);
    sc->patterned = span;
    sc->n_zeros = 0;
    scratch_zero(sc, length);
    if (pattern & 0x80)
        scratch_zero(sc, fuzz_u16(in) % (length + 1));
    return sc->buf;
}

/* After the call: the caller's buffer is scribbled over (and freed), so that
 * an engine that kept a pointer instead of a copy reads garbage. */
static void discard_string(wchar_t *s, int slot)
{
    if (s == NULL)
        return;
    struct scratch *sc = &scratch[slot];
    if (s != sc->buf) {
        wmemset(s, (wchar_t)0x5A5A, wcslen(s));
        free(s);
        return;
    }
    wmemset(sc->buf, (wchar_t)0x5A5A, sc->patterned);
    for (int i = 0; i < sc->n_zeros; i++)
        sc->buf[sc->zeros[i]] = FILLER;
    sc->n_zeros = 0;
}

/* A model copy of what the engine must keep, or NULL. */
static wchar_t *copy_string(const wchar_t *s)
{
    if (s == NULL)
        return NULL;
    size_t n = wcslen(s);
    wchar_t *c = xcalloc(n + 1, sizeof(wchar_t));
    wmemcpy(c, s, n + 1);
    return c;
}

static bool too_long(const wchar_t *s)
{
    return s != NULL && wcsnlen(s, STRING_MAX + 1) > STRING_MAX;
}

/* ---- operations -------------------------------------------------------- */

/* Arms an allocation failure for one call; returns live bytes before it. */
static UINT64 arm(bool fault, uint8_t fault_n)
{
    if (!fault)
        return 0;
    UINT64 before = stats_now(true).liveBytes;
    memory_fail_nth(fault_n);
    return before;
}

/* After an armed call: disarms; a call that failed for memory leaked nothing. */
static void disarm(bool fault, DWORD rc, UINT64 before, const char *call)
{
    memory_fail_nth(0);
    if (fault && rc == ERROR_NOT_ENOUGH_MEMORY)
        CHECK(stats_now(true).liveBytes == before, "a failed %s leaked memory", call);
}

static void op_open(struct fuzz_input *in, bool fault, uint8_t fault_n)
{
    uint8_t mode = fuzz_u8(in);
    bool server = mode & 0x01;
    unsigned authn_mode = (mode >> 1) & 3;
    bool identity = mode & 0x08;
    bool null_session = mode & 0x10;
    bool null_out = mode & 0x20;
    unsigned key_mode = mode >> 6;

    UINT32 authn = authn_mode == 1 ? RPC_C_AUTHN_DEFAULT : RPC_C_AUTHN_WINNT;
    if (authn_mode == 2)
        authn = fuzz_u32(in);
    FWPM_SESSION0 session;
    memset(&session, 0, sizeof(session));
    if (key_mode == 1) {
        uint8_t raw[16];
        for (int i = 0; i < 16; i++)
            raw[i] = fuzz_u8(in);
        memcpy(&session.sessionKey, raw, sizeof(raw));
    } else if (key_mode == 2) { /* a key some open session has */
        uint16_t k = fuzz_u16(in);
        if (n_live > 0 && records[live[k % n_live]].key_known)
            session.sessionKey = records[live[k % n_live]].key;
    } else if (key_mode == 3) { /* a key a closed session had */
        uint8_t k = fuzz_u8(in);
        unsigned have = n_closed_keys < MAX_STALE ? n_closed_keys : MAX_STALE;
        if (have > 0)
            session.sessionKey = closed_keys[k % have];
    }
    uint8_t flags_mode = fuzz_u8(in);
    switch (flags_mode & 3) {
    case 1:
        session.flags = FWPM_SESSION_FLAG_DYNAMIC;
        break;
    case 2:
        session.flags = fuzz_u32(in);
        break;
    case 3:
        session.flags = FWPM_SESSION_FLAG_RESERVED | (flags_mode & 4 ? 1u : 0u);
        break;
    }
    if (flags_mode & 8)
        session.txnWaitTimeoutInMSec = fuzz_u32(in);
    wchar_t *name = read_string(in, 0);
    wchar_t *description = read_string(in, 1);
    session.displayData.name = name;
    session.displayData.description = description;

    int rec = record_alloc();
    if (rec < 0) { /* the model is full: a success could not be recorded */
        discard_string(name, 0);
        discard_string(description, 1);
        return;
    }

    struct expect errors = {.n = 0};
    if (server)
        allow(&errors, ERROR_INVALID_PARAMETER);
    if (authn != RPC_C_AUTHN_WINNT && authn != RPC_C_AUTHN_DEFAULT)
        allow(&errors, RPC_S_UNKNOWN_AUTHN_SERVICE);
    if (null_out)
        allow(&errors, FWP_E_NULL_POINTER);
    if (!null_session) {
        if (session.flags & ~FWPM_SESSION_FLAG_DYNAMIC)
            allow(&errors, FWP_E_INVALID_FLAGS);
        if (too_long(name) || too_long(description))
            allow(&errors, FWP_E_INVALID_PARAMETER);
        if (!guid_is_zero(&session.sessionKey) && record_by_key(&session.sessionKey) >= 0)
            allow(&errors, FWP_E_ALREADY_EXISTS);
    }

    SEC_WINNT_AUTH_IDENTITY_W auth;
    memset(&auth, 0xA5, sizeof(auth)); /* accepted and ignored: never read */
    HANDLE out = (HANDLE)(uintptr_t)0x5E5E;
    UINT64 before = arm(fault, fault_n);
    DWORD rc = FwpmEngineOpen0(server ? L"remote-host" : NULL, authn, identity ? &auth : NULL,
                               null_session ? NULL : &session, null_out ? NULL : &out);
    disarm(fault, rc, before, "open");
    expect_result(&errors, fault, rc, "FwpmEngineOpen0");

    if (rc == ERROR_SUCCESS) {
        CHECK(out != NULL && out != (HANDLE)(uintptr_t)0x5E5E, "open succeeded without a handle");
        CHECK(engine_of(out) < 0 && enum_of(out) < 0, "open returned a handle already in use");
        struct record *r = &records[rec];
        if (!null_session) {
            r->key = session.sessionKey;
            r->key_known = !guid_is_zero(&session.sessionKey);
            r->name = copy_string(name);
            r->description = copy_string(description);
            r->flags = session.flags;
            r->timeout = session.txnWaitTimeoutInMSec;
        }
        record_open(rec, out);
        discard_string(name, 0);
        discard_string(description, 1);
        if (!r->key_known)
            verify_all(rec); /* learn the generated key */
    } else {
        discard_string(name, 0);
        discard_string(description, 1);
        record_release(rec);
        CHECK(out == (HANDLE)(uintptr_t)0x5E5E, "a failed open wrote the handle");
    }
    check_open_sessions();
}

/* Invalidates every enumeration handle of a closed session. */
static void drop_enums_of(int rec)
{
    for (int i = 0; i < MAX_ENUMS; i++)
        if (enums[i].used && enums[i].owner == rec) {
            remember_stale(stale_enums, &n_stale_enums, enums[i].handle);
            enum_drop(i);
        }
}

/* Closes an engine handle the model knows to be live (or not). */
static void close_handle(HANDLE h, bool fault, uint8_t fault_n)
{
    int rec = engine_of(h);
    struct expect errors = {.n = 0};
    if (rec < 0)
        allow(&errors, ERROR_INVALID_HANDLE);
    UINT64 before = arm(fault, fault_n);
    DWORD rc = FwpmEngineClose0(h);
    disarm(fault, rc, before, "close");
    expect_result(&errors, fault, rc, "FwpmEngineClose0");
    if (rc == ERROR_SUCCESS) {
        remember_stale(stale_engines, &n_stale_engines, h);
        drop_enums_of(rec);
        record_close(rec);
    }
}

static void op_close(struct fuzz_input *in, bool fault, uint8_t fault_n)
{
    close_handle(pick_engine(in, -1), fault, fault_n);
    check_open_sessions();
}

/* Count for the bulk operations: c < 240: c + 1; else (c - 239) * 512, up to
 * 8192 (a second tree level from 4097). Big counts are rare: they are slow. */
static int bulk_count(uint8_t c)
{
    return c < 240 ? c + 1 : (c - 239) * 512;
}

/* Opens many sessions with derived keys (so that no key needs discovering):
 * the tree and the hash table grow through several levels and sizes. */
static void op_open_many(struct fuzz_input *in, bool fault, uint8_t fault_n)
{
    int count = bulk_count(fuzz_u8(in));
    uint8_t mode = fuzz_u8(in);
    uint32_t seed = fuzz_u32(in);
    for (int i = 0; i < count; i++) {
        int rec = record_alloc();
        if (rec < 0)
            break;
        FWPM_SESSION0 session;
        memset(&session, 0, sizeof(session));
        session.sessionKey.Data1 = seed;
        session.sessionKey.Data2 = (uint16_t)i;
        session.sessionKey.Data3 = (uint16_t)(i >> 16);
        memcpy(session.sessionKey.Data4, "fwpmbulk", 8);
        session.flags = mode & 1;
        session.txnWaitTimeoutInMSec = (UINT32)i;
        wchar_t name[32];
        swprintf(name, 32, L"bulk %d", i);
        if (mode & 2)
            session.displayData.name = name;
        struct expect errors = {.n = 0};
        if (record_by_key(&session.sessionKey) >= 0)
            allow(&errors, FWP_E_ALREADY_EXISTS);
        bool armed = fault && i == 0;
        HANDLE out = NULL;
        UINT64 before = arm(armed, fault_n);
        DWORD rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &session, &out);
        disarm(armed, rc, before, "open");
        expect_result(&errors, armed, rc, "FwpmEngineOpen0 (many)");
        if (rc != ERROR_SUCCESS) {
            record_release(rec);
            continue;
        }
        CHECK(engine_of(out) < 0 && enum_of(out) < 0, "open returned a handle already in use");
        records[rec].key = session.sessionKey;
        records[rec].key_known = true;
        records[rec].name = copy_string(session.displayData.name);
        records[rec].flags = session.flags;
        records[rec].timeout = session.txnWaitTimeoutInMSec;
        record_open(rec, out);
    }
    check_open_sessions();
}

/* Closes many live sessions, from a chosen position of the live set. */
static void op_close_many(struct fuzz_input *in, bool fault, uint8_t fault_n)
{
    int count = bulk_count(fuzz_u8(in));
    uint16_t from = fuzz_u16(in);
    for (int i = 0; i < count && n_live > 0; i++)
        close_handle(records[live[(from + i) % n_live]].handle, fault && i == 0, fault_n);
    check_open_sessions();
}

static const int *sort_snap; /* the snapshot by_key sorts positions of */

static int by_key(const void *a, const void *b)
{
    return memcmp(&records[sort_snap[*(const int *)a]].key,
                  &records[sort_snap[*(const int *)b]].key, sizeof(GUID));
}

static void op_create_enum(struct fuzz_input *in, bool fault, uint8_t fault_n)
{
    uint8_t mode = fuzz_u8(in);
    bool null_out = mode & 1;
    unsigned template_mode = (mode >> 1) & 3;
    FWPM_SESSION_ENUM_TEMPLATE0 tmpl = {.reserved = 0};
    if (template_mode == 2)
        tmpl.reserved = fuzz_u64(in) | (mode & 0x80 ? 0 : 1);
    HANDLE engine = pick_engine(in, -1);
    int rec = engine_of(engine);
    int slot = -1;
    for (int i = 0; i < MAX_ENUMS && slot < 0; i++)
        if (!enums[i].used)
            slot = i;
    if (slot < 0)
        return;

    struct expect errors = {.n = 0};
    if (null_out)
        allow(&errors, FWP_E_NULL_POINTER);
    if (template_mode == 2 && tmpl.reserved != 0)
        allow(&errors, FWP_E_RESERVED);
    if (rec < 0)
        allow(&errors, ERROR_INVALID_HANDLE);
    HANDLE out = (HANDLE)(uintptr_t)0x5E5E;
    UINT64 before = arm(fault, fault_n);
    DWORD rc = FwpmSessionCreateEnumHandle0(
        engine, template_mode == 1 || template_mode == 2 ? &tmpl : NULL, null_out ? NULL : &out);
    disarm(fault, rc, before, "create");
    expect_result(&errors, fault, rc, "FwpmSessionCreateEnumHandle0");
    if (rc != ERROR_SUCCESS) {
        CHECK(out == (HANDLE)(uintptr_t)0x5E5E, "a failed create wrote the handle");
        return;
    }
    CHECK(out != NULL && out != (HANDLE)(uintptr_t)0x5E5E, "create succeeded without a handle");
    CHECK(engine_of(out) < 0 && enum_of(out) < 0, "create returned a handle already in use");
    struct enum_model *m = &enums[slot];
    m->used = true;
    m->handle = out;
    m->owner = rec;
    m->size = m->remaining = n_live;
    m->snap = xcalloc((size_t)n_live, sizeof(int));
    m->delivered = xcalloc((size_t)n_live, sizeof(bool));
    m->by_key = xcalloc((size_t)n_live, sizeof(int));
    for (int i = 0; i < n_live; i++) {
        m->snap[i] = live[i];
        records[live[i]].refs++;
        m->by_key[i] = i;
    }
    sort_snap = m->snap;
    qsort(m->by_key, (size_t)m->size, sizeof(int), by_key);
}

/* The snapshot position of key in enumeration m, or -1. */
static int snapshot_position(const struct enum_model *m, const GUID *key)
{
    int lo = 0, hi = m->size - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = memcmp(&records[m->snap[m->by_key[mid]]].key, key, sizeof(GUID));
        if (c == 0)
            return m->by_key[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Which errors apply to (engine, enumeration handle) for page and destroy. */
static void handle_pair_errors(struct expect *errors, int rec, int en)
{
    if (rec < 0 || en < 0)
        allow(errors, ERROR_INVALID_HANDLE);
    else if (enums[en].owner != rec)
        allow(errors, FWP_E_WRONG_SESSION);
}

static void op_page(struct fuzz_input *in, bool fault, uint8_t fault_n)
{
    HANDLE e = pick_enum(in);
    int en = enum_of(e);
    HANDLE engine = pick_engine(in, en);
    int rec = engine_of(engine);
    uint8_t req_mode = fuzz_u8(in);
    UINT32 requested;
    int remaining = en >= 0 ? enums[en].remaining : 0;
    switch (req_mode % 8) {
    case 0:
        requested = 0;
        break;
    case 1:
        requested = 1;
        break;
    case 2:
        requested = fuzz_u8(in);
        break;
    case 3:
        requested = INFINITE;
        break;
    case 4:
        requested = fuzz_u32(in);
        break;
    case 5:
        requested = (UINT32)remaining;
        break;
    case 6:
        requested = (UINT32)remaining + 1;
        break;
    default:
        requested = 0x80000000u;
        break;
    }
    uint8_t mode = fuzz_u8(in);
    bool null_entries = mode & 1, null_count = mode & 2;
    int slot = -1;
    for (int i = 0; i < MAX_ARRAYS && slot < 0; i++)
        if (!arrays[i].used)
            slot = i;
    if (slot < 0)
        return;

    struct expect errors = {.n = 0};
    if (null_entries || null_count)
        allow(&errors, FWP_E_NULL_POINTER);
    handle_pair_errors(&errors, rec, en);
    FWPM_SESSION0 **entries = (FWPM_SESSION0 **)(uintptr_t)0x5E5E;
    UINT32 n = 0xDEADu;
    UINT64 before = arm(fault, fault_n);
    DWORD rc = FwpmSessionEnum0(engine, e, requested, null_entries ? NULL : &entries,
                                null_count ? NULL : &n);
    disarm(fault, rc, before, "page");
    expect_result(&errors, fault, rc, "FwpmSessionEnum0");
    if (rc != ERROR_SUCCESS) {
        CHECK(entries == (FWPM_SESSION0 **)(uintptr_t)0x5E5E && n == 0xDEADu,
              "a failed page wrote its out-parameters");
        return;
    }
    struct enum_model *m = &enums[en];
    UINT32 want = requested < (UINT32)m->remaining ? requested : (UINT32)m->remaining;
    CHECK(n == want, "page of %u entries; requested %u with %d left", n, requested, m->remaining);
    if (n == 0) {
        CHECK(entries == NULL, "an empty page with a non-NULL array");
        return;
    }
    CHECK(entries != NULL && entries != (FWPM_SESSION0 **)(uintptr_t)0x5E5E,
          "a page of %u entries without an array", n);
    struct array_model *a = &arrays[slot];
    a->used = true;
    a->entries = entries;
    a->n = n;
    a->rec = xcalloc(n, sizeof(int));
    for (UINT32 i = 0; i < n; i++) {
        int pos = snapshot_position(m, &entries[i]->sessionKey);
        CHECK(pos >= 0, "a page delivered a session that is not in the snapshot");
        CHECK(!m->delivered[pos], "a page delivered a session twice");
        m->delivered[pos] = true;
        a->rec[i] = m->snap[pos];
        records[a->rec[i]].refs++;
        check_entry(entries[i], &records[a->rec[i]]);
    }
    m->remaining -= (int)n;
}

static void op_destroy(struct fuzz_input *in, bool fault, uint8_t fault_n)
{
    HANDLE e = pick_enum(in);
    int en = enum_of(e);
    HANDLE engine = pick_engine(in, en);
    int rec = engine_of(engine);
    struct expect errors = {.n = 0};
    handle_pair_errors(&errors, rec, en);
    UINT64 before = arm(fault, fault_n);
    DWORD rc = FwpmSessionDestroyEnumHandle0(engine, e);
    disarm(fault, rc, before, "destroy");
    expect_result(&errors, fault, rc, "FwpmSessionDestroyEnumHandle0");
    if (rc == ERROR_SUCCESS) {
        remember_stale(stale_enums, &n_stale_enums, e);
        enum_drop(en);
    }
}

/* Frees an outstanding array after checking that its entries are intact. */
static void free_array(int i)
{
    struct array_model *a = &arrays[i];
    for (UINT32 j = 0; j < a->n; j++)
        check_entry(a->entries[j], &records[a->rec[j]]);
    FWPM_SESSION0 **p = a->entries;
    FwpmFreeMemory0((void **)&p);
    CHECK(p == NULL, "FwpmFreeMemory0 did not set the pointer to NULL");
    for (UINT32 j = 0; j < a->n; j++)
        record_unref(a->rec[j]);
    free(a->rec);
    memset(a, 0, sizeof(*a));
}

static void op_free(struct fuzz_input *in, bool fault, uint8_t fault_n)
{
    uint8_t k = fuzz_u8(in);
    if (fault)
        memory_fail_nth(fault_n);
    if (k % 4 == 0) {
        FwpmFreeMemory0(NULL);
    } else if (k % 4 == 1) {
        void *p = NULL;
        FwpmFreeMemory0(&p);
        CHECK(p == NULL, "FwpmFreeMemory0 of NULL changed the pointer");
    } else {
        int n = array_count();
        if (n > 0) {
            int i = 0;
            for (int seen = -1; i < MAX_ARRAYS; i++)
                if (arrays[i].used && ++seen == (k >> 2) % n)
                    break;
            free_array(i);
        }
    }
    memory_fail_nth(0);
}

static void op_verify(struct fuzz_input *in)
{
    uint8_t k = fuzz_u8(in);
    if (n_live > 0)
        verify_all(live[k % n_live]);
}

/* ---- one input --------------------------------------------------------- */

static void setup_once(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    tracing = getenv("FWPM_FUZZ_TRACE") != NULL;
    setup_records();
    my_pid = (DWORD)getpid();
    my_uid = geteuid();
    struct passwd *pw = getpwuid(my_uid);
    if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != 0) {
        size_t i = 0;
        bool ascii = true;
        for (; pw->pw_name[i] != 0 && i + 1 < sizeof(my_username) / sizeof(wchar_t); i++) {
            ascii = ascii && (unsigned char)pw->pw_name[i] < 0x80;
            my_username[i] = (unsigned char)pw->pw_name[i];
        }
        my_username[i] = 0;
        my_username_known = ascii && pw->pw_name[i] == 0;
    } else {
        swprintf(my_username, sizeof(my_username) / sizeof(wchar_t), L"%u", (unsigned)my_uid);
        my_username_known = true;
    }
    FwpmEngineClose0(NULL); /* sets the engine up before the first baseline */
}

static void finish_input(UINT64 base_bytes, UINT64 base_snapshots)
{
    op_index = ~0u;
    if (n_live > 0)
        verify_all(live[0]);
    for (int i = 0; i < MAX_ARRAYS; i++)
        if (arrays[i].used)
            free_array(i);
    /* Stale values stay invalid. */
    for (unsigned i = 0; i < n_stale_engines && i < MAX_STALE; i++) {
        HANDLE out = NULL;
        DWORD rc = FwpmSessionCreateEnumHandle0(stale_engines[i], NULL, &out);
        CHECK(rc == ERROR_INVALID_HANDLE, "a closed engine handle made an enum handle: %s",
              fwpm_error_name(rc));
    }
    if (n_live > 0)
        for (unsigned i = 0; i < n_stale_enums && i < MAX_STALE; i++) {
            DWORD rc = FwpmSessionDestroyEnumHandle0(records[live[0]].handle, stale_enums[i]);
            CHECK(rc == ERROR_INVALID_HANDLE, "a destroyed enum handle was destroyed again: %s",
                  fwpm_error_name(rc));
        }
    while (n_live > 0) {
        int rec = live[n_live - 1];
        DWORD rc = FwpmEngineClose0(records[rec].handle);
        CHECK(rc == ERROR_SUCCESS, "closing at the end: %s", fwpm_error_name(rc));
        drop_enums_of(rec);
        record_close(rec);
    }
    FWPM_MEMORY_STATS0 st = stats_now(true);
    CHECK(st.openSessions == 0, "%llu sessions open after closing all",
          (unsigned long long)st.openSessions);
    CHECK(st.liveBytes == base_bytes, "live bytes %llu after everything closed, %llu before",
          (unsigned long long)st.liveBytes, (unsigned long long)base_bytes);
    CHECK(st.liveSnapshots == base_snapshots, "%llu snapshot versions live, %llu before",
          (unsigned long long)st.liveSnapshots, (unsigned long long)base_snapshots);
    CHECK(n_free_records == MAX_RECORDS, "model: %d records still referenced",
          MAX_RECORDS - n_free_records);
    n_stale_engines = n_stale_enums = n_closed_keys = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    FWPM_MEMORY_STATS0 base = stats_now(true);
    op_index = 0;
    CHECK(base.openSessions == 0, "sessions open before the input");
    struct fuzz_input in = {data, size};
    for (; in.n > 0; op_index++) {
        uint8_t op = fuzz_u8(&in);
        bool fault = (op & 0xC0) == 0xC0;
        uint8_t fault_n = fault ? (uint8_t)(1 + fuzz_u8(&in) % 16) : 0;
        switch ((op & 0x3F) % 10) {
        case 0:
            op_open(&in, fault, fault_n);
            break;
        case 1:
            op_close(&in, fault, fault_n);
            break;
        case 2:
            op_create_enum(&in, fault, fault_n);
            break;
        case 3:
            op_page(&in, fault, fault_n);
            break;
        case 4:
            op_destroy(&in, fault, fault_n);
            break;
        case 5:
            op_free(&in, fault, fault_n);
            break;
        case 6:
            op_verify(&in);
            break;
        case 7:
            fwpm_reclaim();
            break;
        case 8:
            op_open_many(&in, fault, fault_n);
            break;
        default:
            op_close_many(&in, fault, fault_n);
            break;
        }
    }
    finish_input(base.liveBytes, base.liveSnapshots);
    return 0;
}
