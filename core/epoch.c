/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * epoch.c - one global ck_epoch domain: per-thread reader records, and one
 * "retire" record on which deferred frees queue.
 *
 * Retiring is lock-free: an entry is pushed on the `incoming` stack, and
 * whoever gets retire_lock with a trylock moves the stack onto the retire
 * record (ck_epoch_call) and now and then polls it. Nobody ever waits for a
 * grace period while holding retire_lock, so holding it is always short.
 * An entry queued later than it was retired only waits longer: its grace
 * period starts from the queueing, after the object was unlinked.
 *
 * Reader records never get callbacks, so a thread can unregister its record
 * at exit without losing work (ck_epoch_unregister drops pending callbacks);
 * records are recycled for later threads.
 */
#include "epoch.h"

#include "memory.h"
#include "sanitizer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

static ck_epoch_t global_epoch;
/* Deferred frees queue here; only the holder of retire_lock touches it. */
static ck_epoch_record_t retire_record;
static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;
/* Entries moved onto the record since the last poll (under retire_lock). */
static unsigned queued_since_poll;
#define RETIRE_POLL_BATCH 32u
/* Retired entries not yet on the record: a lock-free LIFO. */
static _Atomic(epoch_entry *) incoming;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t record_key;
_Thread_local ck_epoch_record_t *epoch_thread_record;

#ifdef FWPM_TSAN
/* ThreadSanitizer cannot see ck_epoch's fences. Model the grace period for it:
 * every section end releases this token, every deferred callback acquires it. */
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

static void record_release(void *arg)
{
    epoch_thread_record = NULL; /* a later destructor's call registers anew */
    ck_epoch_unregister(arg);
}

static void epoch_init(void)
{
    ck_epoch_init(&global_epoch);
    ck_epoch_register(&global_epoch, &retire_record, NULL);
    pthread_key_create(&record_key, record_release);
}

static ck_epoch_record_t *record_new(void)
{
    ck_epoch_record_t *r = ck_epoch_recycle(&global_epoch, NULL);
    if (r != NULL)
        return r;
    r = memory_zalloc(sizeof(*r), MEMORY_INFRASTRUCTURE);
    if (r != NULL)
        ck_epoch_register(&global_epoch, r, NULL);
    return r;
}

ck_epoch_record_t *epoch_register_thread(void)
{
    pthread_once(&init_once, epoch_init);
    ck_epoch_record_t *r = record_new();
    if (r == NULL)
        return NULL;
    pthread_setspecific(record_key, r);
    epoch_thread_record = r;
    return r;
}

void epoch_exit(ck_epoch_record_t *record)
{
    tsan_section_end();
    ck_epoch_end(record, NULL);
}

/* Every deferred callback goes through here, after its grace period. */
static void run_deferred(ck_epoch_entry_t *ck)
{
    epoch_entry *entry = (epoch_entry *)ck; /* ck is the first member */
    tsan_before_callback();
    entry->callback(entry);
}

/* Under retire_lock: moves the incoming entries onto the retire record. */
static void queue_incoming(void)
{
    /* Acquire: pairs with the release pushes; the entries' fields are seen. */
    epoch_entry *list = atomic_exchange_explicit(&incoming, NULL, memory_order_acquire);
    while (list != NULL) {
        epoch_entry *entry = list;
        list = entry->next;
        ck_epoch_call(&retire_record, &entry->ck, run_deferred);
        queued_since_poll++;
    }
}

/* Pushes the chain first..last (linked through next) on `incoming`, then
 * queues what is there if nobody else is doing it. */
static void push_incoming(epoch_entry *first, epoch_entry *last)
{
    pthread_once(&init_once, epoch_init);
    epoch_entry *head = atomic_load_explicit(&incoming, memory_order_relaxed);
    do {
        last->next = head;
        /* Release: the entries' fields are written before they can be taken. */
    } while (!atomic_compare_exchange_weak_explicit(&incoming, &head, first, memory_order_release,
                                                    memory_order_relaxed));
    if (pthread_mutex_trylock(&retire_lock) != 0)
        return; /* somebody is queueing: ours go with the next batch */
    queue_incoming();
    /* A poll scans every thread's record and never waits: once per batch. */
    if (queued_since_poll >= RETIRE_POLL_BATCH) {
        queued_since_poll = 0;
        ck_epoch_poll(&retire_record);
    }
    pthread_mutex_unlock(&retire_lock);
}

void epoch_retire(epoch_entry *entry, epoch_callback *callback)
{
    entry->callback = callback;
    push_incoming(entry, entry);
}

void epoch_retire_batch(struct epoch_batch *b)
{
    if (b->first != NULL)
        push_incoming(b->first, b->last);
    b->first = b->last = NULL;
    b->count = 0;
}

/* Under retire_lock: takes every entry off the retire record, whatever its
 * epoch, as one list (linked through the stack entries). */
static ck_stack_entry_t *take_all_queued(void)
{
    ck_stack_entry_t *all = NULL;
    for (unsigned i = 0; i < CK_EPOCH_LENGTH; i++) {
        ck_stack_entry_t *cursor = CK_STACK_FIRST(&retire_record.pending[i]);
        ck_stack_init(&retire_record.pending[i]);
        while (cursor != NULL) {
            ck_stack_entry_t *next = CK_STACK_NEXT(cursor);
            cursor->next = all;
            all = cursor;
            cursor = next;
            retire_record.n_pending--;
        }
    }
    return all;
}

void epoch_reset_after_fork(void)
{
    pthread_mutex_init(&retire_lock, NULL);
    atomic_store_explicit(&incoming, NULL, memory_order_relaxed);
    queued_since_poll = 0;
    /* Drops every record from the domain: ck_epoch_register re-initialises
     * the retire record's pending lists. If epoch_init has not run yet, it
     * does the same later. */
    ck_epoch_init(&global_epoch);
    ck_epoch_register(&global_epoch, &retire_record, NULL);
    if (epoch_thread_record != NULL) {
        /* A record implies epoch_init ran, so record_key exists. Cleared, so
         * that this thread's exit does not unregister a record of the old
         * domain into the new one. */
        pthread_setspecific(record_key, NULL);
        epoch_thread_record = NULL;
    }
}

void epoch_reclaim_all(void)
{
    pthread_once(&init_once, epoch_init);
    pthread_mutex_lock(&retire_lock); /* short: holders never wait inside */
    queue_incoming();
    ck_stack_entry_t *all = take_all_queued();
    pthread_mutex_unlock(&retire_lock);
    /* Every entry was unlinked before this point: one grace period from now
     * covers them all. Waiting happens outside the lock. */
    ck_epoch_synchronize_wait(&global_epoch, NULL, NULL);
    while (all != NULL) {
        ck_stack_entry_t *next = all->next;
        run_deferred((ck_epoch_entry_t *)((char *)all - offsetof(ck_epoch_entry_t, stack_entry)));
        all = next;
    }
}
