/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_limits.c - the engine at its limits (contract §2.1, §3.1): running out of address
 * space and filling the handle table end in a clean ERROR_NOT_ENOUGH_MEMORY
 * with nothing half-done, and the engine recovers; display strings of 32,767
 * characters are accepted and come back intact, longer ones are rejected
 * with FWP_E_INVALID_PARAMETER without reading past character 32,768.
 */
#include "support.h"

#include "handles.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#if defined(__SANITIZE_ADDRESS__)
#define LIMITS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIMITS_ASAN 1
#endif
#endif

#define STRING_MAX 32767u

static FWPM_MEMORY_STATS0 stats(void)
{
    fwpm_reclaim();
    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    return st;
}

/* ---- (a) out of address space ------------------------------------------ */

#ifndef LIMITS_ASAN

/* Steps of the child; its exit status names the first one that went wrong. */
enum exhaust_step {
    EXHAUST_OK = 0,
    EXHAUST_SETUP = 10,
    EXHAUST_OTHER_ERROR,   /* an open failed with something else */
    EXHAUST_NEVER_FAILED,  /* the limit was never reached */
    EXHAUST_HALF_OPEN,     /* the failed open changed the session count */
    EXHAUST_ENUM_BROKEN,   /* enumeration neither worked nor said out of memory */
    EXHAUST_CLOSE_FAILED,  /* closing a session failed while memory was short */
    EXHAUST_REOPEN_FAILED, /* open after freeing some memory failed */
    EXHAUST_ENUM_AFTER,    /* a full enumeration after recovery failed or was wrong */
    EXHAUST_LEAKED,        /* memory did not return to the baseline */
};

#define EXHAUST_MAX_SESSIONS 100000
#define EXHAUST_NAME_CHARS 16000 /* 64 KB each for name and description */

/* Pages of a full enumeration through engine; returns the entry count, or
 * -(status) of the first failing call. */
static long enumerate_all(HANDLE engine)
{
    HANDLE e;
    DWORD rc = FwpmSessionCreateEnumHandle0(engine, NULL, &e);
    if (rc != ERROR_SUCCESS)
        return -(long)rc;
    long total = 0;
    for (;;) {
        FWPM_SESSION0 **entries;
        UINT32 n;
        rc = FwpmSessionEnum0(engine, e, 500, &entries, &n);
        if (rc != ERROR_SUCCESS)
            break;
        total += n;
        FwpmFreeMemory0((void **)&entries);
        if (n < 500)
            break;
    }
    FwpmSessionDestroyEnumHandle0(engine, e);
    return rc == ERROR_SUCCESS ? total : -(long)rc;
}

/* Runs in a child under RLIMIT_AS; returns an exhaust_step. */
static int exhaust_address_space(void)
{
    FwpmEngineClose0(NULL); /* set the engine up before the baseline */
    FWPM_MEMORY_STATS0 base = stats();
    HANDLE *h = malloc(EXHAUST_MAX_SESSIONS * sizeof(HANDLE));
    wchar_t *name = malloc((EXHAUST_NAME_CHARS + 1) * sizeof(wchar_t));
    if (h == NULL || name == NULL)
        return EXHAUST_SETUP;
    for (size_t i = 0; i < EXHAUST_NAME_CHARS; i++)
        name[i] = (wchar_t)(L'a' + i % 26);
    name[EXHAUST_NAME_CHARS] = 0;
    FWPM_SESSION0 s;
    memset(&s, 0, sizeof(s));
    s.displayData.name = name;
    s.displayData.description = name;

    /* What the process maps now, plus 256 MiB. */
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (statm == NULL || fscanf(statm, "%lu", &pages) != 1)
        return EXHAUST_SETUP;
    fclose(statm);
    struct rlimit limit;
    getrlimit(RLIMIT_AS, &limit);
    limit.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)256 << 20);
    if (setrlimit(RLIMIT_AS, &limit) != 0)
        return EXHAUST_SETUP;

    size_t opened = 0;
    DWORD rc = ERROR_SUCCESS;
    while (opened < EXHAUST_MAX_SESSIONS) {
        HANDLE out = (HANDLE)(uintptr_t)0x77;
        rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &out);
        if (rc != ERROR_SUCCESS) {
            if (out != (HANDLE)(uintptr_t)0x77)
                return EXHAUST_HALF_OPEN;
            break;
        }
        h[opened++] = out;
    }
    if (rc == ERROR_SUCCESS)
        return EXHAUST_NEVER_FAILED;
    if (rc != ERROR_NOT_ENOUGH_MEMORY)
        return EXHAUST_OTHER_ERROR;
    FWPM_MEMORY_STATS0 st;
    fwpm_memory_stats(&st);
    if (st.openSessions != opened || opened == 0)
        return EXHAUST_HALF_OPEN;
    size_t big = opened;
    /* Then small (anonymous) sessions, until those fail too: the small
     * allocations (handles, snapshot chunks, the hash table) run out. */
    while (opened < EXHAUST_MAX_SESSIONS) {
        HANDLE out = (HANDLE)(uintptr_t)0x77;
        rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &out);
        if (rc != ERROR_SUCCESS) {
            if (out != (HANDLE)(uintptr_t)0x77)
                return EXHAUST_HALF_OPEN;
            break;
        }
        h[opened++] = out;
    }
    if (rc != ERROR_NOT_ENOUGH_MEMORY)
        return rc == ERROR_SUCCESS ? EXHAUST_NEVER_FAILED : EXHAUST_OTHER_ERROR;
    fwpm_memory_stats(&st);
    if (st.openSessions != opened)
        return EXHAUST_HALF_OPEN;

    /* The engine still answers: a full enumeration works, or says out of memory. */
    long seen = enumerate_all(h[0]);
    if (seen != (long)opened && seen != -(long)ERROR_NOT_ENOUGH_MEMORY)
        return EXHAUST_ENUM_BROKEN;
    fprintf(stderr,
            "out of address space after %zu large and %zu small sessions; "
            "enumeration then: %s\n",
            big, opened - big, seen < 0 ? fwpm_error_name((DWORD)-seen) : "ERROR_SUCCESS");
    /* Close a few large ones: that must work even now, or memory could never
     * be given back. */
    for (size_t i = 1; i <= 16; i++) {
        if (FwpmEngineClose0(h[i]) != ERROR_SUCCESS)
            return EXHAUST_CLOSE_FAILED;
        h[i] = h[--opened];
    }
    fwpm_reclaim();
    HANDLE again;
    if (FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &again) != ERROR_SUCCESS)
        return EXHAUST_REOPEN_FAILED;
    h[opened++] = again;
    if (enumerate_all(h[0]) != (long)opened)
        return EXHAUST_ENUM_AFTER;

    while (opened > 0)
        if (FwpmEngineClose0(h[--opened]) != ERROR_SUCCESS)
            return EXHAUST_CLOSE_FAILED;
    st = stats();
    if (st.openSessions != 0 || st.liveBytes != base.liveBytes)
        return EXHAUST_LEAKED;
    free(name);
    free(h);
    return EXHAUST_OK;
}

#endif /* LIMITS_ASAN */

Test(limits, out_of_address_space_is_clean)
{
#ifdef LIMITS_ASAN
    cr_skip_test("ASan's shadow memory needs far more address space than RLIMIT_AS leaves");
#else
    fflush(NULL);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0)
        _exit(exhaust_address_space());
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(!WIFSIGNALED(status), "the child died of signal %d", WTERMSIG(status));
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), EXHAUST_OK, "the child failed at step %d (enum exhaust_step)",
                 WEXITSTATUS(status));
#endif
}

/* ---- (b) a full handle table ------------------------------------------- */

#define TABLE_SLOTS 64

/* Tries an open that must fail cleanly for lack of handles. */
static void expect_open_refused(UINT64 open_now)
{
    UINT64 bytes = stats().liveBytes;
    HANDLE out = (HANDLE)(uintptr_t)0x55;
    DWORD rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &out);
    cr_assert_eq(rc, ERROR_NOT_ENOUGH_MEMORY, "%s", fwpm_strerror(rc));
    cr_assert_eq(out, (HANDLE)(uintptr_t)0x55, "a failed open wrote the handle");
    FWPM_MEMORY_STATS0 st = stats();
    cr_assert_eq(st.openSessions, open_now, "a failed open left a session behind");
    cr_assert_eq(st.liveBytes, bytes, "a failed open leaked");
}

static void expect_enum_refused(HANDLE engine)
{
    UINT64 bytes = stats().liveBytes;
    HANDLE out = (HANDLE)(uintptr_t)0x55;
    DWORD rc = FwpmSessionCreateEnumHandle0(engine, NULL, &out);
    cr_assert_eq(rc, ERROR_NOT_ENOUGH_MEMORY, "%s", fwpm_strerror(rc));
    cr_assert_eq(out, (HANDLE)(uintptr_t)0x55, "a failed create wrote the handle");
    cr_assert_eq(stats().liveBytes, bytes, "a failed create leaked");
}

Test(limits, full_handle_table_gives_not_enough_memory)
{
    /* A fresh process (Criterion runs each test in its own): no handle exists yet. */
    handles_set_limit(TABLE_SLOTS);
    FwpmEngineClose0(NULL);
    UINT64 base = stats().liveBytes;
    HANDLE h[TABLE_SLOTS + 1];
    size_t opened = 0;
    for (;;) {
        HANDLE out = NULL;
        DWORD rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &out);
        if (rc != ERROR_SUCCESS) {
            cr_assert_eq(rc, ERROR_NOT_ENOUGH_MEMORY, "%s", fwpm_strerror(rc));
            break;
        }
        cr_assert_lt(opened, TABLE_SLOTS, "more handles than the table holds");
        h[opened++] = out;
    }
    cr_assert_eq(opened, TABLE_SLOTS, "the table held %zu handles, not %d", opened, TABLE_SLOTS);
    expect_open_refused(opened);
    expect_enum_refused(h[0]);

    /* One slot free: an enumeration handle takes it, and then open is refused. */
    close_session(h[--opened]);
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(h[0], NULL, &e), ERROR_SUCCESS);
    expect_open_refused(opened);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(h[0], e, INFINITE, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, opened);
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(h[0], e), ERROR_SUCCESS);
    h[opened++] = open_session();

    /* Ten slots free: exactly ten enumeration handles fit. */
    for (int i = 0; i < 10; i++)
        close_session(h[--opened]);
    HANDLE enums[10];
    for (int i = 0; i < 10; i++)
        cr_assert_eq(FwpmSessionCreateEnumHandle0(h[i % 3], NULL, &enums[i]), ERROR_SUCCESS);
    expect_enum_refused(h[0]);
    expect_open_refused(opened);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(FwpmSessionDestroyEnumHandle0(h[i % 3], enums[i]), ERROR_SUCCESS);

    /* Lifting the limit: the table grows again. */
    handles_set_limit(0);
    for (int i = 0; i < 10; i++)
        h[opened++] = open_session();
    HANDLE more[100];
    for (int i = 0; i < 100; i++)
        more[i] = open_session();
    GUID keys[TABLE_SLOTS + 101];
    cr_assert_eq(enumerate_keys(h[0], 17, true, keys, TABLE_SLOTS + 101), opened + 100);
    for (int i = 0; i < 100; i++)
        close_session(more[i]);
    while (opened > 0)
        close_session(h[--opened]);
    FWPM_MEMORY_STATS0 st = stats();
    cr_assert_eq(st.openSessions, 0);
    cr_assert_eq(st.liveBytes, base);
}

/* Slots that other threads freed count, whether those threads still run or
 * not: threads close one handle each, one after another (more of them than
 * the table has per-thread slot caches), and exit; then exactly that many
 * opens fit again on this thread, and the next is refused. */
#define SHARED_TABLE_SLOTS 200
#define CLOSING_THREADS 150

static void *close_one(void *engine)
{
    close_session((HANDLE)engine);
    return NULL;
}

Test(limits, full_table_reuses_slots_freed_by_other_threads)
{
    handles_set_limit(SHARED_TABLE_SLOTS);
    FwpmEngineClose0(NULL);
    HANDLE h[SHARED_TABLE_SLOTS];
    size_t opened = 0;
    HANDLE out;
    while (FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &out) == ERROR_SUCCESS) {
        cr_assert_lt(opened, SHARED_TABLE_SLOTS, "more handles than the table holds");
        h[opened++] = out;
    }
    cr_assert_eq(opened, SHARED_TABLE_SLOTS);
    for (int i = 0; i < CLOSING_THREADS; i++) {
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, close_one, h[--opened]), 0);
        cr_assert_eq(pthread_join(t, NULL), 0);
    }
    for (int i = 0; i < CLOSING_THREADS; i++) {
        DWORD rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &h[opened]);
        cr_assert_eq(rc, ERROR_SUCCESS, "open %d of %d freed slots: %s", i + 1, CLOSING_THREADS,
                     fwpm_strerror(rc));
        opened++;
    }
    expect_open_refused(opened);
    while (opened > 0)
        close_session(h[--opened]);
    handles_set_limit(0);
}

/* ---- (c) display strings at the limit ---------------------------------- */

/* A string of length chars from a repeating alphabet; malloc'ed. */
static wchar_t *make_string(size_t length, const wchar_t *alphabet)
{
    size_t k = wcslen(alphabet);
    wchar_t *s = malloc((length + 1) * sizeof(wchar_t));
    cr_assert_not_null(s);
    for (size_t i = 0; i < length; i++)
        s[i] = alphabet[i % k];
    s[length] = 0;
    return s;
}

static const wchar_t ascii[] = L"abcdefghijklmnopqrstuvwxyz0123456789";
/* é, 中, U+FFFD, an emoji, U+10FFFF (one wchar_t each on Linux), ASCII. */
static const wchar_t wide[] = {0xE9, 0x4E2D, 0xFFFD, 0x1F600, 0x10FFFF, L'x', 0};

/* Opens with name/description; returns the status, checking that a failure
 * changed nothing. */
static DWORD try_open(const wchar_t *name, const wchar_t *description, HANDLE *out)
{
    FWPM_SESSION0 s;
    memset(&s, 0, sizeof(s));
    s.displayData.name = (wchar_t *)name;
    s.displayData.description = (wchar_t *)description;
    FWPM_MEMORY_STATS0 before = stats();
    *out = (HANDLE)(uintptr_t)0x55;
    DWORD rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &s, out);
    if (rc != ERROR_SUCCESS) {
        FWPM_MEMORY_STATS0 after = stats();
        cr_assert_eq(*out, (HANDLE)(uintptr_t)0x55, "a failed open wrote the handle");
        cr_assert_eq(after.openSessions, before.openSessions, "a failed open left a session");
        cr_assert_eq(after.liveBytes, before.liveBytes, "a failed open leaked");
    }
    return rc;
}

/* The one entry an enumeration through engine returns; checks its strings. */
static void expect_strings(HANDLE engine, const wchar_t *name, const wchar_t *description)
{
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(engine, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(engine, e, INFINITE, &entries, &n), ERROR_SUCCESS);
    cr_assert_eq(n, 1);
    const FWPM_SESSION0 *s = entries[0];
    cr_assert_not_null(s->displayData.name);
    cr_assert_not_null(s->displayData.description);
    cr_assert_eq(wcslen(s->displayData.name), wcslen(name));
    cr_assert_eq(wcslen(s->displayData.description), wcslen(description));
    cr_assert(wcscmp(s->displayData.name, name) == 0, "name changed on the way");
    cr_assert(wcscmp(s->displayData.description, description) == 0,
              "description changed on the way");
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(engine, e), ERROR_SUCCESS);
}

Test(limits, strings_of_32767_characters_are_accepted_intact)
{
    FwpmEngineClose0(NULL);
    UINT64 base = stats().liveBytes;
    struct {
        const wchar_t *name_alphabet, *description_alphabet;
    } cases[] = {{ascii, ascii}, {wide, wide}, {ascii, wide}, {wide, ascii}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        wchar_t *name = make_string(STRING_MAX, cases[c].name_alphabet);
        wchar_t *description = make_string(STRING_MAX, cases[c].description_alphabet);
        wchar_t *name_copy = wcsdup(name), *description_copy = wcsdup(description);
        HANDLE h;
        cr_assert_eq(try_open(name, description, &h), ERROR_SUCCESS);
        /* Deep copies: the caller's buffers may go right after the call. */
        wmemset(name, L'#', STRING_MAX);
        wmemset(description, L'#', STRING_MAX);
        free(name);
        free(description);
        expect_strings(h, name_copy, description_copy);
        close_session(h);
        free(name_copy);
        free(description_copy);
    }
    cr_assert_eq(stats().liveBytes, base);
}

Test(limits, strings_of_32768_characters_are_rejected)
{
    FwpmEngineClose0(NULL);
    UINT64 base = stats().liveBytes;
    const wchar_t *alphabets[] = {ascii, wide};
    for (int a = 0; a < 2; a++) {
        wchar_t *ok = make_string(STRING_MAX, alphabets[a]);
        wchar_t *over = make_string(STRING_MAX + 1, alphabets[a]);
        HANDLE h;
        cr_assert_eq(try_open(over, NULL, &h), FWP_E_INVALID_PARAMETER);
        cr_assert_eq(try_open(NULL, over, &h), FWP_E_INVALID_PARAMETER);
        cr_assert_eq(try_open(ok, over, &h), FWP_E_INVALID_PARAMETER);
        cr_assert_eq(try_open(over, ok, &h), FWP_E_INVALID_PARAMETER);
        cr_assert_eq(try_open(over, over, &h), FWP_E_INVALID_PARAMETER);
        free(ok);
        free(over);
    }
    wchar_t *huge = make_string(1000000, ascii);
    HANDLE h;
    cr_assert_eq(try_open(huge, NULL, &h), FWP_E_INVALID_PARAMETER);
    cr_assert_eq(try_open(NULL, huge, &h), FWP_E_INVALID_PARAMETER);
    free(huge);
    FWPM_MEMORY_STATS0 st = stats();
    cr_assert_eq(st.openSessions, 0);
    cr_assert_eq(st.liveBytes, base);
}

/* chars wide characters ending exactly where a PROT_NONE page begins. */
struct guarded {
    void *map;
    size_t map_bytes;
    wchar_t *chars;
};

static struct guarded guarded_buffer(size_t chars)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t bytes = chars * sizeof(wchar_t);
    size_t data_bytes = (bytes + page - 1) / page * page;
    struct guarded g;
    g.map_bytes = data_bytes + page;
    g.map = mmap(NULL, g.map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(g.map, MAP_FAILED);
    cr_assert_eq(mprotect((char *)g.map + data_bytes, page, PROT_NONE), 0);
    g.chars = (wchar_t *)((char *)g.map + data_bytes - bytes);
    return g;
}

Test(limits, unterminated_strings_are_read_no_further_than_32768_characters)
{
    FwpmEngineClose0(NULL);
    UINT64 base = stats().liveBytes;
    /* 32,768 characters and no terminator: character 32,769 would be in the
     * guard page. Any read past the limit kills the test with SIGSEGV. */
    struct guarded g = guarded_buffer(STRING_MAX + 1);
    for (size_t i = 0; i < STRING_MAX + 1; i++)
        g.chars[i] = wide[i % 6];
    HANDLE h;
    cr_assert_eq(try_open(g.chars, NULL, &h), FWP_E_INVALID_PARAMETER);
    cr_assert_eq(try_open(NULL, g.chars, &h), FWP_E_INVALID_PARAMETER);
    cr_assert_eq(try_open(g.chars, g.chars, &h), FWP_E_INVALID_PARAMETER);
    /* 32,767 characters whose terminator is the last character before the
     * guard page: accepted, copied whole. */
    g.chars[STRING_MAX] = 0;
    cr_assert_eq(try_open(g.chars, g.chars, &h), ERROR_SUCCESS);
    wchar_t *copy = wcsdup(g.chars);
    munmap(g.map, g.map_bytes);
    expect_strings(h, copy, copy);
    close_session(h);
    free(copy);
    FWPM_MEMORY_STATS0 st = stats();
    cr_assert_eq(st.openSessions, 0);
    cr_assert_eq(st.liveBytes, base);
}
