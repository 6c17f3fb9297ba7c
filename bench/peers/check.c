/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.c - fwpm-bench-check: runs the same contract checks (docs/contract.md
 * §2) against every engine in the bench (fwpm and each peer, through struct fwpm_impl), so
 * that the baselines are known to be honest: same semantics, same errors,
 * arrays that outlive their handles and sessions, exactly-once delivery to
 * threads sharing a handle, and no growth over repeated cycles.
 * Usage: fwpm-bench-check [impl...]   (default: all). Exit status 1 on failure.
 */
#include "impl.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

static int failures;
static const struct fwpm_impl *im;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s: %s:%d: %s\n", im->name, __FILE__, __LINE__, #cond);          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define CHECK_RC(call, want)                                                                       \
    do {                                                                                           \
        DWORD rc_ = (call);                                                                        \
        if (rc_ != (want)) {                                                                       \
            fprintf(stderr, "FAIL %s: %s:%d: %s = 0x%08X, want 0x%08X\n", im->name, __FILE__,      \
                    __LINE__, #call, (unsigned)rc_, (unsigned)(want));                             \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static HANDLE open_named(const wchar_t *name)
{
    FWPM_SESSION0 s = {.displayData = {.name = (wchar_t *)name}};
    HANDLE h = NULL;
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &h), ERROR_SUCCESS);
    return h;
}

/* All entries of a fresh handle, in one INFINITE page (caller frees). */
static FWPM_SESSION0 **snapshot_all(HANDLE client, UINT32 *n)
{
    HANDLE e;
    FWPM_SESSION0 **entries = NULL;
    *n = 0;
    CHECK_RC(im->create_enum_handle(client, NULL, &e), ERROR_SUCCESS);
    CHECK_RC(im->session_enum(client, e, INFINITE, &entries, n), ERROR_SUCCESS);
    CHECK_RC(im->destroy_enum_handle(client, e), ERROR_SUCCESS);
    return entries;
}

static void check_open_arguments(void)
{
    HANDLE h = NULL;
    FWPM_SESSION0 s = {0};
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, NULL), FWP_E_NULL_POINTER);
    CHECK_RC(im->engine_open(L"host", RPC_C_AUTHN_WINNT, NULL, NULL, &h), ERROR_INVALID_PARAMETER);
    CHECK_RC(im->engine_open(NULL, 5, NULL, NULL, &h), RPC_S_UNKNOWN_AUTHN_SERVICE);
    s.flags = 0x2;
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &h), FWP_E_INVALID_FLAGS);
    s.flags = FWPM_SESSION_FLAG_RESERVED;
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &h), FWP_E_INVALID_FLAGS);
    s.flags = 0;
    wchar_t *big = malloc(32769 * sizeof(wchar_t));
    wmemset(big, L'x', 32768);
    big[32768] = L'\0';
    s.displayData.name = big;
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &h), FWP_E_INVALID_PARAMETER);
    big[32767] = L'\0';
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_DEFAULT, NULL, &s, &h), ERROR_SUCCESS);
    CHECK_RC(im->engine_close(h), ERROR_SUCCESS);
    free(big);
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &h), ERROR_SUCCESS);
    CHECK_RC(im->engine_close(h), ERROR_SUCCESS);
}

static void check_keys_and_copies(void)
{
    FWPM_SESSION0 s = {.sessionKey = {0x12345678, 1, 2, {3, 4, 5, 6, 7, 8, 9, 10}}};
    wchar_t name[] = L"original";
    s.displayData.name = name;
    s.txnWaitTimeoutInMSec = 77;
    HANDLE a, b, anon1 = open_named(NULL), anon2 = open_named(NULL);
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &a), ERROR_SUCCESS);
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &b), FWP_E_ALREADY_EXISTS);
    name[0] = L'X'; /* deep copy: the engine must not see this */

    UINT32 n;
    FWPM_SESSION0 **all = snapshot_all(a, &n);
    CHECK(n == 3);
    const FWPM_SESSION0 *mine = NULL, *gen[2] = {NULL, NULL};
    int ngen = 0;
    for (UINT32 i = 0; i < n; i++) {
        if (memcmp(&all[i]->sessionKey, &s.sessionKey, sizeof(GUID)) == 0)
            mine = all[i];
        else if (ngen < 2)
            gen[ngen++] = all[i];
    }
    CHECK(mine && mine->displayData.name && wcscmp(mine->displayData.name, L"original") == 0);
    CHECK(mine && mine->displayData.description == NULL && mine->txnWaitTimeoutInMSec == 77);
    CHECK(mine && mine->processId == (DWORD)getpid() && mine->kernelMode == FALSE);
    CHECK(mine && mine->username && mine->username[0] != L'\0');
    CHECK(mine && mine->sid && mine->sid->Revision == 1 && mine->sid->SubAuthorityCount == 2 &&
          mine->sid->IdentifierAuthority.Value[5] == 22 && mine->sid->SubAuthority[0] == 1);
    DWORD sid_uid = 0; /* SubAuthority is declared [1]: read the second one by offset */
    if (mine && mine->sid)
        memcpy(&sid_uid, (const char *)mine->sid + offsetof(SID, SubAuthority) + sizeof(DWORD),
               sizeof(sid_uid));
    CHECK(sid_uid == (DWORD)geteuid());
    CHECK(ngen == 2 && memcmp(&gen[0]->sessionKey, &gen[1]->sessionKey, sizeof(GUID)) != 0);
    CHECK(ngen == 2 && (gen[0]->sessionKey.Data3 >> 12) == 4); /* version 4 */

    /* Entries outlive their sessions until the array is freed. */
    CHECK_RC(im->engine_close(a), ERROR_SUCCESS);
    CHECK_RC(im->engine_close(anon1), ERROR_SUCCESS);
    CHECK(mine && wcscmp(mine->displayData.name, L"original") == 0);
    CHECK_RC(im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &a), ERROR_SUCCESS); /* key free */
    im->free_memory((void **)&all);
    CHECK(all == NULL);
    CHECK_RC(im->engine_close(a), ERROR_SUCCESS);
    CHECK_RC(im->engine_close(anon2), ERROR_SUCCESS);
}

static void check_paging_and_handles(void)
{
    HANDLE h[5], other = open_named(L"other"), e, e2;
    for (int i = 0; i < 5; i++)
        h[i] = open_named(L"paged");
    FWPM_SESSION_ENUM_TEMPLATE0 bad = {.reserved = 1};
    CHECK_RC(im->create_enum_handle(h[0], &bad, &e), FWP_E_RESERVED);
    CHECK_RC(im->create_enum_handle(h[0], NULL, NULL), FWP_E_NULL_POINTER);
    CHECK_RC(im->create_enum_handle(NULL, NULL, &e), ERROR_INVALID_HANDLE);
    CHECK_RC(im->create_enum_handle((HANDLE)(uintptr_t)0xdeadbeef, NULL, &e), ERROR_INVALID_HANDLE);
    CHECK_RC(im->create_enum_handle(h[0], NULL, &e), ERROR_SUCCESS);

    FWPM_SESSION0 **p = NULL;
    UINT32 k = 99, total = 0;
    CHECK_RC(im->session_enum(h[0], e, 4, NULL, &k), FWP_E_NULL_POINTER);
    CHECK_RC(im->session_enum(h[0], e, 4, &p, NULL), FWP_E_NULL_POINTER);
    CHECK_RC(im->session_enum(other, e, 4, &p, &k), FWP_E_WRONG_SESSION);
    CHECK_RC(im->session_enum(e, e, 4, &p, &k), ERROR_INVALID_HANDLE);
    CHECK_RC(im->session_enum(h[0], h[0], 4, &p, &k), ERROR_INVALID_HANDLE);
    CHECK_RC(im->session_enum(h[0], e, 4, &p, &k), ERROR_SUCCESS);
    CHECK(k == 4 && p != NULL);
    total += k;
    im->free_memory((void **)&p);
    CHECK_RC(im->session_enum(h[0], e, 4, &p, &k), ERROR_SUCCESS);
    CHECK(k == 2); /* 6 sessions: a short page ends it */
    total += k;
    im->free_memory((void **)&p);
    CHECK_RC(im->session_enum(h[0], e, INFINITE, &p, &k), ERROR_SUCCESS);
    CHECK(k == 0 && p == NULL);
    CHECK(total == 6);
    CHECK_RC(im->destroy_enum_handle(other, e), FWP_E_WRONG_SESSION);
    CHECK_RC(im->destroy_enum_handle(h[0], e), ERROR_SUCCESS);
    CHECK_RC(im->destroy_enum_handle(h[0], e), ERROR_INVALID_HANDLE);
    CHECK_RC(im->session_enum(h[0], e, 4, &p, &k), ERROR_INVALID_HANDLE);

    /* Closing a session invalidates its enumeration handles; arrays survive. */
    CHECK_RC(im->create_enum_handle(h[1], NULL, &e), ERROR_SUCCESS);
    CHECK_RC(im->create_enum_handle(h[1], NULL, &e2), ERROR_SUCCESS);
    CHECK_RC(im->session_enum(h[1], e2, 3, &p, &k), ERROR_SUCCESS);
    CHECK(k == 3);
    CHECK_RC(im->engine_close(h[1]), ERROR_SUCCESS);
    CHECK_RC(im->engine_close(h[1]), ERROR_INVALID_HANDLE);
    CHECK_RC(im->session_enum(h[1], e, 4, &p, &k), ERROR_INVALID_HANDLE);
    CHECK_RC(im->destroy_enum_handle(h[1], e2), ERROR_INVALID_HANDLE);
    for (int i = 0; i < 5; i++)
        if (i != 1)
            CHECK_RC(im->engine_close(h[i]), ERROR_SUCCESS);
    CHECK_RC(im->engine_close(other), ERROR_SUCCESS);
    for (UINT32 i = 0; i < 3; i++)
        CHECK(p && p[i]->username && p[i]->sid && p[i]->sid->SubAuthorityCount == 2);
    im->free_memory((void **)&p);
    im->free_memory(NULL);
    im->free_memory((void **)&p);
    CHECK_RC(im->engine_close(NULL), ERROR_INVALID_HANDLE);
    CHECK_RC(im->engine_close((HANDLE)(uintptr_t)0x123456789abcULL), ERROR_INVALID_HANDLE);
}

/* ---- threads sharing one handle: every entry exactly once -------------- */

#define SHARED_N 5000

struct pager {
    HANDLE client, e;
    const FWPM_SESSION0 **seen;
    size_t count;
};

static void *pager_run(void *arg)
{
    struct pager *p = arg;
    for (;;) {
        FWPM_SESSION0 **page;
        UINT32 k;
        if (im->session_enum(p->client, p->e, 7, &page, &k) != ERROR_SUCCESS || k == 0)
            break;
        for (UINT32 i = 0; i < k; i++)
            p->seen[p->count++] = page[i];
        im->free_memory((void **)&page);
    }
    return NULL;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static void check_shared_handle(void)
{
    HANDLE *h = malloc(SHARED_N * sizeof(*h)), e;
    for (int i = 0; i < SHARED_N; i++)
        h[i] = open_named(L"shared");
    CHECK_RC(im->create_enum_handle(h[0], NULL, &e), ERROR_SUCCESS);
    struct pager p[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        p[i] = (struct pager){h[i], e, malloc(SHARED_N * sizeof(void *)), 0};
        pthread_create(&t[i], NULL, pager_run, &p[i]);
    }
    const FWPM_SESSION0 **all = malloc(SHARED_N * sizeof(*all));
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK(n + p[i].count <= SHARED_N);
        for (size_t j = 0; j < p[i].count && n < SHARED_N; j++)
            all[n++] = p[i].seen[j];
        free(p[i].seen);
    }
    qsort(all, n, sizeof(*all), cmp_ptr);
    size_t dups = 0;
    for (size_t i = 1; i < n; i++)
        dups += all[i] == all[i - 1];
    CHECK(n == SHARED_N && dups == 0);
    free(all);
    CHECK_RC(im->destroy_enum_handle(h[0], e), ERROR_SUCCESS);
    for (int i = 0; i < SHARED_N; i++)
        CHECK_RC(im->engine_close(h[i]), ERROR_SUCCESS);
    free(h);
}

/* ---- churn while enumerating -------------------------------------------- */

#define CHURN_N 2000

static atomic_bool churn_stop;

struct churner {
    HANDLE *h;
    size_t lo, hi;
};

static void *churn_run(void *arg)
{
    struct churner *c = arg;
    for (size_t r = 0; !atomic_load_explicit(&churn_stop, memory_order_relaxed); r++) {
        size_t k = c->lo + r % (c->hi - c->lo);
        if (im->engine_close(c->h[k]) != ERROR_SUCCESS ||
            im->engine_open(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &c->h[k]) != ERROR_SUCCESS) {
            fprintf(stderr, "FAIL %s: churn\n", im->name);
            failures++;
            break;
        }
    }
    return NULL;
}

static void check_churn(void)
{
    HANDLE *h = malloc(CHURN_N * sizeof(*h));
    for (int i = 0; i < CHURN_N; i++)
        h[i] = open_named(L"churn");
    struct churner c[2] = {{h, 1, CHURN_N / 2}, {h, CHURN_N / 2, CHURN_N}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, churn_run, &c[i]);
    bool atomic = strcmp(im->snapshot, "atomic") == 0;
    for (int round = 0; round < 200; round++) {
        UINT32 n;
        FWPM_SESSION0 **all = snapshot_all(h[0], &n);
        /* Two writers each close then open: between N-2 and N sessions. */
        if (atomic)
            CHECK(n >= CHURN_N - 2 && n <= CHURN_N);
        qsort(all, n, sizeof(*all), cmp_ptr);
        for (UINT32 i = 1; atomic && i < n; i++)
            CHECK(all[i] != all[i - 1]);
        for (UINT32 i = 0; i < n; i++)
            CHECK(all[i]->username != NULL);
        im->free_memory((void **)&all);
    }
    atomic_store_explicit(&churn_stop, true, memory_order_relaxed);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    atomic_store_explicit(&churn_stop, false, memory_order_relaxed);
    for (int i = 0; i < CHURN_N; i++)
        CHECK_RC(im->engine_close(h[i]), ERROR_SUCCESS);
    free(h);
}

/* ---- memory: repeated identical cycles must not grow ------------------- */

static void cycle(void)
{
    check_paging_and_handles();
    check_shared_handle();
}

static void check_no_growth(void)
{
    uint64_t bytes[3];
    for (int i = 0; i < 3; i++) {
        cycle();
        im->reclaim();
        bytes[i] = im->memory_bytes();
    }
    if (bytes[2] > bytes[1] + 4096)
        fprintf(stderr, "FAIL %s: memory grew over identical cycles: %llu -> %llu bytes\n",
                im->name, (unsigned long long)bytes[1], (unsigned long long)bytes[2]);
    failures += bytes[2] > bytes[1] + 4096;
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < FWPM_ALL_IMPLS_COUNT; i++) {
        im = fwpm_all_impls[i];
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], im->name) == 0;
        if (!wanted)
            continue;
        int before = failures;
        check_open_arguments();
        check_keys_and_copies();
        check_paging_and_handles();
        check_shared_handle();
        check_churn();
        check_no_growth();
        printf("%s %s (%s snapshots)\n", failures == before ? "ok  " : "FAIL", im->name,
               im->snapshot);
    }
    return failures ? 1 : 0;
}
