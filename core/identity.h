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

#include <stddef.h>
#include <sys/types.h>

/* Bytes of a SID with two sub-authorities. */
#define IDENTITY_SID_BYTES 16u
/* Longest account name kept, in characters (without the terminator). */
#define IDENTITY_NAME_MAX 255u

struct identity {
    DWORD process_id;
    uid_t uid;
    size_t name_length;                  /* characters, without terminator */
    wchar_t name[IDENTITY_NAME_MAX + 1]; /* NUL-terminated */
};

/* The calling process's identity. It is read once per process (system calls
 * cost a microsecond each on some virtual machines, more than a whole open)
 * and again in a child after fork(). A process that changes its effective
 * uid later keeps reporting the uid it had at its first open. The result
 * stays valid and unchanged for the life of the process. */
const struct identity *identity_of_caller(void);

/* Writes the S-1-22-1-<uid> SID into sid (IDENTITY_SID_BYTES bytes). */
void identity_write_sid(SID *sid, uid_t uid);

#endif /* FWPM_CORE_IDENTITY_H */
