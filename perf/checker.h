/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * checker.h - the invariants fwpm-stress checks, as pure logic.
 *
 * No threads and no fwpm calls here: the stress driver feeds observations in
 * (entries of one snapshot, pages, memory figures) and the checker reports
 * every breach into a violation log. The unit tests feed it hand-made valid
 * and broken histories, so a checker that cannot fail is caught.
 *
 * The world the checker knows (what fwpm-stress opens, see the *_session
 * helpers below, which both sides use):
 *   - writer chains: writer w opens "w<w>/g<g+1>" before it closes
 *     "w<w>/g<g>", so at every instant it has one or two consecutive
 *     generations open. Its state index is 2g for {g} and 2g+1 for {g, g+1}:
 *     it only grows, by one per completed open or close.
 *   - standing sessions "p<i>", open for the whole run: exactly once each.
 *   - anonymous sessions (opened with a NULL FWPM_SESSION0), open throughout.
 *   - nothing else.
 */
#ifndef FWPM_PERF_CHECKER_H
#define FWPM_PERF_CHECKER_H

#include <fwpm_linux.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- the violation log ---------------------------------------------------- */

#define CHECKER_KEEP 8   /* descriptions kept per log */
#define CHECKER_TEXT 200 /* bytes per description */

/* Counts every breach and keeps the first CHECKER_KEEP descriptions. One log
 * per thread; merge them after the threads are done. */
struct violations {
    uint64_t count;
    unsigned kept;
    char text[CHECKER_KEEP][CHECKER_TEXT];
};

void violations_init(struct violations *v);
void violations_add(struct violations *v, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Counts n breaches of one kind under a single description. */
void violations_add_n(struct violations *v, uint64_t n, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds from's count to into's, and its descriptions while there is room. */
void violations_merge(struct violations *into, const struct violations *from);

/* ---- the world --------------------------------------------------------------- */

struct checker_world {
    unsigned writers;   /* chains w0 .. w(writers-1) */
    unsigned standing;  /* named sessions p0 .. p(standing-1) */
    unsigned anonymous; /* anonymous sessions */
    DWORD pid;          /* every entry's processId */
    uint32_t uid;       /* the last sub-authority of every entry's SID */
    const wchar_t *username;
};

#define CHECKER_NAME_MAX 48 /* wide characters of a generated name */

/* The account name fwpm reports for uid (the password database's, converted
 * in the current locale, or the decimal uid), for checker_world.username;
 * malloc'ed, NULL when out of memory. */
wchar_t *checker_account_name(uid_t uid);

/* Fills *s for generation g of writer w's chain (an explicit key derived from
 * (w, g), the DYNAMIC flag, a timeout derived from g); name is its storage. */
void checker_writer_session(FWPM_SESSION0 *s, wchar_t name[CHECKER_NAME_MAX], unsigned writer,
                            uint64_t generation);

/* Fills *s for standing session i (a generated key, no flags). */
void checker_standing_session(FWPM_SESSION0 *s, wchar_t name[CHECKER_NAME_MAX], unsigned index);

/* The state index of writer chain showing {g} (both == false) or {g, g+1}. */
static inline uint64_t checker_state(uint64_t generation, bool both)
{
    return 2u * generation + (both ? 1u : 0u);
}

/* What an entry turned out to be. */
enum entry_kind {
    ENTRY_BAD = 0, /* malformed or unknown: already reported */
    ENTRY_WRITER,
    ENTRY_STANDING,
    ENTRY_ANONYMOUS,
};

struct entry_id {
    enum entry_kind kind;
    unsigned index;      /* writer or standing index */
    uint64_t generation; /* writers only */
};

/* Checks one entry is well formed (pid, SID, username, strings, key, flags)
 * and says which session it is. Every breach is reported, prefixed by label. */
struct entry_id checker_entry(const struct checker_world *world, struct violations *v,
                              const char *label, const FWPM_SESSION0 *entry);

/* ---- one snapshot ----------------------------------------------------------- */

/* Scratch for checking the entries of one snapshot, reused snapshot after
 * snapshot by one thread. For a shared enumeration handle, feed the union of
 * what all the pagers received: each entry must come exactly once. */
struct snapshot_check {
    const struct checker_world *world;
    char label[64];
    uint64_t entries;
    uint64_t anonymous_seen;
    uint32_t *writer_seen;             /* entries of each writer */
    uint64_t (*writer_generations)[3]; /* the first three generations seen */
    uint32_t *standing_seen;
};

/* Allocates the scratch; false when out of memory. */
bool snapshot_check_init(struct snapshot_check *c, const struct checker_world *world);
void snapshot_check_destroy(struct snapshot_check *c);

/* Starts a snapshot; label names it in descriptions ("reader 2 snapshot 17"). */
void snapshot_check_begin(struct snapshot_check *c, const char *label);

/* One delivered entry: checked for form (checker_entry) and counted. */
void snapshot_check_entry(struct snapshot_check *c, struct violations *v,
                          const FWPM_SESSION0 *entry);

/* Ends the snapshot and reports what is wrong with it as a whole:
 *   - an entry delivered twice (always);
 *   - a writer showing three or more, or two non-consecutive, generations
 *     (always);
 *   - when complete: a writer, a standing session or an anonymous one missing;
 *   - lo/hi (may be NULL): per writer, the state index it had completed
 *     before the snapshot was requested, and the one it had started by the
 *     time it was returned; the snapshot's state must lie within;
 *   - last (may be NULL): per writer, the state this observer saw in its
 *     previous snapshot; a later snapshot never goes back. Updated.
 * Pass complete == false for an enumeration abandoned before its end. */
void snapshot_check_end(struct snapshot_check *c, struct violations *v, bool complete,
                        const uint64_t *lo, const uint64_t *hi, uint64_t *last);

/* ---- pages -------------------------------------------------------------------- */

/* One caller's sequence of pages from one enumeration handle. */
struct page_stream {
    bool exhausted; /* a short page was returned */
    uint64_t pages;
    uint64_t delivered;
};

void page_stream_init(struct page_stream *p);

/* A successful FwpmSessionEnum0 call's result: no page exceeds its request,
 * NULL exactly when empty, nothing after a short page (for this caller). */
void checker_page(struct page_stream *p, struct violations *v, const char *label, UINT32 requested,
                  FWPM_SESSION0 *const *entries, UINT32 returned);

/* ---- memory -------------------------------------------------------------------- */

/* After everything was closed, freed and reclaimed: memory back at the
 * baseline taken before anything was opened. */
void checker_memory(struct violations *v, const FWPM_MEMORY_STATS0 *baseline,
                    const FWPM_MEMORY_STATS0 *end);

#endif /* FWPM_PERF_CHECKER_H */
