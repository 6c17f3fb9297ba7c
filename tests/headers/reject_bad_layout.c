/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reject_bad_layout.c - compiled (never run) by ctest with one of
 * FWPM_BAD_GUID or FWPM_BAD_DWORD: a compatibility header whose GUID or
 * DWORD would change fwpm's structure layouts must break the build rather
 * than be taken silently. The test passes when the compiler names the
 * offending check (see CMakeLists.txt here).
 */
#include <stdint.h>

#ifdef FWPM_BAD_GUID
/* A naive Linux port of guiddef.h: unsigned long is 8 bytes here. */
#define GUID_DEFINED
typedef struct {
    unsigned long Data1;
    unsigned short Data2;
    unsigned short Data3;
    unsigned char Data4[8];
} GUID;
#endif

#ifdef FWPM_BAD_DWORD
/* A naive Linux port of minwindef.h: a 64-bit DWORD. */
typedef unsigned long DWORD;
#endif

#include <fwpmu.h>

int main(void)
{
    return 0;
}
