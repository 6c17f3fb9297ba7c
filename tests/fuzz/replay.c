/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay.c - runs corpus files through the fuzz target without libFuzzer:
 * the fuzz_replay regression test. Each file runs in a child process, so a
 * mismatch (abort) or crash fails that file and the others still run.
 * Usage: fuzz_replay FILE-OR-DIRECTORY...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int passed, failed;

/* Runs one file in a child; counts the outcome. */
static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open\n", path);
        failed++;
        return;
    }
    uint8_t *data = NULL;
    size_t size = 0, cap = 0, got;
    do {
        if (size == cap) {
            cap = cap ? cap * 2 : 4096;
            data = realloc(data, cap);
            if (data == NULL)
                abort();
        }
        got = fread(data + size, 1, cap - size, f);
        size += got;
    } while (got > 0);
    fclose(f);

    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        LLVMFuzzerTestOneInput(data, size);
        _exit(0);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAILED: %s (%s %d)\n", path,
                child > 0 && WIFSIGNALED(status) ? "signal" : "exit status",
                child > 0 && WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        failed++;
    } else {
        passed++;
    }
    free(data);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int regular_file(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: not found\n", argv[i]);
            failed++;
        } else if (S_ISDIR(st.st_mode)) {
            struct dirent **names;
            int n = scandir(argv[i], &names, regular_file, by_name);
            for (int k = 0; k < n; k++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
                run_file(path);
                free(names[k]);
            }
            free(n >= 0 ? names : NULL);
        } else {
            run_file(argv[i]);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
