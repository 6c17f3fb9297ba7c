/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fwpmd_corpus.c - writes the daemon fuzz target's seeds into a directory:
 * fwpmd-corpus tests/fuzz/daemon-corpus (README.md: regenerating the seeds).
 */
#include <stdio.h>

void fwpmd_fuzz_make_corpus(const char *dir);

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fwpmd-corpus DIR\n");
        return 2;
    }
    fwpmd_fuzz_make_corpus(argv[1]);
    return 0;
}
