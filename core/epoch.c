/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * epoch.c - one global ck_epoch domain; deferred frees are retired onto the
 * retiring thread's own backlog and run by that thread, a bounded number per
 * call; a background reclaimer frees what idle and exited threads leave.
 *
 * Why per thread. With one shared queue, whichever thread holds the queue
 * runs everybody's callbacks: under oversubscription (N runnable threads on
 * 2 cores) that thread gets ~2/N of the CPU while all N produce garbage, so
 * reclamation falls behind without bound and the unlucky call pays for the
 * whole backlog. Here every thread pays for its own garbage, in proportion
 * to the garbage it makes, at most EPOCH_RUN_MAX callbacks per call: memory
 * is what is live plus each thread's backlog, and a backlog holds what the
 * thread retired during one grace period plus what it has not yet run.
 *
 * Grace periods. An entry is tagged with the global epoch read (after a full
 * fence, so after the unlink) when it is retired, and is safe to run once the
 * global epoch is at least tag + 2: ck_epoch's own rule (ck_epoch_poll
 * dispatches the bucket of epoch - 2). Each thread keeps CK_EPOCH_LENGTH
 * buckets by tag, as ck does, and moves a whole bucket to `ready` at once.
 * The global epoch advances when some thread polls (ck_epoch_poll scans every
 * record, including those of exited threads kept for reuse): a thread with
 * waiting entries polls every poll_interval() exits unless somebody else
 * advanced the epoch meanwhile, so the O(records) scan is shared rather than
 * repeated by everyone. The interval is EPOCH_POLL_EXITS, or one exit per
 * record when more threads than that were ever registered at once (up to
 * EPOCH_POLL_EXITS_MAX): the scan then costs O(1) per exit whatever the
 * process's peak thread count was. (Measured with fwpm-bench on a 2-core VM:
 * after startup_shutdown with 64 threads left 65 records, the scans took 38%
 * of enumerate_all at N = 1000, 0.43 -> 0.83 us a pass, at a fixed interval.)
 * We never call ck_epoch_call: records carry no callbacks, so
 * ck_epoch_unregister could never drop any.
 *
 * A reader preempted inside a section holds the epoch back for everybody.
 * Nothing can be freed meanwhile, and nobody waits for it ("writers never
 * wait for readers"): each thread's backlog grows by what that thread retires
 * while the reader is off the CPU, and under oversubscription that can be a
 * whole scheduling round. So producers are slowed, boundedly: a call that
 * retired, from a thread whose backlog is past EPOCH_BACKLOG_SOFT and grew by
 * that much again while the epoch stood still (backlog_stalled), yields its
 * core (up to EPOCH_YIELDS_MAX times, stopping as soon as the epoch moves),
 * which is most likely what the preempted reader was waiting for. Pages
 * retire nothing and never yield. Once the epoch moves, a larger backlog is
 * worked off faster (EPOCH_RUN_BASE + ready / EPOCH_RUN_SHARE per call, at
 * most EPOCH_RUN_MAX).
 *
 * Who touches a backlog. Its owner, for the length of one retire or one
 * exit, after claiming it (state IDLE -> OWNER); or the reclaimer, for a few
 * pointer moves, after stealing it (IDLE -> STOLEN). Neither ever waits for
 * the other: an owner that finds its backlog stolen hands its new entries to
 * the orphan list instead, and the reclaimer skips a backlog in use.
 *
 * The reclaimer. One library-owned thread, started the first time garbage
 * is pending and sleeping on a futex whenever no backlog holds anything. When
 * some does, it wakes every RECLAIMER_TICK_NS, takes the orphan list (entries
 * of exited threads, and of owners that found their backlog stolen) and steals
 * the backlogs of threads that made no call since its last look (idle ones),
 * waits for their grace period (backing off, it is the only one waiting) and
 * runs them. It frees only what threads left behind, so it never carries the
 * churn of running threads. Once every backlog is empty it calls the idle
 * hook (the engine gives back its writer-side caches) once, then sleeps:
 * memory returns to its baseline without fwpm_reclaim().
 *
 * fork(). The process's fork handler (process.c) calls epoch_reset_after_fork
 * in the child: it marks the records of the parent's other threads inactive
 * (no grace period waits for a thread that is gone), frees their records for
 * reuse, forgets backlogs torn by the fork, and marks the reclaimer
 * unstarted: the child's first garbage starts a new one.
 *
 * dlclose() and exit. The shared library is linked -z nodelete, so its code
 * is never unmapped under the reclaimer. A destructor asks the reclaimer to
 * stop and waits for it at most RECLAIMER_EXIT_WAIT_NS (a reclaimer queued
 * on the writer lock behind a host thread must not hold exit up). The
 * reclaimer blocks every signal, so it never runs a host's handler.
 */
#include "epoch.h"

#include "container_of.h"
#include "memory.h"
#include "sanitizer.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RECLAIMER_TICK_NS 10000000L /* 10 ms between looks while garbage is held */
#define RECLAIMER_BACKOFF_NS 1000000L

static ck_epoch_t global_epoch;

/* ---- lists: struct epoch_batch as a FIFO --------------------------------- */

/* Moves every entry of from to the end of to (O(1)); empties from. */
static void list_append(struct epoch_batch *to, struct epoch_batch *from)
{
    if (from->first == NULL)
        return;
    if (to->first == NULL)
        to->first = from->first;
    else
        to->last->next = from->first;
    to->last = from->last;
    to->count += from->count;
    *from = (struct epoch_batch){NULL, NULL, 0};
}

static epoch_entry *list_pop(struct epoch_batch *l)
{
    epoch_entry *e = l->first;
    l->first = e->next;
    if (l->first == NULL)
        l->last = NULL;
    l->count--;
    return e;
}

/* ---- ThreadSanitizer model ----------------------------------------------- */

#ifdef FWPM_TSAN
/* ThreadSanitizer cannot see ck_epoch's fences. Model the grace period for it:
 * every section end releases this token, every deferred callback acquires it.
 * Backlog hand-offs (claim, steal, orphan list) are C11 atomics it sees. */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static char grace_token;
_Atomic unsigned long sanitizer_fence_word;
static inline void tsan_section_end(void)
{
    __tsan_release(&grace_token);
}
static inline void tsan_before_callback(void)
{
    __tsan_acquire(&grace_token);
}
#else
static inline void tsan_section_end(void) {}
static inline void tsan_before_callback(void) {}
#endif

/* Every deferred callback goes through here, after its grace period. */
static void run_entry(epoch_entry *entry)
{
    tsan_before_callback();
    entry->callback(entry);
}

static void run_list(struct epoch_batch *l)
{
    while (l->first != NULL)
        run_entry(list_pop(l));
}

/* ---- epochs ---------------------------------------------------------------- */

/* The global epoch, read after everything this thread did before (the
 * unlink of what it is about to retire): pairs with the fence in
 * ck_epoch_begin, so a reader that saw the object is in this epoch or older. */
static unsigned epoch_now(void)
{
    full_fence();
    return ck_pr_load_uint(&global_epoch.epoch);
}

/* Whether entries tagged tag may run at global epoch now (ck's epoch - 2). */
static inline bool epoch_passed(unsigned tag, unsigned now)
{
    return (int)(now - tag) >= 2;
}

/* Tries to advance the global epoch: scans every record (O(records)). The
 * caller's own record is put in a section for the poll so that ck takes its
 * "advance" branch even when no other thread is active (with nobody active,
 * ck_epoch_poll would run its own callbacks but leave the epoch alone). */
static void epoch_advance(ck_epoch_record_t *record)
{
    ck_epoch_begin(record, NULL);
    ck_epoch_poll(record);
    ck_epoch_end(record, NULL);
}

/* ---- per-thread backlogs ----------------------------------------------------- */

enum backlog_state {
    BACKLOG_IDLE = 0, /* nobody touches the lists */
    BACKLOG_OWNER,    /* the owning thread is retiring or running */
    BACKLOG_STOLEN,   /* the reclaimer (or epoch_reclaim_all) is taking them */
};

/* One per thread that has entered the engine: its reader record and the
 * garbage it retired. Thread records are never freed; an exited thread's record (empty,
 * record inactive) is reused by a later thread. */
struct epoch_thread {
    ck_epoch_record_t record;                    /* epoch_exit reaches the epoch_thread from it */
    _Atomic unsigned state;                      /* enum backlog_state: who may touch the lists */
    struct epoch_batch waiting[CK_EPOCH_LENGTH]; /* by tag % CK_EPOCH_LENGTH */
    unsigned waiting_tag[CK_EPOCH_LENGTH];       /* newest tag in each */
    struct epoch_batch ready;                    /* past their grace period */
    _Atomic unsigned long held;                  /* entries in the lists; written by their holder */
    _Atomic unsigned long activity; /* bumped by the owner on every exit with garbage */
    unsigned long activity_seen;    /* the reclaimer's last look at activity */
    unsigned exits_since_poll;      /* owner only */
    unsigned epoch_at_poll;         /* owner only: global epoch when it last polled */
    unsigned refilled_at;           /* owner only: global epoch at its last refill */
    unsigned stall_epoch;           /* owner only: global epoch when stall_mark was taken */
    unsigned long stall_mark;       /* owner only: the backlog then (see backlog_stalled) */
    bool ready_left;                /* owner only: it left ready entries (a hint) */
    _Atomic bool in_use;            /* a live thread owns the record */
    struct epoch_thread *next;      /* registry link, set before publication */
};

/* Every thread record ever made: a push-only stack (never popped, so no ABA). */
static _Atomic(struct epoch_thread *) registry;
/* How many records the registry holds (ck_epoch_poll scans as many). */
static _Atomic unsigned registry_size;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
_Thread_local ck_epoch_record_t *epoch_thread_record;
static _Thread_local struct epoch_thread *this_thread;
/* This thread retired something since it last left a section. */
static _Thread_local bool retired_in_call;

/* Retired entries nobody's backlog holds (exited threads, stolen backlogs):
 * a Treiber stack of tagged entries, pushed by anyone, taken whole by the
 * holder of round_lock. */
static _Atomic(epoch_entry *) orphans;
static _Atomic unsigned long orphan_count;

static _Atomic unsigned max_run_per_call;

static inline bool backlog_claim(struct epoch_thread *t, unsigned as)
{
    unsigned idle = BACKLOG_IDLE;
    /* Acquire: pairs with the release in backlog_unclaim by the last holder,
     * so its list edits are seen. */
    return atomic_compare_exchange_strong_explicit(&t->state, &idle, as, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void backlog_unclaim(struct epoch_thread *t)
{
    /* Release: our list edits are done before the next holder claims. */
    atomic_store_explicit(&t->state, BACKLOG_IDLE, memory_order_release);
}

static inline unsigned long backlog_held(struct epoch_thread *t)
{
    return atomic_load_explicit(&t->held, memory_order_relaxed);
}

/* Under a claim: empties every list of t into out. */
static void backlog_take_all(struct epoch_thread *t, struct epoch_batch *out)
{
    list_append(out, &t->ready);
    for (unsigned i = 0; i < CK_EPOCH_LENGTH; i++)
        list_append(out, &t->waiting[i]);
    atomic_store_explicit(&t->held, 0, memory_order_relaxed);
}

/* Under the owner's claim: moves every bucket whose grace period has passed
 * at global epoch now to ready; true when some still wait. */
static bool backlog_refill(struct epoch_thread *t, unsigned now)
{
    bool waiting = false;
    for (unsigned i = 0; i < CK_EPOCH_LENGTH; i++) {
        if (t->waiting[i].first == NULL)
            continue;
        if (epoch_passed(t->waiting_tag[i], now))
            list_append(&t->ready, &t->waiting[i]);
        else
            waiting = true;
    }
    return waiting;
}

/* How many ready callbacks one exit runs: grows with the backlog. */
static inline unsigned run_budget(unsigned ready)
{
    unsigned budget = EPOCH_RUN_BASE + ready / EPOCH_RUN_SHARE;
    return budget < EPOCH_RUN_MAX ? budget : EPOCH_RUN_MAX;
}

static void note_run(unsigned n)
{
    unsigned seen = atomic_load_explicit(&max_run_per_call, memory_order_relaxed);
    while (n > seen &&
           !atomic_compare_exchange_weak_explicit(&max_run_per_call, &seen, n, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

/* ---- the reclaimer's wake-up ----------------------------------------------- */

static struct reclaimer {
    pthread_mutex_t round_lock;      /* held by whoever runs a round (reclaimer, reclaim_all) */
    _Atomic unsigned wake_word;      /* futex word: bumped by every wake */
    _Atomic bool sleeping;           /* it waits for wake_word with no timeout */
    _Atomic bool resting;            /* it waits with nothing held anywhere */
    bool forbidden;                  /* ThreadSanitizer fork child: no thread may start (below) */
    _Atomic bool started;            /* a reclaimer thread exists in this process */
    _Atomic bool stop;               /* the library is being unloaded */
    _Atomic unsigned long in_round;  /* entries a round has taken and not yet run */
    void (*_Atomic idle_hook)(void); /* epoch_set_idle_hook */
    pthread_t thread;
} reclaimer = {.round_lock = PTHREAD_MUTEX_INITIALIZER};

static void futex_wait(_Atomic unsigned *word, unsigned seen, long timeout_ns)
{
    struct timespec t = {0, timeout_ns};
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, timeout_ns > 0 ? &t : NULL, NULL, 0);
}

static void reclaimer_start(void);

/* Wakes the reclaimer (starting it the first time). Called after something
 * became pending that it may have to free; the caller has published it and
 * fenced (pairs with the fence in reclaimer_idle_wait). Takes no lock. */
static void reclaimer_wake(void)
{
    if (!atomic_load_explicit(&reclaimer.started, memory_order_relaxed)) {
        reclaimer_start();
        return;
    }
    if (!atomic_load_explicit(&reclaimer.sleeping, memory_order_relaxed))
        return; /* awake: it looks at every backlog before it sleeps */
    atomic_fetch_add_explicit(&reclaimer.wake_word, 1, memory_order_relaxed);
    syscall(SYS_futex, &reclaimer.wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* A backlog went from empty to not: let the reclaimer know, in case this
 * thread now goes idle. The fence orders our held store before the sleeping
 * load (Dekker with reclaimer_idle_wait). */
static void backlog_announce(void)
{
    full_fence();
    reclaimer_wake();
}

/* ---- orphans ----------------------------------------------------------------- */

/* Pushes the chain first..last (count entries) as orphans tagged tag; wakes
 * the reclaimer. Lock-free. */
static void orphans_push(epoch_entry *first, epoch_entry *last, unsigned count, unsigned tag)
{
    for (epoch_entry *e = first;; e = e->next) {
        e->tag = tag;
        if (e == last)
            break;
    }
    atomic_fetch_add_explicit(&orphan_count, count, memory_order_relaxed);
    epoch_entry *head = atomic_load_explicit(&orphans, memory_order_relaxed);
    do {
        last->next = head;
        /* Release: the entries' fields are written before they can be taken
         * (pairs with the acquire exchange in orphans_take). */
    } while (!atomic_compare_exchange_weak_explicit(&orphans, &head, first, memory_order_release,
                                                    memory_order_relaxed));
    backlog_announce();
}

/* Under round_lock: every orphan onto out; returns the newest tag among them
 * in *tag (unchanged when there are none). */
static void orphans_take(struct epoch_batch *out, unsigned *tag, bool *tagged)
{
    /* Acquire: pairs with the release CAS in orphans_push. */
    epoch_entry *e = atomic_exchange_explicit(&orphans, NULL, memory_order_acquire);
    unsigned n = 0;
    while (e != NULL) {
        epoch_entry *next = e->next;
        if (!*tagged || (int)(e->tag - *tag) > 0)
            *tag = e->tag;
        *tagged = true;
        e->next = NULL;
        struct epoch_batch one = {e, e, 1};
        list_append(out, &one);
        n++;
        e = next;
    }
    atomic_fetch_sub_explicit(&orphan_count, n, memory_order_relaxed);
}

/* ---- registration and thread exit -------------------------------------------- */

static void epoch_thread_release(void *arg);

static void epoch_init(void)
{
    ck_epoch_init(&global_epoch);
    pthread_key_create(&thread_key, epoch_thread_release);
}

static struct epoch_thread *epoch_thread_reuse(void)
{
    /* Acquire: pairs with the release CAS in epoch_thread_new; the record is initialised. */
    for (struct epoch_thread *t = atomic_load_explicit(&registry, memory_order_acquire); t != NULL;
         t = t->next) {
        bool unused = false;
        /* Acquire: pairs with the release in epoch_thread_release (its lists are empty). */
        if (!atomic_load_explicit(&t->in_use, memory_order_relaxed) &&
            atomic_compare_exchange_strong_explicit(&t->in_use, &unused, true, memory_order_acquire,
                                                    memory_order_relaxed))
            return t;
    }
    return NULL;
}

static struct epoch_thread *epoch_thread_new(void)
{
    struct epoch_thread *t = memory_zalloc(sizeof(*t), MEMORY_INFRASTRUCTURE);
    if (t == NULL)
        return NULL;
    ck_epoch_register(&global_epoch, &t->record, NULL);
    atomic_init(&t->in_use, true);
    struct epoch_thread *head = atomic_load_explicit(&registry, memory_order_relaxed);
    do {
        t->next = head;
        /* Release: the thread record is initialised before anyone walks to it. */
    } while (!atomic_compare_exchange_weak_explicit(&registry, &head, t, memory_order_release,
                                                    memory_order_relaxed));
    /* Relaxed: only paces the polls (poll_interval). */
    atomic_fetch_add_explicit(&registry_size, 1, memory_order_relaxed);
    return t;
}

ck_epoch_record_t *epoch_register_thread(void)
{
    pthread_once(&init_once, epoch_init);
    struct epoch_thread *t = epoch_thread_reuse();
    if (t == NULL)
        t = epoch_thread_new();
    if (t == NULL)
        return NULL;
    t->exits_since_poll = 0;
    t->epoch_at_poll = ck_pr_load_uint(&global_epoch.epoch);
    t->refilled_at = t->epoch_at_poll - 1; /* the first exit refills */
    t->ready_left = true;
    pthread_setspecific(thread_key, t);
    this_thread = t;
    epoch_thread_record = &t->record;
    return &t->record;
}

/* Thread exit (key destructor): what the thread still holds becomes orphans
 * for the reclaimer, and the thread record is free for a later thread. */
static void epoch_thread_release(void *arg)
{
    struct epoch_thread *t = arg;
    this_thread = NULL;
    epoch_thread_record = NULL; /* a later destructor's call registers anew */
    while (!backlog_claim(t, BACKLOG_OWNER))
        sched_yield(); /* the reclaimer is moving it: a few pointer moves */
    struct epoch_batch all = {NULL, NULL, 0};
    backlog_take_all(t, &all);
    backlog_unclaim(t);
    if (all.first != NULL)
        orphans_push(all.first, all.last, all.count, epoch_now());
    /* Release: pairs with the acquire in epoch_thread_reuse. */
    atomic_store_explicit(&t->in_use, false, memory_order_release);
}

/* ---- retiring ------------------------------------------------------------------ */

/* Retires the chain first..last: onto this thread's backlog, or, when it has
 * none or the reclaimer is moving it, onto the orphan list. Lock-free. */
static void retire_chain(epoch_entry *first, epoch_entry *last, unsigned count)
{
    struct epoch_thread *t = this_thread;
    if (t == NULL && epoch_register_thread() != NULL)
        t = this_thread;
    unsigned tag = epoch_now();
    if (t == NULL || !backlog_claim(t, BACKLOG_OWNER)) {
        orphans_push(first, last, count, tag);
        return;
    }
    unsigned i = tag % CK_EPOCH_LENGTH;
    last->next = NULL;
    struct epoch_batch chain = {first, last, count};
    list_append(&t->waiting[i], &chain); /* older tags there only wait longer */
    t->waiting_tag[i] = tag;
    retired_in_call = true;
    unsigned long before = backlog_held(t);
    atomic_store_explicit(&t->held, before + count, memory_order_relaxed);
    backlog_unclaim(t);
    if (before == 0)
        backlog_announce();
}

void epoch_retire(epoch_entry *entry, epoch_callback *callback)
{
    entry->callback = callback;
    retire_chain(entry, entry, 1);
}

void epoch_retire_batch(struct epoch_batch *b)
{
    if (b->first != NULL)
        retire_chain(b->first, b->last, b->count);
    *b = (struct epoch_batch){NULL, NULL, 0};
}

/* ---- leaving a section: the owner's bounded share ------------------------------- */

/* Yields made by backlog_throttle, for tests. */
static _Atomic unsigned long throttle_yields;

/* Backpressure on producers only: a call that retired, from a thread whose
 * backlog stalled (backlog_stalled), gives its core away - most likely to
 * the preempted reader that holds the epoch - until the epoch moves, at most
 * EPOCH_YIELDS_MAX times. A bounded number of yields, not a wait for
 * readers: the call returns in bounded steps whatever they do, and calls
 * that retire nothing (pages) never yield. */
static void backlog_throttle(struct epoch_thread *t)
{
    unsigned start = ck_pr_load_uint(&global_epoch.epoch);
    for (unsigned yields = 0;; yields++) {
        epoch_advance(&t->record); /* first: nobody may be holding it at all */
        if (ck_pr_load_uint(&global_epoch.epoch) != start || yields == EPOCH_YIELDS_MAX)
            return;
        /* Relaxed: a statistic. */
        atomic_fetch_add_explicit(&throttle_yields, 1, memory_order_relaxed);
        sched_yield();
        if (ck_pr_load_uint(&global_epoch.epoch) != start)
            return;
    }
}

/* True when t's backlog is past the soft bound and grew by EPOCH_BACKLOG_SOFT
 * more entries while the global epoch stood still: a reader is most likely
 * off the CPU inside a section. An epoch that moves, however slowly, is not
 * held: readers that enter and leave short sections back to back keep it
 * from advancing at some instants, and yielding then (as a check of the bare
 * bound did) gave a writer's core away on every other write beside one
 * continuously enumerating reader. Owner only. */
static bool backlog_stalled(struct epoch_thread *t)
{
    unsigned long held = backlog_held(t);
    if (held <= EPOCH_BACKLOG_SOFT)
        return false;
    unsigned now = ck_pr_load_uint(&global_epoch.epoch);
    if (now != t->stall_epoch) {
        t->stall_epoch = now;
        t->stall_mark = held;
        return false;
    }
    return held > t->stall_mark + EPOCH_BACKLOG_SOFT;
}

/* Under the owner's claim: refills ready at global epoch now and runs up to
 * the budget of it. Returns whether entries still wait for the epoch. */
static bool backlog_run(struct epoch_thread *t, unsigned now)
{
    bool waiting = backlog_refill(t, now);
    t->refilled_at = now;
    unsigned n = run_budget(t->ready.count);
    if (n > t->ready.count)
        n = t->ready.count;
    for (unsigned i = 0; i < n; i++)
        run_entry(list_pop(&t->ready));
    t->ready_left = t->ready.first != NULL;
    atomic_store_explicit(&t->held, backlog_held(t) - n, memory_order_relaxed);
    if (n > 0)
        note_run(n);
    return waiting;
}

/* Polls made by backlog_work at poll_interval's pace, for tests. */
static _Atomic unsigned long paced_polls;

/* Exits between one thread's polls: at least EPOCH_POLL_EXITS, one per
 * record scanned beyond that, at most EPOCH_POLL_EXITS_MAX. */
static inline unsigned poll_interval(void)
{
    /* Relaxed: a pace, not a synchronization. */
    unsigned records = atomic_load_explicit(&registry_size, memory_order_relaxed);
    if (records < EPOCH_POLL_EXITS)
        return EPOCH_POLL_EXITS;
    return records < EPOCH_POLL_EXITS_MAX ? records : EPOCH_POLL_EXITS_MAX;
}

/* Runs up to the budget of t's ready callbacks; advances the epoch now and
 * then when some entries still wait for it, and throttles a producer whose
 * backlog stalled. Takes no lock. */
__attribute__((noinline)) static void backlog_work(struct epoch_thread *t)
{
    unsigned now = ck_pr_load_uint(&global_epoch.epoch);
    atomic_store_explicit(&t->activity,
                          atomic_load_explicit(&t->activity, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    /* Fast path, no claim: nothing was left ready and the epoch has not
     * moved since the last refill, so everything held is still waiting. */
    bool waiting = true;
    if (t->ready_left || now != t->refilled_at) {
        if (!backlog_claim(t, BACKLOG_OWNER))
            return; /* the reclaimer took it: nothing left to do here */
        waiting = backlog_run(t, now);
        backlog_unclaim(t);
    }
    /* Only when nobody else moved the epoch since our last poll: the scan
     * is O(records), and one successful poll serves every thread. */
    if (waiting && ++t->exits_since_poll >= poll_interval()) {
        t->exits_since_poll = 0;
        if (now == t->epoch_at_poll) {
            /* Relaxed: a statistic. */
            atomic_fetch_add_explicit(&paced_polls, 1, memory_order_relaxed);
            epoch_advance(&t->record);
        }
        t->epoch_at_poll = ck_pr_load_uint(&global_epoch.epoch);
    }
    if (waiting && retired_in_call && backlog_stalled(t))
        backlog_throttle(t);
}

/* The end of a call, outside any section: t's share of its backlog, if it
 * holds one; the call's retires are then behind it. */
static inline void call_ends(struct epoch_thread *t)
{
    if (backlog_held(t) != 0)
        backlog_work(t);
    retired_in_call = false;
}

void epoch_work_share(void)
{
    if (this_thread != NULL) /* a thread that never retired has no backlog */
        call_ends(this_thread);
}

void epoch_leave(ck_epoch_record_t *record)
{
    tsan_section_end();
    ck_epoch_end(record, NULL);
}

void epoch_exit(ck_epoch_record_t *record)
{
    epoch_leave(record);
    call_ends(container_of(record, struct epoch_thread, record));
}

/* ---- rounds: what idle and exited threads left, and fwpm_reclaim ------------------ */

/* Under round_lock: steals t's lists onto out; false when t is in use. */
static bool backlog_steal(struct epoch_thread *t, struct epoch_batch *out)
{
    if (!backlog_claim(t, BACKLOG_STOLEN))
        return false;
    backlog_take_all(t, out);
    backlog_unclaim(t);
    return true;
}

/* Under round_lock: takes the orphans, and the backlogs of threads that made
 * no call since the last look (every backlog not in use when `all`). Returns
 * in *tag an epoch that every taken entry was retired at or before. */
static void round_collect(struct epoch_batch *out, bool all, unsigned *tag)
{
    bool tagged = false;
    orphans_take(out, tag, &tagged);
    bool stole = false;
    /* Acquire: as in epoch_thread_reuse (the records walked are initialised). */
    for (struct epoch_thread *t = atomic_load_explicit(&registry, memory_order_acquire); t != NULL;
         t = t->next) {
        unsigned long activity = atomic_load_explicit(&t->activity, memory_order_relaxed);
        bool idle = all || activity == t->activity_seen;
        t->activity_seen = activity;
        if (backlog_held(t) != 0 && idle)
            stole |= backlog_steal(t, out);
    }
    if (stole) {
        unsigned now = epoch_now(); /* after the steals: no stolen tag is newer */
        if (!tagged || (int)(now - *tag) > 0)
            *tag = now;
    }
    atomic_store_explicit(&reclaimer.in_round, out->count, memory_order_relaxed);
}

static unsigned long backlogs_held(void)
{
    unsigned long n = atomic_load_explicit(&orphan_count, memory_order_relaxed);
    /* Acquire: as in epoch_thread_reuse. */
    for (struct epoch_thread *t = atomic_load_explicit(&registry, memory_order_acquire); t != NULL;
         t = t->next)
        n += backlog_held(t);
    return n;
}

unsigned long epoch_pending(void)
{
    return backlogs_held() + atomic_load_explicit(&reclaimer.in_round, memory_order_relaxed);
}

bool epoch_reclaimer_resting(void)
{
    if (!atomic_load_explicit(&reclaimer.started, memory_order_relaxed))
        return true;
    return atomic_load_explicit(&reclaimer.resting, memory_order_relaxed) && epoch_pending() == 0;
}

unsigned long epoch_throttle_yields(void)
{
    return atomic_load_explicit(&throttle_yields, memory_order_relaxed);
}

unsigned long epoch_paced_polls(void)
{
    return atomic_load_explicit(&paced_polls, memory_order_relaxed);
}

unsigned epoch_poll_for_test(void)
{
    ck_epoch_record_t *record = epoch_record_of_thread();
    if (record != NULL)
        epoch_advance(record);
    return ck_pr_load_uint(&global_epoch.epoch);
}

unsigned epoch_max_run_per_call(void)
{
    return atomic_load_explicit(&max_run_per_call, memory_order_relaxed);
}

static void round_finish(struct epoch_batch *taken)
{
    run_list(taken);
    atomic_store_explicit(&reclaimer.in_round, 0, memory_order_relaxed);
}

static void yield_while_waiting(ck_epoch_t *e, ck_epoch_record_t *r, void *arg)
{
    (void)e;
    (void)r;
    (void)arg;
    sched_yield(); /* oversubscribed: let the reader we wait for run */
}

void epoch_reclaim_all(void)
{
    pthread_once(&init_once, epoch_init);
    struct epoch_batch taken = {NULL, NULL, 0};
    unsigned tag = 0;
    pthread_mutex_lock(&reclaimer.round_lock); /* a reclaimer round ends first */
    struct epoch_thread *self = this_thread;
    if (self != NULL && backlog_claim(self, BACKLOG_OWNER)) {
        backlog_take_all(self, &taken);
        backlog_unclaim(self);
    }
    round_collect(&taken, true, &tag);
    /* Every entry was unlinked before this point: one grace period from now
     * covers them all. */
    ck_epoch_synchronize_wait(&global_epoch, yield_while_waiting, NULL);
    round_finish(&taken);
    pthread_mutex_unlock(&reclaimer.round_lock);
}

/* The reclaimer's wait for tag's grace period: it advances the epoch itself
 * and backs off while a reader holds it. False when asked to stop. */
static bool reclaimer_wait_grace(unsigned tag)
{
    while (!epoch_passed(tag, ck_pr_load_uint(&global_epoch.epoch))) {
        if (atomic_load_explicit(&reclaimer.stop, memory_order_relaxed))
            return false;
        epoch_advance(epoch_thread_record);
        if (!epoch_passed(tag, ck_pr_load_uint(&global_epoch.epoch))) {
            struct timespec backoff = {0, RECLAIMER_BACKOFF_NS};
            nanosleep(&backoff, NULL);
        }
    }
    return true;
}

/* One round: frees what idle and exited threads left. Returns how many
 * entries it took, or -1 when asked to stop. */
static long reclaimer_round(void)
{
    struct epoch_batch taken = {NULL, NULL, 0};
    unsigned tag = 0;
    pthread_mutex_lock(&reclaimer.round_lock);
    round_collect(&taken, false, &tag);
    long n = taken.count;
    if (taken.first == NULL || reclaimer_wait_grace(tag)) {
        round_finish(&taken);
    } else {
        orphans_push(taken.first, taken.last, taken.count, tag); /* for fwpm_reclaim */
        atomic_store_explicit(&reclaimer.in_round, 0, memory_order_relaxed);
        n = -1;
    }
    pthread_mutex_unlock(&reclaimer.round_lock);
    return n;
}

/* Sleeps until woken when nothing is held anywhere; else one tick, during
 * which nobody wakes it (sleeping is set only for the sleep without a
 * timeout): a busy thread's backlog going from empty to not, again and
 * again, then costs no futex wake, only the tick's look. */
static void reclaimer_idle_wait(void)
{
    unsigned seen = atomic_load_explicit(&reclaimer.wake_word, memory_order_relaxed);
    atomic_store_explicit(&reclaimer.sleeping, true, memory_order_relaxed);
    /* Pairs with the fence in backlog_announce: either we see its held
     * count, or it sees sleeping and bumps wake_word. */
    full_fence();
    bool nothing = backlogs_held() == 0;
    if (!nothing) /* a tick at most: no wake needed (one already sent only ends it early) */
        atomic_store_explicit(&reclaimer.sleeping, false, memory_order_relaxed);
    /* Relaxed: an observation for epoch_reclaimer_resting, ordering nothing. */
    atomic_store_explicit(&reclaimer.resting, nothing, memory_order_relaxed);
    if (!atomic_load_explicit(&reclaimer.stop, memory_order_relaxed))
        futex_wait(&reclaimer.wake_word, seen, nothing ? 0 : RECLAIMER_TICK_NS);
    atomic_store_explicit(&reclaimer.resting, false, memory_order_relaxed);
    atomic_store_explicit(&reclaimer.sleeping, false, memory_order_relaxed);
}

void epoch_set_idle_hook(void (*hook)(void))
{
    atomic_store_explicit(&reclaimer.idle_hook, hook, memory_order_relaxed);
}

/* Once per wake-up, when every backlog is empty: the idle hook's turn. What
 * it retires lands on the reclaimer's own backlog, freed by the next round
 * (its own thread record makes no calls, so it is always "idle" there). */
static bool reclaimer_run_idle_hook(void)
{
    void (*hook)(void) = atomic_load_explicit(&reclaimer.idle_hook, memory_order_relaxed);
    if (hook == NULL || backlogs_held() != 0)
        return false;
    hook();
    return true;
}

/* The longest a destructor waits for the reclaimer to stop. */
#define RECLAIMER_EXIT_WAIT_NS 100000000L

static void *reclaimer_main(void *arg)
{
    (void)arg;
    if (epoch_register_thread() == NULL) {
        atomic_store_explicit(&reclaimer.started, false, memory_order_relaxed);
        return NULL; /* out of memory: the next wake tries again */
    }
    /* What it frees goes straight to the arena: a block held in its cache
     * would keep its page from fwpm_reclaim, which cannot flush another
     * thread's cache (test_data_arena). */
    memory_thread_cache_off();
    bool hook_ran = false;
    while (!atomic_load_explicit(&reclaimer.stop, memory_order_relaxed)) {
        long taken = reclaimer_round();
        if (taken < 0)
            break;
        if (taken > 0)
            hook_ran = false; /* threads made garbage since: run it again */
        if (!hook_ran && reclaimer_run_idle_hook()) {
            hook_ran = true;
            continue; /* free what it retired before sleeping */
        }
        reclaimer_idle_wait();
    }
    return NULL;
}

static void reclaimer_start(void)
{
    if (reclaimer.forbidden)
        return; /* garbage waits for its threads' own calls and fwpm_reclaim */
    bool no = false;
    if (!atomic_compare_exchange_strong_explicit(&reclaimer.started, &no, true,
                                                 memory_order_relaxed, memory_order_relaxed))
        return;
    /* The thread takes no signal meant for the host. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&reclaimer.thread, NULL, reclaimer_main, NULL) != 0)
        atomic_store_explicit(&reclaimer.started, false, memory_order_relaxed);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* At exit or dlclose: stop the reclaimer before its code can go away. */
__attribute__((destructor)) static void reclaimer_stop(void)
{
    if (!atomic_load_explicit(&reclaimer.started, memory_order_relaxed))
        return;
    atomic_store_explicit(&reclaimer.stop, true, memory_order_relaxed);
    atomic_fetch_add_explicit(&reclaimer.wake_word, 1, memory_order_relaxed);
    syscall(SYS_futex, &reclaimer.wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += RECLAIMER_EXIT_WAIT_NS;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(reclaimer.thread, NULL, &deadline) == 0)
        atomic_store_explicit(&reclaimer.started, false, memory_order_relaxed);
}

/* In a fork child only the forking thread exists. Every other thread record belonged
 * to a thread that is gone (the reclaimer's included): its record is marked
 * inactive, so that no grace period ever waits for it, and the thread record is free
 * for reuse. A backlog that was idle stays and is freed as usual (the memory
 * is the child's copy); one that was being edited at the fork may be torn,
 * so its entries are forgotten (leaked in the child, never freed twice). The
 * reclaimer does not exist: it is marked unstarted, and the first garbage
 * starts a new one; round_lock may have been held by it. */
static void epoch_thread_reset_in_child(struct epoch_thread *t, bool ours)
{
    if (atomic_load_explicit(&t->state, memory_order_relaxed) != BACKLOG_IDLE) {
        for (unsigned i = 0; i < CK_EPOCH_LENGTH; i++)
            t->waiting[i] = (struct epoch_batch){NULL, NULL, 0};
        t->ready = (struct epoch_batch){NULL, NULL, 0};
        atomic_store_explicit(&t->held, 0, memory_order_relaxed);
        atomic_store_explicit(&t->state, BACKLOG_IDLE, memory_order_relaxed);
    }
    if (ours)
        return;
    ck_pr_store_uint(&t->record.active, 0);
    atomic_store_explicit(&t->in_use, false, memory_order_relaxed);
}

void epoch_reset_after_fork(void)
{
    for (struct epoch_thread *t = atomic_load_explicit(&registry, memory_order_relaxed); t != NULL;
         t = t->next)
        epoch_thread_reset_in_child(t, t == this_thread);
    pthread_mutex_init(&reclaimer.round_lock, NULL);
    atomic_store_explicit(&reclaimer.started, false, memory_order_relaxed);
    atomic_store_explicit(&reclaimer.sleeping, false, memory_order_relaxed);
    atomic_store_explicit(&reclaimer.resting, false, memory_order_relaxed);
    atomic_store_explicit(&reclaimer.in_round, 0, memory_order_relaxed);
#ifdef FWPM_TSAN
    /* ThreadSanitizer's runtime cannot start a thread after a multithreaded
     * fork (its internal allocator's lock may be held by a parent thread: a
     * child hung in __tsan::ProcCreate). In a TSan build only, the child runs
     * without the reclaimer; every other build starts one lazily. */
    reclaimer.forbidden = true;
#endif
}
