/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_handles.c - bad handles never crash (contract §3.2): NULL, garbage, closed,
 * destroyed and reused handle values get ERROR_INVALID_HANDLE, never a crash
 * (a full handle table is test_limits.c's), and a fork child never issues
 * one slot twice, not even a slot its parent's thread had cached.
 */
#include "support.h"

#include "handles.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Every API call that takes handles, with these values, says "invalid". */
static void expect_rejected(HANDLE engine_value, HANDLE enum_value, HANDLE good_engine)
{
    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 7;
    HANDLE out = NULL;
    cr_assert_eq(FwpmEngineClose0(engine_value), ERROR_INVALID_HANDLE);
    cr_assert_eq(FwpmSessionCreateEnumHandle0(engine_value, NULL, &out), ERROR_INVALID_HANDLE);
    cr_assert_null(out);
    cr_assert_eq(FwpmSessionEnum0(good_engine, enum_value, 10, &entries, &n), ERROR_INVALID_HANDLE);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(good_engine, enum_value), ERROR_INVALID_HANDLE);
    cr_assert_eq(FwpmSessionEnum0(engine_value, enum_value, 10, &entries, &n),
                 ERROR_INVALID_HANDLE);
}

Test(handles, garbage_values_never_crash)
{
    HANDLE good = open_session();
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(good, NULL, &e), ERROR_SUCCESS);
    uint64_t state = 0x0123456789ABCDEFu;
    for (int i = 0; i < 200000; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        uint64_t v = state;
        switch (i % 4) {
        case 1: /* right tag nibble, random rest */
            v = (v & ~0xFull) | 0xA;
            break;
        case 2: /* a real handle with one bit flipped */
            v = (uint64_t)(uintptr_t)good ^ (1ull << (i % 64));
            break;
        case 3: /* a real enumeration handle with one bit flipped */
            v = (uint64_t)(uintptr_t)e ^ (1ull << (i % 64));
            break;
        }
        if ((HANDLE)(uintptr_t)v == good || (HANDLE)(uintptr_t)v == e)
            continue;
        FWPM_SESSION0 **entries;
        UINT32 n;
        DWORD a = FwpmSessionEnum0(good, (HANDLE)(uintptr_t)v, 1, &entries, &n);
        DWORD b = FwpmSessionEnum0((HANDLE)(uintptr_t)v, e, 1, &entries, &n);
        cr_assert(a == ERROR_INVALID_HANDLE && b == ERROR_INVALID_HANDLE,
                  "value %#llx was taken for a handle", (unsigned long long)v);
    }
    int local = 0;
    expect_rejected(NULL, NULL, good);
    expect_rejected(&local, &local, good);
    expect_rejected((HANDLE)(uintptr_t)1, (HANDLE)(uintptr_t)2, good);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(good, e), ERROR_SUCCESS);
    close_session(good);
}

Test(handles, kinds_are_not_interchangeable)
{
    HANDLE good = open_session();
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(good, NULL, &e), ERROR_SUCCESS);
    expect_rejected(e, good, good);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(good, e), ERROR_SUCCESS);
    close_session(good);
}

Test(handles, destroyed_and_reused_values_stay_invalid)
{
    HANDLE good = open_session();
    HANDLE old;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(good, NULL, &old), ERROR_SUCCESS);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(good, old), ERROR_SUCCESS);
    for (int i = 0; i < 1000; i++) {
        HANDLE fresh;
        cr_assert_eq(FwpmSessionCreateEnumHandle0(good, NULL, &fresh), ERROR_SUCCESS);
        cr_assert_neq(fresh, old);
        expect_rejected(old, old, good);
        cr_assert_eq(FwpmSessionDestroyEnumHandle0(good, fresh), ERROR_SUCCESS);
    }
    HANDLE closed = open_session();
    close_session(closed);
    for (int i = 0; i < 100; i++) {
        HANDLE h = open_session();
        cr_assert_neq(h, closed);
        expect_rejected(closed, old, good);
        close_session(h);
    }
    close_session(good);
}

/* A closed session's handle slot comes back for later opens: churn through
 * five times as many handles as a table segment holds (4096 slots of 32
 * bytes, infrastructure) and the table does not grow. Without the slots
 * given back it would grow by five segments, 640 KiB; other infrastructure
 * (per-thread records) may take a few hundred bytes. */
Test(handles, closed_handles_give_their_slots_back)
{
    HANDLE warm = open_session(); /* the first segment, and the engine, exist */
    close_session(warm);
    FWPM_MEMORY_STATS0 before, after;
    cr_assert_eq(fwpm_memory_stats(&before), ERROR_SUCCESS);
    for (int i = 0; i < 5 * 4096; i++)
        close_session(open_session());
    cr_assert_eq(fwpm_memory_stats(&after), ERROR_SUCCESS);
    cr_assert_lt(after.infrastructureBytes, before.infrastructureBytes + 64 * 1024,
                 "the handle table grew under open/close churn: %llu -> %llu bytes",
                 (unsigned long long)before.infrastructureBytes,
                 (unsigned long long)after.infrastructureBytes);
}

/* More than the parent's table holds (one segment of slots): the child's
 * reserves take every inherited slot and then grow the table. */
#define CHILD_RESERVES 5000

/* In a fork child: reserves and publishes CHILD_RESERVES handles, and
 * checks that each still names its own object (a slot issued twice would
 * name the later one's). The lookups need no epoch section: the child has
 * one thread and the objects are static. */
static int child_issues_distinct_slots(void)
{
    static int objects[CHILD_RESERVES];
    static HANDLE issued[CHILD_RESERVES];
    for (int i = 0; i < CHILD_RESERVES; i++) {
        issued[i] = handles_reserve(HANDLE_KIND_ENGINE);
        if (issued[i] == NULL)
            return 2;
        handles_publish(issued[i], &objects[i]);
    }
    for (int i = 0; i < CHILD_RESERVES; i++)
        if (handles_lookup(issued[i], HANDLE_KIND_ENGINE) != &objects[i])
            return 1;
    return 0;
}

Test(handles, a_fork_child_issues_each_slot_once)
{
    /* The parent frees a slot just before the fork: it waits, cached for
     * this thread, to be reused; the child inherits the cache. (Sessions, so
     * that the engine is set up and its fork handler armed.) */
    HANDLE kept = open_session();
    close_session(open_session());
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child_issues_distinct_slots());
    cr_assert_gt(pid, 0);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child crashed");
    cr_assert_eq(WEXITSTATUS(status), 0, "the child issued a slot twice (1) or ran out (2)");
    close_session(kept);
}
