/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identity.c - process id, Unix-user SID, and account names.
 *
 * The process id is asked for once (and again in a fork child); the effective uid on
 * every call, since a process may change it; account names once per uid, as
 * the password database goes through NSS and can take microseconds.
 */
#include "identity.h"

#include "memory.h"

#include <pthread.h>
#include <stdatomic.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t identity_once = PTHREAD_ONCE_INIT;
static _Atomic DWORD cached_process_id;
/* The account most recently used: the fast path when the uid is unchanged. */
static _Atomic(const struct account *) last_account;
static pthread_mutex_t accounts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct account *accounts; /* under accounts_lock */

/* Decodes UTF-8 into wide characters; malformed bytes become U+FFFD.
 * Returns the number of characters written (at most max), or SIZE_MAX when
 * the text does not fit. */
static size_t utf8_to_wide(const char *in, wchar_t *out, size_t max)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = 0;
    while (*p != 0) {
        uint32_t c = *p++;
        int extra = 0;
        if (c >= 0xF0 && c < 0xF8) {
            c &= 0x07;
            extra = 3;
        } else if (c >= 0xE0) {
            c &= 0x0F;
            extra = 2;
        } else if (c >= 0xC0) {
            c &= 0x1F;
            extra = 1;
        } else if (c >= 0x80) {
            c = 0xFFFD;
        }
        for (; extra > 0; extra--) {
            if ((*p & 0xC0) != 0x80) {
                c = 0xFFFD;
                break;
            }
            c = (c << 6) | (*p++ & 0x3F);
        }
        if (n == max)
            return SIZE_MAX;
        out[n++] = (wchar_t)c;
    }
    return n;
}

static size_t lookup_account_name(uid_t uid, wchar_t *out)
{
    struct passwd pw, *found = NULL;
    char buffer[4096];
    if (getpwuid_r(uid, &pw, buffer, sizeof(buffer), &found) == 0 && found != NULL &&
        found->pw_name != NULL && found->pw_name[0] != 0) {
        size_t n = utf8_to_wide(found->pw_name, out, IDENTITY_NAME_MAX);
        if (n != SIZE_MAX) {
            out[n] = 0;
            return n;
        }
    }
    char digits[16];
    snprintf(digits, sizeof(digits), "%u", (unsigned)uid);
    size_t n = utf8_to_wide(digits, out, IDENTITY_NAME_MAX);
    out[n] = 0;
    return n;
}

static void identity_init(void)
{
    atomic_store_explicit(&cached_process_id, (DWORD)getpid(), memory_order_relaxed);
}

void identity_reset_after_fork(void)
{
    pthread_mutex_init(&accounts_lock, NULL);
    /* Also right when identity_init has not run yet: it stores the same. */
    atomic_store_explicit(&cached_process_id, (DWORD)getpid(), memory_order_relaxed);
}

static const struct account *account_of(uid_t uid)
{
    /* Acquire: pairs with the release below; the entry is complete. */
    const struct account *a = atomic_load_explicit(&last_account, memory_order_acquire);
    if (a != NULL && a->uid == uid)
        return a;
    pthread_mutex_lock(&accounts_lock);
    struct account *found = accounts;
    while (found != NULL && found->uid != uid)
        found = found->next;
    if (found == NULL) {
        found = memory_alloc(sizeof(*found), MEMORY_INFRASTRUCTURE);
        if (found != NULL) {
            found->uid = uid;
            found->name_length = lookup_account_name(uid, found->name);
            identity_write_sid(account_sid(found), uid);
            found->next = accounts;
            accounts = found;
        }
    }
    if (found != NULL)
        atomic_store_explicit(&last_account, found, memory_order_release);
    pthread_mutex_unlock(&accounts_lock);
    return found;
}

bool identity_of_caller(struct identity *out)
{
    pthread_once(&identity_once, identity_init);
    out->process_id = atomic_load_explicit(&cached_process_id, memory_order_relaxed);
    out->uid = geteuid();
    out->account = account_of(out->uid);
    return out->account != NULL;
}

bool identity_of_peer(struct identity *out, pid_t pid, uid_t uid)
{
    out->process_id = (DWORD)pid;
    out->uid = uid;
    out->account = account_of(uid);
    return out->account != NULL;
}

void identity_write_sid(SID *sid, uid_t uid)
{
    static const BYTE unix_authority[6] = {0, 0, 0, 0, 0, 22};
    sid->Revision = 1;
    sid->SubAuthorityCount = 2;
    memcpy(sid->IdentifierAuthority.Value, unix_authority, sizeof(unix_authority));
    /* SubAuthority is declared [1] (ANYSIZE_ARRAY); write past it through a
     * pointer to the storage the caller sized for two. */
    DWORD *sub = (DWORD *)((unsigned char *)sid + offsetof(SID, SubAuthority));
    sub[0] = 1;
    sub[1] = (DWORD)uid;
}
