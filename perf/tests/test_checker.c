/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_checker.c - the stress checker against hand-made histories.
 *
 * Every invariant gets a valid history (which must give zero violations) and
 * broken ones (each of which must be reported, with the expected count and
 * description). Also the latency histograms' arithmetic. Prints
 * "N passed, N failed" and exits non-zero on any failure.
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

/* A history under construction: entries of one snapshot. */
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
 * anonymous session once. */
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

static void check_history(struct violations *v, const struct history *h, bool complete)
{
    check_entries(v, h->entries, h->n, complete, NULL, NULL, NULL);
}

/* ---- snapshots ---------------------------------------------------------------------- */

static void test_valid_snapshots(void)
{
    static const uint64_t cases[][WRITERS] = {
        {0, 0, 0},
        {1, 2, 3},
        {7, 8, 1000001},
        {2, 5, 9},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        for (uint64_t seed = 0; seed < 4; seed++) {
            struct history h;
            history_valid(&h, cases[k]);
            history_shuffle(&h, seed);
            struct violations v;
            violations_init(&v);
            check_history(&v, &h, true);
            expect_violations(&v, 0, NULL);
        }
    }
}

static void test_writer_missing(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){2, 4, 6});
    history_remove(&h, 1); /* w1/g2, the only one of writer 1 */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "writer 1 missing");
}

static void test_non_consecutive_generations(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){2, 4, 6});
    fake_writer(history_add(&h), 0, 3); /* writer 0: g1 and g3 */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "not consecutive");
}

static void test_three_generations(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){3, 4, 6}); /* writer 0: g1, g2 */
    fake_writer(history_add(&h), 0, 3);       /* ... and g3 */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "3 generations");
}

static void test_writer_entry_twice(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){2, 4, 6});
    h.entries[h.n++] = h.entries[0]; /* w0/g1 again */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "w0/g1 delivered twice");
}

static void test_standing_missing(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){2, 4, 6});
    /* Entries: 3 writers, then p0..p3, then 2 anonymous. Drop p1 and p2. */
    history_remove(&h, 4);
    history_remove(&h, 4);
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 2, "2 standing session(s) missing, the first p1");
}

static void test_standing_twice(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){2, 4, 6});
    h.entries[h.n++] = h.entries[5]; /* p2 again */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "p2 delivered twice");
}

static void test_anonymous_count(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){2, 4, 6});
    h.n--; /* one anonymous session fewer */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "1 anonymous sessions, expected 2");

    history_valid(&h, (uint64_t[]){2, 4, 6});
    fake_anonymous(history_add(&h), 9); /* one more */
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "3 anonymous sessions");
}

static void test_unknown_sessions(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){2, 4, 6});
    fake_writer(history_add(&h), 7, 0); /* no writer 7 */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "only 3 writers");

    history_valid(&h, (uint64_t[]){2, 4, 6});
    fake_standing(history_add(&h), 9); /* no p9 */
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 1, "unknown session p9");
}

static void test_partial_snapshot(void)
{
    /* An abandoned enumeration: missing entries are fine... */
    struct history h;
    history_valid(&h, (uint64_t[]){3, 4, 6});
    h.n = 4; /* w0/g1, w0/g2, w1/g2, w2/g3 */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, false);
    expect_violations(&v, 0, NULL);
    /* ...but a duplicate or a broken chain still is not. */
    h.entries[h.n++] = h.entries[2];
    violations_init(&v);
    check_history(&v, &h, false);
    expect_violations(&v, 1, "delivered twice");
    history_valid(&h, (uint64_t[]){3, 4, 6});
    h.n = 2;
    fake_writer(history_add(&h), 0, 5);
    violations_init(&v);
    check_history(&v, &h, false);
    expect_violations(&v, 1, "3 generations");
}

static void test_bounds(void)
{
    uint64_t lo[WRITERS] = {2, 4, 6}, hi[WRITERS] = {3, 4, 8};
    struct history h;
    history_valid(&h, (uint64_t[]){3, 4, 7});
    struct violations v;
    violations_init(&v);
    check_entries(&v, h.entries, h.n, true, lo, hi, NULL);
    expect_violations(&v, 0, NULL);

    /* Writer 1 had completed state 4 ({g2}) before the snapshot, which shows
     * {g1}: a stale snapshot. */
    history_valid(&h, (uint64_t[]){3, 2, 7});
    violations_init(&v);
    check_entries(&v, h.entries, h.n, true, lo, hi, NULL);
    expect_violations(&v, 1, "writer 1 at state 2, but it had completed state 4");

    /* Writer 2 shows {g4} (state 8)... fine; {g4, g5} (state 9) was never
     * begun by the time the snapshot returned: from the future. */
    history_valid(&h, (uint64_t[]){3, 4, 9});
    violations_init(&v);
    check_entries(&v, h.entries, h.n, true, lo, hi, NULL);
    expect_violations(&v, 1, "writer 2 at state 9, but it had started no later than state 8");
}

static void test_monotonic(void)
{
    uint64_t last[WRITERS] = {0, 0, 0};
    static const uint64_t sequence[][WRITERS] = {{0, 0, 0}, {1, 0, 2}, {1, 3, 2}, {6, 3, 2}};
    struct violations v;
    violations_init(&v);
    for (size_t k = 0; k < sizeof(sequence) / sizeof(sequence[0]); k++) {
        struct history h;
        history_valid(&h, sequence[k]);
        check_entries(&v, h.entries, h.n, true, NULL, NULL, last);
    }
    expect_violations(&v, 0, NULL);
    expect(last[0] == 6 && last[1] == 3 && last[2] == 2, "last states not updated");

    /* Writer 1 goes back from {g1, g2} to {g1}. */
    struct history h;
    history_valid(&h, (uint64_t[]){6, 2, 2});
    check_entries(&v, h.entries, h.n, true, NULL, NULL, last);
    expect_violations(&v, 1, "writer 1 went back from state 3 to 2");
}

/* ---- shared pagers ------------------------------------------------------------------- */

/* The union of three pagers' pages, each a slice of one valid snapshot. */
static void test_shared_pagers(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){1, 4, 5});
    history_shuffle(&h, 7);
    /* Pager a gets [0,3), b [3,4) and [8,n), c [4,8), in pages of 1..4. */
    struct page_stream a, b, c;
    page_stream_init(&a);
    page_stream_init(&b);
    page_stream_init(&c);
    struct violations v;
    violations_init(&v);
    checker_page(&a, &v, "a", 3, &h.entries[0], 3);
    checker_page(&b, &v, "b", 1, &h.entries[3], 1);
    checker_page(&c, &v, "c", 4, &h.entries[4], 4);
    checker_page(&b, &v, "b", 16, &h.entries[8], (UINT32)(h.n - 8));
    checker_page(&a, &v, "a", 2, NULL, 0);
    checker_page(&c, &v, "c", 5, NULL, 0);
    expect(a.exhausted && b.exhausted && c.exhausted, "every pager saw the end");
    expect(a.delivered + b.delivered + c.delivered == h.n, "delivered counts add up");
    check_history(&v, &h, true);
    expect_violations(&v, 0, NULL);
}

static void test_shared_pagers_duplicate(void)
{
    /* Pager b also received the entry pager a got last: delivered twice. */
    struct history h;
    history_valid(&h, (uint64_t[]){1, 4, 5});
    FWPM_SESSION0 *all[64];
    size_t n = 0;
    for (size_t i = 0; i < 5; i++) /* pager a */
        all[n++] = h.entries[i];
    for (size_t i = 4; i < h.n; i++) /* pager b, starting one too early */
        all[n++] = h.entries[i];
    struct violations v;
    violations_init(&v);
    check_entries(&v, all, n, true, NULL, NULL, NULL);
    expect_violations(&v, 1, "delivered twice");
}

static void test_shared_pagers_missing(void)
{
    /* The cursor skipped one position between two pagers' claims. */
    struct history h;
    history_valid(&h, (uint64_t[]){1, 4, 5});
    FWPM_SESSION0 *all[64];
    size_t n = 0;
    for (size_t i = 0; i < h.n; i++)
        if (i != 6) /* p1 */
            all[n++] = h.entries[i];
    struct violations v;
    violations_init(&v);
    check_entries(&v, all, n, true, NULL, NULL, NULL);
    expect_violations(&v, 1, "missing, the first p1");
}

/* ---- pages ------------------------------------------------------------------------------- */

static void test_valid_pages(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){0, 0, 0});
    struct violations v;
    violations_init(&v);
    struct page_stream p;
    page_stream_init(&p);
    checker_page(&p, &v, "p", 0, NULL, 0); /* a zero request is no end */
    expect(!p.exhausted, "a request of 0 ended the enumeration");
    checker_page(&p, &v, "p", 5, h.entries, 5);
    checker_page(&p, &v, "p", INFINITE, &h.entries[5], (UINT32)(h.n - 5));
    expect(p.exhausted, "a short page did not end the enumeration");
    checker_page(&p, &v, "p", 10, NULL, 0);
    checker_page(&p, &v, "p", INFINITE, NULL, 0);
    expect_violations(&v, 0, NULL);
    expect(p.pages == 5 && p.delivered == h.n, "page stream counts");
}

static void test_oversize_page(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){0, 0, 0});
    struct violations v;
    violations_init(&v);
    struct page_stream p;
    page_stream_init(&p);
    checker_page(&p, &v, "p", 4, h.entries, 5);
    expect_violations(&v, 1, "page of 5 entries for a request of 4");
    violations_init(&v);
    checker_page(&p, &v, "p", 0, h.entries, 1);
    expect_violations(&v, 1, "request of 0");
}

static void test_entries_after_short_page(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){0, 0, 0});
    struct violations v;
    violations_init(&v);
    struct page_stream p;
    page_stream_init(&p);
    checker_page(&p, &v, "p", 8, h.entries, 3);
    checker_page(&p, &v, "p", 8, &h.entries[3], 2);
    expect_violations(&v, 1, "2 entries after a short page");
}

static void test_page_array_shape(void)
{
    struct history h;
    history_valid(&h, (uint64_t[]){0, 0, 0});
    struct violations v;
    violations_init(&v);
    struct page_stream p;
    page_stream_init(&p);
    checker_page(&p, &v, "p", 8, NULL, 3);
    expect_violations(&v, 1, "with a NULL array");
    violations_init(&v);
    page_stream_init(&p);
    checker_page(&p, &v, "p", 8, h.entries, 0);
    expect_violations(&v, 1, "empty page with a non-NULL array");
}

/* ---- malformed entries ------------------------------------------------------------------- */

/* Checks one entry alone: exactly one violation containing needle. */
static void expect_malformed(const struct fake *f, const char *needle)
{
    struct violations v;
    violations_init(&v);
    struct entry_id id = checker_entry(&world, &v, "entry", &f->s);
    expect(id.kind == ENTRY_BAD, "a malformed entry (%s) was accepted", needle);
    expect_violations(&v, 1, needle);
}

static void test_well_formed_entries(void)
{
    struct fake f;
    struct violations v;
    violations_init(&v);
    fake_writer(&f, 2, 77);
    struct entry_id id = checker_entry(&world, &v, "entry", &f.s);
    expect(id.kind == ENTRY_WRITER && id.index == 2 && id.generation == 77, "writer parsed");
    fake_standing(&f, 3);
    id = checker_entry(&world, &v, "entry", &f.s);
    expect(id.kind == ENTRY_STANDING && id.index == 3, "standing parsed");
    fake_anonymous(&f, 0);
    id = checker_entry(&world, &v, "entry", &f.s);
    expect(id.kind == ENTRY_ANONYMOUS, "anonymous parsed");
    expect_violations(&v, 0, NULL);
}

static void test_malformed_entries(void)
{
    struct fake f;

    fake_writer(&f, 1, 5);
    f.s.username = NULL;
    expect_malformed(&f, "NULL username");

    fake_standing(&f, 1);
    wcscpy(f.username, L"bob");
    expect_malformed(&f, "username \"bob\"");

    fake_writer(&f, 1, 5);
    f.sid.sid.Revision = 2;
    expect_malformed(&f, "malformed SID (revision 2");

    fake_writer(&f, 1, 5);
    f.sid.sid.SubAuthorityCount = 1;
    expect_malformed(&f, "malformed SID");

    fake_writer(&f, 1, 5);
    f.sid.sid.IdentifierAuthority.Value[5] = 5;
    expect_malformed(&f, "malformed SID");

    fake_writer(&f, 1, 5);
    f.sid.second_sub_authority = UID + 1;
    expect_malformed(&f, "S-1-22-1-1001, expected S-1-22-1-1000");

    fake_writer(&f, 1, 5);
    f.s.sid = NULL;
    expect_malformed(&f, "NULL SID");

    fake_anonymous(&f, 1);
    f.s.processId = PID + 1;
    expect_malformed(&f, "processId 4243, expected 4242");

    fake_standing(&f, 0);
    f.s.kernelMode = TRUE;
    expect_malformed(&f, "kernelMode 1");

    fake_writer(&f, 1, 5);
    f.s.sessionKey.Data4[7] ^= 1; /* the key of another generation */
    expect_malformed(&f, "wrong session key");

    fake_writer(&f, 1, 5);
    f.s.flags = 0;
    expect_malformed(&f, "flags 0x0");

    fake_writer(&f, 1, 5);
    f.s.displayData.description = NULL;
    expect_malformed(&f, "wrong description");

    fake_standing(&f, 2);
    f.s.sessionKey.Data3 = 0x1000; /* not a generated key */
    expect_malformed(&f, "not a generated version-4 GUID");

    fake_anonymous(&f, 1);
    f.s.displayData.description = L"x";
    expect_malformed(&f, "anonymous session has a description");

    static const wchar_t *const bad_names[] = {L"x1", L"w1",  L"w1/g",      L"w01/g1", L"w1/g1x",
                                               L"p",  L"p1 ", L"w70000/g1", L""};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        fake_standing(&f, 0);
        f.s.displayData.name = (wchar_t *)bad_names[i];
        expect_malformed(&f, "unknown session");
    }

    wchar_t long_name[100];
    wmemset(long_name, L'p', 99);
    long_name[99] = 0;
    fake_standing(&f, 0);
    f.s.displayData.name = long_name;
    expect_malformed(&f, "longer than any");

    struct violations v;
    violations_init(&v);
    struct entry_id id = checker_entry(&world, &v, "entry", NULL);
    expect(id.kind == ENTRY_BAD, "a NULL entry was accepted");
    expect_violations(&v, 1, "NULL entry");
}

static void test_malformed_entry_in_snapshot(void)
{
    /* A malformed entry is reported as such, and (since it does not count)
     * its session is also missing from the complete snapshot. */
    struct history h;
    history_valid(&h, (uint64_t[]){2, 4, 6});
    h.fakes[4].s.username = NULL; /* p1 */
    struct violations v;
    violations_init(&v);
    check_history(&v, &h, true);
    expect_violations(&v, 2, "NULL username");
}

/* ---- memory ---------------------------------------------------------------------------------- */

static void test_memory(void)
{
    const FWPM_MEMORY_STATS0 base = {.liveBytes = 1000,
                                     .liveAllocations = 3,
                                     .infrastructureBytes = 65536,
                                     .openSessions = 0,
                                     .liveSnapshots = 1};
    FWPM_MEMORY_STATS0 end = base;
    end.infrastructureBytes = 131072; /* kept for reuse: not a leak */
    struct violations v;
    violations_init(&v);
    checker_memory(&v, &base, &end);
    expect_violations(&v, 0, NULL);

    end = base;
    end.liveBytes += 96;
    end.liveAllocations += 1;
    checker_memory(&v, &base, &end);
    expect_violations(&v, 1, "1096 bytes in 4 blocks after the run, 1000 bytes in 3 blocks");

    violations_init(&v);
    end = base;
    end.liveAllocations -= 1; /* same bytes, a block fewer: still wrong */
    checker_memory(&v, &base, &end);
    expect_violations(&v, 1, "memory");

    violations_init(&v);
    end = base;
    end.openSessions = 2;
    checker_memory(&v, &base, &end);
    expect_violations(&v, 1, "2 sessions open");

    violations_init(&v);
    end = base;
    end.liveSnapshots = 3;
    checker_memory(&v, &base, &end);
    expect_violations(&v, 1, "3 snapshot versions");
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

/* ---- runner
 * --------------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
    {"valid_snapshots", test_valid_snapshots},
    {"writer_missing", test_writer_missing},
    {"non_consecutive_generations", test_non_consecutive_generations},
    {"three_generations", test_three_generations},
    {"writer_entry_twice", test_writer_entry_twice},
    {"standing_missing", test_standing_missing},
    {"standing_twice", test_standing_twice},
    {"anonymous_count", test_anonymous_count},
    {"unknown_sessions", test_unknown_sessions},
    {"partial_snapshot", test_partial_snapshot},
    {"bounds", test_bounds},
    {"monotonic", test_monotonic},
    {"shared_pagers", test_shared_pagers},
    {"shared_pagers_duplicate", test_shared_pagers_duplicate},
    {"shared_pagers_missing", test_shared_pagers_missing},
    {"valid_pages", test_valid_pages},
    {"oversize_page", test_oversize_page},
    {"entries_after_short_page", test_entries_after_short_page},
    {"page_array_shape", test_page_array_shape},
    {"well_formed_entries", test_well_formed_entries},
    {"malformed_entries", test_malformed_entries},
    {"malformed_entry_in_snapshot", test_malformed_entry_in_snapshot},
    {"memory", test_memory},
    {"violation_log", test_violation_log},
    {"latency_buckets", test_latency_buckets},
    {"latency_percentiles", test_latency_percentiles},
};

int main(void)
{
    unsigned passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        current_test = tests[i].name;
        current_ok = true;
        tests[i].run();
        if (current_ok)
            passed++;
        else
            failed++;
        printf("%s %s\n", current_ok ? "ok  " : "FAIL", tests[i].name);
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
