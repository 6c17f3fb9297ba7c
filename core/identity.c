/*
 * identity.c - process id, Unix-user SID, and account names.
 *
 * All of it is looked up once (see identity.h): the password database goes
 * through NSS, and getpid/geteuid are system calls.
 */
#include "identity.h"

#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t identity_once = PTHREAD_ONCE_INIT;
static struct identity cached;

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

/* In the child after fork(): same user, new process id. */
static void identity_after_fork(void)
{
    cached.process_id = (DWORD)getpid();
}

static void identity_init(void)
{
    cached.process_id = (DWORD)getpid();
    cached.uid = geteuid();
    cached.name_length = lookup_account_name(cached.uid, cached.name);
    pthread_atfork(NULL, NULL, identity_after_fork);
}

const struct identity *identity_of_caller(void)
{
    pthread_once(&identity_once, identity_init);
    return &cached;
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
