/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sanitizer.h - what the code must do differently under ThreadSanitizer.
 *
 * TSan does not model atomic_thread_fence or ck's own fences. Where the
 * engine needs a full fence, it uses full_fence(): a real fence normally, and
 * under TSan a seq_cst read-modify-write of one shared word, which orders the
 * same on the hardware and is a synchronization TSan can see.
 */
#ifndef FWPM_CORE_SANITIZER_H
#define FWPM_CORE_SANITIZER_H

#include <stdatomic.h>

#if defined(__SANITIZE_THREAD__)
#define FWPM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FWPM_TSAN 1
#endif
#endif

#ifdef FWPM_TSAN
extern _Atomic unsigned long sanitizer_fence_word;
static inline void full_fence(void)
{
    atomic_fetch_add_explicit(&sanitizer_fence_word, 0, memory_order_seq_cst);
}
#else
static inline void full_fence(void)
{
    atomic_thread_fence(memory_order_seq_cst);
}
#endif

#endif /* FWPM_CORE_SANITIZER_H */
