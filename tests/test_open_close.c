/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_open_close.c - contract §2.1 and §2.2: every rule
 * and every error of FwpmEngineOpen0 and FwpmEngineClose0.
 */
#include "support.h"

#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

/* Sessions open in the engine. In host mode (tests/host/with_fwpmd.sh, one
 * daemon per suite, one test at a time) the daemon's sessions, counted by
 * enumerating through a session of our own. */
static UINT64 open_sessions(void)
{
    if (getenv("FWPM_ENGINE") != NULL) {
        HANDLE probe = open_session();
        GUID keys[64];
        size_t n = enumerate_keys(probe, INFINITE, true, keys, 64);
        close_session(probe);
        return n - 1;
    }
    FWPM_MEMORY_STATS0 st;
    cr_assert_eq(fwpm_memory_stats(&st), ERROR_SUCCESS);
    return st.openSessions;
}

/* Runs check on the entry with this key in a full enumeration (INFINITE). */
static void with_entry(HANDLE engine, const GUID *key, void (*check)(const FWPM_SESSION0 *))
{
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(engine, NULL, &e), ERROR_SUCCESS);
    FWPM_SESSION0 **entries;
    UINT32 n;
    cr_assert_eq(FwpmSessionEnum0(engine, e, INFINITE, &entries, &n), ERROR_SUCCESS);
    const FWPM_SESSION0 *found = NULL;
    for (UINT32 i = 0; i < n; i++)
        if (memcmp(&entries[i]->sessionKey, key, sizeof(*key)) == 0)
            found = entries[i];
    cr_assert_not_null(found, "session not in the enumeration");
    check(found);
    FwpmFreeMemory0((void **)&entries);
    cr_assert_eq(FwpmSessionDestroyEnumHandle0(engine, e), ERROR_SUCCESS);
}

static const GUID key_a = {0x11111111, 0x2222, 0x3333, {1, 2, 3, 4, 5, 6, 7, 8}};
static const GUID key_b = {0xAAAAAAAA, 0xBBBB, 0xCCCC, {9, 8, 7, 6, 5, 4, 3, 2}};

static HANDLE open_with(const FWPM_SESSION0 *s, DWORD expected)
{
    HANDLE h = (HANDLE)(uintptr_t)0xDEAD;
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, s, &h), expected,
                 "FwpmEngineOpen0: %s", fwpm_strerror(expected));
    return h;
}

Test(open, anonymous_session_gets_generated_v4_key)
{
    HANDLE h = open_session();
    GUID keys[16];
    size_t n = enumerate_keys(h, INFINITE, true, keys, 16);
    cr_assert_eq(n, 1);
    static const GUID zero;
    cr_assert_neq(memcmp(&keys[0], &zero, sizeof(zero)), 0);
    cr_assert_eq(keys[0].Data3 >> 12, 4, "version nibble must be 4");
    cr_assert_eq(keys[0].Data4[0] & 0xC0, 0x80, "RFC 4122 variant");
    close_session(h);
}

Test(open, generated_keys_are_distinct)
{
    enum { N = 200 };
    HANDLE h[N];
    for (int i = 0; i < N; i++)
        h[i] = open_session();
    static GUID keys[N + 1];
    cr_assert_eq(enumerate_keys(h[0], 7, true, keys, N), N);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            cr_assert_neq(memcmp(&keys[i], &keys[j], sizeof(GUID)), 0);
    for (int i = 0; i < N; i++)
        close_session(h[i]);
}

Test(open, server_name_must_be_null)
{
    HANDLE h = NULL;
    cr_assert_eq(FwpmEngineOpen0(L"remote", RPC_C_AUTHN_WINNT, NULL, NULL, &h),
                 ERROR_INVALID_PARAMETER);
    cr_assert_eq(FwpmEngineOpen0(L"", RPC_C_AUTHN_WINNT, NULL, NULL, &h), ERROR_INVALID_PARAMETER);
    cr_assert_null(h);
    cr_assert_eq(open_sessions(), 0);
}

Test(open, accepts_only_winnt_and_default_authentication)
{
    HANDLE h;
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &h), ERROR_SUCCESS);
    close_session(h);
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &h), ERROR_SUCCESS);
    close_session(h);
    UINT32 bad[] = {0, 1, 9, 11, 16, 0xFFFFFFFE};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(FwpmEngineOpen0(NULL, bad[i], NULL, NULL, &h), RPC_S_UNKNOWN_AUTHN_SERVICE,
                     "authn %u", bad[i]);
    cr_assert_eq(open_sessions(), 0);
}

Test(open, auth_identity_is_accepted_and_ignored)
{
    SEC_WINNT_AUTH_IDENTITY_W id = {.User = L"alice", .UserLength = 5};
    HANDLE h;
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, &id, NULL, &h), ERROR_SUCCESS);
    close_session(h);
}

Test(open, null_engine_handle_pointer_gives_null_pointer)
{
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, NULL), FWP_E_NULL_POINTER);
    cr_assert_eq(open_sessions(), 0);
}

Test(open, explicit_key_is_kept_and_duplicates_rejected)
{
    FWPM_SESSION0 s = {.sessionKey = key_a};
    HANDLE a = open_with(&s, ERROR_SUCCESS);
    HANDLE dup = (HANDLE)(uintptr_t)0xDEAD;
    cr_assert_eq(FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &s, &dup), FWP_E_ALREADY_EXISTS);
    cr_assert_eq(dup, (HANDLE)(uintptr_t)0xDEAD, "a failed open must not write the handle");
    cr_assert_eq(open_sessions(), 1);
    GUID keys[4];
    cr_assert_eq(enumerate_keys(a, 10, true, keys, 4), 1);
    cr_assert_eq(memcmp(&keys[0], &key_a, sizeof(GUID)), 0);
    close_session(a);
    /* Once closed, the key is free again. */
    HANDLE again = open_with(&s, ERROR_SUCCESS);
    close_session(again);
}

Test(open, rejects_flags_other_than_dynamic)
{
    FWPM_SESSION0 s = {.sessionKey = key_a, .flags = FWPM_SESSION_FLAG_DYNAMIC};
    HANDLE h = open_with(&s, ERROR_SUCCESS);
    close_session(h);
    UINT32 bad[] = {0x2,
                    0x4,
                    0x80000000u,
                    FWPM_SESSION_FLAG_RESERVED,
                    FWPM_SESSION_FLAG_DYNAMIC | FWPM_SESSION_FLAG_RESERVED,
                    0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s.flags = bad[i];
        open_with(&s, FWP_E_INVALID_FLAGS);
    }
    cr_assert_eq(open_sessions(), 0);
}

static void expect_dynamic_and_timeout(const FWPM_SESSION0 *e)
{
    cr_assert_eq(e->flags, FWPM_SESSION_FLAG_DYNAMIC);
    cr_assert_eq(e->txnWaitTimeoutInMSec, 1234);
}

static void expect_zero_timeout(const FWPM_SESSION0 *e)
{
    cr_assert_eq(e->txnWaitTimeoutInMSec, 0, "0 is kept as given (engine default)");
    cr_assert_eq(e->flags, 0);
}

Test(open, flags_and_timeout_are_kept)
{
    FWPM_SESSION0 s = {
        .sessionKey = key_a, .flags = FWPM_SESSION_FLAG_DYNAMIC, .txnWaitTimeoutInMSec = 1234};
    HANDLE h = open_with(&s, ERROR_SUCCESS);
    with_entry(h, &key_a, expect_dynamic_and_timeout);
    FWPM_SESSION0 t = {.sessionKey = key_b};
    HANDLE g = open_with(&t, ERROR_SUCCESS);
    with_entry(h, &key_b, expect_zero_timeout);
    close_session(h);
    close_session(g);
}

static void expect_copied_strings(const FWPM_SESSION0 *e)
{
    cr_assert_not_null(e->displayData.name);
    cr_assert_not_null(e->displayData.description);
    cr_assert_eq(wcscmp(e->displayData.name, L"firewall agent"), 0);
    cr_assert_eq(wcscmp(e->displayData.description, L"blocks things"), 0);
}

Test(open, display_strings_are_deep_copied)
{
    wchar_t *name = wcsdup(L"firewall agent");
    wchar_t *description = wcsdup(L"blocks things");
    FWPM_SESSION0 s = {.sessionKey = key_a, .displayData = {name, description}};
    HANDLE h = open_with(&s, ERROR_SUCCESS);
    /* The caller may reuse and free its buffers right away. */
    wmemset(name, L'X', wcslen(name));
    wmemset(description, L'Y', wcslen(description));
    free(name);
    free(description);
    with_entry(h, &key_a, expect_copied_strings);
    close_session(h);
}

static void expect_null_strings(const FWPM_SESSION0 *e)
{
    cr_assert_null(e->displayData.name);
    cr_assert_null(e->displayData.description);
}

static void expect_empty_name(const FWPM_SESSION0 *e)
{
    cr_assert_not_null(e->displayData.name);
    cr_assert_eq(e->displayData.name[0], 0);
    cr_assert_null(e->displayData.description);
}

Test(open, null_and_empty_display_strings_are_kept)
{
    FWPM_SESSION0 s = {.sessionKey = key_a};
    HANDLE h = open_with(&s, ERROR_SUCCESS);
    with_entry(h, &key_a, expect_null_strings);
    FWPM_SESSION0 t = {.sessionKey = key_b, .displayData = {L"", NULL}};
    HANDLE g = open_with(&t, ERROR_SUCCESS);
    with_entry(h, &key_b, expect_empty_name);
    close_session(h);
    close_session(g);
}

static void expect_identity(const FWPM_SESSION0 *e)
{
    cr_assert_eq(e->processId, (DWORD)getpid());
    cr_assert_eq(e->kernelMode, FALSE);
    const SID *sid = e->sid;
    cr_assert_not_null(sid);
    cr_assert_eq(sid->Revision, 1);
    cr_assert_eq(sid->SubAuthorityCount, 2);
    static const BYTE unix_authority[6] = {0, 0, 0, 0, 0, 22};
    cr_assert_eq(memcmp(sid->IdentifierAuthority.Value, unix_authority, 6), 0);
    const DWORD *sub = (const DWORD *)((const unsigned char *)sid + offsetof(SID, SubAuthority));
    cr_assert_eq(sub[0], 1);
    cr_assert_eq(sub[1], (DWORD)geteuid());

    wchar_t expected[300];
    struct passwd *pw = getpwuid(geteuid());
    if (pw != NULL)
        swprintf(expected, 300, L"%s", pw->pw_name);
    else
        swprintf(expected, 300, L"%u", (unsigned)geteuid());
    cr_assert_not_null(e->username);
    cr_assert_eq(wcscmp(e->username, expected), 0, "username %ls, expected %ls", e->username,
                 expected);
}

Test(open, engine_fills_pid_sid_and_username_ignoring_the_client)
{
    /* The client's values for engine-filled fields are ignored. */
    FWPM_SESSION0 s = {
        .sessionKey = key_a, .processId = 1, .kernelMode = TRUE, .username = L"mallory"};
    HANDLE h = open_with(&s, ERROR_SUCCESS);
    with_entry(h, &key_a, expect_identity);
    close_session(h);
}

Test(close, removes_the_session_and_invalidates_its_handle)
{
    HANDLE h = open_session();
    cr_assert_eq(open_sessions(), 1);
    close_session(h);
    cr_assert_eq(open_sessions(), 0);
    cr_assert_eq(FwpmEngineClose0(h), ERROR_INVALID_HANDLE, "double close");
    HANDLE e;
    cr_assert_eq(FwpmSessionCreateEnumHandle0(h, NULL, &e), ERROR_INVALID_HANDLE);
}

Test(close, only_its_own_session_goes)
{
    FWPM_SESSION0 a = {.sessionKey = key_a}, b = {.sessionKey = key_b};
    HANDLE ha = open_with(&a, ERROR_SUCCESS);
    HANDLE hb = open_with(&b, ERROR_SUCCESS);
    close_session(ha);
    GUID keys[4];
    cr_assert_eq(enumerate_keys(hb, 10, true, keys, 4), 1);
    cr_assert_eq(memcmp(&keys[0], &key_b, sizeof(GUID)), 0);
    close_session(hb);
}

static DWORD sid_uid(const FWPM_SESSION0 *e)
{
    const DWORD *sub = (const DWORD *)((const unsigned char *)e->sid + offsetof(SID, SubAuthority));
    return sub[1];
}

static DWORD seen_uid;
static const wchar_t *seen_user;
static void record_uid(const FWPM_SESSION0 *e)
{
    seen_uid = sid_uid(e);
    seen_user = e->username;
}

static const SID *seen_sid;
static void record_identity_storage(const FWPM_SESSION0 *e)
{
    seen_sid = e->sid;
    seen_user = e->username;
}

Test(open, sessions_of_one_account_share_its_sid_and_username)
{
    /* One copy per account, not per session (contract §5.2): the SID and
     * name outlive every session, so sharing them is invisible to a reader. */
    FWPM_SESSION0 a = {.sessionKey = key_a}, b = {.sessionKey = key_b};
    HANDLE ha = open_with(&a, ERROR_SUCCESS);
    HANDLE hb = open_with(&b, ERROR_SUCCESS);
    with_entry(ha, &key_a, record_identity_storage);
    const SID *sid_a = seen_sid;
    const wchar_t *user_a = seen_user;
    with_entry(ha, &key_b, record_identity_storage);
    cr_assert_eq(seen_sid, sid_a, "the second session copied the SID");
    cr_assert_eq(seen_user, user_a, "the second session copied the username");
    close_session(ha);
    close_session(hb);
}

Test(open, identity_follows_a_change_of_effective_uid)
{
    if (geteuid() != 0)
        cr_skip_test("needs root to change the effective uid");
    FWPM_SESSION0 a = {.sessionKey = key_a}, b = {.sessionKey = key_b};
    HANDLE ha = open_with(&a, ERROR_SUCCESS);
    cr_assert_eq(seteuid(65534), 0);
    HANDLE hb = open_with(&b, ERROR_SUCCESS);
    cr_assert_eq(seteuid(0), 0);
    with_entry(ha, &key_a, record_uid);
    cr_assert_eq(seen_uid, 0);
    with_entry(ha, &key_b, record_uid);
    cr_assert_eq(seen_uid, 65534, "the SID must be the caller's uid at the time of the open");
    close_session(ha);
    close_session(hb);
}

Test(open, duplicate_keys_are_rejected_across_table_rebuilds)
{
    /* Churn wears the hash set out with tombstones until it is rebuilt; keys
     * must still be found, before, across and after the rebuilds. */
    FWPM_SESSION0 a = {.sessionKey = key_a};
    HANDLE ha = open_with(&a, ERROR_SUCCESS);
    enum { LIVE = 300, CHURN = 20000 };
    HANDLE h[LIVE];
    for (int i = 0; i < LIVE; i++)
        h[i] = open_session();
    for (int i = 0; i < CHURN; i++) {
        int k = i % LIVE;
        close_session(h[k]);
        h[k] = open_session();
        if (i % 997 == 0)
            open_with(&a, FWP_E_ALREADY_EXISTS);
    }
    open_with(&a, FWP_E_ALREADY_EXISTS);
    close_session(ha);
    ha = open_with(&a, ERROR_SUCCESS);
    for (int i = 0; i < LIVE; i++)
        close_session(h[i]);
    close_session(ha);
    cr_assert_eq(open_sessions(), 0);
}
