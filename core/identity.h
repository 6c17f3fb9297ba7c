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

/* Fills *out with the calling process's and user's identity. */
void identity_of_caller(struct identity *out);

/* Writes the S-1-22-1-<uid> SID into sid (IDENTITY_SID_BYTES bytes). */
void identity_write_sid(SID *sid, uid_t uid);

#endif /* FWPM_CORE_IDENTITY_H */
