/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fork.c - fork() in a busy multithreaded process (contract §6.1, "fork()"):
 * sessions belong to the process that opened them.
 *
 * Three threads churn sessions and one enumerates while the main thread forks
 * FORKS times. Each child, under an alarm() watchdog (a hung child dies of
 * SIGALRM and the parent counts it):
 *   - finds every handle inherited from the parent (the main thread's, and
 *     the latest of each busy thread, whatever state it was in at the fork)
 *     answered with ERROR_INVALID_HANDLE by every function;
 *   - reads an array the parent received before the fork, then frees it,
 *     which gives back that array's bytes and nothing else;
 *   - opens two sessions, enumerates, and sees exactly those two, with its
 *     own pid as processId;
 *   - closes them, calls fwpm_reclaim(), and finds no session left.
 * Then the same with 63 churners (oversubscribed: 65 threads on 2 cores).
 * The first child of each phase also forks a grandchild that runs the same checks against
 * the child's handles and array. Ordering uses waitpid only: no sleeps.
 */
#include "stress.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 200u
#define CHURNERS 3u
/* Then the same, oversubscribed: 63 churners and one enumerator on 2 cores. */
#define CROWD_CHURNERS 63u
#define CROWD_FORKS 50u
#define WATCHDOG_SECONDS 30u
#define MAX_HUNG 3u      /* stop forking once this many children hung */
#define ARRAY_ENTRIES 2u /* in the inherited arrays; the child has 2 sessions */

/* The latest handles of the busy threads, for the children to try. */
static unsigned churners; /* of the phase running; set before its threads */
static _Atomic(HANDLE) churn_handles[CROWD_CHURNERS];
static _Atomic(HANDLE) enumerator_engine, enumerator_enum;
static _Atomic bool stop;

/* What a process hands down to the children it forks. */
struct inheritance {
    HANDLE engines[3 + CROWD_CHURNERS + 1];
    unsigned engine_count;
    HANDLE enums[8];
    unsigned enum_count;
    FWPM_SESSION0 **array; /* a page received before the fork */
    UINT32 array_count;
    DWORD array_pid; /* processId of every entry of the array */
};

/* Child-side failures: counted, the first few printed without stdio locks
 * (a parent thread may have held one at the fork). */
static unsigned child_failures;
#define CHILD_CHECK(cond, what)                                                                    \
    do {                                                                                           \
        if (!(cond) && child_failures++ < 5)                                                       \
            dprintf(2, "test_fork: child %d: line %d: %s\n", (int)getpid(), __LINE__, what);       \
    } while (0)

/* Churners reclaim now and then: the forks then also land inside
 * fwpm_reclaim (the writer lock, retire_lock, a grace period), and the
 * parent's memory stays small, so each fork stays cheap. */
#define RECLAIM_EVERY 128u

static void churn(unsigned index)
{
    for (unsigned n = 1; !atomic_load_explicit(&stop, memory_order_relaxed); n++) {
        if (n % RECLAIM_EVERY == 0)
            fwpm_reclaim();
        HANDLE h = NULL;
        if (FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, NULL, &h) != ERROR_SUCCESS)
            continue;
        atomic_store_explicit(&churn_handles[index], h, memory_order_relaxed);
        STRESS_CHECK(FwpmEngineClose0(h) == ERROR_SUCCESS, "churn close");
    }
}

static void enumerate(void)
{
    HANDLE engine = stress_open(L"enumerator");
    atomic_store_explicit(&enumerator_engine, engine, memory_order_relaxed);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        HANDLE e;
        if (FwpmSessionCreateEnumHandle0(engine, NULL, &e) != ERROR_SUCCESS)
            continue;
        atomic_store_explicit(&enumerator_enum, e, memory_order_relaxed);
        FWPM_SESSION0 **entries;
        UINT32 n;
        while (FwpmSessionEnum0(engine, e, 2, &entries, &n) == ERROR_SUCCESS && n > 0)
            FwpmFreeMemory0((void **)&entries);
        STRESS_CHECK(FwpmSessionDestroyEnumHandle0(engine, e) == ERROR_SUCCESS, "destroy");
    }
    STRESS_CHECK(FwpmEngineClose0(engine) == ERROR_SUCCESS, "enumerator close");
}

static void busy(unsigned index, void *arg)
{
    (void)arg;
    if (index < churners)
        churn(index);
    else
        enumerate();
}

/* Every function answers an inherited handle with ERROR_INVALID_HANDLE, and
 * an inherited enumeration handle also through the child's own engine. */
static void check_inherited_handles(const struct inheritance *in, HANDLE own)
{
    HANDLE probe_enum = in->enum_count > 0 ? in->enums[0] : NULL;
    for (unsigned i = 0; i < in->engine_count; i++) {
        HANDLE h = in->engines[i], e = NULL;
        FWPM_SESSION0 **entries = NULL;
        UINT32 n = 0;
        CHILD_CHECK(FwpmSessionCreateEnumHandle0(h, NULL, &e) == ERROR_INVALID_HANDLE,
                    "create through an inherited engine handle");
        CHILD_CHECK(FwpmSessionEnum0(h, probe_enum, 10, &entries, &n) == ERROR_INVALID_HANDLE,
                    "page through an inherited engine handle");
        CHILD_CHECK(FwpmSessionDestroyEnumHandle0(h, probe_enum) == ERROR_INVALID_HANDLE,
                    "destroy through an inherited engine handle");
        CHILD_CHECK(FwpmEngineClose0(h) == ERROR_INVALID_HANDLE, "close an inherited engine");
    }
    for (unsigned i = 0; i < in->enum_count; i++) {
        FWPM_SESSION0 **entries = NULL;
        UINT32 n = 0;
        CHILD_CHECK(FwpmSessionEnum0(own, in->enums[i], 10, &entries, &n) == ERROR_INVALID_HANDLE,
                    "page an inherited enum handle");
        CHILD_CHECK(FwpmSessionDestroyEnumHandle0(own, in->enums[i]) == ERROR_INVALID_HANDLE,
                    "destroy an inherited enum handle");
    }
}

static int64_t live_bytes(void)
{
    fwpm_reclaim();
    FWPM_MEMORY_STATS0 stats;
    CHILD_CHECK(fwpm_memory_stats(&stats) == ERROR_SUCCESS, "stats");
    return (int64_t)stats.liveBytes;
}

/* The bytes of an array of ARRAY_ENTRIES entries, measured in the child
 * (it has one thread: the count is exact). */
static int64_t array_bytes(HANDLE own)
{
    HANDLE e;
    CHILD_CHECK(FwpmSessionCreateEnumHandle0(own, NULL, &e) == ERROR_SUCCESS, "create");
    int64_t before = live_bytes();
    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 0;
    CHILD_CHECK(FwpmSessionEnum0(own, e, ARRAY_ENTRIES, &entries, &n) == ERROR_SUCCESS &&
                    n == ARRAY_ENTRIES,
                "page");
    int64_t bytes = live_bytes() - before;
    FwpmFreeMemory0((void **)&entries);
    CHILD_CHECK(FwpmSessionDestroyEnumHandle0(own, e) == ERROR_SUCCESS, "destroy");
    return bytes;
}

/* The inherited array is readable; freeing it gives back exactly its own
 * bytes (liveBytes counts the abandoned engine, and the enumeration it pins
 * there is not freed: nothing of the abandoned engine is touched). */
static void check_inherited_array(struct inheritance *in, HANDLE own)
{
    for (UINT32 i = 0; i < in->array_count; i++)
        CHILD_CHECK(in->array[i]->processId == in->array_pid && in->array[i]->username != NULL &&
                        in->array[i]->sid->Revision == 1,
                    "inherited array entry unreadable");
    int64_t bytes = array_bytes(own);
    int64_t before = live_bytes();
    FwpmFreeMemory0((void **)&in->array);
    CHILD_CHECK(in->array == NULL, "inherited array not freed");
    CHILD_CHECK(live_bytes() == before - bytes, "freeing an inherited array freed something else");
}

/* The child's own sessions, and nothing else, are in its enumeration. */
static void check_own_sessions(HANDLE a, HANDLE b)
{
    HANDLE e;
    CHILD_CHECK(FwpmSessionCreateEnumHandle0(a, NULL, &e) == ERROR_SUCCESS, "create");
    FWPM_SESSION0 **entries = NULL;
    UINT32 n = 0;
    CHILD_CHECK(FwpmSessionEnum0(a, e, 100, &entries, &n) == ERROR_SUCCESS, "page");
    CHILD_CHECK(n == 2, "the child sees sessions other than its own two");
    for (UINT32 i = 0; i < n; i++) {
        CHILD_CHECK(entries[i]->processId == (DWORD)getpid(), "processId is not the child's pid");
        CHILD_CHECK(wcscmp(entries[i]->displayData.name, L"child") == 0, "a parent's session");
    }
    FwpmFreeMemory0((void **)&entries);
    CHILD_CHECK(FwpmSessionDestroyEnumHandle0(b, e) == FWP_E_WRONG_SESSION, "wrong session");
    CHILD_CHECK(FwpmSessionDestroyEnumHandle0(a, e) == ERROR_SUCCESS, "destroy");
}

static HANDLE child_open(void)
{
    FWPM_SESSION0 s;
    memset(&s, 0, sizeof(s));
    s.displayData.name = L"child";
    HANDLE h = NULL;
    CHILD_CHECK(FwpmEngineOpen0(NULL, RPC_C_AUTHN_DEFAULT, NULL, &s, &h) == ERROR_SUCCESS,
                "open in the child");
    return h;
}

/* Hands down the child's own engine and enum handles and a page of its own. */
static void bequeath(struct inheritance *out, HANDLE a, HANDLE e)
{
    memset(out, 0, sizeof(*out));
    out->engines[out->engine_count++] = a;
    out->enums[out->enum_count++] = e;
    out->array_pid = (DWORD)getpid();
    CHILD_CHECK(FwpmSessionEnum0(a, e, ARRAY_ENTRIES, &out->array, &out->array_count) ==
                        ERROR_SUCCESS &&
                    out->array_count == ARRAY_ENTRIES,
                "page to bequeath");
}

static int wait_child(pid_t pid);

/* Everything a child (or grandchild) checks; returns its exit status. */
static int child_run(struct inheritance *in, bool fork_grandchild)
{
    alarm(WATCHDOG_SECONDS); /* SIGALRM's default action ends a hung child */
    HANDLE a = child_open();
    HANDLE b = child_open();
    check_inherited_handles(in, a);
    check_inherited_array(in, a);
    check_own_sessions(a, b);
    if (fork_grandchild) {
        HANDLE e;
        CHILD_CHECK(FwpmSessionCreateEnumHandle0(a, NULL, &e) == ERROR_SUCCESS, "create");
        struct inheritance mine;
        bequeath(&mine, a, e);
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_run(&mine, false));
        CHILD_CHECK(pid > 0 && wait_child(pid) == 0, "the grandchild failed");
        FwpmFreeMemory0((void **)&mine.array);
    }
    CHILD_CHECK(FwpmEngineClose0(a) == ERROR_SUCCESS, "close");
    CHILD_CHECK(FwpmEngineClose0(b) == ERROR_SUCCESS, "close");
    fwpm_reclaim();
    FWPM_MEMORY_STATS0 stats;
    CHILD_CHECK(fwpm_memory_stats(&stats) == ERROR_SUCCESS && stats.openSessions == 0 &&
                    stats.liveSnapshots == 1,
                "sessions left in the child");
    /* _exit: the parent's abandoned engine is not the child's to report as
     * a leak, and the parent's atexit handlers are not the child's to run. */
    return child_failures == 0 ? 0 : 1;
}

/* 0: passed; 1: failed checks; 2: hung (killed by the watchdog); 3: crashed. */
static int wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFEXITED(status))
        return WEXITSTATUS(status) == 0 ? 0 : 1;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? 2 : 3;
}

/* What the main thread hands down: its own sessions, an enum handle of the
 * first and a page of it, and the busy threads' latest handles. */
static void inheritance_of_main(struct inheritance *in, const HANDLE *mine, unsigned count,
                                HANDLE e)
{
    memset(in, 0, sizeof(*in));
    for (unsigned i = 0; i < count; i++)
        in->engines[in->engine_count++] = mine[i];
    in->enums[in->enum_count++] = e;
    for (unsigned i = 0; i < churners; i++)
        in->engines[in->engine_count++] =
            atomic_load_explicit(&churn_handles[i], memory_order_relaxed);
    in->engines[in->engine_count++] =
        atomic_load_explicit(&enumerator_engine, memory_order_relaxed);
    in->enums[in->enum_count++] = atomic_load_explicit(&enumerator_enum, memory_order_relaxed);
    in->array_pid = (DWORD)getpid();
    DWORD status = FwpmSessionEnum0(mine[0], e, ARRAY_ENTRIES, &in->array, &in->array_count);
    STRESS_CHECK(status == ERROR_SUCCESS && in->array_count == ARRAY_ENTRIES,
                 "page in the parent: %s", fwpm_strerror(status));
}

static void *run_busy(void *arg)
{
    stress_run(churners + 1, busy, arg);
    return NULL;
}

/* Forks up to `forks` times while `busy` threads churn and one enumerates;
 * counts the children by wait_child's result. Returns the forks made. */
static unsigned run_phase(unsigned busy, unsigned forks, unsigned results[4])
{
    HANDLE mine[3];
    for (unsigned i = 0; i < 3; i++)
        mine[i] = stress_open(L"parent");
    churners = busy;
    for (unsigned i = 0; i < CROWD_CHURNERS; i++)
        atomic_store_explicit(&churn_handles[i], NULL, memory_order_relaxed);
    atomic_store_explicit(&enumerator_engine, NULL, memory_order_relaxed);
    atomic_store_explicit(&enumerator_enum, NULL, memory_order_relaxed);
    atomic_store_explicit(&stop, false, memory_order_relaxed);
    pthread_t busy_threads;
    pthread_create(&busy_threads, NULL, run_busy, NULL);

    unsigned run = 0;
    for (; run < forks && results[2] < MAX_HUNG; run++) {
        HANDLE e;
        STRESS_CHECK(FwpmSessionCreateEnumHandle0(mine[0], NULL, &e) == ERROR_SUCCESS, "create");
        struct inheritance in;
        inheritance_of_main(&in, mine, 3, e);
        /* Every other fork, the array holds the enumeration's last
         * reference: freeing it in the child must still not release it. */
        bool destroyed_first = run % 2 == 1;
        if (destroyed_first)
            STRESS_CHECK(FwpmSessionDestroyEnumHandle0(mine[0], e) == ERROR_SUCCESS, "destroy");
        pid_t pid = fork();
        if (pid == 0)
            _exit(child_run(&in, run == 0));
        STRESS_CHECK(pid > 0, "fork");
        if (pid > 0)
            results[wait_child(pid)]++;
        FwpmFreeMemory0((void **)&in.array);
        if (!destroyed_first)
            STRESS_CHECK(FwpmSessionDestroyEnumHandle0(mine[0], e) == ERROR_SUCCESS, "destroy");
    }
    atomic_store_explicit(&stop, true, memory_order_relaxed);
    pthread_join(busy_threads, NULL);
    for (unsigned i = 0; i < 3; i++)
        STRESS_CHECK(FwpmEngineClose0(mine[i]) == ERROR_SUCCESS, "close");
    return run;
}

int main(void)
{
    unsigned results[4] = {0};
    unsigned run = run_phase(CHURNERS, stress_scaled(FORKS), results);
    run += run_phase(CROWD_CHURNERS, stress_scaled(CROWD_FORKS), results);
    printf("test_fork: %u children: %u passed, %u failed checks, %u hung, %u crashed\n", run,
           results[0], results[1], results[2], results[3]);
    STRESS_CHECK(results[0] == run, "%u of %u children did not pass", run - results[0], run);
    return stress_report("test_fork", run);
}
