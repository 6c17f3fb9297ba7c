/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_checker.c - the stress checker against hand-made histories.
 *
 * Every invariant gets a valid history (which must give zero violations) and
 * broken ones (each of which must be reported, with the expected count and
 * description), as rows of four tables: snapshot histories, page streams,
 * single entries and memory figures. Also the violation log and the latency
 * histograms' arithmetic. Prints one line per row and "N passed, N failed";
 * exits non-zero on any failure.
 */
#include "checker.h"
#include "latency.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- a tiny harness ------------------------------------------------------------ */

static const char *current_test;
static bool current_ok;

static void expect(bool ok, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void expect(bool ok, const char *format, ...)
{
    if (ok)
        return;
    current_ok = false;
    va_list args;
    va_start(args, format);
    fprintf(stderr, "FAIL %s: ", current_test);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

/* The log holds exactly `count` violations, and the first description
 * contains `needle` (when given). */
static void expect_violations(const struct violations *v, uint64_t count, const char *needle)
{
    expect(v->count == count, "expected %llu violation(s), got %llu%s%s", (unsigned long long)count,
           (unsigned long long)v->count, v->kept ? ": " : "", v->kept ? v->text[0] : "");
    if (needle != NULL && count > 0)
        expect(v->kept > 0 && strstr(v->text[0], needle) != NULL,
               "expected a description with \"%s\", got \"%s\"", needle,
               v->kept ? v->text[0] : "(none)");
}

/* ---- fake entries ---------------------------------------------------------------- */

#define PID 4242u
#define UID 1000u
#define WRITERS 3u
#define STANDING 4u
#define ANONYMOUS 2u

static const struct checker_world world = {
    .writers = WRITERS,
    .standing = STANDING,
    .anonymous = ANONYMOUS,
    .pid = PID,
    .uid = UID,
    .username = L"alice",
};

/* An entry as the engine would return it, with storage for its SID (two
 * sub-authorities) and strings. */
struct fake {
    FWPM_SESSION0 s;
    struct {
        SID sid;
        DWORD second_sub_authority;
    } sid;
    wchar_t name[CHECKER_NAME_MAX];
    wchar_t username[16];
};

static void fill_identity(struct fake *f)
{
    f->s.processId = PID;
    f->s.kernelMode = FALSE;
    f->sid.sid.Revision = 1;
    f->sid.sid.SubAuthorityCount = 2;
    memset(f->sid.sid.IdentifierAuthority.Value, 0, 6);
    f->sid.sid.IdentifierAuthority.Value[5] = 22;
    f->sid.sid.SubAuthority[0] = 1;
    f->sid.second_sub_authority = UID;
    f->s.sid = &f->sid.sid;
    wcscpy(f->username, L"alice");
    f->s.username = f->username;
}

static void generated_key(GUID *key, unsigned salt)
{
    memset(key, 0, sizeof(*key));
    key->Data1 = 0x12345678u + salt;
    key->Data3 = (uint16_t)(0x4000u | (salt & 0x0FFFu));
    key->Data4[0] = 0x80u;
    key->Data4[7] = (uint8_t)salt;
}

static void fake_writer(struct fake *f, unsigned w, uint64_t g)
{
    checker_writer_session(&f->s, f->name, w, g);
    fill_identity(f);
}

static void fake_standing(struct fake *f, unsigned i)
{
    checker_standing_session(&f->s, f->name, i);
    generated_key(&f->s.sessionKey, 100 + i);
    fill_identity(f);
}

static void fake_anonymous(struct fake *f, unsigned i)
{
    memset(&f->s, 0, sizeof(f->s));
    generated_key(&f->s.sessionKey, 200 + i);
    fill_identity(f);
}

/* The entries of one snapshot, as delivered. */
struct history {
    struct fake fakes[64];
    FWPM_SESSION0 *entries[64];
    size_t n;
};

static struct fake *history_add(struct history *h)
{
    struct fake *f = &h->fakes[h->n];
    h->entries[h->n] = &f->s;
    h->n++;
    return f;
}

/* A complete, valid snapshot: writer w at state states[w], every standing and
 * anonymous session once. In this order, which edits' indexes refer to: the
 * writers' generations (writer 0 first), p0..p3, the anonymous sessions. */
static void history_valid(struct history *h, const uint64_t states[WRITERS])
{
    memset(h, 0, sizeof(*h));
    for (unsigned w = 0; w < WRITERS; w++) {
        uint64_t g = states[w] / 2;
        fake_writer(history_add(h), w, g);
        if (states[w] % 2 == 1)
            fake_writer(history_add(h), w, g + 1);
    }
    for (unsigned i = 0; i < STANDING; i++)
        fake_standing(history_add(h), i);
    for (unsigned i = 0; i < ANONYMOUS; i++)
        fake_anonymous(history_add(h), i);
}

/* A deterministic shuffle: the order of a snapshot means nothing. */
static void history_shuffle(struct history *h, uint64_t seed)
{
    for (size_t i = h->n; i > 1; i--) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        size_t j = (size_t)(seed >> 33) % i;
        FWPM_SESSION0 *t = h->entries[i - 1];
        h->entries[i - 1] = h->entries[j];
        h->entries[j] = t;
    }
}

static void history_remove(struct history *h, size_t at)
{
    memmove(&h->entries[at], &h->entries[at + 1], (h->n - at - 1) * sizeof(h->entries[0]));
    h->n--;
}

/* ---- snapshot histories ------------------------------------------------------------- */

/* One change made to a valid snapshot before it is checked. */
enum edit_kind {
    KEEP = 0,      /* none (ends an edit list) */
    REMOVE,        /* drop entry a */
    REPEAT,        /* deliver entry a once more, at the end */
    TRUNCATE,      /* keep only the first a entries */
    ADD_WRITER,    /* add generation b of writer a */
    ADD_STANDING,  /* add standing session p<a> */
    ADD_ANONYMOUS, /* add an anonymous session (key salt a) */
    NO_USERNAME,   /* entry a's username is NULL */
};

struct edit {
    enum edit_kind kind;
    unsigned a;
    uint64_t b;
};

#define MAX_SNAPSHOTS 5

/* One observer's snapshots, in order: each a valid snapshot at the given
 * writer states, the last one edited. Run in four entry orders. */
struct history_case {
    const char *what;
    unsigned snapshots;
    uint64_t states[MAX_SNAPSHOTS][WRITERS];
    struct edit edits[3];
    bool partial; /* an enumeration abandoned before its end */
    bool bounded; /* checked against bounds_lo and bounds_hi */
    uint64_t violations;
    const char *needle; /* in the first description */
};

/* Per writer: completed before the snapshot was requested, begun by the time
 * it returned. */
static const uint64_t bounds_lo[WRITERS] = {2, 4, 6}, bounds_hi[WRITERS] = {3, 4, 8};

/* Each row: what, snapshots, their writer states, edits of the last one,
 * partial, bounded, violations expected, the first description. */
/* clang-format off */
static const struct history_case history_cases[] = {
    {"valid: every writer at state 0", 1, {{0, 0, 0}}, {{KEEP}}, false, false, 0, NULL},
    {"valid: writers at states 1, 2, 3", 1, {{1, 2, 3}}, {{KEEP}}, false, false, 0, NULL},
    {"valid: a generation past a million", 1, {{7, 8, 1000001}}, {{KEEP}}, false, false, 0, NULL},
    {"valid: writers at states 2, 5, 9", 1, {{2, 5, 9}}, {{KEEP}}, false, false, 0, NULL},
    {"a writer missing", 1, {{2, 4, 6}}, {{REMOVE, 1, 0}}, false, false, 1,
     "writer 1 missing"},
    {"a writer with g1 and g3", 1, {{2, 4, 6}}, {{ADD_WRITER, 0, 3}}, false, false, 1,
     "not consecutive"},
    {"a writer with three generations", 1, {{3, 4, 6}}, {{ADD_WRITER, 0, 3}}, false, false, 1,
     "3 generations"},
    {"a writer's entry twice", 1, {{2, 4, 6}}, {{REPEAT, 0, 0}}, false, false, 1,
     "w0/g1 delivered twice"},
    {"two standing sessions missing", 1, {{2, 4, 6}}, {{REMOVE, 4, 0}, {REMOVE, 4, 0}}, false,
     false, 2, "2 standing session(s) missing, the first p1"},
    {"a standing session twice", 1, {{2, 4, 6}}, {{REPEAT, 5, 0}}, false, false, 1,
     "p2 delivered twice"},
    {"an anonymous session fewer", 1, {{2, 4, 6}}, {{REMOVE, 8, 0}}, false, false, 1,
     "1 anonymous sessions, expected 2"},
    {"an anonymous session more", 1, {{2, 4, 6}}, {{ADD_ANONYMOUS, 9, 0}}, false, false, 1,
     "3 anonymous sessions"},
    {"a writer that does not exist", 1, {{2, 4, 6}}, {{ADD_WRITER, 7, 0}}, false, false, 1,
     "only 3 writers"},
    {"a standing session that does not exist", 1, {{2, 4, 6}}, {{ADD_STANDING, 9, 0}}, false,
     false, 1, "unknown session p9"},
    {"a malformed entry also counts as missing", 1, {{2, 4, 6}}, {{NO_USERNAME, 4, 0}}, false,
     false, 2, "NULL username"},
    {"partial: missing entries are fine", 1, {{3, 4, 6}}, {{TRUNCATE, 4, 0}}, true, false, 0,
     NULL},
    {"partial: a duplicate is not", 1, {{3, 4, 6}}, {{TRUNCATE, 4, 0}, {REPEAT, 2, 0}}, true,
     false, 1, "delivered twice"},
    {"partial: a broken chain is not", 1, {{3, 4, 6}}, {{TRUNCATE, 2, 0}, {ADD_WRITER, 0, 5}},
     true, false, 1, "3 generations"},
    {"bounded: within the bounds", 1, {{3, 4, 7}}, {{KEEP}}, false, true, 0, NULL},
    {"bounded: older than what was completed before", 1, {{3, 2, 7}}, {{KEEP}}, false, true, 1,
     "writer 1 at state 2, but it had completed state 4"},
    {"bounded: newer than what was begun by the return", 1, {{3, 4, 9}}, {{KEEP}}, false, true,
     1, "writer 2 at state 9, but it had started no later than state 8"},
    {"monotonic: states only grow", 4, {{0, 0, 0}, {1, 0, 2}, {1, 3, 2}, {6, 3, 2}}, {{KEEP}},
     false, false, 0, NULL},
    {"monotonic: a writer goes back", 5,
     {{0, 0, 0}, {1, 0, 2}, {1, 3, 2}, {6, 3, 2}, {6, 2, 2}}, {{KEEP}}, false, false, 1,
     "writer 1 went back from state 3 to 2"},
    {"shared pagers: two both received one entry", 1, {{1, 4, 5}}, {{REPEAT, 4, 0}}, false,
     false, 1, "delivered twice"},
    {"shared pagers: the cursor skipped an entry", 1, {{1, 4, 5}}, {{REMOVE, 6, 0}}, false,
     false, 1, "missing, the first p1"},
};
/* clang-format on */

static void history_edit(struct history *h, const struct edit *e)
{
    switch (e->kind) {
    case KEEP:
        break;
    case REMOVE:
        history_remove(h, e->a);
        break;
    case REPEAT:
        h->entries[h->n++] = h->entries[e->a];
        break;
    case TRUNCATE:
        h->n = e->a;
        break;
    case ADD_WRITER:
        fake_writer(history_add(h), e->a, e->b);
        break;
    case ADD_STANDING:
        fake_standing(history_add(h), e->a);
        break;
    case ADD_ANONYMOUS:
        fake_anonymous(history_add(h), e->a);
        break;
    case NO_USERNAME:
        h->entries[e->a]->username = NULL;
        break;
    }
}

/* Runs one snapshot check over the entries. */
static void check_entries(struct violations *v, FWPM_SESSION0 *const *entries, size_t n,
                          bool complete, const uint64_t *lo, const uint64_t *hi, uint64_t *last)
{
    struct snapshot_check c;
    if (!snapshot_check_init(&c, &world)) {
        expect(false, "out of memory");
        return;
    }
    snapshot_check_begin(&c, "test snapshot");
    for (size_t i = 0; i < n; i++)
        snapshot_check_entry(&c, v, entries[i]);
    snapshot_check_end(&c, v, complete, lo, hi, last);
    snapshot_check_destroy(&c);
}

static void run_history(const void *row)
{
    const struct history_case *t = row;
    for (uint64_t seed = 0; seed < 4; seed++) { /* the order of a snapshot means nothing */
        static struct history h;
        uint64_t last[WRITERS] = {0};
        struct violations v;
        violations_init(&v);
        for (unsigned k = 0; k < t->snapshots; k++) {
            history_valid(&h, t->states[k]);
            if (k + 1 == t->snapshots)
                for (size_t e = 0; e < sizeof(t->edits) / sizeof(t->edits[0]); e++)
                    history_edit(&h, &t->edits[e]);
            history_shuffle(&h, seed);
            check_entries(&v, h.entries, h.n, !t->partial, t->bounded ? bounds_lo : NULL,
                          t->bounded ? bounds_hi : NULL, last);
        }
        expect_violations(&v, t->violations, t->needle);
        if (t->violations == 0 && !t->partial)
            expect(memcmp(last, t->states[t->snapshots - 1], sizeof(last)) == 0,
                   "each writer's last state is the last snapshot's");
    }
}

/* ---- page streams --------------------------------------------------------------------- */

#define NO_ARRAY (-1)   /* first: the array is NULL */
#define REST UINT32_MAX /* returned: every entry from first on */
#define MAX_PAGE_CALLS 6
#define STREAMS 3

/* One FwpmSessionEnum0 result as a caller saw it. */
struct page_call {
    unsigned stream; /* which caller */
    UINT32 requested;
    int first; /* index of the array's first entry in the snapshot, or NO_ARRAY */
    UINT32 returned;
    bool exhausted_after; /* the caller's stream has seen its end */
};

struct pages_case {
    const char *what;
    uint64_t states[WRITERS]; /* the snapshot paged */
    uint64_t seed;            /* its entry order */
    unsigned calls;
    struct page_call call[MAX_PAGE_CALLS];
    bool union_is_snapshot; /* all the pages together are the whole snapshot */
    uint64_t violations;
    const char *needle;
};

/* Each row: what, the snapshot's writer states and order, the calls
 * {stream, requested, first, returned, exhausted after}, whether the pages
 * together are the snapshot, violations expected, the first description. */
/* clang-format off */
static const struct pages_case pages_cases[] = {
    {"valid: a zero request, a page, a short page, then empty ones", {0, 0, 0}, 0, 5,
     {{0, 0, NO_ARRAY, 0, false}, {0, 5, 0, 5, false}, {0, INFINITE, 5, REST, true},
      {0, 10, NO_ARRAY, 0, true}, {0, INFINITE, NO_ARRAY, 0, true}},
     true, 0, NULL},
    {"a page over its request", {0, 0, 0}, 0, 1, {{0, 4, 0, 5, false}},
     false, 1, "page of 5 entries for a request of 4"},
    {"entries for a request of 0", {0, 0, 0}, 0, 1, {{0, 0, 0, 1, false}},
     false, 1, "request of 0"},
    {"entries after a short page", {0, 0, 0}, 0, 2, {{0, 8, 0, 3, true}, {0, 8, 3, 2, true}},
     false, 1, "2 entries after a short page"},
    {"entries with a NULL array", {0, 0, 0}, 0, 1, {{0, 8, NO_ARRAY, 3, true}},
     false, 1, "with a NULL array"},
    {"an empty page with an array", {0, 0, 0}, 0, 1, {{0, 8, 0, 0, true}},
     false, 1, "empty page with a non-NULL array"},
    {"shared pagers: three callers' slices of one snapshot", {1, 4, 5}, 7, 6,
     {{0, 3, 0, 3, false}, {1, 1, 3, 1, false}, {2, 4, 4, 4, false},
      {1, 16, 8, REST, true}, {0, 2, NO_ARRAY, 0, true}, {2, 5, NO_ARRAY, 0, true}},
     true, 0, NULL},
};
/* clang-format on */

static void run_pages(const void *row)
{
    const struct pages_case *t = row;
    static struct history h;
    history_valid(&h, t->states);
    history_shuffle(&h, t->seed);
    struct page_stream streams[STREAMS];
    uint64_t pages[STREAMS] = {0}, delivered[STREAMS] = {0};
    for (unsigned s = 0; s < STREAMS; s++)
        page_stream_init(&streams[s]);
    FWPM_SESSION0 *all[64];
    size_t n = 0;
    struct violations v;
    violations_init(&v);
    for (unsigned k = 0; k < t->calls; k++) {
        const struct page_call *c = &t->call[k];
        FWPM_SESSION0 **entries = c->first == NO_ARRAY ? NULL : &h.entries[c->first];
        UINT32 returned = c->returned == REST ? (UINT32)(h.n - (size_t)c->first) : c->returned;
        checker_page(&streams[c->stream], &v, "p", c->requested, entries, returned);
        expect(streams[c->stream].exhausted == c->exhausted_after, "call %u: the stream is %s", k,
               c->exhausted_after ? "not at its end" : "at its end");
        pages[c->stream]++;
        delivered[c->stream] += returned;
        for (UINT32 i = 0; entries != NULL && i < returned; i++)
            all[n++] = entries[i];
    }
    for (unsigned s = 0; s < STREAMS; s++)
        expect(streams[s].pages == pages[s] && streams[s].delivered == delivered[s],
               "stream %u counted %llu pages of %llu entries", s,
               (unsigned long long)streams[s].pages, (unsigned long long)streams[s].delivered);
    if (t->union_is_snapshot) {
        expect(n == h.n, "the pages hold %zu entries of %zu", n, h.n);
        check_entries(&v, all, n, true, NULL, NULL, NULL);
    }
    expect_violations(&v, t->violations, t->needle);
}

/* ---- single entries -------------------------------------------------------------------- */

/* What is wrong with an entry. */
enum entry_change {
    AS_MADE = 0,
    NULL_USERNAME,
    USERNAME_BOB,
    SID_REVISION_2,
    ONE_SUB_AUTHORITY,
    AUTHORITY_5,
    OTHER_UID,
    NULL_SID,
    OTHER_PID,
    KERNEL_MODE,
    OTHER_GENERATIONS_KEY,
    NO_FLAGS,
    NULL_DESCRIPTION,
    KEY_NOT_GENERATED,
    A_DESCRIPTION,
    RENAMED,   /* displayData.name = name */
    LONG_NAME, /* a name longer than any fwpm-stress opens */
    NULL_ENTRY,
};

struct entry_case {
    const char *what;
    enum entry_kind made; /* ENTRY_WRITER, ENTRY_STANDING or ENTRY_ANONYMOUS */
    unsigned index;
    uint64_t generation;
    enum entry_change change;
    const wchar_t *name;
    /* ENTRY_BAD: one violation with needle; otherwise none, and the entry
     * parsed as what it was made as. */
    enum entry_kind verdict;
    const char *needle;
};

static const struct entry_case entry_cases[] = {
    {"a writer's entry", ENTRY_WRITER, 2, 77, AS_MADE, NULL, ENTRY_WRITER, NULL},
    {"a standing entry", ENTRY_STANDING, 3, 0, AS_MADE, NULL, ENTRY_STANDING, NULL},
    {"an anonymous entry", ENTRY_ANONYMOUS, 0, 0, AS_MADE, NULL, ENTRY_ANONYMOUS, NULL},
    {"no username", ENTRY_WRITER, 1, 5, NULL_USERNAME, NULL, ENTRY_BAD, "NULL username"},
    {"another username", ENTRY_STANDING, 1, 0, USERNAME_BOB, NULL, ENTRY_BAD, "username \"bob\""},
    {"SID revision 2", ENTRY_WRITER, 1, 5, SID_REVISION_2, NULL, ENTRY_BAD,
     "malformed SID (revision 2"},
    {"SID with one sub-authority", ENTRY_WRITER, 1, 5, ONE_SUB_AUTHORITY, NULL, ENTRY_BAD,
     "malformed SID"},
    {"SID of authority 5", ENTRY_WRITER, 1, 5, AUTHORITY_5, NULL, ENTRY_BAD, "malformed SID"},
    {"SID of another uid", ENTRY_WRITER, 1, 5, OTHER_UID, NULL, ENTRY_BAD,
     "S-1-22-1-1001, expected S-1-22-1-1000"},
    {"no SID", ENTRY_WRITER, 1, 5, NULL_SID, NULL, ENTRY_BAD, "NULL SID"},
    {"another process id", ENTRY_ANONYMOUS, 1, 0, OTHER_PID, NULL, ENTRY_BAD,
     "processId 4243, expected 4242"},
    {"kernel mode", ENTRY_STANDING, 0, 0, KERNEL_MODE, NULL, ENTRY_BAD, "kernelMode 1"},
    {"another generation's key", ENTRY_WRITER, 1, 5, OTHER_GENERATIONS_KEY, NULL, ENTRY_BAD,
     "wrong session key"},
    {"a writer without flags", ENTRY_WRITER, 1, 5, NO_FLAGS, NULL, ENTRY_BAD, "flags 0x0"},
    {"a writer without description", ENTRY_WRITER, 1, 5, NULL_DESCRIPTION, NULL, ENTRY_BAD,
     "wrong description"},
    {"a standing key not generated", ENTRY_STANDING, 2, 0, KEY_NOT_GENERATED, NULL, ENTRY_BAD,
     "not a generated version-4 GUID"},
    {"an anonymous session with a description", ENTRY_ANONYMOUS, 1, 0, A_DESCRIPTION, NULL,
     ENTRY_BAD, "anonymous session has a description"},
    {"name x1", ENTRY_STANDING, 0, 0, RENAMED, L"x1", ENTRY_BAD, "unknown session"},
    {"name w1", ENTRY_STANDING, 0, 0, RENAMED, L"w1", ENTRY_BAD, "unknown session"},
    {"name w1/g", ENTRY_STANDING, 0, 0, RENAMED, L"w1/g", ENTRY_BAD, "unknown session"},
    {"name w01/g1", ENTRY_STANDING, 0, 0, RENAMED, L"w01/g1", ENTRY_BAD, "unknown session"},
    {"name w1/g1x", ENTRY_STANDING, 0, 0, RENAMED, L"w1/g1x", ENTRY_BAD, "unknown session"},
    {"name p", ENTRY_STANDING, 0, 0, RENAMED, L"p", ENTRY_BAD, "unknown session"},
    {"name 'p1 '", ENTRY_STANDING, 0, 0, RENAMED, L"p1 ", ENTRY_BAD, "unknown session"},
    {"name w70000/g1", ENTRY_STANDING, 0, 0, RENAMED, L"w70000/g1", ENTRY_BAD, "unknown session"},
    {"an empty name", ENTRY_STANDING, 0, 0, RENAMED, L"", ENTRY_BAD, "unknown session"},
    {"a name of 99 characters", ENTRY_STANDING, 0, 0, LONG_NAME, NULL, ENTRY_BAD,
     "longer than any"},
    {"no entry at all", ENTRY_STANDING, 0, 0, NULL_ENTRY, NULL, ENTRY_BAD, "NULL entry"},
};

static void entry_change(struct fake *f, const struct entry_case *t, wchar_t *long_name)
{
    switch (t->change) {
    case AS_MADE:
    case NULL_ENTRY:
        break;
    case NULL_USERNAME:
        f->s.username = NULL;
        break;
    case USERNAME_BOB:
        wcscpy(f->username, L"bob");
        break;
    case SID_REVISION_2:
        f->sid.sid.Revision = 2;
        break;
    case ONE_SUB_AUTHORITY:
        f->sid.sid.SubAuthorityCount = 1;
        break;
    case AUTHORITY_5:
        f->sid.sid.IdentifierAuthority.Value[5] = 5;
        break;
    case OTHER_UID:
        f->sid.second_sub_authority = UID + 1;
        break;
    case NULL_SID:
        f->s.sid = NULL;
        break;
    case OTHER_PID:
        f->s.processId = PID + 1;
        break;
    case KERNEL_MODE:
        f->s.kernelMode = TRUE;
        break;
    case OTHER_GENERATIONS_KEY:
        f->s.sessionKey.Data4[7] ^= 1;
        break;
    case NO_FLAGS:
        f->s.flags = 0;
        break;
    case NULL_DESCRIPTION:
        f->s.displayData.description = NULL;
        break;
    case KEY_NOT_GENERATED:
        f->s.sessionKey.Data3 = 0x1000;
        break;
    case A_DESCRIPTION:
        f->s.displayData.description = L"x";
        break;
    case RENAMED:
        f->s.displayData.name = (wchar_t *)t->name;
        break;
    case LONG_NAME:
        wmemset(long_name, L'p', 99);
        long_name[99] = 0;
        f->s.displayData.name = long_name;
        break;
    }
}

static void run_entry(const void *row)
{
    const struct entry_case *t = row;
    struct fake f;
    if (t->made == ENTRY_WRITER)
        fake_writer(&f, t->index, t->generation);
    else if (t->made == ENTRY_STANDING)
        fake_standing(&f, t->index);
    else
        fake_anonymous(&f, t->index);
    wchar_t long_name[100];
    entry_change(&f, t, long_name);
    struct violations v;
    violations_init(&v);
    struct entry_id id = checker_entry(&world, &v, "entry", t->change == NULL_ENTRY ? NULL : &f.s);
    if (t->verdict == ENTRY_BAD) {
        expect(id.kind == ENTRY_BAD, "the entry was accepted");
        expect_violations(&v, 1, t->needle);
        return;
    }
    expect(id.kind == t->verdict, "parsed as kind %d", (int)id.kind);
    if (t->verdict != ENTRY_ANONYMOUS)
        expect(id.index == t->index, "parsed as index %u", id.index);
    if (t->verdict == ENTRY_WRITER)
        expect(id.generation == t->generation, "parsed as generation %llu",
               (unsigned long long)id.generation);
    expect_violations(&v, 0, NULL);
}

/* ---- memory ------------------------------------------------------------------------------ */

/* The figures after the run, as changes to memory_base (before it). */
struct memory_case {
    const char *what;
    int64_t bytes, allocations, infrastructure, sessions, snapshots;
    uint64_t violations;
    const char *needle;
};

static const FWPM_MEMORY_STATS0 memory_base = {.liveBytes = 1000,
                                               .liveAllocations = 3,
                                               .infrastructureBytes = 65536,
                                               .openSessions = 0,
                                               .liveSnapshots = 1};

static const struct memory_case memory_cases[] = {
    {"infrastructure kept for reuse is no leak", 0, 0, 65536, 0, 0, 0, NULL},
    {"a block more", 96, 1, 0, 0, 0, 1,
     "1096 bytes in 4 blocks after the run, 1000 bytes in 3 blocks"},
    {"the same bytes in a block fewer", 0, -1, 0, 0, 0, 1, "memory"},
    {"sessions left open", 0, 0, 0, 2, 0, 1, "2 sessions open"},
    {"snapshot versions left", 0, 0, 0, 0, 2, 1, "3 snapshot versions"},
};

static void run_memory(const void *row)
{
    const struct memory_case *t = row;
    FWPM_MEMORY_STATS0 end = memory_base;
    end.liveBytes += (UINT64)t->bytes;
    end.liveAllocations += (UINT64)t->allocations;
    end.infrastructureBytes += (UINT64)t->infrastructure;
    end.openSessions += (UINT64)t->sessions;
    end.liveSnapshots += (UINT64)t->snapshots;
    struct violations v;
    violations_init(&v);
    checker_memory(&v, &memory_base, &end);
    expect_violations(&v, t->violations, t->needle);
}

/* ---- the log ----------------------------------------------------------------------------------
 */

static void test_violation_log(void)
{
    struct violations a, b;
    violations_init(&a);
    violations_init(&b);
    for (int i = 0; i < 20; i++)
        violations_add(&a, "a%d", i);
    expect(a.count == 20 && a.kept == CHECKER_KEEP, "log keeps the first few and counts all");
    expect(strcmp(a.text[0], "a0") == 0 && strcmp(a.text[CHECKER_KEEP - 1], "a7") == 0,
           "log keeps the first descriptions");
    violations_add_n(&b, 5, "b%d", 0);
    expect(b.count == 5 && b.kept == 1, "add_n counts n under one description");
    violations_merge(&b, &a);
    expect(b.count == 25 && b.kept == CHECKER_KEEP, "merge adds counts");
    expect(strcmp(b.text[0], "b0") == 0 && strcmp(b.text[1], "a0") == 0, "merge order");
}

/* ---- latency ------------------------------------------------------------------------------------
 */

static void test_latency_buckets(void)
{
    uint64_t previous = 0;
    for (uint64_t ns = 0; ns < 100000; ns += 1 + ns / 50) {
        unsigned b = latency_bucket_of(ns);
        expect(b < LATENCY_BUCKETS, "bucket of %llu in range", (unsigned long long)ns);
        expect(latency_bucket_top(b) >= ns, "bucket top of %llu covers it", (unsigned long long)ns);
        expect(b == 0 || latency_bucket_top(b - 1) < ns, "bucket of %llu is the first to cover it",
               (unsigned long long)ns);
        expect(b >= previous, "buckets grow with the value");
        previous = b;
    }
    expect(latency_bucket_of(UINT64_MAX) == LATENCY_BUCKETS - 1, "the last bucket");
    expect(latency_bucket_top(LATENCY_BUCKETS - 1) == UINT64_MAX, "the last bucket's top");
}

static void test_latency_percentiles(void)
{
    static struct histogram h[2];
    histogram_init(&h[0]);
    histogram_init(&h[1]);
    for (uint64_t v = 1; v <= 1000; v++)
        histogram_record(&h[v % 2], v * 1000); /* 1 us .. 1 ms, over two threads */
    struct latency_summary s;
    latency_summary_init(&s);
    latency_summary_add(&s, &h[0]);
    latency_summary_add(&s, &h[1]);
    expect(s.count == 1000 && s.max == 1000000, "count and max");
    const double qs[] = {0.5, 0.9, 0.99};
    for (size_t i = 0; i < 3; i++) {
        double exact = qs[i] * 1000 * 1000;
        double got = (double)latency_percentile(&s, qs[i]);
        expect(got >= exact && got <= exact * 1.125, "p%g = %.0f, exact %.0f", qs[i] * 100, got,
               exact);
    }
    expect(latency_percentile(&s, 1.0) == 1000000, "p100 is the max");
    latency_summary_init(&s);
    expect(latency_percentile(&s, 0.5) == 0, "empty summary");
}

/* ---- runner ---------------------------------------------------------------------------- */

static unsigned passed, failed;

static void report(const char *table, const char *name)
{
    if (current_ok)
        passed++;
    else
        failed++;
    printf("%s %s: %s\n", current_ok ? "ok  " : "FAIL", table, name);
}

/* Runs every row of a table; each row type starts with its name (`what`). */
static void run_table(const char *table, const void *rows, size_t count, size_t size,
                      void (*run)(const void *row))
{
    for (size_t i = 0; i < count; i++) {
        const void *row = (const char *)rows + i * size;
        current_test = *(const char *const *)row;
        current_ok = true;
        run(row);
        report(table, current_test);
    }
}

#define ROWS(table) (sizeof(table) / sizeof(table[0]))

int main(void)
{
    run_table("snapshots", history_cases, ROWS(history_cases), sizeof(history_cases[0]),
              run_history);
    run_table("pages", pages_cases, ROWS(pages_cases), sizeof(pages_cases[0]), run_pages);
    run_table("entries", entry_cases, ROWS(entry_cases), sizeof(entry_cases[0]), run_entry);
    run_table("memory", memory_cases, ROWS(memory_cases), sizeof(memory_cases[0]), run_memory);
    static const struct {
        const char *name;
        void (*run)(void);
    } others[] = {
        {"violation log", test_violation_log},
        {"latency buckets", test_latency_buckets},
        {"latency percentiles", test_latency_percentiles},
    };
    for (size_t i = 0; i < ROWS(others); i++) {
        current_test = others[i].name;
        current_ok = true;
        others[i].run();
        report("other", others[i].name);
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
