/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dlopen_cycle.c - libfwpm.so as a plugin host or language binding loads it:
 * plain dlopen() in a process that links neither fwpm nor jemalloc, with no
 * environment settings; the six functions through dlsym(); a session cycle;
 * then threads that used fwpm are still alive when the library is
 * dlclose()d, and exit afterwards (their thread-specific-data destructors
 * must still find their code). Finally the library is loaded again and used.
 * Throughout, the program's malloc stays glibc's, and the library reports the
 * allocator expected.
 * Usage: link_dlopen PATH/libfwpm.so EXPECTED_ALLOCATOR
 */
#include "cycle.h"
#include "host_malloc.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define USER_THREADS 8

/* Hand-off between main and the user threads (no sleeps: a condition). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int threads_done_with_fwpm; /* under lock */
static bool library_closed;        /* under lock */
static int thread_failures;        /* under lock */

static void *symbol(void *lib, const char *name, bool *ok)
{
    void *p = dlsym(lib, name);
    if (p == NULL) {
        fprintf(stderr, "dlsym(%s): %s\n", name, dlerror());
        *ok = false;
    }
    return p;
}

/* Loads the library and fills *calls; NULL (after a message) on failure. */
static void *load(const char *path, struct fwpm_calls *calls)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return NULL;
    }
    bool ok = true;
    void *fn[6] = {symbol(lib, "FwpmEngineOpen0", &ok),
                   symbol(lib, "FwpmEngineClose0", &ok),
                   symbol(lib, "FwpmSessionCreateEnumHandle0", &ok),
                   symbol(lib, "FwpmSessionEnum0", &ok),
                   symbol(lib, "FwpmSessionDestroyEnumHandle0", &ok),
                   symbol(lib, "FwpmFreeMemory0", &ok)};
    /* POSIX: an object pointer from dlsym converts to a function pointer. */
    memcpy(&calls->engine_open, &fn[0], sizeof(fn[0]));
    memcpy(&calls->engine_close, &fn[1], sizeof(fn[1]));
    memcpy(&calls->create_enum_handle, &fn[2], sizeof(fn[2]));
    memcpy(&calls->session_enum, &fn[3], sizeof(fn[3]));
    memcpy(&calls->destroy_enum_handle, &fn[4], sizeof(fn[4]));
    memcpy(&calls->free_memory, &fn[5], sizeof(fn[5]));
    return ok ? lib : NULL;
}

static const char *allocator_name(void *lib)
{
    const char *(*name)(void);
    void *p = dlsym(lib, "fwpm_allocator_name");
    if (p == NULL)
        return "(no fwpm_allocator_name)";
    memcpy(&name, &p, sizeof(p));
    return name();
}

/* Uses fwpm (which gives the thread its per-thread state), reports, then
 * stays alive until main has closed the library, and exits. */
static void *user_thread(void *arg)
{
    int failed = link_session_cycle(arg);
    pthread_mutex_lock(&lock);
    thread_failures += failed;
    threads_done_with_fwpm++;
    pthread_cond_broadcast(&changed);
    while (!library_closed)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    return NULL; /* thread-specific-data destructors run now */
}

static int run_threads_across_dlclose(void *lib, struct fwpm_calls *calls)
{
    pthread_t t[USER_THREADS];
    for (int i = 0; i < USER_THREADS; i++)
        pthread_create(&t[i], NULL, user_thread, calls);
    pthread_mutex_lock(&lock);
    while (threads_done_with_fwpm < USER_THREADS)
        pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    if (dlclose(lib) != 0) {
        fprintf(stderr, "dlclose: %s\n", dlerror());
        return 1;
    }
    pthread_mutex_lock(&lock);
    library_closed = true;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < USER_THREADS; i++)
        pthread_join(t[i], NULL);
    return thread_failures;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PATH/libfwpm.so EXPECTED_ALLOCATOR\n", argv[0]);
        return 2;
    }
    struct fwpm_calls calls;
    void *lib = load(argv[1], &calls);
    if (lib == NULL)
        return 1;
    if (link_session_cycle(&calls) != 0)
        return 1;
    if (run_threads_across_dlclose(lib, &calls) != 0)
        return 1;
    printf("%d threads exited after dlclose\n", USER_THREADS);
    lib = load(argv[1], &calls); /* loaded again, used again */
    if (lib == NULL || link_session_cycle(&calls) != 0)
        return 1;
    const char *allocator = allocator_name(lib);
    printf("allocator: %s\n", allocator);
    if (strcmp(allocator, argv[2]) != 0) {
        fprintf(stderr, "fwpm is served by %s, not %s\n", allocator, argv[2]);
        return 1;
    }
    if (!host_malloc_is_glibc()) {
        fprintf(stderr, "the program's malloc is not glibc's\n");
        return 1;
    }
    dlclose(lib);
    printf("link_dlopen: 1 passed, 0 failed\n");
    return 0;
}
