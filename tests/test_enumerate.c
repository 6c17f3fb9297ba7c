/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_enumerate.c - contract §2.3–§2.6: handles, pages, both paging
 * idioms, snapshots, returned arrays, and the enumeration errors.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

static UINT64 live_snapshots(void)
{
    FWPM_MEMORY_STATS0 st;
    cr_assert_eq(fwpm_memory_stats(&st), ERROR_SUCCESS);
    return st.liveSnapshots;
}

/* Opens n sessions named "s<i>"; returns their handles (malloc'd). */
static HANDLE *open_many(size_t n)
{
    HANDLE *h = malloc(n * sizeof(*h));
    for (size_t i = 0; i < n; i++) {
        wchar_t name[32];
        swprintf(name, 32, L"s%zu", i);
        h[i] = open_named(name, L"d");
    }
    return h;
}

static void close_many(HANDLE *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        close_session(h[i]);
    free(h);
}

/* Every key exactly once. */
static void expect_each_once(HANDLE engine, UINT32 page_size, bool stop_on_short, size_t n)
{
    GUID *keys = malloc((n + 1) * sizeof(GUID));
    size_t got = enumerate_keys(engine, page_size, stop_on_short, keys, n + 1);
    cr_assert_eq(got, n, "page size %u: %zu entries, expected %zu", page_size, got, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_neq(memcmp(&keys[i], &keys[j], sizeof(GUID)), 0, "duplicate entry");
    free(keys);
}

struct paging_case {
    UINT32 page_size;
    size_t sessions;
};

ParameterizedTestParameters(enumerate, both_paging_idioms_deliver_each_entry_once)
{
    static struct paging_case cases[] = {
        {1, 0},      {1, 1},          {1, 250},      {3, 250},     {10, 250},        {100, 250},
        {1000, 250}, {INFINITE, 250}, {100, 100},    {10, 1000},   {1000, 1000},     {3, 64},
        {64, 64},    {64, 65},        {INFINITE, 0}, {1000, 4097}, {INFINITE, 4097},
    };
    return cr_make_param_array(struct paging_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct paging_case *c, enumerate, both_paging_idioms_deliver_each_entry_once)
{
    /* One more session: the engine handle used to enumerate is itself a session. */
    HANDLE self = open_session();
    HANDLE *h = open_many(c->sessions);
    expect_each_once(self, c->page_size, true, c->sessions + 1);
    expect_each_once(self, c->page_size, false, c->sessions + 1);
    close_many(h, c->sessions);
    close_session(self);
}

Test(enumerate, short_page_means_exhausted_and_later_calls_return_empty)
{
    HANDLE self = open_session();
    HANDLE *h = open_many(9); /* 10 sessions in all */
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(self, e, 4, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 4);
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionEnum0(self, e, 4, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 4);
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionEnum0(self, e, 4, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 2, "a short page");
    FwpmFreeMemory0((void **)&entries);
    for (int i = 0; i < 3; i++) {
        entries = (FWPM_SESSION0 **)&n; /* must be overwritten with NULL */
        cr_assert_eq(FwpmSessionEnum0(self, e, 4, &entries, &n), ERROR_SUCCESS);
        cr_assert_eq(n, 0);
        cr_assert_null(entries);
    }
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    close_many(h, 9);
    close_session(self);
}

Test(enumerate, zero_requested_returns_nothing_and_moves_nothing)
{
    HANDLE self = open_session();
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **entries = (FWPM_SESSION0 **)&e;
    UINT32 n = 99;
    cr_assert_eq(FwpmSessionEnum0(self, e, 0, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 0);
    cr_assert_null(entries);
    cr_assert_eq(FwpmSessionEnum0(self, e, 1, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 1, "requesting 0 must not move the cursor");
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    close_session(self);
}

Test(enumerate, infinite_allocates_by_what_is_returned)
{
    HANDLE self = open_session();
    UINT64 before = live_bytes_now();
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(self, e, INFINITE, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 1);
    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    cr_assert_lt(st.liveBytes - before, 4096, "an INFINITE request of 1 entry used %llu bytes",
                 (unsigned long long)(st.liveBytes - before));
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    close_session(self);
}

Test(enumerate, handle_sees_the_set_of_its_creation)
{
    HANDLE self = open_session();
    HANDLE *before = open_many(5);
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e), ERROR_SUCCESS);
    /* Changes after creation are not seen. */
    HANDLE *after = open_many(7);
    close_session(before[0]);
    close_session(before[1]);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(self, e, INFINITE, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 6);
    for (UINT32 i = 0; i < n; i++) {
        const wchar_t *name = entries[i]->displayData.name;
        cr_assert(name == NULL || (wcscmp(name, L"s5") != 0 && wcscmp(name, L"s6") != 0),
                  "a session opened after the snapshot was seen");
    }
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    close_many(after, 7);
    for (int i = 2; i < 5; i++)
        close_session(before[i]);
    free(before);
    close_session(self);
}

Test(enumerate, handles_share_a_snapshot_while_nothing_changes)
{
    HANDLE self = open_session();
    HANDLE *h = open_many(100);
    UINT64 base = live_snapshots();
    HANDLE e[10];
    for (int i = 0; i < 10; i++)
        cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e[i]), ERROR_SUCCESS);
    cr_assert_eq(live_snapshots(), base, "handles on an unchanged set share one version");
    HANDLE extra = open_session();
    cr_assert_eq(live_snapshots(), base + 1, "the old version is retained for the handles");
    for (int i = 0; i < 10; i++)
        cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e[i]), ERROR_SUCCESS);
    /* A reader never takes the writer lock: the next write reclaims. */
    HANDLE next = open_session();
    cr_assert_eq(live_snapshots(), base, "released by the first write after the last handle went");
    close_session(next);
    close_session(extra);
    close_many(h, 100);
    close_session(self);
}

Test(enumerate, a_released_version_is_reclaimed_without_a_write)
{
    HANDLE self = open_session();
    UINT64 base = live_snapshots();
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e), ERROR_SUCCESS);
    HANDLE extra = open_session();
    cr_assert_eq(live_snapshots(), base + 1, "the old version is retained for the handle");
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    fwpm_reclaim(); /* what the idle reclaimer does too */
    cr_assert_eq(live_snapshots(), base, "reclaimed with no write after the last handle went");
    close_session(extra);
    close_session(self);
}

Test(enumerate, entries_outlive_handle_and_sessions_until_freed)
{
    HANDLE self = open_session();
    HANDLE *h = open_many(50);
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(self, e, INFINITE, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 51);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    close_many(h, 50);
    close_session(self);
    /* Churn so that freed memory would be reused. */
    for (int i = 0; i < 200; i++)
        close_session(open_named(L"zzzzzzzzzzzzzzzzzzzz", L"zzzzzzzzzzzzzzzzzzzzzzz"));
    fwpm_reclaim();
    int named = 0;
    for (UINT32 i = 0; i < n; i++) {
        FWPM_SESSION0 *s = entries[i];
        cr_assert_not_null(s->sid);
        cr_assert_not_null(s->username);
        if (s->displayData.name != NULL) {
            cr_assert_eq(s->displayData.name[0], L's');
            cr_assert_eq(wcscmp(s->displayData.description, L"d"), 0);
            named++;
        }
    }
    cr_assert_eq(named, 50);
    FwpmFreeMemory0((void **)&entries);
}

/* Each unfreed array holds a reference to its enumeration, counted beside
 * the cursor: hundreds of them held at once neither move the cursor nor
 * keep the handle alive, and their entries stay readable until freed. */
Test(enumerate, unfreed_arrays_by_the_hundred_leave_the_cursor_exact)
{
    enum { SESSIONS = 600 };
    UINT64 base = live_snapshots();
    HANDLE self = open_session();
    HANDLE *h = open_many(SESSIONS - 1);
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **held[SESSIONS];
    for (size_t i = 0; i < SESSIONS; i++) {
        UINT32 n = 0;
        cr_assert_eq(FwpmSessionEnum0(self, e, 1, &held[i], &n), ERROR_SUCCESS);
        cr_assert_eq(n, 1, "page %zu of %d: %u entries", i, SESSIONS, n);
    }
    FWPM_SESSION0 **rest = NULL;
    UINT32 n = 1;
    cr_assert_eq(FwpmSessionEnum0(self, e, INFINITE, &rest, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 0, "the cursor is at the end, exactly");
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    cr_assert_eq(FwpmSessionEnum0(self, e, 1, &rest, &n), ERROR_INVALID_HANDLE,
                 "held arrays do not keep the handle");
    close_many(h, SESSIONS - 1);
    close_session(self);
    for (size_t i = 0; i < SESSIONS; i++)
        for (size_t j = i + 1; j < SESSIONS; j++)
            cr_assert_neq(memcmp(&held[i][0]->sessionKey, &held[j][0]->sessionKey, sizeof(GUID)), 0,
                          "pages %zu and %zu hold one entry", i, j);
    for (size_t i = 0; i < SESSIONS; i++)
        FwpmFreeMemory0((void **)&held[i]);
    fwpm_reclaim();
    cr_assert_eq(live_snapshots(), base, "the last free let the snapshot go");
}

Test(enumerate, template_with_reserved_set_gives_reserved)
{
    HANDLE self = open_session();
    HANDLE e;
    FWPM_SESSION_ENUM_TEMPLATE0 t = {.reserved = 0};
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, &t, &e), ERROR_SUCCESS);
    t.reserved = 1;
    HANDLE e2 = NULL;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(self, &t, &e2), FWP_E_RESERVED);
    cr_assert_null(e2);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(self, e), ERROR_SUCCESS);
    close_session(self);
}

/* Two sessions and a fresh enumeration handle of the first: the failure
 * tests below try their calls on it. */
struct two_sessions {
    HANDLE self, other, e;
};

static struct two_sessions open_two_sessions(void)
{
    struct two_sessions t = {open_session(), open_session(), NULL};
    cr_assert_eq(FwpmSessionCreateEnumHandle0(t.self, NULL, &t.e), ERROR_SUCCESS);
    return t;
}

/* After the failed calls: the first page still starts at the beginning
 * (contract §2.4, §3.3). Then closes everything. */
static void expect_cursor_unmoved_and_close(struct two_sessions t)
{
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(t.self, t.e, INFINITE, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 2, "a failed call moved the cursor");
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(t.self, t.e), ERROR_SUCCESS);
    close_session(t.other);
    close_session(t.self);
}

Test(enumerate, null_out_pointers_give_null_pointer_and_move_no_cursor)
{
    struct two_sessions t = open_two_sessions();
    cr_assert_eq(FwpmSessionCreateEnumHandle0(t.self, NULL, NULL), FWP_E_NULL_POINTER);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(t.self, t.e, 1, NULL, &n), FWP_E_NULL_POINTER);
    cr_assert_eq(FwpmSessionEnum0(t.self, t.e, 1, &entries, NULL), FWP_E_NULL_POINTER);
    expect_cursor_unmoved_and_close(t);
}

Test(enumerate, handle_of_another_session_gives_wrong_session_and_moves_no_cursor)
{
    struct two_sessions t = open_two_sessions();
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(t.other, t.e, 1, &entries, &n), FWP_E_WRONG_SESSION);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(t.other, t.e), FWP_E_WRONG_SESSION);
    /* The handle is still its own session's, and where it was. */
    expect_cursor_unmoved_and_close(t);
}

Test(enumerate, invalid_handles_move_no_cursor)
{
    struct two_sessions t = open_two_sessions();
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(NULL, t.e, 1, &entries, &n), ERROR_INVALID_HANDLE);
    cr_assert_eq(FwpmSessionEnum0(t.self, NULL, 1, &entries, &n), ERROR_INVALID_HANDLE);
    cr_assert_eq(FwpmSessionEnum0(t.self, (HANDLE)(uintptr_t)0x12345678A, 1, &entries, &n),
                 ERROR_INVALID_HANDLE);
    cr_assert_eq(FwpmSessionEnum0(t.self, t.self, 1, &entries, &n), ERROR_INVALID_HANDLE,
                 "an engine handle is not an enumeration handle");
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(NULL, t.e), ERROR_INVALID_HANDLE);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(t.self, NULL), ERROR_INVALID_HANDLE);
    HANDLE e2;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(t.e, NULL, &e2), ERROR_INVALID_HANDLE,
                 "an enumeration handle is not an engine handle");
    expect_cursor_unmoved_and_close(t);
}

/* The page path resolves both handles with one lookup when the enumeration was
 * made through the engine handle given: every other pairing must still give
 * the two-lookup answer (a dead engine handle first). */
Test(enumerate, dead_engine_handle_with_live_enumeration_gives_invalid_handle)
{
    struct two_sessions t = open_two_sessions();
    HANDLE closed = open_session();
    close_session(closed);
    FWPM_SESSION0 **entries = (FWPM_SESSION0 **)&t;
    UINT32 n = 7;
    cr_assert_eq(FwpmSessionEnum0(closed, t.e, 1, &entries, &n), ERROR_INVALID_HANDLE,
                 "a closed engine handle with another session's enumeration");
    cr_assert_eq(FwpmSessionEnum0(t.e, t.e, 1, &entries, &n), ERROR_INVALID_HANDLE,
                 "the enumeration handle as its own engine handle");
    cr_assert_eq(entries, (FWPM_SESSION0 **)&t, "a rejected page wrote *entries");
    cr_assert_eq(n, 7, "a rejected page wrote *numEntriesReturned");
    expect_cursor_unmoved_and_close(t);
}

Test(enumerate, close_invalidates_enumeration_handles)
{
    HANDLE self = open_session();
    HANDLE keep = open_session();
    HANDLE e[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(FwpmSessionCreateEnumHandle0(self, NULL, &e[i]), ERROR_SUCCESS);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(self, e[0], 1, &entries, &n), ERROR_SUCCESS);
    close_session(self);
    for (int i = 0; i < 3; i++) {
        FWPM_SESSION0 **more;
        cr_assert_eq(FwpmSessionEnum0(keep, e[i], 1, &more, &n), ERROR_INVALID_HANDLE);
        cr_assert_eq(FwpmSessionDestroyEnumHandle0(keep, e[i]), ERROR_INVALID_HANDLE);
    }
    /* The array returned before the close is still valid. */
    cr_assert_not_null(entries[0]->username);
    FwpmFreeMemory0((void **)&entries);
    close_session(keep);
}

Test(free_memory, null_is_a_no_op)
{
    FwpmFreeMemory0(NULL);
    void *p = NULL;
    FwpmFreeMemory0(&p);
    cr_assert_null(p);
}
