/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identity.h - who is calling: the facts the engine fills into a session that
 * the client does not supply (process id, SID, account name).
 *
 * The SID of uid U is S-1-22-1-U (the Samba/winbind "Unix user" convention).
 * The account name comes from the password database, or is the decimal uid
 * when there is none. Any thread may call these.
 */
#ifndef FWPM_CORE_IDENTITY_H
#define FWPM_CORE_IDENTITY_H

#include "fwpmtypes.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Bytes of a SID with two sub-authorities. */
#define IDENTITY_SID_BYTES 16u
/* Longest account name kept, in characters (without the terminator). */
#define IDENTITY_NAME_MAX 255u

/* A uid's SID and account name, made once and kept for the life of the
 * process (one per distinct uid the process runs as). Immutable once
 * published, so sessions point at its SID and name instead of copying them. */
struct account {
    uid_t uid;
    size_t name_length;                                    /* characters, without terminator */
    wchar_t name[IDENTITY_NAME_MAX + 1];                   /* NUL-terminated */
    _Alignas(DWORD) unsigned char sid[IDENTITY_SID_BYTES]; /* S-1-22-1-<uid> */
    struct account *next;                                  /* all accounts, under the cache lock */
};

/* The account's SID (IDENTITY_SID_BYTES bytes), valid for the process's life. */
static inline SID *account_sid(const struct account *a)
{
    return (SID *)(void *)a->sid;
}

struct identity {
    DWORD process_id;
    uid_t uid;
    const struct account *account;
};

/* Fills *out for the caller: the process id (cached; renewed after fork),
 * the effective uid (asked for on every call: a process may change it), and
 * that uid's account. false when out of memory for a new account. */
bool identity_of_caller(struct identity *out);

/* Fills *out for a process the caller vouches for (the host engine: the
 * kernel's peer credentials of a connection). false when out of memory. */
bool identity_of_peer(struct identity *out, pid_t pid, uid_t uid);

/* In a fork child, by the fork handler alone: the child's process id, and
 * the account cache's lock re-initialised (the cached accounts, immutable,
 * stay valid). */
void identity_reset_after_fork(void);

/* Writes the S-1-22-1-<uid> SID into sid (IDENTITY_SID_BYTES bytes). */
void identity_write_sid(SID *sid, uid_t uid);

#endif /* FWPM_CORE_IDENTITY_H */
