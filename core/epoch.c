/*
 * epoch.c - one global ck_epoch domain: per-thread reader records, and one
 * shared "retire" record, guarded by a mutex, on which deferred frees queue.
 *
 * Reader records never get callbacks, so a thread can unregister its record
 * at exit without losing work (ck_epoch_unregister drops pending callbacks);
 * records are recycled for later threads.
 */
#include "epoch.h"

#include "memory.h"
#include "sanitizer.h"

#include <pthread.h>

static ck_epoch_t global_epoch;
/* Deferred frees queue here; only the holder of retire_lock touches it. */
static ck_epoch_record_t retire_record;
static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;
/* Objects retired since the last poll (under retire_lock). */
static unsigned retired_since_poll;
#define RETIRE_POLL_BATCH 32u
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

void epoch_retire(epoch_entry *entry, epoch_callback *callback)
{
    pthread_once(&init_once, epoch_init);
    entry->callback = callback;
    pthread_mutex_lock(&retire_lock);
    ck_epoch_call(&retire_record, &entry->ck, run_deferred);
    /* Non-blocking: runs the callbacks whose grace period has already passed.
     * A poll scans every thread's record, so do it once per batch. */
    if (++retired_since_poll >= RETIRE_POLL_BATCH) {
        retired_since_poll = 0;
        ck_epoch_poll(&retire_record);
    }
    pthread_mutex_unlock(&retire_lock);
}

void epoch_reclaim_all(void)
{
    pthread_once(&init_once, epoch_init);
    pthread_mutex_lock(&retire_lock);
    ck_epoch_barrier(&retire_record);
    pthread_mutex_unlock(&retire_lock);
}
